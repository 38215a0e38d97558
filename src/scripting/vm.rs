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

use super::convert::{error_table, error_text, lua_to_reply, reply_to_lua};
use super::library::{register_function, LibraryMetadata, Registered};
use super::numfmt::fmt_g;
use super::{bit, cjson, cmsgpack, lstruct, sha1_hex, Host, Library};
use super::{REDIS_VERSION, REDIS_VERSION_NUM};
use crate::reply::Reply;

/// Redis's count hook period (`lua_sethook(..., LUA_MASKCOUNT, 100000)`).
const HOOK_INSTRUCTIONS: u32 = 100_000;
/// FUNCTION LOAD may run this long (`LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);
const REGISTRY_CHECK: &str = "strata.check";

/// An error raised by Rust code inside a script.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScriptError {
    /// Redis raised a table `{err = text}` (luaPushError + luaError): `text` is final.
    #[error("{0}")]
    Table(String),
    /// Redis raised a string (luaL_error): position prefix included, no error code.
    #[error("{0}")]
    Message(String),
}

/// Raises `{err = text}`, `text` being a full error text ("ERR ...").
pub fn raise_table(text: impl Into<String>) -> mlua::Error {
    mlua::Error::external(ScriptError::Table(text.into()))
}

/// Raises a string error the way `luaL_error` does: prefixed with the caller's position.
pub fn raise(lua: &Lua, msg: impl AsRef<str>) -> mlua::Error {
    mlua::Error::external(ScriptError::Message(format!("{}{}", position(lua, 1), msg.as_ref())))
}

/// `luaL_argerror`: "bad argument #n to 'name' (msg)".
pub fn arg_error(lua: &Lua, n: usize, name: &str, msg: &str) -> mlua::Error {
    raise(lua, format!("bad argument #{n} to '{name}' ({msg})"))
}

/// `luaL_where(L, level)`: "chunk:line: " when that frame is Lua code, else "".
fn position(lua: &Lua, level: usize) -> String {
    lua.inspect_stack(level, |d| {
        let line = d.current_line()?;
        let src = d.source().short_src?.into_owned();
        Some(format!("{src}:{line}: "))
    })
    .flatten()
    .unwrap_or_default()
}

/// Lua type names as `luaL_typename` spells them.
pub fn type_name(v: &Value) -> &'static str {
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
struct RunCtx {
    /// The protocol redis.call replies are converted from (redis.setresp).
    resp: u8,
    /// Set once the host's check failed: the script must end, pcall cannot catch it.
    aborted: bool,
    /// The error text the abort raises (again, each time the script tries to go on).
    abort_text: String,
    /// A FUNCTION LOAD in progress must end by then.
    load_deadline: Option<Instant>,
    /// math.random's generator (Redis's redisLrand48, not reseeded between scripts).
    rand: Rand48,
}

/// The rand48 generator Redis uses for math.random, with the same initial state.
struct Rand48(u64);

