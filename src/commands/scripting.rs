//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO, FUNCTION.
//!
//! A script runs with all its writes in one atomic write (`multi::run_atomic`): it locks the
//! keys it declares; a key it touches without declaring it is locked on a second run (nothing
//! of the first is written), so scripts that build key names (BullMQ) work without a server-wide
//! lock. Each thread has its own Lua VM (`scripting::Engine`); the script cache and the
//! libraries are shared (`state::scripts`).
//!
//! On the network thread a script may run for `NETWORK_BUDGET`; a longer one (or one that needs
//! the disk) stops, writes nothing, and runs again on a blocking thread, so a slow script never
//! stalls other clients. After `busy-reply-threshold` other clients get -BUSY (as Redis, whose
//! whole server waits) and SCRIPT KILL / FUNCTION KILL may stop it: its writes are then
//! discarded, so unlike Redis even a script that wrote can be killed.

use super::introspection::{container, help_reply};
use super::multi::run_atomic;
use super::parse::is;
use super::{lookup, resolve, CommandSpec, Ctx, Flags};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::scripting::{sha1_hex, Engine, Host};
use crate::state::scripts::{Lib, Running};
use crate::state::Shared;
use crate::storage::tier;
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a script may run on the network thread before it moves to a blocking thread.
const NETWORK_BUDGET: Duration = Duration::from_millis(20);

const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";
const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
const SLOW_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const SLOW_FUNCTION: &str = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("eval", -3, flags!(NOSCRIPT, SKIP_MONITOR, MAY_REPLICATE, MOVABLEKEYS, STALE), 0, 0, 0,
        acl!(SLOW, SCRIPTING), eval, "scripting", "2.6.0", "Executes a server-side Lua script.",
        "Depends on the script that is executed."),
    cmd!("evalsha", -3, flags!(NOSCRIPT, SKIP_MONITOR, MAY_REPLICATE, MOVABLEKEYS, STALE), 0, 0, 0,
        acl!(SLOW, SCRIPTING), evalsha, "scripting", "2.6.0", "Executes a server-side Lua script by SHA1 digest.",
        "Depends on the script that is executed."),
    cmd!("eval_ro", -3, flags!(NOSCRIPT, SKIP_MONITOR, MOVABLEKEYS, STALE, READONLY), 0, 0, 0,
        acl!(SLOW, SCRIPTING), eval_ro, "scripting", "7.0.0", "Executes a read-only server-side Lua script.",
        "Depends on the script that is executed."),
    cmd!("evalsha_ro", -3, flags!(NOSCRIPT, SKIP_MONITOR, MOVABLEKEYS, STALE, READONLY), 0, 0, 0,
        acl!(SLOW, SCRIPTING), evalsha_ro, "scripting", "7.0.0",
        "Executes a read-only server-side Lua script by SHA1 digest.", "Depends on the script that is executed."),
    cmd!("fcall", -3, flags!(NOSCRIPT, SKIP_MONITOR, MAY_REPLICATE, MOVABLEKEYS, STALE), 0, 0, 0,
        acl!(SLOW, SCRIPTING), fcall, "scripting", "7.0.0", "Invokes a function.",
        "Depends on the function that is executed."),
    cmd!("fcall_ro", -3, flags!(NOSCRIPT, SKIP_MONITOR, MOVABLEKEYS, STALE, READONLY), 0, 0, 0,
        acl!(SLOW, SCRIPTING), fcall_ro, "scripting", "7.0.0", "Invokes a read-only function.",
        "Depends on the function that is executed."),
    CommandSpec {
        subcommands: SCRIPT_SUBCOMMANDS,
        ..cmd!("script", -2, flags!(), 0, 0, 0, acl!(SLOW), container, "scripting", "2.6.0",
            "A container for Lua scripts management commands.", "Depends on subcommand.")
    },
    CommandSpec {
        subcommands: FUNCTION_SUBCOMMANDS,
        ..cmd!("function", -2, flags!(), 0, 0, 0, acl!(SLOW), container, "scripting", "7.0.0",
            "A container for function commands.", "Depends on subcommand.")
    },
];

