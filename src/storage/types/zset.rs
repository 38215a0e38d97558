//! Sorted sets: `subkeys` holds `prefix · member → encode_score(score)` (point lookups) and
//! `zset_score` holds `prefix · encode_score(score) · member → ∅` (score order, ties by member
//! bytes, which is Redis's order). `meta.size` is the cardinality.
//!
//! Reads go through [`ZView`] (one live version of one key); writes through [`ZWrite`], which
//! gathers one command's changes to one key into one `Batch`. Scores are normalised so that
//! -0.0 is stored as 0.0 (Redis treats them as equal).

use crate::storage::encoding::{self, CollMeta, KeyType};
use crate::storage::subkeys::Dir;
use crate::storage::types::{self, Loaded};
use crate::storage::{cf, Batch, Record, Storage, StoreError};
use bytes::Bytes;
use std::collections::HashMap;

/// One member with its score.
pub type Entry = (Bytes, f64);

/// -0.0 becomes 0.0, so that equal scores have equal encodings.
pub fn norm(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

fn score_bytes(v: &[u8]) -> Option<f64> {
    let a: [u8; 8] = v.get(..8)?.try_into().ok()?;
    Some(encoding::decode_score(a))
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("zset record".into())
}

/// A score interval as Redis's `zrangespec`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub minex: bool,
    pub max: f64,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Whether no score can be in the interval.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic interval (`-`, `+`, `[x`, `(x`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

/// A lexicographic interval as Redis's `zlexrangespec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(x) => m >= x.as_ref(),
            LexBound::Excl(x) => m > x.as_ref(),
        }
    }

    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m <= x.as_ref(),
            LexBound::Excl(x) => m < x.as_ref(),
        }
    }

    /// Whether no member can be in the interval (Redis's `sdscmplex` check).
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        let (lo, lo_ex) = match &self.min {
            Min => (None, true),
            Max => return true,
            Incl(x) => (Some(x), false),
            Excl(x) => (Some(x), true),
        };
        let (hi, hi_ex) = match &self.max {
            Max => (None, true),
            Min => return true,
            Incl(x) => (Some(x), false),
            Excl(x) => (Some(x), true),
        };
        match (lo, hi) {
            (Some(a), Some(b)) => a > b || (a == b && (lo_ex || hi_ex)),
            _ => false,
        }
    }
}

/// An input of ZUNION / ZINTER / ZDIFF: a sorted set, or a plain set (every score 1).
pub struct Input {
    pub prefix: Vec<u8>,
    pub size: u64,
    pub is_set: bool,
}

/// A read-only view of one live sorted set.
pub struct ZView<'a> {
    store: &'a Storage,
    pub prefix: Vec<u8>,
    pub meta: CollMeta,
}

impl<'a> ZView<'a> {
    pub fn size(&self) -> u64 {
        self.meta.size
    }

    /// Walks `(score, member)` in score order (or reverse), from the `zset_score` suffix `from`.
    pub fn walk(&self, dir: Dir, from: Option<&[u8]>, mut f: impl FnMut(f64, &[u8]) -> bool) -> Result<(), StoreError> {
        let mut bad = false;
        self.store.sub_scan(
            cf::ZSET_SCORE,
            &self.prefix,
            dir,
            from,
            |suffix, _| match encoding::decode_zscore_suffix(suffix) {
                Some((s, m)) => f(s, m),
                None => {
                    bad = true;
                    false
                }
            },
        )?;
        if bad {
            return Err(corrupt());
        }
        Ok(())
    }

    pub fn score(&self, member: &[u8]) -> Result<Option<f64>, StoreError> {
        match self.store.sub_get(&encoding::subkey(&self.prefix, member))? {
            Some(v) => Ok(Some(score_bytes(&v).ok_or_else(corrupt)?)),
            None => Ok(None),
        }
    }

    pub fn scores(&self, members: &[Bytes]) -> Result<Vec<Option<f64>>, StoreError> {
        let keys: Vec<Vec<u8>> = members.iter().map(|m| encoding::subkey(&self.prefix, m)).collect();
        self.store
            .sub_multi_get(&keys)?
            .into_iter()
            .map(|v| match v {
                Some(v) => score_bytes(&v).map(Some).ok_or_else(corrupt),
                None => Ok(None),
            })
            .collect()
    }

