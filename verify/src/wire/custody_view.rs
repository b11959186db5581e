//! Custody state -> its protobuf view (the outbound direction of the edge).

use super::payload::encode_leg;
use crate::pb;
use ebl_core::custody::CustodyState;
use ebl_core::route::Conveyance;

/// The wire view of a bill's custody.
pub fn custody_view(c: &CustodyState) -> pb::CustodyView {
    pb::CustodyView {
        route: c.route.iter().map(encode_leg).collect(),
        route_version: c.route_version,
        containers: c
            .containers
            .iter()
            .map(|(number, k)| pb::ContainerCustody {
                container: number.clone(),
                leg: k.leg,
                carrier: k.carrier.to_string(),
                stage: k.stage.name().into(),
                location: k.location.clone(),
                seals: k.seals.clone(),
                exceptions: k.exceptions.clone(),
                conveyance: k.conveyance.as_ref().map(describe).unwrap_or_default(),
            })
            .collect(),
        holds: c
            .holds
            .iter()
            .map(|h| pb::HoldView {
                customs: h.customs.to_string(),
                declaration: h.declaration.clone(),
                reason: h.reason.clone(),
                since_seq: h.since_seq,
            })
            .collect(),
        delivered_to: c.delivered_to.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        head_position: c.head.map(|h| h.0).unwrap_or_default(),
        head: c.head.map(|h| h.1 .0.to_vec()).unwrap_or_default(),
    }
}

/// A conveyance in a few words.
fn describe(c: &Conveyance) -> String {
    let mut parts = vec![];
    if !c.vessel_imo.is_empty() {
        parts.push(format!("vessel IMO {} voyage {}", c.vessel_imo, c.voyage));
    }
    if !c.train_number.is_empty() {
        parts.push(format!("train {}", c.train_number));
    }
    if !c.wagons.is_empty() {
        parts.push(format!("wagons {}", c.wagons.join(" ")));
    }
    if !c.vehicle_id.is_empty() {
        parts.push(c.vehicle_id.clone());
    }
    parts.join(", ")
}
