//! ACL users (Redis 7.2's): ACL commands, rules, NOPERM for commands, keys and channels at top
//! level, in EXEC and in scripts, AUTH/HELLO, the ACL log, disconnections, the ACL file and
//! `requirepass`. Runs against redis-server too (`STRATA_TEST_TARGET=redis`): where 7.0 and
//! 7.2 word things differently both are accepted; tests of Strata-only behaviour say so.

mod common;

use common::*;

/// The error text of a reply (panics on anything else).
fn err_text(r: &Reply) -> String {
    match r {
        Reply::Err(e) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A client authenticated as `user`.
async fn client_as(s: &TestServer, user: &str, pass: &str) -> redis::aio::MultiplexedConnection {
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["AUTH", user, pass]).await, ok());
    c
}

/// ACL LIST / file lines without Redis 7.2's `sanitize-payload` flag (7.0 does not show it).
fn without_sanitize(line: &str) -> String {
    line.replace(" sanitize-payload", "")
}

fn s_is_strata() -> bool {
    !target_is_redis()
}

fn denied_command(r: &Reply, user: &str, cmd: &str) {
    let e = err_text(r);
    assert!(
        e == format!("NOPERM User {user} has no permissions to run the '{cmd}' command")
            || e == format!("NOPERM this user has no permissions to run the '{cmd}' command"),
        "{e}"
    );
}

fn denied_key(r: &Reply) {
    let e = err_text(r);
    assert!(
        e == "NOPERM No permissions to access a key"
            || e == "NOPERM this user has no permissions to access one of the keys used as arguments",
        "{e}"
    );
}

fn denied_channel(r: &Reply) {
    let e = err_text(r);
    assert!(
        e == "NOPERM No permissions to access a channel"
            || e == "NOPERM this user has no permissions to access one of the channels used as arguments",
        "{e}"
    );
}

