//! Stream consumer groups, as Redis 7.0 defines them: XGROUP (CREATE, SETID, DESTROY,
//! CREATECONSUMER, DELCONSUMER, HELP), XREADGROUP (new entries, history, NOACK, blocking),
//! XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO (STREAM, GROUPS, CONSUMERS, HELP), and a
//! consumer-group workflow that survives a restart.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use redis::aio::MultiplexedConnection;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const NO_KEY_XGROUP: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want \
                             to use the MKSTREAM option to create an empty stream automatically.";
const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// One stream entry as XRANGE/XREADGROUP reply it: `[id, [field, value, ...]]`.
fn entry(id: &str, fields: &[&str]) -> Reply {
    arr(vec![bulk(id), bulks(fields)])
}

/// A PEL entry whose message was deleted, as history reads show it: `[id, nil]`.
fn deleted(id: &str) -> Reply {
    arr(vec![bulk(id), nil()])
}

/// The XREADGROUP reply for one stream: `[[key, [entries...]]]`.
fn read1(key: &str, entries: Vec<Reply>) -> Reply {
    arr(vec![arr(vec![bulk(key), arr(entries)])])
}

/// A flat `[name, value, name, value, ...]` reply as a map by name.
fn fields(r: &Reply) -> HashMap<String, Reply> {
    let a = r.array();
    assert!(a.len().is_multiple_of(2), "odd number of elements in {r:?}");
    a.chunks(2).map(|kv| (kv[0].text(), kv[1].clone())).collect()
}

/// The names of a flat `[name, value, ...]` reply, in order.
fn field_names(r: &Reply) -> Vec<String> {
    r.array().chunks(2).map(|kv| kv[0].text()).collect()
}

/// Asserts an XPENDING extended-form reply: ids, owners and delivery counts exactly, idle
/// times as a generous range.
fn assert_pending(r: &Reply, expected: &[(&str, &str, i64)]) {
    let rows = r.array();
    assert_eq!(rows.len(), expected.len(), "pending rows {r:?}");
    for (row, (id, consumer, count)) in rows.iter().zip(expected) {
        let row = row.array();
        assert_eq!(row.len(), 4, "pending row {row:?}");
        assert_eq!(row[0], bulk(id), "id in {row:?}");
        assert_eq!(row[1], bulk(consumer), "consumer in {row:?}");
        let idle = row[2].int();
        assert!((0..10_000).contains(&idle), "idle {idle} in {row:?}");
        assert_eq!(row[3], int(*count), "delivery count in {row:?}");
    }
}

/// The XINFO GROUPS entry of `group`, by name.
async fn group_info(c: &mut MultiplexedConnection, key: &str, group: &str) -> HashMap<String, Reply> {
    let groups = call(c, &["XINFO", "GROUPS", key]).await;
    groups
        .array()
        .iter()
        .map(fields)
        .find(|g| g["name"] == bulk(group))
        .unwrap_or_else(|| panic!("no group {group} in {groups:?}"))
}

/// Adds entries `1-0 .. n-0`, each with field `f` = its number.
async fn add_numbered(c: &mut MultiplexedConnection, key: &str, n: u32) {
    for i in 1..=n {
        let id = format!("{i}-0");
        assert_eq!(call(c, &["XADD", key, &id, "f", &i.to_string()]).await, bulk(&id));
    }
}

fn numbered(i: u32) -> Reply {
    entry(&format!("{i}-0"), &["f", &i.to_string()])
}

// ---------------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xgroup_create_starts_at_dollar_an_explicit_id_or_zero() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "from0", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "from1", "1-0"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "fromtop", "$"]).await, ok());

    assert_eq!(group_info(&mut c, "s", "from0").await["last-delivered-id"], bulk("0-0"));
    assert_eq!(group_info(&mut c, "s", "from1").await["last-delivered-id"], bulk("1-0"));
    assert_eq!(group_info(&mut c, "s", "fromtop").await["last-delivered-id"], bulk("3-0"));

    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "from0", "c", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1), numbered(2), numbered(3)])
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "from1", "c", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(2), numbered(3)])
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "fromtop", "c", "STREAMS", "s", ">"]).await, nil());
    assert_eq!(call(&mut c, &["XADD", "s", "4-0", "f", "4"]).await, bulk("4-0"));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "fromtop", "c", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(4)])
    );
    // Groups are listed by name.
    let names: Vec<Reply> =
        call(&mut c, &["XINFO", "GROUPS", "s"]).await.array().iter().map(|g| fields(g)["name"].clone()).collect();
    assert_eq!(names, vec![bulk("from0"), bulk("from1"), bulk("fromtop")]);
}

#[tokio::test]
async fn xgroup_create_mkstream_busygroup_missing_key_and_wrongtype() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]).await, err(NO_KEY_XGROUP));
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(0));
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    assert_eq!(call(&mut c, &["EXISTS", "s"]).await, int(1));
    assert_eq!(call(&mut c, &["TYPE", "s"]).await, status("stream"));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(0));
    assert_eq!(
        call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await,
        err("BUSYGROUP Consumer Group name already exists")
    );
    assert_eq!(
        call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await,
        err("BUSYGROUP Consumer Group name already exists")
    );
    // MKSTREAM on an existing stream just adds the group; lower-case options work.
    assert_eq!(call(&mut c, &["xgroup", "create", "s", "g2", "0", "mkstream"]).await, ok());
    let info = fields(&call(&mut c, &["XINFO", "STREAM", "s"]).await);
    assert_eq!(info["groups"], int(2));
    assert_eq!(info["length"], int(0));

    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "str", "g", "$"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["GET", "str"]).await, bulk("x"));
}

#[tokio::test]
async fn xgroup_create_entriesread_and_argument_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "1-0", "ENTRIESREAD", "1"]).await, ok());
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["entries-read"], int(1));
    assert_eq!(g["lag"], int(2));
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g2", "2-0", "MKSTREAM", "ENTRIESREAD", "2"]).await, ok());
    let g2 = group_info(&mut c, "s", "g2").await;
    assert_eq!(g2["entries-read"], int(2));
    assert_eq!(g2["lag"], int(1));
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-1"]).await, ok());
    assert_eq!(group_info(&mut c, "s", "g3").await["entries-read"], nil());

    assert_eq!(
        call(&mut c, &["XGROUP", "CREATE", "s", "x", "1-0", "ENTRIESREAD", "-5"]).await,
        err("ERR value for ENTRIESREAD must be positive or -1")
    );
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "x", "1-0", "ENTRIESREAD", "abc"]).await, err(NOT_INT));
    let create_err = err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.");
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "x", "1-0", "ENTRIESREAD"]).await, create_err);
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "x", "1-0", "FOO"]).await, create_err);
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "x", "$", "MKSTREAM", "EXTRA"]).await, create_err);
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "x", "bad"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s"]).await, arity_err("xgroup|create"));
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "x"]).await, arity_err("xgroup|create"));
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "s"]).await.array().len(), 20);
    assert_eq!(
        fields(&call(&mut c, &["XINFO", "STREAM", "s"]).await)["groups"],
        int(3),
        "no failed create added a group"
    );
}

