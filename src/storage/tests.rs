//! Storage tests on a real RocksDB in a temporary directory.

use super::keyspace::{ExpireCond, RenameOutcome};
use super::types::string::{ExpireUpdate, SetCond, StringStore};
use super::*;
use bytes::Bytes;

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
    let r = tier::cache_only(|| StringStore::new(&s, 0).get(b"k"));
    assert_eq!(r, Err(StoreError::WouldBlock));
    assert_eq!(get(&s, 0, "k").as_deref(), Some(&b"v"[..]));
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
