//! Unit tests for the configuration module.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

const SHIPPED: &str = include_str!("../../conf/strata.conf");

fn parse(text: &str) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    config.apply_text(text, "test.conf")?;
    Ok(config)
}

fn parse_err(text: &str) -> String {
    match parse(text) {
        Ok(config) => panic!("expected an error for {text:?}, got {config:?}"),
        Err(e) => e.to_string(),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A fresh path in the temp dir; the file does not exist yet.
fn temp_file(tag: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("strata-config-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("strata.conf")
}

fn cleanup(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn set(config: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
    config.set(&pairs)
}

fn get(config: &Config, patterns: &[&str]) -> Vec<(&'static str, String)> {
    let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
    config.get(&patterns)
}

#[test]
fn shipped_conf_equals_defaults() {
    let config = parse(SHIPPED).unwrap();
    assert_eq!(config, Config::default());
    config.validate().unwrap();

    let directive_lines: Vec<&str> = SHIPPED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for name in Config::directive_names() {
        assert!(directive_lines.contains(name), "directive '{name}' missing from conf/strata.conf");
    }
    // Same directives, same order, each once.
    assert_eq!(directive_lines, Config::directive_names());
}

#[test]
fn shipped_conf_has_a_comment_above_every_directive() {
    let lines: Vec<&str> = SHIPPED.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.is_empty() && !line.starts_with('#') {
            assert!(i > 0 && lines[i - 1].starts_with('#'), "no comment above line {}: {line}", i + 1);
        }
    }
}

#[test]
fn directive_names_are_unique_and_lowercase() {
    let names = Config::directive_names();
    for (i, name) in names.iter().enumerate() {
        assert_eq!(*name, name.to_ascii_lowercase());
        assert!(!names[..i].contains(name), "duplicate {name}");
    }
    assert_eq!(names[0], "bind");
    assert_eq!(names[1], "port");
}

#[test]
fn defaults() {
    let c = Config::default();
    assert_eq!(c.bind, vec!["127.0.0.1".to_owned()]);
    assert_eq!(c.port, 6379);
    assert_eq!(c.dir, PathBuf::from("./data"));
    assert_eq!(c.databases, 16);
    assert_eq!(c.appendfsync, AppendFsync::Everysec);
    assert_eq!(c.proto_max_bulk_len, 512 * 1024 * 1024);
    assert_eq!(c.client_query_buffer_limit, 1024 * 1024 * 1024);
    assert_eq!(c.rocksdb_blob_min_size, 4096);
    assert_eq!(c.rocksdb_compression, Compression::Lz4);
    assert_eq!(c.loglevel, LogLevel::Notice);
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.config_file, None);
    c.validate().unwrap();
}

#[test]
fn unknown_directive_names_file_line_and_directive() {
    let mut c = Config::default();
    let err = c.apply_text("# comment\n\nport 6380\nprot 1\n", "conf/strata.conf").unwrap_err();
    assert_eq!(err.to_string(), "conf/strata.conf:4: unknown directive 'prot'");
    assert!(matches!(err, ConfigError::UnknownDirective { .. }));
}

#[test]
fn bad_values_name_file_line_and_directive() {
    let mut c = Config::default();
    let err = c.apply_text("\n\nport abc\n", "conf/strata.conf").unwrap_err();
    assert_eq!(
        err.to_string(),
        "conf/strata.conf:3: bad value for 'port': 'abc' (argument must be an integer in 0..=65535)"
    );
    assert_eq!(
        parse_err("port 65536"),
        "test.conf:1: bad value for 'port': '65536' (argument must be an integer in 0..=65535)"
    );
    assert_eq!(
        parse_err("port -1"),
        "test.conf:1: bad value for 'port': '-1' (argument must be an integer in 0..=65535)"
    );
    assert_eq!(parse_err("HZ 0"), "test.conf:1: bad value for 'hz': '0' (argument must be an integer in 1..=500)");
    assert_eq!(
        parse_err("databases 257"),
        "test.conf:1: bad value for 'databases': '257' (argument must be an integer in 1..=256)"
    );
    assert_eq!(
        parse_err("timeout +5"),
        "test.conf:1: bad value for 'timeout': '+5' (argument must be an integer in 0..=2147483647)"
    );
    assert_eq!(
        parse_err("appendfsync sometimes"),
        "test.conf:1: bad value for 'appendfsync': 'sometimes' \
         (argument(s) must be one of the following: always, everysec, no)"
    );
    assert_eq!(
        parse_err("appendonly maybe"),
        "test.conf:1: bad value for 'appendonly': 'maybe' (argument must be 'yes' or 'no')"
    );
    assert_eq!(
        parse_err("proto-max-bulk-len 12xb"),
        "test.conf:1: bad value for 'proto-max-bulk-len': '12xb' (argument must be a memory value)"
    );
    assert_eq!(
        parse_err("proto-max-bulk-len 1000kb"),
        "test.conf:1: bad value for 'proto-max-bulk-len': '1000kb' \
         (argument must be between 1048576 and 9223372036854775807 inclusive)"
    );
    assert_eq!(parse_err("dir \"\""), "test.conf:1: bad value for 'dir': '' (argument must not be empty)");
    assert_eq!(parse_err("port 1 2"), "test.conf:1: wrong number of arguments for 'port'");
    assert_eq!(parse_err("port"), "test.conf:1: wrong number of arguments for 'port'");
    assert_eq!(parse_err("bind"), "test.conf:1: wrong number of arguments for 'bind'");
    assert_eq!(parse_err("requirepass \"abc"), "test.conf:1: unbalanced quotes in configuration line");
    // Redis has no trailing comments: this is two arguments.
    assert_eq!(parse_err("port 6379 # the port"), "test.conf:1: wrong number of arguments for 'port'");
}

#[test]
fn appendonly_no_is_rejected_at_load() {
    assert_eq!(
        parse_err("appendonly no"),
        "test.conf:1: appendonly no is not supported: Strata always persists writes"
    );
    assert_eq!(parse("appendonly YES").unwrap(), Config::default());
}

#[test]
fn values_and_names_are_case_insensitive() {
    let c = parse("PORT 7000\nAppendFsync ALWAYS\nloglevel Warning\nrocksdb-compression ZSTD\n").unwrap();
    assert_eq!(c.port, 7000);
    assert_eq!(c.appendfsync, AppendFsync::Always);
    assert_eq!(c.loglevel, LogLevel::Warning);
    assert_eq!(c.rocksdb_compression, Compression::Zstd);
}

#[test]
fn comments_blank_lines_and_later_lines_win() {
    let c = parse("  # indented comment\n\r\n\tport 1000  \r\nport 2000\n").unwrap();
    assert_eq!(c.port, 2000);
    assert_eq!(parse("").unwrap(), Config::default());
}

#[test]
fn every_field_parses() {
    let text = "\
bind 0.0.0.0 ::
port 0
tls-port 6380
tls-cert-file /etc/strata/cert.pem
tls-key-file /etc/strata/key.pem
tls-ca-cert-file /etc/strata/ca.pem
tls-auth-clients optional
dir /var/lib/strata
databases 1
requirepass secret
protected-mode no
appendonly yes
appendfsync no
maxclients 1
timeout 60
tcp-keepalive 0
tcp-backlog 128
io-threads 4
loglevel nothing
logfile /tmp/strata.log
log-format json
pidfile /run/strata.pid
proto-max-bulk-len 1mb
client-query-buffer-limit 2g
hz 500
active-expire-effort 10
maxmemory 100mb
maxmemory-policy ALLKEYS-LFU
maxmemory-samples 10
maxmemory-eviction-tenacity 100
lfu-log-factor 0
lfu-decay-time 0
hash-max-listpack-entries 0
hash-max-listpack-value 1
set-max-intset-entries 2
zset-max-listpack-entries 3
zset-max-listpack-value 4
hll-sparse-max-bytes 5kb
hot-cache-size 1mb
rocksdb-block-cache-size 0
rocksdb-memtable-budget 16mb
rocksdb-write-buffer-size 64kb
rocksdb-max-write-buffer-number 2
rocksdb-max-background-jobs 8
rocksdb-blob-min-size 1k
rocksdb-compression no
client-output-buffer-limit pubsub 1mb 512kb 10
client-output-buffer-limit normal 1 2 3
notify-keyspace-events Ex
slowlog-log-slower-than -1
slowlog-max-len 5
latency-monitor-threshold 100
latency-tracking no
latency-tracking-info-percentiles 10 99.99
metrics-port 0
metrics-bind 0.0.0.0
";
    let c = parse(text).unwrap();
    let expected = Config {
        bind: vec!["0.0.0.0".into(), "::".into()],
        port: 0,
        tls_port: 6380,
        tls_cert_file: "/etc/strata/cert.pem".into(),
        tls_key_file: "/etc/strata/key.pem".into(),
        tls_ca_cert_file: "/etc/strata/ca.pem".into(),
        tls_auth_clients: crate::config::TlsAuthClients::Optional,
        dir: PathBuf::from("/var/lib/strata"),
        databases: 1,
        requirepass: "secret".into(),
        protected_mode: false,
        users: Vec::new(),
        aclfile: String::new(),
        acllog_max_len: 128,
        acl_pubsub_default: "resetchannels".into(),
        save: String::new(),
        appendfsync: AppendFsync::No,
        maxclients: 1,
        timeout: 60,
        tcp_keepalive: 0,
        tcp_backlog: 128,
        io_threads: 4,
        loglevel: LogLevel::Nothing,
        logfile: "/tmp/strata.log".into(),
        log_format: LogFormat::Json,
        pidfile: "/run/strata.pid".into(),
        slowlog_log_slower_than: -1,
        slowlog_max_len: 5,
        latency_monitor_threshold: 100,
        latency_tracking: false,
        latency_tracking_info_percentiles: vec![10.0, 99.99],
        metrics_port: 0,
        metrics_bind: "0.0.0.0".into(),
        proto_max_bulk_len: 1024 * 1024,
        client_query_buffer_limit: 2_000_000_000,
        client_output_buffer_limit: crate::config::OutputBufferLimits {
            normal: crate::config::ObufLimit { hard: 1, soft: 2, soft_seconds: 3 },
            pubsub: crate::config::ObufLimit { hard: 1024 * 1024, soft: 512 * 1024, soft_seconds: 10 },
            ..Default::default()
        },
        notify_keyspace_events: crate::config::NotifyFlags::KEYEVENT | crate::config::NotifyFlags::EXPIRED,
        hz: 500,
        active_expire_effort: 10,
        maxmemory: 100 * 1024 * 1024,
        maxmemory_policy: crate::config::MaxmemoryPolicy::AllkeysLfu,
        maxmemory_samples: 10,
        maxmemory_eviction_tenacity: 100,
        lfu_log_factor: 0,
        lfu_decay_time: 0,
        hash_max_listpack_entries: 0,
        hash_max_listpack_value: 1,
        set_max_intset_entries: 2,
        zset_max_listpack_entries: 3,
        zset_max_listpack_value: 4,
        hll_sparse_max_bytes: 5120,
        busy_reply_threshold: 5000,
        hot_cache_size: 1 << 20,
        rocksdb_block_cache_size: 0,
        rocksdb_memtable_budget: 16 << 20,
        rocksdb_write_buffer_size: 64 * 1024,
        rocksdb_max_write_buffer_number: 2,
        rocksdb_max_background_jobs: 8,
        rocksdb_blob_min_size: 1000,
        rocksdb_compression: Compression::No,
        config_file: None,
    };
    assert_eq!(c, expected);
    c.validate().unwrap();
}

#[test]
fn memory_units() {
    assert_eq!(parse_memory("0"), Some(0));
    assert_eq!(parse_memory("100"), Some(100));
    assert_eq!(parse_memory("100b"), Some(100));
    assert_eq!(parse_memory("1k"), Some(1000));
    assert_eq!(parse_memory("1kb"), Some(1024));
    assert_eq!(parse_memory("1K"), Some(1000));
    assert_eq!(parse_memory("1KB"), Some(1024));
    assert_eq!(parse_memory("2m"), Some(2_000_000));
    assert_eq!(parse_memory("512mb"), Some(512 * 1024 * 1024));
    assert_eq!(parse_memory("512Mb"), Some(512 * 1024 * 1024));
    assert_eq!(parse_memory("3g"), Some(3_000_000_000));
    assert_eq!(parse_memory("1gb"), Some(1 << 30));
    assert_eq!(parse_memory("18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_memory("18446744073709551616"), None);
    assert_eq!(parse_memory("17179869184gb"), None);
    for bad in ["", "gb", "-1", "1.5gb", "1 gb", " 1", "1tb", "1kbb", "+1", "0x10"] {
        assert_eq!(parse_memory(bad), None, "{bad:?}");
    }
}

#[test]
fn memory_rendering_for_rewrite() {
    use super::directive::format_memory;
    assert_eq!(format_memory(0), "0");
    assert_eq!(format_memory(1000), "1000");
    assert_eq!(format_memory(4096), "4kb");
    assert_eq!(format_memory(512 * 1024 * 1024), "512mb");
    assert_eq!(format_memory(1 << 30), "1gb");
    assert_eq!(format_memory(3 << 30), "3gb");
    assert_eq!(format_memory(1536 * 1024 * 1024), "1536mb");
}

#[test]
fn quoted_arguments() {
    let c =
        parse("requirepass \"pass word\"\nlogfile '/tmp/my log'\npidfile \"a\\x41\\\"b\"\nbind '::1' \"127.0.0.1\"\n")
            .unwrap();
    assert_eq!(c.requirepass, "pass word");
    assert_eq!(c.logfile, "/tmp/my log");
    assert_eq!(c.pidfile, "aA\"b");
    assert_eq!(c.bind, vec!["::1".to_owned(), "127.0.0.1".to_owned()]);

    let c = parse("requirepass 'it\\'s'").unwrap();
    assert_eq!(c.requirepass, "it's");
    let c = parse("requirepass \"\"").unwrap();
    assert_eq!(c.requirepass, "");
}

#[test]
fn from_args_defaults_without_arguments() {
    assert_eq!(Config::from_args(&[]).unwrap(), Config::default());
}

#[test]
fn from_args_overrides_without_file() {
    let c = Config::from_args(&args(&[
        "--port",
        "7777",
        "--bind",
        "127.0.0.1",
        "::1",
        "--requirepass",
        "with space",
        "--LOGLEVEL",
        "debug",
        "--rocksdb-block-cache-size",
        "1gb",
        "--rocksdb-memtable-budget",
        "0",
    ]))
    .unwrap();
    assert_eq!(c.port, 7777);
    assert_eq!(c.bind, vec!["127.0.0.1".to_owned(), "::1".to_owned()]);
    assert_eq!(c.requirepass, "with space");
    assert_eq!(c.loglevel, LogLevel::Debug);
    assert_eq!(c.rocksdb_block_cache_size, 1 << 30);
    assert_eq!(c.rocksdb_memtable_budget, 0);
    assert_eq!(c.config_file, None);
}

#[test]
fn from_args_file_then_overrides() {
    let path = temp_file("args");
    std::fs::write(&path, "port 7000\nhz 20\nbind 10.0.0.1\n").unwrap();
    let c = Config::from_args(&args(&[path.to_str().unwrap(), "--hz", "30", "--bind", "127.0.0.1", "-::1"])).unwrap();
    assert_eq!(c.port, 7000, "from the file");
    assert_eq!(c.hz, 30, "the command line wins");
    assert_eq!(c.bind, vec!["127.0.0.1".to_owned(), "-::1".to_owned()]);
    let loaded_from = c.config_file.clone().unwrap();
    assert!(loaded_from.is_absolute());
    assert_eq!(std::fs::canonicalize(&loaded_from).unwrap(), std::fs::canonicalize(&path).unwrap());

    let from_file = Config::from_file(&path).unwrap();
    assert_eq!(from_file.port, 7000);
    assert_eq!(from_file.hz, 20);
    cleanup(&path);
}

#[test]
fn from_args_errors() {
    let e = Config::from_args(&args(&["--prot", "1"])).unwrap_err();
    assert_eq!(e.to_string(), "<command line>: unknown directive 'prot'");
    let e = Config::from_args(&args(&["--port", "abc"])).unwrap_err();
    assert_eq!(e.to_string(), "<command line>: bad value for 'port': 'abc' (argument must be an integer in 0..=65535)");
    let e = Config::from_args(&args(&["--port"])).unwrap_err();
    assert_eq!(e.to_string(), "<command line>: wrong number of arguments for 'port'");
    let e = Config::from_args(&args(&["--port", "1", "2"])).unwrap_err();
    assert_eq!(e.to_string(), "<command line>: wrong number of arguments for 'port'");
    let e = Config::from_args(&args(&["--appendonly", "no"])).unwrap_err();
    assert_eq!(e.to_string(), "<command line>: appendonly no is not supported: Strata always persists writes");

    let missing = temp_file("missing");
    cleanup(&missing);
    let e = Config::from_args(&args(&[missing.to_str().unwrap()])).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    assert!(e.to_string().contains("strata.conf"), "{e}");

    let path = temp_file("stray");
    std::fs::write(&path, "").unwrap();
    let e = Config::from_args(&args(&[path.to_str().unwrap(), "7777"])).unwrap_err();
    assert_eq!(e.to_string(), "<command line>: unexpected argument '7777' (expected --directive)");

    std::fs::write(&path, "port 1\nport x\n").unwrap();
    let e = Config::from_file(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}:2: bad value for 'port': 'x' (argument must be an integer in 0..=65535)", path.display())
    );
    cleanup(&path);
}

#[test]
fn get_with_patterns() {
    let c = Config::default();
    let all = get(&c, &["*"]);
    assert_eq!(all.len(), Config::directive_names().len());
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, Config::directive_names());

    assert_eq!(get(&c, &["port"]), vec![("port", "6379".to_owned())]);
    assert_eq!(get(&c, &["PORT"]), vec![("port", "6379".to_owned())]);
    assert_eq!(get(&c, &["nope"]), vec![]);
    assert_eq!(get(&c, &[]), vec![]);

    let max: Vec<&str> = get(&c, &["*max*"]).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        max,
        vec![
            "acllog-max-len",
            "maxclients",
            "slowlog-max-len",
            "proto-max-bulk-len",
            "maxmemory",
            "maxmemory-policy",
            "maxmemory-samples",
            "maxmemory-eviction-tenacity",
            "hash-max-listpack-entries",
            "hash-max-listpack-value",
            "set-max-intset-entries",
            "zset-max-listpack-entries",
            "zset-max-listpack-value",
            "hll-sparse-max-bytes",
            "rocksdb-max-write-buffer-number",
            "rocksdb-max-background-jobs"
        ]
    );

    // Several patterns, overlapping: each name once.
    let several = get(&c, &["port", "p*", "*port", "hz"]);
    assert_eq!(
        several,
        vec![
            ("port", "6379".to_owned()),
            ("tls-port", "0".to_owned()),
            ("protected-mode", "yes".to_owned()),
            ("pidfile", String::new()),
            ("metrics-port", "9121".to_owned()),
            ("proto-max-bulk-len", "536870912".to_owned()),
            ("hz", "10".to_owned()),
        ]
    );
}

#[test]
fn get_renders_like_redis() {
    let c = Config { bind: vec!["127.0.0.1".into(), "::1".into()], ..Config::default() };
    let values: std::collections::HashMap<&str, String> = get(&c, &["*"]).into_iter().collect();
    assert_eq!(values["bind"], "127.0.0.1 ::1");
    assert_eq!(values["appendonly"], "yes");
    assert_eq!(values["appendfsync"], "everysec");
    assert_eq!(values["client-query-buffer-limit"], "1073741824");
    assert_eq!(values["rocksdb-blob-min-size"], "4096");
    assert_eq!(values["rocksdb-memtable-budget"], "134217728");
    assert_eq!(values["rocksdb-compression"], "lz4");
    assert_eq!(values["loglevel"], "notice");
    assert_eq!(values["log-format"], "text");
    assert_eq!(values["dir"], "./data");
    assert_eq!(values["requirepass"], "");
    assert_eq!(values["timeout"], "0");
}

#[test]
fn set_applies_values() {
    let mut c = Config::default();
    set(
        &mut c,
        &[
            ("hz", "100"),
            ("MaxClients", "50"),
            ("appendfsync", "ALWAYS"),
            ("requirepass", "s3cret"),
            ("proto-max-bulk-len", "2mb"),
            ("loglevel", "debug"),
            ("timeout", "30"),
            ("appendonly", "yes"),
        ],
    )
    .unwrap();
    assert_eq!(c.hz, 100);
    assert_eq!(c.maxclients, 50);
    assert_eq!(c.appendfsync, AppendFsync::Always);
    assert_eq!(c.requirepass, "s3cret");
    assert_eq!(c.proto_max_bulk_len, 2 * 1024 * 1024);
    assert_eq!(c.loglevel, LogLevel::Debug);
    assert_eq!(c.timeout, 30);
    assert_eq!(get(&c, &["proto-max-bulk-len"])[0].1, "2097152");

    set(&mut c, &[("requirepass", "")]).unwrap();
    assert_eq!(c.requirepass, "");
    set(&mut c, &[]).unwrap();
}

#[test]
fn set_is_all_or_nothing() {
    let mut c = Config::default();
    let before = c.clone();
    let err = set(&mut c, &[("hz", "20"), ("maxclients", "abc")]).unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"
    );
    assert_eq!(c, before);

    let err = set(&mut c, &[("hz", "20"), ("foo", "1")]).unwrap_err();
    assert_eq!(err, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    assert_eq!(c, before);

    let err = set(&mut c, &[("timeout", "5"), ("hz", "501")]).unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 1 and 500 inclusive"
    );
    assert_eq!(c, before);
}