#[tokio::test]
async fn xgroup_setid_moves_the_group_and_sets_entries_read() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(
        call(&mut c, &["XGROUP", "SETID", "s", "g", "0"]).await,
        err("NOGROUP No such consumer group 'g' for key name 's'")
    );
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "1-0", "ENTRIESREAD", "1"]).await, ok());
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("1-0"));
    assert_eq!(g["entries-read"], int(1));
    assert_eq!(g["lag"], int(2));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(2), numbered(3)])
    );
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "0"]).await, ok());
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("0-0"));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1)])
    );
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "$"]).await, ok());
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("3-0"));
    assert_eq!(g["lag"], int(0));
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]).await, nil());
    // SETID leaves the PEL alone.
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await.array()[0], int(3));

    assert_eq!(
        call(&mut c, &["XGROUP", "SETID", "s", "g", "1-0", "ENTRIESREAD", "-2"]).await,
        err("ERR value for ENTRIESREAD must be positive or -1")
    );
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "bad"]).await, err(INVALID_ID));
    assert_eq!(
        call(&mut c, &["XGROUP", "SETID", "s", "nog", "0"]).await,
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "nokey", "g", "0"]).await, err(NO_KEY_XGROUP));
    let setid_err = err("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.");
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "0", "FOO"]).await, setid_err);
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0", "X"]).await, setid_err);
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g"]).await, arity_err("xgroup|setid"));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "str", "g", "0"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn xgroup_destroy_createconsumer_and_delconsumer_replies() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());

    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]).await, int(1));
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]).await, int(0));
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c2"]).await, int(1));
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    assert_eq!(consumers.len(), 2);
    assert_eq!(fields(&consumers[0])["name"], bulk("c1"));
    assert_eq!(fields(&consumers[0])["pending"], int(0));
    assert_eq!(group_info(&mut c, "s", "g").await["consumers"], int(2));

    // DELCONSUMER replies the number of pending messages the consumer had, and drops them.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1), numbered(2)])
    );
    assert_eq!(call(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "c1"]).await, int(2));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await, arr(vec![int(0), nil(), nil(), nil()]));
    assert_eq!(call(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "c1"]).await, int(0), "already gone");
    assert_eq!(call(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "c2"]).await, int(0));
    assert_eq!(call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await, arr(vec![]));
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("2-0"), "the group keeps its position");

    let nogroup = err("NOGROUP No such consumer group 'nog' for key name 's'");
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "nog", "c"]).await, nogroup);
    assert_eq!(call(&mut c, &["XGROUP", "DELCONSUMER", "s", "nog", "c"]).await, nogroup);
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "nokey", "g", "c"]).await, err(NO_KEY_XGROUP));
    assert_eq!(call(&mut c, &["XGROUP", "DELCONSUMER", "nokey", "g", "c"]).await, err(NO_KEY_XGROUP));
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g"]).await, arity_err("xgroup|createconsumer"));
    assert_eq!(call(&mut c, &["XGROUP", "DELCONSUMER", "s", "g"]).await, arity_err("xgroup|delconsumer"));

    // DESTROY: 1 when the group existed, 0 otherwise (no NOGROUP error).
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "s", "g"]).await, int(1));
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "s", "g"]).await, int(0));
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "s", "nog"]).await, int(0));
    assert_eq!(call(&mut c, &["XINFO", "GROUPS", "s"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(3), "the stream stays");
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "nokey", "g"]).await, err(NO_KEY_XGROUP));
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "s"]).await, arity_err("xgroup|destroy"));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "str", "g"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "str", "g", "c"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn xgroup_help_and_unknown_subcommands() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let help = call(&mut c, &["XGROUP", "HELP"]).await;
    let lines = help.array();
    assert!(!lines.is_empty(), "{help:?}");
    assert!(lines[0].text().starts_with("XGROUP <subcommand>"), "{help:?}");
    assert_eq!(call(&mut c, &["XGROUP", "FOO"]).await, err("ERR unknown subcommand 'FOO'. Try XGROUP HELP."));
    assert_eq!(call(&mut c, &["XGROUP", "foo", "s"]).await, err("ERR unknown subcommand 'foo'. Try XGROUP HELP."));
    assert_eq!(call(&mut c, &["XGROUP"]).await, arity_err("xgroup"));
}

// ---------------------------------------------------------------------------------------------
// XREADGROUP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xreadgroup_new_entries_advance_the_group_and_fill_the_pel() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1), numbered(2)])
    );
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("2-0"));
    assert_eq!(g["entries-read"], int(2));
    assert_eq!(g["pending"], int(2));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(3)])
    );
    // A negative COUNT means no limit.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "-1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(4), numbered(5)])
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await, nil(), "nothing new");
    assert_pending(
        &call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await,
        &[("1-0", "c1", 1), ("2-0", "c1", 1), ("3-0", "c2", 1), ("4-0", "c1", 1), ("5-0", "c1", 1)],
    );
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("5-0"));
    assert_eq!(g["entries-read"], int(5));
    assert_eq!(g["lag"], int(0));
    assert_eq!(g["consumers"], int(2));
    // Another group reads independently.
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "other", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "other", "c1", "COUNT", "1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1)])
    );
}

#[tokio::test]
async fn xreadgroup_history_rereads_the_consumers_own_pel() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1), numbered(2)])
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(3)])
    );
    assert_eq!(call(&mut c, &["XDEL", "s", "2-0"]).await, int(1));
    // Only c1's own entries; the deleted one shows as a nil field list.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"]).await,
        read1("s", vec![numbered(1), deleted("2-0")])
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", "0"]).await,
        read1("s", vec![numbered(1)])
    );
    // The ID is exclusive: history after 1-0.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "1-0"]).await,
        read1("s", vec![deleted("2-0")])
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "5-0"]).await, read1("s", vec![]));
    // A consumer without pending entries gets an empty list, not nil.
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"]).await, read1("s", vec![]));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"]).await,
        read1("s", vec![numbered(3)])
    );
    // History reads count as deliveries of the entries that still exist.
    assert_pending(
        &call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await,
        &[("1-0", "c1", 3), ("2-0", "c1", 1), ("3-0", "c2", 2)],
    );
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("3-0"), "history does not move the group");
}

