//! Server commands: CONFIG GET/SET/RESETSTAT, INFO, DBSIZE, COMMAND and its subcommands.

mod common;

use std::collections::HashMap;

use common::*;
use redis::aio::MultiplexedConnection;

/// CONFIG GET as a name → value map (the order of the pairs is unspecified).
async fn config_get(c: &mut MultiplexedConnection, patterns: &[&str]) -> HashMap<String, String> {
    let mut args = vec!["CONFIG", "GET"];
    args.extend_from_slice(patterns);
    let flat = call(c, &args).await.strings();
    assert_eq!(flat.len() % 2, 0, "CONFIG GET returns name/value pairs: {flat:?}");
    flat.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect()
}

/// INFO as text, with the fields of all its sections in a map.
async fn info(c: &mut MultiplexedConnection, section: Option<&str>) -> (String, HashMap<String, String>) {
    let reply = match section {
        Some(s) => call(c, &["INFO", s]).await,
        None => call(c, &["INFO"]).await,
    };
    let text = reply.text();
    let fields = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (text, fields)
}

const CONFIG_SET_FAILED: &str = "ERR CONFIG SET failed (possibly related to argument";

#[tokio::test]
async fn config_get_exact_and_patterns() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["CONFIG", "GET", "port"]).await, bulks(&["port", &s.port.to_string()]));
    let m = config_get(&mut c, &["*max*"]).await;
    for (name, value) in [("maxclients", "10000"), ("proto-max-bulk-len", "536870912")] {
        assert_eq!(m.get(name).map(String::as_str), Some(value), "{name} in {m:?}");
    }
    assert!(m.keys().all(|k| k.contains("max")), "{m:?}");
    let m = config_get(&mut c, &["client-*"]).await;
    assert!(m.keys().all(|k| k.starts_with("client-")), "{m:?}");
    assert_eq!(m.get("client-query-buffer-limit").map(String::as_str), Some("1073741824"));
    assert_eq!(config_get(&mut c, &["timeo?t"]).await["timeout"], "0");
    // Several patterns at once.
    let m = config_get(&mut c, &["port", "bind", "databases"]).await;
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!(m["bind"], "127.0.0.1");
    assert_eq!(m["databases"], "16");
    let m = config_get(&mut c, &["appendfsync", "requirepass", "dir"]).await;
    assert_eq!(m["appendfsync"], "everysec");
    assert_eq!(m["requirepass"], "");
    assert_eq!(std::fs::canonicalize(&m["dir"]).unwrap(), std::fs::canonicalize(&s.dir).unwrap());
    assert_eq!(call(&mut c, &["CONFIG", "GET", "nonexistent"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["CONFIG", "GET"]).await, arity_err("config|get"));
    assert_eq!(call(&mut c, &["CONFIG", "foo"]).await, err("ERR unknown subcommand 'foo'. Try CONFIG HELP."));
}

#[tokio::test]
async fn config_set_then_get() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "100mb"]).await, ok());
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "proto-max-bulk-len"]).await,
        bulks(&["proto-max-bulk-len", "104857600"])
    );
    assert_eq!(call(&mut c, &["CONFIG", "SET", "appendfsync", "always"]).await, ok());
    assert_eq!(config_get(&mut c, &["appendfsync"]).await["appendfsync"], "always");
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["CONFIG", "SET", "hz", "50"]).await, ok());
    assert_eq!(config_get(&mut c, &["hz"]).await["hz"], "50");
    // Several parameters in one call (Redis 7).
    assert_eq!(call(&mut c, &["CONFIG", "SET", "timeout", "5", "client-query-buffer-limit", "2mb"]).await, ok());
    let m = config_get(&mut c, &["timeout", "client-query-buffer-limit"]).await;
    assert_eq!(m["timeout"], "5");
    assert_eq!(m["client-query-buffer-limit"], "2097152");
    // Visible from another connection too.
    let mut c2 = s.client().await;
    assert_eq!(config_get(&mut c2, &["timeout"]).await["timeout"], "5");
    assert_eq!(call(&mut c, &["CONFIG", "SET", "timeout", "0", "appendfsync", "everysec"]).await, ok());
}

