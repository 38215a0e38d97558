//! Lua scripting: EVAL/EVALSHA/EVAL_RO/EVALSHA_RO and SCRIPT LOAD|EXISTS|FLUSH|KILL — reply
//! conversions in both directions (RESP2, and RESP3 after `redis.setresp(3)`), KEYS/ARGV,
//! `redis.call` against `redis.pcall`, the sandbox, the bundled libraries (cjson, cmsgpack,
//! bit, struct), read-only scripts, atomicity, and busy scripts stopped by SCRIPT KILL.
//!
//! Replies are read from raw sockets: the `redis` crate turns an error nested in an array into
//! an error of its own, and RESP3 types must be seen as sent. Every test here also runs
//! against the reference redis-server 7.0.15.

mod common;

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;

/// SHA1 of `return 42`, as SCRIPT LOAD reports it.
const RETURN_42_SHA: &str = "1fa00e76656cc152ad327c13fe365858fd7be306";
const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
const BUSY: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";

fn sha1hex(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

/// The error a script ends with when `redis.call` (or `error()`) fails on `line`: Redis appends
/// the script's SHA1 and the line.
fn script_err(msg: &str, script: &str, line: u32) -> Reply {
    err(&format!("{msg} script: {}, on @user_script:{line}.", sha1hex(script)))
}

/// `EVAL script <keys.len()> keys... args...`
fn eval(c: &mut RawConn, script: &str, keys: &[&str], args: &[&str]) -> Reply {
    let numkeys = keys.len().to_string();
    let mut cmd = vec!["EVAL", script, &numkeys];
    cmd.extend_from_slice(keys);
    cmd.extend_from_slice(args);
    c.call(&cmd)
}

fn eval0(c: &mut RawConn, script: &str) -> Reply {
    eval(c, script, &[], &[])
}

fn resp3(s: &TestServer) -> RawConn {
    let mut c = s.raw();
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    c
}

// ---- Lua → Redis conversions ---------------------------------------------------------------

#[test]
fn lua_values_become_resp2_replies() {
    let s = TestServer::start();
    let mut c = s.raw();
    let cases: Vec<(&str, Reply)> = vec![
        ("return 1", int(1)),
        ("return -7", int(-7)),
        ("return 3.99", int(3)),
        ("return -3.99", int(-3)),
        ("return 0.5", int(0)),
        ("return 'hi'", bulk("hi")),
        ("return ''", bulk("")),
        ("return true", int(1)),
        ("return false", nil()),
        ("return nil", nil()),
        ("return {}", arr(vec![])),
        ("return {1, 'two', 3.7}", arr(vec![int(1), bulk("two"), int(3)])),
        (
            "return {1, 2, {3, 'x', {}}, 'y'}",
            arr(vec![int(1), int(2), arr(vec![int(3), bulk("x"), arr(vec![])]), bulk("y")]),
        ),
        // A nil ends the array, also in nested tables.
        ("return {1, 2, nil, 4}", arr(vec![int(1), int(2)])),
        ("return {{1, nil, 3}, 'after'}", arr(vec![arr(vec![int(1)]), bulk("after")])),
        ("return {1, true, false, 'a'}", arr(vec![int(1), int(1), nil(), bulk("a")])),
        // A table with only non-array keys is an empty array.
        ("return {a = 1}", arr(vec![])),
        ("return {ok = 'fine'}", status("fine")),
        ("return {err = 'bad thing'}", err("bad thing")),
        ("return {err = 'MYERR bad thing'}", err("MYERR bad thing")),
        ("return redis.status_reply('FINE')", status("FINE")),
        ("return redis.error_reply('oops')", err("ERR oops")),
        ("return redis.error_reply('MY oops')", err("MY oops")),
        ("return {redis.status_reply('A'), redis.error_reply('B c')}", arr(vec![status("A"), err("B c")])),
        // RESP3-only types seen by a RESP2 client.
        ("return {double = 3.5}", bulk("3.5")),
        ("return {map = {a = 1}}", arr(vec![bulk("a"), int(1)])),
        ("return {set = {a = true}}", bulks(&["a"])),
        ("return {big_number = '123456789012345678901234567890'}", bulk("123456789012345678901234567890")),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
}

#[test]
fn lua_values_become_resp3_replies() {
    let s = TestServer::start();
    let mut c = resp3(&s);
    let cases: Vec<(&str, Reply)> = vec![
        ("return 1", int(1)),
        ("return 'hi'", bulk("hi")),
        ("return {1, {2}}", arr(vec![int(1), arr(vec![int(2)])])),
        // Without redis.setresp(3) booleans keep their RESP2 meaning; nil is RESP3's null.
        ("return true", int(1)),
        ("return false", nil()),
        ("return nil", nil()),
        ("return {double = 3.5}", Reply::Double(3.5)),
        ("return {double = -1.25}", Reply::Double(-1.25)),
        ("return {map = {a = 1}}", Reply::Map(vec![(bulk("a"), int(1))])),
        ("return {map = {}}", Reply::Map(vec![])),
        ("return {set = {a = true}}", Reply::Set(vec![bulk("a")])),
        ("return {set = {}}", Reply::Set(vec![])),
        (
            "return {big_number = '123456789012345678901234567890'}",
            Reply::Other("(123456789012345678901234567890".into()),
        ),
        ("return {err = 'X y'}", err("X y")),
        ("return redis.status_reply('S')", status("S")),
        // After redis.setresp(3) Lua booleans are RESP3 booleans.
        ("redis.setresp(3); return true", Reply::Bool(true)),
        ("redis.setresp(3); return false", Reply::Bool(false)),
        ("redis.setresp(3); return nil", nil()),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
    // The raw bytes of a RESP3 null and booleans.
    c.send(&resp(&["EVAL", "return nil", "0"]));
    c.expect(b"_\r\n");
    c.send(&resp(&["EVAL", "redis.setresp(3); return false", "0"]));
    c.expect(b"#f\r\n");
}

#[test]
fn setresp_3_with_a_resp2_client() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["HSET", "h", "f", "v"]), int(1));
    assert_eq!(c.call(&["SADD", "s", "m"]), int(1));
    assert_eq!(c.call(&["ZADD", "z", "1.5", "m"]), int(1));
    let cases: Vec<(&str, Reply)> = vec![
        ("redis.setresp(3); return redis.call('HGETALL', 'h')", bulks(&["f", "v"])),
        ("redis.setresp(3); return redis.call('SMEMBERS', 's')", bulks(&["m"])),
        ("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')", bulk("1.5")),
        ("redis.setresp(3); return redis.call('GET', 'nope')", nil()),
        ("redis.setresp(3); return true", int(1)),
        // A RESP3 false reaches a RESP2 client as 0, not as nil.
        ("redis.setresp(3); return false", int(0)),
        ("redis.setresp(2); return false", nil()),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
}

#[test]
fn setresp_3_with_a_resp3_client() {
    let s = TestServer::start();
    let mut c = resp3(&s);
    assert_eq!(c.call(&["HSET", "h", "f", "v"]), int(1));
    assert_eq!(c.call(&["SADD", "s", "m"]), int(1));
    assert_eq!(c.call(&["ZADD", "z", "1.5", "m"]), int(1));
    let cases: Vec<(&str, Reply)> = vec![
        ("redis.setresp(3); return redis.call('HGETALL', 'h')", Reply::Map(vec![(bulk("f"), bulk("v"))])),
        ("redis.setresp(3); return redis.call('SMEMBERS', 's')", Reply::Set(vec![bulk("m")])),
        ("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')", Reply::Double(1.5)),
        ("redis.setresp(3); return redis.call('GET', 'nope')", nil()),
        (
            "redis.setresp(3); return {redis.call('HGETALL', 'nope'), redis.call('SMEMBERS', 'nope')}",
            arr(vec![Reply::Map(vec![]), Reply::Set(vec![])]),
        ),
        // Without setresp(3) the script sees RESP2 replies, whatever the client speaks.
        ("return redis.call('HGETALL', 'h')", bulks(&["f", "v"])),
        ("return redis.call('ZSCORE', 'z', 'm')", bulk("1.5")),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
}

#[test]
fn setresp_3_values_as_lua_sees_them() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["HSET", "h", "f", "v"]), int(1));
    assert_eq!(c.call(&["ZADD", "z", "1.5", "m"]), int(1));
    let cases: Vec<(&str, Reply)> = vec![
        ("redis.setresp(3); return type(redis.call('GET', 'nope'))", bulk("nil")),
        ("redis.setresp(3); local m = redis.call('HGETALL', 'h'); return m['map']['f']", bulk("v")),
        ("redis.setresp(3); return type(redis.call('ZSCORE', 'z', 'm')['double'])", bulk("number")),
        ("redis.setresp(3); return redis.call('ZSCORE', 'z', 'm')['double'] * 2", int(3)),
        ("redis.setresp(3); return redis.call('EXISTS', 'h')", int(1)),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
    let script = "redis.setresp(4)";
    assert_eq!(eval0(&mut c, script), script_err("ERR RESP version must be 2 or 3.", script, 1));
    let script = "redis.setresp()";
    assert_eq!(eval0(&mut c, script), script_err("ERR redis.setresp() requires one argument.", script, 1));
}

