//! Bitmaps, and in-place edits of strings over their two layouts: inline (the value in the
//! metadata record) and fragmented (`encoding::FLAG_FRAGMENTED`: `FRAGMENT_SIZE`-byte fragments
//! in the `subkeys` family, a missing one being zeros).
//!
//! Edits (SETBIT, BITFIELD, SETRANGE, APPEND to a fragmented value) load the string under its
//! key's lock as a `StrEdit`, which reads and rewrites only the fragments the edit touches; a
//! value such an edit leaves longer than `FRAGMENT_THRESHOLD` is (or becomes) fragmented.
//! Reads walk the fragments of the range asked for (`segments`): BITCOUNT and BITPOS of a
//! range, GETRANGE and GETBIT never read the rest. A read of a fragmented value holds its key's
//! lock, so it never sees half of a concurrent edit; inline values need no lock (one record).

use crate::storage::encoding::{self, Fragmented, KeyType, FRAGMENT_SIZE, FRAGMENT_THRESHOLD};
use crate::storage::subkeys::Dir;
use crate::storage::{cf, Batch, Record, Storage, StoreError};
use bytes::Bytes;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use super::bitfield::{apply_field, get_field, set_field};
pub use super::bitfield::{Field, FieldOp, Overflow};

/// A live string as a read finds it.
#[derive(Clone, Debug)]
pub enum View {
    Inline(Bytes),
    Fragmented(Fragmented),
}

impl View {
    /// The view of a string record (WrongType for another type).
    pub fn of(rec: &Record) -> Result<View, StoreError> {
        if rec.key_type() != KeyType::String {
            return Err(StoreError::WrongType);
        }
        Ok(match encoding::fragmented(&rec.raw) {
            Some(f) => View::Fragmented(f),
            None => View::Inline(rec.body()),
        })
    }

