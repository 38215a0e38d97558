//! The directive registry: one static table describing every configuration
//! directive (name, value kind and limits, runtime mutability and accessors
//! for the matching `Config` field). Parsing redis.conf, `--directive`
//! overrides, validation, CONFIG GET, CONFIG SET and CONFIG REWRITE are all
//! driven by [`DIRECTIVES`], so adding a directive is one row here (plus its
//! field, default and entry in conf/strata.conf).

use std::path::PathBuf;
use std::sync::OnceLock;

pub(super) use super::directive::{Directive, Kind, Value, ValueError, KB, MB};
use super::{AppendFsync, Compression, LogFormat, LogLevel, MaxmemoryPolicy, TlsAuthClients};

/// Largest memory size accepted (C `LLONG_MAX`, as in Redis).
const MEM_MAX: u64 = i64::MAX as u64;
/// Largest value of Redis's `INT_MAX`-bounded integer directives.
const INT_MAX: u64 = i32::MAX as u64;

/// Error text for `appendonly no`.
pub(super) const APPENDONLY_NO: &str = "appendonly no is not supported: Strata always persists writes";

const RUNTIME: bool = true;
const STARTUP: bool = false;

/// Builds a `Directive` whose accessors map a `Config` field, given how
/// the field is stored: `bool`, `int` (any unsigned integer, also memory
/// sizes), `text` (String), `path` (PathBuf), `list` (`Vec<String>`) or
/// `enum Type` (a config enum with `as_str`/`from_name`).
macro_rules! directive {
    ($name:literal, $kind:expr, $mutable:expr, bool $field:ident) => {
        Directive {
            name: $name,
            kind: $kind,
            mutable: $mutable,
            get: |c| Value::Bool(c.$field),
            set: |c, v| {
                c.$field = v.into_bool()?;
                Ok(())
            },
        }
    };
    ($name:literal, $kind:expr, $mutable:expr, int $field:ident) => {
        Directive {
            name: $name,
            kind: $kind,
            mutable: $mutable,
            get: |c| Value::Int(u64::from(c.$field)),
            set: |c, v| {
                c.$field = v.into_int()?;
                Ok(())
            },
        }
    };
    ($name:literal, $kind:expr, $mutable:expr, text $field:ident) => {
        Directive {
            name: $name,
            kind: $kind,
            mutable: $mutable,
            get: |c| Value::Text(c.$field.clone()),
            set: |c, v| {
                c.$field = v.into_text()?;
                Ok(())
            },
        }
    };
    ($name:literal, $kind:expr, $mutable:expr, path $field:ident) => {
        Directive {
            name: $name,
            kind: $kind,
            mutable: $mutable,
            get: |c| Value::Text(c.$field.to_string_lossy().into_owned()),
            set: |c, v| {
                c.$field = PathBuf::from(v.into_text()?);
                Ok(())
            },
        }
    };
    ($name:literal, $kind:expr, $mutable:expr, list $field:ident) => {
        Directive {
            name: $name,
            kind: $kind,
            mutable: $mutable,
            get: |c| Value::List(c.$field.clone()),
            set: |c, v| {
                c.$field = v.into_list()?;
                Ok(())
            },
        }
    };
    ($name:literal, $mutable:expr, enum $ty:ident $field:ident) => {
        Directive {
            name: $name,
            kind: Kind::Enum($ty::NAMES),
            mutable: $mutable,
            get: |c| Value::Text(c.$field.as_str().to_owned()),
            set: |c, v| {
                c.$field = v.into_enum($ty::from_name)?;
                Ok(())
            },
        }
    };
}

