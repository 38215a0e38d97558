//! Generic keyspace commands (DEL, EXISTS, EXPIRE family, RENAME, KEYS, SCAN, databases, COPY,
//! OBJECT …), asserted against the exact replies of Redis 7.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use redis::aio::MultiplexedConnection;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

async fn ttl(c: &mut MultiplexedConnection, key: &str) -> i64 {
    call(c, &["TTL", key]).await.int()
}

const NOT_COMPAT_NX: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
const NOT_COMPAT_GT: &str = "ERR GT and LT options at the same time are not compatible";

#[tokio::test]
async fn del_and_unlink() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).await, ok());
    assert_eq!(call(&mut c, &["DEL", "a", "b", "x"]).await, int(2));
    assert_eq!(call(&mut c, &["DEL", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["UNLINK", "c", "x"]).await, int(1));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    // A key named twice is deleted (and counted) once.
    assert_eq!(call(&mut c, &["SET", "d", "1"]).await, ok());
    assert_eq!(call(&mut c, &["DEL", "d", "d"]).await, int(1));
    assert_eq!(call(&mut c, &["DEL"]).await, arity_err("del"));
    assert_eq!(call(&mut c, &["UNLINK"]).await, arity_err("unlink"));
}

#[tokio::test]
async fn exists_counts_duplicates() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "a", "a", "x", "a"]).await, int(3));
    assert_eq!(call(&mut c, &["EXISTS"]).await, arity_err("exists"));
}

#[tokio::test]
async fn type_command() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["TYPE", "a"]).await, status("string"));
    assert_eq!(call(&mut c, &["TYPE", "x"]).await, status("none"));
    assert_eq!(call(&mut c, &["TYPE"]).await, arity_err("type"));
    assert_eq!(call(&mut c, &["TYPE", "a", "b"]).await, arity_err("type"));
    if make_list(&mut c, "l").await {
        assert_eq!(call(&mut c, &["TYPE", "l"]).await, status("list"));
    }
}

#[tokio::test]
async fn ttl_pttl_missing_and_persistent() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["TTL", "x"]).await, int(-2));
    assert_eq!(call(&mut c, &["PTTL", "x"]).await, int(-2));
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["TTL", "a"]).await, int(-1));
    assert_eq!(call(&mut c, &["PTTL", "a"]).await, int(-1));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100"]).await, int(1));
    assert!((99..=100).contains(&ttl(&mut c, "a").await));
    let p = call(&mut c, &["PTTL", "a"]).await.int();
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    assert_eq!(call(&mut c, &["TTL"]).await, arity_err("ttl"));
    assert_eq!(call(&mut c, &["PTTL", "a", "b"]).await, arity_err("pttl"));
}

#[tokio::test]
async fn expire_family_sets_ttl() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100"]).await, int(1));
    assert!((99..=100).contains(&ttl(&mut c, "a").await));
    assert_eq!(call(&mut c, &["PEXPIRE", "a", "200000"]).await, int(1));
    assert!((199..=200).contains(&ttl(&mut c, "a").await));
    let at = now_ms() / 1000 + 300;
    assert_eq!(call(&mut c, &["EXPIREAT", "a", &at.to_string()]).await, int(1));
    assert_eq!(call(&mut c, &["EXPIRETIME", "a"]).await, int(at));
    assert_eq!(call(&mut c, &["PEXPIRETIME", "a"]).await, int(at * 1000));
    let at_ms = now_ms() + 400_123;
    assert_eq!(call(&mut c, &["PEXPIREAT", "a", &at_ms.to_string()]).await, int(1));
    assert_eq!(call(&mut c, &["PEXPIRETIME", "a"]).await, int(at_ms));
    // EXPIRETIME rounds to the nearest second.
    assert_eq!(call(&mut c, &["EXPIRETIME", "a"]).await, int((at_ms + 500) / 1000));
    // Missing keys.
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(call(&mut c, &[cmd, "x", "100"]).await, int(0), "{cmd}");
    }
    assert_eq!(call(&mut c, &["EXISTS", "x"]).await, int(0));
}

#[tokio::test]
async fn expiretime_missing_and_persistent() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["EXPIRETIME", "x"]).await, int(-2));
    assert_eq!(call(&mut c, &["PEXPIRETIME", "x"]).await, int(-2));
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["EXPIRETIME", "a"]).await, int(-1));
    assert_eq!(call(&mut c, &["PEXPIRETIME", "a"]).await, int(-1));
    assert_eq!(call(&mut c, &["EXPIRETIME"]).await, arity_err("expiretime"));
}

