//! Sorted-set commands, asserted against the exact replies of Redis 7.0.

mod common;

use std::time::Duration;

use common::*;
use redis::aio::MultiplexedConnection;

const NOT_FLOAT: &str = "ERR value is not a valid float";
const MINMAX_FLOAT: &str = "ERR min or max is not a float";
const MINMAX_LEX: &str = "ERR min or max not valid string range item";

async fn zadd(c: &mut MultiplexedConnection, key: &str, items: &[(&str, &str)]) -> Reply {
    let mut args = vec!["ZADD", key];
    for (s, m) in items {
        args.push(s);
        args.push(m);
    }
    call(c, &args).await
}

/// A sorted set `key` of a:1 b:2 c:3 d:4 e:5.
async fn abcde(c: &mut MultiplexedConnection, key: &str) {
    let r = zadd(c, key, &[("1", "a"), ("2", "b"), ("3", "c"), ("4", "d"), ("5", "e")]).await;
    assert_eq!(r, int(5));
}

/// Member/score pairs flattened as RESP2 replies them.
fn flat(items: &[(&str, &str)]) -> Reply {
    arr(items.iter().flat_map(|(m, s)| [bulk(m), bulk(s)]).collect())
}

/// A plain set via SADD; false when the server has no sets yet (skip that part).
async fn make_set(c: &mut MultiplexedConnection, key: &str, members: &[&str]) -> bool {
    let mut args = vec!["SADD", key];
    args.extend_from_slice(members);
    match call(c, &args).await {
        Reply::Int(_) => true,
        Reply::Err(e) if e.starts_with("ERR unknown command") => false,
        other => panic!("unexpected SADD reply {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zadd_basics_and_options() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(zadd(&mut c, "z", &[("1", "a"), ("2", "b")]).await, int(2));
    assert_eq!(zadd(&mut c, "z", &[("3", "a"), ("4", "c")]).await, int(1));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, bulk("3"));
    assert_eq!(call(&mut c, &["ZCARD", "z"]).await, int(3));
    // Same member twice in one call: the last score wins, counted once.
    assert_eq!(zadd(&mut c, "z", &[("1", "dup"), ("2.5", "dup")]).await, int(1));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "dup"]).await, bulk("2.5"));
    assert_eq!(call(&mut c, &["ZCARD", "z"]).await, int(4));
    // NX: only new members.
    assert_eq!(call(&mut c, &["ZADD", "z", "NX", "100", "a", "5", "e"]).await, int(1));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, bulk("3"));
    // XX: only existing members.
    assert_eq!(call(&mut c, &["ZADD", "z", "XX", "10", "a", "5", "new"]).await, int(0));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, bulk("10"));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "new"]).await, nil());
    // CH counts changed scores too.
    assert_eq!(call(&mut c, &["ZADD", "z", "CH", "11", "a", "2", "b", "1", "f"]).await, int(2));
    // GT / LT only move scores one way; new members are still added.
    assert_eq!(call(&mut c, &["ZADD", "z", "GT", "CH", "5", "a", "3", "b", "9", "g"]).await, int(2));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, bulk("11"));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "b"]).await, bulk("3"));
    assert_eq!(call(&mut c, &["ZADD", "z", "LT", "CH", "5", "a", "30", "b"]).await, int(1));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, bulk("5"));
    assert_eq!(call(&mut c, &["ZADD", "z", "XX", "GT", "CH", "6", "a", "1", "zz"]).await, int(1));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "zz"]).await, nil());
    // Keywords are case-insensitive; XX on a missing key creates nothing.
    assert_eq!(call(&mut c, &["zadd", "nokey", "xx", "1", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "z"]).await, status("zset"));
}

