//! The `redis.*` functions and the replaced `math.random`, with Redis 7.0's argument checks and
//! error texts (script_lua.c), and the per-VM state they share.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Instant;

use bytes::Bytes;
use mlua::{Function, Lua, MultiValue, Result, Table, Value};

use super::convert::{error_table, error_text, reply_to_lua};
use super::errors::{arg_error, raise, raise_table};
use super::numfmt::fmt_g;
use super::{sha1_hex, Host, REDIS_VERSION, REDIS_VERSION_NUM};
use crate::reply::Reply;

/// Lua type names as `luaL_typename` spells them.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// Per-VM state the Rust functions share.
pub(super) struct RunCtx {
    /// The protocol redis.call replies are converted from (redis.setresp).
    pub(super) resp: u8,
    /// Set once the host's check failed: the script must end, pcall cannot catch it.
    pub(super) aborted: bool,
    /// The error text the abort raises (again, each time the script tries to go on).
    pub(super) abort_text: String,
    /// A FUNCTION LOAD in progress must end by then.
    pub(super) load_deadline: Option<Instant>,
    /// math.random's generator (Redis's redisLrand48, not reseeded between scripts).
    pub(super) rand: Rand48,
}

/// The rand48 generator Redis uses for math.random, with the same initial state.
pub(super) struct Rand48(u64);

impl Rand48 {
    pub(super) fn new() -> Rand48 {
        Rand48(0x1234_ABCD_330E)
    }
    pub(super) fn seed(&mut self, seed: i32) {
        self.0 = ((seed as u32 as u64) << 16) | 0x330E;
    }
    pub(super) fn next(&mut self) -> i32 {
        self.0 = (0x5_DEEC_E66D_u64.wrapping_mul(self.0).wrapping_add(0xB)) & ((1 << 48) - 1);
        (self.0 >> 17) as i32
    }
}

pub(super) fn install_version(t: &Table) -> Result<()> {
    t.raw_set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
    t.raw_set("REDIS_VERSION", REDIS_VERSION)?;
    Ok(())
}

/// redis.log outside a run (library load): validated, then sent to the server's log. Returns
/// the function.
pub(super) fn install_log(lua: &Lua, t: &Table) -> Result<Function> {
    let log = lua.create_function(|lua, args: MultiValue| {
        if let Some((level, msg)) = log_args(lua, args)? {
            if with_host(|h| h.log(level, &msg)).is_err() {
                match level {
                    0 => tracing::debug!(target: "lua", "{msg}"),
                    1 | 2 => tracing::info!(target: "lua", "{msg}"),
                    _ => tracing::warn!(target: "lua", "{msg}"),
                }
            }
        }
        Ok(())
    })?;
    t.raw_set("log", log.clone())?;
    for (name, level) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
        t.raw_set(name, level)?;
    }
    Ok(log)
}

/// Number value of a Lua value as `lua_tonumber` (strings that read as numbers count).
pub(super) fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let s = s.to_str().ok()?;
            let t = s.trim();
            if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                return u64::from_str_radix(hex, 16).ok().map(|n| n as f64);
            }
            t.parse::<f64>()
                .ok()
                .filter(|_| !t.is_empty() && !t.eq_ignore_ascii_case("nan") && !t.to_ascii_lowercase().contains("inf"))
        }
        _ => None,
    }
}

/// Bytes of a Lua value as `lua_tolstring` (strings and numbers).
pub(super) fn to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(fmt_g(*n, 14).into_bytes()),
        _ => None,
    }
}

/// redis.log's argument checks; `None` when nothing is to be logged.
pub(super) fn log_args(lua: &Lua, args: MultiValue) -> Result<Option<(u8, String)>> {
    let _ = lua;
    if args.len() < 2 {
        return Err(raise_table("ERR redis.log() requires two arguments or more."));
    }
    let Some(level) = to_number(&args[0]) else {
        return Err(raise_table("ERR First argument must be a number (log level)."));
    };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return Err(raise_table("ERR Invalid debug level."));
    }
    let parts: Vec<String> =
        args.iter().skip(1).filter_map(to_bytes).map(|b| String::from_utf8_lossy(&b).into_owned()).collect();
    Ok(Some((level as u8, parts.join(" "))))
}