#[tokio::test]
async fn setuser_list_getuser_users_whoami() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let list = call(&mut c, &["ACL", "LIST"]).await.strings();
    assert_eq!(list.iter().map(|l| without_sanitize(l)).collect::<Vec<_>>(), ["user default on nopass ~* &* +@all"]);
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "bob"]).await, ok());
    assert_eq!(
        without_sanitize(&call(&mut c, &["ACL", "LIST"]).await.strings()[0]),
        "user bob off resetchannels -@all"
    );
    let rules = [
        "ACL",
        "SETUSER",
        "bob",
        "on",
        ">pw",
        "~k*",
        "%R~r*",
        "%W~w*",
        "&ch*",
        "+get",
        "-@all",
        "+@string",
        "-incr",
        "+config|get",
        "+select|0",
    ];
    assert_eq!(call(&mut c, &rules).await, ok());
    let hash = "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4";
    // Redis 7.2 shows the command rules in the order given (7.0.15 does not always).
    let same = |a: &str, b: &str| {
        let words = |s: &str| {
            let mut w: Vec<String> = s.split(' ').map(str::to_owned).collect();
            if !s_is_strata() {
                w.sort();
            }
            w
        };
        assert_eq!(words(a), words(b));
    };
    same(
        &without_sanitize(&call(&mut c, &["ACL", "LIST"]).await.strings()[0]),
        &format!("user bob on #{hash} ~k* %R~r* %W~w* resetchannels &ch* -@all +@string -incr +config|get +select|0"),
    );
    let Reply::Array(fields) = call(&mut c, &["ACL", "GETUSER", "bob"]).await else { panic!("GETUSER") };
    let names: Vec<String> = fields.iter().step_by(2).map(Reply::text).collect();
    assert_eq!(names, ["flags", "passwords", "commands", "keys", "channels", "selectors"]);
    assert_eq!(fields[3].strings(), [hash]);
    same(&fields[5].text(), "-@all +@string -incr +config|get +select|0");
    assert_eq!(fields[7].text(), "~k* %R~r* %W~w*");
    assert_eq!(fields[9].text(), "&ch*");
    assert!(fields[1].strings().contains(&"on".to_string()), "{fields:?}");
    assert_eq!(call(&mut c, &["ACL", "GETUSER", "nobody"]).await, nil());
    assert_eq!(call(&mut c, &["ACL", "USERS"]).await.strings(), ["bob", "default"]);
    assert_eq!(call(&mut c, &["ACL", "WHOAMI"]).await, bulk("default"));
    let mut b = client_as(&s, "bob", "pw").await;
    assert_eq!(call(&mut b, &["GET", "k1"]).await, nil());
    // +select|0: the first argument 0 only.
    assert_eq!(call(&mut b, &["SELECT", "0"]).await, ok());
    denied_command(&call(&mut b, &["SELECT", "1"]).await, "bob", "select");
    denied_command(&call(&mut b, &["INCR", "k1"]).await, "bob", "incr");
    denied_command(&call(&mut b, &["CONFIG", "SET", "hz", "10"]).await, "bob", "config|set");
    assert!(!call(&mut b, &["CONFIG", "GET", "hz"]).await.is_err());
    let clients = call(&mut c, &["CLIENT", "LIST"]).await.text();
    assert!(clients.contains(" user=bob "), "{clients}");
    // Bad rules change nothing and say which one is wrong.
    for (op, why) in [
        ("+nosuchcommand", "Unknown command or category name in ACL"),
        ("+@nosuchcat", "Unknown command or category name in ACL"),
        ("#abc", "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
        ("<notapassword", "The password you are trying to remove from the user does not exist"),
        ("bogus", "Syntax error"),
    ] {
        assert_eq!(
            call(&mut c, &["ACL", "SETUSER", "bob", "off", op]).await,
            err(&format!("ERR Error in ACL SETUSER modifier '{op}': {why}")),
            "{op}"
        );
    }
    assert_eq!(
        call(&mut c, &["ACL", "SETUSER", "bob", "allkeys", "~x"]).await,
        err("ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
    );
    assert!(without_sanitize(&call(&mut c, &["ACL", "LIST"]).await.strings()[0]).starts_with("user bob on #"));
    assert_eq!(
        call(&mut c, &["ACL", "SETUSER", "bad name"]).await,
        err("ERR Usernames can't contain spaces or null characters")
    );
}

#[tokio::test]
async fn keys_read_write_and_channels() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let setup = ["ACL", "SETUSER", "u", "on", "nopass", "+@all", "~k*", "%R~r*", "%W~w*", "&news.*"];
    assert_eq!(call(&mut c, &setup).await, ok());
    let mut u = client_as(&s, "u", "any").await;
    assert_eq!(call(&mut u, &["SET", "k1", "v"]).await, ok());
    denied_key(&call(&mut u, &["SET", "x", "v"]).await);
    denied_key(&call(&mut u, &["MSET", "k1", "v", "x", "v"]).await);
    assert_eq!(call(&mut u, &["GET", "r1"]).await, nil());
    denied_key(&call(&mut u, &["SET", "r1", "v"]).await);
    assert_eq!(call(&mut u, &["SET", "w1", "v"]).await, ok());
    denied_key(&call(&mut u, &["GET", "w1"]).await);
    // Movable keys: EVAL's declared keys are checked.
    denied_key(&call(&mut u, &["EVAL", "return 1", "1", "x"]).await);
    assert_eq!(call(&mut u, &["PUBLISH", "news.today", "hi"]).await, int(0));
    denied_channel(&call(&mut u, &["PUBLISH", "sports", "hi"]).await);
    // PSUBSCRIBE patterns match the ACL's patterns literally.
    assert_eq!(call(&mut c, &["ACL", "DRYRUN", "u", "PSUBSCRIBE", "news.*"]).await, ok());
    let r = call(&mut c, &["ACL", "DRYRUN", "u", "PSUBSCRIBE", "news.a*"]).await.text();
    assert!(r.ends_with("no permissions to access the 'news.a*' channel"), "{r}");
    let r = call(&mut c, &["ACL", "DRYRUN", "u", "GET", "x"]).await.text();
    assert!(
        r == "User u has no permissions to access the 'x' key"
            || r == "This user has no permissions to access the 'x' key",
        "{r}"
    );
    assert_eq!(call(&mut c, &["ACL", "DRYRUN", "u", "GET", "k"]).await, ok());
    assert_eq!(call(&mut c, &["ACL", "DRYRUN", "nobody", "GET", "k"]).await, err("ERR User 'nobody' not found"));
    assert_eq!(call(&mut c, &["ACL", "DRYRUN", "u", "NOSUCH"]).await, err("ERR Command 'NOSUCH' not found"));
    // The log has the key refusal, newest first.
    let log = call(&mut c, &["ACL", "LOG", "1"]).await.array();
    let entry = log[0].array();
    let field =
        |name: &str| entry[entry.iter().position(|f| *f == bulk(name)).unwrap_or_else(|| panic!("{name}")) + 1].clone();
    assert_eq!(field("reason").text(), "channel");
    assert_eq!(field("context").text(), "toplevel");
    assert_eq!(field("object").text(), "sports");
    assert_eq!(field("username").text(), "u");
    assert!(field("client-info").text().contains("user=u"), "{entry:?}");
    let info = info_fields(&call(&mut c, &["INFO", "stats"]).await.text());
    if s.is_strata() || info.contains_key("acl_access_denied_key") {
        assert_eq!(info["acl_access_denied_key"], "5");
        assert_eq!(info["acl_access_denied_channel"], "1");
    }
    assert_eq!(call(&mut c, &["ACL", "LOG", "RESET"]).await, ok());
    assert_eq!(call(&mut c, &["ACL", "LOG"]).await.array().len(), 0);
}

