//! `maxmemory` and its eight policies (DESIGN.md §6): Redis's `performEvictions` applied to the
//! logical data set (`accounting`).
//!
//! Before each command (the command layer calls `Storage::perform_evictions`, as Redis's
//! `processCommand` does) keys are deleted until the data set is back under the limit. LRU, LFU
//! and TTL policies sample `maxmemory-samples` keys per database (random runs of the metadata
//! family; for volatile-* of the `expire_index` family, which holds only keys with a TTL, and
//! whose head is the soonest expiries, exactly what volatile-ttl wants) into Redis's 16-entry
//! eviction pool, kept across calls, and delete the best candidate. Random policies delete a
//! random key. Each eviction is one ordinary write: lock the key, re-read its record, delete it
//! with `Batch::delete_record`, commit, so WATCH, the caches, the counters and the expire index
//! stay right; a run stopped half-way (`WouldBlock` on the network thread, rerun on a blocking
//! thread) has only whole evictions behind it. Like Redis, one call stops after a time budget
//! set by `maxmemory-eviction-tenacity`; a background thread then goes on (Redis's eviction
//! time proc), and also acts on a `maxmemory` lowered at run time.
//!
//! Deviation from Redis: the pool's candidates are re-scored from the access table before one
//! is picked (a key used since it was sampled is no longer the best), which costs 16 table
//! reads here where Redis would have to chase 16 objects.

use super::encoding::{self, decode_expire_index_key};
use super::{access, cf, tier, Storage, StoreError};
use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use rand::Rng;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{OnceLock, Weak};
use std::time::{Duration, Instant};

/// Redis's EVPOOL_SIZE.
/// Stale expire-index entries one volatile sample removes before giving up for this round.
const MAX_STALE: usize = 1000;
const POOL_SIZE: usize = 16;
/// Evictions between two looks at the clock (as Redis).
const TIME_CHECK_EVERY: u64 = 16;
/// Candidates in a row that vanished before they could be evicted, after which a call gives up
/// for now (other clients are deleting keys too; the next call goes on).
const MAX_GHOSTS: usize = 64;

/// The eight `maxmemory-policy` values. FROZEN order: stored in an atomic.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction = 0,
    AllKeysLru = 1,
    AllKeysLfu = 2,
    AllKeysRandom = 3,
    VolatileLru = 4,
    VolatileLfu = 5,
    VolatileRandom = 6,
    VolatileTtl = 7,
}

impl Policy {
    fn from_u8(v: u8) -> Policy {
        match v {
            1 => Policy::AllKeysLru,
            2 => Policy::AllKeysLfu,
            3 => Policy::AllKeysRandom,
            4 => Policy::VolatileLru,
            5 => Policy::VolatileLfu,
            6 => Policy::VolatileRandom,
            7 => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    /// Whether the policy reads LFU counters (slots then hold LFU data).
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    fn volatile(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// What `perform_evictions` achieved (Redis's EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or no limit).
    Ok,
    /// Still over, but the time budget ran out and the background evictor goes on: commands
    /// are allowed meanwhile.
    Running,
    /// Over the limit with nothing to evict (noeviction, or volatile-* without keys with a
    /// TTL): `denyoom` commands get `-OOM`.
    Fail,
}

/// Called for each key evicted: (physical database, key).
pub type EvictedHook = Box<dyn Fn(u8, &[u8]) + Send + Sync>;

/// One pool candidate: its score (higher = evict first), physical database and key.
type Candidate = (u64, u8, Bytes);

/// The eviction settings, the pool and the counters.
#[derive(Default)]
pub struct Evictor {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    /// Sorted by score, best (highest) last, as Redis's pool.
    pool: Mutex<Vec<Candidate>>,
    /// Keys evicted since start (or CONFIG RESETSTAT): INFO `evicted_keys`.
    pub evicted_keys: AtomicU64,
    /// The largest data set seen (INFO `used_memory_peak`).
    peak: AtomicU64,
    /// Round robin over databases for the random policies (Redis's `next_db`).
    next_db: AtomicU32,
    hook: OnceLock<EvictedHook>,
    /// Stops the background evictor (tests that drive eviction step by step).
    pub background_off: std::sync::atomic::AtomicBool,
    wake: Condvar,
    wake_lock: Mutex<bool>,
}

impl Evictor {
    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// Notes the data set's size `used`; returns the peak seen so far.
    pub fn note_peak(&self, used: u64) -> u64 {
        self.peak.fetch_max(used, Ordering::Relaxed).max(used)
    }

    /// Installs what is called for each evicted key (once, at start-up).
    pub fn set_hook(&self, hook: EvictedHook) {
        let _ = self.hook.set(hook);
    }

    /// Asks the background evictor to look now.
    fn wake(&self) {
        *self.wake_lock.lock() = true;
        self.wake.notify_one();
    }
}

/// Redis's `evictionTimeLimitUs`: 0..500 µs linearly up to tenacity 10, then +15% a step, and
/// no limit at 100.
fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * u64::from(tenacity))),
        11..=99 => Some(Duration::from_micros((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64)),
        _ => None,
    }
}

