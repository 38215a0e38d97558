//! The shape of one command-table entry, with the flags and ACL categories Redis reports.

use super::Ctx;
use crate::error::CmdResult;
use crate::reply::Reply;
use bytes::Bytes;

pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> CmdResult<Reply>;

bitflags::bitflags! {
    /// Command flags, named as COMMAND INFO reports them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Flags: u32 {
        const WRITE = 1;
        const READONLY = 1 << 1;
        const DENYOOM = 1 << 2;
        const ADMIN = 1 << 3;
        const PUBSUB = 1 << 4;
        const NOSCRIPT = 1 << 5;
        const BLOCKING = 1 << 6;
        const LOADING = 1 << 7;
        const STALE = 1 << 8;
        const SKIP_MONITOR = 1 << 9;
        const SKIP_SLOWLOG = 1 << 10;
        const FAST = 1 << 11;
        const NO_AUTH = 1 << 12;
        const MAY_REPLICATE = 1 << 13;
        const NO_MULTI = 1 << 14;
        const ALLOW_BUSY = 1 << 15;
        /// Keys are not (all) at fixed positions: COMMAND GETKEYS parses them.
        const MOVABLEKEYS = 1 << 16;
        /// Refused while a replica loads a data set asynchronously (Redis's flag; reported).
        const NO_ASYNC_LOADING = 1 << 17;
    }
}

impl Flags {
    pub const NAMES: [(Flags, &'static str); 18] = [
        (Flags::WRITE, "write"),
        (Flags::READONLY, "readonly"),
        (Flags::DENYOOM, "denyoom"),
        (Flags::ADMIN, "admin"),
        (Flags::PUBSUB, "pubsub"),
        (Flags::NOSCRIPT, "noscript"),
        (Flags::BLOCKING, "blocking"),
        (Flags::LOADING, "loading"),
        (Flags::STALE, "stale"),
        (Flags::SKIP_MONITOR, "skip_monitor"),
        (Flags::SKIP_SLOWLOG, "skip_slowlog"),
        (Flags::FAST, "fast"),
        (Flags::NO_AUTH, "no_auth"),
        (Flags::MAY_REPLICATE, "may_replicate"),
        (Flags::NO_ASYNC_LOADING, "no_async_loading"),
        (Flags::NO_MULTI, "no_multi"),
        (Flags::ALLOW_BUSY, "allow_busy"),
        (Flags::MOVABLEKEYS, "movablekeys"),
    ];
}

bitflags::bitflags! {
    /// ACL categories (`@keyspace`, `@read`, …).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Acl: u32 {
        const KEYSPACE = 1;
        const READ = 1 << 1;
        const WRITE = 1 << 2;
        const SET = 1 << 3;
        const SORTEDSET = 1 << 4;
        const LIST = 1 << 5;
        const HASH = 1 << 6;
        const STRING = 1 << 7;
        const BITMAP = 1 << 8;
        const HYPERLOGLOG = 1 << 9;
        const GEO = 1 << 10;
        const STREAM = 1 << 11;
        const PUBSUB = 1 << 12;
        const ADMIN = 1 << 13;
        const FAST = 1 << 14;
        const SLOW = 1 << 15;
        const BLOCKING = 1 << 16;
        const DANGEROUS = 1 << 17;
        const CONNECTION = 1 << 18;
        const TRANSACTION = 1 << 19;
        const SCRIPTING = 1 << 20;
    }
}

impl Acl {
    pub const NAMES: [(Acl, &'static str); 21] = [
        (Acl::KEYSPACE, "keyspace"),
        (Acl::READ, "read"),
        (Acl::WRITE, "write"),
        (Acl::SET, "set"),
        (Acl::SORTEDSET, "sortedset"),
        (Acl::LIST, "list"),
        (Acl::HASH, "hash"),
        (Acl::STRING, "string"),
        (Acl::BITMAP, "bitmap"),
        (Acl::HYPERLOGLOG, "hyperloglog"),
        (Acl::GEO, "geo"),
        (Acl::STREAM, "stream"),
        (Acl::PUBSUB, "pubsub"),
        (Acl::ADMIN, "admin"),
        (Acl::FAST, "fast"),
        (Acl::SLOW, "slow"),
        (Acl::BLOCKING, "blocking"),
        (Acl::DANGEROUS, "dangerous"),
        (Acl::CONNECTION, "connection"),
        (Acl::TRANSACTION, "transaction"),
        (Acl::SCRIPTING, "scripting"),
    ];
}

/// One entry of the static command table.
pub struct CommandSpec {
    /// Lower-case name; `parent|sub` for subcommands.
    pub name: &'static str,
    /// Redis arity: N = exactly N arguments (with the name), -N = at least N.
    pub arity: i32,
    pub flags: Flags,
    pub first_key: i32,
    /// -1 = the last argument.
    pub last_key: i32,
    pub step: i32,
    pub acl: Acl,
    pub handler: Handler,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = i64::from(self.arity);
        if a > 0 {
            argc == a
        } else {
            argc >= -a
        }
    }

    /// The name Redis uses in errors (`config|get`).
    pub fn full_name(&self) -> String {
        self.name.to_string()
    }

    /// The subcommand part of `parent|sub`.
    pub fn sub_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    /// The key arguments of a call, from the key positions.
    pub fn keys<'a>(&self, args: &'a [Bytes]) -> Vec<&'a Bytes> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last =
            if self.last_key < 0 { args.len() as i64 + i64::from(self.last_key) } else { i64::from(self.last_key) };
        let mut out = Vec::new();
        let mut i = i64::from(self.first_key);
        while i <= last && (i as usize) < args.len() {
            out.push(&args[i as usize]);
            i += i64::from(self.step.max(1));
        }
        out
    }
}

/// Builds a table entry tersely: `cmd!(name, arity, flags, first, last, step, acl, handler, group, since, summary, complexity)`.
#[macro_export]
macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $acl:expr, $handler:expr,
     $group:literal, $since:literal, $summary:literal, $complexity:literal) => {
        $crate::commands::CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            acl: $acl,
            handler: $handler,
            group: $group,
            since: $since,
            summary: $summary,
            complexity: $complexity,
            subcommands: &[],
        }
    };
}

/// `flags!(WRITE, DENYOOM)`: a const union of command flags.
#[macro_export]
macro_rules! flags {
    () => { $crate::commands::Flags::empty() };
    ($($f:ident),+) => {
        $crate::commands::Flags::from_bits_retain(0 $(| $crate::commands::Flags::$f.bits())+)
    };
}

/// `acl!(KEYSPACE, READ, FAST)`: a const union of ACL categories.
#[macro_export]
macro_rules! acl {
    ($($f:ident),+) => {
        $crate::commands::Acl::from_bits_retain(0 $(| $crate::commands::Acl::$f.bits())+)
    };
}
