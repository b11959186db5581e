//! The offline check of a proof bundle: no server, no clock but the `now` given. In order: the
//! bundle's marks; the checkpoint's signature by the pinned log key; the title statement's
//! signature, its head's inclusion, its binding to that checkpoint; then every record in log
//! order (decoding, content, each signature strictly, receipt, inclusion proof of its 80-byte
//! entry, chain link, and the ledger's own rules replayed through `ebl_core::apply` over an
//! in-memory state built from the bundle's registry records, so keys and delegations are judged
//! at each record's own log position); the document against the ISSUE and its RFC 8785 checksum;
//! and finally the replayed title against the statement. The first failure is the answer, and it
//! names the part and the check.

use super::{Bundle, ChainKind, BUNDLE_FORMAT};
use crate::wire::entry::encoded_signatures;
use crate::wire::payload::decode_record;
use ebl_core::apply::{check_content, Stamp};
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId};
use ebl_core::log::{verify_inclusion, Checkpoint, LogEntry, SignedNote, VerifierKey};
use ebl_core::memory::MemoryState;
use ebl_core::record::Action;
use ebl_core::statement::{ChainHead, StatedTitle, TitleStatement};
use ebl_core::time::Timestamp;
use std::collections::HashMap;
use std::fmt;

/// Which part of the bundle a failure is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The file's own marks (format, copy, origin, bill).
    Bundle,
    /// The signed checkpoint.
    Checkpoint,
    /// The signed title statement.
    Statement,
    /// The transport document.
    Document,
    /// `records[index]`, at log index `seq` (as the bundle claims it).
    Record {
        /// Index in `records`.
        index: usize,
        /// Its claimed log index.
        seq: u64,
    },
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Bundle => f.write_str("bundle"),
            Part::Checkpoint => f.write_str("checkpoint"),
            Part::Statement => f.write_str("title statement"),
            Part::Document => f.write_str("document"),
            Part::Record { index, seq } => write!(f, "records[{index}] (log index {seq})"),
        }
    }
}

/// Why a bundle does not verify: the part, the check, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {check}: {why}")]
pub struct BundleError {
    /// Where.
    pub part: Part,
    /// Which check failed.
    pub check: &'static str,
    /// What was found.
    pub why: String,
}

fn fail(part: Part, check: &'static str, why: impl fmt::Display) -> BundleError {
    BundleError { part, check, why: why.to_string() }
}

/// What a bundle that verified proves.
#[derive(Debug, Clone)]
pub struct Report {
    /// The checkpoint every record is proved in.
    pub checkpoint: Checkpoint,
    /// Signature lines on the checkpoint besides the log's (witness cosignatures; only those of
    /// the given witness keys are checked).
    pub other_signatures: usize,
    /// The witnesses whose cosignatures verified, among the keys given.
    pub cosigners: Vec<String>,
    /// The statement, checked against the replay.
    pub statement: TitleStatement,
    /// Records checked per chain: registry, title, custody.
    pub records: [usize; 3],
    /// The newest record's server time.
    pub newest_record: Timestamp,
    /// `now` minus the statement's time, in milliseconds: how old the evidence is.
    pub age_ms: i64,
}

/// Which witnesses a verifier trusts, and how many of them must have cosigned the checkpoint.
#[derive(Debug, Clone, Default)]
pub struct WitnessPolicy {
    /// The witnesses' verifier keys (cosignature/v1).
    pub keys: Vec<VerifierKey>,
    /// How many of them must have cosigned (0: none required).
    pub min: usize,
}

/// Verifies `bundle` against the pinned log key at time `now`, requiring no witness.
pub fn verify(bundle: &Bundle, log_key: &VerifierKey, now: Timestamp) -> Result<Report, BundleError> {
    verify_with(bundle, log_key, &WitnessPolicy::default(), now)
}

