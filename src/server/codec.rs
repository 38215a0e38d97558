//! RESP request parsing: turns the bytes a client sends into command argument vectors.
//!
//! This module owns the request side of the wire protocol and reproduces Redis 7's
//! `processInputBuffer` / `processMultibulkBuffer` / `processInlineBuffer` (networking.c) and
//! `sdssplitargs` (sds.c): the same framing rules, the same limits, the same protocol error
//! texts, and the same quirks (the two bytes after a bulk payload are skipped unchecked, a line
//! terminator search stops at a NUL byte like C's `strchr`, empty commands are skipped).
//!
//! The [`Parser`] is incremental: it remembers where it is inside a partially received command,
//! so a frame split at any byte, or a huge bulk argument arriving in small pieces, costs time
//! proportional to the new bytes only. Arguments are zero-copy slices of the connection buffer.

use crate::commands::parse::parse_i64_strict;
use crate::splitargs::is_c_space;
use bytes::{Buf, Bytes, BytesMut};

/// Longest line (multibulk count, bulk length or inline request) accepted without a terminator:
/// Redis's `PROTO_INLINE_MAX_SIZE`.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Largest accepted multibulk count: `INT_MAX`, as in Redis 7's `processMultibulkBuffer`.
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;

/// Largest multibulk count accepted before the client has authenticated.
pub const UNAUTHENTICATED_MAX_MULTIBULK_LEN: i64 = 10;

/// Largest bulk length accepted before the client has authenticated.
pub const UNAUTHENTICATED_MAX_BULK_LEN: i64 = 16384;

/// Query buffer limit applied before the client has authenticated (on top of the configured one).
pub const UNAUTHENTICATED_QUERY_BUFFER_LIMIT: u64 = 1024 * 1024;

/// Redis preallocates at most this many argument slots from a declared multibulk count; the
/// vector then grows as arguments actually arrive.
const MAX_PREALLOCATED_ARGS: usize = 1024;

/// Limits that apply to one connection's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Config `proto-max-bulk-len`: the largest bulk argument, in bytes (default 512 MiB).
    pub proto_max_bulk_len: u64,
    /// Config `client-query-buffer-limit`: the most unparsed bytes the connection buffer may hold
    /// when [`Parser::next_command`] is called (default 1 GiB). As in Redis, arguments already
    /// parsed out of the buffer do not count.
    pub query_buffer_limit: u64,
    /// Whether the client is authenticated (or needs no authentication). When false, Redis's
    /// stricter unauthenticated limits apply: at most 10 arguments, bulks of at most 16 KiB and a
    /// query buffer of at most 1 MiB.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { proto_max_bulk_len: 512 * 1024 * 1024, query_buffer_limit: 1024 * 1024 * 1024, authenticated: true }
    }
}

impl Limits {
    /// The query buffer limit in force, taking authentication into account.
    fn effective_query_buffer_limit(&self) -> u64 {
        if self.authenticated {
            self.query_buffer_limit
        } else {
            self.query_buffer_limit.min(UNAUTHENTICATED_QUERY_BUFFER_LIMIT)
        }
    }
}

/// A request that breaks the protocol or a limit. After any of these the connection is closed,
/// once the reply from [`ProtocolError::message`] (if any) has been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A multibulk count line longer than 64 KiB without a `\r`.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMbulkCount,
    /// A multibulk count that is not an integer or is above `INT_MAX`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// A multibulk count above 10 from a client that has not authenticated.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A bulk header line that does not start with `$`; holds the byte found instead.
    #[error("Protocol error: expected '$', got byte {0:#04x}")]
    ExpectedDollar(u8),
    /// A bulk length line longer than 64 KiB without a `\r`.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// A bulk length that is not an integer, is negative, or is above `proto-max-bulk-len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A bulk length above 16384 from a client that has not authenticated.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// An inline request longer than 64 KiB without a `\n`.
    #[error("Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// An inline request whose quoting `sdssplitargs` rejects.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// More bytes buffered for the command in progress than the query buffer limit allows.
    #[error("client query buffer limit reached")]
    QueryBufferLimit,
}

