//! Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) asserted
//! against the exact replies of Redis 7, and the strings they make: large sparse bitmaps are
//! stored in fragments by Strata, yet GET, GETRANGE, STRLEN, APPEND, SETRANGE, COPY, RENAME,
//! MULTI/EXEC, WATCH and restarts see one string. Passes against redis-server too
//! (`STRATA_TEST_TARGET=redis`).

mod common;

use common::*;
use redis::aio::MultiplexedConnection;

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// The largest bit offset with the default `proto-max-bulk-len` (512 MB).
const LAST_BIT: &str = "4294967295";

async fn get(c: &mut MultiplexedConnection, key: &str) -> Vec<u8> {
    match call(c, &["GET", key]).await {
        Reply::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// SETBIT / GETBIT
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn setbit_and_getbit() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GETBIT", "k", "0"]).await, int(0));
    assert_eq!(call(&mut c, &["SETBIT", "k", "7", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk([1u8]));
    assert_eq!(call(&mut c, &["SETBIT", "k", "7", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["GETBIT", "k", "7"]).await, int(1));
    assert_eq!(call(&mut c, &["GETBIT", "k", "6"]).await, int(0));
    assert_eq!(call(&mut c, &["GETBIT", "k", "100"]).await, int(0));
    // Growing pads with zero bytes.
    assert_eq!(call(&mut c, &["SETBIT", "k", "23", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk([1u8, 0, 1]));
    assert_eq!(call(&mut c, &["SETBIT", "k", "7", "0"]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk([0u8, 0, 1]));
    assert_eq!(call(&mut c, &["TYPE", "k"]).await, status("string"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "k"]).await, bulk("raw"));
    // Bits of an existing string value, most significant bit first ('a' = 0x61).
    assert_eq!(call(&mut c, &["SET", "s", "a"]).await, ok());
    let bits: Vec<i64> = {
        let mut v = Vec::new();
        for i in 0..8 {
            v.push(call(&mut c, &["GETBIT", "s", &i.to_string()]).await.int());
        }
        v
    };
    assert_eq!(bits, vec![0, 1, 1, 0, 0, 0, 0, 1]);
    assert_eq!(call(&mut c, &["SETBIT", "s", "6", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["GET", "s"]).await, bulk("c"));
    // An expiry survives SETBIT.
    assert_eq!(call(&mut c, &["EXPIRE", "s", "100"]).await, int(1));
    assert_eq!(call(&mut c, &["SETBIT", "s", "100", "1"]).await, int(0));
    assert!(call(&mut c, &["TTL", "s"]).await.int() > 0);
}

#[tokio::test]
async fn setbit_and_getbit_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for bad in ["-1", "x", "4294967296", "1.5", "", "#1"] {
        assert_eq!(call(&mut c, &["SETBIT", "k", bad, "1"]).await, err(BAD_OFFSET), "offset {bad:?}");
        assert_eq!(call(&mut c, &["GETBIT", "k", bad]).await, err(BAD_OFFSET), "offset {bad:?}");
    }
    for bad in ["2", "-1", "x", "10", ""] {
        assert_eq!(call(&mut c, &["SETBIT", "k", "0", bad]).await, err(BAD_BIT), "bit {bad:?}");
    }
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(call(&mut c, &["RPUSH", "l", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["SETBIT", "l", "0", "1"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["GETBIT", "l", "0"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["SETBIT", "k", "0"]).await, arity_err("setbit"));
    assert_eq!(call(&mut c, &["GETBIT", "k"]).await, arity_err("getbit"));
    // A smaller proto-max-bulk-len lowers the offset limit.
    assert_eq!(call(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1048576"]).await, ok());
    assert_eq!(call(&mut c, &["SETBIT", "k", "8388608", "1"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["SETBIT", "k", "8388607", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["STRLEN", "k"]).await, int(1048576));
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bitcount_ranges() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["BITCOUNT", "missing"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "missing", "0", "-1"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "k", "foobar"]).await, ok());
    assert_eq!(call(&mut c, &["BITCOUNT", "k"]).await, int(26));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "0"]).await, int(4));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "1", "1"]).await, int(6));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "1", "1", "BYTE"]).await, int(6));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "5", "30", "BIT"]).await, int(17));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "-1"]).await, int(26));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "-2", "-1"]).await, int(7));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "-1", "-2"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "2", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "1000"]).await, int(26));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "-1000", "0"]).await, int(4));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "1000", "2000"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "-1", "bit"]).await, int(26));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "1", "1", "bit"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "0", "bit"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "-8", "-1", "bit"]).await, int(4));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "3", "12", "bit"]).await, int(5));
    // Every single-bit range adds up to the whole.
    let mut sum = 0;
    for i in 0..48 {
        sum += call(&mut c, &["BITCOUNT", "k", &i.to_string(), &i.to_string(), "BIT"]).await.int();
    }
    assert_eq!(sum, 26);
    assert_eq!(call(&mut c, &["SET", "e", ""]).await, ok());
    assert_eq!(call(&mut c, &["BITCOUNT", "e"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "e", "0", "-1", "BIT"]).await, int(0));
}

