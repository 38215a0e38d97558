//! ACL and its subcommands, and the permission check `check` runs for every command of a
//! user that is not allowed everything (`state::acl` holds the users).

use super::introspection::{container, help_reply};
use super::parse::{int, is};
use super::{CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::state::acl::{rules, Context, Denied, Reason, User, UserCell};
use crate::state::subscriber::Kind;
use crate::{acl, cmd, flags};
use bytes::Bytes;
use std::sync::Arc;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: ACL_SUBCOMMANDS,
    ..cmd!("acl", -2, flags!(), 0, 0, 0, acl!(SLOW), container,
        "server", "6.0.0", "A container for Access List Control commands.", "Depends on subcommand.")
}];

#[rustfmt::skip]
static ACL_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("acl|cat", -2, flags!(NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(SLOW), acl_cat,
        "server", "6.0.0", "Lists the ACL categories, or the commands inside a category.", "O(1) since the categories and commands are a fixed set."),
    cmd!("acl|deluser", -3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_deluser,
        "server", "6.0.0", "Deletes ACL users, and terminates their connections.", "O(1) amortized time considering the typical user."),
    cmd!("acl|dryrun", -4, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_dryrun,
        "server", "7.0.0", "Simulates the execution of a command by a user, without executing the command.", "O(1)."),
    cmd!("acl|genpass", -2, flags!(NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(SLOW), acl_genpass,
        "server", "6.0.0", "Generates a pseudorandom, secure password that can be used to identify ACL users.", "O(1)"),
    cmd!("acl|getuser", 3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_getuser,
        "server", "6.0.0", "Lists the ACL rules of a user.", "O(N). Where N is the number of password, command and pattern rules that the user has."),
    cmd!("acl|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW), acl_help,
        "server", "6.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
    cmd!("acl|list", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_list,
        "server", "6.0.0", "Dumps the effective rules in ACL file format.", "O(N). Where N is the number of configured users."),
    cmd!("acl|load", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_load,
        "server", "6.0.0", "Reloads the rules from the configured ACL file.", "O(N). Where N is the number of configured users."),
    cmd!("acl|log", -2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_log,
        "server", "6.0.0", "Lists recent security events generated due to ACL rules.", "O(N) with N being the number of entries shown."),
    cmd!("acl|save", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_save,
        "server", "6.0.0", "Saves the effective ACL rules in the configured ACL file.", "O(N). Where N is the number of configured users."),
    cmd!("acl|setuser", -3, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_setuser,
        "server", "6.0.0", "Creates and modifies an ACL user and its rules.", "O(N). Where N is the number of rules provided."),
    cmd!("acl|users", 2, flags!(ADMIN, NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(ADMIN, SLOW, DANGEROUS), acl_users,
        "server", "6.0.0", "Lists all ACL users.", "O(N). Where N is the number of configured users."),
    cmd!("acl|whoami", 2, flags!(NOSCRIPT, LOADING, STALE), 0, 0, 0, acl!(SLOW), acl_whoami,
        "server", "6.0.0", "Returns the authenticated username of the current connection.", "O(1)"),
];

/// The user a connection runs as.
pub(crate) fn current_user<'a>(ctx: &'a Ctx<'_>) -> &'a Arc<UserCell> {
    ctx.session.user.as_ref().unwrap_or_else(|| ctx.shared.acl.default_user())
}

/// Redis's `getAclErrorMessage` (not verbose, or verbose for DRYRUN).
fn denial_text(denied: Denied, user: &UserCell, spec: &CommandSpec, args: &[Bytes], verbose: bool) -> String {
    match denied {
        Denied::Command => format!("User {} has no permissions to run the '{}' command", user.name_lossy(), spec.name),
        Denied::Key(i) if verbose => format!(
            "User {} has no permissions to access the '{}' key",
            user.name_lossy(),
            String::from_utf8_lossy(&args[i])
        ),
        Denied::Key(_) => "No permissions to access a key".into(),
        Denied::Channel(i) if verbose => format!(
            "User {} has no permissions to access the '{}' channel",
            user.name_lossy(),
            String::from_utf8_lossy(&args[i])
        ),
        Denied::Channel(_) => "No permissions to access a channel".into(),
    }
}

/// Checks `spec` with `args` against the user's rules (the slow path: `check` skips users
/// allowed everything). A refusal is counted, logged and replied as Redis does at top level,
/// in EXEC and in `redis.call`.
pub(crate) fn check_permission(ctx: &Ctx<'_>, user: &UserCell, spec: &CommandSpec, args: &[Bytes]) -> CmdResult<()> {
    let Err(denied) = user.rules().check(spec, args) else { return Ok(()) };
    let context = if super::from_script() {
        Context::Lua
    } else if super::nested() {
        Context::Multi
    } else {
        Context::Toplevel
    };
    let (reason, object): (Reason, &[u8]) = match denied {
        Denied::Command => (Reason::Command, spec.name.as_bytes()),
        Denied::Key(i) => (Reason::Key, &args[i]),
        Denied::Channel(i) => (Reason::Channel, &args[i]),
    };
    ctx.shared.acl.log_denied(reason, context, object, &user.name, || {
        ctx.session.handle.info_line(args.iter().map(|a| a.len()).sum())
    });
    let text = denial_text(denied, user, spec, args, false);
    Err(match context {
        Context::Toplevel => CmdError::Raw(format!("NOPERM {text}")),
        Context::Lua => CmdError::err(format!("ACL failure in script: {text}")),
        Context::Multi => {
            let why = match denied {
                Denied::Command => "no permission to execute the command or subcommand",
                Denied::Key(_) => "no permission to touch the specified keys",
                Denied::Channel(_) => "no permission to access one of the channels used as arguments",
            };
            CmdError::Raw(format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {why}"
            ))
        }
    })
}

/// A failed AUTH / HELLO AUTH: counted and logged (reason `auth`, object the command name).
pub(crate) fn log_failed_auth(ctx: &Ctx<'_>, args: &[Bytes], username: &[u8]) {
    let context = if ctx.session.multi.is_some() || super::nested() { Context::Multi } else { Context::Toplevel };
    ctx.shared.acl.log_denied(Reason::Auth, context, &args[0], username, || {
        ctx.session.handle.info_line(args.iter().map(|a| a.len()).sum())
    });
}

/// Closes the connections authenticated as `user` (deleted): the caller's own after its reply.
fn disconnect_users(ctx: &mut Ctx<'_>, users: &[Arc<UserCell>]) {
    let me = ctx.session.id();
    for c in ctx.shared.clients.snapshot() {
        if users.iter().any(|u| c.is_user(u)) {
            if c.id == me {
                ctx.session.close_after_reply = true;
                ctx.session.authenticated = false;
                ctx.session.set_user(None);
            } else {
                c.kill();
            }
        }
    }
}

/// Redis 7's `ACLKillPubsubClientsIfNeeded`: subscribers of `cell` whose channels the new
/// rules no longer allow are disconnected.
fn disconnect_revoked_subscribers(ctx: &mut Ctx<'_>, cell: &Arc<UserCell>, before: &User) {
    let now = cell.rules().clone();
    let (old_all, old_channels) = (before.root.channels_text() == "&*", before.root.channels_text());
    if now.root.channels_text() == "&*" {
        return;
    }
    if !old_all {
        let new_list = now.root.channels_text();
        let new: Vec<&str> = new_list.split(' ').collect();
        if old_channels.split(' ').filter(|c| !c.is_empty()).all(|c| new.contains(&c)) {
            return;
        }
    }
    let me = ctx.session.id();
    for c in ctx.shared.clients.snapshot() {
        let is_mine = c.is_user(cell) || (Arc::ptr_eq(cell, ctx.shared.acl.default_user()) && c.user.lock().is_none());
        if !is_mine || !c.pubsub.active() {
            continue;
        }
        let revoked = [(Kind::Pattern, true), (Kind::Channel, false), (Kind::Shard, false)]
            .iter()
            .any(|&(kind, pattern)| c.pubsub.subscriptions(kind).iter().any(|ch| !now.root.check_channel(ch, pattern)));
        if revoked {
            if c.id == me {
                ctx.session.close_after_reply = true;
            } else {
                c.kill();
            }
        }
    }
}

fn acl_setuser(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let name = &args[2];
    if rules::has_spaces(name) {
        return Err(CmdError::err("Usernames can't contain spaces or null characters"));
    }
    let (cell, before) = ctx.shared.acl.set_user(name, &args[3..]).map_err(CmdError::Err)?;
    if let Some(before) = before {
        disconnect_revoked_subscribers(ctx, &cell, &before);
    }
    Ok(Reply::Ok)
}

fn acl_deluser(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args[2..].iter().any(|n| n.as_ref() == b"default") {
        return Err(CmdError::err("The 'default' user cannot be removed"));
    }
    let deleted: Vec<Arc<UserCell>> = args[2..].iter().filter_map(|n| ctx.shared.acl.delete(n)).collect();
    disconnect_users(ctx, &deleted);
    Ok(Reply::Int(deleted.len() as i64))
}

fn bulk(s: impl Into<Vec<u8>>) -> Reply {
    Reply::bulk(Bytes::from(s.into()))
}

fn acl_getuser(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let Some(cell) = ctx.shared.acl.get(&args[2]) else { return Ok(Reply::Null) };
    let u = cell.rules();
    Ok(Reply::Map(vec![
        (bulk("flags"), Reply::Set(u.flag_names().into_iter().map(bulk).collect())),
        (bulk("passwords"), Reply::Array(u.passwords.iter().map(|p| bulk(p.as_bytes())).collect())),
        (bulk("commands"), bulk(u.root.command_rules())),
        (bulk("keys"), bulk(u.root.keys_text())),
        (bulk("channels"), bulk(u.root.channels_text())),
        (bulk("selectors"), Reply::Array(Vec::new())),
    ]))
}

fn acl_users(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Array(ctx.shared.acl.users().iter().map(|c| Reply::Bulk(c.name.clone())).collect()))
}

fn acl_list(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Array(ctx.shared.acl.list().into_iter().map(bulk).collect()))
}