#[tokio::test]
async fn expire_nx_xx_gt_lt() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    // No TTL yet: XX and GT fail (no TTL counts as infinite), LT succeeds.
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "XX"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "GT"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "XX", "GT"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "XX", "LT"]).await, int(0));
    assert_eq!(ttl(&mut c, "a").await, -1);
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "NX"]).await, int(1));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "200", "NX"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "50", "GT"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "150", "gt"]).await, int(1));
    assert!((149..=150).contains(&ttl(&mut c, "a").await));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "300", "LT"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "10", "lt"]).await, int(1));
    assert!((9..=10).contains(&ttl(&mut c, "a").await));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "XX"]).await, int(1));
    assert_eq!(call(&mut c, &["PERSIST", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["EXPIRE", "a", "100", "LT"]).await, int(1));
    assert!((99..=100).contains(&ttl(&mut c, "a").await));
    // The same options for the other three commands.
    assert_eq!(call(&mut c, &["PEXPIRE", "a", "500000", "GT"]).await, int(1));
    assert_eq!(call(&mut c, &["PEXPIRE", "a", "5000", "NX"]).await, int(0));
    let later = (now_ms() / 1000 + 1000).to_string();
    assert_eq!(call(&mut c, &["EXPIREAT", "a", &later, "LT"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIREAT", "a", &later, "GT"]).await, int(1));
    let sooner = now_ms() + 100_000;
    assert_eq!(call(&mut c, &["PEXPIREAT", "a", &sooner.to_string(), "XX"]).await, int(1));
    assert_eq!(call(&mut c, &["PEXPIRETIME", "a"]).await, int(sooner));
}

#[tokio::test]
async fn expire_option_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(call(&mut c, &[cmd, "a", "100", "NX", "XX"]).await, err(NOT_COMPAT_NX), "{cmd}");
        assert_eq!(call(&mut c, &[cmd, "a", "100", "NX", "GT"]).await, err(NOT_COMPAT_NX), "{cmd}");
        assert_eq!(call(&mut c, &[cmd, "a", "100", "lt", "nx"]).await, err(NOT_COMPAT_NX), "{cmd}");
        assert_eq!(call(&mut c, &[cmd, "a", "100", "GT", "LT"]).await, err(NOT_COMPAT_GT), "{cmd}");
        assert_eq!(call(&mut c, &[cmd, "a", "100", "foo"]).await, err("ERR Unsupported option foo"), "{cmd}");
        assert_eq!(call(&mut c, &[cmd, "a", "abc"]).await, err(NOT_INT), "{cmd}");
        assert_eq!(call(&mut c, &[cmd, "a", "1.5"]).await, err(NOT_INT), "{cmd}");
        let lower = cmd.to_ascii_lowercase();
        assert_eq!(call(&mut c, &[cmd, "a"]).await, arity_err(&lower));
    }
    assert_eq!(call(&mut c, &["EXPIRE", "a", "1", "2", "3"]).await, err("ERR Unsupported option 2"));
    for (cmd, t) in [
        ("EXPIRE", "9223372036854775807"),
        ("EXPIRE", "9223372036854775"),
        ("EXPIRE", "-9223372036854775808"),
        ("PEXPIRE", "9223372036854775807"),
        ("EXPIREAT", "9223372036854775807"),
        ("EXPIREAT", "-9223372036854775808"),
    ] {
        let lower = cmd.to_ascii_lowercase();
        assert_eq!(
            call(&mut c, &[cmd, "a", t]).await,
            err(&format!("ERR invalid expire time in '{lower}' command")),
            "{cmd} {t}"
        );
    }
    // No failed call touched the key.
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("1"));
    assert_eq!(ttl(&mut c, "a").await, -1);
}

#[tokio::test]
async fn expire_in_the_past_deletes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let cases: &[&[&str]] = &[
        &["EXPIRE", "a", "0"],
        &["EXPIRE", "a", "-5"],
        &["PEXPIRE", "a", "0"],
        &["PEXPIRE", "a", "-1"],
        &["EXPIREAT", "a", "1"],
        &["PEXPIREAT", "a", "1"],
        &["PEXPIREAT", "a", "0"],
    ];
    for args in cases {
        assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
        assert_eq!(call(&mut c, args).await, int(1), "{args:?}");
        assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0), "{args:?}");
        assert_eq!(call(&mut c, &["TTL", "a"]).await, int(-2), "{args:?}");
    }
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
}

