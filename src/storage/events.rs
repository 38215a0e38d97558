//! Key events storage observes for keyspace notifications: a key created, a key removed because
//! it expired, a collection deleted because a command emptied it.
//!
//! Storage must not know Pub/Sub, so it only reports. Events of a command's batches go to a
//! journal on the committing thread (in commit order), which the command layer reads to
//! announce them in Redis's order around the command's own event. Keys removed by active expiry
//! (no command around) go to the hook the server installs. Nothing is recorded unless the
//! server turned events on (`Storage::set_key_events`), so the write path pays nothing for
//! notifications nobody asked for.

use super::Storage;
use std::cell::RefCell;
use std::sync::atomic::Ordering;

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEvent {
    /// The key did not exist (or had expired) and now does.
    New,
    /// The key was removed because its time to live passed.
    Expired,
    /// A command removed the last element of the collection, so the key was deleted.
    Emptied,
}

/// One reported event: kind, physical database, key.
pub type Recorded = (KeyEvent, u8, Vec<u8>);

/// Called for keys active expiry removed: (physical database, key).
pub type ExpiredHook = Box<dyn Fn(u8, &[u8]) + Send + Sync>;

/// Called with how long a background cycle took, by event name (`expire-cycle`,
/// `eviction-cycle`): the latency monitor's samples from storage, which knows nothing of it.
pub type LatencyHook = Box<dyn Fn(&'static str, std::time::Duration) + Send + Sync>;

thread_local! {
    static JOURNAL: RefCell<Vec<Recorded>> = const { RefCell::new(Vec::new()) };
}

/// Appends committed events to this thread's journal.
pub fn journal(events: Vec<Recorded>) {
    if !events.is_empty() {
        JOURNAL.with(|j| j.borrow_mut().extend(events));
    }
}

/// Takes this thread's journal (the events of the batches committed since the last call).
pub fn take_journal() -> Vec<Recorded> {
    JOURNAL.with(|j| std::mem::take(&mut *j.borrow_mut()))
}

impl Storage {
    /// Turns event recording on or off (on while `notify-keyspace-events` asks for any class).
    pub fn set_key_events(&self, on: bool) {
        self.key_events_on.store(on, Ordering::Relaxed);
    }

    pub(crate) fn key_events(&self) -> bool {
        self.key_events_on.load(Ordering::Relaxed)
    }

    /// Installs what active expiry calls for each key it removed (once, at start-up).
    pub fn set_expired_hook(&self, hook: ExpiredHook) {
        let _ = self.expired_hook.set(hook);
    }

    /// Installs what receives the durations of expiry and eviction cycles (once, at start-up).
    pub fn set_latency_hook(&self, hook: LatencyHook) {
        let _ = self.latency_hook.set(hook);
    }

    /// Reports how long one expiry or eviction cycle took.
    pub(crate) fn report_latency(&self, event: &'static str, took: std::time::Duration) {
        if let Some(hook) = self.latency_hook.get() {
            hook(event, took);
        }
    }

    /// Reports a key removed by active expiry.
    pub(crate) fn report_expired(&self, pdb: u8, key: &[u8]) {
        if self.key_events() {
            if let Some(hook) = self.expired_hook.get() {
                hook(pdb, key);
            }
        }
    }

    /// The logical database that physical database `pdb` is now (None if none maps to it).
    /// Takes the map recursively: callers may hold it already.
    pub fn logical(&self, pdb: u8) -> Option<usize> {
        self.db_map.read_recursive().iter().position(|p| *p == pdb)
    }
}