fn acl_whoami(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Bulk(current_user(ctx).name.clone()))
}

fn acl_cat(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    use super::Acl;
    match args.get(2) {
        None => Ok(Reply::Array(Acl::NAMES.iter().map(|(_, n)| bulk(*n)).collect())),
        Some(name) => {
            let cat = Acl::NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name)).map(|(c, _)| *c);
            let Some(cat) = cat else {
                return Err(CmdError::err(format!("Unknown category '{}'", super::truncate_lossy(name, 128))));
            };
            if args.len() > 3 {
                return Err(CmdError::WrongArity("acl|cat".into()));
            }
            Ok(Reply::Array(rules::every_command().filter(|c| c.acl.contains(cat)).map(|c| bulk(c.name)).collect()))
        }
    }
}

fn acl_genpass(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    use rand::Rng;
    let bits = match args.len() {
        2 => 256,
        3 => int(&args[2])?,
        _ => return Err(CmdError::WrongArity("acl|genpass".into())),
    };
    if !(1..=4096).contains(&bits) {
        return Err(CmdError::err(
            "ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        ));
    }
    let chars = ((bits + 3) / 4) as usize;
    // ThreadRng: a CSPRNG seeded from the OS.
    let mut rng = rand::rng();
    let s: String = (0..chars).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect();
    Ok(bulk(s))
}

fn acl_log(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let count = match args.len() {
        2 => 10,
        3 if is(&args[2], "RESET") => {
            ctx.shared.acl.log_reset();
            return Ok(Reply::Ok);
        }
        3 => int(&args[2])?.max(0) as usize,
        _ => return Err(CmdError::WrongArity("acl|log".into())),
    };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let entries = ctx.shared.acl.log_entries(count);
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                Reply::Map(vec![
                    (bulk("count"), Reply::Int(e.count as i64)),
                    (bulk("reason"), bulk(e.reason.as_str())),
                    (bulk("context"), bulk(e.context.as_str())),
                    (bulk("object"), Reply::Bulk(e.object)),
                    (bulk("username"), Reply::Bulk(e.username)),
                    (bulk("age-seconds"), Reply::Double(now.saturating_sub(e.updated_ms) as f64 / 1000.0)),
                    (bulk("client-info"), bulk(e.client_info)),
                    (bulk("entry-id"), Reply::Int(e.entry_id as i64)),
                    (bulk("timestamp-created"), Reply::Int(e.created_ms as i64)),
                    (bulk("timestamp-last-updated"), Reply::Int(e.updated_ms as i64)),
                ])
            })
            .collect(),
    ))
}