#[tokio::test]
async fn xreadgroup_noack_delivers_without_pending_entries() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "NOACK", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1), numbered(2)])
    );
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await, arr(vec![int(0), nil(), nil(), nil()]));
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("2-0"));
    assert_eq!(g["entries-read"], int(2));
    assert_eq!(g["consumers"], int(1));
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"]).await, read1("s", vec![]));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(3)])
    );
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await.array()[0], int(1));
}

#[tokio::test]
async fn xreadgroup_creates_the_consumer_when_it_is_served() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 1).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]).await, ok());
    // Redis 7.0 creates the consumer only when the read serves the stream (new entries or history).
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "idle1", "STREAMS", "s", ">"]).await, nil());
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "idle2", "BLOCK", "50", "STREAMS", "s", ">"]).await, nil());
    assert_eq!(call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "hist", "STREAMS", "s", "0"]).await, read1("s", vec![]));
    assert_eq!(call(&mut c, &["XADD", "s", "2-0", "f", "2"]).await, bulk("2-0"));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "reader", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(2)])
    );
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    let mut names: Vec<Reply> = consumers.iter().map(|r| fields(r)["name"].clone()).collect();
    names.sort_by_key(|n| n.text());
    assert_eq!(names, vec![bulk("hist"), bulk("reader")]);
}

#[tokio::test]
async fn xreadgroup_over_several_streams_replies_per_stream() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 1).await;
    add_numbered(&mut c, "t", 2).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "t", "g", "0"]).await, ok());
    // A stream without new entries is left out of the reply.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", "t", ">", ">"]).await,
        read1("t", vec![numbered(1)])
    );
    assert_eq!(call(&mut c, &["XADD", "s", "2-0", "f", "2"]).await, bulk("2-0"));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", ">", ">"]).await,
        arr(vec![arr(vec![bulk("s"), arr(vec![numbered(2)])]), arr(vec![bulk("t"), arr(vec![numbered(2)])])])
    );
    // History and new entries mixed: every stream appears in a history read.
    assert_eq!(call(&mut c, &["XADD", "s", "3-0", "f", "3"]).await, bulk("3-0"));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", "s", "0", ">"]).await,
        arr(vec![
            arr(vec![bulk("t"), arr(vec![numbered(1), numbered(2)])]),
            arr(vec![bulk("s"), arr(vec![numbered(3)])])
        ])
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", "3-0", "0"]).await,
        arr(vec![arr(vec![bulk("s"), arr(vec![])]), arr(vec![bulk("t"), arr(vec![numbered(1), numbered(2)])])])
    );
}

#[tokio::test]
async fn xreadgroup_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 1).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"]).await,
        err("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option")
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"]).await,
        err("NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option")
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "nokey", ">"]).await,
        err("NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"),
        "no blocking on a missing group"
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"]).await,
        err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this \
             consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return \
             an empty result set.")
    );
    for bad in ["bad", "+", "-"] {
        assert_eq!(
            call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", bad]).await,
            err(INVALID_ID),
            "{bad}"
        );
    }
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "nokey", ">"]).await,
        err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "COUNT", "abc", "STREAMS", "s", ">"]).await,
        err(NOT_INT)
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "s", ">"]).await,
        err("ERR timeout is negative")
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "abc", "STREAMS", "s", ">"]).await,
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", "s", ">"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"]).await,
        err("ERR Missing GROUP option for XREADGROUP")
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"]).await, arity_err("xreadgroup"));
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"]).await, arity_err("xreadgroup"));
    assert_eq!(
        call(&mut c, &["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"]).await,
        err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
    );
    assert_eq!(
        call(&mut c, &["XREAD", "NOACK", "STREAMS", "s", "0"]).await,
        err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
    );
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"]).await, err(WRONGTYPE));
    // Nothing was delivered by the failed calls.
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await, arr(vec![int(0), nil(), nil(), nil()]));
}

#[tokio::test]
async fn xreadgroup_block_is_woken_by_an_xadd() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    let waiter = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "s", "1-1", "k", "v"]).await, bulk("1-1"));
    assert_eq!(waiter.await.unwrap(), read1("s", vec![entry("1-1", &["k", "v"])]));
    assert_eq!(blocked_clients(&mut c).await, 0);
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await, &[("1-1", "c1", 1)]);
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("1-1"));

    // Blocking over two streams: woken by the one that receives an entry.
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"]).await, ok());
    let waiter = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", "t", ">", ">"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XADD", "t", "5-0", "a", "b"]).await, bulk("5-0"));
    assert_eq!(waiter.await.unwrap(), read1("t", vec![entry("5-0", &["a", "b"])]));
}

#[tokio::test]
async fn one_entry_goes_to_exactly_one_of_two_blocked_consumers() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    let first = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]);
    until_blocked(&mut c, 1).await;
    let second = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "3000", "STREAMS", "s", ">"]);
    until_blocked(&mut c, 2).await;
    assert_eq!(call(&mut c, &["XADD", "s", "1-0", "f", "1"]).await, bulk("1-0"));
    // The first waiter gets the entry; the second stays blocked and times out with nil.
    assert_eq!(first.await.unwrap(), read1("s", vec![numbered(1)]));
    until_blocked(&mut c, 1).await;
    assert_eq!(second.await.unwrap(), nil());
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await, &[("1-0", "c1", 1)]);
}

#[tokio::test]
async fn xreadgroup_block_timeout_replies_nil() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 1).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]).await, ok());
    let started = Instant::now();
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "200", "STREAMS", "s", ">"]).await, nil());
    assert!(started.elapsed() >= Duration::from_millis(190), "waited {:?}", started.elapsed());
    // A history read never blocks.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0"]).await,
        read1("s", vec![])
    );
    // Entries already there are served at once.
    assert_eq!(call(&mut c, &["XGROUP", "SETID", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1)])
    );
    assert_eq!(blocked_clients(&mut c).await, 0);
}

