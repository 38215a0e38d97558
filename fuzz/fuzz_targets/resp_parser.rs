//! The RESP request parser on arbitrary bytes: see `strata::fuzzing::resp_parser`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::resp_parser(data));
