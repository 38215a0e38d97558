//! One command's writes, plus the upkeep every key write needs (the expire index and the exact
//! per-database key counters), committed atomically in one RocksDB write.
//!
//! This is the one place where "put a key's record" and "delete a key" are spelled out, so every
//! type store and keyspace command gets the same bookkeeping. A batch is a list of operations;
//! committing it writes them as one `WriteBatch`, or, while a pipeline shares one write, hands
//! them to that pipeline.
//!
//! Pipelines sharing one write (DESIGN.md §4): consecutive key commands from one socket read
//! execute against their keys' locks, all taken at once in stripe order, and commit their
//! writes as ONE RocksDB write (one WAL record, one write-group entry) instead of one each.
//! While a pipeline write is open on a thread, `Batch::commit` hands its operations to it, and
//! reads of metadata records see the pipeline's own earlier writes (an overlay), so the commands
//! behave exactly as if each had committed. Other clients never see a half-applied pipeline: the
//! keys stay locked until the shared write is done, and a client's replies are only sent after
//! it. A command that needs a lock the pipeline does not hold, or the disk, gets
//! `StoreError::WouldBlock`; the caller then commits what ran so far and runs the rest one by one.

use super::cache::{Cached, Kind};
use super::encoding::{self, CollMeta, CounterKind, KeyType};
use super::events::{self, KeyEvent};
use super::locks::{self, KeyGuard};
use super::{cf, tier, DbMap, Record, Storage, StoreError};
use bytes::Bytes;
use rocksdb::WriteBatch;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Put,
    Delete,
    /// RocksDB's SingleDelete: for keys written once between deletes (`zset_score` records),
    /// so a put and its delete cancel out at flush instead of leaving a tombstone behind.
    SingleDelete,
    DeleteRange,
}

/// One write, against the column family named `cf`. For `DeleteRange`, `value` is the end key.
#[derive(Clone, Debug)]
struct Op {
    cf: &'static str,
    kind: OpKind,
    key: Vec<u8>,
    value: Bytes,
}

/// Counter changes of one physical database: (db, one delta per `CounterKind::ALL`).
type Delta = (u8, [i64; COUNTERS]);

/// How many counters each physical database has (`CounterKind::ALL`).
pub(crate) const COUNTERS: usize = CounterKind::ALL.len();
const KEYS: usize = 0;
const EXPIRES: usize = 1;

/// A collection at least this large, when deleted or overwritten, has its subkey range compacted
/// soon after (DESIGN.md §3: deleted-heavy ranges are compacted), rather than whenever RocksDB
/// gets to it.
pub const BIG_COLLECTION: u64 = 4096;

/// What happens after a batch is written: blocked clients to wake and ranges to compact.
#[derive(Default)]
struct After {
    /// `pdb · key` of list and sorted-set keys written: clients blocked on them may go on.
    ready: Vec<Vec<u8>>,
    /// Subkey prefixes of big collections deleted or overwritten.
    reclaim: Vec<Vec<u8>>,
}

impl After {
    fn run(self, store: &Storage) {
        for k in &self.ready {
            store.waiters.signal(k);
        }
        for p in self.reclaim {
            store.reclaim.request(p);
        }
    }

    fn append(&mut self, other: After) {
        self.ready.extend(other.ready);
        self.reclaim.extend(other.reclaim);
    }
}

pub struct Batch<'s> {
    store: &'s Storage,
    ops: Vec<Op>,
    deltas: Vec<Delta>,
    /// Databases whose counters this batch resets (FLUSHDB), applied before the deltas.
    resets: Vec<u8>,
    after: After,
    /// Key events for keyspace notifications, journaled once committed (`events`).
    events: Vec<events::Recorded>,
}

