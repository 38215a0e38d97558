//! Connection-level commands: PING, ECHO, QUIT, RESET, AUTH/requirepass, HELLO, CLIENT *, TIME,
//! unknown commands and per-connection SELECT.

mod common;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;

const NOAUTH: &str = "NOAUTH Authentication required.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, \
otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
the RESP protocol version at the same time";
const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// Parse one `CLIENT INFO` / `CLIENT LIST` line into its `key=value` fields.
fn client_fields(line: &str) -> HashMap<String, String> {
    line.split(' ').filter_map(|f| f.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn client_info(c: &mut RawConn) -> HashMap<String, String> {
    let text = c.call(&["CLIENT", "INFO"]).text();
    assert!(text.ends_with('\n'), "CLIENT INFO ends with a newline: {text:?}");
    assert_eq!(text.lines().count(), 1, "{text:?}");
    client_fields(text.trim_end())
}

#[tokio::test]
async fn ping_and_echo() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["PING"]).await, status("PONG"));
    assert_eq!(call(&mut c, &["ping"]).await, status("PONG"));
    assert_eq!(call(&mut c, &["PING", "hello world"]).await, bulk("hello world"));
    assert_eq!(call(&mut c, &["PING", ""]).await, bulk(""));
    assert_eq!(call(&mut c, &["PING", "a", "b"]).await, arity_err("ping"));
    assert_eq!(call(&mut c, &["ECHO", "hi"]).await, bulk("hi"));
    assert_eq!(call(&mut c, &[b"ECHO".as_slice(), b"\0\r\n\xff"]).await, bulk(b"\0\r\n\xff"));
    assert_eq!(call(&mut c, &["ECHO"]).await, arity_err("echo"));
    assert_eq!(call(&mut c, &["ECHO", "a", "b"]).await, arity_err("echo"));
    // Raw bytes: PING is a simple string, PING msg a bulk string.
    let mut r = s.raw();
    r.send(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n");
    r.expect(b"+PONG\r\n$2\r\nhi\r\n");
}

#[tokio::test]
async fn quit_replies_ok_and_closes() {
    let s = TestServer::start();
    let mut r = s.raw();
    // Commands pipelined after QUIT are never executed.
    r.send(b"*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$9\r\nafterquit\r\n$1\r\n1\r\n");
    r.expect(b"+OK\r\n");
    r.expect_closed();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["EXISTS", "afterquit"]).await, int(0));
}

#[tokio::test]
async fn reset_restores_connection_defaults() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["SELECT", "3"]), ok());
    assert_eq!(r.call(&["SET", "k", "in3"]), ok());
    assert_eq!(r.call(&["CLIENT", "SETNAME", "before"]), ok());
    r.send(&resp(&["HELLO", "3"]));
    assert!(matches!(r.read_reply(), Reply::Map(_)));
    r.send(&resp(&["RESET"]));
    r.expect(b"+RESET\r\n");
    // Back to db 0, RESP2, no name.
    assert_eq!(r.call(&["GET", "k"]), nil());
    r.send(&resp(&["GET", "k"]));
    r.expect(b"$-1\r\n");
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), nil());
    let info = client_info(&mut r);
    assert_eq!(info["db"], "0");
    assert_eq!(info["resp"], "2");
    assert_eq!(info["name"], "");
    assert_eq!(r.call(&["RESET", "x"]), arity_err("reset"));
}

#[tokio::test]
async fn auth_without_password_configured() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["AUTH", "x"]).await,
        err("ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?")
    );
    // The default user has no password: any password is accepted with its name.
    assert_eq!(call(&mut c, &["AUTH", "default", "anything"]).await, ok());
    assert_eq!(call(&mut c, &["AUTH", "nouser", "x"]).await, err(WRONGPASS));
    assert_eq!(call(&mut c, &["AUTH"]).await, arity_err("auth"));
    assert_eq!(call(&mut c, &["AUTH", "a", "b", "c"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["PING"]).await, status("PONG"));
}

