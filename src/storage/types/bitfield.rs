//! BITFIELD's integers: reading and writing a `bits`-wide (un)signed integer at any bit offset
//! of a byte window, and Redis's overflow rules (WRAP, SAT, FAIL) for SET and INCRBY, as
//! src/bitops.c has them. Pure functions; `bitmap` runs them over a string under its lock.

/// BITFIELD's overflow behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One BITFIELD operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One BITFIELD subcommand, parsed: the operation on the `bits`-bit (un)signed integer at bit
/// `offset`, with the overflow behaviour in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub op: FieldOp,
    pub signed: bool,
    pub bits: u32,
    pub offset: u64,
    pub overflow: Overflow,
}

/// The `bits`-bit integer at bit `within` (0..8) of `buf`, bit 0 being the first byte's most
/// significant bit; sign-extended when `signed`.
pub(super) fn get_field(buf: &[u8; 9], within: u64, bits: u32, signed: bool) -> i64 {
    let mut v: u64 = 0;
    for j in 0..u64::from(bits) {
        let p = within + j;
        let bit = (buf[(p / 8) as usize] >> (7 - (p % 8))) & 1;
        v = (v << 1) | u64::from(bit);
    }
    if signed && bits < 64 && v & (1 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

pub(super) fn set_field(buf: &mut [u8; 9], within: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let bit = (value >> (u64::from(bits) - 1 - j)) & 1;
        let p = within + j;
        let (byte, shift) = ((p / 8) as usize, 7 - (p % 8));
        buf[byte] = (buf[byte] & !(1 << shift)) | ((bit as u8) << shift);
    }
}

/// A SET or INCRBY on the field whose current value is `old`: (value to store, reply, failed)
/// with Redis's overflow rules (`checkSignedBitfieldOverflow` / `checkUnsignedBitfieldOverflow`).
pub(super) fn apply_field(f: &Field, old: i64) -> (i64, i64, bool) {
    let (value, incr) = match f.op {
        FieldOp::Get => return (old, old, false),
        FieldOp::Set(v) => (v, 0),
        FieldOp::IncrBy(i) => (old, i),
    };
    let (overflow, limit) = if f.signed {
        signed_overflow(value, incr, f.bits, f.overflow)
    } else {
        let (o, l) = unsigned_overflow(value as u64, incr, f.bits, f.overflow);
        (o, l as i64)
    };
    let failed = overflow && f.overflow == Overflow::Fail;
    let new = if overflow { limit } else { value.wrapping_add(incr) };
    match f.op {
        FieldOp::IncrBy(_) => (new, new, failed),
        _ => (new, old, failed),
    }
}

fn unsigned_overflow(value: u64, incr: i64, bits: u32, how: Overflow) -> (bool, u64) {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        return (true, if how == Overflow::Sat { max } else { wrap() });
    }
    if incr < 0 && incr < minincr {
        return (true, if how == Overflow::Sat { 0 } else { wrap() });
    }
    (false, 0)
}

fn signed_overflow(value: i64, incr: i64, bits: u32, how: Overflow) -> (bool, i64) {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        return (true, if how == Overflow::Sat { max } else { wrap() });
    }
    if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        return (true, if how == Overflow::Sat { min } else { wrap() });
    }
    (false, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfield_overflow_matches_redis() {
        let f = |op, signed, bits, overflow| Field { op, signed, bits, offset: 0, overflow };
        // u8 INCRBY past 255: wraps, saturates, or fails.
        assert_eq!(apply_field(&f(FieldOp::IncrBy(10), false, 8, Overflow::Wrap), 250), (4, 4, false));
        assert_eq!(apply_field(&f(FieldOp::IncrBy(10), false, 8, Overflow::Sat), 250), (255, 255, false));
        assert!(apply_field(&f(FieldOp::IncrBy(10), false, 8, Overflow::Fail), 250).2);
        assert_eq!(apply_field(&f(FieldOp::IncrBy(-10), false, 8, Overflow::Sat), 5), (0, 0, false));
        // i8: 127 + 1 wraps to -128; SET 200 wraps to -56 and replies the old value.
        assert_eq!(apply_field(&f(FieldOp::IncrBy(1), true, 8, Overflow::Wrap), 127), (-128, -128, false));
        assert_eq!(apply_field(&f(FieldOp::Set(200), true, 8, Overflow::Wrap), 3), (-56, 3, false));
        assert_eq!(apply_field(&f(FieldOp::IncrBy(-1), true, 8, Overflow::Sat), -128), (-128, -128, false));
        // i64 at its limits.
        assert_eq!(
            apply_field(&f(FieldOp::IncrBy(1), true, 64, Overflow::Wrap), i64::MAX),
            (i64::MIN, i64::MIN, false)
        );
        assert_eq!(apply_field(&f(FieldOp::IncrBy(1), true, 64, Overflow::Sat), i64::MAX), (i64::MAX, i64::MAX, false));
        let mut buf = [0u8; 9];
        set_field(&mut buf, 7, 5, 23);
        assert_eq!(&buf[..2], &[0b0000_0001, 0b0111_0000]);
        assert_eq!(get_field(&buf, 7, 5, false), 23);
        assert_eq!(get_field(&buf, 7, 5, true), -9);
        set_field(&mut buf, 3, 64, u64::MAX);
        assert_eq!(get_field(&buf, 3, 64, true), -1);
    }
}