fn acl_dryrun(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let Some(cell) = ctx.shared.acl.get(&args[2]) else {
        return Err(CmdError::err(format!("User '{}' not found", String::from_utf8_lossy(&args[2]))));
    };
    let target = &args[3..];
    let spec = super::lookup(&target[0])
        .and_then(|s| super::resolve(s, target).ok())
        .ok_or_else(|| CmdError::err(format!("Command '{}' not found", String::from_utf8_lossy(&target[0]))))?;
    if !spec.arity_ok(target.len()) {
        return Err(CmdError::WrongArity(spec.name.to_string()));
    }
    let checked = cell.rules().check(spec, target);
    match checked {
        Ok(()) => Ok(Reply::Ok),
        Err(d) => Ok(bulk(denial_text(d, &cell, spec, target, true))),
    }
}

fn no_file() -> CmdError {
    CmdError::err("This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
}

fn acl_load(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    if ctx.shared.acl.file.is_empty() {
        return Err(no_file());
    }
    let old = ctx.shared.acl.load_file().map_err(CmdError::Err)?;
    disconnect_users(ctx, &old);
    Ok(Reply::Ok)
}

fn acl_save(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    if ctx.shared.acl.file.is_empty() {
        return Err(no_file());
    }
    ctx.shared.acl.save_file().map_err(|e| {
        tracing::warn!(error = %e, file = %ctx.shared.acl.file, "ACL SAVE failed");
        CmdError::err("There was an error trying to save the ACLs. Please check the server logs for more information")
    })?;
    Ok(Reply::Ok)
}

fn acl_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Print this help.",
    ]))
}
