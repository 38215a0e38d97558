//! Errors inside scripts, as Redis 7.0 shapes them: how Rust functions raise (a table
//! `{err=...}` as `luaPushError` + `luaError`, or a positioned string as `luaL_error`), the
//! message handler that adds the failing line (`__redis__err__handler`), what the script's
//! `pcall` / `xpcall` see, and the final error reply.

use mlua::{Function, Lua, Result, Table, Value};

use super::convert::error_table;
use super::numfmt::fmt_g;
use crate::reply::Reply;

/// An error raised by Rust code inside a script.
#[derive(Debug, Clone, thiserror::Error)]
pub(super) enum ScriptError {
    /// Redis raised a table `{err = text}` (luaPushError + luaError): `text` is final.
    #[error("{0}")]
    Table(String),
    /// Redis raised a string (luaL_error): position prefix included, no error code.
    #[error("{0}")]
    Message(String),
}

/// Raises `{err = text}`, `text` being a full error text ("ERR ...").
pub(super) fn raise_table(text: impl Into<String>) -> mlua::Error {
    mlua::Error::external(ScriptError::Table(text.into()))
}

/// Raises a string error the way `luaL_error` does: prefixed with the caller's position.
pub(super) fn raise(lua: &Lua, msg: impl AsRef<str>) -> mlua::Error {
    mlua::Error::external(ScriptError::Message(format!("{}{}", position(lua, 1), msg.as_ref())))
}

/// `luaL_argerror`: "bad argument #n to 'name' (msg)".
pub(super) fn arg_error(lua: &Lua, n: usize, name: &str, msg: &str) -> mlua::Error {
    raise(lua, format!("bad argument #{n} to '{name}' ({msg})"))
}

/// `luaL_where(L, level)`: "chunk:line: " when that frame is Lua code, else "".
pub(super) fn position(lua: &Lua, level: usize) -> String {
    lua.inspect_stack(level, |d| {
        let line = d.current_line()?;
        let src = d.source().short_src?.into_owned();
        Some(format!("{src}:{line}: "))
    })
    .flatten()
    .unwrap_or_default()
}

/// The message handler scripts run under (`__redis__err__handler`): makes the error a table
/// `{err=..., source=..., line=...}`.
pub(super) fn error_handler(lua: &Lua, err: Value, tostring: &Function) -> Result<Table> {
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
pub(super) fn frame_info(lua: &Lua, level: usize) -> Option<(&'static str, String, i64)> {
    lua.inspect_stack(level, |d| {
        let src = d.source();
        let line = d.current_line().map_or(-1, |l| l as i64);
        (src.what, src.source.map(|s| s.into_owned()).unwrap_or_default(), line)
    })
}

/// The `err` text of an error raised from Rust.
pub(super) fn error_value_text(e: &mlua::Error) -> String {
    match e.downcast_ref::<ScriptError>() {
        Some(ScriptError::Table(t)) => t.clone(),
        Some(ScriptError::Message(m)) => format!("ERR {m}"),
        None => format!("ERR {}", root_message(e)),
    }
}

/// What the script's pcall (`for_pcall`) or xpcall handler sees of an error raised from Rust:
/// Redis's pcall returns a table error's `err` string; xpcall handlers get the table.
pub(super) fn convert_error(lua: &Lua, e: Value, for_pcall: bool) -> Result<Value> {
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
            None => Ok(Value::String(lua.create_string(root_message(err))?)),
        },
        v if for_pcall => Ok(table_err(v).unwrap_or(e)),
        _ => Ok(e),
    }
}

/// The reply for a script that failed with `value` (the handler's table).
pub(super) fn final_error(value: &Value, name: &str) -> Reply {
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
pub(super) fn load_error_text(lua: &Lua, err: Value) -> String {
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

/// The message of the error at the bottom of mlua's wrapping, without its traceback.
fn root_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => root_message(cause),
        mlua::Error::RuntimeError(m) => m.split("\nstack traceback:").next().unwrap_or(m).to_owned(),
        other => other.to_string(),
    }
}
