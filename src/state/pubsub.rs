//! Pub/Sub: who is subscribed to what (channels, patterns, shard channels), and each client's
//! queue of messages not yet sent.
//!
//! PUBLISH encodes a message once per protocol, appends it to every receiver's queue and wakes
//! the receiver's connection, which sends it whether or not the client is sending commands. The
//! publisher also pays the output-buffer check: a receiver whose queued bytes reach the
//! `pubsub` class's hard limit, or stay over the soft limit for longer than its seconds, is
//! disconnected and its queue dropped, so a slow subscriber never makes memory grow without
//! bound. This module knows nothing of sockets or commands.

use super::clients::ClientHandle;
pub use super::subscriber::{ClientPubSub, Kind};
use crate::config::{NotifyFlags, ObufLimit};
use crate::glob::glob_match;
use crate::reply::Reply;
use bytes::{Bytes, BytesMut};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

type Subscribers = BTreeMap<u64, Arc<ClientHandle>>;

#[derive(Default)]
struct Registry {
    /// Indexed by `Kind`: channel, pattern, shard channel → subscribed clients.
    maps: [HashMap<Bytes, Subscribers>; 3],
}

/// The server-wide subscription registry (held in `Shared`).
pub struct PubSub {
    registry: RwLock<Registry>,
    /// `notify-keyspace-events`, copied here so that writes check it without the config lock.
    notify_flags: AtomicU32,
}

impl Default for PubSub {
    fn default() -> Self {
        PubSub { registry: RwLock::new(Registry::default()), notify_flags: AtomicU32::new(0) }
    }
}

/// A message encoded for both protocols, built once per PUBLISH.
struct Frames {
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
    items: Vec<Reply>,
}

impl Frames {
    fn new(items: Vec<Reply>) -> Frames {
        Frames { resp2: None, resp3: None, items }
    }

    fn get(&mut self, protocol: u8) -> Bytes {
        let slot = if protocol == 3 { &mut self.resp3 } else { &mut self.resp2 };
        slot.get_or_insert_with(|| {
            let mut out = BytesMut::new();
            Reply::Push(self.items.clone()).encode(protocol, &mut out);
            out.freeze()
        })
        .clone()
    }
}

impl PubSub {
    pub fn notify_flags(&self) -> NotifyFlags {
        NotifyFlags::from_bits_truncate(self.notify_flags.load(Ordering::Relaxed))
    }

    pub fn set_notify_flags(&self, flags: NotifyFlags) {
        self.notify_flags.store(flags.bits(), Ordering::Relaxed);
    }

