//! What a bank reads online: a bill (`ebl bill show`), its verified title (`ebl title`) and the
//! registry (`ebl registry`), each party named as the registry names it (name, LEI) beside its
//! id, and the B/L reference beside the bill id. JSON in the shapes of [`super::shapes`].

use super::directory::{At, Directory};
use super::output::{bill_json, custody_text, h, record_json, shown, Out};
use super::shapes::{self, party_text};
use crate::pb;
use ebl_core::statement::TitleStatement;
use serde_json::{json, Value};

fn at_json(a: &At) -> Value {
    json!({"seq": a.seq, "time": a.time})
}

fn at_text(a: &At) -> String {
    format!("log #{} ({})", a.seq, shown(&a.time))
}

impl Out {
    /// A bill, its parties named from `dir`.
    pub fn bill(&self, b: &pb::BillView, dir: &Directory) {
        let pt = |id: &str| party_text(id, Some(dir));
        self.emit(bill_json(b, Some(dir)), || {
            let mut s = format!("bill {}\n", h(&b.bill_id));
            s += &format!(
                "  B/L        {} ({}, amendment {}), issued by {}\n",
                shown(&b.reference),
                shown(&b.kind),
                b.amendment,
                pt(&b.issuer)
            );
            s += &format!(
                "  status     {}\n  possessor  {}\n  entitled   {}",
                shown(&b.status),
                pt(&b.possessor),
                pt(&b.entitled)
            );
            if b.blank_endorsed {
                s += " (endorsed in blank)";
            }
            if !b.surrender.is_empty() {
                s += &format!("\n  surrender  {} by {}", shown(&b.surrender), pt(&b.surrendered_by));
            }
            if !b.paper_bill_number.is_empty() {
                s += &format!("\n  paper bill {}", shown(&b.paper_bill_number));
            }
            if !b.successor.is_empty() {
                s += &format!("\n  replaced by amendment {}", h(&b.successor));
            }
            if !b.pledgee.is_empty() {
                let enforced = if b.pledge_enforced { ", enforced" } else { "" };
                s += &format!(
                    "\n  pledged    to {} by {} ({}{enforced})",
                    pt(&b.pledgee),
                    pt(&b.pledgor),
                    shown(&b.pledge_mode)
                );
            }
            if !b.rejectable_by.is_empty() {
                s += &format!("\n  open to rejection by {}", pt(&b.rejectable_by));
            }
            s += &format!("\n  head       #{} {}", b.head_position, h(&b.head));
            if let Some(c) = &b.custody {
                s += &custody_text(c);
            }
            s
        });
    }

    /// A verified title, with the title its signed statement gives (opened by the caller).
    pub fn title(&self, t: &pb::TitleView, stated: Option<&TitleStatement>, dir: &Directory) {
        let b = t.bill.clone().unwrap_or_default();
        let pt = |id: &str| party_text(id, Some(dir));
        let v = json!({
            "chain_verified": t.chain_verified, "records_checked": t.records_checked, "checked_at": t.checked_at,
            "bill": bill_json(&b, Some(dir)),
            "title": stated.map(|st| shapes::stated_title(&st.title, Some(dir))),
            "statement_time": stated.map(|st| st.time.to_rfc3339()),
            "statement": t.statement, "checkpoint": t.checkpoint, "statement_refusal": t.statement_refusal,
        });
        self.emit(v, || {
            let signed = match stated {
                None => format!("no signed statement: {}", shown(&t.statement_refusal)),
                Some(st) => format!(
                    "signed statement bound to checkpoint of size {}, made {}",
                    st.checkpoint_size,
                    st.time.to_rfc3339()
                ),
            };
            let mut s = format!(
                "TITLE of B/L {} (bill {}), issued by {}\n  status     {}\n  possessor  {}\n  entitled   {}",
                shown(&b.reference),
                h(&b.bill_id),
                pt(&b.issuer),
                shown(&b.status),
                pt(&b.possessor),
                pt(&b.entitled)
            );
            if !b.pledgee.is_empty() {
                let enforced = if b.pledge_enforced { "enforced" } else { "not enforced" };
                s += &format!("\n  pledged    to {} ({}, {enforced})", pt(&b.pledgee), shown(&b.pledge_mode));
            }
            if b.status == "SURRENDERED" {
                s += &format!("\n  surrender  {} by {}, pending", shown(&b.surrender), pt(&b.surrendered_by));
            }
            s += &format!(
                "\n  chain verified: {} ({} records rehashed and replayed at {})\n  {signed}",
                t.chain_verified,
                t.records_checked,
                shown(&t.checked_at)
            );
            s
        });
    }

