//! Set commands, asserted against the exact replies of Redis 7.0. Where Redis's order is
//! unspecified (SMEMBERS, set algebra, random picks) the comparisons ignore order.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::*;
use redis::aio::MultiplexedConnection;

/// The members of an array (or RESP3 set) reply, sorted.
fn sorted(r: &Reply) -> Vec<String> {
    let items = match r {
        Reply::Array(a) | Reply::Set(a) => a.clone(),
        other => panic!("expected an array reply, got {other:?}"),
    };
    let mut v: Vec<String> = items.iter().map(Reply::text).collect();
    v.sort();
    v
}

fn strs(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

async fn members(c: &mut MultiplexedConnection, key: &str) -> Vec<String> {
    sorted(&call(c, &["SMEMBERS", key]).await)
}

async fn sadd(c: &mut MultiplexedConnection, key: &str, items: &[String]) -> Reply {
    let mut args = vec!["SADD".to_string(), key.to_string()];
    args.extend(items.iter().cloned());
    call(c, &args).await
}

async fn encoding(c: &mut MultiplexedConnection, key: &str) -> Reply {
    call(c, &["OBJECT", "ENCODING", key]).await
}

fn range(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

// ---------------------------------------------------------------------------------------------
// SADD / SREM / SISMEMBER / SMISMEMBER / SMEMBERS / SCARD
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sadd_srem_basics() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SADD", "s", "a", "b", "c"]).await, int(3));
    assert_eq!(call(&mut c, &["SADD", "s", "a", "d", "d"]).await, int(1));
    assert_eq!(call(&mut c, &["SCARD", "s"]).await, int(4));
    assert_eq!(members(&mut c, "s").await, strs(&["a", "b", "c", "d"]));
    assert_eq!(call(&mut c, &["TYPE", "s"]).await, status("set"));
    assert_eq!(call(&mut c, &["SISMEMBER", "s", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["SISMEMBER", "s", "z"]).await, int(0));
    assert_eq!(call(&mut c, &["SISMEMBER", "nokey", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["SMISMEMBER", "s", "a", "z", "d", "a"]).await, arr(vec![int(1), int(0), int(1), int(1)]));
    assert_eq!(call(&mut c, &["SMISMEMBER", "nokey", "a", "b"]).await, arr(vec![int(0), int(0)]));
    assert_eq!(call(&mut c, &["SREM", "s", "a", "z", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["SREM", "s", "zz"]).await, int(0));
    assert_eq!(call(&mut c, &["SREM", "nokey", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["SCARD", "s"]).await, int(3));
    assert_eq!(call(&mut c, &["SCARD", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["SMEMBERS", "nokey"]).await, arr(vec![]));
    // Empty and binary members.
    assert_eq!(call(&mut c, &["SADD", "bin", "", "a\x00b", "\u{00ff}"]).await, int(3));
    assert_eq!(call(&mut c, &["SISMEMBER", "bin", ""]).await, int(1));
    assert_eq!(call(&mut c, &["SISMEMBER", "bin", "a\x00b"]).await, int(1));
    assert_eq!(call(&mut c, &["SISMEMBER", "bin", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["SCARD", "bin"]).await, int(3));
    // Removing the last members deletes the key.
    assert_eq!(call(&mut c, &["SREM", "s", "b", "c", "d", "e"]).await, int(3));
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "s"]).await, status("none"));
}

#[tokio::test]
async fn sadd_keeps_ttl() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "s", "a"]).await;
    assert_eq!(call(&mut c, &["EXPIRE", "s", "100"]).await, int(1));
    call(&mut c, &["SADD", "s", "b"]).await;
    call(&mut c, &["SREM", "s", "a"]).await;
    let ttl = call(&mut c, &["TTL", "s"]).await.int();
    assert!(ttl > 0 && ttl <= 100, "{ttl}");
}

#[tokio::test]
async fn wrong_type_and_arity() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SET", "str", "v"]).await;
    call(&mut c, &["SADD", "s", "a"]).await;
    let wt = err(WRONGTYPE);
    for args in [
        vec!["SADD", "str", "a"],
        vec!["SREM", "str", "a"],
        vec!["SISMEMBER", "str", "a"],
        vec!["SMISMEMBER", "str", "a"],
        vec!["SMEMBERS", "str"],
        vec!["SCARD", "str"],
        vec!["SRANDMEMBER", "str"],
        vec!["SRANDMEMBER", "str", "0"],
        vec!["SRANDMEMBER", "str", "-5"],
        vec!["SPOP", "str"],
        vec!["SPOP", "str", "0"],
        vec!["SMOVE", "str", "s", "a"],
        vec!["SMOVE", "s", "str", "a"],
        vec!["SMOVE", "s", "str", "nosuchmember"],
        vec!["SUNION", "s", "str"],
        vec!["SINTER", "s", "str"],
        vec!["SINTER", "nokey", "str"],
        vec!["SDIFF", "nokey", "str"],
        vec!["SDIFF", "s", "str"],
        vec!["SUNIONSTORE", "d", "s", "str"],
        vec!["SINTERSTORE", "d", "nokey", "str"],
        vec!["SDIFFSTORE", "d", "s", "str"],
        vec!["SINTERCARD", "2", "nokey", "str"],
        vec!["SSCAN", "str", "0"],
    ] {
        assert_eq!(call(&mut c, &args).await, wt, "{args:?}");
    }
    // Nothing was written by the failed commands.
    assert_eq!(call(&mut c, &["EXISTS", "d"]).await, int(0));
    assert_eq!(call(&mut c, &["SMEMBERS", "s"]).await, bulks(&["a"]));
    assert_eq!(call(&mut c, &["GET", "str"]).await, bulk("v"));
    // Other types refuse set members too.
    assert_eq!(call(&mut c, &["GET", "s"]).await, wt);

    for (cmd, args) in [
        ("sadd", vec!["SADD", "s"]),
        ("srem", vec!["SREM", "s"]),
        ("sismember", vec!["SISMEMBER", "s"]),
        ("sismember", vec!["SISMEMBER", "s", "a", "b"]),
        ("smismember", vec!["SMISMEMBER", "s"]),
        ("smembers", vec!["SMEMBERS"]),
        ("smembers", vec!["SMEMBERS", "s", "t"]),
        ("scard", vec!["SCARD"]),
        ("srandmember", vec!["SRANDMEMBER"]),
        ("spop", vec!["SPOP"]),
        ("smove", vec!["SMOVE", "a", "b"]),
        ("sunion", vec!["SUNION"]),
        ("sinter", vec!["SINTER"]),
        ("sdiff", vec!["SDIFF"]),
        ("sunionstore", vec!["SUNIONSTORE", "d"]),
        ("sinterstore", vec!["SINTERSTORE", "d"]),
        ("sdiffstore", vec!["SDIFFSTORE", "d"]),
        ("sintercard", vec!["SINTERCARD", "1"]),
        ("sscan", vec!["SSCAN", "s"]),
    ] {
        assert_eq!(call(&mut c, &args).await, arity_err(cmd), "{args:?}");
    }
    assert_eq!(call(&mut c, &["SPOP", "s", "1", "2"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SRANDMEMBER", "s", "1", "2"]).await, err(SYNTAX));
}

// ---------------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn intset_to_hashtable() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "i", "1", "2", "-3", "9223372036854775807"]).await;
    assert_eq!(encoding(&mut c, "i").await, bulk("intset"));
    call(&mut c, &["SADD", "i", "abc"]).await;
    assert_eq!(encoding(&mut c, "i").await, bulk("hashtable"));
    // Removing the non-integer does not convert back.
    call(&mut c, &["SREM", "i", "abc"]).await;
    assert_eq!(encoding(&mut c, "i").await, bulk("hashtable"));

    // Not canonical integers: not intset material.
    for m in ["01", "+1", "1.0", " 1", "9223372036854775808", "-0"] {
        call(&mut c, &["DEL", "j"]).await;
        call(&mut c, &["SADD", "j", "5", m]).await;
        assert_eq!(encoding(&mut c, "j").await, bulk("hashtable"), "{m}");
    }
    // A set created with a non-integer member.
    call(&mut c, &["SADD", "h", "x"]).await;
    assert_eq!(encoding(&mut c, "h").await, bulk("hashtable"));

    // Growing past set-max-intset-entries (512).
    let nums: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    assert_eq!(sadd(&mut c, "big", &nums).await, int(512));
    assert_eq!(encoding(&mut c, "big").await, bulk("intset"));
    assert_eq!(call(&mut c, &["SADD", "big", "1"]).await, int(0));
    assert_eq!(encoding(&mut c, "big").await, bulk("intset"));
    assert_eq!(call(&mut c, &["SADD", "big", "512"]).await, int(1));
    assert_eq!(encoding(&mut c, "big").await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["SCARD", "big"]).await, int(513));

    // SMOVE of a non-integer into an intset converts the destination.
    call(&mut c, &["SADD", "src", "x", "7"]).await;
    call(&mut c, &["SADD", "dst", "1"]).await;
    assert_eq!(call(&mut c, &["SMOVE", "src", "dst", "7"]).await, int(1));
    assert_eq!(encoding(&mut c, "dst").await, bulk("intset"));
    assert_eq!(call(&mut c, &["SMOVE", "src", "dst", "x"]).await, int(1));
    assert_eq!(encoding(&mut c, "dst").await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["SMOVE", "dst", "newdst", "1"]).await, int(1));
    assert_eq!(encoding(&mut c, "newdst").await, bulk("intset"));

    // STORE results are encoded by their content.
    call(&mut c, &["SADD", "n1", "1", "2", "3"]).await;
    call(&mut c, &["SADD", "n2", "2", "3", "x"]).await;
    assert_eq!(call(&mut c, &["SINTERSTORE", "r", "n1", "n2"]).await, int(2));
    assert_eq!(encoding(&mut c, "r").await, bulk("intset"));
    assert_eq!(call(&mut c, &["SUNIONSTORE", "r", "n1", "n2"]).await, int(4));
    assert_eq!(encoding(&mut c, "r").await, bulk("hashtable"));
    let more: Vec<String> = (400..700).map(|i| i.to_string()).collect();
    sadd(&mut c, "ints2", &more).await;
    assert_eq!(encoding(&mut c, "ints2").await, bulk("intset"));
    assert_eq!(call(&mut c, &["SINTERSTORE", "r", "big", "ints2"]).await, int(113));
    assert_eq!(encoding(&mut c, "r").await, bulk("intset"));
    assert_eq!(call(&mut c, &["SUNIONSTORE", "r", "big", "ints2"]).await, int(700));
    assert_eq!(encoding(&mut c, "r").await, bulk("hashtable"));
}