/// Prefix of the "expected '$'" error; the offending byte and a closing quote follow.
const EXPECTED_DOLLAR_PREFIX: &[u8] = b"ERR Protocol error: expected '$', got '";
const EXPECTED_DOLLAR_LEN: usize = EXPECTED_DOLLAR_PREFIX.len() + 2;

/// One "expected '$', got 'X'" message per ASCII byte, so that [`ProtocolError::message`] can
/// hand out a `&'static str` for every offending byte. As in Redis's `addReplyErrorFormat`, CR
/// and LF are replaced by spaces.
static EXPECTED_DOLLAR_MESSAGES: [[u8; EXPECTED_DOLLAR_LEN]; 128] = expected_dollar_messages();

const fn expected_dollar_messages() -> [[u8; EXPECTED_DOLLAR_LEN]; 128] {
    let mut table = [[0u8; EXPECTED_DOLLAR_LEN]; 128];
    let mut byte = 0;
    while byte < 128 {
        let mut i = 0;
        while i < EXPECTED_DOLLAR_PREFIX.len() {
            table[byte][i] = EXPECTED_DOLLAR_PREFIX[i];
            i += 1;
        }
        table[byte][EXPECTED_DOLLAR_PREFIX.len()] =
            if byte == b'\r' as usize || byte == b'\n' as usize { b' ' } else { byte as u8 };
        table[byte][EXPECTED_DOLLAR_PREFIX.len() + 1] = b'\'';
        byte += 1;
    }
    table
}

impl ProtocolError {
    /// Redis's exact error text without '-' and CRLF, e.g.
    /// "ERR Protocol error: invalid multibulk length". The connection is closed after sending it
    /// (as Redis does). [`ProtocolError::QueryBufferLimit`] has no reply: Redis just closes.
    ///
    /// For [`ProtocolError::ExpectedDollar`] with a non-ASCII byte, Redis echoes the raw byte;
    /// since the text must be UTF-8, '?' stands in for it here.
    pub fn message(&self) -> Option<&'static str> {
        Some(match self {
            ProtocolError::TooBigMbulkCount => "ERR Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "ERR Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "ERR Protocol error: unauthenticated multibulk length",
            ProtocolError::ExpectedDollar(byte) => {
                let row = EXPECTED_DOLLAR_MESSAGES
                    .get(usize::from(*byte))
                    .unwrap_or(&EXPECTED_DOLLAR_MESSAGES[usize::from(b'?')]);
                std::str::from_utf8(row).unwrap_or("ERR Protocol error: expected '$'")
            }
            ProtocolError::TooBigBulkCount => "ERR Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => "ERR Protocol error: invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "ERR Protocol error: unauthenticated bulk length",
            ProtocolError::TooBigInlineRequest => "ERR Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => "ERR Protocol error: unbalanced quotes in request",
            ProtocolError::QueryBufferLimit => return None,
        })
    }
}

/// Incremental parser: keeps its position inside a partially received command across calls so
/// that a frame split at any byte, or a 100 MB bulk arriving in 16 KiB pieces, is not re-scanned
/// from the start each time.
///
/// One parser serves one connection. Bytes of a multibulk command are taken out of the buffer as
/// soon as each part (count line, bulk header, bulk payload) is complete; the arguments parsed
/// so far are kept here until the command is whole.
#[derive(Debug, Default)]
pub struct Parser {
    /// Arguments the multibulk command in progress still expects; 0 between commands.
    remaining: usize,
    /// Payload length of the bulk whose `$` header has been read, if any.
    bulk_len: Option<usize>,
    /// Arguments of the multibulk command in progress.
    args: Vec<Bytes>,
    /// How many bytes at the start of the buffer were already searched for the current line's
    /// terminator without finding it.
    scanned: usize,
    /// The current line's terminator search met a NUL byte first: like C's `strchr` in Redis,
    /// the search never gets past it, so the line can only end by exceeding the size limit.
    nul_stop: bool,
    /// Bytes still missing for the bulk payload being waited for (0 otherwise).
    wanted: usize,
}

