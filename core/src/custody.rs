//! Custody: which carrier physically holds which containers, on which leg, where, under which
//! seals; and the customs holds on a bill. Custody has its own chain per bill, apart from title:
//! a custody event never makes a title record stale, nor the reverse. Owns the custody state and
//! the questions asked of it (which holds cover a place, whether goods may move); the rules that
//! change it are in [`crate::custody_rules`].

use crate::hash::Hash32;
use crate::ids::{BillId, PartyId};
use crate::route::{Conveyance, Leg};
use std::collections::BTreeMap;

/// Where a container is along its leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    /// At the start of its leg, in the leg carrier's custody, not yet departed.
    Ready,
    /// Moving on its leg.
    InTransit,
    /// At the end of its leg, still in the leg carrier's custody.
    Arrived,
    /// Delivered at the place of delivery to the party whose surrender was accepted.
    Delivered,
}

impl Stage {
    /// Upper-case name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ready => "READY",
            Stage::InTransit => "IN_TRANSIT",
            Stage::Arrived => "ARRIVED",
            Stage::Delivered => "DELIVERED",
        }
    }
}

/// One container's custody.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Container {
    /// Index of its current leg in the route.
    pub leg: u32,
    /// The carrier holding it.
    pub carrier: PartyId,
    /// Where along the leg.
    pub stage: Stage,
    /// UN/LOCODE of where it is (its leg's start, or end once arrived).
    pub location: String,
    /// Seal numbers on it now.
    pub seals: Vec<String>,
    /// Exceptions recorded at handoffs (damage, shortage...), oldest first.
    pub exceptions: Vec<String>,
    /// What carries it on its current leg, once departed (the leg's plan, or what DEPART named).
    #[serde(default)]
    pub conveyance: Option<Conveyance>,
}

/// An active customs hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hold {
    /// The customs party that placed it.
    pub customs: PartyId,
    /// Its jurisdiction (country codes or UN/LOCODEs) when it placed the hold.
    pub jurisdiction: Vec<String>,
    /// Customs declaration number.
    pub declaration: String,
    /// Why.
    pub reason: String,
    /// Global sequence number of the CUSTOMS_HOLD record.
    pub since_seq: u64,
}

impl Hold {
    /// Whether the hold's jurisdiction covers a UN/LOCODE.
    pub fn covers(&self, locode: &str) -> bool {
        crate::registry::jurisdiction_covers(&self.jurisdiction, locode)
    }
}

/// A bill's custody state, as stored and as rebuilt from its custody records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustodyState {
    /// The bill.
    pub bill: BillId,
    /// Head of the custody chain: (position, hash); `None` before the first custody record.
    pub head: Option<(u64, Hash32)>,
    /// The route in force.
    pub route: Vec<Leg>,
    /// How many times the remaining legs were re-planned (0: the route at issue).
    pub route_version: u32,
    /// Each container by number.
    pub containers: BTreeMap<String, Container>,
    /// Active customs holds.
    pub holds: Vec<Hold>,
    /// Once every container is delivered: to whom.
    pub delivered_to: Option<PartyId>,
}

impl CustodyState {
    /// The custody of a newly issued bill: every container ready at the start of the first leg,
    /// with the first carrier, under the seals the document gives.
    pub fn at_issue(bill: BillId, route: Vec<Leg>, seals: &BTreeMap<String, Vec<String>>) -> Self {
        let first = &route[0];
        let containers = seals
            .iter()
            .map(|(number, seals)| {
                let c = Container {
                    leg: 0,
                    carrier: first.carrier.clone(),
                    stage: Stage::Ready,
                    location: first.from.locode.clone(),
                    seals: seals.clone(),
                    exceptions: vec![],
                    conveyance: None,
                };
                (number.clone(), c)
            })
            .collect();
        CustodyState { bill, head: None, route, route_version: 0, containers, holds: vec![], delivered_to: None }
    }

    /// The first active hold covering `locode`, if any.
    pub fn hold_at(&self, locode: &str) -> Option<&Hold> {
        self.holds.iter().find(|h| h.covers(locode))
    }

    /// The highest leg any container has reached or started (a re-routing keeps legs up to it).
    pub fn legs_in_use(&self) -> u32 {
        self.containers.values().map(|c| c.leg + u32::from(c.stage != Stage::Ready)).max().unwrap_or(0)
    }

    /// Every carrier that holds or will hold the goods on this route.
    pub fn carriers(&self) -> Vec<PartyId> {
        crate::route::carriers(&self.route)
    }
}