#[tokio::test]
async fn zadd_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["ZADD", "z", "NX", "XX", "1", "a"]).await,
        err("ERR XX and NX options at the same time are not compatible")
    );
    let gtlt = err("ERR GT, LT, and/or NX options at the same time are not compatible");
    assert_eq!(call(&mut c, &["ZADD", "z", "NX", "GT", "1", "a"]).await, gtlt);
    assert_eq!(call(&mut c, &["ZADD", "z", "LT", "NX", "1", "a"]).await, gtlt);
    assert_eq!(call(&mut c, &["ZADD", "z", "GT", "LT", "1", "a"]).await, gtlt);
    assert_eq!(
        call(&mut c, &["ZADD", "z", "INCR", "1", "a", "2", "b"]).await,
        err("ERR INCR option supports a single increment-element pair")
    );
    assert_eq!(call(&mut c, &["ZADD", "z", "1"]).await, arity_err("zadd"));
    assert_eq!(call(&mut c, &["ZADD", "z"]).await, arity_err("zadd"));
    assert_eq!(call(&mut c, &["ZADD", "z", "NX", "XX", "1"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZADD", "z", "1", "a", "NX"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZADD", "z", "abc", "a"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZADD", "z", "nan", "a"]).await, err(NOT_FLOAT));
    // A bad score anywhere means nothing is added.
    assert_eq!(call(&mut c, &["ZADD", "z", "1", "a", "x", "b"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZADD", "str", "1", "a"]).await, err(WRONGTYPE));
    // Option errors come before the type check.
    assert_eq!(
        call(&mut c, &["ZADD", "str", "XX", "NX", "1", "a"]).await,
        err("ERR XX and NX options at the same time are not compatible")
    );
}

#[tokio::test]
async fn zadd_incr_and_zincrby() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["ZADD", "z", "INCR", "1.5", "a"]).await, bulk("1.5"));
    assert_eq!(call(&mut c, &["ZADD", "z", "INCR", "2", "a"]).await, bulk("3.5"));
    assert_eq!(call(&mut c, &["ZINCRBY", "z", "-1.25", "a"]).await, bulk("2.25"));
    assert_eq!(call(&mut c, &["ZINCRBY", "z", "5", "b"]).await, bulk("5"));
    // Blocked by NX / XX / GT / LT: nil.
    assert_eq!(call(&mut c, &["ZADD", "z", "NX", "INCR", "1", "a"]).await, nil());
    assert_eq!(call(&mut c, &["ZADD", "z", "XX", "INCR", "1", "zz"]).await, nil());
    assert_eq!(call(&mut c, &["ZADD", "z", "GT", "INCR", "-1", "a"]).await, nil());
    assert_eq!(call(&mut c, &["ZADD", "z", "LT", "INCR", "1", "a"]).await, nil());
    assert_eq!(call(&mut c, &["ZADD", "z", "GT", "INCR", "1", "a"]).await, bulk("3.25"));
    assert_eq!(call(&mut c, &["ZADD", "nokey", "XX", "INCR", "1", "a"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "nokey"]).await, int(0));
    // Infinity is a score; inf + -inf is not.
    assert_eq!(call(&mut c, &["ZADD", "z", "INCR", "+inf", "a"]).await, bulk("inf"));
    assert_eq!(call(&mut c, &["ZINCRBY", "z", "-inf", "a"]).await, err("ERR resulting score is not a number (NaN)"));
    assert_eq!(
        call(&mut c, &["ZADD", "z", "INCR", "-inf", "a"]).await,
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, bulk("inf"));
    assert_eq!(call(&mut c, &["ZINCRBY", "z", "abc", "a"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZINCRBY", "z", "1"]).await, arity_err("zincrby"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZINCRBY", "str", "1", "a"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn scores_parse_like_strtod() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // Hexadecimal floats are numbers to strtod.
    assert_eq!(zadd(&mut c, "z", &[("0x10", "a"), ("0x1.8p1", "b"), ("-0x1p-2", "c")]).await, int(3));
    assert_eq!(
        call(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await,
        flat(&[("c", "-0.25"), ("b", "3"), ("a", "16")])
    );
    assert_eq!(call(&mut c, &["ZADD", "z", "0x", "d"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZADD", "z", "0x1p", "d"]).await, err(NOT_FLOAT));
    // Out of range is an error for scores, increments and weights...
    assert_eq!(call(&mut c, &["ZADD", "z", "1e400", "d"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZADD", "z", "1e-400", "d"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZINCRBY", "z", "-1e400", "a"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZUNION", "1", "z", "WEIGHTS", "1e400"]).await, err("ERR weight value is not a float"));
    assert_eq!(call(&mut c, &["ZADD", "z", " 1", "d"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZADD", "z", "1 ", "d"]).await, err(NOT_FLOAT));
    assert_eq!(call(&mut c, &["ZADD", "z", "", "d"]).await, err(NOT_FLOAT));
    // ...but range bounds saturate, skip leading spaces, and read "" as 0.
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "-1e400", "1e400"]).await, bulks(&["c", "b", "a"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", " 3", "+inf"]).await, bulks(&["b", "a"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "(", "0x10"]).await, bulks(&["b", "a"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "", "3"]).await, bulks(&["b"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "3 ", "+inf"]).await, err(MINMAX_FLOAT));
}

#[tokio::test]
async fn scores_inf_and_negative_zero() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        zadd(&mut c, "z", &[("-inf", "lo"), ("+inf", "hi"), ("inf", "hi2"), ("-0", "nz"), ("0", "z0")]).await,
        int(5)
    );
    assert_eq!(call(&mut c, &["ZSCORE", "z", "lo"]).await, bulk("-inf"));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "hi"]).await, bulk("inf"));
    // -0 and 0 are the same score: ties ordered by member.
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1"]).await, bulks(&["lo", "nz", "z0", "hi", "hi2"]));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "0", "0"]).await, int(2));
    assert_eq!(call(&mut c, &["ZADD", "z", "CH", "0", "nz"]).await, int(0));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "-inf"]).await, bulks(&["lo"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "(-inf", "(inf"]).await, bulks(&["nz", "z0"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "inf", "+inf"]).await, bulks(&["hi", "hi2"]));
    assert_eq!(call(&mut c, &["ZREVRANGEBYSCORE", "z", "+inf", "inf"]).await, bulks(&["hi2", "hi"]));
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZCOUNT, ZLEXCOUNT, ZRANK
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zrem_and_point_reads() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZREM", "z", "a", "x", "a", "b"]).await, int(2));
    assert_eq!(call(&mut c, &["ZCARD", "z"]).await, int(3));
    assert_eq!(call(&mut c, &["ZREM", "nokey", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["ZSCORE", "z", "a"]).await, nil());
    assert_eq!(call(&mut c, &["ZSCORE", "nokey", "a"]).await, nil());
    assert_eq!(call(&mut c, &["ZMSCORE", "z", "c", "x", "e"]).await, arr(vec![bulk("3"), nil(), bulk("5")]));
    assert_eq!(call(&mut c, &["ZMSCORE", "nokey", "a", "b"]).await, arr(vec![nil(), nil()]));
    assert_eq!(call(&mut c, &["ZCARD", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["ZRANK", "z", "c"]).await, int(0));
    assert_eq!(call(&mut c, &["ZRANK", "z", "e"]).await, int(2));
    assert_eq!(call(&mut c, &["ZREVRANK", "z", "e"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREVRANK", "z", "c"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANK", "z", "x"]).await, nil());
    assert_eq!(call(&mut c, &["ZRANK", "nokey", "x"]).await, nil());
    assert_eq!(call(&mut c, &["ZREVRANK", "nokey", "x"]).await, nil());
    // Removing the last member deletes the key.
    assert_eq!(call(&mut c, &["ZREM", "z", "c", "d", "e"]).await, int(3));
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREM", "z"]).await, arity_err("zrem"));
    assert_eq!(call(&mut c, &["ZMSCORE", "z"]).await, arity_err("zmscore"));
    assert_eq!(call(&mut c, &["ZCARD"]).await, arity_err("zcard"));
    assert_eq!(call(&mut c, &["ZRANK", "z"]).await, arity_err("zrank"));
}

#[tokio::test]
async fn zcount_and_zlexcount() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "-inf", "+inf"]).await, int(5));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "2", "4"]).await, int(3));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "(2", "(4"]).await, int(1));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "(2", "4"]).await, int(2));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "4", "2"]).await, int(0));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "(3", "(3"]).await, int(0));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "1.5", "2.5"]).await, int(1));
    assert_eq!(call(&mut c, &["ZCOUNT", "nokey", "1", "2"]).await, int(0));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "a", "2"]).await, err(MINMAX_FLOAT));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "1", "(x"]).await, err(MINMAX_FLOAT));
    assert_eq!(call(&mut c, &["ZCOUNT", "z", "nan", "1"]).await, err(MINMAX_FLOAT));
    assert_eq!(zadd(&mut c, "lex", &[("0", "a"), ("0", "b"), ("0", "c"), ("0", "d"), ("0", "e")]).await, int(5));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "-", "+"]).await, int(5));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "[b", "[d"]).await, int(3));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "(b", "(d"]).await, int(1));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "[bb", "+"]).await, int(3));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "+", "-"]).await, int(0));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "a", "b"]).await, err(MINMAX_LEX));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "lex", "[a", "+b"]).await, err(MINMAX_LEX));
    assert_eq!(call(&mut c, &["ZLEXCOUNT", "nokey", "-", "+"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and friends
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zrange_by_index() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1"]).await, bulks(&["a", "b", "c", "d", "e"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "1", "2"]).await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "-2", "-1"]).await, bulks(&["d", "e"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "-100", "1"]).await, bulks(&["a", "b"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "3", "100"]).await, bulks(&["d", "e"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "3", "1"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "5", "10"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-6"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "1", "WITHSCORES"]).await, flat(&[("a", "1"), ("b", "2")]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "1", "REV"]).await, bulks(&["e", "d"]));
    assert_eq!(call(&mut c, &["ZREVRANGE", "z", "0", "1"]).await, bulks(&["e", "d"]));
    assert_eq!(call(&mut c, &["ZREVRANGE", "z", "-1", "-1", "WITHSCORES"]).await, flat(&[("a", "1")]));
    assert_eq!(call(&mut c, &["ZRANGE", "nokey", "0", "-1"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "a", "1"]).await, err(NOT_INT));
    assert_eq!(
        call(&mut c, &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]).await,
        err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    );
    // LIMIT with count -1 is no LIMIT at all, as in Redis.
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "0", "LIMIT", "0", "-1"]).await, bulks(&["a"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1", "REV", "REV"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1", "LIMIT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0"]).await, arity_err("zrange"));
    assert_eq!(call(&mut c, &["ZREVRANGE", "z", "0", "1", "REV"]).await, err(SYNTAX));
}

