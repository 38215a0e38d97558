//! A real `redis-server` started beside the server under test, for the cross-checks of
//! tests/hll.rs and tests/geo.rs: same commands into both, replies and bytes compared.
//! `start` returns None (with the reason printed) when redis-server is not installed.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Reference {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Reference {
    pub fn start() -> Option<Reference> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            eprintln!("skipping the cross-check: redis-server is not installed");
            return None;
        }
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
            let dir = tempfile::Builder::new().prefix("strata-ref-").tempdir().ok()?;
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut r = Reference { child, port, _dir: dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(r);
                }
                if let Ok(Some(_)) = r.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = r.child.kill();
        }
        eprintln!("skipping the cross-check: redis-server did not start");
        None
    }

    pub async fn client(&self) -> redis::aio::MultiplexedConnection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client");
        c.get_multiplexed_async_connection().await.expect("connect to redis-server")
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
