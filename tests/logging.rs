//! Structured logs: with `log-format json` every line the server writes is one JSON object,
//! and the notable events are there: start (with the configuration), CONFIG SET (passwords
//! redacted), a protocol error (rate-limited), shutdown. Strata only.

mod common;

use common::TestServer;
use std::io::{Read, Write};

fn json_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn message(v: &serde_json::Value) -> &str {
    v["fields"]["message"].as_str().unwrap_or("")
}

#[test]
fn json_log_has_one_object_per_event() {
    let mut server = TestServer::start_with(&["--log-format", "json", "--maxclients", "77"]);
    if !server.is_strata() {
        return;
    }
    let mut con = server.sync_client();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("s3cret").query(&mut con).unwrap();
    let _: () = redis::cmd("AUTH").arg("s3cret").query(&mut con).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg("").query(&mut con).unwrap();
    // A protocol error from another client.
    {
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"*1\r\n$-5\r\n").unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        assert!(String::from_utf8_lossy(&buf).starts_with("-ERR Protocol error"), "{buf:?}");
    }
    drop(con);
    server.shutdown();
    let log = std::fs::read_to_string(server.dir.join("strata.log")).unwrap();
    let lines = json_lines(&log);
    assert!(lines.iter().all(|l| l["timestamp"].is_string() && l["level"].is_string()), "{log}");
    let find = |m: &str| lines.iter().find(|l| message(l) == m).unwrap_or_else(|| panic!("no '{m}' line in\n{log}"));
    assert!(find("Strata is starting")["fields"]["version"].is_string());
    let config = find("Configuration loaded");
    assert!(config["fields"]["changed"].as_str().unwrap().contains("maxclients=77"), "{config}");
    let sets: Vec<_> = lines.iter().filter(|l| message(l) == "CONFIG SET").collect();
    assert_eq!(sets.len(), 2, "{log}");
    assert_eq!(sets[0]["fields"]["directive"], "requirepass");
    assert_eq!(sets[0]["fields"]["value"], "(redacted)");
    assert!(!log.contains("s3cret"), "the password reached the log");
    let proto = find("protocol error; closing the connection");
    assert_eq!(proto["level"], "WARN");
    assert!(proto["fields"]["error"].as_str().unwrap().contains("invalid bulk length"), "{proto}");
    find("Strata is now ready to exit, bye bye...");
}
