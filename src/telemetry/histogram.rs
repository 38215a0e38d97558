//! A lock-free latency histogram: log-linear buckets over nanoseconds (8 per power of two, so
//! a value is known within 12.5%), each an atomic counter. Recording is one atomic add; the
//! readers (INFO latencystats, LATENCY HISTOGRAM, `/metrics`) sum buckets when asked.
//!
//! Every power of two of nanoseconds is a bucket edge, so Redis's LATENCY HISTOGRAM buckets
//! (1024 ns × 2^k) and Prometheus's cumulative buckets come out of it exactly.

use std::sync::atomic::{AtomicU64, Ordering};

/// Buckets per power of two (as a shift: 2^3 = 8).
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
/// Values from 2^MAX_EXP ns (about 18 minutes) on share the last bucket.
const MAX_EXP: u32 = 40;
/// Number of buckets: values below SUB one each, then SUB per power of two up to MAX_EXP.
pub const BUCKETS: usize = ((MAX_EXP - SUB_BITS + 1) as usize + 1) * SUB as usize;

/// The bucket a value (ns) falls in.
pub fn bucket_of(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros();
    if exp > MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = (ns >> (exp - SUB_BITS)) & (SUB - 1);
    ((exp - SUB_BITS + 1) as usize) * SUB as usize + sub as usize
}

/// The smallest value (ns) of bucket `i`.
pub fn bucket_low(i: usize) -> u64 {
    if i < SUB as usize {
        return i as u64;
    }
    let exp = (i / SUB as usize) as u32 + SUB_BITS - 1;
    let sub = (i % SUB as usize) as u64;
    (1u64 << exp) + (sub << (exp - SUB_BITS))
}

/// The largest value (ns) of bucket `i`.
pub fn bucket_high(i: usize) -> u64 {
    if i + 1 >= BUCKETS {
        return u64::MAX;
    }
    bucket_low(i + 1) - 1
}

/// Counts per bucket and the sum of the values recorded (a Prometheus histogram's `_sum` must
/// cover the same samples as its buckets).
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(), sum: AtomicU64::new(0) }
    }
}

/// A histogram's counts at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub counts: Vec<u64>,
    /// Sum of the values recorded (ns).
    pub sum: u64,
}

impl Histogram {
    pub fn record(&self, ns: u64) {
        self.buckets[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(ns, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect(),
            sum: self.sum.load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self) {
        for b in self.buckets.iter() {
            b.store(0, Ordering::Relaxed);
        }
        self.sum.store(0, Ordering::Relaxed);
    }
}

impl Snapshot {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The value (ns) at percentile `p` (0..=100): the middle of the bucket holding it.
    pub fn percentile(&self, p: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = bucket_low(i);
                let hi = if i + 1 >= BUCKETS { lo } else { bucket_high(i) };
                return lo + (hi - lo) / 2;
            }
        }
        bucket_low(BUCKETS - 1)
    }

    /// LATENCY HISTOGRAM's buckets as Redis 7.0 prints them from its hdr histogram (iterated
    /// logarithmically from 1024 ns, base 2): per power of two `1024 × 2^k` ns, the label in µs
    /// of the hdr bucket holding it (`(v + v/128 - 1) / 1000`: 1, 2, 4, 8, 16, 33, 66, ...) and
    /// how many values lie below it; only labels where the count grew. Redis clamps values to
    /// 1 s, so the last label (1082130 µs) holds everything.
    pub fn redis_cdf(&self) -> Vec<(u64, u64)> {
        let total = self.count();
        let mut out = Vec::new();
        let mut previous = 0;
        for k in 0..=20u32 {
            let level = 1024u64 << k;
            let cumulative = if k == 20 { total } else { self.count_at_most(level - 1) };
            if cumulative > previous {
                out.push(((level + level / 128 - 1) / 1000, cumulative));
                previous = cumulative;
            }
            if cumulative == total {
                break;
            }
        }
        out
    }

    /// How many values are at most `ns` (exact when `ns + 1` is a bucket edge).
    pub fn count_at_most(&self, ns: u64) -> u64 {
        self.counts.iter().enumerate().take_while(|(i, _)| bucket_high(*i) <= ns).map(|(_, c)| c).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        for i in 0..BUCKETS - 1 {
            assert_eq!(bucket_high(i) + 1, bucket_low(i + 1), "bucket {i}");
            assert_eq!(bucket_of(bucket_low(i)), i);
            assert_eq!(bucket_of(bucket_high(i)), i);
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn powers_of_two_are_edges() {
        for k in 3..MAX_EXP {
            let v = 1u64 << k;
            assert_eq!(bucket_low(bucket_of(v)), v);
        }
    }

    #[test]
    fn error_is_within_an_eighth() {
        for v in [9u64, 100, 999, 1_000, 12_345, 1_000_000, 7_777_777_777] {
            let i = bucket_of(v);
            let width = bucket_high(i) - bucket_low(i) + 1;
            assert!(width * 8 <= v.max(8), "{v}: width {width}");
        }
    }

    #[test]
    fn percentiles_and_counts() {
        let h = Histogram::default();
        for _ in 0..90 {
            h.record(1_000);
        }
        for _ in 0..10 {
            h.record(1_000_000);
        }
        let s = h.snapshot();
        assert_eq!(s.count(), 100);
        let p50 = s.percentile(50.0);
        assert!((900..=1_100).contains(&p50), "{p50}");
        let p99 = s.percentile(99.0);
        assert!((900_000..=1_100_000).contains(&p99), "{p99}");
        assert_eq!(s.count_at_most(1023), 90);
        assert_eq!(s.count_at_most((1 << 20) - 1), 100);
        h.reset();
        assert_eq!(h.snapshot().count(), 0);
    }

    #[test]
    fn redis_cdf_labels() {
        let h = Histogram::default();
        for ns in [500, 1_500, 3_000, 150_000_000, 200_000_000, 300_000_000, 5_000_000_000] {
            h.record(ns);
        }
        assert_eq!(h.snapshot().redis_cdf(), [(1, 1), (2, 2), (4, 3), (270532, 5), (541065, 6), (1082130, 7)]);
        assert!(Histogram::default().snapshot().redis_cdf().is_empty());
    }
}
