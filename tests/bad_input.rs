//! Hostile and unusual input: garbage on one connection never disturbs another, very large
//! argument counts work, bad numbers are refused, huge declared sizes are refused or cost nothing.

mod common;

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Resident memory of a process in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

/// Some malformed or hostile byte strings: protocol errors, truncated frames, binary noise.
/// Built from digits, punctuation and bytes >= 0x80 only, so no real command name can appear.
fn garbage(rng: &mut StdRng) -> Vec<u8> {
    const FIXED: &[&[u8]] = &[
        b"*abc\r\n",
        b"*-5\r\n$-5\r\n",
        b"*1\r\n$-5\r\n",
        b"*2\r\n$3\r\n",
        b"*1\r\n$2147483648\r\n",
        b"*99999999999999999999\r\n",
        b"*3\r\n:1\r\n",
        b"*1\r\n$3\r\n123456789\r\n",
        b"\"unbalanced\r\n",
        b"'\r\n",
        b"\r\n\r\n\r\n",
        b"$$$$$$$$\r\n",
        b"*0\r\n*0\r\n*1\r\n",
        b"*1\r\n$0\r\n\r\n",
        b"\0\0\0\0\r\n",
        b"*\r\n",
        b"$\r\n",
        b"*1\r\n$\r\n",
    ];
    if rng.random_bool(0.5) {
        return FIXED[rng.random_range(0..FIXED.len())].to_vec();
    }
    const ALPHABET: &[u8] = b"*$:+-_#%~,\r\n0123456789 \"'\\";
    let len = rng.random_range(1..2000);
    (0..len)
        .map(|_| {
            if rng.random_bool(0.8) {
                ALPHABET[rng.random_range(0..ALPHABET.len())]
            } else {
                rng.random_range(0x80..=0xffu8)
            }
        })
        .collect()
}

#[test]
fn garbage_on_one_connection_never_disturbs_another() {
    let s = TestServer::start();
    let mut good = s.raw();
    assert_eq!(good.call(&["SET", "counter", "0"]), ok());
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let started = Instant::now();
    for round in 0..150 {
        let mut bad = s.raw();
        let bytes = garbage(&mut rng);
        // The server may close as soon as it sees an error: a failed write is fine.
        let _ = bad.try_send(&bytes);
        bad.shutdown_write();
        bad.set_read_timeout(Duration::from_secs(5));
        let mut sink = Vec::new();
        let _ = bad.stream().read_to_end(&mut sink);
        assert_eq!(
            good.call(&["INCR", "counter"]),
            int(round + 1),
            "after garbage {:?}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(started.elapsed() < Duration::from_secs(20), "too slow");
    }
    assert_eq!(good.call(&["GET", "counter"]), bulk("150"));
}

#[test]
fn garbage_while_another_command_is_half_sent() {
    let s = TestServer::start();
    let mut good = s.raw();
    // Half a command on the good connection...
    good.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$5\r\nva");
    // ...garbage on others...
    for bytes in [&b"*1\r\n$-5\r\n"[..], b"*abc\r\n", b"\"x\r\n", b"*1\r\nx\r\n"] {
        let mut bad = s.raw();
        bad.send(bytes);
        assert!(bad.read_line().starts_with("-ERR Protocol error"));
        bad.expect_closed();
    }
    // ...and the good one finishes its command.
    good.send(b"lue\r\n");
    good.expect(b"+OK\r\n");
    assert_eq!(good.call(&["GET", "half"]), bulk("value"));
}

#[test]
fn garbage_from_many_connections_at_once() {
    let s = TestServer::start();
    let port = s.port;
    let workers: Vec<_> = (0..8u64)
        .map(|w| {
            thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(w);
                for _ in 0..20 {
                    let mut bad = RawConn::connect(port);
                    let _ = bad.try_send(&garbage(&mut rng));
                    bad.shutdown_write();
                    bad.set_read_timeout(Duration::from_secs(5));
                    let mut sink = Vec::new();
                    let _ = bad.stream().read_to_end(&mut sink);
                }
            })
        })
        .collect();
    let mut good = s.raw();
    for i in 0..200 {
        assert_eq!(good.call(&["SET", &format!("k{i}"), "v"]), ok());
    }
    for w in workers {
        w.join().expect("garbage worker");
    }
    assert_eq!(good.call(&["DBSIZE"]), int(200));
}

#[tokio::test]
async fn mset_with_thousands_of_arguments() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // 1,000 arguments after the name: 500 pairs.
    let mut args = vec!["MSET".to_string()];
    for i in 0..500 {
        args.push(format!("key:{i}"));
        args.push(format!("value:{i}"));
    }
    assert_eq!(args.len(), 1001);
    assert_eq!(call(&mut c, &args).await, ok());
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(500));
    // 20,000 arguments.
    let mut args = vec!["MSET".to_string()];
    for i in 0..10_000 {
        args.push(format!("big:{i}"));
        args.push(i.to_string());
    }
    assert_eq!(call(&mut c, &args).await, ok());
    let mut mget = vec!["MGET".to_string()];
    mget.extend((0..10_000).map(|i| format!("big:{i}")));
    let got = call(&mut c, &mget).await.strings();
    assert_eq!(got.len(), 10_000);
    assert!(got.iter().enumerate().all(|(i, v)| *v == i.to_string()));
    let mut del = vec!["DEL".to_string()];
    del.extend((0..10_000).map(|i| format!("big:{i}")));
    del.extend((0..500).map(|i| format!("key:{i}")));
    del.push("nokey".to_string());
    assert_eq!(call(&mut c, &del).await, int(10_500));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
}

