//! Type-independent key operations: existence, deletion, expiry, rename, move, copy, scans,
//! random keys, flushes and SWAPDB. All work on physical database ids (see `Storage::dbs`).

use super::encoding::{self, KeyType};
use super::subkeys::Dir;
use super::{batch, cf, tier, Batch, DbMapMut, Record, Storage, StoreError};
use bytes::Bytes;
use rand::Rng;

/// EXPIRE's NX/XX/GT/LT condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExpireCond {
    #[default]
    Always,
    /// Only if the key has no expiry.
    Nx,
    /// Only if the key has an expiry.
    Xx,
    /// Only if the new expiry is greater (a key without expiry counts as infinite).
    Gt,
    /// Only if the new expiry is less (a key without expiry counts as infinite).
    Lt,
}

/// The outcome of RENAME / RENAMENX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameOutcome {
    NoSuchKey,
    TargetExists,
    Renamed,
}

/// One page of a SCAN.
pub struct ScanPage {
    pub keys: Vec<Bytes>,
    /// Where the next page starts (exclusive), or None when the scan is complete.
    pub next: Option<Vec<u8>>,
}

impl Storage {
    /// Counts how many of `keys` exist (a key named twice counts twice).
    pub fn exists(&self, pdb: u8, keys: &[Bytes]) -> Result<i64, StoreError> {
        let mut n = 0;
        for k in keys {
            n += i64::from(self.get_alive(pdb, k)?.is_some());
        }
        Ok(n)
    }

    /// The type of a live key.
    pub fn key_type(&self, pdb: u8, key: &[u8]) -> Result<Option<KeyType>, StoreError> {
        Ok(self.get_alive(pdb, key)?.map(|r| r.key_type()))
    }

    /// Deletes `keys`; returns how many existed. One atomic batch.
    pub fn delete(&self, pdb: u8, keys: &[Bytes]) -> Result<i64, StoreError> {
        Ok(self.delete_keys(pdb, keys)?.len() as i64)
    }

    /// Deletes `keys`; returns those that existed (each once), in order. One atomic batch.
    pub fn delete_keys(&self, pdb: u8, keys: &[Bytes]) -> Result<Vec<Bytes>, StoreError> {
        let _g = self.lock_many(keys.iter().map(|k| (pdb, k.as_ref())))?;
        let now = self.clock.now_ms();
        let mut b = self.batch();
        let mut deleted = Vec::new();
        let mut seen: Vec<&[u8]> = Vec::new();
        for k in keys {
            if seen.contains(&k.as_ref()) {
                continue;
            }
            seen.push(k);
            if let Some(rec) = self.get_record(pdb, k)? {
                if rec.alive(now) {
                    deleted.push(k.clone());
                } else {
                    b.note_expired(pdb, k);
                }
                b.delete_record(pdb, k, &rec);
            }
        }
        b.commit()?;
        Ok(deleted)
    }

    /// Sets the absolute expiry of `key` to `at_ms` under `cond`. An expiry at or before now
    /// deletes the key. Returns whether the expiry was set (or the key deleted).
    pub fn set_expire(&self, pdb: u8, key: &[u8], at_ms: u64, cond: ExpireCond) -> Result<bool, StoreError> {
        let _g = self.lock(pdb, key)?;
        let now = self.clock.now_ms();
        let Some(rec) = self.get_record(pdb, key)? else { return Ok(false) };
        if !rec.alive(now) {
            return Ok(false);
        }
        let cur = rec.header.expire_at_ms;
        let allowed = match cond {
            ExpireCond::Always => true,
            ExpireCond::Nx => cur == 0,
            ExpireCond::Xx => cur != 0,
            ExpireCond::Gt => cur != 0 && at_ms > cur,
            ExpireCond::Lt => cur == 0 || at_ms < cur,
        };
        if !allowed {
            return Ok(false);
        }
        let mut b = self.batch();
        if at_ms <= now {
            b.delete_record(pdb, key, &rec);
        } else {
            b.put_record(pdb, key, Some(&rec), encoding::with_expire(&rec.raw, at_ms), at_ms);
        }
        b.commit()?;
        Ok(true)
    }

