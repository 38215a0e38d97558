//! List commands, including the blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
//!
//! # Format
//! As in Redis 7.0: `LPUSH key element [element ...]`, `LPOP key [count]`,
//! `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`,
//! `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`, `LMPOP numkeys key [key ...] LEFT|RIGHT
//! [COUNT count]`, `BLPOP key [key ...] timeout`, `BLMPOP timeout numkeys key ... LEFT|RIGHT
//! [COUNT count]` and the rest. A blocking command tries once, like its non-blocking form; when
//! every key is empty it returns `CmdError::Blocked` and the connection waits and runs it again.

use super::parse::{block_timeout, int, is, parse_i64_strict, positive_count};
use super::pubsub::fire;
use super::{CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{BlockOn, CmdError, CmdResult};
use crate::reply::{BulkArray, Reply};
use crate::storage::types::list::{End, ListStore, PosQuery, SetOutcome};
use crate::storage::DbMap;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("lpush", -3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, LIST, FAST), lpush,
        "list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    cmd!("rpush", -3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, LIST, FAST), rpush,
        "list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    cmd!("lpushx", -3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, LIST, FAST), lpushx,
        "list", "2.2.0", "Prepends one or more elements to a list only when the list exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    cmd!("rpushx", -3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, LIST, FAST), rpushx,
        "list", "2.2.0", "Appends an element to a list only when the list exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    cmd!("lpop", -2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, LIST, FAST), lpop,
        "list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned"),
    cmd!("rpop", -2, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, LIST, FAST), rpop,
        "list", "1.0.0", "Returns and removes the last elements of the list. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned"),
    cmd!("llen", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, LIST, FAST), llen,
        "list", "1.0.0", "Returns the length of a list.", "O(1)"),
    cmd!("lindex", 3, flags!(READONLY), 1, 1, 1, acl!(READ, LIST, SLOW), lindex,
        "list", "1.0.0", "Returns an element from a list by its index.", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."),
    cmd!("lrange", 4, flags!(READONLY), 1, 1, 1, acl!(READ, LIST, SLOW), lrange,
        "list", "1.0.0", "Returns a range of elements from a list.", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."),
    cmd!("lset", 4, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, LIST, SLOW), lset,
        "list", "1.0.0", "Sets the value of an element in a list by its index.", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."),
    cmd!("ltrim", 4, flags!(WRITE), 1, 1, 1, acl!(WRITE, LIST, SLOW), ltrim,
        "list", "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "O(N) where N is the number of elements to be removed by the operation."),
    cmd!("linsert", 5, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, LIST, SLOW), linsert,
        "list", "2.2.0", "Inserts an element before or after another element in a list.", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."),
    cmd!("lrem", 4, flags!(WRITE), 1, 1, 1, acl!(WRITE, LIST, SLOW), lrem,
        "list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed.", "O(N+M) where N is the length of the list and M is the number of elements removed."),
    cmd!("lpos", -3, flags!(READONLY), 1, 1, 1, acl!(READ, LIST, SLOW), lpos,
        "list", "6.0.6", "Returns the index of matching elements in a list.", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."),
    cmd!("lmove", 5, flags!(WRITE, DENYOOM), 1, 2, 1, acl!(WRITE, LIST, SLOW), lmove,
        "list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "O(1)"),
    cmd!("rpoplpush", 3, flags!(WRITE, DENYOOM), 1, 2, 1, acl!(WRITE, LIST, SLOW), rpoplpush,
        "list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "O(1)"),
    cmd!("lmpop", -4, flags!(WRITE, MOVABLEKEYS), 0, 0, 0, acl!(WRITE, LIST, SLOW), lmpop,
        "list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "O(N+M) where N is the number of provided keys and M is the number of elements returned."),
    cmd!("blpop", -3, flags!(WRITE, NOSCRIPT, BLOCKING), 1, -2, 1, acl!(WRITE, LIST, SLOW, BLOCKING), blpop,
        "list", "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys."),
    cmd!("brpop", -3, flags!(WRITE, NOSCRIPT, BLOCKING), 1, -2, 1, acl!(WRITE, LIST, SLOW, BLOCKING), brpop,
        "list", "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys."),
    cmd!("blmove", 6, flags!(WRITE, DENYOOM, NOSCRIPT, BLOCKING), 1, 2, 1, acl!(WRITE, LIST, SLOW, BLOCKING), blmove,
        "list", "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "O(1)"),
    cmd!("brpoplpush", 4, flags!(WRITE, DENYOOM, NOSCRIPT, BLOCKING), 1, 2, 1, acl!(WRITE, LIST, SLOW, BLOCKING), brpoplpush,
        "list", "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "O(1)"),
    cmd!("blmpop", -5, flags!(WRITE, BLOCKING, MOVABLEKEYS), 0, 0, 0, acl!(WRITE, LIST, SLOW, BLOCKING), blmpop,
        "list", "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N+M) where N is the number of provided keys and M is the number of elements returned."),
];

fn with_lists<R>(ctx: &Ctx<'_>, f: impl FnOnce(&ListStore<'_>) -> CmdResult<R>) -> CmdResult<R> {
    let dbs: DbMap<'_> = ctx.shared.storage.dbs();
    let store = ListStore::new(&ctx.shared.storage, dbs.physical(ctx.session.db));
    f(&store)
}

fn bulks(items: Vec<Bytes>) -> Reply {
    Reply::Array(items.into_iter().map(Reply::Bulk).collect())
}

/// `LEFT` / `RIGHT`, or a syntax error.
fn end_arg(a: &[u8]) -> CmdResult<End> {
    if is(a, "LEFT") {
        Ok(End::Left)
    } else if is(a, "RIGHT") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

/// An integer in `1..=i64::MAX`, or `ERR <msg>` (Redis's `getRangeLongFromObjectOrReply`).
fn positive(a: &[u8], msg: &str) -> CmdResult<u64> {
    match parse_i64_strict(a) {
        Some(n) if n >= 1 => Ok(n as u64),
        _ => Err(CmdError::err(msg)),
    }
}

fn push(ctx: &mut Ctx<'_>, args: &[Bytes], end: End, only_existing: bool) -> CmdResult<Reply> {
    let n = with_lists(ctx, |l| Ok(l.push(&args[1], &args[2..], end, only_existing)?))?;
    if n > 0 {
        fire(ctx, K::LIST, push_event(end), &args[1]);
    }
    Ok(Reply::Int(n as i64))
}

fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    push(ctx, args, End::Left, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    push(ctx, args, End::Right, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    push(ctx, args, End::Left, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    push(ctx, args, End::Right, true)
}

fn pop(ctx: &mut Ctx<'_>, args: &[Bytes], end: End, name: &str) -> CmdResult<Reply> {
    if args.len() > 3 {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    let count = args.get(2).map(|a| positive_count(a)).transpose()?;
    let out = with_lists(ctx, |l| Ok(l.pop(&args[1], end, count.unwrap_or(1))?))?;
    if out.is_some() {
        fire(ctx, K::LIST, pop_event(end), &args[1]);
    }
    Ok(match (out, count) {
        (None, Some(_)) => Reply::NullArray,
        (None, None) => Reply::Null,
        (Some(v), Some(_)) => bulks(v),
        (Some(mut v), None) => v.pop().map(Reply::Bulk).unwrap_or(Reply::Null),
    })
}

fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    pop(ctx, args, End::Left, "lpop")
}

fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    pop(ctx, args, End::Right, "rpop")
}

fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_lists(ctx, |l| Ok(l.len(&args[1])?))?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let Ok(i) = int(&args[2]) else {
        // Redis looks the key up before parsing the index.
        let exists = with_lists(ctx, |l| Ok(l.len(&args[1])?))?.is_some();
        return if exists { Err(CmdError::NotInteger) } else { Ok(Reply::Null) };
    };
    let v = with_lists(ctx, |l| Ok(l.index(&args[1], i)?))?;
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    let mut out = BulkArray::with_capacity(4096);
    with_lists(ctx, |l| Ok(l.range_each(&args[1], start, stop, |v| out.push(v))?))?;
    Ok(Reply::BulkArray(out))
}

fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let Ok(i) = int(&args[2]) else {
        // Redis looks the key up before parsing the index.
        let exists = with_lists(ctx, |l| Ok(l.len(&args[1])?))?.is_some();
        return Err(if exists { CmdError::NotInteger } else { CmdError::NoSuchKey });
    };
    match with_lists(ctx, |l| Ok(l.set(&args[1], i, &args[3])?))? {
        SetOutcome::Done => {
            fire(ctx, K::LIST, "lset", &args[1]);
            Ok(Reply::Ok)
        }
        SetOutcome::NoSuchKey => Err(CmdError::NoSuchKey),
        SetOutcome::OutOfRange => Err(CmdError::err("index out of range")),
    }
}

fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    if with_lists(ctx, |l| Ok(l.trim(&args[1], start, stop)?))? {
        fire(ctx, K::LIST, "ltrim", &args[1]);
    }
    Ok(Reply::Ok)
}

fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let before = if is(&args[2], "BEFORE") {
        true
    } else if is(&args[2], "AFTER") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let n = with_lists(ctx, |l| Ok(l.insert(&args[1], before, &args[3], &args[4])?))?;
    if n > 0 {
        fire(ctx, K::LIST, "linsert", &args[1]);
    }
    Ok(Reply::Int(n))
}

fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let count = int(&args[2])?;
    let n = with_lists(ctx, |l| Ok(l.remove(&args[1], count, &args[3])?))?;
    if n > 0 {
        fire(ctx, K::LIST, "lrem", &args[1]);
    }
    Ok(Reply::Int(n as i64))
}

fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut q = PosQuery { rank: 1, count: None, maxlen: 0 };
    let mut i = 3;
    while i < args.len() {
        let Some(v) = args.get(i + 1) else { return Err(CmdError::Syntax) };
        let a = &args[i];
        if is(a, "RANK") {
            q.rank = int(v)?;
            if q.rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... \
                     or use negative to start from the end of the list",
                ));
            }
        } else if is(a, "COUNT") {
            // Redis's getPositiveLong...: a non-integer gets the same text as a negative.
            match parse_i64_strict(v) {
                Some(c) if c >= 0 => q.count = Some(c as u64),
                _ => return Err(CmdError::err("COUNT can't be negative")),
            }
        } else if is(a, "MAXLEN") {
            match parse_i64_strict(v) {
                Some(m) if m >= 0 => q.maxlen = m as u64,
                _ => return Err(CmdError::err("MAXLEN can't be negative")),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let found = with_lists(ctx, |l| Ok(l.pos(&args[1], &args[2], q)?))?;
    let found = found.unwrap_or_default();
    Ok(match q.count {
        Some(_) => Reply::Array(found.into_iter().map(|p| Reply::Int(p as i64)).collect()),
        None => found.first().map(|&p| Reply::Int(p as i64)).unwrap_or(Reply::Null),
    })
}

fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (from, to) = (end_arg(&args[3])?, end_arg(&args[4])?);
    let v = with_lists(ctx, |l| Ok(l.lmove(&args[1], &args[2], from, to)?))?;
    if v.is_some() {
        moved(ctx, args, from, to);
    }
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

/// LMOVE's events, in Redis's order: the push to the destination, then the pop (and `del`)
/// of the source.
fn moved(ctx: &Ctx<'_>, args: &[Bytes], from: End, to: End) {
    fire(ctx, K::LIST, push_event(to), &args[2]);
    fire(ctx, K::LIST, pop_event(from), &args[1]);
}

fn push_event(end: End) -> &'static str {
    if matches!(end, End::Left) {
        "lpush"
    } else {
        "rpush"
    }
}

fn pop_event(end: End) -> &'static str {
    if matches!(end, End::Left) {
        "lpop"
    } else {
        "rpop"
    }
}

fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = with_lists(ctx, |l| Ok(l.lmove(&args[1], &args[2], End::Right, End::Left)?))?;
    if v.is_some() {
        moved(ctx, args, End::Right, End::Left);
    }
    Ok(v.map(Reply::Bulk).unwrap_or(Reply::Null))
}