#[tokio::test]
async fn zrange_by_score() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZRANGE", "z", "2", "4", "BYSCORE"]).await, bulks(&["b", "c", "d"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "(2", "(4", "BYSCORE"]).await, bulks(&["c"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "4", "2", "BYSCORE", "REV"]).await, bulks(&["d", "c", "b"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "2", "4", "BYSCORE", "REV"]).await, bulks(&[]));
    assert_eq!(
        call(&mut c, &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2", "WITHSCORES"]).await,
        flat(&[("b", "2"), ("c", "3")])
    );
    assert_eq!(call(&mut c, &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "3", "-1"]).await, bulks(&["d", "e"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "0"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "9", "1"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "(1", "3"]).await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "3", "3", "WITHSCORES"]).await, flat(&[("c", "3")]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "(3", "(3"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "2"]).await, bulks(&["a", "b"]));
    assert_eq!(
        call(&mut c, &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2", "WITHSCORES"]).await,
        flat(&[("d", "4"), ("c", "3")])
    );
    assert_eq!(call(&mut c, &["ZREVRANGEBYSCORE", "z", "(5", "(1"]).await, bulks(&["d", "c", "b"]));
    assert_eq!(call(&mut c, &["ZREVRANGEBYSCORE", "z", "4.5", "3.5"]).await, bulks(&["d"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "x", "1"]).await, err(MINMAX_FLOAT));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "a", "b", "BYSCORE"]).await, err(MINMAX_FLOAT));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "1", "(nan"]).await, err(MINMAX_FLOAT));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "REV"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "a", "1"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "nokey", "-inf", "+inf"]).await, bulks(&[]));
}

#[tokio::test]
async fn zrange_by_lex() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let items: Vec<(&str, &str)> = ["a", "b", "c", "d", "e", "f", "g"].iter().map(|m| ("0", *m)).collect();
    assert_eq!(zadd(&mut c, "z", &items).await, int(7));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "[b", "(e", "BYLEX"]).await, bulks(&["b", "c", "d"]));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "(e", "[b", "BYLEX", "REV"]).await, bulks(&["d", "c", "b"]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "-", "[c"]).await, bulks(&["a", "b", "c"]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "[f", "+"]).await, bulks(&["f", "g"]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "(cc", "+", "LIMIT", "1", "2"]).await, bulks(&["e", "f"]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "-1", "2"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "5", "-5"]).await, bulks(&["f", "g"]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "+", "-"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "[c", "[c"]).await, bulks(&["c"]));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "(c", "[c"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "0", "3"]).await, bulks(&["g", "f", "e"]));
    assert_eq!(call(&mut c, &["ZREVRANGEBYLEX", "z", "[c", "-"]).await, bulks(&["c", "b", "a"]));
    assert_eq!(call(&mut c, &["ZREVRANGEBYLEX", "z", "(c", "(a"]).await, bulks(&["b"]));
    assert_eq!(
        call(&mut c, &["ZRANGE", "z", "[a", "[b", "BYLEX", "WITHSCORES"]).await,
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(
        call(&mut c, &["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]).await,
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "a", "+"]).await, err(MINMAX_LEX));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "z", "+a", "+"]).await, err(MINMAX_LEX));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "a", "b", "BYLEX"]).await, err(MINMAX_LEX));
    assert_eq!(call(&mut c, &["ZRANGEBYLEX", "nokey", "-", "+"]).await, bulks(&[]));
}

#[tokio::test]
async fn ties_are_ordered_by_member() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(zadd(&mut c, "z", &[("1", "c"), ("1", "a"), ("0", "z"), ("1", "b"), ("2", "a2")]).await, int(5));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1"]).await, bulks(&["z", "a", "b", "c", "a2"]));
    assert_eq!(call(&mut c, &["ZREVRANGE", "z", "0", "-1"]).await, bulks(&["a2", "c", "b", "a", "z"]));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "z", "1", "1"]).await, bulks(&["a", "b", "c"]));
    assert_eq!(call(&mut c, &["ZREVRANGEBYSCORE", "z", "1", "1"]).await, bulks(&["c", "b", "a"]));
    assert_eq!(call(&mut c, &["ZRANK", "z", "b"]).await, int(2));
    assert_eq!(call(&mut c, &["ZREVRANK", "z", "b"]).await, int(2));
}

