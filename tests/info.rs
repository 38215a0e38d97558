//! INFO against real activity: Redis 7.0's sections in Redis's order, and the figures of
//! commandstats, errorstats, latencystats, stats and keyspace after known traffic. Runs against
//! Strata and (STRATA_TEST_TARGET=redis) redis-server; Strata's own sections are checked on
//! Strata only.

mod common;

use common::{info_fields, info_sections, TestServer};
use redis::Commands;
use std::collections::HashMap;

fn info(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd("INFO");
    for a in args {
        cmd.arg(*a);
    }
    cmd.query(con).expect("INFO")
}

/// `cmdstat_get:calls=2,usec=...` → {calls: "2", ...}.
fn stat_line(fields: &HashMap<String, String>, key: &str) -> HashMap<String, String> {
    let line = fields.get(key).unwrap_or_else(|| panic!("no {key} in INFO"));
    line.split(',').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn sections_in_redis_order() {
    let server = TestServer::start();
    let mut con = server.sync_client();
    let default = info_sections(&info(&mut con, &[]));
    assert_eq!(
        default,
        [
            "server",
            "clients",
            "memory",
            "persistence",
            "stats",
            "replication",
            "cpu",
            "modules",
            "errorstats",
            "cluster",
            "keyspace"
        ]
    );
    assert_eq!(info_sections(&info(&mut con, &["default"])), default);
    let all = info_sections(&info(&mut con, &["all"]));
    let mut expected: Vec<&str> = vec![
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    if server.is_strata() {
        expected.extend(["rocksdb", "hot_cache"]);
    }
    assert_eq!(all, expected);
    assert_eq!(info_sections(&info(&mut con, &["everything"])), expected);
    assert_eq!(info_sections(&info(&mut con, &["CPU", "server"])), ["server", "cpu"]);
    assert_eq!(info(&mut con, &["nosuchsection"]), "");
    // Fields tools read (redis-cli --stat, redis_exporter) are all there.
    let f = info_fields(&info(&mut con, &["all"]));
    for k in [
        "redis_version",
        "redis_mode",
        "os",
        "arch_bits",
        "process_id",
        "run_id",
        "tcp_port",
        "uptime_in_seconds",
        "hz",
        "lru_clock",
        "executable",
        "connected_clients",
        "maxclients",
        "blocked_clients",
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_peak",
        "maxmemory",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
        "mem_allocator",
        "total_system_memory",
        "loading",
        "rdb_changes_since_last_save",
        "rdb_last_save_time",
        "rdb_last_bgsave_status",
        "aof_enabled",
        "aof_last_write_status",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "instantaneous_input_kbps",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "pubsub_channels",
        "pubsub_patterns",
        "total_error_replies",
        "total_reads_processed",
        "total_writes_processed",
        "role",
        "connected_slaves",
        "master_replid",
        "master_repl_offset",
        "used_cpu_sys",
        "used_cpu_user",
        "used_cpu_sys_children",
        "used_cpu_user_main_thread",
        "cluster_enabled",
    ] {
        assert!(f.contains_key(k), "INFO all lacks {k}");
    }
}

#[test]
fn command_and_error_stats_follow_traffic() {
    let server = TestServer::start();
    let mut con = server.sync_client();
    redis::cmd("CONFIG").arg("RESETSTAT").query::<()>(&mut con).unwrap();
    for i in 0..3 {
        let _: () = con.set(format!("k{i}"), i).unwrap();
    }
    let _: Option<String> = con.get("k0").unwrap();
    let _: Option<String> = con.get("missing").unwrap();
    // Refused before running: wrong arity.
    assert!(redis::cmd("GET").query::<String>(&mut con).is_err());
    // Ran and failed: wrong type.
    let _: () = con.rpush("list", "a").unwrap();
    assert!(con.get::<_, String>("list").is_err());
    // Unknown command: an error, no command counted.
    assert!(redis::cmd("NOSUCHCMD").query::<String>(&mut con).is_err());
    // A subcommand is counted under its own name.
    let _: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();

    let f = info_fields(&info(&mut con, &["commandstats"]));
    let set = stat_line(&f, "cmdstat_set");
    assert_eq!(set["calls"], "3");
    assert_eq!(set["rejected_calls"], "0");
    assert_eq!(set["failed_calls"], "0");
    assert!(set["usec"].parse::<u64>().is_ok() && set["usec_per_call"].parse::<f64>().is_ok());
    let get = stat_line(&f, "cmdstat_get");
    assert_eq!(get["calls"], "3", "{get:?}");
    assert_eq!(get["rejected_calls"], "1", "{get:?}");
    assert_eq!(get["failed_calls"], "1", "{get:?}");
    assert_eq!(stat_line(&f, "cmdstat_client|id")["calls"], "1");
    assert!(!f.keys().any(|k| k.contains("nosuchcmd")));

    let e = info_fields(&info(&mut con, &["errorstats"]));
    assert_eq!(e.get("errorstat_WRONGTYPE").map(String::as_str), Some("count=1"));
    assert_eq!(e.get("errorstat_ERR").map(String::as_str), Some("count=2"), "{e:?}");
    let stats = info_fields(&info(&mut con, &["stats"]));
    assert_eq!(stats["total_error_replies"], "3");
    // GET of the list found its key (a hit, as Redis counts it) before the type check.
    assert_eq!(stats["keyspace_hits"], "2");
    assert_eq!(stats["keyspace_misses"], "1");

    // Latency percentiles per command, in the configured percentiles.
    let l = info_fields(&info(&mut con, &["latencystats"]));
    let p = stat_line(&l, "latency_percentiles_usec_set");
    assert_eq!(p.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), ["p50", "p99", "p99.9"].into());
    assert!(p["p50"].parse::<f64>().unwrap() > 0.0);
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("latency-tracking-info-percentiles")
        .arg("90 99.99")
        .query::<()>(&mut con)
        .unwrap();
    let l = info_fields(&info(&mut con, &["latencystats"]));
    let p = stat_line(&l, "latency_percentiles_usec_set");
    assert_eq!(p.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), ["p90", "p99.99"].into());

    // EXEC: each command inside is counted, and errors inside count in errorstats.
    redis::cmd("MULTI").query::<()>(&mut con).unwrap();
    redis::cmd("INCR").arg("k1").query::<()>(&mut con).unwrap();
    redis::cmd("INCR").arg("list").query::<()>(&mut con).unwrap();
    // (The client reports the error inside the reply as an error of the whole EXEC.)
    let _ = redis::cmd("EXEC").query::<redis::Value>(&mut con);
    let f = info_fields(&info(&mut con, &["commandstats"]));
    let incr = stat_line(&f, "cmdstat_incr");
    assert_eq!((incr["calls"].as_str(), incr["failed_calls"].as_str()), ("2", "1"));
    assert_eq!(stat_line(&f, "cmdstat_exec")["calls"], "1");
    let e = info_fields(&info(&mut con, &["errorstats"]));
    assert_eq!(e.get("errorstat_WRONGTYPE").map(String::as_str), Some("count=2"));

    // CONFIG RESETSTAT clears them.
    redis::cmd("CONFIG").arg("RESETSTAT").query::<()>(&mut con).unwrap();
    let f = info_fields(&info(&mut con, &["commandstats", "errorstats"]));
    assert!(!f.contains_key("cmdstat_set") && !f.contains_key("errorstat_ERR"), "{f:?}");
    assert_eq!(info_fields(&info(&mut con, &["stats"]))["total_error_replies"], "0");
}

