//! Storage tests on a real RocksDB in a temporary directory.

use super::keyspace::{ExpireCond, RenameOutcome};
use super::types::string::{ExpireUpdate, SetCond, StringStore};
use super::*;
use bytes::Bytes;
use encoding::KeyType;

fn open(dir: &Path) -> Arc<Storage> {
    let opts = StorageOptions { dir: dir.to_path_buf(), ..StorageOptions::default() };
    Storage::open(&opts, Arc::new(Clock::new())).unwrap()
}

fn set(s: &Storage, pdb: u8, k: &str, v: &str, exp: ExpireUpdate) {
    StringStore::new(s, pdb).set(k.as_bytes(), v.as_bytes(), SetCond::Always, exp, false).unwrap();
}

fn get(s: &Storage, pdb: u8, k: &str) -> Option<Bytes> {
    StringStore::new(s, pdb).get(k.as_bytes()).unwrap()
}

#[test]
fn data_and_counters_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        let far = s.clock.now_ms() + 3_600_000;
        set(&s, 0, "a", "1", ExpireUpdate::Clear);
        set(&s, 0, "b", "2", ExpireUpdate::At(far));
        set(&s, 3, "c", "3", ExpireUpdate::Clear);
        set(&s, 0, "a", "overwritten", ExpireUpdate::Clear);
        assert_eq!(s.key_count(0), 2);
        assert_eq!(s.expires_count(0), 1);
        s.close();
    }
    let s = open(dir.path());
    assert_eq!(get(&s, 0, "a").as_deref(), Some(&b"overwritten"[..]));
    assert_eq!(get(&s, 3, "c").as_deref(), Some(&b"3"[..]));
    assert_eq!((s.key_count(0), s.expires_count(0), s.key_count(3)), (2, 1, 1));
    assert_eq!(s.delete(0, &[Bytes::from("a"), Bytes::from("b"), Bytes::from("zz")]).unwrap(), 2);
    assert_eq!((s.key_count(0), s.expires_count(0)), (0, 0));
}

#[test]
fn lazy_and_active_expiry_with_a_moved_clock() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.active_expire_enabled.store(false, Ordering::Relaxed);
    let now = s.clock.now_ms();
    set(&s, 0, "short", "v", ExpireUpdate::At(now + 10_000));
    set(&s, 0, "short2", "v", ExpireUpdate::At(now + 10_000));
    set(&s, 0, "long", "v", ExpireUpdate::At(now + 1_000_000));
    set(&s, 0, "forever", "v", ExpireUpdate::Clear);
    s.clock.advance(10_001);
    // Lazy: invisible at once, and deleted by the read that finds it expired (as Redis does).
    assert_eq!(get(&s, 0, "short"), None);
    assert_eq!((s.key_count(0), s.expires_count(0)), (3, 2));
    // Active: the one nobody read goes in the next cycle.
    assert_eq!(s.active_expire_cycle().unwrap(), 1);
    assert_eq!((s.key_count(0), s.expires_count(0)), (2, 1));
    assert_eq!(s.stats.expired_keys.load(Ordering::Relaxed), 2);
    assert!(get(&s, 0, "long").is_some());
}

#[test]
fn rewriting_an_expiry_leaves_no_stale_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.active_expire_enabled.store(false, Ordering::Relaxed);
    let now = s.clock.now_ms();
    set(&s, 0, "k", "v", ExpireUpdate::At(now + 1_000));
    assert!(s.set_expire(0, b"k", now + 100_000, ExpireCond::Always).unwrap());
    s.clock.advance(2_000);
    assert_eq!(s.active_expire_cycle().unwrap(), 0);
    assert!(get(&s, 0, "k").is_some());
    assert!(s.persist(0, b"k").unwrap());
    assert_eq!(s.expires_count(0), 0);
    assert!(!s.set_expire(0, b"k", now + 5, ExpireCond::Xx).unwrap());
    // An expiry in the past deletes the key.
    assert!(s.set_expire(0, b"k", 1, ExpireCond::Always).unwrap());
    assert_eq!(s.key_count(0), 0);
}

