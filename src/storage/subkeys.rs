//! Reads of collection subkeys (`subkeys` and `zset_score` families), the one place that knows
//! how they meet an open pipeline write (see `batch`): point reads see the pipeline's own
//! writes; an iteration over a prefix the pipeline has written gives up with `WouldBlock`, so
//! the command runs again after the pipeline commits.

use super::{batch, cf, encoding, tier, Storage, StoreError};
use bytes::Bytes;

/// Which way an iteration walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Forward,
    Reverse,
}

impl Storage {
    /// Reads one record of the `subkeys` family.
    pub fn sub_get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        if let Some(mine) = batch::overlay_get_sub(key) {
            return Ok(mine);
        }
        let cf = self.cf(cf::SUBKEYS);
        Ok(tier::with_read_options(|ro| self.db().get_pinned_cf_opt(cf, key, ro))?.map(|v| Bytes::copy_from_slice(&v)))
    }

    /// Reads several records of the `subkeys` family at once (RocksDB MultiGet), in order.
    pub fn sub_multi_get(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Bytes>>, StoreError> {
        let mut out: Vec<Option<Option<Bytes>>> = keys.iter().map(|k| batch::overlay_get_sub(k)).collect();
        let missing: Vec<&Vec<u8>> = keys.iter().zip(&out).filter(|(_, o)| o.is_none()).map(|(k, _)| k).collect();
        if !missing.is_empty() {
            let cf = self.cf(cf::SUBKEYS);
            let got = tier::with_read_options(|ro| {
                self.db().batched_multi_get_cf_opt(cf, missing.iter().map(|k| k.as_slice()), false, ro)
            });
            let mut got = got.into_iter();
            for slot in out.iter_mut().filter(|o| o.is_none()) {
                let v = match got.next() {
                    Some(r) => r?.map(|v| Bytes::copy_from_slice(&v)),
                    None => None,
                };
                *slot = Some(v);
            }
        }
        Ok(out.into_iter().map(|o| o.flatten()).collect())
    }

    /// Walks the records under `prefix` in family `cf_name` (`subkeys` or `zset_score`), in key
    /// order or reverse, starting at `prefix · from` (inclusive; the first or last record when
    /// None). `f` gets each record's key suffix after the prefix and its value, and returns
    /// false to stop.
    pub fn sub_scan(
        &self,
        cf_name: &'static str,
        prefix: &[u8],
        dir: Dir,
        from: Option<&[u8]>,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        // Inside an all-or-nothing write, merge its own records under `prefix` (any prefix: a
        // stream's groups and pending entries sit under longer ones than the stream's).
        match batch::atomic_view(cf_name, prefix) {
            Some((mine, ranges)) if !mine.is_empty() || !ranges.is_empty() => {
                return self.merged_scan(cf_name, prefix, dir, from, mine, &ranges, f);
            }
            Some(_) => {}
            None if batch::overlay_dirty(prefix) => return Err(StoreError::WouldBlock),
            None => {}
        }
        let mut ro = tier::iter_read_options();
        // Keys stay where the memtable or block holds them instead of being copied per step.
        ro.set_pin_data(true);
        ro.set_iterate_lower_bound(prefix.to_vec());
        if let Some(end) = encoding::prefix_end(prefix) {
            ro.set_iterate_upper_bound(end);
        }
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf_name), ro);
        let start = from.map(|s| encoding::subkey(prefix, s));
        match (dir, &start) {
            (Dir::Forward, Some(s)) => it.seek(s),
            (Dir::Forward, None) => it.seek_to_first(),
            (Dir::Reverse, Some(s)) => it.seek_for_prev(s),
            (Dir::Reverse, None) => it.seek_to_last(),
        }
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else { break };
            let Some(suffix) = k.get(prefix.len()..) else { break };
            if !f(suffix, v) {
                return Ok(());
            }
            match dir {
                Dir::Forward => it.next(),
                Dir::Reverse => it.prev(),
            }
        }
        it.status()?;
        Ok(())
    }

    /// `sub_scan` inside an all-or-nothing write that wrote under `prefix`: RocksDB's records
    /// merged with the write's own (`mine`, in key order; None = deleted), leaving out records
    /// in the ranges it deleted.
    #[allow(clippy::too_many_arguments)]
    fn merged_scan(
        &self,
        cf_name: &'static str,
        prefix: &[u8],
        dir: Dir,
        from: Option<&[u8]>,
        mine: Vec<(Vec<u8>, Option<Bytes>)>,
        ranges: &[(Vec<u8>, Vec<u8>)],
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let start = from.map(|s| encoding::subkey(prefix, s));
        let mut mine: Vec<(Vec<u8>, Option<Bytes>)> = mine
            .into_iter()
            .filter(|(k, _)| match (dir, &start) {
                (Dir::Forward, Some(s)) => k >= s,
                (Dir::Reverse, Some(s)) => k <= s,
                _ => true,
            })
            .collect();
        if dir == Dir::Reverse {
            mine.reverse();
        }
        let mut mine = mine.into_iter().peekable();
        let mut ro = tier::iter_read_options();
        ro.set_iterate_lower_bound(prefix.to_vec());
        if let Some(end) = encoding::prefix_end(prefix) {
            ro.set_iterate_upper_bound(end);
        }
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf_name), ro);
        match (dir, &start) {
            (Dir::Forward, Some(s)) => it.seek(s),
            (Dir::Forward, None) => it.seek_to_first(),
            (Dir::Reverse, Some(s)) => it.seek_for_prev(s),
            (Dir::Reverse, None) => it.seek_to_last(),
        }
        let deleted = |k: &[u8]| ranges.iter().any(|(lo, hi)| k >= lo.as_slice() && k < hi.as_slice());
        loop {
            let stored = if it.valid() { it.key().map(|k| k.to_vec()) } else { None };
            // Which comes first in walking order: the stored record or my own?
            let take_mine = match (&stored, mine.peek()) {
                (None, None) => break,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(k), Some((m, _))) => match dir {
                    Dir::Forward => m <= k,
                    Dir::Reverse => m >= k,
                },
            };
            if take_mine {
                let Some((k, v)) = mine.next() else { break };
                if stored.as_deref() == Some(k.as_slice()) {
                    step(&mut it, dir);
                }
                if let (Some(v), Some(suffix)) = (v, k.get(prefix.len()..)) {
                    if !f(suffix, &v) {
                        return Ok(());
                    }
                }
                continue;
            }
            let Some(k) = stored else { break };
            if !deleted(&k) {
                let (Some(v), Some(suffix)) = (it.value(), k.get(prefix.len()..)) else { break };
                if !f(suffix, v) {
                    return Ok(());
                }
            }
            step(&mut it, dir);
        }
        it.status()?;
        Ok(())
    }
}

fn step(it: &mut rocksdb::DBRawIteratorWithThreadMode<'_, rocksdb::DB>, dir: Dir) {
    match dir {
        Dir::Forward => it.next(),
        Dir::Reverse => it.prev(),
    }
}