#[tokio::test]
async fn persist() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["PERSIST", "x"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "a", "1", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["PERSIST", "a"]).await, int(1));
    assert_eq!(ttl(&mut c, "a").await, -1);
    assert_eq!(call(&mut c, &["PERSIST", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["PERSIST"]).await, arity_err("persist"));
}

#[tokio::test]
async fn rename() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["RENAME", "x", "y"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["RENAME", "x", "x"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["SET", "a", "1", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["RENAME", "a", "b"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("1"));
    // The TTL moves with the value.
    assert!((99..=100).contains(&ttl(&mut c, "b").await));
    assert_eq!(call(&mut c, &["RENAME", "b", "b"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("1"));
    // Overwrites the destination and its TTL.
    assert_eq!(call(&mut c, &["SET", "c", "2"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "d", "3", "EX", "500"]).await, ok());
    assert_eq!(call(&mut c, &["RENAME", "c", "d"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk("2"));
    assert_eq!(ttl(&mut c, "d").await, -1);
    assert_eq!(call(&mut c, &["RENAME", "a"]).await, arity_err("rename"));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(2));
}

#[tokio::test]
async fn renamenx() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["RENAMENX", "x", "y"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2"]).await, ok());
    assert_eq!(call(&mut c, &["RENAMENX", "a", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("2"));
    assert_eq!(call(&mut c, &["RENAMENX", "a", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["RENAMENX", "a", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "c"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["RENAMENX", "a"]).await, arity_err("renamenx"));
}

fn sorted(r: Reply) -> Vec<String> {
    let mut v = r.strings();
    v.sort();
    v
}

#[tokio::test]
async fn keys_glob_patterns() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["KEYS", "*"]).await, arr(vec![]));
    assert_eq!(
        call(
            &mut c,
            &[
                "MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5", "h[e]llo", "6", "a*b",
                "7", "a?b", "8", "Hello", "9",
            ]
        )
        .await,
        ok()
    );
    let cases: &[(&str, &[&str])] = &[
        ("h?llo", &["hallo", "hello", "hxllo"]),
        ("h*llo", &["h[e]llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]),
        ("h[ae]llo", &["hallo", "hello"]),
        ("h[^e]llo", &["hallo", "hxllo"]),
        ("h[a-b]llo", &["hallo"]),
        ("h\\[e\\]llo", &["h[e]llo"]),
        ("a\\*b", &["a*b"]),
        ("a\\?b", &["a?b"]),
        ("a*", &["a*b", "a?b"]),
        ("[Hh]ello", &["Hello", "hello"]),
        ("hello", &["hello"]),
        ("nomatch", &[]),
    ];
    for (pattern, want) in cases {
        assert_eq!(
            sorted(call(&mut c, &["KEYS", pattern]).await),
            want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "KEYS {pattern}"
        );
    }
    assert_eq!(sorted(call(&mut c, &["KEYS", "*"]).await).len(), 9);
    assert_eq!(call(&mut c, &["KEYS"]).await, arity_err("keys"));
    assert_eq!(call(&mut c, &["KEYS", "a", "b"]).await, arity_err("keys"));
}

/// Scan to completion with the given extra arguments; returns every key in reply order.
async fn full_scan(c: &mut MultiplexedConnection, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let reply = call(c, &args).await.array();
        assert_eq!(reply.len(), 2, "SCAN reply has cursor and keys");
        out.extend(reply[1].strings());
        cursor = reply[0].text();
        if cursor == "0" {
            return out;
        }
    }
    panic!("SCAN never finished");
}

#[tokio::test]
async fn scan_returns_every_key_once() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut mset = vec!["MSET".to_string()];
    for i in 0..1000 {
        mset.push(format!("key:{i}"));
        mset.push(i.to_string());
    }
    assert_eq!(call(&mut c, &mset).await, ok());
    for extra in [&[][..], &["COUNT", "7"][..], &["COUNT", "1000"][..]] {
        let keys = full_scan(&mut c, extra).await;
        assert_eq!(keys.len(), 1000, "SCAN {extra:?} returned duplicates or missed keys");
        let set: HashSet<&String> = keys.iter().collect();
        assert_eq!(set.len(), 1000, "SCAN {extra:?} returned a key twice");
        for i in 0..1000 {
            assert!(set.contains(&format!("key:{i}")), "key:{i} missing");
        }
    }
}

#[tokio::test]
async fn scan_match_count_type() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut mset = vec!["MSET".to_string()];
    for i in 0..100 {
        mset.push(format!("user:{i}"));
        mset.push("x".into());
        mset.push(format!("item:{i}"));
        mset.push("y".into());
    }
    assert_eq!(call(&mut c, &mset).await, ok());
    let users = full_scan(&mut c, &["MATCH", "user:*"]).await;
    assert_eq!(users.len(), 100);
    assert!(users.iter().all(|k| k.starts_with("user:")));
    let one = full_scan(&mut c, &["MATCH", "item:4?", "COUNT", "10"]).await;
    let mut one_sorted = one.clone();
    one_sorted.sort();
    assert_eq!(one_sorted, (40..50).map(|i| format!("item:{i}")).collect::<Vec<_>>());
    let strings = full_scan(&mut c, &["TYPE", "string", "COUNT", "50"]).await;
    assert_eq!(strings.len(), 200);
    assert_eq!(full_scan(&mut c, &["TYPE", "list"]).await, Vec::<String>::new());
    assert_eq!(full_scan(&mut c, &["MATCH", "nothing*", "TYPE", "string"]).await, Vec::<String>::new());
    // A single SCAN call with a small COUNT does not return everything.
    let first = call(&mut c, &["SCAN", "0", "COUNT", "5"]).await.array();
    assert_ne!(first[0].text(), "0");
    assert!(!first[1].array().is_empty());
    assert!(first[1].array().len() < 200);
}

#[tokio::test]
async fn scan_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "-1"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["SCAN", "0", "MATCH"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "0", "foo", "bar"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "abc"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["SCAN", "18446744073709551616"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["SCAN"]).await, arity_err("scan"));
}

#[tokio::test]
async fn scan_during_writes_returns_stable_keys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut mset = vec!["MSET".to_string()];
    for i in 0..500 {
        mset.push(format!("stable:{i}"));
        mset.push("v".into());
    }
    for i in 0..200 {
        mset.push(format!("doomed:{i}"));
        mset.push("v".into());
    }
    assert_eq!(call(&mut c, &mset).await, ok());
    let mut writer = s.client().await;
    let mut cursor = "0".to_string();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut step = 0;
    loop {
        let reply = call(&mut c, &["SCAN", &cursor, "COUNT", "20"]).await.array();
        for k in reply[1].strings() {
            *seen.entry(k).or_default() += 1;
        }
        cursor = reply[0].text();
        // Between calls another client deletes old keys and adds new ones.
        for j in 0..10 {
            let n = step * 10 + j;
            if n < 200 {
                assert_eq!(call(&mut writer, &["DEL", &format!("doomed:{n}")]).await, int(1));
            }
            assert_eq!(call(&mut writer, &["SET", &format!("new:{n}"), "v"]).await, ok());
        }
        step += 1;
        if cursor == "0" {
            break;
        }
        assert!(step < 10_000, "SCAN never finished");
    }
    for i in 0..500 {
        assert!(seen.contains_key(&format!("stable:{i}")), "stable:{i} not returned by SCAN");
    }
    // Nothing that never existed.
    assert!(seen.keys().all(|k| k.starts_with("stable:") || k.starts_with("doomed:") || k.starts_with("new:")));
}

#[tokio::test]
async fn randomkey_and_dbsize() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["RANDOMKEY"]).await, nil());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "only", "1"]).await, ok());
    assert_eq!(call(&mut c, &["RANDOMKEY"]).await, bulk("only"));
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(3));
    for _ in 0..20 {
        let k = call(&mut c, &["RANDOMKEY"]).await.text();
        assert!(["only", "a", "b"].contains(&k.as_str()), "{k}");
    }
    assert_eq!(call(&mut c, &["DBSIZE", "x"]).await, arity_err("dbsize"));
    assert_eq!(call(&mut c, &["RANDOMKEY", "x"]).await, arity_err("randomkey"));
}

