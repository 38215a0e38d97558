//! When each key was last used, for the LRU and LFU eviction policies and OBJECT IDLETIME /
//! OBJECT FREQ (DESIGN.md §6).
//!
//! Redis keeps 24 bits of access data in every object. Strata's keys live on disk, so the bits
//! live here instead: a fixed table of `SLOTS` 32-bit slots (16 MiB, whatever the data set's
//! size), indexed by a hash of the metadata key. A slot holds an 8-bit fingerprint of its key
//! and Redis's 24 bits: the LRU clock in seconds, or (LFU policies) 16 bits of decrement time
//! in minutes and an 8-bit logarithmic counter, with Redis's `LFULogIncr` and
//! `LFUDecrAndReturn`. A key whose slot holds another key's fingerprint is "unknown": as old /
//! as rare as can be for eviction. Two keys fighting over one slot: under LRU the last used
//! wins; under LFU a new key takes the slot only from a cold incumbent, and otherwise makes a
//! hot one decay a little first (as HeavyKeeper does), so a hot key is not pushed out by a
//! stream of one-off keys.
//!
//! Lookups touch their key (`Storage::get_record_raw`) except inside `without_touch` (OBJECT,
//! eviction sampling, active expiry, EXISTS and TYPE as in Redis). Updates are plain loads and
//! stores: two clients racing on one key may lose one update, which an approximation allows.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Slots in the table (a power of two): 4 Mi × 4 bytes = 16 MiB.
pub const SLOTS: usize = 1 << 22;
/// Redis's counter of a new key (LFU_INIT_VAL): a new key is not evicted at once.
pub const LFU_INIT_VAL: u8 = 5;
/// The LRU clock wraps at 24 bits (seconds), as Redis's LRU_CLOCK_MAX.
const LRU_CLOCK_MAX: u64 = (1 << 24) - 1;

