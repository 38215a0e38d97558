//! Number parsing shared by the protocol, command and storage layers, with Redis's rules.

/// Redis's `string2ll`: optional '-', digits, no '+', no spaces, no leading zeros, fits in i64.
/// Also the parser of RESP's multibulk and bulk lengths (`server::codec`).
pub fn parse_i64_strict(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Redis's range normalisation (LRANGE, LTRIM, ZRANGE by rank): the logical `[start, end]`
/// (inclusive) inside a collection of `len` elements, or None when empty.
pub fn normalize_range(start: i64, end: i64, len: u64) -> Option<(u64, u64)> {
    let len = i128::from(len);
    let (mut s, mut e) = (i128::from(start), i128::from(end));
    if s < 0 {
        s += len;
    }
    if e < 0 {
        e += len;
    }
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as u64, e as u64))
}
