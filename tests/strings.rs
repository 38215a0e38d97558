//! String commands, asserted against the exact replies of Redis 7.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use redis::aio::MultiplexedConnection;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

async fn ttl(c: &mut MultiplexedConnection, key: &str) -> i64 {
    call(c, &["TTL", key]).await.int()
}

async fn pttl(c: &mut MultiplexedConnection, key: &str) -> i64 {
    call(c, &["PTTL", key]).await.int()
}

const INVALID_SET_EXPIRE: &str = "ERR invalid expire time in 'set' command";

// ---------------------------------------------------------------------------------------------
// SET
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn set_and_get() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, nil());
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["SET", "k", "v2"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v2"));
    assert_eq!(call(&mut c, &["SET", "empty", ""]).await, ok());
    assert_eq!(call(&mut c, &["GET", "empty"]).await, bulk(""));
    assert_eq!(call(&mut c, &["EXISTS", "empty"]).await, int(1));
    // Command names are case-insensitive; keys are not.
    assert_eq!(call(&mut c, &["sEt", "K", "upper"]).await, ok());
    assert_eq!(call(&mut c, &["get", "K"]).await, bulk("upper"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v2"));
}

#[tokio::test]
async fn set_get_arity() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET"]).await, arity_err("set"));
    assert_eq!(call(&mut c, &["SET", "k"]).await, arity_err("set"));
    assert_eq!(call(&mut c, &["GET"]).await, arity_err("get"));
    assert_eq!(call(&mut c, &["GET", "k", "x"]).await, arity_err("get"));
    // The lower-case command name appears in the error whatever case the client used.
    assert_eq!(call(&mut c, &["Get"]).await, arity_err("get"));
}

#[tokio::test]
async fn set_ex_px_set_ttl() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "100"]).await, ok());
    assert!((99..=100).contains(&ttl(&mut c, "k").await));
    assert_eq!(call(&mut c, &["SET", "k", "v", "PX", "100000"]).await, ok());
    let p = pttl(&mut c, "k").await;
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    // Option names are case-insensitive.
    assert_eq!(call(&mut c, &["SET", "k", "v", "ex", "50"]).await, ok());
    assert!((49..=50).contains(&ttl(&mut c, "k").await));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
}

#[tokio::test]
async fn set_exat_pxat() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let at_s = now_ms() / 1000 + 100;
    assert_eq!(call(&mut c, &["SET", "k", "v", "EXAT", &at_s.to_string()]).await, ok());
    assert!((98..=100).contains(&ttl(&mut c, "k").await));
    assert_eq!(call(&mut c, &["EXPIRETIME", "k"]).await, int(at_s), "EXAT stores the absolute time");
    let at_ms = now_ms() + 200_000;
    assert_eq!(call(&mut c, &["SET", "k", "v", "PXAT", &at_ms.to_string()]).await, ok());
    assert_eq!(call(&mut c, &["PEXPIRETIME", "k"]).await, int(at_ms));
    // A time in the past is accepted: the key is written already expired.
    assert_eq!(call(&mut c, &["SET", "k", "v", "EXAT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "k", "v", "PXAT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, nil());
}

#[tokio::test]
async fn set_invalid_expire_times() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for opt in ["EX", "PX", "EXAT", "PXAT"] {
        for t in ["0", "-1"] {
            assert_eq!(call(&mut c, &["SET", "k", "v", opt, t]).await, err(INVALID_SET_EXPIRE), "SET k v {opt} {t}");
        }
        assert_eq!(call(&mut c, &["SET", "k", "v", opt, "abc"]).await, err(NOT_INT), "SET k v {opt} abc");
        assert_eq!(call(&mut c, &["SET", "k", "v", opt, "1.5"]).await, err(NOT_INT), "SET k v {opt} 1.5");
    }
    // Overflow when converted to an absolute time in milliseconds.
    for opt in ["EX", "PX", "EXAT"] {
        assert_eq!(
            call(&mut c, &["SET", "k", "v", opt, "9223372036854775807"]).await,
            err(INVALID_SET_EXPIRE),
            "SET k v {opt} i64::MAX"
        );
    }
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "9223372036854775"]).await, err(INVALID_SET_EXPIRE));
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "9223372036854775808"]).await, err(NOT_INT));
    // Nothing was written by any failed SET.
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    // PXAT i64::MAX needs no conversion: accepted.
    assert_eq!(call(&mut c, &["SET", "k", "v", "PXAT", "9223372036854775807"]).await, ok());
    assert_eq!(call(&mut c, &["PEXPIRETIME", "k"]).await, int(i64::MAX));
}