#[test]
fn rename_move_copy() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    set(&s, 0, "a", "1", ExpireUpdate::Clear);
    assert_eq!(s.rename(0, b"nope", b"x", false).unwrap(), RenameOutcome::NoSuchKey);
    assert_eq!(s.rename(0, b"a", b"b", false).unwrap(), RenameOutcome::Renamed);
    assert_eq!(get(&s, 0, "b").as_deref(), Some(&b"1"[..]));
    assert_eq!(s.key_count(0), 1);
    assert!(s.move_key(0, 1, b"b").unwrap());
    assert_eq!((s.key_count(0), s.key_count(1)), (0, 1));
    assert!(s.copy_key(1, b"b", 0, b"c", false).unwrap());
    assert!(!s.copy_key(1, b"b", 0, b"c", false).unwrap());
    assert_eq!(get(&s, 0, "c").as_deref(), Some(&b"1"[..]));
}

#[test]
fn flush_and_swap_databases() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        set(&s, 0, "zero", "0", ExpireUpdate::Clear);
        set(&s, 1, "one", "1", ExpireUpdate::Clear);
        let mut map = s.dbs_mut();
        s.swap_db(&mut map, 0, 1).unwrap();
        assert_eq!(map.physical(0), 1);
        drop(map);
        s.close();
    }
    let s = open(dir.path());
    let dbs = s.dbs();
    let (p0, p1) = (dbs.physical(0), dbs.physical(1));
    drop(dbs);
    assert_eq!(get(&s, p0, "one").as_deref(), Some(&b"1"[..]));
    assert_eq!(get(&s, p1, "zero").as_deref(), Some(&b"0"[..]));
    let map = s.dbs_mut();
    s.flush_db(&map, p0).unwrap();
    assert_eq!(s.key_count(p0), 0);
    assert_eq!(s.key_count(p1), 1);
    s.flush_all(&map).unwrap();
    assert_eq!(s.key_count(p1), 0);
    assert_eq!(get(&s, p1, "zero"), None);
}

#[test]
fn scan_returns_every_key_once_across_pages() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    for i in 0..500 {
        set(&s, 2, &format!("key:{i}"), "v", ExpireUpdate::Clear);
    }
    let mut seen = std::collections::HashSet::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = s.scan(2, after.as_deref(), 37, |_, _| true).unwrap();
        for k in page.keys {
            assert!(seen.insert(k), "duplicate");
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 500);
    assert!(s.random_key(2).unwrap().is_some());
    assert!(s.random_key(9).unwrap().is_none());
}

