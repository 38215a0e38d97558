//! The command layer: one file per command family, each exporting its slice of the static
//! command table; this module joins them, looks commands up and checks arity and auth.
//!
//! A handler parses its arguments, calls the typed stores in `storage`, and shapes the reply.
//! It never touches RocksDB, sockets or the RESP codec.

pub mod acl;
pub mod bitmap;
pub mod connection;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod info;
pub mod introspection;
pub mod keyspace;
pub mod latency;
pub mod list;
mod maxmemory;
pub mod multi;
pub mod parse;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod stream;
pub mod string;
mod table;
pub mod zset;

pub use table::{Acl, CommandSpec, Flags, Handler};

use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::state::{Session, Shared};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a handler runs with: the server's shared state and this client's session.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub session: &'a mut Session,
}

impl Ctx<'_> {
    /// The physical id of the session's current database, under the shared database map.
    pub fn storage(&self) -> &crate::storage::Storage {
        &self.shared.storage
    }
}

/// Runs `f` with the storage and the physical database of the session's current one, holding
/// the database map for the whole command (SWAPDB and FLUSH* wait for it).
pub(crate) fn with_db<R>(
    ctx: &Ctx<'_>,
    f: impl FnOnce(&crate::storage::Storage, u8) -> crate::error::CmdResult<R>,
) -> crate::error::CmdResult<R> {
    let storage = &ctx.shared.storage;
    let dbs = storage.dbs();
    let pdb = dbs.physical(ctx.session.db);
    f(storage, pdb)
}

/// Every top-level command, in table order.
pub fn all() -> &'static [&'static CommandSpec] {
    static ALL: OnceLock<Vec<&'static CommandSpec>> = OnceLock::new();
    ALL.get_or_init(|| {
        let families: [&'static [CommandSpec]; 21] = [
            string::COMMANDS,
            bitmap::COMMANDS,
            hash::COMMANDS,
            list::COMMANDS,
            set::COMMANDS,
            zset::COMMANDS,
            sort::COMMANDS,
            stream::COMMANDS,
            keyspace::COMMANDS,
            dump::COMMANDS,
            connection::COMMANDS,
            server::COMMANDS,
            slowlog::COMMANDS,
            latency::COMMANDS,
            introspection::COMMANDS,
            multi::COMMANDS,
            scripting::COMMANDS,
            pubsub::COMMANDS,
            acl::COMMANDS,
            hll::COMMANDS,
            geo::COMMANDS,
        ];
        families.iter().flat_map(|f| f.iter()).collect()
    })
}

/// Every name of the table: commands and their subcommands (`client|list`).
pub fn names() -> impl Iterator<Item = &'static str> {
    all().iter().flat_map(|c| std::iter::once(c.name).chain(c.subcommands.iter().map(|s| s.name)))
}

fn index() -> &'static HashMap<&'static [u8], &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static [u8], &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| all().iter().map(|c| (c.name.as_bytes(), *c)).collect())
}

/// Looks a command up by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(&*lower).copied()
}

/// Resolves a container command's subcommand (`CONFIG GET`): the spec to run, or the error.
pub fn resolve(spec: &'static CommandSpec, args: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
    if spec.subcommands.is_empty() {
        return Ok(spec);
    }
    let Some(sub) = args.get(1) else {
        // COMMAND alone is valid; CONFIG, CLIENT and OBJECT alone are not.
        return if spec.arity_ok(1) { Ok(spec) } else { Err(CmdError::WrongArity(spec.name.to_string())) };
    };
    spec.subcommands.iter().find(|s| s.sub_name().as_bytes().eq_ignore_ascii_case(sub)).ok_or_else(|| {
        CmdError::err(format!(
            "unknown subcommand '{}'. Try {} HELP.",
            truncate_lossy(sub, 128),
            spec.name.to_ascii_uppercase()
        ))
    })
}

/// The reply for a command name not in the table, as Redis words it: the name cut at 128
/// bytes, then the arguments quoted, all of them together cut at 128 bytes.
pub fn unknown_command(args: &[Bytes]) -> CmdError {
    let mut quoted = String::new();
    for a in args.iter().skip(1) {
        if quoted.len() >= 128 {
            break;
        }
        let room = 128 - quoted.len();
        quoted.push('\'');
        quoted.push_str(&truncate_lossy(a, room));
        quoted.push_str("' ");
    }
    CmdError::Err(format!("unknown command '{}', with args beginning with: {quoted}", truncate_lossy(&args[0], 128)))
}

