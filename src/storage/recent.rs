//! The metadata records last written, kept in memory so that the next command on the same key
//! (a queue's pushes and pops, a counter, members added to one hot set) reads its record without
//! a RocksDB lookup.
//!
//! Write-through only: a slot is set in `batch::write_ops` right after the record is committed,
//! while the writer still holds the key's lock, so slots of one key change in commit order; a read
//! never fills a slot (a read racing a write could otherwise put back an older record). Several
//! keys share a slot (the last one written wins), which loses hits, never correctness. FLUSHDB and
//! FLUSHALL (range deletes, under the exclusive database map) empty every slot. This is the
//! narrow first step of the hot cache (DESIGN.md §6).

use bytes::Bytes;
use parking_lot::Mutex;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

const SLOTS: usize = 1024;
/// Records larger than this are not kept (a big string would pin its memory).
const MAX_RECORD: usize = 512;

type Slot = Option<(Vec<u8>, Option<Bytes>)>;

pub struct Recent {
    slots: Box<[Mutex<Slot>]>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent { slots: (0..SLOTS).map(|_| Mutex::new(None)).collect() }
    }
}

fn slot_of(meta_key: &[u8]) -> usize {
    (BuildHasherDefault::<DefaultHasher>::default().hash_one(meta_key) as usize) % SLOTS
}

impl Recent {
    /// The record last committed for `meta_key` (`Some(None)`: deleted), if its slot holds it.
    pub fn get(&self, meta_key: &[u8]) -> Option<Option<Bytes>> {
        let s = self.slots[slot_of(meta_key)].lock();
        match s.as_ref() {
            Some((k, v)) if k.as_slice() == meta_key => Some(v.clone()),
            _ => None,
        }
    }

    /// Notes a committed write of `meta_key` (None: deleted).
    pub fn put(&self, meta_key: &[u8], record: Option<&Bytes>) {
        let mut s = self.slots[slot_of(meta_key)].lock();
        match record {
            Some(r) if r.len() > MAX_RECORD => {
                if s.as_ref().is_some_and(|(k, _)| k.as_slice() == meta_key) {
                    *s = None;
                }
            }
            _ => match s.as_mut() {
                Some((k, v)) if k.as_slice() == meta_key => *v = record.cloned(),
                _ => *s = Some((meta_key.to_vec(), record.cloned())),
            },
        }
    }

    /// Forgets everything (FLUSHDB, FLUSHALL).
    pub fn clear(&self) {
        for s in self.slots.iter() {
            *s.lock() = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_write_of_a_key_and_forgets_on_clear() {
        let r = Recent::default();
        assert_eq!(r.get(b"k"), None);
        r.put(b"k", Some(&Bytes::from("v1")));
        r.put(b"k", Some(&Bytes::from("v2")));
        assert_eq!(r.get(b"k"), Some(Some(Bytes::from("v2"))));
        r.put(b"k", None);
        assert_eq!(r.get(b"k"), Some(None));
        r.put(b"k", Some(&Bytes::from(vec![0u8; MAX_RECORD + 1])));
        assert_eq!(r.get(b"k"), None, "too big to keep: the slot lets go of the key");
        r.put(b"k", Some(&Bytes::from("v3")));
        r.clear();
        assert_eq!(r.get(b"k"), None);
    }
}
