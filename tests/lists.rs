//! List commands, asserted against the exact replies of Redis 7.0.

mod common;

use std::time::{Duration, Instant};

use common::*;
use redis::aio::MultiplexedConnection;

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... \
                         or use negative to start from the end of the list";
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

async fn range(c: &mut MultiplexedConnection, key: &str) -> Reply {
    call(c, &["LRANGE", key, "0", "-1"]).await
}

/// RPUSH key e0 e1 ... e(n-1) in chunks.
async fn fill(c: &mut MultiplexedConnection, key: &str, n: usize) {
    let names: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
    for chunk in names.chunks(500) {
        let mut args = vec!["RPUSH".to_string(), key.to_string()];
        args.extend(chunk.iter().cloned());
        call(c, &args).await.int();
    }
}

fn names(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("e{i}")).collect()
}

fn strs(v: &[String]) -> Reply {
    arr(v.iter().map(bulk).collect())
}

// ---------------------------------------------------------------------------------------------
// Pushes and pops
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn push_and_range() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["RPUSH", "l", "a", "b"]).await, int(2));
    assert_eq!(call(&mut c, &["LPUSH", "l", "x", "y"]).await, int(4));
    assert_eq!(call(&mut c, &["RPUSH", "l", "c"]).await, int(5));
    assert_eq!(range(&mut c, "l").await, bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(5));
    assert_eq!(call(&mut c, &["LLEN", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "l"]).await, status("list"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "l"]).await, bulk("quicklist"));
    // Binary-safe elements, empty elements.
    assert_eq!(call(&mut c, &["RPUSH", "bin", "", "a\r\nb", "\u{0}z"]).await, int(3));
    assert_eq!(range(&mut c, "bin").await, bulks(&["", "a\r\nb", "\u{0}z"]));
}

#[tokio::test]
async fn pushx_only_on_existing_lists() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["LPUSHX", "l", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["RPUSHX", "l", "a", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
    assert_eq!(call(&mut c, &["RPUSH", "l", "m"]).await, int(1));
    assert_eq!(call(&mut c, &["LPUSHX", "l", "a", "b"]).await, int(3));
    assert_eq!(call(&mut c, &["RPUSHX", "l", "y", "z"]).await, int(5));
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "a", "m", "y", "z"]));
}

#[tokio::test]
async fn pops_with_and_without_count() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e", "f"]).await;
    assert_eq!(call(&mut c, &["LPOP", "l"]).await, bulk("a"));
    assert_eq!(call(&mut c, &["RPOP", "l"]).await, bulk("f"));
    assert_eq!(call(&mut c, &["LPOP", "l", "2"]).await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["RPOP", "l", "1"]).await, bulks(&["e"]));
    assert_eq!(call(&mut c, &["LPOP", "l", "0"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["RPOP", "l", "0"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["RPOP", "l", "10"]).await, bulks(&["d"]));
    // The emptied list is gone.
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
    assert_eq!(call(&mut c, &["LPOP", "l"]).await, nil());
    assert_eq!(call(&mut c, &["RPOP", "l"]).await, nil());
    assert_eq!(call(&mut c, &["LPOP", "l", "2"]).await, nil());
    assert_eq!(call(&mut c, &["LPOP", "l", "0"]).await, nil());
    call(&mut c, &["RPUSH", "l", "a", "b", "c"]).await;
    assert_eq!(call(&mut c, &["RPOP", "l", "5"]).await, bulks(&["c", "b", "a"]));
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
}

#[tokio::test]
async fn pop_count_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a"]).await;
    assert_eq!(call(&mut c, &["LPOP", "l", "-1"]).await, err(NOT_POSITIVE));
    assert_eq!(call(&mut c, &["RPOP", "l", "abc"]).await, err(NOT_POSITIVE));
    assert_eq!(call(&mut c, &["LPOP", "nokey", "-1"]).await, err(NOT_POSITIVE));
    assert_eq!(call(&mut c, &["LPOP", "l", "1", "2"]).await, arity_err("lpop"));
    assert_eq!(call(&mut c, &["RPOP", "l", "1", "2"]).await, arity_err("rpop"));
    assert_eq!(call(&mut c, &["LPOP"]).await, arity_err("lpop"));
    assert_eq!(range(&mut c, "l").await, bulks(&["a"]));
}

#[tokio::test]
async fn pop_count_on_missing_key_is_a_null_array() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(raw.call(&["LPOP", "nokey", "3"]), nil());
    raw.send(&resp(&["RPOP", "nokey", "3"]));
    raw.expect(b"*-1\r\n");
    raw.send(&resp(&["RPOP", "nokey"]));
    raw.expect(b"$-1\r\n");
    raw.send(&resp(&["LMPOP", "1", "nokey", "LEFT"]));
    raw.expect(b"*-1\r\n");
}

