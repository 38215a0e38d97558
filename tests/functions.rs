//! Functions: FUNCTION LOAD [REPLACE] | LIST | DELETE | FLUSH | DUMP | RESTORE | STATS | KILL
//! and FCALL / FCALL_RO — library metadata and registration errors with Redis's exact texts,
//! the no-writes flag, busy functions stopped by FUNCTION KILL, and libraries surviving a
//! restart.
//!
//! Replies are read from raw sockets (the `redis` crate turns errors nested in arrays into
//! errors of its own). FUNCTION LIST has no defined order, so listings are compared sorted.
//! Every test here also runs against the reference redis-server 7.0.15 (which the harness starts
//! with `appendonly yes`, so libraries survive its restart too).

mod common;

use common::*;

const NOT_FOUND: &str = "ERR Function not found";
const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
const RO_WRITE_FLAG: &str = "ERR Can not execute a script with write flag using *_ro command.";
const RO_SCRIPT_WRITE: &str = "ERR Write commands are not allowed from read-only scripts.";

/// A library with a writing function `setit` and a read-only `getit`.
const KV_LIB: &str = "#!lua name=kv\n\
redis.register_function('setit', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n\
redis.register_function{function_name='getit', callback=function(keys, args) return redis.call('GET', keys[1]) end, \
flags={'no-writes'}, description='reads a key'}";

fn lib(name: &str, body: &str) -> String {
    format!("#!lua name={name}\n{body}")
}

/// A library `name` with one function `func` returning `value`.
fn simple_lib(name: &str, func: &str, value: i64) -> String {
    lib(name, &format!("redis.register_function('{func}', function() return {value} end)"))
}

/// The error a function ends with when a call fails on `line` of its library.
fn function_err(msg: &str, function: &str, line: u32) -> Reply {
    err(&format!("{msg} script: {function}, on @user_function:{line}."))
}

/// One library of a FUNCTION LIST reply, normalised (functions and flags sorted).
#[derive(Debug, PartialEq)]
struct Library {
    name: String,
    engine: String,
    /// (name, description, sorted flags)
    functions: Vec<(String, Option<String>, Vec<String>)>,
    code: Option<String>,
}

/// Pairs of a flat RESP2 key/value array, or of a RESP3 map.
fn pairs(r: &Reply) -> Vec<(String, Reply)> {
    match r {
        Reply::Array(items) => {
            assert_eq!(items.len() % 2, 0, "odd key/value array {r:?}");
            items.chunks(2).map(|kv| (kv[0].text(), kv[1].clone())).collect()
        }
        Reply::Map(m) => m.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
        other => panic!("expected a map, got {other:?}"),
    }
}

