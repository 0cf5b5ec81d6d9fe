//! Fuzz target: `berth::fuzzing::reference` with arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| berth::fuzzing::reference(data));