#[tokio::test]
async fn arity_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for (args, name) in [
        (&["LPUSH", "l"][..], "lpush"),
        (&["RPUSH", "l"][..], "rpush"),
        (&["LPUSHX", "l"][..], "lpushx"),
        (&["RPUSHX", "l"][..], "rpushx"),
        (&["LLEN"][..], "llen"),
        (&["LLEN", "a", "b"][..], "llen"),
        (&["LINDEX", "l"][..], "lindex"),
        (&["LRANGE", "l", "0"][..], "lrange"),
        (&["LSET", "l", "0"][..], "lset"),
        (&["LTRIM", "l", "0"][..], "ltrim"),
        (&["LINSERT", "l", "BEFORE", "a"][..], "linsert"),
        (&["LREM", "l", "0"][..], "lrem"),
        (&["LPOS", "l"][..], "lpos"),
        (&["LMOVE", "a", "b", "LEFT"][..], "lmove"),
        (&["RPOPLPUSH", "a"][..], "rpoplpush"),
        (&["LMPOP", "1", "l"][..], "lmpop"),
        (&["BLPOP", "l"][..], "blpop"),
        (&["BRPOP", "l"][..], "brpop"),
        (&["BLMOVE", "a", "b", "LEFT", "LEFT"][..], "blmove"),
        (&["BRPOPLPUSH", "a", "b"][..], "brpoplpush"),
        (&["BLMPOP", "0", "1", "l"][..], "blmpop"),
    ] {
        assert_eq!(call(&mut c, args).await, arity_err(name), "{args:?}");
    }
}

#[tokio::test]
async fn wrongtype_everywhere() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SET", "s", "x"]).await;
    call(&mut c, &["RPUSH", "l", "a", "b"]).await;
    let wt = err(WRONGTYPE);
    for args in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LLEN", "s"],
        &["LINDEX", "s", "0"],
        &["LRANGE", "s", "0", "-1"],
        &["LSET", "s", "0", "x"],
        &["LTRIM", "s", "0", "1"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "l", "s"],
        &["RPOPLPUSH", "s", "l"],
        &["LMPOP", "2", "s", "l", "LEFT"],
        &["BLPOP", "s", "l", "0"],
        &["BRPOP", "s", "0"],
        &["BLMOVE", "l", "s", "LEFT", "RIGHT", "0"],
        &["BRPOPLPUSH", "s", "l", "0"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
    ] {
        assert_eq!(call(&mut c, args).await, wt, "{args:?}");
    }
    // Nothing was popped by the failed moves; the string is intact.
    assert_eq!(range(&mut c, "l").await, bulks(&["a", "b"]));
    assert_eq!(call(&mut c, &["GET", "s"]).await, bulk("x"));
    // A missing source is nil even when the destination is of another type.
    assert_eq!(call(&mut c, &["LMOVE", "nokey", "s", "LEFT", "LEFT"]).await, nil());
    assert_eq!(call(&mut c, &["RPOPLPUSH", "nokey", "s"]).await, nil());
    // BLPOP serves the first non-empty list before reaching a key of another type.
    assert_eq!(call(&mut c, &["BLPOP", "l", "s", "0"]).await, bulks(&["l", "a"]));
    assert_eq!(call(&mut c, &["LMPOP", "2", "l", "s", "LEFT"]).await, arr(vec![bulk("l"), bulks(&["b"])]));
}

// ---------------------------------------------------------------------------------------------
// Reads: LINDEX, LRANGE
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lindex_and_lrange_small() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "d"]).await;
    assert_eq!(call(&mut c, &["LINDEX", "l", "0"]).await, bulk("a"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "3"]).await, bulk("d"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "-1"]).await, bulk("d"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "-4"]).await, bulk("a"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "4"]).await, nil());
    assert_eq!(call(&mut c, &["LINDEX", "l", "-5"]).await, nil());
    assert_eq!(call(&mut c, &["LINDEX", "l", "-9223372036854775808"]).await, nil());
    assert_eq!(call(&mut c, &["LINDEX", "nokey", "0"]).await, nil());
    assert_eq!(call(&mut c, &["LINDEX", "l", "abc"]).await, err(NOT_INT));
    // The key is looked up before the index is parsed.
    assert_eq!(call(&mut c, &["LINDEX", "nokey", "abc"]).await, nil());

    assert_eq!(call(&mut c, &["LRANGE", "l", "1", "2"]).await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "-3", "-2"]).await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "-100", "100"]).await, bulks(&["a", "b", "c", "d"]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "2", "1"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "4", "10"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "-1", "-1"]).await, bulks(&["d"]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "0", "-5"]).await, bulks(&[]));
    assert_eq!(
        call(&mut c, &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"]).await,
        bulks(&["a", "b", "c", "d"])
    );
    assert_eq!(call(&mut c, &["LRANGE", "nokey", "0", "-1"]).await, bulks(&[]));
    assert_eq!(call(&mut c, &["LRANGE", "l", "a", "1"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["LRANGE", "l", "0", "1.5"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["LRANGE", "nokey", "a", "1"]).await, err(NOT_INT));
}

#[tokio::test]
async fn big_list_order_from_both_ends() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "l", 2000).await;
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(2000));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "l"]).await, bulk("quicklist"));
    assert_eq!(range(&mut c, "l").await, strs(&names(0, 2000)));
    assert_eq!(call(&mut c, &["LRANGE", "l", "100", "199"]).await, strs(&names(100, 200)));
    assert_eq!(call(&mut c, &["LRANGE", "l", "-100", "-1"]).await, strs(&names(1900, 2000)));
    assert_eq!(call(&mut c, &["LRANGE", "l", "1990", "5000"]).await, strs(&names(1990, 2000)));
    for i in [0usize, 1, 999, 1000, 1998, 1999] {
        let e = format!("e{i}");
        assert_eq!(call(&mut c, &["LINDEX", "l", &i.to_string()]).await, bulk(&e));
        assert_eq!(call(&mut c, &["LINDEX", "l", &format!("-{}", 2000 - i)]).await, bulk(&e));
    }
    // A list grown from the left is in reverse push order.
    for chunk in names(0, 2000).chunks(500) {
        let mut args = vec!["LPUSH".to_string(), "r".to_string()];
        args.extend(chunk.iter().cloned());
        call(&mut c, &args).await.int();
    }
    let mut rev = names(0, 2000);
    rev.reverse();
    assert_eq!(range(&mut c, "r").await, strs(&rev));
    assert_eq!(call(&mut c, &["LINDEX", "r", "0"]).await, bulk("e1999"));
    assert_eq!(call(&mut c, &["LINDEX", "r", "-1"]).await, bulk("e0"));
    // Mixed pops from both ends keep the rest in order.
    assert_eq!(call(&mut c, &["LPOP", "l", "500"]).await, strs(&names(0, 500)));
    let mut tail = names(1500, 2000);
    tail.reverse();
    assert_eq!(call(&mut c, &["RPOP", "l", "500"]).await, strs(&tail));
    assert_eq!(range(&mut c, "l").await, strs(&names(500, 1500)));
    assert_eq!(call(&mut c, &["LINDEX", "l", "0"]).await, bulk("e500"));
}