#[tokio::test]
async fn big_zset_ranges_from_both_ends() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let n = 2000;
    let names: Vec<String> = (0..n).map(|i| format!("m{i:05}")).collect();
    let scores: Vec<String> = (0..n).map(|i| (i * 2).to_string()).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["ZADD".to_string(), "big".to_string()];
        for &i in chunk {
            args.push(scores[i].clone());
            args.push(names[i].clone());
        }
        assert_eq!(call(&mut c, &args).await, int(500));
    }
    assert_eq!(call(&mut c, &["ZCARD", "big"]).await, int(n as i64));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "big"]).await, bulk("skiplist"));
    let want = |range: std::ops::Range<usize>| bulks(&names[range].iter().map(String::as_str).collect::<Vec<_>>());
    let want_rev =
        |range: std::ops::Range<usize>| bulks(&names[range].iter().rev().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(call(&mut c, &["ZRANGE", "big", "0", "9"]).await, want(0..10));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "-10", "-1"]).await, want(1990..2000));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "995", "1004"]).await, want(995..1005));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "1500", "1509"]).await, want(1500..1510));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "0", "-1"]).await, want(0..2000));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "0", "9", "REV"]).await, want_rev(1990..2000));
    assert_eq!(call(&mut c, &["ZREVRANGE", "big", "-10", "-1"]).await, want_rev(0..10));
    assert_eq!(call(&mut c, &["ZREVRANGE", "big", "1500", "1504"]).await, want_rev(495..500));
    assert_eq!(call(&mut c, &["ZREVRANGE", "big", "0", "-1"]).await, want_rev(0..2000));
    assert_eq!(call(&mut c, &["ZRANK", "big", "m01234"]).await, int(1234));
    assert_eq!(call(&mut c, &["ZREVRANK", "big", "m01234"]).await, int(765));
    assert_eq!(call(&mut c, &["ZRANGEBYSCORE", "big", "(3000", "3010"]).await, want(1501..1506));
    assert_eq!(call(&mut c, &["ZREVRANGEBYSCORE", "big", "3010", "(3000"]).await, want_rev(1501..1506));
    assert_eq!(
        call(&mut c, &["ZRANGE", "big", "3999", "0", "BYSCORE", "REV", "LIMIT", "0", "3"]).await,
        want_rev(1997..2000)
    );
    assert_eq!(call(&mut c, &["ZCOUNT", "big", "100", "199"]).await, int(50));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "big", "0", "999"]).await, int(1000));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "0", "0"]).await, want(1000..1001));
    assert_eq!(call(&mut c, &["ZREMRANGEBYSCORE", "big", "(3000", "+inf"]).await, int(499));
    assert_eq!(call(&mut c, &["ZCARD", "big"]).await, int(501));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "-1", "-1"]).await, want(1500..1501));
}

#[tokio::test]
async fn zrangestore() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "1", "2"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]).await, flat(&[("b", "2"), ("c", "3")]));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "(1", "4", "BYSCORE", "LIMIT", "1", "5"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANGE", "dst", "0", "-1"]).await, bulks(&["c", "d"]));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "0", "1", "REV"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANGE", "dst", "0", "-1"]).await, bulks(&["d", "e"]));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "[a", "[b", "BYLEX"]).await, int(2));
    // Overwrites another type and drops the TTL; an empty result deletes the destination.
    assert_eq!(call(&mut c, &["SET", "str", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["ZRANGESTORE", "str", "z", "0", "0"]).await, int(1));
    assert_eq!(call(&mut c, &["TYPE", "str"]).await, status("zset"));
    assert_eq!(call(&mut c, &["TTL", "str"]).await, int(-1));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "10", "20"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "nokey", "0", "-1"]).await, int(0));
    // Source and destination may be the same key.
    assert_eq!(call(&mut c, &["ZRANGESTORE", "z", "z", "0", "2"]).await, int(3));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1"]).await, bulks(&["a", "b", "c"]));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SET", "s2", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "s2", "0", "-1"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZRANGESTORE", "dst", "z", "0"]).await, arity_err("zrangestore"));
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zremrange() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZREMRANGEBYSCORE", "z", "(1", "3"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1"]).await, bulks(&["a", "d", "e"]));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "z", "-1", "-1"]).await, int(1));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "z", "5", "10"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "z", "1", "0"]).await, int(0));
    assert_eq!(call(&mut c, &["ZRANGE", "z", "0", "-1"]).await, bulks(&["a", "d"]));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "z", "0", "-1"]).await, int(2));
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]).await, int(5));
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    let items: Vec<(&str, &str)> = ["a", "b", "c", "d"].iter().map(|m| ("0", *m)).collect();
    assert_eq!(zadd(&mut c, "l", &items).await, int(4));
    assert_eq!(call(&mut c, &["ZREMRANGEBYLEX", "l", "(a", "[c"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANGE", "l", "0", "-1"]).await, bulks(&["a", "d"]));
    assert_eq!(call(&mut c, &["ZREMRANGEBYLEX", "l", "-", "+"]).await, int(2));
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREMRANGEBYLEX", "nokey", "-", "+"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREMRANGEBYSCORE", "nokey", "1", "2"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "nokey", "0", "-1"]).await, int(0));
    assert_eq!(call(&mut c, &["ZREMRANGEBYSCORE", "z", "x", "2"]).await, err(MINMAX_FLOAT));
    assert_eq!(call(&mut c, &["ZREMRANGEBYLEX", "z", "x", "+"]).await, err(MINMAX_LEX));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "z", "a", "1"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "z", "0"]).await, arity_err("zremrangebyrank"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZREMRANGEBYRANK", "str", "0", "1"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZREMRANGEBYSCORE", "str", "0", "1"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZREMRANGEBYLEX", "str", "-", "+"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zpopmin_zpopmax() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZPOPMIN", "z"]).await, flat(&[("a", "1")]));
    assert_eq!(call(&mut c, &["ZPOPMAX", "z"]).await, flat(&[("e", "5")]));
    assert_eq!(call(&mut c, &["ZPOPMIN", "z", "2"]).await, flat(&[("b", "2"), ("c", "3")]));
    assert_eq!(call(&mut c, &["ZPOPMIN", "z", "0"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["ZPOPMAX", "z", "10"]).await, flat(&[("d", "4")]));
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    assert_eq!(call(&mut c, &["ZPOPMIN", "z"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["ZPOPMAX", "z", "3"]).await, arr(vec![]));
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["ZPOPMAX", "z", "2"]).await, flat(&[("e", "5"), ("d", "4")]));
    let neg = err("ERR value is out of range, must be positive");
    assert_eq!(call(&mut c, &["ZPOPMIN", "z", "-1"]).await, neg);
    assert_eq!(call(&mut c, &["ZPOPMIN", "z", "a"]).await, neg);
    assert_eq!(call(&mut c, &["ZPOPMIN", "z", "1", "2"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZPOPMIN"]).await, arity_err("zpopmin"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZPOPMIN", "str"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZPOPMAX", "str", "2"]).await, err(WRONGTYPE));
    // The key is looked up even for a count of 0.
    assert_eq!(call(&mut c, &["ZPOPMIN", "str", "0"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZPOPMIN", "nokey", "0"]).await, arr(vec![]));
}

#[tokio::test]
async fn zmpop() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    let popped = |k: &str, items: &[(&str, &str)]| {
        arr(vec![bulk(k), arr(items.iter().map(|(m, s)| arr(vec![bulk(m), bulk(s)])).collect())])
    };
    assert_eq!(call(&mut c, &["ZMPOP", "2", "nokey", "z", "MIN"]).await, popped("z", &[("a", "1")]));
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "max", "COUNT", "2"]).await, popped("z", &[("e", "5"), ("d", "4")]));
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "MIN", "COUNT", "10"]).await, popped("z", &[("b", "2"), ("c", "3")]));
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    assert_eq!(call(&mut c, &["ZMPOP", "2", "nokey", "z", "MIN"]).await, nil());
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(call(&mut c, &["ZMPOP", "0", "z", "MIN"]).await, numkeys);
    assert_eq!(call(&mut c, &["ZMPOP", "-1", "z", "MIN"]).await, numkeys);
    assert_eq!(call(&mut c, &["ZMPOP", "a", "z", "MIN"]).await, numkeys);
    let count = err("ERR count should be greater than 0");
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]).await, count);
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "MIN", "COUNT", "-1"]).await, count);
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "MIN", "COUNT", "a"]).await, count);
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "MIN", "COUNT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZMPOP", "2", "z", "MIN"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZMPOP", "300", "z", "MIN"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZMPOP", "9223372036854775807", "z", "MIN"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZMPOP", "1", "z"]).await, arity_err("zmpop"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZMPOP", "2", "nokey", "str", "MIN"]).await, err(WRONGTYPE));
    abcde(&mut c, "z").await;
    // The first non-empty key is served; later keys are not even looked at.
    assert_eq!(call(&mut c, &["ZMPOP", "2", "z", "str", "MIN"]).await, popped("z", &[("a", "1")]));
}

