//! `ebl custody ...`: the goods' side of a bill: departures, arrivals, co-signed handoffs between
//! carriers, delivery, customs holds and releases, re-routing, and the check at a handoff.

use super::bill::parse_bill;
use super::error::{usage, Stopped};
use super::events;
use super::output::Out;
use super::{As, CliResult};
use crate::client::Servers;
use crate::client::{Client, Identity};
use crate::pb::{self, record_payload::Action};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::PathBuf;

/// Who acts (or reads) on which bill: every custody command's first arguments.
#[derive(Args, Debug)]
pub struct OnBill {
    #[command(flatten)]
    actor: As,
    /// Bill: 64-hex id, or CARRIER/REFERENCE[/AMENDMENT].
    #[arg(long)]
    bill: String,
}

/// Custody commands.
#[derive(Subcommand, Debug)]
pub enum CustodyCmd {
    /// The leg's carrier sets off with containers.
    #[command(
        after_help = "Example:\n  ebl custody depart --as cr-chongqing --key cr-chongqing.key --bill cq-mto/CLSC25CKGSIN000187 --leg 0 --container CQLU4518208 --train X9012"
    )]
    Depart {
        #[command(flatten)]
        on: OnBill,
        /// Leg index (0 = first leg).
        #[arg(long)]
        leg: u32,
        /// Container number (repeat).
        #[arg(long = "container", required = true)]
        containers: Vec<String>,
        /// The train that actually carries them, when not the leg's planned one (RAIL).
        #[arg(long)]
        train: Option<String>,
        /// The barge, truck or flight that actually carries them, when not the planned one.
        #[arg(long)]
        vehicle: Option<String>,
    },
    /// The leg's carrier arrives with containers at the end of the leg.
    #[command(
        after_help = "Example:\n  ebl custody arrive --as cr-chongqing --key cr-chongqing.key --bill cq-mto/CLSC25CKGSIN000187 --leg 0 --container CQLU4518208"
    )]
    Arrive {
        #[command(flatten)]
        on: OnBill,
        /// Leg index.
        #[arg(long)]
        leg: u32,
        /// Container number (repeat).
        #[arg(long = "container", required = true)]
        containers: Vec<String>,
    },
    /// Hand containers to the next leg's carrier; both carriers sign (--as the outgoing one).
    #[command(
        after_help = "Example:\n  ebl custody handoff --as cr-chongqing --key cr-chongqing.key --to bbw-shipping --to-key bbw-shipping.key --bill cq-mto/CLSC25CKGSIN000187 --leg 0 --place CNQZH --container CQLU4518208 --seal CQLU4518208:CLS2503104471"
    )]
    Handoff {
        #[command(flatten)]
        on: OnBill,
        /// The leg that ends here.
        #[arg(long)]
        leg: u32,
        /// Where (UN/LOCODE).
        #[arg(long)]
        place: String,
        /// The incoming carrier.
        #[arg(long)]
        to: String,
        /// The incoming carrier's secret key file (it co-signs).
        #[arg(long)]
        to_key: PathBuf,
        /// Container number (repeat).
        #[arg(long = "container", required = true)]
        containers: Vec<String>,
        /// Seal checked: CONTAINER:SEAL, or CONTAINER:SEAL:NEW_SEAL:REASON for a changed seal (repeat).
        #[arg(long = "seal")]
        seals: Vec<String>,
        /// Exception noted: "CONTAINER: what was found" (repeat).
        #[arg(long = "exception")]
        exceptions: Vec<String>,
    },
    /// Deliver containers to the party whose surrender for delivery was accepted.
    #[command(
        after_help = "Example:\n  ebl custody deliver --as bbw-shipping --key bbw-shipping.key --bill cq-mto/CLSC25CKGSIN000187 --to sg-buyer --container CQLU4518208"
    )]
    Deliver {
        #[command(flatten)]
        on: OnBill,
        /// The party taking delivery.
        #[arg(long)]
        to: String,
        /// Container number (repeat).
        #[arg(long = "container", required = true)]
        containers: Vec<String>,
    },
    /// Customs: hold the goods of a bill touching your jurisdiction.
    #[command(
        after_help = "Example:\n  ebl custody hold --as sg-customs --key sg-customs.key --bill cq-mto/CLSC25CKGSIN000187 --declaration SG2025-778812 --reason inspection"
    )]
    Hold {
        #[command(flatten)]
        on: OnBill,
        /// Customs declaration number.
        #[arg(long)]
        declaration: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Customs: release your hold.
    #[command(
        after_help = "Example:\n  ebl custody release --as sg-customs --key sg-customs.key --bill cq-mto/CLSC25CKGSIN000187 --declaration SG2025-778812 --reason cleared"
    )]
    Release {
        #[command(flatten)]
        on: OnBill,
        /// Customs declaration number of the hold.
        #[arg(long)]
        declaration: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Issuing carrier: re-plan the legs from --from-leg on (a route file, as for issue).
    #[command(
        after_help = "Example:\n  ebl custody reroute --as cq-mto --key cq-mto.key --bill cq-mto/CLSC25CKGSIN000187 --from-leg 1 --route new-legs.json"
    )]
    Reroute {
        #[command(flatten)]
        on: OnBill,
        /// First leg replaced.
        #[arg(long)]
        from_leg: u32,
        /// The new legs (JSON route file).
        #[arg(long)]
        route: PathBuf,
    },
    /// Before a handoff or delivery: title and custody in one answer, and whether the goods may
    /// move on there. A gate: exits 3 when they may not, saying why (e.g. a customs hold).
    #[command(
        after_help = "Example:\n  ebl custody verify --as bbw-shipping --key bbw-shipping.key --bill cq-mto/CLSC25CKGSIN000187 --place CNQZH",
        group(clap::ArgGroup::new("at").required(true).args(["leg", "place", "container"]))
    )]
    Verify {
        #[command(flatten)]
        on: OnBill,
        /// The leg that ends at the handoff (or at delivery, for the last leg).
        #[arg(long)]
        leg: Option<u32>,
        /// Where the handoff or delivery is (UN/LOCODE): the leg that ends there.
        #[arg(long)]
        place: Option<String>,
        /// A container (ISO 6346): that container at the end of the leg it is on now.
        #[arg(long)]
        container: Option<String>,
    },
    /// The custody records of a bill, in order.
    #[command(
        after_help = "Example:\n  ebl custody history --as sg-customs --key sg-customs.key --bill cq-mto/CLSC25CKGSIN000187"
    )]
    History {
        #[command(flatten)]
        on: OnBill,
    },
}

