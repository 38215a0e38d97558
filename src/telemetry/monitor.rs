//! MONITOR: the clients that asked to see every command, and the lines they are sent
//! (`+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`).
//!
//! A line goes into each monitor's queue of outbound messages (the one Pub/Sub messages use),
//! which its connection sends on its own: the client that ran the command never waits for a
//! monitor, and a monitor whose queue outgrows its output buffer limit is disconnected.

use super::CommandEvent;
use crate::config::ObufLimit;
use crate::state::clients::ClientHandle;
use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct Monitors {
    /// How many clients monitor: the per-command path reads only this.
    count: AtomicUsize,
    clients: RwLock<Vec<Arc<ClientHandle>>>,
    /// The output buffer limit monitors are held to (Redis's `normal` class).
    limit: Mutex<Option<ObufLimit>>,
}

impl Monitors {
    /// True when any client is monitoring (one atomic load on the per-command path).
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    /// MONITOR: `client` gets every command from now on; false if it already did.
    pub fn add(&self, client: Arc<ClientHandle>) -> bool {
        let mut clients = self.clients.write();
        if clients.iter().any(|c| c.id == client.id) {
            return false;
        }
        client.monitor.store(true, Ordering::Relaxed);
        clients.push(client);
        self.count.store(clients.len(), Ordering::Relaxed);
        true
    }

    /// The client left, or RESET: no more lines for it.
    pub fn remove(&self, client: &ClientHandle) {
        if !client.monitor.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut clients = self.clients.write();
        clients.retain(|c| c.id != client.id);
        self.count.store(clients.len(), Ordering::Relaxed);
    }

    pub fn set_limit(&self, limit: ObufLimit) {
        *self.limit.lock() = Some(limit);
    }

    /// The line for `ev`, after it ran (None when no client monitors).
    pub fn line_for(&self, ev: &CommandEvent<'_>) -> Option<Bytes> {
        if !self.any() {
            return None;
        }
        let redacted = super::redacted_args(ev.name, ev.args);
        Some(line(ev.db, if ev.from_script { None } else { Some(ev.client) }, ev.args, &redacted))
    }

    /// Sends one line to every monitoring client.
    pub fn send(&self, line: &Bytes) {
        let limit = self.limit.lock().unwrap_or(ObufLimit { hard: 0, soft: 0, soft_seconds: 0 });
        let now = crate::state::pubsub::now_ms();
        for c in self.clients.read().iter() {
            c.queue_message(line.clone(), limit, now);
        }
    }
}

/// One MONITOR line: `+<unix time with µs> [<db> <addr>|lua] "arg" ...\r\n`, each argument
/// quoted as Redis's `sdscatrepr` does. `client` None = run by a script.
pub fn line(db: usize, client: Option<&ClientHandle>, args: &[Bytes], redacted: &[usize]) -> Bytes {
    let now = super::unix_time();
    let mut out = BytesMut::with_capacity(48 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    let addr = match client {
        Some(c) => c.addr.to_string(),
        None => "lua".to_owned(),
    };
    out.put_slice(format!("+{}.{:06} [{db} {addr}] ", now.as_secs(), now.subsec_micros()).as_bytes());
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.put_u8(b' ');
        }
        let a: &[u8] = if redacted.contains(&i) { super::REDACTED } else { a };
        crate::splitargs::repr_into(&mut out, a);
    }
    out.put_slice(b"\r\n");
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_quotes_like_redis() {
        let addr = "127.0.0.1:60866".parse().unwrap();
        let c = ClientHandle::new(1, addr, addr, -1);
        let args = [Bytes::from("set"), Bytes::from("k"), Bytes::from(&b"a\"b\\c\n\x01\xff"[..])];
        let l = line(3, Some(&c), &args, &[]);
        let text = String::from_utf8_lossy(&l);
        let (time, rest) = text.split_once(' ').unwrap();
        assert!(time.starts_with('+') && time.len() == 1 + 10 + 1 + 6, "{time}");
        assert_eq!(rest, "[3 127.0.0.1:60866] \"set\" \"k\" \"a\\\"b\\\\c\\n\\x01\\xff\"\r\n");
        let l = line(0, None, &[Bytes::from("auth"), Bytes::from("pw")], &[1]);
        assert!(String::from_utf8_lossy(&l).ends_with(" [0 lua] \"auth\" \"(redacted)\"\r\n"));
    }

    #[test]
    fn add_once_and_remove() {
        let addr = "127.0.0.1:1".parse().unwrap();
        let m = Monitors::default();
        let c = Arc::new(ClientHandle::new(1, addr, addr, -1));
        assert!(!m.any());
        assert!(m.add(c.clone()));
        assert!(!m.add(c.clone()));
        assert!(m.any());
        m.send(&Bytes::from_static(b"+x\r\n"));
        assert_eq!(c.pubsub.queued_bytes(), 4);
        m.remove(&c);
        assert!(!m.any());
        assert!(!c.monitor.load(Ordering::Relaxed));
    }
}
