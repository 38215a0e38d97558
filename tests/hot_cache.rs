//! The hot cache never serves stale data: a seeded randomized run mixing every write path
//! (strings, keyspace commands, hashes, sets, lists, sorted sets, SORT … STORE, MULTI/EXEC with
//! passing and failing WATCH, scripts, expiry lazy and active, SWAPDB, FLUSHDB, FLUSHALL) with
//! reads of every kind, each compared with a client-side model (`hot_cache/model.rs`).
//!
//! Several writers run at once, each owning a few key names in every database so its model is
//! exact and checks each of its replies. Readers (and the writers, now and then) read keys of
//! other writers, racing the cache fills of those reads against the writes: what they see must
//! be a state in the owner's history, never older than one they saw before. Database-wide
//! commands run between phases while every client waits. At the end the whole model is
//! compared with the server, then again after a restart (cold cache, data from disk).
//!
//! Runs with the cache off, tiny (constant eviction) and large; and against the reference
//! redis-server (`STRATA_TEST_TARGET=redis`), which validates the model itself.
//! `HOT_CACHE_SEED=<n>` replays a seed (the interleaving of clients still varies).

mod common;
#[path = "hot_cache/gen.rs"]
mod gen;
#[path = "hot_cache/model.rs"]
mod model;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{RawConn, Reply, TestServer};
use gen::{Gen, Op, Rng};
use model::{normalize, read, show, show_model, show_state, Entry, Expect, Model, DBS, PENDING, SLACK_MS};

const WRITERS: usize = 3;
const READERS: usize = 2;
const KEYS_PER_WRITER: usize = 6;
const PHASES: usize = 6;
const OPS_PER_PHASE: usize = 130;
/// Deadlines closer than this are "short": writers wait them out instead of guessing.
const SHORT_MS: i64 = 60_000;

