//! Redis Streams (Redis 7.0 reference): XADD (IDs, NOMKSTREAM, MAXLEN/MINID trimming), XLEN,
//! XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XREAD (non-blocking and BLOCK across connections), and
//! a stream's life as a key (TYPE, OBJECT ENCODING, DEL/UNLINK/RENAME/COPY/EXPIRE, SCAN TYPE,
//! a 5000-entry stream, restart).
//!
//! Every expectation was checked against redis-server 7.0.15 (`STRATA_TEST_TARGET=redis`).
//! Approximate trimming (`~`) is only checked for what any correct implementation must satisfy.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use redis::aio::MultiplexedConnection;

// ---------------------------------------------------------------------------------------------
// Error texts (Redis 7.0.15)
// ---------------------------------------------------------------------------------------------

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const XADD_TOP: &str = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const XADD_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const EXHAUSTED: &str = "ERR The stream has exhausted the last possible ID, unable to add more items";
const TOO_LARGE: &str = "ERR Elements are too large to be stored";
const LIMIT_WITHOUT_APPROX: &str = "ERR syntax error, LIMIT cannot be used without the special ~ option";
const LIMIT_WITHOUT_STRATEGY: &str = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
const MAXLEN_AND_MINID: &str = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
const INVALID_START: &str = "ERR invalid start ID for the interval";
const INVALID_END: &str = "ERR invalid end ID for the interval";
const XSETID_TOP: &str = "ERR The ID specified in XSETID is smaller than the target stream top item";
const XSETID_ENTRIES: &str = "ERR The entries_added specified in XSETID is smaller than the target stream length";
const XSETID_ENTRIES_NEGATIVE: &str = "ERR entries_added must be positive";
const XSETID_MAXDELETED: &str = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
const NO_SUCH_KEY: &str = "ERR no such key";
const UNBALANCED: &str = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
const GT_IN_XREAD: &str =
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
const NOACK_IN_XREAD: &str = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
const TIMEOUT_NOT_INT: &str = "ERR timeout is not an integer or out of range";

const MAX_ID: &str = "18446744073709551615-18446744073709551615";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// One stream entry as XRANGE/XREAD return it: `[id, [field, value, ...]]`.
fn entry(id: &str, fields: &[&str]) -> Reply {
    arr(vec![bulk(id), bulks(fields)])
}

/// Entries `<i>-0` with the single field `f` = `<i>` (what [`fill`] creates).
fn numbered(range: impl IntoIterator<Item = u64>) -> Reply {
    arr(range.into_iter().map(|i| entry(&format!("{i}-0"), &["f", &i.to_string()])).collect())
}

/// An XREAD reply in RESP2: `[[key, [entry, ...]], ...]`.
fn xread_reply(streams: Vec<(&str, Reply)>) -> Reply {
    arr(streams.into_iter().map(|(k, entries)| arr(vec![bulk(k), entries])).collect())
}

/// Adds entries `<i>-0 f <i>` for every `i` in `range`, pipelined.
async fn fill(c: &mut MultiplexedConnection, key: &str, range: std::ops::RangeInclusive<u64>) {
    let mut pipe = redis::pipe();
    for i in range {
        pipe.cmd("XADD").arg(key).arg(format!("{i}-0")).arg("f").arg(i.to_string());
    }
    let replies: Vec<redis::Value> = pipe.query_async(c).await.expect("pipelined XADD");
    for r in replies {
        assert!(matches!(r, redis::Value::BulkString(_)), "XADD reply {r:?}");
    }
}

/// `<ms>-<seq>` split into numbers; panics if the text is not of that shape.
fn id_parts(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or_else(|| panic!("not an ID: {id:?}"));
    (
        ms.parse().unwrap_or_else(|_| panic!("bad ms in {id:?}")),
        seq.parse().unwrap_or_else(|_| panic!("bad seq in {id:?}")),
    )
}

/// The IDs of an XRANGE-style reply.
fn ids(entries: &Reply) -> Vec<String> {
    entries.array().iter().map(|e| e.array()[0].text()).collect()
}

/// XINFO STREAM as a map from field name to value (RESP2 flat reply).
async fn xinfo(c: &mut MultiplexedConnection, key: &str) -> HashMap<String, Reply> {
    let flat = call(c, &["XINFO", "STREAM", key]).await.array();
    assert!(flat.len() % 2 == 0, "XINFO STREAM reply has an odd length: {flat:?}");
    flat.chunks(2).map(|kv| (kv[0].text(), kv[1].clone())).collect()
}

/// Asserts the stream bookkeeping XSETID sets, as XINFO STREAM shows it.
async fn assert_meta(c: &mut MultiplexedConnection, key: &str, last: &str, max_deleted: &str, added: i64) {
    let info = xinfo(c, key).await;
    assert_eq!(info["last-generated-id"], bulk(last), "last-generated-id of {key}: {info:?}");
    assert_eq!(info["max-deleted-entry-id"], bulk(max_deleted), "max-deleted-entry-id of {key}: {info:?}");
    assert_eq!(info["entries-added"], int(added), "entries-added of {key}: {info:?}");
}

/// Awaits a background call, failing instead of hanging forever.
async fn join(h: tokio::task::JoinHandle<Reply>) -> Reply {
    tokio::time::timeout(Duration::from_secs(20), h).await.expect("blocked call never returned").expect("task")
}

/// XLEN, and a check that the stream's remaining entries are exactly the newest of `1..=total`
/// (entries created by [`fill`]). Returns the length.
async fn assert_newest_kept(c: &mut MultiplexedConnection, key: &str, total: u64) -> u64 {
    let len = call(c, &["XLEN", key]).await.int() as u64;
    assert_eq!(call(c, &["XRANGE", key, "-", "+"]).await, numbered(total - len + 1..=total), "{key} keeps the newest");
    len
}

// ---------------------------------------------------------------------------------------------
// XADD: IDs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xadd_explicit_ids_must_grow() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XADD", "s", "1-1", "f", "v"]).await, bulk("1-1"));
    assert_eq!(call(&mut c, &["XADD", "s", "1-1", "f", "v"]).await, err(XADD_TOP), "equal");
    assert_eq!(call(&mut c, &["XADD", "s", "1-0", "f", "v"]).await, err(XADD_TOP), "smaller seq");
    assert_eq!(call(&mut c, &["XADD", "s", "0-5", "f", "v"]).await, err(XADD_TOP), "smaller ms");
    assert_eq!(call(&mut c, &["XADD", "s", "0-0", "f", "v"]).await, err(XADD_ZERO));
    assert_eq!(call(&mut c, &["XADD", "fresh", "0-0", "f", "v"]).await, err(XADD_ZERO), "0-0 even on a new key");
    assert_eq!(call(&mut c, &["EXISTS", "fresh"]).await, int(0));
    assert_eq!(call(&mut c, &["XADD", "fresh", "0-1", "f", "v"]).await, bulk("0-1"), "0-1 is the smallest ID");
    assert_eq!(call(&mut c, &["XADD", "s", "1-2", "f", "v"]).await, bulk("1-2"));
    assert_eq!(call(&mut c, &["XADD", "s", "3-0", "f", "v"]).await, bulk("3-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "05-01", "f", "v"]).await, bulk("5-1"), "leading zeros are accepted");
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(4));
    assert_eq!(ids(&call(&mut c, &["XRANGE", "s", "-", "+"]).await), vec!["1-1", "1-2", "3-0", "5-1"]);
}

#[tokio::test]
async fn xadd_partial_and_bare_ids() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XADD", "s", "5-*", "f", "v"]).await, bulk("5-0"), "ms-* on an empty stream");
    assert_eq!(call(&mut c, &["XADD", "s", "5-*", "f", "v"]).await, bulk("5-1"), "same ms: next seq");
    assert_eq!(call(&mut c, &["XADD", "s", "5-*", "f", "v"]).await, bulk("5-2"));
    assert_eq!(call(&mut c, &["XADD", "s", "7-*", "f", "v"]).await, bulk("7-0"), "greater ms: seq 0");
    assert_eq!(call(&mut c, &["XADD", "s", "6-*", "f", "v"]).await, err(XADD_TOP), "smaller ms");
    assert_eq!(call(&mut c, &["XADD", "s", "7", "f", "v"]).await, err(XADD_TOP), "bare 7 is 7-0, equal to the top");
    assert_eq!(call(&mut c, &["XADD", "s", "8", "f", "v"]).await, bulk("8-0"), "bare ms means seq 0");
    assert_eq!(call(&mut c, &["XADD", "s", "8-*", "f", "v"]).await, bulk("8-1"));
    assert_eq!(call(&mut c, &["XADD", "z", "0-*", "f", "v"]).await, bulk("0-1"), "0-* skips the forbidden 0-0");
    assert_eq!(call(&mut c, &["XADD", "z", "0-*", "f", "v"]).await, bulk("0-2"));
    assert_eq!(ids(&call(&mut c, &["XRANGE", "s", "-", "+"]).await), vec!["5-0", "5-1", "5-2", "7-0", "8-0", "8-1"]);
}