#[test]
fn cache_only_reads_report_would_block_after_flush() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions { dir: dir.path().to_path_buf(), block_cache_size: 0, ..StorageOptions::default() };
    let s = Storage::open(&opts, Arc::new(Clock::new())).unwrap();
    set(&s, 0, "k", "v", ExpireUpdate::Clear);
    // In the memtable: served from memory.
    assert!(tier::cache_only(|| get(&s, 0, "k")).is_some());
    s.db().flush_cf(s.cf(cf::METADATA)).unwrap();
    // Nor in the hot cache, which holds the records written last.
    assert!(tier::cache_only(|| get(&s, 0, "k")).is_some());
    s.cache.clear();
    let r = tier::cache_only(|| StringStore::new(&s, 0).get(b"k"));
    assert_eq!(r, Err(StoreError::WouldBlock));
    assert_eq!(get(&s, 0, "k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn flushes_and_compactions_leave_what_they_wrote_in_the_block_cache() {
    let dir = tempfile::tempdir().unwrap();
    let opts =
        StorageOptions { dir: dir.path().to_path_buf(), block_cache_size: 64 << 20, ..StorageOptions::default() };
    let s = Storage::open(&opts, Arc::new(Clock::new())).unwrap();
    let big = "b".repeat(opts.blob_min_size as usize + 100);
    set(&s, 0, "small", "v", ExpireUpdate::Clear);
    set(&s, 0, "big", &big, ExpireUpdate::Clear);
    let cached = |s: &Storage| {
        s.cache.clear();
        let small = tier::cache_only(|| StringStore::new(s, 0).get(b"small"));
        s.cache.clear();
        let big = tier::cache_only(|| StringStore::new(s, 0).get(b"big"));
        (small, big)
    };
    // A key just flushed is read without the disk: its block (and its blob) went into the
    // cache with the flush, not only into the file.
    s.db().flush_cf(s.cf(cf::METADATA)).unwrap();
    let (small, big_read) = cached(&s);
    assert_eq!(small, Ok(Some(Bytes::from_static(b"v"))));
    assert_eq!(big_read, Ok(Some(Bytes::from(big.clone()))));
    // So is one whose file a compaction has just rewritten.
    compact_everything(&s);
    let (small, big_read) = cached(&s);
    assert_eq!(small, Ok(Some(Bytes::from_static(b"v"))));
    assert_eq!(big_read, Ok(Some(Bytes::from(big))));
}

/// Flushes every family's memtable, so a read not served by the hot cache needs the disk (the
/// block cache is off in these tests).
fn flush_all_families(s: &Storage) {
    for name in cf::ALL {
        s.db().flush_cf(s.cf(name)).unwrap();
    }
}

#[test]
fn hot_cache_serves_strings_and_small_collections_from_memory_and_follows_writes() {
    use super::types::hash::HashStore;
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions { dir: dir.path().to_path_buf(), block_cache_size: 0, ..StorageOptions::default() };
    let s = Storage::open(&opts, Arc::new(Clock::new())).unwrap();
    let pair = |f: &str, v: &str| (Bytes::copy_from_slice(f.as_bytes()), Bytes::copy_from_slice(v.as_bytes()));
    let small: Vec<_> = (0..10).map(|i| pair(&format!("f{i}"), "v")).collect();
    let big: Vec<_> = (0..(cache::MAX_MEMBERS + 1)).map(|i| pair(&format!("f{i}"), "v")).collect();
    HashStore::new(&s, 0).set(b"small", &small, false).unwrap();
    HashStore::new(&s, 0).set(b"big", &big, false).unwrap();
    set(&s, 0, "str", "v1", ExpireUpdate::Clear);
    // Read once from RocksDB (filling the cache), then with the disk out of reach.
    assert_eq!(HashStore::new(&s, 0).all(b"small").unwrap().unwrap().len(), 10);
    assert_eq!(HashStore::new(&s, 0).all(b"big").unwrap().unwrap().len(), cache::MAX_MEMBERS + 1);
    flush_all_families(&s);
    assert_eq!(tier::cache_only(|| get(&s, 0, "str")).as_deref(), Some(&b"v1"[..]));
    let all = tier::cache_only(|| HashStore::new(&s, 0).all(b"small")).unwrap().unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(tier::cache_only(|| HashStore::new(&s, 0).get(b"small", b"f3")).unwrap().as_deref(), Some(&b"v"[..]));
    // Too big to keep whole: its walk needs RocksDB.
    assert_eq!(tier::cache_only(|| HashStore::new(&s, 0).all(b"big")), Err(StoreError::WouldBlock));
    // A write drops the collection kept whole and updates the string: no stale read.
    HashStore::new(&s, 0).set(b"small", &[pair("f3", "changed"), pair("new", "x")], false).unwrap();
    set(&s, 0, "str", "v2", ExpireUpdate::Clear);
    assert_eq!(get(&s, 0, "str").as_deref(), Some(&b"v2"[..]));
    let all = HashStore::new(&s, 0).all(b"small").unwrap().unwrap();
    assert_eq!(all.len(), 11);
    assert!(all.contains(&pair("f3", "changed")));
    assert_eq!(HashStore::new(&s, 0).get(b"small", b"f3").unwrap().as_deref(), Some(&b"changed"[..]));
    assert!(s.cache.stats.hits.load(Ordering::Relaxed) >= 3);
    // Off: every read goes to RocksDB.
    s.cache.set_capacity(0);
    flush_all_families(&s);
    assert_eq!(tier::cache_only(|| StringStore::new(&s, 0).get(b"str")), Err(StoreError::WouldBlock));
}

#[test]
fn metadata_filter_drops_long_expired_records_on_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.active_expire_enabled.store(false, Ordering::Relaxed);
    let now = s.clock.now_ms();
    set(&s, 0, "old", "v", ExpireUpdate::At(now + 1));
    set(&s, 0, "live", "v", ExpireUpdate::Clear);
    s.clock.advance((filter::EXPIRED_GRACE_MS + 10_000) as i64);
    s.db().compact_range_cf(s.cf(cf::METADATA), None::<&[u8]>, None::<&[u8]>);
    assert!(s.get_record(0, b"old").unwrap().is_none());
    assert!(s.get_record(0, b"live").unwrap().is_some());
}

