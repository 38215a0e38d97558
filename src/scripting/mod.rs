//! The Lua side of Redis scripting: one sandboxed Lua 5.1 VM pair per [`Engine`] (one for EVAL
//! scripts, one for FUNCTION libraries, as Redis 7.0 keeps them apart), the `redis.*` API, the
//! conversions between [`Reply`] and Lua values, and the libraries Redis ships (cjson, cmsgpack,
//! bit, struct).
//!
//! This module knows nothing of the server, storage or sockets: everything a running script asks
//! of the server goes through the [`Host`] trait. The command side (EVAL, EVALSHA, SCRIPT,
//! FUNCTION, FCALL, atomicity, timeouts) belongs to `commands`.
//!
//! Error texts and conversions follow Redis 7.0 (`script_lua.c`, `eval.c`, `function_lua.c`).
//!
//! # Use from the command side
//!
//! - One [`Engine`] per thread that runs scripts (it is `Send`, not shared).
//! - EVAL / EVALSHA / SCRIPT LOAD: keep the global sha → body map; call
//!   [`parse_eval_shebang`] for the script's flags (no-writes, ...), then
//!   [`Engine::eval`] with the lowercase sha and the body (compiled and cached per engine on
//!   first use; [`Engine::compile`] checks syntax for SCRIPT LOAD; [`Engine::flush`] for SCRIPT
//!   FLUSH).
//! - FUNCTION LOAD: [`parse_library_metadata`] (name, engine; errors first, as Redis), check
//!   "Library already exists" yourself, then [`Engine::load_library`] (full load-time checks; its
//!   [`Library`] is FUNCTION LIST's data). Keep the code globally; on another thread call
//!   [`Engine::has_library`] and load lazily before [`Engine::fcall`].
//! - FCALL: find the library owning the function name, then [`Engine::fcall`].
//! - Everything a script asks of the server goes through [`Host`]: commands (`call`), the
//!   timeout / SCRIPT KILL decision (`check`, from the instruction hook every 100k
//!   instructions), `log`, and optionally `set_resp` / `acl_check_cmd`. Each run starts with
//!   RESP2 replies for redis.call; the script's `redis.setresp(3)` switches them.
//! - Replies come back as [`Reply`], errors as `Reply::Error` with Redis's full text, including
//!   the `" script: <sha|function>, on @user_script:<line>."` decoration.

mod api;
mod bit;
mod cjson;
mod cmsgpack;
mod convert;
mod errors;
mod library;
mod lstruct;
mod numfmt;
mod vm;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use bytes::Bytes;
use mlua::{Function, RegistryKey};

use crate::reply::Reply;
use vm::{Vm, VmKind};

pub use library::{parse_library_metadata, LibraryMetadata};

/// The Redis version scripts see in `redis.REDIS_VERSION`.
pub const REDIS_VERSION: &str = "7.0.15";
/// `redis.REDIS_VERSION_NUM`: 0x00MMmmpp.
pub const REDIS_VERSION_NUM: i64 = (7 << 16) | 15;

/// What a running script can ask of the server.
pub trait Host {
    /// Runs one command from redis.call/redis.pcall (`args[0]` is the name). Returns its reply;
    /// command errors come back as Reply::Error("ERR ...") (full text, no '-').
    fn call(&mut self, args: Vec<Bytes>) -> Reply;
    /// Called from the instruction hook (every 100k instructions): `Err(text)` aborts the script
    /// with that error text, the full reply text (e.g. "ERR Script killed by user with SCRIPT
    /// KILL..."). Once it has returned an error, `pcall` in the script can no longer catch it.
    fn check(&mut self) -> Result<(), String>;
    /// redis.log(level, msg) with level 0..=3 (debug, verbose, notice, warning).
    fn log(&mut self, level: u8, msg: &str);
    /// redis.setresp(2|3) was called: later redis.call replies are converted from this protocol
    /// by the engine. A host whose commands shape replies by protocol can follow it here.
    fn set_resp(&mut self, _resp: u8) {}
    /// redis.acl_check_cmd(...): whether the calling user may run this command (`args[0]` is the
    /// name). `Err(text)` raises that error (Redis: "ERR Invalid command passed to
    /// redis.acl_check_cmd()"). Without ACLs everything is allowed.
    fn acl_check_cmd(&mut self, _args: Vec<Bytes>) -> Result<bool, String> {
        Ok(true)
    }
}

