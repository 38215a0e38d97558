//! Active expiry (DESIGN.md §7): walks `expire_index` in time order and deletes due keys through
//! the normal write path, `hz` times a second, each cycle bounded in time like Redis's.

use super::encoding::{self, decode_expire_index_key};
use super::{cf, tier, Storage, StoreError};
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::{Duration, Instant};

/// Keys examined per batch inside a cycle.
const BATCH: usize = 64;

pub(crate) fn spawn(storage: Weak<Storage>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("strata-expire".into())
        .spawn(move || loop {
            let sleep = {
                let Some(s) = storage.upgrade() else { return };
                if s.is_stopped() {
                    return;
                }
                if s.active_expire_enabled.load(Ordering::Relaxed) {
                    if let Err(e) = super::access::without_touch(|| s.active_expire_cycle()) {
                        tracing::warn!(error = %e, "active expiry cycle failed");
                    }
                }
                Duration::from_millis(1000 / s.hz.load(Ordering::Relaxed).clamp(1, 500))
            };
            std::thread::sleep(sleep);
        })
        .unwrap_or_else(|e| panic!("can't start the active expiry thread: {e}"))
}

impl Storage {
    /// One cycle: delete due keys until none are left or the time budget (25% of a cycle, more
    /// with `active-expire-effort`) is spent. Returns the number of keys deleted.
    pub fn active_expire_cycle(&self) -> Result<u64, StoreError> {
        let hz = self.hz.load(Ordering::Relaxed).clamp(1, 500);
        let effort = self.expire_effort.load(Ordering::Relaxed).clamp(1, 10);
        let budget = Duration::from_micros(1_000_000 / hz * (25 + 2 * (effort - 1)) / 100);
        let started = Instant::now();
        let mut deleted = 0;
        loop {
            let (n, more) = self.expire_batch()?;
            deleted += n;
            if !more || started.elapsed() >= budget {
                self.report_latency("expire-cycle", started.elapsed());
                return Ok(deleted);
            }
        }
    }

    /// Deletes up to `BATCH` due keys. Returns (deleted, whether more may be due).
    fn expire_batch(&self) -> Result<(u64, bool), StoreError> {
        let now = self.clock.now_ms();
        let upper = (now + 1).to_be_bytes();
        let mut due: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
        {
            let mut ro = tier::iter_read_options();
            ro.set_iterate_upper_bound(upper.to_vec());
            let mut it = self.db().raw_iterator_cf_opt(self.cf(cf::EXPIRE_INDEX), ro);
            it.seek_to_first();
            while it.valid() && due.len() < BATCH {
                if let Some(k) = it.key() {
                    due.push(k.to_vec());
                }
                it.next();
            }
            it.status()?;
        }
        let more = due.len() == BATCH;
        let mut deleted = 0;
        let mut removed: Vec<(u8, Vec<u8>)> = Vec::new();
        for index_key in due {
            let Some((at, meta_key)) = decode_expire_index_key(&index_key) else {
                let mut b = self.batch();
                b.delete_index_entry(&index_key);
                b.commit()?;
                continue;
            };
            let Some((pdb, user_key)) = encoding::decode_meta_key(meta_key) else { continue };
            // Held as every command holds it: a FLUSH resetting the counters between this read
            // and the commit would leave them short of the key deleted here.
            let _dbs = self.dbs();
            let _guard = self.locks.lock(pdb, user_key);
            let mut b = self.batch();
            match self.get_record_raw(meta_key)? {
                Some(rec) if rec.header.expire_at_ms == at && !rec.alive(now) => {
                    b.delete_record(pdb, user_key, &rec);
                    deleted += 1;
                    if self.key_events() {
                        removed.push((pdb, user_key.to_vec()));
                    }
                }
                // The key was deleted, or given another expiry, without this entry being seen.
                _ => b.delete_index_entry(&index_key),
            }
            b.commit()?;
        }
        // Outside the key locks.
        for (pdb, key) in removed {
            self.report_expired(pdb, &key);
        }
        self.stats.expired_keys.fetch_add(deleted, Ordering::Relaxed);
        Ok((deleted, more))
    }
}