#[rustfmt::skip]
static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("script|load", 3, flags!(NOSCRIPT, STALE), 0, 0, 0, acl!(SLOW, SCRIPTING), script_load,
        "scripting", "2.6.0", "Loads a server-side Lua script to the script cache.", "O(N) with N being the length in bytes of the script body."),
    cmd!("script|exists", -3, flags!(NOSCRIPT), 0, 0, 0, acl!(SLOW, SCRIPTING), script_exists,
        "scripting", "2.6.0", "Determines whether server-side Lua scripts exist in the script cache.", "O(N) with N being the number of scripts to check."),
    cmd!("script|flush", -2, flags!(NOSCRIPT), 0, 0, 0, acl!(SLOW, SCRIPTING), script_flush,
        "scripting", "2.6.0", "Removes all server-side Lua scripts from the script cache.", "O(N) with N being the number of scripts in cache"),
    cmd!("script|kill", 2, flags!(NOSCRIPT, ALLOW_BUSY), 0, 0, 0, acl!(SLOW, SCRIPTING), script_kill,
        "scripting", "2.6.0", "Terminates a server-side Lua script during execution.", "O(1)"),
    cmd!("script|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, SCRIPTING), script_help,
        "scripting", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

#[rustfmt::skip]
static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("function|load", -3, flags!(WRITE, DENYOOM, NOSCRIPT), 0, 0, 0, acl!(WRITE, SLOW, SCRIPTING), function_load,
        "scripting", "7.0.0", "Creates a library.", "O(1) (considering compilation time is redundant)"),
    cmd!("function|delete", 3, flags!(WRITE, NOSCRIPT), 0, 0, 0, acl!(WRITE, SLOW, SCRIPTING), function_delete,
        "scripting", "7.0.0", "Deletes a library and its functions.", "O(1)"),
    cmd!("function|flush", -2, flags!(WRITE, NOSCRIPT), 0, 0, 0, acl!(WRITE, SLOW, SCRIPTING), function_flush,
        "scripting", "7.0.0", "Deletes all libraries and functions.", "O(N) where N is the number of functions deleted"),
    cmd!("function|list", -2, flags!(NOSCRIPT), 0, 0, 0, acl!(SLOW, SCRIPTING), function_list,
        "scripting", "7.0.0", "Returns information about all libraries.", "O(N) where N is the number of functions"),
    cmd!("function|dump", 2, flags!(NOSCRIPT), 0, 0, 0, acl!(SLOW, SCRIPTING), function_dump,
        "scripting", "7.0.0", "Dumps all libraries into a serialized binary payload.", "O(N) where N is the number of functions"),
    cmd!("function|restore", -3, flags!(WRITE, DENYOOM, NOSCRIPT), 0, 0, 0, acl!(WRITE, SLOW, SCRIPTING), function_restore,
        "scripting", "7.0.0", "Restores all libraries from a payload.", "O(N) where N is the number of functions on the payload"),
    cmd!("function|stats", 2, flags!(NOSCRIPT, ALLOW_BUSY), 0, 0, 0, acl!(SLOW, SCRIPTING), function_stats,
        "scripting", "7.0.0", "Returns information about a function during execution.", "O(1)"),
    cmd!("function|kill", 2, flags!(NOSCRIPT, ALLOW_BUSY), 0, 0, 0, acl!(SLOW, SCRIPTING), function_kill,
        "scripting", "7.0.0", "Terminates a function during execution.", "O(1)"),
    cmd!("function|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, SCRIPTING), function_help,
        "scripting", "7.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

// ---- The per-thread Lua VM -------------------------------------------------------------------

struct Vm {
    generation: u64,
    engine: Engine,
}

thread_local! {
    static VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's VM, started afresh when SCRIPT FLUSH or a FUNCTION change made
/// it stale.
fn with_vm<R>(shared: &Shared, f: impl FnOnce(&mut Vm) -> CmdResult<R>) -> CmdResult<R> {
    VM.with(|slot| {
        // Scripts can't run scripting commands (NOSCRIPT), so the VM is never borrowed twice.
        let mut slot = slot.try_borrow_mut().map_err(|_| CmdError::Internal)?;
        let generation = shared.scripts.generation.load(Ordering::Acquire);
        if slot.as_ref().is_none_or(|vm| vm.generation != generation) {
            let engine = Engine::new().map_err(|e| {
                tracing::error!(error = %e, "can't start a Lua VM");
                CmdError::Internal
            })?;
            *slot = Some(Vm { generation, engine });
        }
        match slot.as_mut() {
            Some(vm) => f(vm),
            None => Err(CmdError::Internal),
        }
    })
}

// ---- Running a script ------------------------------------------------------------------------

/// What to run.
enum Target<'a> {
    Eval { sha: &'a str, body: &'a [u8] },
    Function { library: &'a str, code: &'a Bytes, name: &'a str },
}

/// The server side of a running script: its `redis.call`s and its checks.
struct ScriptHost<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    read_only: bool,
    started: Instant,
    /// Running on the network thread: past `NETWORK_BUDGET`, stop and run on a blocking thread.
    on_network_thread: bool,
    kill: &'c AtomicBool,
    /// Why the run must be dropped without writing (WouldBlock: run again elsewhere).
    abort: Option<CmdError>,
    /// The last error `redis.call` returned (already counted in errorstats): a script ending
    /// with it is not counted again (Redis's `ignore_error_stats_update`).
    last_error: Option<String>,
}

impl Host for ScriptHost<'_, '_> {
    fn call(&mut self, args: Vec<Bytes>) -> Reply {
        if self.abort.is_some() {
            return Reply::error("ERR script interrupted");
        }
        match self.call_checked(&args) {
            Ok(Reply::Error(e)) => {
                self.last_error = Some(e.clone());
                Reply::Error(e)
            }
            Ok(r) => r,
            Err(CmdError::WouldBlock) => {
                self.abort = Some(CmdError::WouldBlock);
                Reply::error("ERR script interrupted")
            }
            // A blocking command inside a script doesn't block: it times out at once.
            Err(CmdError::Blocked(on)) => {
                if on.null_array {
                    Reply::NullArray
                } else {
                    Reply::Null
                }
            }
            Err(e) => {
                let text = e.to_string();
                self.last_error = Some(text.clone());
                Reply::Error(text)
            }
        }
    }

    fn check(&mut self) -> Result<(), String> {
        if self.abort.is_some() {
            return Err("ERR script interrupted".into());
        }
        if self.on_network_thread && self.started.elapsed() > NETWORK_BUDGET {
            self.abort = Some(CmdError::WouldBlock);
            return Err("ERR script interrupted".into());
        }
        // SHUTDOWN (NOSAVE) stops a busy script as SCRIPT KILL does.
        if self.kill.load(Ordering::Acquire) || *self.ctx.shared.shutdown.borrow() {
            self.abort = Some(CmdError::ScriptKilled(KILLED.into()));
            return Err(KILLED.into());
        }
        Ok(())
    }

    fn log(&mut self, level: u8, msg: &str) {
        match level {
            0 => tracing::debug!(target: "strata::script", "{msg}"),
            1 | 2 => tracing::info!(target: "strata::script", "{msg}"),
            _ => tracing::warn!(target: "strata::script", "{msg}"),
        }
    }

    fn acl_check_cmd(&mut self, args: Vec<Bytes>) -> Result<bool, String> {
        let invalid = || "ERR Invalid command passed to redis.acl_check_cmd()".to_string();
        let spec = args.first().and_then(|n| lookup(n)).ok_or_else(invalid)?;
        let spec = resolve(spec, &args).map_err(|_| invalid())?;
        if !spec.arity_ok(args.len()) {
            return Err("ERR Invalid number of arguments passed to redis.acl_check_cmd()".into());
        }
        let user = super::acl::current_user(self.ctx);
        Ok(user.unrestricted() || user.rules().check(spec, &args).is_ok())
    }
}

impl ScriptHost<'_, '_> {
    /// Redis's `scriptCall` checks, then the command.
    fn call_checked(&mut self, args: &[Bytes]) -> CmdResult<Reply> {
        let spec = match self.refusal(args) {
            Ok(spec) => spec,
            Err(e) => {
                // Counted here: the command never reaches `call`.
                self.ctx.shared.telemetry.command_error(&e.to_string(), true);
                return Err(e);
            }
        };
        self.ctx.shared.stats.total_commands_processed.fetch_add(1, Ordering::Relaxed);
        super::call_from_script(self.ctx, spec, args)
    }
}

impl ScriptHost<'_, '_> {
    /// The command `args` names, or why a script may not run it.
    fn refusal(&self, args: &[Bytes]) -> CmdResult<&'static CommandSpec> {
        let Some(spec) = args.first().and_then(|name| lookup(name)) else {
            return Err(CmdError::err("Unknown Redis command called from script"));
        };
        let spec = resolve(spec, args)?;
        if !spec.arity_ok(args.len()) {
            return Err(CmdError::err("Wrong number of args calling Redis command from script"));
        }
        // FLUSHALL, FLUSHDB and SWAPDB need the database map to themselves, which a script's
        // atomic write holds shared: refused rather than deadlocked (Redis allows them).
        if spec.flags.contains(Flags::NOSCRIPT) || matches!(spec.name, "flushall" | "flushdb" | "swapdb") {
            return Err(CmdError::err("This Redis command is not allowed from script"));
        }
        if self.read_only && spec.flags.contains(Flags::WRITE) {
            return Err(CmdError::err("Write commands are not allowed from read-only scripts."));
        }
        super::maxmemory::check_script_call(spec)?;
        Ok(spec)
    }
}

/// Runs a script or function atomically (see the module comment) and returns its reply.
fn run(
    ctx: &mut Ctx<'_>,
    target: Target<'_>,
    keys: &[Bytes],
    argv: &[Bytes],
    read_only: bool,
    command: &[Bytes],
) -> CmdResult<Reply> {
    let shared = ctx.shared;
    let storage = &shared.storage;
    let stripes: Vec<usize> = {
        let pdb = storage.dbs().physical(ctx.session.db);
        keys.iter().map(|k| storage.stripe(pdb, k)).collect()
    };
    let kill = Arc::new(AtomicBool::new(false));
    // Only FUNCTION STATS reads the name and command, and only of functions: an EVAL copies
    // neither.
    let (function, name, command) = match &target {
        Target::Eval { .. } => (false, String::new(), Vec::new()),
        Target::Function { name, .. } => (true, name.to_string(), command.to_vec()),
    };
    let started = Instant::now();
    let _running = shared.scripts.start(Running {
        client: ctx.session.id(),
        started,
        kill: kill.clone(),
        function,
        name,
        command,
    });
    let on_network_thread = tier::is_cache_only();
    // A script's SELECT doesn't outlive it (Redis 7).
    let db = ctx.session.db;
    let result = run_atomic(ctx, stripes, |ctx| {
        // (A run dropped and run again must not leave its mark.)
        crate::telemetry::errorstats::take_already_counted();
        let mut host =
            ScriptHost { ctx, read_only, started, on_network_thread, kill: &kill, abort: None, last_error: None };
        let reply = with_vm(shared, |vm| match &target {
            Target::Eval { sha, body } => Ok(vm.engine.eval(sha, body, keys, argv, &mut host)),
            Target::Function { library, code, name } => {
                // By name and code: a library replaced meanwhile is loaded again.
                if !vm.engine.has_library(library, code) {
                    vm.engine.unload_library(library);
                    vm.engine.load_library(code).map_err(CmdError::Raw)?;
                }
                Ok(vm.engine.fcall(library, name, keys, argv, &mut host))
            }
        })?;
        if let (Reply::Error(e), Some(counted)) = (&reply, &host.last_error) {
            if e.starts_with(counted.as_str()) {
                crate::telemetry::errorstats::mark_already_counted();
            }
        }
        match host.abort.take() {
            // Killed: the client gets the script's error, and nothing is written.
            Some(CmdError::ScriptKilled(_)) => Err(CmdError::ScriptKilled(match reply {
                Reply::Error(e) => e,
                _ => KILLED.into(),
            })),
            Some(e) => Err(e),
            None => Ok(reply),
        }
    });
    ctx.session.set_db(db);
    result
}

/// `numkeys key... arg...` after the script or function argument: (keys, args). `bad` is the
/// error for a count that is not an integer (EVAL and FCALL word it differently).
fn split_keys(args: &[Bytes], bad: fn() -> CmdError) -> CmdResult<(&[Bytes], &[Bytes])> {
    let n = crate::numeric::parse_i64_strict(&args[2]).ok_or_else(bad)?;
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let rest = &args[3..];
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > rest.len() {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    Ok(rest.split_at(n))
}

fn eval_generic(ctx: &mut Ctx<'_>, args: &[Bytes], by_sha: bool, read_only: bool) -> CmdResult<Reply> {
    // Fed to MONITOR before it runs, so that its script's commands show after it (Redis).
    ctx.shared.telemetry.monitor_before(&ctx.session.handle, ctx.session.db, args);
    let (keys, argv) = split_keys(args, || CmdError::NotInteger)?;
    let (sha, body) = if by_sha {
        let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        let body = ctx.shared.scripts.bodies.read().get(&sha).cloned();
        match body {
            Some(b) => (sha, b),
            None => return Err(CmdError::Raw(NOSCRIPT.into())),
        }
    } else {
        let sha = sha1_hex(&args[1]);
        ctx.shared.scripts.bodies.write().entry(sha.clone()).or_insert_with(|| args[1].clone());
        (sha, args[1].clone())
    };
    // `#!lua flags=no-writes` makes the script read-only.
    let shebang = crate::scripting::parse_eval_shebang(&body).map_err(CmdError::Raw)?;
    let read_only = read_only || shebang.flags.iter().any(|f| f == "no-writes");
    super::maxmemory::check_script_start(shebang.present.then_some(shebang.flags.as_slice()))?;
    run(ctx, Target::Eval { sha: &sha, body: &body }, keys, argv, read_only, args)
}

fn eval(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    eval_generic(ctx, args, true, true)
}

fn fcall_generic(ctx: &mut Ctx<'_>, args: &[Bytes], ro_command: bool) -> CmdResult<Reply> {
    ctx.shared.telemetry.monitor_before(&ctx.session.handle, ctx.session.db, args);
    let (keys, argv) = split_keys(args, || CmdError::err("Bad number of keys provided"))?;
    // Function names are case-insensitive.
    let name = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let (library, code, no_writes) = {
        let functions = ctx.shared.scripts.functions.read();
        let found = functions.index.get(&name).and_then(|lib| functions.libs.get(lib).map(|l| (lib, l)));
        let Some((lib_name, lib)) = found else {
            return Err(CmdError::err("Function not found"));
        };
        let flags = lib.info.functions.iter().find(|f| f.name.eq_ignore_ascii_case(&name)).map(|f| f.flags.clone());
        let no_writes = flags.as_ref().is_some_and(|fl| fl.iter().any(|f| f == "no-writes"));
        super::maxmemory::check_script_start(Some(flags.as_deref().unwrap_or_default()))?;
        (lib_name.clone(), lib.code.clone(), no_writes)
    };
    if ro_command && !no_writes {
        return Err(CmdError::err("Can not execute a script with write flag using *_ro command."));
    }
    let function = {
        let functions = ctx.shared.scripts.functions.read();
        functions
            .libs
            .get(&library)
            .and_then(|l| l.info.functions.iter().find(|f| f.name.eq_ignore_ascii_case(&name)).map(|f| f.name.clone()))
    };
    let Some(function) = function else { return Err(CmdError::err("Function not found")) };
    run(ctx, Target::Function { library: &library, code: &code, name: &function }, keys, argv, no_writes, args)
}

fn fcall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    fcall_generic(ctx, args, true)
}

fn threshold(ctx: &Ctx<'_>) -> Duration {
    Duration::from_millis(ctx.shared.config.read().busy_reply_threshold)
}

/// The -BUSY error for a command of client `client` while another client's script runs past
/// `busy-reply-threshold` (None when none does, or the command may run anyway).
pub fn busy_error(shared: &Shared, client: u64, spec: &CommandSpec) -> Option<CmdError> {
    if !shared.scripts.any_running() || spec.flags.contains(Flags::ALLOW_BUSY) {
        return None;
    }
    let threshold = Duration::from_millis(shared.config.read().busy_reply_threshold);
    let function = shared.scripts.busy(client, threshold)?;
    Some(CmdError::Raw(if function { SLOW_FUNCTION } else { SLOW_EVAL }.into()))
}

// ---- SCRIPT ----------------------------------------------------------------------------------

fn script_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let body = &args[2];
    let sha = sha1_hex(body);
    // Compile it now, as Redis does, so a syntax error is reported here.
    with_vm(ctx.shared, |vm| vm.engine.compile(&sha, body).map_err(CmdError::Raw))?;
    ctx.shared.scripts.bodies.write().entry(sha.clone()).or_insert_with(|| body.clone());
    Ok(Reply::Bulk(Bytes::from(sha)))
}