impl Rand48 {
    fn new() -> Rand48 {
        Rand48(0x1234_ABCD_330E)
    }
    fn seed(&mut self, seed: i32) {
        self.0 = ((seed as u32 as u64) << 16) | 0x330E;
    }
    fn next(&mut self) -> i32 {
        self.0 = (0x5_DEEC_E66D_u64.wrapping_mul(self.0).wrapping_add(0xB)) & ((1 << 48) - 1);
        (self.0 >> 17) as i32
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum VmKind {
    Eval,
    Function,
}

pub struct Vm {
    pub lua: Lua,
    kind: VmKind,
    /// The `redis` table behind its read-only proxy (call, pcall and log are swapped in per run).
    redis: Table,
    /// What `redis.call`, `pcall`, `log` and `setresp` are between runs.
    stubs: Stubs,
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

/// The `redis` functions that need a host, as they are outside a run.
struct Stubs {
    call: Function,
    log: Function,
    setresp: Function,
    acl_check: Function,
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
        let stubs = Stubs {
            call: lua.create_function(|_, _: MultiValue| -> Result<()> {
                Err(raise_table("ERR redis.call/pcall can only be called inside a script invocation"))
            })?,
            log: install_log(&lua, &redis)?,
            setresp: lua.create_function(redis_setresp)?,
            acl_check: lua.create_function(|_, _: MultiValue| -> Result<()> {
                Err(raise_table("ERR redis.acl_check_cmd can only be called inside a script invocation"))
            })?,
        };
        redis.raw_set("acl_check_cmd", stubs.acl_check.clone())?;
        redis.raw_set("call", stubs.call.clone())?;
        redis.raw_set("pcall", stubs.call.clone())?;
        install_version(&redis)?;
        redis.raw_set("setresp", stubs.setresp.clone())?;
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
            globals.raw_set(name, proxy(&lua, &real, Value::Table(real.clone()), &readonly)?)?;
        }
        globals.raw_set("redis", proxy(&lua, &redis, Value::Table(redis.clone()), &readonly)?)?;

        let env = lua.create_table()?;
        let env_meta = lua.create_table()?;
        env_meta.raw_set("__index", globals.clone())?;
        env_meta.raw_set("__newindex", readonly.clone())?;
        env_meta.raw_set("__metatable", false)?;
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
        // rawset must not write through the read-only proxies either.
        let real_rawset: Function = globals.raw_get("rawset")?;
        let guard = readonly.clone();
        globals.raw_set(
            "rawset",
            lua.create_function(move |_, args: MultiValue| {
                if let Some(Value::Table(t)) = args.front() {
                    let protected = t
                        .metatable()
                        .and_then(|m| m.raw_get::<Option<Function>>("__newindex").ok().flatten())
                        .is_some_and(|f| f == guard);
                    if protected {
                        return Err(mlua::Error::external(ScriptError::Message(
                            "Attempt to modify a readonly table".to_owned(),
                        )));
                    }
                }
                real_rawset.call::<MultiValue>(args)
            })?,
        )?;
        // Methods on strings read through the same (protected) `string` table.
        lua.load("getmetatable('').__index = ...")
            .set_name("=strata")
            .call::<()>(globals.raw_get::<Value>("string")?)?;

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
        Ok(Vm { lua, kind, redis, stubs, env, globals, env_meta, load_api, runner, raw_pcall })
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
        let keys_table =
            lua.create_sequence_from(keys.iter().map(|k| lua.create_string(k)).collect::<Result<Vec<_>>>()?)?;
        let args_table =
            lua.create_sequence_from(args.iter().map(|a| lua.create_string(a)).collect::<Result<Vec<_>>>()?)?;
        if !fcall {
            self.globals.raw_set("KEYS", keys_table.clone())?;
            self.globals.raw_set("ARGV", args_table.clone())?;
        }
        let host = RefCell::new(host);
        let outcome = lua.scope(|scope| {
            let host = &host;
            let call = scope.create_function(move |lua, args: MultiValue| redis_call(lua, args, true, host))?;
            let pcall = scope.create_function(move |lua, args: MultiValue| redis_call(lua, args, false, host))?;
            let log = scope.create_function(move |lua, args: MultiValue| {
                if let Some((level, msg)) = log_args(lua, args)? {
                    if let Ok(mut h) = host.try_borrow_mut() {
                        h.log(level, &msg);
                    }
                }
                Ok(())
            })?;
            let setresp = scope.create_function(move |lua, args: MultiValue| {
                let resp = setresp_args(lua, args)?;
                if let Ok(mut h) = host.try_borrow_mut() {
                    h.set_resp(resp);
                }
                Ok(())
            })?;
            let check = scope.create_function(move |lua, ()| -> Result<()> {
                let previous = lua.app_data_ref::<RunCtx>().filter(|c| c.aborted).map(|c| c.abort_text.clone());
                if let Some(text) = previous {
                    return Err(raise_table(text));
                }
                let verdict = match host.try_borrow_mut() {
                    Ok(mut h) => h.check(),
                    Err(_) => Ok(()),
                };
                match verdict {
                    Ok(()) => Ok(()),
                    Err(text) => {
                        if let Some(mut c) = lua.app_data_mut::<RunCtx>() {
                            c.aborted = true;
                            c.abort_text = text.clone();
                        }
                        Err(raise_table(text))
                    }
                }
            })?;
            self.redis.raw_set("call", call)?;
            self.redis.raw_set("pcall", pcall)?;
            self.redis.raw_set("log", log)?;
            self.redis.raw_set("setresp", setresp)?;
            let acl_check = scope.create_function(move |_, args: MultiValue| {
                let argv = command_args(&args).map_err(raise_table)?;
                let verdict = match host.try_borrow_mut() {
                    Ok(mut h) => h.acl_check_cmd(argv),
                    Err(_) => Ok(true),
                };
                verdict.map_err(raise_table)
            })?;
            self.redis.raw_set("acl_check_cmd", acl_check)?;
            lua.set_named_registry_value(REGISTRY_CHECK, check)?;
            let result = if fcall {
                self.runner.call::<(bool, Value)>((function.clone(), keys_table, args_table))
            } else {
                self.runner.call::<(bool, Value)>((function.clone(), Value::Nil, Value::Nil))
            };
            lua.unset_named_registry_value(REGISTRY_CHECK)?;
            let (ok, value) = result?;
            let resp = lua.app_data_ref::<RunCtx>().map_or(2, |c| c.resp);
            Ok(if ok { lua_to_reply(&value, resp) } else { final_error(&value, name) })
        });
        // Scoped functions are dead now; put back the stubs.
        self.redis.raw_set("call", self.stubs.call.clone())?;
        self.redis.raw_set("pcall", self.stubs.call.clone())?;
        self.redis.raw_set("log", self.stubs.log.clone())?;
        self.redis.raw_set("setresp", self.stubs.setresp.clone())?;
        self.redis.raw_set("acl_check_cmd", self.stubs.acl_check.clone())?;
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
    if let Ok(Some(check)) = lua.named_registry_value::<Option<Function>>(REGISTRY_CHECK) {
        check.call::<()>(())?;
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

fn install_version(t: &Table) -> Result<()> {
    t.raw_set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
    t.raw_set("REDIS_VERSION", REDIS_VERSION)?;
    Ok(())
}

/// redis.log outside a run (library load): validated, then sent to the server's log. Returns
/// the function.
fn install_log(lua: &Lua, t: &Table) -> Result<Function> {
    let log = lua.create_function(|lua, args: MultiValue| {
        if let Some((level, msg)) = log_args(lua, args)? {
            match level {
                0 => tracing::debug!(target: "lua", "{msg}"),
                1 | 2 => tracing::info!(target: "lua", "{msg}"),
                _ => tracing::warn!(target: "lua", "{msg}"),
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
pub fn to_number(v: &Value) -> Option<f64> {
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
pub fn to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(fmt_g(*n, 14).into_bytes()),
        _ => None,
    }
}

/// redis.log's argument checks; `None` when nothing is to be logged.
fn log_args(lua: &Lua, args: MultiValue) -> Result<Option<(u8, String)>> {
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

fn setresp_args(lua: &Lua, args: MultiValue) -> Result<u8> {
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

fn redis_setresp(_: &Lua, _: MultiValue) -> Result<()> {
    Err(raise_table("ERR redis.setresp can only be called inside a script invocation"))
}

fn redis_sha1hex(lua: &Lua, args: MultiValue) -> Result<Value> {
    if args.len() != 1 {
        return Err(raise_table("ERR wrong number of arguments"));
    }
    let data = to_bytes(&args[0]).unwrap_or_default();
    Ok(Value::String(lua.create_string(sha1_hex(&data))?))
}

fn single_string_arg(args: &MultiValue) -> Option<Vec<u8>> {
    match args.len() {
        1 => match &args[0] {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        },
        _ => None,
    }
}

fn redis_error_reply(lua: &Lua, args: MultiValue) -> Result<Table> {
    let Some(text) = single_string_arg(&args) else {
        return error_table(lua, "ERR wrong number or type of arguments");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let text = if text.starts_with('-') { text } else { format!("-{text}") };
    error_table(lua, &error_text(&text))
}

fn redis_status_reply(lua: &Lua, args: MultiValue) -> Result<Table> {
    let Some(text) = single_string_arg(&args) else {
        return error_table(lua, "ERR wrong number or type of arguments");
    };
    let t = lua.create_table()?;
    t.raw_set("ok", lua.create_string(text)?)?;
    Ok(t)
}

fn redis_set_repl(_: &Lua, args: MultiValue) -> Result<()> {
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
fn command_args(args: &MultiValue) -> std::result::Result<Vec<Bytes>, &'static str> {
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
fn redis_call(lua: &Lua, args: MultiValue, raise_errors: bool, host: &RefCell<&mut dyn Host>) -> Result<Value> {
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
        match host.try_borrow_mut() {
            Ok(mut h) => h.call(argv),
            Err(_) => return fail(
                "ERR luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?",
            ),
        };
    if let Reply::Error(e) = &reply {
        return fail(&error_text(&format!("-{e}")));
    }
    let resp = lua.app_data_ref::<RunCtx>().map_or(2, |c| c.resp);
    reply_to_lua(lua, &reply, resp)
}

fn math_random(lua: &Lua, args: MultiValue) -> Result<f64> {
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

fn math_randomseed(lua: &Lua, args: MultiValue) -> Result<()> {
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

/// The message handler scripts run under (`__redis__err__handler`): makes the error a table
/// `{err=..., source=..., line=...}`.
fn error_handler(lua: &Lua, err: Value, tostring: &Function) -> Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        Value::Error(e) => error_table(lua, &error_value_text(&e))?,
        other => {
            let text: String = tostring.call::<String>(other).unwrap_or_else(|_| "?".to_owned());
            error_table(lua, &format!("ERR {text}"))?
        }
    };
    let mut level = 1;
    let mut frame = frame_info(lua, level);
    if frame.as_ref().is_some_and(|f| f.0 == "C") {
        level += 1;
        frame = frame_info(lua, level);
    }
    // Frames of the prelude's Lua glue stand for their caller.
    while frame.as_ref().is_some_and(|f| f.1 == "=strata") {
        level += 1;
        frame = frame_info(lua, level);
    }
    if let Some((_, source, line)) = frame {
        table.raw_set("source", source)?;
        table.raw_set("line", line)?;
    }
    Ok(table)
}

/// (what, source, current line) of the function at `level`.
fn frame_info(lua: &Lua, level: usize) -> Option<(&'static str, String, i64)> {
    lua.inspect_stack(level, |d| {
        let src = d.source();
        let line = d.current_line().map_or(-1, |l| l as i64);
        (src.what, src.source.map(|s| s.into_owned()).unwrap_or_default(), line)
    })
}

/// The `err` text of an error raised from Rust.
fn error_value_text(e: &mlua::Error) -> String {
    match e.downcast_ref::<ScriptError>() {
        Some(ScriptError::Table(t)) => t.clone(),
        Some(ScriptError::Message(m)) => format!("ERR {m}"),
        None => format!("ERR {e}"),
    }
}

/// What the script's pcall (`for_pcall`) or xpcall handler sees of an error raised from Rust:
/// Redis's pcall returns a table error's `err` string; xpcall handlers get the table.
fn convert_error(lua: &Lua, e: Value, for_pcall: bool) -> Result<Value> {
    let table_err = |v: &Value| -> Option<Value> {
        if let Value::Table(t) = v {
            match t.raw_get::<Value>("err") {
                Ok(s @ (Value::String(_) | Value::Number(_) | Value::Integer(_))) => Some(s),
                _ => None,
            }
        } else {
            None
        }
    };
    match &e {
        Value::Error(err) => match err.downcast_ref::<ScriptError>() {
            Some(ScriptError::Table(t)) => {
                if for_pcall {
                    Ok(Value::String(lua.create_string(t)?))
                } else {
                    Ok(Value::Table(error_table(lua, t)?))
                }
            }
            Some(ScriptError::Message(m)) => Ok(Value::String(lua.create_string(m)?)),
            None => Ok(Value::String(lua.create_string(err.to_string())?)),
        },
        v if for_pcall => Ok(table_err(v).unwrap_or(e)),
        _ => Ok(e),
    }
}

/// The reply for a script that failed with `value` (the handler's table).
fn final_error(value: &Value, name: &str) -> Reply {
    let Value::Table(t) = value else {
        return Reply::Error(format!("ERR Error running script {name}, execution failure"));
    };
    let err = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.to_string_lossy(),
        Ok(Value::Integer(i)) => i.to_string(),
        Ok(Value::Number(n)) => fmt_g(n, 14),
        _ => "ERR unknown error".to_owned(),
    };
    let source = t.raw_get::<Option<String>>("source").ok().flatten();
    let line = t.raw_get::<Value>("line").ok();
    let line = match line {
        Some(Value::Integer(i)) => Some(i.to_string()),
        Some(Value::Number(n)) => Some(fmt_g(n, 14)),
        Some(Value::String(s)) => Some(s.to_string_lossy()),
        _ => None,
    };
    let text = match (source, line) {
        (Some(source), Some(line)) => format!("{err} script: {name}, on {source}:{line}."),
        _ => err,
    };
    Reply::Error(text.replace(['\r', '\n'], " "))
}

/// The message of an error that ended a library load (no handler: strings get "ERR ").
fn load_error_text(lua: &Lua, err: Value) -> String {
    let _ = lua;
    match err {
        Value::String(s) => format!("ERR {}", s.to_string_lossy()),
        Value::Error(e) => error_value_text(&e),
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => s.to_string_lossy(),
            _ => "ERR unknown error".to_owned(),
        },
        Value::Integer(i) => format!("ERR {i}"),
        Value::Number(n) => format!("ERR {}", fmt_g(n, 14)),
        _ => "ERR unknown error".to_owned(),
    }
}
