//! Whole values: a key's complete contents read in one go (DUMP) and a complete value written
//! as a new key in one batch (RESTORE). The RDB serialization itself lives in `crate::rdb`;
//! this module only maps whole values onto the typed stores' encodings.

use super::stream::{Consumer, Group, Pending, StreamId, StreamMeta};
use super::{hash::HashStore, list::ListStore, set::SetStore, string::StringStore};
use crate::storage::encoding::{self, CollMeta, KeyType};
use crate::storage::{cf, Storage, StoreError};
use bytes::Bytes;

/// The complete value of a key of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Bytes),
    List(Vec<Bytes>),
    Set(Vec<Bytes>),
    /// Members with their scores (any order).
    ZSet(Vec<(Bytes, f64)>),
    Hash(Vec<(Bytes, Bytes)>),
    Stream(Box<StreamValue>),
}

impl Value {
    pub fn key_type(&self) -> KeyType {
        match self {
            Value::String(_) => KeyType::String,
            Value::List(_) => KeyType::List,
            Value::Set(_) => KeyType::Set,
            Value::ZSet(_) => KeyType::ZSet,
            Value::Hash(_) => KeyType::Hash,
            Value::Stream(_) => KeyType::Stream,
        }
    }
}

/// A whole stream: entries, IDs and counters, and its consumer groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamValue {
    /// Entries in ID order: ID and fields (field, value, field, value...).
    pub entries: Vec<(StreamId, Vec<Bytes>)>,
    pub last_id: StreamId,
    /// The first entry's ID (0-0 when empty).
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: Vec<GroupValue>,
}

/// A consumer group with its pending entries and consumers.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupValue {
    pub name: Bytes,
    pub last_id: StreamId,
    pub entries_read: Option<u64>,
    /// Pending entries in ID order, each with its owner.
    pub pending: Vec<(StreamId, Pending)>,
    /// Consumers by name: seen-time and active-time in ms (the pending count is derived).
    pub consumers: Vec<(Bytes, u64, u64)>,
}

impl Storage {
    /// The live value at `key` (lazily expiring it) with its expiry, None if missing.
    pub fn read_value(&self, pdb: u8, key: &[u8]) -> Result<Option<(Value, u64)>, StoreError> {
        let Some(rec) = self.get_alive(pdb, key)? else { return Ok(None) };
        let expire = rec.header.expire_at_ms;
        let v = match rec.key_type() {
            // The ordinary whole-string read (GET's), whatever the string's storage.
            KeyType::String => Value::String(StringStore::new(self, pdb).get(key)?.unwrap_or_else(|| rec.body())),
            KeyType::List => {
                let mut out = Vec::new();
                ListStore::new(self, pdb).range_each(key, 0, -1, |e| out.push(Bytes::copy_from_slice(e)))?;
                Value::List(out)
            }
            KeyType::Set => Value::Set(SetStore::new(self, pdb).members(key)?),
            KeyType::Hash => Value::Hash(HashStore::new(self, pdb).all(key)?.unwrap_or_default()),
            KeyType::ZSet => match self.zview(pdb, key)? {
                Some(z) => Value::ZSet(z.all()?),
                None => Value::ZSet(Vec::new()),
            },
            KeyType::Stream => match self.stream_view(pdb, key)? {
                Some(view) => Value::Stream(Box::new(read_stream(&view)?)),
                None => return Ok(None),
            },
        };
        Ok(Some((v, expire)))
    }

