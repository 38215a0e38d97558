//! HyperLogLog commands, asserted against the exact replies and bytes of Redis 7, plus a
//! cross-check against a real redis-server: the same elements give the same bytes and counts,
//! and values move between the two servers with GET / SET.

mod common;
mod reference;

use common::*;
use redis::aio::MultiplexedConnection;
use reference::Reference;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The bytes of a fresh HLL after PFADD: sparse, one XZERO of 16384, cache marked stale.
const EMPTY_PFADD: &[u8] = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff";

async fn get_bytes(c: &mut MultiplexedConnection, key: &str) -> Vec<u8> {
    match call(c, &["GET", key]).await {
        Reply::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

async fn set_raw(c: &mut MultiplexedConnection, key: &str, value: &[u8]) {
    assert_eq!(call(c, &[b"SET", key.as_bytes(), value]).await, ok());
}

async fn pfadd_many(c: &mut MultiplexedConnection, key: &str, elements: &[String]) {
    for chunk in elements.chunks(1000) {
        let mut args: Vec<&str> = vec!["PFADD", key];
        args.extend(chunk.iter().map(String::as_str));
        let r = call(c, &args).await;
        assert!(matches!(r, Reply::Int(0 | 1)), "{r:?}");
    }
}

/// Deterministic pseudo-random elements.
fn elements(n: usize, seed: u64) -> Vec<String> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("e{x:x}")
        })
        .collect()
}

#[tokio::test]
async fn pfadd_and_pfcount() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["PFADD", "h", "a", "b", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["PFADD", "h", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["PFADD", "h"]).await, int(0));
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]).await, int(3));
    // The count is cached in the header: the top bit of byte 15 clear, the count little-endian.
    let v = get_bytes(&mut c, "h").await;
    assert_eq!(&v[..5], b"HYLL\x01");
    assert_eq!(&v[8..16], &3u64.to_le_bytes());
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]).await, int(3));
    // PFADD with no element creates the key.
    assert_eq!(call(&mut c, &["PFADD", "empty"]).await, int(1));
    assert_eq!(get_bytes(&mut c, "empty").await, EMPTY_PFADD);
    assert_eq!(call(&mut c, &["PFCOUNT", "empty"]).await, int(0));
    assert_eq!(call(&mut c, &["PFCOUNT", "missing"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "h"]).await, status("string"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "h"]).await, bulk("raw"));
    assert_eq!(call(&mut c, &["PFADD"]).await, arity_err("pfadd"));
    assert_eq!(call(&mut c, &["PFCOUNT"]).await, arity_err("pfcount"));
}

#[tokio::test]
async fn pfcount_of_several_keys_is_the_union() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["PFADD", "h1", "a", "b", "c"]).await;
    call(&mut c, &["PFADD", "h2", "c", "d", "e"]).await;
    assert_eq!(call(&mut c, &["PFCOUNT", "h1", "h2"]).await, int(5));
    assert_eq!(call(&mut c, &["PFCOUNT", "h1", "h2", "nope"]).await, int(5));
    // The union is never written: each key keeps its stale cache.
    let before = get_bytes(&mut c, "h1").await;
    call(&mut c, &["PFCOUNT", "h1", "h2"]).await;
    assert_eq!(get_bytes(&mut c, "h1").await, before);
    assert_eq!(call(&mut c, &["EXISTS", "nope"]).await, int(0));
}