// ---------------------------------------------------------------------------------------------
// LSET, LTRIM
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lset() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c"]).await;
    assert_eq!(call(&mut c, &["LSET", "l", "0", "A"]).await, ok());
    assert_eq!(call(&mut c, &["LSET", "l", "-1", "C"]).await, ok());
    assert_eq!(call(&mut c, &["LSET", "l", "1", ""]).await, ok());
    assert_eq!(range(&mut c, "l").await, bulks(&["A", "", "C"]));
    assert_eq!(call(&mut c, &["LSET", "l", "3", "x"]).await, err("ERR index out of range"));
    assert_eq!(call(&mut c, &["LSET", "l", "-4", "x"]).await, err("ERR index out of range"));
    assert_eq!(call(&mut c, &["LSET", "nokey", "0", "x"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["LSET", "nokey", "abc", "x"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["LSET", "l", "abc", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["EXISTS", "nokey"]).await, int(0));
}

#[tokio::test]
async fn ltrim() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]).await;
    assert_eq!(call(&mut c, &["LTRIM", "l", "1", "-2"]).await, ok());
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "c", "d"]));
    assert_eq!(call(&mut c, &["LTRIM", "l", "0", "100"]).await, ok());
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "c", "d"]));
    assert_eq!(call(&mut c, &["LTRIM", "l", "-2", "-1"]).await, ok());
    assert_eq!(range(&mut c, "l").await, bulks(&["c", "d"]));
    // Pushes after a trim land next to the kept elements.
    call(&mut c, &["LPUSH", "l", "x"]).await;
    call(&mut c, &["RPUSH", "l", "y"]).await;
    assert_eq!(range(&mut c, "l").await, bulks(&["x", "c", "d", "y"]));
    assert_eq!(call(&mut c, &["LTRIM", "l", "2", "1"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
    call(&mut c, &["RPUSH", "l", "a"]).await;
    assert_eq!(call(&mut c, &["LTRIM", "l", "1", "-1"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
    assert_eq!(call(&mut c, &["LTRIM", "nokey", "0", "1"]).await, ok());
    assert_eq!(call(&mut c, &["LTRIM", "nokey", "a", "1"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["LTRIM", "l", "0", "b"]).await, err(NOT_INT));
}

#[tokio::test]
async fn ltrim_big_list_then_regrow() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "l", 3000).await;
    assert_eq!(call(&mut c, &["LTRIM", "l", "1200", "1209"]).await, ok());
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(10));
    assert_eq!(range(&mut c, "l").await, strs(&names(1200, 1210)));
    // Elements trimmed away (some still on disk) never reappear when the list grows again.
    call(&mut c, &["RPUSH", "l", "n1", "n2"]).await;
    call(&mut c, &["LPUSH", "l", "p1"]).await;
    let mut want = vec!["p1".to_string()];
    want.extend(names(1200, 1210));
    want.extend(["n1".to_string(), "n2".to_string()]);
    assert_eq!(range(&mut c, "l").await, strs(&want));
    assert_eq!(call(&mut c, &["LPOS", "l", "e1500"]).await, nil());
    assert_eq!(call(&mut c, &["LPOS", "l", "e100", "RANK", "-1"]).await, nil());
    assert_eq!(call(&mut c, &["LREM", "l", "0", "e2000"]).await, int(0));
    assert_eq!(call(&mut c, &["LINSERT", "l", "AFTER", "e2500", "x"]).await, int(-1));
    assert_eq!(call(&mut c, &["LINDEX", "l", "-1"]).await, bulk("n2"));
}

// ---------------------------------------------------------------------------------------------
// LINSERT, LREM
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn linsert_small() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "b"]).await;
    assert_eq!(call(&mut c, &["LINSERT", "l", "BEFORE", "b", "x"]).await, int(5));
    assert_eq!(range(&mut c, "l").await, bulks(&["a", "x", "b", "c", "b"]));
    assert_eq!(call(&mut c, &["LINSERT", "l", "after", "b", "y"]).await, int(6));
    assert_eq!(range(&mut c, "l").await, bulks(&["a", "x", "b", "y", "c", "b"]));
    assert_eq!(call(&mut c, &["LINSERT", "l", "BEFORE", "a", "first"]).await, int(7));
    assert_eq!(call(&mut c, &["LINSERT", "l", "AFTER", "c", "z"]).await, int(8));
    assert_eq!(range(&mut c, "l").await, bulks(&["first", "a", "x", "b", "y", "c", "z", "b"]));
    // Insert after the last element, and before/after in a single-element list.
    call(&mut c, &["RPUSH", "one", "m"]).await;
    assert_eq!(call(&mut c, &["LINSERT", "one", "AFTER", "m", "n"]).await, int(2));
    assert_eq!(call(&mut c, &["LINSERT", "one", "BEFORE", "m", "l"]).await, int(3));
    assert_eq!(range(&mut c, "one").await, bulks(&["l", "m", "n"]));
    assert_eq!(call(&mut c, &["LINSERT", "l", "BEFORE", "nothere", "q"]).await, int(-1));
    assert_eq!(call(&mut c, &["LINSERT", "nokey", "BEFORE", "a", "q"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["LINSERT", "l", "MIDDLE", "a", "q"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LINSERT", "nokey", "MIDDLE", "a", "q"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(8));
}

#[tokio::test]
async fn linsert_in_a_big_list() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "l", 2000).await;
    let mut model = names(0, 2000);
    // Near the head, the middle (both sides of it) and near the tail.
    for (pivot, before, value) in [
        ("e3", true, "i1"),
        ("e999", false, "i2"),
        ("e1000", true, "i3"),
        ("e1001", false, "i4"),
        ("e1995", false, "i5"),
        ("e0", true, "i6"),
        ("e1999", false, "i7"),
    ] {
        let at = model.iter().position(|e| e == pivot).unwrap() + usize::from(!before);
        model.insert(at, value.to_string());
        let r = call(&mut c, &["LINSERT", "l", if before { "BEFORE" } else { "AFTER" }, pivot, value]).await;
        assert_eq!(r, int(model.len() as i64), "{pivot}");
    }
    assert_eq!(range(&mut c, "l").await, strs(&model));
    assert_eq!(call(&mut c, &["LINDEX", "l", "0"]).await, bulk("i6"));
    assert_eq!(call(&mut c, &["LINDEX", "l", "-1"]).await, bulk("i7"));
    assert_eq!(call(&mut c, &["LPOS", "l", "i3"]).await, int(model.iter().position(|e| e == "i3").unwrap() as i64));
    // Pops at both ends still work after the shifts.
    assert_eq!(call(&mut c, &["LPOP", "l"]).await, bulk("i6"));
    assert_eq!(call(&mut c, &["RPOP", "l"]).await, bulk("i7"));
}

#[tokio::test]
async fn lrem_small() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"]).await;
    assert_eq!(call(&mut c, &["LREM", "l", "2", "a"]).await, int(2));
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "c", "a", "b", "a"]));
    assert_eq!(call(&mut c, &["LREM", "l", "-1", "b"]).await, int(1));
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "c", "a", "a"]));
    assert_eq!(call(&mut c, &["LREM", "l", "0", "a"]).await, int(2));
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["LREM", "l", "0", "zz"]).await, int(0));
    assert_eq!(call(&mut c, &["LREM", "l", "-5", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["LREM", "l", "5", "b"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
    assert_eq!(call(&mut c, &["LREM", "nokey", "0", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["LREM", "l", "abc", "a"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["LREM", "nokey", "abc", "a"]).await, err(NOT_INT));
    // Negative count removes from the tail.
    call(&mut c, &["RPUSH", "m", "x", "1", "x", "2", "x", "3"]).await;
    assert_eq!(call(&mut c, &["LREM", "m", "-2", "x"]).await, int(2));
    assert_eq!(range(&mut c, "m").await, bulks(&["x", "1", "2", "3"]));
}

#[tokio::test]
async fn lrem_in_a_big_list() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // 2000 elements where every 7th is "x".
    let mut model: Vec<String> =
        (0..2000).map(|i| if i % 7 == 3 { "x".to_string() } else { format!("e{i}") }).collect();
    for chunk in model.chunks(500) {
        let mut args = vec!["RPUSH".to_string(), "l".to_string()];
        args.extend(chunk.iter().cloned());
        call(&mut c, &args).await;
    }
    let remove = |model: &mut Vec<String>, count: i64| {
        let mut n = 0;
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
        if count >= 0 {
            let mut i = 0;
            while i < model.len() && n < limit {
                if model[i] == "x" {
                    model.remove(i);
                    n += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = model.len();
            while i > 0 && n < limit {
                i -= 1;
                if model[i] == "x" {
                    model.remove(i);
                    n += 1;
                }
            }
        }
        n as i64
    };
    // Head side, tail side, then everything.
    for count in [3i64, -4, 100, -100, 0] {
        let n = remove(&mut model, count);
        assert_eq!(call(&mut c, &["LREM", "l", &count.to_string(), "x"]).await, int(n), "count {count}");
        assert_eq!(range(&mut c, "l").await, strs(&model), "count {count}");
    }
    // A single element in the middle, removed from either side.
    for (e, count) in [("e1000", "1"), ("e1001", "-1"), ("e502", "0"), ("e1500", "0")] {
        assert!(model.iter().any(|m| m == e), "{e}");
        model.retain(|m| m != e);
        assert_eq!(call(&mut c, &["LREM", "l", count, e]).await, int(1));
    }
    assert_eq!(range(&mut c, "l").await, strs(&model));
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(model.len() as i64));
    assert_eq!(call(&mut c, &["LINDEX", "l", "0"]).await, bulk(&model[0]));
    assert_eq!(call(&mut c, &["LINDEX", "l", "-1"]).await, bulk(&model[model.len() - 1]));
}

// ---------------------------------------------------------------------------------------------
// LPOS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lpos() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"]).await;
    assert_eq!(call(&mut c, &["LPOS", "l", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["LPOS", "l", "c"]).await, int(2));
    assert_eq!(call(&mut c, &["LPOS", "l", "zz"]).await, nil());
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "2"]).await, int(3));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "4"]).await, nil());
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "-1"]).await, int(6));
    assert_eq!(call(&mut c, &["LPOS", "l", "b", "RANK", "-2"]).await, int(1));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "9223372036854775807"]).await, nil());
    let ints = |v: &[i64]| arr(v.iter().map(|&i| int(i)).collect());
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "0"]).await, ints(&[0, 3, 6]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "2"]).await, ints(&[0, 3]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "2", "RANK", "2"]).await, ints(&[3, 6]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "-1", "COUNT", "0"]).await, ints(&[6, 3, 0]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "1"]).await, ints(&[0]));
    assert_eq!(call(&mut c, &["LPOS", "l", "zz", "COUNT", "1"]).await, ints(&[]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"]).await, ints(&[0, 3]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "3"]).await, ints(&[0]));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "-1", "COUNT", "0", "MAXLEN", "2"]).await, ints(&[6]));
    assert_eq!(call(&mut c, &["LPOS", "l", "c", "MAXLEN", "2"]).await, nil());
    assert_eq!(call(&mut c, &["LPOS", "l", "c", "MAXLEN", "0"]).await, int(2));
    assert_eq!(call(&mut c, &["lpos", "l", "c", "rank", "1", "maxlen", "3"]).await, int(2));
    // Missing key: nil, or an empty array with COUNT.
    assert_eq!(call(&mut c, &["LPOS", "nokey", "a"]).await, nil());
    assert_eq!(call(&mut c, &["LPOS", "nokey", "a", "COUNT", "1"]).await, ints(&[]));
    // Errors, checked before the key is looked up.
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "0"]).await, err(RANK_ZERO));
    assert_eq!(call(&mut c, &["LPOS", "nokey", "a", "RANK", "0"]).await, err(RANK_ZERO));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "-1"]).await, err("ERR COUNT can't be negative"));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "MAXLEN", "-1"]).await, err("ERR MAXLEN can't be negative"));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "1.5"]).await, err(NOT_INT));
    // COUNT and MAXLEN take any bad value for a negative one.
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT", "1.5"]).await, err("ERR COUNT can't be negative"));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "MAXLEN", "x"]).await, err("ERR MAXLEN can't be negative"));
    assert_eq!(
        call(&mut c, &["LPOS", "l", "a", "MAXLEN", "99999999999999999999"]).await,
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "COUNT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LPOS", "l", "a", "RANK", "1", "MAXLEN"]).await, err(SYNTAX));
}

