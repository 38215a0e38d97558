//! The Prometheus text served at `/metrics`: the server's figures gathered at each scrape
//! into a `metrics` recorder (`metrics-exporter-prometheus` renders them), then the per-command
//! latency histograms, rendered here from the telemetry's own lock-free buckets (the exporter's
//! histograms would keep every sample between two scrapes).
//!
//! Names are `strata_<subsystem>_<what>_<unit>` (docs/metrics.md is the list, and the
//! dashboards and alerts in deploy/monitoring use nothing else); label values come from
//! bounded sets only: command names of the table, database numbers, column families, error
//! prefixes (at most 128, as INFO errorstats).

use crate::state::Shared;
use crate::telemetry::commandstats::StatView;
use crate::telemetry::{histogram, process};
use metrics::{counter, describe_counter, describe_gauge, gauge, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Upper bounds (seconds) of the command duration histogram's buckets.
const DURATION_BUCKETS: [f64; 19] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

pub struct Exporter {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Per counter: (last value read, what earlier resets took away).
    resets: Mutex<HashMap<&'static str, (u64, u64)>>,
}

impl Default for Exporter {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, describe);
        Exporter { recorder, handle, resets: Mutex::default() }
    }
}

impl Exporter {
    /// The whole `/metrics` page now.
    pub fn render(&self, shared: &Shared) -> String {
        metrics::with_local_recorder(&self.recorder, || self.collect(shared));
        let mut text = self.handle.render();
        seconds_counters(shared, &mut text);
        command_counters(shared, &mut text);
        command_histograms(shared, &mut text);
        text
    }
}

fn describe() {
    describe_gauge!("strata_build_info", "Strata's version (label) and the Redis version it answers as");
    describe_gauge!("strata_server_uptime_seconds", Unit::Seconds, "Seconds since the server started");
    describe_gauge!("strata_server_ready", "1 when /readyz answers 200 (serving, not shutting down)");
    describe_gauge!("strata_clients_connected", "Connected clients");
    describe_gauge!("strata_clients_blocked", "Clients waiting in a blocking command");
    describe_gauge!("strata_clients_max", "maxclients");
    describe_counter!("strata_clients_connections_received_total", "Connections accepted");
    describe_counter!("strata_clients_connections_rejected_total", "Connections refused over maxclients");
    describe_counter!("strata_commands_processed_total", "Commands processed");
    describe_gauge!("strata_keyspace_keys", "Keys per database");
    describe_gauge!("strata_keyspace_expires", "Keys with a time to live per database");
    describe_counter!("strata_keyspace_expired_keys_total", "Keys deleted by expiry");
    describe_counter!("strata_keyspace_evicted_keys_total", "Keys evicted under maxmemory");
    describe_counter!("strata_keyspace_hits_total", "Key lookups that found the key");
    describe_counter!("strata_keyspace_misses_total", "Key lookups that did not find the key");
    describe_gauge!(
        "strata_memory_used_bytes",
        Unit::Bytes,
        "Logical data set (INFO used_memory; what maxmemory limits)"
    );
    describe_gauge!("strata_memory_max_bytes", Unit::Bytes, "maxmemory (0 = none)");
    describe_gauge!("strata_memory_rss_bytes", Unit::Bytes, "Resident memory of the process");
    describe_gauge!("strata_memory_budget_bytes", Unit::Bytes, "Configured memory budgets by component");
    describe_counter!("strata_hot_cache_hits_total", "Hot cache hits");
    describe_counter!("strata_hot_cache_misses_total", "Hot cache misses");
    describe_counter!("strata_hot_cache_evictions_total", "Hot cache evictions");
    describe_gauge!("strata_hot_cache_used_bytes", Unit::Bytes, "Bytes held by the hot cache");
    describe_gauge!("strata_hot_cache_capacity_bytes", Unit::Bytes, "hot-cache-size");
    describe_gauge!("strata_hot_cache_entries", "Entries in the hot cache");
    describe_gauge!("strata_rocksdb_live_sst_bytes", Unit::Bytes, "Live SST bytes per column family");
    describe_gauge!("strata_rocksdb_estimated_keys", "RocksDB's estimate of the records per column family");
    describe_gauge!("strata_rocksdb_memtable_bytes", Unit::Bytes, "Memtable bytes per column family");
    describe_gauge!(
        "strata_rocksdb_pending_compaction_bytes",
        Unit::Bytes,
        "Bytes compaction has yet to rewrite, per column family"
    );
    describe_gauge!("strata_rocksdb_running_compactions", "Compactions running");
    describe_gauge!("strata_rocksdb_running_flushes", "Memtable flushes running");
    describe_gauge!("strata_rocksdb_block_cache_usage_bytes", Unit::Bytes, "Bytes in the block cache");
    describe_gauge!("strata_rocksdb_block_cache_capacity_bytes", Unit::Bytes, "rocksdb-block-cache-size");
    describe_gauge!("strata_rocksdb_write_stopped", "1 while RocksDB stops writes");
    describe_counter!("strata_rocksdb_compaction_read_bytes_total", Unit::Bytes, "Bytes read by compactions");
    describe_counter!("strata_rocksdb_compaction_write_bytes_total", Unit::Bytes, "Bytes written by compactions");
    describe_counter!("strata_rocksdb_background_errors_total", "RocksDB background errors");
    describe_gauge!("strata_disk_used_bytes", Unit::Bytes, "Bytes of the data directory's RocksDB files");
    describe_gauge!("strata_disk_free_bytes", Unit::Bytes, "Free bytes of the filesystem holding dir");
    describe_gauge!("strata_disk_capacity_bytes", Unit::Bytes, "Size of the filesystem holding dir");
}

