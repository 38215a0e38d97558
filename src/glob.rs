//! Glob-style pattern matching with the exact semantics of Redis's
//! `stringmatchlen` (util.c), as used by KEYS, SCAN MATCH, PSUBSCRIBE,
//! CONFIG GET and friends.
//!
//! Supported syntax:
//!
//! * `*` matches any sequence of bytes, `?` matches exactly one byte;
//! * `[abc]` matches one of the listed bytes, `[^abc]` any other byte,
//!   `[a-z]` a range (reversed ranges such as `[z-a]` work too), `\x` inside
//!   a class matches `x` literally; an unterminated class extends to the end
//!   of the pattern;
//! * `\x` outside a class matches `x` literally (a trailing lone `\` matches a
//!   backslash).
//!
//! Quirks kept on purpose because clients can observe them:
//!
//! * a non-empty pattern never matches the empty string, so `*` does not
//!   match `""` (Redis's KEYS and SCAN special-case the lone `*` pattern
//!   before calling the matcher; callers that need that must do the same);
//! * ranges compare bytes as C `char`s on x86, i.e. signed: bytes `0x80..=0xff`
//!   sort below ASCII inside `[x-y]`;
//! * `nocase` folds ASCII letters only, and an escaped byte inside a class
//!   (`[\a]`) is always compared case-sensitively;
//! * recursion through `*` is limited to 1000 levels and patterns nested
//!   deeper simply do not match, and once the tail after a `*` failed to
//!   match at every position the whole match fails at once, which keeps
//!   patterns such as `a*a*a*a*...b` linear instead of exponential.

/// Deepest `*` nesting explored before giving up (Redis's protection against
/// abusive patterns).
const MAX_NESTING: u32 = 1000;

/// Matches `string` against the glob `pattern` exactly like Redis's
/// `stringmatchlen(pattern, string, nocase)`.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_impl(pattern, string, nocase, &mut skip_longer_matches, 0)
}

/// ASCII-only case folding, like C's `tolower` in the "C" locale.
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// A byte as the signed C `char` Redis compares in ranges (x86 ABI).
fn as_c_char(b: u8) -> i32 {
    i32::from(b as i8)
}

fn match_impl(
    mut pattern: &[u8],
    mut string: &[u8],
    nocase: bool,
    skip_longer_matches: &mut bool,
    nesting: u32,
) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }

    while let (Some(&p0), Some(&s0)) = (pattern.first(), string.first()) {
        match p0 {
            b'*' => {
                while pattern.get(1) == Some(&b'*') {
                    pattern = &pattern[1..];
                }
                if pattern.len() == 1 {
                    return true;
                }
                while !string.is_empty() {
                    if match_impl(&pattern[1..], string, nocase, skip_longer_matches, nesting + 1) {
                        return true;
                    }
                    if *skip_longer_matches {
                        return false;
                    }
                    string = &string[1..];
                }
                // The rest of the pattern matches nowhere in the rest of the
                // string, so letting an earlier `*` swallow more bytes cannot
                // help either: fail the whole match right away.
                *skip_longer_matches = true;
                return false;
            }
            b'?' => {
                pattern = &pattern[1..];
                string = &string[1..];
            }
            b'[' => {
                pattern = &pattern[1..];
                let negate = pattern.first() == Some(&b'^');
                if negate {
                    pattern = &pattern[1..];
                }
                let mut matched = false;
                loop {
                    match pattern {
                        [b'\\', escaped, ..] => {
                            if *escaped == s0 {
                                matched = true;
                            }
                            pattern = &pattern[2..];
                        }
                        [b']', ..] => {
                            pattern = &pattern[1..];
                            break;
                        }
                        // Unterminated class: it runs to the end of the pattern.
                        [] => break,
                        [start, b'-', end, ..] => {
                            let (mut lo, mut hi) = (as_c_char(*start), as_c_char(*end));
                            let mut c = as_c_char(s0);
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            if nocase {
                                lo = c_tolower(lo);
                                hi = c_tolower(hi);
                                c = c_tolower(c);
                            }
                            if (lo..=hi).contains(&c) {
                                matched = true;
                            }
                            pattern = &pattern[3..];
                        }
                        [literal, ..] => {
                            if fold(*literal, nocase) == fold(s0, nocase) {
                                matched = true;
                            }
                            pattern = &pattern[1..];
                        }
                    }
                }
                if matched == negate {
                    return false;
                }
                string = &string[1..];
            }
            _ => {
                let literal = if p0 == b'\\' && pattern.len() >= 2 {
                    pattern = &pattern[1..];
                    pattern[0]
                } else {
                    p0
                };
                if fold(literal, nocase) != fold(s0, nocase) {
                    return false;
                }
                pattern = &pattern[1..];
                string = &string[1..];
            }
        }
        if string.is_empty() {
            while pattern.first() == Some(&b'*') {
                pattern = &pattern[1..];
            }
            break;
        }
    }
    pattern.is_empty() && string.is_empty()
}