    pub fn len(&self) -> u64 {
        match self {
            View::Inline(b) => b.len() as u64,
            View::Fragmented(f) => f.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A piece of a string walked by `segments`: stored bytes, or a run of zeros (fragments that
/// are missing or shorter than `FRAGMENT_SIZE`).
pub enum Segment<'a> {
    Bytes(&'a [u8]),
    Zeros(u64),
}

impl Storage {
    /// The whole value of the string record `rec` of `key`: inline, or assembled from its
    /// fragments. The caller holds the key's lock, or accepts a value read while it changes
    /// (SORT's BY/GET lookups). This is the one function that reads a string's full value.
    pub fn string_value(&self, pdb: u8, key: &[u8], rec: &Record) -> Result<Bytes, StoreError> {
        match View::of(rec)? {
            View::Inline(b) => Ok(b),
            View::Fragmented(f) if f.len == 0 => Ok(Bytes::new()),
            view @ View::Fragmented(_) => Ok(Bytes::from(self.read_range(pdb, key, &view, 0, view.len() - 1)?)),
        }
    }

    /// Bytes `start..=end` of a string (`end < len`), zeros where no fragment holds them.
    pub fn read_range(&self, pdb: u8, key: &[u8], view: &View, start: u64, end: u64) -> Result<Vec<u8>, StoreError> {
        let n = usize::try_from(end + 1 - start).map_err(|_| StoreError::Corrupt("range too long".into()))?;
        let mut out = Vec::with_capacity(n);
        self.segments(pdb, key, view, start, end, |_, seg| {
            match seg {
                Segment::Bytes(b) => out.extend_from_slice(b),
                Segment::Zeros(z) => out.resize(out.len() + z as usize, 0),
            }
            true
        })?;
        Ok(out)
    }

    /// Walks bytes `start..=end` of a string (`end < len`) in order, as segments of stored
    /// bytes and runs of zeros; `f` gets each one's offset and returns false to stop. Only the
    /// fragments of the range are read.
    pub fn segments(
        &self,
        pdb: u8,
        key: &[u8],
        view: &View,
        start: u64,
        end: u64,
        mut f: impl FnMut(u64, Segment<'_>) -> bool,
    ) -> Result<(), StoreError> {
        if start > end {
            return Ok(());
        }
        let frag = match view {
            View::Inline(b) => {
                let (s, e) = (start as usize, (end as usize).min(b.len().saturating_sub(1)));
                if s <= e && e < b.len() {
                    f(start, Segment::Bytes(&b[s..=e]));
                }
                return Ok(());
            }
            View::Fragmented(frag) => *frag,
        };
        let prefix = encoding::subkey_prefix(pdb, key, frag.version);
        let first = encoding::fragment_index(start / FRAGMENT_SIZE);
        // Next offset not yet reported.
        let mut at = start;
        let mut go_on = true;
        self.sub_scan(cf::SUBKEYS, &prefix, Dir::Forward, Some(&first), |suffix, value| {
            let Ok(ix) = <[u8; 8]>::try_from(suffix).map(u64::from_be_bytes) else { return true };
            let base = ix.saturating_mul(FRAGMENT_SIZE);
            if base > end {
                return false;
            }
            let stored_end = base + value.len() as u64; // exclusive
            let lo = base.max(at);
            let hi = stored_end.min(end + 1);
            if lo > at && !f(at, Segment::Zeros(lo - at)) {
                go_on = false;
                return false;
            }
            at = at.max(lo);
            if lo < hi {
                if !f(lo, Segment::Bytes(&value[(lo - base) as usize..(hi - base) as usize])) {
                    go_on = false;
                    return false;
                }
                at = hi;
            }
            true
        })?;
        if go_on && at <= end {
            f(at, Segment::Zeros(end + 1 - at));
        }
        Ok(())
    }

    /// Reads `key` as a string for a read command and runs `f` on it (None = missing). A
    /// fragmented value is read holding the key's lock (`f` reads several records).
    pub fn read_string<R>(
        &self,
        pdb: u8,
        key: &[u8],
        f: impl FnOnce(Option<&View>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let Some(rec) = self.get_alive(pdb, key)? else { return f(None) };
        let view = View::of(&rec)?;
        if matches!(view, View::Inline(_)) {
            return f(Some(&view));
        }
        let _g = self.lock(pdb, key)?;
        match self.get_live(pdb, key)? {
            Some(rec) => f(Some(&View::of(&rec)?)),
            None => f(None),
        }
    }

    /// Loads `key` for an in-place edit; the caller holds its lock. WrongType if a live key of
    /// another type is there.
    pub fn edit_string<'s>(&'s self, pdb: u8, key: &[u8]) -> Result<StrEdit<'s>, StoreError> {
        let now = self.clock.now_ms();
        let old = self.get_record(pdb, key)?;
        let live = old.as_ref().filter(|r| r.alive(now));
        let (body, len, expire_at_ms) = match live {
            None => (Body::Inline(Vec::new()), 0, 0),
            Some(r) => {
                let at = r.header.expire_at_ms;
                match View::of(r)? {
                    View::Inline(b) => (Body::Inline(b.to_vec()), b.len() as u64, at),
                    View::Fragmented(f) => (
                        Body::Frags {
                            version: f.version,
                            fresh: false,
                            frags: BTreeMap::new(),
                            dirty: BTreeSet::new(),
                        },
                        f.len,
                        at,
                    ),
                }
            }
        };
        Ok(StrEdit {
            store: self,
            pdb,
            key: key.to_vec(),
            existed: live.is_some(),
            old,
            expire_at_ms,
            len,
            body,
            changed: false,
        })
    }
}

enum Body {
    Inline(Vec<u8>),
    /// Fragments read or written so far (each `FRAGMENT_SIZE` bytes), and those changed. A
    /// `fresh` version has no fragments on disk yet.
    Frags {
        version: u64,
        fresh: bool,
        frags: BTreeMap<u64, Vec<u8>>,
        dirty: BTreeSet<u64>,
    },
}

/// A string loaded for an in-place edit under its key's lock: reads see the edit's own
/// writes; `commit` writes only what changed.
pub struct StrEdit<'s> {
    store: &'s Storage,
    pdb: u8,
    key: Vec<u8>,
    /// The record physically there (expired or not).
    old: Option<Record>,
    /// Whether a live string was there.
    existed: bool,
    expire_at_ms: u64,
    len: u64,
    body: Body,
    changed: bool,
}

impl StrEdit<'_> {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a live string was there before the edit.
    pub fn existed(&self) -> bool {
        self.existed
    }

    /// Whether the edit changed anything (value or length) so far.
    pub fn changed(&self) -> bool {
        self.changed
    }

    fn fragment(&mut self, ix: u64) -> Result<&mut Vec<u8>, StoreError> {
        let StrEdit { store, pdb, key, body, .. } = self;
        let Body::Frags { version, fresh, frags, .. } = body else {
            return Err(StoreError::Corrupt("not fragmented".into()));
        };
        match frags.entry(ix) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let mut v = if *fresh {
                    Vec::new()
                } else {
                    let prefix = encoding::subkey_prefix(*pdb, key, *version);
                    let k = encoding::subkey(&prefix, &encoding::fragment_index(ix));
                    store.sub_get(&k)?.map(|b| b.to_vec()).unwrap_or_default()
                };
                v.resize(FRAGMENT_SIZE as usize, 0);
                Ok(e.insert(v))
            }
        }
    }