fn script_exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let bodies = ctx.shared.scripts.bodies.read();
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|s| Reply::Int(i64::from(bodies.contains_key(&String::from_utf8_lossy(s).to_ascii_lowercase()))))
            .collect(),
    ))
}

/// The optional ASYNC|SYNC of SCRIPT FLUSH and FUNCTION FLUSH.
fn flush_mode(args: &[Bytes]) -> CmdResult<()> {
    match args.get(2) {
        None => Ok(()),
        Some(a) if args.len() == 3 && (is(a, "async") || is(a, "sync")) => Ok(()),
        Some(_) => Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
}

fn script_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    flush_mode(args)?;
    ctx.shared.scripts.bodies.write().clear();
    ctx.shared.scripts.bump();
    Ok(Reply::Ok)
}

fn kill(ctx: &mut Ctx<'_>, function: bool) -> CmdResult<Reply> {
    match ctx.shared.scripts.kill(function, threshold(ctx)) {
        Ok(()) => Ok(Reply::Ok),
        Err(false) => Err(CmdError::Raw("NOTBUSY No scripts in execution right now.".into())),
        // Only the other kind is busy: Redis answers with that kind's BUSY error.
        Err(true) => Err(CmdError::Raw(if function { SLOW_EVAL } else { SLOW_FUNCTION }.into())),
    }
}

