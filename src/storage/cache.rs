//! The hot cache (DESIGN.md §6): decoded records of recently used keys, served without touching
//! RocksDB. It holds metadata records (a string's value is inline in its record), point reads
//! of `subkeys` records (hash fields, set members), and small collections whole (every record
//! under one collection's prefix in the `subkeys` or `zset_score` family, in key order).
//!
//! It owns no truth: every entry is a copy of what RocksDB holds, and evicting one loses
//! nothing. It must never serve a stale copy, which two rules guarantee:
//! - **Writes** (`batch::write_ops`, after the RocksDB write, while the writer still holds the
//!   key's lock) update or drop the entries they change, after bumping the key's *stamp*.
//! - **Fills** (a read that missed and went to RocksDB) take the key's stamp *before* the miss
//!   and insert only if no write bumped it since, checked under the shard lock. A read that
//!   raced a write either loses its fill or is overwritten by the writer's update, so an older
//!   value can never be put back. FLUSHDB/FLUSHALL bump the epoch that every stamp includes.
//!
//! Admission and eviction: S3-FIFO (Yang et al., SOSP '23) per shard. New entries go to a small
//! FIFO (10% of the bytes); those hit again while there move to the main FIFO, the
//! others leave and their hash joins a ghost FIFO, so that a key coming back soon enters main
//! directly. Main gives entries hit since their last pass another round (up to three). A scan
//! of cold keys only ever churns the small FIFO, the hot set in main survives it, and every
//! operation is O(1) with one short lock: chosen over W-TinyLFU (a frequency sketch to keep
//! and age) and sampled LFU (sampling costs on every eviction) for that simplicity.
//!
//! Sharded 64 ways by key hash; bytes are accounted per entry (key, value, and a fixed
//! overhead for the table slot, the queue slot and the allocations).

use bytes::Bytes;
use hashbrown::HashTable;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

const SHARDS: usize = 64;
const STAMPS: usize = 1 << 16;
/// Bytes charged per entry besides its key and value: the slab slot, the table and queue
/// slots, the key's heap block and the value's shared header (with the allocator's rounding).
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Slot>() + 80;
/// Bytes charged per record of a whole collection besides its key and value: the pair of
/// `Bytes` and the two heap blocks behind them.
const MEMBER_OVERHEAD: usize = std::mem::size_of::<(Bytes, Bytes)>() + 64;
/// Collections with more records than this are not kept whole (point reads are still cached).
pub const MAX_MEMBERS: usize = 256;
/// Nor those whose records add up to more bytes than this.
pub const MAX_MEMBER_BYTES: usize = 32 << 10;
/// Hits that move an entry of the small FIFO to main. The paper asks for two; one keeps more
/// of a zipfian working set (a simulation of 1.4M keys, θ 0.99, 57k entries: hit ratio 0.746
/// against 0.737) while a scan, which reads each key once, still never gets in.
const PROMOTE_FREQ: u8 = 1;
const MAX_FREQ: u8 = 3;
const HASH_SEED: u64 = 0x5354_5241_5441_4843;
/// Stamps and the epoch count writes under way in their high 32 bits (see `begin_write`).
const WRITER: u64 = 1 << 32;

/// What kind of entry a key names: the same bytes are a different entry in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A metadata record by metadata key.
    Meta = 0,
    /// A `subkeys` record by its key.
    Sub = 1,
    /// All `subkeys` records under a collection prefix.
    SubsOf = 2,
    /// All `zset_score` records under a collection prefix.
    ScoresOf = 3,
}

/// A collection's records in key order: (key suffix after the prefix, value). `whole` is false
/// for a marker that the collection is too big to keep (so reads stop trying).
#[derive(Debug, Default)]
pub struct Members {
    pub items: Vec<(Bytes, Bytes)>,
    pub whole: bool,
}

impl Members {
    fn charge(&self) -> usize {
        self.items.iter().map(|(k, v)| alloc_size(k.len()) + alloc_size(v.len()) + MEMBER_OVERHEAD).sum()
    }
}

/// The bytes an allocation of `n` takes: jemalloc's size class (four classes per doubling,
/// 16 bytes apart below 128), so that values just past a class boundary are charged what they
/// really cost (a 1,030-byte value takes 1,280).
fn alloc_size(n: usize) -> usize {
    if n <= 16 {
        return 16;
    }
    let k = usize::BITS - 1 - (n - 1).leading_zeros();
    let step = (1usize << (k - 2)).max(16);
    n.div_ceil(step) * step
}