#[tokio::test]
async fn databases_are_separate() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "s", "a"]).await;
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["SCARD", "s"]).await, int(0));
    call(&mut c, &["SADD", "s", "b", "c"]).await;
    assert_eq!(members(&mut c, "s").await, strs(&["b", "c"]));
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(members(&mut c, "s").await, strs(&["a"]));
}

// ---------------------------------------------------------------------------------------------
// SRANDMEMBER / SPOP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn srandmember() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SRANDMEMBER", "nokey"]).await, nil());
    assert_eq!(call(&mut c, &["SRANDMEMBER", "nokey", "3"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["SRANDMEMBER", "nokey", "-3"]).await, arr(vec![]));
    call(&mut c, &["SADD", "s", "a", "b", "c", "d", "e"]).await;
    let all = strs(&["a", "b", "c", "d", "e"]);
    let one = call(&mut c, &["SRANDMEMBER", "s"]).await.text();
    assert!(all.contains(&one));
    assert_eq!(call(&mut c, &["SRANDMEMBER", "s", "0"]).await, arr(vec![]));
    for n in 1..=5 {
        let r = sorted(&call(&mut c, &["SRANDMEMBER", "s", &n.to_string()]).await);
        assert_eq!(r.len(), n);
        assert_eq!(r.iter().collect::<BTreeSet<_>>().len(), n, "distinct: {r:?}");
        assert!(r.iter().all(|m| all.contains(m)));
    }
    assert_eq!(sorted(&call(&mut c, &["SRANDMEMBER", "s", "100"]).await), all);
    let r = sorted(&call(&mut c, &["SRANDMEMBER", "s", "-20"]).await);
    assert_eq!(r.len(), 20);
    assert!(r.iter().all(|m| all.contains(m)));
    // Nothing was removed.
    assert_eq!(call(&mut c, &["SCARD", "s"]).await, int(5));

    assert_eq!(call(&mut c, &["SRANDMEMBER", "s", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["SRANDMEMBER", "s", "1.5"]).await, err(NOT_INT));
    assert_eq!(
        call(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]).await,
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert!(call(&mut c, &["SRANDMEMBER", "nokey", "-9223372036854775808"]).await.is_err());
}

#[tokio::test]
async fn srandmember_absurd_negative_count_is_refused() {
    let s = TestServer::start();
    if !s.is_strata() {
        return; // redis-server would try to build the reply (and run out of memory).
    }
    let mut c = s.client().await;
    call(&mut c, &["SADD", "s", "a"]).await;
    let r = call(&mut c, &["SRANDMEMBER", "s", "-9223372036854775807"]).await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(call(&mut c, &["SRANDMEMBER", "nokey", "-9223372036854775807"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["PING"]).await, status("PONG"));
}

#[tokio::test]
async fn random_distribution_sees_every_member() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // A small set, a middle one and a big one (whose single picks use seeks).
    let small = range("m", 20);
    let mid = range("member:", 2000);
    let big = range("member:", 6000);
    sadd(&mut c, "mid", &mid).await;
    sadd(&mut c, "small", &small).await;
    sadd(&mut c, "big", &big).await;
    let mut seen = HashSet::new();
    for _ in 0..400 {
        seen.insert(call(&mut c, &["SRANDMEMBER", "small"]).await.text());
    }
    assert_eq!(seen.len(), 20, "single picks of a small set");

    let mut seen = HashSet::new();
    for _ in 0..100 {
        for m in sorted(&call(&mut c, &["SRANDMEMBER", "mid", "-100"]).await) {
            seen.insert(m);
        }
    }
    assert!(seen.len() > 1900, "repeated picks in a set saw only {} members", seen.len());
    let mut seen = HashSet::new();
    for _ in 0..2000 {
        seen.insert(call(&mut c, &["SRANDMEMBER", "mid"]).await.text());
    }
    assert!(seen.len() > 1000, "single picks in a set: {} distinct of 2000", seen.len());
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let m = call(&mut c, &["SRANDMEMBER", "big"]).await.text();
        assert!(m.starts_with("member:"));
        seen.insert(m);
    }
    assert!(seen.len() > 150, "single picks in a big set: {} distinct of 300", seen.len());
    let r = sorted(&call(&mut c, &["SRANDMEMBER", "big", "3"]).await);
    assert_eq!(r.iter().collect::<BTreeSet<_>>().len(), 3);
    let r = sorted(&call(&mut c, &["SRANDMEMBER", "big", "50"]).await);
    assert_eq!(r.iter().collect::<BTreeSet<_>>().len(), 50);
    let r = sorted(&call(&mut c, &["SRANDMEMBER", "big", "-4"]).await);
    assert_eq!(r.len(), 4);

    // SPOP eventually pops every member: pop one at a time from copies of a set.
    let mut popped = HashSet::new();
    for round in 0..60 {
        let key = format!("p{round}");
        sadd(&mut c, &key, &small).await;
        popped.insert(call(&mut c, &["SPOP", &key]).await.text());
    }
    assert!(popped.len() >= 15, "SPOP first picks: {}", popped.len());
}