#[tokio::test]
async fn lpos_in_a_big_list() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "l", 2000).await;
    call(&mut c, &["RPUSH", "l", "e5"]).await;
    assert_eq!(call(&mut c, &["LPOS", "l", "e1999"]).await, int(1999));
    assert_eq!(call(&mut c, &["LPOS", "l", "e5", "RANK", "-1"]).await, int(2000));
    assert_eq!(call(&mut c, &["LPOS", "l", "e5", "RANK", "2"]).await, int(2000));
    assert_eq!(call(&mut c, &["LPOS", "l", "e5", "RANK", "-2"]).await, int(5));
    assert_eq!(call(&mut c, &["LPOS", "l", "e1500", "MAXLEN", "1500"]).await, nil());
    assert_eq!(call(&mut c, &["LPOS", "l", "e1500", "MAXLEN", "1501"]).await, int(1500));
}

// ---------------------------------------------------------------------------------------------
// LMOVE, RPOPLPUSH
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lmove_all_directions() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "src", "a", "b", "c", "d"]).await;
    call(&mut c, &["RPUSH", "dst", "x"]).await;
    assert_eq!(call(&mut c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]).await, bulk("a"));
    assert_eq!(call(&mut c, &["LMOVE", "src", "dst", "RIGHT", "RIGHT"]).await, bulk("d"));
    assert_eq!(call(&mut c, &["LMOVE", "src", "dst", "left", "right"]).await, bulk("b"));
    assert_eq!(call(&mut c, &["LMOVE", "src", "dst", "Right", "Left"]).await, bulk("c"));
    assert_eq!(range(&mut c, "dst").await, bulks(&["c", "a", "x", "d", "b"]));
    assert_eq!(call(&mut c, &["EXISTS", "src"]).await, int(0));
    assert_eq!(call(&mut c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]).await, nil());
    // A new destination is created.
    assert_eq!(call(&mut c, &["LMOVE", "dst", "new", "LEFT", "LEFT"]).await, bulk("c"));
    assert_eq!(range(&mut c, "new").await, bulks(&["c"]));
    assert_eq!(call(&mut c, &["LMOVE", "dst", "new", "UP", "LEFT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LMOVE", "dst", "new", "LEFT", "DOWN"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["RPOPLPUSH", "dst", "new"]).await, bulk("b"));
    assert_eq!(range(&mut c, "new").await, bulks(&["b", "c"]));
    assert_eq!(call(&mut c, &["RPOPLPUSH", "nokey", "new"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "nokey"]).await, int(0));
}

