//! The sandbox, redis.call / pcall, errors and the hook.

use bytes::Bytes;

use super::*;
use crate::scripting::*;

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

/// "Try trick global protection" and "Try trick readonly table" from Redis's scripting.tcl.
#[test]
fn tricks_on_read_only_tables_fail() {
    for script in ["setmetatable(_G, {})", "return setmetatable(string, {})"] {
        assert_script_error(script, "ERR Attempt to modify a readonly table");
    }
    for script in [
        "local g = getmetatable(_G); g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end",
        "cmsgpack.pack = function() return 1 end",
        "bit.lshift = function() return 1 end",
    ] {
        assert_script_error(script, "ERR user_script:1: Attempt to modify a readonly table");
    }
    assert_eq!(eval("return type(getmetatable(_G))"), bulk("table"));
    assert_eq!(eval("return _G"), Reply::Array(vec![]));
    assert_eq!(eval("local a = {}; setmetatable(a, {__index=function() foo() end}) return a"), Reply::Array(vec![]));
    assert_eq!(eval("local t = setmetatable({}, {__index = {x = 3}}) return t.x"), Reply::Int(3));
    assert!(matches!(
        eval("local t = setmetatable({}, {__metatable = 1}) setmetatable(t, {})"),
        Reply::Error(e) if e.starts_with("ERR user_script:1: cannot change a protected metatable")
    ));
}

/// Nothing a script can reach leads to a writable library or globals table.
#[test]
fn real_tables_stay_out_of_reach() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let attempts = [
        "getmetatable(_G).__index.redis = nil",
        "local _, r = pairs(redis) r.sha1hex = nil",
        "local _, s = pairs(string) s.len = nil",
        "local it, t = pairs(_G) t.tostring = nil",
        "getmetatable('').__index = {upper = function() return 'evil' end}",
        "getmetatable('').__index.upper = function() return 'evil' end",
        "cjson.new().encode = nil",
    ];
    for script in attempts {
        let r = eval_in(&mut e, &mut h, script, &[], &[]);
        assert!(matches!(&r, Reply::Error(m) if m.contains("Attempt to modify a readonly table")), "{script}: {r:?}");
    }
    let r = eval_in(
        &mut e,
        &mut h,
        "return {type(redis), type(redis.sha1hex), string.len('ab'), type(tostring)}",
        &[],
        &[],
    );
    assert_eq!(r, Reply::Array(vec![bulk("table"), bulk("function"), Reply::Int(2), bulk("function")]));
}

#[test]
fn redis_table_reads_missing_fields_as_nil() {
    assert_eq!(eval("return redis.nothing == nil"), Reply::Int(1));
}

#[test]
fn pairs_sees_through_read_only_tables() {
    assert_eq!(eval("local n = 0 for k in pairs(redis) do n = n + 1 end return n"), Reply::Int(23));
    assert_eq!(eval("local n = 0 for k in pairs(string) do n = n + 1 end return n"), Reply::Int(15));
    assert_eq!(eval("local n = 0 for k, v in pairs({a = 1, b = 2}) do n = n + v end return n"), Reply::Int(3));
    assert_script_error("return pairs(nil)", "ERR user_script:1: bad argument #1 to 'pairs' (table expected, got nil)");
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
    assert_script_error("rawset({})", "ERR user_script:1: bad argument #2 to 'rawset' (value expected)");
    assert_script_error("rawset({}, nil, 1)", "ERR table index is nil");
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