// ---- Redis → Lua conversions ---------------------------------------------------------------

#[test]
fn redis_replies_as_lua_sees_them() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["HSET", "h", "f1", "v1", "f2", "v2"]), int(2));
    assert_eq!(c.call(&["ZADD", "z", "1.5", "m"]), int(1));
    let cases: Vec<(&str, Reply)> = vec![
        ("return redis.call('SET', 'k', 'v')", ok()),
        ("return redis.call('SET', 'k', 'v')['ok']", bulk("OK")),
        ("return redis.call('GET', 'k')", bulk("v")),
        // A missing value is false in Lua.
        ("return type(redis.call('GET', 'missing'))", bulk("boolean")),
        ("return redis.call('GET', 'missing') == false", int(1)),
        ("return redis.call('INCR', 'n')", int(1)),
        ("return type(redis.call('INCR', 'n'))", bulk("number")),
        ("return redis.call('HGETALL', 'h')", bulks(&["f1", "v1", "f2", "v2"])),
        ("return redis.call('HGETALL', 'nope')", arr(vec![])),
        ("return redis.call('ZSCORE', 'z', 'm')", bulk("1.5")),
        ("return type(redis.call('ZSCORE', 'z', 'm'))", bulk("string")),
        ("return redis.call('PING')", status("PONG")),
        ("return redis.call('TYPE', 'nope')", status("none")),
        ("return redis.call('TYPE', 'h')['ok']", bulk("hash")),
        ("return redis.pcall('INCR', 'k')['err']", bulk(NOT_INT)),
        ("return type(redis.pcall('INCR', 'k'))", bulk("table")),
        // Numbers passed to redis.call become strings; floats with 17 significant digits.
        ("redis.call('SET', 'i', 10); return redis.call('GET', 'i')", bulk("10")),
        ("redis.call('SET', 'f', 3.7); return redis.call('GET', 'f')", bulk("3.7000000000000002")),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
}

