//! One JSON shape per concept, the same in every command's `--json` output (`bill show`, `title`,
//! `bundle`, `verify`): a party, a head, a pledge, a surrender, a stated title. Each field list
//! is a constant here, and docs/operations.md "JSON output" lists the same fields (a test holds
//! both to the output). A party's name, role and codes come from the registry when the command
//! has it (online, or a bundle's registry records); otherwise they are `null` and `[]`, never
//! left out. The readable form of a party ([`party_text`]) is here too, cleaned for a terminal.

use super::directory::Directory;
use super::output::clean;
use ebl_core::statement::StatedTitle;
use serde_json::{json, Value};

/// The fields of a party.
pub const PARTY_FIELDS: &[&str] = &["id", "name", "role", "lei", "codes"];
/// The fields of one of a party's identifying codes.
pub const CODE_FIELDS: &[&str] = &["provider", "code", "list"];
/// The fields of a chain head.
pub const HEAD_FIELDS: &[&str] = &["position", "seq", "hash"];
/// The fields of a pledge.
pub const PLEDGE_FIELDS: &[&str] = &["pledgee", "mode", "enforced"];
/// The fields of a pending surrender.
pub const SURRENDER_FIELDS: &[&str] = &["kind", "by"];
/// The fields of a customs hold as a title statement gives it.
pub const HOLD_FIELDS: &[&str] = &["customs", "declaration", "since_seq"];
/// The fields of a stated title (what a signed title statement says).
pub const TITLE_FIELDS: &[&str] =
    &["bill_id", "document", "status", "possessor", "entitled", "pledge", "surrender", "holds", "head"];

/// A party by id, with what the registry says of it; `null` for an empty id (none).
pub fn party(id: &str, dir: Option<&Directory>) -> Value {
    if id.is_empty() {
        return Value::Null;
    }
    match dir.and_then(|d| d.party(id)) {
        Some(p) => json!({
            "id": id,
            "name": p.name,
            "role": p.role.name(),
            "lei": p.lei(),
            "codes": p.codes.iter().map(|c| json!({
                "provider": c.provider, "code": c.party_code, "list": c.code_list_name,
            })).collect::<Vec<_>>(),
        }),
        None => json!({"id": id, "name": null, "role": null, "lei": null, "codes": []}),
    }
}

/// A chain head: its position in the chain, its log index and its record hash (hex).
pub fn head(position: u64, seq: u64, hash: &str) -> Value {
    json!({"position": position, "seq": seq, "hash": hash})
}

/// A standing pledge (mode `POSSESSION` or `ENDORSEMENT`).
pub fn pledge(pledgee: &str, mode: &str, enforced: bool, dir: Option<&Directory>) -> Value {
    json!({"pledgee": party(pledgee, dir), "mode": mode, "enforced": enforced})
}

/// A pending surrender (kind `DELIVERY`, `SWTP`, `COD` or `SWI`) and who surrendered.
pub fn surrender(kind: &str, by: &str, dir: Option<&Directory>) -> Value {
    json!({"kind": kind, "by": party(by, dir)})
}

/// The title a signed statement gives.
pub fn stated_title(t: &StatedTitle, dir: Option<&Directory>) -> Value {
    json!({
        "bill_id": t.bill.to_string(),
        "document": t.document.to_hex(),
        "status": t.status.name(),
        "possessor": party(t.possessor.as_str(), dir),
        "entitled": party(t.entitled.as_str(), dir),
        "pledge": t.pledge.as_ref().map(|p| pledge(p.pledgee.as_str(), p.mode.name(), p.enforced, dir)),
        "surrender": t.surrender.as_ref().map(|s| surrender(&s.kind, s.by.as_str(), dir)),
        "holds": t.holds.iter().map(|h| json!({
            "customs": party(h.customs.as_str(), dir), "declaration": h.declaration, "since_seq": h.since_seq,
        })).collect::<Vec<_>>(),
        "head": head(t.head.position, t.head.seq, &t.head.hash.to_hex()),
    })
}

/// A party as a bank reads it: `id (Name, LEI code)`, or the id alone when the registry is not
/// at hand or does not know it.
pub fn party_text(id: &str, dir: Option<&Directory>) -> String {
    match dir.and_then(|d| d.party(id)) {
        Some(p) => match p.lei() {
            Some(lei) => format!("{} ({}, LEI {})", clean(id), clean(&p.name), clean(lei)),
            None => format!("{} ({})", clean(id), clean(&p.name)),
        },
        None => clean(id).into_owned(),
    }
}

/// The B/L reference (`transportDocumentReference`) of a transport document, if it has one.
pub fn document_reference(document: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(document).ok()?;
    v.get("transportDocumentReference")?.as_str().map(str::to_string)
}
