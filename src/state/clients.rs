//! The registry of connected clients, for CLIENT LIST / INFO / KILL and INFO clients.

use super::subscriber::{ClientPubSub, Kind};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What the rest of the server may see of one connection.
pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    /// The socket's file descriptor (CLIENT LIST `fd`; -1 = none).
    pub fd: i32,
    pub created: Instant,
    /// Milliseconds since `created` at the last command.
    pub last_active_ms: AtomicU64,
    pub db: AtomicUsize,
    pub protocol: AtomicU8,
    pub name: Mutex<Option<Bytes>>,
    pub lib_name: Mutex<Option<Bytes>>,
    pub lib_ver: Mutex<Option<Bytes>>,
    pub last_cmd: Mutex<&'static str>,
    /// Bytes buffered for input and output (CLIENT LIST qbuf / omem).
    pub qbuf: AtomicUsize,
    pub omem: AtomicUsize,
    /// Free room in the input buffer (CLIENT LIST `qbuf-free`).
    pub qbuf_free: AtomicUsize,
    /// The reply buffer's size and the most it held at once (CLIENT LIST `rbs`, `rbp`).
    pub rbs: AtomicUsize,
    pub rbp: AtomicUsize,
    /// Bytes of the commands queued by MULTI (CLIENT LIST `multi-mem`).
    pub multi_mem: AtomicUsize,
    /// In MONITOR mode (CLIENT LIST flag `O`); set by `telemetry::monitor::Monitors`.
    pub monitor: AtomicBool,
    killed: AtomicBool,
    kill_notify: tokio::sync::Notify,
    /// Waiting in a blocking command (CLIENT LIST flag `b`).
    pub blocked: AtomicBool,
    /// Commands queued by MULTI; -1 outside a transaction (CLIENT LIST `multi`, flag `x`).
    pub multi: std::sync::atomic::AtomicI64,
    /// CLIENT UNBLOCK's request: 0 none, 1 as a timeout, 2 with an error.
    unblock: AtomicU8,
    unblock_notify: tokio::sync::Notify,
    /// Subscriptions and queued Pub/Sub messages.
    pub pubsub: ClientPubSub,
    /// The ACL user (None = `default`): CLIENT LIST `user`, clients of a deleted user.
    pub user: Mutex<Option<Arc<super::acl::UserCell>>>,
}

/// How CLIENT UNBLOCK ends a blocking command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    Timeout,
    Error,
}

impl ClientHandle {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i32) -> ClientHandle {
        ClientHandle {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            db: AtomicUsize::new(0),
            protocol: AtomicU8::new(2),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            last_cmd: Mutex::new("NULL"),
            qbuf: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            qbuf_free: AtomicUsize::new(0),
            rbs: AtomicUsize::new(0),
            rbp: AtomicUsize::new(0),
            multi_mem: AtomicUsize::new(0),
            monitor: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            kill_notify: tokio::sync::Notify::new(),
            blocked: AtomicBool::new(false),
            multi: std::sync::atomic::AtomicI64::new(-1),
            unblock: AtomicU8::new(0),
            unblock_notify: tokio::sync::Notify::new(),
            pubsub: Default::default(),
            user: Mutex::new(None),
        }
    }

    pub fn touch(&self) {
        self.last_active_ms.store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    pub fn idle_secs(&self) -> u64 {
        let now = self.created.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000
    }

    /// Asks the connection to close (CLIENT KILL, shutdown).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Resolves when the client has been killed.
    pub async fn killed(&self) {
        loop {
            let notified = self.kill_notify.notified();
            if self.is_killed() {
                return;
            }
            notified.await;
        }
    }

    /// CLIENT UNBLOCK: ends the client's blocking command; false if it is not blocked.
    pub fn request_unblock(&self, how: Unblock) -> bool {
        if !self.blocked.load(Ordering::SeqCst) {
            return false;
        }
        self.unblock.store(if how == Unblock::Timeout { 1 } else { 2 }, Ordering::SeqCst);
        self.unblock_notify.notify_one();
        true
    }

    /// Resolves when CLIENT UNBLOCK asks this (blocked) client to stop waiting.
    pub async fn unblocked(&self) -> Unblock {
        loop {
            let notified = self.unblock_notify.notified();
            match self.unblock.swap(0, Ordering::SeqCst) {
                1 => return Unblock::Timeout,
                2 => return Unblock::Error,
                _ => notified.await,
            }
        }
    }

    /// Clears a stale CLIENT UNBLOCK request (one that arrived as the wait ended).
    pub fn clear_unblock(&self) {
        self.unblock.store(0, Ordering::SeqCst);
    }

    /// Whether this client is authenticated as `user`.
    pub fn is_user(&self, user: &Arc<super::acl::UserCell>) -> bool {
        self.user.lock().as_ref().is_some_and(|u| Arc::ptr_eq(u, user))
    }

    pub fn is_monitor(&self) -> bool {
        self.monitor.load(Ordering::Relaxed)
    }

    /// CLIENT LIST flags, in Redis's order: `O` monitor, `P` subscribed, `x` in MULTI, `b`
    /// blocked; `N` for none.
    fn flags(&self) -> String {
        let mut f = String::with_capacity(4);
        if self.is_monitor() {
            f.push('O');
        }
        if self.pubsub.active() {
            f.push('P');
        }
        if self.multi.load(Ordering::Relaxed) >= 0 {
            f.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            f.push('b');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// One CLIENT LIST line (without the newline): Redis 7.0's fields in Redis's order, then
    /// 7.2's `lib-name` and `lib-ver`. `argv_mem`: bytes of the command running now (the
    /// caller's own CLIENT LIST / INFO; 0 for other clients).
    pub fn info_line(&self, argv_mem: usize) -> String {
        let opt = |m: &Mutex<Option<Bytes>>| {
            m.lock().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
        };
        let qbuf = self.qbuf.load(Ordering::Relaxed);
        let qbuf_free = self.qbuf_free.load(Ordering::Relaxed);
        let multi_mem = self.multi_mem.load(Ordering::Relaxed);
        let rbs = self.rbs.load(Ordering::Relaxed);
        let oll = self.pubsub.queued_messages();
        let omem = self.omem.load(Ordering::Relaxed) + self.pubsub.queued_bytes();
        let tot_mem = qbuf + qbuf_free + argv_mem + multi_mem + rbs + omem;
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs={rbs} rbp={} obl=0 oll={oll} omem={omem} tot-mem={tot_mem} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            opt(&self.name),
            self.created.elapsed().as_secs(),
            self.idle_secs(),
            self.flags(),
            self.db.load(Ordering::Relaxed),
            self.pubsub.count(Kind::Channel),
            self.pubsub.count(Kind::Pattern),
            self.pubsub.count(Kind::Shard),
            self.multi.load(Ordering::Relaxed),
            self.rbp.load(Ordering::Relaxed),
            self.last_cmd.lock(),
            self.user.lock().as_ref().map_or_else(|| "default".to_owned(), |u| u.name_lossy()),
            self.protocol.load(Ordering::Relaxed),
            opt(&self.lib_name),
            opt(&self.lib_ver),
        )
    }
}

/// All live clients, by id.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    /// A new client id; taken in accept order, as Redis numbers clients.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn register(&self, id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i32) -> Arc<ClientHandle> {
        let h = Arc::new(ClientHandle::new(id, addr, laddr, fd));
        self.clients.lock().insert(id, h.clone());
        h
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().get(&id).cloned()
    }

    pub fn kill_all(&self) {
        for c in self.clients.lock().values() {
            c.kill();
        }
    }
}
