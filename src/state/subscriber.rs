//! One client's side of Pub/Sub: its subscriptions and its queue of encoded messages (held in
//! its `ClientHandle`); the registry of who is subscribed to what is `pubsub`.

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The three subscription families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    pub(super) fn index(self) -> usize {
        self as usize
    }

    pub(super) fn subscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    pub(super) fn unsubscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

/// One client's side of Pub/Sub: its subscriptions and its queue of encoded messages.
#[derive(Default)]
pub struct ClientPubSub {
    pub(super) subs: Mutex<[HashSet<Bytes>; 3]>,
    /// Subscription counts by `Kind`, readable without the lock (CLIENT LIST, subscriber mode).
    pub(super) counts: [AtomicUsize; 3],
    pub(super) queue: Mutex<VecDeque<Bytes>>,
    /// Bytes in `queue`: what the output-buffer limits measure.
    pub(super) queued: AtomicUsize,
    /// Milliseconds (since the registry's epoch, plus one) since when `queued` has been over the
    /// soft limit; 0 = not over it.
    pub(super) over_soft_since: AtomicU64,
    pub(super) ready: tokio::sync::Notify,
}

impl ClientPubSub {
    pub fn count(&self, kind: Kind) -> usize {
        self.counts[kind.index()].load(Ordering::Relaxed)
    }

    /// The client's subscriptions of one kind (ACL: revoked channels).
    pub fn subscriptions(&self, kind: Kind) -> Vec<Bytes> {
        self.subs.lock()[kind.index()].iter().cloned().collect()
    }

    /// Subscribed to anything: RESP2 clients are then in subscriber mode (CLIENT LIST flag P).
    pub fn active(&self) -> bool {
        self.counts.iter().any(|c| c.load(Ordering::Relaxed) > 0)
    }

    /// The count SUBSCRIBE-family replies report: channels and patterns together; shard
    /// channels on their own.
    pub(super) fn reply_count(&self, kind: Kind) -> i64 {
        let n = match kind {
            Kind::Shard => self.count(Kind::Shard),
            _ => self.count(Kind::Channel) + self.count(Kind::Pattern),
        };
        n as i64
    }

    /// Bytes queued and not yet handed to the socket (CLIENT LIST omem).
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Messages queued and not yet handed to the socket (CLIENT LIST oll).
    pub fn queued_messages(&self) -> usize {
        self.queue.lock().len()
    }

    /// Resolves when messages may be waiting (a permit is kept if none is waiting yet).
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    /// Moves every queued message into `out`; returns whether there were any.
    pub fn drain_into(&self, out: &mut BytesMut) -> bool {
        let mut q = self.queue.lock();
        if q.is_empty() {
            return false;
        }
        let mut n = 0;
        for frame in q.drain(..) {
            n += frame.len();
            out.extend_from_slice(&frame);
        }
        drop(q);
        self.queued.fetch_sub(n, Ordering::Relaxed);
        self.over_soft_since.store(0, Ordering::Relaxed);
        true
    }

    pub(super) fn clear(&self) {
        let mut q = self.queue.lock();
        q.clear();
        self.queued.store(0, Ordering::Relaxed);
    }
}
