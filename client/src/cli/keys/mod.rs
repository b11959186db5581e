//! Key files of the CLI and the server. `ebl keygen --out NAME` writes `NAME`, the secret key as
//! PKCS#8 PEM (mode 0600; encrypted under a passphrase with `--passphrase-env VAR`), and
//! `NAME.pub`, the public key as SPKI PEM: OpenSSL and Java read both. Every reader also takes the
//! legacy 64-hex files, and refuses a file of the other kind, of another algorithm, a certificate
//! or anything else, naming the file and what was expected. The formats, and how a legacy hex
//! file is told apart, are in docs/operations.md ("Key files"); [`format`] reads the text.
//!
//! This module owns reading and writing key files; it prints nothing but the one warning of
//! [`load`] about a secret key file that others may read.

pub mod format;

use ebl_core::sig::PublicKey;
use ed25519_dalek::SigningKey;
use format::{Content, DecryptError};
use pkcs8::der::zeroize::Zeroizing;
use std::path::{Path, PathBuf};

/// The kind of key a reader expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A secret (signing) key.
    Secret,
    /// A public key.
    Public,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expected::Secret => "an Ed25519 secret key (PKCS#8 PEM \"PRIVATE KEY\", or 64 hex characters)",
            Expected::Public => "an Ed25519 public key (SPKI PEM \"PUBLIC KEY\", or 64 hex characters)",
        })
    }
}

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        err: std::io::Error,
    },
    /// The file holds something else than the key expected.
    #[error("{path}: expected {expected}, found {found}")]
    Wrong {
        /// The file.
        path: PathBuf,
        /// What the reader takes.
        expected: Expected,
        /// What the file holds.
        found: String,
    },
    /// The file is encrypted and no passphrase was given.
    #[error("{0}: the secret key is encrypted: give --passphrase-env VAR, VAR holding its passphrase")]
    NoPassphrase(PathBuf),
    /// `--passphrase-env` names a variable that is not set, or set to nothing.
    #[error("--passphrase-env {0}: the environment variable {0} is not set or is empty")]
    PassphraseUnset(String),
    /// The encrypted file could not be opened with the passphrase given.
    #[error("{path}: cannot open the encrypted secret key: {err}")]
    Decrypt {
        /// The file.
        path: PathBuf,
        /// Why.
        err: DecryptError,
    },
}

impl KeyFileError {
    /// Whether the file is there and readable, but is not what the command needs (a usage
    /// error, exit 2 in `ebl`), rather than a failure to read or write it.
    pub fn is_wrong_file(&self) -> bool {
        !matches!(self, KeyFileError::Io { .. })
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |err| KeyFileError::Io { path: path.to_path_buf(), err }
}

fn wrong(path: &Path, expected: Expected, found: impl ToString) -> KeyFileError {
    KeyFileError::Wrong { path: path.to_path_buf(), expected, found: found.to_string() }
}

/// Writes `text` to a new file (it must not exist yet) with `mode`.
fn create(path: &Path, text: &str, mode: u32) -> Result<(), KeyFileError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))
}

/// Writes a secret key file (unencrypted PKCS#8 PEM) readable by its owner only; it must not
/// exist yet.
pub fn write_secret_key(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    create(path, &format::secret_pem(key), 0o600)
}

/// A passphrase, wiped from memory when dropped.
pub type Passphrase = Zeroizing<Vec<u8>>;

/// Reads a secret key file: PKCS#8 PEM or legacy hex; an encrypted one needs `passphrase`.
pub fn read_secret_key_with(path: &Path, passphrase: Option<&[u8]>) -> Result<SigningKey, KeyFileError> {
    read_secret(path, || Ok(passphrase.map(|p| Zeroizing::new(p.to_vec()))))
}

/// Reads a secret key file, asking `passphrase` for one only if the file is encrypted.
fn read_secret(
    path: &Path,
    passphrase: impl FnOnce() -> Result<Option<Passphrase>, KeyFileError>,
) -> Result<SigningKey, KeyFileError> {
    let text = Zeroizing::new(std::fs::read(path).map_err(io(path))?);
    match format::parse(&text) {
        Content::Secret(k) => Ok(k),
        Content::Encrypted(der) => {
            let pass = passphrase()?.ok_or_else(|| KeyFileError::NoPassphrase(path.to_path_buf()))?;
            format::decrypt(&der, &pass).map_err(|err| KeyFileError::Decrypt { path: path.to_path_buf(), err })
        }
        // Legacy: `NAME.pub` was the public key of a pair, `NAME` its secret.
        Content::Hex(_) if path.extension().is_some_and(|e| e == "pub") => {
            Err(wrong(path, Expected::Secret, "64 hex characters in a file named .pub: a public key"))
        }
        Content::Hex(b) => Ok(SigningKey::from_bytes(&b)),
        Content::Public(_) => Err(wrong(
            path,
            Expected::Secret,
            "a public key (PEM \"PUBLIC KEY\"): give the secret key file, not its .pub",
        )),
        Content::Other(found) => Err(wrong(path, Expected::Secret, found)),
    }
}

