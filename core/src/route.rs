//! A bill's route: ordered legs across rail, river, sea, road and air, each with its carrier,
//! its ends (UN/LOCODE and terminal or station), its conveyance and planned times. Owns the route
//! rules (contiguous, from the place of receipt to the place of delivery, conveyance by mode,
//! profile) and the rules of a re-routing; the carriers' roles are checked by the caller, which
//! holds the registry.

use crate::document::{is_locode, Profile};
use crate::error::{Result, RuleError};
use crate::ids::PartyId;
use crate::time::Timestamp;

/// Most legs a route may have.
pub const MAX_LEGS: usize = 20;

/// How a leg moves the goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// By train.
    Rail,
    /// By sea-going vessel.
    Sea,
    /// By barge on a river or canal.
    InlandWaterway,
    /// By truck.
    Road,
    /// By aircraft.
    Air,
}

impl Mode {
    /// Upper-case name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Rail => "RAIL",
            Mode::Sea => "SEA",
            Mode::InlandWaterway => "INLAND_WATERWAY",
            Mode::Road => "ROAD",
            Mode::Air => "AIR",
        }
    }
}

/// One end of a leg.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    /// UN/LOCODE.
    pub locode: String,
    /// Terminal, station or yard (free text, may be empty).
    pub facility: String,
}

/// What carries the goods on a leg; which fields are required depends on the mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conveyance {
    /// SEA: the vessel's IMO number (7 digits with its check digit).
    pub vessel_imo: String,
    /// SEA: the voyage number.
    pub voyage: String,
    /// RAIL: the train number.
    pub train_number: String,
    /// RAIL: wagon numbers, where known.
    pub wagons: Vec<String>,
    /// INLAND_WATERWAY, ROAD, AIR: barge, truck or flight id.
    pub vehicle_id: String,
}

/// One leg of the route.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Leg {
    /// Mode of transport.
    pub mode: Mode,
    /// The carrier that performs it (a registered CARRIER).
    pub carrier: PartyId,
    /// Where it starts.
    pub from: Place,
    /// Where it ends.
    pub to: Place,
    /// What carries the goods.
    pub conveyance: Conveyance,
    /// Planned departure.
    pub planned_departure: Option<Timestamp>,
    /// Planned arrival.
    pub planned_arrival: Option<Timestamp>,
}

/// Whether `imo` is an IMO ship number: 7 digits, the last the check digit of the first six
/// weighted 7 down to 2.
pub fn is_imo(imo: &str) -> bool {
    let d: Vec<u32> = imo.chars().filter_map(|c| c.to_digit(10)).collect();
    imo.len() == 7 && d.len() == 7 && d[..6].iter().zip((2..=7).rev()).map(|(a, w)| a * w).sum::<u32>() % 10 == d[6]
}

fn check_place(field: &str, p: &Place) -> Result<()> {
    if !is_locode(&p.locode) {
        return Err(RuleError::invalid(format!("{field}.locode"), format!("'{}' is not a UN/LOCODE", p.locode)));
    }
    if p.facility.len() > 100 {
        return Err(RuleError::invalid(format!("{field}.facility"), "at most 100 bytes"));
    }
    Ok(())
}

fn check_leg(field: &str, leg: &Leg) -> Result<()> {
    check_place(&format!("{field}.from"), &leg.from)?;
    check_place(&format!("{field}.to"), &leg.to)?;
    if leg.from.locode == leg.to.locode {
        return Err(RuleError::invalid(format!("{field}.to"), "a leg ends somewhere other than where it starts"));
    }
    let c = &leg.conveyance;
    let need = |name: &str, v: &str| -> Result<()> {
        if v.trim().is_empty() || v.len() > 35 {
            return Err(RuleError::invalid(
                format!("{field}.conveyance.{name}"),
                format!("required for a {} leg (1-35 characters)", leg.mode.name()),
            ));
        }
        Ok(())
    };
    match leg.mode {
        Mode::Sea => {
            if !is_imo(&c.vessel_imo) {
                return Err(RuleError::invalid(
                    format!("{field}.conveyance.vessel_imo"),
                    format!("'{}' is not an IMO number (7 digits with a valid check digit)", c.vessel_imo),
                ));
            }
            need("voyage", &c.voyage)?;
        }
        Mode::Rail => need("train_number", &c.train_number)?,
        Mode::InlandWaterway | Mode::Road | Mode::Air => need("vehicle_id", &c.vehicle_id)?,
    }
    if let (Some(d), Some(a)) = (leg.planned_departure, leg.planned_arrival) {
        if a < d {
            return Err(RuleError::invalid(format!("{field}.planned_arrival"), "is before the planned departure"));
        }
    }
    Ok(())
}

