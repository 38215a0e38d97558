//! One command's writes: a RocksDB `WriteBatch` plus the upkeep every key write needs (the
//! expire index and the exact per-database key counters), committed atomically in one write.
//!
//! This is the one place where "put a key's record" and "delete a key" are spelled out, so every
//! type store and keyspace command gets the same bookkeeping.

use super::encoding::{self, CounterKind};
use super::{cf, tier, Record, Storage, StoreError};
use rocksdb::WriteBatch;

pub struct Batch<'s> {
    store: &'s Storage,
    wb: WriteBatch,
    /// (physical db, keys delta, expires delta)
    deltas: Vec<(u8, i64, i64)>,
    /// Databases whose counters this batch resets (FLUSHDB), applied before the deltas.
    resets: Vec<u8>,
}

impl<'s> Batch<'s> {
    pub(super) fn new(store: &'s Storage) -> Batch<'s> {
        Batch { store, wb: WriteBatch::default(), deltas: Vec::new(), resets: Vec::new() }
    }

    fn delta(&mut self, pdb: u8, keys: i64, expires: i64) {
        if keys == 0 && expires == 0 {
            return;
        }
        match self.deltas.iter_mut().find(|d| d.0 == pdb) {
            Some(d) => {
                d.1 += keys;
                d.2 += expires;
            }
            None => self.deltas.push((pdb, keys, expires)),
        }
    }

    /// Writes `record` (an encoded metadata value whose expiry is `expire_at_ms`) for `key`,
    /// replacing `old`, the record physically there now (expired or not).
    pub fn put_record(&mut self, pdb: u8, key: &[u8], old: Option<&Record>, record: &[u8], expire_at_ms: u64) {
        let mk = encoding::meta_key(pdb, key);
        self.wb.put_cf(self.store.cf(cf::METADATA), &mk, record);
        let old_expire = old.map(|r| r.header.expire_at_ms).unwrap_or(0);
        if old_expire != expire_at_ms {
            let idx = self.store.cf(cf::EXPIRE_INDEX);
            if old_expire != 0 {
                self.wb.delete_cf(idx, encoding::expire_index_key(old_expire, pdb, key));
            }
            if expire_at_ms != 0 {
                self.wb.put_cf(idx, encoding::expire_index_key(expire_at_ms, pdb, key), []);
            }
        }
        let keys = i64::from(old.is_none());
        let expires = i64::from(expire_at_ms != 0) - i64::from(old_expire != 0);
        self.delta(pdb, keys, expires);
    }

    /// Deletes `key`, whose current record is `old`. Collection subkeys become unreachable at
    /// once (their version is gone) and are reclaimed by compaction.
    pub fn delete_record(&mut self, pdb: u8, key: &[u8], old: &Record) {
        self.wb.delete_cf(self.store.cf(cf::METADATA), encoding::meta_key(pdb, key));
        let expire = old.header.expire_at_ms;
        if expire != 0 {
            self.wb.delete_cf(self.store.cf(cf::EXPIRE_INDEX), encoding::expire_index_key(expire, pdb, key));
        }
        self.delta(pdb, -1, -i64::from(expire != 0));
    }

    /// Removes a stale expire-index entry (its key is gone or has another expiry).
    pub(crate) fn delete_index_entry(&mut self, index_key: &[u8]) {
        self.wb.delete_cf(self.store.cf(cf::EXPIRE_INDEX), index_key);
    }

    /// Deletes every key of physical database `pdb` with range deletes (FLUSHDB).
    pub fn clear_db(&mut self, pdb: u8) {
        let (lo, hi) = encoding::db_range(pdb);
        for name in cf::PER_DB {
            self.wb.delete_range_cf(self.store.cf(name), &lo, &hi);
        }
        self.reset_counters(pdb);
    }

    /// Deletes everything, in every family (FLUSHALL).
    pub fn clear_all(&mut self) {
        let lo: &[u8] = &[0u8];
        let hi: &[u8] = &[0xffu8; 16];
        for name in cf::PER_DB {
            self.wb.delete_range_cf(self.store.cf(name), lo, hi);
        }
        self.wb.delete_range_cf(self.store.cf(cf::EXPIRE_INDEX), lo, hi);
        for pdb in 0..super::MAX_DATABASES {
            self.reset_counters(pdb as u8);
        }
    }

    fn reset_counters(&mut self, pdb: u8) {
        let d = self.store.cf(cf::DEFAULT);
        for kind in [CounterKind::Keys, CounterKind::Expires] {
            self.wb.put_cf(d, encoding::counter_key(kind, pdb), 0i64.to_le_bytes());
        }
        self.deltas.retain(|x| x.0 != pdb);
        self.resets.push(pdb);
    }

    pub(crate) fn raw(&mut self) -> &mut WriteBatch {
        &mut self.wb
    }

    pub fn is_empty(&self) -> bool {
        self.wb.is_empty()
    }

    /// Commits atomically. The write's number is noted on this thread (`tier::take_write_seq`):
    /// the reply waits for `Storage::make_durable` of it.
    pub fn commit(mut self) -> Result<(), StoreError> {
        if self.wb.is_empty() {
            return Ok(());
        }
        let d = self.store.cf(cf::DEFAULT);
        for &(pdb, keys, expires) in &self.deltas {
            if keys != 0 {
                self.wb.merge_cf(d, encoding::counter_key(CounterKind::Keys, pdb), keys.to_le_bytes());
            }
            if expires != 0 {
                self.wb.merge_cf(d, encoding::counter_key(CounterKind::Expires, pdb), expires.to_le_bytes());
            }
        }
        let db = self.store.db();
        tier::with_write_options(|wo| db.write_opt(std::mem::take(&mut self.wb), wo))?;
        for &pdb in &self.resets {
            self.store.reset_counters(pdb);
        }
        for &(pdb, keys, expires) in &self.deltas {
            self.store.add_counters(pdb, keys, expires);
        }
        tier::note_write_seq(self.store.note_written());
        Ok(())
    }
}
