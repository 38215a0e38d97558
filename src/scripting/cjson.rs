//! The `cjson` library (lua-cjson 2.1.0 as Redis ships it, default settings): `encode`,
//! `decode`, `null`, and the settings functions (which report the defaults and change nothing).

use mlua::{LightUserData, Lua, MultiValue, Result, Table, Value};

use super::api::{to_bytes, to_number, type_name};
use super::errors::{arg_error, raise};
use super::numfmt::fmt_g;

/// lua-cjson's settings; the setter functions change them for the VM, as the C library's
/// do for Redis's single VM.
#[derive(Debug, Clone, Copy)]
struct Config {
    encode_max_depth: usize,
    decode_max_depth: usize,
    precision: usize,
    sparse_convert: bool,
    sparse_ratio: usize,
    sparse_safe: usize,
    /// NaN and infinities: refused (false), written as nan/inf (true), or as null.
    encode_invalid: Invalid,
    decode_invalid: bool,
    keep_buffer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Invalid {
    Refuse,
    Allow,
    Null,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            precision: 14,
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_invalid: Invalid::Refuse,
            decode_invalid: true,
            keep_buffer: true,
        }
    }
}

fn config(lua: &Lua) -> Config {
    lua.app_data_ref::<Config>().map(|c| *c).unwrap_or_default()
}

fn update(lua: &Lua, f: impl FnOnce(&mut Config)) {
    if let Some(mut c) = lua.app_data_mut::<Config>() {
        f(&mut c);
    }
}

/// An integer setting argument (`json_integer_option`): None when absent.
fn int_option(lua: &Lua, args: &MultiValue, n: usize, name: &str, min: i64, max: i64) -> Result<Option<usize>> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => match to_number(v).map(|x| x as i64) {
            Some(x) if (min..=max).contains(&x) => Ok(Some(x as usize)),
            _ => Err(arg_error(lua, n, name, &format!("expected integer between {min} and {max}"))),
        },
    }
}

/// A boolean setting argument (`json_enum_option` with on/off): None when absent.
fn bool_option(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> Result<Option<bool>> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if &*s.as_bytes() == b"on" => Ok(Some(true)),
        Some(Value::String(s)) if &*s.as_bytes() == b"off" => Ok(Some(false)),
        Some(_) => Err(arg_error(lua, n, name, "invalid option")),
    }
}

fn install_settings(lua: &Lua, t: &Table) -> Result<()> {
    t.raw_set(
        "encode_sparse_array",
        lua.create_function(|lua, a: MultiValue| {
            let name = "encode_sparse_array";
            let convert = bool_option(lua, &a, 1, name)?;
            let ratio = int_option(lua, &a, 2, name, 0, i64::from(i32::MAX))?;
            let safe = int_option(lua, &a, 3, name, 0, i64::from(i32::MAX))?;
            update(lua, |c| {
                c.sparse_convert = convert.unwrap_or(c.sparse_convert);
                c.sparse_ratio = ratio.unwrap_or(c.sparse_ratio);
                c.sparse_safe = safe.unwrap_or(c.sparse_safe);
            });
            let c = config(lua);
            Ok((c.sparse_convert, c.sparse_ratio as i64, c.sparse_safe as i64))
        })?,
    )?;
    t.raw_set(
        "encode_max_depth",
        lua.create_function(|lua, a: MultiValue| {
            let v = int_option(lua, &a, 1, "encode_max_depth", 1, i64::from(i32::MAX))?;
            update(lua, |c| c.encode_max_depth = v.unwrap_or(c.encode_max_depth));
            Ok(config(lua).encode_max_depth as i64)
        })?,
    )?;
    t.raw_set(
        "decode_max_depth",
        lua.create_function(|lua, a: MultiValue| {
            let v = int_option(lua, &a, 1, "decode_max_depth", 1, i64::from(i32::MAX))?;
            update(lua, |c| c.decode_max_depth = v.unwrap_or(c.decode_max_depth));
            Ok(config(lua).decode_max_depth as i64)
        })?,
    )?;
    t.raw_set(
        "encode_number_precision",
        lua.create_function(|lua, a: MultiValue| {
            let v = int_option(lua, &a, 1, "encode_number_precision", 1, 14)?;
            update(lua, |c| c.precision = v.unwrap_or(c.precision));
            Ok(config(lua).precision as i64)
        })?,
    )?;
    t.raw_set(
        "encode_keep_buffer",
        lua.create_function(|lua, a: MultiValue| {
            let v = bool_option(lua, &a, 1, "encode_keep_buffer")?;
            update(lua, |c| c.keep_buffer = v.unwrap_or(c.keep_buffer));
            Ok(config(lua).keep_buffer)
        })?,
    )?;
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(|lua, a: MultiValue| {
            let v = match a.front() {
                Some(Value::String(s)) if &*s.as_bytes() == b"null" => Some(Invalid::Null),
                _ => bool_option(lua, &a, 1, "encode_invalid_numbers")?.map(|b| {
                    if b {
                        Invalid::Allow
                    } else {
                        Invalid::Refuse
                    }
                }),
            };
            update(lua, |c| c.encode_invalid = v.unwrap_or(c.encode_invalid));
            Ok(match config(lua).encode_invalid {
                Invalid::Refuse => Value::Boolean(false),
                Invalid::Allow => Value::Boolean(true),
                Invalid::Null => Value::String(lua.create_string("null")?),
            })
        })?,
    )?;
    t.raw_set(
        "decode_invalid_numbers",
        lua.create_function(|lua, a: MultiValue| {
            let v = bool_option(lua, &a, 1, "decode_invalid_numbers")?;
            update(lua, |c| c.decode_invalid = v.unwrap_or(c.decode_invalid));
            Ok(config(lua).decode_invalid)
        })?,
    )?;
    Ok(())
}

