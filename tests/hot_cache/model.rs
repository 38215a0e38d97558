//! The client-side model of the hot-cache test: an exact copy of the keys one writer owns (in
//! every database), what each read of a key must answer, and how replies are compared and
//! shown. The interpreter that applies commands to it is in `exec.rs` and `collections.rs`.
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
pub const NOT_INT: &str = "ERR value is not an integer or out of range";

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

pub fn err(s: &str) -> Reply {
    Reply::Err(s.to_string())
}

pub fn ok() -> Reply {
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
pub fn range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
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

pub fn zflat(items: &[(String, f64)]) -> Reply {
    Reply::Array(items.iter().flat_map(|(m, s)| [bulk(m), bulk(&fmt_num(*s))]).collect())
}

pub fn strs(items: impl IntoIterator<Item = String>) -> Reply {
    Reply::Array(items.into_iter().map(|s| bulk(&s)).collect())
}

pub fn int_arg(s: &str) -> i64 {
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
