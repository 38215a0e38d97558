//! The kill/restart loop of the crash harness: writer threads, the SIGKILL, the read-back of
//! every key after the restart and its comparison with the model (`model.rs`).
//!
//! Each writer owns its keys, sends one operation per round trip and applies it to its model
//! only once the reply has arrived. So when the server dies, at most one operation per writer
//! is unknown: its keys must show the state before it or after it (all of them the same one),
//! and every other key must match the model exactly.

use std::collections::BTreeMap;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::Value;

use crate::common::{call_sync, info_fields, Reply, TestServer};
use crate::model::{Data, Entry, Form, Op, State, Write, SCRIPT};

/// Key groups of a writer: (name, how many keys). Each group holds one data type.
const GROUPS: &[(&str, usize)] = &[
    ("s", 3), // strings: SET, APPEND
    ("n", 3), // counters: INCRBY
    ("h", 3), // hashes: HSET, HINCRBY
    ("l", 3), // lists: RPUSH, LPOP
    ("t", 3), // sets: SADD, SREM
    ("z", 3), // sorted sets: ZADD, ZINCRBY
    ("x", 2), // streams: XADD
    ("a", 6), // strings written only by transactions and scripts
    ("al", 1),
    ("ah", 1),
];
/// Extra groups of a heavy writer (compaction runs): big strings and a list deleted when big.
const HEAVY_GROUPS: &[(&str, usize)] = &[("b", 64), ("bl", 1)];
/// Bytes of a heavy writer's string values (below the blob threshold: they stay in the LSM).
const BIG_VALUE: usize = 2000;
/// A heavy writer's list is deleted (its subkeys reclaimed by compaction) past this length.
const BIG_LIST: usize = 5000;

/// One writer: its keys, its model and its counters (kept from cycle to cycle).
pub struct Writer {
    id: usize,
    heavy: bool,
    pub state: State,
    seq: u64,
    stream_id: u64,
}

impl Writer {
    pub fn new(id: usize, heavy: bool) -> Writer {
        Writer { id, heavy, state: State::new(), seq: 0, stream_id: 0 }
    }

    fn key(&self, group: &str, i: usize) -> String {
        format!("w{}:{group}{i}", self.id)
    }

    /// Every key this writer may write (those absent from the model must not exist).
    pub fn universe(&self) -> Vec<String> {
        let heavy: &[(&str, usize)] = if self.heavy { HEAVY_GROUPS } else { &[] };
        GROUPS.iter().chain(heavy).flat_map(|&(g, n)| (0..n).map(move |i| self.key(g, i))).collect()
    }

    fn random_key(&self, rng: &mut StdRng, group: &str) -> String {
        let n = GROUPS.iter().chain(HEAVY_GROUPS).find(|(g, _)| *g == group).map_or(1, |&(_, n)| n);
        self.key(group, rng.random_range(0..n))
    }

    fn len_of(&self, key: &str) -> usize {
        match self.state.get(key).map(|e| &e.data) {
            Some(Data::Str(s)) => s.len(),
            Some(Data::List(l)) => l.len(),
            _ => 0,
        }
    }

