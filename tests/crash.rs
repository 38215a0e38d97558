//! Crash safety: writers of every data type (plain commands, MULTI/EXEC blocks, scripts) run
//! while the server is SIGKILLed at a random moment, many times, under each `appendfsync` mode.
//! After each restart every acknowledged write must be there and match a client-side model,
//! the one operation per writer in flight at the kill must be wholly there or wholly absent,
//! and the next cycle goes on from the state found (`crash/harness.rs`, `crash/model.rs`).
//! Also: kills while RocksDB compacts, and kills during a FLUSHALL of a large data set.
//!
//! A process crash must lose nothing acknowledged in any mode, `no` and `everysec` included:
//! the WAL reaches the OS before a reply is sent; only the fsync is left to the mode.
//!
//! `STRATA_CRASH_CYCLES` sets the cycles per mode (default 8; `scripts/crash-test.sh` runs
//! hundreds), `STRATA_CRASH_SEED` the seed of the operations (the timing still varies).

mod common;
#[path = "crash/harness.rs"]
mod harness;
#[path = "crash/model.rs"]
mod model;

use std::io::Write as _;
use std::time::{Duration, Instant};

use common::*;
use harness::{Config, Totals};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

fn cycles() -> usize {
    env_u64("STRATA_CRASH_CYCLES", 8) as usize
}

fn seed() -> u64 {
    env_u64("STRATA_CRASH_SEED", rand::random::<u32>() as u64)
}

/// One line of totals, on stdout (`--nocapture` shows it; scripts/crash-test.sh adds them up).
fn report(name: &str, totals: &impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "CRASH-TOTALS {name} {totals}");
}

fn kill_restart_cycles(appendfsync: &'static str) {
    if target_is_redis() {
        // Redis with `appendfsync everysec` may postpone an AOF write and still reply (see
        // tests/persistence.rs); the model and the checks run only against Strata here.
        return;
    }
    let cfg = Config { appendfsync, writers: 4, cycles: cycles(), seed: seed(), compaction: false };
    let totals = harness::run(&cfg);
    assert_eq!(totals.cycles, cfg.cycles as u64);
    assert!(totals.acked_ops > 0, "no write was acknowledged: {totals}");
    report(&format!("appendfsync={appendfsync} seed={}", cfg.seed), &totals);
}

#[test]
fn crash_appendfsync_always() {
    kill_restart_cycles("always");
}

#[test]
fn crash_appendfsync_everysec() {
    kill_restart_cycles("everysec");
}

#[test]
fn crash_appendfsync_no() {
    kill_restart_cycles("no");
}

/// Small memtables and writers of big values and big lists (deleted when big, so the
/// reclaimer compacts their range too): each kill waits until RocksDB reports a compaction
/// running.
#[test]
fn crash_during_compaction() {
    if target_is_redis() {
        return;
    }
    let cfg = Config {
        appendfsync: "everysec",
        writers: 3,
        cycles: cycles().div_ceil(2).max(2),
        seed: seed(),
        compaction: true,
    };
    let totals: Totals = harness::run(&cfg);
    assert!(totals.killed_while_compacting > 0, "no kill hit a running compaction: {totals}");
    report(&format!("compaction seed={}", cfg.seed), &totals);
}

/// Outcomes of the FLUSHALL kills.
#[derive(Default)]
struct FlushTotals {
    cycles: u64,
    acknowledged_empty: u64,
    unacknowledged_empty: u64,
    unacknowledged_whole: u64,
}

impl std::fmt::Display for FlushTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cycles={} acked_flushall_empty={} unacked_flushall_applied={} unacked_flushall_absent={} partial=0",
            self.cycles, self.acknowledged_empty, self.unacknowledged_empty, self.unacknowledged_whole
        )
    }
}

const FLUSH_KEYS: usize = 20_000;
const FLUSH_FIELDS: usize = 20_000;

/// Fills db 0 with strings and db 1 with a big hash plus strings, all carrying `round`.
fn load(c: &mut redis::Connection, round: usize) {
    for db in ["0", "1"] {
        assert_eq!(call_sync(c, &["SELECT", db]), ok());
        for chunk in (0..FLUSH_KEYS).collect::<Vec<_>>().chunks(1000) {
            let mut args = vec!["MSET".to_string()];
            for i in chunk {
                args.push(format!("k{i}"));
                args.push(format!("{round}:{i}"));
            }
            assert_eq!(call_sync(c, &args), ok());
        }
    }
    for chunk in (0..FLUSH_FIELDS).collect::<Vec<_>>().chunks(1000) {
        let mut args = vec!["HSET".to_string(), "big".to_string()];
        for i in chunk {
            args.push(format!("f{i}"));
            args.push(format!("{round}:{i}"));
        }
        call_sync(c, &args).int();
    }
    assert_eq!(call_sync(c, &["SELECT", "0"]), ok());
}

