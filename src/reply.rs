//! Command replies: the [`Reply`] value commands return, and its RESP2 / RESP3 encoding.
//!
//! Encoding follows Redis 7: RESP3-only types degrade to their RESP2 forms the way Redis's
//! `addReply*` functions do (maps become flat arrays, doubles become bulk strings, booleans become
//! integers, nulls become `$-1` / `*-1`), and doubles are spelled as Redis 7.2's `d2string`
//! spells them. Encoding appends straight into the connection's output buffer; it allocates
//! nothing but that buffer's growth.

use bytes::{BufMut, Bytes, BytesMut};

const CRLF: &[u8] = b"\r\n";

/// A reply to one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// `+<text>` (e.g. "PONG", "QUEUED", "RESET").
    Simple(&'static str),
    /// `+<text>` built at run time.
    SimpleOwned(String),
    /// `-<text>`: the full text without '-', e.g. "ERR syntax error",
    /// "WRONGTYPE Operation against a key holding the wrong kind of value".
    Error(String),
    /// `:<n>`.
    Int(i64),
    /// `$<len>` bulk string.
    Bulk(Bytes),
    /// RESP2 `$-1`, RESP3 `_`.
    Null,
    /// RESP2 `*-1`, RESP3 `_`.
    NullArray,
    /// `*<n>` array.
    Array(Vec<Reply>),
    /// RESP3 `%` map; in RESP2 a flat array of 2n elements.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 `~` set; in RESP2 an array.
    Set(Vec<Reply>),
    /// RESP3 `,` double; in RESP2 a bulk string. Spelled as Redis 7.2's `addReplyDouble`:
    /// integral values as integers, others in the shortest form that reads back to the same
    /// double ("1.5", "0.1", "1e+21", "1e-7"), and "inf", "-inf", "nan".
    Double(f64),
    /// RESP3 `#t` / `#f`; in RESP2 the integer 1 / 0.
    Bool(bool),
    /// RESP3 `=<len>\r\n<fmt>:<text>` verbatim string (the format is three characters, e.g. "txt"
    /// as INFO uses); in RESP2 a bulk string of the text alone.
    Verbatim(&'static str, Bytes),
    /// RESP3 `>` push; in RESP2 an array.
    Push(Vec<Reply>),
    /// RESP3 `(` big number (the digits); in RESP2 a bulk string.
    BigNumber(Bytes),
    /// RESP3 `,` double spelled by the command (GEOPOS's 17-decimal coordinates, Redis's
    /// `addReplyHumanLongDouble`); in RESP2 a bulk string of the same text.
    DoubleText(Bytes),
    /// Several replies to one command, sent back to back (SUBSCRIBE confirms each channel
    /// with its own push).
    Frames(Vec<Reply>),
    /// An array of bulk strings already encoded (the same bytes in RESP2 and RESP3): long
    /// ranges (LRANGE, ZRANGE) without one allocation per element.
    BulkArray(BulkArray),
}

/// An array of bulk strings encoded as its elements arrive.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkArray {
    count: usize,
    body: BytesMut,
}

impl BulkArray {
    /// An empty array with room for about `bytes` bytes of elements.
    pub fn with_capacity(bytes: usize) -> BulkArray {
        BulkArray { count: 0, body: BytesMut::with_capacity(bytes) }
    }

    /// Appends one bulk string: its header built on the stack, then one reserve for all of it.
    pub fn push(&mut self, element: &[u8]) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(element.len()).as_bytes();
        let mut header = [0u8; 24];
        header[0] = b'$';
        header[1..1 + digits.len()].copy_from_slice(digits);
        header[1 + digits.len()..3 + digits.len()].copy_from_slice(CRLF);
        self.body.reserve(digits.len() + element.len() + 5);
        self.body.extend_from_slice(&header[..3 + digits.len()]);
        self.body.extend_from_slice(element);
        self.body.extend_from_slice(CRLF);
        self.count += 1;
    }
}

