//! The slow log (SLOWLOG GET|LEN|RESET): the last `slowlog-max-len` commands that ran at least
//! `slowlog-log-slower-than` microseconds, with Redis's entry fields and argument truncation.

use super::CommandEvent;
use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::VecDeque;

/// At most this many arguments are kept; the last kept one says how many more there were.
const MAX_ARGC: usize = 32;
/// Arguments longer than this are cut, with a note of how many bytes were dropped.
const MAX_STRING: usize = 128;

/// One logged command, as SLOWLOG GET shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u64,
    /// Unix time (seconds) at which it was logged.
    pub time: u64,
    pub duration_us: u64,
    /// The arguments, redacted and truncated as Redis keeps them.
    pub args: Vec<Bytes>,
    /// `ip:port` of the client (`?:0` for a command a script ran).
    pub peer: Bytes,
    pub client_name: Bytes,
}

impl Entry {
    /// The entry for `ev` (its id is given when it is added to the log).
    pub fn new(ev: &CommandEvent<'_>, duration_us: u64) -> Entry {
        let redacted = super::redacted_args(ev.name, ev.args);
        let argc = ev.args.len();
        let kept = argc.min(MAX_ARGC);
        let mut args = Vec::with_capacity(kept);
        for (i, a) in ev.args.iter().take(kept).enumerate() {
            if kept != argc && i == kept - 1 {
                args.push(Bytes::from(format!("... ({} more arguments)", argc - kept + 1)));
            } else if redacted.contains(&i) {
                args.push(Bytes::from_static(super::REDACTED));
            } else if a.len() > MAX_STRING {
                let mut s = BytesMut::with_capacity(MAX_STRING + 32);
                s.put_slice(&a[..MAX_STRING]);
                s.put_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
                args.push(s.freeze());
            } else {
                args.push(a.clone());
            }
        }
        let (peer, client_name) = if ev.from_script {
            (Bytes::from_static(b"?:0"), Bytes::new())
        } else {
            (Bytes::from(ev.client.addr.to_string()), ev.client.name.lock().clone().unwrap_or_default())
        };
        Entry { id: 0, time: super::unix_time().as_secs(), duration_us, args, peer, client_name }
    }
}

#[derive(Default)]
struct Log {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

#[derive(Default)]
pub struct SlowLog {
    log: Mutex<Log>,
}

impl SlowLog {
    /// Adds `entry` with the next id, keeping at most `max_len` entries.
    pub fn push(&self, mut entry: Entry, max_len: usize) {
        let mut log = self.log.lock();
        entry.id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(entry);
        log.entries.truncate(max_len);
    }

    /// Drops the oldest entries past `max_len`.
    pub fn trim(&self, max_len: usize) {
        self.log.lock().entries.truncate(max_len);
    }

    /// The `count` newest entries, newest first.
    pub fn newest(&self, count: usize) -> Vec<Entry> {
        self.log.lock().entries.iter().take(count).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.log.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SLOWLOG RESET: forgets the entries, not the ids.
    pub fn reset(&self) {
        self.log.lock().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::clients::ClientHandle;
    use crate::telemetry::commandstats::Outcome;
    use std::time::Duration;

    fn event<'a>(client: &'a ClientHandle, name: &'static str, args: &'a [Bytes]) -> CommandEvent<'a> {
        CommandEvent {
            name,
            args,
            duration: Duration::from_micros(5),
            outcome: Outcome::Ok,
            nested: false,
            from_script: false,
            skip_slowlog: false,
            skip_monitor: false,
            fast: false,
            client,
            db: 0,
        }
    }

    fn client() -> ClientHandle {
        let addr = "127.0.0.1:4242".parse().unwrap();
        ClientHandle::new(7, addr, addr, -1)
    }

    #[test]
    fn truncates_arguments_as_redis() {
        let c = client();
        let mut args: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        args[1] = Bytes::from(vec![b'x'; 200]);
        let e = Entry::new(&event(&c, "rpush", &args), 5);
        assert_eq!(e.args.len(), 32);
        assert_eq!(&e.args[1][..MAX_STRING], &[b'x'; MAX_STRING][..]);
        assert_eq!(&e.args[1][MAX_STRING..], b"... (72 more bytes)");
        assert_eq!(e.args[30], Bytes::from("30"));
        assert_eq!(e.args[31], Bytes::from("... (9 more arguments)"));
        assert_eq!(e.peer, Bytes::from("127.0.0.1:4242"));
        // Exactly 32 arguments are all kept.
        let e = Entry::new(&event(&c, "rpush", &args[..32]), 5);
        assert_eq!(e.args[31], Bytes::from("31"));
    }

    #[test]
    fn redacts_credentials() {
        let c = client();
        let args = [Bytes::from("auth"), Bytes::from("user"), Bytes::from("secret")];
        let e = Entry::new(&event(&c, "auth", &args), 5);
        assert_eq!(e.args, vec![Bytes::from("auth"), Bytes::from("(redacted)"), Bytes::from("(redacted)")]);
    }

    #[test]
    fn ids_grow_and_survive_reset_and_trim() {
        let c = client();
        let log = SlowLog::default();
        let args = [Bytes::from("get"), Bytes::from("k")];
        for _ in 0..5 {
            log.push(Entry::new(&event(&c, "get", &args), 1), 3);
        }
        let ids: Vec<u64> = log.newest(10).iter().map(|e| e.id).collect();
        assert_eq!(ids, [4, 3, 2]);
        log.trim(1);
        assert_eq!(log.len(), 1);
        log.reset();
        assert!(log.is_empty());
        log.push(Entry::new(&event(&c, "get", &args), 1), 3);
        assert_eq!(log.newest(1)[0].id, 5);
    }
}