#[test]
fn keys_and_argv() {
    let s = TestServer::start();
    let mut c = s.raw();
    let script = "return {#KEYS, #ARGV, KEYS[1], KEYS[2], ARGV[1]}";
    assert_eq!(
        eval(&mut c, script, &["k1", "k2"], &["a1"]),
        arr(vec![int(2), int(1), bulk("k1"), bulk("k2"), bulk("a1")])
    );
    assert_eq!(eval(&mut c, "return {#KEYS, #ARGV}", &[], &[]), arr(vec![int(0), int(0)]));
    assert_eq!(eval(&mut c, "return ARGV", &[], &["x", "", "z"]), bulks(&["x", "", "z"]));
    // Binary-safe arguments.
    let bin = "\u{0}\r\n\u{7f}";
    assert_eq!(eval(&mut c, "return KEYS[1] .. ARGV[1]", &[bin], &[bin]), bulk(format!("{bin}{bin}")));
    assert_eq!(eval(&mut c, "return redis.call('SET', KEYS[1], ARGV[1])", &["key"], &["val"]), ok());
    assert_eq!(c.call(&["GET", "key"]), bulk("val"));
}

#[test]
fn numkeys_errors() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["EVAL", "return 1", "2", "a"]), err("ERR Number of keys can't be greater than number of args"));
    assert_eq!(c.call(&["EVAL", "return 1", "-1"]), err("ERR Number of keys can't be negative"));
    assert_eq!(c.call(&["EVAL", "return 1", "abc"]), err(NOT_INT));
    assert_eq!(c.call(&["EVAL", "return 1", "1.5", "a"]), err(NOT_INT));
    assert_eq!(c.call(&["EVAL", "return 1"]), arity_err("eval"));
    assert_eq!(c.call(&["EVALSHA", RETURN_42_SHA]), arity_err("evalsha"));
    assert_eq!(c.call(&["EVAL_RO", "return 1"]), arity_err("eval_ro"));
    assert_eq!(c.call(&["EVALSHA_RO", RETURN_42_SHA]), arity_err("evalsha_ro"));
    assert_eq!(c.call(&["SCRIPT", "LOAD", "return 42"]), bulk(RETURN_42_SHA));
    assert_eq!(
        c.call(&["EVALSHA", RETURN_42_SHA, "3", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(c.call(&["EVALSHA", RETURN_42_SHA, "-5"]), err("ERR Number of keys can't be negative"));
}

// ---- Errors --------------------------------------------------------------------------------

#[test]
fn redis_call_raises_and_redis_pcall_returns_the_error() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["SET", "k", "x"]), ok());
    let cases: Vec<(&str, Reply)> = vec![
        ("return redis.call('INCR', 'k')", script_err(NOT_INT, "return redis.call('INCR', 'k')", 1)),
        ("return redis.pcall('INCR', 'k')", err(NOT_INT)),
        ("return redis.call('LPUSH', 'k', 'x')", script_err(WRONGTYPE, "return redis.call('LPUSH', 'k', 'x')", 1)),
        ("return redis.pcall('LPUSH', 'k', 'x')", err(WRONGTYPE)),
        (
            "return redis.call('NOPE')",
            script_err("ERR Unknown Redis command called from script", "return redis.call('NOPE')", 1),
        ),
        ("return redis.pcall('NOPE')", err("ERR Unknown Redis command called from script")),
        (
            "return redis.call('GET')",
            script_err("ERR Wrong number of args calling Redis command from script", "return redis.call('GET')", 1),
        ),
        ("return redis.pcall('GET')", err("ERR Wrong number of args calling Redis command from script")),
        (
            "return redis.call()",
            script_err("ERR Please specify at least one argument for this redis lib call", "return redis.call()", 1),
        ),
        (
            "return redis.call('SET', 'a', {})",
            script_err(
                "ERR Lua redis lib command arguments must be strings or integers",
                "return redis.call('SET', 'a', {})",
                1,
            ),
        ),
        (
            "return redis.call('SET', 'a', true)",
            script_err(
                "ERR Lua redis lib command arguments must be strings or integers",
                "return redis.call('SET', 'a', true)",
                1,
            ),
        ),
        // The line of the failing call is reported.
        (
            "local a = 1\nlocal b = 2\nreturn redis.call('INCR', 'x', 'y')",
            script_err(
                "ERR Wrong number of args calling Redis command from script",
                "local a = 1\nlocal b = 2\nreturn redis.call('INCR', 'x', 'y')",
                3,
            ),
        ),
        // A script may catch the error and go on.
        ("local r = redis.pcall('INCR', 'k'); return {'caught', r['err']}", bulks(&["caught", NOT_INT])),
        ("error('boom')", script_err("ERR user_script:1: boom", "error('boom')", 1)),
        (
            "local a = 1\nerror('line two')",
            script_err("ERR user_script:2: line two", "local a = 1\nerror('line two')", 2),
        ),
        ("error({err = 'CUSTOM thing'})", script_err("CUSTOM thing", "error({err = 'CUSTOM thing'})", 1)),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
    assert_eq!(c.call(&["GET", "k"]), bulk("x"), "failed commands changed nothing");
}

