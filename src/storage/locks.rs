//! Striped key locks for read-modify-write commands (DESIGN.md §4).
//!
//! A key maps to one of a fixed number of stripes; a command locks the stripes of all its keys in
//! ascending stripe order, so two commands can never wait on each other in a cycle. Guards are
//! held only while a command runs synchronously, never across an `.await`.

use parking_lot::lock_api::ArcMutexGuard;
use parking_lot::{Mutex, MutexGuard, RawMutex};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

/// A stripe held by an all-or-nothing write that took it on first touch (owned, so the
/// thread-local write can keep it).
pub(crate) type OwnedStripe = ArcMutexGuard<RawMutex, ()>;

const STRIPES: usize = 1024;

pub struct LockTable {
    stripes: Box<[Arc<Mutex<()>>]>,
    hasher: std::collections::hash_map::RandomState,
}

/// The held stripes of one command; released on drop.
pub struct KeyGuard<'a> {
    _one: Option<MutexGuard<'a, ()>>,
    _many: Vec<MutexGuard<'a, ()>>,
}

impl Default for LockTable {
    fn default() -> Self {
        LockTable {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl LockTable {
    pub(crate) fn stripe(&self, db: u8, key: &[u8]) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write_u8(db);
        h.write(key);
        (h.finish() as usize) % STRIPES
    }

    /// Locks one key.
    pub fn lock(&self, db: u8, key: &[u8]) -> KeyGuard<'_> {
        self.lock_stripe(self.stripe(db, key))
    }

    /// Locks one stripe (from `stripe`).
    pub(crate) fn lock_stripe(&self, i: usize) -> KeyGuard<'_> {
        KeyGuard { _one: Some(self.stripes[i].lock()), _many: Vec::new() }
    }

    /// Locks one stripe if it is free right now.
    pub(crate) fn try_lock_stripe(&self, i: usize) -> Option<KeyGuard<'_>> {
        self.stripes[i].try_lock().map(|g| KeyGuard { _one: Some(g), _many: Vec::new() })
    }

    /// Takes one stripe if it is free right now, as an owned guard (see `OwnedStripe`).
    pub(crate) fn try_lock_owned(&self, i: usize) -> Option<OwnedStripe> {
        self.stripes[i].try_lock_arc()
    }

    /// A guard that holds nothing (a pipeline already holds the stripes).
    pub(crate) fn none(&self) -> KeyGuard<'_> {
        KeyGuard { _one: None, _many: Vec::new() }
    }

    /// Locks several keys (possibly in several databases) without deadlock.
    pub fn lock_many<'k>(&self, keys: impl IntoIterator<Item = (u8, &'k [u8])>) -> KeyGuard<'_> {
        let mut idx: Vec<usize> = keys.into_iter().map(|(db, k)| self.stripe(db, k)).collect();
        self.lock_stripes(&mut idx)
    }

    /// Like `lock_stripes`, except that on the network thread (`tier::cache_only`) it never
    /// waits: a stripe held elsewhere (by a script or a command on a blocking thread) gives None,
    /// and the caller runs again on a blocking thread, so other clients are not stalled.
    pub(crate) fn acquire(&self, idx: &mut Vec<usize>) -> Option<KeyGuard<'_>> {
        if idx.len() == 1 {
            return self.acquire_one(idx[0]);
        }
        if !super::tier::is_cache_only() {
            return Some(self.lock_stripes(idx));
        }
        idx.sort_unstable();
        idx.dedup();
        let mut many = Vec::with_capacity(idx.len());
        for &i in idx.iter() {
            many.push(self.stripes[i].try_lock()?);
        }
        Some(KeyGuard { _one: None, _many: many })
    }

    /// `acquire` of one stripe.
    pub(crate) fn acquire_one(&self, i: usize) -> Option<KeyGuard<'_>> {
        if super::tier::is_cache_only() {
            self.try_lock_stripe(i)
        } else {
            Some(self.lock_stripe(i))
        }
    }

    /// Locks stripes (from `stripe`) in ascending order, each once; leaves `idx` sorted and
    /// deduplicated. Every multi-key lock goes through here, which is what rules out deadlock.
    pub(crate) fn lock_stripes(&self, idx: &mut Vec<usize>) -> KeyGuard<'_> {
        idx.sort_unstable();
        idx.dedup();
        if idx.len() == 1 {
            return self.lock_stripe(idx[0]);
        }
        KeyGuard { _one: None, _many: idx.iter().map(|&i| self.stripes[i].lock()).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn opposite_orders_do_not_deadlock() {
        let t = Arc::new(LockTable::default());
        let mut hs = Vec::new();
        for n in 0..4 {
            let t = t.clone();
            hs.push(std::thread::spawn(move || {
                for i in 0..2000u32 {
                    let a = format!("a{}", i % 7);
                    let b = format!("b{}", i % 5);
                    let keys: Vec<(u8, &[u8])> = if n % 2 == 0 {
                        vec![(0, a.as_bytes()), (0, b.as_bytes())]
                    } else {
                        vec![(0, b.as_bytes()), (0, a.as_bytes())]
                    };
                    let _g = t.lock_many(keys);
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
    }

    #[test]
    fn same_key_is_exclusive() {
        let t = LockTable::default();
        let g = t.lock(0, b"k");
        assert!(t.stripes[t.stripe(0, b"k")].try_lock().is_none());
        drop(g);
        assert!(t.stripes[t.stripe(0, b"k")].try_lock().is_some());
    }
}
