#![no_main]
//! Fuzz target `witness`: the body is ebl_core::fuzzing::witness::run (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ebl_core::fuzzing::witness::run(data));
