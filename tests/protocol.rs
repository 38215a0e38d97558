//! The wire protocol byte for byte over raw sockets: inline commands, pipelining, split writes,
//! RESP3, protocol errors (exact text, then the connection is closed), client limits.

mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Send `bytes`, expect exactly `reply`, then the server closing the connection.
fn expect_error_and_close(s: &TestServer, bytes: &[u8], reply: &[u8]) {
    let mut r = s.raw();
    r.send(bytes);
    r.expect(reply);
    r.expect_closed();
    // The server itself is fine (PONG, or NOAUTH when a password is set).
    let mut other = s.raw();
    let pong = other.call(&["PING"]);
    assert!(pong == status("PONG") || pong == err("NOAUTH Authentication required."), "{pong:?}");
}

#[test]
fn inline_commands() {
    let s = TestServer::start();
    let mut r = s.raw();
    r.send(b"PING\r\n");
    r.expect(b"+PONG\r\n");
    r.send(b"SET a \"b c\"\r\nGET a\r\n");
    r.expect(b"+OK\r\n$3\r\nb c\r\n");
    r.send(b"SET b 'single quoted'\r\nGET b\r\n");
    r.expect(b"+OK\r\n$13\r\nsingle quoted\r\n");
    // Escapes inside double quotes.
    r.send(b"ECHO \"a\\x41\\n\"\r\n");
    r.expect(b"$3\r\naA\n\r\n");
    // A bare LF ends a line too; blank lines are ignored; spaces separate arguments.
    r.send(b"PING\n\r\n\r\nECHO   spaced\r\n");
    r.expect(b"+PONG\r\n$6\r\nspaced\r\n");
    r.send(b"ping hello\r\n");
    r.expect(b"$5\r\nhello\r\n");
    // Inline and multibulk mixed in one write.
    r.send(b"INCR n\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\nINCR n\r\n");
    r.expect(b":1\r\n:2\r\n:3\r\n");
}

#[test]
fn inline_line_that_looks_like_a_bulk_header() {
    let s = TestServer::start();
    let mut r = s.raw();
    // Outside a multibulk request, "$3" is just an inline command name.
    r.send(b"$3\r\nfoo\r\n");
    r.expect(b"-ERR unknown command '$3', with args beginning with: \r\n");
    r.expect(b"-ERR unknown command 'foo', with args beginning with: \r\n");
    r.send(b"PING\r\n");
    r.expect(b"+PONG\r\n");
}