impl Reply {
    /// A bulk string reply.
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// An error reply; `s` is the full text without '-', e.g. "ERR syntax error".
    pub fn error(s: impl Into<String>) -> Reply {
        Reply::Error(s.into())
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the encoding for protocol version 2 or 3 to `out` (any version other than 3 is
    /// encoded as RESP2).
    pub fn encode(&self, protocol: u8, out: &mut BytesMut) {
        let resp3 = protocol == 3;
        match self {
            Reply::Ok => out.extend_from_slice(b"+OK\r\n"),
            Reply::Simple(text) => put_line(out, b'+', text),
            Reply::SimpleOwned(text) => put_line(out, b'+', text),
            Reply::Error(text) => {
                // The text excludes the '-'; do not double one that is there anyway.
                put_line(out, b'-', text.strip_prefix('-').unwrap_or(text));
            }
            Reply::Int(n) => put_int(out, b':', *n),
            Reply::Bulk(data) => put_bulk(out, data),
            Reply::Null => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NullArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => encode_aggregate(out, b'*', items, protocol),
            Reply::BulkArray(a) => {
                put_len(out, b'*', a.count);
                out.extend_from_slice(&a.body);
            }
            Reply::Set(items) => {
                encode_aggregate(out, if resp3 { b'~' } else { b'*' }, items, protocol);
            }
            Reply::Push(items) => {
                encode_aggregate(out, if resp3 { b'>' } else { b'*' }, items, protocol);
            }
            Reply::DoubleText(text) => {
                if resp3 {
                    out.put_u8(b',');
                    out.extend_from_slice(text);
                    out.extend_from_slice(CRLF);
                } else {
                    Reply::Bulk(text.clone()).encode(protocol, out);
                }
            }
            Reply::BigNumber(digits) => {
                if resp3 {
                    out.put_u8(b'(');
                    out.extend_from_slice(digits);
                    out.extend_from_slice(CRLF);
                } else {
                    Reply::Bulk(digits.clone()).encode(protocol, out);
                }
            }
            Reply::Frames(frames) => {
                for frame in frames {
                    frame.encode(protocol, out);
                }
            }
            Reply::Map(pairs) => {
                if resp3 {
                    put_len(out, b'%', pairs.len());
                } else {
                    put_len(out, b'*', pairs.len().saturating_mul(2));
                }
                for (key, value) in pairs {
                    key.encode(protocol, out);
                    value.encode(protocol, out);
                }
            }
            Reply::Double(d) => {
                let mut buf = [0u8; DOUBLE_BUF_LEN];
                let len = format_double_into(*d, &mut buf);
                let text = &buf[..len];
                if resp3 {
                    out.reserve(len + 3);
                    out.put_u8(b',');
                    out.extend_from_slice(text);
                    out.extend_from_slice(CRLF);
                } else {
                    put_bulk(out, text);
                }
            }
            Reply::Bool(b) => out.extend_from_slice(match (resp3, b) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            }),
            Reply::Verbatim(format, text) => {
                if resp3 {
                    let format = match format.as_bytes() {
                        f @ [_, _, _] => f,
                        _ => &b"txt"[..],
                    };
                    put_len(out, b'=', text.len() + 4);
                    out.reserve(text.len() + 6);
                    out.extend_from_slice(format);
                    out.put_u8(b':');
                    out.extend_from_slice(text);
                    out.extend_from_slice(CRLF);
                } else {
                    put_bulk(out, text);
                }
            }
        }
    }
}

impl From<i64> for Reply {
    fn from(n: i64) -> Self {
        Reply::Int(n)
    }
}

impl From<Bytes> for Reply {
    fn from(b: Bytes) -> Self {
        Reply::Bulk(b)
    }
}

impl From<Option<Bytes>> for Reply {
    fn from(b: Option<Bytes>) -> Self {
        b.map_or(Reply::Null, Reply::Bulk)
    }
}

fn encode_aggregate(out: &mut BytesMut, kind: u8, items: &[Reply], protocol: u8) {
    put_len(out, kind, items.len());
    for item in items {
        item.encode(protocol, out);
    }
}

/// `<kind><text>\r\n`, with CR and LF in the text replaced by spaces (as Redis does for errors)
/// so that a reply can never break the framing.
fn put_line(out: &mut BytesMut, kind: u8, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 3);
    out.put_u8(kind);
    if bytes.iter().any(|&b| b == b'\r' || b == b'\n') {
        for &b in bytes {
            out.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
    } else {
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(CRLF);
}

/// `<kind><n>\r\n` for a signed integer.
fn put_int(out: &mut BytesMut, kind: u8, n: i64) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(kind);
    out.extend_from_slice(digits);
    out.extend_from_slice(CRLF);
}

/// `<kind><len>\r\n`: an aggregate or bulk header.
fn put_len(out: &mut BytesMut, kind: u8, len: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(len).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(kind);
    out.extend_from_slice(digits);
    out.extend_from_slice(CRLF);
}

fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(data.len()).as_bytes();
    out.reserve(digits.len() + data.len() + 5);
    out.put_u8(b'$');
    out.extend_from_slice(digits);
    out.extend_from_slice(CRLF);
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

/// Room for any double as [`format_double_into`] spells it (at most 26 bytes).
const DOUBLE_BUF_LEN: usize = 32;

/// Formats `d` exactly as Redis's `addReplyDouble` does (the text of its reply, in either
/// protocol): Redis 7.2's `d2string`. See [`Reply::Double`].
pub fn format_double(d: f64) -> String {
    let mut buf = [0u8; DOUBLE_BUF_LEN];
    let len = format_double_into(d, &mut buf);
    buf[..len].iter().map(|&b| char::from(b)).collect()
}

/// Redis 7.2's `d2string` into `buf`; returns the length written (ASCII).
///
/// `nan`, `inf`, `-inf`, `0`, `-0`; integral values within ±2^62 as integers (`double2ll`);
/// everything else through `fpconv_dtoa`: the shortest digits that round-trip (computed here by
/// ryu; Redis's grisu2 gives the same digits except in rare corner cases), laid out by
/// fpconv's `emit_digits` rules.
fn format_double_into(d: f64, buf: &mut [u8; DOUBLE_BUF_LEN]) -> usize {
    let mut w = Writer { buf, len: 0 };
    if d.is_nan() {
        w.put(b"nan");
    } else if d.is_infinite() {
        w.put(if d < 0.0 { b"-inf" } else { b"inf" });
    } else if d == 0.0 {
        w.put(if d.is_sign_negative() { b"-0" } else { b"0" });
    } else if let Some(n) = double2ll(d) {
        let mut digits = itoa::Buffer::new();
        w.put(digits.format(n).as_bytes());
    } else {
        if d < 0.0 {
            w.put(b"-");
        }
        let mut shortest = ryu::Buffer::new();
        let (digits, ndigits, k) = decimal_digits(shortest.format_finite(d.abs()).as_bytes());
        emit_digits(&mut w, &digits[..ndigits], k);
    }
    w.len
}

/// Redis's `double2ll`: the value as an integer when it is integral and within ±(LLONG_MAX/2).
fn double2ll(d: f64) -> Option<i64> {
    // (double)(LLONG_MAX/2) rounds to 2^62.
    const LIMIT: f64 = 4_611_686_018_427_387_904.0;
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None;
    }
    // In range, so the conversion is exact for integral values and truncates others.
    let n = d as i64;
    (n as f64 == d).then_some(n)
}

