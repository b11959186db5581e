//! `ebl`: the command-line client. See `ebl --help`.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = ebl_client::cli::Cli::parse();
    match ebl_client::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebl: {}", ebl_client::cli::describe(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}
