//! Key files of the CLI: `NAME` holds the secret key (hex, mode 0600), `NAME.pub` the public key.

use ebl_core::sig::PublicKey;
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};

/// Why a secret key file could not be read or written.
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
    /// The file does not hold a key.
    #[error("{0}: not a 32-byte hex secret key")]
    NotAKey(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |err| KeyFileError::Io { path: path.to_path_buf(), err }
}

/// Writes a secret key file readable by its owner only (it must not exist yet).
pub fn write_secret_key(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io(path))?;
    writeln!(f, "{}", hex::encode(key.to_bytes())).map_err(io(path))
}

/// Reads a secret key file written by [`write_secret_key`].
pub fn read_secret_key(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let bytes = hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
    bytes.map(|b| SigningKey::from_bytes(&b)).ok_or_else(|| KeyFileError::NotAKey(path.to_path_buf()))
}

/// Parses a public key given as 64 hex characters or as a file holding them.
pub fn read_public_key(s: &str) -> Result<PublicKey, Box<dyn std::error::Error>> {
    let text = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        s.to_string()
    } else {
        std::fs::read_to_string(s).map_err(|e| format!("{s}: {e}"))?
    };
    let bytes = hex::decode(text.trim()).map_err(|_| format!("{s}: not hex"))?;
    Ok(PublicKey::from_slice("public key", &bytes)?)
}

/// Makes a new key pair at `path` and `path.pub`; returns the public key.
pub fn keygen(path: &Path) -> Result<PublicKey, Box<dyn std::error::Error>> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    write_secret_key(path, &key)?;
    let public = PublicKey(key.verifying_key().to_bytes());
    let pub_path = path.with_extension(match path.extension() {
        Some(e) => format!("{}.pub", e.to_string_lossy()),
        None => "pub".into(),
    });
    std::fs::write(&pub_path, format!("{}\n", public.to_hex())).map_err(|e| format!("{}: {e}", pub_path.display()))?;
    Ok(public)
}

/// Loads a secret key file.
pub fn load(path: &Path) -> Result<SigningKey, Box<dyn std::error::Error>> {
    Ok(read_secret_key(path)?)
}
