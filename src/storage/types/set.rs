//! Sets: each member is a `subkeys` record `prefix · member → empty`; the metadata's `size` is
//! the cardinality. `FLAG_NONINT` / `FLAG_BIG` decide whether OBJECT ENCODING says `intset`.
//!
//! Reads that walk a set go through `sub_scan` in pages; membership probes use `sub_get` /
//! `sub_multi_get`. Writes follow the collection pattern of `types`: lock, load, one batch.

use super::{is_intset_member, prefix, Loaded};
use crate::storage::encoding::{self, CollMeta, KeyType};
use crate::storage::subkeys::Dir;
use crate::storage::{cf, Storage, StoreError};
use bytes::Bytes;
use rand::seq::index;
use rand::Rng;
use std::collections::HashSet;

/// Sets up to this size are read whole to pick several random members.
const SMALL_SET: u64 = 512;
/// In sets up to this size a random pick walks to a uniformly random index (no allocation).
const EXACT_PICK: u64 = 4096;
/// Members read or probed at a time by the set algebra.
const CHUNK: usize = 512;
/// In bigger sets a pick steps forward a random number of members below this from a random
/// position, which smooths the bias of seeking to a random point in key space.
const PICK_WINDOW: u64 = 1024;

/// The set operations of SUNION / SINTER / SDIFF and their STORE forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Inter,
    Diff,
}

/// One page of SSCAN.
pub struct ScanPage {
    /// The members walked (before any MATCH filter).
    pub members: Vec<Bytes>,
    /// The last member walked when more may follow; None when the walk reached the end.
    pub next: Option<Bytes>,
}

/// A live set as a command finds it.
#[derive(Clone)]
struct Found {
    prefix: Vec<u8>,
    size: u64,
}

/// What SMOVE did: `found` (the reply: the member is in the source), `moved` (it left the
/// source for another set), `added` (the destination did not have it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmoveOutcome {
    pub found: bool,
    pub moved: bool,
    pub added: bool,
}

/// Typed access to set keys of one physical database.
pub struct SetStore<'a> {
    store: &'a Storage,
    pdb: u8,
}

fn member_key(prefix: &[u8], member: &[u8]) -> Vec<u8> {
    encoding::subkey(prefix, member)
}

/// The smallest byte string greater than `m` (for resuming a walk after `m`).
fn successor(m: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(m.len() + 1);
    v.extend_from_slice(m);
    v.push(0);
    v
}

/// Members in `members`, each once, in first-seen order.
fn unique(members: &[Bytes]) -> Vec<&Bytes> {
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(members.len());
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        if seen.insert(m.as_ref()) {
            out.push(m);
        }
    }
    out
}

