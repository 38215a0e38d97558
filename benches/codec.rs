//! Benchmarks of the RESP request parser and reply encoder (`strata::server::{codec, reply}`):
//! a pipeline of small SETs, one very wide command, and encoding of common reply shapes.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use strata::reply::Reply;
use strata::server::codec::{Limits, Parser};

/// `*3 SET key:000123 <64-byte value>` repeated `count` times.
fn set_pipeline(count: usize) -> Vec<u8> {
    let value = [b'v'; 64];
    let mut out = Vec::new();
    for _ in 0..count {
        out.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$10\r\nkey:000123\r\n$64\r\n");
        out.extend_from_slice(&value);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One command with `count` arguments (`MSET`-like keys and values).
fn wide_command(count: usize) -> Vec<u8> {
    let mut out = format!("*{count}\r\n").into_bytes();
    for i in 0..count {
        let arg = format!("arg:{i:06}");
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// Parses every command in `input`; returns how many there were.
fn parse_all(input: &[u8], limits: &Limits) -> usize {
    let mut parser = Parser::default();
    let mut buf = BytesMut::from(input);
    let mut commands = 0;
    while let Ok(Some(cmd)) = parser.next_command(&mut buf, limits) {
        black_box(&cmd);
        commands += 1;
    }
    commands
}

fn bench_parse(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("parse");

    let pipeline = set_pipeline(16);
    assert_eq!(parse_all(&pipeline, &limits), 16);
    group.throughput(Throughput::Bytes(pipeline.len() as u64));
    group.bench_function("pipeline_16_set_64b", |b| {
        b.iter_batched(
            || BytesMut::from(&pipeline[..]),
            |mut buf| {
                let mut parser = Parser::default();
                while let Ok(Some(cmd)) = parser.next_command(&mut buf, &limits) {
                    black_box(cmd);
                }
            },
            BatchSize::SmallInput,
        );
    });

    let wide = wide_command(1000);
    assert_eq!(parse_all(&wide, &limits), 1);
    group.throughput(Throughput::Bytes(wide.len() as u64));
    group.bench_function("one_command_1000_args", |b| {
        b.iter_batched(
            || BytesMut::from(&wide[..]),
            |mut buf| {
                let mut parser = Parser::default();
                black_box(parser.next_command(&mut buf, &limits).ok().flatten());
            },
            BatchSize::SmallInput,
        );
    });

    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let mut out = BytesMut::with_capacity(64 * 1024);

    let bulk = Reply::bulk(Bytes::from(vec![b'v'; 64]));
    group.bench_function("bulk_64b", |b| {
        b.iter(|| {
            out.clear();
            black_box(&bulk).encode(2, &mut out);
            black_box(&out);
        });
    });

    let int = Reply::Int(1_234_567);
    group.bench_function("int", |b| {
        b.iter(|| {
            out.clear();
            black_box(&int).encode(2, &mut out);
            black_box(&out);
        });
    });

    let array = Reply::Array((0..100).map(|i| Reply::bulk(format!("member:{i:04}"))).collect());
    group.bench_function("array_100_bulks", |b| {
        b.iter(|| {
            out.clear();
            black_box(&array).encode(2, &mut out);
            black_box(&out);
        });
    });

    let scores = Reply::Array((0..100).map(|i| Reply::Double(f64::from(i) * 1.25)).collect());
    group.bench_function("array_100_doubles_resp3", |b| {
        b.iter(|| {
            out.clear();
            black_box(&scores).encode(3, &mut out);
            black_box(&out);
        });
    });

    group.finish();
}

criterion_group!(benches, bench_parse, bench_encode);
criterion_main!(benches);
