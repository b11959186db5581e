//! `ebl bundle` (fetch a bill's proof bundle into a file), the log key as `ebl verify` takes
//! it, and the statement file of `ebl title`. The offline check itself is [`super::verify`].

use super::directory::Directory;
use super::error::{usage, CheckFailed};
use super::output::{clean, shown, Out};
use super::shapes::{self, party_text};
use super::{As, CliResult};
use crate::bundle::Bundle;
use crate::client::Client;
use crate::client::Servers;
use ebl_core::log::{SignedNote, VerifierKey};
use ebl_core::statement::TitleStatement;
use serde_json::json;
use std::path::Path;

/// Fetches the bill's bundle as `reader`, checks its statement with the ledger's verifier key,
/// and writes it to `out_file`.
pub async fn fetch(server: &Servers, reader: &As, bill: &str, out_file: &Path, out: &Out) -> CliResult {
    let mut c = Client::connect_to(server).await?;
    let id = super::bill::parse_bill(bill)?;
    let text = c.proof_bundle(&reader.identity()?, id).await?;
    let bundle = Bundle::from_json(&text).map_err(|e| format!("the ledger's bundle does not parse: {e}"))?;
    let note = SignedNote::parse(&bundle.statement).map_err(|e| CheckFailed(format!("the bundle's statement: {e}")))?;
    let st = TitleStatement::open(&note, &c.verifier_key()?)
        .map_err(|e| CheckFailed(format!("the bundle's statement: {e}")))?;
    std::fs::write(out_file, &text).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let dir = Directory::from_bundle(&bundle);
    let reference = shapes::document_reference(&bundle.document);
    let v = json!({
        "file": out_file, "bill_id": bundle.bill_id, "reference": reference, "origin": bundle.origin,
        "records": bundle.records.len(), "checkpoint_size": st.checkpoint_size,
        "title": shapes::stated_title(&st.title, Some(&dir)),
    });
    out.emit(v, || {
        format!(
            "proof bundle of B/L {} (bill {}) written to {} ({} records, checkpoint of size {})\n  as stated {}: possessor {}, entitled {}, status {}",
            reference.as_deref().map(shown).unwrap_or_else(|| "?".into()),
            clean(&bundle.bill_id),
            out_file.display(),
            bundle.records.len(),
            st.checkpoint_size,
            st.time.to_rfc3339(),
            party_text(st.title.possessor.as_str(), Some(&dir)),
            party_text(st.title.entitled.as_str(), Some(&dir)),
            st.title.status.name(),
        )
    });
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

/// Writes the statement of a title view to `file`, exactly as signed.
pub fn write_statement(view: &crate::pb::TitleView, file: &Path) -> CliResult {
    if view.statement.is_empty() {
        return Err(format!("the ledger gave no statement: {}", clean(&view.statement_refusal)).into());
    }
    std::fs::write(file, &view.statement).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(())
}