#[tokio::test]
async fn a_blocked_xreadgroup_gets_an_error_when_its_stream_or_group_goes_away() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    let waiter = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["DEL", "s"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), err("UNBLOCKED the stream key no longer exists"));
    assert_eq!(blocked_clients(&mut c).await, 0);

    // Overwritten by a value of another type: the same error.
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    let waiter = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["SET", "s", "x"]).await, ok());
    assert_eq!(waiter.await.unwrap(), err("UNBLOCKED the stream key no longer exists"));
    assert_eq!(call(&mut c, &["DEL", "s"]).await, int(1));

    // The group destroyed under the waiter.
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    let waiter = spawn_call(&s, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "s", "g"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), err("NOGROUP the consumer group this client was blocked on no longer exists"));
    assert_eq!(blocked_clients(&mut c).await, 0);
}

// ---------------------------------------------------------------------------------------------
// XACK and XPENDING
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xack_counts_acknowledged_ids_and_ignores_unknown_ones() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"]).await.array().len(), 1);
    // A repeated ID counts once; IDs not pending are ignored.
    assert_eq!(call(&mut c, &["XACK", "s", "g", "1-0", "9-0", "1-0"]).await, int(1));
    assert_eq!(call(&mut c, &["XACK", "s", "g", "1-0"]).await, int(0));
    assert_eq!(call(&mut c, &["XACK", "s", "g", "2-0", "4-0"]).await, int(2));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await, &[("3-0", "c1", 1), ("5-0", "c2", 1)]);
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    assert_eq!(fields(&consumers[0])["pending"], int(1));
    assert_eq!(fields(&consumers[1])["pending"], int(1));
    // Unknown group or key: 0, not an error.
    assert_eq!(call(&mut c, &["XACK", "s", "nog", "3-0"]).await, int(0));
    assert_eq!(call(&mut c, &["XACK", "nokey", "g", "3-0"]).await, int(0));
    // IDs are all validated before anything is acknowledged.
    assert_eq!(call(&mut c, &["XACK", "s", "g", "bad"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XACK", "s", "g", "3-0", "bad"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await.array()[0], int(2));
    assert_eq!(call(&mut c, &["XACK", "s", "g"]).await, arity_err("xack"));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XACK", "str", "g", "1-0"]).await, err(WRONGTYPE));
    // Acknowledging leaves the stream itself alone.
    assert_eq!(call(&mut c, &["XLEN", "s"]).await, int(5));
    assert_eq!(call(&mut c, &["XACK", "s", "g", "3-0", "5-0"]).await, int(2));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await, arr(vec![int(0), nil(), nil(), nil()]));
}

#[tokio::test]
async fn xpending_summary_counts_bounds_and_consumers() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await, ok());
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await, arr(vec![int(0), nil(), nil(), nil()]));
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    // Consumers are sorted by name; their counts are bulk strings.
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(5), bulk("1-0"), bulk("5-0"), arr(vec![bulks(&["alice", "3"]), bulks(&["bob", "2"])])])
    );
    assert_eq!(call(&mut c, &["XACK", "s", "g", "1-0", "2-0", "5-0"]).await, int(3));
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(2), bulk("3-0"), bulk("4-0"), arr(vec![bulks(&["alice", "2"])])])
    );
}

#[tokio::test]
async fn xpending_extended_form_ranges_consumer_filter_and_idle() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"]).await.array().len(), 1);
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"]).await.array().len(), 1);
    let all = [("1-0", "c1", 2), ("2-0", "c1", 2), ("3-0", "c1", 2), ("4-0", "c2", 1), ("5-0", "c2", 1)];
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await, &all);
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "2"]).await, &all[..2]);
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "3-0", "4-0", "10"]).await, &all[2..4]);
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "(2-0", "(5-0", "10"]).await, &all[2..4]);
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10", "c2"]).await, &all[3..]);
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "2", "+", "1", "c1"]).await, &all[1..2]);
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "-", "+", "10", "nobody"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "-", "+", "0"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "-", "+", "-1"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "6-0", "+", "10"]).await, arr(vec![]));

    // IDLE filters by minimum idle time; set idle times explicitly with XCLAIM IDLE.
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c1", "0", "2-0", "IDLE", "500000", "JUSTID"]).await,
        bulks(&["2-0"])
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "5-0", "IDLE", "900000", "JUSTID"]).await,
        bulks(&["5-0"])
    );
    let idle = call(&mut c, &["XPENDING", "s", "g", "IDLE", "400000", "-", "+", "10"]).await.array();
    assert_eq!(idle.len(), 2, "{idle:?}");
    let ids: Vec<Reply> = idle.iter().map(|r| r.array()[0].clone()).collect();
    assert_eq!(ids, vec![bulk("2-0"), bulk("5-0")]);
    let idle_2 = idle[0].array()[2].int();
    assert!((500_000..510_000).contains(&idle_2), "idle {idle_2}");
    assert_eq!(idle[0].array()[3], int(2), "JUSTID leaves the delivery count");
    let idle_5 = idle[1].array()[2].int();
    assert!((900_000..910_000).contains(&idle_5), "idle {idle_5}");
    let only = call(&mut c, &["XPENDING", "s", "g", "IDLE", "400000", "-", "+", "10", "c2"]).await.array();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].array()[0], bulk("5-0"));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "IDLE", "2000000", "-", "+", "10"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "idle", "0", "-", "+", "10"]).await.array().len(), 5);
}

#[tokio::test]
async fn xpending_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 2).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XPENDING", "s", "nog"]).await, err("NOGROUP No such key 's' or consumer group 'nog'"));
    assert_eq!(
        call(&mut c, &["XPENDING", "nokey", "g"]).await,
        err("NOGROUP No such key 'nokey' or consumer group 'g'")
    );
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "nog", "-", "+", "10"]).await,
        err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "-", "+"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "IDLE", "100000"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "-", "+", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "IDLE", "abc", "-", "+", "10"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "x", "+", "10"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XPENDING", "s", "g", "-", "y", "10"]).await, err(INVALID_ID));
    assert_eq!(call(&mut c, &["XPENDING", "s"]).await, arity_err("xpending"));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XPENDING", "str", "g"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// XCLAIM and XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xclaim_transfers_idle_entries_to_another_consumer() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    // Not idle long enough: nothing claimed.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "3600000", "1-0", "2-0"]).await, arr(vec![]));
    // IDs not pending (4-0 exists but was never delivered, 9-0 does not exist) are skipped.
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "2-0", "9-0", "4-0"]).await,
        arr(vec![numbered(1), numbered(2)])
    );
    assert_pending(
        &call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await,
        &[("1-0", "c2", 2), ("2-0", "c2", 2), ("3-0", "c1", 1)],
    );
    // The claimer is created; the claim resets the idle time.
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    assert_eq!(consumers.len(), 2);
    assert_eq!(fields(&consumers[0])["pending"], int(1));
    assert_eq!(fields(&consumers[1])["name"], bulk("c2"));
    assert_eq!(fields(&consumers[1])["pending"], int(2));
    // JUSTID: ids only, and the delivery count does not change.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c3", "0", "1-0", "JUSTID"]).await, bulks(&["1-0"]));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "1"]).await, &[("1-0", "c3", 2)]);
    // Claiming one's own entry works too.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c1", "0", "3-0"]).await, arr(vec![numbered(3)]));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "3-0", "3-0", "1"]).await, &[("3-0", "c1", 2)]);
    // The group's position does not move.
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("3-0"));
}

