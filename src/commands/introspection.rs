//! COMMAND and its subcommands, generated from the command table.

use super::parse::is;
use super::{all, lookup, resolve, Acl, CommandSpec, Ctx, Flags};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: COMMAND_SUBCOMMANDS,
    handler: command_all,
    ..cmd!(
        "command",
        -1,
        flags!(LOADING, STALE),
        0,
        0,
        0,
        acl!(SLOW, CONNECTION),
        command_all,
        "server",
        "2.8.13",
        "Returns detailed information about all commands.",
        "O(N) where N is the total number of Redis commands"
    )
}];

#[rustfmt::skip]
static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("command|count", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), command_count,
        "server", "2.8.13", "Returns a count of commands.", "O(1)"),
    cmd!("command|info", -2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), command_info,
        "server", "2.8.13", "Returns information about one, multiple or all commands.", "O(N) where N is the number of commands to look up"),
    cmd!("command|docs", -2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), command_docs,
        "server", "7.0.0", "Returns documentary information about one, multiple or all commands.", "O(N) where N is the number of commands to look up"),
    cmd!("command|list", -2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), command_list,
        "server", "7.0.0", "Returns a list of command names.", "O(N) where N is the total number of Redis commands"),
    cmd!("command|getkeys", -3, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), command_getkeys,
        "server", "2.8.13", "Extracts the key names from an arbitrary command.", "O(N) where N is the number of arguments to the command"),
    cmd!("command|help", 2, flags!(LOADING, STALE), 0, 0, 0, acl!(SLOW, CONNECTION), command_help,
        "server", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
];

/// The handler of a container command (CONFIG, CLIENT, OBJECT): dispatch happens in
/// `commands::resolve`, so this only runs when a table is miswired.
pub fn container(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    Err(CmdError::WrongArity(String::from_utf8_lossy(&args[0]).to_ascii_lowercase()))
}

/// `help` replies of container commands: the lines as simple strings.
pub fn help_reply(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Simple(l)).collect())
}

fn flag_set(c: &CommandSpec) -> Reply {
    Reply::Set(Flags::NAMES.iter().filter(|(f, _)| c.flags.contains(*f)).map(|(_, n)| Reply::Simple(n)).collect())
}

fn acl_set(c: &CommandSpec) -> Reply {
    let mut cats = Vec::new();
    for (a, n) in Acl::NAMES {
        if c.acl.contains(a) {
            cats.push(Reply::SimpleOwned(format!("@{n}")));
        }
    }
    Reply::Set(cats)
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn key_specs(c: &CommandSpec) -> Reply {
    if c.first_key <= 0 {
        return Reply::Array(Vec::new());
    }
    let access = if c.flags.contains(Flags::WRITE) { "RW" } else { "RO" };
    let last = if c.last_key < 0 { i64::from(c.last_key) } else { i64::from(c.last_key - c.first_key) };
    Reply::Array(vec![Reply::Map(vec![
        (bulk("flags"), Reply::Set(vec![Reply::Simple(access)])),
        (
            bulk("begin_search"),
            Reply::Map(vec![
                (bulk("type"), bulk("index")),
                (bulk("spec"), Reply::Map(vec![(bulk("index"), Reply::Int(i64::from(c.first_key)))])),
            ]),
        ),
        (
            bulk("find_keys"),
            Reply::Map(vec![
                (bulk("type"), bulk("range")),
                (
                    bulk("spec"),
                    Reply::Map(vec![
                        (bulk("lastkey"), Reply::Int(last)),
                        (bulk("keystep"), Reply::Int(i64::from(c.step))),
                        (bulk("limit"), Reply::Int(0)),
                    ]),
                ),
            ]),
        ),
    ])])
}

fn info(c: &CommandSpec) -> Reply {
    Reply::Array(vec![
        bulk(c.name),
        Reply::Int(i64::from(c.arity)),
        flag_set(c),
        Reply::Int(i64::from(c.first_key)),
        Reply::Int(i64::from(c.last_key)),
        Reply::Int(i64::from(c.step)),
        acl_set(c),
        Reply::Array(Vec::new()),
        key_specs(c),
        Reply::Array(c.subcommands.iter().map(info).collect()),
    ])
}

fn docs(c: &CommandSpec) -> Reply {
    let mut m = vec![
        (bulk("summary"), bulk(c.summary)),
        (bulk("since"), bulk(c.since)),
        (bulk("group"), bulk(c.group)),
        (bulk("complexity"), bulk(c.complexity)),
    ];
    if !c.subcommands.is_empty() {
        m.push((bulk("subcommands"), Reply::Map(c.subcommands.iter().map(|s| (bulk(s.name), docs(s))).collect())));
    }
    Reply::Map(m)
}

fn command_all(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Array(all().iter().map(|c| info(c)).collect()))
}

fn command_count(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(Reply::Int(all().len() as i64))
}

/// A command or `parent|sub` name from the table.
fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    let s = String::from_utf8_lossy(name).to_ascii_lowercase();
    match s.split_once('|') {
        Some((parent, _)) => lookup(parent.as_bytes())?.subcommands.iter().find(|c| c.name == s),
        None => lookup(name),
    }
}