/// The parsed arguments of LMPOP / BLMPOP from `numkeys` on.
struct Mpop {
    keys: Vec<Bytes>,
    end: End,
    count: u64,
}

fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> CmdResult<Mpop> {
    let numkeys = positive(&args[numkeys_at], "numkeys should be greater than 0")?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&w| w < args.len())
        .ok_or(CmdError::Syntax)?;
    let end = end_arg(&args[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        match args.get(i + 1) {
            Some(v) if count.is_none() && is(&args[i], "COUNT") => {
                count = Some(positive(v, "count should be greater than 0")?);
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 2;
    }
    Ok(Mpop { keys: args[numkeys_at + 1..where_at].to_vec(), end, count: count.unwrap_or(1) })
}

fn mpop_reply(out: Option<(Bytes, Vec<Bytes>)>) -> Option<Reply> {
    out.map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), bulks(v)]))
}

fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let p = parse_mpop(args, 1)?;
    let out = with_lists(ctx, |l| Ok(l.mpop(&p.keys, p.end, p.count)?))?;
    if let Some((k, _)) = &out {
        fire(ctx, K::LIST, pop_event(p.end), k);
    }
    Ok(mpop_reply(out).unwrap_or(Reply::NullArray))
}

fn blocked(keys: Vec<Bytes>, timeout: Option<std::time::Duration>, null_array: bool) -> CmdError {
    CmdError::Blocked(BlockOn { keys, timeout, null_array, rerun_args: None })
}

