//! The `cmsgpack` library (lua-cmsgpack 0.4.0 as Redis ships it): `pack(...)`, `unpack`,
//! `unpack_one`, `unpack_limit`.

use mlua::{Lua, MultiValue, Result, Table, Value};

use super::api::{to_bytes, to_number, type_name};
use super::errors::{arg_error, raise};

/// Tables nested deeper than this are packed as nil (LUACMSGPACK_MAX_NESTING).
const MAX_NESTING: usize = 16;
/// Input nested deeper than this is refused as bad data (the C library would exhaust the Lua
/// stack; here it would be the native one).
const MAX_DECODE_DEPTH: usize = 200;

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(arg_error(lua, 0, "pack", "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                encode(v, 0, &mut out)?;
            }
            lua.create_string(out)
        })?,
    )?;
    t.raw_set("unpack", lua.create_function(|lua, args: MultiValue| unpack(lua, &args, "unpack", 0, 0))?)?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let offset = opt_int(lua, &args, 2, "unpack_one")?;
            unpack(lua, &args, "unpack_one", 1, offset)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let limit = opt_int(lua, &args, 2, "unpack_limit")?;
            let offset = opt_int(lua, &args, 3, "unpack_limit")?;
            unpack(lua, &args, "unpack_limit", limit, offset)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

fn opt_int(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> Result<i64> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => Ok(0),
        Some(v) => match to_number(v) {
            Some(x) => Ok(x as i64),
            None => Err(arg_error(lua, n, name, &format!("number expected, got {}", type_name(v)))),
        },
    }
}