fn seal(s: &str) -> Result<pb::SealCheck, super::error::Usage> {
    let parts: Vec<&str> = s.splitn(4, ':').collect();
    match parts.as_slice() {
        [c, seal] => Ok(pb::SealCheck { container: c.to_string(), seal: seal.to_string(), ..Default::default() }),
        [c, seal, new, why] => Ok(pb::SealCheck {
            container: c.to_string(),
            seal: seal.to_string(),
            new_seal: new.to_string(),
            reason: why.to_string(),
        }),
        _ => Err(super::error::Usage(format!("--seal {s}: expected CONTAINER:SEAL or CONTAINER:SEAL:NEW_SEAL:REASON"))),
    }
}

/// A container number as ISSUE checks it (ISO 6346); a usage error naming `flag` otherwise.
pub fn container_number(flag: &str, n: &str) -> Result<(), Box<dyn std::error::Error>> {
    ebl_core::document::iso6346::validate(n).map_err(|why| usage(format!("{flag} {n}: {why}")))
}

/// A gate's exit: nothing when the goods may move on, else [`Stopped`] with the ledger's reasons.
fn gate(check: &pb::HandoffCheck) -> CliResult {
    if check.may_proceed {
        return Ok(());
    }
    let what = if check.delivery { "delivery" } else { "handoff" };
    let at = if check.place.is_empty() { String::new() } else { format!(" at {}", check.place) };
    let reason = check.reasons.first().and_then(|r| r.split(':').next()).unwrap_or("STOPPED").to_string();
    Err(Stopped { reason, message: format!("the {what}{at} may not proceed: {}", check.reasons.join("; ")) }.into())
}