#[tokio::test]
async fn set_syntax_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let cases: &[&[&str]] = &[
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "PX"],
        &["SET", "k", "v", "EXAT"],
        &["SET", "k", "v", "PXAT"],
        &["SET", "k", "v", "FOO"],
        &["SET", "k", "v", "EX", "10", "PX", "10"],
        &["SET", "k", "v", "EX", "10", "EXAT", "10"],
        &["SET", "k", "v", "PX", "10", "PXAT", "10"],
        &["SET", "k", "v", "NX", "XX"],
        &["SET", "k", "v", "XX", "NX"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "PX", "100", "KEEPTTL"],
        &["SET", "k", "v", "EX", "10", "PERSIST"],
        &["SET", "k", "v", "10"],
    ];
    for args in cases {
        assert_eq!(call(&mut c, args).await, err(SYNTAX), "{args:?}");
    }
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
}

#[tokio::test]
async fn set_repeated_options_are_accepted() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "NX", "NX"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "k", "v2", "NX", "NX"]).await, nil());
    assert_eq!(call(&mut c, &["SET", "k", "v3", "XX", "XX"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "k", "v4", "GET", "GET"]).await, bulk("v3"));
    assert_eq!(call(&mut c, &["SET", "k", "v", "KEEPTTL", "KEEPTTL"]).await, ok());
    // The last EX wins.
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "1000", "EX", "100"]).await, ok());
    assert!((99..=100).contains(&ttl(&mut c, "k").await));
}

#[tokio::test]
async fn set_nx_xx() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "XX"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "k", "v", "NX"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "k", "v2", "NX"]).await, nil());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["SET", "k", "v3", "XX"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v3"));
    assert_eq!(call(&mut c, &["SET", "n", "v", "nx", "px", "100000"]).await, ok());
    assert!(pttl(&mut c, "n").await > 90_000);
    assert_eq!(call(&mut c, &["SET", "n", "w", "XX", "EX", "50"]).await, ok());
    assert!((49..=50).contains(&ttl(&mut c, "n").await));
    assert_eq!(call(&mut c, &["GET", "n"]).await, bulk("w"));
}

#[tokio::test]
async fn set_keepttl() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "k", "v2", "KEEPTTL"]).await, ok());
    assert!((99..=100).contains(&ttl(&mut c, "k").await));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v2"));
    // Without KEEPTTL the TTL is discarded.
    assert_eq!(call(&mut c, &["SET", "k", "v3"]).await, ok());
    assert_eq!(ttl(&mut c, "k").await, -1);
    // KEEPTTL on a new key: no TTL.
    assert_eq!(call(&mut c, &["SET", "new", "v", "KEEPTTL"]).await, ok());
    assert_eq!(ttl(&mut c, "new").await, -1);
    assert_eq!(call(&mut c, &["SET", "k", "v", "XX", "KEEPTTL", "GET"]).await, bulk("v3"));
}