fn encode(v: &Value, level: usize, out: &mut Vec<u8>) -> Result<()> {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            let len = b.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.extend_from_slice(&[0xd9, len as u8]);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&b);
        }
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_int(*i, out),
        Value::Number(n) => {
            if n.is_finite() && (*n as i64) as f64 == *n {
                encode_int(*n as i64, out);
            } else {
                let f = *n as f32;
                if f64::from(f) == *n {
                    out.push(0xca);
                    out.extend_from_slice(&f.to_be_bytes());
                } else {
                    out.push(0xcb);
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
        }
        Value::Table(t) if level < MAX_NESTING => encode_table(t, level, out)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// lua-cmsgpack's `table_is_an_array`: only positive integer keys, no holes (empty counts).
fn is_array(t: &Table) -> Result<bool> {
    let (mut max, mut count) = (0i64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || n.fract() != 0.0 {
            return Ok(false);
        }
        count += 1;
        max = max.max(n as i64);
    }
    Ok(max == count)
}

fn encode_table(t: &Table, level: usize, out: &mut Vec<u8>) -> Result<()> {
    if is_array(t)? {
        let len = t.raw_len();
        put_len(out, len, 0x90, 0xdc, 0xdd);
        for i in 1..=len {
            encode(&t.raw_get::<Value>(i)?, level + 1, out)?;
        }
    } else {
        let pairs: Vec<(Value, Value)> = t.pairs::<Value, Value>().collect::<Result<_>>()?;
        put_len(out, pairs.len(), 0x80, 0xde, 0xdf);
        for (k, v) in &pairs {
            encode(k, level + 1, out)?;
            encode(v, level + 1, out)?;
        }
    }
    Ok(())
}

fn put_len(out: &mut Vec<u8>, len: usize, fix: u8, b16: u8, b32: u8) {
    if len <= 15 {
        out.push(fix | len as u8);
    } else if len <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

enum DecodeError {
    Eof,
    BadFormat,
}

fn unpack(lua: &Lua, args: &MultiValue, name: &str, limit: i64, offset: i64) -> Result<MultiValue> {
    let Some(s) = args.front().and_then(to_bytes) else {
        return Err(arg_error(
            lua,
            1,
            name,
            &format!("string expected, got {}", args.front().map_or("no value", type_name)),
        ));
    };
    if offset < 0 || limit < 0 {
        return Err(raise(lua, format!("Invalid request to unpack with offset of {offset} and limit of {limit}.")));
    }
    if offset as usize > s.len() {
        return Err(raise(lua, format!("Start offset {offset} greater than input length {}.", s.len())));
    }
    let decode_all = limit == 0 && offset == 0;
    let mut pos = offset as usize;
    let mut values = Vec::new();
    while pos < s.len() && (decode_all || (values.len() as i64) < limit) {
        match decode(lua, &s, &mut pos, 0) {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return Err(raise(lua, "Missing bytes in input.")),
            Err(DecodeError::BadFormat) => return Err(raise(lua, "Bad data format in input.")),
        }
    }
    if !decode_all {
        let next = if pos >= s.len() { -1 } else { pos as i64 };
        values.insert(0, Value::Integer(next));
    }
    Ok(MultiValue::from_vec(values))
}

fn take<'a>(s: &'a [u8], pos: &mut usize, n: usize) -> std::result::Result<&'a [u8], DecodeError> {
    let end = pos.checked_add(n).ok_or(DecodeError::Eof)?;
    let out = s.get(*pos..end).ok_or(DecodeError::Eof)?;
    *pos = end;
    Ok(out)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn decode(lua: &Lua, s: &[u8], pos: &mut usize, depth: usize) -> std::result::Result<Value, DecodeError> {
    if depth > MAX_DECODE_DEPTH {
        return Err(DecodeError::BadFormat);
    }
    let tag = take(s, pos, 1)?[0];
    let lua_err = |_| DecodeError::BadFormat;
    let string = |lua: &Lua, pos: &mut usize, n: usize| -> std::result::Result<Value, DecodeError> {
        let b = take(s, pos, n)?;
        lua.create_string(b).map(Value::String).map_err(lua_err)
    };
    Ok(match tag {
        0x00..=0x7f => Value::Integer(i64::from(tag)),
        0xe0..=0xff => Value::Integer(i64::from(tag as i8)),
        0xc0 => Value::Nil,
        0xc2 => Value::Boolean(false),
        0xc3 => Value::Boolean(true),
        0xcc => Value::Integer(be(take(s, pos, 1)?) as i64),
        0xcd => Value::Integer(be(take(s, pos, 2)?) as i64),
        0xce => Value::Integer(be(take(s, pos, 4)?) as i64),
        0xcf => Value::Number(be(take(s, pos, 8)?) as f64),
        0xd0 => Value::Integer(i64::from(be(take(s, pos, 1)?) as u8 as i8)),
        0xd1 => Value::Integer(i64::from(be(take(s, pos, 2)?) as u16 as i16)),
        0xd2 => Value::Integer(i64::from(be(take(s, pos, 4)?) as u32 as i32)),
        0xd3 => Value::Number(be(take(s, pos, 8)?) as i64 as f64),
        0xca => Value::Number(f64::from(f32::from_bits(be(take(s, pos, 4)?) as u32))),
        0xcb => Value::Number(f64::from_bits(be(take(s, pos, 8)?))),
        0xa0..=0xbf => string(lua, pos, usize::from(tag & 0x1f))?,
        0xd9 | 0xc4 => {
            let n = be(take(s, pos, 1)?) as usize;
            string(lua, pos, n)?
        }
        0xda | 0xc5 => {
            let n = be(take(s, pos, 2)?) as usize;
            string(lua, pos, n)?
        }
        0xdb | 0xc6 => {
            let n = be(take(s, pos, 4)?) as usize;
            string(lua, pos, n)?
        }
        0x90..=0x9f => decode_array(lua, s, pos, depth, usize::from(tag & 0x0f))?,
        0xdc => {
            let n = be(take(s, pos, 2)?) as usize;
            decode_array(lua, s, pos, depth, n)?
        }
        0xdd => {
            let n = be(take(s, pos, 4)?) as usize;
            decode_array(lua, s, pos, depth, n)?
        }
        0x80..=0x8f => decode_map(lua, s, pos, depth, usize::from(tag & 0x0f))?,
        0xde => {
            let n = be(take(s, pos, 2)?) as usize;
            decode_map(lua, s, pos, depth, n)?
        }
        0xdf => {
            let n = be(take(s, pos, 4)?) as usize;
            decode_map(lua, s, pos, depth, n)?
        }
        _ => return Err(DecodeError::BadFormat),
    })
}

fn decode_array(
    lua: &Lua,
    s: &[u8],
    pos: &mut usize,
    depth: usize,
    n: usize,
) -> std::result::Result<Value, DecodeError> {
    let t = lua.create_table().map_err(|_| DecodeError::BadFormat)?;
    for i in 1..=n {
        let v = decode(lua, s, pos, depth + 1)?;
        t.raw_set(i, v).map_err(|_| DecodeError::BadFormat)?;
    }
    Ok(Value::Table(t))
}

fn decode_map(lua: &Lua, s: &[u8], pos: &mut usize, depth: usize, n: usize) -> std::result::Result<Value, DecodeError> {
    let t = lua.create_table().map_err(|_| DecodeError::BadFormat)?;
    for _ in 0..n {
        let k = decode(lua, s, pos, depth + 1)?;
        let v = decode(lua, s, pos, depth + 1)?;
        if !k.is_nil() {
            t.raw_set(k, v).map_err(|_| DecodeError::BadFormat)?;
        }
    }
    Ok(Value::Table(t))
}
