//! INFO: Redis 7.0's sections and field names, filled with Strata's real figures, plus Strata's
//! `rocksdb` and `hot_cache` sections. Tools that parse INFO (redis-cli --stat, redis_exporter,
//! RedisInsight) find the fields they look for; fields about machinery Strata does not have
//! (fork, RDB child, replication backlog, defragmentation) keep Redis's idle values.

use super::connection::REDIS_VERSION;
use super::Ctx;
use crate::error::CmdResult;
use crate::reply::Reply;
use crate::state::Shared;
use crate::telemetry::{process, rates};
use bytes::Bytes;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Every section, in the order Redis prints them, then Strata's own.
const ALL: [&str; 15] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "rocksdb",
    "hot_cache",
];

/// What `INFO` and `INFO default` print (Redis 7.0's default set).
const DEFAULT: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

pub fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut wanted = [false; ALL.len()];
    let mut want = |name: &str| {
        if let Some(i) = ALL.iter().position(|s| *s == name) {
            wanted[i] = true;
        }
    };
    if args.len() == 1 {
        DEFAULT.iter().for_each(|s| want(s));
    }
    for a in &args[1..] {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => DEFAULT.iter().for_each(|s| want(s)),
            "all" | "everything" => ALL.iter().for_each(|s| want(s)),
            other => want(other),
        }
    }
    let mut out = String::new();
    for (i, name) in ALL.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx.shared, name, &mut out);
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// One section, with its `# Title` line.
fn section(shared: &Shared, name: &str, out: &mut String) {
    let storage = &shared.storage;
    let cfg = shared.config.read();
    let uptime = shared.started.elapsed().as_secs();
    let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    match name {
        "server" => {
            out.push_str("# Server\r\n");
            kv(out, "redis_version", &REDIS_VERSION);
            kv(out, "strata_version", &env!("CARGO_PKG_VERSION"));
            kv(out, "redis_git_sha1", &"00000000");
            kv(out, "redis_git_dirty", &0);
            kv(out, "redis_build_id", &"0");
            kv(out, "redis_mode", &"standalone");
            kv(out, "os", &os_name());
            kv(out, "arch_bits", &(usize::BITS));
            kv(out, "monotonic_clock", &"POSIX clock_gettime");
            kv(out, "multiplexing_api", &"epoll");
            kv(out, "atomicvar_api", &"c11-builtin");
            kv(out, "gcc_version", &"0.0.0");
            kv(out, "process_id", &std::process::id());
            kv(out, "process_supervised", &"no");
            kv(out, "run_id", &shared.run_id);
            kv(out, "tcp_port", &shared.tcp_port.load(Ordering::Relaxed));
            kv(out, "server_time_usec", &storage.clock.now_us());
            kv(out, "uptime_in_seconds", &uptime);
            kv(out, "uptime_in_days", &(uptime / 86400));
            kv(out, "hz", &cfg.hz);
            kv(out, "configured_hz", &cfg.hz);
            kv(out, "lru_clock", &((storage.clock.now_ms() / 1000) & ((1 << 24) - 1)));
            kv(out, "executable", &std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default());
            kv(out, "config_file", &shared.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
            kv(out, "io_threads_active", &u8::from(cfg.io_threads > 1));
        }
        "clients" => {
            out.push_str("# Clients\r\n");
            let clients = shared.clients.snapshot();
            let max_in = clients.iter().map(|c| c.qbuf.load(Ordering::Relaxed)).max().unwrap_or(0);
            let max_out =
                clients.iter().map(|c| c.omem.load(Ordering::Relaxed) + c.pubsub.queued_bytes()).max().unwrap_or(0);
            kv(out, "connected_clients", &clients.len());
            kv(out, "cluster_connections", &0);
            kv(out, "maxclients", &cfg.maxclients);
            kv(out, "client_recent_max_input_buffer", &max_in);
            kv(out, "client_recent_max_output_buffer", &max_out);
            kv(out, "blocked_clients", &storage.waiters.blocked_clients());
            kv(out, "tracking_clients", &0);
            kv(out, "clients_in_timeout_table", &storage.waiters.blocked_clients());
        }
        "memory" => memory(shared, &cfg, out),
        "persistence" => {
            out.push_str("# Persistence\r\n");
            let saves = storage.save_status();
            kv(out, "loading", &0);
            kv(out, "async_loading", &0);
            kv(out, "current_cow_peak", &0);
            kv(out, "current_cow_size", &0);
            kv(out, "current_cow_size_age", &0);
            kv(out, "current_fork_perc", &"0.00");
            kv(out, "current_save_keys_processed", &0);
            kv(out, "current_save_keys_total", &0);
            // Saves are checkpoints (`storage::backup`); every write is also in the WAL.
            kv(out, "rdb_changes_since_last_save", &saves.changes_since_last_save);
            kv(out, "rdb_bgsave_in_progress", &u8::from(saves.bgsave_in_progress));
            kv(out, "rdb_last_save_time", &saves.last_save_time);
            kv(out, "rdb_last_bgsave_status", &if saves.last_bgsave_ok { "ok" } else { "err" });
            kv(out, "rdb_last_bgsave_time_sec", &saves.last_bgsave_time_sec);
            kv(out, "rdb_current_bgsave_time_sec", &saves.current_bgsave_time_sec);
            kv(out, "rdb_saves", &saves.saves);
            kv(out, "rdb_last_cow_size", &0);
            kv(out, "rdb_last_load_keys_expired", &0);
            kv(out, "rdb_last_load_keys_loaded", &0);
            // The WAL is Strata's append-only file.
            kv(out, "aof_enabled", &1);
            kv(out, "aof_rewrite_in_progress", &0);
            kv(out, "aof_rewrite_scheduled", &0);
            kv(out, "aof_last_rewrite_time_sec", &-1);
            kv(out, "aof_current_rewrite_time_sec", &-1);
            kv(out, "aof_last_bgrewrite_status", &"ok");
            kv(out, "aof_rewrites", &0);
            kv(out, "aof_rewrites_consecutive_failures", &0);
            let write_ok = !storage.disk_refuses_writes() && !storage.wal_broken();
            kv(out, "aof_last_write_status", &if write_ok { "ok" } else { "err" });
            kv(out, "aof_last_cow_size", &0);
            kv(out, "module_fork_in_progress", &0);
            kv(out, "module_fork_last_cow_size", &0);
            kv(out, "aof_current_size", &storage.wal_bytes());
            kv(out, "aof_base_size", &0);
            kv(out, "aof_pending_rewrite", &0);
            kv(out, "aof_buffer_length", &0);
            kv(out, "aof_pending_bio_fsync", &0);
            kv(out, "aof_delayed_fsync", &0);
            kv(out, "appendfsync", &cfg.appendfsync);
        }
        "stats" => {
            out.push_str("# Stats\r\n");
            let st = &shared.stats;
            let t = &shared.telemetry;
            let kbps = |m| format!("{:.2}", t.rates.rate(m) / 1024.0);
            kv(out, "total_connections_received", &l(&st.total_connections_received));
            kv(out, "total_commands_processed", &l(&st.total_commands_processed));
            kv(out, "instantaneous_ops_per_sec", &(t.rates.rate(rates::OPS).round() as u64));
            kv(out, "total_net_input_bytes", &l(&st.total_net_input_bytes));
            kv(out, "total_net_output_bytes", &l(&st.total_net_output_bytes));
            kv(out, "total_net_repl_input_bytes", &0);
            kv(out, "total_net_repl_output_bytes", &0);
            kv(out, "instantaneous_input_kbps", &kbps(rates::NET_INPUT));
            kv(out, "instantaneous_output_kbps", &kbps(rates::NET_OUTPUT));
            kv(out, "instantaneous_input_repl_kbps", &"0.00");
            kv(out, "instantaneous_output_repl_kbps", &"0.00");
            kv(out, "rejected_connections", &l(&st.rejected_connections));
            kv(out, "sync_full", &0);
            kv(out, "sync_partial_ok", &0);
            kv(out, "sync_partial_err", &0);
            kv(out, "expired_keys", &l(&storage.stats.expired_keys));
            kv(out, "expired_stale_perc", &format!("{:.2}", l(&storage.stats.expired_stale_perc) as f64 / 100.0));
            kv(out, "expired_time_cap_reached_count", &0);
            kv(out, "expire_cycle_cpu_milliseconds", &0);
            kv(out, "evicted_keys", &l(&storage.evict.evicted_keys));
            kv(out, "evicted_clients", &0);
            kv(out, "total_eviction_exceeded_time", &0);
            kv(out, "current_eviction_exceeded_time", &0);
            kv(out, "keyspace_hits", &l(&st.keyspace_hits));
            kv(out, "keyspace_misses", &l(&st.keyspace_misses));
            kv(out, "pubsub_channels", &shared.pubsub.distinct(crate::state::pubsub::Kind::Channel));
            kv(out, "pubsub_patterns", &shared.pubsub.distinct(crate::state::pubsub::Kind::Pattern));
            kv(out, "pubsubshard_channels", &shared.pubsub.distinct(crate::state::pubsub::Kind::Shard));
            kv(out, "latest_fork_usec", &0);
            kv(out, "total_forks", &0);
            kv(out, "migrate_cached_sockets", &0);
            kv(out, "slave_expires_tracked_keys", &0);
            kv(out, "active_defrag_hits", &0);
            kv(out, "active_defrag_misses", &0);
            kv(out, "active_defrag_key_hits", &0);
            kv(out, "active_defrag_key_misses", &0);
            kv(out, "total_active_defrag_time", &0);
            kv(out, "current_active_defrag_time", &0);
            kv(out, "tracking_total_keys", &0);
            kv(out, "tracking_total_items", &0);
            kv(out, "tracking_total_prefixes", &0);
            kv(out, "unexpected_error_replies", &0);
            kv(out, "total_error_replies", &t.errors.total());
            kv(out, "dump_payload_sanitizations", &0);
            kv(out, "total_reads_processed", &l(&st.total_reads_processed));
            kv(out, "total_writes_processed", &l(&st.total_writes_processed));
            kv(out, "io_threaded_reads_processed", &0);
            kv(out, "io_threaded_writes_processed", &0);
            kv(out, "reply_buffer_shrinks", &0);
            kv(out, "reply_buffer_expands", &0);
            {
                use crate::state::acl::Reason;
                let acl = &shared.acl;
                kv(out, "acl_access_denied_auth", &acl.denied(Reason::Auth));
                kv(out, "acl_access_denied_cmd", &acl.denied(Reason::Command));
                kv(out, "acl_access_denied_key", &acl.denied(Reason::Key));
                kv(out, "acl_access_denied_channel", &acl.denied(Reason::Channel));
            }
            kv(out, "strata_disk_reads_offloaded", &l(&st.blocking_reruns));
            kv(out, "strata_reclaimed_ranges", &l(&storage.stats.reclaimed_ranges));
        }
        "replication" => {
            out.push_str("# Replication\r\n");
            kv(out, "role", &"master");
            kv(out, "connected_slaves", &0);
            kv(out, "master_failover_state", &"no-failover");
            kv(out, "master_replid", &shared.run_id);
            kv(out, "master_replid2", &"0000000000000000000000000000000000000000");
            kv(out, "master_repl_offset", &0);
            kv(out, "second_repl_offset", &-1);
            kv(out, "repl_backlog_active", &0);
            kv(out, "repl_backlog_size", &1_048_576);
            kv(out, "repl_backlog_first_byte_offset", &0);
            kv(out, "repl_backlog_histlen", &0);
        }
        "cpu" => {
            out.push_str("# CPU\r\n");
            let (user, sys) = process::cpu_times();
            let (tuser, tsys) = process::thread_cpu_times();
            kv(out, "used_cpu_sys", &format!("{sys:.6}"));
            kv(out, "used_cpu_user", &format!("{user:.6}"));
            kv(out, "used_cpu_sys_children", &"0.000000");
            kv(out, "used_cpu_user_children", &"0.000000");
            kv(out, "used_cpu_sys_main_thread", &format!("{tsys:.6}"));
            kv(out, "used_cpu_user_main_thread", &format!("{tuser:.6}"));
        }
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for c in shared.telemetry.commands.used() {
                let usec = c.duration_ns / 1000;
                let per_call = if c.calls == 0 { 0.0 } else { c.duration_ns as f64 / 1000.0 / c.calls as f64 };
                let _ = write!(
                    out,
                    "cmdstat_{}:calls={},usec={usec},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    c.name, c.calls, c.rejected, c.failed
                );
            }
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (prefix, count) in shared.telemetry.errors.counts() {
                let _ = write!(out, "errorstat_{prefix}:count={count}\r\n");
            }
        }
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            let percentiles = shared.telemetry.settings.percentiles.read().clone();
            for c in shared.telemetry.commands.used() {
                let Some(h) = c.histogram.filter(|h| h.count() > 0) else { continue };
                let _ = write!(out, "latency_percentiles_usec_{}:", c.name);
                for (i, p) in percentiles.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    let _ = write!(out, "{sep}p{p}={:.3}", h.percentile(*p) as f64 / 1000.0);
                }
                out.push_str("\r\n");
            }
        }
        "cluster" => {
            out.push_str("# Cluster\r\n");
            kv(out, "cluster_enabled", &0);
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            let dbs = storage.dbs();
            for db in 0..storage.databases() {
                let p = dbs.physical(db);
                let keys = storage.key_count(p);
                if keys > 0 {
                    let _ = write!(out, "db{db}:keys={keys},expires={},avg_ttl=0\r\n", storage.expires_count(p));
                }
            }
        }
        "rocksdb" => rocksdb(shared, out),
        "hot_cache" => {
            out.push_str("# Hot_cache\r\n");
            let c = &storage.cache;
            let (bytes, entries) = c.usage();
            let hits = c.stats.hits.load(Ordering::Relaxed);
            let misses = c.stats.misses.load(Ordering::Relaxed);
            let ratio = if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 };
            kv(out, "hot_cache_policy", &"s3-fifo");
            kv(out, "hot_cache_size", &c.capacity());
            kv(out, "hot_cache_used_bytes", &bytes);
            kv(out, "hot_cache_entries", &entries);
            kv(out, "hot_cache_hits", &hits);
            kv(out, "hot_cache_misses", &misses);
            let _ = write!(out, "hot_cache_hit_ratio:{ratio:.4}\r\n");
            kv(out, "hot_cache_evictions", &c.stats.evictions.load(Ordering::Relaxed));
        }
        _ => {}
    }
}

