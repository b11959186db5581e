//! `ebl bill ...`: issue a bill from a DCSA JSON file, endorse, transfer, sign, and read it.

use super::output::Out;
use super::{As, CliResult};
use crate::client::{payload, sign, Client, Link};
use crate::pb::{self, record_payload::Action};
use clap::Subcommand;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::time::Timestamp;
use std::path::PathBuf;

/// Parses a bill given as a 64-hex id or as CARRIER/REFERENCE[/AMENDMENT].
pub fn parse_bill(s: &str) -> Result<BillId, Box<dyn std::error::Error>> {
    if let Some(h) = Hash32::from_hex(s) {
        return Ok(BillId(h));
    }
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [carrier, reference] => Ok(BillId::derive(&PartyId::parse("--bill", carrier)?, reference, 0)),
        [carrier, reference, amendment] => {
            Ok(BillId::derive(&PartyId::parse("--bill", carrier)?, reference, amendment.parse()?))
        }
        _ => Err(format!("--bill {s}: expected a 64-hex bill id or CARRIER/REFERENCE[/AMENDMENT]").into()),
    }
}

/// Bill commands.
#[derive(Subcommand, Debug)]
pub enum BillCmd {
    /// Issue a bill (carrier) from a DCSA eBL 3.0 transport document.
    Issue {
        #[command(flatten)]
        actor: As,
        /// The transport document (JSON).
        #[arg(long)]
        document: PathBuf,
        /// The first possessor (usually the shipper).
        #[arg(long)]
        to: String,
        /// dcsa (DCSA eBL 3.0) or no-sea-leg (the ledger's profile for bills with no sea leg).
        #[arg(long, default_value = "dcsa")]
        profile: String,
        /// Ledger party of the document's consignee.
        #[arg(long)]
        consignee: Option<String>,
        /// Ledger party of the document's endorsee.
        #[arg(long)]
        endorsee: Option<String>,
        /// The carrier's DCSA issuance manifest (a file holding a compact JWS).
        #[arg(long)]
        issuance_manifest: Option<PathBuf>,
    },
    /// Name a new endorsee (with --to-order it may endorse further).
    Endorse {
        #[command(flatten)]
        actor: As,
        /// Bill: 64-hex id, or CARRIER/REFERENCE[/AMENDMENT].
        #[arg(long)]
        bill: String,
        /// The new endorsee.
        #[arg(long)]
        to: String,
        /// ENDORSE_TO_ORDER instead of ENDORSE.
        #[arg(long)]
        to_order: bool,
    },
    /// Endorse in blank: the bill then passes by possession alone.
    BlankEndorse {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
    /// Transfer possession.
    Transfer {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// The new possessor.
        #[arg(long)]
        to: String,
    },
    /// Confirm possession.
    Sign {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
    /// Refuse the transfer or endorsement just made to you (your very next action on the bill).
    Reject {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Show a bill's state.
    Show {
        #[command(flatten)]
        reader: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
    /// Show a bill's title records in order.
    History {
        #[command(flatten)]
        reader: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
}

/// Runs a bill command.
pub async fn run(cmd: BillCmd, server: &str, out: &Out) -> CliResult {
    let mut c = Client::connect(server.to_string()).await?;
    match cmd {
        BillCmd::Issue { actor, document, to, profile, consignee, endorsee, issuance_manifest } => {
            let id = actor.identity()?;
            let doc = std::fs::read(&document).map_err(|e| format!("{}: {e}", document.display()))?;
            let reference = serde_json::from_slice::<serde_json::Value>(&doc)?
                .get("transportDocumentReference")
                .and_then(|v| v.as_str())
                .ok_or("the document has no transportDocumentReference")?
                .to_string();
            let profile = match profile.as_str() {
                "dcsa" => pb::DocumentProfile::DcsaEbl3,
                "no-sea-leg" => pb::DocumentProfile::NoSeaLeg,
                p => return Err(format!("--profile {p}: expected dcsa or no-sea-leg").into()),
            };
            let manifest = issuance_manifest
                .map(std::fs::read_to_string)
                .transpose()?
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let bill = BillId::derive(&id.party, &reference, 0);
            let action = Action::Issue(pb::Issue {
                document: doc,
                profile: profile as i32,
                amendment: 0,
                consignee: consignee.unwrap_or_default(),
                endorsee: endorsee.unwrap_or_default(),
                issuance_manifest: manifest,
            });
            let p = payload(
                c.origin(),
                Some(bill),
                Link::default(),
                id.party.as_str(),
                Some(&to),
                Timestamp::now(),
                action,
            );
            out.receipt(&c.submit(sign(&p, &[&id])).await?);
        }
        BillCmd::Endorse { actor, bill, to, to_order } => {
            let action =
                if to_order { Action::EndorseToOrder(pb::EndorseToOrder {}) } else { Action::Endorse(pb::Endorse {}) };
            out.receipt(&c.act(&actor.identity()?, parse_bill(&bill)?, Some(&to), action).await?);
        }
        BillCmd::BlankEndorse { actor, bill } => out.receipt(
            &c.act(&actor.identity()?, parse_bill(&bill)?, None, Action::BlankEndorse(pb::BlankEndorse {})).await?,
        ),
        BillCmd::Transfer { actor, bill, to } => out.receipt(
            &c.act(&actor.identity()?, parse_bill(&bill)?, Some(&to), Action::Transfer(pb::Transfer {})).await?,
        ),
        BillCmd::Sign { actor, bill } => {
            out.receipt(&c.act(&actor.identity()?, parse_bill(&bill)?, None, Action::Sign(pb::Sign {})).await?)
        }
        BillCmd::Reject { actor, bill, reason } => out.receipt(
            &c.act(&actor.identity()?, parse_bill(&bill)?, None, Action::Reject(pb::Reject { reason })).await?,
        ),
        BillCmd::Show { reader, bill } => out.bill(&c.bill(&reader.identity()?, parse_bill(&bill)?).await?),
        BillCmd::History { reader, bill } => out.records(&c.history(&reader.identity()?, parse_bill(&bill)?).await?),
    }
    Ok(())
}