impl<'s> Batch<'s> {
    pub(super) fn new(store: &'s Storage) -> Batch<'s> {
        Batch {
            store,
            ops: Vec::new(),
            deltas: Vec::new(),
            resets: Vec::new(),
            after: After::default(),
            events: Vec::new(),
        }
    }

    fn op(&mut self, cf: &'static str, kind: OpKind, key: Vec<u8>, value: impl Into<Bytes>) {
        self.ops.push(Op { cf, kind, key, value: value.into() });
    }

    fn delta(&mut self, pdb: u8, d: [i64; COUNTERS]) {
        add_delta(&mut self.deltas, (pdb, d));
    }

    /// Writes `record` (an encoded metadata value whose expiry is `expire_at_ms`) for `key`,
    /// replacing `old`, the record physically there now (expired or not).
    pub fn put_record(
        &mut self,
        pdb: u8,
        key: &[u8],
        old: Option<&Record>,
        record: impl Into<Bytes>,
        expire_at_ms: u64,
    ) {
        let record: Bytes = record.into();
        let meta_key = encoding::meta_key(pdb, key);
        let meta_key_len = meta_key.len();
        let new_type = record.first().copied().and_then(KeyType::from_byte);
        // Blocked clients wait for lists, sorted sets and streams; a stream's readers also learn
        // when it is replaced (XREADGROUP then fails as in Redis).
        let wakes = matches!(new_type, Some(KeyType::List | KeyType::ZSet | KeyType::Stream))
            || old.is_some_and(|o| o.key_type() == KeyType::Stream);
        if wakes && self.store.waiters.any() {
            self.after.ready.push(meta_key.clone());
        }
        if let Some(old) = old {
            self.note_dropped(pdb, key, old, Some(&record));
        }
        let new_len = (meta_key_len + encoding::accounted_len(&record)) as i64;
        let new_elements = encoding::coll_size(&record) as i64;
        // A new key starts fresh for LRU/LFU (an overwritten one keeps its history, as Redis).
        if old.is_none_or(|o| !o.alive(self.store.clock.now_ms())) {
            self.store.access.created(&meta_key);
        }
        self.op(cf::METADATA, OpKind::Put, meta_key, record);
        let old_expire = old.map(|r| r.header.expire_at_ms).unwrap_or(0);
        if old_expire != expire_at_ms {
            if old_expire != 0 {
                self.op(
                    cf::EXPIRE_INDEX,
                    OpKind::Delete,
                    encoding::expire_index_key(old_expire, pdb, key),
                    Bytes::new(),
                );
            }
            if expire_at_ms != 0 {
                self.op(
                    cf::EXPIRE_INDEX,
                    OpKind::Put,
                    encoding::expire_index_key(expire_at_ms, pdb, key),
                    Bytes::new(),
                );
            }
        }
        let keys = i64::from(old.is_none());
        let expires = i64::from(expire_at_ms != 0) - i64::from(old_expire != 0);
        let old_len = old.map_or(0, |o| (meta_key_len + encoding::accounted_len(&o.raw)) as i64);
        let elements = new_elements - old.map_or(0, |o| encoding::coll_size(&o.raw) as i64);
        self.delta(pdb, [keys, expires, new_len - old_len, elements, 0, 0]);
        if self.store.key_events() {
            match old {
                None => self.events.push((KeyEvent::New, pdb, key.to_vec())),
                Some(o) if !o.alive(self.store.clock.now_ms()) => {
                    self.events.push((KeyEvent::Expired, pdb, key.to_vec()));
                    self.events.push((KeyEvent::New, pdb, key.to_vec()));
                }
                Some(_) => {}
            }
        }
    }

    /// Deletes `key`, whose current record is `old`. Collection subkeys become unreachable at
    /// once (their version is gone) and are reclaimed by compaction.
    pub fn delete_record(&mut self, pdb: u8, key: &[u8], old: &Record) {
        self.note_dropped(pdb, key, old, None);
        let meta_key = encoding::meta_key(pdb, key);
        let meta_key_len = meta_key.len();
        if old.key_type() == KeyType::Stream && self.store.waiters.any() {
            self.after.ready.push(meta_key.clone());
        }
        self.op(cf::METADATA, OpKind::Delete, meta_key, Bytes::new());
        let expire = old.header.expire_at_ms;
        if expire != 0 {
            self.op(cf::EXPIRE_INDEX, OpKind::Delete, encoding::expire_index_key(expire, pdb, key), Bytes::new());
        }
        let bytes = (meta_key_len + encoding::accounted_len(&old.raw)) as i64;
        self.delta(pdb, [-1, -i64::from(expire != 0), -bytes, -(encoding::coll_size(&old.raw) as i64), 0, 0]);
    }

    /// Notes that `key`'s record, removed or replaced by this batch, had expired (an
    /// `expired` keyspace notification once committed).
    pub fn note_expired(&mut self, pdb: u8, key: &[u8]) {
        if self.store.key_events() {
            self.events.push((KeyEvent::Expired, pdb, key.to_vec()));
        }
    }

    /// When `old` is a big collection that `new` (the record replacing it; None = deleted) does
    /// not continue (another type or version), asks for its subkey range to be compacted after
    /// the commit. The new record is decoded only in that rare case, not on every write.
    fn note_dropped(&mut self, pdb: u8, key: &[u8], old: &Record, new: Option<&[u8]>) {
        if old.key_type() == KeyType::String {
            // A big fragmented string's fragments, unless `new` keeps them (same version).
            let Some(f) = encoding::fragmented(&old.raw) else { return };
            let continued = new.and_then(encoding::fragmented).is_some_and(|n| n.version == f.version);
            if f.len / encoding::FRAGMENT_SIZE >= BIG_COLLECTION && !continued {
                self.after.reclaim.push(encoding::subkey_prefix(pdb, key, f.version));
            }
            return;
        }
        let Ok(m) = CollMeta::decode(&old.header, &old.raw) else { return };
        if m.size < BIG_COLLECTION {
            return;
        }
        let continued = new.is_some_and(|v| {
            encoding::decode_meta(v)
                .ok()
                .filter(|h| h.key_type == m.key_type)
                .and_then(|h| CollMeta::decode(&h, v).ok())
                .is_some_and(|n| n.version == m.version)
        });
        if !continued {
            self.after.reclaim.push(encoding::subkey_prefix(pdb, key, m.version));
        }
    }

    /// Writes one subkey (`subkeys` or `zset_score` family). Its size feeds the average
    /// element size that `used_memory` estimates collections with.
    pub fn put_sub(&mut self, cf: &'static str, key: Vec<u8>, value: impl Into<Bytes>) {
        let value: Bytes = value.into();
        if let Some((pdb, _, _, sub)) = encoding::decode_subkey(&key) {
            // One record per element in `subkeys` and `stream`; `zset_score` adds bytes only
            // (a sorted-set member has a record in both families).
            let writes = i64::from(cf != cf::ZSET_SCORE);
            self.store.note_sub_writes(pdb, (sub.len() + value.len()) as i64, writes);
        }
        self.op(cf, OpKind::Put, key, value);
    }

    /// Writes one fragment of a fragmented string (`subkeys` family). Not an element: the
    /// string's whole length is accounted with its record (`encoding::accounted_len`).
    pub fn put_fragment(&mut self, key: Vec<u8>, value: impl Into<Bytes>) {
        self.op(cf::SUBKEYS, OpKind::Put, key, value);
    }

    /// Deletes one subkey.
    pub fn delete_sub(&mut self, cf: &'static str, key: Vec<u8>) {
        self.op(cf, OpKind::Delete, key, Bytes::new());
    }

    /// Deletes a record written once since it was last deleted (a `zset_score` record, written
    /// once per member and score; a stream entry) with RocksDB's SingleDelete: the put and the
    /// delete vanish together at flush, so a sorted set whose scores churn or a stream trimmed
    /// as it grows leaves no trail of tombstones for range reads to walk.
    pub fn delete_sub_once(&mut self, cf: &'static str, key: Vec<u8>) {
        self.op(cf, OpKind::SingleDelete, key, Bytes::new());
    }

    /// Deletes the records of family `cf` in `lo..hi` (one range tombstone: a stream trim).
    pub fn delete_range_sub(&mut self, cf: &'static str, lo: Vec<u8>, hi: Vec<u8>) {
        self.op(cf, OpKind::DeleteRange, lo, hi);
    }

    /// Writes a collection's metadata record after a change: `meta` with expiry `expire_at_ms`,
    /// or, when `meta` has no elements left, deletes the key (an emptied collection disappears,
    /// as in Redis). `old` is the record physically there now.
    pub fn put_coll(&mut self, pdb: u8, key: &[u8], old: Option<&Record>, meta: &CollMeta, expire_at_ms: u64) {
        if meta.size == 0 {
            if let Some(old) = old {
                self.delete_record(pdb, key, old);
                if self.store.key_events() {
                    let how = if old.alive(self.store.clock.now_ms()) { KeyEvent::Emptied } else { KeyEvent::Expired };
                    self.events.push((how, pdb, key.to_vec()));
                }
            }
            return;
        }
        let record = meta.encode(expire_at_ms);
        // A change that kept the size, flags and expiry (HSET of an existing field, ZADD of a
        // new score, LSET) leaves the metadata record as it was: no need to write it again.
        if old.is_some_and(|o| o.raw.as_ref() == record.as_slice()) {
            return;
        }
        self.put_record(pdb, key, old, record, expire_at_ms);
    }

    /// Removes a stale expire-index entry (its key is gone or has another expiry).
    pub(crate) fn delete_index_entry(&mut self, index_key: &[u8]) {
        self.op(cf::EXPIRE_INDEX, OpKind::Delete, index_key.to_vec(), Bytes::new());
    }

    /// Writes a record of the `default` family (the database map).
    pub(crate) fn put_default(&mut self, key: &[u8], value: &[u8]) {
        self.op(cf::DEFAULT, OpKind::Put, key.to_vec(), Bytes::copy_from_slice(value));
    }

    /// Deletes a record of the `default` family.
    pub(crate) fn delete_default(&mut self, key: &[u8]) {
        self.op(cf::DEFAULT, OpKind::Delete, key.to_vec(), Bytes::new());
    }

    /// Deletes every key of physical database `pdb` with range deletes (FLUSHDB).
    pub fn clear_db(&mut self, pdb: u8) {
        let (lo, hi) = encoding::db_range(pdb);
        for name in cf::PER_DB {
            self.op(name, OpKind::DeleteRange, lo.clone(), hi.clone());
        }
        self.reset_counters(pdb);
    }

    /// Deletes everything, in every family (FLUSHALL).
    pub fn clear_all(&mut self) {
        for name in cf::PER_DB.into_iter().chain([cf::EXPIRE_INDEX]) {
            self.op(name, OpKind::DeleteRange, vec![0u8], vec![0xffu8; 16]);
        }
        for pdb in 0..super::MAX_DATABASES {
            self.reset_counters(pdb as u8);
        }
    }

    fn reset_counters(&mut self, pdb: u8) {
        for kind in CounterKind::ALL {
            let key = encoding::counter_key(kind, pdb).to_vec();
            self.op(cf::DEFAULT, OpKind::Put, key, 0i64.to_le_bytes().to_vec());
        }
        self.deltas.retain(|x| x.0 != pdb);
        self.resets.push(pdb);
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// (operations, bytes of keys and values) so far: what a test checks a command wrote.
    #[cfg(test)]
    pub(crate) fn written(&self) -> (usize, usize) {
        (self.ops.len(), self.ops.iter().map(|o| o.key.len() + o.value.len()).sum())
    }

    /// Commits atomically. The write's number is noted on this thread (`tier::take_write_seq`):
    /// the reply waits for `Storage::make_durable` of it. Inside a shared pipeline write the
    /// operations join that write instead (resets never do: FLUSHDB does not join pipelines).
    pub fn commit(self) -> Result<(), StoreError> {
        if self.ops.is_empty() {
            return Ok(());
        }
        if self.resets.is_empty() && pipeline_is_open() {
            absorb(self.ops, &self.deltas, self.after);
            events::journal(self.events);
            return Ok(());
        }
        if atomic_is_open() {
            // A flush can't be part of an all-or-nothing write (its callers refuse it there).
            return Err(StoreError::Corrupt("flush inside an atomic write".into()));
        }
        write_ops(self.store, &self.ops, &self.deltas, &self.resets)?;
        self.after.run(self.store);
        events::journal(self.events);
        Ok(())
    }
}

fn add_delta(deltas: &mut Vec<Delta>, (pdb, d): Delta) {
    if d.iter().all(|&x| x == 0) {
        return;
    }
    match deltas.iter_mut().find(|x| x.0 == pdb) {
        Some(x) => {
            for (a, b) in x.1.iter_mut().zip(d) {
                *a += b;
            }
        }
        None => deltas.push((pdb, d)),
    }
}

/// The refusal's cause while the disk is nearly full, as the OS words a full disk.
const NO_SPACE: &str = "No space left on device";

/// Writes `ops` plus the counter merges of `deltas` as one RocksDB write, then applies the
/// counters in memory and notes the write's number on this thread.
fn write_ops(store: &Storage, ops: &[Op], deltas: &[Delta], resets: &[u8]) -> Result<(), StoreError> {
    if store.disk_refuses_writes() {
        return Err(StoreError::DiskWrite(NO_SPACE.into()));
    }
    let mut wb = WriteBatch::default();
    for op in ops {
        let cf = store.cf(op.cf);
        match op.kind {
            OpKind::Put => wb.put_cf(cf, &op.key, &op.value),
            OpKind::Delete => wb.delete_cf(cf, &op.key),
            OpKind::SingleDelete => wb.single_delete_cf(cf, &op.key),
            OpKind::DeleteRange => wb.delete_range_cf(cf, op.key.as_slice(), op.value.as_ref()),
        }
    }
    let d = store.cf(cf::DEFAULT);
    for &(pdb, values) in deltas {
        for (kind, v) in CounterKind::ALL.into_iter().zip(values) {
            if v != 0 {
                wb.merge_cf(d, encoding::counter_key(kind, pdb), v.to_le_bytes());
            }
        }
    }
    // Watched keys a flush is about to delete (WATCH sees a flush only of keys that exist).
    let flushed_watched = if store.watches.any() { flushed_watched_keys(store, ops) } else { Vec::new() };
    let db = store.db();
    let cached = CacheWrite::of(ops);
    cached.begin(store);
    let size = wb.size_in_bytes() as u64;
    let written = tier::with_write_options(|wo| db.write_opt(wb, wo));
    cached.end(store, written.is_ok());
    written?;
    // After the in-memory copies are current: a client watching from now on reads the new value.
    if store.watches.any() {
        touch_watched(store, ops, &flushed_watched);
    }
    for &pdb in resets {
        store.reset_counters(pdb);
    }
    for &(pdb, values) in deltas {
        store.add_counters(pdb, &values);
    }
    tier::note_write_seq(store.note_written());
    store.note_disk_write(size);
    // `rdb_changes_since_last_save`: the records of keys written (metadata, members, entries).
    let changes = ops.iter().filter(|op| matches!(op.cf, cf::METADATA | cf::SUBKEYS | cf::STREAM)).count();
    store.saves.note_changes(changes as u64);
    Ok(())
}

/// The hot-cache entries one write changes, each once with its last value, so that the cache
/// goes from the state before the write to the state after it without showing any in between
/// (`HotCache::begin_write`). Metadata records are written through (a key written is likely
/// read next); a subkey record is updated only if cached; a collection kept whole is dropped
/// when any record under it changes; range deletes empty the cache.
#[derive(Default)]
struct CacheWrite<'o> {
    /// (kind, key, last value written: None = deleted).
    records: Vec<(Kind, &'o [u8], Option<Bytes>)>,
    /// Index of `records` once it is long (a big batch stays linear).
    index: HashMap<(Kind, &'o [u8]), usize>,
    members: Vec<(Kind, &'o [u8])>,
    clear: bool,
}

impl<'o> CacheWrite<'o> {
    fn of(ops: &'o [Op]) -> CacheWrite<'o> {
        let mut w = CacheWrite::default();
        for op in ops {
            let whole = match op.cf {
                cf::METADATA => Kind::Meta,
                cf::SUBKEYS => Kind::SubsOf,
                cf::ZSET_SCORE => Kind::ScoresOf,
                _ => continue,
            };
            let value = match op.kind {
                OpKind::Put => Some(op.value.clone()),
                OpKind::Delete | OpKind::SingleDelete => None,
                OpKind::DeleteRange => {
                    w.clear = true;
                    continue;
                }
            };
            if whole == Kind::Meta {
                w.record(Kind::Meta, &op.key, value);
                continue;
            }
            if whole == Kind::SubsOf {
                w.record(Kind::Sub, &op.key, value);
            }
            let Some((_, _, _, sub)) = encoding::decode_subkey(&op.key) else { continue };
            let prefix = &op.key[..op.key.len() - sub.len()];
            // A batch writes runs of records of one collection.
            if w.members.last() != Some(&(whole, prefix)) && !w.members.contains(&(whole, prefix)) {
                w.members.push((whole, prefix));
            }
        }
        w
    }

    fn record(&mut self, kind: Kind, key: &'o [u8], value: Option<Bytes>) {
        const INDEXED: usize = 16;
        let at = if self.records.len() > INDEXED {
            if self.index.is_empty() {
                self.index = self.records.iter().enumerate().map(|(i, (k, key, _))| ((*k, *key), i)).collect();
            }
            self.index.get(&(kind, key)).copied()
        } else {
            self.records.iter().position(|(k, rk, _)| *k == kind && *rk == key)
        };
        match at {
            Some(i) => self.records[i].2 = value,
            None => {
                if !self.index.is_empty() {
                    self.index.insert((kind, key), self.records.len());
                }
                self.records.push((kind, key, value));
            }
        }
    }

    fn begin(&self, store: &Storage) {
        let c = &store.cache;
        if self.clear {
            c.begin_clear();
        }
        for (kind, key, _) in &self.records {
            c.begin_write(*kind, key);
        }
        for (kind, prefix) in &self.members {
            c.begin_write(*kind, prefix);
        }
    }

    /// `written`: whether the write reached RocksDB (if not, entries stay as they were).
    fn end(self, store: &Storage, written: bool) {
        let c = &store.cache;
        for (kind, key, value) in self.records {
            let insert = kind == Kind::Meta && value.is_some();
            c.end_write(kind, key, written.then_some(Cached::Record(value)), insert);
        }
        for (kind, prefix) in self.members {
            c.end_write(kind, prefix, None, false);
        }
        if self.clear {
            c.end_clear();
        }
    }
}

/// The watched keys (metadata keys) that the metadata range deletes of `ops` would remove.
fn flushed_watched_keys(store: &Storage, ops: &[Op]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for op in ops.iter().filter(|op| op.cf == cf::METADATA && op.kind == OpKind::DeleteRange) {
        for mk in store.watches.keys_in(&op.key, &op.value) {
            if matches!(store.get_record_raw(&mk), Ok(Some(_))) {
                out.push(mk);
            }
        }
    }
    out
}

/// Marks the clients watching any key that `ops` wrote (WATCH, DESIGN.md §4): every write of a
/// key goes through here, whatever command or type made it.
fn touch_watched(store: &Storage, ops: &[Op], flushed: &[Vec<u8>]) {
    for op in ops {
        if op.kind == OpKind::DeleteRange {
            continue;
        }
        if op.cf == cf::METADATA {
            store.watches.touch(&op.key, op.kind != OpKind::Put);
        } else if cf::SUBKEY_FAMILIES.contains(&op.cf) {
            if let Some((pdb, key, _, _)) = encoding::decode_subkey(&op.key) {
                store.watches.touch(&encoding::meta_key(pdb, key), false);
            }
        }
    }
    for mk in flushed {
        store.watches.touch(mk, true);
    }
}

// ---- Pipelines sharing one write -------------------------------------------------------------

struct Active {
    ops: Vec<Op>,
    deltas: Vec<Delta>,
    after: After,
    /// Metadata records written so far: meta key → record (None = deleted).
    overlay: HashMap<Vec<u8>, Option<Bytes>>,
    /// `subkeys` records written so far (point reads see them): key → value (None = deleted).
    subs: HashMap<Vec<u8>, Option<Bytes>>,
    /// Subkey prefixes (`subkeys`, `zset_score`) written so far: iterating one would miss the
    /// pipeline's own writes, so such a read gives up (`WouldBlock`) and runs after the commit.
    dirty: HashSet<Vec<u8>>,
    /// The lock stripes held, sorted.
    held: Vec<usize>,
    /// Set for an all-or-nothing write (MULTI/EXEC, scripts).
    atomic: Option<Box<Atomic>>,
}

/// What an all-or-nothing write (MULTI/EXEC, a script) keeps besides a pipeline's overlay: its
/// subkey writes in key order, so iterations merge them with RocksDB's records instead of giving
/// up, and the stripes of keys it touched without holding their locks. Such a write never
/// commits with missing stripes: the caller takes them (in order, with the others) and runs
/// everything again (DESIGN.md §4: scripts may touch undeclared keys).
#[derive(Default)]
struct Atomic {
    /// Per subkey family: key → value (None = deleted).
    tree: HashMap<&'static str, BTreeMap<Vec<u8>, Option<Bytes>>>,
    /// Range deletes of subkey families, in order: (family, lo, hi).
    ranges: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    /// Stripes touched but not held, and busy when touched.
    missing: Vec<usize>,
    /// Stripes touched but not held, and free when touched: taken then (never waiting, so in
    /// any order), held until the write ends. Most undeclared keys cost no rerun this way.
    taken: Vec<locks::OwnedStripe>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// Whether a pipeline write is open on this thread.
pub fn pipeline_is_open() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// Takes a batch's operations into the open pipeline write (see `pipeline_is_open`); the overlay shares
/// each metadata record's bytes with its operation.
fn absorb(ops: Vec<Op>, deltas: &[Delta], after: After) {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        let Some(act) = a.as_mut() else { return };
        act.after.append(after);
        for op in ops {
            if cf::SUBKEY_FAMILIES.contains(&op.cf) {
                // Iterating this collection's prefix must now see (or wait for) these writes.
                if let Some((_, _, _, sub)) = encoding::decode_subkey(&op.key) {
                    act.dirty.insert(op.key[..op.key.len() - sub.len()].to_vec());
                }
                if let Some(atomic) = act.atomic.as_mut() {
                    atomic.absorb(&op);
                }
            }
            let value = match op.kind {
                OpKind::Put => Some(op.value.clone()),
                OpKind::Delete | OpKind::SingleDelete => None,
                OpKind::DeleteRange => {
                    act.ops.push(op);
                    continue;
                }
            };
            if op.cf == cf::METADATA {
                act.overlay.insert(op.key.clone(), value);
            } else if op.cf == cf::SUBKEYS {
                act.subs.insert(op.key.clone(), value);
            }
            act.ops.push(op);
        }
        for &d in deltas {
            add_delta(&mut act.deltas, d);
        }
    })
}

impl Atomic {
    fn absorb(&mut self, op: &Op) {
        let tree = self.tree.entry(op.cf).or_default();
        match op.kind {
            OpKind::Put => {
                tree.insert(op.key.clone(), Some(op.value.clone()));
            }
            OpKind::Delete | OpKind::SingleDelete => {
                tree.insert(op.key.clone(), None);
            }
            OpKind::DeleteRange => {
                let hi = op.value.to_vec();
                let inside: Vec<Vec<u8>> = tree.range(op.key.clone()..hi.clone()).map(|(k, _)| k.clone()).collect();
                for k in inside {
                    tree.remove(&k);
                }
                self.ranges.push((op.cf, op.key.clone(), hi));
            }
        }
    }

    /// Its own version of a record: written, deleted, or inside a range it deleted.
    fn get(&self, cf: &'static str, key: &[u8]) -> Option<Option<Bytes>> {
        if let Some(v) = self.tree.get(cf).and_then(|t| t.get(key)) {
            return Some(v.clone());
        }
        self.ranges.iter().any(|(c, lo, hi)| *c == cf && key >= lo.as_slice() && key < hi.as_slice()).then_some(None)
    }
}

/// Inside an all-or-nothing write, its own records of family `cf` under `prefix`, in key order
/// (None = deleted), and the ranges it deleted there; None when no such write is open.
#[allow(clippy::type_complexity)]
pub(crate) fn atomic_view(
    cf: &'static str,
    prefix: &[u8],
) -> Option<(Vec<(Vec<u8>, Option<Bytes>)>, Vec<(Vec<u8>, Vec<u8>)>)> {
    ACTIVE.with(|a| {
        let a = a.borrow();
        let atomic = a.as_ref()?.atomic.as_ref()?;
        let end = encoding::prefix_end(prefix);
        let mine = match atomic.tree.get(cf) {
            Some(tree) => tree
                .range(prefix.to_vec()..)
                .take_while(|(k, _)| end.as_ref().is_none_or(|e| k.as_slice() < e.as_slice()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            None => Vec::new(),
        };
        let ranges = atomic
            .ranges
            .iter()
            .filter(|(c, lo, hi)| {
                *c == cf && end.as_ref().is_none_or(|e| lo.as_slice() < e.as_slice()) && hi.as_slice() > prefix
            })
            .map(|(_, lo, hi)| (lo.clone(), hi.clone()))
            .collect();
        Some((mine, ranges))
    })
}

/// Inside an all-or-nothing write: the metadata records it wrote in `lo..hi`, in key order
/// (None = deleted); None when no such write is open.
pub(crate) fn atomic_meta_view(lo: &[u8], hi: &[u8]) -> Option<Vec<(Vec<u8>, Option<Bytes>)>> {
    ACTIVE.with(|a| {
        let a = a.borrow();
        let act = a.as_ref()?;
        act.atomic.as_ref()?;
        let mut mine: Vec<(Vec<u8>, Option<Bytes>)> = act
            .overlay
            .iter()
            .filter(|(k, _)| k.as_slice() >= lo && k.as_slice() < hi)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        mine.sort_by(|a, b| a.0.cmp(&b.0));
        Some(mine)
    })
}

/// Inside an all-or-nothing write: its own version of one record of family `cf`.
pub(crate) fn atomic_get(cf: &'static str, key: &[u8]) -> Option<Option<Bytes>> {
    ACTIVE.with(|a| a.borrow().as_ref()?.atomic.as_ref()?.get(cf, key))
}

/// Key-count changes (keys, keys with an expiry) of physical database `pdb` that the write open
/// on this thread holds uncommitted: DBSIZE inside a transaction counts its own writes.
pub(crate) fn pending_counts(pdb: u8) -> (i64, i64) {
    ACTIVE.with(|a| {
        a.borrow()
            .as_ref()
            .and_then(|act| act.deltas.iter().find(|d| d.0 == pdb).map(|d| (d.1[KEYS], d.1[EXPIRES])))
            .unwrap_or((0, 0))
    })
}

/// Whether an all-or-nothing write is open on this thread (a script inside EXEC joins it).
pub fn atomic_is_open() -> bool {
    ACTIVE.with(|a| a.borrow().as_ref().is_some_and(|act| act.atomic.is_some()))
}

/// The open pipeline's own version of a metadata record: Some(record or None if deleted) when
/// the pipeline wrote it, None when it did not (or no pipeline is open).
pub(crate) fn overlay_get(meta_key: &[u8]) -> Option<Option<Bytes>> {
    ACTIVE.with(|a| a.borrow().as_ref().and_then(|act| act.overlay.get(meta_key).cloned()))
}

/// Like `overlay_get`, for a record of the `subkeys` family.
pub(crate) fn overlay_get_sub(key: &[u8]) -> Option<Option<Bytes>> {
    ACTIVE.with(|a| {
        let a = a.borrow();
        let act = a.as_ref()?;
        match act.atomic.as_ref() {
            Some(atomic) => atomic.get(cf::SUBKEYS, key),
            None => act.subs.get(key).cloned(),
        }
    })
}

/// Whether the open pipeline wrote subkeys under `prefix` (false when no pipeline is open).
pub(crate) fn overlay_dirty(prefix: &[u8]) -> bool {
    ACTIVE.with(|a| a.borrow().as_ref().is_some_and(|act| act.dirty.contains(prefix)))
}

/// Under an open pipeline: whether it holds all of `stripes` (None when no pipeline is open).
/// An all-or-nothing write takes those it lacks if they are free (without waiting), and notes
/// the busy ones: it will not commit without them (see `Atomic`).
pub(crate) fn pipeline_holds(locks: &locks::LockTable, stripes: &[usize]) -> Option<bool> {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        let act = a.as_mut()?;
        let mut all = true;
        for &s in stripes {
            let Err(at) = act.held.binary_search(&s) else { continue };
            match act.atomic.as_mut() {
                Some(atomic) => match locks.try_lock_owned(s) {
                    Some(guard) => {
                        atomic.taken.push(guard);
                        act.held.insert(at, s);
                    }
                    None => atomic.missing.push(s),
                },
                None => all = false,
            }
        }
        Some(all)
    })
}

/// An open pipeline write: its locks, the database map, and (thread-local) its operations.
pub struct PipelineWrite<'s> {
    store: &'s Storage,
    _locks: KeyGuard<'s>,
    _dbs: DbMap<'s>,
}

impl Storage {
    /// Opens a pipeline write over `keys` (physical db, key), holding `dbs` so that SWAPDB and
    /// FLUSH* wait for it. Must be committed (or dropped) on the thread that opened it.
    pub fn begin_pipeline<'s, 'k>(
        &'s self,
        dbs: DbMap<'s>,
        keys: impl IntoIterator<Item = (u8, &'k [u8])>,
    ) -> Option<PipelineWrite<'s>> {
        let mut held: Vec<usize> = keys.into_iter().map(|(db, k)| self.locks.stripe(db, k)).collect();
        // Sorted and deduplicated by the lock, as `holds` needs for its binary search.
        let locks = self.locks.acquire(&mut held)?;
        open(held, None);
        Some(PipelineWrite { store: self, _locks: locks, _dbs: dbs })
    }

    /// Opens an all-or-nothing write (MULTI/EXEC, a script) holding the lock `stripes` (see
    /// `LockTable::stripe`; sorted and deduplicated here) and `dbs`. Commands then run as in a
    /// pipeline, except that iterations see the write's own subkeys and keys whose stripes are
    /// not held are noted rather than refused. On the network thread a busy stripe gives
    /// `WouldBlock` (the caller runs again on a blocking thread, where it waits).
    pub fn begin_atomic<'s>(&'s self, dbs: DbMap<'s>, stripes: &mut Vec<usize>) -> Result<AtomicWrite<'s>, StoreError> {
        let locks = self.locks.acquire(stripes).ok_or(StoreError::WouldBlock)?;
        open(stripes.clone(), Some(Box::default()));
        Ok(AtomicWrite { store: self, _locks: locks, _dbs: dbs, open: true })
    }

    /// The lock stripe of `key` in physical database `pdb`.
    pub fn stripe(&self, pdb: u8, key: &[u8]) -> usize {
        self.locks.stripe(pdb, key)
    }
}

fn open(held: Vec<usize>, atomic: Option<Box<Atomic>>) {
    ACTIVE.with(|a| {
        *a.borrow_mut() = Some(Active {
            ops: Vec::new(),
            deltas: Vec::new(),
            after: After::default(),
            overlay: HashMap::new(),
            subs: HashMap::new(),
            dirty: HashSet::new(),
            held,
            atomic,
        });
    });
}

/// How an all-or-nothing write ended.
#[derive(Debug, PartialEq, Eq)]
pub enum AtomicOutcome {
    /// Written (or nothing to write).
    Committed,
    /// Nothing written: the commands touched keys on these stripes without holding them. Take
    /// them too and run again.
    NeedLocks(Vec<usize>),
}

/// An open all-or-nothing write; dropped without `commit`, it writes nothing.
pub struct AtomicWrite<'s> {
    store: &'s Storage,
    _locks: KeyGuard<'s>,
    _dbs: DbMap<'s>,
    open: bool,
}

impl AtomicWrite<'_> {
    /// Writes everything as one RocksDB write unless keys were touched without their locks.
    pub fn commit(mut self) -> Result<AtomicOutcome, StoreError> {
        self.open = false;
        let Some(mut act) = ACTIVE.with(|a| a.borrow_mut().take()) else { return Ok(AtomicOutcome::Committed) };
        // The stripes taken on first touch stay held until the write is done.
        let (missing, _taken) = match act.atomic.take() {
            Some(atomic) => {
                let atomic = *atomic;
                (atomic.missing, atomic.taken)
            }
            None => (Vec::new(), Vec::new()),
        };
        if !missing.is_empty() {
            return Ok(AtomicOutcome::NeedLocks(missing));
        }
        if act.ops.is_empty() {
            return Ok(AtomicOutcome::Committed);
        }
        write_ops(self.store, &act.ops, &act.deltas, &[])?;
        act.after.run(self.store);
        Ok(AtomicOutcome::Committed)
    }
}

impl Drop for AtomicWrite<'_> {
    fn drop(&mut self) {
        if self.open {
            ACTIVE.with(|a| a.borrow_mut().take());
        }
    }
}

impl PipelineWrite<'_> {
    /// Writes everything the pipeline's commands wrote, as one RocksDB write, then releases the
    /// locks. On error nothing of it was written.
    pub fn commit(self) -> Result<(), StoreError> {
        let Some(act) = ACTIVE.with(|a| a.borrow_mut().take()) else { return Ok(()) };
        if act.ops.is_empty() {
            return Ok(());
        }
        write_ops(self.store, &act.ops, &act.deltas, &[])?;
        act.after.run(self.store);
        Ok(())
    }
}

impl Drop for PipelineWrite<'_> {
    fn drop(&mut self) {
        // Only reached without `commit` if a command panicked: its replies are never sent.
        if ACTIVE.with(|a| a.borrow_mut().take()).is_some() {
            tracing::error!("pipeline write dropped without commit; its writes are discarded");
        }
    }
}
