//! Keyspace notifications (`notify-keyspace-events`): `notify` publishes
//! `__keyspace@<db>__:<key>` → event and `__keyevent@<db>__:<event>` → key over Pub/Sub, as
//! Redis's `notifyKeyspaceEvent` does. Command handlers call it after their write succeeded.
//!
//! Deferral: a transaction or script must not announce writes that are later discarded or
//! retried. Between `defer_begin` and `defer_flush` / `defer_discard` (on the same thread),
//! `notify` and PUBLISH queue their messages in a thread-local buffer instead of sending them.

use super::Shared;
use crate::config::NotifyFlags;
use crate::storage::events::{self, KeyEvent};
use std::cell::RefCell;
use std::sync::{Arc, Weak};

/// A message held back while deferring.
struct Pending {
    channel: Vec<u8>,
    message: Vec<u8>,
    shard: bool,
}

thread_local! {
    /// `Some` while deferring; nested `defer_begin`s share one buffer (depth counted).
    static DEFERRED: RefCell<Option<(usize, Vec<Pending>)>> = const { RefCell::new(None) };
}

/// Starts holding back notifications and PUBLISHes made on this thread.
pub fn defer_begin() {
    DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_mut() {
            Some((depth, _)) => *depth += 1,
            None => *d = Some((1, Vec::new())),
        }
    });
}

/// Ends one level of deferral; at the outermost, sends everything held back, in order.
pub fn defer_flush(shared: &Shared) {
    let pending = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_mut() {
            Some((depth, _)) if *depth > 1 => {
                *depth -= 1;
                None
            }
            _ => d.take().map(|(_, p)| p),
        }
    });
    for p in pending.into_iter().flatten() {
        send(shared, &p.channel, &p.message, p.shard);
    }
}

/// Ends deferral and drops everything held back (the run is discarded or retried).
pub fn defer_discard() {
    DEFERRED.with(|d| d.borrow_mut().take());
}

/// Whether this thread is deferring.
pub fn deferring() -> bool {
    DEFERRED.with(|d| d.borrow().is_some())
}

/// PUBLISH / SPUBLISH and notifications go through here: sent now, or held back while
/// deferring (the reply then counts the receivers of this moment). Returns the receivers.
pub fn publish(shared: &Shared, channel: &[u8], message: &[u8], shard: bool) -> usize {
    let held = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some((_, pending)) => {
            pending.push(Pending { channel: channel.to_vec(), message: message.to_vec(), shard });
            true
        }
        None => false,
    });
    if held {
        shared.pubsub.receivers(channel, shard)
    } else {
        send(shared, channel, message, shard)
    }
}

fn send(shared: &Shared, channel: &[u8], message: &[u8], shard: bool) -> usize {
    let limit = shared.config.read().client_output_buffer_limit.pubsub;
    shared.pubsub.publish(channel, message, shard, limit)
}

/// Announces `event` on `key` of logical database `db` if `class` is enabled: on
/// `__keyspace@<db>__:<key>` (flag K) and `__keyevent@<db>__:<event>` (flag E).
pub fn notify(shared: &Shared, db: usize, class: NotifyFlags, event: &str, key: &[u8]) {
    let flags = shared.pubsub.notify_flags();
    if !flags.intersects(class) || !shared.pubsub.has_subscribers() {
        return;
    }
    let mut digits = itoa::Buffer::new();
    let db = digits.format(db).as_bytes();
    if flags.contains(NotifyFlags::KEYSPACE) {
        let mut channel = Vec::with_capacity(16 + db.len() + key.len());
        channel.extend_from_slice(b"__keyspace@");
        channel.extend_from_slice(db);
        channel.extend_from_slice(b"__:");
        channel.extend_from_slice(key);
        publish(shared, &channel, event.as_bytes(), false);
    }
    if flags.contains(NotifyFlags::KEYEVENT) {
        let mut channel = Vec::with_capacity(16 + db.len() + event.len());
        channel.extend_from_slice(b"__keyevent@");
        channel.extend_from_slice(db);
        channel.extend_from_slice(b"__:");
        channel.extend_from_slice(event.as_bytes());
        publish(shared, &channel, key, false);
    }
}

/// Announces a write command's `event` on `key` of logical database `db`, in Redis's order
/// around what its batches reported: any key that expired, and `key`'s creation, come first;
/// `del` follows if the command emptied `key`. Other keys' events wait for their own `event`
/// (or the end of the command). Call it after the write succeeded.
pub fn event(shared: &Shared, db: usize, class: NotifyFlags, event: &str, key: &[u8]) {
    if shared.pubsub.notify_flags().is_empty() {
        return;
    }
    let journal = events::take_journal();
    let mut emptied = false;
    let mut later = Vec::new();
    for (kind, pdb, k) in journal {
        let this = k == key && shared.storage.logical(pdb) == Some(db);
        match kind {
            KeyEvent::Expired => announce(shared, kind, pdb, &k),
            KeyEvent::New if this => announce(shared, kind, pdb, &k),
            KeyEvent::Emptied if this && !emptied => emptied = true,
            _ => later.push((kind, pdb, k)),
        }
    }
    events::journal(later);
    notify(shared, db, class, event, key);
    if emptied {
        notify(shared, db, NotifyFlags::GENERIC, "del", key);
    }
}

