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

#[test]
fn list_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["RPUSH", "l", "a", "b", "c"],
                &["LPUSH", "l", "z"],
                &["LPUSHX", "nolist", "x"],
                &["RPUSHX", "l", "d"],
                &["LSET", "l", "0", "y"],
                &["LINSERT", "l", "BEFORE", "a", "q"],
                &["LINSERT", "l", "BEFORE", "nopivot", "q"],
                &["LREM", "l", "0", "q"],
                &["LREM", "l", "0", "nothere"],
                &["LPOP", "l"],
                &["RPOP", "l", "2"],
                &["LTRIM", "l", "0", "-1"]
            ]
        ),
        ev(&[
            ("rpush", "l"),
            ("lpush", "l"),
            ("rpush", "l"),
            ("lset", "l"),
            ("linsert", "l"),
            ("lrem", "l"),
            ("lpop", "l"),
            ("rpop", "l"),
            ("ltrim", "l")
        ])
    );
    // Emptying a list: the command's event, then `del`.
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["RPUSH", "m", "1", "2"],
                &["LMOVE", "m", "n", "LEFT", "RIGHT"],
                &["RPOPLPUSH", "m", "n"],
                &["LTRIM", "n", "5", "10"]
            ]
        ),
        ev(&[
            ("rpush", "m"),
            ("rpush", "n"),
            ("lpop", "m"),
            ("lpush", "n"),
            ("rpop", "m"),
            ("del", "m"),
            ("ltrim", "n"),
            ("del", "n")
        ])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[&["RPUSH", "o", "1"], &["LMPOP", "2", "none", "o", "LEFT"], &["RPUSH", "p", "1"], &["BLPOP", "p", "0"]]
        ),
        ev(&[("rpush", "o"), ("lpop", "o"), ("del", "o"), ("rpush", "p"), ("lpop", "p"), ("del", "p")])
    );
}

#[test]
fn hash_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["HSET", "h", "a", "1", "b", "2"],
                &["HSET", "h", "a", "1"],
                &["HMSET", "h", "c", "3"],
                &["HSETNX", "h", "a", "9"],
                &["HSETNX", "h", "d", "4"],
                &["HINCRBY", "h", "a", "1"],
                &["HINCRBYFLOAT", "h", "a", "0.5"],
                &["HDEL", "h", "nosuch"],
                &["HDEL", "h", "a", "b", "c"],
                &["HDEL", "h", "d"]
            ]
        ),
        ev(&[
            ("hset", "h"),
            ("hset", "h"),
            ("hset", "h"),
            ("hset", "h"),
            ("hincrby", "h"),
            ("hincrbyfloat", "h"),
            ("hdel", "h"),
            ("hdel", "h"),
            ("del", "h")
        ])
    );
}

#[test]
fn set_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["SADD", "s", "a", "b", "c"],
                &["SADD", "s", "a"],
                &["SREM", "s", "nosuch"],
                &["SREM", "s", "a"],
                &["SMOVE", "s", "t", "b"],
                &["SMOVE", "s", "t", "nosuch"],
                &["SADD", "t", "c"],
                &["SMOVE", "s", "t", "c"],
                &["SPOP", "t"],
                &["SPOP", "t", "5"],
                &["SPOP", "t"]
            ]
        ),
        ev(&[
            ("sadd", "s"),
            ("srem", "s"),
            ("srem", "s"),
            ("sadd", "t"),
            ("sadd", "t"),
            ("srem", "s"),
            ("del", "s"),
            ("spop", "t"),
            ("spop", "t"),
            ("del", "t")
        ])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["SADD", "x", "1", "2"],
                &["SADD", "y", "2", "3"],
                &["SINTERSTORE", "i", "x", "y"],
                &["SUNIONSTORE", "u", "x", "y"],
                &["SDIFFSTORE", "d", "x", "y"],
                &["SDIFFSTORE", "i", "x", "x"],
                &["SDIFFSTORE", "none", "x", "x"]
            ]
        ),
        ev(&[
            ("sadd", "x"),
            ("sadd", "y"),
            ("sinterstore", "i"),
            ("sunionstore", "u"),
            ("sdiffstore", "d"),
            ("del", "i")
        ])
    );
}

