//! Sorted-set commands, including BZPOPMIN, BZPOPMAX and BZMPOP.
//!
//! Handlers parse with Redis 7.0's rules (`t_zset.c`), run against `storage::types::zset`
//! (`ZView` to read, `ZWrite` to change one key in one batch) and shape the reply. Scores are
//! replied as `Reply::Double`; WITHSCORES replies are flat in RESP2 and `[member, score]` pairs
//! in RESP3, as Redis 7.0 does per command.

use super::parse::{
    block_timeout, check_paired_count, int, is, parse_f64, positive_count, random_count, scan_cursor, scan_opts,
};
use super::pubsub::fire;
use super::{with_db, CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{BlockOn, CmdError, CmdResult};
use crate::reply::{format_double, Reply};
use crate::storage::encoding::FLAG_BIG;
use crate::storage::types::zset::{norm, Entry, Input, LexBound, LexRange, ScoreRange, ZView};
use crate::storage::types::{in_pick_order, random_picks};
use crate::storage::Storage;
use crate::{acl, cmd, flags};
use bytes::Bytes;
use rand::Rng;
use std::collections::HashMap;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("zadd", -4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, SORTEDSET, FAST), zadd,
        "sorted_set", "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    cmd!("zincrby", 4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, SORTEDSET, FAST), zincrby,
        "sorted_set", "1.2.0", "Increment the score of a member in a sorted set", "O(log(N)) where N is the number of elements in the sorted set."),
    cmd!("zrem", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, SORTEDSET, FAST), zrem,
        "sorted_set", "1.2.0", "Remove one or more members from a sorted set", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."),
    cmd!("zcard", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zcard,
        "sorted_set", "1.2.0", "Get the number of members in a sorted set", "O(1)"),
    cmd!("zscore", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zscore,
        "sorted_set", "1.2.0", "Get the score associated with the given member in a sorted set", "O(1)"),
    cmd!("zmscore", -3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zmscore,
        "sorted_set", "6.2.0", "Get the score associated with the given members in a sorted set", "O(N) where N is the number of members being requested."),
    cmd!("zcount", 4, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zcount,
        "sorted_set", "2.0.0", "Count the members in a sorted set with scores within the given values", "O(log(N)) with N being the number of elements in the sorted set."),
    cmd!("zlexcount", 4, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zlexcount,
        "sorted_set", "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", "O(log(N)) with N being the number of elements in the sorted set."),
    cmd!("zrank", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zrank,
        "sorted_set", "2.0.0", "Determine the index of a member in a sorted set", "O(log(N))"),
    cmd!("zrevrank", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SORTEDSET, FAST), zrevrank,
        "sorted_set", "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", "O(log(N))"),
    cmd!("zrange", -4, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrange,
        "sorted_set", "1.2.0", "Return a range of members in a sorted set", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
    cmd!("zrangestore", -5, flags!(WRITE, DENYOOM), 1, 2, 1, acl!(WRITE, SORTEDSET, SLOW), zrangestore,
        "sorted_set", "6.2.0", "Store a range of members from sorted set into another key", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."),
    cmd!("zrangebyscore", -4, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrangebyscore,
        "sorted_set", "1.0.5", "Return a range of members in a sorted set, by score", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    cmd!("zrevrangebyscore", -4, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrevrangebyscore,
        "sorted_set", "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    cmd!("zrangebylex", -4, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrangebylex,
        "sorted_set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    cmd!("zrevrangebylex", -4, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrevrangebylex,
        "sorted_set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    cmd!("zrevrange", -4, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrevrange,
        "sorted_set", "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
    cmd!("zremrangebyscore", 4, flags!(WRITE), 1, 1, 1, acl!(WRITE, SORTEDSET, SLOW), zremrangebyscore,
        "sorted_set", "1.2.0", "Remove all members in a sorted set within the given scores", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    cmd!("zremrangebyrank", 4, flags!(WRITE), 1, 1, 1, acl!(WRITE, SORTEDSET, SLOW), zremrangebyrank,
        "sorted_set", "2.0.0", "Remove all members in a sorted set within the given indexes", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    cmd!("zremrangebylex", 4, flags!(WRITE), 1, 1, 1, acl!(WRITE, SORTEDSET, SLOW), zremrangebylex,
        "sorted_set", "2.8.9", "Remove all members in a sorted set between the given lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    cmd!("zpopmin", -2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, SORTEDSET, FAST), zpopmin,
        "sorted_set", "5.0.0", "Remove and return members with the lowest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
    cmd!("zpopmax", -2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, SORTEDSET, FAST), zpopmax,
        "sorted_set", "5.0.0", "Remove and return members with the highest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
    cmd!("zmpop", -4, flags!(WRITE, MOVABLEKEYS), 0, 0, 0, acl!(WRITE, SORTEDSET, SLOW), zmpop,
        "sorted_set", "7.0.0", "Remove and return members with scores in a sorted set", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."),
    cmd!("bzpopmin", -3, flags!(WRITE, NOSCRIPT, BLOCKING, FAST), 1, -2, 1, acl!(WRITE, SORTEDSET, FAST, BLOCKING), bzpopmin,
        "sorted_set", "5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set."),
    cmd!("bzpopmax", -3, flags!(WRITE, NOSCRIPT, BLOCKING, FAST), 1, -2, 1, acl!(WRITE, SORTEDSET, FAST, BLOCKING), bzpopmax,
        "sorted_set", "5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set."),
    cmd!("bzmpop", -5, flags!(WRITE, BLOCKING, MOVABLEKEYS), 0, 0, 0, acl!(WRITE, SORTEDSET, SLOW, BLOCKING), bzmpop,
        "sorted_set", "7.0.0", "Remove and return members with scores in a sorted set or block until one is available", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."),
    cmd!("zunion", -3, flags!(READONLY, MOVABLEKEYS), 0, 0, 0, acl!(READ, SORTEDSET, SLOW), zunion,
        "sorted_set", "6.2.0", "Add multiple sorted sets", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
    cmd!("zinter", -3, flags!(READONLY, MOVABLEKEYS), 0, 0, 0, acl!(READ, SORTEDSET, SLOW), zinter,
        "sorted_set", "6.2.0", "Intersect multiple sorted sets", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."),
    cmd!("zdiff", -3, flags!(READONLY, MOVABLEKEYS), 0, 0, 0, acl!(READ, SORTEDSET, SLOW), zdiff,
        "sorted_set", "6.2.0", "Subtract multiple sorted sets", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."),
    cmd!("zunionstore", -4, flags!(WRITE, DENYOOM, MOVABLEKEYS), 1, 1, 1, acl!(WRITE, SORTEDSET, SLOW), zunionstore,
        "sorted_set", "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
    cmd!("zinterstore", -4, flags!(WRITE, DENYOOM, MOVABLEKEYS), 1, 1, 1, acl!(WRITE, SORTEDSET, SLOW), zinterstore,
        "sorted_set", "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."),
    cmd!("zdiffstore", -4, flags!(WRITE, DENYOOM, MOVABLEKEYS), 1, 1, 1, acl!(WRITE, SORTEDSET, SLOW), zdiffstore,
        "sorted_set", "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."),
    cmd!("zintercard", -3, flags!(READONLY, MOVABLEKEYS), 0, 0, 0, acl!(READ, SORTEDSET, SLOW), zintercard,
        "sorted_set", "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."),
    cmd!("zrandmember", -2, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zrandmember,
        "sorted_set", "6.2.0", "Get one or multiple random elements from a sorted set", "O(N) where N is the number of elements returned"),
    cmd!("zscan", -3, flags!(READONLY), 1, 1, 1, acl!(READ, SORTEDSET, SLOW), zscan,
        "sorted_set", "2.8.0", "Incrementally iterate sorted sets elements and associated scores", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."),
];

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

fn resp3(ctx: &Ctx<'_>) -> bool {
    ctx.session.protocol == 3
}

/// Members, optionally with scores: flat in RESP2, `[member, score]` pairs in RESP3.
fn entries_reply(entries: Vec<Entry>, withscores: bool, resp3: bool) -> Reply {
    if !withscores {
        return Reply::Array(entries.into_iter().map(|(m, _)| Reply::Bulk(m)).collect());
    }
    if resp3 {
        return Reply::Array(
            entries.into_iter().map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])).collect(),
        );
    }
    let mut out = Vec::with_capacity(entries.len() * 2);
    for (m, s) in entries {
        out.push(Reply::Bulk(m));
        out.push(Reply::Double(s));
    }
    Reply::Array(out)
}

/// `[[member, score], ...]` in both protocols (ZMPOP, BZMPOP).
fn pairs_reply(entries: Vec<Entry>) -> Reply {
    Reply::Array(entries.into_iter().map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])).collect())
}

fn nan_err() -> CmdError {
    CmdError::err("resulting score is not a number (NaN)")
}

/// C's `strtod` over the whole of `b` (no leading spaces here): decimal or hexadecimal
/// (`0x1.8p1`) notation, `inf`/`infinity`. Returns the value and whether it was out of range
/// (`ERANGE` with an infinite or zero result). None when some text is left over.
fn strtod(b: &[u8]) -> Option<(f64, bool)> {
    let (neg, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        let (v, nonzero) = parse_hex(&rest[2..])?;
        return Some((if neg { -v } else { v }, v.is_infinite() || (v == 0.0 && nonzero)));
    }
    let v = parse_f64(b)?;
    let lower = rest.to_ascii_lowercase();
    let overflow = v.is_infinite() && !lower.starts_with(b"inf");
    let mantissa = lower.split(|&c| c == b'e').next().unwrap_or(&[]);
    let underflow = v == 0.0 && mantissa.iter().any(|c| (b'1'..=b'9').contains(c));
    Some((v, overflow || underflow))
}

/// The digits of a hexadecimal float after `0x`: `h[.h][p[+-]d]`; also whether any digit was
/// not zero.
fn parse_hex(s: &[u8]) -> Option<(f64, bool)> {
    let (mut mant, mut exp, mut digits, mut i, mut dot) = (0f64, 0i64, 0usize, 0usize, false);
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !dot {
            dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            mant = mant * 16.0 + f64::from(d);
            digits += 1;
            if dot {
                exp -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() {
        if s[i] | 0x20 != b'p' {
            return None;
        }
        let e = &s[i + 1..];
        let (neg, digits) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Saturate: anything past ±100000 overflows or underflows anyway.
        let mag = digits.iter().fold(0i64, |a, &d| (a * 10 + i64::from(d - b'0')).min(100_000));
        let e = if neg { -mag } else { mag };
        exp = exp.saturating_add(e);
    }
    Some((mant * 2f64.powi(exp.clamp(-100_000, 100_000) as i32), mant != 0.0))
}

/// A score, increment or weight as Redis's `getDoubleFromObject`: the whole argument, no
/// leading space, not NaN, not out of range.
fn zfloat(b: &[u8]) -> Option<f64> {
    if b.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    match strtod(b)? {
        (v, false) if !v.is_nan() => Some(v),
        _ => None,
    }
}

/// A range bound as `zslParseRange` reads it with `strtod`: the empty text reads 0, leading
/// spaces are skipped, out-of-range values saturate, NaN is refused.
fn strtod_whole(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let start = b.iter().position(|c| !c.is_ascii_whitespace())?;
    strtod(&b[start..]).map(|(v, _)| v).filter(|v| !v.is_nan())
}

fn score_bound(b: &[u8]) -> Option<(f64, bool)> {
    match b.first() {
        Some(b'(') => strtod_whole(&b[1..]).map(|v| (v, true)),
        _ => strtod_whole(b).map(|v| (v, false)),
    }
}

/// Redis's `zslParseRange`.
fn score_range(min: &[u8], max: &[u8]) -> CmdResult<ScoreRange> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min: norm(min), minex, max: norm(max), maxex }),
        _ => Err(CmdError::err("min or max is not a float")),
    }
}

fn lex_bound(b: &Bytes) -> Option<LexBound> {
    match b.first() {
        Some(b'+') if b.len() == 1 => Some(LexBound::Max),
        Some(b'-') if b.len() == 1 => Some(LexBound::Min),
        Some(b'(') => Some(LexBound::Excl(b.slice(1..))),
        Some(b'[') => Some(LexBound::Incl(b.slice(1..))),
        _ => None,
    }
}

/// Redis's `zslParseLexRange`.
fn lex_range(min: &Bytes, max: &Bytes) -> CmdResult<LexRange> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::err("min or max not valid string range item")),
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "NX") {
            f.nx = true;
        } else if is(a, "XX") {
            f.xx = true;
        } else if is(a, "CH") {
            f.ch = true;
        } else if is(a, "INCR") {
            f.incr = true;
        } else if is(a, "GT") {
            f.gt = true;
        } else if is(a, "LT") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CmdError::err("XX and NX options at the same time are not compatible"));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(CmdError::err("GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && elements > 2 {
        return Err(CmdError::err("INCR option supports a single increment-element pair"));
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for c in args[i..].chunks(2) {
        pairs.push((zfloat(&c[0]).ok_or(CmdError::NotFloat)?, &c[1]));
    }
    zadd_generic(ctx, &args[1], f, &pairs)
}

fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let incr = zfloat(&args[2]).ok_or(CmdError::NotFloat)?;
    let f = AddFlags { incr: true, ..AddFlags::default() };
    zadd_generic(ctx, &args[1], f, &[(incr, &args[3])])
}

fn zadd_generic(ctx: &mut Ctx<'_>, key: &[u8], f: AddFlags, pairs: &[(f64, &Bytes)]) -> CmdResult<Reply> {
    let (added, updated, processed, last) = with_db(ctx, |st, pdb| {
        st.zwrite(pdb, key, |w| {
            let (mut added, mut updated, mut processed, mut last) = (0i64, 0i64, 0i64, 0f64);
            if !w.existed() && f.xx {
                return Ok((0, 0, 0, 0.0));
            }
            let members: Vec<&[u8]> = pairs.iter().map(|(_, m)| m.as_ref()).collect();
            w.prefetch(&members)?;
            for &(score, member) in pairs {
                match w.score(member)? {
                    Some(cur) => {
                        if f.nx {
                            continue;
                        }
                        let new = if f.incr { cur + score } else { score };
                        if new.is_nan() {
                            return Err(nan_err());
                        }
                        if (f.lt && new >= cur) || (f.gt && new <= cur) {
                            continue;
                        }
                        processed += 1;
                        last = new;
                        if new != cur {
                            w.set(member, Some(cur), new);
                            updated += 1;
                        }
                    }
                    None => {
                        if f.xx {
                            continue;
                        }
                        processed += 1;
                        added += 1;
                        last = score;
                        w.set(member, None, score);
                    }
                }
            }
            Ok::<_, CmdError>((added, updated, processed, last))
        })
    })?;
    if added > 0 || updated > 0 {
        fire(ctx, K::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if f.incr {
        return Ok(if processed > 0 { Reply::Double(last) } else { Reply::Null });
    }
    Ok(Reply::Int(if f.ch { added + updated } else { added }))
}

fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_db(ctx, |st, pdb| {
        st.zwrite(pdb, &args[1], |w| {
            let mut n = 0i64;
            if !w.existed() {
                return Ok(0);
            }
            let members: Vec<&[u8]> = args[2..].iter().map(|m| m.as_ref()).collect();
            w.prefetch(&members)?;
            for m in &args[2..] {
                if let Some(s) = w.score(m)? {
                    w.remove(m, s);
                    n += 1;
                }
            }
            Ok::<_, CmdError>(n)
        })
    })?;
    if n > 0 {
        fire(ctx, K::ZSET, "zrem", &args[1]);
    }
    Ok(Reply::Int(n))
}

// ---------------------------------------------------------------------------------------------
// Point reads
// ---------------------------------------------------------------------------------------------

/// Runs `f` over the live sorted set at `key`, or returns `missing` when there is none.
fn read<R>(ctx: &Ctx<'_>, key: &[u8], missing: R, f: impl FnOnce(&ZView<'_>) -> CmdResult<R>) -> CmdResult<R> {
    with_db(ctx, |st, pdb| match st.zview(pdb, key)? {
        Some(v) => f(&v),
        None => Ok(missing),
    })
}

fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = read(ctx, &args[1], 0, |v| Ok(v.size()))?;
    Ok(Reply::Int(n as i64))
}

fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let s = read(ctx, &args[1], None, |v| Ok(v.score(&args[2])?))?;
    Ok(s.map(Reply::Double).unwrap_or(Reply::Null))
}

fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let members = &args[2..];
    let s = read(ctx, &args[1], vec![None; members.len()], |v| Ok(v.scores(members)?))?;
    Ok(Reply::Array(s.into_iter().map(|s| s.map(Reply::Double).unwrap_or(Reply::Null)).collect()))
}

fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let r = score_range(&args[2], &args[3])?;
    let n = read(ctx, &args[1], 0, |v| Ok(v.count_by_score(&r)?))?;
    Ok(Reply::Int(n as i64))
}

fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let r = lex_range(&args[2], &args[3])?;
    let n = read(ctx, &args[1], 0, |v| {
        if r.min == LexBound::Min && r.max == LexBound::Max {
            return Ok(v.size() as usize);
        }
        Ok(v.range_by_lex(&r, false, 0, -1)?.len())
    })?;
    Ok(Reply::Int(n as i64))
}

fn rank_common(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> CmdResult<Reply> {
    let r = read(ctx, &args[1], None, |v| Ok(v.rank(&args[2], rev)?))?;
    Ok(r.map(|r| Reply::Int(r as i64)).unwrap_or(Reply::Null))
}

fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    rank_common(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    rank_common(ctx, args, true)
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and friends
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// A parsed range request (Redis's `zrangeGenericCommand` steps 1 and 2).
enum RangeSpec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeReq {
    spec: RangeSpec,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

fn parse_range(
    args: &[Bytes],
    start: usize,
    store: bool,
    mut rt: RangeType,
    mut dir: Direction,
) -> CmdResult<RangeReq> {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = start + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && is(a, "WITHSCORES") {
            withscores = true;
        } else if is(a, "LIMIT") && left >= 2 {
            offset = int(&args[j + 1])?;
            limit = int(&args[j + 2])?;
            j += 2;
        } else if dir == Direction::Auto && is(a, "REV") {
            dir = Direction::Reverse;
        } else if rt == RangeType::Auto && is(a, "BYLEX") {
            rt = RangeType::Lex;
        } else if rt == RangeType::Auto && is(a, "BYSCORE") {
            rt = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = dir == Direction::Reverse;
    if rt == RangeType::Auto {
        rt = RangeType::Rank;
    }
    if limit != -1 && rt == RangeType::Rank {
        return Err(CmdError::err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
    }
    if withscores && rt == RangeType::Lex {
        return Err(CmdError::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut lo, mut hi) = (&args[start + 1], &args[start + 2]);
    if rev && rt != RangeType::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let spec = match rt {
        RangeType::Score => RangeSpec::Score(score_range(lo, hi)?),
        RangeType::Lex => RangeSpec::Lex(lex_range(lo, hi)?),
        _ => RangeSpec::Rank(int(lo)?, int(hi)?),
    };
    Ok(RangeReq { spec, rev, withscores, offset, limit })
}

fn run_range(v: &ZView<'_>, r: &RangeReq) -> CmdResult<Vec<Entry>> {
    Ok(match &r.spec {
        RangeSpec::Rank(start, end) => match crate::numeric::normalize_range(*start, *end, v.size()) {
            Some((s, e)) => v.range_by_rank(s, e, r.rev)?,
            None => Vec::new(),
        },
        _ if r.offset > 0 && r.offset as u64 >= v.size() => Vec::new(),
        RangeSpec::Score(sr) => v.range_by_score(sr, r.rev, r.offset, r.limit)?,
        RangeSpec::Lex(lr) => v.range_by_lex(lr, r.rev, r.offset, r.limit)?,
    })
}

fn range_reply(ctx: &mut Ctx<'_>, args: &[Bytes], rt: RangeType, dir: Direction) -> CmdResult<Reply> {
    let req = parse_range(args, 1, false, rt, dir)?;
    let entries = read(ctx, &args[1], Vec::new(), |v| run_range(v, &req))?;
    Ok(entries_reply(entries, req.withscores, resp3(ctx)))
}

fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_reply(ctx, args, RangeType::Auto, Direction::Auto)
}

fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_reply(ctx, args, RangeType::Score, Direction::Forward)
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_reply(ctx, args, RangeType::Score, Direction::Reverse)
}

fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_reply(ctx, args, RangeType::Lex, Direction::Forward)
}

fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_reply(ctx, args, RangeType::Lex, Direction::Reverse)
}

fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_reply(ctx, args, RangeType::Rank, Direction::Reverse)
}

fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let req = parse_range(args, 2, true, RangeType::Auto, Direction::Auto)?;
    let (dst, src) = (&args[1], &args[2]);
    let n = with_db(ctx, |st, pdb| {
        let _g = st.lock_many([(pdb, dst.as_ref()), (pdb, src.as_ref())])?;
        let entries = match st.zview_locked(pdb, src)? {
            Some(v) => run_range(&v, &req)?,
            None => Vec::new(),
        };
        st.zstore_locked(pdb, dst, &entries)?;
        Ok(entries.len())
    })?;
    // An empty result deletes the destination: its `del` comes from storage.
    if n > 0 {
        fire(ctx, K::ZSET, "zrangestore", dst);
    }
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------------

fn remove_range(ctx: &mut Ctx<'_>, key: &[u8], spec: RangeSpec) -> CmdResult<Reply> {
    let event = match spec {
        RangeSpec::Score(_) => "zremrangebyscore",
        RangeSpec::Rank(..) => "zremrangebyrank",
        RangeSpec::Lex(_) => "zremrangebylex",
    };
    let n = with_db(ctx, |st, pdb| {
        st.zwrite(pdb, key, |w| {
            if !w.existed() {
                return Ok(0);
            }
            let v = w.view();
            let req = RangeReq { spec, rev: false, withscores: false, offset: 0, limit: -1 };
            let entries = run_range(&v, &req)?;
            w.remove_all_of(&entries);
            Ok::<_, CmdError>(entries.len())
        })
    })?;
    if n > 0 {
        fire(ctx, K::ZSET, event, key);
    }
    Ok(Reply::Int(n as i64))
}

fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let r = score_range(&args[2], &args[3])?;
    remove_range(ctx, &args[1], RangeSpec::Score(r))
}

fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (s, e) = (int(&args[2])?, int(&args[3])?);
    remove_range(ctx, &args[1], RangeSpec::Rank(s, e))
}

fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let r = lex_range(&args[2], &args[3])?;
    remove_range(ctx, &args[1], RangeSpec::Lex(r))
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

/// Pops up to `count` members from the lowest (or highest, `max`) end of `key`: None if the key
/// is missing.
fn pop(st: &Storage, pdb: u8, key: &[u8], max: bool, count: u64) -> CmdResult<Option<Vec<Entry>>> {
    st.zwrite(pdb, key, |w| {
        if !w.existed() {
            return Ok(None);
        }
        let entries = w.view().range_by_rank(0, count.saturating_sub(1), max)?;
        w.remove_all_of(&entries);
        Ok::<_, CmdError>(Some(entries))
    })
}

fn zpop_common(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> CmdResult<Reply> {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = args.get(2).map(|c| positive_count(c)).transpose()?;
    if count == Some(0) {
        // Redis looks the key up (and checks its type) before noticing the count is 0.
        read(ctx, &args[1], (), |_| Ok(()))?;
        return Ok(Reply::Array(Vec::new()));
    }
    let n = count.unwrap_or(1);
    let entries = with_db(ctx, |st, pdb| pop(st, pdb, &args[1], max, n))?.unwrap_or_default();
    if !entries.is_empty() {
        fire(ctx, K::ZSET, pop_event(max), &args[1]);
    }
    if count.is_none() {
        // The single-pop form is flat in both protocols.
        let mut out = Vec::with_capacity(2);
        for (m, s) in entries {
            out.push(Reply::Bulk(m));
            out.push(Reply::Double(s));
        }
        return Ok(Reply::Array(out));
    }
    Ok(entries_reply(entries, true, resp3(ctx)))
}

fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    zpop_common(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    zpop_common(ctx, args, true)
}

fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

/// Pops from the first non-empty key of `keys`: `(key, entries)`, or None when all are missing.
/// A key of another type met before a non-empty one is WRONGTYPE.
fn pop_first(ctx: &Ctx<'_>, keys: &[Bytes], max: bool, count: u64) -> CmdResult<Option<(Bytes, Vec<Entry>)>> {
    let popped = with_db(ctx, |st, pdb| {
        for k in keys {
            if let Some(entries) = pop(st, pdb, k, max, count)? {
                if !entries.is_empty() {
                    return Ok(Some((k.clone(), entries)));
                }
            }
        }
        Ok(None)
    })?;
    if let Some((k, _)) = &popped {
        fire(ctx, K::ZSET, pop_event(max), k);
    }
    Ok(popped)
}

/// `numkeys key... MIN|MAX [COUNT n]` from `args[at]` on: (keys, max, count).
fn parse_mpop(args: &[Bytes], at: usize) -> CmdResult<(&[Bytes], bool, u64)> {
    let numkeys = match super::parse::parse_i64_strict(&args[at]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    let where_idx = at.checked_add(numkeys).and_then(|x| x.checked_add(1)).filter(|&w| w < args.len());
    let Some(where_idx) = where_idx else { return Err(CmdError::Syntax) };
    let max = if is(&args[where_idx], "MIN") {
        false
    } else if is(&args[where_idx], "MAX") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count: Option<u64> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count.is_none() && is(&args[j], "COUNT") && more > 0 {
            j += 1;
            match super::parse::parse_i64_strict(&args[j]) {
                Some(n) if n >= 1 => count = Some(n as u64),
                _ => return Err(CmdError::err("count should be greater than 0")),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((&args[at + 1..where_idx], max, count.unwrap_or(1)))
}

fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (keys, max, count) = parse_mpop(args, 1)?;
    Ok(match pop_first(ctx, keys, max, count)? {
        Some((k, entries)) => Reply::Array(vec![Reply::Bulk(k), pairs_reply(entries)]),
        None => Reply::NullArray,
    })
}

fn blocked(keys: &[Bytes], timeout: Option<std::time::Duration>) -> CmdError {
    CmdError::Blocked(BlockOn { keys: keys.to_vec(), timeout, null_array: true, rerun_args: None })
}

fn bzpop_common(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> CmdResult<Reply> {
    let timeout = block_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    match pop_first(ctx, keys, max, 1)? {
        Some((k, mut entries)) => {
            let Some((m, s)) = entries.pop() else { return Err(CmdError::Internal) };
            Ok(Reply::Array(vec![Reply::Bulk(k), Reply::Bulk(m), Reply::Double(s)]))
        }
        None => Err(blocked(keys, timeout)),
    }
}

fn bzpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bzpop_common(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bzpop_common(ctx, args, true)
}

fn bzmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let timeout = block_timeout(&args[1])?;
    let (keys, max, count) = parse_mpop(args, 2)?;
    match pop_first(ctx, keys, max, count)? {
        Some((k, entries)) => Ok(Reply::Array(vec![Reply::Bulk(k), pairs_reply(entries)])),
        None => Err(blocked(keys, timeout)),
    }
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (and STORE), ZINTERCARD
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

struct SetOpReq {
    weights: Vec<f64>,
    agg: Aggregate,
    withscores: bool,
    limit: u64,
}

/// Parses `numkeys key... [options]` from `args[at]` (Redis's `zunionInterDiffGenericCommand`);
/// `check_types` runs between reading the keys and parsing the options, as Redis looks the keys
/// up first.
fn parse_setop<'a>(
    args: &'a [Bytes],
    at: usize,
    op: SetOp,
    store: bool,
    card: bool,
    name: &str,
    check_types: impl FnOnce(&'a [Bytes]) -> CmdResult<()>,
) -> CmdResult<SetOpReq> {
    let n = int(&args[at])?;
    if n < 1 {
        return Err(CmdError::err(format!("at least 1 input key is needed for '{name}' command")));
    }
    if n as u64 > (args.len() - at - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    let n = n as usize;
    let keys = &args[at + 1..at + 1 + n];
    check_types(keys)?;
    let mut req = SetOpReq { weights: vec![1.0; n], agg: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = at + 1 + n;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card && remaining > n && is(a, "WEIGHTS") {
            for (i, w) in args[j + 1..j + 1 + n].iter().enumerate() {
                req.weights[i] = zfloat(w).ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != SetOp::Diff && !card && remaining >= 2 && is(a, "AGGREGATE") {
            let v = &args[j + 1];
            req.agg = if is(v, "SUM") {
                Aggregate::Sum
            } else if is(v, "MIN") {
                Aggregate::Min
            } else if is(v, "MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !card && is(a, "WITHSCORES") {
            req.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(a, "LIMIT") {
            req.limit = match super::parse::parse_i64_strict(&args[j + 1]) {
                Some(l) if l >= 0 => l as u64,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(req)
}

/// Computes a set operation over `inputs` (None = missing key), sorted by score then member.
fn compute_setop(st: &Storage, inputs: &[Option<Input>], req: &SetOpReq, op: SetOp) -> CmdResult<Vec<Entry>> {
    let mut out: Vec<Entry> = match op {
        SetOp::Union => {
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            let mut order: Vec<Bytes> = Vec::new();
            // Like Redis, smallest inputs first (missing keys count as empty); this decides how
            // inf + -inf sums come out.
            let mut idx: Vec<usize> = (0..inputs.len()).collect();
            idx.sort_by_key(|&i| inputs[i].as_ref().map(|x| x.size).unwrap_or(0));
            for i in idx {
                let Some(input) = &inputs[i] else { continue };
                for (m, s) in st.zinput_entries(input)? {
                    let mut score = req.weights[i] * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(&m) {
                        Some(t) => aggregate(t, score, req.agg),
                        None => {
                            order.push(m.clone());
                            acc.insert(m, score);
                        }
                    }
                }
            }
            order.into_iter().map(|m| (m.clone(), acc.get(&m).copied().unwrap_or(0.0))).collect()
        }
        SetOp::Inter => {
            if inputs.iter().any(|i| i.as_ref().is_none_or(|i| i.size == 0)) {
                return Ok(Vec::new());
            }
            let mut idx: Vec<usize> = (0..inputs.len()).collect();
            idx.sort_by_key(|&i| inputs[i].as_ref().map(|x| x.size).unwrap_or(0));
            let first = idx[0];
            let Some(base) = &inputs[first] else { return Ok(Vec::new()) };
            let mut out = Vec::new();
            'members: for (m, s) in st.zinput_entries(base)? {
                let mut score = req.weights[first] * s;
                if score.is_nan() {
                    score = 0.0;
                }
                for &j in &idx[1..] {
                    let Some(other) = &inputs[j] else { continue 'members };
                    match st.zinput_score(other, &m)? {
                        Some(v) => aggregate(&mut score, v * req.weights[j], req.agg),
                        None => continue 'members,
                    }
                }
                out.push((m, score));
            }
            out
        }
        SetOp::Diff => {
            let Some(Some(base)) = inputs.first() else { return Ok(Vec::new()) };
            let mut out = Vec::new();
            'diff: for (m, s) in st.zinput_entries(base)? {
                for other in inputs[1..].iter().flatten() {
                    if st.zinput_score(other, &m)?.is_some() {
                        continue 'diff;
                    }
                }
                out.push((m, s));
            }
            out
        }
    };
    // Redis's order: by score (-0 equals 0), then member bytes. Scores are never NaN here.
    out.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

fn setop_read(ctx: &mut Ctx<'_>, args: &[Bytes], op: SetOp, name: &str) -> CmdResult<Reply> {
    let out = with_db(ctx, |st, pdb| {
        let mut inputs = Vec::new();
        let req = parse_setop(args, 1, op, false, false, name, |keys| {
            for k in keys {
                inputs.push(st.zinput(pdb, k)?);
            }
            Ok(())
        })?;
        let out = compute_setop(st, &inputs, &req, op)?;
        Ok((out, req.withscores))
    })?;
    Ok(entries_reply(out.0, out.1, resp3(ctx)))
}

fn setop_store(ctx: &mut Ctx<'_>, args: &[Bytes], op: SetOp, name: &str) -> CmdResult<Reply> {
    let dst = &args[1];
    let n = with_db(ctx, |st, pdb| {
        // Validate the key count before locking anything (errors come before type checks).
        let n = int(&args[2])?;
        if n < 1 {
            return Err(CmdError::err(format!("at least 1 input key is needed for '{name}' command")));
        }
        if n as u64 > (args.len() - 3) as u64 {
            return Err(CmdError::Syntax);
        }
        let keys = &args[3..3 + n as usize];
        let _g = st.lock_many(std::iter::once((pdb, dst.as_ref())).chain(keys.iter().map(|k| (pdb, k.as_ref()))))?;
        let mut inputs = Vec::new();
        let req = parse_setop(args, 2, op, true, false, name, |keys| {
            for k in keys {
                inputs.push(st.zinput_locked(pdb, k)?);
            }
            Ok(())
        })?;
        let out = compute_setop(st, &inputs, &req, op)?;
        st.zstore_locked(pdb, dst, &out)?;
        Ok(out.len())
    })?;
    // An empty result deletes the destination: its `del` comes from storage.
    if n > 0 {
        fire(ctx, K::ZSET, name, dst);
    }
    Ok(Reply::Int(n as i64))
}

fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setop_read(ctx, args, SetOp::Union, "zunion")
}

fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setop_read(ctx, args, SetOp::Inter, "zinter")
}

fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setop_read(ctx, args, SetOp::Diff, "zdiff")
}

fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setop_store(ctx, args, SetOp::Union, "zunionstore")
}

fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setop_store(ctx, args, SetOp::Inter, "zinterstore")
}

fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setop_store(ctx, args, SetOp::Diff, "zdiffstore")
}

fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_db(ctx, |st, pdb| {
        let mut inputs = Vec::new();
        let req = parse_setop(args, 1, SetOp::Inter, false, true, "zintercard", |keys| {
            for k in keys {
                inputs.push(st.zinput(pdb, k)?);
            }
            Ok(())
        })?;
        if inputs.iter().any(|i| i.as_ref().is_none_or(|i| i.size == 0)) {
            return Ok(0u64);
        }
        let mut order: Vec<&Input> = inputs.iter().flatten().collect();
        order.sort_by_key(|i| i.size);
        let mut count = 0u64;
        'members: for (m, _) in st.zinput_entries(order[0])? {
            for other in &order[1..] {
                if st.zinput_score(other, &m)?.is_none() {
                    continue 'members;
                }
            }
            count += 1;
            if req.limit > 0 && count >= req.limit {
                break;
            }
        }
        Ok(count)
    })?;
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

/// The most members a negative ZRANDMEMBER count may ask for (a guard against replies that
/// cannot be built; Redis itself would try).
const MAX_RANDOM_REPEATS: u64 = 1 << 24;

fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() >= 3 {
        let l = random_count(&args[2])?;
        let withscores = match args.len() {
            3 => false,
            4 if is(&args[3], "WITHSCORES") => {
                check_paired_count(l)?;
                true
            }
            _ => return Err(CmdError::Syntax),
        };
        let entries = read(ctx, &args[1], Vec::new(), |v| random_members(v, l))?;
        return Ok(entries_reply(entries, withscores, resp3(ctx)));
    }
    let e = read(ctx, &args[1], Vec::new(), |v| {
        let r = rand::rng().random_range(0..v.size().max(1));
        Ok(v.range_by_rank(r, r, false)?)
    })?;
    Ok(e.into_iter().next().map(|(m, _)| Reply::Bulk(m)).unwrap_or(Reply::Null))
}

fn random_members(v: &ZView<'_>, count: i64) -> CmdResult<Vec<Entry>> {
    let size = v.size();
    if count == 0 || size == 0 {
        return Ok(Vec::new());
    }
    let (k, unique) = (count.unsigned_abs(), count > 0);
    if !unique && k > MAX_RANDOM_REPEATS {
        return Err(CmdError::err("value is out of range"));
    }
    if unique && k >= size {
        return Ok(v.all()?);
    }
    let (ranks, order) = random_picks(size, k, unique);
    let found = v.at_ranks(&ranks)?;
    Ok(in_pick_order(&found, &order))
}

fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    // `strtoul`: a leading '-' wraps around rather than failing.
    let cursor = scan_cursor(&args[2])?;
    let position = if cursor == 0 { None } else { ctx.shared.cursors.lock().get(cursor).map(|p| p.to_vec()) };
    let page = with_db(ctx, |st, pdb| {
        let Some(v) = st.zview(pdb, &args[1])? else { return Ok(None) };
        let opts = scan_opts(&args[3..], false)?;
        let keep = |m: &[u8]| opts.matches(m);
        // A small (listpack) sorted set is returned whole, as Redis does.
        let (after, count) =
            if v.meta.flags & FLAG_BIG == 0 { (None, usize::MAX) } else { (position.as_deref(), opts.count) };
        Ok(Some(v.scan_members(after, count, keep)?))
    })?;
    let Some((entries, next)) = page else {
        return Ok(Reply::Array(vec![Reply::bulk(&b"0"[..]), Reply::Array(Vec::new())]));
    };
    let next = match next {
        Some(pos) => ctx.shared.cursors.lock().insert(pos.to_vec()),
        None => 0,
    };
    let mut items = Vec::with_capacity(entries.len() * 2);
    for (m, s) in entries {
        items.push(Reply::Bulk(m));
        items.push(Reply::bulk(format_double(s).into_bytes()));
    }
    Ok(Reply::Array(vec![Reply::bulk(next.to_string().into_bytes()), Reply::Array(items)]))
}
