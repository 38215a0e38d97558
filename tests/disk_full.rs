//! A full disk: the data directory on a small tmpfs this test mounts (root only; skipped
//! otherwise). Once the free space falls below the reserve writes are refused with Redis's
//! MISCONF text, never acknowledged; reads go on; once the disk has room again writes resume
//! without a restart; nothing acknowledged is lost, before or after a SIGKILL. Strata only.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(megabytes: u32) -> Option<Tmpfs> {
        let parent = tempfile::tempdir().ok()?;
        let path = parent.path().join("fs");
        std::fs::create_dir(&path).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { path, _parent: parent })
    }

    fn resize(&self, megabytes: u32) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m")])
            .arg(&self.path)
            .status()
            .expect("run mount");
        assert!(status.success(), "remount the tmpfs");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn value(i: usize) -> Vec<u8> {
    // Not compressible: LZ4 must not make the disk last forever.
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..40_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn connect(server: &TestServer) -> redis::Connection {
    let con = server.sync_client();
    con.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
    con
}

fn fill_until_refused(server: &mut TestServer, fs: &Tmpfs, dir: &Path, fsync: &str) {
    let mut con = connect(server);
    let mut acked = Vec::new();
    let mut refusal = None;
    for i in 0..20_000 {
        match redis::cmd("SET").arg(format!("k{i}")).arg(value(i)).query::<()>(&mut con) {
            Ok(()) => acked.push(i),
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    let refusal = refusal.unwrap_or_else(|| panic!("{fsync}: the disk never filled ({})", dir.display()));
    assert!(acked.len() > 10, "{fsync}: only {} writes before the disk was full", acked.len());
    // Redis's MISCONF reply, from the disk guard: RocksDB's own WAL write never failed (that
    // would close the connection unanswered, and writes would not resume below).
    assert_eq!(refusal.code(), Some("MISCONF"), "{fsync}: {refusal}\n{}", server.output());
    assert!(
        refusal.to_string().contains("Errors writing to the AOF file: No space left on device"),
        "{fsync}: {refusal}"
    );

    // Another client: reads work, a write is refused at once (no hang), the server is up.
    let mut other = connect(server);
    let last = *acked.last().unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg(format!("k{last}")).query(&mut other).unwrap();
    assert_eq!(got, value(last), "{fsync}: reads go on");
    let r = redis::cmd("SET").arg("more").arg(value(99_999)).query::<()>(&mut other);
    match r {
        Err(e) if e.code() == Some("MISCONF") => {}
        other => panic!("{fsync}: a write on a full disk gave {other:?}"),
    }
    let pong: String = redis::cmd("PING").query(&mut other).unwrap();
    assert_eq!(pong, "PONG");
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut other).unwrap();
    assert!(info.contains("aof_last_write_status:err"), "{fsync}: {info}\n{}", server.output());
    drop((con, other));

    // Room again: writes resume by themselves (the guard looks at the free space ten times a second).
    fs.resize(512);
    let mut con = connect(server);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match redis::cmd("SET").arg("resumed").arg("yes").query::<()>(&mut con) {
            Ok(()) => break,
            Err(e) if e.code() == Some("MISCONF") => {}
            Err(e) if e.is_io_error() || e.is_connection_dropped() => con = connect(server),
            Err(e) => panic!("{fsync}: a write after room returned gave {e}"),
        }
        assert!(std::time::Instant::now() < deadline, "{fsync}: writes did not resume with room on the disk");
        std::thread::sleep(Duration::from_millis(200));
    }
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut con).unwrap();
    assert!(info.contains("aof_last_write_status:ok"), "{fsync}: {info}");
    // Every acknowledged write is there, and more writes are acknowledged.
    for &i in &acked {
        let got: Vec<u8> = redis::cmd("GET").arg(format!("k{i}")).query(&mut con).unwrap();
        assert_eq!(got, value(i), "{fsync}: acknowledged k{i} lost");
    }
    for i in 30_000..30_050 {
        let _: () = redis::cmd("SET").arg(format!("k{i}")).arg(value(i)).query(&mut con).unwrap();
        acked.push(i);
    }
    drop(con);

    // And all of it survives a SIGKILL.
    server.kill9();
    server.start_again();
    let mut con = connect(server);
    for &i in &acked {
        let got: Vec<u8> = redis::cmd("GET").arg(format!("k{i}")).query(&mut con).unwrap();
        assert_eq!(got, value(i), "{fsync}: acknowledged k{i} lost after the restart");
    }
    let resumed: String = redis::cmd("GET").arg("resumed").query(&mut con).unwrap();
    assert_eq!(resumed, "yes");
    drop(con);
    server.shutdown();
}

#[test]
fn a_full_disk_refuses_writes_and_loses_nothing() {
    if target_is_redis() {
        return;
    }
    for fsync in ["everysec", "always", "no"] {
        let Some(fs) = Tmpfs::mount(256) else {
            eprintln!("skipped: can't mount a tmpfs here (needs root)");
            return;
        };
        let dir = fs.path.join("data");
        let dir_s = dir.to_str().unwrap().to_string();
        // A 16 MiB memtable budget: a 32 MiB reserve (twice the budget), an eighth of the disk.
        let mut server =
            TestServer::start_with(&["--dir", &dir_s, "--appendfsync", fsync, "--rocksdb-memtable-budget", "16mb"]);
        fill_until_refused(&mut server, &fs, &dir, fsync);
    }
}