#[tokio::test]
async fn wrong_types_and_corrupt_values() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SET", "str", "hello world, not an HLL"]).await;
    call(&mut c, &["RPUSH", "list", "x"]).await;
    call(&mut c, &["PFADD", "h", "a"]).await;
    for cmd in
        [vec!["PFADD", "str", "a"], vec!["PFCOUNT", "str"], vec!["PFCOUNT", "h", "str"], vec!["PFMERGE", "h", "str"]]
    {
        assert_eq!(call(&mut c, &cmd).await, err(NOT_HLL), "{cmd:?}");
    }
    for cmd in [vec!["PFADD", "list", "a"], vec!["PFCOUNT", "list"], vec!["PFMERGE", "h", "list"]] {
        assert_eq!(call(&mut c, &cmd).await, err(WRONGTYPE), "{cmd:?}");
    }
    call(&mut c, &["SET", "int", "12345"]).await;
    assert_eq!(call(&mut c, &["PFCOUNT", "int"]).await, err(NOT_HLL));
    // A dense header of the wrong length, an unknown encoding.
    set_raw(&mut c, "shortdense", b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\x80").await;
    assert_eq!(call(&mut c, &["PFCOUNT", "shortdense"]).await, err(NOT_HLL));
    set_raw(&mut c, "enc", b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff").await;
    assert_eq!(call(&mut c, &["PFADD", "enc", "a"]).await, err(NOT_HLL));
    // Sparse opcodes that cover one register too few, or too many: corrupt.
    set_raw(&mut c, "short", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xfe").await;
    assert_eq!(call(&mut c, &["PFCOUNT", "short"]).await, err(CORRUPT));
    assert_eq!(call(&mut c, &["PFCOUNT", "short", "h"]).await, err(CORRUPT));
    assert_eq!(call(&mut c, &["PFMERGE", "dst", "short"]).await, err(CORRUPT));
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    set_raw(&mut c, "long", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff\x80").await;
    assert_eq!(call(&mut c, &["PFCOUNT", "long"]).await, err(CORRUPT));
}

#[tokio::test]
async fn pfmerge() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["PFADD", "h1", "a", "b", "c"]).await;
    call(&mut c, &["PFADD", "h2", "c", "d", "e"]).await;
    assert_eq!(call(&mut c, &["PFMERGE", "dst", "h1", "h2", "missing"]).await, ok());
    assert_eq!(call(&mut c, &["PFCOUNT", "dst"]).await, int(5));
    // The destination is one of the inputs too.
    call(&mut c, &["PFADD", "h3", "f"]).await;
    assert_eq!(call(&mut c, &["PFMERGE", "dst", "h3"]).await, ok());
    assert_eq!(call(&mut c, &["PFCOUNT", "dst"]).await, int(6));
    // No source at all: an empty HLL.
    assert_eq!(call(&mut c, &["PFMERGE", "new"]).await, ok());
    assert_eq!(get_bytes(&mut c, "new").await, EMPTY_PFADD);
    // A dense input makes the destination dense.
    call(&mut c, &["PFADD", "d", "x"]).await;
    assert_eq!(call(&mut c, &["PFDEBUG", "TODENSE", "d"]).await, int(1));
    assert_eq!(call(&mut c, &["PFMERGE", "m", "h1", "d"]).await, ok());
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "m"]).await, status("dense"));
    assert_eq!(call(&mut c, &["PFCOUNT", "m"]).await, int(4));
    // A destination of another type.
    call(&mut c, &["RPUSH", "list", "x"]).await;
    assert_eq!(call(&mut c, &["PFMERGE", "list", "h1"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["PFMERGE"]).await, arity_err("pfmerge"));
}

#[tokio::test]
async fn pfdebug_and_selftest() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["PFADD", "h", "a", "b", "c"]).await;
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h"]).await, status("sparse"));
    let decoded = call(&mut c, &["PFDEBUG", "DECODE", "h"]).await.text();
    assert_eq!(decoded.matches("v:").count(), 3, "{decoded}");
    assert!(decoded.starts_with('Z') || decoded.starts_with('z') || decoded.starts_with('v'), "{decoded}");
    let regs = call(&mut c, &["PFDEBUG", "GETREG", "h"]).await.array();
    assert_eq!(regs.len(), 16384);
    assert_eq!(regs.iter().filter(|r| **r != int(0)).count(), 3);
    // GETREG turned it dense.
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h"]).await, status("dense"));
    assert_eq!(call(&mut c, &["PFDEBUG", "DECODE", "h"]).await, err("ERR HLL encoding is not sparse"));
    assert_eq!(call(&mut c, &["PFDEBUG", "TODENSE", "h"]).await, int(0));
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]).await, int(3));
    assert_eq!(call(&mut c, &["STRLEN", "h"]).await, int(12304));
    assert_eq!(call(&mut c, &["PFDEBUG", "GETREG", "nokey"]).await, err("ERR The specified key does not exist"));
    assert_eq!(call(&mut c, &["PFDEBUG", "NOPE", "h"]).await, err("ERR Unknown PFDEBUG subcommand 'NOPE'"));
    call(&mut c, &["SET", "s", "x"]).await;
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "s"]).await, err(NOT_HLL));
    assert_eq!(call(&mut c, &["PFSELFTEST"]).await, ok());
}

