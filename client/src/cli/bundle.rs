//! `ebl bundle` (fetch a bill's proof bundle into a file) and `ebl verify` (check one offline,
//! against a pinned log key, with no server), and the statement file of `ebl title`.

use super::error::{usage, CheckFailed};
use super::output::{clean, Out};
use super::{As, CliResult};
use crate::bundle::verify::{verify_with, Report, WitnessPolicy};
use crate::bundle::Bundle;
use crate::client::Client;
use crate::client::Server;
use ebl_core::log::VerifierKey;
use ebl_core::time::Timestamp;
use serde_json::json;
use std::path::Path;

/// Fetches the bill's bundle as `reader` and writes it to `out`.
pub async fn fetch(server: &Server, reader: &As, bill: &str, out_file: &Path, out: &Out) -> CliResult {
    let mut c = Client::connect_to(server).await?;
    let id = super::bill::parse_bill(bill)?;
    let text = c.proof_bundle(&reader.identity()?, id).await?;
    let bundle = Bundle::from_json(&text).map_err(|e| format!("the ledger's bundle does not parse: {e}"))?;
    std::fs::write(out_file, &text).map_err(|e| format!("{}: {e}", out_file.display()))?;
    out.line(&format!(
        "proof bundle of bill {} written to {} ({} records, checkpoint of size {})",
        bundle.bill_id,
        out_file.display(),
        bundle.records.len(),
        bundle.checkpoint.lines().nth(1).unwrap_or("?"),
    ));
    Ok(())
}

/// The log key given as `origin+keyid+base64`, or a file holding it.
pub fn log_key(arg: &str) -> Result<VerifierKey, Box<dyn std::error::Error>> {
    if let Ok(k) = VerifierKey::parse(arg) {
        return Ok(k);
    }
    let text = std::fs::read_to_string(arg).map_err(|e| {
        usage(format!("--log-key {arg}: neither a verifier key (origin+keyid+base64) nor a readable file ({e})"))
    })?;
    VerifierKey::parse(text.trim()).map_err(|e| usage(format!("--log-key {arg}: {e}")))
}

/// Verifies the bundle file offline; an error names what failed.
pub fn run_verify(
    file: &Path,
    key: &str,
    witness_keys: &[String],
    min_witnesses: usize,
    max_age: Option<u64>,
    out: &Out,
) -> CliResult {
    let key = log_key(key)?;
    let keys = witness_keys
        .iter()
        .map(|k| VerifierKey::parse(k).map_err(|e| usage(format!("--witness-key {k}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if min_witnesses > keys.len() {
        return Err(usage(format!("--min-witnesses {min_witnesses}: only {} --witness-key given", keys.len())));
    }
    let policy = WitnessPolicy { keys, min: min_witnesses };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let bundle = Bundle::from_json(&text).map_err(|e| CheckFailed(format!("bundle: format: {e}")))?;
    let report = verify_with(&bundle, &key, &policy, Timestamp::now()).map_err(|e| CheckFailed(e.to_string()))?;
    if let Some(max) = max_age.filter(|m| report.age_ms > (*m as i64) * 1000) {
        let why = format!("title statement: age: made {} ago, more than --max-age {max} s", age(report.age_ms));
        return Err(CheckFailed(why).into());
    }
    print_report(&bundle, &report, out);
    Ok(())
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

fn print_report(bundle: &Bundle, r: &Report, out: &Out) {
    let t = &r.statement.title;
    let v = json!({
        "verified": true,
        "bill_id": bundle.bill_id,
        "origin": bundle.origin,
        "checkpoint_size": r.checkpoint.size(),
        "other_checkpoint_signatures": r.other_signatures,
        "witnesses_verified": r.cosigners,
        "records": {"registry": r.records[0], "title": r.records[1], "custody": r.records[2]},
        "statement_time": r.statement.time.to_rfc3339(),
        "newest_record_time": r.newest_record.to_rfc3339(),
        "age_seconds": r.age_ms / 1000,
        "status": t.status.name(),
        "possessor": t.possessor.to_string(),
        "entitled": t.entitled.to_string(),
        "pledgee": t.pledge.as_ref().map(|p| p.pledgee.to_string()),
        "pending_surrender": t.surrender.as_ref().map(|s| s.kind.clone()),
        "holds": t.holds.iter().map(|h| json!({"customs": h.customs.to_string(), "declaration": h.declaration})).collect::<Vec<_>>(),
        "head": {"position": t.head.position, "seq": t.head.seq, "hash": t.head.hash.to_hex()},
    });
    out.emit(v, || {
        let mut s = format!("VERIFIED: bill {} on ledger {}\n", clean(&bundle.bill_id), clean(&bundle.origin));
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
        s += &format!("  title        status {}, possessor {}, entitled {}\n", t.status.name(), t.possessor, t.entitled);
        if let Some(p) = &t.pledge {
            s += &format!("  pledge       to {} ({}, {})\n", p.pledgee, p.mode.name(), if p.enforced { "enforced" } else { "not enforced" });
        }
        if let Some(p) = &t.surrender {
            s += &format!("  surrender    {} by {}, pending\n", clean(&p.kind), p.by);
        }
        for h in &t.holds {
            s += &format!("  HOLD         by {} (declaration {})\n", h.customs, clean(&h.declaration));
        }
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

/// Writes the statement of a title view to `file`, exactly as signed.
pub fn write_statement(view: &crate::pb::TitleView, file: &Path) -> CliResult {
    if view.statement.is_empty() {
        return Err(format!("the ledger gave no statement: {}", clean(&view.statement_refusal)).into());
    }
    std::fs::write(file, &view.statement).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(())
}
