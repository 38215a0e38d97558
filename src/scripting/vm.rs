//! One sandboxed Lua VM as Redis 7.0 builds it (`luaRegisterRedisAPI`, `scriptingInit`,
//! `luaEngineInitEngine`): the allowed builtins and libraries, the `redis` table, globals that
//! cannot be created or read when missing, libraries that cannot be modified, and the error
//! handler that decorates a failing script's error with its source line.
//!
//! Read-only tables are proxies (an empty table whose metatable reads through to the real one
//! and refuses writes), since stock Lua 5.1 has no read-only flag. Everything a script can call
//! is a Rust function, so the Lua stack looks as it does in Redis (C functions) and error
//! positions come out the same. Errors raised from Rust travel as a [`ScriptError`]; the `pcall`
//! and `xpcall` the script sees turn them into the strings / tables Redis's would give.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, Result, StdLib, Table, Value, VmState};

use super::api::{
    install_log, install_version, math_random, math_randomseed, redis_acl_check_cmd, redis_call, redis_error_reply,
    redis_set_repl, redis_setresp, redis_sha1hex, redis_status_reply, type_name, with_host, HostGuard, Rand48, RunCtx,
};
use super::convert::lua_to_reply;
use super::errors::{
    arg_error, convert_error, error_handler, final_error, load_error_text, raise, raise_table, ScriptError,
};
use super::library::{register_function, LibraryMetadata, Registered};
use super::numfmt::fmt_g;
use super::{bit, cjson, cmsgpack, lstruct, Host, Library};
use crate::reply::Reply;

/// Redis's count hook period (`lua_sethook(..., LUA_MASKCOUNT, 100000)`).
const HOOK_INSTRUCTIONS: u32 = 100_000;
/// FUNCTION LOAD may run this long (`LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum VmKind {
    Eval,
    Function,
}

pub struct Vm {
    pub lua: Lua,
    kind: VmKind,
    /// The globals user code runs with (an empty read-only proxy).
    env: Table,
    /// The real globals table (KEYS and ARGV are set here for EVAL).
    globals: Table,
    /// Function VM: the metatable of `env`, whose `__index` is the load API while loading.
    env_meta: Table,
    /// Function VM: what library code sees while it loads.
    load_api: Option<(Table, Table)>,
    /// Runs a function under the error handler: (f, keys, args) -> ok, value.
    runner: Function,
    /// The unmodified pcall, for running library code at load.
    raw_pcall: Function,
}

/// The Lua glue that must be Lua: pcall / xpcall / loadstring as Redis scripts see them, and the
/// runner. Functions from this chunk never raise errors themselves.
const PRELUDE: &str = r#"
local G, handler, convert, aborted, rawpcall, rawxpcall, rawloadstring, setfenv, error, type, byte,
  concat = ...
local function fix_pcall(ok, ...)
  if ok then return true, ... end
  local e = ...
  if aborted() then error(e, 0) end
  return false, convert(e, true)
end
local function pcall(f, ...)
  return fix_pcall(rawpcall(f, ...))
end
local function xpcall(f, h)
  return fix_pcall(rawxpcall(f, function(e)
    if aborted() then return e end
    return h(convert(e, false))
  end))
end
local function loadstring(s, name)
  if type(s) == 'string' and byte(s, 1) == 27 then
    return nil, 'attempt to load a binary chunk'
  end
  local f, e = rawloadstring(s, name)
  if f then setfenv(f, G) end
  return f, e
