//! The HTTP endpoint (`metrics-port`): `/metrics` after real traffic, `/healthz`, `/readyz`
//! flipping to 503 when shutdown starts, and the metric names the dashboards and alerts in
//! deploy/monitoring use (docs/metrics.md is the list). Strata only: Redis has no such port.

mod common;

use common::{http, TestServer, FREE_PORT};
use redis::Commands;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn start() -> Option<(TestServer, u16)> {
    let server = TestServer::start_with(&["--metrics-port", FREE_PORT, "--io-threads", "2"]);
    if !server.is_strata() {
        return None;
    }
    let port = server.extra_port.expect("metrics port");
    Some((server, port))
}

/// The value of the first sample line starting with `series` (name and labels).
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

/// Every metric family named in the page (`# TYPE name kind`).
fn families(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn metrics_after_traffic() {
    let Some((server, port)) = start() else { return };
    let mut con = server.sync_client();
    for i in 0..5 {
        let _: () = con.set(format!("k{i}"), i).unwrap();
    }
    let _: Option<String> = con.get("k1").unwrap();
    let _: Option<String> = con.get("nope").unwrap();
    let _: () = con.rpush("l", "x").unwrap();
    assert!(con.get::<_, String>("l").is_err());
    let _: () = redis::cmd("SELECT").arg(2).query(&mut con).unwrap();
    let _: () = con.set_ex("t", 1, 100).unwrap();

    let (status, page) = http(port, "GET", "/metrics").expect("scrape");
    assert_eq!(status, 200);
    assert_eq!(sample(&page, "strata_commands_total{cmd=\"set\"}"), Some(5.0), "{page}");
    assert_eq!(sample(&page, "strata_commands_total{cmd=\"get\"}"), Some(3.0));
    assert_eq!(sample(&page, "strata_commands_failed_total{cmd=\"get\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_errors_total{prefix=\"WRONGTYPE\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"0\"}"), Some(6.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"2\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_keyspace_expires{db=\"2\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"1\"}"), None, "empty databases are left out");
    assert_eq!(sample(&page, "strata_keyspace_hits_total"), Some(2.0));
    assert_eq!(sample(&page, "strata_keyspace_misses_total"), Some(1.0));
    // TestServer::start's readiness probe closed its connection just before; the server
    // notices that EOF on its own task, so the count may lag one scrape behind.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut clients = sample(&page, "strata_clients_connected");
    while clients != Some(1.0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let (_, again) = http(port, "GET", "/metrics").expect("scrape");
        clients = sample(&again, "strata_clients_connected");
    }
    assert_eq!(clients, Some(1.0), "only this test's connection stays open");
    assert_eq!(sample(&page, "strata_server_ready"), Some(1.0));
    assert!(sample(&page, "strata_memory_rss_bytes").unwrap() > 0.0);
    assert!(sample(&page, "strata_disk_capacity_bytes").unwrap() > 0.0);
    assert!(sample(&page, "strata_hot_cache_capacity_bytes").unwrap() > 0.0);
    assert!(sample(&page, "strata_rocksdb_live_sst_bytes{cf=\"metadata\"}").is_some());
    // The latency histogram of SET: cumulative buckets ending at +Inf = count = calls.
    let buckets: Vec<f64> = page
        .lines()
        .filter(|l| l.starts_with("strata_commands_duration_seconds_bucket{cmd=\"set\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(buckets.len(), 20, "{page}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&5.0));
    assert_eq!(sample(&page, "strata_commands_duration_seconds_count{cmd=\"set\"}"), Some(5.0));
    assert!(sample(&page, "strata_commands_duration_seconds_sum{cmd=\"set\"}").unwrap() > 0.0);
    // Each family is declared once, as Prometheus requires.
    let types = page.lines().filter(|l| l.starts_with("# TYPE ")).count();
    assert_eq!(types, families(&page).len());

    // Counters follow later traffic.
    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    let _: () = con.del("l").unwrap();
    let (_, page) = http(port, "GET", "/metrics").unwrap();
    assert_eq!(sample(&page, "strata_commands_total{cmd=\"del\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"0\"}"), Some(5.0));
}

#[test]
fn health_endpoints_and_errors() {
    let Some((_server, port)) = start() else { return };
    assert_eq!(http(port, "GET", "/healthz"), Some((200, "ok\n".into())));
    assert_eq!(http(port, "GET", "/readyz"), Some((200, "ready\n".into())));
    assert_eq!(http(port, "GET", "/nope").map(|r| r.0), Some(404));
    assert_eq!(http(port, "POST", "/metrics").map(|r| r.0), Some(405));
    // A malformed request gets an HTTP error, and the endpoint goes on serving.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"\x00\x01garbage\r\n\r\n").unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
    }
    assert_eq!(http(port, "GET", "/healthz").map(|r| r.0), Some(200));
}

