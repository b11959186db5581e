//! docs/title-rules.md and the code cannot drift apart: every refusal reason the title rules
//! raise is in the document, with the status class the code gives it where the document names
//! one, and is asserted by at least one test through the server; and every reason the document
//! lists for the title rules exists in the code.
use std::collections::{BTreeMap, BTreeSet};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap()
}

/// Reasons raised in `src` as `refused("X"` or `forbidden("X"` (the literal may be on the next
/// line), with the gRPC code each constructor maps to.
fn reasons_in_code(src: &str) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    for (ctor, code) in [("RuleError::refused(", "FAILED_PRECONDITION"), ("RuleError::forbidden(", "PERMISSION_DENIED")]
    {
        for (at, _) in src.match_indices(ctor) {
            let rest = src[at + ctor.len()..].trim_start();
            if let Some(lit) = rest.strip_prefix('"') {
                out.insert(lit[..lit.find('"').unwrap()].to_string(), code);
            }
        }
    }
    out
}

/// Upper-case names in backticks, with the status code written just before, if any.
fn reasons_in_doc(doc: &str) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let parts: Vec<&str> = doc.split('`').collect();
    for i in (1..parts.len()).step_by(2) {
        let name = parts[i];
        if name.len() < 6 || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        // In prose the code is written just before the reason; in a table, in the cell before.
        let before = parts[i - 1].trim_end().trim_end_matches('|').trim_end();
        let code = ["FAILED_PRECONDITION", "PERMISSION_DENIED", "INVALID_ARGUMENT", "ALREADY_EXISTS", "NOT_FOUND"]
            .into_iter()
            .find(|c| before.ends_with(c))
            .map(str::to_string);
        let entry = out.entry(name.to_string()).or_insert(None);
        if entry.is_none() {
            *entry = code;
        }
    }
    out
}

/// What is wrong between the refusals raised in `sources` and the page `doc`: reasons missing
/// from the page, documented with another status code, or asserted by no test in tests/.
fn drift(sources: &[&str], doc: &str) -> Vec<String> {
    let code = reasons_in_code(&sources.iter().map(|p| read(p)).collect::<String>());
    let doc_reasons = reasons_in_doc(&read(doc));
    let tests: String = std::fs::read_dir(format!("{ROOT}/tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs") && !p.ends_with("title_rules_doc.rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut wrong = Vec::new();
    if code.len() < 10 {
        wrong.push(format!("found only {} reasons in {sources:?}: the scan is broken", code.len()));
    }
    for (reason, status) in &code {
        match doc_reasons.get(reason) {
            None => wrong.push(format!("{reason} is raised by {sources:?} but missing from {doc}")),
            Some(Some(documented)) if documented != status => {
                wrong.push(format!("{reason}: the code answers {status}, {doc} says {documented}"))
            }
            _ => {}
        }
        if !tests.contains(&format!("\"{reason}\"")) {
            wrong.push(format!("{reason} is asserted by no test in tests/"));
        }
    }
    wrong
}

#[test]
fn every_title_refusal_is_documented_with_its_code_and_tested() {
    let wrong = drift(&["core/src/title.rs", "core/src/delegation.rs"], "docs/title-rules.md");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_custody_refusal_is_documented_with_its_code_and_tested() {
    let wrong = drift(&["core/src/custody_rules.rs"], "docs/multimodal.md");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_reason_the_documents_list_exists_in_the_code() {
    let sources = [
        "core/src/title.rs",
        "core/src/apply.rs",
        "core/src/error.rs",
        "core/src/registry.rs",
        "core/src/delegation.rs",
        "core/src/custody_rules.rs",
        "core/src/record.rs",
    ];
    let code: BTreeSet<String> =
        sources.iter().map(|p| read(p)).collect::<String>().split('"').map(str::to_string).collect();
    let words_that_are_not_reasons = ["INVALID_ARGUMENT", "FAILED_PRECONDITION", "PERMISSION_DENIED", "ALREADY_EXISTS"];
    for page in ["docs/title-rules.md", "docs/multimodal.md"] {
        for reason in reasons_in_doc(&read(page)).keys().filter(|r| !words_that_are_not_reasons.contains(&r.as_str())) {
            // Action names and states are written in backticks too; they are in the code as names.
            assert!(code.contains(reason), "{page} lists `{reason}`, which the code never raises or names");
        }
    }
}