end
local function load(f, name)
  if type(f) ~= 'function' then
    error("bad argument #1 to 'load' (function expected, got " .. type(f) .. ")", 2)
  end
  local parts = {}
  while true do
    local p = f()
    if p == nil or p == '' then break end
    parts[#parts + 1] = p
  end
  return loadstring(concat(parts), name)
end
local function runner(f, keys, args)
  if keys == nil then return rawxpcall(f, handler) end
  return rawxpcall(function() return f(keys, args) end, handler)
end
return pcall, xpcall, loadstring, load, runner
"#;

impl Vm {
    pub fn new(kind: VmKind) -> Result<Vm> {
        let lua = Lua::new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH, LuaOptions::new())?;
        lua.set_app_data(RunCtx {
            resp: 2,
            aborted: false,
            abort_text: String::new(),
            load_deadline: None,
            rand: Rand48::new(),
        });
        let globals = lua.globals();
        let raw_pcall: Function = globals.raw_get("pcall")?;
        let raw_xpcall: Function = globals.raw_get("xpcall")?;
        let raw_loadstring: Function = globals.raw_get("loadstring")?;
        let setfenv: Function = globals.raw_get("setfenv")?;
        let string: Table = globals.raw_get("string")?;
        let byte: Function = string.raw_get("byte")?;
        let table_lib: Table = globals.raw_get("table")?;
        let concat: Function = table_lib.raw_get("concat")?;
        let error: Function = globals.raw_get("error")?;
        let tostring: Function = globals.raw_get("tostring")?;
        for name in ["print", "dofile", "loadfile", "setfenv", "getfenv", "newproxy", "module", "require", "package"] {
            globals.raw_set(name, Value::Nil)?;
        }

        let math: Table = globals.raw_get("math")?;
        math.raw_set("random", lua.create_function(math_random)?)?;
        math.raw_set("randomseed", lua.create_function(math_randomseed)?)?;
        globals.raw_set("cjson", cjson::create(&lua)?)?;
        globals.raw_set("cmsgpack", cmsgpack::create(&lua)?)?;
        globals.raw_set("bit", bit::create(&lua)?)?;
        globals.raw_set("struct", lstruct::create(&lua)?)?;

        let redis = lua.create_table()?;
        redis.raw_set("call", lua.create_function(|lua, args: MultiValue| redis_call(lua, args, true))?)?;
        redis.raw_set("pcall", lua.create_function(|lua, args: MultiValue| redis_call(lua, args, false))?)?;
        install_log(&lua, &redis)?;
        install_version(&redis)?;
        redis.raw_set("setresp", lua.create_function(redis_setresp)?)?;
        redis.raw_set("acl_check_cmd", lua.create_function(redis_acl_check_cmd)?)?;
        redis.raw_set("sha1hex", lua.create_function(redis_sha1hex)?)?;
        redis.raw_set("error_reply", lua.create_function(redis_error_reply)?)?;
        redis.raw_set("status_reply", lua.create_function(redis_status_reply)?)?;
        redis.raw_set("set_repl", lua.create_function(redis_set_repl)?)?;
        for (name, value) in
            [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)]
        {
            redis.raw_set(name, value)?;
        }
        if kind == VmKind::Eval {
            redis.raw_set("breakpoint", lua.create_function(|_, _: MultiValue| Ok(false))?)?;
            redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
            redis.raw_set("replicate_commands", lua.create_function(|_, _: MultiValue| Ok(true))?)?;
        }

        // Read-only library tables, then the globals themselves.
        let readonly = lua.create_function(|lua, _: MultiValue| -> Result<()> {
            Err(raise(lua, "Attempt to modify a readonly table"))
        })?;
        let nonexistent =
            lua.create_function(|lua, (_, key): (Value, Value)| -> Result<()> { Err(nonexistent_global(lua, &key)) })?;
        for name in ["string", "math", "table", "coroutine", "cjson", "cmsgpack", "bit", "struct"] {
            let real: Table = globals.raw_get(name)?;
            let shown = proxy(&lua, &real, Value::Table(real.clone()), &readonly)?;
            if name == "cjson" {
                // cjson.new() hands out the library: the read-only one.
                let me = shown.clone();
                real.raw_set("new", lua.create_function(move |_, _: MultiValue| Ok(me.clone()))?)?;
            }
            globals.raw_set(name, shown)?;
        }
        globals.raw_set("redis", proxy(&lua, &redis, Value::Table(redis.clone()), &readonly)?)?;

        let env = lua.create_table()?;
        let env_meta = lua.create_table()?;
        env_meta.raw_set("__index", globals.clone())?;
        env_meta.raw_set("__newindex", readonly.clone())?;
        // getmetatable(_G) gives a read-only stand-in, as Redis's read-only metatable; it must
        // not lead to the real globals.
        let shown_meta = lua.create_table()?;
        shown_meta.raw_set("__index", env.clone())?;
        shown_meta.raw_set("__newindex", readonly.clone())?;
        env_meta.raw_set("__metatable", proxy(&lua, &shown_meta, Value::Table(shown_meta.clone()), &readonly)?)?;
        env.set_metatable(Some(env_meta.clone()))?;
        globals.raw_set("_G", env.clone())?;

        let handler = lua.create_function(move |lua, err: Value| error_handler(lua, err, &tostring))?;
        let convert = lua.create_function(|lua, (e, for_pcall): (Value, bool)| convert_error(lua, e, for_pcall))?;
        let aborted = lua.create_function(|lua, ()| Ok(lua.app_data_ref::<RunCtx>().is_some_and(|c| c.aborted)))?;
        let type_fn: Function = globals.raw_get("type")?;
        let (pcall, xpcall, loadstring, load, runner): (Function, Function, Function, Function, Function) =
            lua.load(PRELUDE).set_name("=strata").call((
                env.clone(),
                handler,
                convert,
                aborted,
                raw_pcall.clone(),
                raw_xpcall,
                raw_loadstring,
                setfenv,
                error,
                type_fn,
                byte,
                concat,
            ))?;
        globals.raw_set("pcall", pcall)?;
        globals.raw_set("xpcall", xpcall)?;
        globals.raw_set("loadstring", loadstring.clone())?;
        globals.raw_set("load", load)?;
        // pairs() over a read-only proxy walks the table behind it, as over Redis's read-only
        // tables.
        let next: Function = globals.raw_get("next")?;
        let ro = readonly.clone();
        globals.raw_set(
            "pairs",
            lua.create_function(move |lua, args: MultiValue| {
                let Some(Value::Table(t)) = args.front() else {
                    let got = args.front().map_or("no value", type_name);
                    return Err(arg_error(lua, 1, "pairs", &format!("table expected, got {got}")));
                };
                let real = t.metatable().and_then(|m| {
                    let guarded = m.raw_get::<Option<Function>>("__newindex").ok().flatten().is_some_and(|f| f == ro);
                    match m.raw_get::<Value>("__index") {
                        Ok(Value::Table(real)) if guarded => Some(real),
                        _ => None,
                    }
                });
                match real {
                    // The iterator keeps the real table to itself: handing it out would let the
                    // script write to it.
                    Some(real) => {
                        let next = next.clone();
                        let iter = lua.create_function(move |_, (_, key): (Value, Value)| {
                            next.call::<MultiValue>((real.clone(), key))
                        })?;
                        Ok((Value::Function(iter), Value::Table(t.clone()), Value::Nil))
                    }
                    None => Ok((Value::Function(next.clone()), Value::Table(t.clone()), Value::Nil)),
                }
            })?,
        )?;
        // Nor can setmetatable replace a read-only table's metatable.
        let guard = readonly.clone();
        globals.raw_set(
            "setmetatable",
            lua.create_function(move |lua, args: MultiValue| {
                let t = table_arg(lua, &args, "setmetatable")?;
                let meta = match args.get(1) {
                    None => return Err(arg_error(lua, 2, "setmetatable", "nil or table expected")),
                    Some(Value::Nil) => None,
                    Some(Value::Table(m)) => Some(m.clone()),
                    Some(_) => return Err(arg_error(lua, 2, "setmetatable", "nil or table expected")),
                };
                refuse_readonly(&t, &guard)?;
                if let Some(current) = t.metatable() {
                    if !current.raw_get::<Value>("__metatable")?.is_nil() {
                        return Err(raise(lua, "cannot change a protected metatable"));
                    }
                }
                t.set_metatable(meta)?;
                Ok(t.clone())
            })?,
        )?;
        // rawset must not write through the read-only proxies either.
        let guard = readonly.clone();
        globals.raw_set(
            "rawset",
            lua.create_function(move |lua, args: MultiValue| {
                let t = table_arg(lua, &args, "rawset")?;
                refuse_readonly(&t, &guard)?;
                let (Some(key), Some(value)) = (args.get(1), args.get(2)) else {
                    let n = if args.len() < 2 { 2 } else { 3 };
                    return Err(arg_error(lua, n, "rawset", "value expected"));
                };
                match key {
                    // Raised by the VM inside rawset: no position, as in Redis.
                    Value::Nil => {
                        return Err(mlua::Error::external(ScriptError::Message("table index is nil".to_owned())))
                    }
                    Value::Number(n) if n.is_nan() => {
                        return Err(mlua::Error::external(ScriptError::Message("table index is NaN".to_owned())))
                    }
                    _ => {}
                }
                t.raw_set(key.clone(), value.clone())?;
                Ok(t.clone())
            })?,
        )?;
        // Methods on strings read through the same (protected) `string` table, and the strings'
        // metatable shows only a read-only view of itself.
        let string_meta: Table = lua.load("return getmetatable('')").set_name("=strata").eval()?;
        string_meta.raw_set("__index", globals.raw_get::<Value>("string")?)?;
        let view = proxy(&lua, &string_meta, Value::Table(string_meta.clone()), &readonly)?;
        string_meta.raw_set("__metatable", view)?;

        // Missing globals are an error; so is creating one.
        let globals_meta = lua.create_table()?;
        globals_meta.raw_set("__index", nonexistent.clone())?;
        globals_meta.raw_set("__newindex", readonly.clone())?;
        globals_meta.raw_set("__metatable", false)?;
        globals.set_metatable(Some(globals_meta))?;

        let load_api = if kind == VmKind::Function {
            // While a library loads, only these are visible (function_lua.c LIBRARY_API).
            let load_redis = lua.create_table()?;
            load_redis.raw_set(
                "register_function",
                lua.create_function(|_, _: MultiValue| -> Result<()> {
                    Err(raise_table("ERR redis.register_function can only be called on FUNCTION LOAD command"))
                })?,
            )?;
            install_log(&lua, &load_redis)?;
            install_version(&load_redis)?;
            let strict = strict_index(&lua, &load_redis)?;
            let api = lua.create_table()?;
            api.raw_set("redis", proxy(&lua, &load_redis, strict, &readonly)?)?;
            let api_meta = lua.create_table()?;
            api_meta.raw_set("__index", nonexistent)?;
            api_meta.raw_set("__newindex", readonly)?;
            api.set_metatable(Some(api_meta))?;
            Some((api, load_redis))
        } else {
            None
        };

        lua.set_global_hook(HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS), hook)?;
        Ok(Vm { lua, kind, env, globals, env_meta, load_api, runner, raw_pcall })
    }

    /// Compiles user code with this VM's sandboxed globals; the error is Lua's message.
    pub fn compile(&self, code: &[u8], chunk_name: &str) -> std::result::Result<Function, String> {
        self.lua
            .load(code)
            .set_name(chunk_name)
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Runs `function` as a script: EVAL (`fcall` false: KEYS and ARGV become globals, no
    /// arguments) or FCALL (`fcall` true: KEYS and ARGV are the two arguments). `name` is what
    /// errors call the script (the sha, or the function name).
    pub fn run(
        &self,
        function: &Function,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        fcall: bool,
        host: &mut dyn Host,
    ) -> Reply {
        match self.try_run(function, name, keys, args, fcall, host) {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!("Lua script failed outside the sandbox: {e}");
                Reply::error("ERR internal error")
            }
        }
    }

    fn try_run(
        &self,
        function: &Function,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        fcall: bool,
        host: &mut dyn Host,
    ) -> Result<Reply> {
        let lua = &self.lua;
        if let Some(mut ctx) = lua.app_data_mut::<RunCtx>() {
            ctx.resp = 2;
            ctx.aborted = false;
        }
        let keys_table = string_sequence(lua, keys)?;
        let args_table = string_sequence(lua, args)?;
        if !fcall {
            self.globals.raw_set("KEYS", keys_table.clone())?;
            self.globals.raw_set("ARGV", args_table.clone())?;
        }
        let outcome = {
            let _host = HostGuard::new(host);
            let result = if fcall {
                self.runner.call::<(bool, Value)>((function.clone(), keys_table, args_table))
            } else {
                self.runner.call::<(bool, Value)>((function.clone(), Value::Nil, Value::Nil))
            };
            result.map(|(ok, value)| {
                let resp = lua.app_data_ref::<RunCtx>().map_or(2, |c| c.resp);
                if ok {
                    lua_to_reply(&value, resp)
                } else {
                    final_error(&value, name)
                }
            })
        };
        if !fcall {
            self.globals.raw_set("KEYS", Value::Nil)?;
            self.globals.raw_set("ARGV", Value::Nil)?;
        }
        if let Some(mut ctx) = self.lua.app_data_mut::<RunCtx>() {
            ctx.aborted = false;
        }
        outcome
    }

    /// Runs library code (shebang already stripped) in the load sandbox and returns what it
    /// registered. Errors are Redis's full reply texts.
    pub fn load_library(
        &self,
        meta: &LibraryMetadata,
        code: &[u8],
    ) -> std::result::Result<(Library, std::collections::HashMap<String, mlua::RegistryKey>), String> {
        let Some((load_api, load_redis)) = &self.load_api else {
            return Err("ERR internal error".to_owned());
        };
        let internal = |e: mlua::Error| format!("ERR internal error: {e}");
        // A shebang line stays as an empty line so that line numbers hold.
        let mut body = Vec::with_capacity(code.len());
        body.extend_from_slice(code);
        let function =
            self.compile(&body, "@user_function").map_err(|e| format!("ERR Error compiling function: {e}"))?;
        let registered: RefCell<Vec<Registered>> = RefCell::new(Vec::new());
        self.env_meta.raw_set("__index", load_api.clone()).map_err(internal)?;
        if let Some(mut ctx) = self.lua.app_data_mut::<RunCtx>() {
            ctx.load_deadline = Some(Instant::now() + LOAD_TIMEOUT);
            ctx.aborted = false;
        }
        let outcome = self.lua.scope(|scope| {
            let registered = &registered;
            let register = scope.create_function(move |lua, args: MultiValue| {
                register_function(lua, args, &mut registered.borrow_mut())
            })?;
            load_redis.raw_set("register_function", register)?;
            let result = self.raw_pcall.call::<(bool, Value)>(function);
            load_redis.raw_set(
                "register_function",
                self.lua.create_function(|_, _: MultiValue| -> Result<()> {
                    Err(raise_table("ERR redis.register_function can only be called on FUNCTION LOAD command"))
                })?,
            )?;
            result
        });
        if let Some(mut ctx) = self.lua.app_data_mut::<RunCtx>() {
            ctx.load_deadline = None;
            ctx.aborted = false;
        }
        self.env_meta.raw_set("__index", self.globals.clone()).map_err(internal)?;
        let (ok, err) = outcome.map_err(internal)?;
        if !ok {
            return Err(format!("ERR Error registering functions: {}", load_error_text(&self.lua, err)));
        }
        let registered = registered.into_inner();
        if registered.is_empty() {
            return Err("ERR No functions registered".to_owned());
        }
        let mut functions = std::collections::HashMap::new();
        let mut infos = Vec::new();
        for r in registered {
            let key = self.lua.create_registry_value(r.callback).map_err(internal)?;
            functions.insert(r.info.name.clone(), key);
            infos.push(r.info);
        }
        let _ = self.kind;
        Ok((Library { name: meta.name.clone(), engine: "LUA", functions: infos }, functions))
    }
}

