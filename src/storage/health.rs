//! RocksDB's health for the operators: the figures INFO rocksdb and `/metrics` report (write
//! stalls, compaction and flush traffic, running background jobs, background errors, block
//! cache hits), and a log line for each notable event — writes delayed or stopped, a compaction
//! running long, a background error — found by a look at RocksDB's statistics (tickers only:
//! no histograms or timers on the write path) and properties once a second.

use super::{cf, Storage};
use rocksdb::statistics::Ticker;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, Instant};

/// A compaction running this long is logged (once per run of busy seconds).
const LONG_COMPACTION: Duration = Duration::from_secs(60);
/// At most one stall line per this period (the stall time of the whole period is in it).
const STALL_LOG_PERIOD: Duration = Duration::from_secs(10);

/// RocksDB's cumulative figures since the process started (counters) and now (gauges).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RocksFigures {
    /// Time writes spent delayed or stopped by RocksDB's write controller (µs).
    pub stall_micros: u64,
    pub compaction_read_bytes: u64,
    pub compaction_write_bytes: u64,
    pub flush_write_bytes: u64,
    pub block_cache_hits: u64,
    pub block_cache_misses: u64,
    pub running_compactions: u64,
    pub running_flushes: u64,
    /// Writes are stopped now (1) or not (0).
    pub write_stopped: u64,
    /// The rate writes are held to while delayed (bytes/s; 0 = not delayed).
    pub delayed_write_rate: u64,
    pub background_errors: u64,
    /// Compactions waiting (RocksDB's estimate of the bytes they will rewrite), all families.
    pub pending_compaction_bytes: u64,
}

/// What the watcher remembers between looks.
#[derive(Default)]
pub(super) struct Watch {
    /// The least free space writes need (`disk_floor`).
    disk_floor: u64,
    stall_logged_micros: AtomicU64,
    /// The data directory's bytes and the WAL's, measured by the watcher once a second (a walk
    /// of the directory has no place on a command's path: INFO and scrapes read these).
    disk_used: AtomicU64,
    wal: AtomicU64,
    /// The disk guard (`check_disk_room`): the filesystem's free space fell below the reserve,
    /// and writes are refused until it is back above twice the reserve.
    disk_low: AtomicBool,
    /// Bytes written since free space was last looked at.
    written_since_check: AtomicU64,
}

/// Free space is looked at after this many bytes of writes (and ten times a second by the
/// watcher), so that no more than about this much reaches the WAL between two looks.
const DISK_CHECK_EVERY: u64 = 1 << 20;

/// The free space kept back for RocksDB: writes are refused below it. It leaves room for the
/// WAL records already written and for flushes and compactions to finish, so that RocksDB itself
/// never runs out of space while writing its log. It must: with the WAL in RocksDB's own buffer
/// (`manual_wal_flush`, which pays: docs/benchmarks.md, "WAL flushing") a failed WAL write is
/// a fatal error RocksDB recovers from only by a restart, while a refusal here ends by itself
/// once there is room. A twentieth of the filesystem up to 1 GiB, and never less than `floor`
/// (`disk_floor`).
pub fn disk_reserve(total: u64, floor: u64) -> u64 {
    (total / 20).min(1 << 30).max(floor)
}

/// The least reserve: room for twice what the memtables may hold. A memtable flush writes about
/// its memtable's size, and a new WAL file is preallocated in one piece of up to a memtable's
/// size, so free space drops by that much at once, between two looks.
pub(super) fn disk_floor(memtable_budget: u64, write_buffer_size: u64) -> u64 {
    let memtables = if memtable_budget > 0 { memtable_budget } else { write_buffer_size.saturating_mul(4) };
    memtables.saturating_mul(2)
}

impl Watch {
    pub(super) fn new(disk_floor: u64) -> Watch {
        Watch { disk_floor, ..Default::default() }
    }
}

impl Storage {
    fn ticker(&self, t: Ticker) -> u64 {
        self.statistics.get_ticker_count(t)
    }

