use super::*;
use crate::storage::types::stream::{Pending, StreamId};
use crate::storage::types::value::{GroupValue, StreamValue};
use proptest::prelude::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn sample_values() -> Vec<Value> {
    let big: Vec<Bytes> = (0..3000).map(|i| Bytes::from(format!("element-{i}-{}", "x".repeat(i % 70)))).collect();
    let stream = StreamValue {
        entries: (1..=250u64)
            .map(|i| {
                let fields = if i % 7 == 0 {
                    vec![b("other"), b(&i.to_string())]
                } else {
                    vec![b("f"), b("v"), b("n"), b(&i.to_string())]
                };
                (StreamId::new(1000 + i / 3, i % 3), fields)
            })
            .collect(),
        last_id: StreamId::new(2000, 5),
        first_id: StreamId::new(1000, 1),
        max_deleted: StreamId::new(1500, 0),
        entries_added: 300,
        groups: vec![GroupValue {
            name: b("g1"),
            last_id: StreamId::new(1010, 1),
            entries_read: Some(31),
            pending: vec![
                (
                    StreamId::new(1001, 1),
                    Pending { delivery_ms: 1_700_000_000_000, deliveries: 2, consumer: b("alice") },
                ),
                (StreamId::new(1002, 0), Pending { delivery_ms: 1_700_000_000_001, deliveries: 1, consumer: b("bob") }),
            ],
            consumers: vec![(b("alice"), 1_700_000_000_000, 1_700_000_000_000), (b("bob"), 5, 5), (b("carol"), 7, 7)],
        }],
    };
    vec![
        Value::String(b("")),
        Value::String(b("12345")),
        Value::String(b("-2147483648")),
        Value::String(b("99999999999")),
        Value::String(Bytes::from(vec![0u8, 255, 10, 13])),
        Value::List(vec![b("a"), b(""), b("17")]),
        Value::List(big.clone()),
        Value::Set(vec![b("1"), b("x")]),
        Value::Hash(vec![(b("f"), b("v")), (b(""), b(""))]),
        Value::ZSet(vec![(b("a"), f64::NEG_INFINITY), (b("b"), -1.5), (b("c"), 0.0), (b("d"), f64::INFINITY)]),
        Value::Stream(Box::new(stream)),
        Value::Stream(Box::default()),
    ]
}

#[test]
fn dump_then_load_round_trips() {
    for v in sample_values() {
        let payload = dump(&v);
        let back = load(&payload).unwrap();
        match (&v, &back) {
            (Value::ZSet(a), Value::ZSet(b)) => {
                let mut b = b.clone();
                b.reverse();
                assert_eq!(a, &b);
            }
            (Value::Stream(a), Value::Stream(b)) => {
                // Consumers' active time is not in layout 2: it loads as the seen time.
                let mut a = a.clone();
                for g in &mut a.groups {
                    for c in &mut g.consumers {
                        c.2 = c.1;
                    }
                }
                if a.entries.is_empty() {
                    a.first_id = StreamId::MIN;
                }
                assert_eq!(&a, b);
            }
            _ => assert_eq!(v, back),
        }
    }
}

