//! The client-side model of the hot-cache test: a small interpreter of the Redis commands the
//! test sends, over an exact copy of the keys one writer owns (in every database), predicting
//! each reply and each key's next state.
//!
//! Expiry is modelled as a window `[lo, hi]` of Unix milliseconds: the server set the deadline
//! at some moment between sending the command and reading its reply. The writer never touches
//! a key inside its window (it waits until the deadline has surely passed), so the interpreter
//! itself never has to guess; readers of other clients use the window to accept both answers.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::common::Reply;

/// Databases the test uses (MOVE, COPY … DB and SWAPDB go between them).
pub const DBS: usize = 2;
/// Tolerance between the test's clock and the server's millisecond expiry checks.
pub const SLACK_MS: i64 = 3;
/// `hi` of a deadline whose command has not been answered yet.
pub const PENDING: i64 = i64::MAX;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Hash(BTreeMap<String, String>),
    Set(BTreeSet<String>),
    List(VecDeque<String>),
    ZSet(BTreeMap<String, f64>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Hash(_) => "hash",
            Val::Set(_) => "set",
            Val::List(_) => "list",
            Val::ZSet(_) => "zset",
        }
    }
}

/// Deadline window in Unix milliseconds (`lo == hi` for absolute deadlines).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exp {
    pub lo: i64,
    pub hi: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub val: Val,
    pub exp: Option<Exp>,
}

/// What a reply must be.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    Exact(Reply),
    /// TTL (`ms == false`) or PTTL of a key whose deadline lies in the window.
    Ttl {
        ms: bool,
        exp: Exp,
    },
}

impl Expect {
    /// Whether `got` (already normalized) fits, for a read sent at `sent` and answered at `recv`.
    pub fn accepts(&self, got: &Reply, sent: i64, recv: i64) -> bool {
        match self {
            Expect::Exact(r) => r == got,
            Expect::Ttl { ms, exp } => {
                let Reply::Int(v) = got else { return false };
                let lo = exp.lo - recv - SLACK_MS;
                let hi = exp.hi.saturating_sub(sent).saturating_add(SLACK_MS);
                if *ms {
                    (lo..=hi).contains(v)
                } else {
                    ((lo + 500).div_euclid(1000)..=(hi.saturating_add(500)).div_euclid(1000)).contains(v)
                }
            }
        }
    }

    pub fn exact(self) -> Reply {
        match self {
            Expect::Exact(r) => r,
            other => panic!("test bug: {other:?} inside a transaction or script"),
        }
    }
}

pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn err(s: &str) -> Reply {
    Reply::Err(s.to_string())
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// Redis's `string2ll`: canonical decimal integers only.
pub fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = s == "0" || (digits.len() <= 19 && digits.starts_with(|c: char| ('1'..='9').contains(&c)));
    if !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The float forms the generator lets INCRBYFLOAT/HINCRBYFLOAT see: plain decimals parse, words
/// fail; anything else (e.g. "5\0", "3.512") the generator avoids, `None` here.
pub fn float_form(s: &str) -> Option<Result<f64, ()>> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut parts = body.split('.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let decimal = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_none();
    if decimal {
        // Only values whose sums are exact both in f64 and in Redis's long double (so both
        // print the same): multiples of 1/1024 of moderate size. "3.512" is left out.
        return s.parse::<f64>().ok().filter(|f| (f * 1024.0).fract() == 0.0 && f.abs() < 1e12).map(Ok);
    }
    let word = !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase()) && !s.starts_with(['i', 'n']);
    word.then_some(Err(()))
}

/// A score or float result as Redis prints it (the test uses dyadic values only, so exact).
pub fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The state of every key one writer owns.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub dbs: [BTreeMap<String, Entry>; DBS],
    /// Database the writer's connection has selected.
    pub db: usize,
    /// Keys the last commands may have changed, as (db, key).
    pub dirty: BTreeSet<(usize, String)>,
    /// Unix ms when the command is sent (relative TTLs start here).
    pub now: i64,
}

/// Normalize index ranges like Redis's LRANGE/ZRANGE: `None` when empty.
fn range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { start + len } else { start };
    let mut e = if end < 0 { end + len } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

/// Members of a sorted set in rank order.
pub fn zorder(z: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = z.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
    v
}

fn zflat(items: &[(String, f64)]) -> Reply {
    Reply::Array(items.iter().flat_map(|(m, s)| [bulk(m), bulk(&fmt_num(*s))]).collect())
}

fn strs(items: impl IntoIterator<Item = String>) -> Reply {
    Reply::Array(items.into_iter().map(|s| bulk(&s)).collect())
}

fn int_arg(s: &str) -> i64 {
    s.parse().unwrap_or_else(|_| panic!("test bug: integer argument {s:?}"))
}