/// A cached value.
#[derive(Clone, Debug)]
pub enum Cached {
    /// A record, or None: the key has none.
    Record(Option<Bytes>),
    Members(Arc<Members>),
}

impl Cached {
    fn charge(&self) -> usize {
        match self {
            Cached::Record(r) => r.as_ref().map_or(0, |b| alloc_size(b.len())),
            Cached::Members(m) => m.charge(),
        }
    }
}

/// Taken before a read that missed; a fill with it succeeds only if no write came between.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    hash: u64,
    epoch: u64,
    stamp: u64,
}

/// Counters for INFO.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
}

pub struct HotCache {
    shards: Box<[Mutex<Shard>]>,
    stamps: Box<[AtomicU64]>,
    epoch: AtomicU64,
    shard_capacity: AtomicUsize,
    pub stats: CacheStats,
}

struct Entry {
    hash: u64,
    kind: Kind,
    key: Box<[u8]>,
    value: Cached,
    charge: usize,
    freq: u8,
    in_main: bool,
    /// Writes of this key under way (`begin_write`): not served while any is.
    pending: u32,
}

/// A slab slot; `gen` changes whenever the slot is freed, so queue references to an entry
/// removed early (an invalidated key) are recognised as stale and skipped.
struct Slot {
    gen: u32,
    entry: Option<Entry>,
}

#[derive(Default)]
struct Shard {
    table: HashTable<u32>,
    slab: Vec<Slot>,
    free: Vec<u32>,
    small: VecDeque<(u32, u32)>,
    main: VecDeque<(u32, u32)>,
    ghost: VecDeque<u64>,
    ghosts: HashTable<u64>,
    used: usize,
    small_used: usize,
    entries: usize,
    main_entries: usize,
    /// Queue references to entries removed early (invalidated): swept out when they outnumber
    /// the live entries, so a cache below its size under churn does not grow its queues.
    stale: usize,
}

fn hash_of(kind: Kind, key: &[u8]) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(HASH_SEED).build_hasher();
    h.write_u8(kind as u8);
    h.write(key);
    h.finish()
}