/// Splits a positive finite number as ryu prints it ("123.45", "0.001", "1e21", "1.5e-7") into
/// its significant digits (no leading or trailing zeros) and the power of ten `k` such that the
/// value is `digits * 10^k`.
fn decimal_digits(text: &[u8]) -> ([u8; 24], usize, i32) {
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
        Some(e) => (&text[..e], parse_exponent(&text[e + 1..])),
        None => (text, 0),
    };
    let mut digits = [0u8; 24];
    let mut ndigits = 0;
    let mut total = 0i32; // mantissa digits seen, leading zeros included
    let mut before_point: Option<i32> = None;
    for &b in mantissa {
        if b == b'.' {
            before_point = Some(total);
            continue;
        }
        total += 1;
        if (ndigits > 0 || b != b'0') && ndigits < digits.len() {
            digits[ndigits] = b;
            ndigits += 1;
        }
    }
    let mut k = exponent + before_point.unwrap_or(total) - total;
    while ndigits > 1 && digits[ndigits - 1] == b'0' {
        ndigits -= 1;
        k += 1;
    }
    (digits, ndigits, k)
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let value =
        digits.iter().fold(0i32, |acc, &b| acc.saturating_mul(10).saturating_add(i32::from(b.wrapping_sub(b'0'))));
    if negative {
        -value
    } else {
        value
    }
}

