//! Streams (DESIGN.md §3) on the `stream` family.
//!
//! Under the key's versioned prefix, an entry is `prefix · ms(8) · seq(8)` → its fields, so
//! entries sort by ID and a range read or a trim is one ordered walk (a trim of the oldest
//! entries is one range delete). Consumer-group state lives under the reserved suffix `R`
//! (sixteen 0xff bytes), which sorts after every entry ID (an entry at the largest ID is
//! `prefix · R` itself, every state record is longer):
//! - `R · 'G' · group` → last-delivered ID(16) · entries-read(8, -1 = unknown) · pending(8)
//! - `R · 'C' · len(group)(4) · group · consumer` → seen-time ms(8) · active-time ms(8) · pending(8)
//! - `R · 'P' · len(group)(4) · group · ID(16)` → delivery-time ms(8) · deliveries(8) · consumer
//!
//! The metadata record adds, after the collection's version and length, the stream's
//! last-generated ID, max-deleted-entry ID, entries-added counter and number of groups. Like
//! every collection, a deleted stream's records become unreachable with its version and are
//! removed by compaction.

use super::{Loaded, Storage};
use crate::storage::batch::{self, Batch};
use crate::storage::encoding::{self, CollMeta, KeyType, META_HEADER_LEN};
use crate::storage::subkeys::Dir;
use crate::storage::{cf, tier, Record, StoreError};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};

/// The suffix under which group state lives (sorts after every entry ID).
const RESERVED: [u8; 16] = [0xff; 16];
const TAG_GROUP: u8 = b'G';
const TAG_CONSUMER: u8 = b'C';
const TAG_PEL: u8 = b'P';

/// A stream entry ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<StreamId> {
        let ms = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let seq = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        Some(StreamId { ms, seq })
    }

    /// The next ID, None after the largest.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, None before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The metadata of a stream: the collection part (version, length) and the stream's IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamMeta {
    pub coll: CollMeta,
    pub last_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: u64,
    /// The first entry's ID (0-0 when empty): walks start there, never stepping over the
    /// deleted entries before it that the memtable may still hold.
    pub first_id: StreamId,
}

impl StreamMeta {
    fn new(version: u64) -> StreamMeta {
        StreamMeta {
            coll: CollMeta::new(KeyType::Stream, version),
            last_id: StreamId::MIN,
            max_deleted: StreamId::MIN,
            entries_added: 0,
            groups: 0,
            first_id: StreamId::MIN,
        }
    }

    pub fn len(&self) -> u64 {
        self.coll.size
    }

    pub fn is_empty(&self) -> bool {
        self.coll.size == 0
    }

    pub fn encode(&self, expire_at_ms: u64) -> Vec<u8> {
        let mut v = self.coll.encode(expire_at_ms);
        v.extend_from_slice(&self.last_id.to_bytes());
        v.extend_from_slice(&self.max_deleted.to_bytes());
        v.extend_from_slice(&self.entries_added.to_be_bytes());
        v.extend_from_slice(&self.groups.to_be_bytes());
        v.extend_from_slice(&self.first_id.to_bytes());
        v
    }

    pub fn decode(rec: &Record) -> Result<StreamMeta, StoreError> {
        let coll = CollMeta::decode(&rec.header, &rec.raw).map_err(|e| corrupt(&format!("{e:?}")))?;
        let ext = rec.raw.get(META_HEADER_LEN + 16..META_HEADER_LEN + 80).ok_or_else(|| corrupt("truncated"))?;
        let word = |i: usize| u64::from_be_bytes(ext[i..i + 8].try_into().unwrap_or_default());
        Ok(StreamMeta {
            coll,
            last_id: StreamId::new(word(0), word(8)),
            max_deleted: StreamId::new(word(16), word(24)),
            entries_added: word(32),
            groups: word(40),
            first_id: StreamId::new(word(48), word(56)),
        })
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("stream record: {what}"))
}

/// A copy of a stream's metadata record under a new version (RENAME, COPY, MOVE).
pub fn with_version(rec: &Record, version: u64) -> Result<Vec<u8>, StoreError> {
    let mut m = StreamMeta::decode(rec)?;
    m.coll.version = version;
    Ok(m.encode(rec.header.expire_at_ms))
}

/// Entry fields as stored: count(4) · (len(4) · bytes)*.
pub fn encode_fields(fields: &[Bytes]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + fields.iter().map(|f| 4 + f.len()).sum::<usize>());
    v.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    for f in fields {
        v.extend_from_slice(&(f.len() as u32).to_be_bytes());
        v.extend_from_slice(f);
    }
    v
}

