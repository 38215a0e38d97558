//! The storage layer: the only code that touches RocksDB (DESIGN.md §2–§5).
//!
//! Owns the column families, the key/value encodings (`encoding`), the striped key locks
//! (`locks`), write batches with their key counters and expire-index upkeep (`batch`), group
//! WAL sync (`sync`), active expiry (`expire`), the compaction filters (`filter`) and the typed
//! stores (`types`). It knows nothing of RESP, clients or commands.

pub mod access;
mod accounting;
pub mod backup;
pub mod batch;
pub mod cache;
pub mod cf;
pub mod encoding;
#[cfg(test)]
mod encoding_props;
pub mod events;
pub mod evict;
pub mod expire;
pub mod filter;
mod functions;
pub mod health;
pub mod keyspace;
pub mod locks;
pub mod lookups;
pub mod manifest;
mod options;
pub mod reclaim;
pub mod subkeys;
mod sync;
pub mod tier;
pub mod types;
pub mod waiters;
pub mod watch;

use crate::clock::Clock;
use bytes::Bytes;
use encoding::{CounterKind, KeyType, MetaHeader};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use rocksdb::{ColumnFamily, DB};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

pub use batch::Batch;
pub use options::{Compression, MemoryUsage, StorageOptions};

/// The largest number of databases the key encoding allows (one byte).
pub const MAX_DATABASES: usize = 256;
pub(crate) const DB_MAP_KEY: &[u8] = b"#dbmap";

/// A storage failure, as the command layer needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Reading would need disk I/O (or writing would stall) on a thread that must not block.
    #[error("operation would block")]
    WouldBlock,
    /// The key holds a value of another type.
    #[error("wrong type")]
    WrongType,
    /// A record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// RocksDB reported an error.
    #[error("rocksdb: {0}")]
    Rocks(String),
    /// Writing to the disk failed (a full disk, an I/O error): the detail, as RocksDB words it.
    #[error("disk write failed: {0}")]
    DiskWrite(String),
}

impl From<rocksdb::Error> for StoreError {
    fn from(e: rocksdb::Error) -> StoreError {
        if e.kind() == rocksdb::ErrorKind::Incomplete {
            StoreError::WouldBlock
        } else if e.kind() == rocksdb::ErrorKind::IOError {
            tracing::error!(error = %e, "rocksdb I/O error");
            let text = e.into_string();
            // "IO error: No space left on device: While appending to file: ...": the cause.
            let detail = text.strip_prefix("IO error: ").unwrap_or(&text);
            let cause = detail.split(": ").next().unwrap_or(detail);
            // After a failed append, RocksDB's WAL writer answers "Seen error. Skip writing
            // buffer." to every write: report the failure that broke it instead.
            static LAST_CAUSE: parking_lot::Mutex<String> = parking_lot::Mutex::new(String::new());
            let mut last = LAST_CAUSE.lock();
            if cause.starts_with("Seen error") && !last.is_empty() {
                StoreError::DiskWrite(last.clone())
            } else {
                cause.clone_into(&mut last);
                StoreError::DiskWrite(cause.to_owned())
            }
        } else {
            tracing::error!(error = %e, "rocksdb error");
            StoreError::Rocks(e.into_string())
        }
    }
}

/// Errors that stop the data directory from opening.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("can't use data directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Manifest(String),
    #[error("can't open RocksDB in {path}: {message}")]
    Rocks { path: PathBuf, message: String },
}

/// `appendfsync` as the storage layer applies it.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always = 0,
    Everysec = 1,
    No = 2,
}

/// A decoded metadata record (type, expiry) with its raw bytes.
#[derive(Clone, Debug)]
pub struct Record {
    pub header: MetaHeader,
    pub raw: Bytes,
}

impl Record {
    /// The body after the header: an inline string's value. NOT the value of a fragmented
    /// string (`encoding::fragmented`): read string values with `Storage::string_value`.
    pub fn body(&self) -> Bytes {
        self.raw.slice(encoding::META_HEADER_LEN..)
    }

    /// True unless the record has expired at `now_ms` (exact to the millisecond).
    pub fn alive(&self, now_ms: u64) -> bool {
        self.header.expire_at_ms == 0 || self.header.expire_at_ms > now_ms
    }

