//! Lists: elements at `prefix · index(8, BE)` for indexes `head..tail` of the metadata record.
//!
//! An empty list starts with `head == tail == LIST_MIDDLE`; LPUSH writes at `head - 1`, RPUSH at
//! `tail`, so pushes and pops at either end touch one subkey each and never read the others.
//! Element `i` (from the left) lives at `head + i`, so LINDEX and LSET are one point access and
//! LRANGE one forward walk. LTRIM only moves `head`/`tail` (deleting at most `TRIM_DELETES`
//! subkeys itself; the compaction filter drops the rest, being outside `head..tail`). LINSERT
//! and LREM shift the elements on the side nearer to an end.

use super::Loaded;
use crate::storage::encoding::{self, CollMeta, KeyType};
use crate::storage::subkeys::Dir;
use crate::storage::{cf, Batch, Storage, StoreError};
use bytes::Bytes;

/// Subkeys LTRIM deletes itself; the rest are left to the compaction filter.
pub const TRIM_DELETES: u64 = 1024;

/// One end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// What LSET did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOutcome {
    Done,
    NoSuchKey,
    OutOfRange,
}

/// What LPOS looks for.
#[derive(Clone, Copy, Debug)]
pub struct PosQuery {
    /// 1 = the first match from the left, -1 = the first from the right (never 0).
    pub rank: i64,
    /// How many matches to return (0 = all); None = no COUNT (one match, or nil).
    pub count: Option<u64>,
    /// Elements to compare at most (0 = all).
    pub maxlen: u64,
}

/// The subkey of the element at physical index `ix`.
fn ix_key(prefix: &[u8], ix: u64) -> Vec<u8> {
    encoding::subkey(prefix, &encoding::list_index(ix))
}

fn decode_ix(suffix: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(suffix.try_into().ok()?))
}

fn exhausted() -> StoreError {
    StoreError::Corrupt("list index space exhausted".into())
}

pub use crate::numeric::normalize_range;

/// The logical position of index argument `i` (negative from the end), if inside `len`.
fn normalize_index(i: i64, len: u64) -> Option<u64> {
    let len = i128::from(len);
    let mut i = i128::from(i);
    if i < 0 {
        i += len;
    }
    (0..len).contains(&i).then_some(i as u64)
}

/// Typed access to list keys of one physical database.
pub struct ListStore<'a> {
    store: &'a Storage,
    pdb: u8,
}

impl<'a> ListStore<'a> {
    pub fn new(store: &'a Storage, pdb: u8) -> ListStore<'a> {
        ListStore { store, pdb }
    }

    fn prefix(&self, key: &[u8], meta: &CollMeta) -> Vec<u8> {
        super::prefix(self.pdb, key, meta)
    }

    fn load(&self, key: &[u8]) -> Result<Loaded, StoreError> {
        self.store.load_coll(self.pdb, key, KeyType::List)
    }

    fn read(&self, key: &[u8]) -> Result<Option<CollMeta>, StoreError> {
        self.store.read_coll(self.pdb, key, KeyType::List)
    }

    /// Walks the elements at physical indexes `from..to` (forward from `from`, or backward from
    /// `to - 1`), calling `f(index, value)` until it returns false.
    fn walk(
        &self,
        prefix: &[u8],
        from: u64,
        to: u64,
        dir: Dir,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        if from >= to {
            return Ok(());
        }
        let start = match dir {
            Dir::Forward => from,
            Dir::Reverse => to - 1,
        };
        self.store.sub_scan(cf::SUBKEYS, prefix, dir, Some(&encoding::list_index(start)), |suffix, value| {
            match decode_ix(suffix) {
                Some(ix) if ix >= from && ix < to => f(ix, value),
                _ => false,
            }
        })
    }

    /// Adds `elems` at `end` (one subkey write each, no reads of elements). With `only_existing`
    /// (LPUSHX/RPUSHX) a missing key stays missing. Returns the new length (0 if missing).
    pub fn push(&self, key: &[u8], elems: &[Bytes], end: End, only_existing: bool) -> Result<u64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.load(key)?;
        if only_existing && !l.exists() {
            return Ok(0);
        }
        let mut meta = l.meta_or_new(self.store, KeyType::List);
        let prefix = self.prefix(key, &meta);
        let mut b = self.store.batch();
        push_into(&mut b, &prefix, &mut meta, elems.iter().cloned(), end)?;
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(meta.size)
    }

