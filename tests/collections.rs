//! Lifecycle of every collection type: DEL/UNLINK, expiry, RENAME, COPY, MOVE, SWAPDB, TYPE,
//! OBJECT ENCODING, DBSIZE and SCAN TYPE, emptied collections, and versions (a deleted or
//! expired collection's members never come back in a new one of the same name).

mod common;

use std::time::Duration;

use common::*;
use redis::aio::MultiplexedConnection;

/// Creates one key of each collection type, each with the members "a" and "b".
async fn make_all(c: &mut MultiplexedConnection, prefix: &str) -> Vec<(String, &'static str)> {
    let k = |t: &str| format!("{prefix}{t}");
    assert_eq!(call(c, &["HSET", &k("hash"), "a", "1", "b", "2"]).await, int(2));
    assert_eq!(call(c, &["RPUSH", &k("list"), "a", "b"]).await, int(2));
    assert_eq!(call(c, &["SADD", &k("set"), "a", "b"]).await, int(2));
    assert_eq!(call(c, &["ZADD", &k("zset"), "1", "a", "2", "b"]).await, int(2));
    vec![(k("hash"), "hash"), (k("list"), "list"), (k("set"), "set"), (k("zset"), "zset")]
}

/// The members of a collection of any type, sorted.
async fn members(c: &mut MultiplexedConnection, key: &str) -> Vec<String> {
    let t = call(c, &["TYPE", key]).await.text();
    let r = match t.as_str() {
        "hash" => call(c, &["HKEYS", key]).await,
        "list" => call(c, &["LRANGE", key, "0", "-1"]).await,
        "set" => call(c, &["SMEMBERS", key]).await,
        "zset" => call(c, &["ZRANGE", key, "0", "-1"]).await,
        "none" => return Vec::new(),
        other => panic!("unexpected type {other}"),
    };
    let mut m = r.strings();
    m.sort();
    m
}

#[tokio::test]
async fn type_dbsize_scan_and_wrongtype() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let keys = make_all(&mut c, "").await;
    assert_eq!(call(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(5));
    for (k, t) in &keys {
        assert_eq!(call(&mut c, &["TYPE", k]).await, status(t));
        let scanned = call(&mut c, &["SCAN", "0", "TYPE", t, "COUNT", "100"]).await.array()[1].strings();
        assert_eq!(scanned, vec![k.clone()], "SCAN TYPE {t}");
        assert_eq!(call(&mut c, &["GET", k]).await, err(WRONGTYPE));
        assert_eq!(call(&mut c, &["APPEND", k, "x"]).await, err(WRONGTYPE));
    }
    for cmd in [
        vec!["HSET", "str", "f", "v"],
        vec!["LPUSH", "str", "x"],
        vec!["SADD", "str", "x"],
        vec!["ZADD", "str", "1", "x"],
        vec!["HGET", "list", "f"],
        vec!["LLEN", "hash"],
        vec!["SCARD", "zset"],
        vec!["ZCARD", "set"],
    ] {
        assert_eq!(call(&mut c, &cmd).await, err(WRONGTYPE), "{cmd:?}");
    }
    // SET replaces a collection of any type.
    assert_eq!(call(&mut c, &["SET", "hash", "now a string"]).await, ok());
    assert_eq!(call(&mut c, &["TYPE", "hash"]).await, status("string"));
    assert_eq!(call(&mut c, &["HSET", "hash", "a", "1"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn object_encoding_names_follow_redis() {
    let s = TestServer::start();
    let mut c = s.client().await;
    make_all(&mut c, "").await;
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "hash"]).await, bulk("listpack"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "list"]).await, bulk("quicklist"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "set"]).await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "zset"]).await, bulk("listpack"));
    assert_eq!(call(&mut c, &["SADD", "ints", "1", "2", "-3"]).await, int(3));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "ints"]).await, bulk("intset"));
    let long = "x".repeat(65);
    assert_eq!(call(&mut c, &["HSET", "hash", "long", &long]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "hash"]).await, bulk("hashtable"));
    assert_eq!(call(&mut c, &["ZADD", "zset", "3", &long]).await, int(1));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "zset"]).await, bulk("skiplist"));
    // The limits are configurable, as in Redis.
    assert_eq!(call(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "2"]).await, ok());
    assert_eq!(call(&mut c, &["ZADD", "z2", "1", "a", "2", "b", "3", "c"]).await, int(3));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "z2"]).await, bulk("skiplist"));
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "set-max-intset-entries"]).await,
        bulks(&["set-max-intset-entries", "512"])
    );
}

