//! Redis's RDB object serialization, as DUMP produces and RESTORE consumes it: a type byte,
//! the object, the RDB version (2 bytes, little-endian) and a CRC-64 of all that (8 bytes,
//! little-endian). Pure functions over `storage::types::value::Value`; no I/O.
//!
//! Loading accepts what Redis 7.0 and 7.2 write for every type (plain, ziplist, listpack,
//! intset, zipmap and quicklist encodings, LZF-compressed strings, the three stream layouts).
//! DUMP writes RDB version 10 with encodings Redis 7.0 loads: STRING (small integers
//! int-encoded, strings over 20 bytes LZF-compressed when that pays, as Redis), LIST_QUICKLIST_2 with listpack nodes, SET, ZSET_2, HASH, STREAM_LISTPACKS_2.

pub mod crc64;
pub mod listpack;
pub mod lzf;
mod stream;

use crate::storage::types::value::Value;
use bytes::Bytes;
use listpack::{parse_intset, parse_listpack, parse_ziplist, parse_zipmap, Elem, ListpackWriter};
use std::collections::HashSet;

/// The RDB version DUMP writes (Redis 7.0's; 7.0 refuses newer payloads).
pub const DUMP_VERSION: u16 = 10;
/// The newest RDB version RESTORE accepts (Redis 7.2's).
pub const MAX_VERSION: u16 = 11;

/// RDB object types. FROZEN: Redis's numbers.
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Why a payload was refused (each with Redis's reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// "DUMP payload version or checksum are wrong".
    VersionOrChecksum,
    /// "Bad data format".
    BadFormat,
}

/// Malformed object data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bad;

type R<T> = Result<T, Bad>;

fn bad<T>() -> R<T> {
    Err(Bad)
}

/// Redis's `verifyDumpPayload` and then the object: the value a DUMP payload holds.
pub fn load(payload: &[u8]) -> Result<Value, LoadError> {
    if payload.len() < 10 {
        return Err(LoadError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > MAX_VERSION {
        return Err(LoadError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if crc64::crc64(0, &payload[..payload.len() - 8]) != u64::from_le_bytes(crc) {
        return Err(LoadError::VersionOrChecksum);
    }
    let mut r = Reader { buf: body, pos: 0 };
    load_object(&mut r).map_err(|Bad| LoadError::BadFormat)
}

/// The DUMP payload of `value`.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut w = Writer::default();
    match value {
        Value::String(s) => {
            w.byte(types::STRING);
            w.string(s);
        }
        Value::List(items) => {
            w.byte(types::LIST_QUICKLIST_2);
            dump_quicklist(&mut w, items);
        }
        Value::Set(members) => {
            w.byte(types::SET);
            w.len(members.len() as u64);
            for m in members {
                w.string(m);
            }
        }
        Value::ZSet(entries) => {
            w.byte(types::ZSET_2);
            w.len(entries.len() as u64);
            // Highest score first, as Redis writes it (its loader inserts at the head).
            for (m, s) in entries.iter().rev() {
                w.string(m);
                w.raw(&s.to_le_bytes());
            }
        }
        Value::Hash(pairs) => {
            w.byte(types::HASH);
            w.len(pairs.len() as u64);
            for (f, v) in pairs {
                w.string(f);
                w.string(v);
            }
        }
        Value::Stream(s) => {
            w.byte(types::STREAM_LISTPACKS_2);
            stream::dump(&mut w, s);
        }
    }
    w.raw(&DUMP_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &w.buf);
    w.raw(&crc.to_le_bytes());
    w.buf
}

/// Quicklist nodes hold up to this many bytes of elements (Redis's `list-max-listpack-size
/// -2`, 8 KB)...
const NODE_BYTES: usize = 8192;
/// ...and never more than this many elements.
const NODE_ELEMENTS: usize = 1024;

fn dump_quicklist(w: &mut Writer, items: &[Bytes]) {
    let mut nodes: Vec<Vec<u8>> = Vec::new();
    let mut lp = ListpackWriter::default();
    for it in items {
        if !lp.is_empty() && (lp.bytes() + it.len() + 11 > NODE_BYTES || lp.len() >= NODE_ELEMENTS) {
            nodes.push(std::mem::take(&mut lp).finish());
        }
        lp.push(it);
    }
    if !lp.is_empty() {
        nodes.push(lp.finish());
    }
    w.len(nodes.len() as u64);
    for n in nodes {
        w.len(2); // QUICKLIST_NODE_CONTAINER_PACKED
        w.string(&n);
    }
}

/// A cursor over a payload's object bytes; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length or, for strings, a special encoding.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Bad)?;
        let s = self.buf.get(self.pos..end).ok_or(Bad)?;
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn len_or_enc(&mut self) -> R<Len> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            2 => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return bad(),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn len(&mut self) -> R<u64> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => bad(),
        }
    }

    /// A count of items that each take at least one byte (bounds preallocation).
    fn count(&mut self) -> R<usize> {
        let n = self.len()?;
        usize::try_from(n).ok().filter(|&n| n <= self.remaining()).ok_or(Bad)
    }

    pub(crate) fn string(&mut self) -> R<Bytes> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(Bytes::copy_from_slice(self.take(usize::try_from(n).map_err(|_| Bad)?)?)),
            Len::Encoded(0) => Ok(int_text(i64::from(i8::from_le_bytes(self.array()?)))),
            Len::Encoded(1) => Ok(int_text(i64::from(i16::from_le_bytes(self.array()?)))),
            Len::Encoded(2) => Ok(int_text(i64::from(i32::from_le_bytes(self.array()?)))),
            Len::Encoded(3) => {
                let clen = usize::try_from(self.len()?).map_err(|_| Bad)?;
                let len = usize::try_from(self.len()?).map_err(|_| Bad)?;
                let data = self.take(clen)?;
                lzf::decompress(data, len).map(Bytes::from).ok_or(Bad)
            }
            Len::Encoded(_) => bad(),
        }
    }

    /// A millisecond time: 8 bytes little-endian, signed.
    pub(crate) fn millis(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub(crate) fn raw(&mut self, n: usize) -> R<&'a [u8]> {
        self.take(n)
    }

    /// An old-style double: a length byte (253 NaN, 254 +inf, 255 -inf) and ASCII text.
    fn ascii_double(&mut self) -> R<f64> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_double(self.take(usize::from(n))?),
        }
    }
}