#[tokio::test]
async fn exists_with_a_hundred_thousand_keys() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k7", "v"]).await, ok());
    let mut args = vec!["EXISTS".to_string()];
    args.extend((0..100_000).map(|i| format!("k{}", i % 10)));
    assert_eq!(call(&mut c, &args).await, int(10_000));
}

#[tokio::test]
async fn bad_numbers_are_refused() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "-1"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "0"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "99999999999999999999"]).await, err(NOT_INT));
    let huge = "99999999999999999999";
    for args in [
        &["EXPIRE", "k", huge][..],
        &["SELECT", huge],
        &["INCRBY", "n", huge],
        &["GETRANGE", "k", "0", huge],
        &["SETRANGE", "k", huge, "x"],
        &["SETEX", "k", huge, "v"],
        &["SET", "k", "v", "PX", huge],
    ] {
        assert_eq!(call(&mut c, args).await, err(NOT_INT), "{args:?}");
    }
    assert_eq!(call(&mut c, &["SETRANGE", "k", "-1", "x"]).await, err("ERR offset is out of range"));
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("v"));
    // Huge but valid counts are fine.
    assert_eq!(call(&mut c, &["SCAN", "0", "COUNT", "9223372036854775807"]).await, arr(vec![bulk("0"), bulks(&["k"])]));
    assert_eq!(call(&mut c, &["GETRANGE", "k", "-9223372036854775808", "9223372036854775807"]).await, bulk("v"));
}

#[tokio::test]
async fn empty_key_and_value() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "", ""]).await, ok());
    assert_eq!(call(&mut c, &["GET", ""]).await, bulk(""));
    assert_eq!(call(&mut c, &["EXISTS", ""]).await, int(1));
    assert_eq!(call(&mut c, &["KEYS", "*"]).await, bulks(&[""]));
    assert_eq!(call(&mut c, &["APPEND", "", "x"]).await, int(1));
    assert_eq!(call(&mut c, &["DEL", ""]).await, int(1));
}

#[test]
fn pathological_glob_pattern_finishes() {
    let s = TestServer::start();
    let mut r = s.raw();
    let key = "a".repeat(10_000);
    assert_eq!(r.call(&["SET", &key, "v"]), ok());
    let started = Instant::now();
    let pattern = format!("{}b", "*a".repeat(30));
    assert_eq!(r.call(&["KEYS", &pattern]), arr(vec![]));
    let scan = r.call(&["SCAN", "0", "MATCH", &pattern, "COUNT", "100"]).array();
    assert_eq!(scan[1], arr(vec![]));
    assert!(started.elapsed() < Duration::from_secs(3), "glob matching took {:?}", started.elapsed());
    assert_eq!(r.call(&["KEYS", "a*a"]), bulks(&[&key]));
}

#[test]
fn huge_declared_bulk_length_is_rejected() {
    let s = TestServer::start();
    for header in [
        &b"*1\r\n$2147483648\r\n"[..],
        b"*2\r\n$3\r\nSET\r\n$4294967296\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9223372036854775807\r\n",
    ] {
        let mut r = s.raw();
        r.send(header);
        r.expect(b"-ERR Protocol error: invalid bulk length\r\n");
        r.expect_closed();
    }
    let mut r = s.raw();
    assert_eq!(r.call(&["PING"]), status("PONG"));
}

/// Declaring the largest allowed sizes and then sending almost nothing must not make the server
/// commit memory for what it was promised: resident memory stays flat.
#[test]
fn declared_sizes_cost_no_memory_until_sent() {
    let s = TestServer::start();
    let mut probe = s.raw();
    assert_eq!(probe.call(&["PING"]), status("PONG"));
    let before = rss_kib(s.pid());
    let mut conns = Vec::new();
    for _ in 0..10 {
        // A 512 MiB argument (the default limit) of which 3 bytes arrive.
        let mut r = s.raw();
        r.send(b"*2\r\n$3\r\nGET\r\n$536870912\r\nabc");
        conns.push(r);
        // A command of 2^31 - 1 arguments of which one arrives.
        let mut r = s.raw();
        r.send(b"*2147483647\r\n$1\r\nx\r\n");
        conns.push(r);
    }
    thread::sleep(Duration::from_millis(300));
    assert_eq!(probe.call(&["PING"]), status("PONG"));
    let after = rss_kib(s.pid());
    assert!(after < before + 100 * 1024, "resident memory grew from {before} KiB to {after} KiB");
    drop(conns);
    assert_eq!(probe.call(&["SET", "still", "fine"]), ok());
}
