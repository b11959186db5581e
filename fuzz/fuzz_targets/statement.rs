#![no_main]
//! Fuzz target `statement`: the body is ebl_core::fuzzing::statement::run (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ebl_core::fuzzing::statement::run(data));