#[tokio::test]
async fn auth_hello_and_failed_auth_log() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["AUTH", "pw"]).await,
        err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    );
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "bob", "on", ">pw", "+@all", "~*"]).await, ok());
    let wrong = err("WRONGPASS invalid username-password pair or user is disabled.");
    assert_eq!(call(&mut c, &["AUTH", "bob", "nope"]).await, wrong);
    assert_eq!(call(&mut c, &["AUTH", "nobody", "pw"]).await, wrong);
    assert_eq!(call(&mut c, &["HELLO", "2", "AUTH", "bob", "nope"]).await, wrong);
    let log = call(&mut c, &["ACL", "LOG"]).await.array();
    assert_eq!(log.len(), 3, "{log:?}");
    let e = log[2].array();
    assert_eq!(e[0..6], [bulk("count"), int(1), bulk("reason"), bulk("auth"), bulk("context"), bulk("toplevel")]);
    assert_eq!(e[6..10], [bulk("object"), bulk("AUTH"), bulk("username"), bulk("bob")]);
    assert_eq!(log[0].array()[7], bulk("HELLO"));
    let mut b = s.client().await;
    let hello = call(&mut b, &["HELLO", "3", "AUTH", "bob", "pw"]).await;
    assert!(matches!(hello, Reply::Map(_)), "{hello:?}");
    assert_eq!(call(&mut b, &["ACL", "WHOAMI"]).await, bulk("bob"));
    // Disabled users can't log in; connections already in stay.
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "bob", "off"]).await, ok());
    assert_eq!(call(&mut c, &["AUTH", "bob", "pw"]).await, wrong);
    assert_eq!(call(&mut b, &["PING"]).await, status("PONG"));
    // Changes apply at once to connections of the user.
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "bob", "-ping"]).await, ok());
    denied_command(&call(&mut b, &["PING"]).await, "bob", "ping");
    assert_eq!(call(&mut b, &["RESET"]).await, status("RESET"));
    assert_eq!(call(&mut b, &["ACL", "WHOAMI"]).await, bulk("default"));
    let info = info_fields(&call(&mut c, &["INFO", "stats"]).await.text());
    if s.is_strata() || info.contains_key("acl_access_denied_auth") {
        assert_eq!(info["acl_access_denied_auth"], "4");
        assert_eq!(info["acl_access_denied_cmd"], "1");
    }
}

