//! `ebld`: the ledger server. See `ebld --help`.
use clap::{CommandFactory, FromArgMatches};
use ebl_ledger::cli::server::{run, Args};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `--config FILE` (or EBL_CONFIG): its settings are the flags' defaults.
    let mut cmd = Args::command();
    if let Some(path) = ebl_client::config::flag_or_env(&argv, "config", "EBL_CONFIG") {
        let path = std::path::PathBuf::from(path);
        match ebl_client::config::read(&path).and_then(|t| ebl_client::config::apply(cmd, &t, &path)) {
            Ok(c) => cmd = c,
            Err(e) => {
                eprintln!("ebld: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let args = match Args::from_arg_matches(&cmd.get_matches_from(&argv)) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    ebl_ledger::cli::server::init_tracing(&args.log_format);
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebld: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
