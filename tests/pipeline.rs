//! Pipelines: consecutive key commands of one socket read share one storage write. Whatever the
//! grouping, every command must behave as if it ran alone, in order.

mod common;

use common::*;
use std::time::Duration;

/// Sends all `cmds` in one write.
fn pipeline(conn: &mut RawConn, cmds: &[&[&str]]) {
    let mut bytes = Vec::new();
    for c in cmds {
        bytes.extend_from_slice(&resp(c));
    }
    conn.send(&bytes);
}

#[test]
fn commands_in_one_pipeline_see_each_others_writes() {
    let s = TestServer::start();
    let mut c = s.raw();
    pipeline(
        &mut c,
        &[
            &["SET", "a", "1"],
            &["INCR", "a"],
            &["INCRBY", "a", "10"],
            &["GET", "a"],
            &["APPEND", "a", "x"],
            &["GET", "a"],
            &["DEL", "a"],
            &["GET", "a"],
            &["EXISTS", "a"],
            &["SET", "b", "v", "NX"],
            &["SET", "b", "w", "NX"],
            &["GETSET", "b", "z"],
            &["EXPIRE", "b", "100"],
            &["TTL", "b"],
            &["RENAME", "b", "c"],
            &["GET", "c"],
            &["TTL", "c"],
            &["EXISTS", "b", "c"],
            &["MSET", "m1", "1", "m2", "2"],
            &["MGET", "m1", "m2", "c"],
            &["MSETNX", "m2", "x", "m3", "y"],
            &["TYPE", "m1"],
            &["PERSIST", "c"],
            &["TTL", "c"],
            &["GETDEL", "m1"],
            &["STRLEN", "m2"],
        ],
    );
    c.expect(b"+OK\r\n:2\r\n:12\r\n$2\r\n12\r\n:3\r\n$3\r\n12x\r\n:1\r\n$-1\r\n:0\r\n");
    c.expect(b"+OK\r\n$-1\r\n$1\r\nv\r\n:1\r\n:100\r\n+OK\r\n$1\r\nz\r\n:100\r\n:1\r\n");
    c.expect(b"+OK\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\nz\r\n:0\r\n+string\r\n:1\r\n:-1\r\n$1\r\n1\r\n:1\r\n");
    // The next read sees the pipeline's writes, and the key counters are exact.
    c.send(&resp(&["DBSIZE"]));
    c.expect(b":2\r\n");
    c.send(&resp(&["MGET", "a", "b", "c", "m1", "m2", "m3"]));
    c.expect(b"*6\r\n$-1\r\n$-1\r\n$1\r\nz\r\n$-1\r\n$1\r\n2\r\n$-1\r\n");
}

#[test]
fn pipeline_with_a_select_in_the_middle_writes_each_database() {
    let s = TestServer::start();
    let mut c = s.raw();
    pipeline(
        &mut c,
        &[&["SET", "k", "zero"], &["SET", "j", "zero"], &["SELECT", "1"], &["SET", "k", "one"], &["GET", "k"]],
    );
    c.expect(b"+OK\r\n+OK\r\n+OK\r\n+OK\r\n$3\r\none\r\n");
    pipeline(&mut c, &[&["SELECT", "0"], &["GET", "k"], &["DBSIZE"], &["SELECT", "1"], &["DBSIZE"]]);
    c.expect(b"+OK\r\n$4\r\nzero\r\n:2\r\n+OK\r\n:1\r\n");
}

#[test]
fn errors_inside_a_pipeline_do_not_stop_the_rest() {
    let s = TestServer::start();
    let mut c = s.raw();
    pipeline(
        &mut c,
        &[&["SET", "n", "abc"], &["INCR", "n"], &["SET", "n", "5"], &["INCR", "n"], &["GET"], &["GET", "n"]],
    );
    c.expect(b"+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n:6\r\n");
    c.expect(b"-ERR wrong number of arguments for 'get' command\r\n$1\r\n6\r\n");
}

#[test]
fn expired_keys_inside_a_pipeline() {
    let s = TestServer::start();
    let mut c = s.raw();
    pipeline(&mut c, &[&["SET", "e", "v", "PX", "20"], &["SET", "f", "v"]]);
    c.expect(b"+OK\r\n+OK\r\n");
    std::thread::sleep(Duration::from_millis(40));
    pipeline(&mut c, &[&["GET", "e"], &["EXISTS", "e", "f"], &["SET", "e", "again"], &["GET", "e"], &["TTL", "e"]]);
    c.expect(b"$-1\r\n:1\r\n+OK\r\n$5\r\nagain\r\n:-1\r\n");
    c.send(&resp(&["DBSIZE"]));
    c.expect(b":2\r\n");
}

/// Many clients pipelining INCRs of the same few keys: no increment may be lost, whatever the
/// pipelines' grouping and interleaving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pipelines_lose_no_update() {
    let s = TestServer::start_with(&["--io-threads", "2"]);
    let clients = 8;
    let rounds = 50;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut c = s.client().await;
        tasks.push(tokio::spawn(async move {
            for round in 0..rounds {
                let mut pipe = redis::pipe();
                for i in 0..20 {
                    pipe.cmd("INCR").arg(format!("counter:{}", (round + i) % 3));
                    pipe.cmd("SET").arg(format!("last:{i}")).arg(round);
                }
                pipe.query_async::<Vec<redis::Value>>(&mut c).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut c = s.client().await;
    let mut total = 0;
    for k in 0..3 {
        let key = format!("counter:{k}");
        total += call(&mut c, &["GET", key.as_str()]).await.text().parse::<i64>().unwrap();
    }
    assert_eq!(total, clients * rounds * 20);
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(23));
}
