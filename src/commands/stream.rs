//! Stream commands: XADD, XRANGE, XREAD, consumer groups and the rest, over
//! `storage::types::stream`.
//!
//! # Format
//! As in Redis 7.0: `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id
//! field value [field value ...]`, `XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id
//! [id ...]`, `XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key
//! [key ...] id [id ...]`, `XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER`,
//! `XINFO STREAM|GROUPS|CONSUMERS` and the rest.

use super::parse::{int, is};
use super::pubsub::fire;
use super::{with_db, CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{BlockOn, CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::types::stream::{
    AddError, Consumer, Entry, Group, NewId, Pending, StreamId, StreamTxn, TrimTo, NODE_ENTRIES,
};
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::time::Duration;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("xadd", -5, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STREAM, FAST), xadd,
        "stream", "5.0.0", "Appends a new entry to a stream", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."),
    cmd!("xlen", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(READ, STREAM, FAST), xlen,
        "stream", "5.0.0", "Return the number of entries in a stream", "O(1)"),
    cmd!("xrange", -4, flags!(READONLY), 1, 1, 1, acl!(READ, STREAM, SLOW), xrange,
        "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    cmd!("xrevrange", -4, flags!(READONLY), 1, 1, 1, acl!(READ, STREAM, SLOW), xrevrange,
        "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    cmd!("xdel", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, STREAM, FAST), xdel,
        "stream", "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", "O(1) for each single item to delete in the stream, regardless of the stream size."),
    cmd!("xtrim", -4, flags!(WRITE), 1, 1, 1, acl!(WRITE, STREAM, SLOW), xtrim,
        "stream", "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation."),
    cmd!("xsetid", -3, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, STREAM, FAST), xsetid,
        "stream", "5.0.0", "An internal command for replicating stream values", "O(1)"),
    cmd!("xread", -4, flags!(READONLY, BLOCKING, MOVABLEKEYS), 0, 0, 0, acl!(READ, STREAM, SLOW, BLOCKING), xread,
        "stream", "5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data."),
    cmd!("xreadgroup", -7, flags!(WRITE, BLOCKING, MOVABLEKEYS), 0, 0, 0, acl!(WRITE, STREAM, SLOW, BLOCKING), xreadgroup,
        "stream", "5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."),
    cmd!("xack", -4, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, STREAM, FAST), xack,
        "stream", "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", "O(1) for each message ID processed."),
    cmd!("xpending", -3, flags!(READONLY), 1, 1, 1, acl!(READ, STREAM, SLOW), xpending,
        "stream", "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer."),
    cmd!("xclaim", -6, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, STREAM, FAST), xclaim,
        "stream", "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", "O(log N) with N being the number of messages in the PEL of the consumer group."),
    cmd!("xautoclaim", -6, flags!(WRITE, FAST), 1, 1, 1, acl!(WRITE, STREAM, FAST), xautoclaim,
        "stream", "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", "O(1) if COUNT is small."),
    CommandSpec {
        subcommands: XGROUP_SUBCOMMANDS,
        ..cmd!("xgroup", -2, flags!(), 0, 0, 0, acl!(SLOW), super::introspection::container,
            "stream", "5.0.0", "A container for consumer groups commands", "Depends on subcommand.")
    },
    CommandSpec {
        subcommands: XINFO_SUBCOMMANDS,
        ..cmd!("xinfo", -2, flags!(), 0, 0, 0, acl!(SLOW), super::introspection::container,
            "stream", "5.0.0", "A container for stream introspection commands", "Depends on subcommand.")
    },
];

#[rustfmt::skip]
static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("xgroup|create", -5, flags!(WRITE, DENYOOM), 2, 2, 1, acl!(WRITE, STREAM, SLOW), xgroup_create,
        "stream", "5.0.0", "Create a consumer group.", "O(1)"),
    cmd!("xgroup|setid", -5, flags!(WRITE), 2, 2, 1, acl!(WRITE, STREAM, SLOW), xgroup_setid,
        "stream", "5.0.0", "Set a consumer group to an arbitrary last delivered ID value.", "O(1)"),
    cmd!("xgroup|destroy", 4, flags!(WRITE), 2, 2, 1, acl!(WRITE, STREAM, SLOW), xgroup_destroy,
        "stream", "5.0.0", "Destroy a consumer group.", "O(N) where N is the number of entries in the group's pending entries list (PEL)."),
    cmd!("xgroup|createconsumer", 5, flags!(WRITE, DENYOOM), 2, 2, 1, acl!(WRITE, STREAM, SLOW), xgroup_createconsumer,
        "stream", "6.2.0", "Create a consumer in a consumer group.", "O(1)"),
    cmd!("xgroup|delconsumer", 5, flags!(WRITE), 2, 2, 1, acl!(WRITE, STREAM, SLOW), xgroup_delconsumer,
        "stream", "5.0.0", "Delete a consumer from a consumer group.", "O(1)"),
    cmd!("xgroup|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(STREAM, SLOW), xgroup_help,
        "stream", "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
];

#[rustfmt::skip]
static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("xinfo|stream", -3, flags!(READONLY), 2, 2, 1, acl!(READ, STREAM, SLOW), xinfo_stream,
        "stream", "5.0.0", "Get information about a stream", "O(1)"),
    cmd!("xinfo|groups", 3, flags!(READONLY), 2, 2, 1, acl!(READ, STREAM, SLOW), xinfo_groups,
        "stream", "5.0.0", "List the consumer groups of a stream", "O(1)"),
    cmd!("xinfo|consumers", 4, flags!(READONLY), 2, 2, 1, acl!(READ, STREAM, SLOW), xinfo_consumers,
        "stream", "5.0.0", "List the consumers in a consumer group", "O(1)"),
    cmd!("xinfo|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(STREAM, SLOW), xinfo_help,
        "stream", "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
];

/// Redis's default LIMIT of approximate trimming: 100 × `stream-node-max-entries`.
const DEFAULT_TRIM_LIMIT: u64 = 100 * NODE_ENTRIES;

fn now_ms(ctx: &Ctx<'_>) -> u64 {
    ctx.shared.storage.clock.now_ms()
}