/// The instruction hook: FUNCTION LOAD's time limit, and the host's check during a run.
fn hook(lua: &Lua, _: &mlua::debug::Debug) -> Result<VmState> {
    let deadline = lua.app_data_ref::<RunCtx>().and_then(|c| c.load_deadline);
    if let Some(deadline) = deadline {
        if Instant::now() > deadline {
            if let Some(mut c) = lua.app_data_mut::<RunCtx>() {
                c.aborted = true;
                c.abort_text = "ERR FUNCTION LOAD timeout".to_owned();
            }
            return Err(raise_table("ERR FUNCTION LOAD timeout"));
        }
    }
    let previous = lua.app_data_ref::<RunCtx>().filter(|c| c.aborted).map(|c| c.abort_text.clone());
    if let Some(text) = previous {
        return Err(raise_table(text));
    }
    if let Ok(Err(text)) = with_host(|h| h.check()) {
        if let Some(mut c) = lua.app_data_mut::<RunCtx>() {
            c.aborted = true;
            c.abort_text = text.clone();
        }
        return Err(raise_table(text));
    }
    Ok(VmState::Continue)
}

/// An empty table reading through to `real` (or calling `index`), refusing writes.
fn proxy(lua: &Lua, _real: &Table, index: Value, readonly: &Function) -> Result<Table> {
    let p = lua.create_table()?;
    let meta = lua.create_table()?;
    meta.raw_set("__index", index)?;
    meta.raw_set("__newindex", readonly.clone())?;
    meta.raw_set("__metatable", false)?;
    p.set_metatable(Some(meta))?;
    Ok(p)
}