#[tokio::test]
async fn requirepass() {
    let s = TestServer::start_with(&["--requirepass", "secret"]);
    let mut r = s.raw();
    assert_eq!(r.call(&["PING"]), err(NOAUTH));
    assert_eq!(r.call(&["GET", "x"]), err(NOAUTH));
    assert_eq!(r.call(&["SET", "x", "1"]), err(NOAUTH));
    assert_eq!(r.call(&["SELECT", "1"]), err(NOAUTH));
    assert_eq!(r.call(&["CLIENT", "ID"]), err(NOAUTH));
    // Unknown commands and wrong arity are reported before authentication is checked.
    assert_eq!(r.call(&["FOO"]), err("ERR unknown command 'FOO', with args beginning with: "));
    assert_eq!(r.call(&["AUTH"]), arity_err("auth"));
    assert_eq!(r.call(&["AUTH", "wrong"]), err(WRONGPASS));
    assert_eq!(r.call(&["AUTH", "default", "wrong"]), err(WRONGPASS));
    assert_eq!(r.call(&["AUTH", "nouser", "secret"]), err(WRONGPASS));
    assert_eq!(r.call(&["GET", "x"]), err(NOAUTH));
    assert_eq!(r.call(&["AUTH", "secret"]), ok());
    assert_eq!(r.call(&["SET", "x", "1"]), ok());
    assert_eq!(r.call(&["GET", "x"]), bulk("1"));
    // AUTH with the user name works too, and on another connection.
    let mut r2 = s.raw();
    assert_eq!(r2.call(&["AUTH", "default", "secret"]), ok());
    assert_eq!(r2.call(&["GET", "x"]), bulk("1"));
    // A failed AUTH after a good one does not log the connection out.
    assert_eq!(r2.call(&["AUTH", "bad"]), err(WRONGPASS));
    assert_eq!(r2.call(&["GET", "x"]), bulk("1"));
    // RESET logs the connection out.
    assert_eq!(r2.call(&["RESET"]), status("RESET"));
    assert_eq!(r2.call(&["GET", "x"]), err(NOAUTH));
}

#[tokio::test]
async fn requirepass_with_redis_client() {
    let s = TestServer::start_with(&["--requirepass", "secret"]);
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GET", "x"]).await, err(NOAUTH));
    assert_eq!(call(&mut c, &["AUTH", "secret"]).await, ok());
    assert_eq!(call(&mut c, &["SET", "x", "v"]).await, ok());
    let url = format!("redis://:secret@{}/", s.addr());
    let client = redis::Client::open(url).expect("url");
    let mut authed = client.get_multiplexed_async_connection().await.expect("connect with password");
    assert_eq!(call(&mut authed, &["GET", "x"]).await, bulk("v"));
}

#[tokio::test]
async fn hello_resp2() {
    let s = TestServer::start();
    let mut r = s.raw();
    let hello = r.call(&["HELLO"]).array();
    assert_eq!(hello.len(), 14, "{hello:?}");
    let fields: HashMap<String, Reply> = hello.chunks(2).map(|kv| (kv[0].text(), kv[1].clone())).collect();
    assert_eq!(fields["server"], bulk("redis"));
    assert!(fields["version"].text().starts_with("7."), "{fields:?}");
    assert_eq!(fields["proto"], int(2));
    let id = r.call(&["CLIENT", "ID"]).int();
    assert_eq!(fields["id"], int(id));
    assert_eq!(fields["mode"], bulk("standalone"));
    assert_eq!(fields["role"], bulk("master"));
    assert_eq!(fields["modules"], arr(vec![]));
    let keys: Vec<String> = hello.iter().step_by(2).map(Reply::text).collect();
    assert_eq!(keys, ["server", "version", "proto", "id", "mode", "role", "modules"]);
    let again = r.call(&["HELLO", "2"]).array();
    assert_eq!(again, hello);
}

