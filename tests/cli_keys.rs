//! Key files as a user meets them through the binaries: `ebl keygen` writes PEM that OpenSSL
//! (and Java, where installed) reads; `ebld init --operator-key` refuses a secret key every
//! time; legacy 64-hex files still work; a secret key file others may read warns once; an
//! encrypted key opens with its passphrase only. Each wrong file is exit 2, naming the file.
use crate::common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ebl(args: &[&str]) -> Command {
    let mut c = Command::new(ebl_bin());
    c.args(args).env_remove("EBL_PASSPHRASE_ENV");
    c
}

fn run(mut c: Command) -> Output {
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// A failure with exit status 2 whose message says `says` and names `file`.
fn usage(o: Output, file: &Path, says: &str) -> String {
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&file.display().to_string()), "names {}: {err}", file.display());
    assert!(err.contains(says), "says {says:?}: {err}");
    err
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn keygen(path: &Path) {
    ok(run(ebl(&["keygen", "--out", p(path)])));
}

/// `ebl witness key`: an offline command that reads a secret key file.
fn witness_key(key: &Path) -> Output {
    run(ebl(&["witness", "key", "--name", "w.example/w", "--key", p(key)]))
}

fn pubfile(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.pub", path.display()))
}

/// Whether `openssl` runs here; prints a note when the checks that need it are skipped.
fn openssl() -> bool {
    let there = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !there {
        eprintln!("NOTE: openssl is not installed: the OpenSSL checks of this test are skipped");
    }
    there
}

fn openssl_run(args: &[&str]) -> Output {
    Command::new("openssl").args(args).output().unwrap()
}

fn ebld(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebld"))
        .args(args)
        .env("EBL_DATA_DIR", data)
        .env_remove("EBL_OPERATOR_KEY")
        .output()
        .unwrap()
}

/// A key pair in the legacy format: 64 hex characters in NAME (mode 0600) and NAME.pub.
fn legacy_pair(path: &Path) {
    let k = key();
    std::fs::write(path, format!("{}\n", hex::encode(k.to_bytes()))).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(pubfile(path), format!("{}\n", hex::encode(k.verifying_key().to_bytes()))).unwrap();
}

#[test]
fn keygen_writes_pem_that_openssl_reads() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("cq-bank.key");
    let out: serde_json::Value = serde_json::from_str(&ok(run(ebl(&["--json", "keygen", "--out", p(&k)])))).unwrap();
    assert_eq!(out["public_key_file"], p(&pubfile(&k)));
    let secret = std::fs::read_to_string(&k).unwrap();
    let public = std::fs::read_to_string(pubfile(&k)).unwrap();
    assert!(secret.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{secret}");
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{public}");
    assert_eq!(std::fs::metadata(&k).unwrap().permissions().mode() & 0o777, 0o600);
    if !openssl() {
        return;
    }
    let o = openssl_run(&["pkey", "-in", p(&k), "-noout"]);
    assert!(o.status.success(), "openssl reads the secret key: {}", stderr(&o));
    let o = openssl_run(&["pkey", "-pubin", "-in", p(&pubfile(&k)), "-noout"]);
    assert!(o.status.success(), "openssl reads the public key: {}", stderr(&o));
    // OpenSSL finds the same key type and derives the same public key from the secret.
    let text = String::from_utf8(openssl_run(&["pkey", "-in", p(&k), "-noout", "-text"]).stdout).unwrap();
    assert!(text.starts_with("ED25519 Private-Key"), "{text}");
    assert_eq!(String::from_utf8(openssl_run(&["pkey", "-in", p(&k), "-pubout"]).stdout).unwrap(), public);
    assert_eq!(
        hex::encode(&openssl_run(&["pkey", "-pubin", "-in", p(&pubfile(&k)), "-outform", "DER"]).stdout[12..]),
        out["public_key"].as_str().unwrap()
    );
}