pub fn decode_fields(v: &[u8]) -> Result<Vec<Bytes>, StoreError> {
    let n = u32::from_be_bytes(v.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("entry"))?);
    let mut out = Vec::with_capacity((n as usize).min(v.len() / 4));
    let mut at = 4;
    for _ in 0..n {
        let len = u32::from_be_bytes(v.get(at..at + 4).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("entry"))?)
            as usize;
        at += 4;
        out.push(Bytes::copy_from_slice(v.get(at..at + len).ok_or_else(|| corrupt("entry"))?));
        at += len;
    }
    Ok(out)
}

/// One entry: its ID and fields (field, value, field, value...).
pub type Entry = (StreamId, Vec<Bytes>);

/// A consumer group's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read by the group (Redis's `entries_read`); None when unknown.
    pub entries_read: Option<u64>,
    pub pending: u64,
}

impl Group {
    fn encode(&self) -> Vec<u8> {
        let mut v = self.last_id.to_bytes().to_vec();
        v.extend_from_slice(&self.entries_read.map(|n| n as i64).unwrap_or(-1).to_be_bytes());
        v.extend_from_slice(&self.pending.to_be_bytes());
        v
    }

    fn decode(v: &[u8]) -> Result<Group, StoreError> {
        let last_id = StreamId::from_bytes(v).ok_or_else(|| corrupt("group"))?;
        let read = i64::from_be_bytes(v.get(16..24).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("group"))?);
        let pending =
            u64::from_be_bytes(v.get(24..32).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("group"))?);
        Ok(Group { last_id, entries_read: u64::try_from(read).ok(), pending })
    }
}

/// A consumer's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Last time the consumer was seen (any read or claim attempt), ms.
    pub seen_ms: u64,
    /// Last time it read or claimed something, ms (0 = never).
    pub active_ms: u64,
    pub pending: u64,
}

impl Consumer {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(&self.seen_ms.to_be_bytes());
        v.extend_from_slice(&self.active_ms.to_be_bytes());
        v.extend_from_slice(&self.pending.to_be_bytes());
        v
    }

    fn decode(v: &[u8]) -> Result<Consumer, StoreError> {
        let w = |i: usize| -> Result<u64, StoreError> {
            Ok(u64::from_be_bytes(v.get(i..i + 8).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("consumer"))?))
        };
        Ok(Consumer { seen_ms: w(0)?, active_ms: w(8)?, pending: w(16)? })
    }
}

/// One pending (delivered, not acknowledged) entry of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub delivery_ms: u64,
    pub deliveries: u64,
    pub consumer: Bytes,
}

impl Pending {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16 + self.consumer.len());
        v.extend_from_slice(&self.delivery_ms.to_be_bytes());
        v.extend_from_slice(&self.deliveries.to_be_bytes());
        v.extend_from_slice(&self.consumer);
        v
    }

    fn decode(v: &[u8]) -> Result<Pending, StoreError> {
        let w = |i: usize| -> Result<u64, StoreError> {
            Ok(u64::from_be_bytes(v.get(i..i + 8).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt("pel"))?))
        };
        Ok(Pending { delivery_ms: w(0)?, deliveries: w(8)?, consumer: Bytes::copy_from_slice(&v[16..]) })
    }
}

fn group_key(prefix: &[u8], group: &[u8]) -> Vec<u8> {
    tagged(prefix, TAG_GROUP, group)
}

fn consumer_key(prefix: &[u8], group: &[u8], name: &[u8]) -> Vec<u8> {
    let mut k = tagged(prefix, TAG_CONSUMER, group);
    k.extend_from_slice(name);
    k
}

fn pel_key(prefix: &[u8], group: &[u8], id: StreamId) -> Vec<u8> {
    let mut k = tagged(prefix, TAG_PEL, group);
    k.extend_from_slice(&id.to_bytes());
    k
}

fn tagged(prefix: &[u8], tag: u8, group: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 22 + group.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(&RESERVED);
    k.push(tag);
    if tag != TAG_GROUP {
        k.extend_from_slice(&(group.len() as u32).to_be_bytes());
    }
    k.extend_from_slice(group);
    k
}

/// A read view of one live stream.
pub struct StreamView<'a> {
    store: &'a Storage,
    pub prefix: Vec<u8>,
    pub meta: StreamMeta,
}