#[tokio::test]
async fn lmove_same_key_rotates() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c", "d"]).await;
    assert_eq!(call(&mut c, &["LMOVE", "l", "l", "LEFT", "RIGHT"]).await, bulk("a"));
    assert_eq!(range(&mut c, "l").await, bulks(&["b", "c", "d", "a"]));
    assert_eq!(call(&mut c, &["LMOVE", "l", "l", "RIGHT", "LEFT"]).await, bulk("a"));
    assert_eq!(range(&mut c, "l").await, bulks(&["a", "b", "c", "d"]));
    assert_eq!(call(&mut c, &["LMOVE", "l", "l", "LEFT", "LEFT"]).await, bulk("a"));
    assert_eq!(call(&mut c, &["LMOVE", "l", "l", "RIGHT", "RIGHT"]).await, bulk("d"));
    assert_eq!(range(&mut c, "l").await, bulks(&["a", "b", "c", "d"]));
    assert_eq!(call(&mut c, &["RPOPLPUSH", "l", "l"]).await, bulk("d"));
    assert_eq!(range(&mut c, "l").await, bulks(&["d", "a", "b", "c"]));
    call(&mut c, &["RPUSH", "one", "x"]).await;
    assert_eq!(call(&mut c, &["RPOPLPUSH", "one", "one"]).await, bulk("x"));
    assert_eq!(call(&mut c, &["LMOVE", "one", "one", "LEFT", "RIGHT"]).await, bulk("x"));
    assert_eq!(range(&mut c, "one").await, bulks(&["x"]));
}

