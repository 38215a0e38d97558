//! Hash commands (HSET, HGET, HRANDFIELD, HSCAN …), asserted against the exact replies of
//! Redis 7.0.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use redis::aio::MultiplexedConnection;

async fn sorted_strings(c: &mut MultiplexedConnection, args: &[&str]) -> Vec<String> {
    let mut v = call(c, args).await.strings();
    v.sort();
    v
}

/// HGETALL as a map (RESP2 flat array).
async fn getall(c: &mut MultiplexedConnection, key: &str) -> HashMap<String, String> {
    let flat = call(c, &["HGETALL", key]).await.strings();
    assert_eq!(flat.len() % 2, 0);
    flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

#[tokio::test]
async fn hset_hget_basics() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b", "2"]).await, int(2));
    assert_eq!(call(&mut c, &["HSET", "h", "a", "10", "c", "3"]).await, int(1));
    // A field named twice is added once and takes its last value.
    assert_eq!(call(&mut c, &["HSET", "h", "d", "x", "d", "y"]).await, int(1));
    assert_eq!(call(&mut c, &["HGET", "h", "a"]).await, bulk("10"));
    assert_eq!(call(&mut c, &["HGET", "h", "d"]).await, bulk("y"));
    assert_eq!(call(&mut c, &["HGET", "h", "zz"]).await, nil());
    assert_eq!(call(&mut c, &["HGET", "nokey", "a"]).await, nil());
    assert_eq!(call(&mut c, &["HLEN", "h"]).await, int(4));
    assert_eq!(call(&mut c, &["HLEN", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "h"]).await, status("hash"));
    assert_eq!(call(&mut c, &["HMSET", "h", "e", "5", "a", "11"]).await, ok());
    assert_eq!(call(&mut c, &["HGET", "h", "a"]).await, bulk("11"));
    assert_eq!(call(&mut c, &["HLEN", "h"]).await, int(5));
    // Binary-safe fields and values, and empty ones.
    assert_eq!(call(&mut c, &[&b"HSET"[..], b"bin", b"\x00\xff\r\n", b"", b"", b"\x01"]).await, int(2));
    assert_eq!(call(&mut c, &[&b"HGET"[..], b"bin", b"\x00\xff\r\n"]).await, bulk(""));
    assert_eq!(call(&mut c, &[&b"HGET"[..], b"bin", b""]).await, bulk(b"\x01"));
}