fn invalid_id() -> CmdError {
    CmdError::err("Invalid stream ID specified as stream command argument")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Raw(format!("NOGROUP No such key '{}' or consumer group '{}'", text(key), text(group)))
}

fn nogroup_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Raw(format!("NOGROUP No such consumer group '{}' for key name '{}'", text(group), text(key)))
}

fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Redis's `streamParseStrictID`: `ms-seq`, or `ms` with `missing_seq`. With `allow_star`,
/// `ms-*` gives `(ms, None)`.
fn parse_id_opt(b: &[u8], missing_seq: u64, allow_star: bool) -> Option<(u64, Option<u64>)> {
    if b.len() > 127 {
        return None;
    }
    match b.iter().position(|&c| c == b'-') {
        None => Some((digits(b)?, Some(missing_seq))),
        Some(i) => {
            let ms = digits(&b[..i])?;
            let rest = &b[i + 1..];
            if allow_star && rest == b"*" {
                return Some((ms, None));
            }
            Some((ms, Some(digits(rest)?)))
        }
    }
}

fn parse_id(b: &[u8], missing_seq: u64) -> CmdResult<StreamId> {
    match parse_id_opt(b, missing_seq, false) {
        Some((ms, Some(seq))) => Ok(StreamId::new(ms, seq)),
        _ => Err(invalid_id()),
    }
}

/// A range bound: `-`, `+`, an ID (a bare `ms` means `ms-missing_seq`), or `(ID` exclusive.
fn parse_bound(b: &[u8], missing_seq: u64, start: bool) -> CmdResult<StreamId> {
    if b == b"-" {
        return Ok(StreamId::MIN);
    }
    if b == b"+" {
        return Ok(StreamId::MAX);
    }
    if b.len() > 1 && b[0] == b'(' {
        let id = parse_id(&b[1..], missing_seq)?;
        return if start {
            id.next().ok_or_else(|| CmdError::err("invalid start ID for the interval"))
        } else {
            id.prev().ok_or_else(|| CmdError::err("invalid end ID for the interval"))
        };
    }
    parse_id(b, missing_seq)
}

fn id_reply(id: StreamId) -> Reply {
    Reply::bulk(id.to_string())
}

fn fields_reply(fields: Vec<Bytes>) -> Reply {
    Reply::Array(fields.into_iter().map(Reply::Bulk).collect())
}

fn entry_reply((id, fields): Entry) -> Reply {
    Reply::Array(vec![id_reply(id), fields_reply(fields)])
}

fn entries_reply(entries: Vec<Entry>) -> Reply {
    Reply::Array(entries.into_iter().map(entry_reply).collect())
}

fn entry_or_null(e: Option<Entry>) -> Reply {
    e.map(entry_reply).unwrap_or(Reply::Null)
}

/// `[[key, entries], ...]` in RESP2, a map in RESP3 (XREAD, XREADGROUP).
fn streams_reply(ctx: &Ctx<'_>, served: Vec<(Bytes, Reply)>) -> Reply {
    if ctx.session.protocol == 3 {
        Reply::Map(served.into_iter().map(|(k, v)| (Reply::Bulk(k), v)).collect())
    } else {
        Reply::Array(served.into_iter().map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), v])).collect())
    }
}

fn map(pairs: Vec<(&'static str, Reply)>) -> Reply {
    Reply::Map(pairs.into_iter().map(|(k, v)| (Reply::bulk(k), v)).collect())
}

fn opt_int(v: Option<u64>) -> Reply {
    v.map(|n| Reply::Int(n as i64)).unwrap_or(Reply::Null)
}

// ---------------------------------------------------------------------------------------------
// XADD, XTRIM
// ---------------------------------------------------------------------------------------------

/// Parsed `MAXLEN|MINID [=|~] threshold [LIMIT count]`.
#[derive(Default)]
struct TrimArgs {
    to: Option<TrimTo>,
    approx: bool,
    limit: Option<u64>,
}

impl TrimArgs {
    fn limit(&self) -> u64 {
        if self.approx {
            self.limit.unwrap_or(DEFAULT_TRIM_LIMIT)
        } else {
            0
        }
    }
}

/// Parses trimming options from `args[i..]`; for XADD stops at the first other argument (the
/// ID) and returns its position, with NOMKSTREAM.
fn parse_trim(args: &[Bytes], xadd: bool) -> CmdResult<(TrimArgs, usize, bool)> {
    let mut t = TrimArgs::default();
    let mut nomkstream = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let a = &args[i];
        if xadd && is(a, "NOMKSTREAM") {
            nomkstream = true;
        } else if (is(a, "MAXLEN") || is(a, "MINID")) && more >= 1 {
            let is_max = is(a, "MAXLEN");
            if t.to.is_some() {
                return Err(CmdError::err(
                    "syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            let mut j = i + 1;
            if (args[j].as_ref() == b"~" || args[j].as_ref() == b"=") && more >= 2 {
                t.approx = args[j].as_ref() == b"~";
                j += 1;
            }
            if is_max {
                let n = int(&args[j])?;
                if n < 0 {
                    return Err(CmdError::err("The MAXLEN argument must be >= 0."));
                }
                t.to = Some(TrimTo::MaxLen(n as u64));
            } else {
                t.to = Some(TrimTo::MinId(parse_id(&args[j], 0)?));
            }
            i = j;
        } else if is(a, "LIMIT") && more >= 1 {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            t.limit = Some(n as u64);
            i += 1;
        } else if xadd {
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if t.limit.is_some() && t.to.is_none() {
        return Err(CmdError::err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && t.to.is_none() {
        return Err(CmdError::err("syntax error, XTRIM must be called with a trimming strategy"));
    }
    if t.limit.is_some() && !t.approx {
        return Err(CmdError::err("syntax error, LIMIT cannot be used without the special ~ option"));
    }
    Ok((t, i, nomkstream))
}

fn xadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (trim, id_at, nomkstream) = parse_trim(args, true)?;
    if id_at >= args.len() {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    let id = if args[id_at].as_ref() == b"*" {
        NewId::Auto
    } else {
        match parse_id_opt(&args[id_at], 0, true) {
            Some((ms, None)) => NewId::AtMs(ms),
            Some((0, Some(0))) => return Err(CmdError::err("The ID specified in XADD must be greater than 0-0")),
            Some((ms, Some(seq))) => NewId::Exact(StreamId::new(ms, seq)),
            None => return Err(invalid_id()),
        }
    };
    let nfields = args.len() - id_at - 1;
    if nfields < 2 || nfields % 2 == 1 {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    let now = now_ms(ctx);
    let fields = &args[id_at + 1..];
    let added = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[1], |t| {
            if !t.existed() && nomkstream {
                return Ok(None);
            }
            let new = t.add(id, now, fields).map_err(|e| match e {
                AddError::TooSmall => {
                    CmdError::err("The ID specified in XADD is equal or smaller than the target stream top item")
                }
                AddError::Exhausted => {
                    CmdError::err("The stream has exhausted the last possible ID, unable to add more items")
                }
                AddError::SeqOverflow => CmdError::err("Elements are too large to be stored"),
            })?;
            let mut trimmed = 0;
            if let Some(to) = trim.to {
                trimmed = t.trim(to, trim.approx, trim.limit())?;
            }
            Ok::<_, CmdError>(Some((new, trimmed)))
        })
    })?;
    if let Some((_, trimmed)) = added {
        fire(ctx, K::STREAM, "xadd", &args[1]);
        if trimmed > 0 {
            fire(ctx, K::STREAM, "xtrim", &args[1]);
        }
    }
    Ok(added.map(|(id, _)| id_reply(id)).unwrap_or(Reply::Null))
}

fn xtrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (trim, _, _) = parse_trim(args, false)?;
    let Some(to) = trim.to else { return Err(CmdError::Syntax) };
    let n = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[1], |t| {
            if !t.existed() {
                return Ok(0);
            }
            Ok::<_, CmdError>(t.trim(to, trim.approx, trim.limit())?)
        })
    })?;
    if n > 0 {
        fire(ctx, K::STREAM, "xtrim", &args[1]);
    }
    Ok(Reply::Int(n as i64))
}

fn xdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[1], |t| {
            // As Redis: a missing key or another type first, then the IDs.
            if !t.existed() {
                return Ok(0);
            }
            let ids = args[2..].iter().map(|a| parse_id(a, 0)).collect::<CmdResult<Vec<_>>>()?;
            Ok::<_, CmdError>(t.delete(&ids)?)
        })
    })?;
    if n > 0 {
        fire(ctx, K::STREAM, "xdel", &args[1]);
    }
    Ok(Reply::Int(n as i64))
}