fn script_kill(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    kill(ctx, false)
}

fn script_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Print this help.",
    ]))
}

// ---- FUNCTION --------------------------------------------------------------------------------

/// Loads libraries at start-up from storage. A library that no longer loads is logged and
/// skipped (its code stays stored).
pub fn load_stored_functions(shared: &Shared) {
    let stored = match shared.storage.load_functions() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "can't read the stored function libraries");
            return;
        }
    };
    let Ok(mut engine) = Engine::new() else { return };
    let mut functions = shared.scripts.functions.write();
    for (name, code) in stored {
        match engine.load_library(&code) {
            Ok(info) => functions.insert(Lib { code, info }),
            Err(e) => tracing::error!(library = name, error = e, "stored function library does not load"),
        }
    }
    drop(functions);
    shared.scripts.bump();
}

/// Compiles library code in a scratch VM (which checks it; the thread's VM must not keep a
/// library that may yet be refused), returning the library.
fn compile_library(code: &Bytes) -> CmdResult<Lib> {
    let mut engine = Engine::new().map_err(|_| CmdError::Internal)?;
    let info = engine.load_library(code).map_err(CmdError::Raw)?;
    Ok(Lib { code: code.clone(), info })
}

fn function_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (replace, code) = match args.len() {
        3 => (false, &args[2]),
        4 if is(&args[2], "replace") => (true, &args[3]),
        4 => return Err(CmdError::err(format!("Unknown option given: {}", String::from_utf8_lossy(&args[2])))),
        _ => return Err(CmdError::WrongArity("function|load".into())),
    };
    let lib = compile_library(code)?;
    let name = lib.info.name.clone();
    let mut functions = ctx.shared.scripts.functions.write();
    if functions.libs.contains_key(&name) && !replace {
        return Err(CmdError::err(format!("Library '{name}' already exists")));
    }
    for f in &lib.info.functions {
        if functions.index.get(&f.name.to_ascii_lowercase()).is_some_and(|owner| *owner != name) {
            return Err(CmdError::err(format!("Function {} already exists", f.name)));
        }
    }
    ctx.shared.storage.store_functions(&[], &[(name.clone(), code.clone())])?;
    functions.remove(&name);
    functions.insert(lib);
    drop(functions);
    ctx.shared.scripts.bump();
    Ok(Reply::Bulk(Bytes::from(name)))
}