impl Parser {
    /// A parser positioned between commands.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next complete command out of `buf` (consuming its bytes). Ok(None) = need more bytes.
    /// Arguments are zero-copy `Bytes` split off `buf` (BytesMut::split_to().freeze()).
    /// Empty commands are skipped as Redis does (`*0\r\n`, `*-1\r\n`, blank inline lines).
    ///
    /// After an error the parser's state is unspecified: the connection must be closed.
    pub fn next_command(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        self.wanted = 0;
        // Redis checks the query buffer size after every read, before parsing it. Parsing only
        // shrinks the buffer, so one check on entry covers the whole call.
        check_query_buffer(buf, limits)?;
        loop {
            if self.remaining == 0 {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                if first == b'*' {
                    match self.read_multibulk_count(buf, limits)? {
                        None => return Ok(None),
                        Some(0) => continue,
                        Some(count) => {
                            self.remaining = count;
                            self.args = Vec::with_capacity(count.min(MAX_PREALLOCATED_ARGS));
                        }
                    }
                } else {
                    match self.read_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
            }

            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => match self.read_bulk_len(buf, limits)? {
                        Some(len) => len,
                        None => return Ok(None),
                    },
                };
                // The payload and the two bytes that follow it (meant to be CRLF; Redis skips
                // them without looking).
                let frame = len.saturating_add(2);
                if buf.len() < frame {
                    self.bulk_len = Some(len);
                    self.wanted = frame - buf.len();
                    return Ok(None);
                }
                self.args.push(buf.split_to(len).freeze());
                buf.advance(2);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }

    /// While waiting for a large bulk argument, how many more bytes the current command needs (to let the
    /// connection `reserve` exactly once instead of growing the buffer repeatedly); capped by the caller.
    ///
    /// Reflects the state after the last [`Parser::next_command`] call that returned `Ok(None)`;
    /// 0 when that call was not waiting inside a bulk payload.
    pub fn bytes_wanted(&self) -> usize {
        self.wanted
    }

    /// Whether a command is partially parsed (some of its bytes were consumed from the buffer).
    pub fn in_progress(&self) -> bool {
        self.remaining > 0
    }

    /// Finds `terminator` in `buf`, resuming where the previous search for the same line
    /// stopped. Returns None when it is not there (yet).
    fn find_terminator(&mut self, buf: &[u8], terminator: u8) -> Option<usize> {
        if self.nul_stop {
            return None;
        }
        let rest = buf.get(self.scanned..).unwrap_or_default();
        match rest.iter().position(|&b| b == terminator || b == 0) {
            Some(offset) => {
                let at = self.scanned + offset;
                if buf[at] == terminator {
                    return Some(at);
                }
                self.nul_stop = true;
                self.scanned = at;
                None
            }
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    /// Drops a complete line (`len` bytes including its terminator) from the buffer.
    fn consume_line(&mut self, buf: &mut BytesMut, len: usize) {
        buf.advance(len);
        self.scanned = 0;
        self.nul_stop = false;
    }

    /// Finds the `\r` ending a `*`/`$` header line and checks that one more byte (the `\n`)
    /// follows it. `too_big` is the error for a line over 64 KiB with no `\r`.
    fn header_line(&mut self, buf: &BytesMut, too_big: ProtocolError) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = self.find_terminator(buf, b'\r') else {
            if buf.len() > PROTO_INLINE_MAX_SIZE {
                return Err(too_big);
            }
            return Ok(None);
        };
        if cr + 1 >= buf.len() {
            // The '\n' has not arrived: look at this '\r' again next time.
            self.scanned = cr;
            return Ok(None);
        }
        Ok(Some(cr))
    }

    /// Reads the `*<count>\r\n` line. Some(0) stands for any count <= 0 (an empty command).
    fn read_multibulk_count(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = self.header_line(buf, ProtocolError::TooBigMbulkCount)? else {
            return Ok(None);
        };
        let count = match parse_i64_strict(&buf[1..cr]) {
            Some(count) if count <= MAX_MULTIBULK_LEN => count,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if count > UNAUTHENTICATED_MAX_MULTIBULK_LEN && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.consume_line(buf, cr + 2);
        Ok(Some(usize::try_from(count).unwrap_or(0)))
    }

    /// Reads a `$<len>\r\n` bulk header.
    fn read_bulk_len(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = self.header_line(buf, ProtocolError::TooBigBulkCount)? else {
            return Ok(None);
        };
        if buf[0] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[0]));
        }
        let len = match parse_i64_strict(&buf[1..cr]) {
            Some(len) if len >= 0 && len.unsigned_abs() <= limits.proto_max_bulk_len => len,
            _ => return Err(ProtocolError::InvalidBulkLength),
        };
        if len > UNAUTHENTICATED_MAX_BULK_LEN && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
        self.consume_line(buf, cr + 2);
        Ok(Some(len))
    }

