//! `ebl verify FILE`: a bank's evidence checked offline, with no server, against the pinned log
//! key: a proof bundle (`ebl bundle`), a signed title statement (`ebl title --statement`) or a
//! record's c2sp.org/tlog-proof (`ebl log proof`). The kind is told by the file's first bytes
//! (or `--kind`); a check that fails is [`CheckFailed`] (exit 3) and names the part and check.

use super::bundle::log_key;
use super::directory::Directory;
use super::error::{usage, CheckFailed};
use super::output::{clean, shown, Out};
use super::shapes::{self, party_text};
use crate::bundle::verify::{verify_with, Report, WitnessPolicy};
use crate::bundle::Bundle;
use clap::ValueEnum;
use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::log::{require_witnesses, Checkpoint, LogEntry, SignedNote, TlogProof, VerifierKey};
use ebl_core::statement::{StatedTitle, TitleStatement, STATEMENT_TAG};
use ebl_core::time::Timestamp;
use serde_json::json;
use std::path::Path;

/// What kind of evidence a file is.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A proof bundle (JSON, `ebl bundle`).
    Bundle,
    /// A signed title statement (a signed note, `ebl title --statement`).
    Statement,
    /// A record's c2sp.org/tlog-proof@v1 (`ebl log proof`).
    TlogProof,
}

impl Kind {
    /// The kind a file's text is, by its first bytes.
    pub fn of(text: &str) -> Option<Kind> {
        if text.trim_start().starts_with('{') {
            Some(Kind::Bundle)
        } else if text.starts_with(&format!("{STATEMENT_TAG}\n")) {
            Some(Kind::Statement)
        } else if text.starts_with(&format!("{}\n", ebl_core::log::proof_text::HEADER)) {
            Some(Kind::TlogProof)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Bundle => "bundle",
            Kind::Statement => "title-statement",
            Kind::TlogProof => "tlog-proof",
        }
    }
}

/// What to check a file against.
pub struct Against {
    /// The ledger's log verifier key, or a file holding it.
    pub log_key: String,
    /// Witness verifier keys.
    pub witness_keys: Vec<String>,
    /// How many of them must have cosigned.
    pub min_witnesses: usize,
    /// The oldest statement accepted, in seconds.
    pub max_age: Option<u64>,
    /// The bill the evidence must be about (bundle, statement).
    pub bill: Option<String>,
    /// The record the proof must be for (tlog-proof).
    pub record: Option<String>,
}

fn check(part: &str, what: &str, why: impl std::fmt::Display) -> Box<dyn std::error::Error> {
    CheckFailed(format!("{part}: {what}: {why}")).into()
}

