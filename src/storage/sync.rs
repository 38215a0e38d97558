//! Group WAL sync for `appendfsync always` and the once-a-second sync for `everysec`.
//!
//! Writers apply their batch (visible at once, in the OS page cache via RocksDB's WAL write),
//! take a sequence number, and under `always` wait until the sync thread reports that number
//! synced before their reply is sent. One `fsync` covers every writer waiting at that moment.

use super::{FsyncPolicy, Storage};
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub(crate) struct SyncGroup {
    written: AtomicU64,
    /// Every write up to this number is in the OS (RocksDB's WAL buffer was flushed after it).
    flushed: AtomicU64,
    pending: Mutex<bool>,
    wake: Condvar,
    synced: watch::Sender<u64>,
    /// Writing or syncing the WAL failed (a full disk, an I/O error): what was written since
    /// can't be made durable, so no reply waiting for it may say it was.
    broken: AtomicBool,
}

impl Default for SyncGroup {
    fn default() -> Self {
        SyncGroup {
            written: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            pending: Mutex::new(false),
            wake: Condvar::new(),
            synced: watch::Sender::new(0),
            broken: AtomicBool::new(false),
        }
    }
}

impl SyncGroup {
    /// Records one applied write; returns its sequence number.
    pub(crate) fn note_written(&self) -> u64 {
        self.written.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Whether a WAL write or sync has failed (replies waiting for durability must not go out).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    /// Notes a failed WAL write or sync and wakes everyone waiting for a sync.
    pub(crate) fn mark_broken(&self) {
        if !self.broken.swap(true, Ordering::AcqRel) {
            tracing::error!(
                "WAL write failed: replies that wait for it get errors and writes are refused; \
                 free disk space and restart the server (no acknowledged write is lost)"
            );
        }
        self.synced.send_modify(|_| {});
    }

    /// Writes RocksDB's WAL buffer to the OS unless write `seq` is there already.
    pub(crate) fn flush_upto(&self, db: &rocksdb::DB, seq: u64) -> Result<(), rocksdb::Error> {
        if self.flushed.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let target = self.written.load(Ordering::Acquire);
        if let Err(e) = db.flush_wal(false) {
            self.mark_broken();
            return Err(e);
        }
        self.flushed.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }

    pub(crate) fn request(&self) {
        let mut p = self.pending.lock();
        *p = true;
        self.wake.notify_one();
    }

    pub(crate) fn wake_all(&self) {
        let mut p = self.pending.lock();
        *p = true;
        self.wake.notify_all();
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.synced.subscribe()
    }
}

pub(crate) fn spawn(storage: Weak<Storage>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("strata-wal-sync".into())
        .spawn(move || run(storage))
        .unwrap_or_else(|e| panic!("can't start the WAL sync thread: {e}"))
}

fn run(weak: Weak<Storage>) {
    let mut last_everysec = Instant::now();
    let mut last_average = Instant::now();
    loop {
        let Some(storage) = weak.upgrade() else { return };
        if storage.is_stopped() {
            return;
        }
        if last_average.elapsed() >= Duration::from_secs(1) {
            storage.persist_average();
            last_average = Instant::now();
        }
        let group = &storage.sync;
        {
            let mut pending = group.pending.lock();
            if !*pending {
                group.wake.wait_for(&mut pending, Duration::from_millis(100));
            }
            *pending = false;
        }
        if storage.is_stopped() {
            return;
        }
        let target = group.written.load(Ordering::Acquire);
        let synced = *group.synced.borrow();
        let second = last_everysec.elapsed() >= Duration::from_secs(1);
        let policy = storage.fsync_policy();
        let due = match policy {
            FsyncPolicy::Always => target > synced,
            FsyncPolicy::Everysec | FsyncPolicy::No => target > synced && second,
        };
        if !due {
            continue;
        }
        // Under `no` the WAL buffer still reaches the OS once a second; the OS syncs it.
        match storage.db().flush_wal(policy != FsyncPolicy::No) {
            Ok(()) => {
                group.flushed.fetch_max(target, Ordering::AcqRel);
                group.synced.send_replace(target);
                last_everysec = Instant::now();
            }
            Err(e) => {
                if !group.is_broken() {
                    tracing::error!(error = %e, "WAL sync failed");
                }
                group.mark_broken();
                drop(storage);
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