    /// Reads one inline request line and splits it into arguments (possibly none).
    fn read_inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(newline) = self.find_terminator(buf, b'\n') else {
            if buf.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(None);
        };
        let end = if newline > 0 && buf[newline - 1] == b'\r' { newline - 1 } else { newline };
        let line = buf.split_to(newline + 1).freeze();
        self.scanned = 0;
        self.nul_stop = false;
        split_args(&line.slice(..end)).map(Some).ok_or(ProtocolError::UnbalancedQuotes)
    }
}

/// Fails when more bytes are buffered than the query buffer limit allows. Redis compares
/// `sdslen(querybuf)`: the unparsed bytes, which once complete commands are taken out are exactly
/// the rest of the command in progress (arguments already parsed do not count).
fn check_query_buffer(buf: &BytesMut, limits: &Limits) -> Result<(), ProtocolError> {
    if buf.len() as u64 > limits.effective_query_buffer_limit() {
        return Err(ProtocolError::QueryBufferLimit);
    }
    Ok(())
}

/// Redis's `sdssplitargs` over one inline request line (which never holds a NUL: the line search
/// stops at one). Returns None for unbalanced quotes. Arguments without quotes are zero-copy
/// slices of `line`.
fn split_args(line: &Bytes) -> Option<Vec<Bytes>> {
    let s: &[u8] = line;
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < s.len() && is_c_space(s[p]) {
            p += 1;
        }
        if p >= s.len() {
            return Some(args);
        }

        // Fast path: a token without quotes is a slice of the line.
        let start = p;
        while p < s.len() && !matches!(s[p], b' ' | b'\r' | b'\t' | b'"' | b'\'') {
            p += 1;
        }
        if p >= s.len() || !matches!(s[p], b'"' | b'\'') {
            args.push(line.slice(start..p));
            if p < s.len() {
                p += 1;
            }
            continue;
        }

        // Quotes ahead: the rest of the line goes through the shared sdssplitargs port.
        let rest = crate::splitargs::split_args(&s[start..])?;
        args.extend(rest.into_iter().map(Bytes::from));
        return Some(args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn unauth() -> Limits {
        Limits { authenticated: false, ..Limits::default() }
    }

    /// Parses all complete commands in `input` fed at once.
    fn parse_all(input: &[u8], limits: &Limits) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(cmd) = parser.next_command(&mut buf, limits)? {
            out.push(cmd);
        }
        Ok(out)
    }

    fn parse_one(input: &[u8]) -> Vec<Bytes> {
        let mut cmds = parse_all(input, &limits()).unwrap();
        assert_eq!(cmds.len(), 1, "expected one command from {input:?}");
        cmds.pop().unwrap()
    }

    fn err_of(input: &[u8], limits: &Limits) -> ProtocolError {
        parse_all(input, limits).unwrap_err()
    }

    fn strs(cmd: &[Bytes]) -> Vec<&[u8]> {
        cmd.iter().map(|b| &b[..]).collect()
    }

    /// Feeds `input` one byte at a time, calling the parser after every byte.
    fn parse_bytewise(input: &[u8], limits: &Limits) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut parser = Parser::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for &b in input {
            buf.extend_from_slice(&[b]);
            while let Some(cmd) = parser.next_command(&mut buf, limits)? {
                out.push(cmd);
            }
        }
        Ok(out)
    }

    #[test]
    fn multibulk_basic() {
        let cmd = parse_one(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
        assert_eq!(strs(&cmd), vec![&b"SET"[..], b"key", b"value"]);
    }

    #[test]
    fn consumes_exactly_one_command() {
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI"[..]);
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(strs(&cmd), vec![&b"PING"[..]]);
        assert_eq!(&buf[..], b"*1\r\n$4\r\nPI");
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        assert!(parser.in_progress());
        buf.extend_from_slice(b"NG\r\n");
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(strs(&cmd), vec![&b"PING"[..]]);
        assert!(buf.is_empty());
        assert!(!parser.in_progress());
    }

    #[test]
    fn binary_safe_bulks() {
        let cmd = parse_one(b"*2\r\n$4\r\na\r\nb\r\n$3\r\n\0\xff\n\r\n");
        assert_eq!(strs(&cmd), vec![&b"a\r\nb"[..], b"\0\xff\n"]);
        let cmd = parse_one(b"*1\r\n$0\r\n\r\n");
        assert_eq!(strs(&cmd), vec![&b""[..]]);
    }

    #[test]
    fn bytes_after_bulk_payload_are_not_checked() {
        // Redis skips the two bytes after a payload without looking at them.
        let cmd = parse_one(b"*2\r\n$1\r\naXY$1\r\nb\r\n");
        assert_eq!(strs(&cmd), vec![&b"a"[..], b"b"]);
    }

    #[test]
    fn empty_commands_are_skipped() {
        let cmds = parse_all(b"*0\r\n*-1\r\n*-10\r\n\r\n\n   \r\n*1\r\n$4\r\nPING\r\n", &limits()).unwrap();
        assert_eq!(cmds.len(), 1);
        assert_eq!(strs(&cmds[0]), vec![&b"PING"[..]]);

        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*0\r\n\r\n"[..]);
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        assert!(buf.is_empty());
    }

    #[test]
    fn pipeline_split_at_every_byte() {
        let mut input = Vec::new();
        input.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$8\r\nkey:0001\r\n$6\r\nv\r\n\0\xffz\r\n");
        input.extend_from_slice(b"*0\r\n");
        input.extend_from_slice(b"PING\r\n");
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(b"set \"a b\" 'c\\'d' \"\\x41\\n\"\n");
        input.extend_from_slice(b"*-1\r\n");
        input.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
        input.extend_from_slice(b"*1\r\n$20\r\n01234567890123456789\r\n");
        let whole = parse_all(&input, &limits()).unwrap();
        assert_eq!(whole.len(), 5);
        assert_eq!(strs(&whole[1]), vec![&b"PING"[..]]);
        assert_eq!(strs(&whole[2]), vec![&b"set"[..], b"a b", b"c'd", b"A\n"]);
        assert_eq!(parse_bytewise(&input, &limits()).unwrap(), whole);

        // Two chunks, split at every position.
        for split in 0..=input.len() {
            let mut parser = Parser::new();
            let mut buf = BytesMut::from(&input[..split]);
            let mut got = Vec::new();
            while let Some(cmd) = parser.next_command(&mut buf, &limits()).unwrap() {
                got.push(cmd);
            }
            buf.extend_from_slice(&input[split..]);
            while let Some(cmd) = parser.next_command(&mut buf, &limits()).unwrap() {
                got.push(cmd);
            }
            assert_eq!(got, whole, "split at {split}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn inline_commands() {
        assert_eq!(strs(&parse_one(b"PING\r\n")), vec![&b"PING"[..]]);
        assert_eq!(strs(&parse_one(b"PING\n")), vec![&b"PING"[..]]);
        assert_eq!(strs(&parse_one(b"  set\tkey   value \r\n")), vec![&b"set"[..], b"key", b"value"]);
        // A '\r' inside the line separates arguments.
        assert_eq!(strs(&parse_one(b"a\rb\r\n")), vec![&b"a"[..], b"b"]);
        // Vertical tab and form feed are skipped between arguments but do not end one.
        assert_eq!(strs(&parse_one(b"\x0ba\x0bb \x0c\n")), vec![&b"a\x0bb"[..]]);
        // Only "\n" ends the line: a lone '\r' at the end is dropped with it.
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"GET k\r"[..]);
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        buf.extend_from_slice(b"\n");
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(strs(&cmd), vec![&b"GET"[..], b"k"]);
    }

    #[test]
    fn inline_quotes() {
        let cmd = parse_one(b"set \"hello world\" 'it\\'s' \"tab\\there\"\r\n");
        assert_eq!(strs(&cmd), vec![&b"set"[..], b"hello world", b"it's", b"tab\there"]);
    }

    #[test]
    fn inline_quote_rules() {
        let ok = |line: &[u8]| {
            let mut input = line.to_vec();
            input.push(b'\n');
            parse_all(&input, &limits()).map(|mut c| c.pop().unwrap_or_default())
        };
        assert_eq!(strs(&ok(b"\"a\\n\\r\\t\\b\\a\\\\\\\"\\q\"").unwrap()), vec![&b"a\n\r\t\x08\x07\\\"q"[..]]);
        assert_eq!(strs(&ok(b"\"\\x41\\x7a\\xFf\"").unwrap()), vec![&b"Az\xff"[..]]);
        // "\x" without two hex digits escapes the 'x' itself.
        assert_eq!(strs(&ok(b"\"\\x4g\"").unwrap()), vec![&b"x4g"[..]]);
        assert_eq!(strs(&ok(b"'a\\'b\\n'").unwrap()), vec![&b"a'b\\n"[..]]);
        assert_eq!(strs(&ok(b"\"\" ''").unwrap()), vec![&b""[..], b""]);
        // Quotes may start in the middle of a token.
        assert_eq!(strs(&ok(b"foo\"bar baz\" x").unwrap()), vec![&b"foobar baz"[..], b"x"]);
        assert_eq!(strs(&ok(b"a'b c'").unwrap()), vec![&b"ab c"[..]]);
        // A closing quote followed by any whitespace is fine.
        assert_eq!(strs(&ok(b"\"a\"\tb").unwrap()), vec![&b"a"[..], b"b"]);
        assert_eq!(strs(&ok(b"\"a\"\x0bb").unwrap()), vec![&b"a"[..], b"b"]);

        for bad in
            [&b"\"abc"[..], b"'abc", b"\"abc\"def", b"'abc'def", b"\"abc\\\"", b"\"abc\\", b"'it''s'", b"\"a\"\"b\""]
        {
            assert_eq!(ok(bad), Err(ProtocolError::UnbalancedQuotes), "{bad:?}");
        }
    }

    #[test]
    fn inline_args_are_zero_copy_when_unquoted() {
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"GET somekey\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(cmd[1].as_ptr() as usize, base + 4);
    }

    #[test]
    fn multibulk_args_are_zero_copy() {
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$7\r\nsomekey\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(cmd[0].as_ptr() as usize, base + 8);
        assert_eq!(cmd[1].as_ptr() as usize, base + 17);
    }

    #[test]
    fn error_texts() {
        let cases: Vec<(ProtocolError, &str)> = vec![
            (ProtocolError::TooBigMbulkCount, "ERR Protocol error: too big mbulk count string"),
            (ProtocolError::InvalidMultibulkLength, "ERR Protocol error: invalid multibulk length"),
            (ProtocolError::UnauthenticatedMultibulkLength, "ERR Protocol error: unauthenticated multibulk length"),
            (ProtocolError::ExpectedDollar(b'f'), "ERR Protocol error: expected '$', got 'f'"),
            (ProtocolError::ExpectedDollar(b'\r'), "ERR Protocol error: expected '$', got ' '"),
            (ProtocolError::ExpectedDollar(b'\n'), "ERR Protocol error: expected '$', got ' '"),
            (ProtocolError::ExpectedDollar(0), "ERR Protocol error: expected '$', got '\0'"),
            (ProtocolError::ExpectedDollar(0xff), "ERR Protocol error: expected '$', got '?'"),
            (ProtocolError::TooBigBulkCount, "ERR Protocol error: too big bulk count string"),
            (ProtocolError::InvalidBulkLength, "ERR Protocol error: invalid bulk length"),
            (ProtocolError::UnauthenticatedBulkLength, "ERR Protocol error: unauthenticated bulk length"),
            (ProtocolError::TooBigInlineRequest, "ERR Protocol error: too big inline request"),
            (ProtocolError::UnbalancedQuotes, "ERR Protocol error: unbalanced quotes in request"),
        ];
        for (err, text) in cases {
            assert_eq!(err.message(), Some(text), "{err:?}");
        }
        assert_eq!(ProtocolError::QueryBufferLimit.message(), None);
        for byte in 0..=255u8 {
            let text = ProtocolError::ExpectedDollar(byte).message().unwrap();
            assert_eq!(text.len(), EXPECTED_DOLLAR_LEN);
            assert!(!text.contains(['\r', '\n']));
        }
    }

    #[test]
    fn multibulk_count_errors() {
        assert_eq!(err_of(b"*20000000000\r\n", &limits()), ProtocolError::InvalidMultibulkLength);
        assert_eq!(err_of(b"*3000000000\r\n", &limits()), ProtocolError::InvalidMultibulkLength);
        for bad in [
            &b"*\r\n"[..],
            b"*abc\r\n",
            b"*1x\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"* 1\r\n",
            b"*-\r\n",
            b"*-0\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(err_of(bad, &limits()), ProtocolError::InvalidMultibulkLength, "{bad:?}");
        }
        // INT_MAX itself is accepted (and nothing is allocated for it up front).
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        assert!(parser.args.capacity() <= MAX_PREALLOCATED_ARGS);

        let mut long = b"*".to_vec();
        long.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE));
        assert_eq!(err_of(&long, &limits()), ProtocolError::TooBigMbulkCount);
        // Exactly 64 KiB without CR is still waited on.
        assert_eq!(parse_all(&long[..PROTO_INLINE_MAX_SIZE], &limits()).unwrap(), vec![] as Vec<Vec<Bytes>>);
        // With a CR somewhere it is an invalid count instead.
        long.extend_from_slice(b"\r\n");
        assert_eq!(err_of(&long, &limits()), ProtocolError::InvalidMultibulkLength);

        assert_eq!(err_of(b"*11\r\n", &unauth()), ProtocolError::UnauthenticatedMultibulkLength);
        assert_eq!(parse_all(b"*1\r\n$4\r\nAUTH\r\n", &unauth()).unwrap().len(), 1);
        assert_eq!(parse_all(b"*10\r\n", &unauth()).unwrap().len(), 0);
    }

    #[test]
    fn bulk_errors() {
        assert_eq!(err_of(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", &limits()), ProtocolError::ExpectedDollar(b'f'));
        assert_eq!(err_of(b"*1\r\n\r\n", &limits()), ProtocolError::ExpectedDollar(b'\r'));
        // The '$' check waits for a whole line.
        assert_eq!(parse_all(b"*1\r\nfoo", &limits()).unwrap().len(), 0);
        for bad in [
            &b"*1\r\n$-10\r\n"[..],
            b"*1\r\n$-1\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$x\r\n",
            b"*1\r\n$01\r\n",
            b"*1\r\n$2147483648000000000000\r\n",
        ] {
            assert_eq!(err_of(bad, &limits()), ProtocolError::InvalidBulkLength, "{bad:?}");
        }
        let small = Limits { proto_max_bulk_len: 100, ..Limits::default() };
        assert_eq!(err_of(b"*1\r\n$101\r\n", &small), ProtocolError::InvalidBulkLength);
        assert_eq!(parse_all(b"*1\r\n$100\r\n", &small).unwrap().len(), 0);
        assert_eq!(err_of(b"*1\r\n$536870913\r\n", &limits()), ProtocolError::InvalidBulkLength);

        assert_eq!(err_of(b"*1\r\n$16385\r\n", &unauth()), ProtocolError::UnauthenticatedBulkLength);
        assert_eq!(parse_all(b"*1\r\n$16384\r\n", &unauth()).unwrap().len(), 0);

        let mut long = b"*1\r\n$".to_vec();
        long.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE));
        assert_eq!(err_of(&long, &limits()), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn inline_errors() {
        let long = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
        assert_eq!(err_of(&long, &limits()), ProtocolError::TooBigInlineRequest);
        assert_eq!(parse_all(&long[1..], &limits()).unwrap().len(), 0);
        assert_eq!(err_of(b"set \"unterminated\r\n", &limits()), ProtocolError::UnbalancedQuotes);
    }

    #[test]
    fn nul_stops_line_search_like_strchr() {
        // Redis's strchr() never sees a terminator after a NUL: the request waits until it
        // exceeds the inline size limit.
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"PI\0NG\r\n"[..]);
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        buf.extend_from_slice(&vec![b'\n'; PROTO_INLINE_MAX_SIZE]);
        assert_eq!(parser.next_command(&mut buf, &limits()), Err(ProtocolError::TooBigInlineRequest));

        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$3\0\r\nabc\r\n"[..]);
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        buf.extend_from_slice(&vec![b'\r'; PROTO_INLINE_MAX_SIZE]);
        assert_eq!(parser.next_command(&mut buf, &limits()), Err(ProtocolError::TooBigBulkCount));
    }

    #[test]
    fn query_buffer_limit() {
        let tight = Limits { query_buffer_limit: 100, ..Limits::default() };
        // A partial bulk of more than 100 bytes buffered.
        let mut input = b"*1\r\n$200\r\n".to_vec();
        input.extend_from_slice(&[b'x'; 101]);
        assert_eq!(err_of(&input, &tight), ProtocolError::QueryBufferLimit);
        // Everything buffered counts, complete commands included (Redis checks after each read).
        let mut input = b"*1\r\n$80\r\n".to_vec();
        input.extend_from_slice(&[b'x'; 80]);
        input.extend_from_slice(b"\r\n*1\r\n$4\r\nPING\r\n");
        assert!(input.len() > 100);
        assert_eq!(err_of(&input, &tight), ProtocolError::QueryBufferLimit);
        // Arguments already parsed do not count: only the bytes still buffered do.
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$80\r\n"[..]);
        buf.extend_from_slice(&[b'a'; 80]);
        buf.extend_from_slice(b"\r\n$80\r\n");
        assert!(buf.len() <= 100);
        assert_eq!(parser.next_command(&mut buf, &tight), Ok(None));
        assert!(buf.is_empty());
        buf.extend_from_slice(&[b'b'; 80]);
        buf.extend_from_slice(b"\r\n");
        let cmd = parser.next_command(&mut buf, &tight).unwrap().unwrap();
        assert_eq!(cmd.len(), 2);

        // Unauthenticated clients may have at most 1 MiB buffered (Redis checks after each read,
        // before parsing; `next_command` checks on entry).
        let mut input = Vec::new();
        while input.len() + 14 <= 1024 * 1024 {
            input.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        }
        // Pad with the start of an inline request (spaces, no newline yet).
        input.resize(1024 * 1024, b' ');
        assert!(parse_all(&input, &unauth()).is_ok());
        input.push(b' ');
        assert_eq!(err_of(&input, &unauth()), ProtocolError::QueryBufferLimit);
        assert!(parse_all(&input, &limits()).is_ok());
    }

    #[test]
    fn ten_thousand_args() {
        let mut input = b"*10000\r\n".to_vec();
        for i in 0..10_000 {
            let arg = format!("arg{i}");
            input.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        let cmd = parse_one(&input);
        assert_eq!(cmd.len(), 10_000);
        assert_eq!(&cmd[9_999][..], b"arg9999");
        assert_eq!(parse_bytewise(&input, &limits()).unwrap(), vec![cmd]);
    }

    #[test]
    fn big_bulk_in_pieces() {
        const SIZE: usize = 100 * 1024 * 1024;
        let mut parser = Parser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$104857600\r\n"[..]);
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        assert_eq!(parser.bytes_wanted(), SIZE + 2);
        // The caller can now reserve exactly once.
        buf.reserve(parser.bytes_wanted());
        let capacity = buf.capacity();
        let chunk = vec![b'z'; 16 * 1024];
        let mut sent = 0;
        while sent < SIZE {
            let n = chunk.len().min(SIZE - sent);
            buf.extend_from_slice(&chunk[..n]);
            sent += n;
            assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
            assert_eq!(parser.bytes_wanted(), SIZE + 2 - sent);
        }
        assert_eq!(buf.capacity(), capacity);
        buf.extend_from_slice(b"\r");
        assert_eq!(parser.next_command(&mut buf, &limits()).unwrap(), None);
        assert_eq!(parser.bytes_wanted(), 1);
        buf.extend_from_slice(b"\n*1\r\n$4\r\nPING\r\n");
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(cmd.len(), 2);
        assert_eq!(&cmd[0][..], b"SET");
        assert_eq!(cmd[1].len(), SIZE);
        assert!(cmd[1].iter().all(|&b| b == b'z'));
        assert_eq!(parser.bytes_wanted(), 0);
        let cmd = parser.next_command(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(strs(&cmd), vec![&b"PING"[..]]);
    }
}
