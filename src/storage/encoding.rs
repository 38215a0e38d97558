//! On-disk key and value encodings: pure functions, no I/O.
//!
//! Every layout here is frozen once shipped (format version 1). A change of layout is a new
//! format version in the manifest (see `manifest.rs`), never an in-place edit. All integers in
//! keys are big-endian so that byte order equals numeric order.
//!
//! ```text
//! metadata key      db(1) · slot(2) · user_key
//! metadata value    type(1) · flags(1) · expire_at_ms(8) · body
//!                   body(string)     = the value bytes
//!                   body(collection) = version(8) · size(8) · type-specific
//! subkey key        db(1) · slot(2) · len(user_key)(4) · user_key · version(8) · subkey
//! expire_index key  expire_at_ms(8) · db(1) · slot(2) · user_key      (value empty)
//! ```
//!
//! Fragmented strings (`FLAG_FRAGMENTED`): a string edited in place by SETBIT, BITFIELD,
//! SETRANGE (or written by BITOP) that is longer than `FRAGMENT_THRESHOLD` bytes keeps its
//! value in `FRAGMENT_SIZE`-byte fragments instead of inline, so a bit write at a high offset
//! reads and writes one fragment, not the whole value:
//!
//! ```text
//! metadata value    type(1)=string · flags(1)|FLAG_FRAGMENTED · expire_at_ms(8) · version(8) · length(8)
//! fragment          subkeys CF: subkey_prefix(db, key, version) · index(8, big-endian)
//!                   value = bytes index·FRAGMENT_SIZE .. of the string, at most FRAGMENT_SIZE;
//!                   a missing fragment, or the part of one past its stored bytes, is zeros
//! ```
//!
//! The key's type stays `string`; every read of the whole value assembles it from the
//! fragments (`Storage::string_value`). Overwriting it (SET, …) writes an inline record, which
//! orphans the fragments: the `subkeys` compaction filter drops them like a collection's.

/// The type of a key. Stored as the first byte of its metadata record.
///
/// FROZEN: these byte values are on disk; never renumber, only append.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    String = 0,
    Hash = 1,
    List = 2,
    Set = 3,
    ZSet = 4,
    Stream = 5,
}

impl KeyType {
    pub fn from_byte(b: u8) -> Option<KeyType> {
        Some(match b {
            0 => KeyType::String,
            1 => KeyType::Hash,
            2 => KeyType::List,
            3 => KeyType::Set,
            4 => KeyType::ZSet,
            5 => KeyType::Stream,
            _ => return None,
        })
    }

    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::Hash => "hash",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Stream => "stream",
        }
    }
}

/// Layout version of a metadata record, kept in the low nibble of its flags byte.
pub const META_LAYOUT_V1: u8 = 1;
const LAYOUT_MASK: u8 = 0x0f;
/// Flag (high nibble of the flags byte): a string last written by APPEND or SETRANGE, which
/// OBJECT ENCODING reports as `raw` like Redis. FROZEN bit value.
pub const FLAG_RAW_STRING: u8 = 0x10;
/// Length of the header every metadata value starts with.
pub const META_HEADER_LEN: usize = 10;
/// Flag (high nibble), strings only: the value lives in fragments (see the module header).
/// FROZEN bit value.
pub const FLAG_FRAGMENTED: u8 = 0x80;
/// Bytes of one fragment of a fragmented string. FROZEN.
pub const FRAGMENT_SIZE: u64 = 1024;
/// A string edited in place (SETBIT, BITFIELD, SETRANGE, BITOP's destination) that ends up
/// longer than this is stored fragmented; shorter ones stay inline (one record, as GET likes).
pub const FRAGMENT_THRESHOLD: u64 = 4096;

/// Redis Cluster's CRC16 (XMODEM) of the key, or of its `{hashtag}`, modulo 16384.
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    crc16(tagged) & 0x3fff
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// `db · slot · user_key`: the key of a metadata record.
pub fn meta_key(db: u8, user_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + user_key.len());
    k.push(db);
    k.extend_from_slice(&key_slot(user_key).to_be_bytes());
    k.extend_from_slice(user_key);
    k
}

/// Splits a metadata key into `(db, user_key)`.
pub fn decode_meta_key(key: &[u8]) -> Option<(u8, &[u8])> {
    if key.len() < 3 {
        return None;
    }
    Some((key[0], &key[3..]))
}

