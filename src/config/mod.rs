//! Server configuration: the typed [`Config`], its defaults, loading from a
//! redis.conf-style file and `--directive value` command-line overrides, and
//! the CONFIG GET / SET / REWRITE operations.
//!
//! Every directive is described once, in the registry table of
//! `registry.rs`; parsing, validation, GET, SET, REWRITE and
//! [`Config::directive_names`] all work from that table.

mod directive;
mod pubsub;
mod registry;
mod rewrite;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::glob::glob_match;

pub use directive::parse_memory;
pub use pubsub::{NotifyFlags, ObufLimit, OutputBufferLimits};
use registry::{lookup, ValueError, DIRECTIVES};

/// A config line's arguments as text (bytes that `\xHH` escapes make invalid UTF-8 read as
/// U+FFFD).
pub(crate) fn split_line(line: &str) -> Option<Vec<String>> {
    let args = crate::splitargs::split_args(line.as_bytes())?;
    Some(args.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
}

/// The `origin` used in errors about command-line overrides.
const COMMAND_LINE: &str = "<command line>";

/// Defines a configuration enum with its lowercase config-file spellings.
macro_rules! config_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value's config-file spelling, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The config-file spelling (lowercase).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Parses a config-file spelling, case-insensitively.
            pub fn from_name(name: &str) -> Option<Self> {
                $(if name.eq_ignore_ascii_case($text) {
                    return Some(Self::$variant);
                })+
                None
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

config_enum! {
    /// How often the write-ahead log is synced to disk (`appendfsync`).
    AppendFsync {
        /// Sync after every write.
        Always => "always",
        /// Sync about once per second.
        Everysec => "everysec",
        /// Leave syncing to the operating system.
        No => "no",
    }
}

config_enum! {
    /// Minimum severity that is logged (`loglevel`).
    LogLevel {
        Debug => "debug",
        Verbose => "verbose",
        Notice => "notice",
        Warning => "warning",
        /// Log nothing at all.
        Nothing => "nothing",
    }
}

config_enum! {
    /// Log line format (`log-format`).
    LogFormat {
        /// Human-readable lines.
        Text => "text",
        /// One JSON object per line.
        Json => "json",
    }
}

config_enum! {
    /// Whether TLS clients must present a certificate signed by `tls-ca-cert-file`
    /// (`tls-auth-clients`), as in Redis.
    TlsAuthClients {
        /// A client certificate is required.
        Yes => "yes",
        /// A client certificate is optional, and verified when given.
        Optional => "optional",
        /// No client certificate is asked for.
        No => "no",
    }
}

config_enum! {
    /// RocksDB block compression (`rocksdb-compression`).
    Compression {
        No => "no",
        Lz4 => "lz4",
        Zstd => "zstd",
    }
}

config_enum! {
    /// What happens when the data set reaches `maxmemory` (`maxmemory-policy`), as in Redis.
    MaxmemoryPolicy {
        VolatileLru => "volatile-lru",
        VolatileLfu => "volatile-lfu",
        VolatileRandom => "volatile-random",
        VolatileTtl => "volatile-ttl",
        AllkeysLru => "allkeys-lru",
        AllkeysLfu => "allkeys-lfu",
        AllkeysRandom => "allkeys-random",
        /// Refuse commands that may add data (`-OOM`).
        Noeviction => "noeviction",
    }
}

const KB: u64 = 1024;
const MB: u64 = 1024 * KB;
const GB: u64 = 1024 * MB;

/// Default `bind`: loopback IPv4 only.
pub const DEFAULT_BIND: &[&str] = &["127.0.0.1"];
/// Default `port`.
pub const DEFAULT_PORT: u16 = 6379;
/// Default `dir`.
pub const DEFAULT_DIR: &str = "./data";
/// Default `databases`.
pub const DEFAULT_DATABASES: u32 = 16;
/// Default `requirepass` (empty: no password).
pub const DEFAULT_REQUIREPASS: &str = "";
/// Default (and only supported) `appendonly`.
pub const DEFAULT_APPENDONLY: bool = true;
/// Default `appendfsync`.
pub const DEFAULT_APPENDFSYNC: AppendFsync = AppendFsync::Everysec;
/// Default `maxclients`.
pub const DEFAULT_MAXCLIENTS: u32 = 10_000;
/// Default `timeout` in seconds (0: never close idle clients).
pub const DEFAULT_TIMEOUT: u64 = 0;
/// Default `tcp-keepalive` in seconds.
pub const DEFAULT_TCP_KEEPALIVE: u64 = 300;
/// Default `tcp-backlog`.
pub const DEFAULT_TCP_BACKLOG: u32 = 511;
/// Default `io-threads`.
pub const DEFAULT_IO_THREADS: u32 = 1;
/// Default `loglevel`.
pub const DEFAULT_LOGLEVEL: LogLevel = LogLevel::Notice;
/// Default `logfile` (empty: standard output).
pub const DEFAULT_LOGFILE: &str = "";
/// Default `log-format`.
pub const DEFAULT_LOG_FORMAT: LogFormat = LogFormat::Text;
/// Default `pidfile` (empty: none).
pub const DEFAULT_PIDFILE: &str = "";
/// Port of the HTTP endpoint for Prometheus and health probes (redis_exporter's port).
pub const DEFAULT_METRICS_PORT: u16 = 9121;
/// The HTTP endpoint listens on loopback only unless configured otherwise (as `bind`).
pub const DEFAULT_METRICS_BIND: &str = "127.0.0.1";
/// Default `proto-max-bulk-len` in bytes.
pub const DEFAULT_PROTO_MAX_BULK_LEN: u64 = 512 * MB;
/// Default `client-query-buffer-limit` in bytes.
pub const DEFAULT_CLIENT_QUERY_BUFFER_LIMIT: u64 = GB;
/// Default `hz`.
pub const DEFAULT_HZ: u32 = 10;
/// Default `active-expire-effort`.
pub const DEFAULT_ACTIVE_EXPIRE_EFFORT: u32 = 1;
/// Default `maxmemory` (0: no limit).
pub const DEFAULT_MAXMEMORY: u64 = 0;
/// Default `maxmemory-policy`.
pub const DEFAULT_MAXMEMORY_POLICY: MaxmemoryPolicy = MaxmemoryPolicy::Noeviction;
/// Default `maxmemory-samples`.
pub const DEFAULT_MAXMEMORY_SAMPLES: u32 = 5;
/// Default `maxmemory-eviction-tenacity`.
pub const DEFAULT_MAXMEMORY_EVICTION_TENACITY: u32 = 10;
/// Default `lfu-log-factor`.
pub const DEFAULT_LFU_LOG_FACTOR: u32 = 10;
/// Default `lfu-decay-time` (minutes).
pub const DEFAULT_LFU_DECAY_TIME: u32 = 1;
/// Default `hash-max-listpack-entries`.
pub const DEFAULT_HASH_MAX_LISTPACK_ENTRIES: u64 = 512;
/// Default `hash-max-listpack-value`.
pub const DEFAULT_HASH_MAX_LISTPACK_VALUE: u64 = 64;
/// Default `set-max-intset-entries`.
pub const DEFAULT_SET_MAX_INTSET_ENTRIES: u64 = 512;
/// Default `zset-max-listpack-entries`.
pub const DEFAULT_ZSET_MAX_LISTPACK_ENTRIES: u64 = 128;
/// Default `zset-max-listpack-value`.
pub const DEFAULT_ZSET_MAX_LISTPACK_VALUE: u64 = 64;
/// Default `hll-sparse-max-bytes`.
pub const DEFAULT_HLL_SPARSE_MAX_BYTES: u64 = 3000;
/// Default `hot-cache-size` in bytes: the decoded hot keys of a small server.
pub const DEFAULT_HOT_CACHE_SIZE: u64 = 64 * MB;
/// Default `rocksdb-block-cache-size` in bytes.
pub const DEFAULT_ROCKSDB_BLOCK_CACHE_SIZE: u64 = 256 * MB;
/// Default `rocksdb-memtable-budget` in bytes: all memtables of all column families together.
pub const DEFAULT_ROCKSDB_MEMTABLE_BUDGET: u64 = 128 * MB;
/// Default `rocksdb-write-buffer-size` in bytes.
pub const DEFAULT_ROCKSDB_WRITE_BUFFER_SIZE: u64 = 64 * MB;
/// Default `rocksdb-max-write-buffer-number`.
pub const DEFAULT_ROCKSDB_MAX_WRITE_BUFFER_NUMBER: u32 = 4;
/// Default `rocksdb-max-background-jobs`.
pub const DEFAULT_ROCKSDB_MAX_BACKGROUND_JOBS: u32 = 4;
/// Default `rocksdb-blob-min-size` in bytes.
pub const DEFAULT_ROCKSDB_BLOB_MIN_SIZE: u64 = 4 * KB;
/// Default `rocksdb-compression`.
pub const DEFAULT_ROCKSDB_COMPRESSION: Compression = Compression::Lz4;

/// The server configuration. Field names follow the directives, with `-`
/// turned into `_`; see conf/strata.conf for what each one means.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Addresses to listen on.
    pub bind: Vec<String>,
    /// TCP port; 0 lets the OS pick a free port (in Redis 0 disables TCP), or, when `tls-port`
    /// is set, disables plain TCP as in Redis.
    pub port: u16,
    /// TLS port; 0 = no TLS listener. With `port 0` and a TLS port, only TLS is served.
    pub tls_port: u16,
    /// Server certificate chain (PEM).
    pub tls_cert_file: String,
    /// Server private key (PEM).
    pub tls_key_file: String,
    /// CA certificates (PEM) that client certificates are verified against.
    pub tls_ca_cert_file: String,
    /// Whether TLS clients must present a certificate.
    pub tls_auth_clients: TlsAuthClients,
    /// Data directory.
    pub dir: PathBuf,
    /// Number of logical databases (1..=256).
    pub databases: u32,
    /// Password required by AUTH; empty for none.
    pub requirepass: String,
    /// Refuse clients from other hosts while the `default` user needs no password.
    pub protected_mode: bool,
    /// `user` directives: where each is (`file:line`) and its arguments (name, rules...).
    pub users: Vec<(String, Vec<String>)>,
    /// The ACL file (`aclfile`; empty: none).
    pub aclfile: String,
    /// Entries the ACL log keeps.
    pub acllog_max_len: u64,
    /// Channels of new users: `resetchannels` or `allchannels`.
    pub acl_pubsub_default: String,
    /// Redis's save points (`save`): "<seconds> <changes>" pairs that start a BGSAVE.
    pub save: String,
    /// WAL sync policy.
    pub appendfsync: AppendFsync,
    /// Maximum number of connected clients.
    pub maxclients: u32,
    /// Idle client timeout in seconds; 0 disables.
    pub timeout: u64,
    /// TCP keepalive period in seconds; 0 disables.
    pub tcp_keepalive: u64,
    /// Listen backlog.
    pub tcp_backlog: u32,
    /// Threads serving client connections (parsing, in-memory execution, replies).
    pub io_threads: u32,
    /// Log verbosity.
    pub loglevel: LogLevel,
    /// Log file; empty for standard output.
    pub logfile: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// PID file; empty for none.
    pub pidfile: String,
    /// Commands slower than this many microseconds go to the slow log; 0 = all, -1 = none.
    pub slowlog_log_slower_than: i64,
    /// Entries the slow log keeps.
    pub slowlog_max_len: u64,
    /// Milliseconds from which the latency monitor records an event; 0 = off.
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM).
    pub latency_tracking: bool,
    /// The percentiles INFO latencystats reports.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// Port of the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`); 0 = off.
    pub metrics_port: u16,
    /// Address the HTTP endpoint listens on.
    pub metrics_bind: String,
    /// Largest accepted bulk string, in bytes.
    pub proto_max_bulk_len: u64,
    /// Largest accepted client query buffer, in bytes.
    pub client_query_buffer_limit: u64,
    /// Output buffer limits per client class (Pub/Sub subscribers are disconnected past them).
    pub client_output_buffer_limit: OutputBufferLimits,
    /// Keyspace notification classes (`notify-keyspace-events`).
    pub notify_keyspace_events: NotifyFlags,
    /// Background (active expiry) cycles per second.
    pub hz: u32,
    /// Active expiry effort, 1..=10.
    pub active_expire_effort: u32,
    /// Limit of the logical data set in bytes (`used_memory`); 0 = none.
    pub maxmemory: u64,
    /// What to do at the limit.
    pub maxmemory_policy: MaxmemoryPolicy,
    /// Keys sampled per database for each eviction.
    pub maxmemory_samples: u32,
    /// How long one command may spend evicting, 0..=100 (Redis's time limit scale).
    pub maxmemory_eviction_tenacity: u32,
    /// LFU counter growth: higher values need more hits per step.
    pub lfu_log_factor: u32,
    /// Minutes per halving step of an LFU counter; 0 = never decay.
    pub lfu_decay_time: u32,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: u64,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: u64,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: u64,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: u64,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog growing past this many bytes turns dense.
    pub hll_sparse_max_bytes: u64,
    /// `busy-reply-threshold` (alias `lua-time-limit`): milliseconds a script runs before other
    /// clients get `-BUSY` and SCRIPT KILL / FUNCTION KILL may stop it.
    pub busy_reply_threshold: u64,
    /// Bytes of the hot cache (decoded records of recently used keys; 0 = off).
    pub hot_cache_size: u64,
    /// RocksDB block cache size in bytes.
    pub rocksdb_block_cache_size: u64,
    /// Bytes all RocksDB memtables may take together (0 = no common limit).
    pub rocksdb_memtable_budget: u64,
    /// RocksDB memtable size in bytes.
    pub rocksdb_write_buffer_size: u64,
    /// RocksDB maximum number of memtables.
    pub rocksdb_max_write_buffer_number: u32,
    /// RocksDB flush and compaction threads.
    pub rocksdb_max_background_jobs: u32,
    /// Values at least this large (bytes) go to RocksDB blob files.
    pub rocksdb_blob_min_size: u64,
    /// RocksDB block compression.
    pub rocksdb_compression: Compression,
    /// The config file this configuration was loaded from (for CONFIG REWRITE), if any.
    pub config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: DEFAULT_BIND.iter().map(|s| (*s).to_owned()).collect(),
            port: DEFAULT_PORT,
            tls_port: 0,
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
            tls_ca_cert_file: String::new(),
            tls_auth_clients: TlsAuthClients::Yes,
            dir: PathBuf::from(DEFAULT_DIR),
            databases: DEFAULT_DATABASES,
            requirepass: DEFAULT_REQUIREPASS.to_owned(),
            protected_mode: true,
            users: Vec::new(),
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_default: "resetchannels".to_owned(),
            save: String::new(),
            appendfsync: DEFAULT_APPENDFSYNC,
            maxclients: DEFAULT_MAXCLIENTS,
            timeout: DEFAULT_TIMEOUT,
            tcp_keepalive: DEFAULT_TCP_KEEPALIVE,
            tcp_backlog: DEFAULT_TCP_BACKLOG,
            io_threads: DEFAULT_IO_THREADS,
            loglevel: DEFAULT_LOGLEVEL,
            logfile: DEFAULT_LOGFILE.to_owned(),
            log_format: DEFAULT_LOG_FORMAT,
            pidfile: DEFAULT_PIDFILE.to_owned(),
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            metrics_port: DEFAULT_METRICS_PORT,
            metrics_bind: DEFAULT_METRICS_BIND.to_owned(),
            proto_max_bulk_len: DEFAULT_PROTO_MAX_BULK_LEN,
            client_query_buffer_limit: DEFAULT_CLIENT_QUERY_BUFFER_LIMIT,
            client_output_buffer_limit: OutputBufferLimits::default(),
            notify_keyspace_events: NotifyFlags::empty(),
            hz: DEFAULT_HZ,
            active_expire_effort: DEFAULT_ACTIVE_EXPIRE_EFFORT,
            maxmemory: DEFAULT_MAXMEMORY,
            maxmemory_policy: DEFAULT_MAXMEMORY_POLICY,
            maxmemory_samples: DEFAULT_MAXMEMORY_SAMPLES,
            maxmemory_eviction_tenacity: DEFAULT_MAXMEMORY_EVICTION_TENACITY,
            lfu_log_factor: DEFAULT_LFU_LOG_FACTOR,
            lfu_decay_time: DEFAULT_LFU_DECAY_TIME,
            hash_max_listpack_entries: DEFAULT_HASH_MAX_LISTPACK_ENTRIES,
            hash_max_listpack_value: DEFAULT_HASH_MAX_LISTPACK_VALUE,
            set_max_intset_entries: DEFAULT_SET_MAX_INTSET_ENTRIES,
            zset_max_listpack_entries: DEFAULT_ZSET_MAX_LISTPACK_ENTRIES,
            zset_max_listpack_value: DEFAULT_ZSET_MAX_LISTPACK_VALUE,
            hll_sparse_max_bytes: DEFAULT_HLL_SPARSE_MAX_BYTES,
            busy_reply_threshold: 5000,
            hot_cache_size: DEFAULT_HOT_CACHE_SIZE,
            rocksdb_block_cache_size: DEFAULT_ROCKSDB_BLOCK_CACHE_SIZE,
            rocksdb_memtable_budget: DEFAULT_ROCKSDB_MEMTABLE_BUDGET,
            rocksdb_write_buffer_size: DEFAULT_ROCKSDB_WRITE_BUFFER_SIZE,
            rocksdb_max_write_buffer_number: DEFAULT_ROCKSDB_MAX_WRITE_BUFFER_NUMBER,
            rocksdb_max_background_jobs: DEFAULT_ROCKSDB_MAX_BACKGROUND_JOBS,
            rocksdb_blob_min_size: DEFAULT_ROCKSDB_BLOB_MIN_SIZE,
            rocksdb_compression: DEFAULT_ROCKSDB_COMPRESSION,
            config_file: None,
        }
    }
}

