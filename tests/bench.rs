//! The load generator and the honesty of the figures it reports (docs/performance.md): `ebld`
//! has no flag or configuration key that would switch signature checks or synced commits off,
//! and a short `ebl bench` run against the real `ebld` gets every good record accepted and
//! every bad one refused, and writes its table as JSON in the shape the docs describe.

use crate::common::ebl_bin;
use clap::CommandFactory;
use serde_json::Value;

/// Every flag of `ebld` and of its subcommands, by long name (configuration keys are the same
/// names: client/src/config.rs), with its help.
fn flags(cmd: &clap::Command, out: &mut Vec<(String, String)>) {
    for a in cmd.get_arguments() {
        let name = a.get_long().map(str::to_string).unwrap_or_else(|| a.get_id().to_string());
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        out.push((name, help));
    }
    for sub in cmd.get_subcommands() {
        flags(sub, out);
    }
}

#[test]
fn ebld_has_no_switch_that_turns_signature_checks_or_fsync_off() {
    let mut all = Vec::new();
    flags(&ebl_ledger::cli::server::Args::command(), &mut all);
    assert!(all.len() > 30, "the flags were not read: {all:?}");
    for (name, help) in &all {
        let name = name.to_lowercase();
        for word in ["sync", "verif", "signature", "skip", "unsafe", "no-check", "trust", "durab"] {
            assert!(!name.contains(word), "ebld flag --{name} ({help}) looks like a switch for checks or fsync");
        }
        let help = help.to_lowercase();
        for phrase in ["without sync", "no fsync", "skip", "disable", "unchecked", "not verif"] {
            assert!(!help.contains(phrase), "ebld flag --{name}: \"{help}\"");
        }
    }
}

#[test]
fn a_short_bench_run_refuses_every_bad_record_and_writes_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = std::process::Command::new(ebl_bin())
        .args(["bench", "--records", "2000", "--quiet", "--in-flight", "16", "--json-out"])
        .arg(&json)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .arg("--ebld")
        .arg(env!("CARGO_BIN_EXE_ebld"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ebl bench failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("verify_strict") && stdout.contains("mixed-unary"), "{stdout}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let run = &report["runs"][0];
    let m = &run["machine"];
    for key in ["verify_strict_per_s_one_core", "key_check_per_s_one_core", "trivial_calls_per_s"] {
        assert!(m[key].as_f64().unwrap() > 0.0, "{key}: {m}");
    }
    assert!(m["synced_batches_per_s"]["small_batches_per_s"].as_f64().unwrap() > 0.0, "{m}");
    let phases = run["phases"].as_array().unwrap();
    let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["issues", "transfers", "mixed-batch", "mixed-stream", "mixed-unary", "paced-50", "paced-90"]);
    let mut refused = 0;
    for p in phases {
        assert_eq!(p["unexpected"], 0, "{p}");
        assert!(p["accepted"].as_u64().unwrap() > 0, "{p}");
        assert!(p["records_per_s"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p["server_cpu_us_per_record"].as_f64().unwrap() > 0.0, "{p}");
        let l = &p["latency_ms"];
        assert!(l["p50"].as_f64().unwrap() <= l["p99"].as_f64().unwrap(), "{p}");
        // Every acknowledged group was synced: RocksDB counted at least one WAL sync per group.
        assert!(p["wal_syncs"].as_u64().unwrap() >= p["commit_groups"].as_u64().unwrap(), "{p}");
        assert!(p["commit_groups"].as_u64().unwrap() > 0, "{p}");
        refused += p["refused_as_they_must"].as_u64().unwrap();
    }
    // About 1% of the load is bad (one record in 200 with a bad signature, one with a stale head).
    assert!(refused > 0, "no bad record was sent");
    let end = &run["at_end"];
    assert!(end["records"].as_u64().unwrap() > 10_000, "{end}");
    for key in ["disk_bytes_per_record", "rss_bytes", "restart_to_serving_ms"] {
        assert!(end[key].as_f64().unwrap() > 0.0, "{key}: {end}");
    }
    assert_eq!(end["title_statement_ms"]["count"], 200, "{end}");
    assert!(report["summary"]["phases"].as_array().unwrap().len() == phases.len());
}
