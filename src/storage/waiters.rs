//! Clients blocked on keys (BLPOP, BZPOPMIN, ...): who waits on which key, in arrival order.
//!
//! A write to a list or sorted set signals its key after the write is committed (see
//! `Batch::commit`), waking the client at the head of that key's queue only, so clients are
//! served first-come first-served. The woken client runs its command again; when it is served,
//! or gives up (timeout, disconnect), its `WaitGuard` leaves the queues and passes the signal on
//! to the next client, so a wake-up is never lost. A client registers *before* its last look at
//! the keys: a push landing between that look and the wait leaves a permit in its `Notify`.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Waiters {
    /// Metadata key (`pdb · slot · key`) → waiting clients, oldest first.
    queues: Mutex<HashMap<Vec<u8>, VecDeque<Arc<Notify>>>>,
    /// Number of registered clients (so writers skip the map when nobody waits).
    count: AtomicUsize,
}

/// One client's place in the queues of its keys; leaving them on drop.
pub struct WaitGuard<'a> {
    waiters: &'a Waiters,
    keys: Vec<Vec<u8>>,
    notify: Arc<Notify>,
}

impl Waiters {
    /// Whether any client is blocked at all.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    /// Number of clients blocked now.
    pub fn blocked_clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Queues a client on `keys` (physical database, key), behind those already waiting.
    pub fn register<'k>(&self, keys: impl IntoIterator<Item = (u8, &'k [u8])>) -> WaitGuard<'_> {
        let notify = Arc::new(Notify::new());
        let mut meta_keys: Vec<Vec<u8>> = Vec::new();
        for (pdb, key) in keys {
            let mk = super::encoding::meta_key(pdb, key);
            if !meta_keys.contains(&mk) {
                meta_keys.push(mk);
            }
        }
        let mut q = self.queues.lock();
        for mk in &meta_keys {
            q.entry(mk.clone()).or_default().push_back(notify.clone());
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        WaitGuard { waiters: self, keys: meta_keys, notify }
    }

    /// Wakes the first client waiting on `meta_key`, if any.
    pub(crate) fn signal(&self, meta_key: &[u8]) {
        if let Some(first) = self.queues.lock().get(meta_key).and_then(|q| q.front()) {
            first.notify_one();
        }
    }

    /// Wakes every blocked client (SWAPDB, FLUSH*: whole databases changed under them).
    pub fn signal_all(&self) {
        for q in self.queues.lock().values() {
            for n in q {
                n.notify_one();
            }
        }
    }
}

impl WaitGuard<'_> {
    /// Completes when a key this client waits on may have changed (at once if it already has
    /// since registration or the last wake-up).
    pub async fn changed(&self) {
        self.notify.notified().await
    }
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut q = self.waiters.queues.lock();
        for mk in &self.keys {
            if let Some(queue) = q.get_mut(mk) {
                queue.retain(|n| !Arc::ptr_eq(n, &self.notify));
                // Pass the signal on: what woke (or would have woken) this client may be
                // for the next one.
                match queue.front() {
                    Some(next) => next.notify_one(),
                    None => {
                        q.remove(mk);
                    }
                }
            }
        }
        self.waiters.count.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_the_first_waiter_then_the_next() {
        let w = Waiters::default();
        let a = w.register([(0u8, &b"k"[..])]);
        let b = w.register([(0u8, &b"k"[..]), (0, b"other")]);
        assert_eq!(w.blocked_clients(), 2);
        w.signal(&crate::storage::encoding::meta_key(0, b"k"));
        // Only the head has a permit.
        tokio::time::timeout(std::time::Duration::from_millis(50), a.changed()).await.unwrap();
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), b.changed()).await.is_err());
        drop(a);
        // Leaving passes the signal on.
        tokio::time::timeout(std::time::Duration::from_millis(50), b.changed()).await.unwrap();
        drop(b);
        assert!(!w.any());
        assert!(w.queues.lock().is_empty());
    }

    #[tokio::test]
    async fn a_signal_before_the_wait_is_kept() {
        let w = Waiters::default();
        let a = w.register([(3u8, &b"k"[..])]);
        w.signal(&crate::storage::encoding::meta_key(3, b"k"));
        tokio::time::timeout(std::time::Duration::from_millis(50), a.changed()).await.unwrap();
    }
}