#[tokio::test]
async fn xadd_auto_ids_are_increasing() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let now_ms = {
        let t = call(&mut c, &["TIME"]).await.strings();
        t[0].parse::<u64>().unwrap() * 1000 + t[1].parse::<u64>().unwrap() / 1000
    };
    let mut last = (0, 0);
    for _ in 0..50 {
        let id = call(&mut c, &["XADD", "s", "*", "f", "v"]).await.text();
        let parts = id_parts(&id);
        assert_eq!(id, format!("{}-{}", parts.0, parts.1), "canonical <ms>-<seq>");
        assert!(parts > last, "{id} after {last:?}");
        assert!(parts.0.abs_diff(now_ms) < 600_000, "{id} is near the server time {now_ms}");
        last = parts;
    }
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(50));
    // After an explicit ID in the future, `*` keeps the ms and increments the seq.
    assert_eq!(call(&mut c, &["XADD", "f", "99999999999999-5", "f", "v"]).await, bulk("99999999999999-5"));
    assert_eq!(call(&mut c, &["XADD", "f", "*", "f", "v"]).await, bulk("99999999999999-6"));
    assert_eq!(call(&mut c, &["XADD", "f", "*", "f", "v"]).await, bulk("99999999999999-7"));
    assert_eq!(call(&mut c, &["XADD", "f", "99999999999999-*", "f", "v"]).await, bulk("99999999999999-8"));
}

#[tokio::test]
async fn xadd_at_the_last_possible_id() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XADD", "s", MAX_ID, "f", "v"]).await, bulk(MAX_ID));
    assert_eq!(call(&mut c, &["XADD", "s", "*", "f", "v"]).await, err(EXHAUSTED));
    assert_eq!(call(&mut c, &["XADD", "s", "18446744073709551615-*", "f", "v"]).await, err(EXHAUSTED));
    assert_eq!(call(&mut c, &["XADD", "s", "1-*", "f", "v"]).await, err(EXHAUSTED), "checked before the ID");
    assert_eq!(call(&mut c, &["XADD", "s", "5-0", "f", "v"]).await, err(EXHAUSTED));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(1));
    assert_eq!(call(&mut c, &["XADD", "t", "18446744073709551615-*", "f", "v"]).await, bulk("18446744073709551615-0"));
    // ms-* when the top item of that ms has the largest seq.
    assert_eq!(call(&mut c, &["XADD", "u", "5-18446744073709551615", "f", "v"]).await, bulk("5-18446744073709551615"));
    assert_eq!(call(&mut c, &["XADD", "u", "5-*", "f", "v"]).await, err(TOO_LARGE));
    assert_eq!(call(&mut c, &["XADD", "u", "6-*", "f", "v"]).await, bulk("6-0"));
}

#[tokio::test]
async fn xadd_rejects_invalid_ids() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for id in [
        "abc",
        "1-x",
        "1-",
        "-1",
        "1-1-1",
        "5-*-1",
        "*-1",
        "1e3",
        "0x10",
        "+",
        "-",
        "$",
        "18446744073709551616",
        "18446744073709551616-*",
        "5-18446744073709551616",
    ] {
        assert_eq!(call(&mut c, &["XADD", "s", id, "f", "v"]).await, err(INVALID_ID), "XADD s {id:?}");
    }
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0), "no stream created by a failed XADD");
}

#[tokio::test]
async fn xadd_field_value_pairs() {
    let s = TestServer::start();
    let mut c = s.client().await;
    for args in [
        &["XADD", "s"][..],
        &["XADD", "s", "1-0"],
        &["XADD", "s", "1-0", "f"],
        &["XADD", "s", "1-0", "f", "v", "g"],
        &["XADD", "s", "*", "f", "v", "g", "w", "h"],
        &["XADD", "s", "MAXLEN", "5"],
        &["XADD", "s", "MAXLEN", "=", "5"],
        &["XADD", "s", "f1", "v1"],
    ] {
        assert_eq!(call(&mut c, args).await, arity_err("xadd"), "{args:?}");
    }
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));
    // Several pairs, duplicated fields and empty strings are kept as given.
    assert_eq!(call(&mut c, &["XADD", "s", "1-0", "a", "1", "b", "2", "a", "3"]).await, bulk("1-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "2-0", "", ""]).await, bulk("2-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "3-0", "f", "x\r\n\0y"]).await, bulk("3-0"));
    assert_eq!(
        call(&mut c, &["XRANGE", "s", "-", "+"]).await,
        arr(vec![
            entry("1-0", &["a", "1", "b", "2", "a", "3"]),
            entry("2-0", &["", ""]),
            entry("3-0", &["f", "x\r\n\0y"])
        ])
    );
    // The empty key name is a valid key.
    assert_eq!(call(&mut c, &["XADD", "", "1-0", "f", "v"]).await, bulk("1-0"));
    assert_eq!(call(&mut c, &["XLEN", ""]).await, int(1));
}

#[tokio::test]
async fn xadd_nomkstream() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XADD", "s", "NOMKSTREAM", "1-0", "f", "v"]).await, nil());
    assert_eq!(call(&mut c, &["XADD", "s", "NOMKSTREAM", "*", "f", "v"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));
    // A null bulk string in RESP2.
    let mut raw = s.raw();
    raw.send(&resp(&["XADD", "s", "NOMKSTREAM", "*", "f", "v"]));
    raw.expect(b"$-1\r\n");
    // Argument errors are still reported for a missing key.
    assert_eq!(call(&mut c, &["XADD", "s", "NOMKSTREAM", "0-0", "f", "v"]).await, err(XADD_ZERO));
    assert_eq!(call(&mut c, &["XADD", "s", "NOMKSTREAM", "abc", "f", "v"]).await, err(INVALID_ID));
    // On an existing stream it adds as usual, with trimming options in any order.
    assert_eq!(call(&mut c, &["XADD", "s", "1-0", "f", "v"]).await, bulk("1-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "NOMKSTREAM", "2-0", "f", "v"]).await, bulk("2-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "nomkstream", "NOMKSTREAM", "3-0", "f", "v"]).await, bulk("3-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "2", "NOMKSTREAM", "4-0", "f", "v"]).await, bulk("4-0"));
    assert_eq!(ids(&call(&mut c, &["XRANGE", "s", "-", "+"]).await), vec!["3-0", "4-0"]);
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XADD", "str", "NOMKSTREAM", "1-0", "f", "v"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// XADD: trimming
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xadd_maxlen_exact() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=10).await;
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "5", "11-0", "f", "11"]).await, bulk("11-0"));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(7..=11));
    assert_eq!(call(&mut c, &["XADD", "s", "maxlen", "=", "3", "12-0", "f", "12"]).await, bulk("12-0"));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(10..=12));
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "100", "13-0", "f", "13"]).await, bulk("13-0"));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(4));
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "9223372036854775807", "14-0", "f", "14"]).await, bulk("14-0"));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(5));
    // MAXLEN 0 trims the new entry too: the stream stays, empty, with its last ID.
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "0", "15-0", "f", "15"]).await, bulk("15-0"));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(1));
    assert_eq!(call(&mut c, &["XADD", "s", "15-0", "f", "15"]).await, err(XADD_TOP));
    // A failed XADD does not trim.
    fill(&mut c, "t", 1..=5).await;
    assert_eq!(call(&mut c, &["XADD", "t", "MAXLEN", "1", "5-0", "f", "v"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XLEN", "t"]).await, int(5));
}

#[tokio::test]
async fn xadd_minid_exact() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=10).await;
    assert_eq!(call(&mut c, &["XADD", "s", "MINID", "7", "11-0", "f", "11"]).await, bulk("11-0"));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(7..=11), "entries below 7-0 evicted");
    assert_eq!(call(&mut c, &["XADD", "s", "minid", "=", "8-1", "12-0", "f", "12"]).await, bulk("12-0"));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(9..=12));
    assert_eq!(call(&mut c, &["XADD", "s", "MINID", "0", "13-0", "f", "13"]).await, bulk("13-0"));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(5));
    // A MINID beyond the new entry empties the stream, which remains.
    assert_eq!(call(&mut c, &["XADD", "s", "MINID", "100", "14-0", "f", "14"]).await, bulk("14-0"));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(1));
}