/// A configuration that cannot be loaded. `origin` is `file:line` for
/// config-file errors and `<command line>` for `--directive` overrides.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("can't read config file '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line's quotes do not balance.
    #[error("{origin}: unbalanced quotes in configuration line")]
    UnbalancedQuotes { origin: String },
    /// No directive has this name.
    #[error("{origin}: unknown directive '{directive}'")]
    UnknownDirective { origin: String, directive: String },
    /// Too many or too few arguments.
    #[error("{origin}: wrong number of arguments for '{directive}'")]
    WrongArgCount { origin: String, directive: String },
    /// The value does not parse or is out of range.
    #[error("{origin}: bad value for '{directive}': '{value}' ({reason})")]
    BadValue { origin: String, directive: String, value: String, reason: String },
    /// A valid Redis setting that Strata does not support.
    #[error("{origin}: {message}")]
    Unsupported { origin: String, directive: String, message: String },
    /// A command-line argument that belongs to no `--directive`.
    #[error("{COMMAND_LINE}: unexpected argument '{argument}' (expected --directive)")]
    StrayArgument { argument: String },
    /// [`Config::validate`] found a field outside its limits.
    #[error("invalid value for '{directive}': '{value}' ({reason})")]
    Invalid { directive: String, value: String, reason: String },
}

