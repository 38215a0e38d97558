//! Server commands: CONFIG, INFO, TIME, SHUTDOWN, DEBUG.

use super::connection::REDIS_VERSION;
use super::introspection::{container, help_reply};
use super::parse::{int, is};
use super::{CommandSpec, Ctx};
use crate::config::AppendFsync;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::FsyncPolicy;
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: CONFIG_SUBCOMMANDS,
        ..cmd!(
            "config",
            -2,
            flags!(),
            0,
            0,
            0,
            acl!(SLOW),
            container,
            "server",
            "2.0.0",
            "A container for server configuration commands.",
            "Depends on subcommand."
        )
    },
    cmd!("info", -1, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, DANGEROUS), info,
        "server", "1.0.0", "Returns information and statistics about the server.", "O(1)"),
    cmd!("time", 1, flags!(LOADING, STALE, FAST), 0, 0, 0, acl!(FAST), time,
        "server", "2.6.0", "Returns the server time.", "O(1)"),
    cmd!("shutdown", -1, flags!(ADMIN, NOSCRIPT, LOADING, STALE, NO_MULTI, ALLOW_BUSY), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), shutdown,
        "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    cmd!("debug", -2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), debug,
        "server", "1.0.0", "A container for debugging commands.", "Depends on subcommand."),
];

#[rustfmt::skip]
static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("config|get", -3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), config_get,
        "server", "2.0.0", "Returns the effective values of configuration parameters.", "O(N) when N is the number of configuration parameters provided"),
    cmd!("config|set", -4, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), config_set,
        "server", "2.0.0", "Sets configuration parameters in-flight.", "O(N) when N is the number of configuration parameters provided"),
    cmd!("config|resetstat", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), config_resetstat,
        "server", "2.0.0", "Resets the server's statistics.", "O(1)"),
    cmd!("config|rewrite", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), config_rewrite,
        "server", "2.8.0", "Persists the effective configuration to file.", "O(1)"),
    cmd!("config|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW), config_help,
        "server", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

fn config_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let patterns: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
    let pairs = ctx.shared.config.read().get(&patterns);
    Ok(Reply::Map(pairs.into_iter().map(|(k, v)| (Reply::bulk(k.as_bytes()), Reply::bulk(v.into_bytes()))).collect()))
}

fn config_set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks(2).map(|c| (c[0].as_ref(), c[1].as_ref())).collect();
    let mut cfg = ctx.shared.config.write();
    cfg.set(&pairs).map_err(CmdError::Raw)?;
    // Apply what takes effect at run time.
    let storage = &ctx.shared.storage;
    storage.set_fsync_policy(fsync_policy(cfg.appendfsync));
    storage.hz.store(u64::from(cfg.hz), Ordering::Relaxed);
    storage.expire_effort.store(u64::from(cfg.active_expire_effort), Ordering::Relaxed);
    storage.cache.set_capacity(cfg.hot_cache_size);
    apply_encoding_limits(&cfg, storage);
    apply_eviction(&cfg, storage);
    ctx.shared.telemetry.configure(&cfg);
    drop(cfg);
    crate::state::notify::apply_config(ctx.shared);
    let cfg = ctx.shared.config.read();
    if let Some(set_level) = ctx.shared.log_level_setter.lock().as_ref() {
        set_level(cfg.loglevel);
    }
    Ok(Reply::Ok)
}

/// Hands the `*-max-listpack-*` / `set-max-intset-entries` limits to the typed stores.
pub fn apply_encoding_limits(cfg: &crate::config::Config, storage: &crate::storage::Storage) {
    let l = &storage.limits;
    l.hash_max_listpack_entries.store(cfg.hash_max_listpack_entries, Ordering::Relaxed);
    l.hash_max_listpack_value.store(cfg.hash_max_listpack_value, Ordering::Relaxed);
    l.set_max_intset_entries.store(cfg.set_max_intset_entries, Ordering::Relaxed);
    l.zset_max_listpack_entries.store(cfg.zset_max_listpack_entries, Ordering::Relaxed);
    l.zset_max_listpack_value.store(cfg.zset_max_listpack_value, Ordering::Relaxed);
}

