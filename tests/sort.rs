//! SORT and SORT_RO, asserted against the exact replies of Redis 7.0.
//!
//! NOTE: the tests marked `NEEDS LISTS/SETS/ZSETS` create their input with RPUSH, SADD and ZADD
//! (and read results with LRANGE), which other command families provide: they fail with
//! "unknown command" on a branch without those families and pass once they are merged. The
//! others use only strings and hashes.

mod common;

use common::*;
use redis::aio::MultiplexedConnection;

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

async fn cmd(c: &mut MultiplexedConnection, args: &[&str]) -> Reply {
    call(c, args).await
}

/// RPUSH key elems... and check the reply.
async fn rpush(c: &mut MultiplexedConnection, key: &str, elems: &[&str]) {
    let mut args = vec!["RPUSH", key];
    args.extend_from_slice(elems);
    assert_eq!(cmd(c, &args).await, int(elems.len() as i64), "RPUSH {key}");
}

async fn sadd(c: &mut MultiplexedConnection, key: &str, members: &[&str]) {
    let mut args = vec!["SADD", key];
    args.extend_from_slice(members);
    assert_eq!(cmd(c, &args).await, int(members.len() as i64), "SADD {key}");
}

async fn lrange(c: &mut MultiplexedConnection, key: &str) -> Reply {
    cmd(c, &["LRANGE", key, "0", "-1"]).await
}

// ---- Without lists, sets or sorted sets -------------------------------------------------------

#[tokio::test]
async fn errors_and_missing_keys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(cmd(&mut c, &["SORT", "nokey"]).await, arr(vec![]));
    assert_eq!(cmd(&mut c, &["SORT_RO", "nokey", "DESC", "ALPHA", "LIMIT", "0", "5"]).await, arr(vec![]));
    assert_eq!(cmd(&mut c, &["SET", "str", "1"]).await, ok());
    assert_eq!(cmd(&mut c, &["SORT", "str"]).await, err(WRONGTYPE));
    assert_eq!(cmd(&mut c, &["SORT_RO", "str"]).await, err(WRONGTYPE));
    assert_eq!(cmd(&mut c, &["HSET", "h", "a", "1"]).await, int(1));
    assert_eq!(cmd(&mut c, &["SORT", "h", "ALPHA"]).await, err(WRONGTYPE));
    assert_eq!(cmd(&mut c, &["SORT", "h", "STORE", "dst"]).await, err(WRONGTYPE));
    assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(0));
    // Option errors come before the type check.
    assert_eq!(cmd(&mut c, &["SORT", "str", "BADOPT"]).await, err(SYNTAX));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "LIMIT", "0"]).await, err(SYNTAX));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "LIMIT", "x", "1"]).await, err(NOT_INT));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "LIMIT", "0", "1.5"]).await, err(NOT_INT));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "BY"]).await, err(SYNTAX));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "GET"]).await, err(SYNTAX));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "STORE"]).await, err(SYNTAX));
    assert_eq!(cmd(&mut c, &["SORT_RO", "nokey", "STORE", "dst"]).await, err(SYNTAX));
    assert_eq!(cmd(&mut c, &["SORT"]).await, arity_err("sort"));
    assert_eq!(cmd(&mut c, &["SORT_RO"]).await, arity_err("sort_ro"));
    // GET on a missing key: still an empty reply.
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "GET", "#", "GET", "x_*"]).await, arr(vec![]));
}

#[tokio::test]
async fn store_of_nothing_deletes_the_destination() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(cmd(&mut c, &["SET", "dst", "old"]).await, ok());
    assert_eq!(cmd(&mut c, &["EXPIRE", "dst", "100"]).await, int(1));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "STORE", "dst"]).await, int(0));
    assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(0));
    assert_eq!(cmd(&mut c, &["SORT", "nokey", "STORE", "dst"]).await, int(0));
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, int(0));
}

