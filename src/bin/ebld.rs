//! `ebld`: the ledger server. See `ebld --help`.
use clap::Parser;
use ebl_ledger::cli::server::{run, Args};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    ebl_ledger::cli::server::init_tracing(&args.log_format);
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebld: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
