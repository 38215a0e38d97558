//! Random commands for the hot-cache test: every write path and every read the test knows,
//! aimed mostly at keys of a fitting type so most commands succeed, some at keys of another
//! type so WRONGTYPE paths run too. Generation looks at the model only to stay inside what the
//! model can predict (no INCRBYFLOAT on "5\0", no random SPOP inside MULTI or a script).

use crate::model::{float_form, parse_int, Model, Val};

/// SplitMix64: tiny, seedable and the same on every platform and crate version.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `pct`/100.
    pub fn pct(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

const STR_VALS: &[&str] = &["0", "1", "7", "42", "-3", "10", "apple", "kiwi", "plum", "x", "3.5", "12"];
const FIELDS: &[&str] = &["f1", "f2", "f3", "f4", "f5"];
const FIELD_VALS: &[&str] = &["1", "5", "-2", "20", "v", "hello", "2.5"];
const MEMBERS: &[&str] = &["a", "b", "c", "d", "1", "2", "10"];
const FLOAT_INCRS: &[&str] = &["0.5", "-1.25", "2", "0.75", "-0.5", "3"];
/// Elements of the large collections (past any "small collection" limit of the cache).
pub const BIG: usize = 200;

/// One step of a writer.
pub enum Op {
    /// One command whose reply and effect the model predicts.
    Cmd(Vec<String>),
    /// `SPOP key [count]` taking a random part of the set.
    SpopRandom(Vec<String>),
    Multi(Vec<Vec<String>>),
    /// WATCH `key`, another connection writes it (`intruder`), then the transaction must fail.
    WatchFail {
        key: String,
        intruder: Vec<String>,
        cmds: Vec<Vec<String>>,
    },
    /// WATCH `key`, nobody touches it, the transaction runs.
    WatchOk {
        key: String,
        cmds: Vec<Vec<String>>,
    },
    /// One script running `cmds` (the keys they name declared).
    Eval(Vec<Vec<String>>),
    /// A read of a key another writer owns.
    ForeignRead,
}

/// Builds command argument vectors from string-likes.
macro_rules! c {
    ($($x:expr),* $(,)?) => { vec![$($x.to_string()),*] };
}

pub struct Gen<'a> {
    pub rng: &'a mut Rng,
    /// The key names this writer owns (in every database).
    pub keys: &'a [String],
    /// Unix ms now (for absolute deadlines).
    pub now: i64,
    /// Generating for MULTI or a script: long TTLs only (a deadline passing between two
    /// commands of one transaction would be a guess for the model).
    pub batch: bool,
    /// A key most commands aim at (phases that race reads against writes on few keys).
    pub focus: Option<String>,
}