/// Hands `maxmemory` and its policy settings to storage's evictor.
pub fn apply_eviction(cfg: &crate::config::Config, storage: &crate::storage::Storage) {
    use crate::config::MaxmemoryPolicy as M;
    use crate::storage::evict::Policy as P;
    let policy = match cfg.maxmemory_policy {
        M::VolatileLru => P::VolatileLru,
        M::VolatileLfu => P::VolatileLfu,
        M::VolatileRandom => P::VolatileRandom,
        M::VolatileTtl => P::VolatileTtl,
        M::AllkeysLru => P::AllKeysLru,
        M::AllkeysLfu => P::AllKeysLfu,
        M::AllkeysRandom => P::AllKeysRandom,
        M::Noeviction => P::NoEviction,
    };
    let lfu = (cfg.lfu_log_factor, cfg.lfu_decay_time);
    storage.configure_eviction(cfg.maxmemory, policy, cfg.maxmemory_samples, cfg.maxmemory_eviction_tenacity, lfu);
}

pub fn fsync_policy(a: AppendFsync) -> FsyncPolicy {
    match a {
        AppendFsync::Always => FsyncPolicy::Always,
        AppendFsync::Everysec => FsyncPolicy::Everysec,
        AppendFsync::No => FsyncPolicy::No,
    }
}

fn config_resetstat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    ctx.shared.stats.reset();
    ctx.shared.telemetry.reset_stats();
    ctx.shared.storage.stats.expired_keys.store(0, Ordering::Relaxed);
    ctx.shared.storage.evict.evicted_keys.store(0, Ordering::Relaxed);
    Ok(Reply::Ok)
}

fn config_rewrite(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let Some(path) = ctx.shared.config_file.clone() else {
        return Err(CmdError::err("The server is running without a config file"));
    };
    let cfg = ctx.shared.config.read().clone();
    cfg.rewrite(&path).map_err(|e| CmdError::err(format!("Rewriting config file: {e}")))?;
    tracing::info!(path = %path.display(), "CONFIG REWRITE executed with success");
    Ok(Reply::Ok)
}

fn config_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
    ]))
}

fn time(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let us = ctx.shared.storage.clock.now_us();
    Ok(Reply::Array(vec![
        Reply::bulk((us / 1_000_000).to_string().into_bytes()),
        Reply::bulk((us % 1_000_000).to_string().into_bytes()),
    ]))
}

fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    for a in &args[1..] {
        if is(a, "ABORT") {
            return Err(CmdError::err("No shutdown in progress."));
        }
        if !(is(a, "NOSAVE") || is(a, "SAVE") || is(a, "NOW") || is(a, "FORCE")) {
            return Err(CmdError::Syntax);
        }
    }
    // Every acknowledged write is already in the WAL; the server closes RocksDB cleanly on the
    // way out. Like Redis, a successful SHUTDOWN sends no reply: the connection just closes.
    tracing::warn!("User requested shutdown...");
    ctx.shared.request_shutdown();
    ctx.session.close_after_reply = true;
    ctx.session.suppress_reply = true;
    Ok(Reply::Ok)
}

fn debug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let sub = &args[1];
    if is(sub, "SLEEP") && args.len() == 3 {
        let secs = super::parse::float(&args[2])?;
        std::thread::sleep(std::time::Duration::from_secs_f64(secs.clamp(0.0, 60.0)));
        return Ok(Reply::Ok);
    }
    if is(sub, "SET-ACTIVE-EXPIRE") && args.len() == 3 {
        let on = int(&args[2])? != 0;
        ctx.shared.storage.active_expire_enabled.store(on, Ordering::Relaxed);
        return Ok(Reply::Ok);
    }
    if is(sub, "HELP") {
        return Ok(help_reply(&[
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not accessed.",
        ]));
    }
    Err(CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        String::from_utf8_lossy(sub)
    )))
}