#[tokio::test]
async fn multi_and_scripts_are_checked() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "u", "on", "nopass", "+@all", "~a*", "&*"]).await, ok());
    let mut u = client_as(&s, "u", "x").await;
    // Refused while queuing: the transaction aborts.
    assert_eq!(call(&mut u, &["MULTI"]).await, ok());
    assert_eq!(call(&mut u, &["GET", "a1"]).await, status("QUEUED"));
    denied_key(&call(&mut u, &["GET", "b1"]).await);
    assert_eq!(call(&mut u, &["EXEC"]).await, err("EXECABORT Transaction discarded because of previous errors."));
    // Rules changed between queuing and EXEC (raw: the client library turns an EXEC reply
    // holding an error into an error).
    let mut raw = s.raw();
    raw.send(b"AUTH u x\r\nMULTI\r\nSET a1 v\r\nGET a1\r\n");
    for expected in ["+OK", "+OK", "+QUEUED", "+QUEUED"] {
        assert_eq!(raw.read_line(), expected);
    }
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "u", "-get"]).await, ok());
    raw.send(b"EXEC\r\n");
    assert_eq!(
        raw.read_reply(),
        Reply::Array(vec![
            ok(),
            err("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand")
        ])
    );
    let log = call(&mut c, &["ACL", "LOG", "1"]).await.array()[0].array();
    assert_eq!(log[5], bulk("multi"));
    // Inside scripts.
    let e = err_text(&call(&mut u, &["EVAL", "return redis.call('set', 'b', 1)", "0"]).await);
    assert!(
        e.starts_with("ERR ACL failure in script: No permissions to access a key")
            || e.starts_with("ERR The user executing the script can't access at least one of the keys"),
        "{e}"
    );
    let e = err_text(&call(&mut u, &["EVAL", "return redis.call('get', 'a')", "0"]).await);
    assert!(
        e.starts_with("ERR ACL failure in script: User u has no permissions to run the 'get' command")
            || e.starts_with("ERR The user executing the script can't run this command or subcommand"),
        "{e}"
    );
    let log = call(&mut c, &["ACL", "LOG", "1"]).await.array()[0].array();
    assert_eq!(log[5], bulk("lua"));
    assert_eq!(
        call(&mut u, &["EVAL", "return {redis.acl_check_cmd('set','a',1), redis.acl_check_cmd('get','a')}", "0"]).await,
        Reply::Array(vec![int(1), nil()])
    );
}

#[tokio::test]
async fn deluser_and_revoked_channels_disconnect() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "&news"]).await, ok());
    let mut raw = s.raw();
    raw.send(b"AUTH u x\r\n");
    assert_eq!(raw.read_line(), "+OK");
    raw.send(b"SUBSCRIBE news\r\n");
    assert_eq!(raw.read_reply(), Reply::Array(vec![bulk("subscribe"), bulk("news"), int(1)]));
    // Widening the channels keeps the subscriber; revoking its channel disconnects it.
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "u", "&other"]).await, ok());
    assert_eq!(call(&mut c, &["PUBLISH", "news", "m"]).await, int(1));
    assert_eq!(raw.read_reply(), Reply::Array(vec![bulk("message"), bulk("news"), bulk("m")]));
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "u", "resetchannels", "&other"]).await, ok());
    raw.expect_closed();

    let mut raw = s.raw();
    raw.send(b"AUTH u x\r\n");
    assert_eq!(raw.read_line(), "+OK");
    assert_eq!(call(&mut c, &["ACL", "DELUSER", "default"]).await, err("ERR The 'default' user cannot be removed"));
    assert_eq!(call(&mut c, &["ACL", "DELUSER", "u", "nobody"]).await, int(1));
    raw.expect_closed();
    assert_eq!(call(&mut c, &["ACL", "USERS"]).await.strings(), ["default"]);
}