    /// SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: one confirmation per name, in order.
    pub fn subscribe(&self, client: &Arc<ClientHandle>, kind: Kind, names: &[Bytes]) -> Vec<Reply> {
        let mut reg = self.registry.write();
        let mut subs = client.pubsub.subs.lock();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if subs[kind.index()].insert(name.clone()) {
                reg.maps[kind.index()].entry(name.clone()).or_default().insert(client.id, client.clone());
                client.pubsub.counts[kind.index()].fetch_add(1, Ordering::Relaxed);
            }
            out.push(confirmation(kind.subscribe_word(), Reply::Bulk(name.clone()), client.pubsub.reply_count(kind)));
        }
        out
    }

    /// UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE: the given names, or every subscription of the
    /// kind when `names` is empty; with none at all, one confirmation with a null name.
    pub fn unsubscribe(&self, client: &ClientHandle, kind: Kind, names: &[Bytes]) -> Vec<Reply> {
        let mut reg = self.registry.write();
        let mut subs = client.pubsub.subs.lock();
        let all: Vec<Bytes>;
        let names = if names.is_empty() {
            all = subs[kind.index()].iter().cloned().collect();
            &all[..]
        } else {
            names
        };
        let mut out = Vec::with_capacity(names.len().max(1));
        for name in names {
            if subs[kind.index()].remove(name) {
                client.pubsub.counts[kind.index()].fetch_sub(1, Ordering::Relaxed);
                let map = &mut reg.maps[kind.index()];
                if let Some(clients) = map.get_mut(name) {
                    clients.remove(&client.id);
                    if clients.is_empty() {
                        map.remove(name);
                    }
                }
            }
            out.push(confirmation(kind.unsubscribe_word(), Reply::Bulk(name.clone()), client.pubsub.reply_count(kind)));
        }
        if out.is_empty() {
            out.push(confirmation(kind.unsubscribe_word(), Reply::Null, client.pubsub.reply_count(kind)));
        }
        out
    }

    /// Drops every subscription of a client (RESET, disconnect) without confirmations.
    pub fn remove_client(&self, client: &ClientHandle) {
        let mut reg = self.registry.write();
        let mut subs = client.pubsub.subs.lock();
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            let map = &mut reg.maps[kind.index()];
            for name in subs[kind.index()].drain() {
                if let Some(clients) = map.get_mut(&name) {
                    clients.remove(&client.id);
                    if clients.is_empty() {
                        map.remove(&name);
                    }
                }
            }
            client.pubsub.counts[kind.index()].store(0, Ordering::Relaxed);
        }
        drop(subs);
        client.pubsub.clear();
    }

    /// PUBLISH (or SPUBLISH with `shard`): queues the message for every receiver and returns
    /// how many received it (a client matching several patterns counts once per pattern).
    pub fn publish(&self, channel: &[u8], message: &[u8], shard: bool, limit: ObufLimit) -> usize {
        let reg = self.registry.read();
        let channel = Bytes::copy_from_slice(channel);
        let message = Bytes::copy_from_slice(message);
        let mut receivers = 0;
        let now = now_ms();
        let direct = if shard { Kind::Shard } else { Kind::Channel };
        if let Some(clients) = reg.maps[direct.index()].get(&channel) {
            let word = if shard { "smessage" } else { "message" };
            let mut frames =
                Frames::new(vec![Reply::bulk(word), Reply::Bulk(channel.clone()), Reply::Bulk(message.clone())]);
            for c in clients.values() {
                deliver(c, &mut frames, limit, now);
                receivers += 1;
            }
        }
        if !shard {
            for (pattern, clients) in &reg.maps[Kind::Pattern.index()] {
                if !glob_match(pattern, &channel, false) {
                    continue;
                }
                let mut frames = Frames::new(vec![
                    Reply::bulk("pmessage"),
                    Reply::Bulk(pattern.clone()),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]);
                for c in clients.values() {
                    deliver(c, &mut frames, limit, now);
                    receivers += 1;
                }
            }
        }
        receivers
    }

    /// How many clients PUBLISH would reach right now (used while notifications are deferred).
    pub fn receivers(&self, channel: &[u8], shard: bool) -> usize {
        let reg = self.registry.read();
        let direct = if shard { Kind::Shard } else { Kind::Channel };
        let mut n = reg.maps[direct.index()].get(channel).map_or(0, BTreeMap::len);
        if !shard {
            n += reg.maps[Kind::Pattern.index()]
                .iter()
                .filter(|(p, _)| glob_match(p, channel, false))
                .map(|(_, c)| c.len())
                .sum::<usize>();
        }
        n
    }

    /// Whether anyone at all listens: notifications skip building their channel names if not.
    pub fn has_subscribers(&self) -> bool {
        let reg = self.registry.read();
        !reg.maps[Kind::Channel.index()].is_empty() || !reg.maps[Kind::Pattern.index()].is_empty()
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active channel names matching `pattern`.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let reg = self.registry.read();
        reg.maps[kind.index()].keys().filter(|c| pattern.is_none_or(|p| glob_match(p, c, false))).cloned().collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB for one channel.
    pub fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        self.registry.read().maps[kind.index()].get(channel).map_or(0, BTreeMap::len)
    }

    /// Distinct channels (or patterns, shard channels) with at least one subscriber: PUBSUB
    /// NUMPAT and INFO's `pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`.
    pub fn distinct(&self, kind: Kind) -> usize {
        self.registry.read().maps[kind.index()].len()
    }
}

/// Milliseconds since the first call, plus one (0 means "never" in `over_soft_since`): the
/// clock of the output-buffer soft limit, shared by Pub/Sub and MONITOR.
pub fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

fn confirmation(word: &'static str, name: Reply, count: i64) -> Reply {
    Reply::Push(vec![Reply::bulk(word), name, Reply::Int(count)])
}

/// Encodes the message for the client's protocol (once per protocol per PUBLISH) and queues it.
fn deliver(client: &ClientHandle, frames: &mut Frames, limit: ObufLimit, now: u64) {
    if client.is_killed() {
        return;
    }
    client.queue_message(frames.get(client.protocol.load(Ordering::Relaxed)), limit, now);
}

impl ClientHandle {
    /// Appends one encoded message (Pub/Sub, MONITOR) to the client's outbound queue, wakes its
    /// connection, and enforces the output buffer limit at the sender's expense: over the hard
    /// limit, or over the soft one for longer than its seconds, the client is disconnected and
    /// its queue dropped. `now` is [`now_ms`].
    pub fn queue_message(&self, frame: Bytes, limit: ObufLimit, now: u64) {
        if self.is_killed() {
            return;
        }
        let ps = &self.pubsub;
        let len = frame.len();
        ps.queue.lock().push_back(frame);
        let queued = (ps.queued.fetch_add(len, Ordering::Relaxed) + len) as u64;
        ps.ready.notify_one();
        let over_hard = limit.hard > 0 && queued >= limit.hard;
        let mut over_soft = false;
        if limit.soft > 0 && queued >= limit.soft {
            let since = match ps.over_soft_since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => now,
                Err(since) => since,
            };
            over_soft = now.saturating_sub(since) > limit.soft_seconds.saturating_mul(1000);
        } else {
            ps.over_soft_since.store(0, Ordering::Relaxed);
        }
        if over_hard || over_soft {
            tracing::warn!(
                client = self.id,
                addr = %self.addr,
                queued_bytes = queued,
                "client closed for overcoming of output buffer limits"
            );
            self.kill();
            ps.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64) -> Arc<ClientHandle> {
        let addr = "127.0.0.1:1".parse().unwrap();
        Arc::new(ClientHandle::new(id, addr, addr, -1))
    }

