//! String commands: SET and friends, counters, ranges, LCS.
//!
//! # Format
//! `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]` and the rest as in
//! Redis 7. Handlers parse, call `StringStore`, and shape the reply.

use super::parse::{float, incrbyfloat_text, int, is, parse_f64, parse_i64_strict};
use super::pubsub::{fire, keymiss, notifying};
use super::{with_db, CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::types::string::{ExpireUpdate, SetCond, StringStore};
use crate::storage::DbMap;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("set", -3, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, STRING, SLOW), set,
        "string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)"),
    cmd!("get", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, STRING, FAST), get,
        "string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    cmd!("getdel", 2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), getdel,
        "string", "6.2.0", "Returns the string value of a key after deleting the key.", "O(1)"),
    cmd!("getex", -2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), getex,
        "string", "6.2.0", "Returns the string value of a key after setting its expiration time.", "O(1)"),
    cmd!("getset", 3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), getset,
        "string", "1.0.0", "Returns the previous string value of a key after setting it to a new value.", "O(1)"),
    cmd!("setnx", 3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), setnx,
        "string", "1.0.0", "Set the string value of a key only when the key doesn't exist.", "O(1)"),
    cmd!("setex", 4, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, STRING, SLOW), setex,
        "string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "O(1)"),
    cmd!("psetex", 4, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, STRING, SLOW), psetex,
        "string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "O(1)"),
    cmd!("mset", -3, flags!(WRITE, DENYOOM), 1, -1, 2, acl!(WRITE, STRING, SLOW), mset,
        "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", "O(N) where N is the number of keys to set."),
    cmd!("msetnx", -3, flags!(WRITE, DENYOOM), 1, -1, 2, acl!(WRITE, STRING, SLOW), msetnx,
        "string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "O(N) where N is the number of keys to set."),
    cmd!("mget", -2, flags!(READONLY, FAST), 1, -1, 1, acl!(READ, STRING, FAST), mget,
        "string", "1.0.0", "Atomically returns the string values of one or more keys.", "O(N) where N is the number of keys to retrieve."),
    cmd!("incr", 2, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), incr,
        "string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    cmd!("decr", 2, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), decr,
        "string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    cmd!("incrby", 3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), incrby,
        "string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    cmd!("decrby", 3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), decrby,
        "string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    cmd!("incrbyfloat", 3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), incrbyfloat,
        "string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    cmd!("append", 3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STRING, FAST), append,
        "string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1)"),
    cmd!("strlen", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, STRING, FAST), strlen,
        "string", "2.2.0", "Returns the length of a string value.", "O(1)"),
    cmd!("getrange", 4, flags!(READONLY), 1, 1, 1, acl!(READ, STRING, SLOW), getrange,
        "string", "2.4.0", "Returns a substring of the string stored at a key.", "O(N) where N is the length of the returned string."),
    cmd!("substr", 4, flags!(READONLY), 1, 1, 1, acl!(READ, STRING, SLOW), getrange,
        "string", "1.0.0", "Returns a substring from a string value.", "O(N) where N is the length of the returned string."),
    cmd!("setrange", 4, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, STRING, SLOW), setrange,
        "string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "O(1), not counting the time taken to copy the new string in place."),
    cmd!("lcs", -3, flags!(READONLY), 1, 2, 1, acl!(READ, STRING, SLOW), lcs,
        "string", "7.0.0", "Finds the longest common substring.", "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
];

fn with_strings<R>(ctx: &Ctx<'_>, f: impl FnOnce(&StringStore<'_>) -> CmdResult<R>) -> CmdResult<R> {
    let dbs: DbMap<'_> = ctx.shared.storage.dbs();
    let store = StringStore::new(&ctx.shared.storage, dbs.physical(ctx.session.db));
    f(&store)
}

fn max_len(ctx: &Ctx<'_>) -> u64 {
    ctx.shared.config.read().proto_max_bulk_len
}

