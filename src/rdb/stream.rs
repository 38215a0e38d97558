//! Streams in RDB: radix-tree nodes as (master ID, listpack) pairs, then the stream's IDs and
//! counters, then consumer groups with their PELs and consumers (Redis's `rdbSaveObject` /
//! `rdbLoadObject` for `OBJ_STREAM`, layouts 1 (5.0), 2 (7.0) and 3 (7.2)).
//!
//! A node's listpack starts with a master entry (`count`, `deleted`, the number of master
//! fields, the field names, a 0 terminator); each entry is `flags`, `ms-diff`, `seq-diff` (from
//! the master ID), then either the values alone (flag SAMEFIELDS: the master's fields) or a
//! field count and field/value pairs, and finally its `lp-count`.

use super::listpack::{parse_listpack, Elem, ListpackWriter};
use super::{bad, types, Bad, Reader, Writer, R};
use crate::storage::types::stream::{Pending, StreamId};
use crate::storage::types::value::{GroupValue, StreamValue};
use bytes::Bytes;
use std::collections::BTreeMap;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Entries per node Strata writes (Redis's `stream-node-max-entries` default).
const NODE_ENTRIES: usize = 100;

fn id_of(raw: &[u8]) -> R<StreamId> {
    if raw.len() != 16 {
        return bad();
    }
    StreamId::from_bytes(raw).ok_or(Bad)
}

fn int(e: Option<&Elem<'_>>) -> R<i64> {
    e.and_then(|e| e.to_int()).ok_or(Bad)
}

/// The entries of one node (deleted ones skipped), appended to `out`.
fn load_node(master: StreamId, lp: &[u8], out: &mut Vec<(StreamId, Vec<Bytes>)>) -> R<()> {
    let el = parse_listpack(lp).ok_or(Bad)?;
    if el.is_empty() {
        return bad();
    }
    let count = int(el.first())?;
    let deleted = int(el.get(1))?;
    let nmaster = usize::try_from(int(el.get(2))?).map_err(|_| Bad)?;
    let fields_end = 3usize.checked_add(nmaster).ok_or(Bad)?;
    let master_fields = el.get(3..fields_end).ok_or(Bad)?;
    if int(el.get(fields_end))? != 0 {
        return bad();
    }
    let mut i = fields_end + 1;
    let (mut live, mut dead) = (0i64, 0i64);
    let mut last: Option<StreamId> = None;
    while i < el.len() {
        let start = i;
        let flags = int(el.get(i))?;
        let ms = master.ms.wrapping_add(int(el.get(i + 1))? as u64);
        let seq = master.seq.wrapping_add(int(el.get(i + 2))? as u64);
        i += 3;
        let id = StreamId::new(ms, seq);
        if last.is_some_and(|l| id <= l) {
            return bad();
        }
        last = Some(id);
        let mut fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            let values = el.get(i..i.checked_add(nmaster).ok_or(Bad)?).ok_or(Bad)?;
            for (f, v) in master_fields.iter().zip(values) {
                fields.push(f.to_bytes());
                fields.push(v.to_bytes());
            }
            i += nmaster;
        } else {
            let n = usize::try_from(int(el.get(i))?).map_err(|_| Bad)?;
            i += 1;
            let pairs = el.get(i..n.checked_mul(2).and_then(|m| i.checked_add(m)).ok_or(Bad)?).ok_or(Bad)?;
            fields.extend(pairs.iter().map(|e| e.to_bytes()));
            i += 2 * n;
        }
        if int(el.get(i))? != (i - start) as i64 {
            return bad();
        }
        i += 1;
        if flags & FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
            out.push((id, fields));
        }
    }
    if live != count || dead != deleted {
        return bad();
    }
    Ok(())
}

/// Redis's `streamEstimateDistanceFromFirstEverEntry`, for groups of layout-1 streams.
fn estimate_entries_read(s: &StreamValue, id: StreamId) -> Option<u64> {
    let len = s.entries.len() as u64;
    if s.entries_added == 0 {
        return Some(0);
    }
    if (len == 0 && id <= s.last_id) || id == s.last_id {
        return Some(s.entries_added);
    }
    if id > s.last_id {
        return None;
    }
    if s.max_deleted.is_zero() || s.max_deleted < s.first_id {
        if id < s.first_id {
            return Some(s.entries_added - len);
        }
        if id == s.first_id {
            return Some(s.entries_added - len + 1);
        }
    }
    None
}

