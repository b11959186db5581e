//! `transports`: planned dates, carriage modes, places and ports, vessel voyages. Owns the
//! difference between the profiles: DCSA eBL 3.0 requires a sea leg (ports and at least one
//! vessel voyage); [`Profile::NoSeaLeg`] forbids vessel voyages and requires the place of receipt
//! and place of delivery instead of ports.

use super::access::{fail, wrong_type, Obj, Text};
use super::locode;
use super::rules::{BAD_LOCODE, PROFILE_MISMATCH, REQUIRED_FIELD};
use super::Profile;
use crate::error::RuleError;
use serde_json::Value;

/// The modes DCSA allows for `preCarriageBy` and `onCarriageBy`.
pub const MODES: [&str; 5] = ["VESSEL", "RAIL", "TRUCK", "BARGE", "MULTIMODAL"];

/// Where the carriage starts and ends, by UN/LOCODE, as far as the document says.
pub struct Ends {
    /// `placeOfReceipt`, else `portOfLoading`.
    pub start: Option<String>,
    /// `placeOfDelivery`, else `portOfDischarge`.
    pub end: Option<String>,
}

/// Checks `transports` under `profile`; returns where the carriage starts and ends.
pub fn check(root: &Obj, profile: Profile) -> Result<Ends, RuleError> {
    let t = root.obj("transports")?;
    t.date("plannedDepartureDate")?;
    t.date("plannedArrivalDate")?;
    let receipt = t.opt_obj("placeOfReceipt")?;
    let delivery = t.opt_obj("placeOfDelivery")?;
    let loading = t.opt_obj("portOfLoading")?;
    let discharge = t.opt_obj("portOfDischarge")?;
    // DCSA: a carriage mode before (after) the main leg needs the place it starts (ends) at.
    if t.opt_code("preCarriageBy", &MODES)?.is_some() && receipt.is_none() {
        let why = "expected `placeOfReceipt`: pre-carriage by the carrier starts there";
        return Err(fail(t.at("placeOfReceipt"), REQUIRED_FIELD, why));
    }
    if t.opt_code("onCarriageBy", &MODES)?.is_some() && delivery.is_none() {
        let why = "expected `placeOfDelivery`: on-carriage by the carrier ends there";
        return Err(fail(t.at("placeOfDelivery"), REQUIRED_FIELD, why));
    }
    let code =
        |o: &Option<Obj>| o.as_ref().and_then(|o| o.get(locode::KEY)).and_then(|v| v.as_str()).map(str::to_owned);
    let ends = Ends { start: code(&receipt).or(code(&loading)), end: code(&delivery).or(code(&discharge)) };
    match profile {
        Profile::DcsaEbl3 => {
            vessel_voyages(&t)?;
            port(&t, loading, "portOfLoading")?;
            port(&t, discharge, "portOfDischarge")?;
        }
        Profile::NoSeaLeg => {
            if t.get("vesselVoyages").is_some() {
                let why =
                    "expected no vessel voyages under the no-sea-leg profile: a bill with a sea leg uses DcsaEbl3";
                return Err(fail(t.at("vesselVoyages"), PROFILE_MISMATCH, why));
            }
            place(&t, receipt, "placeOfReceipt")?;
            place(&t, delivery, "placeOfDelivery")?;
        }
    }
    Ok(ends)
}

/// At least one vessel voyage, each with a vessel name and the carrier's export voyage number.
fn vessel_voyages(t: &Obj) -> Result<(), RuleError> {
    if t.get("vesselVoyages").is_none() {
        let why = "expected required field `vesselVoyages` (at least one): DCSA eBL 3.0 needs a sea leg; \
                   a bill with no sea leg must be submitted under the NoSeaLeg profile";
        return Err(fail(t.at("vesselVoyages"), REQUIRED_FIELD, why));
    }
    for voyage in t.objs("vesselVoyages", 1)? {
        voyage.str("vesselName", 50, Text::Trimmed)?;
        voyage.str("carrierExportVoyageNumber", 50, Text::Trimmed)?;
    }
    Ok(())
}

/// A port DCSA requires, located by UN/LOCODE or, failing that, by city.
fn port(t: &Obj, port: Option<Obj>, key: &str) -> Result<(), RuleError> {
    let Some(port) = port else {
        return Err(fail(t.at(key), REQUIRED_FIELD, format!("expected required field `{key}`")));
    };
    if port.get(locode::KEY).is_none() && port.get("city").is_none() {
        let why = "expected `UNLocationCode` (or, as a fallback, `city`)";
        return Err(fail(port.at(locode::KEY), REQUIRED_FIELD, why));
    }
    Ok(())
}

/// A place the no-sea-leg profile requires, located by UN/LOCODE.
fn place(t: &Obj, place: Option<Obj>, key: &str) -> Result<(), RuleError> {
    let Some(place) = place else {
        let why =
            format!("expected `{key}`: without a sea leg the bill runs from place of receipt to place of delivery");
        return Err(fail(t.at(key), REQUIRED_FIELD, why));
    };
    match place.req(locode::KEY)? {
        Value::String(code) if locode::is_valid(code) => Ok(()),
        Value::String(code) => {
            let why = format!("expected a UN/LOCODE matching ^[A-Z]{{2}}[A-Z2-9]{{3}}$, found {code:?}");
            Err(fail(place.at(locode::KEY), BAD_LOCODE, why))
        }
        other => Err(wrong_type(&place.at(locode::KEY), "a UN/LOCODE string", other)),
    }
}
