//! ACL users (Redis 6+/7): the user registry, authentication, the ACL log, the ACL file, and
//! the per-command permission check `commands::check` calls.
//!
//! A connection holds an `Arc<UserCell>` (none = `default`); the cell is shared, so ACL SETUSER
//! changes apply at once to connections already authenticated as that user, as in Redis. The
//! hot path reads one atomic flag: a user with every command, key and channel is not checked
//! further. This module does not reach into connections: it reports which users went away
//! (DELUSER, ACL LOAD) and the command layer disconnects their clients.

pub mod rules;

pub use rules::{Denied, RuleError, User};

use crate::config::Config;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// One user, shared by the registry and the connections authenticated as it.
pub struct UserCell {
    pub name: Bytes,
    /// Every command, key and channel allowed: nothing to check.
    unrestricted: AtomicBool,
    /// `on` and `nopass` (for `default`: connections need no AUTH).
    open: AtomicBool,
    rules: RwLock<User>,
}

impl UserCell {
    fn new(name: Bytes, user: User) -> Arc<UserCell> {
        let cell = UserCell {
            name,
            unrestricted: AtomicBool::new(false),
            open: AtomicBool::new(false),
            rules: RwLock::new(User::new(false)),
        };
        cell.store(user);
        Arc::new(cell)
    }

    /// No permission to check (the fast path).
    #[inline]
    pub fn unrestricted(&self) -> bool {
        self.unrestricted.load(Ordering::Relaxed)
    }

    pub fn rules(&self) -> RwLockReadGuard<'_, User> {
        self.rules.read()
    }

    fn store(&self, user: User) {
        let mut r = self.rules.write();
        self.unrestricted.store(user.unrestricted(), Ordering::Relaxed);
        self.open.store(user.enabled && user.nopass, Ordering::Relaxed);
        *r = user;
    }

    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Why an entry went to the ACL log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Auth = 0,
    Command = 1,
    Key = 2,
    Channel = 3,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Auth => "auth",
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
        }
    }
}

/// Where the refused command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// One ACL LOG entry.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    pub object: Bytes,
    pub username: Bytes,
    /// Unix ms of the last occurrence.
    pub updated_ms: u64,
    pub client_info: String,
    pub entry_id: u64,
    pub created_ms: u64,
}

/// Entries closer than this (ms) with the same reason, context, object and user are merged.
const LOG_GROUPING_MS: u64 = 60_000;

#[derive(Default)]
struct Log {
    entries: VecDeque<LogEntry>,
    next_id: u64,
}

/// Redis's text when users come from both `user` directives and an `aclfile`.
pub const BOTH_SOURCES: &str = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";

