//! `ebl config`: the configuration file's profile in use (`show`), another made the default
//! (`use`), a profile written (`set-profile`); and [`configured`], which gives the parser the
//! profile's settings as its flags' defaults (the file format: `crate::config`).

use super::output::Out;
use super::{error, keys, CliResult};
use crate::client::Servers;
use clap::Subcommand;
use std::path::PathBuf;

/// `cmd` with the settings of the configuration file's profile as its flags' defaults.
pub fn configured(
    cmd: clap::Command,
    args: &[std::ffi::OsString],
) -> Result<clap::Command, crate::config::ConfigError> {
    let Some(path) = crate::config::ebl_file(args) else { return Ok(cmd) };
    let table = crate::config::read(&path)?;
    match crate::config::profile(&table, args, &path)? {
        Some((_, settings)) => crate::config::apply(cmd, settings, &path),
        None => Ok(cmd),
    }
}

/// `ebl config` subcommands.
#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// The configuration file in use, its profile and that profile's settings.
    #[command(after_help = "Example:\n  ebl config show")]
    Show,
    /// Make a profile the one used when --profile is not given.
    #[command(after_help = "Example:\n  ebl config use bank")]
    Use {
        /// The profile's name (a [profiles.NAME] table of the file).
        name: String,
    },
    /// Write a profile: the servers (--server, EBL_SERVER or the default), their CA and client
    /// certificate if given, and who acts; the file is made if there is none.
    #[command(
        name = "set-profile",
        after_help = "Example:\n  ebl --server https://ledger.example:50051 --ca ca.pem config set-profile bank --as cq-bank --key cq-bank.key --use"
    )]
    SetProfile {
        /// The profile's name.
        name: String,
        /// The party that signs.
        #[arg(long = "as")]
        party: Option<String>,
        /// Its secret key file.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Make it the default profile too.
        #[arg(long = "use")]
        make_default: bool,
    },
}

pub fn run(cmd: ConfigCmd, server: &Servers, out: &Out) -> CliResult {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let ConfigCmd::SetProfile { name, party, key, make_default } = cmd {
        let path = crate::config::ebl_file(&args)
            .or_else(crate::config::default_ebl_file)
            .ok_or_else(|| error::usage("no configuration file: give --config FILE or EBL_CONFIG (no HOME)"))?;
        let absolute = |p: &std::path::Path| std::path::absolute(p).map(|p| p.to_string_lossy().into_owned());
        let mut settings = vec![("server", server.to_string())];
        if let Some(ca) = &server.ca {
            settings.push(("ca", absolute(ca)?));
        }
        if let Some((cert, key)) = &server.identity {
            settings.push(("client-cert", absolute(cert)?));
            settings.push(("client-key", absolute(key)?));
        }
        if let Some(p) = party {
            ebl_core::ids::PartyId::parse("--as", &p)?;
            settings.push(("as", p));
        }
        if let Some(k) = &key {
            keys::load(k)?;
            settings.push(("key", absolute(k)?));
        }
        crate::config::set_profile(&path, &name, &settings)?;
        if make_default {
            crate::config::use_profile(&path, &name)?;
        }
        let v = serde_json::json!({ "file": path, "profile": name, "default": make_default });
        out.emit(v, || format!("profile {name} written to {}", path.display()));
        return Ok(());
    }
    let path = crate::config::ebl_file(&args).ok_or_else(|| {
        error::usage("no configuration file: give --config FILE or EBL_CONFIG, or write ~/.config/ebl/config.toml")
    })?;
    match cmd {
        ConfigCmd::Show => {
            let table = crate::config::read(&path)?;
            let profile = crate::config::profile(&table, &args, &path)?;
            let (name, settings) = match &profile {
                Some((n, s)) => (Some(n.as_str()), serde_json::to_value(s)?),
                None => (None, serde_json::json!({})),
            };
            let v = serde_json::json!({ "file": path, "profile": name, "settings": settings });
            out.emit(v, || {
                let mut s = format!("configuration {}", path.display());
                match &profile {
                    Some((n, t)) => {
                        s += &format!("\nprofile {n}");
                        for (k, v) in t.iter() {
                            s += &format!("\n  {k} = {v}");
                        }
                    }
                    None => s += "\nno profile in use",
                }
                s
            });
        }
        ConfigCmd::Use { name } => {
            crate::config::use_profile(&path, &name)?;
            out.line(&format!("profile {name} is now the default in {}", path.display()));
        }
        ConfigCmd::SetProfile { .. } => unreachable!("written above"),
    }
    Ok(())
}
