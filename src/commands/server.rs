//! Server commands: CONFIG, INFO, TIME, SHUTDOWN, DEBUG, MONITOR, and the backups SAVE, BGSAVE
//! and LASTSAVE (a RocksDB checkpoint at `<dir>/checkpoint`, see `storage::backup`).

use super::introspection::{container, help_reply};
use super::parse::{int, is};
use super::{CommandSpec, Ctx};
use crate::config::AppendFsync;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::FsyncPolicy;
use crate::{acl, cmd, flags};
use bytes::Bytes;
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
    cmd!("info", -1, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, DANGEROUS), super::info::info,
        "server", "1.0.0", "Returns information and statistics about the server.", "O(1)"),
    cmd!("time", 1, flags!(LOADING, STALE, FAST), 0, 0, 0, acl!(FAST), time,
        "server", "2.6.0", "Returns the server time.", "O(1)"),
    cmd!("shutdown", -1, flags!(ADMIN, NOSCRIPT, LOADING, STALE, NO_MULTI, ALLOW_BUSY), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), shutdown,
        "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    cmd!("debug", -2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), debug,
        "server", "1.0.0", "A container for debugging commands.", "Depends on subcommand."),
    cmd!("save", 1, flags!(ADMIN, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), save,
        "server", "1.0.0", "Synchronously saves the database(s) to disk.", "O(N) where N is the total number of keys in all databases"),
    cmd!("bgsave", -1, flags!(ADMIN, NOSCRIPT, NO_ASYNC_LOADING), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), bgsave,
        "server", "1.0.0", "Asynchronously saves the database(s) to disk.", "O(1)"),
    cmd!("lastsave", 1, flags!(LOADING, STALE, FAST), 0, 0, 0, acl!(ADMIN, FAST, DANGEROUS), lastsave,
        "server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk.", "O(1)"),
    cmd!("monitor", 1, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), monitor,
        "server", "1.0.0", "Listen for all requests received by the server in real time", "O(1)"),
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
    for (name, value) in &pairs {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        tracing::info!(
            value = %crate::config::loggable(&name, &String::from_utf8_lossy(value)),
            directive = %name,
            client_addr = %ctx.session.handle.addr,
            "CONFIG SET"
        );
    }
    // Apply what takes effect at run time.
    let storage = &ctx.shared.storage;
    storage.set_fsync_policy(fsync_policy(cfg.appendfsync));
    storage.hz.store(u64::from(cfg.hz), Ordering::Relaxed);
    storage.expire_effort.store(u64::from(cfg.active_expire_effort), Ordering::Relaxed);
    storage.cache.set_capacity(cfg.hot_cache_size);
    apply_encoding_limits(&cfg, storage);
    apply_eviction(&cfg, storage);
    storage.saves.set_points(&cfg.save);
    ctx.shared.telemetry.configure(&cfg);
    ctx.shared.acl.configure(&cfg);
    // `requirepass` is the default user's password (set again even if unchanged, as Redis).
    if pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"requirepass")) {
        ctx.shared.acl.set_requirepass(&cfg.requirepass);
    }
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
    ctx.shared.storage.saves.reset_stats();
    Ok(Reply::Ok)
}

fn config_rewrite(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let Some(path) = ctx.shared.config_file.clone() else {
        return Err(CmdError::err("The server is running without a config file"));
    };
    let mut cfg = ctx.shared.config.read().clone();
    // Redis writes the users as `user` lines unless they live in an ACL file.
    cfg.users = if ctx.shared.acl.file.is_empty() {
        ctx.shared
            .acl
            .list()
            .into_iter()
            .map(|line| (String::new(), line.split(' ').skip(1).map(str::to_owned).collect()))
            .collect()
    } else {
        Vec::new()
    };
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

/// SAVE: a checkpoint now; the command waits for it (as Redis's SAVE blocks). Strata's
/// checkpoint hard-links the SST files, so this takes about one memtable flush.
fn save(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    ctx.shared.storage.save()?;
    Ok(Reply::Ok)
}

/// BGSAVE [SCHEDULE]: a checkpoint on a background thread. Strata has no other background
/// child (AOF rewrite) for SCHEDULE to wait for, so SCHEDULE starts one at once like BGSAVE,
/// and a save already running is an error either way, as in Redis. Inside EXEC Redis replies
/// "scheduled" (it starts the save after the transaction); the save starts here at once.
fn bgsave(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    match &args[1..] {
        [] => {}
        [a] if is(a, "SCHEDULE") => {}
        _ => return Err(CmdError::Syntax),
    }
    ctx.shared.storage.bgsave()?;
    if super::nested() {
        return Ok(Reply::Simple("Background saving scheduled"));
    }
    Ok(Reply::Simple("Background saving started"))
}

/// LASTSAVE: the Unix time of the last successful save (the start time before any).
fn lastsave(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.shared.storage.saves.last_save_time() as i64))
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

/// MONITOR: from now on the client is sent a line for every command the server runs (see
/// `telemetry::monitor`). A second MONITOR gets no reply, as in Redis.
fn monitor(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    if super::nested() {
        return Err(CmdError::err("MONITOR isn't allowed for DENY BLOCKING client"));
    }
    if !ctx.shared.telemetry.monitors.add(ctx.session.handle.clone()) {
        ctx.session.suppress_reply = true;
        return Ok(Reply::Ok);
    }
    ctx.session.monitor = true;
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