#[test]
fn commands_not_allowed_from_scripts() {
    let s = TestServer::start();
    let mut c = s.raw();
    // In Redis 7.0 the blocking list commands are flagged noscript too.
    for script in [
        "return redis.call('EVAL', 'return 1', 0)",
        "return redis.call('MULTI')",
        "return redis.call('WATCH', 'x')",
        "return redis.call('SCRIPT', 'LOAD', 'return 1')",
        "return redis.call('FUNCTION', 'LIST')",
        "return redis.call('FCALL', 'f', 0)",
        "return redis.call('SHUTDOWN')",
        "return redis.call('BLPOP', 'nolist', 0)",
        "redis.call('RPUSH', 'l', 'a'); return redis.call('BLPOP', 'l', 0)",
    ] {
        assert_eq!(eval0(&mut c, script), script_err("ERR This Redis command is not allowed from script", script, 1));
    }
    assert_eq!(c.call(&["EXISTS", "l"]), int(1), "the RPUSH before the refused BLPOP stays");
    assert_eq!(eval0(&mut c, "return redis.pcall('MULTI')"), err("ERR This Redis command is not allowed from script"));
}

#[test]
fn compile_errors() {
    let s = TestServer::start();
    let mut c = s.raw();
    let expected = err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'");
    assert_eq!(eval0(&mut c, "return +++"), expected);
    assert_eq!(c.call(&["SCRIPT", "LOAD", "return +++"]), expected);
}

// ---- Sandbox -------------------------------------------------------------------------------