    /// Removes the expiry of `key`; true if it had one.
    pub fn persist(&self, pdb: u8, key: &[u8]) -> Result<bool, StoreError> {
        let _g = self.lock(pdb, key)?;
        let now = self.clock.now_ms();
        match self.get_record(pdb, key)? {
            Some(rec) if rec.alive(now) && rec.header.expire_at_ms != 0 => {
                let mut b = self.batch();
                b.put_record(pdb, key, Some(&rec), encoding::with_expire(&rec.raw, 0), 0);
                b.commit()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// RENAME (`nx` = RENAMENX). The expiry moves with the value.
    pub fn rename(&self, pdb: u8, src: &[u8], dst: &[u8], nx: bool) -> Result<RenameOutcome, StoreError> {
        let _g = self.lock_many([(pdb, src), (pdb, dst)])?;
        let now = self.clock.now_ms();
        let Some(rec) = self.get_record(pdb, src)?.filter(|r| r.alive(now)) else {
            return Ok(RenameOutcome::NoSuchKey);
        };
        if src == dst {
            return Ok(if nx { RenameOutcome::TargetExists } else { RenameOutcome::Renamed });
        }
        let old_dst = self.get_record(pdb, dst)?;
        if nx && old_dst.as_ref().is_some_and(|r| r.alive(now)) {
            return Ok(RenameOutcome::TargetExists);
        }
        let mut b = self.batch();
        self.copy_record(&mut b, (pdb, src), (pdb, dst), old_dst.as_ref(), &rec)?;
        b.delete_record(pdb, src, &rec);
        b.commit()?;
        Ok(RenameOutcome::Renamed)
    }

    /// MOVE: true if moved (the source exists and the target does not).
    pub fn move_key(&self, src_db: u8, dst_db: u8, key: &[u8]) -> Result<bool, StoreError> {
        let _g = self.lock_many([(src_db, key), (dst_db, key)])?;
        let now = self.clock.now_ms();
        let Some(rec) = self.get_record(src_db, key)?.filter(|r| r.alive(now)) else { return Ok(false) };
        let old_dst = self.get_record(dst_db, key)?;
        if old_dst.as_ref().is_some_and(|r| r.alive(now)) {
            return Ok(false);
        }
        let mut b = self.batch();
        self.copy_record(&mut b, (src_db, key), (dst_db, key), old_dst.as_ref(), &rec)?;
        b.delete_record(src_db, key, &rec);
        b.commit()?;
        Ok(true)
    }

    /// COPY: true if copied.
    pub fn copy_key(&self, src_db: u8, src: &[u8], dst_db: u8, dst: &[u8], replace: bool) -> Result<bool, StoreError> {
        let _g = self.lock_many([(src_db, src), (dst_db, dst)])?;
        let now = self.clock.now_ms();
        let Some(rec) = self.get_record(src_db, src)?.filter(|r| r.alive(now)) else { return Ok(false) };
        if src_db == dst_db && src == dst {
            return Ok(false);
        }
        let old_dst = self.get_record(dst_db, dst)?;
        if !replace && old_dst.as_ref().is_some_and(|r| r.alive(now)) {
            return Ok(false);
        }
        let mut b = self.batch();
        self.copy_record(&mut b, (src_db, src), (dst_db, dst), old_dst.as_ref(), &rec)?;
        b.commit()?;
        Ok(true)
    }

    /// Writes `rec` under a new name. Inline strings are self-contained; a collection's (or a
    /// fragmented string's) subkeys embed
    /// its name, so they are copied under a fresh version of the new name (never the source's
    /// version: a later copy to the same name must not meet subkeys of an earlier one).
    fn copy_record(
        &self,
        b: &mut Batch<'_>,
        (src_db, src): (u8, &[u8]),
        (pdb, key): (u8, &[u8]),
        old: Option<&Record>,
        rec: &Record,
    ) -> Result<(), StoreError> {
        if let Some(frag) = encoding::fragmented(&rec.raw) {
            // A fragmented string: its fragments, under a fresh version of the new name.
            let from = encoding::subkey_prefix(src_db, src, frag.version);
            let copy = encoding::Fragmented { version: self.next_version(), len: frag.len };
            let to = encoding::subkey_prefix(pdb, key, copy.version);
            self.sub_scan(cf::SUBKEYS, &from, Dir::Forward, None, |suffix, value| {
                b.put_fragment(encoding::subkey(&to, suffix), Bytes::copy_from_slice(value));
                true
            })?;
            let at = rec.header.expire_at_ms;
            b.put_record(pdb, key, old, encoding::encode_fragmented(at, copy, rec.header.flags), at);
            return Ok(());
        }
        let Some(mut meta) = Storage::coll_meta(rec)? else {
            b.put_record(pdb, key, old, rec.raw.clone(), rec.header.expire_at_ms);
            return Ok(());
        };
        let from = encoding::subkey_prefix(src_db, src, meta.version);
        meta.version = self.next_version();
        let to = encoding::subkey_prefix(pdb, key, meta.version);
        let families: &[&'static str] = match meta.key_type {
            KeyType::ZSet => &[cf::SUBKEYS, cf::ZSET_SCORE],
            KeyType::Stream => &[cf::STREAM],
            _ => &[cf::SUBKEYS],
        };
        for &family in families {
            self.sub_scan(family, &from, Dir::Forward, None, |suffix, value| {
                b.put_sub(family, encoding::subkey(&to, suffix), Bytes::copy_from_slice(value));
                true
            })?;
        }
        let record = match meta.key_type {
            KeyType::Stream => super::types::stream::with_version(rec, meta.version)?,
            _ => meta.encode(rec.header.expire_at_ms),
        };
        b.put_record(pdb, key, old, record, rec.header.expire_at_ms);
        Ok(())
    }

    /// One SCAN page: examines up to `count` records after `after` (a position returned by an
    /// earlier page) and returns the live keys for which `keep` holds. Keys are visited in a
    /// fixed order, so a key present for the whole scan is returned exactly once.
    pub fn scan(
        &self,
        pdb: u8,
        after: Option<&[u8]>,
        count: usize,
        mut keep: impl FnMut(&[u8], &Record) -> bool,
    ) -> Result<ScanPage, StoreError> {
        let now = self.clock.now_ms();
        let (lo, hi) = encoding::db_range(pdb);
        // Inside MULTI/EXEC or a script, the keys it wrote (or deleted) count too.
        if let Some(mine) = batch::atomic_meta_view(&lo, &hi).filter(|m| !m.is_empty()) {
            return self.merged_meta_scan(&lo, hi, after, count, mine, keep);
        }
        let mut it = self.meta_iter_after(&lo, hi, after);
        let mut keys = Vec::new();
        let mut examined = 0;
        let mut last: Option<Vec<u8>> = None;
        while it.valid() && examined < count.max(1) {
            let (Some(k), Some(v)) = (it.key(), it.value()) else { break };
            examined += 1;
            if let (Some((_, user_key)), Ok(header)) = (encoding::decode_meta_key(k), encoding::decode_meta(v)) {
                let rec = Record { header, raw: Bytes::new() };
                if rec.alive(now) && keep(user_key, &rec) {
                    keys.push(Bytes::copy_from_slice(user_key));
                }
            }
            last = Some(k.to_vec());
            it.next();
        }
        it.status()?;
        let next = if it.valid() { last } else { None };
        Ok(ScanPage { keys, next })
    }

    /// An iterator over the metadata records of `lo..hi`, at the first one after `after`
    /// (exclusive), or at `lo`.
    fn meta_iter_after(
        &self,
        lo: &[u8],
        hi: Vec<u8>,
        after: Option<&[u8]>,
    ) -> rocksdb::DBRawIteratorWithThreadMode<'_, rocksdb::DB> {
        let mut ro = tier::iter_read_options();
        ro.set_iterate_upper_bound(hi);
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf::METADATA), ro);
        match after {
            Some(pos) => {
                it.seek(pos);
                if it.valid() && it.key() == Some(pos) {
                    it.next();
                }
            }
            None => it.seek(lo),
        }
        it
    }