#[test]
fn set_errors_match_redis() {
    let mut c = Config::default();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("port", "7000")],
            "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config",
        ),
        (
            &[("hz", "0")],
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 1 and 500 inclusive",
        ),
        (
            &[("maxclients", "0")],
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
        ),
        (
            &[("maxclients", "-5")],
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
        ),
        (
            &[("hz", "5"), ("HZ", "6")],
            "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter",
        ),
        (
            &[("appendonly", "no")],
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - appendonly no is not supported: Strata always persists writes",
        ),
        (
            &[("appendfsync", "never")],
            "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: always, everysec, no",
        ),
        (
            &[("appendonly", "1")],
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'",
        ),
        (
            &[("proto-max-bulk-len", "lots")],
            "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value",
        ),
        (
            &[("client-query-buffer-limit", "1000")],
            "ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            &[("Foo", "bar"), ("port", "1")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'Foo'",
        ),
        (
            // The first problem wins.
            &[("port", "1"), ("foo", "bar")],
            "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config",
        ),
        (
            &[("bind", "0.0.0.0")],
            "ERR CONFIG SET failed (possibly related to argument 'bind') - can't set immutable config",
        ),
    ];
    for (pairs, expected) in cases {
        assert_eq!(set(&mut c, pairs).unwrap_err(), *expected, "{pairs:?}");
        assert_eq!(c, Config::default());
    }

    let err = c.set(&[(b"requirepass", b"\xff")]).unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'requirepass') - argument must be valid UTF-8"
    );
}