/// Writes a collection of `n` subkeys directly (what the typed stores do), returning its meta.
fn put_collection(s: &Storage, pdb: u8, key: &[u8], t: KeyType, n: u64) -> encoding::CollMeta {
    let _g = s.lock(pdb, key).unwrap();
    let l = s.load_coll(pdb, key, t).unwrap();
    let mut meta = l.meta_or_new(s, t);
    let prefix = types::prefix(pdb, key, &meta);
    let mut b = s.batch();
    for i in 0..n {
        match t {
            KeyType::List => {
                b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, &encoding::list_index(meta.tail)), Bytes::from("e"));
                meta.tail += 1;
            }
            KeyType::ZSet => {
                let m = format!("m{i}");
                b.put_sub(
                    cf::SUBKEYS,
                    encoding::subkey(&prefix, m.as_bytes()),
                    encoding::encode_score(i as f64).to_vec(),
                );
                b.put_sub(cf::ZSET_SCORE, encoding::zscore_key(&prefix, i as f64, m.as_bytes()), Bytes::new());
            }
            _ => b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, format!("f{i}").as_bytes()), Bytes::from("v")),
        }
        meta.size += 1;
    }
    b.put_coll(pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
    b.commit().unwrap();
    meta
}

fn count_cf(s: &Storage, name: &str) -> usize {
    let mut it = s.db().raw_iterator_cf(s.cf(name));
    it.seek_to_first();
    let mut n = 0;
    while it.valid() {
        n += 1;
        it.next();
    }
    n
}

fn compact_everything(s: &Storage) {
    for name in cf::ALL {
        s.db().flush_cf(s.cf(name)).unwrap();
        s.db().compact_range_cf(s.cf(name), None::<&[u8]>, None::<&[u8]>);
    }
}

