//! RocksDB options: one shared block cache, per-family tuning for point lookups, blob files for
//! large values, and the compaction filters; and RocksDB's side of the memory budget (DESIGN.md
//! §6): everything RocksDB keeps in memory is either in the block cache (data, index, filter and
//! blob blocks) or in memtables bounded together by one write buffer manager, so its resident
//! memory is the two budgets whatever the data set's size.

use super::{cf, filter, FsyncPolicy};
use crate::clock::Clock;
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, DataBlockIndexType,
    Options, WriteBufferManager,
};
use std::path::PathBuf;
use std::sync::Arc;

/// RocksDB block compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    No,
    Lz4,
    Zstd,
}

/// What the storage layer needs from the configuration.
#[derive(Clone, Debug)]
pub struct StorageOptions {
    pub dir: PathBuf,
    pub databases: usize,
    pub appendfsync: FsyncPolicy,
    pub hot_cache_size: u64,
    pub block_cache_size: u64,
    /// Bytes of all memtables together (0 = each family bounded on its own).
    pub memtable_budget: u64,
    pub write_buffer_size: u64,
    pub max_write_buffer_number: u32,
    pub max_background_jobs: u32,
    pub blob_min_size: u64,
    pub compression: Compression,
    pub hz: u32,
    pub active_expire_effort: u32,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            dir: PathBuf::from("./data"),
            databases: 16,
            appendfsync: FsyncPolicy::Everysec,
            hot_cache_size: 64 << 20,
            block_cache_size: 256 << 20,
            memtable_budget: 128 << 20,
            write_buffer_size: 64 << 20,
            max_write_buffer_number: 4,
            max_background_jobs: 4,
            blob_min_size: 4096,
            compression: Compression::Lz4,
            hz: 10,
            active_expire_effort: 1,
        }
    }
}

/// The shared memory pools, kept by `Storage` to report their use.
pub(super) struct MemoryPools {
    pub(super) block_cache: Cache,
    pub(super) block_cache_capacity: u64,
    pub(super) memtables: Option<WriteBufferManager>,
}

/// What RocksDB holds in memory now (INFO memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    pub block_cache_capacity: u64,
    /// Bytes in the block cache: data, index, filter and blob blocks.
    pub block_cache_usage: u64,
    /// Of which pinned (in use by a read, or L0 index and filter blocks).
    pub block_cache_pinned: u64,
    /// Bytes of all memtables: active, immutable waiting for their flush, and pinned.
    pub memtable_bytes: u64,
    /// `rocksdb-memtable-budget` (0 = none).
    pub memtable_budget: u64,
    /// Table reader memory outside the block cache (estimate).
    pub table_readers_bytes: u64,
}

impl super::Storage {
    /// The RocksDB memory figures of INFO memory, from the cache itself and the per-family
    /// properties.
    pub fn memory_usage(&self) -> MemoryUsage {
        let mut memtable_bytes = 0;
        let mut table_readers_bytes = 0;
        for name in cf::ALL {
            let cf = self.cf(name);
            let prop = |p: &str| self.db.property_int_value_cf(cf, p).ok().flatten().unwrap_or(0);
            memtable_bytes += prop("rocksdb.size-all-mem-tables");
            table_readers_bytes += prop("rocksdb.estimate-table-readers-mem");
        }
        let pools = &self.memory;
        MemoryUsage {
            block_cache_capacity: pools.block_cache_capacity,
            block_cache_usage: pools.block_cache.get_usage() as u64,
            block_cache_pinned: pools.block_cache.get_pinned_usage() as u64,
            memtable_bytes,
            memtable_budget: pools.memtables.as_ref().map_or(0, |m| m.get_buffer_size() as u64),
            table_readers_bytes,
        }
    }
}