/// Turns an EX/PX/EXAT/PXAT argument into an absolute Unix time in ms, with Redis's checks.
pub(crate) fn expire_at(
    ctx: &Ctx<'_>,
    arg: &[u8],
    unit_secs: bool,
    absolute: bool,
    cmd: &'static str,
) -> CmdResult<u64> {
    let v = int(arg)?;
    if v <= 0 || (unit_secs && v > i64::MAX / 1000) {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let mut ms = if unit_secs { v * 1000 } else { v };
    if !absolute {
        ms = ms.checked_add(ctx.shared.storage.clock.now_ms() as i64).ok_or(CmdError::InvalidExpire(cmd))?;
    }
    if ms <= 0 {
        return Err(CmdError::InvalidExpire(cmd));
    }
    Ok(ms as u64)
}

/// The options of SET and GETEX, parsed as Redis's `parseExtendedStringArgumentsOrReply`: an
/// option may repeat (the last expiry wins) but never meet an incompatible one.
#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// (value, in seconds?, absolute?) of EX / PX / EXAT / PXAT.
    expire: Option<(&'a [u8], bool, bool)>,
}

impl<'a> StringOptions<'a> {
    fn parse(args: &'a [Bytes], for_set: bool) -> CmdResult<StringOptions<'a>> {
        let mut o = StringOptions::default();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let next = args.get(i + 1);
            let kind = |k: (bool, bool)| o.expire.is_none_or(|(_, s, abs)| (s, abs) == k);
            if for_set && is(a, "NX") && !o.xx {
                o.nx = true;
            } else if for_set && is(a, "XX") && !o.nx {
                o.xx = true;
            } else if for_set && is(a, "GET") {
                o.get = true;
            } else if for_set && is(a, "KEEPTTL") && !o.persist && o.expire.is_none() {
                o.keepttl = true;
            } else if !for_set && is(a, "PERSIST") && !o.keepttl && o.expire.is_none() {
                o.persist = true;
            } else if let Some((secs, abs)) = expire_kind(a).filter(|&k| kind(k) && !o.keepttl && !o.persist) {
                let Some(v) = next else { return Err(CmdError::Syntax) };
                o.expire = Some((v.as_ref(), secs, abs));
                i += 1;
            } else {
                return Err(CmdError::Syntax);
            }
            i += 1;
        }
        Ok(o)
    }

    fn expire_update(&self, ctx: &Ctx<'_>, cmd: &'static str) -> CmdResult<Option<ExpireUpdate>> {
        Ok(match self.expire {
            Some((v, secs, abs)) => Some(ExpireUpdate::At(expire_at(ctx, v, secs, abs, cmd)?)),
            None if self.keepttl => Some(ExpireUpdate::Keep),
            None if self.persist => Some(ExpireUpdate::Clear),
            None => None,
        })
    }
}

/// (in seconds?, absolute?) for EX / PX / EXAT / PXAT.
fn expire_kind(a: &[u8]) -> Option<(bool, bool)> {
    if is(a, "EX") {
        Some((true, false))
    } else if is(a, "PX") {
        Some((false, false))
    } else if is(a, "EXAT") {
        Some((true, true))
    } else if is(a, "PXAT") {
        Some((false, true))
    } else {
        None
    }
}

fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let o = StringOptions::parse(&args[3..], true)?;
    let expire = o.expire_update(ctx, "set")?.unwrap_or(ExpireUpdate::Clear);
    let cond = if o.nx {
        SetCond::IfMissing
    } else if o.xx {
        SetCond::IfExists
    } else {
        SetCond::Always
    };
    let get = o.get;
    let out = with_strings(ctx, |s| Ok(s.set(&args[1], &args[2], cond, expire, get)?))?;
    if get && out.old.is_none() {
        keymiss(ctx, &args[1]);
    }
    if out.written {
        fire(ctx, K::STRING, "set", &args[1]);
        if matches!(expire, ExpireUpdate::At(_)) {
            fire(ctx, K::GENERIC, "expire", &args[1]);
        }
    }
    Ok(match (get, out.written) {
        (true, _) => out.old.map(Reply::Bulk).unwrap_or(Reply::Null),
        (false, true) => Reply::Ok,
        (false, false) => Reply::Null,
    })
}

fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_strings(ctx, |s| Ok(s.get(&args[1])?))?;
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_strings(ctx, |s| Ok(s.getdel(&args[1])?))?;
    if v.is_none() {
        keymiss(ctx, &args[1]);
    }
    if v.is_some() {
        fire(ctx, K::GENERIC, "del", &args[1]);
    }
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let o = StringOptions::parse(&args[2..], false)?;
    let update = o.expire_update(ctx, "getex")?.unwrap_or(ExpireUpdate::Keep);
    // PERSIST announces only a removed expiry: look at it first when anyone listens.
    let had_ttl = matches!(update, ExpireUpdate::Clear)
        && notifying(ctx)
        && with_db(ctx, |st, pdb| Ok(st.get_live(pdb, &args[1])?))?.is_some_and(|r| r.header.expire_at_ms != 0);
    let v = with_strings(ctx, |s| Ok(s.getex(&args[1], update)?))?;
    if v.is_none() {
        keymiss(ctx, &args[1]);
    }
    if v.is_some() {
        match update {
            ExpireUpdate::At(at) if at <= ctx.shared.storage.clock.now_ms() => fire(ctx, K::GENERIC, "del", &args[1]),
            ExpireUpdate::At(_) => fire(ctx, K::GENERIC, "expire", &args[1]),
            ExpireUpdate::Clear if had_ttl => fire(ctx, K::GENERIC, "persist", &args[1]),
            _ => {}
        }
    }
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let out = with_strings(ctx, |s| Ok(s.set(&args[1], &args[2], SetCond::Always, ExpireUpdate::Clear, true)?))?;
    fire(ctx, K::STRING, "set", &args[1]);
    Ok(out.old.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let out = with_strings(ctx, |s| Ok(s.set(&args[1], &args[2], SetCond::IfMissing, ExpireUpdate::Clear, false)?))?;
    if out.written {
        fire(ctx, K::STRING, "set", &args[1]);
    }
    Ok(Reply::Int(i64::from(out.written)))
}

