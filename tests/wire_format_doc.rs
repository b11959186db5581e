//! docs/wire-format.md and the code cannot drift apart: the recipient rule of section 5.4 is the
//! one the core's shape check enforces, action by action; the method table of section 9 names
//! every rpc of proto/ and every field of every request message; and the receipt's action names
//! of section 10 are exactly `ACTION_NAMES`.
use ebl_core::delegation::Delegation;
use ebl_core::document::Profile;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId, PartyId, OPERATOR};
use ebl_core::record::{Action, AmendmentReason, Handoff, Issue, Payload, PledgeMode, ACTION_NAMES};
use ebl_core::registry::{Registration, Role};
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap()
}

fn doc() -> String {
    read("docs/wire-format.md")
}

/// The text of `doc` from the heading `from` to the next heading of any level.
fn section<'a>(doc: &'a str, from: &str) -> &'a str {
    let start = doc.find(from).unwrap_or_else(|| panic!("no heading '{from}'"));
    let body = &doc[start + from.len()..];
    &body[..body.find("\n#").unwrap_or(body.len())]
}

/// The rows of the first table in `text` whose header starts with `header`, as trimmed cells.
fn table(text: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(header)).skip(2);
    let mut rows = Vec::new();
    for l in lines.by_ref().take_while(|l| l.starts_with('|')) {
        rows.push(l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect());
    }
    assert!(!rows.is_empty(), "no table '{header}'");
    rows
}

/// One action of every kind, with fields the shape check does not look at.
fn every_action() -> Vec<Action> {
    let party = || PartyId::parse("p", "someone").unwrap();
    let key = PublicKey([7; 32]);
    let text = || "x".to_string();
    let issue = Issue {
        document: vec![],
        profile: Profile::DcsaEbl3,
        amendment: 0,
        consignee: None,
        endorsee: None,
        issuance_manifest: None,
        amends: None,
        legs: vec![],
    };
    let handoff = Handoff { leg: 0, place: "CNQZH".into(), containers: vec![], seals: vec![], exceptions: vec![] };
    let registration =
        Registration { party: party(), name: text(), role: Role::Trader, jurisdiction: vec![], codes: vec![] };
    vec![
        Action::RegisterParty(registration),
        Action::AddKey { party: party(), key },
        Action::RevokeKey { party: party(), key, reason: text() },
        Action::RotateKey { party: party(), old: key, new: PublicKey([8; 32]) },
        Action::Delegate(Delegation {
            principal: party(),
            agent: party(),
            actions: vec!["ALL".into()],
            reference: text(),
        }),
        Action::RevokeDelegation { principal: party(), agent: party(), reason: text() },
        Action::Issue(Box::new(issue)),
        Action::Transfer,
        Action::Endorse,
        Action::EndorseToOrder,
        Action::BlankEndorse,
        Action::Sign,
        Action::Reject { reason: text() },
        Action::SurrenderForDelivery,
        Action::SurrenderForAmendment(AmendmentReason::Cod),
        Action::AcceptSurrender { paper_bill_number: None },
        Action::RejectSurrender { reason: text() },
        Action::Pledge { mode: PledgeMode::Possession, loan_reference: text() },
        Action::ReleasePledge,
        Action::EnforcePledge { reason: text() },
        Action::Depart { leg: 0, containers: vec![], conveyance: None },
        Action::Arrive { leg: 0, containers: vec![] },
        Action::Handoff(Box::new(handoff)),
        Action::Deliver { containers: vec![] },
        Action::CustomsHold { declaration: text(), reason: text() },
        Action::CustomsRelease { declaration: text(), reason: text() },
        Action::Reroute { from_leg: 1, legs: vec![] },
    ]
}