    /// The next operation, chosen at random.
    fn next_op(&mut self, rng: &mut StdRng) -> Op {
        self.seq += 1;
        let seq = self.seq;
        let plain = |w: Write| Op { form: Form::Plain, writes: vec![w] };
        if self.heavy && rng.random_bool(0.7) {
            if rng.random_bool(0.7) {
                let k = self.random_key(rng, "b");
                return plain(Write::Set(k, format!("{seq}:{}", "b".repeat(BIG_VALUE))));
            }
            let k = self.key("bl", 0);
            if self.len_of(&k) >= BIG_LIST {
                return plain(Write::Del(k));
            }
            return plain(Write::RPush(k, (0..300).map(|i| format!("{seq}.{i}")).collect()));
        }
        let roll = rng.random_range(0..100);
        if roll < 14 {
            return self.atomic_op(rng, if roll < 8 { Form::Multi } else { Form::Script });
        }
        let v = format!("v{}-{seq}", self.id);
        if roll < 19 {
            let (g, _) = GROUPS[rng.random_range(0..GROUPS.len())];
            return plain(Write::Expire(self.random_key(rng, g)));
        }
        if roll < 23 {
            let (g, _) = GROUPS[rng.random_range(0..7)];
            return plain(Write::Del(self.random_key(rng, g)));
        }
        let w = match rng.random_range(0..7) {
            0 => {
                let k = self.random_key(rng, "s");
                if self.len_of(&k) > 200 || rng.random_bool(0.3) {
                    Write::Set(k, v)
                } else {
                    Write::Append(k, format!("+{seq}"))
                }
            }
            1 => Write::IncrBy(self.random_key(rng, "n"), rng.random_range(-5..100)),
            2 => {
                let k = self.random_key(rng, "h");
                if rng.random_bool(0.6) {
                    Write::HSet(k, format!("f{}", rng.random_range(0..8)), v)
                } else {
                    Write::HIncrBy(k, "cnt".into(), rng.random_range(-3..10))
                }
            }
            3 => {
                let k = self.random_key(rng, "l");
                if self.len_of(&k) < 30 && rng.random_bool(0.6) {
                    Write::RPush(k, (0..rng.random_range(1..4)).map(|i| format!("{v}.{i}")).collect())
                } else {
                    Write::LPop(k)
                }
            }
            4 => {
                let k = self.random_key(rng, "t");
                let m = format!("m{}", rng.random_range(0..16));
                if rng.random_bool(0.6) {
                    Write::SAdd(k, m)
                } else {
                    Write::SRem(k, m)
                }
            }
            5 => {
                let k = self.random_key(rng, "z");
                let m = format!("m{}", rng.random_range(0..10));
                if rng.random_bool(0.5) {
                    Write::ZAdd(k, rng.random_range(-100..100), m)
                } else {
                    Write::ZIncrBy(k, rng.random_range(-5..20), m)
                }
            }
            _ => {
                self.stream_id += 1;
                Write::XAdd(self.random_key(rng, "x"), format!("{}-1", self.stream_id), "f".into(), v)
            }
        };
        plain(w)
    }

    /// A MULTI/EXEC block or a script writing 3-5 strings, a list and a hash with one sequence
    /// number: after a crash they all show it, or none does.
    fn atomic_op(&self, rng: &mut StdRng, form: Form) -> Op {
        let seq = self.seq.to_string();
        let mut slots: Vec<usize> = (0..6).collect();
        let n = rng.random_range(3..=5);
        let mut writes = Vec::new();
        for _ in 0..n {
            let i = slots.swap_remove(rng.random_range(0..slots.len()));
            writes.push(Write::Set(self.key("a", i), format!("seq:{seq}")));
        }
        let list = self.key("al", 0);
        if self.len_of(&list) >= 20 {
            writes.push(Write::LPop(list.clone()));
        }
        writes.push(Write::RPush(list, vec![seq.clone()]));
        let hash = self.key("ah", 0);
        writes.push(Write::HSet(hash.clone(), "seq".into(), seq));
        writes.push(Write::HIncrBy(hash, "n".into(), 1));
        Op { form, writes }
    }
}

fn command(args: &[String]) -> redis::Cmd {
    let mut c = redis::cmd(&args[0]);
    for a in &args[1..] {
        c.arg(a);
    }
    c
}

/// Sends one operation and waits for its reply.
fn send(con: &mut redis::Connection, op: &Op) -> redis::RedisResult<Value> {
    match op.form {
        Form::Plain => command(&op.writes[0].args()).query(con),
        Form::Multi => {
            let mut p = redis::pipe();
            p.atomic();
            for w in &op.writes {
                p.add_command(command(&w.args()));
            }
            p.query(con)
        }
        Form::Script => {
            let keys = op.keys();
            let mut c = redis::cmd("EVAL");
            c.arg(SCRIPT).arg(keys.len()).arg(keys.into_iter().collect::<Vec<_>>());
            for w in &op.writes {
                let args = w.args();
                c.arg(args.len()).arg(args);
            }
            c.query(con)
        }
    }
}

fn server_error(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(format!("{e:?}")),
        Value::Array(a) => a.iter().find_map(server_error),
        _ => None,
    }
}

/// What a writer did in one cycle.
pub struct Run {
    pub acked_ops: u64,
    pub acked_writes: u64,
    /// The operation sent when the connection broke (its reply never came).
    pub in_flight: Option<Op>,
}

