//! Property tests of `encoding`: every layout round-trips, and byte order is the order each
//! layout promises (scores as Redis orders them, big-endian integers, prefixes that never
//! capture another key's records). Tests only.

use super::encoding::*;
use proptest::prelude::*;
use std::cmp::Ordering;

/// Any double, NaN and both zeros included (raw bits reach every class).
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(-f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(f64::MIN),
        any::<f64>(),
    ]
}

/// A score as ZADD stores it: any double but NaN, -0.0 made 0.0.
fn any_score() -> impl Strategy<Value = f64> {
    any_f64().prop_filter("NaN is refused before encoding", |s| !s.is_nan()).prop_map(crate::storage::types::zset::norm)
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn key_type() -> impl Strategy<Value = KeyType> {
    prop_oneof![
        Just(KeyType::String),
        Just(KeyType::Hash),
        Just(KeyType::List),
        Just(KeyType::Set),
        Just(KeyType::ZSet),
        Just(KeyType::Stream),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn score_round_trips_bit_for_bit(x in any_f64()) {
        prop_assert_eq!(decode_score(encode_score(x)).to_bits(), x.to_bits());
    }

    /// Bytes order like IEEE's total order: -NaN < -inf < .. < -0.0 < 0.0 < .. < +inf < NaN.
    #[test]
    fn score_bytes_follow_total_order(a in any_f64(), b in any_f64()) {
        prop_assert_eq!(encode_score(a).cmp(&encode_score(b)), a.total_cmp(&b));
    }

    /// As stored (no NaN, -0.0 as 0.0), bytes order exactly like Redis compares scores, and
    /// scores Redis finds equal (-0.0 and 0.0) encode the same.
    #[test]
    fn stored_scores_order_like_redis(a in any_score(), b in any_score()) {
        prop_assert_eq!(Some(encode_score(a).cmp(&encode_score(b))), a.partial_cmp(&b));
    }

    /// `zset_score` keys order by score, then member bytes (Redis's skiplist order), whatever
    /// the members' lengths, and decode back.
    #[test]
    fn zscore_keys_order_by_score_then_member(
        key in bytes(16), version in any::<u64>(),
        (s1, m1) in (any_score(), bytes(12)), (s2, m2) in (any_score(), bytes(12)),
    ) {
        let p = subkey_prefix(0, &key, version);
        let (k1, k2) = (zscore_key(&p, s1, &m1), zscore_key(&p, s2, &m2));
        let expected = s1.partial_cmp(&s2).unwrap_or(Ordering::Equal).then_with(|| m1.cmp(&m2));
        prop_assert_eq!(k1.cmp(&k2), expected);
        let (score, member) = decode_zscore_suffix(&k1[p.len()..]).unwrap();
        prop_assert_eq!(score.to_bits(), s1.to_bits());
        prop_assert_eq!(member, &m1[..]);
    }

    #[test]
    fn list_indexes_order_like_integers(a in any::<u64>(), b in any::<u64>()) {
        prop_assert_eq!(list_index(a).cmp(&list_index(b)), a.cmp(&b));
        prop_assert_eq!(u64::from_be_bytes(list_index(a)), a);
    }

    #[test]
    fn meta_keys_round_trip_and_stay_in_their_database(db in any::<u8>(), key in bytes(40)) {
        let k = meta_key(db, &key);
        prop_assert_eq!(decode_meta_key(&k), Some((db, &key[..])));
        prop_assert!(key_slot(&key) < 16384);
        let (start, end) = db_range(db);
        prop_assert!(start <= k && k < end);
    }

    /// A `{tag}` decides the slot, as in Redis Cluster.
    #[test]
    fn hash_tags_pick_the_slot(tag in "[a-z0-9]{1,8}", before in "[a-z]{0,4}", after in "[a-z{}]{0,6}") {
        let key = format!("{before}{{{tag}}}{after}");
        prop_assert_eq!(key_slot(key.as_bytes()), key_slot(tag.as_bytes()));
    }

    /// The expire index is walked in time order: expiry first, then database and key.
    #[test]
    fn expire_index_orders_by_time(
        (t1, d1, k1) in (any::<u64>(), any::<u8>(), bytes(16)),
        (t2, d2, k2) in (any::<u64>(), any::<u8>(), bytes(16)),
    ) {
        let (a, b) = (expire_index_key(t1, d1, &k1), expire_index_key(t2, d2, &k2));
        if t1 != t2 {
            prop_assert_eq!(a.cmp(&b), t1.cmp(&t2));
        }
        let (at, mk) = decode_expire_index_key(&a).unwrap();
        prop_assert_eq!(at, t1);
        prop_assert_eq!(mk, &meta_key(d1, &k1)[..]);
    }

    /// Subkeys decode back; those of one collection version sit inside `[prefix, prefix_end)`
    /// in the order of their subkey bytes; and no other key or version's prefix captures them
    /// (the key's length is in the prefix, so "a" never sees "ab"'s fields).
    #[test]
    fn subkeys_stay_inside_their_prefix(
        db in 0u8..4, key in bytes(12), version in any::<u64>(), s1 in bytes(12), s2 in bytes(12),
        other_key in bytes(12), other_version in any::<u64>(),
    ) {
        let p = subkey_prefix(db, &key, version);
        let (a, b) = (subkey(&p, &s1), subkey(&p, &s2));
        prop_assert_eq!(decode_subkey(&a), Some((db, &key[..], version, &s1[..])));
        prop_assert_eq!(a.cmp(&b), s1.cmp(&s2));
        prop_assert!(a >= p);
        if let Some(end) = prefix_end(&p) {
            prop_assert!(a < end);
        }
        if (&other_key, other_version) != (&key, version) {
            prop_assert!(!a.starts_with(&subkey_prefix(db, &other_key, other_version)));
        }
    }

    #[test]
    fn prefix_end_is_the_least_upper_bound(prefix in bytes(6), tail in bytes(6)) {
        let mut k = prefix.clone();
        k.extend_from_slice(&tail);
        match prefix_end(&prefix) {
            Some(end) => {
                prop_assert!(k < end);
                prop_assert!(!end.starts_with(&prefix));
            }
            None => prop_assert!(prefix.iter().all(|&b| b == 0xff)),
        }
    }

    #[test]
    fn string_records_round_trip(expire in any::<u64>(), value in bytes(64), raw in any::<bool>(), new_expire in any::<u64>()) {
        let flags = if raw { FLAG_RAW_STRING } else { 0 };
        let v = encode_string_flags(expire, &value, flags);
        let h = decode_meta(&v).unwrap();
        prop_assert_eq!(h, MetaHeader { key_type: KeyType::String, expire_at_ms: expire, flags });
        prop_assert_eq!(&v[META_HEADER_LEN..], &value[..]);
        let moved = with_expire(&v, new_expire);
        prop_assert_eq!(decode_meta(&moved).unwrap().expire_at_ms, new_expire);
        prop_assert_eq!(&moved[META_HEADER_LEN..], &value[..]);
    }

    #[test]
    fn collection_records_round_trip(
        t in key_type(), big in any::<bool>(), nonint in any::<bool>(),
        version in any::<u64>(), size in any::<u64>(), head in any::<u64>(), tail in any::<u64>(),
        expire in any::<u64>(),
    ) {
        prop_assume!(t != KeyType::String);
        let mut m = CollMeta::new(t, version);
        m.flags = if big { FLAG_BIG } else { 0 } | if nonint { FLAG_NONINT } else { 0 };
        m.size = size;
        if t == KeyType::List {
            m.head = head;
            m.tail = tail;
        }
        let v = m.encode(expire);
        let h = decode_meta(&v).unwrap();
        prop_assert_eq!(h.expire_at_ms, expire);
        prop_assert_eq!(CollMeta::decode(&h, &v), Ok(m));
        prop_assert_eq!(CollMeta::decode(&h, &v[..v.len() - 1]), Err(DecodeError::Truncated));
    }

    /// Decoding never panics on any bytes.
    #[test]
    fn decoders_accept_any_bytes(b in bytes(48)) {
        let _ = decode_meta_key(&b);
        let _ = decode_expire_index_key(&b);
        let _ = decode_subkey(&b);
        let _ = decode_zscore_suffix(&b);
        if let Ok(h) = decode_meta(&b) {
            let _ = CollMeta::decode(&h, &b);
        }
    }
}
