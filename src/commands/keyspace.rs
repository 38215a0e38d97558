//! Keyspace commands: existence, deletion, expiry, renames, scans, databases, OBJECT.

use super::parse::{int, is, parse_i64_strict, scan_cursor, scan_opts};
use super::pubsub::{fire, fire_in};
use super::{CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::reply::Reply;
use crate::state::notify::flush_key_events;
use crate::storage::access::without_touch;
use crate::storage::encoding::meta_key;
use crate::storage::encoding::KeyType;
use crate::storage::keyspace::{ExpireCond, RenameOutcome};
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("del", -2, flags!(WRITE), 1, -1, 1, acl!(KEYSPACE, WRITE, SLOW), del,
        "generic", "1.0.0", "Deletes one or more keys.", "O(N) where N is the number of keys that will be removed."),
    cmd!("unlink", -2, flags!(WRITE, FAST), 1, -1, 1, acl!(KEYSPACE, WRITE, FAST), del,
        "generic", "4.0.0", "Asynchronously deletes one or more keys.", "O(1) for each key removed regardless of its size."),
    cmd!("exists", -2, flags!(READONLY, FAST), 1, -1, 1, acl!(KEYSPACE, READ, FAST), exists,
        "generic", "1.0.0", "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check."),
    cmd!("touch", -2, flags!(READONLY, FAST), 1, -1, 1, acl!(KEYSPACE, READ, FAST), touch,
        "generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "O(N) where N is the number of keys that will be touched."),
    cmd!("type", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(KEYSPACE, READ, FAST), type_,
        "generic", "1.0.0", "Determines the type of value stored at a key.", "O(1)"),
    cmd!("expire", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(KEYSPACE, WRITE, FAST), expire,
        "generic", "1.0.0", "Sets the expiration time of a key in seconds.", "O(1)"),
    cmd!("pexpire", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(KEYSPACE, WRITE, FAST), pexpire,
        "generic", "2.6.0", "Sets the expiration time of a key in milliseconds.", "O(1)"),
    cmd!("expireat", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(KEYSPACE, WRITE, FAST), expireat,
        "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp.", "O(1)"),
    cmd!("pexpireat", -3, flags!(WRITE, FAST), 1, 1, 1, acl!(KEYSPACE, WRITE, FAST), pexpireat,
        "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp.", "O(1)"),
    cmd!("ttl", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(KEYSPACE, READ, FAST), ttl,
        "generic", "1.0.0", "Returns the expiration time in seconds of a key.", "O(1)"),
    cmd!("pttl", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(KEYSPACE, READ, FAST), pttl,
        "generic", "2.6.0", "Returns the expiration time in milliseconds of a key.", "O(1)"),
    cmd!("expiretime", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(KEYSPACE, READ, FAST), expiretime,
        "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp.", "O(1)"),
    cmd!("pexpiretime", 2, flags!(READONLY, FAST), 1, 1, 1, acl!(KEYSPACE, READ, FAST), pexpiretime,
        "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp.", "O(1)"),
    cmd!("persist", 2, flags!(WRITE, FAST), 1, 1, 1, acl!(KEYSPACE, WRITE, FAST), persist,
        "generic", "2.2.0", "Removes the expiration time of a key.", "O(1)"),
    cmd!("rename", 3, flags!(WRITE), 1, 2, 1, acl!(KEYSPACE, WRITE, SLOW), rename,
        "generic", "1.0.0", "Renames a key and overwrites the destination.", "O(1)"),
    cmd!("renamenx", 3, flags!(WRITE, FAST), 1, 2, 1, acl!(KEYSPACE, WRITE, FAST), renamenx,
        "generic", "1.0.0", "Renames a key only when the target key name doesn't exist.", "O(1)"),
    cmd!("keys", 2, flags!(READONLY), 0, 0, 0, acl!(KEYSPACE, READ, SLOW, DANGEROUS), keys,
        "generic", "1.0.0", "Returns all key names that match a pattern.", "O(N) with N being the number of keys in the database"),
    cmd!("scan", -2, flags!(READONLY), 0, 0, 0, acl!(KEYSPACE, READ, SLOW), scan,
        "generic", "2.8.0", "Iterates over the key names in the database.", "O(1) for every call. O(N) for a complete iteration."),
    cmd!("randomkey", 1, flags!(READONLY), 0, 0, 0, acl!(KEYSPACE, READ, SLOW), randomkey,
        "generic", "1.0.0", "Returns a random key name from the database.", "O(1)"),
    cmd!("dbsize", 1, flags!(READONLY, FAST), 0, 0, 0, acl!(KEYSPACE, READ, FAST), dbsize,
        "server", "1.0.0", "Returns the number of keys in the database.", "O(1)"),
    cmd!("flushdb", -1, flags!(WRITE), 0, 0, 0, acl!(KEYSPACE, WRITE, SLOW, DANGEROUS), flushdb,
        "server", "1.0.0", "Remove all keys from the current database.", "O(1) with range deletes."),
    cmd!("flushall", -1, flags!(WRITE), 0, 0, 0, acl!(KEYSPACE, WRITE, SLOW, DANGEROUS), flushall,
        "server", "1.0.0", "Removes all keys from all databases.", "O(1) with range deletes."),
    cmd!("select", 2, flags!(LOADING, STALE, FAST), 0, 0, 0, acl!(CONNECTION, FAST), select,
        "connection", "1.0.0", "Changes the selected database.", "O(1)"),
    cmd!("swapdb", 3, flags!(WRITE, FAST), 0, 0, 0, acl!(KEYSPACE, WRITE, FAST, DANGEROUS), swapdb,
        "server", "4.0.0", "Swaps two Redis databases.", "O(1)"),
    cmd!("move", 3, flags!(WRITE, FAST), 1, 1, 1, acl!(KEYSPACE, WRITE, FAST), move_,
        "generic", "1.0.0", "Moves a key to another database.", "O(1)"),
    cmd!("copy", -3, flags!(WRITE, DENYOOM), 1, 2, 1, acl!(KEYSPACE, WRITE, SLOW), copy,
        "generic", "6.2.0", "Copies the value of a key to a new key.", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."),
    CommandSpec {
        subcommands: OBJECT_SUBCOMMANDS,
        ..cmd!(
            "object",
            -2,
            flags!(),
            0,
            0,
            0,
            acl!(SLOW),
            super::introspection::container,
            "generic",
            "2.2.3",
            "A container for object introspection commands.",
            "Depends on subcommand."
        )
    },
];

#[rustfmt::skip]
static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("object|encoding", 3, flags!(READONLY), 2, 2, 1, acl!(KEYSPACE, READ, SLOW), object_encoding,
        "generic", "2.2.3", "Returns the internal encoding of a Redis object.", "O(1)"),
    cmd!("object|refcount", 3, flags!(READONLY), 2, 2, 1, acl!(KEYSPACE, READ, SLOW), object_refcount,
        "generic", "2.2.3", "Returns the reference count of a value of a key.", "O(1)"),
    cmd!("object|freq", 3, flags!(READONLY), 2, 2, 1, acl!(KEYSPACE, READ, SLOW), object_freq,
        "generic", "4.0.0", "Returns the logarithmic access frequency counter of a Redis object.", "O(1)"),
    cmd!("object|idletime", 3, flags!(READONLY), 2, 2, 1, acl!(KEYSPACE, READ, SLOW), object_idletime,
        "generic", "2.2.3", "Returns the time since the last access to a Redis object.", "O(1)"),
    cmd!("object|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(KEYSPACE, SLOW), object_help,
        "generic", "6.2.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

fn pdb<'a>(ctx: &'a Ctx<'_>) -> (crate::storage::DbMap<'a>, u8) {
    let dbs = ctx.shared.storage.dbs();
    let p = dbs.physical(ctx.session.db);
    (dbs, p)
}

fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let deleted = ctx.storage().delete_keys(p, &args[1..])?;
    for k in &deleted {
        fire(ctx, K::GENERIC, "del", k);
    }
    Ok(Reply::Int(deleted.len() as i64))
}

/// EXISTS and TYPE leave the keys' access times as they were (Redis's LOOKUP_NOTOUCH).
fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    Ok(Reply::Int(without_touch(|| ctx.storage().exists(p, &args[1..]))?))
}