#[tokio::test]
async fn hsetnx_hexists_hstrlen() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HSETNX", "h", "a", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["HSETNX", "h", "a", "2"]).await, int(0));
    assert_eq!(call(&mut c, &["HGET", "h", "a"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["HEXISTS", "h", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["HEXISTS", "h", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["HEXISTS", "nokey", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["HSET", "h", "s", "hello world"]).await, int(1));
    assert_eq!(call(&mut c, &["HSTRLEN", "h", "s"]).await, int(11));
    assert_eq!(call(&mut c, &["HSTRLEN", "h", "zz"]).await, int(0));
    assert_eq!(call(&mut c, &["HSTRLEN", "nokey", "zz"]).await, int(0));
    assert_eq!(call(&mut c, &["HSET", "n", "i", "-123"]).await, int(1));
    assert_eq!(call(&mut c, &["HSTRLEN", "n", "i"]).await, int(4));
}

#[tokio::test]
async fn hmget_and_listings() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]).await, int(3));
    assert_eq!(
        call(&mut c, &["HMGET", "h", "a", "zz", "c", "a"]).await,
        arr(vec![bulk("1"), nil(), bulk("3"), bulk("1")])
    );
    assert_eq!(call(&mut c, &["HMGET", "nokey", "a", "b"]).await, arr(vec![nil(), nil()]));
    assert_eq!(sorted_strings(&mut c, &["HKEYS", "h"]).await, vec!["a", "b", "c"]);
    assert_eq!(sorted_strings(&mut c, &["HVALS", "h"]).await, vec!["1", "2", "3"]);
    let all = getall(&mut c, "h").await;
    assert_eq!(all.len(), 3);
    assert_eq!(all["b"], "2");
    assert_eq!(call(&mut c, &["HGETALL", "nokey"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["HKEYS", "nokey"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["HVALS", "nokey"]).await, arr(vec![]));
}

#[tokio::test]
async fn hdel_and_empty_hash_disappears() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]).await, int(3));
    assert_eq!(call(&mut c, &["HDEL", "h", "a", "zz", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["HDEL", "h", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["HDEL", "nokey", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["HLEN", "h"]).await, int(2));
    assert_eq!(call(&mut c, &["HDEL", "h", "b", "c"]).await, int(2));
    assert_eq!(call(&mut c, &["EXISTS", "h"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "h"]).await, status("none"));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    // A new hash at the same key starts empty.
    assert_eq!(call(&mut c, &["HSET", "h", "x", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["HGETALL", "h"]).await, bulks(&["x", "1"]));
    // DEL removes the whole hash; the next one does not see old fields.
    assert_eq!(call(&mut c, &["HSET", "h", "y", "2"]).await, int(1));
    assert_eq!(call(&mut c, &["DEL", "h"]).await, int(1));
    assert_eq!(call(&mut c, &["HSET", "h", "z", "3"]).await, int(1));
    assert_eq!(call(&mut c, &["HGETALL", "h"]).await, bulks(&["z", "3"]));
}

#[tokio::test]
async fn hincrby() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "5"]).await, int(5));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "-7"]).await, int(-2));
    assert_eq!(call(&mut c, &["HGET", "h", "n"]).await, bulk("-2"));
    assert_eq!(call(&mut c, &["HLEN", "h"]).await, int(1));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "1.5"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["HSET", "h", "s", "abc", "sp", " 1", "f", "1.0"]).await, int(3));
    for f in ["s", "sp", "f"] {
        assert_eq!(call(&mut c, &["HINCRBY", "h", f, "1"]).await, err("ERR hash value is not an integer"));
    }
    assert_eq!(call(&mut c, &["HSET", "h", "big", "9223372036854775806"]).await, int(1));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "big", "1"]).await, int(i64::MAX));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "big", "1"]).await, err("ERR increment or decrement would overflow"));
    assert_eq!(call(&mut c, &["HSET", "h", "small", "-9223372036854775807"]).await, int(1));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "small", "-1"]).await, int(i64::MIN));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "small", "-1"]).await, err("ERR increment or decrement would overflow"));
    assert_eq!(call(&mut c, &["HGET", "h", "small"]).await, bulk("-9223372036854775808"));
}

#[tokio::test]
async fn hincrbyfloat() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "f", "10.50"]).await, bulk("10.5"));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "f", "0.1"]).await, bulk("10.6"));
    assert_eq!(call(&mut c, &["HSET", "h", "e", "5.0e3"]).await, int(1));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "e", "2.0e2"]).await, bulk("5200"));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "i", "3"]).await, bulk("3"));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "i", "-3.5"]).await, bulk("-0.5"));
    assert_eq!(call(&mut c, &["HGET", "h", "i"]).await, bulk("-0.5"));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "f", "abc"]).await, err("ERR value is not a valid float"));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "f", "inf"]).await, err("ERR value is NaN or Infinity"));
    assert_eq!(call(&mut c, &["HSET", "h", "s", "abc"]).await, int(1));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "s", "1"]).await, err("ERR hash value is not a float"));
    assert_eq!(call(&mut c, &["HSET", "h", "inf", "inf"]).await, int(1));
    assert_eq!(
        call(&mut c, &["HINCRBYFLOAT", "h", "inf", "1"]).await,
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(call(&mut c, &["HGET", "h", "inf"]).await, bulk("inf"));
}