    pub fn key_type(&self) -> KeyType {
        self.header.key_type
    }
}

/// Counters the storage layer keeps for INFO.
#[derive(Debug, Default)]
pub struct StorageStats {
    pub expired_keys: AtomicU64,
    pub expired_stale_perc: AtomicU64,
    /// Subkey ranges of big deleted collections compacted (`reclaim`).
    pub reclaimed_ranges: AtomicU64,
}

/// The open database and everything shared around it.
pub struct Storage {
    db: DB,
    path: PathBuf,
    pub clock: Arc<Clock>,
    pub locks: locks::LockTable,
    /// Decoded records of recently used keys (`cache`).
    pub cache: cache::HotCache,
    databases: usize,
    db_map: RwLock<Vec<u8>>,
    /// Per physical database, one per `CounterKind::ALL`: keys and keys with an expiry
    /// (exact), then the data-set accounting (`accounting`).
    counters: Vec<[AtomicI64; batch::COUNTERS]>,
    /// Last access of each key, for LRU/LFU eviction and OBJECT IDLETIME/FREQ.
    pub access: access::AccessTable,
    /// `maxmemory` and its policy, and the eviction pool.
    pub evict: evict::Evictor,
    fsync: AtomicU8,
    sync: sync::SyncGroup,
    pub stats: StorageStats,
    version_counter: AtomicU64,
    pub active_expire_enabled: AtomicBool,
    /// Active-expiry cycles per second (`hz`) and effort (1..=10).
    pub hz: AtomicU64,
    pub expire_effort: AtomicU64,
    stopped: AtomicBool,
    threads: parking_lot::Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Clients blocked on list and sorted-set keys.
    pub waiters: waiters::Waiters,
    /// Keys clients WATCH.
    pub watches: watch::Watches,
    reclaim: reclaim::Reclaimer,
    /// Compact-encoding limits (OBJECT ENCODING names).
    pub limits: types::EncodingLimits,
    /// Record key events for keyspace notifications (`events`).
    key_events_on: AtomicBool,
    /// The average-size counters changed since they were last written (`accounting`).
    average_dirty: AtomicBool,
    expired_hook: std::sync::OnceLock<events::ExpiredHook>,
    latency_hook: std::sync::OnceLock<events::LatencyHook>,
    /// The block cache and the memtable budget, for `memory_usage`.
    memory: options::MemoryPools,
    /// RocksDB's statistics (tickers), shared with the options the database was opened with.
    statistics: rocksdb::Options,
    /// What the health watcher remembers (`health`).
    health: health::Watch,
    /// SAVE/BGSAVE state and the changes since the last save (`backup`).
    pub saves: backup::Saves,
}

/// The logical→physical database map, held for the duration of one command so that SWAPDB,
/// FLUSHDB and FLUSHALL (which take it exclusively) never interleave with a command's writes.
pub struct DbMap<'a> {
    map: RwLockReadGuard<'a, Vec<u8>>,
}

impl DbMap<'_> {
    /// The physical id of logical database `db` (which the caller has range-checked).
    pub fn physical(&self, db: usize) -> u8 {
        self.map.get(db).copied().unwrap_or(0)
    }
}

/// The database map held exclusively (SWAPDB, FLUSHDB, FLUSHALL).
pub struct DbMapMut<'a> {
    map: RwLockWriteGuard<'a, Vec<u8>>,
}

impl DbMapMut<'_> {
    pub fn physical(&self, db: usize) -> u8 {
        self.map.get(db).copied().unwrap_or(0)
    }
}