#[tokio::test]
async fn blocking_pops_immediate_path_and_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["BZPOPMIN", "nokey", "z", "0"]).await, arr(vec![bulk("z"), bulk("a"), bulk("1")]));
    assert_eq!(call(&mut c, &["BZPOPMAX", "z", "1"]).await, arr(vec![bulk("z"), bulk("e"), bulk("5")]));
    assert_eq!(
        call(&mut c, &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"]).await,
        arr(vec![bulk("z"), arr(vec![arr(vec![bulk("d"), bulk("4")]), arr(vec![bulk("c"), bulk("3")])])])
    );
    assert_eq!(
        call(&mut c, &["BZMPOP", "0.5", "2", "nokey", "z", "MIN"]).await,
        arr(vec![bulk("z"), arr(vec![arr(vec![bulk("b"), bulk("2")])])])
    );
    assert_eq!(call(&mut c, &["EXISTS", "z"]).await, int(0));
    assert_eq!(call(&mut c, &["BZPOPMIN", "z", "-1"]).await, err("ERR timeout is negative"));
    assert_eq!(call(&mut c, &["BZPOPMIN", "z", "a"]).await, err("ERR timeout is not a float or out of range"));
    assert_eq!(call(&mut c, &["BZPOPMAX", "z"]).await, arity_err("bzpopmax"));
    assert_eq!(
        call(&mut c, &["BZMPOP", "a", "1", "z", "MIN"]).await,
        err("ERR timeout is not a float or out of range")
    );
    assert_eq!(call(&mut c, &["BZMPOP", "0", "0", "z", "MIN"]).await, err("ERR numkeys should be greater than 0"));
    assert_eq!(
        call(&mut c, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"]).await,
        err("ERR count should be greater than 0")
    );
    assert_eq!(call(&mut c, &["BZMPOP", "0", "1", "z", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BZMPOP", "0", "1", "z"]).await, arity_err("bzmpop"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["BZPOPMIN", "nokey", "str", "0"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["BZMPOP", "0", "2", "nokey", "str", "MIN"]).await, err(WRONGTYPE));
}

/// Needs the connection's blocking support (written separately): the blocked client is served
/// by another client's ZADD.
#[tokio::test]
async fn bzpopmin_is_served_by_a_later_zadd() {
    let s = TestServer::start();
    let mut blocked = s.client().await;
    let mut other = s.client().await;
    let waiter = tokio::spawn(async move { call(&mut blocked, &["BZPOPMIN", "z1", "z2", "5"]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(zadd(&mut other, "z2", &[("1.5", "m"), ("3", "n")]).await, int(2));
    let got = tokio::time::timeout(Duration::from_secs(10), waiter).await.expect("BZPOPMIN not served").expect("join");
    assert_eq!(got, arr(vec![bulk("z2"), bulk("m"), bulk("1.5")]));
    assert_eq!(call(&mut other, &["ZRANGE", "z2", "0", "-1"]).await, bulks(&["n"]));
}

/// Needs the connection's blocking support: a timeout replies a null array.
#[tokio::test]
async fn bzpopmax_times_out_with_nil() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["BZPOPMAX", "nokey", "0.1"]).await, nil());
    assert_eq!(call(&mut c, &["BZMPOP", "0.1", "1", "nokey", "MIN"]).await, nil());
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF and the STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zunion_zinter_zdiff() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(zadd(&mut c, "z1", &[("1", "a"), ("2", "b"), ("3", "c")]).await, int(3));
    assert_eq!(zadd(&mut c, "z2", &[("10", "b"), ("20", "c"), ("30", "d")]).await, int(3));
    assert_eq!(call(&mut c, &["ZUNION", "2", "z1", "z2"]).await, bulks(&["a", "b", "c", "d"]));
    assert_eq!(
        call(&mut c, &["ZUNION", "2", "z1", "z2", "WITHSCORES"]).await,
        flat(&[("a", "1"), ("b", "12"), ("c", "23"), ("d", "30")])
    );
    assert_eq!(
        call(&mut c, &["ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX", "WITHSCORES"]).await,
        flat(&[("a", "2"), ("b", "5"), ("c", "10"), ("d", "15")])
    );
    assert_eq!(
        call(&mut c, &["ZUNION", "3", "z1", "nokey", "z2", "AGGREGATE", "min", "WITHSCORES"]).await,
        flat(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "30")])
    );
    assert_eq!(call(&mut c, &["ZINTER", "2", "z1", "z2", "WITHSCORES"]).await, flat(&[("b", "12"), ("c", "23")]));
    assert_eq!(
        call(&mut c, &["ZINTER", "2", "z1", "z2", "WEIGHTS", "1", "-1", "WITHSCORES"]).await,
        flat(&[("c", "-17"), ("b", "-8")])
    );
    assert_eq!(call(&mut c, &["ZINTER", "2", "z1", "nokey"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["ZDIFF", "2", "z1", "z2", "WITHSCORES"]).await, flat(&[("a", "1")]));
    assert_eq!(call(&mut c, &["ZDIFF", "1", "z2"]).await, bulks(&["b", "c", "d"]));
    assert_eq!(call(&mut c, &["ZDIFF", "2", "nokey", "z2"]).await, bulks(&[]));
    // inf + -inf in a SUM is 0, as in Redis.
    assert_eq!(zadd(&mut c, "pinf", &[("inf", "x")]).await, int(1));
    assert_eq!(zadd(&mut c, "ninf", &[("-inf", "x")]).await, int(1));
    assert_eq!(call(&mut c, &["ZUNION", "2", "pinf", "ninf", "WITHSCORES"]).await, flat(&[("x", "0")]));
    assert_eq!(call(&mut c, &["ZINTER", "2", "pinf", "ninf", "WITHSCORES"]).await, flat(&[("x", "0")]));
    assert_eq!(call(&mut c, &["ZUNION", "1", "pinf", "WEIGHTS", "0", "WITHSCORES"]).await, flat(&[("x", "0")]));
    // Plain sets count as sorted sets with every score 1.
    if make_set(&mut c, "s", &["a", "x"]).await {
        assert_eq!(
            call(&mut c, &["ZUNION", "2", "z1", "s", "WITHSCORES"]).await,
            flat(&[("x", "1"), ("a", "2"), ("b", "2"), ("c", "3")])
        );
        assert_eq!(call(&mut c, &["ZINTER", "2", "z1", "s", "WITHSCORES"]).await, flat(&[("a", "2")]));
        assert_eq!(call(&mut c, &["ZDIFF", "2", "s", "z1", "WITHSCORES"]).await, flat(&[("x", "1")]));
        assert_eq!(call(&mut c, &["ZINTERCARD", "2", "s", "z1"]).await, int(1));
    }
}

#[tokio::test]
async fn set_operation_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(zadd(&mut c, "z", &[("1", "a")]).await, int(1));
    for (cmd, name) in [("ZUNION", "zunion"), ("ZINTER", "zinter"), ("ZDIFF", "zdiff"), ("ZINTERCARD", "zintercard")] {
        let at_least = err(&format!("ERR at least 1 input key is needed for '{name}' command"));
        assert_eq!(call(&mut c, &[cmd, "0", "z"]).await, at_least);
        assert_eq!(call(&mut c, &[cmd, "-1", "z"]).await, at_least);
        assert_eq!(call(&mut c, &[cmd, "a", "z"]).await, err(NOT_INT));
        assert_eq!(call(&mut c, &[cmd, "2", "z"]).await, err(SYNTAX));
        assert_eq!(call(&mut c, &[cmd, "1", "z", "FOO"]).await, err(SYNTAX));
        assert_eq!(call(&mut c, &[cmd, "1"]).await, arity_err(name));
    }
    for (cmd, name) in [("ZUNIONSTORE", "zunionstore"), ("ZINTERSTORE", "zinterstore"), ("ZDIFFSTORE", "zdiffstore")] {
        let at_least = err(&format!("ERR at least 1 input key is needed for '{name}' command"));
        assert_eq!(call(&mut c, &[cmd, "d", "0", "z"]).await, at_least);
        assert_eq!(call(&mut c, &[cmd, "d", "a", "z"]).await, err(NOT_INT));
        assert_eq!(call(&mut c, &[cmd, "d", "3", "z"]).await, err(SYNTAX));
        assert_eq!(call(&mut c, &[cmd, "d", "1", "z", "WITHSCORES"]).await, err(SYNTAX));
        assert_eq!(call(&mut c, &[cmd, "d", "1"]).await, arity_err(name));
    }
    assert_eq!(call(&mut c, &["ZUNION", "1", "z", "WEIGHTS", "a"]).await, err("ERR weight value is not a float"));
    assert_eq!(call(&mut c, &["ZUNION", "1", "z", "WEIGHTS", "nan"]).await, err("ERR weight value is not a float"));
    assert_eq!(call(&mut c, &["ZUNION", "1", "z", "WEIGHTS", "1", "2"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZUNION", "2", "z", "z", "WEIGHTS", "1"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZUNION", "1", "z", "AGGREGATE", "foo"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZUNION", "1", "z", "AGGREGATE"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZDIFF", "1", "z", "WEIGHTS", "1"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZDIFF", "1", "z", "AGGREGATE", "SUM"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZINTERCARD", "1", "z", "WITHSCORES"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZINTERCARD", "1", "z", "LIMIT", "-1"]).await, err("ERR LIMIT can't be negative"));
    assert_eq!(call(&mut c, &["ZINTERCARD", "1", "z", "LIMIT", "a"]).await, err("ERR LIMIT can't be negative"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZUNION", "2", "z", "str"]).await, err(WRONGTYPE));
    // Keys are looked up before the options are parsed.
    assert_eq!(call(&mut c, &["ZUNION", "2", "z", "str", "WEIGHTS", "x"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZINTERSTORE", "d", "2", "z", "str"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZDIFF", "2", "z", "str"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZINTERCARD", "2", "z", "str"]).await, err(WRONGTYPE));
    if make_list(&mut c, "list").await {
        assert_eq!(call(&mut c, &["ZUNION", "1", "list"]).await, err(WRONGTYPE));
    }
}

#[tokio::test]
async fn store_forms() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(zadd(&mut c, "z1", &[("1", "a"), ("2", "b"), ("3", "c")]).await, int(3));
    assert_eq!(zadd(&mut c, "z2", &[("10", "b"), ("20", "c"), ("30", "d")]).await, int(3));
    assert_eq!(call(&mut c, &["ZUNIONSTORE", "u", "2", "z1", "z2", "WEIGHTS", "1", "2"]).await, int(4));
    assert_eq!(
        call(&mut c, &["ZRANGE", "u", "0", "-1", "WITHSCORES"]).await,
        flat(&[("a", "1"), ("b", "22"), ("c", "43"), ("d", "60")])
    );
    assert_eq!(call(&mut c, &["ZINTERSTORE", "i", "2", "z1", "z2", "AGGREGATE", "MIN"]).await, int(2));
    assert_eq!(call(&mut c, &["ZRANGE", "i", "0", "-1", "WITHSCORES"]).await, flat(&[("b", "2"), ("c", "3")]));
    assert_eq!(call(&mut c, &["ZDIFFSTORE", "d", "2", "z2", "z1"]).await, int(1));
    assert_eq!(call(&mut c, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]).await, flat(&[("d", "30")]));
    // The destination may be an input; the result replaces it.
    assert_eq!(call(&mut c, &["ZUNIONSTORE", "z1", "2", "z1", "z1"]).await, int(3));
    assert_eq!(
        call(&mut c, &["ZRANGE", "z1", "0", "-1", "WITHSCORES"]).await,
        flat(&[("a", "2"), ("b", "4"), ("c", "6")])
    );
    // An empty result deletes the destination, whatever it held.
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZINTERSTORE", "str", "2", "z1", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "str"]).await, int(0));
    assert_eq!(call(&mut c, &["ZDIFFSTORE", "d", "2", "z1", "z1"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "d"]).await, int(0));
    assert_eq!(call(&mut c, &["ZUNIONSTORE", "u", "1", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "u"]).await, int(0));
    // A destination of another type is replaced; its TTL does not carry over.
    assert_eq!(call(&mut c, &["SET", "str", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["ZUNIONSTORE", "str", "1", "z2"]).await, int(3));
    assert_eq!(call(&mut c, &["TYPE", "str"]).await, status("zset"));
    assert_eq!(call(&mut c, &["TTL", "str"]).await, int(-1));
}

#[tokio::test]
async fn zintercard() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(zadd(&mut c, "z1", &[("1", "a"), ("2", "b"), ("3", "c"), ("4", "d")]).await, int(4));
    assert_eq!(zadd(&mut c, "z2", &[("1", "b"), ("1", "c"), ("1", "d"), ("1", "e")]).await, int(4));
    assert_eq!(call(&mut c, &["ZINTERCARD", "2", "z1", "z2"]).await, int(3));
    assert_eq!(call(&mut c, &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "0"]).await, int(3));
    assert_eq!(call(&mut c, &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "2"]).await, int(2));
    assert_eq!(call(&mut c, &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "10"]).await, int(3));
    assert_eq!(call(&mut c, &["ZINTERCARD", "1", "z1"]).await, int(4));
    assert_eq!(call(&mut c, &["ZINTERCARD", "2", "z1", "nokey"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn zrandmember() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    let members = ["a", "b", "c", "d", "e"];
    let one = call(&mut c, &["ZRANDMEMBER", "z"]).await.text();
    assert!(members.contains(&one.as_str()));
    let three = call(&mut c, &["ZRANDMEMBER", "z", "3"]).await.strings();
    assert_eq!(three.len(), 3);
    let mut dedup = three.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 3);
    assert!(three.iter().all(|m| members.contains(&m.as_str())));
    let mut all = call(&mut c, &["ZRANDMEMBER", "z", "10"]).await.strings();
    all.sort();
    assert_eq!(all, members);
    let many = call(&mut c, &["ZRANDMEMBER", "z", "-20"]).await.strings();
    assert_eq!(many.len(), 20);
    assert!(many.iter().all(|m| members.contains(&m.as_str())));
    let ws = call(&mut c, &["ZRANDMEMBER", "z", "-4", "WITHSCORES"]).await.array();
    assert_eq!(ws.len(), 8);
    for pair in ws.chunks(2) {
        let m = pair[0].text();
        let expected = (members.iter().position(|x| *x == m).expect("member") + 1).to_string();
        assert_eq!(pair[1].text(), expected);
    }
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "z", "2", "WITHSCORES"]).await.array().len(), 4);
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "z", "0"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "z", "0", "WITHSCORES"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "nokey"]).await, nil());
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "nokey", "5"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "nokey", "-5", "WITHSCORES"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "z", "a"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "z", "1", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["ZRANDMEMBER", "z", "-9223372036854775808"]).await,
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        call(&mut c, &["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"]).await,
        err("ERR value is out of range")
    );
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "str"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["ZRANDMEMBER", "str", "2"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn zscan_small_and_big() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(
        call(&mut c, &["ZSCAN", "z", "0"]).await,
        arr(vec![bulk("0"), flat(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")])])
    );
    assert_eq!(
        call(&mut c, &["ZSCAN", "z", "0", "MATCH", "[bd]", "COUNT", "1"]).await,
        arr(vec![bulk("0"), flat(&[("b", "2"), ("d", "4")])])
    );
    assert_eq!(call(&mut c, &["ZSCAN", "nokey", "0"]).await, arr(vec![bulk("0"), arr(vec![])]));
    assert_eq!(call(&mut c, &["ZSCAN", "z", "x"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["ZSCAN", "z", "18446744073709551616"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["ZSCAN", "z", " 0"]).await, err("ERR invalid cursor"));
    // strtoul takes a negative cursor (wrapping around); a small set comes back whole anyway.
    assert_eq!(call(&mut c, &["ZSCAN", "z", "-1", "MATCH", "a"]).await, arr(vec![bulk("0"), flat(&[("a", "1")])]));
    assert_eq!(call(&mut c, &["ZSCAN", "z", "0", "COUNT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZSCAN", "z", "0", "COUNT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZSCAN", "z", "0", "FOO", "bar"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["ZSCAN", "z"]).await, arity_err("zscan"));
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["ZSCAN", "str", "0"]).await, err(WRONGTYPE));
    // A big sorted set is walked in pages; every member comes back exactly once.
    let n = 1000;
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..n {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    assert_eq!(call(&mut c, &args).await, int(n));
    let mut seen = std::collections::HashMap::new();
    let mut cursor = "0".to_string();
    let mut rounds = 0;
    loop {
        let r = call(&mut c, &["ZSCAN", "big", &cursor, "COUNT", "50"]).await.array();
        cursor = r[0].text();
        for pair in r[1].array().chunks(2) {
            seen.insert(pair[0].text(), pair[1].text());
        }
        rounds += 1;
        if cursor == "0" {
            break;
        }
        assert!(rounds < 1000, "ZSCAN does not finish");
    }
    assert!(rounds > 1);
    assert_eq!(seen.len(), n as usize);
    assert_eq!(seen.get("m7").map(String::as_str), Some("7"));
}

// ---------------------------------------------------------------------------------------------
// RESP3 shapes, encodings, persistence, types
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn resp3_reply_shapes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    let mut r = s.raw();
    assert!(matches!(r.call(&["HELLO", "3"]), Reply::Map(_)));
    let d = Reply::Double;
    let pair = |m: &str, s: f64| arr(vec![bulk(m), d(s)]);
    assert_eq!(r.call(&["ZSCORE", "z", "a"]), d(1.0));
    assert_eq!(r.call(&["ZSCORE", "z", "x"]), nil());
    assert_eq!(r.call(&["ZMSCORE", "z", "b", "x"]), arr(vec![d(2.0), nil()]));
    assert_eq!(r.call(&["ZINCRBY", "z", "0.5", "a"]), d(1.5));
    assert_eq!(r.call(&["ZADD", "z", "INCR", "-0.5", "a"]), d(1.0));
    assert_eq!(r.call(&["ZRANGE", "z", "0", "1", "WITHSCORES"]), arr(vec![pair("a", 1.0), pair("b", 2.0)]));
    assert_eq!(r.call(&["ZRANGEBYSCORE", "z", "4", "5", "WITHSCORES"]), arr(vec![pair("d", 4.0), pair("e", 5.0)]));
    assert_eq!(r.call(&["ZRANGE", "z", "0", "1"]), bulks(&["a", "b"]));
    assert_eq!(r.call(&["ZUNION", "1", "z", "WITHSCORES"]).array().len(), 5);
    assert_eq!(r.call(&["ZRANDMEMBER", "z", "1", "WITHSCORES"]).array()[0].array().len(), 2);
    // ZSCAN scores stay bulk strings.
    assert_eq!(r.call(&["ZSCAN", "z", "0", "MATCH", "a"]), arr(vec![bulk("0"), bulks(&["a", "1"])]));
    // ZPOPMIN without a count is flat; with a count, pairs.
    assert_eq!(r.call(&["ZPOPMIN", "z"]), arr(vec![bulk("a"), d(1.0)]));
    assert_eq!(r.call(&["ZPOPMIN", "z", "1"]), arr(vec![pair("b", 2.0)]));
    assert_eq!(r.call(&["ZMPOP", "1", "z", "MAX"]), arr(vec![bulk("z"), arr(vec![pair("e", 5.0)])]));
    assert_eq!(r.call(&["ZMPOP", "1", "nokey", "MAX"]), nil());
    assert_eq!(r.call(&["BZPOPMIN", "z", "0"]), arr(vec![bulk("z"), bulk("c"), d(3.0)]));
    assert_eq!(r.call(&["ZRANDMEMBER", "nokey"]), nil());
}

#[tokio::test]
async fn object_encoding_small_and_big() {
    let s = TestServer::start();
    let mut c = s.client().await;
    abcde(&mut c, "z").await;
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "z"]).await, bulk("listpack"));
    let long = "x".repeat(65);
    assert_eq!(zadd(&mut c, "z", &[("6", long.as_str())]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "z"]).await, bulk("skiplist"));
    let mut args = vec!["ZADD".to_string(), "many".to_string()];
    for i in 0..129 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    assert_eq!(call(&mut c, &args).await, int(129));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "many"]).await, bulk("skiplist"));
    let mut args = vec!["ZADD".to_string(), "few".to_string()];
    for i in 0..128 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    assert_eq!(call(&mut c, &args).await, int(128));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "few"]).await, bulk("listpack"));
    assert_eq!(call(&mut c, &["TYPE", "few"]).await, status("zset"));
}