impl Storage {
    /// Applies `maxmemory`, `maxmemory-policy`, `maxmemory-samples`,
    /// `maxmemory-eviction-tenacity`, `lfu-log-factor`, `lfu-decay-time`.
    pub fn configure_eviction(&self, maxmemory: u64, policy: Policy, samples: u32, tenacity: u32, lfu: (u32, u32)) {
        let e = &self.evict;
        if e.policy() != policy {
            e.pool.lock().clear();
        }
        let lowered = maxmemory > 0 && maxmemory != e.maxmemory();
        e.maxmemory.store(maxmemory, Ordering::Relaxed);
        if lowered && self.over_maxmemory() {
            tracing::warn!(
                maxmemory,
                used = self.used_memory_dataset(),
                "the new maxmemory is smaller than the data set: keys will be evicted or writes refused, as maxmemory-policy says"
            );
        }
        e.policy.store(policy as u8, Ordering::Relaxed);
        e.samples.store(samples.clamp(1, 64), Ordering::Relaxed);
        e.tenacity.store(tenacity.min(100), Ordering::Relaxed);
        self.access.configure(policy.is_lfu(), lfu.0, lfu.1);
        if maxmemory > 0 {
            e.wake();
        }
    }

    /// Whether the data set is over `maxmemory` (never with no limit).
    pub fn over_maxmemory(&self) -> bool {
        let max = self.evict.maxmemory();
        max > 0 && self.used_memory_dataset() > max
    }

    /// Whether evicting could free anything now: not under noeviction, nor under a volatile
    /// policy with no key with a TTL (both then fail at once, without reading anything).
    pub fn can_evict(&self) -> bool {
        match self.evict.policy() {
            Policy::NoEviction => false,
            p if p.volatile() => self.total_expires() > 0,
            _ => true,
        }
    }

    /// Redis's `performEvictions`: evicts keys until the data set is under `maxmemory`, the
    /// time budget is spent, or nothing is left to evict. `WouldBlock` on the network thread
    /// when it needs the disk or a busy lock: evictions done so far are complete, and the rerun
    /// goes on from there.
    pub fn perform_evictions(&self) -> Result<Outcome, StoreError> {
        if !self.over_maxmemory() {
            return Ok(Outcome::Ok);
        }
        let started = Instant::now();
        let r = self.eviction_run(started);
        // The latency monitor's `eviction-cycle`.
        self.report_latency("eviction-cycle", started.elapsed());
        r
    }

