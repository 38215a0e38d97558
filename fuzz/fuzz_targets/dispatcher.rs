//! Arbitrary request bytes run as commands: see `strata::fuzzing::dispatcher`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::dispatcher(data));
