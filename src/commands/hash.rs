//! Hash commands: HSET and friends over `storage::types::hash`.
//!
//! # Format
//! As in Redis 7.0: `HSET key field value [field value ...]`, `HRANDFIELD key [count
//! [WITHVALUES]]`, `HSCAN key cursor [MATCH pattern] [COUNT count]` and the rest.

use super::parse::{
    check_paired_count, float, incrbyfloat_text, int, is, parse_f64, parse_i64_strict, random_count, scan_cursor,
    scan_opts,
};
use super::pubsub::fire;
use super::{CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::types::hash::{HashStore, Pair};
use crate::storage::DbMap;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("hset", -4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, HASH, FAST), hset,
        "hash", "2.0.0", "Set the string value of a hash field", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."),
    cmd!("hsetnx", 4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, HASH, FAST), hsetnx,
        "hash", "2.0.0", "Set the value of a hash field, only if the field does not exist", "O(1)"),
    cmd!("hget", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, HASH, FAST), hget,
        "hash", "2.0.0", "Get the value of a hash field", "O(1)"),
    cmd!("hmget", -3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, HASH, FAST), hmget,
        "hash", "2.0.0", "Get the values of all the given hash fields", "O(N) where N is the number of fields being requested."),
    cmd!("hmset", -4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, HASH, FAST), hmset,
        "hash", "2.0.0", "Set multiple hash fields to multiple values", "O(N) where N is the number of fields being set."),
    cmd!("hgetall", 2, flags!(READONLY), 1, 1, 1, acl!(READ, HASH, SLOW), hgetall,
        "hash", "2.0.0", "Get all the fields and values in a hash", "O(N) where N is the size of the hash."),
    cmd!("hdel", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, HASH, FAST), hdel,
        "hash", "2.0.0", "Delete one or more hash fields", "O(N) where N is the number of fields to be removed."),
    cmd!("hexists", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, HASH, FAST), hexists,
        "hash", "2.0.0", "Determine if a hash field exists", "O(1)"),
    cmd!("hlen", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, HASH, FAST), hlen,
        "hash", "2.0.0", "Get the number of fields in a hash", "O(1)"),
    cmd!("hstrlen", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, HASH, FAST), hstrlen,
        "hash", "3.2.0", "Get the length of the value of a hash field", "O(1)"),
    cmd!("hincrby", 4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, HASH, FAST), hincrby,
        "hash", "2.0.0", "Increment the integer value of a hash field by the given number", "O(1)"),
    cmd!("hincrbyfloat", 4, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, HASH, FAST), hincrbyfloat,
        "hash", "2.6.0", "Increment the float value of a hash field by the given amount", "O(1)"),
    cmd!("hkeys", 2, flags!(READONLY), 1, 1, 1, acl!(READ, HASH, SLOW), hkeys,
        "hash", "2.0.0", "Get all the fields in a hash", "O(N) where N is the size of the hash."),
    cmd!("hvals", 2, flags!(READONLY), 1, 1, 1, acl!(READ, HASH, SLOW), hvals,
        "hash", "2.0.0", "Get all the values in a hash", "O(N) where N is the size of the hash."),
    cmd!("hrandfield", -2, flags!(READONLY), 1, 1, 1, acl!(READ, HASH, SLOW), hrandfield,
        "hash", "6.2.0", "Get one or multiple random fields from a hash", "O(N) where N is the number of fields returned"),
    cmd!("hscan", -3, flags!(READONLY), 1, 1, 1, acl!(READ, HASH, SLOW), hscan,
        "hash", "2.8.0", "Incrementally iterate hash fields and associated values", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."),
];

/// The most pairs HRANDFIELD with a negative count replies with (Redis has no limit but
/// memory; a reply this long is refused with "value is out of range").
const MAX_RANDOM_REPEATS: u64 = 10_000_000;

fn with_hashes<R>(ctx: &Ctx<'_>, f: impl FnOnce(&HashStore<'_>) -> CmdResult<R>) -> CmdResult<R> {
    let dbs: DbMap<'_> = ctx.shared.storage.dbs();
    let store = HashStore::new(&ctx.shared.storage, dbs.physical(ctx.session.db));
    f(&store)
}

fn pairs(args: &[Bytes], name: &str) -> CmdResult<Vec<(Bytes, Bytes)>> {
    if args.len() % 2 == 1 {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    Ok(args[2..].chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect())
}

fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let kv = pairs(args, "hset")?;
    let added = with_hashes(ctx, |h| Ok(h.set(&args[1], &kv, false)?))?;
    fire(ctx, K::HASH, "hset", &args[1]);
    Ok(Reply::Int(added as i64))
}

fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let kv = pairs(args, "hmset")?;
    with_hashes(ctx, |h| Ok(h.set(&args[1], &kv, false)?))?;
    fire(ctx, K::HASH, "hset", &args[1]);
    Ok(Reply::Ok)
}

fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let kv = [(args[2].clone(), args[3].clone())];
    let added = with_hashes(ctx, |h| Ok(h.set(&args[1], &kv, true)?))?;
    if added > 0 {
        fire(ctx, K::HASH, "hset", &args[1]);
    }
    Ok(Reply::Int(added as i64))
}

fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_hashes(ctx, |h| Ok(h.get(&args[1], &args[2])?))?;
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let vals = with_hashes(ctx, |h| Ok(h.mget(&args[1], &args[2..])?))?;
    Ok(Reply::Array(vals.into_iter().map(|v| v.map(Reply::Bulk).unwrap_or(Reply::Null)).collect()))
}

fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_hashes(ctx, |h| Ok(h.del(&args[1], &args[2..])?))?;
    if n > 0 {
        fire(ctx, K::HASH, "hdel", &args[1]);
    }
    Ok(Reply::Int(n as i64))
}

fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_hashes(ctx, |h| Ok(h.get(&args[1], &args[2])?))?;
    Ok(Reply::Int(i64::from(v.is_some())))
}

fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let m = with_hashes(ctx, |h| Ok(h.meta(&args[1])?))?;
    Ok(Reply::Int(m.map(|m| m.size as i64).unwrap_or(0)))
}

fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_hashes(ctx, |h| Ok(h.get(&args[1], &args[2])?))?;
    Ok(Reply::Int(v.map(|v| v.len() as i64).unwrap_or(0)))
}

fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let d = int(&args[3])?;
    let r = with_hashes(ctx, |h| {
        Ok(h.update_field(&args[1], &args[2], |cur| {
            let n = match cur {
                None => 0,
                Some(v) => parse_i64_strict(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
            };
            let next = n.checked_add(d).ok_or(CmdError::Overflow)?;
            let mut buf = itoa::Buffer::new();
            Ok::<_, CmdError>((buf.format(next).as_bytes().to_vec(), next))
        })?)
    })?;
    let r = r?;
    fire(ctx, K::HASH, "hincrby", &args[1]);
    Ok(Reply::Int(r))
}

fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let d = float(&args[3])?;
    if !d.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let r = with_hashes(ctx, |h| {
        Ok(h.update_field(&args[1], &args[2], |cur| {
            let cur = cur.unwrap_or(b"0");
            let n = parse_f64(cur).ok_or_else(|| CmdError::err("hash value is not a float"))?;
            let next = n + d;
            if !next.is_finite() {
                return Err(CmdError::err("increment would produce NaN or Infinity"));
            }
            let text = incrbyfloat_text(cur, &args[3], next);
            Ok::<_, CmdError>((text.clone().into_bytes(), text))
        })?)
    })?;
    let r = r?;
    fire(ctx, K::HASH, "hincrbyfloat", &args[1]);
    Ok(Reply::bulk(r.into_bytes()))
}

fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let all = with_hashes(ctx, |h| Ok(h.all(&args[1])?))?.unwrap_or_default();
    Ok(Reply::Map(all.into_iter().map(|(f, v)| (Reply::Bulk(f), Reply::Bulk(v))).collect()))
}

fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let all = with_hashes(ctx, |h| Ok(h.all(&args[1])?))?.unwrap_or_default();
    Ok(Reply::Array(all.into_iter().map(|(f, _)| Reply::Bulk(f)).collect()))
}

fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let all = with_hashes(ctx, |h| Ok(h.all(&args[1])?))?.unwrap_or_default();
    Ok(Reply::Array(all.into_iter().map(|(_, v)| Reply::Bulk(v)).collect()))
}

fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() == 2 {
        let one = with_hashes(ctx, |h| Ok(h.random_one(&args[1])?))?;
        return Ok(one.map(|(f, _)| Reply::Bulk(f)).unwrap_or(Reply::Null));
    }
    let l = random_count(&args[2])?;
    let withvalues = match args.len() {
        3 => false,
        4 if is(&args[3], "WITHVALUES") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withvalues {
        check_paired_count(l)?;
    }
    let (count, unique) = (l.unsigned_abs(), l >= 0);
    let picked = with_hashes(ctx, |h| {
        if !unique && count > MAX_RANDOM_REPEATS {
            // Redis would try to build this reply; refuse it unless there is nothing to pick.
            return match h.meta(&args[1])? {
                Some(_) => Err(CmdError::err("value is out of range")),
                None => Ok(Vec::new()),
            };
        }
        // Redis serves a count of 1 like a negative count (but with one pair at most).
        Ok(h.random(&args[1], count, unique)?)
    })?;
    Ok(pairs_reply(picked, withvalues, ctx.session.protocol == 3))
}

/// HRANDFIELD's reply: fields, or with values a flat array (RESP2) or an array of pairs (RESP3).
fn pairs_reply(picked: Vec<Pair>, withvalues: bool, resp3: bool) -> Reply {
    if !withvalues {
        return Reply::Array(picked.into_iter().map(|(f, _)| Reply::Bulk(f)).collect());
    }
    if resp3 {
        return Reply::Array(
            picked.into_iter().map(|(f, v)| Reply::Array(vec![Reply::Bulk(f), Reply::Bulk(v)])).collect(),
        );
    }
    Reply::Array(picked.into_iter().flat_map(|(f, v)| [Reply::Bulk(f), Reply::Bulk(v)]).collect())
}

fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let cursor = scan_cursor(&args[2])?;
    let empty = || Reply::Array(vec![Reply::bulk(&b"0"[..]), Reply::Array(Vec::new())]);
    let exists = with_hashes(ctx, |h| Ok(h.meta(&args[1])?))?.is_some();
    if !exists {
        return Ok(empty());
    }
    let opts = scan_opts(&args[3..], false)?;
    let position = if cursor == 0 { None } else { ctx.shared.cursors.lock().get(cursor).map(|p| p.to_vec()) };
    let page = with_hashes(ctx, |h| Ok(h.scan(&args[1], position.as_deref(), opts.count)?))?;
    let next = match page.next {
        Some(pos) => ctx.shared.cursors.lock().insert(pos),
        None => 0,
    };
    let mut items = Vec::with_capacity(page.pairs.len() * 2);
    for (f, v) in page.pairs {
        if opts.matches(&f) {
            items.push(Reply::Bulk(f));
            items.push(Reply::Bulk(v));
        }
    }
    Ok(Reply::Array(vec![Reply::bulk(next.to_string().into_bytes()), Reply::Array(items)]))
}
