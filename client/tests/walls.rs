//! The client's wall: ebl-client (and the `ebl` binary in it) never depends on RocksDB, so a bank
//! or a carrier builds it in minutes; and ebl-verify depends on no network, runtime or database,
//! so it builds for a browser.

use std::process::Command;

/// `cargo tree` of `package` inverted on `dependency`, over normal and build edges, for every
/// target: empty when `package` does not depend on it at all.
fn dependents(package: &str, dependency: &str) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", package, "-e", "normal,build", "--target", "all", "-i", dependency])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Cargo says the package is not in the graph (and fails) when nothing depends on it.
    if !out.status.success() {
        assert!(
            stderr.contains("did not match any packages") || stderr.contains("nothing to print"),
            "cargo tree failed: {stderr}"
        );
        return String::new();
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_client_builds_without_rocksdb() {
    assert_eq!(dependents("ebl-client", "librocksdb-sys"), "", "ebl-client depends on RocksDB");
    assert_eq!(dependents("ebl-client", "rocksdb"), "");
    // The check can fail: the server does depend on it.
    assert!(dependents("ebl-ledger", "librocksdb-sys").contains("ebl-ledger"));
}

#[test]
fn the_verifier_needs_no_network_runtime_or_database() {
    for dependency in ["librocksdb-sys", "tonic", "tokio", "hyper"] {
        assert_eq!(dependents("ebl-verify", dependency), "", "ebl-verify depends on {dependency}");
    }
    assert!(dependents("ebl-client", "tonic").contains("ebl-client"));
}

#[test]
fn tls_has_one_crypto_provider_ring() {
    // Two providers compiled into rustls make it panic at run time, when it cannot choose.
    for package in ["ebl-ledger", "ebl-client"] {
        for provider in ["aws-lc-rs", "aws-lc-sys"] {
            assert_eq!(dependents(package, provider), "", "{package} depends on {provider}");
        }
    }
    // The check can fail: both do depend on ring, through rustls.
    assert!(dependents("ebl-ledger", "ring").contains("rustls"));
    assert!(dependents("ebl-client", "ring").contains("rustls"));
}

/// Whether the toolchain has the standard library for `target` (scripts/setup.sh adds it).
fn has_target(target: &str) -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == target))
        .unwrap_or(false)
}

#[test]
fn the_verifier_builds_for_the_browser() {
    const WASM: &str = "wasm32-unknown-unknown";
    if !has_target(WASM) {
        eprintln!("not checked: the {WASM} target is not installed (rustup target add {WASM})");
        return;
    }
    // A target folder of its own: the suite's own build may hold the usual one's lock.
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "ebl-verify", "--target", WASM, "--target-dir"])
        .arg(base.join("wasm-check"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo build");
    assert!(out.status.success(), "ebl-verify does not build for {WASM}: {}", String::from_utf8_lossy(&out.stderr));
}