#[tokio::test]
async fn hello_resp3() {
    let s = TestServer::start();
    let mut r = s.raw();
    let id = r.call(&["CLIENT", "ID"]).int();
    r.send(&resp(&["HELLO", "3"]));
    r.expect(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n");
    let version = r.read_reply().text();
    assert!(version.starts_with("7."), "{version}");
    r.expect(b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n");
    assert_eq!(r.read_reply(), int(id));
    r.expect(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
    // A RESP3 null, then back to RESP2.
    r.send(&resp(&["GET", "nokey"]));
    r.expect(b"_\r\n");
    match r.call(&["HELLO", "2"]) {
        Reply::Array(a) => assert_eq!(a.len(), 14),
        other => panic!("HELLO 2 must answer in RESP2: {other:?}"),
    }
    r.send(&resp(&["GET", "nokey"]));
    r.expect(b"$-1\r\n");
}

#[tokio::test]
async fn hello_errors() {
    let s = TestServer::start();
    let mut r = s.raw();
    let noproto = "NOPROTO unsupported protocol version";
    assert_eq!(r.call(&["HELLO", "4"]), err(noproto));
    assert_eq!(r.call(&["HELLO", "1"]), err(noproto));
    assert_eq!(r.call(&["HELLO", "0"]), err(noproto));
    assert_eq!(r.call(&["HELLO", "-1"]), err(noproto));
    assert_eq!(r.call(&["HELLO", "abc"]), err("ERR Protocol version is not an integer or out of range"));
    assert_eq!(r.call(&["HELLO", "3.0"]), err("ERR Protocol version is not an integer or out of range"));
    assert_eq!(r.call(&["HELLO", "2", "foo"]), err("ERR Syntax error in HELLO option 'foo'"));
    assert_eq!(r.call(&["HELLO", "3", "AUTH", "default"]), err("ERR Syntax error in HELLO option 'AUTH'"));
    assert_eq!(r.call(&["HELLO", "3", "SETNAME"]), err("ERR Syntax error in HELLO option 'SETNAME'"));
    assert_eq!(r.call(&["HELLO", "2", "SETNAME", "a b"]), err(BAD_NAME));
    // Still RESP2 after all the failures.
    r.send(&resp(&["GET", "nokey"]));
    r.expect(b"$-1\r\n");
}

#[tokio::test]
async fn hello_setname() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert!(matches!(r.call(&["HELLO", "3", "SETNAME", "x"]), Reply::Map(_)));
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), bulk("x"));
    assert_eq!(r.call(&["HELLO", "2", "SETNAME", "y", "SETNAME", "z"]).array().len(), 14);
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), bulk("z"));
}

#[tokio::test]
async fn hello_auth_with_requirepass() {
    let s = TestServer::start_with(&["--requirepass", "secret"]);
    let mut r = s.raw();
    assert_eq!(r.call(&["HELLO", "3"]), err(HELLO_NOAUTH));
    assert_eq!(r.call(&["HELLO"]), err(HELLO_NOAUTH));
    assert_eq!(r.call(&["HELLO", "3", "AUTH", "default", "wrong"]), err(WRONGPASS));
    match r.call(&["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "n"]) {
        Reply::Map(m) => {
            assert_eq!(m.len(), 7);
            assert_eq!(m[0], (bulk("server"), bulk("redis")));
            assert_eq!(m[2], (bulk("proto"), int(3)));
        }
        other => panic!("expected a RESP3 map, got {other:?}"),
    }
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), bulk("n"));
    r.send(&resp(&["GET", "nokey"]));
    r.expect(b"_\r\n");
}

