//! Compaction filters and the counter merge operator (DESIGN.md §3).
//!
//! The metadata filter drops records whose expiry passed more than `EXPIRED_GRACE_MS` ago. Active
//! expiry normally deletes them long before (keeping the key counters exact); the filter is the
//! safety net that reclaims space even if active expiry is disabled, and the grace period covers
//! any race with a concurrent EXPIRE/PERSIST on the same key (Kvrocks issue 1298).
//!
//! The subkey filters (`subkeys`, `zset_score`, `stream`) drop a record whose collection is gone:
//! metadata missing, of an inline string, of another version (a fragmented string owns the
//! fragments of its version), expired beyond the grace period, or (list
//! elements) outside the list's `head..tail`. They read the metadata through the open `Storage`,
//! bound after the database opens, and remember the last key looked up, so a run of subkeys of
//! one key costs one read. Each compaction gets its own filter, hence its own memory: every
//! record it meets was written before it started, so what it reads is never older than them.

use super::encoding::{self, decode_meta, CollMeta, KeyType};
use super::{cf, Storage};
use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};
use rocksdb::MergeOperands;
use std::ffi::CStr;
use std::sync::{Arc, OnceLock, Weak};

/// How long after its expiry a metadata record may still be seen by compaction.
pub const EXPIRED_GRACE_MS: u64 = 60 * 60 * 1000;

/// Keep or remove one metadata record at `now_ms`.
pub fn metadata_decision(value: &[u8], now_ms: u64) -> Decision {
    if long_expired(value, || now_ms) {
        Decision::Remove
    } else {
        Decision::Keep
    }
}

/// Whether a metadata record expired long enough ago for compaction to drop it (the clock is
/// read only for a record with an expiry).
pub fn long_expired(value: &[u8], now_ms: impl FnOnce() -> u64) -> bool {
    decode_meta(value).is_ok_and(|h| h.expire_at_ms != 0 && h.expire_at_ms.saturating_add(EXPIRED_GRACE_MS) < now_ms())
}

/// The storage the subkey filters read metadata from, bound once the database is open.
#[derive(Clone, Default)]
pub struct Target(Arc<OnceLock<Weak<Storage>>>);

impl Target {
    pub(crate) fn bind(&self, storage: &Arc<Storage>) {
        let _ = self.0.set(Arc::downgrade(storage));
    }
}

/// What the filter needs of a collection's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// No live collection owns subkeys under this key (missing, a string, long expired).
    Gone,
    /// Unknown (undecodable, or the storage is closing): keep everything.
    Unknown,
    Live(CollMeta),
}

/// Keep or remove one subkey record of family `cf_name`, given its owner's metadata.
pub fn subkey_decision(cf_name: &str, key: &[u8], owner: Owner) -> Decision {
    let Some((_, _, version, sub)) = encoding::decode_subkey(key) else { return Decision::Keep };
    let m = match owner {
        Owner::Unknown => return Decision::Keep,
        Owner::Gone => return Decision::Remove,
        Owner::Live(m) => m,
    };
    if m.version != version {
        return Decision::Remove;
    }
    let wrong_family = match m.key_type {
        KeyType::ZSet => cf_name == cf::STREAM,
        KeyType::Stream => cf_name != cf::STREAM,
        _ => cf_name != cf::SUBKEYS,
    };
    if wrong_family {
        return Decision::Remove;
    }
    if m.key_type == KeyType::List {
        if let Ok(ix) = <[u8; 8]>::try_from(sub) {
            let ix = u64::from_be_bytes(ix);
            if ix < m.head || ix >= m.tail {
                return Decision::Remove;
            }
        }
    }
    Decision::Keep
}

/// The owner of a subkey from its metadata record (`None` = missing) at `now_ms`.
pub fn owner_of(record: Option<&[u8]>, now_ms: u64) -> Owner {
    let Some(v) = record else { return Owner::Gone };
    let Ok(h) = decode_meta(v) else { return Owner::Unknown };
    if h.expire_at_ms != 0 && h.expire_at_ms.saturating_add(EXPIRED_GRACE_MS) < now_ms {
        return Owner::Gone;
    }
    if h.key_type == KeyType::String {
        // A fragmented string owns the fragments of its version, like a collection.
        return match encoding::fragmented(v) {
            Some(f) => {
                let mut m = CollMeta::new(KeyType::String, f.version);
                m.size = f.len;
                Owner::Live(m)
            }
            None => Owner::Gone,
        };
    }
    match CollMeta::decode(&h, v) {
        Ok(m) => Owner::Live(m),
        Err(_) => Owner::Unknown,
    }
}

pub struct SubkeyFilterFactory {
    target: Target,
    cf_name: &'static str,
    name: &'static CStr,
}

impl SubkeyFilterFactory {
    pub(crate) fn new(target: &Target, cf_name: &'static str) -> SubkeyFilterFactory {
        let name: &'static CStr = match cf_name {
            cf::ZSET_SCORE => c"strata.zset_score_gc",
            cf::STREAM => c"strata.stream_gc",
            _ => c"strata.subkeys_gc",
        };
        SubkeyFilterFactory { target: target.clone(), cf_name, name }
    }
}

impl CompactionFilterFactory for SubkeyFilterFactory {
    type Filter = SubkeyFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> SubkeyFilter {
        SubkeyFilter { target: self.target.clone(), cf_name: self.cf_name, name: self.name, last: None }
    }

    fn name(&self) -> &CStr {
        self.name
    }
}