fn function_delete(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    let mut functions = ctx.shared.scripts.functions.write();
    if !functions.libs.contains_key(&name) {
        return Err(CmdError::err("Library not found"));
    }
    ctx.shared.storage.store_functions(std::slice::from_ref(&name), &[])?;
    functions.remove(&name);
    drop(functions);
    ctx.shared.scripts.bump();
    Ok(Reply::Ok)
}

fn function_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    match args.get(2) {
        None => {}
        Some(a) if args.len() == 3 && (is(a, "async") || is(a, "sync")) => {}
        Some(_) => return Err(CmdError::err("FUNCTION FLUSH only supports SYNC|ASYNC option")),
    }
    let mut functions = ctx.shared.scripts.functions.write();
    let names: Vec<String> = functions.libs.keys().cloned().collect();
    ctx.shared.storage.store_functions(&names, &[])?;
    *functions = Default::default();
    drop(functions);
    ctx.shared.scripts.bump();
    Ok(Reply::Ok)
}

fn function_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut pattern: Option<&Bytes> = None;
    let mut with_code = false;
    let mut i = 2;
    while i < args.len() {
        if is(&args[i], "withcode") && !with_code {
            with_code = true;
        } else if is(&args[i], "libraryname") && pattern.is_none() {
            pattern = Some(args.get(i + 1).ok_or_else(|| CmdError::err("library name argument was not given"))?);
            i += 1;
        } else {
            return Err(CmdError::err(format!("Unknown argument {}", String::from_utf8_lossy(&args[i]))));
        }
        i += 1;
    }
    let functions = ctx.shared.scripts.functions.read();
    let mut out = Vec::new();
    for (name, lib) in &functions.libs {
        if pattern.is_some_and(|p| !crate::glob::glob_match(p, name.as_bytes(), true)) {
            continue;
        }
        let fns = lib
            .info
            .functions
            .iter()
            .map(|f| {
                Reply::Map(vec![
                    (Reply::bulk("name"), Reply::Bulk(Bytes::from(f.name.clone()))),
                    (
                        Reply::bulk("description"),
                        f.description.as_ref().map_or(Reply::Null, |d| Reply::Bulk(Bytes::from(d.clone()))),
                    ),
                    (
                        Reply::bulk("flags"),
                        Reply::Set(f.flags.iter().map(|fl| Reply::SimpleOwned(fl.clone())).collect()),
                    ),
                ])
            })
            .collect();
        let mut entry = vec![
            (Reply::bulk("library_name"), Reply::Bulk(Bytes::from(name.clone()))),
            (Reply::bulk("engine"), Reply::Bulk(Bytes::from_static(b"LUA"))),
            (Reply::bulk("functions"), Reply::Array(fns)),
        ];
        if with_code {
            entry.push((Reply::bulk("library_code"), Reply::Bulk(lib.code.clone())));
        }
        out.push(Reply::Map(entry));
    }
    Ok(Reply::Array(out))
}

