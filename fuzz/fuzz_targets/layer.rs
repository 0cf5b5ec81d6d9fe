//! Fuzz target: `berth::fuzzing::layer` with arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| berth::fuzzing::layer(data));