/// The user registry, the ACL log and the denial counters.
pub struct Acl {
    users: RwLock<BTreeMap<Bytes, Arc<UserCell>>>,
    default: Arc<UserCell>,
    log: Mutex<Log>,
    denied: [AtomicU64; 4],
    pubsub_all: AtomicBool,
    log_max: AtomicUsize,
    /// `aclfile` (empty: none).
    pub file: String,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Acl {
    /// The users of a configuration: `requirepass`, then the `user` directives or the
    /// `aclfile`. The error is the start-up error text (Redis's).
    pub fn from_config(cfg: &Config) -> Result<Acl, String> {
        let acl = Acl::empty(cfg);
        if !cfg.requirepass.is_empty() {
            acl.set_requirepass(&cfg.requirepass);
        }
        if !cfg.aclfile.is_empty() && !cfg.users.is_empty() {
            return Err(BOTH_SOURCES.to_owned());
        }
        let mut seen: Vec<&str> = Vec::new();
        for (origin, argv) in &cfg.users {
            let Some((name, ops)) = argv.split_first() else { continue };
            if seen.contains(&name.as_str()) {
                return Err(format!(
                    "{origin}: Error in user declaration '{name}': Duplicate user found. A user can only be defined once in config files"
                ));
            }
            seen.push(name);
            if rules::has_spaces(name.as_bytes()) {
                return Err(format!("{origin}: Spaces not allowed in ACL usernames"));
            }
            let ops: Vec<Bytes> = ops.iter().map(|o| Bytes::copy_from_slice(o.as_bytes())).collect();
            let merged = rules::merge_selectors(&ops).map_err(|i| {
                format!("{origin}: Error in user declaration '{}': Unmatched parenthesis in acl selector", argv[i + 2])
            })?;
            // `default` too starts over from `reset`, as Redis loads it.
            let mut user = User::new(acl.pubsub_all());
            for op in &merged {
                user.set(op, acl.pubsub_all()).map_err(|e| {
                    format!("{origin}: Error in user declaration '{}': {}", String::from_utf8_lossy(op), e.text())
                })?;
            }
            acl.put(Bytes::copy_from_slice(name.as_bytes()), user);
        }
        if !cfg.aclfile.is_empty() {
            acl.load_file().map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        }
        Ok(acl)
    }

    /// Only the `default` user, as it starts.
    pub fn empty(cfg: &Config) -> Acl {
        let default = UserCell::new(Bytes::from_static(b"default"), User::default_user());
        let mut users = BTreeMap::new();
        users.insert(default.name.clone(), default.clone());
        Acl {
            users: RwLock::new(users),
            default,
            log: Mutex::new(Log::default()),
            denied: Default::default(),
            pubsub_all: AtomicBool::new(cfg.acl_pubsub_default == "allchannels"),
            log_max: AtomicUsize::new(cfg.acllog_max_len as usize),
            file: cfg.aclfile.clone(),
        }
    }

    /// Takes the run-time settings (`acllog-max-len`, `acl-pubsub-default`).
    pub fn configure(&self, cfg: &Config) {
        self.pubsub_all.store(cfg.acl_pubsub_default == "allchannels", Ordering::Relaxed);
        self.log_max.store(cfg.acllog_max_len as usize, Ordering::Relaxed);
        let mut log = self.log.lock();
        while log.entries.len() > cfg.acllog_max_len as usize {
            log.entries.pop_back();
        }
    }

    pub fn pubsub_all(&self) -> bool {
        self.pubsub_all.load(Ordering::Relaxed)
    }

    /// Whether the `default` user is on and needs no password: new connections are then
    /// authenticated at once (and `protected-mode` has reason to protect).
    #[inline]
    pub fn default_user_open(&self) -> bool {
        self.default.open.load(Ordering::Relaxed)
    }

    pub fn default_user(&self) -> &Arc<UserCell> {
        &self.default
    }

    pub fn get(&self, name: &[u8]) -> Option<Arc<UserCell>> {
        self.users.read().get(name).cloned()
    }

    fn put(&self, name: Bytes, user: User) -> Arc<UserCell> {
        let mut users = self.users.write();
        match users.get(&name) {
            Some(cell) => {
                cell.store(user);
                cell.clone()
            }
            None => {
                let cell = UserCell::new(name.clone(), user);
                users.insert(name, cell.clone());
                cell
            }
        }
    }

    /// `requirepass`: the default user's only password, or `nopass` when empty.
    pub fn set_requirepass(&self, password: &str) {
        let mut u = self.default.rules().clone();
        let _ = u.set(b"resetpass", false);
        let op = if password.is_empty() { b"nopass".to_vec() } else { [b">", password.as_bytes()].concat() };
        let _ = u.set(&op, false);
        self.default.store(u);
    }

    /// The user `name` if it exists, is on and `pass` is one of its passwords.
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<Arc<UserCell>> {
        let cell = self.get(name)?;
        let ok = {
            let u = cell.rules();
            u.enabled && u.password_ok(pass)
        };
        ok.then_some(cell)
    }

    /// ACL SETUSER: applies `ops` to a copy of the user (a new one if missing), all or
    /// nothing. Returns the cell and its rules before (for revoked channels).
    pub fn set_user(&self, name: &[u8], ops: &[Bytes]) -> Result<(Arc<UserCell>, Option<User>), String> {
        let merged = rules::merge_selectors(ops).map_err(|i| {
            format!("Unmatched parenthesis in acl selector starting at '{}'.", String::from_utf8_lossy(&ops[i]))
        })?;
        let before = self.get(name).map(|c| c.rules().clone());
        let mut user = before.clone().unwrap_or_else(|| User::new(self.pubsub_all()));
        for op in &merged {
            user.set(op, self.pubsub_all()).map_err(|e| {
                format!("Error in ACL SETUSER modifier '{}': {}", String::from_utf8_lossy(op), e.text())
            })?;
        }
        Ok((self.put(Bytes::copy_from_slice(name), user), before))
    }

    /// ACL DELUSER of one user: its cell, whose connections must go.
    pub fn delete(&self, name: &[u8]) -> Option<Arc<UserCell>> {
        let cell = self.users.write().remove(name)?;
        // Pipelined commands of its connections are refused until they close.
        cell.store(User::new(false));
        Some(cell)
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<Arc<UserCell>> {
        self.users.read().values().cloned().collect()
    }

    /// ACL LIST lines.
    pub fn list(&self) -> Vec<String> {
        self.users().iter().map(|c| format!("user {} {}", c.name_lossy(), c.rules().describe())).collect()
    }

    /// Counts a refusal (INFO stats `acl_access_denied_*`) and logs it.
    pub fn log_denied(
        &self,
        reason: Reason,
        context: Context,
        object: &[u8],
        username: &[u8],
        client_info: impl FnOnce() -> String,
    ) {
        self.denied[reason as usize].fetch_add(1, Ordering::Relaxed);
        let now = now_ms();
        let info = client_info();
        let mut log = self.log.lock();
        let found = log.entries.iter().take(10).position(|e| {
            e.reason == reason
                && e.context == context
                && e.updated_ms.abs_diff(now) <= LOG_GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = found {
            if let Some(mut e) = log.entries.remove(i) {
                e.count += 1;
                e.updated_ms = now;
                e.client_info = info;
                log.entries.push_front(e);
            }
            return;
        }
        let entry_id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object: Bytes::copy_from_slice(object),
            username: Bytes::copy_from_slice(username),
            updated_ms: now,
            client_info: info,
            entry_id,
            created_ms: now,
        });
        let max = self.log_max.load(Ordering::Relaxed);
        while log.entries.len() > max {
            log.entries.pop_back();
        }
    }

    /// The newest `count` entries, newest first.
    pub fn log_entries(&self, count: usize) -> Vec<LogEntry> {
        self.log.lock().entries.iter().take(count).cloned().collect()
    }

    pub fn log_reset(&self) {
        self.log.lock().entries.clear();
    }

    /// INFO stats `acl_access_denied_*`.
    pub fn denied(&self, reason: Reason) -> u64 {
        self.denied[reason as usize].load(Ordering::Relaxed)
    }

    /// ACL LOAD (and start-up): replaces every user with the file's, or changes nothing and
    /// returns Redis's error text. Returns the users replaced (not `default`), whose
    /// connections must go.
    pub fn load_file(&self) -> Result<Vec<Arc<UserCell>>, String> {
        let path = &self.file;
        let text = std::fs::read(path)
            .map_err(|e| format!("Error loading ACLs, opening file '{path}': {}", crate::state::acl::io_text(&e)))?;
        let mut errors = String::new();
        let mut loaded: BTreeMap<Bytes, User> = BTreeMap::new();
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            let linenum = i + 1;
            if line.is_empty() {
                continue;
            }
            let argv: Vec<Bytes> = line.split(|&b| b == b' ').map(Bytes::copy_from_slice).collect();
            if argv[0].as_ref() != b"user" || argv.len() < 2 {
                errors.push_str(&format!("{path}:{linenum} should start with user keyword followed by the username. "));
                continue;
            }
            if rules::has_spaces(&argv[1]) {
                errors.push_str(&format!(
                    "'{path}:{linenum}: username '{}' contains invalid characters. ",
                    String::from_utf8_lossy(&argv[1])
                ));
                continue;
            }
            if loaded.contains_key(&argv[1]) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{}' found on line {linenum}. ",
                    String::from_utf8_lossy(&argv[1])
                ));
                continue;
            }
            let Ok(merged) = rules::merge_selectors(&argv[2..]) else {
                errors.push_str(&format!("{path}:{linenum}: Unmatched parenthesis in selector definition."));
                continue;
            };
            let mut user = User::new(self.pubsub_all());
            let mut syntax_error = false;
            for op in &merged {
                let op = op.trim_ascii();
                if let Err(e) = user.set(op, self.pubsub_all()) {
                    if e == RuleError::UnknownCommand {
                        errors.push_str(&format!(
                            "{path}:{linenum}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(op),
                            e.text()
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{path}:{linenum}: {}. ", e.text()));
                        syntax_error = true;
                    }
                }
            }
            loaded.insert(argv[1].clone(), user);
        }
        if !errors.is_empty() {
            errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
            return Err(errors);
        }
        let default = loaded.remove(b"default".as_slice()).unwrap_or_else(User::default_user);
        self.default.store(default);
        let mut users = self.users.write();
        let old: Vec<Arc<UserCell>> = users.values().filter(|c| !Arc::ptr_eq(c, &self.default)).cloned().collect();
        users.clear();
        users.insert(self.default.name.clone(), self.default.clone());
        for (name, user) in loaded {
            users.insert(name.clone(), UserCell::new(name, user));
        }
        for c in &old {
            c.store(User::new(false));
        }
        Ok(old)
    }