/// The first key of a database in the metadata CF and the first key after it.
pub fn db_range(db: u8) -> (Vec<u8>, Vec<u8>) {
    let end = match db.checked_add(1) {
        Some(next) => vec![next],
        None => vec![0xff; 4],
    };
    (vec![db], end)
}

/// `expire_at_ms · db · slot · user_key`: the key of an expire-index record.
pub fn expire_index_key(expire_at_ms: u64, db: u8, user_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(11 + user_key.len());
    k.extend_from_slice(&expire_at_ms.to_be_bytes());
    k.extend_from_slice(&meta_key(db, user_key));
    k
}

/// Splits an expire-index key into `(expire_at_ms, metadata key)`.
pub fn decode_expire_index_key(key: &[u8]) -> Option<(u64, &[u8])> {
    if key.len() < 11 {
        return None;
    }
    let at = u64::from_be_bytes(key[..8].try_into().ok()?);
    Some((at, &key[8..]))
}

/// `db · slot · len(user_key) · user_key · version`: the prefix of all subkeys of one
/// version of a collection.
pub fn subkey_prefix(db: u8, user_key: &[u8], version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(15 + user_key.len());
    k.push(db);
    k.extend_from_slice(&key_slot(user_key).to_be_bytes());
    let len = u32::try_from(user_key.len()).unwrap_or(u32::MAX);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(user_key);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// Splits a subkey into `(db, user_key, version, subkey)`.
pub fn decode_subkey(key: &[u8]) -> Option<(u8, &[u8], u64, &[u8])> {
    if key.len() < 7 {
        return None;
    }
    let len = u32::from_be_bytes(key[3..7].try_into().ok()?) as usize;
    let user_end = 7usize.checked_add(len)?;
    if key.len() < user_end + 8 {
        return None;
    }
    let version = u64::from_be_bytes(key[user_end..user_end + 8].try_into().ok()?);
    Some((key[0], &key[7..user_end], version, &key[user_end + 8..]))
}

/// An IEEE double encoded so that byte order equals numeric order (for `zset_score`).
pub fn encode_score(score: f64) -> [u8; 8] {
    let bits = score.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
    ordered.to_be_bytes()
}

pub fn decode_score(b: [u8; 8]) -> f64 {
    let ordered = u64::from_be_bytes(b);
    let bits = if ordered >> 63 == 1 { ordered & !(1 << 63) } else { !ordered };
    f64::from_bits(bits)
}

/// The decoded header of a metadata record; `body` is whatever follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaHeader {
    pub key_type: KeyType,
    /// Absolute expiry in Unix milliseconds; 0 = no expiry.
    pub expire_at_ms: u64,
    /// The high nibble of the flags byte (`FLAG_*`).
    pub flags: u8,
}

/// Why a metadata record could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Truncated,
    UnknownType(u8),
    UnknownLayout(u8),
}

/// Decodes the header and returns it with the offset of the body.
pub fn decode_meta(value: &[u8]) -> Result<MetaHeader, DecodeError> {
    if value.len() < META_HEADER_LEN {
        return Err(DecodeError::Truncated);
    }
    let key_type = KeyType::from_byte(value[0]).ok_or(DecodeError::UnknownType(value[0]))?;
    let layout = value[1] & LAYOUT_MASK;
    if layout != META_LAYOUT_V1 {
        return Err(DecodeError::UnknownLayout(layout));
    }
    let mut at = [0u8; 8];
    at.copy_from_slice(&value[2..10]);
    Ok(MetaHeader { key_type, expire_at_ms: u64::from_be_bytes(at), flags: value[1] & !LAYOUT_MASK })
}

/// Encodes a string record: header then the value bytes.
pub fn encode_string(expire_at_ms: u64, value: &[u8]) -> Vec<u8> {
    encode_string_flags(expire_at_ms, value, 0)
}

/// Encodes a string record with `FLAG_*` bits.
pub fn encode_string_flags(expire_at_ms: u64, value: &[u8], flags: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(META_HEADER_LEN + value.len());
    push_header(&mut v, KeyType::String, expire_at_ms);
    v[1] |= flags & !LAYOUT_MASK;
    v.extend_from_slice(value);
    v
}

/// Where a fragmented string's fragments live and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragmented {
    pub version: u64,
    /// Length of the whole value in bytes.
    pub len: u64,
}