#[tokio::test]
async fn xclaim_idle_time_and_retrycount_options() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await.array().len(), 1);

    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "IDLE", "5000", "RETRYCOUNT", "7", "JUSTID"]).await,
        bulks(&["1-0"])
    );
    let rows = call(&mut c, &["XPENDING", "s", "g", "1-0", "1-0", "1"]).await.array();
    let row = rows[0].array();
    assert_eq!(row[1], bulk("c2"));
    assert!((5000..15_000).contains(&row[2].int()), "{row:?}");
    assert_eq!(row[3], int(7));
    // min-idle-time is checked against the idle time set above.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c3", "4000", "1-0"]).await, arr(vec![numbered(1)]));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "1-0", "1-0", "1"]).await, &[("1-0", "c3", 8)]);
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "4000", "1-0"]).await, arr(vec![]), "just claimed: idle ~0");

    // TIME sets the last delivery time as a unix time in milliseconds.
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let past = (now_ms - 100_000).to_string();
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "2-0", "TIME", &past, "JUSTID"]).await, bulks(&["2-0"]));
    let row = call(&mut c, &["XPENDING", "s", "g", "2-0", "2-0", "1"]).await.array()[0].array();
    assert!((95_000..120_000).contains(&row[2].int()), "{row:?}");
    assert_eq!(row[3], int(1));
    // A later option of the two wins.
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "3-0", "TIME", &past, "IDLE", "3000", "JUSTID"]).await,
        bulks(&["3-0"])
    );
    let row = call(&mut c, &["XPENDING", "s", "g", "3-0", "3-0", "1"]).await.array()[0].array();
    assert!((3000..13_000).contains(&row[2].int()), "{row:?}");
    // RETRYCOUNT without JUSTID sets the count exactly (no extra increment).
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c1", "0", "3-0", "RETRYCOUNT", "42"]).await, arr(vec![numbered(3)]));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "3-0", "3-0", "1"]).await, &[("3-0", "c1", 42)]);
}

#[tokio::test]
async fn xclaim_force_and_lastid() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    // FORCE claims entries that exist in the stream but are not pending; not ones that do not exist.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "4-0", "9-0", "FORCE", "JUSTID"]).await, bulks(&["4-0"]));
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "5-0", "FORCE"]).await, arr(vec![numbered(5)]));
    // A FORCE-created entry starts at 1 delivery, and the claim without JUSTID adds one.
    assert_pending(
        &call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await,
        &[("1-0", "c1", 1), ("2-0", "c1", 1), ("4-0", "c2", 1), ("5-0", "c2", 2)],
    );
    assert_eq!(
        group_info(&mut c, "s", "g").await["last-delivered-id"],
        bulk("2-0"),
        "FORCE alone does not move the group"
    );
    // LASTID moves the group's last-delivered-id forward only.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "LASTID", "4-0", "JUSTID"]).await, bulks(&["1-0"]));
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("4-0"));
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "LASTID", "3-0", "JUSTID"]).await, bulks(&["1-0"]));
    assert_eq!(group_info(&mut c, "s", "g").await["last-delivered-id"], bulk("4-0"));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(5)])
    );
    assert_eq!(call(&mut c, &["XPENDING", "s", "g"]).await.array()[0], int(4));
}

#[tokio::test]
async fn xclaim_of_deleted_entries_drops_them_from_the_pel() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await.array().len(), 1);
    assert_eq!(call(&mut c, &["XDEL", "s", "1-0", "3-0"]).await, int(2));
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "2-0", "3-0"]).await, arr(vec![numbered(2)]));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await, &[("2-0", "c2", 2)]);
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(1), bulk("2-0"), bulk("2-0"), arr(vec![bulks(&["c2", "1"])])])
    );
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    assert_eq!(fields(&consumers[0])["name"], bulk("c1"));
    assert_eq!(fields(&consumers[0])["pending"], int(0));
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"]).await, read1("s", vec![]));
}

#[tokio::test]
async fn xclaim_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 1).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await.array().len(), 1);
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "abc", "1-0"]).await,
        err("ERR Invalid min-idle-time argument for XCLAIM")
    );
    // Parsing of IDs stops at the first non-ID, which is then taken as an option.
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "bad"]).await,
        err("ERR Unrecognized XCLAIM option 'bad'")
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "FOO"]).await,
        err("ERR Unrecognized XCLAIM option 'FOO'")
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "IDLE"]).await,
        err("ERR Unrecognized XCLAIM option 'IDLE'"),
        "an option missing its value"
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "IDLE", "abc"]).await,
        err("ERR Invalid IDLE option argument for XCLAIM")
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "TIME", "abc"]).await,
        err("ERR Invalid TIME option argument for XCLAIM")
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "RETRYCOUNT", "abc"]).await,
        err("ERR Invalid RETRYCOUNT option argument for XCLAIM")
    );
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0", "1-0", "LASTID", "bad"]).await, err(INVALID_ID));
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "nog", "c2", "0", "1-0"]).await,
        err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(
        call(&mut c, &["XCLAIM", "nokey", "g", "c2", "0", "1-0"]).await,
        err("NOGROUP No such key 'nokey' or consumer group 'g'")
    );
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c2", "0"]).await, arity_err("xclaim"));
    // Nothing was claimed by the failed calls.
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await, &[("1-0", "c1", 1)]);
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XCLAIM", "str", "g", "c2", "0", "1-0"]).await, err(WRONGTYPE));
}

