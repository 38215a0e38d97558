//! A small Redis load generator for the tiered benchmark (`scripts/bench-tiered.sh`): GET/SET
//! over a fixed keyspace with a zipfian or uniform key choice, from plain threads speaking raw
//! RESP over `TcpStream` (memtier_benchmark is not packaged in Debian; redis-benchmark has no
//! zipfian keys).
//!
//! ```text
//! cargo run --release --example loadgen -- --port 7000 --load --keys 1000000 --value-size 1000
//! cargo run --release --example loadgen -- --port 7000 --warm --keys 1000000   # GET each key once
//! cargo run --release --example loadgen -- --port 7000 --keys 1000000 --distribution zipfian \
//!     --theta 0.99 --ratio 1:9 --clients 50 --duration 30
//! ```
//!
//! Keys are `key:<index>` for index 0..keys; a value is `value-size` bytes cut from a fixed
//! pseudo-random buffer (so the store can't compress it to nothing). Zipfian ranks are scattered
//! over the keyspace by a bijection, so the hot keys are not neighbours on disk. Latency is
//! measured per round trip (a whole pipeline when `--pipeline` > 1) and reported per request.
//! The last line of output is machine-readable: `RESULT key=value ...`.

use clap::{Parser, ValueEnum};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Distribution {
    Zipfian,
    Uniform,
}

#[derive(Parser, Debug, Clone)]
#[command(about = "GET/SET load over a fixed keyspace (zipfian or uniform keys), raw RESP")]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// Connections, one thread each.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// Total requests (across clients); ignored with --duration.
    #[arg(long, default_value_t = 100_000)]
    requests: u64,
    /// Run for this many seconds instead of a request count.
    #[arg(long)]
    duration: Option<f64>,
    /// Keyspace size: keys `key:0` .. `key:<keys-1>`.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    #[arg(long, value_enum, default_value_t = Distribution::Zipfian)]
    distribution: Distribution,
    /// Zipfian skew (0 < theta < 1; YCSB's default is 0.99).
    #[arg(long, default_value_t = 0.99)]
    theta: f64,
    /// SET:GET ratio, as memtier_benchmark's `--ratio` (e.g. 1:9 = 10% SETs).
    #[arg(long, default_value = "0:1")]
    ratio: String,
    /// Bytes per value.
    #[arg(long, default_value_t = 1000)]
    value_size: usize,
    /// Fill keys 0..keys with pipelined SETs (every key once), then exit.
    #[arg(long, conflicts_with = "warm")]
    load: bool,
    /// Read keys 0..keys with pipelined GETs (every key once: fills the caches), then exit.
    #[arg(long)]
    warm: bool,
    /// Label for the RESULT line.
    #[arg(long, default_value = "run")]
    label: String,
}

/// YCSB's zipfian generator (Gray et al., "Quickly generating billion-record synthetic
/// databases", SIGMOD 1994): rank 0 is the most popular; P(rank i) ∝ 1 / (i + 1)^theta.
#[derive(Debug, Clone)]
pub struct Zipfian {
    n: u64,
    theta: f64,
    alpha: f64,
    zeta_n: f64,
    eta: f64,
    half_pow_theta: f64,
}

impl Zipfian {
    /// `n` ≥ 1 items, `0 < theta < 1`. Computing ζ(n) is O(n), done once.
    pub fn new(n: u64, theta: f64) -> Zipfian {
        assert!(n >= 1 && theta > 0.0 && theta < 1.0, "zipfian needs n >= 1 and 0 < theta < 1");
        let zeta = |count: u64| (1..=count).map(|i| 1.0 / (i as f64).powf(theta)).sum::<f64>();
        let zeta_n = zeta(n);
        let zeta_2 = zeta(2.min(n));
        let eta = if n <= 2 { 0.0 } else { (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta_2 / zeta_n) };
        Zipfian { n, theta, alpha: 1.0 / (1.0 - theta), zeta_n, eta, half_pow_theta: 0.5f64.powf(theta) }
    }

    /// The probability of rank 0.
    pub fn top_probability(&self) -> f64 {
        1.0 / self.zeta_n
    }

    /// A rank in 0..n from `u`, uniform in [0, 1).
    pub fn rank(&self, u: f64) -> u64 {
        let uz = u * self.zeta_n;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + self.half_pow_theta {
            return 1.min(self.n - 1);
        }
        let r = (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        r.min(self.n - 1)
    }

    pub fn theta(&self) -> f64 {
        self.theta
    }
}

/// Spreads ranks over the keyspace: `rank · P mod n` with P a prime that doesn't divide n is a
/// bijection of 0..n, so every key stays reachable and the hottest keys are far apart.
pub fn scatter(rank: u64, n: u64) -> u64 {
    const P: u128 = 2_654_435_761;
    let p = if (n as u128).is_multiple_of(P) { 1 } else { P };
    ((rank as u128 * p) % n as u128) as u64
}

/// splitmix64: a fast per-thread generator (quality is ample for picking keys).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Latencies in microseconds, log-linear buckets (64 per power of two: < 1.6% error).
#[derive(Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { buckets: vec![0; 128 + 64 * 57], count: 0 }
    }
}

