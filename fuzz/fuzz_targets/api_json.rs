//! Fuzz target: `berth::fuzzing::api_json` with arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| berth::fuzzing::api_json(data));
