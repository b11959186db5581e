//! `ebl`: the command-line client. See `ebl --help`; exit statuses in docs/operations.md.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ebl_client::cli::main().await
}
