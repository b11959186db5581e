//! The pure core must not depend on transport, generated protobuf or storage crates.
use std::process::Command;

#[test]
fn core_depends_on_no_tonic_prost_or_rocksdb() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "ebl-core", "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("ebl-core")), "tree lists the core: {tree}");
    for forbidden in ["tonic", "prost", "rocksdb", "librocksdb-sys", "tokio"] {
        assert!(
            !tree.lines().any(|l| l.split_whitespace().next() == Some(forbidden)),
            "ebl-core depends on {forbidden}:\n{tree}"
        );
    }
    // And no source file of the core names them.
    for entry in walk(concat!(env!("CARGO_MANIFEST_DIR"), "/core/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for forbidden in ["tonic::", "prost::", "rocksdb::", "crate::pb"] {
            assert!(!text.contains(forbidden), "{} uses {forbidden}", entry.display());
        }
    }
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(p.to_str().unwrap()));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}
