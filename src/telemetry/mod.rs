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
    }

    /// One command ended.
    pub fn command_done(&self, ev: &CommandEvent<'_>) {
        let s = &self.settings;
        let ns = u64::try_from(ev.duration.as_nanos()).unwrap_or(u64::MAX);
        self.commands.record(ev.name, ns, ev.outcome, s.latency_tracking.load(Ordering::Relaxed));
        if ev.outcome == Outcome::Rejected {
            return;
        }
        let slower_than = s.slowlog_slower_than_us.load(Ordering::Relaxed);
        if slower_than >= 0 && !ev.skip_slowlog && ns / 1000 >= slower_than as u64 {
            self.slowlog.record(ev, s.slowlog_max_len.load(Ordering::Relaxed) as usize);
        }
        let threshold = s.latency_threshold_ms.load(Ordering::Relaxed);
        if threshold > 0 && ns / 1_000_000 >= threshold {
            let event = if ev.fast { "fast-command" } else { "command" };
            self.latency.record(event, ns / 1_000_000);
        }
        if self.monitors.any() && !ev.skip_monitor {
            self.monitors.feed(ev);
        }
    }

    /// An error reply that did not come from a command run through `commands::call` (unknown
    /// command, protocol error, -BUSY, ...).
    pub fn error_reply(&self, text: &str) {
        self.errors.record(text);
    }

    /// Whether database `db` had keys at an earlier scrape; marks it as seen.
    pub fn note_db_seen(&self, db: usize) -> bool {
        let (word, bit) = (db / 64 % 4, 1u64 << (db % 64));
        self.dbs_seen[word].fetch_or(bit, Ordering::Relaxed) & bit != 0
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&self) {
        self.commands.reset();
        self.errors.reset();
    }
}