#[tokio::test]
async fn flushdb_and_flushall() {
    let s = TestServer::start();
    let mut c = s.client().await;
    async fn fill(c: &mut MultiplexedConnection) {
        for db in ["0", "1", "5"] {
            assert_eq!(call(c, &["SELECT", db]).await, ok());
            assert_eq!(call(c, &["MSET", "a", "1", "b", "2"]).await, ok());
        }
        assert_eq!(call(c, &["SELECT", "0"]).await, ok());
    }
    async fn sizes(c: &mut MultiplexedConnection) -> Vec<i64> {
        let mut out = Vec::new();
        for db in ["0", "1", "5"] {
            assert_eq!(call(c, &["SELECT", db]).await, ok());
            out.push(call(c, &["DBSIZE"]).await.int());
        }
        assert_eq!(call(c, &["SELECT", "0"]).await, ok());
        out
    }
    fill(&mut c).await;
    assert_eq!(sizes(&mut c).await, vec![2, 2, 2]);
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["FLUSHDB"]).await, ok());
    assert_eq!(sizes(&mut c).await, vec![2, 0, 2]);
    assert_eq!(call(&mut c, &["SELECT", "5"]).await, ok());
    assert_eq!(call(&mut c, &["FLUSHDB", "ASYNC"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["FLUSHDB", "SYNC"]).await, ok());
    assert_eq!(sizes(&mut c).await, vec![2, 0, 0]);
    assert_eq!(call(&mut c, &["FLUSHALL"]).await, ok());
    assert_eq!(sizes(&mut c).await, vec![0, 0, 0]);
    fill(&mut c).await;
    assert_eq!(call(&mut c, &["FLUSHALL", "ASYNC"]).await, ok());
    assert_eq!(sizes(&mut c).await, vec![0, 0, 0]);
    fill(&mut c).await;
    assert_eq!(call(&mut c, &["flushall", "sync"]).await, ok());
    assert_eq!(sizes(&mut c).await, vec![0, 0, 0]);
    assert_eq!(call(&mut c, &["GET", "a"]).await, nil());
    // Errors.
    assert_eq!(call(&mut c, &["FLUSHDB", "foo"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["FLUSHALL", "foo"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["FLUSHALL", "SYNC", "ASYNC"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["FLUSHDB", "x", "y"]).await, err(SYNTAX));
}

#[tokio::test]
async fn select() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "db0"]).await, ok());
    assert_eq!(call(&mut c, &["SELECT", "15"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, nil());
    assert_eq!(call(&mut c, &["SET", "k", "db15"]).await, ok());
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("db0"));
    let range = "ERR DB index is out of range";
    assert_eq!(call(&mut c, &["SELECT", "16"]).await, err(range));
    assert_eq!(call(&mut c, &["SELECT", "-1"]).await, err(range));
    assert_eq!(call(&mut c, &["SELECT", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["SELECT"]).await, arity_err("select"));
    // A failed SELECT keeps the current database.
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("db0"));
}