fn command_info(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    if args.len() == 2 {
        return Ok(Reply::Array(all().iter().map(|c| info(c)).collect()));
    }
    Ok(Reply::Array(args[2..].iter().map(|n| find(n).map(info).unwrap_or(Reply::NullArray)).collect()))
}

fn command_docs(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let chosen: Vec<&CommandSpec> =
        if args.len() == 2 { all().to_vec() } else { args[2..].iter().filter_map(|n| find(n)).collect() };
    Ok(Reply::Map(chosen.into_iter().map(|c| (bulk(c.name), docs(c))).collect()))
}

fn command_list(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let names = all().iter().flat_map(|c| std::iter::once(*c).chain(c.subcommands.iter()));
    let filtered: Vec<Reply> = match args.len() {
        2 => names.map(|c| bulk(c.name)).collect(),
        5 if is(&args[2], "FILTERBY") => {
            let (kind, v) = (&args[3], &args[4]);
            if is(kind, "PATTERN") {
                names.filter(|c| crate::glob::glob_match(v, c.name.as_bytes(), true)).map(|c| bulk(c.name)).collect()
            } else if is(kind, "ACLCAT") {
                let cat = Acl::NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(v)).map(|(a, _)| *a);
                match cat {
                    Some(a) => names.filter(|c| c.acl.contains(a)).map(|c| bulk(c.name)).collect(),
                    None => Vec::new(),
                }
            } else if is(kind, "MODULE") {
                Vec::new()
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    Ok(Reply::Array(filtered))
}

fn command_getkeys(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let target = &args[2..];
    let spec = lookup(&target[0]).ok_or_else(|| CmdError::err("Invalid command specified"))?;
    let spec = resolve(spec, target).map_err(|_| CmdError::err("Invalid command specified"))?;
    if !spec.arity_ok(target.len()) {
        return Err(CmdError::err("Invalid number of arguments specified for command"));
    }
    let keys = if spec.flags.contains(Flags::MOVABLEKEYS) {
        movable_keys(spec.name, target).ok_or_else(|| CmdError::err("Invalid arguments specified for command"))?
    } else {
        spec.keys(target)
    };
    if keys.is_empty() {
        return Err(CmdError::err("The command has no key arguments"));
    }
    Ok(Reply::Array(keys.into_iter().map(|k| Reply::Bulk(k.clone())).collect()))
}

/// The key arguments of a call: from the table's key positions, or parsed for movable keys.
pub(crate) fn command_keys<'a>(spec: &CommandSpec, args: &'a [Bytes]) -> Vec<&'a Bytes> {
    if spec.flags.contains(Flags::MOVABLEKEYS) {
        movable_keys(spec.name, args).unwrap_or_default()
    } else {
        spec.keys(args)
    }
}

/// The keys of a command whose keys move (Redis's `*GetKeys` functions): after a `numkeys`
/// argument, plus SORT's STORE destination and the *STORE commands' destination.
pub(crate) fn movable_keys<'a>(name: &str, args: &'a [Bytes]) -> Option<Vec<&'a Bytes>> {
    let counted = |numkeys_at: usize| -> Option<Vec<&'a Bytes>> {
        let n = usize::try_from(crate::numeric::parse_i64_strict(args.get(numkeys_at)?)?).ok()?;
        let keys = args.get(numkeys_at + 1..numkeys_at + 1 + n)?;
        (n > 0).then(|| keys.iter().collect())
    };
    match name {
        "sort" | "sort_ro" => {
            let mut keys = vec![args.get(1)?];
            let mut i = 2;
            while i < args.len() {
                let a = &args[i];
                if a.eq_ignore_ascii_case(b"limit") {
                    i += 2;
                } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
                    i += 1;
                } else if a.eq_ignore_ascii_case(b"store") && name == "sort" {
                    if let Some(dst) = args.get(i + 1) {
                        keys.push(dst);
                    }
                    i += 1;
                }
                i += 1;
            }
            Some(keys)
        }
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => {
            let n = usize::try_from(crate::numeric::parse_i64_strict(args.get(2)?)?).ok()?;
            Some(args.get(3..3 + n)?.iter().collect())
        }
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            let mut keys = vec![args.get(1)?];
            keys.extend(counted(2)?);
            Some(keys)
        }
        "blmpop" | "bzmpop" => counted(2),
        "georadius" | "georadiusbymember" => {
            let mut keys = vec![args.get(1)?];
            keys.extend(super::geo::radius_store_keys(name, args));
            Some(keys)
        }
        "xread" | "xreadgroup" => {
            let at = args.iter().position(|a| a.eq_ignore_ascii_case(b"streams"))? + 1;
            let rest = args.get(at..)?;
            (!rest.is_empty() && rest.len() % 2 == 0).then(|| rest[..rest.len() / 2].iter().collect())
        }
        _ => counted(1),
    }
}

fn command_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult<Reply> {
    Ok(help_reply(&[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "HELP",
        "    Print this help.",
    ]))
}