/// fpconv's `emit_digits`: the value `digits * 10^k` as a plain integer, a plain decimal, or in
/// scientific notation (one digit before the point, exponent with a sign and no padding).
fn emit_digits(w: &mut Writer<'_>, digits: &[u8], k: i32) {
    if digits.is_empty() {
        // Not reachable for a non-zero value; keeps the output well-formed regardless.
        w.put(b"0");
        return;
    }
    // At most 17 digits: the length always fits an i32.
    let ndigits = digits.len() as i32;
    let exp = (k + ndigits - 1).abs();

    // Plain integer.
    if k >= 0 && exp < ndigits + 7 {
        w.put(digits);
        for _ in 0..k {
            w.put(b"0");
        }
        return;
    }

    // Decimal without scientific notation.
    if k < 0 && (k > -7 || exp < 4) {
        let offset = ndigits + k;
        if offset <= 0 {
            w.put(b"0.");
            for _ in 0..-offset {
                w.put(b"0");
            }
            w.put(digits);
        } else {
            let (int_part, frac_part) = digits.split_at(offset.unsigned_abs() as usize);
            w.put(int_part);
            w.put(b".");
            w.put(frac_part);
        }
        return;
    }

    // Scientific notation.
    let (first, rest) = digits.split_at(1);
    w.put(first);
    if !rest.is_empty() {
        w.put(b".");
        w.put(rest);
    }
    w.put(if k + ndigits - 1 < 0 { b"e-" } else { b"e+" });
    let mut exp_digits = itoa::Buffer::new();
    w.put(exp_digits.format(exp).as_bytes());
}