#[tokio::test]
async fn set_get_option() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v1", "GET"]).await, nil());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v1"));
    assert_eq!(call(&mut c, &["SET", "k", "v2", "GET"]).await, bulk("v1"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v2"));
    // NX + GET (allowed since 7.0): returns the old value and does not set.
    assert_eq!(call(&mut c, &["SET", "k", "v3", "NX", "GET"]).await, bulk("v2"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v2"));
    assert_eq!(call(&mut c, &["SET", "n", "v", "GET", "NX"]).await, nil());
    assert_eq!(call(&mut c, &["GET", "n"]).await, bulk("v"));
    // XX + GET on a missing key: nil, nothing set.
    assert_eq!(call(&mut c, &["SET", "x", "v", "XX", "GET"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "x"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "k", "v4", "GET", "EX", "100"]).await, bulk("v2"));
    assert!((99..=100).contains(&ttl(&mut c, "k").await));
}

#[tokio::test]
async fn set_get_on_wrong_type() {
    let s = TestServer::start();
    let mut c = s.client().await;
    if !make_list(&mut c, "list").await {
        return; // the server has no lists yet
    }
    assert_eq!(call(&mut c, &["SET", "list", "v", "GET"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["TYPE", "list"]).await, status("list"));
    // A plain SET replaces a value of any type.
    assert_eq!(call(&mut c, &["SET", "list", "v"]).await, ok());
    assert_eq!(call(&mut c, &["TYPE", "list"]).await, status("string"));
}

#[tokio::test]
async fn string_commands_on_wrong_type() {
    let s = TestServer::start();
    let mut c = s.client().await;
    if !make_list(&mut c, "l").await {
        return; // the server has no lists yet
    }
    let cases: &[&[&str]] = &[
        &["GET", "l"],
        &["GETDEL", "l"],
        &["GETEX", "l"],
        &["GETSET", "l", "v"],
        &["APPEND", "l", "v"],
        &["STRLEN", "l"],
        &["GETRANGE", "l", "0", "-1"],
        &["SETRANGE", "l", "0", "v"],
        &["INCR", "l"],
        &["DECRBY", "l", "2"],
        &["INCRBYFLOAT", "l", "1.5"],
    ];
    for args in cases {
        assert_eq!(call(&mut c, args).await, err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(call(&mut c, &["LCS", "l", "l"]).await, err("ERR The specified keys must contain string values"));
    // MGET answers nil for keys of another type.
    assert_eq!(call(&mut c, &["SET", "s", "v"]).await, ok());
    assert_eq!(call(&mut c, &["MGET", "s", "l"]).await, arr(vec![bulk("v"), nil()]));
    // SETNX / MSETNX see the key as existing.
    assert_eq!(call(&mut c, &["SETNX", "l", "v"]).await, int(0));
    assert_eq!(call(&mut c, &["MSETNX", "l", "v", "z", "1"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// GETDEL, GETEX, GETSET, SETNX, SETEX, PSETEX
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn getdel() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GETDEL", "k"]).await, nil());
    assert_eq!(call(&mut c, &["SET", "k", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["GETDEL", "k"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["GETDEL", "k"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(ttl(&mut c, "k").await, -2);
    assert_eq!(call(&mut c, &["GETDEL"]).await, arity_err("getdel"));
    assert_eq!(call(&mut c, &["GETDEL", "a", "b"]).await, arity_err("getdel"));
}

#[tokio::test]
async fn getex_options() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GETEX", "missing", "EX", "10"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["GETEX", "k"]).await, bulk("v"));
    assert_eq!(ttl(&mut c, "k").await, -1);
    assert_eq!(call(&mut c, &["GETEX", "k", "EX", "100"]).await, bulk("v"));
    assert!((99..=100).contains(&ttl(&mut c, "k").await));
    assert_eq!(call(&mut c, &["GETEX", "k", "PX", "50000"]).await, bulk("v"));
    let p = pttl(&mut c, "k").await;
    assert!((49_000..=50_000).contains(&p), "pttl {p}");
    // GETEX without options leaves the TTL alone.
    assert_eq!(call(&mut c, &["GETEX", "k"]).await, bulk("v"));
    assert!(pttl(&mut c, "k").await > 40_000);
    assert_eq!(call(&mut c, &["GETEX", "k", "PERSIST"]).await, bulk("v"));
    assert_eq!(ttl(&mut c, "k").await, -1);
    let at_s = now_ms() / 1000 + 300;
    assert_eq!(call(&mut c, &["GETEX", "k", "EXAT", &at_s.to_string()]).await, bulk("v"));
    assert_eq!(call(&mut c, &["EXPIRETIME", "k"]).await, int(at_s));
    let at_ms = now_ms() + 400_000;
    assert_eq!(call(&mut c, &["getex", "k", "pxat", &at_ms.to_string()]).await, bulk("v"));
    assert_eq!(call(&mut c, &["PEXPIRETIME", "k"]).await, int(at_ms));
    // An absolute time in the past deletes the key after returning it.
    assert_eq!(call(&mut c, &["GETEX", "k", "EXAT", "1"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["GETEX", "k", "PXAT", "1"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, nil());
}

#[tokio::test]
async fn getex_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    let invalid = "ERR invalid expire time in 'getex' command";
    for opt in ["EX", "PX", "EXAT", "PXAT"] {
        assert_eq!(call(&mut c, &["GETEX", "k", opt, "0"]).await, err(invalid), "{opt}");
        assert_eq!(call(&mut c, &["GETEX", "k", opt, "-1"]).await, err(invalid), "{opt}");
        assert_eq!(call(&mut c, &["GETEX", "k", opt, "abc"]).await, err(NOT_INT), "{opt}");
        assert_eq!(call(&mut c, &["GETEX", "k", opt]).await, err(SYNTAX), "{opt}");
    }
    assert_eq!(call(&mut c, &["GETEX", "k", "EXAT", "99999999999999999"]).await, err(invalid));
    let syntax: &[&[&str]] = &[
        &["GETEX", "k", "EX", "10", "PX", "10"],
        &["GETEX", "k", "PERSIST", "EX", "10"],
        &["GETEX", "k", "EX", "10", "PERSIST"],
        &["GETEX", "k", "FOO"],
        &["GETEX", "k", "KEEPTTL"],
    ];
    for args in syntax {
        assert_eq!(call(&mut c, args).await, err(SYNTAX), "{args:?}");
    }
    assert_eq!(call(&mut c, &["GETEX"]).await, arity_err("getex"));
    // None of the failed calls changed the key.
    assert_eq!(ttl(&mut c, "k").await, -1);
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
}

#[tokio::test]
async fn getset() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GETSET", "k", "1"]).await, nil());
    assert_eq!(call(&mut c, &["GETSET", "k", "2"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("2"));
    // GETSET discards the TTL, like SET.
    assert_eq!(call(&mut c, &["SET", "t", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["GETSET", "t", "w"]).await, bulk("v"));
    assert_eq!(ttl(&mut c, "t").await, -1);
    assert_eq!(call(&mut c, &["GETSET", "k"]).await, arity_err("getset"));
    assert_eq!(call(&mut c, &["GETSET", "k", "a", "b"]).await, arity_err("getset"));
}

#[tokio::test]
async fn setnx() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETNX", "k", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["SETNX", "k", "2"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["SETNX", "k"]).await, arity_err("setnx"));
}

#[tokio::test]
async fn setex_psetex() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETEX", "k", "100", "v"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    assert!((99..=100).contains(&ttl(&mut c, "k").await));
    assert_eq!(call(&mut c, &["PSETEX", "p", "100000", "v"]).await, ok());
    let p = pttl(&mut c, "p").await;
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    for (cmd, name) in [("SETEX", "setex"), ("PSETEX", "psetex")] {
        let invalid = format!("ERR invalid expire time in '{name}' command");
        for t in ["0", "-1", "9223372036854775807"] {
            assert_eq!(call(&mut c, &[cmd, "x", t, "v"]).await, err(&invalid), "{cmd} {t}");
        }
        assert_eq!(call(&mut c, &[cmd, "x", "abc", "v"]).await, err(NOT_INT));
        assert_eq!(call(&mut c, &[cmd, "x", "10"]).await, arity_err(name));
        assert_eq!(call(&mut c, &[cmd, "x", "10", "v", "extra"]).await, arity_err(name));
    }
    assert_eq!(call(&mut c, &["EXISTS", "x"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// MSET, MSETNX, MGET
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn mset_mget() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b", "2"]).await, ok());
    assert_eq!(
        call(&mut c, &["MGET", "a", "b", "missing", "a"]).await,
        arr(vec![bulk("1"), bulk("2"), nil(), bulk("1")])
    );
    // The last of repeated keys wins.
    assert_eq!(call(&mut c, &["MSET", "a", "x", "a", "y"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("y"));
    // MSET discards TTLs.
    assert_eq!(call(&mut c, &["SET", "t", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["MSET", "t", "w"]).await, ok());
    assert_eq!(ttl(&mut c, "t").await, -1);
    assert_eq!(call(&mut c, &["MSET"]).await, arity_err("mset"));
    assert_eq!(call(&mut c, &["MSET", "a"]).await, arity_err("mset"));
    assert_eq!(call(&mut c, &["MSET", "a", "1", "b"]).await, arity_err("mset"));
    assert_eq!(call(&mut c, &["MGET"]).await, arity_err("mget"));
    assert_eq!(call(&mut c, &["GET", "b"]).await, bulk("2"));
}

#[tokio::test]
async fn msetnx() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MSETNX", "a", "1", "b", "2"]).await, int(1));
    // All or nothing: one existing key blocks every write.
    assert_eq!(call(&mut c, &["MSETNX", "c", "3", "a", "9"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "c"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("1"));
    // The same new key twice: set, last value wins.
    assert_eq!(call(&mut c, &["MSETNX", "x", "1", "x", "2"]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "x"]).await, bulk("2"));
    assert_eq!(call(&mut c, &["MSETNX", "a"]).await, arity_err("msetnx"));
    assert_eq!(call(&mut c, &["MSETNX", "q", "1", "r"]).await, arity_err("msetnx"));
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn incr_decr() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["INCR", "n"]).await, int(1));
    assert_eq!(call(&mut c, &["INCR", "n"]).await, int(2));
    assert_eq!(call(&mut c, &["INCRBY", "n", "10"]).await, int(12));
    assert_eq!(call(&mut c, &["INCRBY", "n", "-20"]).await, int(-8));
    assert_eq!(call(&mut c, &["DECR", "n"]).await, int(-9));
    assert_eq!(call(&mut c, &["DECRBY", "n", "-9"]).await, int(0));
    assert_eq!(call(&mut c, &["DECR", "fresh"]).await, int(-1));
    assert_eq!(call(&mut c, &["DECRBY", "fresh2", "5"]).await, int(-5));
    assert_eq!(call(&mut c, &["GET", "n"]).await, bulk("0"));
    assert_eq!(call(&mut c, &["SET", "s", "41"]).await, ok());
    assert_eq!(call(&mut c, &["INCR", "s"]).await, int(42));
    assert_eq!(call(&mut c, &["GET", "s"]).await, bulk("42"));
    assert_eq!(call(&mut c, &["SET", "neg", "-5"]).await, ok());
    assert_eq!(call(&mut c, &["INCRBY", "neg", "2"]).await, int(-3));
}

#[tokio::test]
async fn incr_keeps_ttl() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "n", "5", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["INCR", "n"]).await, int(6));
    assert!((99..=100).contains(&ttl(&mut c, "n").await));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "n", "0.5"]).await, bulk("6.5"));
    assert!((99..=100).contains(&ttl(&mut c, "n").await));
}

#[tokio::test]
async fn incr_overflow() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let overflow = "ERR increment or decrement would overflow";
    assert_eq!(call(&mut c, &["SET", "n", "9223372036854775806"]).await, ok());
    assert_eq!(call(&mut c, &["INCR", "n"]).await, int(i64::MAX));
    assert_eq!(call(&mut c, &["INCR", "n"]).await, err(overflow));
    assert_eq!(call(&mut c, &["INCRBY", "n", "1"]).await, err(overflow));
    assert_eq!(call(&mut c, &["GET", "n"]).await, bulk("9223372036854775807"));
    assert_eq!(call(&mut c, &["SET", "m", "-9223372036854775808"]).await, ok());
    assert_eq!(call(&mut c, &["DECR", "m"]).await, err(overflow));
    assert_eq!(call(&mut c, &["DECRBY", "m", "1"]).await, err(overflow));
    assert_eq!(call(&mut c, &["INCRBY", "m", "-1"]).await, err(overflow));
    assert_eq!(call(&mut c, &["INCRBY", "m", "1"]).await, int(i64::MIN + 1));
    // DECRBY cannot negate i64::MIN, whatever the value: its own message.
    assert_eq!(call(&mut c, &["SET", "z", "0"]).await, ok());
    assert_eq!(call(&mut c, &["DECRBY", "z", "-9223372036854775808"]).await, err("ERR decrement would overflow"));
    assert_eq!(call(&mut c, &["INCRBY", "z", "-9223372036854775808"]).await, int(i64::MIN));
}

#[tokio::test]
async fn incr_not_an_integer() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for v in ["abc", " 1", "1 ", "01", "+1", "", "-0", "1.0", "9223372036854775808"] {
        assert_eq!(call(&mut c, &["SET", "s", v]).await, ok());
        assert_eq!(call(&mut c, &["INCR", "s"]).await, err(NOT_INT), "{v:?}");
        assert_eq!(call(&mut c, &["DECR", "s"]).await, err(NOT_INT), "{v:?}");
        assert_eq!(call(&mut c, &["GET", "s"]).await, bulk(v));
    }
    for by in ["abc", "1.5", "9223372036854775808", "", " 1"] {
        assert_eq!(call(&mut c, &["INCRBY", "n", by]).await, err(NOT_INT), "{by:?}");
        assert_eq!(call(&mut c, &["DECRBY", "n", by]).await, err(NOT_INT), "{by:?}");
    }
    assert_eq!(call(&mut c, &["EXISTS", "n"]).await, int(0));
}

#[tokio::test]
async fn incr_arity() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["INCR"]).await, arity_err("incr"));
    assert_eq!(call(&mut c, &["INCR", "a", "b"]).await, arity_err("incr"));
    assert_eq!(call(&mut c, &["DECR"]).await, arity_err("decr"));
    assert_eq!(call(&mut c, &["INCRBY", "n"]).await, arity_err("incrby"));
    assert_eq!(call(&mut c, &["DECRBY", "n", "1", "2"]).await, arity_err("decrby"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "n"]).await, arity_err("incrbyfloat"));
}

#[tokio::test]
async fn incrbyfloat() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // The examples of the INCRBYFLOAT documentation.
    assert_eq!(call(&mut c, &["SET", "mykey", "10.50"]).await, ok());
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "mykey", "0.1"]).await, bulk("10.6"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "mykey", "-5"]).await, bulk("5.6"));
    assert_eq!(call(&mut c, &["SET", "mykey", "5.0e3"]).await, ok());
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "mykey", "2.0e2"]).await, bulk("5200"));
    assert_eq!(call(&mut c, &["GET", "mykey"]).await, bulk("5200"));
    // Missing key counts as 0; integral results have no decimal point.
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "1.0"]).await, bulk("1"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "1.5"]).await, bulk("2.5"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "-2.5"]).await, bulk("0"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "g", "-0.0"]).await, bulk("0"));
    assert_eq!(call(&mut c, &["SET", "i", "3"]).await, ok());
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "i", "1e2"]).await, bulk("103"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "i", "-0.25"]).await, bulk("102.75"));
}