#[tokio::test]
async fn xadd_approximate_trimming_keeps_at_least_the_threshold() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=300).await;
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "~", "50", "301-0", "f", "301"]).await, bulk("301-0"));
    let len = assert_newest_kept(&mut c, "s", 301).await;
    assert!((50..=301).contains(&len), "MAXLEN ~ 50 left {len}");

    fill(&mut c, "m", 1..=300).await;
    assert_eq!(call(&mut c, &["XADD", "m", "MINID", "~", "250", "301-0", "f", "301"]).await, bulk("301-0"));
    let len = assert_newest_kept(&mut c, "m", 301).await;
    assert!(len >= 52, "MINID ~ 250 must keep 250-0 and later, left {len}");

    // LIMIT caps how many entries one XADD may evict.
    fill(&mut c, "l", 1..=300).await;
    assert_eq!(
        call(&mut c, &["XADD", "l", "MAXLEN", "~", "10", "LIMIT", "100", "301-0", "f", "301"]).await,
        bulk("301-0")
    );
    let len = assert_newest_kept(&mut c, "l", 301).await;
    assert!((201..=301).contains(&len), "MAXLEN ~ 10 LIMIT 100 left {len}");
    assert_eq!(
        call(&mut c, &["XADD", "l", "MINID", "~", "300", "LIMIT", "100", "302-0", "f", "302"]).await,
        bulk("302-0")
    );
    let len2 = assert_newest_kept(&mut c, "l", 302).await;
    let before = len + 1;
    assert!(len2 >= 3 && len2 + 100 >= before, "MINID ~ 300 LIMIT 100 left {len2} of {before}");
}

#[tokio::test]
async fn xadd_trimming_option_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    let cases: &[(&[&str], &str)] = &[
        (&["MAXLEN", "-1"], MAXLEN_NEGATIVE),
        (&["MAXLEN", "~", "-1"], MAXLEN_NEGATIVE),
        (&["MAXLEN", "abc"], NOT_INT),
        (&["MAXLEN", "1.5"], NOT_INT),
        (&["MAXLEN", "9223372036854775808"], NOT_INT),
        (&["MINID", "abc"], INVALID_ID),
        (&["MINID", "~", "1-x"], INVALID_ID),
        (&["MAXLEN", "1", "MINID", "1"], MAXLEN_AND_MINID),
        (&["MINID", "1", "MAXLEN", "1"], MAXLEN_AND_MINID),
        (&["MAXLEN", "1", "MAXLEN", "2"], MAXLEN_AND_MINID),
        (&["MAXLEN", "2", "LIMIT", "10"], LIMIT_WITHOUT_APPROX),
        (&["MAXLEN", "=", "2", "LIMIT", "10"], LIMIT_WITHOUT_APPROX),
        (&["MINID", "2", "LIMIT", "10"], LIMIT_WITHOUT_APPROX),
        (&["LIMIT", "5"], LIMIT_WITHOUT_STRATEGY),
        (&["MAXLEN", "~", "1", "LIMIT", "-1"], LIMIT_NEGATIVE),
        (&["MAXLEN", "~", "1", "LIMIT", "abc"], NOT_INT),
        (&["FOO"], INVALID_ID),
    ];
    for (opts, want) in cases {
        let mut args = vec!["XADD", "s"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["10-0", "f", "v"]);
        assert_eq!(call(&mut c, &args).await, err(want), "{args:?}");
    }
    assert_eq!(call(&mut c, &["XADD", "s", "MAXLEN", "5", "f"]).await, err(INVALID_ID), "the ID slot holds 'f'");
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(1..=3), "nothing changed");
    assert_eq!(call(&mut c, &["XADD", "missing", "MAXLEN", "-1", "1-0", "f", "v"]).await, err(MAXLEN_NEGATIVE));
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
}

// ---------------------------------------------------------------------------------------------
// Type errors, XLEN
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn stream_commands_on_a_string_key_are_wrongtype() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    for args in [
        &["XADD", "str", "1-1", "f", "v"][..],
        &["XADD", "str", "*", "f", "v"],
        &["XLEN", "str"],
        &["XRANGE", "str", "-", "+"],
        &["XREVRANGE", "str", "+", "-"],
        &["XDEL", "str", "1-0"],
        &["XTRIM", "str", "MAXLEN", "1"],
        &["XSETID", "str", "1-0"],
        &["XREAD", "STREAMS", "str", "0"],
        &["XREAD", "COUNT", "1", "STREAMS", "str", "0"],
    ] {
        assert_eq!(call(&mut c, args).await, err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(call(&mut c, &["GET", "str"]).await, bulk("x"), "the string is untouched");
    // A stream is the wrong type for other families.
    assert_eq!(call(&mut c, &["XADD", "s", "1-0", "f", "v"]).await, bulk("1-0"));
    assert_eq!(call(&mut c, &["GET", "s"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["LPUSH", "s", "x"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["HSET", "s", "f", "v"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn wrongtype_and_argument_errors_precedence() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    // Options and IDs are parsed before the key is looked up...
    assert_eq!(call(&mut c, &["XADD", "str", "0-0", "f", "v"]).await, err(XADD_ZERO));
    assert_eq!(call(&mut c, &["XADD", "str", "abc", "f", "v"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XRANGE", "str", "abc", "+"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XTRIM", "str", "MAXLEN", "-1"]).await, err(MAXLEN_NEGATIVE));
    assert_eq!(call(&mut c, &["XSETID", "str", "abc"]).await, err(INVALID_ID));
    // ...except by XDEL and XREAD, which check the type first.
    assert_eq!(call(&mut c, &["XDEL", "str", "abc"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "str", "abc"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn xlen_counts_entries() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XLEN", "missing"]).await, int(0));
    fill(&mut c, "s", 1..=7).await;
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(7));
    assert_eq!(call(&mut c, &["XDEL", "s", "3-0"]).await, int(1));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(6));
    assert_eq!(call(&mut c, &["XLEN"]).await, arity_err("xlen"));
    assert_eq!(call(&mut c, &["XLEN", "s", "t"]).await, arity_err("xlen"));
}

// ---------------------------------------------------------------------------------------------
// XRANGE / XREVRANGE
// ---------------------------------------------------------------------------------------------

/// 1-1 a 1, 2-0 b 2, 5-0 c 3, 5-3 d 4, 6-0 e 5
async fn five_entries(c: &mut MultiplexedConnection) {
    for (id, f, v) in [("1-1", "a", "1"), ("2-0", "b", "2"), ("5-0", "c", "3"), ("5-3", "d", "4"), ("6-0", "e", "5")] {
        assert_eq!(call(c, &["XADD", "s", id, f, v]).await, bulk(id));
    }
}

#[tokio::test]
async fn xrange_full_and_exclusive_bounds() {
    let s = TestServer::start();
    let mut c = s.client().await;
    five_entries(&mut c).await;
    assert_eq!(
        call(&mut c, &["XRANGE", "s", "-", "+"]).await,
        arr(vec![
            entry("1-1", &["a", "1"]),
            entry("2-0", &["b", "2"]),
            entry("5-0", &["c", "3"]),
            entry("5-3", &["d", "4"]),
            entry("6-0", &["e", "5"]),
        ])
    );
    let r = |a: &'static str, b: &'static str| ["XRANGE", "s", a, b];
    let cases: &[([&str; 4], &[&str])] = &[
        (r("(1-1", "+"), &["2-0", "5-0", "5-3", "6-0"]),
        (r("-", "(5-3"), &["1-1", "2-0", "5-0"]),
        (r("(1-1", "(6-0"), &["2-0", "5-0", "5-3"]),
        (r("2-0", "5-0"), &["2-0", "5-0"]),
        (r("5-3", "5-3"), &["5-3"]),
        (r("(5-3", "(5-3"), &[]),
        (r("(5-3", "5-3"), &[]),
        (r("1-2", "1-9"), &[]),
        (r("0-0", MAX_ID), &["1-1", "2-0", "5-0", "5-3", "6-0"]),
        (r("(0", "+"), &["1-1", "2-0", "5-0", "5-3", "6-0"]),
    ];
    for (args, want) in cases {
        assert_eq!(ids(&call(&mut c, args).await), *want, "{args:?}");
    }
}

#[tokio::test]
async fn xrange_incomplete_ids() {
    let s = TestServer::start();
    let mut c = s.client().await;
    five_entries(&mut c).await;
    let r = |a: &'static str, b: &'static str| ["XRANGE", "s", a, b];
    let cases: &[([&str; 4], &[&str])] = &[
        // A bare start is <ms>-0, a bare end is <ms>-18446744073709551615.
        (r("5", "5"), &["5-0", "5-3"]),
        (r("2", "6"), &["2-0", "5-0", "5-3", "6-0"]),
        (r("1", "1"), &["1-1"]),
        (r("3", "4"), &[]),
        // Exclusive bare IDs: after 5-0 / before 5-18446744073709551615.
        (r("(5", "+"), &["5-3", "6-0"]),
        (r("-", "(5"), &["1-1", "2-0", "5-0", "5-3"]),
        (r("(1", "(6"), &["1-1", "2-0", "5-0", "5-3", "6-0"]),
        (r("0", "18446744073709551615"), &["1-1", "2-0", "5-0", "5-3", "6-0"]),
    ];
    for (args, want) in cases {
        assert_eq!(ids(&call(&mut c, args).await), *want, "{args:?}");
    }
}

#[tokio::test]
async fn xrange_count() {
    let s = TestServer::start();
    let mut c = s.client().await;
    five_entries(&mut c).await;
    let ids_of = |r: Reply| ids(&r);
    assert_eq!(ids_of(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "2"]).await), vec!["1-1", "2-0"]);
    assert_eq!(ids_of(call(&mut c, &["XRANGE", "s", "(2-0", "+", "count", "2"]).await), vec!["5-0", "5-3"]);
    assert_eq!(ids_of(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "100"]).await).len(), 5);
    // COUNT 0 or negative: a null array on an existing stream (but an empty array on a missing key).
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "0"]).await, nil());
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "-1"]).await, nil());
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "-9223372036854775808"]).await, nil());
    assert_eq!(call(&mut c, &["XRANGE", "missing", "-", "+", "COUNT", "0"]).await, arr(vec![]));
    let mut raw = s.raw();
    raw.send(&resp(&["XRANGE", "s", "-", "+", "COUNT", "0"]));
    raw.expect(b"*-1\r\n");
    raw.send(&resp(&["XRANGE", "missing", "-", "+", "COUNT", "0"]));
    raw.expect(b"*0\r\n");
    assert_eq!(
        ids_of(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "2"]).await),
        vec!["1-1", "2-0"],
        "the last COUNT wins"
    );
    assert_eq!(ids_of(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "9223372036854775807"]).await).len(), 5);
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "9223372036854775808"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "FOO", "1"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+", "-", "LIMIT", "1"]).await, err(SYNTAX));
}

