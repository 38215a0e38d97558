//! Backups: SAVE, BGSAVE [SCHEDULE], LASTSAVE and INFO persistence's `rdb_*` fields, a failing
//! save, and a restore from Strata's checkpoint (`<dir>/checkpoint`) on a second server.
//!
//! The command replies run against the reference redis-server too (`STRATA_TEST_TARGET=redis`);
//! the restore from a checkpoint directory is Strata's.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

async fn persistence(c: &mut redis::aio::MultiplexedConnection) -> HashMap<String, String> {
    info_fields(&call(c, &["INFO", "persistence"]).await.text())
}

fn field(info: &HashMap<String, String>, name: &str) -> i64 {
    info.get(name).unwrap_or_else(|| panic!("INFO has no {name}")).parse().expect("integer field")
}

/// Waits until no background save runs (the deadline only guards against a hang).
async fn wait_bgsave_done(c: &mut redis::aio::MultiplexedConnection) -> HashMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info = persistence(c).await;
        if field(&info, "rdb_bgsave_in_progress") == 0 {
            return info;
        }
        assert!(Instant::now() < deadline, "BGSAVE still running after a minute");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Puts something where the server's save must go, so that saving fails: a file where Strata's
/// checkpoint directory goes; a non-empty directory where Redis's dump.rdb goes.
fn obstruct_save(s: &TestServer) {
    if s.is_strata() {
        std::fs::write(s.dir.join("checkpoint"), b"in the way").unwrap();
    } else {
        std::fs::create_dir_all(s.dir.join("dump.rdb").join("in-the-way")).unwrap();
    }
}

fn clear_obstruction(s: &TestServer) {
    if s.is_strata() {
        std::fs::remove_file(s.dir.join("checkpoint")).unwrap();
    } else {
        std::fs::remove_dir_all(s.dir.join("dump.rdb")).unwrap();
    }
}

#[tokio::test]
async fn save_bgsave_and_lastsave_reply_as_redis() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let started = call(&mut c, &["LASTSAVE"]).await.int();
    let info = persistence(&mut c).await;
    assert_eq!(field(&info, "rdb_last_save_time"), started);
    assert_eq!(field(&info, "rdb_bgsave_in_progress"), 0);
    assert_eq!(field(&info, "rdb_last_bgsave_time_sec"), -1);
    assert_eq!(field(&info, "rdb_current_bgsave_time_sec"), -1);
    assert_eq!(field(&info, "rdb_saves"), 0);
    assert_eq!(info["rdb_last_bgsave_status"], "ok");

    for i in 0..50 {
        assert_eq!(call(&mut c, &["SET", &format!("k{i}"), "v"]).await, ok());
    }
    assert!(field(&persistence(&mut c).await, "rdb_changes_since_last_save") >= 50);
    // LASTSAVE counts seconds: let one pass so that the save moves it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(&mut c, &["SAVE"]).await, ok());
    let saved = call(&mut c, &["LASTSAVE"]).await.int();
    assert!(saved > started, "LASTSAVE {saved} after SAVE, {started} at start");
    let info = persistence(&mut c).await;
    assert_eq!(field(&info, "rdb_changes_since_last_save"), 0);
    assert_eq!(field(&info, "rdb_last_save_time"), saved);
    assert_eq!(field(&info, "rdb_saves"), 1);
    assert_eq!(field(&info, "rdb_last_bgsave_time_sec"), -1, "SAVE is not a background save");
    assert_eq!(call(&mut c, &["SAVE", "x"]).await, err("ERR wrong number of arguments for 'save' command"));
    assert_eq!(call(&mut c, &["LASTSAVE", "x"]).await, err("ERR wrong number of arguments for 'lastsave' command"));
    assert_eq!(call(&mut c, &["BGSAVE", "NOW"]).await, err("ERR syntax error"));

    // One save at a time: sent together, the later ones find the first still running.
    assert_eq!(call(&mut c, &["SET", "more", "data"]).await, ok());
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    pipe.cmd("BGSAVE").cmd("BGSAVE").cmd("BGSAVE").arg("SCHEDULE").cmd("SAVE");
    let replies: Vec<Reply> = match pipe.query_async::<Vec<redis::Value>>(&mut c).await {
        Ok(v) => v.into_iter().map(to_reply).collect(),
        Err(e) => panic!("pipeline failed: {e:?}"),
    };
    assert_eq!(replies[0], status("Background saving started"));
    for r in &replies[1..] {
        assert_eq!(*r, err("ERR Background save already in progress"));
    }
    let info = wait_bgsave_done(&mut c).await;
    assert_eq!(info["rdb_last_bgsave_status"], "ok");
    assert!(field(&info, "rdb_last_bgsave_time_sec") >= 0);
    assert_eq!(field(&info, "rdb_current_bgsave_time_sec"), -1);
    assert_eq!(field(&info, "rdb_saves"), 2);
    assert!(field(&info, "rdb_last_save_time") >= saved);

    // With nothing running, SCHEDULE starts one at once.
    assert_eq!(call(&mut c, &["BGSAVE", "SCHEDULE"]).await, status("Background saving started"));
    let info = wait_bgsave_done(&mut c).await;
    assert_eq!(field(&info, "rdb_saves"), 3);
    assert_eq!(call(&mut c, &["CONFIG", "RESETSTAT"]).await, ok());
    assert_eq!(field(&persistence(&mut c).await, "rdb_saves"), 0);

    let cmd = call(&mut c, &["COMMAND", "INFO", "save", "bgsave", "lastsave"]).await.array();
    let flags = |i: usize| -> Vec<String> { cmd[i].array()[2].array().iter().map(Reply::text).collect() };
    assert_eq!(flags(0), ["admin", "noscript", "no_async_loading", "no_multi"]);
    assert_eq!(flags(1), ["admin", "noscript", "no_async_loading"]);
    assert_eq!(flags(2), ["loading", "stale", "fast"]);
    assert_eq!(cmd[1].array()[1], int(-1));

    // Inside a transaction Redis answers "scheduled" (last: Redis starts it after EXEC).
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    assert_eq!(call(&mut c, &["BGSAVE"]).await, status("QUEUED"));
    assert_eq!(call(&mut c, &["EXEC"]).await, Reply::Array(vec![status("Background saving scheduled")]));
}