#[test]
fn keys_made_by_openssl_work_in_ebl() {
    if !openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("o.key");
    assert!(openssl_run(&["genpkey", "-algorithm", "ed25519", "-out", p(&k)]).status.success());
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(witness_key(&k));
    let rsa = dir.path().join("rsa.key");
    assert!(openssl_run(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", p(&rsa)])
        .status
        .success());
    usage(witness_key(&rsa), &rsa, "an RSA key, not Ed25519");
    let cert = dir.path().join("cert.pem");
    let o = openssl_run(&["req", "-x509", "-new", "-key", p(&k), "-subj", "/CN=t", "-days", "1", "-out", p(&cert)]);
    assert!(o.status.success(), "{}", stderr(&o));
    usage(witness_key(&cert), &cert, "a certificate");
    let data = dir.path().join("data");
    let o = ebld(&data, &["init", "--origin", "t.example/ebl", "--operator-key", p(&cert)]);
    assert!(!o.status.success() && stderr(&o).contains("a certificate"), "{}", stderr(&o));
}

/// Java reads both files with the JDK alone (PKCS8EncodedKeySpec, X509EncodedKeySpec), and a
/// signature made with the one verifies with the other.
#[test]
fn keygen_writes_pem_that_java_reads() {
    let Ok(v) = Command::new("java").arg("-version").output() else {
        eprintln!("NOTE: java is not installed: the Java check is skipped");
        return;
    };
    assert!(v.status.success());
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("bank.key");
    keygen(&k);
    let src = dir.path().join("ReadKeys.java");
    std::fs::write(&src, JAVA).unwrap();
    let o = Command::new("java").arg(&src).arg(&k).arg(pubfile(&k)).output().unwrap();
    assert!(o.status.success(), "java: {}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "verified");
}

const JAVA: &str = r#"
import java.nio.file.*; import java.security.*; import java.security.spec.*; import java.util.Base64;
public class ReadKeys {
    static byte[] der(String file) throws Exception {
        String pem = Files.readString(Path.of(file));
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }
    public static void main(String[] a) throws Exception {
        KeyFactory kf = KeyFactory.getInstance("Ed25519");
        PrivateKey sk = kf.generatePrivate(new PKCS8EncodedKeySpec(der(a[0])));
        PublicKey pk = kf.generatePublic(new X509EncodedKeySpec(der(a[1])));
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(sk); s.update("bill".getBytes()); byte[] sig = s.sign();
        s.initVerify(pk); s.update("bill".getBytes());
        System.out.println(s.verify(sig) ? "verified" : "NOT VERIFIED");
    }
}
"#;

#[test]
fn ebld_init_refuses_a_secret_key_as_the_operator_key_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for i in 0..8 {
        let k = dir.path().join(format!("operator{i}.key"));
        keygen(&k);
        let legacy = dir.path().join(format!("legacy{i}.key"));
        legacy_pair(&legacy);
        let encrypted = dir.path().join(format!("encrypted{i}.key"));
        let mut c = ebl(&["--passphrase-env", "EBL_TEST_PASS", "keygen", "--out", p(&encrypted)]);
        c.env("EBL_TEST_PASS", "pass");
        ok(run(c));
        for secret in [&k, &legacy, &encrypted] {
            let o = ebld(&data, &["init", "--origin", "t.example/ebl", "--operator-key", p(secret)]);
            let err = stderr(&o);
            assert!(!o.status.success(), "{} accepted as the operator's public key", secret.display());
            assert!(err.contains(p(secret)) && err.contains("expected an Ed25519 public key"), "{err}");
            assert!(err.contains("secret key (PEM") || err.contains("the secret of"), "{err}");
            assert!(!data.join("ledger.key").exists(), "nothing is created");
        }
    }
}

#[test]
fn ebld_writes_its_ledger_key_as_pem_and_says_when_it_cannot_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let (k, data) = (dir.path().join("operator.key"), dir.path().join("data"));
    keygen(&k);
    let o = ebld(&data, &["init", "--origin", "t.example/ebl", "--operator-key", p(&pubfile(&k))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ledger_key = data.join("ledger.key");
    assert!(std::fs::read_to_string(&ledger_key).unwrap().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(std::fs::metadata(&ledger_key).unwrap().permissions().mode() & 0o777, 0o600);
    let backup = |to: &str| ebld(&data, &["backup", "--to", p(&dir.path().join(to))]);
    let o = backup("b1");
    assert!(o.status.success() && !stderr(&o).contains("readable by group or others"), "{}", stderr(&o));
    std::fs::set_permissions(&ledger_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = backup("b2");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("readable by group or others") && stderr(&o).contains(p(&ledger_key)),
        "{}",
        stderr(&o)
    );
    // An encrypted ledger.key: ebld starts unattended and says so.
    std::fs::remove_file(&ledger_key).unwrap();
    let mut c = ebl(&["--passphrase-env", "EBL_TEST_PASS", "keygen", "--out", p(&ledger_key)]);
    c.env("EBL_TEST_PASS", "pass");
    ok(run(c));
    let o = backup("b3");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("the key is encrypted; ebld needs it unencrypted"), "{}", stderr(&o));
}

#[test]
fn legacy_hex_keys_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let (k, data) = (dir.path().join("operator.key"), dir.path().join("data"));
    legacy_pair(&k);
    let o = ebld(&data, &["init", "--origin", "t.example/ebl", "--operator-key", p(&pubfile(&k))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = ok(witness_key(&k));
    assert!(printed.starts_with("w.example/w+"), "{printed}");
    // And each is refused in the other's place.
    usage(witness_key(&pubfile(&k)), &pubfile(&k), "a public key");
    let o = run(ebl(&[
        "--server",
        "http://127.0.0.1:1",
        "operator",
        "add-key",
        "--key",
        p(&k),
        "--party",
        "x",
        "--public-key",
        p(&k),
    ]));
    usage(o, &k, "the secret of");
}

#[test]
fn wrong_key_files_are_usage_errors_in_ebl() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("a.key");
    keygen(&k);
    usage(witness_key(&pubfile(&k)), &pubfile(&k), "expected an Ed25519 secret key");
    let o = run(ebl(&[
        "--server",
        "http://127.0.0.1:1",
        "operator",
        "add-key",
        "--key",
        p(&k),
        "--party",
        "x",
        "--public-key",
        p(&k),
    ]));
    let err = usage(o, &k, "found a secret key");
    assert!(err.contains("expected an Ed25519 public key"), "{err}");
    let garbage = dir.path().join("notes.txt");
    std::fs::write(&garbage, "hello\n").unwrap();
    usage(witness_key(&garbage), &garbage, "neither PEM nor 64 hex characters");
    // --json: the same as one JSON object with the usage class.
    let o = run(ebl(&["--json", "witness", "key", "--name", "w.example/w", "--key", p(&garbage)]));
    assert_eq!(o.status.code(), Some(2));
    let e: serde_json::Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    assert_eq!(e["error"]["class"], "usage");
}

#[test]
fn a_secret_key_file_others_can_read_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("open.key");
    keygen(&k);
    let quiet = witness_key(&k);
    assert!(quiet.status.success() && !stderr(&quiet).contains("warning"), "{}", stderr(&quiet));
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = witness_key(&k);
    assert!(o.status.success(), "a warning, not a refusal: {}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(err.contains(p(&k)) && err.contains("readable by group or others"), "{err}");
    assert_eq!(o.stdout, quiet.stdout, "the same key is used");
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("enc.key");
    let pass = "correct horse battery";
    let mut c = ebl(&["--passphrase-env", "EBL_TEST_PASS", "keygen", "--out", p(&k)]);
    ok(run({
        c.env("EBL_TEST_PASS", pass);
        c
    }));
    assert!(std::fs::read_to_string(&k).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    let with = |var_value: Option<&str>| {
        let mut c =
            ebl(&["--passphrase-env", "EBL_TEST_PASS", "witness", "key", "--name", "w.example/w", "--key", p(&k)]);
        match var_value {
            Some(v) => c.env("EBL_TEST_PASS", v),
            None => c.env_remove("EBL_TEST_PASS"),
        };
        run(c)
    };
    let good = ok(with(Some(pass)));
    usage(with(Some("correct horse")), &k, "wrong passphrase");
    let o = with(None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("EBL_TEST_PASS is not set"), "{}", stderr(&o));
    usage(witness_key(&k), &k, "--passphrase-env");
    // The variable may also be named in the environment.
    let mut c = ebl(&["witness", "key", "--name", "w.example/w", "--key", p(&k)]);
    c.env("EBL_PASSPHRASE_ENV", "EBL_TEST_PASS").env("EBL_TEST_PASS", pass);
    assert_eq!(ok(c.output().unwrap()), good);
    if !openssl() {
        return;
    }
    // OpenSSL opens it with the same passphrase, and finds the same key.
    let plain = dir.path().join("plain.key");
    let o = openssl_run(&["pkey", "-in", p(&k), "-passin", &format!("pass:{pass}"), "-out", p(&plain)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!openssl_run(&["pkey", "-in", p(&k), "-passin", "pass:nope", "-noout"]).status.success());
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(ok(witness_key(&plain)), good);
    // And ebl opens a key OpenSSL encrypted.
    let by_openssl = dir.path().join("by-openssl.key");
    let o = openssl_run(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        p(&plain),
        "-passout",
        "pass:other words",
        "-out",
        p(&by_openssl),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::set_permissions(&by_openssl, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c =
        ebl(&["--passphrase-env", "EBL_TEST_PASS", "witness", "key", "--name", "w.example/w", "--key", p(&by_openssl)]);
    c.env("EBL_TEST_PASS", "other words");
    assert_eq!(ok(c.output().unwrap()), good);
}

/// The "Key files" section of docs/operations.md.
fn documented() -> String {
    let doc = std::fs::read_to_string(format!("{}/docs/operations.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let section = &doc[doc.find("\n## Key files\n").expect("a 'Key files' section")..];
    section[..section[4..].find("\n## ").unwrap() + 4].to_string()
}

#[test]
fn the_documented_key_pair_is_one_and_reads_as_documented() {
    use ebl_ledger::cli::keys::format::{parse, Content};
    let doc = documented();
    let block = &doc[doc.find("```text\n-----BEGIN PRIVATE KEY-----").expect("the example pair") + 8..];
    let block = &block[..block.find("```").unwrap()];
    let (secret, public) = block.split_at(block.find("-----BEGIN PUBLIC KEY-----").unwrap());
    let (Content::Secret(s), Content::Public(p)) = (parse(secret.as_bytes()), parse(public.as_bytes())) else {
        panic!("the example is not a secret and a public key:\n{block}")
    };
    assert_eq!(s.verifying_key().to_bytes(), p.0, "the two halves of one pair");
}

#[test]
fn the_documented_refusal_is_the_one_ebl_prints() {
    let doc = documented();
    let line = doc.lines().find(|l| l.starts_with("ebl: operator.key: expected")).expect("the example refusal");
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("operator.key");
    keygen(&k);
    let o = run(ebl(&[
        "--server",
        "http://127.0.0.1:1",
        "operator",
        "add-key",
        "--key",
        p(&k),
        "--party",
        "x",
        "--public-key",
        p(&k),
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end(), line.replace("operator.key", p(&k)));
}
