//! The crash test in the suite: `scripts/crash-test.sh --short` (at least 20 `kill -9`s of a
//! real `ebld` under load, about a minute) must pass, and its summary must show the kills and no
//! acknowledged record lost or changed.
//!
//! The script needs the load-and-check program, `examples/crash/`. `cargo test` builds examples
//! only when it builds every target, not for `cargo test --test crash`, and gives an integration
//! test no path to them. So this test is built without the libtest harness (Cargo.toml,
//! `harness = false`) and compiles the example's code in as a module: called with one of its
//! subcommands, this binary *is* the program, and the test hands the script its own path
//! (`EBL_CRASH`) beside the freshly built `ebl` and `ebld` (`EBL_BIN`). One source, always the
//! build under test, and nothing test-only in the shipped binaries.

#[path = "../examples/crash/main.rs"]
mod program;

use std::process::{Command, ExitCode, Stdio};

const NAME: &str = "crash_test_short";

/// libtest's options that take a value: their value is not a filter.
const WITH_VALUE: [&str; 6] = ["--test-threads", "--skip", "--format", "--color", "--logfile", "-Z"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| program::SUBCOMMANDS.contains(&a.as_str())) {
        return program::run(&args);
    }
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return ExitCode::SUCCESS;
    }
    let mut filters = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            filters.push(a.as_str());
        }
    }
    let exact = args.iter().any(|a| a == "--exact");
    let selected = filters.is_empty() || filters.iter().any(|f| if exact { *f == NAME } else { NAME.contains(f) });
    if !selected || args.iter().any(|a| a == "--ignored") {
        println!("running 0 tests ({NAME} filtered out)");
        return ExitCode::SUCCESS;
    }
    println!("running 1 test\ntest {NAME} ...");
    crash_test_short();
    println!("test {NAME} ... ok");
    ExitCode::SUCCESS
}

fn crash_test_short() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ebld")).parent().unwrap();
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/crash-test.sh"))
        .arg("--short")
        .env("EBL_BIN", bin)
        .env("EBL_CRASH", std::env::current_exe().unwrap())
        .env_remove("EBL_CRASH_DIR")
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/crash-test.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(out.status.success(), "scripts/crash-test.sh --short failed: {}", out.status);
    let summary = stdout.lines().find(|l| l.starts_with("crash test: ")).expect("a summary line");
    // "crash test: 20 kills, 41326 acknowledged, 0 lost, 0 mismatched, 20 checkpoints consistent"
    let figure = |what: &str| -> u64 {
        summary
            .split(", ")
            .find_map(|part| part.trim_start_matches("crash test: ").strip_suffix(what))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no '{what}' in: {summary}"))
    };
    assert!(figure(" kills") >= 20, "{summary}");
    assert!(figure(" acknowledged") > 0, "{summary}");
    assert_eq!(figure(" lost"), 0, "{summary}");
    assert_eq!(figure(" mismatched"), 0, "{summary}");
    assert!(figure(" checkpoints consistent") >= 20, "{summary}");
}
