//! One ACL user's rules as Redis 7.2's `acl.c` keeps them: flags, SHA-256 password hashes and
//! the root selector (allowed-command bitmap indexed by command id, first-args, key and channel
//! patterns, and the command rules in the order given, which is how they are shown back).
//! Parsing (`ACLSetUser`), describing (`ACLDescribeUser`) and checking a call against them.

use crate::commands::{all, lookup, CommandSpec, Flags};
use crate::glob::glob_match;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Key pattern permissions (`%R~`, `%W~`, `~` = both).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;

/// Every command and subcommand with its id (the index of its bit in a bitmap).
struct CommandIds {
    specs: Vec<&'static CommandSpec>,
    /// The parent's id of each entry (its own for a top-level command).
    parent: Vec<usize>,
    by_name: HashMap<&'static str, usize>,
}

fn ids() -> &'static CommandIds {
    static IDS: OnceLock<CommandIds> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut t = CommandIds { specs: Vec::new(), parent: Vec::new(), by_name: HashMap::new() };
        for c in all() {
            let id = t.specs.len();
            t.by_name.insert(c.name, id);
            t.specs.push(c);
            t.parent.push(id);
            for s in c.subcommands {
                t.by_name.insert(s.name, t.specs.len());
                t.specs.push(s);
                t.parent.push(id);
            }
        }
        t
    })
}

/// The id of a command of the table (its bit in a user's bitmap).
pub fn command_id(spec: &CommandSpec) -> usize {
    ids().by_name.get(spec.name).copied().unwrap_or(usize::MAX)
}

/// Every command and subcommand of the table, in table order (ACL CAT).
pub fn every_command() -> impl Iterator<Item = &'static CommandSpec> {
    ids().specs.iter().copied()
}

fn words() -> usize {
    ids().specs.len().div_ceil(64)
}

/// Why `User::set` refused an operation (Redis's errno values, `ACLSetUserStringError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT
    UnknownCommand,
    /// EINVAL
    Syntax,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSub,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Why a call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    Command,
    /// The argument index of the key.
    Key(usize),
    /// The argument index of the channel.
    Channel(usize),
}

/// A user's permissions (Redis's root selector; further selectors are not supported).
#[derive(Clone, Debug)]
pub struct Selector {
    allkeys: bool,
    allchannels: bool,
    allcommands: bool,
    /// Set by `+@all`/`allcommands` only: the rules start from `+@all` (future commands).
    all_base: bool,
    bits: Vec<u64>,
    /// Allowed first arguments of otherwise refused commands (`+select|0`), by command id.
    firstargs: HashMap<usize, Vec<Vec<u8>>>,
    patterns: Vec<(u8, Vec<u8>)>,
    channels: Vec<Vec<u8>>,
    /// The command rules in the order given (Redis 7.2's `command_rules`).
    rules: Vec<String>,
}

