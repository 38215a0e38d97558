//! Transactions: MULTI/EXEC/DISCARD/WATCH/UNWATCH as a client sees them — queued replies,
//! per-command results inside EXEC, queue-time errors that abort the whole transaction, WATCH
//! invalidation (writes from anyone, expiry, flushes, SWAPDB, RENAME), isolation between
//! concurrent transactions and, on Strata, atomicity across a SIGKILL.
//!
//! Every test here also runs against the reference redis-server 7.0.15.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

const QUEUED: &str = "QUEUED";
const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

fn queued() -> Reply {
    status(QUEUED)
}

/// Runs `MULTI`, each command (asserting `+QUEUED`), then `EXEC`, and returns EXEC's reply.
async fn transaction(c: &mut redis::aio::MultiplexedConnection, cmds: &[&[&str]]) -> Reply {
    assert_eq!(call(c, &["MULTI"]).await, ok());
    for cmd in cmds {
        assert_eq!(call(c, cmd).await, queued(), "queueing {cmd:?}");
    }
    call(c, &["EXEC"]).await
}

/// [`transaction`] over a raw socket: the `redis` crate turns an EXEC reply holding an error
/// into an error of its own, so transactions with failing commands use this one.
fn raw_transaction(c: &mut RawConn, cmds: &[&[&str]]) -> Reply {
    assert_eq!(c.call(&["MULTI"]), ok());
    for cmd in cmds {
        assert_eq!(c.call(cmd), queued(), "queueing {cmd:?}");
    }
    c.call(&["EXEC"])
}

/// `MULTI; PING; EXEC` on a connection that watched something: `Nil` when the watch fired.
async fn exec_after_watch(c: &mut redis::aio::MultiplexedConnection) -> Reply {
    transaction(c, &[&["PING"]]).await
}

fn pong_exec() -> Reply {
    arr(vec![status("PONG")])
}

// ---- Queueing and EXEC replies ----------------------------------------------------------

#[tokio::test]
async fn commands_are_queued_and_exec_returns_every_reply() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(call(&mut c, &["INCR", "a"]).await, queued());
    assert_eq!(call(&mut c, &["GET", "a"]).await, queued());
    assert_eq!(call(&mut c, &["GET", "missing"]).await, queued());
    assert_eq!(call(&mut c, &["PING"]).await, queued());
    let reply = call(&mut c, &["EXEC"]).await;
    assert_eq!(reply, arr(vec![ok(), int(2), bulk("2"), nil(), status("PONG")]));
    // A queued write is not applied before EXEC.
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "b", "queued"]).await, queued());
    assert_eq!(call(&mut other, &["EXISTS", "b"]).await, int(0), "a queued write is not applied yet");
    assert_eq!(call(&mut c, &["EXEC"]).await, arr(vec![ok()]));
    assert_eq!(call(&mut other, &["GET", "b"]).await, bulk("queued"));
}

#[tokio::test]
async fn empty_transaction_returns_an_empty_array() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["EXEC"]).await, arr(vec![]));
}

#[test]
fn runtime_errors_do_not_abort_the_rest() {
    let s = TestServer::start();
    let mut c = s.raw();
    let reply = raw_transaction(
        &mut c,
        &[&["SET", "s", "x"], &["LPUSH", "s", "1"], &["INCR", "s"], &["APPEND", "s", "y"], &["GET", "s"]],
    );
    assert_eq!(reply, arr(vec![ok(), err(WRONGTYPE), err(NOT_INT), int(2), bulk("xy")]));
    assert_eq!(c.call(&["GET", "s"]), bulk("xy"));
}

#[tokio::test]
async fn unknown_command_while_queueing_aborts_exec() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(
        call(&mut c, &["FOO", "x", "y"]).await,
        err("ERR unknown command 'FOO', with args beginning with: 'x' 'y' ")
    );
    assert_eq!(call(&mut c, &["SET", "b", "2"]).await, queued(), "queueing goes on after the error");
    assert_eq!(call(&mut c, &["EXEC"]).await, err(EXECABORT));
    assert_eq!(call(&mut c, &["EXISTS", "a", "b"]).await, int(0), "nothing of the transaction ran");
    // The transaction is over.
    assert_eq!(call(&mut c, &["EXEC"]).await, err("ERR EXEC without MULTI"));
    assert_eq!(call(&mut c, &["SET", "c", "3"]).await, ok());
}

