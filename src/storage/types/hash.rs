//! Hashes: one `subkeys` record per field (`prefix · field → value`), the field count in the
//! metadata record's size (HLEN is O(1)). Fields iterate in byte order.

use super::{prefix, Loaded};
use crate::storage::encoding::{self, CollMeta, KeyType};
use crate::storage::subkeys::Dir;
use crate::storage::{cf, Storage, StoreError};
use bytes::Bytes;
use rand::Rng;
use std::collections::{HashMap, HashSet};

/// Typed access to hash keys of one physical database.
pub struct HashStore<'a> {
    store: &'a Storage,
    pdb: u8,
}

/// One page of HSCAN: the pairs, and the field to resume from (None = done).
pub struct ScanPage {
    pub pairs: Vec<(Bytes, Bytes)>,
    pub next: Option<Vec<u8>>,
}

/// A field and its value.
pub type Pair = (Bytes, Bytes);

impl<'a> HashStore<'a> {
    pub fn new(store: &'a Storage, pdb: u8) -> HashStore<'a> {
        HashStore { store, pdb }
    }

    /// The live hash at `key` (None if missing), WrongType for another type.
    pub fn meta(&self, key: &[u8]) -> Result<Option<CollMeta>, StoreError> {
        self.store.read_coll(self.pdb, key, KeyType::Hash)
    }

    fn load(&self, key: &[u8]) -> Result<(Loaded, CollMeta, Vec<u8>), StoreError> {
        let l = self.store.load_coll(self.pdb, key, KeyType::Hash)?;
        let meta = l.meta_or_new(self.store, KeyType::Hash);
        let p = prefix(self.pdb, key, &meta);
        Ok((l, meta, p))
    }

    /// HSET / HMSET (`nx` = false) and HSETNX (`nx` = true, one pair): returns the number of
    /// fields added. A field named twice takes its last value.
    pub fn set(&self, key: &[u8], pairs: &[(Bytes, Bytes)], nx: bool) -> Result<u64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let (l, mut meta, p) = self.load(key)?;
        let keys: Vec<Vec<u8>> = pairs.iter().map(|(f, _)| encoding::subkey(&p, f)).collect();
        let existing = if l.exists() { self.store.sub_multi_get(&keys)? } else { vec![None; keys.len()] };
        let mut b = self.store.batch();
        let mut added = 0u64;
        let mut longest = 0usize;
        let mut written = false;
        // The last occurrence of each field is the one written.
        let last: HashMap<&[u8], usize> = pairs.iter().enumerate().map(|(i, (f, _))| (f.as_ref(), i)).collect();
        let mut seen: HashSet<&[u8]> = HashSet::with_capacity(pairs.len());
        for (i, ((f, v), k)) in pairs.iter().zip(&keys).enumerate() {
            longest = longest.max(f.len()).max(v.len());
            let earlier = !seen.insert(f.as_ref());
            let present = existing[i].is_some() || earlier;
            if nx && present {
                continue;
            }
            if !present {
                added += 1;
            }
            if last.get(f.as_ref()) != Some(&i) {
                continue;
            }
            b.put_sub(cf::SUBKEYS, k.clone(), v.clone());
            written = true;
        }
        if !written {
            return Ok(0);
        }
        meta.size += added;
        self.store.limits.note_listpack(&mut meta, longest);
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(added)
    }

    /// HGET.
    pub fn get(&self, key: &[u8], field: &[u8]) -> Result<Option<Bytes>, StoreError> {
        match self.meta(key)? {
            Some(m) => self.store.sub_get(&encoding::subkey(&prefix(self.pdb, key, &m), field)),
            None => Ok(None),
        }
    }

    /// A field of the hash at `key`, None when the key is missing or not a hash (SORT's
    /// `->field` lookups).
    pub fn field_of_any(&self, key: &[u8], field: &[u8]) -> Result<Option<Bytes>, StoreError> {
        match self.get(key, field) {
            Err(StoreError::WrongType) => Ok(None),
            other => other,
        }
    }

    /// HMGET: None for each missing field (all of them when the key is missing).
    pub fn mget(&self, key: &[u8], fields: &[Bytes]) -> Result<Vec<Option<Bytes>>, StoreError> {
        match self.meta(key)? {
            Some(m) => {
                let p = prefix(self.pdb, key, &m);
                let keys: Vec<Vec<u8>> = fields.iter().map(|f| encoding::subkey(&p, f)).collect();
                self.store.sub_multi_get(&keys)
            }
            None => Ok(vec![None; fields.len()]),
        }
    }