fn function_dump(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let functions = ctx.shared.scripts.functions.read();
    let codes: Vec<&[u8]> = functions.libs.values().map(|l| l.code.as_ref()).collect();
    Ok(Reply::Bulk(Bytes::from(rdb::dump_functions(&codes))))
}

fn function_restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(p) if args.len() == 4 && is(p, "append") => Policy::Append,
        Some(p) if args.len() == 4 && is(p, "replace") => Policy::Replace,
        Some(p) if args.len() == 4 && is(p, "flush") => Policy::Flush,
        Some(_) if args.len() > 4 => return Err(CmdError::WrongArity("function|restore".into())),
        Some(_) => {
            return Err(CmdError::err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."))
        }
    };
    let codes = rdb::parse_functions(&args[2]).map_err(CmdError::err)?;
    // (Redis words the checksum error "DUMP payload ...".)
    let mut libs = Vec::with_capacity(codes.len());
    for code in codes {
        libs.push(compile_library(&Bytes::from(code))?);
    }
    let mut seen_libs = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    for lib in &libs {
        if !seen_libs.insert(lib.info.name.as_str()) {
            return Err(CmdError::err(format!("Library {} already exists", lib.info.name)));
        }
        for f in &lib.info.functions {
            if !seen.insert(f.name.to_ascii_lowercase()) {
                return Err(CmdError::err(format!("Function {} already exists", f.name)));
            }
        }
    }
    let mut functions = ctx.shared.scripts.functions.write();
    let mut remove: Vec<String> = Vec::new();
    if policy == Policy::Flush {
        remove = functions.libs.keys().cloned().collect();
    } else {
        for lib in &libs {
            let exists = functions.libs.contains_key(&lib.info.name);
            if exists && policy == Policy::Append {
                return Err(CmdError::err(format!("Library {} already exists", lib.info.name)));
            }
            for f in &lib.info.functions {
                if functions.index.get(&f.name.to_ascii_lowercase()).is_some_and(|owner| *owner != lib.info.name) {
                    return Err(CmdError::err(format!("Function {} already exists", f.name)));
                }
            }
        }
    }
    let put: Vec<(String, Bytes)> = libs.iter().map(|l| (l.info.name.clone(), l.code.clone())).collect();
    ctx.shared.storage.store_functions(&remove, &put)?;
    if policy == Policy::Flush {
        *functions = Default::default();
    }
    for lib in libs {
        functions.remove(&lib.info.name);
        functions.insert(lib);
    }
    drop(functions);
    ctx.shared.scripts.bump();
    Ok(Reply::Ok)
}

