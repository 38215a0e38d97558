//! strata-loadgen: the benchmark's load generator. It speaks RESP2 over plain TCP to any
//! Redis-protocol server (Strata or redis-server) and does what redis-benchmark cannot: zipfian
//! keys, GET/SET mixes, MGET of random keys, and a sequential fill (or warm-up read) of a whole
//! key space.
//!
//! ```text
//! strata-loadgen --port 6379 --workload fill --keys 10000000 --value-size 100
//! strata-loadgen --port 6379 --workload mix:9:1 --dist zipf:0.99 --clients 50 --seconds 10
//! strata-loadgen --port 6379 --workload get --pipeline 16 --requests 2000000
//! ```
//!
//! Every client is one connection on a tokio runtime (one thread by default: the server under
//! test shares the machine's cores, so the generator must cost as little CPU as it can). A client
//! writes `--pipeline` commands in one write, reads exactly that many replies and repeats, as
//! redis-benchmark `-P` does; each request of a batch is charged the batch's round trip.
//!
//! stdout gets one result in redis-benchmark's `--csv` shape (a header line, then the line), so a
//! script reads both tools the same way; progress, error replies and a summary go to stderr.
//! Exit codes: 0 done (error replies are counted, not fatal), 1 a connection failed, closed or
//! broke the protocol, 2 bad flags.
//!
//! This file owns only the client side: it must not use the server's crate, so that it measures
//! redis-server and Strata through exactly the same code.

#![deny(unsafe_code)]

use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Key indices are printed with this many digits, so every key of a run has the same length.
const INDEX_DIGITS: usize = 12;
/// The key space `--keys` may ask for: every index must fit in `INDEX_DIGITS` digits.
const MAX_KEYS: u64 = 1_000_000_000_000;
/// `--pipeline` of fill and warm when none is given: a sweep only populates, so it goes in big
/// batches (redis-benchmark's own data loading would take minutes for 10M keys at pipeline 1).
const SWEEP_PIPELINE: u32 = 64;
/// How often progress goes to stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// A reply line (status, error, integer, length header) longer than this is a protocol error:
/// without a bound, a server that never sends CRLF would grow the read buffer forever.
const MAX_LINE: usize = 64 << 10;

#[derive(Parser, Debug)]
#[command(
    name = "strata-loadgen",
    about = "Load generator for Redis-protocol servers: zipfian keys, GET/SET mixes, MGET, sequential fill",
    after_help = "Exactly one of --requests and --seconds, except for fill and warm (which send every key once).\n\
                  Output: redis-benchmark's --csv header and one line on stdout; progress and errors on stderr."
)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    port: u16,
    /// Connections, each its own task.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
    /// Commands per write (and replies awaited before the next write) [default: 1; 64 for fill and warm].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pipeline: Option<u32>,
    /// Total requests, shared evenly by the clients (an MGET is one request).
    #[arg(long, conflicts_with = "seconds", value_parser = clap::value_parser!(u64).range(1..))]
    requests: Option<u64>,
    /// Run for this long instead (each client finishes its batch in flight).
    #[arg(long, value_parser = parse_seconds)]
    seconds: Option<f64>,
    /// Key space: indices 0..keys.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=MAX_KEYS))]
    keys: u64,
    /// Keys are `{prefix}{index:012}`.
    #[arg(long, default_value = "key:")]
    key_prefix: String,
    /// Key choice: uniform, or zipf[:THETA] (theta 0.99 when not given; rank 0 is the hottest).
    #[arg(long, default_value = "uniform", value_parser = parse_dist)]
    dist: Dist,
    /// Bytes per value written by SET.
    #[arg(long, default_value_t = 64)]
    value_size: usize,
    /// set | get | mix:R:W (GET with probability R/(R+W), else SET) | mget:N | fill (SET every key
    /// once, in order) | warm (GET every key once, in order).
    #[arg(long, default_value = "set", value_parser = parse_workload)]
    workload: Workload,
    /// Runtime threads: 1 = tokio's current-thread runtime, more = a multi-thread one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
}

/// How keys are drawn for the random workloads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dist {
    Uniform,
    Zipf { theta: f64 },
}

fn parse_dist(s: &str) -> Result<Dist, String> {
    match s.split_once(':') {
        None if s == "uniform" => Ok(Dist::Uniform),
        None if s == "zipf" => Ok(Dist::Zipf { theta: 0.99 }),
        Some(("zipf", theta)) => match theta.parse::<f64>() {
            Ok(theta) if theta.is_finite() && theta > 0.0 => Ok(Dist::Zipf { theta }),
            _ => Err(format!("zipf's theta must be a number above 0, not {theta:?}")),
        },
        _ => Err("expected uniform, zipf or zipf:THETA".to_owned()),
    }
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs < 1e9 => Ok(secs),
        _ => Err("expected a number of seconds above 0".to_owned()),
    }
}

