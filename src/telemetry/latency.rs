//! The latency monitor (LATENCY LATEST|HISTORY|RESET|DOCTOR|GRAPH): per event (`command`,
//! `fast-command`, `expire-cycle`, `eviction-cycle`) the latest and maximum latency and a
//! history of samples, as Redis's latency.c keeps them, for events at or over
//! `latency-monitor-threshold` milliseconds.

use parking_lot::Mutex;
use std::fmt::Write;

/// Samples kept per event: one per second (the largest of that second), the newest 160.
pub const HISTORY_LEN: usize = 160;
/// Width of LATENCY GRAPH.
const GRAPH_COLUMNS: usize = 80;
const GRAPH_ROWS: usize = 4;

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Unix time in seconds; 0 = an unused slot.
    pub time: u64,
    pub latency_ms: u64,
}

/// One event's ring of samples.
#[derive(Clone)]
struct Series {
    /// Where the next sample goes.
    idx: usize,
    /// Largest latency ever seen.
    max: u64,
    samples: [Sample; HISTORY_LEN],
}

impl Series {
    fn new() -> Series {
        Series { idx: 0, max: 0, samples: [Sample::default(); HISTORY_LEN] }
    }

    fn add(&mut self, now: u64, ms: u64) {
        self.max = self.max.max(ms);
        let prev = &mut self.samples[(self.idx + HISTORY_LEN - 1) % HISTORY_LEN];
        if prev.time == now {
            prev.latency_ms = prev.latency_ms.max(ms);
            return;
        }
        self.samples[self.idx] = Sample { time: now, latency_ms: ms };
        self.idx = (self.idx + 1) % HISTORY_LEN;
    }

    fn latest(&self) -> Sample {
        self.samples[(self.idx + HISTORY_LEN - 1) % HISTORY_LEN]
    }

    /// The samples, oldest first.
    fn in_order(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..HISTORY_LEN).map(|j| self.samples[(self.idx + j) % HISTORY_LEN]).filter(|s| s.time != 0)
    }
}

/// LATENCY LATEST's line for one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latest {
    pub event: &'static str,
    pub time: u64,
    pub latest_ms: u64,
    pub max_ms: u64,
}

#[derive(Default)]
pub struct LatencyMonitor {
    /// In the order events first happened (few: a Vec beats a map).
    events: Mutex<Vec<(&'static str, Series)>>,
}

impl LatencyMonitor {
    /// Records one `event` that took `ms` milliseconds (already at or over the threshold).
    pub fn record(&self, event: &'static str, ms: u64) {
        self.record_at(event, ms, super::unix_time().as_secs());
    }

    fn record_at(&self, event: &'static str, ms: u64, now: u64) {
        let mut events = self.events.lock();
        match events.iter_mut().find(|(e, _)| *e == event) {
            Some((_, s)) => s.add(now, ms),
            None => {
                let mut s = Series::new();
                s.add(now, ms);
                events.push((event, s));
            }
        }
    }

    /// LATENCY LATEST.
    pub fn latest(&self) -> Vec<Latest> {
        self.events
            .lock()
            .iter()
            .map(|(event, s)| {
                let l = s.latest();
                Latest { event, time: l.time, latest_ms: l.latency_ms, max_ms: s.max }
            })
            .collect()
    }

    /// LATENCY HISTORY: the event's samples, oldest first (None: no such event).
    pub fn history(&self, event: &[u8]) -> Option<Vec<Sample>> {
        let events = self.events.lock();
        let (_, s) = events.iter().find(|(e, _)| e.as_bytes() == event)?;
        Some(s.in_order().collect())
    }

    /// LATENCY RESET: drops the named events (case-insensitively), or all; returns how many.
    pub fn reset(&self, event: Option<&[u8]>) -> usize {
        let mut events = self.events.lock();
        let before = events.len();
        match event {
            Some(name) => events.retain(|(e, _)| !e.as_bytes().eq_ignore_ascii_case(name)),
            None => events.clear(),
        }
        before - events.len()
    }