/// Announces whatever key events are left in this thread's journal (a lazily expired key, a
/// key a command created without announcing it). Runs after every command.
pub fn flush_key_events(shared: &Shared) {
    for (kind, pdb, key) in events::take_journal() {
        announce(shared, kind, pdb, &key);
    }
}

fn announce(shared: &Shared, kind: KeyEvent, pdb: u8, key: &[u8]) {
    let Some(db) = shared.storage.logical(pdb) else { return };
    match kind {
        KeyEvent::New => notify(shared, db, NotifyFlags::NEW, "new", key),
        KeyEvent::Expired => notify(shared, db, NotifyFlags::EXPIRED, "expired", key),
        KeyEvent::Emptied => notify(shared, db, NotifyFlags::GENERIC, "del", key),
    }
}

/// Applies `notify-keyspace-events` to storage: it records key events only while some class
/// and a channel kind (K or E) are on. Run at start-up and after CONFIG SET.
pub fn apply_config(shared: &Shared) {
    let flags = shared.config.read().notify_keyspace_events;
    shared.pubsub.set_notify_flags(flags);
    let on = flags.intersects(NotifyFlags::KEYSPACE | NotifyFlags::KEYEVENT)
        && flags.intersects(NotifyFlags::ALL | NotifyFlags::NEW);
    shared.storage.set_key_events(on);
}

/// Start-up: applies the configuration and routes active expiry's removals to `expired`
/// notifications.
pub fn install(shared: &Arc<Shared>) {
    apply_config(shared);
    let weak: Weak<Shared> = Arc::downgrade(shared);
    shared.storage.set_expired_hook(Box::new(move |pdb, key| {
        if let Some(shared) = weak.upgrade() {
            announce(&shared, KeyEvent::Expired, pdb, key);
        }
    }));
    let weak: Weak<Shared> = Arc::downgrade(shared);
    shared.storage.evict.set_hook(Box::new(move |pdb, key| {
        if let Some(shared) = weak.upgrade() {
            if let Some(db) = shared.storage.logical(pdb) {
                notify(&shared, db, NotifyFlags::EVICTED, "evicted", key);
            }
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::state::clients::ClientHandle;
    use crate::state::pubsub::Kind;
    use crate::storage::{Storage, StorageOptions};
    use bytes::{Bytes, BytesMut};

    fn shared(dir: &std::path::Path, flags: &str) -> Shared {
        let opts = StorageOptions { dir: dir.to_path_buf(), ..StorageOptions::default() };
        let storage = Storage::open(&opts, Arc::new(crate::clock::Clock::new())).unwrap();
        let config = Config { notify_keyspace_events: NotifyFlags::parse(flags).unwrap(), ..Config::default() };
        let telemetry = crate::telemetry::Telemetry::new(std::iter::empty(), &config);
        let s = Shared::new(storage, config, telemetry);
        apply_config(&s);
        s
    }

    fn listener(s: &Shared) -> Arc<ClientHandle> {
        let addr = "127.0.0.1:1".parse().unwrap();
        let c = Arc::new(ClientHandle::new(1, addr, addr, -1));
        s.pubsub.subscribe(&c, Kind::Pattern, &[Bytes::from("*")]);
        c
    }

    /// The channels of the messages queued for `c`, in order.
    fn channels(c: &ClientHandle) -> Vec<String> {
        let mut out = BytesMut::new();
        c.pubsub.drain_into(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let lines: Vec<&str> = text.split("\r\n").collect();
        // *4 $8 pmessage $1 * $n <channel> $n <message>
        lines.chunks(9).filter(|c| c.len() == 9).map(|c| format!("{} {}", c[6], c[8])).collect()
    }

    #[test]
    fn deferred_messages_wait_for_flush_or_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(dir.path(), "KEA");
        let c = listener(&s);
        defer_begin();
        assert_eq!(publish(&s, b"ch", b"one", false), 1);
        notify(&s, 0, NotifyFlags::STRING, "set", b"k");
        assert!(deferring());
        assert!(channels(&c).is_empty());
        defer_flush(&s);
        assert!(!deferring());
        assert_eq!(channels(&c), vec!["ch one", "__keyspace@0__:k set", "__keyevent@0__:set k"]);

        defer_begin();
        publish(&s, b"ch", b"two", false);
        defer_discard();
        assert!(channels(&c).is_empty());

        // Nested: only the outermost flush sends.
        defer_begin();
        defer_begin();
        publish(&s, b"ch", b"three", false);
        defer_flush(&s);
        assert!(channels(&c).is_empty());
        defer_flush(&s);
        assert_eq!(channels(&c), vec!["ch three"]);
    }

    #[test]
    fn journal_events_surround_the_command_event() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(dir.path(), "EAn");
        let c = listener(&s);
        events::journal(vec![
            (KeyEvent::New, 0, b"other".to_vec()),
            (KeyEvent::Emptied, 0, b"src".to_vec()),
            (KeyEvent::Expired, 0, b"old".to_vec()),
            (KeyEvent::New, 0, b"dst".to_vec()),
        ]);
        event(&s, 0, NotifyFlags::LIST, "lpush", b"dst");
        event(&s, 0, NotifyFlags::LIST, "lpop", b"src");
        flush_key_events(&s);
        assert_eq!(
            channels(&c),
            vec![
                "__keyevent@0__:expired old",
                "__keyevent@0__:new dst",
                "__keyevent@0__:lpush dst",
                "__keyevent@0__:lpop src",
                "__keyevent@0__:del src",
                "__keyevent@0__:new other",
            ]
        );
    }
}
