//! The route files of docs/multimodal.md ("Route files") and the CLI's parser cannot drift apart:
//! the documented example and every file of examples/routes/ are read by the parser `ebl` uses
//! (`--route`), and the legs they give pass the ledger's own decoding and route checks.
use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::record::Action;
use ebl_core::route::check_chain;
use ebl_core::time::Timestamp;
use ebl_ledger::cli::route::read_legs;
use ebl_ledger::client::{payload, Link};
use ebl_ledger::pb;
use ebl_ledger::wire::payload::decode_payload;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Reads `path` as `ebl` does, then checks the legs as the ledger does (decoded from a REROUTE
/// payload, then chained: each leg valid, each starting where the one before ends). Returns the
/// number of legs.
fn check_route_file(path: &Path) -> usize {
    let at = path.display();
    let legs = read_legs(path).unwrap_or_else(|e| panic!("{at}: {e}"));
    let action = pb::record_payload::Action::Reroute(pb::Reroute { from_leg: 0, legs });
    let bill = BillId(Hash32([1; 32]));
    let p = payload("ledger.example/ebl", Some(bill), Link::default(), "cq-mto", None, Timestamp::now(), action);
    let decoded = decode_payload(&prost::Message::encode_to_vec(&p)).unwrap_or_else(|e| panic!("{at}: {e}"));
    let Action::Reroute { legs, .. } = decoded.action else { panic!("{at}: not decoded as a REROUTE") };
    check_chain("route", &legs, None, None).unwrap_or_else(|e| panic!("{at}: {e}"));
    legs.len()
}

/// The JSON block of the "Route files" section of docs/multimodal.md.
fn documented_example() -> String {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/multimodal.md")).unwrap();
    let section = &doc[doc.find("### Route files").expect("a 'Route files' section")..];
    let block = &section[section.find("```json\n").expect("a JSON example in it") + "```json\n".len()..];
    block[..block.find("```").unwrap()].to_string()
}

#[test]
fn the_documented_route_file_is_read_by_the_cli_parser_and_passes_the_ledger_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("route.json");
    std::fs::write(&path, documented_example()).unwrap();
    assert_eq!(check_route_file(&path), 2);
}

#[test]
fn every_example_route_file_is_read_by_the_cli_parser_and_passes_the_ledger_checks() {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(format!("{ROOT}/examples/routes")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 3, "examples/routes/ holds {} files", files.len());
    for f in files {
        assert!(f.extension().is_some_and(|x| x == "json"), "{}: route files are JSON", f.display());
        assert!(check_route_file(&f) >= 1);
    }
}

#[test]
fn a_route_file_with_a_key_the_doc_does_not_name_is_refused() {
    // The doc says any other key is refused: the parser must not drop a misspelt one silently.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("route.json");
    std::fs::write(&path, documented_example().replacen("\"vehicle_id\"", "\"vehicle\"", 1)).unwrap();
    let err = read_legs(&path).expect_err("an unknown key must be refused").to_string();
    assert!(err.contains("vehicle"), "{err}");
}
