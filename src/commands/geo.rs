//! Geo commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
//! GEORADIUSBYMEMBER and their _RO forms.
//!
//! # Format
//! As Redis 7. A geo set is a sorted set whose scores are 52-bit geohashes (`crate::geohash`),
//! so ZRANGE and friends see Redis's scores. Searches scan Redis's nine cells by score range,
//! filter by the exact shape, then sort and cut as Redis's `georadiusGeneric` does.

use super::parse::{int, is, parse_f64};
use super::pubsub::fire;
use super::{with_db, CommandSpec, Ctx};
use crate::config::NotifyFlags as K;
use crate::error::{CmdError, CmdResult};
use crate::geohash::{self, Shape, ShapeKind};
use crate::reply::Reply;
use crate::storage::types::zset::{Entry, ZView};
use crate::{acl, cmd, flags};
use bytes::Bytes;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd!("geoadd", -5, flags!(WRITE, DENYOOM), 1, 1, 1, acl!(WRITE, GEO, SLOW), geoadd,
        "geo", "3.2.0", "Adds one or more members to a geospatial index. The key is created if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    cmd!("geopos", -2, flags!(READONLY), 1, 1, 1, acl!(READ, GEO, SLOW), geopos,
        "geo", "3.2.0", "Returns the longitude and latitude of members from a geospatial index.", "O(1) for each member requested."),
    cmd!("geodist", -4, flags!(READONLY), 1, 1, 1, acl!(READ, GEO, SLOW), geodist,
        "geo", "3.2.0", "Returns the distance between two members of a geospatial index.", "O(1)"),
    cmd!("geohash", -2, flags!(READONLY), 1, 1, 1, acl!(READ, GEO, SLOW), geohash_cmd,
        "geo", "3.2.0", "Returns members from a geospatial index as geohash strings.", "O(1) for each member requested."),
    cmd!("geosearch", -7, flags!(READONLY), 1, 1, 1, acl!(READ, GEO, SLOW), geosearch,
        "geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
    cmd!("geosearchstore", -8, flags!(WRITE, DENYOOM), 1, 2, 1, acl!(WRITE, GEO, SLOW), geosearchstore,
        "geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
    cmd!("georadius", -6, flags!(WRITE, DENYOOM, MOVABLEKEYS), 1, 1, 1, acl!(WRITE, GEO, SLOW), georadius,
        "geo", "3.2.0", "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    cmd!("georadius_ro", -6, flags!(READONLY), 1, 1, 1, acl!(READ, GEO, SLOW), georadius_ro,
        "geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a coordinate.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    cmd!("georadiusbymember", -5, flags!(WRITE, DENYOOM, MOVABLEKEYS), 1, 1, 1, acl!(WRITE, GEO, SLOW), georadiusbymember,
        "geo", "3.2.0", "Queries a geospatial index for members within a distance from a member, optionally stores the result.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    cmd!("georadiusbymember_ro", -5, flags!(READONLY), 1, 1, 1, acl!(READ, GEO, SLOW), georadiusbymember_ro,
        "geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a member.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
];

/// The store keys of GEORADIUS / GEORADIUSBYMEMBER (for COMMAND GETKEYS and locking): the
/// arguments after STORE / STOREDIST, as Redis's `georadiusGetKeys` finds them.
pub(crate) fn radius_store_keys<'a>(name: &str, args: &'a [Bytes]) -> Vec<&'a Bytes> {
    let base = if name.starts_with("georadiusbymember") { 5 } else { 6 };
    let mut out = Vec::new();
    let mut i = base;
    while i < args.len() {
        if (is(&args[i], "STORE") || is(&args[i], "STOREDIST")) && i + 1 < args.len() {
            out.push(&args[i + 1]);
            i += 1;
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

/// Redis's `extractLongLatOrReply`.
fn lonlat(lon: &[u8], lat: &[u8]) -> CmdResult<[f64; 2]> {
    let x = parse_f64(lon).ok_or(CmdError::NotFloat)?;
    let y = parse_f64(lat).ok_or(CmdError::NotFloat)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x) || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y) {
        return Err(CmdError::err(format!("invalid longitude,latitude pair {x:.6},{y:.6}")));
    }
    Ok([x, y])
}

/// Meters per unit (Redis's `extractUnitOrReply`).
fn unit(u: &[u8]) -> CmdResult<f64> {
    if is(u, "m") {
        Ok(1.0)
    } else if is(u, "km") {
        Ok(1000.0)
    } else if is(u, "ft") {
        Ok(0.3048)
    } else if is(u, "mi") {
        Ok(1609.34)
    } else {
        Err(CmdError::err("unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// Radius and unit (Redis's `extractDistanceOrReply`).
fn radius(r: &[u8], u: &[u8]) -> CmdResult<(f64, f64)> {
    let d = parse_f64(r).ok_or_else(|| CmdError::err("need numeric radius"))?;
    if d < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((d, unit(u)?))
}

/// Width, height and unit (Redis's `extractBoxOrReply`).
fn boxsize(w: &[u8], h: &[u8], u: &[u8]) -> CmdResult<(f64, f64, f64)> {
    let w = parse_f64(w).ok_or_else(|| CmdError::err("need numeric width"))?;
    let h = parse_f64(h).ok_or_else(|| CmdError::err("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((w, h, unit(u)?))
}

/// A coordinate as Redis's `addReplyHumanLongDouble` spells it: 17 decimals, trailing zeros cut.
fn human(v: f64) -> Reply {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    Reply::DoubleText(Bytes::from(s))
}

fn coords_reply(xy: [f64; 2]) -> Reply {
    Reply::Array(vec![human(xy[0]), human(xy[1])])
}

fn distance_reply(d: f64) -> Reply {
    Reply::bulk(format!("{d:.4}").into_bytes())
}

/// The position of a member (Redis's `longLatFromMember`).
fn member_xy(v: &ZView<'_>, member: &[u8]) -> CmdResult<Option<[f64; 2]>> {
    Ok(v.score(member)?.and_then(geohash::decode_score))
}

/// Runs `f` over the sorted set at `key` under its lock (None if missing).
fn read<R>(ctx: &Ctx<'_>, key: &[u8], f: impl FnOnce(Option<&ZView<'_>>) -> CmdResult<R>) -> CmdResult<R> {
    with_db(ctx, |st, pdb| {
        let _g = st.lock(pdb, key)?;
        let v = st.zview_locked(pdb, key)?;
        f(v.as_ref())
    })
}

// ---------------------------------------------------------------------------------------------
// GEOADD, GEOPOS, GEODIST, GEOHASH
// ---------------------------------------------------------------------------------------------

fn geoadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut i = 2;
    while i < args.len() {
        if is(&args[i], "NX") {
            nx = true;
        } else if is(&args[i], "XX") {
            xx = true;
        } else if is(&args[i], "CH") {
            ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if !rest.len().is_multiple_of(3) || (xx && nx) || rest.is_empty() {
        return Err(CmdError::Syntax);
    }
    let mut points = Vec::with_capacity(rest.len() / 3);
    for t in rest.chunks(3) {
        let [x, y] = lonlat(&t[0], &t[1])?;
        let score = geohash::score_of(x, y).ok_or(CmdError::Syntax)?;
        points.push((score as f64, &t[2]));
    }
    let (added, updated) = with_db(ctx, |st, pdb| {
        st.zwrite(pdb, &args[1], |w| {
            let (mut added, mut updated) = (0i64, 0i64);
            if !w.existed() && xx {
                return Ok((0, 0));
            }
            let members: Vec<&[u8]> = points.iter().map(|(_, m)| m.as_ref()).collect();
            w.prefetch(&members)?;
            for &(score, member) in &points {
                match w.score(member)? {
                    Some(_) if nx => {}
                    Some(cur) => {
                        if cur != score {
                            w.set(member, Some(cur), score);
                            updated += 1;
                        }
                    }
                    None if xx => {}
                    None => {
                        w.set(member, None, score);
                        added += 1;
                    }
                }
            }
            Ok::<_, CmdError>((added, updated))
        })
    })?;
    if added > 0 || updated > 0 {
        fire(ctx, K::ZSET, "zadd", &args[1]);
    }
    Ok(Reply::Int(if ch { added + updated } else { added }))
}

fn geopos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    read(ctx, &args[1], |v| {
        let mut out = Vec::with_capacity(args.len() - 2);
        for m in &args[2..] {
            let xy = match v {
                Some(v) => member_xy(v, m)?,
                None => None,
            };
            out.push(xy.map(coords_reply).unwrap_or(Reply::NullArray));
        }
        Ok(Reply::Array(out))
    })
}

fn geodist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    let to_meter = match args.len() {
        5 => unit(&args[4])?,
        4 => 1.0,
        _ => return Err(CmdError::Syntax),
    };
    read(ctx, &args[1], |v| {
        let Some(v) = v else { return Ok(Reply::Null) };
        let (Some(a), Some(b)) = (v.score(&args[2])?, v.score(&args[3])?) else { return Ok(Reply::Null) };
        let (Some(a), Some(b)) = (geohash::decode_score(a), geohash::decode_score(b)) else { return Ok(Reply::Null) };
        Ok(distance_reply(geohash::distance(a[0], a[1], b[0], b[1]) / to_meter))
    })
}

fn geohash_cmd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    read(ctx, &args[1], |v| {
        let mut out = Vec::with_capacity(args.len() - 2);
        for m in &args[2..] {
            let s = match v {
                Some(v) => v.score(m)?.and_then(geohash::hash_string),
                None => None,
            };
            out.push(s.map(|s| Reply::bulk(s.to_vec())).unwrap_or(Reply::Null));
        }
        Ok(Reply::Array(out))
    })
}

// ---------------------------------------------------------------------------------------------
// Searches (Redis's georadiusGeneric)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct Mode {
    /// GEORADIUS: around coordinates.
    coords: bool,
    /// GEORADIUSBYMEMBER: around a member.
    member: bool,
    /// The _RO forms: no STORE / STOREDIST.
    nostore: bool,
    /// GEOSEARCH / GEOSEARCHSTORE.
    search: bool,
    /// GEOSEARCHSTORE.
    searchstore: bool,
}

fn geosearch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    search_generic(ctx, args, 1, Mode { search: true, ..Mode::default() })
}

fn geosearchstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    search_generic(ctx, args, 2, Mode { search: true, searchstore: true, ..Mode::default() })
}

fn georadius(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    search_generic(ctx, args, 1, Mode { coords: true, ..Mode::default() })
}

fn georadius_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    search_generic(ctx, args, 1, Mode { coords: true, nostore: true, ..Mode::default() })
}