#[tokio::test]
async fn wrong_arity_while_queueing_aborts_exec() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["INCR", "n"]).await, queued());
    assert_eq!(call(&mut c, &["SET", "a"]).await, arity_err("set"));
    assert_eq!(call(&mut c, &["GET"]).await, arity_err("get"));
    assert_eq!(call(&mut c, &["EXEC"]).await, err(EXECABORT));
    assert_eq!(call(&mut c, &["EXISTS", "n"]).await, int(0));
}

#[tokio::test]
async fn exec_with_arguments_inside_multi_discards_the_transaction() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(
        call(&mut c, &["EXEC", "extra"]).await,
        err("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
    );
    assert_eq!(call(&mut c, &["EXEC"]).await, err("ERR EXEC without MULTI"));
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
}

#[tokio::test]
async fn discard_with_arguments_is_a_queue_time_error() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(call(&mut c, &["DISCARD", "extra"]).await, arity_err("discard"));
    assert_eq!(call(&mut c, &["EXEC"]).await, err(EXECABORT));
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
}

#[tokio::test]
async fn nested_multi_and_watch_inside_multi_are_errors_that_keep_the_transaction() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(call(&mut c, &["MULTI"]).await, err("ERR MULTI calls can not be nested"));
    assert_eq!(call(&mut c, &["WATCH", "a"]).await, err("ERR WATCH inside MULTI is not allowed"));
    assert_eq!(call(&mut c, &["INCR", "a"]).await, queued());
    // Neither error flags the transaction: it still executes.
    assert_eq!(call(&mut c, &["EXEC"]).await, arr(vec![ok(), int(2)]));
}

#[tokio::test]
async fn exec_and_discard_without_multi() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["EXEC"]).await, err("ERR EXEC without MULTI"));
    assert_eq!(call(&mut c, &["DISCARD"]).await, err("ERR DISCARD without MULTI"));
    assert_eq!(call(&mut c, &["MULTI", "x"]).await, arity_err("multi"));
    assert_eq!(call(&mut c, &["WATCH"]).await, arity_err("watch"));
    assert_eq!(call(&mut c, &["UNWATCH"]).await, ok(), "UNWATCH without WATCH is fine");
    assert_eq!(call(&mut c, &["UNWATCH", "x"]).await, arity_err("unwatch"));
}

#[tokio::test]
async fn discard_drops_the_queue() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(call(&mut c, &["DISCARD"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["EXEC"]).await, err("ERR EXEC without MULTI"));
    // A queue-time error is forgotten with the discarded transaction.
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(
        call(&mut c, &["NOSUCHCOMMAND"]).await,
        err("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ")
    );
    assert_eq!(call(&mut c, &["DISCARD"]).await, ok());
    assert_eq!(transaction(&mut c, &[&["SET", "a", "2"]]).await, arr(vec![ok()]));
}

#[tokio::test]
async fn no_multi_commands_are_refused_and_abort_the_transaction() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    // SHUTDOWN is flagged no-multi: refused at queue time, and the server keeps running.
    assert_eq!(call(&mut c, &["SHUTDOWN", "NOSAVE"]).await, err("ERR Command not allowed inside a transaction"));
    assert_eq!(call(&mut c, &["EXEC"]).await, err(EXECABORT));
    assert_eq!(call(&mut c, &["PING"]).await, status("PONG"));
    assert_eq!(call(&mut c, &["EXISTS", "a"]).await, int(0));
}

#[tokio::test]
async fn connection_commands_inside_multi_are_queued() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let reply = transaction(&mut c, &[&["SET", "a", "1"], &["PING"], &["ECHO", "hi"], &["UNWATCH"]]).await;
    assert_eq!(reply, arr(vec![ok(), status("PONG"), bulk("hi"), ok()]));
}