fn field(fields: &[(String, Reply)], name: &str) -> Reply {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

fn optional_text(r: &Reply) -> Option<String> {
    match r {
        Reply::Nil => None,
        other => Some(other.text()),
    }
}

fn elements(r: &Reply) -> Vec<Reply> {
    match r {
        Reply::Array(a) | Reply::Set(a) => a.clone(),
        other => panic!("expected an array or set, got {other:?}"),
    }
}

fn libraries(reply: &Reply) -> Vec<Library> {
    let mut libs: Vec<Library> = reply
        .array()
        .iter()
        .map(|l| {
            let fields = pairs(l);
            let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            let with_code = keys.len() == 4;
            let expected_keys: &[&str] = if with_code {
                &["library_name", "engine", "functions", "library_code"]
            } else {
                &["library_name", "engine", "functions"]
            };
            assert_eq!(keys, expected_keys, "field order of a library");
            let mut functions: Vec<(String, Option<String>, Vec<String>)> = elements(&field(&fields, "functions"))
                .iter()
                .map(|f| {
                    let ff = pairs(f);
                    let keys: Vec<&str> = ff.iter().map(|(k, _)| k.as_str()).collect();
                    assert_eq!(keys, ["name", "description", "flags"], "field order of a function");
                    let mut flags: Vec<String> = elements(&field(&ff, "flags")).iter().map(Reply::text).collect();
                    flags.sort();
                    (field(&ff, "name").text(), optional_text(&field(&ff, "description")), flags)
                })
                .collect();
            functions.sort();
            Library {
                name: field(&fields, "library_name").text(),
                engine: field(&fields, "engine").text(),
                functions,
                code: with_code.then(|| field(&fields, "library_code").text()),
            }
        })
        .collect();
    libs.sort_by(|a, b| a.name.cmp(&b.name));
    libs
}

fn library_names(c: &mut RawConn) -> Vec<String> {
    libraries(&c.call(&["FUNCTION", "LIST"])).into_iter().map(|l| l.name).collect()
}

fn fcall(c: &mut RawConn, cmd: &str, function: &str, keys: &[&str], args: &[&str]) -> Reply {
    let numkeys = keys.len().to_string();
    let mut v = vec![cmd, function, &numkeys];
    v.extend_from_slice(keys);
    v.extend_from_slice(args);
    c.call(&v)
}

// ---- LOAD and FCALL --------------------------------------------------------------------------

#[test]
fn load_and_call() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    assert_eq!(fcall(&mut c, "FCALL", "setit", &["k"], &["v"]), ok());
    assert_eq!(fcall(&mut c, "FCALL", "getit", &["k"], &[]), bulk("v"));
    assert_eq!(fcall(&mut c, "FCALL_RO", "getit", &["k"], &[]), bulk("v"));
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    // Function names are looked up without regard to case.
    assert_eq!(fcall(&mut c, "FCALL", "GETIT", &["k"], &[]), bulk("v"));
    assert_eq!(fcall(&mut c, "FCALL", "nope", &[], &[]), err(NOT_FOUND));
    assert_eq!(fcall(&mut c, "FCALL_RO", "nope", &[], &[]), err(NOT_FOUND));
    // KEYS and ARGV
    let kv = lib("args", "redis.register_function('args', function(keys, args) return {keys, args} end)");
    assert_eq!(c.call(&["FUNCTION", "LOAD", &kv]), bulk("args"));
    assert_eq!(
        fcall(&mut c, "FCALL", "args", &["a", "b"], &["c", "d"]),
        arr(vec![bulks(&["a", "b"]), bulks(&["c", "d"])])
    );
    assert_eq!(fcall(&mut c, "FCALL", "args", &[], &[]), arr(vec![arr(vec![]), arr(vec![])]));
    // Another connection sees the library.
    let mut d = s.raw();
    assert_eq!(fcall(&mut d, "FCALL", "getit", &["k"], &[]), bulk("v"));
}

#[test]
fn fcall_argument_errors() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    assert_eq!(c.call(&["FCALL", "getit", "2", "k"]), err("ERR Number of keys can't be greater than number of args"));
    assert_eq!(c.call(&["FCALL", "getit", "-1", "k"]), err("ERR Number of keys can't be negative"));
    // Not EVAL's "value is not an integer" text.
    assert_eq!(c.call(&["FCALL", "getit", "x", "k"]), err("ERR Bad number of keys provided"));
    assert_eq!(c.call(&["FCALL_RO", "getit", "x", "k"]), err("ERR Bad number of keys provided"));
    assert_eq!(c.call(&["FCALL"]), arity_err("fcall"));
    assert_eq!(c.call(&["FCALL", "getit"]), arity_err("fcall"));
    assert_eq!(c.call(&["FCALL_RO", "getit"]), arity_err("fcall_ro"));
}