fn georadiusbymember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    search_generic(ctx, args, 1, Mode { member: true, ..Mode::default() })
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult<Reply> {
    search_generic(ctx, args, 1, Mode { member: true, nostore: true, ..Mode::default() })
}

/// One match.
struct Point {
    member: Bytes,
    score: f64,
    xy: [f64; 2],
    dist: f64,
}

/// What a search asked for, once parsed.
#[derive(Default)]
struct Request {
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    /// 0 = none, 1 = ASC, 2 = DESC.
    sort: u8,
    any: bool,
    count: i64,
    storedist: bool,
}

/// The outcome of a search before the reply: matches, or the destination written.
enum Outcome {
    Reply(Reply),
    Stored(i64),
}

fn search_generic(ctx: &mut Ctx<'_>, args: &[Bytes], src: usize, mode: Mode) -> CmdResult<Reply> {
    // The destination is known from the arguments alone, so both keys can be locked first.
    let store_key: Option<Bytes> = if mode.searchstore {
        Some(args[1].clone())
    } else if mode.nostore || mode.search {
        None
    } else {
        radius_store_keys(if mode.member { "georadiusbymember" } else { "georadius" }, args)
            .last()
            .map(|k| (*k).clone())
    };
    let event = if mode.search { "geosearchstore" } else { "georadiusstore" };
    let outcome = with_db(ctx, |st, pdb| {
        let srckey = &args[src];
        let _g = match &store_key {
            Some(dst) => st.lock_many([(pdb, srckey.as_ref()), (pdb, dst.as_ref())])?,
            None => st.lock(pdb, srckey)?,
        };
        let view = st.zview_locked(pdb, srckey)?;
        let (shape, req, storekey) = parse_search(args, mode, view.as_ref())?;
        let Some(view) = view else {
            return Ok(match storekey {
                Some(dst) => {
                    st.zstore_locked(pdb, dst, &[])?;
                    Outcome::Stored(0)
                }
                None => Outcome::Reply(Reply::Array(Vec::new())),
            });
        };
        let Some(shape) = shape else { return Err(CmdError::Syntax) };
        let mut sort = req.sort;
        if req.count != 0 && sort == 0 && !req.any {
            sort = 1;
        }
        let limit = if req.any { req.count as usize } else { 0 };
        let mut points = collect(&view, &shape, limit)?;
        if points.is_empty() && storekey.is_none() {
            return Ok(Outcome::Reply(Reply::Array(Vec::new())));
        }
        match sort {
            1 => points.sort_by(|a, b| a.dist.partial_cmp(&b.dist).unwrap_or(std::cmp::Ordering::Equal)),
            2 => points.sort_by(|a, b| b.dist.partial_cmp(&a.dist).unwrap_or(std::cmp::Ordering::Equal)),
            _ => {}
        }
        let returned = if req.count == 0 { points.len() } else { points.len().min(req.count as usize) };
        points.truncate(returned);
        for p in &mut points {
            p.dist /= shape.conversion;
        }
        if let Some(dst) = storekey {
            let mut seen = std::collections::HashSet::new();
            let entries: Vec<Entry> = points
                .into_iter()
                .filter(|p| seen.insert(p.member.clone()))
                .map(|p| (p.member, if req.storedist { p.dist } else { p.score }))
                .collect();
            st.zstore_locked(pdb, dst, &entries)?;
            return Ok(Outcome::Stored(entries.len() as i64));
        }
        let options = usize::from(req.withdist) + usize::from(req.withhash) + usize::from(req.withcoord);
        let out = points
            .into_iter()
            .map(|p| {
                if options == 0 {
                    return Reply::Bulk(p.member);
                }
                let mut item = Vec::with_capacity(options + 1);
                item.push(Reply::Bulk(p.member));
                if req.withdist {
                    item.push(distance_reply(p.dist));
                }
                if req.withhash {
                    item.push(Reply::Int(p.score as i64));
                }
                if req.withcoord {
                    item.push(coords_reply(p.xy));
                }
                Reply::Array(item)
            })
            .collect();
        Ok(Outcome::Reply(Reply::Array(out)))
    })?;
    match outcome {
        Outcome::Reply(r) => Ok(r),
        Outcome::Stored(n) => {
            if n > 0 {
                if let Some(dst) = &store_key {
                    fire(ctx, K::ZSET, event, dst);
                }
            }
            Ok(Reply::Int(n))
        }
    }
}