#[test]
fn quit_inside_multi_closes_without_executing() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "a", "1"]), queued());
    assert_eq!(c.call(&["QUIT"]), ok());
    c.expect_closed();
    let mut d = s.raw();
    assert_eq!(d.call(&["EXISTS", "a"]), int(0));
}

#[test]
fn reset_inside_multi_discards_and_unwatches() {
    let s = TestServer::start();
    let mut c = s.raw();
    let mut other = s.raw();
    assert_eq!(c.call(&["WATCH", "w"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "a", "1"]), queued());
    assert_eq!(c.call(&["RESET"]), status("RESET"));
    assert_eq!(c.call(&["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(other.call(&["EXISTS", "a"]), int(0));
    // The watch is gone too.
    assert_eq!(other.call(&["SET", "w", "x"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["PING"]), queued());
    assert_eq!(c.call(&["EXEC"]), arr(vec![status("PONG")]));
}

// ---- Transactions see their own writes ---------------------------------------------------

#[tokio::test]
async fn later_commands_see_earlier_writes_of_every_type() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let reply = transaction(
        &mut c,
        &[
            &["SET", "str", "v"],
            &["GET", "str"],
            &["LPUSH", "list", "a", "b"],
            &["LRANGE", "list", "0", "-1"],
            &["ZADD", "zset", "2", "two", "1", "one"],
            &["ZRANGE", "zset", "0", "-1", "WITHSCORES"],
            &["HSET", "hash", "f", "v"],
            &["HGETALL", "hash"],
            &["XADD", "stream", "1-1", "f", "v"],
            &["XRANGE", "stream", "-", "+"],
            &["INCR", "n"],
            &["INCR", "n"],
            &["SADD", "set", "m"],
            &["SMEMBERS", "set"],
        ],
    )
    .await;
    assert_eq!(
        reply,
        arr(vec![
            ok(),
            bulk("v"),
            int(2),
            bulks(&["b", "a"]),
            int(2),
            bulks(&["one", "1", "two", "2"]),
            int(1),
            bulks(&["f", "v"]),
            bulk("1-1"),
            arr(vec![arr(vec![bulk("1-1"), bulks(&["f", "v"])])]),
            int(1),
            int(2),
            int(1),
            bulks(&["m"]),
        ])
    );
}

#[test]
fn rename_chain_and_del_inside_a_transaction() {
    let s = TestServer::start();
    let mut c = s.raw();
    let reply = raw_transaction(
        &mut c,
        &[
            &["SET", "k1", "v"],
            &["RENAME", "k1", "k2"],
            &["RENAME", "k2", "k3"],
            &["EXISTS", "k1", "k2"],
            &["GET", "k3"],
            &["DEL", "k3"],
            &["EXISTS", "k3"],
            &["RENAME", "k3", "k4"],
        ],
    );
    assert_eq!(reply, arr(vec![ok(), ok(), ok(), int(0), bulk("v"), int(1), int(0), err("ERR no such key")]));
}

#[tokio::test]
async fn select_inside_multi_switches_the_database_for_later_commands_and_after() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let reply = transaction(
        &mut c,
        &[&["SET", "k", "db0"], &["SELECT", "3"], &["GET", "k"], &["SET", "k", "db3"], &["GET", "k"]],
    )
    .await;
    assert_eq!(reply, arr(vec![ok(), ok(), nil(), ok(), bulk("db3")]));
    // The connection stays in the database selected inside the transaction.
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("db3"));
    assert_eq!(call(&mut c, &["SELECT", "0"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("db0"));
}

#[tokio::test]
async fn a_thousand_queued_commands() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    for _ in 0..1000 {
        assert_eq!(call(&mut c, &["INCR", "n"]).await, queued());
    }
    let reply = call(&mut c, &["EXEC"]).await;
    assert_eq!(reply, arr((1..=1000).map(int).collect()));
    assert_eq!(call(&mut c, &["GET", "n"]).await, bulk("1000"));
}

#[tokio::test]
async fn blocking_commands_inside_multi_do_not_block() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let reply = transaction(
        &mut c,
        &[
            &["BLPOP", "empty", "0"],
            &["BRPOPLPUSH", "empty", "dst", "0"],
            &["BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0"],
            &["BZPOPMIN", "emptyz", "0"],
            &["XREAD", "BLOCK", "0", "STREAMS", "emptys", "$"],
            &["RPUSH", "full", "x"],
            &["BLPOP", "full", "0"],
        ],
    )
    .await;
    assert_eq!(reply, arr(vec![nil(), nil(), nil(), nil(), nil(), int(1), bulks(&["full", "x"])]));
    assert_eq!(blocked_clients(&mut c).await, 0);
}

// ---- RESP3 and raw protocol ----------------------------------------------------------------

#[test]
fn pipelined_transaction_in_one_write() {
    let s = TestServer::start();
    let mut c = s.raw();
    let mut bytes = Vec::new();
    for cmd in [&["MULTI"][..], &["SET", "k", "v"], &["GET", "k"], &["INCR", "k"], &["EXEC"], &["GET", "k"]] {
        bytes.extend_from_slice(&resp(cmd));
    }
    c.send(&bytes);
    c.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n");
    c.expect(b"*3\r\n+OK\r\n$1\r\nv\r\n-ERR value is not an integer or out of range\r\n");
    c.expect(b"$1\r\nv\r\n");
}

#[test]
fn resp3_exec_replies_keep_their_types() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.call(&["MULTI"]), ok());
    for cmd in [
        &["HSET", "h", "f", "v"][..],
        &["HGETALL", "h"],
        &["ZADD", "z", "1.5", "m"],
        &["ZSCORE", "z", "m"],
        &["SADD", "s", "x"],
        &["SMEMBERS", "s"],
        &["GET", "nope"],
    ] {
        assert_eq!(c.call(cmd), queued());
    }
    assert_eq!(
        c.call(&["EXEC"]),
        arr(vec![
            int(1),
            Reply::Map(vec![(bulk("f"), bulk("v"))]),
            int(1),
            Reply::Double(1.5),
            int(1),
            Reply::Set(vec![bulk("x")]),
            nil(),
        ])
    );
}