    /// Fills `buf` with the bytes at `offset` (zeros past the end).
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        buf.fill(0);
        let len = self.len;
        if offset >= len {
            return Ok(());
        }
        let n = (buf.len() as u64).min(len - offset) as usize;
        if let Body::Inline(v) = &self.body {
            let s = offset as usize;
            let avail = v.len().saturating_sub(s).min(n);
            buf[..avail].copy_from_slice(&v[s..s + avail]);
            return Ok(());
        }
        let mut done = 0;
        while done < n {
            let at = offset + done as u64;
            let (ix, within) = (at / FRAGMENT_SIZE, (at % FRAGMENT_SIZE) as usize);
            let take = (FRAGMENT_SIZE as usize - within).min(n - done);
            let frag = self.fragment(ix)?;
            buf[done..done + take].copy_from_slice(&frag[within..within + take]);
            done += take;
        }
        Ok(())
    }

    /// Makes the string at least `len` bytes long (zero padded).
    pub fn grow_to(&mut self, len: u64) -> Result<(), StoreError> {
        if len <= self.len {
            return Ok(());
        }
        if len > FRAGMENT_THRESHOLD {
            self.make_fragmented();
        }
        if let Body::Inline(v) = &mut self.body {
            v.resize(len as usize, 0);
        }
        self.len = len;
        self.changed = true;
        Ok(())
    }

    /// Writes `data` at `offset`, growing the string as needed.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        let end = offset.checked_add(data.len() as u64).ok_or_else(|| StoreError::Corrupt("offset".into()))?;
        self.grow_to(end)?;
        if let Body::Inline(v) = &mut self.body {
            let range = offset as usize..end as usize;
            if v[range.clone()] != *data {
                v[range].copy_from_slice(data);
                self.changed = true;
            }
            return Ok(());
        }
        let mut done = 0;
        while done < data.len() {
            let at = offset + done as u64;
            let (ix, within) = (at / FRAGMENT_SIZE, (at % FRAGMENT_SIZE) as usize);
            let take = (FRAGMENT_SIZE as usize - within).min(data.len() - done);
            let frag = self.fragment(ix)?;
            if frag[within..within + take] != data[done..done + take] {
                frag[within..within + take].copy_from_slice(&data[done..done + take]);
                if let Body::Frags { dirty, .. } = &mut self.body {
                    dirty.insert(ix);
                }
                self.changed = true;
            }
            done += take;
        }
        Ok(())
    }

    /// Turns an inline value into fragments under a fresh version (all of them to write).
    fn make_fragmented(&mut self) {
        let Body::Inline(v) = &mut self.body else { return };
        let mut frags = BTreeMap::new();
        let mut dirty = BTreeSet::new();
        for (i, chunk) in v.chunks(FRAGMENT_SIZE as usize).enumerate() {
            let mut f = chunk.to_vec();
            f.resize(FRAGMENT_SIZE as usize, 0);
            frags.insert(i as u64, f);
            dirty.insert(i as u64);
        }
        self.body = Body::Frags { version: self.store.next_version(), fresh: true, frags, dirty };
        self.changed = true;
    }

    /// Adds the edit's writes to `b` (nothing if nothing changed); returns whether it wrote.
    /// The result is marked as edited in place (OBJECT ENCODING `raw`, as Redis's SETBIT).
    pub fn commit(self, b: &mut Batch<'_>) -> bool {
        if !self.changed {
            return false;
        }
        let at = self.expire_at_ms;
        let (pdb, key) = (self.pdb, self.key.as_slice());
        match &self.body {
            Body::Inline(v) => {
                let rec = encoding::encode_string_flags(at, v, encoding::FLAG_RAW_STRING);
                b.put_record(pdb, key, self.old.as_ref(), rec, at);
            }
            Body::Frags { version, fresh, frags, dirty } => {
                let prefix = encoding::subkey_prefix(pdb, key, *version);
                for ix in dirty {
                    let Some(f) = frags.get(ix) else { continue };
                    let stored = f.iter().rposition(|&x| x != 0).map_or(0, |p| p + 1);
                    let k = encoding::subkey(&prefix, &encoding::fragment_index(*ix));
                    if stored > 0 {
                        b.put_fragment(k, Bytes::copy_from_slice(&f[..stored]));
                    } else if !fresh {
                        b.delete_sub(cf::SUBKEYS, k);
                    }
                }
                let frag = Fragmented { version: *version, len: self.len };
                let rec = encoding::encode_fragmented(at, frag, encoding::FLAG_RAW_STRING);
                if self.old.as_ref().is_none_or(|o| o.raw.as_ref() != rec.as_slice()) {
                    b.put_record(pdb, key, self.old.as_ref(), rec, at);
                }
            }
        }
        true
    }
}

