//! Backups (SAVE, BGSAVE): a RocksDB checkpoint of the data directory, and the bookkeeping
//! INFO persistence and LASTSAVE report.
//!
//! A checkpoint is itself a data directory: the manifest (`strata.manifest`) plus `db/`, whose
//! SST and blob files are hard links to the live ones (fast, no copy) and whose WAL, MANIFEST and
//! OPTIONS are copies. The memtables are flushed first, so the checkpoint's data is in its SST
//! files and it replays (almost) no WAL when a server opens it; RocksDB still takes the WAL
//! written since the flush, which makes the checkpoint consistent as of one point of the WAL
//! across every column family. The newest checkpoint is kept at `<dir>/checkpoint`, replaced
//! whole: the new one is made at `checkpoint.tmp`, the old one renamed to `checkpoint.old`, the
//! new one renamed into place, then the old one deleted — a crash leaves a complete checkpoint
//! under one of those names. Restore = start a server with `--dir` a copy of the checkpoint.
//!
//! Nothing here knows of commands: the command layer turns `SaveError` into replies.

use super::{manifest, Storage};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// The newest checkpoint, inside the data directory.
pub const CHECKPOINT_DIR: &str = "checkpoint";
const TMP_SUFFIX: &str = ".tmp";
const OLD_SUFFIX: &str = ".old";
/// After a failed background save, automatic saves wait this long before trying again
/// (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: u64 = 5;

const IDLE: u8 = 0;
const SAVING: u8 = 1;
const BG_SAVING: u8 = 2;

/// Why a save did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// A background save runs now.
    #[error("Background save already in progress")]
    InProgress,
    /// The checkpoint failed (the detail is logged).
    #[error("checkpoint failed: {0}")]
    Failed(String),
}

/// The save bookkeeping (Redis's `server.dirty`, `lastsave`, `lastbgsave_status`, …).
#[derive(Debug, Default)]
pub struct Saves {
    /// `IDLE`, `SAVING` (SAVE) or `BG_SAVING` (BGSAVE): one save at a time.
    state: AtomicU8,
    /// When the running background save started (ms since the epoch).
    bg_started_ms: AtomicU64,
    /// Unix time of the last successful save; the start time until one happens.
    last_save: AtomicU64,
    last_bgsave_failed: AtomicBool,
    /// Seconds the last background save took (-1 = none yet).
    last_bgsave_secs: AtomicI64,
    /// Unix time of the last background save attempt (for the retry delay).
    last_bgsave_try: AtomicU64,
    /// Saves started (INFO `rdb_saves`; CONFIG RESETSTAT zeroes it).
    started: AtomicU64,
    /// Records written since the last successful save (`rdb_changes_since_last_save`).
    changes: AtomicU64,
    /// The `save` points: (seconds, changes) pairs.
    points: parking_lot::Mutex<Vec<(u64, u64)>>,
}

/// A snapshot of the bookkeeping for INFO persistence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveStatus {
    pub changes_since_last_save: u64,
    pub bgsave_in_progress: bool,
    pub last_save_time: u64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_time_sec: i64,
    pub current_bgsave_time_sec: i64,
    pub saves: u64,
}

impl Saves {
    pub(super) fn new(now_unix: u64) -> Saves {
        let s = Saves::default();
        s.last_save.store(now_unix, Ordering::Relaxed);
        s.last_bgsave_secs.store(-1, Ordering::Relaxed);
        s
    }

    /// Counts `n` records written by a committed write.
    pub(super) fn note_changes(&self, n: u64) {
        self.changes.fetch_add(n, Ordering::Relaxed);
    }

    /// Claims the one save slot for a save of kind `kind`, or says another save holds it.
    fn claim(&self, kind: u8) -> Result<(), SaveError> {
        self.state
            .compare_exchange(IDLE, kind, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| SaveError::InProgress)
    }

    fn release(&self) {
        self.state.store(IDLE, Ordering::Release);
    }

    /// True while a SAVE or BGSAVE runs.
    pub fn running(&self) -> bool {
        self.state.load(Ordering::Acquire) != IDLE
    }