#[tokio::test]
async fn bitcount_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "foobar"]).await, ok());
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "1", "BIT", "x"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "1", "bits"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "x", "1"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITCOUNT", "k", "0", "1.0"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITCOUNT"]).await, arity_err("bitcount"));
    assert_eq!(call(&mut c, &["HSET", "h", "f", "v"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "h"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["BITCOUNT", "h", "0", "1"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// BITPOS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bitpos_finds_set_and_clear_bits() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // A missing key is all zeros.
    assert_eq!(call(&mut c, &["BITPOS", "missing", "1"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "missing", "0"]).await, int(0));
    assert_eq!(call(&mut c, &["BITPOS", "missing", "0", "1", "2"]).await, int(0));
    assert_eq!(call(&mut c, &[&b"SET"[..], b"k", &b"\xff\xf0\x00"[..]]).await, ok());
    assert_eq!(call(&mut c, &["BITPOS", "k", "0"]).await, int(12));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "1"]).await, int(8));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "2"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "k", "0", "2", "-1"]).await, int(16));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "7", "15", "BIT"]).await, int(7));
    assert_eq!(call(&mut c, &["BITPOS", "k", "0", "7", "15", "BIT"]).await, int(12));
    assert_eq!(call(&mut c, &["BITPOS", "k", "0", "-12", "-1", "BIT"]).await, int(12));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "12", "-1", "bit"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "k", "0", "0", "0", "BYTE"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "2", "1"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "-100", "100"]).await, int(0));
    // All ones: looking for 0 without an end answers the first bit past the string; with an
    // end (or in BIT mode) there is none.
    assert_eq!(call(&mut c, &[&b"SET"[..], b"ones", &b"\xff\xff\xff"[..]]).await, ok());
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0"]).await, int(24));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "0"]).await, int(24));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "1"]).await, int(24));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "0", "-1"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "0", "100"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "0", "5", "10", "BIT"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "ones", "1", "1"]).await, int(8));
    // All zeros.
    assert_eq!(call(&mut c, &[&b"SET"[..], b"zeros", &b"\x00\x00"[..]]).await, ok());
    assert_eq!(call(&mut c, &["BITPOS", "zeros", "1"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "zeros", "0", "1"]).await, int(8));
    // An empty string has neither.
    assert_eq!(call(&mut c, &["SET", "e", ""]).await, ok());
    assert_eq!(call(&mut c, &["BITPOS", "e", "0"]).await, int(-1));
    assert_eq!(call(&mut c, &["BITPOS", "e", "1"]).await, int(-1));
    // Errors.
    assert_eq!(call(&mut c, &["BITPOS", "k", "2"]).await, err("ERR The bit argument must be 1 or 0."));
    assert_eq!(call(&mut c, &["BITPOS", "k", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "0", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "0", "1", "bits"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "0", "1", "BIT", "x"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITPOS", "k"]).await, arity_err("bitpos"));
    assert_eq!(call(&mut c, &["SADD", "set", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["BITPOS", "set", "1"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bitop_and_or_xor_not() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &[&b"SET"[..], b"a", &b"\xff\x0f\x01"[..]]).await, ok());
    assert_eq!(call(&mut c, &[&b"SET"[..], b"b", &b"\x0f\xff"[..]]).await, ok());
    assert_eq!(call(&mut c, &["BITOP", "AND", "d", "a", "b"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\x0f\x0f\x00"));
    assert_eq!(call(&mut c, &["BITOP", "or", "d", "a", "b"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\xff\xff\x01"));
    assert_eq!(call(&mut c, &["BITOP", "Xor", "d", "a", "b"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\xf0\xf0\x01"));
    assert_eq!(call(&mut c, &["BITOP", "NOT", "d", "a"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\x00\xf0\xfe"));
    // Missing sources are empty strings; a single source is copied (AND/OR/XOR).
    assert_eq!(call(&mut c, &["BITOP", "AND", "d", "a", "missing"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\x00\x00\x00"));
    assert_eq!(call(&mut c, &["BITOP", "OR", "d", "missing", "b"]).await, int(2));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\x0f\xff"));
    assert_eq!(call(&mut c, &["BITOP", "XOR", "d", "a"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\xff\x0f\x01"));
    // The destination may be a source; its TTL is dropped like SET's.
    assert_eq!(call(&mut c, &["EXPIRE", "d", "100"]).await, int(1));
    assert_eq!(call(&mut c, &["BITOP", "OR", "d", "d", "b"]).await, int(3));
    assert_eq!(call(&mut c, &["GET", "d"]).await, bulk(b"\xff\xff\x01"));
    assert_eq!(call(&mut c, &["TTL", "d"]).await, int(-1));
    // A destination of another type is replaced.
    assert_eq!(call(&mut c, &["RPUSH", "l", "x"]).await, int(1));
    assert_eq!(call(&mut c, &["BITOP", "AND", "l", "a", "a"]).await, int(3));
    assert_eq!(call(&mut c, &["TYPE", "l"]).await, status("string"));
    // An empty result deletes the destination.
    assert_eq!(call(&mut c, &["BITOP", "AND", "d", "missing", "missing2"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "d"]).await, int(0));
    assert_eq!(call(&mut c, &["SET", "e", ""]).await, ok());
    assert_eq!(call(&mut c, &["BITOP", "NOT", "d", "e"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "d"]).await, int(0));
}

#[tokio::test]
async fn bitop_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "a", "x"]).await, ok());
    assert_eq!(call(&mut c, &["BITOP", "NAND", "d", "a"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["BITOP", "NOT", "d", "a", "a"]).await,
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(call(&mut c, &["BITOP", "AND", "d"]).await, arity_err("bitop"));
    assert_eq!(call(&mut c, &["SADD", "s", "m"]).await, int(1));
    assert_eq!(call(&mut c, &["BITOP", "OR", "d", "a", "s"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["EXISTS", "d"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// BITFIELD / BITFIELD_RO
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bitfield_get_set_incrby() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["BITFIELD", "k"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "0"]).await, arr(vec![int(0)]));
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0", "INCRBY", "u8", "0", "10"]).await,
        arr(vec![int(0), int(255), int(9)])
    );
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk([9u8]));
    // Redis's docs example: a 5-bit unsigned 23 at offset 7.
    assert_eq!(call(&mut c, &["DEL", "k"]).await, int(1));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "u5", "7", "23"]).await, arr(vec![int(0)]));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk([0b0000_0001u8, 0b0111_0000]));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u5", "7", "GET", "i5", "7"]).await, arr(vec![int(23), int(-9)]));
    // Signed fields and `#` offsets (in units of the field width).
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "SET", "i8", "#2", "-100", "GET", "i8", "#2"]).await,
        arr(vec![int(0), int(-100)])
    );
    assert_eq!(call(&mut c, &["GETRANGE", "k", "2", "2"]).await, bulk([156u8]));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "INCRBY", "i8", "16", "-28"]).await, arr(vec![int(-128)]));
    // 64-bit signed, across byte boundaries.
    assert_eq!(
        call(&mut c, &["BITFIELD", "w", "SET", "i64", "3", "-2", "GET", "i64", "3", "GET", "u63", "4"]).await,
        arr(vec![int(0), int(-2), int(i64::MAX - 1)])
    );
    assert_eq!(call(&mut c, &["STRLEN", "w"]).await, int(9));
    assert_eq!(
        call(&mut c, &["BITFIELD", "w", "INCRBY", "i64", "3", "2", "GET", "u1", "2"]).await,
        arr(vec![int(0), int(0)])
    );
    // GETs past the end read zeros; BITFIELD_RO reads.
    assert_eq!(
        call(&mut c, &["BITFIELD_RO", "k", "GET", "u8", "1000", "GET", "i3", "0"]).await,
        arr(vec![int(0), int(0)])
    );
    assert_eq!(call(&mut c, &["BITFIELD_RO", "k", "GET", "u8", "8"]).await, arr(vec![int(0b0111_0000)]));
    assert_eq!(call(&mut c, &["BITFIELD_RO", "k"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["BITFIELD_RO", "missing", "GET", "u8", "0"]).await, arr(vec![int(0)]));
}

#[tokio::test]
async fn bitfield_overflow() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let incr =
        |how: &'static str, t: &'static str, by: &'static str| ["BITFIELD", "k", "OVERFLOW", how, "INCRBY", t, "0", by];
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "250"]).await, arr(vec![int(0)]));
    assert_eq!(call(&mut c, &incr("WRAP", "u8", "10")).await, arr(vec![int(4)]));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "250"]).await, arr(vec![int(4)]));
    assert_eq!(call(&mut c, &incr("SAT", "u8", "10")).await, arr(vec![int(255)]));
    assert_eq!(call(&mut c, &incr("FAIL", "u8", "1")).await, arr(vec![nil()]));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk([255u8]));
    assert_eq!(call(&mut c, &incr("sat", "u8", "-300")).await, arr(vec![int(0)]));
    assert_eq!(call(&mut c, &incr("fail", "u8", "-1")).await, arr(vec![nil()]));
    assert_eq!(call(&mut c, &incr("wrap", "u8", "-1")).await, arr(vec![int(255)]));
    // Signed.
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "i8", "0", "127"]).await, arr(vec![int(-1)]));
    assert_eq!(call(&mut c, &incr("WRAP", "i8", "1")).await, arr(vec![int(-128)]));
    assert_eq!(call(&mut c, &incr("SAT", "i8", "-1")).await, arr(vec![int(-128)]));
    assert_eq!(call(&mut c, &incr("FAIL", "i8", "-1")).await, arr(vec![nil()]));
    assert_eq!(call(&mut c, &incr("SAT", "i8", "1000")).await, arr(vec![int(127)]));
    // SET with an out-of-range value: wrapped, saturated, or refused (the old value is the reply).
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "SET", "i8", "0", "200", "GET", "i8", "0"]).await,
        arr(vec![int(127), int(-56)])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]).await,
        arr(vec![int(200), int(255)])
    );
    assert_eq!(
        call(&mut c, &["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u4", "0", "16", "GET", "u4", "0"]).await,
        arr(vec![nil(), int(15)])
    );
    // The overflow mode applies to the operations after it only.
    assert_eq!(
        call(
            &mut c,
            &[
                "BITFIELD", "k", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "1", "OVERFLOW", "FAIL", "INCRBY", "u8",
                "0", "-1"
            ]
        )
        .await,
        arr(vec![int(255), int(0), nil()])
    );
    // i64 limits.
    let max = i64::MAX.to_string();
    assert_eq!(call(&mut c, &["BITFIELD", "b", "SET", "i64", "0", &max]).await, arr(vec![int(0)]));
    assert_eq!(call(&mut c, &["BITFIELD", "b", "INCRBY", "i64", "0", "1"]).await, arr(vec![int(i64::MIN)]));
    assert_eq!(
        call(&mut c, &["BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"]).await,
        arr(vec![int(i64::MIN)])
    );
    // A FAIL on a missing key still creates it, grown to hold the field (as Redis).
    assert_eq!(call(&mut c, &["BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"]).await, arr(vec![nil()]));
    assert_eq!(call(&mut c, &["STRLEN", "n"]).await, int(1));
}

