//! `maxmemory` before each command, as Redis's `processCommand`: evict (storage's
//! `perform_evictions`), then refuse what may add data while the data set stays over the
//! limit with nothing left to evict (`-OOM`). Inside MULTI every command but EXEC, DISCARD,
//! QUIT and RESET is refused then (queuing needs memory too); EXEC is refused when it queued a
//! `denyoom` command. Scripts follow Redis 7.0: EVAL of a script with a shebang and FCALL of a
//! function are refused at once unless flagged `no-writes` or `allow-oom`; a script without a
//! shebang is refused only at its first `denyoom` call, and only if it wrote nothing before.
//!
//! Commands run by other commands (inside EXEC, from scripts) are not checked again: Redis
//! checks the outer command only.

use super::{lookup, resolve, CommandSpec, Ctx, Flags};
use crate::error::{CmdError, CmdResult};
use crate::storage::batch;
use crate::storage::evict::Outcome;
use std::cell::Cell;

thread_local! {
    /// Commands running on this thread (a command inside EXEC or a script is nested).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The running script started over the limit (Redis's `server.script_oom`).
    static SCRIPT_OOM: Cell<bool> = const { Cell::new(false) };
    /// The running script made a write.
    static SCRIPT_WROTE: Cell<bool> = const { Cell::new(false) };
    /// The running script declared `allow-oom` (its own: `SCRIPT_OOM` stays for the next
    /// script of the same EXEC).
    static SCRIPT_ALLOW_OOM: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a command's handler) as a nested level: commands it runs are not checked.
pub(super) fn nested<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    let _leave = Leave;
    f()
}

/// Evicts as needed before `spec` runs, and refuses it with `-OOM` if Redis would.
/// `WouldBlock` when evicting needs the disk (the command then runs again on a blocking thread).
pub(super) fn before_command(ctx: &Ctx<'_>, spec: &'static CommandSpec) -> CmdResult<()> {
    let storage = &ctx.shared.storage;
    if DEPTH.with(|d| d.get()) > 0 {
        return Ok(());
    }
    // What scripts started by this command see (Redis saves it for EXEC too, which may run
    // scripts).
    let script_caller =
        matches!(spec.name, "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" | "exec");
    if storage.evict.maxmemory() == 0 {
        if script_caller {
            SCRIPT_OOM.with(|c| c.set(false));
        }
        return Ok(());
    }
    let oom = if batch::pipeline_is_open() {
        // Commands sharing a pipeline write can't lock other keys: over the limit with keys to
        // evict, this one runs on its own after the pipeline commits, and evicts then.
        if !storage.over_maxmemory() {
            return Ok(());
        }
        if storage.can_evict() {
            return Err(CmdError::WouldBlock);
        }
        true
    } else {
        storage.perform_evictions()? == Outcome::Fail
    };
    if script_caller {
        SCRIPT_OOM.with(|c| c.set(oom));
    }
    if !oom {
        return Ok(());
    }
    let in_multi = ctx.session.multi.is_some();
    let reject = spec.flags.contains(Flags::DENYOOM)
        || (spec.name == "exec" && queued_denyoom(ctx))
        || (in_multi && !matches!(spec.name, "exec" | "discard" | "quit" | "reset"));
    if reject {
        Err(CmdError::Oom)
    } else {
        Ok(())
    }
}

/// Whether the transaction being queued holds a `denyoom` command.
fn queued_denyoom(ctx: &Ctx<'_>) -> bool {
    let Some(m) = ctx.session.multi.as_ref() else { return false };
    m.queued.iter().any(|args| {
        args.first()
            .and_then(|name| lookup(name))
            .and_then(|s| resolve(s, args).ok())
            .is_some_and(|s| s.flags.contains(Flags::DENYOOM))
    })
}

/// At the start of a script: `flags` its shebang or function declared (None: an EVAL
/// without shebang). A script with flags is refused over the limit unless it is `no-writes`
/// or `allow-oom`; an `allow-oom` one then calls anything.
pub(super) fn check_script_start(flags: Option<&[String]>) -> CmdResult<()> {
    SCRIPT_WROTE.with(|c| c.set(false));
    SCRIPT_ALLOW_OOM.with(|c| c.set(false));
    let Some(flags) = flags else { return Ok(()) };
    let has = |name: &str| flags.iter().any(|f| f == name);
    if SCRIPT_OOM.with(|c| c.get()) && !has("no-writes") && !has("allow-oom") {
        return Err(CmdError::Oom);
    }
    SCRIPT_ALLOW_OOM.with(|c| c.set(has("allow-oom")));
    Ok(())
}

/// A script's `redis.call` of `spec`: refused if the script started over the limit, has not
/// written yet and `spec` may add data (Redis's `scriptVerifyOOM`).
pub(super) fn check_script_call(spec: &CommandSpec) -> CmdResult<()> {
    if spec.flags.contains(Flags::DENYOOM)
        && SCRIPT_OOM.with(|c| c.get())
        && !SCRIPT_ALLOW_OOM.with(|c| c.get())
        && !SCRIPT_WROTE.with(|c| c.get())
    {
        return Err(CmdError::Oom);
    }
    if spec.flags.contains(Flags::WRITE) {
        SCRIPT_WROTE.with(|c| c.set(true));
    }
    Ok(())
}