#[test]
fn immutable_directives() {
    let mutable = [
        "requirepass",
        "protected-mode",
        "save",
        "appendonly",
        "appendfsync",
        "maxclients",
        "timeout",
        "tcp-keepalive",
        "loglevel",
        "slowlog-log-slower-than",
        "slowlog-max-len",
        "latency-monitor-threshold",
        "latency-tracking",
        "latency-tracking-info-percentiles",
        "proto-max-bulk-len",
        "client-query-buffer-limit",
        "client-output-buffer-limit",
        "notify-keyspace-events",
        "hz",
        "active-expire-effort",
        "maxmemory",
        "maxmemory-policy",
        "maxmemory-samples",
        "maxmemory-eviction-tenacity",
        "lfu-log-factor",
        "lfu-decay-time",
        "hash-max-listpack-entries",
        "hash-max-listpack-value",
        "set-max-intset-entries",
        "zset-max-listpack-entries",
        "zset-max-listpack-value",
        "hll-sparse-max-bytes",
        "busy-reply-threshold",
        "lua-time-limit",
        "hot-cache-size",
        "acllog-max-len",
        "acl-pubsub-default",
    ];
    for name in Config::directive_names() {
        let current = get(&Config::default(), &[name])[0].1.clone();
        let mut c = Config::default();
        let result = set(&mut c, &[(name, current.as_str())]);
        if mutable.contains(name) {
            assert_eq!(result, Ok(()), "{name}");
        } else {
            assert_eq!(
                result,
                Err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                ))
            );
        }
    }
}

