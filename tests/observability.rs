//! SLOWLOG, LATENCY, MONITOR and CLIENT LIST against real traffic, with Redis 7.0's replies:
//! slow log entries (fields, truncation, redaction, ids, RESET, LEN, max-len, EXEC and scripts),
//! latency events from DEBUG SLEEP, LATENCY HISTOGRAM's shape, MONITOR lines from a second
//! client, and CLIENT LIST's fields and flags. Runs against Strata and (STRATA_TEST_TARGET=redis)
//! redis-server.

mod common;

use common::{arity_err, bulk, err, int, ok, status, target_is_redis, RawConn, Reply, TestServer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A server that accepts DEBUG (Redis refuses it unless enabled; Strata has no such directive).
fn server() -> TestServer {
    if target_is_redis() {
        TestServer::start_with(&["--enable-debug-command", "yes"])
    } else {
        TestServer::start()
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// `ip:port` of this connection as the server sees it.
fn peer(c: &RawConn) -> String {
    c.stream().local_addr().expect("local addr").to_string()
}

/// One SLOWLOG GET entry.
#[derive(Debug)]
struct Entry {
    id: i64,
    time: i64,
    micros: i64,
    args: Vec<Vec<u8>>,
    peer: String,
    name: String,
}

fn entries(reply: Reply) -> Vec<Entry> {
    reply
        .array()
        .into_iter()
        .map(|e| {
            let f = e.array();
            assert_eq!(f.len(), 6, "entry fields: {f:?}");
            let args = f[3]
                .array()
                .into_iter()
                .map(|a| match a {
                    Reply::Bulk(b) => b,
                    other => panic!("argument {other:?}"),
                })
                .collect();
            Entry { id: f[0].int(), time: f[1].int(), micros: f[2].int(), args, peer: f[4].text(), name: f[5].text() }
        })
        .collect()
}

fn words(e: &Entry) -> Vec<String> {
    e.args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

fn slowlog(c: &mut RawConn, count: &str) -> Vec<Entry> {
    entries(c.call(&["SLOWLOG", "GET", count]))
}

#[test]
fn slowlog_entries_truncation_and_ids() {
    let s = server();
    let mut c = RawConn::connect(s.port);
    assert_eq!(c.call(&["CLIENT", "SETNAME", "obs"]), ok());
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), ok());
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), ok());
    // SLOWLOG RESET itself ran at or over 0 µs: it is the one entry now.
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), int(1));

    let long = vec![b'v'; 200];
    assert_eq!(c.call(&[&b"SET"[..], b"k", &long]), ok());
    let mut rpush: Vec<String> = vec!["RPUSH".into(), "list".into()];
    rpush.extend((1..=40).map(|i| i.to_string()));
    assert_eq!(c.call(&rpush), int(40));

    let got = slowlog(&mut c, "2");
    assert_eq!(got.len(), 2);
    let (push, set) = (&got[0], &got[1]);
    // Newest first, ids one apart.
    assert_eq!(push.id, set.id + 1);
    // At most 32 arguments, the last saying how many more there were (42 - 31).
    assert_eq!(push.args.len(), 32);
    assert_eq!(words(push)[..3], ["RPUSH", "list", "1"]);
    assert_eq!(words(push)[30], "29");
    assert_eq!(words(push)[31], "... (11 more arguments)");
    // Each argument at most 128 bytes, then how many more there were.
    let mut cut = vec![b'v'; 128];
    cut.extend_from_slice(b"... (72 more bytes)");
    assert_eq!(set.args, vec![b"SET".to_vec(), b"k".to_vec(), cut]);
    for e in &got {
        assert_eq!(e.peer, peer(&c));
        assert_eq!(e.name, "obs");
        assert!(e.micros >= 0);
        assert!((now_secs() - e.time).abs() <= 5, "time {}", e.time);
    }

    // Default count 10, -1 = all, 0 = none; bad counts are refused.
    assert!(c.call(&["SLOWLOG", "GET"]).array().len() <= 10);
    let all = slowlog(&mut c, "-1");
    assert_eq!(all.len() as i64, c.call(&["SLOWLOG", "LEN"]).int() - 1, "LEN ran after GET -1");
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "ids decrease from newest to oldest");
    assert!(slowlog(&mut c, "0").is_empty());
    for bad in ["-2", "abc", "1.5"] {
        assert_eq!(c.call(&["SLOWLOG", "GET", bad]), err("ERR count should be greater than or equal to -1"), "{bad}");
    }
    assert_eq!(
        c.call(&["SLOWLOG", "GET", "1", "2"]),
        err("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
    );
    assert_eq!(c.call(&["SLOWLOG", "LEN", "x"]), arity_err("slowlog|len"));
    assert_eq!(c.call(&["SLOWLOG", "NOPE"]), err("ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP."));
    let help = c.call(&["SLOWLOG", "HELP"]).strings();
    assert!(help[0].starts_with("SLOWLOG <subcommand>"), "{help:?}");

    // RESET forgets entries, not ids.
    let last_id = slowlog(&mut c, "1")[0].id;
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), ok());
    let after = slowlog(&mut c, "-1");
    assert_eq!(words(&after[0]), ["SLOWLOG", "RESET"]);
    assert!(after[0].id > last_id);

    // slowlog-max-len trims (the CONFIG SET itself is logged after it applies).
    for i in 0..5 {
        assert_eq!(c.call(&["SET", &format!("k{i}"), "v"]), ok());
    }
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-max-len", "3"]), ok());
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), int(3));
    let kept = slowlog(&mut c, "-1");
    assert_eq!(words(&kept[0]), ["SLOWLOG", "LEN"]);
    assert_eq!(words(&kept[2]), ["SET", "k4", "v"]);

    // Off: nothing more is logged.
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]), ok());
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), ok());
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), int(0));
}

