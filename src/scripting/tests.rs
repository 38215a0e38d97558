//! Engine tests against a fake host. Expected values were taken from redis-server 7.0.15.

use std::collections::HashMap;

use bytes::Bytes;

use super::*;

/// A host with a tiny key space (GET, SET, INCR, LPUSH, PING) and canned replies
/// (`REPLY <kind>`), recording every call and log line.
#[derive(Default)]
struct FakeHost {
    data: HashMap<Vec<u8>, Vec<u8>>,
    lists: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    calls: Vec<Vec<Bytes>>,
    logs: Vec<(u8, String)>,
    checks: usize,
    /// `check` fails with this text once it has been called this many times.
    fail_check_after: Option<(usize, String)>,
    resp_set: Vec<u8>,
}

impl Host for FakeHost {
    fn call(&mut self, args: Vec<Bytes>) -> Reply {
        self.calls.push(args.clone());
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let arg = |i: usize| args.get(i).map(|a| a.to_vec()).unwrap_or_default();
        match name.as_str() {
            "ping" => Reply::Simple("PONG"),
            "set" => {
                self.data.insert(arg(1), arg(2));
                Reply::Ok
            }
            "get" => match self.data.get(&arg(1)) {
                Some(v) => Reply::bulk(v.clone()),
                None => Reply::Null,
            },
            "incr" => {
                let v = self.data.get(&arg(1)).map(|v| String::from_utf8_lossy(v).parse::<i64>());
                match v {
                    None => {
                        self.data.insert(arg(1), b"1".to_vec());
                        Reply::Int(1)
                    }
                    Some(Ok(n)) => {
                        self.data.insert(arg(1), (n + 1).to_string().into_bytes());
                        Reply::Int(n + 1)
                    }
                    Some(Err(_)) => Reply::error("ERR value is not an integer or out of range"),
                }
            }
            "lpush" => {
                if self.data.contains_key(&arg(1)) {
                    return Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value");
                }
                let list = self.lists.entry(arg(1)).or_default();
                for a in &args[2..] {
                    list.insert(0, a.to_vec());
                }
                Reply::Int(list.len() as i64)
            }
            "reply" => match &*arg(1) {
                b"map" => Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1)), (Reply::bulk("b"), Reply::Int(2))]),
                b"set" => Reply::Set(vec![Reply::bulk("x"), Reply::bulk("y")]),
                b"double" => Reply::Double(3.5),
                b"true" => Reply::Bool(true),
                b"false" => Reply::Bool(false),
                b"null" => Reply::Null,
                b"nullarray" => Reply::NullArray,
                b"verbatim" => Reply::Verbatim("txt", Bytes::from_static(b"hello")),
                b"nested" => Reply::Array(vec![
                    Reply::Int(1),
                    Reply::Array(vec![Reply::bulk("a"), Reply::Null]),
                    Reply::error("ERR inner"),
                ]),
                b"bulkarray" => {
                    let mut a = crate::reply::BulkArray::with_capacity(16);
                    a.push(b"one");
                    a.push(b"");
                    a.push(b"three");
                    Reply::BulkArray(a)
                }
                b"nospace" => Reply::error("NOSPACE"),
                b"status" => Reply::SimpleOwned("QUEUED".to_owned()),
                _ => Reply::error("ERR unknown canned reply"),
            },
            _ => Reply::error("ERR Unknown Redis command called from script"),
        }
    }

    fn check(&mut self) -> Result<(), String> {
        self.checks += 1;
        match &self.fail_check_after {
            Some((n, text)) if self.checks >= *n => Err(text.clone()),
            _ => Ok(()),
        }
    }

    fn log(&mut self, level: u8, msg: &str) {
        self.logs.push((level, msg.to_owned()));
    }

    fn set_resp(&mut self, resp: u8) {
        self.resp_set.push(resp);
    }
}

fn engine() -> Engine {
    Engine::new().unwrap()
}

fn eval_in(engine: &mut Engine, host: &mut FakeHost, script: &str, keys: &[&str], argv: &[&str]) -> Reply {
    let keys: Vec<Bytes> = keys.iter().map(|k| Bytes::copy_from_slice(k.as_bytes())).collect();
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
    engine.eval(&sha1_hex(script.as_bytes()), script.as_bytes(), &keys, &argv, host)
}

fn eval(script: &str) -> Reply {
    eval_in(&mut engine(), &mut FakeHost::default(), script, &[], &[])
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// The error text Redis gives for a script failing on line 1.
fn script_error(script: &str, msg: &str) -> Reply {
    Reply::Error(format!("{msg} script: {}, on @user_script:1.", sha1_hex(script.as_bytes())))
}

fn assert_script_error(script: &str, msg: &str) {
    assert_eq!(eval(script), script_error(script, msg), "script: {script}");
}

// ---- sandbox ------------------------------------------------------------------------------

#[test]
fn missing_globals_are_errors() {
    for name in ["a", "print", "os", "debug", "setfenv", "getfenv", "newproxy", "dofile", "loadfile", "io", "require"] {
        let script = format!("return type({name})");
        assert_script_error(
            &script,
            &format!("ERR user_script:1: Script attempted to access nonexistent global variable '{name}'"),
        );
    }
}

#[test]
fn builtins_and_libraries_present() {
    for name in [
        "loadstring",
        "unpack",
        "tonumber",
        "tostring",
        "pairs",
        "ipairs",
        "select",
        "type",
        "pcall",
        "xpcall",
        "error",
        "assert",
        "rawget",
        "rawset",
        "rawequal",
        "next",
        "setmetatable",
        "getmetatable",
        "collectgarbage",
        "gcinfo",
    ] {
        assert_eq!(eval(&format!("return type({name})")), bulk("function"), "{name}");
    }
    for name in ["string", "table", "math", "coroutine", "cjson", "cmsgpack", "bit", "struct", "redis", "_G"] {
        assert_eq!(eval(&format!("return type({name})")), bulk("table"), "{name}");
    }
    assert_eq!(eval("return _VERSION"), bulk("Lua 5.1"));
}

#[test]
fn globals_and_libraries_are_read_only() {
    for script in ["a = 1", "string.foo = 1", "redis.foo = 1", "function f() end", "_G.x = 1", "math.random = nil"] {
        assert_script_error(script, "ERR user_script:1: Attempt to modify a readonly table");
    }
    // Locals and new tables are fine.
    assert_eq!(eval("local t = {} t.x = 5 return t.x"), Reply::Int(5));
    assert_eq!(eval("KEYS[1] = 'k' return KEYS[1]"), bulk("k"));
}

#[test]
fn redis_table_reads_missing_fields_as_nil() {
    assert_eq!(eval("return redis.nothing == nil"), Reply::Int(1));
}

#[test]
fn keys_and_argv() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let r = eval_in(&mut e, &mut h, "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", &["k1", "k2"], &["a1"]);
    assert_eq!(r, Reply::Array(vec![bulk("k1"), bulk("k2"), bulk("a1"), Reply::Int(2), Reply::Int(1)]));
    // The next run sees its own.
    let r = eval_in(&mut e, &mut h, "return {#KEYS, #ARGV}", &[], &[]);
    assert_eq!(r, Reply::Array(vec![Reply::Int(0), Reply::Int(0)]));
}

