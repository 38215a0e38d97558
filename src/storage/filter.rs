//! Compaction filters and the counter merge operator (DESIGN.md §3).
//!
//! The metadata filter drops records whose expiry passed more than `EXPIRED_GRACE_MS` ago. Active
//! expiry normally deletes them long before (keeping the key counters exact); the filter is the
//! safety net that reclaims space even if active expiry is disabled, and the grace period covers
//! any race with a concurrent EXPIRE/PERSIST on the same key (Kvrocks issue 1298).
//! Subkey filters arrive with the collection types, which write subkeys.

use super::encoding::decode_meta;
use rocksdb::compaction_filter::Decision;
use rocksdb::MergeOperands;

/// How long after its expiry a metadata record may still be seen by compaction.
pub const EXPIRED_GRACE_MS: u64 = 60 * 60 * 1000;

/// Keep or remove one metadata record at `now_ms`.
pub fn metadata_decision(value: &[u8], now_ms: u64) -> Decision {
    match decode_meta(value) {
        Ok(h) if h.expire_at_ms != 0 && h.expire_at_ms.saturating_add(EXPIRED_GRACE_MS) < now_ms => Decision::Remove,
        _ => Decision::Keep,
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

    #[test]
    fn removes_long_expired_records() {
        assert!(matches!(metadata_decision(&encode_string(1000, b"v"), 1001 + EXPIRED_GRACE_MS), Decision::Remove));
    }
}
