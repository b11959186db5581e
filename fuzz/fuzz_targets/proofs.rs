#![no_main]
//! Fuzz target `proofs`: the body is ebl_core::fuzzing::proofs::run (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ebl_core::fuzzing::proofs::run(data));