/// Runs each command of ARGV (`n, arg1..argn, n, ...`) with pcall and returns every reply;
/// errors come back as `E:<text>` so one failing command does not hide the others.
const SCRIPT: &str = "local out = {}
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local r = redis.pcall(unpack(ARGV, i + 1, i + n))
  if type(r) == 'table' and r.err then r = 'E:' .. r.err end
  out[#out + 1] = r
  i = i + n + 1
end
return out";

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn args(cmd: &[&str]) -> Vec<String> {
    cmd.iter().map(|s| s.to_string()).collect()
}

/// One state of a key as readers may see it; a random SPOP publishes every possible outcome
/// until its reply tells which one happened.
#[derive(Clone, Debug)]
struct Version {
    states: Vec<Option<Entry>>,
    /// [`Ctx::tick`] when the server acknowledged the command that made it (`IN_FLIGHT` before):
    /// a read that starts later must not return anything older.
    acked: u64,
    /// The owner's operation (command, transaction, script) that made it: a reader that saw one
    /// effect of an operation must see all of them in later reads (atomicity across keys).
    op: u64,
    /// What the operation was, for failure reports.
    what: String,
}

const IN_FLIGHT: u64 = u64::MAX;

impl Version {
    fn initial() -> Version {
        Version { states: vec![None], acked: 0, op: 0, what: String::new() }
    }

    fn new(states: Vec<Option<Entry>>, op: u64, what: String) -> Version {
        Version { states, acked: IN_FLIGHT, op, what }
    }
}

/// Commands in a line, long ones cut.
fn describe(cmds: &[Vec<String>]) -> String {
    let one = |c: &Vec<String>| {
        let words: Vec<&str> = c.iter().take(6).map(String::as_str).collect();
        let more = if c.len() > 6 { " …" } else { "" };
        format!("{}{more}", words.join(" "))
    };
    cmds.iter().map(one).collect::<Vec<_>>().join("; ")
}

/// A writer's model and the history of every key it owns, as (db, key).
#[derive(Default)]
struct Owner {
    model: Model,
    hist: HashMap<(usize, String), Vec<Version>>,
    /// The key written last, where readers aim most of their reads.
    last: Option<(usize, String)>,
    /// Operations published so far.
    ops: u64,
}

impl Owner {
    /// Appends the new state of every key the model marked dirty.
    fn publish(&mut self, what: String) {
        self.ops += 1;
        let op = self.ops;
        for (db, k) in std::mem::take(&mut self.model.dirty) {
            self.last = Some((db, k.clone()));
            let st = self.model.dbs[db].get(&k).cloned();
            let h = self.hist.entry((db, k)).or_insert_with(|| vec![Version::initial()]);
            h.push(Version::new(vec![st], op, what.clone()));
        }
    }

    /// A relative deadline set by a command sent at `sent` and answered at `recv` lies in
    /// `[sent + ttl, recv + ttl]`.
    fn resolve(&mut self, sent: i64, recv: i64) {
        let fix = |e: &mut Entry| {
            if let Some(exp) = &mut e.exp {
                if exp.hi == PENDING {
                    exp.hi = exp.lo + (recv - sent);
                }
            }
        };
        for db in &mut self.model.dbs {
            db.values_mut().for_each(fix);
        }
        for h in self.hist.values_mut() {
            if let Some(v) = h.last_mut() {
                v.states.iter_mut().flatten().for_each(fix);
            }
        }
    }

    /// The server acknowledged every version in flight at `tick`.
    fn ack(&mut self, tick: u64) {
        for v in self.hist.values_mut().filter_map(|h| h.last_mut()).filter(|v| v.acked == IN_FLIGHT) {
            v.acked = tick;
        }
    }

    /// The latest deadline among short ones, if any.
    fn short_deadline(&self) -> Option<i64> {
        let now = now_ms();
        self.model
            .dbs
            .iter()
            .flat_map(|db| db.values())
            .filter_map(|e| e.exp)
            .filter(|x| x.lo < now + SHORT_MS)
            .map(|x| x.hi)
            .max()
    }

    /// Drops keys whose deadline has surely passed (the history keeps them: readers may still
    /// match the "expired" position of their last version).
    fn purge(&mut self) {
        let now = now_ms();
        for db in &mut self.model.dbs {
            db.retain(|_, e| e.exp.is_none_or(|x| x.hi + SLACK_MS >= now));
        }
    }

    /// The last versions of the key `cmd` read, each with how `got` differs from what that
    /// version would answer (elements missing from `got`, elements only in `got`).
    fn show_history(&self, db: usize, cmd: &[String], got: &Reply) -> String {
        let Some(h) = self.hist.get(&(db, cmd[1].clone())) else { return "  (never written)".into() };
        let items = |r: &Reply| match r {
            Reply::Array(a) => a.iter().map(show).collect::<Vec<_>>(),
            other => vec![show(other)],
        };
        let mut out = String::new();
        for (i, v) in h.iter().enumerate().skip(h.len().saturating_sub(12)) {
            let states: Vec<String> = v.states.iter().map(|s| show_state(s.as_ref())).collect();
            let acked = if v.acked == IN_FLIGHT { "in flight".to_string() } else { v.acked.to_string() };
            out += &format!("  {i} @{acked}, op {} ({}): {}", v.op, v.what, states.join(" | "));
            if let (Some(st), Reply::Array(_)) = (v.states.first(), got) {
                if let Expect::Exact(want) = read(st.as_ref(), cmd) {
                    let (w, g) = (items(&want), items(got));
                    let missing: Vec<&String> = w.iter().filter(|x| !g.contains(x)).take(6).collect();
                    let extra: Vec<&String> = g.iter().filter(|x| !w.contains(x)).take(6).collect();
                    out += &format!("   [read differs: -{missing:?} +{extra:?}]");
                }
            }
            out += "\n";
        }
        out
    }

    /// Finds the first state at or after `from` (2i = version i live, 2i+1 = version i
    /// expired) that explains `got`, for a read sent at `sent` and answered at `recv`.
    /// Versions acknowledged before the read started, and those of operations whose effect
    /// the reader already saw on another key, are lower bounds too (reads are linearizable
    /// and operations atomic, not only reads monotonic).
    fn explain(&self, db: usize, cmd: &[String], got: &Reply, from: usize, at: &ReadAt) -> Option<usize> {
        let (ReadAt { start, sent, recv, op }, initial) = (*at, [Version::initial()]);
        let versions = self.hist.get(&(db, cmd[1].clone())).map_or(&initial[..], |h| &h[..]);
        let done = versions.iter().rposition(|v| v.acked <= start || v.op <= op).unwrap_or(0);
        (from.max(2 * done)..2 * versions.len()).find(|pos| {
            let v = &versions[pos / 2];
            if pos % 2 == 0 {
                v.states.iter().any(|st| {
                    let alive = st.as_ref().and_then(|e| e.exp).is_none_or(|x| sent - SLACK_MS <= x.hi);
                    alive && read(st.as_ref(), cmd).accepts(got, sent, recv)
                })
            } else {
                let may_expire = v.states.iter().flatten().any(|e| e.exp.is_some_and(|x| recv + SLACK_MS >= x.lo));
                may_expire && read(None, cmd).accepts(got, sent, recv)
            }
        })
    }
}

/// A barrier every thread passes between phases; it opens for good when a thread panics, so
/// the others stop instead of waiting forever.
struct Gate {
    state: Mutex<(usize, u64)>,
    cv: Condvar,
    parties: usize,
    aborted: AtomicBool,
}

impl Gate {
    /// False when the run was aborted.
    fn wait(&self) -> bool {
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
struct AbortOnPanic<'a>(&'a Gate);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.aborted.store(true, SeqCst);
            self.0.cv.notify_all();
        }
    }
}

