//! FUNCTION libraries: metadata, loading, calling.

use bytes::Bytes;

use super::*;
use crate::scripting::*;

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