impl Histogram {
    fn index(us: u64) -> usize {
        if us < 128 {
            return us as usize;
        }
        let e = 63 - us.leading_zeros() as u64; // ≥ 7
        let sub = (us >> (e - 6)) & 63;
        (128 + (e - 7) * 64 + sub) as usize
    }

    /// The lowest value of bucket `i`.
    fn value(i: usize) -> u64 {
        if i < 128 {
            return i as u64;
        }
        let e = (i - 128) / 64 + 7;
        let sub = ((i - 128) % 64) as u64;
        (64 + sub) << (e - 6)
    }

    pub fn record(&mut self, us: u64, times: u64) {
        let i = Self::index(us).min(self.buckets.len() - 1);
        self.buckets[i] += times;
        self.count += times;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
    }

    /// The value at quantile `q` (0..=1), in microseconds.
    pub fn quantile(&self, q: f64) -> u64 {
        let target = ((self.count as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Self::value(i);
            }
        }
        0
    }
}

/// Appends one RESP command.
fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// What one reply was.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Ok,
    Value,
    Nil,
    Error(String),
}

/// Reads one reply (the subset GET and SET answer with).
fn read_reply(r: &mut BufReader<TcpStream>, line: &mut Vec<u8>) -> std::io::Result<Reply> {
    line.clear();
    r.read_until(b'\n', line)?;
    if line.len() < 3 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let text = &line[1..line.len() - 2];
    match line[0] {
        b'+' | b':' => Ok(Reply::Ok),
        b'-' => Ok(Reply::Error(String::from_utf8_lossy(text).into_owned())),
        b'$' | b'_' if text == b"-1" || line[0] == b'_' => Ok(Reply::Nil),
        b'$' => {
            let len: usize = std::str::from_utf8(text)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad bulk length"))?;
            let mut remaining = len + 2;
            while remaining > 0 {
                let buf = r.fill_buf()?;
                if buf.is_empty() {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
                }
                let n = remaining.min(buf.len());
                r.consume(n);
                remaining -= n;
            }
            Ok(Reply::Value)
        }
        other => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unexpected reply type {:?}", other as char),
        )),
    }
}

#[derive(Default)]
struct Totals {
    gets: AtomicU64,
    sets: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

/// What a worker thread does: its own connection, keys and histogram.
struct Worker {
    args: Args,
    zipf: Option<Arc<Zipfian>>,
    values: Arc<Vec<u8>>,
    set_per_mille: u64,
    totals: Arc<Totals>,
}

impl Worker {
    fn connect(&self) -> std::io::Result<(TcpStream, BufReader<TcpStream>)> {
        let stream = TcpStream::connect((self.args.host.as_str(), self.args.port))?;
        stream.set_nodelay(true)?;
        let reader = BufReader::with_capacity(256 << 10, stream.try_clone()?);
        Ok((stream, reader))
    }

    fn value(&self, index: u64) -> &[u8] {
        let span = self.values.len() - self.args.value_size;
        let start = (index.wrapping_mul(7919) % span as u64) as usize;
        &self.values[start..start + self.args.value_size]
    }

    /// Sends every key of `range` once, `pipeline` SETs (GETs with `--warm`) per round trip.
    fn sweep(&self, range: std::ops::Range<u64>) -> std::io::Result<Histogram> {
        let (mut stream, mut reader) = self.connect()?;
        let mut hist = Histogram::default();
        let (mut out, mut line) = (Vec::new(), Vec::new());
        let mut next = range.start;
        while next < range.end {
            let batch_end = (next + self.args.pipeline as u64).min(range.end);
            out.clear();
            for i in next..batch_end {
                let key = format!("key:{i}");
                if self.args.warm {
                    command(&mut out, &[b"GET", key.as_bytes()]);
                } else {
                    command(&mut out, &[b"SET", key.as_bytes(), self.value(i)]);
                }
            }
            let t = Instant::now();
            stream.write_all(&out)?;
            for _ in next..batch_end {
                match read_reply(&mut reader, &mut line)? {
                    Reply::Error(e) => {
                        if self.totals.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("error reply: {e}");
                        }
                    }
                    Reply::Nil => {
                        self.totals.misses.fetch_add(1, Ordering::Relaxed);
                    }
                    Reply::Ok | Reply::Value => {}
                }
            }
            let n = batch_end - next;
            hist.record(t.elapsed().as_micros() as u64, n);
            let counter = if self.args.warm { &self.totals.gets } else { &self.totals.sets };
            counter.fetch_add(n, Ordering::Relaxed);
            next = batch_end;
        }
        Ok(hist)
    }

