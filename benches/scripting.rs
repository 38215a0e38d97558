//! Criterion benchmarks of the Lua engine: the fixed cost of one EVAL (with a redis.call), and
//! the libraries scripts lean on (cjson, cmsgpack).

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use strata::reply::Reply;
use strata::scripting::{sha1_hex, Engine, Host};

/// Answers every command with +OK.
struct OkHost;

impl Host for OkHost {
    fn call(&mut self, _args: Vec<Bytes>) -> Reply {
        Reply::Ok
    }
    fn check(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn log(&mut self, _level: u8, _msg: &str) {}
}

fn bench_eval(c: &mut Criterion, engine: &mut Engine, name: &str, script: &str, keys: &[Bytes], argv: &[Bytes]) {
    let sha = sha1_hex(script.as_bytes());
    c.bench_function(name, |b| {
        b.iter(|| engine.eval(black_box(&sha), script.as_bytes(), keys, argv, &mut OkHost));
    });
}

fn scripting(c: &mut Criterion) {
    let Ok(mut engine) = Engine::new() else { return };
    let keys = [Bytes::from_static(b"key")];
    let argv = [Bytes::from_static(b"value")];
    bench_eval(c, &mut engine, "eval_return_1", "return 1", &[], &[]);
    bench_eval(c, &mut engine, "eval_one_call", "return redis.call('set', KEYS[1], ARGV[1])", &keys, &argv);
    let json = Bytes::from_static(br#"{"name":"job","data":{"id":42,"tags":["a","b","c"]},"opts":{"attempts":3}}"#);
    bench_eval(c, &mut engine, "eval_cjson_roundtrip", "return cjson.encode(cjson.decode(ARGV[1]))", &[], &[json]);
    bench_eval(
        c,
        &mut engine,
        "eval_cmsgpack_roundtrip",
        "return cmsgpack.unpack(cmsgpack.pack({delay = 0, attempts = 3, jobId = 'x', tags = {1, 2, 3}})).attempts",
        &[],
        &[],
    );
}

criterion_group!(benches, scripting);
criterion_main!(benches);