#[test]
fn compaction_keeps_only_live_subkeys() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    put_collection(&s, 0, b"live", KeyType::Hash, 10);
    put_collection(&s, 0, b"deleted", KeyType::Hash, 20);
    put_collection(&s, 1, b"overwritten", KeyType::Set, 30);
    put_collection(&s, 0, b"zset", KeyType::ZSet, 5);
    put_collection(&s, 0, b"zdeleted", KeyType::ZSet, 7);
    let list = put_collection(&s, 0, b"list", KeyType::List, 6);
    put_collection(&s, 0, b"renamed", KeyType::Hash, 4);
    put_collection(&s, 2, b"expiring", KeyType::Set, 8);
    let soon = s.clock.now_ms() + 1000;
    assert!(s.set_expire(2, b"expiring", soon, ExpireCond::Always).unwrap());
    assert_eq!(count_cf(&s, cf::SUBKEYS), 10 + 20 + 30 + 5 + 7 + 6 + 4 + 8);
    // DEL is metadata-only; SET over a set replaces it; a list trimmed by moving head/tail.
    assert_eq!(s.delete(0, &[Bytes::from("deleted"), Bytes::from("zdeleted")]).unwrap(), 2);
    set(&s, 1, "overwritten", "now a string", ExpireUpdate::Clear);
    {
        let _g = s.lock(0, b"list").unwrap();
        let l = s.load_coll(0, b"list", KeyType::List).unwrap();
        let mut m = l.meta.unwrap();
        m.head += 2;
        m.tail -= 1;
        m.size = 3;
        let mut b = s.batch();
        b.put_coll(0, b"list", l.old.as_ref(), &m, 0);
        b.commit().unwrap();
    }
    assert_eq!(s.rename(0, b"renamed", b"moved", false).unwrap(), RenameOutcome::Renamed);
    assert_eq!(count_cf(&s, cf::SUBKEYS), 10 + 20 + 30 + 5 + 7 + 6 + 4 + 8 + 4, "nothing reclaimed yet");
    // The set expires, and stays unreclaimed by active expiry past the filters' grace period.
    s.active_expire_enabled.store(false, Ordering::Relaxed);
    s.clock.advance(2 * filter::EXPIRED_GRACE_MS as i64);
    compact_everything(&s);
    assert_eq!(count_cf(&s, cf::SUBKEYS), 10 + 5 + 3 + 4, "only live subkeys remain");
    assert_eq!(count_cf(&s, cf::ZSET_SCORE), 5);
    // Metadata: live, zset, list, moved and the string that replaced a set.
    assert_eq!(count_cf(&s, cf::METADATA), 5);
    let remaining: Vec<u64> = {
        let mut out = Vec::new();
        let prefix = encoding::subkey_prefix(0, b"list", list.version);
        s.sub_scan(cf::SUBKEYS, &prefix, subkeys::Dir::Forward, None, |sub, _| {
            out.push(u64::from_be_bytes(sub.try_into().unwrap()) - encoding::LIST_MIDDLE);
            true
        })
        .unwrap();
        out
    };
    assert_eq!(remaining, vec![2, 3, 4]);
    // The renamed hash reads under its new name.
    let moved = s.read_coll(0, b"moved", KeyType::Hash).unwrap().unwrap();
    assert_eq!(moved.size, 4);
    let mut n = 0;
    s.sub_scan(cf::SUBKEYS, &types::prefix(0, b"moved", &moved), subkeys::Dir::Forward, None, |_, _| {
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn dropping_a_big_collection_compacts_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    put_collection(&s, 0, b"big", KeyType::ZSet, batch::BIG_COLLECTION);
    put_collection(&s, 0, b"small", KeyType::ZSet, 3);
    for name in cf::ALL {
        s.db().flush_cf(s.cf(name)).unwrap();
    }
    assert_eq!(s.delete(0, &[Bytes::from("big")]).unwrap(), 1);
    // The reclaim thread compacts the range soon after the commit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.stats.reclaimed_ranges.load(Ordering::Relaxed) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(s.stats.reclaimed_ranges.load(Ordering::Relaxed), 1);
    assert_eq!(count_cf(&s, cf::SUBKEYS), 3);
    assert_eq!(count_cf(&s, cf::ZSET_SCORE), 3);
}

#[test]
fn emptied_collections_disappear_and_wrong_types_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    put_collection(&s, 0, b"h", KeyType::Hash, 1);
    assert_eq!(s.key_count(0), 1);
    assert_eq!(s.load_coll(0, b"h", KeyType::List).err(), Some(StoreError::WrongType));
    let _g = s.lock(0, b"h").unwrap();
    let l = s.load_coll(0, b"h", KeyType::Hash).unwrap();
    let mut m = l.meta.unwrap();
    m.size = 0;
    let mut b = s.batch();
    b.put_coll(0, b"h", l.old.as_ref(), &m, 0);
    b.commit().unwrap();
    assert!(s.get_record(0, b"h").unwrap().is_none());
    assert_eq!(s.key_count(0), 0);
}

