//! `ebl container NUMBER`: one container across bills and legs, as customs read it. The bills
//! come from FindBills, which lists only those the reader may see (before any page limit, and
//! uncounted otherwise); each is then read with the reader's own signed reads. Nothing is
//! fetched and then dropped for being hidden, so what is printed, and how much work is done,
//! says nothing of bills the reader may not see.

use super::custody::container_number;
use super::events::{event_json, event_text, touches};
use super::output::{shown, Out};
use super::{As, CliResult};
use crate::client::{Client, Servers};
use crate::pb;
use clap::Args;
use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use serde_json::{json, Value};

/// `ebl container` arguments.
#[derive(Args, Debug)]
pub struct ContainerArgs {
    /// The container number (ISO 6346, e.g. CQLU4518208).
    number: String,
    /// Reader.
    #[command(flatten)]
    reader: As,
}

/// One bill naming the container, with where the container is on it now.
fn bill_json(s: &pb::BillSummary, v: &pb::BillView, number: &str) -> Value {
    let here = v.custody.as_ref().and_then(|c| c.containers.iter().find(|k| k.container == number));
    json!({
        "bill_id": hex::encode(&s.bill_id), "issuer": s.issuer, "reference": s.reference, "amendment": s.amendment,
        "status": s.status, "possessor": s.possessor, "entitled": s.entitled,
        "custody": here.map(|k| json!({
            "leg": k.leg, "carrier": k.carrier, "stage": k.stage, "location": k.location,
            "seals": k.seals, "exceptions": k.exceptions,
        })),
        "holds": v.custody.as_ref().map(|c| c.holds.iter().map(|h| json!({"customs": h.customs, "declaration": h.declaration, "reason": h.reason})).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

fn bill_text(b: &Value) -> String {
    let s = |v: &Value| shown(v.as_str().unwrap_or_default());
    let mut line = format!(
        "bill {}/{}/{} {}: possessor {}, entitled {}",
        s(&b["issuer"]),
        s(&b["reference"]),
        b["amendment"],
        s(&b["status"]),
        s(&b["possessor"]),
        s(&b["entitled"])
    );
    let k = &b["custody"];
    if k.is_null() {
        line += "\n    no custody tracked (issued without a route)";
    } else {
        let seals: Vec<String> = k["seals"].as_array().into_iter().flatten().map(s).collect();
        line += &format!(
            "\n    now {} on leg {} with {} at {}, seals {}",
            s(&k["stage"]),
            k["leg"],
            s(&k["carrier"]),
            s(&k["location"]),
            seals.join(" ")
        );
        for e in k["exceptions"].as_array().into_iter().flatten() {
            line += &format!("\n    exception: {}", s(e));
        }
    }
    for h in b["holds"].as_array().into_iter().flatten() {
        line +=
            &format!("\n    HOLD by {} (declaration {}): {}", s(&h["customs"]), s(&h["declaration"]), s(&h["reason"]));
    }
    line
}

/// Runs `ebl container`.
pub async fn run(args: ContainerArgs, server: &Servers, out: &Out) -> CliResult {
    let number = args.number;
    container_number("CONTAINER", &number)?;
    let reader = args.reader.identity()?;
    let mut c = Client::connect_to(server).await?;
    let query = pb::FindBillsRequest { container: number.clone(), ..Default::default() };
    let mut bills = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    for summary in c.find_all_bills(&reader, query).await? {
        let hash = Hash32::from_slice(&summary.bill_id).ok_or("the ledger listed a bill id that is not 32 bytes")?;
        let id = BillId(hash);
        let view = c.bill(&reader, id).await?;
        let route = view.custody.as_ref().map(|v| v.route.clone()).unwrap_or_default();
        for r in c.custody_history(&reader, id).await? {
            let mut e = event_json(&r, &route);
            if touches(&e, &number) {
                e["reference"] = json!(summary.reference);
                e["issuer"] = json!(summary.issuer);
                e["amendment"] = json!(summary.amendment);
                events.push(e);
            }
        }
        bills.push(bill_json(&summary, &view, &number));
    }
    // The log's order: the custody of a void bill goes on on its amendment, in a chain of its own.
    events.sort_by_key(|e| e["seq"].as_u64().unwrap_or_default());
    let v = json!({"container": number, "bills": bills, "events": events});
    out.emit(v, || {
        if bills.is_empty() {
            return format!("container {}: no bill you may see names it", shown(&number));
        }
        let mut text = format!("container {}", shown(&number));
        for b in &bills {
            text += &format!("\n  {}", bill_text(b));
        }
        text += "\nevents, in log order:";
        if events.is_empty() {
            text += "\n  none yet";
        }
        for e in &events {
            let reference = shown(e["reference"].as_str().unwrap_or_default());
            text += &format!("\n  {reference} {}", event_text(e).replace('\n', "\n  "));
        }
        text
    });
    Ok(())
}
