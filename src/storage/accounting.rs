//! The logical data set's size (DESIGN.md §6): what `used_memory` reports and `maxmemory`
//! limits. Kept per physical database as counters in the `default` family, updated by every
//! write batch (`batch`), so reading it costs nothing:
//!
//! - data bytes: Σ over keys of metadata key length + metadata record length, exact for
//!   strings (their value is inline in the record);
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
    /// The logical data set in bytes: `used_memory_dataset`, and `used_memory`.
    pub fn used_memory_dataset(&self) -> u64 {
        let (mut bytes, mut elements, mut sub_bytes, mut sub_writes) = (0i64, 0i64, 0i64, 0i64);
        // Physical databases are 0..databases (the map is a permutation of them).
        for pdb in 0..self.databases() as u8 {
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
        let mut bytes = vec![0i64; MAX_DATABASES];
        let mut elements = vec![0i64; MAX_DATABASES];
        let mut it = self.db().raw_iterator_cf(self.cf(cf::METADATA));
        it.seek_to_first();
        while it.valid() {
            if let (Some(k), Some(v)) = (it.key(), it.value()) {
                if let Some(&pdb) = k.first() {
                    bytes[pdb as usize] += (k.len() + v.len()) as i64;
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