    fn eviction_run(&self, started: Instant) -> Result<Outcome, StoreError> {
        let policy = self.evict.policy();
        if policy == Policy::NoEviction {
            return Ok(Outcome::Fail);
        }
        let mut pool = if tier::is_cache_only() {
            self.evict.pool.try_lock().ok_or(StoreError::WouldBlock)?
        } else {
            self.evict.pool.lock()
        };
        let limit = time_limit(self.evict.tenacity.load(Ordering::Relaxed));
        let mut freed = 0u64;
        let mut ghosts = 0;
        while self.over_maxmemory() && !self.is_stopped() {
            let Some((pdb, key)) = self.pick(policy, &mut pool)? else { return Ok(Outcome::Fail) };
            match self.evict_key(pdb, &key, policy.volatile()) {
                Ok(true) => {
                    freed += 1;
                    ghosts = 0;
                    if freed.is_multiple_of(TIME_CHECK_EVERY) && limit.is_some_and(|l| started.elapsed() > l) {
                        self.evict.wake();
                        return Ok(Outcome::Running);
                    }
                }
                Ok(false) => {
                    ghosts += 1;
                    if ghosts > MAX_GHOSTS {
                        return Ok(Outcome::Running);
                    }
                }
                Err(StoreError::WouldBlock) => {
                    // Not evicted: the rerun may take it again.
                    if !policy.random() {
                        pool_insert(&mut pool, (u64::MAX, pdb, key));
                    }
                    return Err(StoreError::WouldBlock);
                }
                // A key that can't be read or deleted (a corrupt record, a refused write) is
                // dropped from this round: the command that asked goes on, and no later
                // command fails for it.
                Err(e) => {
                    tracing::warn!(error = %e, "eviction of a key failed");
                    return Ok(Outcome::Running);
                }
            }
        }
        Ok(Outcome::Ok)
    }

    /// The next key to evict (physical database, key), None when there is none to evict.
    fn pick(&self, policy: Policy, pool: &mut Vec<Candidate>) -> Result<Option<(u8, Bytes)>, StoreError> {
        let samples = self.evict.samples.load(Ordering::Relaxed).max(1) as usize;
        if policy.random() {
            let mut out = Vec::with_capacity(1);
            if policy.volatile() {
                if self.total_expires() == 0 {
                    return Ok(None);
                }
                self.sample_volatile(1, false, &mut out)?;
            } else {
                let n = self.databases() as u32;
                for _ in 0..n {
                    let pdb = (self.evict.next_db.fetch_add(1, Ordering::Relaxed) % n) as u8;
                    if self.key_count(pdb) > 0 {
                        self.sample_db(pdb, 1, &mut out)?;
                        break;
                    }
                }
            }
            return Ok(out.pop().map(|(_, pdb, key)| (pdb, key)));
        }
        // A few rounds: a round may find only candidates already in the pool.
        for _ in 0..4 {
            let mut found = Vec::new();
            if policy.volatile() {
                if self.total_expires() == 0 {
                    return Ok(None);
                }
                self.sample_volatile(samples, policy == Policy::VolatileTtl, &mut found)?;
            } else {
                let mut total = 0;
                for pdb in (0..self.databases()).map(|p| p as u8) {
                    if self.key_count(pdb) > 0 {
                        total += 1;
                        self.sample_db(pdb, samples, &mut found)?;
                    }
                }
                if total == 0 {
                    return Ok(None);
                }
            }
            for c in found {
                pool_insert(pool, c);
            }
            if policy != Policy::VolatileTtl {
                for c in pool.iter_mut() {
                    c.0 = self.access.eviction_score(&encoding::meta_key(c.1, &c.2));
                }
                pool.sort_by_key(|c| c.0);
            }
            if let Some((_, pdb, key)) = pool.pop() {
                return Ok(Some((pdb, key)));
            }
        }
        Ok(None)
    }

    fn total_expires(&self) -> i64 {
        (0..self.databases()).map(|p| self.expires_count(p as u8)).sum()
    }