#[test]
fn slowlog_redaction_transactions_and_scripts() {
    let s = server();
    let mut c = RawConn::connect(s.port);
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), ok());

    // Credentials never reach the slow log.
    assert!(c.call(&["AUTH", "secret"]).is_err());
    assert!(c.call(&["AUTH", "someone", "secret"]).is_err());
    // (The default user has no password: any password is accepted.)
    assert!(!c.call(&["HELLO", "2", "AUTH", "default", "secret"]).is_err());
    assert_eq!(c.call(&["CONFIG", "SET", "requirepass", ""]), ok());
    let got = slowlog(&mut c, "4");
    assert_eq!(words(&got[0]), ["CONFIG", "SET", "requirepass", "(redacted)"]);
    assert_eq!(words(&got[1]), ["HELLO", "2", "AUTH", "(redacted)", "(redacted)"]);
    assert_eq!(words(&got[2]), ["AUTH", "(redacted)", "(redacted)"]);
    assert_eq!(words(&got[3]), ["AUTH", "(redacted)"]);

    // EXEC is not logged (skip_slowlog); the commands it ran are, in order.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "a", "1"]), status("QUEUED"));
    assert_eq!(c.call(&["GET", "a"]), status("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Reply::Array(vec![ok(), bulk("1")]));
    let got = slowlog(&mut c, "3");
    assert_eq!(words(&got[0]), ["GET", "a"]);
    assert_eq!(words(&got[1]), ["SET", "a", "1"]);
    assert_eq!(words(&got[2]), ["MULTI"]);
    assert_eq!(got[0].peer, peer(&c));

    // A script's commands come first (they end first), from no client address.
    let script = "redis.call('set','x','y') return redis.call('get','x')";
    assert_eq!(c.call(&["EVAL", script, "0"]), bulk("y"));
    let got = slowlog(&mut c, "3");
    assert_eq!(words(&got[0]), ["EVAL", script, "0"]);
    assert_eq!(got[0].peer, peer(&c));
    assert_eq!(words(&got[1]), ["get", "x"]);
    assert_eq!(words(&got[2]), ["set", "x", "y"]);
    for e in &got[1..] {
        assert_eq!((e.peer.as_str(), e.name.as_str()), ("?:0", ""));
    }
    assert!(got[0].id > got[1].id && got[1].id > got[2].id);
}

#[test]
fn latency_monitor_events() {
    let s = server();
    let mut c = RawConn::connect(s.port);
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
    assert!(c.call(&["LATENCY", "DOCTOR"]).text().contains("disabled"));
    // Under the threshold (off): nothing.
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.2"]), ok());
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Reply::Array(vec![]));

    assert_eq!(c.call(&["CONFIG", "SET", "latency-monitor-threshold", "100"]), ok());
    let before = now_secs();
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.2"]), ok());
    // Fast commands stay under 100 ms: no `fast-command` event.
    assert_eq!(c.call(&["PING"]), status("PONG"));
    let latest = c.call(&["LATENCY", "LATEST"]).array();
    assert_eq!(latest.len(), 1, "{latest:?}");
    let e = latest[0].array();
    assert_eq!(e[0], bulk("command"));
    assert!(e[1].int() >= before && e[1].int() <= now_secs(), "{e:?}");
    assert!(e[2].int() >= 200 && e[2].int() < 1000, "{e:?}");
    assert!(e[3].int() >= e[2].int(), "{e:?}");

    let history = c.call(&["LATENCY", "HISTORY", "command"]).array();
    assert_eq!(history.len(), 1);
    let sample = history[0].array();
    assert_eq!(sample[0], e[1]);
    assert_eq!(sample[1], e[2]);
    assert_eq!(c.call(&["LATENCY", "HISTORY", "nosuch"]), Reply::Array(vec![]));

    let graph = c.call(&["LATENCY", "GRAPH", "command"]).text();
    let ms = e[2].int();
    assert!(
        graph
            .starts_with(&format!("command - high {ms} ms, low {ms} ms (all time high {ms} ms)\n{}\n", "-".repeat(80))),
        "{graph}"
    );
    assert_eq!(c.call(&["LATENCY", "GRAPH", "nosuch"]), err("ERR No samples available for event 'nosuch'"));
    let doctor = c.call(&["LATENCY", "DOCTOR"]).text();
    assert!(doctor.contains("1. command: 1 latency spike"), "{doctor}");

    assert_eq!(c.call(&["LATENCY", "RESET", "nosuch"]), int(0));
    assert_eq!(c.call(&["LATENCY", "RESET", "COMMAND", "x"]), int(1));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.15"]), ok());
    assert_eq!(c.call(&["LATENCY", "RESET"]), int(1));
    assert_eq!(c.call(&["LATENCY", "RESET"]), int(0));
    assert_eq!(c.call(&["LATENCY", "NOPE"]), err("ERR unknown subcommand 'NOPE'. Try LATENCY HELP."));
    assert_eq!(c.call(&["LATENCY"]), arity_err("latency"));
    assert_eq!(c.call(&["LATENCY", "HISTORY"]), arity_err("latency|history"));
}