#[test]
fn load_errors() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    let registering = "ERR Error registering functions: ";
    let cases: Vec<(String, String)> = vec![
        (KV_LIB.to_string(), "ERR Library 'kv' already exists".into()),
        ("redis.register_function('f', function() return 1 end)".into(), "ERR Missing library metadata".into()),
        ("#!lua\nredis.register_function('f', function() return 1 end)".into(), "ERR Library name was not given".into()),
        (lib("x", "return 1"), "ERR No functions registered".into()),
        (simple_lib("x", "setit", 1), "ERR Function setit already exists".into()),
        (
            lib("x", "redis.register_function('f', function() return 1 end)\nredis.register_function('f', function() return 1 end)"),
            format!("{registering}ERR Function already exists in the library"),
        ),
        // Redis says "Library names" for a bad function name too.
        (
            lib("x", "redis.register_function('bad name', function() return 1 end)"),
            format!(
                "{registering}ERR Library names can only contain letters, numbers, or underscores(_) and must be at \
                 least one character long"
            ),
        ),
        (
            simple_lib("bad-name!", "g", 1),
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one \
             character long"
                .into(),
        ),
        (
            lib("x", "redis.register_function{function_name='g', callback=function() return 1 end, flags={'bogus'}}"),
            format!("{registering}ERR unknown flag given"),
        ),
        (
            lib("x", "redis.register_function{function_name='g'}"),
            format!("{registering}ERR redis.register_function must get a callback argument"),
        ),
        (
            lib("x", "redis.register_function{function_name='g', callback=function() return 1 end, bogus=1}"),
            format!("{registering}ERR unknown argument given to redis.register_function"),
        ),
        (
            lib("x", "redis.register_function('g')"),
            format!(
                "{registering}ERR calling redis.register_function with a single argument is only applicable to Lua \
                 table (representing named arguments)."
            ),
        ),
        (
            lib("x", "redis.register_function('g', 'notfn')"),
            format!("{registering}ERR second argument to redis.register_function must be a function"),
        ),
        // Only registration is possible while loading: no redis.call, no redis.setresp.
        (
            lib("x", "redis.call('SET', 'a', 'b')"),
            format!("{registering}ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ),
        (
            lib("x", "local s = redis.setresp\nredis.register_function('g', function() return 1 end)"),
            format!(
                "{registering}ERR user_function:2: Script attempted to access nonexistent global variable 'setresp'"
            ),
        ),
        (lib("x", "+++"), "ERR Error compiling function: user_function:2: unexpected symbol near '+'".into()),
        (
            "#!lua name=x foo=bar\nredis.register_function('g', function() return 1 end)".into(),
            "ERR Invalid metadata value given: foo=bar".into(),
        ),
        (
            "#!lua name=x name=y\nredis.register_function('g', function() return 1 end)".into(),
            "ERR Invalid metadata value, name argument was given multiple times".into(),
        ),
        ("#!js name=x\nredis.register_function('g', function() return 1 end)".into(), "ERR Engine 'js' not found".into()),
    ];
    for (code, expected) in &cases {
        assert_eq!(c.call(&["FUNCTION", "LOAD", code]), err(expected), "{code}");
    }
    assert_eq!(library_names(&mut c), ["kv"], "no failed load left anything behind");
    assert_eq!(c.call(&["FUNCTION", "LOAD"]), arity_err("function|load"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", "BOGUS", "x"]), err("ERR Unknown option given: BOGUS"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", "REPLACE"]), err("ERR Missing library metadata"));
    // The engine name is not case-sensitive.
    assert_eq!(
        c.call(&["FUNCTION", "LOAD", "#!LUA name=upper\nredis.register_function('up', function() return 1 end)"]),
        bulk("upper")
    );
}

#[test]
fn load_replace() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib2", "f2", 2)]), bulk("lib2"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 10)]), err("ERR Library 'lib1' already exists"));
    // REPLACE swaps the whole library: old functions go, new ones come.
    let v2 = lib("lib1", "redis.register_function('g1', function() return 11 end)");
    assert_eq!(c.call(&["FUNCTION", "LOAD", "REPLACE", &v2]), bulk("lib1"));
    assert_eq!(c.call(&["FCALL", "g1", "0"]), int(11));
    assert_eq!(c.call(&["FCALL", "f1", "0"]), err(NOT_FOUND));
    assert_eq!(c.call(&["FUNCTION", "LOAD", "replace", &simple_lib("lib1", "f1", 12)]), bulk("lib1"));
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(12));
    // REPLACE cannot take a function that another library owns; the old library stays.
    assert_eq!(
        c.call(&["FUNCTION", "LOAD", "REPLACE", &simple_lib("lib1", "f2", 13)]),
        err("ERR Function f2 already exists")
    );
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(12));
    assert_eq!(c.call(&["FCALL", "f2", "0"]), int(2));
    // A REPLACE that fails to compile leaves the old library too.
    assert!(c.call(&["FUNCTION", "LOAD", "REPLACE", &lib("lib1", "+++")]).is_err());
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(12));
}

// ---- LIST, DELETE, FLUSH ---------------------------------------------------------------------

