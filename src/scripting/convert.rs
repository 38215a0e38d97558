//! Conversions between [`Reply`] and Lua values, as Redis 7.0's `redisProtocolToLuaType` (a
//! redis.call reply, seen in the protocol the script chose with `redis.setresp`) and
//! `luaReplyToRedisReply` (the value a script returns).

use bytes::{Bytes, BytesMut};
use mlua::{Lua, Result, Table, Value};

use crate::reply::{format_double, Reply};

/// Nesting deeper than this is refused rather than risking the native stack (Redis's limit is
/// the Lua stack, a few thousand levels; no real reply comes near either).
const MAX_DEPTH: usize = 200;

/// The `err` text of a Lua error table made from `text` as Redis's `luaPushErrorBuff`: "-CODE
/// msg" keeps its code, "-msg" without a space and plain "msg" get "ERR"; line breaks at the
/// ends are trimmed.
pub fn error_text(text: &str) -> String {
    let (code, msg) = match text.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => (code, msg),
            None => ("ERR", rest),
        },
        None => ("ERR", text),
    };
    format!("{code} {}", msg.trim_matches(|c| c == '\r' || c == '\n'))
}

/// A Lua error table `{err = text}`, `text` already in its final form.
pub fn error_table(lua: &Lua, text: &str) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", text)?;
    Ok(t)
}

/// Converts a command reply to the Lua value redis.call returns, as the reply would read in
/// protocol `resp` (2 or 3).
pub fn reply_to_lua(lua: &Lua, reply: &Reply, resp: u8) -> Result<Value> {
    let resp3 = resp == 3;
    Ok(match reply {
        Reply::Ok => status(lua, "OK")?,
        Reply::Simple(s) => status(lua, s)?,
        Reply::SimpleOwned(s) => status(lua, s)?,
        Reply::Error(e) => Value::Table(error_table(lua, &error_text(&format!("-{e}")))?),
        Reply::Int(n) => Value::Number(*n as f64),
        Reply::Bulk(b) => Value::String(lua.create_string(b)?),
        Reply::Null | Reply::NullArray => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Reply::Array(items) | Reply::Push(items) | Reply::Frames(items) => array(lua, items.iter(), resp)?,
        Reply::Set(items) => {
            if resp3 {
                let set = lua.create_table()?;
                for item in items {
                    let v = reply_to_lua(lua, item, resp)?;
                    if !v.is_nil() {
                        set.raw_set(v, true)?;
                    }
                }
                wrapped(lua, "set", Value::Table(set))?
            } else {
                array(lua, items.iter(), resp)?
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                let map = lua.create_table()?;
                for (k, v) in pairs {
                    let k = reply_to_lua(lua, k, resp)?;
                    if !k.is_nil() {
                        map.raw_set(k, reply_to_lua(lua, v, resp)?)?;
                    }
                }
                wrapped(lua, "map", Value::Table(map))?
            } else {
                array(lua, pairs.iter().flat_map(|(k, v)| [k, v]), resp)?
            }
        }
        Reply::Double(d) => {
            if resp3 {
                wrapped(lua, "double", Value::Number(*d))?
            } else {
                Value::String(lua.create_string(format_double(*d))?)
            }
        }
        Reply::DoubleText(text) => {
            let text_value = Value::String(lua.create_string(text)?);
            if resp3 {
                let d = std::str::from_utf8(text).ok().and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0);
                wrapped(lua, "double", Value::Number(d))?
            } else {
                text_value
            }
        }
        Reply::BigNumber(digits) => {
            let digits = Value::String(lua.create_string(digits)?);
            if resp3 {
                wrapped(lua, "big_number", digits)?
            } else {
                digits
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                Value::Boolean(*b)
            } else {
                Value::Number(if *b { 1.0 } else { 0.0 })
            }
        }
        Reply::Verbatim(format, text) => {
            if resp3 {
                let inner = lua.create_table()?;
                inner.raw_set("string", lua.create_string(text)?)?;
                inner.raw_set("format", *format)?;
                wrapped(lua, "verbatim_string", Value::Table(inner))?
            } else {
                Value::String(lua.create_string(text)?)
            }
        }
        Reply::BulkArray(_) => {
            let t = lua.create_table()?;
            for (i, item) in bulk_array_items(reply).into_iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(item)?)?;
            }
            Value::Table(t)
        }
    })
}

fn status(lua: &Lua, text: &str) -> Result<Value> {
    wrapped(lua, "ok", Value::String(lua.create_string(text)?))
}

