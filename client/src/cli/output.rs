//! What the CLI prints: readable lines by default, one JSON document with `--json`. Every write
//! to standard output goes through [`Out`], which keeps the first failure (a reader that went
//! away, a full disk) for [`Out::check`] instead of panicking as `println!` does. Text that comes
//! from documents and records passes [`clean`] in the readable form; JSON keeps exact values.

use super::directory::Directory;
use super::shapes;
use crate::pb;
use ebl_core::sig::PublicKey;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Write;
use std::path::Path;

/// Output mode, and the first failure to write.
pub struct Out {
    /// JSON instead of text.
    pub json: bool,
    /// Once a write failed, nothing more is written: a `RefCell` as output is written from one
    /// task, through `&self` (the commands share one `Out`).
    failed: RefCell<Option<std::io::Error>>,
}

/// `s` as it may be shown on a terminal: terminal escapes (CSI `ESC [ ... m`, OSC `ESC ] ... BEL`
/// and the other string controls, two-character escapes, their 8-bit C1 forms such as U+009B) are
/// removed with their parameters; tab, newline, carriage return, vertical tab and form feed become
/// one space each (a field stays on its line, and words stay apart); every other control
/// character (C0, DEL, C1) and the bidirectional overrides, embeddings and isolates
/// (U+202A-U+202E, U+2066-U+2069), which can make text read other than it is, are removed.
/// Everything else, e.g. 重庆 or Zürich, is kept.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    skip_csi(&mut chars);
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    skip_string(&mut chars);
                }
                // ESC, intermediates (0x20-0x2F), one final character (0x30-0x7E).
                _ => {
                    while chars.next_if(|c| ('\u{20}'..='\u{2f}').contains(c)).is_some() {}
                    chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
                }
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Skips a control sequence's parameters and intermediates (0x20-0x3F) and its final character.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| ('\u{20}'..='\u{3f}').contains(c)).is_some() {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// Skips a control string (OSC, DCS, SOS, PM, APC) up to and including its terminator: BEL,
/// `ESC \` or U+009C; to the end if there is none.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => return,
            '\u{1b}' if chars.next_if_eq(&'\\').is_some() => return,
            _ => {}
        }
    }
}

/// [`clean`] into an owned string, for `format!` arguments.
pub fn shown(s: &str) -> String {
    clean(s).into_owned()
}

/// Lowercase hex.
pub(super) fn h(b: &[u8]) -> String {
    hex::encode(b)
}

/// A receipt as JSON.
pub fn receipt_json(r: &pb::Receipt) -> Value {
    json!({"action": r.action, "record_hash": h(&r.record_hash), "bill_id": h(&r.bill_id), "position": r.position, "seq": r.seq, "server_time": r.server_time, "duplicate": r.duplicate})
}

