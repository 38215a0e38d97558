//! Redis's instantaneous metrics (`instantaneous_ops_per_sec`, `instantaneous_input_kbps`,
//! `instantaneous_output_kbps`): every 100 ms a sample of each counter's rate, the figure being
//! the mean of the last 16 samples, as Redis's `trackInstantaneousMetric`.

use parking_lot::Mutex;
use std::time::Instant;

const SAMPLES: usize = 16;

/// The counters sampled, in order.
pub const OPS: usize = 0;
pub const NET_INPUT: usize = 1;
pub const NET_OUTPUT: usize = 2;
const METRICS: usize = 3;

#[derive(Default)]
struct Track {
    last_at: Option<Instant>,
    last: [u64; METRICS],
    samples: [[f64; SAMPLES]; METRICS],
    next: usize,
}

#[derive(Default)]
pub struct Rates {
    track: Mutex<Track>,
}

impl Rates {
    /// Takes one sample of the counters' current values.
    pub fn sample(&self, values: [u64; METRICS]) {
        let mut t = self.track.lock();
        let now = Instant::now();
        if let Some(at) = t.last_at {
            let secs = now.duration_since(at).as_secs_f64().max(1e-3);
            let slot = t.next;
            for (m, &v) in values.iter().enumerate() {
                t.samples[m][slot] = v.saturating_sub(t.last[m]) as f64 / secs;
            }
            t.next = (slot + 1) % SAMPLES;
        }
        t.last = values;
        t.last_at = Some(now);
    }

    /// The mean rate (per second) of metric `m` over the last samples.
    pub fn rate(&self, m: usize) -> f64 {
        let t = self.track.lock();
        t.samples[m].iter().sum::<f64>() / SAMPLES as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_samples() {
        let r = Rates::default();
        r.sample([0, 0, 0]);
        std::thread::sleep(std::time::Duration::from_millis(50));
        r.sample([1000, 0, 0]);
        assert!(r.rate(OPS) > 0.0);
        assert_eq!(r.rate(NET_INPUT), 0.0);
    }
}