/// Encodes a fragmented string's record (its fragments are written separately).
pub fn encode_fragmented(expire_at_ms: u64, frag: Fragmented, flags: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(META_HEADER_LEN + 16);
    push_header(&mut v, KeyType::String, expire_at_ms);
    v[1] |= (flags | FLAG_FRAGMENTED) & !LAYOUT_MASK;
    v.extend_from_slice(&frag.version.to_be_bytes());
    v.extend_from_slice(&frag.len.to_be_bytes());
    v
}

/// The fragments of a string record: None for an inline string (or another type).
pub fn fragmented(raw: &[u8]) -> Option<Fragmented> {
    if raw.first().copied() != Some(KeyType::String as u8) || raw.get(1).is_none_or(|f| f & FLAG_FRAGMENTED == 0) {
        return None;
    }
    let word = |i: usize| raw.get(i..i + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes);
    Some(Fragmented { version: word(META_HEADER_LEN)?, len: word(META_HEADER_LEN + 8)? })
}

/// The subkey of fragment `index` (under `subkey_prefix(db, key, version)`).
pub fn fragment_index(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// The bytes a record stands for in the data-set accounting: its length, or for a fragmented
/// string the header plus the whole value's length (as if it were inline).
pub fn accounted_len(raw: &[u8]) -> usize {
    match fragmented(raw) {
        Some(f) => META_HEADER_LEN.saturating_add(usize::try_from(f.len).unwrap_or(usize::MAX)),
        None => raw.len(),
    }
}

/// Rewrites only the expiry field of an encoded record (EXPIRE, PERSIST).
pub fn with_expire(record: &[u8], expire_at_ms: u64) -> Vec<u8> {
    let mut v = record.to_vec();
    if v.len() >= META_HEADER_LEN {
        v[2..10].copy_from_slice(&expire_at_ms.to_be_bytes());
    }
    v
}

fn push_header(v: &mut Vec<u8>, t: KeyType, expire_at_ms: u64) {
    v.push(t as u8);
    v.push(META_LAYOUT_V1);
    v.extend_from_slice(&expire_at_ms.to_be_bytes());
}

/// Flag (high nibble): a collection that has outgrown Redis's compact encoding (more entries or
/// longer elements than the `*-max-listpack-*` / `set-max-intset-entries` limits), so OBJECT
/// ENCODING reports `hashtable` / `skiplist` like Redis. Like Redis, never cleared. FROZEN.
pub const FLAG_BIG: u8 = 0x20;
/// Flag (high nibble): a set holding a member that is not an integer (no longer an `intset`).
/// FROZEN.
pub const FLAG_NONINT: u8 = 0x40;

/// The first index of an empty list: lists grow both ways from the middle of the u64 range.
pub const LIST_MIDDLE: u64 = 1 << 63;

/// The decoded body of a collection's metadata record:
/// `version(8) · size(8) · type-specific`, where lists add `head(8) · tail(8)` (elements live at
/// indexes `head..tail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollMeta {
    pub key_type: KeyType,
    /// The high-nibble flags (`FLAG_BIG`, `FLAG_NONINT`).
    pub flags: u8,
    pub version: u64,
    /// Number of fields / elements / members.
    pub size: u64,
    /// Lists only: index of the first element.
    pub head: u64,
    /// Lists only: one past the index of the last element.
    pub tail: u64,
}

impl CollMeta {
    /// A new, empty collection of type `t` with a fresh `version`.
    pub fn new(key_type: KeyType, version: u64) -> CollMeta {
        CollMeta { key_type, flags: 0, version, size: 0, head: LIST_MIDDLE, tail: LIST_MIDDLE }
    }

    /// Encodes the whole metadata record with expiry `expire_at_ms`.
    pub fn encode(&self, expire_at_ms: u64) -> Vec<u8> {
        let mut v = Vec::with_capacity(META_HEADER_LEN + 32);
        push_header(&mut v, self.key_type, expire_at_ms);
        v[1] |= self.flags & !LAYOUT_MASK;
        v.extend_from_slice(&self.version.to_be_bytes());
        v.extend_from_slice(&self.size.to_be_bytes());
        if self.key_type == KeyType::List {
            v.extend_from_slice(&self.head.to_be_bytes());
            v.extend_from_slice(&self.tail.to_be_bytes());
        }
        v
    }

