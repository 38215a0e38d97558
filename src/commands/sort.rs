//! SORT and SORT_RO over lists, sets and sorted sets.
//!
//! # Format
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]
//! [ALPHA] [STORE destination]`; SORT_RO takes the same options but STORE.

use super::parse::is;
use super::pubsub::fire;
use super::{CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::storage::types::sort::{SortOutcome, SortSpec};
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("sort", -2, flags!(WRITE, DENYOOM, MOVABLEKEYS), 1, 1, 1, acl!(WRITE, SET, SORTEDSET, LIST, SLOW, DANGEROUS), sort,
        "generic", "1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."),
    cmd!("sort_ro", -2, flags!(READONLY, MOVABLEKEYS), 1, 1, 1, acl!(READ, SET, SORTEDSET, LIST, SLOW, DANGEROUS), sort_ro,
        "generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."),
];

/// Parses the options as Redis's `sortCommandGeneric` does (a later ASC/DESC or BY wins).
fn parse(args: &[Bytes], readonly: bool) -> CmdResult<SortSpec<'_>> {
    let mut spec = SortSpec::default();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if is(a, "ASC") {
            spec.desc = false;
        } else if is(a, "DESC") {
            spec.desc = true;
        } else if is(a, "ALPHA") {
            spec.alpha = true;
        } else if is(a, "LIMIT") && left >= 2 {
            let start = parse_long(&args[j + 1])?;
            let count = parse_long(&args[j + 2])?;
            spec.limit = Some((start, count));
            j += 2;
        } else if !readonly && is(a, "STORE") && left >= 1 {
            spec.store = Some(&args[j + 1]);
            j += 1;
        } else if is(a, "BY") && left >= 1 {
            spec.by = Some(&args[j + 1]);
            j += 1;
        } else if is(a, "GET") && left >= 1 {
            spec.gets.push(&args[j + 1]);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(spec)
}

fn parse_long(b: &[u8]) -> CmdResult<i64> {
    super::parse::int(b)
}

fn run(ctx: &mut Ctx<'_>, args: &[Bytes], readonly: bool) -> CmdResult<Reply> {
    let spec = parse(args, readonly)?;
    let dbs = ctx.shared.storage.dbs();
    let pdb = dbs.physical(ctx.session.db);
    let out = ctx
        .shared
        .storage
        .sort(pdb, &args[1], &spec)?
        .map_err(|_| CmdError::err("One or more scores can't be converted into double"))?;
    Ok(match out {
        SortOutcome::Items(items) => {
            Reply::Array(items.into_iter().map(|v| v.map(Reply::Bulk).unwrap_or(Reply::Null)).collect())
        }
        SortOutcome::Stored(n) => {
            // An empty result deletes the destination: its `del` comes from storage.
            if let (Some(dst), true) = (spec.store, n > 0) {
                fire(ctx, K::LIST, "sortstore", dst);
            }
            Reply::Int(n as i64)
        }
    })
}

fn sort(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    run(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    run(ctx, args, true)
}