impl<'a> StreamView<'a> {
    /// Reads of the `stream` family must not miss writes an open pipeline holds for this
    /// stream: then the pipeline commits first (see `batch::overlay_dirty`).
    /// (An all-or-nothing write, MULTI/EXEC or a script, instead reads its own writes.)
    fn clean(&self) -> Result<(), StoreError> {
        if batch::overlay_dirty(&self.prefix) && !batch::atomic_is_open() {
            return Err(StoreError::WouldBlock);
        }
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.clean()?;
        if let Some(mine) = batch::atomic_get(cf::STREAM, key) {
            return Ok(mine);
        }
        let cf = self.store.cf(cf::STREAM);
        Ok(tier::with_read_options(|ro| self.store.db().get_pinned_cf_opt(cf, key, ro))?
            .map(|v| Bytes::copy_from_slice(&v)))
    }

    fn scan(
        &self,
        under: &[u8],
        dir: Dir,
        from: Option<&[u8]>,
        f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        self.clean()?;
        self.store.sub_scan(cf::STREAM, under, dir, from, f)
    }

    /// The entry at `id`, if present.
    pub fn entry(&self, id: StreamId) -> Result<Option<Vec<Bytes>>, StoreError> {
        match self.get(&encoding::subkey(&self.prefix, &id.to_bytes()))? {
            Some(v) => Ok(Some(decode_fields(&v)?)),
            None => Ok(None),
        }
    }

    /// Walks the entries with IDs in `lo..=hi`, oldest first (or newest first when `rev`);
    /// `f` returns false to stop.
    pub fn walk(
        &self,
        lo: StreamId,
        hi: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, &[u8]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let lo = lo.max(self.meta.first_id);
        if lo > hi || self.meta.is_empty() {
            return Ok(());
        }
        let mut err = None;
        let (dir, from) = if rev { (Dir::Reverse, hi.to_bytes()) } else { (Dir::Forward, lo.to_bytes()) };
        self.scan(&self.prefix, dir, Some(&from), |suffix, v| {
            if suffix.len() != 16 {
                // Group state (after every entry): forward, the entries are done; in reverse
                // (only from an ID beyond the entries) it cannot be met.
                return false;
            }
            let Some(id) = StreamId::from_bytes(suffix) else { return false };
            if id < lo || id > hi {
                return false;
            }
            match f(id, v) {
                Ok(go) => go,
                Err(e) => {
                    err = Some(e);
                    false
                }
            }
        })?;
        err.map_or(Ok(()), Err)
    }