/// A payload of `action` in good shape but for `recipient`: on its chain, at its position.
fn payload(action: Action, recipient: Option<&str>) -> Payload {
    let bill = BillId(Hash32([1; 32]));
    let (chain, actor, seen_title) = if action.is_registry() {
        (ChainId::Registry, OPERATOR, None)
    } else if action.is_custody() {
        (ChainId::Custody(bill), "actor", Some((0, Hash32([2; 32]))))
    } else {
        (ChainId::Title(bill), "actor", None)
    };
    let first = matches!(action, Action::Issue(_));
    Payload {
        origin: "ledger.example/ebl".into(),
        chain,
        position: if first { 0 } else { 3 },
        prev: (!first).then_some(Hash32([3; 32])),
        actor: PartyId::parse("actor", actor).unwrap(),
        agent: None,
        recipient: recipient.map(|r| PartyId::parse("recipient", r).unwrap()),
        claimed_time: Timestamp::parse("t", "2026-11-28T09:30:00.000Z").unwrap(),
        seen_title,
        action,
    }
}

/// Section 5.4's table: action name -> whether the recipient may be the actor. Every action not
/// listed must have no recipient.
fn recipient_rule(doc: &str) -> BTreeMap<String, bool> {
    let mut rule = BTreeMap::new();
    for row in table(section(doc, "### 5.4 Recipient"), "| action | `recipient` |") {
        let may_be_actor = match row[2].split(':').next().unwrap() {
            "yes" => true,
            "no" => false,
            other => panic!("section 5.4: '{other}' is neither yes nor no"),
        };
        for name in row[0].split(", ") {
            assert!(ACTION_NAMES.contains(&name), "section 5.4 lists '{name}', which is no action");
            assert!(rule.insert(name.to_string(), may_be_actor).is_none(), "section 5.4 lists {name} twice");
        }
    }
    rule
}

#[test]
fn every_action_kind_is_built_here() {
    let names: Vec<&str> = every_action().iter().map(Action::name).collect();
    assert_eq!(names, ACTION_NAMES, "add the new action to every_action()");
}

#[test]
fn the_recipient_rule_of_section_5_4_is_the_one_the_core_enforces() {
    let rule = recipient_rule(&doc());
    for action in every_action() {
        let name = action.name();
        let field =
            |r: Option<&str>| payload(action.clone(), r).check_shape().err().map(|e| e.field().map(str::to_string));
        match rule.get(name) {
            Some(may_be_actor) => {
                assert_eq!(field(Some("other")), None, "{name} with a recipient must pass the shape check");
                let missing = field(None);
                assert_eq!(missing, Some(Some("recipient".into())), "{name} without a recipient: {missing:?}");
                let to_self = field(Some("actor"));
                let expected = if *may_be_actor { None } else { Some(Some("recipient".into())) };
                assert_eq!(to_self, expected, "{name} to its own actor, which the doc allows: {may_be_actor}");
            }
            None => {
                assert_eq!(field(None), None, "{name} without a recipient must pass the shape check");
                let given = field(Some("other"));
                assert_eq!(given, Some(Some("recipient".into())), "{name} with a recipient: {given:?}");
            }
        }
    }
}

#[test]
fn the_recipient_rule_is_stated_once() {
    let doc = doc();
    let fields = table(section(&doc, "## 3. `RecordPayload`"), "| # | field |");
    let row = fields.iter().find(|r| r[1] == "`recipient`").expect("a row for recipient");
    let named: Vec<&&str> = ACTION_NAMES.iter().filter(|n| row[4].contains(*n)).collect();
    assert!(named.is_empty(), "the field table names actions for recipient ({named:?}): section 5.4 holds the rule");
}

/// `message NAME { ... }` bodies of a .proto file, by name, comments dropped.
fn messages(proto: &str) -> BTreeMap<String, String> {
    blocks(proto, "message ")
}

fn blocks(proto: &str, keyword: &str) -> BTreeMap<String, String> {
    // Comments dropped and lines unindented, so that a declaration starts a line.
    let text: String = proto.lines().map(|l| l.split("//").next().unwrap().trim_start()).collect::<Vec<_>>().join("\n");
    let mut out = BTreeMap::new();
    for (at, _) in text.match_indices(keyword) {
        if at > 0 && !text[..at].ends_with('\n') {
            continue;
        }
        let rest = &text[at + keyword.len()..];
        let open = rest.find('{').unwrap();
        let name = rest[..open].trim().to_string();
        let (mut depth, mut end) = (0, 0);
        for (i, c) in rest[open..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                end = open + i;
                break;
            }
        }
        out.entry(name).or_insert_with(|| rest[open + 1..end].to_string());
    }
    out
}