/// Redis adds in `long double` and prints 17 significant digits, so 0.1 + 0.2 reads "0.3"
/// (a plain f64 sum would print 0.30000000000000004).
#[tokio::test]
async fn incrbyfloat_formats_like_redis() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "j", "0.1"]).await, bulk("0.1"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "j", "0.2"]).await, bulk("0.3"));
}

#[tokio::test]
async fn incrbyfloat_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let not_float = "ERR value is not a valid float";
    assert_eq!(call(&mut c, &["SET", "f", "1.5"]).await, ok());
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "abc"]).await, err(not_float));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "nan"]).await, err(not_float));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", ""]).await, err(not_float));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "inf"]).await, err("ERR increment would produce NaN or Infinity"));
    assert_eq!(call(&mut c, &["INCRBYFLOAT", "f", "-inf"]).await, err("ERR increment would produce NaN or Infinity"));
    assert_eq!(call(&mut c, &["GET", "f"]).await, bulk("1.5"));
    for v in ["abc", " 1", "1 ", ""] {
        assert_eq!(call(&mut c, &["SET", "s", v]).await, ok());
        assert_eq!(call(&mut c, &["INCRBYFLOAT", "s", "1"]).await, err(not_float), "{v:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE, SUBSTR
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn append_strlen() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["STRLEN", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["APPEND", "a", "Hello"]).await, int(5));
    assert_eq!(call(&mut c, &["APPEND", "a", " World"]).await, int(11));
    assert_eq!(call(&mut c, &["GET", "a"]).await, bulk("Hello World"));
    assert_eq!(call(&mut c, &["STRLEN", "a"]).await, int(11));
    assert_eq!(call(&mut c, &["APPEND", "a", ""]).await, int(11));
    assert_eq!(call(&mut c, &["APPEND", "e", ""]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "e"]).await, int(1));
    // APPEND to an integer-looking value, and STRLEN of one.
    assert_eq!(call(&mut c, &["SET", "n", "12345"]).await, ok());
    assert_eq!(call(&mut c, &["STRLEN", "n"]).await, int(5));
    assert_eq!(call(&mut c, &["APPEND", "n", "6"]).await, int(6));
    assert_eq!(call(&mut c, &["INCR", "n"]).await, int(123_457));
    // APPEND keeps the TTL.
    assert_eq!(call(&mut c, &["SET", "t", "v", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["APPEND", "t", "w"]).await, int(2));
    assert!((99..=100).contains(&ttl(&mut c, "t").await));
    assert_eq!(call(&mut c, &["APPEND", "a"]).await, arity_err("append"));
    assert_eq!(call(&mut c, &["STRLEN"]).await, arity_err("strlen"));
}