    /// Up to `n` keys of physical database `pdb` from a random place in the metadata family,
    /// scored by the access table.
    fn sample_db(&self, pdb: u8, n: usize, out: &mut Vec<Candidate>) -> Result<(), StoreError> {
        let (lo, hi) = encoding::db_range(pdb);
        let mut start = lo.clone();
        let mut rng = rand::rng();
        start.extend_from_slice(&rng.random_range(0u16..16384).to_be_bytes());
        start.push(rng.random());
        let mut ro = tier::iter_read_options();
        ro.set_iterate_upper_bound(hi);
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf::METADATA), ro);
        it.seek(&start);
        // Keys within a slot sort by name: skip a random number of them, so that a slot's later
        // keys get sampled too, not only its first (bounded: a step is cheap, not free).
        let per_slot = (self.key_count(pdb) / 16384).clamp(0, 256) as usize;
        for _ in 0..rng.random_range(0..=per_slot) {
            if !it.valid() {
                break;
            }
            it.next();
        }
        let mut taken = 0;
        walk_around(&mut it, Some((&lo, &start)), |k| {
            if taken >= n {
                return Ok(false);
            }
            if let Some((_, key)) = encoding::decode_meta_key(k) {
                out.push((self.access.eviction_score(k), pdb, Bytes::copy_from_slice(key)));
                taken += 1;
            }
            Ok(true)
        })
    }

    /// Up to `n` keys with a TTL, from the `expire_index` family: its head (the soonest
    /// expiries, volatile-ttl, scored by how soon) or a random place in it.
    fn sample_volatile(&self, n: usize, head: bool, out: &mut Vec<Candidate>) -> Result<(), StoreError> {
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf::EXPIRE_INDEX), tier::iter_read_options());
        let mut start = Vec::new();
        if head {
            it.seek_to_first();
        } else {
            it.seek_to_last();
            let last = it.key().and_then(decode_expire_index_key).map(|(at, _)| at);
            it.status()?;
            it.seek_to_first();
            let first = it.key().and_then(decode_expire_index_key).map(|(at, _)| at);
            it.status()?;
            if let (Some(first), Some(last)) = (first, last) {
                let at = if last > first { rand::rng().random_range(first..=last) } else { first };
                start = at.to_be_bytes().to_vec();
                it.seek(&start);
            }
        }
        let mut taken = 0;
        let mut stale = 0;
        // From the head: one pass. From a random place: on to the end, then from the first entry.
        let lap = (!head).then_some((&[][..], start.as_slice()));
        walk_around(&mut it, lap, |k| {
            if taken >= n {
                return Ok(false);
            }
            let Some((at, mk)) = decode_expire_index_key(k) else { return Ok(true) };
            let Some((pdb, key)) = encoding::decode_meta_key(mk) else { return Ok(true) };
            // An entry whose key is gone or has another expiry (a flushed database's stay
            // until their time) is removed, not sampled again.
            let live = access::without_touch(|| self.get_record_raw(mk))?.is_some_and(|r| r.header.expire_at_ms == at);
            if live {
                let score = if head { u64::MAX - at } else { self.access.eviction_score(mk) };
                out.push((score, pdb, Bytes::copy_from_slice(key)));
                taken += 1;
            } else if stale < MAX_STALE {
                stale += 1;
                self.drop_stale_index_entry(k.to_vec(), pdb, key.to_vec(), at)?;
            } else {
                return Ok(false);
            }
            Ok(true)
        })
    }

    /// Removes expire-index entry `index_key` if its key (still) has no record expiring `at`.
    fn drop_stale_index_entry(&self, index_key: Vec<u8>, pdb: u8, key: Vec<u8>, at: u64) -> Result<(), StoreError> {
        let _dbs = self.dbs();
        let Some(_g) = self.locks.try_lock_stripe(self.locks.stripe(pdb, &key)) else { return Ok(()) };
        let live = access::without_touch(|| self.get_record(pdb, &key))?.is_some_and(|r| r.header.expire_at_ms == at);
        if !live {
            let mut b = self.batch();
            b.delete_index_entry(&index_key);
            b.commit()?;
        }
        Ok(())
    }

    /// Deletes `key` as any command would; false if it is gone (or, `volatile`, lost its TTL),
    /// or busy: a key locked by a running command (a long script, say) is passed over rather
    /// than waited for, so eviction never stalls behind one.
    fn evict_key(&self, pdb: u8, key: &[u8], volatile: bool) -> Result<bool, StoreError> {
        {
            // Held as every command holds it: FLUSH* and SWAPDB never interleave with the delete
            // (a flush resetting the counters between the read and the commit would leave them
            // one key short).
            let _dbs = self.dbs();
            let Some(_g) = self.locks.try_lock_stripe(self.locks.stripe(pdb, key)) else { return Ok(false) };
            let Some(rec) = access::without_touch(|| self.get_record(pdb, key))? else { return Ok(false) };
            if volatile && rec.header.expire_at_ms == 0 {
                return Ok(false);
            }
            let mut b = self.batch();
            b.delete_record(pdb, key, &rec);
            b.commit()?;
        }
        // Outside the key lock.
        self.evict.evicted_keys.fetch_add(1, Ordering::Relaxed);
        if self.key_events() {
            if let Some(hook) = self.evict.hook.get() {
                hook(pdb, key);
            }
        }
        Ok(true)
    }
}