/// Writes until the connection breaks (the server was killed).
fn write_until_killed(w: &mut Writer, mut con: redis::Connection, seed: u64) -> Run {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut run = Run { acked_ops: 0, acked_writes: 0, in_flight: None };
    loop {
        let op = w.next_op(&mut rng);
        match send(&mut con, &op) {
            Ok(v) => {
                if let Some(e) = server_error(&v) {
                    panic!("writer {}: {op:?} failed: {e}", w.id);
                }
                op.apply(&mut w.state);
                run.acked_ops += 1;
                run.acked_writes += op.writes.len() as u64;
            }
            Err(e) if e.code().is_some() => panic!("writer {}: {op:?} failed: {e:?}", w.id),
            Err(_) => {
                run.in_flight = Some(op);
                return run;
            }
        }
    }
}

fn texts(r: &Reply) -> Vec<String> {
    r.strings()
}

/// A key as the server holds it, read with the commands of its type.
fn read_key(con: &mut redis::Connection, key: &str) -> Option<Entry> {
    let data = match call_sync(con, &["TYPE", key]).text().as_str() {
        "none" => return None,
        "string" => match call_sync(con, &["GET", key]) {
            Reply::Bulk(b) => {
                Data::Str(String::from_utf8(b).unwrap_or_else(|e| format!("<not UTF-8: {:?}>", e.as_bytes())))
            }
            other => panic!("GET {key}: {other:?}"),
        },
        "hash" => {
            let flat = texts(&call_sync(con, &["HGETALL", key]));
            Data::Hash(flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
        }
        "list" => Data::List(texts(&call_sync(con, &["LRANGE", key, "0", "-1"]))),
        "set" => Data::Set(texts(&call_sync(con, &["SMEMBERS", key])).into_iter().collect()),
        "zset" => {
            let flat = texts(&call_sync(con, &["ZRANGE", key, "0", "-1", "WITHSCORES"]));
            Data::ZSet(flat.chunks(2).map(|p| (p[0].clone(), p[1].parse().expect("integer score"))).collect())
        }
        "stream" => Data::Stream(
            call_sync(con, &["XRANGE", key, "-", "+"])
                .array()
                .iter()
                .map(|e| {
                    let e = e.array();
                    let fv = texts(&e[1]);
                    assert_eq!(fv.len(), 2, "stream entry of {key}: {e:?}");
                    (e[0].text(), fv[0].clone(), fv[1].clone())
                })
                .collect(),
        ),
        other => panic!("TYPE {key}: {other}"),
    };
    let ttl = match call_sync(con, &["PTTL", key]).int() {
        -1 => false,
        ms if ms > 0 => true,
        ms => panic!("PTTL {key}: {ms}"),
    };
    Some(Entry { data, ttl })
}

/// Where the operation in flight at the kill turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No operation was in flight.
    None,
    /// Not applied.
    Before,
    /// Applied (its reply was lost with the server).
    After,
    /// Its effect is invisible (e.g. EXPIRE of a missing key).
    Same,
}

fn show(e: &Option<Entry>) -> String {
    let s = format!("{e:?}");
    if s.len() > 600 {
        format!("{}… ({} chars)", &s[..600], s.len())
    } else {
        s
    }
}

/// Reads every key of `w` and compares it with the model; adopts the in-flight operation when
/// the server has applied it. Any difference the in-flight operation can't explain is an error
/// naming the key, what the model expects and what the server holds.
pub fn check(
    con: &mut redis::Connection,
    w: &mut Writer,
    in_flight: Option<&Op>,
    ctx: &str,
) -> Result<(Outcome, u64), String> {
    let universe = w.universe();
    let actual: BTreeMap<&str, Option<Entry>> = universe.iter().map(|k| (k.as_str(), read_key(con, k))).collect();
    let touched = in_flight.map(Op::keys).unwrap_or_default();
    for (k, got) in &actual {
        if !touched.contains(k) {
            let want = w.state.get(*k).cloned();
            if *got != want {
                return Err(format!(
                    "{ctx}: writer {} key {k} lost an acknowledged write\n  expected {}\n  found    {}\n  in flight: {in_flight:?}",
                    w.id,
                    show(&want),
                    show(got)
                ));
            }
        }
    }
    let Some(op) = in_flight else { return Ok((Outcome::None, universe.len() as u64)) };
    let mut after = w.state.clone();
    op.apply(&mut after);
    let matches = |st: &State| touched.iter().all(|k| actual[k] == st.get(*k).cloned());
    let outcome = match (matches(&w.state), matches(&after)) {
        (true, true) => Outcome::Same,
        (true, false) => Outcome::Before,
        (false, true) => Outcome::After,
        (false, false) => {
            let detail: Vec<String> = touched
                .iter()
                .map(|k| {
                    format!(
                        "  {k}: before {} / after {} / found {}",
                        show(&w.state.get(*k).cloned()),
                        show(&after.get(*k).cloned()),
                        show(&actual[k])
                    )
                })
                .collect();
            return Err(format!(
                "{ctx}: writer {}: the operation in flight is neither absent nor whole ({:?}):\n{}\n  {op:?}",
                w.id,
                op.form,
                detail.join("\n")
            ));
        }
    };
    if outcome == Outcome::After {
        w.state = after;
    }
    Ok((outcome, universe.len() as u64))
}