#[tokio::test]
async fn config_set_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "databases", "20"]).await,
        err(&format!("{CONFIG_SET_FAILED} 'databases') - can't set immutable config"))
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "no-such-option", "1"]).await,
        err("ERR Unknown option or number of arguments for CONFIG SET - 'no-such-option'")
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "abc"]).await,
        err(&format!("{CONFIG_SET_FAILED} 'proto-max-bulk-len') - argument must be a memory value"))
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "timeout", "abc"]).await,
        err(&format!("{CONFIG_SET_FAILED} 'timeout') - argument couldn't be parsed into an integer"))
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "timeout", "-1"]).await,
        err(&format!("{CONFIG_SET_FAILED} 'timeout') - argument must be between 0 and 2147483647 inclusive"))
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "loglevel", "foo"]).await,
        err(&format!(
            "{CONFIG_SET_FAILED} 'loglevel') - argument(s) must be one of the following: \
             debug, verbose, notice, warning, nothing"
        ))
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "timeout", "5", "timeout", "6"]).await,
        err(&format!("{CONFIG_SET_FAILED} 'timeout') - duplicate parameter"))
    );
    assert_eq!(call(&mut c, &["CONFIG", "SET", "timeout", "5", "hz"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["CONFIG", "SET", "hz"]).await, arity_err("config|set"));
    // Nothing changed, not even the valid half of a failed multi-parameter call.
    let m = config_get(&mut c, &["databases", "timeout", "hz", "loglevel"]).await;
    assert_eq!(m["databases"], "16");
    assert_eq!(m["timeout"], "0");
    assert_eq!(m["hz"], "10");
    assert_eq!(m["loglevel"], "notice");
}

#[tokio::test]
async fn config_resetstat() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GET", "missing"]).await, nil());
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["GET"]).await, arity_err("get"));
    let (_, before) = info(&mut c, Some("stats")).await;
    assert!(before["keyspace_hits"].parse::<i64>().unwrap() >= 1, "{before:?}");
    assert!(before["keyspace_misses"].parse::<i64>().unwrap() >= 1, "{before:?}");
    assert!(before["total_error_replies"].parse::<i64>().unwrap() >= 1, "{before:?}");
    assert_eq!(call(&mut c, &["CONFIG", "RESETSTAT"]).await, ok());
    let (_, after) = info(&mut c, Some("stats")).await;
    assert_eq!(after["keyspace_hits"], "0");
    assert_eq!(after["keyspace_misses"], "0");
    assert_eq!(after["total_error_replies"], "0");
    assert_eq!(after["expired_keys"], "0");
    // Only CONFIG RESETSTAT itself has run since.
    assert_eq!(after["total_commands_processed"], "1");
    let (stats, _) = info(&mut c, Some("commandstats")).await;
    assert!(!stats.contains("cmdstat_get:"), "{stats}");
    assert!(!stats.contains("cmdstat_set:"), "{stats}");
    assert_eq!(call(&mut c, &["CONFIG", "RESETSTAT", "x"]).await, arity_err("config|resetstat"));
}

#[tokio::test]
async fn info_sections_and_keyspace() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "b", "2", "EX", "100"]).await, ok());
    let (text, fields) = info(&mut c, None).await;
    for needle in ["# Server\r\n", "# Clients\r\n", "# Keyspace\r\n", "# Stats\r\n"] {
        assert!(text.contains(needle), "INFO lacks {needle:?}:\n{text}");
    }
    assert!(text.starts_with("# Server\r\n"), "{text}");
    assert!(fields["redis_version"].starts_with("7."), "{fields:?}");
    assert_eq!(fields["redis_mode"], "standalone");
    assert_eq!(fields["tcp_port"], s.port.to_string());
    assert_eq!(fields["process_id"].parse::<u32>().ok(), Some(s.pid()));
    assert!(fields["connected_clients"].parse::<i64>().unwrap() >= 1);
    assert!(text.contains("\r\ndb0:keys=2,expires=1,avg_ttl="), "keyspace line:\n{text}");
    // Single sections, case-insensitive, and several at once.
    let (server, _) = info(&mut c, Some("server")).await;
    assert!(server.starts_with("# Server\r\n"));
    assert!(!server.contains("# Clients"));
    let (clients, f) = info(&mut c, Some("CLIENTS")).await;
    assert!(clients.starts_with("# Clients\r\n"), "{clients}");
    assert!(f.contains_key("connected_clients"));
    assert!(f.contains_key("maxclients"));
    let both = call(&mut c, &["INFO", "server", "clients"]).await.text();
    assert!(both.contains("# Server") && both.contains("# Clients"), "{both}");
    assert!(!both.contains("# Keyspace"), "{both}");
    let (keyspace, _) = info(&mut c, Some("keyspace")).await;
    assert!(keyspace.starts_with("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl="), "{keyspace:?}");
    assert_eq!(call(&mut c, &["INFO", "nosuchsection"]).await, bulk(""));
}