#[tokio::test]
async fn sparse_max_bytes_promotes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]).await,
        bulks(&["hll-sparse-max-bytes", "3000"])
    );
    assert_eq!(call(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "30"]).await, ok());
    let els = elements(20, 7);
    pfadd_many(&mut c, "h", &els).await;
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h"]).await, status("dense"));
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]).await, int(20));
    assert_eq!(call(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]).await, ok());
    pfadd_many(&mut c, "h2", &els).await;
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h2"]).await, status("sparse"));
    // Both encodings count alike.
    assert_eq!(call(&mut c, &["PFCOUNT", "h2"]).await, int(20));
}

#[tokio::test]
async fn pfadd_inside_multi_and_scripts() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["PFADD", "h", "a", "b"]).await, status("QUEUED"));
    assert_eq!(call(&mut c, &["PFCOUNT", "h"]).await, status("QUEUED"));
    assert_eq!(call(&mut c, &["EXEC"]).await, arr(vec![int(1), int(2)]));
    let r = call(
        &mut c,
        &["EVAL", "redis.call('PFADD', KEYS[1], 'x', 'y', 'z'); return redis.call('PFCOUNT', KEYS[1])", "1", "h"],
    )
    .await;
    assert_eq!(r, int(5));
}

// ---------------------------------------------------------------------------------------------
// Cross-check against a real redis-server
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn same_bytes_and_counts_as_redis() {
    let Some(reference) = Reference::start() else { return };
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut r = reference.client().await;
    for (i, n) in [10usize, 1000, 100_000].into_iter().enumerate() {
        let key = format!("h{n}");
        let els = elements(n, 1000 + i as u64);
        pfadd_many(&mut c, &key, &els).await;
        pfadd_many(&mut r, &key, &els).await;
        assert_eq!(get_bytes(&mut c, &key).await, get_bytes(&mut r, &key).await, "bytes after PFADD of {n}");
        let count = call(&mut r, &["PFCOUNT", &key]).await;
        assert_eq!(call(&mut c, &["PFCOUNT", &key]).await, count, "count of {n}");
        assert_eq!(get_bytes(&mut c, &key).await, get_bytes(&mut r, &key).await, "cached count of {n}");
        let enc = call(&mut r, &["PFDEBUG", "ENCODING", &key]).await;
        assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", &key]).await, enc);
    }
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h10"]).await, status("sparse"));
    assert_eq!(call(&mut c, &["PFDEBUG", "ENCODING", "h100000"]).await, status("dense"));
    let union = call(&mut r, &["PFCOUNT", "h10", "h1000", "h100000"]).await;
    assert_eq!(call(&mut c, &["PFCOUNT", "h10", "h1000", "h100000"]).await, union);
    assert_eq!(call(&mut c, &["PFDEBUG", "DECODE", "h10"]).await, call(&mut r, &["PFDEBUG", "DECODE", "h10"]).await);
    for cmd in [["PFMERGE", "m1", "h10", "h1000"], ["PFMERGE", "m2", "h1000", "h100000"]] {
        assert_eq!(call(&mut c, &cmd).await, ok());
        assert_eq!(call(&mut r, &cmd).await, ok());
        assert_eq!(get_bytes(&mut c, cmd[1]).await, get_bytes(&mut r, cmd[1]).await, "{cmd:?}");
    }
}