pub(super) fn build(
    opts: &StorageOptions,
    clock: Arc<Clock>,
    target: &filter::Target,
) -> (Options, Vec<ColumnFamilyDescriptor>, MemoryPools) {
    let mut db = Options::default();
    db.create_if_missing(true);
    db.create_missing_column_families(true);
    db.set_max_background_jobs(opts.max_background_jobs.max(2) as i32);
    db.set_enable_pipelined_write(true);
    // The WAL is written to the OS by `Storage::make_durable` before replies go out, once per
    // batch of commands rather than once per write.
    db.set_manual_wal_flush(true);
    db.set_bytes_per_sync(1 << 20);
    db.set_keep_log_file_num(5);
    // Tickers only (stall time, compaction and flush bytes, block cache hits) for INFO and
    // /metrics (`health`): per-core counters, with no histogram or timer on the write path.
    db.enable_statistics();
    db.set_statistics_level(rocksdb::statistics::StatsLevel::ExceptHistogramOrTimers);
    // RocksDB's own dump of its statistics into its LOG is not needed: Strata reports them.
    db.set_stats_dump_period_sec(0);
    // One memtable may take at most a quarter of the common budget: flushes are then small
    // enough to finish while the other memtables still have room, and writers rarely wait.
    let write_buffer_size = match opts.memtable_budget {
        0 => opts.write_buffer_size,
        budget => opts.write_buffer_size.min(budget / 4).max(64 << 10),
    };
    db.set_max_total_wal_size(write_buffer_size.saturating_mul(4));
    db.set_max_open_files(4096);
    // Writers wait at the budget (allow_stall) rather than letting memtables grow past it; a
    // write on a network thread (`no_slowdown`) gets `Incomplete` instead and moves to the
    // blocking pool like a disk read (see `tier`). The memtables are not charged to the block
    // cache: two separate budgets are what an operator sets and reads back in INFO, and data
    // blocks don't give way to a burst of writes.
    let memtables = (opts.memtable_budget > 0)
        .then(|| WriteBufferManager::new_write_buffer_manager(opts.memtable_budget as usize, true));
    if let Some(wbm) = &memtables {
        db.set_write_buffer_manager(wbm);
    }

    let cache = Cache::new_lru_cache(opts.block_cache_size as usize);
    let compression = match opts.compression {
        Compression::No => DBCompressionType::None,
        Compression::Lz4 => DBCompressionType::Lz4,
        Compression::Zstd => DBCompressionType::Zstd,
    };
    let table = |whole_key_bloom: bool| {
        let mut t = BlockBasedOptions::default();
        t.set_block_cache(&cache);
        t.set_bloom_filter(10.0, false);
        t.set_whole_key_filtering(whole_key_bloom);
        t.set_cache_index_and_filter_blocks(true);
        t.set_cache_index_and_filter_blocks_with_high_priority(true);
        t.set_pin_l0_filter_and_index_blocks_in_cache(true);
        t.set_index_type(BlockBasedIndexType::BinarySearch);
        t.set_data_block_index_type(DataBlockIndexType::BinaryAndHash);
        t.set_data_block_hash_ratio(0.75);
        t.set_format_version(6);
        t
    };
    let family = |name: &str| {
        let mut o = Options::default();
        o.set_write_buffer_size(write_buffer_size as usize);
        o.set_max_write_buffer_number(opts.max_write_buffer_number.max(2) as i32);
        o.set_compression_type(compression);
        // `expire_index` and `zset_score` are only ever iterated, never read by key: bloom
        // filters would cost every write and help no read.
        let point_reads = !matches!(name, cf::EXPIRE_INDEX | cf::ZSET_SCORE);
        o.set_block_based_table_factory(&table(point_reads));
        o.set_level_compaction_dynamic_level_bytes(true);
        if point_reads {
            // A memtable bloom filter answers "not in the memtable" without walking the
            // skiplist: most writes of new keys read first and miss.
            o.set_memtable_prefix_bloom_ratio(0.1);
            o.set_memtable_whole_key_filtering(true);
        }
        o
    };

    let mut descriptors = Vec::new();
    for name in cf::ALL {
        let mut o = family(name);
        if name == cf::METADATA {
            o.set_enable_blob_files(true);
            o.set_min_blob_size(opts.blob_min_size);
            o.set_enable_blob_gc(true);
            o.set_blob_compression_type(compression);
            // Blob values read are cached with the blocks, inside the same budget (without a
            // blob cache every read of a large value goes to the file).
            o.set_blob_cache(&cache);
            let clock = clock.clone();
            o.set_compaction_filter("strata.metadata_expiry", move |_level: u32, _key: &[u8], value: &[u8]| {
                filter::metadata_decision(value, clock.now_ms())
            });
        }
        if matches!(name, cf::SUBKEYS | cf::ZSET_SCORE | cf::STREAM) {
            o.set_compaction_filter_factory(filter::SubkeyFilterFactory::new(target, name));
            // Popping from the front of a big sorted set leaves runs of tombstones that later
            // reads walk over: files with many of them are compacted first.
            o.add_compact_on_deletion_collector_factory(1024, 512, 0.5);
        }
        if name == cf::DEFAULT {
            o.set_merge_operator_associative("strata.counter_add", filter::counter_merge);
        }
        descriptors.push(ColumnFamilyDescriptor::new(name, o));
    }
    let pools = MemoryPools { block_cache: cache, block_cache_capacity: opts.block_cache_size, memtables };
    (db, descriptors, pools)
}