#[tokio::test]
async fn bitfield_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for t in ["u64", "i65", "i0", "u0", "x8", "8", "u", "i-1"] {
        assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", t, "0"]).await, err(BAD_TYPE), "type {t}");
    }
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "-1"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "#-1"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "x"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "#"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "4294967296"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8", "#536870912"]).await, err(BAD_OFFSET));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "INCRBY", "u8", "0", "1.5"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "OVERFLOW", "MAYBE"]).await, err("ERR Invalid OVERFLOW type specified"));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "OVERFLOW"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "GET", "u8"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "u8", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BITFIELD", "k", "FOO", "u8", "0"]).await, err(SYNTAX));
    // A bad subcommand anywhere means nothing runs.
    assert_eq!(call(&mut c, &["BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u99", "0"]).await, err(BAD_TYPE));
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    let ro = "ERR BITFIELD_RO only supports the GET subcommand";
    assert_eq!(call(&mut c, &["BITFIELD_RO", "k", "SET", "u8", "0", "1"]).await, err(ro));
    assert_eq!(call(&mut c, &["BITFIELD_RO", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1"]).await, err(ro));
    assert_eq!(call(&mut c, &["BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", "0"]).await, arr(vec![int(0)]));
    assert_eq!(call(&mut c, &["BITFIELD_RO", "k", "SET", "u8", "0", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["BITFIELD"]).await, arity_err("bitfield"));
    assert_eq!(call(&mut c, &["BITFIELD_RO"]).await, arity_err("bitfield_ro"));
    assert_eq!(call(&mut c, &["HSET", "h", "f", "v"]).await, int(1));
    assert_eq!(call(&mut c, &["BITFIELD", "h", "GET", "u8", "0"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["BITFIELD", "h", "SET", "u8", "0", "1"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["BITFIELD_RO", "h", "GET", "u8", "0"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// Large and sparse bitmaps (fragmented in Strata), seen as one string
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_last_bit_of_a_512mb_string() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "big", LAST_BIT, "1"]).await, int(0));
    assert_eq!(call(&mut c, &["GETBIT", "big", LAST_BIT]).await, int(1));
    assert_eq!(call(&mut c, &["GETBIT", "big", "4294967294"]).await, int(0));
    assert_eq!(call(&mut c, &["GETBIT", "big", "0"]).await, int(0));
    assert_eq!(call(&mut c, &["STRLEN", "big"]).await, int(536_870_912));
    assert_eq!(call(&mut c, &["BITCOUNT", "big"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "big", "-1", "-1"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "big", "0", "-2"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "big", "-8", "-1", "BIT"]).await, int(1));
    assert_eq!(call(&mut c, &["BITPOS", "big", "1"]).await, int(4_294_967_295));
    assert_eq!(call(&mut c, &["BITPOS", "big", "1", "-1"]).await, int(4_294_967_295));
    assert_eq!(call(&mut c, &["BITPOS", "big", "0", "-1"]).await, int(4_294_967_288));
    assert_eq!(call(&mut c, &["BITPOS", "big", "1", "-8", "-1", "BIT"]).await, int(4_294_967_295));
    assert_eq!(call(&mut c, &["GETRANGE", "big", "-1", "-1"]).await, bulk([1u8]));
    assert_eq!(call(&mut c, &["GETRANGE", "big", "536870908", "-1"]).await, bulk([0u8, 0, 0, 1]));
    assert_eq!(call(&mut c, &["GETRANGE", "big", "0", "3"]).await, bulk([0u8, 0, 0, 0]));
    assert_eq!(
        call(&mut c, &["BITFIELD", "big", "GET", "u8", "4294967288", "SET", "u4", "4294967280", "15"]).await,
        arr(vec![int(1), int(0)])
    );
    assert_eq!(call(&mut c, &["BITFIELD_RO", "big", "GET", "u16", "4294967280"]).await, arr(vec![int(0xf001)]));
    assert_eq!(call(&mut c, &["BITCOUNT", "big"]).await, int(5));
    assert_eq!(call(&mut c, &["SETBIT", "big", "4294967296", "1"]).await, err(BAD_OFFSET));
    assert_eq!(
        call(&mut c, &["SETRANGE", "big", "536870911", "xy"]).await,
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(
        call(&mut c, &["APPEND", "big", "x"]).await,
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(call(&mut c, &["TYPE", "big"]).await, status("string"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "big"]).await, bulk("raw"));
    assert_eq!(call(&mut c, &["DEL", "big"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "big"]).await, int(0));
}

/// A string grown past the fragment threshold by bit commands, edited every way; each result
/// is compared with a model kept here.
#[tokio::test]
async fn fragmented_values_read_and_write_as_one_string() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut model = vec![0u8; 100_001];
    model[100_000] = 0x80;
    assert_eq!(call(&mut c, &["SETBIT", "k", "800000", "1"]).await, int(0));
    assert_eq!(get(&mut c, "k").await, model);
    // SETRANGE inside, across fragment boundaries, and past the end.
    for (offset, text) in [(1020usize, "boundary"), (50_000, "hello"), (100_003, "tail")] {
        let n = call(&mut c, &["SETRANGE", "k", &offset.to_string(), text]).await.int();
        if model.len() < offset + text.len() {
            model.resize(offset + text.len(), 0);
        }
        model[offset..offset + text.len()].copy_from_slice(text.as_bytes());
        assert_eq!(n as usize, model.len());
    }
    assert_eq!(call(&mut c, &["APPEND", "k", "!!"]).await, int(model.len() as i64 + 2));
    model.extend_from_slice(b"!!");
    assert_eq!(get(&mut c, "k").await, model);
    assert_eq!(call(&mut c, &["STRLEN", "k"]).await, int(model.len() as i64));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "1018", "1030"]).await, bulk(&model[1018..=1030]));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "-10", "-1"]).await, bulk(&model[model.len() - 10..]));
    assert_eq!(call(&mut c, &["SUBSTR", "k", "49999", "50005"]).await, bulk(&model[49_999..=50_005]));
    let ones: u32 = model.iter().map(|b| b.count_ones()).sum();
    assert_eq!(call(&mut c, &["BITCOUNT", "k"]).await, int(i64::from(ones)));
    let first_one = model.iter().position(|&b| b != 0).unwrap() * 8
        + model.iter().find(|&&b| b != 0).unwrap().leading_zeros() as usize;
    assert_eq!(call(&mut c, &["BITPOS", "k", "1"]).await, int(first_one as i64));
    assert_eq!(call(&mut c, &["BITPOS", "k", "1", "60000"]).await, int(800_000));
    assert_eq!(call(&mut c, &["BITPOS", "k", "0", "1020", "1027"]).await, int(1020 * 8));
    assert_eq!(call(&mut c, &["MGET", "k", "missing"]).await, arr(vec![bulk(&model), nil()]));
    assert_eq!(call(&mut c, &["GETEX", "k", "EX", "1000"]).await, bulk(&model));
    assert!(call(&mut c, &["TTL", "k"]).await.int() > 0);
    assert_eq!(call(&mut c, &["SET", "k", "short", "GET"]).await, bulk(&model));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("short"));
    assert_eq!(call(&mut c, &["TTL", "k"]).await, int(-1));
    // INCR on a long value, GETDEL, GETSET.
    assert_eq!(call(&mut c, &["SETBIT", "n", "100000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["INCR", "n"]).await, err(NOT_INT));
    assert!(matches!(call(&mut c, &["GETSET", "n", "v"]).await, Reply::Bulk(b) if b.len() == 12_501));
    assert_eq!(call(&mut c, &["SETBIT", "n", "100000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["STRLEN", "n"]).await, int(12_501));
    let v = get(&mut c, "n").await;
    assert_eq!(&v[..2], b"v\0");
    assert_eq!(call(&mut c, &["GETDEL", "n"]).await, bulk(&v));
    assert_eq!(call(&mut c, &["EXISTS", "n"]).await, int(0));
    // A long value written by SET, then edited by bits.
    let long = vec![0xaau8; 10_000];
    assert_eq!(call(&mut c, &[&b"SET"[..], b"l", &long[..]]).await, ok());
    assert_eq!(call(&mut c, &["SETBIT", "l", "0", "0"]).await, int(1));
    let mut expected = long.clone();
    expected[0] = 0x2a;
    assert_eq!(get(&mut c, "l").await, expected);
    assert_eq!(call(&mut c, &["BITCOUNT", "l"]).await, int(10_000 * 4 - 1));
}

#[tokio::test]
async fn bitop_over_large_sparse_bitmaps() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "a", "100", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["SETBIT", "a", "8000000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["SETBIT", "b", "8000000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["SETBIT", "b", "16000000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["BITOP", "OR", "or", "a", "b"]).await, int(2_000_001));
    assert_eq!(call(&mut c, &["BITCOUNT", "or"]).await, int(3));
    assert_eq!(call(&mut c, &["BITOP", "AND", "and", "a", "b"]).await, int(2_000_001));
    assert_eq!(call(&mut c, &["BITCOUNT", "and"]).await, int(1));
    assert_eq!(call(&mut c, &["BITPOS", "and", "1"]).await, int(8_000_000));
    assert_eq!(call(&mut c, &["BITOP", "XOR", "xor", "a", "b", "and"]).await, int(2_000_001));
    assert_eq!(call(&mut c, &["BITCOUNT", "xor"]).await, int(3));
    assert_eq!(call(&mut c, &["BITOP", "NOT", "not", "a"]).await, int(1_000_001));
    assert_eq!(call(&mut c, &["BITCOUNT", "not"]).await, int(1_000_001 * 8 - 2));
    assert_eq!(call(&mut c, &["BITPOS", "not", "0"]).await, int(100));
    assert_eq!(call(&mut c, &["GETRANGE", "not", "0", "0"]).await, bulk([0xffu8]));
    // Small inputs give a small result; a long one in place of a short one and back.
    assert_eq!(call(&mut c, &["SET", "x", "ab"]).await, ok());
    assert_eq!(call(&mut c, &["BITOP", "AND", "or", "x", "x"]).await, int(2));
    assert_eq!(call(&mut c, &["GET", "or"]).await, bulk("ab"));
    assert_eq!(call(&mut c, &["BITCOUNT", "or"]).await, int(6));
}

#[tokio::test]
async fn copy_rename_and_move_carry_fragmented_values() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "k", "1000000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["SETRANGE", "k", "3", "abc"]).await, int(125_001));
    let v = get(&mut c, "k").await;
    assert_eq!(call(&mut c, &["COPY", "k", "copy"]).await, int(1));
    assert_eq!(call(&mut c, &["SETBIT", "copy", "0", "1"]).await, int(0));
    assert_eq!(get(&mut c, "k").await, v, "the copy is independent");
    let bits = call(&mut c, &["BITCOUNT", "k"]).await.int();
    assert_eq!(call(&mut c, &["BITCOUNT", "copy"]).await, int(bits + 1));
    assert_eq!(call(&mut c, &["RENAME", "k", "renamed"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(get(&mut c, "renamed").await, v);
    assert_eq!(call(&mut c, &["MOVE", "renamed", "3"]).await, int(1));
    assert_eq!(call(&mut c, &["SELECT", "3"]).await, ok());
    assert_eq!(get(&mut c, "renamed").await, v);
    assert_eq!(call(&mut c, &["GETBIT", "renamed", "1000000"]).await, int(1));
    // Renamed back over a fresh key of the same name: no fragment of the old one shows.
    assert_eq!(call(&mut c, &["SETBIT", "k2", "2000000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["RENAME", "renamed", "k2"]).await, ok());
    assert_eq!(get(&mut c, "k2").await, v);
}

#[tokio::test]
async fn sparse_bitmaps_survive_restart_and_overwrites_drop_their_fragments() {
    let mut s = TestServer::start();
    {
        let mut c = s.client().await;
        assert_eq!(call(&mut c, &["SETBIT", "sparse", LAST_BIT, "1"]).await, int(0));
        assert_eq!(call(&mut c, &["SETBIT", "sparse", "123456789", "1"]).await, int(0));
        assert_eq!(call(&mut c, &["SETBIT", "gone", "4000000", "1"]).await, int(0));
        assert_eq!(call(&mut c, &["SETBIT", "gone", "50", "1"]).await, int(0));
        assert_eq!(call(&mut c, &["SET", "gone", "x"]).await, ok());
        assert_eq!(call(&mut c, &["SETBIT", "deleted", "4000000", "1"]).await, int(0));
        assert_eq!(call(&mut c, &["DEL", "deleted"]).await, int(1));
    }
    s.restart();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["STRLEN", "sparse"]).await, int(536_870_912));
    assert_eq!(call(&mut c, &["BITCOUNT", "sparse"]).await, int(2));
    assert_eq!(call(&mut c, &["BITPOS", "sparse", "1"]).await, int(123_456_789));
    assert_eq!(call(&mut c, &["GETBIT", "sparse", LAST_BIT]).await, int(1));
    assert_eq!(call(&mut c, &["GET", "gone"]).await, bulk("x"));
    // Bits set again on the overwritten and the deleted keys: the old bits never come back.
    for key in ["gone", "deleted"] {
        assert_eq!(call(&mut c, &["SETBIT", key, "4000001", "1"]).await, int(0));
        assert_eq!(call(&mut c, &["GETBIT", key, "4000000"]).await, int(0), "{key}");
        assert_eq!(call(&mut c, &["GETBIT", key, "50"]).await, int(0), "{key}");
    }
    assert_eq!(call(&mut c, &["BITCOUNT", "gone"]).await, int(i64::from(b'x'.count_ones()) + 1));
    assert_eq!(call(&mut c, &["BITCOUNT", "deleted"]).await, int(1));
    s.restart();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["BITCOUNT", "deleted"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "gone"]).await, int(i64::from(b'x'.count_ones()) + 1));
    assert_eq!(call(&mut c, &["BITCOUNT", "sparse"]).await, int(2));
}

// ---------------------------------------------------------------------------------------------
// Transactions, WATCH, scripts, notifications
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bit_commands_in_multi_exec_see_their_own_writes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "k", "100000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    for cmd in [
        &["SETBIT", "k", "200000", "1"][..],
        &["GETBIT", "k", "200000"],
        &["BITCOUNT", "k"],
        &["BITFIELD", "k", "INCRBY", "u8", "0", "5", "GET", "u8", "0"],
        &["BITOP", "OR", "d", "k", "k"],
        &["BITCOUNT", "d"],
        &["BITPOS", "d", "1", "1"],
        &["STRLEN", "k"],
        &["GETRANGE", "k", "0", "0"],
    ] {
        assert_eq!(call(&mut c, cmd).await, status("QUEUED"));
    }
    assert_eq!(
        call(&mut c, &["EXEC"]).await,
        arr(vec![
            int(0),
            int(1),
            int(2),
            arr(vec![int(5), int(5)]),
            int(25_001),
            int(4),
            int(100_000),
            int(25_001),
            bulk([5u8]),
        ])
    );
    assert_eq!(call(&mut c, &["BITCOUNT", "d"]).await, int(4));
}

#[tokio::test]
async fn watch_sees_bit_writes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "k", "100000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SETBIT", "k", "5", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SETBIT", "k", "6", "1"]).await, status("QUEUED"));
    assert_eq!(call(&mut c, &["EXEC"]).await, nil());
    assert_eq!(call(&mut c, &["GETBIT", "k", "6"]).await, int(0));
    // BITFIELD and BITOP's destination too; a read leaves the watch alone.
    for write in [&["BITFIELD", "k", "SET", "u8", "8", "7"][..], &["BITOP", "NOT", "k", "k"]] {
        assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
        assert!(!call(&mut other, &["BITCOUNT", "k"]).await.is_err());
        assert!(!call(&mut other, write).await.is_err());
        assert_eq!(call(&mut c, &["MULTI"]).await, ok());
        assert_eq!(call(&mut c, &["GETBIT", "k", "0"]).await, status("QUEUED"));
        assert_eq!(call(&mut c, &["EXEC"]).await, nil(), "{write:?}");
    }
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert!(!call(&mut other, &["BITCOUNT", "k"]).await.is_err());
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["GETBIT", "k", "0"]).await, status("QUEUED"));
    assert_eq!(call(&mut c, &["EXEC"]).await.array().len(), 1);
}

#[tokio::test]
async fn bit_commands_from_lua() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let script = "redis.call('SETBIT', KEYS[1], ARGV[1], 1) \
                  return {redis.call('BITCOUNT', KEYS[1]), redis.call('GETBIT', KEYS[1], ARGV[1]), \
                  redis.call('BITFIELD', KEYS[1], 'GET', 'u8', 0)[1], redis.call('STRLEN', KEYS[1])}";
    assert_eq!(
        call(&mut c, &["EVAL", script, "1", "k", "80001"]).await,
        arr(vec![int(1), int(1), int(0), int(10_001)])
    );
    let ro = "return redis.call('BITFIELD_RO', KEYS[1], 'GET', 'u8', 80000)";
    assert_eq!(call(&mut c, &["EVAL_RO", ro, "1", "k"]).await, arr(vec![int(0x40)]));
    assert!(call(&mut c, &["EVAL_RO", "return redis.call('SETBIT', KEYS[1], 0, 1)", "1", "k"]).await.is_err());
}

#[test]
fn bit_commands_fire_redis_notifications() {
    let s = TestServer::start();
    let mut ctl = RawConn::connect(s.port);
    assert_eq!(ctl.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), ok());
    let mut sub = RawConn::connect(s.port);
    assert_eq!(
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]),
        arr(vec![bulk("psubscribe"), bulk("__keyevent@0__:*"), int(1)])
    );
    let mut c = RawConn::connect(s.port);
    for cmd in [
        &["SETBIT", "k", "1", "1"][..],
        &["SETBIT", "k", "1", "1"],
        &["SETBIT", "big", "80000", "1"],
        &["BITFIELD", "k", "GET", "u8", "0"],
        &["BITFIELD", "k", "SET", "u8", "0", "65"],
        &["BITOP", "NOT", "d", "k"],
        &["BITOP", "AND", "d", "nope"],
        &["BITOP", "AND", "d", "nope"],
    ] {
        assert!(!c.call(cmd).is_err(), "{cmd:?}");
    }
    assert_eq!(c.call(&["PUBLISH", "__keyevent@0__:end", "x"]), int(1));
    let mut got = Vec::new();
    loop {
        let m = sub.read_reply().array();
        let (channel, key) = (m[2].text(), m[3].text());
        if channel.ends_with(":end") {
            break;
        }
        got.push(format!("{} {key}", channel.trim_start_matches("__keyevent@0__:")));
    }
    assert_eq!(got, ["setbit k", "setbit big", "setbit k", "set d", "del d"]);
}