#[tokio::test]
async fn xautoclaim_scans_the_pel_with_a_cursor() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await.array().len(), 1);
    // Not idle long enough: nothing claimed, cursor done.
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c2", "3600000", "0"]).await,
        arr(vec![bulk("0-0"), arr(vec![]), arr(vec![])])
    );
    assert_eq!(call(&mut c, &["XDEL", "s", "2-0"]).await, int(1));
    // COUNT counts the PEL entries examined, deleted ones included; they are reported and dropped.
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c2", "0", "0", "COUNT", "2"]).await,
        arr(vec![bulk("3-0"), arr(vec![numbered(1)]), bulks(&["2-0"])])
    );
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c2", "0", "3-0", "COUNT", "2", "JUSTID"]).await,
        arr(vec![bulk("5-0"), bulks(&["3-0", "4-0"]), arr(vec![])])
    );
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c2", "0", "5-0", "COUNT", "2"]).await,
        arr(vec![bulk("0-0"), arr(vec![numbered(5)]), arr(vec![])])
    );
    // JUSTID leaves delivery counts; the others were incremented.
    assert_pending(
        &call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await,
        &[("1-0", "c2", 2), ("3-0", "c2", 1), ("4-0", "c2", 1), ("5-0", "c2", 2)],
    );
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    assert_eq!(fields(&consumers[0])["pending"], int(0), "c1 lost everything");
    // Default COUNT (100) takes everything; `-` means the start, `(` is exclusive, `+` finds nothing.
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c3", "0", "-", "JUSTID"]).await,
        arr(vec![bulk("0-0"), bulks(&["1-0", "3-0", "4-0", "5-0"]), arr(vec![])])
    );
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c3", "0", "(1-0", "JUSTID"]).await,
        arr(vec![bulk("0-0"), bulks(&["3-0", "4-0", "5-0"]), arr(vec![])])
    );
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c3", "0", "+"]).await,
        arr(vec![bulk("0-0"), arr(vec![]), arr(vec![])])
    );
    // min-idle-time is honoured per entry: set one entry's idle time with XCLAIM IDLE.
    assert_eq!(
        call(&mut c, &["XCLAIM", "s", "g", "c3", "0", "4-0", "IDLE", "600000", "JUSTID"]).await,
        bulks(&["4-0"])
    );
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c4", "300000", "0"]).await,
        arr(vec![bulk("0-0"), arr(vec![numbered(4)]), arr(vec![])])
    );
    // Deleted entries are dropped from the PEL and reported even when not idle long enough.
    assert_eq!(call(&mut c, &["XDEL", "s", "3-0"]).await, int(1));
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c5", "3600000", "0"]).await,
        arr(vec![bulk("0-0"), arr(vec![]), bulks(&["3-0"])])
    );
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(3), bulk("1-0"), bulk("5-0"), arr(vec![bulks(&["c3", "2"]), bulks(&["c4", "1"])])])
    );
}

#[tokio::test]
async fn xautoclaim_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 1).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    for count in ["0", "-1", "abc"] {
        assert_eq!(
            call(&mut c, &["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", count]).await,
            err("ERR COUNT must be > 0"),
            "COUNT {count}"
        );
    }
    assert_eq!(call(&mut c, &["XAUTOCLAIM", "s", "g", "c", "0", "bad"]).await, err(INVALID_ID));
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "g", "c", "abc", "0"]).await,
        err("ERR Invalid min-idle-time argument for XAUTOCLAIM")
    );
    assert_eq!(call(&mut c, &["XAUTOCLAIM", "s", "g", "c", "0", "0", "FOO"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "s", "nog", "c", "0", "0"]).await,
        err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(
        call(&mut c, &["XAUTOCLAIM", "nokey", "g", "c", "0", "0"]).await,
        err("NOGROUP No such key 'nokey' or consumer group 'g'")
    );
    assert_eq!(call(&mut c, &["XAUTOCLAIM", "s", "g", "c", "0"]).await, arity_err("xautoclaim"));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XAUTOCLAIM", "str", "g", "c", "0", "0"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn xinfo_stream_reports_groups_and_entries() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g2", "$"]).await, ok());
    assert_eq!(call(&mut c, &["XDEL", "s", "5-0"]).await, int(1));
    let reply = call(&mut c, &["XINFO", "STREAM", "s"]).await;
    assert_eq!(
        field_names(&reply),
        [
            "length",
            "radix-tree-keys",
            "radix-tree-nodes",
            "last-generated-id",
            "max-deleted-entry-id",
            "entries-added",
            "recorded-first-entry-id",
            "groups",
            "first-entry",
            "last-entry"
        ]
    );
    let info = fields(&reply);
    assert_eq!(info["length"], int(4));
    assert_eq!(info["last-generated-id"], bulk("5-0"));
    assert_eq!(info["max-deleted-entry-id"], bulk("5-0"));
    assert_eq!(info["entries-added"], int(5));
    assert_eq!(info["recorded-first-entry-id"], bulk("1-0"));
    assert_eq!(info["groups"], int(2));
    assert_eq!(info["first-entry"], numbered(1));
    assert_eq!(info["last-entry"], numbered(4));
    assert_eq!(call(&mut c, &["OBJECT", "ENCODING", "s"]).await, bulk("stream"));
}