    /// LPOP/RPOP: up to `count` elements from `end`, in pop order; None if the key is missing.
    pub fn pop(&self, key: &[u8], end: End, count: u64) -> Result<Option<Vec<Bytes>>, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.load(key)?;
        let Some(mut meta) = l.meta else { return Ok(None) };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        let mut b = self.store.batch();
        let out = pop_from(self.store, &self.prefix(key, &meta), &mut meta, end, count)?;
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(Some(out))
    }

    /// LMPOP / BLPOP / BRPOP / BLMPOP: pops up to `count` elements from the first non-empty list
    /// of `keys` (all locked together). WrongType if a key before it holds another type.
    pub fn mpop(&self, keys: &[Bytes], end: End, count: u64) -> Result<Option<(Bytes, Vec<Bytes>)>, StoreError> {
        let _g = self.store.lock_many(keys.iter().map(|k| (self.pdb, k.as_ref())))?;
        for key in keys {
            let l = self.load(key)?;
            let Some(mut meta) = l.meta else { continue };
            let mut b = self.store.batch();
            let out = pop_from(self.store, &self.prefix(key, &meta), &mut meta, end, count)?;
            b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
            b.commit()?;
            return Ok(Some((key.clone(), out)));
        }
        Ok(None)
    }

    /// LMOVE / RPOPLPUSH: pops from `from` of `src` and pushes onto `to` of `dst`. None if `src`
    /// is missing; WrongType (nothing popped) if either key holds another type.
    pub fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>, StoreError> {
        let _g = self.store.lock_many([(self.pdb, src), (self.pdb, dst)])?;
        let ls = self.load(src)?;
        let Some(mut smeta) = ls.meta else { return Ok(None) };
        let sprefix = self.prefix(src, &smeta);
        let mut b = self.store.batch();
        if src == dst {
            let mut v = pop_from(self.store, &sprefix, &mut smeta, from, 1)?;
            let Some(value) = v.pop() else { return Ok(None) };
            push_into(&mut b, &sprefix, &mut smeta, std::iter::once(value.clone()), to)?;
            b.put_coll(self.pdb, src, ls.old.as_ref(), &smeta, ls.expire_at_ms);
            b.commit()?;
            return Ok(Some(value));
        }
        let ld = self.load(dst)?;
        let mut dmeta = ld.meta_or_new(self.store, KeyType::List);
        let mut v = pop_from(self.store, &sprefix, &mut smeta, from, 1)?;
        let Some(value) = v.pop() else { return Ok(None) };
        push_into(&mut b, &self.prefix(dst, &dmeta), &mut dmeta, std::iter::once(value.clone()), to)?;
        b.put_coll(self.pdb, src, ls.old.as_ref(), &smeta, ls.expire_at_ms);
        b.put_coll(self.pdb, dst, ld.old.as_ref(), &dmeta, ld.expire_at_ms);
        b.commit()?;
        Ok(Some(value))
    }

    /// LLEN (0 if missing).
    pub fn len(&self, key: &[u8]) -> Result<Option<u64>, StoreError> {
        Ok(self.read(key)?.map(|m| m.size))
    }

    /// LINDEX.
    pub fn index(&self, key: &[u8], i: i64) -> Result<Option<Bytes>, StoreError> {
        let Some(meta) = self.read(key)? else { return Ok(None) };
        let Some(pos) = normalize_index(i, meta.size) else { return Ok(None) };
        self.store.sub_get(&ix_key(&self.prefix(key, &meta), meta.head + pos))
    }

    /// LRANGE: hands each element from `start` to `stop` (inclusive, negative from the end) to
    /// `f` in order, without copying it. False if the key is missing.
    pub fn range_each(&self, key: &[u8], start: i64, stop: i64, mut f: impl FnMut(&[u8])) -> Result<bool, StoreError> {
        let Some(meta) = self.read(key)? else { return Ok(false) };
        let Some((s, e)) = normalize_range(start, stop, meta.size) else { return Ok(true) };
        let prefix = self.prefix(key, &meta);
        self.walk(&prefix, meta.head + s, meta.head + e + 1, Dir::Forward, |_, v| {
            f(v);
            true
        })?;
        Ok(true)
    }

    /// LSET.
    pub fn set(&self, key: &[u8], i: i64, value: &[u8]) -> Result<SetOutcome, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.load(key)?;
        let Some(meta) = l.meta else { return Ok(SetOutcome::NoSuchKey) };
        let Some(pos) = normalize_index(i, meta.size) else { return Ok(SetOutcome::OutOfRange) };
        let mut b = self.store.batch();
        b.put_sub(cf::SUBKEYS, ix_key(&self.prefix(key, &meta), meta.head + pos), Bytes::copy_from_slice(value));
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(SetOutcome::Done)
    }

    /// LTRIM (true if the key exists): keeps `start..=stop`; O(1) plus at most `TRIM_DELETES` deletes.
    pub fn trim(&self, key: &[u8], start: i64, stop: i64) -> Result<bool, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.load(key)?;
        let Some(mut meta) = l.meta else { return Ok(false) };
        let (ltrim, rtrim) = match normalize_range(start, stop, meta.size) {
            Some((s, e)) => (s, meta.size - e - 1),
            None => (meta.size, 0),
        };
        if ltrim == 0 && rtrim == 0 {
            return Ok(true);
        }
        let prefix = self.prefix(key, &meta);
        let mut b = self.store.batch();
        let mut budget = TRIM_DELETES;
        if ltrim < meta.size {
            let left = ltrim.min(budget);
            for ix in meta.head..meta.head + left {
                b.delete_sub(cf::SUBKEYS, ix_key(&prefix, ix));
            }
            budget -= left;
            for ix in meta.tail - rtrim.min(budget)..meta.tail {
                b.delete_sub(cf::SUBKEYS, ix_key(&prefix, ix));
            }
            meta.head += ltrim;
            meta.tail -= rtrim;
            meta.size -= ltrim + rtrim;
        } else {
            meta.size = 0;
        }
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(true)
    }

    /// LINSERT: the new length, 0 if the key is missing, -1 if `pivot` is not there.
    pub fn insert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.load(key)?;
        let Some(mut meta) = l.meta else { return Ok(0) };
        let prefix = self.prefix(key, &meta);
        // Find the pivot, keeping the values walked over while they are the nearer half.
        let keep = meta.size / 2 + 1;
        let mut left_vals: Vec<Bytes> = Vec::new();
        let mut found = None;
        self.walk(&prefix, meta.head, meta.tail, Dir::Forward, |ix, v| {
            if v == pivot {
                found = Some(ix - meta.head);
                return false;
            }
            if (left_vals.len() as u64) < keep {
                left_vals.push(Bytes::copy_from_slice(v));
            }
            true
        })?;
        let Some(p) = found else { return Ok(-1) };
        left_vals.truncate(p as usize);
        let value = Bytes::copy_from_slice(value);
        // The new element's logical position: elements from it on move right, or those
        // before it move left, whichever side is shorter.
        let at = if before { p } else { p + 1 };
        let mut b = self.store.batch();
        if at <= meta.size - at {
            if left_vals.len() as u64 == p && !before {
                left_vals.push(Bytes::copy_from_slice(pivot));
            }
            if left_vals.len() as u64 != at {
                return Err(StoreError::Corrupt("list elements missing".into()));
            }
            let new_head = meta.head.checked_sub(1).ok_or_else(exhausted)?;
            for (i, v) in left_vals.into_iter().enumerate() {
                b.put_sub(cf::SUBKEYS, ix_key(&prefix, new_head + i as u64), v);
            }
            b.put_sub(cf::SUBKEYS, ix_key(&prefix, new_head + at), value);
            meta.head = new_head;
        } else {
            if meta.tail == u64::MAX {
                return Err(exhausted());
            }
            let mut moved = 0u64;
            self.walk(&prefix, meta.head + at, meta.tail, Dir::Forward, |ix, v| {
                b.put_sub(cf::SUBKEYS, ix_key(&prefix, ix + 1), Bytes::copy_from_slice(v));
                moved += 1;
                true
            })?;
            if moved != meta.size - at {
                return Err(StoreError::Corrupt("list elements missing".into()));
            }
            b.put_sub(cf::SUBKEYS, ix_key(&prefix, meta.head + at), value);
            meta.tail += 1;
        }
        meta.size += 1;
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(meta.size as i64)
    }

    /// LREM: removes up to |count| elements equal to `value` (from the left if count > 0, from
    /// the right if < 0, all if 0); returns how many.
    pub fn remove(&self, key: &[u8], count: i64, value: &[u8]) -> Result<u64, StoreError> {
        let _g = self.store.lock(self.pdb, key)?;
        let l = self.load(key)?;
        let Some(mut meta) = l.meta else { return Ok(0) };
        let prefix = self.prefix(key, &meta);
        let limit = if count == 0 { u64::MAX } else { count.unsigned_abs() };
        let dir = if count < 0 { Dir::Reverse } else { Dir::Forward };
        let mut removed: Vec<u64> = Vec::new();
        self.walk(&prefix, meta.head, meta.tail, dir, |ix, v| {
            if v == value {
                removed.push(ix);
            }
            (removed.len() as u64) < limit
        })?;
        if removed.is_empty() {
            return Ok(0);
        }
        removed.sort_unstable();
        let k = removed.len() as u64;
        let mut b = self.store.batch();
        if k < meta.size {
            let first = removed[0] - meta.head;
            let last = removed[removed.len() - 1] - meta.head;
            if last < meta.size - first {
                // Close the gaps by moving the elements before `last` right.
                let mut w = meta.head + last;
                let mut gone = removed.iter().rev().peekable();
                self.walk(&prefix, meta.head, meta.head + last + 1, Dir::Reverse, |ix, v| {
                    if gone.peek() == Some(&&ix) {
                        gone.next();
                    } else {
                        if ix != w {
                            b.put_sub(cf::SUBKEYS, ix_key(&prefix, w), Bytes::copy_from_slice(v));
                        }
                        w = w.wrapping_sub(1);
                    }
                    true
                })?;
                for ix in meta.head..meta.head + k {
                    b.delete_sub(cf::SUBKEYS, ix_key(&prefix, ix));
                }
                meta.head += k;
            } else {
                // Close the gaps by moving the elements after `first` left.
                let mut w = meta.head + first;
                let mut gone = removed.iter().peekable();
                self.walk(&prefix, meta.head + first, meta.tail, Dir::Forward, |ix, v| {
                    if gone.peek() == Some(&&ix) {
                        gone.next();
                    } else {
                        if ix != w {
                            b.put_sub(cf::SUBKEYS, ix_key(&prefix, w), Bytes::copy_from_slice(v));
                        }
                        w += 1;
                    }
                    true
                })?;
                for ix in meta.tail - k..meta.tail {
                    b.delete_sub(cf::SUBKEYS, ix_key(&prefix, ix));
                }
                meta.tail -= k;
            }
        }
        meta.size -= k;
        b.put_coll(self.pdb, key, l.old.as_ref(), &meta, l.expire_at_ms);
        b.commit()?;
        Ok(k)
    }

    /// LPOS: the logical positions of the matches (at most one without COUNT); None if the key
    /// is missing.
    pub fn pos(&self, key: &[u8], elem: &[u8], q: PosQuery) -> Result<Option<Vec<u64>>, StoreError> {
        let Some(meta) = self.read(key)? else { return Ok(None) };
        let prefix = self.prefix(key, &meta);
        let dir = if q.rank < 0 { Dir::Reverse } else { Dir::Forward };
        // Redis negates LONG_MIN into itself, which then matches from the first match on.
        let rank = if q.rank == i64::MIN { 1 } else { q.rank.unsigned_abs() };
        let want = match q.count {
            None => 1,
            Some(0) => u64::MAX,
            Some(c) => c,
        };
        let mut out = Vec::new();
        let (mut seen, mut matches) = (0u64, 0u64);
        self.walk(&prefix, meta.head, meta.tail, dir, |ix, v| {
            if q.maxlen != 0 && seen >= q.maxlen {
                return false;
            }
            seen += 1;
            if v == elem {
                matches += 1;
                if matches >= rank {
                    out.push(ix - meta.head);
                    if out.len() as u64 >= want {
                        return false;
                    }
                }
            }
            true
        })?;
        Ok(Some(out))
    }
}