#[tokio::test]
async fn info_keyspace_lists_each_nonempty_db() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let (empty, _) = info(&mut c, Some("keyspace")).await;
    assert_eq!(empty, "# Keyspace\r\n");
    assert_eq!(call(&mut c, &["SELECT", "3"]).await, ok());
    assert_eq!(call(&mut c, &["MSET", "x", "1", "y", "2", "z", "3"]).await, ok());
    let (text, fields) = info(&mut c, Some("keyspace")).await;
    assert!(!text.contains("db0:"), "{text}");
    assert_eq!(fields["db3"], "keys=3,expires=0,avg_ttl=0");
}

#[tokio::test]
async fn dbsize() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(2));
    assert_eq!(call(&mut c, &["DEL", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(1));
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
}

#[tokio::test]
async fn command_count_and_list() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let count = call(&mut c, &["COMMAND", "COUNT"]).await.int();
    assert!(count > 50, "COMMAND COUNT {count}");
    // COMMAND LIST names subcommands too ("config|get"); COMMAND COUNT does not count them.
    let list = call(&mut c, &["COMMAND", "LIST"]).await.strings();
    assert!(list.len() as i64 >= count, "{} < {count}", list.len());
    for name in ["get", "set", "del", "ping", "command", "config", "info", "client", "config|get"] {
        assert!(list.iter().any(|n| n == name), "{name} not in COMMAND LIST");
    }
    let all = call(&mut c, &["COMMAND"]).await.array();
    assert_eq!(all.len() as i64, count);
    let ge = call(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "get*"]).await.strings();
    for name in ["get", "getex", "getdel", "getrange", "getset"] {
        assert!(ge.iter().any(|n| n == name), "{name} not in {ge:?}");
    }
    assert!(ge.iter().all(|n| n.starts_with("get")), "{ge:?}");
    assert_eq!(call(&mut c, &["COMMAND", "COUNT", "x"]).await, arity_err("command|count"));
    assert_eq!(call(&mut c, &["COMMAND", "foo"]).await, err("ERR unknown subcommand 'foo'. Try COMMAND HELP."));
}

#[tokio::test]
async fn command_info() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let infos = call(&mut c, &["COMMAND", "INFO", "get", "SET", "nosuch"]).await.array();
    assert_eq!(infos.len(), 3);
    let get = infos[0].array();
    assert!(get.len() >= 7, "{get:?}");
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], int(2));
    let flags: Vec<String> = get[2].array().iter().map(Reply::text).collect();
    assert!(flags.contains(&"readonly".to_string()), "{flags:?}");
    assert!(flags.contains(&"fast".to_string()), "{flags:?}");
    assert_eq!(get[3], int(1), "first key");
    assert_eq!(get[4], int(1), "last key");
    assert_eq!(get[5], int(1), "step");
    let cats: Vec<String> = get[6].array().iter().map(Reply::text).collect();
    assert!(cats.contains(&"@read".to_string()), "{cats:?}");
    assert!(cats.contains(&"@string".to_string()), "{cats:?}");
    let set = infos[1].array();
    assert_eq!(set[0], bulk("set"));
    assert_eq!(set[1], int(-3));
    let flags: Vec<String> = set[2].array().iter().map(Reply::text).collect();
    assert!(flags.contains(&"write".to_string()), "{flags:?}");
    assert_eq!(infos[2], nil());
    let mset = call(&mut c, &["COMMAND", "INFO", "mset"]).await.array()[0].array();
    assert_eq!(mset[1], int(-3));
    assert_eq!((mset[3].int(), mset[4].int(), mset[5].int()), (1, -1, 2));
}

#[tokio::test]
async fn command_docs() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let docs = call(&mut c, &["COMMAND", "DOCS", "get"]).await.array();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0], bulk("get"));
    let fields = docs[1].array();
    let map: HashMap<String, Reply> = fields.chunks(2).map(|kv| (kv[0].text(), kv[1].clone())).collect();
    // Strata reports Redis 7.2's texts; the Debian redis-server is 7.0.
    let summary = if s.is_strata() { "Returns the string value of a key." } else { "Get the value of a key" };
    assert_eq!(map["summary"], bulk(summary));
    assert_eq!(map["group"], bulk("string"));
    assert_eq!(map["since"], bulk("1.0.0"));
    assert_eq!(call(&mut c, &["COMMAND", "DOCS", "nosuch"]).await, arr(vec![]));
}