fn function_stats(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let running = match ctx.shared.scripts.running_function() {
        None => Reply::Null,
        Some((name, command, took)) => Reply::Map(vec![
            (Reply::bulk("name"), Reply::Bulk(Bytes::from(name))),
            (Reply::bulk("command"), Reply::Array(command.into_iter().map(Reply::Bulk).collect())),
            (Reply::bulk("duration_ms"), Reply::Int(i64::try_from(took.as_millis()).unwrap_or(i64::MAX))),
        ]),
    };
    let functions = ctx.shared.scripts.functions.read();
    let lua = Reply::Map(vec![
        (Reply::bulk("libraries_count"), Reply::Int(functions.libs.len() as i64)),
        (Reply::bulk("functions_count"), Reply::Int(functions.function_count() as i64)),
    ]);
    Ok(Reply::Map(vec![
        (Reply::bulk("running_script"), running),
        (Reply::bulk("engines"), Reply::Map(vec![(Reply::bulk("LUA"), lua)])),
    ]))
}

fn function_kill(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    kill(ctx, true)
}

fn function_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Print this help.",
    ]))
}

/// FUNCTION DUMP / RESTORE payloads in Redis's format: RDB function records, then the RDB
/// version (2 bytes) and a CRC64 of everything before it (8 bytes), little-endian.
mod rdb {
    /// `RDB_OPCODE_FUNCTION2`: one library's code follows as an RDB string.
    const OPCODE_FUNCTION2: u8 = 245;
    /// Redis 7.0's RDB version.
    const RDB_VERSION: u16 = 10;
    /// The largest string a payload may decompress to (Redis's default proto-max-bulk-len).
    const MAX_DECOMPRESSED: usize = 512 * 1024 * 1024;

