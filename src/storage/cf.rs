//! Column-family names, in one place (DESIGN.md §3). FROZEN: renaming one orphans its data.

/// Key metadata and inline string values.
pub const METADATA: &str = "metadata";
/// Collection members and fields, under versioned prefixes.
pub const SUBKEYS: &str = "subkeys";
/// Sorted-set members ordered by score.
pub const ZSET_SCORE: &str = "zset_score";
/// Stream entries and consumer-group state.
pub const STREAM: &str = "stream";
/// Keys with an expiry, ordered by expiry time, for active expiry.
pub const EXPIRE_INDEX: &str = "expire_index";
/// RocksDB's own default family: per-database counters and the database map.
pub const DEFAULT: &str = "default";

/// Every family, in creation order.
pub const ALL: [&str; 6] = [DEFAULT, METADATA, SUBKEYS, ZSET_SCORE, STREAM, EXPIRE_INDEX];

/// Families holding collection members under `subkey_prefix(db, key, version)`.
pub const SUBKEY_FAMILIES: [&str; 3] = [SUBKEYS, ZSET_SCORE, STREAM];

/// Families whose keys start with `db · slot`, cleared per database by FLUSHDB.
pub const PER_DB: [&str; 4] = [METADATA, SUBKEYS, ZSET_SCORE, STREAM];