#[tokio::test]
async fn survives_restart() {
    let mut s = TestServer::start();
    {
        let mut c = s.client().await;
        abcde(&mut c, "z").await;
        assert_eq!(call(&mut c, &["ZINCRBY", "z", "10", "a"]).await, bulk("11"));
        assert_eq!(call(&mut c, &["ZREM", "z", "c"]).await, int(1));
        assert_eq!(call(&mut c, &["EXPIRE", "z", "1000"]).await, int(1));
    }
    s.restart();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]).await,
        flat(&[("b", "2"), ("d", "4"), ("e", "5"), ("a", "11")])
    );
    assert_eq!(call(&mut c, &["ZCARD", "z"]).await, int(4));
    assert!(call(&mut c, &["TTL", "z"]).await.int() > 900);
    // Writes after the restart keep the expiry.
    assert_eq!(zadd(&mut c, "z", &[("0", "new")]).await, int(1));
    assert!(call(&mut c, &["TTL", "z"]).await.int() > 900);
    assert_eq!(call(&mut c, &["ZRANK", "z", "new"]).await, int(0));
}

#[tokio::test]
async fn wrongtype_everywhere() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    let cmds: Vec<Vec<&str>> = vec![
        vec!["ZADD", "str", "1", "a"],
        vec!["ZINCRBY", "str", "1", "a"],
        vec!["ZREM", "str", "a"],
        vec!["ZCARD", "str"],
        vec!["ZSCORE", "str", "a"],
        vec!["ZMSCORE", "str", "a"],
        vec!["ZCOUNT", "str", "0", "1"],
        vec!["ZLEXCOUNT", "str", "-", "+"],
        vec!["ZRANK", "str", "a"],
        vec!["ZREVRANK", "str", "a"],
        vec!["ZRANGE", "str", "0", "-1"],
        vec!["ZRANGEBYSCORE", "str", "0", "1"],
        vec!["ZREVRANGEBYSCORE", "str", "1", "0"],
        vec!["ZRANGEBYLEX", "str", "-", "+"],
        vec!["ZREVRANGEBYLEX", "str", "+", "-"],
        vec!["ZREVRANGE", "str", "0", "-1"],
        vec!["ZPOPMIN", "str"],
        vec!["ZPOPMAX", "str"],
        vec!["ZMPOP", "1", "str", "MIN"],
        vec!["BZPOPMIN", "str", "0"],
        vec!["BZPOPMAX", "str", "0"],
        vec!["ZUNION", "1", "str"],
        vec!["ZINTER", "1", "str"],
        vec!["ZDIFF", "1", "str"],
        vec!["ZUNIONSTORE", "d", "1", "str"],
        vec!["ZINTERCARD", "1", "str"],
        vec!["ZRANDMEMBER", "str"],
        vec!["ZSCAN", "str", "0"],
    ];
    for cmd in cmds {
        assert_eq!(call(&mut c, &cmd).await, err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(call(&mut c, &["GET", "str"]).await, bulk("v"));
}

#[tokio::test]
async fn binary_members_and_pipelines() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let m1: &[u8] = b"\x00\xff\r\n";
    let m2: &[u8] = b"";
    let add: Vec<&[u8]> = vec![b"ZADD", b"bin", b"1", m1, b"2", m2];
    assert_eq!(call(&mut c, &add).await, int(2));
    let score: Vec<&[u8]> = vec![b"ZSCORE", b"bin", m1];
    assert_eq!(call(&mut c, &score).await, bulk("1"));
    assert_eq!(call(&mut c, &["ZRANGE", "bin", "0", "-1"]).await, arr(vec![bulk(m1), bulk(m2)]));
    // Pipelined writes and reads of the same key see each other in order.
    let mut r = s.raw();
    let mut batch = Vec::new();
    batch.extend(resp(&["ZADD", "p", "1", "a"]));
    batch.extend(resp(&["ZADD", "p", "2", "b"]));
    batch.extend(resp(&["ZRANGE", "p", "0", "-1"]));
    batch.extend(resp(&["ZINCRBY", "p", "5", "a"]));
    batch.extend(resp(&["ZRANGE", "p", "0", "-1", "WITHSCORES"]));
    batch.extend(resp(&["ZPOPMIN", "p"]));
    batch.extend(resp(&["ZCARD", "p"]));
    r.send(&batch);
    assert_eq!(r.read_reply(), int(1));
    assert_eq!(r.read_reply(), int(1));
    assert_eq!(r.read_reply(), bulks(&["a", "b"]));
    assert_eq!(r.read_reply(), bulk("6"));
    assert_eq!(r.read_reply(), flat(&[("b", "2"), ("a", "6")]));
    assert_eq!(r.read_reply(), flat(&[("b", "2")]));
    assert_eq!(r.read_reply(), int(1));
}
