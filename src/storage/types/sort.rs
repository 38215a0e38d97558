//! SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0's `sort.c`: elements are read
//! straight from the collections' subkeys, BY / GET patterns read strings and hash fields of
//! other keys, and STORE writes a new list.

use crate::storage::encoding::{self, CollMeta, KeyType, LIST_MIDDLE};
use crate::storage::subkeys::Dir;
use crate::storage::{cf, Record, Storage, StoreError};
use bytes::Bytes;
use std::cmp::Ordering;

/// The options of one SORT call.
#[derive(Clone, Debug, Default)]
pub struct SortSpec<'a> {
    /// BY pattern (a pattern without `*` means "do not sort").
    pub by: Option<&'a [u8]>,
    /// LIMIT offset count.
    pub limit: Option<(i64, i64)>,
    /// GET patterns, in order.
    pub gets: Vec<&'a [u8]>,
    pub desc: bool,
    pub alpha: bool,
    /// STORE destination.
    pub store: Option<&'a [u8]>,
}

/// What SORT produced.
#[derive(Debug, PartialEq, Eq)]
pub enum SortOutcome {
    /// The reply elements (None = a GET that found nothing).
    Items(Vec<Option<Bytes>>),
    /// STORE: the length of the list written.
    Stored(u64),
}

/// "One or more scores can't be converted into double".
#[derive(Debug, PartialEq, Eq)]
pub struct NotDouble;

/// One element being sorted and what it sorts by.
struct Item {
    elem: Bytes,
    score: f64,
    cmp: Option<Bytes>,
}

/// Redis's `strtod` acceptance for sort scores: the whole text must be used, leading white
/// space is allowed, out-of-range values and NaN are refused, and the empty string is 0.
pub fn sort_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let start = b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = std::str::from_utf8(&b[start..]).ok()?;
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    // Only decimal forms from here (Rust's parser also takes "nan" and "inf", handled above).
    if !body.bytes().next().is_some_and(|c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_nan() || v.is_infinite() {
        return None;
    }
    if v == 0.0 {
        // Underflow (a non-zero mantissa read as 0) is ERANGE for strtod.
        let mantissa = body.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|c| matches!(c, b'1'..=b'9')) {
            return None;
        }
    }
    Some(v)
}

