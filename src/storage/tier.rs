//! Which read tier the current thread may use (DESIGN.md §4: disk reads never stall the network
//! loop for other clients).
//!
//! A command first runs on the network thread with reads limited to the memtables and the block
//! cache (`ReadTier::BlockCache`) and writes that must not stall (`no_slowdown`). If RocksDB
//! would have to touch the disk, the read fails with `Incomplete`, which surfaces as
//! `StoreError::WouldBlock`; the server then runs the command again on a blocking thread with the
//! full tier. Commands buffer their writes in one `WriteBatch` committed last, so a command that
//! gave up has written nothing.

use rocksdb::{ReadOptions, ReadTier, WriteOptions};
use std::cell::Cell;

thread_local! {
    static CACHE_ONLY: Cell<bool> = const { Cell::new(false) };
    static READ_ALL: ReadOptions = ReadOptions::default();
    static READ_CACHED: ReadOptions = {
        let mut ro = ReadOptions::default();
        ro.set_read_tier(ReadTier::BlockCache);
        ro
    };
    static WRITE_ALL: WriteOptions = WriteOptions::default();
    static WRITE_NO_STALL: WriteOptions = {
        let mut wo = WriteOptions::default();
        wo.set_no_slowdown(true);
        wo
    };
}

/// Runs `f` with reads limited to memory on this thread.
pub fn cache_only<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CACHE_ONLY.with(|c| c.set(false));
        }
    }
    CACHE_ONLY.with(|c| c.set(true));
    let _reset = Reset;
    f()
}

/// True while running under `cache_only`.
pub fn is_cache_only() -> bool {
    CACHE_ONLY.with(|c| c.get())
}

/// Calls `f` with the read options of the current tier.
pub(crate) fn with_read_options<R>(f: impl FnOnce(&ReadOptions) -> R) -> R {
    if is_cache_only() {
        READ_CACHED.with(f)
    } else {
        READ_ALL.with(f)
    }
}

/// Fresh read options for an iterator in the current tier (iterators need their own bounds).
pub(crate) fn iter_read_options() -> ReadOptions {
    let mut ro = ReadOptions::default();
    if is_cache_only() {
        ro.set_read_tier(ReadTier::BlockCache);
    }
    ro
}

/// Calls `f` with the write options of the current tier.
pub(crate) fn with_write_options<R>(f: impl FnOnce(&WriteOptions) -> R) -> R {
    if is_cache_only() {
        WRITE_NO_STALL.with(f)
    } else {
        WRITE_ALL.with(f)
    }
}

thread_local! {
    static SYNC_SEQ: Cell<u64> = const { Cell::new(0) };
}

/// Records that this thread committed write number `seq`, which must reach the OS (or, under
/// `appendfsync always`, the disk) before its reply is sent; see `Storage::make_durable`.
pub(crate) fn note_write_seq(seq: u64) {
    SYNC_SEQ.with(|c| c.set(c.get().max(seq)));
}

/// Takes the highest write number noted on this thread since the last call (0 = none).
pub fn take_write_seq() -> u64 {
    SYNC_SEQ.with(|c| c.replace(0))
}
