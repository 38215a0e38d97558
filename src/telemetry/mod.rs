//! What the server tells its operators about itself: per-command statistics and latency
//! histograms (INFO commandstats and latencystats, `/metrics`), error statistics (INFO
//! errorstats), the slow log, the latency monitor and the MONITOR feed.
//!
//! Every command reports here once, from `commands::call`, with a `CommandEvent`; the INFO
//! sections, SLOWLOG, LATENCY, MONITOR and the Prometheus endpoint read what it keeps. It
//! owns no sockets and never touches storage; the per-command path is a few atomic adds
//! unless the slow log, the latency monitor or a MONITOR client wants the command.

pub mod commandstats;
pub mod errorstats;
pub mod histogram;
pub mod latency;
pub mod monitor;
pub mod process;
pub mod ratelimit;
pub mod rates;
pub mod slowlog;

use crate::config::Config;
use crate::state::clients::ClientHandle;
use bytes::Bytes;
use commandstats::{CommandStats, Outcome};
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// One command as it ended, for everything here that watches commands.
pub struct CommandEvent<'a> {
    /// The command table's name (`get`, `client|list`): a `'static` name of the table.
    pub name: &'static str,
    /// Its arguments, name first.
    pub args: &'a [Bytes],
    /// How long it ran (its last run, for a command rerun on the blocking pool).
    pub duration: Duration,
    pub outcome: Outcome,
    /// Run by EXEC or by a script rather than sent by the client itself.
    pub nested: bool,
    /// Run by a script (MONITOR shows `lua` as its client).
    pub from_script: bool,
    /// The command's table flags that matter here.
    pub skip_slowlog: bool,
    pub skip_monitor: bool,
    /// Redis's `fast` flag: the latency monitor files it under `fast-command`.
    pub fast: bool,
    /// The client that sent it, and the database it ran in.
    pub client: &'a ClientHandle,
    pub db: usize,
}

/// What a redacted argument reads in the slow log and MONITOR.
pub const REDACTED: &[u8] = b"(redacted)";

/// The positions of the arguments Redis 7.0 redacts (`redactClientCommandArgument`): AUTH's
/// credentials, HELLO's AUTH pair, MIGRATE's AUTH / AUTH2, and CONFIG SET of a password.
/// Called only for a command going to the slow log or MONITOR.
pub fn redacted_args(name: &str, args: &[Bytes]) -> Vec<usize> {
    let is = |i: usize, word: &str| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()));
    let mut out = Vec::new();
    match name {
        "auth" if args.len() <= 3 => out.extend(1..args.len()),
        "hello" => {
            let mut j = 2;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if is(j, "auth") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else if is(j, "setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        "migrate" => {
            let mut j = 6;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if is(j, "auth") && more >= 1 {
                    out.push(j + 1);
                    j += 2;
                } else if is(j, "auth2") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else if is(j, "copy") || is(j, "replace") {
                    j += 1;
                } else {
                    break;
                }
            }
        }
        "config|set" => {
            const SENSITIVE: [&str; 4] = ["requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass"];
            let mut j = 2;
            while j + 1 < args.len() {
                if SENSITIVE.iter().any(|s| args[j].eq_ignore_ascii_case(s.as_bytes())) {
                    out.push(j + 1);
                }
                j += 2;
            }
        }
        _ => {}
    }
    out
}

/// The word and bit of database `db` in `Telemetry::dbs_seen`.
fn db_bit(db: usize) -> (usize, u64) {
    (db / 64 % 4, 1u64 << (db % 64))
}

/// Time since the Unix epoch (slow log entries, latency samples, MONITOR lines).
pub fn unix_time() -> Duration {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}

/// A slow log entry or MONITOR line of a command inside EXEC or a script, held until the
/// command at the top ends.
enum Deferred {
    Slow(slowlog::Entry),
    Monitor(Bytes),
    /// A call's statistics (`CommandStats::record`).
    Stats {
        name: &'static str,
        ns: u64,
        outcome: Outcome,
        track: bool,
    },
    /// An error reply's prefix (`ErrorStats::count`), followed by a space.
    Error(Box<str>),
}

/// Held records past which they are added at once (a script making millions of calls):
/// memory stays bounded, at the cost of counting twice what a rerun repeats.
const MAX_DEFERRED: usize = 1 << 16;

thread_local! {
    static DEFERRED: std::cell::RefCell<Vec<Deferred>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether `DEFERRED` has anything (the per-command path reads only this).
    static HAS_DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Holds `item`; false when too many are held already (the caller then flushes).
fn defer(item: Deferred) -> bool {
    HAS_DEFERRED.set(true);
    DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        d.push(item);
        d.len() < MAX_DEFERRED
    })
}