#[tokio::test]
async fn wrongtype_and_arity() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    let wrong: &[&[&str]] = &[
        &["HSET", "str", "a", "1"],
        &["HSETNX", "str", "a", "1"],
        &["HMSET", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HGETALL", "str"],
        &["HDEL", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "2"],
        &["HRANDFIELD", "str", "-2", "WITHVALUES"],
        &["HSCAN", "str", "0"],
    ];
    for args in wrong {
        assert_eq!(call(&mut c, args).await, err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(call(&mut c, &["GET", "str"]).await, bulk("v"));
    // A hash is the wrong type for string commands.
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "h"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["INCR", "h"]).await, err(WRONGTYPE));

    assert_eq!(call(&mut c, &["HSET", "h", "a"]).await, arity_err("hset"));
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b"]).await, arity_err("hset"));
    assert_eq!(call(&mut c, &["HMSET", "h", "a", "1", "b"]).await, arity_err("hmset"));
    assert_eq!(call(&mut c, &["HSETNX", "h", "a"]).await, arity_err("hsetnx"));
    assert_eq!(call(&mut c, &["HGET", "h"]).await, arity_err("hget"));
    assert_eq!(call(&mut c, &["HMGET", "h"]).await, arity_err("hmget"));
    assert_eq!(call(&mut c, &["HDEL", "h"]).await, arity_err("hdel"));
    assert_eq!(call(&mut c, &["HLEN"]).await, arity_err("hlen"));
    assert_eq!(call(&mut c, &["HGETALL", "h", "x"]).await, arity_err("hgetall"));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "a"]).await, arity_err("hincrby"));
    assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "a"]).await, arity_err("hincrbyfloat"));
    assert_eq!(call(&mut c, &["HRANDFIELD"]).await, arity_err("hrandfield"));
    assert_eq!(call(&mut c, &["HSCAN", "h"]).await, arity_err("hscan"));
    assert_eq!(call(&mut c, &["HSTRLEN", "h"]).await, arity_err("hstrlen"));
    assert_eq!(call(&mut c, &["HEXISTS", "h"]).await, arity_err("hexists"));
    assert_eq!(call(&mut c, &["HKEYS"]).await, arity_err("hkeys"));
    assert_eq!(call(&mut c, &["HVALS"]).await, arity_err("hvals"));
    // Nothing was written by the failed calls.
    assert_eq!(call(&mut c, &["HGETALL", "h"]).await, bulks(&["a", "1"]));
}

#[tokio::test]
async fn hrandfield() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HRANDFIELD", "nokey"]).await, nil());
    assert_eq!(call(&mut c, &["HRANDFIELD", "nokey", "3"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]).await, int(5));
    let fields: HashSet<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
    let one = call(&mut c, &["HRANDFIELD", "h"]).await.text();
    assert!(fields.contains(&one));
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "0"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "0", "WITHVALUES"]).await, arr(vec![]));
    for n in [1usize, 3, 4] {
        let got = call(&mut c, &["HRANDFIELD", "h", &n.to_string()]).await.strings();
        assert_eq!(got.len(), n);
        let distinct: HashSet<String> = got.iter().cloned().collect();
        assert_eq!(distinct.len(), n, "{got:?}");
        assert!(distinct.is_subset(&fields));
    }
    // At least the whole hash: every field once.
    let mut all = call(&mut c, &["HRANDFIELD", "h", "10"]).await.strings();
    all.sort();
    assert_eq!(all, vec!["a", "b", "c", "d", "e"]);
    // Negative: exactly |count| picks, repeats allowed.
    let rep = call(&mut c, &["HRANDFIELD", "h", "-20"]).await.strings();
    assert_eq!(rep.len(), 20);
    assert!(rep.iter().all(|f| fields.contains(f)));
    let rep = call(&mut c, &["HRANDFIELD", "h", "-3"]).await.strings();
    assert_eq!(rep.len(), 3);
    // WITHVALUES: flat field/value pairs in RESP2.
    for n in ["3", "-8", "9"] {
        let got = call(&mut c, &["HRANDFIELD", "h", n, "withvalues"]).await.strings();
        let want = n.parse::<i64>().unwrap().unsigned_abs().min(if n.starts_with('-') { 100 } else { 5 });
        assert_eq!(got.len() as u64, want * 2, "{n}");
        for p in got.chunks(2) {
            assert_eq!(p[1], ((p[0].as_bytes()[0] - b'a' + b'1') as char).to_string());
        }
    }
    // Errors.
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUE"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]).await,
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"]).await,
        err("ERR value is out of range")
    );
    assert_eq!(
        call(&mut c, &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]).await,
        err("ERR value is out of range")
    );
    if s.is_strata() {
        // Redis would try to build a reply of 2^63 fields; Strata refuses counts that large.
        assert_eq!(call(&mut c, &["HRANDFIELD", "h", "-9223372036854775807"]).await, err("ERR value is out of range"));
        assert_eq!(call(&mut c, &["HRANDFIELD", "nokey", "-9223372036854775807"]).await, arr(vec![]));
    }
    // A huge positive count is just the whole hash.
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "9223372036854775807"]).await.strings().len(), 5);
    assert_eq!(call(&mut c, &["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"]).await.strings().len(), 10);
}