/// A bill view as JSON (the document is left out; its checksum is there), its parties in the
/// shape of [`shapes::party`] with what `dir` (the registry) says of them.
pub fn bill_json(b: &pb::BillView, dir: Option<&Directory>) -> Value {
    let p = |id: &str| shapes::party(id, dir);
    let pending = b.status == "SURRENDERED" && !b.surrender.is_empty();
    json!({
        "bill_id": h(&b.bill_id), "issuer": p(&b.issuer), "reference": b.reference, "amendment": b.amendment,
        "type_code": b.type_code, "kind": b.kind, "profile": b.profile, "status": b.status,
        "possessor": p(&b.possessor), "entitled": p(&b.entitled), "consignee": p(&b.consignee), "endorsee": p(&b.endorsee),
        "blank_endorsed": b.blank_endorsed, "endorsable": b.endorsable, "rejectable_by": p(&b.rejectable_by),
        "surrender": pending.then(|| shapes::surrender(&b.surrender, &b.surrendered_by, dir)),
        "paper_bill_number": b.paper_bill_number,
        "amends": h(&b.amends), "successor": h(&b.successor),
        "pledge": (!b.pledgee.is_empty()).then(|| shapes::pledge(&b.pledgee, &b.pledge_mode, b.pledge_enforced, dir)),
        "pledgor": p(&b.pledgor),
        "head": shapes::head(b.head_position, b.head_seq, &h(&b.head)),
        "document_checksum": h(&b.document_checksum),
        "parties": b.parties.iter().map(|id| p(id)).collect::<Vec<_>>(), "locations": b.locations,
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
pub(super) fn custody_text(v: &pb::CustodyView) -> String {
    let mut s = String::new();
    for (i, l) in v.route.iter().enumerate() {
        let mode = pb::Mode::try_from(l.mode).map(|m| m.as_str_name().trim_start_matches("MODE_")).unwrap_or("?");
        let (from, to) = (l.from.clone().unwrap_or_default().locode, l.to.clone().unwrap_or_default().locode);
        s += &format!("\n  leg {i}      {mode} {} -> {} by {}", shown(&from), shown(&to), shown(&l.carrier));
    }
    for k in &v.containers {
        s += &format!(
            "\n  container  {} {} on leg {} with {} at {}, seals {}",
            shown(&k.container),
            shown(&k.stage),
            k.leg,
            shown(&k.carrier),
            shown(&k.location),
            shown(&k.seals.join(" "))
        );
        for e in &k.exceptions {
            s += &format!("\n             exception: {}", shown(e));
        }
    }
    for h in &v.holds {
        s += &format!(
            "\n  HOLD       by {} (declaration {}): {}",
            shown(&h.customs),
            shown(&h.declaration),
            shown(&h.reason)
        );
    }
    if !v.delivered_to.is_empty() {
        s += &format!("\n  delivered  to {}", shown(&v.delivered_to));
    }
    s
}

impl Out {
    /// Readable text, or JSON with `json`.
    pub fn new(json: bool) -> Self {
        Out { json, failed: RefCell::new(None) }
    }

    /// The first write that failed, if one did (taken: asked again, `Ok`).
    pub fn check(&self) -> std::io::Result<()> {
        self.failed.borrow_mut().take().map_or(Ok(()), Err)
    }

    /// Writes `s` to standard output and flushes it; after a failure, nothing.
    fn write(&self, s: &str) {
        let mut failed = self.failed.borrow_mut();
        if failed.is_none() {
            let mut stdout = std::io::stdout().lock();
            *failed = stdout.write_all(s.as_bytes()).and_then(|()| stdout.flush()).err();
        }
    }

    /// JSON with `--json`, else the readable text.
    pub fn emit(&self, v: Value, text: impl FnOnce() -> String) {
        if self.json {
            self.write(&format!("{v}\n"));
        } else {
            self.write(&format!("{}\n", text()));
        }
    }

    /// A text printed byte for byte (a signed note, a proof): no newline is added, and nothing
    /// is cleaned (the formats allow no control characters; tools check the bytes).
    pub fn exact(&self, v: Value, text: &str) {
        if self.json {
            self.write(&format!("{v}\n"));
        } else {
            self.write(text);
        }
    }

    /// A plain message.
    pub fn line(&self, s: &str) {
        self.emit(json!({ "message": s }), || shown(s));
    }

    /// A new key pair.
    pub fn keygen(&self, path: &Path, pub_path: &Path, public: &PublicKey, encrypted: bool) {
        let v = json!({"secret_key_file": path, "public_key_file": pub_path, "public_key": public.to_hex(), "encrypted": encrypted});
        self.emit(v, || {
            let enc = if encrypted { "encrypted " } else { "" };
            format!(
                "{enc}secret key written to {}, public key {} to {}",
                path.display(),
                public.to_hex(),
                pub_path.display()
            )
        });
    }

    /// Ledger info.
    pub fn info(&self, i: &pb::LedgerInfo) {
        let v = json!({"origin": i.origin, "operator_public_key": h(&i.operator_public_key), "ledger_public_key": h(&i.ledger_public_key), "log_size": i.log_size, "max_message_bytes": i.max_message_bytes, "max_batch_records": i.max_batch_records, "log_verifier_key": i.log_verifier_key, "checkpoint_size": i.checkpoint_size, "checkpoint_refusal": i.checkpoint_refusal, "checkpoint_refusal_message": i.checkpoint_refusal_message, "write_refusal": i.write_refusal, "write_refusal_message": i.write_refusal_message});
        self.emit(v, || {
            let mut refusal = String::new();
            if !i.write_refusal.is_empty() {
                refusal += &format!("\nREFUSING WRITES: {} {}", shown(&i.write_refusal), shown(&i.write_refusal_message));
            }
            if !i.checkpoint_refusal.is_empty() {
                refusal += &format!(
                    "\nREFUSING TO SIGN CHECKPOINTS: {} {}",
                    shown(&i.checkpoint_refusal),
                    shown(&i.checkpoint_refusal_message)
                );
            }
            format!(
                "origin {}\noperator key {}\nledger key {}\nlog size {}\nlog verifier key {}\ncheckpoint size {}{refusal}",
                shown(&i.origin),
                h(&i.operator_public_key),
                h(&i.ledger_public_key),
                i.log_size,
                shown(&i.log_verifier_key),
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
                shown(&r.action),
                r.position,
                r.seq,
                shown(&r.server_time),
                h(&r.record_hash)
            )
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
                        shown(&b.issuer),
                        shown(&b.reference),
                        b.amendment,
                        shown(&b.status),
                        shown(&b.possessor),
                        shown(&b.entitled)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    /// The check at a handoff or delivery.
    pub fn handoff(&self, check: &pb::HandoffCheck) {
        let b = check.bill.clone().unwrap_or_default();
        let leg = (!check.place.is_empty()).then_some(check.leg);
        let v = json!({"may_proceed": check.may_proceed, "reasons": check.reasons, "checked_at": check.checked_at, "leg": leg, "place": check.place, "delivery": check.delivery, "bill": bill_json(&b, None)});
        self.emit(v, || {
            let what = if check.delivery { "DELIVERY" } else { "HANDOFF" };
            let at = match leg {
                Some(n) if check.delivery => format!(" at {} (end of leg {n}, the last)", shown(&check.place)),
                Some(n) => format!(" at {} (end of leg {n})", shown(&check.place)),
                None => String::new(),
            };
            let verdict = if check.may_proceed {
                format!("{what} MAY PROCEED{at}")
            } else {
                format!("{what} STOPPED{at}: {}", clean(&check.reasons.join("; ")))
            };
            let pledge =
                if b.pledgee.is_empty() { String::new() } else { format!(", pledged to {}", shown(&b.pledgee)) };
            let surrender = if b.status == "SURRENDERED" {
                format!(", surrender pending ({})", shown(&b.surrender))
            } else {
                String::new()
            };
            format!(
                "{verdict}\n  title: {} possessed by {}, entitled {}{pledge}{surrender}, status {}",
                shown(&b.reference),
                shown(&b.possessor),
                shown(&b.entitled),
                shown(&b.status)
            ) + &b.custody.as_ref().map(custody_text).unwrap_or_default()
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
                        shown(i["action"].as_str().unwrap_or("")),
                        i["record_hash"].as_str().unwrap_or(""),
                        shown(i["actor"].as_str().unwrap_or("")),
                        i["agent"]
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .map(|s| format!(" (signed by its agent {})", shown(s)))
                            .unwrap_or_default(),
                        i["recipient"]
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .map(|s| format!(" -> {}", shown(s)))
                            .unwrap_or_default(),
                        shown(i["server_time"].as_str().unwrap_or(""))
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

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn terminal_escapes_and_controls_are_stripped_and_other_text_kept() {
        let cases = [
            ("\u{1b}[31mRED\u{1b}[0m goods", "RED goods"),
            ("\u{1b}[2J\u{1b}[1;1Hcleared", "cleared"),
            ("\u{9b}2Jcleared by C1 CSI", "cleared by C1 CSI"),
            ("\u{1b}]0;new window title\u{07}ACME Ltd", "ACME Ltd"),
            ("\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\", "click"),
            ("\u{9d}0;title\u{9c}name", "name"),
            ("\u{1b}(Bcharset \u{1b}cand reset", "charset and reset"),
            ("bell\u{07} and nul\u{0} and del\u{7f}", "bell and nul and del"),
            ("SEAL-1\rSEAL-2", "SEAL-1 SEAL-2"),
            ("forty\tpallets\nof machinery", "forty pallets of machinery"),
            ("\u{85}next line \u{9a}C1", "next line C1"),
            ("\u{202e}fdp.exe \u{2066}isolated\u{2069}", "fdp.exe isolated"),
            ("\u{1b}重庆", "重庆"),
            ("unterminated \u{1b}]0;title", "unterminated "),
        ];
        for (dirty, want) in cases {
            assert_eq!(clean(dirty), want, "{dirty:?}");
        }
    }

    #[test]
    fn clean_text_is_returned_as_it_is() {
        for s in ["重庆团结村 -> 钦州港", "Zürich, Île-de-France", "CQLU4518208", "", "emoji 🚢 and ZWJ 👩‍🔧"]
        {
            assert!(matches!(clean(s), std::borrow::Cow::Borrowed(b) if b == s), "{s}");
        }
    }
}