#[test]
fn the_sandbox_forbids_globals_and_dangerous_libraries() {
    let s = TestServer::start();
    let mut c = s.raw();
    for script in ["a = 5", "redis = nil", "redis.call = nil", "cjson.encode = nil", "string.upper = nil", "_G.x = 1"] {
        assert_eq!(
            eval0(&mut c, script),
            script_err("ERR user_script:1: Attempt to modify a readonly table", script, 1),
            "{script}"
        );
    }
    for name in ["undefined_var", "os", "io", "loadfile", "dofile", "require", "module", "getfenv", "print", "newproxy"]
    {
        let script = format!("return {name}");
        assert_eq!(
            eval0(&mut c, &script),
            script_err(
                &format!("ERR user_script:1: Script attempted to access nonexistent global variable '{name}'"),
                &script,
                1
            ),
            "{name}"
        );
    }
    let script = "return os.time()";
    assert_eq!(
        eval0(&mut c, script),
        script_err("ERR user_script:1: Script attempted to access nonexistent global variable 'os'", script, 1)
    );
    // Locals are fine, and the standard libraries that remain still work.
    let cases: Vec<(&str, Reply)> = vec![
        ("local t = {} t.x = 1 return t.x", int(1)),
        ("return string.upper('a')", bulk("A")),
        ("return string.format('%d-%s', 42, 'x')", bulk("42-x")),
        ("return math.floor(3.7)", int(3)),
        ("return table.concat({'a', 'b'}, ',')", bulk("a,b")),
        ("return string.rep('x', 3)", bulk("xxx")),
        ("return tonumber('12') + 1", int(13)),
        ("return type(loadstring)", bulk("function")),
        ("return _VERSION", bulk("Lua 5.1")),
        (
            "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
            arr(vec![int(0), int(1), int(2), int(3)]),
        ),
        ("return redis.log(redis.LOG_WARNING, 'from a test')", nil()),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
    // A global assignment by one script does not leak into the next.
    assert!(eval0(&mut c, "leak = 1").is_err());
    let script = "return leak";
    assert_eq!(
        eval0(&mut c, script),
        script_err("ERR user_script:1: Script attempted to access nonexistent global variable 'leak'", script, 1)
    );
}

// ---- Libraries -----------------------------------------------------------------------------

#[test]
fn bundled_libraries() {
    let s = TestServer::start();
    let mut c = s.raw();
    let json = r#"[1,"two",[3,{"k":"v"}],true,null]"#;
    assert_eq!(eval(&mut c, "return cjson.encode(cjson.decode(ARGV[1]))", &[], &[json]), bulk(json));
    let cases: Vec<(&str, Reply)> = vec![
        // cjson
        ("return cjson.encode({1, 2, 3})", bulk("[1,2,3]")),
        ("return cjson.encode({a = {1, 2}})", bulk(r#"{"a":[1,2]}"#)),
        ("return cjson.encode('s')", bulk(r#""s""#)),
        (r#"return cjson.decode('[1,2,{"a":"b"}]')[3].a"#, bulk("b")),
        (r#"return cjson.decode('{"x":[1,2.5,null,true]}').x[2]"#, int(2)),
        (r#"return cjson.decode('[1,2]')[1] + 1"#, int(2)),
        (r#"return type(cjson.decode('[null]')[1])"#, bulk("userdata")),
        // cmsgpack
        ("return cmsgpack.pack({1, 2, 3})", bulk(b"\x93\x01\x02\x03")),
        ("return cmsgpack.pack('abc')", bulk(b"\xa3abc")),
        ("return cmsgpack.pack({k = 'v'})", bulk(b"\x81\xa1k\xa1v")),
        (
            "local t = cmsgpack.unpack(cmsgpack.pack({1, 'two', {3}})); return {t[1], t[2], t[3][1]}",
            arr(vec![int(1), bulk("two"), int(3)]),
        ),
        ("return {cmsgpack.unpack(cmsgpack.pack(1, 'x', 3))}", arr(vec![int(1), bulk("x"), int(3)])),
        // bit
        ("return bit.band(12, 10)", int(8)),
        ("return bit.bor(1, 2, 4)", int(7)),
        ("return bit.bxor(5, 3)", int(6)),
        ("return bit.bnot(0)", int(-1)),
        ("return bit.lshift(1, 4)", int(16)),
        ("return bit.rshift(256, 4)", int(16)),
        ("return bit.arshift(-256, 4)", int(-16)),
        ("return bit.tobit(4294967297)", int(1)),
        ("return bit.tohex(255)", bulk("000000ff")),
        ("return bit.tohex(-1)", bulk("ffffffff")),
        // struct
        ("return struct.pack('>I2', 258)", bulk(b"\x01\x02")),
        ("return struct.pack('<i4', -2)", bulk(b"\xfe\xff\xff\xff")),
        ("return {struct.unpack('<i4', struct.pack('<i4', -2))}", arr(vec![int(-2), int(5)])),
        ("return struct.size('>I4')", int(4)),
        // sha1hex
        ("return redis.sha1hex('')", bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")),
        ("return redis.sha1hex('abc')", bulk("a9993e364706816aba3e25717850c26c9cd0d89d")),
        ("return redis.sha1hex('return 42')", bulk(RETURN_42_SHA)),
    ];
    for (script, expected) in cases {
        assert_eq!(eval0(&mut c, script), expected, "{script}");
    }
    // Binary arguments.
    let script: &[u8] = b"return {struct.unpack('BBc3', ARGV[1])}";
    assert_eq!(
        c.call(&[b"EVAL".as_slice(), script, b"0", b"\x01\x02xyz"]),
        arr(vec![int(1), int(2), bulk("xyz"), int(6)])
    );
    assert_eq!(
        c.call(&[b"EVAL".as_slice(), b"return cmsgpack.unpack(ARGV[1])", b"0", b"\x92\xa1a\x05"]),
        arr(vec![bulk("a"), int(5)])
    );
    let script = "return redis.sha1hex()";
    assert_eq!(eval0(&mut c, script), script_err("ERR wrong number of arguments", script, 1));
}

// ---- EVALSHA and SCRIPT ----------------------------------------------------------------------

#[test]
fn script_load_evalsha_exists_and_flush() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["EVALSHA", RETURN_42_SHA, "0"]), err(NOSCRIPT));
    assert_eq!(c.call(&["SCRIPT", "LOAD", "return 42"]), bulk(RETURN_42_SHA));
    assert_eq!(c.call(&["EVALSHA", RETURN_42_SHA, "0"]), int(42));
    assert_eq!(c.call(&["EVALSHA", &RETURN_42_SHA.to_uppercase(), "0"]), int(42), "the SHA is case-insensitive");
    assert_eq!(c.call(&["EVALSHA_RO", RETURN_42_SHA, "0"]), int(42));
    assert_eq!(c.call(&["EVALSHA", "abc", "0"]), err(NOSCRIPT), "a malformed SHA is just not found");
    // EVAL caches its script too.
    let script = "return 'cached by eval'";
    assert_eq!(eval0(&mut c, script), bulk("cached by eval"));
    let sha = sha1hex(script);
    assert_eq!(c.call(&["EVALSHA", &sha, "0"]), bulk("cached by eval"));
    let absent = "ffffffffffffffffffffffffffffffffffffffff";
    assert_eq!(
        c.call(&["SCRIPT", "EXISTS", RETURN_42_SHA, absent, &sha, &RETURN_42_SHA.to_uppercase()]),
        arr(vec![int(1), int(0), int(1), int(1)])
    );
    // Another connection shares the cache.
    let mut d = s.raw();
    assert_eq!(d.call(&["EVALSHA", &sha, "0"]), bulk("cached by eval"));
    assert_eq!(c.call(&["SCRIPT", "FLUSH"]), ok());
    assert_eq!(c.call(&["SCRIPT", "EXISTS", RETURN_42_SHA, &sha]), arr(vec![int(0), int(0)]));
    assert_eq!(c.call(&["EVALSHA", RETURN_42_SHA, "0"]), err(NOSCRIPT));
    assert_eq!(d.call(&["EVALSHA", &sha, "0"]), err(NOSCRIPT));
    for mode in ["ASYNC", "SYNC", "async"] {
        assert_eq!(c.call(&["SCRIPT", "LOAD", "return 42"]), bulk(RETURN_42_SHA));
        assert_eq!(c.call(&["SCRIPT", "FLUSH", mode]), ok());
        assert_eq!(c.call(&["SCRIPT", "EXISTS", RETURN_42_SHA]), arr(vec![int(0)]));
    }
}

#[test]
fn script_subcommand_errors() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["SCRIPT", "FLUSH", "x"]), err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    assert_eq!(c.call(&["SCRIPT", "EXISTS"]), arity_err("script|exists"));
    assert_eq!(c.call(&["SCRIPT", "LOAD"]), arity_err("script|load"));
    assert_eq!(c.call(&["SCRIPT", "FOO"]), err("ERR unknown subcommand 'FOO'. Try SCRIPT HELP."));
    assert_eq!(c.call(&["SCRIPT", "KILL"]), err(NOTBUSY));
    assert_eq!(c.call(&["EVAL"]), arity_err("eval"));
}

#[test]
fn shebang_flags() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(eval0(&mut c, "#!lua\nreturn 1"), int(1));
    assert_eq!(eval0(&mut c, "#!lua flags=no-writes\nreturn 1"), int(1));
    let script = "#!lua flags=no-writes\nreturn redis.call('SET', 'a', 'b')";
    assert_eq!(
        eval0(&mut c, script),
        script_err("ERR Write commands are not allowed from read-only scripts.", script, 2)
    );
    assert_eq!(eval0(&mut c, "#!lua flags=bogus\nreturn 1"), err("ERR Unexpected flag in script shebang: bogus"));
    assert_eq!(eval0(&mut c, "#!python\nreturn 1"), err("ERR Unexpected engine in script shebang: #!python"));
    assert_eq!(c.call(&["EXISTS", "a"]), int(0));
}

// ---- Read-only scripts -----------------------------------------------------------------------

#[test]
fn eval_ro_rejects_writes() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["HSET", "h", "f", "v"]), int(1));
    let script = "return redis.call('SET', 'k', 'v')";
    let refused = script_err("ERR Write commands are not allowed from read-only scripts.", script, 1);
    assert_eq!(c.call(&["EVAL_RO", script, "0"]), refused);
    assert_eq!(
        c.call(&["EVAL_RO", "return redis.pcall('SET', 'k', 'v')", "0"]),
        err("ERR Write commands are not allowed from read-only scripts.")
    );
    assert_eq!(c.call(&["EVAL_RO", "return redis.call('HGET', KEYS[1], 'f')", "1", "h"]), bulk("v"));
    // The same script by SHA.
    let sha = c.call(&["SCRIPT", "LOAD", script]).text();
    assert_eq!(sha, sha1hex(script));
    assert_eq!(c.call(&["EVALSHA_RO", &sha, "0"]), refused);
    assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    assert_eq!(c.call(&["EVALSHA", &sha, "0"]), ok(), "EVALSHA may write");
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
}

// ---- Keys, databases, atomicity ------------------------------------------------------------

#[test]
fn scripts_may_touch_undeclared_keys_and_select_is_local_to_the_script() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(eval0(&mut c, "return redis.call('SET', 'undeclared', 'x')"), ok());
    assert_eq!(c.call(&["GET", "undeclared"]), bulk("x"));
    assert_eq!(eval0(&mut c, "redis.call('SELECT', 1); return redis.call('SET', 'indb1', 'v')"), ok());
    // The caller's database did not change.
    assert_eq!(c.call(&["GET", "indb1"]), nil());
    assert_eq!(c.call(&["SELECT", "1"]), ok());
    assert_eq!(c.call(&["GET", "indb1"]), bulk("v"));
    // A script starts in its caller's database.
    assert_eq!(eval0(&mut c, "return redis.call('GET', 'indb1')"), bulk("v"));
}