    /// Up to `count` entries (0 = all) in `lo..=hi`.
    pub fn range(&self, lo: StreamId, hi: StreamId, rev: bool, count: usize) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        self.walk(lo, hi, rev, |id, v| {
            out.push((id, decode_fields(v)?));
            Ok(count == 0 || out.len() < count)
        })?;
        Ok(out)
    }

    /// The first entry's ID (Redis's recorded-first-entry-id; 0-0 when empty).
    pub fn first_id(&self) -> Result<StreamId, StoreError> {
        Ok(if self.meta.is_empty() { StreamId::MIN } else { self.meta.first_id })
    }

    /// The first entry at or after `from` whose ID is not in `skip`, if any.
    fn first_from(&self, from: StreamId, skip: &[StreamId]) -> Result<Option<StreamId>, StoreError> {
        let mut found = None;
        self.walk(from, StreamId::MAX, false, |id, _| {
            if skip.contains(&id) {
                return Ok(true);
            }
            found = Some(id);
            Ok(false)
        })?;
        Ok(found)
    }

    /// The last entry's ID (0-0 when empty).
    pub fn last_entry_id(&self) -> Result<StreamId, StoreError> {
        let mut last = StreamId::MIN;
        self.walk(StreamId::MIN, StreamId::MAX, true, |id, _| {
            last = id;
            Ok(false)
        })?;
        Ok(last)
    }

    /// The group-state record at `key`, decoded.
    fn get_decoded<T>(&self, key: &[u8], decode: fn(&[u8]) -> Result<T, StoreError>) -> Result<Option<T>, StoreError> {
        self.get(key)?.map(|v| decode(&v)).transpose()
    }

    pub fn group(&self, name: &[u8]) -> Result<Option<Group>, StoreError> {
        self.get_decoded(&group_key(&self.prefix, name), Group::decode)
    }

    /// Every record under `under` (group state), decoded, by name.
    fn named<T>(
        &self,
        under: &[u8],
        decode: fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<Vec<(Bytes, T)>, StoreError> {
        let mut out = Vec::new();
        let mut err = None;
        self.scan(under, Dir::Forward, None, |name, v| match decode(v) {
            Ok(x) => {
                out.push((Bytes::copy_from_slice(name), x));
                true
            }
            Err(e) => {
                err = Some(e);
                false
            }
        })?;
        err.map_or(Ok(out), Err)
    }

    /// Every group, by name.
    pub fn groups(&self) -> Result<Vec<(Bytes, Group)>, StoreError> {
        self.named(&tagged(&self.prefix, TAG_GROUP, b""), Group::decode)
    }

    pub fn consumer(&self, group: &[u8], name: &[u8]) -> Result<Option<Consumer>, StoreError> {
        self.get_decoded(&consumer_key(&self.prefix, group, name), Consumer::decode)
    }

    /// The consumers of `group`, by name.
    pub fn consumers(&self, group: &[u8]) -> Result<Vec<(Bytes, Consumer)>, StoreError> {
        self.named(&tagged(&self.prefix, TAG_CONSUMER, group), Consumer::decode)
    }

    pub fn pending(&self, group: &[u8], id: StreamId) -> Result<Option<Pending>, StoreError> {
        self.get_decoded(&pel_key(&self.prefix, group, id), Pending::decode)
    }

    /// Walks `group`'s pending entries from `from` on, in ID order; `f` returns false to stop.
    pub fn walk_pending(
        &self,
        group: &[u8],
        from: StreamId,
        mut f: impl FnMut(StreamId, Pending) -> bool,
    ) -> Result<(), StoreError> {
        let under = tagged(&self.prefix, TAG_PEL, group);
        let mut err = None;
        self.scan(&under, Dir::Forward, Some(&from.to_bytes()), |suffix, v| {
            let (Some(id), Ok(p)) = (StreamId::from_bytes(suffix), Pending::decode(v)) else {
                err = Some(corrupt("pel"));
                return false;
            };
            f(id, p)
        })?;
        err.map_or(Ok(()), Err)
    }

    /// Redis's `streamRangeHasTombstones(s, start, NULL)`: whether an entry at or after `start`
    /// may have been deleted.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        !self.meta.is_empty() && !self.meta.max_deleted.is_zero() && start <= self.meta.max_deleted
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter of a group
    /// whose last delivered ID is `id`, when it can be known.
    pub fn estimate_entries_read(&self, id: StreamId) -> Result<Option<u64>, StoreError> {
        let m = &self.meta;
        if m.entries_added == 0 {
            return Ok(Some(0));
        }
        if m.is_empty() && id <= m.last_id {
            return Ok(Some(m.entries_added));
        }
        if id == m.last_id {
            return Ok(Some(m.entries_added));
        }
        if id > m.last_id {
            return Ok(None);
        }
        let first = self.first_id()?;
        if m.max_deleted.is_zero() || m.max_deleted < first {
            if id < first {
                return Ok(Some(m.entries_added.saturating_sub(m.len())));
            }
            if id == first {
                return Ok(Some(m.entries_added.saturating_sub(m.len()) + 1));
            }
        }
        Ok(None)
    }

    /// A group's lag (XINFO GROUPS), when it can be known.
    pub fn lag(&self, g: &Group) -> Result<Option<u64>, StoreError> {
        let m = &self.meta;
        if m.entries_added == 0 {
            return Ok(Some(0));
        }
        if let Some(read) = g.entries_read {
            if !self.has_tombstones_from(g.last_id) {
                return Ok(Some(m.entries_added.saturating_sub(read)));
            }
        }
        Ok(self.estimate_entries_read(g.last_id)?.map(|read| m.entries_added.saturating_sub(read)))
    }
}

/// How XADD picks the new entry's ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the clock, after the last ID.
    Auto,
    /// `ms-*`: the next sequence number at `ms`.
    AtMs(u64),
    /// An explicit ID.
    Exact(StreamId),
}

/// Why an entry could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the last one.
    TooSmall,
    /// The last ID is the largest possible.
    Exhausted,
    /// `ms-*` at the `ms` of the last ID, whose sequence number is the largest possible.
    SeqOverflow,
}

/// What to trim (XTRIM, XADD's MAXLEN/MINID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimTo {
    MaxLen(u64),
    MinId(StreamId),
}

/// Entries per radix-tree node in Redis (`stream-node-max-entries`): approximate trimming
/// (`~`) removes whole nodes only, so it removes entries in multiples of this.
pub const NODE_ENTRIES: u64 = 100;

/// The walk of a trim over the oldest entries (see `StreamTxn::trim`).
struct Cut {
    to: TrimTo,
    approx: bool,
    limit: u64,
    len: u64,
    /// Entries added before the first one present (its position in its node).
    before_first: u64,
    /// Entries ever added.
    added: u64,
    seen: u64,
    removed: u64,
    last_removed: Option<StreamId>,
    stopped: bool,
    /// The first entries seen (up to `POINT_DELETES`), deleted one by one in a small trim.
    first: Vec<StreamId>,
}