/// TOUCH: EXISTS that counts as an access of each key.
fn touch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    Ok(Reply::Int(ctx.storage().exists(p, &args[1..])?))
}

fn type_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let t = without_touch(|| ctx.storage().key_type(p, &args[1]))?;
    Ok(Reply::Simple(t.map(KeyType::name).unwrap_or("none")))
}

fn expire_generic(ctx: &mut Ctx<'_>, args: &[Bytes], unit_ms: i64, absolute: bool) -> CmdResult<Reply> {
    let v = int(&args[2])?;
    let mut cond = ExpireCond::Always;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &args[3..] {
        if is(a, "NX") {
            nx = true;
        } else if is(a, "XX") {
            xx = true;
        } else if is(a, "GT") {
            gt = true;
        } else if is(a, "LT") {
            lt = true;
        } else {
            return Err(CmdError::err(format!("Unsupported option {}", String::from_utf8_lossy(a))));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::err("NX and XX, GT or LT options at the same time are not compatible"));
    }
    if gt && lt {
        return Err(CmdError::err("GT and LT options at the same time are not compatible"));
    }
    if nx {
        cond = ExpireCond::Nx;
    } else if xx && !gt && !lt {
        cond = ExpireCond::Xx;
    } else if gt {
        cond = ExpireCond::Gt;
    } else if lt {
        cond = ExpireCond::Lt;
    }
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let invalid = || CmdError::err(format!("invalid expire time in '{name}' command"));
    let mut at = v.checked_mul(unit_ms).ok_or_else(invalid)?;
    if !absolute {
        at = at.checked_add(ctx.storage().clock.now_ms() as i64).ok_or_else(invalid)?;
    }
    let at = at.max(0) as u64;
    let (_dbs, p) = pdb(ctx);
    // XX together with GT/LT requires an existing expiry as well.
    if xx && (gt || lt) {
        let has_ttl = ctx.storage().get_alive(p, &args[1])?.is_some_and(|r| r.header.expire_at_ms != 0);
        if !has_ttl {
            return Ok(Reply::Int(0));
        }
    }
    let set = ctx.storage().set_expire(p, &args[1], at, cond)?;
    if set {
        let event = if at <= ctx.storage().clock.now_ms() { "del" } else { "expire" };
        fire(ctx, K::GENERIC, event, &args[1]);
    }
    Ok(Reply::Int(i64::from(set)))
}

fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    expire_generic(ctx, args, 1000, false)
}

fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    expire_generic(ctx, args, 1, false)
}

fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    expire_generic(ctx, args, 1000, true)
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    expire_generic(ctx, args, 1, true)
}

/// -2 if missing, -1 if no expiry, else `f(expire_at_ms, now_ms)`.
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], f: impl Fn(u64, u64) -> i64) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let now = ctx.storage().clock.now_ms();
    // TTL and PTTL leave the access time alone, as in Redis.
    Ok(Reply::Int(match without_touch(|| ctx.storage().get_alive(p, key))? {
        Some(r) => match r.header.expire_at_ms {
            0 => -1,
            at => f(at.max(now), now),
        },
        None => -2,
    }))
}

fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    ttl_generic(ctx, &args[1], |at, now| ((at - now + 500) / 1000) as i64)
}

fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    ttl_generic(ctx, &args[1], |at, now| (at - now) as i64)
}

fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    ttl_generic(ctx, &args[1], |at, _| ((at + 500) / 1000) as i64)
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    ttl_generic(ctx, &args[1], |at, _| at as i64)
}

fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let done = ctx.storage().persist(p, &args[1])?;
    if done {
        fire(ctx, K::GENERIC, "persist", &args[1]);
    }
    Ok(Reply::Int(i64::from(done)))
}

fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    match ctx.storage().rename(p, &args[1], &args[2], false)? {
        RenameOutcome::NoSuchKey => Err(CmdError::NoSuchKey),
        _ => {
            renamed(ctx, &args[1], &args[2]);
            Ok(Reply::Ok)
        }
    }
}

fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    match ctx.storage().rename(p, &args[1], &args[2], true)? {
        RenameOutcome::NoSuchKey => Err(CmdError::NoSuchKey),
        RenameOutcome::TargetExists => Ok(Reply::Int(0)),
        RenameOutcome::Renamed => {
            renamed(ctx, &args[1], &args[2]);
            Ok(Reply::Int(1))
        }
    }
}

