//! Error replies by prefix, Redis's INFO `errorstats` (`errorstat_WRONGTYPE:count=3`) and
//! `total_error_replies`. The prefix is the error's first word (within its first 32 bytes, as
//! Redis takes it, else `ERR`); at most 128 prefixes are tracked, as in Redis, so a client
//! sending made-up errors from a script can't grow the table.

use parking_lot::RwLock;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Redis's `ERROR_STATS_NUMBER`.
const MAX_PREFIXES: usize = 128;

#[derive(Default)]
pub struct ErrorStats {
    prefixes: RwLock<Vec<(Box<str>, AtomicU64)>>,
    total: AtomicU64,
}

thread_local! {
    /// Errors recorded by this thread: a command that sees it grow while it runs failed
    /// (EXEC and scripts fail when a command inside them does, as in Redis).
    static RECORDED_HERE: Cell<u64> = const { Cell::new(0) };
}

thread_local! {
    /// Set when the error reply about to be produced repeats one already counted (a script
    /// failing with the error its `redis.call` got: Redis's `ignore_error_stats_update`).
    static ALREADY_COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Errors recorded by the calling thread so far.
pub fn recorded_here() -> u64 {
    RECORDED_HERE.with(|c| c.get())
}

/// Notes an error on this thread whose count is added later (`ErrorStats::count`).
pub fn note_here() {
    RECORDED_HERE.with(|c| c.set(c.get() + 1));
}

/// Marks the next error reply of this thread as already counted.
pub fn mark_already_counted() {
    ALREADY_COUNTED.set(true);
}

/// Whether the reply being produced was marked already counted (and clears the mark).
pub fn take_already_counted() -> bool {
    ALREADY_COUNTED.replace(false)
}

/// Redis's error code of a reply text: its first word within 32 bytes, else `ERR`.
pub fn prefix_of(text: &str) -> &str {
    let head = &text.as_bytes()[..text.len().min(32)];
    match head.iter().position(|&b| b == b' ') {
        Some(end) if end > 0 => &text[..end],
        _ => "ERR",
    }
}

impl ErrorStats {
    /// Counts one error reply with this text.
    pub fn record(&self, text: &str) {
        note_here();
        self.count(text);
    }

    /// Counts an error reply noted earlier with `note_here`.
    pub fn count(&self, text: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let prefix = prefix_of(text);
        {
            let known = self.prefixes.read();
            if let Some((_, n)) = known.iter().find(|(p, _)| &**p == prefix) {
                n.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut known = self.prefixes.write();
        if let Some((_, n)) = known.iter().find(|(p, _)| &**p == prefix) {
            n.fetch_add(1, Ordering::Relaxed);
        } else if known.len() < MAX_PREFIXES {
            known.push((prefix.into(), AtomicU64::new(1)));
        }
    }

    /// `total_error_replies`.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// (prefix, count) pairs, sorted by prefix as Redis's rax lists them.
    pub fn counts(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> =
            self.prefixes.read().iter().map(|(p, n)| (p.to_string(), n.load(Ordering::Relaxed))).collect();
        v.sort();
        v
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        self.prefixes.write().clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_as_redis() {
        assert_eq!(prefix_of("WRONGTYPE Operation against a key"), "WRONGTYPE");
        assert_eq!(prefix_of("ERR syntax error"), "ERR");
        assert_eq!(prefix_of("NOSPACE"), "ERR");
        assert_eq!(prefix_of(" leading"), "ERR");
        assert_eq!(prefix_of(&format!("{} x", "A".repeat(40))), "ERR");
    }

    #[test]
    fn counts_and_caps() {
        let e = ErrorStats::default();
        let before = recorded_here();
        e.record("ERR a");
        e.record("ERR b");
        e.record("WRONGTYPE c");
        assert_eq!(recorded_here() - before, 3);
        assert_eq!(e.counts(), vec![("ERR".to_string(), 2), ("WRONGTYPE".to_string(), 1)]);
        for i in 0..300 {
            e.record(&format!("E{i} x"));
        }
        assert_eq!(e.counts().len(), MAX_PREFIXES);
        assert_eq!(e.total(), 303);
        e.reset();
        assert_eq!(e.total(), 0);
        assert!(e.counts().is_empty());
    }
}