#[tokio::test]
async fn lmove_keeps_expiry_of_both_keys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "src", "a", "b"]).await;
    call(&mut c, &["RPUSH", "dst", "x"]).await;
    call(&mut c, &["EXPIRE", "src", "100"]).await;
    call(&mut c, &["EXPIRE", "dst", "200"]).await;
    call(&mut c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]).await;
    let t = call(&mut c, &["TTL", "src"]).await.int();
    assert!((95..=100).contains(&t), "{t}");
    let t = call(&mut c, &["TTL", "dst"]).await.int();
    assert!((195..=200).contains(&t), "{t}");
    call(&mut c, &["LPUSH", "src", "z"]).await;
    let t = call(&mut c, &["TTL", "src"]).await.int();
    assert!((95..=100).contains(&t), "{t}");
}

// ---------------------------------------------------------------------------------------------
// LMPOP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lmpop() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "b", "1", "2", "3", "4"]).await;
    let got = |k: &str, v: &[&str]| arr(vec![bulk(k), bulks(v)]);
    assert_eq!(call(&mut c, &["LMPOP", "2", "a", "b", "LEFT"]).await, got("b", &["1"]));
    assert_eq!(call(&mut c, &["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"]).await, got("b", &["4", "3"]));
    assert_eq!(call(&mut c, &["lmpop", "1", "b", "left", "count", "10"]).await, got("b", &["2"]));
    assert_eq!(call(&mut c, &["EXISTS", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["LMPOP", "2", "a", "b", "LEFT"]).await, nil());
    call(&mut c, &["RPUSH", "a", "x"]).await;
    call(&mut c, &["RPUSH", "b", "y"]).await;
    assert_eq!(call(&mut c, &["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5"]).await, got("a", &["x"]));
    assert_eq!(call(&mut c, &["LMPOP", "3", "a", "a", "b", "RIGHT"]).await, got("b", &["y"]));
    // Errors.
    let numkeys = err("ERR numkeys should be greater than 0");
    let count = err("ERR count should be greater than 0");
    assert_eq!(call(&mut c, &["LMPOP", "0", "a", "LEFT"]).await, numkeys);
    assert_eq!(call(&mut c, &["LMPOP", "-1", "a", "LEFT"]).await, numkeys);
    assert_eq!(call(&mut c, &["LMPOP", "abc", "a", "LEFT"]).await, numkeys);
    assert_eq!(call(&mut c, &["LMPOP", "2", "a", "LEFT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LMPOP", "9223372036854775807", "a", "LEFT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "MIDDLE"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "LEFT", "COUNT", "0"]).await, count);
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "LEFT", "COUNT", "-1"]).await, count);
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "LEFT", "COUNT", "abc"]).await, count);
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "LEFT", "COUNT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["LMPOP", "1", "a", "LEFT", "FOO"]).await, err(SYNTAX));
}

// ---------------------------------------------------------------------------------------------
// Blocking commands: the immediate path and argument errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn blocking_pops_serve_at_once_when_data_is_there() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "b", "1", "2", "3"]).await;
    assert_eq!(call(&mut c, &["BLPOP", "a", "b", "0"]).await, bulks(&["b", "1"]));
    assert_eq!(call(&mut c, &["BRPOP", "a", "b", "1.5"]).await, bulks(&["b", "3"]));
    assert_eq!(call(&mut c, &["BLMOVE", "b", "d", "LEFT", "RIGHT", "0"]).await, bulk("2"));
    assert_eq!(call(&mut c, &["EXISTS", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["BRPOPLPUSH", "d", "e", "0"]).await, bulk("2"));
    call(&mut c, &["RPUSH", "e", "x", "y"]).await;
    assert_eq!(
        call(&mut c, &["BLMPOP", "0", "2", "a", "e", "RIGHT", "COUNT", "2"]).await,
        arr(vec![bulk("e"), bulks(&["y", "x"])])
    );
    assert_eq!(call(&mut c, &["BLMPOP", "0.1", "1", "e", "LEFT"]).await, arr(vec![bulk("e"), bulks(&["2"])]));
    assert_eq!(call(&mut c, &["EXISTS", "e"]).await, int(0));
}

