//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! # Format
//! `PFADD key [element ...]`, `PFCOUNT key [key ...]`, `PFMERGE destkey [sourcekey ...]`,
//! `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`, `PFSELFTEST`. Values are ordinary strings in
//! Redis's HLL representation (`crate::hll`); reads and writes go through `StringStore`, one
//! batch per command.

use super::pubsub::fire;
use super::{CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::hll;
use crate::reply::Reply;
use crate::storage::types::string::StringStore;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("pfadd", -2, flags!(WRITE, DENYOOM, FAST), 1, 1, 1, acl!(WRITE, HYPERLOGLOG, FAST), pfadd,
        "hyperloglog", "2.8.9", "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", "O(1) to add every element."),
    cmd!("pfcount", -2, flags!(READONLY, MAY_REPLICATE), 1, -1, 1, acl!(READ, HYPERLOGLOG, SLOW), pfcount,
        "hyperloglog", "2.8.9", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys."),
    cmd!("pfmerge", -2, flags!(WRITE, DENYOOM), 1, -1, 1, acl!(WRITE, HYPERLOGLOG, SLOW), pfmerge,
        "hyperloglog", "2.8.9", "Merges one or more HyperLogLog values into a single key.", "O(N) to merge N HyperLogLogs, but with high constant times."),
    cmd!("pfdebug", 3, flags!(WRITE, DENYOOM, ADMIN), 2, 2, 1, acl!(WRITE, HYPERLOGLOG, ADMIN, SLOW, DANGEROUS), pfdebug,
        "hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values.", "N/A"),
    cmd!("pfselftest", 1, flags!(ADMIN), 0, 0, 0, acl!(HYPERLOGLOG, ADMIN, SLOW, DANGEROUS), pfselftest,
        "hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values.", "N/A"),
];

fn not_hll() -> CmdError {
    CmdError::Raw("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
}

fn corrupt() -> CmdError {
    CmdError::Raw("INVALIDOBJ Corrupted HLL object detected".into())
}

impl From<hll::Corrupt> for CmdError {
    fn from(_: hll::Corrupt) -> CmdError {
        corrupt()
    }
}

fn sparse_max(ctx: &Ctx<'_>) -> usize {
    usize::try_from(ctx.shared.config.read().hll_sparse_max_bytes).unwrap_or(usize::MAX)
}

fn with_strings<R>(ctx: &Ctx<'_>, f: impl FnOnce(&StringStore<'_>) -> CmdResult<R>) -> CmdResult<R> {
    let dbs = ctx.shared.storage.dbs();
    let store = StringStore::new(&ctx.shared.storage, dbs.physical(ctx.session.db));
    f(&store)
}

/// A copy of an existing value that must be a valid HLL.
fn valid(v: &[u8]) -> CmdResult<Vec<u8>> {
    if !hll::is_valid(v) {
        return Err(not_hll());
    }
    Ok(v.to_vec())
}

fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let max = sparse_max(ctx);
    let updated = with_strings(ctx, |s| {
        Ok(s.update(&args[1], true, |cur| {
            let (mut v, mut updated) = match cur {
                None => (hll::new_sparse(), true),
                Some(cur) => (valid(cur)?, false),
            };
            for e in &args[2..] {
                updated |= hll::add(&mut v, e, max)?;
            }
            if !updated {
                return Ok::<_, CmdError>((None, false));
            }
            hll::invalidate_cache(&mut v);
            Ok((Some(v), true))
        })?)
    })??;
    if updated {
        fire(ctx, K::STRING, "pfadd", &args[1]);
    }
    Ok(Reply::Int(i64::from(updated)))
}

