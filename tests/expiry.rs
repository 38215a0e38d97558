//! Key expiry: lazy (exact to the millisecond on every read path) and active (keys nobody
//! touches disappear by themselves). No test sleeps longer than a second.

mod common;

use std::time::{Duration, Instant};

use common::*;
use redis::aio::MultiplexedConnection;

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn info_field(c: &mut MultiplexedConnection, section: &str, field: &str) -> Option<String> {
    let info = call(c, &["INFO", section]).await.text();
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).map(|v| v.trim().to_string())
}

#[tokio::test]
async fn lazy_expiry_exact_to_the_ms() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "PX", "50"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    sleep_ms(60).await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, nil());
    assert_eq!(call(&mut c, &["TTL", "k"]).await, int(-2));
    assert_eq!(call(&mut c, &["PTTL", "k"]).await, int(-2));
}

#[tokio::test]
async fn key_lives_until_its_deadline() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "PX", "400"]).await, ok());
    sleep_ms(100).await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    let p = call(&mut c, &["PTTL", "k"]).await.int();
    assert!((1..=300).contains(&p), "pttl {p}");
    sleep_ms(p as u64 + 20).await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, nil());
}

#[tokio::test]
async fn ttl_decreases() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "10"]).await, ok());
    let p1 = call(&mut c, &["PTTL", "k"]).await.int();
    sleep_ms(30).await;
    let p2 = call(&mut c, &["PTTL", "k"]).await.int();
    sleep_ms(30).await;
    let p3 = call(&mut c, &["PTTL", "k"]).await.int();
    assert!(p1 <= 10_000 && p1 > 9_900, "p1 {p1}");
    assert!(p2 <= p1 - 30, "p1 {p1} p2 {p2}");
    assert!(p3 <= p2 - 30, "p2 {p2} p3 {p3}");
    assert!(p3 > 9_000, "p3 {p3}");
    // TTL rounds to the nearest second.
    assert_eq!(call(&mut c, &["TTL", "k"]).await, int(10));
}

#[tokio::test]
async fn active_expiry_removes_untouched_keys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for i in 0..100 {
        assert_eq!(call(&mut c, &["SET", &format!("k:{i}"), "v", "PX", "1000"]).await, ok());
    }
    assert_eq!(call(&mut c, &["SELECT", "3"]).await, ok());
    for i in 0..20 {
        assert_eq!(call(&mut c, &["SET", &format!("k3:{i}"), "v", "PX", "1000"]).await, ok());
    }
    assert_eq!(call(&mut c, &["SET", "keep3", "v"]).await, ok());
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "keep", "v"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(101));
    // (TTLs of a second: the writes above must all land before any expires, even on a
    // loaded machine.)
    sleep_ms(1000).await;
    // Poll DBSIZE only: nothing reads the expired keys themselves.
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut size = call(&mut c, &["DBSIZE"]).await.int();
    while size != 1 && Instant::now() < deadline {
        sleep_ms(10).await;
        size = call(&mut c, &["DBSIZE"]).await.int();
    }
    assert_eq!(size, 1, "DBSIZE a second after the keys expired");
    assert_eq!(call(&mut c, &["SELECT", "3"]).await, ok());
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut size = call(&mut c, &["DBSIZE"]).await.int();
    while size != 1 && Instant::now() < deadline {
        sleep_ms(10).await;
        size = call(&mut c, &["DBSIZE"]).await.int();
    }
    assert_eq!(size, 1, "keys with a TTL in db 3 were not expired");
    assert_eq!(call(&mut c, &["GET", "keep3"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "keep"]).await, bulk("v"));
    assert_eq!(info_field(&mut c, "stats", "expired_keys").await.as_deref(), Some("120"));
}