/// One request of a random workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Set,
    Get,
    /// GET with probability `get / (get + set)`, else SET.
    Mix {
        get: u32,
        set: u32,
    },
    /// MGET of this many keys, drawn independently.
    Mget(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Random(Op),
    /// SET every key once, in order.
    Fill,
    /// GET every key once, in order (loads caches before a read benchmark).
    Warm,
}

impl Workload {
    /// The CSV's test name.
    fn name(self) -> String {
        match self {
            Workload::Random(Op::Set) => "SET".to_owned(),
            Workload::Random(Op::Get) => "GET".to_owned(),
            Workload::Random(Op::Mix { get, set }) => format!("MIX_{get}_{set}"),
            Workload::Random(Op::Mget(n)) => format!("MGET_{n}"),
            Workload::Fill => "FILL".to_owned(),
            Workload::Warm => "WARM".to_owned(),
        }
    }
}

fn parse_workload(s: &str) -> Result<Workload, String> {
    let number = |n: &str| n.parse::<u32>().map_err(|_| format!("{n:?} is not a count"));
    let mut parts = s.split(':');
    let workload = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("set"), None, ..) => Workload::Random(Op::Set),
        (Some("get"), None, ..) => Workload::Random(Op::Get),
        (Some("fill"), None, ..) => Workload::Fill,
        (Some("warm"), None, ..) => Workload::Warm,
        (Some("mix"), Some(get), Some(set), None) => {
            let (get, set) = (number(get)?, number(set)?);
            if get.checked_add(set).is_none_or(|sum| sum == 0) {
                return Err("mix:R:W needs R + W between 1 and 2^32-1".to_owned());
            }
            Workload::Random(Op::Mix { get, set })
        }
        (Some("mget"), Some(n), None, _) => match number(n)? {
            0 => return Err("mget:N needs N >= 1".to_owned()),
            n => Workload::Random(Op::Mget(n)),
        },
        _ => return Err("expected set, get, mix:R:W, mget:N, fill or warm".to_owned()),
    };
    Ok(workload)
}

/// A fixed bijection of 0..n that scatters zipfian ranks over the key space (YCSB's
/// ScrambledZipfian idea): without it the hottest keys would be neighbours, sharing a RocksDB
/// block and a cache line of every index, which flatters a disk-backed store. A bijection, unlike
/// YCSB's FNV-hash-mod-n, keeps every key reachable and never merges two hot ranks into one key.
#[derive(Clone, Copy, Debug)]
struct Scramble {
    n: u64,
    mask: u64,
    shift: u32,
}

impl Scramble {
    fn new(n: u64) -> Scramble {
        // The smallest power of two ≥ n (at least 2): cycle walking then takes under 2 rounds
        // on average.
        let bits = 64 - (n.max(2) - 1).leading_zeros();
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        Scramble { n, mask, shift: (bits / 2).max(1) }
    }

    /// One round of a permutation of 0..=mask: xor with a constant, multiply by an odd number
    /// modulo 2^bits, xor-shift right, twice — each step is invertible on `bits`-bit values.
    fn round(&self, x: u64) -> u64 {
        let mut x = (x ^ 0x5851_F42D_4C95_7F2D) & self.mask;
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) & self.mask;
        x ^= x >> self.shift;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) & self.mask;
        x ^ (x >> self.shift)
    }

    /// The key index of `rank` (< n). Cycle walking: apply the permutation of the power-of-two
    /// domain until the value lands below n; that restricts it to a permutation of 0..n, and ends
    /// because the cycle through `rank` contains `rank` itself.
    fn index(&self, rank: u64) -> u64 {
        let mut x = rank;
        loop {
            x = self.round(x);
            if x < self.n {
                return x;
            }
        }
    }
}

/// Draws key indices in 0..count.
#[derive(Clone, Debug)]
enum KeyDraw {
    Uniform { count: u64 },
    Zipf { count: u64, zipf: Zipf<f64>, scramble: Scramble },
}

impl KeyDraw {
    fn new(dist: Dist, count: u64) -> Result<KeyDraw, String> {
        Ok(match dist {
            Dist::Uniform => KeyDraw::Uniform { count },
            Dist::Zipf { theta } => KeyDraw::Zipf {
                count,
                zipf: Zipf::new(count as f64, theta).map_err(|e| e.to_string())?,
                scramble: Scramble::new(count),
            },
        })
    }

    fn draw(&self, rng: &mut SmallRng) -> u64 {
        match self {
            KeyDraw::Uniform { count } => rng.random_range(0..*count),
            KeyDraw::Zipf { count, zipf, scramble } => {
                // Zipf samples 1..=count as a float; the clamp guards the float's rounding.
                let rank = (zipf.sample(rng) as u64).saturating_sub(1).min(count - 1);
                scramble.index(rank)
            }
        }
    }
}

