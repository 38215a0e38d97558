//! The execution model seen from outside: a command whose data is not in memory runs on the
//! blocking pool (counted in INFO as `strata_disk_reads_offloaded`) and still answers correctly.

mod common;

use common::*;

fn info_field(info: &str, name: &str) -> Option<u64> {
    info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn reads_that_need_the_disk_are_offloaded_and_correct() {
    if target_is_redis() {
        return;
    }
    // No block cache: after a restart every read of a flushed table needs the disk.
    let mut s = TestServer::start_with(&["--rocksdb-block-cache-size", "0"]);
    {
        let mut c = s.client().await;
        for i in 0..200 {
            assert_eq!(call(&mut c, &["SET", &format!("k{i}"), &format!("v{i}")]).await, ok());
        }
    }
    // A clean shutdown flushes the memtables, so the data is only in table files now.
    s.restart();
    let mut c = s.client().await;
    for i in (0..200).step_by(7) {
        assert_eq!(call(&mut c, &["GET", &format!("k{i}")]).await, bulk(format!("v{i}")));
    }
    assert_eq!(call(&mut c, &["INCR", "k-counter"]).await, int(1));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(201));
    let info = call(&mut c, &["INFO", "stats"]).await.text();
    let offloaded = info_field(&info, "strata_disk_reads_offloaded").expect("field in INFO stats");
    assert!(offloaded >= 1, "no read was offloaded:\n{info}");
}

/// A pipeline whose commands need the disk: the shared write stops at the first such command,
/// the rest run one by one, and every reply is what running them alone would give.
#[test]
fn pipelines_that_need_the_disk_still_answer_in_order() {
    if target_is_redis() {
        return;
    }
    let mut s = TestServer::start_with(&["--rocksdb-block-cache-size", "0"]);
    {
        let mut c = s.raw();
        let mut bytes = Vec::new();
        for i in 0..50 {
            bytes.extend_from_slice(&resp(&["SET", &format!("n{i}"), &i.to_string()]));
        }
        c.send(&bytes);
        for _ in 0..50 {
            c.expect(b"+OK\r\n");
        }
    }
    s.restart();
    let mut c = s.raw();
    let mut bytes = Vec::new();
    for i in 0..50 {
        bytes.extend_from_slice(&resp(&["INCR", &format!("n{i}")]));
        bytes.extend_from_slice(&resp(&["GET", &format!("n{i}")]));
    }
    bytes.extend_from_slice(&resp(&["DBSIZE"]));
    c.send(&bytes);
    for i in 0..50 {
        c.expect(format!(":{}\r\n", i + 1).as_bytes());
        let v = (i + 1).to_string();
        c.expect(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
    }
    c.expect(b":50\r\n");
}

/// Writes past a tiny memtable budget: those that would wait for a flush on a network thread
/// move to the blocking pool (like a disk read) and every one of them is there afterwards.
#[test]
fn writes_past_the_memtable_budget_wait_and_all_land() {
    if target_is_redis() {
        return;
    }
    let s = TestServer::start_with(&["--rocksdb-memtable-budget", "1mb"]);
    let mut c = s.raw();
    let value = "x".repeat(1000);
    for round in 0..8 {
        let mut bytes = Vec::new();
        for i in 0..1000 {
            bytes.extend_from_slice(&resp(&["SET", &format!("k{round}:{i}"), &value]));
        }
        c.send(&bytes);
        for _ in 0..1000 {
            c.expect(b"+OK\r\n");
        }
    }
    c.send(&resp(&["DBSIZE"]));
    c.expect(b":8000\r\n");
    c.send(&resp(&["STRLEN", "k0:0"]));
    c.expect(b":1000\r\n");
    let info = c.call(&["INFO", "memory"]).text();
    let budget = info_field(&info, "rocksdb_memtable_budget").expect("field in INFO memory");
    assert_eq!(budget, 1 << 20);
    let bytes = info_field(&info, "rocksdb_memtable_bytes").expect("field in INFO memory");
    assert!(bytes <= budget + budget / 4, "memtables hold {bytes} bytes:\n{info}");
}
