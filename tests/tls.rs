//! TLS at the edge, with certificates the tests make: a client that trusts the ledger's CA gets
//! in; an expired certificate, another CA and another host name are each refused with a clear
//! message; https:// to a plaintext server and http:// to a TLS server are errors, never a
//! fallback; a certificate replaced on disk is served to new connections with no restart; a
//! certificate that does not load stops the start; and plaintext on an address other than
//! loopback needs asking for.
use crate::common;

use common::*;
use ebl_ledger::checkpoint::push::WitnessTarget;
use ebl_ledger::client::{self as client, Client, ConnectError, Identity, Server};
use ebl_ledger::net::tls::TlsFiles;
use ebl_ledger::server::{init, Ledger};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;

/// A test CA.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca { issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    /// Writes the CA's certificate to `dir/<file>` and returns its path.
    fn write(&self, dir: &Path, file: &str) -> PathBuf {
        let path = dir.join(file);
        std::fs::write(&path, self.issuer.pem()).unwrap();
        path
    }

    /// A client certificate whose SAN URIs are `uris` (e.g. `urn:ebl:party:cq-bank`), written
    /// as `dir/<stem>.crt` and `dir/<stem>.key`.
    fn client(&self, dir: &Path, stem: &str, uris: &[&str]) -> (PathBuf, PathBuf) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, stem);
        params.subject_alt_names =
            uris.iter().map(|u| rcgen::SanType::URI(rcgen::string::Ia5String::try_from(*u).unwrap())).collect();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (c, k) = (dir.join(format!("{stem}.crt")), dir.join(format!("{stem}.key")));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }

    /// A server certificate for `names`, valid from `from` to `until` days from now, written as
    /// `dir/<stem>.crt` and `dir/<stem>.key`.
    fn server(&self, dir: &Path, stem: &str, names: &[&str], from: i64, until: i64) -> TlsFiles {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.not_before = OffsetDateTime::now_utc() + time::Duration::days(from);
        params.not_after = OffsetDateTime::now_utc() + time::Duration::days(until);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let files = TlsFiles { cert: dir.join(format!("{stem}.crt")), key: dir.join(format!("{stem}.key")) };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }
}

/// A ledger serving `tls` (plaintext if `None`) on 127.0.0.1, and its address.
async fn serve(tls: Option<TlsFiles>) -> (String, tempfile::TempDir) {
    let (addr, dir, _, _) = serve_mutual(tls, None).await;
    (addr, dir)
}

/// A ledger serving `tls`, requiring client certificates from `client_ca` if given; its address,
/// data folder, operator and store.
async fn serve_mutual(
    tls: Option<TlsFiles>,
    client_ca: Option<&Path>,
) -> (String, tempfile::TempDir, Identity, std::sync::Arc<ebl_ledger::store::Store>) {
    let dir = tempfile::tempdir().unwrap();
    let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: key() };
    init(dir.path(), ORIGIN, ebl_core::sig::PublicKey(operator.key.verifying_key().to_bytes())).unwrap();
    let mut ledger = Ledger::open(dir.path(), None).unwrap();
    if let Some(files) = tls {
        ledger = ledger.with_tls(files).unwrap();
    }
    if let Some(ca) = client_ca {
        ledger = ledger.with_client_ca(ca).unwrap();
    }
    let store = ledger.store();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { ledger.serve(listener, std::future::pending()).await.unwrap() });
    (addr, dir, operator, store)
}

async fn connect(url: String, ca: Option<PathBuf>) -> Result<Client, String> {
    Client::connect_to(&Server { url, ca, identity: None }).await.map_err(|e: ConnectError| e.to_string())
}