pub struct SubkeyFilter {
    target: Target,
    cf_name: &'static str,
    name: &'static CStr,
    /// The last metadata key looked up, and its owner.
    last: Option<(Vec<u8>, Owner)>,
}

impl SubkeyFilter {
    fn owner(&mut self, key: &[u8]) -> Owner {
        let Some((_, user_key, _, _)) = encoding::decode_subkey(key) else { return Owner::Unknown };
        // The metadata key is `db · slot · user_key`: the subkey's first 3 bytes, then the name.
        // Compared in place, so a run of one key's subkeys allocates nothing.
        if let Some((k, o)) = &self.last {
            if k.len() == 3 + user_key.len() && k[..3] == key[..3] && k[3..] == *user_key {
                return *o;
            }
        }
        let mut mk = Vec::with_capacity(3 + user_key.len());
        mk.extend_from_slice(&key[..3]);
        mk.extend_from_slice(user_key);
        let Some(storage) = self.target.0.get().and_then(Weak::upgrade) else { return Owner::Unknown };
        if storage.is_stopped() {
            return Owner::Unknown;
        }
        let owner = match storage.db().get_pinned_cf(storage.cf(cf::METADATA), &mk) {
            Ok(v) => owner_of(v.as_deref(), storage.clock.now_ms()),
            Err(_) => Owner::Unknown,
        };
        self.last = Some((mk, owner));
        owner
    }
}

impl CompactionFilter for SubkeyFilter {
    fn filter(&mut self, _level: u32, key: &[u8], _value: &[u8]) -> Decision {
        let owner = self.owner(key);
        subkey_decision(self.cf_name, key, owner)
    }

    fn name(&self) -> &CStr {
        self.name
    }
}

/// Adds little-endian i64 deltas (the per-database key counters).
pub fn counter_merge(_key: &[u8], existing: Option<&[u8]>, operands: &MergeOperands) -> Option<Vec<u8>> {
    let mut sum = existing.map(super::decode_counter).unwrap_or(0);
    for op in operands {
        sum = sum.wrapping_add(super::decode_counter(op));
    }
    Some(sum.to_le_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::encoding::encode_string;

    #[test]
    fn keeps_live_and_persistent_records() {
        assert!(matches!(metadata_decision(&encode_string(0, b"v"), u64::MAX), Decision::Keep));
        assert!(matches!(metadata_decision(&encode_string(1000, b"v"), 1000 + EXPIRED_GRACE_MS), Decision::Keep));
        assert!(matches!(metadata_decision(b"garbage", 5), Decision::Keep));
    }

    fn sub(version: u64, tail: &[u8]) -> Vec<u8> {
        encoding::subkey(&encoding::subkey_prefix(0, b"k", version), tail)
    }

    #[test]
    fn subkeys_of_gone_or_replaced_collections_are_removed() {
        let mut hash = CollMeta::new(KeyType::Hash, 7);
        hash.size = 1;
        let live = owner_of(Some(&hash.encode(0)), 1000);
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(7, b"f"), live), Decision::Keep));
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(6, b"f"), live), Decision::Remove));
        assert!(matches!(subkey_decision(cf::ZSET_SCORE, &sub(7, b"f"), live), Decision::Remove));
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(7, b"f"), owner_of(None, 0)), Decision::Remove));
        let string = encode_string(0, b"v");
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(7, b"f"), owner_of(Some(&string), 0)), Decision::Remove));
        // Expired: kept through the grace period, then removed.
        let expiring = hash.encode(1000);
        let o = owner_of(Some(&expiring), 1000 + EXPIRED_GRACE_MS);
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(7, b"f"), o), Decision::Keep));
        let o = owner_of(Some(&expiring), 1001 + EXPIRED_GRACE_MS);
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(7, b"f"), o), Decision::Remove));
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(7, b"f"), owner_of(Some(b"junk"), 0)), Decision::Keep));
    }

    #[test]
    fn fragments_belong_to_their_fragmented_string_only() {
        let frag = encoding::Fragmented { version: 9, len: 100_000 };
        let live = owner_of(Some(&encoding::encode_fragmented(0, frag, 0)), 0);
        let f = encoding::fragment_index(3);
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(9, &f), live), Decision::Keep));
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(8, &f), live), Decision::Remove));
        // Overwritten by an inline string (SET), or expired long ago: the fragments go.
        let inline = owner_of(Some(&encode_string(0, b"v")), 0);
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(9, &f), inline), Decision::Remove));
        let expired = owner_of(Some(&encoding::encode_fragmented(1000, frag, 0)), 1001 + EXPIRED_GRACE_MS);
        assert!(matches!(subkey_decision(cf::SUBKEYS, &sub(9, &f), expired), Decision::Remove));
    }

    #[test]
    fn list_elements_outside_head_tail_are_removed() {
        let mut list = CollMeta::new(KeyType::List, 3);
        list.head = 10;
        list.tail = 12;
        list.size = 2;
        let o = owner_of(Some(&list.encode(0)), 0);
        for (ix, keep) in [(9u64, false), (10, true), (11, true), (12, false)] {
            let d = subkey_decision(cf::SUBKEYS, &sub(3, &ix.to_be_bytes()), o);
            assert_eq!(matches!(d, Decision::Keep), keep, "index {ix}");
        }
    }

    #[test]
    fn removes_long_expired_records() {
        assert!(matches!(metadata_decision(&encode_string(1000, b"v"), 1001 + EXPIRED_GRACE_MS), Decision::Remove));
    }
}