/// The runtime settings commands are checked against, kept in atomics so the per-command path
/// never takes the config lock.
pub struct Settings {
    /// `slowlog-log-slower-than` (µs; negative = off).
    pub slowlog_slower_than_us: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    /// `latency-monitor-threshold` (ms; 0 = off).
    pub latency_threshold_ms: AtomicU64,
    pub latency_tracking: AtomicBool,
    pub percentiles: RwLock<Vec<f64>>,
}

pub struct Telemetry {
    pub settings: Settings,
    pub commands: CommandStats,
    pub errors: errorstats::ErrorStats,
    pub slowlog: slowlog::SlowLog,
    pub latency: latency::LatencyMonitor,
    pub monitors: monitor::Monitors,
    /// Instantaneous rates (INFO stats), sampled by the server every 100 ms.
    pub rates: rates::Rates,
    /// Log lines clients can cause (protocol errors, buffer limits), rate-limited.
    pub client_errors: ratelimit::LogLimit,
    /// Databases that had keys at a scrape (their series go on at 0 once emptied).
    dbs_seen: [AtomicU64; 4],
}

impl Telemetry {
    /// `names`: every name of the command table (commands and subcommands).
    pub fn new(names: impl IntoIterator<Item = &'static str>, config: &Config) -> Telemetry {
        let t = Telemetry {
            settings: Settings {
                slowlog_slower_than_us: AtomicI64::new(config.slowlog_log_slower_than),
                slowlog_max_len: AtomicU64::new(config.slowlog_max_len),
                latency_threshold_ms: AtomicU64::new(config.latency_monitor_threshold),
                latency_tracking: AtomicBool::new(config.latency_tracking),
                percentiles: RwLock::new(config.latency_tracking_info_percentiles.clone()),
            },
            commands: CommandStats::new(names),
            errors: Default::default(),
            slowlog: Default::default(),
            latency: Default::default(),
            monitors: Default::default(),
            rates: Default::default(),
            dbs_seen: Default::default(),
            client_errors: Default::default(),
        };
        t.configure(config);
        t
    }

    /// Takes the runtime settings from `config` (start-up and each CONFIG SET).
    pub fn configure(&self, config: &Config) {
        let s = &self.settings;
        s.slowlog_slower_than_us.store(config.slowlog_log_slower_than, Ordering::Relaxed);
        s.slowlog_max_len.store(config.slowlog_max_len, Ordering::Relaxed);
        s.latency_threshold_ms.store(config.latency_monitor_threshold, Ordering::Relaxed);
        s.latency_tracking.store(config.latency_tracking, Ordering::Relaxed);
        *s.percentiles.write() = config.latency_tracking_info_percentiles.clone();
        self.slowlog.trim(config.slowlog_max_len as usize);
        self.monitors.set_limit(config.client_output_buffer_limit.normal);
    }

    /// One command ended.
    pub fn command_done(&self, ev: &CommandEvent<'_>) {
        let s = &self.settings;
        let ns = u64::try_from(ev.duration.as_nanos()).unwrap_or(u64::MAX);
        let track = s.latency_tracking.load(Ordering::Relaxed);
        if ev.nested {
            // Counted when the command at the top ends, and not at all if it reruns.
            self.hold(Deferred::Stats { name: ev.name, ns, outcome: ev.outcome, track });
        } else {
            self.commands.record(ev.name, ns, ev.outcome, track);
            if HAS_DEFERRED.get() {
                self.flush_deferred();
            }
        }
        if ev.outcome == Outcome::Rejected {
            return;
        }
        let slower_than = s.slowlog_slower_than_us.load(Ordering::Relaxed);
        if slower_than >= 0 && !ev.skip_slowlog && ns / 1000 >= slower_than as u64 {
            let entry = slowlog::Entry::new(ev, ns / 1000);
            if ev.nested {
                self.hold(Deferred::Slow(entry));
            } else {
                self.slowlog.push(entry, s.slowlog_max_len.load(Ordering::Relaxed) as usize);
            }
        }
        let threshold = s.latency_threshold_ms.load(Ordering::Relaxed);
        if threshold > 0 && ns / 1_000_000 >= threshold {
            let event = if ev.fast { "fast-command" } else { "command" };
            self.latency.record(event, ns / 1_000_000);
        }
        if self.monitors.any() && !ev.skip_monitor {
            if let Some(line) = self.monitors.line_for(ev) {
                if ev.nested {
                    self.hold(Deferred::Monitor(line));
                } else {
                    self.monitors.send(&line);
                }
            }
        }
    }

    /// Feeds a command to MONITOR before it runs: EVAL and FCALL, so that the commands their
    /// script runs show after them (as Redis's `evalCommand` does).
    pub fn monitor_before(&self, client: &ClientHandle, db: usize, args: &[Bytes]) {
        if self.monitors.any() {
            self.hold(Deferred::Monitor(monitor::line(db, Some(client), args, &[])));
        }
    }

