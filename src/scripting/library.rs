//! FUNCTION LOAD libraries: the `#!lua name=<lib>` metadata line (functions.c
//! `functionExtractLibMetaData`) and `redis.register_function` (function_lua.c), with Redis
//! 7.0.15's error texts.

use mlua::{Function, Lua, MultiValue, Result, Value};

use super::errors::raise_table;
use super::{FunctionInfo, SCRIPT_FLAGS};

/// What the first line of a library declares.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryMetadata {
    /// The engine named after `#!` ("lua", in the case given).
    pub engine: String,
    /// The library name (validated).
    pub name: String,
    /// Bytes of the metadata line, without its '\n'.
    pub shebang_len: usize,
}

/// Parses and validates a library's metadata line; errors are the full reply text.
pub fn parse_library_metadata(code: &[u8]) -> std::result::Result<LibraryMetadata, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".to_owned());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid library metadata".to_owned());
    };
    let parts = match crate::splitargs::split_args(&code[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("ERR Invalid library metadata".to_owned()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name: Option<String> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("ERR Invalid metadata value, name argument was given multiple times".to_owned());
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
        } else {
            return Err(format!("ERR Invalid metadata value given: {}", String::from_utf8_lossy(part)));
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".to_owned());
    };
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    if !valid_name(&name) {
        return Err(NAME_ERROR.to_owned());
    }
    Ok(LibraryMetadata { engine, name, shebang_len: end })
}

/// Redis 7.0 gives this text for bad library and bad function names alike.
const NAME_ERROR: &str =
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// `functionsVerifyName`: letters, digits and '_', at least one.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A function registered during a load.
pub struct Registered {
    pub info: FunctionInfo,
    pub callback: Function,
}

/// A string as `lua_isstring` accepts (strings and numbers).
fn string_value(v: &Value) -> Option<String> {
    super::api::to_bytes(v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=...,
/// callback=..., flags={...}, description=...}`.
pub fn register_function(_lua: &Lua, args: MultiValue, registered: &mut Vec<Registered>) -> Result<()> {
    let (name, callback, description, flags) = match args.len() {
        1 => named_args(&args[0])?,
        2 => {
            let Some(name) = string_value(&args[0]) else {
                return Err(raise_table("ERR first argument to redis.register_function must be a string"));
            };
            let Value::Function(callback) = &args[1] else {
                return Err(raise_table("ERR second argument to redis.register_function must be a function"));
            };
            (name, callback.clone(), None, Vec::new())
        }
        _ => return Err(raise_table("ERR wrong number of arguments to redis.register_function")),
    };
    if !valid_name(&name) {
        return Err(raise_table(NAME_ERROR));
    }
    if registered.iter().any(|r| r.info.name == name) {
        return Err(raise_table("ERR Function already exists in the library"));
    }
    registered.push(Registered { info: FunctionInfo { name, description, flags }, callback });
    Ok(())
}

type Parsed = (String, Function, Option<String>, Vec<String>);

fn named_args(arg: &Value) -> Result<Parsed> {
    let Value::Table(t) = arg else {
        return Err(raise_table("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
    };
    let (mut name, mut callback, mut description, mut flags) = (None, None, None, Vec::new());
    for pair in t.pairs::<Value, Value>() {
        let (key, value) = pair?;
        let Some(key) = string_value(&key) else {
            return Err(raise_table("ERR named argument key given to redis.register_function is not a string"));
        };
        if key.eq_ignore_ascii_case("function_name") {
            match string_value(&value) {
                Some(n) => name = Some(n),
                None => {
                    return Err(raise_table(
                        "ERR function_name argument given to redis.register_function must be a string",
                    ))
                }
            }
        } else if key.eq_ignore_ascii_case("description") {
            match string_value(&value) {
                Some(d) => description = Some(d),
                None => {
                    return Err(raise_table(
                        "ERR description argument given to redis.register_function must be a string",
                    ))
                }
            }
        } else if key.eq_ignore_ascii_case("callback") {
            match value {
                Value::Function(f) => callback = Some(f),
                _ => {
                    return Err(raise_table(
                        "ERR callback argument given to redis.register_function must be a function",
                    ))
                }
            }
        } else if key.eq_ignore_ascii_case("flags") {
            let Value::Table(list) = value else {
                return Err(raise_table(
                    "ERR flags argument to redis.register_function must be a table representing function flags",
                ));
            };
            flags.clear();
            for j in 1.. {
                let v: Value = list.get(j)?;
                if v.is_nil() {
                    break;
                }
                let known =
                    string_value(&v).and_then(|f| SCRIPT_FLAGS.iter().find(|k| k.eq_ignore_ascii_case(&f)).copied());
                match known {
                    Some(f) => flags.push(f.to_owned()),
                    None => return Err(raise_table("ERR unknown flag given")),
                }
            }
        } else {
            return Err(raise_table("ERR unknown argument given to redis.register_function"));
        }
    }
    let Some(name) = name else {
        return Err(raise_table("ERR redis.register_function must get a function name argument"));
    };
    let Some(callback) = callback else {
        return Err(raise_table("ERR redis.register_function must get a callback argument"));
    };
    Ok((name, callback, description, flags))
}