/// The reply of a read-only command on one key's state (also used by readers of other
/// clients). Multi-key reads are handled by [`Model::exec`].
pub fn read(state: Option<&Entry>, cmd: &[String]) -> Expect {
    let name = cmd[0].to_ascii_uppercase();
    let val = state.map(|e| &e.val);
    let wrong = || Expect::Exact(err(WRONGTYPE));
    let r = match (name.as_str(), val) {
        ("EXISTS", _) => Reply::Int(val.is_some() as i64),
        ("TYPE", _) => Reply::Status(val.map_or("none", Val::type_name).into()),
        ("TTL" | "PTTL", _) => {
            return match state {
                None => Expect::Exact(Reply::Int(-2)),
                Some(Entry { exp: None, .. }) => Expect::Exact(Reply::Int(-1)),
                Some(Entry { exp: Some(exp), .. }) => Expect::Ttl { ms: name == "PTTL", exp: *exp },
            }
        }
        ("GET", None) => Reply::Nil,
        ("GET", Some(Val::Str(s))) => bulk(s),
        ("STRLEN", None) => Reply::Int(0),
        ("STRLEN", Some(Val::Str(s))) => Reply::Int(s.len() as i64),
        ("GETRANGE", None) => bulk(""),
        ("GETRANGE", Some(Val::Str(s))) => {
            let (start, end) = (int_arg(&cmd[2]), int_arg(&cmd[3]));
            // Unlike LRANGE, GETRANGE clamps a negative end to 0 before comparing.
            let len = s.len() as i64;
            let from = if start < 0 { (start + len).max(0) } else { start };
            let to = if end < 0 { (end + len).max(0) } else { end }.min(len - 1);
            if start < 0 && end < 0 && start > end || from > to || len == 0 {
                bulk("")
            } else {
                bulk(&s[from as usize..=to as usize])
            }
        }
        ("HGET", None) => Reply::Nil,
        ("HGET", Some(Val::Hash(h))) => h.get(&cmd[2]).map_or(Reply::Nil, |v| bulk(v)),
        ("HMGET", None) => Reply::Array(cmd[2..].iter().map(|_| Reply::Nil).collect()),
        ("HMGET", Some(Val::Hash(h))) => {
            Reply::Array(cmd[2..].iter().map(|f| h.get(f).map_or(Reply::Nil, |v| bulk(v))).collect())
        }
        ("HGETALL", None) => Reply::Array(vec![]),
        ("HGETALL", Some(Val::Hash(h))) => Reply::Array(h.iter().flat_map(|(f, v)| [bulk(f), bulk(v)]).collect()),
        ("HLEN", None) => Reply::Int(0),
        ("HLEN", Some(Val::Hash(h))) => Reply::Int(h.len() as i64),
        ("SMEMBERS", None) => Reply::Array(vec![]),
        ("SMEMBERS", Some(Val::Set(s))) => strs(s.iter().cloned()),
        ("SISMEMBER", None) => Reply::Int(0),
        ("SISMEMBER", Some(Val::Set(s))) => Reply::Int(s.contains(&cmd[2]) as i64),
        ("SCARD", None) => Reply::Int(0),
        ("SCARD", Some(Val::Set(s))) => Reply::Int(s.len() as i64),
        ("LRANGE", None) => Reply::Array(vec![]),
        ("LRANGE", Some(Val::List(l))) => match range(int_arg(&cmd[2]), int_arg(&cmd[3]), l.len()) {
            Some((a, b)) => strs(l.range(a..=b).cloned()),
            None => Reply::Array(vec![]),
        },
        ("LINDEX", None) => Reply::Nil,
        ("LINDEX", Some(Val::List(l))) => {
            let i = int_arg(&cmd[2]);
            let i = if i < 0 { i + l.len() as i64 } else { i };
            usize::try_from(i).ok().and_then(|i| l.get(i)).map_or(Reply::Nil, |v| bulk(v))
        }
        ("LLEN", None) => Reply::Int(0),
        ("LLEN", Some(Val::List(l))) => Reply::Int(l.len() as i64),
        ("ZRANGE", None) => Reply::Array(vec![]),
        ("ZRANGE", Some(Val::ZSet(z))) => {
            let order = zorder(z);
            match range(int_arg(&cmd[2]), int_arg(&cmd[3]), order.len()) {
                Some((a, b)) => zflat(&order[a..=b]),
                None => Reply::Array(vec![]),
            }
        }
        ("ZSCORE", None) => Reply::Nil,
        ("ZSCORE", Some(Val::ZSet(z))) => z.get(&cmd[2]).map_or(Reply::Nil, |s| bulk(&fmt_num(*s))),
        ("ZCARD", None) => Reply::Int(0),
        ("ZCARD", Some(Val::ZSet(z))) => Reply::Int(z.len() as i64),
        (
            "GET" | "STRLEN" | "GETRANGE" | "HGET" | "HMGET" | "HGETALL" | "HLEN" | "SMEMBERS" | "SISMEMBER" | "SCARD"
            | "LRANGE" | "LINDEX" | "LLEN" | "ZRANGE" | "ZSCORE" | "ZCARD",
            Some(_),
        ) => return wrong(),
        _ => panic!("test bug: {name} is not a single-key read"),
    };
    Expect::Exact(r)
}

/// Sorts the parts of a reply whose order Redis leaves open (set members, hash pairs), so
/// replies compare exactly. `cmd` is the command that produced `r`.
pub fn normalize(cmd: &[String], r: Reply) -> Reply {
    let name = cmd[0].to_ascii_uppercase();
    let key = |r: &Reply| match r {
        Reply::Bulk(b) => b.clone(),
        other => format!("{other:?}").into_bytes(),
    };
    match (name.as_str(), r) {
        ("SMEMBERS" | "SPOP", Reply::Array(mut a)) => {
            a.sort_by_key(key);
            Reply::Array(a)
        }
        ("HGETALL", Reply::Array(a)) => {
            let mut pairs: Vec<(Reply, Reply)> = a.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
            pairs.sort_by_key(|p| key(&p.0));
            Reply::Array(pairs.into_iter().flat_map(|(f, v)| [f, v]).collect())
        }
        (_, r) => r,
    }
}

