//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, CLIENT.

use super::introspection::{container, help_reply};
use super::parse::{int, is};
use super::{CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::state::clients::ClientHandle;
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// The Redis version Strata reports to clients (HELLO, INFO): the 7.2 command set it follows.
pub const REDIS_VERSION: &str = "7.2.4";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("ping", -1, flags!(FAST), 0, 0, 0, acl!(FAST, CONNECTION), ping,
        "connection", "1.0.0", "Returns the server's liveliness response.", "O(1)"),
    cmd!("echo", 2, flags!(FAST), 0, 0, 0, acl!(FAST, CONNECTION), echo,
        "connection", "1.0.0", "Returns the given string.", "O(1)"),
    cmd!("quit", -1, flags!(ALLOW_BUSY, NO_AUTH, FAST), 0, 0, 0, acl!(FAST, CONNECTION), quit,
        "connection", "1.0.0", "Closes the connection.", "O(1)"),
    cmd!("reset", 1, flags!(NO_AUTH, FAST), 0, 0, 0, acl!(FAST, CONNECTION), reset,
        "connection", "6.2.0", "Resets the connection.", "O(1)"),
    cmd!("auth", -2, flags!(NO_AUTH, FAST), 0, 0, 0, acl!(FAST, CONNECTION), auth,
        "connection", "1.0.0", "Authenticates the connection.", "O(N) where N is the number of passwords defined for the user"),
    cmd!("hello", -1, flags!(NO_AUTH, FAST), 0, 0, 0, acl!(FAST, CONNECTION), hello,
        "connection", "6.0.0", "Handshakes with the Redis server.", "O(1)"),
    CommandSpec {
        subcommands: CLIENT_SUBCOMMANDS,
        ..cmd!(
            "client",
            -2,
            flags!(),
            0,
            0,
            0,
            acl!(SLOW),
            container,
            "connection",
            "2.4.0",
            "A container for client connection commands.",
            "Depends on subcommand."
        )
    },
];

#[rustfmt::skip]
static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("client|id", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), client_id,
        "connection", "5.0.0", "Returns the unique client ID of the connection.", "O(1)"),
    cmd!("client|setname", 3, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), client_setname,
        "connection", "2.6.9", "Sets the connection name.", "O(1)"),
    cmd!("client|getname", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), client_getname,
        "connection", "2.6.9", "Returns the name of the connection.", "O(1)"),
    cmd!("client|list", -2, flags!(ADMIN, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS, CONNECTION), client_list,
        "connection", "2.4.0", "Lists open connections.", "O(N) where N is the number of client connections"),
    cmd!("client|info", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), client_info,
        "connection", "6.2.0", "Returns information about the connection.", "O(1)"),
    cmd!("client|unblock", -3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS, CONNECTION), client_unblock,
        "connection", "5.0.0", "Unblocks a client blocked by a blocking command from a different connection.", "O(log N) where N is the number of client connections"),
    cmd!("client|kill", -3, flags!(ADMIN, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS, CONNECTION), client_kill,
        "connection", "2.4.0", "Terminates open connections.", "O(N) where N is the number of client connections"),
    cmd!("client|setinfo", 4, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), client_setinfo,
        "connection", "7.2.0", "Sets information specific to the client or connection.", "O(1)"),
    cmd!("client|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), client_help,
        "connection", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() <= 2 {
        if let Some(reply) = super::pubsub::subscriber_ping(ctx, args.get(1)) {
            return Ok(reply);
        }
    }
    match args.len() {
        1 => Ok(Reply::Simple("PONG")),
        2 => Ok(Reply::Bulk(args[1].clone())),
        _ => Err(CmdError::WrongArity("ping".into())),
    }
}

fn echo(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Bulk(args[1].clone()))
}

fn quit(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    ctx.session.close_after_reply = true;
    Ok(Reply::Ok)
}

fn set_protocol(ctx: &mut Ctx<'_>, proto: u8) {
    ctx.session.protocol = proto;
    ctx.session.handle.protocol.store(proto, Ordering::Relaxed);
}

fn reset(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    ctx.session.end_multi();
    ctx.shared.pubsub.remove_client(&ctx.session.handle);
    ctx.shared.telemetry.monitors.remove(&ctx.session.handle);
    ctx.session.monitor = false;
    ctx.session.set_db(0);
    set_protocol(ctx, 2);
    ctx.session.set_name(None);
    ctx.session.set_user(None);
    ctx.session.authenticated = ctx.shared.acl.default_user_open();
    Ok(Reply::Simple("RESET"))
}