#[test]
fn empty_multibulk_is_ignored() {
    let s = TestServer::start();
    let mut r = s.raw();
    r.send(b"*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n");
    r.expect(b"+PONG\r\n");
    // An empty command name is an unknown command.
    r.send(b"*1\r\n$0\r\n\r\n");
    r.expect(b"-ERR unknown command '', with args beginning with: \r\n");
    r.send(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
    r.expect(b"$0\r\n\r\n");
}

#[test]
fn pipeline_of_ten_thousand_commands() {
    let s = TestServer::start();
    let mut r = s.raw();
    let mut out = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=10_000 {
        out.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
        expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    // One write of everything; replies must come back complete and in order.
    let mut w = r.stream().try_clone().expect("clone socket");
    let writer = thread::spawn(move || w.write_all(&out).expect("write pipeline"));
    r.expect(&expected);
    writer.join().expect("writer thread");
    assert_eq!(r.call(&["GET", "counter"]), bulk("10000"));
}

#[test]
fn pipeline_of_mixed_commands() {
    let s = TestServer::start();
    let mut r = s.raw();
    let mut out = Vec::new();
    let mut expected = Vec::new();
    for i in 0..10_000 {
        let k = format!("key:{i}");
        let v = format!("value:{i}");
        out.extend_from_slice(&resp(&["SET", &k, &v]));
        out.extend_from_slice(&resp(&["GET", &k]));
        expected.extend_from_slice(b"+OK\r\n");
        expected.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
    }
    let mut w = r.stream().try_clone().expect("clone socket");
    let writer = thread::spawn(move || w.write_all(&out).expect("write pipeline"));
    r.expect(&expected);
    writer.join().expect("writer thread");
    assert_eq!(r.call(&["DBSIZE"]), int(10_000));
}

#[test]
fn command_split_into_single_bytes() {
    let s = TestServer::start();
    let mut r = s.raw();
    let cmd = b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$11\r\nhello world\r\n";
    for b in cmd.iter() {
        r.send(&[*b]);
        r.stream().flush().expect("flush");
        thread::sleep(Duration::from_millis(1));
    }
    r.expect(b"+OK\r\n");
    for b in b"GET split\r\n".iter() {
        r.send(&[*b]);
        thread::sleep(Duration::from_millis(1));
    }
    r.expect(b"$11\r\nhello world\r\n");
    // Two commands whose boundary falls inside a write.
    r.send(b"*1\r\n$4\r\nPI");
    thread::sleep(Duration::from_millis(20));
    r.send(b"NG\r\n*2\r\n$4\r\nECHO\r");
    thread::sleep(Duration::from_millis(20));
    r.send(b"\n$2\r\nhi\r\n");
    r.expect(b"+PONG\r\n$2\r\nhi\r\n");
}

#[test]
fn resp3_after_hello_3() {
    let s = TestServer::start();
    let mut r = s.raw();
    r.send(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
    assert!(matches!(r.read_reply(), Reply::Map(ref m) if m.len() == 7));
    r.send(b"*2\r\n$3\r\nGET\r\n$5\r\nnokey\r\n");
    r.expect(b"_\r\n");
    r.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    r.expect(b"+OK\r\n");
    r.send(b"*3\r\n$4\r\nMGET\r\n$1\r\nk\r\n$5\r\nnokey\r\n");
    r.expect(b"*2\r\n$1\r\nv\r\n_\r\n");
    r.send(b"*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n");
    r.expect(b":1\r\n");
    r.send(b"*1\r\n$3\r\nGET\r\n");
    r.expect(b"-ERR wrong number of arguments for 'get' command\r\n");
    // The map header of HELLO in raw bytes.
    r.send(b"HELLO 3\r\n");
    r.expect(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
    let rest = r.read_reply(); // "version"
    assert_eq!(rest, bulk("version"));
    for _ in 0..11 {
        r.read_reply();
    }
    r.send(b"PING\r\n");
    r.expect(b"+PONG\r\n");
}

#[test]
fn invalid_multibulk_length() {
    let s = TestServer::start();
    let reply: &[u8] = b"-ERR Protocol error: invalid multibulk length\r\n";
    expect_error_and_close(&s, b"*abc\r\n", reply);
    expect_error_and_close(&s, b"*+1\r\n", reply);
    expect_error_and_close(&s, b"*1 \r\n", reply);
    expect_error_and_close(&s, b"* 1\r\n", reply);
    // Counts up to INT_MAX are accepted (and then wait for the arguments); above is an error.
    expect_error_and_close(&s, b"*2147483648\r\n", reply);
    expect_error_and_close(&s, b"*9223372036854775808\r\n", reply);
}

#[test]
fn large_multibulk_count_waits_for_arguments() {
    let s = TestServer::start();
    let mut r = s.raw();
    r.send(b"*1048577\r\n");
    r.set_read_timeout(Duration::from_millis(300));
    let mut buf = [0u8; 64];
    let got = std::io::Read::read(&mut std::io::BufReader::new(r.stream()), &mut buf);
    assert!(
        matches!(got, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock
            || e.kind() == std::io::ErrorKind::TimedOut),
        "no reply expected yet: {got:?} {:?}",
        &buf[..]
    );
    let mut other = s.raw();
    assert_eq!(other.call(&["PING"]), status("PONG"));
}

#[test]
fn invalid_bulk_length() {
    let s = TestServer::start();
    let reply: &[u8] = b"-ERR Protocol error: invalid bulk length\r\n";
    expect_error_and_close(&s, b"*1\r\n$-5\r\n", reply);
    expect_error_and_close(&s, b"*1\r\n$-1\r\n", reply);
    expect_error_and_close(&s, b"*1\r\n$abc\r\n", reply);
    expect_error_and_close(&s, b"*1\r\n$+3\r\nfoo\r\n", reply);
    // Above the default proto-max-bulk-len (512 MiB): rejected before any allocation.
    expect_error_and_close(&s, b"*1\r\n$536870913\r\n", reply);
    expect_error_and_close(&s, b"*1\r\n$2147483648\r\n", reply);
    expect_error_and_close(&s, b"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n", reply);
}

#[test]
fn proto_max_bulk_len() {
    let s = TestServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    expect_error_and_close(
        &s,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    // Exactly the limit is fine.
    let mut r = s.raw();
    let v = vec![b'x'; 1 << 20];
    assert_eq!(r.call(&[b"SET".as_slice(), b"k", &v]), ok());
    assert_eq!(r.call(&["STRLEN", "k"]), int(1 << 20));
}

#[test]
fn expected_dollar() {
    let s = TestServer::start();
    expect_error_and_close(&s, b"*1\r\nx3\r\n", b"-ERR Protocol error: expected '$', got 'x'\r\n");
    expect_error_and_close(&s, b"*2\r\n$3\r\nGET\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n");
}

#[test]
fn unbalanced_quotes() {
    let s = TestServer::start();
    let reply: &[u8] = b"-ERR Protocol error: unbalanced quotes in request\r\n";
    expect_error_and_close(&s, b"SET a \"b c\r\n", reply);
    expect_error_and_close(&s, b"SET a 'b c\r\n", reply);
    // A closing quote must be followed by a space or the end of the line.
    expect_error_and_close(&s, b"ECHO \"a\"b\r\n", reply);
}

#[test]
fn too_big_inline_request() {
    let s = TestServer::start();
    let mut r = s.raw();
    // More than 64 KiB without a newline: the server gives up on the inline request. (One byte
    // more than the limit, so the server has read everything when it closes: no RST.)
    let junk = vec![b'A'; 64 * 1024 + 1];
    let _ = r.try_send(&junk);
    r.expect(b"-ERR Protocol error: too big inline request\r\n");
    r.read_until_closed();
}

#[test]
fn replies_before_a_protocol_error_are_delivered() {
    let s = TestServer::start();
    let mut r = s.raw();
    r.send(b"*1\r\n$4\r\nPING\r\nECHO ok\r\n*1\r\n$-5\r\n*1\r\n$4\r\nPING\r\n");
    r.expect(b"+PONG\r\n$2\r\nok\r\n-ERR Protocol error: invalid bulk length\r\n");
    r.expect_closed();
}

#[test]
fn command_errors_keep_the_connection_open() {
    let s = TestServer::start();
    let mut r = s.raw();
    r.send(b"*1\r\n$3\r\nGET\r\n");
    r.expect(b"-ERR wrong number of arguments for 'get' command\r\n");
    r.send(b"*1\r\n$4\r\nPING\r\n");
    r.expect(b"+PONG\r\n");
    r.send(b"*3\r\n$3\r\nFOO\r\n$1\r\na\r\n$1\r\nb\r\n");
    r.expect(b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    r.send(b"PING\r\n");
    r.expect(b"+PONG\r\n");
    r.send(b"SET k v EX 0\r\nPING\r\n");
    r.expect(b"-ERR invalid expire time in 'set' command\r\n+PONG\r\n");
}

#[test]
fn unauthenticated_request_limits() {
    let s = TestServer::start_with(&["--requirepass", "secret"]);
    expect_error_and_close(&s, b"*11\r\n", b"-ERR Protocol error: unauthenticated multibulk length\r\n");
    expect_error_and_close(&s, b"*1\r\n$16385\r\n", b"-ERR Protocol error: unauthenticated bulk length\r\n");
    // After AUTH the normal limits apply.
    let mut r = s.raw();
    assert_eq!(r.call(&["AUTH", "secret"]), ok());
    let v = vec![b'v'; 100_000];
    assert_eq!(r.call(&[b"SET".as_slice(), b"k", &v]), ok());
    let args: Vec<String> =
        std::iter::once("MSET".to_string()).chain((0..20).flat_map(|i| [format!("k{i}"), "v".to_string()])).collect();
    assert_eq!(r.call(&args), ok());
}

#[test]
fn maxclients() {
    let s = TestServer::start_with(&["--maxclients", "2"]);
    // The harness's readiness probe may still be counted for a moment: retry briefly.
    let deadline = Instant::now() + Duration::from_secs(2);
    let (mut a, mut b) = loop {
        let mut a = s.raw();
        let mut b = s.raw();
        let ra = a.call(&["PING"]);
        let rb = b.call(&["PING"]);
        if ra == status("PONG") && rb == status("PONG") {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "two clients refused: {ra:?} {rb:?}");
        drop((a, b));
        thread::sleep(Duration::from_millis(50));
    };
    let mut third = s.raw();
    third.expect(b"-ERR max number of clients reached\r\n");
    third.expect_closed();
    assert_eq!(a.call(&["PING"]), status("PONG"));
    assert_eq!(b.call(&["PING"]), status("PONG"));
    // A freed slot can be used again.
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut c = s.raw();
        c.send(b"PING\r\n");
        if c.read_line() == "+PONG" {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(a.call(&["PING"]), status("PONG"));
}

#[test]
fn idle_timeout_closes_connection() {
    let s = TestServer::start_with(&["--timeout", "1"]);
    let mut idle = s.raw();
    let mut busy = s.raw();
    assert_eq!(idle.call(&["PING"]), status("PONG"));
    let start = Instant::now();
    // Keep the other connection active meanwhile.
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(200));
        assert_eq!(busy.call(&["PING"]), status("PONG"));
    }
    idle.set_read_timeout(Duration::from_millis(3500));
    idle.expect_closed();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(900), "closed too early: {waited:?}");
    assert!(waited <= Duration::from_millis(3500), "closed late: {waited:?}");
    assert_eq!(busy.call(&["PING"]), status("PONG"));
}
