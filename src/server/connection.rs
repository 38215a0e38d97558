//! One client connection: read what the socket has, execute every complete command in order,
//! and send all their replies with one write.
//!
//! Each command first runs right here on the network thread with reads limited to memory
//! (`storage::tier::cache_only`). If it needs the disk, it is run again on tokio's blocking pool,
//! so a cache miss delays only its own client. Under `appendfsync always` the replies of a batch
//! are held until one group WAL sync covers all the batch's writes.

use super::codec::{Limits, Parser};
use super::tls::Stream;
use crate::commands::{self, CommandSpec, Ctx};
use crate::error::{BlockOn, CmdError};
use crate::reply::Reply;
use crate::state::clients::Unblock;
use crate::state::notify;
use crate::state::{Session, Shared};
use crate::storage::tier;
use crate::storage::waiters::WaitGuard;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Replies are flushed early once this many bytes are pending (very long pipelines).
const FLUSH_THRESHOLD: usize = 256 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// The most commands one shared pipeline write takes (bounds how long its keys stay locked).
const MAX_RUN: usize = 256;

/// Redis's refusal of a client from another host in protected mode (7.0's text).
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled \
and no password is set for the default user. In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you may adopt one of the following solutions: \
1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this change permanent. \
2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the \
protected mode option to 'no', and then restarting the server. \
3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. \
4) Setup a an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for the server to start accepting connections from the \
outside.\r\n";

/// A loopback peer (an IPv4-mapped IPv6 one too), which protected mode lets in.
fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

