//! Criterion benchmarks of the storage encodings (pure functions on the hot path of every command).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use strata::storage::encoding::{decode_meta, encode_string, expire_index_key, key_slot, meta_key, subkey_prefix};

fn encodings(c: &mut Criterion) {
    let key = b"user:000123456:session";
    let value = vec![b'x'; 64];
    c.bench_function("key_slot", |b| b.iter(|| key_slot(black_box(key))));
    c.bench_function("meta_key", |b| b.iter(|| meta_key(black_box(3), black_box(key))));
    c.bench_function("encode_string_64", |b| b.iter(|| encode_string(black_box(0), black_box(&value))));
    let rec = encode_string(1_700_000_000_000, &value);
    c.bench_function("decode_meta", |b| b.iter(|| decode_meta(black_box(&rec))));
    c.bench_function("expire_index_key", |b| {
        b.iter(|| expire_index_key(black_box(1_700_000_000_000), 0, black_box(key)))
    });
    c.bench_function("subkey_prefix", |b| b.iter(|| subkey_prefix(black_box(0), black_box(key), black_box(42))));
}

criterion_group!(benches, encodings);
criterion_main!(benches);