fn xsetid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let id = parse_id(&args[2], 0)?;
    let (mut entries_added, mut max_deleted) = (None, None);
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(&args[i], "ENTRIESADDED") && more >= 1 {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if is(&args[i], "MAXDELETEDID") && more >= 1 {
            let m = parse_id(&args[i + 1], 0)?;
            if id < m {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            max_deleted = Some(m);
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[1], |t| {
            if !t.existed() {
                return Err(CmdError::NoSuchKey);
            }
            let m = *t.meta();
            if !m.is_empty() {
                let top = t.view.last_entry_id()?;
                if id < top {
                    return Err(CmdError::err("The ID specified in XSETID is smaller than the target stream top item"));
                }
                if entries_added.is_some_and(|n| n < m.len()) {
                    return Err(CmdError::err(
                        "The entries_added specified in XSETID is smaller than the target stream length",
                    ));
                }
            }
            let m = &mut t.view.meta;
            m.last_id = id;
            if let Some(n) = entries_added {
                m.entries_added = n;
            }
            if let Some(d) = max_deleted {
                m.max_deleted = d;
            }
            t.touch();
            Ok(())
        })
    })?;
    fire(ctx, K::STREAM, "xsetid", &args[1]);
    Ok(Reply::Ok)
}

// ---------------------------------------------------------------------------------------------
// XLEN, XRANGE, XREVRANGE
// ---------------------------------------------------------------------------------------------

fn xlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let n = with_db(ctx, |st, pdb| Ok(st.stream_view(pdb, &args[1])?.map(|v| v.meta.len()).unwrap_or(0)))?;
    Ok(Reply::Int(n as i64))
}

fn xrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    range_generic(ctx, args, true)
}