#[test]
fn pipelined_bit_commands_see_each_others_writes() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let cmds: Vec<Vec<&str>> = vec![
        vec!["SETBIT", "p", "100000", "1"],
        vec!["SETBIT", "p", "5", "1"],
        vec!["BITCOUNT", "p"],
        vec!["SETBIT", "p", "200000", "1"],
        vec!["BITCOUNT", "p"],
        vec!["GETRANGE", "p", "0", "0"],
        vec!["BITFIELD", "p", "INCRBY", "u8", "8", "3"],
        vec!["STRLEN", "p"],
        vec!["BITPOS", "p", "1", "1"],
        vec!["APPEND", "p", "z"],
        vec!["GETRANGE", "p", "-2", "-1"],
        vec!["BITOP", "NOT", "q", "p"],
        vec!["BITCOUNT", "q"],
        vec!["GETBIT", "q", "5"],
    ];
    let mut bytes = Vec::new();
    for cmd in &cmds {
        bytes.extend_from_slice(&resp(cmd));
    }
    c.send(&bytes);
    let replies: Vec<Reply> = cmds.iter().map(|_| c.read_reply()).collect();
    assert_eq!(
        replies,
        vec![
            int(0),
            int(0),
            int(2),
            int(0),
            int(3),
            bulk([4u8]),
            arr(vec![int(3)]),
            int(25_001),
            int(14),
            int(25_002),
            bulk([0x80u8, b'z']),
            int(25_002),
            int(25_002 * 8 - 3 - 2 - 5),
            int(0),
        ]
    );
}

