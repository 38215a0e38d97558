//! Strings: values kept inline in the metadata record (large ones land in blob files), or, once
//! edited in place past `encoding::FRAGMENT_THRESHOLD`, in fragments (`bitmap`). Every read of a
//! whole value goes through `Storage::string_value`, which assembles a fragmented one.

use super::bitmap::View;
use crate::storage::encoding::{self, KeyType};
use crate::storage::{Record, Storage, StoreError};
use bytes::Bytes;

/// SET's NX / XX condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SetCond {
    #[default]
    Always,
    IfMissing,
    IfExists,
}

/// What happens to the expiry on a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExpireUpdate {
    /// Remove any expiry (plain SET).
    #[default]
    Clear,
    /// Keep the current expiry (KEEPTTL, APPEND, INCR, SETRANGE).
    Keep,
    /// Expire at this absolute Unix time in milliseconds.
    At(u64),
}

/// The outcome of SET.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOutcome {
    pub written: bool,
    /// The previous value (for SET ... GET), None if the key did not exist.
    pub old: Option<Bytes>,
}

/// Typed access to string keys.
pub struct StringStore<'a> {
    store: &'a Storage,
    pdb: u8,
}

fn check_string(rec: &Record) -> Result<(), StoreError> {
    if rec.key_type() != KeyType::String {
        return Err(StoreError::WrongType);
    }
    Ok(())
}

impl<'a> StringStore<'a> {
    pub fn new(store: &'a Storage, pdb: u8) -> StringStore<'a> {
        StringStore { store, pdb }
    }

    /// The whole value of `rec` (the record of `key`; the caller holds the key's lock).
    fn value(&self, key: &[u8], rec: &Record) -> Result<Bytes, StoreError> {
        self.store.string_value(self.pdb, key, rec)
    }

    /// GET: None if missing; WrongType if the key holds another type. The full value, also of
    /// a fragmented string (assembled under the key's lock).
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let Some(rec) = self.store.get_alive(self.pdb, key)? else { return Ok(None) };
        check_string(&rec)?;
        if encoding::fragmented(&rec.raw).is_none() {
            return Ok(Some(rec.body()));
        }
        let _g = self.store.lock(self.pdb, key)?;
        match self.store.get_live(self.pdb, key)? {
            Some(rec) => self.value(key, &rec).map(Some),
            None => Ok(None),
        }
    }

    /// MGET: keys of other types read as nil.
    pub fn mget(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>, StoreError> {
        keys.iter()
            .map(|k| match self.get(k) {
                Err(StoreError::WrongType) => Ok(None),
                r => r,
            })
            .collect()
    }

    /// STRLEN (0 if missing), without reading a fragmented value.
    pub fn strlen(&self, key: &[u8]) -> Result<u64, StoreError> {
        match self.store.get_alive(self.pdb, key)? {
            Some(rec) => Ok(View::of(&rec)?.len()),
            None => Ok(0),
        }
    }

    /// GETRANGE: `range` maps the value's length to the bytes wanted (inclusive, inside it),
    /// and only those are read.
    pub fn getrange(&self, key: &[u8], range: impl FnOnce(u64) -> Option<(u64, u64)>) -> Result<Bytes, StoreError> {
        self.store.read_string(self.pdb, key, |view| {
            let Some(view) = view else { return Ok(Bytes::new()) };
            let Some((start, end)) = range(view.len()) else { return Ok(Bytes::new()) };
            match view {
                View::Inline(b) => Ok(b.slice(start as usize..=end as usize)),
                View::Fragmented(_) => Ok(Bytes::from(self.store.read_range(self.pdb, key, view, start, end)?)),
            }
        })
    }

    /// SETRANGE: writes `data` at `offset` (zero padding a shorter value) and returns the new
    /// length. A fragmented value (or one this makes longer than the fragment threshold)
    /// changes only the fragments written.
    pub fn setrange(&self, key: &[u8], offset: u64, data: &[u8]) -> Result<u64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let mut e = self.store.edit_string(self.pdb, key)?;
        e.write(offset, data)?;
        let len = e.len();
        let mut b = self.store.batch();
        e.commit(&mut b);
        b.commit()?;
        Ok(len)
    }