fn pfcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() > 2 {
        // The union of several keys: counted, never written.
        let mut max = Box::new([0u8; hll::REGISTERS]);
        with_strings(ctx, |s| {
            for k in &args[1..] {
                let Some(v) = s.get(k)? else { continue };
                if !hll::is_valid(&v) {
                    return Err(not_hll());
                }
                hll::merge_into(&mut max, &v)?;
            }
            Ok(())
        })?;
        return Ok(Reply::Int(hll::count_registers(&max) as i64));
    }
    // One key: the cached cardinality, or a fresh count stored back as the cache (as Redis
    // does, so the bytes stay the same as Redis's).
    let card = with_strings(ctx, |s| {
        Ok(s.update(&args[1], true, |cur| {
            let Some(cur) = cur else { return Ok::<_, CmdError>((None, 0)) };
            if !hll::is_valid(cur) {
                return Err(not_hll());
            }
            if let Some(c) = hll::cached(cur) {
                return Ok((None, c));
            }
            let c = hll::count(cur)?;
            let mut v = cur.to_vec();
            hll::set_cached(&mut v, c);
            Ok((Some(v), c))
        })?)
    })??;
    Ok(Reply::Int(card as i64))
}

fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let smax = sparse_max(ctx);
    with_strings(ctx, |s| {
        Ok(s.update_reading(&args[1], &args[1..], true, |cur, sources| {
            let mut max = Box::new([0u8; hll::REGISTERS]);
            let mut dense = false;
            for src in sources {
                let Some(v) = src.map_err(CmdError::from)? else { continue };
                if !hll::is_valid(&v) {
                    return Err(not_hll());
                }
                dense |= v[4] == hll::DENSE;
                hll::merge_into(&mut max, &v)?;
            }
            let mut v = match cur {
                Some(cur) => cur.to_vec(),
                None => hll::new_sparse(),
            };
            hll::store_registers(&mut v, &max, dense, smax)?;
            Ok::<_, CmdError>((Some(v), ()))
        })?)
    })??;
    fire(ctx, K::STRING, "pfadd", &args[1]);
    Ok(Reply::Ok)
}

/// What PFDEBUG answers, decided under the key's lock.
enum Debug {
    Registers(Vec<u8>),
    Text(String),
    Status(&'static str),
    Int(i64),
}

fn pfdebug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let sub = args[1].clone();
    let out = with_strings(ctx, |s| {
        Ok(s.update(&args[2], true, |cur| {
            let Some(cur) = cur else { return Err(CmdError::err("The specified key does not exist")) };
            let mut v = valid(cur)?;
            let sparse = v[4] == hll::SPARSE;
            if sub.eq_ignore_ascii_case(b"getreg") {
                let regs = hll::registers(&v)?;
                let new = if sparse {
                    hll::sparse_to_dense(&mut v)?;
                    Some(v)
                } else {
                    None
                };
                Ok((new, Debug::Registers(regs)))
            } else if sub.eq_ignore_ascii_case(b"decode") {
                if !sparse {
                    return Err(CmdError::err("HLL encoding is not sparse"));
                }
                Ok((None, Debug::Text(hll::decode_text(&v))))
            } else if sub.eq_ignore_ascii_case(b"encoding") {
                Ok((None, Debug::Status(if sparse { "sparse" } else { "dense" })))
            } else if sub.eq_ignore_ascii_case(b"todense") {
                if !sparse {
                    return Ok((None, Debug::Int(0)));
                }
                hll::sparse_to_dense(&mut v)?;
                Ok((Some(v), Debug::Int(1)))
            } else {
                Err(CmdError::err(format!("Unknown PFDEBUG subcommand '{}'", String::from_utf8_lossy(&sub))))
            }
        })?)
    })??;
    Ok(match out {
        Debug::Registers(r) => Reply::Array(r.into_iter().map(|v| Reply::Int(i64::from(v))).collect()),
        Debug::Text(t) => Reply::bulk(t.into_bytes()),
        Debug::Status(s) => Reply::Simple(s),
        Debug::Int(n) => Reply::Int(n),
    })
}

fn pfselftest(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    match hll::selftest(sparse_max(ctx)) {
        Ok(()) => Ok(Reply::Ok),
        Err(text) => Err(CmdError::Raw(text)),
    }
}
