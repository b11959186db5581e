//! Route files for `ebl bill issue --route` and `ebl custody reroute`: a JSON array of legs,
//! `[{"mode": "RAIL", "carrier": "cq-rail", "from": {"locode": "CNCKG", "facility": "Tuanjiecun"},
//! "to": {"locode": "CNQZH"}, "conveyance": {"train_number": "X9012"},
//! "planned_departure": "2026-03-04T08:00:00.000Z"}, ...]` (docs/multimodal.md).

use crate::pb;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegFile {
    mode: String,
    carrier: String,
    from: PlaceFile,
    to: PlaceFile,
    #[serde(default)]
    conveyance: ConveyanceFile,
    #[serde(default)]
    planned_departure: String,
    #[serde(default)]
    planned_arrival: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceFile {
    locode: String,
    #[serde(default)]
    facility: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ConveyanceFile {
    vessel_imo: String,
    voyage: String,
    train_number: String,
    wagons: Vec<String>,
    vehicle_id: String,
}

/// Reads a route file into wire legs (the ledger validates them).
pub fn read_legs(path: &Path) -> Result<Vec<pb::Leg>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_legs(&text, &path.display().to_string())
}

/// Parses a route file's text into wire legs; `what` names it in errors.
pub fn parse_legs(text: &str, what: &str) -> Result<Vec<pb::Leg>, Box<dyn std::error::Error>> {
    let legs: Vec<LegFile> = serde_json::from_str(text).map_err(|e| format!("{what}: {e}"))?;
    legs.into_iter()
        .map(|l| {
            let mode = pb::Mode::from_str_name(&format!("MODE_{}", l.mode))
                .filter(|m| *m != pb::Mode::Unspecified)
                .ok_or_else(|| format!("{what}: mode {}: expected RAIL, SEA, INLAND_WATERWAY, ROAD or AIR", l.mode))?;
            let place = |p: PlaceFile| pb::Place { locode: p.locode, facility: p.facility };
            let c = l.conveyance;
            Ok(pb::Leg {
                mode: mode as i32,
                carrier: l.carrier,
                from: Some(place(l.from)),
                to: Some(place(l.to)),
                conveyance: Some(pb::Conveyance {
                    vessel_imo: c.vessel_imo,
                    voyage: c.voyage,
                    train_number: c.train_number,
                    wagons: c.wagons,
                    vehicle_id: c.vehicle_id,
                }),
                planned_departure: l.planned_departure,
                planned_arrival: l.planned_arrival,
            })
        })
        .collect()
}
