//! A rate limit for log lines that clients can cause (protocol errors, disconnections over
//! buffer limits): at most `PER_WINDOW` lines per window, and the first line of the next window
//! says how many were left out, so a misbehaving client fleet can't flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const WINDOW_MS: u64 = 10_000;
const PER_WINDOW: u64 = 10;

pub struct LogLimit {
    epoch: Instant,
    window: AtomicU64,
    emitted: AtomicU64,
    suppressed: AtomicU64,
}

impl Default for LogLimit {
    fn default() -> Self {
        LogLimit {
            epoch: Instant::now(),
            window: AtomicU64::new(0),
            emitted: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }
}

impl LogLimit {
    /// Some(lines left out since the last one logged) if this line may be logged now.
    pub fn allow(&self) -> Option<u64> {
        let window = self.epoch.elapsed().as_millis() as u64 / WINDOW_MS;
        if self.window.swap(window, Ordering::Relaxed) != window {
            self.emitted.store(0, Ordering::Relaxed);
        }
        if self.emitted.fetch_add(1, Ordering::Relaxed) < PER_WINDOW {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bounded_per_window() {
        let l = super::LogLimit::default();
        let allowed = (0..100).filter(|_| l.allow().is_some()).count() as u64;
        assert_eq!(allowed, super::PER_WINDOW);
    }
}