#[test]
fn validate_catches_out_of_range_fields() {
    let c = Config { hz: 0, ..Config::default() };
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "invalid value for 'hz': '0' (argument must be an integer in 1..=500)"
    );
    let mut c = Config::default();
    c.bind.clear();
    assert!(c.validate().is_err());
    let c = Config { proto_max_bulk_len: 10, ..Config::default() };
    assert!(c.validate().is_err());
    let c = Config { dir: PathBuf::new(), ..Config::default() };
    assert!(c.validate().is_err());
}

#[test]
fn rewrite_round_trip() {
    let path = temp_file("roundtrip");
    std::fs::write(&path, SHIPPED).unwrap();
    let mut c = Config::from_file(&path).unwrap();
    set(
        &mut c,
        &[
            ("hz", "42"),
            ("requirepass", "p\"a s\\s\nwörd"),
            ("client-query-buffer-limit", "1500000"),
            ("loglevel", "warning"),
        ],
    )
    .unwrap();
    c.bind = vec!["127.0.0.1".into(), "::1".into()];
    c.dir = PathBuf::from("/var/lib/strata data");
    c.rewrite(&path).unwrap();

    let reloaded = Config::from_file(&path).unwrap();
    assert_eq!(reloaded, c);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\nhz 42\n"), "{text}");
    assert!(text.contains("\nclient-query-buffer-limit 1500000\n"));
    assert!(text.contains("\nproto-max-bulk-len 512mb\n"));
    assert!(text.contains("\nbind 127.0.0.1 ::1\n"));
    assert!(text.contains("\ndir \"/var/lib/strata data\"\n"));
    // Every directive was in the file: nothing appended.
    assert!(!text.contains(rewrite::SIGNATURE));
    // Comments survive.
    assert!(text.starts_with("# Strata configuration file."));
    assert_eq!(
        text.lines().filter(|l| l.starts_with('#')).count(),
        SHIPPED.lines().filter(|l| l.starts_with('#')).count()
    );
    // No temporary file is left behind.
    let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(entries, 1);
    cleanup(&path);
}

