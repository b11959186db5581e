#![no_main]
//! Fuzz target `notes`: the body is ebl_core::fuzzing::notes::run (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ebl_core::fuzzing::notes::run(data));