/// A FUNCTION LOAD library as loaded: its name and functions.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    /// The `name=` of the `#!lua` shebang.
    pub name: String,
    /// Always "LUA".
    pub engine: &'static str,
    /// In registration order.
    pub functions: Vec<FunctionInfo>,
}

/// One function registered by a library.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    /// Canonical lowercase flag names ("no-writes", "allow-oom", ...), in the order given.
    pub flags: Vec<String>,
}

/// The flags a script may declare (`#!lua flags=...` for EVAL, `flags` for functions).
pub const SCRIPT_FLAGS: [&str; 5] = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"];

/// What an EVAL script's shebang line declares.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalShebang {
    /// False when the script has no shebang (Redis's "compat mode": no flags apply).
    pub present: bool,
    /// The declared flags, canonical names.
    pub flags: Vec<String>,
    /// Bytes of the shebang line (without its '\n'), stripped before compiling.
    pub len: usize,
}

/// Parses an EVAL body's `#!lua flags=a,b` first line as Redis's `evalExtractShebangFlags`;
/// errors are the full reply text.
pub fn parse_eval_shebang(body: &[u8]) -> Result<EvalShebang, String> {
    if !body.starts_with(b"#!") {
        return Ok(EvalShebang::default());
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid script shebang".to_owned());
    };
    let parts = crate::splitargs::split_args(&body[..end]).unwrap_or_default();
    let Some(engine) = parts.first() else {
        return Err("ERR Invalid engine in script shebang".to_owned());
    };
    if engine.as_slice() != b"#!lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {}", String::from_utf8_lossy(engine)));
    }
    let mut flags = Vec::new();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=".as_slice()) else {
            return Err(format!("ERR Unknown lua shebang option: {}", String::from_utf8_lossy(part)));
        };
        if list.is_empty() {
            continue;
        }
        for flag in list.split(|&b| b == b',') {
            match SCRIPT_FLAGS.iter().find(|f| f.as_bytes() == flag) {
                Some(f) => flags.push((*f).to_owned()),
                None => {
                    return Err(format!("ERR Unexpected flag in script shebang: {}", String::from_utf8_lossy(flag)))
                }
            }
        }
    }
    Ok(EvalShebang { present: true, flags, len: end })
}

/// The lowercase hex SHA1 of `data` (script names, `redis.sha1hex`).
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// A library loaded into this engine's function VM.
struct LoadedLibrary {
    /// SHA1 of the code it was loaded from, so the caller can tell a stale copy.
    code_sha: String,
    functions: HashMap<String, RegistryKey>,
}

/// One Lua VM pair per thread (EVAL scripts, FUNCTION libraries), created lazily by the caller.
pub struct Engine {
    eval_vm: Vm,
    function_vm: Vm,
    /// Compiled EVAL scripts by lowercase sha (Redis's `f_<sha>`).
    scripts: HashMap<String, RegistryKey>,
    libraries: HashMap<String, LoadedLibrary>,
}

impl Engine {
    /// Builds both VMs with Redis's sandbox.
    pub fn new() -> Result<Engine, String> {
        Ok(Engine {
            eval_vm: Vm::new(VmKind::Eval).map_err(|e| e.to_string())?,
            function_vm: Vm::new(VmKind::Function).map_err(|e| e.to_string())?,
            scripts: HashMap::new(),
            libraries: HashMap::new(),
        })
    }

    /// Runs an EVAL script body. `sha` is its lowercase hex SHA1 (the compiled function is
    /// cached under it until [`Engine::flush`]). A `#!lua` shebang line is validated and
    /// stripped (keeping its line feed, so line numbers hold). `resp` is the caller's protocol;
    /// the returned [`Reply`] is protocol-neutral except that, as Redis, a script that did not
    /// call `redis.setresp(3)` returns booleans as RESP2 (1 / null). Errors are the full reply
    /// text.
    pub fn eval(&mut self, sha: &str, body: &[u8], keys: &[Bytes], argv: &[Bytes], host: &mut dyn Host) -> Reply {
        let function = match self.compiled(sha, body) {
            Ok(f) => f,
            Err(reply) => return reply,
        };
        self.eval_vm.run(&function, sha, keys, argv, false, host)
    }

