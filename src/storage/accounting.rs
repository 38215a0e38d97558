//! The logical data set's size (DESIGN.md §6): what `used_memory` reports and `maxmemory`
//! limits. Kept per physical database as counters in the `default` family, updated by every
//! write batch (`batch`), so reading it costs nothing:
//!
//! - data bytes: Σ over keys of metadata key length + metadata record length, exact for
//!   strings (their value is inline in the record; a fragmented string counts as if it were);
//! - elements: Σ of collection sizes;
//! - the bytes and number of collection subkeys written, whose ratio is the average element
//!   size collections are estimated with (elements × average).
//!
//! A data directory written before these counters existed gets them computed once at open.

use super::encoding::{self, CounterKind};
use super::{batch, cf, Storage, StoreError, MAX_DATABASES};
use rocksdb::WriteBatch;

/// Subkeys read per database at open to seed the average element size of an old directory.
const SEED_SAMPLE: usize = 10_000;

impl Storage {
    /// Notes collection subkeys written, for the average element size: in memory at once (a
    /// write that is then dropped or rerun counts too: it is an average), on disk once a second
    /// and at close (`persist_average`). As two merge operands in every batch they cost a
    /// collection write about a tenth of its speed (LPUSH 91–101k vs 103–116k ops/s).
    pub(crate) fn note_sub_writes(&self, pdb: u8, bytes: i64, writes: i64) {
        let mut d = [0i64; batch::COUNTERS];
        for (slot, kind) in d.iter_mut().zip(CounterKind::ALL) {
            match kind {
                CounterKind::SubBytes => *slot = bytes,
                CounterKind::SubWrites => *slot = writes,
                _ => {}
            }
        }
        self.add_counters(pdb, &d);
        self.average_dirty.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Writes the average-size counters of every database as they are in memory (the WAL
    /// sync thread, once a second; close). A crash loses at most a second of the average.
    pub(crate) fn persist_average(&self) {
        if !self.average_dirty.swap(false, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let d = self.cf(cf::DEFAULT);
        let mut wb = WriteBatch::default();
        for pdb in (0..self.databases()).map(|p| p as u8) {
            for kind in [CounterKind::SubBytes, CounterKind::SubWrites] {
                wb.put_cf(d, encoding::counter_key(kind, pdb), self.counter(pdb, kind).to_le_bytes());
            }
        }
        if let Err(e) = self.db().write(wb) {
            tracing::warn!(error = %e, "can't write the average element size counters");
            self.average_dirty.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The logical data set in bytes: `used_memory_dataset`, and `used_memory`.
    pub fn used_memory_dataset(&self) -> u64 {
        let (mut bytes, mut elements, mut sub_bytes, mut sub_writes) = (0i64, 0i64, 0i64, 0i64);
        // Physical databases are 0..databases (the map is a permutation of them).
        // (`databases` may be 256: count in usize.)
        for pdb in (0..self.databases()).map(|p| p as u8) {
            bytes += self.counter(pdb, CounterKind::DataBytes);
            elements += self.counter(pdb, CounterKind::Elements);
            sub_bytes += self.counter(pdb, CounterKind::SubBytes);
            sub_writes += self.counter(pdb, CounterKind::SubWrites);
        }
        let avg = if sub_writes > 0 { sub_bytes as f64 / sub_writes as f64 } else { 0.0 };
        (bytes.max(0) as f64 + elements.max(0) as f64 * avg) as u64
    }

    /// Computes the data-set counters of every database from the metadata family, seeds the
    /// average element size from a sample of subkeys, and marks them present (an old directory,
    /// or a new one; run at open, before any write).
    pub(super) fn compute_accounting(&self) -> Result<(), StoreError> {
        tracing::info!("no data-set counters in this directory yet: computing them (once) from its keys");
        let mut bytes = vec![0i64; MAX_DATABASES];
        let mut elements = vec![0i64; MAX_DATABASES];
        let mut it = self.db().raw_iterator_cf(self.cf(cf::METADATA));
        it.seek_to_first();
        while it.valid() {
            if let (Some(k), Some(v)) = (it.key(), it.value()) {
                if let Some(&pdb) = k.first() {
                    bytes[pdb as usize] += (k.len() + encoding::accounted_len(v)) as i64;
                    elements[pdb as usize] += encoding::coll_size(v) as i64;
                }
            }
            it.next();
        }
        it.status()?;
        let mut wb = WriteBatch::default();
        let d = self.cf(cf::DEFAULT);
        for pdb in 0..MAX_DATABASES {
            let (sub_bytes, sub_writes) = if elements[pdb] > 0 { self.sample_subkeys(pdb as u8)? } else { (0, 0) };
            let values = [bytes[pdb], elements[pdb], sub_bytes, sub_writes];
            let kinds = [CounterKind::DataBytes, CounterKind::Elements, CounterKind::SubBytes, CounterKind::SubWrites];
            let mut deltas = [0i64; batch::COUNTERS];
            for (kind, v) in kinds.into_iter().zip(values) {
                wb.put_cf(d, encoding::counter_key(kind, pdb as u8), v.to_le_bytes());
                if let Some(i) = CounterKind::ALL.iter().position(|k| *k == kind) {
                    deltas[i] = v - self.counter(pdb as u8, kind);
                }
            }
            self.add_counters(pdb as u8, &deltas);
        }
        wb.put_cf(d, encoding::ACCOUNTING_KEY, [1u8]);
        self.db().write(wb)?;
        Ok(())
    }

    /// (bytes, records) of up to `SEED_SAMPLE` element records of physical database `pdb`.
    fn sample_subkeys(&self, pdb: u8) -> Result<(i64, i64), StoreError> {
        let (lo, hi) = encoding::db_range(pdb);
        let (mut bytes, mut n) = (0i64, 0i64);
        for name in [cf::SUBKEYS, cf::STREAM] {
            let mut ro = rocksdb::ReadOptions::default();
            ro.set_iterate_upper_bound(hi.clone());
            let mut it = self.db().raw_iterator_cf_opt(self.cf(name), ro);
            it.seek(&lo);
            let mut seen = 0;
            while it.valid() && seen < SEED_SAMPLE {
                if let (Some(k), Some(v)) = (it.key(), it.value()) {
                    if let Some((_, _, _, sub)) = encoding::decode_subkey(k) {
                        bytes += (sub.len() + v.len()) as i64;
                        n += 1;
                    }
                }
                seen += 1;
                it.next();
            }
            it.status()?;
        }
        Ok((bytes, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::storage::keyspace::ExpireCond;
    use crate::storage::types::hash::HashStore;
    use crate::storage::types::string::{ExpireUpdate, SetCond, StringStore};
    use crate::storage::StorageOptions;
    use bytes::Bytes;
    use std::path::Path;
    use std::sync::Arc;

    fn open(dir: &Path) -> Arc<Storage> {
        let opts = StorageOptions { dir: dir.to_path_buf(), ..StorageOptions::default() };
        Storage::open(&opts, Arc::new(Clock::new())).unwrap()
    }

    fn set(s: &Storage, pdb: u8, k: &str, v: &str) {
        StringStore::new(s, pdb).set(k.as_bytes(), v.as_bytes(), SetCond::Always, ExpireUpdate::Clear, false).unwrap();
    }

    /// A string's exact share: metadata key (db · slot · key) + header + value.
    fn string_bytes(k: &str, v: &str) -> i64 {
        (3 + k.len() + encoding::META_HEADER_LEN + v.len()) as i64
    }

    fn bytes(s: &Storage, pdb: u8) -> i64 {
        s.counter(pdb, CounterKind::DataBytes)
    }

    /// What a full scan computes, for comparison with the kept counters.
    fn recomputed(s: &Storage) -> Vec<(i64, i64)> {
        let mut out = vec![(0, 0); 4];
        let mut it = s.db().raw_iterator_cf(s.cf(cf::METADATA));
        it.seek_to_first();
        while it.valid() {
            let (k, v) = (it.key().unwrap(), it.value().unwrap());
            if (k[0] as usize) < out.len() {
                out[k[0] as usize].0 += (k.len() + v.len()) as i64;
                out[k[0] as usize].1 += encoding::coll_size(v) as i64;
            }
            it.next();
        }
        out
    }

    fn kept(s: &Storage) -> Vec<(i64, i64)> {
        (0..4u8).map(|p| (bytes(s, p), s.counter(p, CounterKind::Elements))).collect()
    }

    #[test]
    fn strings_are_counted_exactly_through_overwrite_delete_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        s.active_expire_enabled.store(false, std::sync::atomic::Ordering::Relaxed);
        set(&s, 0, "a", "12345");
        set(&s, 0, "bb", "x");
        assert_eq!(bytes(&s, 0), string_bytes("a", "12345") + string_bytes("bb", "x"));
        set(&s, 0, "a", "1");
        assert_eq!(bytes(&s, 0), string_bytes("a", "1") + string_bytes("bb", "x"));
        assert_eq!(s.used_memory_dataset(), (string_bytes("a", "1") + string_bytes("bb", "x")) as u64);
        s.delete(0, &[Bytes::from("a")]).unwrap();
        assert_eq!(bytes(&s, 0), string_bytes("bb", "x"));
        // Expiry: the record grows by nothing (the header holds the time); lazy expiry deletes.
        let at = s.clock.now_ms() + 1000;
        assert!(s.set_expire(0, b"bb", at, ExpireCond::Always).unwrap());
        assert_eq!(bytes(&s, 0), string_bytes("bb", "x"));
        s.clock.advance(2000);
        assert_eq!(StringStore::new(&s, 0).get(b"bb").unwrap(), None);
        assert_eq!(bytes(&s, 0), 0);
        assert_eq!(kept(&s), recomputed(&s));
        // Active expiry deletes through the same path.
        set(&s, 0, "c", "123");
        assert!(s.set_expire(0, b"c", s.clock.now_ms() + 1000, ExpireCond::Always).unwrap());
        s.clock.advance(2000);
        assert_eq!(s.active_expire_cycle().unwrap(), 1);
        assert_eq!(bytes(&s, 0), 0);
        assert_eq!(kept(&s), recomputed(&s));
    }

    #[test]
    fn collections_count_elements_and_an_average_element_size() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let h = HashStore::new(&s, 1);
        let pairs: Vec<(Bytes, Bytes)> =
            (0..10).map(|i| (Bytes::from(format!("f{i}")), Bytes::from("valuevalue"))).collect();
        h.set(b"h", &pairs, false).unwrap();
        assert_eq!(s.counter(1, CounterKind::Elements), 10);
        assert_eq!(kept(&s), recomputed(&s));
        // 10 fields of 2 bytes + 10-byte values: 12 bytes an element, plus the record.
        let record = bytes(&s, 1) as u64;
        assert_eq!(s.used_memory_dataset(), record + 120);
        h.del(b"h", &[Bytes::from("f0"), Bytes::from("f1")]).unwrap();
        assert_eq!(s.counter(1, CounterKind::Elements), 8);
        s.delete(1, &[Bytes::from("h")]).unwrap();
        assert_eq!(kept(&s), recomputed(&s));
        assert_eq!(s.used_memory_dataset(), 0);
    }

    #[test]
    fn flush_swap_and_restart_keep_the_counters_right() {
        let dir = tempfile::tempdir().unwrap();
        let used;
        {
            let s = open(dir.path());
            set(&s, 0, "zero", "0");
            set(&s, 1, "one", "1");
            set(&s, 2, "two", "2");
            let pairs = vec![(Bytes::from("f"), Bytes::from("v"))];
            HashStore::new(&s, 2).set(b"h", &pairs, false).unwrap();
            let mut map = s.dbs_mut();
            s.swap_db(&mut map, 0, 1).unwrap();
            s.flush_db(&map, 1).unwrap();
            drop(map);
            assert_eq!(kept(&s), recomputed(&s));
            used = s.used_memory_dataset();
            assert!(used > 0);
            s.close();
        }
        let s = open(dir.path());
        assert_eq!(kept(&s), recomputed(&s));
        assert_eq!(s.used_memory_dataset(), used, "a restart keeps the accounting");
        let map = s.dbs_mut();
        s.flush_all(&map).unwrap();
        drop(map);
        assert_eq!(s.used_memory_dataset(), 0);
        assert_eq!(kept(&s), recomputed(&s));
    }

    #[test]
    fn a_directory_without_the_counters_gets_them_computed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let expected;
        {
            let s = open(dir.path());
            set(&s, 0, "a", "1");
            let pairs: Vec<(Bytes, Bytes)> = (0..4).map(|i| (Bytes::from(format!("f{i}")), Bytes::from("v"))).collect();
            HashStore::new(&s, 3).set(b"h", &pairs, false).unwrap();
            expected = kept(&s);
            // As a directory written before the counters existed.
            let d = s.cf(cf::DEFAULT);
            for pdb in (0..MAX_DATABASES).map(|p| p as u8) {
                for kind in
                    [CounterKind::DataBytes, CounterKind::Elements, CounterKind::SubBytes, CounterKind::SubWrites]
                {
                    s.db().delete_cf(d, encoding::counter_key(kind, pdb)).unwrap();
                }
            }
            s.db().delete_cf(d, encoding::ACCOUNTING_KEY).unwrap();
            s.close();
        }
        let s = open(dir.path());
        assert_eq!(kept(&s), expected);
        // The average element size comes from the sampled subkeys: "fN" + "v".
        assert_eq!(s.counter(3, CounterKind::SubWrites), 4);
        assert_eq!(s.counter(3, CounterKind::SubBytes), 12);
    }
}
