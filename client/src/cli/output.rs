//! What the CLI prints: readable lines by default, one JSON document with `--json`.

use crate::pb;
use ebl_core::sig::PublicKey;
use serde_json::{json, Value};
use std::path::Path;

/// Output mode.
pub struct Out {
    /// JSON instead of text.
    pub json: bool,
}

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

/// A receipt as JSON.
pub fn receipt_json(r: &pb::Receipt) -> Value {
    json!({"action": r.action, "record_hash": h(&r.record_hash), "bill_id": h(&r.bill_id), "position": r.position, "seq": r.seq, "server_time": r.server_time, "duplicate": r.duplicate})
}

/// A bill view as JSON (the document is left out; its checksum is there).
pub fn bill_json(b: &pb::BillView) -> Value {
    json!({
        "bill_id": h(&b.bill_id), "issuer": b.issuer, "reference": b.reference, "amendment": b.amendment,
        "type_code": b.type_code, "kind": b.kind, "profile": b.profile, "status": b.status,
        "possessor": b.possessor, "entitled": b.entitled, "consignee": b.consignee, "endorsee": b.endorsee,
        "blank_endorsed": b.blank_endorsed, "endorsable": b.endorsable, "rejectable_by": b.rejectable_by,
        "surrender": b.surrender, "surrendered_by": b.surrendered_by, "paper_bill_number": b.paper_bill_number,
        "amends": h(&b.amends), "successor": h(&b.successor), "pledgee": b.pledgee, "pledgor": b.pledgor,
        "pledge_mode": b.pledge_mode, "pledge_enforced": b.pledge_enforced,
        "head": h(&b.head), "head_position": b.head_position, "head_seq": b.head_seq,
        "document_checksum": h(&b.document_checksum), "parties": b.parties, "locations": b.locations,
        "containers": b.containers, "pint_exportable": b.pint_exportable,
        "custody": b.custody.as_ref().map(custody_json),
    })
}

