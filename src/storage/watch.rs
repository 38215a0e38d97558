//! WATCH: which clients watch which keys, and the flag each gets when one of them is written.
//!
//! Every committed write passes its operations here (`batch::write_ops`, only while anybody
//! watches), so a write of any type by any command (or expiry, or a flush) marks the clients
//! watching its key, as Redis's `touchWatchedKey` does.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// One client's watch flag: set when a watched key is written.
pub type Flag = Arc<AtomicBool>;

/// One client watching one key.
struct Watcher {
    flag: Flag,
    /// The key had expired (but was still stored) at WATCH time: its deletion changes nothing
    /// logically and does not break the watch (Redis 7's `wk->expired`).
    expired: bool,
}

#[derive(Default)]
pub struct Watches {
    /// Number of (key, client) registrations: writes skip the lookup when it is zero.
    count: AtomicUsize,
    /// Metadata key → (client id, flag) of each client watching it. Ordered, so a flush finds
    /// the watched keys of its range.
    map: Mutex<BTreeMap<Vec<u8>, HashMap<u64, Watcher>>>,
}

impl Watches {
    /// Whether any client watches anything.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }

    /// Client `id` watches the key with metadata key `meta_key` (`expired`: stored but expired).
    pub fn watch(&self, meta_key: Vec<u8>, id: u64, flag: &Flag, expired: bool) {
        let mut map = self.map.lock();
        let watcher = Watcher { flag: flag.clone(), expired };
        if map.entry(meta_key).or_default().insert(id, watcher).is_none() {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Client `id` stops watching `meta_keys`.
    pub fn unwatch<'k>(&self, id: u64, meta_keys: impl IntoIterator<Item = &'k [u8]>) {
        let mut map = self.map.lock();
        for mk in meta_keys {
            if let Some(clients) = map.get_mut(mk) {
                if clients.remove(&id).is_some() {
                    self.count.fetch_sub(1, Ordering::SeqCst);
                }
                if clients.is_empty() {
                    map.remove(mk);
                }
            }
        }
    }

    /// A write of `meta_key`'s key committed (`deleted`: it deleted the key): flag its watchers.
    pub fn touch(&self, meta_key: &[u8], deleted: bool) {
        let mut map = self.map.lock();
        if let Some(clients) = map.get_mut(meta_key) {
            for w in clients.values_mut() {
                if w.expired && deleted {
                    w.expired = false;
                    continue;
                }
                w.flag.store(true, Ordering::Release);
            }
        }
    }

    /// The watched metadata keys in `lo..hi`.
    pub fn keys_in(&self, lo: &[u8], hi: &[u8]) -> Vec<Vec<u8>> {
        if lo >= hi {
            return Vec::new();
        }
        self.map.lock().range(lo.to_vec()..hi.to_vec()).map(|(k, _)| k.clone()).collect()
    }

    /// SWAPDB: the contents of both databases changed under every watched key in them that
    /// exists in either (`exists` tells, by metadata key).
    pub fn touch_db(&self, pdb: u8, exists: impl Fn(&[u8]) -> bool) {
        let (lo, hi) = super::encoding::db_range(pdb);
        for mk in self.keys_in(&lo, &hi) {
            if exists(&mk) {
                self.touch(&mk, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_flags_only_watchers_of_that_key() {
        let w = Watches::default();
        let (a, b) = (Flag::default(), Flag::default());
        w.watch(b"\0\0\0k1".to_vec(), 1, &a, false);
        w.watch(b"\0\0\0k2".to_vec(), 2, &b, true);
        assert!(w.any());
        w.touch(b"\0\0\0k1", false);
        w.touch(b"\0\0\0k2", true);
        assert!(a.load(Ordering::Acquire));
        assert!(!b.load(Ordering::Acquire));
        assert_eq!(w.keys_in(b"\0", b"\x01").len(), 2);
        w.unwatch(1, [b"\0\0\0k1".as_slice()]);
        w.unwatch(2, [b"\0\0\0k2".as_slice()]);
        assert!(!w.any());
    }
}
