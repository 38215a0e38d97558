//! Set commands: SADD and friends, set algebra and their STORE forms.
//!
//! # Format
//! As in Redis 7.0: `SADD key member...`, `SRANDMEMBER key [count]`, `SPOP key [count]`,
//! `SINTERCARD numkeys key... [LIMIT n]`, `SSCAN key cursor [MATCH pat] [COUNT n]`, ...
//! Handlers parse, call `SetStore`, and shape the reply (RESP3 sets where Redis sends sets).

use super::parse::{is, parse_i64_strict, positive_count, random_count, scan_cursor, scan_opts};
use super::pubsub::fire;
use super::{CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::types::set::{SetOp, SetStore};
use crate::storage::DbMap;
use crate::{acl, cmd, flags};
use bytes::Bytes;

/// SRANDMEMBER with a negative count builds its whole reply; more members than this are refused
/// rather than exhausting memory (Redis would try, and be killed).
pub const MAX_REPEATED_MEMBERS: u64 = 1 << 22;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("sadd", -3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, SET, FAST), sadd,
        "set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    cmd!("srem", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, SET, FAST), srem,
        "set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.", "O(N) where N is the number of members to be removed."),
    cmd!("sismember", 3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SET, FAST), sismember,
        "set", "1.0.0", "Determines whether a member belongs to a set.", "O(1)"),
    cmd!("smismember", -3, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SET, FAST), smismember,
        "set", "6.2.0", "Determines whether multiple members belong to a set.", "O(N) where N is the number of elements being checked for membership"),
    cmd!("smembers", 2, flags!(READONLY), 1, 1, 1, acl!(READ, SET, SLOW), smembers,
        "set", "1.0.0", "Returns all members of a set.", "O(N) where N is the set cardinality."),
    cmd!("scard", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, SET, FAST), scard,
        "set", "1.0.0", "Returns the number of members in a set.", "O(1)"),
    cmd!("srandmember", -2, flags!(READONLY), 1, 1, 1, acl!(READ, SET, SLOW), srandmember,
        "set", "1.0.0", "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."),
    cmd!("spop", -2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, SET, FAST), spop,
        "set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."),
    cmd!("smove", 4, flags!(WRITE, FAST), 1, 2, 1, acl!(WRITE, SET, FAST), smove,
        "set", "1.0.0", "Moves a member from one set to another.", "O(1)"),
    cmd!("sunion", -2, flags!(READONLY), 1, -1, 1, acl!(READ, SET, SLOW), sunion,
        "set", "1.0.0", "Returns the union of multiple sets.", "O(N) where N is the total number of elements in all given sets."),
    cmd!("sinter", -2, flags!(READONLY), 1, -1, 1, acl!(READ, SET, SLOW), sinter,
        "set", "1.0.0", "Returns the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    cmd!("sdiff", -2, flags!(READONLY), 1, -1, 1, acl!(READ, SET, SLOW), sdiff,
        "set", "1.0.0", "Returns the difference of multiple sets.", "O(N) where N is the total number of elements in all given sets."),
    cmd!("sunionstore", -3, flags!(WRITE, DENYOOM), 1, -1, 1, acl!(WRITE, SET, SLOW), sunionstore,
        "set", "1.0.0", "Stores the union of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets."),
    cmd!("sinterstore", -3, flags!(WRITE, DENYOOM), 1, -1, 1, acl!(WRITE, SET, SLOW), sinterstore,
        "set", "1.0.0", "Stores the intersect of multiple sets in a key.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    cmd!("sdiffstore", -3, flags!(WRITE, DENYOOM), 1, -1, 1, acl!(WRITE, SET, SLOW), sdiffstore,
        "set", "1.0.0", "Stores the difference of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets."),
    cmd!("sintercard", -3, flags!(READONLY, MOVABLEKEYS), 0, 0, 0, acl!(READ, SET, SLOW), sintercard,
        "set", "7.0.0", "Returns the number of members of the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    cmd!("sscan", -3, flags!(READONLY), 1, 1, 1, acl!(READ, SET, SLOW), sscan,
        "set", "2.8.0", "Iterates over members of a set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
];

fn with_sets<R>(ctx: &Ctx<'_>, f: impl FnOnce(&SetStore<'_>) -> CmdResult<R>) -> CmdResult<R> {
    let dbs: DbMap<'_> = ctx.shared.storage.dbs();
    let store = SetStore::new(&ctx.shared.storage, dbs.physical(ctx.session.db));
    f(&store)
}

fn bulks(members: Vec<Bytes>) -> Vec<Reply> {
    members.into_iter().map(Reply::Bulk).collect()
}

fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_sets(ctx, |s| Ok(s.add(&args[1], &args[2..])?))?;
    if n > 0 {
        fire(ctx, K::SET, "sadd", &args[1]);
    }
    Ok(Reply::Int(n))
}

fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_sets(ctx, |s| Ok(s.remove(&args[1], &args[2..])?))?;
    if n > 0 {
        fire(ctx, K::SET, "srem", &args[1]);
    }
    Ok(Reply::Int(n))
}

fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let yes = with_sets(ctx, |s| Ok(s.is_member(&args[1], &args[2])?))?;
    Ok(Reply::Int(i64::from(yes)))
}

fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_sets(ctx, |s| Ok(s.are_members(&args[1], &args[2..])?))?;
    Ok(Reply::Array(v.into_iter().map(|b| Reply::Int(i64::from(b))).collect()))
}

fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_sets(ctx, |s| Ok(s.members(&args[1])?))?;
    Ok(Reply::Set(bulks(v)))
}

fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_sets(ctx, |s| Ok(s.card(&args[1])?))?;
    Ok(Reply::Int(n as i64))
}

fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    match args.len() {
        2 => {
            let m = with_sets(ctx, |s| Ok(s.random_member(&args[1])?))?;
            Ok(m.map(Reply::Bulk).unwrap_or(Reply::Null))
        }
        3 => {
            let l = random_count(&args[2])?;
            let (count, repeat) = (l.unsigned_abs(), l < 0);
            // Type errors come before the size guard, as Redis looks the key up first.
            if repeat && count > MAX_REPEATED_MEMBERS {
                if with_sets(ctx, |s| Ok(s.card(&args[1])?))? == 0 {
                    return Ok(Reply::Array(Vec::new()));
                }
                return Err(CmdError::err(format!(
                    "value is out of range, SRANDMEMBER with a negative count returns at most {MAX_REPEATED_MEMBERS} members"
                )));
            }
            let v = with_sets(ctx, |s| Ok(s.random_members(&args[1], count, repeat)?))?;
            Ok(Reply::Array(bulks(v.unwrap_or_default())))
        }
        _ => Err(CmdError::Syntax),
    }
}

fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    match args.len() {
        2 => {
            let m = with_sets(ctx, |s| Ok(s.pop_one(&args[1])?))?;
            if m.is_some() {
                fire(ctx, K::SET, "spop", &args[1]);
            }
            Ok(m.map(Reply::Bulk).unwrap_or(Reply::Null))
        }
        3 => {
            let count = positive_count(&args[2])?;
            let v = with_sets(ctx, |s| Ok(s.pop_many(&args[1], count)?))?;
            if v.as_ref().is_some_and(|v| !v.is_empty()) {
                fire(ctx, K::SET, "spop", &args[1]);
            }
            Ok(Reply::Set(bulks(v.unwrap_or_default())))
        }
        _ => Err(CmdError::Syntax),
    }
}

fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let out = with_sets(ctx, |s| Ok(s.smove(&args[1], &args[2], &args[3])?))?;
    if out.moved {
        fire(ctx, K::SET, "srem", &args[1]);
        if out.added {
            fire(ctx, K::SET, "sadd", &args[2]);
        }
    }
    Ok(Reply::Int(i64::from(out.found)))
}

fn algebra(ctx: &mut Ctx<'_>, op: SetOp, keys: &[Bytes]) -> CmdResult<Reply> {
    let v = with_sets(ctx, |s| Ok(s.algebra(op, keys)?))?;
    Ok(Reply::Set(bulks(v)))
}

fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    algebra(ctx, SetOp::Union, &args[1..])
}

fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    algebra(ctx, SetOp::Inter, &args[1..])
}

fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    algebra(ctx, SetOp::Diff, &args[1..])
}

fn store(ctx: &mut Ctx<'_>, op: SetOp, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_sets(ctx, |s| Ok(s.store(op, &args[1], &args[2..])?))?;
    // An empty result deletes the destination: its `del` comes from storage.
    if n > 0 {
        let event = match op {
            SetOp::Union => "sunionstore",
            SetOp::Inter => "sinterstore",
            SetOp::Diff => "sdiffstore",
        };
        fire(ctx, K::SET, event, &args[1]);
    }
    Ok(Reply::Int(n as i64))
}

fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    store(ctx, SetOp::Union, args)
}

fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    store(ctx, SetOp::Inter, args)
}

fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    store(ctx, SetOp::Diff, args)
}

fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let numkeys = parse_i64_strict(&args[1])
        .filter(|n| *n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    if numkeys as u64 > (args.len() - 2) as u64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = end;
    while i < args.len() {
        if is(&args[i], "LIMIT") && i + 1 < args.len() {
            let l = parse_i64_strict(&args[i + 1])
                .filter(|n| *n >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            limit = l as u64;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let n = with_sets(ctx, |s| Ok(s.intercard(&args[2..end], limit)?))?;
    Ok(Reply::Int(n as i64))
}

fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let cursor = scan_cursor(&args[2])?;
    let empty = || Reply::Array(vec![Reply::bulk(&b"0"[..]), Reply::Array(Vec::new())]);
    // Redis looks the key up before it reads the options: a missing key ignores them.
    let Some(whole) = with_sets(ctx, |s| Ok(s.scan_whole(&args[1])?))? else { return Ok(empty()) };
    let opts = scan_opts(&args[3..], false)?;
    let position = if cursor == 0 || whole { None } else { ctx.shared.cursors.lock().get(cursor).map(|p| p.to_vec()) };
    let page = with_sets(ctx, |s| Ok(s.scan(&args[1], position.as_deref(), if whole { 0 } else { opts.count })?))?;
    let next = match page.next {
        Some(pos) => ctx.shared.cursors.lock().insert(pos.to_vec()),
        None => 0,
    };
    let members = page.members.into_iter().filter(|m| opts.matches(m)).map(Reply::Bulk).collect();
    Ok(Reply::Array(vec![Reply::bulk(next.to_string().into_bytes()), Reply::Array(members)]))
}
