//! Pub/Sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH, SPUBLISH,
//! PUBSUB introspection, RESP2 subscriber mode, RESP3 push frames, RESET, and slow subscribers
//! cut off by `client-output-buffer-limit`. Exact bytes are checked on raw sockets.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;

/// The RESP encoding of a push / array of bulk strings and one trailing integer.
fn frame(kind: u8, words: &[&str], n: Option<i64>) -> Vec<u8> {
    let len = words.len() + usize::from(n.is_some());
    let mut out = format!("{}{len}\r\n", kind as char).into_bytes();
    for w in words {
        out.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
    }
    if let Some(n) = n {
        out.extend_from_slice(format!(":{n}\r\n").as_bytes());
    }
    out
}

/// RESP2 confirmation, e.g. `*3 subscribe ch 1`.
fn conf(word: &str, name: &str, n: i64) -> Vec<u8> {
    frame(b'*', &[word, name], Some(n))
}

fn msg(channel: &str, payload: &str) -> Vec<u8> {
    frame(b'*', &["message", channel, payload], None)
}

fn pmsg(pattern: &str, channel: &str, payload: &str) -> Vec<u8> {
    frame(b'*', &["pmessage", pattern, channel, payload], None)
}

fn subscriber_mode_error(cmd: &str) -> String {
    format!(
        "ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn numsub(c: &mut RawConn, sub: &str, channels: &[&str]) -> Vec<(String, i64)> {
    let mut args = vec!["PUBSUB", sub];
    args.extend_from_slice(channels);
    let a = c.call(&args).array();
    a.chunks(2).map(|p| (p[0].text(), p[1].int())).collect()
}

/// Poll until `f` holds (the server frees a disconnected client asynchronously).
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn subscribe_and_publish_resp2() {
    let s = TestServer::start();
    let mut sub = RawConn::connect(s.port);
    let mut sub2 = RawConn::connect(s.port);
    let mut publ = RawConn::connect(s.port);

    sub.send(&resp(&["SUBSCRIBE", "news", "sport"]));
    sub.expect(&conf("subscribe", "news", 1));
    sub.expect(&conf("subscribe", "sport", 2));
    // Subscribing twice keeps one subscription.
    sub.send(&resp(&["SUBSCRIBE", "news"]));
    sub.expect(&conf("subscribe", "news", 2));
    sub2.send(&resp(&["SUBSCRIBE", "news"]));
    sub2.expect(&conf("subscribe", "news", 1));

    assert_eq!(publ.call(&["PUBLISH", "news", "hello"]), int(2));
    assert_eq!(publ.call(&["PUBLISH", "sport", "goal"]), int(1));
    assert_eq!(publ.call(&["PUBLISH", "nobody", "x"]), int(0));
    // Binary payloads and empty messages pass through untouched.
    assert_eq!(publ.call(&["PUBLISH", "news", ""]), int(2));
    sub.expect(&msg("news", "hello"));
    sub.expect(&msg("sport", "goal"));
    sub.expect(&msg("news", ""));
    sub2.expect(&msg("news", "hello"));
    sub2.expect(&msg("news", ""));

    sub.send(&resp(&["UNSUBSCRIBE", "news"]));
    sub.expect(&conf("unsubscribe", "news", 1));
    assert_eq!(publ.call(&["PUBLISH", "news", "late"]), int(1));
    sub2.expect(&msg("news", "late"));
    // Unsubscribing a channel never subscribed still confirms it.
    sub.send(&resp(&["UNSUBSCRIBE", "never"]));
    sub.expect(&conf("unsubscribe", "never", 1));
    sub.send(&resp(&["UNSUBSCRIBE"]));
    sub.expect(&conf("unsubscribe", "sport", 0));
    // With no subscription left, UNSUBSCRIBE replies with a null channel.
    sub.send(&resp(&["UNSUBSCRIBE"]));
    sub.expect(b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    sub.send(&resp(&["PUNSUBSCRIBE"]));
    sub.expect(b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
    sub.send(&resp(&["SUNSUBSCRIBE"]));
    sub.expect(b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
    // Out of subscriber mode: any command again.
    assert_eq!(sub.call(&["ECHO", "back"]), bulk("back"));
}

#[test]
fn pattern_subscriptions() {
    let s = TestServer::start();
    let mut sub = RawConn::connect(s.port);
    let mut publ = RawConn::connect(s.port);

    sub.send(&resp(&["PSUBSCRIBE", "news.*", "h?llo", "[ab]x"]));
    sub.expect(&conf("psubscribe", "news.*", 1));
    sub.expect(&conf("psubscribe", "h?llo", 2));
    sub.expect(&conf("psubscribe", "[ab]x", 3));
    sub.send(&resp(&["SUBSCRIBE", "news.tech"]));
    sub.expect(&conf("subscribe", "news.tech", 4));

    // The channel subscription and the pattern both deliver: two receivers.
    assert_eq!(publ.call(&["PUBLISH", "news.tech", "m1"]), int(2));
    sub.expect(&msg("news.tech", "m1"));
    sub.expect(&pmsg("news.*", "news.tech", "m1"));
    assert_eq!(publ.call(&["PUBLISH", "hallo", "m2"]), int(1));
    sub.expect(&pmsg("h?llo", "hallo", "m2"));
    assert_eq!(publ.call(&["PUBLISH", "bx", "m3"]), int(1));
    sub.expect(&pmsg("[ab]x", "bx", "m3"));
    assert_eq!(publ.call(&["PUBLISH", "cx", "m4"]), int(0));
    assert_eq!(publ.call(&["PUBLISH", "News.tech", "m5"]), int(0));

    assert_eq!(publ.call(&["PUBSUB", "NUMPAT"]), int(3));
    sub.send(&resp(&["PUNSUBSCRIBE", "h?llo"]));
    sub.expect(&conf("punsubscribe", "h?llo", 3));
    assert_eq!(publ.call(&["PUBLISH", "hallo", "m6"]), int(0));
    assert_eq!(publ.call(&["PUBSUB", "NUMPAT"]), int(2));
    // NUMSUB does not count pattern subscribers.
    assert_eq!(numsub(&mut publ, "NUMSUB", &["news.tech", "bx"]), vec![("news.tech".into(), 1), ("bx".into(), 0)]);
}

#[test]
fn pubsub_introspection() {
    let s = TestServer::start();
    let mut a = RawConn::connect(s.port);
    let mut b = RawConn::connect(s.port);
    let mut q = RawConn::connect(s.port);

    assert_eq!(q.call(&["PUBSUB", "CHANNELS"]), arr(vec![]));
    assert_eq!(q.call(&["PUBSUB", "NUMPAT"]), int(0));
    assert_eq!(q.call(&["PUBSUB", "NUMSUB"]), arr(vec![]));

    a.send(&resp(&["SUBSCRIBE", "c1", "c2"]));
    a.expect(&conf("subscribe", "c1", 1));
    a.expect(&conf("subscribe", "c2", 2));
    b.send(&resp(&["SUBSCRIBE", "c2", "d1"]));
    b.expect(&conf("subscribe", "c2", 1));
    b.expect(&conf("subscribe", "d1", 2));
    a.send(&resp(&["PSUBSCRIBE", "x*"]));
    a.expect(&conf("psubscribe", "x*", 3));
    b.send(&resp(&["PSUBSCRIBE", "x*"]));
    b.expect(&conf("psubscribe", "x*", 3));

    assert_eq!(sorted(q.call(&["PUBSUB", "CHANNELS"]).strings()), vec!["c1", "c2", "d1"]);
    assert_eq!(sorted(q.call(&["PUBSUB", "CHANNELS", "c*"]).strings()), vec!["c1", "c2"]);
    assert_eq!(q.call(&["PUBSUB", "CHANNELS", "zz*"]), arr(vec![]));
    assert_eq!(
        numsub(&mut q, "NUMSUB", &["c2", "c1", "nope", "c2"]),
        vec![("c2".into(), 2), ("c1".into(), 1), ("nope".into(), 0), ("c2".into(), 2)]
    );
    // Distinct patterns, not subscriptions.
    assert_eq!(q.call(&["PUBSUB", "NUMPAT"]), int(1));

    let info = q.call(&["INFO", "stats"]).text();
    let stats: HashMap<&str, &str> = info.lines().filter_map(|l| l.split_once(':')).collect();
    assert_eq!(stats.get("pubsub_channels"), Some(&"3"));
    assert_eq!(stats.get("pubsub_patterns"), Some(&"1"));
    assert_eq!(stats.get("pubsubshard_channels"), Some(&"0"));

    // CLIENT LIST shows the subscriptions and flag P.
    let list = q.call(&["CLIENT", "LIST"]).text();
    let subscribed: Vec<&str> = list.lines().filter(|l| l.contains(" flags=P ")).collect();
    assert_eq!(subscribed.len(), 2, "{list}");
    assert!(subscribed.iter().all(|l| l.contains(" sub=2 psub=1 ssub=0 ")), "{list}");

    // A client that goes away takes its subscriptions with it.
    drop(a);
    wait_until("the closed client's subscriptions to go", || numsub(&mut q, "NUMSUB", &["c1"])[0].1 == 0);
    assert_eq!(sorted(q.call(&["PUBSUB", "CHANNELS"]).strings()), vec!["c2", "d1"]);
    assert_eq!(q.call(&["PUBSUB", "NUMPAT"]), int(1));

    // Errors and help, in Redis's words.
    assert_eq!(q.call(&["PUBSUB", "NUMPAT", "x"]), err("ERR wrong number of arguments for 'pubsub|numpat' command"));
    assert_eq!(
        q.call(&["PUBSUB", "CHANNELS", "a", "b"]),
        err("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
    );
    assert_eq!(q.call(&["PUBSUB", "FOO"]), err("ERR unknown subcommand 'FOO'. Try PUBSUB HELP."));
    assert_eq!(q.call(&["PUBSUB"]), err("ERR wrong number of arguments for 'pubsub' command"));
    assert_eq!(q.call(&["PUBLISH", "a"]), err("ERR wrong number of arguments for 'publish' command"));
    let help = q.call(&["PUBSUB", "HELP"]).array();
    assert_eq!(help.len(), 14);
    assert_eq!(help[0], status("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    assert_eq!(help[13], status("    Prints this help."));
}

#[test]
fn resp2_subscriber_mode_allows_only_pubsub_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    c.send(&resp(&["SUBSCRIBE", "ch"]));
    c.expect(&conf("subscribe", "ch", 1));

    assert_eq!(c.call(&["GET", "x"]), err(&subscriber_mode_error("get")));
    assert_eq!(c.call(&["PUBLISH", "ch", "x"]), err(&subscriber_mode_error("publish")));
    assert_eq!(c.call(&["CLIENT", "LIST"]), err(&subscriber_mode_error("client|list")));
    // Arity is checked first.
    assert_eq!(c.call(&["SUBSCRIBE"]), err("ERR wrong number of arguments for 'subscribe' command"));
    c.send(&resp(&["PING"]));
    c.expect(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    c.send(&resp(&["PING", "hi"]));
    c.expect(b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");

    // Shard subscriptions count on their own and also keep subscriber mode.
    c.send(&resp(&["SSUBSCRIBE", "s1"]));
    c.expect(&conf("ssubscribe", "s1", 1));
    c.send(&resp(&["UNSUBSCRIBE"]));
    c.expect(&conf("unsubscribe", "ch", 0));
    assert_eq!(c.call(&["GET", "x"]), err(&subscriber_mode_error("get")));
    c.send(&resp(&["SUNSUBSCRIBE"]));
    c.expect(&conf("sunsubscribe", "s1", 0));
    assert_eq!(c.call(&["GET", "x"]), nil());
    assert_eq!(c.call(&["PING"]), status("PONG"));

    // QUIT works in subscriber mode.
    c.send(&resp(&["SUBSCRIBE", "ch"]));
    c.expect(&conf("subscribe", "ch", 1));
    assert_eq!(c.call(&["QUIT"]), ok());
    c.expect_closed();
}

#[test]
fn reset_leaves_subscriber_mode() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut q = RawConn::connect(s.port);
    c.send(&resp(&["SUBSCRIBE", "a"]));
    c.expect(&conf("subscribe", "a", 1));
    c.send(&resp(&["PSUBSCRIBE", "p*"]));
    c.expect(&conf("psubscribe", "p*", 2));
    assert_eq!(c.call(&["RESET"]), status("RESET"));
    assert_eq!(c.call(&["GET", "x"]), nil());
    assert_eq!(numsub(&mut q, "NUMSUB", &["a"]), vec![("a".into(), 0)]);
    assert_eq!(q.call(&["PUBSUB", "NUMPAT"]), int(0));
    assert_eq!(q.call(&["PUBLISH", "a", "x"]), int(0));
    // Nothing was queued for it after RESET.
    assert_eq!(c.call(&["PING"]), status("PONG"));
}

#[test]
fn resp3_push_frames_interleave_with_replies() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut publ = RawConn::connect(s.port);
    c.call(&["HELLO", "3"]);
    c.send(&resp(&["SUBSCRIBE", "ch", "other"]));
    c.expect(&frame(b'>', &["subscribe", "ch"], Some(1)));
    c.expect(&frame(b'>', &["subscribe", "other"], Some(2)));
    // Every command works while subscribed.
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    assert_eq!(c.call(&["PING"]), status("PONG"));

    assert_eq!(publ.call(&["PUBLISH", "ch", "hi"]), int(1));
    c.expect(&frame(b'>', &["message", "ch", "hi"], None));
    // Publishing to its own channel: the message comes before the reply.
    c.send(&resp(&["PUBLISH", "ch", "self"]));
    c.expect(&frame(b'>', &["message", "ch", "self"], None));
    c.expect(b":1\r\n");

    let list = publ.call(&["CLIENT", "LIST"]).text();
    assert!(list.lines().any(|l| l.contains(" flags=P ") && l.contains(" sub=2 psub=0 ssub=0 ")), "{list}");

    c.send(&resp(&["UNSUBSCRIBE", "ch"]));
    c.expect(&frame(b'>', &["unsubscribe", "ch"], Some(1)));
    c.send(&resp(&["PUNSUBSCRIBE"]));
    c.expect(b">3\r\n$12\r\npunsubscribe\r\n_\r\n:1\r\n");
}

#[test]
fn shard_channels() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut publ = RawConn::connect(s.port);
    c.send(&resp(&["SSUBSCRIBE", "s1", "s2"]));
    c.expect(&conf("ssubscribe", "s1", 1));
    c.expect(&conf("ssubscribe", "s2", 2));
    // Shard counts are separate from channel counts.
    c.send(&resp(&["SUBSCRIBE", "c1"]));
    c.expect(&conf("subscribe", "c1", 1));

    assert_eq!(publ.call(&["SPUBLISH", "s1", "m"]), int(1));
    c.expect(&frame(b'*', &["smessage", "s1", "m"], None));
    // PUBLISH and SPUBLISH do not cross.
    assert_eq!(publ.call(&["PUBLISH", "s1", "m"]), int(0));
    assert_eq!(publ.call(&["SPUBLISH", "c1", "m"]), int(0));

    assert_eq!(sorted(publ.call(&["PUBSUB", "SHARDCHANNELS"]).strings()), vec!["s1", "s2"]);
    assert_eq!(publ.call(&["PUBSUB", "SHARDCHANNELS", "*2"]).strings(), vec!["s2"]);
    assert_eq!(publ.call(&["PUBSUB", "CHANNELS"]).strings(), vec!["c1"]);
    assert_eq!(numsub(&mut publ, "SHARDNUMSUB", &["s1", "c1"]), vec![("s1".into(), 1), ("c1".into(), 0)]);

    c.send(&resp(&["SUNSUBSCRIBE", "s1"]));
    c.expect(&conf("sunsubscribe", "s1", 1));
    assert_eq!(publ.call(&["SPUBLISH", "s1", "m"]), int(0));
}

#[test]
fn command_info_of_pubsub_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let info = c.call(&["COMMAND", "INFO", "subscribe", "publish", "ssubscribe", "spublish"]).array();
    let head = |i: usize| {
        let a = info[i].array();
        (a[0].text(), a[1].int(), a[3].int(), a[4].int(), a[5].int())
    };
    assert_eq!(head(0), ("subscribe".into(), -2, 0, 0, 0));
    assert_eq!(head(1), ("publish".into(), 3, 0, 0, 0));
    assert_eq!(head(2), ("ssubscribe".into(), -2, 1, -1, 1));
    assert_eq!(head(3), ("spublish".into(), 3, 1, 1, 1));
    let flags = |i: usize| {
        let mut f: Vec<String> = info[i].array()[2].array().iter().map(|r| r.text()).collect();
        f.sort();
        f
    };
    assert_eq!(flags(0), vec!["loading", "noscript", "pubsub", "stale"]);
    assert_eq!(flags(1), vec!["fast", "loading", "pubsub", "stale"]);
}

#[test]
fn slow_subscriber_is_disconnected_past_its_output_buffer_limit() {
    let s = TestServer::start();
    let mut publ = RawConn::connect(s.port);
    assert_eq!(publ.call(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 128kb 60"]), ok());
    assert_eq!(
        publ.call(&["CONFIG", "GET", "client-output-buffer-limit"]),
        arr(vec![
            bulk("client-output-buffer-limit"),
            bulk("normal 0 0 0 slave 268435456 67108864 60 pubsub 262144 131072 60")
        ])
    );

    // The slow subscriber never reads; the fast one reads everything.
    let mut slow = RawConn::connect(s.port);
    slow.send(&resp(&["SUBSCRIBE", "flood"]));
    slow.expect(&conf("subscribe", "flood", 1));
    let slow_id = {
        let mut q = RawConn::connect(s.port);
        let list = q.call(&["CLIENT", "LIST"]).text();
        list.lines().find(|l| l.contains(" flags=P ")).and_then(|l| l.split(' ').next()).map(str::to_owned)
    }
    .expect("the subscriber in CLIENT LIST");
    let mut fast = RawConn::connect(s.port);
    fast.send(&resp(&["SUBSCRIBE", "calm"]));
    fast.expect(&conf("subscribe", "calm", 1));

    let payload = "x".repeat(64 * 1024);
    let mut published = 0;
    loop {
        let n = publ.call(&["PUBLISH", "flood", &payload]).int();
        published += 1;
        if n == 0 {
            break;
        }
        assert!(published < 4000, "the slow subscriber was never disconnected");
    }
    // The publisher and the other subscriber are unaffected.
    assert_eq!(publ.call(&["PING"]), status("PONG"));
    assert_eq!(publ.call(&["PUBLISH", "calm", "still here"]), int(1));
    fast.expect(&msg("calm", "still here"));
    let list = publ.call(&["CLIENT", "LIST"]).text();
    assert!(!list.lines().any(|l| l.starts_with(&format!("{slow_id} "))), "{list}");
    // The slow subscriber's socket ends after whatever had already reached it.
    slow.set_read_timeout(Duration::from_secs(10));
    let _ = slow.read_until_closed();
}

#[test]
fn output_buffer_limit_config_errors() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let e = |reason: &str| {
        err(&format!("ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - {reason}"))
    };
    assert_eq!(
        c.call(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1k"]),
        e("Wrong number of arguments in buffer limit configuration.")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"]),
        e("Invalid client class specified in buffer limit configuration.")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 10 20 x"]),
        e("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
    );
    assert_eq!(c.call(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2 3 replica 1 2 3"]), ok());
    assert_eq!(
        c.call(&["CONFIG", "GET", "client-output-buffer-limit"]).array()[1],
        bulk("normal 1048576 2 3 slave 1 2 3 pubsub 33554432 8388608 60")
    );
}

#[test]
fn slow_subscriber_over_the_soft_limit_for_too_long_is_disconnected() {
    let s = TestServer::start();
    let mut publ = RawConn::connect(s.port);
    // No hard limit: only staying over 64kb for more than a second counts.
    assert_eq!(publ.call(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 64kb 1"]), ok());
    let mut slow = RawConn::connect(s.port);
    slow.send(&resp(&["SUBSCRIBE", "flood"]));
    slow.expect(&conf("subscribe", "flood", 1));

    let payload = "x".repeat(64 * 1024);
    let started = Instant::now();
    let mut over_since: Option<Instant> = None;
    loop {
        let n = publ.call(&["PUBLISH", "flood", &payload]).int();
        if n == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the slow subscriber was never disconnected");
        over_since.get_or_insert_with(Instant::now);
        // Paced, so the queue grows slowly (memory stays small) while the second passes.
        std::thread::sleep(Duration::from_millis(10));
    }
    // Disconnected only after the soft period began.
    assert!(over_since.is_some_and(|t| t.elapsed() >= Duration::from_secs(1)));
    assert_eq!(publ.call(&["PING"]), status("PONG"));
}

#[test]
fn idle_timeout_spares_subscribers() {
    let s = TestServer::start();
    let mut cfg = RawConn::connect(s.port);
    assert_eq!(cfg.call(&["CONFIG", "SET", "timeout", "1"]), ok());
    let mut sub = RawConn::connect(s.port);
    sub.send(&resp(&["SUBSCRIBE", "ch"]));
    sub.expect(&conf("subscribe", "ch", 1));
    let mut idle = RawConn::connect(s.port);
    assert_eq!(idle.call(&["PING"]), status("PONG"));
    // The idle plain client is closed; the idle subscriber is not.
    idle.set_read_timeout(Duration::from_secs(10));
    idle.expect_closed();
    let mut publ = RawConn::connect(s.port);
    assert_eq!(publ.call(&["PUBLISH", "ch", "still"]), int(1));
    sub.expect(&msg("ch", "still"));
}

#[test]
fn client_list_and_kill_by_type_pubsub() {
    let s = TestServer::start();
    let mut q = RawConn::connect(s.port);
    let mut sub = RawConn::connect(s.port);
    sub.send(&resp(&["SUBSCRIBE", "ch"]));
    sub.expect(&conf("subscribe", "ch", 1));
    let pubsub = q.call(&["CLIENT", "LIST", "TYPE", "pubsub"]).text();
    assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
    assert!(pubsub.contains(" flags=P "), "{pubsub}");
    let normal = q.call(&["CLIENT", "LIST", "TYPE", "normal"]).text();
    assert_eq!(normal.lines().count(), 1, "{normal}");
    assert!(normal.contains(" cmd=client|list "), "{normal}");
    assert_eq!(q.call(&["CLIENT", "KILL", "TYPE", "pubsub"]), int(1));
    sub.set_read_timeout(Duration::from_secs(10));
    sub.expect_closed();
    assert_eq!(q.call(&["CLIENT", "KILL", "TYPE", "pubsub"]), int(0));
}
