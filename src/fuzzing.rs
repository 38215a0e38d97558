//! Fuzz entry points: plain functions that `fuzz/` (cargo-fuzz, nightly) and the stable smoke
//! test `tests/fuzz_smoke.rs` both call with arbitrary bytes.
//!
//! [`resp_parser`] checks the request codec's invariants; [`dispatcher`] runs the bytes as
//! commands through the real command layer against one temporary storage per process. Both
//! panic only when an invariant breaks (that is the finding). Nothing here is on a server path.

use crate::commands::{self, Ctx};
use crate::config::Config;
use crate::error::CmdResult;
use crate::reply::Reply;
use crate::server::codec::{Limits, Parser, ProtocolError, PROTO_INLINE_MAX_SIZE};
use crate::state::clients::ClientHandle;
use crate::state::{Session, Shared};
use crate::storage::{Storage, StorageOptions};
use bytes::{Bytes, BytesMut};
use std::sync::{Arc, OnceLock};

/// What parsing a whole input yields: the commands, then the error that stopped it (if any).
type Parsed = (Vec<Vec<Bytes>>, Option<ProtocolError>);

/// Parses `chunks` fed one after the other to one parser, checking on every call that no more
/// bytes were consumed than were buffered.
fn parse_chunks<'a>(chunks: impl Iterator<Item = &'a [u8]>, limits: &Limits) -> Parsed {
    let mut parser = Parser::new();
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            match parser.next_command(&mut buf, limits) {
                Ok(Some(cmd)) => {
                    assert!(buf.len() < before, "a command was parsed out of no bytes");
                    assert!(!cmd.is_empty(), "an empty command was returned");
                    commands.push(cmd);
                }
                Ok(None) => {
                    assert!(buf.len() <= before, "the parser grew the buffer");
                    break;
                }
                Err(e) => return (commands, Some(e)),
            }
        }
    }
    (commands, None)
}

/// The RESP request parser never panics on any bytes, never consumes more than it was given,
/// and parses the same commands (and stops at the same error) whether the bytes arrive at once,
/// split in two at any byte, or one byte at a time.
///
/// The first byte picks the limits (authenticated or not, a small `proto-max-bulk-len`), so the
/// fuzzer reaches the limit checks too; the rest is the input.
pub fn resp_parser(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else { return };
    let limits = Limits {
        proto_max_bulk_len: if selector & 1 == 0 { 512 * 1024 * 1024 } else { 64 },
        query_buffer_limit: if selector & 2 == 0 { 1024 * 1024 * 1024 } else { 256 },
        authenticated: selector & 4 == 0,
    };
    let whole = parse_chunks(std::iter::once(input), &limits);
    // The size limits (64 KiB lines, the query buffer) apply to what is buffered when the
    // parser is called, so as in Redis, which checks per read, a split input may be refused
    // where the whole is not: only compare splits of inputs no limit can reach.
    if input.len() > PROTO_INLINE_MAX_SIZE || input.len() as u64 > limits.query_buffer_limit {
        return;
    }
    // Split at every byte for short inputs, at a spread of points for long ones.
    let step = (input.len() / 64).max(1);
    for split in (0..=input.len()).step_by(step) {
        let (a, b) = input.split_at(split);
        let parts = parse_chunks([a, b].into_iter(), &limits);
        assert_eq!(parts, whole, "split at {split}");
    }
    if input.len() <= 4096 {
        let bytewise = parse_chunks(input.chunks(1), &limits);
        assert_eq!(bytewise, whole, "fed one byte at a time");
    }
}

/// Commands the dispatcher does not run: they stop the process, sleep, write checkpoints,
/// run arbitrary Lua (an endless loop is a hang, not a finding), or raise the limits that keep
/// one input's memory small.
const NOT_FUZZED: &[&str] = &[
    "shutdown",
    "debug",
    "monitor",
    "save",
    "bgsave",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "function|load",
    "function|restore",
    "config|set",
    "config|rewrite",
];

/// At most this many commands of one input are run.
const MAX_COMMANDS: usize = 32;

/// The process's fuzzing data directory.
fn data_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("strata-fuzz-{}", std::process::id()))
}

/// Closes the fuzzing storage's files and removes its directory: call once at the end of a
/// process that ran [`dispatcher`] (a test; libFuzzer processes leave it to the OS's tmp).
pub fn remove_data_dir() {
    if let Some(shared) = SHARED.get() {
        shared.storage.close();
    }
    let _ = std::fs::remove_dir_all(data_dir());
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// The process's fuzzing server state: one storage in a fresh temporary directory.
fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let dir = data_dir();
        let _ = std::fs::remove_dir_all(&dir);
        let opts = StorageOptions { dir, ..StorageOptions::default() };
        #[allow(clippy::expect_used)] // start-up of the fuzzing process: nothing to fuzz without it
        let storage = Storage::open(&opts, Arc::new(crate::clock::Clock::new())).expect("open the fuzzing storage");
        // A small bulk limit bounds what SETRANGE, APPEND and friends may allocate.
        let config = Config { proto_max_bulk_len: 1024 * 1024, ..Config::default() };
        let telemetry = crate::telemetry::Telemetry::new(std::iter::empty(), &config);
        Shared::new(storage, config, telemetry)
    })
}

/// Runs the bytes as commands through the command layer (lookup, subcommand, arity, handler,
/// telemetry) on a fresh session: the input is parsed as a client's request stream (RESP or
/// inline lines), and each command is run until the first protocol error. Never panics.
pub fn dispatcher(data: &[u8]) {
    run_commands(data);
}

/// [`dispatcher`], returning the results of the commands it ran (those of [`NOT_FUZZED`] are
/// skipped), so that a test can see the commands really ran.
pub fn run_commands(data: &[u8]) -> Vec<CmdResult<Reply>> {
    let shared = shared();
    let mut results = Vec::new();
    let (commands, _) = parse_chunks(std::iter::once(data), &Limits::default());
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
    let handle = Arc::new(ClientHandle::new(1, addr, addr, -1));
    let mut session = Session::new(handle, true);
    for args in commands.iter().take(MAX_COMMANDS) {
        let reply = match commands::lookup(&args[0]) {
            None => Err(commands::unknown_command(args)),
            Some(spec) => match commands::resolve(spec, args) {
                Err(e) => Err(e),
                Ok(spec) if NOT_FUZZED.contains(&spec.name) => continue,
                Ok(spec) => {
                    let mut ctx = Ctx { shared, session: &mut session };
                    commands::call(&mut ctx, spec, args)
                }
            },
        };
        // Every reply must encode in both protocols.
        if let Ok(reply) = &reply {
            let mut out = BytesMut::new();
            reply.encode(2, &mut out);
            reply.encode(3, &mut out);
        }
        results.push(reply);
        if session.close_after_reply {
            break;
        }
    }
    results
}