#[derive(Default)]
struct Stats {
    ops: AtomicU64,
    own_checks: AtomicU64,
    foreign_reads: AtomicU64,
    short_ttls: AtomicU64,
    watch_fails: AtomicU64,
    actively_expired: AtomicU64,
    global_ops: AtomicU64,
}

struct Ctx {
    seed: u64,
    port: u16,
    owners: Vec<Mutex<Owner>>,
    keys: Vec<Vec<String>>,
    gate: Gate,
    writers_done: AtomicUsize,
    stats: Stats,
    /// Counts acknowledged commands: orders acknowledgements before the reads that follow.
    tick: AtomicU64,
}

impl Ctx {
    /// A new tick for a command the server just acknowledged.
    fn acked(&self) -> u64 {
        self.tick.fetch_add(1, SeqCst) + 1
    }
}

impl Ctx {
    fn fail(&self, what: String) -> ! {
        panic!("{what}\n(seed {seed}: rerun with HOT_CACHE_SEED={seed})", seed = self.seed)
    }
}

/// A connection and the database it has selected.
struct Conn {
    raw: RawConn,
    db: usize,
}

impl Conn {
    fn new(port: u16) -> Conn {
        Conn { raw: RawConn::connect(port), db: 0 }
    }

    fn select(&mut self, db: usize) {
        if self.db != db {
            assert_eq!(self.raw.call(&["SELECT", &db.to_string()]), common::ok());
            self.db = db;
        }
    }

    /// Sends `cmd`, returning the reply and the Unix ms right before sending and after reading.
    fn timed(&mut self, cmd: &[String]) -> (Reply, i64, i64) {
        let sent = now_ms();
        let r = self.raw.call(cmd);
        (r, sent, now_ms())
    }
}

/// How a script hands back one command's reply.
fn through_lua(r: Reply) -> Reply {
    match r {
        Reply::Err(e) => Reply::Bulk(format!("E:{e}").into_bytes()),
        other => other,
    }
}

