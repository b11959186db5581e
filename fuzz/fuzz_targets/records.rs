#![no_main]
//! Fuzz target `records`: the body is ebl_core::fuzzing::records::run (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ebl_core::fuzzing::records::run(data));