pub async fn serve(shared: Arc<Shared>, mut stream: Stream, addr: SocketAddr, id: u64) {
    let _ = stream.tcp().set_nodelay(true);
    let laddr = stream.tcp().local_addr().unwrap_or(addr);
    shared.stats.total_connections_received.fetch_add(1, Ordering::Relaxed);
    let (maxclients, keepalive, protected) = {
        let c = shared.config.read();
        (c.maxclients as usize, c.tcp_keepalive, c.protected_mode)
    };
    let requirepass_empty = shared.acl.default_user_open();
    if protected && requirepass_empty && !is_loopback(addr.ip()) {
        shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.send(PROTECTED_MODE_DENIED).await;
        return;
    }
    if shared.clients.count() >= maxclients {
        shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.send(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(stream.tcp()).set_tcp_keepalive(&ka);
    }
    let fd = {
        use std::os::fd::AsRawFd;
        stream.tcp().as_raw_fd()
    };
    let handle = shared.clients.register(id, addr, laddr, fd);
    let session = Session::new(handle.clone(), requirepass_empty);
    Conn { shared: shared.clone(), stream, stash: BytesMut::new(), session: Some(session), closed: false }.run().await;
    shared.pubsub.remove_client(&handle);
    shared.telemetry.monitors.remove(&handle);
    shared.clients.unregister(id);
}

struct Conn {
    shared: Arc<Shared>,
    stream: Stream,
    /// What a TLS client sent while blocked (read to notice a close), consumed before the
    /// next read. Always empty on plain TCP.
    stash: BytesMut,
    /// Taken while a command runs on the blocking pool.
    session: Option<Session>,
    /// The client went away while blocked: close without replying.
    closed: bool,
}

enum Outcome {
    Continue,
    Close,
}

impl Conn {
    async fn run(mut self) {
        let mut input = BytesMut::with_capacity(READ_CHUNK);
        let mut output = BytesMut::with_capacity(READ_CHUNK);
        let mut parser = Parser::new();
        let mut stop = self.shared.shutdown.subscribe();
        let mut synced = self.shared.storage.synced_watch();
        let Some(handle) = self.session.as_ref().map(|s| s.handle.clone()) else { return };
        handle.rbs.store(output.capacity(), Ordering::Relaxed);
        loop {
            let timeout = self.shared.config.read().timeout;
            let idle = async {
                // As in Redis, `timeout` never closes a subscriber or a monitor.
                if timeout == 0 || handle.pubsub.active() || handle.is_monitor() {
                    std::future::pending::<()>().await
                } else {
                    tokio::time::sleep(Duration::from_secs(timeout)).await
                }
            };
            let wanted = parser.bytes_wanted().clamp(READ_CHUNK, 64 * 1024 * 1024);
            input.reserve(wanted);
            let n = if !self.stash.is_empty() {
                // (TLS only) what the client sent while blocked comes before anything newer.
                input.extend_from_slice(&self.stash);
                let n = self.stash.len();
                self.stash.clear();
                n
            } else {
                tokio::select! {
                    r = self.stream.read_buf(&mut input) => match r {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    },
                    _ = handle.killed() => return,
                    _ = stop.wait_for(|s| *s) => return,
                    _ = idle => return,
                    // Pub/Sub messages reach an idle subscriber at once.
                    _ = handle.pubsub.ready() => 0,
                }
            };
            if n == 0 {
                // Let the other clients on this thread run first: messages they publish meanwhile
                // go out with the same write (as Redis sends a client's output once per loop).
                tokio::task::yield_now().await;
                handle.pubsub.drain_into(&mut output);
                if !self.flush(&mut output).await {
                    return;
                }
                continue;
            }
            self.shared.stats.total_net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
            self.shared.stats.total_reads_processed.fetch_add(1, Ordering::Relaxed);
            let outcome = self.process(&mut parser, &mut input, &mut output, &mut synced).await;
            handle.qbuf.store(input.len(), Ordering::Relaxed);
            handle.qbuf_free.store(input.capacity() - input.len(), Ordering::Relaxed);
            if !self.flush(&mut output).await || matches!(outcome, Outcome::Close) {
                let _ = self.stream.shutdown().await;
                return;
            }
        }
    }

    fn limits(&self) -> Limits {
        let c = self.shared.config.read();
        Limits {
            proto_max_bulk_len: c.proto_max_bulk_len,
            query_buffer_limit: c.client_query_buffer_limit,
            authenticated: self.session.as_ref().is_some_and(|s| s.authenticated),
        }
    }

    /// Executes every complete command in `input`, appending replies to `output`.
    ///
    /// Consecutive key commands (SET, GET, INCR, DEL, ...) are looked ahead and run as one
    /// pipeline sharing a single RocksDB write (`run_pipeline`). Lookahead stops at any other
    /// command, so one that changes the connection (AUTH, SELECT, HELLO) has run before the
    /// commands after it are even parsed, with the limits it implies.
    async fn process(
        &mut self,
        parser: &mut Parser,
        input: &mut BytesMut,
        output: &mut BytesMut,
        synced: &mut tokio::sync::watch::Receiver<u64>,
    ) -> Outcome {
        let mut limits = self.limits();
        let mut wait_seq = 0u64;
        let mut queue: VecDeque<Queued> = VecDeque::new();
        let mut protocol_error = None;
        // Cleared when a shared write made no progress (its first command needed the disk):
        // the rest of this read then runs one by one instead of retrying the lookahead.
        let mut share_writes = true;
        loop {
            while protocol_error.is_none()
                && queue.len() < MAX_RUN
                && queue.back().is_none_or(|q: &Queued| q.run_spec.is_some())
            {
                match parser.next_command(input, &limits) {
                    Ok(Some(args)) => queue.push_back(Queued::new(args)),
                    Ok(None) => break,
                    Err(e) => protocol_error = Some(e),
                }
            }
            let run = queue.iter().take_while(|q| q.run_spec.is_some()).count();
            let mut replies = Vec::new();
            // Queuing a transaction, or a script runs (commands may get -BUSY): one by one.
            let queuing = self.session.as_ref().is_some_and(|s| s.multi.is_some()) || self.shared.scripts.any_running();
            if run >= 2 && share_writes && !queuing {
                let cmds: Vec<Queued> = queue.drain(..run).collect();
                replies = self.run_pipeline(&cmds);
                // From a command that needed the disk (or another lock) on, one by one.
                for q in cmds.into_iter().skip(replies.len()).rev() {
                    queue.push_front(q);
                }
                share_writes = !replies.is_empty();
            }
            let mut seq = tier::take_write_seq();
            let mut single = None;
            if replies.is_empty() {
                let Some(q) = queue.pop_front() else { break };
                let (reply, s) = self.execute(q, output, synced, &mut wait_seq).await;
                if self.closed {
                    return Outcome::Close;
                }
                single = Some(reply);
                seq = s;
            }
            wait_seq = wait_seq.max(seq);
            let was_authed = limits.authenticated;
            let Some(session) = self.session.as_mut() else { return Outcome::Close };
            // Messages published while the command ran (to its own channels) go first, as in
            // Redis; a monitor's line for its own command comes after the reply.
            if !session.monitor {
                session.handle.pubsub.drain_into(output);
            }
            for reply in replies.into_iter().chain(single) {
                if !session.suppress_reply {
                    reply.encode(session.protocol, output);
                }
            }
            session.suppress_reply = false;
            if session.monitor {
                session.handle.pubsub.drain_into(output);
            }
            if session.close_after_reply {
                if !self.wait_synced(synced, wait_seq).await {
                    output.clear();
                }
                return Outcome::Close;
            }
            if session.authenticated != was_authed {
                limits = self.limits();
            }
            if output.len() >= FLUSH_THRESHOLD {
                if !self.wait_synced(synced, wait_seq).await {
                    return self.not_durable(output);
                }
                wait_seq = 0;
                if !self.flush(output).await {
                    return Outcome::Close;
                }
            }
        }
        if let Some(e) = protocol_error {
            if let Some(msg) = e.message() {
                self.shared.telemetry.error_reply(msg);
                if let Some(suppressed) = self.shared.telemetry.client_errors.allow() {
                    let addr = self.session.as_ref().map(|s| s.handle.addr.to_string()).unwrap_or_default();
                    tracing::warn!(
                        client_addr = addr,
                        error = msg,
                        suppressed,
                        "protocol error; closing the connection"
                    );
                }
                output.extend_from_slice(b"-");
                output.extend_from_slice(msg.as_bytes());
                output.extend_from_slice(b"\r\n");
            }
            if !self.wait_synced(synced, wait_seq).await {
                return self.not_durable(output);
            }
            return Outcome::Close;
        }
        if wait_seq > 0 {
            // Let the other clients on this thread run first: their writes then reach the OS with
            // the same WAL write as ours (what Redis's event loop gets from beforeSleep).
            tokio::task::yield_now().await;
        }
        if !self.wait_synced(synced, wait_seq).await {
            return self.not_durable(output);
        }
        Outcome::Continue
    }

    /// The batch's writes could not be made durable (the WAL can't be written): its replies
    /// are dropped and the connection closed, so no client takes them as acknowledged (Redis
    /// exits in this case under `appendfsync always`); later writes are refused with MISCONF.
    fn not_durable(&self, output: &mut BytesMut) -> Outcome {
        output.clear();
        Outcome::Close
    }

    /// Runs consecutive key commands under one pipeline write: their keys locked at once, their
    /// writes committed as one RocksDB write. Stops early at a command that needs the disk or a
    /// key it did not declare. Returns the replies of the commands that ran, in order.
    fn run_pipeline(&mut self, cmds: &[Queued]) -> Vec<Reply> {
        let shared = self.shared.clone();
        let Some(session) = self.session.as_mut() else { return Vec::new() };
        let storage = &shared.storage;
        let dbs = storage.dbs();
        let pdb = dbs.physical(session.db);
        let keys = cmds.iter().flat_map(|q| q.run_spec.map(|s| s.keys(&q.args)).unwrap_or_default());
        // A key locked elsewhere (a script, a command on a blocking thread): one by one instead.
        let Some(write) = storage.begin_pipeline(dbs, keys.map(|k| (pdb, k.as_ref()))) else { return Vec::new() };
        // Keyspace notifications wait for the shared write.
        notify::defer_begin();
        let mut replies = Vec::with_capacity(cmds.len());
        for q in cmds {
            let Some(spec) = q.spec else { break };
            note_command(&shared, session, q.resolved);
            let r = tier::cache_only(|| {
                let mut ctx = Ctx { shared: &shared, session: &mut *session };
                commands::call(&mut ctx, spec, &q.args)
            });
            match r {
                Err(CmdError::WouldBlock) => {
                    // Not counted twice: it runs again on its own.
                    shared.stats.total_commands_processed.fetch_sub(1, Ordering::Relaxed);
                    break;
                }
                r => replies.push(to_reply(r)),
            }
        }
        if let Err(e) = write.commit() {
            tracing::error!(error = %e, "pipeline write failed");
            notify::defer_discard();
            let text = CmdError::from(e).to_string();
            for r in &mut replies {
                *r = error_reply(&shared, text.clone());
            }
        } else {
            notify::defer_flush(&shared);
        }
        replies
    }

    /// Makes the batch's writes durable as `appendfsync` requires before its replies go out.
    /// False when they can't be (the WAL can't be written): the replies must not go out.
    async fn wait_synced(&self, synced: &mut tokio::sync::watch::Receiver<u64>, seq: u64) -> bool {
        let storage = &self.shared.storage;
        match storage.make_durable(seq) {
            Ok(None) => true,
            Ok(Some(wait)) => {
                let _ = synced.wait_for(|s| *s >= wait || storage.wal_broken()).await;
                !storage.wal_broken()
            }
            Err(_) => false,
        }
    }

    async fn flush(&mut self, output: &mut BytesMut) -> bool {
        if output.is_empty() {
            return true;
        }
        let n = output.len();
        let Some(handle) = self.session.as_ref().map(|s| s.handle.clone()) else { return false };
        // A client killed while its socket is full (a slow subscriber over its output buffer
        // limit) is dropped without waiting for the write.
        tokio::select! {
            r = self.stream.send(output) => if r.is_err() { return false },
            _ = handle.killed() => return false,
        }
        self.shared.stats.total_net_output_bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.shared.stats.total_writes_processed.fetch_add(1, Ordering::Relaxed);
        output.clear();
        if output.capacity() > 4 * FLUSH_THRESHOLD {
            *output = BytesMut::with_capacity(READ_CHUNK);
        }
        handle.rbs.store(output.capacity(), Ordering::Relaxed);
        handle.rbp.fetch_max(n, Ordering::Relaxed);
        true
    }

    /// Sends the replies gathered so far once their writes are durable. False when the
    /// connection must close (the WAL can't be written: the replies are dropped; or the
    /// socket failed).
    async fn send_pending(
        &mut self,
        output: &mut BytesMut,
        synced: &mut tokio::sync::watch::Receiver<u64>,
        wait_seq: &mut u64,
    ) -> bool {
        if output.is_empty() {
            return true;
        }
        if !self.wait_synced(synced, *wait_seq).await {
            output.clear();
            return false;
        }
        *wait_seq = 0;
        self.flush(output).await
    }

    /// Runs one command: inline if it stays in memory, else on the blocking pool. Returns the
    /// reply and the WAL sequence it must wait for (0 = none). A blocking command that finds
    /// nothing waits here (`wait_blocked`).
    ///
    /// `output` holds the replies of the commands before this one (durable once `wait_seq` is
    /// synced): a command about to block sends them first, as Redis does.
    async fn execute(
        &mut self,
        q: Queued,
        output: &mut BytesMut,
        synced: &mut tokio::sync::watch::Receiver<u64>,
        wait_seq: &mut u64,
    ) -> (Reply, u64) {
        if let Some(session) = self.session.as_mut() {
            session.suppress_reply = false;
        }
        let args = q.args;
        let Some(spec) = q.spec else {
            if let Some(session) = self.session.as_mut() {
                session.flag_multi();
            }
            return (error_reply(&self.shared, commands::unknown_command(&args).to_string()), 0);
        };
        if let Some(session) = self.session.as_mut() {
            note_command(&self.shared, session, q.resolved);
            // (Only while a script runs: the common case costs one atomic load.)
            let busy = self
                .shared
                .scripts
                .any_running()
                .then(|| commands::resolve(spec, &args).ok())
                .flatten()
                .and_then(|s| commands::scripting::busy_error(&self.shared, session.id(), s));
            if let Some(e) = busy {
                // A refused EXEC ends its transaction (Redis's `execCommandAbort`).
                if spec.name == "exec" && session.multi.is_some() {
                    return (error_reply(&self.shared, session.abort_exec(&e.to_string())), 0);
                }
                session.flag_multi();
                return (error_reply(&self.shared, e.to_string()), 0);
            }
        }
        let args: Arc<[Bytes]> = args.into();
        match self.attempt(spec, &args).await {
            (Err(CmdError::Blocked(on)), seq) => {
                if !self.send_pending(output, synced, wait_seq).await {
                    self.closed = true;
                    return (Reply::NullArray, 0);
                }
                let (reply, s) = self.wait_blocked(spec, &args, on).await;
                (reply, seq.max(s))
            }
            (r, seq) => (to_reply(r), seq),
        }
    }

    /// One run of a command: first on this thread with reads limited to memory, then, if it
    /// needs the disk, on the blocking pool. Returns its result and WAL sequence.
    async fn attempt(&mut self, spec: &'static CommandSpec, args: &Arc<[Bytes]>) -> (Result<Reply, CmdError>, u64) {
        let shared = self.shared.clone();
        let Some(mut session) = self.session.take() else { return (Err(CmdError::Internal), 0) };
        let first = tier::cache_only(|| {
            let mut ctx = Ctx { shared: &shared, session: &mut session };
            commands::call(&mut ctx, spec, args)
        });
        let seq = tier::take_write_seq();
        if !matches!(first, Err(CmdError::WouldBlock)) {
            self.session = Some(session);
            return (first, seq);
        }
        shared.stats.blocking_reruns.fetch_add(1, Ordering::Relaxed);
        let shared_for_errors = shared.clone();
        let args = args.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let r = {
                let mut ctx = Ctx { shared: &shared, session: &mut session };
                commands::call(&mut ctx, spec, &args)
            };
            (r, session, tier::take_write_seq())
        })
        .await;
        match joined {
            Ok((r, session, rerun_seq)) => {
                self.session = Some(session);
                (r, seq.max(rerun_seq))
            }
            Err(e) => {
                tracing::error!(error = %e, "command task failed");
                shared_for_errors.telemetry.error_reply("ERR internal error");
                (Err(CmdError::Internal), 0)
            }
        }
    }

    /// A blocking command (BLPOP, BZPOPMIN, ...) found nothing: queue this client on its keys
    /// (first come, first served), then run the command again each time one of them is
    /// written, until it is served, times out, or the client goes away. The client is queued
    /// before each look at the keys, so a write landing between the look and the wait still
    /// wakes it.
    async fn wait_blocked(&mut self, spec: &'static CommandSpec, args: &Arc<[Bytes]>, on: BlockOn) -> (Reply, u64) {
        let shared = self.shared.clone();
        let Some(handle) = self.session.as_ref().map(|s| s.handle.clone()) else {
            return (Reply::error("ERR internal error"), 0);
        };
        let deadline = on.timeout.map(|t| tokio::time::Instant::now() + t);
        let timeout_reply = if on.null_array { Reply::NullArray } else { Reply::Null };
        let mut stop = shared.shutdown.subscribe();
        let mut watch_socket = true;
        handle.blocked.store(true, Ordering::SeqCst);
        let rerun_args: Arc<[Bytes]> = match on.rerun_args {
            Some(a) => a.into(),
            None => args.clone(),
        };
        let args = &rerun_args;
        if let Some(s) = self.session.as_mut() {
            s.blocked_rerun = true;
        }
        let mut registered: Option<(u8, WaitGuard<'_>)> = None;
        let result = loop {
            let db = self.session.as_ref().map(|s| s.db).unwrap_or(0);
            let pdb = shared.storage.dbs().physical(db);
            if registered.as_ref().is_none_or(|(p, _)| *p != pdb) {
                // (Re)queue under the physical database the keys live in now (SWAPDB moves them).
                drop(registered.take());
                registered = Some((pdb, shared.storage.waiters.register(on.keys.iter().map(|k| (pdb, k.as_ref())))));
            }
            match self.attempt(spec, args).await {
                (Err(CmdError::Blocked(_)), _) => {}
                (r, seq) => break Some((to_reply(r), seq)),
            }
            let Some((_, guard)) = registered.as_ref() else { break None };
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = guard.changed() => {}
                _ = timeout => {
                    shared.telemetry.unblocked_unserved(spec.name, false);
                    break Some((timeout_reply.clone(), 0));
                }
                how = handle.unblocked() => {
                    shared.telemetry.unblocked_unserved(spec.name, how == Unblock::Error);
                    break Some(match how {
                        Unblock::Timeout => (timeout_reply.clone(), 0),
                        Unblock::Error => (error_reply(&shared, "UNBLOCKED client unblocked via CLIENT UNBLOCK".into()), 0),
                    });
                }
                r = self.stream.watch(&mut self.stash), if watch_socket => match r {
                    // The client closed while blocked: give up its place at once.
                    Ok(0) | Err(_) => break None,
                    // It sent more (read once this command is done).
                    Ok(_) => watch_socket = false,
                },
                _ = handle.killed() => break None,
                _ = stop.wait_for(|s| *s) => break None,
            }
        };
        drop(registered);
        if let Some(s) = self.session.as_mut() {
            s.blocked_rerun = false;
        }
        handle.blocked.store(false, Ordering::SeqCst);
        handle.clear_unblock();
        match result {
            Some(r) => r,
            None => {
                self.closed = true;
                (Reply::NullArray, 0)
            }
        }
    }
}

