//! The slow log (SLOWLOG GET|LEN|RESET): the last `slowlog-max-len` commands that ran at least
//! `slowlog-log-slower-than` microseconds, with Redis's entry fields and argument truncation.

use super::CommandEvent;

#[derive(Default)]
pub struct SlowLog {}

impl SlowLog {
    /// Adds `ev` (already known to be slow enough), keeping at most `max_len` entries.
    pub fn record(&self, _ev: &CommandEvent<'_>, _max_len: usize) {}

    /// Drops the oldest entries past `max_len`.
    pub fn trim(&self, _max_len: usize) {}
}