#[tokio::test]
async fn swapdb() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "in0", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["MSET", "b", "in1", "c", "in1"]).await, ok());
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["SWAPDB", "0", "1"]).await, ok());
    // A connection that has db 0 selected now sees what was in db 1.
    assert_eq!(call(&mut c, &["GET", "a"]).await, nil());
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("in1"));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(2));
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("in0"));
    assert!((99..=100).contains(&ttl(&mut c, "a").await));
    assert_eq!(call(&mut c, &["SWAPDB", "0", "0"]).await, ok());
    let range = "ERR DB index is out of range";
    assert_eq!(call(&mut c, &["SWAPDB", "0", "16"]).await, err(range));
    assert_eq!(call(&mut c, &["SWAPDB", "0", "-1"]).await, err(range));
    assert_eq!(call(&mut c, &["SWAPDB", "a", "1"]).await, err("ERR invalid first DB index"));
    assert_eq!(call(&mut c, &["SWAPDB", "0", "a"]).await, err("ERR invalid second DB index"));
    assert_eq!(call(&mut c, &["SWAPDB", "0"]).await, arity_err("swapdb"));
}

#[tokio::test]
async fn move_between_dbs() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MOVE", "x", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "a", "1", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["MOVE", "a", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("1"));
    assert!((99..=100).contains(&ttl(&mut c, "a").await));
    // The destination already has the key: nothing moves.
    assert_eq!(call(&mut c, &["SET", "b", "in1"]).await, ok());
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "b", "in0"]).await, ok());
    assert_eq!(call(&mut c, &["MOVE", "b", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("in0"));
    assert_eq!(call(&mut c, &["MOVE", "b", "0"]).await, err("ERR source and destination objects are the same"));
    assert_eq!(call(&mut c, &["MOVE", "b", "16"]).await, err("ERR DB index is out of range"));
    assert_eq!(call(&mut c, &["MOVE", "b", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["MOVE", "b"]).await, arity_err("move"));
}

#[tokio::test]
async fn copy() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["COPY", "x", "y"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "b", "3", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["COPY", "b", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "c"]).await, bulk("3"));
    assert!((99..=100).contains(&ttl(&mut c, "c").await), "TTL is copied");
    assert_eq!(call(&mut c, &["SET", "b", "4"]).await, ok());
    assert_eq!(call(&mut c, &["COPY", "b", "c"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "c"]).await, bulk("3"));
    assert_eq!(call(&mut c, &["COPY", "b", "c", "REPLACE"]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "c"]).await, bulk("4"));
    assert_eq!(ttl(&mut c, "c").await, -1);
    // The copy is independent of the source.
    assert_eq!(call(&mut c, &["APPEND", "c", "x"]).await, int(2));
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("4"));
    // To another database.
    assert_eq!(call(&mut c, &["COPY", "b", "d", "DB", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "d"]).await, int(0));
    assert_eq!(call(&mut c, &["COPY", "b", "b", "DB", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["MGET", "d", "b"]).await, bulks(&["4", "4"]));
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["COPY", "b", "d", "DB", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["COPY", "b", "d", "db", "1", "replace"]).await, int(1));
}