pub(super) fn setresp_args(lua: &Lua, args: MultiValue) -> Result<u8> {
    if args.len() != 1 {
        return Err(raise_table("ERR redis.setresp() requires one argument."));
    }
    let resp = to_number(&args[0]).map_or(0, |n| n as i64);
    if resp != 2 && resp != 3 {
        return Err(raise_table("ERR RESP version must be 2 or 3."));
    }
    if let Some(mut c) = lua.app_data_mut::<RunCtx>() {
        c.resp = resp as u8;
    }
    Ok(resp as u8)
}

// ---- The running script's host ----------------------------------------------------------------

/// Why a `redis.*` function could not reach the host.
pub(super) enum NoHost {
    /// No script is running on this thread (the function was kept and called later).
    Outside,
    /// The host is in use: a call from inside a host call (a debug hook, say).
    Busy,
}

thread_local! {
    /// The host of the script running on this thread, for the `redis.*` functions, which are
    /// made once per VM: making per-run closures over the host cost more than the rest of a
    /// small script's run (measured with callgrind: ~18k instructions of ~67k per EVALSHA).
    static CURRENT: Cell<Option<NonNull<dyn Host>>> = const { Cell::new(None) };
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Makes `host` reachable from the `redis.*` functions while it lives (one script run).
pub(super) struct HostGuard<'a> {
    prev: Option<NonNull<dyn Host>>,
    prev_running: bool,
    _host: PhantomData<&'a mut dyn Host>,
}

impl<'a> HostGuard<'a> {
    pub(super) fn new(host: &'a mut dyn Host) -> HostGuard<'a> {
        let ptr = NonNull::from(host);
        // SAFETY: only the lifetime changes (same pointer, same vtable), so the pointer can sit
        // in a thread-local. The guard holds the `&'a mut` borrow for its whole life and clears
        // the cell when dropped, so the pointer is only used while the borrow is alive, on this
        // thread, and never alongside another reference to the host.
        #[allow(unsafe_code)]
        let ptr: NonNull<dyn Host> =
            unsafe { std::mem::transmute::<NonNull<dyn Host + 'a>, NonNull<dyn Host + 'static>>(ptr) };
        let prev = CURRENT.with(|c| c.replace(Some(ptr)));
        let prev_running = RUNNING.with(|r| r.replace(true));
        HostGuard { prev, prev_running, _host: PhantomData }
    }
}

impl Drop for HostGuard<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
        RUNNING.with(|r| r.set(self.prev_running));
    }
}

/// Runs `f` with the running script's host.
pub(super) fn with_host<R>(f: impl FnOnce(&mut dyn Host) -> R) -> std::result::Result<R, NoHost> {
    let Some(mut ptr) = CURRENT.with(|c| c.take()) else {
        return Err(if RUNNING.with(Cell::get) { NoHost::Busy } else { NoHost::Outside });
    };
    struct PutBack(NonNull<dyn Host>);
    impl Drop for PutBack {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(Some(self.0)));
        }
    }
    let _back = PutBack(ptr);
    // SAFETY: `ptr` comes from the `&mut dyn Host` that a live `HostGuard` borrows (the guard
    // clears the cell before the borrow ends). It is out of the cell while `f` runs, so this is
    // the only reference to the host: a nested call finds the cell empty (`NoHost::Busy`).
    #[allow(unsafe_code)]
    let host = unsafe { ptr.as_mut() };
    Ok(f(host))
}

pub(super) fn redis_setresp(lua: &Lua, args: MultiValue) -> Result<()> {
    if !RUNNING.with(Cell::get) {
        return Err(raise_table("ERR redis.setresp can only be called inside a script invocation"));
    }
    let resp = setresp_args(lua, args)?;
    let _ = with_host(|h| h.set_resp(resp));
    Ok(())
}

pub(super) fn redis_acl_check_cmd(_lua: &Lua, args: MultiValue) -> Result<bool> {
    if !RUNNING.with(Cell::get) {
        return Err(raise_table("ERR redis.acl_check_cmd can only be called inside a script invocation"));
    }
    let argv = command_args(&args).map_err(raise_table)?;
    match with_host(|h| h.acl_check_cmd(argv)) {
        Ok(verdict) => verdict.map_err(raise_table),
        Err(_) => Ok(true),
    }
}

pub(super) fn redis_sha1hex(lua: &Lua, args: MultiValue) -> Result<Value> {
    if args.len() != 1 {
        return Err(raise_table("ERR wrong number of arguments"));
    }
    let data = to_bytes(&args[0]).unwrap_or_default();
    Ok(Value::String(lua.create_string(sha1_hex(&data))?))
}