#[tokio::test]
async fn a_failing_save_is_an_error_and_the_server_keeps_serving() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    let before = call(&mut c, &["LASTSAVE"]).await.int();
    obstruct_save(&s);
    // Redis's SAVE answers a bare -ERR (the reason goes to the log) and keeps the bgsave status.
    assert_eq!(call(&mut c, &["SAVE"]).await, err("ERR"));
    assert_eq!(persistence(&mut c).await["rdb_last_bgsave_status"], "ok");
    assert_eq!(call(&mut c, &["BGSAVE"]).await, status("Background saving started"));
    let info = wait_bgsave_done(&mut c).await;
    assert_eq!(info["rdb_last_bgsave_status"], "err");
    assert_eq!(field(&info, "rdb_last_save_time"), before);
    assert!(field(&info, "rdb_changes_since_last_save") >= 1);
    assert_eq!(call(&mut c, &["LASTSAVE"]).await, int(before));
    assert_eq!(call(&mut c, &["SET", "k2", "v2"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    assert_eq!(call(&mut c, &["GET", "k2"]).await, bulk("v2"));

    clear_obstruction(&s);
    assert_eq!(call(&mut c, &["BGSAVE"]).await, status("Background saving started"));
    let info = wait_bgsave_done(&mut c).await;
    assert_eq!(info["rdb_last_bgsave_status"], "ok");
    assert_eq!(field(&info, "rdb_changes_since_last_save"), 0);
    assert!(field(&info, "rdb_last_save_time") >= before);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

async fn write_every_type(c: &mut redis::aio::MultiplexedConnection) {
    assert_eq!(call(c, &["SET", "str", "plain"]).await, ok());
    assert_eq!(call(c, &["SET", "ttl", "expiring", "EX", "1000"]).await, ok());
    assert_eq!(call(c, &["HSET", "hash", "f1", "v1", "f2", "v2"]).await, int(2));
    assert_eq!(call(c, &["PEXPIRE", "hash", "2000000"]).await, int(1));
    assert_eq!(call(c, &["RPUSH", "list", "a", "b", "c"]).await, int(3));
    assert_eq!(call(c, &["SADD", "set", "x", "y"]).await, int(2));
    assert_eq!(call(c, &["ZADD", "zset", "1", "one", "2.5", "two"]).await, int(2));
    assert_eq!(call(c, &["XADD", "stream", "1-1", "f", "a"]).await, bulk("1-1"));
    assert_eq!(call(c, &["XADD", "stream", "2-1", "f", "b"]).await, bulk("2-1"));
    assert_eq!(call(c, &["XGROUP", "CREATE", "stream", "grp", "0"]).await, ok());
    let read = call(c, &["XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "stream", ">"]).await;
    assert!(matches!(read, Reply::Array(ref a) if a.len() == 1), "{read:?}");
    assert_eq!(call(c, &["SELECT", "3"]).await, ok());
    assert_eq!(call(c, &["SET", "in-db-3", "three"]).await, ok());
    assert_eq!(call(c, &["SELECT", "0"]).await, ok());
}

/// Changes every key after the save: none of this may be in the checkpoint.
async fn write_after_the_save(c: &mut redis::aio::MultiplexedConnection) {
    assert_eq!(call(c, &["SET", "str", "changed"]).await, ok());
    assert_eq!(call(c, &["PERSIST", "ttl"]).await, int(1));
    assert_eq!(call(c, &["HSET", "hash", "f3", "v3"]).await, int(1));
    assert_eq!(call(c, &["RPOP", "list"]).await, bulk("c"));
    assert_eq!(call(c, &["SREM", "set", "x"]).await, int(1));
    assert_eq!(call(c, &["ZADD", "zset", "9", "one"]).await, int(0));
    assert_eq!(call(c, &["XADD", "stream", "3-1", "f", "c"]).await, bulk("3-1"));
    assert_eq!(call(c, &["XACK", "stream", "grp", "1-1"]).await, int(1));
    assert_eq!(call(c, &["SET", "new-after-save", "1"]).await, ok());
    assert_eq!(call(c, &["SELECT", "3"]).await, ok());
    assert_eq!(call(c, &["DEL", "in-db-3"]).await, int(1));
    assert_eq!(call(c, &["SELECT", "0"]).await, ok());
}

#[tokio::test]
async fn a_checkpoint_restores_the_data_as_of_the_save() {
    let s = TestServer::start();
    if !s.is_strata() {
        return; // Redis restores from dump.rdb; the checkpoint directory is Strata's.
    }
    let mut c = s.client().await;
    write_every_type(&mut c).await;
    assert_eq!(call(&mut c, &["BGSAVE"]).await, status("Background saving started"));
    assert_eq!(wait_bgsave_done(&mut c).await["rdb_last_bgsave_status"], "ok");
    write_after_the_save(&mut c).await;

    // Restore: a copy of the checkpoint directory is the second server's data directory.
    let backup = tempfile::Builder::new().prefix("strata-backup-").tempdir().unwrap();
    let restored_dir = backup.path().join("restored");
    copy_dir(&s.dir.join("checkpoint"), &restored_dir);
    let r = TestServer::start_with(&["--dir", restored_dir.to_str().unwrap()]);
    let mut rc = r.client().await;
    assert_eq!(call(&mut rc, &["DBSIZE"]).await, int(7));
    assert_eq!(call(&mut rc, &["GET", "str"]).await, bulk("plain"));
    assert_eq!(call(&mut rc, &["GET", "ttl"]).await, bulk("expiring"));
    let ttl = call(&mut rc, &["TTL", "ttl"]).await.int();
    assert!((900..=1000).contains(&ttl), "TTL after restore {ttl}");
    let pttl = call(&mut rc, &["PTTL", "hash"]).await.int();
    assert!((1_900_000..=2_000_000).contains(&pttl), "hash PTTL after restore {pttl}");
    assert_eq!(call(&mut rc, &["HGETALL", "hash"]).await, bulks(&["f1", "v1", "f2", "v2"]));
    assert_eq!(call(&mut rc, &["LRANGE", "list", "0", "-1"]).await, bulks(&["a", "b", "c"]));
    let mut members = call(&mut rc, &["SMEMBERS", "set"]).await.strings();
    members.sort();
    assert_eq!(members, ["x", "y"]);
    assert_eq!(call(&mut rc, &["ZRANGE", "zset", "0", "-1", "WITHSCORES"]).await, bulks(&["one", "1", "two", "2.5"]));
    assert_eq!(call(&mut rc, &["XLEN", "stream"]).await, int(2));
    let pending = call(&mut rc, &["XPENDING", "stream", "grp"]).await.array();
    assert_eq!(pending[0], int(1), "the entry read before the save is still pending: {pending:?}");
    assert_eq!(pending[1], bulk("1-1"));
    let groups = call(&mut rc, &["XINFO", "GROUPS", "stream"]).await.array();
    let group = groups[0].array();
    let pos = group.iter().position(|f| *f == bulk("last-delivered-id")).unwrap();
    assert_eq!(group[pos + 1], bulk("1-1"));
    assert_eq!(call(&mut rc, &["EXISTS", "new-after-save"]).await, int(0));
    assert_eq!(call(&mut rc, &["SELECT", "3"]).await, ok());
    assert_eq!(call(&mut rc, &["GET", "in-db-3"]).await, bulk("three"));

    // The first server still has its later writes, and the restored one takes new writes.
    assert_eq!(call(&mut c, &["GET", "str"]).await, bulk("changed"));
    assert_eq!(call(&mut rc, &["SET", "written-after-restore", "1"]).await, ok());
}
