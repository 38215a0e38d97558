//! Pipelines sharing one write (DESIGN.md §4): consecutive key commands from one socket read
//! execute against their keys' locks, all taken at once in stripe order, and commit their
//! writes as ONE RocksDB write (one WAL record, one write-group entry) instead of one each.
//!
//! While a pipeline write is open on a thread, `Batch::commit` hands its operations to it, and
//! reads of metadata records see the pipeline's own earlier writes (an overlay), so the commands
//! behave exactly as if each had committed. Other clients never see a half-applied pipeline: the
//! keys stay locked until the shared write is done, and a client's replies are only sent after
//! it. A command that needs a lock the pipeline does not hold, or the disk, gets
//! `StoreError::WouldBlock`; the caller then commits what ran so far and runs the rest one by one.

use super::batch::{add_delta, write_ops, Delta, Op, OpKind};
use super::locks::KeyGuard;
use super::{cf, DbMap, Storage, StoreError};
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::HashMap;

struct Active {
    ops: Vec<Op>,
    deltas: Vec<Delta>,
    /// Metadata records written so far: meta key → record (None = deleted).
    overlay: HashMap<Vec<u8>, Option<Bytes>>,
    /// The lock stripes held, sorted.
    held: Vec<usize>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// Whether a pipeline write is open on this thread.
pub(crate) fn is_open() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// Takes a batch's operations into the open pipeline write (see `is_open`); the overlay shares
/// each metadata record's bytes with its operation.
pub(crate) fn absorb(ops: Vec<Op>, deltas: &[Delta]) {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        let Some(act) = a.as_mut() else { return };
        for op in ops {
            if op.cf == cf::METADATA {
                match op.kind {
                    OpKind::Put => {
                        act.overlay.insert(op.key.clone(), Some(op.value.clone()));
                    }
                    OpKind::Delete => {
                        act.overlay.insert(op.key.clone(), None);
                    }
                    OpKind::DeleteRange => {}
                }
            }
            act.ops.push(op);
        }
        for &d in deltas {
            add_delta(&mut act.deltas, d);
        }
    })
}

/// The open pipeline's own version of a metadata record: Some(record or None if deleted) when
/// the pipeline wrote it, None when it did not (or no pipeline is open).
pub(crate) fn overlay_get(meta_key: &[u8]) -> Option<Option<Bytes>> {
    ACTIVE.with(|a| a.borrow().as_ref().and_then(|act| act.overlay.get(meta_key).cloned()))
}

/// Under an open pipeline: whether it holds all of `stripes` (None when no pipeline is open).
pub(crate) fn holds(stripes: &[usize]) -> Option<bool> {
    ACTIVE.with(|a| a.borrow().as_ref().map(|act| stripes.iter().all(|s| act.held.binary_search(s).is_ok())))
}

/// An open pipeline write: its locks, the database map, and (thread-local) its operations.
pub struct PipelineWrite<'s> {
    store: &'s Storage,
    _locks: KeyGuard<'s>,
    _dbs: DbMap<'s>,
}

impl Storage {
    /// Opens a pipeline write over `keys` (physical db, key), holding `dbs` so that SWAPDB and
    /// FLUSH* wait for it. Must be committed (or dropped) on the thread that opened it.
    pub fn begin_pipeline<'s, 'k>(
        &'s self,
        dbs: DbMap<'s>,
        keys: impl IntoIterator<Item = (u8, &'k [u8])>,
    ) -> PipelineWrite<'s> {
        let mut held: Vec<usize> = keys.into_iter().map(|(db, k)| self.locks.stripe(db, k)).collect();
        // Sorted and deduplicated by the lock, as `holds` needs for its binary search.
        let locks = self.locks.lock_stripes(&mut held);
        ACTIVE.with(|a| {
            *a.borrow_mut() = Some(Active { ops: Vec::new(), deltas: Vec::new(), overlay: HashMap::new(), held });
        });
        PipelineWrite { store: self, _locks: locks, _dbs: dbs }
    }
}

impl PipelineWrite<'_> {
    /// Writes everything the pipeline's commands wrote, as one RocksDB write, then releases the
    /// locks. On error nothing of it was written.
    pub fn commit(self) -> Result<(), StoreError> {
        let Some(act) = ACTIVE.with(|a| a.borrow_mut().take()) else { return Ok(()) };
        if act.ops.is_empty() {
            return Ok(());
        }
        write_ops(self.store, &act.ops, &act.deltas, &[])
    }
}

impl Drop for PipelineWrite<'_> {
    fn drop(&mut self) {
        // Only reached without `commit` if a command panicked: its replies are never sent.
        if ACTIVE.with(|a| a.borrow_mut().take()).is_some() {
            tracing::error!("pipeline write dropped without commit; its writes are discarded");
        }
    }
}