#[test]
fn list_shows_metadata_and_filters_by_library_name() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LIST"]), arr(vec![]));
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    let flags_lib = lib(
        "flagged",
        "redis.register_function{function_name='f4', callback=function() return 4 end, description='four', \
         flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster'}}",
    );
    assert_eq!(c.call(&["FUNCTION", "LOAD", &flags_lib]), bulk("flagged"));
    let kv = Library {
        name: "kv".into(),
        engine: "LUA".into(),
        functions: vec![
            ("getit".into(), Some("reads a key".into()), vec!["no-writes".into()]),
            ("setit".into(), None, vec![]),
        ],
        code: None,
    };
    let flagged = Library {
        name: "flagged".into(),
        engine: "LUA".into(),
        functions: vec![(
            "f4".into(),
            Some("four".into()),
            vec!["allow-oom".into(), "allow-stale".into(), "no-cluster".into(), "no-writes".into()],
        )],
        code: None,
    };
    assert_eq!(libraries(&c.call(&["FUNCTION", "LIST"])), vec![flagged, kv]);
    // LIBRARYNAME is a glob pattern, matched without regard to case.
    let only = |r: Reply| libraries(&r).into_iter().map(|l| l.name).collect::<Vec<_>>();
    assert_eq!(only(c.call(&["FUNCTION", "LIST", "LIBRARYNAME", "kv"])), ["kv"]);
    assert_eq!(only(c.call(&["FUNCTION", "LIST", "LIBRARYNAME", "fl*"])), ["flagged"]);
    assert_eq!(only(c.call(&["FUNCTION", "LIST", "LIBRARYNAME", "K?"])), ["kv"]);
    assert_eq!(only(c.call(&["FUNCTION", "LIST", "LIBRARYNAME", "*"])), ["flagged", "kv"]);
    assert_eq!(c.call(&["FUNCTION", "LIST", "LIBRARYNAME", "zz*"]), arr(vec![]));
    // WITHCODE, in either order with LIBRARYNAME.
    for args in [
        &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "kv"][..],
        &["FUNCTION", "LIST", "LIBRARYNAME", "kv", "withcode"],
    ] {
        let libs = libraries(&c.call(args));
        assert_eq!(libs.len(), 1);
        assert_eq!(libs[0].code.as_deref(), Some(KV_LIB), "{args:?}");
    }
    assert_eq!(c.call(&["FUNCTION", "LIST", "LIBRARYNAME"]), err("ERR library name argument was not given"));
    assert_eq!(c.call(&["FUNCTION", "LIST", "BOGUS"]), err("ERR Unknown argument BOGUS"));
    assert_eq!(c.call(&["FUNCTION", "LIST", "WITHCODE", "WITHCODE"]), err("ERR Unknown argument WITHCODE"));
    assert_eq!(
        c.call(&["FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"]),
        err("ERR Unknown argument LIBRARYNAME")
    );
}

#[test]
fn list_in_resp3() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    let reply = c.call(&["FUNCTION", "LIST", "WITHCODE"]);
    let lib = &reply.array()[0];
    assert!(matches!(lib, Reply::Map(_)), "a library is a map in RESP3: {lib:?}");
    let fields = pairs(lib);
    for f in elements(&field(&fields, "functions")) {
        assert!(matches!(f, Reply::Map(_)), "a function is a map in RESP3: {f:?}");
        let ff = pairs(&f);
        assert!(matches!(field(&ff, "flags"), Reply::Set(_)), "flags are a set in RESP3: {ff:?}");
    }
    let libs = libraries(&reply);
    assert_eq!(libs[0].code.as_deref(), Some(KV_LIB));
    assert_eq!(libs[0].functions[1], ("setit".to_string(), None, vec![]));
}

#[test]
fn delete_and_flush() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib2", "f2", 2)]), bulk("lib2"));
    assert_eq!(c.call(&["FUNCTION", "DELETE", "nolib"]), err("ERR Library not found"));
    assert_eq!(
        c.call(&["FUNCTION", "DELETE", "LIB1"]),
        err("ERR Library not found"),
        "library names are case-sensitive"
    );
    assert_eq!(c.call(&["FUNCTION", "DELETE", "lib1"]), ok());
    assert_eq!(c.call(&["FCALL", "f1", "0"]), err(NOT_FOUND));
    assert_eq!(c.call(&["FCALL", "f2", "0"]), int(2));
    assert_eq!(library_names(&mut c), ["lib2"]);
    // The name and the functions are free again.
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 5)]), bulk("lib1"));
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(5));
    assert_eq!(c.call(&["FUNCTION", "DELETE"]), arity_err("function|delete"));
    assert_eq!(c.call(&["FUNCTION", "FLUSH"]), ok());
    assert_eq!(c.call(&["FUNCTION", "LIST"]), arr(vec![]));
    assert_eq!(c.call(&["FCALL", "f2", "0"]), err(NOT_FOUND));
    for mode in ["ASYNC", "SYNC", "sync"] {
        assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
        assert_eq!(c.call(&["FUNCTION", "FLUSH", mode]), ok());
        assert_eq!(c.call(&["FUNCTION", "LIST"]), arr(vec![]));
    }
    assert_eq!(c.call(&["FUNCTION", "FLUSH", "BOGUS"]), err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    // FLUSHALL does not remove functions.
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
    assert_eq!(c.call(&["FLUSHALL"]), ok());
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(1));
}

