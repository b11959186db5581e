//! The bodies of the fuzz targets: one function per target, taking the fuzzer's bytes. The
//! cargo-fuzz targets in `fuzz/` are one-line wrappers around them, and the stable test
//! `tests/fuzz_corpus.rs` replays every checked-in corpus and regression input through the very
//! same functions, so a stable `cargo test` checks what the fuzzer found (docs/fuzzing.md).
//!
//! Each body calls the core's real entry points on untrusted input and asserts what must hold
//! whatever the bytes: no panic, parse -> format -> parse gives back the same value and the same
//! text, and where an oracle exists (a proof built from a real tree, a request the log really
//! signed) that the genuine input is accepted and any changed byte refused. A failed assertion is
//! a finding. The module holds no state and does no I/O; it lives in the core, behind no feature,
//! so that clippy and the stable tests check it with the rest of the crate.
//!
//! - [`document`]: transport documents, both profiles, and the checksum.
//! - [`records`]: record content and the state machine: payloads built from the bytes, checked
//!   and applied in order to an in-memory ledger.
//! - [`notes`]: signed notes, signature lines, verifier keys, checkpoints and tlog-proofs.
//! - [`proofs`]: inclusion and consistency proof verification, arbitrary and from real trees.
//! - [`witness`]: the witness's `add-checkpoint` request, its checks and the log's reading of
//!   the answers.
//! - [`statement`]: signed title statements: strict parse, format, open.

pub mod document;
pub mod notes;
pub mod proofs;
pub mod records;
pub mod statement;
pub mod witness;

use crate::hash::Hash32;
use ed25519_dalek::SigningKey;

/// A fuzz target: its name (the directory of its corpus) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name. The replay test requires a corpus for each.
pub const TARGETS: &[Target] = &[
    ("document", document::run),
    ("records", records::run),
    ("notes", notes::run),
    ("proofs", proofs::run),
    ("witness", witness::run),
    ("statement", statement::run),
];

/// The secret key the targets sign with when they need a genuine signature (a log key, a
/// witness key, a party's key): derived from `name`, so every run signs alike.
pub fn key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&Hash32::tagged("ebl.v1/fuzz-key", &[name.as_bytes()]).0)
}

/// Reads the fuzzer's bytes as a stream of choices. Past the end every read gives zeros, so
/// every input, however short, means something.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    /// The bytes not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }

    /// One byte.
    pub fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// Whether the next byte is odd.
    pub fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A big-endian u32 (zero-padded).
    pub fn u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        let got = self.take(4);
        b[..got.len()].copy_from_slice(got);
        u32::from_be_bytes(b)
    }

    /// A big-endian u64 (zero-padded).
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let got = self.take(8);
        b[..got.len()].copy_from_slice(got);
        u64::from_be_bytes(b)
    }

    /// 32 bytes (zero-padded).
    pub fn hash(&mut self) -> Hash32 {
        let mut b = [0u8; 32];
        let got = self.take(32);
        b[..got.len()].copy_from_slice(got);
        Hash32(b)
    }

    /// A length byte, then that many bytes as text (invalid UTF-8 replaced).
    pub fn text(&mut self) -> String {
        let n = self.byte() as usize;
        String::from_utf8_lossy(self.take(n)).into_owned()
    }

    /// Mostly one of `table` (so the fuzzer reaches past the checks of well-formed values),
    /// sometimes arbitrary text.
    pub fn pick(&mut self, table: &[&str]) -> String {
        let b = self.byte();
        if b >= 0xe0 || table.is_empty() {
            self.text()
        } else {
            table[b as usize % table.len()].to_string()
        }
    }
}