    /// Feeds MONITOR a command that blocked (BLPOP on an empty list, ...): Redis shows it when
    /// it is called, not when it is served.
    pub fn monitor_blocked(&self, name: &str, client: &ClientHandle, db: usize, args: &[Bytes], nested: bool) {
        if self.monitors.any() {
            let line = monitor::line(db, Some(client), args, &redacted_args(name, args));
            if nested {
                self.hold(Deferred::Monitor(line));
            } else {
                self.monitors.send(&line);
            }
        }
    }

    /// The command at the top (not inside EXEC or a script) will run again from the start on
    /// a blocking thread: what the commands inside it left is dropped, so nothing shows twice.
    pub fn drop_deferred(&self) {
        if HAS_DEFERRED.get() {
            DEFERRED.with(|d| d.borrow_mut().clear());
            HAS_DEFERRED.set(false);
        }
    }

    /// A blocking command that timed out or was unblocked by CLIENT UNBLOCK: one call (that
    /// failed, for UNBLOCK ... ERROR), as Redis counts it when the client is unblocked. Its
    /// time waiting is not execution time.
    pub fn unblocked_unserved(&self, name: &'static str, failed: bool) {
        let outcome = if failed { Outcome::Failed } else { Outcome::Ok };
        self.commands.record(name, 0, outcome, self.settings.latency_tracking.load(Ordering::Relaxed));
    }

    /// An error reply of a command run through `commands::call`; one of a command inside
    /// EXEC or a script is held with its statistics.
    pub fn command_error(&self, text: &str, nested: bool) {
        if nested {
            errorstats::note_here();
            let prefix = errorstats::prefix_of(text);
            let mut held = String::with_capacity(prefix.len() + 1);
            held.push_str(prefix);
            held.push(' ');
            self.hold(Deferred::Error(held.into()));
        } else {
            self.errors.record(text);
        }
    }

    /// Holds a record of a command inside EXEC or a script.
    fn hold(&self, item: Deferred) {
        if !defer(item) {
            self.flush_deferred();
        }
    }

    /// Adds what the commands inside EXEC or a script left, in the order they ran.
    fn flush_deferred(&self) {
        let items = DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()));
        HAS_DEFERRED.set(false);
        let max_len = self.settings.slowlog_max_len.load(Ordering::Relaxed) as usize;
        for item in items {
            match item {
                Deferred::Slow(entry) => self.slowlog.push(entry, max_len),
                Deferred::Monitor(line) => self.monitors.send(&line),
                Deferred::Stats { name, ns, outcome, track } => self.commands.record(name, ns, outcome, track),
                Deferred::Error(prefix) => self.errors.count(&prefix),
            }
        }
    }

    /// A latency sample from outside the command path (`expire-cycle`, `eviction-cycle`):
    /// recorded if it reaches `latency-monitor-threshold`.
    pub fn latency_sample(&self, event: &'static str, duration: Duration) {
        let threshold = self.settings.latency_threshold_ms.load(Ordering::Relaxed);
        let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        if threshold > 0 && ms >= threshold {
            self.latency.record(event, ms);
        }
    }

    /// An error reply that did not come from a command run through `commands::call` (unknown
    /// command, protocol error, -BUSY, ...).
    pub fn error_reply(&self, text: &str) {
        self.errors.record(text);
    }

    /// Marks database `db` as having had keys at a scrape.
    pub fn note_db_seen(&self, db: usize) {
        let (word, bit) = db_bit(db);
        self.dbs_seen[word].fetch_or(bit, Ordering::Relaxed);
    }

    /// Whether database `db` had keys at an earlier scrape.
    pub fn db_seen(&self, db: usize) -> bool {
        let (word, bit) = db_bit(db);
        self.dbs_seen[word].load(Ordering::Relaxed) & bit != 0
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&self) {
        self.commands.reset();
        self.errors.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    #[test]
    fn redaction_follows_redis() {
        assert_eq!(redacted_args("auth", &args(&["auth", "pw"])), [1]);
        assert_eq!(redacted_args("auth", &args(&["auth", "u", "pw"])), [1, 2]);
        assert_eq!(redacted_args("hello", &args(&["hello", "3", "AUTH", "u", "p", "SETNAME", "n"])), [3, 4]);
        assert_eq!(redacted_args("hello", &args(&["hello", "3", "SETNAME", "n", "auth", "u", "p"])), [5, 6]);
        assert_eq!(
            redacted_args("migrate", &args(&["migrate", "h", "1", "k", "0", "10", "COPY", "AUTH2", "u", "p"])),
            [8, 9]
        );
        assert_eq!(redacted_args("migrate", &args(&["migrate", "h", "1", "k", "0", "10", "auth", "p"])), [7]);
        assert_eq!(redacted_args("config|set", &args(&["config", "set", "maxmemory", "1", "requirepass", "x"])), [5]);
        assert!(redacted_args("get", &args(&["get", "auth"])).is_empty());
    }
}