#[test]
fn loadstring_runs_in_the_sandbox() {
    assert_eq!(eval("return loadstring('return 1 + 1')()"), Reply::Int(2));
    assert!(
        matches!(eval("local f = loadstring('x = 1') return f()"), Reply::Error(e) if e.contains("Attempt to modify a readonly table"))
    );
    assert_eq!(
        eval("local f, e = loadstring(string.char(27) .. 'Lua') return e"),
        bulk("attempt to load a binary chunk")
    );
}

#[test]
fn compile_errors() {
    let script = "syntax error here";
    assert_eq!(
        eval(script),
        Reply::error("ERR Error compiling script (new function): user_script:1: '=' expected near 'error'")
    );
    let mut e = engine();
    assert!(e.compile("x", b"return 1").is_ok());
    assert!(e.has_script("x"));
    e.flush();
    assert!(!e.has_script("x"));
}

#[test]
fn runtime_errors_carry_position_and_sha() {
    assert_script_error("error('x')", "ERR user_script:1: x");
    assert_script_error("error({err='MY x'})", "MY x");
    assert_script_error("error({err='NOSPACE'})", "NOSPACE");
    assert_script_error("local t = nil; return t.x", "ERR user_script:1: attempt to index local 't' (a nil value)");
    assert_script_error("return nil + 1", "ERR user_script:1: attempt to perform arithmetic on a nil value");
    let script = "local x = 1\n\nreturn y";
    assert_eq!(
        eval(script),
        Reply::Error(format!(
            "ERR user_script:3: Script attempted to access nonexistent global variable 'y' script: {}, on @user_script:3.",
            sha1_hex(script.as_bytes())
        ))
    );
}

#[test]
fn shebang_is_parsed_and_stripped() {
    let script = "#!lua flags=no-writes,allow-oom\nreturn 1";
    assert_eq!(eval(script), Reply::Int(1));
    let s = parse_eval_shebang(script.as_bytes()).unwrap();
    assert!(s.present);
    assert_eq!(s.flags, vec!["no-writes", "allow-oom"]);
    assert_eq!(parse_eval_shebang(b"return 1").unwrap(), EvalShebang::default());
    assert_eq!(parse_eval_shebang(b"#!lua"), Err("ERR Invalid script shebang".to_owned()));
    assert_eq!(parse_eval_shebang(b"#!lux\n"), Err("ERR Unexpected engine in script shebang: #!lux".to_owned()));
    assert_eq!(parse_eval_shebang(b"#!lua flags=bad\n"), Err("ERR Unexpected flag in script shebang: bad".to_owned()));
    assert_eq!(parse_eval_shebang(b"#!lua x=1\n"), Err("ERR Unknown lua shebang option: x=1".to_owned()));
    // Line numbers hold after the shebang.
    let script = "#!lua\nerror('x')";
    assert_eq!(
        eval(script),
        Reply::Error(format!("ERR user_script:2: x script: {}, on @user_script:2.", sha1_hex(script.as_bytes())))
    );
}