/// A trim of at most this many entries deletes them one by one; a bigger one writes a single
/// range tombstone. Many small range tombstones (XADD MAXLEN on every add) would make every
/// read of the memtable re-fragment them all.
const POINT_DELETES: usize = 256;

impl Default for Cut {
    fn default() -> Cut {
        Cut {
            to: TrimTo::MaxLen(0),
            approx: false,
            limit: 0,
            len: 0,
            before_first: 0,
            added: 0,
            seen: 0,
            removed: 0,
            last_removed: None,
            stopped: false,
            first: Vec::new(),
        }
    }
}

impl Cut {
    /// Takes the next entry (oldest first); false once the trim stops.
    fn step(&mut self, id: StreamId) -> bool {
        self.seen += 1;
        if self.first.len() < POINT_DELETES {
            self.first.push(id);
        }
        let goes = match self.to {
            TrimTo::MaxLen(n) => self.len.saturating_sub(self.seen) >= n,
            TrimTo::MinId(min) => id < min,
        };
        if !goes || (self.approx && self.limit > 0 && self.seen > self.limit) {
            self.stopped = true;
            return false;
        }
        let added = self.before_first + self.seen;
        if self.approx && !added.is_multiple_of(NODE_ENTRIES) && added < self.added {
            // Inside a node: it goes only if its last entry does.
            return true;
        }
        self.removed = self.seen;
        self.last_removed = Some(id);
        true
    }
}

/// Changes to one stream by one command (the caller holds the key's lock); written with
/// [`write_into`](Self::write_into).
pub struct StreamTxn<'a> {
    pub view: StreamView<'a>,
    pdb: u8,
    key: Vec<u8>,
    loaded: Loaded,
    existed: bool,
    meta_dirty: bool,
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    groups: BTreeMap<Bytes, Option<Group>>,
    consumers: HashMap<(Bytes, Bytes), Option<Consumer>>,
    pel: HashMap<(Bytes, StreamId), Option<Pending>>,
    range_deletes: Vec<(Vec<u8>, Vec<u8>)>,
    /// The entry this command added, and its position in `ops`.
    added: Option<(StreamId, usize)>,
    /// This command created a consumer (an `xgroup-createconsumer` notification).
    pub created_consumer: bool,
}

impl<'a> StreamTxn<'a> {
    /// Whether the stream existed before this command.
    pub fn existed(&self) -> bool {
        self.existed
    }

    pub fn meta(&self) -> &StreamMeta {
        &self.view.meta
    }

    /// Marks the stream as created (or changed) so that its record is written.
    pub fn touch(&mut self) {
        self.meta_dirty = true;
    }