    /// APPEND: the new length, or None (nothing written) if it would exceed `max_len`. A
    /// fragmented value gets only its last fragments written.
    pub fn append(&self, key: &[u8], data: &[u8], max_len: u64) -> Result<Option<u64>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let now = self.store.clock.now_ms();
        let old = self.store.get_record(self.pdb, key)?;
        let live = old.as_ref().filter(|r| r.alive(now));
        if let Some(r) = live {
            check_string(r)?;
        }
        let cur_len = match live {
            Some(r) => View::of(r)?.len(),
            None => 0,
        };
        let len = cur_len + data.len() as u64;
        if len > max_len {
            return Ok(None);
        }
        let mut b = self.store.batch();
        match live {
            Some(r) if encoding::fragmented(&r.raw).is_some() => {
                let mut e = self.store.edit_string(self.pdb, key)?;
                e.write(cur_len, data)?;
                e.commit(&mut b);
            }
            _ => {
                let mut v = Vec::with_capacity(len as usize);
                if let Some(r) = live {
                    v.extend_from_slice(&r.body());
                }
                v.extend_from_slice(data);
                let at = live.map(|r| r.header.expire_at_ms).unwrap_or(0);
                let rec = encoding::encode_string_flags(at, &v, encoding::FLAG_RAW_STRING);
                b.put_record(self.pdb, key, old.as_ref(), rec, at);
            }
        }
        b.commit()?;
        Ok(Some(len))
    }

    /// SET with its options. With `get`, a key of another type is an error and nothing is written.
    pub fn set(
        &self,
        key: &[u8],
        value: &[u8],
        cond: SetCond,
        expire: ExpireUpdate,
        get: bool,
    ) -> Result<SetOutcome, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let now = self.store.clock.now_ms();
        let old = self.store.get_record(self.pdb, key)?;
        let live = old.as_ref().filter(|r| r.alive(now));
        let old_value = match (live, get) {
            (Some(r), true) => Some(self.value(key, r)?),
            _ => None,
        };
        let ok = match cond {
            SetCond::Always => true,
            SetCond::IfMissing => live.is_none(),
            SetCond::IfExists => live.is_some(),
        };
        if ok {
            let at = match expire {
                ExpireUpdate::Clear => 0,
                ExpireUpdate::Keep => live.map(|r| r.header.expire_at_ms).unwrap_or(0),
                ExpireUpdate::At(at) => at,
            };
            let mut b = self.store.batch();
            b.put_record(self.pdb, key, old.as_ref(), encoding::encode_string(at, value), at);
            b.commit()?;
        }
        Ok(SetOutcome { written: ok, old: old_value })
    }

    /// MSET / MSETNX (`nx`): all keys in one atomic batch. Returns false (nothing written) if
    /// `nx` and any key exists. A key named twice takes its last value.
    pub fn mset(&self, pairs: &[(Bytes, Bytes)], nx: bool) -> Result<bool, StoreError> {
        let _g = self.store.lock_many(pairs.iter().map(|(k, _)| (self.pdb, k.as_ref())))?;
        let now = self.store.clock.now_ms();
        let mut olds = Vec::with_capacity(pairs.len());
        for (k, _) in pairs {
            let old = self.store.get_record(self.pdb, k)?;
            if nx && old.as_ref().is_some_and(|r| r.alive(now)) {
                return Ok(false);
            }
            olds.push(old);
        }
        let mut b = self.store.batch();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if pairs[i + 1..].iter().any(|(later, _)| later == k) {
                continue;
            }
            b.put_record(self.pdb, k, olds[i].as_ref(), encoding::encode_string(0, v), 0);
        }
        b.commit()?;
        Ok(true)
    }

    /// GETDEL.
    pub fn getdel(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let Some(rec) = self.store.get_live(self.pdb, key)? else { return Ok(None) };
        let v = self.value(key, &rec)?;
        let mut b = self.store.batch();
        b.delete_record(self.pdb, key, &rec);
        b.commit()?;
        Ok(Some(v))
    }

    /// GETEX: returns the value and applies `expire` (Keep = no change, Clear = PERSIST). An
    /// absolute time in the past deletes the key.
    pub fn getex(&self, key: &[u8], expire: ExpireUpdate) -> Result<Option<Bytes>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let now = self.store.clock.now_ms();
        let Some(rec) = self.store.get_live(self.pdb, key)? else { return Ok(None) };
        let v = self.value(key, &rec)?;
        let at = match expire {
            ExpireUpdate::Keep => return Ok(Some(v)),
            ExpireUpdate::Clear => 0,
            ExpireUpdate::At(at) => at,
        };
        let mut b = self.store.batch();
        if at != 0 && at <= now {
            b.delete_record(self.pdb, key, &rec);
        } else if at != rec.header.expire_at_ms {
            b.put_record(self.pdb, key, Some(&rec), encoding::with_expire(&rec.raw, at), at);
        }
        b.commit()?;
        Ok(Some(v))
    }

    /// Read-modify-write of one string value, keeping its expiry. `f` gets the current value
    /// (None if missing) and returns the new value and what to reply. `raw` marks the result as
    /// edited in place (APPEND, SETRANGE), which OBJECT ENCODING reports as `raw`.
    pub fn update<R, E>(
        &self,
        key: &[u8],
        raw: bool,
        f: impl FnOnce(Option<&[u8]>) -> Result<(Option<Vec<u8>>, R), E>,
    ) -> Result<Result<R, E>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let now = self.store.clock.now_ms();
        let old = self.store.get_record(self.pdb, key)?;
        let live = old.as_ref().filter(|r| r.alive(now));
        let cur = match live {
            Some(r) => Some(self.value(key, r)?),
            None => None,
        };
        let (new, reply) = match f(cur.as_deref()) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(new) = new {
            let at = live.map(|r| r.header.expire_at_ms).unwrap_or(0);
            let mut b = self.store.batch();
            let flags = if raw { encoding::FLAG_RAW_STRING } else { 0 };
            b.put_record(self.pdb, key, old.as_ref(), encoding::encode_string_flags(at, &new, flags), at);
            b.commit()?;
        }
        Ok(Ok(reply))
    }

    /// [`update`](Self::update) of `key` that also reads `sources` under the same locks (PFMERGE:
    /// the destination is written from all of them at one instant). Each source is its live
    /// string value, None if missing, or WrongType for another type, in the order given.
    pub fn update_reading<R, E>(
        &self,
        key: &[u8],
        sources: &[Bytes],
        raw: bool,
        f: impl FnOnce(Option<&[u8]>, Vec<Result<Option<Bytes>, StoreError>>) -> Result<(Option<Vec<u8>>, R), E>,
    ) -> Result<Result<R, E>, StoreError> {
        let _g = self
            .store
            .lock_many(std::iter::once((self.pdb, key)).chain(sources.iter().map(|k| (self.pdb, k.as_ref()))))?;
        let mut read = Vec::with_capacity(sources.len());
        for k in sources {
            read.push(match self.store.get_live(self.pdb, k)? {
                Some(rec) => self.value(k, &rec).map(Some),
                None => Ok(None),
            });
        }
        let now = self.store.clock.now_ms();
        let old = self.store.get_record(self.pdb, key)?;
        let live = old.as_ref().filter(|r| r.alive(now));
        let cur = match live {
            Some(r) => Some(self.value(key, r)?),
            None => None,
        };
        let (new, reply) = match f(cur.as_deref(), read) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(new) = new {
            let at = live.map(|r| r.header.expire_at_ms).unwrap_or(0);
            let mut b = self.store.batch();
            let flags = if raw { encoding::FLAG_RAW_STRING } else { 0 };
            b.put_record(self.pdb, key, old.as_ref(), encoding::encode_string_flags(at, &new, flags), at);
            b.commit()?;
        }
        Ok(Ok(reply))
    }
}