#[tokio::test]
async fn command_info() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let info = cmd(&mut c, &["COMMAND", "INFO", "sort", "sort_ro"]).await.array();
    let sort = info[0].array();
    assert_eq!(sort[0], bulk("sort"));
    assert_eq!(sort[1], int(-2));
    let flags: Vec<String> = sort[2].array().iter().map(|f| f.text()).collect();
    assert!(flags.contains(&"write".to_string()) && flags.contains(&"denyoom".to_string()), "{flags:?}");
    assert_eq!(&sort[3..6], &[int(1), int(1), int(1)]);
    let ro = info[1].array();
    assert_eq!(ro[0], bulk("sort_ro"));
    let flags: Vec<String> = ro[2].array().iter().map(|f| f.text()).collect();
    assert!(flags.contains(&"readonly".to_string()), "{flags:?}");
}

// ---- NEEDS LISTS/SETS/ZSETS (fail until those families are merged) ----------------------------

#[tokio::test]
async fn numeric_and_alpha_sorting_of_lists() {
    let s = TestServer::start();
    let mut c = s.client().await;
    rpush(&mut c, "l", &["3", "1", "10", "2", "-1.5"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "l"]).await, bulks(&["-1.5", "1", "2", "3", "10"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "DESC"]).await, bulks(&["10", "3", "2", "1", "-1.5"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "asc"]).await, bulks(&["-1.5", "1", "2", "3", "10"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "ALPHA"]).await, bulks(&["-1.5", "1", "10", "2", "3"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "ALPHA", "DESC"]).await, bulks(&["3", "2", "10", "1", "-1.5"]));
    assert_eq!(cmd(&mut c, &["SORT_RO", "l", "DESC"]).await, bulks(&["10", "3", "2", "1", "-1.5"]));
    // LIMIT: offset and count, clamped.
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "1", "2"]).await, bulks(&["1", "2"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "-5", "2"]).await, bulks(&["-1.5", "1"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "3", "-1"]).await, bulks(&["3", "10"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "3", "100"]).await, bulks(&["3", "10"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "9", "2"]).await, arr(vec![]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "0", "0"]).await, arr(vec![]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "DESC", "LIMIT", "0", "2"]).await, bulks(&["10", "3"]));
    // Non-numeric elements need ALPHA.
    rpush(&mut c, "words", &["banana", "apple", "cherry"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "words"]).await, err(NOT_DOUBLE));
    assert_eq!(cmd(&mut c, &["SORT", "words", "ALPHA"]).await, bulks(&["apple", "banana", "cherry"]));
    // Equal scores fall back to the elements' bytes; leading spaces and exponents parse.
    rpush(&mut c, "ties", &["1.0", "1", " 2", "1e0", "0x"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "ties"]).await, err(NOT_DOUBLE));
    assert_eq!(cmd(&mut c, &["LREM", "ties", "0", "0x"]).await, int(1));
    assert_eq!(cmd(&mut c, &["SORT", "ties"]).await, bulks(&["1", "1.0", "1e0", " 2"]));
    assert_eq!(cmd(&mut c, &["SORT", "ties", "DESC"]).await, bulks(&[" 2", "1e0", "1.0", "1"]));
    // The list itself is unchanged.
    assert_eq!(lrange(&mut c, "l").await, bulks(&["3", "1", "10", "2", "-1.5"]));
}