#[tokio::test]
async fn command_getkeys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS", "SET", "a", "b"]).await, bulks(&["a"]));
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]).await, bulks(&["a", "b"]));
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS", "DEL", "a", "b", "c"]).await, bulks(&["a", "b", "c"]));
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS", "RENAME", "x", "y"]).await, bulks(&["x", "y"]));
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS", "foo", "a"]).await, err("ERR Invalid command specified"));
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS", "ECHO", "x"]).await, err("ERR The command has no key arguments"));
    assert_eq!(
        call(&mut c, &["COMMAND", "GETKEYS", "GET", "a", "b"]).await,
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(call(&mut c, &["COMMAND", "GETKEYS"]).await, arity_err("command|getkeys"));
}

#[tokio::test]
async fn config_save_points_are_kept_and_checked_as_redis_does() {
    let s = TestServer::start_with(&["--save", ""]);
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["CONFIG", "GET", "save"]).await, bulks(&["save", ""]));
    assert_eq!(call(&mut c, &["CONFIG", "SET", "save", "3600 1 300 100"]).await, ok());
    assert_eq!(call(&mut c, &["CONFIG", "GET", "save"]).await, bulks(&["save", "3600 1 300 100"]));
    let invalid = err("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters");
    assert_eq!(call(&mut c, &["CONFIG", "SET", "save", "3600"]).await, invalid);
    assert_eq!(call(&mut c, &["CONFIG", "SET", "save", "a b"]).await, invalid);
    assert_eq!(call(&mut c, &["CONFIG", "SET", "save", ""]).await, ok());
    assert_eq!(call(&mut c, &["CONFIG", "GET", "save"]).await, bulks(&["save", ""]));
}

#[tokio::test]
async fn info_memory_reports_rocksdb_budgets_and_use() {
    if target_is_redis() {
        return;
    }
    let s = TestServer::start_with(&["--rocksdb-block-cache-size", "8mb", "--rocksdb-memtable-budget", "4mb"]);
    let mut c = s.client().await;
    assert_eq!(config_get(&mut c, &["rocksdb-memtable-budget"]).await["rocksdb-memtable-budget"], "4194304");
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    let (_, f) = info(&mut c, Some("memory")).await;
    let n = |name: &str| f[name].parse::<u64>().unwrap_or_else(|_| panic!("{name} in {f:?}"));
    assert_eq!(n("rocksdb_block_cache_capacity"), 8 << 20);
    assert_eq!(n("rocksdb_memtable_budget"), 4 << 20);
    assert!(n("rocksdb_memtable_bytes") > 0, "{f:?}");
    assert!(n("rocksdb_block_cache_usage") <= 8 << 20, "{f:?}");
}

/// Every directive CONFIG GET lists can be given to CONFIG SET (its own value back, or Redis's
/// "can't set immutable config"), and CONFIG REWRITE writes what was set so that a restart from
/// the file has the same configuration.
#[tokio::test]
async fn every_directive_sets_and_rewrites() {
    let mut server = TestServer::start_with_config("# empty\n", &[]);
    if !server.is_strata() {
        return;
    }
    let mut c = server.client().await;
    let before = config_get(&mut c, &["*"]).await;
    assert!(before.len() > 40, "{before:?}");
    let mut mutable = 0;
    for (name, value) in &before {
        match call(&mut c, &["CONFIG", "SET", name, value]).await {
            r if r == ok() => mutable += 1,
            r => assert_eq!(
                r,
                err(&format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                )),
                "{name} {value:?}"
            ),
        }
    }
    assert!(mutable > 30, "only {mutable} directives can be set");
    assert_eq!(config_get(&mut c, &["*"]).await, before, "setting each value back changes nothing");

    for (name, value) in [
        ("slowlog-log-slower-than", "-1"),
        ("slowlog-max-len", "7"),
        ("latency-monitor-threshold", "9"),
        ("latency-tracking-info-percentiles", "50 99.9"),
        ("maxmemory-policy", "allkeys-lru"),
        ("notify-keyspace-events", "KEA"),
        ("hz", "20"),
        ("loglevel", "warning"),
    ] {
        assert_eq!(call(&mut c, &["CONFIG", "SET", name, value]).await, ok(), "{name}");
    }
    let set = config_get(&mut c, &["*"]).await;
    assert_eq!(call(&mut c, &["CONFIG", "REWRITE"]).await, ok());
    drop(c);
    server.restart();
    let mut c = server.client().await;
    let mut after = config_get(&mut c, &["*"]).await;
    let mut set = set;
    // The harness gives each start a new port.
    after.remove("port");
    set.remove("port");
    assert_eq!(after, set);
}