#[tokio::test]
async fn cat_genpass_help() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let cats = call(&mut c, &["ACL", "CAT"]).await.strings();
    assert_eq!(cats[..3], ["keyspace", "read", "write"]);
    assert!(cats.contains(&"scripting".to_string()));
    let strings = call(&mut c, &["ACL", "CAT", "string"]).await.strings();
    assert!(strings.contains(&"get".to_string()) && !strings.contains(&"hget".to_string()), "{strings:?}");
    assert!(call(&mut c, &["ACL", "CAT", "admin"]).await.strings().contains(&"config|set".to_string()));
    assert_eq!(call(&mut c, &["ACL", "CAT", "nope"]).await, err("ERR Unknown category 'nope'"));
    let p = call(&mut c, &["ACL", "GENPASS"]).await.text();
    assert_eq!(p.len(), 64);
    assert!(p.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(call(&mut c, &["ACL", "GENPASS", "5"]).await.text().len(), 2);
    assert_eq!(
        call(&mut c, &["ACL", "GENPASS", "0"]).await,
        err(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
        )
    );
    assert!(call(&mut c, &["ACL", "HELP"]).await.array().len() > 20);
    assert_eq!(
        call(&mut c, &["ACL", "SAVE"]).await,
        err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
    );
}

#[tokio::test]
async fn requirepass_is_the_default_users_password() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["CONFIG", "SET", "requirepass", "s3cret"]).await, ok());
    let hash = call(&mut c, &["ACL", "GETUSER", "default"]).await.array()[3].strings();
    assert_eq!(hash.len(), 1);
    let mut raw = s.raw();
    raw.send(b"GET k\r\n");
    assert_eq!(raw.read_line(), "-NOAUTH Authentication required.");
    raw.send(b"AUTH s3cret\r\n");
    assert_eq!(raw.read_line(), "+OK");
    raw.send(b"ACL WHOAMI\r\n");
    assert_eq!(raw.read_reply(), bulk("default"));
    assert_eq!(call(&mut c, &["CONFIG", "GET", "requirepass"]).await.array()[1], bulk("s3cret"));
    assert_eq!(call(&mut c, &["CONFIG", "SET", "requirepass", ""]).await, ok());
    assert_eq!(
        without_sanitize(&call(&mut c, &["ACL", "LIST"]).await.strings()[0]),
        "user default on nopass ~* &* +@all"
    );
    // A password given by ACL SETUSER also protects new connections.
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "default", "resetpass", ">pw"]).await, ok());
    let mut raw = s.raw();
    raw.send(b"PING\r\n");
    assert_eq!(raw.read_line(), "-NOAUTH Authentication required.");
    raw.send(b"AUTH default pw\r\n");
    assert_eq!(raw.read_line(), "+OK");
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "default", "nopass"]).await, ok());
}