fn bpop(ctx: &mut Ctx<'_>, args: &[Bytes], end: End) -> CmdResult<Reply> {
    let timeout = block_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    match with_lists(ctx, |l| Ok(l.mpop(keys, end, 1)?))? {
        Some((k, mut v)) => {
            fire(ctx, K::LIST, pop_event(end), &k);
            Ok(Reply::Array(vec![Reply::Bulk(k), v.pop().map(Reply::Bulk).unwrap_or(Reply::Null)]))
        }
        None => Err(blocked(keys.to_vec(), timeout, true)),
    }
}

fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bpop(ctx, args, End::Left)
}

fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bpop(ctx, args, End::Right)
}

fn bmove(ctx: &mut Ctx<'_>, args: &[Bytes], from: End, to: End, timeout: &[u8]) -> CmdResult<Reply> {
    let timeout = block_timeout(timeout)?;
    match with_lists(ctx, |l| Ok(l.lmove(&args[1], &args[2], from, to)?))? {
        Some(v) => {
            moved(ctx, args, from, to);
            Ok(Reply::Bulk(v))
        }
        // Redis 7.0 times every list block out with a null array, BLMOVE included.
        None => Err(blocked(vec![args[1].clone()], timeout, true)),
    }
}

fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (from, to) = (end_arg(&args[3])?, end_arg(&args[4])?);
    bmove(ctx, args, from, to, &args[5])
}

fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    bmove(ctx, args, End::Right, End::Left, &args[3])
}

fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let p = parse_mpop(args, 2)?;
    let timeout = block_timeout(&args[1])?;
    let out = with_lists(ctx, |l| Ok(l.mpop(&p.keys, p.end, p.count)?))?;
    if let Some((k, _)) = &out {
        fire(ctx, K::LIST, pop_event(p.end), k);
    }
    mpop_reply(out).ok_or_else(|| blocked(p.keys, timeout, true))
}
