//! LATENCY LATEST|HISTORY|RESET|DOCTOR|GRAPH|HISTOGRAM|HELP over `telemetry::latency` and
//! the per-command histograms of `telemetry::commandstats`.

use super::introspection::{container, help_reply};
use super::{CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::telemetry::histogram::Snapshot;
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::sync::atomic::Ordering;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: LATENCY_SUBCOMMANDS,
    ..cmd!("latency", -2, flags!(), 0, 0, 0, acl!(SLOW), container,
        "server", "2.8.13", "A container for latency diagnostics commands", "Depends on subcommand.")
}];

#[rustfmt::skip]
static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("latency|doctor", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), doctor,
        "server", "2.8.13", "Return a human readable latency analysis report.", "O(1)"),
    cmd!("latency|graph", 3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), graph,
        "server", "2.8.13", "Return a latency graph for the event.", "O(1)"),
    cmd!("latency|histogram", -2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), histogram,
        "server", "7.0.0", "Return the cumulative distribution of latencies of a subset of commands or all.", "O(N) where N is the number of commands with latency information being retrieved."),
    cmd!("latency|history", 3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), history,
        "server", "2.8.13", "Return timestamp-latency samples for the event.", "O(1)"),
    cmd!("latency|latest", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), latest,
        "server", "2.8.13", "Return the latest latency samples for all events.", "O(1)"),
    cmd!("latency|reset", -2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), reset,
        "server", "2.8.13", "Reset latency data for one or more events.", "O(1)"),
    cmd!("latency|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW), help,
        "server", "2.8.13", "Show helpful text about the different subcommands.", "O(1)"),
];

/// LATENCY LATEST: `[event, unix time, latest ms, all-time max ms]` per event.
fn latest(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let events = ctx.shared.telemetry.latency.latest();
    Ok(Reply::Array(
        events
            .into_iter()
            .map(|l| {
                Reply::Array(vec![
                    Reply::bulk(l.event),
                    Reply::Int(l.time as i64),
                    Reply::Int(l.latest_ms as i64),
                    Reply::Int(l.max_ms as i64),
                ])
            })
            .collect(),
    ))
}

/// LATENCY HISTORY event: `[unix time, ms]` per sample, oldest first; empty for an unknown event.
fn history(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let samples = ctx.shared.telemetry.latency.history(&args[2]).unwrap_or_default();
    Ok(Reply::Array(
        samples
            .into_iter()
            .map(|s| Reply::Array(vec![Reply::Int(s.time as i64), Reply::Int(s.latency_ms as i64)]))
            .collect(),
    ))
}

/// LATENCY RESET [event ...]: how many events were dropped.
fn reset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let latency = &ctx.shared.telemetry.latency;
    let n = if args.len() == 2 { latency.reset(None) } else { args[2..].iter().map(|e| latency.reset(Some(e))).sum() };
    Ok(Reply::Int(n as i64))
}

fn graph(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    match ctx.shared.telemetry.latency.graph(&args[2]) {
        Some(g) => Ok(Reply::Verbatim("txt", Bytes::from(g))),
        None => Err(CmdError::err(format!("No samples available for event '{}'", String::from_utf8_lossy(&args[2])))),
    }
}

fn doctor(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    let telemetry = &ctx.shared.telemetry;
    let enabled = telemetry.settings.latency_threshold_ms.load(Ordering::Relaxed) > 0;
    Ok(Reply::Verbatim("txt", Bytes::from(telemetry.latency.doctor(enabled))))
}

/// LATENCY HISTOGRAM [command ...]: per command with a histogram, `{calls, histogram_usec}`
/// where `histogram_usec` maps power-of-two buckets (µs) to cumulative counts, as Redis's
/// hdr-histogram output. Unknown names are skipped; a container name gives its subcommands.
fn histogram(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let stats = &ctx.shared.telemetry.commands;
    let mut out = Vec::new();
    let mut add = |spec: &CommandSpec| {
        if let Some(h) = stats.get(spec.name).and_then(|v| v.histogram).filter(|h| h.count() > 0) {
            out.push((Reply::bulk(spec.name), cdf_reply(&h)));
        }
    };
    if args.len() == 2 {
        for c in super::all() {
            add(c);
            c.subcommands.iter().for_each(&mut add);
        }
    } else {
        for name in &args[2..] {
            let Some(spec) = find(name) else { continue };
            add(spec);
            spec.subcommands.iter().for_each(&mut add);
        }
    }
    Ok(Reply::Map(out))
}

/// A command or `parent|sub` name of the table, case-insensitively.
fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        Some(at) => {
            let parent = super::lookup(&name[..at])?;
            parent.subcommands.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
        }
        None => super::lookup(name),
    }
}

fn cdf_reply(h: &Snapshot) -> Reply {
    let buckets = h.redis_cdf().into_iter().map(|(us, n)| (Reply::Int(us as i64), Reply::Int(n as i64))).collect();
    Reply::Map(vec![
        (Reply::bulk("calls"), Reply::Int(h.count() as i64)),
        (Reply::bulk("histogram_usec"), Reply::Map(buckets)),
    ])
}

fn help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ]))
}