// ---- DUMP and RESTORE ------------------------------------------------------------------------

#[test]
fn dump_and_restore() {
    let s = TestServer::start();
    let mut c = s.raw();
    let empty = dump_bytes(&mut c);
    assert_eq!(restore(&mut c, &empty, &[]), ok(), "restoring an empty dump");
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
    let dump = dump_bytes(&mut c);
    let before = libraries(&c.call(&["FUNCTION", "LIST", "WITHCODE"]));
    assert_eq!(c.call(&["FUNCTION", "FLUSH"]), ok());
    assert_eq!(restore(&mut c, &dump, &[]), ok());
    assert_eq!(libraries(&c.call(&["FUNCTION", "LIST", "WITHCODE"])), before, "a restore gives back what was dumped");
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(1));
    assert_eq!(fcall(&mut c, "FCALL_RO", "getit", &["k"], &[]), nil());
    // APPEND (the default) refuses a library that exists, and then restores nothing. (With both
    // libraries present, which one is named first is not defined: keep only one.)
    assert_eq!(c.call(&["FUNCTION", "DELETE", "lib1"]), ok());
    assert_eq!(restore(&mut c, &dump, &[]), err("ERR Library kv already exists"));
    assert_eq!(restore(&mut c, &dump, &["APPEND"]), err("ERR Library kv already exists"));
    assert_eq!(library_names(&mut c), ["kv"], "a failed restore adds nothing");
    // REPLACE and FLUSH succeed.
    assert_eq!(restore(&mut c, &dump, &["REPLACE"]), ok());
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("extra", "fx", 9)]), bulk("extra"));
    assert_eq!(restore(&mut c, &dump, &["FLUSH"]), ok());
    assert_eq!(library_names(&mut c), ["kv", "lib1"], "FLUSH dropped the library not in the dump");
    assert_eq!(
        restore(&mut c, &dump, &["BOGUS"]),
        err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    );
    assert_eq!(c.call(&["FUNCTION", "RESTORE", "garbage"]), err("ERR DUMP payload version or checksum are wrong"));
    assert_eq!(c.call(&["FUNCTION", "RESTORE"]), arity_err("function|restore"));
    assert_eq!(c.call(&["FUNCTION", "DUMP", "x"]), arity_err("function|dump"));
    // A function name owned by a different library blocks even REPLACE; nothing is restored.
    assert_eq!(c.call(&["FUNCTION", "FLUSH"]), ok());
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("other", "f1", 2)]), bulk("other"));
    assert_eq!(restore(&mut c, &dump, &[]), err("ERR Function f1 already exists"));
    assert_eq!(restore(&mut c, &dump, &["REPLACE"]), err("ERR Function f1 already exists"));
    assert_eq!(library_names(&mut c), ["other"]);
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(2));
}

fn dump_bytes(c: &mut RawConn) -> Vec<u8> {
    match c.call(&["FUNCTION", "DUMP"]) {
        Reply::Bulk(b) => b,
        other => panic!("FUNCTION DUMP replied {other:?}"),
    }
}

fn restore(c: &mut RawConn, payload: &[u8], policy: &[&str]) -> Reply {
    let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", payload];
    args.extend(policy.iter().map(|p| p.as_bytes()));
    c.call(&args)
}

// ---- STATS and KILL --------------------------------------------------------------------------

