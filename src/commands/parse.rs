//! Argument parsing shared by the handlers, with Redis's exact acceptance rules.

use crate::error::{CmdError, CmdResult};

pub use crate::numeric::parse_i64_strict;

/// An integer argument, or `ERR value is not an integer or out of range`.
pub fn int(b: &[u8]) -> CmdResult<i64> {
    parse_i64_strict(b).ok_or(CmdError::NotInteger)
}

/// A float argument as Redis's `strtold` would take it (no spaces, no NaN), or
/// `ERR value is not a valid float`.
pub fn float(b: &[u8]) -> CmdResult<f64> {
    parse_f64(b).ok_or(CmdError::NotFloat)
}

pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_whitespace()) || s.ends_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().ok()?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// INCRBYFLOAT's result text. Redis adds in `long double` and prints `%.17Lf` with trailing
/// zeros removed, so `0.1 + 0.2` reads `0.3`. Inputs are decimal strings, so adding them exactly
/// in decimal and rounding to 17 places gives the same text; values beyond what fits (huge
/// exponents) fall back to the f64 sum printed the same way.
pub fn incrbyfloat_text(current: &[u8], incr: &[u8], sum: f64) -> String {
    if let (Some(a), Some(b)) = (parse_decimal(current), parse_decimal(incr)) {
        if let Some(text) = add_decimals(a, b) {
            return text;
        }
    }
    trim_fraction(format!("{sum:.17}"))
}

/// A decimal number as (mantissa, scale): value = mantissa / 10^scale.
type Decimal = (i128, u32);

const MAX_SCALE: u32 = 60;

fn parse_decimal(b: &[u8]) -> Option<Decimal> {
    let s = std::str::from_utf8(b).ok()?;
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (num, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut m: i128 = 0;
    for c in int_part.bytes().chain(frac_part.bytes()) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
    }
    let mut scale = frac_part.len() as i64 - i64::from(exp);
    while scale < 0 {
        m = m.checked_mul(10)?;
        scale += 1;
    }
    if scale > i64::from(MAX_SCALE) {
        return None;
    }
    Some((if neg { -m } else { m }, scale as u32))
}

fn add_decimals(a: Decimal, b: Decimal) -> Option<String> {
    let scale = a.1.max(b.1);
    let widen = |d: Decimal| d.0.checked_mul(10i128.checked_pow(scale - d.1)?);
    let mut m = widen(a)?.checked_add(widen(b)?)?;
    let mut scale = scale;
    if scale > 17 {
        let div = 10i128.checked_pow(scale - 17)?;
        let (q, r) = (m / div, m % div);
        // Round half away from zero, as printf does for an exact tie.
        m = if r.abs() * 2 >= div { q + m.signum() } else { q };
        scale = 17;
    }
    let pow = 10i128.checked_pow(scale)?;
    let (int_part, frac) = (m.abs() / pow, m.abs() % pow);
    let sign = if m < 0 { "-" } else { "" };
    let text = if scale == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac:0width$}", width = scale as usize)
    };
    Some(trim_fraction(text))
}

/// Removes trailing zeros after a decimal point, and the point itself if nothing is left.
fn trim_fraction(mut s: String) -> String {
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

/// True if `arg` equals the keyword, ignoring ASCII case.
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// A count Redis reads with `getPositiveLongFromObjectOrReply` (LPOP, SPOP, ZPOPMIN counts):
/// a non-negative integer, else its default message.
pub fn positive_count(b: &[u8]) -> CmdResult<u64> {
    match parse_i64_strict(b) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(CmdError::err("value is out of range, must be positive")),
    }
}

