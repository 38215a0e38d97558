//! DUMP and RESTORE: a key's value in Redis's RDB object serialization (`crate::rdb`), read
//! and written whole through `storage::types::value`.

use super::parse::{is, parse_i64_strict};
use super::pubsub::fire;
use super::{with_db, CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::rdb::{self, LoadError};
use crate::reply::Reply;
use crate::storage::access::without_touch;
use crate::storage::encoding::meta_key;
use crate::storage::types::value::RestoreOutcome;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("dump", 2, flags!(READONLY), 1, 1, 1, acl!(KEYSPACE, READ, SLOW), dump,
        "generic", "2.6.0", "Returns a serialized representation of the value stored at a key.",
        "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."),
    cmd!("restore", -4, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(KEYSPACE, WRITE, SLOW, DANGEROUS), restore,
        "generic", "2.6.0", "Creates a key from the serialized representation of a value.",
        "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."),
];

fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    with_db(ctx, |store, pdb| match store.read_value(pdb, &args[1])? {
        Some((value, _)) => Ok(Reply::Bulk(Bytes::from(rdb::dump(&value)))),
        None => Ok(Reply::Null),
    })
}

/// RESTORE's options, checked in Redis's order.
struct Opts {
    replace: bool,
    absttl: bool,
    idle: Option<u64>,
    freq: Option<u8>,
}

fn parse_opts(args: &[Bytes]) -> CmdResult<Opts> {
    let mut o = Opts { replace: false, absttl: false, idle: None, freq: None };
    let mut i = 4;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(&args[i], "REPLACE") {
            o.replace = true;
        } else if is(&args[i], "ABSTTL") {
            o.absttl = true;
        } else if is(&args[i], "IDLETIME") && more && o.freq.is_none() {
            let n = parse_i64_strict(&args[i + 1]).ok_or(CmdError::NotInteger)?;
            o.idle = Some(u64::try_from(n).map_err(|_| CmdError::err("Invalid IDLETIME value, must be >= 0"))?);
            i += 1;
        } else if is(&args[i], "FREQ") && more && o.idle.is_none() {
            let n = parse_i64_strict(&args[i + 1]).ok_or(CmdError::NotInteger)?;
            o.freq = Some(u8::try_from(n).map_err(|_| CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"))?);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let o = parse_opts(args)?;
    let key = &args[1];
    let outcome = with_db(ctx, |store, pdb| {
        if !o.replace && without_touch(|| store.get_alive(pdb, key))?.is_some() {
            return Err(CmdError::Raw("BUSYKEY Target key name already exists.".into()));
        }
        let ttl = parse_i64_strict(&args[2]).ok_or(CmdError::NotInteger)?;
        if ttl < 0 {
            return Err(CmdError::err("Invalid TTL value, must be >= 0"));
        }
        let value = rdb::load(&args[3]).map_err(|e| match e {
            LoadError::VersionOrChecksum => CmdError::err("DUMP payload version or checksum are wrong"),
            LoadError::BadFormat => CmdError::err("Bad data format"),
        })?;
        let ttl = ttl as u64;
        let expire_at_ms = match (ttl, o.absttl) {
            (0, _) => 0,
            (t, true) => t,
            (t, false) => store.clock.now_ms().saturating_add(t),
        };
        let outcome = store.restore_value(pdb, key, &value, expire_at_ms, o.replace)?;
        if matches!(outcome, RestoreOutcome::Restored { .. }) {
            let access = &store.access;
            let mk = meta_key(pdb, key);
            match (access.is_lfu(), o.idle, o.freq) {
                (true, _, Some(f)) => access.set_freq(&mk, f),
                (false, Some(idle), _) => access.set_idle(&mk, idle),
                _ => {}
            }
        }
        Ok(outcome)
    })?;
    match outcome {
        RestoreOutcome::Busy => return Err(CmdError::Raw("BUSYKEY Target key name already exists.".into())),
        RestoreOutcome::Restored { .. } => fire(ctx, K::GENERIC, "restore", key),
        RestoreOutcome::Expired { deleted: true } => fire(ctx, K::GENERIC, "del", key),
        RestoreOutcome::Expired { deleted: false } => {}
    }
    Ok(Reply::Ok)
}