/// When a read ran, and the latest operation of its owner it must reflect.
#[derive(Clone, Copy)]
struct ReadAt {
    /// [`Ctx::tick`] before the read was sent.
    start: u64,
    /// Unix ms before sending and after the reply.
    sent: i64,
    recv: i64,
    /// The owner's latest operation this reader saw an effect of.
    op: u64,
}

/// What one reading client has seen of other writers' keys.
#[derive(Default)]
struct Seen {
    /// Latest history position seen, by (owner, db, key).
    pos: HashMap<(usize, usize, String), usize>,
    /// Latest operation seen an effect of, by owner.
    ops: HashMap<usize, u64>,
}

/// Reads a key of some writer (not `me`) on `conn` and checks it against that writer's history.
fn foreign_read(ctx: &Ctx, conn: &mut Conn, rng: &mut Rng, me: Option<usize>, seen: &mut Seen) {
    let mut o = rng.below(WRITERS);
    if Some(o) == me {
        o = (o + 1) % WRITERS;
    }
    // Mostly the key its owner wrote last, with a read that suits its type: the reads most
    // likely to race a write of the same key.
    let cmd;
    let (db, key) = {
        let owner = lock(&ctx.owners[o]);
        let (db, key) = match &owner.last {
            Some(last) if rng.pct(70) => last.clone(),
            _ => (rng.below(DBS), rng.pick(&ctx.keys[o]).clone()),
        };
        let mut g = Gen { rng, keys: &ctx.keys[o], now: 0, batch: false, focus: None };
        let ty = owner.model.dbs[db].get(&key).map(|e| e.val.type_name());
        cmd = if g.rng.pct(80) { g.typed_read(ty, key.clone()) } else { g.read_cmd(key.clone(), true) };
        (db, key)
    };
    conn.select(db);
    let start = ctx.tick.load(SeqCst);
    let (got, sent, recv) = conn.timed(&cmd);
    let got = normalize(&cmd, got);
    let owner = lock(&ctx.owners[o]);
    let slot = (o, db, key);
    let from = seen.pos.get(&slot).copied().unwrap_or(0);
    let op = seen.ops.get(&o).copied().unwrap_or(0);
    match owner.explain(db, &cmd, &got, from, &ReadAt { start, sent, recv, op }) {
        Some(pos) => {
            let op_seen = owner.hist.get(&(db, cmd[1].clone())).map_or(0, |h| h[pos / 2].op);
            seen.ops.insert(o, op.max(op_seen));
            seen.pos.insert(slot, pos);
        }
        None => ctx.fail(format!(
            "stale or impossible read in db {db} at {sent}..{recv} (tick {start}, after operation {op}): {cmd:?} -> {}\n\
             already seen: position {from} (2i = version i, 2i+1 = version i expired); history of the key \
             (version @acknowledged tick, operation):\n{}",
            show(&got),
            owner.show_history(db, &cmd, &got)
        )),
    }
    ctx.stats.foreign_reads.fetch_add(1, SeqCst);
}

struct Writer<'a> {
    ctx: &'a Ctx,
    id: usize,
    rng: Rng,
    main: Conn,
    aux: Conn,
    seen: Seen,
}

