//! `ebl custody ...`: the goods' side of a bill: departures, arrivals, co-signed handoffs between
//! carriers, delivery, customs holds and releases, re-routing, and the check at a handoff.

use super::bill::parse_bill;
use super::output::Out;
use super::{As, CliResult};
use crate::client::{Client, Identity};
use crate::pb::{self, record_payload::Action};
use clap::Subcommand;
use std::path::PathBuf;

/// Custody commands.
#[derive(Subcommand, Debug)]
pub enum CustodyCmd {
    /// The leg's carrier sets off with containers.
    Depart {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
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
    Arrive {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// Leg index.
        #[arg(long)]
        leg: u32,
        /// Container number (repeat).
        #[arg(long = "container", required = true)]
        containers: Vec<String>,
    },
    /// Hand containers to the next leg's carrier; both carriers sign (--as the outgoing one).
    Handoff {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
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
    Deliver {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// The party taking delivery.
        #[arg(long)]
        to: String,
        /// Container number (repeat).
        #[arg(long = "container", required = true)]
        containers: Vec<String>,
    },
    /// Customs: hold the goods of a bill touching your jurisdiction.
    Hold {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// Customs declaration number.
        #[arg(long)]
        declaration: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Customs: release your hold.
    Release {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// Customs declaration number of the hold.
        #[arg(long)]
        declaration: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Issuing carrier: re-plan the legs from --from-leg on (a route file, as for issue).
    Reroute {
        #[command(flatten)]
        actor: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// First leg replaced.
        #[arg(long)]
        from_leg: u32,
        /// The new legs (JSON route file).
        #[arg(long)]
        route: PathBuf,
    },
    /// Before a handoff: title and custody in one answer, and whether the goods may move on.
    Verify {
        #[command(flatten)]
        reader: As,
        /// Bill.
        #[arg(long)]
        bill: String,
        /// The leg that ends at the handoff.
        #[arg(long)]
        leg: u32,
    },
    /// The custody records of a bill, in order.
    History {
        #[command(flatten)]
        reader: As,
        /// Bill.
        #[arg(long)]
        bill: String,
    },
}

fn seal(s: &str) -> Result<pb::SealCheck, String> {
    let parts: Vec<&str> = s.splitn(4, ':').collect();
    match parts.as_slice() {
        [c, seal] => Ok(pb::SealCheck { container: c.to_string(), seal: seal.to_string(), ..Default::default() }),
        [c, seal, new, why] => Ok(pb::SealCheck {
            container: c.to_string(),
            seal: seal.to_string(),
            new_seal: new.to_string(),
            reason: why.to_string(),
        }),
        _ => Err(format!("--seal {s}: expected CONTAINER:SEAL or CONTAINER:SEAL:NEW_SEAL:REASON")),
    }
}

/// Runs a custody command.
pub async fn run(cmd: CustodyCmd, server: &str, out: &Out) -> CliResult {
    let mut c = Client::connect(server.to_string()).await?;
    let (actor, bill, to, action, cosigner) = match cmd {
        CustodyCmd::Depart { actor, bill, leg, containers, train, vehicle } => {
            let conveyance = (train.is_some() || vehicle.is_some()).then(|| pb::Conveyance {
                train_number: train.unwrap_or_default(),
                vehicle_id: vehicle.unwrap_or_default(),
                ..Default::default()
            });
            (actor, bill, None, Action::Depart(pb::Depart { leg, containers, conveyance }), None)
        }
        CustodyCmd::Arrive { actor, bill, leg, containers } => {
            (actor, bill, None, Action::Arrive(pb::Arrive { leg, containers }), None)
        }
        CustodyCmd::Handoff { actor, bill, leg, place, to, to_key, containers, seals, exceptions } => {
            let seals = seals.iter().map(|s| seal(s)).collect::<Result<_, _>>()?;
            let incoming =
                Identity { party: ebl_core::ids::PartyId::parse("--to", &to)?, key: super::keys::load(&to_key)? };
            let action = Action::Handoff(pb::Handoff { leg, place, containers, seals, exceptions });
            (actor, bill, Some(to), action, Some(incoming))
        }
        CustodyCmd::Deliver { actor, bill, to, containers } => {
            (actor, bill, Some(to), Action::Deliver(pb::Deliver { containers }), None)
        }
        CustodyCmd::Hold { actor, bill, declaration, reason } => {
            (actor, bill, None, Action::CustomsHold(pb::CustomsHold { declaration, reason }), None)
        }
        CustodyCmd::Release { actor, bill, declaration, reason } => {
            (actor, bill, None, Action::CustomsRelease(pb::CustomsRelease { declaration, reason }), None)
        }
        CustodyCmd::Reroute { actor, bill, from_leg, route } => {
            let legs = super::route::read_legs(&route)?;
            (actor, bill, None, Action::Reroute(pb::Reroute { from_leg, legs }), None)
        }
        CustodyCmd::Verify { reader, bill, leg } => {
            out.handoff(&c.verify_handoff(&reader.identity()?, parse_bill(&bill)?, leg).await?);
            return Ok(());
        }
        CustodyCmd::History { reader, bill } => {
            out.records(&c.custody_history(&reader.identity()?, parse_bill(&bill)?).await?);
            return Ok(());
        }
    };
    let id = actor.identity()?;
    let cosigners: Vec<&Identity> = cosigner.iter().collect();
    out.receipt(&c.custody(&id, parse_bill(&bill)?, to.as_deref(), action, &cosigners).await?);
    Ok(())
}
