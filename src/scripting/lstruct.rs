//! The `struct` library (Roberto Ierusalimschy's struct 0.2, as Redis ships it): `pack`,
//! `unpack` and `size` of binary records described by a format string.
//!
//! Options: `<` `>` `=` endianness, `!n` maximum alignment, `x` a pad byte, `b`/`B` char,
//! `h`/`H` short, `l`/`L` long (8 bytes), `T` size_t, `i`/`I` int (4 bytes, or `in` bytes),
//! `f` float, `d` double, `s` zero-terminated string, `cn` char array (`c0`: the string's
//! length when packing, the previous number when unpacking).

use mlua::{Lua, MultiValue, Result, Table, Value};

use super::api::{to_bytes, to_number, type_name};
use super::errors::{arg_error, raise};

const MAX_INT_SIZE: usize = 32;
const NATIVE_ALIGN: usize = 8;

struct Header {
    big_endian: bool,
    align: usize,
}

/// One format option: its letter and size.
struct Opt {
    op: u8,
    size: usize,
}

/// Reads the next option from `fmt` at `*i`, applying `<`, `>`, `=`, `!` and spaces to `h`.
fn next_opt(lua: &Lua, name: &str, fmt: &[u8], i: &mut usize, h: &mut Header) -> Result<Option<Opt>> {
    while *i < fmt.len() {
        let op = fmt[*i];
        *i += 1;
        let size = match op {
            b' ' => continue,
            b'>' => {
                h.big_endian = true;
                continue;
            }
            b'<' | b'=' => {
                h.big_endian = false;
                continue;
            }
            b'!' => {
                h.align = number(lua, fmt, i, NATIVE_ALIGN)?;
                continue;
            }
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' => 8,
            b'f' => 4,
            b'd' => 8,
            b's' => 0,
            b'c' => number(lua, fmt, i, 1)?,
            b'i' | b'I' => {
                let size = number(lua, fmt, i, 4)?;
                if size > MAX_INT_SIZE {
                    return Err(raise(lua, format!("integral size {size} is larger than limit of {MAX_INT_SIZE}")));
                }
                size
            }
            other => return Err(arg_error(lua, 1, name, &format!("invalid format option '{}'", other as char))),
        };
        return Ok(Some(Opt { op, size }));
    }
    Ok(None)
}

/// A decimal count following an option, or `default`.
fn number(lua: &Lua, fmt: &[u8], i: &mut usize, default: usize) -> Result<usize> {
    if *i >= fmt.len() || !fmt[*i].is_ascii_digit() {
        return Ok(default);
    }
    let mut n: usize = 0;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        if n > (i32::MAX as usize - 9) / 10 {
            return Err(raise(lua, "integral size overflow"));
        }
        n = n * 10 + usize::from(fmt[*i] - b'0');
        *i += 1;
    }
    Ok(n)
}

/// Padding needed before an option of `size` at offset `len`.
fn to_align(lua: &Lua, len: usize, h: &Header, opt: &Opt) -> Result<usize> {
    if opt.size <= 1 || opt.op == b'c' {
        return Ok(0);
    }
    let align = opt.size.min(h.align);
    if align == 0 || align & (align - 1) != 0 {
        return Err(arg_error(lua, 1, "pack", "format asks for alignment not power of 2"));
    }
    Ok((align - (len & (align - 1))) & (align - 1))
}

fn fmt_arg(lua: &Lua, args: &MultiValue, name: &str) -> Result<Vec<u8>> {
    args.front().and_then(to_bytes).ok_or_else(|| {
        arg_error(lua, 1, name, &format!("string expected, got {}", args.front().map_or("no value", type_name)))
    })
}