#[tokio::test]
async fn xrevrange_order_bounds_and_count() {
    let s = TestServer::start();
    let mut c = s.client().await;
    five_entries(&mut c).await;
    assert_eq!(
        call(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "2"]).await,
        arr(vec![entry("6-0", &["e", "5"]), entry("5-3", &["d", "4"])])
    );
    let r = |a: &'static str, b: &'static str| ["XREVRANGE", "s", a, b];
    let cases: &[([&str; 4], &[&str])] = &[
        (r("+", "-"), &["6-0", "5-3", "5-0", "2-0", "1-1"]),
        (r("5", "5"), &["5-3", "5-0"]),
        (r("(6-0", "(1-1"), &["5-3", "5-0", "2-0"]),
        (r("(5", "-"), &["5-3", "5-0", "2-0", "1-1"]),
        (r("+", "(5"), &["6-0", "5-3"]),
        (r("(1-1", "-"), &[]),
        (r("-", "+"), &[]),
        (r("1", "6"), &[]),
    ];
    for (args, want) in cases {
        assert_eq!(ids(&call(&mut c, args).await), *want, "{args:?}");
    }
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "0"]).await, nil());
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "-1"]).await, nil());
    assert_eq!(call(&mut c, &["XREVRANGE", "missing", "+", "-"]).await, arr(vec![]));
}

#[tokio::test]
async fn xrange_empty_results_and_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    five_entries(&mut c).await;
    assert_eq!(call(&mut c, &["XRANGE", "missing", "-", "+"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XRANGE", "s", "+", "-"]).await, arr(vec![]), "reversed range");
    assert_eq!(call(&mut c, &["XRANGE", "s", "6", "5"]).await, arr(vec![]), "reversed range");
    let mut raw = s.raw();
    raw.send(&resp(&["XRANGE", "missing", "-", "+"]));
    raw.expect(b"*0\r\n");
    assert_eq!(call(&mut c, &["XRANGE", "s"]).await, arity_err("xrange"));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-"]).await, arity_err("xrange"));
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+"]).await, arity_err("xrevrange"));
    for (a, b) in [
        ("abc", "+"),
        ("-", "abc"),
        ("(-", "+"),
        ("-", "(+"),
        ("(", "+"),
        ("5-0", "5-"),
        ("5-1", "5-x"),
        ("5-18446744073709551616", "+"),
        ("18446744073709551616", "+"),
        ("*", "+"),
        ("$", "+"),
    ] {
        assert_eq!(call(&mut c, &["XRANGE", "s", a, b]).await, err(INVALID_ID), "XRANGE s {a} {b}");
    }
    // Exclusive bounds that cannot be incremented/decremented.
    assert_eq!(call(&mut c, &["XRANGE", "s", &format!("({MAX_ID}"), "+"]).await, err(INVALID_START));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "(0-0"]).await, err(INVALID_END));
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "(0-0", "-"]).await, err(INVALID_END));
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+", &format!("({MAX_ID}")]).await, err(INVALID_START));
}

// ---------------------------------------------------------------------------------------------
// XDEL
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xdel_counts_deleted_entries() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=5).await;
    assert_eq!(call(&mut c, &["XDEL", "s", "2-0", "9-0", "2-0"]).await, int(1), "missing and repeated IDs");
    assert_eq!(call(&mut c, &["XDEL", "s", "3"]).await, int(1), "a bare ms is <ms>-0");
    assert_eq!(call(&mut c, &["XDEL", "s", "1-0", "3-0", "4-0"]).await, int(2));
    assert_eq!(call(&mut c, &["XDEL", "s", "4-1"]).await, int(0));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(5..=5));
    assert_eq!(call(&mut c, &["XDEL", "missing", "1-0"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
    // Deleting the top item does not lower the last ID.
    assert_eq!(call(&mut c, &["XDEL", "s", "5-0"]).await, int(1));
    assert_eq!(call(&mut c, &["XADD", "s", "5-0", "f", "v"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XADD", "s", "4-0", "f", "v"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XADD", "s", "5-*", "f", "v"]).await, bulk("5-1"));
}

#[tokio::test]
async fn xdel_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    assert_eq!(call(&mut c, &["XDEL", "s"]).await, arity_err("xdel"));
    assert_eq!(call(&mut c, &["XDEL"]).await, arity_err("xdel"));
    assert_eq!(call(&mut c, &["XDEL", "s", "abc"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XDEL", "s", "1-0", "abc"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XDEL", "s", "-"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XDEL", "s", "*"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(3), "an invalid ID deletes nothing");
}

#[tokio::test]
async fn emptied_stream_still_exists() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "a", 1..=3).await;
    assert_eq!(call(&mut c, &["XDEL", "a", "1-0", "2-0", "3-0"]).await, int(3));
    fill(&mut c, "b", 1..=3).await;
    assert_eq!(call(&mut c, &["XTRIM", "b", "MAXLEN", "0"]).await, int(3));
    fill(&mut c, "m", 1..=3).await;
    assert_eq!(call(&mut c, &["XTRIM", "m", "MINID", "10"]).await, int(3));
    for key in ["a", "b", "m"] {
        assert_eq!(call(&mut c, &["EXISTS", key]).await, int(1), "{key}");
        assert_eq!(call(&mut c, &["XLEN", key]).await, int(0), "{key}");
        assert_eq!(call(&mut c, &["TYPE", key]).await, status("stream"), "{key}");
        assert_eq!(call(&mut c, &["OBJECT", "ENCODING", key]).await, bulk("stream"), "{key}");
        assert_eq!(call(&mut c, &["XRANGE", key, "-", "+"]).await, arr(vec![]), "{key}");
        assert_eq!(call(&mut c, &["XREAD", "STREAMS", key, "0"]).await, nil(), "{key}");
        assert_eq!(call(&mut c, &["XADD", key, "3-0", "f", "v"]).await, err(XADD_TOP), "{key} keeps its last ID");
    }
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(3));
    assert_eq!(call(&mut c, &["XADD", "a", "NOMKSTREAM", "4-0", "f", "v"]).await, bulk("4-0"), "the key exists");
}

// ---------------------------------------------------------------------------------------------
// XTRIM
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xtrim_exact() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=10).await;
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN", "8"]).await, int(2));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(3..=10));
    assert_eq!(call(&mut c, &["XTRIM", "s", "maxlen", "=", "6"]).await, int(2));
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN", "100"]).await, int(0));
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN", "6"]).await, int(0));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(5..=10));
    assert_eq!(call(&mut c, &["XTRIM", "s", "MINID", "7"]).await, int(2));
    assert_eq!(call(&mut c, &["XTRIM", "s", "minid", "=", "8-1"]).await, int(2));
    assert_eq!(call(&mut c, &["XTRIM", "s", "MINID", "0"]).await, int(0));
    assert_eq!(call(&mut c, &["XTRIM", "s", "MINID", "9-0"]).await, int(0));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(9..=10));
    // Trimming does not change the last ID.
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN", "0"]).await, int(2));
    assert_eq!(call(&mut c, &["XADD", "s", "10-0", "f", "v"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XTRIM", "missing", "MAXLEN", "0"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
}

#[tokio::test]
async fn xtrim_approximate_and_limit() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=300).await;
    let n = call(&mut c, &["XTRIM", "s", "MAXLEN", "~", "10"]).await.int() as u64;
    let len = assert_newest_kept(&mut c, "s", 300).await;
    assert_eq!(n + len, 300, "reply = entries evicted");
    assert!(len >= 10, "MAXLEN ~ 10 left {len}");

    fill(&mut c, "l", 1..=300).await;
    let n = call(&mut c, &["XTRIM", "l", "MAXLEN", "~", "10", "LIMIT", "150"]).await.int() as u64;
    assert!(n <= 150, "LIMIT 150 evicted {n}");
    let len = assert_newest_kept(&mut c, "l", 300).await;
    assert_eq!(n + len, 300);
    let n2 = call(&mut c, &["XTRIM", "l", "MINID", "~", "290", "LIMIT", "50"]).await.int() as u64;
    assert!(n2 <= 50, "LIMIT 50 evicted {n2}");
    let len2 = assert_newest_kept(&mut c, "l", 300).await;
    assert_eq!(n2 + len2, len);
    assert!(len2 >= 11, "MINID ~ 290 keeps 290-0 and later, left {len2}");

    fill(&mut c, "m", 1..=300).await;
    let n = call(&mut c, &["XTRIM", "m", "MINID", "~", "250"]).await.int() as u64;
    let len = assert_newest_kept(&mut c, "m", 300).await;
    assert_eq!(n + len, 300);
    assert!(len >= 51, "MINID ~ 250 left {len}");
    // Exact trimming afterwards gives exact results whatever `~` did.
    assert_eq!(call(&mut c, &["XTRIM", "m", "MAXLEN", "=", "20"]).await, int(len as i64 - 20));
    assert_eq!(call(&mut c, &["XRANGE", "m", "-", "+"]).await, numbered(281..=300));
}