/// Every directive, in the order of conf/strata.conf.
pub(super) static DIRECTIVES: &[Directive] = &[
    // Network.
    directive!("bind", Kind::List, STARTUP, list bind),
    directive!("port", Kind::Int { min: 0, max: 65535 }, STARTUP, int port),
    // TLS (read at start-up).
    directive!("tls-port", Kind::Int { min: 0, max: 65535 }, STARTUP, int tls_port),
    directive!("tls-cert-file", Kind::Str, STARTUP, text tls_cert_file),
    directive!("tls-key-file", Kind::Str, STARTUP, text tls_key_file),
    directive!("tls-ca-cert-file", Kind::Str, STARTUP, text tls_ca_cert_file),
    directive!("tls-auth-clients", STARTUP, enum TlsAuthClients tls_auth_clients),
    // Storage.
    directive!("dir", Kind::Path, STARTUP, path dir),
    directive!("databases", Kind::Int { min: 1, max: 256 }, STARTUP, int databases),
    // Security.
    directive!("requirepass", Kind::Str, RUNTIME, text requirepass),
    directive!("protected-mode", Kind::Bool, RUNTIME, bool protected_mode),
    directive!("aclfile", Kind::Str, STARTUP, text aclfile),
    directive!("acllog-max-len", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int acllog_max_len),
    directive!("acl-pubsub-default", Kind::Enum(&["allchannels", "resetchannels"]), RUNTIME, text acl_pubsub_default),
    // Persistence.
    Directive {
        // Redis's save points, with Redis's validation: they start BGSAVE (a checkpoint,
        // `storage::backup`); every write is persisted through RocksDB's WAL regardless.
        name: "save",
        kind: Kind::Str,
        mutable: RUNTIME,
        get: |c| Value::Text(c.save.clone()),
        set: |c, v| {
            let text = v.into_text()?;
            let words: Vec<&str> = text.split_whitespace().collect();
            let numbers = words.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()));
            if !words.len().is_multiple_of(2) || !numbers {
                return Err(ValueError::Message("Invalid save parameters".to_owned()));
            }
            c.save = words.join(" ");
            Ok(())
        },
    },
    Directive {
        name: "appendonly",
        kind: Kind::Bool,
        mutable: RUNTIME,
        get: |_| Value::Bool(true),
        set: |_, v| {
            if v.into_bool()? {
                Ok(())
            } else {
                Err(ValueError::Unsupported(APPENDONLY_NO))
            }
        },
    },
    directive!("appendfsync", RUNTIME, enum AppendFsync appendfsync),
    // Clients.
    directive!("maxclients", Kind::Int { min: 1, max: u32::MAX as u64 }, RUNTIME, int maxclients),
    directive!("timeout", Kind::Int { min: 0, max: INT_MAX }, RUNTIME, int timeout),
    directive!("tcp-keepalive", Kind::Int { min: 0, max: INT_MAX }, RUNTIME, int tcp_keepalive),
    directive!("tcp-backlog", Kind::Int { min: 0, max: INT_MAX }, STARTUP, int tcp_backlog),
    directive!("io-threads", Kind::Int { min: 1, max: 128 }, STARTUP, int io_threads),
    // Logging.
    directive!("loglevel", RUNTIME, enum LogLevel loglevel),
    directive!("logfile", Kind::Str, STARTUP, text logfile),
    directive!("log-format", STARTUP, enum LogFormat log_format),
    directive!("pidfile", Kind::Str, STARTUP, text pidfile),
    // Observability.
    Directive {
        name: "slowlog-log-slower-than",
        kind: Kind::Signed { min: -1, max: i64::MAX },
        mutable: RUNTIME,
        get: |c| Value::Signed(c.slowlog_log_slower_than),
        set: |c, v| {
            c.slowlog_log_slower_than = v.into_signed()?;
            Ok(())
        },
    },
    directive!("slowlog-max-len", Kind::Int { min: 0, max: i64::MAX as u64 }, RUNTIME, int slowlog_max_len),
    directive!(
        "latency-monitor-threshold",
        Kind::Int { min: 0, max: i64::MAX as u64 },
        RUNTIME,
        int latency_monitor_threshold
    ),
    directive!("latency-tracking", Kind::Bool, RUNTIME, bool latency_tracking),
    Directive {
        // Redis's list of percentiles (each 0..=100) INFO latencystats reports; "" = none.
        name: "latency-tracking-info-percentiles",
        kind: Kind::List,
        mutable: RUNTIME,
        get: |c| Value::List(vec![super::render_percentiles(&c.latency_tracking_info_percentiles)]),
        set: |c, v| {
            let words = v.into_list()?.join(" ");
            c.latency_tracking_info_percentiles = super::parse_percentiles(&words).ok_or_else(|| {
                ValueError::Message("Invalid latency-tracking-info-percentiles parameters".to_owned())
            })?;
            Ok(())
        },
    },
    directive!("metrics-port", Kind::Int { min: 0, max: 65535 }, STARTUP, int metrics_port),
    directive!("metrics-bind", Kind::Str, STARTUP, text metrics_bind),
    // Limits.
    directive!(
        "proto-max-bulk-len",
        Kind::Memory { min: MB, max: MEM_MAX },
        RUNTIME,
        int proto_max_bulk_len
    ),
    directive!(
        "client-query-buffer-limit",
        Kind::Memory { min: MB, max: MEM_MAX },
        RUNTIME,
        int client_query_buffer_limit
    ),
    super::pubsub::CLIENT_OUTPUT_BUFFER_LIMIT,
    super::pubsub::NOTIFY_KEYSPACE_EVENTS,
    // Expiry.
    directive!("hz", Kind::Int { min: 1, max: 500 }, RUNTIME, int hz),
    directive!(
        "active-expire-effort",
        Kind::Int { min: 1, max: 10 },
        RUNTIME,
        int active_expire_effort
    ),
    // Memory management (DESIGN.md §6): the limit applies to the logical data set.
    directive!("maxmemory", Kind::Memory { min: 0, max: MEM_MAX }, RUNTIME, int maxmemory),
    directive!("maxmemory-policy", RUNTIME, enum MaxmemoryPolicy maxmemory_policy),
    directive!("maxmemory-samples", Kind::Int { min: 1, max: 64 }, RUNTIME, int maxmemory_samples),
    directive!("maxmemory-eviction-tenacity", Kind::Int { min: 0, max: 100 }, RUNTIME, int maxmemory_eviction_tenacity),
    directive!("lfu-log-factor", Kind::Int { min: 0, max: INT_MAX }, RUNTIME, int lfu_log_factor),
    directive!("lfu-decay-time", Kind::Int { min: 0, max: INT_MAX }, RUNTIME, int lfu_decay_time),
    // Collection encodings (the names OBJECT ENCODING reports).
    directive!("hash-max-listpack-entries", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int hash_max_listpack_entries),
    directive!("hash-max-listpack-value", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int hash_max_listpack_value),
    directive!("set-max-intset-entries", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int set_max_intset_entries),
    directive!("zset-max-listpack-entries", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int zset_max_listpack_entries),
    directive!("zset-max-listpack-value", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int zset_max_listpack_value),
    directive!("hll-sparse-max-bytes", Kind::Memory { min: 0, max: MEM_MAX }, RUNTIME, int hll_sparse_max_bytes),
    // Scripts.
    directive!("busy-reply-threshold", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int busy_reply_threshold),
    directive!("lua-time-limit", Kind::Int { min: 0, max: MEM_MAX }, RUNTIME, int busy_reply_threshold),
    // Memory.
    directive!("hot-cache-size", Kind::Memory { min: 0, max: MEM_MAX }, RUNTIME, int hot_cache_size),
    // RocksDB.
    directive!(
        "rocksdb-block-cache-size",
        Kind::Memory { min: 0, max: MEM_MAX },
        STARTUP,
        int rocksdb_block_cache_size
    ),
    directive!(
        "rocksdb-memtable-budget",
        Kind::Memory { min: 0, max: MEM_MAX },
        STARTUP,
        int rocksdb_memtable_budget
    ),
    directive!(
        "rocksdb-write-buffer-size",
        Kind::Memory { min: 64 * KB, max: MEM_MAX },
        STARTUP,
        int rocksdb_write_buffer_size
    ),
    directive!(
        "rocksdb-max-write-buffer-number",
        Kind::Int { min: 2, max: 256 },
        STARTUP,
        int rocksdb_max_write_buffer_number
    ),
    directive!(
        "rocksdb-max-background-jobs",
        Kind::Int { min: 1, max: 256 },
        STARTUP,
        int rocksdb_max_background_jobs
    ),
    directive!(
        "rocksdb-blob-min-size",
        Kind::Memory { min: 0, max: MEM_MAX },
        STARTUP,
        int rocksdb_blob_min_size
    ),
    directive!("rocksdb-compression", STARTUP, enum Compression rocksdb_compression),
];

/// The index in [`DIRECTIVES`] of the directive called `name`
/// (case-insensitive).
pub(super) fn position(name: &[u8]) -> Option<usize> {
    DIRECTIVES.iter().position(|d| d.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Finds a directive by name, case-insensitively.
pub(super) fn lookup(name: &[u8]) -> Option<&'static Directive> {
    position(name).map(|index| &DIRECTIVES[index])
}

/// Every directive name, in table order.
pub(super) fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| DIRECTIVES.iter().map(|d| d.name).collect())
}