pub(crate) fn truncate_lossy(b: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(max)]);
    s.replace(['\r', '\n'], " ")
}

thread_local! {
    /// Depth of `call` on this thread: above 1, a command runs inside EXEC or a script.
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Set while a script's `redis.call` runs its command.
    static FROM_SCRIPT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Errors counted on this thread when the last command ended (Redis's `prev_err_count`).
    static LAST_ERRORS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Key lookups of the read commands run so far by the command at the top (added to the
    /// statistics when it ends; dropped when it reruns on a blocking thread).
    static PENDING_LOOKUPS: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// Whether the command running now was called by a script (`redis.call`).
pub(crate) fn from_script() -> bool {
    FROM_SCRIPT.with(|f| f.get())
}

/// Whether the command running now runs inside EXEC or a script.
pub(crate) fn nested() -> bool {
    DEPTH.with(|d| d.get() > 1)
}

/// How far a command got in `dispatch`, for its statistics.
enum Reached {
    /// Not resolved to a command of the table (unknown subcommand), or queued by MULTI.
    Nothing,
    /// Refused before running: arity, NOAUTH, OOM, ...
    Refused(&'static CommandSpec),
    /// Ran, its handler started at that instant (checks and eviction before it are not its
    /// time, as Redis times `c->cmd->proc` only).
    Ran(&'static CommandSpec, std::time::Instant),
}

/// Checks arity and authentication, then runs the handler, and reports the command to the
/// telemetry (statistics, slow log, latency monitor, MONITOR). Storage errors that mean "retry
/// on a blocking thread" are passed up as `CmdError::WouldBlock` (not reported: the rerun is).
///
/// Inside MULTI, a command that passes these checks is queued (`+QUEUED`) instead, and one that
/// fails them makes the transaction abort at EXEC.
pub fn call(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, args: &[Bytes]) -> CmdResult<Reply> {
    use crate::telemetry::{commandstats::Outcome, errorstats, CommandEvent};
    let depth = DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get()
    });
    if depth == 1 {
        // Errors counted outside commands (protocol, unknown command) are not this one's.
        LAST_ERRORS.set(errorstats::recorded_here());
    }
    let mut reached = Reached::Nothing;
    let r = dispatch(ctx, spec, args, &mut reached);
    DEPTH.with(|d| d.set(depth - 1));
    let telemetry = &ctx.shared.telemetry;
    let nested = depth > 1;
    let already_counted = errorstats::take_already_counted();
    match &r {
        Err(CmdError::WouldBlock) => {
            if depth == 1 {
                telemetry.drop_deferred();
                PENDING_LOOKUPS.set((0, 0));
            }
            return r;
        }
        Err(CmdError::Blocked(_)) => {
            // MONITOR shows a blocking command when it blocks, not when it is served (Redis).
            if let (Reached::Ran(spec, _), false) = (&reached, ctx.session.blocked_rerun) {
                telemetry.monitor_blocked(spec.name, &ctx.session.handle, ctx.session.db, args, nested);
            }
            return r;
        }
        _ if already_counted => {}
        Err(e) => telemetry.command_error(&e.to_string(), nested),
        Ok(Reply::Error(text)) => telemetry.command_error(text, nested),
        Ok(_) => {}
    }
    if depth == 1 {
        let (found, missing) = PENDING_LOOKUPS.replace((0, 0));
        ctx.shared.stats.add_lookups(found, missing);
    }
    // As Redis's `incrCommandStatsOnError`: a command failed when an error was counted since
    // the last command ended, so an error inside EXEC or a script is its command's alone.
    let errors_now = errorstats::recorded_here();
    let errored = errors_now != LAST_ERRORS.replace(errors_now);
    let (spec, outcome, duration) = match reached {
        Reached::Nothing => return r,
        Reached::Refused(spec) => (spec, Outcome::Rejected, std::time::Duration::ZERO),
        Reached::Ran(spec, started) if errored => (spec, Outcome::Failed, started.elapsed()),
        Reached::Ran(spec, started) => (spec, Outcome::Ok, started.elapsed()),
    };
    telemetry.command_done(&CommandEvent {
        name: spec.name,
        args,
        duration,
        outcome,
        nested,
        from_script: FROM_SCRIPT.with(|f| f.get()),
        skip_slowlog: spec.flags.contains(Flags::SKIP_SLOWLOG),
        // (A blocked command was shown when it blocked.)
        skip_monitor: spec.flags.intersects(Flags::SKIP_MONITOR.union(Flags::ADMIN)) || ctx.session.blocked_rerun,
        fast: spec.flags.contains(Flags::FAST),
        client: &ctx.session.handle,
        db: ctx.session.db,
    });
    r
}

/// `call` for a script's `redis.call`: reported as run by the script.
pub(crate) fn call_from_script(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, args: &[Bytes]) -> CmdResult<Reply> {
    let outer = FROM_SCRIPT.with(|f| f.replace(true));
    let r = call(ctx, spec, args);
    FROM_SCRIPT.with(|f| f.set(outer));
    r
}

fn dispatch(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, args: &[Bytes], reached: &mut Reached) -> CmdResult<Reply> {
    let mut checked = check(ctx, spec, args, reached);
    if let Ok(s) = checked {
        match maxmemory::before_command(ctx, s) {
            Ok(()) => {}
            Err(CmdError::WouldBlock) => return Err(CmdError::WouldBlock),
            Err(e) => {
                *reached = Reached::Refused(s);
                checked = Err(e);
            }
        }
    }
    if ctx.session.multi.is_some() {
        if let Ok(s) = checked {
            if s.flags.contains(Flags::NO_MULTI) {
                *reached = Reached::Refused(s);
                checked = Err(CmdError::err("Command not allowed inside a transaction"));
            }
        }
        match &checked {
            // A refused EXEC ends the transaction at once (Redis's `execCommandAbort`).
            Err(e) if spec.name == "exec" => return Err(CmdError::Raw(ctx.session.abort_exec(&e.to_string()))),
            Err(_) => ctx.session.flag_multi(),
            Ok(spec) if !multi::runs_inside_multi(spec.name) => {
                if let Some(m) = ctx.session.multi.as_mut() {
                    m.queued_bytes += args.iter().map(|a| a.len()).sum::<usize>();
                    m.queued.push(args.to_vec());
                }
                ctx.session.sync_multi();
                *reached = Reached::Nothing;
                return Ok(Reply::Simple("QUEUED"));
            }
            Ok(_) => {}
        }
    }
    let spec = checked?;
    *reached = Reached::Ran(spec, std::time::Instant::now());
    // This command's own lookups (a script's commands count theirs).
    let outer = crate::storage::lookups::take();
    let r = if reads_several_records(spec) {
        run_locked_read(ctx, spec, args)
    } else {
        maxmemory::nested(|| (spec.handler)(ctx, args))
    };
    let (found, missing) = crate::storage::lookups::take();
    crate::storage::lookups::put(outer);
    if spec.flags.contains(Flags::READONLY) && (found | missing) != 0 {
        PENDING_LOOKUPS.set({
            let (f, m) = PENDING_LOOKUPS.get();
            (f + found, m + missing)
        });
    }
    // Key events its writes reported and did not announce themselves; then key misses.
    crate::state::notify::flush_key_events(ctx.shared);
    if r.is_ok() {
        pubsub::keymiss_after(ctx, spec, args);
    }
    r
}

/// Whether `spec` is a read that takes several records (a collection's metadata and members,
/// or several keys): it runs holding its keys' locks, so a write can't land between its reads
/// and it never shows a state that did not exist (a string read takes one record: no lock).
fn reads_several_records(spec: &CommandSpec) -> bool {
    const COLLECTIONS: Acl = Acl::HASH.union(Acl::LIST).union(Acl::SET).union(Acl::SORTEDSET).union(Acl::STREAM);
    spec.flags.contains(Flags::READONLY)
        && spec.first_key > 0
        && (spec.acl.intersects(COLLECTIONS) || spec.last_key != spec.first_key)
}

/// Runs a read under its keys' locks, as one pipeline write of its own (lazy expiry deletes
/// it makes commit with it). Inside a pipeline or an all-or-nothing write the keys are already
/// held. On the network thread a busy lock means running on a blocking thread, which waits.
fn run_locked_read(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, args: &[Bytes]) -> CmdResult<Reply> {
    use crate::storage::batch;
    if batch::pipeline_is_open() {
        return maxmemory::nested(|| (spec.handler)(ctx, args));
    }
    let shared = ctx.shared;
    let storage = &shared.storage;
    let dbs = storage.dbs();
    let pdb = dbs.physical(ctx.session.db);
    let keys = spec.keys(args);
    let Some(locked) = storage.begin_pipeline(dbs, keys.iter().map(|k| (pdb, k.as_ref()))) else {
        return Err(CmdError::WouldBlock);
    };
    crate::state::notify::defer_begin();
    let r = maxmemory::nested(|| (spec.handler)(ctx, args));
    match locked.commit() {
        Ok(()) => crate::state::notify::defer_flush(shared),
        Err(e) => {
            crate::state::notify::defer_discard();
            tracing::error!(error = %e, "write of a read's lazy expiry failed");
        }
    }
    r
}

/// Auth, subcommand and arity checks: the spec to run, or the error. A refusal of a command
/// of the table is noted in `reached`.
fn check(
    ctx: &Ctx<'_>,
    spec: &'static CommandSpec,
    args: &[Bytes],
    reached: &mut Reached,
) -> CmdResult<&'static CommandSpec> {
    // As Redis's `authRequired`: the default user's current state decides.
    if !ctx.session.authenticated && !spec.flags.contains(Flags::NO_AUTH) && !ctx.shared.acl.default_user_open() {
        *reached = Reached::Refused(spec);
        return Err(CmdError::NoAuth);
    }
    let spec = resolve(spec, args)?;
    *reached = Reached::Refused(spec);
    if !spec.arity_ok(args.len()) {
        return Err(CmdError::WrongArity(spec.full_name()));
    }
    // ACL: one flag for a user allowed everything; the rules for the others.
    let user = acl::current_user(ctx);
    if !user.unrestricted() {
        acl::check_permission(ctx, user, spec, args)?;
    }
    // A MONITOR client is a replica to Redis: it may not touch the keyspace.
    if ctx.session.monitor && spec.flags.intersects(Flags::WRITE.union(Flags::READONLY).union(Flags::MAY_REPLICATE)) {
        return Err(CmdError::err("Replica can't interact with the keyspace"));
    }
    pubsub::check_context(ctx, spec)?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for c in all() {
            assert!(names.insert(c.name), "duplicate command {}", c.name);
            check_spec(c);
            let mut subs = std::collections::HashSet::new();
            for s in c.subcommands {
                assert!(subs.insert(s.name), "duplicate subcommand {}", s.name);
                assert!(s.name.starts_with(&format!("{}|", c.name)), "{} under {}", s.name, c.name);
                check_spec(s);
            }
        }
    }

    fn check_spec(c: &CommandSpec) {
        assert_eq!(c.name, c.name.to_ascii_lowercase(), "{}", c.name);
        assert_ne!(c.arity, 0, "{}", c.name);
        let rw = [Flags::READONLY, Flags::WRITE].iter().filter(|f| c.flags.contains(**f)).count();
        // Shard channels sit at key positions (for cluster routing) but are not keys; WATCH has
        // keys but neither reads nor writes them (as in Redis's table).
        if c.first_key > 0 && !c.flags.contains(Flags::PUBSUB) {
            assert!(rw == 1 || c.name == "watch", "{} must be exactly one of readonly/write", c.name);
            assert!(c.step > 0, "{}", c.name);
            let n = c.arity.unsigned_abs() as i32;
            assert!(c.first_key < n || c.arity < 0, "{} first key outside arity", c.name);
            assert!(c.last_key < 0 || (c.last_key >= c.first_key && (c.arity < 0 || c.last_key < n)), "{}", c.name);
        } else {
            assert!(rw <= 1, "{}", c.name);
        }
        assert!(!c.summary.is_empty() && !c.group.is_empty() && !c.since.is_empty(), "{} docs", c.name);
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"GeT").map(|c| c.name), Some("get"));
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn unknown_command_text_matches_redis() {
        let e = unknown_command(&[Bytes::from("foo"), Bytes::from("a"), Bytes::from("b")]);
        assert_eq!(e.to_string(), "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
    }
}
