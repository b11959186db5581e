//! Key files on disk: what keygen writes, what each reader takes, and each wrong-kind refusal.

use super::*;
use crate::cli::error::{class, ExitClass};
use std::os::unix::fs::PermissionsExt;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn expect_wrong(r: Result<impl std::fmt::Debug, KeyFileError>, expected: Expected, says: &str) -> String {
    match r {
        Err(e @ KeyFileError::Wrong { expected: x, .. }) if x == expected => {
            let msg = e.to_string();
            assert!(msg.contains(says), "{msg:?} does not say {says:?}");
            assert_eq!(class(&e), ExitClass::Usage, "a wrong key file is a usage error");
            msg
        }
        other => panic!("expected a refusal of the wrong kind, got {other:?}"),
    }
}

/// A key pair as `ebl keygen` wrote it before PEM: 64 hex characters in NAME and NAME.pub.
fn legacy_pair(dir: &Path, name: &str) -> (PathBuf, SigningKey) {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", hex::encode(key.to_bytes()))).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(pub_path(&path), format!("{}\n", hex::encode(key.verifying_key().to_bytes()))).unwrap();
    (path, key)
}

#[test]
fn keygen_writes_a_private_pkcs8_file_and_an_spki_pub() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cq-bank.key");
    let public = keygen(&path).unwrap();
    let secret_text = std::fs::read_to_string(&path).unwrap();
    assert!(secret_text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{secret_text}");
    assert_eq!(mode(&path), 0o600);
    let pub_text = std::fs::read_to_string(dir.path().join("cq-bank.key.pub")).unwrap();
    assert!(pub_text.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pub_text}");
    let secret = read_secret_key(&path).unwrap();
    assert_eq!(secret.verifying_key().to_bytes(), public.0);
    assert_eq!(read_public_key(dir.path().join("cq-bank.key.pub").to_str().unwrap()).unwrap(), public);
    // Neither file is overwritten.
    assert!(matches!(keygen(&path), Err(KeyFileError::Io { .. })));
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(keygen(&path), Err(KeyFileError::Io { path: p, .. }) if p.ends_with("cq-bank.key.pub")));
}

#[test]
fn a_pem_secret_key_is_refused_where_a_public_key_is_expected_every_time() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..16 {
        let path = dir.path().join(format!("op{i}.key"));
        keygen(&path).unwrap();
        expect_wrong(read_public_key(path.to_str().unwrap()), Expected::Public, "a secret key");
        // Without its .pub beside it too: the file itself says what it is.
        std::fs::remove_file(pub_path(&path)).unwrap();
        let msg = expect_wrong(read_public_key_file(&path), Expected::Public, "a secret key");
        assert!(msg.contains(&format!("op{i}.key")), "names the file: {msg}");
    }
}

#[test]
fn a_public_key_is_refused_where_a_secret_key_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.key");
    keygen(&path).unwrap();
    let msg = expect_wrong(read_secret_key(&pub_path(&path)), Expected::Secret, "a public key");
    assert!(msg.contains("a.key.pub"), "{msg}");
}

#[test]
fn legacy_hex_files_still_read_in_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let (path, key) = legacy_pair(dir.path(), "old.key");
    assert_eq!(read_secret_key(&path).unwrap().to_bytes(), key.to_bytes());
    let public = read_public_key_file(&pub_path(&path)).unwrap();
    assert_eq!(public.0, key.verifying_key().to_bytes());
    assert_eq!(read_public_key(&public.to_hex()).unwrap(), public, "a key typed as 64 hex characters");
}

#[test]
fn legacy_hex_files_are_refused_in_the_wrong_place_every_time() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..16 {
        let (path, _) = legacy_pair(dir.path(), &format!("old{i}.key"));
        expect_wrong(read_public_key_file(&path), Expected::Public, "the secret of");
        expect_wrong(read_secret_key(&pub_path(&path)), Expected::Secret, "a public key");
    }
}

#[test]
fn other_files_are_refused_by_both_readers() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli/keys/testdata");
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("notes.txt");
    std::fs::write(&garbage, "not a key\n").unwrap();
    for (path, says) in [
        (testdata.join("cert.pem"), "a certificate"),
        (testdata.join("rsa.pem"), "an RSA key"),
        (testdata.join("rsa.pub.pem"), "an RSA key"),
        (testdata.join("ec-sec1.pem"), "an EC key"),
        (garbage, "neither PEM nor 64 hex"),
    ] {
        expect_wrong(read_secret_key(&path), Expected::Secret, says);
        expect_wrong(read_public_key_file(&path), Expected::Public, says);
    }
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enc.key");
    let public = keygen_with(&path, Some(b"open sesame")).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert_eq!(mode(&path), 0o600);
    let key = read_secret_key_with(&path, Some(b"open sesame")).unwrap();
    assert_eq!(key.verifying_key().to_bytes(), public.0);
    let none = read_secret_key(&path).unwrap_err();
    assert!(matches!(none, KeyFileError::NoPassphrase(_)) && none.to_string().contains("--passphrase-env"), "{none}");
    assert_eq!(class(&none), ExitClass::Usage);
    let bad = read_secret_key_with(&path, Some(b"open sesame ")).unwrap_err();
    assert!(matches!(bad, KeyFileError::Decrypt { err: DecryptError::Wrong, .. }), "{bad:?}");
    assert!(bad.to_string().contains("wrong passphrase") && bad.to_string().contains("enc.key"), "{bad}");
    // Still a secret key: refused where a public one is expected.
    expect_wrong(read_public_key_file(&path), Expected::Public, "an encrypted secret key");
}

#[test]
fn readable_by_others_sees_group_and_other_bits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.key");
    keygen(&path).unwrap();
    assert_eq!(readable_by_others(&path), None);
    for m in [0o640, 0o604, 0o644] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
        assert_eq!(readable_by_others(&path), Some(m));
    }
}

#[test]
fn a_missing_file_is_an_io_error_not_a_usage_error() {
    let e = read_secret_key(Path::new("/nonexistent/k.key")).unwrap_err();
    assert!(matches!(e, KeyFileError::Io { .. }));
    assert_eq!(class(&e), ExitClass::Other);
}