#[test]
fn pcall_and_xpcall_see_redis_7_error_values() {
    let f = |v: &str| bulk(v);
    assert_eq!(
        eval("return {xpcall(function() redis.call('nosuch') end, function(e) return type(e) end)}"),
        Reply::Array(vec![Reply::Null, f("table")])
    );
    assert_eq!(
        eval("return {xpcall(function() redis.call('nosuch') end, function(e) return e.err end)}"),
        Reply::Array(vec![Reply::Null, f("ERR Unknown Redis command called from script")])
    );
    assert_eq!(
        eval("return {xpcall(function() error('x') end, function(e) return e end)}"),
        Reply::Array(vec![Reply::Null, f("user_script:1: x")])
    );
    assert_eq!(eval("return {pcall(error, {err='x'})}"), Reply::Array(vec![Reply::Null, f("x")]));
    assert_eq!(eval("return {pcall(error, 'x')}"), Reply::Array(vec![Reply::Null, f("x")]));
    assert_eq!(
        eval("return {pcall(function() return y end)}"),
        Reply::Array(vec![Reply::Null, f("user_script:1: Script attempted to access nonexistent global variable 'y'")])
    );
    assert_eq!(
        eval("return {pcall(function() local a = nil; return a.b end)}"),
        Reply::Array(vec![Reply::Null, f("user_script:1: attempt to index local 'a' (a nil value)")])
    );
    assert_eq!(
        eval("return {pcall(function() return 1, 2 end)}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1), Reply::Int(2)])
    );
}

#[test]
fn assorted_builtins_behave_as_in_redis() {
    assert_eq!(
        eval("local co = coroutine.create(function() coroutine.yield(1) end) return {coroutine.resume(co)}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1)])
    );
    assert_eq!(eval("return string.format('%d %s %5.2f', 3, 'x', 1.234)"), bulk("3 x  1.23"));
    assert_eq!(eval("return tostring(cjson.null)"), bulk("userdata: (nil)"));
    assert_eq!(
        eval("return {1, {2, {3}}}"),
        Reply::Array(vec![Reply::Int(1), Reply::Array(vec![Reply::Int(2), Reply::Array(vec![Reply::Int(3)])])])
    );
    assert_eq!(eval("return table.getn({1,2})"), Reply::Int(2));
    assert_eq!(eval("return 0/0"), Reply::Int(i64::MIN));
    assert_eq!(eval("return 1/0"), Reply::Int(i64::MIN));
    assert_eq!(eval("return cjson.encode({a=cjson.null})"), bulk("{\"a\":null}"));
    assert_eq!(eval("local t = setmetatable({}, {__index=function(t,k) return k end}) return t.foo"), bulk("foo"));
    assert_eq!(eval("return getmetatable('').__index == string"), Reply::Int(1));
    assert_eq!(eval("return ('abc'):upper()"), bulk("ABC"));
    assert_eq!(eval("return rawget(_G, 'x')"), Reply::Null);
    assert_eq!(eval("local t = {} rawset(t, 'a', 1) return t.a"), Reply::Int(1));
    let script = "rawset(_G, 'x', 1) return x";
    assert_eq!(eval(script), script_error(script, "ERR Attempt to modify a readonly table"));
    let script = "return rawset(string, 'x', 1)";
    assert_eq!(eval(script), script_error(script, "ERR Attempt to modify a readonly table"));
    assert_eq!(eval("return gcinfo() > 0"), Reply::Int(1));
    assert_eq!(
        eval("local i = 0 return load(function() i = i + 1 if i == 1 then return 'return 7' end end)()"),
        Reply::Int(7)
    );
    assert_script_error(
        "return load('return 1')()",
        "ERR user_script:1: bad argument #1 to 'load' (function expected, got string)",
    );
    assert_eq!(eval("return unpack({1, 2})"), Reply::Int(1));
    assert_eq!(eval("return tonumber('0x10')"), Reply::Int(16));
}

#[test]
fn deep_structures_fail_cleanly() {
    assert_script_error("local function f() f() end f()", "ERR user_script:1: stack overflow");
    assert_script_error(
        "local t = {} t[1] = t return cjson.encode(t)",
        "ERR user_script:1: Cannot serialise, excessive nesting (1001)",
    );
    assert_script_error(
        "local s = string.rep('[', 1001) return cjson.decode(s)",
        "ERR user_script:1: Found too many nested data structures (1001) at character 1001",
    );
    assert_eq!(eval("local t = {} t[1] = t return #cmsgpack.pack(t)"), Reply::Int(17));
    assert_eq!(
        eval("return cmsgpack.unpack(string.rep(string.char(0x91), 100) .. string.char(1))[1][1][1][1] ~= nil"),
        Reply::Int(1)
    );
    // Far deeper than any real message: refused rather than overflowing the native stack.
    assert!(eval("return cmsgpack.unpack(string.rep(string.char(0x91), 1000000))").is_error());
    assert_eq!(eval("local t = {} for i = 1, 2000 do t = {t} end return 1"), Reply::Int(1));
    // Returning very deep tables is refused, not a crash; 150 levels are fine.
    let r = eval("local t = {} for i = 1, 150 do t = {t} end return t");
    assert!(matches!(r, Reply::Array(_)), "{r:?}");
    let r = eval("local t = {} for i = 1, 5000 do t = {t} end return t");
    assert!(format!("{r:?}").contains("reached lua stack limit"));
    assert!(
        eval("return cmsgpack.unpack(string.rep(string.char(0x91), 150) .. string.char(1)) ~= nil").eq(&Reply::Int(1))
    );
}

#[test]
fn hook_reaches_coroutines() {
    let mut h = FakeHost { fail_check_after: Some((1, "ERR killed".into())), ..Default::default() };
    let script = "local co = coroutine.wrap(function() while true do end end) co()";
    let r = eval_in(&mut engine(), &mut h, script, &[], &[]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with("ERR killed")), "{r:?}");
}

#[test]
fn engine_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Engine>();
}

// ---- redis.call / pcall ---------------------------------------------------------------------

#[test]
fn call_runs_commands() {
    let mut e = engine();
    let mut h = FakeHost::default();
    assert_eq!(
        eval_in(&mut e, &mut h, "return redis.call('set', KEYS[1], ARGV[1])", &["k"], &["v"]),
        Reply::SimpleOwned("OK".into())
    );
    assert_eq!(eval_in(&mut e, &mut h, "return redis.call('get', 'k')", &[], &[]), bulk("v"));
    assert_eq!(eval_in(&mut e, &mut h, "return redis.call('get', 'nokey')", &[], &[]), Reply::Null);
    assert_eq!(eval_in(&mut e, &mut h, "return redis.call('ping')", &[], &[]), Reply::SimpleOwned("PONG".into()));
    assert_eq!(eval_in(&mut e, &mut h, "return redis.pcall('incr', 'n')", &[], &[]), Reply::Int(1));
    // Numbers are sent as %.17g.
    eval_in(
        &mut e,
        &mut h,
        "redis.call('set', 'f', 1.5) redis.call('set', 'g', 1e20) redis.call('set', 'h', 7)",
        &[],
        &[],
    );
    assert_eq!(h.data[&b"f".to_vec()], b"1.5");
    assert_eq!(h.data[&b"g".to_vec()], b"1e+20");
    assert_eq!(h.data[&b"h".to_vec()], b"7");
    assert_eq!(h.calls[0], vec![Bytes::from("set"), Bytes::from("k"), Bytes::from("v")]);
}

#[test]
fn call_argument_errors() {
    assert_script_error("return redis.call()", "ERR Please specify at least one argument for this redis lib call");
    assert_script_error(
        "return redis.call('set', 'k', {})",
        "ERR Lua redis lib command arguments must be strings or integers",
    );
    assert_eq!(
        eval("return redis.pcall()"),
        Reply::error("ERR Please specify at least one argument for this redis lib call")
    );
    assert_eq!(
        eval("return redis.pcall(true)"),
        Reply::error("ERR Lua redis lib command arguments must be strings or integers")
    );
}

