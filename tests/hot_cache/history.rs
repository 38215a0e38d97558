//! What readers may see of one writer's keys: every state each key went through (versions,
//! with the operation that made them and when the server acknowledged it), and the check that
//! a read is explained by one of them no older than what the reader must already see.

use std::collections::HashMap;

use crate::common::Reply;
use crate::model::{read, show, show_state, Entry, Expect, Model, PENDING, SLACK_MS};
use crate::{now_ms, SHORT_MS};

/// One state of a key as readers may see it; a random SPOP publishes every possible outcome
/// until its reply tells which one happened.
#[derive(Clone, Debug)]
pub struct Version {
    pub states: Vec<Option<Entry>>,
    /// [`Ctx::tick`] when the server acknowledged the command that made it (`IN_FLIGHT` before):
    /// a read that starts later must not return anything older.
    pub acked: u64,
    /// The owner's operation (command, transaction, script) that made it: a reader that saw one
    /// effect of an operation must see all of them in later reads (atomicity across keys).
    pub op: u64,
    /// What the operation was, for failure reports.
    pub what: String,
}

pub const IN_FLIGHT: u64 = u64::MAX;

impl Version {
    pub fn initial() -> Version {
        Version { states: vec![None], acked: 0, op: 0, what: String::new() }
    }

    pub fn new(states: Vec<Option<Entry>>, op: u64, what: String) -> Version {
        Version { states, acked: IN_FLIGHT, op, what }
    }
}

/// Commands in a line, long ones cut.
pub fn describe(cmds: &[Vec<String>]) -> String {
    let one = |c: &Vec<String>| {
        let words: Vec<&str> = c.iter().take(6).map(String::as_str).collect();
        let more = if c.len() > 6 { " …" } else { "" };
        format!("{}{more}", words.join(" "))
    };
    cmds.iter().map(one).collect::<Vec<_>>().join("; ")
}

/// A writer's model and the history of every key it owns, as (db, key).
#[derive(Default)]
pub struct Owner {
    pub model: Model,
    pub hist: HashMap<(usize, String), Vec<Version>>,
    /// The key written last, where readers aim most of their reads.
    pub last: Option<(usize, String)>,
    /// Operations published so far.
    pub ops: u64,
}

impl Owner {
    /// Appends the new state of every key the model marked dirty.
    pub fn publish(&mut self, what: String) {
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
    pub fn resolve(&mut self, sent: i64, recv: i64) {
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
    pub fn ack(&mut self, tick: u64) {
        for v in self.hist.values_mut().filter_map(|h| h.last_mut()).filter(|v| v.acked == IN_FLIGHT) {
            v.acked = tick;
        }
    }

    /// The latest deadline among short ones, if any.
    pub fn short_deadline(&self) -> Option<i64> {
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
    pub fn purge(&mut self) {
        let now = now_ms();
        for db in &mut self.model.dbs {
            db.retain(|_, e| e.exp.is_none_or(|x| x.hi + SLACK_MS >= now));
        }
    }

    /// The last versions of the key `cmd` read, each with how `got` differs from what that
    /// version would answer (elements missing from `got`, elements only in `got`).
    pub fn show_history(&self, db: usize, cmd: &[String], got: &Reply) -> String {
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
    pub fn explain(&self, db: usize, cmd: &[String], got: &Reply, from: usize, at: &ReadAt) -> Option<usize> {
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

/// When a read ran, and the latest operation of its owner it must reflect.
#[derive(Clone, Copy)]
pub struct ReadAt {
    /// [`Ctx::tick`] before the read was sent.
    pub start: u64,
    /// Unix ms before sending and after the reply.
    pub sent: i64,
    pub recv: i64,
    /// The owner's latest operation this reader saw an effect of.
    pub op: u64,
}

/// What one reading client has seen of other writers' keys.
#[derive(Default)]
pub struct Seen {
    /// Latest history position seen, by (owner, db, key).
    pub pos: HashMap<(usize, usize, String), usize>,
    /// Latest operation seen an effect of, by owner.
    pub ops: HashMap<usize, u64>,
}