    /// Members of ranks `start..=end` (already clamped to `0..size`), counted from the lowest
    /// score, or from the highest when `rev`. Walks from the nearer end (weighing how much
    /// slower backward steps are).
    pub fn range_by_rank(&self, start: u64, end: u64, rev: bool) -> Result<Vec<Entry>, StoreError> {
        let n = self.size();
        if n == 0 || start > end || start >= n {
            return Ok(Vec::new());
        }
        let end = end.min(n - 1);
        // Physical (ascending) ranks lo..=hi.
        let (lo, hi) = if rev { (n - 1 - end, n - 1 - start) } else { (start, end) };
        let want = (hi - lo + 1) as usize;
        let mut out = Vec::with_capacity(want.min(1024));
        // RocksDB steps backwards several times slower than forwards: walk back only when that
        // is clearly shorter (ZRANGE -10 -1 on a big set).
        let forward = lo <= (n - 1 - hi).saturating_mul(4);
        let (dir, mut skip) = if forward { (Dir::Forward, lo) } else { (Dir::Reverse, n - 1 - hi) };
        self.walk(dir, None, |s, m| {
            if skip > 0 {
                skip -= 1;
                return true;
            }
            out.push((Bytes::copy_from_slice(m), s));
            out.len() < want
        })?;
        // `out` is in `dir` order; the caller wants ascending unless `rev`.
        if forward == rev {
            out.reverse();
        }
        Ok(out)
    }

    /// Members with scores in `r`, ascending (descending when `rev`), after skipping `offset`
    /// and at most `limit` (negative = all) of them.
    pub fn range_by_score(&self, r: &ScoreRange, rev: bool, offset: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        if r.is_empty() || offset < 0 || limit == 0 {
            return Ok(out);
        }
        let mut skip = offset;
        let mut take = |s: f64, m: &[u8], out: &mut Vec<Entry>| -> bool {
            if skip > 0 {
                skip -= 1;
                return true;
            }
            out.push((Bytes::copy_from_slice(m), s));
            limit < 0 || (out.len() as i64) < limit
        };
        if !rev {
            let from = encoding::encode_score(r.min);
            self.walk(Dir::Forward, Some(&from), |s, m| {
                if !r.gte_min(s) {
                    return true;
                }
                if !r.lte_max(s) {
                    return false;
                }
                take(s, m, &mut out)
            })?;
        } else {
            // Seek just before the first key of the next score up: the last member <= max.
            let next = u64::from_be_bytes(encoding::encode_score(r.max)).checked_add(1).map(u64::to_be_bytes);
            self.walk(Dir::Reverse, next.as_ref().map(|b| &b[..]), |s, m| {
                if !r.lte_max(s) {
                    return true;
                }
                if !r.gte_min(s) {
                    return false;
                }
                take(s, m, &mut out)
            })?;
        }
        Ok(out)
    }

