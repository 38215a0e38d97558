//! The clients of the hot-cache test: writers (each checks every reply of its own commands
//! against its model and publishes each new state before sending) and readers of other
//! writers' keys.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::MutexGuard;
use std::time::Duration;

use crate::common::{self, RawConn, Reply};
use crate::gen::{Gen, Op, Rng};
use crate::history::{describe, Owner, ReadAt, Seen, Version};
use crate::model::{self, normalize, show, show_model, Entry, Expect, DBS, SLACK_MS};
use crate::{args, lock, now_ms, AbortOnPanic, Ctx, KEYS_PER_WRITER, OPS_PER_PHASE, PHASES, WRITERS};

/// Runs each command of ARGV (`n, arg1..argn, n, ...`) with pcall and returns every reply;
/// errors come back as `E:<text>` so one failing command does not hide the others.
pub const SCRIPT: &str = "local out = {}
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local r = redis.pcall(unpack(ARGV, i + 1, i + n))
  if type(r) == 'table' and r.err then r = 'E:' .. r.err end
  out[#out + 1] = r
  i = i + n + 1
end
return out";

/// A connection and the database it has selected.
pub struct Conn {
    pub raw: RawConn,
    pub db: usize,
}

impl Conn {
    pub fn new(port: u16) -> Conn {
        Conn { raw: RawConn::connect(port), db: 0 }
    }

    pub fn select(&mut self, db: usize) {
        if self.db != db {
            assert_eq!(self.raw.call(&["SELECT", &db.to_string()]), common::ok());
            self.db = db;
        }
    }

    /// Sends `cmd`, returning the reply and the Unix ms right before sending and after reading.
    pub fn timed(&mut self, cmd: &[String]) -> (Reply, i64, i64) {
        let sent = now_ms();
        let r = self.raw.call(cmd);
        (r, sent, now_ms())
    }
}

/// How a script hands back one command's reply.
pub fn through_lua(r: Reply) -> Reply {
    match r {
        Reply::Err(e) => Reply::Bulk(format!("E:{e}").into_bytes()),
        other => other,
    }
}

/// Reads a key of some writer (not `me`) on `conn` and checks it against that writer's history.
pub fn foreign_read(ctx: &Ctx, conn: &mut Conn, rng: &mut Rng, me: Option<usize>, seen: &mut Seen) {
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

pub struct Writer<'a> {
    pub ctx: &'a Ctx,
    pub id: usize,
    pub rng: Rng,
    pub main: Conn,
    pub aux: Conn,
    pub seen: Seen,
}

impl Writer<'_> {
    pub fn owner(&self) -> MutexGuard<'_, Owner> {
        lock(&self.ctx.owners[self.id])
    }

    /// Predicts `cmds` (run atomically) on the model and publishes the new states before they
    /// are sent, so a reader can never see a state the history does not have yet.
    pub fn predict(&self, cmds: &[Vec<String>]) -> (Vec<Expect>, i64) {
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

    pub fn check(&self, what: &dyn std::fmt::Debug, expect: &Expect, got: &Reply, sent: i64, recv: i64) {
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

    pub fn single(&mut self, use_aux: bool, cmd: Vec<String>) {
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

    pub fn queue(&mut self, cmds: &[Vec<String>]) {
        assert_eq!(self.main.raw.call(&["MULTI"]), common::ok());
        for c in cmds {
            assert_eq!(self.main.raw.call(c), common::status("QUEUED"), "queueing {c:?}");
        }
    }

    pub fn exec_reply(&mut self, cmds: &[Vec<String>], ex: Vec<Expect>, sent: i64, lua: bool) {
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

    pub fn step(&mut self, focus: Option<String>) {
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
    pub fn spop(&mut self, cmd: Vec<String>) {
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

pub fn run_writer(ctx: &Ctx, id: usize) {
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

pub fn run_reader(ctx: &Ctx, id: usize) {
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