/// The count of HRANDFIELD / SRANDMEMBER / ZRANDMEMBER: an integer in `-LONG_MAX..=LONG_MAX`
/// (Redis's `getRangeLongFromObjectOrReply`), so its absolute value always fits.
pub fn random_count(b: &[u8]) -> CmdResult<i64> {
    match parse_i64_strict(b) {
        None => Err(CmdError::NotInteger),
        Some(i64::MIN) => {
            Err(CmdError::err("value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        }
        Some(n) => Ok(n),
    }
}

/// HRANDFIELD ... WITHVALUES and ZRANDMEMBER ... WITHSCORES reply two items per pick: Redis
/// refuses counts whose doubled reply length would overflow.
pub fn check_paired_count(count: i64) -> CmdResult<()> {
    if (-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        Ok(())
    } else {
        Err(CmdError::err("value is out of range"))
    }
}

/// A SCAN-family cursor as Redis's `parseScanCursorOrReply` (strtoul) takes it: an optional
/// sign (a leading '-' wraps around), then digits.
pub fn scan_cursor(b: &[u8]) -> CmdResult<u64> {
    let bad = || CmdError::err("invalid cursor");
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let v: u64 = std::str::from_utf8(digits).ok().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The options of SCAN, HSCAN, SSCAN and ZSCAN.
pub struct ScanOpts<'a> {
    pub count: usize,
    /// MATCH's pattern; None for none or `*`.
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE.
    pub type_name: Option<&'a [u8]>,
}

impl ScanOpts<'_> {
    /// Whether `subject` matches the MATCH pattern (or there is none).
    pub fn matches(&self, subject: &[u8]) -> bool {
        self.pattern.is_none_or(|p| crate::glob::glob_match(p, subject, false))
    }
}

/// Parses `[MATCH pattern] [COUNT n]` (and `[TYPE t]` when `with_type`) as Redis does: COUNT
/// below 1 is a syntax error, anything unknown too.
pub fn scan_opts(args: &[bytes::Bytes], with_type: bool) -> CmdResult<ScanOpts<'_>> {
    let mut o = ScanOpts { count: 10, pattern: None, type_name: None };
    let mut i = 0;
    while i < args.len() {
        let Some(v) = args.get(i + 1) else { return Err(CmdError::Syntax) };
        if is(&args[i], "COUNT") {
            let n = int(v)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            o.count = n.min(100_000) as usize;
        } else if is(&args[i], "MATCH") {
            o.pattern = Some(v.as_ref()).filter(|p| *p != b"*");
        } else if with_type && is(&args[i], "TYPE") {
            o.type_name = Some(v.as_ref());
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(o)
}

/// A blocking command's timeout in seconds (fractions allowed), as Redis's
/// `getTimeoutFromObjectOrReply`: None = wait forever (0).
pub fn block_timeout(b: &[u8]) -> CmdResult<Option<std::time::Duration>> {
    let secs = parse_f64(b).ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    // Redis 7.0 casts the milliseconds to a long long: `inf` and values past its range come out
    // negative, so they get the same reply as a negative timeout.
    if secs < 0.0 || secs * 1000.0 >= i64::MAX as f64 {
        return Err(CmdError::err("timeout is negative"));
    }
    let ms = (secs * 1000.0).ceil() as u64;
    Ok((ms > 0).then(|| std::time::Duration::from_millis(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers_follow_string2ll() {
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"-1"), Some(-1));
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"-9223372036854775809"), None);
        assert_eq!(parse_i64_strict(b"18446744073709551616"), None);
        for bad in
            [&b""[..], b"01", b"00", b"+1", b" 1", b"1 ", b"1a", b"-", b"-0", b"9223372036854775808", b"1.5", b"abc"]
        {
            assert_eq!(parse_i64_strict(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"5.0e3"), Some(5000.0));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"abc"), None);
    }

    #[test]
    fn incrbyfloat_text_matches_long_double_redis() {
        let t = |a: &str, b: &str| {
            let sum = parse_f64(a.as_bytes()).unwrap() + parse_f64(b.as_bytes()).unwrap();
            incrbyfloat_text(a.as_bytes(), b.as_bytes(), sum)
        };
        assert_eq!(t("10.50", "0.1"), "10.6");
        assert_eq!(t("5.0e3", "2.0e2"), "5200");
        assert_eq!(t("0.1", "0.2"), "0.3");
        assert_eq!(t("1", "-1"), "0");
        assert_eq!(t("-0.5", "0.25"), "-0.25");
        assert_eq!(t("3", "1e-20"), "3");
        assert_eq!(t("0", "0.000000000000000015"), "0.00000000000000002");
        let huge = t("1e300", "1");
        assert!(huge.starts_with("10000000000000000") && huge.len() == 301 && !huge.contains('.'), "{huge}");
    }
}