/// BITOP's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Bytes of each source BITOP combines at a time.
const BITOP_WINDOW: u64 = 1 << 20;

impl Storage {
    /// BITOP: writes `op` of `srcs` to `dest` (one atomic batch) and returns the result's
    /// length, and whether a key was deleted (an empty result deletes `dest`). Sources are read
    /// a window at a time, fragment by fragment; a long result is written fragmented.
    pub fn bitop(&self, pdb: u8, op: BitOp, dest: &[u8], srcs: &[Bytes]) -> Result<(u64, bool), StoreError> {
        let _g = self.lock_many(std::iter::once((pdb, dest)).chain(srcs.iter().map(|k| (pdb, k.as_ref()))))?;
        let now = self.clock.now_ms();
        let mut views = Vec::with_capacity(srcs.len());
        for k in srcs {
            let v = match self.get_live(pdb, k)? {
                Some(r) => Some(View::of(&r)?),
                None => None,
            };
            views.push(v);
        }
        let old = self.get_record(pdb, dest)?;
        let maxlen = views.iter().flatten().map(View::len).max().unwrap_or(0);
        let mut b = self.batch();
        if maxlen == 0 {
            let deleted = old.as_ref().is_some_and(|r| r.alive(now));
            if let Some(o) = &old {
                if !deleted {
                    b.note_expired(pdb, dest);
                }
                b.delete_record(pdb, dest, o);
            }
            b.commit()?;
            return Ok((0, deleted));
        }
        let fragmented = maxlen > FRAGMENT_THRESHOLD;
        let version = self.next_version();
        let prefix = encoding::subkey_prefix(pdb, dest, version);
        let mut inline = Vec::new();
        let mut window_start = 0;
        while window_start < maxlen {
            let n = BITOP_WINDOW.min(maxlen - window_start);
            let mut out: Vec<u8> = Vec::new();
            for (i, (k, v)) in srcs.iter().zip(&views).enumerate() {
                let bytes = match v {
                    Some(v) if window_start < v.len() => {
                        let end = (window_start + n).min(v.len()) - 1;
                        let mut b = self.read_range(pdb, k, v, window_start, end)?;
                        b.resize(n as usize, 0);
                        b
                    }
                    _ => vec![0; n as usize],
                };
                if i == 0 {
                    out = bytes;
                    if op == BitOp::Not {
                        out.iter_mut().for_each(|x| *x = !*x);
                    }
                    continue;
                }
                for (o, x) in out.iter_mut().zip(&bytes) {
                    match op {
                        BitOp::And => *o &= x,
                        BitOp::Or => *o |= x,
                        BitOp::Xor => *o ^= x,
                        BitOp::Not => {}
                    }
                }
            }
            if fragmented {
                for (j, chunk) in out.chunks(FRAGMENT_SIZE as usize).enumerate() {
                    let stored = chunk.iter().rposition(|&x| x != 0).map_or(0, |p| p + 1);
                    if stored > 0 {
                        let ix = window_start / FRAGMENT_SIZE + j as u64;
                        let k = encoding::subkey(&prefix, &encoding::fragment_index(ix));
                        b.put_fragment(k, Bytes::copy_from_slice(&chunk[..stored]));
                    }
                }
            } else {
                inline.extend_from_slice(&out);
            }
            window_start += n;
        }
        let rec = if fragmented {
            encoding::encode_fragmented(0, Fragmented { version, len: maxlen }, encoding::FLAG_RAW_STRING)
        } else {
            encoding::encode_string_flags(0, &inline, encoding::FLAG_RAW_STRING)
        };
        b.put_record(pdb, dest, old.as_ref(), rec, 0);
        b.commit()?;
        Ok((maxlen, false))
    }