/// Reads an unencrypted secret key file (the server's own `ledger.key`, a test's keys).
pub fn read_secret_key(path: &Path) -> Result<SigningKey, KeyFileError> {
    read_secret_key_with(path, None)
}

/// Reads a public key file: SPKI PEM, or legacy hex unless it is the secret key of the
/// `NAME.pub` beside it.
pub fn read_public_key_file(path: &Path) -> Result<PublicKey, KeyFileError> {
    let text = std::fs::read(path).map_err(io(path))?;
    let key = match format::parse(&text) {
        Content::Public(k) => k,
        Content::Hex(b) => {
            let pair = pub_path(path);
            let secret_of_pair = SigningKey::from_bytes(&b).verifying_key().to_bytes();
            if read_public_key_file(&pair).is_ok_and(|p| p.0 == secret_of_pair) {
                let found = format!("a secret key (64 hex characters, the secret of {} beside it)", pair.display());
                return Err(wrong(path, Expected::Public, found));
            }
            PublicKey(b)
        }
        Content::Secret(_) => {
            return Err(wrong(path, Expected::Public, "a secret key (PEM \"PRIVATE KEY\"): give its .pub file"))
        }
        Content::Encrypted(_) => {
            let found = "an encrypted secret key (PEM \"ENCRYPTED PRIVATE KEY\"): give its .pub file";
            return Err(wrong(path, Expected::Public, found));
        }
        Content::Other(found) => return Err(wrong(path, Expected::Public, found)),
    };
    // A key that is no point of the prime-order group signs nothing here; in a hex file it is
    // most likely a secret key that has no .pub beside it.
    key.check_strong("").map_err(|_| wrong(path, Expected::Public, "a key that is not a valid Ed25519 public key"))?;
    Ok(key)
}

/// Parses a public key given as 64 hex characters or as a file ([`read_public_key_file`]).
pub fn read_public_key(s: &str) -> Result<PublicKey, KeyFileError> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes = hex::decode(s).expect("checked hex");
        return Ok(PublicKey(bytes.try_into().expect("32 bytes")));
    }
    read_public_key_file(Path::new(s))
}

/// `NAME.pub` for the secret key file `NAME`.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// Makes a new key pair at `path` (unencrypted) and `path.pub`; returns the public key.
pub fn keygen(path: &Path) -> Result<PublicKey, KeyFileError> {
    keygen_with(path, None)
}

/// Makes a new key pair at `path`, encrypted under `passphrase` if there is one, and `path.pub`;
/// returns the public key. Neither file may exist yet.
pub fn keygen_with(path: &Path, passphrase: Option<&[u8]>) -> Result<PublicKey, KeyFileError> {
    let mut rng = rand::rngs::OsRng;
    let key = SigningKey::generate(&mut rng);
    let public = PublicKey(key.verifying_key().to_bytes());
    let pub_path = pub_path(path);
    if pub_path.exists() {
        return Err(KeyFileError::Io { path: pub_path, err: std::io::ErrorKind::AlreadyExists.into() });
    }
    match passphrase {
        Some(p) => create(path, &format::encrypted_secret_pem(&key, p, &mut rng), 0o600)?,
        None => write_secret_key(path, &key)?,
    }
    create(&pub_path, &format::public_pem(&public), 0o644)?;
    Ok(public)
}

/// The permission bits that let others than the owner read `path`, if any.
pub fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// The passphrase source for encrypted secret keys, set once from `ebl --passphrase-env` before
/// any key is read: a process-wide setting rather than an argument threaded through every command
/// that takes a key file. A `OnceLock` because it is written once at start and only read after.
static PASSPHRASE_ENV: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Secret key files already warned about, so that a file read twice warns once. A `Mutex`
/// because readers may run on any thread; it is held only to insert a path.
static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Sets the environment variable that holds the passphrase of encrypted secret keys
/// (`ebl --passphrase-env VAR`); only the first call counts.
pub fn set_passphrase_env(var: String) {
    let _ = PASSPHRASE_ENV.set(var);
}

/// The passphrase from the variable set with [`set_passphrase_env`], if one was set.
pub fn passphrase() -> Result<Option<Passphrase>, KeyFileError> {
    let Some(var) = PASSPHRASE_ENV.get() else { return Ok(None) };
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => {
            use std::os::unix::ffi::OsStrExt;
            Ok(Some(Zeroizing::new(v.as_bytes().to_vec())))
        }
        _ => Err(KeyFileError::PassphraseUnset(var.clone())),
    }
}

/// Loads a secret key file for the CLI: an encrypted one with the passphrase of
/// `--passphrase-env`; warns once on standard error if others than its owner may read it.
pub fn load(path: &Path) -> Result<SigningKey, Box<dyn std::error::Error>> {
    let key = read_secret(path, passphrase)?;
    if let Some(mode) = readable_by_others(path) {
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if !warned.iter().any(|p| p == path) {
            warned.push(path.to_path_buf());
            eprintln!(
                "ebl: warning: secret key file {} is readable by group or others (mode {mode:o}): chmod 600 it",
                path.display()
            );
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests;
