//! Custody records as people and scripts read them: each record's action decoded (containers,
//! leg and its places, seals and exceptions, hold declaration and reason, conveyance, new legs)
//! with who signed it and for whom. One JSON shape per event, the same in `ebl custody history`
//! and `ebl container`; its text line is made from that JSON, cleaned for a terminal. Knows
//! nothing of the ledger's rules.

use super::output::{record_json, shown};
use crate::pb::{self, record_payload::Action};
use serde_json::{json, Value};

/// A custody record as JSON: the record's receipt, signers and header (as [`record_json`]), and
/// its action decoded. Keys an action does not use are `null`; `leg_from` and `leg_to` are the
/// places of `leg` on `route` (the route in force: legs under way or done never change).
pub fn event_json(r: &pb::StoredRecord, route: &[pb::Leg]) -> Value {
    let mut v = record_json(r);
    for key in ["leg", "leg_from", "leg_to", "place", "containers", "seals", "exceptions", "conveyance"] {
        v[key] = Value::Null;
    }
    for key in ["declaration", "reason", "from_leg", "legs"] {
        v[key] = Value::Null;
    }
    let action = r.record.as_ref().and_then(|rec| {
        <pb::RecordPayload as prost::Message>::decode(rec.payload.as_slice()).ok().and_then(|p| p.action)
    });
    let set_leg = |v: &mut Value, leg: u32| {
        v["leg"] = json!(leg);
        if let Some(l) = route.get(leg as usize) {
            v["leg_from"] = json!(locode(&l.from));
            v["leg_to"] = json!(locode(&l.to));
        }
    };
    match action {
        Some(Action::Depart(d)) => {
            set_leg(&mut v, d.leg);
            v["containers"] = json!(d.containers);
            // With none named, the leg's planned conveyance carries them (as the rules record it).
            let planned = route.get(d.leg as usize).and_then(|l| l.conveyance.as_ref());
            v["conveyance"] = json!(d.conveyance.as_ref().or(planned).map(conveyance));
        }
        Some(Action::Arrive(a)) => {
            set_leg(&mut v, a.leg);
            v["containers"] = json!(a.containers);
        }
        Some(Action::Handoff(h)) => {
            set_leg(&mut v, h.leg);
            v["place"] = json!(h.place);
            v["containers"] = json!(h.containers);
            v["seals"] = json!(h
                .seals
                .iter()
                .map(|s| json!({"container": s.container, "seal": s.seal, "new_seal": none_if_empty(&s.new_seal), "reason": none_if_empty(&s.reason)}))
                .collect::<Vec<_>>());
            v["exceptions"] = json!(h.exceptions);
        }
        Some(Action::Deliver(d)) => {
            if let Some(last) = route.len().checked_sub(1) {
                set_leg(&mut v, last as u32);
            }
            v["containers"] = json!(d.containers);
        }
        Some(Action::CustomsHold(h)) => (v["declaration"], v["reason"]) = (json!(h.declaration), json!(h.reason)),
        Some(Action::CustomsRelease(h)) => (v["declaration"], v["reason"]) = (json!(h.declaration), json!(h.reason)),
        Some(Action::Reroute(r)) => {
            v["from_leg"] = json!(r.from_leg);
            v["legs"] = json!(r.legs.iter().map(leg_json).collect::<Vec<_>>());
        }
        _ => {}
    }
    v
}

/// Whether an event concerns container `number`: it names it, or it stands for all the bill's
/// goods (a customs hold or release, a re-routing).
pub fn touches(event: &Value, number: &str) -> bool {
    match event["containers"].as_array() {
        Some(list) => list.iter().any(|c| c == number),
        None => !event["declaration"].is_null() || !event["legs"].is_null(),
    }
}