/// A custody view as JSON.
pub fn custody_json(c: &pb::CustodyView) -> Value {
    json!({
        "route_version": c.route_version,
        "route": c.route.iter().map(|l| json!({
            "mode": pb::Mode::try_from(l.mode).map(|m| m.as_str_name().trim_start_matches("MODE_").to_string()).unwrap_or_default(),
            "carrier": l.carrier,
            "from": l.from.as_ref().map(|p| p.locode.clone()).unwrap_or_default(),
            "to": l.to.as_ref().map(|p| p.locode.clone()).unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "containers": c.containers.iter().map(|k| json!({
            "container": k.container, "leg": k.leg, "carrier": k.carrier, "stage": k.stage,
            "location": k.location, "seals": k.seals, "exceptions": k.exceptions,
        })).collect::<Vec<_>>(),
        "holds": c.holds.iter().map(|h| json!({"customs": h.customs, "declaration": h.declaration, "reason": h.reason})).collect::<Vec<_>>(),
        "delivered_to": c.delivered_to,
    })
}

/// Custody lines for the text form of a bill.
fn custody_text(c: &pb::CustodyView) -> String {
    let mut s = String::new();
    for (i, l) in c.route.iter().enumerate() {
        let mode = pb::Mode::try_from(l.mode).map(|m| m.as_str_name().trim_start_matches("MODE_")).unwrap_or("?");
        let (from, to) = (l.from.clone().unwrap_or_default().locode, l.to.clone().unwrap_or_default().locode);
        s += &format!("\n  leg {i}      {mode} {from} -> {to} by {}", l.carrier);
    }
    for k in &c.containers {
        s += &format!(
            "\n  container  {} {} on leg {} with {} at {}, seals {}",
            k.container,
            k.stage,
            k.leg,
            k.carrier,
            k.location,
            k.seals.join(" ")
        );
        for e in &k.exceptions {
            s += &format!("\n             exception: {e}");
        }
    }
    for h in &c.holds {
        s += &format!("\n  HOLD       by {} (declaration {}): {}", h.customs, h.declaration, h.reason);
    }
    if !c.delivered_to.is_empty() {
        s += &format!("\n  delivered  to {}", c.delivered_to);
    }
    s
}

impl Out {
    /// JSON with `--json`, else the readable text.
    pub fn emit(&self, v: Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{v}");
        } else {
            println!("{}", text());
        }
    }

    /// A text printed byte for byte (a signed note, a proof): no newline is added.
    pub fn exact(&self, v: Value, text: &str) {
        if self.json {
            println!("{v}");
        } else {
            print!("{text}");
        }
    }

    /// A plain message.
    pub fn line(&self, s: &str) {
        self.emit(json!({ "message": s }), || s.to_string());
    }

    /// A new key pair.
    pub fn keygen(&self, path: &Path, public: &PublicKey) {
        self.emit(json!({"secret_key_file": path, "public_key": public.to_hex()}), || {
            format!("key written to {} (public key {})", path.display(), public.to_hex())
        });
    }

    /// Ledger info.
    pub fn info(&self, i: &pb::LedgerInfo) {
        let v = json!({"origin": i.origin, "operator_public_key": h(&i.operator_public_key), "ledger_public_key": h(&i.ledger_public_key), "log_size": i.log_size, "max_message_bytes": i.max_message_bytes, "max_batch_records": i.max_batch_records, "log_verifier_key": i.log_verifier_key, "checkpoint_size": i.checkpoint_size, "checkpoint_refusal": i.checkpoint_refusal, "checkpoint_refusal_message": i.checkpoint_refusal_message, "write_refusal": i.write_refusal, "write_refusal_message": i.write_refusal_message});
        self.emit(v, || {
            let mut refusal = String::new();
            if !i.write_refusal.is_empty() {
                refusal += &format!("\nREFUSING WRITES: {} {}", i.write_refusal, i.write_refusal_message);
            }
            if !i.checkpoint_refusal.is_empty() {
                refusal += &format!("\nREFUSING TO SIGN CHECKPOINTS: {} {}", i.checkpoint_refusal, i.checkpoint_refusal_message);
            }
            format!(
                "origin {}\noperator key {}\nledger key {}\nlog size {}\nlog verifier key {}\ncheckpoint size {}{refusal}",
                i.origin,
                h(&i.operator_public_key),
                h(&i.ledger_public_key),
                i.log_size,
                i.log_verifier_key,
                i.checkpoint_size
            )
        });
    }

    /// A receipt.
    pub fn receipt(&self, r: &pb::Receipt) {
        self.emit(receipt_json(r), || {
            let dup = if r.duplicate { " (duplicate: already accepted)" } else { "" };
            format!(
                "accepted {} at position {} of its chain, log #{} at {}{dup}\n  record {}",
                r.action,
                r.position,
                r.seq,
                r.server_time,
                h(&r.record_hash)
            )
        });
    }

    /// A bill.
    pub fn bill(&self, b: &pb::BillView) {
        self.emit(bill_json(b), || {
            let mut s = format!("bill {} ({} / {}, issued by {})\n", h(&b.bill_id), b.reference, b.kind, b.issuer);
            s += &format!("  status     {}\n  possessor  {}\n  entitled   {}", b.status, b.possessor, b.entitled);
            if b.blank_endorsed {
                s += " (endorsed in blank)";
            }
            if !b.surrender.is_empty() {
                s += &format!("\n  surrender  {} by {}", b.surrender, b.surrendered_by);
            }
            if !b.paper_bill_number.is_empty() {
                s += &format!("\n  paper bill {}", b.paper_bill_number);
            }
            if !b.successor.is_empty() {
                s += &format!("\n  replaced by amendment {}", h(&b.successor));
            }
            if !b.pledgee.is_empty() {
                let enforced = if b.pledge_enforced { ", enforced" } else { "" };
                s += &format!("\n  pledged    to {} by {} ({}{enforced})", b.pledgee, b.pledgor, b.pledge_mode);
            }
            if !b.rejectable_by.is_empty() {
                s += &format!("\n  open to rejection by {}", b.rejectable_by);
            }
            s += &format!("\n  head       #{} {}", b.head_position, h(&b.head));
            if let Some(c) = &b.custody {
                s += &custody_text(c);
            }
            s
        });
    }

    /// A list of bills.
    pub fn bill_list(&self, l: &pb::BillList) {
        let items: Vec<Value> = l
            .bills
            .iter()
            .map(|b| json!({"bill_id": h(&b.bill_id), "issuer": b.issuer, "reference": b.reference, "amendment": b.amendment, "status": b.status, "possessor": b.possessor, "entitled": b.entitled}))
            .collect();
        self.emit(Value::Array(items), || {
            if l.bills.is_empty() {
                return "no bill you may see".into();
            }
            l.bills
                .iter()
                .map(|b| {
                    format!(
                        "{} {}/{}/{} {}: possessor {}, entitled {}",
                        h(&b.bill_id),
                        b.issuer,
                        b.reference,
                        b.amendment,
                        b.status,
                        b.possessor,
                        b.entitled
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    /// The check at a handoff.
    pub fn handoff(&self, c: &pb::HandoffCheck) {
        let b = c.bill.clone().unwrap_or_default();
        let v = json!({"may_proceed": c.may_proceed, "reasons": c.reasons, "checked_at": c.checked_at, "bill": bill_json(&b)});
        self.emit(v, || {
            let verdict = if c.may_proceed {
                "HANDOFF MAY PROCEED".to_string()
            } else {
                format!("HANDOFF STOPPED: {}", c.reasons.join("; "))
            };
            let pledge = if b.pledgee.is_empty() { String::new() } else { format!(", pledged to {}", b.pledgee) };
            let surrender = if b.status == "SURRENDERED" {
                format!(", surrender pending ({})", b.surrender)
            } else {
                String::new()
            };
            format!(
                "{verdict}\n  title: {} possessed by {}, entitled {}{pledge}{surrender}, status {}",
                b.reference, b.possessor, b.entitled, b.status
            ) + &b.custody.as_ref().map(custody_text).unwrap_or_default()
        });
    }

    /// A verified title.
    pub fn title(&self, t: &pb::TitleView) {
        let b = t.bill.clone().unwrap_or_default();
        let v = json!({"chain_verified": t.chain_verified, "records_checked": t.records_checked, "checked_at": t.checked_at, "bill": bill_json(&b), "statement": t.statement, "checkpoint": t.checkpoint, "statement_refusal": t.statement_refusal});
        self.emit(v, || {
            let signed = if t.statement.is_empty() {
                format!("no signed statement: {}", t.statement_refusal)
            } else {
                format!("signed statement bound to checkpoint of size {}", t.checkpoint.lines().nth(1).unwrap_or("?"))
            };
            format!(
                "TITLE of {} ({}): possessor {}, entitled {}, status {}\n  chain verified: {} ({} records rehashed and replayed at {})\n  {signed}",
                b.reference, h(&b.bill_id), b.possessor, b.entitled, b.status, t.chain_verified, t.records_checked, t.checked_at
            )
        });
    }

    /// Stored records.
    pub fn records(&self, rs: &[pb::StoredRecord]) {
        let items: Vec<Value> = rs.iter().map(record_json).collect();
        self.emit(Value::Array(items.clone()), || {
            items
                .iter()
                .map(|i| {
                    format!(
                        "#{} {} {} by {}{}{} at {}",
                        i["position"],
                        i["action"].as_str().unwrap_or(""),
                        i["record_hash"].as_str().unwrap_or(""),
                        i["actor"].as_str().unwrap_or(""),
                        i["agent"]
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .map(|s| format!(" (signed by its agent {s})"))
                            .unwrap_or_default(),
                        i["recipient"]
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .map(|s| format!(" -> {s}"))
                            .unwrap_or_default(),
                        i["server_time"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }
}

/// A stored record as JSON: receipt plus the decoded header of its payload.
pub fn record_json(r: &pb::StoredRecord) -> Value {
    let mut v = r.receipt.as_ref().map(receipt_json).unwrap_or_default();
    if let Some(rec) = &r.record {
        if let Ok(p) = <pb::RecordPayload as prost::Message>::decode(rec.payload.as_slice()) {
            v["actor"] = json!(p.actor);
            v["agent"] = json!(p.agent);
            v["recipient"] = json!(p.recipient);
            v["claimed_time"] = json!(p.claimed_time);
        }
        v["signers"] = json!(rec.signatures.iter().map(|s| s.party.clone()).collect::<Vec<_>>());
        v["payload_hex"] = json!(h(&rec.payload));
    }
    v
}