#[test]
fn sorted_set_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
                &["ZADD", "z", "1", "a"],
                &["ZADD", "z", "9", "a"],
                &["ZADD", "z", "INCR", "1", "a"],
                &["ZINCRBY", "z", "1", "b"],
                &["ZREM", "z", "nosuch"],
                &["ZREM", "z", "a"],
                &["ZREMRANGEBYSCORE", "z", "100", "200"],
                &["ZREMRANGEBYSCORE", "z", "0", "3"],
                &["ZREMRANGEBYRANK", "z", "0", "0"],
                &["ZADD", "z", "0", "m", "0", "n"],
                &["ZREMRANGEBYLEX", "z", "-", "(n"],
                &["ZPOPMIN", "z"],
                &["ZPOPMAX", "z", "10"]
            ]
        ),
        ev(&[
            ("zadd", "z"),
            ("zadd", "z"),
            ("zincr", "z"),
            ("zincr", "z"),
            ("zrem", "z"),
            ("zremrangebyscore", "z"),
            ("zremrangebyrank", "z"),
            ("zadd", "z"),
            ("zremrangebylex", "z"),
            ("zpopmin", "z"),
            ("zpopmax", "z"),
            ("del", "z")
        ])
    );
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["ZADD", "x", "1", "a", "2", "b"],
                &["ZADD", "y", "1", "b"],
                &["ZUNIONSTORE", "u", "2", "x", "y"],
                &["ZINTERSTORE", "i", "2", "x", "y"],
                &["ZDIFFSTORE", "d", "2", "x", "y"],
                &["ZRANGESTORE", "r", "x", "0", "0"],
                &["ZRANGESTORE", "r", "x", "5", "6"],
                &["ZMPOP", "1", "y", "MIN"],
                &["BZPOPMIN", "x", "0"]
            ]
        ),
        ev(&[
            ("zadd", "x"),
            ("zadd", "y"),
            ("zunionstore", "u"),
            ("zinterstore", "i"),
            ("zdiffstore", "d"),
            ("zrangestore", "r"),
            ("del", "r"),
            ("zpopmin", "y"),
            ("del", "y"),
            ("zpopmin", "x")
        ])
    );
}

#[test]
fn stream_commands() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["XADD", "st", "1-1", "f", "v"],
                &["XADD", "st", "2-1", "f", "v"],
                &["XADD", "st", "MAXLEN", "2", "3-1", "f", "v"],
                &["XADD", "nost", "NOMKSTREAM", "*", "f", "v"],
                &["XDEL", "st", "2-1", "9-9"],
                &["XDEL", "st", "9-9"],
                &["XTRIM", "st", "MAXLEN", "0"],
                &["XTRIM", "st", "MAXLEN", "0"],
                &["XSETID", "st", "10-0"],
                &["XGROUP", "CREATE", "st", "g", "$"],
                &["XGROUP", "SETID", "st", "g", "0"],
                &["XGROUP", "CREATECONSUMER", "st", "g", "alice"],
                &["XGROUP", "CREATECONSUMER", "st", "g", "alice"],
                &["XGROUP", "DELCONSUMER", "st", "g", "alice"],
                &["XGROUP", "DESTROY", "st", "g"],
                &["XGROUP", "DESTROY", "st", "g"]
            ]
        ),
        ev(&[
            ("xadd", "st"),
            ("xadd", "st"),
            ("xadd", "st"),
            ("xtrim", "st"),
            ("xdel", "st"),
            ("xtrim", "st"),
            ("xsetid", "st"),
            ("xgroup-create", "st"),
            ("xgroup-setid", "st"),
            ("xgroup-createconsumer", "st"),
            ("xgroup-delconsumer", "st"),
            ("xgroup-destroy", "st")
        ])
    );
    // Consumers created by reads and claims are announced too; XACK is not.
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[
                &["XADD", "s2", "1-1", "f", "v"],
                &["XGROUP", "CREATE", "s2", "g", "0"],
                &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s2", ">"],
                &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s2", ">"],
                &["XCLAIM", "s2", "g", "carol", "0", "1-1"],
                &["XAUTOCLAIM", "s2", "g", "dave", "0", "0"],
                &["XACK", "s2", "g", "1-1"],
                &["XGROUP", "CREATE", "s3", "g", "$", "MKSTREAM"]
            ]
        ),
        ev(&[
            ("xadd", "s2"),
            ("xgroup-create", "s2"),
            ("xgroup-createconsumer", "s2"),
            ("xgroup-createconsumer", "s2"),
            ("xgroup-createconsumer", "s2"),
            ("xgroup-create", "s3")
        ])
    );
}