fn int_text(n: i64) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes())
}

fn parse_double(s: &[u8]) -> R<f64> {
    std::str::from_utf8(s).ok().and_then(|t| t.trim().parse::<f64>().ok()).ok_or(Bad)
}

/// Appends RDB encodings.
#[derive(Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn len(&mut self, n: u64) {
        if n < 64 {
            self.buf.push(n as u8);
        } else if n < 16384 {
            self.buf.push(0x40 | (n >> 8) as u8);
            self.buf.push((n & 0xff) as u8);
        } else if let Ok(n32) = u32::try_from(n) {
            self.buf.push(0x80);
            self.buf.extend_from_slice(&n32.to_be_bytes());
        } else {
            self.buf.push(0x81);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// A string, int-encoded when it is the canonical text of a 32-bit integer (Redis's
    /// `rdbTryIntegerEncoding`).
    pub(crate) fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(n) = crate::numeric::parse_i64_strict(s) {
                if let Ok(b) = i8::try_from(n) {
                    self.buf.push(0xc0);
                    self.buf.extend_from_slice(&b.to_le_bytes());
                    return;
                } else if let Ok(h) = i16::try_from(n) {
                    self.buf.push(0xc1);
                    self.buf.extend_from_slice(&h.to_le_bytes());
                    return;
                } else if let Ok(w) = i32::try_from(n) {
                    self.buf.push(0xc2);
                    self.buf.extend_from_slice(&w.to_le_bytes());
                    return;
                }
            }
        }
        if s.len() > 20 {
            if let Some(c) = lzf::compress(s, s.len() - 4) {
                self.buf.push(0xc3);
                self.len(c.len() as u64);
                self.len(s.len() as u64);
                self.buf.extend_from_slice(&c);
                return;
            }
        }
        self.len(s.len() as u64);
        self.buf.extend_from_slice(s);
    }
}

