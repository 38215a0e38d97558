//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
//! SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB. The registry and message queues live in
//! `state::pubsub`; the connection sends queued messages (`server::connection`).
//!
//! Also the RESP2 subscriber-mode rule (`check_context`): a RESP2 client with subscriptions
//! may only run the commands Redis allows there.

use super::introspection::{container, help_reply};
use super::{CommandSpec, Ctx, Flags};
use crate::config::NotifyFlags;
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::state::notify;
use crate::state::pubsub::Kind;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("subscribe", -2, flags!(PUBSUB, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), subscribe,
        "pubsub", "2.0.0", "Listens for messages published to channels.", "O(N) where N is the number of channels to subscribe to."),
    cmd!("unsubscribe", -1, flags!(PUBSUB, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), unsubscribe,
        "pubsub", "2.0.0", "Stops listening to messages posted to channels.", "O(N) where N is the number of channels to unsubscribe."),
    cmd!("psubscribe", -2, flags!(PUBSUB, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), psubscribe,
        "pubsub", "2.0.0", "Listens for messages published to channels that match one or more patterns.", "O(N) where N is the number of patterns to subscribe to."),
    cmd!("punsubscribe", -1, flags!(PUBSUB, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), punsubscribe,
        "pubsub", "2.0.0", "Stops listening to messages published to channels that match one or more patterns.", "O(N) where N is the number of patterns to unsubscribe."),
    cmd!("publish", 3, flags!(PUBSUB, LOADING, STALE, FAST), 0, 0, 0, acl!(PUBSUB, FAST), publish,
        "pubsub", "2.0.0", "Posts a message to a channel.", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client)."),
    cmd!("ssubscribe", -2, flags!(PUBSUB, NOSCRIPT, LOADING, STALE), 1, -1, 1, acl!(PUBSUB, SLOW), ssubscribe,
        "pubsub", "7.0.0", "Listens for messages published to shard channels.", "O(N) where N is the number of shard channels to subscribe to."),
    cmd!("sunsubscribe", -1, flags!(PUBSUB, NOSCRIPT, LOADING, STALE), 1, -1, 1, acl!(PUBSUB, SLOW), sunsubscribe,
        "pubsub", "7.0.0", "Stops listening to messages posted to shard channels.", "O(N) where N is the number of shard channels to unsubscribe."),
    cmd!("spublish", 3, flags!(PUBSUB, LOADING, STALE, FAST), 1, 1, 1, acl!(PUBSUB, FAST), spublish,
        "pubsub", "7.0.0", "Post a message to a shard channel", "O(N) where N is the number of clients subscribed to the receiving shard channel."),
    CommandSpec {
        subcommands: PUBSUB_SUBCOMMANDS,
        ..cmd!("pubsub", -2, flags!(), 0, 0, 0, acl!(SLOW), container,
            "pubsub", "2.8.0", "A container for Pub/Sub commands.", "Depends on subcommand.")
    },
];