    /// GETs and SETs until `requests` are done or `stop` is set.
    fn run(&self, seed: u64, requests: u64, stop: &AtomicBool) -> std::io::Result<Histogram> {
        let (mut stream, mut reader) = self.connect()?;
        let mut rng = Rng(seed);
        let mut hist = Histogram::default();
        let (mut out, mut line) = (Vec::new(), Vec::new());
        let mut kinds = Vec::with_capacity(self.args.pipeline);
        let mut done = 0;
        while done < requests && !stop.load(Ordering::Relaxed) {
            out.clear();
            kinds.clear();
            let n = (self.args.pipeline as u64).min(requests - done);
            for _ in 0..n {
                let index = match &self.zipf {
                    Some(z) => scatter(z.rank(rng.unit()), self.args.keys),
                    None => rng.next() % self.args.keys,
                };
                let key = format!("key:{index}");
                let is_set = rng.next() % 1000 < self.set_per_mille;
                if is_set {
                    command(&mut out, &[b"SET", key.as_bytes(), self.value(index)]);
                } else {
                    command(&mut out, &[b"GET", key.as_bytes()]);
                }
                kinds.push(is_set);
            }
            let t = Instant::now();
            stream.write_all(&out)?;
            for &is_set in &kinds {
                match read_reply(&mut reader, &mut line)? {
                    Reply::Nil => {
                        self.totals.misses.fetch_add(1, Ordering::Relaxed);
                    }
                    Reply::Error(e) => {
                        if self.totals.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("error reply: {e}");
                        }
                    }
                    Reply::Ok | Reply::Value => {}
                }
                let counter = if is_set { &self.totals.sets } else { &self.totals.gets };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            // Every request of a pipeline waited for the whole round trip.
            hist.record(t.elapsed().as_micros() as u64, n);
            done += n;
        }
        Ok(hist)
    }
}

fn parse_ratio(s: &str) -> Option<u64> {
    let (set, get) = s.split_once(':')?;
    let (set, get): (u64, u64) = (set.trim().parse().ok()?, get.trim().parse().ok()?);
    (set + get > 0).then(|| set * 1000 / (set + get))
}

