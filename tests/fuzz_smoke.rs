//! The fuzz targets on stable: a bounded run of both entry points of `strata::fuzzing` over
//! every file of `fuzz/corpus/<target>/`, then over inputs made from a seeded RNG and mutations
//! of that corpus. `FUZZ_SEED=<n>` replays a run (the seed is printed); `FUZZ_SMOKE_SCALE=<k>`
//! multiplies the number of inputs. The full coverage-guided runs are `cargo fuzz run` (README).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

const PARSER_INPUTS: usize = 20_000;
const DISPATCHER_INPUTS: usize = 2_000;

fn seed() -> u64 {
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5742_a7a0);
    println!("fuzz smoke seed: {seed} (FUZZ_SEED={seed} replays it)");
    seed
}

fn scale() -> usize {
    std::env::var("FUZZ_SMOKE_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let inputs: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(inputs.len() >= 10, "{} holds {} files", dir.display(), inputs.len());
    inputs
}

/// Tokens a mutation may splice in: protocol punctuation, boundary numbers, keywords.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r",
    b"*",
    b"$",
    b"\0",
    b"\"",
    b"'",
    b"\\x",
    b" ",
    b"-1",
    b"0",
    b"-0",
    b"1",
    b"2147483647",
    b"2147483648",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"99999999999999999999",
    b"nan",
    b"inf",
    b"-inf",
    b"+inf",
    b"1e308",
    b"-1e308",
    b"(",
    b"[",
    b"-",
    b"+",
    b"*1\r\n",
    b"$-1\r\n",
    b"\xff",
    b"\xc3\x28",
];

/// One random change: flip, insert, delete, duplicate a run, or splice a token.
fn mutate(rng: &mut StdRng, input: &mut Vec<u8>) {
    let at = |rng: &mut StdRng, len: usize| rng.random_range(0..=len);
    match rng.random_range(0..6) {
        0 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            input[i] ^= 1 << rng.random_range(0..8);
        }
        1 => {
            let i = at(rng, input.len());
            input.insert(i, rng.random());
        }
        2 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            let n = rng.random_range(1..=8).min(input.len() - i);
            input.drain(i..i + n);
        }
        3 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            let n = rng.random_range(1..=32).min(input.len() - i);
            let run = input[i..i + n].to_vec();
            let j = at(rng, input.len());
            input.splice(j..j, run);
        }
        _ => {
            let token = TOKENS[rng.random_range(0..TOKENS.len())];
            let i = at(rng, input.len());
            input.splice(i..i, token.iter().copied());
        }
    }
}

/// A corpus file with a few mutations, or (one time in four) a fresh input from `fresh`.
fn next_input(rng: &mut StdRng, corpus: &[Vec<u8>], fresh: impl Fn(&mut StdRng) -> Vec<u8>) -> Vec<u8> {
    let mut input =
        if rng.random_range(0..4) == 0 { fresh(rng) } else { corpus[rng.random_range(0..corpus.len())].clone() };
    for _ in 0..rng.random_range(1..=4) {
        mutate(rng, &mut input);
    }
    input
}

fn resp(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Random RESP frames, inline lines and junk for the parser (selector byte first).
fn fresh_frames(rng: &mut StdRng) -> Vec<u8> {
    let mut out = vec![rng.random_range(0..8u8)];
    for _ in 0..rng.random_range(1..=6) {
        match rng.random_range(0..4) {
            0 => {
                let args: Vec<Vec<u8>> = (0..rng.random_range(1..=5))
                    .map(|_| (0..rng.random_range(0..12)).map(|_| rng.random()).collect())
                    .collect();
                out.extend(resp(&args));
            }
            1 => out.extend_from_slice(b"SET k \"quoted \\x41 value\" 'x'\r\n"),
            2 => out.extend(std::iter::repeat_n(b"*1\r\n".iter().copied(), rng.random_range(1..40)).flatten()),
            _ => out.extend((0..rng.random_range(0..24)).map(|_| rng.random::<u8>())),
        }
    }
    out
}

/// Words the dispatcher generator builds arguments from.
const WORDS: &[&str] = &[
    "k",
    "h",
    "l",
    "s",
    "z",
    "x",
    "n",
    "0",
    "1",
    "-1",
    "2",
    "10",
    "-5",
    "100",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "(1",
    "[a",
    "(a",
    "-",
    "+",
    "*",
    "$",
    ">",
    "0-0",
    "a",
    "b",
    "f",
    "v",
    "WITHSCORES",
    "LIMIT",
    "BYSCORE",
    "BYLEX",
    "REV",
    "COUNT",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "KEEPTTL",
    "GET",
    "MATCH",
    "TYPE",
    "STREAMS",
    "GROUP",
    "BLOCK",
    "MAXLEN",
    "~",
    "=",
    "WEIGHTS",
    "AGGREGATE",
    "MIN",
    "MAX",
    "SUM",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "RANK",
    "IDLE",
    "JUSTID",
    "FULL",
    "9223372036854775807",
    "-9223372036854775808",
];

/// A few commands named from the real command table, arguments from `WORDS` and random bytes.
fn fresh_commands(rng: &mut StdRng) -> Vec<u8> {
    let names: Vec<&str> = strata::commands::names().collect();
    let mut out = Vec::new();
    for _ in 0..rng.random_range(1..=8) {
        let name = names[rng.random_range(0..names.len())];
        let mut args: Vec<Vec<u8>> = name.split('|').map(|p| p.as_bytes().to_vec()).collect();
        for _ in 0..rng.random_range(0..7) {
            if rng.random_range(0..8) == 0 {
                args.push((0..rng.random_range(0..6)).map(|_| rng.random()).collect());
            } else {
                args.push(WORDS[rng.random_range(0..WORDS.len())].as_bytes().to_vec());
            }
        }
        out.extend(resp(&args));
    }
    out
}

#[test]
fn resp_parser_smoke() {
    let corpus = corpus("resp_parser");
    for input in &corpus {
        strata::fuzzing::resp_parser(input);
    }
    let mut rng = StdRng::seed_from_u64(seed());
    for _ in 0..PARSER_INPUTS * scale() {
        let input = next_input(&mut rng, &corpus, fresh_frames);
        strata::fuzzing::resp_parser(&input);
    }
}

#[test]
fn dispatcher_smoke() {
    // The fuzzing storage's directory goes when the test ends, passed or not.
    struct RemoveDataDir;
    impl Drop for RemoveDataDir {
        fn drop(&mut self) {
            strata::fuzzing::remove_data_dir();
        }
    }
    let _cleanup = RemoveDataDir;
    // The commands really run, against a real storage.
    let results =
        strata::fuzzing::run_commands(b"DEL fuzz:check\nRPUSH fuzz:check a b\nLRANGE fuzz:check 0 -1\nNOSUCH x\n");
    let replies: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(reply) => {
                let mut out = bytes::BytesMut::new();
                reply.encode(2, &mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
            Err(e) => format!("-{e}"),
        })
        .collect();
    assert_eq!(
        replies,
        [
            ":0\r\n",
            ":2\r\n",
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            "-ERR unknown command 'NOSUCH', with args beginning with: 'x' "
        ]
    );

    let corpus = corpus("dispatcher");
    for input in &corpus {
        strata::fuzzing::dispatcher(input);
    }
    let mut rng = StdRng::seed_from_u64(seed() ^ 1);
    for _ in 0..DISPATCHER_INPUTS * scale() {
        let input = next_input(&mut rng, &corpus, fresh_commands);
        strata::fuzzing::dispatcher(&input);
    }
}