#[test]
fn rewrite_keeps_unknown_lines_drops_duplicates_and_appends_changes() {
    let path = temp_file("rewrite");
    let original = "\
# my settings
port 7000

  # indented comment
hz 20
include /etc/other.conf
HZ 30
some-unknown-directive 1 2 3
";
    std::fs::write(&path, original).unwrap();
    let mut c = Config { port: 7000, hz: 30, timeout: 10, maxclients: 99, ..Config::default() };
    c.rewrite(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "\
# my settings
port 7000

  # indented comment
hz 30
include /etc/other.conf
some-unknown-directive 1 2 3
# Generated by CONFIG REWRITE
maxclients 99
timeout 10
"
    );

    // A second rewrite keeps the signature once and appends below the end.
    c.tcp_backlog = 100;
    c.rewrite(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(rewrite::SIGNATURE).count(), 1);
    assert!(text.ends_with("maxclients 99\ntimeout 10\ntcp-backlog 100\n"), "{text}");
    cleanup(&path);
}

#[test]
fn rewrite_creates_missing_file_with_non_defaults_only() {
    let path = temp_file("create");
    let c = Config { requirepass: "pw".into(), ..Config::default() };
    c.rewrite(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "# Generated by CONFIG REWRITE\nrequirepass \"pw\"\n");
    assert_eq!(Config::from_file(&path).unwrap().requirepass, "pw");

    // A directive already in the file stays, even at its default value.
    Config::default().rewrite(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "# Generated by CONFIG REWRITE\nrequirepass \"\"\n");
    cleanup(&path);
}