impl Exporter {
    /// `value` of a counter CONFIG RESETSTAT sets back to 0, kept going up: the recorder's
    /// counters only rise (`absolute` keeps the maximum), so a reset would freeze them.
    fn monotonic(&self, name: &'static str, value: u64) -> u64 {
        let mut resets = self.resets.lock();
        let (last, base) = resets.entry(name).or_default();
        if value < *last {
            *base += *last;
        }
        *last = value;
        *base + value
    }

    fn collect(&self, shared: &Shared) {
        let storage = &shared.storage;
        let st = &shared.stats;
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let m = |name: &'static str, a: &std::sync::atomic::AtomicU64| self.monotonic(name, l(a));
        let cfg = shared.config.read().clone();
        gauge!("strata_build_info", "version" => env!("CARGO_PKG_VERSION"), "redis_version" => crate::commands::connection::REDIS_VERSION).set(1.0);
        gauge!("strata_server_uptime_seconds").set(shared.started.elapsed().as_secs_f64());
        gauge!("strata_server_ready").set(if shared.is_ready() { 1.0 } else { 0.0 });
        gauge!("strata_clients_connected").set(shared.clients.count() as f64);
        gauge!("strata_clients_blocked").set(storage.waiters.blocked_clients() as f64);
        gauge!("strata_clients_max").set(f64::from(cfg.maxclients));
        counter!("strata_clients_connections_received_total")
            .absolute(m("strata_clients_connections_received_total", &st.total_connections_received));
        counter!("strata_clients_connections_rejected_total")
            .absolute(m("strata_clients_connections_rejected_total", &st.rejected_connections));
        counter!("strata_commands_processed_total")
            .absolute(m("strata_commands_processed_total", &st.total_commands_processed));
        let dbs = storage.dbs();
        for db in 0..storage.databases() {
            let p = dbs.physical(db);
            let keys = storage.key_count(p);
            let label = db.to_string();
            // Empty databases are left out, unless they had keys at an earlier scrape (then
            // their series go on, at 0).
            let seen = if keys > 0 {
                shared.telemetry.note_db_seen(db);
                true
            } else {
                shared.telemetry.db_seen(db)
            };
            if seen {
                gauge!("strata_keyspace_keys", "db" => label.clone()).set(keys as f64);
                gauge!("strata_keyspace_expires", "db" => label).set(storage.expires_count(p) as f64);
            }
        }
        drop(dbs);
        counter!("strata_keyspace_expired_keys_total")
            .absolute(m("strata_keyspace_expired_keys_total", &storage.stats.expired_keys));
        counter!("strata_keyspace_evicted_keys_total")
            .absolute(m("strata_keyspace_evicted_keys_total", &storage.evict.evicted_keys));
        counter!("strata_keyspace_hits_total").absolute(m("strata_keyspace_hits_total", &st.keyspace_hits));
        counter!("strata_keyspace_misses_total").absolute(m("strata_keyspace_misses_total", &st.keyspace_misses));
        gauge!("strata_memory_used_bytes").set(storage.used_memory_dataset() as f64);
        gauge!("strata_memory_max_bytes").set(cfg.maxmemory as f64);
        gauge!("strata_memory_rss_bytes").set(process::resident_bytes() as f64);
        gauge!("strata_memory_budget_bytes", "component" => "hot_cache").set(cfg.hot_cache_size as f64);
        gauge!("strata_memory_budget_bytes", "component" => "block_cache").set(cfg.rocksdb_block_cache_size as f64);
        gauge!("strata_memory_budget_bytes", "component" => "memtables").set(cfg.rocksdb_memtable_budget as f64);
        let cache = &storage.cache;
        let (cache_bytes, cache_entries) = cache.usage();
        counter!("strata_hot_cache_hits_total").absolute(l(&cache.stats.hits));
        counter!("strata_hot_cache_misses_total").absolute(l(&cache.stats.misses));
        counter!("strata_hot_cache_evictions_total").absolute(l(&cache.stats.evictions));
        gauge!("strata_hot_cache_used_bytes").set(cache_bytes as f64);
        gauge!("strata_hot_cache_capacity_bytes").set(cache.capacity() as f64);
        gauge!("strata_hot_cache_entries").set(cache_entries as f64);
        for cf in crate::storage::cf::ALL {
            let p = |prop: &str| storage.cf_property(cf, prop).unwrap_or(0) as f64;
            gauge!("strata_rocksdb_live_sst_bytes", "cf" => cf).set(p("rocksdb.live-sst-files-size"));
            gauge!("strata_rocksdb_estimated_keys", "cf" => cf).set(p("rocksdb.estimate-num-keys"));
            gauge!("strata_rocksdb_memtable_bytes", "cf" => cf).set(p("rocksdb.cur-size-all-mem-tables"));
            gauge!("strata_rocksdb_pending_compaction_bytes", "cf" => cf)
                .set(p("rocksdb.estimate-pending-compaction-bytes"));
        }
        let f = storage.rocks_figures();
        let rocks = storage.memory_usage();
        gauge!("strata_rocksdb_running_compactions").set(f.running_compactions as f64);
        gauge!("strata_rocksdb_running_flushes").set(f.running_flushes as f64);
        gauge!("strata_rocksdb_block_cache_usage_bytes").set(rocks.block_cache_usage as f64);
        gauge!("strata_rocksdb_block_cache_capacity_bytes").set(rocks.block_cache_capacity as f64);
        gauge!("strata_rocksdb_write_stopped").set(f.write_stopped as f64);
        counter!("strata_rocksdb_compaction_read_bytes_total").absolute(f.compaction_read_bytes);
        counter!("strata_rocksdb_compaction_write_bytes_total").absolute(f.compaction_write_bytes);
        counter!("strata_rocksdb_background_errors_total").absolute(f.background_errors);
        gauge!("strata_disk_used_bytes").set(storage.disk_used_bytes() as f64);
        let (free, capacity) = storage.disk_space();
        gauge!("strata_disk_free_bytes").set(free as f64);
        gauge!("strata_disk_capacity_bytes").set(capacity as f64);
    }
}