/// (keys in db 0, keys in db 1, fields of the hash) as the server holds them, counted by
/// reading them rather than from the counters.
fn held(c: &mut redis::Connection) -> (usize, usize, usize) {
    let k0 = call_sync(c, &["KEYS", "*"]).array().len();
    assert_eq!(call_sync(c, &["DBSIZE"]), int(k0 as i64), "DBSIZE of db 0");
    assert_eq!(call_sync(c, &["SELECT", "1"]), ok());
    let k1 = call_sync(c, &["KEYS", "*"]).array().len();
    assert_eq!(call_sync(c, &["DBSIZE"]), int(k1 as i64), "DBSIZE of db 1");
    let fields = call_sync(c, &["HGETALL", "big"]).array().len() / 2;
    assert_eq!(call_sync(c, &["HLEN", "big"]), int(fields as i64), "HLEN");
    assert_eq!(call_sync(c, &["SELECT", "0"]), ok());
    (k0, k1, fields)
}

/// SIGKILL a moment after FLUSHALL was sent on a large data set: after the restart the data
/// set is whole (with the values of the last load) or gone, never partly; after an
/// acknowledged FLUSHALL it is gone.
#[test]
fn crash_during_flushall() {
    if target_is_redis() {
        return;
    }
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = TestServer::start_with(&["--appendfsync", "everysec"]);
    let mut totals = FlushTotals::default();
    // How long an acknowledged FLUSHALL of this data set takes: the kills land within twice that.
    let took = {
        let mut c = s.sync_client();
        load(&mut c, 0);
        let start = Instant::now();
        assert_eq!(call_sync(&mut c, &["FLUSHALL"]), ok());
        start.elapsed()
    };
    let window = (2 * took.as_micros() as u64).max(1000);
    for round in 1..=cycles().max(4) {
        let mut c = s.sync_client();
        load(&mut c, round);
        assert_eq!(held(&mut c), (FLUSH_KEYS, FLUSH_KEYS + 1, FLUSH_FIELDS), "round {round}: after loading");
        let mut raw = s.raw();
        raw.send(&resp(&["FLUSHALL"]));
        std::thread::sleep(Duration::from_micros(rng.random_range(0..window)));
        s.kill9();
        let acked = raw.read_until_closed().starts_with(b"+OK");
        s.start_again();
        let mut c = s.sync_client();
        let found = held(&mut c);
        totals.cycles += 1;
        if found == (0, 0, 0) {
            if acked {
                totals.acknowledged_empty += 1;
            } else {
                totals.unacknowledged_empty += 1;
            }
            continue;
        }
        assert!(!acked, "round {round} (seed {seed}): FLUSHALL was acknowledged but {found:?} survived the kill");
        assert_eq!(found, (FLUSH_KEYS, FLUSH_KEYS + 1, FLUSH_FIELDS), "round {round} (seed {seed}): partial FLUSHALL");
        let last = FLUSH_KEYS - 1;
        assert_eq!(call_sync(&mut c, &["GET", &format!("k{last}")]), bulk(format!("{round}:{last}")));
        assert_eq!(call_sync(&mut c, &["SELECT", "1"]), ok());
        assert_eq!(call_sync(&mut c, &["HGET", "big", "f0"]), bulk(format!("{round}:0")));
        totals.unacknowledged_whole += 1;
    }
    report(&format!("flushall seed={seed} flushall_took={took:?}"), &totals);
}

/// The checks can fail: a write missing from the server, or a transaction found in part, is
/// reported (so a passing run means something).
#[test]
fn checker_detects_lost_and_partial_writes() {
    use harness::{check, Outcome, Writer};
    use model::{Form, Op, Write};
    if target_is_redis() {
        return;
    }
    let s = TestServer::start();
    let mut c = s.sync_client();
    let mut w = Writer::new(0, false);
    let set = Write::Set("w0:s0".into(), "v".into());
    assert_eq!(call_sync(&mut c, &set.args()), ok());
    set.apply(&mut w.state);
    assert_eq!(check(&mut c, &mut w, None, "sound").map(|r| r.0), Ok(Outcome::None));

    // Acknowledged (in the model) but not on the server.
    Write::HSet("w0:h1".into(), "f".into(), "v".into()).apply(&mut w.state);
    let lost = check(&mut c, &mut w, None, "lost").expect_err("a lost write went unnoticed");
    assert!(lost.contains("key w0:h1 lost an acknowledged write"), "{lost}");

    // The first of a transaction's two writes on the server, the other not.
    let mut w = Writer::new(0, false);
    set.apply(&mut w.state);
    let a = Write::Set("w0:a0".into(), "seq:1".into());
    let b = Write::Set("w0:a1".into(), "seq:1".into());
    assert_eq!(call_sync(&mut c, &a.args()), ok());
    let tx = Op { form: Form::Multi, writes: vec![a, b] };
    let partial = check(&mut c, &mut w, Some(&tx), "partial").expect_err("a partial transaction went unnoticed");
    assert!(partial.contains("neither absent nor whole"), "{partial}");

    // Whole: accepted as applied, and adopted by the model.
    let Write::Set(k, v) = &tx.writes[1] else { unreachable!() };
    assert_eq!(call_sync(&mut c, &["SET", k, v]), ok());
    assert_eq!(check(&mut c, &mut w, Some(&tx), "whole").map(|r| r.0), Ok(Outcome::After));
    assert_eq!(check(&mut c, &mut w, None, "adopted").map(|r| r.0), Ok(Outcome::None));
}