/// A parsed command waiting in the lookahead queue, with what `run_pipeline` needs to know.
struct Queued {
    args: Vec<Bytes>,
    spec: Option<&'static CommandSpec>,
    /// The name CLIENT LIST shows (`client|list` for subcommands).
    resolved: &'static str,
    /// The resolved spec when the command may join a shared pipeline write: a key command
    /// (keys from the table's key positions) of the current database, with valid arity.
    run_spec: Option<&'static CommandSpec>,
}

impl Queued {
    fn new(args: Vec<Bytes>) -> Queued {
        let spec = commands::lookup(&args[0]);
        let resolved = spec.and_then(|s| commands::resolve(s, &args).ok());
        let name = resolved.or(spec).map(|s| s.name).unwrap_or("NULL");
        let run_spec = resolved.filter(|s| {
            s.first_key > 0
                && s.arity_ok(args.len())
                && !s.flags.contains(commands::Flags::BLOCKING)
                && !matches!(s.name, "move" | "copy" | "watch")
                && !s.flags.contains(commands::Flags::PUBSUB)
        });
        Queued { args, spec, resolved: name, run_spec }
    }
}

/// Stats and CLIENT LIST fields for one command about to run.
fn note_command(shared: &Shared, session: &Session, name: &'static str) {
    shared.stats.total_commands_processed.fetch_add(1, Ordering::Relaxed);
    session.handle.touch();
    *session.handle.last_cmd.lock() = name;
}

/// An error reply made here rather than by a command (which `commands::call` counts itself).
fn error_reply(shared: &Shared, text: String) -> Reply {
    shared.telemetry.error_reply(&text);
    Reply::Error(text)
}

fn to_reply(r: Result<Reply, CmdError>) -> Reply {
    match r {
        Ok(reply) => reply,
        Err(e) => Reply::Error(e.to_string()),
    }
}