/// Builds RESP commands into a caller's buffer from pieces made once: a request costs a few
/// copies and no allocation.
struct Encoder {
    prefix: Vec<u8>,
    /// `*2 $3 GET $<key length>`, up to the key.
    get_head: Vec<u8>,
    /// `*3 $3 SET $<key length>`, up to the key.
    set_head: Vec<u8>,
    /// CRLF after the key, then `$<value size>`, up to the value.
    value_head: Vec<u8>,
    /// `*<n + 1> $4 MGET` for `mget:N`.
    mget_head: Vec<u8>,
    /// `$<key length>` before each MGET key.
    key_head: Vec<u8>,
    /// Values are `value_size` bytes cut from this pool at an offset that depends on the key:
    /// values differ between neighbouring keys, so RocksDB's block compression cannot shrink a
    /// filled data set far below its logical size.
    pool: Vec<u8>,
    value_size: usize,
}

impl Encoder {
    fn new(prefix: &[u8], value_size: usize, mget_keys: u32) -> Encoder {
        let key_len = prefix.len() + INDEX_DIGITS;
        let mut rng = SmallRng::seed_from_u64(42);
        let pool = (0..(64 << 10).max(2 * value_size)).map(|_| rng.random_range(b'!'..=b'~')).collect();
        Encoder {
            prefix: prefix.to_vec(),
            get_head: format!("*2\r\n$3\r\nGET\r\n${key_len}\r\n").into_bytes(),
            set_head: format!("*3\r\n$3\r\nSET\r\n${key_len}\r\n").into_bytes(),
            value_head: format!("\r\n${value_size}\r\n").into_bytes(),
            mget_head: format!("*{}\r\n$4\r\nMGET\r\n", u64::from(mget_keys) + 1).into_bytes(),
            key_head: format!("${key_len}\r\n").into_bytes(),
            pool,
            value_size,
        }
    }

    fn key(&self, out: &mut Vec<u8>, index: u64) {
        out.extend_from_slice(&self.prefix);
        put_index(out, index);
    }

    fn get(&self, out: &mut Vec<u8>, index: u64) {
        out.extend_from_slice(&self.get_head);
        self.key(out, index);
        out.extend_from_slice(b"\r\n");
    }

    fn set(&self, out: &mut Vec<u8>, index: u64) {
        out.extend_from_slice(&self.set_head);
        self.key(out, index);
        out.extend_from_slice(&self.value_head);
        let span = (self.pool.len() - self.value_size + 1) as u64;
        let start = (index.wrapping_mul(7919) % span) as usize;
        out.extend_from_slice(&self.pool[start..start + self.value_size]);
        out.extend_from_slice(b"\r\n");
    }

    fn mget(&self, out: &mut Vec<u8>, indices: impl Iterator<Item = u64>) {
        out.extend_from_slice(&self.mget_head);
        for index in indices {
            out.extend_from_slice(&self.key_head);
            self.key(out, index);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Appends `index` as `INDEX_DIGITS` zero-padded decimal digits (`index` < `MAX_KEYS`).
fn put_index(out: &mut Vec<u8>, mut index: u64) {
    let mut digits = [b'0'; INDEX_DIGITS];
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (index % 10) as u8;
        index /= 10;
    }
    out.extend_from_slice(&digits);
}

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("connection closed by the server")]
    Closed,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// Counts complete RESP2 replies as bytes arrive, consuming them from the read buffer. It keeps
/// only two numbers between reads, so a reply split over many reads is never parsed twice, and
/// a bulk string's body is skipped without being looked at (a GET of a 1 MB value costs no more
/// than its reads).
#[derive(Debug, Default)]
struct ReplyCounter {
    /// Values still to come before the current top-level reply is complete (0 between replies).
    /// An array of n elements replaces itself with its n elements, so nesting needs no stack.
    open: u64,
    /// Bytes of a bulk string's body and final CRLF not yet received.
    skip: usize,
    errors: u64,
    first_error: Option<String>,
    /// Nil bulk or array replies (GET misses).
    nils: u64,
}

impl ReplyCounter {
    /// Consumes every complete element at the front of `buf` (and any bulk body bytes there) and
    /// returns how many top-level replies that completed; an incomplete line stays in `buf`.
    fn feed(&mut self, buf: &mut BytesMut) -> Result<u64, LoadError> {
        let mut replies = 0;
        loop {
            if self.skip > 0 {
                let n = self.skip.min(buf.len());
                buf.advance(n);
                self.skip -= n;
                if self.skip > 0 {
                    return Ok(replies);
                }
                replies += self.value_done();
                continue;
            }
            let Some(newline) = buf.iter().position(|&b| b == b'\n') else {
                if buf.len() > MAX_LINE {
                    return Err(LoadError::Protocol(format!("no line end in {} bytes", buf.len())));
                }
                return Ok(replies);
            };
            if newline < 1 || buf[newline - 1] != b'\r' {
                return Err(LoadError::Protocol("line without CRLF".to_owned()));
            }
            let line = &buf[1..newline - 1];
            if self.open == 0 {
                self.open = 1;
            }
            match buf[0] {
                b'+' | b':' => replies += self.value_done(),
                b'-' => {
                    self.errors += 1;
                    if self.first_error.is_none() {
                        self.first_error = Some(String::from_utf8_lossy(line).into_owned());
                    }
                    replies += self.value_done();
                }
                b'$' => match parse_length(line)? {
                    None => {
                        self.nils += 1;
                        replies += self.value_done();
                    }
                    Some(len) => self.skip = len + 2,
                },
                b'*' => match parse_length(line)? {
                    None => {
                        self.nils += 1;
                        replies += self.value_done();
                    }
                    Some(0) => replies += self.value_done(),
                    Some(n) => self.open += n as u64 - 1,
                },
                other => return Err(LoadError::Protocol(format!("unexpected reply type byte {other:#04x}"))),
            }
            buf.advance(newline + 1);
        }
    }