#[test]
fn failed_watch_is_a_null_array_in_resp2_and_a_null_in_resp3() {
    let s = TestServer::start();
    let mut other = s.raw();
    for (proto, null) in [("2", &b"*-1\r\n"[..]), ("3", &b"_\r\n"[..])] {
        let mut c = s.raw();
        assert!(!c.call(&["HELLO", proto]).is_err());
        assert_eq!(c.call(&["WATCH", "k"]), ok());
        assert_eq!(other.call(&["SET", "k", proto]), ok());
        assert_eq!(c.call(&["MULTI"]), ok());
        assert_eq!(c.call(&["SET", "k", "mine"]), queued());
        c.send(&resp(&["EXEC"]));
        c.expect(null);
        assert_eq!(other.call(&["GET", "k"]), bulk(proto), "the transaction did not run");
    }
}

// ---- WATCH ---------------------------------------------------------------------------------

#[tokio::test]
async fn watch_fires_on_a_write_from_another_connection() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "2"]).await, ok());
    assert_eq!(transaction(&mut c, &[&["SET", "k", "mine"]]).await, nil());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("2"));
    // EXEC ended the watch: the next transaction runs.
    assert_eq!(transaction(&mut c, &[&["SET", "k", "mine"]]).await, arr(vec![ok()]));
}

#[tokio::test]
async fn watch_fires_even_when_the_value_written_is_the_same() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "1"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, nil());
}

#[tokio::test]
async fn watch_fires_on_a_write_by_the_same_connection() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut c, &["INCR", "k"]).await, int(2));
    assert_eq!(exec_after_watch(&mut c).await, nil());
}

#[tokio::test]
async fn watch_fires_when_a_missing_key_is_created() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["RPUSH", "k", "x"]).await, int(1));
    assert_eq!(exec_after_watch(&mut c).await, nil());
}

