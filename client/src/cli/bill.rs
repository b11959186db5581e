//! `ebl bill ...`: issue a bill from a DCSA JSON file, endorse, transfer, sign, and read it.

use super::error::usage;
use super::output::Out;
use super::{As, CliResult};
use crate::client::Servers;
use crate::client::{payload, sign, Client, Link};
use crate::pb::{self, record_payload::Action};
use clap::{Args, Subcommand};
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
            let amendment = amendment.parse().map_err(|_| usage(format!("--bill {s}: the amendment is a number")))?;
            Ok(BillId::derive(&PartyId::parse("--bill", carrier)?, reference, amendment))
        }
        _ => Err(usage(format!("--bill {s}: expected a 64-hex bill id or CARRIER/REFERENCE[/AMENDMENT]"))),
    }
}

/// Who acts on which bill: every title action's first two arguments.
#[derive(Args, Debug)]
pub struct OnBill {
    #[command(flatten)]
    actor: As,
    /// Bill: 64-hex id, or CARRIER/REFERENCE[/AMENDMENT].
    #[arg(long)]
    bill: String,
    /// Sign as an agent for this party (under a delegation registered by the operator): the
    /// record is this party's act, signed by --as.
    #[arg(long)]
    on_behalf_of: Option<String>,
}

/// Bill commands.
#[derive(Subcommand, Debug)]
pub enum BillCmd {
    /// Issue a bill (carrier) from a DCSA eBL 3.0 transport document.
    #[command(
        after_help = "Example:\n  ebl bill issue --as cq-mto --key cq-mto.key --document examples/documents/ilstc-chongqing-qinzhou-singapore.json --route examples/routes/ilstc-chongqing-qinzhou-singapore.json --to cq-machinery"
    )]
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
        /// The route: a JSON file with the legs (see docs/multimodal.md).
        #[arg(long)]
        route: Option<PathBuf>,
    },
    /// Surrender the bill to its issuing carrier (the entitled possessor): for delivery, or for
    /// amendment (swtp: switch to paper, cod: change of destination, swi: switch bill).
    #[command(
        after_help = "Example:\n  ebl bill surrender --as sg-buyer --key sg-buyer.key --bill cq-mto/CLSC25CKGSIN000187 --to cq-mto --for delivery"
    )]
    Surrender {
        #[command(flatten)]
        on: OnBill,
        /// The issuing carrier.
        #[arg(long)]
        to: String,
        /// delivery, swtp, cod or swi.
        #[arg(long = "for", default_value = "delivery")]
        purpose: String,
    },
    /// Pledge the bill to a bank as security (the entitled possessor).
    #[command(
        after_help = "Example:\n  ebl bill pledge --as cq-machinery --key cq-machinery.key --bill cq-mto/CLSC25CKGSIN000187 --to cq-bank --mode possession --loan LC-2026-0412"
    )]
    Pledge {
        #[command(flatten)]
        on: OnBill,
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
    #[command(
        after_help = "Example:\n  ebl bill release-pledge --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    ReleasePledge {
        #[command(flatten)]
        on: OnBill,
    },
    /// Enforce the pledge on default (the pledgee): it may then surrender, or endorse and
    /// transfer to a buyer.
    #[command(
        after_help = "Example:\n  ebl bill enforce-pledge --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187 --reason \"loan unpaid at maturity\""
    )]
    EnforcePledge {
        #[command(flatten)]
        on: OnBill,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// SACC: accept the pending surrender (issuing carrier).
    #[command(
        after_help = "Example:\n  ebl bill accept-surrender --as cq-mto --key cq-mto.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    AcceptSurrender {
        #[command(flatten)]
        on: OnBill,
        /// The paper bill now in force (switch to paper only).
        #[arg(long)]
        paper_bill: Option<String>,
    },
    /// SREJ: reject the pending surrender (issuing carrier); the title before it returns.
    #[command(
        after_help = "Example:\n  ebl bill reject-surrender --as cq-mto --key cq-mto.key --bill cq-mto/CLSC25CKGSIN000187 --reason \"not surrendered by the entitled holder\""
    )]
    RejectSurrender {
        #[command(flatten)]
        on: OnBill,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Name a new endorsee (with --to-order it may endorse further).
    #[command(
        after_help = "Example:\n  ebl bill endorse --as cq-machinery --key cq-machinery.key --bill cq-mto/CLSC25CKGSIN000187 --to cq-bank --to-order"
    )]
    Endorse {
        #[command(flatten)]
        on: OnBill,
        /// The new endorsee.
        #[arg(long)]
        to: String,
        /// ENDORSE_TO_ORDER instead of ENDORSE.
        #[arg(long)]
        to_order: bool,
    },
    /// Endorse in blank: the bill then passes by possession alone.
    #[command(
        after_help = "Example:\n  ebl bill blank-endorse --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    BlankEndorse {
        #[command(flatten)]
        on: OnBill,
    },
    /// Transfer possession.
    #[command(
        after_help = "Example:\n  ebl bill transfer --as cq-machinery --key cq-machinery.key --bill cq-mto/CLSC25CKGSIN000187 --to cq-bank"
    )]
    Transfer {
        #[command(flatten)]
        on: OnBill,
        /// The new possessor.
        #[arg(long)]
        to: String,
    },
    /// Confirm possession.
    #[command(
        after_help = "Example:\n  ebl bill sign --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    Sign {
        #[command(flatten)]
        on: OnBill,
    },
    /// Refuse the transfer or endorsement just made to you (your very next action on the bill).
    #[command(
        after_help = "Example:\n  ebl bill reject --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187 --reason \"not the agreed letter of credit\""
    )]
    Reject {
        #[command(flatten)]
        on: OnBill,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Show a bill's state.
    #[command(
        after_help = "Example:\n  ebl bill show --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    Show {
        #[command(flatten)]
        reader: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
    /// Show a bill's title records in order.
    #[command(
        after_help = "Example:\n  ebl bill history --as cq-bank --key cq-bank.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    History {
        #[command(flatten)]
        reader: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
}

