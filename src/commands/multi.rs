//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH; and `run_atomic`, which EXEC and scripts
//! share: run commands so that all their writes are one RocksDB write, seen by nobody else
//! before it lands, and by the commands themselves as they go (DESIGN.md §4).
//!
//! Commands queued by MULTI are checked (known command, arity, auth) as they arrive; one that
//! fails makes EXEC answer EXECABORT. EXEC locks the keys of every queued command and every
//! watched key, checks the watch, runs the commands with their writes gathered in one atomic
//! write, and commits it. A command touching a key it did not declare (SELECT then a key of
//! another database, a movable key not parsed) does not fail: the write takes that key's lock
//! at once if it is free; if it is busy, the run is dropped uncommitted and everything runs
//! again holding that lock too. A command that
//! needs the disk on the network thread makes EXEC run again, from the start, on a blocking
//! thread. No lock is server-wide: clients working on other keys are never stalled.

use super::introspection::command_keys;
use super::{call, lookup, resolve, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::state::{notify, MultiState, WatchState};
use crate::storage::batch::{self, AtomicOutcome};
use crate::storage::{encoding, tier};
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::sync::atomic::Ordering;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("multi", 1, flags!(NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY), 0, 0, 0, acl!(FAST, TRANSACTION), multi,
        "transactions", "1.2.0", "Starts a transaction.", "O(1)"),
    cmd!("exec", 1, flags!(NOSCRIPT, LOADING, STALE, SKIP_SLOWLOG), 0, 0, 0, acl!(SLOW, TRANSACTION), exec,
        "transactions", "1.2.0", "Executes all commands in a transaction.", "Depends on commands in the transaction"),
    cmd!("discard", 1, flags!(NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY), 0, 0, 0, acl!(FAST, TRANSACTION), discard,
        "transactions", "2.0.0", "Discards a transaction.", "O(N), when N is the number of queued commands"),
    cmd!("watch", -2, flags!(NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY), 1, -1, 1, acl!(FAST, TRANSACTION), watch,
        "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction.", "O(1) for every key."),
    cmd!("unwatch", 1, flags!(NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY), 0, 0, 0, acl!(FAST, TRANSACTION), unwatch,
        "transactions", "2.2.0", "Forgets about watched keys of a transaction.", "O(1)"),
];

/// Commands that run at once even while a transaction is being queued.
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// Commands a transaction can't run inside its atomic write: FLUSHALL, FLUSHDB and SWAPDB take
/// the database map exclusively; FUNCTION changes the library registry at once, which a run
/// dropped for a retry could not undo.
fn runs_alone(name: &str) -> bool {
    matches!(
        name,
        "flushall" | "flushdb" | "swapdb" | "function|load" | "function|delete" | "function|flush" | "function|restore"
    )
}

fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(MultiState::default());
    ctx.session.sync_multi();
    Ok(Reply::Ok)
}

fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    if ctx.session.multi.is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    ctx.session.end_multi();
    Ok(Reply::Ok)
}

fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if ctx.session.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let shared = ctx.shared;
    let storage = &shared.storage;
    let now = storage.clock.now_ms();
    let pdb = storage.dbs().physical(ctx.session.db);
    let id = ctx.session.id();
    let state = ctx.session.watch.get_or_insert_with(|| WatchState::new(storage.clone(), id));
    for key in &args[1..] {
        // Registered before the key is read: a write landing in between flags the watch.
        let mk = encoding::meta_key(pdb, key);
        state.add(mk.clone());
        // A key alive now with an expiry breaks the watch when that time passes (Redis 7's
        // `isWatchedKeyExpired`); one already expired does not, nor does its deletion.
        match storage.get_record(pdb, key)? {
            Some(r) if r.alive(now) => state.set_expiry(&mk, r.header.expire_at_ms),
            Some(_) => state.mark_expired(&mk),
            None => {}
        }
    }
    Ok(Reply::Ok)
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    ctx.session.watch = None;
    Ok(Reply::Ok)
}

fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let Some(multi) = ctx.session.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    ctx.session.sync_multi();
    if multi.aborted {
        ctx.session.watch = None;
        return Err(CmdError::Raw("EXECABORT Transaction discarded because of previous errors.".into()));
    }
    let mut cmds: Vec<(&'static CommandSpec, &[Bytes])> = Vec::with_capacity(multi.queued.len());
    for args in &multi.queued {
        // Checked when queued; a lookup can't fail now.
        let Some(spec) = lookup(&args[0]).and_then(|s| resolve(s, args).ok()) else {
            return Err(CmdError::Internal);
        };
        cmds.push((spec, args.as_slice()));
    }
    // EXEC unwatches before running anything (a queued UNWATCH then changes nothing), and every
    // run, a rerun too, checks the watch taken here.
    let watch = ctx.session.watch.take();
    let exclusive = cmds.iter().any(|(s, _)| runs_alone(s.name));
    let result =
        if exclusive { exec_exclusive(ctx, &cmds, watch.as_ref()) } else { exec_atomic(ctx, &cmds, watch.as_ref()) };
    if matches!(result, Err(CmdError::WouldBlock)) {
        // Runs again from the start on a blocking thread: keep the transaction and its watch.
        ctx.session.multi = Some(multi);
        ctx.session.watch = watch;
        ctx.session.sync_multi();
    }
    result
}