#[rustfmt::skip]
static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("pubsub|channels", -2, flags!(PUBSUB, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), pubsub_channels,
        "pubsub", "2.8.0", "Returns the active channels.", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)"),
    cmd!("pubsub|numsub", -2, flags!(PUBSUB, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), pubsub_numsub,
        "pubsub", "2.8.0", "Returns a count of subscribers to channels.", "O(N) for the NUMSUB subcommand, where N is the number of requested channels"),
    cmd!("pubsub|numpat", 2, flags!(PUBSUB, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), pubsub_numpat,
        "pubsub", "2.8.0", "Returns a count of unique pattern subscriptions.", "O(1)"),
    cmd!("pubsub|shardchannels", -2, flags!(PUBSUB, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), pubsub_shardchannels,
        "pubsub", "7.0.0", "Returns the active shard channels.", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."),
    cmd!("pubsub|shardnumsub", -2, flags!(PUBSUB, LOADING, STALE), 0, 0, 0, acl!(PUBSUB, SLOW), pubsub_shardnumsub,
        "pubsub", "7.0.0", "Returns the count of subscribers of shard channels.", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"),
    cmd!("pubsub|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW), pubsub_help,
        "pubsub", "6.2.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

/// A write command's keyspace notification (see `state::notify::event`): call it after the
/// write succeeded.
pub(crate) fn fire(ctx: &Ctx<'_>, class: NotifyFlags, event: &str, key: &[u8]) {
    notify::event(ctx.shared, ctx.session.db, class, event, key);
}

/// `fire` for a key of another logical database (MOVE, COPY ... DB).
pub(crate) fn fire_in(ctx: &Ctx<'_>, db: usize, class: NotifyFlags, event: &str, key: &[u8]) {
    notify::event(ctx.shared, db, class, event, key);
}

/// `keymiss` notifications (class `m`) for the keys a command read and did not find, after it
/// succeeded: the keys of read-only commands (OBJECT excepted, which Redis looks up silently)
/// and the sources that write commands read (COPY, SORT, the *STORE commands). SET ... GET,
/// GETDEL and GETEX announce their own, before their other events.
pub(crate) fn keymiss_after(ctx: &Ctx<'_>, spec: &CommandSpec, args: &[Bytes]) {
    let flags = ctx.shared.pubsub.notify_flags();
    if !flags.contains(NotifyFlags::KEY_MISS)
        || !flags.intersects(NotifyFlags::KEYSPACE | NotifyFlags::KEYEVENT)
        || !ctx.shared.pubsub.has_subscribers()
    {
        return;
    }
    let movable = || super::introspection::movable_keys(spec.name, args).unwrap_or_default();
    let keys: Vec<&Bytes> = match spec.name {
        "copy" | "sort" => args.get(1).into_iter().collect(),
        "zrangestore" => args.get(2).into_iter().collect(),
        "sinterstore" | "sunionstore" | "sdiffstore" => args.iter().skip(2).collect(),
        "bitop" => args.iter().skip(3).collect(),
        "zunionstore" | "zinterstore" | "zdiffstore" => movable().into_iter().skip(1).collect(),
        name if name.starts_with("object|") => return,
        _ if !spec.flags.contains(Flags::READONLY) => return,
        _ if spec.flags.contains(Flags::MOVABLEKEYS) => movable(),
        _ => spec.keys(args),
    };
    if keys.is_empty() {
        return;
    }
    let storage = &ctx.shared.storage;
    let pdb = storage.dbs().physical(ctx.session.db);
    for key in keys {
        if matches!(storage.get_live(pdb, key), Ok(None)) {
            keymiss(ctx, key);
        }
    }
}

/// One `keymiss` notification.
pub(crate) fn keymiss(ctx: &Ctx<'_>, key: &[u8]) {
    notify::notify(ctx.shared, ctx.session.db, NotifyFlags::KEY_MISS, "keymiss", key);
}

/// Whether any keyspace notification class is on (to skip work done only for them).
pub(crate) fn notifying(ctx: &Ctx<'_>) -> bool {
    !ctx.shared.pubsub.notify_flags().is_empty()
}

/// Refuses a command a RESP2 client in subscriber mode may not run, with Redis's error.
pub fn check_context(ctx: &Ctx<'_>, spec: &CommandSpec) -> CmdResult<()> {
    if ctx.session.protocol == 3 || !ctx.session.handle.pubsub.active() {
        return Ok(());
    }
    let allowed = matches!(
        spec.name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    );
    if allowed {
        return Ok(());
    }
    Err(CmdError::err(format!(
        "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        spec.name
    )))
}

/// PING of a RESP2 subscriber: `["pong", message]` instead of `+PONG`.
pub fn subscriber_ping(ctx: &Ctx<'_>, message: Option<&Bytes>) -> Option<Reply> {
    if ctx.session.protocol == 3 || !ctx.session.handle.pubsub.active() {
        return None;
    }
    Some(Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(message.cloned().unwrap_or_default())]))
}

fn frames(mut replies: Vec<Reply>) -> Reply {
    if replies.len() == 1 {
        replies.pop().unwrap_or(Reply::Null)
    } else {
        Reply::Frames(replies)
    }
}

fn do_subscribe(ctx: &mut Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(frames(ctx.shared.pubsub.subscribe(&ctx.session.handle, kind, &args[1..])))
}

fn do_unsubscribe(ctx: &mut Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(frames(ctx.shared.pubsub.unsubscribe(&ctx.session.handle, kind, &args[1..])))
}

fn subscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    do_subscribe(ctx, Kind::Channel, args)
}

fn psubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    do_subscribe(ctx, Kind::Pattern, args)
}

fn ssubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    do_subscribe(ctx, Kind::Shard, args)
}

fn unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    do_unsubscribe(ctx, Kind::Channel, args)
}

fn punsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    do_unsubscribe(ctx, Kind::Pattern, args)
}

fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    do_unsubscribe(ctx, Kind::Shard, args)
}

fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(notify::publish(ctx.shared, &args[1], &args[2], false) as i64))
}

fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(notify::publish(ctx.shared, &args[1], &args[2], true) as i64))
}

/// PUBSUB CHANNELS / SHARDCHANNELS take at most one pattern; Redis's own check words it so.
fn channels(ctx: &Ctx<'_>, kind: Kind, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() > 3 {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(&args[1])
        )));
    }
    let names = ctx.shared.pubsub.channels(kind, args.get(2).map(|p| &p[..]));
    Ok(Reply::Array(names.into_iter().map(Reply::Bulk).collect()))
}

fn numsub(ctx: &Ctx<'_>, kind: Kind, args: &[Bytes]) -> Reply {
    let mut out = Vec::with_capacity((args.len() - 2) * 2);
    for channel in &args[2..] {
        out.push(Reply::Bulk(channel.clone()));
        out.push(Reply::Int(ctx.shared.pubsub.numsub(kind, channel) as i64));
    }
    Reply::Array(out)
}

fn pubsub_channels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    channels(ctx, Kind::Channel, args)
}

fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    channels(ctx, Kind::Shard, args)
}

fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(numsub(ctx, Kind::Channel, args))
}

fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(numsub(ctx, Kind::Shard, args))
}

fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.shared.pubsub.distinct(Kind::Pattern) as i64))
}

fn pubsub_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]))
}