    /// `scan` inside an all-or-nothing write that wrote metadata records of this database:
    /// RocksDB's records merged with the write's own (`mine`, in key order; None = deleted).
    fn merged_meta_scan(
        &self,
        lo: &[u8],
        hi: Vec<u8>,
        after: Option<&[u8]>,
        count: usize,
        mine: Vec<(Vec<u8>, Option<Bytes>)>,
        mut keep: impl FnMut(&[u8], &Record) -> bool,
    ) -> Result<ScanPage, StoreError> {
        let now = self.clock.now_ms();
        let mut mine = mine.into_iter().filter(|(k, _)| after.is_none_or(|a| k.as_slice() > a)).peekable();
        let mut it = self.meta_iter_after(lo, hi, after);
        let mut keys = Vec::new();
        let mut examined = 0;
        let mut last: Option<Vec<u8>> = None;
        while examined < count.max(1) {
            let stored = if it.valid() { it.key().map(|k| k.to_vec()) } else { None };
            let take_mine = match (&stored, mine.peek()) {
                (None, None) => break,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(k), Some((m, _))) => m <= k,
            };
            let (key, value) = if take_mine {
                let Some((k, v)) = mine.next() else { break };
                if stored.as_deref() == Some(k.as_slice()) {
                    it.next();
                }
                (k, v)
            } else {
                let Some(k) = stored else { break };
                let v = it.value().map(Bytes::copy_from_slice);
                it.next();
                (k, v)
            };
            examined += 1;
            if let Some(v) = value {
                if let (Some((_, user_key)), Ok(header)) = (encoding::decode_meta_key(&key), encoding::decode_meta(&v))
                {
                    let rec = Record { header, raw: Bytes::new() };
                    if rec.alive(now) && keep(user_key, &rec) {
                        keys.push(Bytes::copy_from_slice(user_key));
                    }
                }
            }
            last = Some(key);
        }
        it.status()?;
        let next = if it.valid() || mine.peek().is_some() { last } else { None };
        Ok(ScanPage { keys, next })
    }

    /// A random live key, or None if the database is empty.
    pub fn random_key(&self, pdb: u8) -> Result<Option<Bytes>, StoreError> {
        let now = self.clock.now_ms();
        let (lo, hi) = encoding::db_range(pdb);
        let mut fallback = None;
        for _ in 0..100 {
            let slot: u16 = rand::rng().random_range(0..16384);
            let mut start = lo.clone();
            start.extend_from_slice(&slot.to_be_bytes());
            let mut ro = tier::iter_read_options();
            ro.set_iterate_upper_bound(hi.clone());
            let mut it = self.db().raw_iterator_cf_opt(self.cf(cf::METADATA), ro);
            it.seek(&start);
            if !it.valid() {
                it.status()?;
                it.seek(&lo);
            }
            if !it.valid() {
                it.status()?;
                return Ok(fallback);
            }
            if let (Some(k), Some(v)) = (it.key(), it.value()) {
                let Some((_, user_key)) = encoding::decode_meta_key(k) else { continue };
                let alive =
                    encoding::decode_meta(v).map(|h| h.expire_at_ms == 0 || h.expire_at_ms > now).unwrap_or(false);
                if alive {
                    return Ok(Some(Bytes::copy_from_slice(user_key)));
                }
                fallback.get_or_insert_with(|| Bytes::copy_from_slice(user_key));
            }
        }
        Ok(fallback)
    }

    /// FLUSHDB of physical database `pdb` (the caller holds the database map exclusively).
    pub fn flush_db(&self, _map: &DbMapMut<'_>, pdb: u8) -> Result<(), StoreError> {
        let mut b = self.batch();
        b.clear_db(pdb);
        b.commit()
    }

    /// FLUSHALL (the caller holds the database map exclusively).
    pub fn flush_all(&self, _map: &DbMapMut<'_>) -> Result<(), StoreError> {
        let mut b = self.batch();
        b.clear_all();
        b.commit()
    }

    /// SWAPDB: swaps two logical databases by swapping their physical ids, persisted atomically.
    pub fn swap_db(&self, map: &mut DbMapMut<'_>, a: usize, b: usize) -> Result<(), StoreError> {
        let mut next = Storage::set_db_map(map, a, b);
        let mut batch = self.batch();
        batch.put_default(super::DB_MAP_KEY, &next);
        if let Err(e) = batch.commit() {
            // Undo the in-memory swap so memory and disk agree.
            next = Storage::set_db_map(map, a, b);
            drop(next);
            return Err(e);
        }
        // Clients blocked on keys of either database look again (Redis serves them if the
        // swapped-in database has their keys).
        self.waiters.signal_all();
        // Watched keys of either database that exist in either have changed under their watchers.
        if self.watches.any() {
            let (pa, pb) = (next.get(a).copied().unwrap_or(0), next.get(b).copied().unwrap_or(0));
            let exists = |mk: &[u8]| {
                encoding::decode_meta_key(mk)
                    .is_some_and(|(_, key)| [pa, pb].iter().any(|&p| matches!(self.get_record(p, key), Ok(Some(_)))))
            };
            self.watches.touch_db(pa, exists);
            self.watches.touch_db(pb, exists);
        }
        Ok(())
    }
}