fn load_object(r: &mut Reader<'_>) -> R<Value> {
    let t = r.byte()?;
    let v = match t {
        types::STRING => Value::String(r.string()?),
        types::LIST => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            Value::List(items)
        }
        types::SET => {
            let n = r.count()?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push(r.string()?);
            }
            Value::Set(members)
        }
        types::ZSET | types::ZSET_2 => {
            let n = r.count()?;
            let mut entries = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == types::ZSET_2 { f64::from_le_bytes(r.array()?) } else { r.ascii_double()? };
                entries.push((m, s));
            }
            Value::ZSet(entries)
        }
        types::HASH => {
            let n = r.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                pairs.push((r.string()?, r.string()?));
            }
            Value::Hash(pairs)
        }
        types::HASH_ZIPMAP => Value::Hash(parse_zipmap(&r.string()?).ok_or(Bad)?),
        types::LIST_ZIPLIST => Value::List(elems(parse_ziplist(&r.string()?))?),
        types::SET_INTSET => Value::Set(parse_intset(&r.string()?).ok_or(Bad)?.into_iter().map(int_text).collect()),
        types::SET_LISTPACK => Value::Set(elems(parse_listpack(&r.string()?))?),
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
            let blob = r.string()?;
            let parsed = if t == types::ZSET_ZIPLIST { parse_ziplist(&blob) } else { parse_listpack(&blob) };
            let flat = parsed.ok_or(Bad)?;
            if flat.len() % 2 != 0 {
                return bad();
            }
            let mut entries = Vec::with_capacity(flat.len() / 2);
            for pair in flat.chunks_exact(2) {
                let score = match pair[1] {
                    Elem::Int(n) => n as f64,
                    Elem::Str(s) => parse_double(s)?,
                };
                entries.push((pair[0].to_bytes(), score));
            }
            Value::ZSet(entries)
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            let blob = r.string()?;
            let parsed = if t == types::HASH_ZIPLIST { parse_ziplist(&blob) } else { parse_listpack(&blob) };
            let flat = parsed.ok_or(Bad)?;
            if flat.len() % 2 != 0 {
                return bad();
            }
            Value::Hash(flat.chunks_exact(2).map(|p| (p[0].to_bytes(), p[1].to_bytes())).collect())
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            let n = r.count()?;
            let mut items = Vec::new();
            for _ in 0..n {
                let container = if t == types::LIST_QUICKLIST_2 { r.len()? } else { 2 };
                let blob = r.string()?;
                match container {
                    1 => items.push(blob),
                    2 => {
                        let parsed =
                            if t == types::LIST_QUICKLIST { parse_ziplist(&blob) } else { parse_listpack(&blob) };
                        // Empty nodes are skipped, as Redis does.
                        items.extend(elems(parsed)?);
                    }
                    _ => return bad(),
                }
            }
            Value::List(items)
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => {
            Value::Stream(Box::new(stream::load(r, t)?))
        }
        _ => return bad(),
    };
    check(&v)?;
    Ok(v)
}

fn elems(parsed: Option<Vec<Elem<'_>>>) -> R<Vec<Bytes>> {
    Ok(parsed.ok_or(Bad)?.into_iter().map(Elem::to_bytes).collect())
}

/// What Redis's loader refuses in a well-formed encoding: empty collections, duplicate
/// members or fields, NaN scores.
fn check(v: &Value) -> R<()> {
    fn unique<'a>(it: impl Iterator<Item = &'a Bytes>, n: usize) -> R<()> {
        let mut seen: HashSet<&[u8]> = HashSet::with_capacity(n);
        for m in it {
            if !seen.insert(m.as_ref()) {
                return bad();
            }
        }
        Ok(())
    }
    match v {
        Value::String(_) | Value::Stream(_) => Ok(()),
        Value::List(items) if items.is_empty() => bad(),
        Value::List(_) => Ok(()),
        Value::Set(m) if m.is_empty() => bad(),
        Value::Set(m) => unique(m.iter(), m.len()),
        Value::Hash(p) if p.is_empty() => bad(),
        Value::Hash(p) => unique(p.iter().map(|(f, _)| f), p.len()),
        Value::ZSet(e) if e.is_empty() || e.iter().any(|(_, s)| s.is_nan()) => bad(),
        Value::ZSet(e) => unique(e.iter().map(|(m, _)| m), e.len()),
    }
}

#[cfg(test)]
mod tests;