#[test]
fn streams_trim_with_one_range_delete_and_compaction_reclaims_dropped_streams() {
    use types::stream::{Group, NewId, Pending, StreamId, TrimTo};
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let fields = [Bytes::from("f"), Bytes::from("v")];
    for key in [&b"kept"[..], b"dropped"] {
        s.stream_write(0, key, |t| {
            for i in 1..=1000u64 {
                t.add(NewId::Exact(StreamId::new(i, 0)), 0, &fields).unwrap();
            }
            t.set_group(b"g", Group { last_id: StreamId::new(10, 0), entries_read: Some(10), pending: 0 })?;
            t.touch_consumer(b"g", b"c", 5)?;
            t.set_pending(
                b"g",
                StreamId::new(3, 0),
                Some(Pending { delivery_ms: 5, deliveries: 1, consumer: "c".into() }),
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }
    // Entries, plus a group, a consumer and a pending entry per stream.
    assert_eq!(count_cf(&s, cf::STREAM), 2 * (1000 + 3));
    let removed = s.stream_write(0, b"kept", |t| t.trim(TrimTo::MaxLen(10), false, 0)).unwrap();
    assert_eq!(removed, 990);
    assert_eq!(s.stream_write(0, b"kept", |t| t.delete(&[StreamId::new(1000, 0), StreamId::new(5, 0)])).unwrap(), 1);
    assert_eq!(s.delete(0, &[Bytes::from("dropped")]).unwrap(), 1);
    compact_everything(&s);
    assert_eq!(count_cf(&s, cf::STREAM), 9 + 3, "the trim, the XDEL and the dropped stream are reclaimed");
    s.close();
    drop(s);
    let s = open(dir.path());
    let v = s.stream_view(0, b"kept").unwrap().unwrap();
    assert_eq!(v.meta.len(), 9);
    assert_eq!(v.meta.last_id, StreamId::new(1000, 0));
    assert_eq!(v.meta.max_deleted, StreamId::new(1000, 0));
    assert_eq!(v.meta.entries_added, 1000);
    assert_eq!(v.first_id().unwrap(), StreamId::new(991, 0));
    let ids: Vec<u64> = v.range(StreamId::MIN, StreamId::MAX, false, 0).unwrap().iter().map(|(id, _)| id.ms).collect();
    assert_eq!(ids, (991..1000).collect::<Vec<_>>());
    assert_eq!(v.group(b"g").unwrap().unwrap().pending, 1);
    assert_eq!(v.pending(b"g", StreamId::new(3, 0)).unwrap().unwrap().consumer, Bytes::from("c"));
    assert_eq!(v.consumers(b"g").unwrap().len(), 1);
    // A new ID never goes back, whatever the clock says.
    let next = s.stream_write(0, b"kept", |t| Ok::<_, StoreError>(t.add(NewId::Auto, 7, &fields).unwrap())).unwrap();
    assert_eq!(next, StreamId::new(1000, 1));
}

#[test]
fn a_streams_first_id_follows_deletes_and_trims() {
    use types::stream::{NewId, StreamId, TrimTo};
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let f = [Bytes::from("f"), Bytes::from("v")];
    let id = |ms| StreamId::new(ms, 0);
    let first = |s: &Storage| s.stream_view(0, b"s").unwrap().unwrap().first_id().unwrap();
    s.stream_write(0, b"s", |t| {
        for ms in 1..=10 {
            t.add(NewId::Exact(id(ms)), 0, &f).unwrap();
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(first(&s), id(1));
    // Deleting the first entries (and one further on) moves it to the next live one.
    s.stream_write(0, b"s", |t| t.delete(&[id(1), id(2), id(4)])).unwrap();
    assert_eq!(first(&s), id(3));
    s.stream_write(0, b"s", |t| t.delete(&[id(3)])).unwrap();
    assert_eq!(first(&s), id(5));
    // A trim keeps the newest; the walk starts at the first entry, not at deleted ones.
    assert_eq!(s.stream_write(0, b"s", |t| t.trim(TrimTo::MaxLen(2), false, 0)).unwrap(), 4);
    assert_eq!(first(&s), id(9));
    // XADD with MAXLEN 0 empties the stream, its new entry included; the next add starts it again.
    s.stream_write(0, b"s", |t| {
        t.add(NewId::Exact(id(11)), 0, &f).unwrap();
        t.trim(TrimTo::MaxLen(0), false, 0)
    })
    .unwrap();
    let v = s.stream_view(0, b"s").unwrap().unwrap();
    assert_eq!((v.meta.len(), v.first_id().unwrap(), v.meta.last_id), (0, StreamId::MIN, id(11)));
    s.stream_write(0, b"s", |t| Ok::<_, StoreError>(t.add(NewId::Exact(id(12)), 0, &f).unwrap())).unwrap();
    assert_eq!(first(&s), id(12));
    let v = s.stream_view(0, b"s").unwrap().unwrap();
    assert_eq!(v.range(StreamId::MIN, StreamId::MAX, false, 0).unwrap().len(), 1);
}

/// An all-or-nothing write's iterations merge its own puts, deletes and range deletes with the
/// stored records, in both directions and from any start; dropped, it writes nothing.
#[test]
fn atomic_write_iterations_merge_its_own_writes() {
    use rand::Rng;
    use std::collections::BTreeMap;
    use subkeys::Dir;
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let prefix = encoding::subkey_prefix(0, b"k", 7);
    let sub = |i: u8| encoding::subkey(&prefix, &[i]);
    let mut model: BTreeMap<u8, u8> = BTreeMap::new();
    let mut b = s.batch();
    for i in (0..50u8).step_by(2) {
        b.put_sub(cf::SUBKEYS, sub(i), vec![i]);
        model.insert(i, i);
    }
    b.commit().unwrap();
    let base = model.clone();
    let scan = |dir: Dir, from: Option<u8>| {
        let mut out = Vec::new();
        let from = from.map(|f| vec![f]);
        s.sub_scan(cf::SUBKEYS, &prefix, dir, from.as_deref(), |k, v| {
            out.push((k[0], v[0]));
            true
        })
        .unwrap();
        out
    };
    let expect = |m: &BTreeMap<u8, u8>, dir: Dir, from: Option<u8>| -> Vec<(u8, u8)> {
        let mut v: Vec<(u8, u8)> = match (dir, from) {
            (Dir::Forward, Some(f)) => m.range(f..).map(|(k, v)| (*k, *v)).collect(),
            (Dir::Reverse, Some(f)) => m.range(..=f).map(|(k, v)| (*k, *v)).collect(),
            _ => m.iter().map(|(k, v)| (*k, *v)).collect(),
        };
        if dir == Dir::Reverse {
            v.reverse();
        }
        v
    };
    let mut rng = rand::rng();
    let mut stripes = Vec::new();
    let w = s.begin_atomic(s.dbs(), &mut stripes).unwrap();
    for round in 0..300 {
        let mut b = s.batch();
        match rng.random_range(0..10) {
            0..=4 => {
                let (i, v) = (rng.random_range(0..60u8), rng.random_range(0..255u8));
                b.put_sub(cf::SUBKEYS, sub(i), vec![v]);
                model.insert(i, v);
            }
            5..=8 => {
                let i = rng.random_range(0..60u8);
                b.delete_sub(cf::SUBKEYS, sub(i));
                model.remove(&i);
            }
            _ => {
                let lo = rng.random_range(0..60u8);
                let hi = lo.saturating_add(rng.random_range(0..8u8));
                b.delete_range_sub(cf::SUBKEYS, sub(lo), sub(hi));
                model.retain(|k, _| *k < lo || *k >= hi);
            }
        }
        b.commit().unwrap();
        for dir in [Dir::Forward, Dir::Reverse] {
            let from = if round % 2 == 0 { None } else { Some(rng.random_range(0..60u8)) };
            assert_eq!(scan(dir, from), expect(&model, dir, from), "round {round} {dir:?} from {from:?}");
        }
        let i = rng.random_range(0..60u8);
        assert_eq!(s.sub_get(&sub(i)).unwrap().map(|v| v[0]), model.get(&i).copied(), "get {i}");
    }
    drop(w);
    assert_eq!(scan(Dir::Forward, None), expect(&base, Dir::Forward, None));
}

#[test]
fn memtables_stay_within_their_budget() {
    let dir = tempfile::tempdir().unwrap();
    let budget = 4u64 << 20;
    let opts = StorageOptions {
        dir: dir.path().to_path_buf(),
        memtable_budget: budget,
        block_cache_size: 8 << 20,
        ..StorageOptions::default()
    };
    let s = Storage::open(&opts, Arc::new(Clock::new())).unwrap();
    let start = s.memory_usage();
    assert_eq!((start.memtable_budget, start.block_cache_capacity), (budget, 8 << 20));
    // 24 MB of 1 KB values (inline, below the blob threshold): six times the budget.
    let value = "v".repeat(1000);
    let mut peak = 0;
    for i in 0..24_000 {
        set(&s, 0, &format!("key:{i}"), &value, ExpireUpdate::Clear);
        if i % 250 == 0 {
            peak = peak.max(s.memory_usage().memtable_bytes);
        }
    }
    assert!(peak > budget / 4, "memtables never filled: peak {peak}");
    // The budget holds up to the write that crosses it and one arena block.
    assert!(peak <= budget + budget / 4, "memtables took {peak} bytes of a {budget}-byte budget");
    assert_eq!(get(&s, 0, "key:0").as_deref(), Some(value.as_bytes()));
    assert_eq!(get(&s, 0, "key:23999").as_deref(), Some(value.as_bytes()));
    assert!(s.memory_usage().block_cache_usage > 0);
}

#[test]
fn memtable_budget_zero_means_no_common_limit() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions { dir: dir.path().to_path_buf(), memtable_budget: 0, ..StorageOptions::default() };
    let s = Storage::open(&opts, Arc::new(Clock::new())).unwrap();
    set(&s, 0, "k", "v", ExpireUpdate::Clear);
    let usage = s.memory_usage();
    assert_eq!(usage.memtable_budget, 0);
    assert!(usage.memtable_bytes > 0);
    assert_eq!(get(&s, 0, "k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_checkpoint_is_a_data_directory_as_of_the_save() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    set(&s, 0, "kept", "1", ExpireUpdate::Clear);
    set(&s, 2, "other-db", "2", ExpireUpdate::Clear);
    assert_eq!(s.save_status().changes_since_last_save, 2);
    s.save().unwrap();
    assert_eq!(s.save_status().changes_since_last_save, 0);
    assert_eq!(s.save_status().saves, 1);
    set(&s, 0, "later", "3", ExpireUpdate::Clear);
    assert_eq!(s.save_status().changes_since_last_save, 1);
    let cp = s.checkpoint_path();
    assert_eq!(cp, dir.path().join(backup::CHECKPOINT_DIR));
    assert!(cp.join(manifest::FILE_NAME).is_file());
    assert!(cp.join("db").join("CURRENT").is_file());
    // A second save replaces the first whole, and leaves no temporary names behind.
    s.save().unwrap();
    assert!(!dir.path().join("checkpoint.tmp").exists() && !dir.path().join("checkpoint.old").exists());
    set(&s, 0, "after-second", "4", ExpireUpdate::Clear);
    s.close();
    drop(s);
    let restored = open(&cp);
    assert_eq!(get(&restored, 0, "kept").as_deref(), Some(&b"1"[..]));
    assert_eq!(get(&restored, 2, "other-db").as_deref(), Some(&b"2"[..]));
    assert_eq!(get(&restored, 0, "later").as_deref(), Some(&b"3"[..]));
    assert_eq!(get(&restored, 0, "after-second"), None);
    assert_eq!((restored.key_count(0), restored.key_count(2)), (2, 1));
}

#[test]
fn a_save_refuses_a_file_where_the_checkpoint_goes_and_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    std::fs::write(dir.path().join(backup::CHECKPOINT_DIR), b"not a directory").unwrap();
    let before = s.saves.last_save_time();
    assert!(matches!(s.save(), Err(backup::SaveError::Failed(_))));
    assert_eq!(s.saves.last_save_time(), before);
    // A checkpoint target that exists is refused, and the data directory is unharmed.
    assert!(matches!(s.checkpoint(dir.path()), Err(backup::SaveError::Failed(_))));
    s.bgsave().unwrap();
    while s.saves.running() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(!s.save_status().last_bgsave_ok);
    assert!(!s.save_status().bgsave_in_progress);
    std::fs::remove_file(dir.path().join(backup::CHECKPOINT_DIR)).unwrap();
    s.bgsave().unwrap();
    // The slot is held until the background save ends.
    let second = s.save();
    while s.saves.running() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(matches!(second, Ok(()) | Err(backup::SaveError::InProgress)));
    assert!(s.save_status().last_bgsave_ok);
    assert_eq!(s.save_status().saves, 4 - u64::from(second.is_err()));
    assert!(dir.path().join(backup::CHECKPOINT_DIR).join("db").join("CURRENT").is_file());
}

#[test]
fn a_save_point_reached_starts_a_background_save() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.saves.set_points("60 2 3600 1");
    set(&s, 0, "a", "1", ExpireUpdate::Clear);
    s.auto_save();
    assert_eq!(s.save_status().saves, 0, "no point reached yet");
    s.clock.advance(61_000);
    s.auto_save();
    assert_eq!(s.save_status().saves, 0, "60 seconds passed but 1 change < 2");
    set(&s, 0, "b", "2", ExpireUpdate::Clear);
    s.auto_save();
    while s.saves.running() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(s.save_status().saves, 1);
    assert_eq!(s.save_status().changes_since_last_save, 0);
    assert!(s.checkpoint_path().join("db").join("CURRENT").is_file());
}