/// Verifies `bundle` against the pinned log key at time `now`, and its checkpoint against the
/// witness policy: every cosignature line of a given witness key must verify, and at least
/// `policy.min` of them must be there.
pub fn verify_with(
    bundle: &Bundle,
    log_key: &VerifierKey,
    policy: &WitnessPolicy,
    now: Timestamp,
) -> Result<Report, BundleError> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(fail(Part::Bundle, "format", format!("{:?} is not {BUNDLE_FORMAT:?}", bundle.format)));
    }
    if !bundle.copy {
        return Err(fail(Part::Bundle, "copy", "a bundle is a copy and must say so (\"copy\": true)"));
    }
    let bill = Hash32::from_hex(&bundle.bill_id)
        .map(BillId)
        .ok_or_else(|| fail(Part::Bundle, "bill_id", "expected 64 lowercase hex digits"))?;

    let note = SignedNote::parse(&bundle.checkpoint).map_err(|e| fail(Part::Checkpoint, "format", e))?;
    let opened = Checkpoint::open(&note, log_key, &policy.keys).map_err(|e| fail(Part::Checkpoint, "signature", e))?;
    let cosigners =
        ebl_core::log::require_witnesses(&opened, policy.min).map_err(|e| fail(Part::Checkpoint, "witnesses", e))?;
    let cp = opened.checkpoint;
    if bundle.origin != cp.origin() {
        return Err(fail(
            Part::Bundle,
            "origin",
            format!("{:?} is not the checkpoint's {:?}", bundle.origin, cp.origin()),
        ));
    }

    let snote = SignedNote::parse(&bundle.statement).map_err(|e| fail(Part::Statement, "format", e))?;
    let st = TitleStatement::open(&snote, log_key).map_err(|e| fail(Part::Statement, "signature and proof", e))?;
    if (st.checkpoint_size, st.checkpoint_root) != (cp.size(), cp.root()) {
        return Err(fail(
            Part::Statement,
            "bound to the checkpoint",
            format!(
                "the statement is bound to size {}, the bundle's checkpoint has size {}",
                st.checkpoint_size,
                cp.size()
            ),
        ));
    }
    if st.title.bill != bill {
        return Err(fail(Part::Statement, "bill", format!("the statement is about bill {}", st.title.bill)));
    }

    let (state, replay) = replay_records(bundle, bill, &cp, &st)?;
    check_document(bundle, bill, &state, &st, &replay)?;
    compare(&state, bill, &replay, &st)?;
    if st.time < replay.newest {
        return Err(fail(Part::Statement, "time", "the statement is older than the newest record it covers"));
    }
    Ok(Report {
        checkpoint: cp,
        other_signatures: note.signatures().len() - 1,
        cosigners,
        records: replay.counts,
        newest_record: replay.newest,
        age_ms: now.0 - st.time.0,
        statement: st,
    })
}

/// What the record loop leaves for the final comparisons.
struct Replay {
    heads: HashMap<ChainId, ChainHead>,
    counts: [usize; 3],
    /// Bills other than the one stated whose records the bundle carries (an amended bill's
    /// predecessors: its ISSUE relies on the voided one).
    others: std::collections::BTreeSet<BillId>,
    newest: Timestamp,
    issue_document: Option<Vec<u8>>,
}

fn replay_records(
    bundle: &Bundle,
    bill: BillId,
    cp: &Checkpoint,
    st: &TitleStatement,
) -> Result<(MemoryState, Replay), BundleError> {
    let mut state = MemoryState::default();
    let mut replay = Replay {
        heads: HashMap::new(),
        counts: [0; 3],
        others: Default::default(),
        newest: Timestamp(i64::MIN),
        issue_document: None,
    };
    let mut last_seq: Option<u64> = None;
    for (index, r) in bundle.records.iter().enumerate() {
        let at = |check: &'static str, why: String| {
            fail(Part::Record { index, seq: r.seq }, check, format!("({} {}) {why}", r.chain.name(), r.action))
        };
        if last_seq.is_some_and(|s| r.seq <= s) {
            return Err(at("log order", format!("log index {} does not follow {}", r.seq, last_seq.unwrap_or(0))));
        }
        last_seq = Some(r.seq);
        let time = ebl_core::time::Timestamp::parse("server_time", &r.server_time)
            .map_err(|e| at("receipt server_time", e.to_string()))?;
        if time < replay.newest {
            return Err(at("log order", "server time earlier than the record before".into()));
        }
        replay.newest = time;

        let signed = r.signed_record();
        let (payload, sigs) = decode_record(&signed).map_err(|e| at("decoding", e.to_string()))?;
        let kind = match payload.chain {
            ChainId::Registry => ChainKind::Registry,
            ChainId::Title(_) => ChainKind::Title,
            ChainId::Custody(_) => ChainKind::Custody,
        };
        if kind != r.chain {
            return Err(at(
                "chain",
                format!("the payload is a {} record, the bundle says {}", kind.name(), r.chain.name()),
            ));
        }
        let checked =
            check_content(r.payload.clone(), payload, sigs, &bundle.origin).map_err(|e| at("content", rule(&e)))?;
        for (i, s) in checked.signatures.iter().enumerate() {
            s.verify(&checked.bytes).map_err(|e| at("signature", format!("signatures[{i}]: {}", rule(&e))))?;
        }
        if checked.hash.0.as_slice() != r.record_hash.as_slice() {
            return Err(at("receipt record_hash", format!("the payload hashes to {}", checked.hash)));
        }
        if checked.payload.action.name() != r.action {
            return Err(at("receipt action", format!("the payload is {}", checked.payload.action.name())));
        }

        let entry = LogEntry::new(checked.hash, &encoded_signatures(&signed.signatures), r.seq, time);
        let proof = r
            .inclusion
            .iter()
            .map(|h| Hash32::from_slice(h).ok_or_else(|| at("inclusion proof", format!("a hash of {} bytes", h.len()))))
            .collect::<Result<Vec<_>, _>>()?;
        verify_inclusion(r.seq, cp.size(), &entry.leaf_hash(), &proof, &cp.root())
            .map_err(|e| at("inclusion proof", format!("entry {}: {e}", hex::encode(entry.encode()))))?;

        let p = &checked.payload;
        if let Some(b) = checked.payload.chain.bill().filter(|b| *b != bill) {
            replay.others.insert(b);
        }
        let chain = checked.payload.chain;
        let (want_pos, want_prev) = match replay.heads.get(&chain) {
            Some(h) => (h.position + 1, Some(h.hash)),
            None => (0, None),
        };
        if p.position != want_pos || p.prev != want_prev {
            return Err(at(
                "chain link",
                format!("{} chain position {} follows position {}", kind.name(), p.position, want_pos as i128 - 1),
            ));
        }
        if let (ChainId::Title(b), Action::Issue(issue)) = (chain, &p.action) {
            if b == bill {
                replay.issue_document = Some(issue.document.clone());
            }
        }
        state
            .apply(&checked, Stamp { seq: r.seq, time }, &st.operator)
            .map_err(|e| at("replay (keys, delegations, time window, title and custody rules)", rule(&e)))?;
        replay.heads.insert(chain, ChainHead { position: p.position, seq: r.seq, hash: checked.hash });
        replay.counts[kind as usize] += 1;
    }
    if !replay.heads.contains_key(&ChainId::Title(bill)) {
        return Err(fail(Part::Bundle, "records", "no title record of the bill"));
    }
    check_predecessors(&state, bill, &replay)?;
    Ok((state, replay))
}