/// The key (and hash field) a BY / GET pattern names for `elem`, as Redis's
/// `lookupKeyByPattern`: the first `*` is replaced by the element; `->field` after it names a
/// hash field. None when the pattern has no `*`.
pub fn pattern_target(pattern: &[u8], elem: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after.windows(2).position(|w| w == b"->").filter(|&i| i + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(i) => (&after[..i], Some(after[i + 2..].to_vec())),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    Some((key, field))
}

impl Storage {
    /// The value a BY / GET pattern gives for `elem` (`#` = the element itself): a string key's
    /// value or a hash field, None if missing or of another type. Reads without locking or
    /// lazily expiring anything (SORT may hold key locks).
    fn sort_lookup(&self, pdb: u8, pattern: &[u8], elem: &Bytes) -> Result<Option<Bytes>, StoreError> {
        if pattern == b"#" {
            return Ok(Some(elem.clone()));
        }
        let Some((key, field)) = pattern_target(pattern, elem) else { return Ok(None) };
        let Some(rec) = self.get_live(pdb, &key)? else { return Ok(None) };
        match (field, rec.key_type()) {
            (None, KeyType::String) => Ok(Some(self.string_value(pdb, &key, &rec)?)),
            (Some(f), KeyType::Hash) => {
                let Some(meta) = Storage::coll_meta(&rec)? else { return Ok(None) };
                let p = super::prefix(pdb, &key, &meta);
                self.sub_get(&encoding::subkey(&p, &f))
            }
            _ => Ok(None),
        }
    }

    /// Reads up to `take` elements of a list, set or sorted set after skipping `skip`, in its
    /// natural order (reversed with `rev`; sets ignore it).
    fn sort_elements(
        &self,
        pdb: u8,
        key: &[u8],
        meta: &CollMeta,
        rev: bool,
        skip: u64,
        take: u64,
    ) -> Result<Vec<Bytes>, StoreError> {
        let p = super::prefix(pdb, key, meta);
        let mut out = Vec::with_capacity(take.min(meta.size).min(1 << 16) as usize);
        let mut skipped = 0u64;
        let mut push = |e: &[u8]| {
            if skipped < skip {
                skipped += 1;
            } else {
                out.push(Bytes::copy_from_slice(e));
            }
            (out.len() as u64) < take
        };
        if take == 0 {
            return Ok(Vec::new());
        }
        match meta.key_type {
            KeyType::List => {
                if meta.tail <= meta.head {
                    return Ok(Vec::new());
                }
                let (dir, from) = if rev {
                    (Dir::Reverse, encoding::list_index(meta.tail - 1))
                } else {
                    (Dir::Forward, encoding::list_index(meta.head))
                };
                self.sub_scan(cf::SUBKEYS, &p, dir, Some(&from[..]), |suffix, v| {
                    let Ok(idx) = <[u8; 8]>::try_from(suffix).map(u64::from_be_bytes) else { return true };
                    if idx < meta.head || idx >= meta.tail {
                        // Outside the live range: past its end in this direction means done.
                        return if rev { idx >= meta.tail } else { idx < meta.head };
                    }
                    push(v)
                })?;
            }
            KeyType::Set => {
                self.sub_scan(cf::SUBKEYS, &p, Dir::Forward, None, |m, _| push(m))?;
            }
            KeyType::ZSet => {
                let dir = if rev { Dir::Reverse } else { Dir::Forward };
                self.sub_scan(cf::ZSET_SCORE, &p, dir, None, |suffix, _| {
                    match encoding::decode_zscore_suffix(suffix) {
                        Some((_, m)) => push(m),
                        None => true,
                    }
                })?;
            }
            _ => return Err(StoreError::WrongType),
        }
        Ok(out)
    }

    /// SORT / SORT_RO in physical database `pdb`. WrongType unless `key` is a list, set or
    /// sorted set (or missing, which sorts as empty).
    pub fn sort(&self, pdb: u8, key: &[u8], spec: &SortSpec<'_>) -> Result<Result<SortOutcome, NotDouble>, StoreError> {
        let _g = match spec.store {
            Some(dst) => Some(self.lock_many([(pdb, key), (pdb, dst)])?),
            None => None,
        };
        // Lazy expiry skips a key whose lock is held (here, with STORE), so this is safe either way.
        let rec: Option<Record> = self.get_alive(pdb, key)?;
        let meta = match &rec {
            Some(r) if matches!(r.key_type(), KeyType::List | KeyType::Set | KeyType::ZSet) => Storage::coll_meta(r)?,
            Some(_) => return Err(StoreError::WrongType),
            None => None,
        };

        let mut by = spec.by;
        let mut alpha = spec.alpha;
        let mut dontsort = by.is_some_and(|p| !p.contains(&b'*'));
        let key_type = meta.map(|m| m.key_type).unwrap_or(KeyType::List);
        if dontsort && key_type == KeyType::Set && spec.store.is_some() {
            // Sets have no order of their own: a stored result is sorted (Redis does so for
            // replication's sake).
            dontsort = false;
            alpha = true;
            by = None;
        }

        // LIMIT, clamped as Redis does.
        let len = meta.map(|m| m.size).unwrap_or(0).min(i64::MAX as u64) as i64;
        let (limit_start, limit_count) = spec.limit.unwrap_or((0, -1));
        let mut start = limit_start.clamp(0, len);
        let count = limit_count.clamp(-1, len);
        let mut end = if count < 0 { len - 1 } else { start + count - 1 };
        if start >= len {
            start = len - 1;
            end = len - 2;
        }
        if end >= len {
            end = len - 1;
        }

        let mut items: Vec<Item> = match meta {
            None => Vec::new(),
            Some(m) if dontsort && m.key_type != KeyType::Set => {
                let take = if end >= start { (end - start + 1) as u64 } else { 0 };
                let got = self.sort_elements(pdb, key, &m, spec.desc, start as u64, take)?;
                end = got.len() as i64 - 1;
                start = 0;
                got.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect()
            }
            Some(m) => self
                .sort_elements(pdb, key, &m, false, 0, u64::MAX)?
                .into_iter()
                .map(|elem| Item { elem, score: 0.0, cmp: None })
                .collect(),
        };
        // The collection may have changed size since its metadata was read (no lock is held
        // without STORE): keep the range inside what was read.
        end = end.min(items.len() as i64 - 1);

        if !dontsort {
            for it in items.iter_mut() {
                let byval = match by {
                    Some(p) => match self.sort_lookup(pdb, p, &it.elem)? {
                        Some(v) => v,
                        None => continue,
                    },
                    None => it.elem.clone(),
                };
                if alpha {
                    if by.is_some() {
                        it.cmp = Some(byval);
                    }
                } else {
                    match sort_score(&byval) {
                        Some(s) => it.score = s,
                        None => return Ok(Err(NotDouble)),
                    }
                }
            }
            let by_pattern = by.is_some();
            items.sort_by(|a, b| {
                let c = compare(a, b, alpha, by_pattern);
                if spec.desc {
                    c.reverse()
                } else {
                    c
                }
            });
        }

        let range: &[Item] = if end >= start && start >= 0 { &items[start as usize..=end as usize] } else { &[] };
        let mut out: Vec<Option<Bytes>> = Vec::with_capacity(range.len() * spec.gets.len().max(1));
        for it in range {
            if spec.gets.is_empty() {
                out.push(Some(it.elem.clone()));
            }
            for g in &spec.gets {
                out.push(self.sort_lookup(pdb, g, &it.elem)?);
            }
        }

        let Some(dst) = spec.store else { return Ok(Ok(SortOutcome::Items(out))) };
        let n = out.len() as u64;
        let old = self.get_record(pdb, dst)?;
        let mut meta = CollMeta::new(KeyType::List, self.next_version());
        let p = super::prefix(pdb, dst, &meta);
        let mut b = self.batch();
        for (i, v) in out.into_iter().enumerate() {
            let idx = encoding::list_index(LIST_MIDDLE + i as u64);
            b.put_sub(cf::SUBKEYS, encoding::subkey(&p, &idx), v.unwrap_or_default());
        }
        meta.head = LIST_MIDDLE;
        meta.tail = LIST_MIDDLE + n;
        meta.size = n;
        b.put_coll(pdb, dst, old.as_ref(), &meta, 0);
        b.commit()?;
        Ok(Ok(SortOutcome::Stored(n)))
    }
}

/// Redis's `sortCompare` before DESC: numeric by score then by element bytes; ALPHA by the BY
/// value (missing ones first) or by the element.
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool) -> Ordering {
    if !alpha {
        return a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem));
    }
    if by_pattern {
        return match (&a.cmp, &b.cmp) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        };
    }
    a.elem.cmp(&b.elem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::storage::types::hash::HashStore;
    use crate::storage::types::string::{ExpireUpdate, SetCond, StringStore};
    use crate::storage::StorageOptions;
    use std::sync::Arc;

    fn open(dir: &std::path::Path) -> Arc<Storage> {
        let opts = StorageOptions { dir: dir.to_path_buf(), ..StorageOptions::default() };
        Storage::open(&opts, Arc::new(Clock::new())).unwrap()
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn make_list(s: &Storage, key: &str, elems: &[&str]) {
        let mut meta = CollMeta::new(KeyType::List, s.next_version());
        let p = super::super::prefix(0, key.as_bytes(), &meta);
        let mut bt = s.batch();
        // A stale record before the live range, as pops leave behind, must be skipped.
        bt.put_sub(cf::SUBKEYS, encoding::subkey(&p, &encoding::list_index(LIST_MIDDLE - 5)), b("stale"));
        for (i, e) in elems.iter().enumerate() {
            bt.put_sub(cf::SUBKEYS, encoding::subkey(&p, &encoding::list_index(LIST_MIDDLE + i as u64)), b(e));
        }
        bt.put_sub(cf::SUBKEYS, encoding::subkey(&p, &encoding::list_index(LIST_MIDDLE + 100_000)), b("stale2"));
        meta.head = LIST_MIDDLE;
        meta.tail = LIST_MIDDLE + elems.len() as u64;
        meta.size = elems.len() as u64;
        let old = s.get_record(0, key.as_bytes()).unwrap();
        bt.put_coll(0, key.as_bytes(), old.as_ref(), &meta, 0);
        bt.commit().unwrap();
    }

    fn make_set(s: &Storage, key: &str, members: &[&str]) {
        let mut meta = CollMeta::new(KeyType::Set, s.next_version());
        let p = super::super::prefix(0, key.as_bytes(), &meta);
        let mut bt = s.batch();
        for m in members {
            bt.put_sub(cf::SUBKEYS, encoding::subkey(&p, m.as_bytes()), Bytes::new());
        }
        meta.size = members.len() as u64;
        bt.put_coll(0, key.as_bytes(), None, &meta, 0);
        bt.commit().unwrap();
    }

    fn make_zset(s: &Storage, key: &str, members: &[(f64, &str)]) {
        let mut meta = CollMeta::new(KeyType::ZSet, s.next_version());
        let p = super::super::prefix(0, key.as_bytes(), &meta);
        let mut bt = s.batch();
        for (score, m) in members {
            bt.put_sub(cf::SUBKEYS, encoding::subkey(&p, m.as_bytes()), encoding::encode_score(*score).to_vec());
            bt.put_sub(cf::ZSET_SCORE, encoding::zscore_key(&p, *score, m.as_bytes()), Bytes::new());
        }
        meta.size = members.len() as u64;
        bt.put_coll(0, key.as_bytes(), None, &meta, 0);
        bt.commit().unwrap();
    }

    fn set_str(s: &Storage, k: &str, v: &str) {
        StringStore::new(s, 0).set(k.as_bytes(), v.as_bytes(), SetCond::Always, ExpireUpdate::Clear, false).unwrap();
    }

    fn items(s: &Storage, key: &str, spec: &SortSpec<'_>) -> Vec<Option<String>> {
        match s.sort(0, key.as_bytes(), spec).unwrap().unwrap() {
            SortOutcome::Items(v) => v.into_iter().map(|o| o.map(|b| String::from_utf8(b.to_vec()).unwrap())).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn strs(s: &Storage, key: &str, spec: &SortSpec<'_>) -> Vec<String> {
        items(s, key, spec).into_iter().map(|o| o.unwrap_or_else(|| "<nil>".into())).collect()
    }

    /// The elements of the list at `key`, read back through the subkeys.
    fn read_list(s: &Storage, key: &str) -> Option<Vec<String>> {
        let meta = s.read_coll(0, key.as_bytes(), KeyType::List).unwrap()?;
        let got = s.sort_elements(0, key.as_bytes(), &meta, false, 0, u64::MAX).unwrap();
        Some(got.into_iter().map(|b| String::from_utf8(b.to_vec()).unwrap()).collect())
    }

    #[test]
    fn scores_parse_like_strtod() {
        assert_eq!(sort_score(b"1.5"), Some(1.5));
        assert_eq!(sort_score(b" 3"), Some(3.0));
        assert_eq!(sort_score(b""), Some(0.0));
        assert_eq!(sort_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(sort_score(b"1e3"), Some(1000.0));
        assert_eq!(sort_score(b".5"), Some(0.5));
        assert_eq!(sort_score(b"0"), Some(0.0));
        assert_eq!(sort_score(b"0e5"), Some(0.0));
        for bad in [&b"abc"[..], b"3 ", b"nan", b"1e400", b"1e-400", b"  ", b"1x", b"--1"] {
            assert_eq!(sort_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn patterns() {
        assert_eq!(pattern_target(b"w_*", b"3"), Some((b"w_3".to_vec(), None)));
        assert_eq!(pattern_target(b"h_*->f", b"3"), Some((b"h_3".to_vec(), Some(b"f".to_vec()))));
        assert_eq!(pattern_target(b"h_*x->", b"3"), Some((b"h_3x->".to_vec(), None)));
        assert_eq!(pattern_target(b"a->b*c", b"3"), Some((b"a->b3c".to_vec(), None)));
        assert_eq!(pattern_target(b"*-*", b"3"), Some((b"3-*".to_vec(), None)));
        assert_eq!(pattern_target(b"nosort", b"3"), None);
    }

    #[test]
    fn sorts_lists_sets_and_zsets() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        make_list(&s, "l", &["3", "1", "10", "2", "-1.5"]);
        assert_eq!(strs(&s, "l", &SortSpec::default()), ["-1.5", "1", "2", "3", "10"]);
        assert_eq!(strs(&s, "l", &SortSpec { desc: true, ..Default::default() }), ["10", "3", "2", "1", "-1.5"]);
        assert_eq!(strs(&s, "l", &SortSpec { alpha: true, ..Default::default() }), ["-1.5", "1", "10", "2", "3"]);
        let lim = SortSpec { limit: Some((1, 2)), ..Default::default() };
        assert_eq!(strs(&s, "l", &lim), ["1", "2"]);
        let lim = SortSpec { limit: Some((-5, 2)), ..Default::default() };
        assert_eq!(strs(&s, "l", &lim), ["-1.5", "1"]);
        let lim = SortSpec { limit: Some((3, -1)), ..Default::default() };
        assert_eq!(strs(&s, "l", &lim), ["3", "10"]);
        let lim = SortSpec { limit: Some((9, 2)), ..Default::default() };
        assert!(strs(&s, "l", &lim).is_empty());
        let lim = SortSpec { limit: Some((0, 0)), ..Default::default() };
        assert!(strs(&s, "l", &lim).is_empty());
        // BY nosort keeps the list's order (DESC reverses it), LIMIT applies to that order.
        let ns = SortSpec { by: Some(b"nosort"), ..Default::default() };
        assert_eq!(strs(&s, "l", &ns), ["3", "1", "10", "2", "-1.5"]);
        let ns = SortSpec { by: Some(b"nosort"), desc: true, limit: Some((1, 2)), ..Default::default() };
        assert_eq!(strs(&s, "l", &ns), ["2", "10"]);

        make_set(&s, "s", &["5", "40", "3", "x1"]);
        assert_eq!(s.sort(0, b"s", &SortSpec::default()).unwrap(), Err(NotDouble));
        assert_eq!(strs(&s, "s", &SortSpec { alpha: true, ..Default::default() }), ["3", "40", "5", "x1"]);
        make_set(&s, "s2", &["5", "40", "3"]);
        assert_eq!(strs(&s, "s2", &SortSpec::default()), ["3", "5", "40"]);

        // Sorted sets: by the members' values, not their scores; BY nosort = score order.
        make_zset(&s, "z", &[(1.0, "30"), (2.0, "20"), (3.0, "10")]);
        assert_eq!(strs(&s, "z", &SortSpec::default()), ["10", "20", "30"]);
        let ns = SortSpec { by: Some(b"nosort"), ..Default::default() };
        assert_eq!(strs(&s, "z", &ns), ["30", "20", "10"]);
        let ns = SortSpec { by: Some(b"nosort"), desc: true, limit: Some((0, 2)), ..Default::default() };
        assert_eq!(strs(&s, "z", &ns), ["10", "20"]);

        // Missing key: empty. Strings and hashes: WRONGTYPE.
        assert!(strs(&s, "nokey", &SortSpec::default()).is_empty());
        set_str(&s, "str", "1");
        assert!(matches!(s.sort(0, b"str", &SortSpec::default()), Err(StoreError::WrongType)));
        HashStore::new(&s, 0).set(b"h", &[(b("a"), b("1"))], false).unwrap();
        assert!(matches!(s.sort(0, b"h", &SortSpec::default()), Err(StoreError::WrongType)));
    }

    #[test]
    fn by_and_get_patterns() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        make_list(&s, "l", &["a", "b", "c", "d"]);
        set_str(&s, "w_a", "30");
        set_str(&s, "w_b", "10");
        set_str(&s, "w_c", "20");
        // d has no weight: 0, first.
        let by = SortSpec { by: Some(b"w_*"), ..Default::default() };
        assert_eq!(strs(&s, "l", &by), ["d", "b", "c", "a"]);
        let hs = HashStore::new(&s, 0);
        for (k, name, age) in [("h_a", "ann", "9"), ("h_b", "bob", "3"), ("h_c", "cat", "5"), ("h_d", "dan", "1")] {
            hs.set(k.as_bytes(), &[(b("name"), b(name)), (b("age"), b(age))], false).unwrap();
        }
        let spec = SortSpec { by: Some(b"h_*->age"), gets: vec![b"#", b"h_*->name", b"w_*"], ..Default::default() };
        assert_eq!(strs(&s, "l", &spec), ["d", "dan", "<nil>", "b", "bob", "10", "c", "cat", "20", "a", "ann", "30"]);
        // ALPHA by a pattern: missing values first.
        set_str(&s, "n_a", "zeta");
        set_str(&s, "n_c", "alpha");
        let spec = SortSpec { by: Some(b"n_*"), alpha: true, desc: true, ..Default::default() };
        let got = strs(&s, "l", &spec);
        assert_eq!(&got[..2], ["a", "c"]);
        // GET of a pattern without '*' is nil; of a wrong-type key too.
        let spec = SortSpec { gets: vec![b"fixed", b"h_*"], limit: Some((0, 1)), alpha: true, ..Default::default() };
        assert_eq!(items(&s, "l", &spec), vec![None, None]);
        // Non-numeric BY values are an error.
        set_str(&s, "bad_b", "x");
        let spec = SortSpec { by: Some(b"bad_*"), ..Default::default() };
        assert_eq!(s.sort(0, b"l", &spec).unwrap(), Err(NotDouble));
    }

    #[test]
    fn store_writes_a_list() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        make_list(&s, "l", &["3", "1", "2"]);
        let spec = SortSpec { store: Some(b"dst"), ..Default::default() };
        assert_eq!(s.sort(0, b"l", &spec).unwrap(), Ok(SortOutcome::Stored(3)));
        assert_eq!(read_list(&s, "dst").unwrap(), ["1", "2", "3"]);
        // GET values that are missing are stored as empty strings.
        let spec = SortSpec { store: Some(b"dst"), gets: vec![b"#", b"nope_*"], ..Default::default() };
        assert_eq!(s.sort(0, b"l", &spec).unwrap(), Ok(SortOutcome::Stored(6)));
        assert_eq!(read_list(&s, "dst").unwrap(), ["1", "", "2", "", "3", ""]);
        // Sorting into itself, and over a string key.
        let spec = SortSpec { store: Some(b"l"), desc: true, ..Default::default() };
        assert_eq!(s.sort(0, b"l", &spec).unwrap(), Ok(SortOutcome::Stored(3)));
        assert_eq!(read_list(&s, "l").unwrap(), ["3", "2", "1"]);
        set_str(&s, "str", "x");
        let spec = SortSpec { store: Some(b"str"), ..Default::default() };
        assert_eq!(s.sort(0, b"l", &spec).unwrap(), Ok(SortOutcome::Stored(3)));
        assert_eq!(read_list(&s, "str").unwrap(), ["1", "2", "3"]);
        // An empty result deletes the destination.
        let spec = SortSpec { store: Some(b"dst"), ..Default::default() };
        assert_eq!(s.sort(0, b"nokey", &spec).unwrap(), Ok(SortOutcome::Stored(0)));
        assert!(s.get_record(0, b"dst").unwrap().is_none());
        // A set with BY nosort is stored sorted (ALPHA).
        make_set(&s, "s", &["b", "c", "a"]);
        let spec = SortSpec { store: Some(b"dst"), by: Some(b"nosort"), desc: true, ..Default::default() };
        assert_eq!(s.sort(0, b"s", &spec).unwrap(), Ok(SortOutcome::Stored(3)));
        assert_eq!(read_list(&s, "dst").unwrap(), ["c", "b", "a"]);
        // The error leaves the destination alone.
        let spec = SortSpec { store: Some(b"dst"), ..Default::default() };
        assert_eq!(s.sort(0, b"s", &spec).unwrap(), Err(NotDouble));
        assert_eq!(read_list(&s, "dst").unwrap(), ["c", "b", "a"]);
        assert_eq!(s.key_count(0), 4);
    }

    #[test]
    fn big_list_sorts_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let vals: Vec<String> = (0..2000).map(|i| ((i * 7919) % 2000).to_string()).collect();
        let refs: Vec<&str> = vals.iter().map(|v| v.as_str()).collect();
        make_list(&s, "l", &refs);
        let got = strs(&s, "l", &SortSpec::default());
        let want: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
        assert_eq!(got, want);
        let lim = SortSpec { limit: Some((1990, 100)), desc: true, ..Default::default() };
        assert_eq!(strs(&s, "l", &lim), ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
        let ns = SortSpec { by: Some(b"x"), limit: Some((1000, 3)), ..Default::default() };
        assert_eq!(strs(&s, "l", &ns), vals[1000..1003]);
    }
}
