//! Prompt reclamation of big deleted collections (DESIGN.md §3).
//!
//! Deleting or overwriting a collection writes only its metadata; its subkeys stay on disk
//! until compaction meets them, when the subkey filters drop them. For a big collection that
//! could be a long time, and until then its dead subkeys fill the block cache and the levels
//! that reads of live keys walk. So a batch that drops a big collection asks for its subkey
//! range to be compacted now, on this background thread: the filters then remove it.

use super::{cf, encoding, Storage};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Weak;

/// Requests waiting beyond this are dropped: compaction reclaims them later anyway.
const QUEUE: usize = 1024;

pub struct Reclaimer {
    tx: SyncSender<Vec<u8>>,
}

impl Reclaimer {
    pub(crate) fn new() -> (Reclaimer, Receiver<Vec<u8>>) {
        let (tx, rx) = sync_channel(QUEUE);
        (Reclaimer { tx }, rx)
    }

    /// Asks for the subkeys under `prefix` to be compacted soon.
    pub(crate) fn request(&self, prefix: Vec<u8>) {
        match self.tx.try_send(prefix) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => tracing::debug!("reclaim queue full; compaction will catch up"),
        }
    }
}

pub(crate) fn spawn(storage: Weak<Storage>, rx: Receiver<Vec<u8>>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("strata-reclaim".into())
        .spawn(move || loop {
            let prefix = match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(p) => p,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => match storage.upgrade() {
                    Some(s) if !s.is_stopped() => {
                        s.flush_delete_heavy_memtables();
                        continue;
                    }
                    _ => return,
                },
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let Some(s) = storage.upgrade() else { return };
            if s.is_stopped() {
                return;
            }
            s.compact_prefix(&prefix);
        })
        .unwrap_or_else(|e| panic!("can't start the reclaim thread: {e}"))
}

/// A subkey family's active memtable is flushed once it holds this many deletes (checked every
/// 200 ms): a range read then steps over at most about this many hidden entries.
const DELETE_HEAVY_MEMTABLE: u64 = 10_000;

impl Storage {
    /// Flushes subkey memtables dominated by deletes (the pops and score changes of a churning
    /// collection): range reads would step over every one of them, while after the flush a
    /// deleted record and its SingleDelete are gone (`Batch::delete_sub`) and other tombstones
    /// go with deletion-triggered compaction. RocksDB also flushes when a scan meets too many
    /// (`set_dynamic_options`), but only at the next write; this covers read-mostly phases.
    pub(crate) fn flush_delete_heavy_memtables(&self) {
        for name in cf::SUBKEY_FAMILIES {
            let deletes = self.cf_property(name, "rocksdb.num-deletes-active-mem-table").unwrap_or(0);
            if deletes >= DELETE_HEAVY_MEMTABLE {
                if let Err(e) = self.db().flush_cf(self.cf(name)) {
                    tracing::warn!(error = %e, cf = name, "flush of a delete-heavy memtable failed");
                }
            }
        }
    }

    /// Compacts the subkey families over `prefix` (the subkeys of one version of a key).
    pub fn compact_prefix(&self, prefix: &[u8]) {
        let end = encoding::prefix_end(prefix);
        for name in cf::SUBKEY_FAMILIES {
            self.db().compact_range_cf(self.cf(name), Some(prefix), end.as_deref());
        }
        self.stats.reclaimed_ranges.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