/// Passes each key of `it` to `f`, from where it stands to the end of its range and then, with
/// `lap` = (where to rewind, where the walk began), from the rewind point up to the start, so a
/// walk from a random place sees each key once; until `f` returns false.
fn walk_around(
    it: &mut rocksdb::DBRawIteratorWithThreadMode<'_, rocksdb::DB>,
    lap: Option<(&[u8], &[u8])>,
    mut f: impl FnMut(&[u8]) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut wrapped = false;
    loop {
        if !it.valid() {
            it.status()?;
            match lap {
                Some((rewind, _)) if !wrapped => {
                    wrapped = true;
                    it.seek(rewind);
                    continue;
                }
                _ => return Ok(()),
            }
        }
        if let Some(k) = it.key() {
            if wrapped && lap.is_some_and(|(_, start)| k >= start) {
                return Ok(());
            }
            if !f(k)? {
                return Ok(());
            }
        }
        it.next();
    }
}

/// Inserts a candidate into the pool as Redis's `evictionPoolPopulate` does: kept sorted by
/// score, at most `POOL_SIZE`, a candidate worse than all of a full pool dropped; a key
/// already there is only re-scored.
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    if let Some(i) = pool.iter().position(|x| x.1 == c.1 && x.2 == c.2) {
        pool.remove(i);
    } else if pool.len() >= POOL_SIZE && pool.first().is_some_and(|w| c.0 <= w.0) {
        return;
    }
    let at = pool.partition_point(|x| x.0 < c.0);
    pool.insert(at, c);
    if pool.len() > POOL_SIZE {
        pool.remove(0);
    }
}