    /// ACL SAVE: every user in the ACL file format, written to a temporary file, synced and
    /// renamed over the file.
    pub fn save_file(&self) -> std::io::Result<()> {
        use std::io::Write;
        let mut text = String::new();
        for line in self.list() {
            text.push_str(&line);
            text.push('\n');
        }
        let path = std::path::Path::new(&self.file);
        let tmp = std::path::PathBuf::from(format!("{}.tmp-{}-{}", self.file, std::process::id(), now_ms()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// An I/O error as C's `strerror` words it (without Rust's "(os error N)").
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_user_open_follows_password_and_state() {
        let acl = Acl::empty(&Config::default());
        assert!(acl.default_user_open());
        acl.set_requirepass("pw");
        assert!(!acl.default_user_open());
        assert!(acl.authenticate(b"default", b"pw").is_some());
        assert!(acl.authenticate(b"default", b"nope").is_none());
        acl.set_requirepass("");
        assert!(acl.default_user_open());
        assert!(acl.set_user(b"default", &[Bytes::from_static(b"off")]).is_ok());
        assert!(!acl.default_user_open());
    }

    #[test]
    fn log_groups_repeated_refusals() {
        let acl = Acl::empty(&Config::default());
        for _ in 0..3 {
            acl.log_denied(Reason::Key, Context::Toplevel, b"k", b"u", String::new);
        }
        acl.log_denied(Reason::Key, Context::Multi, b"k", b"u", String::new);
        let log = acl.log_entries(10);
        assert_eq!(log.len(), 2);
        assert_eq!((log[1].count, log[0].count), (3, 1));
        assert_eq!(acl.denied(Reason::Key), 4);
    }
}