#[tokio::test]
async fn client_id_setname_getname() {
    let s = TestServer::start();
    let mut a = s.raw();
    let mut b = s.raw();
    let id_a = a.call(&["CLIENT", "ID"]).int();
    let id_b = b.call(&["CLIENT", "ID"]).int();
    assert!(id_a > 0 && id_b > id_a, "ids {id_a} {id_b}");
    assert_eq!(a.call(&["CLIENT", "ID"]), int(id_a));
    assert_eq!(a.call(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(a.call(&["CLIENT", "SETNAME", "conn-a"]), ok());
    assert_eq!(a.call(&["CLIENT", "GETNAME"]), bulk("conn-a"));
    assert_eq!(b.call(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(a.call(&["CLIENT", "SETNAME", "a b"]), err(BAD_NAME));
    assert_eq!(a.call(&["CLIENT", "SETNAME", "a\nb"]), err(BAD_NAME));
    assert_eq!(a.call(&["CLIENT", "GETNAME"]), bulk("conn-a"));
    // An empty name removes the name.
    assert_eq!(a.call(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(a.call(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(a.call(&["CLIENT", "SETNAME"]), arity_err("client|setname"));
    assert_eq!(a.call(&["CLIENT", "GETNAME", "x"]), arity_err("client|getname"));
    assert_eq!(a.call(&["CLIENT", "ID", "x"]), arity_err("client|id"));
    assert_eq!(a.call(&["CLIENT", "no-such"]), err("ERR unknown subcommand 'no-such'. Try CLIENT HELP."));
    assert_eq!(a.call(&["CLIENT"]), arity_err("client"));
}

#[tokio::test]
async fn client_info_and_list() {
    let s = TestServer::start();
    let mut a = s.raw();
    let mut b = s.raw();
    let id_a = a.call(&["CLIENT", "ID"]).int();
    let id_b = b.call(&["CLIENT", "ID"]).int();
    assert_eq!(a.call(&["CLIENT", "SETNAME", "alpha"]), ok());
    assert_eq!(a.call(&["SELECT", "4"]), ok());
    let info = client_info(&mut a);
    assert_eq!(info["id"], id_a.to_string());
    assert_eq!(info["name"], "alpha");
    assert_eq!(info["db"], "4");
    assert_eq!(info["cmd"], "client|info");
    assert_eq!(info["resp"], "2");
    assert_eq!(info["user"], "default");
    let local = a.stream().local_addr().expect("local addr");
    assert_eq!(info["addr"], local.to_string());
    assert_eq!(info["laddr"], s.addr());
    for field in ["fd", "age", "idle", "flags", "sub", "psub", "multi", "qbuf", "omem"] {
        assert!(info.contains_key(field), "CLIENT INFO lacks {field}: {info:?}");
    }
    assert_eq!(a.call(&["CLIENT", "INFO", "x"]), arity_err("client|info"));

    let list = a.call(&["CLIENT", "LIST"]).text();
    assert!(list.ends_with('\n'), "{list:?}");
    let clients: Vec<HashMap<String, String>> = list.lines().map(client_fields).collect();
    let by_id = |id: i64| clients.iter().find(|f| f["id"] == id.to_string());
    assert_eq!(by_id(id_a).expect("a in CLIENT LIST")["name"], "alpha");
    let fb = by_id(id_b).expect("b in CLIENT LIST");
    assert_eq!(fb["name"], "");
    assert_eq!(fb["cmd"], "client|id");
    assert_eq!(fb["addr"], b.stream().local_addr().unwrap().to_string());

    let only_b = a.call(&["CLIENT", "LIST", "ID", &id_b.to_string()]).text();
    assert_eq!(only_b.lines().count(), 1, "{only_b:?}");
    assert_eq!(client_fields(only_b.trim_end())["id"], id_b.to_string());
    let both = a.call(&["CLIENT", "LIST", "ID", &id_a.to_string(), &id_b.to_string()]).text();
    assert_eq!(both.lines().count(), 2, "{both:?}");
    assert_eq!(a.call(&["CLIENT", "LIST", "ID", "999999"]), bulk(""));
    let normal = a.call(&["CLIENT", "LIST", "TYPE", "normal"]).text();
    assert!(normal.lines().count() >= 2, "{normal:?}");
    assert_eq!(a.call(&["CLIENT", "LIST", "ID", "abc"]), err("ERR Invalid client ID"));
    assert_eq!(a.call(&["CLIENT", "LIST", "TYPE", "foo"]), err("ERR Unknown client type 'foo'"));
    assert_eq!(a.call(&["CLIENT", "LIST", "foo"]), err(SYNTAX));
}

#[tokio::test]
async fn client_kill_by_id() {
    let s = TestServer::start();
    let mut a = s.raw();
    let mut b = s.raw();
    let id_a = a.call(&["CLIENT", "ID"]).int();
    let id_b = b.call(&["CLIENT", "ID"]).int();
    // SKIPME defaults to yes: a connection does not kill itself.
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", &id_a.to_string()]), int(0));
    assert_eq!(a.call(&["PING"]), status("PONG"));
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "999999"]), int(0));
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", &id_b.to_string()]), int(1));
    b.expect_closed();
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", &id_b.to_string()]), int(0));
    let list = a.call(&["CLIENT", "LIST"]).text();
    assert!(!list.lines().any(|l| client_fields(l)["id"] == id_b.to_string()), "{list}");
}

#[tokio::test]
async fn client_kill_by_addr_and_skipme() {
    let s = TestServer::start();
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(b.call(&["PING"]), status("PONG"));
    let addr_a = a.stream().local_addr().unwrap().to_string();
    let addr_b = b.stream().local_addr().unwrap().to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", &addr_b]), int(1));
    b.expect_closed();
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]), int(0));
    // The old form: CLIENT KILL ip:port answers OK or an error.
    let mut c = s.raw();
    assert_eq!(c.call(&["PING"]), status("PONG"));
    let addr_c = c.stream().local_addr().unwrap().to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", &addr_c]), ok());
    c.expect_closed();
    assert_eq!(a.call(&["CLIENT", "KILL", "1.2.3.4:5"]), err("ERR No such client"));
    // SKIPME yes (the default) protects the caller; SKIPME no does not.
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", &addr_a]), int(0));
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", &addr_a, "SKIPME", "yes"]), int(0));
    assert_eq!(a.call(&["CLIENT", "KILL", "ADDR", &addr_a, "SKIPME", "no"]), int(1));
    a.expect_closed();
}

#[tokio::test]
async fn client_kill_errors() {
    let s = TestServer::start();
    let mut a = s.raw();
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "1", "SKIPME", "maybe"]), err(SYNTAX));
    let bad_id = "ERR client-id should be greater than 0";
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "0"]), err(bad_id));
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "-1"]), err(bad_id));
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "abc"]), err(bad_id));
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", "1", "ADDR"]), err(SYNTAX));
    assert_eq!(a.call(&["CLIENT", "KILL", "foo", "bar"]), err(SYNTAX));
    assert_eq!(a.call(&["CLIENT", "KILL"]), arity_err("client|kill"));
    assert_eq!(a.call(&["PING"]), status("PONG"));
}

