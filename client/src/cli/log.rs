//! `ebl log ...`: the transparency log's standard exports, printed exactly so that tools that
//! speak the formats need none of this code: the verifier key (signed-note key format), the
//! latest checkpoint (the signed note with the witnesses' cosignature lines gathered so far), and
//! a record's c2sp.org/tlog-proof@v1.

use super::output::Out;
use super::CliResult;
use crate::client::Client;
use crate::client::Servers;
use clap::Subcommand;
use ebl_core::hash::Hash32;
use serde_json::json;

/// Log commands.
#[derive(Subcommand, Debug)]
pub enum LogCmd {
    /// The ledger's checkpoint verifier key: `<origin>+<key id>+<base64>`.
    #[command(after_help = "Example:\n  ebl log key > ledger.vkey")]
    Key,
    /// The latest signed checkpoint as served: the ledger's note and the witnesses' lines.
    #[command(after_help = "Example:\n  ebl log checkpoint")]
    Checkpoint,
    /// A record's offline inclusion proof (c2sp.org/tlog-proof@v1), checked before printing.
    #[command(
        after_help = "Example:\n  ebl log proof --record 3f7a9c2e5b8d41f0a6c3e9b7d2f58a1c4e6b0d9f3a7c5e2b8d1f4a6c9e0b3d7f > record.tlog-proof"
    )]
    Proof {
        /// The record's hash (64 hex, as in its receipt).
        #[arg(long)]
        record: String,
    },
}

/// Runs a log command.
pub async fn run(cmd: LogCmd, server: &Servers, out: &Out) -> CliResult {
    let mut c = Client::connect_to(server).await?;
    match cmd {
        LogCmd::Key => {
            let key = c.verifier_key()?.to_string();
            out.exact(json!({ "verifier_key": key }), &format!("{key}\n"));
        }
        LogCmd::Checkpoint => {
            let cp = c.checkpoint().await?;
            out.exact(json!({"note": cp.note, "size": cp.size, "root": hex::encode(&cp.root)}), &cp.note);
        }
        LogCmd::Proof { record } => {
            let hash =
                Hash32::from_hex(&record).ok_or_else(|| super::error::usage("--record: expected 64 hex characters"))?;
            let proof = c.tlog_proof(hash).await?;
            let text = proof.to_string();
            out.exact(json!({"proof": text, "index": proof.index(), "tree_size": proof.checkpoint().size()}), &text);
        }
    }
    Ok(())
}