#[test]
fn script_writes_are_visible_and_atomic() {
    let s = TestServer::start();
    let done = Arc::new(AtomicBool::new(false));
    let reading = Arc::new(Barrier::new(2));
    let reader = {
        let port = s.port;
        let done = done.clone();
        let reading = reading.clone();
        std::thread::spawn(move || {
            let mut r = RawConn::connect(port);
            let mut seen = Vec::new();
            loop {
                match r.call(&["GET", "n"]) {
                    Reply::Nil => seen.push(0),
                    v => seen.push(v.text().parse::<i64>().expect("number")),
                }
                if seen.len() == 1 {
                    reading.wait();
                }
                if done.load(Ordering::Relaxed) {
                    return seen;
                }
            }
        })
    };
    reading.wait();
    let mut c = s.raw();
    let script = "for i = 1, 100 do redis.call('INCR', KEYS[1]) end return redis.call('GET', KEYS[1])";
    for round in 1..=30 {
        assert_eq!(eval(&mut c, script, &["n"], &[]), bulk((round * 100).to_string()));
    }
    done.store(true, Ordering::Relaxed);
    let seen = reader.join().expect("reader thread");
    assert!(!seen.is_empty());
    let torn: Vec<&i64> = seen.iter().filter(|v| *v % 100 != 0).collect();
    assert!(torn.is_empty(), "a reader saw a script half done: {:?}", &torn[..torn.len().min(5)]);
    assert_eq!(c.call(&["GET", "n"]), bulk("3000"));
}

#[test]
fn scripts_inside_multi() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["SET", "s", "x"]), ok());
    let wrong = "return redis.call('LPUSH', KEYS[1], 1)";
    assert_eq!(c.call(&["MULTI"]), ok());
    for cmd in [
        &["EVAL", "return redis.call('INCR', KEYS[1])", "1", "n"][..],
        &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        &["EVAL", wrong, "1", "s"],
        &["SCRIPT", "LOAD", "return 42"],
        &["EVALSHA", RETURN_42_SHA, "0"],
        &["EVAL", "return 1", "-1"],
        &["EVAL", "return redis.call('GET', KEYS[1])", "1", "n"],
    ] {
        assert_eq!(c.call(cmd), status("QUEUED"), "{cmd:?}");
    }
    assert_eq!(
        c.call(&["EXEC"]),
        arr(vec![
            int(1),
            err(NOSCRIPT),
            script_err(WRONGTYPE, wrong, 1),
            bulk(RETURN_42_SHA),
            int(42),
            err("ERR Number of keys can't be negative"),
            bulk("1"),
        ])
    );
    // Arity errors abort at queue time as for any command.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["EVAL", "return 1"]), arity_err("eval"));
    assert_eq!(c.call(&["EXEC"]), err("EXECABORT Transaction discarded because of previous errors."));
}

