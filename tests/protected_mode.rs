//! protected-mode as Redis: while the default user needs no password, a client that is not on
//! the loopback interface gets `-DENIED …` and is disconnected; a password or
//! `protected-mode no` lets it in. Needs an address of this host other than loopback (skipped
//! without one). Passes against redis-server too.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

/// An address of this host that is not loopback, if it has one.
fn outside_address() -> Option<IpAddr> {
    let out = std::process::Command::new("hostname").arg("-I").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|a| a.is_ipv4() && !a.is_loopback())
}

/// Connects from `ip`, sends PING and returns everything the server sent until it closed the
/// connection or went quiet.
fn ping_from(ip: IpAddr, port: u16) -> String {
    let mut s = TcpStream::connect((ip, port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let _ = s.write_all(b"*1\r\n$4\r\nPING\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.ends_with(b"\r\n") && !got.starts_with(b"-DENIED") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn rejected(server: &TestServer) -> u64 {
    let mut con = server.sync_client();
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("rejected_connections:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rejected_connections")
}

#[test]
fn protected_mode_refuses_other_hosts_until_a_password_or_no() {
    let Some(ip) = outside_address() else {
        eprintln!("skipped: this host has no address other than loopback");
        return;
    };
    let server = TestServer::start_with(&["--bind", "0.0.0.0"]);
    let port = server.port;
    let mut local = server.sync_client();
    let on: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("protected-mode").query(&mut local).unwrap();
    assert_eq!(on, ["protected-mode", "yes"]);

    // From another address: Redis's text, then the connection is closed.
    let before = rejected(&server);
    let got = ping_from(ip, port);
    assert!(
        got.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."),
        "{got}"
    );
    assert!(got.contains("'CONFIG SET protected-mode no'") && got.ends_with("from the outside.\r\n"), "{got}");
    assert_eq!(rejected(&server), before + 1);
    // Loopback clients are let in all along.
    let pong: String = redis::cmd("PING").query(&mut local).unwrap();
    assert_eq!(pong, "PONG");

    // protected-mode no: everyone is let in.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("protected-mode").arg("no").query(&mut local).unwrap();
    assert_eq!(ping_from(ip, port), "+PONG\r\n");

    // protected-mode yes with a password: let in, and asked to authenticate.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("protected-mode").arg("yes").query(&mut local).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("s3cret").query(&mut local).unwrap();
    assert!(ping_from(ip, port).starts_with("-NOAUTH"));

    // Back to no password: refused again.
    let _: () = redis::cmd("AUTH").arg("s3cret").query(&mut local).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("").query(&mut local).unwrap();
    assert!(ping_from(ip, port).starts_with("-DENIED"));
}

#[test]
fn protected_mode_can_be_turned_off_at_start() {
    let Some(ip) = outside_address() else {
        eprintln!("skipped: this host has no address other than loopback");
        return;
    };
    let server = TestServer::start_with(&["--bind", "0.0.0.0", "--protected-mode", "no"]);
    assert_eq!(ping_from(ip, server.port), "+PONG\r\n");
}
