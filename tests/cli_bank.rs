//! A bank's evidence through the real `ebl` binary: `ebl verify` checks a saved title statement
//! and a saved tlog-proof offline as well as a bundle (a changed byte: exit 3, saying what
//! failed); readable output names the B/L reference and the parties' names and LEIs; `ebl
//! registry` gives each key's validity; and a head, a party, a pledge, a surrender have one JSON
//! shape in `bill show`, `title`, `bundle` and `verify`, the one docs/operations.md lists.
use crate::common;

use common::*;
use ebl_ledger::pb::{self, record_payload::Action};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

const OFFLINE: &str = "http://127.0.0.1:1";

fn ebl(server: &str, args: &[&str]) -> Output {
    Command::new(ebl_bin()).arg("--server").arg(server).args(args).output().expect("run ebl")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "ebl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(out: Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

/// A check that failed: exit status 3 and its message.
fn failed(out: Output) -> String {
    assert_eq!(out.status.code(), Some(3), "ebl must fail a check: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).unwrap()
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// A key file for `party` in `dir`.
fn key_file(l: &TestLedger, dir: &Path, party: &str) -> String {
    let file = dir.join(format!("{party}.key"));
    ebl_ledger::server::write_secret_key(&file, &l.party(party).key).unwrap();
    p(&file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_and_a_tlog_proof_verify_offline_and_a_changed_byte_fails_with_exit_3() {
    let (mut l, bill) = ledger_with_bill("CLIBANK-1").await;
    let exporter = l.party("cq-machinery");
    let pledge = Action::Pledge(pb::Pledge { mode: pb::PledgeMode::Possession as i32, loan_reference: "LC-7".into() });
    let receipt = l.client.act(&exporter, bill, Some("cq-bank"), pledge).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bank = key_file(&l, dir.path(), "cq-bank");
    let (url, id, d) = (l.url.clone(), bill.to_string(), dir.path().to_path_buf());
    let record = hex::encode(&receipt.record_hash);
    tokio::task::spawn_blocking(move || {
        let (note, proof) = (d.join("title.note"), d.join("record.tlog-proof"));
        ok(ebl(&url, &["title", "--as", "cq-bank", "--key", &bank, "--bill", &id, "--statement", &p(&note)]));
        std::fs::write(&proof, ok(ebl(&url, &["log", "proof", "--record", &record]))).unwrap();
        let key = ok(ebl(&url, &["log", "key"])).trim_end().to_string();

        // The statement: told by its first line, checked with no server.
        let v = ok(ebl(OFFLINE, &["verify", &p(&note), "--log-key", &key, "--bill", "cq-mto/CLIBANK-1"]));
        assert!(v.starts_with(&format!("VERIFIED: title statement of bill {id}")), "{v}");
        assert!(v.contains("entitled     cq-machinery") && v.contains("pledge       to cq-bank (POSSESSION"), "{v}");
        let j = json(ebl(OFFLINE, &["--json", "verify", &p(&note), "--log-key", &key]));
        assert_eq!(
            (j["kind"].as_str(), j["title"]["pledge"]["pledgee"]["id"].as_str()),
            (Some("title-statement"), Some("cq-bank"))
        );
        let e = failed(ebl(OFFLINE, &["verify", &p(&note), "--log-key", &key, "--bill", "cq-mto/OTHER"]));
        assert!(e.contains("FAILED: title statement: bill"), "{e}");
        let text = std::fs::read_to_string(&note).unwrap();
        let bad = d.join("bad.note");
        std::fs::write(&bad, text.replacen("entitled cq-machinery", "entitled cq-bank", 1)).unwrap();
        let e = failed(ebl(OFFLINE, &["verify", &p(&bad), "--log-key", &key]));
        assert!(e.contains("FAILED: title statement: signature and proof"), "{e}");

        // The tlog-proof: the same, and a proof for another record than asked is refused.
        let v = ok(ebl(OFFLINE, &["verify", &p(&proof), "--log-key", &key, "--record", &record]));
        assert!(v.starts_with(&format!("VERIFIED: record {record} is leaf")), "{v}");
        let j = json(ebl(OFFLINE, &["--json", "verify", &p(&proof), "--log-key", &key]));
        assert_eq!((j["kind"].as_str(), j["record_hash"].as_str()), (Some("tlog-proof"), Some(record.as_str())));
        let e = failed(ebl(OFFLINE, &["verify", &p(&proof), "--log-key", &key, "--record", &"0".repeat(64)]));
        assert!(e.contains("FAILED: tlog-proof: record"), "{e}");
        let text = std::fs::read_to_string(&proof).unwrap();
        let index: u64 = text.lines().find_map(|l| l.strip_prefix("index ")).unwrap().parse().unwrap();
        let bad = d.join("bad.tlog-proof");
        std::fs::write(&bad, text.replacen(&format!("index {index}\n"), &format!("index {}\n", index + 1), 1)).unwrap();
        let e = failed(ebl(OFFLINE, &["verify", &p(&bad), "--log-key", &key]));
        assert!(e.contains("FAILED: tlog-proof: index"), "{e}");
        let line = text.lines().nth(3).unwrap().to_string();
        let flipped = if line.starts_with('A') { line.replacen('A', "B", 1) } else { format!("A{}", &line[1..]) };
        std::fs::write(&bad, text.replacen(&line, &flipped, 1)).unwrap();
        let e = failed(ebl(OFFLINE, &["verify", &p(&bad), "--log-key", &key]));
        assert!(e.contains("FAILED: tlog-proof: inclusion proof"), "{e}");
        // Not evidence at all, and the wrong kind asked for.
        std::fs::write(&bad, "hello\n").unwrap();
        assert!(failed(ebl(OFFLINE, &["verify", &p(&bad), "--log-key", &key])).contains("FAILED: file: kind"));
        let e = failed(ebl(OFFLINE, &["verify", &p(&note), "--kind", "tlog-proof", "--log-key", &key]));
        assert!(e.contains("FAILED: tlog-proof: format"), "{e}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_output_names_the_bl_reference_and_the_parties_and_the_registry_gives_key_validity() {
    let (mut l, bill) = ledger_with_bill("CLIBANK-2").await;
    let (op, exporter) = (l.operator.clone(), l.party("cq-machinery"));
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let old = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let old_hex = hex::encode(old.verifying_key().to_bytes());
    let added = l.client.operator(&op, ebl_ledger::client::add_key("cq-bank", old_hex_bytes(&old))).await.unwrap();
    let revoke = Action::RevokeKey(pb::RevokeKey {
        party: "cq-bank".into(),
        public_key: old_hex_bytes(&old),
        reason: "laptop lost".into(),
    });
    let revoked = l.client.operator(&op, revoke).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bank = key_file(&l, dir.path(), "cq-bank");
    let (url, id, d) = (l.url.clone(), bill.to_string(), dir.path().to_path_buf());
    tokio::task::spawn_blocking(move || {
        let reader = ["--as", "cq-bank", "--key", &bank];
        let named = "cq-bank (cq-bank Ltd, LEI CQBANK00000000000003)";
        let show = ok(ebl(&url, &[&["bill", "show", "--bill", &id][..], &reader[..]].concat()));
        assert!(
            show.contains("B/L        CLIBANK-2") && show.contains("issued by cq-mto (cq-mto Ltd, LEI CQMTO"),
            "{show}"
        );
        assert!(
            show.contains(&format!("possessor  {named}")) && show.contains(&format!("entitled   {named}")),
            "{show}"
        );
        assert!(show.contains(&format!("bill {id}")), "ids are kept: {show}");
        let title = ok(ebl(&url, &[&["title", "--bill", &id][..], &reader[..]].concat()));
        assert!(title.starts_with(&format!("TITLE of B/L CLIBANK-2 (bill {id})")), "{title}");
        assert!(title.contains(&format!("possessor  {named}")), "{title}");
        let file = p(&d.join("b.json"));
        let fetched = ok(ebl(&url, &[&["bundle", "--bill", &id, "--out", &file][..], &reader[..]].concat()));
        assert!(fetched.contains("B/L CLIBANK-2") && fetched.contains(named), "{fetched}");
        let key = ok(ebl(&url, &["log", "key"])).trim_end().to_string();
        let v = ok(ebl(OFFLINE, &["verify", &file, "--log-key", &key]));
        assert!(v.contains("B/L          CLIBANK-2, issued by cq-mto (cq-mto Ltd"), "{v}");
        assert!(v.contains(&format!("possessor    {named}")), "offline, from the bundle's registry: {v}");

        // The registry: names, roles, codes, and the revoked key from its ADD_KEY to its REVOKE_KEY.
        let reg = ok(ebl(&url, &[&["registry"][..], &reader[..]].concat()));
        assert!(reg.contains("cq-bank        BANK     cq-bank Ltd, LEI CQBANK00000000000003"), "{reg}");
        assert!(reg.contains("codes GLEIF:CQBANK00000000000003:LEI"), "{reg}");
        let line = reg.lines().find(|l| l.contains(&old_hex)).unwrap_or_else(|| panic!("no key line: {reg}"));
        assert!(
            line.contains(&format!("valid after log #{}", added.seq))
                && line.contains(&format!("until log #{}", revoked.seq))
                && line.contains("revoked (REVOKE_KEY: laptop lost)"),
            "{line}"
        );
        let j = json(ebl(&url, &[&["--json", "registry"][..], &reader[..]].concat()));
        let k = j["keys"].as_array().unwrap().iter().find(|k| k["public_key"] == old_hex.as_str()).unwrap().clone();
        assert_eq!(
            (k["from"]["seq"].as_u64(), k["to"]["seq"].as_u64(), k["ended_by"].as_str(), k["reason"].as_str()),
            (Some(added.seq), Some(revoked.seq), Some("REVOKE_KEY"), Some("laptop lost"))
        );
        let bank_key = j["keys"].as_array().unwrap().iter().find(|k| k["party"] == "cq-bank" && k["to"].is_null());
        assert!(bank_key.is_some(), "the bank's own key is in force: {j}");
        let party = j["parties"].as_array().unwrap().iter().find(|p| p["id"] == "cq-bank").unwrap().clone();
        assert_eq!(
            (party["name"].as_str(), party["role"].as_str(), party["lei"].as_str()),
            (Some("cq-bank Ltd"), Some("BANK"), Some("CQBANK00000000000003"))
        );
    })
    .await
    .unwrap();
}

fn old_hex_bytes(k: &ed25519_dalek::SigningKey) -> Vec<u8> {
    k.verifying_key().to_bytes().to_vec()
}

/// Every value of a concept found in `v`: parties (objects with exactly the party's fields) by
/// id, and heads, pledges, surrenders and stated titles by the key they sit under.
fn concepts(v: &Value, under: &str, found: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            let keys: BTreeSet<&str> = m.keys().map(String::as_str).collect();
            if keys == BTreeSet::from(["id", "name", "role", "lei", "codes"]) {
                found.push((format!("party {}", m["id"].as_str().unwrap()), v.clone()));
            }
            if ["head", "pledge", "surrender"].contains(&under) && !v.is_null() {
                found.push((under.to_string(), v.clone()));
            }
            for (k, x) in m {
                concepts(x, k, found);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| concepts(x, under, found)),
        _ => {}
    }
}

/// The field lists of docs/operations.md "JSON output": concept -> fields.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(format!("{}/docs/operations.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let section = doc.split("\n## JSON output\n").nth(1).expect("a JSON output section").split("\n## ").next().unwrap();
    let mut out = BTreeMap::new();
    for row in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| concept") && !l.starts_with("|--")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let fields = cells[2].split(',').map(|f| f.trim().trim_matches('`').to_string()).collect();
        out.insert(cells[1].trim_matches('`').to_string(), fields);
    }
    out
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_a_party_a_pledge_and_a_surrender_have_one_json_shape_in_every_command() {
    let (mut l, bill) = ledger_with_bill("CLIBANK-3").await;
    let exporter = l.party("cq-machinery");
    let pledge = Action::Pledge(pb::Pledge { mode: pb::PledgeMode::Possession as i32, loan_reference: "LC-9".into() });
    l.client.act(&exporter, bill, Some("cq-bank"), pledge).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let reader = key_file(&l, dir.path(), "cq-machinery");
    let (url, id, d) = (l.url.clone(), bill.to_string(), dir.path().to_path_buf());
    let run_all = move |url: String, concept: &'static str| {
        let (id, d, reader) = (id.clone(), d.clone(), reader.clone());
        move || {
            let as_ = ["--as", "cq-machinery", "--key", &reader];
            let file = p(&d.join(format!("{concept}.bundle.json")));
            let key = ok(ebl(&url, &["log", "key"])).trim_end().to_string();
            let outputs = [
                ("bill show", json(ebl(&url, &[&["--json", "bill", "show", "--bill", &id][..], &as_[..]].concat()))),
                ("title", json(ebl(&url, &[&["--json", "title", "--bill", &id][..], &as_[..]].concat()))),
                (
                    "bundle",
                    json(ebl(&url, &[&["--json", "bundle", "--bill", &id, "--out", &file][..], &as_[..]].concat())),
                ),
                ("verify", json(ebl(OFFLINE, &["--json", "verify", &file, "--log-key", &key]))),
            ];
            let mut seen: BTreeMap<String, (String, Value)> = BTreeMap::new();
            let mut titles = vec![];
            for (command, out) in &outputs {
                let mut found = vec![];
                concepts(out, "", &mut found);
                for name in ["party cq-machinery", "head", concept] {
                    assert!(found.iter().any(|(n, _)| n == name), "`ebl {command} --json` shows no {name}: {out}");
                }
                for (name, v) in found {
                    match seen.get(&name) {
                        Some((first, was)) => assert_eq!(&v, was, "{name} in `{command}` differs from `{first}`"),
                        None => drop(seen.insert(name, (command.to_string(), v))),
                    }
                }
                titles.extend(out.get("title").filter(|t| !t.is_null()).cloned());
            }
            assert_eq!(titles.len(), 3, "title, bundle and verify state the title");
            assert!(titles.windows(2).all(|w| w[0] == w[1]), "one stated title: {titles:?}");
            (seen, titles.remove(0))
        }
    };
    let (pledged, title) = tokio::task::spawn_blocking(run_all(url.clone(), "pledge")).await.unwrap();
    l.client.act(&l.party("cq-bank"), bill, None, Action::ReleasePledge(pb::ReleasePledge {})).await.unwrap();
    let surrender = Action::SurrenderForDelivery(pb::SurrenderForDelivery {});
    l.client.act(&exporter, bill, Some("cq-mto"), surrender).await.unwrap();
    let (surrendered, _) = tokio::task::spawn_blocking(run_all(url, "surrender")).await.unwrap();

    // The documented fields are the output's keys.
    let doc = documented();
    let party = &pledged["party cq-machinery"].1;
    let examples = [
        ("party", party.clone()),
        ("code", party["codes"][0].clone()),
        ("head", pledged["head"].1.clone()),
        ("pledge", pledged["pledge"].1.clone()),
        ("surrender", surrendered["surrender"].1.clone()),
        ("title", title),
    ];
    for (concept, v) in examples {
        let listed = doc.get(concept).unwrap_or_else(|| panic!("docs/operations.md lists no `{concept}`: {doc:?}"));
        assert_eq!(&keys(&v), listed, "`{concept}` fields in docs/operations.md against the output {v}");
    }
    assert_eq!(pledged["pledge"].1["pledgee"]["lei"], "CQBANK00000000000003");
    assert_eq!(surrendered["surrender"].1["by"]["id"], "cq-machinery");
}