#[tokio::test]
async fn copy_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "b", "1"]).await, ok());
    let same = "ERR source and destination objects are the same";
    assert_eq!(call(&mut c, &["COPY", "b", "b"]).await, err(same));
    assert_eq!(call(&mut c, &["COPY", "b", "b", "DB", "0"]).await, err(same));
    assert_eq!(call(&mut c, &["COPY", "b", "c", "DB", "16"]).await, err("ERR DB index is out of range"));
    assert_eq!(call(&mut c, &["COPY", "b", "c", "DB", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["COPY", "b", "c", "foo"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["COPY", "b", "c", "DB"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["COPY", "b"]).await, arity_err("copy"));
    assert_eq!(call(&mut c, &["EXISTS", "c"]).await, int(0));
}

#[tokio::test]
async fn touch() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MSET", "b", "1", "c", "2"]).await, ok());
    assert_eq!(call(&mut c, &["TOUCH", "b", "c", "x", "b"]).await, int(3));
    assert_eq!(call(&mut c, &["TOUCH", "x"]).await, int(0));
    assert_eq!(call(&mut c, &["TOUCH"]).await, arity_err("touch"));
}

#[tokio::test]
async fn object_encoding_of_strings() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let cases: &[(&str, &str)] = &[
        ("12345", "int"),
        ("-1", "int"),
        ("0", "int"),
        ("9223372036854775807", "int"),
        ("9223372036854775808", "embstr"),
        ("012", "embstr"),
        ("1.5", "embstr"),
        ("abc", "embstr"),
        ("", "embstr"),
        // 44 bytes is the longest embstr, 45 is raw.
        ("01234567890123456789012345678901234567890123", "embstr"),
        ("012345678901234567890123456789012345678901234", "raw"),
    ];
    for (value, enc) in cases {
        assert_eq!(call(&mut c, &["SET", "k", value]).await, ok());
        assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "k"]).await, bulk(enc), "value {value:?}");
    }
    // APPEND makes a raw string.
    assert_eq!(call(&mut c, &["SET", "e", "abc"]).await, ok());
    assert_eq!(call(&mut c, &["APPEND", "e", "d"]).await, int(4));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "e"]).await, bulk("raw"));
    // INCR makes an int.
    assert_eq!(call(&mut c, &["INCR", "n"]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "n"]).await, bulk("int"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "nokey"]).await, nil());
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING"]).await, arity_err("object|encoding"));
}

#[tokio::test]
async fn object_refcount_and_help() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "e", "abc"]).await, ok());
    assert_eq!(call(&mut c, &["OBJECT", "REFCOUNT", "e"]).await, int(1));
    assert_eq!(call(&mut c, &["SET", "i", "123456"]).await, ok());
    assert_eq!(call(&mut c, &["OBJECT", "REFCOUNT", "i"]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "REFCOUNT", "nokey"]).await, nil());
    let help = call(&mut c, &["OBJECT", "HELP"]).await.array();
    assert!(help.len() > 5, "{help:?}");
    assert!(help[0].text().starts_with("OBJECT <subcommand>"), "{help:?}");
    let all: Vec<String> = help.iter().map(Reply::text).collect();
    assert!(all.iter().any(|l| l.starts_with("ENCODING")), "{all:?}");
    assert!(all.iter().any(|l| l.starts_with("REFCOUNT")), "{all:?}");
    assert_eq!(call(&mut c, &["OBJECT", "foo", "e"]).await, err("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
    assert_eq!(call(&mut c, &["OBJECT"]).await, arity_err("object"));
}