    /// Number of set bits in bytes `start..=end` (`end < len`), ignoring the bits of `masks`
    /// (first byte, last byte) (BITCOUNT ... BIT).
    pub fn bitcount(
        &self,
        pdb: u8,
        key: &[u8],
        view: &View,
        start: u64,
        end: u64,
        (first_mask, last_mask): (u8, u8),
    ) -> Result<u64, StoreError> {
        let mut count = 0u64;
        self.segments(pdb, key, view, start, end, |at, seg| {
            if let Segment::Bytes(bytes) = seg {
                count += popcount(bytes);
                if at == start {
                    count -= u64::from((bytes[0] & first_mask).count_ones());
                }
                if at + bytes.len() as u64 == end + 1 {
                    count -= u64::from((bytes[bytes.len() - 1] & last_mask).count_ones());
                }
            }
            true
        })?;
        Ok(count)
    }

    /// The first bit equal to `bit` among bits `start..=end` (absolute bit positions, `end`
    /// inside the string), or None.
    pub fn bitpos(
        &self,
        pdb: u8,
        key: &[u8],
        view: &View,
        bit: bool,
        start: u64,
        end: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut found = None;
        self.segments(pdb, key, view, start / 8, end / 8, |at, seg| {
            let lo = at * 8;
            match seg {
                Segment::Zeros(n) => {
                    if !bit {
                        let first = lo.max(start);
                        if first < lo + n * 8 && first <= end {
                            found = Some(first);
                            return false;
                        }
                    }
                }
                Segment::Bytes(bytes) => {
                    let skip = if bit { 0u8 } else { 0xff };
                    for (i, &byte) in bytes.iter().enumerate() {
                        if byte == skip {
                            continue;
                        }
                        let base = lo + i as u64 * 8;
                        for j in 0..8u64 {
                            let p = base + j;
                            if p < start || p > end {
                                continue;
                            }
                            if ((byte >> (7 - j)) & 1 == 1) == bit {
                                found = Some(p);
                                return false;
                            }
                        }
                    }
                }
            }
            true
        })?;
        Ok(found)
    }
}

impl Storage {
    /// SETBIT: sets bit `offset` of `key` to `on`; returns the bit's previous value and
    /// whether the string changed (value or length). Touches one fragment of a fragmented value.
    pub fn setbit(&self, pdb: u8, key: &[u8], offset: u64, on: bool) -> Result<(bool, bool), StoreError> {
        let _g = self.lock(pdb, key)?;
        let mut e = self.edit_string(pdb, key)?;
        let mut byte = [0u8];
        e.read(offset / 8, &mut byte)?;
        let mask = 1u8 << (7 - (offset % 8) as u8);
        let was = byte[0] & mask != 0;
        byte[0] = if on { byte[0] | mask } else { byte[0] & !mask };
        e.write(offset / 8, &byte)?;
        let changed = e.changed();
        let mut b = self.batch();
        e.commit(&mut b);
        b.commit()?;
        Ok((was, changed))
    }

    /// GETBIT (false for a missing key or past the end). One record and one fragment: no lock.
    pub fn getbit(&self, pdb: u8, key: &[u8], offset: u64) -> Result<bool, StoreError> {
        let Some(rec) = self.get_alive(pdb, key)? else { return Ok(false) };
        let view = View::of(&rec)?;
        let byte = offset / 8;
        if byte >= view.len() {
            return Ok(false);
        }
        let b = self.read_range(pdb, key, &view, byte, byte)?;
        Ok(b.first().is_some_and(|x| x & (1 << (7 - (offset % 8) as u8)) != 0))
    }

