//! The key file forms against RFC 8410's examples and OpenSSL's output (testdata/make.sh).

use super::*;

/// RFC 8410 section 10.3: the private key, PKCS#8 v1.
const RFC_SECRET: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
/// RFC 8410 section 10.3: the same key as PKCS#8 v2, with an attribute and the public key.
const RFC_SECRET_V2: &str = "-----BEGIN PRIVATE KEY-----
MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB
Z9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PRIVATE KEY-----
";
/// RFC 8410 section 10.1: its public key.
const RFC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";
const RFC_SECRET_HEX: &str = "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842";
const RFC_PUBLIC_HEX: &str = "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1";

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/src/cli/keys/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn secret_of(c: Content) -> SigningKey {
    match c {
        Content::Secret(k) => k,
        other => panic!("expected a secret key, got {other:?}"),
    }
}

fn other_of(c: Content) -> Found {
    match c {
        Content::Other(f) => f,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_rfc_8410_secret_key_reads_and_is_written_byte_for_byte() {
    let k = secret_of(parse(RFC_SECRET.as_bytes()));
    assert_eq!(hex::encode(k.to_bytes()), RFC_SECRET_HEX);
    assert_eq!(hex::encode(k.verifying_key().to_bytes()), RFC_PUBLIC_HEX);
    assert_eq!(secret_pem(&k), RFC_SECRET);
}

#[test]
fn the_rfc_8410_public_key_reads_and_is_written_byte_for_byte() {
    let Content::Public(p) = parse(RFC_PUBLIC.as_bytes()) else { panic!("not a public key") };
    assert_eq!(p.to_hex(), RFC_PUBLIC_HEX);
    assert_eq!(public_pem(&p), RFC_PUBLIC);
}

#[test]
fn a_version_2_secret_key_with_its_public_key_reads() {
    assert_eq!(hex::encode(secret_of(parse(RFC_SECRET_V2.as_bytes())).to_bytes()), RFC_SECRET_HEX);
}

#[test]
fn a_version_2_secret_key_with_another_public_key_is_refused() {
    // The last bytes of the public key changed: "ZuE=" -> "ZuA=".
    let bad = RFC_SECRET_V2.replace("ZuE=", "ZuA=");
    assert!(matches!(other_of(parse(bad.as_bytes())), Found::Malformed(m) if m.contains("public key")));
}

#[test]
fn openssls_ed25519_files_read() {
    let k = secret_of(parse(&testdata("openssl-ed25519.pem")));
    let Content::Public(p) = parse(&testdata("openssl-ed25519.pub.pem")) else { panic!("not a public key") };
    assert_eq!(p.0, k.verifying_key().to_bytes());
    // And we write the same bytes as OpenSSL for the same key.
    assert_eq!(secret_pem(&k).as_bytes(), testdata("openssl-ed25519.pem"));
    assert_eq!(public_pem(&p).as_bytes(), testdata("openssl-ed25519.pub.pem"));
}

#[test]
fn an_openssl_encrypted_key_opens_with_its_passphrase_only() {
    let Content::Encrypted(der) = parse(&testdata("openssl-ed25519-encrypted.pem")) else { panic!("not encrypted") };
    let plain = secret_of(parse(&testdata("openssl-ed25519.pem")));
    assert_eq!(decrypt(&der, b"correct horse").unwrap().to_bytes(), plain.to_bytes());
    assert_eq!(decrypt(&der, b"correct horse!").unwrap_err(), DecryptError::Wrong);
    assert_eq!(decrypt(&der, b"").unwrap_err(), DecryptError::Wrong);
}

#[test]
fn our_encrypted_key_round_trips_and_says_pbes2() {
    let k = secret_of(parse(RFC_SECRET.as_bytes()));
    let pem = encrypted_secret_pem(&k, b"s3cret", &mut rand::rngs::OsRng);
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), "{pem}");
    assert!(!pem.contains("MC4CAQAwBQYDK2Vw"), "the key is not in the clear");
    let Content::Encrypted(der) = parse(pem.as_bytes()) else { panic!("not encrypted") };
    let info = EncryptedPrivateKeyInfo::try_from(der.as_slice()).unwrap();
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = info.encryption_algorithm else { panic!("not PBES2") };
    assert!(params.kdf.is_pbkdf2() && params.encryption.oid().to_string() == "2.16.840.1.101.3.4.1.42", "AES-256-CBC");
    assert_eq!(decrypt(&der, b"s3cret").unwrap().to_bytes(), k.to_bytes());
    assert_eq!(decrypt(&der, b"s3cre").unwrap_err(), DecryptError::Wrong);
}

#[test]
fn every_wrong_passphrase_is_said_to_be_wrong() {
    // Also when its padding happens to check out (about one time in 256): never "unsupported".
    // One PBKDF2 round, so that thousands of tries take no time; the decryption is the same.
    let k = secret_of(parse(RFC_SECRET.as_bytes()));
    let pem = super::encrypted_with_rounds(&k, b"s3cret", &mut rand::rngs::OsRng, 1);
    let Content::Encrypted(der) = parse(pem.as_bytes()) else { panic!("not encrypted") };
    assert_eq!(decrypt(&der, b"s3cret").unwrap().to_bytes(), k.to_bytes());
    for n in 0..4000u32 {
        let wrong = format!("wrong-{n}");
        assert_eq!(decrypt(&der, wrong.as_bytes()).unwrap_err(), DecryptError::Wrong, "{wrong}");
    }
}

#[test]
fn legacy_hex_reads_as_either_kind() {
    for text in [format!("{RFC_SECRET_HEX}\n"), format!("  {}\r\n", RFC_SECRET_HEX.to_uppercase())] {
        assert!(matches!(parse(text.as_bytes()), Content::Hex(b) if hex::encode(b) == RFC_SECRET_HEX), "{text:?}");
    }
}

#[test]
fn keys_of_other_algorithms_are_named() {
    for (file, what) in [
        ("rsa.pem", "an RSA key"),
        ("rsa.pub.pem", "an RSA key"),
        ("ec.pem", "an EC key"),
        ("ec-sec1.pem", "an EC key"),
        ("x25519.pem", "an X25519 key"),
    ] {
        assert_eq!(other_of(parse(&testdata(file))), Found::OtherAlgorithm(what.into()), "{file}");
    }
    let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm/RAlphM3+hUG6wWfcO5bIUIaqMLa2ywxcOK1wMWbh me@host";
    assert!(matches!(other_of(parse(ssh.as_bytes())), Found::OtherAlgorithm(m) if m.contains("OpenSSH")));
}

#[test]
fn a_certificate_is_named() {
    assert_eq!(other_of(parse(&testdata("cert.pem"))), Found::Certificate);
}

#[test]
fn garbage_is_not_a_key() {
    for text in ["", "hello", &RFC_SECRET_HEX[1..], &format!("{RFC_SECRET_HEX}00"), "zz".repeat(32).as_str()] {
        assert_eq!(other_of(parse(text.as_bytes())), Found::NotAKey, "{text:?}");
    }
    let other_label = "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n";
    assert_eq!(other_of(parse(other_label.as_bytes())), Found::OtherPem("FOO".into()));
    let broken = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n";
    assert!(matches!(other_of(parse(broken.as_bytes())), Found::Malformed(_)));
}

#[test]
fn text_around_the_pem_block_is_ignored() {
    let with_attrs =
        format!("Bag Attributes\n    localKeyID: 01\nKey Attributes: <No Attributes>\n{RFC_SECRET}trailing\n");
    assert_eq!(hex::encode(secret_of(parse(with_attrs.as_bytes())).to_bytes()), RFC_SECRET_HEX);
}