fn range_generic(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> CmdResult<Reply> {
    let (a, b) = if rev { (&args[3], &args[2]) } else { (&args[2], &args[3]) };
    let lo = parse_bound(a, 0, true)?;
    let hi = parse_bound(b, u64::MAX, false)?;
    let mut count: Option<usize> = None;
    let mut i = 4;
    while i < args.len() {
        if is(&args[i], "COUNT") && i + 1 < args.len() {
            count = Some(int(&args[i + 1])?.max(0) as usize);
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    with_db(ctx, |st, pdb| {
        let Some(v) = st.stream_view(pdb, &args[1])? else { return Ok(Reply::Array(Vec::new())) };
        if count == Some(0) {
            return Ok(Reply::NullArray);
        }
        Ok(entries_reply(v.range(lo, hi, rev, count.unwrap_or(0))?))
    })
}

// ---------------------------------------------------------------------------------------------
// XREAD, XREADGROUP
// ---------------------------------------------------------------------------------------------

/// The options of XREAD / XREADGROUP.
struct ReadArgs {
    count: usize,
    block: Option<Option<Duration>>,
    noack: bool,
    group: Option<(Bytes, Bytes)>,
    /// Index of the first key.
    keys_at: usize,
    nkeys: usize,
}

fn parse_read(args: &[Bytes], group_cmd: bool) -> CmdResult<ReadArgs> {
    let mut r = ReadArgs { count: 0, block: None, noack: false, group: None, keys_at: 0, nkeys: 0 };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let a = &args[i];
        if is(a, "BLOCK") && more >= 1 {
            let ms = match crate::numeric::parse_i64_strict(&args[i + 1]) {
                Some(ms) => ms,
                None => return Err(CmdError::err("timeout is not an integer or out of range")),
            };
            if ms < 0 {
                return Err(CmdError::err("timeout is negative"));
            }
            r.block = Some(if ms == 0 { None } else { Some(Duration::from_millis(ms as u64)) });
            i += 2;
        } else if is(a, "COUNT") && more >= 1 {
            r.count = int(&args[i + 1])?.max(0) as usize;
            i += 2;
        } else if is(a, "STREAMS") && more >= 1 {
            let n = args.len() - i - 1;
            if !n.is_multiple_of(2) {
                return Err(CmdError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            r.keys_at = i + 1;
            r.nkeys = n / 2;
            break;
        } else if is(a, "GROUP") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 3;
        } else if is(a, "NOACK") {
            if !group_cmd {
                return Err(CmdError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if r.nkeys == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && r.group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// What a blocked XREAD waits for: the streams' keys, re-run with `$` replaced by the IDs it
/// stood for at the first attempt.
fn blocked(args: &[Bytes], r: &ReadArgs, timeout: Option<Duration>, rerun: Option<Vec<Bytes>>) -> CmdError {
    CmdError::Blocked(BlockOn {
        keys: args[r.keys_at..r.keys_at + r.nkeys].to_vec(),
        timeout,
        null_array: true,
        rerun_args: rerun,
    })
}

fn xread(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let r = parse_read(args, false)?;
    let keys = &args[r.keys_at..r.keys_at + r.nkeys];
    let ids = &args[r.keys_at + r.nkeys..];
    let mut resolved: Option<Vec<Bytes>> = None;
    let served = with_db(ctx, |st, pdb| {
        let mut served = Vec::new();
        for (n, (key, id)) in keys.iter().zip(ids).enumerate() {
            let view = st.stream_view(pdb, key)?;
            let after = if id.as_ref() == b"$" {
                let last = view.as_ref().map(|v| v.meta.last_id).unwrap_or(StreamId::MIN);
                resolved.get_or_insert_with(|| args.to_vec())[r.keys_at + r.nkeys + n] = Bytes::from(last.to_string());
                last
            } else if id.as_ref() == b">" {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            } else {
                parse_id(id, 0)?
            };
            let Some(v) = view else { continue };
            if v.meta.last_id <= after || v.meta.is_empty() {
                continue;
            }
            let Some(from) = after.next() else { continue };
            let entries = v.range(from, StreamId::MAX, false, r.count)?;
            if !entries.is_empty() {
                served.push((key.clone(), entries_reply(entries)));
            }
        }
        Ok(served)
    })?;
    if !served.is_empty() {
        return Ok(streams_reply(ctx, served));
    }
    match r.block {
        Some(timeout) => Err(blocked(args, &r, timeout, resolved)),
        None => Ok(Reply::NullArray),
    }
}

/// The error of a blocked XREADGROUP whose stream or group went away while it waited.
fn gone_while_blocked(exists: bool) -> CmdError {
    if exists {
        CmdError::Raw("NOGROUP the consumer group this client was blocked on no longer exists".into())
    } else {
        CmdError::Raw("UNBLOCKED the stream key no longer exists".into())
    }
}

fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let r = parse_read(args, true)?;
    let Some((group, consumer)) = r.group.clone() else { return Err(CmdError::Syntax) };
    let keys = &args[r.keys_at..r.keys_at + r.nkeys];
    let ids = &args[r.keys_at + r.nkeys..];
    let rerun = ctx.session.blocked_rerun;
    let now = now_ms(ctx);
    let key_refs: Vec<&[u8]> = keys.iter().map(|k| k.as_ref()).collect();
    let (served, history, created) = with_db(ctx, |st, pdb| {
        st.stream_write_many(pdb, &key_refs, |txns| {
            // Every stream and group first, then the IDs, as Redis checks them.
            let mut wanted = Vec::with_capacity(keys.len());
            for ((t, key), id) in txns.iter().zip(keys).zip(ids) {
                if !t.existed() || t.group(&group)?.is_none() {
                    if rerun {
                        return Err(gone_while_blocked(t.existed()));
                    }
                    return Err(CmdError::Raw(format!(
                        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        text(key),
                        text(&group)
                    )));
                }
                wanted.push(match id.as_ref() {
                    b">" => None,
                    b"$" => {
                        return Err(CmdError::err(
                            "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                        ))
                    }
                    other => Some(parse_id(other, 0)?),
                });
            }
            let mut served = Vec::new();
            let mut history = false;
            for (n, (key, from)) in keys.iter().zip(wanted).enumerate() {
                let Some(t) = same_stream(txns, keys, n) else { continue };
                // As Redis 7.0: the consumer is created (and seen) when a read serves it.
                match from {
                    None => {
                        if t.group(&group)?.is_some_and(|g| g.last_id < t.meta().last_id) {
                            t.touch_consumer(&group, &consumer, now)?;
                        }
                        let entries = deliver_new(t, &group, &consumer, r.count, r.noack, now)?;
                        if !entries.is_empty() {
                            served.push((key.clone(), entries_reply(entries)));
                        }
                    }
                    Some(after) => {
                        history = true;
                        t.touch_consumer(&group, &consumer, now)?;
                        let entries = deliver_history(t, &group, &consumer, after, r.count, now)?;
                        served.push((key.clone(), Reply::Array(entries)));
                    }
                }
            }
            let created: Vec<Bytes> = (0..keys.len())
                .filter(|&n| same_stream(txns, keys, n).is_some_and(|t| t.created_consumer))
                .map(|n| keys[n].clone())
                .collect();
            Ok::<_, CmdError>((served, history, created))
        })
    })
    .map_err(|e| match e {
        // The stream became another type while this client waited.
        CmdError::WrongType if rerun => gone_while_blocked(false),
        e => e,
    })?;
    for key in &created {
        fire(ctx, K::STREAM, "xgroup-createconsumer", key);
    }
    if !served.is_empty() || history {
        return Ok(streams_reply(ctx, served));
    }
    match r.block {
        Some(timeout) => Err(blocked(args, &r, timeout, None)),
        None => Ok(Reply::NullArray),
    }
}

/// The transaction of the `n`th key, or None when the same key came earlier (then it was
/// served there).
fn same_stream<'t, 'a>(txns: &'t mut [StreamTxn<'a>], keys: &[Bytes], n: usize) -> Option<&'t mut StreamTxn<'a>> {
    if keys[..n].contains(&keys[n]) {
        return None;
    }
    txns.get_mut(n)
}

/// XREADGROUP `>`: up to `count` (0 = all) entries after the group's last delivered one, now
/// delivered to `consumer` (in its pending list unless `noack`).
fn deliver_new(
    t: &mut StreamTxn<'_>,
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
    now: u64,
) -> CmdResult<Vec<Entry>> {
    let Some(mut g) = t.group(group)? else { return Ok(Vec::new()) };
    let Some(from) = g.last_id.next() else { return Ok(Vec::new()) };
    if g.last_id >= t.meta().last_id {
        return Ok(Vec::new());
    }
    let entries = t.view.range(from, StreamId::MAX, false, count)?;
    for (id, _) in &entries {
        if g.entries_read.is_some() && !t.view.has_tombstones_from(*id) {
            g.entries_read = g.entries_read.map(|n| n + 1);
        } else if t.meta().entries_added > 0 {
            g.entries_read = t.view.estimate_entries_read(*id)?;
        }
        g.last_id = *id;
        t.set_group(group, g)?;
        if !noack {
            let p = Pending { delivery_ms: now, deliveries: 1, consumer: Bytes::copy_from_slice(consumer) };
            t.set_pending(group, *id, Some(p))?;
            // `set_pending` changed the group's pending count.
            g = t.group(group)?.unwrap_or(g);
        }
    }
    if !entries.is_empty() {
        if let Some(mut c) = t.consumer(group, consumer)? {
            c.active_ms = now;
            t.set_consumer(group, consumer, Some(c));
        }
    }
    Ok(entries)
}

/// XREADGROUP with an ID: the consumer's own pending entries after `after` (deleted ones as
/// `[id, nil]`), each delivered once more.
fn deliver_history(
    t: &mut StreamTxn<'_>,
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: usize,
    now: u64,
) -> CmdResult<Vec<Reply>> {
    let Some(from) = after.next() else { return Ok(Vec::new()) };
    let mut mine = Vec::new();
    t.view.walk_pending(group, from, |id, p| {
        if p.consumer.as_ref() == consumer {
            mine.push((id, p));
        }
        count == 0 || mine.len() < count
    })?;
    let mut out = Vec::with_capacity(mine.len());
    for (id, mut p) in mine {
        match t.view.entry(id)? {
            Some(fields) => {
                out.push(entry_reply((id, fields)));
                p.delivery_ms = now;
                p.deliveries += 1;
                t.set_pending(group, id, Some(p))?;
            }
            // A deleted entry is listed, not delivered again.
            None => out.push(Reply::Array(vec![id_reply(id), Reply::NullArray])),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// XACK, XPENDING, XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

fn xack(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let ids = args[3..].iter().map(|a| parse_id(a, 0)).collect::<CmdResult<Vec<_>>>()?;
    let n = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[1], |t| {
            if !t.existed() || t.group(&args[2])?.is_none() {
                return Ok(0);
            }
            let mut n = 0;
            for id in ids {
                if t.pending(&args[2], id)?.is_some() {
                    t.set_pending(&args[2], id, None)?;
                    n += 1;
                }
            }
            Ok::<_, CmdError>(n)
        })
    })?;
    Ok(Reply::Int(n))
}

fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (key, group) = (&args[1], &args[2]);
    let extended = args.len() > 3;
    let (mut min_idle, mut at) = (0i64, 3);
    if extended {
        if args.len() < 6 {
            return Err(CmdError::Syntax);
        }
        if is(&args[3], "IDLE") {
            if args.len() < 8 {
                return Err(CmdError::Syntax);
            }
            min_idle = int(&args[4])?;
            at = 5;
        }
    }
    let now = now_ms(ctx);
    with_db(ctx, |st, pdb| {
        if !extended {
            let v = st.stream_view(pdb, key)?;
            let Some(v) = v else { return Err(nogroup(key, group)) };
            let Some(g) = v.group(group)? else { return Err(nogroup(key, group)) };
            if g.pending == 0 {
                return Ok(Reply::Array(vec![Reply::Int(0), Reply::Null, Reply::Null, Reply::NullArray]));
            }
            let (mut first, mut last) = (None, StreamId::MIN);
            v.walk_pending(group, StreamId::MIN, |id, _| {
                first.get_or_insert(id);
                last = id;
                true
            })?;
            let per = v
                .consumers(group)?
                .into_iter()
                .filter(|(_, c)| c.pending > 0)
                .map(|(n, c)| Reply::Array(vec![Reply::Bulk(n), Reply::bulk(c.pending.to_string())]))
                .collect();
            return Ok(Reply::Array(vec![
                Reply::Int(g.pending as i64),
                id_reply(first.unwrap_or(StreamId::MIN)),
                id_reply(last),
                Reply::Array(per),
            ]));
        }
        let lo = parse_bound(&args[at], 0, true)?;
        let hi = parse_bound(&args[at + 1], u64::MAX, false)?;
        let count = int(&args[at + 2])?.max(0) as usize;
        let who = match args.len() - at {
            3 => None,
            4 => Some(args[at + 3].clone()),
            _ => return Err(CmdError::Syntax),
        };
        let Some(v) = st.stream_view(pdb, key)? else { return Err(nogroup(key, group)) };
        if v.group(group)?.is_none() {
            return Err(nogroup(key, group));
        }
        let mut out = Vec::new();
        if count == 0 || lo > hi {
            return Ok(Reply::Array(out));
        }
        v.walk_pending(group, lo, |id, p| {
            if id > hi {
                return false;
            }
            let idle = now.saturating_sub(p.delivery_ms);
            if who.as_ref().is_some_and(|w| *w != p.consumer) || (min_idle > 0 && (idle as i64) < min_idle) {
                return true;
            }
            out.push(Reply::Array(vec![
                id_reply(id),
                Reply::Bulk(p.consumer),
                Reply::Int(idle as i64),
                Reply::Int(p.deliveries as i64),
            ]));
            out.len() < count
        })?;
        Ok(Reply::Array(out))
    })
}

/// Gives the pending entry `id` (its delivery count already set) to `consumer`, creating the
/// consumer if needed.
fn claim(
    t: &mut StreamTxn<'_>,
    group: &[u8],
    consumer: &[u8],
    id: StreamId,
    mut p: Pending,
    delivery_ms: u64,
    now: u64,
) -> CmdResult<()> {
    if t.consumer(group, consumer)?.is_none() {
        t.set_consumer(group, consumer, Some(Consumer { seen_ms: now, active_ms: 0, pending: 0 }));
        t.created_consumer = true;
    }
    p.delivery_ms = delivery_ms;
    p.consumer = Bytes::copy_from_slice(consumer);
    t.set_pending(group, id, Some(p))?;
    if let Some(mut c) = t.consumer(group, consumer)? {
        c.seen_ms = now;
        c.active_ms = now;
        t.set_consumer(group, consumer, Some(c));
    }
    Ok(())
}

/// What XCLAIM and XAUTOCLAIM check first, as Redis: the key and group, then the
/// min-idle-time (`args[4]`, negative meaning 0).
fn claim_checks(t: &StreamTxn<'_>, args: &[Bytes], cmd: &str) -> CmdResult<u64> {
    if !t.existed() || t.group(&args[2])?.is_none() {
        return Err(nogroup(&args[1], &args[2]));
    }
    let n = crate::numeric::parse_i64_strict(&args[4])
        .ok_or_else(|| CmdError::err(format!("Invalid min-idle-time argument for {cmd}")))?;
    Ok(n.max(0) as u64)
}

fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let now = now_ms(ctx);
    let (reply, created) = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, key, |t| {
            let min_idle = claim_checks(t, args, "XCLAIM")?;
            let mut ids = Vec::new();
            let mut j = 5;
            while j < args.len() {
                match parse_id(&args[j], 0) {
                    Ok(id) => ids.push(id),
                    Err(_) => break,
                }
                j += 1;
            }
            let (mut force, mut justid) = (false, false);
            let (mut delivery, mut retry, mut last_id) = (None::<i64>, None::<i64>, StreamId::MIN);
            while j < args.len() {
                let more = args.len() - 1 - j;
                let a = &args[j];
                let num = |b: &[u8], what: &str| {
                    crate::numeric::parse_i64_strict(b)
                        .ok_or_else(|| CmdError::err(format!("Invalid {what} option argument for XCLAIM")))
                };
                if is(a, "FORCE") {
                    force = true;
                } else if is(a, "JUSTID") {
                    justid = true;
                } else if is(a, "IDLE") && more >= 1 {
                    j += 1;
                    delivery = Some((now as i64).saturating_sub(num(&args[j], "IDLE")?));
                } else if is(a, "TIME") && more >= 1 {
                    j += 1;
                    delivery = Some(num(&args[j], "TIME")?);
                } else if is(a, "RETRYCOUNT") && more >= 1 {
                    j += 1;
                    retry = Some(num(&args[j], "RETRYCOUNT")?);
                } else if is(a, "LASTID") && more >= 1 {
                    j += 1;
                    last_id = parse_id(&args[j], 0)?;
                } else {
                    return Err(CmdError::err(format!("Unrecognized XCLAIM option '{}'", text(a))));
                }
                j += 1;
            }
            let delivery_ms = match delivery {
                Some(d) if d >= 0 && d as u64 <= now => d as u64,
                _ => now,
            };
            if let Some(mut g) = t.group(group)? {
                if last_id > g.last_id {
                    g.last_id = last_id;
                    t.set_group(group, g)?;
                }
            }
            let mut out = Vec::new();
            for id in ids {
                let pending = t.pending(group, id)?;
                let Some(fields) = t.view.entry(id)? else {
                    if pending.is_some() {
                        t.set_pending(group, id, None)?;
                    }
                    continue;
                };
                let (p, forced) = match pending {
                    Some(p) => (p, false),
                    None if force => {
                        (Pending { delivery_ms: now, deliveries: 1, consumer: Bytes::copy_from_slice(consumer) }, true)
                    }
                    None => continue,
                };
                if !forced && min_idle > 0 && now.saturating_sub(p.delivery_ms) < min_idle {
                    continue;
                }
                let mut p = p;
                p.deliveries = match retry {
                    Some(r) => r.max(0) as u64,
                    None if !justid => p.deliveries + 1,
                    None => p.deliveries,
                };
                claim(t, group, consumer, id, p, delivery_ms, now)?;
                out.push(if justid { id_reply(id) } else { entry_reply((id, fields)) });
            }
            Ok((Reply::Array(out), t.created_consumer))
        })
    })?;
    if created {
        fire(ctx, K::STREAM, "xgroup-createconsumer", key);
    }
    Ok(reply)
}

fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let now = now_ms(ctx);
    let (reply, created) = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, key, |t| {
            let min_idle = claim_checks(t, args, "XAUTOCLAIM")?;
            let start = parse_bound(&args[5], 0, true)?;
            let (mut count, mut justid) = (100u64, false);
            let mut j = 6;
            while j < args.len() {
                if is(&args[j], "COUNT") && j + 1 < args.len() {
                    let n = crate::numeric::parse_i64_strict(&args[j + 1]);
                    match n {
                        Some(n) if (1..=i64::MAX / 16).contains(&n) => count = n as u64,
                        _ => return Err(CmdError::err("COUNT must be > 0")),
                    }
                    j += 2;
                } else if is(&args[j], "JUSTID") {
                    justid = true;
                    j += 1;
                } else {
                    return Err(CmdError::Syntax);
                }
            }
            let mut attempts = count * 10;
            let mut scanned = Vec::new();
            let mut next = StreamId::MIN;
            t.view.walk_pending(group, start, |id, p| {
                if attempts == 0 || (scanned.len() as u64) >= attempts {
                    next = id;
                    return false;
                }
                scanned.push((id, p));
                true
            })?;
            let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
            let mut left = count;
            let mut stop_at = None;
            for (i, (id, p)) in scanned.iter().enumerate() {
                if left == 0 || attempts == 0 {
                    stop_at = Some(i);
                    break;
                }
                attempts -= 1;
                let Some(fields) = t.view.entry(*id)? else {
                    t.set_pending(group, *id, None)?;
                    deleted.push(id_reply(*id));
                    left -= 1;
                    continue;
                };
                if now.saturating_sub(p.delivery_ms) < min_idle {
                    continue;
                }
                let mut p = p.clone();
                if !justid {
                    p.deliveries += 1;
                }
                claim(t, group, consumer, *id, p, now, now)?;
                claimed.push(if justid { id_reply(*id) } else { entry_reply((*id, fields)) });
                left -= 1;
            }
            if let Some(i) = stop_at {
                next = scanned[i].0;
            }
            Ok((Reply::Array(vec![id_reply(next), Reply::Array(claimed), Reply::Array(deleted)]), t.created_consumer))
        })
    })?;
    if created {
        fire(ctx, K::STREAM, "xgroup-createconsumer", key);
    }
    Ok(reply)
}