    pub fn dump_functions(codes: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for code in codes {
            out.push(OPCODE_FUNCTION2);
            put_len(&mut out, code.len() as u64);
            out.extend_from_slice(code);
        }
        out.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    pub fn parse_functions(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        const WRONG: &str = "DUMP payload version or checksum are wrong";
        if payload.len() < 10 {
            return Err(WRONG.into());
        }
        let (body, trailer) = payload.split_at(payload.len() - 10);
        let version = u16::from_le_bytes([trailer[0], trailer[1]]);
        let crc = u64::from_le_bytes(trailer[2..10].try_into().map_err(|_| WRONG.to_string())?);
        if version > RDB_VERSION || crc64(0, &payload[..payload.len() - 8]) != crc {
            return Err(WRONG.into());
        }
        let mut codes = Vec::new();
        let mut at = 0;
        while at < body.len() {
            if body[at] != OPCODE_FUNCTION2 {
                return Err("given type is not a function".into());
            }
            at += 1;
            let code = read_string(body, &mut at).ok_or(WRONG)?;
            codes.push(code);
        }
        Ok(codes)
    }

    fn put_len(out: &mut Vec<u8>, len: u64) {
        if len < 64 {
            out.push(len as u8);
        } else if len < 16384 {
            out.push(0x40 | (len >> 8) as u8);
            out.push(len as u8);
        } else if len <= u64::from(u32::MAX) {
            out.push(0x80);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        } else {
            out.push(0x81);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }

    /// An RDB length, or the encoding byte of a special string (`Err`).
    fn read_len(b: &[u8], at: &mut usize) -> Option<Result<u64, u8>> {
        let first = *b.get(*at)?;
        *at += 1;
        Some(match first >> 6 {
            0 => Ok(u64::from(first & 0x3f)),
            1 => {
                let second = *b.get(*at)?;
                *at += 1;
                Ok((u64::from(first & 0x3f) << 8) | u64::from(second))
            }
            2 if first == 0x80 => {
                let v = u32::from_be_bytes(b.get(*at..*at + 4)?.try_into().ok()?);
                *at += 4;
                Ok(u64::from(v))
            }
            2 if first == 0x81 => {
                let v = u64::from_be_bytes(b.get(*at..*at + 8)?.try_into().ok()?);
                *at += 8;
                Ok(v)
            }
            3 => Err(first & 0x3f),
            _ => return None,
        })
    }

    /// An RDB string: plain, integer-encoded or LZF-compressed (what Redis writes).
    fn read_string(b: &[u8], at: &mut usize) -> Option<Vec<u8>> {
        match read_len(b, at)? {
            Ok(len) => {
                let len = usize::try_from(len).ok()?;
                let s = b.get(*at..at.checked_add(len)?)?.to_vec();
                *at += len;
                Some(s)
            }
            Err(0) => {
                let v = *b.get(*at)? as i8;
                *at += 1;
                Some(v.to_string().into_bytes())
            }
            Err(1) => {
                let v = i16::from_le_bytes(b.get(*at..*at + 2)?.try_into().ok()?);
                *at += 2;
                Some(v.to_string().into_bytes())
            }
            Err(2) => {
                let v = i32::from_le_bytes(b.get(*at..*at + 4)?.try_into().ok()?);
                *at += 4;
                Some(v.to_string().into_bytes())
            }
            Err(3) => {
                let clen = usize::try_from(read_len(b, at)?.ok()?).ok()?;
                let len = usize::try_from(read_len(b, at)?.ok()?).ok()?;
                let src = b.get(*at..at.checked_add(clen)?)?;
                *at += clen;
                lzf_decompress(src, len)
            }
            Err(_) => None,
        }
    }

    /// LZF decompression (liblzf's format, as Redis compresses RDB strings); a library's code
    /// past 512 MB is refused.
    fn lzf_decompress(src: &[u8], len: usize) -> Option<Vec<u8>> {
        if len > MAX_DECOMPRESSED {
            return None;
        }
        crate::rdb::lzf::decompress(src, len)
    }

    /// Redis's CRC-64 (Jones polynomial, reflected, as `crc64` in src/crc64.c).
    pub fn crc64(crc: u64, data: &[u8]) -> u64 {
        crate::rdb::crc64::crc64(crc, data)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn crc64_matches_redis_check_value() {
            assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        }

        #[test]
        fn dump_round_trips() {
            let codes: Vec<&[u8]> =
                vec![b"#!lua name=a\nredis.register_function('f', function() return 1 end)", &[b'x'; 20000]];
            let payload = dump_functions(&codes);
            let back = parse_functions(&payload).unwrap();
            assert_eq!(back.len(), 2);
            assert_eq!(back[0], codes[0]);
            assert_eq!(back[1], codes[1]);
            let mut bad = payload.clone();
            bad[3] ^= 1;
            assert!(parse_functions(&bad).is_err());
        }

        #[test]
        fn lzf_literal_and_backref() {
            // Literal 'a', then a back reference of 8 bytes at distance 1.
            let src = [0u8, b'a', (6 << 5), 0];
            assert_eq!(lzf_decompress(&src, 9).as_deref(), Some(&b"aaaaaaaaa"[..]));
        }
    }
}
