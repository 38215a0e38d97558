//! The client-side model of the crash harness: each client's keys as the server must hold
//! them, and the primitive writes that change them (each knows its command and its effect).
//!
//! Every write is deterministic (stream IDs are chosen by the client, trims are exact), so
//! applying a write to the model gives exactly the state the server reaches.

use std::collections::{BTreeMap, BTreeSet};

/// Seconds of the TTLs the harness sets: far beyond any run, so nothing expires meanwhile.
pub const LONG_TTL: &str = "1000000";
/// Streams are trimmed to this many entries (exact `MAXLEN`), lists and strings kept short.
pub const STREAM_MAXLEN: usize = 40;

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Str(String),
    Hash(BTreeMap<String, String>),
    List(Vec<String>),
    Set(BTreeSet<String>),
    /// Member → score (the harness only uses integer scores, so they compare exactly).
    ZSet(BTreeMap<String, i64>),
    /// (id, field, value) in ID order.
    Stream(Vec<(String, String, String)>),
}

/// One key's value and whether it has a TTL.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub data: Data,
    pub ttl: bool,
}

/// A client's keys; a key not in the map must not exist.
pub type State = BTreeMap<String, Entry>;

/// One write command. A MULTI/EXEC block or a script is a list of them.
#[derive(Clone, Debug)]
pub enum Write {
    Set(String, String),
    Append(String, String),
    IncrBy(String, i64),
    HSet(String, String, String),
    HIncrBy(String, String, i64),
    RPush(String, Vec<String>),
    LPop(String),
    SAdd(String, String),
    SRem(String, String),
    ZAdd(String, i64, String),
    ZIncrBy(String, i64, String),
    /// key, id, field, value (`XADD key MAXLEN STREAM_MAXLEN id field value`).
    XAdd(String, String, String, String),
    Expire(String),
    Del(String),
}

impl Write {
    pub fn key(&self) -> &str {
        match self {
            Write::Set(k, _)
            | Write::Append(k, _)
            | Write::IncrBy(k, _)
            | Write::HSet(k, _, _)
            | Write::HIncrBy(k, _, _)
            | Write::RPush(k, _)
            | Write::LPop(k)
            | Write::SAdd(k, _)
            | Write::SRem(k, _)
            | Write::ZAdd(k, _, _)
            | Write::ZIncrBy(k, _, _)
            | Write::XAdd(k, _, _, _)
            | Write::Expire(k)
            | Write::Del(k) => k,
        }
    }

