//! Per-command statistics, Redis's `cmdstat_*` and `latency_percentiles_usec_*`: calls, time,
//! calls refused before running and calls that replied an error, plus a latency histogram per
//! command (when `latency-tracking` is on). One slot per name of the command table (top-level
//! commands and subcommands, a bounded set), found by the name's address without hashing text.

use super::histogram::Histogram;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// One command's counters, on a cache line of its own (io threads update neighbours).
#[derive(Default)]
#[repr(align(64))]
pub struct CommandStat {
    pub name: &'static str,
    calls: AtomicU64,
    duration_ns: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    /// Allocated at the command's first timed call (most commands never run).
    histogram: OnceLock<Histogram>,
}

/// What happened to one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ran and replied normally.
    Ok,
    /// Ran and replied an error (or an error reply was produced while it ran).
    Failed,
    /// Refused before running (arity, NOAUTH, OOM, ...): not a call.
    Rejected,
}

/// One command's figures at one moment.
#[derive(Clone, Debug, Default)]
pub struct StatView {
    pub name: &'static str,
    pub calls: u64,
    pub duration_ns: u64,
    pub rejected: u64,
    pub failed: u64,
    pub histogram: Option<super::histogram::Snapshot>,
}

pub struct CommandStats {
    slots: Vec<CommandStat>,
    /// Name address → slot.
    index: HashMap<usize, usize, foldhash::fast::FixedState>,
}

impl CommandStats {
    /// A slot for each name (names must be `'static` strings of the command table).
    pub fn new(names: impl IntoIterator<Item = &'static str>) -> CommandStats {
        let slots: Vec<CommandStat> =
            names.into_iter().map(|name| CommandStat { name, ..Default::default() }).collect();
        let index = slots.iter().enumerate().map(|(i, s)| (s.name.as_ptr() as usize, i)).collect();
        CommandStats { slots, index }
    }

    fn slot(&self, name: &'static str) -> Option<&CommandStat> {
        self.index.get(&(name.as_ptr() as usize)).map(|&i| &self.slots[i])
    }

    /// Records one call of `name` that took `ns`; the histogram only when `track` is set.
    pub fn record(&self, name: &'static str, ns: u64, outcome: Outcome, track: bool) {
        let Some(s) = self.slot(name) else { return };
        if outcome == Outcome::Rejected {
            s.rejected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        s.calls.fetch_add(1, Ordering::Relaxed);
        s.duration_ns.fetch_add(ns, Ordering::Relaxed);
        if outcome == Outcome::Failed {
            s.failed.fetch_add(1, Ordering::Relaxed);
        }
        if track {
            s.histogram.get_or_init(Histogram::default).record(ns);
        }
    }

    /// The commands that were called or refused at least once, in table order.
    pub fn used(&self) -> Vec<StatView> {
        self.slots
            .iter()
            .filter_map(|s| {
                let calls = s.calls.load(Ordering::Relaxed);
                let rejected = s.rejected.load(Ordering::Relaxed);
                (calls > 0 || rejected > 0).then(|| StatView {
                    name: s.name,
                    calls,
                    duration_ns: s.duration_ns.load(Ordering::Relaxed),
                    rejected,
                    failed: s.failed.load(Ordering::Relaxed),
                    histogram: s.histogram.get().map(Histogram::snapshot),
                })
            })
            .collect()
    }

    /// One command's figures (LATENCY HISTOGRAM of a named command).
    pub fn get(&self, name: &str) -> Option<StatView> {
        let s = self.slots.iter().find(|s| s.name.eq_ignore_ascii_case(name))?;
        Some(StatView {
            name: s.name,
            calls: s.calls.load(Ordering::Relaxed),
            duration_ns: s.duration_ns.load(Ordering::Relaxed),
            rejected: s.rejected.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            histogram: s.histogram.get().map(Histogram::snapshot),
        })
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for s in &self.slots {
            for c in [&s.calls, &s.duration_ns, &s.rejected, &s.failed] {
                c.store(0, Ordering::Relaxed);
            }
            if let Some(h) = s.histogram.get() {
                h.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_by_name_address() {
        static GET: &str = "get";
        static SET: &str = "set";
        let t = CommandStats::new([GET, SET]);
        t.record(GET, 1_500, Outcome::Ok, true);
        t.record(GET, 2_500, Outcome::Failed, true);
        t.record(GET, 0, Outcome::Rejected, true);
        t.record(SET, 10, Outcome::Ok, false);
        t.record("other", 10, Outcome::Ok, true);
        let used = t.used();
        assert_eq!(used.len(), 2);
        let g = &used[0];
        assert_eq!((g.name, g.calls, g.duration_ns, g.rejected, g.failed), ("get", 2, 4_000, 1, 1));
        assert_eq!(g.histogram.as_ref().map(|h| h.count()), Some(2));
        assert!(used[1].histogram.is_none());
        t.reset();
        assert!(t.used().is_empty());
    }
}
