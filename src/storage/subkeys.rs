//! Reads of collection subkeys (`subkeys` and `zset_score` families), the one place that knows
//! how they meet an open pipeline write (see `batch`): point reads see the pipeline's own
//! writes; an iteration over a prefix the pipeline has written gives up with `WouldBlock`, so
//! the command runs again after the pipeline commits.

use super::cache::{Cached, Kind, Members, Ticket, MAX_MEMBERS, MAX_MEMBER_BYTES};
use super::{batch, cf, encoding, tier, Storage, StoreError};
use bytes::Bytes;
use std::sync::Arc;

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
        let ticket = match self.sub_cached(key) {
            Ok(v) => return Ok(v),
            Err(t) => t,
        };
        let cf = self.cf(cf::SUBKEYS);
        let v =
            tier::with_read_options(|ro| self.db().get_pinned_cf_opt(cf, key, ro))?.map(|v| Bytes::copy_from_slice(&v));
        if let Some(t) = ticket {
            self.cache.fill(Kind::Sub, key, t, Cached::Record(v.clone()));
        }
        Ok(v)
    }

    /// A committed `subkeys` record from the hot cache (its collection kept whole, or the record
    /// itself), or the ticket to fill it with once read.
    fn sub_cached(&self, key: &[u8]) -> Result<Option<Bytes>, Option<Ticket>> {
        if let Some((_, _, _, sub)) = encoding::decode_subkey(key) {
            let prefix = &key[..key.len() - sub.len()];
            if let Some(m) = self.cache.whole_members(Kind::SubsOf, prefix) {
                return Ok(m.items.binary_search_by(|(k, _)| k.as_ref().cmp(sub)).ok().map(|i| m.items[i].1.clone()));
            }
        }
        match self.cache.get(Kind::Sub, key) {
            Ok(Cached::Record(r)) => Ok(r),
            Ok(Cached::Members(_)) => Err(None),
            Err(t) => Err(Some(t)),
        }
    }

    /// Reads several records of the `subkeys` family at once (RocksDB MultiGet), in order.
    pub fn sub_multi_get(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Bytes>>, StoreError> {
        let mut tickets: Vec<Option<Ticket>> = Vec::new();
        let mut out: Vec<Option<Option<Bytes>>> = Vec::with_capacity(keys.len());
        for k in keys {
            match batch::overlay_get_sub(k).map(Ok).unwrap_or_else(|| self.sub_cached(k)) {
                Ok(v) => out.push(Some(v)),
                Err(t) => {
                    out.push(None);
                    tickets.push(t);
                }
            }
        }
        let missing: Vec<&Vec<u8>> = keys.iter().zip(&out).filter(|(_, o)| o.is_none()).map(|(k, _)| k).collect();
        if !missing.is_empty() {
            let cf = self.cf(cf::SUBKEYS);
            let got = tier::with_read_options(|ro| {
                self.db().batched_multi_get_cf_opt(cf, missing.iter().map(|k| k.as_slice()), false, ro)
            });
            let mut got = got.into_iter();
            let mut fills = missing.iter().zip(tickets);
            for slot in out.iter_mut().filter(|o| o.is_none()) {
                let v = match got.next() {
                    Some(r) => r?.map(|v| Bytes::copy_from_slice(&v)),
                    None => None,
                };
                if let Some((k, Some(t))) = fills.next() {
                    self.cache.fill(Kind::Sub, k, t, Cached::Record(v.clone()));
                }
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
        if let Some(members) = self.cached_members(cf_name, prefix)? {
            serve(&members, dir, from, f);
            return Ok(());
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

    /// The committed records under collection prefix `prefix` from the hot cache, read whole
    /// (and kept) on a miss if the collection is small; None for a big one (walked as usual).
    fn cached_members(&self, cf_name: &'static str, prefix: &[u8]) -> Result<Option<Arc<Members>>, StoreError> {
        let kind = match cf_name {
            cf::SUBKEYS => Kind::SubsOf,
            cf::ZSET_SCORE => Kind::ScoresOf,
            _ => return Ok(None),
        };
        // Only a whole collection's prefix (a longer one would be another entry's part).
        if !self.cache.enabled() || !encoding::decode_subkey(prefix).is_some_and(|(_, _, _, sub)| sub.is_empty()) {
            return Ok(None);
        }
        let ticket = match self.cache.get(kind, prefix) {
            Ok(Cached::Members(m)) => return Ok(m.whole.then_some(m)),
            Ok(Cached::Record(_)) => return Ok(None),
            Err(t) => t,
        };
        let mut ro = tier::iter_read_options();
        ro.set_iterate_lower_bound(prefix.to_vec());
        if let Some(end) = encoding::prefix_end(prefix) {
            ro.set_iterate_upper_bound(end);
        }
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf_name), ro);
        it.seek_to_first();
        let mut items = Vec::new();
        let mut bytes = 0;
        let mut whole = true;
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else { break };
            let Some(suffix) = k.get(prefix.len()..) else { break };
            bytes += suffix.len() + v.len();
            if items.len() == MAX_MEMBERS || bytes > MAX_MEMBER_BYTES {
                whole = false;
                items = Vec::new();
                break;
            }
            items.push((Bytes::copy_from_slice(suffix), Bytes::copy_from_slice(v)));
            it.next();
        }
        it.status()?;
        if !whole {
            self.cache.mark_too_big(kind, prefix);
            return Ok(None);
        }
        items.shrink_to_fit();
        let m = Arc::new(Members { items, whole: true });
        self.cache.fill(kind, prefix, ticket, Cached::Members(m.clone()));
        Ok(Some(m))
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

/// `sub_scan` over a collection kept whole in the hot cache.
fn serve(m: &Members, dir: Dir, from: Option<&[u8]>, mut f: impl FnMut(&[u8], &[u8]) -> bool) {
    let items = &m.items;
    match dir {
        Dir::Forward => {
            let start = from.map_or(0, |s| items.partition_point(|(k, _)| k.as_ref() < s));
            for (k, v) in &items[start..] {
                if !f(k, v) {
                    return;
                }
            }
        }
        Dir::Reverse => {
            let end = from.map_or(items.len(), |s| items.partition_point(|(k, _)| k.as_ref() <= s));
            for (k, v) in items[..end].iter().rev() {
                if !f(k, v) {
                    return;
                }
            }
        }
    }
}

fn step(it: &mut rocksdb::DBRawIteratorWithThreadMode<'_, rocksdb::DB>, dir: Dir) {
    match dir {
        Dir::Forward => it.next(),
        Dir::Reverse => it.prev(),
    }
}
