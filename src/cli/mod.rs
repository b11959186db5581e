//! The command lines: `ebl` (from ebl-client, re-exported) and `ebld` ([`server`]).

pub use ebl_client::cli::*;

pub mod cluster;
pub mod server;