#[test]
fn call_raises_command_errors_pcall_returns_them() {
    assert_script_error("return redis.call('nosuch')", "ERR Unknown Redis command called from script");
    assert_eq!(eval("return redis.pcall('nosuch')"), Reply::error("ERR Unknown Redis command called from script"));
    let mut e = engine();
    let mut h = FakeHost::default();
    eval_in(&mut e, &mut h, "redis.call('set', 's1', 'x')", &[], &[]);
    let script = "return redis.call('lpush', 's1', 'x')";
    assert_eq!(
        eval_in(&mut e, &mut h, script, &[], &[]),
        script_error(script, "WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    // An error without a space gets the ERR code, as luaPushErrorBuff does.
    assert_eq!(eval("return redis.pcall('reply', 'nospace')"), Reply::error("ERR NOSPACE"));
    // pcall(redis.call, ...) gets the error string (Redis 7's pcall unwraps error tables).
    assert_eq!(
        eval("local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), type(e), e}"),
        Reply::Array(vec![bulk("false"), bulk("string"), bulk("ERR Unknown Redis command called from script")])
    );
    // The table of redis.pcall can be inspected.
    assert_eq!(eval("return redis.pcall('nosuch').err"), bulk("ERR Unknown Redis command called from script"));
    // A caught error lets the script go on.
    assert_eq!(eval("pcall(redis.call, 'nosuch') return 'after'"), bulk("after"));
}

#[test]
fn error_position_points_at_the_caller_of_redis_call() {
    let script = "local a = 1\nreturn redis.call('nosuch')";
    assert_eq!(
        eval(script),
        Reply::Error(format!(
            "ERR Unknown Redis command called from script script: {}, on @user_script:2.",
            sha1_hex(script.as_bytes())
        ))
    );
    let script = "local function f()\n  return redis.call('nosuch')\nend\nreturn f()";
    assert!(matches!(eval(script), Reply::Error(e) if e.ends_with("on @user_script:2.")));
}

#[test]
fn call_outside_a_run_fails() {
    // A function kept past its run cannot reach the host.
    let mut e = engine();
    let mut h = FakeHost::default();
    let r = eval_in(&mut e, &mut h, "return redis.call('ping')", &[], &[]);
    assert_eq!(r, Reply::SimpleOwned("PONG".into()));
}

#[test]
fn acl_check_cmd_asks_the_host() {
    assert_eq!(eval("return redis.acl_check_cmd('get', 'k')"), Reply::Int(1));
    assert_script_error(
        "return redis.acl_check_cmd()",
        "ERR Please specify at least one argument for this redis lib call",
    );
}

/// The shape of BullMQ's scripts: msgpack'd options, JSON, string building, unpack into
/// redis.call, numbers round-tripping through commands.
#[test]
fn bullmq_style_script() {
    let script = r#"
local rcall = redis.call
local opts = cmsgpack.unpack(ARGV[1])
local jobCounter = rcall("INCR", KEYS[1])
local jobId = opts['jobId'] or jobCounter
local jobIdKey = KEYS[2] .. jobId
local data = cjson.decode(ARGV[2])
data.seen = true
local fields = {jobIdKey, cjson.encode(data)}
rcall("SET", unpack(fields))
local delay = tonumber(opts['delay']) or 0
local score = math.floor(delay * 0x1000 + bit.band(jobCounter, 0xfff))
return {jobIdKey, tostring(jobId), rcall("GET", jobIdKey), score, string.format("%s:%d", "prio", opts.priority or 0)}
"#;
    let mut e = engine();
    let mut h = FakeHost::default();
    // Options as BullMQ sends them: a msgpack map without jobId.
    let packed: Vec<u8> = match eval_in(&mut e, &mut h, "return cmsgpack.pack({delay=2, priority=5})", &[], &[]) {
        Reply::Bulk(b) => b.to_vec(),
        other => panic!("{other:?}"),
    };
    let keys = [Bytes::from("q:id"), Bytes::from("q:")];
    let argv = [Bytes::from(packed), Bytes::from("{\"name\":\"x\"}")];
    let r = e.eval(&sha1_hex(script.as_bytes()), script.as_bytes(), &keys, &argv, &mut h);
    assert_eq!(
        r,
        Reply::Array(vec![
            bulk("q:1"),
            bulk("1"),
            bulk("{\"name\":\"x\",\"seen\":true}"),
            Reply::Int(2 * 4096 + 1),
            bulk("prio:5"),
        ])
    );
}

// ---- Reply -> Lua ---------------------------------------------------------------------------

#[test]
fn resp2_replies_to_lua() {
    assert_eq!(
        eval("return redis.call('reply', 'map')"),
        Reply::Array(vec![bulk("a"), Reply::Int(1), bulk("b"), Reply::Int(2)])
    );
    assert_eq!(eval("return redis.call('reply', 'set')"), Reply::Array(vec![bulk("x"), bulk("y")]));
    assert_eq!(eval("return redis.call('reply', 'double')"), bulk("3.5"));
    assert_eq!(eval("return redis.call('reply', 'true')"), Reply::Int(1));
    assert_eq!(eval("return redis.call('reply', 'false')"), Reply::Int(0));
    assert_eq!(eval("return redis.call('reply', 'null') == false"), Reply::Int(1));
    assert_eq!(eval("return redis.call('reply', 'nullarray') == false"), Reply::Int(1));
    assert_eq!(eval("return redis.call('reply', 'verbatim')"), bulk("hello"));
    assert_eq!(eval("return redis.call('reply', 'status').ok"), bulk("QUEUED"));
    assert_eq!(
        eval("return redis.call('reply', 'bulkarray')"),
        Reply::Array(vec![bulk("one"), bulk(""), bulk("three")])
    );
    assert_eq!(
        eval("local r = redis.call('reply', 'nested') return {r[1], r[2][1], tostring(r[2][2]), r[3].err}"),
        Reply::Array(vec![Reply::Int(1), bulk("a"), bulk("false"), bulk("ERR inner")])
    );
    assert_eq!(eval("return type(redis.call('incr', 'x'))"), bulk("number"));
}

#[test]
fn resp3_replies_to_lua() {
    assert_eq!(
        eval("redis.setresp(3) local r = redis.call('reply', 'map') return {r.map.a, r.map.b}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(2)])
    );
    assert_eq!(
        eval("redis.setresp(3) local r = redis.call('reply', 'set') return {tostring(r.set.x), tostring(r.set.y)}"),
        Reply::Array(vec![bulk("true"), bulk("true")])
    );
    assert_eq!(eval("redis.setresp(3) return tostring(redis.call('reply', 'double').double)"), bulk("3.5"));
    assert_eq!(eval("redis.setresp(3) return type(redis.call('reply', 'true'))"), bulk("boolean"));
    assert_eq!(eval("redis.setresp(3) return redis.call('reply', 'null') == nil"), Reply::Bool(true));
    assert_eq!(
        eval("redis.setresp(3) local v = redis.call('reply', 'verbatim').verbatim_string return {v.format, v.string}"),
        Reply::Array(vec![bulk("txt"), bulk("hello")])
    );
    let mut h = FakeHost::default();
    eval_in(&mut engine(), &mut h, "redis.setresp(3) redis.setresp(2)", &[], &[]);
    assert_eq!(h.resp_set, vec![3, 2]);
}

// ---- Lua -> Reply ---------------------------------------------------------------------------

#[test]
fn lua_values_to_replies() {
    assert_eq!(eval("return 3.99"), Reply::Int(3));
    assert_eq!(eval("return -3.99"), Reply::Int(-3));
    assert_eq!(eval("return true"), Reply::Int(1));
    assert_eq!(eval("return false"), Reply::Null);
    assert_eq!(eval("return nil"), Reply::Null);
    assert_eq!(eval("return"), Reply::Null);
    assert_eq!(eval("return 'x'"), bulk("x"));
    assert_eq!(eval("return string.rep"), Reply::Null);
    assert_eq!(eval("return {1,2,nil,4}"), Reply::Array(vec![Reply::Int(1), Reply::Int(2)]));
    assert_eq!(
        eval("return {1, true, false, 'a', {ok='x'}}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1), Reply::Null, bulk("a"), Reply::SimpleOwned("x".into())])
    );
    assert_eq!(eval("return {err='x'}"), Reply::error("x"));
    assert_eq!(eval("return redis.error_reply('My error')"), Reply::error("My error"));
    assert_eq!(eval("return redis.error_reply('Oops')"), Reply::error("ERR Oops"));
    assert_eq!(eval("return redis.error_reply('-WRONG thing')"), Reply::error("WRONG thing"));
    assert_eq!(eval("return redis.status_reply('FINE')"), Reply::SimpleOwned("FINE".into()));
    assert_eq!(eval("return redis.status_reply('a\\r\\nb')"), Reply::SimpleOwned("a  b".into()));
    assert_eq!(eval("return redis.error_reply()"), Reply::error("ERR wrong number or type of arguments"));
}

#[test]
fn resp3_lua_values_to_replies() {
    assert_eq!(eval("redis.setresp(3) return true"), Reply::Bool(true));
    assert_eq!(eval("redis.setresp(3) return false"), Reply::Bool(false));
    assert_eq!(eval("return {double=1.5}"), Reply::Double(1.5));
    assert_eq!(eval("return {map={a=1}}"), Reply::Map(vec![(bulk("a"), Reply::Int(1))]));
    assert_eq!(eval("return {set={a=true}}"), Reply::Set(vec![bulk("a")]));
    assert_eq!(eval("return {big_number='123'}"), bulk("123"));
    assert_eq!(
        eval("return {verbatim_string={format='txt', string='hi'}}"),
        Reply::Verbatim("txt", Bytes::from_static(b"hi"))
    );
}

// ---- redis.* helpers ------------------------------------------------------------------------

#[test]
fn redis_helpers() {
    assert_eq!(eval("return redis.sha1hex('')"), bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    assert_eq!(eval("return redis.sha1hex(123)"), bulk("40bd001563085fc35165329ea1ff5c5ecbdbbeef"));
    assert_script_error("return redis.sha1hex()", "ERR wrong number of arguments");
    assert_eq!(eval("return redis.REDIS_VERSION"), bulk("7.0.15"));
    assert_eq!(eval("return redis.REDIS_VERSION_NUM"), Reply::Int(458767));
    assert_eq!(eval("return redis.replicate_commands()"), Reply::Int(1));
    assert_eq!(eval("return redis.breakpoint()"), Reply::Null);
    assert_eq!(eval("return redis.debug('x')"), Reply::Null);
    assert_eq!(eval("return redis.set_repl(redis.REPL_ALL)"), Reply::Null);
    assert_eq!(
        eval("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"),
        Reply::Array(vec![Reply::Int(0), Reply::Int(1), Reply::Int(2), Reply::Int(2), Reply::Int(3)])
    );
    assert_script_error(
        "return redis.set_repl(9)",
        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
    );
    assert_script_error("redis.setresp(4)", "ERR RESP version must be 2 or 3.");
    assert_script_error("redis.setresp()", "ERR redis.setresp() requires one argument.");
}

#[test]
fn redis_log() {
    let mut h = FakeHost::default();
    let r = eval_in(
        &mut engine(),
        &mut h,
        "redis.log(redis.LOG_WARNING, 'x', 1) redis.log(redis.LOG_DEBUG, 'd')",
        &[],
        &[],
    );
    assert_eq!(r, Reply::Null);
    assert_eq!(h.logs, vec![(3, "x 1".to_owned()), (0, "d".to_owned())]);
    assert_script_error("redis.log(9, 'x')", "ERR Invalid debug level.");
    assert_script_error("redis.log(1)", "ERR redis.log() requires two arguments or more.");
    assert_script_error("redis.log('a', 'x')", "ERR First argument must be a number (log level).");
}

#[test]
fn math_random_matches_redis() {
    let mut e = engine();
    let mut h = FakeHost::default();
    // Not reseeded between scripts, as Redis 7.
    assert_eq!(eval_in(&mut e, &mut h, "return tostring(math.random())", &[], &[]), bulk("0.39646477363839"));
    assert_eq!(eval_in(&mut e, &mut h, "return tostring(math.random())", &[], &[]), bulk("0.84048536971234"));
    assert_eq!(
        eval_in(&mut e, &mut h, "math.randomseed(7) return {math.random(1000), math.random(1000)}", &[], &[]),
        Reply::Array(vec![Reply::Int(267), Reply::Int(683)])
    );
    assert!(
        matches!(eval("return math.random(0)"), Reply::Error(e) if e.contains("bad argument #1 to 'random' (interval is empty)"))
    );
}

// ---- hook -----------------------------------------------------------------------------------

#[test]
fn hook_aborts_with_host_text() {
    let mut h = FakeHost {
        fail_check_after: Some((2, "ERR Script killed by user with SCRIPT KILL...".into())),
        ..Default::default()
    };
    let script = "while true do end";
    let r = eval_in(&mut engine(), &mut h, script, &[], &[]);
    assert_eq!(r, script_error(script, "ERR Script killed by user with SCRIPT KILL..."));
    assert!(h.checks >= 2);
}

#[test]
fn hook_abort_cannot_be_caught_by_pcall() {
    let mut h = FakeHost { fail_check_after: Some((1, "ERR killed".into())), ..Default::default() };
    let script = "while true do pcall(function() while true do end end) end";
    let r = eval_in(&mut engine(), &mut h, script, &[], &[]);
    assert!(matches!(&r, Reply::Error(e) if e.starts_with("ERR killed script: ")), "{r:?}");
    // The engine is usable again afterwards.
    let mut h = FakeHost::default();
    let mut e = engine();
    assert_eq!(eval_in(&mut e, &mut h, "return 1", &[], &[]), Reply::Int(1));
}

// ---- cjson ----------------------------------------------------------------------------------

#[test]
fn cjson_encode() {
    assert_eq!(eval("return cjson.encode({1,2,{a=1}})"), bulk("[1,2,{\"a\":1}]"));
    assert_eq!(eval("return cjson.encode({})"), bulk("{}"));
    assert_eq!(eval("return cjson.encode('a/b\"\\1\\127é')"), bulk("\"a\\/b\\\"\\u0001\\u007fé\""));
    assert_eq!(eval("return cjson.encode(1/3)"), bulk("0.33333333333333"));
    assert_eq!(eval("return cjson.encode(1e20)"), bulk("1e+20"));
    assert_eq!(eval("return cjson.encode(12345678901234567)"), bulk("1.2345678901235e+16"));
    assert_eq!(eval("return cjson.encode({[1]=1,[3]=2})"), bulk("[1,null,2]"));
    assert_eq!(eval("return cjson.encode(cjson.null)"), bulk("null"));
    assert_eq!(eval("return cjson.encode(true)"), bulk("true"));
    assert_eq!(eval("return cjson.encode({a={b={c='d'}}})"), bulk("{\"a\":{\"b\":{\"c\":\"d\"}}}"));
    assert_eq!(eval("return cjson.encode({[5]='x', [1]='y'})"), bulk("[\"y\",null,null,null,\"x\"]"));
    assert_script_error(
        "return cjson.encode(0/0)",
        "ERR user_script:1: Cannot serialise number: must not be NaN or Inf",
    );
    assert_script_error(
        "return cjson.encode({[1]=1,[20]=2})",
        "ERR user_script:1: Cannot serialise table: excessively sparse array",
    );
    assert_script_error(
        "return cjson.encode(function() end)",
        "ERR user_script:1: Cannot serialise function: type not supported",
    );
    assert_script_error(
        "return cjson.encode({[true]=1})",
        "ERR user_script:1: Cannot serialise boolean: table key must be a number or string",
    );
}

#[test]
fn cjson_decode() {
    assert_eq!(eval("return cjson.decode('[1,2,null]')[3] == cjson.null"), Reply::Int(1));
    assert_eq!(eval("return tostring(cjson.decode('{\"a\":[1,2.5,\"x\"]}').a[2])"), bulk("2.5"));
    assert_eq!(eval("return tostring(cjson.decode('1e2'))"), bulk("100"));
    assert_eq!(eval("return cjson.decode('\"\\\\u00e9\"')"), bulk("é"));
    assert_eq!(eval("return cjson.decode('\"\\\\ud83d\\\\ude00\"')"), bulk("😀"));
    assert_eq!(eval("return cjson.decode(' {\"k\" : {\"n\": true}} ').k.n"), Reply::Int(1));
    assert_eq!(eval("return cjson._VERSION"), bulk("2.1.0"));
    assert_script_error(
        "return cjson.decode('x')",
        "ERR user_script:1: Expected value but found invalid token at character 1",
    );
    assert_script_error(
        "return cjson.decode('[1,2')",
        "ERR user_script:1: Expected comma or array end but found T_END at character 5",
    );
    assert_script_error(
        "return cjson.decode('{\"a\" 1}')",
        "ERR user_script:1: Expected colon but found T_NUMBER at character 6",
    );
    assert_script_error(
        "return cjson.decode('[1] x')",
        "ERR user_script:1: Expected the end but found invalid token at character 5",
    );
    // Through pcall the error has no position, as the caller is a C function.
    assert_eq!(
        eval("local ok, e = pcall(cjson.decode, 'x') return e"),
        bulk("Expected value but found invalid token at character 1")
    );
    assert_eq!(
        eval("local t = cjson.decode(cjson.encode({a={1,2,3}, b='x'})) return {t.a[3], t.b}"),
        Reply::Array(vec![Reply::Int(3), bulk("x")])
    );
}

// ---- cmsgpack -------------------------------------------------------------------------------

#[test]
fn cmsgpack_pack_unpack() {
    let hex = |script: &str| {
        eval(&format!("local s = {script} local o = {{}} for i = 1, #s do o[i] = string.format('%02x', s:byte(i)) end return table.concat(o)"))
    };
    assert_eq!(
        hex("cmsgpack.pack(1, -1, 200, -200, 70000, 1.5, 'ab', true, nil)"),
        bulk("01ffccc8d1ff38ce00011170ca3fc00000a26162c3c0")
    );
    assert_eq!(hex("cmsgpack.pack({1,2,3})"), bulk("93010203"));
    assert_eq!(hex("cmsgpack.pack({})"), bulk("90"));
    assert_eq!(hex("cmsgpack.pack({a=1})"), bulk("81a16101"));
    assert_eq!(hex("cmsgpack.pack(0.1)"), bulk("cb3fb999999999999a"));
    assert_eq!(hex("cmsgpack.pack(4294967296)"), bulk("cf0000000100000000"));
    assert_eq!(
        hex("cmsgpack.pack(-40000, -3000000000, 1e300)"),
        bulk("d2ffff63c0d3ffffffff4d2fa200cb7e37e43c8800759c")
    );
    assert_eq!(hex("cmsgpack.pack({1,nil,3})"), bulk("8201010303"));
    assert_eq!(hex("cmsgpack.pack({[1]=1,[2]=2,x=3})"), bulk("8301010202a17803"));
    assert_eq!(hex("cmsgpack.pack(string.rep('x', 40))"), bulk(&format!("d928{}", "78".repeat(40))));
    assert_eq!(
        eval("local a, b, c = cmsgpack.unpack(cmsgpack.pack(1, 'x', {k='v'})) return {a, b, c.k}"),
        Reply::Array(vec![Reply::Int(1), bulk("x"), bulk("v")])
    );
    assert_eq!(
        eval("local t = cmsgpack.unpack(cmsgpack.pack({1, {2, 3}, 'z'})) return {t[1], t[2][2], t[3]}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(3), bulk("z")])
    );
    assert_eq!(
        eval("local s = cmsgpack.pack(1, 2, 3) local n, v = cmsgpack.unpack_one(s) local n2, v2 = cmsgpack.unpack_one(s, n) return {n, v, n2, v2}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1), Reply::Int(2), Reply::Int(2)])
    );
    assert_eq!(
        eval("local s = cmsgpack.pack(1, 2, 3) return {cmsgpack.unpack_limit(s, 3)}"),
        Reply::Array(vec![Reply::Int(-1), Reply::Int(1), Reply::Int(2), Reply::Int(3)])
    );
    let long = "local s = string.rep('x', 40) return cmsgpack.unpack(cmsgpack.pack(s)) == s";
    assert_eq!(eval(long), Reply::Int(1));
    assert_script_error("return cmsgpack.unpack('\\204')", "ERR user_script:1: Missing bytes in input.");
    assert_script_error("return cmsgpack.unpack('\\193')", "ERR user_script:1: Bad data format in input.");
    assert_script_error(
        "return cmsgpack.pack()",
        "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
    );
}

// ---- bit ------------------------------------------------------------------------------------

#[test]
fn bit_operations() {
    let cases = [
        ("bit.tobit(0xffffffff)", Reply::Int(-1)),
        ("bit.tobit(2^32 + 5)", Reply::Int(5)),
        ("bit.bnot(0)", Reply::Int(-1)),
        ("bit.band(0xff, 0x0f, 0x3)", Reply::Int(3)),
        ("bit.bor(1, 2, 4)", Reply::Int(7)),
        ("bit.bxor(5, 3)", Reply::Int(6)),
        ("bit.lshift(1, 31)", Reply::Int(-2147483648)),
        ("bit.lshift(1, 33)", Reply::Int(2)),
        ("bit.rshift(-1, 28)", Reply::Int(15)),
        ("bit.arshift(-256, 4)", Reply::Int(-16)),
        ("bit.rol(0x12345678, 12)", Reply::Int(0x45678123)),
        ("bit.ror(0x12345678, 12)", Reply::Int(0x67812345)),
        ("bit.bswap(0x12345678)", Reply::Int(0x78563412)),
        ("bit.tobit(1.5)", Reply::Int(2)),
        ("bit.tobit(2.5)", Reply::Int(2)),
    ];
    for (expr, expected) in cases {
        assert_eq!(eval(&format!("return {expr}")), expected, "{expr}");
    }
    assert_eq!(eval("return bit.tohex(255)"), bulk("000000ff"));
    assert_eq!(eval("return bit.tohex(-1, -4)"), bulk("FFFF"));
    assert_eq!(eval("return bit.tohex(0x1234, 2)"), bulk("34"));
    assert_eq!(eval("return bit.tohex(1, 10)"), bulk("00000001"));
    assert!(
        matches!(eval("return bit.band('x')"), Reply::Error(e) if e.contains("bad argument #1 to 'band' (number expected, got string)"))
    );
}

// ---- struct ---------------------------------------------------------------------------------

#[test]
fn struct_pack_unpack_size() {
    let hex = |script: &str| {
        eval(&format!("local s = {script} local o = {{}} for i = 1, #s do o[i] = string.format('%02x', s:byte(i)) end return table.concat(o)"))
    };
    assert_eq!(hex("struct.pack('>I2', 258)"), bulk("0102"));
    assert_eq!(hex("struct.pack('<i4', -2)"), bulk("feffffff"));
    assert_eq!(hex("struct.pack('b B h', -1, 255, 1)"), bulk("ffff0100"));
    assert_eq!(hex("struct.pack('>d', 1.5)"), bulk("3ff8000000000000"));
    assert_eq!(hex("struct.pack('s', 'ab')"), bulk("616200"));
    assert_eq!(hex("struct.pack('c3', 'abcdef')"), bulk("616263"));
    assert_eq!(hex("struct.pack('!4 b i4', 1, 2)"), bulk("0100000002000000"));
    assert_eq!(eval("return {struct.unpack('>I2', '\\1\\2')}"), Reply::Array(vec![Reply::Int(258), Reply::Int(3)]));
    assert_eq!(
        eval("return {struct.unpack('<i4', struct.pack('<i4', -7))}"),
        Reply::Array(vec![Reply::Int(-7), Reply::Int(5)])
    );
    assert_eq!(eval("return {struct.unpack('s', 'hi\\0rest')}"), Reply::Array(vec![bulk("hi"), Reply::Int(4)]));
    assert_eq!(
        eval("return {struct.unpack('b c0', struct.pack('b', 3) .. 'xyz')}"),
        Reply::Array(vec![bulk("xyz"), Reply::Int(5)])
    );
    assert_eq!(eval("return tostring(struct.unpack('f', struct.pack('f', 0.5)))"), bulk("0.5"));
    assert_eq!(eval("return {struct.unpack('B', 'ab', 2)}"), Reply::Array(vec![Reply::Int(98), Reply::Int(3)]));
    assert_eq!(eval("return struct.size('>i4 h b d')"), Reply::Int(15));
    assert_script_error(
        "return struct.pack('y', 1)",
        "ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'y')",
    );
    assert_script_error(
        "return struct.size('s')",
        "ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
    );
    assert_script_error(
        "return struct.unpack('i4', 'ab')",
        "ERR user_script:1: bad argument #2 to 'unpack' (data string too short)",
    );
    assert!(matches!(eval("return struct.unpack('i4', 'ab')"), Reply::Error(e) if e.contains("data string too short")));
}

// ---- functions ------------------------------------------------------------------------------

const LIB: &str = "#!lua name=mylib\n\
redis.register_function('echo', function(keys, args) return {keys[1], args[1]} end)\n\
redis.register_function{function_name='ro', callback=function() return redis.call('get', 'k') end, flags={'no-writes', 'ALLOW-OOM'}, description='reads k'}\n\
redis.register_function('bad', function() return y end)\n";

#[test]
fn library_loads_and_calls() {
    let mut e = engine();
    let lib = e.load_library(LIB.as_bytes()).unwrap();
    assert_eq!(lib.name, "mylib");
    assert_eq!(lib.engine, "LUA");
    assert_eq!(
        lib.functions,
        vec![
            FunctionInfo { name: "echo".into(), description: None, flags: vec![] },
            FunctionInfo {
                name: "ro".into(),
                description: Some("reads k".into()),
                flags: vec!["no-writes".into(), "allow-oom".into()]
            },
            FunctionInfo { name: "bad".into(), description: None, flags: vec![] },
        ]
    );
    assert!(e.has_library("mylib", LIB.as_bytes()));
    assert!(!e.has_library("mylib", b"other"));
    let mut h = FakeHost::default();
    h.data.insert(b"k".to_vec(), b"v".to_vec());
    let keys = [Bytes::from("key")];
    let args = [Bytes::from("arg")];
    assert_eq!(e.fcall("mylib", "echo", &keys, &args, &mut h), Reply::Array(vec![bulk("key"), bulk("arg")]));
    assert_eq!(e.fcall("mylib", "ro", &[], &[], &mut h), bulk("v"));
    assert_eq!(
        e.fcall("mylib", "bad", &[], &[], &mut h),
        Reply::error("ERR user_function:4: Script attempted to access nonexistent global variable 'y' script: bad, on @user_function:4.")
    );
    e.unload_library("mylib");
    assert!(!e.has_library("mylib", LIB.as_bytes()));
    assert_eq!(e.fcall("mylib", "echo", &[], &[], &mut h), Reply::error("ERR Function not found"));
}

#[test]
fn function_errors_name_the_function() {
    let mut e = engine();
    e.load_library(b"#!lua name=ab\nredis.register_function('f3', function() return redis.call('nosuch') end)\nredis.register_function('f5', function() return string.format('%d', 5) end)").unwrap();
    let mut h = FakeHost::default();
    assert_eq!(
        e.fcall("ab", "f3", &[], &[], &mut h),
        Reply::error("ERR Unknown Redis command called from script script: f3, on @user_function:2.")
    );
    assert_eq!(e.fcall("ab", "f5", &[], &[], &mut h), bulk("5"));
}

#[test]
fn library_metadata_errors() {
    let cases: [(&str, &str); 9] = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua name=a", "ERR Invalid library metadata"),
        ("#!lua\nx", "ERR Library name was not given"),
        ("#!\nx", "ERR Library name was not given"),
        ("#!lua name=a b=c\nx", "ERR Invalid metadata value given: b=c"),
        ("#!lua name=a-b\nx", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=\nx", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lux name=ab\nx", "ERR Engine 'lux' not found"),
        ("#!lua name=ab name=cd\nx", "ERR Invalid metadata value, name argument was given multiple times"),
    ];
    for (code, err) in cases {
        assert_eq!(engine().load_library(code.as_bytes()), Err(err.to_owned()), "{code}");
    }
    let meta = parse_library_metadata(b"#!LUA NAME=ab\nx").unwrap();
    assert_eq!(meta.name, "ab");
}

#[test]
fn library_load_errors() {
    let reg = "redis.register_function";
    let cases: Vec<(String, &str)> = vec![
        ("\n".to_owned(), "ERR No functions registered"),
        (format!("{reg}('f1', function() return 1 end)\n{reg}('f1', function() return 1 end)"), "ERR Error registering functions: ERR Function already exists in the library"),
        (format!("{reg}('f-1', function() return 1 end)"), "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("local x = string.format('a')".to_owned(), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'"),
        ("redis.call('ping')".to_owned(), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("error('boom')".to_owned(), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'error'"),
        (format!("{reg}{{function_name='f2', callback=function() end, flags={{'bad'}}}}"), "ERR Error registering functions: ERR unknown flag given"),
        (format!("{reg}{{function_name='f2', foo=1}}"), "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        (format!("{reg}('f2')"), "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        (format!("{reg}()"), "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        (format!("{reg}{{function_name='f2'}}"), "ERR Error registering functions: ERR redis.register_function must get a callback argument"),
        (format!("{reg}{{callback=function() end}}"), "ERR Error registering functions: ERR redis.register_function must get a function name argument"),
        ("x = 1".to_owned(), "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("syntax error".to_owned(), "ERR Error compiling function: user_function:2: '=' expected near 'error'"),
        (format!("{reg}('f3', function() return 1 end)\nreturn redis.setresp"), "ERR Error registering functions: ERR user_function:3: Script attempted to access nonexistent global variable 'setresp'"),
        ("while true do end".to_owned(), "ERR Error registering functions: ERR FUNCTION LOAD timeout"),
    ];
    for (body, err) in cases {
        let code = format!("#!lua name=ab\n{body}");
        assert_eq!(engine().load_library(code.as_bytes()), Err(err.to_owned()), "{body}");
    }
}

#[test]
fn library_load_can_log_and_read_version() {
    let mut e = engine();
    let lib = e.load_library(b"#!lua name=ab\nredis.log(redis.LOG_NOTICE, 'loading ' .. redis.REDIS_VERSION)\nredis.register_function('f', function() return 1 end)");
    assert!(lib.is_ok(), "{lib:?}");
}

#[test]
fn fcall_has_no_keys_globals() {
    let mut e = engine();
    e.load_library(b"#!lua name=ab\nredis.register_function('f', function() return KEYS end)").unwrap();
    let r = e.fcall("ab", "f", &[], &[], &mut FakeHost::default());
    assert!(matches!(r, Reply::Error(e) if e.contains("nonexistent global variable 'KEYS'")));
}

#[test]
fn reloading_replaces_a_library() {
    let mut e = engine();
    e.load_library(b"#!lua name=ab\nredis.register_function('f', function() return 1 end)").unwrap();
    e.load_library(b"#!lua name=ab\nredis.register_function('f', function() return 2 end)").unwrap();
    assert_eq!(e.fcall("ab", "f", &[], &[], &mut FakeHost::default()), Reply::Int(2));
}

#[test]
fn sha1_hex_is_lowercase_hex() {
    assert_eq!(sha1_hex(b"return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}
