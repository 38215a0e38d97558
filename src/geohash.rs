//! Geohash arithmetic as Redis has it (`src/geohash.c`, `src/geohash_helper.c`): 52-bit
//! interleaved cells on the Web Mercator latitude range, the neighbours of a cell, the nine
//! cells a radius or box search scans, and the haversine distance with Redis's earth radius.
//! Pure functions: the same inputs give Redis's scores, coordinates and distances to the bit.

/// Longitude limits.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitude limits (Web Mercator).
pub const LAT_MIN: f64 = -85.051_128_78;
pub const LAT_MAX: f64 = 85.051_128_78;
/// Steps (bits per coordinate) of a stored score.
pub const STEP_MAX: u8 = 26;
/// Redis's earth radius in meters.
pub const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
const MERCATOR_MAX: f64 = 20_037_726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A cell: interleaved bits (latitude on even bits, longitude on odd) at `step` bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bits {
    pub bits: u64,
    pub step: u8,
}

impl Bits {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A coordinate interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The box a cell covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

const LONG_RANGE: Range = Range { min: LONG_MIN, max: LONG_MAX };
const LAT_RANGE: Range = Range { min: LAT_MIN, max: LAT_MAX };

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// Redis's `geohashEncode` over the given ranges: None outside the limits.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<Bits> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(Bits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// `encode` on the WGS84 / Mercator ranges of stored scores.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<Bits> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, step)
}

/// Redis's `geohashDecode`: the box of a cell.
pub fn decode(long_range: Range, lat_range: Range, hash: Bits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / div) * long_scale,
        },
    })
}

/// The centre of a box, clamped to the limits (Redis's `geohashDecodeAreaToLongLat`).
fn area_to_long_lat(a: &Area) -> [f64; 2] {
    let x = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let y = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [x, y]
}

/// The (longitude, latitude) a stored score stands for: the centre of its 26-step cell.
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let hash = Bits { bits: score as u64, step: STEP_MAX };
    decode(LONG_RANGE, LAT_RANGE, hash).map(|a| area_to_long_lat(&a))
}

/// A cell's bits aligned to 52 bits (the stored score).
pub fn align52(hash: Bits) -> u64 {
    hash.bits << (52 - u32::from(hash.step) * 2)
}

/// The score GEOADD stores for a valid coordinate pair.
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(align52)
}

/// GEOHASH's 11-character string of a stored score (re-encoded on the standard -90..90 range).
pub fn hash_string(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [x, y] = decode_score(score)?;
    let hash = encode(Range { min: -180.0, max: 180.0 }, Range { min: -90.0, max: 90.0 }, x, y, 26)
        .unwrap_or(Bits { bits: 0, step: 26 });
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (hash.bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    Some(out)
}

fn move_x(hash: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> shift;
    hash.bits = x | y;
}

fn move_y(hash: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> shift;
    hash.bits = x | y;
}

/// The eight neighbours of a cell, in Redis's field order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Neighbors {
    pub north: Bits,
    pub east: Bits,
    pub west: Bits,
    pub south: Bits,
    pub north_east: Bits,
    pub south_east: Bits,
    pub north_west: Bits,
    pub south_west: Bits,
}

fn neighbors(hash: &Bits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut h = *hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        south_west: moved(-1, -1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
    }
}

/// What a search covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    /// BYRADIUS (in the unit of `conversion`).
    Radius(f64),
    /// BYBOX width, height (in the unit of `conversion`).
    Box(f64, f64),
}

/// A search shape: its centre, extent, and the unit's size in meters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub xy: [f64; 2],
    pub kind: ShapeKind,
    pub conversion: f64,
}

/// Redis's `geohashEstimateStepsByRadius`.
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// Redis's `geohashBoundingBox`: [min lon, min lat, max lon, max lat].
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box(w, h) => (shape.conversion * (h / 2.0), shape.conversion * (w / 2.0)),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    [
        if southern { longitude - long_delta_bottom } else { longitude - long_delta_top },
        latitude - lat_delta,
        if southern { longitude + long_delta_bottom } else { longitude + long_delta_top },
        latitude + lat_delta,
    ]
}