/// One crash run's settings.
pub struct Config {
    pub appendfsync: &'static str,
    pub writers: usize,
    pub cycles: usize,
    pub seed: u64,
    /// Small memtables and heavy writers; each kill waits for a compaction to be running.
    pub compaction: bool,
}

/// Counts of one run, printed at the end.
#[derive(Default, Debug)]
pub struct Totals {
    pub cycles: u64,
    pub acked_ops: u64,
    pub acked_writes: u64,
    pub keys_checked: u64,
    pub in_flight_before: u64,
    pub in_flight_after: u64,
    pub in_flight_same: u64,
    pub killed_while_compacting: u64,
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cycles={} acked_ops={} acked_writes={} keys_checked={} lost=0 in_flight: absent={} applied={} \
             indistinguishable={} killed_while_compacting={}",
            self.cycles,
            self.acked_ops,
            self.acked_writes,
            self.keys_checked,
            self.in_flight_before,
            self.in_flight_after,
            self.in_flight_same,
            self.killed_while_compacting
        )
    }
}

fn compactions_running(s: &TestServer) -> bool {
    let mut c = s.sync_client();
    let info = call_sync(&mut c, &["INFO", "rocksdb"]).text();
    info_fields(&info).get("running_compactions").is_some_and(|v| v != "0")
}

/// Runs `cfg.cycles` kill/restart cycles; panics on the first lost or partial write.
pub fn run(cfg: &Config) -> Totals {
    let mut args = vec!["--appendfsync", cfg.appendfsync];
    if cfg.compaction {
        args.extend(["--rocksdb-write-buffer-size", "64kb", "--hot-cache-size", "0"]);
    }
    let mut s = TestServer::start_with(&args);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut writers: Vec<Writer> = (0..cfg.writers).map(|i| Writer::new(i, cfg.compaction && i < 2)).collect();
    let mut totals = Totals::default();
    for cycle in 0..cfg.cycles {
        let threads: Vec<JoinHandle<(Writer, Run)>> = writers
            .drain(..)
            .map(|mut w| {
                let con = s.sync_client();
                let seed = rng.random();
                std::thread::spawn(move || {
                    let r = write_until_killed(&mut w, con, seed);
                    (w, r)
                })
            })
            .collect();
        let delay = Duration::from_millis(rng.random_range(50..=500));
        std::thread::sleep(delay);
        if cfg.compaction {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !compactions_running(&s) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(rng.random_range(1..10)));
            }
            if compactions_running(&s) {
                totals.killed_while_compacting += 1;
            }
        }
        s.kill9();
        let mut runs = Vec::new();
        for t in threads {
            let (w, r) = t.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            writers.push(w);
            runs.push(r);
        }
        s.start_again();
        let mut con = s.sync_client();
        let ctx = format!("appendfsync {} cycle {cycle} (seed {})", cfg.appendfsync, cfg.seed);
        for (w, r) in writers.iter_mut().zip(&runs) {
            let (outcome, keys) = check(&mut con, w, r.in_flight.as_ref(), &ctx).unwrap_or_else(|e| panic!("{e}"));
            totals.keys_checked += keys;
            totals.acked_ops += r.acked_ops;
            totals.acked_writes += r.acked_writes;
            match outcome {
                Outcome::None => {}
                Outcome::Before => totals.in_flight_before += 1,
                Outcome::After => totals.in_flight_after += 1,
                Outcome::Same => totals.in_flight_same += 1,
            }
        }
        totals.cycles += 1;
    }
    totals
}
