//! The server's notion of "now", in Unix milliseconds. Tests move it without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time plus an adjustable offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn new() -> Clock {
        Clock::default()
    }

    /// Milliseconds since the Unix epoch, as adjusted.
    pub fn now_ms(&self) -> u64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        real.saturating_add(self.offset_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Microseconds since the Unix epoch, as adjusted.
    pub fn now_us(&self) -> u64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
        let off = self.offset_ms.load(Ordering::Relaxed).saturating_mul(1000);
        real.saturating_add(off).max(0) as u64
    }

    /// Moves this clock by `delta_ms` (tests and `DEBUG` only).
    pub fn advance(&self, delta_ms: i64) {
        self.offset_ms.fetch_add(delta_ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now() {
        let c = Clock::new();
        let a = c.now_ms();
        c.advance(10_000);
        let b = c.now_ms();
        assert!(b >= a + 10_000 && b < a + 11_000);
    }
}
