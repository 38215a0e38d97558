//! HyperLogLog: Redis's representation (`src/hyperloglog.c`) bit for bit, as pure functions over
//! the bytes of a string value.
//!
//! A value is a 16-byte header (`HYLL`, the encoding byte, three zero bytes, the cached
//! cardinality little-endian with its top bit meaning "stale") followed by either 16384 dense
//! 6-bit registers or the sparse ZERO / XZERO / VAL opcodes. Elements hash with MurmurHash64A
//! (seed `0xadc83b19`) and counts use Ertl's improved estimator (Redis ≥ 5), so a value made by
//! Redis counts the same here and PFADD into it yields the same bytes. Nothing here touches
//! storage or replies.

/// Header bytes.
pub const HDR_SIZE: usize = 16;
/// Register index bits.
const P: u32 = 14;
/// Hash bits left for the zero run (64 - P).
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = (REGISTERS - 1) as u64;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Bytes of a dense value.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
/// Encoding byte of the dense representation.
pub const DENSE: u8 = 0;
/// Encoding byte of the sparse representation.
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// The value is not a valid HLL (Redis's `-INVALIDOBJ Corrupted HLL object detected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's `isHLLObjectOrReply` checks (after the string type check): header, magic, a known
/// encoding, and the exact length of a dense value.
pub fn is_valid(v: &[u8]) -> bool {
    v.len() >= HDR_SIZE && &v[..4] == b"HYLL" && v[4] <= MAX_ENCODING && (v[4] != DENSE || v.len() == DENSE_SIZE)
}

/// An empty HLL as Redis's `createHLLObject` makes it: sparse, one XZERO covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = vec![0u8; HDR_SIZE];
    v[..4].copy_from_slice(b"HYLL");
    v[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        let mut op = [0u8; 2];
        xzero_set(&mut op, n);
        v.extend_from_slice(&op);
        left -= n;
    }
    v
}

/// MurmurHash64A as Redis has it (endian neutral).
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `000..1` pattern (Redis's `hllPatLen`).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ------------------------------------------------------------------------------------------
// Dense
// ------------------------------------------------------------------------------------------

/// Register `i` of dense registers (the byte after the last register reads as zero, as the sds
/// terminator does in Redis).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u32::from(REGISTER_MAX)) as u8
}

/// Sets register `i` of dense registers to `v`.
pub fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let fb8 = 8 - fb;
    let v = u32::from(v);
    let max = u32::from(REGISTER_MAX);
    regs[byte] &= !((max << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((max >> fb8) as u8);
        *b |= (v >> fb8) as u8;
    }
}

/// Raises register `i` to `count` if lower; whether it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// ------------------------------------------------------------------------------------------
// Sparse
// ------------------------------------------------------------------------------------------

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn zero_len(b: u8) -> usize {
    usize::from(b & 0x3f) + 1
}

/// Length of an XZERO opcode; a truncated one (no second byte) reads it as zero, as the sds
/// terminator does in Redis.
fn xzero_len(b: u8, b2: Option<&u8>) -> usize {
    ((usize::from(b & 0x3f) << 8) | usize::from(b2.copied().unwrap_or(0))) + 1
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    usize::from(b & 0x3) + 1
}

fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2) | (len as u8 - 1) | 0x80
}

fn xzero_set(p: &mut [u8], len: usize) {
    let l = len - 1;
    p[0] = (l >> 8) as u8 | 0x40;
    p[1] = (l & 0xff) as u8;
}

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `n` registers at zero (ZERO, or XZERO when `long`).
    Zero { n: usize, long: bool },
    /// `n` registers at `value`.
    Val { value: u8, n: usize },
}

/// The opcodes of sparse bytes (after the header), in order.
pub fn sparse_ops(sparse: &[u8]) -> impl Iterator<Item = Op> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *sparse.get(i)?;
        Some(if is_zero(b) {
            i += 1;
            Op::Zero { n: zero_len(b), long: false }
        } else if is_xzero(b) {
            let n = xzero_len(b, sparse.get(i + 1));
            i += 2;
            Op::Zero { n, long: true }
        } else {
            i += 1;
            Op::Val { value: val_value(b), n: val_len(b) }
        })
    })
}

