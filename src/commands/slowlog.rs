//! SLOWLOG GET|LEN|RESET|HELP over `telemetry::slowlog`.

use super::introspection::{container, help_reply};
use super::{CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: SLOWLOG_SUBCOMMANDS,
    ..cmd!("slowlog", -2, flags!(), 0, 0, 0, acl!(SLOW), container,
        "server", "2.2.12", "A container for slow log commands", "Depends on subcommand.")
}];

#[rustfmt::skip]
static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("slowlog|get", -2, flags!(ADMIN, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), slowlog_get,
        "server", "2.2.12", "Get the slow log's entries", "O(N) where N is the number of entries returned"),
    cmd!("slowlog|len", 2, flags!(ADMIN, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), slowlog_len,
        "server", "2.2.12", "Get the slow log's length", "O(1)"),
    cmd!("slowlog|reset", 2, flags!(ADMIN, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), slowlog_reset,
        "server", "2.2.12", "Clear all entries from the slow log", "O(N) where N is the number of entries in the slowlog"),
    cmd!("slowlog|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW), slowlog_help,
        "server", "6.2.0", "Show helpful text about the different subcommands", "O(1)"),
];

/// SLOWLOG GET [count]: the newest `count` entries (10 by default, -1 = all), newest first,
/// each `[id, unix time, µs, [args], "ip:port", client name]`.
fn slowlog_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() > 3 {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
            super::truncate_lossy(&args[1], 128)
        )));
    }
    let log = &ctx.shared.telemetry.slowlog;
    let count = match args.get(2) {
        None => 10,
        Some(a) => match crate::numeric::parse_i64_strict(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err(CmdError::err("count should be greater than or equal to -1")),
        },
    };
    Ok(Reply::Array(
        log.newest(count)
            .into_iter()
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time as i64),
                    Reply::Int(e.duration_us as i64),
                    Reply::Array(e.args.into_iter().map(Reply::Bulk).collect()),
                    Reply::Bulk(e.peer),
                    Reply::Bulk(e.client_name),
                ])
            })
            .collect(),
    ))
}

fn slowlog_len(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.shared.telemetry.slowlog.len() as i64))
}

fn slowlog_reset(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    ctx.shared.telemetry.slowlog.reset();
    Ok(Reply::Ok)
}

fn slowlog_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ]))
}