#[tokio::test]
async fn concurrent_setbits_on_one_bitmap_all_land() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "shared", "1000000", "1"]).await, int(0));
    let mut tasks = Vec::new();
    for t in 0..4u64 {
        let client = s.redis_client();
        tasks.push(tokio::spawn(async move {
            let mut c = client.get_multiplexed_async_connection().await.expect("connect");
            for i in 0..250u64 {
                // Writers on neighbouring bits of the same fragments, readers in between.
                let offset = (i * 4 + t) * 97 % 999_983;
                assert_eq!(call(&mut c, &["SETBIT", "shared", &offset.to_string(), "1"]).await, int(0));
                let n = call(&mut c, &["BITCOUNT", "shared"]).await.int();
                assert!((2..=1001).contains(&n), "{n}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(call(&mut c, &["BITCOUNT", "shared"]).await, int(1001));
    assert_eq!(call(&mut c, &["STRLEN", "shared"]).await, int(125_001));
}

#[tokio::test]
async fn a_large_bitmap_counts_toward_maxmemory() {
    let s = TestServer::start_with(&["--maxmemory", "100mb", "--maxmemory-policy", "noeviction"]);
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "small", "v"]).await, ok());
    // Under the limit before it, the command runs; the 512 MB string it makes is then counted.
    assert_eq!(call(&mut c, &["SETBIT", "big", LAST_BIT, "1"]).await, int(0));
    assert_eq!(
        call(&mut c, &["SET", "other", "v"]).await,
        err("OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(
        call(&mut c, &["SETBIT", "big", "0", "1"]).await,
        err("OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(call(&mut c, &["GETBIT", "big", LAST_BIT]).await, int(1));
    assert_eq!(call(&mut c, &["DEL", "big"]).await, int(1));
    assert_eq!(call(&mut c, &["SET", "other", "v"]).await, ok());
}

#[tokio::test]
async fn an_expired_bitmap_leaves_nothing_behind() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SETBIT", "t", "500000", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["SETBIT", "t", "7", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["PEXPIRE", "t", "50"]).await, int(1));
    assert_eq!(call(&mut c, &["PERSIST", "t"]).await, int(1));
    assert_eq!(call(&mut c, &["BITCOUNT", "t"]).await, int(2));
    assert_eq!(call(&mut c, &["PEXPIRE", "t", "50"]).await, int(1));
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    assert_eq!(call(&mut c, &["BITCOUNT", "t"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "t"]).await, int(0));
    assert_eq!(call(&mut c, &["SETBIT", "t", "500001", "1"]).await, int(0));
    assert_eq!(call(&mut c, &["GETBIT", "t", "7"]).await, int(0));
    assert_eq!(call(&mut c, &["BITCOUNT", "t"]).await, int(1));
    assert_eq!(call(&mut c, &["SCAN", "0", "TYPE", "string"]).await, arr(vec![bulk("0"), bulks(&["t"])]));
}