/// `{<field> = value}`.
fn wrapped(lua: &Lua, field: &str, value: Value) -> Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(field, value)?;
    Ok(Value::Table(t))
}

fn array<'a>(lua: &Lua, items: impl Iterator<Item = &'a Reply>, resp: u8) -> Result<Value> {
    let t = lua.create_table()?;
    for (i, item) in items.enumerate() {
        t.raw_set(i + 1, reply_to_lua(lua, item, resp)?)?;
    }
    Ok(Value::Table(t))
}

/// The elements of a [`Reply::BulkArray`], read back from its encoding.
fn bulk_array_items(reply: &Reply) -> Vec<Bytes> {
    let mut out = BytesMut::new();
    reply.encode(2, &mut out);
    let buf = out.freeze();
    let mut items = Vec::new();
    let mut pos = match buf.iter().position(|&b| b == b'\n') {
        Some(p) => p + 1,
        None => return items,
    };
    while pos < buf.len() && buf[pos] == b'$' {
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else { break };
        let len: usize = match std::str::from_utf8(&buf[pos + 1..pos + nl - 1]).ok().and_then(|s| s.parse().ok()) {
            Some(len) => len,
            None => break,
        };
        let start = pos + nl + 1;
        if start + len > buf.len() {
            break;
        }
        items.push(buf.slice(start..start + len));
        pos = start + len + 2;
    }
    items
}

/// Converts a script's return value to a reply. `script_resp` is the protocol the script
/// chose with redis.setresp (2 unless it called it): with 2, booleans become 1 / null.
pub fn lua_to_reply(value: &Value, script_resp: u8) -> Reply {
    to_reply(value, script_resp, 0)
}

fn to_reply(value: &Value, resp: u8, depth: usize) -> Reply {
    if depth > MAX_DEPTH {
        return Reply::error("ERR reached lua stack limit");
    }
    match value {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => {
            if resp == 2 {
                if *b {
                    Reply::Int(1)
                } else {
                    Reply::Null
                }
            } else {
                Reply::Bool(*b)
            }
        }
        Value::Integer(i) => Reply::Int(*i),
        Value::Number(n) => Reply::Int(number_to_i64(*n)),
        Value::Table(t) => table_to_reply(t, resp, depth),
        _ => Reply::Null,
    }
}

/// C's `(long long)` cast of a double as x86-64 performs it: out of range and NaN give i64::MIN.
pub fn number_to_i64(n: f64) -> i64 {
    if n.is_finite() && n > -9.223_372_036_854_776e18 && n < 9.223_372_036_854_776e18 {
        n as i64
    } else {
        i64::MIN
    }
}

fn table_to_reply(t: &Table, resp: u8, depth: usize) -> Reply {
    let field = |name: &str| -> Value { t.get::<Value>(name).unwrap_or(Value::Nil) };
    if let Value::String(err) = field("err") {
        return Reply::Error(single_line(&err.to_string_lossy()));
    }
    if let Value::String(ok) = field("ok") {
        return Reply::SimpleOwned(single_line(&ok.to_string_lossy()));
    }
    match field("double") {
        Value::Number(d) => return Reply::Double(d),
        Value::Integer(i) => return Reply::Double(i as f64),
        _ => {}
    }
    if let Value::String(big) = field("big_number") {
        return Reply::BigNumber(Bytes::from(single_line(&big.to_string_lossy())));
    }
    if let Value::Table(v) = field("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.get::<Value>("format"), v.get::<Value>("string"))
        {
            let format: &'static str = match &*format.as_bytes() {
                b"mkd" => "mkd",
                _ => "txt",
            };
            return Reply::Verbatim(format, Bytes::copy_from_slice(&text.as_bytes()));
        }
    }
    if let Value::Table(map) = field("map") {
        let mut pairs = Vec::new();
        for (k, v) in map.pairs::<Value, Value>().flatten() {
            pairs.push((to_reply(&k, resp, depth + 1), to_reply(&v, resp, depth + 1)));
        }
        return Reply::Map(pairs);
    }
    if let Value::Table(set) = field("set") {
        let mut items = Vec::new();
        for (k, _) in set.pairs::<Value, Value>().flatten() {
            items.push(to_reply(&k, resp, depth + 1));
        }
        return Reply::Set(items);
    }
    let mut items = Vec::new();
    for j in 1.. {
        match t.get::<Value>(j) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(to_reply(&v, resp, depth + 1)),
        }
    }
    Reply::Array(items)
}

/// Redis maps '\r' and '\n' to spaces in status and error lines.
fn single_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}