/// The cells a search scans, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW); cells that
/// cannot hold a match are zero (skipped).
pub fn search_cells(shape: &Shape) -> [Bits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let cell = |steps| {
        let hash = encode_wgs84(longitude, latitude, steps).unwrap_or(Bits { bits: 0, step: steps });
        let n = neighbors(&hash);
        let area = decode(LONG_RANGE, LAT_RANGE, hash);
        (hash, n, area)
    };
    let (mut hash, mut n, mut area) = cell(steps);
    let dec = |b: Bits| decode(LONG_RANGE, LAT_RANGE, b);
    let decrease = dec(n.north).is_some_and(|a| a.latitude.max < max_lat)
        || dec(n.south).is_some_and(|a| a.latitude.min > min_lat)
        || dec(n.east).is_some_and(|a| a.longitude.max < max_lon)
        || dec(n.west).is_some_and(|a| a.longitude.min > min_lon);
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = cell(steps);
    }
    if steps >= 2 {
        if let Some(area) = area {
            let zero = Bits::default();
            if area.latitude.min < min_lat {
                (n.south, n.south_west, n.south_east) = (zero, zero, zero);
            }
            if area.latitude.max > max_lat {
                (n.north, n.north_east, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.min < min_lon {
                (n.west, n.south_west, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.max > max_lon {
                (n.east, n.south_east, n.north_east) = (zero, zero, zero);
            }
        }
    }
    [hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
}

/// The score interval `[min, max)` of a cell (Redis's `scoresOfGeoHashBox`).
pub fn cell_scores(hash: Bits) -> (u64, u64) {
    let min = align52(hash);
    let max = align52(Bits { bits: hash.bits.wrapping_add(1), step: hash.step });
    (min, max)
}

/// Haversine distance in meters (Redis 7.0's `geohashGetDistance`).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lat1r = deg_rad(lat1d);
    let lon1r = deg_rad(lon1d);
    let lat2r = deg_rad(lat2d);
    let lon2r = deg_rad(lon2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// The distance (meters) of a point from the shape's centre if the point is inside the shape.
pub fn within(shape: &Shape, x: f64, y: f64) -> Option<f64> {
    let [cx, cy] = shape.xy;
    match shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(cx, cy, x, y);
            (d <= r * shape.conversion).then_some(d)
        }
        ShapeKind::Box(w, h) => {
            let (w, h) = (w * shape.conversion, h * shape.conversion);
            let lon_distance = distance(x, y, cx, y);
            let lat_distance = distance(x, y, x, cy);
            if lon_distance > w / 2.0 || lat_distance > h / 2.0 {
                return None;
            }
            Some(distance(cx, cy, x, y))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_matches_redis() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" stores 3479099956230698 in Redis.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        let [x, y] = decode_score(3479099956230698.0).unwrap();
        assert_eq!(format!("{x:.17}"), "13.36138933897018433");
        assert_eq!(format!("{y:.17}"), "38.11555639549629859");
        assert_eq!(&hash_string(3479099956230698.0).unwrap(), b"sqc8b49rny0");
        // GEODIST Sicily Palermo Catania = 166274.1516 m.
        let c = score_of(15.087269, 37.502669).unwrap();
        let [x2, y2] = decode_score(c as f64).unwrap();
        assert_eq!(format!("{:.4}", distance(x, y, x2, y2)), "166274.1516");
    }

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [(0u32, 0u32), (1, 2), (0x3ffffff, 0x1234567), (u32::MAX, 7)] {
            let sep = deinterleave64(interleave64(a, b));
            assert_eq!((sep as u32, (sep >> 32) as u32), (a, b));
        }
    }

    #[test]
    fn limits_and_edges() {
        assert!(score_of(180.0, 0.0).is_some());
        assert!(score_of(-180.0, LAT_MIN).is_some());
        assert!(score_of(180.1, 0.0).is_none());
        assert!(score_of(0.0, 85.06).is_none());
        // Cells near the poles and the antimeridian still decode within the limits.
        for s in [score_of(180.0, LAT_MAX).unwrap(), score_of(-180.0, LAT_MIN).unwrap()] {
            let [x, y] = decode_score(s as f64).unwrap();
            assert!((LONG_MIN..=LONG_MAX).contains(&x) && (LAT_MIN..=LAT_MAX).contains(&y));
        }
    }

    #[test]
    fn search_cells_cover_the_centre() {
        let shape = Shape { xy: [15.0, 37.0], kind: ShapeKind::Radius(200.0), conversion: 1000.0 };
        let cells = search_cells(&shape);
        let s = score_of(15.0, 37.0).unwrap();
        assert!(cells.iter().any(|c| {
            let (lo, hi) = cell_scores(*c);
            !c.is_zero() && lo <= s && s < hi
        }));
    }
}