    /// Decodes a collection's metadata record (whose header is `header`).
    pub fn decode(header: &MetaHeader, value: &[u8]) -> Result<CollMeta, DecodeError> {
        let body = value.get(META_HEADER_LEN..).ok_or(DecodeError::Truncated)?;
        let word = |i: usize| -> Result<u64, DecodeError> {
            let b = body.get(i * 8..i * 8 + 8).ok_or(DecodeError::Truncated)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(u64::from_be_bytes(a))
        };
        let mut m = CollMeta::new(header.key_type, word(0)?);
        m.flags = header.flags;
        m.size = word(1)?;
        if header.key_type == KeyType::List {
            m.head = word(2)?;
            m.tail = word(3)?;
        }
        Ok(m)
    }
}

/// The key of one subkey: `subkey_prefix(..) · subkey`.
pub fn subkey(prefix: &[u8], sub: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + sub.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(sub);
    k
}

/// The first key after every key that starts with `prefix` (for iterator upper bounds), or
/// None if there is none (a prefix of all 0xff bytes).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// `zset_score` key of `member` with `score`: `prefix · score(8, ordered) · member`.
pub fn zscore_key(prefix: &[u8], score: f64, member: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8 + member.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(&encode_score(score));
    k.extend_from_slice(member);
    k
}

/// Splits the part of a `zset_score` key after its prefix into `(score, member)`.
pub fn decode_zscore_suffix(suffix: &[u8]) -> Option<(f64, &[u8])> {
    let s: [u8; 8] = suffix.get(..8)?.try_into().ok()?;
    Some((decode_score(s), &suffix[8..]))
}

/// A list element's subkey: its index, big-endian.
pub fn list_index(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// The per-database counters kept in the `default` CF (merged, little-endian i64).
pub fn counter_key(kind: CounterKind, db: u8) -> [u8; 3] {
    [b'#', kind as u8, db]
}

/// FROZEN byte values of the counter kinds.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterKind {
    Keys = b'k',
    Expires = b'e',
    /// Σ over keys of metadata key length + metadata record length (`used_memory_dataset`).
    DataBytes = b'b',
    /// Σ of collection sizes (elements).
    Elements = b'n',
    /// Σ of the bytes (key suffix + value) of collection subkeys written.
    SubBytes = b's',
    /// Number of collection subkeys written (in the families holding one record per element).
    SubWrites = b'c',
}

impl CounterKind {
    /// Every kind, in the order of `Storage`'s in-memory counters.
    pub const ALL: [CounterKind; 6] = [
        CounterKind::Keys,
        CounterKind::Expires,
        CounterKind::DataBytes,
        CounterKind::Elements,
        CounterKind::SubBytes,
        CounterKind::SubWrites,
    ];
}

/// The `default`-family key marking that the data-set counters (`DataBytes` ..`SubWrites`)
/// are kept: a directory written before them gets them computed once at open.
pub const ACCOUNTING_KEY: &[u8] = b"#accounting";