    /// Walks the members with scores in `[min, max)` in score order until `f` returns false
    /// (GEOSEARCH scans its cells this way).
    pub fn walk_score_range(
        &self,
        min: f64,
        max: f64,
        mut f: impl FnMut(f64, &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let from = encoding::encode_score(min);
        self.walk(Dir::Forward, Some(&from), |s, m| s < max && f(s, m))
    }

    /// How many members have scores in `r`.
    pub fn count_by_score(&self, r: &ScoreRange) -> Result<u64, StoreError> {
        let mut n = 0u64;
        if r.is_empty() {
            return Ok(0);
        }
        if r.min == f64::NEG_INFINITY && !r.minex && r.max == f64::INFINITY && !r.maxex {
            return Ok(self.size());
        }
        let from = encoding::encode_score(r.min);
        self.walk(Dir::Forward, Some(&from), |s, _| {
            if !r.gte_min(s) {
                return true;
            }
            if !r.lte_max(s) {
                return false;
            }
            n += 1;
            true
        })?;
        Ok(n)
    }

    /// The first (lowest) or last (highest) member with its score.
    fn edge(&self, dir: Dir) -> Result<Option<(f64, Bytes)>, StoreError> {
        let mut e = None;
        self.walk(dir, None, |s, m| {
            e = Some((s, Bytes::copy_from_slice(m)));
            false
        })?;
        Ok(e)
    }

    /// Members in the lexicographic interval, ascending or descending, after `offset`, at most
    /// `limit` (negative = all). All scores are equal by contract; when they are not, the result
    /// is the one Redis gives for a listpack: the range must overlap the first and last members,
    /// the walk starts at the first member inside the start bound (which must be inside the end
    /// bound), skips `offset` members blindly and stops at the first member past the end bound.
    pub fn range_by_lex(&self, r: &LexRange, rev: bool, offset: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        if r.is_empty() || offset < 0 || limit == 0 {
            return Ok(out);
        }
        let (Some(first), Some(last)) = (self.edge(Dir::Forward)?, self.edge(Dir::Reverse)?) else {
            return Ok(out);
        };
        if !r.gte_min(&last.1) || !r.lte_max(&first.1) {
            return Ok(out);
        }
        let (dir, edge, bound) = if rev { (Dir::Reverse, last.0, &r.max) } else { (Dir::Forward, first.0, &r.min) };
        let from = match bound {
            LexBound::Incl(x) | LexBound::Excl(x) => Some(encoding::zscore_key(&[], edge, x)),
            _ => None,
        };
        let start_ok = |m: &[u8]| if rev { r.lte_max(m) } else { r.gte_min(m) };
        let end_ok = |m: &[u8]| if rev { r.gte_min(m) } else { r.lte_max(m) };
        let mut started = false;
        let mut skip = offset;
        self.walk(dir, from.as_deref(), |s, m| {
            if !started {
                if !start_ok(m) {
                    return true;
                }
                if !end_ok(m) {
                    return false;
                }
                started = true;
            }
            if skip > 0 {
                skip -= 1;
                return true;
            }
            if !end_ok(m) {
                return false;
            }
            out.push((Bytes::copy_from_slice(m), s));
            limit < 0 || (out.len() as i64) < limit
        })?;
        Ok(out)
    }

    /// The rank of `member` counted from the lowest score (or the highest when `rev`).
    pub fn rank(&self, member: &[u8], rev: bool) -> Result<Option<u64>, StoreError> {
        let Some(score) = self.score(member)? else { return Ok(None) };
        let target = encoding::zscore_key(&[], score, member);
        let mut rank = 0u64;
        let mut found = false;
        let dir = if rev { Dir::Reverse } else { Dir::Forward };
        self.store.sub_scan(cf::ZSET_SCORE, &self.prefix, dir, None, |suffix, _| {
            if suffix == target.as_slice() {
                found = true;
                return false;
            }
            rank += 1;
            true
        })?;
        Ok(found.then_some(rank))
    }

    /// Every member in score order.
    pub fn all(&self) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::with_capacity(self.size().min(1 << 16) as usize);
        self.walk(Dir::Forward, None, |s, m| {
            out.push((Bytes::copy_from_slice(m), s));
            true
        })?;
        Ok(out)
    }

    /// The members at the given ascending ranks (sorted, may repeat), in one walk.
    pub fn at_ranks(&self, ranks: &[u64]) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::with_capacity(ranks.len());
        let mut i = 0usize;
        let mut rank = 0u64;
        if ranks.is_empty() {
            return Ok(out);
        }
        self.walk(Dir::Forward, None, |s, m| {
            while i < ranks.len() && ranks[i] == rank {
                out.push((Bytes::copy_from_slice(m), s));
                i += 1;
            }
            rank += 1;
            i < ranks.len()
        })?;
        Ok(out)
    }

    /// Up to `count` `(member, score)` pairs of the member-ordered (`subkeys`) walk, starting
    /// after member `after`; also returns whether the walk reached the end.
    pub fn scan_members(
        &self,
        after: Option<&[u8]>,
        count: usize,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> Result<(Vec<Entry>, Option<Bytes>), StoreError> {
        let mut out = Vec::new();
        let mut seen = 0usize;
        let mut last: Option<Bytes> = None;
        let mut done = true;
        let from = after.map(|a| {
            let mut v = a.to_vec();
            v.push(0);
            v
        });
        let mut bad = false;
        self.store.sub_scan(cf::SUBKEYS, &self.prefix, Dir::Forward, from.as_deref(), |m, v| {
            if seen >= count {
                done = false;
                return false;
            }
            seen += 1;
            last = Some(Bytes::copy_from_slice(m));
            match score_bytes(v) {
                Some(s) => {
                    if keep(m) {
                        out.push((Bytes::copy_from_slice(m), s));
                    }
                    true
                }
                None => {
                    bad = true;
                    false
                }
            }
        })?;
        if bad {
            return Err(corrupt());
        }
        Ok((out, if done { None } else { last }))
    }
}