#[tokio::test]
async fn by_nosort_keeps_native_order() {
    let s = TestServer::start();
    let mut c = s.client().await;
    rpush(&mut c, "l", &["c", "a", "d", "b"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "nosort"]).await, bulks(&["c", "a", "d", "b"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "nosort", "DESC"]).await, bulks(&["b", "d", "a", "c"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "nosort", "LIMIT", "1", "2"]).await, bulks(&["a", "d"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"]).await, bulks(&["d", "a"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "nosort", "LIMIT", "3", "5"]).await, bulks(&["b"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "nosort", "LIMIT", "4", "5"]).await, arr(vec![]));
    // Sorted sets: score order.
    assert_eq!(cmd(&mut c, &["ZADD", "z", "1", "x", "3", "y", "2", "w"]).await, int(3));
    assert_eq!(cmd(&mut c, &["SORT", "z", "BY", "nosort"]).await, bulks(&["x", "w", "y"]));
    assert_eq!(cmd(&mut c, &["SORT", "z", "BY", "nosort", "DESC"]).await, bulks(&["y", "w", "x"]));
    assert_eq!(cmd(&mut c, &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "1"]).await, bulks(&["w"]));
    assert_eq!(cmd(&mut c, &["SORT_RO", "z", "BY", "nosort", "LIMIT", "1", "5"]).await, bulks(&["w", "y"]));
}

#[tokio::test]
async fn sets_and_sorted_sets() {
    let s = TestServer::start();
    let mut c = s.client().await;
    sadd(&mut c, "s", &["5", "40", "3", "-2.5"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "s"]).await, bulks(&["-2.5", "3", "5", "40"]));
    assert_eq!(cmd(&mut c, &["SORT", "s", "ALPHA", "DESC"]).await, bulks(&["5", "40", "3", "-2.5"]));
    sadd(&mut c, "sw", &["b", "a"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "sw"]).await, err(NOT_DOUBLE));
    // Sorted sets sort by the members' values, not their scores.
    assert_eq!(cmd(&mut c, &["ZADD", "z", "1", "30", "2", "20", "3", "10", "4", "2.5"]).await, int(4));
    assert_eq!(cmd(&mut c, &["SORT", "z"]).await, bulks(&["2.5", "10", "20", "30"]));
    assert_eq!(cmd(&mut c, &["SORT", "z", "DESC", "LIMIT", "0", "2"]).await, bulks(&["30", "20"]));
    assert_eq!(cmd(&mut c, &["SORT", "z", "ALPHA"]).await, bulks(&["10", "2.5", "20", "30"]));
    assert_eq!(cmd(&mut c, &["ZADD", "zw", "1", "b", "2", "a"]).await, int(2));
    assert_eq!(cmd(&mut c, &["SORT", "zw"]).await, err(NOT_DOUBLE));
    assert_eq!(cmd(&mut c, &["SORT", "zw", "ALPHA"]).await, bulks(&["a", "b"]));
}

#[tokio::test]
async fn by_and_get_patterns() {
    let s = TestServer::start();
    let mut c = s.client().await;
    rpush(&mut c, "l", &["a", "b", "c", "d"]).await;
    assert_eq!(cmd(&mut c, &["MSET", "w_a", "30", "w_b", "10", "w_c", "20"]).await, ok());
    // d has no weight: it sorts as 0.
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "w_*"]).await, bulks(&["d", "b", "c", "a"]));
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "w_*", "DESC", "LIMIT", "0", "2"]).await, bulks(&["a", "c"]));
    for (k, name, age) in [("h_a", "ann", "9"), ("h_b", "bob", "3"), ("h_c", "cat", "5"), ("h_d", "dan", "1")] {
        assert_eq!(cmd(&mut c, &["HSET", k, "name", name, "age", age]).await, int(2));
    }
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "h_*->age"]).await, bulks(&["d", "b", "c", "a"]));
    assert_eq!(
        cmd(&mut c, &["SORT", "l", "BY", "h_*->age", "GET", "#", "GET", "h_*->name", "GET", "w_*"]).await,
        arr(vec![
            bulk("d"),
            bulk("dan"),
            nil(),
            bulk("b"),
            bulk("bob"),
            bulk("10"),
            bulk("c"),
            bulk("cat"),
            bulk("20"),
            bulk("a"),
            bulk("ann"),
            bulk("30"),
        ])
    );
    // ALPHA by names.
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "h_*->name", "ALPHA", "DESC"]).await, bulks(&["d", "c", "b", "a"]));
    // Non-numeric BY values need ALPHA.
    assert_eq!(cmd(&mut c, &["SORT", "l", "BY", "h_*->name"]).await, err(NOT_DOUBLE));
    // GET of a fixed name, of a hash as a string, of a missing field: nil.
    assert_eq!(
        cmd(&mut c, &["SORT", "l", "ALPHA", "LIMIT", "0", "1", "GET", "fixed", "GET", "h_*", "GET", "h_*->zz"]).await,
        arr(vec![nil(), nil(), nil()])
    );
    // BY a fixed name (no '*') does not sort; GET still applies.
    assert_eq!(
        cmd(&mut c, &["SORT", "l", "BY", "nosort", "GET", "w_*"]).await,
        arr(vec![bulk("30"), bulk("10"), bulk("20"), nil()])
    );
    assert_eq!(
        cmd(&mut c, &["SORT_RO", "l", "BY", "w_*", "GET", "h_*->name"]).await,
        bulks(&["dan", "bob", "cat", "ann"])
    );
}