fn memory(shared: &Shared, cfg: &crate::config::Config, out: &mut String) {
    let storage = &shared.storage;
    out.push_str("# Memory\r\n");
    // used_memory is the logical data set, what maxmemory limits (DESIGN.md §6); RSS is the
    // process, RocksDB's caches included.
    let rss = process::resident_bytes();
    let used = storage.used_memory_dataset();
    let peak = storage.evict.note_peak(used);
    let system = process::total_system_memory();
    let (cache_bytes, cache_entries) = storage.cache.usage();
    let rocks = storage.memory_usage();
    let scripts = shared.scripts.bodies.read().iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let pct = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 * 100.0 / b as f64 };
    kv(out, "used_memory", &used);
    kv(out, "used_memory_human", &bytes_to_human(used));
    kv(out, "used_memory_rss", &rss);
    kv(out, "used_memory_rss_human", &bytes_to_human(rss));
    kv(out, "used_memory_peak", &peak);
    kv(out, "used_memory_peak_human", &bytes_to_human(peak));
    kv(out, "used_memory_peak_perc", &format!("{:.2}%", pct(used, peak)));
    kv(out, "used_memory_overhead", &0);
    kv(out, "used_memory_startup", &0);
    kv(out, "used_memory_dataset", &used);
    kv(out, "used_memory_dataset_perc", &format!("{:.2}%", if used == 0 { 0.0 } else { 100.0 }));
    kv(out, "total_system_memory", &system);
    kv(out, "total_system_memory_human", &bytes_to_human(system));
    kv(out, "used_memory_scripts_eval", &scripts);
    kv(out, "number_of_cached_scripts", &shared.scripts.bodies.read().len());
    {
        let functions = shared.scripts.functions.read();
        kv(out, "number_of_functions", &functions.function_count());
        kv(out, "number_of_libraries", &functions.libs.len());
    }
    kv(out, "used_memory_scripts", &scripts);
    kv(out, "used_memory_scripts_human", &bytes_to_human(scripts as u64));
    kv(out, "maxmemory", &cfg.maxmemory);
    kv(out, "maxmemory_human", &bytes_to_human(cfg.maxmemory));
    kv(out, "maxmemory_policy", &cfg.maxmemory_policy);
    // Redis's ratio of RSS to used_memory means nothing here (used_memory is the logical data
    // set, mostly on disk): reported as 1 so tools don't alarm on it.
    kv(out, "mem_fragmentation_ratio", &"1.00");
    kv(out, "mem_fragmentation_bytes", &0);
    kv(out, "mem_not_counted_for_evict", &0);
    kv(out, "mem_replication_backlog", &0);
    kv(out, "mem_total_replication_buffers", &0);
    kv(out, "mem_clients_slaves", &0);
    kv(
        out,
        "mem_clients_normal",
        &shared
            .clients
            .snapshot()
            .iter()
            .map(|c| c.omem.load(Ordering::Relaxed) + c.pubsub.queued_bytes() + c.qbuf.load(Ordering::Relaxed))
            .sum::<usize>(),
    );
    kv(out, "mem_cluster_links", &0);
    kv(out, "mem_aof_buffer", &0);
    kv(out, "mem_allocator", &"jemalloc");
    kv(out, "active_defrag_running", &0);
    kv(out, "lazyfree_pending_objects", &0);
    kv(out, "lazyfreed_objects", &0);
    kv(out, "strata_access_table_bytes", &storage.access.bytes());
    kv(out, "hot_cache_size", &storage.cache.capacity());
    kv(out, "hot_cache_used_bytes", &cache_bytes);
    kv(out, "hot_cache_entries", &cache_entries);
    kv(out, "rocksdb_block_cache_capacity", &rocks.block_cache_capacity);
    kv(out, "rocksdb_block_cache_usage", &rocks.block_cache_usage);
    kv(out, "rocksdb_block_cache_pinned", &rocks.block_cache_pinned);
    kv(out, "rocksdb_memtable_bytes", &rocks.memtable_bytes);
    kv(out, "rocksdb_memtable_budget", &rocks.memtable_budget);
    kv(out, "rocksdb_table_readers_bytes", &rocks.table_readers_bytes);
}