#[test]
fn stats_when_idle() {
    let s = TestServer::start();
    let mut c = s.raw();
    let engines = |libs: i64, funcs: i64| {
        arr(vec![
            bulk("running_script"),
            nil(),
            bulk("engines"),
            arr(vec![bulk("LUA"), arr(vec![bulk("libraries_count"), int(libs), bulk("functions_count"), int(funcs)])]),
        ])
    };
    assert_eq!(c.call(&["FUNCTION", "STATS"]), engines(0, 0));
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
    assert_eq!(c.call(&["FUNCTION", "STATS"]), engines(2, 3));
    assert_eq!(c.call(&["FUNCTION", "STATS", "x"]), arity_err("function|stats"));
    assert_eq!(c.call(&["FUNCTION", "KILL"]), err(NOTBUSY));
    assert_eq!(c.call(&["FUNCTION", "KILL", "x"]), arity_err("function|kill"));
    assert_eq!(c.call(&["FUNCTION"]), arity_err("function"));
    assert_eq!(c.call(&["FUNCTION", "FOO"]), err("ERR unknown subcommand 'FOO'. Try FUNCTION HELP."));
    // RESP3: maps, and a null for the idle script.
    assert!(matches!(c.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(
        c.call(&["FUNCTION", "STATS"]),
        Reply::Map(vec![
            (bulk("running_script"), nil()),
            (
                bulk("engines"),
                Reply::Map(vec![(
                    bulk("LUA"),
                    Reply::Map(vec![(bulk("libraries_count"), int(2)), (bulk("functions_count"), int(3))])
                )])
            ),
        ])
    );
}

const BUSY_FUNCTION: &str = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const BUSY_SCRIPT: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

#[test]
fn busy_function_is_killed_by_function_kill() {
    let s = TestServer::start();
    let mut admin = s.raw();
    assert_eq!(admin.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]), ok());
    let looping = lib(
        "loop",
        "redis.register_function('spin', function() while true do end end)\n\
         redis.register_function{function_name='rospin', callback=function() while true do end end, flags={'no-writes'}}",
    );
    assert_eq!(admin.call(&["FUNCTION", "LOAD", &looping]), bulk("loop"));
    let mut runner = s.raw();
    for (cmd, function, line) in [("FCALL", "spin", 2), ("FCALL_RO", "rospin", 3)] {
        runner.send(&resp(&[cmd, function, "0"]));
        until_busy(&mut admin, BUSY_FUNCTION);
        // FUNCTION STATS names the running function and its command.
        let stats = pairs(&admin.call(&["FUNCTION", "STATS"]));
        let running = pairs(&field(&stats, "running_script"));
        assert_eq!(field(&running, "name"), bulk(function));
        assert_eq!(field(&running, "command"), bulks(&[cmd, function, "0"]));
        assert!(field(&running, "duration_ms").int() >= 100);
        // SCRIPT KILL is not the way to stop a function.
        assert_eq!(admin.call(&["SCRIPT", "KILL"]), err(BUSY_FUNCTION));
        assert_eq!(admin.call(&["FUNCTION", "KILL"]), ok());
        assert_eq!(runner.read_reply(), function_err("ERR Script killed by user with SCRIPT KILL...", function, line));
        assert_eq!(admin.call(&["PING"]), status("PONG"));
    }
    assert_eq!(admin.call(&["FUNCTION", "KILL"]), err(NOTBUSY));
    // And FUNCTION KILL is not the way to stop an EVAL.
    runner.send(&resp(&["EVAL", "while true do end", "0"]));
    until_busy(&mut admin, BUSY_SCRIPT);
    assert_eq!(admin.call(&["FUNCTION", "KILL"]), err(BUSY_SCRIPT));
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), ok());
    assert!(runner.read_reply().is_err());
    assert_eq!(runner.call(&["FCALL", "spin", "notanumber"]), err("ERR Bad number of keys provided"));
}

// ---- Behaviour of functions -------------------------------------------------------------------

#[test]
fn fcall_ro_enforces_the_no_writes_flag() {
    let s = TestServer::start();
    let mut c = s.raw();
    let code = lib(
        "w",
        "redis.register_function('w', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n\
         redis.register_function{function_name='r', callback=function(keys) return redis.call('SET', keys[1], 'x') end, \
         flags={'no-writes'}}\n\
         redis.register_function{function_name='pr', callback=function(keys) return redis.pcall('SET', keys[1], 'x') end, \
         flags={'no-writes'}}",
    );
    assert_eq!(c.call(&["FUNCTION", "LOAD", &code]), bulk("w"));
    // A function without no-writes may not run through FCALL_RO at all, even if it would not write.
    assert_eq!(fcall(&mut c, "FCALL_RO", "w", &["k"], &["v"]), err(RO_WRITE_FLAG));
    // A no-writes function that writes fails wherever it is called.
    assert_eq!(fcall(&mut c, "FCALL", "r", &["k"], &[]), function_err(RO_SCRIPT_WRITE, "r", 3));
    assert_eq!(fcall(&mut c, "FCALL_RO", "r", &["k"], &[]), function_err(RO_SCRIPT_WRITE, "r", 3));
    assert_eq!(fcall(&mut c, "FCALL_RO", "pr", &["k"], &[]), err(RO_SCRIPT_WRITE));
    assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    assert_eq!(fcall(&mut c, "FCALL", "w", &["k"], &["v"]), ok());
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
}