    /// RESTORE: writes `value` as `key` with expiry `expire_at_ms` (0 = none) in one batch,
    /// under the key's lock. A live key there is an error unless `replace`. An expiry already
    /// past writes nothing new and (with `replace`) deletes the key there.
    pub fn restore_value(
        &self,
        pdb: u8,
        key: &[u8],
        value: &Value,
        expire_at_ms: u64,
        replace: bool,
    ) -> Result<RestoreOutcome, StoreError> {
        let _g = self.lock(pdb, key)?;
        let now = self.clock.now_ms();
        let old = self.get_record(pdb, key)?;
        let live = old.as_ref().is_some_and(|r| r.alive(now));
        if live && !replace {
            return Ok(RestoreOutcome::Busy);
        }
        let mut b = self.batch();
        if expire_at_ms != 0 && expire_at_ms <= now {
            let Some(old) = old.as_ref() else { return Ok(RestoreOutcome::Expired { deleted: false }) };
            b.delete_record(pdb, key, old);
            if !live {
                b.note_expired(pdb, key);
            }
            b.commit()?;
            return Ok(RestoreOutcome::Expired { deleted: live });
        }
        let version = self.next_version();
        let prefix = encoding::subkey_prefix(pdb, key, version);
        let mut meta = CollMeta::new(value.key_type(), version);
        let record = match value {
            Value::String(s) => encoding::encode_string(expire_at_ms, s),
            Value::List(items) => {
                for (i, e) in items.iter().enumerate() {
                    let ix = encoding::LIST_MIDDLE + i as u64;
                    b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, &encoding::list_index(ix)), e.clone());
                }
                meta.size = items.len() as u64;
                meta.tail = meta.head + meta.size;
                meta.encode(expire_at_ms)
            }
            Value::Set(members) => {
                let mut nonint = false;
                for m in members {
                    nonint |= !super::is_intset_member(m);
                    b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, m), Bytes::new());
                }
                meta.size = members.len() as u64;
                self.limits.note_set(&mut meta, nonint);
                meta.encode(expire_at_ms)
            }
            Value::Hash(pairs) => {
                let mut longest = 0;
                for (f, v) in pairs {
                    longest = longest.max(f.len()).max(v.len());
                    b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, f), v.clone());
                }
                meta.size = pairs.len() as u64;
                self.limits.note_listpack(&mut meta, longest);
                meta.encode(expire_at_ms)
            }
            Value::ZSet(entries) => {
                let mut longest = 0;
                for (m, s) in entries {
                    let s = super::zset::norm(*s);
                    longest = longest.max(m.len());
                    b.put_sub(cf::SUBKEYS, encoding::subkey(&prefix, m), encoding::encode_score(s).to_vec());
                    b.put_sub(cf::ZSET_SCORE, encoding::zscore_key(&prefix, s, m), Bytes::new());
                }
                meta.size = entries.len() as u64;
                self.limits.note_listpack(&mut meta, longest);
                meta.encode(expire_at_ms)
            }
            Value::Stream(s) => {
                meta.size = s.entries.len() as u64;
                super::stream::write_whole(&mut b, &prefix, s);
                let m = StreamMeta {
                    coll: meta,
                    last_id: s.last_id,
                    max_deleted: s.max_deleted,
                    entries_added: s.entries_added,
                    groups: s.groups.len() as u64,
                    first_id: if s.entries.is_empty() { StreamId::MIN } else { s.first_id },
                };
                m.encode(expire_at_ms)
            }
        };
        b.put_record(pdb, key, old.as_ref(), record, expire_at_ms);
        b.commit()?;
        // A restored key is a new object for LRU/LFU, as in Redis.
        self.access.created(&encoding::meta_key(pdb, key));
        Ok(RestoreOutcome::Restored { replaced: live })
    }
}

/// What RESTORE did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// A live key is there and REPLACE was not given.
    Busy,
    /// The key was written; `replaced` = a live key was there.
    Restored { replaced: bool },
    /// The expiry had passed: nothing written; `deleted` = a live key there was deleted.
    Expired { deleted: bool },
}

fn read_stream(view: &super::stream::StreamView<'_>) -> Result<StreamValue, StoreError> {
    let m = view.meta;
    let entries = view.range(StreamId::MIN, StreamId::MAX, false, 0)?;
    let mut groups = Vec::new();
    for (name, g) in view.groups()? {
        let mut pending = Vec::new();
        view.walk_pending(&name, StreamId::MIN, |id, p| {
            pending.push((id, p));
            true
        })?;
        let consumers = view
            .consumers(&name)?
            .into_iter()
            .map(|(c, Consumer { seen_ms, active_ms, .. })| (c, seen_ms, active_ms))
            .collect();
        let Group { last_id, entries_read, .. } = g;
        groups.push(GroupValue { name, last_id, entries_read, pending, consumers });
    }
    Ok(StreamValue {
        first_id: if entries.is_empty() { StreamId::MIN } else { view.first_id()? },
        entries,
        last_id: m.last_id,
        max_deleted: m.max_deleted,
        entries_added: m.entries_added,
        groups,
    })
}