    /// The registry: parties, keys with their validity, delegations, and the records.
    pub fn registry(&self, records: &[pb::StoredRecord], dir: &Directory) {
        let parties: Vec<Value> = dir
            .parties
            .iter()
            .map(|(id, p)| {
                let mut v = shapes::party(id.as_str(), Some(dir));
                v["jurisdiction"] = json!(p.jurisdiction);
                v["registered"] = at_json(&p.registered);
                v
            })
            .collect();
        let keys: Vec<Value> = dir
            .keys
            .iter()
            .map(|k| {
                json!({
                    "party": k.party.as_str(), "public_key": k.key, "from": at_json(&k.added),
                    "to": k.ended.as_ref().map(|(a, _, _)| at_json(a)),
                    "ended_by": k.ended.as_ref().map(|(_, how, _)| how),
                    "reason": k.ended.as_ref().map(|(_, _, why)| why),
                })
            })
            .collect();
        let delegations: Vec<Value> = dir
            .delegations
            .iter()
            .map(|d| {
                json!({
                    "principal": d.principal.as_str(), "agent": d.agent.as_str(), "actions": d.actions,
                    "reference": d.reference, "from": at_json(&d.added),
                    "to": d.ended.as_ref().map(|(a, _)| at_json(a)), "reason": d.ended.as_ref().map(|(_, why)| why),
                })
            })
            .collect();
        let records: Vec<Value> = records.iter().map(record_json).collect();
        let v = json!({"parties": parties, "keys": keys, "delegations": delegations, "records": records});
        self.emit(v, || {
            let mut s = String::from("parties");
            for (id, p) in &dir.parties {
                let codes: Vec<String> = p
                    .codes
                    .iter()
                    .map(|c| {
                        let list = c.code_list_name.as_deref().map(|l| format!(":{l}")).unwrap_or_default();
                        shown(&format!("{}:{}{list}", c.provider, c.party_code))
                    })
                    .collect();
                s += &format!("\n  {:<14} {:<8} {}", shown(id.as_str()), p.role.name(), shown(&p.name));
                if let Some(lei) = p.lei() {
                    s += &format!(", LEI {}", shown(lei));
                }
                if !codes.is_empty() {
                    s += &format!("\n  {:<14} codes {}", "", codes.join(" "));
                }
                if !p.jurisdiction.is_empty() {
                    s += &format!("\n  {:<14} jurisdiction {}", "", shown(&p.jurisdiction.join(" ")));
                }
                s += &format!("\n  {:<14} registered at {}", "", at_text(&p.registered));
            }
            s += "\nkeys";
            for k in &dir.keys {
                let until = match &k.ended {
                    None => "in force".to_string(),
                    Some((a, "ROTATE_KEY", _)) => format!("until {}: rotated out", at_text(a)),
                    Some((a, how, why)) => format!("until {}: revoked ({how}: {})", at_text(a), shown(why)),
                };
                s += &format!(
                    "\n  {:<14} {} valid after {}, {until}",
                    shown(k.party.as_str()),
                    k.key,
                    at_text(&k.added)
                );
            }
            s += "\ndelegations";
            if dir.delegations.is_empty() {
                s += "\n  none";
            }
            for d in &dir.delegations {
                let until = match &d.ended {
                    None => "in force".to_string(),
                    Some((a, why)) => format!("until {}: revoked ({})", at_text(a), shown(why)),
                };
                s += &format!(
                    "\n  {} -> {} may sign {} ({}), after {}, {until}",
                    shown(d.principal.as_str()),
                    shown(d.agent.as_str()),
                    shown(&d.actions.join(",")),
                    shown(&d.reference),
                    at_text(&d.added)
                );
            }
            s
        });
    }
}