#[tokio::test]
async fn store_writes_a_list() {
    let s = TestServer::start();
    let mut c = s.client().await;
    rpush(&mut c, "l", &["3", "1", "2"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "l", "STORE", "dst"]).await, int(3));
    assert_eq!(cmd(&mut c, &["TYPE", "dst"]).await, status("list"));
    assert_eq!(lrange(&mut c, "dst").await, bulks(&["1", "2", "3"]));
    // Replaces whatever was there (its expiry too); missing GET values become "".
    assert_eq!(cmd(&mut c, &["SET", "str", "x", "EX", "100"]).await, ok());
    assert_eq!(cmd(&mut c, &["SET", "v_2", "two"]).await, ok());
    assert_eq!(cmd(&mut c, &["SORT", "l", "DESC", "GET", "#", "GET", "v_*", "STORE", "str"]).await, int(6));
    assert_eq!(lrange(&mut c, "str").await, bulks(&["3", "", "2", "two", "1", ""]));
    assert_eq!(cmd(&mut c, &["TTL", "str"]).await, int(-1));
    // Into itself.
    assert_eq!(cmd(&mut c, &["SORT", "l", "DESC", "STORE", "l"]).await, int(3));
    assert_eq!(lrange(&mut c, "l").await, bulks(&["3", "2", "1"]));
    // The stored list works with list commands.
    assert_eq!(cmd(&mut c, &["RPUSH", "dst", "9"]).await, int(4));
    assert_eq!(cmd(&mut c, &["LPUSH", "dst", "0"]).await, int(5));
    assert_eq!(lrange(&mut c, "dst").await, bulks(&["0", "1", "2", "3", "9"]));
    // LIMIT to nothing deletes the destination.
    assert_eq!(cmd(&mut c, &["SORT", "l", "LIMIT", "5", "1", "STORE", "dst"]).await, int(0));
    assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(0));
    // A set stored with BY nosort is sorted (ALPHA) for determinism.
    sadd(&mut c, "s", &["b", "c", "a"]).await;
    assert_eq!(cmd(&mut c, &["SORT", "s", "BY", "nosort", "DESC", "STORE", "dst"]).await, int(3));
    assert_eq!(lrange(&mut c, "dst").await, bulks(&["c", "b", "a"]));
    // An error stores nothing.
    assert_eq!(cmd(&mut c, &["SORT", "s", "STORE", "dst"]).await, err(NOT_DOUBLE));
    assert_eq!(lrange(&mut c, "dst").await, bulks(&["c", "b", "a"]));
    // WRONGTYPE stores nothing either.
    assert_eq!(cmd(&mut c, &["SORT", "v_2", "STORE", "dst"]).await, err(WRONGTYPE));
    assert_eq!(cmd(&mut c, &["EXISTS", "dst"]).await, int(1));
}

#[tokio::test]
async fn big_list_and_restart() {
    let mut s = TestServer::start();
    {
        let mut c = s.client().await;
        let vals: Vec<String> = (0..2000).map(|i| ((i * 7919) % 2000).to_string()).collect();
        let mut args = vec!["RPUSH".to_string(), "l".to_string()];
        args.extend(vals.iter().cloned());
        assert_eq!(call(&mut c, &args).await, int(2000));
        let want: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
        assert_eq!(cmd(&mut c, &["SORT", "l"]).await.strings(), want);
        assert_eq!(cmd(&mut c, &["SORT", "l", "DESC", "LIMIT", "1995", "10"]).await, bulks(&["4", "3", "2", "1", "0"]));
        assert_eq!(
            cmd(&mut c, &["SORT", "l", "BY", "nosort", "LIMIT", "1000", "2"]).await.strings(),
            vec![vals[1000].clone(), vals[1001].clone()]
        );
        assert_eq!(cmd(&mut c, &["SORT", "l", "ALPHA", "STORE", "dst"]).await, int(2000));
    }
    s.restart();
    let mut c = s.client().await;
    let mut want: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
    want.sort();
    assert_eq!(lrange(&mut c, "dst").await.strings(), want);
    assert_eq!(cmd(&mut c, &["LLEN", "dst"]).await, int(2000));
}