/// The field names of a message body (a oneof's members included).
fn field_names(body: &str) -> Vec<String> {
    body.replace(['{', '}'], ";")
        .split(';')
        .filter_map(|s| s.split_once('=').map(|(decl, _)| decl.split_whitespace().last().unwrap().to_string()))
        .collect()
}

/// (service, rpc, request type) of every rpc in proto/.
fn rpcs(protos: &[String]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for proto in protos {
        for (service, body) in blocks(proto, "service ") {
            for stmt in body.split(';').map(str::trim).filter(|s| s.starts_with("rpc ")) {
                let (name, rest) = stmt["rpc ".len()..].split_once('(').unwrap();
                // A client-streaming rpc's request message, without `stream`.
                let input = rest.split(')').next().unwrap().trim().trim_start_matches("stream ").trim();
                out.push((service.clone(), name.trim().to_string(), input.to_string()));
            }
        }
    }
    out
}

fn protos() -> Vec<String> {
    let dir = format!("{ROOT}/proto/ebl/v1");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn the_method_table_names_every_rpc_and_every_field_of_every_request() {
    let doc = doc();
    let protos = protos();
    let package = protos[0].split("package ").nth(1).unwrap().split(';').next().unwrap().to_string();
    let rows = table(section(&doc, "## 9. Methods and signed reads"), "| method |");
    let by_method: BTreeMap<String, String> =
        rows.iter().map(|r| (r[0].trim_matches('`').to_string(), r[1..].join(" | "))).collect();
    let all_messages: BTreeMap<String, String> = protos.iter().flat_map(|p| messages(p)).collect();
    let rpcs = rpcs(&protos);
    assert!(rpcs.len() >= 16, "found only {} rpcs: the scan is broken", rpcs.len());

    let methods: BTreeSet<String> = rpcs.iter().map(|(s, m, _)| format!("/{package}.{s}/{m}")).collect();
    let listed: BTreeSet<String> = by_method.keys().cloned().collect();
    assert_eq!(listed, methods, "the method table and the services of proto/ differ");

    // Every request message: each rpc's input, and every `...Request` message (the signed reads'
    // envelope requests among them), with each of its fields in the row that names it.
    let mut requests: BTreeSet<String> = rpcs.iter().map(|(_, _, input)| input.clone()).collect();
    requests.extend(all_messages.keys().filter(|m| m.ends_with("Request")).cloned());
    for message in requests {
        let body = &all_messages[&message];
        let fields = field_names(body);
        // The signed envelopes are given as proto blocks of their own (sections 2 and 9).
        let described = doc.find(&format!("message {message} {{")).map(|at| {
            let block = &doc[at..];
            block[..block.find("\n}").unwrap()].to_string()
        });
        let row = by_method.values().find(|r| r.contains(&format!("`{message} {{")));
        let text = match (row, described) {
            (Some(r), _) => r.clone(),
            (None, Some(block)) => block,
            (None, None) => panic!("{message} is in no row of the method table and has no block of its own"),
        };
        for f in fields {
            assert!(text.contains(&format!(" {f} = ")), "{message}.{f} is not in docs/wire-format.md: {text}");
        }
    }
}

#[test]
fn the_receipt_action_names_are_exactly_the_actions() {
    let doc = doc();
    let intro = "`action` is one of these ";
    let at = doc.find(intro).expect("the receipt's list of action names");
    let para = &doc[at..];
    let para = &para[..para.find("\n\n").unwrap()];
    let count: usize = para[intro.len()..].split_whitespace().next().unwrap().parse().unwrap();
    let names: Vec<&str> =
        para.split('`').skip(3).step_by(2).filter(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_')).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "a name listed twice: {names:?}");
    assert_eq!(unique, ACTION_NAMES.into_iter().collect(), "the receipt's names and ACTION_NAMES differ");
    assert_eq!(count, ACTION_NAMES.len(), "the list says it has {count} names");
}
