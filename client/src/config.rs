//! Configuration files, TOML, for `ebld` and `ebl`: each key is the long name of a flag and its
//! value becomes that flag's default, so a flag on the command line or an `EBL_*` variable
//! still wins over the file, and the file over the built-in default. A key that names no flag
//! is refused, naming the file and the key. A relative path, for a flag that takes one, is
//! relative to the file's folder. `ebl` keeps profiles in its file, as kubectl keeps contexts:
//!
//! ```toml
//! profile = "bank"                      # used when neither --profile nor EBL_PROFILE is given
//! [profiles.bank]
//! server = "https://ledger.example:50051"
//! ca = "ca.pem"
//! as = "cq-bank"
//! key = "cq-bank.key"
//! ```

use clap::Command;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration {}: {what}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

fn bad(path: &Path, what: impl Into<String>) -> ConfigError {
    ConfigError { path: path.to_path_buf(), what: what.into() }
}

/// The value of `--<flag> VALUE` or `--<flag>=VALUE` in `args`, else of the variable `env`.
pub fn flag_or_env(args: &[OsString], flag: &str, env: &str) -> Option<OsString> {
    let long = format!("--{flag}");
    let with_eq = format!("--{flag}=");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a.to_str() == Some(long.as_str()) {
            return it.next().cloned();
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix(with_eq.as_str())) {
            return Some(v.into());
        }
    }
    std::env::var_os(env)
}

/// Reads the TOML file at `path`.
pub fn read(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    text.parse::<toml::Table>().map_err(|e| bad(path, format!("not TOML: {e}")))
}

/// `cmd` with the settings of `table` (from the file `path`) as the defaults of its flags,
/// looked for in `cmd` and in every subcommand.
pub fn apply(mut cmd: Command, table: &toml::Table, path: &Path) -> Result<Command, ConfigError> {
    let base = path.parent().unwrap_or(Path::new("."));
    for (key, value) in table {
        let values = match value {
            toml::Value::Array(items) => items.iter().map(|v| scalar(v, path, key)).collect::<Result<Vec<_>, _>>()?,
            v => vec![scalar(v, path, key)?],
        };
        let mut found = false;
        cmd = set_default(cmd, key, &values, base, &mut found);
        if !found {
            let mut known = Vec::new();
            long_names(&cmd, &mut known);
            known.sort();
            known.dedup();
            return Err(bad(
                path,
                format!("'{key}' is not a setting; the settings are the flags: {}", known.join(", ")),
            ));
        }
    }
    Ok(cmd)
}

/// A TOML value as a flag's text.
fn scalar(v: &toml::Value, path: &Path, key: &str) -> Result<String, ConfigError> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(bad(path, format!("'{key}': a string, number or boolean, or a list of them"))),
    }
}

fn set_default(mut cmd: Command, key: &str, values: &[String], base: &Path, found: &mut bool) -> Command {
    let ids: Vec<clap::Id> =
        cmd.get_arguments().filter(|a| a.get_long() == Some(key)).map(|a| a.get_id().clone()).collect();
    for id in ids {
        *found = true;
        cmd = cmd.mut_arg(id, |a| {
            let is_path = a.get_value_parser().type_id() == std::any::TypeId::of::<PathBuf>();
            let values: Vec<&'static str> = values
                .iter()
                .map(|v| if is_path { base.join(v).to_string_lossy().into_owned() } else { v.clone() })
                // Defaults live as long as the process; a configuration is read once.
                .map(|v| &*Box::leak(v.into_boxed_str()))
                .collect();
            // A flag that was required is not once the file gives it.
            a.default_values(values).required(false)
        });
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, |s| set_default(s, key, values, base, found));
    }
    cmd
}

fn long_names(cmd: &Command, out: &mut Vec<String>) {
    out.extend(cmd.get_arguments().filter_map(|a| a.get_long()).map(str::to_string));
    for s in cmd.get_subcommands() {
        long_names(s, out);
    }
}

/// `ebl`'s file: `--config`, else `EBL_CONFIG`, else [`default_ebl_file`] if it exists.
pub fn ebl_file(args: &[OsString]) -> Option<PathBuf> {
    if let Some(p) = flag_or_env(args, "config", "EBL_CONFIG") {
        return Some(p.into());
    }
    default_ebl_file().filter(|p| p.exists())
}

/// The profile of `ebl`'s file to use: `--profile`, else `EBL_PROFILE`, else the file's
/// `profile`; its settings, and its name (`None` if the file names none).
pub fn profile<'a>(
    table: &'a toml::Table,
    args: &[OsString],
    path: &Path,
) -> Result<Option<(String, &'a toml::Table)>, ConfigError> {
    let asked = flag_or_env(args, "profile", "EBL_PROFILE").map(|p| p.to_string_lossy().into_owned());
    let name = match (asked, table.get("profile")) {
        (Some(n), _) => n,
        (None, Some(toml::Value::String(n))) => n.clone(),
        (None, Some(_)) => return Err(bad(path, "'profile' is the name of a profile (a string)")),
        (None, None) => return Ok(None),
    };
    let profiles = match table.get("profiles") {
        Some(toml::Value::Table(t)) => t,
        _ => return Err(bad(path, format!("profile '{name}' asked for, but there is no [profiles.{name}]"))),
    };
    match profiles.get(&name) {
        Some(toml::Value::Table(t)) => Ok(Some((name, t))),
        _ => {
            let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
            Err(bad(path, format!("no profile '{name}' (profiles: {})", known.join(", "))))
        }
    }
}

/// Where `ebl` keeps its file when none is named: `$XDG_CONFIG_HOME/ebl/config.toml`, or
/// `~/.config/ebl/config.toml`.
pub fn default_ebl_file() -> Option<PathBuf> {
    let home = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(home.join("ebl").join("config.toml"))
}

/// Writes `settings` into profile `name` of the file at `path` (made if missing), keeping the
/// rest of the file and the profile's other settings as they are. A relative path setting is
/// written as an absolute one, so that the file works from any folder.
pub fn set_profile(path: &Path, name: &str, settings: &[(&str, String)]) -> Result<(), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(bad(path, e.to_string())),
    };
    let mut doc = text.parse::<toml_edit::DocumentMut>().map_err(|e| bad(path, format!("not TOML: {e}")))?;
    let profiles = doc.entry("profiles").or_insert(toml_edit::table());
    let profiles = profiles.as_table_mut().ok_or_else(|| bad(path, "'profiles' is not a table"))?;
    profiles.set_implicit(true);
    let profile = profiles.entry(name).or_insert(toml_edit::table());
    let profile = profile.as_table_mut().ok_or_else(|| bad(path, format!("'profiles.{name}' is not a table")))?;
    for (k, v) in settings {
        profile[*k] = toml_edit::value(v.as_str());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| bad(path, e.to_string()))?;
    }
    crate::file::write_atomic(path, &doc.to_string()).map_err(|e| bad(path, e.to_string()))
}

/// Makes `name` the profile `ebl` uses by default, keeping the rest of the file as it is.
pub fn use_profile(path: &Path, name: &str) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let mut doc = text.parse::<toml_edit::DocumentMut>().map_err(|e| bad(path, format!("not TOML: {e}")))?;
    let exists = doc.get("profiles").and_then(|p| p.get(name)).is_some_and(|t| t.is_table_like());
    if !exists {
        return Err(bad(path, format!("no profile '{name}' to use ([profiles.{name}])")));
    }
    doc["profile"] = toml_edit::value(name);
    crate::file::write_atomic(path, &doc.to_string()).map_err(|e| bad(path, e.to_string()))
}