fn rocksdb(shared: &Shared, out: &mut String) {
    let storage = &shared.storage;
    out.push_str("# RocksDB\r\n");
    let f = storage.rocks_figures();
    let rocks = storage.memory_usage();
    kv(out, "rocksdb_version", &"11.8.1");
    kv(out, "disk_used_bytes", &storage.disk_used_bytes());
    kv(out, "wal_bytes", &storage.wal_bytes());
    kv(out, "block_cache_capacity", &rocks.block_cache_capacity);
    kv(out, "block_cache_usage", &rocks.block_cache_usage);
    kv(out, "block_cache_pinned", &rocks.block_cache_pinned);
    kv(out, "block_cache_hits", &f.block_cache_hits);
    kv(out, "block_cache_misses", &f.block_cache_misses);
    kv(out, "memtable_bytes", &rocks.memtable_bytes);
    kv(out, "memtable_budget", &rocks.memtable_budget);
    kv(out, "pending_compaction_bytes", &f.pending_compaction_bytes);
    kv(out, "running_compactions", &f.running_compactions);
    kv(out, "running_flushes", &f.running_flushes);
    kv(out, "compaction_read_bytes", &f.compaction_read_bytes);
    kv(out, "compaction_write_bytes", &f.compaction_write_bytes);
    kv(out, "flush_write_bytes", &f.flush_write_bytes);
    kv(out, "write_stall_micros", &f.stall_micros);
    kv(out, "write_stopped", &f.write_stopped);
    kv(out, "delayed_write_rate", &f.delayed_write_rate);
    kv(out, "background_errors", &f.background_errors);
    for cf in crate::storage::cf::ALL {
        let p = |prop: &str| storage.cf_property(cf, prop).unwrap_or(0);
        let _ = write!(
            out,
            "cf_{cf}:estimate_keys={},live_sst_bytes={},memtable_bytes={},pending_compaction_bytes={},num_files_l0={}\r\n",
            p("rocksdb.estimate-num-keys"),
            p("rocksdb.live-sst-files-size"),
            p("rocksdb.cur-size-all-mem-tables"),
            p("rocksdb.estimate-pending-compaction-bytes"),
            p("rocksdb.num-files-at-level0"),
        );
    }
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = if std::env::consts::OS == "linux" { "Linux" } else { std::env::consts::OS };
    format!("{os} {} {}", release.trim(), std::env::consts::ARCH)
}

/// Redis's `bytesToHuman`: 1023B, 1.00K, 2.50M, 1.00G.
pub fn bytes_to_human(n: u64) -> String {
    let d = n as f64;
    match n {
        0..1024 => format!("{n}B"),
        1024..1_048_576 => format!("{:.2}K", d / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2}M", d / 1_048_576.0),
        1_073_741_824..1_099_511_627_776 => format!("{:.2}G", d / 1_073_741_824.0),
        _ => format!("{:.2}T", d / 1_099_511_627_776.0),
    }
}

fn kv(out: &mut String, k: &str, v: &dyn std::fmt::Display) {
    let _ = write!(out, "{k}:{v}\r\n");
}
