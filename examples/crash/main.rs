//! The load and the oracle of the crash test (`scripts/crash-test.sh`, docs/operations.md "Crash
//! test"): the script starts and `kill -9`s `ebld`; this program puts load on it and judges what
//! survived.
//!
//!   crash setup      --server URL --work DIR [--traders 8] [--bills 112]
//!   crash load       --server URL --work DIR [--writers 8] [--lanes 6] [--batch-lanes 1]
//!                    [--batch 8] [--seconds 600]
//!   crash checkpoint --server URL --work DIR
//!   crash check      --server URL --work DIR --kills N [--min-in-flight 32]
//!
//! Everything it needs or learns lives in the work folder (`work.rs`): the identities and bills
//! (`world.json`), one JSON line per acknowledgement (`acks.jsonl`), the load's events, among
//! them the calls in flight each time it lost the server (`events.jsonl`), its live in-flight
//! count (`status`), and the checkpoints saved before each kill (`checkpoints/`).
//!
//! `tests/crash.rs` compiles this same file as a module (cargo does not build examples for an
//! integration test) and runs it when the script calls the test binary with a subcommand.

mod check;
mod load;
mod setup;
mod work;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// The options of a subcommand, `--name value` pairs.
pub struct Opts {
    values: HashMap<String, String>,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut values = HashMap::new();
        for pair in args.chunks(2) {
            let name = pair[0].strip_prefix("--").ok_or_else(|| format!("expected --option, got '{}'", pair[0]))?;
            let value = pair.get(1).ok_or_else(|| format!("--{name} needs a value"))?;
            values.insert(name.to_string(), value.clone());
        }
        Ok(Opts { values })
    }

    /// A required string option.
    pub fn str(&self, name: &str) -> Result<String, String> {
        self.values.get(name).cloned().ok_or_else(|| format!("--{name} is required"))
    }

    /// A numeric option with a default.
    pub fn num(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: expected a number, got '{v}'")),
        }
    }

    /// The work folder.
    pub fn work(&self) -> Result<PathBuf, String> {
        self.str("work").map(PathBuf::from)
    }
}

/// The subcommands this program answers.
pub const SUBCOMMANDS: [&str; 4] = ["setup", "load", "checkpoint", "check"];

/// Runs one subcommand (`args[0]`) to the end; a fault or a bad argument is a non-zero exit.
pub fn run(args: &[String]) -> ExitCode {
    let Some(cmd) = args.first() else {
        eprintln!("usage: crash {} --server URL --work DIR ...", SUBCOMMANDS.join("|"));
        return ExitCode::from(2);
    };
    let opts = match Opts::parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("crash {cmd}: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let result = rt.block_on(async {
        match cmd.as_str() {
            "setup" => setup::run(&opts).await,
            "load" => load::run(&opts).await,
            "checkpoint" => check::save_checkpoint(&opts).await,
            "check" => check::run(&opts).await,
            other => Err(format!("unknown subcommand '{other}'")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash {cmd}: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

// Also compiled into tests/crash.rs, whose own `main` is the entry point there.
#[allow(dead_code)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&args)
}