#[tokio::test]
async fn xtrim_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    assert_eq!(call(&mut c, &["XTRIM", "s"]).await, arity_err("xtrim"));
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN"]).await, arity_err("xtrim"));
    let cases: &[(&[&str], &str)] = &[
        (&["FOO", "1"], SYNTAX),
        (&["MAXLEN", "1", "FOO"], SYNTAX),
        (&["MAXLEN", "1", "1"], SYNTAX),
        (&["MINID", "~", "1", "LIMIT"], SYNTAX),
        (&["MAXLEN", "-1"], MAXLEN_NEGATIVE),
        (&["MAXLEN", "abc"], NOT_INT),
        (&["MINID", "abc"], INVALID_ID),
        (&["MINID", "-"], INVALID_ID),
        (&["MINID", "~"], INVALID_ID),
        (&["MINID", "=", "(8"], INVALID_ID),
        (&["MAXLEN", "1", "MINID", "1"], MAXLEN_AND_MINID),
        (&["LIMIT", "1"], LIMIT_WITHOUT_STRATEGY),
        (&["MAXLEN", "2", "LIMIT", "1"], LIMIT_WITHOUT_APPROX),
        (&["MINID", "=", "2", "LIMIT", "1"], LIMIT_WITHOUT_APPROX),
        (&["MAXLEN", "~", "1", "LIMIT", "-1"], LIMIT_NEGATIVE),
        (&["MAXLEN", "~", "1", "LIMIT", "x"], NOT_INT),
    ];
    for (opts, want) in cases {
        let mut args = vec!["XTRIM", "s"];
        args.extend_from_slice(opts);
        assert_eq!(call(&mut c, &args).await, err(want), "{args:?}");
        args[1] = "missing";
        assert_eq!(call(&mut c, &args).await, err(want), "{args:?}");
    }
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(3));
}

// ---------------------------------------------------------------------------------------------
// XSETID
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xsetid_sets_the_last_id() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    assert_eq!(call(&mut c, &["XSETID", "s", "3-0"]).await, ok(), "equal to the top item");
    assert_eq!(call(&mut c, &["XSETID", "s", "3"]).await, ok(), "bare ms");
    assert_eq!(call(&mut c, &["XSETID", "s", "10-0"]).await, ok());
    assert_eq!(call(&mut c, &["XADD", "s", "10-0", "f", "v"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XADD", "s", "10-*", "f", "v"]).await, bulk("10-1"));
    // It may go back down to the top item, not below.
    assert_eq!(call(&mut c, &["XSETID", "s", "10-5"]).await, ok());
    assert_eq!(call(&mut c, &["XADD", "s", "10-*", "f", "v"]).await, bulk("10-6"));
    assert_eq!(call(&mut c, &["XSETID", "s", "10-6"]).await, ok());
    assert_eq!(call(&mut c, &["XADD", "s", "10-7", "f", "v"]).await, bulk("10-7"));
    assert_eq!(call(&mut c, &["XSETID", "s", "10-6"]).await, err(XSETID_TOP));
    assert_eq!(call(&mut c, &["XSETID", "s", "0-0"]).await, err(XSETID_TOP));
    assert_eq!(call(&mut c, &["XSETID", "s", "20-0"]).await, ok());
    assert_eq!(call(&mut c, &["XADD", "s", "*", "f", "v"]).await.text().split('-').count(), 2);
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(7));
    // An empty stream accepts any ID, even 0-0.
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN", "0"]).await, int(7));
    assert_eq!(call(&mut c, &["XSETID", "s", "0-0"]).await, ok());
    assert_eq!(call(&mut c, &["XADD", "s", "0-*", "f", "v"]).await, bulk("0-1"));
}

#[tokio::test]
async fn xsetid_entriesadded_and_maxdeletedid() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    assert_meta(&mut c, "s", "3-0", "0-0", 3).await;
    assert_eq!(call(&mut c, &["XSETID", "s", "10-0", "ENTRIESADDED", "10", "MAXDELETEDID", "4-0"]).await, ok());
    assert_meta(&mut c, "s", "10-0", "4-0", 10).await;
    assert_eq!(call(&mut c, &["XSETID", "s", "10-0", "entriesadded", "3"]).await, ok(), "equal to the length");
    assert_meta(&mut c, "s", "10-0", "4-0", 3).await;
    assert_eq!(call(&mut c, &["XSETID", "s", "10-0", "MAXDELETEDID", "10-0"]).await, ok(), "equal to the last ID");
    assert_meta(&mut c, "s", "10-0", "10-0", 3).await;
    assert_eq!(call(&mut c, &["XSETID", "s", "12-0", "maxdeletedid", "2-0", "ENTRIESADDED", "5"]).await, ok());
    assert_meta(&mut c, "s", "12-0", "2-0", 5).await;
    assert_eq!(call(&mut c, &["XSETID", "s", "12-0", "ENTRIESADDED", "5", "ENTRIESADDED", "6"]).await, ok());
    assert_meta(&mut c, "s", "12-0", "2-0", 6).await;
    // Later XADDs count on from entries-added; XDEL moves max-deleted-entry-id.
    assert_eq!(call(&mut c, &["XADD", "s", "13-0", "f", "v"]).await, bulk("13-0"));
    assert_eq!(call(&mut c, &["XDEL", "s", "3-0"]).await, int(1));
    assert_meta(&mut c, "s", "13-0", "3-0", 7).await;
    assert_eq!(xinfo(&mut c, "s").await["length"], int(3));
}