/// The background evictor: goes on where a command's time budget stopped, and acts on a
/// lowered `maxmemory` with no command coming.
pub(crate) fn spawn(storage: Weak<Storage>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("strata-evict".into())
        .spawn(move || loop {
            {
                let Some(s) = storage.upgrade() else { return };
                if s.is_stopped() {
                    return;
                }
                s.evict.note_peak(s.used_memory_dataset());
                // Goes on while a round ran out of time; errors are logged by the storage and
                // nothing left to evict waits for the next wake-up.
                if s.over_maxmemory()
                    && !s.evict.background_off.load(Ordering::Relaxed)
                    && s.evict.policy() != Policy::NoEviction
                    && matches!(s.perform_evictions(), Ok(Outcome::Running))
                {
                    // A breath between rounds: a round that found only keys gone or busy
                    // returns at once, and must not spin.
                    drop(s);
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
            }
            let Some(s) = storage.upgrade() else { return };
            let mut woken = s.evict.wake_lock.lock();
            if !*woken {
                s.evict.wake.wait_for(&mut woken, Duration::from_millis(100));
            }
            *woken = false;
        })
        .unwrap_or_else(|e| panic!("can't start the eviction thread: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_keeps_the_best_sixteen_sorted() {
        let mut pool = Vec::new();
        for i in 0..40u64 {
            pool_insert(&mut pool, ((i * 7) % 40, 0, Bytes::from(format!("k{i}"))));
        }
        assert_eq!(pool.len(), POOL_SIZE);
        let scores: Vec<u64> = pool.iter().map(|c| c.0).collect();
        assert_eq!(scores, (24..40).collect::<Vec<_>>());
        pool_insert(&mut pool, (1, 0, Bytes::from("cold")));
        assert_eq!(pool.len(), POOL_SIZE, "worse than all of a full pool: dropped");
        pool_insert(&mut pool, (100, 0, Bytes::from("k0")));
        assert_eq!(pool.last().map(|c| c.2.clone()), Some(Bytes::from("k0")), "re-scored, not duplicated");
        assert_eq!(pool.len(), POOL_SIZE);
    }

    #[test]
    fn time_limit_matches_redis() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert_eq!(time_limit(100), None);
    }
}

#[cfg(test)]
mod storage_tests {
    use super::*;
    use crate::clock::Clock;
    use crate::storage::types::string::{ExpireUpdate, SetCond, StringStore};
    use crate::storage::StorageOptions;
    use std::sync::Arc;

    fn open(dir: &std::path::Path) -> Arc<Storage> {
        let opts = StorageOptions { dir: dir.to_path_buf(), ..StorageOptions::default() };
        Storage::open(&opts, Arc::new(Clock::new())).unwrap()
    }

    fn fill(s: &Storage, n: usize, ttl: bool) {
        let exp = if ttl { ExpireUpdate::At(s.clock.now_ms() + 3_600_000) } else { ExpireUpdate::Clear };
        for i in 0..n {
            let key = format!("{}{i}", if ttl { "v" } else { "k" });
            StringStore::new(s, 0).set(key.as_bytes(), &[b'x'; 100], SetCond::Always, exp, false).unwrap();
        }
    }

    #[test]
    fn every_evicting_policy_gets_under_the_limit() {
        for policy in [
            Policy::AllKeysLru,
            Policy::AllKeysLfu,
            Policy::AllKeysRandom,
            Policy::VolatileLru,
            Policy::VolatileLfu,
            Policy::VolatileRandom,
            Policy::VolatileTtl,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let s = open(dir.path());
            fill(&s, 200, false);
            fill(&s, 200, true);
            let limit = s.used_memory_dataset() / 2;
            s.configure_eviction(limit, policy, 5, 100, (10, 1));
            assert_eq!(s.perform_evictions().unwrap(), Outcome::Ok, "{policy:?}");
            assert!(s.used_memory_dataset() <= limit, "{policy:?}");
            assert!(s.evict.evicted_keys.load(Ordering::Relaxed) > 0);
            if policy.volatile() {
                assert_eq!(s.key_count(0) - s.expires_count(0), 200, "{policy:?} keeps keys without TTL");
            }
            s.close();
        }
    }

    #[test]
    fn volatile_without_ttl_keys_and_noeviction_fail() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        fill(&s, 50, false);
        let limit = s.used_memory_dataset() / 2;
        for policy in [Policy::NoEviction, Policy::VolatileLru, Policy::VolatileTtl, Policy::VolatileRandom] {
            s.configure_eviction(limit, policy, 5, 10, (10, 1));
            assert_eq!(s.perform_evictions().unwrap(), Outcome::Fail, "{policy:?}");
        }
        assert_eq!(s.key_count(0), 50);
        s.configure_eviction(0, Policy::NoEviction, 5, 10, (10, 1));
        assert_eq!(s.perform_evictions().unwrap(), Outcome::Ok, "no limit");
    }

    #[test]
    fn lru_keeps_recently_used_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        fill(&s, 300, false);
        s.clock.advance(100_000);
        let hot: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
        for k in &hot {
            StringStore::new(&s, 0).get(k.as_bytes()).unwrap();
        }
        let limit = s.used_memory_dataset() / 3;
        s.configure_eviction(limit, Policy::AllKeysLru, 10, 100, (10, 1));
        assert_eq!(s.perform_evictions().unwrap(), Outcome::Ok);
        for k in &hot {
            assert!(s.get_record(0, k.as_bytes()).unwrap().is_some(), "{k} evicted");
        }
    }

    #[test]
    fn an_eviction_run_stopped_for_the_disk_leaves_only_whole_evictions() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StorageOptions { dir: dir.path().to_path_buf(), block_cache_size: 0, ..StorageOptions::default() };
        let s = Storage::open(&opts, Arc::new(Clock::new())).unwrap();
        s.evict.background_off.store(true, Ordering::Relaxed);
        fill(&s, 300, false);
        // On disk only: sampling on the network thread (memory only) must give up.
        s.db().flush_cf(s.cf(cf::METADATA)).unwrap();
        let limit = s.used_memory_dataset() / 2;
        s.configure_eviction(limit, Policy::AllKeysLru, 5, 100, (10, 1));
        let before = s.used_memory_dataset();
        assert_eq!(tier::cache_only(|| s.perform_evictions()), Err(StoreError::WouldBlock));
        // Whatever was evicted is whole: counters, records and the count agree.
        let evicted = s.evict.evicted_keys.load(Ordering::Relaxed) as i64;
        assert_eq!(s.key_count(0), 300 - evicted);
        assert!(s.used_memory_dataset() <= before);
        // The rerun with the disk finishes the job.
        assert_eq!(s.perform_evictions().unwrap(), Outcome::Ok);
        assert!(s.used_memory_dataset() <= limit);
        let evicted = s.evict.evicted_keys.load(Ordering::Relaxed) as i64;
        assert_eq!(s.key_count(0), 300 - evicted);
        let live = (0..300).filter(|i| s.get_record(0, format!("k{i}").as_bytes()).unwrap().is_some()).count();
        assert_eq!(live as i64, s.key_count(0));
    }

    #[test]
    fn volatile_ttl_evicts_the_soonest_expiries_first() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        s.evict.background_off.store(true, Ordering::Relaxed);
        let now = s.clock.now_ms();
        for i in 0..200u64 {
            let exp = ExpireUpdate::At(now + 3_600_000 + i * 1000);
            StringStore::new(&s, 0).set(format!("t{i}").as_bytes(), &[b'x'; 100], SetCond::Always, exp, false).unwrap();
        }
        let limit = s.used_memory_dataset() / 2;
        s.configure_eviction(limit, Policy::VolatileTtl, 5, 100, (10, 1));
        assert_eq!(s.perform_evictions().unwrap(), Outcome::Ok);
        let alive: Vec<u64> =
            (0..200).filter(|i| s.get_record(0, format!("t{i}").as_bytes()).unwrap().is_some()).collect();
        // Taken from the head of the expire index: exactly the soonest ones went.
        assert_eq!(alive.first().copied(), Some(200 - alive.len() as u64), "{alive:?}");
        assert!(alive.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn lfu_keeps_frequently_used_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        s.evict.background_off.store(true, Ordering::Relaxed);
        s.configure_eviction(0, Policy::AllKeysLfu, 10, 100, (10, 1));
        fill(&s, 300, false);
        for _ in 0..20 {
            for i in 0..30 {
                StringStore::new(&s, 0).get(format!("k{i}").as_bytes()).unwrap();
            }
        }
        let limit = s.used_memory_dataset() / 3;
        s.configure_eviction(limit, Policy::AllKeysLfu, 10, 100, (10, 1));
        assert_eq!(s.perform_evictions().unwrap(), Outcome::Ok);
        for i in 0..30 {
            assert!(s.get_record(0, format!("k{i}").as_bytes()).unwrap().is_some(), "k{i} evicted");
        }
    }
}