/// Converts a sparse value to dense in place (Redis's `hllSparseToDense`); a dense one is left
/// alone. The header (with the cached cardinality) is kept.
pub fn sparse_to_dense(hll: &mut Vec<u8>) -> Result<(), Corrupt> {
    if hll[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&hll[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let mut idx = 0usize;
    for op in sparse_ops(&hll[HDR_SIZE..]) {
        match op {
            Op::Zero { n, .. } => idx += n,
            Op::Val { value, n } => {
                if idx + n > REGISTERS {
                    break;
                }
                for _ in 0..n {
                    dense_set(regs, idx, value);
                    idx += 1;
                }
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *hll = dense;
    Ok(())
}

/// Raises register `index` of a sparse value to `count` (Redis's `hllSparseSet`): whether it
/// changed. Promotes to dense when the value can't be held sparse or the result would pass
/// `sparse_max` bytes.
fn sparse_set(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Step 1: the opcode covering `index`.
    let end = hll.len();
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let b = hll[p];
        let mut oplen = 1;
        if is_zero(b) {
            span = zero_len(b);
        } else if is_val(b) {
            span = val_len(b);
        } else {
            span = xzero_len(b, hll.get(p + 1));
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = hll[p];
    let (zero, xzero) = (is_zero(b), is_xzero(b));
    let runlen = if zero {
        zero_len(b)
    } else if xzero {
        xzero_len(b, hll.get(p + 1))
    } else {
        val_len(b)
    };

    // Step 2: the trivial cases, then the split.
    let simple = if !zero && !xzero {
        if val_value(b) >= count {
            return Ok(false);
        }
        runlen == 1
    } else {
        zero && runlen == 1
    };
    if simple {
        hll[p] = val_op(count, 1);
    } else {
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        if zero || xzero {
            let put_zeros = |seq: &mut [u8; 5], n: &mut usize, len: usize| {
                if len > SPARSE_ZERO_MAX_LEN {
                    xzero_set(&mut seq[*n..], len);
                    *n += 2;
                } else {
                    seq[*n] = (len - 1) as u8;
                    *n += 1;
                }
            };
            if index != first {
                put_zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                put_zeros(&mut seq, &mut n, last - index);
            }
        } else {
            let cur = val_value(b);
            if index != first {
                seq[n] = val_op(cur, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(cur, last - index);
                n += 1;
            }
        }
        // Step 3: put the new sequence in place of the old opcode.
        let oldlen = if xzero { 2 } else { 1 };
        if n > oldlen && hll.len() + (n - oldlen) > sparse_max {
            return promote(hll, index, count);
        }
        hll.splice(p..p + oldlen, seq[..n].iter().copied());
    }

    // Step 4: merge adjacent VAL opcodes of the same value, up to 5 opcodes from `prev`.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < hll.len() && scan > 0 {
        scan -= 1;
        let b = hll[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < hll.len() && is_val(hll[p + 1]) {
            let (v1, v2) = (val_value(b), val_value(hll[p + 1]));
            if v1 == v2 {
                let len = val_len(b) + val_len(hll[p + 1]);
                if len <= SPARSE_VAL_MAX_LEN {
                    hll[p + 1] = val_op(v1, len);
                    hll.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(hll);
    Ok(true)
}

fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(hll)?;
    dense_raise(&mut hll[HDR_SIZE..], index, count);
    Ok(true)
}

// ------------------------------------------------------------------------------------------
// Operations on whole values
// ------------------------------------------------------------------------------------------

/// Marks the cached cardinality stale.
pub fn invalidate_cache(hll: &mut [u8]) {
    hll[15] |= 0x80;
}

/// The cached cardinality, if valid.
pub fn cached(hll: &[u8]) -> Option<u64> {
    if hll[15] & 0x80 != 0 {
        return None;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&hll[8..16]);
    Some(u64::from_le_bytes(b))
}

/// Stores `card` as the cached cardinality (valid).
pub fn set_cached(hll: &mut [u8], card: u64) {
    hll[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Adds one element (Redis's `hllAdd`): whether a register changed. `hll` must be valid.
pub fn add(hll: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    set_register(hll, index, count, sparse_max)
}

/// Raises one register of a valid value, whatever its encoding.
pub fn set_register(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    match hll[4] {
        DENSE => Ok(dense_raise(&mut hll[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(hll, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// `max[i] = MAX(max[i], register i)` over a valid value (Redis's `hllMerge`).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if hll[4] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate() {
            let v = dense_get(regs, i);
            if v > *m {
                *m = v;
            }
        }
        return Ok(());
    }
    let mut i = 0usize;
    for op in sparse_ops(&hll[HDR_SIZE..]) {
        match op {
            Op::Zero { n, .. } => i += n,
            Op::Val { value, n } => {
                if i + n > REGISTERS {
                    break;
                }
                for m in &mut max[i..i + n] {
                    if value > *m {
                        *m = value;
                    }
                }
                i += n;
            }
        }
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (Ertl's estimator, as Redis's `hllCount`).
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histo[Q + 1])) / m);
    for j in (1..=Q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The cardinality of a valid value, ignoring its cache. A sparse value whose opcodes don't
/// cover exactly every register is corrupt.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if hll[4] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for i in 0..REGISTERS {
            histo[usize::from(dense_get(regs, i))] += 1;
        }
    } else {
        let mut idx = 0usize;
        for op in sparse_ops(&hll[HDR_SIZE..]) {
            match op {
                Op::Zero { n, .. } => {
                    idx += n;
                    histo[0] += n as u32;
                }
                Op::Val { value, n } => {
                    idx += n;
                    histo[usize::from(value)] += n as u32;
                }
            }
        }
        if idx != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histo))
}

/// The cardinality of plain registers (one byte each), for PFCOUNT of several keys.
pub fn count_registers(max: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in max.iter() {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// Writes registers (one byte each) into a valid value as PFMERGE does: dense when `dense`,
/// then every non-zero register raised in turn (a sparse value may promote on the way).
pub fn store_registers(
    hll: &mut Vec<u8>,
    max: &[u8; REGISTERS],
    dense: bool,
    sparse_max: usize,
) -> Result<(), Corrupt> {
    if dense {
        sparse_to_dense(hll)?;
    }
    for (j, &v) in max.iter().enumerate() {
        if v != 0 {
            // Redis ignores a failure here (the inputs were checked).
            let _ = set_register(hll, j, v, sparse_max);
        }
    }
    invalidate_cache(hll);
    Ok(())
}

/// PFDEBUG DECODE's text of a sparse value: `z:N`, `Z:N`, `v:VAL,N` separated by spaces.
pub fn decode_text(hll: &[u8]) -> String {
    let mut out = String::new();
    for op in sparse_ops(&hll[HDR_SIZE..]) {
        if !out.is_empty() {
            out.push(' ');
        }
        match op {
            Op::Zero { n, long: false } => out.push_str(&format!("z:{n}")),
            Op::Zero { n, long: true } => out.push_str(&format!("Z:{n}")),
            Op::Val { value, n } => out.push_str(&format!("v:{value},{n}")),
        }
    }
    out
}

/// Every register of a valid value, decoded.
pub fn registers(hll: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut v = hll.to_vec();
    sparse_to_dense(&mut v)?;
    let regs = &v[HDR_SIZE..];
    Ok((0..REGISTERS).map(|i| dense_get(regs, i)).collect())
}

/// PFSELFTEST: dense registers keep what is written without touching their neighbours, and the
/// sparse and dense representations count the same as they grow. The failure text is Redis's.
pub fn selftest(sparse_max: usize) -> Result<(), String> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..100 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rand() as u8) & REGISTER_MAX;
            *b = r;
            dense_set(&mut regs, i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let v = dense_get(&regs, i);
            if v != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {v}"));
            }
        }
    }
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    sparse_to_dense(&mut dense).map_err(|_| "TESTFAILED corrupted HLL".to_string())?;
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=10_000_000u64 {
        let ele = rand().to_le_bytes();
        let a = add(&mut sparse, &ele, sparse_max);
        let b = add(&mut dense, &ele, sparse_max);
        if a.is_err() || b.is_err() || a != b {
            return Err("TESTFAILED Different return value for sparse and dense HLL".into());
        }
        if j == checkpoint {
            let (Ok(sc), Ok(dc)) = (count(&sparse), count(&dense)) else {
                return Err("TESTFAILED corrupted HLL".into());
            };
            if sc != dc {
                return Err(format!("TESTFAILED Sparse and dense card mismatch at {j}: {sc} vs {dc}"));
            }
            // Redis's bound: 6 standard errors, 1 at 10 elements (collisions).
            let maxerr = if j == 10 { 1.0 } else { (relerr * 6.0 * checkpoint as f64).ceil() };
            let abserr = (j as f64 - dc as f64).abs();
            if abserr > maxerr {
                return Err(format!("TESTFAILED Too big error. card:{j} abserr:{abserr:.6}"));
            }
            if checkpoint == 10_000_000 {
                break;
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_value_is_redis_bytes() {
        let v = new_sparse();
        assert_eq!(v.len(), 18);
        assert_eq!(&v[..5], b"HYLL\x01");
        assert_eq!(&v[16..], &[0x7f, 0xff]);
        assert!(is_valid(&v));
        assert_eq!(count(&v), Ok(0));
        assert_eq!(decode_text(&v), "Z:16384");
    }

    #[test]
    fn murmur_matches_known_values() {
        // MurmurHash64A reference values (seed 0).
        assert_eq!(murmurhash64a(b"", 0), 0);
        assert_ne!(murmurhash64a(b"a", 0), murmurhash64a(b"b", 0));
        // The pattern length is at least 1 and at most Q + 1.
        for i in 0..1000u32 {
            let (idx, c) = pat_len(&i.to_le_bytes());
            assert!(idx < REGISTERS && (1..=51).contains(&c));
        }
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
    }

    #[test]
    fn sparse_and_dense_agree_and_promote() {
        let mut s = new_sparse();
        let mut d = new_sparse();
        sparse_to_dense(&mut d).unwrap();
        assert_eq!(d.len(), DENSE_SIZE);
        for i in 0..5000u32 {
            let e = format!("ele:{i}");
            assert_eq!(add(&mut s, e.as_bytes(), 3000), add(&mut d, e.as_bytes(), 3000));
            if s[4] == SPARSE {
                assert!(s.len() <= 3000);
            }
        }
        assert_eq!(s[4], DENSE, "promoted past hll-sparse-max-bytes");
        assert_eq!(s[HDR_SIZE..], d[HDR_SIZE..]);
        let c = count(&d).unwrap();
        assert!((c as f64 - 5000.0).abs() < 5000.0 * 0.05, "{c}");
    }

    #[test]
    fn sparse_ops_decode_and_merge() {
        let mut s = new_sparse();
        sparse_set(&mut s, 1000, 2, 3000).unwrap();
        sparse_set(&mut s, 1020, 3, 3000).unwrap();
        sparse_set(&mut s, 1021, 3, 3000).unwrap();
        assert_eq!(decode_text(&s), "Z:1000 v:2,1 z:19 v:3,2 Z:15362");
        assert_eq!(sparse_set(&mut s, 1021, 2, 3000), Ok(false));
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &s).unwrap();
        assert_eq!((max[1000], max[1020], max[1021], max[0]), (2, 3, 3, 0));
        assert_eq!(registers(&s).unwrap()[1021], 3);
    }

    #[test]
    fn corrupt_values_are_refused() {
        let mut s = new_sparse();
        s.pop();
        assert_eq!(count(&s), Err(Corrupt));
        let mut bad = new_sparse();
        bad.push(0x80); // one register too many
        assert_eq!(count(&bad), Err(Corrupt));
        assert!(!is_valid(b"HYLL\x00"));
        assert!(!is_valid(b"HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"));
    }

    #[test]
    fn selftest_passes() {
        assert_eq!(selftest(3000), Ok(()));
    }

    #[test]
    fn cache_bits() {
        let mut v = new_sparse();
        assert_eq!(cached(&v), Some(0));
        invalidate_cache(&mut v);
        assert_eq!(cached(&v), None);
        set_cached(&mut v, 42);
        assert_eq!(cached(&v), Some(42));
    }
}