    fn db_property(&self, prop: &str) -> u64 {
        self.db.property_int_value(prop).ok().flatten().unwrap_or(0)
    }

    /// RocksDB's figures now.
    pub fn rocks_figures(&self) -> RocksFigures {
        RocksFigures {
            stall_micros: self.ticker(Ticker::StallMicros),
            compaction_read_bytes: self.ticker(Ticker::CompactReadBytes),
            compaction_write_bytes: self.ticker(Ticker::CompactWriteBytes),
            flush_write_bytes: self.ticker(Ticker::FlushWriteBytes),
            block_cache_hits: self.ticker(Ticker::BlockCacheHit),
            block_cache_misses: self.ticker(Ticker::BlockCacheMiss),
            running_compactions: self.db_property("rocksdb.num-running-compactions"),
            running_flushes: self.db_property("rocksdb.num-running-flushes"),
            write_stopped: self.db_property("rocksdb.is-write-stopped"),
            delayed_write_rate: self.db_property("rocksdb.actual-delayed-write-rate"),
            background_errors: self.db_property("rocksdb.background-errors"),
            pending_compaction_bytes: cf::ALL
                .iter()
                .map(|name| self.cf_property(name, "rocksdb.estimate-pending-compaction-bytes").unwrap_or(0))
                .sum(),
        }
    }

    /// Bytes of the data directory's RocksDB files (SST, blob, WAL and the rest), as measured
    /// within the last second.
    pub fn disk_used_bytes(&self) -> u64 {
        self.health.disk_used.load(Ordering::Relaxed)
    }

    /// Bytes of the write-ahead log files (INFO persistence `aof_current_size`), as measured
    /// within the last second.
    pub fn wal_bytes(&self) -> u64 {
        self.health.wal.load(Ordering::Relaxed)
    }

    /// Measures the data directory's and the WAL's bytes now.
    pub(super) fn measure_disk(&self) {
        self.health.disk_used.store(self.measure_disk_used(), Ordering::Relaxed);
        self.health.wal.store(self.measure_wal_bytes(), Ordering::Relaxed);
    }

    fn measure_disk_used(&self) -> u64 {
        fn walk(p: &std::path::Path) -> u64 {
            let Ok(entries) = std::fs::read_dir(p) else { return 0 };
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        }
        walk(&self.path)
    }
}

/// The once-a-second watcher: logs stalls, stops, long compactions and background errors.
pub(super) fn spawn(storage: Weak<Storage>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("strata-health".into())
        .spawn(move || {
            let mut last = RocksFigures::default();
            let mut stall_since_log = 0u64;
            let mut last_stall_log: Option<Instant> = None;
            let mut compacting_since: Option<Instant> = None;
            let mut long_compaction_logged = false;
            let mut first = true;
            loop {
                match storage.upgrade() {
                    Some(s) if !s.is_stopped() => s.measure_disk(),
                    _ => return,
                }
                for _ in 0..10 {
                    std::thread::sleep(Duration::from_millis(100));
                    match storage.upgrade() {
                        Some(s) if !s.is_stopped() => s.check_disk_room(),
                        _ => return,
                    }
                }
                let Some(s) = storage.upgrade() else { return };
                s.auto_save();
                let now = s.rocks_figures();
                if first {
                    first = false;
                    last = now;
                    continue;
                }
                stall_since_log += now.stall_micros.saturating_sub(last.stall_micros);
                if stall_since_log > 0 && last_stall_log.is_none_or(|t| t.elapsed() >= STALL_LOG_PERIOD) {
                    tracing::warn!(
                        stalled_ms = stall_since_log / 1000,
                        delayed_write_rate = now.delayed_write_rate,
                        pending_compaction_bytes = now.pending_compaction_bytes,
                        "RocksDB delayed writes (write stall)"
                    );
                    s.health.stall_logged_micros.fetch_add(stall_since_log, Ordering::Relaxed);
                    stall_since_log = 0;
                    last_stall_log = Some(Instant::now());
                }
                if now.write_stopped != last.write_stopped {
                    if now.write_stopped > 0 {
                        tracing::warn!(
                            pending_compaction_bytes = now.pending_compaction_bytes,
                            "RocksDB stopped writes until compaction or flush catches up"
                        );
                    } else {
                        tracing::info!("RocksDB resumed writes");
                    }
                }
                if now.running_compactions > 0 {
                    let since = *compacting_since.get_or_insert_with(Instant::now);
                    if !long_compaction_logged && since.elapsed() >= LONG_COMPACTION {
                        tracing::warn!(
                            seconds = since.elapsed().as_secs(),
                            running = now.running_compactions,
                            pending_compaction_bytes = now.pending_compaction_bytes,
                            "RocksDB compaction running long"
                        );
                        long_compaction_logged = true;
                    }
                } else {
                    if long_compaction_logged {
                        if let Some(since) = compacting_since {
                            tracing::info!(seconds = since.elapsed().as_secs(), "RocksDB long compaction done");
                        }
                    }
                    compacting_since = None;
                    long_compaction_logged = false;
                }
                if now.background_errors > last.background_errors {
                    tracing::error!(
                        total = now.background_errors,
                        "RocksDB background error (flush or compaction failed; writes may be refused)"
                    );
                }
                last = now;
            }
        })
        .unwrap_or_else(|e| panic!("can't start the RocksDB health thread: {e}"))
}