#[tokio::test]
async fn getrange_and_substr() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "s", "This is a string"]).await, ok());
    let cases: &[(&str, &str, &str)] = &[
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        ("5", "3", ""),
        ("-1", "-5", ""),
        ("100", "200", ""),
        ("-100", "2", "Thi"),
        ("15", "15", "g"),
    ];
    for (start, end, want) in cases {
        assert_eq!(call(&mut c, &["GETRANGE", "s", start, end]).await, bulk(want), "GETRANGE s {start} {end}");
        assert_eq!(call(&mut c, &["SUBSTR", "s", start, end]).await, bulk(want), "SUBSTR s {start} {end}");
    }
    assert_eq!(call(&mut c, &["GETRANGE", "none", "0", "-1"]).await, bulk(""));
    assert_eq!(call(&mut c, &["SET", "e", ""]).await, ok());
    assert_eq!(call(&mut c, &["GETRANGE", "e", "0", "-1"]).await, bulk(""));
    assert_eq!(call(&mut c, &["SET", "n", "12345"]).await, ok());
    assert_eq!(call(&mut c, &["GETRANGE", "n", "1", "2"]).await, bulk("23"));
    assert_eq!(call(&mut c, &["GETRANGE", "s", "a", "1"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["GETRANGE", "s", "0", "1.5"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["GETRANGE", "s", "0"]).await, arity_err("getrange"));
    assert_eq!(call(&mut c, &["SUBSTR", "s", "0", "1", "2"]).await, arity_err("substr"));
}

#[tokio::test]
async fn setrange() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "w", "Hello World"]).await, ok());
    assert_eq!(call(&mut c, &["SETRANGE", "w", "6", "Redis"]).await, int(11));
    assert_eq!(call(&mut c, &["GET", "w"]).await, bulk("Hello Redis"));
    // Writing past the end pads with zero bytes.
    assert_eq!(call(&mut c, &["SETRANGE", "w", "20", "!"]).await, int(21));
    assert_eq!(call(&mut c, &["GET", "w"]).await, bulk(b"Hello Redis\0\0\0\0\0\0\0\0\0!"));
    assert_eq!(call(&mut c, &["SETRANGE", "k1", "6", "Redis"]).await, int(11));
    assert_eq!(call(&mut c, &["GET", "k1"]).await, bulk(b"\0\0\0\0\0\0Redis"));
    // An empty value never creates a key, and leaves an existing one alone.
    assert_eq!(call(&mut c, &["SETRANGE", "k2", "0", ""]).await, int(0));
    assert_eq!(call(&mut c, &["SETRANGE", "k3", "5", ""]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "k2", "k3"]).await, int(0));
    assert_eq!(call(&mut c, &["SETRANGE", "w", "100", ""]).await, int(21));
    assert_eq!(call(&mut c, &["STRLEN", "w"]).await, int(21));
    // Keeps the TTL.
    assert_eq!(call(&mut c, &["SET", "t", "abc", "EX", "100"]).await, ok());
    assert_eq!(call(&mut c, &["SETRANGE", "t", "1", "X"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "t"]).await, bulk("aXc"));
    assert!((99..=100).contains(&ttl(&mut c, "t").await));
}