#[tokio::test]
async fn xinfo_stream_full_lists_entries_groups_consumers_and_pels() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g2", "$"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    assert_eq!(call(&mut c, &["XDEL", "s", "5-0"]).await, int(1));

    let reply = call(&mut c, &["XINFO", "STREAM", "s", "FULL"]).await;
    assert_eq!(
        field_names(&reply),
        [
            "length",
            "radix-tree-keys",
            "radix-tree-nodes",
            "last-generated-id",
            "max-deleted-entry-id",
            "entries-added",
            "recorded-first-entry-id",
            "entries",
            "groups"
        ]
    );
    let info = fields(&reply);
    assert_eq!(info["length"], int(4));
    assert_eq!(info["last-generated-id"], bulk("5-0"));
    assert_eq!(info["max-deleted-entry-id"], bulk("5-0"));
    assert_eq!(info["entries-added"], int(5));
    assert_eq!(info["recorded-first-entry-id"], bulk("1-0"));
    assert_eq!(info["entries"], arr(vec![numbered(1), numbered(2), numbered(3), numbered(4)]));

    let groups = info["groups"].array();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        field_names(&groups[0]),
        ["name", "last-delivered-id", "entries-read", "lag", "pel-count", "pending", "consumers"]
    );
    let g = fields(&groups[0]);
    assert_eq!(g["name"], bulk("g"));
    assert_eq!(g["last-delivered-id"], bulk("3-0"));
    assert_eq!(g["entries-read"], int(3));
    assert_eq!(g["lag"], nil(), "a deleted entry after last-delivered-id makes lag unknown");
    assert_eq!(g["pel-count"], int(3));
    // Group PEL: [id, consumer, delivery-time, delivery-count].
    let pel = g["pending"].array();
    let expected = [("1-0", "c1"), ("2-0", "c1"), ("3-0", "c2")];
    assert_eq!(pel.len(), 3);
    for (row, (id, consumer)) in pel.iter().zip(expected) {
        let row = row.array();
        assert_eq!(row[0], bulk(id));
        assert_eq!(row[1], bulk(consumer));
        assert!(row[2].int() > 0, "delivery time {row:?}");
        assert_eq!(row[3], int(1));
    }
    let consumers = g["consumers"].array();
    assert_eq!(consumers.len(), 2);
    assert_eq!(field_names(&consumers[0]), ["name", "seen-time", "pel-count", "pending"]);
    let c1 = fields(&consumers[0]);
    assert_eq!(c1["name"], bulk("c1"));
    assert!(c1["seen-time"].int() > 0);
    assert_eq!(c1["pel-count"], int(2));
    // Consumer PEL: [id, delivery-time, delivery-count].
    let c1_pel = c1["pending"].array();
    assert_eq!(c1_pel.len(), 2);
    assert_eq!(c1_pel[0].array()[0], bulk("1-0"));
    assert!(c1_pel[0].array()[1].int() > 0);
    assert_eq!(c1_pel[0].array()[2], int(1));
    assert_eq!(c1_pel[1].array()[0], bulk("2-0"));
    let c2 = fields(&consumers[1]);
    assert_eq!(c2["name"], bulk("c2"));
    assert_eq!(c2["pel-count"], int(1));
    assert_eq!(c2["pending"].array()[0].array()[0], bulk("3-0"));

    let g2 = fields(&groups[1]);
    assert_eq!(g2["name"], bulk("g2"));
    assert_eq!(g2["last-delivered-id"], bulk("5-0"));
    assert_eq!(g2["lag"], int(0));
    assert_eq!(g2["pel-count"], int(0));
    assert_eq!(g2["pending"], arr(vec![]));
    assert_eq!(g2["consumers"], arr(vec![]));

    // COUNT limits the entries and every PEL listing; COUNT 0 means all.
    let info = fields(&call(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT", "1"]).await);
    assert_eq!(info["entries"], arr(vec![numbered(1)]));
    let g = fields(&info["groups"].array()[0]);
    assert_eq!(g["pel-count"], int(3));
    assert_eq!(g["pending"].array().len(), 1);
    let c1 = fields(&g["consumers"].array()[0]);
    assert_eq!(c1["pel-count"], int(2));
    assert_eq!(c1["pending"].array().len(), 1);
    let info = fields(&call(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT", "0"]).await);
    assert_eq!(info["entries"].array().len(), 4);
    assert_eq!(fields(&info["groups"].array()[0])["pending"].array().len(), 3);
}

#[tokio::test]
async fn xinfo_groups_entries_read_and_lag() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 5).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    let reply = call(&mut c, &["XINFO", "GROUPS", "s"]).await;
    assert_eq!(
        field_names(&reply.array()[0]),
        ["name", "consumers", "pending", "last-delivered-id", "entries-read", "lag"]
    );
    let g = fields(&reply.array()[0]);
    assert_eq!(g["name"], bulk("g"));
    assert_eq!(g["consumers"], int(0));
    assert_eq!(g["pending"], int(0));
    assert_eq!(g["last-delivered-id"], bulk("0-0"));
    assert_eq!(g["entries-read"], nil());
    assert_eq!(g["lag"], int(5));

    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!((g["consumers"].clone(), g["pending"].clone()), (int(1), int(2)));
    assert_eq!((g["entries-read"].clone(), g["lag"].clone()), (int(2), int(3)));
    // Deleting an entry the group already read keeps lag known.
    assert_eq!(call(&mut c, &["XDEL", "s", "1-0"]).await, int(1));
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!((g["entries-read"].clone(), g["lag"].clone()), (int(2), int(3)));
    assert_eq!(call(&mut c, &["XADD", "s", "6-0", "f", "6"]).await, bulk("6-0"));
    assert_eq!(group_info(&mut c, "s", "g").await["lag"], int(4));
    // Deleting an entry after the group's position makes lag unknown (nil).
    assert_eq!(call(&mut c, &["XDEL", "s", "4-0"]).await, int(1));
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!((g["entries-read"].clone(), g["lag"].clone()), (int(2), nil()));
    // Reading up to the end makes it known again.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(3), numbered(5), numbered(6)])
    );
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("6-0"));
    assert_eq!((g["entries-read"].clone(), g["lag"].clone()), (int(6), int(0)));
    assert_eq!(call(&mut c, &["XADD", "s", "7-0", "f", "7"]).await, bulk("7-0"));
    assert_eq!(group_info(&mut c, "s", "g").await["lag"], int(1));
    // A group on an empty stream.
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"]).await, ok());
    let g = group_info(&mut c, "e", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("0-0"));
    assert_eq!(g["lag"], int(0));
}

#[tokio::test]
async fn xinfo_consumers_reports_name_pending_and_idle() {
    let s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 3).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"]).await.array().len(),
        1
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]).await.array().len(), 1);
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "carol"]).await, int(1));
    let consumers = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await.array();
    assert_eq!(consumers.len(), 3);
    let expected = [("alice", 1, true), ("bob", 2, true), ("carol", 0, false)];
    for (consumer, (name, pending, served)) in consumers.iter().zip(expected) {
        let f = fields(consumer);
        assert_eq!(f["name"], bulk(name));
        assert_eq!(f["pending"], int(pending));
        let idle = f["idle"].int();
        assert!((0..10_000).contains(&idle), "idle {idle}");
        if s.is_strata() {
            // Strata adds Redis 7.2's `inactive`: -1 for a consumer never served.
            assert_eq!(field_names(consumer), ["name", "pending", "idle", "inactive"]);
            let inactive = f["inactive"].int();
            assert!(if served { (0..10_000).contains(&inactive) } else { inactive == -1 }, "{name}: {inactive}");
        } else {
            assert_eq!(field_names(consumer), ["name", "pending", "idle"], "Redis 7.0 has no 'inactive'");
        }
    }
    assert_eq!(
        call(&mut c, &["XINFO", "CONSUMERS", "s", "nog"]).await,
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(call(&mut c, &["XINFO", "CONSUMERS", "nokey", "g"]).await, err("ERR no such key"));
}