impl Writer<'_> {
    fn owner(&self) -> MutexGuard<'_, Owner> {
        lock(&self.ctx.owners[self.id])
    }

    /// Predicts `cmds` (run atomically) on the model and publishes the new states before they
    /// are sent, so a reader can never see a state the history does not have yet.
    fn predict(&self, cmds: &[Vec<String>]) -> (Vec<Expect>, i64) {
        let mut o = self.owner();
        let now = now_ms();
        o.model.now = now;
        o.model.dirty.clear();
        let ex = cmds.iter().map(|c| o.model.exec(c)).collect();
        if cmds.iter().any(|c| {
            c.iter().any(|a| {
                a.eq_ignore_ascii_case("PX") || a.eq_ignore_ascii_case("PSETEX") || a.eq_ignore_ascii_case("PEXPIRE")
            })
        }) {
            self.ctx.stats.short_ttls.fetch_add(1, SeqCst);
        }
        o.publish(describe(cmds));
        (ex, now)
    }

    fn check(&self, what: &dyn std::fmt::Debug, expect: &Expect, got: &Reply, sent: i64, recv: i64) {
        if !expect.accepts(got, sent, recv) {
            let o = self.owner();
            let want = match expect {
                Expect::Exact(r) => show(r),
                other => format!("{other:?}"),
            };
            // The history of every key the command names, in the database it ran in.
            let text = format!("{what:?}");
            let mut hist = String::new();
            for k in self.ctx.keys[self.id].iter().filter(|k| text.contains(&format!("\"{k}\""))) {
                let probe = args(&["GET", k]);
                hist += &format!("history of {k}:\n{}", o.show_history(o.model.db, &probe, &Reply::Nil));
            }
            self.ctx.fail(format!(
                "writer {} db {}: {what:?}\nexpected {want}\n     got {}\nmodel after the command:\n{}{hist}",
                self.id,
                o.model.db,
                show(got),
                show_model(&o.model)
            ));
        }
        self.ctx.stats.own_checks.fetch_add(1, SeqCst);
    }

    fn single(&mut self, use_aux: bool, cmd: Vec<String>) {
        let (ex, sent) = self.predict(std::slice::from_ref(&cmd));
        let db = self.owner().model.db;
        let conn = if use_aux { &mut self.aux } else { &mut self.main };
        conn.select(db);
        let (got, _, recv) = conn.timed(&cmd);
        let tick = self.ctx.acked();
        let mut o = self.owner();
        o.resolve(sent, recv);
        o.ack(tick);
        drop(o);
        self.check(&cmd, &ex[0], &normalize(&cmd, got), sent, recv);
    }

    fn queue(&mut self, cmds: &[Vec<String>]) {
        assert_eq!(self.main.raw.call(&["MULTI"]), common::ok());
        for c in cmds {
            assert_eq!(self.main.raw.call(c), common::status("QUEUED"), "queueing {c:?}");
        }
    }

    fn exec_reply(&mut self, cmds: &[Vec<String>], ex: Vec<Expect>, sent: i64, lua: bool) {
        let got = if lua {
            let keys: Vec<String> = {
                let mut ks: Vec<String> =
                    self.ctx.keys[self.id].iter().filter(|k| cmds.iter().any(|c| c.contains(k))).cloned().collect();
                ks.sort();
                ks
            };
            let mut call = args(&["EVAL", SCRIPT]);
            call.push(keys.len().to_string());
            call.extend(keys);
            for c in cmds {
                call.push(c.len().to_string());
                call.extend(c.iter().cloned());
            }
            self.main.raw.call(&call)
        } else {
            self.main.raw.call(&["EXEC"])
        };
        let recv = now_ms();
        let tick = self.ctx.acked();
        let mut o = self.owner();
        o.resolve(sent, recv);
        o.ack(tick);
        drop(o);
        let got = match got {
            Reply::Array(a) if a.len() == cmds.len() => {
                Reply::Array(a.into_iter().zip(cmds).map(|(r, c)| normalize(c, r)).collect())
            }
            other => other,
        };
        let want = Reply::Array(ex.into_iter().map(|e| if lua { through_lua(e.exact()) } else { e.exact() }).collect());
        self.check(&(if lua { "EVAL" } else { "EXEC" }, cmds), &Expect::Exact(want), &got, sent, recv);
    }

    fn step(&mut self, focus: Option<String>) {
        // Never act inside a short deadline's window: wait until it has surely passed.
        let deadline = self.owner().short_deadline();
        if let Some(hi) = deadline {
            let wait = hi + SLACK_MS + 1 - now_ms();
            if wait > 0 {
                std::thread::sleep(Duration::from_millis(wait as u64));
            }
            self.owner().purge();
        }
        if self.rng.pct(10) {
            let db = self.rng.below(DBS);
            self.owner().model.db = db;
        }
        let keys = &self.ctx.keys[self.id];
        let op = {
            let o = lock(&self.ctx.owners[self.id]);
            Gen { rng: &mut self.rng, keys, now: now_ms(), batch: false, focus }.op(&o.model)
        };
        self.ctx.stats.ops.fetch_add(1, SeqCst);
        let db = self.owner().model.db;
        self.main.select(db);
        match op {
            Op::Cmd(cmd) => self.single(false, cmd),
            Op::SpopRandom(cmd) => self.spop(cmd),
            Op::Multi(cmds) => {
                let (ex, sent) = self.predict(&cmds);
                self.queue(&cmds);
                self.exec_reply(&cmds, ex, sent, false);
            }
            Op::WatchOk { key, cmds } => {
                self.single(false, args(&["EXISTS", &key]));
                assert_eq!(self.main.raw.call(&["WATCH", &key]), common::ok());
                let (ex, sent) = self.predict(&cmds);
                self.queue(&cmds);
                self.exec_reply(&cmds, ex, sent, false);
            }
            Op::WatchFail { key, intruder, cmds } => {
                self.single(false, args(&["EXISTS", &key]));
                assert_eq!(self.main.raw.call(&["WATCH", &key]), common::ok());
                self.single(true, intruder);
                self.queue(&cmds);
                let got = self.main.raw.call(&["EXEC"]);
                self.check(&("EXEC after a touched WATCH", &cmds), &Expect::Exact(Reply::Nil), &got, 0, 0);
                self.ctx.stats.watch_fails.fetch_add(1, SeqCst);
            }
            Op::Eval(cmds) => {
                let (ex, sent) = self.predict(&cmds);
                self.exec_reply(&cmds, ex, sent, true);
            }
            Op::ForeignRead => foreign_read(self.ctx, &mut self.main, &mut self.rng, Some(self.id), &mut self.seen),
        }
    }

    /// SPOP of a random part: publishes every possible outcome, then keeps the one the reply
    /// names.
    fn spop(&mut self, cmd: Vec<String>) {
        let key = cmd[1].clone();
        let (db, members, exp) = {
            let o = self.owner();
            let Some(Entry { val: model::Val::Set(s), exp }) = o.model.dbs[o.model.db].get(&key) else {
                unreachable!("random SPOP on a non-set")
            };
            (o.model.db, s.iter().cloned().collect::<Vec<_>>(), *exp)
        };
        let count = cmd.get(2).map(|c| c.parse::<usize>().unwrap_or(1));
        // Every subset of the popped size, as (reply, remaining set).
        let mut outcomes = Vec::new();
        for mask in 0u32..if members.len() > 20 { 0 } else { 1 << members.len() } {
            let size = mask.count_ones() as usize;
            if size != count.unwrap_or(1) {
                continue;
            }
            let popped: Vec<String> =
                (0..members.len()).filter(|i| mask & (1 << i) != 0).map(|i| members[i].clone()).collect();
            let rest: BTreeSet<String> = members.iter().filter(|m| !popped.contains(m)).cloned().collect();
            let reply = match count {
                None => model::bulk(&popped[0]),
                Some(_) => Reply::Array(popped.iter().map(|m| model::bulk(m)).collect()),
            };
            outcomes.push((reply, rest));
        }
        if members.len() > 20 {
            // Large sets: single pops only, one outcome per member.
            outcomes = members
                .iter()
                .map(|m| (model::bulk(m), members.iter().filter(|x| *x != m).cloned().collect()))
                .collect();
        }
        let entry = |rest: &BTreeSet<String>| Entry { val: model::Val::Set(rest.clone()), exp };
        {
            let mut o = self.owner();
            o.ops += 1;
            let op = o.ops;
            let h = o.hist.entry((db, key.clone())).or_insert_with(|| vec![Version::initial()]);
            h.push(Version::new(
                outcomes.iter().map(|(_, rest)| Some(entry(rest))).collect(),
                op,
                describe(std::slice::from_ref(&cmd)),
            ));
        }
        let (got, sent, recv) = self.main.timed(&cmd);
        let tick = self.ctx.acked();
        let got = normalize(&cmd, got);
        let Some((_, rest)) = outcomes.iter().find(|(r, _)| *r == got) else {
            self.ctx.fail(format!("writer {}: {cmd:?} -> {}, not a part of {members:?}", self.id, show(&got)))
        };
        let mut o = self.owner();
        if let Some(v) = o.hist.get_mut(&(db, key.clone())).and_then(|h| h.last_mut()) {
            v.states = vec![Some(entry(rest))];
            v.acked = tick;
        }
        o.model.dbs[db].insert(key, entry(rest));
        drop(o);
        self.check(&cmd, &Expect::Exact(got.clone()), &got, sent, recv);
    }
}