#[test]
fn footer_is_checked() {
    let mut p = dump(&Value::String(b("hello")));
    let n = p.len();
    assert_eq!(load(&p[..9]), Err(LoadError::VersionOrChecksum));
    p[n - 1] ^= 1;
    assert_eq!(load(&p), Err(LoadError::VersionOrChecksum));
    p[n - 1] ^= 1;
    // Version 12 is refused even with a good checksum.
    p[n - 10] = 12;
    let crc = crc64::crc64(0, &p[..n - 8]);
    p[n - 8..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(load(&p), Err(LoadError::VersionOrChecksum));
}

/// Redis 7.0's DUMP of `SET k hello` (RDB 10).
#[test]
fn loads_a_redis_string() {
    let mut p = vec![0x00, 0x05];
    p.extend_from_slice(b"hello");
    p.extend_from_slice(&[0x0a, 0x00]);
    let crc = crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(load(&p), Ok(Value::String(b("hello"))));
}

fn seal(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&DUMP_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

#[test]
fn truncated_and_corrupted_payloads_are_bad_format() {
    for v in sample_values() {
        let p = dump(&v);
        let body = &p[..p.len() - 10];
        let step = (body.len() / 400).max(1);
        for cut in (0..body.len()).step_by(step) {
            // A prefix of a string payload can still be a valid (shorter) string only when the
            // length byte allows it; everything else must be refused, never panic.
            let r = load(&seal(body[..cut].to_vec()));
            assert!(r.is_err() || matches!(v, Value::String(_)) && cut == body.len(), "cut {cut} of {v:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn random_payloads_never_panic(t in 0u8..24, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut p = vec![t];
        p.extend_from_slice(&body);
        let _ = load(&seal(p));
    }

    #[test]
    fn mutated_payloads_never_panic(which in 0usize..12, at in any::<usize>(), byte in any::<u8>()) {
        let v = &sample_values()[which];
        let p = dump(v);
        let mut body = p[..p.len() - 10].to_vec();
        if !body.is_empty() {
            let i = at % body.len();
            body[i] = byte;
        }
        let _ = load(&seal(body));
    }
}

fn seal_v(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = crc64::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Payloads from Redis's DUMP documentation (RDB versions 6 and 10 of the integer 10).
#[test]
fn loads_payloads_from_redis_docs() {
    let v10 = b"\x00\xc0\n\n\x00n\x9fWE\x0e\xaec\xbb";
    let v6 = b"\x00\xc0\n\x06\x00\xf8r?\xc5\xfb\xfb_(";
    assert_eq!(load(v10), Ok(Value::String(b("10"))));
    assert_eq!(load(v6), Ok(Value::String(b("10"))));
    // Strata's own DUMP of "10" is byte for byte Redis 7.0's.
    assert_eq!(dump(&Value::String(b("10"))), v10.to_vec());
}

/// A ziplist of strings (short ones) and integers, as Redis before 7.0 wrote them.
fn ziplist(items: &[Elem<'_>]) -> Vec<u8> {
    let mut entries: Vec<u8> = Vec::new();
    let mut prev = 0usize;
    for it in items {
        let start = entries.len();
        if prev < 254 {
            entries.push(prev as u8);
        } else {
            entries.push(0xfe);
            entries.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match *it {
            Elem::Str(s) => {
                assert!(s.len() < 64);
                entries.push(s.len() as u8);
                entries.extend_from_slice(s);
            }
            Elem::Int(n) if (0..=12).contains(&n) => entries.push(0xf1 + n as u8),
            Elem::Int(n) if i8::try_from(n).is_ok() => {
                entries.push(0xfe);
                entries.push(n as i8 as u8);
            }
            Elem::Int(n) if i16::try_from(n).is_ok() => {
                entries.push(0xc0);
                entries.extend_from_slice(&(n as i16).to_le_bytes());
            }
            Elem::Int(n) if (-8_388_608..8_388_608).contains(&n) => {
                entries.push(0xf0);
                entries.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
            }
            Elem::Int(n) if i32::try_from(n).is_ok() => {
                entries.push(0xd0);
                entries.extend_from_slice(&(n as i32).to_le_bytes());
            }
            Elem::Int(n) => {
                entries.push(0xe0);
                entries.extend_from_slice(&n.to_le_bytes());
            }
        }
        prev = entries.len() - start;
    }
    let total = 10 + entries.len() + 1;
    let mut z = Vec::with_capacity(total);
    z.extend_from_slice(&(total as u32).to_le_bytes());
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(&(items.len() as u16).to_le_bytes());
    z.extend_from_slice(&entries);
    z.push(0xff);
    z
}

fn listpack_of(items: &[&[u8]]) -> Vec<u8> {
    let mut w = ListpackWriter::default();
    for i in items {
        w.push(i);
    }
    w.finish()
}

fn body(t: u8, f: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::default();
    w.byte(t);
    f(&mut w);
    w.buf
}

fn bytes_list(v: &[&str]) -> Vec<Bytes> {
    v.iter().map(|s| b(s)).collect()
}

#[test]
fn loads_older_and_newer_encodings() {
    let cases: Vec<(Vec<u8>, u16, Value)> = vec![
        (
            body(types::LIST, |w| {
                w.len(2);
                w.string(b"a");
                w.string(b"100000");
            }),
            6,
            Value::List(bytes_list(&["a", "100000"])),
        ),
        (
            body(types::ZSET, |w| {
                w.len(3);
                w.string(b"a");
                w.byte(3);
                w.raw(b"1.5");
                w.string(b"b");
                w.byte(254);
                w.string(b"c");
                w.byte(255);
            }),
            6,
            Value::ZSet(vec![(b("a"), 1.5), (b("b"), f64::INFINITY), (b("c"), f64::NEG_INFINITY)]),
        ),
        (
            body(types::LIST_ZIPLIST, |w| {
                w.string(&ziplist(&[Elem::Str(b"a"), Elem::Int(12), Elem::Int(-100), Elem::Int(1000)]))
            }),
            6,
            Value::List(bytes_list(&["a", "12", "-100", "1000"])),
        ),
        (
            body(types::LIST_QUICKLIST, |w| {
                w.len(2);
                w.string(&ziplist(&[Elem::Str(b"x"), Elem::Int(70000)]));
                w.string(&ziplist(&[Elem::Int(5_000_000_000), Elem::Int(-3_000_000)]));
            }),
            9,
            Value::List(bytes_list(&["x", "70000", "5000000000", "-3000000"])),
        ),
        (
            body(types::HASH_ZIPLIST, |w| {
                w.string(&ziplist(&[Elem::Str(b"f"), Elem::Str(b"v"), Elem::Str(b"n"), Elem::Int(7)]))
            }),
            9,
            Value::Hash(vec![(b("f"), b("v")), (b("n"), b("7"))]),
        ),
        (
            body(types::ZSET_ZIPLIST, |w| {
                w.string(&ziplist(&[Elem::Str(b"m"), Elem::Str(b"2.5"), Elem::Str(b"n"), Elem::Int(3)]))
            }),
            9,
            Value::ZSet(vec![(b("m"), 2.5), (b("n"), 3.0)]),
        ),
        (
            body(types::HASH_ZIPMAP, |w| {
                w.string(&[2, 1, b'f', 1, 0, b'v', 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', b'!', 0xff])
            }),
            3,
            Value::Hash(vec![(b("f"), b("v")), (b("foo"), b("bar"))]),
        ),
        (
            body(types::SET_INTSET, |w| {
                let mut is = vec![4, 0, 0, 0, 2, 0, 0, 0];
                is.extend_from_slice(&(-70000i32).to_le_bytes());
                is.extend_from_slice(&7i32.to_le_bytes());
                w.string(&is);
            }),
            9,
            Value::Set(bytes_list(&["-70000", "7"])),
        ),
        (
            body(types::SET_LISTPACK, |w| w.string(&listpack_of(&[b"a", b"5", b""]))),
            11,
            Value::Set(bytes_list(&["a", "5", ""])),
        ),
        (
            body(types::LIST_QUICKLIST_2, |w| {
                w.len(3);
                w.len(2);
                w.string(&listpack_of(&[b"a"]));
                w.len(2);
                w.string(&listpack_of(&[]));
                w.len(1);
                w.string(&[b'p'; 300]);
            }),
            10,
            Value::List(vec![b("a"), Bytes::from(vec![b'p'; 300])]),
        ),
    ];
    for (body, version, want) in cases {
        assert_eq!(load(&seal_v(body.clone(), version)), Ok(want.clone()), "{want:?}");
        // Any truncation is refused.
        for cut in 1..body.len() {
            assert_eq!(load(&seal_v(body[..cut].to_vec(), version)), Err(LoadError::BadFormat), "{want:?} cut {cut}");
        }
    }
}

#[test]
fn refuses_what_redis_refuses() {
    let bad_bodies: Vec<Vec<u8>> = vec![
        body(types::SET, |w| w.len(0)),
        body(types::SET, |w| {
            w.len(2);
            w.string(b"a");
            w.string(b"a");
        }),
        body(types::HASH, |w| {
            w.len(2);
            w.string(b"f");
            w.string(b"1");
            w.string(b"f");
            w.string(b"2");
        }),
        body(types::ZSET, |w| {
            w.len(1);
            w.string(b"a");
            w.byte(253);
        }),
        body(types::HASH_LISTPACK, |w| w.string(&listpack_of(&[b"f", b"v", b"odd"]))),
        body(types::LIST_QUICKLIST_2, |w| {
            w.len(1);
            w.len(3);
            w.string(&listpack_of(&[b"a"]));
        }),
        body(types::LIST_QUICKLIST_2, |w| {
            w.len(1);
            w.len(2);
            w.string(&listpack_of(&[]));
        }),
        body(6, |w| w.len(0)),
    ];
    for body in bad_bodies {
        assert_eq!(load(&seal(body.clone())), Err(LoadError::BadFormat), "{body:?}");
    }
}

/// A stream written by hand in `layout` 1, 2 or 3: two nodes (one entry deleted, one with
/// other fields), one group whose PEL entries belong to two consumers.
fn stream_body(t: u8, orphan_pel: bool) -> Vec<u8> {
    body(t, |w| {
        w.len(2);
        let mut lp = ListpackWriter::default();
        for x in [2i64, 1, 1] {
            lp.push_int(x);
        }
        lp.push(b"f");
        lp.push_int(0);
        // 5-1: same fields
        for x in [2i64, 0, 0] {
            lp.push_int(x);
        }
        lp.push(b"v1");
        lp.push_int(4);
        // 5-2: deleted
        for x in [3i64, 0, 1] {
            lp.push_int(x);
        }
        lp.push(b"gone");
        lp.push_int(4);
        // 6-0: other fields
        for x in [0i64, 1, -1, 2] {
            lp.push_int(x);
        }
        for f in [b"a", b"1", b"b", b"2"] {
            lp.push(f);
        }
        lp.push_int(8);
        w.string(&StreamId::new(5, 1).to_bytes());
        w.string(&lp.finish());
        let mut lp = ListpackWriter::default();
        for x in [1i64, 0, 1] {
            lp.push_int(x);
        }
        lp.push(b"f");
        lp.push_int(0);
        for x in [2i64, 0, 0] {
            lp.push_int(x);
        }
        lp.push(b"last");
        lp.push_int(4);
        w.string(&StreamId::new(9, 0).to_bytes());
        w.string(&lp.finish());
        w.len(3); // length
        w.len(9);
        w.len(0); // last id
        if t != types::STREAM_LISTPACKS {
            w.len(5);
            w.len(1); // first id
            w.len(5);
            w.len(2); // max deleted
            w.len(4); // entries added
        }
        w.len(1); // groups
        w.string(b"grp");
        w.len(6);
        w.len(0);
        if t != types::STREAM_LISTPACKS {
            w.len(3);
        }
        w.len(2); // PEL
        for (id, at, n) in [(StreamId::new(5, 1), 1000i64, 2u64), (StreamId::new(6, 0), 2000, 1)] {
            w.raw(&id.to_bytes());
            w.raw(&at.to_le_bytes());
            w.len(n);
        }
        w.len(2); // consumers
        for (name, seen, active, owns) in
            [(&b"alice"[..], 1500i64, -1i64, StreamId::new(5, 1)), (&b"bob"[..], 2500, 2400, StreamId::new(6, 0))]
        {
            w.string(name);
            w.raw(&seen.to_le_bytes());
            if t == types::STREAM_LISTPACKS_3 {
                w.raw(&active.to_le_bytes());
            }
            if orphan_pel && name == b"bob" {
                w.len(0);
            } else {
                w.len(1);
                w.raw(&owns.to_bytes());
            }
        }
    })
}

#[test]
fn loads_the_three_stream_layouts() {
    for (t, version) in [(types::STREAM_LISTPACKS, 9), (types::STREAM_LISTPACKS_2, 10), (types::STREAM_LISTPACKS_3, 11)]
    {
        let Ok(Value::Stream(s)) = load(&seal_v(stream_body(t, false), version)) else { panic!("layout {t}") };
        let ids: Vec<StreamId> = s.entries.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [StreamId::new(5, 1), StreamId::new(6, 0), StreamId::new(9, 0)]);
        assert_eq!(s.entries[0].1, bytes_list(&["f", "v1"]));
        assert_eq!(s.entries[1].1, bytes_list(&["a", "1", "b", "2"]));
        assert_eq!(s.last_id, StreamId::new(9, 0));
        assert_eq!(s.first_id, StreamId::new(5, 1));
        let g = &s.groups[0];
        assert_eq!(g.name, b("grp"));
        assert_eq!(g.last_id, StreamId::new(6, 0));
        assert_eq!(
            g.pending[0],
            (StreamId::new(5, 1), Pending { delivery_ms: 1000, deliveries: 2, consumer: b("alice") })
        );
        assert_eq!(
            g.pending[1],
            (StreamId::new(6, 0), Pending { delivery_ms: 2000, deliveries: 1, consumer: b("bob") })
        );
        if t == types::STREAM_LISTPACKS {
            // Layout 1: counters derived as Redis derives them.
            assert_eq!((s.entries_added, s.max_deleted), (3, StreamId::MIN));
            assert_eq!(g.entries_read, None);
        } else {
            assert_eq!((s.entries_added, s.max_deleted), (4, StreamId::new(5, 2)));
            assert_eq!(g.entries_read, Some(3));
        }
        let active: Vec<u64> = g.consumers.iter().map(|c| c.2).collect();
        if t == types::STREAM_LISTPACKS_3 {
            assert_eq!(active, [0, 2400]);
        } else {
            assert_eq!(active, [1500, 2500]);
        }
        // A PEL entry nobody owns is refused.
        assert_eq!(load(&seal_v(stream_body(t, true), version)), Err(LoadError::BadFormat));
    }
}