/// The element count of a collection record (`size`), 0 for a string or a short record; read
/// in place, without decoding the rest.
pub fn coll_size(raw: &[u8]) -> u64 {
    if raw.first().copied() == Some(KeyType::String as u8) {
        return 0;
    }
    raw.get(META_HEADER_LEN + 8..META_HEADER_LEN + 16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        // Values from Redis Cluster's spec and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"123456789"), 0x31c3 & 0x3fff);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"{}foo"), crc16(b"{}foo") & 0x3fff);
    }

    #[test]
    fn meta_key_round_trip() {
        let k = meta_key(7, b"hello");
        assert_eq!(decode_meta_key(&k), Some((7, &b"hello"[..])));
        let (lo, hi) = db_range(7);
        assert!(k.as_slice() >= lo.as_slice() && k.as_slice() < hi.as_slice());
    }

    #[test]
    fn string_record_round_trip() {
        let v = encode_string(1234, b"value");
        let h = decode_meta(&v).unwrap();
        assert_eq!(h, MetaHeader { key_type: KeyType::String, expire_at_ms: 1234, flags: 0 });
        let raw = encode_string_flags(0, b"v", FLAG_RAW_STRING);
        assert_eq!(decode_meta(&raw).unwrap().flags, FLAG_RAW_STRING);
        assert_eq!(&v[META_HEADER_LEN..], b"value");
        let v2 = with_expire(&v, 0);
        assert_eq!(decode_meta(&v2).unwrap().expire_at_ms, 0);
        assert_eq!(&v2[META_HEADER_LEN..], b"value");
    }

    #[test]
    fn fragmented_record_round_trip() {
        let f = Fragmented { version: 77, len: 536_870_912 };
        let v = encode_fragmented(5, f, FLAG_RAW_STRING);
        let h = decode_meta(&v).unwrap();
        assert_eq!(h.key_type, KeyType::String);
        assert_eq!(h.flags, FLAG_RAW_STRING | FLAG_FRAGMENTED);
        assert_eq!(h.expire_at_ms, 5);
        assert_eq!(fragmented(&v), Some(f));
        assert_eq!(fragmented(&with_expire(&v, 9)), Some(f));
        assert_eq!(accounted_len(&v), META_HEADER_LEN + 536_870_912);
        assert_eq!(fragmented(&encode_string(0, &[0xff; 16])), None);
        assert_eq!(fragmented(&v[..20]), None);
        assert_eq!(accounted_len(&encode_string(0, b"abc")), META_HEADER_LEN + 3);
        assert_eq!(coll_size(&v), 0);
        let p = subkey_prefix(0, b"k", 77);
        assert!(subkey(&p, &fragment_index(1)) < subkey(&p, &fragment_index(256)));
    }

    #[test]
    fn rejects_unknown_records() {
        assert_eq!(decode_meta(b"short"), Err(DecodeError::Truncated));
        let mut v = encode_string(0, b"");
        v[0] = 99;
        assert_eq!(decode_meta(&v), Err(DecodeError::UnknownType(99)));
        v[0] = 0;
        v[1] = 2;
        assert_eq!(decode_meta(&v), Err(DecodeError::UnknownLayout(2)));
    }

    #[test]
    fn expire_index_orders_by_time() {
        let a = expire_index_key(5, 3, b"zzz");
        let b = expire_index_key(6, 0, b"aaa");
        assert!(a < b);
        let (at, mk) = decode_expire_index_key(&a).unwrap();
        assert_eq!(at, 5);
        assert_eq!(mk, meta_key(3, b"zzz").as_slice());
    }

    #[test]
    fn subkey_round_trip() {
        let mut k = subkey_prefix(2, b"key", 42);
        k.extend_from_slice(b"field");
        assert_eq!(decode_subkey(&k), Some((2, &b"key"[..], 42, &b"field"[..])));
        assert_eq!(decode_subkey(&k[..9]), None);
    }

    #[test]
    fn collection_record_round_trip() {
        let h = |v: &[u8]| decode_meta(v).unwrap();
        let mut m = CollMeta::new(KeyType::List, 77);
        m.size = 3;
        m.head = LIST_MIDDLE - 1;
        m.tail = LIST_MIDDLE + 2;
        m.flags = FLAG_BIG;
        let v = m.encode(99);
        assert_eq!(h(&v).expire_at_ms, 99);
        assert_eq!(CollMeta::decode(&h(&v), &v), Ok(m));
        let mut s = CollMeta::new(KeyType::Set, 5);
        s.flags = FLAG_NONINT;
        s.size = 1;
        let v = s.encode(0);
        assert_eq!(v.len(), META_HEADER_LEN + 16);
        assert_eq!(CollMeta::decode(&h(&v), &v), Ok(s));
        assert_eq!(CollMeta::decode(&h(&v), &v[..20]), Err(DecodeError::Truncated));
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        let p = subkey_prefix(1, b"k", 9);
        let end = prefix_end(&p).unwrap();
        assert!(subkey(&p, &[0xff; 40]) < end);
    }

    #[test]
    fn zscore_keys_order_by_score_then_member() {
        let p = subkey_prefix(0, b"z", 1);
        let a = zscore_key(&p, -1.0, b"b");
        let b = zscore_key(&p, 1.0, b"a");
        let c = zscore_key(&p, 1.0, b"b");
        assert!(a < b && b < c);
        assert_eq!(decode_zscore_suffix(&c[p.len()..]), Some((1.0, &b"b"[..])));
    }

    #[test]
    fn score_encoding_preserves_order() {
        let xs = [f64::NEG_INFINITY, -1e300, -1.5, -0.0, 0.0, 1e-300, 1.0, 2.5, 1e300, f64::INFINITY];
        for w in xs.windows(2) {
            assert!(encode_score(w[0]) <= encode_score(w[1]), "{} {}", w[0], w[1]);
        }
        for x in xs {
            assert_eq!(decode_score(encode_score(x)).to_bits(), x.to_bits());
        }
    }
}