fn run_writer(ctx: &Ctx, id: usize) {
    let _guard = AbortOnPanic(&ctx.gate);
    let mut w = Writer {
        ctx,
        id,
        rng: Rng::new(ctx.seed ^ (0x1000 + id as u64).wrapping_mul(0x9E37_79B9)),
        main: Conn::new(ctx.port),
        aux: Conn::new(ctx.port),
        seen: Seen::default(),
    };
    for phase in 0..PHASES {
        // Odd phases race: most commands aim at one key, which readers follow.
        let focus = (phase % 2 == 1).then(|| ctx.keys[id][phase / 2 % KEYS_PER_WRITER].clone());
        for _ in 0..OPS_PER_PHASE {
            if ctx.gate.aborted.load(SeqCst) {
                return;
            }
            w.step(focus.clone());
        }
        ctx.writers_done.fetch_add(1, SeqCst);
        if !ctx.gate.wait() || !ctx.gate.wait() {
            return;
        }
    }
}

fn run_reader(ctx: &Ctx, id: usize) {
    let _guard = AbortOnPanic(&ctx.gate);
    let mut rng = Rng::new(ctx.seed ^ (0x2000 + id as u64).wrapping_mul(0x9E37_79B9));
    let mut conn = Conn::new(ctx.port);
    let mut seen = Seen::default();
    for _ in 0..PHASES {
        while ctx.writers_done.load(SeqCst) < WRITERS && !ctx.gate.aborted.load(SeqCst) {
            foreign_read(ctx, &mut conn, &mut rng, None, &mut seen);
        }
        if !ctx.gate.wait() || !ctx.gate.wait() {
            return;
        }
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
        0..=3 => {
            call_ok(ctx, conn, &["SWAPDB", "0", "1"], common::ok());
            for (o, owner) in owners.iter_mut().enumerate() {
                for k in &ctx.keys[o] {
                    owner.model.dirty.extend((0..DBS).map(|db| (db, k.clone())));
                }
                owner.model.dbs.swap(0, 1);
            }
            "SWAPDB 0 1".to_string()
        }
        4 | 5 => {
            let db = rng.below(DBS);
            conn.select(db);
            call_ok(ctx, conn, &["FLUSHDB"], common::ok());
            flush(owners, db);
            format!("FLUSHDB in db {db}")
        }
        6 => {
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

fn run(cache_size: u64) {
    let seed = match std::env::var("HOT_CACHE_SEED") {
        Ok(s) => s.parse().expect("HOT_CACHE_SEED is a number"),
        Err(_) => SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64),
    };
    println!("hot cache test: seed {seed} (HOT_CACHE_SEED={seed}), hot-cache-size {cache_size}");
    let size = cache_size.to_string();
    let mut server = if common::target_is_redis() {
        TestServer::start()
    } else {
        // Several network threads: with the default one, commands never run at the same time
        // and a read's cache fill could never race a write.
        TestServer::start_with(&["--hot-cache-size", &size, "--io-threads", "4"])
    };
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