/// The bucket labels (µs) Redis 7.0 prints for its hdr histogram: 1, 2, 4, 8, 16, 33, 66, ...
fn redis_labels() -> Vec<i64> {
    (0..=20).map(|k| (1024i64 << k) + (1024i64 << k) / 128 - 1).map(|ns| ns / 1000).collect()
}

#[test]
fn latency_histogram_shape() {
    let s = server();
    let mut c = RawConn::connect(s.port);
    for i in 0..3 {
        assert_eq!(c.call(&["SET", &format!("h{i}"), "v"]), ok());
    }
    assert_eq!(c.call(&["GET", "h0"]), bulk("v"));
    assert_eq!(c.call(&["CONFIG", "GET", "maxmemory"]).array().len(), 2);
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.01"]), ok());

    // RESP2: a flat array of name, [calls, n, histogram_usec, [label, cumulative, ...]].
    let flat = c.call(&["LATENCY", "HISTOGRAM", "set", "nosuch", "GET", "config", "debug"]).array();
    let names: Vec<String> = flat.iter().step_by(2).map(Reply::text).collect();
    assert_eq!(names[..2], ["set", "get"]);
    assert!(names.contains(&"config|get".to_string()), "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("debug"));
    let labels = redis_labels();
    for pair in flat.chunks(2) {
        let name = pair[0].text();
        let body = pair[1].array();
        assert_eq!(body.len(), 4, "{name}: {body:?}");
        assert_eq!(body[0], bulk("calls"));
        assert_eq!(body[2], bulk("histogram_usec"));
        let calls = body[1].int();
        let expected = match name.as_str() {
            "set" => 3,
            "get" | "config|get" | "debug" => 1,
            _ => calls,
        };
        assert_eq!(calls, expected, "{name}");
        let buckets: Vec<i64> = body[3].array().iter().map(Reply::int).collect();
        assert!(!buckets.is_empty() && buckets.len().is_multiple_of(2), "{name}: {buckets:?}");
        let pairs: Vec<(i64, i64)> = buckets.chunks(2).map(|p| (p[0], p[1])).collect();
        assert!(pairs.iter().all(|(l, _)| labels.contains(l)), "{name}: {pairs:?}");
        assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{name}: {pairs:?}");
        assert_eq!(pairs.last().map(|p| p.1), Some(calls), "{name}");
        if name == "debug" {
            // 10 ms sleeps land in the 16.9 ms bucket.
            assert_eq!(pairs, [(16908, 1)]);
        }
    }

    // RESP3: maps.
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    match c.call(&["LATENCY", "HISTOGRAM", "get"]) {
        Reply::Map(m) => {
            assert_eq!(m.len(), 1);
            assert_eq!(m[0].0, bulk("get"));
            let Reply::Map(body) = &m[0].1 else { panic!("{:?}", m[0].1) };
            assert_eq!(body[0], (bulk("calls"), int(1)));
            assert!(matches!(&body[1].1, Reply::Map(b) if b.len() == 1 && b[0].1 == int(1)), "{body:?}");
        }
        other => panic!("expected a map, got {other:?}"),
    }
    // Every command with data, when none is named.
    let Reply::Map(all) = c.call(&["LATENCY", "HISTOGRAM"]) else { panic!("map") };
    let all: Vec<String> = all.iter().map(|(k, _)| k.text()).collect();
    for name in ["set", "get", "debug", "config|get", "hello"] {
        assert!(all.contains(&name.to_string()), "{name} in {all:?}");
    }
}

/// Reads one MONITOR line and returns it without its timestamp, checking the timestamp's form.
fn monitor_line(m: &mut RawConn) -> String {
    let line = m.read_line();
    let rest = line.strip_prefix('+').unwrap_or_else(|| panic!("not a status line: {line}"));
    let (time, rest) = rest.split_once(' ').expect("time then the rest");
    let (secs, micros) = time.split_once('.').expect("seconds.micros");
    assert_eq!(micros.len(), 6, "{line}");
    assert!((now_secs() - secs.parse::<i64>().expect("seconds")).abs() <= 5, "{line}");
    rest.to_string()
}

#[test]
fn monitor_lines() {
    let s = server();
    let mut m = RawConn::connect(s.port);
    let mut c = RawConn::connect(s.port);
    let addr = peer(&c);
    let maddr = peer(&m);
    assert_eq!(m.call(&["MONITOR"]), ok());

    assert_eq!(c.call(&["SELECT", "2"]), ok());
    assert_eq!(c.call(&[&b"SET"[..], b"k", b"a\"b\\c\n\r\t\x01\xff z"]), ok());
    assert_eq!(c.call(&["get", "k"]), bulk(b"a\"b\\c\n\r\t\x01\xff z"));
    assert_eq!(monitor_line(&mut m), format!("[2 {addr}] \"SELECT\" \"2\""));
    assert_eq!(monitor_line(&mut m), format!("[2 {addr}] \"SET\" \"k\" \"a\\\"b\\\\c\\n\\r\\t\\x01\\xff z\""));
    assert_eq!(monitor_line(&mut m), format!("[2 {addr}] \"get\" \"k\""));

    // Admin commands are not shown; credentials are redacted; refused commands never ran.
    assert_eq!(c.call(&["CONFIG", "GET", "maxmemory"]).array().len(), 2);
    assert!(c.call(&["AUTH", "someone", "secret"]).is_err());
    assert!(c.call(&["GET"]).is_err());
    assert_eq!(c.call(&["SELECT", "0"]), ok());
    assert_eq!(monitor_line(&mut m), format!("[2 {addr}] \"AUTH\" \"(redacted)\" \"(redacted)\""));
    assert_eq!(monitor_line(&mut m), format!("[0 {addr}] \"SELECT\" \"0\""));

    // MULTI, then the commands EXEC ran, then EXEC; a script before its commands.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["INCR", "n"]), status("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Reply::Array(vec![int(1)]));
    assert_eq!(c.call(&["EVAL", "return redis.call('get', KEYS[1])", "1", "n"]), bulk("1"));
    for expected in [
        format!("[0 {addr}] \"MULTI\""),
        format!("[0 {addr}] \"INCR\" \"n\""),
        format!("[0 {addr}] \"EXEC\""),
        format!("[0 {addr}] \"EVAL\" \"return redis.call('get', KEYS[1])\" \"1\" \"n\""),
        "[0 lua] \"get\" \"n\"".to_string(),
    ] {
        assert_eq!(monitor_line(&mut m), expected);
    }

    // A blocking command shows when it blocks, once, not when it is served or times out.
    assert_eq!(c.call(&["BLPOP", "nolist", "0.1"]), Reply::Nil);
    assert_eq!(monitor_line(&mut m), format!("[0 {addr}] \"BLPOP\" \"nolist\" \"0.1\""));
    let mut waiter = RawConn::connect(s.port);
    let waddr = peer(&waiter);
    waiter.send(&common::resp(&["BLPOP", "q", "0"]));
    assert_eq!(monitor_line(&mut m), format!("[0 {waddr}] \"BLPOP\" \"q\" \"0\""));
    assert_eq!(c.call(&["RPUSH", "q", "x"]), int(1));
    assert_eq!(waiter.read_reply(), Reply::Array(vec![bulk("q"), bulk("x")]));
    assert_eq!(c.call(&["ECHO", "next"]), bulk("next"));
    assert_eq!(monitor_line(&mut m), format!("[0 {addr}] \"RPUSH\" \"q\" \"x\""));
    assert_eq!(monitor_line(&mut m), format!("[0 {addr}] \"ECHO\" \"next\""));

    // The monitor itself: its own command's line follows its reply; a second MONITOR gets no
    // reply; the keyspace is out of its reach.
    m.send(&common::resp(&["MONITOR"]));
    assert_eq!(m.call(&["PING"]), status("PONG"));
    assert_eq!(monitor_line(&mut m), format!("[0 {maddr}] \"PING\""));
    assert_eq!(m.call(&["GET", "k"]), err("ERR Replica can't interact with the keyspace"));
    let info = m.call(&["CLIENT", "INFO"]).text();
    assert!(info.contains(" flags=O ") && info.contains(" cmd=client|info "), "{info}");
    assert_eq!(monitor_line(&mut m), format!("[0 {maddr}] \"CLIENT\" \"INFO\""));

    // RESET ends MONITOR mode.
    assert_eq!(m.call(&["RESET"]), status("RESET"));
    assert_eq!(c.call(&["PING"]), status("PONG"));
    assert_eq!(m.call(&["PING"]), status("PONG"));
    assert_eq!(m.call(&["GET", "nosuchkey"]), Reply::Nil);

    // Not inside a transaction.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["MONITOR"]), status("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Reply::Array(vec![err("ERR MONITOR isn't allowed for DENY BLOCKING client")]));
}

/// Redis 7.0.15's CLIENT LIST fields, in order.
const FIELDS_7_0: [&str; 26] = [
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
];

fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{kv} in {line}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn line_of(list: &str, addr: &str) -> Vec<(String, String)> {
    let line = list.lines().find(|l| l.contains(&format!(" addr={addr} "))).unwrap_or_else(|| panic!("{addr}: {list}"));
    fields(line)
}

fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn client_list_fields_and_flags() {
    let s = server();
    let mut c = RawConn::connect(s.port);
    let mut mon = RawConn::connect(s.port);
    let mut sub = RawConn::connect(s.port);
    let mut tx = RawConn::connect(s.port);
    assert_eq!(mon.call(&["MONITOR"]), ok());
    assert_eq!(sub.call(&["SUBSCRIBE", "ch"]), Reply::Array(vec![bulk("subscribe"), bulk("ch"), int(1)]));
    assert_eq!(tx.call(&["MULTI"]), ok());
    assert_eq!(tx.call(&["SET", "key", "value"]), status("QUEUED"));
    assert_eq!(c.call(&["CLIENT", "SETNAME", "lister"]), ok());

    let list = c.call(&["CLIENT", "LIST"]).text();
    for line in list.lines() {
        let names: Vec<String> = fields(line).into_iter().map(|(k, _)| k).collect();
        let mut expected: Vec<&str> = FIELDS_7_0.to_vec();
        expected.extend(["redir", "resp"]);
        if !target_is_redis() {
            // Strata also gives Redis 7.2's CLIENT SETINFO fields, at the end as 7.2 does.
            expected.extend(["lib-name", "lib-ver"]);
        }
        assert_eq!(names, expected, "{line}");
    }

    let me = line_of(&list, &peer(&c));
    assert_eq!(field(&me, "name"), "lister");
    assert_eq!(field(&me, "flags"), "N");
    assert_eq!(field(&me, "cmd"), "client|list");
    assert_eq!(field(&me, "argv-mem"), "10", "the bytes of CLIENT LIST");
    assert_eq!(field(&me, "multi"), "-1");
    assert_eq!(field(&me, "laddr"), s.addr());
    assert!(field(&me, "fd").parse::<i32>().expect("fd") > 2);

    let m = line_of(&list, &peer(&mon));
    assert_eq!((field(&m, "flags"), field(&m, "cmd")), ("O", "monitor"));
    assert_ne!(field(&m, "fd"), field(&me, "fd"));
    let p = line_of(&list, &peer(&sub));
    assert_eq!((field(&p, "flags"), field(&p, "sub")), ("P", "1"));
    let x = line_of(&list, &peer(&tx));
    assert_eq!((field(&x, "flags"), field(&x, "multi")), ("x", "1"));
    assert!(field(&x, "multi-mem").parse::<i64>().expect("multi-mem") > 0);

    // CLIENT INFO is the caller's own line.
    let info = c.call(&["CLIENT", "INFO"]).text();
    let own = fields(info.trim_end());
    assert_eq!(field(&own, "id"), field(&me, "id"));
    assert_eq!(field(&own, "cmd"), "client|info");
    assert_eq!(field(&own, "argv-mem"), "10");

    // A monitor that also subscribes shows both, in Redis's order. (`mon` has lines of the
    // other clients' commands to read: a new one.)
    let mut both = RawConn::connect(s.port);
    assert_eq!(both.call(&["MONITOR"]), ok());
    assert_eq!(both.call(&["SUBSCRIBE", "ch2"]), Reply::Array(vec![bulk("subscribe"), bulk("ch2"), int(1)]));
    let list = c.call(&["CLIENT", "LIST"]).text();
    assert_eq!(field(&line_of(&list, &peer(&both)), "flags"), "OP");
    assert_eq!(c.call(&["CLIENT", "LIST", "ID", field(&m, "id")]).text().lines().count(), 1);
}

#[test]
fn slowlog_and_monitor_skip_what_redis_skips() {
    let s = server();
    let mut c = RawConn::connect(s.port);
    let mut m = RawConn::connect(s.port);
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), ok());
    assert_eq!(m.call(&["MONITOR"]), ok());
    // DEBUG is an admin command: in the slow log, not in MONITOR.
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), ok());
    assert_eq!(c.call(&["ECHO", "after"]), bulk("after"));
    assert_eq!(monitor_line(&mut m), format!("[0 {}] \"ECHO\" \"after\"", peer(&c)));
    let got = slowlog(&mut c, "2");
    assert_eq!(words(&got[0]), ["ECHO", "after"]);
    assert_eq!(words(&got[1]), ["DEBUG", "SLEEP", "0"]);
    // The monitor keeps receiving while it sends nothing.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(c.call(&["SET", "quiet", "1"]), ok());
    assert_eq!(monitor_line(&mut m), format!("[0 {}] \"SET\" \"quiet\" \"1\"", peer(&c)));
}