#[tokio::test]
async fn xsetid_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    let cases: &[(&[&str], &str)] = &[
        (&["2-0"], XSETID_TOP),
        (&["0-0"], XSETID_TOP),
        (&["10-0", "ENTRIESADDED", "2"], XSETID_ENTRIES),
        (&["10-0", "ENTRIESADDED", "-1"], XSETID_ENTRIES_NEGATIVE),
        (&["10-0", "ENTRIESADDED", "abc"], NOT_INT),
        (&["10-0", "MAXDELETEDID", "11-0"], XSETID_MAXDELETED),
        (&["10-0", "MAXDELETEDID", "abc"], INVALID_ID),
        (&["10-0", "FOO", "1"], SYNTAX),
        (&["10-0", "ENTRIESADDED"], SYNTAX),
        (&["10-0", "MAXDELETEDID"], SYNTAX),
        (&["abc"], INVALID_ID),
        (&["*"], INVALID_ID),
        (&["+"], INVALID_ID),
        (&["-"], INVALID_ID),
        (&["1-x"], INVALID_ID),
    ];
    for (rest, want) in cases {
        let mut args = vec!["XSETID", "s"];
        args.extend_from_slice(rest);
        assert_eq!(call(&mut c, &args).await, err(want), "{args:?}");
    }
    assert_eq!(call(&mut c, &["XSETID", "s"]).await, arity_err("xsetid"));
    assert_eq!(call(&mut c, &["XSETID"]).await, arity_err("xsetid"));
    assert_eq!(call(&mut c, &["XSETID", "missing", "1-0"]).await, err(NO_SUCH_KEY));
    assert_eq!(call(&mut c, &["XSETID", "missing", "1-0", "ENTRIESADDED", "1"]).await, err(NO_SUCH_KEY));
    assert_eq!(call(&mut c, &["XSETID", "missing", "abc"]).await, err(INVALID_ID), "the ID is parsed first");
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
    assert_meta(&mut c, "s", "3-0", "0-0", 3).await;
}

// ---------------------------------------------------------------------------------------------
// XREAD (non-blocking)
// ---------------------------------------------------------------------------------------------

/// a: 1-0 f 1, 2-0 f 2, 3-0 f 3; b: 5-0 g 5
async fn two_streams(c: &mut MultiplexedConnection) {
    fill(c, "a", 1..=3).await;
    assert_eq!(call(c, &["XADD", "b", "5-0", "g", "5"]).await, bulk("5-0"));
}

#[tokio::test]
async fn xread_single_stream() {
    let s = TestServer::start();
    let mut c = s.client().await;
    two_streams(&mut c).await;
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "0"]).await, xread_reply(vec![("a", numbered(1..=3))]));
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "0-0"]).await, xread_reply(vec![("a", numbered(1..=3))]));
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "1-0"]).await, xread_reply(vec![("a", numbered(2..=3))]));
    assert_eq!(
        call(&mut c, &["XREAD", "STREAMS", "a", "2"]).await,
        xread_reply(vec![("a", numbered(3..=3))]),
        "2 is 2-0"
    );
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "1-5"]).await, xread_reply(vec![("a", numbered(2..=3))]));
    assert_eq!(
        call(&mut c, &["XREAD", "count", "2", "streams", "a", "0"]).await,
        xread_reply(vec![("a", numbered(1..=2))])
    );
    for count in ["0", "-1", "-9223372036854775808"] {
        assert_eq!(
            call(&mut c, &["XREAD", "COUNT", count, "STREAMS", "a", "0"]).await,
            xread_reply(vec![("a", numbered(1..=3))]),
            "COUNT {count} means no limit"
        );
    }
    assert_eq!(
        call(&mut c, &["XREAD", "COUNT", "1", "COUNT", "2", "STREAMS", "a", "0"]).await,
        xread_reply(vec![("a", numbered(1..=2))]),
        "the last COUNT wins"
    );
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "3-0"]).await, nil());
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", MAX_ID]).await, nil());
    // Exact RESP2 bytes of a one-entry reply.
    let mut raw = s.raw();
    raw.send(&resp(&["XREAD", "COUNT", "1", "STREAMS", "b", "0"]));
    raw.expect(b"*1\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ng\r\n$1\r\n5\r\n");
}

#[tokio::test]
async fn xread_multiple_streams() {
    let s = TestServer::start();
    let mut c = s.client().await;
    two_streams(&mut c).await;
    let b5 = arr(vec![entry("5-0", &["g", "5"])]);
    assert_eq!(
        call(&mut c, &["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]).await,
        xread_reply(vec![("a", numbered(1..=2)), ("b", b5.clone())]),
        "COUNT applies per stream"
    );
    assert_eq!(
        call(&mut c, &["XREAD", "COUNT", "1", "STREAMS", "a", "b", "1-0", "4"]).await,
        xread_reply(vec![("a", numbered(2..=2)), ("b", b5.clone())])
    );
    assert_eq!(
        call(&mut c, &["XREAD", "STREAMS", "b", "a", "0", "2-0"]).await,
        xread_reply(vec![("b", b5.clone()), ("a", numbered(3..=3))]),
        "streams in the order given"
    );
    // Streams with nothing new are left out of the reply.
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "b", "3-0", "0"]).await, xread_reply(vec![("b", b5.clone())]));
    assert_eq!(
        call(&mut c, &["XREAD", "STREAMS", "missing", "a", "0", "2"]).await,
        xread_reply(vec![("a", numbered(3..=3))])
    );
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "b", "3-0", "5-0"]).await, nil());
    // The same stream twice is served twice.
    assert_eq!(
        call(&mut c, &["XREAD", "STREAMS", "a", "a", "0", "1"]).await,
        xread_reply(vec![("a", numbered(1..=3)), ("a", numbered(2..=3))])
    );
}

#[tokio::test]
async fn xread_dollar_and_missing_keys_reply_nil() {
    let s = TestServer::start();
    let mut c = s.client().await;
    two_streams(&mut c).await;
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "$"]).await, nil(), "$ has nothing new without BLOCK");
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "b", "$", "$"]).await, nil());
    assert_eq!(
        call(&mut c, &["XREAD", "STREAMS", "a", "b", "$", "0"]).await,
        xread_reply(vec![("b", arr(vec![entry("5-0", &["g", "5"])]))])
    );
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "missing", "0"]).await, nil());
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "missing", "$"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
    // A null array in RESP2.
    let mut raw = s.raw();
    raw.send(&resp(&["XREAD", "STREAMS", "a", "$"]));
    raw.expect(b"*-1\r\n");
    raw.send(&resp(&["XREAD", "COUNT", "5", "STREAMS", "missing", "0"]));
    raw.expect(b"*-1\r\n");
}

#[tokio::test]
async fn xread_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    two_streams(&mut c).await;
    let cases: &[(&[&str], Reply)] = &[
        (&["XREAD", "STREAMS", "a"], arity_err("xread")),
        (&["XREAD", "STREAMS"], arity_err("xread")),
        (&["XREAD", "a", "0"], arity_err("xread")),
        (&["XREAD", "STREAMS", "a", "b", "0"], err(UNBALANCED)),
        (&["XREAD", "STREAMS", "a", "b", "c", "0", "0"], err(UNBALANCED)),
        (&["XREAD", "COUNT", "1", "a", "0"], err(SYNTAX)),
        (&["XREAD", "FOO", "STREAMS", "a", "0"], err(SYNTAX)),
        (&["XREAD", "COUNT", "abc", "STREAMS", "a", "0"], err(NOT_INT)),
        (&["XREAD", "COUNT", "STREAMS", "a", "0"], err(NOT_INT)),
        (&["XREAD", "STREAMS", "a", "abc"], err(INVALID_ID)),
        (&["XREAD", "STREAMS", "a", "-"], err(INVALID_ID)),
        (&["XREAD", "STREAMS", "a", "+"], err(INVALID_ID)),
        (&["XREAD", "STREAMS", "a", "(1"], err(INVALID_ID)),
        (&["XREAD", "STREAMS", "a", "*"], err(INVALID_ID)),
        (&["XREAD", "STREAMS", "a", "b", "0", "1-x"], err(INVALID_ID)),
        (&["XREAD", "STREAMS", "a", ">"], err(GT_IN_XREAD)),
        (&["XREAD", "NOACK", "STREAMS", "a", "0"], err(NOACK_IN_XREAD)),
        (&["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"], err(TIMEOUT_NEGATIVE)),
        (&["XREAD", "BLOCK", "abc", "STREAMS", "a", "0"], err(TIMEOUT_NOT_INT)),
        (&["XREAD", "BLOCK", "1.5", "STREAMS", "a", "0"], err(TIMEOUT_NOT_INT)),
    ];
    for (args, want) in cases {
        assert_eq!(call(&mut c, args).await, *want, "{args:?}");
    }
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "str", "0", "0"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XREAD", "STREAMS", "a", "str", "9", "0"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XREAD", "BLOCK", "0", "STREAMS", "str", "$"]).await, err(WRONGTYPE), "never blocks");
}