#[tokio::test]
async fn expired_keys_are_invisible() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "live", "v"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "dead", "v", "PX", "30"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "dead2", "12", "PX", "30"]).await, ok());
    sleep_ms(50).await;
    assert_eq!(call(&mut c, &["GET", "dead"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "dead", "dead2", "live"]).await, int(1));
    assert_eq!(call(&mut c, &["KEYS", "*"]).await, bulks(&["live"]));
    assert_eq!(call(&mut c, &["KEYS", "dead*"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["MGET", "dead", "live", "dead2"]).await, arr(vec![nil(), bulk("v"), nil()]));
    assert_eq!(call(&mut c, &["TYPE", "dead"]).await, status("none"));
    assert_eq!(call(&mut c, &["STRLEN", "dead2"]).await, int(0));
    assert_eq!(call(&mut c, &["GETRANGE", "dead2", "0", "-1"]).await, bulk(""));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "dead2"]).await, nil());
    assert_eq!(call(&mut c, &["EXPIRETIME", "dead"]).await, int(-2));
    assert_eq!(call(&mut c, &["RANDOMKEY"]).await, bulk("live"));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(1));
    // A full SCAN.
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    loop {
        let r = call(&mut c, &["SCAN", &cursor]).await.array();
        keys.extend(r[1].strings());
        cursor = r[0].text();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(keys, vec!["live".to_string()]);
}

#[tokio::test]
async fn writes_to_expired_keys_start_fresh() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for k in keys {
        assert_eq!(call(&mut c, &["SET", k, "10", "PX", "30"]).await, ok());
    }
    sleep_ms(50).await;
    assert_eq!(call(&mut c, &["SETNX", "a", "new"]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("new"));
    assert_eq!(call(&mut c, &["TTL", "a"]).await, int(-1));
    assert_eq!(call(&mut c, &["INCR", "b"]).await, int(1));
    assert_eq!(call(&mut c, &["TTL", "b"]).await, int(-1));
    assert_eq!(call(&mut c, &["APPEND", "c", "x"]).await, int(1));
    assert_eq!(call(&mut c, &["SET", "d", "v", "NX"]).await, ok());
    assert_eq!(call(&mut c, &["GETSET", "e", "v"]).await, nil());
    assert_eq!(call(&mut c, &["SET", "f", "v", "XX"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "f"]).await, int(0));
    assert_eq!(call(&mut c, &["RENAME", "g", "gg"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["COPY", "h", "hh"]).await, int(0));
    assert_eq!(call(&mut c, &["EXPIRE", "i", "100"]).await, int(0));
    assert_eq!(call(&mut c, &["PERSIST", "j"]).await, int(0));
    assert_eq!(call(&mut c, &["MSETNX", "i", "1", "j", "2"]).await, int(1));
    assert_eq!(call(&mut c, &["TTL", "j"]).await, int(-1));
    assert_eq!(call(&mut c, &["SETRANGE", "g", "2", "x"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "g"]).await, bulk(b"\0\0x"));
    assert_eq!(call(&mut c, &["DEL", "h"]).await, int(0));
}

#[tokio::test]
async fn set_without_keepttl_clears_ttl() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "PX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "k", "v2"]).await, ok());
    assert_eq!(call(&mut c, &["TTL", "k"]).await, int(-1));
    assert_eq!(call(&mut c, &["SET", "t", "v", "PX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "t", "v2", "KEEPTTL"]).await, ok());
    sleep_ms(150).await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v2"));
    assert_eq!(call(&mut c, &["GET", "t"]).await, nil());
}

#[tokio::test]
async fn expire_with_negative_or_past_time_deletes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).await, ok());
    assert_eq!(call(&mut c, &["EXPIRE", "a", "-1"]).await, int(1));
    assert_eq!(call(&mut c, &["PEXPIREAT", "b", "1000"]).await, int(1));
    assert_eq!(call(&mut c, &["EXPIREAT", "c", "0"]).await, int(1));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["MGET", "a", "b", "c"]).await, arr(vec![nil(), nil(), nil()]));
}

#[tokio::test]
async fn getex_and_setex_expire() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "g", "v"]).await, ok());
    assert_eq!(call(&mut c, &["GETEX", "g", "PX", "40"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["PSETEX", "p", "40", "v"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "x", "v"]).await, ok());
    assert_eq!(call(&mut c, &["PEXPIRE", "x", "40"]).await, int(1));
    sleep_ms(60).await;
    assert_eq!(call(&mut c, &["EXISTS", "g", "p", "x"]).await, int(0));
}

#[tokio::test]
async fn persist_cancels_expiry() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "PX", "50"]).await, ok());
    assert_eq!(call(&mut c, &["PERSIST", "k"]).await, int(1));
    sleep_ms(100).await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    // A longer EXPIRE replaces a short one.
    assert_eq!(call(&mut c, &["PEXPIRE", "k", "50"]).await, int(1));
    assert_eq!(call(&mut c, &["EXPIRE", "k", "100"]).await, int(1));
    sleep_ms(100).await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
}