#[tokio::test]
async fn watch_fires_on_del_rename_move_and_expire() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    let cases: &[(&[&str], &[&str])] = &[
        (&["SET", "k", "1"], &["DEL", "k"]),
        (&["SET", "k", "1"], &["UNLINK", "k"]),
        (&["SET", "k", "1"], &["RENAME", "k", "elsewhere"]),
        (&["SET", "src", "1"], &["RENAME", "src", "k"]),
        (&["SET", "k", "1"], &["MOVE", "k", "1"]),
        (&["SET", "k", "1"], &["EXPIRE", "k", "100"]),
        (&["SET", "k", "1"], &["GETDEL", "k"]),
        (&["SADD", "k", "a"], &["SADD", "k", "b"]),
        (&["HSET", "k", "f", "v"], &["HDEL", "k", "f"]),
        (&["ZADD", "k", "1", "m"], &["ZINCRBY", "k", "1", "m"]),
        (&["RPUSH", "k", "a"], &["LPOP", "k"]),
    ];
    for (setup, write) in cases {
        assert_eq!(call(&mut c, &["FLUSHALL"]).await, ok());
        assert!(!call(&mut c, setup).await.is_err(), "{setup:?}");
        assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
        assert!(!call(&mut other, write).await.is_err(), "{write:?}");
        assert_eq!(exec_after_watch(&mut c).await, nil(), "after {setup:?} then {write:?}");
    }
}

#[test]
fn watch_fires_on_writes_from_transactions_scripts_and_functions() {
    let s = TestServer::start();
    let mut c = s.raw();
    let mut other = s.raw();
    let library =
        "#!lua name=t\nredis.register_function('touch', function(keys) return redis.call('SET', keys[1], 'f') end)";
    assert_eq!(other.call(&["FUNCTION", "LOAD", library]), bulk("t"));
    let writers: [&[&str]; 4] = [
        &["EVAL", "return redis.call('SET', KEYS[1], 'e')", "1", "k"],
        &["EVAL", "return redis.call('SET', 'k', 'undeclared')", "0"],
        &["FCALL", "touch", "1", "k"],
        &["MSET", "a", "1", "k", "2"],
    ];
    for writer in writers {
        assert_eq!(c.call(&["WATCH", "k"]), ok());
        assert!(!other.call(writer).is_err(), "{writer:?}");
        assert_eq!(raw_transaction(&mut c, &[&["PING"]]), nil(), "after {writer:?}");
    }
    // Another client's transaction.
    assert_eq!(c.call(&["WATCH", "k"]), ok());
    assert_eq!(raw_transaction(&mut other, &[&["GET", "k"], &["SET", "k", "t"]]), arr(vec![bulk("2"), ok()]));
    assert_eq!(raw_transaction(&mut c, &[&["PING"]]), nil());
    // A read-only script does not fire it.
    assert_eq!(c.call(&["WATCH", "k"]), ok());
    assert_eq!(other.call(&["EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k"]), bulk("t"));
    assert_eq!(raw_transaction(&mut c, &[&["PING"]]), pong_exec());
}

#[tokio::test]
async fn watch_is_not_fired_by_reads_other_keys_or_writes_that_change_nothing() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["SADD", "set", "a"]).await, int(1));
    assert_eq!(call(&mut c, &["WATCH", "k", "set", "absent"]).await, ok());
    assert_eq!(call(&mut other, &["GET", "k"]).await, bulk("1"));
    assert_eq!(call(&mut other, &["EXISTS", "k", "absent"]).await, int(1));
    assert_eq!(call(&mut other, &["SMEMBERS", "set"]).await, bulks(&["a"]));
    assert_eq!(call(&mut other, &["SET", "unrelated", "x"]).await, ok());
    assert_eq!(call(&mut other, &["DEL", "absent"]).await, int(0));
    // Failed or no-op writes do not touch the key.
    assert_eq!(call(&mut other, &["LPUSH", "k", "x"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut other, &["SREM", "set", "zzz"]).await, int(0));
    assert_eq!(call(&mut other, &["PERSIST", "k"]).await, int(0));
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
}

#[tokio::test]
async fn watch_in_another_database_is_separate() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["SELECT", "2"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "db0"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec(), "a write in db 0 leaves db 2's watch");
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SELECT", "2"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "db2"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, nil());
}

#[tokio::test]
async fn watch_fires_when_the_key_expires() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1", "PX", "300"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    // Nobody writes the key; it only expires.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(exec_after_watch(&mut c).await, nil());
}