impl Storage {
    /// Opens (or creates) the data directory. Checks the manifest first: a directory written by a
    /// newer format, or one that holds a RocksDB database that is not Strata's, is refused.
    pub fn open(opts: &StorageOptions, clock: Arc<Clock>) -> Result<Arc<Storage>, OpenError> {
        let dir = opts.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| OpenError::Io { path: dir.clone(), source })?;
        let db_path = dir.join("db");
        manifest::check_or_create(&dir, &db_path, opts.databases)?;
        let filter_target = filter::Target::default();
        let (db_opts, cfs, memory) = options::build(opts, clock.clone(), &filter_target);
        let db = DB::open_cf_descriptors(&db_opts, &db_path, cfs)
            .map_err(|e| OpenError::Rocks { path: db_path.clone(), message: e.into_string() })?;
        let (reclaim, reclaim_rx) = reclaim::Reclaimer::new();
        let clock_now_unix = clock.now_ms() / 1000;
        let storage = Storage {
            access: access::AccessTable::new(access::SLOTS, clock.clone()),
            db,
            path: db_path,
            clock,
            locks: locks::LockTable::default(),
            cache: cache::HotCache::new(opts.hot_cache_size),
            databases: opts.databases.clamp(1, MAX_DATABASES),
            db_map: RwLock::new(Vec::new()),
            counters: (0..MAX_DATABASES).map(|_| std::array::from_fn(|_| AtomicI64::new(0))).collect(),
            evict: evict::Evictor::default(),
            fsync: AtomicU8::new(opts.appendfsync as u8),
            sync: sync::SyncGroup::default(),
            stats: StorageStats::default(),
            version_counter: AtomicU64::new(0),
            active_expire_enabled: AtomicBool::new(true),
            hz: AtomicU64::new(u64::from(opts.hz.max(1))),
            expire_effort: AtomicU64::new(u64::from(opts.active_expire_effort.clamp(1, 10))),
            stopped: AtomicBool::new(false),
            threads: parking_lot::Mutex::new(Vec::new()),
            waiters: waiters::Waiters::default(),
            watches: watch::Watches::default(),
            reclaim,
            limits: types::EncodingLimits::default(),
            key_events_on: AtomicBool::new(false),
            average_dirty: AtomicBool::new(false),
            expired_hook: std::sync::OnceLock::new(),
            latency_hook: std::sync::OnceLock::new(),
            memory,
            statistics: db_opts,
            health: health::Watch::new(health::disk_floor(opts.memtable_budget, opts.write_buffer_size)),
            saves: backup::Saves::new(clock_now_unix),
        };
        storage.load_state().map_err(|e| OpenError::Rocks { path: storage.path.clone(), message: e.to_string() })?;
        storage.set_dynamic_options();
        let storage = Arc::new(storage);
        filter_target.bind(&storage);
        let mut threads = storage.threads.lock();
        threads.push(reclaim::spawn(Arc::downgrade(&storage), reclaim_rx));
        threads.push(sync::spawn(Arc::downgrade(&storage)));
        threads.push(expire::spawn(Arc::downgrade(&storage)));
        threads.push(evict::spawn(Arc::downgrade(&storage)));
        storage.measure_disk();
        threads.push(health::spawn(Arc::downgrade(&storage)));
        drop(threads);
        Ok(storage)
    }

    fn load_state(&self) -> Result<(), StoreError> {
        let cf = self.cf(cf::DEFAULT);
        let mut map: Vec<u8> = (0..self.databases).map(|i| i as u8).collect();
        if let Some(stored) = self.db.get_cf(cf, DB_MAP_KEY)? {
            for (i, p) in stored.iter().enumerate().take(map.len()) {
                map[i] = *p;
            }
        }
        *self.db_map.write() = map;
        for db in 0..MAX_DATABASES {
            for (slot, kind) in CounterKind::ALL.into_iter().enumerate() {
                let key = encoding::counter_key(kind, db as u8);
                if let Some(v) = self.db.get_cf(cf, key)? {
                    self.counters[db][slot].store(decode_counter(&v), Ordering::Relaxed);
                }
            }
        }
        if self.db.get_cf(cf, encoding::ACCOUNTING_KEY)?.is_none() {
            self.compute_accounting()?;
        }
        Ok(())
    }

    /// The options RocksDB takes only through SetOptions, one call per family (each call
    /// rewrites the OPTIONS file).
    ///
    /// - Subkey families: a memtable is flushed when an iterator has to step over many hidden
    ///   entries in it (deleted or overwritten members of a churning collection): after the
    ///   flush those entries are gone or compacted away (the deletion-triggered collector), so
    ///   range reads of a hot sorted set or list stay proportional to what they return.
    /// - Point-read families: the blocks (and, in `metadata`, the blob values) that flushes and
    ///   compactions write go into the block cache, and the blocks of the files they replace
    ///   leave it. Without it a key read soon after it was written (a SET reads the record it
    ///   replaces) missed the cache whenever its file was new, and moved to the blocking pool:
    ///   9–18% of the SETs and GETs of 1 KB values over 100k keys did, against 0–3% with it.
    ///   Compacted blocks enter at the bottom priority (evicted first), so a data set larger than
    ///   the cache keeps its hot blocks.
    fn set_dynamic_options(&self) {
        for name in cf::ALL {
            let mut opts = Vec::new();
            if cf::SUBKEY_FAMILIES.contains(&name) {
                opts.extend([
                    ("memtable_op_scan_flush_trigger", "2000"),
                    ("memtable_avg_op_scan_flush_trigger", "200"),
                ]);
            }
            if matches!(name, cf::METADATA | cf::SUBKEYS | cf::STREAM | cf::DEFAULT) {
                opts.extend([
                    ("block_based_table_factory", "{prepopulate_block_cache=kFlushAndCompaction;}"),
                    ("uncache_aggressiveness", "300"),
                ]);
            }
            if name == cf::METADATA {
                opts.push(("prepopulate_blob_cache", "kFlushOnly"));
            }
            if opts.is_empty() {
                continue;
            }
            if let Err(e) = self.db.set_options_cf(self.cf(name), &opts) {
                tracing::warn!(error = %e, cf = name, "can't set the options RocksDB takes only at run time");
            }
        }
    }

    /// Stops the background threads, syncs the WAL and waits for RocksDB's background work, so
    /// the next open replays nothing that was acknowledged (SHUTDOWN, SIGTERM).
    pub fn close(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // A background save finishes first (a checkpoint takes moments; none starts now).
        while self.saves.running() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        self.sync.wake_all();
        let threads: Vec<_> = self.threads.lock().drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
        self.persist_average();
        if let Err(e) = self.db.flush_wal(true) {
            tracing::error!(error = %e, "WAL sync at shutdown failed");
        }
        for name in cf::ALL {
            if let Err(e) = self.db.flush_cf(self.cf(name)) {
                tracing::warn!(error = %e, cf = name, "memtable flush at shutdown failed");
            }
        }
        self.db.cancel_all_background_work(true);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub(crate) fn db(&self) -> &DB {
        &self.db
    }

    pub(crate) fn cf(&self, name: &str) -> &ColumnFamily {
        // All families are created at open; a missing one is a bug caught by every test.
        #[allow(clippy::expect_used)]
        self.db.cf_handle(name).expect("column family created at open")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    /// The database map for one command (shared). Recursive, because a pipeline holds it
    /// around commands that take it again.
    pub fn dbs(&self) -> DbMap<'_> {
        DbMap { map: self.db_map.read_recursive() }
    }

    /// Locks one key for a read-modify-write. Inside a pipeline write the pipeline already
    /// holds its keys; any other key gives `WouldBlock` (the pipeline then commits first).
    pub(crate) fn lock(&self, pdb: u8, key: &[u8]) -> Result<locks::KeyGuard<'_>, StoreError> {
        let stripe = self.locks.stripe(pdb, key);
        match batch::pipeline_holds(&self.locks, &[stripe]) {
            None => self.locks.acquire_one(stripe).ok_or(StoreError::WouldBlock),
            Some(true) => Ok(self.locks.none()),
            Some(false) => Err(StoreError::WouldBlock),
        }
    }

    /// Locks several keys, in stripe order (see `lock`).
    pub(crate) fn lock_many<'k>(
        &self,
        keys: impl IntoIterator<Item = (u8, &'k [u8])>,
    ) -> Result<locks::KeyGuard<'_>, StoreError> {
        let mut stripes: Vec<usize> = keys.into_iter().map(|(db, k)| self.locks.stripe(db, k)).collect();
        match batch::pipeline_holds(&self.locks, &stripes) {
            None => self.locks.acquire(&mut stripes).ok_or(StoreError::WouldBlock),
            Some(true) => Ok(self.locks.none()),
            Some(false) => Err(StoreError::WouldBlock),
        }
    }

    /// The database map held exclusively.
    pub fn dbs_mut(&self) -> DbMapMut<'_> {
        DbMapMut { map: self.db_map.write() }
    }

    /// Exact number of keys in physical database `pdb` (including expired keys not yet
    /// reclaimed, as Redis counts them).
    pub fn key_count(&self, pdb: u8) -> i64 {
        (self.counters[pdb as usize][0].load(Ordering::Relaxed) + batch::pending_counts(pdb).0).max(0)
    }

    pub fn expires_count(&self, pdb: u8) -> i64 {
        (self.counters[pdb as usize][1].load(Ordering::Relaxed) + batch::pending_counts(pdb).1).max(0)
    }

    pub(crate) fn add_counters(&self, pdb: u8, deltas: &[i64; batch::COUNTERS]) {
        for (c, d) in self.counters[pdb as usize].iter().zip(deltas) {
            if *d != 0 {
                c.fetch_add(*d, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn reset_counters(&self, pdb: u8) {
        for c in &self.counters[pdb as usize] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// One committed counter of physical database `pdb`.
    pub(crate) fn counter(&self, pdb: u8, kind: CounterKind) -> i64 {
        let i = CounterKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.counters[pdb as usize][i].load(Ordering::Relaxed)
    }

    pub fn fsync_policy(&self) -> FsyncPolicy {
        match self.fsync.load(Ordering::Relaxed) {
            0 => FsyncPolicy::Always,
            1 => FsyncPolicy::Everysec,
            _ => FsyncPolicy::No,
        }
    }

    pub fn set_fsync_policy(&self, p: FsyncPolicy) {
        self.fsync.store(p as u8, Ordering::Relaxed);
        self.sync.wake_all();
    }

    /// A new collection version: unique and increasing (microseconds << 11 | counter).
    pub fn next_version(&self) -> u64 {
        let base = self.clock.now_us() << 11;
        let mut cur = self.version_counter.load(Ordering::Relaxed);
        loop {
            let next = if base > cur { base } else { cur + 1 };
            match self.version_counter.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Reads the metadata record of `key` in physical database `pdb`, expired or not.
    pub fn get_record(&self, pdb: u8, key: &[u8]) -> Result<Option<Record>, StoreError> {
        let mk = encoding::meta_key(pdb, key);
        self.get_record_raw(&mk)
    }

    pub(crate) fn get_record_raw(&self, meta_key: &[u8]) -> Result<Option<Record>, StoreError> {
        // An all-or-nothing write (EXEC, a script) must hold the lock of every key it reads, not
        // only of those it writes: its reads are then isolated too (noted here, taken on rerun).
        if batch::atomic_is_open() {
            if let Some((pdb, key)) = encoding::decode_meta_key(meta_key) {
                batch::pipeline_holds(&self.locks, &[self.locks.stripe(pdb, key)]);
            }
        }
        let raw = match batch::overlay_get(meta_key) {
            Some(mine) => mine,
            None => self.read_meta(meta_key)?,
        };
        if raw.is_some() {
            self.access.touch(meta_key);
        }
        match raw {
            None => Ok(None),
            Some(raw) => {
                let header =
                    encoding::decode_meta(&raw).map_err(|e| StoreError::Corrupt(format!("metadata record: {e:?}")))?;
                Ok(Some(Record { header, raw }))
            }
        }
    }

    /// The committed metadata record under `meta_key`: from the hot cache, or from RocksDB
    /// (then kept in the cache unless a write came meanwhile).
    fn read_meta(&self, meta_key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let ticket = match self.cache.get(cache::Kind::Meta, meta_key) {
            // A record the metadata filter may already have dropped is read from RocksDB,
            // which is then the truth.
            Ok(cache::Cached::Record(r))
                if r.as_ref().is_none_or(|v| !filter::long_expired(v, || self.clock.now_ms())) =>
            {
                return Ok(r)
            }
            Ok(_) => None,
            Err(ticket) => Some(ticket),
        };
        let cf = self.cf(cf::METADATA);
        let raw = tier::with_read_options(|ro| self.db.get_cf_opt(cf, meta_key, ro))?.map(Bytes::from);
        if let Some(ticket) = ticket {
            self.cache.fill(cache::Kind::Meta, meta_key, ticket, cache::Cached::Record(raw.clone()));
        }
        Ok(raw)
    }

    /// Reads the record of `key` if it exists and has not expired. An expired record found
    /// here is deleted at once (lazy expiry, as Redis's `expireIfNeeded`), so DBSIZE and INFO
    /// stop counting it. Callers that already hold the key's lock use `get_live` instead.
    pub fn get_alive(&self, pdb: u8, key: &[u8]) -> Result<Option<Record>, StoreError> {
        let now = self.clock.now_ms();
        match self.get_record(pdb, key)? {
            Some(r) if r.alive(now) => {
                lookups::found(true);
                Ok(Some(r))
            }
            Some(_) => {
                lookups::found(false);
                self.delete_expired(pdb, key)?;
                Ok(None)
            }
            None => {
                lookups::found(false);
                Ok(None)
            }
        }
    }

    /// Like `get_alive`, without deleting an expired record (for callers holding the key lock).
    pub fn get_live(&self, pdb: u8, key: &[u8]) -> Result<Option<Record>, StoreError> {
        let now = self.clock.now_ms();
        let r = self.get_record(pdb, key)?.filter(|r| r.alive(now));
        lookups::found(r.is_some());
        Ok(r)
    }

    /// Deletes `key` if it is (still) expired, counting it in `expired_keys`. Only if its lock
    /// is free (or held by this thread's pipeline): a reader may already hold it, or another
    /// key's on the same stripe, and locks are not re-entrant. A key left here is deleted by
    /// active expiry; readers see it as missing either way.
    fn delete_expired(&self, pdb: u8, key: &[u8]) -> Result<(), StoreError> {
        let stripe = self.locks.stripe(pdb, key);
        let _g = match batch::pipeline_holds(&self.locks, &[stripe]) {
            Some(true) => self.locks.none(),
            // A pipeline without this key's lock would commit the delete after the lock below
            // is released: leave the key to active expiry.
            Some(false) => return Ok(()),
            None => match self.locks.try_lock_stripe(stripe) {
                Some(g) => g,
                None => return Ok(()),
            },
        };
        let now = self.clock.now_ms();
        if let Some(rec) = self.get_record(pdb, key)?.filter(|r| !r.alive(now)) {
            let mut b = self.batch();
            b.delete_record(pdb, key, &rec);
            b.note_expired(pdb, key);
            b.commit()?;
            self.stats.expired_keys.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// A new write batch; see `Batch`.
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }

    /// Blocks until the WAL holds every write up to `seq` on stable storage (appendfsync always).
    pub fn synced_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.sync.subscribe()
    }

    pub(crate) fn note_written(&self) -> u64 {
        self.sync.note_written()
    }

    /// Makes write number `seq` (and all before it) survive a process crash before its reply is
    /// sent: the WAL is kept in RocksDB's buffer (`manual_wal_flush`) so that all the writes of a
    /// pipeline, and of other clients meanwhile, reach the OS with one `write`. Under
    /// `appendfsync always` returns the number to wait for in `synced_watch` (the group sync
    /// thread flushes and fsyncs); otherwise flushes here, unless another thread already has.
    ///
    /// `Err` when the WAL could not be written: the write is not durable, and its reply must
    /// not say it is (the caller closes the connection instead of replying).
    pub fn make_durable(&self, seq: u64) -> Result<Option<u64>, StoreError> {
        if seq == 0 {
            return Ok(None);
        }
        if self.sync.is_broken() {
            return Err(StoreError::DiskWrite("the write-ahead log can't be written".into()));
        }
        if self.fsync_policy() == FsyncPolicy::Always {
            self.sync.request();
            return Ok(Some(seq));
        }
        self.sync.flush_upto(&self.db, seq)?;
        Ok(None)
    }

    /// Whether writing the WAL has failed since the server started (see `make_durable`).
    pub fn wal_broken(&self) -> bool {
        self.sync.is_broken()
    }

    /// An integer property of a column family (e.g. `rocksdb.estimate-num-keys`).
    pub fn cf_property(&self, cf_name: &str, prop: &str) -> Option<u64> {
        self.db.property_int_value_cf(self.cf(cf_name), prop).ok().flatten()
    }

    pub(crate) fn set_db_map(guard: &mut DbMapMut<'_>, a: usize, b: usize) -> Vec<u8> {
        guard.map.swap(a, b);
        guard.map.clone()
    }
}

pub(crate) fn decode_counter(v: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    let n = v.len().min(8);
    b[..n].copy_from_slice(&v[..n]);
    i64::from_le_bytes(b)
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.sync.wake_all();
    }
}

#[cfg(test)]
mod tests;