/// One command's changes to one sorted set (the caller holds the key's lock).
pub struct ZWrite<'a> {
    store: &'a Storage,
    pdb: u8,
    key: Vec<u8>,
    loaded: Loaded,
    pub meta: CollMeta,
    pub prefix: Vec<u8>,
    batch: Batch<'a>,
    pending: HashMap<Vec<u8>, Option<f64>>,
    longest: usize,
    dirty: bool,
}

impl<'a> ZWrite<'a> {
    /// Whether the sorted set existed (live) before this command.
    pub fn existed(&self) -> bool {
        self.loaded.exists()
    }

    /// A read view of the set as it was before this command's changes.
    pub fn view(&self) -> ZView<'a> {
        ZView { store: self.store, prefix: self.prefix.clone(), meta: self.meta }
    }

    /// The current score of `member`, seeing this command's own changes.
    pub fn score(&self, member: &[u8]) -> Result<Option<f64>, StoreError> {
        if let Some(p) = self.pending.get(member) {
            return Ok(*p);
        }
        if !self.existed() {
            return Ok(None);
        }
        match self.store.sub_get(&encoding::subkey(&self.prefix, member))? {
            Some(v) => Ok(Some(score_bytes(&v).ok_or_else(corrupt)?)),
            None => Ok(None),
        }
    }

    /// Reads the current scores of several members at once (one MultiGet), so that the
    /// following [`score`](Self::score) calls for them cost nothing.
    pub fn prefetch(&mut self, members: &[&[u8]]) -> Result<(), StoreError> {
        if !self.existed() || members.len() < 2 {
            return Ok(());
        }
        let want: Vec<&[u8]> = members.iter().copied().filter(|m| !self.pending.contains_key(*m)).collect();
        let keys: Vec<Vec<u8>> = want.iter().map(|m| encoding::subkey(&self.prefix, m)).collect();
        for (m, v) in want.iter().zip(self.store.sub_multi_get(&keys)?) {
            let score = match v {
                Some(v) => Some(score_bytes(&v).ok_or_else(corrupt)?),
                None => None,
            };
            self.pending.insert(m.to_vec(), score);
        }
        Ok(())
    }

    /// Sets `member` to `score`; `old` is its current score (from [`score`](Self::score)).
    pub fn set(&mut self, member: &[u8], old: Option<f64>, score: f64) {
        let score = norm(score);
        if let Some(o) = old {
            if o.to_bits() == score.to_bits() {
                return;
            }
            self.batch.delete_sub_once(cf::ZSET_SCORE, encoding::zscore_key(&self.prefix, o, member));
        } else {
            self.meta.size += 1;
        }
        self.batch.put_sub(cf::SUBKEYS, encoding::subkey(&self.prefix, member), encoding::encode_score(score).to_vec());
        self.batch.put_sub(cf::ZSET_SCORE, encoding::zscore_key(&self.prefix, score, member), Bytes::new());
        self.pending.insert(member.to_vec(), Some(score));
        self.longest = self.longest.max(member.len());
        self.dirty = true;
    }

    /// Removes `member`, whose current score is `score`.
    pub fn remove(&mut self, member: &[u8], score: f64) {
        self.batch.delete_sub(cf::SUBKEYS, encoding::subkey(&self.prefix, member));
        self.batch.delete_sub_once(cf::ZSET_SCORE, encoding::zscore_key(&self.prefix, score, member));
        self.meta.size = self.meta.size.saturating_sub(1);
        self.pending.insert(member.to_vec(), None);
        self.dirty = true;
    }

    /// Removes every member at once: the key goes, and its subkeys, unreachable with their
    /// version, are reclaimed by compaction (no per-member deletes).
    pub fn clear(&mut self) {
        self.meta.size = 0;
        self.dirty = true;
    }

    /// Removes `entries` (current members with their scores), all at once when they are all of
    /// them.
    pub fn remove_all_of(&mut self, entries: &[Entry]) {
        if !entries.is_empty() && entries.len() as u64 == self.meta.size && self.pending.is_empty() {
            self.clear();
            return;
        }
        for (m, s) in entries {
            self.remove(m, *s);
        }
    }

    fn finish(mut self) -> Result<(), StoreError> {
        if !self.dirty {
            return Ok(());
        }
        self.store.limits.note_listpack(&mut self.meta, self.longest);
        self.batch.put_coll(self.pdb, &self.key, self.loaded.old.as_ref(), &self.meta, self.loaded.expire_at_ms);
        self.batch.commit()
    }
}