#[test]
fn large_scripts_and_many_arguments() {
    let s = TestServer::start();
    let mut c = s.raw();
    let long_string = format!("return string.len('{}')", "x".repeat(200_000));
    assert_eq!(eval0(&mut c, &long_string), int(200_000));
    let many_lines = format!("local n = 0\n{}return n", "n = n + 1\n".repeat(10_000));
    assert_eq!(eval0(&mut c, &many_lines), int(10_000));
    assert_eq!(c.call(&["SCRIPT", "LOAD", &many_lines]), bulk(sha1hex(&many_lines)));
    let keys: Vec<String> = (0..1000).map(|i| format!("key:{i}")).collect();
    let args: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let mut cmd = vec!["EVAL".to_string(), "return {#KEYS, #ARGV, KEYS[1000], ARGV[10000]}".into(), "1000".into()];
    cmd.extend(keys.iter().cloned());
    cmd.extend(args.iter().cloned());
    assert_eq!(c.call(&cmd), arr(vec![int(1000), int(10_000), bulk("key:999"), bulk("9999")]));
    // A script returning a large array.
    assert_eq!(
        eval0(&mut c, "local t = {} for i = 1, 50000 do t[i] = i end return t"),
        arr((1..=50_000).map(int).collect())
    );
}

// ---- Busy scripts ----------------------------------------------------------------------------

#[test]
fn busy_script_is_killed_by_script_kill() {
    let s = TestServer::start();
    let mut admin = s.raw();
    assert_eq!(admin.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]), ok());
    assert_eq!(admin.call(&["CONFIG", "GET", "lua-time-limit"]), bulks(&["lua-time-limit", "100"]), "an alias");
    let mut runner = s.raw();
    let script = "while true do end";
    runner.send(&resp(&["EVAL", script, "0"]));
    until_busy(&mut admin, BUSY);
    assert_eq!(admin.call(&["GET", "x"]), err(BUSY));
    let mut third = s.raw();
    assert_eq!(third.call(&["SET", "x", "1"]), err(BUSY));
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), ok());
    assert_eq!(runner.read_reply(), script_err("ERR Script killed by user with SCRIPT KILL...", script, 1));
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), err(NOTBUSY));
    assert_eq!(admin.call(&["PING"]), status("PONG"));
    assert_eq!(runner.call(&["EVAL", "return 1", "0"]), int(1));
    assert_eq!(third.call(&["EXISTS", "x"]), int(0));
}

/// Redis can't kill a script that wrote (its writes are already in the data set): SCRIPT KILL
/// answers UNKILLABLE and only SHUTDOWN NOSAVE stops it. Strata holds a script's writes until it
/// ends, so it kills such a script too and its writes are never applied; SHUTDOWN NOSAVE also
/// stops a busy script.
#[test]
fn busy_script_that_wrote_is_killed_by_strata_and_unkillable_in_redis() {
    let s = TestServer::start();
    let mut admin = s.raw();
    assert_eq!(admin.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]), ok());
    let mut runner = s.raw();
    runner.send(&resp(&["EVAL", "redis.call('SET', 'x', 'y') while true do end", "0"]));
    until_busy(&mut admin, BUSY);
    if target_is_redis() {
        assert_eq!(
            admin.call(&["SCRIPT", "KILL"]),
            err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either \
                 wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
        );
    } else {
        assert_eq!(admin.call(&["SCRIPT", "KILL"]), ok());
        let killed = runner.read_reply();
        assert!(
            matches!(&killed, Reply::Err(e) if e.starts_with("ERR Script killed by user with SCRIPT KILL")),
            "{killed:?}"
        );
        assert_eq!(admin.call(&["EXISTS", "x"]), int(0));
        runner.send(&resp(&["EVAL", "redis.call('SET', 'x', 'y') while true do end", "0"]));
        until_busy(&mut admin, BUSY);
    }
    admin.send(&resp(&["SHUTDOWN", "NOSAVE"]));
    admin.read_until_closed();
    runner.read_until_closed();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", s.port)).is_ok() {
        assert!(Instant::now() < deadline, "the server still accepts connections after SHUTDOWN NOSAVE");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Scripts touching keys they did not declare (BullMQ builds key names at run time) stay atomic
/// and isolated when several run at once: each moves an amount between two counters it names
/// itself, so the total never changes, and a script summing every counter (none declared
/// either) always sees the same total.
#[test]
fn concurrent_scripts_on_undeclared_keys_stay_isolated() {
    // Two network threads: scripts really run at the same time.
    let s = TestServer::start_with(&["--io-threads", "2"]);
    let mut c = s.raw();
    for i in 0..10 {
        assert_eq!(c.call(&["SET", &format!("acct:{i}"), "100"]), ok());
    }
    let transfer = "local a, b = 'acct:' .. ARGV[1], 'acct:' .. ARGV[2] \
                    redis.call('DECRBY', a, ARGV[3]) redis.call('INCRBY', b, ARGV[3]) return 1";
    let sum = "local t = 0 for i = 0, 9 do t = t + tonumber(redis.call('GET', 'acct:' .. i)) end return t";
    let done = Arc::new(AtomicBool::new(false));
    let summer = {
        let (port, done) = (s.port, done.clone());
        std::thread::spawn(move || {
            let mut r = RawConn::connect(port);
            let mut sums = Vec::new();
            while !done.load(Ordering::Relaxed) {
                sums.push(r.call(&["EVAL", sum, "0"]));
            }
            sums
        })
    };
    let movers: Vec<_> = (0..4u64)
        .map(|t| {
            let port = s.port;
            std::thread::spawn(move || {
                let mut m = RawConn::connect(port);
                let mut x = t + 1;
                for _ in 0..1000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let (a, b, amount) = ((x >> 33) % 10, (x >> 45) % 10, (x >> 20) % 7 + 1);
                    let reply = m.call(&["EVAL", transfer, "0", &a.to_string(), &b.to_string(), &amount.to_string()]);
                    assert_eq!(reply, Reply::Int(1));
                }
            })
        })
        .collect();
    for m in movers {
        m.join().expect("mover");
    }
    done.store(true, Ordering::Relaxed);
    let sums = summer.join().expect("summer");
    assert!(!sums.is_empty());
    assert!(sums.iter().all(|v| *v == Reply::Int(1000)), "a script saw a transfer half done: {sums:?}");
    assert_eq!(c.call(&["EVAL", sum, "0"]), Reply::Int(1000));
}

