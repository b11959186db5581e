//! The `ebld` command line: configuration (flags and `EBL_*` variables), `init`, and serving
//! until SIGINT or SIGTERM.

use super::keys::read_public_key;
use crate::checkpoint::push::WitnessTarget;
use crate::net::NetLimits;
use crate::server::{init, Ledger};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The eBL ledger server.
#[derive(Parser, Debug)]
#[command(
    name = "ebld",
    version,
    about = "The eBL ledger server: signed, hash-chained bills of lading over gRPC on RocksDB"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "EBL_LISTEN", default_value = "127.0.0.1:50051", global = true)]
    pub listen: String,
    /// Data folder (the RocksDB database and the ledger's key).
    #[arg(long, env = "EBL_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// The operator's public key: 64 hex characters, or a file holding them (e.g. operator.key.pub).
    #[arg(long, env = "EBL_OPERATOR_KEY", global = true)]
    pub operator_key: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "EBL_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
    /// A witness to push checkpoints to, `URL=VERIFIER_KEY` (repeatable; in `EBL_WITNESSES`,
    /// comma separated), e.g. `http://127.0.0.1:7380=witness.example/w1+1234abcd+BA...`.
    #[arg(long = "witness", env = "EBL_WITNESSES", value_delimiter = ',', global = true)]
    pub witnesses: Vec<String>,
    /// Most open client connections (also bounded by the open-file limit, after a reserve for
    /// the store); when all are taken, the longest-idle one is closed to make room.
    #[arg(long, env = "EBL_MAX_CONNECTIONS", default_value_t = NetLimits::default().max_connections, global = true)]
    pub max_connections: usize,
    /// Seconds a new connection may stay silent before it is closed.
    #[arg(long, env = "EBL_HANDSHAKE_TIMEOUT", default_value_t = NetLimits::default().handshake_timeout.as_secs_f64(), global = true)]
    pub handshake_timeout: f64,
    /// Seconds a connection may go without a call before it is closed.
    #[arg(long, env = "EBL_IDLE_TIMEOUT", default_value_t = NetLimits::default().idle_timeout.as_secs_f64(), global = true)]
    pub idle_timeout: f64,
    /// Most calls in flight on one connection; more are refused (RESOURCE_EXHAUSTED).
    #[arg(long, env = "EBL_MAX_CALLS_PER_CONNECTION", default_value_t = NetLimits::default().max_calls_per_connection, global = true)]
    pub max_calls_per_connection: usize,
    /// Bytes the data folder's disk must keep free: under it, writes are refused (UNAVAILABLE
    /// DISK_RESERVE) until space returns; reads go on.
    #[arg(long, env = "EBL_DISK_RESERVE", default_value_t = crate::store::space::DEFAULT_DISK_RESERVE, global = true)]
    pub disk_reserve: u64,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new ledger in the data folder (database, origin, operator key, ledger key).
    Init {
        /// The ledger's origin, bound into every signed record.
        #[arg(long, env = "EBL_ORIGIN", default_value = "ledger.example/ebl")]
        origin: String,
    },
    /// Serve gRPC (the default).
    Serve,
}

/// Sets up structured logging (`RUST_LOG` filters, default `info`).
pub fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs `ebld` with parsed arguments.
pub async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let operator = args.operator_key.as_deref().map(read_public_key).transpose()?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Init { origin } => {
            let operator = operator.ok_or("init needs --operator-key (or EBL_OPERATOR_KEY)")?;
            let key = init(&args.data_dir, &origin, operator)?;
            println!("initialised ledger '{origin}' in {}", args.data_dir.display());
            println!("ledger public key: {}", key.to_hex());
            Ok(())
        }
        Command::Serve => {
            let witnesses = args
                .witnesses
                .iter()
                .filter(|w| !w.trim().is_empty())
                .map(|w| WitnessTarget::parse(w.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            let seconds = |what: &str, s: f64| {
                std::time::Duration::try_from_secs_f64(s)
                    .map_err(|_| format!("--{what}: {s} is not a number of seconds"))
            };
            let limits = NetLimits {
                max_connections: args.max_connections,
                handshake_timeout: seconds("handshake-timeout", args.handshake_timeout)?,
                idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
                max_calls_per_connection: args.max_calls_per_connection,
            };
            let ledger = Ledger::open(&args.data_dir, operator)?
                .with_witnesses(witnesses)
                .with_limits(limits)
                .with_disk_reserve(args.disk_reserve);
            let listener = tokio::net::TcpListener::bind(&args.listen).await?;
            println!("ebld listening on {} (origin '{}')", listener.local_addr()?, ledger.origin());
            ledger.serve(listener, shutdown_signal()).await?;
            Ok(())
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutdown signal received");
}