#[tokio::test]
async fn del_unlink_and_emptied_collections() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let keys = make_all(&mut c, "").await;
    assert_eq!(call(&mut c, &["DEL", &keys[0].0, &keys[1].0]).await, int(2));
    assert_eq!(call(&mut c, &["UNLINK", &keys[2].0, &keys[3].0, "nope"]).await, int(2));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    // Re-created under the same names: nothing of the old members comes back.
    assert_eq!(call(&mut c, &["HSET", "hash", "c", "3"]).await, int(1));
    assert_eq!(call(&mut c, &["RPUSH", "list", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["SADD", "set", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["ZADD", "zset", "3", "c"]).await, int(1));
    for (k, _) in &keys {
        assert_eq!(members(&mut c, k).await, vec!["c".to_string()], "{k}");
    }
    // Removing the last member removes the key.
    assert_eq!(call(&mut c, &["HDEL", "hash", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["LPOP", "list"]).await, bulk("c"));
    assert_eq!(call(&mut c, &["SREM", "set", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["ZREM", "zset", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    for (k, _) in &keys {
        assert_eq!(call(&mut c, &["EXISTS", k]).await, int(0), "{k}");
    }
}

#[tokio::test]
async fn a_big_collection_is_deleted_at_once() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for chunk in 0..20 {
        let mut args = vec!["ZADD".to_string(), "big".to_string()];
        for i in chunk * 1000..(chunk + 1) * 1000 {
            args.push(i.to_string());
            args.push(format!("m{i}"));
        }
        assert_eq!(call(&mut c, &args).await, int(1000));
    }
    assert_eq!(call(&mut c, &["ZCARD", "big"]).await, int(20_000));
    assert_eq!(call(&mut c, &["DEL", "big"]).await, int(1));
    assert_eq!(call(&mut c, &["ZCARD", "big"]).await, int(0));
    assert_eq!(call(&mut c, &["ZADD", "big", "1", "m5"]).await, int(1));
    assert_eq!(call(&mut c, &["ZRANGE", "big", "0", "-1", "WITHSCORES"]).await, bulks(&["m5", "1"]));
}

#[tokio::test]
async fn expiry_applies_to_collections_and_old_members_stay_dead() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let keys = make_all(&mut c, "").await;
    for (k, _) in &keys {
        assert_eq!(call(&mut c, &["PEXPIRE", k, "50"]).await, int(1));
        assert!(call(&mut c, &["PTTL", k]).await.int() > 0);
    }
    // A write keeps the expiry, as in Redis.
    assert_eq!(call(&mut c, &["HSET", "hash", "x", "y"]).await, int(1));
    assert!(call(&mut c, &["PTTL", "hash"]).await.int() > 0);
    tokio::time::sleep(Duration::from_millis(120)).await;
    for (k, _) in &keys {
        assert_eq!(call(&mut c, &["EXISTS", k]).await, int(0), "{k}");
    }
    assert_eq!(call(&mut c, &["HSET", "hash", "new", "1"]).await, int(1));
    assert_eq!(call(&mut c, &["RPUSH", "list", "new"]).await, int(1));
    assert_eq!(call(&mut c, &["SADD", "set", "new"]).await, int(1));
    assert_eq!(call(&mut c, &["ZADD", "zset", "1", "new"]).await, int(1));
    for (k, _) in &keys {
        assert_eq!(members(&mut c, k).await, vec!["new".to_string()], "{k}");
        assert_eq!(call(&mut c, &["TTL", k]).await, int(-1), "{k}: a new key has no expiry");
    }
    assert_eq!(call(&mut c, &["PERSIST", "hash"]).await, int(0));
}

#[tokio::test]
async fn rename_copy_move_carry_members() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let keys = make_all(&mut c, "src:").await;
    for (k, t) in &keys {
        let renamed = format!("renamed:{t}");
        assert_eq!(call(&mut c, &["RENAME", k, &renamed]).await, ok());
        assert_eq!(call(&mut c, &["EXISTS", k]).await, int(0));
        assert_eq!(members(&mut c, &renamed).await, vec!["a", "b"], "{t}");

        let copy = format!("copy:{t}");
        assert_eq!(call(&mut c, &["COPY", &renamed, &copy]).await, int(1));
        assert_eq!(call(&mut c, &["COPY", &renamed, &copy]).await, int(0), "exists");
        // The copy is independent of its source.
        assert_eq!(call(&mut c, &["DEL", &renamed]).await, int(1));
        assert_eq!(members(&mut c, &copy).await, vec!["a", "b"], "{t}");
        assert_eq!(call(&mut c, &["TYPE", &copy]).await, status(t));

        assert_eq!(call(&mut c, &["MOVE", &copy, "3"]).await, int(1));
        assert_eq!(call(&mut c, &["EXISTS", &copy]).await, int(0));
        assert_eq!(call(&mut c, &["SELECT", "3"]).await, ok());
        assert_eq!(members(&mut c, &copy).await, vec!["a", "b"], "{t} in db 3");
        // COPY ... DB ... REPLACE back, over a string.
        assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
        assert_eq!(call(&mut c, &["SET", &copy, "x"]).await, ok());
        assert_eq!(call(&mut c, &["SELECT", "3"]).await, ok());
        assert_eq!(call(&mut c, &["COPY", &copy, &copy, "DB", "0", "REPLACE"]).await, int(1));
        assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
        assert_eq!(members(&mut c, &copy).await, vec!["a", "b"], "{t} copied back");
    }
    // RENAME over an existing collection replaces it whole.
    assert_eq!(call(&mut c, &["SADD", "s1", "x"]).await, int(1));
    assert_eq!(call(&mut c, &["SADD", "s2", "y", "z"]).await, int(2));
    assert_eq!(call(&mut c, &["RENAME", "s1", "s2"]).await, ok());
    assert_eq!(call(&mut c, &["SMEMBERS", "s2"]).await, bulks(&["x"]));
    // Renamed with its expiry.
    assert_eq!(call(&mut c, &["EXPIRE", "s2", "100"]).await, int(1));
    assert_eq!(call(&mut c, &["RENAME", "s2", "s3"]).await, ok());
    assert!(call(&mut c, &["TTL", "s3"]).await.int() > 90);
}

#[tokio::test]
async fn swapdb_and_flush_cover_collections() {
    let s = TestServer::start();
    let mut c = s.client().await;
    make_all(&mut c, "").await;
    assert_eq!(call(&mut c, &["SWAPDB", "0", "1"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(4));
    assert_eq!(members(&mut c, "zset").await, vec!["a", "b"]);
    assert_eq!(call(&mut c, &["FLUSHDB"]).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["ZADD", "zset", "1", "new"]).await, int(1));
    assert_eq!(members(&mut c, "zset").await, vec!["new"]);
    assert_eq!(call(&mut c, &["FLUSHALL"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "zset"]).await, int(0));
}

#[tokio::test]
async fn collections_survive_restart_and_kill() {
    let mut s = TestServer::start();
    let mut c = s.client().await;
    make_all(&mut c, "").await;
    assert_eq!(call(&mut c, &["EXPIRE", "hash", "1000"]).await, int(1));
    s.restart();
    let mut c = s.client().await;
    for k in ["hash", "list", "set", "zset"] {
        assert_eq!(members(&mut c, k).await, vec!["a", "b"], "{k}");
    }
    assert!(call(&mut c, &["TTL", "hash"]).await.int() > 990);
    assert_eq!(call(&mut c, &["RPUSH", "list", "c"]).await, int(3));
    if s.is_strata() {
        s.kill9();
        s.start_again();
        let mut c = s.client().await;
        assert_eq!(call(&mut c, &["LRANGE", "list", "0", "-1"]).await, bulks(&["a", "b", "c"]));
        assert_eq!(call(&mut c, &["DBSIZE"]).await, int(4));
    }
}

#[tokio::test]
async fn movable_keys_are_found_by_command_getkeys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let getkeys = |args: &[&str]| {
        let mut v = vec!["COMMAND", "GETKEYS"];
        v.extend_from_slice(args);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    for (cmd, keys) in [
        (vec!["ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"], vec!["dst", "a", "b"]),
        (vec!["ZINTER", "2", "a", "b"], vec!["a", "b"]),
        (vec!["SINTERCARD", "3", "a", "b", "c", "LIMIT", "1"], vec!["a", "b", "c"]),
        (vec!["LMPOP", "2", "a", "b", "LEFT"], vec!["a", "b"]),
        (vec!["BLMPOP", "0", "1", "a", "LEFT"], vec!["a"]),
        (vec!["BZMPOP", "0", "2", "a", "b", "MIN", "COUNT", "2"], vec!["a", "b"]),
        (vec!["SORT", "k", "BY", "w_*", "LIMIT", "0", "1", "GET", "#", "STORE", "d"], vec!["k", "d"]),
        (vec!["SORT_RO", "k", "ALPHA"], vec!["k"]),
    ] {
        assert_eq!(call(&mut c, &getkeys(&cmd)).await, bulks(&keys), "{cmd:?}");
    }
    assert!(call(&mut c, &getkeys(&["ZUNION", "0", "a"])).await.is_err());
    let info = call(&mut c, &["COMMAND", "INFO", "zunionstore"]).await.array()[0].array();
    let flags: Vec<String> = info[2].array().iter().map(|f| f.text()).collect();
    assert_eq!(flags, vec!["write", "denyoom", "movablekeys"]);
}