/// Strata refuses FLUSHALL, FLUSHDB and SWAPDB inside a script (they need the database map a
/// script's atomic write holds; Redis runs them). The server stays up and nothing is flushed.
#[test]
fn flush_and_swapdb_from_a_script() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["SET", "keep", "1"]), ok());
    for cmd in ["flushall", "flushdb", "swapdb"] {
        let script = if cmd == "swapdb" {
            "return redis.call('swapdb', 0, 1)".to_string()
        } else {
            format!("return redis.call('{cmd}')")
        };
        let reply = eval0(&mut c, &script);
        if target_is_redis() {
            assert_eq!(reply, ok(), "{cmd}");
            assert_eq!(c.call(&["SET", "keep", "1"]), ok());
            if cmd == "swapdb" {
                assert_eq!(eval0(&mut c, &script), ok());
            }
        } else {
            assert!(
                matches!(&reply, Reply::Err(e) if e.starts_with("ERR This Redis command is not allowed from script")),
                "{cmd}: {reply:?}"
            );
        }
    }
    assert_eq!(c.call(&["GET", "keep"]), bulk("1"));
}

/// EXEC refused with -BUSY ends the transaction (EXECABORT), as Redis does: the client is not
/// left queuing.
#[test]
fn exec_refused_while_busy_ends_the_transaction() {
    let s = TestServer::start();
    let mut admin = s.raw();
    assert_eq!(admin.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]), ok());
    let mut queuer = s.raw();
    assert_eq!(queuer.call(&["MULTI"]), ok());
    assert_eq!(queuer.call(&["SET", "x", "1"]), Reply::Status("QUEUED".into()));
    let mut runner = s.raw();
    runner.send(&resp(&["EVAL", "while true do end", "0"]));
    until_busy(&mut admin, BUSY);
    assert_eq!(queuer.call(&["EXEC"]), err(&format!("EXECABORT Transaction discarded because of: {BUSY}")));
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), ok());
    let killed = runner.read_reply();
    assert!(
        matches!(&killed, Reply::Err(e) if e.starts_with("ERR Script killed by user with SCRIPT KILL")),
        "{killed:?}"
    );
    assert_eq!(queuer.call(&["GET", "x"]), nil());
}

/// A script killed inside MULTI/EXEC takes the whole transaction with it in Strata (its writes
/// and the transaction's are discarded). Redis refuses to kill a script that wrote (see
/// `busy_script_that_wrote_is_killed_by_strata_and_unkillable_in_redis`), so this is Strata's.
#[test]
fn killing_a_script_inside_exec_discards_the_transaction() {
    if target_is_redis() {
        return;
    }
    let s = TestServer::start();
    let mut admin = s.raw();
    assert_eq!(admin.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]), ok());
    let mut runner = s.raw();
    assert_eq!(runner.call(&["MULTI"]), ok());
    assert_eq!(runner.call(&["SET", "a", "1"]), Reply::Status("QUEUED".into()));
    assert_eq!(
        runner.call(&["EVAL", "redis.call('SET', 'b', '1') while true do end", "0"]),
        Reply::Status("QUEUED".into())
    );
    runner.send(&resp(&["EXEC"]));
    until_busy(&mut admin, BUSY);
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), ok());
    let reply = runner.read_reply();
    assert!(
        matches!(&reply, Reply::Err(e) if e.starts_with("ERR Script killed by user with SCRIPT KILL")),
        "{reply:?}"
    );
    assert_eq!(admin.call(&["EXISTS", "a", "b"]), int(0));
    assert_eq!(runner.call(&["PING"]), Reply::Status("PONG".into()));
}

/// A script's SCAN, page by page, lists the keys it wrote and not those it deleted.
#[test]
fn scan_pages_inside_a_script_see_its_own_writes() {
    let s = TestServer::start();
    let mut c = s.raw();
    for i in 0..40 {
        assert_eq!(c.call(&["SET", &format!("k{i:02}"), "1"]), ok());
    }
    let script = "for i = 0, 9 do redis.call('SET', 'n' .. i, '1') end \
                  for i = 0, 39, 4 do redis.call('DEL', string.format('k%02d', i)) end \
                  local cur, all = '0', {} \
                  repeat \
                    local r = redis.call('SCAN', cur, 'COUNT', 3) \
                    cur = r[1] \
                    for _, k in ipairs(r[2]) do table.insert(all, k) end \
                  until cur == '0' \
                  return all";
    let mut got: Vec<String> = eval0(&mut c, script).strings();
    got.sort();
    let mut want: Vec<String> = (0..40).filter(|i| i % 4 != 0).map(|i| format!("k{i:02}")).collect();
    want.extend((0..10).map(|i| format!("n{i}")));
    want.sort();
    assert_eq!(got, want);
}