/// `cjson.null`: a NULL light userdata, as lua-cjson's.
pub fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "encode",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(arg_error(lua, 1, "encode", "expected 1 argument"));
            }
            let mut out = Vec::new();
            encode(&args[0], &config(lua), &mut out).map_err(|m| raise(lua, m))?;
            lua.create_string(out)
        })?,
    )?;
    t.raw_set(
        "decode",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(arg_error(lua, 1, "decode", "expected 1 argument"));
            }
            let Some(text) = to_bytes(&args[0]) else {
                return Err(arg_error(lua, 1, "decode", &format!("string expected, got {}", type_name(&args[0]))));
            };
            let max_depth = config(lua).decode_max_depth;
            let mut parser = Parser { lua, s: &text, pos: 0, depth: 0, max_depth };
            parser.document().map_err(|m| raise(lua, m))
        })?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    lua.set_app_data(Config::default());
    install_settings(lua, &t)?;
    let me = t.clone();
    t.raw_set("new", lua.create_function(move |_, _: MultiValue| Ok(me.clone()))?)?;
    Ok(t)
}

/// What is left to write, innermost last; an explicit stack so that deep (or self-referencing)
/// tables cost heap, not native stack, on their way to the nesting error.
enum Work {
    Value(Value, usize),
    Literal(&'static [u8]),
    Bytes(Vec<u8>),
    /// An error found while listing a table, raised when the encoder gets there, as lua-cjson
    /// (which would have written everything before it) does.
    Fail(String),
}

fn encode(root: &Value, cfg: &Config, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let mut stack = vec![Work::Value(root.clone(), 0)];
    while let Some(work) = stack.pop() {
        match work {
            Work::Literal(b) => out.extend_from_slice(b),
            Work::Bytes(b) => out.extend_from_slice(&b),
            Work::Fail(msg) => return Err(msg),
            Work::Value(Value::Table(t), depth) => {
                let depth = depth + 1;
                if depth > cfg.encode_max_depth {
                    return Err(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                push_table(&t, depth, cfg, out, &mut stack)?;
            }
            Work::Value(v, _) => encode_scalar(&v, cfg, out)?,
        }
    }
    Ok(())
}

fn encode_scalar(v: &Value, cfg: &Config, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Integer(i) => out.extend_from_slice(fmt_g(*i as f64, cfg.precision).as_bytes()),
        Value::Number(n) => {
            if !n.is_finite() {
                match cfg.encode_invalid {
                    Invalid::Refuse => return Err("Cannot serialise number: must not be NaN or Inf".to_owned()),
                    Invalid::Null => {
                        out.extend_from_slice(b"null");
                        return Ok(());
                    }
                    Invalid::Allow => {}
                }
            }
            out.extend_from_slice(fmt_g(*n, cfg.precision).as_bytes());
        }
        Value::String(s) => escape(&s.as_bytes(), out),
        other => return Err(format!("Cannot serialise {}: type not supported", type_name(other))),
    }
    Ok(())
}

/// lua-cjson's `lua_array_length`: Some(max index) when every key is a positive integer.
fn array_length(t: &Table, cfg: &Config) -> std::result::Result<Option<usize>, String> {
    let (mut max, mut items) = (0usize, 0usize);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        let index = match k {
            Value::Integer(i) if i >= 1 => i as usize,
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => n as usize,
            _ => return Ok(None),
        };
        max = max.max(index);
        items += 1;
    }
    if cfg.sparse_ratio > 0 && max > items * cfg.sparse_ratio && max > cfg.sparse_safe {
        if cfg.sparse_convert {
            return Ok(None);
        }
        return Err("Cannot serialise table: excessively sparse array".to_owned());
    }
    Ok(Some(max))
}

/// Writes a table's opening bracket and stacks its contents and closing bracket.
fn push_table(
    t: &Table,
    depth: usize,
    cfg: &Config,
    out: &mut Vec<u8>,
    stack: &mut Vec<Work>,
) -> std::result::Result<(), String> {
    match array_length(t, cfg)? {
        Some(len) if len > 0 => {
            out.push(b'[');
            stack.push(Work::Literal(b"]"));
            for i in (1..=len).rev() {
                let v: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                stack.push(Work::Value(v, depth));
                if i > 1 {
                    stack.push(Work::Literal(b","));
                }
            }
        }
        _ => {
            out.push(b'{');
            stack.push(Work::Literal(b"}"));
            let pairs: Vec<(Value, Value)> =
                t.pairs::<Value, Value>().collect::<mlua::Result<_>>().map_err(|e| e.to_string())?;
            for (idx, (k, v)) in pairs.into_iter().enumerate().rev() {
                let mut key = Vec::new();
                let key_work = match &k {
                    Value::String(s) => {
                        escape(&s.as_bytes(), &mut key);
                        None
                    }
                    Value::Integer(_) | Value::Number(_) => {
                        let n = match k {
                            Value::Integer(i) => i as f64,
                            Value::Number(n) => n,
                            _ => 0.0,
                        };
                        key.push(b'"');
                        key.extend_from_slice(fmt_g(n, cfg.precision).as_bytes());
                        key.push(b'"');
                        None
                    }
                    other => Some(Work::Fail(format!(
                        "Cannot serialise {}: table key must be a number or string",
                        type_name(other)
                    ))),
                };
                stack.push(Work::Value(v, depth));
                match key_work {
                    Some(fail) => stack.push(fail),
                    None => {
                        key.push(b':');
                        stack.push(Work::Bytes(key));
                    }
                }
                if idx > 0 {
                    stack.push(Work::Literal(b","));
                }
            }
        }
    }
    Ok(())
}

fn escape(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            8 => out.extend_from_slice(b"\\b"),
            9 => out.extend_from_slice(b"\\t"),
            10 => out.extend_from_slice(b"\\n"),
            12 => out.extend_from_slice(b"\\f"),
            13 => out.extend_from_slice(b"\\r"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
}

impl Token {
    fn name(self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str => "T_STRING",
            Token::Number => "T_NUMBER",
            Token::Boolean => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
        }
    }
}

/// A token, its value, and where it starts; or the tokenizer's error text and position.
type Lexed = std::result::Result<(Token, Value, usize), (&'static str, usize)>;

struct Parser<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn document(&mut self) -> std::result::Result<Value, String> {
        let first = self.next();
        let v = self.value(first)?;
        match self.next() {
            Ok((Token::End, _, _)) => Ok(v),
            other => Err(expected("the end", &other)),
        }
    }

    fn value(&mut self, tok: Lexed) -> std::result::Result<Value, String> {
        match tok {
            Ok((Token::Str | Token::Number | Token::Boolean | Token::Null, v, _)) => Ok(v),
            Ok((Token::ObjBegin, _, at)) => self.object(at),
            Ok((Token::ArrBegin, _, at)) => self.array(at),
            other => Err(expected("value", &other)),
        }
    }

    fn descend(&mut self, at: usize) -> std::result::Result<(), String> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(format!("Found too many nested data structures ({}) at character {}", self.depth, at + 1));
        }
        Ok(())
    }

    fn table(&self) -> std::result::Result<Table, String> {
        self.lua.create_table().map_err(|e| e.to_string())
    }

    fn array(&mut self, at: usize) -> std::result::Result<Value, String> {
        self.descend(at)?;
        let t = self.table()?;
        let mut tok = self.next();
        if matches!(tok, Ok((Token::ArrEnd, _, _))) {
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        for i in 1.. {
            let v = self.value(tok)?;
            t.raw_set(i, v).map_err(|e| e.to_string())?;
            match self.next() {
                Ok((Token::ArrEnd, _, _)) => break,
                Ok((Token::Comma, _, _)) => {}
                other => return Err(expected("comma or array end", &other)),
            }
            tok = self.next();
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }

    fn object(&mut self, at: usize) -> std::result::Result<Value, String> {
        self.descend(at)?;
        let t = self.table()?;
        let mut tok = self.next();
        if matches!(tok, Ok((Token::ObjEnd, _, _))) {
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        loop {
            let key = match tok {
                Ok((Token::Str, k, _)) => k,
                other => return Err(expected("object key string", &other)),
            };
            match self.next() {
                Ok((Token::Colon, _, _)) => {}
                other => return Err(expected("colon", &other)),
            }
            let next = self.next();
            let v = self.value(next)?;
            t.raw_set(key, v).map_err(|e| e.to_string())?;
            match self.next() {
                Ok((Token::ObjEnd, _, _)) => break,
                Ok((Token::Comma, _, _)) => {}
                other => return Err(expected("comma or object end", &other)),
            }
            tok = self.next();
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }

    fn next(&mut self) -> Lexed {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = self.s.get(start) else {
            return Ok((Token::End, Value::Nil, start));
        };
        let single = |t| Ok((t, Value::Nil, start));
        match c {
            b'{' => {
                self.pos += 1;
                single(Token::ObjBegin)
            }
            b'}' => {
                self.pos += 1;
                single(Token::ObjEnd)
            }
            b'[' => {
                self.pos += 1;
                single(Token::ArrBegin)
            }
            b']' => {
                self.pos += 1;
                single(Token::ArrEnd)
            }
            b':' => {
                self.pos += 1;
                single(Token::Colon)
            }
            b',' => {
                self.pos += 1;
                single(Token::Comma)
            }
            b'"' => self.string(start),
            b'-' | b'0'..=b'9' => self.number(start),
            b't' if self.s[start..].starts_with(b"true") => {
                self.pos += 4;
                Ok((Token::Boolean, Value::Boolean(true), start))
            }
            b'f' if self.s[start..].starts_with(b"false") => {
                self.pos += 5;
                Ok((Token::Boolean, Value::Boolean(false), start))
            }
            b'n' if self.s[start..].starts_with(b"null") => {
                self.pos += 4;
                Ok((Token::Null, null(), start))
            }
            _ => Err(("invalid token", start)),
        }
    }

    fn number(&mut self, start: usize) -> Lexed {
        let mut end = start;
        while end < self.s.len() && matches!(self.s[end], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            end += 1;
        }
        let n = std::str::from_utf8(&self.s[start..end]).ok().and_then(|t| t.parse::<f64>().ok());
        match n {
            Some(n) => {
                self.pos = end;
                Ok((Token::Number, Value::Number(n), start))
            }
            None => Err(("invalid number", start)),
        }
    }

    fn string(&mut self, start: usize) -> Lexed {
        let mut out = Vec::new();
        let mut i = start + 1;
        loop {
            let Some(&c) = self.s.get(i) else {
                return Err(("unexpected end of string", start));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(i + 1) else {
                        return Err(("unexpected end of string", start));
                    };
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let Some((cp, used)) = self.unicode_escape(i) else {
                                return Err(("invalid unicode escape code", start));
                            };
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(cp.encode_utf8(&mut buf).as_bytes());
                            i += used;
                            continue;
                        }
                        _ => return Err(("invalid escape code", start)),
                    }
                    i += 2;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        self.pos = i + 1;
        match self.lua.create_string(out) {
            Ok(s) => Ok((Token::Str, Value::String(s), start)),
            Err(_) => Err(("invalid token", start)),
        }
    }

    /// Decodes `\uXXXX` (and a following low surrogate) at `i`; returns the char and the bytes
    /// used.
    fn unicode_escape(&self, i: usize) -> Option<(char, usize)> {
        let hex = |at: usize| -> Option<u32> {
            let h = self.s.get(at..at + 4)?;
            u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
        };
        let hi = hex(i + 2)?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.s.get(i + 6..i + 8)? != b"\\u" {
                return None;
            }
            let lo = hex(i + 8)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            return Some((char::from_u32(cp)?, 12));
        }
        if (0xDC00..0xE000).contains(&hi) {
            return None;
        }
        Some((char::from_u32(hi)?, 6))
    }
}

/// "Expected <what> but found <token> at character <n>".
fn expected(what: &str, found: &Lexed) -> String {
    let (name, at) = match found {
        Ok((t, _, at)) => (t.name(), *at),
        Err((msg, at)) => (*msg, *at),
    };
    format!("Expected {what} but found {name} at character {}", at + 1)
}