/// C's `tolower` on a (possibly negative) `char` value: only `A`..=`Z` change.
fn c_tolower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals() {
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(!m("Hello", "hello"));
        assert!(mi("HeLLo", "hello"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
    }

    #[test]
    fn star() {
        assert!(m("*", "anything"));
        assert!(m("h*o", "hello"));
        assert!(m("h*o", "ho"));
        assert!(m("*llo", "hello"));
        assert!(m("he*", "he"));
        assert!(m("he**", "he"));
        assert!(m("***", "x"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*max*", "maxclients"));
        assert!(m("*max*", "proto-max-bulk-len"));
        assert!(!m("*max*", "port"));
        // Redis quirk: a pattern never matches the empty string.
        assert!(!m("*", ""));
        assert!(!m("**", ""));
    }

    #[test]
    fn question_mark() {
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("???", "abc"));
        assert!(!m("???", "ab"));
        assert!(m("?*", "a"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("[a-ce]", "e"));
        assert!(!m("[]", "a"));
        assert!(m("[abc", "b"), "unterminated class runs to the end");
        assert!(!m("[abc", "d"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[A-Z]", "a"));
        assert!(mi("[A-Z]", "a"));
        assert!(mi("[a-z]", "Q"));
        assert!(mi("[Q]", "q"));
        // An escaped byte inside a class is compared case-sensitively.
        assert!(!mi("[\\Q]", "q"));
    }

    #[test]
    fn class_edge_cases_follow_redis() {
        // "[]" is an empty class followed by nothing: never matches a byte.
        assert!(!m("[]", "]"));
        // "[]a]" is the empty class then "a]".
        assert!(!m("[]a]", "a"));
        // "[a-]" is the range 'a'-']' (']'..='a' once ordered) in a class
        // left unterminated, as in Redis.
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "_"));
        assert!(m("[a-]", "a"));
        // Likewise "[ab-]x" is 'a', the range 'b'-']' and 'x', unterminated.
        assert!(!m("[ab-]x", "-x"));
        assert!(m("[ab-]x", "b"));
        assert!(m("[ab-]x", "x"));
        // A dash right after the opening bracket is a literal when no range follows.
        assert!(m("[-]", "-"));
        // "[a-c-e]" is the range a-c, then '-' and 'e' literals.
        assert!(m("[a-c-e]", "-"));
        assert!(m("[a-c-e]", "e"));
        assert!(!m("[a-c-e]", "d"));
        // Negated empty class matches any byte.
        assert!(m("[^]", "a"));
        // A lone backslash at the end of a class is a literal backslash.
        assert!(m("[\\", "\\"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("a\\[b", "a[b"));
        assert!(m("\\\\", "\\"));
        assert!(m("\\", "\\"), "trailing backslash is literal");
        assert!(m("ab\\", "ab\\"));
        assert!(mi("\\A", "a"));
    }

    #[test]
    fn high_bytes_are_signed_in_ranges() {
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
        // 'a'..=0xff wraps like a signed char: the range is 0xff(-1)..='a'.
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(glob_match(b"\xc3\xa9*", b"\xc3\xa9t\xc3\xa9", false));
    }

    #[test]
    fn binary_safe() {
        assert!(glob_match(b"a\0*", b"a\0bc", false));
        assert!(!glob_match(b"a\0", b"a", false));
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let pattern = format!("{}b", "a*".repeat(50));
        let string = "a".repeat(10_000);
        assert!(!m(&pattern, &string));

        let pattern = "*".repeat(5000) + "x";
        assert!(!m(&pattern, &"y".repeat(5000)));
        assert!(m(&pattern, &("y".repeat(5000) + "x")));
    }

    #[test]
    fn nesting_limit() {
        // Every `*` but a trailing one recurses once; past 1000 levels the
        // match is abandoned even though it would succeed.
        let s = "a".repeat(1200);
        assert!(m(&"a*".repeat(1001), &s));
        assert!(!m(&"a*".repeat(1002), &s));
    }
}