    /// HDEL: the number of fields removed. The key disappears with its last field.
    pub fn del(&self, key: &[u8], fields: &[Bytes]) -> Result<u64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.store.load_coll(self.pdb, key, KeyType::Hash)?;
        let Some(mut meta) = l.meta else { return Ok(0) };
        let p = prefix(self.pdb, key, &meta);
        let keys: Vec<Vec<u8>> = fields.iter().map(|f| encoding::subkey(&p, f)).collect();
        let existing = self.store.sub_multi_get(&keys)?;
        let mut b = self.store.batch();
        let mut removed = 0u64;
        let mut seen: HashSet<&[u8]> = HashSet::with_capacity(fields.len());
        for (i, k) in keys.into_iter().enumerate() {
            if existing[i].is_some() && seen.insert(fields[i].as_ref()) {
                removed += 1;
                b.delete_sub(cf::SUBKEYS, k);
            }
        }
        if removed == 0 {
            return Ok(0);
        }
        meta.size = meta.size.saturating_sub(removed);
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(removed)
    }

    /// Read-modify-write of one field (HINCRBY, HINCRBYFLOAT), keeping the key's expiry. `f`
    /// gets the current value (None if missing) and returns the new value and the reply.
    pub fn update_field<R, E>(
        &self,
        key: &[u8],
        field: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, R), E>,
    ) -> Result<Result<R, E>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let (l, mut meta, p) = self.load(key)?;
        let k = encoding::subkey(&p, field);
        let cur = if l.exists() { self.store.sub_get(&k)? } else { None };
        let (new, reply) = match f(cur.as_deref()) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        if cur.is_none() {
            meta.size += 1;
        }
        // Like Redis's hashTypeSet, only the number of entries can convert the encoding here.
        self.store.limits.note_listpack(&mut meta, 0);
        let mut b = self.store.batch();
        b.put_sub(cf::SUBKEYS, k, new);
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(Ok(reply))
    }

    /// Walks every field of `meta`'s hash in order; `f` returns false to stop.
    fn walk(&self, key: &[u8], meta: &CollMeta, f: impl FnMut(&[u8], &[u8]) -> bool) -> Result<(), StoreError> {
        self.store.sub_scan(cf::SUBKEYS, &prefix(self.pdb, key, meta), Dir::Forward, None, f)
    }

    /// HGETALL / HKEYS / HVALS: every pair, in field order (None if the key is missing).
    pub fn all(&self, key: &[u8]) -> Result<Option<Vec<Pair>>, StoreError> {
        let Some(meta) = self.meta(key)? else { return Ok(None) };
        let mut out = Vec::with_capacity(meta.size.min(1 << 16) as usize);
        self.walk(key, &meta, |f, v| {
            out.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)));
            true
        })?;
        Ok(Some(out))
    }

    /// HSCAN from `from` (inclusive; None = the start): a small (listpack) hash in one page,
    /// a big one `count` fields at a time.
    pub fn scan(&self, key: &[u8], from: Option<&[u8]>, count: usize) -> Result<ScanPage, StoreError> {
        let Some(meta) = self.meta(key)? else { return Ok(ScanPage { pairs: Vec::new(), next: None }) };
        let small = meta.flags & encoding::FLAG_BIG == 0;
        let (from, count) = if small { (None, usize::MAX) } else { (from, count.max(1)) };
        let mut pairs = Vec::new();
        let mut next = None;
        let p = prefix(self.pdb, key, &meta);
        self.store.sub_scan(cf::SUBKEYS, &p, Dir::Forward, from, |f, v| {
            if pairs.len() >= count {
                next = Some(f.to_vec());
                return false;
            }
            pairs.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)));
            true
        })?;
        Ok(ScanPage { pairs, next })
    }

    /// The pairs at the given positions (sorted, distinct) of the hash's field order, in that
    /// order. Positions past the end (the hash shrank meanwhile) are left out.
    fn at_positions(&self, key: &[u8], meta: &CollMeta, positions: &[u64]) -> Result<Vec<Pair>, StoreError> {
        let mut out = Vec::with_capacity(positions.len());
        let mut want = positions.iter().peekable();
        let mut i = 0u64;
        self.walk(key, meta, |f, v| {
            if want.peek() == Some(&&i) {
                out.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)));
                want.next();
            }
            i += 1;
            want.peek().is_some()
        })?;
        Ok(out)
    }

    /// HRANDFIELD without a count: one random pair, None if the key is missing.
    pub fn random_one(&self, key: &[u8]) -> Result<Option<Pair>, StoreError> {
        let Some(meta) = self.meta(key)? else { return Ok(None) };
        if meta.size == 0 {
            return Ok(None);
        }
        let pos = rand::rng().random_range(0..meta.size);
        let mut got = self.at_positions(key, &meta, &[pos])?;
        if got.is_empty() {
            // The hash shrank since its metadata was read: take its first pair.
            got = self.at_positions(key, &meta, &[0])?;
        }
        Ok(got.pop())
    }

    /// HRANDFIELD with a count: `count` distinct pairs (or the whole hash) when `unique`, else
    /// exactly `count` pairs picked independently, in random order. Memory is bounded by
    /// `count` and the hash's size, whichever is smaller, plus the reply itself.
    pub fn random(&self, key: &[u8], count: u64, unique: bool) -> Result<Vec<Pair>, StoreError> {
        let Some(meta) = self.meta(key)? else { return Ok(Vec::new()) };
        let size = meta.size;
        if count == 0 || size == 0 {
            return Ok(Vec::new());
        }
        if unique && count >= size {
            return Ok(self.all(key)?.unwrap_or_default());
        }
        if count >= size {
            // With repeats, a reply at least as long as the hash: read it all once.
            let all = self.all(key)?.unwrap_or_default();
            if all.is_empty() {
                return Ok(Vec::new());
            }
            let mut rng = rand::rng();
            return Ok((0..count).map(|_| all[rng.random_range(0..all.len())].clone()).collect());
        }
        let (positions, order) = super::random_picks(size, count, unique);
        let found = self.at_positions(key, &meta, &positions)?;
        Ok(super::in_pick_order(&found, &order))
    }
}