impl HotCache {
    pub fn new(capacity: u64) -> HotCache {
        HotCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            stamps: (0..STAMPS).map(|_| AtomicU64::new(0)).collect(),
            epoch: AtomicU64::new(0),
            shard_capacity: AtomicUsize::new(per_shard(capacity)),
            stats: CacheStats::default(),
        }
    }

    fn shard(&self, hash: u64) -> &Mutex<Shard> {
        &self.shards[(hash >> 58) as usize % SHARDS]
    }

    fn stamp(&self, hash: u64) -> &AtomicU64 {
        &self.stamps[hash as usize % STAMPS]
    }

    pub fn enabled(&self) -> bool {
        self.shard_capacity.load(Ordering::Relaxed) > 0
    }

    /// The cached value of `key`, or a ticket to fill it with after reading RocksDB.
    pub fn get(&self, kind: Kind, key: &[u8]) -> Result<Cached, Ticket> {
        let hash = hash_of(kind, key);
        // Taken before looking, so a write after this point makes the fill fail.
        let ticket =
            Ticket { hash, epoch: self.epoch.load(Ordering::Acquire), stamp: self.stamp(hash).load(Ordering::Acquire) };
        if !self.enabled() {
            return Err(ticket);
        }
        let mut shard = self.shard(hash).lock();
        match shard.find_mut(hash, kind, key).filter(|e| e.pending == 0) {
            Some(e) => {
                e.freq = (e.freq + 1).min(MAX_FREQ);
                let v = e.value.clone();
                drop(shard);
                // A too-big marker serves nothing: the read goes to RocksDB.
                let served = !matches!(&v, Cached::Members(m) if !m.whole);
                let counter = if served { &self.stats.hits } else { &self.stats.misses };
                counter.fetch_add(1, Ordering::Relaxed);
                Ok(v)
            }
            // Counted when the read that missed fills (`fill`): a read that gives up for the
            // disk and runs again on a blocking thread looks twice but misses once.
            None => Err(ticket),
        }
    }

    /// The collection under `prefix` if it is kept whole: a point read's first look (counted
    /// as a hit only when it serves; otherwise the point read's own lookup counts).
    pub fn whole_members(&self, kind: Kind, prefix: &[u8]) -> Option<Arc<Members>> {
        if !self.enabled() {
            return None;
        }
        let hash = hash_of(kind, prefix);
        let mut shard = self.shard(hash).lock();
        let e = shard.find_mut(hash, kind, prefix).filter(|e| e.pending == 0)?;
        let Cached::Members(m) = &e.value else { return None };
        if !m.whole {
            return None;
        }
        let m = m.clone();
        e.freq = (e.freq + 1).min(MAX_FREQ);
        drop(shard);
        self.stats.hits.fetch_add(1, Ordering::Relaxed);
        Some(m)
    }

    /// Puts what a read found in RocksDB, unless a write (or flush) came since `ticket` or was
    /// under way then.
    pub fn fill(&self, kind: Kind, key: &[u8], ticket: Ticket, value: Cached) {
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        if ticket.stamp >= WRITER || ticket.epoch >= WRITER {
            return;
        }
        self.insert_checked(kind, key, ticket, value, true);
    }

    fn insert_checked(&self, kind: Kind, key: &[u8], ticket: Ticket, value: Cached, check_stamp: bool) {
        let cap = self.shard_capacity.load(Ordering::Relaxed);
        let charge = alloc_size(key.len()) + value.charge() + ENTRY_OVERHEAD;
        if cap == 0 || charge > cap / 4 {
            return;
        }
        let mut shard = self.shard(ticket.hash).lock();
        // Re-read under the lock: a cache turned off meanwhile was emptied shard by shard
        // under these locks, and must stay empty.
        let cap = self.shard_capacity.load(Ordering::Acquire);
        if cap == 0
            || self.epoch.load(Ordering::Acquire) != ticket.epoch
            || (check_stamp && self.stamp(ticket.hash).load(Ordering::Acquire) != ticket.stamp)
        {
            return;
        }
        if shard.find_mut(ticket.hash, kind, key).is_some() {
            return;
        }
        shard.insert(Entry {
            hash: ticket.hash,
            kind,
            key: key.into(),
            value,
            charge,
            freq: 0,
            in_main: false,
            pending: 0,
        });
        let evicted = shard.evict(cap);
        drop(shard);
        self.note_evictions(evicted);
    }

    /// Before a write of `key` reaches RocksDB: from now until its `end_write`, the entry is
    /// not served (readers go to RocksDB, which applies the whole write at once) and no read
    /// may fill it. So the cache never shows part of a write batch (one of a transaction's keys
    /// new and another old, or a value the batch itself overwrote).
    pub fn begin_write(&self, kind: Kind, key: &[u8]) {
        let hash = hash_of(kind, key);
        self.stamp(hash).fetch_add(WRITER + 1, Ordering::AcqRel);
        if !self.enabled() {
            return;
        }
        let mut shard = self.shard(hash).lock();
        match kind {
            // A collection kept whole is dropped; a marker that it is too big stays (it most
            // likely still is, and keeping it spares each read after a write the bounded
            // attempt to read it whole).
            Kind::SubsOf | Kind::ScoresOf => {
                if shard.find_mut(hash, kind, key).is_some_and(|e| matches!(&e.value, Cached::Members(m) if m.whole)) {
                    shard.remove(hash, kind, key);
                }
            }
            Kind::Meta | Kind::Sub => {
                if let Some(e) = shard.find_mut(hash, kind, key) {
                    e.pending += 1;
                }
            }
        }
    }

    /// After the write begun with `begin_write` (`value`: its committed content for a record,
    /// None if the write failed and the entry stays as it was). With `insert`, an absent entry
    /// is created (write-allocate); otherwise only an existing one is updated. A `Sub` value is
    /// copied when kept: it may be a slice of a client's read buffer, which the entry would
    /// otherwise keep alive uncharged (metadata records are always freshly encoded).
    pub fn end_write(&self, kind: Kind, key: &[u8], value: Option<Cached>, insert: bool) {
        let hash = hash_of(kind, key);
        // One writer fewer, and a new version: fills begun during the write stay refused.
        self.stamp(hash).fetch_add(1u64.wrapping_sub(WRITER), Ordering::AcqRel);
        if !self.enabled() || matches!(kind, Kind::SubsOf | Kind::ScoresOf) {
            return;
        }
        let mut shard = self.shard(hash).lock();
        let cap = self.shard_capacity.load(Ordering::Acquire);
        let Some(value) = value else {
            if let Some(e) = shard.find_mut(hash, kind, key) {
                e.pending = e.pending.saturating_sub(1);
            }
            return;
        };
        let charge = alloc_size(key.len()) + value.charge() + ENTRY_OVERHEAD;
        let too_big = charge > cap / 4;
        match shard.find_mut(hash, kind, key) {
            Some(_) if too_big => shard.remove(hash, kind, key),
            Some(e) => {
                let old = e.charge;
                e.value = match value {
                    Cached::Record(Some(v)) if kind == Kind::Sub => Cached::Record(Some(Bytes::copy_from_slice(&v))),
                    v => v,
                };
                e.charge = charge;
                e.freq = (e.freq + 1).min(MAX_FREQ);
                e.pending = e.pending.saturating_sub(1);
                let in_main = e.in_main;
                shard.used = shard.used + charge - old;
                if !in_main {
                    shard.small_used = shard.small_used + charge - old;
                }
            }
            None if insert && !too_big && cap > 0 => {
                shard.insert(Entry { hash, kind, key: key.into(), value, charge, freq: 0, in_main: false, pending: 0 });
            }
            None => return,
        }
        let evicted = shard.evict(cap);
        drop(shard);
        self.note_evictions(evicted);
    }

    /// A whole write of `key` (begin and end at once).
    #[cfg(test)]
    fn write(&self, kind: Kind, key: &[u8], value: Cached, insert: bool) {
        self.begin_write(kind, key);
        self.end_write(kind, key, Some(value), insert);
    }

    /// Notes that the collection under `prefix` is too big to keep whole. Holding no data, the
    /// marker needs no ticket: a write racing it can't make it stale.
    pub fn mark_too_big(&self, kind: Kind, prefix: &[u8]) {
        let hash = hash_of(kind, prefix);
        let ticket = Ticket { hash, epoch: self.epoch.load(Ordering::Acquire), stamp: 0 };
        self.insert_checked(kind, prefix, ticket, Cached::Members(Arc::new(Members::default())), false);
    }

    /// Before a write that deletes ranges (FLUSHDB, FLUSHALL): empties the cache and refuses
    /// every fill until `end_clear`.
    pub fn begin_clear(&self) {
        self.epoch.fetch_add(WRITER + 1, Ordering::AcqRel);
        self.drop_all();
    }

    pub fn end_clear(&self) {
        self.drop_all();
        self.epoch.fetch_add(1u64.wrapping_sub(WRITER), Ordering::AcqRel);
    }

    /// Forgets everything; fills begun before are refused.
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.drop_all();
    }

    fn drop_all(&self) {
        for s in self.shards.iter() {
            *s.lock() = Shard::default();
        }
    }

    /// Changes the capacity (CONFIG SET hot-cache-size), evicting at once down to it.
    pub fn set_capacity(&self, bytes: u64) {
        let cap = per_shard(bytes);
        let was = self.shard_capacity.swap(cap, Ordering::AcqRel);
        if cap == 0 {
            self.clear();
            return;
        }
        if was == 0 {
            // Writes while off bumped stamps but fills taken then must not land now, and
            // nothing may be left from before.
            self.clear();
        }
        for s in self.shards.iter() {
            let evicted = s.lock().evict(cap);
            self.note_evictions(evicted);
        }
    }

    fn note_evictions(&self, n: u64) {
        if n > 0 {
            self.stats.evictions.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Bytes charged and entries held, over all shards.
    pub fn usage(&self) -> (u64, u64) {
        let mut bytes = 0;
        let mut entries = 0;
        for s in self.shards.iter() {
            let s = s.lock();
            bytes += s.used as u64;
            entries += s.entries as u64;
        }
        (bytes, entries)
    }

    pub fn capacity(&self) -> u64 {
        (self.shard_capacity.load(Ordering::Relaxed) * SHARDS) as u64
    }
}

fn per_shard(bytes: u64) -> usize {
    usize::try_from(bytes / SHARDS as u64).unwrap_or(usize::MAX)
}

impl Shard {
    fn find_mut(&mut self, hash: u64, kind: Kind, key: &[u8]) -> Option<&mut Entry> {
        let Shard { table, slab, .. } = self;
        let idx = *table.find(hash, |&i| {
            slab[i as usize].entry.as_ref().is_some_and(|e| e.hash == hash && e.kind == kind && &*e.key == key)
        })?;
        slab[idx as usize].entry.as_mut()
    }

    fn insert(&mut self, entry: Entry) {
        let hash = entry.hash;
        let charge = entry.charge;
        // A key that left the small FIFO recently comes back straight into main.
        let back = self.ghosts.find_entry(hash, |&g| g == hash).map(|e| e.remove()).is_ok();
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slab.push(Slot { gen: 0, entry: None });
                (self.slab.len() - 1) as u32
            }
        };
        let slot = &mut self.slab[idx as usize];
        let gen = slot.gen;
        slot.entry = Some(Entry { in_main: back, ..entry });
        let Shard { table, slab, .. } = self;
        table.insert_unique(hash, idx, |&i| slab[i as usize].entry.as_ref().map_or(0, |e| e.hash));
        self.used += charge;
        self.entries += 1;
        if back {
            self.main.push_back((idx, gen));
            self.main_entries += 1;
        } else {
            self.small.push_back((idx, gen));
            self.small_used += charge;
        }
    }

    fn remove(&mut self, hash: u64, kind: Kind, key: &[u8]) {
        let Shard { table, slab, .. } = self;
        let found = table.find_entry(hash, |&i| {
            slab[i as usize].entry.as_ref().is_some_and(|e| e.hash == hash && e.kind == kind && &*e.key == key)
        });
        if let Ok(found) = found {
            let (idx, _) = found.remove();
            self.release(idx);
            self.stale += 1;
            if self.stale > self.entries + 64 {
                self.sweep();
            }
        }
    }

    /// Drops the queue references of removed entries.
    fn sweep(&mut self) {
        let Shard { slab, small, main, .. } = self;
        let live = |&(idx, gen): &(u32, u32)| slab[idx as usize].gen == gen && slab[idx as usize].entry.is_some();
        small.retain(live);
        main.retain(live);
        self.stale = 0;
    }

    /// Frees slot `idx` (already out of the table); its queue references go stale.
    fn release(&mut self, idx: u32) {
        let slot = &mut self.slab[idx as usize];
        let Some(e) = slot.entry.take() else { return };
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(idx);
        self.used -= e.charge;
        self.entries -= 1;
        if e.in_main {
            self.main_entries -= 1;
        } else {
            self.small_used -= e.charge;
        }
    }

    fn live(&mut self, (idx, gen): (u32, u32)) -> Option<&mut Entry> {
        let slot = &mut self.slab[idx as usize];
        if slot.gen == gen {
            slot.entry.as_mut()
        } else {
            None
        }
    }

    /// Evicts until the shard holds at most `cap` bytes; returns how many entries left.
    fn evict(&mut self, cap: usize) -> u64 {
        let mut evicted = 0;
        while self.used > cap {
            let from_small = self.small_used > cap / 10 || self.main.is_empty();
            let step = if from_small {
                self.evict_small().or_else(|| self.evict_main())
            } else {
                self.evict_main().or_else(|| self.evict_small())
            };
            match step {
                Some(gone) => evicted += u64::from(gone),
                None => break,
            }
        }
        evicted
    }

    /// One step of the small FIFO: its oldest entry moves to main (hit again since it came in) or leaves
    /// for the ghost FIFO. Some(true) if an entry left, None if the FIFO is empty.
    fn evict_small(&mut self) -> Option<bool> {
        while let Some(r) = self.small.pop_front() {
            let Some(e) = self.live(r) else {
                self.stale = self.stale.saturating_sub(1);
                continue;
            };
            if e.freq >= PROMOTE_FREQ {
                e.freq = 0;
                e.in_main = true;
                let charge = e.charge;
                self.small_used -= charge;
                self.main_entries += 1;
                self.main.push_back(r);
                return Some(false);
            }
            let hash = e.hash;
            self.drop_entry(r.0);
            self.remember(hash);
            return Some(true);
        }
        None
    }

    /// One step of the main FIFO: its oldest entry goes round again if hit since (one hit
    /// fewer), or leaves.
    fn evict_main(&mut self) -> Option<bool> {
        while let Some(r) = self.main.pop_front() {
            let Some(e) = self.live(r) else {
                self.stale = self.stale.saturating_sub(1);
                continue;
            };
            if e.freq > 0 {
                e.freq -= 1;
                self.main.push_back(r);
                return Some(false);
            }
            self.drop_entry(r.0);
            return Some(true);
        }
        None
    }

    fn drop_entry(&mut self, idx: u32) {
        let Some(hash) = self.slab[idx as usize].entry.as_ref().map(|e| e.hash) else { return };
        if let Ok(found) = self.table.find_entry(hash, |&i| i == idx) {
            found.remove();
        }
        self.release(idx);
    }

    /// Notes a key that left the small FIFO; the ghost FIFO holds as many as main has entries.
    fn remember(&mut self, hash: u64) {
        self.ghost.push_back(hash);
        self.ghosts.insert_unique(hash, hash, |&g| g);
        let limit = self.main_entries.max(64);
        while self.ghost.len() > limit {
            if let Some(old) = self.ghost.pop_front() {
                if let Ok(found) = self.ghosts.find_entry(old, |&g| g == old) {
                    found.remove();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Cached {
        Cached::Record(Some(Bytes::copy_from_slice(s.as_bytes())))
    }

    fn text(c: Result<Cached, Ticket>) -> Option<String> {
        match c {
            Ok(Cached::Record(Some(b))) => Some(String::from_utf8_lossy(&b).into_owned()),
            Ok(Cached::Record(None)) => Some("<none>".into()),
            Ok(Cached::Members(m)) => Some(format!("<{} members>", m.items.len())),
            Err(_) => None,
        }
    }

    #[test]
    fn fill_then_hit_and_writes_update() {
        let c = HotCache::new(1 << 20);
        let t = c.get(Kind::Meta, b"k").unwrap_err();
        c.fill(Kind::Meta, b"k", t, rec("v1"));
        assert_eq!(text(c.get(Kind::Meta, b"k")).as_deref(), Some("v1"));
        c.write(Kind::Meta, b"k", rec("v2"), false);
        assert_eq!(text(c.get(Kind::Meta, b"k")).as_deref(), Some("v2"));
        c.write(Kind::Meta, b"k", Cached::Record(None), false);
        assert_eq!(text(c.get(Kind::Meta, b"k")).as_deref(), Some("<none>"));
        // The same bytes under another kind are another entry.
        assert_eq!(text(c.get(Kind::Sub, b"k")), None);
        // While a write is under way the entry is not served, and a read then can't fill.
        c.begin_write(Kind::Meta, b"k");
        let t = c.get(Kind::Meta, b"k").unwrap_err();
        c.fill(Kind::Meta, b"k", t, rec("old"));
        assert_eq!(text(c.get(Kind::Meta, b"k")), None);
        c.end_write(Kind::Meta, b"k", Some(rec("v3")), false);
        assert_eq!(text(c.get(Kind::Meta, b"k")).as_deref(), Some("v3"));
        c.fill(Kind::Meta, b"k", t, rec("old"));
        assert_eq!(text(c.get(Kind::Meta, b"k")).as_deref(), Some("v3"));
        // A write that failed leaves the entry as it was.
        c.begin_write(Kind::Meta, b"k");
        c.end_write(Kind::Meta, b"k", None, false);
        assert_eq!(text(c.get(Kind::Meta, b"k")).as_deref(), Some("v3"));
        assert_eq!(c.stats.hits.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn a_fill_that_raced_a_write_or_flush_is_refused() {
        let c = HotCache::new(1 << 20);
        let t = c.get(Kind::Meta, b"k").unwrap_err();
        // A write commits between the reader's RocksDB read (old value) and its fill.
        c.write(Kind::Meta, b"k", rec("new"), false);
        c.fill(Kind::Meta, b"k", t, rec("old"));
        assert_eq!(text(c.get(Kind::Meta, b"k")), None);
        let t = c.get(Kind::Meta, b"k").unwrap_err();
        c.clear();
        c.fill(Kind::Meta, b"k", t, rec("old"));
        assert_eq!(text(c.get(Kind::Meta, b"k")), None);
        // Turned off and on again: a ticket from before does not fill.
        let t = c.get(Kind::Meta, b"k").unwrap_err();
        c.set_capacity(0);
        c.write(Kind::Meta, b"k", rec("newer"), true);
        c.set_capacity(1 << 20);
        c.fill(Kind::Meta, b"k", t, rec("old"));
        assert_eq!(text(c.get(Kind::Meta, b"k")), None);
    }

    #[test]
    fn stays_within_capacity_and_keeps_the_hot_set_through_a_scan() {
        let cap = 64 * 4096;
        let c = HotCache::new(cap as u64);
        let value = "x".repeat(100);
        let hot: Vec<String> = (0..200).map(|i| format!("hot{i}")).collect();
        // The hot set is used a few times before the scans start, then once between scans
        // ten times the cache's size (under LRU each scan would flush it).
        for round in 0..8 {
            for k in &hot {
                match c.get(Kind::Meta, k.as_bytes()) {
                    Ok(_) => {}
                    Err(t) => c.fill(Kind::Meta, k.as_bytes(), t, rec(&value)),
                }
            }
            if round < 3 {
                continue;
            }
            for i in 0..10_000 {
                let k = format!("cold{round}-{i}");
                if let Err(t) = c.get(Kind::Meta, k.as_bytes()) {
                    c.fill(Kind::Meta, k.as_bytes(), t, rec(&value));
                }
            }
            let (bytes, _) = c.usage();
            assert!(bytes <= cap as u64, "{bytes} > {cap}");
        }
        let kept = hot.iter().filter(|k| c.get(Kind::Meta, k.as_bytes()).is_ok()).count();
        assert!(kept >= 180, "only {kept} of 200 hot keys survived the scans");
        assert!(c.stats.evictions.load(Ordering::Relaxed) > 40_000);
        assert!(c.stats.hits.load(Ordering::Relaxed) >= 200 * 7);
    }

    #[test]
    fn too_big_entries_are_not_kept_and_capacity_changes_evict() {
        let c = HotCache::new(64 * 1024);
        let t = c.get(Kind::Meta, b"big").unwrap_err();
        c.fill(Kind::Meta, b"big", t, rec(&"x".repeat(1024)));
        assert_eq!(text(c.get(Kind::Meta, b"big")), None);
        for i in 0..100 {
            c.write(Kind::Meta, format!("k{i}").as_bytes(), rec("v"), true);
        }
        assert!(c.usage().1 > 0);
        c.set_capacity(0);
        assert_eq!(c.usage(), (0, 0));
        assert!(!c.enabled());
    }

    #[test]
    fn churn_below_capacity_does_not_grow_the_queues() {
        let c = HotCache::new(1 << 30);
        for i in 0..20_000 {
            let t = c.get(Kind::SubsOf, b"p").unwrap_err();
            c.fill(Kind::SubsOf, b"p", t, Cached::Members(Arc::new(Members { items: Vec::new(), whole: true })));
            c.write(Kind::SubsOf, b"p", Cached::Record(None), false);
            c.write(Kind::Meta, format!("k{}", i % 10).as_bytes(), rec("v"), true);
        }
        let queued: usize = c
            .shards
            .iter()
            .map(|s| {
                let s = s.lock();
                s.small.len() + s.main.len()
            })
            .sum();
        assert!(queued < 64 * 2 * 80, "{queued} queue references for {} entries", c.usage().1);
        assert_eq!(c.usage().1, 10);
    }

    #[test]
    fn a_too_big_marker_survives_writes_and_serves_nothing() {
        let c = HotCache::new(1 << 20);
        c.mark_too_big(Kind::ScoresOf, b"p");
        c.write(Kind::ScoresOf, b"p", Cached::Record(None), false);
        let misses = c.stats.misses.load(Ordering::Relaxed);
        assert!(matches!(c.get(Kind::ScoresOf, b"p"), Ok(Cached::Members(m)) if !m.whole));
        assert_eq!(c.stats.misses.load(Ordering::Relaxed), misses + 1, "a marker is no hit");
    }

    #[test]
    fn charges_follow_the_allocators_size_classes() {
        assert_eq!(
            [alloc_size(1), alloc_size(17), alloc_size(33), alloc_size(100), alloc_size(1030)],
            [16, 32, 48, 112, 1280]
        );
        assert_eq!([alloc_size(1024), alloc_size(1025), alloc_size(4096)], [1024, 1280, 4096]);
    }

    #[test]
    fn members_are_kept_whole() {
        let c = HotCache::new(1 << 20);
        let m = Members { items: vec![(Bytes::from_static(b"a"), Bytes::from_static(b"1"))], whole: true };
        let t = c.get(Kind::SubsOf, b"p").unwrap_err();
        c.fill(Kind::SubsOf, b"p", t, Cached::Members(Arc::new(m)));
        assert_eq!(text(c.get(Kind::SubsOf, b"p")).as_deref(), Some("<1 members>"));
        c.write(Kind::SubsOf, b"p", Cached::Record(None), false);
        assert_eq!(text(c.get(Kind::SubsOf, b"p")), None);
    }
}