    /// BITFIELD / BITFIELD_RO: runs `fields` in order; a reply per field (None = a FAIL
    /// overflow) and whether the string changed. With any SET or INCRBY the string first grows
    /// to hold the farthest field written (as Redis, even if every write then fails).
    pub fn bitfield(&self, pdb: u8, key: &[u8], fields: &[Field]) -> Result<(Vec<Option<i64>>, bool), StoreError> {
        let highest = fields.iter().filter(|f| f.op != FieldOp::Get).map(|f| f.offset + u64::from(f.bits) - 1).max();
        let Some(highest) = highest else {
            // Only GETs: a read.
            let out = self.read_string(pdb, key, |view| {
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    let mut buf = [0u8; 9];
                    if let Some(v) = view {
                        let first = f.offset / 8;
                        if first < v.len() {
                            let last = (first + 8).min(v.len() - 1);
                            let got = self.read_range(pdb, key, v, first, last)?;
                            buf[..got.len()].copy_from_slice(&got);
                        }
                    }
                    out.push(Some(get_field(&buf, f.offset % 8, f.bits, f.signed)));
                }
                Ok(out)
            })?;
            return Ok((out, false));
        };
        let _g = self.lock(pdb, key)?;
        let mut e = self.edit_string(pdb, key)?;
        e.grow_to(highest / 8 + 1)?;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            let first = f.offset / 8;
            let mut buf = [0u8; 9];
            e.read(first, &mut buf)?;
            let within = f.offset % 8;
            let old = get_field(&buf, within, f.bits, f.signed);
            let (new, reply, failed) = apply_field(f, old);
            if f.op == FieldOp::Get {
                out.push(Some(old));
                continue;
            }
            if failed {
                out.push(None);
                continue;
            }
            set_field(&mut buf, within, f.bits, new as u64);
            let span = ((within + u64::from(f.bits) - 1) / 8 + 1) as usize;
            e.write(first, &buf[..span])?;
            out.push(Some(reply));
        }
        let changed = e.changed();
        let mut b = self.batch();
        e.commit(&mut b);
        b.commit()?;
        Ok((out, changed))
    }
}