impl Gen<'_> {
    /// A key of type `ty` in the model when there is one (most of the time), else any key.
    fn key(&mut self, m: &Model, ty: &str) -> String {
        if let Some(f) = self.focused() {
            return f;
        }
        let typed: Vec<&String> =
            self.keys.iter().filter(|k| m.dbs[m.db].get(*k).is_some_and(|e| e.val.type_name() == ty)).collect();
        if !typed.is_empty() && self.rng.pct(70) {
            return (*self.rng.pick(&typed)).clone();
        }
        self.rng.pick(self.keys).clone()
    }

    fn focused(&mut self) -> Option<String> {
        let f = self.focus.clone()?;
        self.rng.pct(75).then_some(f)
    }

    fn any_key(&mut self) -> String {
        if let Some(f) = self.focused() {
            return f;
        }
        self.rng.pick(self.keys).clone()
    }

    fn val(&mut self) -> &'static str {
        self.rng.pick::<&str>(STR_VALS)
    }

    fn member(&mut self) -> &'static str {
        self.rng.pick::<&str>(MEMBERS)
    }

    fn score(&mut self) -> String {
        let s = self.rng.range(-6, 10) as f64 / 2.0;
        crate::model::fmt_num(s)
    }

    /// A TTL clause for SET/GETEX: mostly long, sometimes a few milliseconds.
    fn ttl_clause(&mut self) -> Vec<String> {
        match self.rng.below(4) + self.batch as usize {
            0 => c!["PX", self.rng.range(1, 15)],
            1 => c!["EX", self.rng.range(1000, 2000)],
            2 => c!["PX", self.rng.range(1_000_000, 2_000_000)],
            _ => c!["PXAT", self.now + self.rng.range(1_000_000, 2_000_000)],
        }
    }

    fn str_cmd(&mut self, m: &Model) -> Vec<String> {
        let k = self.key(m, "string");
        let v = self.val();
        match self.rng.below(17) {
            0 | 1 => {
                let mut cmd = c!["SET", k, v];
                if self.rng.pct(40) {
                    cmd.extend(self.ttl_clause());
                } else if self.rng.pct(20) {
                    cmd.push("KEEPTTL".into());
                }
                if self.rng.pct(30) {
                    cmd.push(self.rng.pick(&["NX", "XX"]).to_string());
                }
                if self.rng.pct(30) {
                    cmd.push("GET".into());
                }
                cmd
            }
            2 => c!["SETNX", k, v],
            3 => {
                if self.rng.pct(50) {
                    c!["SETEX", k, self.rng.range(1000, 2000), v]
                } else if !self.batch {
                    c!["PSETEX", k, self.rng.range(1, 15), v]
                } else {
                    c!["PSETEX", k, self.rng.range(1_000_000, 2_000_000), v]
                }
            }
            4 => {
                let k2 = self.any_key();
                c!["MSET", k, v, k2, self.val()]
            }
            5 => {
                let k2 = self.any_key();
                c!["MSETNX", k, v, k2, self.val()]
            }
            6 => c!["APPEND", k, v],
            7 => c!["SETRANGE", k, self.rng.range(0, 6), v],
            8 => c!["INCR", k],
            9 => c!["DECR", k],
            10 => c!["INCRBY", k, self.rng.range(-20, 20)],
            11 => c!["DECRBY", k, self.rng.range(-20, 20)],
            12 => {
                let safe = match m.dbs[m.db].get(&k).map(|e| &e.val) {
                    Some(Val::Str(s)) => float_form(s).is_some(),
                    _ => true,
                };
                if safe {
                    c!["INCRBYFLOAT", k, self.rng.pick(FLOAT_INCRS)]
                } else {
                    c!["INCRBY", k, 1]
                }
            }
            13 => c!["GETSET", k, v],
            14 => c!["GETDEL", k],
            15 => {
                let mut cmd = c!["GETEX", k];
                match self.rng.below(3) {
                    0 => cmd.extend(self.ttl_clause()),
                    1 => cmd.push("PERSIST".into()),
                    _ => {}
                }
                cmd
            }
            _ => c!["SETRANGE", k, self.rng.range(0, 3), ""],
        }
    }

    fn keyspace_cmd(&mut self) -> Vec<String> {
        let (k, k2) = (self.any_key(), self.any_key());
        match self.rng.below(12) {
            0 => c!["DEL", k, k2],
            1 => c!["UNLINK", k],
            2 => c!["EXPIRE", k, self.rng.range(1000, 2000)],
            3 | 4 if !self.batch => c!["PEXPIRE", k, self.rng.range(1, 15)],
            3 | 4 => c!["PEXPIRE", k, self.rng.range(1_000_000, 2_000_000)],
            5 => c!["PEXPIRE", k, 0],
            6 => {
                if self.rng.pct(50) {
                    c!["EXPIREAT", k, self.now / 1000 + self.rng.range(1000, 2000)]
                } else {
                    c!["EXPIREAT", k, self.now / 1000 - 100]
                }
            }
            7 => c!["PERSIST", k],
            8 => c![self.rng.pick(&["RENAME", "RENAMENX"]), k, k2],
            9 => c!["MOVE", k, self.rng.below(crate::model::DBS)],
            10 => {
                let mut cmd = c!["COPY", k, k2];
                if self.rng.pct(50) {
                    cmd.extend(c!["DB", self.rng.below(crate::model::DBS)]);
                }
                if self.rng.pct(50) {
                    cmd.push("REPLACE".into());
                }
                cmd
            }
            _ => c!["PEXPIREAT", k, self.now + self.rng.range(1_000_000, 2_000_000)],
        }
    }

    fn hash_cmd(&mut self, m: &Model) -> Vec<String> {
        let k = self.key(m, "hash");
        let f = self.rng.pick(FIELDS);
        let v = self.rng.pick(FIELD_VALS);
        match self.rng.below(6) {
            0 | 1 => {
                let mut cmd = c!["HSET", k, f, v];
                if self.rng.pct(40) {
                    cmd.extend(c![self.rng.pick(FIELDS), self.rng.pick(FIELD_VALS)]);
                }
                cmd
            }
            2 => c!["HSETNX", k, f, v],
            3 => c!["HDEL", k, f, self.rng.pick(FIELDS)],
            4 => c!["HINCRBY", k, f, self.rng.range(-5, 5)],
            _ => {
                let safe = match m.dbs[m.db].get(&k).map(|e| &e.val) {
                    Some(Val::Hash(h)) => h.get(*f).is_none_or(|v| float_form(v).is_some()),
                    _ => true,
                };
                if safe {
                    c!["HINCRBYFLOAT", k, f, self.rng.pick(FLOAT_INCRS)]
                } else {
                    c!["HDEL", k, f]
                }
            }
        }
    }

    fn set_cmd(&mut self, m: &Model, deterministic: bool) -> Vec<String> {
        let k = self.key(m, "set");
        let (mb, k2, k3) = (self.member(), self.any_key(), self.any_key());
        match self.rng.below(7) {
            0 | 1 => c!["SADD", k, mb, self.member()],
            2 => c!["SREM", k, mb],
            3 => {
                let len = match m.dbs[m.db].get(&k).map(|e| &e.val) {
                    Some(Val::Set(s)) => s.len(),
                    _ => 0,
                };
                if len <= 1 {
                    c!["SPOP", k]
                } else if deterministic || self.rng.pct(30) {
                    c!["SPOP", k, len + self.rng.below(2)]
                } else {
                    c!["SADD", k, mb]
                }
            }
            4 => c!["SMOVE", k, k2, mb],
            _ => c![self.rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k3, k, k2],
        }
    }

    fn list_cmd(&mut self, m: &Model) -> Vec<String> {
        let k = self.key(m, "list");
        let (mb, k2) = (self.member(), self.any_key());
        let side = |r: &mut Rng| r.pick(&["LEFT", "RIGHT"]).to_string();
        match self.rng.below(10) {
            0 | 1 => c![self.rng.pick(&["LPUSH", "RPUSH"]), k, mb, self.member()],
            2 => {
                let mut cmd = c![self.rng.pick(&["LPOP", "RPOP"]), k];
                if self.rng.pct(40) {
                    cmd.push(self.rng.range(1, 3).to_string());
                }
                cmd
            }
            3 => c!["LSET", k, self.rng.range(-3, 3), mb],
            4 => c!["LTRIM", k, self.rng.range(-3, 2), self.rng.range(-2, 4)],
            5 => c!["LREM", k, self.rng.range(-2, 2), mb],
            6 => c!["LINSERT", k, self.rng.pick(&["BEFORE", "AFTER"]), self.member(), mb],
            7 => c!["LMOVE", k, k2, side(self.rng), side(self.rng)],
            _ => {
                let alpha = match m.dbs[m.db].get(&k).map(|e| &e.val) {
                    Some(Val::List(l)) => !l.iter().all(|v| parse_int(v).is_some()) || self.rng.pct(30),
                    _ => self.rng.pct(50),
                };
                let mut cmd = c!["SORT", k];
                if alpha {
                    cmd.push("ALPHA".into());
                }
                if self.rng.pct(30) {
                    cmd.push("DESC".into());
                }
                cmd.extend(c!["STORE", k2]);
                cmd
            }
        }
    }

    fn zset_cmd(&mut self, m: &Model) -> Vec<String> {
        let k = self.key(m, "zset");
        let (mb, k2, k3) = (self.member(), self.any_key(), self.any_key());
        match self.rng.below(9) {
            0..=2 => {
                let mut cmd = c!["ZADD", k];
                let incr = self.rng.pct(20);
                match self.rng.below(4) {
                    0 => cmd.push("NX".into()),
                    1 => cmd.push("XX".into()),
                    _ => {}
                }
                if cmd.len() == 2 || cmd[2] == "XX" {
                    match self.rng.below(4) {
                        0 => cmd.push("GT".into()),
                        1 => cmd.push("LT".into()),
                        _ => {}
                    }
                }
                if self.rng.pct(30) {
                    cmd.push("CH".into());
                }
                if incr {
                    cmd.push("INCR".into());
                }
                cmd.extend(c![self.score(), mb]);
                if !incr && self.rng.pct(50) {
                    cmd.extend(c![self.score(), self.member()]);
                }
                cmd
            }
            3 => c!["ZINCRBY", k, self.score(), mb],
            4 => c!["ZREM", k, mb, self.member()],
            5 => {
                let mut cmd = c!["ZPOPMIN", k];
                if self.rng.pct(50) {
                    cmd.push(self.rng.range(1, 3).to_string());
                }
                cmd
            }
            6 => c!["ZREMRANGEBYRANK", k, self.rng.range(-2, 1), self.rng.range(-1, 2)],
            7 => {
                let mut cmd = c!["ZUNIONSTORE", k3, 2, k, k2];
                if self.rng.pct(40) {
                    cmd.extend(c!["AGGREGATE", self.rng.pick(&["SUM", "MIN", "MAX"])]);
                }
                cmd
            }
            _ => c!["ZRANGESTORE", k2, k, self.rng.range(-3, 1), self.rng.range(-1, 3)],
        }
    }

    /// A read of one key (the kind readers of other clients also send).
    pub fn read_cmd(&mut self, k: String, with_ttl: bool) -> Vec<String> {
        let f = self.rng.pick(FIELDS);
        let mb = self.member();
        match self.rng.below(if with_ttl { 21 } else { 19 }) {
            0 => c!["GET", k],
            1 => c!["STRLEN", k],
            2 => c!["GETRANGE", k, self.rng.range(-4, 2), self.rng.range(-2, 5)],
            3 => c!["EXISTS", k],
            4 => c!["TYPE", k],
            5 => c!["HGET", k, f],
            6 => c!["HMGET", k, f, self.rng.pick(FIELDS)],
            7 => c!["HGETALL", k],
            8 => c!["HLEN", k],
            9 => c!["SMEMBERS", k],
            10 => c!["SISMEMBER", k, mb],
            11 => c!["SCARD", k],
            12 => c!["LRANGE", k, 0, -1],
            13 => c!["LINDEX", k, self.rng.range(-3, 3)],
            14 => c!["LLEN", k],
            15 => c!["ZRANGE", k, 0, -1, "WITHSCORES"],
            16 => c!["ZSCORE", k, mb],
            17 => c!["ZCARD", k],
            18 => c!["GET", k],
            19 => c!["TTL", k],
            _ => c!["PTTL", k],
        }
    }

    /// A read that suits `ty`, the type of `key` (a point read, a whole read or a count).
    pub fn typed_read(&mut self, ty: Option<&str>, key: String) -> Vec<String> {
        let f = self.rng.pick::<&str>(FIELDS);
        let mb = self.rng.pick::<&str>(MEMBERS);
        let pick = self.rng.below(3);
        match ty {
            Some("hash") => [c!["HGET", key, f], c!["HGETALL", key], c!["HMGET", key, f, "f1"]][pick].clone(),
            Some("set") => [c!["SISMEMBER", key, mb], c!["SMEMBERS", key], c!["SCARD", key]][pick].clone(),
            Some("list") => [c!["LINDEX", key, -1], c!["LRANGE", key, 0, -1], c!["LLEN", key]][pick].clone(),
            Some("zset") => {
                [c!["ZSCORE", key, mb], c!["ZRANGE", key, 0, -1, "WITHSCORES"], c!["ZCARD", key]][pick].clone()
            }
            Some(_) => [c!["GET", key], c!["STRLEN", key], c!["GETRANGE", key, 0, 2]][pick].clone(),
            None => self.read_cmd(key, false),
        }
    }

    /// A read the owner checks exactly (some over several keys).
    fn own_read(&mut self, m: &Model) -> Vec<String> {
        if let Some(f) = self.focused() {
            let ty = m.dbs[m.db].get(&f).map(|e| e.val.type_name());
            return self.typed_read(ty, f);
        }
        match self.rng.below(8) {
            0 => c!["MGET", self.any_key(), self.any_key(), self.any_key()],
            1 => c!["EXISTS", self.any_key(), self.any_key()],
            _ => {
                let k = if self.rng.pct(70) {
                    let ty = *self.rng.pick(&["string", "hash", "set", "list", "zset"]);
                    self.key(m, ty)
                } else {
                    self.any_key()
                };
                self.read_cmd(k, true)
            }
        }
    }

    /// A large collection (built in one command) at a random key.
    /// A collection of `min..min + spread` elements at a random key (added to what is there).
    fn big_cmd(&mut self, min: usize, spread: usize) -> Vec<String> {
        let k = self.any_key();
        let n = min + self.rng.below(spread);
        let items = |i: usize| format!("m{i}");
        match self.rng.below(4) {
            0 => [c!["HSET", k], (0..n).flat_map(|i| [items(i), i.to_string()]).collect()].concat(),
            1 => [c!["SADD", k], (0..n).map(items).collect()].concat(),
            2 => [c!["RPUSH", k], (0..n).map(items).collect()].concat(),
            _ => [c!["ZADD", k], (0..n).flat_map(|i| [(i % 17).to_string(), items(i)]).collect()].concat(),
        }
    }

    /// One command; `deterministic` excludes what only the writer's own loop can resolve
    /// (random SPOP, TTL reads) for use inside MULTI and scripts.
    pub fn cmd(&mut self, m: &Model, deterministic: bool) -> Vec<String> {
        // With a focus, mostly collections: their cached copies are filled by reads, which is
        // where a fill racing a write could put back an older copy.
        let mut roll = self.rng.below(100);
        if let Some(f) = &self.focus {
            // Mostly commands for the focus key's type; now and then a medium collection
            // (kept whole by the cache, yet slow enough to read that a write can race it).
            roll = match m.dbs[m.db].get(f).map(|e| e.val.type_name()) {
                _ if self.rng.pct(8) => return self.big_cmd(100, 150),
                Some("hash") if self.rng.pct(70) => 30,
                Some("set") if self.rng.pct(70) => 41,
                Some("list") if self.rng.pct(70) => 51,
                Some("zset") if self.rng.pct(70) => 63,
                _ => 12 + self.rng.below(88),
            };
        }
        match roll {
            0..=17 => self.str_cmd(m),
            18..=29 => self.keyspace_cmd(),
            30..=40 => self.hash_cmd(m),
            41..=50 => self.set_cmd(m, deterministic),
            51..=62 => self.list_cmd(m),
            63..=73 => self.zset_cmd(m),
            74..=75 => self.big_cmd(BIG, BIG),
            _ if deterministic => {
                let k = self.any_key();
                self.read_cmd(k, false)
            }
            _ => self.own_read(m),
        }
    }

    /// Several commands generated against a scratch copy of the model, so each one is
    /// predictable in the state the earlier ones leave.
    fn batch(&mut self, m: &Model, n: usize) -> Vec<Vec<String>> {
        let mut scratch = m.clone();
        self.batch = true;
        let cmds = (0..n)
            .map(|_| {
                let cmd = self.cmd(&scratch, true);
                scratch.exec(&cmd);
                cmd
            })
            .collect();
        self.batch = false;
        cmds
    }

    pub fn op(&mut self, m: &Model) -> Op {
        match self.rng.below(100) {
            0..=3 => {
                let n = 2 + self.rng.below(4);
                Op::Multi(self.batch(m, n))
            }
            4 => {
                let key = self.any_key();
                let intruder = c!["SET", key, self.val()];
                Op::WatchFail { key, intruder, cmds: self.batch(m, 2) }
            }
            5 => {
                let key = self.any_key();
                Op::WatchOk { key, cmds: self.batch(m, 2) }
            }
            6..=8 => {
                let n = 2 + self.rng.below(3);
                Op::Eval(self.batch(m, n))
            }
            9..=16 => Op::ForeignRead,
            17..=19 => {
                let k = self.key(m, "set");
                let len = match m.dbs[m.db].get(&k).map(|e| &e.val) {
                    Some(Val::Set(s)) => s.len(),
                    _ => 0,
                };
                if (2..=8).contains(&len) && self.rng.pct(50) {
                    Op::SpopRandom(c!["SPOP", k, 1 + self.rng.below(len - 1)])
                } else if len >= 2 {
                    Op::SpopRandom(c!["SPOP", k])
                } else {
                    Op::Cmd(self.cmd(m, false))
                }
            }
            _ => Op::Cmd(self.cmd(m, false)),
        }
    }
}