/// The usual EXEC: one atomic write holding the keys of every command and every watched key.
fn exec_atomic(
    ctx: &mut Ctx<'_>,
    cmds: &[(&'static CommandSpec, &[Bytes])],
    watch: Option<&WatchState>,
) -> CmdResult<Reply> {
    let storage = &ctx.shared.storage;
    let stripes = {
        let pdb = storage.dbs().physical(ctx.session.db);
        let mut stripes: Vec<usize> =
            cmds.iter().flat_map(|(spec, args)| command_keys(spec, args)).map(|k| storage.stripe(pdb, k)).collect();
        if let Some(w) = watch {
            stripes.extend(
                w.keys.iter().filter_map(|(mk, _)| encoding::decode_meta_key(mk)).map(|(p, k)| storage.stripe(p, k)),
            );
        }
        stripes
    };
    run_atomic(ctx, stripes, |ctx| run_all(ctx, cmds, watch))
}

/// EXEC of a transaction with a command that `runs_alone`: each command commits on its own, on
/// a blocking thread (rare enough).
fn exec_exclusive(
    ctx: &mut Ctx<'_>,
    cmds: &[(&'static CommandSpec, &[Bytes])],
    watch: Option<&WatchState>,
) -> CmdResult<Reply> {
    if tier::is_cache_only() {
        return Err(CmdError::WouldBlock);
    }
    run_all(ctx, cmds, watch)
}

/// The body of EXEC: nil if the watch broke, else every queued command's reply.
fn run_all(
    ctx: &mut Ctx<'_>,
    cmds: &[(&'static CommandSpec, &[Bytes])],
    watch: Option<&WatchState>,
) -> CmdResult<Reply> {
    if watch.is_some_and(|w| w.broken(ctx.shared.storage.clock.now_ms())) {
        return Ok(Reply::NullArray);
    }
    let mut replies = Vec::with_capacity(cmds.len());
    for (spec, args) in cmds {
        replies.push(run_queued(ctx, spec, args)?);
    }
    Ok(Reply::Array(replies))
}

/// Runs one queued command inside EXEC: its reply (errors included, as Redis), or WouldBlock
/// when the whole transaction must run again on a blocking thread.
fn run_queued(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, args: &[Bytes]) -> CmdResult<Reply> {
    ctx.shared.stats.total_commands_processed.fetch_add(1, Ordering::Relaxed);
    match call(ctx, spec, args) {
        Ok(r) => Ok(r),
        // Runs again on a blocking thread / a killed script drops the whole transaction.
        Err(e @ (CmdError::WouldBlock | CmdError::ScriptKilled(_))) => Err(e),
        // Blocking commands don't block inside a transaction: they time out at once.
        Err(CmdError::Blocked(on)) => Ok(if on.null_array { Reply::NullArray } else { Reply::Null }),
        // (Counted in errorstats by `call`.)
        Err(e) => Ok(Reply::Error(e.to_string())),
    }
}

/// Runs `body` so that all the writes of the commands it runs are one atomic RocksDB write
/// (MULTI/EXEC, scripts), holding the lock `stripes` (see `Storage::stripe`) meanwhile. Inside
/// an atomic write already open (a script in EXEC), `body` simply joins it.
///
/// `body` may run more than once: when its commands touched keys whose locks it did not hold
/// and could not take at once (busy), nothing is written and it runs again holding them too;
/// the session's database is restored first. An error from `body` (`WouldBlock`: a read that needs the disk on the network thread;
/// a killed script) is passed up with nothing written.
pub(crate) fn run_atomic<T>(
    ctx: &mut Ctx<'_>,
    mut stripes: Vec<usize>,
    mut body: impl FnMut(&mut Ctx<'_>) -> CmdResult<T>,
) -> CmdResult<T> {
    if batch::atomic_is_open() {
        return body(ctx);
    }
    let shared = ctx.shared;
    let storage = &shared.storage;
    let start_db = ctx.session.db;
    loop {
        let write = storage.begin_atomic(storage.dbs(), &mut stripes)?;
        // PUBLISH and keyspace notifications go out only if the run is written.
        notify::defer_begin();
        let r = body(ctx);
        if r.is_err() {
            drop(write);
            notify::defer_discard();
            ctx.session.set_db(start_db);
            return r;
        }
        match write.commit() {
            Ok(AtomicOutcome::Committed) => {
                notify::defer_flush(shared);
                return r;
            }
            Ok(AtomicOutcome::NeedLocks(more)) => {
                notify::defer_discard();
                stripes.extend(more);
                ctx.session.set_db(start_db);
            }
            Err(e) => {
                notify::defer_discard();
                return Err(e.into());
            }
        }
    }
}