#[tokio::test]
async fn spop() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SPOP", "nokey"]).await, nil());
    assert_eq!(call(&mut c, &["SPOP", "nokey", "5"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["SPOP", "nokey", "0"]).await, arr(vec![]));
    call(&mut c, &["SADD", "s", "a", "b", "c", "d", "e"]).await;
    assert_eq!(call(&mut c, &["SPOP", "s", "0"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["SCARD", "s"]).await, int(5));
    assert_eq!(call(&mut c, &["SPOP", "s", "-1"]).await, err("ERR value is out of range, must be positive"));
    assert_eq!(call(&mut c, &["SPOP", "s", "abc"]).await, err("ERR value is out of range, must be positive"));

    let mut left: BTreeSet<String> = strs(&["a", "b", "c", "d", "e"]).into_iter().collect();
    let one = call(&mut c, &["SPOP", "s"]).await.text();
    assert!(left.remove(&one));
    let two = sorted(&call(&mut c, &["SPOP", "s", "2"]).await);
    assert_eq!(two.len(), 2);
    for m in &two {
        assert!(left.remove(m), "{m} popped twice");
    }
    assert_eq!(members(&mut c, "s").await, left.iter().cloned().collect::<Vec<_>>());
    // A count past the size pops everything and deletes the key.
    let rest = sorted(&call(&mut c, &["SPOP", "s", "10"]).await);
    assert_eq!(rest, left.iter().cloned().collect::<Vec<_>>());
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));

    // Popping the last member alone deletes the key too.
    call(&mut c, &["SADD", "one", "x"]).await;
    assert_eq!(call(&mut c, &["SPOP", "one"]).await, bulk("x"));
    assert_eq!(call(&mut c, &["EXISTS", "one"]).await, int(0));
    call(&mut c, &["SADD", "one", "x", "y"]).await;
    assert_eq!(sorted(&call(&mut c, &["SPOP", "one", "2"]).await), strs(&["x", "y"]));
    assert_eq!(call(&mut c, &["EXISTS", "one"]).await, int(0));
}