/// Appends into a fixed buffer, dropping whatever does not fit (nothing, given the sizes used).
struct Writer<'a> {
    buf: &'a mut [u8; DOUBLE_BUF_LEN],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(DOUBLE_BUF_LEN);
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&bytes[..n]);
        self.len = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(reply: &Reply, protocol: u8) -> Vec<u8> {
        let mut out = BytesMut::new();
        reply.encode(protocol, &mut out);
        out.to_vec()
    }

    #[track_caller]
    fn check(reply: Reply, resp2: &[u8], resp3: &[u8]) {
        assert_eq!(String::from_utf8_lossy(&enc(&reply, 2)), String::from_utf8_lossy(resp2), "RESP2 {reply:?}");
        assert_eq!(String::from_utf8_lossy(&enc(&reply, 3)), String::from_utf8_lossy(resp3), "RESP3 {reply:?}");
    }

    #[test]
    fn simple_and_ok() {
        check(Reply::Ok, b"+OK\r\n", b"+OK\r\n");
        check(Reply::Simple("PONG"), b"+PONG\r\n", b"+PONG\r\n");
        check(Reply::SimpleOwned("string".to_owned()), b"+string\r\n", b"+string\r\n");
        check(Reply::SimpleOwned("a\r\nb".into()), b"+a  b\r\n", b"+a  b\r\n");
    }

    #[test]
    fn errors() {
        check(Reply::error("ERR syntax error"), b"-ERR syntax error\r\n", b"-ERR syntax error\r\n");
        check(
            Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        check(Reply::error("ERR bad\r\nthing\n"), b"-ERR bad  thing \r\n", b"-ERR bad  thing \r\n");
        check(Reply::error("-ERR x"), b"-ERR x\r\n", b"-ERR x\r\n");
        assert!(Reply::error("ERR x").is_error());
        assert!(!Reply::Ok.is_error());
        assert!(!Reply::bulk("ERR").is_error());
    }

    #[test]
    fn integers() {
        check(Reply::Int(0), b":0\r\n", b":0\r\n");
        check(Reply::Int(-42), b":-42\r\n", b":-42\r\n");
        check(Reply::Int(i64::MIN), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n");
        check(Reply::from(7), b":7\r\n", b":7\r\n");
    }

    #[test]
    fn bulks_and_nulls() {
        check(Reply::bulk("hello"), b"$5\r\nhello\r\n", b"$5\r\nhello\r\n");
        check(Reply::bulk(""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        check(Reply::bulk(&b"a\r\n\0b"[..]), b"$5\r\na\r\n\0b\r\n", b"$5\r\na\r\n\0b\r\n");
        check(Reply::bulk(vec![b'x'; 3]), b"$3\r\nxxx\r\n", b"$3\r\nxxx\r\n");
        check(Reply::Null, b"$-1\r\n", b"_\r\n");
        check(Reply::NullArray, b"*-1\r\n", b"_\r\n");
        check(Reply::from(None::<Bytes>), b"$-1\r\n", b"_\r\n");
    }

    #[test]
    fn aggregates() {
        check(Reply::Array(vec![]), b"*0\r\n", b"*0\r\n");
        check(
            Reply::Array(vec![Reply::Int(1), Reply::bulk("a"), Reply::Null]),
            b"*3\r\n:1\r\n$1\r\na\r\n$-1\r\n",
            b"*3\r\n:1\r\n$1\r\na\r\n_\r\n",
        );
        check(
            Reply::Array(vec![Reply::Array(vec![Reply::Bool(true)]), Reply::NullArray]),
            b"*2\r\n*1\r\n:1\r\n*-1\r\n",
            b"*2\r\n*1\r\n#t\r\n_\r\n",
        );
        check(
            Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1)), (Reply::Simple("b"), Reply::Double(1.5))]),
            b"*4\r\n$1\r\na\r\n:1\r\n+b\r\n$3\r\n1.5\r\n",
            b"%2\r\n$1\r\na\r\n:1\r\n+b\r\n,1.5\r\n",
        );
        check(Reply::Map(vec![]), b"*0\r\n", b"%0\r\n");
        check(
            Reply::Set(vec![Reply::bulk("x"), Reply::bulk("y")]),
            b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
            b"~2\r\n$1\r\nx\r\n$1\r\ny\r\n",
        );
        check(
            Reply::Push(vec![Reply::bulk("message"), Reply::bulk("ch"), Reply::bulk("hi")]),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        );
    }

    #[test]
    #[allow(clippy::approx_constant)]
    fn doubles_and_bools() {
        check(Reply::Double(1.0), b"$1\r\n1\r\n", b",1\r\n");
        check(Reply::Double(-3.14), b"$5\r\n-3.14\r\n", b",-3.14\r\n");
        check(Reply::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        check(Reply::Double(f64::NEG_INFINITY), b"$4\r\n-inf\r\n", b",-inf\r\n");
        check(Reply::Double(f64::NAN), b"$3\r\nnan\r\n", b",nan\r\n");
        check(Reply::Double(1e21), b"$5\r\n1e+21\r\n", b",1e+21\r\n");
        check(Reply::Bool(true), b":1\r\n", b"#t\r\n");
        check(Reply::Bool(false), b":0\r\n", b"#f\r\n");
    }

    #[test]
    fn verbatim() {
        check(
            Reply::Verbatim("txt", Bytes::from_static(b"Some string")),
            b"$11\r\nSome string\r\n",
            b"=15\r\ntxt:Some string\r\n",
        );
        check(Reply::Verbatim("mkd", Bytes::from_static(b"")), b"$0\r\n\r\n", b"=4\r\nmkd:\r\n");
        check(Reply::Verbatim("toolong", Bytes::from_static(b"x")), b"$1\r\nx\r\n", b"=5\r\ntxt:x\r\n");
    }

    #[test]
    fn other_protocol_numbers_encode_as_resp2() {
        assert_eq!(enc(&Reply::Null, 0), b"$-1\r\n");
        assert_eq!(enc(&Reply::Null, 4), b"$-1\r\n");
    }

    #[test]
    fn encoding_appends() {
        let mut out = BytesMut::from(&b"prefix"[..]);
        Reply::Ok.encode(2, &mut out);
        Reply::Int(5).encode(3, &mut out);
        assert_eq!(&out[..], b"prefix+OK\r\n:5\r\n");
    }

    #[test]
    #[allow(clippy::approx_constant)]
    fn double_spelling_matches_redis_7_2() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (3.14, "3.14"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100"),
            (123456.789, "123456.789"),
            (1e15, "1000000000000000"),
            (1e18, "1000000000000000000"),
            // Integral values up to 2^62 are printed as integers.
            (4_611_686_018_427_387_904.0, "4611686018427387904"),
            (-4_611_686_018_427_387_904.0, "-4611686018427387904"),
            // Beyond that fpconv takes over.
            (5e18, "5e+18"),
            (9_223_372_036_854_775_808.0, "9223372036854776000"),
            (1e21, "1e+21"),
            (1e22, "1e+22"),
            (1.2345678901234568e22, "12345678901234568000000"),
            (1e100, "1e+100"),
            (1e300, "1e+300"),
            (-1e300, "-1e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.5, "0.5"),
            (0.0001, "0.0001"),
            (1e-5, "0.00001"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (-1.5e-7, "-1.5e-7"),
            (1.2345678, "1.2345678"),
            (0.12345678901234568, "0.12345678901234568"),
            (1.2345e-10, "1.2345e-10"),
            (5e-324, "5e-324"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(value, text) in cases {
            assert_eq!(format_double(value), text, "{value:e}");
        }
    }

    #[test]
    fn doubles_round_trip() {
        // Every spelling parses back to the same double.
        let mut x = 1.0e-320_f64;
        while x < 1e300 {
            for v in [x, -x, x * 1.234_567_890_123, x / 3.0] {
                let text = format_double(v);
                assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
                assert!(text.len() <= 26);
            }
            x *= 7.3;
        }
    }
}
