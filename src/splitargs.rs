//! Line tokenizing and quoting shared by redis.conf parsing and inline commands: ports of
//! Redis's `sdssplitargs` (split a line into arguments honouring "double" and 'single' quotes
//! and their escapes) and `sdscatrepr` (quote a string so that `sdssplitargs` reads it back
//! unchanged).

/// `isspace` in the C locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments like Redis's `sdssplitargs`.
///
/// Outside quotes, arguments are separated by spaces, tabs, CR and LF. Inside
/// "double quotes" `\n`, `\r`, `\t`, `\b`, `\a`, `\xHH` and `\<any>` escapes
/// are decoded; inside 'single quotes' only `\'` is. A closing quote must be
/// followed by whitespace or the end of the line. Returns `None` for
/// unbalanced quotes. A NUL byte ends the line, as it does a C string.
pub fn split_args(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    // C strings end with NUL: reading past the end yields 0.
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let mut args = Vec::new();
    loop {
        while at(i) != 0 && is_c_space(at(i)) {
            i += 1;
        }
        if at(i) == 0 {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        while !done {
            let c = at(i);
            if in_double {
                let hex = (c == b'\\' && at(i + 1) == b'x')
                    .then(|| Some(hex_value(at(i + 2))? * 16 + hex_value(at(i + 3))?))
                    .flatten();
                if let Some(byte) = hex {
                    current.push(byte);
                    i += 3;
                } else if c == b'\\' && at(i + 1) != 0 {
                    i += 1;
                    current.push(match at(i) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(i + 1) != 0 && !is_c_space(at(i + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !is_c_space(at(i + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            if at(i) != 0 {
                i += 1;
            }
        }
        args.push(current);
    }
}

/// Quotes `s` like Redis's `sdscatrepr`: double quotes, `\\` `\"` `\n` `\r`
/// `\t` `\a` `\b` escapes, and `\xHH` for every other non-printable or
/// non-ASCII byte.
pub fn repr(s: &str) -> String {
    let mut out = bytes::BytesMut::with_capacity(s.len() + 2);
    repr_into(&mut out, s.as_bytes());
    // Only ASCII is written.
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `s` quoted as [`repr`] does (bytes in, for MONITOR's arguments).
pub fn repr_into(out: &mut bytes::BytesMut, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.extend_from_slice(b"\"");
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.extend_from_slice(&[b]),
            _ => out.extend_from_slice(&[b'\\', b'x', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
        }
    }
    out.extend_from_slice(b"\"");
}

/// `s` as is when [`split_args`] reads it back as one identical argument,
/// else [`repr`]-quoted.
pub fn quote_if_needed(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        s.to_owned()
    } else {
        repr(s)
    }
}

#[cfg(test)]
mod tests {
    use super::{quote_if_needed, repr, split_args};

    fn split(line: &str) -> Option<Vec<String>> {
        Some(split_args(line.as_bytes())?.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
    }

    #[test]
    fn plain_words() {
        assert_eq!(split("  port   6379  "), Some(vec!["port".into(), "6379".into()]));
        assert_eq!(split("a\tb"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(split(""), Some(vec![]));
        assert_eq!(split("   "), Some(vec![]));
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(split(r#"requirepass "hello world""#), Some(vec!["requirepass".into(), "hello world".into()]));
        assert_eq!(split(r#""""#), Some(vec![String::new()]));
        assert_eq!(split(r#""a\"b\\c\n\x41\q""#), Some(vec!["a\"b\\c\nAq".into()]));
        assert_eq!(split(r#""\xzz""#), Some(vec!["xzz".into()]));
        // A quote in the middle of a word opens a quoted section.
        assert_eq!(split(r#"ab"c d""#), Some(vec!["abc d".into()]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split(r"'it\'s' x"), Some(vec!["it's".into(), "x".into()]));
        assert_eq!(split(r"'a\nb'"), Some(vec!["a\\nb".into()]));
        assert_eq!(split("''"), Some(vec![String::new()]));
    }

    #[test]
    fn unbalanced_quotes() {
        assert_eq!(split(r#""abc"#), None);
        assert_eq!(split("'abc"), None);
        assert_eq!(split(r#""abc"def"#), None, "closing quote must end the word");
        assert_eq!(split("'abc'def"), None);
    }

    #[test]
    fn repr_round_trips() {
        for s in ["", "plain", "with space", "q\"uo'te", "back\\slash", "nl\n\r\t\x07\x08", "\u{1}", "pässwörd"] {
            let quoted = repr(s);
            assert_eq!(split(&quoted), Some(vec![s.to_owned()]), "{quoted}");
            let maybe = quote_if_needed(s);
            assert_eq!(split(&maybe), Some(vec![s.to_owned()]), "{maybe}");
        }
        assert_eq!(repr("a b"), "\"a b\"");
        assert_eq!(repr("é"), "\"\\xc3\\xa9\"");
        assert_eq!(quote_if_needed("127.0.0.1"), "127.0.0.1");
        assert_eq!(quote_if_needed("-::1"), "-::1");
    }
}