#[tokio::test]
async fn spop_count_on_big_set() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let all = range("k", 3000);
    sadd(&mut c, "big", &all).await;
    let mut popped = BTreeSet::new();
    for n in [1usize, 10, 100, 1000] {
        let r = sorted(&call(&mut c, &["SPOP", "big", &n.to_string()]).await);
        assert_eq!(r.len(), n);
        for m in r {
            assert!(popped.insert(m.clone()), "{m} popped twice");
        }
    }
    assert_eq!(call(&mut c, &["SCARD", "big"]).await, int(3000 - 1111));
    let rest: BTreeSet<String> = members(&mut c, "big").await.into_iter().collect();
    assert!(rest.is_disjoint(&popped));
    assert_eq!(rest.len() + popped.len(), 3000);
    let last = sorted(&call(&mut c, &["SPOP", "big", "5000"]).await);
    assert_eq!(last.len(), 3000 - 1111);
    assert_eq!(call(&mut c, &["EXISTS", "big"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// SMOVE
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn smove() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "src", "a", "b"]).await;
    call(&mut c, &["SADD", "dst", "x"]).await;
    call(&mut c, &["SET", "str", "v"]).await;
    assert_eq!(call(&mut c, &["SMOVE", "src", "dst", "a"]).await, int(1));
    assert_eq!(members(&mut c, "src").await, strs(&["b"]));
    assert_eq!(members(&mut c, "dst").await, strs(&["a", "x"]));
    assert_eq!(call(&mut c, &["SMOVE", "src", "dst", "zz"]).await, int(0));
    // Missing source: 0, whatever the destination is.
    assert_eq!(call(&mut c, &["SMOVE", "nokey", "dst", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["SMOVE", "nokey", "str", "a"]).await, int(0));
    // A member already in the destination is still removed from the source.
    call(&mut c, &["SADD", "src", "x"]).await;
    assert_eq!(call(&mut c, &["SMOVE", "src", "dst", "x"]).await, int(1));
    assert_eq!(members(&mut c, "src").await, strs(&["b"]));
    assert_eq!(members(&mut c, "dst").await, strs(&["a", "x"]));
    // Same key: membership.
    assert_eq!(call(&mut c, &["SMOVE", "dst", "dst", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["SMOVE", "dst", "dst", "q"]).await, int(0));
    assert_eq!(members(&mut c, "dst").await, strs(&["a", "x"]));
    // Moving the last member deletes the source and creates the destination.
    assert_eq!(call(&mut c, &["SMOVE", "src", "fresh", "b"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "src"]).await, int(0));
    assert_eq!(members(&mut c, "fresh").await, strs(&["b"]));
    // Wrong type at the destination is an error even for an absent member; nothing moves.
    assert_eq!(call(&mut c, &["SMOVE", "dst", "str", "nothere"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["SMOVE", "dst", "str", "a"]).await, err(WRONGTYPE));
    assert_eq!(members(&mut c, "dst").await, strs(&["a", "x"]));
}

// ---------------------------------------------------------------------------------------------
// Set algebra
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn union_inter_diff() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "a", "1", "2", "3", "x"]).await;
    call(&mut c, &["SADD", "b", "2", "3", "4", "x"]).await;
    call(&mut c, &["SADD", "c", "3", "x", "5"]).await;
    assert_eq!(sorted(&call(&mut c, &["SUNION", "a", "b", "c"]).await), strs(&["1", "2", "3", "4", "5", "x"]));
    assert_eq!(sorted(&call(&mut c, &["SUNION", "a", "nokey"]).await), strs(&["1", "2", "3", "x"]));
    assert_eq!(call(&mut c, &["SUNION", "nokey"]).await, arr(vec![]));
    assert_eq!(sorted(&call(&mut c, &["SINTER", "a", "b"]).await), strs(&["2", "3", "x"]));
    assert_eq!(sorted(&call(&mut c, &["SINTER", "a", "b", "c"]).await), strs(&["3", "x"]));
    assert_eq!(sorted(&call(&mut c, &["SINTER", "a"]).await), strs(&["1", "2", "3", "x"]));
    assert_eq!(sorted(&call(&mut c, &["SINTER", "a", "a"]).await), strs(&["1", "2", "3", "x"]));
    assert_eq!(call(&mut c, &["SINTER", "a", "nokey"]).await, arr(vec![]));
    assert_eq!(sorted(&call(&mut c, &["SDIFF", "a", "b"]).await), strs(&["1"]));
    assert_eq!(sorted(&call(&mut c, &["SDIFF", "b", "a", "c"]).await), strs(&["4"]));
    assert_eq!(sorted(&call(&mut c, &["SDIFF", "a", "nokey"]).await), strs(&["1", "2", "3", "x"]));
    assert_eq!(sorted(&call(&mut c, &["SDIFF", "a"]).await), strs(&["1", "2", "3", "x"]));
    assert_eq!(call(&mut c, &["SDIFF", "nokey", "a"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["SDIFF", "a", "a"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["SDIFF", "a", "b", "a"]).await, arr(vec![]));
}

#[tokio::test]
async fn store_forms() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "a", "1", "2", "3"]).await;
    call(&mut c, &["SADD", "b", "2", "3", "4"]).await;
    // A string destination is replaced, and its TTL goes with it.
    call(&mut c, &["SET", "dst", "v", "EX", "100"]).await;
    assert_eq!(call(&mut c, &["SUNIONSTORE", "dst", "a", "b"]).await, int(4));
    assert_eq!(call(&mut c, &["TYPE", "dst"]).await, status("set"));
    assert_eq!(call(&mut c, &["TTL", "dst"]).await, int(-1));
    assert_eq!(members(&mut c, "dst").await, strs(&["1", "2", "3", "4"]));
    call(&mut c, &["SET", "dst", "v"]).await;
    assert_eq!(call(&mut c, &["SINTERSTORE", "dst", "a", "b"]).await, int(2));
    assert_eq!(members(&mut c, "dst").await, strs(&["2", "3"]));
    call(&mut c, &["SET", "dst", "v"]).await;
    assert_eq!(call(&mut c, &["SDIFFSTORE", "dst", "a", "b"]).await, int(1));
    assert_eq!(members(&mut c, "dst").await, strs(&["1"]));
    // The destination may be one of the sources.
    assert_eq!(call(&mut c, &["SUNIONSTORE", "a", "a", "b"]).await, int(4));
    assert_eq!(members(&mut c, "a").await, strs(&["1", "2", "3", "4"]));
    assert_eq!(call(&mut c, &["SDIFFSTORE", "a", "a", "b"]).await, int(1));
    assert_eq!(members(&mut c, "a").await, strs(&["1"]));
    // An existing set destination is replaced, not merged, and loses its TTL.
    call(&mut c, &["SADD", "d2", "zzz"]).await;
    call(&mut c, &["EXPIRE", "d2", "100"]).await;
    assert_eq!(call(&mut c, &["SINTERSTORE", "d2", "b", "b"]).await, int(3));
    assert_eq!(members(&mut c, "d2").await, strs(&["2", "3", "4"]));
    assert_eq!(call(&mut c, &["TTL", "d2"]).await, int(-1));
    // Empty results delete the destination (of any type) and reply 0.
    call(&mut c, &["SET", "dst", "v"]).await;
    assert_eq!(call(&mut c, &["SINTERSTORE", "dst", "a", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    call(&mut c, &["SET", "dst", "v"]).await;
    assert_eq!(call(&mut c, &["SDIFFSTORE", "dst", "b", "b"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    call(&mut c, &["SADD", "dst", "q"]).await;
    assert_eq!(call(&mut c, &["SUNIONSTORE", "dst", "nokey", "nokey2"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    assert_eq!(call(&mut c, &["SINTERSTORE", "never", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "never"]).await, int(0));
    // WRONGTYPE from a source leaves the destination alone.
    call(&mut c, &["SET", "str", "v"]).await;
    call(&mut c, &["SADD", "keep", "k"]).await;
    assert_eq!(call(&mut c, &["SUNIONSTORE", "keep", "b", "str"]).await, err(WRONGTYPE));
    assert_eq!(members(&mut c, "keep").await, strs(&["k"]));
}

#[tokio::test]
async fn sintercard() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "a", "1", "2", "3", "4", "x"]).await;
    call(&mut c, &["SADD", "b", "2", "3", "4", "x", "y"]).await;
    call(&mut c, &["SET", "str", "v"]).await;
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "b"]).await, int(4));
    assert_eq!(call(&mut c, &["SINTERCARD", "1", "a"]).await, int(5));
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "nokey"]).await, int(0));
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]).await, int(2));
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "b", "limit", "0"]).await, int(4));
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "100"]).await, int(4));
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "0"]).await, int(4));
    // numkeys counts keys; the remaining arguments are options.
    assert_eq!(call(&mut c, &["SINTERCARD", "1", "a", "b"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SINTERCARD", "1", "a", "LIMIT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SINTERCARD", "1", "a", "FOO", "1"]).await, err(SYNTAX));
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(call(&mut c, &["SINTERCARD", "0", "a"]).await, numkeys);
    assert_eq!(call(&mut c, &["SINTERCARD", "-1", "a"]).await, numkeys);
    assert_eq!(call(&mut c, &["SINTERCARD", "abc", "a"]).await, numkeys);
    assert_eq!(
        call(&mut c, &["SINTERCARD", "3", "a", "b"]).await,
        err("ERR Number of keys can't be greater than number of args")
    );
    let limit = err("ERR LIMIT can't be negative");
    assert_eq!(call(&mut c, &["SINTERCARD", "1", "a", "LIMIT", "-1"]).await, limit);
    assert_eq!(call(&mut c, &["SINTERCARD", "1", "a", "LIMIT", "abc"]).await, limit);
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "str"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// SSCAN
// ---------------------------------------------------------------------------------------------

async fn sscan_all(c: &mut MultiplexedConnection, key: &str, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let r = call(c, &args).await.array();
        calls += 1;
        out.extend(r[1].strings());
        cursor = r[0].text();
        if cursor == "0" {
            break;
        }
        assert!(calls < 10_000);
    }
    out.sort();
    (out, calls)
}

#[tokio::test]
async fn sscan() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SSCAN", "nokey", "0"]).await, arr(vec![bulk("0"), arr(vec![])]));
    // A missing key does not look at the options.
    assert_eq!(call(&mut c, &["SSCAN", "nokey", "0", "BADOPT"]).await, arr(vec![bulk("0"), arr(vec![])]));
    assert_eq!(call(&mut c, &["SSCAN", "nokey", "abc"]).await, err("ERR invalid cursor"));
    call(&mut c, &["SADD", "ints", "1", "2", "3", "10", "11"]).await;
    // An intset comes back whole.
    let r = call(&mut c, &["SSCAN", "ints", "0", "COUNT", "1"]).await.array();
    assert_eq!(r[0], bulk("0"));
    assert_eq!(sorted(&r[1]), strs(&["1", "10", "11", "2", "3"]));
    let r = call(&mut c, &["SSCAN", "ints", "0", "MATCH", "1*"]).await.array();
    assert_eq!(sorted(&r[1]), strs(&["1", "10", "11"]));
    assert_eq!(call(&mut c, &["SSCAN", "ints", "abc"]).await, err("ERR invalid cursor"));
    assert_eq!(call(&mut c, &["SSCAN", "ints", "0", "COUNT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SSCAN", "ints", "0", "COUNT", "x"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["SSCAN", "ints", "0", "MATCH"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SSCAN", "ints", "0", "TYPE", "set"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SSCAN", "ints", "0", "FOO", "bar"]).await, err(SYNTAX));

    // A big hashtable set: a full iteration returns every member exactly once.
    let all = range("m:", 1000);
    sadd(&mut c, "big", &all).await;
    let mut expected = all.clone();
    expected.sort();
    let (got, calls) = sscan_all(&mut c, "big", &[]).await;
    assert_eq!(got, expected);
    assert!(calls > 1, "paged");
    let (got, _) = sscan_all(&mut c, "big", &["COUNT", "100"]).await;
    assert_eq!(got, expected);
    let (got, _) = sscan_all(&mut c, "big", &["MATCH", "m:99*", "COUNT", "50"]).await;
    assert_eq!(
        got,
        strs(&["m:99", "m:990", "m:991", "m:992", "m:993", "m:994", "m:995", "m:996", "m:997", "m:998", "m:999"])
    );
}

// ---------------------------------------------------------------------------------------------
// Big sets and persistence
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn big_sets() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let a = range("e", 2000);
    let b: Vec<String> = (1000..3000).map(|i| format!("e{i}")).collect();
    assert_eq!(sadd(&mut c, "a", &a).await, int(2000));
    assert_eq!(sadd(&mut c, "b", &b).await, int(2000));
    assert_eq!(call(&mut c, &["SCARD", "a"]).await, int(2000));
    assert_eq!(members(&mut c, "a").await.len(), 2000);
    assert_eq!(encoding(&mut c, "a").await, bulk("hashtable"));
    let inter = sorted(&call(&mut c, &["SINTER", "a", "b"]).await);
    let mut expected: Vec<String> = (1000..2000).map(|i| format!("e{i}")).collect();
    expected.sort();
    assert_eq!(inter, expected);
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "a", "b"]).await, int(1000));
    assert_eq!(call(&mut c, &["SINTERCARD", "2", "b", "a", "LIMIT", "700"]).await, int(700));
    assert_eq!(sorted(&call(&mut c, &["SUNION", "a", "b"]).await).len(), 3000);
    assert_eq!(sorted(&call(&mut c, &["SDIFF", "a", "b"]).await).len(), 1000);
    assert_eq!(call(&mut c, &["SINTERSTORE", "i", "a", "b"]).await, int(1000));
    assert_eq!(call(&mut c, &["SDIFFSTORE", "d", "b", "a"]).await, int(1000));
    assert_eq!(call(&mut c, &["SUNIONSTORE", "u", "a", "b"]).await, int(3000));
    assert_eq!(members(&mut c, "i").await, expected);
    // Membership in bulk.
    let mut args = vec!["SMISMEMBER".to_string(), "a".to_string()];
    args.extend((1990..2010).map(|i| format!("e{i}")));
    let r = call(&mut c, &args).await.array();
    assert_eq!(r.iter().filter(|x| **x == int(1)).count(), 10);
    // SREM most of it in one call.
    let mut args = vec!["SREM".to_string(), "a".to_string()];
    args.extend((0..1999).map(|i| format!("e{i}")));
    assert_eq!(call(&mut c, &args).await, int(1999));
    assert_eq!(members(&mut c, "a").await, strs(&["e1999"]));
}