/// One readable line (and its exceptions on lines of their own) for an event of [`event_json`].
pub fn event_text(e: &Value) -> String {
    let s = |k: &str| shown(e[k].as_str().unwrap_or_default());
    let list = |k: &str| {
        e[k].as_array().map(|a| a.iter().map(|x| shown(x.as_str().unwrap_or_default())).collect::<Vec<_>>().join(", "))
    };
    let leg = || match (e["leg"].as_u64(), e["leg_from"].as_str()) {
        (Some(n), Some(_)) => format!("leg {n} ({} -> {})", s("leg_from"), s("leg_to")),
        (Some(n), None) => format!("leg {n}"),
        _ => String::new(),
    };
    let what = match e["action"].as_str().unwrap_or_default() {
        "DEPART" => {
            let by = e["conveyance"].as_str().map(|c| format!(" on {}", shown(c))).unwrap_or_default();
            format!("departs {}{by}: {}", leg(), list("containers").unwrap_or_default())
        }
        "ARRIVE" => {
            format!("arrives at {} at the end of {}: {}", s("leg_to"), leg(), list("containers").unwrap_or_default())
        }
        "HANDOFF" => {
            let seals: Vec<String> =
                e["seals"].as_array().map(|a| a.iter().map(seal_text).collect()).unwrap_or_default();
            format!(
                "handed over at {} at the end of {} to {}: {}; seals {}",
                s("place"),
                leg(),
                s("recipient"),
                list("containers").unwrap_or_default(),
                if seals.is_empty() { "none".into() } else { seals.join(", ") }
            )
        }
        "DELIVER" => {
            format!("delivered at {} to {}: {}", s("leg_to"), s("recipient"), list("containers").unwrap_or_default())
        }
        "CUSTOMS_HOLD" => format!("HOLD, declaration {}: {}", s("declaration"), s("reason")),
        "CUSTOMS_RELEASE" => format!("hold released, declaration {}: {}", s("declaration"), s("reason")),
        "REROUTE" => {
            let legs: Vec<String> = e["legs"].as_array().map(|a| a.iter().map(leg_text).collect()).unwrap_or_default();
            format!("re-routed from leg {}: {}", e["from_leg"], legs.join("; "))
        }
        other => shown(other),
    };
    let agent = e["agent"].as_str().filter(|a| !a.is_empty()).map(|a| format!(" (signed by its agent {})", shown(a)));
    let signers = list("signers").unwrap_or_default();
    let mut line = format!(
        "#{} {} {what}\n    by {}{}, signed by {signers}, at {} (log #{})",
        e["position"],
        s("action"),
        s("actor"),
        agent.unwrap_or_default(),
        s("server_time"),
        e["seq"]
    );
    for x in e["exceptions"].as_array().into_iter().flatten() {
        line += &format!("\n    exception: {}", shown(x.as_str().unwrap_or_default()));
    }
    line
}

fn seal_text(k: &Value) -> String {
    let s = |f: &str| shown(k[f].as_str().unwrap_or_default());
    match k["new_seal"].as_str() {
        Some(_) => format!("{} {} replaced by {} ({})", s("container"), s("seal"), s("new_seal"), s("reason")),
        None => format!("{} {} intact", s("container"), s("seal")),
    }
}

/// A leg as JSON (the shape of `route` in a custody view).
pub fn leg_json(l: &pb::Leg) -> Value {
    json!({"mode": mode(l.mode), "carrier": l.carrier, "from": locode(&l.from), "to": locode(&l.to), "conveyance": l.conveyance.as_ref().map(conveyance)})
}

fn leg_text(l: &Value) -> String {
    let s = |f: &str| shown(l[f].as_str().unwrap_or_default());
    format!("{} {} -> {} by {}", s("mode"), s("from"), s("to"), s("carrier"))
}

fn mode(m: i32) -> String {
    pb::Mode::try_from(m).map(|m| m.as_str_name().trim_start_matches("MODE_").to_string()).unwrap_or_default()
}

fn locode(p: &Option<pb::Place>) -> String {
    p.as_ref().map(|p| p.locode.clone()).unwrap_or_default()
}

/// What carries the goods, as people say it: "vessel IMO 9321483 voyage 511S", "train X9012".
pub fn conveyance(c: &pb::Conveyance) -> String {
    let mut parts = Vec::new();
    if !c.vessel_imo.is_empty() {
        parts.push(format!("vessel IMO {}", c.vessel_imo));
    }
    if !c.voyage.is_empty() {
        parts.push(format!("voyage {}", c.voyage));
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
    parts.join(" ")
}

fn none_if_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}