#[tokio::test]
async fn blocking_argument_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let not_float = err("ERR timeout is not a float or out of range");
    let negative = err("ERR timeout is negative");
    for args in [
        &["BLPOP", "l", "abc"][..],
        &["BRPOP", "l", "1x"],
        &["BLMOVE", "a", "b", "LEFT", "LEFT", "abc"],
        &["BRPOPLPUSH", "a", "b", "abc"],
        &["BLMPOP", "abc", "1", "l", "LEFT"],
    ] {
        assert_eq!(call(&mut c, args).await, not_float, "{args:?}");
    }
    for args in [
        &["BLPOP", "l", "-1"][..],
        &["BRPOP", "l", "-0.5"],
        &["BLMOVE", "a", "b", "LEFT", "LEFT", "-1"],
        &["BRPOPLPUSH", "a", "b", "-1"],
        &["BLMPOP", "-1", "1", "l", "LEFT"],
    ] {
        assert_eq!(call(&mut c, args).await, negative, "{args:?}");
    }
    assert_eq!(call(&mut c, &["BLMOVE", "a", "b", "UP", "LEFT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["BLMOVE", "a", "b", "LEFT", "UP", "abc"]).await, err(SYNTAX));
    // BLMPOP checks numkeys, the direction and COUNT before the timeout.
    assert_eq!(call(&mut c, &["BLMPOP", "abc", "0", "l", "LEFT"]).await, err("ERR numkeys should be greater than 0"));
    assert_eq!(call(&mut c, &["BLMPOP", "abc", "1", "l", "UP"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"]).await,
        err("ERR count should be greater than 0")
    );
    assert_eq!(call(&mut c, &["BLMPOP", "0", "2", "l", "LEFT"]).await, err(SYNTAX));
}

#[tokio::test]
async fn blpop_waits_for_a_push() {
    let s = TestServer::start();
    let mut c1 = s.client().await;
    let mut c2 = s.client().await;
    let waiter = tokio::spawn(async move { call(&mut c1, &["BLPOP", "k", "5"]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "BLPOP returned before the push");
    assert_eq!(call(&mut c2, &["RPUSH", "k", "v"]).await, int(1));
    let got = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("BLPOP served").expect("task");
    assert_eq!(got, bulks(&["k", "v"]));
    assert_eq!(call(&mut c2, &["EXISTS", "k"]).await, int(0));
}

#[tokio::test]
async fn blocked_clients_are_served_in_arrival_order() {
    let s = TestServer::start();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let mut c = s.client().await;
        tasks.push(tokio::spawn(async move { call(&mut c, &["BLPOP", "q", "0"]).await }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut p = s.client().await;
    assert_eq!(call(&mut p, &["RPUSH", "q", "a", "b", "c"]).await, int(3));
    let mut got = Vec::new();
    for t in tasks {
        got.push(tokio::time::timeout(Duration::from_secs(5), t).await.expect("served").expect("task"));
    }
    assert_eq!(got, vec![bulks(&["q", "a"]), bulks(&["q", "b"]), bulks(&["q", "c"])]);
}

#[tokio::test]
async fn blpop_times_out_with_nil() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let t0 = Instant::now();
    assert_eq!(call(&mut c, &["BLPOP", "k", "0.2"]).await, nil());
    assert!(t0.elapsed() >= Duration::from_millis(200), "{:?}", t0.elapsed());
    let t0 = Instant::now();
    assert_eq!(call(&mut c, &["BLMOVE", "k", "d", "LEFT", "LEFT", "0.2"]).await, nil());
    assert!(t0.elapsed() >= Duration::from_millis(200), "{:?}", t0.elapsed());
    let mut raw = s.raw();
    raw.send(&resp(&["BRPOP", "k", "0.1"]));
    raw.expect(b"*-1\r\n");
    // Redis 7.0 times BRPOPLPUSH and BLMOVE out with a null array too.
    raw.send(&resp(&["BRPOPLPUSH", "k", "d", "0.1"]));
    raw.expect(b"*-1\r\n");
    raw.send(&resp(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.1"]));
    raw.expect(b"*-1\r\n");
    raw.send(&resp(&["BLMPOP", "0.1", "1", "k", "LEFT"]));
    raw.expect(b"*-1\r\n");
}

// ---------------------------------------------------------------------------------------------
// Persistence, expiry, keyspace
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lists_survive_a_restart() {
    let mut s = TestServer::start();
    {
        let mut c = s.client().await;
        fill(&mut c, "big", 1500).await;
        call(&mut c, &["LPUSH", "big", "head"]).await;
        call(&mut c, &["LPOP", "big", "2"]).await; // head, e0
        call(&mut c, &["LTRIM", "big", "0", "-2"]).await; // drops e1499
        call(&mut c, &["LINSERT", "big", "BEFORE", "e700", "mid"]).await;
        call(&mut c, &["RPUSH", "small", "a", "b", "c"]).await;
        call(&mut c, &["LSET", "small", "1", "B"]).await;
    }
    s.restart();
    let mut c = s.client().await;
    let mut want = names(1, 700);
    want.push("mid".into());
    want.extend(names(700, 1499));
    assert_eq!(range(&mut c, "big").await, strs(&want));
    assert_eq!(call(&mut c, &["LLEN", "big"]).await, int(want.len() as i64));
    assert_eq!(range(&mut c, "small").await, bulks(&["a", "B", "c"]));
    // Still writable from both ends after the restart.
    assert_eq!(call(&mut c, &["LPUSH", "small", "z"]).await, int(4));
    assert_eq!(call(&mut c, &["RPUSH", "small", "d"]).await, int(5));
    assert_eq!(range(&mut c, "small").await, bulks(&["z", "a", "B", "c", "d"]));
}

#[tokio::test]
async fn keyspace_commands_on_lists() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b", "c"]).await;
    assert_eq!(call(&mut c, &["RENAME", "l", "m"]).await, ok());
    assert_eq!(range(&mut c, "m").await, bulks(&["a", "b", "c"]));
    assert_eq!(call(&mut c, &["COPY", "m", "n"]).await, int(1));
    call(&mut c, &["RPOP", "m"]).await;
    assert_eq!(range(&mut c, "n").await, bulks(&["a", "b", "c"]));
    assert_eq!(range(&mut c, "m").await, bulks(&["a", "b"]));
    assert_eq!(call(&mut c, &["DEL", "m"]).await, int(1));
    assert_eq!(range(&mut c, "m").await, bulks(&[]));
    // A new list under a deleted name starts empty.
    call(&mut c, &["RPUSH", "m", "z"]).await;
    assert_eq!(range(&mut c, "m").await, bulks(&["z"]));
    // Overwriting with a string, then a list again.
    call(&mut c, &["SET", "n", "str"]).await;
    assert_eq!(call(&mut c, &["LLEN", "n"]).await, err(WRONGTYPE));
    call(&mut c, &["DEL", "n"]).await;
    call(&mut c, &["RPUSH", "n", "q"]).await;
    assert_eq!(range(&mut c, "n").await, bulks(&["q"]));
}

#[tokio::test]
async fn expired_list_is_gone() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["RPUSH", "l", "a", "b"]).await;
    call(&mut c, &["PEXPIRE", "l", "50"]).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(0));
    assert_eq!(call(&mut c, &["LPUSHX", "l", "x"]).await, int(0));
    assert_eq!(call(&mut c, &["RPUSH", "l", "c"]).await, int(1));
    assert_eq!(range(&mut c, "l").await, bulks(&["c"]));
    assert_eq!(call(&mut c, &["TTL", "l"]).await, int(-1));
}

#[tokio::test]
async fn pipelined_pushes_and_pops() {
    let s = TestServer::start();
    let mut raw = s.raw();
    let mut batch = Vec::new();
    for i in 0..50 {
        batch.extend(resp(&["RPUSH", "l", &format!("v{i}")]));
    }
    batch.extend(resp(&["LRANGE", "l", "0", "2"]));
    for _ in 0..10 {
        batch.extend(resp(&["LPOP", "l"]));
    }
    batch.extend(resp(&["LLEN", "l"]));
    batch.extend(resp(&["LINSERT", "l", "BEFORE", "v20", "x"]));
    batch.extend(resp(&["LREM", "l", "0", "v30"]));
    batch.extend(resp(&["LRANGE", "l", "9", "11"]));
    raw.send(&batch);
    for i in 0..50 {
        assert_eq!(raw.read_reply(), int(i + 1));
    }
    assert_eq!(raw.read_reply(), bulks(&["v0", "v1", "v2"]));
    for i in 0..10 {
        assert_eq!(raw.read_reply(), bulk(format!("v{i}")));
    }
    assert_eq!(raw.read_reply(), int(40));
    assert_eq!(raw.read_reply(), int(41));
    assert_eq!(raw.read_reply(), int(1));
    assert_eq!(raw.read_reply(), bulks(&["v19", "x", "v20"]));
}

#[tokio::test]
async fn concurrent_pushes_and_pops_lose_nothing() {
    let s = TestServer::start();
    let mut tasks = Vec::new();
    for t in 0..4 {
        let mut c = s.client().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..200 {
                let end = if i % 2 == 0 { "LPUSH" } else { "RPUSH" };
                call(&mut c, &[end, "l", &format!("t{t}-{i}")]).await.int();
            }
        }));
    }
    for t in tasks {
        t.await.expect("pusher");
    }
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["LLEN", "l"]).await, int(800));
    let mut all = range(&mut c, "l").await.strings();
    all.sort();
    let mut want: Vec<String> = (0..4).flat_map(|t| (0..200).map(move |i| format!("t{t}-{i}"))).collect();
    want.sort();
    assert_eq!(all, want);
    // Concurrent pops from both ends hand out every element exactly once.
    let mut tasks = Vec::new();
    for t in 0..4 {
        let mut c = s.client().await;
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let r = call(&mut c, &[if t % 2 == 0 { "LPOP" } else { "RPOP" }, "l", "7"]).await;
                if r == nil() {
                    return got;
                }
                got.extend(r.strings());
            }
        }));
    }
    let mut popped = Vec::new();
    for t in tasks {
        popped.extend(t.await.expect("popper"));
    }
    popped.sort();
    assert_eq!(popped, want);
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0));
}

#[tokio::test]
async fn resp3_nulls() {
    let s = TestServer::start();
    let mut raw = s.raw();
    assert!(matches!(raw.call(&["HELLO", "3"]), Reply::Map(_)));
    raw.send(&resp(&["LPOP", "nokey", "2"]));
    raw.expect(b"_\r\n");
    raw.send(&resp(&["LPOP", "nokey"]));
    raw.expect(b"_\r\n");
    raw.send(&resp(&["LMPOP", "1", "nokey", "LEFT"]));
    raw.expect(b"_\r\n");
    raw.send(&resp(&["LPOS", "nokey", "a"]));
    raw.expect(b"_\r\n");
    raw.send(&resp(&["LINDEX", "nokey", "0"]));
    raw.expect(b"_\r\n");
    assert_eq!(raw.call(&["RPUSH", "l", "a", "b"]), int(2));
    assert_eq!(raw.call(&["LMPOP", "1", "l", "RIGHT", "COUNT", "5"]), arr(vec![bulk("l"), bulks(&["b", "a"])]));
}