    /// One value finished: returns 1 when that completed a top-level reply.
    fn value_done(&mut self) -> u64 {
        self.open -= 1;
        u64::from(self.open == 0)
    }
}

/// A bulk or array length: `None` for -1 (nil).
fn parse_length(text: &[u8]) -> Result<Option<usize>, LoadError> {
    if text == b"-1" {
        return Ok(None);
    }
    let bad = || LoadError::Protocol(format!("bad length {:?}", String::from_utf8_lossy(text)));
    if text.is_empty() || text.len() > 18 || !text.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    Ok(Some(text.iter().fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'))))
}

/// Latencies in microseconds, log-linear buckets as in HdrHistogram: exact below 256 µs, then
/// 128 buckets per power of two (under 0.8% error). Fixed memory whatever the request count.
#[derive(Clone, Debug)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

const SUB_BITS: u32 = 7;
const EXACT: u64 = 2 << SUB_BITS;

impl Histogram {
    fn new() -> Histogram {
        // Exact values, then one group of buckets per octave from 2^(SUB_BITS+1) to 2^63.
        let buckets = EXACT as usize + ((64 - (SUB_BITS as usize + 1)) << SUB_BITS);
        Histogram { buckets: vec![0; buckets], count: 0, sum: 0, min: u64::MAX, max: 0 }
    }

    fn index(us: u64) -> usize {
        if us < EXACT {
            return us as usize;
        }
        let octave = 63 - us.leading_zeros(); // ≥ SUB_BITS + 1
        let sub = (us >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        (EXACT + (u64::from(octave - SUB_BITS - 1) << SUB_BITS) + sub) as usize
    }

    /// The largest value that falls in bucket `i` (HdrHistogram's "highest equivalent value").
    fn highest(i: usize) -> u64 {
        let i = i as u64;
        if i < EXACT {
            return i;
        }
        let octave = ((i - EXACT) >> SUB_BITS) as u32 + SUB_BITS + 1;
        let sub = (i - EXACT) & ((1 << SUB_BITS) - 1);
        let width = 1u64 << (octave - SUB_BITS);
        ((1 << SUB_BITS) + sub) * width + (width - 1)
    }

    /// `times` requests that each took `us`.
    fn record(&mut self, us: u64, times: u64) {
        self.buckets[Self::index(us)] += times;
        self.count += times;
        self.sum += u128::from(us) * u128::from(times);
        self.min = self.min.min(us);
        self.max = self.max.max(us);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The latency at quantile `q` (0..=1) in µs, within the bucket error and never above the max.
    fn quantile(&self, q: f64) -> u64 {
        let target = ((self.count as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Self::highest(i).min(self.max);
            }
        }
        self.max
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }
}

/// What the clients share (read-only, but for the progress counter).
struct Bench {
    encoder: Encoder,
    keys: KeyDraw,
    pipeline: u64,
    /// Requests answered so far, for the progress line.
    done: AtomicU64,
}

/// One client's share of the work.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// `requests` drawn from the distribution, stopping early once `deadline` has passed.
    Random { op: Op, requests: u64, deadline: Option<Instant>, seed: u64 },
    /// Every key of `from..to` once, in order: SET (fill) or GET (warm).
    Sweep { set: bool, from: u64, to: u64 },
}

/// A client's connection: its socket, read buffer and reply counter.
struct Connection {
    stream: TcpStream,
    input: BytesMut,
    replies: ReplyCounter,
}

impl Connection {
    async fn open(host: &str, port: u16) -> Result<Connection, LoadError> {
        let addr = format!("{host}:{port}");
        let stream = TcpStream::connect(&addr).await.map_err(|source| LoadError::Connect { addr, source })?;
        // Pipeline 1 is a stream of small writes each awaited by its reply: Nagle would hold them.
        stream.set_nodelay(true)?;
        Ok(Connection { stream, input: BytesMut::with_capacity(64 << 10), replies: ReplyCounter::default() })
    }

    /// Sends `requests` (`count` commands) in one write and waits for exactly `count` replies.
    async fn round_trip(&mut self, requests: &[u8], count: u64) -> Result<(), LoadError> {
        self.stream.write_all(requests).await?;
        let mut got = self.replies.feed(&mut self.input)?;
        while got < count {
            // Reading into the spare capacity of one buffer; `reserve` reuses its front once
            // everything read has been consumed, so a long run does not grow it.
            if self.input.capacity() - self.input.len() < 16 << 10 {
                self.input.reserve(64 << 10);
            }
            if self.stream.read_buf(&mut self.input).await? == 0 {
                return Err(LoadError::Closed);
            }
            got += self.replies.feed(&mut self.input)?;
        }
        if got > count || !self.input.is_empty() {
            return Err(LoadError::Protocol(format!("more replies than the {count} requests sent")));
        }
        Ok(())
    }

    /// A round trip whose time is charged to each of its `count` requests, as redis-benchmark
    /// does with -P: stamping each reply's arrival would cost a clock read per reply for a
    /// figure that scripts compare against redis-benchmark's anyway.
    async fn timed(
        &mut self,
        requests: &[u8],
        count: u64,
        latency: &mut Histogram,
        done: &AtomicU64,
    ) -> Result<(), LoadError> {
        let start = Instant::now();
        self.round_trip(requests, count).await?;
        latency.record(start.elapsed().as_micros() as u64, count);
        done.fetch_add(count, Ordering::Relaxed);
        Ok(())
    }
}

/// What a client brings back.
struct ClientReport {
    latency: Histogram,
    replies: ReplyCounter,
}

async fn client(mut conn: Connection, bench: Arc<Bench>, plan: Plan) -> Result<ClientReport, LoadError> {
    let mut out = Vec::new();
    let mut latency = Histogram::new();
    match plan {
        Plan::Random { op, requests, deadline, seed } => {
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut sent = 0;
            while sent < requests && deadline.is_none_or(|d| Instant::now() < d) {
                let count = bench.pipeline.min(requests - sent);
                out.clear();
                for _ in 0..count {
                    let (enc, keys) = (&bench.encoder, &bench.keys);
                    match op {
                        Op::Set => enc.set(&mut out, keys.draw(&mut rng)),
                        Op::Get => enc.get(&mut out, keys.draw(&mut rng)),
                        Op::Mix { get, set } => {
                            let index = keys.draw(&mut rng);
                            if rng.random_range(0..get + set) < get {
                                enc.get(&mut out, index);
                            } else {
                                enc.set(&mut out, index);
                            }
                        }
                        Op::Mget(n) => enc.mget(&mut out, (0..n).map(|_| keys.draw(&mut rng))),
                    }
                }
                conn.timed(&out, count, &mut latency, &bench.done).await?;
                sent += count;
            }
        }
        Plan::Sweep { set, from, to } => {
            let mut next = from;
            while next < to {
                let end = (next + bench.pipeline).min(to);
                out.clear();
                for index in next..end {
                    if set {
                        bench.encoder.set(&mut out, index);
                    } else {
                        bench.encoder.get(&mut out, index);
                    }
                }
                conn.timed(&out, end - next, &mut latency, &bench.done).await?;
                next = end;
            }
        }
    }
    Ok(ClientReport { latency, replies: conn.replies })
}

/// The result line, in redis-benchmark's `--csv` shape.
struct Summary {
    test: String,
    requests: u64,
    seconds: f64,
    latency: Histogram,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        let h = &self.latency;
        writeln!(
            f,
            "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\""
        )?;
        write!(
            f,
            "\"{}\",\"{:.2}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\"",
            self.test,
            self.requests as f64 / self.seconds,
            h.mean() / 1000.0,
            ms(if h.count == 0 { 0 } else { h.min }),
            ms(h.quantile(0.50)),
            ms(h.quantile(0.95)),
            ms(h.quantile(0.99)),
            ms(h.max),
        )
    }
}

/// Validated settings: everything clap's attributes cannot check alone.
fn check(args: &Args) -> Result<(), (ErrorKind, String)> {
    if matches!(args.workload, Workload::Random(_)) && args.requests.is_none() && args.seconds.is_none() {
        return Err((ErrorKind::MissingRequiredArgument, "--requests N or --seconds S is required".to_owned()));
    }
    if args.key_prefix.contains(['\r', '\n']) {
        return Err((ErrorKind::ValueValidation, "--key-prefix must not contain CR or LF".to_owned()));
    }
    if args.value_size > 512 << 20 {
        return Err((ErrorKind::ValueValidation, "--value-size is at most 512 MiB (proto-max-bulk-len)".to_owned()));
    }
    Ok(())
}

/// Connects every client, runs them (timed from the moment all are connected) and prints the
/// result.
async fn run(args: Args, bench: Arc<Bench>) -> Result<(), LoadError> {
    let clients = u64::from(args.clients);
    let mut conns = Vec::with_capacity(args.clients as usize);
    for _ in 0..clients {
        conns.push(Connection::open(&args.host, args.port).await?);
    }
    let start = Instant::now();
    let deadline = args.seconds.map(|s| start + Duration::from_secs_f64(s));
    let total = match (args.workload, args.requests) {
        (Workload::Fill | Workload::Warm, _) => Some(args.keys),
        (Workload::Random(_), requests) if deadline.is_none() => requests,
        _ => None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (c, conn) in (0..clients).zip(conns) {
        let plan = match args.workload {
            Workload::Random(op) => Plan::Random {
                op,
                // Evenly: the first `requests % clients` clients take one more.
                requests: match args.requests {
                    Some(n) => n / clients + u64::from(c < n % clients),
                    None => u64::MAX,
                },
                deadline,
                seed: 0x5EED_u64 ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            },
            // Contiguous ranges that differ by at most one key.
            sweep => Plan::Sweep {
                set: sweep == Workload::Fill,
                from: (u128::from(args.keys) * u128::from(c) / u128::from(clients)) as u64,
                to: (u128::from(args.keys) * u128::from(c + 1) / u128::from(clients)) as u64,
            },
        };
        tasks.spawn(client(conn, bench.clone(), plan));
    }
    let test = args.workload.name();
    let progress = tokio::spawn({
        let (bench, test) = (bench.clone(), test.clone());
        async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
            loop {
                ticks.tick().await;
                let done = bench.done.load(Ordering::Relaxed);
                let rate = done as f64 / start.elapsed().as_secs_f64();
                match total {
                    Some(total) => eprintln!("{test}: {done}/{total} requests, {rate:.0} ops/s"),
                    None => eprintln!("{test}: {done} requests, {rate:.0} ops/s"),
                }
            }
        }
    });
    let mut latency = Histogram::new();
    let (mut errors, mut nils, mut first_error) = (0, 0, None);
    while let Some(joined) = tasks.join_next().await {
        // A failed client ends the run at once (returning drops the other tasks): its numbers
        // would mean nothing.
        let report = joined.map_err(|e| LoadError::Io(std::io::Error::other(e)))??;
        latency.merge(&report.latency);
        errors += report.replies.errors;
        nils += report.replies.nils;
        first_error = first_error.or(report.replies.first_error);
    }
    let seconds = start.elapsed().as_secs_f64();
    progress.abort();
    let requests = latency.count;
    eprintln!(
        "{test}: {requests} requests in {seconds:.2} s from {clients} clients, pipeline {}: {:.0} ops/s; \
         {errors} error replies, {nils} nil replies",
        bench.pipeline,
        requests as f64 / seconds
    );
    if let Some(first) = first_error {
        eprintln!("first error reply: {first}");
    }
    println!("{}", Summary { test, requests, seconds, latency });
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err((kind, message)) = check(&args) {
        Args::command().error(kind, message).exit();
    }
    let sweep = matches!(args.workload, Workload::Fill | Workload::Warm);
    let pipeline = args.pipeline.unwrap_or(if sweep { SWEEP_PIPELINE } else { 1 });
    let keys = match KeyDraw::new(args.dist, args.keys) {
        Ok(keys) => keys,
        Err(e) => Args::command().error(ErrorKind::ValueValidation, format!("--dist: {e}")).exit(),
    };
    let mget_keys = match args.workload {
        Workload::Random(Op::Mget(n)) => n,
        _ => 1,
    };
    let bench = Arc::new(Bench {
        encoder: Encoder::new(args.key_prefix.as_bytes(), args.value_size, mget_keys),
        keys,
        pipeline: u64::from(pipeline),
        done: AtomicU64::new(0),
    });
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n.into()).enable_all().build(),
    };
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(args, bench)),
        Err(e) => Err(LoadError::Io(e)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in pieces of `step` bytes and returns the replies counted after each piece.
    fn count_in_steps(bytes: &[u8], step: usize) -> (Vec<u64>, ReplyCounter) {
        let mut counter = ReplyCounter::default();
        let mut buf = BytesMut::new();
        let mut counts = Vec::new();
        for piece in bytes.chunks(step) {
            buf.extend_from_slice(piece);
            counts.push(counter.feed(&mut buf).unwrap());
        }
        assert!(buf.is_empty(), "left over: {buf:?}");
        (counts, counter)
    }

    #[test]
    fn counts_each_reply_type_once() {
        let stream = b"+OK\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n-ERR wrong\r\n";
        let (counts, counter) = count_in_steps(stream, stream.len());
        assert_eq!(counts, vec![8]);
        assert_eq!(counter.errors, 1);
        assert_eq!(counter.first_error.as_deref(), Some("ERR wrong"));
        assert_eq!(counter.nils, 2);
        assert_eq!(counter.open, 0);
    }

    #[test]
    fn nested_arrays_are_one_reply() {
        // [[1, "ab"], nil, [], [[x]]], then +OK.
        let stream = b"*4\r\n*2\r\n:1\r\n$2\r\nab\r\n*-1\r\n*0\r\n*1\r\n*1\r\n+x\r\n+OK\r\n";
        let (counts, counter) = count_in_steps(stream, stream.len());
        assert_eq!(counts, vec![2]);
        assert_eq!(counter.nils, 1);
    }

    #[test]
    fn incomplete_frames_wait_for_the_rest() {
        // Split at every possible point, including inside CRLFs and inside a bulk body that
        // holds CRLF itself: the totals never change and nothing completes early.
        let stream = b"$4\r\na\r\nb\r\n*2\r\n$3\r\nfoo\r\n$-1\r\n-ERR x\r\n:7\r\n";
        for step in 1..stream.len() {
            let (counts, counter) = count_in_steps(stream, step);
            assert_eq!(counts.iter().sum::<u64>(), 4, "step {step}");
            assert_eq!((counter.errors, counter.nils), (1, 1), "step {step}");
        }
        // Byte by byte, each reply counts exactly when its last byte arrives.
        let (counts, _) = count_in_steps(stream, 1);
        let ends: Vec<usize> = counts.iter().enumerate().filter(|(_, &c)| c == 1).map(|(i, _)| i + 1).collect();
        assert_eq!(ends, vec![10, 28, 36, 40]);
    }

    #[test]
    fn a_large_bulk_is_skipped_across_reads() {
        let mut stream = b"$100000\r\n".to_vec();
        stream.extend(std::iter::repeat_n(b'v', 100_000));
        stream.extend_from_slice(b"\r\n+OK\r\n");
        let (counts, _) = count_in_steps(&stream, 4096);
        assert_eq!(counts.iter().sum::<u64>(), 2);
        assert_eq!(counts.iter().filter(|&&c| c > 0).count(), 1, "both complete in the last piece");
    }

    #[test]
    fn protocol_errors_are_reported() {
        for bad in [&b"?what\r\n"[..], b"$abc\r\n", b"*-2\r\n", b"+no cr\n"] {
            let mut buf = BytesMut::from(bad);
            assert!(matches!(ReplyCounter::default().feed(&mut buf), Err(LoadError::Protocol(_))), "{bad:?}");
        }
    }

    #[test]
    fn keys_have_a_fixed_width() {
        let enc = Encoder::new(b"key:", 3, 2);
        let mut out = Vec::new();
        enc.key(&mut out, 0);
        assert_eq!(out, b"key:000000000000");
        out.clear();
        enc.key(&mut out, MAX_KEYS - 1);
        assert_eq!(out, b"key:999999999999");
        out.clear();
        enc.get(&mut out, 42);
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000042\r\n");
        out.clear();
        enc.mget(&mut out, [1, 2].into_iter());
        assert_eq!(out, b"*3\r\n$4\r\nMGET\r\n$16\r\nkey:000000000001\r\n$16\r\nkey:000000000002\r\n");
        out.clear();
        enc.set(&mut out, 7);
        let head = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000007\r\n$3\r\n";
        assert_eq!(&out[..head.len()], head);
        assert_eq!(out.len(), head.len() + 3 + 2);
        assert!(out.ends_with(b"\r\n"));
    }

    #[test]
    fn scramble_is_a_bijection_in_range() {
        for n in [1u64, 2, 3, 7, 1000, 1024, 1025, 65_537] {
            let s = Scramble::new(n);
            let mut seen = vec![false; n as usize];
            for rank in 0..n {
                let i = s.index(rank);
                assert!(i < n, "n={n}: rank {rank} -> {i}");
                assert!(!seen[i as usize], "n={n}: {i} twice");
                seen[i as usize] = true;
            }
        }
        let s = Scramble::new(MAX_KEYS);
        assert!((0..10_000).chain(MAX_KEYS - 10_000..MAX_KEYS).all(|r| s.index(r) < MAX_KEYS));
    }

    #[test]
    fn hot_keys_are_spread_out() {
        for n in [100_000u64, 1_000_000, 10_000_000] {
            let s = Scramble::new(n);
            let mut hot: Vec<u64> = (0..32).map(|rank| s.index(rank)).collect();
            hot.sort_unstable();
            let closest = hot.windows(2).map(|w| w[1] - w[0]).min().unwrap();
            assert!(closest > 1, "n={n}: hot keys {hot:?} has neighbours");
        }
    }

    #[test]
    fn zipf_draws_are_in_range_and_skewed() {
        let n = 100_000;
        let keys = KeyDraw::new(Dist::Zipf { theta: 0.99 }, n).unwrap();
        let mut rng = SmallRng::seed_from_u64(1);
        let mut counts = vec![0u32; n as usize];
        let draws = 200_000;
        for _ in 0..draws {
            let i = keys.draw(&mut rng);
            assert!(i < n);
            counts[i as usize] += 1;
        }
        let (hottest, &top) = counts.iter().enumerate().max_by_key(|&(_, c)| c).unwrap();
        let share = f64::from(top) / draws as f64;
        assert!((0.03..0.15).contains(&share), "hottest key took {share}");
        assert_eq!(hottest as u64, Scramble::new(n).index(0), "the hottest key is rank 0's");
        let uniform = KeyDraw::new(Dist::Uniform, 10).unwrap();
        assert!((0..1000).all(|_| uniform.draw(&mut rng) < 10));
        let single = KeyDraw::new(Dist::Zipf { theta: 0.99 }, 1).unwrap();
        assert!((0..100).all(|_| single.draw(&mut rng) == 0));
    }

    #[test]
    fn histogram_quantiles_within_bucket_error() {
        let mut h = Histogram::new();
        for us in 1..=100_000 {
            h.record(us, 1);
        }
        for (q, want) in [(0.5, 50_000.0), (0.95, 95_000.0), (0.99, 99_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.01, "q{q}: {got} vs {want}");
        }
        assert_eq!((h.min, h.max, h.quantile(1.0)), (1, 100_000, 100_000));
        assert!((h.mean() - 50_000.5).abs() < 1e-6);
        let mut other = Histogram::new();
        other.record(3, 1_000_000);
        h.merge(&other);
        assert_eq!((h.quantile(0.5), h.min), (3, 1));
        for i in 0..h.buckets.len() {
            assert_eq!(Histogram::index(Histogram::highest(i)), i, "bucket {i}");
            if i > 0 {
                assert_eq!(Histogram::index(Histogram::highest(i - 1) + 1), i, "bucket {i} starts after {}", i - 1);
            }
        }
        assert_eq!(Histogram::index(u64::MAX), h.buckets.len() - 1);
    }

    #[test]
    fn flags_parse() {
        assert_eq!(parse_dist("zipf"), Ok(Dist::Zipf { theta: 0.99 }));
        assert_eq!(parse_dist("zipf:1.2"), Ok(Dist::Zipf { theta: 1.2 }));
        assert_eq!(parse_dist("uniform"), Ok(Dist::Uniform));
        assert!(parse_dist("zipf:0").is_err() && parse_dist("zipf:").is_err() && parse_dist("normal").is_err());
        assert_eq!(parse_workload("mix:9:1"), Ok(Workload::Random(Op::Mix { get: 9, set: 1 })));
        assert_eq!(parse_workload("mget:10").map(Workload::name), Ok("MGET_10".to_owned()));
        assert_eq!(parse_workload("mix:9:1").map(Workload::name), Ok("MIX_9_1".to_owned()));
        assert_eq!(parse_workload("fill"), Ok(Workload::Fill));
        assert_eq!(parse_workload("warm"), Ok(Workload::Warm));
        for bad in ["mix:0:0", "mix:9", "mix:9:1:1", "mget:0", "mget", "get:1", "scan", ""] {
            assert!(parse_workload(bad).is_err(), "{bad}");
        }
        let parse = |line: &str| Args::try_parse_from(line.split_whitespace());
        let args = parse("lg --port 1 --workload get --requests 10").unwrap();
        assert!(check(&args).is_ok());
        assert!(check(&parse("lg --port 1 --workload get").unwrap()).is_err());
        assert!(check(&parse("lg --port 1 --workload fill").unwrap()).is_ok());
        for bad in ["lg --workload get --requests 1", "lg --port 1 --requests 1 --seconds 1", "lg --port 1 --clients 0"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("lg --port 1 --keys {}", MAX_KEYS + 1)).is_err());
    }
}