#[tokio::test]
async fn values_move_between_redis_and_strata() {
    let Some(reference) = Reference::start() else { return };
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut r = reference.client().await;
    // Made by Redis (sparse and dense), continued in Strata and in Redis alike.
    for (n, seed) in [(300usize, 11u64), (20_000, 12)] {
        let key = format!("r{n}");
        pfadd_many(&mut r, &key, &elements(n, seed)).await;
        let bytes = get_bytes(&mut r, &key).await;
        assert_eq!(call(&mut c, &["SET".as_bytes(), key.as_bytes(), &bytes]).await, ok());
        assert_eq!(call(&mut c, &["PFCOUNT", &key]).await, call(&mut r, &["PFCOUNT", &key]).await);
        let more = elements(n / 2, seed + 100);
        pfadd_many(&mut c, &key, &more).await;
        pfadd_many(&mut r, &key, &more).await;
        assert_eq!(get_bytes(&mut c, &key).await, get_bytes(&mut r, &key).await, "{key} after more PFADDs");
        assert_eq!(call(&mut c, &["PFCOUNT", &key]).await, call(&mut r, &["PFCOUNT", &key]).await);
    }
    // Made by Strata, read by Redis.
    pfadd_many(&mut c, "s", &elements(2500, 21)).await;
    let bytes = get_bytes(&mut c, "s").await;
    assert_eq!(call(&mut r, &["SET".as_bytes(), b"s", &bytes]).await, ok());
    assert_eq!(call(&mut r, &["PFCOUNT", "s"]).await, call(&mut c, &["PFCOUNT", "s"]).await);
    assert_eq!(get_bytes(&mut c, "s").await, get_bytes(&mut r, "s").await);
    let more = elements(5000, 22);
    pfadd_many(&mut c, "s", &more).await;
    pfadd_many(&mut r, "s", &more).await;
    assert_eq!(get_bytes(&mut c, "s").await, get_bytes(&mut r, "s").await);
    for srv in [&mut c, &mut r] {
        assert_eq!(call(srv, &["PFMERGE", "all", "s", "r300", "r20000"]).await, ok());
    }
    assert_eq!(get_bytes(&mut c, "all").await, get_bytes(&mut r, "all").await);
    assert_eq!(call(&mut c, &["PFCOUNT", "all"]).await, call(&mut r, &["PFCOUNT", "all"]).await);
}

// ---------------------------------------------------------------------------------------------
// Notifications, WATCH, ACL categories
// ---------------------------------------------------------------------------------------------

/// The keyevent notifications of `cmds` (a SET of `zz-end` marks their end).
fn events_of(s: &TestServer, cmds: &[&[&str]]) -> Vec<String> {
    let mut ctl = RawConn::connect(s.port);
    assert_eq!(ctl.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), ok());
    let mut sub = RawConn::connect(s.port);
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    for cmd in cmds {
        assert!(!ctl.call(cmd).is_err(), "{cmd:?}");
    }
    ctl.call(&["SET", "zz-end", "1"]);
    let mut out = Vec::new();
    loop {
        let m = sub.read_reply().array();
        let line = format!("{} {}", m[2].text(), m[3].text());
        if line == "__keyevent@0__:set zz-end" {
            return out;
        }
        out.push(line);
    }
}

#[test]
fn notifications() {
    let s = TestServer::start();
    let events = events_of(
        &s,
        &[
            &["PFADD", "h", "a"],
            &["PFADD", "h", "a"],
            &["PFCOUNT", "h"],
            &["PFMERGE", "m", "h"],
            &["PFDEBUG", "TODENSE", "m"],
        ],
    );
    assert_eq!(events, vec!["__keyevent@0__:pfadd h", "__keyevent@0__:pfadd m"]);
}

#[test]
fn watch_sees_hll_writes_and_cache_updates() {
    let s = TestServer::start();
    let mut c1 = RawConn::connect(s.port);
    let mut c2 = RawConn::connect(s.port);
    c2.call(&["PFADD", "h", "a"]);
    // A PFADD that changes nothing does not touch the key.
    assert_eq!(c1.call(&["WATCH", "h"]), ok());
    assert_eq!(c2.call(&["PFADD", "h", "a"]), int(0));
    c1.call(&["MULTI"]);
    c1.call(&["PING"]);
    assert_eq!(c1.call(&["EXEC"]), arr(vec![status("PONG")]));
    // PFCOUNT storing the count it computed modifies the key (as in Redis).
    assert_eq!(c1.call(&["WATCH", "h"]), ok());
    assert_eq!(c2.call(&["PFCOUNT", "h"]), int(1));
    c1.call(&["MULTI"]);
    c1.call(&["PING"]);
    assert_eq!(c1.call(&["EXEC"]), nil());
}

#[test]
fn acl_category() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut cmds = c.call(&["ACL", "CAT", "hyperloglog"]).strings();
    cmds.sort();
    assert_eq!(cmds, vec!["pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest"]);
}

#[test]
fn writes_keep_the_expiry() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    c.call(&["PFADD", "h", "a"]);
    assert_eq!(c.call(&["EXPIRE", "h", "1000"]), int(1));
    assert_eq!(c.call(&["PFADD", "h", "b"]), int(1));
    assert_eq!(c.call(&["PFCOUNT", "h"]), int(2));
    c.call(&["PFMERGE", "h", "h"]);
    assert!(matches!(c.call(&["TTL", "h"]), Reply::Int(990..=1000)));
}