// ---------------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------------

/// Redis's reply to a subcommand with arguments it does not take.
fn subcommand_err(args: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        text(&args[1]),
        text(&args[0]).to_ascii_uppercase()
    ))
}

/// The options after XGROUP CREATE|SETID's ID: `[MKSTREAM]` (CREATE only) and
/// `[ENTRIESREAD n]` (-1 or missing: unknown).
fn group_options(args: &[Bytes], create: bool) -> CmdResult<(bool, Option<u64>)> {
    let (mut mkstream, mut entries_read) = (false, None);
    let mut i = 5;
    while i < args.len() {
        if create && is(&args[i], "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if is(&args[i], "ENTRIESREAD") && i + 1 < args.len() {
            let n = int(&args[i + 1])?;
            if n < -1 {
                return Err(CmdError::err("value for ENTRIESREAD must be positive or -1"));
            }
            entries_read = u64::try_from(n).ok();
            i += 2;
        } else {
            return Err(subcommand_err(args));
        }
    }
    Ok((mkstream, entries_read))
}

fn no_key_for_xgroup() -> CmdError {
    CmdError::err(
        "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    )
}

fn xgroup_create(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (key, group, id_arg) = (&args[2], &args[3], &args[4]);
    let (mkstream, entries_read) = group_options(args, true)?;
    let r = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, key, |t| {
            if !t.existed() && !mkstream {
                return Err(no_key_for_xgroup());
            }
            let id = if id_arg.as_ref() == b"$" { t.meta().last_id } else { parse_id(id_arg, 0)? };
            if t.group(group)?.is_some() {
                return Err(CmdError::Raw("BUSYGROUP Consumer Group name already exists".into()));
            }
            t.set_group(group, Group { last_id: id, entries_read, pending: 0 })?;
            t.touch();
            Ok(Reply::Ok)
        })
    })?;
    fire(ctx, K::STREAM, "xgroup-create", key);
    Ok(r)
}