    /// Whether the script with this sha is compiled in this engine.
    pub fn has_script(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    /// Compiles a script without running it (SCRIPT LOAD's syntax check); the error is the full
    /// reply text ("ERR Error compiling script (new function): user_script:1: ...").
    pub fn compile(&mut self, sha: &str, body: &[u8]) -> Result<(), String> {
        match self.compiled(sha, body) {
            Ok(_) => Ok(()),
            Err(Reply::Error(e)) => Err(e),
            Err(_) => Err("ERR internal error".to_owned()),
        }
    }

    fn compiled(&mut self, sha: &str, body: &[u8]) -> Result<Function, Reply> {
        if let Some(key) = self.scripts.get(sha) {
            if let Ok(f) = self.eval_vm.lua.registry_value::<Function>(key) {
                return Ok(f);
            }
        }
        let shebang = parse_eval_shebang(body).map_err(Reply::Error)?;
        let function = self
            .eval_vm
            .compile(&body[shebang.len..], "@user_script")
            .map_err(|e| Reply::Error(format!("ERR Error compiling script (new function): {e}")))?;
        let key = self
            .eval_vm
            .lua
            .create_registry_value(function.clone())
            .map_err(|e| Reply::Error(format!("ERR internal error: {e}")))?;
        self.scripts.insert(sha.to_owned(), key);
        Ok(function)
    }

    /// Forgets every compiled script, with a fresh VM as SCRIPT FLUSH does in Redis.
    pub fn flush(&mut self) {
        self.scripts.clear();
        match Vm::new(VmKind::Eval) {
            Ok(vm) => self.eval_vm = vm,
            Err(e) => tracing::error!("cannot rebuild the Lua VM on SCRIPT FLUSH: {e}"),
        }
    }

    /// Parses and runs FUNCTION LOAD library code (with its `#!lua name=<lib>` shebang) in the
    /// load sandbox, as Redis 7.0: only `redis.register_function`, `redis.log`, the log levels
    /// and the version fields are visible while loading. Replaces any library of the same name
    /// loaded in this engine (whether that is allowed is the caller's decision). Returns the
    /// library or Redis's exact error text.
    pub fn load_library(&mut self, code: &[u8]) -> Result<Library, String> {
        let meta = parse_library_metadata(code)?;
        let (library, functions) = self.function_vm.load_library(&meta, &code[meta.shebang_len..])?;
        if let Some(old) = self.libraries.remove(&library.name) {
            for (_, key) in old.functions {
                let _ = self.function_vm.lua.remove_registry_value(key);
            }
        }
        self.libraries.insert(library.name.clone(), LoadedLibrary { code_sha: sha1_hex(code), functions });
        Ok(library)
    }

    /// Whether library `name` is loaded here from exactly `code` (so the caller knows whether
    /// to (re)load it into this thread's engine).
    pub fn has_library(&self, name: &str, code: &[u8]) -> bool {
        self.libraries.get(name).is_some_and(|l| l.code_sha == sha1_hex(code))
    }

    /// Drops library `name` from this engine (FUNCTION DELETE / FLUSH).
    pub fn unload_library(&mut self, name: &str) {
        if let Some(old) = self.libraries.remove(name) {
            for (_, key) in old.functions {
                let _ = self.function_vm.lua.remove_registry_value(key);
            }
        }
    }

    /// Calls function `name` of library `library` (loaded into this engine) with KEYS and ARGV
    /// as its two arguments. Errors are the full reply text, decorated as Redis's
    /// (`"... script: <name>, on @user_function:<line>."`).
    pub fn fcall(&mut self, library: &str, name: &str, keys: &[Bytes], args: &[Bytes], host: &mut dyn Host) -> Reply {
        let Some(key) = self.libraries.get(library).and_then(|l| l.functions.get(name)) else {
            return Reply::error("ERR Function not found");
        };
        let function = match self.function_vm.lua.registry_value::<Function>(key) {
            Ok(f) => f,
            Err(e) => return Reply::Error(format!("ERR internal error: {e}")),
        };
        self.function_vm.run(&function, name, keys, args, true, host)
    }

    /// Bytes of memory both Lua VMs use (INFO's used_memory_lua / FUNCTION STATS).
    pub fn used_memory(&self) -> usize {
        self.eval_vm.lua.used_memory() + self.function_vm.lua.used_memory()
    }
}