#[tokio::test]
async fn persistence_across_restart() {
    let mut s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "ints", "1", "2", "3"]).await;
    call(&mut c, &["SADD", "strs", "a", "b"]).await;
    sadd(&mut c, "big", &range("x", 600)).await;
    call(&mut c, &["SADD", "tmp", "q"]).await;
    call(&mut c, &["SREM", "tmp", "q"]).await;
    call(&mut c, &["SPOP", "strs"]).await;
    drop(c);
    s.restart();
    let mut c = s.client().await;
    assert_eq!(members(&mut c, "ints").await, strs(&["1", "2", "3"]));
    assert_eq!(call(&mut c, &["SCARD", "strs"]).await, int(1));
    assert_eq!(call(&mut c, &["SCARD", "big"]).await, int(600));
    assert_eq!(members(&mut c, "big").await.len(), 600);
    assert_eq!(call(&mut c, &["EXISTS", "tmp"]).await, int(0));
    assert_eq!(encoding(&mut c, "ints").await, bulk("intset"));
    assert_eq!(encoding(&mut c, "strs").await, bulk("hashtable"));
    assert_eq!(encoding(&mut c, "big").await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["SADD", "ints", "4"]).await, int(1));
    assert_eq!(call(&mut c, &["SISMEMBER", "big", "x599"]).await, int(1));
}