    /// A save succeeded: the changes counted when it started are in it.
    fn succeeded(&self, changes_before: u64, now_unix: u64) {
        // Changes made while it ran stay counted (as Redis's `dirty - dirty_before_bgsave`).
        let _ =
            self.changes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c.saturating_sub(changes_before)));
        self.last_save.store(now_unix, Ordering::Relaxed);
    }

    pub fn last_save_time(&self) -> u64 {
        self.last_save.load(Ordering::Relaxed)
    }

    /// Zeroes the statistics CONFIG RESETSTAT resets (`rdb_saves`).
    pub fn reset_stats(&self) {
        self.started.store(0, Ordering::Relaxed);
    }

    /// Sets the `save` points from the directive's text ("<seconds> <changes> ..."); text that
    /// does not parse (config validation refuses it first) leaves no points.
    pub fn set_points(&self, text: &str) {
        let numbers: Vec<u64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
        *self.points.lock() = numbers.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    }
}

impl Storage {
    /// Writes a checkpoint of the data directory to `target`, which must not exist: the manifest
    /// and a RocksDB checkpoint in `target/db`. On failure `target` may be left half made.
    pub fn checkpoint(&self, target: &Path) -> Result<(), SaveError> {
        let fail =
            |what: &str, e: &dyn std::fmt::Display| SaveError::Failed(format!("{what} {}: {e}", target.display()));
        std::fs::create_dir(target).map_err(|e| fail("can't create", &e))?;
        let manifest_src = self.data_dir().join(manifest::FILE_NAME);
        std::fs::copy(&manifest_src, target.join(manifest::FILE_NAME))
            .map_err(|e| fail("can't copy the manifest into", &e))?;
        // Writes held in RocksDB's WAL buffer (`manual_wal_flush`) go into the log first.
        self.db.flush_wal(false).map_err(|e| fail("WAL flush before checkpoint", &e))?;
        let cp = rocksdb::checkpoint::Checkpoint::new(&self.db).map_err(|e| fail("checkpoint", &e))?;
        // Log size 0: flush every memtable first.
        cp.create_checkpoint(target.join("db")).map_err(|e| fail("checkpoint", &e))?;
        std::fs::File::open(target.join(manifest::FILE_NAME))
            .and_then(|f| f.sync_all())
            .and_then(|_| std::fs::File::open(target)?.sync_all())
            .map_err(|e| fail("can't sync", &e))
    }

    /// The data directory (`dir`), which holds the manifest, `db/` and the checkpoint.
    pub fn data_dir(&self) -> &Path {
        self.path.parent().unwrap_or(&self.path)
    }

