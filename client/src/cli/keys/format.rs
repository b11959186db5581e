//! The text of key files, with no file system: what a file's bytes hold, and the PEM forms
//! `ebl keygen` writes. A secret key is PKCS#8 (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` under
//! PBES2), a public key SPKI (`PUBLIC KEY`), both for Ed25519 (OID 1.3.101.112) as OpenSSL writes
//! them; 64 hex characters are the legacy form of either, which the text alone cannot tell apart
//! (see [`Content::Hex`]). Anything else is named as what it is, so a refusal can say so.

use ebl_core::sig::PublicKey;
use ed25519_dalek::SigningKey;
use pkcs8::der::pem::{self, LineEnding};
use pkcs8::der::zeroize::Zeroizing;
use pkcs8::{EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo, SubjectPublicKeyInfoRef};

/// PKCS#8 v1 of an Ed25519 key up to the 32 key bytes (RFC 8410 section 7), as OpenSSL writes it.
const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// SPKI of an Ed25519 key up to the 32 key bytes (RFC 8410 section 4).
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// PBKDF2-HMAC-SHA256 rounds for an encrypted key: OpenSSL's default is 2048, which is too few
/// for a passphrase; this costs a fraction of a second once per command.
const PBKDF2_ROUNDS: u32 = 600_000;

/// What a key file's text holds.
#[derive(Debug)]
pub enum Content {
    /// An Ed25519 secret key (PKCS#8 PEM).
    Secret(SigningKey),
    /// An Ed25519 or other secret key encrypted with a passphrase (PKCS#8 PBES2 PEM): its DER,
    /// for [`decrypt`].
    Encrypted(Vec<u8>),
    /// An Ed25519 public key (SPKI PEM).
    Public(PublicKey),
    /// 64 hex characters: the legacy form of a secret key and of a public key alike.
    Hex([u8; 32]),
    /// Something else, which no reader takes.
    Other(Found),
}

/// What a key file holds that is not an Ed25519 key of either kind, for the refusal's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// An X.509 certificate, a request for one or a CRL.
    Certificate,
    /// A key of another algorithm (RSA, EC, Ed448, ...), secret or public.
    OtherAlgorithm(String),
    /// A PEM block of a kind no key file has.
    OtherPem(String),
    /// A PKCS#8 or SPKI block that does not decode.
    Malformed(String),
    /// Neither PEM nor 64 hex characters.
    NotAKey,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Certificate => write!(f, "a certificate (extract its key with `openssl x509 -pubkey -noout`)"),
            Found::OtherAlgorithm(a) => write!(f, "{a}, not Ed25519"),
            Found::OtherPem(label) => write!(f, "a PEM block of kind {label:?}"),
            Found::Malformed(why) => write!(f, "a malformed key ({why})"),
            Found::NotAKey => write!(f, "neither PEM nor 64 hex characters"),
        }
    }
}

/// Reads a key file's bytes.
pub fn parse(text: &[u8]) -> Content {
    let Some(block) = first_pem_block(text) else {
        let t = String::from_utf8_lossy(text);
        let t = t.trim();
        if t.starts_with("ssh-ed25519 ") || t.starts_with("ssh-rsa ") || t.starts_with("ecdsa-sha2-") {
            return Content::Other(Found::OtherAlgorithm("an OpenSSH public key (convert it to PEM)".into()));
        }
        return match hex::decode(t).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            Some(b) => Content::Hex(b),
            None => Content::Other(Found::NotAKey),
        };
    };
    let (label, der) = match pem::decode_vec(block) {
        Ok(d) => d,
        Err(e) => return Content::Other(Found::Malformed(format!("PEM: {e}"))),
    };
    match label {
        "PRIVATE KEY" => secret(&der),
        "ENCRYPTED PRIVATE KEY" => match EncryptedPrivateKeyInfo::try_from(der.as_slice()) {
            Ok(_) => Content::Encrypted(der),
            Err(e) => Content::Other(Found::Malformed(format!("encrypted PKCS#8: {e}"))),
        },
        "PUBLIC KEY" => public(&der),
        "CERTIFICATE" | "TRUSTED CERTIFICATE" | "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" | "X509 CRL" => {
            Content::Other(Found::Certificate)
        }
        "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => Content::Other(Found::OtherAlgorithm("an RSA key".into())),
        "EC PRIVATE KEY" | "EC PARAMETERS" => Content::Other(Found::OtherAlgorithm("an EC key".into())),
        "DSA PRIVATE KEY" => Content::Other(Found::OtherAlgorithm("a DSA key".into())),
        "OPENSSH PRIVATE KEY" => {
            Content::Other(Found::OtherAlgorithm("an OpenSSH secret key (convert it to PKCS#8 PEM)".into()))
        }
        other => Content::Other(Found::OtherPem(other.to_string())),
    }
}

/// The first PEM block of `text` (files may carry comments or OpenSSL's "Bag Attributes" around
/// it), or `None` when there is none.
fn first_pem_block(text: &[u8]) -> Option<&[u8]> {
    let find = |from: usize, what: &[u8]| text[from..].windows(what.len()).position(|w| w == what).map(|i| i + from);
    let start = find(0, b"-----BEGIN ")?;
    let end = find(start, b"-----END ")?;
    let close = find(end + 9, b"-----")? + 5;
    Some(&text[start..close])
}

/// The name of a key algorithm other than Ed25519, by its OID.
fn algorithm(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => "an RSA key".into(),
        "1.2.840.10045.2.1" => "an EC key".into(),
        "1.2.840.10040.4.1" => "a DSA key".into(),
        "1.3.101.110" => "an X25519 key".into(),
        "1.3.101.111" => "an X448 key".into(),
        "1.3.101.113" => "an Ed448 key".into(),
        other => format!("a key of algorithm {other}"),
    }
}