#[tokio::test]
async fn hrandfield_big_hash() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut args = vec!["HSET".to_string(), "h".to_string()];
    for i in 0..1000 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(call(&mut c, &args).await, int(1000));
    let got = call(&mut c, &["HRANDFIELD", "h", "50", "WITHVALUES"]).await.strings();
    assert_eq!(got.len(), 100);
    let distinct: HashSet<&String> = got.iter().step_by(2).collect();
    assert_eq!(distinct.len(), 50);
    for p in got.chunks(2) {
        assert_eq!(p[1], format!("v{}", &p[0][1..]));
    }
    let rep = call(&mut c, &["HRANDFIELD", "h", "-300", "WITHVALUES"]).await.strings();
    assert_eq!(rep.len(), 600);
    for p in rep.chunks(2) {
        assert_eq!(p[1], format!("v{}", &p[0][1..]));
    }
    // Single picks spread over the hash.
    let mut seen = HashSet::new();
    for _ in 0..40 {
        seen.insert(call(&mut c, &["HRANDFIELD", "h"]).await.text());
    }
    assert!(seen.len() > 10, "{seen:?}");
    let many = call(&mut c, &["HRANDFIELD", "h", "900"]).await.strings();
    assert_eq!(many.iter().collect::<HashSet<_>>().len(), 900);
}

#[tokio::test]
async fn hrandfield_and_hgetall_resp3() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert!(matches!(r.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(r.call(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    match r.call(&["HGETALL", "h"]) {
        Reply::Map(mut m) => {
            m.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
            assert_eq!(m, vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))]);
        }
        other => panic!("HGETALL in RESP3: {other:?}"),
    }
    assert_eq!(r.call(&["HGETALL", "nokey"]), Reply::Map(vec![]));
    let pairs = r.call(&["HRANDFIELD", "h", "-3", "WITHVALUES"]).array();
    assert_eq!(pairs.len(), 3);
    for p in pairs {
        let p = p.strings();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1], if p[0] == "a" { "1" } else { "2" });
    }
    assert_eq!(r.call(&["HRANDFIELD", "h", "5", "WITHVALUES"]).array().len(), 2);
    assert_eq!(r.call(&["HRANDFIELD", "h", "1"]).array().len(), 1);
    assert_eq!(r.call(&["HRANDFIELD", "nokey"]), nil());
}