#[tokio::test]
async fn setrange_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["SETRANGE", "k", "-1", "x"]).await, err("ERR offset is out of range"));
    assert_eq!(call(&mut c, &["SETRANGE", "k", "a", "x"]).await, err(NOT_INT));
    // 512 MiB is the largest string.
    let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    assert_eq!(call(&mut c, &["SETRANGE", "k", "536870912", "x"]).await, err(too_big));
    assert_eq!(call(&mut c, &["SETRANGE", "k", "536870911", "xx"]).await, err(too_big));
    assert_eq!(call(&mut c, &["SETRANGE", "new", "536870912", "x"]).await, err(too_big));
    assert_eq!(call(&mut c, &["EXISTS", "new"]).await, int(0));
    assert_eq!(call(&mut c, &["SETRANGE", "k", "0"]).await, arity_err("setrange"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

async fn lcs_fixture(c: &mut MultiplexedConnection) {
    assert_eq!(call(c, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]).await, ok());
}

fn range(a: i64, b: i64) -> Reply {
    arr(vec![int(a), int(b)])
}

#[tokio::test]
async fn lcs_plain_and_len() {
    let s = TestServer::start();
    let mut c = s.client().await;
    lcs_fixture(&mut c).await;
    assert_eq!(call(&mut c, &["LCS", "key1", "key2"]).await, bulk("mytext"));
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "LEN"]).await, int(6));
    assert_eq!(call(&mut c, &["LCS", "key1", "nokey"]).await, bulk(""));
    assert_eq!(call(&mut c, &["LCS", "no1", "no2", "LEN"]).await, int(0));
    assert_eq!(call(&mut c, &["LCS", "key1", "key1"]).await, bulk("ohmytext"));
    // MINMATCHLEN and WITHMATCHLEN only matter with IDX.
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "MINMATCHLEN", "4"]).await, bulk("mytext"));
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "WITHMATCHLEN"]).await, bulk("mytext"));
}