impl Storage {
    /// Whether writes are refused because the disk is nearly full (see `disk_reserve`).
    pub fn disk_refuses_writes(&self) -> bool {
        self.health.disk_low.load(Ordering::Relaxed)
    }

    /// Counts `bytes` just written, and looks at the free space every `DISK_CHECK_EVERY`.
    pub(super) fn note_disk_write(&self, bytes: u64) {
        let before = self.health.written_since_check.fetch_add(bytes, Ordering::Relaxed);
        if before + bytes >= DISK_CHECK_EVERY {
            self.check_disk_room();
        }
    }

    /// Looks at the free space: below the reserve writes are refused, and they resume once
    /// there is twice the reserve (so that they don't flap at the edge).
    pub(super) fn check_disk_room(&self) {
        self.health.written_since_check.store(0, Ordering::Relaxed);
        let (free, total) = self.disk_space();
        if total == 0 {
            return;
        }
        let reserve = disk_reserve(total, self.health.disk_floor);
        let low = &self.health.disk_low;
        if !low.load(Ordering::Relaxed) && free < reserve {
            low.store(true, Ordering::Relaxed);
            tracing::error!(
                free_bytes = free,
                reserve_bytes = reserve,
                "disk nearly full: writes are refused (MISCONF) until there is room again; reads go on"
            );
        } else if low.load(Ordering::Relaxed) && free >= 2 * reserve {
            low.store(false, Ordering::Relaxed);
            tracing::warn!(free_bytes = free, "disk has room again: writes resume");
        }
    }

    /// (free, total) bytes of the filesystem holding the data directory; zeros if unknown.
    pub fn disk_space(&self) -> (u64, u64) {
        match rustix::fs::statvfs(&self.path) {
            Ok(v) => (v.f_bavail.saturating_mul(v.f_frsize), v.f_blocks.saturating_mul(v.f_frsize)),
            Err(_) => (0, 0),
        }
    }

    fn measure_wal_bytes(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(&self.path) else { return 0 };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .filter_map(|e| e.metadata().ok().map(|m| m.len()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::{disk_floor, disk_reserve};

    #[test]
    fn the_disk_reserve_is_a_twentieth_up_to_1_gib_and_at_least_the_floor() {
        let floor = disk_floor(128 << 20, 64 << 20);
        assert_eq!(floor, 256 << 20);
        assert_eq!(disk_floor(0, 64 << 20), 512 << 20);
        assert_eq!(disk_reserve(0, floor), floor);
        assert_eq!(disk_reserve(64 << 20, floor), floor);
        assert_eq!(disk_reserve(10 << 30, floor), 512 << 20);
        assert_eq!(disk_reserve(100 << 30, floor), 1 << 30);
    }
}