fn setex_common(ctx: &mut Ctx<'_>, args: &[Bytes], secs: bool, name: &'static str) -> CmdResult<Reply> {
    let at = expire_at(ctx, &args[2], secs, false, name)?;
    with_strings(ctx, |s| Ok(s.set(&args[1], &args[3], SetCond::Always, ExpireUpdate::At(at), false)?))?;
    fire(ctx, K::STRING, "set", &args[1]);
    fire(ctx, K::GENERIC, "expire", &args[1]);
    Ok(Reply::Ok)
}

fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setex_common(ctx, args, true, "setex")
}

fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    setex_common(ctx, args, false, "psetex")
}

fn pairs(args: &[Bytes], name: &str) -> CmdResult<Vec<(Bytes, Bytes)>> {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    Ok(args[1..].chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect())
}

fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let kv = pairs(args, "mset")?;
    with_strings(ctx, |s| Ok(s.mset(&kv, false)?))?;
    for (k, _) in &kv {
        fire(ctx, K::STRING, "set", k);
    }
    Ok(Reply::Ok)
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let kv = pairs(args, "msetnx")?;
    let ok = with_strings(ctx, |s| Ok(s.mset(&kv, true)?))?;
    if ok {
        for (k, _) in &kv {
            fire(ctx, K::STRING, "set", k);
        }
    }
    Ok(Reply::Int(i64::from(ok)))
}

fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let vals = with_strings(ctx, |s| Ok(s.mget(&args[1..])?))?;
    Ok(Reply::Array(vals.into_iter().map(|v| v.map(Reply::Bulk).unwrap_or(Reply::Null)).collect()))
}

fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) -> CmdResult<Reply> {
    let r = with_strings(ctx, |s| {
        Ok(s.update(key, false, |cur| {
            let n = match cur {
                None => 0,
                Some(v) => parse_i64_strict(v).ok_or(CmdError::NotInteger)?,
            };
            let next = n.checked_add(delta).ok_or(CmdError::Overflow)?;
            let mut buf = itoa::Buffer::new();
            Ok::<_, CmdError>((Some(buf.format(next).as_bytes().to_vec()), next))
        })?)
    })?;
    let r = r?;
    fire(ctx, K::STRING, "incrby", key);
    Ok(Reply::Int(r))
}

fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    incr_by(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    incr_by(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let d = int(&args[2])?;
    incr_by(ctx, &args[1], d)
}

fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let d = int(&args[2])?;
    if d == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_by(ctx, &args[1], -d)
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let d = float(&args[2])?;
    let r = with_strings(ctx, |s| {
        Ok(s.update(&args[1], false, |cur| {
            let cur = cur.unwrap_or(b"0");
            let n = parse_f64(cur).ok_or(CmdError::NotFloat)?;
            let next = n + d;
            if !next.is_finite() {
                return Err(CmdError::err("increment would produce NaN or Infinity"));
            }
            let text = incrbyfloat_text(cur, &args[2], next);
            Ok::<_, CmdError>((Some(text.clone().into_bytes()), text))
        })?)
    })?;
    let r = r?;
    fire(ctx, K::STRING, "incrbyfloat", &args[1]);
    Ok(Reply::bulk(r.into_bytes()))
}

fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let max = max_len(ctx);
    let len = with_strings(ctx, |s| Ok(s.append(&args[1], &args[2], max)?))?.ok_or(CmdError::StringTooLong)?;
    fire(ctx, K::STRING, "append", &args[1]);
    Ok(Reply::Int(len as i64))
}

fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_strings(ctx, |s| Ok(s.strlen(&args[1])?))?;
    Ok(Reply::Int(n as i64))
}

fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (mut start, mut end) = (int(&args[2])?, int(&args[3])?);
    let v = with_strings(ctx, |s| {
        Ok(s.getrange(&args[1], |len| {
            let len = len as i64;
            if (start < 0 && end < 0 && start > end) || len == 0 {
                return None;
            }
            if start < 0 {
                start += len;
            }
            if end < 0 {
                end += len;
            }
            start = start.max(0);
            end = end.max(0).min(len - 1);
            (start <= end).then_some((start as u64, end as u64))
        })?)
    })?;
    Ok(Reply::Bulk(v))
}

fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let offset = int(&args[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let value = &args[3];
    let max = max_len(ctx);
    if value.is_empty() {
        let n = with_strings(ctx, |s| Ok(s.strlen(&args[1])?))?;
        return Ok(Reply::Int(n as i64));
    }
    let end = (offset as u64).checked_add(value.len() as u64).ok_or(CmdError::StringTooLong)?;
    if end > max {
        return Err(CmdError::StringTooLong);
    }
    let len = with_strings(ctx, |s| Ok(s.setrange(&args[1], offset as u64, value)?))?;
    fire(ctx, K::STRING, "setrange", &args[1]);
    Ok(Reply::Int(len as i64))
}

fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (mut get_len, mut get_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is(a, "IDX") {
            get_idx = true;
        } else if is(a, "LEN") {
            get_len = true;
        } else if is(a, "WITHMATCHLEN") {
            with_len = true;
        } else if is(a, "MINMATCHLEN") && i + 1 < args.len() {
            min_len = int(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if get_len && get_idx {
        return Err(CmdError::err("If you want both the length and indexes, please just use IDX."));
    }
    let wrong = CmdError::err("The specified keys must contain string values");
    let (a, b) = with_strings(ctx, |s| {
        let a = s.get(&args[1]).map_err(|e| {
            if e == crate::storage::StoreError::WrongType {
                wrong.clone()
            } else {
                e.into()
            }
        })?;
        let b = s.get(&args[2]).map_err(|e| {
            if e == crate::storage::StoreError::WrongType {
                wrong.clone()
            } else {
                e.into()
            }
        })?;
        Ok((a.unwrap_or_default(), b.unwrap_or_default()))
    })?;
    let cells = (a.len() as u64 + 1).saturating_mul(b.len() as u64 + 1).saturating_mul(4);
    if cells > max_len(ctx) {
        return Err(CmdError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let out = lcs_compute(&a, &b, get_idx, min_len as usize, with_len);
    if get_idx {
        let matches = out.ranges.into_iter().map(|m| {
            let mut item = vec![
                Reply::Array(vec![Reply::Int(m.a.0 as i64), Reply::Int(m.a.1 as i64)]),
                Reply::Array(vec![Reply::Int(m.b.0 as i64), Reply::Int(m.b.1 as i64)]),
            ];
            if with_len {
                item.push(Reply::Int(m.len as i64));
            }
            Reply::Array(item)
        });
        return Ok(Reply::Map(vec![
            (Reply::bulk(&b"matches"[..]), Reply::Array(matches.collect())),
            (Reply::bulk(&b"len"[..]), Reply::Int(out.len as i64)),
        ]));
    }
    if get_len {
        return Ok(Reply::Int(out.len as i64));
    }
    Ok(Reply::bulk(out.text))
}

struct LcsRange {
    a: (usize, usize),
    b: (usize, usize),
    len: usize,
}

struct LcsOut {
    len: usize,
    text: Vec<u8>,
    ranges: Vec<LcsRange>,
}

/// Redis's `lcsCommand` algorithm, step for step, so ranges come out identical.
fn lcs_compute(a: &[u8], b: &[u8], want_ranges: bool, min_len: usize, _with_len: bool) -> LcsOut {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    let mut dp = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for j in 1..=blen {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[alen * w + blen] as usize;
    let mut text = vec![0u8; total];
    let mut ranges = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let len = a_end - a_start + 1;
            if want_ranges && (min_len == 0 || len >= min_len) {
                ranges.push(LcsRange { a: (a_start, a_end), b: (b_start, b_end), len });
            }
            a_start = alen;
        }
    }
    LcsOut { len: total, text, ranges }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_matches_redis_docs() {
        let out = lcs_compute(b"ohmytext", b"mynewtext", true, 0, false);
        assert_eq!(out.text, b"mytext");
        assert_eq!(out.len, 6);
        let r: Vec<_> = out.ranges.iter().map(|r| (r.a, r.b, r.len)).collect();
        assert_eq!(r, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
        let out = lcs_compute(b"ohmytext", b"mynewtext", true, 4, false);
        assert_eq!(out.ranges.len(), 1);
    }
}