fn xgroup_setid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (key, group, id_arg) = (&args[2], &args[3], &args[4]);
    let (_, entries_read) = group_options(args, false)?;
    let r = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, key, |t| {
            if !t.existed() {
                return Err(no_key_for_xgroup());
            }
            let id = if id_arg.as_ref() == b"$" { t.meta().last_id } else { parse_id(id_arg, 0)? };
            let Some(mut g) = t.group(group)? else { return Err(nogroup_for_key(key, group)) };
            g.last_id = id;
            g.entries_read = entries_read;
            t.set_group(group, g)?;
            Ok(Reply::Ok)
        })
    })?;
    fire(ctx, K::STREAM, "xgroup-setid", key);
    Ok(r)
}

fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let destroyed = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[2], |t| {
            if !t.existed() {
                return Err(no_key_for_xgroup());
            }
            Ok(t.destroy_group(&args[3])?)
        })
    })?;
    if destroyed {
        fire(ctx, K::STREAM, "xgroup-destroy", &args[2]);
    }
    Ok(Reply::Int(i64::from(destroyed)))
}

/// XGROUP CREATECONSUMER and DELCONSUMER: the key, then the group must exist.
fn group_must_exist(t: &StreamTxn<'_>, args: &[Bytes]) -> CmdResult<()> {
    if !t.existed() {
        return Err(no_key_for_xgroup());
    }
    if t.group(&args[3])?.is_none() {
        return Err(nogroup_for_key(&args[2], &args[3]));
    }
    Ok(())
}

fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let now = now_ms(ctx);
    let created = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[2], |t| {
            group_must_exist(t, args)?;
            if t.consumer(&args[3], &args[4])?.is_some() {
                return Ok(false);
            }
            t.set_consumer(&args[3], &args[4], Some(Consumer { seen_ms: now, active_ms: 0, pending: 0 }));
            Ok(true)
        })
    })?;
    if created {
        fire(ctx, K::STREAM, "xgroup-createconsumer", &args[2]);
    }
    Ok(Reply::Int(i64::from(created)))
}

fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let deleted = with_db(ctx, |st, pdb| {
        st.stream_write(pdb, &args[2], |t| {
            group_must_exist(t, args)?;
            Ok(t.delete_consumer(&args[3], &args[4])?)
        })
    })?;
    if deleted.is_some() {
        fire(ctx, K::STREAM, "xgroup-delconsumer", &args[2]);
    }
    Ok(Reply::Int(deleted.unwrap_or(0) as i64))
}

fn xgroup_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(super::introspection::help_reply(&[
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Print this help.",
    ]))
}

// ---------------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------------

fn no_such_key() -> CmdError {
    CmdError::err("no such key")
}

fn xinfo_stream(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let key = &args[2];
    let (mut full, mut count) = (false, 10usize);
    match args.len() {
        3 => {}
        4 if is(&args[3], "FULL") => full = true,
        6 if is(&args[3], "FULL") && is(&args[4], "COUNT") => {
            full = true;
            count = int(&args[5])?.max(0) as usize;
        }
        _ => return Err(subcommand_err(args)),
    }
    with_db(ctx, |st, pdb| {
        let Some(v) = st.stream_view(pdb, key)? else { return Err(no_such_key()) };
        let m = v.meta;
        let nodes = m.len().div_ceil(NODE_ENTRIES);
        let mut out = vec![
            ("length", Reply::Int(m.len() as i64)),
            ("radix-tree-keys", Reply::Int(nodes as i64)),
            ("radix-tree-nodes", Reply::Int((nodes + nodes.div_ceil(2)).max(1) as i64)),
            ("last-generated-id", id_reply(m.last_id)),
            ("max-deleted-entry-id", id_reply(m.max_deleted)),
            ("entries-added", Reply::Int(m.entries_added as i64)),
            ("recorded-first-entry-id", id_reply(v.first_id()?)),
        ];
        if !full {
            let first = v.range(StreamId::MIN, StreamId::MAX, false, 1)?.pop();
            let last = v.range(StreamId::MIN, StreamId::MAX, true, 1)?.pop();
            out.push(("groups", Reply::Int(m.groups as i64)));
            out.push(("first-entry", entry_or_null(first)));
            out.push(("last-entry", entry_or_null(last)));
            return Ok(map(out));
        }
        out.push(("entries", entries_reply(v.range(StreamId::MIN, StreamId::MAX, false, count)?)));
        let mut groups = Vec::new();
        for (name, g) in v.groups()? {
            let mut pel = Vec::new();
            v.walk_pending(&name, StreamId::MIN, |id, p| {
                pel.push((id, p));
                count == 0 || pel.len() < count
            })?;
            let pending: Vec<Reply> = pel
                .iter()
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id_reply(*id),
                        Reply::Bulk(p.consumer.clone()),
                        Reply::Int(p.delivery_ms as i64),
                        Reply::Int(p.deliveries as i64),
                    ])
                })
                .collect();
            let mut consumers = Vec::new();
            for (cname, c) in v.consumers(&name)? {
                let mut mine = Vec::new();
                v.walk_pending(&name, StreamId::MIN, |id, p| {
                    if p.consumer == cname {
                        mine.push(Reply::Array(vec![
                            id_reply(id),
                            Reply::Int(p.delivery_ms as i64),
                            Reply::Int(p.deliveries as i64),
                        ]));
                    }
                    count == 0 || mine.len() < count
                })?;
                consumers.push(map(vec![
                    ("name", Reply::Bulk(cname)),
                    ("seen-time", Reply::Int(c.seen_ms as i64)),
                    ("pel-count", Reply::Int(c.pending as i64)),
                    ("pending", Reply::Array(mine)),
                ]));
            }
            groups.push(map(vec![
                ("name", Reply::Bulk(name)),
                ("last-delivered-id", id_reply(g.last_id)),
                ("entries-read", opt_int(g.entries_read)),
                ("lag", opt_int(v.lag(&g)?)),
                ("pel-count", Reply::Int(g.pending as i64)),
                ("pending", Reply::Array(pending)),
                ("consumers", Reply::Array(consumers)),
            ]));
        }
        out.push(("groups", Reply::Array(groups)));
        Ok(map(out))
    })
}