/// The only other bills a bundle may carry are the amendments the stated bill replaces, each
/// voided by the SACC the next one cites: walking back from the bill must find exactly them.
fn check_predecessors(state: &MemoryState, bill: BillId, replay: &Replay) -> Result<(), BundleError> {
    let mut ancestors = std::collections::BTreeSet::new();
    let mut at = state.bills.get(&bill);
    while let Some(b) = at.filter(|b| b.amendment > 0) {
        let prev = BillId::derive(&b.issuer, &b.reference, b.amendment - 1);
        ancestors.insert(prev);
        at = state.bills.get(&prev);
    }
    if ancestors != replay.others {
        let extra: Vec<String> = replay.others.difference(&ancestors).map(|b| b.to_string()).collect();
        let missing: Vec<String> = ancestors.difference(&replay.others).map(|b| b.to_string()).collect();
        return Err(fail(
            Part::Bundle,
            "records",
            format!("records of other bills {extra:?}; predecessors missing {missing:?}"),
        ));
    }
    Ok(())
}

/// A rule refusal with its machine-readable reason in front (once).
fn rule(e: &ebl_core::RuleError) -> String {
    let text = e.to_string();
    if text.starts_with(e.reason()) {
        text
    } else {
        format!("{} {text}", e.reason())
    }
}

fn check_document(
    bundle: &Bundle,
    bill: BillId,
    state: &MemoryState,
    st: &TitleStatement,
    replay: &Replay,
) -> Result<(), BundleError> {
    let bad = |why: String| fail(Part::Document, "document", why);
    // The bytes must be the ISSUE's, as signed (the checksum alone is over the canonical form).
    if replay.issue_document.as_deref() != Some(bundle.document.as_slice()) {
        return Err(bad("not the bytes of the bill's ISSUE record".into()));
    }
    let checksum = ebl_core::document::checksum(&bundle.document).map_err(|e| bad(rule(&e)))?;
    let stated = state.bills.get(&bill).map(|b| b.document_checksum);
    if stated != Some(checksum) || st.title.document != checksum {
        return Err(bad(format!(
            "its RFC 8785 checksum {checksum} is not the bill's (statement: {})",
            st.title.document
        )));
    }
    Ok(())
}

fn compare(state: &MemoryState, bill: BillId, replay: &Replay, st: &TitleStatement) -> Result<(), BundleError> {
    let b = state.bills.get(&bill).ok_or_else(|| fail(Part::Bundle, "records", "the bill was never issued"))?;
    let got = StatedTitle::of(b, state.custody.get(&bill));
    let want = &st.title;
    let diff = |what: &str, g: String, w: String| {
        fail(Part::Statement, "replayed title", format!("{what}: the records give {g}, the statement says {w}"))
    };
    let d = |x: &dyn fmt::Debug| format!("{x:?}");
    let fields: [(&str, String, String); 8] = [
        ("head", d(&got.head), d(&want.head)),
        ("status", d(&got.status), d(&want.status)),
        ("possessor", d(&got.possessor), d(&want.possessor)),
        ("entitled", d(&got.entitled), d(&want.entitled)),
        ("pledge", d(&got.pledge), d(&want.pledge)),
        ("surrender", d(&got.surrender), d(&want.surrender)),
        ("holds", d(&got.holds), d(&want.holds)),
        ("document", d(&got.document), d(&want.document)),
    ];
    for (what, g, w) in fields {
        if g != w {
            return Err(diff(what, g, w));
        }
    }
    if got != *want {
        return Err(diff("title", d(&got), d(want)));
    }
    let custody = replay.heads.get(&ChainId::Custody(bill)).copied();
    if custody != st.custody_head {
        return Err(diff("custody head", d(&custody), d(&st.custody_head)));
    }
    let registry = replay.heads.get(&ChainId::Registry).copied();
    if registry != Some(st.registry_head) {
        return Err(diff("registry head", d(&registry), d(&Some(st.registry_head))));
    }
    Ok(())
}