pub(super) fn load(r: &mut Reader<'_>, t: u8) -> R<StreamValue> {
    let nodes = r.count()?;
    let mut s = StreamValue::default();
    for _ in 0..nodes {
        let master = id_of(&r.string()?)?;
        let lp = r.string()?;
        if s.entries.last().is_some_and(|(l, _)| master <= *l) {
            return bad();
        }
        load_node(master, &lp, &mut s.entries)?;
    }
    let length = r.len()?;
    if length != s.entries.len() as u64 {
        return bad();
    }
    s.last_id = StreamId::new(r.len()?, r.len()?);
    if s.entries.last().is_some_and(|(l, _)| *l > s.last_id) {
        return bad();
    }
    if t == types::STREAM_LISTPACKS {
        s.first_id = s.entries.first().map_or(StreamId::MIN, |(id, _)| *id);
        s.entries_added = length;
    } else {
        s.first_id = StreamId::new(r.len()?, r.len()?);
        s.max_deleted = StreamId::new(r.len()?, r.len()?);
        s.entries_added = r.len()?;
        if let Some((first, _)) = s.entries.first() {
            s.first_id = *first;
        }
    }
    let ngroups = r.count()?;
    let mut names = std::collections::HashSet::new();
    for _ in 0..ngroups {
        let name = r.string()?;
        if !names.insert(name.clone()) {
            return bad();
        }
        let last_id = StreamId::new(r.len()?, r.len()?);
        let entries_read = if t == types::STREAM_LISTPACKS {
            estimate_entries_read(&s, last_id)
        } else {
            let n = r.len()?;
            (n as i64 >= 0).then_some(n)
        };
        // The group's PEL: ID → (delivery time, deliveries, owner).
        let mut pel: BTreeMap<StreamId, (u64, u64, Option<Bytes>)> = BTreeMap::new();
        let npel = r.count()?;
        for _ in 0..npel {
            let id = id_of(r.raw(16)?)?;
            let at = r.millis()?.max(0) as u64;
            let n = r.len()?;
            if pel.insert(id, (at, n, None)).is_some() {
                return bad();
            }
        }
        let nconsumers = r.count()?;
        let mut consumers = Vec::with_capacity(nconsumers);
        for _ in 0..nconsumers {
            let cname = r.string()?;
            let seen = r.millis()?.max(0) as u64;
            let active = if t == types::STREAM_LISTPACKS_3 { r.millis()? } else { seen as i64 };
            // Redis's -1 (never active) is Strata's 0.
            let active = if active < 0 { 0 } else { active as u64 };
            let owned = r.count()?;
            for _ in 0..owned {
                let id = id_of(r.raw(16)?)?;
                match pel.get_mut(&id) {
                    Some((_, _, owner @ None)) => *owner = Some(cname.clone()),
                    _ => return bad(),
                }
            }
            if consumers.iter().any(|(c, _, _): &(Bytes, u64, u64)| *c == cname) {
                return bad();
            }
            consumers.push((cname, seen, active));
        }
        let mut pending = Vec::with_capacity(pel.len());
        for (id, (delivery_ms, deliveries, owner)) in pel {
            let consumer = owner.ok_or(Bad)?;
            pending.push((id, Pending { delivery_ms, deliveries, consumer }));
        }
        s.groups.push(GroupValue { name, last_id, entries_read, pending, consumers });
    }
    Ok(s)
}

/// Writes `s` in layout 2 (STREAM_LISTPACKS_2): nodes of up to `NODE_ENTRIES` entries, each
/// master holding its first entry's fields.
pub(super) fn dump(w: &mut Writer, s: &StreamValue) {
    let chunks: Vec<&[(StreamId, Vec<Bytes>)]> = s.entries.chunks(NODE_ENTRIES).collect();
    w.len(chunks.len() as u64);
    for chunk in chunks {
        let Some((master, first_fields)) = chunk.first() else { continue };
        let master_fields: Vec<&Bytes> = first_fields.iter().step_by(2).collect();
        let mut lp = ListpackWriter::default();
        lp.push_int(chunk.len() as i64);
        lp.push_int(0);
        lp.push_int(master_fields.len() as i64);
        for f in &master_fields {
            lp.push(f);
        }
        lp.push_int(0);
        for (id, fields) in chunk {
            let names_match = fields.len() == 2 * master_fields.len()
                && fields.iter().step_by(2).zip(&master_fields).all(|(a, b)| a == *b);
            lp.push_int(if names_match { FLAG_SAMEFIELDS } else { 0 });
            lp.push_int(id.ms.wrapping_sub(master.ms) as i64);
            lp.push_int(id.seq.wrapping_sub(master.seq) as i64);
            let n = fields.len() / 2;
            if names_match {
                for v in fields.iter().skip(1).step_by(2) {
                    lp.push(v);
                }
                lp.push_int(n as i64 + 3);
            } else {
                lp.push_int(n as i64);
                for f in fields {
                    lp.push(f);
                }
                lp.push_int(2 * n as i64 + 4);
            }
        }
        w.string(&master.to_bytes());
        w.string(&lp.finish());
    }
    w.len(s.entries.len() as u64);
    for id in [s.last_id, s.first_id, s.max_deleted] {
        w.len(id.ms);
        w.len(id.seq);
    }
    w.len(s.entries_added);
    w.len(s.groups.len() as u64);
    for g in &s.groups {
        w.string(&g.name);
        w.len(g.last_id.ms);
        w.len(g.last_id.seq);
        w.len(g.entries_read.unwrap_or(u64::MAX));
        w.len(g.pending.len() as u64);
        for (id, p) in &g.pending {
            w.raw(&id.to_bytes());
            w.raw(&(p.delivery_ms as i64).to_le_bytes());
            w.len(p.deliveries);
        }
        w.len(g.consumers.len() as u64);
        for (name, seen, _active) in &g.consumers {
            w.string(name);
            w.raw(&(*seen as i64).to_le_bytes());
            let owned: Vec<&StreamId> =
                g.pending.iter().filter(|(_, p)| p.consumer == *name).map(|(id, _)| id).collect();
            w.len(owned.len() as u64);
            for id in owned {
                w.raw(&id.to_bytes());
            }
        }
    }
}