/// An `__index` that reads `real` and errors on a missing key (Redis's error metatable).
fn strict_index(lua: &Lua, real: &Table) -> Result<Value> {
    let real = real.clone();
    Ok(Value::Function(lua.create_function(move |lua, (_, key): (Value, Value)| {
        let v: Value = real.raw_get(key.clone())?;
        if v.is_nil() {
            return Err(nonexistent_global(lua, &key));
        }
        Ok(v)
    })?))
}

fn nonexistent_global(lua: &Lua, key: &Value) -> mlua::Error {
    let name = match key {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => fmt_g(*n, 14),
        _ => return raise(lua, "Second argument to luaProtectedTableError must be a string or number"),
    };
    raise(lua, format!("Script attempted to access nonexistent global variable '{name}'"))
}

/// A Lua array of `items` as strings, built one element at a time: holding every string at
/// once would exhaust mlua's reference stack (8000 slots in Lua 5.1) for long ARGV lists.
fn string_sequence(lua: &Lua, items: &[Bytes]) -> Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

/// The first argument of `function`, which must be a table (Lua's own error text otherwise).
fn table_arg(lua: &Lua, args: &MultiValue, function: &str) -> Result<Table> {
    match args.front() {
        Some(Value::Table(t)) => Ok(t.clone()),
        other => {
            let got = other.map_or("no value", type_name);
            Err(arg_error(lua, 1, function, &format!("table expected, got {got}")))
        }
    }
}

/// Refuses to change `t` if it is one of the read-only tables (its `__newindex` is `guard`).
fn refuse_readonly(t: &Table, guard: &Function) -> Result<()> {
    let protected = t
        .metatable()
        .and_then(|m| m.raw_get::<Option<Function>>("__newindex").ok().flatten())
        .is_some_and(|f| f == *guard);
    if protected {
        return Err(mlua::Error::external(ScriptError::Message("Attempt to modify a readonly table".to_owned())));
    }
    Ok(())
}