    /// The command, one string per argument.
    pub fn args(&self) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        match self {
            Write::Set(k, v) => s(&["SET", k, v]),
            Write::Append(k, v) => s(&["APPEND", k, v]),
            Write::IncrBy(k, n) => s(&["INCRBY", k, &n.to_string()]),
            Write::HSet(k, f, v) => s(&["HSET", k, f, v]),
            Write::HIncrBy(k, f, n) => s(&["HINCRBY", k, f, &n.to_string()]),
            Write::RPush(k, vs) => {
                let mut a = s(&["RPUSH", k]);
                a.extend(vs.iter().cloned());
                a
            }
            Write::LPop(k) => s(&["LPOP", k]),
            Write::SAdd(k, m) => s(&["SADD", k, m]),
            Write::SRem(k, m) => s(&["SREM", k, m]),
            Write::ZAdd(k, sc, m) => s(&["ZADD", k, &sc.to_string(), m]),
            Write::ZIncrBy(k, n, m) => s(&["ZINCRBY", k, &n.to_string(), m]),
            Write::XAdd(k, id, f, v) => s(&["XADD", k, "MAXLEN", &STREAM_MAXLEN.to_string(), id, f, v]),
            Write::Expire(k) => s(&["EXPIRE", k, LONG_TTL]),
            Write::Del(k) => s(&["DEL", k]),
        }
    }

    /// Applies the write to the model as the server applies it to the key.
    pub fn apply(&self, st: &mut State) {
        let key = self.key().to_string();
        let fresh = |d: Data| Entry { data: d, ttl: false };
        match self {
            Write::Set(_, v) => {
                st.insert(key, fresh(Data::Str(v.clone())));
            }
            Write::Append(_, v) => match st.get_mut(&key) {
                Some(Entry { data: Data::Str(s), .. }) => s.push_str(v),
                _ => {
                    st.insert(key, fresh(Data::Str(v.clone())));
                }
            },
            Write::IncrBy(_, n) => match st.get_mut(&key) {
                Some(Entry { data: Data::Str(s), .. }) => {
                    let old: i64 = s.parse().expect("integer in model");
                    *s = (old + n).to_string();
                }
                _ => {
                    st.insert(key, fresh(Data::Str(n.to_string())));
                }
            },
            Write::HSet(_, f, v) => {
                hash(st, key).insert(f.clone(), v.clone());
            }
            Write::HIncrBy(_, f, n) => {
                let h = hash(st, key);
                let old: i64 = h.get(f).map(|v| v.parse().expect("integer field in model")).unwrap_or(0);
                h.insert(f.clone(), (old + n).to_string());
            }
            Write::RPush(_, vs) => {
                let e = st.entry(key).or_insert_with(|| fresh(Data::List(Vec::new())));
                let Data::List(l) = &mut e.data else { panic!("model: RPUSH on {e:?}") };
                l.extend(vs.iter().cloned());
            }
            Write::LPop(_) => {
                if let Some(Entry { data: Data::List(l), .. }) = st.get_mut(&key) {
                    l.remove(0);
                    if l.is_empty() {
                        st.remove(&key);
                    }
                }
            }
            Write::SAdd(_, m) => {
                let e = st.entry(key).or_insert_with(|| fresh(Data::Set(BTreeSet::new())));
                let Data::Set(s) = &mut e.data else { panic!("model: SADD on {e:?}") };
                s.insert(m.clone());
            }
            Write::SRem(_, m) => {
                if let Some(Entry { data: Data::Set(s), .. }) = st.get_mut(&key) {
                    s.remove(m);
                    if s.is_empty() {
                        st.remove(&key);
                    }
                }
            }
            Write::ZAdd(_, sc, m) => {
                zset(st, key).insert(m.clone(), *sc);
            }
            Write::ZIncrBy(_, n, m) => {
                *zset(st, key).entry(m.clone()).or_insert(0) += n;
            }
            Write::XAdd(_, id, f, v) => {
                let e = st.entry(key).or_insert_with(|| fresh(Data::Stream(Vec::new())));
                let Data::Stream(x) = &mut e.data else { panic!("model: XADD on {e:?}") };
                x.push((id.clone(), f.clone(), v.clone()));
                if x.len() > STREAM_MAXLEN {
                    x.drain(..x.len() - STREAM_MAXLEN);
                }
            }
            Write::Expire(_) => {
                if let Some(e) = st.get_mut(&key) {
                    e.ttl = true;
                }
            }
            Write::Del(_) => {
                st.remove(&key);
            }
        }
    }
}

fn hash(st: &mut State, key: String) -> &mut BTreeMap<String, String> {
    let e = st.entry(key).or_insert_with(|| Entry { data: Data::Hash(BTreeMap::new()), ttl: false });
    match &mut e.data {
        Data::Hash(h) => h,
        other => panic!("model: hash command on {other:?}"),
    }
}

fn zset(st: &mut State, key: String) -> &mut BTreeMap<String, i64> {
    let e = st.entry(key).or_insert_with(|| Entry { data: Data::ZSet(BTreeMap::new()), ttl: false });
    match &mut e.data {
        Data::ZSet(z) => z,
        other => panic!("model: sorted-set command on {other:?}"),
    }
}

/// How an operation reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// One command.
    Plain,
    /// MULTI, the writes, EXEC (sent together).
    Multi,
    /// One EVAL running the writes.
    Script,
}

/// What one client sends in one round trip: acknowledged as a whole or not at all.
#[derive(Clone, Debug)]
pub struct Op {
    pub form: Form,
    pub writes: Vec<Write>,
}

impl Op {
    pub fn apply(&self, st: &mut State) {
        for w in &self.writes {
            w.apply(st);
        }
    }

    pub fn keys(&self) -> BTreeSet<&str> {
        self.writes.iter().map(Write::key).collect()
    }
}

/// Runs its ARGV as commands, each as `n arg1 .. argn` (the keys are declared in KEYS too).
pub const SCRIPT: &str = "local i = 1
while ARGV[i] do
  local n = tonumber(ARGV[i])
  local c = {}
  for j = 1, n do c[j] = ARGV[i + j] end
  redis.call(unpack(c))
  i = i + n + 1
end
return i";
