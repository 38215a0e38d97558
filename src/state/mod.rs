//! State shared between the server loop and command handlers: the storage handle, the live
//! configuration, the client registry, server statistics and SCAN cursors; plus `Session`, the
//! per-connection state a handler may change (database, protocol, auth, name).

pub mod acl;
pub mod clients;
pub mod notify;
pub mod pubsub;
pub mod scripts;
pub mod subscriber;

use crate::config::Config;
use crate::storage::Storage;
use bytes::Bytes;
use clients::{ClientHandle, ClientRegistry};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Counters reported by INFO stats (and reset by CONFIG RESETSTAT).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
    pub blocking_reruns: AtomicU64,
    /// Socket reads and writes (Redis's `total_reads_processed` / `total_writes_processed`).
    pub total_reads_processed: AtomicU64,
    pub total_writes_processed: AtomicU64,
}

impl ServerStats {
    /// Adds the key lookups of a read command (`keyspace_hits` / `keyspace_misses`).
    pub fn add_lookups(&self, found: u64, missing: u64) {
        if found > 0 {
            self.keyspace_hits.fetch_add(found, Ordering::Relaxed);
        }
        if missing > 0 {
            self.keyspace_misses.fetch_add(missing, Ordering::Relaxed);
        }
    }

    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.blocking_reruns,
            &self.total_reads_processed,
            &self.total_writes_processed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// SCAN cursors: Redis clients treat a cursor as an integer, while Strata resumes a scan from
/// the last key returned (which is what gives SCAN its guarantee). Cursor numbers map to
/// positions in a bounded table; an unknown cursor restarts the scan, as a fresh one would.
#[derive(Default)]
pub struct CursorTable {
    next: u64,
    positions: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
}

const MAX_CURSORS: usize = 16 * 1024;

impl CursorTable {
    pub fn insert(&mut self, position: Vec<u8>) -> u64 {
        self.next = self.next.wrapping_add(1).max(1);
        // Cursor numbers are not guessable sequences: mix the counter.
        let id = (self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 1).max(1);
        if self.order.len() >= MAX_CURSORS {
            if let Some(old) = self.order.pop_front() {
                self.positions.remove(&old);
            }
        }
        self.positions.insert(id, position);
        self.order.push_back(id);
        id
    }

    pub fn get(&self, id: u64) -> Option<&[u8]> {
        self.positions.get(&id).map(|v| v.as_slice())
    }
}

/// Applies a new `loglevel` to the running logger.
pub type LevelSetter = Box<dyn Fn(crate::config::LogLevel) + Send + Sync>;

/// Everything the server and the handlers share.
pub struct Shared {
    pub storage: Arc<Storage>,
    pub config: RwLock<Config>,
    pub clients: ClientRegistry,
    pub pubsub: pubsub::PubSub,
    pub stats: ServerStats,
    pub cursors: Mutex<CursorTable>,
    pub started: Instant,
    pub run_id: String,
    /// The TCP port actually bound (differs from `port` when that is 0).
    pub tcp_port: AtomicU16,
    pub config_file: Option<PathBuf>,
    /// Set to true to stop the server (SHUTDOWN, SIGTERM).
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Applies `loglevel` to the running logger (installed by main; CONFIG SET loglevel).
    pub log_level_setter: Mutex<Option<LevelSetter>>,
    /// EVAL scripts, FUNCTION libraries and the scripts running now.
    pub scripts: scripts::Scripts,
    /// Command statistics, error statistics, slow log, latency monitor, MONITOR clients.
    pub telemetry: crate::telemetry::Telemetry,
    /// Accepting commands (set once the listeners run; /readyz).
    pub accepting: std::sync::atomic::AtomicBool,
    /// ACL users, log and denial counters.
    pub acl: acl::Acl,
}

impl Shared {
    /// `telemetry` is built by the caller, which knows the command table (state sits below
    /// the command layer).
    pub fn new(storage: Arc<Storage>, config: Config, telemetry: crate::telemetry::Telemetry) -> Shared {
        let config_file = config.config_file.clone();
        // main checked the users already (a bad ACL configuration stops start-up there).
        let acl = acl::Acl::from_config(&config).unwrap_or_else(|e| {
            tracing::error!(error = %e, "ACL configuration refused; only the default user is defined");
            acl::Acl::empty(&config)
        });
        Shared {
            acl,
            telemetry,
            accepting: std::sync::atomic::AtomicBool::new(false),
            storage,
            config: RwLock::new(config),
            clients: ClientRegistry::default(),
            pubsub: pubsub::PubSub::default(),
            stats: ServerStats::default(),
            cursors: Mutex::new(CursorTable::default()),
            started: Instant::now(),
            run_id: random_hex(40),
            tcp_port: AtomicU16::new(0),
            config_file,
            shutdown: tokio::sync::watch::Sender::new(false),
            log_level_setter: Mutex::new(None),
            scripts: scripts::Scripts::default(),
        }
    }

    /// Serving commands and not shutting down (/readyz).
    pub fn is_ready(&self) -> bool {
        self.accepting.load(Ordering::SeqCst) && !*self.shutdown.borrow()
    }