#[tokio::test]
async fn lcs_idx() {
    let s = TestServer::start();
    let mut c = s.client().await;
    lcs_fixture(&mut c).await;
    let all_matches = arr(vec![
        bulk("matches"),
        arr(vec![arr(vec![range(4, 7), range(5, 8)]), arr(vec![range(2, 3), range(0, 1)])]),
        bulk("len"),
        int(6),
    ]);
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "IDX"]).await, all_matches);
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-1"]).await, all_matches);
    assert_eq!(
        call(&mut c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"]).await,
        arr(vec![bulk("matches"), arr(vec![arr(vec![range(4, 7), range(5, 8)])]), bulk("len"), int(6),])
    );
    assert_eq!(
        call(&mut c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]).await,
        arr(vec![bulk("matches"), arr(vec![arr(vec![range(4, 7), range(5, 8), int(4)])]), bulk("len"), int(6),])
    );
    assert_eq!(
        call(&mut c, &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"]).await,
        arr(vec![
            bulk("matches"),
            arr(vec![arr(vec![range(4, 7), range(5, 8), int(4)]), arr(vec![range(2, 3), range(0, 1), int(2)]),]),
            bulk("len"),
            int(6),
        ])
    );
    assert_eq!(
        call(&mut c, &["LCS", "key1", "nokey", "IDX"]).await,
        arr(vec![bulk("matches"), arr(vec![]), bulk("len"), int(0)])
    );
}

