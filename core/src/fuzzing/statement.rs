//! Signed title statements on arbitrary text: [`TitleStatement::parse`] of a note text and
//! [`TitleStatement::open`] of a signed note.
//!
//! Asserts: no panic; a parsed statement formats back to exactly its text; signed by the ledger
//! key its origin names, it opens exactly when its own binding checks
//! ([`TitleStatement::check_bound`]) pass, to the same statement, and otherwise with the same
//! error; any note that opens holds a statement that parses to the same value.

use super::key;
use super::notes::keys;
use crate::log::SignedNote;
use crate::statement::{StatementError, TitleStatement};

/// The target's body.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(st) = TitleStatement::parse(text) {
        assert_eq!(st.to_string(), text, "a statement has two forms");
        let (log, _) = keys(&st.origin).expect("a statement's origin is a valid key name");
        let note = st.sign(&key(&st.origin)).expect("a parsed statement signs");
        let note = SignedNote::parse(&note.to_string()).expect("a formatted note parses");
        match (TitleStatement::open(&note, &log), st.check_bound()) {
            (Ok(opened), Ok(())) => assert_eq!(opened, st),
            (Err(StatementError::Inclusion(a)), Err(StatementError::Inclusion(b))) => assert_eq!(a, b),
            (Err(StatementError::Inconsistent(a)), Err(StatementError::Inconsistent(b))) => assert_eq!(a, b),
            (opened, bound) => panic!("open gives {opened:?}, the binding checks {bound:?}"),
        }
    }
    if let Ok(note) = SignedNote::parse(text) {
        let first = note.text().split('\n').nth(1).and_then(|l| l.strip_prefix("origin ")).unwrap_or("x");
        if let Some((log, _)) = keys(first) {
            if let Ok(st) = TitleStatement::open(&note, &log) {
                assert_eq!(TitleStatement::parse(note.text()).as_ref(), Ok(&st));
            }
        }
    }
}