fn renamed(ctx: &Ctx<'_>, src: &[u8], dst: &[u8]) {
    if src != dst {
        // Redis creates the new name before announcing the rename.
        flush_key_events(ctx.shared);
        fire(ctx, K::GENERIC, "rename_from", src);
        fire(ctx, K::GENERIC, "rename_to", dst);
    }
}

fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let pattern = &args[1];
    let all = pattern.as_ref() == b"*";
    let mut out = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = ctx.storage().scan(p, after.as_deref(), 1024, |k, _| all || glob_match(pattern, k, false))?;
        out.extend(page.keys.into_iter().map(Reply::Bulk));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok(Reply::Array(out))
}

fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let cursor = scan_cursor(&args[1])?;
    let opts = scan_opts(&args[2..], true)?;
    let (_dbs, p) = pdb(ctx);
    // Positions are stored without the physical database byte, so a SWAPDB mid-scan keeps
    // scanning the logical database the client selected.
    let position = if cursor == 0 { None } else { ctx.shared.cursors.lock().get(cursor).map(|pos| pos.to_vec()) };
    let after = position.map(|pos| {
        let mut k = Vec::with_capacity(pos.len() + 1);
        k.push(p);
        k.extend_from_slice(&pos);
        k
    });
    let page = ctx.storage().scan(p, after.as_deref(), opts.count, |k, rec| {
        opts.matches(k) && opts.type_name.is_none_or(|t| t.eq_ignore_ascii_case(rec.key_type().name().as_bytes()))
    })?;
    let next = match page.next {
        Some(pos) => ctx.shared.cursors.lock().insert(pos[1..].to_vec()),
        None => 0,
    };
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string().into_bytes()),
        Reply::Array(page.keys.into_iter().map(Reply::Bulk).collect()),
    ]))
}