#[tokio::test]
async fn watching_an_already_expired_key_does_not_fire() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1", "PX", "1"]).await, ok());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
}

#[tokio::test]
async fn watch_fires_on_flushall_and_flushdb_when_the_key_existed() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    for flush in [&["FLUSHALL"][..], &["FLUSHDB"], &["FLUSHALL", "ASYNC"], &["FLUSHDB", "SYNC"]] {
        assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
        assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
        assert_eq!(call(&mut other, flush).await, ok());
        assert_eq!(exec_after_watch(&mut c).await, nil(), "{flush:?}");
    }
    // A flush that removes nothing watched leaves the watch alone.
    for flush in [&["FLUSHALL"][..], &["FLUSHDB"]] {
        assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
        assert_eq!(call(&mut other, flush).await, ok());
        assert_eq!(exec_after_watch(&mut c).await, pong_exec(), "{flush:?} of an empty db");
    }
    // FLUSHDB of another database leaves the watch alone.
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SELECT", "5"]).await, ok());
    assert_eq!(call(&mut other, &["FLUSHDB"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
}

#[tokio::test]
async fn watch_fires_on_swapdb_when_the_key_changes_side() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    // The watched key exists and is swapped away.
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SWAPDB", "0", "1"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, nil());
    // The watched key is missing and one arrives with the other database.
    assert_eq!(call(&mut c, &["FLUSHALL"]).await, ok());
    assert_eq!(call(&mut other, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SWAPDB", "0", "1"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, nil());
    // Missing on both sides: nothing changes for the key.
    assert_eq!(call(&mut c, &["FLUSHALL"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SWAPDB", "0", "1"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
}

#[tokio::test]
async fn the_transaction_may_write_its_own_watched_key() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(transaction(&mut c, &[&["INCR", "k"], &["INCR", "k"]]).await, arr(vec![int(2), int(3)]));
}

#[tokio::test]
async fn unwatch_discard_and_exec_forget_the_watched_keys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    // UNWATCH
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut c, &["UNWATCH"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "1"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
    // DISCARD
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["DISCARD"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "2"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
    // EXEC (a successful one)
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
    assert_eq!(call(&mut other, &["SET", "k", "3"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
    // EXEC that failed because of the watch
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "4"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, nil());
    assert_eq!(call(&mut other, &["SET", "k", "5"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
}

#[tokio::test]
async fn queue_time_error_wins_over_a_fired_watch_and_both_unwatch() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "1"]).await, ok());
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert!(call(&mut c, &["NOSUCHCOMMAND"]).await.is_err());
    assert_eq!(call(&mut c, &["EXEC"]).await, err(EXECABORT));
    assert_eq!(call(&mut other, &["SET", "k", "2"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, pong_exec());
}

#[tokio::test]
async fn watch_several_keys_one_touched_is_enough() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["WATCH", "a", "b"]).await, ok());
    assert_eq!(call(&mut c, &["WATCH", "c"]).await, ok(), "WATCH adds to the watched set");
    assert_eq!(call(&mut other, &["SET", "c", "1"]).await, ok());
    assert_eq!(exec_after_watch(&mut c).await, nil());
}

// ---- Concurrency ---------------------------------------------------------------------------

/// 8 clients × 200 pipelined `MULTI; INCR a; INCR b; EXEC`: no other command runs between the
/// two INCRs, so each EXEC sees the same value twice, and no increment is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transactions_are_isolated() {
    let s = TestServer::start();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut c = s.client().await;
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..200 {
                let mut pipe = redis::pipe();
                pipe.cmd("MULTI").cmd("INCR").arg("a").cmd("INCR").arg("b").cmd("EXEC");
                let replies: Vec<redis::Value> = pipe.query_async(&mut c).await.expect("pipeline");
                let replies: Vec<Reply> = replies.into_iter().map(to_reply).collect();
                assert_eq!(replies[..3], [ok(), queued(), queued()]);
                let exec = replies[3].array();
                assert_eq!(exec.len(), 2);
                assert_eq!(exec[0], exec[1], "another client's INCR ran inside a transaction");
                seen.push(exec[0].int());
            }
            seen
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for n in t.await.expect("client task") {
            assert!(all.insert(n), "two transactions saw a = {n}");
        }
    }
    assert_eq!(all, (1..=1600).collect::<BTreeSet<i64>>());
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MGET", "a", "b"]).await, bulks(&["1600", "1600"]));
}

/// The optimistic-locking recipe: WATCH, read, MULTI, write, EXEC, retry on nil. With 4
/// clients adding 50 each the counter ends exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_based_compare_and_set_loop_is_exact() {
    let s = TestServer::start();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut c = s.client().await;
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                loop {
                    assert_eq!(call(&mut c, &["WATCH", "counter"]).await, ok());
                    let current = match call(&mut c, &["GET", "counter"]).await {
                        Reply::Nil => 0,
                        other => other.text().parse::<i64>().expect("number"),
                    };
                    let next = (current + 1).to_string();
                    match transaction(&mut c, &[&["SET", "counter", &next]]).await {
                        Reply::Nil => continue, // somebody else won: read again
                        r => {
                            assert_eq!(r, arr(vec![ok()]));
                            break;
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GET", "counter"]).await, bulk("200"));
}

// ---- Crash atomicity -----------------------------------------------------------------------

/// Clients stream `MULTI; SET k:<id> v; INCR cnt; RPUSH log <id>; EXEC` until the server is
/// SIGKILLed. After a restart each transaction is there whole or not at all, and every
/// acknowledged one is there. Both servers run with `appendfsync always`; Redis replays a
/// transaction cut short in its AOF as nothing, which makes the check meaningful on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_atomic_across_kill9() {
    atomic_across_kill9(|id| {
        let mut pipe = redis::pipe();
        pipe.cmd("MULTI")
            .cmd("SET")
            .arg(format!("k:{id}"))
            .arg(format!("v:{id}"))
            .cmd("INCR")
            .arg("cnt")
            .cmd("RPUSH")
            .arg("log")
            .arg(id)
            .cmd("EXEC");
        pipe
    })
    .await;
}

/// The same with the three writes made by one script, whose keys are undeclared (built from its
/// arguments, as BullMQ's scripts do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_are_atomic_across_kill9() {
    atomic_across_kill9(|id| {
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL")
            .arg(
                "redis.call('SET', 'k:' .. ARGV[1], 'v:' .. ARGV[1]) redis.call('INCR', 'cnt') \
                 return redis.call('RPUSH', 'log', ARGV[1])",
            )
            .arg(0)
            .arg(id);
        pipe
    })
    .await;
}

/// Runs `write(id)` (one atomic unit writing `k:<id>`, `cnt` and `log`) from several clients
/// until the server is SIGKILLed, restarts it and checks every unit is there whole or not at
/// all, and every acknowledged one is there.
async fn atomic_across_kill9(write: fn(&str) -> redis::Pipeline) {
    let mut s = TestServer::start_with(&["--appendfsync", "always"]);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for client in 0..4 {
        let mut c = s.client().await;
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..1_000_000u64 {
                let id = format!("{client}:{i}");
                match write(&id).query_async::<Vec<redis::Value>>(&mut c).await {
                    Ok(_) => acked.lock().unwrap().push(id),
                    Err(_) => return,
                }
            }
        }));
    }
    s.kill9_while(Duration::from_millis(700), tasks).await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.len() >= 4, "only {} transactions acknowledged", acked.len());
    s.start_again();
    let mut c = s.client().await;
    let log: Vec<String> = call(&mut c, &["LRANGE", "log", "0", "-1"]).await.strings();
    let log_set: BTreeSet<String> = log.iter().cloned().collect();
    assert_eq!(log_set.len(), log.len(), "an id appears twice in the log");
    let cnt = match call(&mut c, &["GET", "cnt"]).await {
        Reply::Nil => 0,
        r => r.text().parse::<usize>().expect("cnt is a number"),
    };
    assert_eq!(cnt, log.len(), "cnt and LLEN log disagree");
    let keys: BTreeSet<String> =
        call(&mut c, &["KEYS", "k:*"]).await.strings().into_iter().map(|k| k["k:".len()..].to_string()).collect();
    assert_eq!(keys, log_set, "keys without a log entry or log entries without a key");
    for chunk in log.chunks(500) {
        let mut args = vec!["MGET".to_string()];
        args.extend(chunk.iter().map(|id| format!("k:{id}")));
        let values = call(&mut c, &args).await.strings();
        for (id, v) in chunk.iter().zip(values) {
            assert_eq!(v, format!("v:{id}"));
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !log_set.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged transactions lost, first: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test]
async fn dbsize_inside_a_transaction_counts_its_own_writes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "old", "1"]).await, ok());
    let reply =
        transaction(&mut c, &[&["SET", "a", "1"], &["SET", "b", "1", "EX", "100"], &["DEL", "old"], &["DBSIZE"]]).await;
    assert_eq!(reply, arr(vec![ok(), ok(), int(1), int(2)]));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(2));
}