/// Pushes `elems` onto `end` of the list `meta` (under `prefix`), one put each.
fn push_into(
    b: &mut Batch<'_>,
    prefix: &[u8],
    meta: &mut CollMeta,
    elems: impl Iterator<Item = Bytes>,
    end: End,
) -> Result<(), StoreError> {
    for e in elems {
        let ix = match end {
            End::Left => {
                meta.head = meta.head.checked_sub(1).ok_or_else(exhausted)?;
                meta.head
            }
            End::Right => {
                let ix = meta.tail;
                meta.tail = meta.tail.checked_add(1).ok_or_else(exhausted)?;
                ix
            }
        };
        b.put_sub(cf::SUBKEYS, ix_key(prefix, ix), e);
        meta.size += 1;
    }
    Ok(())
}

/// Pops up to `count` elements from `end` of the list `meta`, in pop order (moving head/tail).
fn pop_from(
    store: &Storage,
    prefix: &[u8],
    meta: &mut CollMeta,
    end: End,
    count: u64,
) -> Result<Vec<Bytes>, StoreError> {
    let n = count.min(meta.size);
    let keys: Vec<Vec<u8>> = match end {
        End::Left => (meta.head..meta.head + n).map(|ix| ix_key(prefix, ix)).collect(),
        End::Right => (meta.tail - n..meta.tail).rev().map(|ix| ix_key(prefix, ix)).collect(),
    };
    let vals = store.sub_multi_get(&keys)?;
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        out.push(v.ok_or_else(|| StoreError::Corrupt("list element missing".into()))?);
    }
    // The popped elements are not deleted: once outside `head..tail` no read reaches them, a
    // later push at the same index overwrites them, and the compaction filter drops the rest.
    // A pop is then one metadata write, and a queue's reused indexes carry no tombstones that
    // range reads would step over.
    match end {
        End::Left => meta.head += n,
        End::Right => meta.tail -= n,
    }
    meta.size -= n;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(normalize_range(0, -1, 5), Some((0, 4)));
        assert_eq!(normalize_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(normalize_range(3, 1, 5), None);
        assert_eq!(normalize_range(5, 10, 5), None);
        assert_eq!(normalize_range(0, -1, 0), None);
        assert_eq!(normalize_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(normalize_range(-2, -1, 3), Some((1, 2)));
        assert_eq!(normalize_index(-1, 3), Some(2));
        assert_eq!(normalize_index(-4, 3), None);
        assert_eq!(normalize_index(3, 3), None);
        assert_eq!(normalize_index(i64::MIN, 3), None);
    }
}