impl Storage {
    /// The live sorted set at `key` (None if missing; WrongType if another type).
    pub fn zview(&self, pdb: u8, key: &[u8]) -> Result<Option<ZView<'_>>, StoreError> {
        Ok(self.read_coll(pdb, key, KeyType::ZSet)?.map(|meta| ZView {
            store: self,
            prefix: types::prefix(pdb, key, &meta),
            meta,
        }))
    }

    /// The live sorted set at `key` for a caller holding the key's lock (no lazy expiry here).
    pub fn zview_locked(&self, pdb: u8, key: &[u8]) -> Result<Option<ZView<'_>>, StoreError> {
        let Some(rec) = self.get_live(pdb, key)? else { return Ok(None) };
        if rec.key_type() != KeyType::ZSet {
            return Err(StoreError::WrongType);
        }
        let Some(meta) = Storage::coll_meta(&rec)? else { return Err(StoreError::WrongType) };
        Ok(Some(ZView { store: self, prefix: types::prefix(pdb, key, &meta), meta }))
    }

    /// An input of a set operation (read-only command, lazily expiring it).
    pub fn zinput(&self, pdb: u8, key: &[u8]) -> Result<Option<Input>, StoreError> {
        let Some(rec) = self.get_alive(pdb, key)? else { return Ok(None) };
        input_of(pdb, key, &rec)
    }

    /// Runs `f` over the sorted set at `key` under its lock, then commits its changes as one
    /// batch (nothing is written if `f` fails or changes nothing).
    pub fn zwrite<R, E: From<StoreError>>(
        &self,
        pdb: u8,
        key: &[u8],
        f: impl FnOnce(&mut ZWrite<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let _g = self.lock(pdb, key)?;
        self.zwrite_locked(pdb, key, f)
    }

    /// [`zwrite`](Self::zwrite) for a caller that already holds the key's lock.
    pub fn zwrite_locked<R, E: From<StoreError>>(
        &self,
        pdb: u8,
        key: &[u8],
        f: impl FnOnce(&mut ZWrite<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let loaded = self.load_coll(pdb, key, KeyType::ZSet)?;
        let meta = loaded.meta_or_new(self, KeyType::ZSet);
        let prefix = types::prefix(pdb, key, &meta);
        let mut w = ZWrite {
            store: self,
            pdb,
            key: key.to_vec(),
            loaded,
            meta,
            prefix,
            batch: self.batch(),
            pending: HashMap::new(),
            longest: 0,
            dirty: false,
        };
        let r = f(&mut w)?;
        w.finish()?;
        Ok(r)
    }

    /// A live input of a set operation (the caller holds the key's lock): a sorted set or a plain
    /// set; WrongType for any other type.
    pub fn zinput_locked(&self, pdb: u8, key: &[u8]) -> Result<Option<Input>, StoreError> {
        let Some(rec) = self.get_live(pdb, key)? else { return Ok(None) };
        input_of(pdb, key, &rec)
    }

    /// Every `(member, score)` of an input: score order for sorted sets, member order (score 1)
    /// for plain sets.
    pub fn zinput_entries(&self, input: &Input) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::with_capacity(input.size.min(1 << 16) as usize);
        if input.is_set {
            self.sub_scan(cf::SUBKEYS, &input.prefix, Dir::Forward, None, |m, _| {
                out.push((Bytes::copy_from_slice(m), 1.0));
                true
            })?;
            return Ok(out);
        }
        let mut bad = false;
        self.sub_scan(cf::ZSET_SCORE, &input.prefix, Dir::Forward, None, |suffix, _| {
            match encoding::decode_zscore_suffix(suffix) {
                Some((s, m)) => out.push((Bytes::copy_from_slice(m), s)),
                None => bad = true,
            }
            !bad
        })?;
        if bad {
            return Err(corrupt());
        }
        Ok(out)
    }

    /// The score of `member` in an input (1 for a plain set member), if present.
    pub fn zinput_score(&self, input: &Input, member: &[u8]) -> Result<Option<f64>, StoreError> {
        let v = self.sub_get(&encoding::subkey(&input.prefix, member))?;
        Ok(match v {
            None => None,
            Some(_) if input.is_set => Some(1.0),
            Some(v) => Some(score_bytes(&v).ok_or_else(corrupt)?),
        })
    }

    /// Replaces whatever is at `dst` with a new sorted set of `entries` (distinct members), or
    /// deletes `dst` when `entries` is empty. The caller holds `dst`'s lock. The new key has no
    /// expiry.
    pub fn zstore_locked(&self, pdb: u8, dst: &[u8], entries: &[Entry]) -> Result<(), StoreError> {
        let old = self.get_record(pdb, dst)?;
        let mut meta = CollMeta::new(KeyType::ZSet, self.next_version());
        let prefix = types::prefix(pdb, dst, &meta);
        let mut b = self.batch();
        let mut longest = 0;
        for (m, s) in entries {
            let s = norm(*s);
            b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, m), encoding::encode_score(s).to_vec());
            b.put_sub(cf::ZSET_SCORE, encoding::zscore_key(&prefix, s, m), Bytes::new());
            longest = longest.max(m.len());
        }
        meta.size = entries.len() as u64;
        self.limits.note_listpack(&mut meta, longest);
        b.put_coll(pdb, dst, old.as_ref(), &meta, 0);
        b.commit()
    }
}