#[tokio::test]
async fn xread_reply_is_a_map_in_resp3() {
    let s = TestServer::start();
    let mut c = s.client().await;
    two_streams(&mut c).await;
    let mut raw = s.raw();
    assert!(matches!(raw.call(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(
        raw.call(&["XREAD", "COUNT", "1", "STREAMS", "a", "b", "1-0", "4"]),
        Reply::Map(vec![
            (bulk("a"), arr(vec![entry("2-0", &["f", "2"])])),
            (bulk("b"), arr(vec![entry("5-0", &["g", "5"])])),
        ])
    );
    raw.send(&resp(&["XREAD", "STREAMS", "a", "$"]));
    raw.expect(b"_\r\n");
    raw.send(&resp(&["XADD", "missing", "NOMKSTREAM", "*", "f", "v"]));
    raw.expect(b"_\r\n");
    assert_eq!(raw.call(&["XRANGE", "b", "-", "+"]), arr(vec![entry("5-0", &["g", "5"])]));
}

// ---------------------------------------------------------------------------------------------
// XREAD BLOCK across connections
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xread_block_is_woken_by_xadd_with_only_the_new_entry() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    let reader = spawn_call(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "s", "4-0", "f", "4"]).await, bulk("4-0"));
    assert_eq!(join(reader).await, xread_reply(vec![("s", numbered(4..=4))]));
    assert_eq!(blocked_clients(&mut c).await, 0);
    // `$` on a missing key: woken when XADD creates the stream.
    let reader = spawn_call(&s, &["XREAD", "BLOCK", "0", "STREAMS", "new", "$"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "new", "NOMKSTREAM", "1-0", "f", "v"]).await, nil());
    assert_eq!(call(&mut c, &["XADD", "other", "1-0", "f", "v"]).await, bulk("1-0"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(blocked_clients(&mut c).await, 1, "still waiting after writes that add nothing to its stream");
    assert_eq!(call(&mut c, &["XADD", "new", "7-1", "a", "b", "c", "d"]).await, bulk("7-1"));
    assert_eq!(join(reader).await, xread_reply(vec![("new", arr(vec![entry("7-1", &["a", "b", "c", "d"])]))]));
}

#[tokio::test]
async fn xread_block_times_out_with_nil() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    let started = Instant::now();
    assert_eq!(call(&mut c, &["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]).await, nil());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(80) && waited < Duration::from_secs(10), "waited {waited:?}");
    assert_eq!(call(&mut c, &["XREAD", "BLOCK", "100", "STREAMS", "missing", "s", "0", "3-0"]).await, nil());
    let mut raw = s.raw();
    raw.send(&resp(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]));
    raw.expect(b"*-1\r\n");
    // With data available BLOCK returns at once.
    assert_eq!(
        call(&mut c, &["XREAD", "BLOCK", "100", "COUNT", "1", "STREAMS", "s", "0"]).await,
        xread_reply(vec![("s", numbered(1..=1))])
    );
    assert_eq!(
        call(&mut c, &["XREAD", "BLOCK", "0", "STREAMS", "s", "2"]).await,
        xread_reply(vec![("s", numbered(3..=3))])
    );
    assert_eq!(blocked_clients(&mut c).await, 0);
}

#[tokio::test]
async fn xread_block_two_readers_both_receive_the_entry() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=2).await;
    let r1 = spawn_call(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    until_blocked(&mut c, 1).await;
    let r2 = spawn_call(&s, &["XREAD", "COUNT", "10", "BLOCK", "0", "STREAMS", "s", "2-0"]);
    until_blocked(&mut c, 2).await;
    assert_eq!(call(&mut c, &["XADD", "s", "3-0", "f", "3"]).await, bulk("3-0"));
    let want = xread_reply(vec![("s", numbered(3..=3))]);
    assert_eq!(join(r1).await, want);
    assert_eq!(join(r2).await, want);
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(3), "reading consumes nothing");
    assert_eq!(blocked_clients(&mut c).await, 0);
}

#[tokio::test]
async fn xread_block_on_several_streams_is_woken_by_the_second() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s1", 1..=2).await;
    fill(&mut c, "s2", 1..=2).await;
    let reader = spawn_call(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s1", "s2", "missing", "$", "$", "$"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "s2", "3-0", "f", "3"]).await, bulk("3-0"));
    assert_eq!(join(reader).await, xread_reply(vec![("s2", numbered(3..=3))]));

    let reader = spawn_call(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s1", "s2", "2-0", "3-0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "s2", "4-0", "f", "4"]).await, bulk("4-0"));
    assert_eq!(join(reader).await, xread_reply(vec![("s2", numbered(4..=4))]));
}