#[tokio::test]
async fn xinfo_help_and_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let help = call(&mut c, &["XINFO", "HELP"]).await;
    let lines = help.strings();
    assert!(lines[0].starts_with("XINFO <subcommand>"), "{help:?}");
    assert!(lines.iter().any(|l| l.starts_with("CONSUMERS")), "{help:?}");
    assert!(lines.iter().any(|l| l.starts_with("GROUPS")), "{help:?}");
    assert!(lines.iter().any(|l| l.starts_with("STREAM")), "{help:?}");

    add_numbered(&mut c, "s", 1).await;
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "nokey"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["XINFO", "GROUPS", "nokey"]).await, err("ERR no such key"));
    assert_eq!(call(&mut c, &["XINFO", "FOO", "s"]).await, err("ERR unknown subcommand 'FOO'. Try XINFO HELP."));
    let stream_err = err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.");
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "s", "FOO"]).await, stream_err);
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "s", "COUNT", "1"]).await, stream_err);
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT"]).await, stream_err);
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT", "abc"]).await, err(NOT_INT));
    assert_eq!(call(&mut c, &["XINFO", "GROUPS", "s", "x"]).await, arity_err("xinfo|groups"));
    assert_eq!(call(&mut c, &["XINFO", "CONSUMERS", "s"]).await, arity_err("xinfo|consumers"));
    assert_eq!(call(&mut c, &["XINFO"]).await, arity_err("xinfo"));
    assert_eq!(call(&mut c, &["SET", "str", "x"]).await, ok());
    assert_eq!(call(&mut c, &["XINFO", "STREAM", "str"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XINFO", "GROUPS", "str"]).await, err(WRONGTYPE));
    assert_eq!(call(&mut c, &["XINFO", "CONSUMERS", "str", "g"]).await, err(WRONGTYPE));
}

// ---------------------------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------------------------

/// On the reference redis-server only: rewrite the AOF (into an RDB preamble) and wait for it.
/// Redis replays XREADGROUP from the AOF as XCLAIM ... LASTID commands, which lose the group's
/// entries-read counter and the delivery counts added by history reads; the rewritten base keeps
/// the whole group state, which is what a restart of Strata must show as well.
async fn snapshot_aof_on_redis(s: &TestServer, c: &mut MultiplexedConnection) {
    if s.is_strata() {
        return;
    }
    assert_eq!(call(c, &["BGREWRITEAOF"]).await, status("Background append only file rewriting started"));
    let done = eventually(Duration::from_secs(20), || {
        let mut c = c.clone();
        async move {
            let info = call(&mut c, &["INFO", "persistence"]).await.text();
            info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
        }
    })
    .await;
    assert!(done, "AOF rewrite did not finish");
}

#[tokio::test]
async fn an_interrupted_consumer_group_workflow_survives_a_restart() {
    let mut s = TestServer::start();
    let mut c = s.client().await;
    add_numbered(&mut c, "s", 6).await;
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(call(&mut c, &["XGROUP", "CREATE", "s", "other", "$"]).await, ok());
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(1), numbered(2)])
    );
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "COUNT", "2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(3), numbered(4)])
    );
    // Re-deliver 1-0 (history) so delivery counts differ.
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", "0"]).await,
        read1("s", vec![numbered(1)])
    );
    assert_eq!(call(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c3"]).await, int(1));
    let before = group_info(&mut c, "s", "g").await;
    assert_eq!(before["last-delivered-id"], bulk("4-0"));
    assert_eq!(before["entries-read"], int(4));
    snapshot_aof_on_redis(&s, &mut c).await;
    drop(c);

    s.restart();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(4), bulk("1-0"), bulk("4-0"), arr(vec![bulks(&["c1", "2"]), bulks(&["c2", "2"])])])
    );
    let rows = call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await;
    let expected = [("1-0", "c1", 2), ("2-0", "c1", 1), ("3-0", "c2", 1), ("4-0", "c2", 1)];
    for (row, (id, consumer, count)) in rows.array().iter().zip(expected) {
        let row = row.array();
        assert_eq!((row[0].clone(), row[1].clone(), row[3].clone()), (bulk(id), bulk(consumer), int(count)));
        assert!(row[2].int() >= 0, "idle {row:?}");
    }
    assert_eq!(rows.array().len(), 4);
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("4-0"));
    assert_eq!(g["entries-read"], int(4));
    assert_eq!(g["lag"], int(2));
    assert_eq!(g["pending"], int(4));
    let other = group_info(&mut c, "s", "other").await;
    assert_eq!(other["last-delivered-id"], bulk("6-0"));
    assert_eq!(other["pending"], int(0));
    let names: Vec<Reply> = call(&mut c, &["XINFO", "CONSUMERS", "s", "g"])
        .await
        .array()
        .iter()
        .map(|r| fields(r)["name"].clone())
        .collect();
    assert!(names.contains(&bulk("c1")) && names.contains(&bulk("c2")), "{names:?}");

    // Work continues: claim c1's entries by another consumer, ack, and read on.
    assert_eq!(call(&mut c, &["XCLAIM", "s", "g", "c3", "0", "1-0", "2-0"]).await, arr(vec![numbered(1), numbered(2)]));
    assert_pending(&call(&mut c, &["XPENDING", "s", "g", "-", "+", "2"]).await, &[("1-0", "c3", 3), ("2-0", "c3", 2)]);
    assert_eq!(call(&mut c, &["XACK", "s", "g", "1-0", "2-0", "3-0"]).await, int(3));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(5), numbered(6)])
    );
    assert_pending(
        &call(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await,
        &[("4-0", "c2", 1), ("5-0", "c2", 1), ("6-0", "c2", 1)],
    );
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("6-0"));
    assert_eq!(g["entries-read"], int(6));
    assert_eq!(g["lag"], int(0));

    // And the new state survives a second restart.
    snapshot_aof_on_redis(&s, &mut c).await;
    drop(c);
    s.restart();
    let mut c = s.client().await;
    assert_eq!(
        call(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(3), bulk("4-0"), bulk("6-0"), arr(vec![bulks(&["c2", "3"])])])
    );
    assert_eq!(call(&mut c, &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"]).await, nil());
    let g = group_info(&mut c, "s", "g").await;
    assert_eq!(g["last-delivered-id"], bulk("6-0"));
    assert_eq!(g["entries-read"], int(6));
    assert_eq!(call(&mut c, &["XADD", "s", "7-0", "f", "7"]).await, bulk("7-0"));
    assert_eq!(group_info(&mut c, "s", "g").await["lag"], int(1));
    assert_eq!(
        call(&mut c, &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]).await,
        read1("s", vec![numbered(7)])
    );
}
