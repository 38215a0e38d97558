//! Reply <-> Lua in both protocols, and the redis.* helpers.

use bytes::Bytes;

use super::*;
use crate::scripting::*;

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
    assert_eq!(eval("return {big_number='123'}"), Reply::BigNumber(Bytes::from_static(b"123")));
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