impl Selector {
    fn new(allchannels: bool) -> Selector {
        Selector {
            allkeys: false,
            allchannels,
            allcommands: false,
            all_base: false,
            bits: vec![0; words()],
            firstargs: HashMap::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
            rules: Vec::new(),
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.bits.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
                self.allcommands = false;
            }
        }
    }

    /// `ACLChangeSelectorPerm`: a command and all its subcommands.
    fn change(&mut self, id: usize, on: bool) {
        self.set_bit(id, on);
        self.firstargs.remove(&id);
        let t = ids();
        if t.parent[id] == id {
            for sub in (id + 1..t.specs.len()).take_while(|&s| t.parent[s] == id) {
                self.set_bit(sub, on);
            }
        }
    }

    /// `ACLUpdateCommandRules`: drops the older spelling of `rule` (and its subcommand rules),
    /// then appends it.
    fn update_rules(&mut self, rule: &str, allow: bool) {
        let rule = rule.to_ascii_lowercase();
        self.rules.retain(|r| {
            let body = &r[1..];
            !(body == rule
                || (body.len() > rule.len() && body.starts_with(&rule) && body.as_bytes()[rule.len()] == b'|'))
        });
        self.rules.push(format!("{}{rule}", if allow { '+' } else { '-' }));
    }

    /// `ACLSetSelector`.
    fn set(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.allkeys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.patterns.clear();
        } else if is("allchannels") || op == b"&*" {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.bits.iter_mut().for_each(|w| *w = u64::MAX);
            self.allcommands = true;
            self.all_base = true;
            self.rules.clear();
            self.firstargs.clear();
        } else if is("nocommands") || is("-@all") {
            self.bits.iter_mut().for_each(|w| *w = 0);
            self.allcommands = false;
            self.all_base = false;
            self.rules.clear();
            self.firstargs.clear();
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::KeyAfterAll);
            }
            let mut flags = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                loop {
                    let Some(&c) = op.get(offset) else { return Err(RuleError::Syntax) };
                    offset += 1;
                    match c.to_ascii_uppercase() {
                        b'R' if flags & READ == 0 => flags |= READ,
                        b'W' if flags & WRITE == 0 => flags |= WRITE,
                        b'~' if flags != 0 => break,
                        _ => return Err(RuleError::Syntax),
                    }
                }
            } else {
                flags = READ | WRITE;
            }
            let pat = &op[offset..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|(_, p)| p == pat) {
                Some((f, _)) => *f |= flags,
                None => self.patterns.push((flags, pat.to_vec())),
            }
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let allow = op[0] == b'+';
            let name = std::str::from_utf8(&op[2..]).map_err(|_| RuleError::UnknownCommand)?;
            let cat = crate::commands::Acl::NAMES
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
                .map(|(c, _)| *c)
                .ok_or(RuleError::UnknownCommand)?;
            let t = ids();
            for id in 0..t.specs.len() {
                if t.specs[id].acl.contains(cat) {
                    self.change(id, allow);
                }
            }
            self.update_rules(&format!("@{}", name.to_ascii_lowercase()), allow);
        } else if op[0] == b'+' || op[0] == b'-' {
            let allow = op[0] == b'+';
            let name = std::str::from_utf8(&op[1..]).map_err(|_| RuleError::UnknownCommand)?;
            match name.rsplit_once('|') {
                Some((cmd, sub)) if allow => {
                    let spec = find(cmd).ok_or(RuleError::UnknownCommand)?;
                    if spec.name.contains('|') {
                        return Err(RuleError::FirstArgOfSub);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if spec.subcommands.is_empty() {
                        let id = command_id(spec);
                        let list = self.firstargs.entry(id).or_default();
                        if !list.iter().any(|a| a.eq_ignore_ascii_case(sub.as_bytes())) {
                            list.push(sub.as_bytes().to_vec());
                        }
                    } else {
                        let spec = find(name).ok_or(RuleError::UnknownCommand)?;
                        self.change(command_id(spec), true);
                    }
                    self.update_rules(name, true);
                }
                _ => {
                    let spec = find(name).ok_or(RuleError::UnknownCommand)?;
                    self.change(command_id(spec), allow);
                    self.update_rules(spec.name, allow);
                }
            }
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `ACLDescribeSelector`: keys, channels, then command rules.
    fn describe(&self, out: &mut String) {
        if self.allkeys {
            out.push_str("~* ");
        } else {
            for (f, p) in &self.patterns {
                push_pattern(out, *f, p);
                out.push(' ');
            }
        }
        if self.allchannels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push('&');
                out.push_str(&String::from_utf8_lossy(c));
                out.push(' ');
            }
        }
        out.push_str(&self.command_rules());
    }

    /// `ACLDescribeSelectorCommandRules`.
    pub fn command_rules(&self) -> String {
        let mut s = String::from(if self.all_base { "+@all" } else { "-@all" });
        for r in &self.rules {
            s.push(' ');
            s.push_str(r);
        }
        s
    }

    pub fn keys_text(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        let mut out = String::new();
        for (i, (f, p)) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            push_pattern(&mut out, *f, p);
        }
        out
    }

    pub fn channels_text(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        self.channels.iter().map(|c| format!("&{}", String::from_utf8_lossy(c))).collect::<Vec<_>>().join(" ")
    }

    fn check_key(&self, key: &[u8], need: u8) -> bool {
        self.allkeys || self.patterns.iter().any(|(f, p)| f & need == need && glob_match(p, key, false))
    }

    /// Whether a channel (or, `pattern`, a PSUBSCRIBE pattern, matched literally) is allowed.
    pub fn check_channel(&self, channel: &[u8], pattern: bool) -> bool {
        self.allchannels
            || self.channels.iter().any(|p| if pattern { p == channel } else { glob_match(p, channel, false) })
    }

    /// `ACLSelectorCheckCmd`.
    fn check(&self, spec: &CommandSpec, args: &[Bytes]) -> Result<(), Denied> {
        if !self.allcommands && !spec.flags.contains(Flags::NO_AUTH) {
            let id = command_id(spec);
            if !self.bit(id) {
                let idx = if spec.name.contains('|') { 2 } else { 1 };
                let ok = self
                    .firstargs
                    .get(&id)
                    .is_some_and(|l| args.get(idx).is_some_and(|a| l.iter().any(|f| f.eq_ignore_ascii_case(a))));
                if !ok {
                    return Err(Denied::Command);
                }
            }
        }
        if !self.allkeys
            && !spec.flags.contains(Flags::PUBSUB)
            && (spec.first_key > 0 || spec.flags.contains(Flags::MOVABLEKEYS))
        {
            let keys = crate::commands::introspection::command_keys(spec, args);
            let n = keys.len();
            for (i, k) in keys.into_iter().enumerate() {
                if !self.check_key(k, key_access(spec, i, n)) {
                    let pos = args.iter().position(|a| std::ptr::eq(a, k)).unwrap_or(0);
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.allchannels {
            if let Some((from, pattern)) = channel_args(spec) {
                let until = if matches!(spec.name, "publish" | "spublish") { 2 } else { args.len() };
                for (i, c) in args.iter().enumerate().take(until).skip(from) {
                    if !self.check_channel(c, pattern) {
                        return Err(Denied::Channel(i));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where a command's channels are: (first argument index, matched as patterns).
fn channel_args(spec: &CommandSpec) -> Option<(usize, bool)> {
    match spec.name {
        "publish" | "spublish" | "subscribe" | "ssubscribe" => Some((1, false)),
        "psubscribe" => Some((1, true)),
        _ => None,
    }
}

/// The permissions a key needs: reads read; writes write, and read too where Redis's key
/// spec says the command also returns what the key held (`ACCESS`); the `*STORE` family and
/// COPY read their sources and write their destination.
fn key_access(spec: &CommandSpec, index: usize, n: usize) -> u8 {
    if !spec.flags.contains(Flags::WRITE) {
        return READ;
    }
    match spec.name {
        "sunionstore" | "sinterstore" | "sdiffstore" | "zunionstore" | "zinterstore" | "zdiffstore" | "zrangestore" => {
            if index == 0 {
                WRITE
            } else {
                READ
            }
        }
        "copy" | "sort" => {
            if index == 0 && n > 1 {
                READ
            } else if index == 0 {
                READ | WRITE
            } else {
                WRITE
            }
        }
        "lmove" | "blmove" | "rpoplpush" | "brpoplpush" | "smove" => {
            if index == 0 {
                READ | WRITE
            } else {
                WRITE
            }
        }
        "incr" | "decr" | "incrby" | "decrby" | "incrbyfloat" | "getset" | "getdel" | "getex" | "lpop" | "rpop"
        | "blpop" | "brpop" | "lmpop" | "blmpop" | "spop" | "zpopmin" | "zpopmax" | "bzpopmin" | "bzpopmax"
        | "zmpop" | "bzmpop" | "hincrby" | "hincrbyfloat" | "zincrby" | "xreadgroup" | "xclaim" | "xautoclaim" => {
            READ | WRITE
        }
        _ => WRITE,
    }
}

fn push_pattern(out: &mut String, flags: u8, p: &[u8]) {
    out.push_str(match flags {
        READ => "%R~",
        WRITE => "%W~",
        _ => "~",
    });
    out.push_str(&String::from_utf8_lossy(p));
}

/// A command or `parent|sub` of the table, case-insensitively.
fn find(name: &str) -> Option<&'static CommandSpec> {
    let lower = name.to_ascii_lowercase();
    match lower.split_once('|') {
        Some((parent, _)) => lookup(parent.as_bytes())?.subcommands.iter().find(|c| c.name == lower),
        None => lookup(lower.as_bytes()),
    }
}

/// Redis's `ACLStringHasSpaces`.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c == 0 || c.is_ascii_whitespace() || c == 0x0b)
}

/// SHA-256 of a password, in lowercase hex (`ACLHashPassword`).
pub fn hash_password(p: &[u8]) -> String {
    let d = Sha256::digest(p);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    s
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// One user's rules.
#[derive(Clone, Debug)]
pub struct User {
    pub enabled: bool,
    pub nopass: bool,
    pub skip_sanitize: bool,
    /// SHA-256 hex of each password, in the order added.
    pub passwords: Vec<String>,
    pub root: Selector,
}

impl User {
    /// A new user: `off`, no passwords, no commands, no keys; channels as `acl-pubsub-default`.
    pub fn new(allchannels: bool) -> User {
        User {
            enabled: false,
            nopass: false,
            skip_sanitize: false,
            passwords: Vec::new(),
            root: Selector::new(allchannels),
        }
    }

    /// The `default` user as it starts: `on nopass sanitize-payload ~* &* +@all`.
    pub fn default_user() -> User {
        let mut u = User::new(true);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.set(op.as_bytes(), true);
        }
        u
    }

    /// Applies one rule (`ACLSetUser`); `allchannels` is `acl-pubsub-default` (for `reset`).
    pub fn set(&mut self, op: &[u8], allchannels: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.skip_sanitize = true;
        } else if is("sanitize-payload") {
            self.skip_sanitize = false;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            let before = self.passwords.len();
            self.passwords.retain(|p| *p != hash);
            if self.passwords.len() == before {
                return Err(RuleError::NoSuchPassword);
            }
        } else if is("clearselectors") {
            // Only the root selector exists.
        } else if is("reset") {
            *self = User::new(allchannels);
        } else {
            // Selectors `(...)` are not supported: Redis's syntax error.
            if op[0] == b'(' {
                return Err(RuleError::Syntax);
            }
            self.root.set(op)?;
        }
        Ok(())
    }

    /// `ACLDescribeUser`: the rules that rebuild this user (ACL LIST, the ACL file).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for f in self.flag_names() {
            out.push_str(f);
            out.push(' ');
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(p);
            out.push(' ');
        }
        self.root.describe(&mut out);
        out
    }

    /// GETUSER's flags, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        f.push(if self.skip_sanitize { "skip-sanitize-payload" } else { "sanitize-payload" });
        f
    }

    /// Whether the password matches (any password when `nopass`).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        // Every stored hash is compared in full (no early exit on the first byte).
        self.passwords.iter().fold(false, |ok, p| ok | constant_eq(p.as_bytes(), h.as_bytes()))
    }

    /// No restriction at all: the fast path skips checking.
    pub fn unrestricted(&self) -> bool {
        self.root.allcommands && self.root.allkeys && self.root.allchannels
    }

    pub fn check(&self, spec: &CommandSpec, args: &[Bytes]) -> Result<(), Denied> {
        self.root.check(spec, args)
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Joins a selector spread over several arguments (`(~x` `+get)`) as Redis's
/// `ACLMergeSelectorArguments`; the index of an unmatched `(` on error.
pub fn merge_selectors(ops: &[Bytes]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, op) in ops.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                if let Some((_, sel)) = open.take() {
                    out.push(sel);
                }
            }
        } else if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((i, op.to_vec()));
        } else {
            out.push(op.to_vec());
        }
    }
    match open {
        Some((i, _)) => Err(i),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_user_describes_as_redis() {
        assert_eq!(User::default_user().describe(), "on nopass sanitize-payload ~* &* +@all");
    }

    #[test]
    fn rules_keep_their_order() {
        let mut u = User::new(false);
        for op in [
            "on",
            ">pw",
            "~k*",
            "%R~r*",
            "%W~w*",
            "&ch*",
            "+get",
            "-@all",
            "+@string",
            "-incr",
            "+config|get",
            "+select|0",
        ] {
            u.set(op.as_bytes(), false).unwrap();
        }
        assert_eq!(
            u.describe(),
            format!(
                "on sanitize-payload #{} ~k* %R~r* %W~w* resetchannels &ch* -@all +@string -incr +config|get +select|0",
                hash_password(b"pw")
            )
        );
        assert_eq!(u.set(b"(~x +get)", false), Err(RuleError::Syntax));
        assert_eq!(u.set(b"+nosuch", false), Err(RuleError::UnknownCommand));
        assert_eq!(u.set(b"#abc", false), Err(RuleError::BadHash));
    }
}
