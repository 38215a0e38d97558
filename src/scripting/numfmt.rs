//! C's `printf("%.<p>g")` for doubles: Redis formats numeric redis.call arguments with `%.17g`
//! and cjson encodes numbers with `%.14g`; the outputs must match glibc byte for byte.

/// Formats `x` as C's `%.<precision>g` (glibc spelling of infinities and NaN).
pub fn fmt_g(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let p = precision.max(1);
    // Scientific form with p significant digits gives the decimal exponent after rounding.
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if exp < -4 || exp >= p as i32 {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{x:.decimals$}")).to_owned()
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing follows it.
fn strip_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn matches_printf() {
        assert_eq!(fmt_g(1.0, 17), "1");
        assert_eq!(fmt_g(1.5, 17), "1.5");
        assert_eq!(fmt_g(0.1, 17), "0.10000000000000001");
        assert_eq!(fmt_g(1e20, 17), "1e+20");
        assert_eq!(fmt_g(1e18, 17), "1e+18");
        assert_eq!(fmt_g(123456789.0, 17), "123456789");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(12345678901234567.0, 14), "1.2345678901235e+16");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(1e100, 14), "1e+100");
        assert_eq!(fmt_g(f64::INFINITY, 14), "inf");
        assert_eq!(fmt_g(99999999999999.9, 14), "1e+14");
    }
}