/// CLIENT SETINFO arrived in Redis 7.2; the 7.0 reference server answers "unknown subcommand",
/// in which case only that is checked.
#[tokio::test]
async fn client_setinfo() {
    let s = TestServer::start();
    let mut a = s.raw();
    let first = a.call(&["CLIENT", "SETINFO", "LIB-NAME", "mylib"]);
    if first == err("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.") && !s.is_strata() {
        return;
    }
    assert_eq!(first, ok());
    assert_eq!(a.call(&["CLIENT", "SETINFO", "LIB-VER", "1.2.3"]), ok());
    let info = client_info(&mut a);
    assert_eq!(info["lib-name"], "mylib");
    assert_eq!(info["lib-ver"], "1.2.3");
    assert!(a.call(&["CLIENT", "SETINFO", "foo", "x"]).is_err());
    assert!(a.call(&["CLIENT", "SETINFO", "LIB-NAME", "a b"]).is_err());
    assert_eq!(a.call(&["CLIENT", "SETINFO", "LIB-NAME"]), arity_err("client|setinfo"));
}

#[tokio::test]
async fn time() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let t = call(&mut c, &["TIME"]).await.strings();
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(t.len(), 2);
    let secs: i64 = t[0].parse().expect("seconds");
    let micros: i64 = t[1].parse().expect("microseconds");
    assert!(secs >= before && secs <= after, "{secs} not in {before}..={after}");
    assert!((0..1_000_000).contains(&micros), "{micros}");
    assert_eq!(call(&mut c, &["TIME", "x"]).await, arity_err("time"));
}

#[tokio::test]
async fn unknown_command() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["foo", "a", "b"]).await,
        err("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(call(&mut c, &["foo"]).await, err("ERR unknown command 'foo', with args beginning with: "));
    // The name keeps the client's case; arguments are quoted as sent.
    assert_eq!(call(&mut c, &["FOO", "A b"]).await, err("ERR unknown command 'FOO', with args beginning with: 'A b' "));
    // Long names and arguments are cut at 128 characters.
    let long_arg = "x".repeat(200);
    assert_eq!(
        call(&mut c, &["foo", &long_arg]).await,
        err(&format!("ERR unknown command 'foo', with args beginning with: '{}' ", "x".repeat(128)))
    );
    let long_name = "c".repeat(200);
    assert_eq!(
        call(&mut c, &[long_name.as_str(), "a"]).await,
        err(&format!("ERR unknown command '{}', with args beginning with: 'a' ", "c".repeat(128)))
    );
    let ys = "y".repeat(200);
    assert_eq!(
        call(&mut c, &["foo", "aaaaaaaaaa", "bbbbbbbbbbb", &ys, "zz"]).await,
        err(&format!(
            "ERR unknown command 'foo', with args beginning with: 'aaaaaaaaaa' 'bbbbbbbbbbb' '{}' ",
            "y".repeat(101)
        ))
    );
    // The connection is still usable.
    assert_eq!(call(&mut c, &["PING"]).await, status("PONG"));
}

#[tokio::test]
async fn select_is_per_connection() {
    let s = TestServer::start();
    let mut a = s.client().await;
    let mut b = s.client().await;
    assert_eq!(call(&mut a, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut a, &["SET", "k", "db1"]).await, ok());
    assert_eq!(call(&mut b, &["SET", "k", "db0"]).await, ok());
    assert_eq!(call(&mut a, &["GET", "k"]).await, bulk("db1"));
    assert_eq!(call(&mut b, &["GET", "k"]).await, bulk("db0"));
    assert_eq!(call(&mut b, &["SELECT", "2"]).await, ok());
    assert_eq!(call(&mut b, &["GET", "k"]).await, nil());
    assert_eq!(call(&mut a, &["GET", "k"]).await, bulk("db1"));
    // A new connection starts in db 0.
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["GET", "k"]).await, bulk("db0"));
}