thread_local! {
    static NO_TOUCH: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` without lookups updating access data (Redis's LOOKUP_NOTOUCH).
pub fn without_touch<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            NO_TOUCH.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(NO_TOUCH.with(|c| c.replace(true)));
    f()
}

/// The table, and how its slots are read (LRU or LFU) with which LFU parameters.
pub struct AccessTable {
    slots: Box<[AtomicU32]>,
    mask: usize,
    clock: std::sync::Arc<crate::clock::Clock>,
    /// Slots hold LFU data (an LFU policy is selected); else LRU data.
    lfu: AtomicBool,
    log_factor: AtomicU32,
    decay_minutes: AtomicU32,
    /// The LRU clock when the table was made: a key not used since has been idle since then
    /// (as Redis dates keys loaded at start-up to the load).
    started: u64,
}

impl AccessTable {
    /// A table of `slots` slots (rounded up to a power of two).
    pub fn new(slots: usize, clock: std::sync::Arc<crate::clock::Clock>) -> AccessTable {
        let n = slots.max(1).next_power_of_two();
        let started = (clock.now_ms() / 1000) & LRU_CLOCK_MAX;
        AccessTable {
            started,
            slots: (0..n).map(|_| AtomicU32::new(0)).collect(),
            mask: n - 1,
            clock,
            lfu: AtomicBool::new(false),
            log_factor: AtomicU32::new(10),
            decay_minutes: AtomicU32::new(1),
        }
    }

    /// Bytes the table takes (INFO).
    pub fn bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<AtomicU32>()
    }

    /// Selects LFU (or LRU) data and the LFU parameters (`lfu-log-factor`, `lfu-decay-time`).
    pub fn configure(&self, lfu: bool, log_factor: u32, decay_minutes: u32) {
        self.lfu.store(lfu, Ordering::Relaxed);
        self.log_factor.store(log_factor, Ordering::Relaxed);
        self.decay_minutes.store(decay_minutes, Ordering::Relaxed);
    }

    pub fn is_lfu(&self) -> bool {
        self.lfu.load(Ordering::Relaxed)
    }

    fn slot(&self, meta_key: &[u8]) -> (&AtomicU32, u32) {
        let h = hash(meta_key);
        // Fingerprint 0 marks an empty slot.
        let fp = ((h >> 56) as u32).max(1);
        (&self.slots[(h as usize) & self.mask], fp)
    }

    fn lru_clock(&self) -> u64 {
        (self.clock.now_ms() / 1000) & LRU_CLOCK_MAX
    }

    fn minutes(&self) -> u32 {
        ((self.clock.now_ms() / 60_000) & 0xffff) as u32
    }

    /// A lookup of the key whose metadata key is `meta_key` (Redis's `lookupKey` update).
    pub fn touch(&self, meta_key: &[u8]) {
        if NO_TOUCH.with(|c| c.get()) {
            return;
        }
        let (slot, fp) = self.slot(meta_key);
        let cur = slot.load(Ordering::Relaxed);
        if !self.is_lfu() {
            // Most lookups of a hot key land in the same second: leave the cache line clean.
            let new = fp << 24 | self.lru_clock() as u32;
            if new != cur {
                slot.store(new, Ordering::Relaxed);
            }
            return;
        }
        let now = self.minutes();
        let counter = if cur >> 24 == fp {
            self.decayed(cur)
        } else if cur == 0 || self.decayed(cur) <= LFU_INIT_VAL {
            LFU_INIT_VAL
        } else {
            self.contest(slot, cur);
            return;
        };
        let counter = self.log_incr(counter);
        slot.store(fp << 24 | now << 8 | u32::from(counter), Ordering::Relaxed);
    }

    /// A key created (or recreated after it expired): LRU now, LFU `LFU_INIT_VAL`.
    pub fn created(&self, meta_key: &[u8]) {
        let (slot, fp) = self.slot(meta_key);
        if !self.is_lfu() {
            slot.store(fp << 24 | self.lru_clock() as u32, Ordering::Relaxed);
            return;
        }
        let cur = slot.load(Ordering::Relaxed);
        if cur >> 24 == fp || cur == 0 || self.decayed(cur) <= LFU_INIT_VAL {
            slot.store(fp << 24 | self.minutes() << 8 | u32::from(LFU_INIT_VAL), Ordering::Relaxed);
        } else {
            self.contest(slot, cur);
        }
    }

    /// RESTORE ... IDLETIME under an LRU policy: the key was last used `idle_secs` ago (Redis's
    /// `objectSetLRUOrLFU`; an idle time past the clock's range is the oldest it can hold).
    pub fn set_idle(&self, meta_key: &[u8], idle_secs: u64) {
        let (slot, fp) = self.slot(meta_key);
        let now = self.lru_clock();
        let then = if idle_secs <= now { now - idle_secs } else { (now + LRU_CLOCK_MAX + 1).saturating_sub(idle_secs) };
        slot.store(fp << 24 | (then & LRU_CLOCK_MAX) as u32, Ordering::Relaxed);
    }

    /// RESTORE ... FREQ under an LFU policy: the key's counter is `freq`, decayed from now on.
    pub fn set_freq(&self, meta_key: &[u8], freq: u8) {
        let (slot, fp) = self.slot(meta_key);
        slot.store(fp << 24 | self.minutes() << 8 | u32::from(freq), Ordering::Relaxed);
    }

    /// Another key hit a slot held by a hot key: the incumbent loses one step, with the
    /// probability its own next step up would have (hotter keys resist longer).
    fn contest(&self, slot: &AtomicU32, cur: u32) {
        let counter = self.decayed(cur);
        let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
        let p = 1.0 / (base * f64::from(self.log_factor.load(Ordering::Relaxed)) + 1.0);
        if rand::random::<f64>() < p {
            let keep = cur & 0xffff_ff00;
            slot.store(keep | u32::from(counter.saturating_sub(1)), Ordering::Relaxed);
        }
    }

    /// Redis's `LFULogIncr`.
    fn log_incr(&self, counter: u8) -> u8 {
        if counter == 255 {
            return 255;
        }
        let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
        let p = 1.0 / (base * f64::from(self.log_factor.load(Ordering::Relaxed)) + 1.0);
        if rand::random::<f64>() < p {
            counter + 1
        } else {
            counter
        }
    }

    /// Redis's `LFUDecrAndReturn` of a slot's data.
    fn decayed(&self, slot: u32) -> u8 {
        let ldt = (slot >> 8) & 0xffff;
        let counter = (slot & 0xff) as u8;
        let now = self.minutes();
        let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
        let decay = self.decay_minutes.load(Ordering::Relaxed);
        let periods = elapsed.checked_div(decay).unwrap_or(0);
        counter.saturating_sub(periods.min(255) as u8)
    }

    /// The key's idle time in milliseconds (Redis's `estimateObjectIdleTime`); `Err` with a
    /// lower bound when its slot holds another key (that key's idle time: ours was used no
    /// later) or none (the time since the table was made).
    pub fn idle_ms(&self, meta_key: &[u8]) -> Result<u64, u64> {
        let (slot, fp) = self.slot(meta_key);
        let cur = slot.load(Ordering::Relaxed);
        let then = if cur == 0 { self.started } else { u64::from(cur & 0xff_ffff) };
        let now = self.lru_clock();
        let idle = if now >= then { now - then } else { now + (LRU_CLOCK_MAX - then) } * 1000;
        if cur >> 24 == fp {
            Ok(idle)
        } else {
            Err(idle)
        }
    }

    /// The key's decayed LFU counter (OBJECT FREQ), None when untracked.
    pub fn freq(&self, meta_key: &[u8]) -> Option<u8> {
        let (slot, fp) = self.slot(meta_key);
        let cur = slot.load(Ordering::Relaxed);
        (cur >> 24 == fp).then(|| self.decayed(cur))
    }

    /// The eviction score of a key under the current policy kind, higher = evict first
    /// (Redis's `idle` in `evictionPoolPopulate`): idle milliseconds for LRU, 255 − counter for
    /// LFU. An untracked key (its slot taken by another) scores as idle as its slot's holder at
    /// least, and as frequent as a new key (Redis gives new keys `LFU_INIT_VAL` so that they are
    /// not evicted at once).
    pub fn eviction_score(&self, meta_key: &[u8]) -> u64 {
        if self.is_lfu() {
            255 - u64::from(self.freq(meta_key).unwrap_or(LFU_INIT_VAL))
        } else {
            self.idle_ms(meta_key).unwrap_or_else(|at_least| at_least)
        }
    }
}

/// A 64-bit hash of a metadata key (FNV-1a, then a 64-bit finalizer so that the high bits,
/// the fingerprint, are mixed as well as the low ones).
fn hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use std::sync::Arc;

    fn table() -> (AccessTable, Arc<Clock>) {
        let clock = Arc::new(Clock::new());
        (AccessTable::new(1 << 10, clock.clone()), clock)
    }

    #[test]
    fn lru_idle_time_follows_the_clock() {
        let (t, clock) = table();
        t.touch(b"a");
        assert!(t.idle_ms(b"a").unwrap() < 2000);
        clock.advance(10_000);
        let idle = t.idle_ms(b"a").unwrap();
        assert!((9_000..=11_000).contains(&idle), "{idle}");
        without_touch(|| t.touch(b"a"));
        assert!(t.idle_ms(b"a").unwrap() >= 9_000, "no-touch lookups leave it");
        t.touch(b"a");
        assert!(t.idle_ms(b"a").unwrap() < 2000);
        assert!(t.idle_ms(b"never").unwrap_err() >= 9_000, "untouched since the table was made");
        // Scored by what is known of it: idle at least since then.
        assert!((9_000..u64::MAX).contains(&t.eviction_score(b"never")));
    }

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        let (t, clock) = table();
        t.configure(true, 10, 1);
        t.created(b"k");
        assert_eq!(t.freq(b"k"), Some(LFU_INIT_VAL));
        for _ in 0..1000 {
            t.touch(b"k");
        }
        let f = t.freq(b"k").unwrap();
        // Redis's table for lfu-log-factor 10: about 18 after 1000 hits.
        assert!((10..=30).contains(&f), "{f}");
        clock.advance(5 * 60_000);
        assert_eq!(t.freq(b"k"), Some(f - 5), "one step per minute of lfu-decay-time");
        assert_eq!(t.eviction_score(b"k"), 255 - u64::from(f - 5));
    }

    #[test]
    fn lfu_slot_resists_one_off_keys() {
        let clock = Arc::new(Clock::new());
        // One slot: every key collides.
        let t = AccessTable::new(1, clock);
        t.configure(true, 0, 1);
        t.created(b"hot");
        for _ in 0..100 {
            t.touch(b"hot");
        }
        let before = t.freq(b"hot").unwrap();
        assert!(before > 50, "{before}");
        t.created(b"cold");
        assert_eq!(t.freq(b"cold"), None, "a cold key does not take a hot key's slot");
        assert!(t.freq(b"hot").unwrap() >= before - 1);
    }
}