impl ConfigError {
    fn from_value(origin: &str, directive: &str, args: &[String], e: ValueError) -> Self {
        let (origin, directive) = (origin.to_owned(), directive.to_owned());
        match e {
            ValueError::WrongArgCount => Self::WrongArgCount { origin, directive },
            ValueError::Unsupported(message) => Self::Unsupported { origin, directive, message: message.to_owned() },
            other => Self::BadValue { origin, directive, value: args.join(" "), reason: other.load_reason() },
        }
    }
}

impl Config {
    /// argv without the program name, like redis-server: `[CONFIG_FILE] [--directive value ...]`.
    /// A first argument not starting with "--" is the config file. `--directive` may take several
    /// values until the next `--` argument (e.g. `--bind 127.0.0.1 ::1`). Command-line overrides apply after the file.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let (mut config, overrides) = match args.split_first() {
            Some((file, rest)) if !file.starts_with("--") => (Config::load_file(Path::new(file))?, rest),
            _ => (Config::default(), args),
        };
        let mut pending: Option<(&str, Vec<String>)> = None;
        for arg in overrides {
            if let Some(name) = arg.strip_prefix("--") {
                if let Some((name, values)) = pending.take() {
                    config.apply_directive(COMMAND_LINE, name, &values)?;
                }
                pending = Some((name, Vec::new()));
            } else if let Some((_, values)) = pending.as_mut() {
                values.push(arg.clone());
            } else {
                return Err(ConfigError::StrayArgument { argument: arg.clone() });
            }
        }
        if let Some((name, values)) = pending {
            config.apply_directive(COMMAND_LINE, name, &values)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Loads and validates a config file on top of the defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let config = Config::load_file(path)?;
        config.validate()?;
        Ok(config)
    }

    /// Defaults plus the directives of `path`, not yet validated.
    fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let mut config = Config::default();
        config.apply_text(&text, &path.display().to_string())?;
        // Absolute, so CONFIG REWRITE still finds it if the process changes
        // directory.
        config.config_file = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_owned()));
        Ok(config)
    }

    /// Parse redis.conf syntax text (comments '#', blank lines, quoted args "..." and '...' with
    /// Redis's escapes as in sdssplitargs, directive names case-insensitive; `include` not needed).
    ///
    /// `origin` names the text in errors (usually the file path); the line
    /// number is appended to it. Directives apply in order, later ones
    /// overriding earlier ones; on error, directives before the bad line
    /// have been applied.
    pub fn apply_text(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let here = format!("{origin}:{}", index + 1);
            let argv = split_line(line).ok_or_else(|| ConfigError::UnbalancedQuotes { origin: here.clone() })?;
            if let Some((name, args)) = argv.split_first() {
                self.apply_directive(&here, name, args)?;
            }
        }
        Ok(())
    }

    /// Applies one directive with its arguments.
    fn apply_directive(&mut self, origin: &str, name: &str, args: &[String]) -> Result<(), ConfigError> {
        // `user` may repeat: each is one ACL user, checked when the users are built.
        if name.eq_ignore_ascii_case("user") {
            if args.is_empty() {
                return Err(ConfigError::WrongArgCount { origin: origin.to_owned(), directive: "user".to_owned() });
            }
            self.users.push((origin.to_owned(), args.to_vec()));
            return Ok(());
        }
        let directive = lookup(name.as_bytes())
            .ok_or_else(|| ConfigError::UnknownDirective { origin: origin.to_owned(), directive: name.to_owned() })?;
        directive.apply(self, args).map_err(|e| ConfigError::from_value(origin, directive.name, args, e))
    }

    /// Checks every field against its directive's limits (useful for a
    /// `Config` built or changed in code; parsing already enforces them).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for directive in DIRECTIVES {
            let value = (directive.get)(self);
            directive.kind.check(&value).map_err(|e| ConfigError::Invalid {
                directive: directive.name.to_owned(),
                value: directive.kind.render(&value),
                reason: e.load_reason(),
            })?;
        }
        Ok(())
    }

    /// CONFIG GET: all (name, value) pairs whose name matches any of the glob patterns
    /// (case-insensitive, via glob_match nocase), each name at most once, values rendered as
    /// Redis renders them (memory sizes as plain byte counts, bools yes/no, enums lowercase, bind space-joined).
    ///
    /// Pairs come in [`Config::directive_names`] order.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(&'static str, String)> {
        DIRECTIVES
            .iter()
            .filter(|d| patterns.iter().any(|pattern| glob_match(pattern, d.name.as_bytes(), true)))
            .map(|d| (d.name, d.render(self)))
            .collect()
    }

    /// CONFIG SET name value [name value ...]: all or nothing, like Redis 7. Errors are the full
    /// Redis error text without the leading '-', e.g.
    /// "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    /// "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    /// "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 1 and 500 inclusive"
    /// "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"
    /// Duplicate parameter in one call: "ERR CONFIG SET failed (possibly related to argument 'x') - duplicate parameter"
    ///
    /// Names are checked first (the first problem is reported), then values
    /// are applied to a copy that replaces `self` only if all succeed. A
    /// list directive's value is split on whitespace.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        fn failed(name: &[u8], reason: &str) -> String {
            format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
                String::from_utf8_lossy(name)
            )
        }

        let mut chosen: Vec<(&registry::Directive, &[u8], &[u8])> = Vec::with_capacity(pairs.len());
        for &(name, value) in pairs {
            let Some(directive) = lookup(name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(name)
                ));
            };
            if !directive.mutable {
                return Err(failed(name, "can't set immutable config"));
            }
            if chosen.iter().any(|&(d, _, _)| d.name == directive.name) {
                return Err(failed(name, "duplicate parameter"));
            }
            chosen.push((directive, name, value));
        }

        let mut next = self.clone();
        for (directive, name, value) in chosen {
            let text = std::str::from_utf8(value).map_err(|_| failed(name, "argument must be valid UTF-8"))?;
            let args: Vec<String> = match directive.kind {
                registry::Kind::List => text.split_whitespace().map(str::to_owned).collect(),
                _ => vec![text.to_owned()],
            };
            directive.apply(&mut next, &args).map_err(|e| failed(name, &e.set_reason()))?;
        }
        *self = next;
        Ok(())
    }

    /// CONFIG REWRITE: rewrite `path` like Redis: keep comments and unknown lines' positions, replace
    /// each directive line with the current value, drop duplicates, append directives that differ from
    /// the default and are missing under a "# Generated by CONFIG REWRITE" line. Write to a temp file in the same dir then rename.
    pub fn rewrite(&self, path: &Path) -> std::io::Result<()> {
        rewrite::rewrite_file(self, path)
    }

    /// Names of every directive, in the order of conf/strata.conf.
    pub fn directive_names() -> &'static [&'static str] {
        registry::names()
    }
}

#[cfg(test)]
mod tests;

/// Parses `latency-tracking-info-percentiles`: numbers in 0..=100 separated by spaces; empty
/// for none. None if any is not such a number.
pub fn parse_percentiles(s: &str) -> Option<Vec<f64>> {
    s.split_whitespace().map(|w| w.parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p))).collect()
}

/// Renders percentiles as Redis does: `50 99 99.9`.
pub fn render_percentiles(p: &[f64]) -> String {
    p.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(" ")
}

/// A directive's value as it may appear in the log: passwords are not written out.
pub fn loggable(name: &str, value: &str) -> String {
    if name.contains("pass") && !value.is_empty() {
        "(redacted)".to_owned()
    } else {
        value.to_owned()
    }
}

impl Config {
    /// `name=value` of each directive that differs from its default (for the start-up log).
    pub fn changed_from_default(&self) -> Vec<String> {
        let defaults: std::collections::HashMap<&str, String> = Config::default().get(&[b"*"]).into_iter().collect();
        self.get(&[b"*"])
            .into_iter()
            .filter(|(name, value)| defaults.get(name) != Some(value))
            .map(|(name, value)| format!("{name}={}", loggable(name, &value)))
            .collect()
    }
}