/// Verifies `file` offline, as `kind` or as its first bytes say.
pub fn run(file: &Path, kind: Option<Kind>, a: &Against, out: &Out) -> super::CliResult {
    let key = log_key(&a.log_key)?;
    let keys = a
        .witness_keys
        .iter()
        .map(|k| VerifierKey::parse(k).map_err(|e| usage(format!("--witness-key {k}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if a.min_witnesses > keys.len() {
        return Err(usage(format!("--min-witnesses {}: only {} --witness-key given", a.min_witnesses, keys.len())));
    }
    let bill = a.bill.as_deref().map(super::bill::parse_bill).transpose()?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let kind = match kind.or_else(|| Kind::of(&text)) {
        Some(k) => k,
        None => {
            let why = "neither a proof bundle (JSON), a title statement (ebl.v1/title-statement) nor a tlog-proof (c2sp.org/tlog-proof@v1); --kind says which";
            return Err(check("file", "kind", why));
        }
    };
    let refuse = |flag: &str, what: &str| usage(format!("{flag}: {what}, not to a {}", kind.name()));
    match kind {
        Kind::Bundle => {
            if a.record.is_some() {
                return Err(refuse("--record", "applies to a tlog-proof"));
            }
            let policy = WitnessPolicy { keys, min: a.min_witnesses };
            let bundle = Bundle::from_json(&text).map_err(|e| check("bundle", "format", e))?;
            let report =
                verify_with(&bundle, &key, &policy, Timestamp::now()).map_err(|e| CheckFailed(e.to_string()))?;
            is_about(bill, report.statement.title.bill)?;
            fresh(a.max_age, report.age_ms)?;
            print_bundle(&bundle, &report, out);
        }
        Kind::Statement => {
            if a.record.is_some() {
                return Err(refuse("--record", "applies to a tlog-proof"));
            }
            if a.min_witnesses > 0 {
                return Err(refuse(
                    "--min-witnesses",
                    "a statement carries no cosigned checkpoint (a bundle or a tlog-proof does)",
                ));
            }
            let note = SignedNote::parse(&text).map_err(|e| check("title statement", "format", e))?;
            let st =
                TitleStatement::open(&note, &key).map_err(|e| check("title statement", "signature and proof", e))?;
            is_about(bill, st.title.bill)?;
            let age_ms = Timestamp::now().0 - st.time.0;
            fresh(a.max_age, age_ms)?;
            print_statement(&st, age_ms, out);
        }
        Kind::TlogProof => {
            if bill.is_some() {
                return Err(refuse("--bill", "applies to a bundle or a title statement"));
            }
            if a.max_age.is_some() {
                return Err(refuse("--max-age", "applies to a bundle or a title statement"));
            }
            let record = a
                .record
                .as_deref()
                .map(|r| Hash32::from_hex(r).ok_or_else(|| usage("--record: expected 64 hex characters")))
                .transpose()?;
            verify_tlog_proof(&text, &key, &keys, a.min_witnesses, record, out)?;
        }
    }
    Ok(())
}

/// Refuses evidence about another bill than the one asked for.
fn is_about(asked: Option<BillId>, stated: BillId) -> super::CliResult {
    match asked {
        Some(b) if b != stated => Err(check("title statement", "bill", format!("it is about bill {stated}, not {b}"))),
        _ => Ok(()),
    }
}

fn fresh(max_age: Option<u64>, age_ms: i64) -> super::CliResult {
    match max_age.filter(|m| age_ms > (*m as i64) * 1000) {
        Some(max) => {
            Err(check("title statement", "age", format!("made {} ago, more than --max-age {max} s", age(age_ms))))
        }
        None => Ok(()),
    }
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// The title lines of a stated title, parties named from `dir` where it is given.
fn title_text(t: &StatedTitle, dir: Option<&Directory>) -> String {
    let pt = |id: &ebl_core::ids::PartyId| party_text(id.as_str(), dir);
    let mut s = format!(
        "  status       {}\n  possessor    {}\n  entitled     {}\n",
        t.status.name(),
        pt(&t.possessor),
        pt(&t.entitled)
    );
    if let Some(p) = &t.pledge {
        let enforced = if p.enforced { "enforced" } else { "not enforced" };
        s += &format!("  pledge       to {} ({}, {enforced})\n", pt(&p.pledgee), p.mode.name());
    }
    if let Some(p) = &t.surrender {
        s += &format!("  surrender    {} by {}, pending\n", clean(&p.kind), pt(&p.by));
    }
    for h in &t.holds {
        s += &format!("  HOLD         by {} (declaration {})\n", pt(&h.customs), clean(&h.declaration));
    }
    s
}

fn print_bundle(bundle: &Bundle, r: &Report, out: &Out) {
    let dir = Directory::from_bundle(bundle);
    let reference = shapes::document_reference(&bundle.document);
    let issuer = bundle
        .records
        .iter()
        .find(|r| r.action == "ISSUE")
        .and_then(|r| ebl_verify::wire::payload::decode_payload(&r.payload).ok())
        .map(|p| p.actor.to_string())
        .unwrap_or_default();
    let t = &r.statement.title;
    let v = json!({
        "verified": true,
        "kind": Kind::Bundle.name(),
        "bill_id": bundle.bill_id,
        "reference": reference,
        "issuer": shapes::party(&issuer, Some(&dir)),
        "origin": bundle.origin,
        "checkpoint_size": r.checkpoint.size(),
        "other_checkpoint_signatures": r.other_signatures,
        "witnesses_verified": r.cosigners,
        "records": {"registry": r.records[0], "title": r.records[1], "custody": r.records[2]},
        "statement_time": r.statement.time.to_rfc3339(),
        "newest_record_time": r.newest_record.to_rfc3339(),
        "age_seconds": r.age_ms / 1000,
        "title": shapes::stated_title(t, Some(&dir)),
    });
    out.emit(v, || {
        let mut s = format!("VERIFIED: bill {} on ledger {}\n", clean(&bundle.bill_id), clean(&bundle.origin));
        s += &format!(
            "  B/L          {}, issued by {}\n",
            reference.as_deref().map(shown).unwrap_or_else(|| "(no transportDocumentReference)".into()),
            party_text(&issuer, Some(&dir))
        );
        let witnesses = if r.cosigners.is_empty() {
            "no witness key given or none cosigned".to_string()
        } else {
            format!("cosigned by {}", clean(&r.cosigners.join(", ")))
        };
        s += &format!(
            "  checkpoint   size {}, signed by the log key; {} other signature line(s); {witnesses}\n",
            r.checkpoint.size(),
            r.other_signatures
        );
        s += &format!(
            "  records      {} registry, {} title, {} custody: signatures, inclusion proofs, chains, keys and rules replayed\n",
            r.records[0], r.records[1], r.records[2]
        );
        s += &title_text(t, Some(&dir));
        s += &format!(
            "  statement    signed {} ({} ago); newest record {}\n",
            r.statement.time.to_rfc3339(),
            age(r.age_ms),
            r.newest_record.to_rfc3339()
        );
        s += "  (a copy: title is moved only on the ledger; the statement says who held it at its time)";
        s
    });
}

fn print_statement(st: &TitleStatement, age_ms: i64, out: &Out) {
    let head = |h: &ebl_core::statement::ChainHead| shapes::head(h.position, h.seq, &h.hash.to_hex());
    let v = json!({
        "verified": true,
        "kind": Kind::Statement.name(),
        "bill_id": st.title.bill.to_string(),
        "origin": st.origin,
        "checkpoint_size": st.checkpoint_size,
        "checkpoint_root": st.checkpoint_root.to_hex(),
        "statement_time": st.time.to_rfc3339(),
        "age_seconds": age_ms / 1000,
        "title": shapes::stated_title(&st.title, None),
        "custody_head": st.custody_head.as_ref().map(head),
        "registry_head": head(&st.registry_head),
    });
    out.emit(v, || {
        let mut s = format!("VERIFIED: title statement of bill {} on ledger {}\n", st.title.bill, clean(&st.origin));
        s += &format!(
            "  signature    by the log key; the title head (log #{}) proved in the tree of size {}\n",
            st.title.head.seq, st.checkpoint_size
        );
        s += &title_text(&st.title, None);
        s += &format!("  statement    signed {} ({} ago)\n", st.time.to_rfc3339(), age(age_ms));
        s += "  (a statement names parties by id and the bill by its id; a bundle also carries the document and the registry)";
        s
    });
}

fn verify_tlog_proof(
    text: &str,
    key: &VerifierKey,
    witnesses: &[VerifierKey],
    min: usize,
    record: Option<Hash32>,
    out: &Out,
) -> super::CliResult {
    let proof = TlogProof::parse(text).map_err(|e| check("tlog-proof", "format", e))?;
    let opened = Checkpoint::open(proof.note(), key, witnesses).map_err(|e| check("checkpoint", "signature", e))?;
    let cosigners = require_witnesses(&opened, min).map_err(|e| check("checkpoint", "witnesses", e))?;
    let entry = LogEntry::decode(proof.extra()).ok_or_else(|| {
        check("tlog-proof", "extra", format!("{} bytes, not an 80-byte log entry", proof.extra().len()))
    })?;
    if entry.seq != proof.index() {
        return Err(check(
            "tlog-proof",
            "index",
            format!("the entry is for log index {}, the proof for {}", entry.seq, proof.index()),
        ));
    }
    if let Some(r) = record.filter(|r| *r != entry.record_hash) {
        return Err(check("tlog-proof", "record", format!("the proof is for record {}, not {r}", entry.record_hash)));
    }
    proof.verify(&entry.leaf_hash(), key, witnesses).map_err(|e| check("tlog-proof", "inclusion proof", e))?;
    let cp = &opened.checkpoint;
    let others = proof.note().signatures().len() - 1;
    let v = json!({
        "verified": true,
        "kind": Kind::TlogProof.name(),
        "origin": cp.origin(),
        "record_hash": entry.record_hash.to_hex(),
        "index": proof.index(),
        "server_time": entry.server_time.to_rfc3339(),
        "checkpoint_size": cp.size(),
        "other_checkpoint_signatures": others,
        "witnesses_verified": cosigners,
    });
    out.emit(v, || {
        let witnesses = if cosigners.is_empty() {
            "no witness key given or none cosigned".to_string()
        } else {
            format!("cosigned by {}", clean(&cosigners.join(", ")))
        };
        format!(
            "VERIFIED: record {} is leaf {} of ledger {}'s log\n  checkpoint   size {}, signed by the log key; {others} other signature line(s); {witnesses}\n  entry        server time {}\n  (proves the record is in the log, not who holds title now: a title statement says that)",
            entry.record_hash,
            proof.index(),
            clean(cp.origin()),
            cp.size(),
            entry.server_time.to_rfc3339()
        )
    });
    Ok(())
}
