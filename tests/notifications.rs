//! Keyspace notifications (`notify-keyspace-events`): the events every family's write commands
//! fire, in Redis's order; keyspace vs keyevent channels; class filtering; `new`; `expired`
//! from lazy and active expiry; CONFIG GET's normalized flags.
//!
//! A subscriber listens on every keyspace / keyevent channel plus a sentinel channel: after
//! the commands under test, a PUBLISH to the sentinel marks the end of their events (the
//! server publishes a command's notifications before replying to it).

mod common;

use std::time::Duration;

use common::*;

const SENTINEL: &str = "zz-sentinel";

/// Listens to all notifications of a server.
struct Listener {
    sub: RawConn,
    ctl: RawConn,
}

impl Listener {
    fn new(s: &TestServer, flags: &str) -> Listener {
        let mut ctl = RawConn::connect(s.port);
        assert_eq!(ctl.call(&["CONFIG", "SET", "notify-keyspace-events", flags]), ok());
        let mut sub = RawConn::connect(s.port);
        assert_eq!(sub.call(&["PSUBSCRIBE", "__key*__:*"]), arr(vec![bulk("psubscribe"), bulk("__key*__:*"), int(1)]));
        assert_eq!(sub.call(&["SUBSCRIBE", SENTINEL]), arr(vec![bulk("subscribe"), bulk(SENTINEL), int(2)]));
        Listener { sub, ctl }
    }

    /// The next notification: (channel, message).
    fn next(&mut self) -> (String, String) {
        let m = self.sub.read_reply().array();
        match m.len() {
            4 => (m[2].text(), m[3].text()),
            3 => (m[1].text(), m[2].text()),
            _ => panic!("unexpected frame {m:?}"),
        }
    }

    /// Every notification up to the sentinel, as "channel message" strings.
    fn drain(&mut self) -> Vec<String> {
        assert_eq!(self.ctl.call(&["PUBLISH", SENTINEL, "end"]), int(1));
        let mut out = Vec::new();
        loop {
            let (channel, message) = self.next();
            if channel == SENTINEL {
                return out;
            }
            out.push(format!("{channel} {message}"));
        }
    }
}

/// `__keyevent@0__:<event> <key>` lines for db 0.
fn ev(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs.iter().map(|(e, k)| format!("__keyevent@0__:{e} {k}")).collect()
}

/// Runs `cmds` on `c` and returns the keyevent notifications they caused.
fn events_of(l: &mut Listener, c: &mut RawConn, cmds: &[&[&str]]) -> Vec<String> {
    for cmd in cmds {
        let r = c.call(cmd);
        assert!(!r.is_err(), "{cmd:?} failed: {r:?}");
    }
    l.drain()
}

#[test]
fn config_flags_are_normalized_like_redis() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let get = |c: &mut RawConn| c.call(&["CONFIG", "GET", "notify-keyspace-events"]).array()[1].text();
    assert_eq!(get(&mut c), "");
    for (set, want) in [
        ("KEA", "AKE"),
        ("Kgx$", "g$xK"),
        ("mEKndtexzhsl$", "$lshzxetdnKEm"),
        ("EnmdK", "dnKEm"),
        ("Ad", "A"),
        ("", ""),
    ] {
        assert_eq!(c.call(&["CONFIG", "SET", "notify-keyspace-events", set]), ok());
        assert_eq!(get(&mut c), want, "{set}");
    }
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "zyx"]),
        err("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    );
}

#[test]
fn keyspace_and_keyevent_channels() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);

    let mut l = Listener::new(&s, "K$");
    assert_eq!(events_of(&mut l, &mut c, &[&["SET", "k", "v"]]), vec!["__keyspace@0__:k set"]);
    drop(l);

    let mut l = Listener::new(&s, "E$");
    assert_eq!(events_of(&mut l, &mut c, &[&["SET", "k", "v"]]), vec!["__keyevent@0__:set k"]);
    drop(l);

    // Both: the keyspace message first; other databases carry their number.
    let mut l = Listener::new(&s, "KE$");
    assert_eq!(c.call(&["SELECT", "3"]), ok());
    assert_eq!(events_of(&mut l, &mut c, &[&["SET", "k", "v"]]), vec!["__keyspace@3__:k set", "__keyevent@3__:set k"]);
    assert_eq!(c.call(&["SELECT", "0"]), ok());
    drop(l);

    // Without K or E nothing is published, whatever the classes.
    let mut l = Listener::new(&s, "A");
    assert_eq!(events_of(&mut l, &mut c, &[&["SET", "k", "v"], &["DEL", "k"]]), Vec::<String>::new());
    drop(l);

    // Classes filter: generic only.
    let mut l = Listener::new(&s, "Eg");
    assert_eq!(events_of(&mut l, &mut c, &[&["SET", "k", "v"], &["DEL", "k"]]), ev(&[("del", "k")]));
}