fn put_int(out: &mut Vec<u8>, value: u64, big_endian: bool, size: usize) {
    let mut bytes: Vec<u8> = (0..size).map(|i| if i < 8 { (value >> (8 * i)) as u8 } else { 0 }).collect();
    if big_endian {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn pack(lua: &Lua, args: MultiValue) -> Result<Value> {
    let fmt = fmt_arg(lua, &args, "pack")?;
    let mut h = Header { big_endian: false, align: 1 };
    let mut out = Vec::new();
    let mut i = 0;
    let mut arg = 1;
    while let Some(opt) = next_opt(lua, "pack", &fmt, &mut i, &mut h)? {
        let pad = to_align(lua, out.len(), &h, &opt)?;
        out.resize(out.len() + pad, 0);
        let number_arg = |arg: usize| -> Result<f64> {
            args.get(arg).and_then(to_number).ok_or_else(|| {
                arg_error(
                    lua,
                    arg + 1,
                    "pack",
                    &format!("number expected, got {}", args.get(arg).map_or("no value", type_name)),
                )
            })
        };
        match opt.op {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number_arg(arg)?;
                arg += 1;
                let value = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                put_int(&mut out, value, h.big_endian, opt.size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = number_arg(arg)? as f32;
                arg += 1;
                let b = if h.big_endian { f.to_be_bytes() } else { f.to_le_bytes() };
                out.extend_from_slice(&b);
            }
            b'd' => {
                let d = number_arg(arg)?;
                arg += 1;
                let b = if h.big_endian { d.to_be_bytes() } else { d.to_le_bytes() };
                out.extend_from_slice(&b);
            }
            _ => {
                // 'c' and 's'
                let Some(s) = args.get(arg).and_then(to_bytes) else {
                    return Err(arg_error(
                        lua,
                        arg + 1,
                        "pack",
                        &format!("string expected, got {}", args.get(arg).map_or("no value", type_name)),
                    ));
                };
                arg += 1;
                let size = if opt.size == 0 { s.len() } else { opt.size };
                if s.len() < size {
                    return Err(arg_error(lua, arg, "pack", "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt.op == b's' {
                    out.push(0);
                }
            }
        }
    }
    Ok(Value::String(lua.create_string(out)?))
}

fn get_int(data: &[u8], big_endian: bool, signed: bool, size: usize) -> f64 {
    let mut value: u64 = 0;
    for k in 0..size {
        let byte = if big_endian { data[k] } else { data[size - 1 - k] };
        value = (value << 8) | u64::from(byte);
    }
    if signed && size < 8 && size > 0 {
        let shift = 64 - 8 * size as u32;
        ((value << shift) as i64 >> shift) as f64
    } else if signed {
        value as i64 as f64
    } else {
        value as f64
    }
}

fn unpack(lua: &Lua, args: MultiValue) -> Result<MultiValue> {
    let fmt = fmt_arg(lua, &args, "unpack")?;
    let Some(data) = args.get(1).and_then(to_bytes) else {
        return Err(arg_error(
            lua,
            2,
            "unpack",
            &format!("string expected, got {}", args.get(1).map_or("no value", type_name)),
        ));
    };
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1,
        Some(v) => to_number(v)
            .map(|n| n as i64)
            .ok_or_else(|| arg_error(lua, 3, "unpack", &format!("number expected, got {}", type_name(v))))?,
    };
    if start < 1 {
        return Err(arg_error(lua, 3, "unpack", "offset must be 1 or greater"));
    }
    let mut pos = (start - 1) as usize;
    let mut h = Header { big_endian: false, align: 1 };
    let mut values: Vec<Value> = Vec::new();
    let mut i = 0;
    let short = |lua: &Lua| arg_error(lua, 2, "unpack", "data string too short");
    while let Some(opt) = next_opt(lua, "unpack", &fmt, &mut i, &mut h)? {
        pos += to_align(lua, pos, &h, &opt)?;
        let mut size = opt.size;
        if pos + size > data.len() {
            return Err(short(lua));
        }
        match opt.op {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.op.is_ascii_lowercase();
                values.push(Value::Number(get_int(&data[pos..pos + size], h.big_endian, signed, size)));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = if h.big_endian { f32::from_be_bytes(b) } else { f32::from_le_bytes(b) };
                values.push(Value::Number(f64::from(f)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.big_endian { f64::from_be_bytes(b) } else { f64::from_le_bytes(b) };
                values.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let previous = values.last().and_then(to_number);
                    let Some(n) = previous else {
                        return Err(raise(lua, "format 'c0' needs a previous size"));
                    };
                    values.pop();
                    size = n as usize;
                    if pos + size > data.len() {
                        return Err(short(lua));
                    }
                }
                values.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            _ => {
                // 's'
                let Some(nul) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(raise(lua, "unfinished string in data"));
                };
                values.push(Value::String(lua.create_string(&data[pos..pos + nul])?));
                size = nul + 1;
            }
        }
        pos += size;
    }
    values.push(Value::Integer(pos as i64 + 1));
    Ok(MultiValue::from_vec(values))
}

fn size(lua: &Lua, args: MultiValue) -> Result<i64> {
    let fmt = fmt_arg(lua, &args, "size")?;
    let mut h = Header { big_endian: false, align: 1 };
    let mut total = 0usize;
    let mut i = 0;
    while let Some(opt) = next_opt(lua, "size", &fmt, &mut i, &mut h)? {
        total += to_align(lua, total, &h, &opt)?;
        if opt.op == b's' {
            return Err(arg_error(lua, 1, "size", "option 's' has no fixed size"));
        }
        if opt.op == b'c' && opt.size == 0 {
            return Err(arg_error(lua, 1, "size", "option 'c0' has no fixed size"));
        }
        total += opt.size;
    }
    Ok(total as i64)
}

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(pack)?)?;
    t.raw_set("unpack", lua.create_function(unpack)?)?;
    t.raw_set("size", lua.create_function(size)?)?;
    Ok(t)
}