    fn queued(c: &ClientHandle) -> String {
        let mut out = BytesMut::new();
        c.pubsub.drain_into(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    const NO_LIMIT: ObufLimit = ObufLimit { hard: 0, soft: 0, soft_seconds: 0 };

    #[test]
    fn subscriptions_counts_and_confirmations() {
        let ps = PubSub::default();
        let a = client(1);
        let r = ps.subscribe(&a, Kind::Channel, &[Bytes::from("x"), Bytes::from("y"), Bytes::from("x")]);
        let counts: Vec<Reply> =
            r.iter().map(|f| if let Reply::Push(v) = f { v[2].clone() } else { Reply::Null }).collect();
        assert_eq!(counts, vec![Reply::Int(1), Reply::Int(2), Reply::Int(2)]);
        ps.subscribe(&a, Kind::Pattern, &[Bytes::from("p*")]);
        ps.subscribe(&a, Kind::Shard, &[Bytes::from("s")]);
        assert_eq!(
            (a.pubsub.count(Kind::Channel), a.pubsub.count(Kind::Pattern), a.pubsub.count(Kind::Shard)),
            (2, 1, 1)
        );
        assert!(a.pubsub.active());
        assert_eq!(ps.distinct(Kind::Channel), 2);
        // Unsubscribing all of one kind leaves the others; nothing left gives a null name.
        assert_eq!(ps.unsubscribe(&a, Kind::Channel, &[]).len(), 2);
        assert_eq!(
            ps.unsubscribe(&a, Kind::Channel, &[]),
            vec![Reply::Push(vec![Reply::bulk("unsubscribe"), Reply::Null, Reply::Int(1)])]
        );
        ps.remove_client(&a);
        assert!(!a.pubsub.active());
        assert_eq!((ps.distinct(Kind::Channel), ps.distinct(Kind::Pattern), ps.distinct(Kind::Shard)), (0, 0, 0));
    }

    #[test]
    fn publish_reaches_channels_and_patterns_in_each_protocol() {
        let ps = PubSub::default();
        let (a, b) = (client(1), client(2));
        b.protocol.store(3, Ordering::Relaxed);
        ps.subscribe(&a, Kind::Channel, &[Bytes::from("news")]);
        ps.subscribe(&b, Kind::Pattern, &[Bytes::from("n*"), Bytes::from("*s")]);
        assert_eq!(ps.publish(b"news", b"hi", false, NO_LIMIT), 3);
        assert_eq!(ps.receivers(b"news", false), 3);
        assert_eq!(ps.publish(b"news", b"hi", true, NO_LIMIT), 0);
        assert_eq!(queued(&a), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
        let got = queued(&b);
        assert_eq!(got.matches(">4\r\n$8\r\npmessage\r\n").count(), 2, "{got}");
        assert!(queued(&a).is_empty());
        assert_eq!(a.pubsub.queued_bytes(), 0);
    }

    #[test]
    fn hard_limit_kills_and_drops_the_queue() {
        let ps = PubSub::default();
        let a = client(1);
        ps.subscribe(&a, Kind::Channel, &[Bytes::from("c")]);
        let limit = ObufLimit { hard: 100, soft: 0, soft_seconds: 0 };
        ps.publish(b"c", &[b'x'; 40], false, limit);
        assert!(!a.is_killed());
        ps.publish(b"c", &[b'x'; 40], false, limit);
        assert!(a.is_killed());
        assert_eq!(a.pubsub.queued_bytes(), 0);
        // A killed client receives nothing more.
        ps.publish(b"c", &[b'x'; 40], false, limit);
        assert_eq!(a.pubsub.queued_bytes(), 0);
    }

    #[test]
    fn soft_limit_kills_only_after_its_seconds() {
        let a = client(1);
        let limit = ObufLimit { hard: 0, soft: 10, soft_seconds: 2 };
        let mut frames = Frames::new(vec![Reply::bulk("message"), Reply::bulk("c"), Reply::bulk("payload")]);
        deliver(&a, &mut frames, limit, 1_000);
        deliver(&a, &mut frames, limit, 3_000);
        assert!(!a.is_killed(), "exactly the soft seconds is still allowed");
        // Draining resets the clock.
        a.pubsub.drain_into(&mut BytesMut::new());
        deliver(&a, &mut frames, limit, 3_500);
        deliver(&a, &mut frames, limit, 5_000);
        assert!(!a.is_killed());
        deliver(&a, &mut frames, limit, 5_501);
        assert!(a.is_killed());
    }
}