fn randomkey(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    Ok(ctx.storage().random_key(p)?.map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn dbsize(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    Ok(Reply::Int(ctx.storage().key_count(p)))
}

fn flush_mode(args: &[Bytes]) -> CmdResult<()> {
    match args.len() {
        1 => Ok(()),
        2 if is(&args[1], "ASYNC") || is(&args[1], "SYNC") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    flush_mode(args)?;
    let map = ctx.storage().dbs_mut();
    let p = map.physical(ctx.session.db);
    ctx.storage().flush_db(&map, p)?;
    Ok(Reply::Ok)
}

fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    flush_mode(args)?;
    let map = ctx.storage().dbs_mut();
    ctx.storage().flush_all(&map)?;
    Ok(Reply::Ok)
}

/// A database index argument, range-checked against `databases`.
pub(crate) fn db_index(ctx: &Ctx<'_>, arg: &[u8], out_of_range: CmdError) -> CmdResult<usize> {
    let n = parse_i64_strict(arg).ok_or(CmdError::NotInteger)?;
    if n < 0 || n as usize >= ctx.storage().databases() {
        return Err(out_of_range);
    }
    Ok(n as usize)
}

fn select(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let db = db_index(ctx, &args[1], CmdError::DbIndexOutOfRange)?;
    ctx.session.set_db(db);
    Ok(Reply::Ok)
}

fn swapdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let a = db_index(ctx, &args[1], CmdError::DbIndexOutOfRange).map_err(|e| {
        if e == CmdError::NotInteger {
            CmdError::err("invalid first DB index")
        } else {
            e
        }
    })?;
    let b = db_index(ctx, &args[2], CmdError::DbIndexOutOfRange).map_err(|e| {
        if e == CmdError::NotInteger {
            CmdError::err("invalid second DB index")
        } else {
            e
        }
    })?;
    if a != b {
        let mut map = ctx.storage().dbs_mut();
        ctx.storage().swap_db(&mut map, a, b)?;
    }
    Ok(Reply::Ok)
}

fn move_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let dst = db_index(ctx, &args[2], CmdError::DbIndexOutOfRange)?;
    if dst == ctx.session.db {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let dbs = ctx.storage().dbs();
    let (sp, dp) = (dbs.physical(ctx.session.db), dbs.physical(dst));
    let moved = ctx.storage().move_key(sp, dp, &args[1])?;
    if moved {
        flush_key_events(ctx.shared);
        fire(ctx, K::GENERIC, "move_from", &args[1]);
        fire_in(ctx, dst, K::GENERIC, "move_to", &args[1]);
    }
    Ok(Reply::Int(i64::from(moved)))
}

fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut dst_db = ctx.session.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "REPLACE") {
            replace = true;
        } else if is(&args[i], "DB") && i + 1 < args.len() {
            dst_db = db_index(ctx, &args[i + 1], CmdError::DbIndexOutOfRange)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if dst_db == ctx.session.db && args[1] == args[2] {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let dbs = ctx.storage().dbs();
    let (sp, dp) = (dbs.physical(ctx.session.db), dbs.physical(dst_db));
    let copied = ctx.storage().copy_key(sp, &args[1], dp, &args[2], replace)?;
    if copied {
        fire_in(ctx, dst_db, K::GENERIC, "copy_to", &args[2]);
    }
    Ok(Reply::Int(i64::from(copied)))
}

fn object_encoding(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let Some(rec) = without_touch(|| ctx.storage().get_alive(p, &args[2]))? else { return Ok(Reply::Null) };
    let enc = match rec.key_type() {
        KeyType::String => {
            let v = rec.body();
            // (A fragmented string was edited in place, and is long: `raw` either way.)
            if rec.header.flags
                & (crate::storage::encoding::FLAG_RAW_STRING | crate::storage::encoding::FLAG_FRAGMENTED)
                != 0
            {
                "raw"
            } else if v.len() <= 20 && parse_i64_strict(&v).is_some() {
                "int"
            } else if v.len() <= 44 {
                "embstr"
            } else {
                "raw"
            }
        }
        _ => match crate::storage::Storage::coll_meta(&rec)? {
            Some(meta) => crate::storage::types::encoding_name(&meta),
            None => "raw",
        },
    };
    Ok(Reply::bulk(enc.as_bytes()))
}

fn object_refcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    let Some(rec) = without_touch(|| ctx.storage().get_alive(p, &args[2]))? else { return Ok(Reply::Null) };
    // Redis shares the integers 0..10000 (OBJ_SHARED_INTEGERS) and reports them as INT_MAX.
    let shared = rec.key_type() == KeyType::String
        && crate::storage::encoding::fragmented(&rec.raw).is_none()
        && parse_i64_strict(&rec.body()).is_some_and(|n| (0..10_000).contains(&n));
    Ok(Reply::Int(if shared { i64::from(i32::MAX) } else { 1 }))
}

/// Redis's note on switching between LRU and LFU policies, ending both OBJECT errors.
const POLICY_SWITCH: &str =
    "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

fn object_freq(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    if without_touch(|| ctx.storage().get_alive(p, &args[2]))?.is_none() {
        return Ok(Reply::Null);
    }
    let access = &ctx.storage().access;
    if !access.is_lfu() {
        return Err(CmdError::err(format!(
            "An LFU maxmemory policy is not selected, access frequency not tracked. {POLICY_SWITCH}"
        )));
    }
    // An untracked key (its slot taken by a hotter key) is as rare as can be.
    Ok(Reply::Int(i64::from(access.freq(&meta_key(p, &args[2])).unwrap_or(0))))
}

fn object_idletime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (_dbs, p) = pdb(ctx);
    if without_touch(|| ctx.storage().get_alive(p, &args[2]))?.is_none() {
        return Ok(Reply::Null);
    }
    let access = &ctx.storage().access;
    if access.is_lfu() {
        return Err(CmdError::err(format!(
            "An LFU maxmemory policy is selected, idle time not tracked. {POLICY_SWITCH}"
        )));
    }
    // An untracked key (not used since start, or its slot taken by a key used later) reports
    // the lower bound the table knows.
    let idle = access.idle_ms(&meta_key(p, &args[2])).unwrap_or_else(|lower| lower);
    Ok(Reply::Int((idle / 1000) as i64))
}

fn object_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let lines = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ];
    Ok(Reply::Array(lines.iter().map(|l| Reply::Simple(l)).collect()))
}