/// Counters of seconds with fractions, which the recorder's integer counters can't hold.
fn seconds_counters(shared: &Shared, out: &mut String) {
    let stall = shared.storage.rocks_figures().stall_micros as f64 / 1e6;
    out.push_str("# HELP strata_rocksdb_write_stall_seconds_total Time writes were delayed or stopped by RocksDB\n");
    out.push_str("# TYPE strata_rocksdb_write_stall_seconds_total counter\n");
    let _ = writeln!(out, "strata_rocksdb_write_stall_seconds_total {stall}");
    let (user, sys) = process::cpu_times();
    out.push_str("# HELP strata_process_cpu_seconds_total CPU time of the process by mode\n");
    out.push_str("# TYPE strata_process_cpu_seconds_total counter\n");
    let _ = writeln!(out, "strata_process_cpu_seconds_total{{mode=\"user\"}} {user}");
    let _ = writeln!(out, "strata_process_cpu_seconds_total{{mode=\"system\"}} {sys}");
}

/// Per-command and per-error-prefix counters, rendered from the telemetry as they are now:
/// after CONFIG RESETSTAT they start again from 0, which Prometheus reads as a counter reset
/// (the recorder's counters only ever go up, so they would sit still until they passed their
/// old values), and an error prefix dropped by the reset leaves no series behind (so the label
/// set stays within errorstats' 128 prefixes).
fn command_counters(shared: &Shared, out: &mut String) {
    let used = shared.telemetry.commands.used();
    type Family = (&'static str, &'static str, fn(&StatView) -> u64);
    let families: [Family; 3] = [
        ("strata_commands_total", "Calls per command", |c| c.calls),
        ("strata_commands_failed_total", "Calls per command that replied an error", |c| c.failed),
        ("strata_commands_rejected_total", "Calls per command refused before running", |c| c.rejected),
    ];
    for (name, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for c in &used {
            let _ = writeln!(out, "{name}{{cmd=\"{}\"}} {}", c.name, value(c));
        }
    }
    let errors = shared.telemetry.errors.counts();
    out.push_str("# HELP strata_errors_total Error replies by error prefix\n# TYPE strata_errors_total counter\n");
    for (prefix, count) in errors {
        let _ = writeln!(out, "strata_errors_total{{prefix=\"{}\"}} {count}", label_value(&prefix));
    }
}