#[test]
fn readyz_turns_503_when_shutdown_starts() {
    let Some((mut server, port)) = start() else { return };
    assert_eq!(http(port, "GET", "/readyz").map(|r| r.0), Some(200));
    // A command in progress holds the shutdown (it waits for running commands), so the window
    // between SIGTERM and exit is long enough to look at.
    let addr = server.addr();
    let sleeper = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        use std::io::{Read, Write};
        s.write_all(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1\r\n3\r\n").unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf);
    });
    std::thread::sleep(Duration::from_millis(300));
    // The probes answer while a slow command runs.
    assert_eq!(http(port, "GET", "/readyz").map(|r| r.0), Some(200));
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut seen = None;
    while Instant::now() < deadline {
        match http(port, "GET", "/readyz") {
            Some((503, body)) => {
                seen = Some(body);
                break;
            }
            Some(_) => std::thread::sleep(Duration::from_millis(20)),
            None => break,
        }
    }
    assert_eq!(seen.as_deref(), Some("shutting down\n"));
    assert_eq!(http(port, "GET", "/healthz").map(|r| r.0), Some(200), "alive until it exits");
    assert!(server.wait_exit().success());
    sleeper.join().unwrap();
    assert!(server.output().contains("Received SIGTERM"));
}

#[test]
fn dashboards_and_alerts_use_served_metrics() {
    let Some((server, port)) = start() else { return };
    let mut con = server.sync_client();
    // Families with labels appear once they have a series: a key, a command, an error.
    let _: () = con.set_ex("k", 1, 100).unwrap();
    assert!(redis::cmd("NOSUCHCOMMAND").query::<()>(&mut con).is_err());
    let (_, page) = http(port, "GET", "/metrics").unwrap();
    let served = families(&page);
    // Histograms are used through their _bucket/_sum/_count series.
    let is_served = |name: &str| {
        served.contains(name)
            || ["_bucket", "_sum", "_count"].iter().any(|s| name.strip_suffix(s).is_some_and(|b| served.contains(b)))
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("docs/metrics.md")];
    if let Ok(dir) = std::fs::read_dir(root.join("deploy/monitoring")) {
        files.extend(dir.flatten().map(|e| e.path()));
    }
    let mut checked = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for name in metric_names(&text) {
            assert!(is_served(&name), "{} uses {name}, which /metrics does not serve", f.display());
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} metric names found in docs/metrics.md and deploy/monitoring");
}

/// Words that look like Strata metric names (`strata_...`).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("strata_") {
        let start = i + at;
        let ok_before = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end =
            text[start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(text.len(), |e| start + e);
        if ok_before {
            out.insert(text[start..end].to_string());
        }
        i = end;
    }
    out
}

/// Counters INFO restarts at CONFIG RESETSTAT keep rising on /metrics (the per-command ones
/// start again from 0, a reset Prometheus recognises), and a database emptied after a scrape
/// goes on at 0 instead of keeping its old value.
#[test]
fn resetstat_and_emptied_databases() {
    let Some((server, port)) = start() else { return };
    let mut con = server.sync_client();
    let _: () = con.set("k", "v").unwrap();
    for _ in 0..3 {
        let _: Option<String> = con.get("k").unwrap();
    }
    let (_, page) = http(port, "GET", "/metrics").unwrap();
    assert_eq!(sample(&page, "strata_keyspace_hits_total"), Some(3.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"0\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"3\"}"), None);

    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).unwrap();
    let _: () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
    let _: Option<String> = con.get("k").unwrap();
    let _: Option<String> = con.get("k").unwrap();
    let _: () = redis::cmd("SELECT").arg(1).query(&mut con).unwrap();
    let _: () = con.set("a", "v").unwrap();
    let _: Option<String> = con.get("a").unwrap();
    let (_, page) = http(port, "GET", "/metrics").unwrap();
    assert_eq!(sample(&page, "strata_keyspace_hits_total"), Some(4.0), "3 before the reset, 1 after");
    assert_eq!(sample(&page, "strata_keyspace_misses_total"), Some(2.0));
    assert_eq!(sample(&page, "strata_commands_total{cmd=\"get\"}"), Some(3.0), "per command: since the reset");
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"0\"}"), Some(0.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"1\"}"), Some(1.0));
    assert_eq!(sample(&page, "strata_keyspace_keys{db=\"3\"}"), None);
}