fn input_of(pdb: u8, key: &[u8], rec: &Record) -> Result<Option<Input>, StoreError> {
    let t = rec.key_type();
    if t != KeyType::ZSet && t != KeyType::Set {
        return Err(StoreError::WrongType);
    }
    let Some(meta) = Storage::coll_meta(rec)? else { return Err(StoreError::WrongType) };
    Ok(Some(Input { prefix: types::prefix(pdb, key, &meta), size: meta.size, is_set: t == KeyType::Set }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lex_ranges() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        let r = LexRange { min: LexBound::Incl(b("b")), max: LexBound::Excl(b("d")) };
        assert!(r.gte_min(b"b") && !r.gte_min(b"a") && r.lte_max(b"c") && !r.lte_max(b"d"));
        assert!(!r.is_empty());
        assert!(LexRange { min: LexBound::Max, max: LexBound::Max }.is_empty());
        assert!(LexRange { min: LexBound::Excl(b("a")), max: LexBound::Incl(b("a")) }.is_empty());
        assert!(!LexRange { min: LexBound::Min, max: LexBound::Max }.is_empty());
    }

    #[test]
    fn score_ranges() {
        let r = ScoreRange { min: 1.0, minex: true, max: 1.0, maxex: false };
        assert!(r.is_empty());
        let r = ScoreRange { min: f64::NEG_INFINITY, minex: false, max: 2.0, maxex: true };
        assert!(r.gte_min(-1e300) && r.lte_max(1.9) && !r.lte_max(2.0));
        assert_eq!(norm(-0.0).to_bits(), 0.0f64.to_bits());
    }
}
