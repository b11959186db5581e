//! `ebl`: the command-line client. See `ebl --help`.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = ebl_ledger::cli::Cli::parse();
    match ebl_ledger::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebl: {}", ebl_ledger::cli::describe(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}