#[tokio::test]
async fn hscan_small_and_options() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HSCAN", "nokey", "0"]).await, arr(vec![bulk("0"), arr(vec![])]));
    assert_eq!(call(&mut c, &["HSCAN", "nokey", "0", "BADOPT"]).await, arr(vec![bulk("0"), arr(vec![])]));
    assert_eq!(call(&mut c, &["HSET", "h", "a1", "1", "a2", "2", "b1", "3"]).await, int(3));
    let page = call(&mut c, &["HSCAN", "h", "0"]).await.array();
    assert_eq!(page[0], bulk("0"));
    let items = page[1].strings();
    let m: HashMap<&String, &String> = items.chunks(2).map(|p| (&p[0], &p[1])).collect();
    assert_eq!(m.len(), 3);
    assert_eq!(m[&"b1".to_string()], "3");
    // A small hash comes back whole whatever COUNT says; MATCH filters.
    let page = call(&mut c, &["HSCAN", "h", "0", "COUNT", "1", "MATCH", "a*"]).await.array();
    assert_eq!(page[0], bulk("0"));
    let mut items = page[1].strings();
    items.sort();
    assert_eq!(items, vec!["1", "2", "a1", "a2"]);
    assert_eq!(call(&mut c, &["HSCAN", "h", "0", "MATCH", "zz*"]).await, arr(vec![bulk("0"), arr(vec![])]));
    // Errors.
    assert_eq!(call(&mut c, &["HSCAN", "h", "abc"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["HSCAN", "nokey", "abc"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["HSCAN", "h", "0", "COUNT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["HSCAN", "h", "0", "COUNT", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["HSCAN", "h", "0", "MATCH"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["HSCAN", "h", "0", "NOVALUES"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["HSCAN", "h", "0", "TYPE", "hash"]).await, err(SYNTAX));
}

#[tokio::test]
async fn big_hash_scan_order_and_encoding() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // Listpack while small (Redis 7.0: hash-max-listpack-entries 512, value 64).
    let mut args = vec!["HSET".to_string(), "h".to_string()];
    for i in 0..100 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(call(&mut c, &args).await, int(100));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "h"]).await, bulk("listpack"));
    let mut args = vec!["HSET".to_string(), "h".to_string()];
    for i in 100..513 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(call(&mut c, &args).await, int(413));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "h"]).await, bulk("hashtable"));
    // Stays a hashtable when it shrinks again.
    let mut args = vec!["HDEL".to_string(), "h".to_string()];
    args.extend((0..510).map(|i| format!("f{i}")));
    assert_eq!(call(&mut c, &args).await, int(510));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "h"]).await, bulk("hashtable"));
    // A long value converts at once.
    assert_eq!(call(&mut c, &["HSET", "long", "f", &"x".repeat(64)]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "long"]).await, bulk("listpack"));
    assert_eq!(call(&mut c, &["HSET", "long", "g", &"x".repeat(65)]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "long"]).await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["HSET", "longf", &"k".repeat(65), "1"]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "longf"]).await, bulk("hashtable"));
    // HINCRBY adds entries and converts by count.
    assert_eq!(call(&mut c, &["HSET", "cnt", "x", "1"]).await, int(1));
    for i in 0..512 {
        call(&mut c, &["HINCRBY", "cnt", &format!("n{i}"), "1"]).await;
    }
    assert_eq!(call(&mut c, &["HLEN", "cnt"]).await, int(513));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "cnt"]).await, bulk("hashtable"));

    // 2000 fields: full HSCAN iteration sees each exactly once.
    let mut args = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..2000 {
        args.push(format!("field:{i:05}"));
        args.push(i.to_string());
    }
    assert_eq!(call(&mut c, &args).await, int(2000));
    assert_eq!(call(&mut c, &["HLEN", "big"]).await, int(2000));
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let page = call(&mut c, &["HSCAN", "big", &cursor, "COUNT", "100"]).await.array();
        cursor = page[0].text();
        for p in page[1].strings().chunks(2) {
            assert!(seen.insert(p[0].clone(), p[1].clone()).is_none(), "duplicate {}", p[0]);
        }
        calls += 1;
        if cursor == "0" {
            break;
        }
        assert!(calls < 1000);
    }
    assert!(calls > 1);
    assert_eq!(seen.len(), 2000);
    assert_eq!(seen["field:01234"], "1234");
    // MATCH on a big hash still ends with every match seen.
    let mut matched = 0;
    let mut cursor = "0".to_string();
    loop {
        let page = call(&mut c, &["HSCAN", "big", &cursor, "MATCH", "field:000*"]).await.array();
        cursor = page[0].text();
        matched += page[1].strings().len() / 2;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(matched, 100);
    let keys = call(&mut c, &["HKEYS", "big"]).await.strings();
    assert_eq!(keys.len(), 2000);
    let vals: HashSet<String> = call(&mut c, &["HVALS", "big"]).await.strings().into_iter().collect();
    assert_eq!(vals.len(), 2000);
    assert_eq!(getall(&mut c, "big").await.len(), 2000);
    assert_eq!(
        call(&mut c, &["HMGET", "big", "field:00000", "field:01999", "nope"]).await,
        arr(vec![bulk("0"), bulk("1999"), nil()])
    );
    let del: Vec<String> = (0..2000).map(|i| format!("field:{i:05}")).collect();
    let mut args = vec!["HDEL".to_string(), "big".to_string()];
    args.extend(del);
    assert_eq!(call(&mut c, &args).await, int(2000));
    assert_eq!(call(&mut c, &["EXISTS", "big"]).await, int(0));
}

