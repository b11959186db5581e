//! The goods and the boxes: `utilizedTransportEquipments` (ISO 6346 numbers, seals) and
//! `consignmentItems` (booking, description, HS codes, cargo items stowed in listed equipment).

use super::access::{check_str, fail, whole, wrong_type, Obj, Text};
use super::iso6346;
use super::rules::{BAD_CONTAINER_NUMBER, BAD_VALUE, UNKNOWN_EQUIPMENT};
use crate::error::RuleError;
use serde_json::Value;
use std::collections::BTreeMap;

/// The seal sources DCSA allows.
pub const SEAL_SOURCES: [&str; 4] = ["CAR", "SHI", "VET", "CUS"];

/// Checks `utilizedTransportEquipments` and returns each container number (sorted, deduplicated)
/// with its seal numbers as issued.
pub fn equipments(root: &Obj) -> Result<BTreeMap<String, Vec<String>>, RuleError> {
    let mut containers = BTreeMap::new();
    for ute in root.objs("utilizedTransportEquipments", 1)? {
        let equipment = ute.obj("equipment")?;
        let number = equipment.str("equipmentReference", usize::MAX, Text::Free)?;
        iso6346::validate(number).map_err(|why| fail(equipment.at("equipmentReference"), BAD_CONTAINER_NUMBER, why))?;
        equipment.opt_str("ISOEquipmentCode", 4, Text::Trimmed)?;
        ute.bool("isShipperOwned")?;
        let mut seals = Vec::new();
        for seal in ute.objs("seals", 1)? {
            seals.push(seal.str("number", 15, Text::Free)?.to_owned());
            seal.opt_code("source", &SEAL_SOURCES)?;
        }
        containers.entry(number.to_owned()).or_insert_with(Vec::new).extend(seals);
    }
    Ok(containers)
}

/// Checks `consignmentItems`; every cargo item must sit in one of `containers`.
pub fn consignments(root: &Obj, containers: &BTreeMap<String, Vec<String>>) -> Result<(), RuleError> {
    for item in root.objs("consignmentItems", 1)? {
        item.str("carrierBookingReference", 35, Text::Trimmed)?;
        for (line, path) in item.list("descriptionOfGoods", 1)? {
            check_str(line, &path, 35, Text::Trimmed)?;
        }
        for (code, path) in item.list("HSCodes", 1)? {
            let code = check_str(code, &path, 10, Text::Trimmed)?;
            if code.len() < 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                let why = format!("expected an HS code of 6 to 10 digits, found {code:?}");
                return Err(fail(path, BAD_VALUE, why));
            }
        }
        for cargo in item.objs("cargoItems", 1)? {
            cargo_item(&cargo, containers)?;
        }
    }
    Ok(())
}

/// One cargo item: where it is stowed, what it weighs, how it is packed.
fn cargo_item(cargo: &Obj, containers: &BTreeMap<String, Vec<String>>) -> Result<(), RuleError> {
    let stowed_in = cargo.str("equipmentReference", 11, Text::Trimmed)?;
    if !containers.contains_key(stowed_in) {
        let why =
            format!("expected one of the utilizedTransportEquipments ({}), found {stowed_in:?}", join(containers));
        return Err(fail(cargo.at("equipmentReference"), UNKNOWN_EQUIPMENT, why));
    }
    let weight = cargo.obj("cargoGrossWeight")?;
    let value = weight.req("value")?;
    match value.as_f64() {
        Some(v) if v > 0.0 => {}
        Some(_) => return Err(fail(weight.at("value"), BAD_VALUE, format!("expected a weight > 0, found {value}"))),
        None => return Err(wrong_type(&weight.at("value"), "a number", value)),
    }
    weight.code("unit", &["KGM", "LBR"])?;
    let packaging = cargo.obj("outerPackaging")?;
    match packaging.req("numberOfPackages")? {
        Value::Number(n) if whole(n).is_some_and(|n| (1..=99_999_999).contains(&n)) => {}
        Value::Number(n) => {
            let why = format!("expected a whole number from 1 to 99999999, found {n}");
            return Err(fail(packaging.at("numberOfPackages"), BAD_VALUE, why));
        }
        other => return Err(wrong_type(&packaging.at("numberOfPackages"), "a whole number", other)),
    }
    packaging.str("description", 100, Text::Free)?;
    Ok(())
}

/// `a, b, c` for messages.
fn join(set: &BTreeMap<String, Vec<String>>) -> String {
    set.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}