#[test]
fn errors_inside_functions() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["SET", "k", "x"]), ok());
    let code = lib(
        "errs",
        "redis.register_function('e1', function() return redis.error_reply('MY err') end)\n\
         redis.register_function('e2', function() error('boom') end)\n\
         redis.register_function('e3', function() return redis.pcall('NOPE') end)\n\
         redis.register_function('e4', function() return redis.call('INCR', 'k') end)\n\
         redis.register_function('e5', function() return undefined_global end)\n\
         redis.register_function('e6', function() leak = 1 end)\n\
         redis.register_function('e7', function() return redis.call('EVAL', 'return 1', '0') end)\n\
         redis.register_function('e8', function() redis.register_function('inner', function() return 1 end) end)",
    );
    assert_eq!(c.call(&["FUNCTION", "LOAD", &code]), bulk("errs"));
    let cases: Vec<(&str, Reply)> = vec![
        ("e1", err("MY err")),
        ("e2", function_err("ERR user_function:3: boom", "e2", 3)),
        ("e3", err("ERR Unknown Redis command called from script")),
        ("e4", function_err(NOT_INT, "e4", 5)),
        (
            "e5",
            function_err(
                "ERR user_function:6: Script attempted to access nonexistent global variable 'undefined_global'",
                "e5",
                6,
            ),
        ),
        ("e6", function_err("ERR user_function:7: Attempt to modify a readonly table", "e6", 7)),
        ("e7", function_err("ERR This Redis command is not allowed from script", "e7", 8)),
        ("e8", function_err("ERR user_function:9: attempt to call field 'register_function' (a nil value)", "e8", 9)),
    ];
    for (function, expected) in cases {
        assert_eq!(c.call(&["FCALL", function, "0"]), expected, "{function}");
    }
    // Scripts cannot call functions either.
    let script = "return redis.call('FCALL', 'e1', 0)";
    assert_eq!(
        c.call(&["EVAL", script, "0"]),
        err(&format!(
            "ERR This Redis command is not allowed from script script: {}, on @user_script:1.",
            sha1_of(script)
        ))
    );
}

fn sha1_of(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

#[test]
fn library_locals_persist_between_calls_and_resp3_works() {
    let s = TestServer::start();
    let mut c = s.raw();
    let code = lib(
        "state",
        "local n = 0\n\
         local function bump() n = n + 1 return n end\n\
         redis.register_function('bump', bump)\n\
         redis.register_function('hash', function(keys) redis.setresp(3) return redis.call('HGETALL', keys[1]) end)",
    );
    assert_eq!(c.call(&["FUNCTION", "LOAD", &code]), bulk("state"));
    assert_eq!(c.call(&["FCALL", "bump", "0"]), int(1));
    assert_eq!(c.call(&["FCALL", "bump", "0"]), int(2));
    assert_eq!(c.call(&["HSET", "h", "a", "b"]), int(1));
    assert_eq!(c.call(&["FCALL", "hash", "1", "h"]), bulks(&["a", "b"]));
    let mut c3 = s.raw();
    assert!(matches!(c3.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c3.call(&["FCALL", "hash", "1", "h"]), Reply::Map(vec![(bulk("a"), bulk("b"))]));
    assert_eq!(c3.call(&["FCALL", "bump", "0"]), int(3));
}

#[test]
fn functions_inside_multi() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
    let lib3 = simple_lib("lib3", "f3", 3);
    assert_eq!(c.call(&["MULTI"]), ok());
    for cmd in [
        &["FCALL", "setit", "1", "k", "v"][..],
        &["FUNCTION", "LOAD", &lib3],
        &["FCALL", "f3", "0"],
        &["FCALL_RO", "getit", "1", "k"],
        &["FCALL", "missing", "0"],
    ] {
        assert_eq!(c.call(cmd), status("QUEUED"), "{cmd:?}");
    }
    assert_eq!(c.call(&["EXEC"]), arr(vec![ok(), bulk("lib3"), int(3), bulk("v"), err(NOT_FOUND)]));
}

// ---- Persistence -----------------------------------------------------------------------------

#[test]
fn libraries_survive_a_restart() {
    let mut s = TestServer::start();
    {
        let mut c = s.raw();
        assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
        assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("gone", "g", 1)]), bulk("gone"));
        assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
        assert_eq!(c.call(&["FUNCTION", "DELETE", "gone"]), ok());
        assert_eq!(c.call(&["FUNCTION", "LOAD", "REPLACE", &simple_lib("lib1", "f1", 2)]), bulk("lib1"));
    }
    let before = {
        let mut c = s.raw();
        libraries(&c.call(&["FUNCTION", "LIST", "WITHCODE"]))
    };
    s.restart();
    let mut c = s.raw();
    assert_eq!(libraries(&c.call(&["FUNCTION", "LIST", "WITHCODE"])), before);
    assert_eq!(library_names(&mut c), ["kv", "lib1"]);
    assert_eq!(c.call(&["FCALL", "f1", "0"]), int(2));
    assert_eq!(c.call(&["FCALL", "g", "0"]), err(NOT_FOUND));
    assert_eq!(fcall(&mut c, "FCALL", "setit", &["k"], &["v"]), ok());
    assert_eq!(fcall(&mut c, "FCALL_RO", "getit", &["k"], &[]), bulk("v"));
    // A flush survives a restart too.
    assert_eq!(c.call(&["FUNCTION", "FLUSH"]), ok());
    drop(c);
    s.restart();
    let mut c = s.raw();
    assert_eq!(c.call(&["FUNCTION", "LIST"]), arr(vec![]));
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
}