fn main() {
    let args = Args::parse();
    let Some(set_per_mille) = parse_ratio(&args.ratio) else {
        eprintln!("--ratio takes SET:GET, e.g. 1:9");
        std::process::exit(2);
    };
    if args.keys == 0 || args.clients == 0 || args.pipeline == 0 {
        eprintln!("--keys, --clients and --pipeline must be at least 1");
        std::process::exit(2);
    }
    let sweep = args.load || args.warm;
    let zipf = (args.distribution == Distribution::Zipfian && !sweep).then(|| {
        if !(args.theta > 0.0 && args.theta < 1.0) {
            eprintln!("--theta must be in (0, 1)");
            std::process::exit(2);
        }
        Arc::new(Zipfian::new(args.keys, args.theta))
    });
    let mut values = vec![0u8; (args.value_size * 4).max(64 << 10)];
    let mut rng = Rng(42);
    for b in values.iter_mut() {
        // Printable bytes that LZ4 can't shrink much.
        *b = b'!' + (rng.next() % 94) as u8;
    }
    let totals = Arc::new(Totals::default());
    let stop = Arc::new(AtomicBool::new(false));
    let worker = |_: usize| Worker {
        args: args.clone(),
        zipf: zipf.clone(),
        values: Arc::new(values.clone()),
        set_per_mille,
        totals: totals.clone(),
    };

    let start = Instant::now();
    let handles: Vec<_> = (0..args.clients)
        .map(|c| {
            let w = worker(c);
            let stop = stop.clone();
            let clients = args.clients as u64;
            std::thread::spawn(move || {
                if w.args.load || w.args.warm {
                    let per = w.args.keys.div_ceil(clients);
                    let from = (c as u64 * per).min(w.args.keys);
                    w.sweep(from..(from + per).min(w.args.keys))
                } else {
                    let requests = match w.args.duration {
                        Some(_) => u64::MAX,
                        None => w.args.requests / clients + u64::from((c as u64) < w.args.requests % clients),
                    };
                    w.run(0x5EED ^ (c as u64).wrapping_mul(0x9E37_79B9), requests, &stop)
                }
            })
        })
        .collect();
    if let Some(secs) = args.duration {
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    }
    let mut hist = Histogram::default();
    let mut failed = false;
    for h in handles {
        match h.join() {
            Ok(Ok(part)) => hist.merge(&part),
            Ok(Err(e)) => {
                eprintln!("client failed: {e}");
                failed = true;
            }
            Err(_) => failed = true,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let (gets, sets) = (totals.gets.load(Ordering::Relaxed), totals.sets.load(Ordering::Relaxed));
    let (misses, errors) = (totals.misses.load(Ordering::Relaxed), totals.errors.load(Ordering::Relaxed));
    let ops = gets + sets;
    let ms = |q: f64| hist.quantile(q) as f64 / 1000.0;
    let shape = match &zipf {
        _ if args.load => "load".to_owned(),
        _ if args.warm => "warm".to_owned(),
        Some(z) => format!("zipfian({})", z.theta()),
        None => "uniform".to_owned(),
    };
    println!(
        "{shape}: {ops} requests ({gets} GET, {sets} SET, {misses} GET misses, {errors} errors) in {secs:.1} s \
         from {} clients, pipeline {}",
        args.clients, args.pipeline
    );
    println!(
        "throughput {:.0} ops/s; latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms",
        ops as f64 / secs,
        ms(0.5),
        ms(0.99),
        ms(0.999)
    );
    println!(
        "RESULT label={} mode={shape} clients={} pipeline={} keys={} value_size={} ops={ops} gets={gets} sets={sets} \
         misses={misses} errors={errors} seconds={secs:.2} ops_per_sec={:.0} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3}",
        args.label,
        args.clients,
        args.pipeline,
        args.keys,
        args.value_size,
        ops as f64 / secs,
        ms(0.5),
        ms(0.99),
        ms(0.999)
    );
    if failed || errors > 0 {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipfian_ranks_stay_in_range_and_follow_the_law() {
        let n = 10_000;
        let z = Zipfian::new(n, 0.99);
        let mut rng = Rng(7);
        let samples = 400_000;
        let mut counts = vec![0u64; n as usize];
        for _ in 0..samples {
            let r = z.rank(rng.unit());
            assert!(r < n);
            counts[r as usize] += 1;
        }
        // Rank 0 comes up with probability 1/ζ(n) (about 10% here).
        let top = counts[0] as f64 / samples as f64;
        assert!((top - z.top_probability()).abs() < 0.01, "rank 0 at {top}, expected {}", z.top_probability());
        // P(0)/P(1) = 2^θ.
        let ratio = counts[0] as f64 / counts[1] as f64;
        assert!((ratio - 2f64.powf(0.99)).abs() < 0.15, "P0/P1 = {ratio}");
        // Skewed: the hottest 1% of ranks take over half of the requests; the tail is reached.
        let hot: u64 = counts[..(n / 100) as usize].iter().sum();
        assert!(hot as f64 / samples as f64 > 0.5, "hottest 1% took {hot}");
        assert!(counts[(n / 2) as usize..].iter().sum::<u64>() > 0);
    }

    #[test]
    fn zipfian_edges() {
        let one = Zipfian::new(1, 0.5);
        assert_eq!((one.rank(0.0), one.rank(0.999_999)), (0, 0));
        let two = Zipfian::new(2, 0.99);
        assert!([two.rank(0.0), two.rank(0.7), two.rank(0.999_999)].iter().all(|&r| r < 2));
        let big = Zipfian::new(1_000_000, 0.99);
        assert_eq!(big.rank(0.0), 0);
        assert!(big.rank(0.999_999_9) < 1_000_000);
    }

    #[test]
    fn scatter_is_a_bijection() {
        for n in [1u64, 2, 7, 1000, 4096, 12_345] {
            let mut seen = vec![false; n as usize];
            for r in 0..n {
                let i = scatter(r, n);
                assert!(!seen[i as usize], "n={n}: {i} twice");
                seen[i as usize] = true;
            }
        }
        // Neighbouring ranks land far apart.
        assert!(scatter(1, 1_000_000).abs_diff(scatter(0, 1_000_000)) > 1000);
    }

    #[test]
    fn histogram_quantiles_within_bucket_error() {
        let mut h = Histogram::default();
        for us in 1..=10_000 {
            h.record(us, 1);
        }
        for (q, want) in [(0.5, 5000.0), (0.99, 9900.0), (0.999, 9990.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.02, "q{q}: {got} vs {want}");
        }
        let mut other = Histogram::default();
        other.record(3, 10_000);
        h.merge(&other);
        assert_eq!(h.quantile(0.5), 3);
        for i in 0..Histogram::default().buckets.len() {
            assert_eq!(Histogram::index(Histogram::value(i)), i);
        }
    }

    #[test]
    fn ratio_parses_like_memtier() {
        assert_eq!(parse_ratio("1:9"), Some(100));
        assert_eq!(parse_ratio("0:1"), Some(0));
        assert_eq!(parse_ratio("1:0"), Some(1000));
        assert_eq!(parse_ratio("0:0"), None);
        assert_eq!(parse_ratio("x"), None);
    }
}
