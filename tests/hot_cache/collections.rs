//! The model's interpreter for hashes, sets, lists and sorted sets (and SORT … STORE).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::common::Reply;
use crate::exec::Ttl;
use crate::model::{
    bulk, err, float_form, fmt_num, int_arg, ok, parse_int, range, strs, zflat, zorder, Expect, Model, Val, WRONGTYPE,
};

impl Model {
    /// The commands on hashes, sets, lists and sorted sets (see `exec`).
    pub fn exec_coll(&mut self, name: &str, a: &[String]) -> Result<Expect, Reply> {
        let exact = |r: Reply| Ok(Expect::Exact(r));
        match name {
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
                let out: BTreeSet<String> = match name {
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
                // Redis pushes before it deletes an emptied source: moving within one list
                // keeps the key (and its TTL) even when it had a single element.
                let mut dst = if a[0] == a[1] {
                    src
                } else {
                    self.store_coll(&a[0], Val::List(src), Ttl::Keep);
                    self.list_of(&a[1])?
                };
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