/// Strata only: the harness's redis-server takes no aclfile in the data directory.
#[tokio::test]
async fn aclfile_load_save_and_restart() {
    let probe = TestServer::start();
    if !probe.is_strata() {
        return;
    }
    drop(probe);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("users.acl");
    std::fs::write(&file, "user alice on >pw ~a* +@all\nuser default on nopass ~* &* +@all\n").expect("write");
    let file_s = file.to_string_lossy().into_owned();
    let mut s = TestServer::start_with(&["--aclfile", &file_s]);
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["ACL", "USERS"]).await.strings(), ["alice", "default"]);
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "bob", "on", ">b", "~b*", "+get"]).await, ok());
    assert_eq!(call(&mut c, &["ACL", "SAVE"]).await, ok());
    let saved = std::fs::read_to_string(&file).expect("read");
    assert_eq!(saved.lines().count(), 3, "{saved}");
    assert!(saved.contains("user bob on sanitize-payload #"), "{saved}");
    // A bad file changes nothing.
    std::fs::write(&file, "user carol on +nosuch\nnot a user\n").expect("write");
    let e = err_text(&call(&mut c, &["ACL", "LOAD"]).await);
    assert!(e.contains(":1: Error in applying operation '+nosuch'"), "{e}");
    assert!(e.contains(":2 should start with user keyword"), "{e}");
    assert!(e.ends_with("WARNING: ACL errors detected, no change to the previously active ACL rules was performed"));
    assert_eq!(call(&mut c, &["ACL", "USERS"]).await.strings(), ["alice", "bob", "default"]);
    // ACL LOAD replaces the users and disconnects those of the old ones.
    std::fs::write(&file, saved.replace("user alice", "user alicia")).expect("write");
    let mut a = client_as(&s, "alice", "pw").await;
    assert_eq!(call(&mut c, &["ACL", "LOAD"]).await, ok());
    assert_eq!(call(&mut c, &["ACL", "USERS"]).await.strings(), ["alicia", "bob", "default"]);
    assert!(build_get(&mut a).await.is_err());
    drop(c);
    s.restart();
    let mut b = client_as(&s, "bob", "b").await;
    assert_eq!(call(&mut b, &["GET", "b1"]).await, nil());
    denied_key(&call(&mut b, &["GET", "x"]).await);

    // A bad file stops start-up with the line.
    std::fs::write(&file, "user x on\nuser y on bogus\n").expect("write");
    let exited = TestServer::start_expecting_exit(None, &["--aclfile", &file_s]);
    assert!(!exited.status.success());
    assert!(exited.output.contains("Aborting Redis startup because of ACL errors:"), "{}", exited.output);
    assert!(exited.output.contains(":2: Syntax error."), "{}", exited.output);
}

/// A request on a connection the server closed: an error either way (the client may report
/// the closed socket as an I/O error).
async fn build_get(c: &mut redis::aio::MultiplexedConnection) -> Result<redis::Value, redis::RedisError> {
    redis::cmd("GET").arg("a1").query_async::<redis::Value>(c).await
}

/// Strata only (start-up errors are worded per server): `user` directives, and both ways at once.
#[tokio::test]
async fn user_directives_and_config_rewrite() {
    let probe = TestServer::start();
    if !probe.is_strata() {
        return;
    }
    drop(probe);
    let mut s = TestServer::start_with_config("user carol on >c ~c* +@read\nacllog-max-len 5\n", &[]);
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["ACL", "USERS"]).await.strings(), ["carol", "default"]);
    assert_eq!(call(&mut c, &["CONFIG", "GET", "acllog-max-len"]).await.array()[1], bulk("5"));
    assert_eq!(call(&mut c, &["CONFIG", "GET", "acl-pubsub-default"]).await.array()[1], bulk("resetchannels"));
    assert_eq!(call(&mut c, &["ACL", "SETUSER", "dave", "on", ">d", "+@all", "~*"]).await, ok());
    assert_eq!(call(&mut c, &["CONFIG", "REWRITE"]).await, ok());
    drop(c);
    s.restart();
    let mut d = client_as(&s, "dave", "d").await;
    assert_eq!(call(&mut d, &["ACL", "USERS"]).await.strings(), ["carol", "dave", "default"]);

    let exited = TestServer::start_expecting_exit(Some("user eve on bogus\n"), &[]);
    assert!(!exited.status.success());
    assert!(exited.output.contains(":1: Error in user declaration 'bogus': Syntax error"), "{}", exited.output);
    let exited = TestServer::start_expecting_exit(Some("user eve on\naclfile /tmp/none.acl\n"), &[]);
    assert!(exited.output.contains("but not both"), "{}", exited.output);
}