#[tokio::test]
async fn expired_set_is_gone() {
    let s = TestServer::start();
    let mut c = s.client().await;
    call(&mut c, &["SADD", "s", "a", "b"]).await;
    call(&mut c, &["PEXPIRE", "s", "20"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert_eq!(call(&mut c, &["SCARD", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["SADD", "s", "c"]).await, int(1));
    assert_eq!(members(&mut c, "s").await, strs(&["c"]));
    assert_eq!(call(&mut c, &["TTL", "s"]).await, int(-1));
}

#[tokio::test]
async fn resp3_reply_types() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert!(matches!(r.call(&["HELLO", "3"]), Reply::Map(_)));
    r.call(&["SADD", "a", "x", "y"]);
    r.call(&["SADD", "b", "y", "z"]);
    let set_of = |reply: Reply| match reply {
        Reply::Set(items) => sorted(&Reply::Array(items)),
        other => panic!("expected a RESP3 set, got {other:?}"),
    };
    assert_eq!(set_of(r.call(&["SMEMBERS", "a"])), strs(&["x", "y"]));
    assert_eq!(set_of(r.call(&["SUNION", "a", "b"])), strs(&["x", "y", "z"]));
    assert_eq!(set_of(r.call(&["SINTER", "a", "b"])), strs(&["y"]));
    assert_eq!(set_of(r.call(&["SDIFF", "a", "b"])), strs(&["x"]));
    assert_eq!(r.call(&["SMEMBERS", "nokey"]), Reply::Set(vec![]));
    assert_eq!(r.call(&["SINTER", "a", "nokey"]), Reply::Set(vec![]));
    assert_eq!(r.call(&["SPOP", "nokey", "2"]), Reply::Set(vec![]));
    assert_eq!(r.call(&["SPOP", "a", "0"]), Reply::Set(vec![]));
    assert_eq!(r.call(&["SRANDMEMBER", "nokey", "2"]), arr(vec![]));
    assert_eq!(r.call(&["SRANDMEMBER", "a", "0"]), arr(vec![]));
    assert_eq!(r.call(&["SRANDMEMBER", "nokey"]), nil());
    assert_eq!(r.call(&["SPOP", "nokey"]), nil());
    assert_eq!(sorted(&r.call(&["SRANDMEMBER", "a", "5"])), strs(&["x", "y"]));
    assert!(matches!(r.call(&["SRANDMEMBER", "a", "-3"]), Reply::Array(v) if v.len() == 3));
    assert_eq!(r.call(&["SMISMEMBER", "a", "x", "q"]), arr(vec![int(1), int(0)]));
    assert_eq!(set_of(r.call(&["SPOP", "a", "5"])), strs(&["x", "y"]));
}

#[tokio::test]
async fn pipelined_writes_then_reads() {
    let s = TestServer::start();
    let mut r = s.raw();
    let cmds: Vec<Vec<&str>> = vec![
        vec!["SADD", "p", "a", "b", "c"],
        vec!["SMEMBERS", "p"],
        vec!["SREM", "p", "a"],
        vec!["SCARD", "p"],
        vec!["SPOP", "p", "1"],
        vec!["SADD", "q", "b", "c", "d"],
        vec!["SUNIONSTORE", "u", "p", "q"],
        vec!["SINTER", "u", "q"],
        vec!["SMOVE", "q", "p", "d"],
        vec!["SISMEMBER", "p", "d"],
        vec!["SRANDMEMBER", "q"],
    ];
    let mut bytes = Vec::new();
    for c in &cmds {
        bytes.extend(resp(c));
    }
    r.send(&bytes);
    let replies: Vec<Reply> = cmds.iter().map(|_| r.read_reply()).collect();
    assert_eq!(replies[0], int(3));
    assert_eq!(sorted(&replies[1]), strs(&["a", "b", "c"]));
    assert_eq!(replies[2], int(1));
    assert_eq!(replies[3], int(2));
    let popped = sorted(&replies[4]);
    assert_eq!(popped.len(), 1);
    assert_eq!(replies[5], int(3));
    assert_eq!(replies[6], int(3));
    assert_eq!(sorted(&replies[7]), strs(&["b", "c", "d"]));
    assert_eq!(replies[8], int(1));
    assert_eq!(replies[9], int(1));
    let q = replies[10].text();
    assert!(q == "b" || q == "c", "{q}");
}
