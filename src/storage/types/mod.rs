//! Typed stores: the semantics of each data type over the metadata/subkey encodings.
//!
//! Collections share one shape (DESIGN.md §3): a metadata record `CollMeta` (version, size,
//! type-specific fields) and subkeys under `subkey_prefix(db, key, version)`. A write command
//! locks its key, `load`s it, changes subkeys and the size in one `Batch`, and ends with
//! `Batch::put_coll`, which deletes the key when it became empty. A new collection (or one
//! replacing an expired key) gets a fresh version, so stale subkeys are never seen again.

pub mod bitfield;
pub mod bitmap;
pub mod hash;
pub mod list;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod value;
pub mod zset;

use crate::storage::encoding::{self, CollMeta, KeyType};
use crate::storage::{Record, Storage, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};

/// A collection key as a write command finds it (the caller holds the key's lock).
pub struct Loaded {
    /// The record physically there (expired or not, any type): what a write replaces.
    pub old: Option<Record>,
    /// The live collection, when there is one (of the wanted type).
    pub meta: Option<CollMeta>,
    /// Its expiry (0 = none, or no live key).
    pub expire_at_ms: u64,
}

impl Loaded {
    /// The live collection, or a new empty one with a fresh version.
    pub fn meta_or_new(&self, store: &Storage, t: KeyType) -> CollMeta {
        self.meta.unwrap_or_else(|| CollMeta::new(t, store.next_version()))
    }

    /// Whether a live collection is there.
    pub fn exists(&self) -> bool {
        self.meta.is_some()
    }
}

fn decode(rec: &Record) -> Result<CollMeta, StoreError> {
    CollMeta::decode(&rec.header, &rec.raw).map_err(|e| StoreError::Corrupt(format!("collection record: {e:?}")))
}

impl Storage {
    /// Loads `key` for a write under its lock: WrongType if a live key of another type is there.
    pub fn load_coll(&self, pdb: u8, key: &[u8], t: KeyType) -> Result<Loaded, StoreError> {
        let now = self.clock.now_ms();
        let old = self.get_record(pdb, key)?;
        let (meta, expire_at_ms) = match old.as_ref().filter(|r| r.alive(now)) {
            Some(r) if r.key_type() != t => return Err(StoreError::WrongType),
            Some(r) => (Some(decode(r)?), r.header.expire_at_ms),
            None => (None, 0),
        };
        Ok(Loaded { old, meta, expire_at_ms })
    }

    /// Reads the live collection at `key` for a read-only command (lazily expiring it): None if
    /// missing, WrongType if of another type.
    pub fn read_coll(&self, pdb: u8, key: &[u8], t: KeyType) -> Result<Option<CollMeta>, StoreError> {
        match self.get_alive(pdb, key)? {
            Some(r) if r.key_type() != t => Err(StoreError::WrongType),
            Some(r) => Ok(Some(decode(&r)?)),
            None => Ok(None),
        }
    }

    /// The decoded collection metadata of a record of any collection type (None for strings).
    pub fn coll_meta(rec: &Record) -> Result<Option<CollMeta>, StoreError> {
        if rec.key_type() == KeyType::String {
            return Ok(None);
        }
        decode(rec).map(Some)
    }
}

/// The subkey prefix of `meta`'s version of `key`.
pub fn prefix(pdb: u8, key: &[u8], meta: &CollMeta) -> Vec<u8> {
    encoding::subkey_prefix(pdb, key, meta.version)
}

/// Redis's compact-encoding limits (`hash-max-listpack-entries` and friends), which decide the
/// names OBJECT ENCODING reports. Set from the configuration, read by the typed stores.
pub struct EncodingLimits {
    pub hash_max_listpack_entries: AtomicU64,
    pub hash_max_listpack_value: AtomicU64,
    pub set_max_intset_entries: AtomicU64,
    pub zset_max_listpack_entries: AtomicU64,
    pub zset_max_listpack_value: AtomicU64,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: AtomicU64::new(512),
            hash_max_listpack_value: AtomicU64::new(64),
            set_max_intset_entries: AtomicU64::new(512),
            zset_max_listpack_entries: AtomicU64::new(128),
            zset_max_listpack_value: AtomicU64::new(64),
        }
    }
}