    /// Where the newest checkpoint is kept.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.data_dir().join(CHECKPOINT_DIR)
    }

    /// Makes a checkpoint and puts it at `checkpoint_path()` in place of the previous one.
    fn replace_checkpoint(&self) -> Result<(), SaveError> {
        let dest = self.checkpoint_path();
        let tmp = self.data_dir().join(format!("{CHECKPOINT_DIR}{TMP_SUFFIX}"));
        let old = self.data_dir().join(format!("{CHECKPOINT_DIR}{OLD_SUFFIX}"));
        let fail = |what: &str, p: &Path, e: std::io::Error| SaveError::Failed(format!("{what} {}: {e}", p.display()));
        // Something that is not a directory where the checkpoint goes is not ours to move away.
        if let Ok(m) = std::fs::symlink_metadata(&dest) {
            if !m.is_dir() {
                return Err(SaveError::Failed(format!("{} exists and is not a directory", dest.display())));
            }
        }
        for leftover in [&tmp, &old] {
            if std::fs::symlink_metadata(leftover).is_ok() {
                std::fs::remove_dir_all(leftover).map_err(|e| fail("can't remove the leftover", leftover, e))?;
            }
        }
        if let Err(e) = self.checkpoint(&tmp) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let had_old = dest.exists();
        if had_old {
            std::fs::rename(&dest, &old).map_err(|e| fail("can't move the previous checkpoint", &dest, e))?;
        }
        std::fs::rename(&tmp, &dest).map_err(|e| fail("can't move the new checkpoint to", &dest, e))?;
        std::fs::File::open(self.data_dir()).and_then(|f| f.sync_all()).map_err(|e| fail("can't sync", &dest, e))?;
        if had_old {
            if let Err(e) = std::fs::remove_dir_all(&old) {
                tracing::warn!(error = %e, path = %old.display(), "can't remove the previous checkpoint");
            }
        }
        Ok(())
    }

    fn now_unix(&self) -> u64 {
        self.clock.now_ms() / 1000
    }

    /// SAVE: a checkpoint now, on this thread. A failure leaves `rdb_last_bgsave_status` alone
    /// (as Redis's SAVE).
    pub fn save(&self) -> Result<(), SaveError> {
        let s = &self.saves;
        s.claim(SAVING)?;
        s.started.fetch_add(1, Ordering::Relaxed);
        let before = s.changes.load(Ordering::Relaxed);
        let r = self.replace_checkpoint();
        match &r {
            Ok(()) => {
                s.succeeded(before, self.now_unix());
                s.last_bgsave_failed.store(false, Ordering::Relaxed);
                tracing::info!(path = %self.checkpoint_path().display(), "DB saved on disk");
            }
            Err(e) => tracing::warn!(error = %e, "SAVE failed"),
        }
        s.release();
        r
    }

    /// BGSAVE: starts a checkpoint on a background thread; its outcome goes to INFO
    /// persistence (`rdb_last_bgsave_status`) and, on success, LASTSAVE.
    pub fn bgsave(self: &Arc<Self>) -> Result<(), SaveError> {
        let s = &self.saves;
        if self.is_stopped() {
            return Err(SaveError::Failed("the server is shutting down".into()));
        }
        s.claim(BG_SAVING)?;
        s.started.fetch_add(1, Ordering::Relaxed);
        let now_ms = self.clock.now_ms();
        s.bg_started_ms.store(now_ms, Ordering::Relaxed);
        s.last_bgsave_try.store(now_ms / 1000, Ordering::Relaxed);
        let before = s.changes.load(Ordering::Relaxed);
        let storage = Arc::clone(self);
        let spawned = std::thread::Builder::new().name("strata-bgsave".into()).spawn(move || {
            let s = &storage.saves;
            let r = storage.replace_checkpoint();
            let now_ms = storage.clock.now_ms();
            let secs = now_ms.saturating_sub(s.bg_started_ms.load(Ordering::Relaxed)) / 1000;
            s.last_bgsave_secs.store(secs as i64, Ordering::Relaxed);
            match r {
                Ok(()) => {
                    s.succeeded(before, now_ms / 1000);
                    s.last_bgsave_failed.store(false, Ordering::Relaxed);
                    tracing::info!(path = %storage.checkpoint_path().display(), "Background saving terminated with success");
                }
                Err(e) => {
                    s.last_bgsave_failed.store(true, Ordering::Relaxed);
                    tracing::warn!(error = %e, "Background saving error");
                }
            }
            s.release();
        });
        if let Err(e) = spawned {
            s.release();
            return Err(SaveError::Failed(format!("can't start the background save thread: {e}")));
        }
        tracing::info!("Background saving started");
        Ok(())
    }

    /// Starts a background save when a `save` point is reached (`<seconds> <changes>`: at
    /// least that many changes and that many seconds since the last save), as Redis's cron.
    /// Called once a second by the health watcher.
    pub(super) fn auto_save(self: &Arc<Self>) {
        let s = &self.saves;
        if s.running() {
            return;
        }
        let changes = s.changes.load(Ordering::Relaxed);
        let now = self.now_unix();
        let since_save = now.saturating_sub(s.last_save.load(Ordering::Relaxed));
        let may_try = !s.last_bgsave_failed.load(Ordering::Relaxed)
            || now.saturating_sub(s.last_bgsave_try.load(Ordering::Relaxed)) > RETRY_DELAY_SECS;
        let due = s.points.lock().iter().any(|&(secs, min)| changes >= min && since_save > secs);
        if due && may_try {
            tracing::info!(changes, seconds = since_save, "save point reached: saving");
            let _ = self.bgsave();
        }
    }

    /// The save figures INFO persistence reports.
    pub fn save_status(&self) -> SaveStatus {
        let s = &self.saves;
        let in_progress = s.state.load(Ordering::Acquire) == BG_SAVING;
        SaveStatus {
            changes_since_last_save: s.changes.load(Ordering::Relaxed),
            bgsave_in_progress: in_progress,
            last_save_time: s.last_save.load(Ordering::Relaxed),
            last_bgsave_ok: !s.last_bgsave_failed.load(Ordering::Relaxed),
            last_bgsave_time_sec: s.last_bgsave_secs.load(Ordering::Relaxed),
            current_bgsave_time_sec: if in_progress {
                (self.clock.now_ms().saturating_sub(s.bg_started_ms.load(Ordering::Relaxed)) / 1000) as i64
            } else {
                -1
            },
            saves: s.started.load(Ordering::Relaxed),
        }
    }
}