    /// Appends an entry with fields `fields`.
    pub fn add(&mut self, id: NewId, now_ms: u64, fields: &[Bytes]) -> Result<StreamId, AddError> {
        let last = self.view.meta.last_id;
        if last == StreamId::MAX {
            return Err(AddError::Exhausted);
        }
        let new = match id {
            NewId::Auto => {
                if now_ms > last.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    last.next().ok_or(AddError::Exhausted)?
                }
            }
            NewId::AtMs(ms) => {
                let id = if ms == last.ms {
                    StreamId::new(ms, last.seq.checked_add(1).ok_or(AddError::SeqOverflow)?)
                } else {
                    StreamId::new(ms, 0)
                };
                if id <= last {
                    return Err(AddError::TooSmall);
                }
                id
            }
            NewId::Exact(id) => {
                if id <= last {
                    return Err(AddError::TooSmall);
                }
                id
            }
        };
        self.ops.push((encoding::subkey(&self.view.prefix, &new.to_bytes()), Some(encode_fields(fields))));
        self.added = Some((new, self.ops.len() - 1));
        let m = &mut self.view.meta;
        if m.is_empty() {
            m.first_id = new;
        }
        m.last_id = new;
        m.coll.size += 1;
        m.entries_added += 1;
        self.meta_dirty = true;
        Ok(new)
    }

    /// Deletes the entries at `ids` that exist; returns how many.
    pub fn delete(&mut self, ids: &[StreamId]) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut done: Vec<StreamId> = Vec::new();
        for &id in ids {
            if done.contains(&id) || self.view.entry(id)?.is_none() {
                continue;
            }
            done.push(id);
            self.ops.push((encoding::subkey(&self.view.prefix, &id.to_bytes()), None));
            let m = &mut self.view.meta;
            m.coll.size = m.coll.size.saturating_sub(1);
            if id > m.max_deleted {
                m.max_deleted = id;
            }
            n += 1;
        }
        if n > 0 {
            self.meta_dirty = true;
            let first = self.view.meta.first_id;
            if done.contains(&first) {
                let next = match first.next() {
                    Some(from) => self.view.first_from(from, &done)?,
                    None => None,
                };
                self.view.meta.first_id = next.unwrap_or(StreamId::MIN);
            }
        }
        Ok(n)
    }

    /// Trims the oldest entries as XTRIM does. `approx` (`~`) removes whole radix-tree nodes
    /// only, as Redis does: nodes hold `NODE_ENTRIES` consecutive entries in order of addition,
    /// and at most `limit` entries go (0 = no limit). The entry this command added (XADD's
    /// MAXLEN/MINID) counts as the newest. Returns how many were removed.
    pub fn trim(&mut self, to: TrimTo, approx: bool, limit: u64) -> Result<u64, StoreError> {
        let m = self.view.meta;
        let len = m.len();
        if matches!(to, TrimTo::MaxLen(n) if len <= n) || len == 0 {
            return Ok(0);
        }
        // How many entries were added before the first one still here (its node position).
        let before_first = m.entries_added.saturating_sub(len);
        let mut cut = Cut { to, approx, limit, len, before_first, added: m.entries_added, ..Cut::default() };
        self.view.walk(StreamId::MIN, StreamId::MAX, false, |id, _| Ok(cut.step(id)))?;
        let stopped = cut.stopped;
        let mut drop_added = false;
        if let (false, Some((id, _))) = (stopped, self.added) {
            drop_added = cut.step(id) && cut.last_removed == Some(id);
        }
        let (removed, mut last_removed) = (cut.removed, cut.last_removed);
        let mut existing = removed;
        if drop_added {
            if let Some((_, at)) = self.added.take() {
                self.ops.remove(at);
            }
            existing -= 1;
            // Every earlier entry went too: a range delete covers all of them.
            last_removed = (existing > 0).then_some(StreamId::MAX);
        }
        if existing as usize <= POINT_DELETES && existing as usize <= cut.first.len() {
            for id in &cut.first[..existing as usize] {
                self.ops.push((encoding::subkey(&self.view.prefix, &id.to_bytes()), None));
            }
        } else if let Some(last) = last_removed {
            let lo = encoding::subkey(&self.view.prefix, &StreamId::MIN.to_bytes());
            let hi = match last.next() {
                Some(n) => encoding::subkey(&self.view.prefix, &n.to_bytes()),
                None => encoding::subkey(&self.view.prefix, &RESERVED),
            };
            self.range_deletes.push((lo, hi));
        }
        self.view.meta.coll.size = self.view.meta.coll.size.saturating_sub(removed);
        if removed > 0 {
            self.meta_dirty = true;
            // The removed entries are still readable until this batch commits: the first one
            // kept is the first after them (or the entry this command added).
            let after = if drop_added { None } else { cut.last_removed.and_then(StreamId::next) };
            let next = match after {
                Some(from) => self.view.first_from(from, &[])?.or(self.added.map(|(id, _)| id)),
                None => None,
            };
            self.view.meta.first_id = next.unwrap_or(StreamId::MIN);
        }
        Ok(removed)
    }

    pub fn group(&self, name: &[u8]) -> Result<Option<Group>, StoreError> {
        match self.groups.get(name) {
            Some(g) => Ok(*g),
            None => self.view.group(name),
        }
    }

    /// Every group (with this command's changes), by name.
    pub fn groups(&self) -> Result<Vec<(Bytes, Group)>, StoreError> {
        let mut all: BTreeMap<Bytes, Option<Group>> =
            self.view.groups()?.into_iter().map(|(n, g)| (n, Some(g))).collect();
        for (n, g) in &self.groups {
            all.insert(n.clone(), *g);
        }
        Ok(all.into_iter().filter_map(|(n, g)| g.map(|g| (n, g))).collect())
    }

    pub fn set_group(&mut self, name: &[u8], g: Group) -> Result<(), StoreError> {
        if self.group(name)?.is_none() {
            self.view.meta.groups += 1;
            self.meta_dirty = true;
        }
        self.groups.insert(Bytes::copy_from_slice(name), Some(g));
        Ok(())
    }

    /// Destroys a group with its consumers and pending entries.
    pub fn destroy_group(&mut self, name: &[u8]) -> Result<bool, StoreError> {
        if self.group(name)?.is_none() {
            return Ok(false);
        }
        self.groups.insert(Bytes::copy_from_slice(name), None);
        for tag in [TAG_CONSUMER, TAG_PEL] {
            let lo = tagged(&self.view.prefix, tag, name);
            if let Some(hi) = encoding::prefix_end(&lo) {
                self.range_deletes.push((lo, hi));
            }
        }
        self.consumers.retain(|(g, _), _| g != name);
        self.pel.retain(|(g, _), _| g != name);
        self.view.meta.groups = self.view.meta.groups.saturating_sub(1);
        self.meta_dirty = true;
        Ok(true)
    }

    pub fn consumer(&self, group: &[u8], name: &[u8]) -> Result<Option<Consumer>, StoreError> {
        match self.consumers.get(&(Bytes::copy_from_slice(group), Bytes::copy_from_slice(name))) {
            Some(c) => Ok(*c),
            None => self.view.consumer(group, name),
        }
    }

    pub fn set_consumer(&mut self, group: &[u8], name: &[u8], c: Option<Consumer>) {
        self.consumers.insert((Bytes::copy_from_slice(group), Bytes::copy_from_slice(name)), c);
    }

    pub fn pending(&self, group: &[u8], id: StreamId) -> Result<Option<Pending>, StoreError> {
        match self.pel.get(&(Bytes::copy_from_slice(group), id)) {
            Some(p) => Ok(p.clone()),
            None => self.view.pending(group, id),
        }
    }

    /// Sets (or with None, removes) a pending entry, keeping the group's and the consumers'
    /// pending counts. The consumers must exist.
    pub fn set_pending(&mut self, group: &[u8], id: StreamId, p: Option<Pending>) -> Result<(), StoreError> {
        let old = self.pending(group, id)?;
        let Some(mut g) = self.group(group)? else { return Ok(()) };
        if let Some(o) = &old {
            g.pending = g.pending.saturating_sub(1);
            if let Some(mut c) = self.consumer(group, &o.consumer)? {
                c.pending = c.pending.saturating_sub(1);
                self.set_consumer(group, &o.consumer, Some(c));
            }
        }
        if let Some(n) = &p {
            g.pending += 1;
            if let Some(mut c) = self.consumer(group, &n.consumer)? {
                c.pending += 1;
                self.set_consumer(group, &n.consumer, Some(c));
            }
        }
        self.groups.insert(Bytes::copy_from_slice(group), Some(g));
        self.pel.insert((Bytes::copy_from_slice(group), id), p);
        Ok(())
    }

    /// Marks the consumer `name` of `group` as seen now, creating it if missing.
    pub fn touch_consumer(&mut self, group: &[u8], name: &[u8], now_ms: u64) -> Result<(), StoreError> {
        let mut c = match self.consumer(group, name)? {
            Some(c) => c,
            None => {
                self.created_consumer = true;
                Consumer { seen_ms: now_ms, active_ms: 0, pending: 0 }
            }
        };
        c.seen_ms = now_ms;
        self.set_consumer(group, name, Some(c));
        Ok(())
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, group: &[u8], name: &[u8]) -> Result<Option<u64>, StoreError> {
        if self.consumer(group, name)?.is_none() {
            return Ok(None);
        }
        let mut ids = Vec::new();
        self.view.walk_pending(group, StreamId::MIN, |id, p| {
            if p.consumer.as_ref() == name {
                ids.push(id);
            }
            true
        })?;
        // This command's own pending changes (none precede DELCONSUMER, but keep it exact).
        let mut n = 0;
        for id in ids {
            if self.pending(group, id)?.is_some_and(|p| p.consumer.as_ref() == name) {
                self.set_pending(group, id, None)?;
                n += 1;
            }
        }
        self.set_consumer(group, name, None);
        Ok(Some(n))
    }

    /// Writes this command's changes into `b`.
    pub fn write_into(self, b: &mut Batch<'_>) {
        let prefix = &self.view.prefix;
        for (lo, hi) in self.range_deletes {
            b.delete_range_sub(cf::STREAM, lo, hi);
        }
        for (k, v) in self.ops {
            match v {
                Some(v) => b.put_sub(cf::STREAM, k, v),
                // An entry is written once: its put and delete cancel out at flush.
                None => b.delete_sub_once(cf::STREAM, k),
            }
        }
        // Group state is rewritten in place: plain puts and deletes.
        let mut state = |k: Vec<u8>, v: Option<Vec<u8>>| match v {
            Some(v) => b.put_sub(cf::STREAM, k, v),
            None => b.delete_sub(cf::STREAM, k),
        };
        for (name, g) in self.groups {
            state(group_key(prefix, &name), g.map(|g| g.encode()));
        }
        for ((group, name), c) in self.consumers {
            state(consumer_key(prefix, &group, &name), c.map(|c| c.encode()));
        }
        for ((group, id), p) in self.pel {
            state(pel_key(prefix, &group, id), p.map(|p| p.encode()));
        }
        if self.meta_dirty {
            let record = self.view.meta.encode(self.loaded.expire_at_ms);
            b.put_record(self.pdb, &self.key, self.loaded.old.as_ref(), record, self.loaded.expire_at_ms);
        }
    }
}