/// Why connecting to `url` trusting `ca` fails (it must).
async fn refused(url: String, ca: Option<PathBuf>) -> String {
    match connect(url, ca).await {
        Ok(_) => panic!("connected"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trusts_the_ledgers_ca_gets_in_and_others_are_refused_clearly() {
    let certs = tempfile::tempdir().unwrap();
    let ca = Ca::new("eBL test CA");
    let ca_file = ca.write(certs.path(), "ca.pem");
    let files = ca.server(certs.path(), "ledger", &["127.0.0.1", "localhost"], -1, 30);
    let (addr, _data) = serve(Some(files)).await;

    // Trusting the CA: in, and the ledger answers.
    let c = connect(format!("https://{addr}"), Some(ca_file.clone())).await.unwrap();
    assert_eq!(c.origin(), ORIGIN);

    // Another CA.
    let other = Ca::new("another CA").write(certs.path(), "other.pem");
    let e = refused(format!("https://{addr}"), Some(other)).await;
    assert!(e.contains(&format!("cannot reach the ledger at https://{addr}")) && e.contains("UnknownIssuer"), "{e}");
    // The system's roots do not know a private CA either.
    let e = refused(format!("https://{addr}"), None).await;
    assert!(e.contains("UnknownIssuer"), "{e}");

    // http:// to a TLS server: an error, not plaintext.
    let e = refused(format!("http://{addr}"), None).await;
    assert!(
        e.contains(&format!("cannot reach the ledger at http://{addr}"))
            && e.contains("if the server uses TLS, use https://"),
        "{e}"
    );
    // A CA with a plaintext URL is a mistake, said as such; so is another scheme.
    let e = refused(format!("http://{addr}"), Some(ca_file.clone())).await;
    assert!(e.contains("a CA bundle or client certificate was given for a plaintext URL: use https://"), "{e}");
    let e = refused(addr.clone(), None).await;
    assert!(e.contains("must start with http:// (plaintext) or https:// (TLS)"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificates_other_hosts_and_plaintext_servers_are_each_named() {
    let certs = tempfile::tempdir().unwrap();
    let ca = Ca::new("eBL test CA");
    let ca_file = ca.write(certs.path(), "ca.pem");

    let expired = ca.server(certs.path(), "expired", &["127.0.0.1"], -30, -1);
    let (addr, _d1) = serve(Some(expired)).await;
    let e = refused(format!("https://{addr}"), Some(ca_file.clone())).await;
    assert!(e.contains("certificate expired"), "{e}");

    let elsewhere = ca.server(certs.path(), "elsewhere", &["ledger.other.example"], -1, 30);
    let (addr, _d2) = serve(Some(elsewhere)).await;
    let e = refused(format!("https://{addr}"), Some(ca_file.clone())).await;
    assert!(e.contains("not valid for name") || e.contains("NotValidForName"), "{e}");

    let (addr, _d3) = serve(None).await;
    let e = refused(format!("https://{addr}"), Some(ca_file)).await;
    assert!(e.contains("the server does not speak TLS here"), "{e}");
    // And plaintext to a plaintext server still works, on loopback.
    assert_eq!(connect(format!("http://{addr}"), None).await.unwrap().origin(), ORIGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_certificate_is_served_to_new_connections_without_a_restart() {
    let certs = tempfile::tempdir().unwrap();
    let (first, second) = (Ca::new("first CA"), Ca::new("second CA"));
    let (first_file, second_file) = (first.write(certs.path(), "first.pem"), second.write(certs.path(), "second.pem"));
    let files = first.server(certs.path(), "ledger", &["127.0.0.1"], -1, 30);
    let (addr, _data) = serve(Some(files.clone())).await;
    let url = format!("https://{addr}");
    let mut before = connect(url.clone(), Some(first_file.clone())).await.unwrap();
    assert!(connect(url.clone(), Some(second_file.clone())).await.is_err());

    // A half-written replacement does not load: the certificate in force stays.
    std::fs::write(&files.cert, b"-----BEGIN CERTIFICATE-----\nnot yet\n").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(connect(url.clone(), Some(first_file.clone())).await.is_ok());

    // The renewed certificate, from another CA, in place of the old files.
    let renewed = second.server(certs.path(), "renewed", &["127.0.0.1"], -1, 30);
    std::fs::copy(&renewed.key, &files.key).unwrap();
    std::fs::copy(&renewed.cert, &files.cert).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while connect(url.clone(), Some(second_file.clone())).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "the renewed certificate was never served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let e = refused(url.clone(), Some(first_file)).await;
    assert!(e.contains("UnknownIssuer"), "{e}");
    // The connection made before keeps working.
    before.grpc.get_info(ebl_ledger::pb::GetInfoRequest {}).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_does_not_load_stops_the_start_and_plaintext_stays_on_loopback() {
    let certs = tempfile::tempdir().unwrap();
    let ca = Ca::new("eBL test CA");
    let one = ca.server(certs.path(), "one", &["127.0.0.1"], -1, 30);
    let two = ca.server(certs.path(), "two", &["127.0.0.1"], -1, 30);
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), ORIGIN, ebl_core::sig::PublicKey(key().verifying_key().to_bytes())).unwrap();
    let mixed = TlsFiles { cert: one.cert.clone(), key: two.key.clone() };
    let e = Ledger::open(dir.path(), None).unwrap().with_tls(mixed).err().unwrap().to_string();
    assert!(e.contains("two.key") && e.contains("does not match the certificate"), "{e}");
    let missing = TlsFiles { cert: certs.path().join("none.crt"), key: one.key };
    let e = Ledger::open(dir.path(), None).unwrap().with_tls(missing).err().unwrap().to_string();
    assert!(e.contains("none.crt"), "{e}");

    use ebl_client::tls::plaintext_allowed;
    let any: std::net::SocketAddr = "0.0.0.0:50051".parse().unwrap();
    let e = plaintext_allowed("ebld", any, false, false).unwrap_err();
    assert!(e.contains("refusing to serve plaintext on 0.0.0.0:50051") && e.contains("--tls-cert"), "{e}");
    assert!(plaintext_allowed("ebld", any, false, true).is_ok());
    assert!(plaintext_allowed("ebld", any, true, false).is_ok());
    assert!(plaintext_allowed("ebld", "127.0.0.1:50051".parse().unwrap(), false, false).is_ok());
    assert!(plaintext_allowed("ebld", "[::1]:50051".parse().unwrap(), false, false).is_ok());
}

/// What docs/operations.md ("TLS") shows: `ebld --tls-cert --tls-key`, and `ebl --server
/// https://... --ca` against it; `ebld` refuses plaintext on an address other than loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebld_serves_tls_from_files_and_ebl_reaches_it_with_its_ca() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("eBL test CA");
    let ca_file = ca.write(dir.path(), "ca.pem");
    let files = ca.server(dir.path(), "ledger", &["127.0.0.1"], -1, 30);
    let data = dir.path().join("data");
    let op_pub = hex::encode(key().verifying_key().to_bytes());
    let ebld = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ebld"));
        c.args(args).env("EBL_DATA_DIR", &data).env("EBL_OPERATOR_KEY", &op_pub);
        c
    };
    assert!(ebld(&["init", "--origin", "t.example/ebl"]).output().unwrap().status.success());

    let refused = ebld(&["--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("refusing to serve plaintext on 0.0.0.0:") && said.contains("--insecure-plaintext"),
        "{said}"
    );
    // Metrics in plaintext off loopback are refused the same way.
    let refused = ebld(&["--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:0"]).output().unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("--metrics-listen: refusing to serve plaintext"), "{said}");

    let (cert, key) = (files.cert.to_str().unwrap(), files.key.to_str().unwrap());
    let tls = ["--tls-cert", cert, "--tls-key", key, "--metrics-listen", "127.0.0.1:0"];
    let mut child = ebld(&[&["--listen", "127.0.0.1:0"][..], &tls].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    assert!(first.contains("(https, origin 't.example/ebl')"), "{first}");
    let addr = first.split_whitespace().nth(3).unwrap().to_string();
    // The metrics are served over TLS too, with the same certificate.
    let metrics = second.trim().strip_prefix("ebld metrics on https://").unwrap_or_else(|| panic!("{second}"));
    let body = https_get(metrics.trim_end_matches("/metrics"), "/metrics", &ca_file).await;
    assert!(body.contains("# TYPE ebl_log_size gauge") && body.contains("ebl_wal_syncs_total"), "{body}");
    let ebl = |args: &[&str]| Command::new(ebl_bin()).args(args).output().unwrap();
    let server = format!("https://{addr}");
    let out = ebl(&["--server", &server, "--ca", ca_file.to_str().unwrap(), "info"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("t.example/ebl"));
    let plain = ebl(&["--server", &format!("http://{addr}"), "info"]);
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("if the server uses TLS, use https://"), "{plain:?}");
    child.kill().unwrap();
    let logs = child.wait_with_output().unwrap().stderr;
    let logs = String::from_utf8_lossy(&logs);
    // Logs to a pipe carry no colour codes.
    assert!(logs.contains("serving") && !logs.contains('\x1b'), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_binds_each_connection_to_the_party_its_certificate_names() {
    let certs = tempfile::tempdir().unwrap();
    let (server_ca, client_ca) = (Ca::new("eBL test CA"), Ca::new("eBL clients CA"));
    let ca_file = server_ca.write(certs.path(), "ca.pem");
    let clients_file = client_ca.write(certs.path(), "clients.pem");
    let files = server_ca.server(certs.path(), "ledger", &["127.0.0.1"], -1, 30);
    let (addr, _data, op, store) = serve_mutual(Some(files), Some(&clients_file)).await;
    let url = format!("https://{addr}");
    let as_party =
        |cert: (PathBuf, PathBuf)| Server { url: url.clone(), ca: Some(ca_file.clone()), identity: Some(cert) };

    // The operator's connection registers two parties.
    let mut operator =
        Client::connect_to(&as_party(client_ca.client(certs.path(), "op", &["urn:ebl:party:operator"]))).await.unwrap();
    let mut ids = Vec::new();
    for party in ["cq-bank", "cq-mto"] {
        let role = if party == "cq-bank" { ebl_ledger::pb::Role::Bank } else { ebl_ledger::pb::Role::Carrier };
        operator.operator(&op, client::register_party(party, party, role, &[], vec![])).await.unwrap();
        let id = Identity::new(party, key());
        operator.operator(&op, client::add_key(party, id.public())).await.unwrap();
        ids.push(id);
    }
    let (bank, mto) = (ids[0].clone(), ids[1].clone());

    // The bank's connection: its own signed reads go through; another party's are refused
    // before anything is looked up, for unary calls and streams alike.
    let mut c = Client::connect_to(&as_party(client_ca.client(certs.path(), "bank", &["urn:ebl:party:cq-bank"])))
        .await
        .unwrap();
    assert_eq!(c.registry(&bank, 0).await.unwrap().len(), 4);
    let denied = |s: tonic::Status| {
        assert_eq!(s.code(), tonic::Code::PermissionDenied, "{s:?}");
        assert_eq!(reason_of(&s), "CERTIFICATE_PARTY");
        s.message().to_string()
    };
    let m = denied(c.registry(&mto, 0).await.unwrap_err());
    assert!(m.contains("certificate is party cq-bank's, not cq-mto's"), "{m}");
    let bill = ebl_core::ids::BillId::derive(&mto.party, "CERT-1", 0);
    denied(c.history(&mto, bill).await.unwrap_err());
    denied(c.bill(&mto, bill).await.unwrap_err());

    // A record acted by another party (here the operator's) is refused too, alone or in a
    // batch, and changes nothing.
    let before = store.digest().unwrap();
    denied(
        c.operator(&op, client::register_party("sg-buyer", "SG", ebl_ledger::pb::Role::Trader, &[], vec![]))
            .await
            .unwrap_err(),
    );
    let link = c.registry_link().await.unwrap();
    let p = client::payload(
        c.origin(),
        None,
        link,
        ebl_core::ids::OPERATOR,
        None,
        ebl_core::time::Timestamp::now(),
        client::register_party("sg-buyer", "SG", ebl_ledger::pb::Role::Trader, &[], vec![]),
    );
    let batch = c
        .grpc
        .submit_batch(ebl_ledger::pb::SubmitBatchRequest { records: vec![client::sign(&p, &[&op])] })
        .await
        .unwrap()
        .into_inner();
    let Some(ebl_ledger::pb::submit_result::Outcome::Error(e)) = &batch.results[0].outcome else { panic!("{batch:?}") };
    assert_eq!(e.reason, "CERTIFICATE_PARTY", "{e:?}");
    assert_eq!(store.digest().unwrap(), before);

    // A certificate from the client CA that names no party may connect (GetInfo is public) but
    // carries no signed request.
    let mut unnamed = Client::connect_to(&as_party(client_ca.client(certs.path(), "nobody", &[]))).await.unwrap();
    let m = denied(unnamed.registry(&bank, 0).await.unwrap_err());
    assert!(m.contains("names no party (one SAN URI urn:ebl:party:<party id>)"), "{m}");

    // No certificate, or one from another CA: no connection at all.
    let e = refused(url.clone(), Some(ca_file.clone())).await;
    assert!(e.contains(&url) && e.contains("give --client-cert and --client-key"), "{e}");
    let stranger = Ca::new("stranger CA").client(certs.path(), "stranger", &["urn:ebl:party:cq-bank"]);
    assert!(Client::connect_to(&as_party(stranger)).await.is_err());
}

/// A witness serving HTTPS from `files` on 127.0.0.1 for the log `log`; its address and key.
async fn tls_witness(
    files: TlsFiles,
    log: ebl_core::log::VerifierKey,
    state: &Path,
) -> (std::net::SocketAddr, ebl_core::log::VerifierKey) {
    let certs = ebl_client::tls::Reloading::new(files).unwrap();
    let config = certs.server_config(None, &[b"http/1.1"]).unwrap();
    let w = ebl_ledger::witness::Witness::open("witness.example/w1", key(), vec![log], state).unwrap();
    let vkey = w.verifier_key();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ebl_ledger::witness::serve(listener, w, Some(config), std::future::pending()));
    (addr, vkey)
}

/// Why an add-checkpoint exchange with `url` trusting `ca` fails (it must).
async fn witness_refused(url: &str, ca: Option<&Path>) -> String {
    use ebl_ledger::witness::client::{add_checkpoint, Endpoint};
    let to = match Endpoint::new(url, ca) {
        Ok(to) => to,
        Err(e) => return e.to_string(),
    };
    match add_checkpoint(&to, "old 0\n".into(), Duration::from_secs(10)).await {
        Ok(a) => panic!("answered {a:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_pushes_to_a_witness_over_https_trusting_its_ca_and_nothing_else() {
    let certs = tempfile::tempdir().unwrap();
    let ca = Ca::new("eBL witnesses CA");
    let ca_file = ca.write(certs.path(), "ca.pem");
    let files = ca.server(certs.path(), "witness", &["127.0.0.1"], -1, 30);
    let mut l = TestLedger::start().await;
    let log = l.log_key().await;
    let state = tempfile::tempdir().unwrap();
    let (addr, vkey) = tls_witness(files, log.clone(), state.path()).await;

    // The ledger trusts the witness's CA and gets its cosignatures over HTTPS.
    let target = WitnessTarget::parse(&format!("https://{addr}={vkey}"), Some(&ca_file)).unwrap();
    let mut l = l.with_witnesses(vec![target]).await;
    journey_cast(&mut l).await;
    let view = l.cosigned_checkpoint(8, 1).await;
    assert_eq!(view.cosignatures[0].witness, "witness.example/w1");

    // Another CA, plaintext to it, TLS to a plaintext witness, a CA for an http:// URL, another
    // scheme: each an error naming what is wrong, never a fallback.
    let other = Ca::new("another CA").write(certs.path(), "other.pem");
    let e = witness_refused(&format!("https://{addr}"), Some(&other)).await;
    assert!(e.contains("UnknownIssuer"), "{e}");
    let e = witness_refused(&format!("http://{addr}"), None).await;
    assert!(e.contains("if the witness uses TLS, use https://"), "{e}");
    let plain = TestWitness::start("witness.example/w2", vec![log]).await;
    let e = witness_refused(&format!("https://{}", plain.addr), Some(&ca_file)).await;
    assert!(e.contains("the witness does not speak TLS here"), "{e}");
    let e = witness_refused(&plain.url(), Some(&ca_file)).await;
    assert!(e.contains("a CA bundle was given for a plaintext URL: use https://"), "{e}");
    let e = witness_refused(&format!("ftp://{addr}"), None).await;
    assert!(e.contains("must start with http:// (plaintext) or https:// (TLS)"), "{e}");
}

/// `ebl witness --tls-cert --tls-key` serves HTTPS; plain HTTP off loopback needs asking for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_witness_binary_serves_https_and_refuses_plaintext_off_loopback() {
    use ebl_ledger::witness::client::{add_checkpoint, Endpoint};
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("eBL witnesses CA");
    let ca_file = ca.write(dir.path(), "ca.pem");
    let files = ca.server(dir.path(), "witness", &["127.0.0.1"], -1, 30);
    let secret = dir.path().join("w.key");
    std::fs::write(&secret, hex::encode(key().to_bytes())).unwrap();
    let log = ebl_core::log::VerifierKey::from_signing_key("t.example/ebl", ebl_core::log::KeyKind::Ed25519, &key())
        .unwrap()
        .to_string();
    let witness = |listen: &str, tls: bool| {
        let mut c = Command::new(ebl_bin());
        c.args(["witness", "--listen", listen, "--name", "witness.example/w1", "--log", &log])
            .arg("--key")
            .arg(&secret)
            .arg("--state-dir")
            .arg(dir.path().join("state"));
        if tls {
            c.arg("--tls-cert").arg(&files.cert).arg("--tls-key").arg(&files.key);
        }
        c
    };
    let refused = witness("0.0.0.0:0", false).output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("refusing to serve plaintext on 0.0.0.0:") && said.contains("--insecure-plaintext"),
        "{said}"
    );

    let mut child = witness("127.0.0.1:0", true).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.trim_end().ends_with("(https)"), "{first}");
    let addr = first.split_whitespace().nth(4).unwrap().to_string();
    // A malformed body gets the witness's own answer, over TLS.
    let to = Endpoint::new(&format!("https://{addr}"), Some(&ca_file)).unwrap();
    let a = add_checkpoint(&to, "not a request".into(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(a.status, 400, "{a:?}");
    let e = witness_refused(&format!("http://{addr}"), None).await;
    assert!(e.contains("if the witness uses TLS, use https://"), "{e}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// An HTTPS GET of `path` on `addr`, trusting `ca`: the whole answer.
async fn https_get(addr: &str, path: &str, ca: &Path) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ebl_client::tls::client_config(Some(ca)).unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let host = addr.rsplit_once(':').unwrap().0.to_string();
    let name = rustls::pki_types::ServerName::try_from(host).unwrap();
    let mut s = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw).into_owned()
}