#[tokio::test]
async fn expiry_is_kept_by_writes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HSET", "h", "a", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["EXPIRE", "h", "100"]).await, int(1));
    assert_eq!(call(&mut c, &["HSET", "h", "b", "2"]).await, int(1));
    assert_eq!(call(&mut c, &["HINCRBY", "h", "n", "2"]).await, int(2));
    assert_eq!(call(&mut c, &["HDEL", "h", "a"]).await, int(1));
    let ttl = call(&mut c, &["TTL", "h"]).await.int();
    assert!((1..=100).contains(&ttl), "{ttl}");
    assert_eq!(call(&mut c, &["PEXPIRE", "h", "1"]).await, int(1));
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(call(&mut c, &["HGETALL", "h"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["HSET", "h", "z", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["HGETALL", "h"]).await, bulks(&["z", "1"]));
    assert_eq!(call(&mut c, &["TTL", "h"]).await, int(-1));
}

#[tokio::test]
async fn survives_restart() {
    let mut s = TestServer::start();
    {
        let mut c = s.client().await;
        assert_eq!(call(&mut c, &["HSET", "h", "a", "1", "b", "2"]).await, int(2));
        let mut args = vec!["HSET".to_string(), "big".to_string()];
        for i in 0..600 {
            args.push(format!("f{i}"));
            args.push(format!("v{i}"));
        }
        assert_eq!(call(&mut c, &args).await, int(600));
        assert_eq!(call(&mut c, &["HINCRBYFLOAT", "h", "x", "1.5"]).await, bulk("1.5"));
    }
    s.restart();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["HGET", "h", "a"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["HGET", "h", "x"]).await, bulk("1.5"));
    assert_eq!(call(&mut c, &["HLEN", "h"]).await, int(3));
    assert_eq!(call(&mut c, &["HLEN", "big"]).await, int(600));
    assert_eq!(call(&mut c, &["HGET", "big", "f299"]).await, bulk("v299"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "big"]).await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "h"]).await, bulk("listpack"));
}

#[tokio::test]
async fn command_info_of_hash_commands() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let info = call(&mut c, &["COMMAND", "INFO", "hset", "hgetall", "hrandfield"]).await.array();
    let hset = info[0].array();
    assert_eq!(hset[0], bulk("hset"));
    assert_eq!(hset[1], int(-4));
    let flags: Vec<String> = hset[2].array().iter().map(|f| f.text()).collect();
    assert_eq!(flags, vec!["write", "denyoom", "fast"]);
    assert_eq!(&hset[3..6], &[int(1), int(1), int(1)]);
    assert_eq!(info[1].array()[1], int(2));
    assert_eq!(info[2].array()[1], int(-2));
}