impl EncodingLimits {
    /// Marks `meta` (a hash or sorted set) as big once it exceeds the listpack limits, given the
    /// longest element just written (like Redis, the flag is never cleared).
    pub fn note_listpack(&self, meta: &mut CollMeta, longest_written: usize) {
        let (entries, value) = match meta.key_type {
            KeyType::Hash => (&self.hash_max_listpack_entries, &self.hash_max_listpack_value),
            KeyType::ZSet => (&self.zset_max_listpack_entries, &self.zset_max_listpack_value),
            _ => return,
        };
        if meta.size > entries.load(Ordering::Relaxed) || longest_written as u64 > value.load(Ordering::Relaxed) {
            meta.flags |= encoding::FLAG_BIG;
        }
    }

    /// Marks a set as no longer an intset when a non-integer member was written or it grew past
    /// `set-max-intset-entries`.
    pub fn note_set(&self, meta: &mut CollMeta, wrote_non_integer: bool) {
        if wrote_non_integer {
            meta.flags |= encoding::FLAG_NONINT;
        }
        if meta.size > self.set_max_intset_entries.load(Ordering::Relaxed) {
            meta.flags |= encoding::FLAG_BIG;
        }
    }
}

/// Whether Redis would keep `member` in an intset: the canonical text of an i64.
pub fn is_intset_member(member: &[u8]) -> bool {
    crate::numeric::parse_i64_strict(member).is_some()
}

/// The name OBJECT ENCODING reports for a collection (Redis 7.0's names).
pub fn encoding_name(meta: &CollMeta) -> &'static str {
    let big = meta.flags & encoding::FLAG_BIG != 0;
    match meta.key_type {
        KeyType::Hash | KeyType::ZSet if !big => "listpack",
        KeyType::Hash => "hashtable",
        KeyType::ZSet => "skiplist",
        KeyType::List => "quicklist",
        KeyType::Set if big || meta.flags & encoding::FLAG_NONINT != 0 => "hashtable",
        KeyType::Set => "intset",
        KeyType::Stream => "stream",
        KeyType::String => "raw",
    }
}

/// Random picks among the `size` elements of a collection (HRANDFIELD, ZRANDMEMBER): `count`
/// distinct positions when `unique` (count < size), else `count` independent ones. Returns the
/// distinct positions in ascending order, to read in one pass, and for each pick in its random
/// order the index of its position in that list (see `in_pick_order`).
pub fn random_picks(size: u64, count: u64, unique: bool) -> (Vec<u64>, Vec<usize>) {
    use rand::Rng;
    let mut rng = rand::rng();
    let picks: Vec<u64> = if unique {
        let n = usize::try_from(count.min(size)).unwrap_or(usize::MAX);
        rand::seq::index::sample(&mut rng, usize::try_from(size).unwrap_or(usize::MAX), n)
            .into_iter()
            .map(|i| i as u64)
            .collect()
    } else {
        (0..count).map(|_| rng.random_range(0..size)).collect()
    };
    let mut positions = picks.clone();
    positions.sort_unstable();
    positions.dedup();
    let order = picks.iter().map(|p| positions.binary_search(p).unwrap_or(0)).collect();
    (positions, order)
}

/// The elements read at `random_picks`' positions, arranged in pick order (picks whose
/// element vanished meanwhile are skipped).
pub fn in_pick_order<T: Clone>(found: &[T], order: &[usize]) -> Vec<T> {
    order.iter().filter_map(|&i| found.get(i).cloned()).collect()
}

/// Reads `Ordering::Relaxed` limits as usize for callers that compare lengths.
pub fn relaxed(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}