#[test]
fn sort_store() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "EA");
    assert_eq!(
        events_of(
            &mut l,
            &mut c,
            &[&["RPUSH", "src", "3", "1", "2"], &["SORT", "src", "STORE", "dst"], &["SORT", "nosuch", "STORE", "dst"]]
        ),
        ev(&[("rpush", "src"), ("sortstore", "dst"), ("del", "dst")])
    );
}

#[test]
fn notifications_of_a_pipeline_arrive_in_order() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "E$g");
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.extend(resp(&["SET", &format!("k{i}"), "v"]));
    }
    batch.extend(resp(&["DEL", "k0", "k1"]));
    c.send(&batch);
    for _ in 0..21 {
        assert!(!c.read_reply().is_err());
    }
    let mut want: Vec<String> = (0..20).map(|i| format!("__keyevent@0__:set k{i}")).collect();
    want.extend(ev(&[("del", "k0"), ("del", "k1")]));
    assert_eq!(l.drain(), want);
}

#[test]
fn key_misses() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    assert_eq!(c.call(&["SET", "present", "1"]), ok());
    let mut l = Listener::new(&s, "Em");
    let cmds: &[&[&str]] = &[
        &["GET", "m1"],
        &["MGET", "m2", "present", "m3"],
        &["EXISTS", "m4"],
        &["TYPE", "m5"],
        &["TTL", "m6"],
        &["LRANGE", "m7", "0", "-1"],
        &["HGET", "m8", "f"],
        &["SMEMBERS", "m9"],
        &["ZRANGE", "m10", "0", "-1"],
        &["XRANGE", "m11", "-", "+"],
        &["STRLEN", "m12"],
        &["OBJECT", "ENCODING", "m13"],
        &["GETDEL", "m14"],
        &["SCARD", "m15"],
        &["TOUCH", "m18"],
        &["GETEX", "m19"],
        &["SINTERCARD", "1", "m21"],
        &["ZUNION", "1", "m23"],
        &["SORT", "m25"],
        &["SORT_RO", "m26"],
        &["LCS", "m34", "m35"],
        &["COPY", "m44", "m45"],
        &["RENAME", "m46", "m47"],
        &["INCR", "m33"],
        &["SET", "n4", "v", "GET"],
        &["SINTERSTORE", "d2", "n2"],
        &["ZUNIONSTORE", "d3", "1", "n3"],
        &["ZRANGESTORE", "d10", "n10", "0", "1"],
        &["LMOVE", "n5", "x", "LEFT", "LEFT"],
        &["GET", "present"],
    ];
    for cmd in cmds {
        c.call(cmd);
    }
    let keys = "m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 m14 m15 m18 m19 m21 m23 m25 m26 m34 m35 m44 n4 n2 n3 n10";
    let want: Vec<String> = keys.split(' ').map(|k| format!("__keyevent@0__:keymiss {k}")).collect();
    assert_eq!(l.drain(), want);
}

#[test]
fn transactions_and_scripts_announce_their_writes() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    let mut other = RawConn::connect(s.port);
    let mut l = Listener::new(&s, "E$lg");
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "a", "1"]), status("QUEUED"));
    assert_eq!(c.call(&["RPUSH", "l", "x"]), status("QUEUED"));
    assert_eq!(c.call(&["LPOP", "l"]), status("QUEUED"));
    assert_eq!(c.call(&["EXEC"]).array().len(), 3);
    assert_eq!(l.drain(), ev(&[("set", "a"), ("rpush", "l"), ("lpop", "l"), ("del", "l")]));

    // A transaction whose WATCH broke writes nothing and announces nothing.
    assert_eq!(c.call(&["WATCH", "a"]), ok());
    assert_eq!(other.call(&["SET", "a", "2"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "b", "1"]), status("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), Reply::Nil);
    assert_eq!(l.drain(), ev(&[("set", "a")]));

    assert_eq!(
        c.call(&["EVAL", "redis.call('set', KEYS[1], 'v'); redis.call('del', KEYS[1]); return 1", "1", "s"]),
        int(1)
    );
    assert_eq!(l.drain(), ev(&[("set", "s"), ("del", "s")]));
}