/// Authenticates the connection as `user` if the password is right; a failure is logged
/// (ACL LOG reason `auth`).
fn authenticate(ctx: &mut Ctx<'_>, args: &[Bytes], user: &[u8], pass: &[u8]) -> CmdResult<()> {
    match ctx.shared.acl.authenticate(user, pass) {
        Some(cell) => {
            let default = std::sync::Arc::ptr_eq(&cell, ctx.shared.acl.default_user());
            ctx.session.set_user(if default { None } else { Some(cell) });
            ctx.session.authenticated = true;
            Ok(())
        }
        None => {
            super::acl::log_failed_auth(ctx, args, user);
            Err(CmdError::WrongPass)
        }
    }
}

fn auth(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (user, pass): (&[u8], &[u8]) = match args.len() {
        2 => {
            if ctx.shared.acl.default_user().rules().nopass {
                return Err(CmdError::err(
                    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (b"default", &args[1])
        }
        3 => (&args[1], &args[2]),
        _ => return Err(CmdError::Syntax),
    };
    authenticate(ctx, args, user, pass)?;
    Ok(Reply::Ok)
}

fn hello(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut proto = ctx.session.protocol;
    let mut i = 1;
    if let Some(v) = args.get(1) {
        let n = int(v).map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&n) {
            return Err(CmdError::Raw("NOPROTO unsupported protocol version".into()));
        }
        proto = n as u8;
        i = 2;
    }
    let mut name: Option<Bytes> = None;
    let mut authed = ctx.session.authenticated || ctx.shared.acl.default_user_open();
    let mut credentials = None;
    while i < args.len() {
        if is(&args[i], "AUTH") && i + 2 < args.len() {
            credentials = Some((args[i + 1].clone(), args[i + 2].clone()));
            authed = true;
            i += 3;
        } else if is(&args[i], "SETNAME") && i + 1 < args.len() {
            validate_name(&args[i + 1])?;
            name = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Err(CmdError::err(format!("Syntax error in HELLO option '{}'", String::from_utf8_lossy(&args[i]))));
        }
    }
    if let Some((user, pass)) = credentials {
        authenticate(ctx, args, &user, &pass)?;
    }
    if !authed {
        return Err(CmdError::Raw(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    ctx.session.authenticated = true;
    if let Some(n) = name {
        ctx.session.set_name(if n.is_empty() { None } else { Some(n) });
    }
    set_protocol(ctx, proto);
    let s = |t: &str| Reply::bulk(Bytes::copy_from_slice(t.as_bytes()));
    Ok(Reply::Map(vec![
        (s("server"), s("redis")),
        (s("version"), s(REDIS_VERSION)),
        (s("proto"), Reply::Int(i64::from(proto))),
        (s("id"), Reply::Int(ctx.session.id() as i64)),
        (s("mode"), s("standalone")),
        (s("role"), s("master")),
        (s("modules"), Reply::Array(Vec::new())),
    ]))
}

fn validate_name(name: &[u8]) -> CmdResult<()> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

fn client_id(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.session.id() as i64))
}

fn client_setname(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    validate_name(&args[2])?;
    ctx.session.set_name(if args[2].is_empty() { None } else { Some(args[2].clone()) });
    Ok(Reply::Ok)
}

fn client_getname(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(ctx.session.handle.name.lock().clone().map(Reply::Bulk).unwrap_or(Reply::Null))
}

fn text(s: String) -> Reply {
    Reply::Verbatim("txt", Bytes::from(s))
}

fn client_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let mut ids: Option<Vec<u64>> = None;
    // Some(true): subscribers only (TYPE pubsub); Some(false): everyone else (TYPE normal).
    let mut pubsub: Option<bool> = None;
    let mut i = 2;
    while i < args.len() {
        if is(&args[i], "TYPE") && i + 1 < args.len() {
            let t = &args[i + 1];
            if !(is(t, "normal") || is(t, "master") || is(t, "replica") || is(t, "pubsub")) {
                return Err(CmdError::err(format!("Unknown client type '{}'", String::from_utf8_lossy(t))));
            }
            if !(is(t, "normal") || is(t, "pubsub")) {
                return Ok(text(String::new()));
            }
            pubsub = Some(is(t, "pubsub"));
            i += 2;
        } else if is(&args[i], "ID") && i + 1 < args.len() {
            let mut v = Vec::new();
            for a in &args[i + 1..] {
                let n = int(a).ok().filter(|n| *n > 0).ok_or_else(|| CmdError::err("Invalid client ID"))?;
                v.push(n as u64);
            }
            ids = Some(v);
            i = args.len();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut out = String::new();
    let me = ctx.session.id();
    for c in ctx.shared.clients.snapshot() {
        if ids.as_ref().is_none_or(|ids| ids.contains(&c.id)) && pubsub.is_none_or(|p| p == c.pubsub.active()) {
            out.push_str(&c.info_line(if c.id == me { argv_mem(args) } else { 0 }));
            out.push('\n');
        }
    }
    Ok(text(out))
}

fn client_info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Ok(text(format!("{}\n", ctx.session.handle.info_line(argv_mem(args)))))
}

/// CLIENT LIST `argv-mem` of the command running: its arguments' bytes.
fn argv_mem(args: &[Bytes]) -> usize {
    args.iter().map(|a| a.len()).sum()
}

fn client_unblock(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let id = int(&args[2])?;
    let how = match args.get(3) {
        None => crate::state::clients::Unblock::Timeout,
        Some(a) if is(a, "TIMEOUT") => crate::state::clients::Unblock::Timeout,
        Some(a) if is(a, "ERROR") => crate::state::clients::Unblock::Error,
        Some(_) => return Err(CmdError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    if args.len() > 4 {
        return Err(CmdError::Syntax);
    }
    let found = u64::try_from(id).ok().and_then(|id| ctx.shared.clients.get(id));
    Ok(Reply::Int(i64::from(found.is_some_and(|c| c.request_unblock(how)))))
}

fn client_kill(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let me = ctx.session.id();
    let kill = |ctx: &mut Ctx<'_>, c: &ClientHandle| {
        if c.id == me {
            ctx.session.close_after_reply = true;
        } else {
            c.kill();
        }
    };
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = String::from_utf8_lossy(&args[2]).into_owned();
        let found = ctx.shared.clients.snapshot().into_iter().find(|c| c.addr.to_string() == addr);
        return match found {
            Some(c) => {
                kill(ctx, &c);
                Ok(Reply::Ok)
            }
            None => Err(CmdError::err("No such client")),
        };
    }
    let (mut id, mut addr, mut laddr, mut skipme, mut maxage) = (None, None, None, true, None);
    let mut pubsub: Option<bool> = None;
    let mut user = None;
    let mut i = 2;
    while i < args.len() {
        let Some(v) = args.get(i + 1) else { return Err(CmdError::Syntax) };
        let k = &args[i];
        if is(k, "ID") {
            id = Some(
                int(v).ok().filter(|n| *n > 0).ok_or_else(|| CmdError::err("client-id should be greater than 0"))?
                    as u64,
            );
        } else if is(k, "ADDR") {
            addr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is(k, "LADDR") {
            laddr = Some(String::from_utf8_lossy(v).into_owned());
        } else if is(k, "TYPE") {
            if !(is(v, "normal") || is(v, "master") || is(v, "replica") || is(v, "slave") || is(v, "pubsub")) {
                return Err(CmdError::err(format!("Unknown client type '{}'", String::from_utf8_lossy(v))));
            }
            if !(is(v, "normal") || is(v, "pubsub")) {
                return Ok(Reply::Int(0));
            }
            pubsub = Some(is(v, "pubsub"));
        } else if is(k, "USER") {
            match ctx.shared.acl.get(v) {
                Some(u) => user = Some(u),
                None => return Err(CmdError::err(format!("No such user '{}'", String::from_utf8_lossy(v)))),
            }
        } else if is(k, "SKIPME") {
            skipme = if is(v, "yes") {
                true
            } else if is(v, "no") {
                false
            } else {
                return Err(CmdError::Syntax);
            };
        } else if is(k, "MAXAGE") {
            maxage = Some(int(v)?);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let mut killed = 0;
    for c in ctx.shared.clients.snapshot() {
        let matches = id.is_none_or(|id| c.id == id)
            && addr.as_ref().is_none_or(|a| c.addr.to_string() == *a)
            && laddr.as_ref().is_none_or(|a| c.laddr.to_string() == *a)
            && maxage.is_none_or(|m| c.created.elapsed().as_secs() as i64 >= m)
            && pubsub.is_none_or(|p| p == c.pubsub.active())
            && user.as_ref().is_none_or(|u| {
                c.is_user(u) || (std::sync::Arc::ptr_eq(u, ctx.shared.acl.default_user()) && c.user.lock().is_none())
            })
            && !(skipme && c.id == me);
        if matches {
            kill(ctx, &c);
            killed += 1;
        }
    }
    Ok(Reply::Int(killed))
}

fn client_setinfo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let v = &args[3];
    if v.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(&args[2]).to_ascii_lowercase()
        )));
    }
    let slot = if is(&args[2], "LIB-NAME") {
        &ctx.session.handle.lib_name
    } else if is(&args[2], "LIB-VER") {
        &ctx.session.handle.lib_ver
    } else {
        return Err(CmdError::err(format!("Unrecognized option '{}'", String::from_utf8_lossy(&args[2]))));
    };
    *slot.lock() = if v.is_empty() { None } else { Some(v.clone()) };
    Ok(Reply::Ok)
}

fn client_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
        "LIST [options ...]",
        "    Return information about client connections. Options: TYPE, ID.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "HELP",
        "    Print this help.",
    ]))
}