fn xinfo_groups(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    with_db(ctx, |st, pdb| {
        let Some(v) = st.stream_view(pdb, &args[2])? else { return Err(no_such_key()) };
        let mut out = Vec::new();
        for (name, g) in v.groups()? {
            let consumers = v.consumers(&name)?.len();
            out.push(map(vec![
                ("name", Reply::Bulk(name)),
                ("consumers", Reply::Int(consumers as i64)),
                ("pending", Reply::Int(g.pending as i64)),
                ("last-delivered-id", id_reply(g.last_id)),
                ("entries-read", opt_int(g.entries_read)),
                ("lag", opt_int(v.lag(&g)?)),
            ]));
        }
        Ok(Reply::Array(out))
    })
}

fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (key, group) = (&args[2], &args[3]);
    let now = now_ms(ctx);
    with_db(ctx, |st, pdb| {
        let Some(v) = st.stream_view(pdb, key)? else { return Err(no_such_key()) };
        if v.group(group)?.is_none() {
            return Err(nogroup_for_key(key, group));
        }
        let out = v
            .consumers(group)?
            .into_iter()
            .map(|(name, c)| {
                // `inactive` is Redis 7.2's: since the last read or claim that served the
                // consumer (-1: never); `idle` counts from any attempt.
                let inactive = if c.active_ms == 0 { -1 } else { now.saturating_sub(c.active_ms) as i64 };
                map(vec![
                    ("name", Reply::Bulk(name)),
                    ("pending", Reply::Int(c.pending as i64)),
                    ("idle", Reply::Int(now.saturating_sub(c.seen_ms) as i64)),
                    ("inactive", Reply::Int(inactive)),
                ])
            })
            .collect();
        Ok(Reply::Array(out))
    })
}

fn xinfo_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(super::introspection::help_reply(&[
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Print this help.",
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis() {
        assert_eq!(parse_id(b"5", 0).ok(), Some(StreamId::new(5, 0)));
        assert_eq!(parse_id(b"5", u64::MAX).ok(), Some(StreamId::new(5, u64::MAX)));
        assert_eq!(parse_id(b"5-3", 0).ok(), Some(StreamId::new(5, 3)));
        assert!(parse_id(b"5-", 0).is_err());
        assert!(parse_id(b"-5", 0).is_err());
        assert!(parse_id(b"5-3-1", 0).is_err());
        assert!(parse_id(b"18446744073709551616", 0).is_err());
        assert_eq!(parse_id_opt(b"7-*", 0, true), Some((7, None)));
        assert_eq!(parse_bound(b"(5-3", 0, true).ok(), Some(StreamId::new(5, 4)));
        assert_eq!(parse_bound(b"(5", u64::MAX, false).ok(), Some(StreamId::new(5, u64::MAX - 1)));
        assert!(parse_bound(b"(0-0", 0, false).is_err());
        assert_eq!(parse_bound(b"-", 0, true).ok(), Some(StreamId::MIN));
        assert!(parse_bound(b"(-", 0, true).is_err());
    }
}