#[tokio::test]
async fn lcs_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    lcs_fixture(&mut c).await;
    assert_eq!(
        call(&mut c, &["LCS", "key1", "key2", "LEN", "IDX"]).await,
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "MINMATCHLEN"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LCS", "key1", "key2", "MINMATCHLEN", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["LCS", "key1"]).await, arity_err("lcs"));
}

// ---------------------------------------------------------------------------------------------
// Binary safety and large values
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn binary_safe_keys_and_values() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let all: Vec<u8> = (0..=255u8).collect();
    let mut key = b"bin:".to_vec();
    key.extend_from_slice(&all);
    assert_eq!(call(&mut c, &[b"SET".as_slice(), &key, &all]).await, ok());
    assert_eq!(call(&mut c, &[b"GET".as_slice(), &key]).await, bulk(&all));
    assert_eq!(call(&mut c, &[b"STRLEN".as_slice(), &key]).await, int(256));
    assert_eq!(
        call(&mut c, &[b"GETRANGE".as_slice(), &key, b"250", b"-1"]).await,
        bulk([250u8, 251, 252, 253, 254, 255])
    );
    // Each single byte as its own key and value, CR, LF and NUL included.
    for b in 0..=255u8 {
        assert_eq!(call(&mut c, &[b"SET".as_slice(), &[b], &[b, b'\r', b'\n', 0, b]]).await, ok());
    }
    for b in 0..=255u8 {
        assert_eq!(call(&mut c, &[b"GET".as_slice(), &[b]]).await, bulk([b, b'\r', b'\n', 0, b]), "byte {b}");
    }
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(257));
    assert_eq!(call(&mut c, &[b"APPEND".as_slice(), &key, b"\0\r\n"]).await, int(259));
    let mut want = all.clone();
    want.extend_from_slice(b"\0\r\n");
    assert_eq!(call(&mut c, &[b"GET".as_slice(), &key]).await, bulk(&want));
}

fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test]
async fn one_mib_value_round_trip() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let v = pseudo_random_bytes(1 << 20, 7);
    assert_eq!(call(&mut c, &[b"SET".as_slice(), b"big", &v]).await, ok());
    assert_eq!(call(&mut c, &["STRLEN", "big"]).await, int(1 << 20));
    assert_eq!(call(&mut c, &["GET", "big"]).await, bulk(&v));
    assert_eq!(call(&mut c, &["GETRANGE", "big", "1000", "1009"]).await, bulk(&v[1000..1010]));
    assert_eq!(call(&mut c, &["APPEND", "big", "tail"]).await, int((1 << 20) + 4));
    assert_eq!(
        call(&mut c, &["GETRANGE", "big", "-6", "-1"]).await,
        bulk([v[(1 << 20) - 2], v[(1 << 20) - 1], b't', b'a', b'i', b'l'])
    );
}

#[tokio::test]
async fn twenty_mib_value_round_trip() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let len = 20 << 20;
    let v = pseudo_random_bytes(len, 20);
    assert_eq!(call(&mut c, &[b"SET".as_slice(), b"huge", &v]).await, ok());
    assert_eq!(call(&mut c, &["STRLEN", "huge"]).await, int(len as i64));
    let got = call(&mut c, &["GET", "huge"]).await;
    assert!(got == bulk(&v), "20 MiB value changed on the way back");
    // A second connection sees it too.
    let mut c2 = s.client().await;
    assert_eq!(call(&mut c2, &["STRLEN", "huge"]).await, int(len as i64));
}