#[test]
fn clients_keyspace_and_rates() {
    let server = TestServer::start();
    let mut con = server.sync_client();
    let mut other = server.sync_client();
    let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("other").query(&mut other).unwrap();
    for i in 0..10 {
        let _: () = con.set(format!("k{i}"), i).unwrap();
    }
    let _: () = con.set_ex("t", 1, 100).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut other).unwrap();
    let _: () = other.set("x", 1).unwrap();
    // A burst of commands shows in the instantaneous rate (sampled every 100 ms).
    let until = std::time::Instant::now() + std::time::Duration::from_millis(600);
    while std::time::Instant::now() < until {
        let _: Option<String> = con.get("k1").unwrap();
    }
    let f = info_fields(&info(&mut con, &[]));
    assert_eq!(f["connected_clients"], "2");
    assert!(f["db0"].starts_with("keys=11,expires=1,"), "{}", f["db0"]);
    assert!(f["db3"].starts_with("keys=1,expires=0,"), "{}", f["db3"]);
    assert!(f["instantaneous_ops_per_sec"].parse::<u64>().unwrap() > 0, "{}", f["instantaneous_ops_per_sec"]);
    assert!(f["total_commands_processed"].parse::<u64>().unwrap() > 14);
    assert!(f["total_net_input_bytes"].parse::<u64>().unwrap() > 0);
    assert!(f["used_cpu_user"].parse::<f64>().is_ok());
    assert_eq!(f["tcp_port"], server.port.to_string());
    assert_eq!(f["process_id"], server.pid().to_string());
}