pub(super) fn single_string_arg(args: &MultiValue) -> Option<Vec<u8>> {
    match args.len() {
        1 => match &args[0] {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn redis_error_reply(lua: &Lua, args: MultiValue) -> Result<Table> {
    let Some(text) = single_string_arg(&args) else {
        return error_table(lua, "ERR wrong number or type of arguments");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let text = if text.starts_with('-') { text } else { format!("-{text}") };
    error_table(lua, &error_text(&text))
}

pub(super) fn redis_status_reply(lua: &Lua, args: MultiValue) -> Result<Table> {
    let Some(text) = single_string_arg(&args) else {
        return error_table(lua, "ERR wrong number or type of arguments");
    };
    let t = lua.create_table()?;
    t.raw_set("ok", lua.create_string(text)?)?;
    Ok(t)
}

pub(super) fn redis_set_repl(_: &Lua, args: MultiValue) -> Result<()> {
    if args.len() != 1 {
        return Err(raise_table("ERR redis.set_repl() requires two arguments."));
    }
    let flags = to_number(&args[0]).map_or(0, |n| n as i64);
    if flags & !3 != 0 {
        return Err(raise_table("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."));
    }
    Ok(())
}

/// A command's arguments from Lua (`luaArgsToRedisArgv`): strings, and numbers as `%.17g`.
pub(super) fn command_args(args: &MultiValue) -> std::result::Result<Vec<Bytes>, &'static str> {
    if args.is_empty() {
        return Err("ERR Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(args.len());
    for a in args.iter() {
        match a {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(i) => argv.push(Bytes::from(fmt_g(*i as f64, 17))),
            Value::Number(n) => argv.push(Bytes::from(fmt_g(*n, 17))),
            _ => return Err("ERR Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(argv)
}

/// redis.call (`raise`) and redis.pcall.
pub(super) fn redis_call(lua: &Lua, args: MultiValue, raise_errors: bool) -> Result<Value> {
    let fail = |text: &str| -> Result<Value> {
        if raise_errors {
            Err(raise_table(text))
        } else {
            Ok(Value::Table(error_table(lua, text)?))
        }
    };
    let argv = match command_args(&args) {
        Ok(argv) => argv,
        Err(text) => return fail(text),
    };
    let reply =
        match with_host(|h| h.call(argv)) {
            Ok(reply) => reply,
            Err(NoHost::Outside) => {
                return Err(raise_table("ERR redis.call/pcall can only be called inside a script invocation"))
            }
            Err(NoHost::Busy) => return fail(
                "ERR luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?",
            ),
        };
    if let Reply::Error(e) = &reply {
        return fail(&error_text(&format!("-{e}")));
    }
    let resp = lua.app_data_ref::<RunCtx>().map_or(2, |c| c.resp);
    reply_to_lua(lua, &reply, resp)
}

pub(super) fn math_random(lua: &Lua, args: MultiValue) -> Result<f64> {
    let r = {
        let mut ctx = lua.app_data_mut::<RunCtx>();
        let v = ctx.as_mut().map_or(0, |c| c.rand.next());
        f64::from(v % i32::MAX) / f64::from(i32::MAX)
    };
    let int_arg = |n: usize| -> Result<i64> {
        match args.get(n - 1).and_then(to_number) {
            Some(v) => Ok(v as i64),
            None => Err(arg_error(
                lua,
                n,
                "random",
                &format!("number expected, got {}", args.get(n - 1).map_or("no value", type_name)),
            )),
        }
    };
    match args.len() {
        0 => Ok(r),
        1 => {
            let u = int_arg(1)?;
            if u < 1 {
                return Err(arg_error(lua, 1, "random", "interval is empty"));
            }
            Ok((r * u as f64).floor() + 1.0)
        }
        2 => {
            let l = int_arg(1)?;
            let u = int_arg(2)?;
            if l > u {
                return Err(arg_error(lua, 2, "random", "interval is empty"));
            }
            Ok((r * (u - l + 1) as f64).floor() + l as f64)
        }
        _ => Err(raise(lua, "wrong number of arguments")),
    }
}

pub(super) fn math_randomseed(lua: &Lua, args: MultiValue) -> Result<()> {
    let Some(seed) = args.front().and_then(to_number) else {
        return Err(arg_error(
            lua,
            1,
            "randomseed",
            &format!("number expected, got {}", args.front().map_or("no value", type_name)),
        ));
    };
    if let Some(mut c) = lua.app_data_mut::<RunCtx>() {
        c.rand.seed(seed as i64 as i32);
    }
    Ok(())
}