const DEFAULT_SECTIONS: [&str; 8] =
    ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"];
const ALL_SECTIONS: [&str; 10] =
    ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "rocksdb", "hot_cache", "keyspace"];

fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut wanted: Vec<&str> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT_SECTIONS);
    }
    for a in &args[1..] {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS),
            "all" | "everything" => wanted.extend(ALL_SECTIONS),
            other => {
                if let Some(s) = ALL_SECTIONS.iter().find(|s| **s == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let mut out = String::new();
    for s in ALL_SECTIONS {
        if !wanted.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx, s, &mut out);
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

fn section(ctx: &Ctx<'_>, name: &str, out: &mut String) {
    let shared = ctx.shared;
    let storage = &shared.storage;
    let cfg = shared.config.read();
    let uptime = shared.started.elapsed().as_secs();
    match name {
        "server" => {
            out.push_str("# Server\r\n");
            kv(out, "redis_version", &REDIS_VERSION);
            kv(out, "strata_version", &env!("CARGO_PKG_VERSION"));
            kv(out, "redis_git_sha1", &"00000000");
            kv(out, "redis_git_dirty", &0);
            kv(out, "redis_build_id", &"0");
            kv(out, "redis_mode", &"standalone");
            kv(out, "os", &format!("{} {}", std::env::consts::OS, std::env::consts::ARCH));
            kv(out, "arch_bits", &(usize::BITS));
            kv(out, "multiplexing_api", &"epoll");
            kv(out, "process_id", &std::process::id());
            kv(out, "process_supervised", &"no");
            kv(out, "run_id", &shared.run_id);
            kv(out, "tcp_port", &shared.tcp_port.load(Ordering::Relaxed));
            kv(out, "server_time_usec", &storage.clock.now_us());
            kv(out, "uptime_in_seconds", &uptime);
            kv(out, "uptime_in_days", &(uptime / 86400));
            kv(out, "hz", &cfg.hz);
            kv(out, "configured_hz", &cfg.hz);
            kv(out, "executable", &std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default());
            kv(out, "config_file", &shared.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
        }
        "clients" => {
            out.push_str("# Clients\r\n");
            kv(out, "connected_clients", &shared.clients.count());
            kv(out, "maxclients", &cfg.maxclients);
            kv(out, "blocked_clients", &storage.waiters.blocked_clients());
            kv(out, "tracking_clients", &0);
            kv(out, "clients_in_timeout_table", &0);
        }
        "memory" => {
            out.push_str("# Memory\r\n");
            // used_memory is the logical data set, what maxmemory limits (DESIGN.md §6).
            let rss = resident_bytes();
            let used = storage.used_memory_dataset();
            let peak = storage.evict.note_peak(used);
            kv(out, "used_memory", &used);
            kv(out, "used_memory_human", &bytes_to_human(used));
            kv(out, "used_memory_rss", &rss);
            kv(out, "used_memory_rss_human", &bytes_to_human(rss));
            kv(out, "used_memory_peak", &peak);
            kv(out, "used_memory_peak_human", &bytes_to_human(peak));
            kv(out, "used_memory_dataset", &used);
            kv(out, "number_of_cached_scripts", &shared.scripts.bodies.read().len());
            {
                let functions = shared.scripts.functions.read();
                kv(out, "number_of_functions", &functions.function_count());
                kv(out, "number_of_libraries", &functions.libs.len());
            }
            kv(out, "maxmemory", &cfg.maxmemory);
            kv(out, "maxmemory_human", &bytes_to_human(cfg.maxmemory));
            kv(out, "maxmemory_policy", &cfg.maxmemory_policy);
            kv(out, "strata_access_table_bytes", &storage.access.bytes());
            let (cache_bytes, cache_entries) = storage.cache.usage();
            kv(out, "hot_cache_size", &storage.cache.capacity());
            kv(out, "hot_cache_used_bytes", &cache_bytes);
            kv(out, "hot_cache_entries", &cache_entries);
            let rocks = storage.memory_usage();
            kv(out, "rocksdb_block_cache_capacity", &rocks.block_cache_capacity);
            kv(out, "rocksdb_block_cache_usage", &rocks.block_cache_usage);
            kv(out, "rocksdb_block_cache_pinned", &rocks.block_cache_pinned);
            kv(out, "rocksdb_memtable_bytes", &rocks.memtable_bytes);
            kv(out, "rocksdb_memtable_budget", &rocks.memtable_budget);
            kv(out, "rocksdb_table_readers_bytes", &rocks.table_readers_bytes);
        }
        "persistence" => {
            out.push_str("# Persistence\r\n");
            kv(out, "loading", &0);
            kv(out, "async_loading", &0);
            kv(out, "rdb_changes_since_last_save", &0);
            kv(out, "rdb_bgsave_in_progress", &0);
            kv(out, "aof_enabled", &1);
            kv(out, "aof_rewrite_in_progress", &0);
            kv(out, "appendfsync", &cfg.appendfsync);
        }
        "stats" => {
            out.push_str("# Stats\r\n");
            let st = &shared.stats;
            let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            kv(out, "total_connections_received", &l(&st.total_connections_received));
            kv(out, "total_commands_processed", &l(&st.total_commands_processed));
            kv(out, "total_net_input_bytes", &l(&st.total_net_input_bytes));
            kv(out, "total_net_output_bytes", &l(&st.total_net_output_bytes));
            kv(out, "rejected_connections", &l(&st.rejected_connections));
            kv(out, "expired_keys", &l(&storage.stats.expired_keys));
            kv(out, "evicted_keys", &l(&storage.evict.evicted_keys));
            kv(out, "keyspace_hits", &l(&st.keyspace_hits));
            kv(out, "keyspace_misses", &l(&st.keyspace_misses));
            kv(out, "pubsub_channels", &shared.pubsub.distinct(crate::state::pubsub::Kind::Channel));
            kv(out, "pubsub_patterns", &shared.pubsub.distinct(crate::state::pubsub::Kind::Pattern));
            kv(out, "pubsubshard_channels", &shared.pubsub.distinct(crate::state::pubsub::Kind::Shard));
            kv(out, "total_error_replies", &shared.telemetry.errors.total());
            kv(out, "strata_disk_reads_offloaded", &l(&st.blocking_reruns));
            kv(out, "strata_reclaimed_ranges", &l(&storage.stats.reclaimed_ranges));
        }
        "replication" => {
            out.push_str("# Replication\r\n");
            kv(out, "role", &"master");
            kv(out, "connected_slaves", &0);
            kv(out, "master_replid", &shared.run_id);
            kv(out, "master_repl_offset", &0);
        }
        "cpu" => {
            out.push_str("# CPU\r\n");
            let (user, sys) = cpu_times();
            kv(out, "used_cpu_sys", &format!("{sys:.6}"));
            kv(out, "used_cpu_user", &format!("{user:.6}"));
        }
        "rocksdb" => {
            out.push_str("# RocksDB\r\n");
            for cf in crate::storage::cf::ALL {
                let p = |prop: &str| storage.cf_property(cf, prop).unwrap_or(0);
                let _ = write!(
                    out,
                    "cf_{cf}:estimate_keys={},live_sst_bytes={},memtable_bytes={},pending_compaction_bytes={}\r\n",
                    p("rocksdb.estimate-num-keys"),
                    p("rocksdb.live-sst-files-size"),
                    p("rocksdb.cur-size-all-mem-tables"),
                    p("rocksdb.estimate-pending-compaction-bytes"),
                );
            }
        }
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
        _ => {}
    }
}

/// Redis's `bytesToHuman`: 1023B, 1.00K, 2.50M, 1.00G.
fn bytes_to_human(n: u64) -> String {
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

/// Resident set size from /proc (0 where unavailable).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

/// (user, system) CPU seconds of this process from /proc.
fn cpu_times() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return (0.0, 0.0) };
    let Some(after) = stat.rsplit(')').next() else { return (0.0, 0.0) };
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (tick(11), tick(12))
}