#[test]
fn rewrite_fails_cleanly_when_directory_is_missing() {
    let path = temp_file("nodir");
    cleanup(&path);
    assert!(Config::default().rewrite(&path).is_err());
}

#[test]
fn enum_spellings() {
    assert_eq!(AppendFsync::NAMES, &["always", "everysec", "no"]);
    assert_eq!(LogLevel::from_name("NOTICE"), Some(LogLevel::Notice));
    assert_eq!(LogLevel::from_name("loud"), None);
    assert_eq!(Compression::Zstd.to_string(), "zstd");
    assert_eq!(LogFormat::Json.as_str(), "json");
}

#[test]
fn maxmemory_directives_validate_as_redis() {
    let mut c = Config::default();
    set(&mut c, &[("maxmemory", "100mb"), ("maxmemory-policy", "ALLKEYS-LRU"), ("lfu-log-factor", "0")]).unwrap();
    assert_eq!((c.maxmemory, c.maxmemory_policy), (100 * 1024 * 1024, crate::config::MaxmemoryPolicy::AllkeysLru));
    assert_eq!(get(&c, &["maxmemory-policy"]), vec![("maxmemory-policy", "allkeys-lru".to_owned())]);
    assert_eq!(
        set(&mut c, &[("maxmemory-policy", "lru")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the \
         following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, \
         allkeys-random, noeviction"
    );
    assert_eq!(
        set(&mut c, &[("maxmemory-samples", "0")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must be between 1 and 64 inclusive"
    );
    assert_eq!(
        set(&mut c, &[("maxmemory-eviction-tenacity", "101")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-eviction-tenacity') - argument must be between 0 and 100 inclusive"
    );
    assert_eq!(
        set(&mut c, &[("maxmemory", "1x")]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
}
