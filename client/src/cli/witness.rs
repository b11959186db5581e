//! `ebl witness`: run a C2SP witness for one or more logs (`POST /add-checkpoint` over HTTPS with
//! `--tls-cert` and `--tls-key`, reloaded when the files change; plain HTTP on loopback, or
//! elsewhere only with `--insecure-plaintext`), and `ebl witness key`: print a witness's verifier
//! key (cosignature/v1 form) for logs and verifiers to configure.

use super::output::Out;
use super::CliResult;
use crate::witness::Witness;
use clap::{Args, Subcommand};
use ebl_core::log::{KeyKind, VerifierKey};
use serde_json::json;
use std::path::PathBuf;

/// `ebl witness` arguments: serve (the default), or a subcommand.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WitnessArgs {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<WitnessCmd>,
    /// Address to listen on, e.g. 127.0.0.1:7380.
    #[arg(long, env = "EBL_WITNESS_LISTEN")]
    pub listen: Option<String>,
    /// The witness's secret key file (from `ebl keygen`).
    #[arg(long, env = "EBL_WITNESS_KEY")]
    pub key: Option<PathBuf>,
    /// The witness's name, e.g. witness.example/w1.
    #[arg(long, env = "EBL_WITNESS_NAME")]
    pub name: Option<String>,
    /// A log's verifier key (`ebl log key`), repeatable: the logs this witness cosigns.
    #[arg(long = "log")]
    pub logs: Vec<String>,
    /// Folder of the witness's state (the last checkpoint cosigned per log).
    #[arg(long, env = "EBL_WITNESS_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first), reloaded when it changes.
    #[arg(long, env = "EBL_WITNESS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "EBL_WITNESS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address other than loopback (behind a proxy that terminates TLS).
    #[arg(long, env = "EBL_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
}

/// Witness subcommands.
#[derive(Subcommand, Debug)]
pub enum WitnessCmd {
    /// Print the witness's verifier key: `<name>+<key id>+<base64(0x04 || key)>`.
    Key {
        /// The witness's secret key file.
        #[arg(long)]
        key: PathBuf,
        /// The witness's name.
        #[arg(long)]
        name: String,
    },
}

/// Runs `ebl witness`.
pub async fn run(args: WitnessArgs, out: &Out) -> CliResult {
    if let Some(WitnessCmd::Key { key, name }) = args.command {
        let vkey = VerifierKey::from_signing_key(&name, KeyKind::CosignatureV1, &super::keys::load(&key)?)?;
        out.exact(json!({ "verifier_key": vkey.to_string() }), &format!("{vkey}\n"));
        return Ok(());
    }
    let need = |what: &str| format!("ebl witness needs --{what}");
    let listen = args.listen.ok_or_else(|| need("listen"))?;
    let key = super::keys::load(&args.key.ok_or_else(|| need("key"))?)?;
    let name = args.name.ok_or_else(|| need("name"))?;
    let state_dir = args.state_dir.ok_or_else(|| need("state-dir"))?;
    let logs = args.logs.iter().map(|k| VerifierKey::parse(k)).collect::<Result<Vec<_>, _>>()?;
    let witness = Witness::open(&name, key, logs, &state_dir)?;
    super::init_tracing("text");
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => {
            let certs = crate::tls::Reloading::new(crate::tls::TlsFiles { cert, key })?;
            certs.watch();
            Some(certs.server_config(None, &[b"http/1.1"])?)
        }
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    crate::tls::plaintext_allowed("ebl witness", addr, tls.is_some(), args.insecure_plaintext)?;
    // The address is the fifth word: scripts read it.
    let scheme = if tls.is_some() { "https" } else { "http" };
    // A reader gone from standard output does not stop the witness.
    let line = format!("ebl witness listening on {addr} as {} ({scheme})\n", witness.verifier_key());
    let _ = std::io::Write::write_all(&mut std::io::stdout(), line.as_bytes());
    crate::witness::serve(listener, witness, tls, super::shutdown_signal()).await?;
    Ok(())
}