    /// LATENCY GRAPH: Redis's ASCII sparkline of the event's samples (None: no such event).
    pub fn graph(&self, event: &[u8]) -> Option<String> {
        let (name, series) = {
            let events = self.events.lock();
            events.iter().find(|(e, _)| e.as_bytes() == event).map(|(e, s)| (*e, s.clone()))?
        };
        Some(graph(name, &series, super::unix_time().as_secs()))
    }

    /// LATENCY DOCTOR: a report in words (`enabled`: the threshold is set).
    pub fn doctor(&self, enabled: bool) -> String {
        let now = super::unix_time().as_secs();
        let events: Vec<(&'static str, Series)> = self.events.lock().clone();
        doctor(&events, enabled, now)
    }
}

/// Redis's `analyzeLatencyForEvent`: (samples, average, mean deviation, period in seconds).
fn analyze(s: &Series, now: u64) -> (u64, u64, u64, u64) {
    let samples: Vec<Sample> = s.in_order().collect();
    let n = samples.len() as u64;
    if n == 0 {
        return (0, 0, 0, 0);
    }
    let avg = samples.iter().map(|x| x.latency_ms).sum::<u64>() / n;
    let mad = samples.iter().map(|x| x.latency_ms.abs_diff(avg)).sum::<u64>() / n;
    let oldest = samples.iter().map(|x| x.time).min().unwrap_or(now);
    (n, avg, mad, now.saturating_sub(oldest).max(1))
}

fn doctor(events: &[(&'static str, Series)], enabled: bool, now: u64) -> String {
    let mut out = String::new();
    if events.is_empty() {
        if enabled {
            out.push_str(
                "Dave, no latency spike was observed during the lifetime of this Strata instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n",
            );
        } else {
            out.push_str(
                "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Strata instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it.\n",
            );
        }
        return out;
    }
    out.push_str(
        "Dave, I have observed latency spikes in this Strata instance. You don't mind talking about it, do you Dave?\n\n",
    );
    for (i, (event, s)) in events.iter().enumerate() {
        let (n, avg, mad, period) = analyze(s, now);
        let _ = writeln!(
            out,
            "{}. {event}: {n} latency spike{} (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). Worst all time event {}ms.",
            i + 1,
            if n == 1 { "" } else { "s" },
            period as f64 / n.max(1) as f64,
            s.max
        );
    }
    out.push_str("\nI have a few advices for you:\n\n");
    let has = |name: &str| events.iter().any(|(e, _)| *e == name);
    if has("command") {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check SLOWLOG GET for more information.\n");
    }
    if has("fast-command") {
        out.push_str("- The system is slow to execute commands that are normally fast (O(1) or O(log N)). Check whether the host is overloaded, swapping, or its disk is saturated: a read that misses the cache waits for the disk.\n");
    }
    if has("expire-cycle") {
        out.push_str("- Many keys expire at the same time: the active expiry cycle took long. Consider spreading the TTLs of keys set together (add a random offset).\n");
    }
    if has("eviction-cycle") {
        out.push_str("- Evicting keys to stay under maxmemory took long. Consider a higher maxmemory, or fewer large values being written at once.\n");
    }
    out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    out
}

/// Redis's `latencyCommandGenSparkeline`: a title, a rule, then the sparkline with labels
/// (how long ago each sample was) written downwards.
fn graph(event: &str, s: &Series, now: u64) -> String {
    let samples: Vec<Sample> = s.in_order().collect();
    let min = samples.iter().map(|x| x.latency_ms).min().unwrap_or(0);
    let max = samples.iter().map(|x| x.latency_ms).max().unwrap_or(0);
    let labels: Vec<String> = samples
        .iter()
        .map(|x| {
            let ago = now.saturating_sub(x.time);
            match ago {
                0..60 => format!("{ago}s"),
                60..3600 => format!("{}m", ago / 60),
                3600..86400 => format!("{}h", ago / 3600),
                _ => format!("{}d", ago / 86400),
            }
        })
        .collect();
    let mut out = format!("{event} - high {max} ms, low {min} ms (all time high {} ms)\n", s.max);
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    let values: Vec<u64> = samples.iter().map(|x| x.latency_ms).collect();
    let mut start = 0;
    while start < values.len() {
        let end = (start + GRAPH_COLUMNS).min(values.len());
        if start != 0 {
            out.push('\n');
        }
        sparkline(&mut out, &values, &labels, (min, max), start..end);
        start = end;
    }
    out
}

/// Redis's `sparklineRenderRange` with SPARKLINE_FILL: `GRAPH_ROWS` rows of `_o#` and `|`,
/// a blank row, then the labels one character per row.
fn sparkline(
    out: &mut String,
    values: &[u64],
    labels: &[String],
    (min, max): (u64, u64),
    range: std::ops::Range<usize>,
) {
    const FILL: [u8; 3] = [b'_', b'o', b'#'];
    let steps = (FILL.len() * GRAPH_ROWS) as f64;
    let relmax = if max == min { 1.0 } else { (max - min) as f64 };
    let step_of = |v: u64| -> i64 { ((((v - min) as f64 * steps) / relmax) as i64).clamp(0, steps as i64 - 1) };
    let mut row = 0;
    loop {
        let mut line = vec![b' '; range.len()];
        let mut more = false;
        for (col, j) in range.clone().enumerate() {
            if row < GRAPH_ROWS {
                more = true;
                let charidx = step_of(values[j]) - ((GRAPH_ROWS - row - 1) * FILL.len()) as i64;
                if (0..FILL.len() as i64).contains(&charidx) {
                    line[col] = FILL[charidx as usize];
                } else if charidx >= FILL.len() as i64 {
                    line[col] = b'|';
                }
            } else if row == GRAPH_ROWS {
                // The blank row between the graph and the labels.
                more = true;
                break;
            } else if let Some(&c) = labels[j].as_bytes().get(row - GRAPH_ROWS - 1) {
                more = true;
                line[col] = c;
            }
        }
        if !more {
            return;
        }
        out.push_str(&String::from_utf8_lossy(&line));
        out.push('\n');
        row += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_second_keeps_the_max_and_history_is_bounded() {
        let m = LatencyMonitor::default();
        m.record_at("command", 200, 1000);
        m.record_at("command", 150, 1000);
        m.record_at("command", 300, 1001);
        assert_eq!(
            m.history(b"command"),
            Some(vec![Sample { time: 1000, latency_ms: 200 }, Sample { time: 1001, latency_ms: 300 }])
        );
        assert_eq!(m.latest(), vec![Latest { event: "command", time: 1001, latest_ms: 300, max_ms: 300 }]);
        for t in 0..200 {
            m.record_at("fast-command", t, 2000 + t);
        }
        let h = m.history(b"fast-command").unwrap();
        assert_eq!(h.len(), HISTORY_LEN);
        assert_eq!(h[0].time, 2040);
        assert_eq!(h[HISTORY_LEN - 1].time, 2199);
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.history(b"command"), None);
        assert_eq!(m.reset(None), 1);
        assert!(m.latest().is_empty());
    }

    #[test]
    fn graph_matches_redis() {
        let mut s = Series::new();
        s.add(100, 200);
        s.add(102, 300);
        let g = graph("command", &s, 102);
        let expected = format!(
            "command - high 300 ms, low 200 ms (all time high 300 ms)\n{}\n #\n |\n |\n_|\n  \n20\nss\n",
            "-".repeat(80)
        );
        assert_eq!(g, expected);
    }

    #[test]
    fn doctor_reports_each_event() {
        let mut s = Series::new();
        s.add(100, 200);
        s.add(101, 300);
        let text = doctor(&[("command", s)], true, 102);
        assert!(text.contains("1. command: 2 latency spikes (average 250ms, mean deviation 50ms, period 1.00 sec). Worst all time event 300ms."), "{text}");
        assert!(doctor(&[], false, 1).contains("disabled"));
        assert!(doctor(&[], true, 1).contains("no latency spike"));
    }
}
