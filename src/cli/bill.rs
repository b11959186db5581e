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
        /// An amended bill: the hash of the SACC that voided the previous amendment (hex); the
        /// amendment number is the previous one's plus one.
        #[arg(long, requires = "amendment")]
        amends: Option<String>,
        /// Amendment number (0 for an original bill).
        #[arg(long, default_value_t = 0)]
        amendment: u32,
    },
    /// Surrender the bill to its issuing carrier (the entitled possessor): for delivery, or for
    /// amendment (swtp: switch to paper, cod: change of destination, swi: switch bill).
    Surrender {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// The issuing carrier.
        #[arg(long)]
        to: String,
        /// delivery, swtp, cod or swi.
        #[arg(long = "for", default_value = "delivery")]
        purpose: String,
    },
    /// Pledge the bill to a bank as security (the entitled possessor).
    Pledge {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// The bank.
        #[arg(long)]
        to: String,
        /// possession (the pledgor stays entitled) or endorsement (endorsement in pledge).
        #[arg(long, default_value = "possession")]
        mode: String,
        /// The loan or letter of credit it secures.
        #[arg(long, default_value = "")]
        loan: String,
    },
    /// Give a pledged bill back (the pledgee).
    ReleasePledge {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
    /// Enforce the pledge on default (the pledgee): it may then surrender, or endorse and
    /// transfer to a buyer.
    EnforcePledge {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// SACC: accept the pending surrender (issuing carrier).
    AcceptSurrender {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// The paper bill now in force (switch to paper only).
        #[arg(long)]
        paper_bill: Option<String>,
    },
    /// SREJ: reject the pending surrender (issuing carrier); the title before it returns.
    RejectSurrender {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
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
        BillCmd::Issue { actor, document, to, profile, consignee, endorsee, issuance_manifest, amends, amendment } => {
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
            let amends = match amends {
                Some(h) => Hash32::from_hex(&h).ok_or("--amends: expected a 64-hex SACC record hash")?.0.to_vec(),
                None => vec![],
            };
            let bill = BillId::derive(&id.party, &reference, amendment);
            let action = Action::Issue(pb::Issue {
                document: doc,
                profile: profile as i32,
                amendment,
                consignee: consignee.unwrap_or_default(),
                endorsee: endorsee.unwrap_or_default(),
                issuance_manifest: manifest,
                amends,
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
        BillCmd::Surrender { actor, bill, to, purpose } => {
            let reason =
                |r: pb::AmendmentReason| Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: r as i32 });
            let action = match purpose.as_str() {
                "delivery" => Action::SurrenderForDelivery(pb::SurrenderForDelivery {}),
                "swtp" => reason(pb::AmendmentReason::Swtp),
                "cod" => reason(pb::AmendmentReason::Cod),
                "swi" => reason(pb::AmendmentReason::Swi),
                p => return Err(format!("--for {p}: expected delivery, swtp, cod or swi").into()),
            };
            out.receipt(&c.act(&actor.identity()?, parse_bill(&bill)?, Some(&to), action).await?);
        }
        BillCmd::Pledge { actor, bill, to, mode, loan } => {
            let mode = match mode.as_str() {
                "possession" => pb::PledgeMode::Possession,
                "endorsement" => pb::PledgeMode::Endorsement,
                m => return Err(format!("--mode {m}: expected possession or endorsement").into()),
            };
            let action = Action::Pledge(pb::Pledge { mode: mode as i32, loan_reference: loan });
            out.receipt(&c.act(&actor.identity()?, parse_bill(&bill)?, Some(&to), action).await?);
        }
        BillCmd::ReleasePledge { actor, bill } => out.receipt(
            &c.act(&actor.identity()?, parse_bill(&bill)?, None, Action::ReleasePledge(pb::ReleasePledge {})).await?,
        ),
        BillCmd::EnforcePledge { actor, bill, reason } => out.receipt(
            &c.act(&actor.identity()?, parse_bill(&bill)?, None, Action::EnforcePledge(pb::EnforcePledge { reason }))
                .await?,
        ),
        BillCmd::AcceptSurrender { actor, bill, paper_bill } => {
            let action =
                Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: paper_bill.unwrap_or_default() });
            out.receipt(&c.act(&actor.identity()?, parse_bill(&bill)?, None, action).await?);
        }
        BillCmd::RejectSurrender { actor, bill, reason } => out.receipt(
            &c.act(
                &actor.identity()?,
                parse_bill(&bill)?,
                None,
                Action::RejectSurrender(pb::RejectSurrender { reason }),
            )
            .await?,
        ),
        BillCmd::Show { reader, bill } => out.bill(&c.bill(&reader.identity()?, parse_bill(&bill)?).await?),
        BillCmd::History { reader, bill } => out.records(&c.history(&reader.identity()?, parse_bill(&bill)?).await?),
    }
    Ok(())
}