/// Runs a custody command.
pub async fn run(cmd: CustodyCmd, server: &Servers, out: &Out) -> CliResult {
    let mut c = Client::connect_to(server).await?;
    let (on, to, action, cosigner) = match cmd {
        CustodyCmd::Depart { on, leg, containers, train, vehicle } => {
            let conveyance = (train.is_some() || vehicle.is_some()).then(|| pb::Conveyance {
                train_number: train.unwrap_or_default(),
                vehicle_id: vehicle.unwrap_or_default(),
                ..Default::default()
            });
            (on, None, Action::Depart(pb::Depart { leg, containers, conveyance }), None)
        }
        CustodyCmd::Arrive { on, leg, containers } => (on, None, Action::Arrive(pb::Arrive { leg, containers }), None),
        CustodyCmd::Handoff { on, leg, place, to, to_key, containers, seals, exceptions } => {
            let seals = seals.iter().map(|s| seal(s)).collect::<Result<_, _>>()?;
            let incoming =
                Identity { party: ebl_core::ids::PartyId::parse("--to", &to)?, key: super::keys::load(&to_key)? };
            let action = Action::Handoff(pb::Handoff { leg, place, containers, seals, exceptions });
            (on, Some(to), action, Some(incoming))
        }
        CustodyCmd::Deliver { on, to, containers } => (on, Some(to), Action::Deliver(pb::Deliver { containers }), None),
        CustodyCmd::Hold { on, declaration, reason } => {
            (on, None, Action::CustomsHold(pb::CustomsHold { declaration, reason }), None)
        }
        CustodyCmd::Release { on, declaration, reason } => {
            (on, None, Action::CustomsRelease(pb::CustomsRelease { declaration, reason }), None)
        }
        CustodyCmd::Reroute { on, from_leg, route } => {
            let legs = super::route::read_legs(&route)?;
            (on, None, Action::Reroute(pb::Reroute { from_leg, legs }), None)
        }
        CustodyCmd::Verify { on, leg, place, container } => {
            if let Some(p) = &place {
                if !ebl_core::document::is_locode(p) {
                    return Err(usage(format!("--place {p}: expected a UN/LOCODE, e.g. CNQZH")));
                }
            }
            if let Some(n) = &container {
                container_number("--container", n)?;
            }
            let bill_id = parse_bill(&on.bill)?.0 .0.to_vec();
            let q = pb::VerifyHandoffRequest {
                bill_id,
                leg: leg.unwrap_or_default(),
                place: place.unwrap_or_default(),
                container: container.unwrap_or_default(),
            };
            let check = c.verify_goods(&on.actor.identity()?, q).await?;
            out.handoff(&check);
            return gate(&check);
        }
        CustodyCmd::History { on } => {
            let (id, bill) = (on.actor.identity()?, parse_bill(&on.bill)?);
            let route = c.bill(&id, bill).await?.custody.map(|v| v.route).unwrap_or_default();
            let records = c.custody_history(&id, bill).await?;
            let events: Vec<Value> = records.iter().map(|r| events::event_json(r, &route)).collect();
            out.emit(Value::Array(events.clone()), || {
                if events.is_empty() {
                    return "no custody record yet".into();
                }
                events.iter().map(events::event_text).collect::<Vec<_>>().join("\n")
            });
            return Ok(());
        }
    };
    let id = on.actor.identity()?;
    let cosigners: Vec<&Identity> = cosigner.iter().collect();
    out.receipt(&c.custody(&id, parse_bill(&on.bill)?, to.as_deref(), action, &cosigners).await?);
    Ok(())
}