/// Checks legs that must run, one after the other, from `start` to `end` (UN/LOCODEs, where
/// known). `field` names the list in errors, e.g. `issue.legs`.
pub fn check_chain(field: &str, legs: &[Leg], start: Option<&str>, end: Option<&str>) -> Result<()> {
    if legs.is_empty() || legs.len() > MAX_LEGS {
        return Err(RuleError::invalid(field, format!("1 to {MAX_LEGS} legs")));
    }
    for (i, leg) in legs.iter().enumerate() {
        check_leg(&format!("{field}[{i}]"), leg)?;
        if i > 0 && legs[i - 1].to.locode != leg.from.locode {
            return Err(RuleError::invalid(
                format!("{field}[{i}].from"),
                format!("must be {}, where leg {} ends: legs are contiguous", legs[i - 1].to.locode, i - 1),
            ));
        }
    }
    if let Some(s) = start.filter(|s| *s != legs[0].from.locode) {
        return Err(RuleError::invalid(
            format!("{field}[0].from"),
            format!("must be {s}, the document's place of receipt (or port of loading)"),
        ));
    }
    let last = legs.len() - 1;
    if let Some(e) = end.filter(|e| *e != legs[last].to.locode) {
        return Err(RuleError::invalid(
            format!("{field}[{last}].to"),
            format!("must be {e}, the document's place of delivery (or port of discharge)"),
        ));
    }
    Ok(())
}

/// Checks a route at issue against its document's ends and profile: a DCSA eBL 3.0 bill has a
/// sea leg; a bill under the no-sea-leg profile has none.
pub fn check_route(legs: &[Leg], start: Option<&str>, end: Option<&str>, profile: Profile) -> Result<()> {
    check_chain("issue.legs", legs, start, end)?;
    let sea = legs.iter().any(|l| l.mode == Mode::Sea);
    match profile {
        Profile::DcsaEbl3 if !sea => {
            Err(RuleError::invalid("issue.legs", "a DCSA eBL 3.0 bill has a sea leg; use the no-sea-leg profile"))
        }
        Profile::NoSeaLeg if sea => {
            Err(RuleError::invalid("issue.legs", "a bill under the no-sea-leg profile has no SEA leg"))
        }
        _ => Ok(()),
    }
}

/// The carriers of a route, in leg order, each once.
pub fn carriers(legs: &[Leg]) -> Vec<PartyId> {
    let mut out: Vec<PartyId> = Vec::new();
    for l in legs {
        if !out.contains(&l.carrier) {
            out.push(l.carrier.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(mode: Mode, from: &str, to: &str) -> Leg {
        let conveyance = match mode {
            Mode::Sea => Conveyance { vessel_imo: "9321483".into(), voyage: "511S".into(), ..Default::default() },
            Mode::Rail => Conveyance { train_number: "X8001".into(), ..Default::default() },
            _ => Conveyance { vehicle_id: "B-1".into(), ..Default::default() },
        };
        Leg {
            mode,
            carrier: PartyId::parse("c", "carrier").unwrap(),
            from: Place { locode: from.into(), facility: String::new() },
            to: Place { locode: to.into(), facility: String::new() },
            conveyance,
            planned_departure: None,
            planned_arrival: None,
        }
    }

    #[test]
    fn imo_check_digit() {
        assert!(is_imo("9321483") && is_imo("9074729"));
        assert!(!is_imo("9321484") && !is_imo("932148") && !is_imo("93214a3"));
    }

    #[test]
    fn routes_are_contiguous_from_receipt_to_delivery_and_fit_the_profile() {
        let route = [leg(Mode::Rail, "CNCKG", "CNQZH"), leg(Mode::Sea, "CNQZH", "SGSIN")];
        assert!(check_route(&route, Some("CNCKG"), Some("SGSIN"), Profile::DcsaEbl3).is_ok());
        let field = |r: Result<()>| r.unwrap_err().field().unwrap().to_string();
        assert_eq!(field(check_route(&route, Some("CNCKG"), Some("NLRTM"), Profile::DcsaEbl3)), "issue.legs[1].to");
        assert_eq!(field(check_route(&route, Some("DEDUI"), None, Profile::DcsaEbl3)), "issue.legs[0].from");
        assert_eq!(field(check_route(&route, None, None, Profile::NoSeaLeg)), "issue.legs");
        let gap = [leg(Mode::Rail, "CNCKG", "CNQZH"), leg(Mode::Sea, "CNNNG", "SGSIN")];
        assert_eq!(field(check_route(&gap, None, None, Profile::DcsaEbl3)), "issue.legs[1].from");
        let mut bad_ship = route.clone();
        bad_ship[1].conveyance.vessel_imo = "1234568".into();
        assert_eq!(field(check_route(&bad_ship, None, None, Profile::DcsaEbl3)), "issue.legs[1].conveyance.vessel_imo");
        let rail = [leg(Mode::Rail, "DEDUI", "PLMAL"), leg(Mode::Rail, "PLMAL", "CNCKG")];
        assert!(check_route(&rail, Some("DEDUI"), Some("CNCKG"), Profile::NoSeaLeg).is_ok());
        assert_eq!(field(check_route(&rail, None, None, Profile::DcsaEbl3)), "issue.legs");
    }
}
