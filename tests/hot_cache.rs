//! The hot cache never serves stale data: a seeded randomized run mixing every write path
//! (strings, keyspace commands, hashes, sets, lists, sorted sets, SORT … STORE, MULTI/EXEC with
//! passing and failing WATCH, scripts, expiry lazy and active, SWAPDB, FLUSHDB, FLUSHALL) with
//! reads of every kind, each compared with a client-side model (`hot_cache/model.rs`).
//!
//! Several writers run at once, each owning a few key names in every database so its model is
//! exact and checks each of its replies. Readers (and the writers, now and then) read keys of
//! other writers, racing the cache fills of those reads against the writes; every odd phase
//! most commands aim at one key per writer, which readers follow. What a reader sees must be a
//! state in the owner's history (`hot_cache/history.rs`), never older than one it saw before,
//! than one the server acknowledged before the read was sent, or than the other effects of an
//! operation it already saw one effect of. Database-wide commands run between phases while
//! every client waits. At the end the whole model is compared with the server, then again
//! after a restart (cold cache, data from disk). Two focused races at the end of this file hit
//! the windows the randomized run found thousands of times.
//!
//! Runs with the cache off, tiny (constant eviction) and large, Strata with four network
//! threads so commands really overlap (`HOT_CACHE_IO_THREADS=1` runs them one at a time); and
//! against the reference redis-server (`STRATA_TEST_TARGET=redis`), which validates the model.
//! `HOT_CACHE_SEED=<n>` replays a seed (the interleaving of clients still varies).

#[path = "hot_cache/clients.rs"]
mod clients;
#[path = "hot_cache/collections.rs"]
mod collections;
mod common;
#[path = "hot_cache/exec.rs"]
mod exec;
#[path = "hot_cache/gen.rs"]
mod gen;
#[path = "hot_cache/history.rs"]
mod history;
#[path = "hot_cache/model.rs"]
mod model;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clients::{run_reader, run_writer, Conn};
use common::{RawConn, Reply, TestServer};
use gen::Rng;
use history::Owner;
use model::{normalize, read, show, DBS, SLACK_MS};

pub const WRITERS: usize = 3;
pub const READERS: usize = 2;
pub const KEYS_PER_WRITER: usize = 6;
pub const PHASES: usize = 8;
pub const OPS_PER_PHASE: usize = 100;
/// Deadlines closer than this are "short": writers wait them out instead of guessing.
pub const SHORT_MS: i64 = 60_000;

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn args(cmd: &[&str]) -> Vec<String> {
    cmd.iter().map(|s| s.to_string()).collect()
}

/// A barrier every thread passes between phases; it opens for good when a thread panics, so
/// the others stop instead of waiting forever.
pub struct Gate {
    pub state: Mutex<(usize, u64)>,
    pub cv: Condvar,
    pub parties: usize,
    pub aborted: AtomicBool,
}

impl Gate {
    /// False when the run was aborted.
    pub fn wait(&self) -> bool {
        let mut g = lock(&self.state);
        g.0 += 1;
        if g.0 == self.parties {
            *g = (0, g.1 + 1);
            self.cv.notify_all();
            return !self.aborted.load(SeqCst);
        }
        let gen = g.1;
        while g.1 == gen && !self.aborted.load(SeqCst) {
            g = self.cv.wait_timeout(g, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
        !self.aborted.load(SeqCst)
    }
}

/// Marks the run aborted when the thread holding it panics.
pub struct AbortOnPanic<'a>(pub &'a Gate);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.aborted.store(true, SeqCst);
            self.0.cv.notify_all();
        }
    }
}

#[derive(Default)]
pub struct Stats {
    pub ops: AtomicU64,
    pub own_checks: AtomicU64,
    pub foreign_reads: AtomicU64,
    pub short_ttls: AtomicU64,
    pub watch_fails: AtomicU64,
    pub actively_expired: AtomicU64,
    pub global_ops: AtomicU64,
}