enum Ttl {
    Clear,
    Keep,
    Rel(i64),
    Abs(i64),
}

impl Model {
    fn cur(&self) -> &BTreeMap<String, Entry> {
        &self.dbs[self.db]
    }

    fn get(&self, k: &str) -> Option<&Entry> {
        self.dbs[self.db].get(k)
    }

    /// The live value of `k` in the current database.
    fn val(&self, k: &str) -> Option<&Val> {
        self.get(k).map(|e| &e.val)
    }

    fn touch(&mut self, db: usize, k: &str) {
        self.dirty.insert((db, k.to_string()));
    }

    pub fn remove_in(&mut self, db: usize, k: &str) -> Option<Entry> {
        self.touch(db, k);
        self.dbs[db].remove(k)
    }

    fn remove(&mut self, k: &str) -> Option<Entry> {
        self.remove_in(self.db, k)
    }

    pub fn put_in(&mut self, db: usize, k: &str, e: Entry) {
        self.touch(db, k);
        self.dbs[db].insert(k.to_string(), e);
    }

    fn exp_from(&self, t: Ttl, old: Option<Exp>) -> Option<Exp> {
        match t {
            Ttl::Clear => None,
            Ttl::Keep => old,
            Ttl::Rel(ms) => Some(Exp { lo: self.now + ms, hi: PENDING }),
            Ttl::Abs(at) => Some(Exp { lo: at, hi: at }),
        }
    }

    /// Store `val` at `k`, keeping the old TTL when `keep` (in-place changes of Redis).
    fn set_val(&mut self, k: &str, val: Val, t: Ttl) {
        let old = self.get(k).and_then(|e| e.exp);
        let exp = self.exp_from(t, old);
        let db = self.db;
        self.put_in(db, k, Entry { val, exp });
    }

    /// Store a collection, or delete the key when it became empty (as Redis does).
    fn store_coll(&mut self, k: &str, val: Val, t: Ttl) {
        let empty = match &val {
            Val::Str(_) => false,
            Val::Hash(h) => h.is_empty(),
            Val::Set(s) => s.is_empty(),
            Val::List(l) => l.is_empty(),
            Val::ZSet(z) => z.is_empty(),
        };
        if empty {
            self.remove(k);
        } else {
            self.set_val(k, val, t);
        }
    }