impl Storage {
    /// The live stream at `key` for a read-only command (lazily expiring it): None if missing,
    /// WrongType if of another type.
    pub fn stream_view(&self, pdb: u8, key: &[u8]) -> Result<Option<StreamView<'_>>, StoreError> {
        let Some(rec) = self.get_alive(pdb, key)? else { return Ok(None) };
        if rec.key_type() != KeyType::Stream {
            return Err(StoreError::WrongType);
        }
        let meta = StreamMeta::decode(&rec)?;
        Ok(Some(StreamView { store: self, prefix: super::prefix(pdb, key, &meta.coll), meta }))
    }

    /// Opens `key` for changes by a command that holds its lock. A missing stream is a new,
    /// empty one (written only if the command changes it or calls `touch`).
    pub fn stream_txn(&self, pdb: u8, key: &[u8]) -> Result<StreamTxn<'_>, StoreError> {
        let loaded = self.load_coll(pdb, key, KeyType::Stream)?;
        let live = loaded.old.as_ref().filter(|_| loaded.exists());
        let meta = match live {
            Some(rec) => StreamMeta::decode(rec)?,
            None => StreamMeta::new(self.next_version()),
        };
        Ok(StreamTxn {
            view: StreamView { store: self, prefix: super::prefix(pdb, key, &meta.coll), meta },
            pdb,
            key: key.to_vec(),
            existed: loaded.exists(),
            loaded,
            meta_dirty: false,
            ops: Vec::new(),
            groups: BTreeMap::new(),
            consumers: HashMap::new(),
            pel: HashMap::new(),
            range_deletes: Vec::new(),
            added: None,
            created_consumer: false,
        })
    }

    /// Runs `f` over the stream at `key` under its lock and commits its changes as one batch
    /// (nothing is written if `f` fails).
    pub fn stream_write<R, E: From<StoreError>>(
        &self,
        pdb: u8,
        key: &[u8],
        f: impl FnOnce(&mut StreamTxn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let _g = self.lock(pdb, key)?;
        let mut t = self.stream_txn(pdb, key)?;
        let r = f(&mut t)?;
        let mut b = self.batch();
        t.write_into(&mut b);
        b.commit()?;
        Ok(r)
    }

    /// [`stream_write`](Self::stream_write) over several streams at once (XREADGROUP), all
    /// locked and committed together.
    pub fn stream_write_many<R, E: From<StoreError>>(
        &self,
        pdb: u8,
        keys: &[&[u8]],
        f: impl FnOnce(&mut [StreamTxn<'_>]) -> Result<R, E>,
    ) -> Result<R, E> {
        let _g = self.lock_many(keys.iter().map(|k| (pdb, *k)))?;
        let mut txns = Vec::with_capacity(keys.len());
        for k in keys {
            txns.push(self.stream_txn(pdb, k)?);
        }
        let r = f(&mut txns)?;
        let mut b = self.batch();
        for t in txns {
            t.write_into(&mut b);
        }
        b.commit()?;
        Ok(r)
    }
}

/// Writes a whole stream (RESTORE) under `prefix`, a fresh version: its entries and its groups
/// with their pending entries and consumers (whose pending counts are derived from the PELs).
/// The caller writes the metadata record.
pub(crate) fn write_whole(b: &mut Batch<'_>, prefix: &[u8], s: &super::value::StreamValue) {
    for (id, fields) in &s.entries {
        b.put_sub(cf::STREAM, encoding::subkey(prefix, &id.to_bytes()), encode_fields(fields));
    }
    for g in &s.groups {
        let group = Group { last_id: g.last_id, entries_read: g.entries_read, pending: g.pending.len() as u64 };
        b.put_sub(cf::STREAM, group_key(prefix, &g.name), group.encode());
        let mut owned: HashMap<&[u8], u64> = HashMap::new();
        for (id, p) in &g.pending {
            *owned.entry(p.consumer.as_ref()).or_default() += 1;
            b.put_sub(cf::STREAM, pel_key(prefix, &g.name, *id), p.encode());
        }
        for (name, seen_ms, active_ms) in &g.consumers {
            let pending = owned.get(name.as_ref()).copied().unwrap_or(0);
            let c = Consumer { seen_ms: *seen_ms, active_ms: *active_ms, pending };
            b.put_sub(cf::STREAM, consumer_key(prefix, &g.name, name), c.encode());
        }
    }
}