/// Parses a search's arguments in Redis's order (so the same error wins): the shape (None when
/// the source is missing and the shape can't be known), the options, and the store key.
fn parse_search<'a>(
    args: &'a [Bytes],
    mode: Mode,
    view: Option<&ZView<'_>>,
) -> CmdResult<(Option<Shape>, Request, Option<&'a Bytes>)> {
    let mut xy: Option<[f64; 2]> = None;
    let mut kind: Option<(ShapeKind, f64)> = None;
    let mut storekey: Option<&Bytes> = None;
    let base;
    if mode.coords {
        base = 6;
        xy = Some(lonlat(&args[2], &args[3])?);
        let (r, conv) = radius(&args[4], &args[5])?;
        kind = Some((ShapeKind::Radius(r), conv));
    } else if mode.member {
        base = 5;
        if let Some(v) = view {
            xy = Some(member_xy(v, &args[2])?.ok_or_else(|| CmdError::err("could not decode requested zset member"))?);
            let (r, conv) = radius(&args[3], &args[4])?;
            kind = Some((ShapeKind::Radius(r), conv));
        }
    } else if mode.searchstore {
        base = 3;
        storekey = Some(&args[1]);
    } else {
        base = 2;
    }
    let mut req = Request::default();
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let arg = &args[base + i];
        let at = |k: usize| &args[base + i + k];
        if is(arg, "withdist") {
            req.withdist = true;
        } else if is(arg, "withhash") {
            req.withhash = true;
        } else if is(arg, "withcoord") {
            req.withcoord = true;
        } else if is(arg, "any") {
            req.any = true;
        } else if is(arg, "asc") {
            req.sort = 1;
        } else if is(arg, "desc") {
            req.sort = 2;
        } else if is(arg, "count") && i + 1 < remaining {
            req.count = int(at(1))?;
            if req.count <= 0 {
                return Err(CmdError::err("COUNT must be > 0"));
            }
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist")) && i + 1 < remaining && !mode.nostore && !mode.search {
            storekey = Some(at(1));
            req.storedist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && mode.search && mode.searchstore {
            req.storedist = true;
        } else if is(arg, "frommember") && i + 1 < remaining && mode.search && !fromloc {
            if let Some(v) = view {
                xy = Some(member_xy(v, at(1))?.ok_or_else(|| CmdError::err("could not decode requested zset member"))?);
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && i + 2 < remaining && mode.search && !frommember {
            xy = Some(lonlat(at(1), at(2))?);
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && i + 2 < remaining && mode.search && !bybox {
            let (r, conv) = radius(at(1), at(2))?;
            kind = Some((ShapeKind::Radius(r), conv));
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && i + 3 < remaining && mode.search && !byradius {
            let (w, h, conv) = boxsize(at(1), at(2), at(3))?;
            kind = Some((ShapeKind::Box(w, h), conv));
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if storekey.is_some() && (req.withdist || req.withhash || req.withcoord) {
        return Err(CmdError::err(format!(
            "{} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if mode.searchstore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" }
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if mode.search && !(frommember || fromloc) {
        return Err(CmdError::err(format!("exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if mode.search && !(byradius || bybox) {
        return Err(CmdError::err(format!("exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if req.any && req.count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    let shape = match (xy, kind) {
        (Some(xy), Some((kind, conversion))) => Some(Shape { xy, kind, conversion }),
        _ => None,
    };
    Ok((shape, req, storekey))
}

/// The matches of the nine cells, in Redis's scan order (stopping at `limit` matches if not 0).
fn collect(view: &ZView<'_>, shape: &Shape, limit: usize) -> CmdResult<Vec<Point>> {
    let cells = geohash::search_cells(shape);
    let mut out: Vec<Point> = Vec::new();
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.bits == 0 && cell.step == 0 {
            continue;
        }
        // Huge radii make neighbouring cells repeat: skip a cell equal to the one just scanned
        // (Redis compares with the last processed one, never the centre).
        if let Some(l) = last.filter(|&l| l != 0) {
            if cells[l] == *cell {
                continue;
            }
        }
        if limit != 0 && out.len() >= limit {
            break;
        }
        let (min, max) = geohash::cell_scores(*cell);
        view.walk_score_range(min as f64, max as f64, |score, member| {
            let Some(xy) = geohash::decode_score(score) else { return true };
            if let Some(dist) = geohash::within(shape, xy[0], xy[1]) {
                out.push(Point { member: Bytes::copy_from_slice(member), score, xy, dist });
                if limit != 0 && out.len() >= limit {
                    return false;
                }
            }
            true
        })?;
        last = Some(i);
    }
    Ok(out)
}