    pub fn request_shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect()
}

/// Per-connection state that commands may change.
pub struct Session {
    pub handle: Arc<ClientHandle>,
    /// Logical database selected.
    pub db: usize,
    /// RESP protocol version (2 or 3).
    pub protocol: u8,
    pub authenticated: bool,
    /// The user authenticated as (None = `default`).
    pub user: Option<Arc<acl::UserCell>>,
    /// Close the connection after this reply (QUIT, CLIENT KILL of oneself).
    pub close_after_reply: bool,
    /// Send no reply to this command (a successful SHUTDOWN just closes the connection).
    pub suppress_reply: bool,
    /// The command runs again after its keys changed while it was blocked (XREADGROUP then
    /// reports a stream or group that went away as Redis does for blocked clients).
    pub blocked_rerun: bool,
    /// Inside MULTI: the commands queued so far.
    pub multi: Option<MultiState>,
    /// Keys this client WATCHes.
    pub watch: Option<WatchState>,
    /// In MONITOR mode: commands that touch the keyspace are refused, as Redis refuses them
    /// to a replica.
    pub monitor: bool,
}

/// A transaction being queued (MULTI ... EXEC).
#[derive(Default)]
pub struct MultiState {
    /// The commands queued, each with its arguments (name first).
    pub queued: Vec<Vec<Bytes>>,
    /// Bytes of the arguments queued (CLIENT LIST `multi-mem`).
    pub queued_bytes: usize,
    /// A command was refused while queuing: EXEC discards the transaction (EXECABORT).
    pub aborted: bool,
}

/// The keys one client WATCHes, registered in `Storage::watches` until dropped.
pub struct WatchState {
    storage: Arc<Storage>,
    id: u64,
    /// Set when a watched key is written.
    pub flag: crate::storage::watch::Flag,
    /// Metadata key and expiry at WATCH time (0 = none or no key) of each watched key.
    pub keys: Vec<(Vec<u8>, u64)>,
}

impl WatchState {
    pub fn new(storage: Arc<Storage>, id: u64) -> WatchState {
        WatchState { storage, id, flag: Default::default(), keys: Vec::new() }
    }

    /// Watches one more key (`meta_key`); what it holds is recorded by `set_expiry` or
    /// `mark_expired` once read.
    pub fn add(&mut self, meta_key: Vec<u8>) {
        if self.keys.iter().any(|(k, _)| *k == meta_key) {
            return;
        }
        self.storage.watches.watch(meta_key.clone(), self.id, &self.flag, false);
        self.keys.push((meta_key, 0));
    }

    /// Records the expiry (ms) the watched key had when watched.
    pub fn set_expiry(&mut self, meta_key: &[u8], expire_at: u64) {
        if let Some(k) = self.keys.iter_mut().find(|(k, _)| k.as_slice() == meta_key) {
            k.1 = expire_at;
        }
    }

    /// The watched key was stored but already expired when watched: deleting it does not
    /// break the watch.
    pub fn mark_expired(&self, meta_key: &[u8]) {
        self.storage.watches.watch(meta_key.to_vec(), self.id, &self.flag, true);
    }

    /// Whether EXEC must fail: a watched key was written, or expired since WATCH.
    pub fn broken(&self, now_ms: u64) -> bool {
        self.flag.load(Ordering::Acquire) || self.keys.iter().any(|&(_, at)| at != 0 && at <= now_ms)
    }
}

impl Drop for WatchState {
    fn drop(&mut self) {
        self.storage.watches.unwatch(self.id, self.keys.iter().map(|(k, _)| k.as_slice()));
    }
}

impl Session {
    pub fn new(handle: Arc<ClientHandle>, authenticated: bool) -> Session {
        Session {
            handle,
            db: 0,
            protocol: 2,
            authenticated,
            user: None,
            close_after_reply: false,
            suppress_reply: false,
            blocked_rerun: false,
            multi: None,
            watch: None,
            monitor: false,
        }
    }

    /// Shows the transaction state in CLIENT LIST (`multi` = commands queued, -1 = none).
    pub fn sync_multi(&self) {
        let n = self.multi.as_ref().map_or(-1, |m| m.queued.len() as i64);
        self.handle.multi.store(n, Ordering::Relaxed);
        let mem = self.multi.as_ref().map_or(0, |m| m.queued_bytes);
        self.handle.multi_mem.store(mem, Ordering::Relaxed);
    }

    /// Selects logical database `db` (and shows it in CLIENT LIST).
    pub fn set_db(&mut self, db: usize) {
        self.db = db;
        self.handle.db.store(db, Ordering::Relaxed);
    }

    /// Ends the transaction being queued (if any) and forgets the watched keys.
    pub fn end_multi(&mut self) {
        self.multi = None;
        self.watch = None;
        self.sync_multi();
    }

    /// A refused EXEC ends its transaction at once, its error wrapped as Redis's
    /// `execCommandAbort` words it.
    pub fn abort_exec(&mut self, reason: &str) -> String {
        self.end_multi();
        let reason = reason.strip_prefix("ERR ").unwrap_or(reason);
        format!("EXECABORT Transaction discarded because of: {reason}")
    }

    /// A command was refused while queuing a transaction: EXEC will abort it.
    pub fn flag_multi(&mut self) {
        if let Some(m) = self.multi.as_mut() {
            m.aborted = true;
        }
    }

    /// Authenticates the connection as `user` (None = `default`); CLIENT LIST shows it.
    pub fn set_user(&mut self, user: Option<Arc<acl::UserCell>>) {
        *self.handle.user.lock() = user.clone();
        self.user = user;
    }

    pub fn id(&self) -> u64 {
        self.handle.id
    }

    pub fn set_name(&self, name: Option<Bytes>) {
        *self.handle.name.lock() = name;
    }
}