#[tokio::test]
async fn client_list_shows_the_transaction_being_queued() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let field = |line: &str, name: &str| -> String {
        line.split(' ').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap_or_default().to_string()
    };
    let info = call(&mut c, &["CLIENT", "INFO"]).await.text();
    assert_eq!((field(&info, "multi"), field(&info, "flags")), ("-1".into(), "N".into()));
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "a", "1"]).await, queued());
    assert_eq!(call(&mut c, &["SET", "b", "1"]).await, queued());
    // CLIENT INFO itself is queued: look from another connection.
    let mut other = s.client().await;
    let list = call(&mut other, &["CLIENT", "LIST"]).await.text();
    let line = list.lines().find(|l| field(l, "multi") != "-1").expect("a client in MULTI");
    assert_eq!((field(line, "multi"), field(line, "flags")), ("2".into(), "x".into()));
    assert_eq!(call(&mut c, &["EXEC"]).await, arr(vec![ok(), ok()]));
    let info = call(&mut c, &["CLIENT", "INFO"]).await.text();
    assert_eq!(field(&info, "multi"), "-1");
}

#[tokio::test]
async fn stream_group_state_written_earlier_in_the_transaction_is_seen() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XADD", "s", "1-1", "f", "v"]).await.text(), "1-1");
    let reply = transaction(
        &mut c,
        &[
            &["XGROUP", "CREATE", "s", "g", "0"],
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
            &["XPENDING", "s", "g"],
            &["XINFO", "GROUPS", "s"],
        ],
    )
    .await;
    let parts = reply.array();
    assert_eq!(parts[0], ok());
    let pending = parts[2].array();
    assert_eq!(pending[0], int(1), "XPENDING sees the entry XREADGROUP just delivered: {pending:?}");
    assert_eq!(parts[3].array().len(), 1, "XINFO GROUPS sees the group just created");
}

#[tokio::test]
async fn a_queued_unwatch_does_not_save_a_broken_watch() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    assert_eq!(call(&mut c, &["WATCH", "k"]).await, ok());
    assert_eq!(call(&mut other, &["SET", "k", "theirs"]).await, ok());
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "k", "mine"]).await, queued());
    assert_eq!(call(&mut c, &["UNWATCH"]).await, queued());
    assert_eq!(call(&mut c, &["EXEC"]).await, nil());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("theirs"));
}

#[tokio::test]
async fn keys_and_scan_inside_a_transaction_see_its_own_writes() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for k in ["a", "b", "old"] {
        assert_eq!(call(&mut c, &["SET", k, "1"]).await, ok());
    }
    let reply =
        transaction(&mut c, &[&["SET", "new", "1"], &["DEL", "old"], &["KEYS", "*"], &["SCAN", "0", "COUNT", "1000"]])
            .await;
    let parts = reply.array();
    let mut keys = parts[2].strings();
    keys.sort();
    assert_eq!(keys, ["a", "b", "new"]);
    let scan = parts[3].array();
    assert_eq!(scan[0].text(), "0");
    let mut scanned = scan[1].strings();
    scanned.sort();
    assert_eq!(scanned, ["a", "b", "new"]);
}