    fn str_of(&self, k: &str) -> Result<Option<String>, Reply> {
        match self.val(k) {
            None => Ok(None),
            Some(Val::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    fn hash_of(&self, k: &str) -> Result<BTreeMap<String, String>, Reply> {
        match self.val(k) {
            None => Ok(BTreeMap::new()),
            Some(Val::Hash(h)) => Ok(h.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    fn set_of(&self, k: &str) -> Result<BTreeSet<String>, Reply> {
        match self.val(k) {
            None => Ok(BTreeSet::new()),
            Some(Val::Set(s)) => Ok(s.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    fn list_of(&self, k: &str) -> Result<VecDeque<String>, Reply> {
        match self.val(k) {
            None => Ok(VecDeque::new()),
            Some(Val::List(l)) => Ok(l.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    fn zset_of(&self, k: &str) -> Result<BTreeMap<String, f64>, Reply> {
        match self.val(k) {
            None => Ok(BTreeMap::new()),
            Some(Val::ZSet(z)) => Ok(z.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    /// Run one command against the model and return the reply the server must give.
    pub fn exec(&mut self, cmd: &[String]) -> Expect {
        match self.exec_inner(cmd) {
            Ok(e) => e,
            Err(r) => Expect::Exact(r),
        }
    }

    fn exec_inner(&mut self, cmd: &[String]) -> Result<Expect, Reply> {
        let name = cmd[0].to_ascii_uppercase();
        let a = &cmd[1..];
        let exact = |r: Reply| Ok(Expect::Exact(r));
        match name.as_str() {
            // ---- reads over several keys
            "MGET" => exact(Reply::Array(
                a.iter()
                    .map(|k| match self.val(k) {
                        Some(Val::Str(s)) => bulk(s),
                        _ => Reply::Nil,
                    })
                    .collect(),
            )),
            "EXISTS" => exact(Reply::Int(a.iter().filter(|k| self.get(k).is_some()).count() as i64)),
            "DBSIZE" => exact(Reply::Int(self.cur().len() as i64)),
            "GET" | "STRLEN" | "GETRANGE" | "TYPE" | "TTL" | "PTTL" | "HGET" | "HMGET" | "HGETALL" | "HLEN"
            | "SMEMBERS" | "SISMEMBER" | "SCARD" | "LRANGE" | "LINDEX" | "LLEN" | "ZRANGE" | "ZSCORE" | "ZCARD" => {
                Ok(read(self.get(&a[0]), cmd))
            }
            // ---- strings
            "SET" => self.set(a),
            "SETNX" => {
                if self.get(&a[0]).is_some() {
                    return exact(Reply::Int(0));
                }
                self.set_val(&a[0], Val::Str(a[1].clone()), Ttl::Clear);
                exact(Reply::Int(1))
            }
            "SETEX" | "PSETEX" => {
                let n = int_arg(&a[1]);
                let ms = if name == "SETEX" { n * 1000 } else { n };
                self.set_val(&a[0], Val::Str(a[2].clone()), Ttl::Rel(ms));
                exact(ok())
            }
            "MSET" => {
                for p in a.chunks(2) {
                    self.set_val(&p[0], Val::Str(p[1].clone()), Ttl::Clear);
                }
                exact(ok())
            }
            "MSETNX" => {
                if a.chunks(2).any(|p| self.get(&p[0]).is_some()) {
                    return exact(Reply::Int(0));
                }
                for p in a.chunks(2) {
                    self.set_val(&p[0], Val::Str(p[1].clone()), Ttl::Clear);
                }
                exact(Reply::Int(1))
            }
            "APPEND" => {
                let s = self.str_of(&a[0])?.unwrap_or_default() + &a[1];
                let n = s.len();
                self.set_val(&a[0], Val::Str(s), Ttl::Keep);
                exact(Reply::Int(n as i64))
            }
            "SETRANGE" => {
                let old = self.str_of(&a[0])?;
                let off = int_arg(&a[1]) as usize;
                if a[2].is_empty() {
                    return exact(Reply::Int(old.map_or(0, |s| s.len() as i64)));
                }
                let mut b = old.unwrap_or_default().into_bytes();
                if b.len() < off + a[2].len() {
                    b.resize(off + a[2].len(), 0);
                }
                b[off..off + a[2].len()].copy_from_slice(a[2].as_bytes());
                let n = b.len();
                let s = String::from_utf8(b).unwrap_or_else(|_| panic!("test bug: non-UTF-8 value"));
                self.set_val(&a[0], Val::Str(s), Ttl::Keep);
                exact(Reply::Int(n as i64))
            }
            "INCR" | "DECR" | "INCRBY" | "DECRBY" => {
                let by = match name.as_str() {
                    "INCR" => 1,
                    "DECR" => -1,
                    "INCRBY" => int_arg(&a[1]),
                    _ => -int_arg(&a[1]),
                };
                let old = match self.str_of(&a[0])? {
                    None => 0,
                    Some(s) => parse_int(&s).ok_or_else(|| err(NOT_INT))?,
                };
                let n = old + by;
                self.set_val(&a[0], Val::Str(n.to_string()), Ttl::Keep);
                exact(Reply::Int(n))
            }
            "INCRBYFLOAT" => {
                let old = match self.str_of(&a[0])? {
                    None => 0.0,
                    Some(s) => match float_form(&s) {
                        Some(Ok(f)) => f,
                        Some(Err(())) => return Err(err("ERR value is not a valid float")),
                        None => panic!("test bug: INCRBYFLOAT on {s:?}"),
                    },
                };
                let s = fmt_num(old + a[1].parse::<f64>().unwrap_or(0.0));
                self.set_val(&a[0], Val::Str(s.clone()), Ttl::Keep);
                exact(bulk(&s))
            }
            "GETSET" => {
                let old = self.str_of(&a[0])?;
                self.set_val(&a[0], Val::Str(a[1].clone()), Ttl::Clear);
                exact(old.map_or(Reply::Nil, |s| bulk(&s)))
            }
            "GETDEL" => {
                let old = self.str_of(&a[0])?;
                if old.is_some() {
                    self.remove(&a[0]);
                }
                exact(old.map_or(Reply::Nil, |s| bulk(&s)))
            }
            "GETEX" => {
                let Some(s) = self.str_of(&a[0])? else { return exact(Reply::Nil) };
                let t = match a.get(1).map(|o| o.to_ascii_uppercase()).as_deref() {
                    None => Ttl::Keep,
                    Some("PERSIST") => Ttl::Clear,
                    Some("EX") => Ttl::Rel(int_arg(&a[2]) * 1000),
                    Some("PX") => Ttl::Rel(int_arg(&a[2])),
                    Some("PXAT") => Ttl::Abs(int_arg(&a[2])),
                    Some(o) => panic!("test bug: GETEX {o}"),
                };
                self.set_val(&a[0], Val::Str(s.clone()), t);
                exact(bulk(&s))
            }
            // ---- keyspace
            "DEL" | "UNLINK" => {
                let mut n = 0;
                for k in a {
                    n += self.remove(k).is_some() as i64;
                }
                exact(Reply::Int(n))
            }
            "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" => {
                let Some(e) = self.get(&a[0]).cloned() else { return exact(Reply::Int(0)) };
                let n = int_arg(&a[1]);
                let t = match name.as_str() {
                    "EXPIRE" => Ttl::Rel(n * 1000),
                    "PEXPIRE" => Ttl::Rel(n),
                    "EXPIREAT" => Ttl::Abs(n * 1000),
                    _ => Ttl::Abs(n),
                };
                let past = match t {
                    Ttl::Rel(ms) => ms <= 0,
                    Ttl::Abs(at) => at <= self.now,
                    _ => false,
                };
                if past {
                    self.remove(&a[0]);
                } else {
                    self.set_val(&a[0], e.val, t);
                }
                exact(Reply::Int(1))
            }
            "PERSIST" => match self.get(&a[0]).cloned() {
                Some(Entry { val, exp: Some(_) }) => {
                    self.set_val(&a[0], val, Ttl::Clear);
                    exact(Reply::Int(1))
                }
                _ => exact(Reply::Int(0)),
            },
            "RENAME" | "RENAMENX" => {
                let nx = name == "RENAMENX";
                let Some(e) = self.get(&a[0]).cloned() else { return Err(err("ERR no such key")) };
                if a[0] == a[1] {
                    return exact(if nx { Reply::Int(0) } else { ok() });
                }
                if nx && self.get(&a[1]).is_some() {
                    return exact(Reply::Int(0));
                }
                self.remove(&a[0]);
                let db = self.db;
                self.put_in(db, &a[1], e);
                exact(if nx { Reply::Int(1) } else { ok() })
            }
            "MOVE" => {
                let to = int_arg(&a[1]) as usize;
                if to == self.db {
                    return Err(err("ERR source and destination objects are the same"));
                }
                let Some(e) = self.get(&a[0]).cloned() else { return exact(Reply::Int(0)) };
                if self.dbs[to].contains_key(&a[0]) {
                    return exact(Reply::Int(0));
                }
                self.remove(&a[0]);
                self.put_in(to, &a[0], e);
                exact(Reply::Int(1))
            }
            "COPY" => {
                let mut to = self.db;
                let mut replace = false;
                let mut i = 2;
                while i < a.len() {
                    if a[i].eq_ignore_ascii_case("DB") {
                        to = int_arg(&a[i + 1]) as usize;
                        i += 1;
                    } else {
                        replace = true;
                    }
                    i += 1;
                }
                if to == self.db && a[0] == a[1] {
                    return Err(err("ERR source and destination objects are the same"));
                }
                let Some(e) = self.get(&a[0]).cloned() else { return exact(Reply::Int(0)) };
                if self.dbs[to].contains_key(&a[1]) && !replace {
                    return exact(Reply::Int(0));
                }
                self.put_in(to, &a[1], e);
                exact(Reply::Int(1))
            }
            // ---- hashes
            "HSET" => {
                let mut h = self.hash_of(&a[0])?;
                let added = a[1..].chunks(2).filter(|p| h.insert(p[0].clone(), p[1].clone()).is_none()).count();
                self.set_val(&a[0], Val::Hash(h), Ttl::Keep);
                exact(Reply::Int(added as i64))
            }
            "HSETNX" => {
                let mut h = self.hash_of(&a[0])?;
                if h.contains_key(&a[1]) {
                    return exact(Reply::Int(0));
                }
                h.insert(a[1].clone(), a[2].clone());
                self.set_val(&a[0], Val::Hash(h), Ttl::Keep);
                exact(Reply::Int(1))
            }
            "HDEL" => {
                let mut h = self.hash_of(&a[0])?;
                let n = a[1..].iter().filter(|f| h.remove(*f).is_some()).count();
                if n > 0 {
                    self.store_coll(&a[0], Val::Hash(h), Ttl::Keep);
                }
                exact(Reply::Int(n as i64))
            }
            "HINCRBY" => {
                let mut h = self.hash_of(&a[0])?;
                let old = match h.get(&a[1]) {
                    None => 0,
                    Some(v) => parse_int(v).ok_or_else(|| err("ERR hash value is not an integer"))?,
                };
                let n = old + int_arg(&a[2]);
                h.insert(a[1].clone(), n.to_string());
                self.set_val(&a[0], Val::Hash(h), Ttl::Keep);
                exact(Reply::Int(n))
            }
            "HINCRBYFLOAT" => {
                let mut h = self.hash_of(&a[0])?;
                let old = match h.get(&a[1]) {
                    None => 0.0,
                    Some(v) => match float_form(v) {
                        Some(Ok(f)) => f,
                        Some(Err(())) => return Err(err("ERR hash value is not a float")),
                        None => panic!("test bug: HINCRBYFLOAT on {v:?}"),
                    },
                };
                let s = fmt_num(old + a[2].parse::<f64>().unwrap_or(0.0));
                h.insert(a[1].clone(), s.clone());
                self.set_val(&a[0], Val::Hash(h), Ttl::Keep);
                exact(bulk(&s))
            }
            // ---- sets
            "SADD" => {
                let mut s = self.set_of(&a[0])?;
                let n = a[1..].iter().filter(|m| s.insert((*m).clone())).count();
                self.set_val(&a[0], Val::Set(s), Ttl::Keep);
                exact(Reply::Int(n as i64))
            }
            "SREM" => {
                let mut s = self.set_of(&a[0])?;
                let n = a[1..].iter().filter(|m| s.remove(*m)).count();
                if n > 0 {
                    self.store_coll(&a[0], Val::Set(s), Ttl::Keep);
                }
                exact(Reply::Int(n as i64))
            }
            "SPOP" => {
                // Only whole pops are deterministic; the writer resolves partial ones itself.
                let s = self.set_of(&a[0])?;
                if a.len() == 1 {
                    assert!(s.len() <= 1, "test bug: random SPOP through exec");
                    self.remove(&a[0]);
                    return exact(s.into_iter().next().map_or(Reply::Nil, |m| bulk(&m)));
                }
                assert!(int_arg(&a[1]) as usize >= s.len(), "test bug: random SPOP through exec");
                if self.get(&a[0]).is_none() {
                    return exact(Reply::Array(vec![]));
                }
                self.remove(&a[0]);
                exact(strs(s))
            }
            "SMOVE" => {
                if self.get(&a[0]).is_none() {
                    return exact(Reply::Int(0));
                }
                let mut src = self.set_of(&a[0])?;
                let mut dst = self.set_of(&a[1])?;
                if a[0] == a[1] {
                    return exact(Reply::Int(src.contains(&a[2]) as i64));
                }
                if !src.remove(&a[2]) {
                    return exact(Reply::Int(0));
                }
                self.store_coll(&a[0], Val::Set(src), Ttl::Keep);
                dst.insert(a[2].clone());
                self.set_val(&a[1], Val::Set(dst), Ttl::Keep);
                exact(Reply::Int(1))
            }
            "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" => {
                let mut sets = Vec::new();
                for k in &a[1..] {
                    sets.push(self.get(k).is_some().then(|| self.set_of(k)).transpose()?);
                }
                let out: BTreeSet<String> = match name.as_str() {
                    "SINTERSTORE" if sets.iter().any(Option::is_none) => BTreeSet::new(),
                    "SINTERSTORE" => {
                        let mut it = sets.into_iter().flatten();
                        let first = it.next().unwrap_or_default();
                        it.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
                    }
                    "SUNIONSTORE" => sets.into_iter().flatten().flatten().collect(),
                    _ => {
                        let mut it = sets.into_iter();
                        let first = it.next().flatten().unwrap_or_default();
                        it.flatten().fold(first, |acc, s| acc.difference(&s).cloned().collect())
                    }
                };
                let n = out.len();
                self.store_coll(&a[0], Val::Set(out), Ttl::Clear);
                exact(Reply::Int(n as i64))
            }
            // ---- lists
            "LPUSH" | "RPUSH" => {
                let mut l = self.list_of(&a[0])?;
                for v in &a[1..] {
                    if name == "LPUSH" {
                        l.push_front(v.clone());
                    } else {
                        l.push_back(v.clone());
                    }
                }
                let n = l.len();
                self.set_val(&a[0], Val::List(l), Ttl::Keep);
                exact(Reply::Int(n as i64))
            }
            "LPOP" | "RPOP" => {
                if self.get(&a[0]).is_none() {
                    return exact(Reply::Nil);
                }
                let mut l = self.list_of(&a[0])?;
                let count = a.get(1).map(|c| int_arg(c) as usize);
                let mut out = Vec::new();
                for _ in 0..count.unwrap_or(1) {
                    let v = if name == "LPOP" { l.pop_front() } else { l.pop_back() };
                    out.extend(v);
                }
                self.store_coll(&a[0], Val::List(l), Ttl::Keep);
                exact(match count {
                    None => bulk(&out[0]),
                    Some(_) => strs(out),
                })
            }
            "LSET" => {
                if self.get(&a[0]).is_none() {
                    return Err(err("ERR no such key"));
                }
                let mut l = self.list_of(&a[0])?;
                let i = int_arg(&a[1]);
                let i = if i < 0 { i + l.len() as i64 } else { i };
                let Some(slot) = usize::try_from(i).ok().and_then(|i| l.get_mut(i)) else {
                    return Err(err("ERR index out of range"));
                };
                *slot = a[2].clone();
                self.set_val(&a[0], Val::List(l), Ttl::Keep);
                exact(ok())
            }
            "LTRIM" => {
                let l = self.list_of(&a[0])?;
                if self.get(&a[0]).is_none() {
                    return exact(ok());
                }
                let kept: VecDeque<String> = match range(int_arg(&a[1]), int_arg(&a[2]), l.len()) {
                    Some((s, e)) => l.range(s..=e).cloned().collect(),
                    None => VecDeque::new(),
                };
                self.store_coll(&a[0], Val::List(kept), Ttl::Keep);
                exact(ok())
            }
            "LREM" => {
                let l = self.list_of(&a[0])?;
                let count = int_arg(&a[1]);
                let max = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
                let mut removed = 0;
                let mut items: Vec<String> = l.into_iter().collect();
                if count < 0 {
                    items.reverse();
                }
                items.retain(|v| {
                    if removed < max && *v == a[2] {
                        removed += 1;
                        false
                    } else {
                        true
                    }
                });
                if count < 0 {
                    items.reverse();
                }
                if removed > 0 {
                    self.store_coll(&a[0], Val::List(items.into()), Ttl::Keep);
                }
                exact(Reply::Int(removed as i64))
            }
            "LINSERT" => {
                if self.get(&a[0]).is_none() {
                    return exact(Reply::Int(0));
                }
                let mut l = self.list_of(&a[0])?;
                let Some(pos) = l.iter().position(|v| *v == a[2]) else { return exact(Reply::Int(-1)) };
                let at = if a[1].eq_ignore_ascii_case("BEFORE") { pos } else { pos + 1 };
                l.insert(at, a[3].clone());
                let n = l.len();
                self.set_val(&a[0], Val::List(l), Ttl::Keep);
                exact(Reply::Int(n as i64))
            }
            "LMOVE" => {
                if self.get(&a[0]).is_none() {
                    return exact(Reply::Nil);
                }
                let mut src = self.list_of(&a[0])?;
                self.list_of(&a[1])?;
                let left = |s: &String| s.eq_ignore_ascii_case("LEFT");
                let v = if left(&a[2]) { src.pop_front() } else { src.pop_back() };
                let v = v.unwrap_or_else(|| panic!("test bug: empty list in the model"));
                self.store_coll(&a[0], Val::List(src), Ttl::Keep);
                // Read the destination after the pop: the source may be the destination.
                let mut dst = self.list_of(&a[1])?;
                if left(&a[3]) {
                    dst.push_front(v.clone());
                } else {
                    dst.push_back(v.clone());
                }
                self.set_val(&a[1], Val::List(dst), Ttl::Keep);
                exact(bulk(&v))
            }
            // ---- sorted sets
            "ZADD" => self.zadd(a),
            "ZINCRBY" => {
                let mut z = self.zset_of(&a[0])?;
                let s = z.get(&a[2]).copied().unwrap_or(0.0) + a[1].parse::<f64>().unwrap_or(0.0);
                z.insert(a[2].clone(), s);
                self.set_val(&a[0], Val::ZSet(z), Ttl::Keep);
                exact(bulk(&fmt_num(s)))
            }
            "ZREM" => {
                let mut z = self.zset_of(&a[0])?;
                let n = a[1..].iter().filter(|m| z.remove(*m).is_some()).count();
                if n > 0 {
                    self.store_coll(&a[0], Val::ZSet(z), Ttl::Keep);
                }
                exact(Reply::Int(n as i64))
            }
            "ZPOPMIN" => {
                let mut z = self.zset_of(&a[0])?;
                let count = a.get(1).map_or(1, |c| int_arg(c) as usize);
                let popped: Vec<(String, f64)> = zorder(&z).into_iter().take(count).collect();
                for (m, _) in &popped {
                    z.remove(m);
                }
                if !popped.is_empty() {
                    self.store_coll(&a[0], Val::ZSet(z), Ttl::Keep);
                }
                exact(zflat(&popped))
            }
            "ZREMRANGEBYRANK" => {
                let mut z = self.zset_of(&a[0])?;
                let order = zorder(&z);
                let Some((s, e)) = range(int_arg(&a[1]), int_arg(&a[2]), order.len()) else {
                    return exact(Reply::Int(0));
                };
                for (m, _) in &order[s..=e] {
                    z.remove(m);
                }
                self.store_coll(&a[0], Val::ZSet(z), Ttl::Keep);
                exact(Reply::Int((e - s + 1) as i64))
            }
            "ZRANGESTORE" => {
                let z = self.zset_of(&a[1])?;
                let order = zorder(&z);
                let out: BTreeMap<String, f64> = match range(int_arg(&a[2]), int_arg(&a[3]), order.len()) {
                    Some((s, e)) => order[s..=e].iter().cloned().collect(),
                    None => BTreeMap::new(),
                };
                let n = out.len();
                self.store_coll(&a[0], Val::ZSet(out), Ttl::Clear);
                exact(Reply::Int(n as i64))
            }
            "ZUNIONSTORE" => {
                let n = int_arg(&a[1]) as usize;
                let agg = a.get(n + 3).map(|s| s.to_ascii_uppercase()).unwrap_or_else(|| "SUM".into());
                let mut out: BTreeMap<String, f64> = BTreeMap::new();
                for k in &a[2..2 + n] {
                    let members: Vec<(String, f64)> = match self.val(k) {
                        None => vec![],
                        Some(Val::Set(s)) => s.iter().map(|m| (m.clone(), 1.0)).collect(),
                        Some(Val::ZSet(z)) => z.iter().map(|(m, s)| (m.clone(), *s)).collect(),
                        Some(_) => return Err(err(WRONGTYPE)),
                    };
                    for (m, s) in members {
                        out.entry(m)
                            .and_modify(|o| {
                                *o = match agg.as_str() {
                                    "MIN" => o.min(s),
                                    "MAX" => o.max(s),
                                    _ => *o + s,
                                }
                            })
                            .or_insert(s);
                    }
                }
                let len = out.len();
                self.store_coll(&a[0], Val::ZSet(out), Ttl::Clear);
                exact(Reply::Int(len as i64))
            }
            "SORT" => self.sort(a),
            other => panic!("test bug: the model does not know {other}"),
        }
    }

    fn set(&mut self, a: &[String]) -> Result<Expect, Reply> {
        let (mut nx, mut xx, mut get) = (false, false, false);
        let mut t = Ttl::Clear;
        let mut i = 2;
        while i < a.len() {
            match a[i].to_ascii_uppercase().as_str() {
                "NX" => nx = true,
                "XX" => xx = true,
                "GET" => get = true,
                "KEEPTTL" => t = Ttl::Keep,
                "EX" | "PX" | "PXAT" => {
                    let n = int_arg(&a[i + 1]);
                    t = match a[i].to_ascii_uppercase().as_str() {
                        "EX" => Ttl::Rel(n * 1000),
                        "PX" => Ttl::Rel(n),
                        _ => Ttl::Abs(n),
                    };
                    i += 1;
                }
                o => panic!("test bug: SET {o}"),
            }
            i += 1;
        }
        let old = if get { self.str_of(&a[0])? } else { None };
        let exists = self.get(&a[0]).is_some();
        let done = !(nx && exists || xx && !exists);
        if done {
            self.set_val(&a[0], Val::Str(a[1].clone()), t);
        }
        Ok(Expect::Exact(match (get, done) {
            (true, _) => old.map_or(Reply::Nil, |s| bulk(&s)),
            (false, true) => ok(),
            (false, false) => Reply::Nil,
        }))
    }

    fn zadd(&mut self, a: &[String]) -> Result<Expect, Reply> {
        let mut z = self.zset_of(&a[0])?;
        let existed = self.get(&a[0]).is_some();
        let mut flags = BTreeSet::new();
        let mut i = 1;
        while ["NX", "XX", "GT", "LT", "CH", "INCR"].contains(&a[i].to_ascii_uppercase().as_str()) {
            flags.insert(a[i].to_ascii_uppercase());
            i += 1;
        }
        let f = |s: &str| flags.contains(s);
        let (mut added, mut changed) = (0, 0);
        let mut incr_result = Reply::Nil;
        for p in a[i..].chunks(2) {
            let score: f64 = p[0].parse().unwrap_or_else(|_| panic!("test bug: score {}", p[0]));
            match z.get(&p[1]).copied() {
                Some(old) => {
                    if f("NX") {
                        continue;
                    }
                    let new = if f("INCR") { old + score } else { score };
                    if f("GT") && new <= old || f("LT") && new >= old {
                        continue;
                    }
                    if new != old {
                        changed += 1;
                    }
                    z.insert(p[1].clone(), new);
                    incr_result = bulk(&fmt_num(new));
                }
                None => {
                    if f("XX") {
                        continue;
                    }
                    z.insert(p[1].clone(), score);
                    added += 1;
                    incr_result = bulk(&fmt_num(score));
                }
            }
        }
        if existed || !z.is_empty() {
            self.set_val(&a[0], Val::ZSet(z), Ttl::Keep);
        }
        Ok(Expect::Exact(if f("INCR") {
            incr_result
        } else {
            Reply::Int(if f("CH") { added + changed } else { added })
        }))
    }

    fn sort(&mut self, a: &[String]) -> Result<Expect, Reply> {
        let mut items: Vec<String> = match self.val(&a[0]) {
            None => vec![],
            Some(Val::List(l)) => l.iter().cloned().collect(),
            Some(Val::Set(s)) => s.iter().cloned().collect(),
            Some(Val::ZSet(z)) => z.keys().cloned().collect(),
            Some(_) => return Err(err(WRONGTYPE)),
        };
        let has = |o: &str| a.iter().any(|x| x.eq_ignore_ascii_case(o));
        if has("ALPHA") {
            items.sort();
        } else {
            let mut keyed = Vec::new();
            for v in items {
                let n = parse_int(&v).ok_or_else(|| err("ERR One or more scores can't be converted into double"))?;
                keyed.push((n, v));
            }
            keyed.sort();
            items = keyed.into_iter().map(|(_, v)| v).collect();
        }
        if has("DESC") {
            items.reverse();
        }
        let dst = a.last().cloned().unwrap_or_default();
        let n = items.len();
        self.store_coll(&dst, Val::List(items.into()), Ttl::Clear);
        Ok(Expect::Exact(Reply::Int(n as i64)))
    }
}

/// A reply in a line: bulks as strings, long arrays cut.
pub fn show(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Reply::Array(a) => {
            let items: Vec<String> = a.iter().take(12).map(show).collect();
            let more = if a.len() > 12 { format!(", … {} items", a.len()) } else { String::new() };
            format!("[{}{more}]", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// A key's state in a line, long collections cut.
pub fn show_state(st: Option<&Entry>) -> String {
    let Some(e) = st else { return "absent".into() };
    let cut = |items: Vec<String>| {
        let n = items.len();
        let mut s = items.into_iter().take(12).collect::<Vec<_>>().join(" ");
        if n > 12 {
            s += &format!(" … {n} items");
        }
        s
    };
    let v = match &e.val {
        Val::Str(s) => format!("{s:?}"),
        Val::Hash(h) => format!("hash{{{}}}", cut(h.iter().map(|(f, v)| format!("{f}={v}")).collect())),
        Val::Set(s) => format!("set{{{}}}", cut(s.iter().cloned().collect())),
        Val::List(l) => format!("list[{}]", cut(l.iter().cloned().collect())),
        Val::ZSet(z) => format!("zset{{{}}}", cut(zorder(z).iter().map(|(m, s)| format!("{m}:{s}")).collect())),
    };
    match e.exp {
        None => v,
        Some(x) if x.hi == PENDING => format!("{v} expires ≥{}", x.lo),
        Some(x) => format!("{v} expires {}..{}", x.lo, x.hi),
    }
}

/// Every key of a model, one per line.
pub fn show_model(m: &Model) -> String {
    let mut out = String::new();
    for (db, keys) in m.dbs.iter().enumerate() {
        for (k, e) in keys {
            out += &format!("  db{db} {k}: {}\n", show_state(Some(e)));
        }
    }
    out
}
