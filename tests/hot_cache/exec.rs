//! The model's interpreter: keys, strings and the keyspace commands (collections are in
//! `collections.rs`), applying each command to the model and returning the reply it predicts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::common::Reply;
use crate::model::{
    bulk, err, float_form, fmt_num, int_arg, ok, parse_int, read, Entry, Exp, Expect, Model, Val, NOT_INT, PENDING,
    WRONGTYPE,
};

pub enum Ttl {
    Clear,
    Keep,
    Rel(i64),
    Abs(i64),
}

impl Model {
    pub fn cur(&self) -> &BTreeMap<String, Entry> {
        &self.dbs[self.db]
    }

    pub fn get(&self, k: &str) -> Option<&Entry> {
        self.dbs[self.db].get(k)
    }

    /// The live value of `k` in the current database.
    pub fn val(&self, k: &str) -> Option<&Val> {
        self.get(k).map(|e| &e.val)
    }

    pub fn touch(&mut self, db: usize, k: &str) {
        self.dirty.insert((db, k.to_string()));
    }

    pub fn remove_in(&mut self, db: usize, k: &str) -> Option<Entry> {
        self.touch(db, k);
        self.dbs[db].remove(k)
    }

    pub fn remove(&mut self, k: &str) -> Option<Entry> {
        self.remove_in(self.db, k)
    }

    pub fn put_in(&mut self, db: usize, k: &str, e: Entry) {
        self.touch(db, k);
        self.dbs[db].insert(k.to_string(), e);
    }

    pub fn exp_from(&self, t: Ttl, old: Option<Exp>) -> Option<Exp> {
        match t {
            Ttl::Clear => None,
            Ttl::Keep => old,
            Ttl::Rel(ms) => Some(Exp { lo: self.now + ms, hi: PENDING }),
            Ttl::Abs(at) => Some(Exp { lo: at, hi: at }),
        }
    }

    /// Store `val` at `k`, keeping the old TTL when `keep` (in-place changes of Redis).
    pub fn set_val(&mut self, k: &str, val: Val, t: Ttl) {
        let old = self.get(k).and_then(|e| e.exp);
        let exp = self.exp_from(t, old);
        let db = self.db;
        self.put_in(db, k, Entry { val, exp });
    }

    /// Store a collection, or delete the key when it became empty (as Redis does).
    pub fn store_coll(&mut self, k: &str, val: Val, t: Ttl) {
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

    pub fn str_of(&self, k: &str) -> Result<Option<String>, Reply> {
        match self.val(k) {
            None => Ok(None),
            Some(Val::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    pub fn hash_of(&self, k: &str) -> Result<BTreeMap<String, String>, Reply> {
        match self.val(k) {
            None => Ok(BTreeMap::new()),
            Some(Val::Hash(h)) => Ok(h.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    pub fn set_of(&self, k: &str) -> Result<BTreeSet<String>, Reply> {
        match self.val(k) {
            None => Ok(BTreeSet::new()),
            Some(Val::Set(s)) => Ok(s.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    pub fn list_of(&self, k: &str) -> Result<VecDeque<String>, Reply> {
        match self.val(k) {
            None => Ok(VecDeque::new()),
            Some(Val::List(l)) => Ok(l.clone()),
            Some(_) => Err(err(WRONGTYPE)),
        }
    }

    pub fn zset_of(&self, k: &str) -> Result<BTreeMap<String, f64>, Reply> {
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
            _ => self.exec_coll(&name, a),
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
}