#[test]
fn strata_rocksdb_section() {
    let server = TestServer::start();
    if !server.is_strata() {
        return;
    }
    let mut con = server.sync_client();
    for i in 0..100 {
        let _: () = con.set(format!("k{i}"), "v".repeat(100)).unwrap();
    }
    // Disk figures are measured once a second: wait for the writes to show.
    let mut f = info_fields(&info(&mut con, &["rocksdb"]));
    for _ in 0..50 {
        if f["wal_bytes"].parse::<u64>().unwrap() > 100 * 100 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        f = info_fields(&info(&mut con, &["rocksdb"]));
    }
    for k in [
        "disk_used_bytes",
        "wal_bytes",
        "block_cache_capacity",
        "block_cache_usage",
        "memtable_bytes",
        "pending_compaction_bytes",
        "running_compactions",
        "running_flushes",
        "compaction_read_bytes",
        "compaction_write_bytes",
        "write_stall_micros",
        "write_stopped",
        "background_errors",
    ] {
        assert!(f[k].parse::<u64>().is_ok(), "{k}: {:?}", f.get(k));
    }
    assert!(f["disk_used_bytes"].parse::<u64>().unwrap() > 0);
    assert!(f["wal_bytes"].parse::<u64>().unwrap() > 100 * 100, "{}", f["wal_bytes"]);
    assert!(f["cf_metadata"].contains("estimate_keys="), "{}", f["cf_metadata"]);
    assert_eq!(f["write_stopped"], "0");
}

/// Errors inside EXEC and scripts count against the command that failed, once (Redis's
/// `incrCommandStatsOnError` and `ignore_error_stats_update`).
#[test]
fn nested_errors_count_once_against_their_command() {
    let server = TestServer::start();
    let mut con = server.sync_client();
    let _: () = con.set("s", "text").unwrap();
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    let stats = |con: &mut redis::Connection| info_fields(&info(con, &["all"]));

    // MULTI / INCR on a string / EXEC: the INCR failed, EXEC did not.
    let _: () = redis::cmd("MULTI").query(&mut con).unwrap();
    let _: () = redis::cmd("INCR").arg("s").query(&mut con).unwrap();
    let _ = redis::cmd("EXEC").query::<redis::Value>(&mut con);
    let f = stats(&mut con);
    assert_eq!(stat_line(&f, "cmdstat_incr")["failed_calls"], "1");
    assert_eq!(stat_line(&f, "cmdstat_exec")["failed_calls"], "0");
    assert_eq!(f["total_error_replies"], "1");

    // pcall catches the error: the command failed, EVAL did not.
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    let _: redis::Value =
        redis::cmd("EVAL").arg("redis.pcall('INCR', KEYS[1]) return 1").arg(1).arg("s").query(&mut con).unwrap();
    let f = stats(&mut con);
    assert_eq!(stat_line(&f, "cmdstat_incr")["failed_calls"], "1");
    assert_eq!(stat_line(&f, "cmdstat_eval")["failed_calls"], "0");
    assert_eq!(f["total_error_replies"], "1");
    assert_eq!(stat_line(&f, "errorstat_ERR")["count"], "1");

    // redis.call raises it: the client gets it, and it is still one error.
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    let r: redis::RedisResult<redis::Value> =
        redis::cmd("EVAL").arg("return redis.call('INCR', KEYS[1])").arg(1).arg("s").query(&mut con);
    assert!(r.is_err());
    let f = stats(&mut con);
    assert_eq!(stat_line(&f, "cmdstat_incr")["failed_calls"], "1");
    assert_eq!(f["total_error_replies"], "1");
    assert_eq!(stat_line(&f, "errorstat_ERR")["count"], "1");
}

/// A read-only script's reads count once in keyspace_hits; a blocking command that times out
/// is a call.
#[test]
fn script_reads_and_blocking_timeouts_are_counted_once() {
    let server = TestServer::start();
    let mut con = server.sync_client();
    let _: () = con.set("k", "v").unwrap();
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    let _: redis::Value = redis::cmd("EVAL_RO")
        .arg("redis.call('GET', KEYS[1]) return redis.call('GET', KEYS[2])")
        .arg(2)
        .arg("k")
        .arg("missing")
        .query(&mut con)
        .unwrap();
    let f = info_fields(&info(&mut con, &["stats"]));
    assert_eq!(f["keyspace_hits"], "1");
    assert_eq!(f["keyspace_misses"], "1");

    let r: Option<(String, String)> = redis::cmd("BLPOP").arg("nolist").arg("0.05").query(&mut con).unwrap();
    assert!(r.is_none());
    let f = info_fields(&info(&mut con, &["commandstats"]));
    let blpop = stat_line(&f, "cmdstat_blpop");
    assert_eq!(blpop["calls"], "1");
    assert_eq!(blpop["failed_calls"], "0");
}