impl<'a> SetStore<'a> {
    pub fn new(store: &'a Storage, pdb: u8) -> SetStore<'a> {
        SetStore { store, pdb }
    }

    // ---- reading helpers ------------------------------------------------------------------

    /// Read-only lookup (lazily expiring): None if missing, WrongType if not a set.
    fn read(&self, key: &[u8]) -> Result<Option<(CollMeta, Found)>, StoreError> {
        Ok(self.store.read_coll(self.pdb, key, KeyType::Set)?.map(|m| {
            let f = Found { prefix: prefix(self.pdb, key, &m), size: m.size };
            (m, f)
        }))
    }

    /// Lookup for a caller that holds the key's lock (no lazy deletion).
    fn read_locked(&self, key: &[u8]) -> Result<Option<Found>, StoreError> {
        let Some(rec) = self.store.get_live(self.pdb, key)? else { return Ok(None) };
        if rec.key_type() != KeyType::Set {
            return Err(StoreError::WrongType);
        }
        Ok(Storage::coll_meta(&rec)?.map(|m| Found { prefix: prefix(self.pdb, key, &m), size: m.size }))
    }

    /// Up to `n` members from `from` (inclusive; the first when None), and whether more follow.
    fn page(&self, prefix: &[u8], from: Option<&[u8]>, n: usize) -> Result<(Vec<Bytes>, bool), StoreError> {
        let mut out = Vec::with_capacity(n.min(CHUNK));
        let mut more = false;
        self.store.sub_scan(cf::SUBKEYS, prefix, Dir::Forward, from, |m, _| {
            if out.len() == n {
                more = true;
                return false;
            }
            out.push(Bytes::copy_from_slice(m));
            true
        })?;
        Ok((out, more))
    }

    /// Walks every member of the set under `prefix`, a page at a time; `f` returns false to stop.
    fn walk(&self, prefix: &[u8], mut f: impl FnMut(Vec<Bytes>) -> Result<bool, StoreError>) -> Result<(), StoreError> {
        let mut from: Option<Vec<u8>> = None;
        loop {
            let (page, more) = self.page(prefix, from.as_deref(), CHUNK)?;
            let last = page.last().map(|m| successor(m));
            if !f(page)? || !more {
                return Ok(());
            }
            from = last;
        }
    }

    /// Every member of the set under `prefix`.
    fn all(&self, prefix: &[u8]) -> Result<Vec<Bytes>, StoreError> {
        let mut out = Vec::new();
        self.store.sub_scan(cf::SUBKEYS, prefix, Dir::Forward, None, |m, _| {
            out.push(Bytes::copy_from_slice(m));
            true
        })?;
        Ok(out)
    }

    /// Keeps the members of `cands` that are in (`keep_present`) or absent from (`!keep_present`)
    /// the set under `prefix`.
    fn probe(&self, prefix: &[u8], cands: &mut Vec<Bytes>, keep_present: bool) -> Result<(), StoreError> {
        if cands.is_empty() {
            return Ok(());
        }
        let keys: Vec<Vec<u8>> = cands.iter().map(|m| member_key(prefix, m)).collect();
        let got = self.store.sub_multi_get(&keys)?;
        let mut it = got.iter();
        cands.retain(|_| it.next().is_some_and(|v| v.is_some() == keep_present));
        Ok(())
    }

    // ---- random members -------------------------------------------------------------------

    /// A random member of a non-empty set (None only if the set turned out empty).
    fn random_one(&self, f: &Found) -> Result<Option<Bytes>, StoreError> {
        match Sampler::new(self, f)? {
            Some(s) => s.pick(),
            None => Ok(None),
        }
    }

    /// Whether taking `count` members one pick at a time would cost more than reading the set.
    fn read_whole_for(f: &Found, count: u64) -> bool {
        f.size <= SMALL_SET || count.saturating_mul(PICK_WINDOW.min(f.size)) >= f.size
    }

    /// `count` distinct members of `all`, chosen uniformly, in random order.
    fn sample(mut all: Vec<Bytes>, count: u64) -> Vec<Bytes> {
        if count as usize >= all.len() {
            return all;
        }
        let picked = index::sample(&mut rand::rng(), all.len(), count as usize);
        picked.iter().map(|i| std::mem::take(&mut all[i])).collect()
    }

    /// `count` distinct random members (all of them when count ≥ size).
    fn random_distinct(&self, f: &Found, count: u64) -> Result<Vec<Bytes>, StoreError> {
        if count >= f.size || Self::read_whole_for(f, count.saturating_mul(2)) {
            return Ok(Self::sample(self.all(&f.prefix)?, count));
        }
        let Some(sampler) = Sampler::new(self, f)? else { return Ok(Vec::new()) };
        let mut seen = HashSet::with_capacity(count as usize);
        let mut out = Vec::with_capacity(count as usize);
        let budget = count.saturating_mul(4).saturating_add(16);
        for _ in 0..budget {
            if out.len() as u64 == count {
                return Ok(out);
            }
            if let Some(m) = sampler.pick()? {
                if seen.insert(m.clone()) {
                    out.push(m);
                }
            }
        }
        if out.len() as u64 == count {
            return Ok(out);
        }
        // Too skewed to finish by sampling: read the set once instead.
        Ok(Self::sample(self.all(&f.prefix)?, count))
    }

    /// `count` random members with repetitions.
    fn random_repeated(&self, f: &Found, count: u64) -> Result<Vec<Bytes>, StoreError> {
        if Self::read_whole_for(f, count) {
            let all = self.all(&f.prefix)?;
            if all.is_empty() {
                return Ok(Vec::new());
            }
            let mut rng = rand::rng();
            return Ok((0..count).map(|_| all[rng.random_range(0..all.len())].clone()).collect());
        }
        let Some(sampler) = Sampler::new(self, f)? else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            if let Some(m) = sampler.pick()? {
                out.push(m);
            }
        }
        Ok(out)
    }