#[test]
fn string_and_generic_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");

    assert_eq!(
        events_of(&mut l, &mut c, &[&["SET", "k", "v"], &["SET", "k", "v", "EX", "100"], &["SET", "k", "w", "NX"]]),
        ev(&[("set", "k"), ("set", "k"), ("expire", "k")])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["SETEX", "e", "100", "v"],
                &["PSETEX", "e", "100000", "v"],
                &["SETNX", "e", "v"],
                &["SETNX", "f", "v"],
                &["GETSET", "f", "w"]
            ]
        ),
        ev(&[("set", "e"), ("expire", "e"), ("set", "e"), ("expire", "e"), ("set", "f"), ("set", "f")])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["INCR", "n"],
                &["DECRBY", "n", "5"],
                &["INCRBYFLOAT", "n", "1.5"],
                &["APPEND", "k", "x"],
                &["SETRANGE", "k", "0", "ab"],
                &["SETRANGE", "k", "0", ""]
            ]
        ),
        ev(&[("incrby", "n"), ("incrby", "n"), ("incrbyfloat", "n"), ("append", "k"), ("setrange", "k")])
    );
    // A failed INCR announces nothing.
    assert!(c.call(&["INCR", "k"]).is_err());
    assert_eq!(l.drain(), Vec::<String>::new());

    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["MSET", "a", "1", "b", "2"],
                &["MSETNX", "a", "1", "c", "3"],
                &["MSETNX", "c", "3", "d", "4"],
                &["GETEX", "a", "EX", "100"],
                &["GETEX", "a", "PERSIST"],
                &["GETEX", "a", "PERSIST"],
                &["GETEX", "a"],
                &["GETDEL", "b"],
                &["GETDEL", "b"]
            ]
        ),
        ev(&[("set", "a"), ("set", "b"), ("set", "c"), ("set", "d"), ("expire", "a"), ("persist", "a"), ("del", "b")])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["EXPIRE", "a", "100"],
                &["EXPIRE", "a", "50", "GT"],
                &["PEXPIRE", "a", "100000"],
                &["PERSIST", "a"],
                &["PERSIST", "a"],
                &["EXPIRE", "nosuch", "10"],
                &["EXPIRE", "c", "-1"],
                &["DEL", "a", "nosuch", "d"],
                &["UNLINK", "e"]
            ]
        ),
        ev(&[
            ("expire", "a"),
            ("expire", "a"),
            ("persist", "a"),
            ("del", "c"),
            ("del", "a"),
            ("del", "d"),
            ("del", "e")
        ])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["SET", "r", "1"],
                &["RENAME", "r", "r2"],
                &["RENAMENX", "r2", "f"],
                &["RENAMENX", "r2", "r3"],
                &["RENAME", "r3", "r3"]
            ]
        ),
        ev(&[("set", "r"), ("rename_from", "r"), ("rename_to", "r2"), ("rename_from", "r2"), ("rename_to", "r3")])
    );
    assert_eq!(
        events_of(&mut l, &mut c, &[&["COPY", "r3", "r4"], &["COPY", "r3", "r4"], &["COPY", "r3", "r5", "DB", "2"]]),
        vec!["__keyevent@0__:copy_to r4", "__keyevent@2__:copy_to r5"]
    );
    assert_eq!(
        events_of(&mut l, &mut c, &[&["MOVE", "r3", "1"], &["MOVE", "r3", "1"]]),
        vec!["__keyevent@0__:move_from r3", "__keyevent@1__:move_to r3"]
    );
}

#[test]
fn new_keys() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    // `A` does not include `n`.
    let mut l = Listener::new(&s, "EA");
    assert_eq!(events_of(&mut l, &mut c, &[&["SET", "k", "v"]]), ev(&[("set", "k")]));
    drop(l);
    let mut l = Listener::new(&s, "En$");
    assert_eq!(
        events_of(&mut l, &mut c, &[&["SET", "k2", "v"], &["SET", "k2", "w"], &["MSET", "k3", "1", "k2", "2"]]),
        ev(&[("new", "k2"), ("set", "k2"), ("set", "k2"), ("new", "k3"), ("set", "k3"), ("set", "k2")])
    );
    assert_eq!(
        events_of(&mut l, &mut c, &[&["INCR", "k4"], &["RENAME", "k4", "k5"]]),
        ev(&[("new", "k4"), ("incrby", "k4"), ("new", "k5")])
    );
}

#[test]
fn expired_keys_lazy_and_active() {
    // Redis refuses DEBUG unless enabled; Strata has no such directive.
    let s = if target_is_redis() {
        TestServer::start_with(&["--enable-debug-command", "yes"])
    } else {
        TestServer::start()
    };
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "Ex");

    // Lazy: active expiry off, the read finds the key expired.
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(c.call(&["SET", "lazy", "v", "PX", "30"]), ok());
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.call(&["GET", "lazy"]), nil());
    assert_eq!(l.drain(), ev(&[("expired", "lazy")]));

    // A write to an expired key announces the expiry first.
    assert_eq!(c.call(&["SET", "w", "v", "PX", "30"]), ok());
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.call(&["DEL", "w"]), int(0));
    assert_eq!(l.drain(), ev(&[("expired", "w")]));

    // Active: nobody touches the key; the server expires it on its own.
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    assert_eq!(c.call(&["SET", "active", "v", "PX", "30"]), ok());
    l.sub.set_read_timeout(Duration::from_secs(10));
    assert_eq!(l.next(), ("__keyevent@0__:expired".to_string(), "active".to_string()));
    assert_eq!(c.call(&["EXISTS", "active"]), int(0));
}
