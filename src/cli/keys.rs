//! Key files of the CLI: `NAME` holds the secret key (hex, mode 0600), `NAME.pub` the public key.

use crate::server::{read_secret_key, write_secret_key};
use ebl_core::sig::PublicKey;
use ed25519_dalek::SigningKey;
use std::path::Path;

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