    // ---- commands ---------------------------------------------------------------------------

    /// SADD: the number of members added.
    pub fn add(&self, key: &[u8], members: &[Bytes]) -> Result<i64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.store.load_coll(self.pdb, key, KeyType::Set)?;
        let mut meta = l.meta_or_new(self.store, KeyType::Set);
        let pfx = prefix(self.pdb, key, &meta);
        let uniq = unique(members);
        let present: Vec<Option<Bytes>> = if l.exists() {
            let keys: Vec<Vec<u8>> = uniq.iter().map(|m| member_key(&pfx, m)).collect();
            self.store.sub_multi_get(&keys)?
        } else {
            vec![None; uniq.len()]
        };
        let mut b = self.store.batch();
        let (mut added, mut nonint) = (0i64, false);
        for (m, p) in uniq.iter().zip(present) {
            if p.is_none() {
                b.put_sub(cf::SUBKEYS, member_key(&pfx, m), Bytes::new());
                added += 1;
                nonint |= !is_intset_member(m);
            }
        }
        if added == 0 {
            return Ok(0);
        }
        meta.size += added as u64;
        self.store.limits.note_set(&mut meta, nonint);
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(added)
    }

    /// SREM: the number of members removed.
    pub fn remove(&self, key: &[u8], members: &[Bytes]) -> Result<i64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.store.load_coll(self.pdb, key, KeyType::Set)?;
        let Some(mut meta) = l.meta else { return Ok(0) };
        let pfx = prefix(self.pdb, key, &meta);
        let keys: Vec<Vec<u8>> = unique(members).iter().map(|m| member_key(&pfx, m)).collect();
        let present = self.store.sub_multi_get(&keys)?;
        let mut b = self.store.batch();
        let mut removed = 0i64;
        for (k, p) in keys.into_iter().zip(present) {
            if p.is_some() {
                b.delete_sub(cf::SUBKEYS, k);
                removed += 1;
            }
        }
        if removed == 0 {
            return Ok(0);
        }
        meta.size = meta.size.saturating_sub(removed as u64);
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(removed)
    }

    /// SISMEMBER.
    pub fn is_member(&self, key: &[u8], member: &[u8]) -> Result<bool, StoreError> {
        let Some((_, f)) = self.read(key)? else { return Ok(false) };
        Ok(self.store.sub_get(&member_key(&f.prefix, member))?.is_some())
    }

    /// SMISMEMBER.
    pub fn are_members(&self, key: &[u8], members: &[Bytes]) -> Result<Vec<bool>, StoreError> {
        let Some((_, f)) = self.read(key)? else { return Ok(vec![false; members.len()]) };
        let keys: Vec<Vec<u8>> = members.iter().map(|m| member_key(&f.prefix, m)).collect();
        Ok(self.store.sub_multi_get(&keys)?.into_iter().map(|v| v.is_some()).collect())
    }

    /// SCARD.
    pub fn card(&self, key: &[u8]) -> Result<u64, StoreError> {
        Ok(self.read(key)?.map(|(m, _)| m.size).unwrap_or(0))
    }

    /// SMEMBERS.
    pub fn members(&self, key: &[u8]) -> Result<Vec<Bytes>, StoreError> {
        match self.read(key)? {
            Some((_, f)) => self.all(&f.prefix),
            None => Ok(Vec::new()),
        }
    }

    /// SRANDMEMBER without a count: None if the key is missing.
    pub fn random_member(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        match self.read(key)? {
            Some((_, f)) => self.random_one(&f),
            None => Ok(None),
        }
    }

    /// SRANDMEMBER with a count: `count` distinct members, or with `repeat` that many members
    /// drawn independently. None if the key is missing.
    pub fn random_members(&self, key: &[u8], count: u64, repeat: bool) -> Result<Option<Vec<Bytes>>, StoreError> {
        let Some((_, f)) = self.read(key)? else { return Ok(None) };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        if repeat {
            return self.random_repeated(&f, count).map(Some);
        }
        self.random_distinct(&f, count).map(Some)
    }

    /// SPOP without a count: None if the key is missing.
    pub fn pop_one(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.store.load_coll(self.pdb, key, KeyType::Set)?;
        let Some(mut meta) = l.meta else { return Ok(None) };
        let f = Found { prefix: prefix(self.pdb, key, &meta), size: meta.size };
        let Some(m) = self.random_one(&f)? else { return Ok(None) };
        let mut b = self.store.batch();
        b.delete_sub(cf::SUBKEYS, member_key(&f.prefix, &m));
        meta.size = meta.size.saturating_sub(1);
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(Some(m))
    }

    /// SPOP with a count: the members removed (all of them when count ≥ size), in one batch.
    /// None if the key is missing.
    pub fn pop_many(&self, key: &[u8], count: u64) -> Result<Option<Vec<Bytes>>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.store.load_coll(self.pdb, key, KeyType::Set)?;
        let Some(mut meta) = l.meta else { return Ok(None) };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        let f = Found { prefix: prefix(self.pdb, key, &meta), size: meta.size };
        let popped = self.random_distinct(&f, count)?;
        if popped.is_empty() {
            return Ok(Some(popped));
        }
        let mut b = self.store.batch();
        if count >= meta.size {
            meta.size = 0;
        } else {
            for m in &popped {
                b.delete_sub(cf::SUBKEYS, member_key(&f.prefix, m));
            }
            meta.size = meta.size.saturating_sub(popped.len() as u64);
        }
        // An emptied set is deleted whole: its subkeys become unreachable with its version.
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(Some(popped))
    }

    /// SMOVE: whether the member was moved (or, when source and destination are the same key,
    /// whether it is a member).
    pub fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<SmoveOutcome, StoreError> {
        let _g = self.store.lock_many([(self.pdb, src), (self.pdb, dst)])?;
        let s = self.store.load_coll(self.pdb, src, KeyType::Set);
        // A missing source replies 0 whatever the destination holds.
        let s: Loaded = match s {
            Ok(l) if !l.exists() => return Ok(SmoveOutcome::default()),
            other => other?,
        };
        let d = self.store.load_coll(self.pdb, dst, KeyType::Set)?;
        let Some(mut smeta) = s.meta else { return Ok(SmoveOutcome::default()) };
        let spfx = prefix(self.pdb, src, &smeta);
        let in_src = self.store.sub_get(&member_key(&spfx, member))?.is_some();
        if src == dst || !in_src {
            return Ok(SmoveOutcome { found: in_src, ..SmoveOutcome::default() });
        }
        let mut b = self.store.batch();
        b.delete_sub(cf::SUBKEYS, member_key(&spfx, member));
        smeta.size = smeta.size.saturating_sub(1);
        b.put_coll(self.pdb, src, s.old.as_ref(), &smeta, s.expire_at_ms);
        let mut dmeta = d.meta_or_new(self.store, KeyType::Set);
        let dpfx = prefix(self.pdb, dst, &dmeta);
        let in_dst = d.exists() && self.store.sub_get(&member_key(&dpfx, member))?.is_some();
        if !in_dst {
            b.put_sub(cf::SUBKEYS, member_key(&dpfx, member), Bytes::new());
            dmeta.size += 1;
            self.store.limits.note_set(&mut dmeta, !is_intset_member(member));
            b.put_coll(self.pdb, dst, d.old.as_ref(), &dmeta, d.expire_at_ms);
        }
        b.commit()?;
        Ok(SmoveOutcome { found: true, moved: true, added: !in_dst })
    }

    /// The sets at `keys` (None = missing), type-checked all before anything is read.
    fn sources(&self, keys: &[Bytes], locked: bool) -> Result<Vec<Option<Found>>, StoreError> {
        keys.iter()
            .map(|k| if locked { self.read_locked(k) } else { self.read(k).map(|o| o.map(|(_, f)| f)) })
            .collect()
    }

    /// The result of `op` over `sets`; `limit` (> 0) stops an intersection after that many.
    fn compute(&self, op: SetOp, sets: &[Option<Found>], limit: u64) -> Result<Vec<Bytes>, StoreError> {
        match op {
            SetOp::Union => {
                let mut seen: HashSet<Bytes> = HashSet::new();
                let mut out = Vec::new();
                for f in sets.iter().flatten() {
                    self.walk(&f.prefix, |page| {
                        for m in page {
                            if seen.insert(m.clone()) {
                                out.push(m);
                            }
                        }
                        Ok(true)
                    })?;
                }
                Ok(out)
            }
            SetOp::Inter => {
                let mut found: Vec<&Found> = Vec::with_capacity(sets.len());
                for s in sets {
                    match s {
                        Some(f) => found.push(f),
                        None => return Ok(Vec::new()),
                    }
                }
                found.sort_by_key(|f| f.size);
                let Some((first, rest)) = found.split_first() else { return Ok(Vec::new()) };
                let mut others: Vec<&[u8]> = Vec::new();
                for f in rest {
                    if f.prefix != first.prefix && !others.contains(&f.prefix.as_slice()) {
                        others.push(&f.prefix);
                    }
                }
                let mut out = Vec::new();
                self.walk(&first.prefix, |mut page| {
                    for p in &others {
                        self.probe(p, &mut page, true)?;
                    }
                    for m in page {
                        out.push(m);
                        if limit > 0 && out.len() as u64 >= limit {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })?;
                Ok(out)
            }
            SetOp::Diff => {
                let Some(Some(first)) = sets.first() else { return Ok(Vec::new()) };
                let mut others: Vec<&[u8]> = Vec::new();
                for f in sets[1..].iter().flatten() {
                    if f.prefix == first.prefix {
                        return Ok(Vec::new());
                    }
                    if !others.contains(&f.prefix.as_slice()) {
                        others.push(&f.prefix);
                    }
                }
                let mut out = Vec::new();
                self.walk(&first.prefix, |mut page| {
                    for p in &others {
                        self.probe(p, &mut page, false)?;
                    }
                    out.extend(page);
                    Ok(true)
                })?;
                Ok(out)
            }
        }
    }

    /// SUNION / SINTER / SDIFF.
    pub fn algebra(&self, op: SetOp, keys: &[Bytes]) -> Result<Vec<Bytes>, StoreError> {
        let sets = self.sources(keys, false)?;
        self.compute(op, &sets, 0)
    }

    /// SINTERCARD: the size of the intersection, counting up to `limit` (0 = no limit).
    pub fn intercard(&self, keys: &[Bytes], limit: u64) -> Result<u64, StoreError> {
        let sets = self.sources(keys, false)?;
        Ok(self.compute(SetOp::Inter, &sets, limit)?.len() as u64)
    }

    /// SUNIONSTORE / SINTERSTORE / SDIFFSTORE: replaces `dst` (whatever it held) with the result,
    /// or deletes it when the result is empty. Returns the result's size.
    pub fn store(&self, op: SetOp, dst: &[u8], keys: &[Bytes]) -> Result<u64, StoreError> {
        let _g = self
            .store
            .lock_many(std::iter::once((self.pdb, dst)).chain(keys.iter().map(|k| (self.pdb, k.as_ref()))))?;
        let sets = self.sources(keys, true)?;
        let result = self.compute(op, &sets, 0)?;
        let old = self.store.get_record(self.pdb, dst)?;
        let mut b = self.store.batch();
        // An empty result deletes `dst` (`put_coll` of an empty set).
        let mut meta = CollMeta::new(KeyType::Set, self.store.next_version());
        let pfx = prefix(self.pdb, dst, &meta);
        let mut nonint = false;
        for m in &result {
            nonint |= !is_intset_member(m);
            b.put_sub(cf::SUBKEYS, member_key(&pfx, m), Bytes::new());
        }
        meta.size = result.len() as u64;
        self.store.limits.note_set(&mut meta, nonint);
        b.put_coll(self.pdb, dst, old.as_ref(), &meta, 0);
        b.commit()?;
        Ok(meta.size)
    }

    /// Whether SSCAN should return the whole set at once (Redis does for an intset), with the
    /// set's presence: Err(WrongType) for another type, Ok(None) when missing.
    pub fn scan_whole(&self, key: &[u8]) -> Result<Option<bool>, StoreError> {
        Ok(self.read(key)?.map(|(m, _)| super::encoding_name(&m) == "intset"))
    }

    /// SSCAN: up to `count` members after `after` (from the start when None); `count` 0 = all.
    pub fn scan(&self, key: &[u8], after: Option<&[u8]>, count: usize) -> Result<ScanPage, StoreError> {
        let Some((_, f)) = self.read(key)? else { return Ok(ScanPage { members: Vec::new(), next: None }) };
        if count == 0 {
            return Ok(ScanPage { members: self.all(&f.prefix)?, next: None });
        }
        let from = after.map(successor);
        let (members, more) = self.page(&f.prefix, from.as_deref(), count)?;
        let next = if more { members.last().cloned() } else { None };
        Ok(ScanPage { members, next })
    }
}

/// Random picks one at a time. In a set of at most `EXACT_PICK` members: the member at a
/// uniformly random index. In a bigger one: seek to a random point between the first and last
/// member, then step forward a random number of members below `PICK_WINDOW` (wrapping to the
/// start). That is not exactly uniform (the gaps between members weigh in), like Redis's own
/// picks in a hash table, but every member can come out.
struct Sampler<'s, 'a> {
    sets: &'s SetStore<'a>,
    prefix: Vec<u8>,
    size: u64,
    /// First and last member, for big sets.
    bounds: Option<(Vec<u8>, Vec<u8>)>,
}

impl<'s, 'a> Sampler<'s, 'a> {
    fn new(sets: &'s SetStore<'a>, f: &Found) -> Result<Option<Sampler<'s, 'a>>, StoreError> {
        if f.size == 0 {
            return Ok(None);
        }
        let mut bounds = None;
        if f.size > EXACT_PICK {
            let mut lo = None;
            let mut hi = None;
            sets.store.sub_scan(cf::SUBKEYS, &f.prefix, Dir::Forward, None, |m, _| {
                lo = Some(m.to_vec());
                false
            })?;
            sets.store.sub_scan(cf::SUBKEYS, &f.prefix, Dir::Reverse, None, |m, _| {
                hi = Some(m.to_vec());
                false
            })?;
            let (Some(lo), Some(hi)) = (lo, hi) else { return Ok(None) };
            bounds = Some((lo, hi));
        }
        Ok(Some(Sampler { sets, prefix: f.prefix.clone(), size: f.size, bounds }))
    }

    /// A random byte string between `lo` and `hi` (roughly).
    fn point(lo: &[u8], hi: &[u8]) -> Vec<u8> {
        let mut rng = rand::rng();
        let common = lo.iter().zip(hi).take_while(|(a, b)| a == b).count();
        let mut p = hi[..common].to_vec();
        let a = lo.get(common).copied().unwrap_or(0);
        let b = hi.get(common).copied().unwrap_or(0);
        p.push(rng.random_range(a.min(b)..=a.max(b)));
        let tail: [u8; 8] = rng.random();
        p.extend_from_slice(&tail);
        p
    }

    fn pick(&self) -> Result<Option<Bytes>, StoreError> {
        let mut rng = rand::rng();
        let (start, skip) = match &self.bounds {
            None => (None, rng.random_range(0..self.size)),
            Some((lo, hi)) => (Some(Self::point(lo, hi)), rng.random_range(0..PICK_WINDOW.min(self.size))),
        };
        let mut seen = 0u64;
        let mut got: Option<Bytes> = None;
        let froms = [start.as_deref(), None];
        let froms = if start.is_some() { &froms[..] } else { &froms[1..] };
        for &from in froms {
            self.sets.store.sub_scan(cf::SUBKEYS, &self.prefix, Dir::Forward, from, |m, _| {
                if seen == skip {
                    got = Some(Bytes::copy_from_slice(m));
                    return false;
                }
                seen += 1;
                true
            })?;
            if got.is_some() {
                return Ok(got);
            }
        }
        // The size said more members than a walk found (it cannot): take the first one.
        self.sets.store.sub_scan(cf::SUBKEYS, &self.prefix, Dir::Forward, None, |m, _| {
            got = Some(Bytes::copy_from_slice(m));
            false
        })?;
        Ok(got)
    }
}