/// Runs a bill command.
pub async fn run(cmd: BillCmd, server: &Servers, out: &Out) -> CliResult {
    let mut c = Client::connect_to(server).await?;
    match cmd {
        BillCmd::Issue {
            actor,
            document,
            to,
            profile,
            consignee,
            endorsee,
            issuance_manifest,
            amends,
            amendment,
            route,
        } => {
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
                p => return Err(usage(format!("--profile {p}: expected dcsa or no-sea-leg"))),
            };
            let manifest = issuance_manifest
                .map(std::fs::read_to_string)
                .transpose()?
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let amends = match amends {
                Some(h) => Hash32::from_hex(&h)
                    .ok_or_else(|| usage("--amends: expected a 64-hex SACC record hash"))?
                    .0
                    .to_vec(),
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
                legs: route.map(|r| crate::cli::route::read_legs(&r)).transpose()?.unwrap_or_default(),
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
        BillCmd::Endorse { on, to, to_order } => {
            let action =
                if to_order { Action::EndorseToOrder(pb::EndorseToOrder {}) } else { Action::Endorse(pb::Endorse {}) };
            act(&mut c, out, on, Some(to), action).await?
        }
        BillCmd::BlankEndorse { on } => act(&mut c, out, on, None, Action::BlankEndorse(pb::BlankEndorse {})).await?,
        BillCmd::Transfer { on, to } => act(&mut c, out, on, Some(to), Action::Transfer(pb::Transfer {})).await?,
        BillCmd::Sign { on } => act(&mut c, out, on, None, Action::Sign(pb::Sign {})).await?,
        BillCmd::Reject { on, reason } => act(&mut c, out, on, None, Action::Reject(pb::Reject { reason })).await?,
        BillCmd::Surrender { on, to, purpose } => {
            let reason =
                |r: pb::AmendmentReason| Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: r as i32 });
            let action = match purpose.as_str() {
                "delivery" => Action::SurrenderForDelivery(pb::SurrenderForDelivery {}),
                "swtp" => reason(pb::AmendmentReason::Swtp),
                "cod" => reason(pb::AmendmentReason::Cod),
                "swi" => reason(pb::AmendmentReason::Swi),
                p => return Err(usage(format!("--for {p}: expected delivery, swtp, cod or swi"))),
            };
            act(&mut c, out, on, Some(to), action).await?
        }
        BillCmd::Pledge { on, to, mode, loan } => {
            let mode = match mode.as_str() {
                "possession" => pb::PledgeMode::Possession,
                "endorsement" => pb::PledgeMode::Endorsement,
                m => return Err(usage(format!("--mode {m}: expected possession or endorsement"))),
            };
            act(&mut c, out, on, Some(to), Action::Pledge(pb::Pledge { mode: mode as i32, loan_reference: loan }))
                .await?
        }
        BillCmd::ReleasePledge { on } => {
            act(&mut c, out, on, None, Action::ReleasePledge(pb::ReleasePledge {})).await?
        }
        BillCmd::EnforcePledge { on, reason } => {
            act(&mut c, out, on, None, Action::EnforcePledge(pb::EnforcePledge { reason })).await?
        }
        BillCmd::AcceptSurrender { on, paper_bill } => {
            let action =
                Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: paper_bill.unwrap_or_default() });
            act(&mut c, out, on, None, action).await?
        }
        BillCmd::RejectSurrender { on, reason } => {
            act(&mut c, out, on, None, Action::RejectSurrender(pb::RejectSurrender { reason })).await?
        }
        BillCmd::Show { reader, bill } => {
            let reader = reader.identity()?;
            let view = c.bill(&reader, parse_bill(&bill)?).await?;
            let dir = super::directory::Directory::from_stored(&c.registry(&reader, 0).await?);
            out.bill(&view, &dir)
        }
        BillCmd::History { reader, bill } => out.records(&c.history(&reader.identity()?, parse_bill(&bill)?).await?),
    }
    Ok(())
}

/// Signs and submits `on.actor`'s `action` on `on.bill` after its current head (as agent of
/// `on.on_behalf_of` where given), and prints the receipt.
async fn act(c: &mut Client, out: &Out, on: OnBill, to: Option<String>, action: Action) -> CliResult {
    let (signer, bill) = (on.actor.identity()?, parse_bill(&on.bill)?);
    let receipt = match &on.on_behalf_of {
        Some(principal) => c.act_for(&signer, principal, bill, to.as_deref(), action).await?,
        None => c.act(&signer, bill, to.as_deref(), action).await?,
    };
    out.receipt(&receipt);
    Ok(())
}