/// On Strata a loaded library is durable once FUNCTION LOAD answers. Redis gives the same
/// guarantee for a process crash with `appendfsync always`, which both servers run with here.
#[test]
fn libraries_survive_kill9() {
    let mut s = TestServer::start_with(&["--appendfsync", "always"]);
    {
        let mut c = s.raw();
        assert_eq!(c.call(&["FUNCTION", "LOAD", KV_LIB]), bulk("kv"));
        assert_eq!(c.call(&["FUNCTION", "LOAD", &simple_lib("lib1", "f1", 1)]), bulk("lib1"));
        assert_eq!(c.call(&["FUNCTION", "DELETE", "lib1"]), ok());
    }
    s.kill9();
    s.start_again();
    let mut c = s.raw();
    assert_eq!(library_names(&mut c), ["kv"]);
    assert_eq!(fcall(&mut c, "FCALL", "setit", &["k"], &["v"]), ok());
    assert_eq!(c.call(&["FCALL", "f1", "0"]), err(NOT_FOUND));
}

#[test]
fn info_memory_counts_scripts_functions_and_libraries() {
    let s = TestServer::start();
    let mut c = s.raw();
    assert!(c.call(&["SCRIPT", "LOAD", "return 1"]).text().len() == 40);
    assert!(c.call(&["SCRIPT", "LOAD", "return 2"]).text().len() == 40);
    let code = "#!lua name=counted\nredis.register_function('f1', function() return 1 end)\n\
                redis.register_function('f2', function() return 2 end)";
    assert_eq!(c.call(&["FUNCTION", "LOAD", code]), bulk("counted"));
    let info = c.call(&["INFO", "memory"]).text();
    for field in ["number_of_cached_scripts:2", "number_of_functions:2", "number_of_libraries:1"] {
        assert!(info.lines().any(|l| l.trim_end() == field), "{field} missing from INFO memory:\n{info}");
    }
}

/// Redis's CRC-64 (Jones, reflected), to forge payloads that pass the checksum.
fn crc64(data: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in data {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5 } else { crc >> 1 };
        }
    }
    crc
}

/// A payload with a valid checksum whose compressed string claims a huge length is refused
/// without allocating it; the server keeps serving.
#[test]
fn restore_refuses_a_forged_huge_compressed_length() {
    let s = TestServer::start();
    let mut c = s.raw();
    // FUNCTION2 opcode, then an LZF string: clen 1, len 2^40, one byte of data.
    let mut payload = vec![0xf5, 0xc3, 0x01, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0x00];
    payload.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let reply = restore(&mut c, &payload, &[]);
    assert!(matches!(&reply, Reply::Err(_)), "{reply:?}");
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
}