/// Set bits in `bytes`, eight at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n + chunks.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::storage::StorageOptions;
    use std::sync::Arc;

    fn open(dir: &std::path::Path) -> Arc<Storage> {
        let opts = StorageOptions { dir: dir.to_path_buf(), ..StorageOptions::default() };
        Storage::open(&opts, Arc::new(Clock::new())).unwrap()
    }

    fn setbit(s: &Storage, key: &[u8], offset: u64, on: bool) -> (usize, usize) {
        let _g = s.lock(0, key).unwrap();
        let mut e = s.edit_string(0, key).unwrap();
        let mut byte = [0u8];
        e.read(offset / 8, &mut byte).unwrap();
        let mask = 1u8 << (7 - offset % 8);
        byte[0] = if on { byte[0] | mask } else { byte[0] & !mask };
        e.write(offset / 8, &byte).unwrap();
        let mut b = s.batch();
        e.commit(&mut b);
        let written = b.written();
        b.commit().unwrap();
        written
    }

    #[test]
    fn setbit_at_a_high_offset_writes_one_fragment() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        // A missing key: the record and the one fragment holding the bit, nothing else.
        let (ops, bytes) = setbit(&s, b"big", 4_294_967_295, true);
        assert_eq!(ops, 2);
        assert!(bytes < 2 * FRAGMENT_SIZE as usize + 200, "{bytes} bytes written");
        let rec = s.get_record(0, b"big").unwrap().unwrap();
        let view = View::of(&rec).unwrap();
        assert_eq!(view.len(), 536_870_912);
        // Another bit far away on the existing value: one fragment, the record unchanged.
        let (ops, bytes) = setbit(&s, b"big", 8_000_000, true);
        assert_eq!(ops, 1);
        assert!(bytes < FRAGMENT_SIZE as usize + 100, "{bytes} bytes written");
        let view = View::of(&s.get_record(0, b"big").unwrap().unwrap()).unwrap();
        let n = s.bitcount(0, b"big", &view, 0, view.len() - 1, (0, 0)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(s.bitpos(0, b"big", &view, true, 0, view.len() * 8 - 1).unwrap(), Some(8_000_000));
        assert_eq!(s.bitpos(0, b"big", &view, false, 8_000_000, view.len() * 8 - 1).unwrap(), Some(8_000_001));
        let tail = s.read_range(0, b"big", &view, view.len() - 2, view.len() - 1).unwrap();
        assert_eq!(tail, vec![0, 1]);
        // Clearing the bit again deletes its fragment (all zeros).
        let (ops, _) = setbit(&s, b"big", 8_000_000, false);
        assert_eq!(ops, 1);
        let prefix = match view {
            View::Fragmented(f) => encoding::subkey_prefix(0, b"big", f.version),
            View::Inline(_) => panic!("not fragmented"),
        };
        let mut n = 0;
        s.sub_scan(cf::SUBKEYS, &prefix, Dir::Forward, None, |_, _| {
            n += 1;
            true
        })
        .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn short_values_stay_inline_and_grow_into_fragments() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        setbit(&s, b"k", 7, true);
        let rec = s.get_record(0, b"k").unwrap().unwrap();
        assert!(matches!(View::of(&rec).unwrap(), View::Inline(ref b) if b.as_ref() == [1]));
        setbit(&s, b"k", FRAGMENT_THRESHOLD * 8 + 7, true);
        let rec = s.get_record(0, b"k").unwrap().unwrap();
        assert!(matches!(View::of(&rec).unwrap(), View::Fragmented(f) if f.len == FRAGMENT_THRESHOLD + 1));
        let v = s.string_value(0, b"k", &rec).unwrap();
        assert_eq!(v.len() as u64, FRAGMENT_THRESHOLD + 1);
        assert_eq!((v[0], v[v.len() - 1]), (1, 1));
        assert_eq!(popcount(&v), 2);
    }

    fn fragments_of(s: &Storage, key: &[u8]) -> usize {
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_lower_bound(encoding::subkey_prefix(0, key, 0));
        ro.set_iterate_upper_bound(encoding::subkey_prefix(0, key, u64::MAX));
        let mut it = s.db().raw_iterator_cf_opt(s.cf(cf::SUBKEYS), ro);
        it.seek_to_first();
        let mut n = 0;
        while it.valid() {
            n += 1;
            it.next();
        }
        n
    }

    fn compact(s: &Storage) {
        for name in [cf::METADATA, cf::SUBKEYS] {
            s.db().flush_cf(s.cf(name)).unwrap();
            s.db().compact_range_cf(s.cf(name), None::<&[u8]>, None::<&[u8]>);
        }
    }

    #[test]
    fn compaction_keeps_live_fragments_and_drops_overwritten_ones() {
        use crate::storage::types::string::{ExpireUpdate, SetCond, StringStore};
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        for key in [&b"live"[..], b"overwritten", b"deleted"] {
            setbit(&s, key, 100_000, true);
            setbit(&s, key, 300_000, true);
        }
        let strings = StringStore::new(&s, 0);
        strings.set(b"overwritten", b"x", SetCond::Always, ExpireUpdate::Clear, false).unwrap();
        s.delete(0, &[Bytes::from_static(b"deleted")]).unwrap();
        compact(&s);
        assert_eq!(fragments_of(&s, b"live"), 2);
        assert_eq!(fragments_of(&s, b"overwritten"), 0);
        assert_eq!(fragments_of(&s, b"deleted"), 0);
        let rec = s.get_record(0, b"live").unwrap().unwrap();
        let v = s.string_value(0, b"live", &rec).unwrap();
        assert_eq!((v.len(), popcount(&v)), (37_501, 2));
        // A rename moves them under the new name.
        s.rename(0, b"live", b"moved", false).unwrap();
        compact(&s);
        assert_eq!(fragments_of(&s, b"live"), 0);
        assert_eq!(fragments_of(&s, b"moved"), 2);
    }

    #[test]
    fn a_fragmented_string_counts_its_whole_length_in_the_data_set() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        setbit(&s, b"big", 8 * 1_000_000, true);
        let used = s.used_memory_dataset();
        assert!((1_000_001..1_000_100).contains(&used), "{used}");
        setbit(&s, b"big", 8, true);
        assert_eq!(s.used_memory_dataset(), used);
        s.delete(0, &[Bytes::from_static(b"big")]).unwrap();
        assert_eq!(s.used_memory_dataset(), 0);
    }

    #[test]
    fn popcount_counts_every_byte() {
        let v: Vec<u8> = (0..=255u8).collect();
        assert_eq!(popcount(&v), 1024);
        assert_eq!(popcount(&v[..13]), v[..13].iter().map(|b| u64::from(b.count_ones())).sum::<u64>());
    }
}