/// A PKCS#8 `PrivateKeyInfo` (RFC 5208, or RFC 5958 v2 with the public key, which must match).
fn secret(der: &[u8]) -> Content {
    let info = match PrivateKeyInfo::try_from(der) {
        Ok(i) => i,
        Err(e) => return Content::Other(Found::Malformed(format!("PKCS#8: {e}"))),
    };
    if info.algorithm.oid != ED25519 {
        return Content::Other(Found::OtherAlgorithm(algorithm(info.algorithm.oid)));
    }
    // CurvePrivateKey ::= OCTET STRING, inside the privateKey OCTET STRING (RFC 8410 section 7).
    let key = match info.private_key {
        [0x04, 0x20, rest @ ..] => <[u8; 32]>::try_from(rest).ok(),
        _ => None,
    };
    let Some(key) = key.map(|k| SigningKey::from_bytes(&k)) else {
        return Content::Other(Found::Malformed("PKCS#8: the Ed25519 key is not 32 bytes".into()));
    };
    match info.public_key {
        Some(p) if p != key.verifying_key().as_bytes() => {
            Content::Other(Found::Malformed("PKCS#8: its public key is not its secret key's".into()))
        }
        _ => Content::Secret(key),
    }
}

/// An X.509 `SubjectPublicKeyInfo`.
fn public(der: &[u8]) -> Content {
    let info = match SubjectPublicKeyInfoRef::try_from(der) {
        Ok(i) => i,
        Err(e) => return Content::Other(Found::Malformed(format!("SPKI: {e}"))),
    };
    if info.algorithm.oid != ED25519 {
        return Content::Other(Found::OtherAlgorithm(algorithm(info.algorithm.oid)));
    }
    match info.subject_public_key.as_bytes().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
        Some(b) => Content::Public(PublicKey(b)),
        None => Content::Other(Found::Malformed("SPKI: the Ed25519 key is not 32 bytes".into())),
    }
}

/// Why an encrypted key could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The passphrase is wrong (or the file was altered): the two cannot be told apart.
    #[error("wrong passphrase (or a damaged file)")]
    Wrong,
    /// The file is encrypted with a scheme this build does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// What it holds, once decrypted, is not an Ed25519 secret key.
    #[error("it holds {0}")]
    NotEd25519(Found),
}

/// Opens an [`Content::Encrypted`] key with its passphrase.
pub fn decrypt(der: &[u8], passphrase: &[u8]) -> Result<SigningKey, DecryptError> {
    let info = EncryptedPrivateKeyInfo::try_from(der).map_err(|e| DecryptError::Unsupported(e.to_string()))?;
    // A wrong passphrase shows as bad padding, which pkcs5 0.7 reports as `EncryptFailed`; or,
    // one time in 256 or so, as padding that checks out around bytes that are not DER, which
    // the decryption reports as an ASN.1 error (the scheme's parameters were parsed above).
    let plain = info.decrypt(passphrase).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed)
        | pkcs8::Error::Asn1(_) => DecryptError::Wrong,
        e => DecryptError::Unsupported(format!("cannot decrypt: {e}")),
    })?;
    match secret(plain.as_bytes()) {
        Content::Secret(k) => Ok(k),
        // Padding that happens to check out under a wrong passphrase leaves bytes that are not
        // PKCS#8 (one time in 256 or so).
        Content::Other(Found::Malformed(_)) => Err(DecryptError::Wrong),
        Content::Other(found) => Err(DecryptError::NotEd25519(found)),
        _ => Err(DecryptError::Wrong),
    }
}

/// A secret key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub fn secret_pem(key: &SigningKey) -> String {
    let der = pkcs8_der(key);
    pem::encode_string("PRIVATE KEY", LineEnding::LF, &der).expect("PEM of 48 bytes")
}

/// A secret key as PKCS#8 PEM encrypted under `passphrase` (`-----BEGIN ENCRYPTED PRIVATE
/// KEY-----`): PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, as `openssl pkcs8 -topk8 -v2
/// aes-256-cbc` writes it.
pub fn encrypted_secret_pem(key: &SigningKey, passphrase: &[u8], rng: &mut impl rand::RngCore) -> String {
    encrypted_with_rounds(key, passphrase, rng, PBKDF2_ROUNDS)
}

fn encrypted_with_rounds(key: &SigningKey, passphrase: &[u8], rng: &mut impl rand::RngCore, rounds: u32) -> String {
    let (mut salt, mut iv) = ([0u8; 16], [0u8; 16]);
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    let der = pkcs8_der(key);
    let info = PrivateKeyInfo::try_from(der.as_slice()).expect("our own PKCS#8");
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(rounds, &salt, &iv).expect("valid PBES2 parameters");
    let doc = info.encrypt_with_params(params, passphrase).expect("AES-256-CBC of 48 bytes");
    doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF).expect("PEM").to_string()
}

/// A public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn public_pem(key: &PublicKey) -> String {
    let der = [&SPKI_PREFIX[..], &key.0].concat();
    pem::encode_string("PUBLIC KEY", LineEnding::LF, &der).expect("PEM of 44 bytes")
}

fn pkcs8_der(key: &SigningKey) -> Zeroizing<Vec<u8>> {
    Zeroizing::new([&PKCS8_PREFIX[..], key.as_bytes()].concat())
}

#[cfg(test)]
mod tests;
