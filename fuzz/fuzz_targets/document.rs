#![no_main]
//! Fuzz target `document`: the body is ebl_core::fuzzing::document::run (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ebl_core::fuzzing::document::run(data));