pub struct Ctx {
    pub seed: u64,
    pub port: u16,
    pub owners: Vec<Mutex<Owner>>,
    pub keys: Vec<Vec<String>>,
    pub gate: Gate,
    pub writers_done: AtomicUsize,
    pub stats: Stats,
    /// Counts acknowledged commands: orders acknowledgements before the reads that follow.
    pub tick: AtomicU64,
}

impl Ctx {
    /// A new tick for a command the server just acknowledged.
    pub fn acked(&self) -> u64 {
        self.tick.fetch_add(1, SeqCst) + 1
    }
}

impl Ctx {
    pub fn fail(&self, what: String) -> ! {
        panic!("{what}\n(seed {seed}: rerun with HOT_CACHE_SEED={seed})", seed = self.seed)
    }
}

/// Locks every owner (all clients are paused), waits out every short deadline and drops the
/// expired keys from the models.
fn settle_all(ctx: &Ctx) -> Vec<MutexGuard<'_, Owner>> {
    let mut owners: Vec<MutexGuard<'_, Owner>> = ctx.owners.iter().map(lock).collect();
    settle(&mut owners);
    owners
}

fn settle(owners: &mut [MutexGuard<'_, Owner>]) {
    if let Some(hi) = owners.iter().filter_map(|o| o.short_deadline()).max() {
        let wait = hi + SLACK_MS + 1 - now_ms();
        if wait > 0 {
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
    }
    owners.iter_mut().for_each(|o| o.purge());
}

/// Gives a few keys a deadline of a few milliseconds that nobody reads past: only active expiry
/// can remove them before [`check_keyspace`] counts.
fn expire_some(ctx: &Ctx, conn: &mut Conn, rng: &mut Rng, owners: &mut [MutexGuard<'_, Owner>]) {
    for _ in 0..3 {
        let o = rng.below(WRITERS);
        let db = rng.below(DBS);
        let key = rng.pick(&ctx.keys[o]).clone();
        if owners[o].model.dbs[db].get(&key).is_none_or(|e| e.exp.is_some()) {
            continue;
        }
        conn.select(db);
        let ms = rng.range(1, 5);
        let (got, sent, recv) = conn.timed(&args(&["PEXPIRE", &key, &ms.to_string()]));
        if got != Reply::Int(1) {
            ctx.fail(format!("db {db}: PEXPIRE {key} {ms} -> {}", show(&got)));
        }
        let owner = &mut owners[o];
        if let Some(e) = owner.model.dbs[db].get_mut(&key) {
            e.exp = Some(model::Exp { lo: sent + ms, hi: recv + ms });
        }
        owner.model.dirty.insert((db, key.clone()));
        owner.publish(format!("PEXPIRE {key} {ms} (between phases)"));
        owner.ack(ctx.acked());
    }
}

fn call_ok(ctx: &Ctx, conn: &mut Conn, cmd: &[&str], want: Reply) {
    let got = conn.raw.call(cmd);
    if got != want {
        ctx.fail(format!("{cmd:?}: expected {want:?}, got {got:?}"));
    }
}

/// DBSIZE must come down to the model's count without any client touching the expired keys
/// (active expiry), and KEYS must list exactly the model's keys.
fn check_keyspace(ctx: &Ctx, conn: &mut Conn, owners: &[MutexGuard<'_, Owner>]) {
    for db in 0..DBS {
        conn.select(db);
        let mut want: Vec<String> = owners.iter().flat_map(|o| o.model.dbs[db].keys().cloned()).collect();
        want.sort();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut first = None;
        loop {
            let n = conn.raw.call(&["DBSIZE"]).int() as usize;
            first.get_or_insert(n);
            if n == want.len() {
                break;
            }
            if n < want.len() || Instant::now() > deadline {
                ctx.fail(format!("db {db}: DBSIZE {n}, the model has {} keys: {want:?}", want.len()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let expired = first.unwrap_or(0).saturating_sub(want.len());
        ctx.stats.actively_expired.fetch_add(expired as u64, SeqCst);
        let mut keys = conn.raw.call(&["KEYS", "*"]).strings();
        keys.sort();
        if keys != want {
            ctx.fail(format!("db {db}: KEYS * = {keys:?}, the model has {want:?}"));
        }
    }
}

/// Every key of every writer in every database, in full, against the models.
fn compare_all(ctx: &Ctx, conn: &mut Conn, owners: &[MutexGuard<'_, Owner>], when: &str) {
    for (o, owner) in owners.iter().enumerate() {
        for db in 0..DBS {
            conn.select(db);
            for key in &ctx.keys[o] {
                let state = owner.model.dbs[db].get(key);
                let full = match state.map(|e| e.val.type_name()) {
                    Some("hash") => args(&["HGETALL", key]),
                    Some("set") => args(&["SMEMBERS", key]),
                    Some("list") => args(&["LRANGE", key, "0", "-1"]),
                    Some("zset") => args(&["ZRANGE", key, "0", "-1", "WITHSCORES"]),
                    _ => args(&["GET", key]),
                };
                for cmd in [args(&["TYPE", key]), full, args(&["PTTL", key])] {
                    let (got, sent, recv) = conn.timed(&cmd);
                    let got = normalize(&cmd, got);
                    let want = read(state, &cmd);
                    if !want.accepts(&got, sent, recv) {
                        ctx.fail(format!("{when}, db {db}: {cmd:?} -> {}, the model says {want:?}", show(&got)));
                    }
                }
            }
        }
    }
}

/// SWAPDB, FLUSHDB or FLUSHALL (or nothing) while every client waits, applied to every model.
fn global_op(ctx: &Ctx, conn: &mut Conn, rng: &mut Rng, owners: &mut [MutexGuard<'_, Owner>]) {
    let flush = |owners: &mut [MutexGuard<'_, Owner>], db: usize| {
        for o in owners.iter_mut() {
            let keys: Vec<String> = o.model.dbs[db].keys().cloned().collect();
            for k in keys {
                o.model.remove_in(db, &k);
            }
        }
    };
    let what = match rng.below(10) {
        0..=4 => {
            call_ok(ctx, conn, &["SWAPDB", "0", "1"], common::ok());
            for (o, owner) in owners.iter_mut().enumerate() {
                for k in &ctx.keys[o] {
                    owner.model.dirty.extend((0..DBS).map(|db| (db, k.clone())));
                }
                owner.model.dbs.swap(0, 1);
            }
            "SWAPDB 0 1".to_string()
        }
        5..=7 => {
            let db = rng.below(DBS);
            conn.select(db);
            call_ok(ctx, conn, &["FLUSHDB"], common::ok());
            flush(owners, db);
            format!("FLUSHDB in db {db}")
        }
        8 => {
            call_ok(ctx, conn, &["FLUSHALL"], common::ok());
            (0..DBS).for_each(|db| flush(owners, db));
            "FLUSHALL".to_string()
        }
        _ => return,
    };
    let tick = ctx.acked();
    owners.iter_mut().for_each(|o| {
        o.publish(format!("{what} (between phases)"));
        o.ack(tick);
    });
    ctx.stats.global_ops.fetch_add(1, SeqCst);
}

/// A field of `INFO hot_cache`.
fn cache_stat(conn: &mut Conn, field: &str) -> u64 {
    let info = conn.raw.call(&["INFO", "hot_cache"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in INFO hot_cache:\n{info}"))
}

/// Strata with `hot-cache-size` and several network threads (with the default one, commands
/// never run at the same time and a read's cache fill could never race a write;
/// HOT_CACHE_IO_THREADS=1 runs them one at a time), or redis-server.
fn start_server(cache_size: u64) -> TestServer {
    if common::target_is_redis() {
        return TestServer::start();
    }
    let threads = std::env::var("HOT_CACHE_IO_THREADS").unwrap_or_else(|_| "4".into());
    TestServer::start_with(&["--hot-cache-size", &cache_size.to_string(), "--io-threads", &threads])
}

fn run(cache_size: u64) {
    let seed = match std::env::var("HOT_CACHE_SEED") {
        Ok(s) => s.parse().expect("HOT_CACHE_SEED is a number"),
        Err(_) => SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64),
    };
    println!("hot cache test: seed {seed} (HOT_CACHE_SEED={seed}), hot-cache-size {cache_size}");
    let mut server = start_server(cache_size);
    let ctx = Ctx {
        seed,
        port: server.port,
        owners: (0..WRITERS).map(|_| Mutex::default()).collect(),
        keys: (0..WRITERS).map(|w| (0..KEYS_PER_WRITER).map(|i| format!("w{w}:{i}")).collect()).collect(),
        gate: Gate {
            state: Mutex::new((0, 0)),
            cv: Condvar::new(),
            parties: WRITERS + READERS + 1,
            aborted: AtomicBool::new(false),
        },
        writers_done: AtomicUsize::new(0),
        stats: Stats::default(),
        tick: AtomicU64::new(0),
    };
    let mut conn = Conn::new(server.port);
    let mut rng = Rng::new(seed ^ 0x3000);
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let ctx = &ctx;
            s.spawn(move || run_writer(ctx, w));
        }
        for r in 0..READERS {
            let ctx = &ctx;
            s.spawn(move || run_reader(ctx, r));
        }
        let _guard = AbortOnPanic(&ctx.gate);
        for phase in 0..PHASES {
            if !ctx.gate.wait() {
                return;
            }
            ctx.writers_done.store(0, SeqCst);
            let mut owners = settle_all(&ctx);
            expire_some(&ctx, &mut conn, &mut rng, &mut owners);
            settle(&mut owners);
            check_keyspace(&ctx, &mut conn, &owners);
            if phase + 1 < PHASES {
                global_op(&ctx, &mut conn, &mut rng, &mut owners);
            }
            drop(owners);
            if !ctx.gate.wait() {
                return;
            }
        }
    });
    assert!(!ctx.gate.aborted.load(SeqCst), "a client failed (seed {seed}); see its panic above");

    let owners = settle_all(&ctx);
    compare_all(&ctx, &mut conn, &owners, "after the run");
    if server.is_strata() {
        let (hits, evictions) = (cache_stat(&mut conn, "hot_cache_hits"), cache_stat(&mut conn, "hot_cache_evictions"));
        println!("hot cache: {hits} hits, {evictions} evictions");
        if cache_size == 0 {
            assert_eq!(hits, 0, "the cache is off");
        } else {
            assert!(hits > 0, "the run never hit the cache: it would prove nothing");
        }
        if cache_size > 0 && cache_size <= 256 * 1024 {
            assert!(evictions > 0, "the tiny cache never evicted");
        }
    }
    server.restart();
    let mut conn = Conn::new(server.port);
    compare_all(&ctx, &mut conn, &owners, "after a restart");
    check_keyspace(&ctx, &mut conn, &owners);

    let st = &ctx.stats;
    println!(
        "{} writer ops, {} own replies checked, {} foreign reads, {} short TTLs, {} WATCH failures, \
         {} keys expired actively, {} database-wide commands",
        st.ops.load(SeqCst),
        st.own_checks.load(SeqCst),
        st.foreign_reads.load(SeqCst),
        st.short_ttls.load(SeqCst),
        st.watch_fails.load(SeqCst),
        st.actively_expired.load(SeqCst),
        st.global_ops.load(SeqCst),
    );
}

#[test]
fn cache_off_never_serves_stale_data() {
    run(0);
}

#[test]
/// 64 KiB over 64 shards: 1 KiB a shard, a handful of entries each (an entry above a quarter
/// of its shard is not cached at all, so 16 KiB would cache nothing): constant eviction.
fn tiny_cache_never_serves_stale_data() {
    run(64 * 1024);
}

#[test]
fn large_cache_never_serves_stale_data() {
    run(64 << 20);
}

// ---- Focused races ------------------------------------------------------------------------
// Each loops one writer against readers on a couple of keys, so a window that the randomized
// run hits only now and then is hit thousands of times.

/// Runs `write` `rounds` times on one connection while `readers` connections call `read`
/// until it is done; returns every reply the readers got (distinct, with counts).
fn race(server: &TestServer, rounds: usize, write: &[&[&str]], read: &[&str]) -> Vec<(Reply, usize)> {
    let done = AtomicBool::new(false);
    let seen = Mutex::new(Vec::<(Reply, usize)>::new());
    std::thread::scope(|s| {
        for _ in 0..READERS {
            s.spawn(|| {
                let mut c = RawConn::connect(server.port);
                while !done.load(SeqCst) {
                    let r = c.call(read);
                    let mut seen = lock(&seen);
                    match seen.iter_mut().find(|(x, _)| *x == r) {
                        Some((_, n)) => *n += 1,
                        None => seen.push((r, 1)),
                    }
                }
            });
        }
        let mut c = RawConn::connect(server.port);
        for _ in 0..rounds {
            for cmd in write {
                let r = c.call(cmd);
                assert!(!r.is_err(), "{cmd:?} -> {r:?}");
            }
        }
        done.store(true, SeqCst);
    });
    seen.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn show_counts(seen: &[&(Reply, usize)]) -> String {
    seen.iter().map(|(r, n)| format!("{} ×{n}", show(r))).collect::<Vec<_>>().join(", ")
}

/// A transaction is atomic for other clients too: nobody reads a state from its middle, even
/// while the cache takes in its writes.
#[test]
fn transactions_never_show_their_middle() {
    let server = start_server(64 << 20);
    let tx: &[&[&str]] = &[
        &["MULTI"],
        &["SET", "s", "middle"],
        &["DEL", "z"],
        &["ZADD", "z", "1", "a"],
        &["SET", "s", "done"],
        &["ZADD", "z", "2", "b", "3", "c"],
        &["EXEC"],
    ];
    // Once first, so that between transactions s is always "done" and z has 3 members.
    let mut c = RawConn::connect(server.port);
    for cmd in tx {
        assert!(!c.call(cmd).is_err(), "{cmd:?}");
    }
    let strings = race(&server, 1500, tx, &["GET", "s"]);
    let bad: Vec<_> = strings.iter().filter(|(r, _)| *r != common::bulk("done")).collect();
    assert!(bad.is_empty(), "GET saw states inside MULTI/EXEC: {}", show_counts(&bad));
    let sizes = race(&server, 1500, tx, &["ZCARD", "z"]);
    let bad: Vec<_> = sizes.iter().filter(|(r, _)| *r != Reply::Int(3)).collect();
    assert!(bad.is_empty(), "ZCARD saw states inside MULTI/EXEC (3 between them): {}", show_counts(&bad));
}

/// A read of a collection is one state of it: member "a" is always there while "b" comes and
/// goes, so ZRANGE answers [a] or [b, a] and never [b]; with the cache off and on.
#[test]
fn collection_reads_never_mix_two_states() {
    for cache in [0, 64 << 20] {
        let server = start_server(cache);
        let mut c = RawConn::connect(server.port);
        assert_eq!(c.call(&["ZADD", "z", "1", "a"]), Reply::Int(1));
        let write: &[&[&str]] = &[&["ZADD", "z", "0", "b"], &["ZREM", "z", "b"]];
        let seen = race(&server, 3000, write, &["ZRANGE", "z", "0", "-1"]);
        let ok = [common::bulks(&["a"]), common::bulks(&["b", "a"])];
        let bad: Vec<_> = seen.iter().filter(|(r, _)| !ok.contains(r)).collect();
        let all: Vec<_> = seen.iter().collect();
        assert!(
            bad.is_empty(),
            "hot-cache-size {cache}: ZRANGE read states that never were: {} (all: {})",
            show_counts(&bad),
            show_counts(&all)
        );
    }
}