#[tokio::test]
async fn xread_block_waits_for_an_id_after_the_given_one() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let reader = spawn_call(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s", "100-0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "s", "50-0", "f", "50"]).await, bulk("50-0"));
    assert_eq!(call(&mut c, &["XADD", "s", "100-0", "f", "100"]).await, bulk("100-0"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(blocked_clients(&mut c).await, 1, "entries up to 100-0 do not serve the reader");
    assert_eq!(call(&mut c, &["XADD", "s", "150-0", "f", "150"]).await, bulk("150-0"));
    assert_eq!(join(reader).await, xread_reply(vec![("s", numbered(150..=150))]));
}

#[tokio::test]
async fn xread_block_with_explicit_ids_never_misses_an_entry() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // An entry added between a reader's last read and its next XREAD BLOCK is returned at once.
    fill(&mut c, "s", 1..=2).await;
    let last = ids(&call(&mut c, &["XRANGE", "s", "-", "+"]).await).pop().unwrap();
    assert_eq!(call(&mut c, &["XADD", "s", "3-0", "f", "3"]).await, bulk("3-0"));
    assert_eq!(
        call(&mut c, &["XREAD", "BLOCK", "0", "STREAMS", "s", &last]).await,
        xread_reply(vec![("s", numbered(3..=3))])
    );

    // A consumer looping on XREAD BLOCK with its last ID sees every entry of a concurrent producer.
    const N: u64 = 300;
    let client = s.redis_client();
    let consumer = tokio::spawn(async move {
        let mut c = client.get_multiplexed_async_connection().await.expect("connect");
        let mut last = "3-0".to_string();
        let mut seen = Vec::new();
        while seen.len() < N as usize {
            let reply = call(&mut c, &["XREAD", "COUNT", "7", "BLOCK", "0", "STREAMS", "s", &last]).await;
            let streams = reply.array();
            assert_eq!(streams.len(), 1, "{reply:?}");
            let entries = &streams[0].array()[1];
            let batch = ids(entries);
            assert!(!batch.is_empty() && batch.len() <= 7, "{reply:?}");
            last = batch.last().unwrap().clone();
            seen.extend(batch);
        }
        seen
    });
    let mut p = s.client().await;
    for i in 4..4 + N {
        assert_eq!(call(&mut p, &["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]).await, bulk(format!("{i}-0")));
        if i % 37 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let seen = tokio::time::timeout(Duration::from_secs(30), consumer).await.expect("consumer finished").expect("task");
    let want: Vec<String> = (4..4 + N).map(|i| format!("{i}-0")).collect();
    assert_eq!(seen, want);
}

// ---------------------------------------------------------------------------------------------
// A stream as a key
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn type_encoding_and_key_commands() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=2).await;
    assert_eq!(call(&mut c, &["XDEL", "s", "2-0"]).await, int(1));
    assert_eq!(call(&mut c, &["TYPE", "s"]).await, status("stream"));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "s"]).await, bulk("stream"));
    // COPY keeps entries and the last ID; the copy is independent.
    assert_eq!(call(&mut c, &["COPY", "s", "c"]).await, int(1));
    assert_eq!(call(&mut c, &["COPY", "s", "c"]).await, int(0));
    assert_eq!(call(&mut c, &["XADD", "c", "2-0", "x", "y"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XADD", "c", "3-0", "x", "y"]).await, bulk("3-0"));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(1..=1));
    assert_eq!(ids(&call(&mut c, &["XRANGE", "c", "-", "+"]).await), vec!["1-0", "3-0"]);
    assert_eq!(call(&mut c, &["TYPE", "c"]).await, status("stream"));
    // RENAME moves the stream with its last ID.
    assert_eq!(call(&mut c, &["RENAME", "s", "r"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["XADD", "r", "2-0", "x", "y"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["XRANGE", "r", "-", "+"]).await, numbered(1..=1));
    assert_eq!(call(&mut c, &["XADD", "s", "1-0", "x", "y"]).await, bulk("1-0"), "the old name is a new stream");
    // EXPIRE / PERSIST / expiry.
    assert_eq!(call(&mut c, &["EXPIRE", "r", "100"]).await, int(1));
    let ttl = call(&mut c, &["TTL", "r"]).await.int();
    assert!((90..=100).contains(&ttl), "TTL {ttl}");
    assert_eq!(call(&mut c, &["XADD", "r", "5-0", "f", "v"]).await, bulk("5-0"));
    assert!(call(&mut c, &["TTL", "r"]).await.int() > 0, "XADD keeps the TTL");
    assert_eq!(call(&mut c, &["PERSIST", "r"]).await, int(1));
    assert_eq!(call(&mut c, &["TTL", "r"]).await, int(-1));
    assert_eq!(call(&mut c, &["PEXPIRE", "r", "30"]).await, int(1));
    let mut c2 = s.client().await;
    let gone = eventually(Duration::from_secs(5), || {
        let mut c2 = c2.clone();
        async move { call(&mut c2, &["EXISTS", "r"]).await == int(0) }
    })
    .await;
    assert!(gone, "the stream expired");
    assert_eq!(call(&mut c2, &["XLEN", "r"]).await, int(0));
    assert_eq!(
        call(&mut c2, &["XADD", "r", "1-0", "f", "v"]).await,
        bulk("1-0"),
        "an expired stream is gone with its last ID"
    );
    // DEL and UNLINK.
    assert_eq!(call(&mut c, &["DEL", "r", "c"]).await, int(2));
    assert_eq!(call(&mut c, &["UNLINK", "s"]).await, int(1));
    assert_eq!(call(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(call(&mut c, &["XADD", "c", "1-0", "f", "v"]).await, bulk("1-0"), "a deleted stream starts over");
}

#[tokio::test]
async fn scan_type_stream_finds_streams() {
    let s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s1", 1..=2).await;
    fill(&mut c, "s2", 1..=1).await;
    assert_eq!(call(&mut c, &["XTRIM", "s2", "MAXLEN", "0"]).await, int(1));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert!(make_list(&mut c, "list").await);
    assert_eq!(call(&mut c, &["HSET", "hash", "f", "v"]).await, int(1));
    let mut found = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let r = call(&mut c, &["SCAN", &cursor, "TYPE", "stream", "COUNT", "100"]).await.array();
        found.extend(r[1].strings());
        cursor = r[0].text();
        if cursor == "0" {
            break;
        }
    }
    found.sort();
    assert_eq!(found, vec!["s1", "s2"], "the empty stream is a key too");
    let r = call(&mut c, &["SCAN", "0", "TYPE", "STREAM", "MATCH", "*1", "COUNT", "100"]).await.array();
    assert_eq!(r[1].strings(), vec!["s1"]);
}

#[tokio::test]
async fn big_stream_of_5000_entries() {
    let s = TestServer::start();
    let mut c = s.client().await;
    const N: u64 = 5000;
    fill(&mut c, "s", 1..=N).await;
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(N as i64));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(1..=N));
    assert_eq!(call(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "3"]).await, numbered([5000, 4999, 4998]));
    assert_eq!(call(&mut c, &["XRANGE", "s", "2500", "2510"]).await, numbered(2500..=2510));
    assert_eq!(
        call(&mut c, &["XREVRANGE", "s", "(4001-0", "3990", "COUNT", "5"]).await,
        numbered([4000, 3999, 3998, 3997, 3996])
    );
    // Forward paging with exclusive starts.
    let mut all = Vec::new();
    let mut start = "-".to_string();
    loop {
        let page = ids(&call(&mut c, &["XRANGE", "s", &start, "+", "COUNT", "777"]).await);
        assert!(page.len() <= 777);
        let Some(last) = page.last() else { break };
        start = format!("({last}");
        all.extend(page);
    }
    assert_eq!(all, (1..=N).map(|i| format!("{i}-0")).collect::<Vec<_>>());
    // Backward paging.
    let mut back = Vec::new();
    let mut end = "+".to_string();
    loop {
        let page = ids(&call(&mut c, &["XREVRANGE", "s", &end, "-", "COUNT", "1000"]).await);
        let Some(last) = page.last() else { break };
        end = format!("({last}");
        back.extend(page);
    }
    assert_eq!(back, (1..=N).rev().map(|i| format!("{i}-0")).collect::<Vec<_>>());
    // Deleting every other entry of the first 2000.
    let mut args = vec!["XDEL".to_string(), "s".to_string()];
    args.extend((2..=2000).step_by(2).map(|i| format!("{i}-0")));
    assert_eq!(call(&mut c, &args).await, int(1000));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(4000));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "3"]).await, numbered([1, 3, 5]));
    assert_eq!(
        call(&mut c, &["XRANGE", "s", "1990", "2003"]).await,
        numbered([1991, 1993, 1995, 1997, 1999, 2001, 2002, 2003])
    );
    assert_eq!(
        call(&mut c, &["XREAD", "COUNT", "3", "STREAMS", "s", "1995-0"]).await,
        xread_reply(vec![("s", numbered([1997, 1999, 2001]))])
    );
    // Approximate, then exact trimming.
    let n = call(&mut c, &["XTRIM", "s", "MAXLEN", "~", "1000"]).await.int();
    let len = call(&mut c, &["XLEN", "s"]).await.int();
    assert_eq!(n + len, 4000);
    assert!(len >= 1000, "MAXLEN ~ 1000 left {len}");
    let existing: Vec<u64> = (1..=2000).step_by(2).chain(2001..=N).collect();
    assert_eq!(
        call(&mut c, &["XRANGE", "s", "-", "+"]).await,
        numbered(existing[existing.len() - len as usize..].iter().copied()),
        "the newest entries are kept"
    );
    assert_eq!(call(&mut c, &["XTRIM", "s", "MAXLEN", "=", "10"]).await, int(len - 10));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(10));
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, numbered(4991..=5000));
    assert_eq!(call(&mut c, &["XADD", "s", "5000-0", "f", "v"]).await, err(XADD_TOP));
    assert_eq!(call(&mut c, &["DEL", "s"]).await, int(1));
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(0));
}

#[tokio::test]
async fn streams_survive_a_restart() {
    let mut s = TestServer::start();
    let mut c = s.client().await;
    fill(&mut c, "s", 1..=3).await;
    assert_eq!(call(&mut c, &["XADD", "s", "3-5", "g", "x", "h", "y"]).await, bulk("3-5"));
    assert_eq!(call(&mut c, &["XDEL", "s", "3-5", "2-0"]).await, int(2), "the top item is deleted");
    fill(&mut c, "e", 1..=2).await;
    assert_eq!(call(&mut c, &["XTRIM", "e", "MAXLEN", "0"]).await, int(2));
    assert_eq!(call(&mut c, &["XADD", "f", "99999999999999-5", "f", "v"]).await, bulk("99999999999999-5"));
    fill(&mut c, "big", 1..=1000).await;
    assert_eq!(
        call(&mut c, &["XSETID", "big", "2000-0", "ENTRIESADDED", "1500", "MAXDELETEDID", "1500-0"]).await,
        ok()
    );
    assert_eq!(call(&mut c, &["EXPIRE", "big", "1000"]).await, int(1));
    let before = call(&mut c, &["XRANGE", "s", "-", "+"]).await;
    assert_eq!(ids(&before), vec!["1-0", "3-0"]);
    drop(c);

    s.restart();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XRANGE", "s", "-", "+"]).await, before);
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(2));
    assert_meta(&mut c, "s", "3-5", "3-5", 4).await;
    assert_eq!(call(&mut c, &["XADD", "s", "3-5", "f", "v"]).await, err(XADD_TOP), "the last ID survived");
    let next = call(&mut c, &["XADD", "s", "*", "f", "v"]).await.text();
    assert!(id_parts(&next) > (3, 5), "XADD * after the restart gave {next}");

    assert_eq!(call(&mut c, &["EXISTS", "e"]).await, int(1), "the empty stream survived");
    assert_eq!(call(&mut c, &["XLEN", "e"]).await, int(0));
    assert_eq!(call(&mut c, &["TYPE", "e"]).await, status("stream"));
    assert_eq!(call(&mut c, &["XADD", "e", "2-0", "f", "v"]).await, err(XADD_TOP));

    assert_eq!(call(&mut c, &["XADD", "f", "*", "f", "v"]).await, bulk("99999999999999-6"));

    assert_eq!(call(&mut c, &["XRANGE", "big", "-", "+"]).await, numbered(1..=1000));
    assert_meta(&mut c, "big", "2000-0", "1500-0", 1500).await;
    let ttl = call(&mut c, &["TTL", "big"]).await.int();
    assert!((900..=1000).contains(&ttl), "TTL after the restart {ttl}");
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "big"]).await, bulk("stream"));
}
