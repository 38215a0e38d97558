//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
//!
//! # Format
//! `SETBIT key offset 0|1`, `GETBIT key offset`, `BITCOUNT key [start end [BYTE|BIT]]`,
//! `BITPOS key bit [start [end [BYTE|BIT]]]`, `BITOP AND|OR|XOR|NOT dest key [key ...]`,
//! `BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr]
//! [OVERFLOW WRAP|SAT|FAIL] ...`, `BITFIELD_RO key [GET type offset ...]`, as in Redis 7
//! (src/bitops.c). Handlers parse with Redis's checks, in its order, and call the bitmap
//! store (`storage::types::bitmap`), which reads and writes only the fragments involved.

use super::parse::{int, is, parse_i64_strict};
use super::pubsub::fire;
use super::{with_db, CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::types::bitmap::{BitOp, Field, FieldOp, Overflow};
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("setbit", 4, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, BITMAP, SLOW), setbit,
        "bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "O(1)"),
    cmd!("getbit", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, BITMAP, FAST), getbit,
        "bitmap", "2.2.0", "Returns a bit value by offset.", "O(1)"),
    cmd!("bitcount", -2, flags!(READONLY), 1, 1, 1, acl!(READ, BITMAP, SLOW), bitcount,
        "bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string.", "O(N)"),
    cmd!("bitpos", -3, flags!(READONLY), 1, 1, 1, acl!(READ, BITMAP, SLOW), bitpos,
        "bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string.", "O(N)"),
    cmd!("bitop", -4, flags!(WRITE, DENYOOM), 2, -1, 1, acl!(WRITE, BITMAP, SLOW), bitop,
        "bitmap", "2.6.0", "Performs bitwise operations on multiple strings, and stores the result.", "O(N)"),
    cmd!("bitfield", -2, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, BITMAP, SLOW), bitfield,
        "bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings.", "O(1) for each subcommand specified"),
    cmd!("bitfield_ro", -2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, BITMAP, FAST), bitfield_ro,
        "bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings.", "O(1) for each subcommand specified"),
];

const BAD_OFFSET: &str = "bit offset is not an integer or out of range";
const BAD_BIT: &str = "bit is not an integer or out of range";
const BAD_TYPE: &str = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// A bit offset as Redis's `getBitOffsetFromArgument`: `#N` (with `field_bits`) means N
/// fields of that width; the byte it falls in must be below `proto-max-bulk-len`.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], field_bits: Option<u32>) -> CmdResult<u64> {
    let bad = || CmdError::err(BAD_OFFSET);
    let (digits, times) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    let n = parse_i64_strict(digits).ok_or_else(bad)?.checked_mul(times).ok_or_else(bad)?;
    let max = ctx.shared.config.read().proto_max_bulk_len;
    if n < 0 || (n as u64 >> 3) >= max {
        return Err(bad());
    }
    Ok(n as u64)
}

fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let offset = bit_offset(ctx, &args[2], None)?;
    let on = parse_i64_strict(&args[3]).ok_or_else(|| CmdError::err(BAD_BIT))?;
    if on & !1 != 0 {
        return Err(CmdError::err(BAD_BIT));
    }
    let (was, changed) = with_db(ctx, |st, pdb| Ok(st.setbit(pdb, &args[1], offset, on == 1)?))?;
    if changed {
        fire(ctx, K::STRING, "setbit", &args[1]);
    }
    Ok(Reply::Int(i64::from(was)))
}

fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let offset = bit_offset(ctx, &args[2], None)?;
    let bit = with_db(ctx, |st, pdb| Ok(st.getbit(pdb, &args[1], offset)?))?;
    Ok(Reply::Int(i64::from(bit)))
}

/// BYTE (false) or BIT (true), else a syntax error.
fn unit(arg: &[u8]) -> CmdResult<bool> {
    if is(arg, "BIT") {
        Ok(true)
    } else if is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Redis's index conversion: negative from the end, clamped to `0..total` (`end` may end up
/// below `start`: an empty range).
fn clamp(start: i64, end: i64, total: i64) -> (i64, i64) {
    let (mut s, mut e) = (start, end);
    if s < 0 {
        s += total;
    }
    if e < 0 {
        e += total;
    }
    (s.max(0), e.max(0).min(total - 1))
}

fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let (start, end) = (int(&args[2])?, int(&args[3])?);
            let isbit = match args.get(4) {
                Some(a) => unit(a)?,
                None => false,
            };
            Some((start, end, isbit))
        }
        _ => return Err(CmdError::Syntax),
    };
    let n = with_db(ctx, |st, pdb| {
        Ok(st.read_string(pdb, &args[1], |view| {
            let Some(view) = view else { return Ok(0) };
            let len = view.len() as i64;
            let (start, end, first_mask, last_mask) = match range {
                None => (0, len - 1, 0, 0),
                Some((start, end, _)) if start < 0 && end < 0 && start > end => return Ok(0),
                Some((start, end, isbit)) => {
                    let (s, e) = clamp(start, end, if isbit { len << 3 } else { len });
                    if isbit && s <= e {
                        let first = !((1u16 << (8 - (s & 7))) - 1) as u8;
                        let last = ((1u16 << (7 - (e & 7))) - 1) as u8;
                        (s >> 3, e >> 3, first, last)
                    } else {
                        (s, e, 0, 0)
                    }
                }
            };
            if start > end {
                return Ok(0);
            }
            st.bitcount(pdb, &args[1], view, start as u64, end as u64, (first_mask, last_mask))
        })?)
    })?;
    Ok(Reply::Int(n as i64))
}

fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let bit = int(&args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::err("The bit argument must be 1 or 0."));
    }
    let (start, end, isbit) = match args.len() {
        3 => (None, None, false),
        4..=6 => {
            let start = int(&args[3])?;
            let isbit = match args.get(5) {
                Some(a) => unit(a)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(a) => Some(int(a)?),
                None => None,
            };
            (Some(start), end, isbit)
        }
        _ => return Err(CmdError::Syntax),
    };
    let want = bit == 1;
    let pos = with_db(ctx, |st, pdb| {
        Ok(st.read_string(pdb, &args[1], |view| {
            let Some(view) = view else { return Ok(if want { -1 } else { 0 }) };
            let len = view.len() as i64;
            let total = if isbit { len << 3 } else { len };
            let (s, e) = clamp(start.unwrap_or(0), end.unwrap_or(total - 1), total);
            if s > e {
                return Ok(-1);
            }
            let (first, last) = if isbit { (s, e) } else { (s * 8, e * 8 + 7) };
            match st.bitpos(pdb, &args[1], view, want, first as u64, last as u64)? {
                Some(p) => Ok(p as i64),
                // Past the end all bits are clear, unless an end was given.
                None if !want && end.is_none() => Ok(last + 1),
                None => Ok(-1),
            }
        })?)
    })?;
    Ok(Reply::Int(pos))
}

fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let op = if is(&args[1], "AND") {
        BitOp::And
    } else if is(&args[1], "OR") {
        BitOp::Or
    } else if is(&args[1], "XOR") {
        BitOp::Xor
    } else if is(&args[1], "NOT") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CmdError::err("BITOP NOT must be called with a single source key."));
    }
    let dest = &args[2];
    let (len, deleted) = with_db(ctx, |st, pdb| Ok(st.bitop(pdb, op, dest, &args[3..])?))?;
    if len > 0 {
        fire(ctx, K::STRING, "set", dest);
    } else if deleted {
        fire(ctx, K::GENERIC, "del", dest);
    }
    Ok(Reply::Int(len as i64))
}

/// A bitfield type: `i1`..`i64` or `u1`..`u63`, as (signed, bits).
fn field_type(arg: &[u8]) -> CmdResult<(bool, u32)> {
    let bad = || CmdError::err(BAD_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(bad()),
    };
    let bits = parse_i64_strict(&arg[1..]).ok_or_else(bad)?;
    if bits < 1 || bits > if signed { 64 } else { 63 } {
        return Err(bad());
    }
    Ok((signed, bits as u32))
}

/// Parses BITFIELD's subcommands as Redis's `bitfieldGeneric`, failing at the first bad one.
fn fields(ctx: &Ctx<'_>, args: &[Bytes]) -> CmdResult<Vec<Field>> {
    let mut out = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rest = args.len() - j - 1;
        let a = &args[j];
        let op_args = if is(a, "GET") && rest >= 2 {
            2
        } else if (is(a, "SET") || is(a, "INCRBY")) && rest >= 3 {
            3
        } else if is(a, "OVERFLOW") && rest >= 1 {
            let o = &args[j + 1];
            overflow = if is(o, "WRAP") {
                Overflow::Wrap
            } else if is(o, "SAT") {
                Overflow::Sat
            } else if is(o, "FAIL") {
                Overflow::Fail
            } else {
                return Err(CmdError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], Some(bits))?;
        let op = if op_args == 2 {
            FieldOp::Get
        } else if is(a, "SET") {
            FieldOp::Set(int(&args[j + 3])?)
        } else {
            FieldOp::IncrBy(int(&args[j + 3])?)
        };
        out.push(Field { op, signed, bits, offset, overflow });
        j += 1 + op_args;
    }
    Ok(out)
}

fn bitfield_common(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> CmdResult<Reply> {
    let fields = fields(ctx, args)?;
    if read_only && fields.iter().any(|f| f.op != FieldOp::Get) {
        return Err(CmdError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    let (replies, changed) = with_db(ctx, |st, pdb| Ok(st.bitfield(pdb, &args[1], &fields)?))?;
    if changed {
        fire(ctx, K::STRING, "setbit", &args[1]);
    }
    Ok(Reply::Array(replies.into_iter().map(|r| r.map(Reply::Int).unwrap_or(Reply::Null)).collect()))
}

fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bitfield_common(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bitfield_common(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfield_types_follow_redis() {
        assert_eq!(field_type(b"i64").unwrap(), (true, 64));
        assert_eq!(field_type(b"u63").unwrap(), (false, 63));
        for bad in [&b"u64"[..], b"i65", b"i0", b"x8", b"", b"i", b"u+8", b"i 8"] {
            assert_eq!(field_type(bad), Err(CmdError::err(BAD_TYPE)), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ranges_convert_like_redis() {
        assert_eq!(clamp(0, -1, 10), (0, 9));
        assert_eq!(clamp(-3, -1, 10), (7, 9));
        assert_eq!(clamp(5, 100, 10), (5, 9));
        assert_eq!(clamp(-100, 2, 10), (0, 2));
        assert_eq!(clamp(0, -1, 0), (0, -1));
    }
}