/// A label value escaped as the text format wants (error prefixes come from clients).
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `strata_commands_duration_seconds` per command, from the telemetry's histograms.
fn command_histograms(shared: &Shared, out: &mut String) {
    let used: Vec<_> = shared.telemetry.commands.used().into_iter().filter(|c| c.histogram.is_some()).collect();
    if used.is_empty() {
        return;
    }
    out.push_str("# HELP strata_commands_duration_seconds Command execution time\n");
    out.push_str("# TYPE strata_commands_duration_seconds histogram\n");
    for c in used {
        let Some(h) = c.histogram else { continue };
        let total = h.count();
        for le in DURATION_BUCKETS {
            let n = count_le(&h, (le * 1e9) as u64);
            let _ = writeln!(out, "strata_commands_duration_seconds_bucket{{cmd=\"{}\",le=\"{le}\"}} {n}", c.name);
        }
        let _ = writeln!(out, "strata_commands_duration_seconds_bucket{{cmd=\"{}\",le=\"+Inf\"}} {total}", c.name);
        let _ = writeln!(out, "strata_commands_duration_seconds_sum{{cmd=\"{}\"}} {}", c.name, h.sum as f64 / 1e9);
        let _ = writeln!(out, "strata_commands_duration_seconds_count{{cmd=\"{}\"}} {total}", c.name);
    }
}

/// Values at most `ns`: whole buckets below it, and the bucket it falls in pro rata.
fn count_le(h: &histogram::Snapshot, ns: u64) -> u64 {
    let mut n = 0.0;
    for (i, &c) in h.counts.iter().enumerate() {
        let (lo, hi) = (histogram::bucket_low(i), histogram::bucket_high(i));
        if hi <= ns {
            n += c as f64;
        } else if lo <= ns {
            n += c as f64 * (ns - lo + 1) as f64 / (hi - lo + 1) as f64;
        } else {
            break;
        }
    }
    n.round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_le_is_exact_at_edges_and_pro_rata_inside() {
        let h = histogram::Histogram::default();
        for v in [100u64, 1_000, 1_024, 2_048, 1_000_000] {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(count_le(&s, 0), 0);
        assert_eq!(count_le(&s, 2_047), 3);
        assert_eq!(count_le(&s, 10_000_000), 5);
        assert_eq!(count_le(&s, u64::MAX / 2), 5);
    }
}
