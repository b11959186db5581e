//! TLS shared by the ledger and the witness: a server's certificate and key from PEM files,
//! served to each new connection by a resolver that swaps them when the files change (looked at
//! every second) or on SIGHUP, with no restart; connections already open keep the certificate
//! they shook hands with. A replacement that does not load (half written, key not matching) is
//! logged and the certificate in force stays. And the client side for plain HTTP/1.1 exchanges
//! (the witness protocol): trust a CA bundle, or else the system's roots. One crypto provider:
//! ring.

use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// Refuses plaintext on an address other than loopback unless asked for (`--insecure-plaintext`),
/// and warns when it is: `what` is the server (`ebld`, `ebl witness`).
pub fn plaintext_allowed(what: &str, addr: std::net::SocketAddr, tls: bool, insecure: bool) -> Result<(), String> {
    if tls || addr.ip().is_loopback() {
        return Ok(());
    }
    if !insecure {
        return Err(format!(
            "{what}: refusing to serve plaintext on {addr}, which is not loopback: give --tls-cert and \
             --tls-key (docs/operations.md, \"TLS\"), or --insecure-plaintext behind a proxy that terminates TLS"
        ));
    }
    tracing::warn!(%addr, "serving plaintext on an address other than loopback (--insecure-plaintext)");
    Ok(())
}

/// A client TLS configuration for HTTP/1.1 that trusts the CA bundle (PEM) at `ca`, or else the
/// system's roots.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad(ca, format!("not a PEM certificate bundle: {e}")))?;
            for cert in certs {
                roots.add(cert).map_err(|e| bad(ca, e))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    if roots.is_empty() {
        return Err(bad(ca.unwrap_or(Path::new("the system's roots")), "holds no certificate"));
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(ca.unwrap_or(Path::new("-")), e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How often the certificate files are looked at.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Where the server's certificate chain and private key are (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why the certificate or key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {path}: {what}")]
pub struct TlsError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

impl TlsError {
    /// `path` is unusable because of `what`.
    pub fn new(path: &Path, what: impl std::fmt::Display) -> Self {
        TlsError { path: path.to_path_buf(), what: what.to_string() }
    }
}

fn bad(path: &Path, what: impl std::fmt::Display) -> TlsError {
    TlsError::new(path, what)
}

impl TlsFiles {
    /// Loads the chain and key, and checks that they belong together.
    pub fn load(&self) -> Result<CertifiedKey, TlsError> {
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| bad(&self.cert, format!("not a PEM certificate chain: {e}")))?;
        if certs.is_empty() {
            return Err(bad(&self.cert, "holds no certificate"));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| bad(&self.key, format!("not a PEM private key: {e}")))?;
        let key = provider::sign::any_supported_type(&key).map_err(|e| bad(&self.key, e))?;
        let certified = CertifiedKey::new(certs, key);
        certified.keys_match().map_err(|e| bad(&self.key, format!("does not match the certificate: {e}")))?;
        Ok(certified)
    }

    /// When either file last changed (`None` if one cannot be read now).
    fn stamp(&self) -> Option<(SystemTime, SystemTime)> {
        let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        Some((m(&self.cert)?, m(&self.key)?))
    }
}

/// The certificate in force, swapped when its files change.
#[derive(Debug)]
pub struct Reloading {
    files: TlsFiles,
    // std RwLock: read on every handshake, written on a reload, never held across an await.
    current: RwLock<Arc<CertifiedKey>>,
}

impl Reloading {
    /// Loads the files once (a failure here stops the server from starting).
    pub fn new(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let current = RwLock::new(Arc::new(files.load()?));
        Ok(Arc::new(Reloading { files, current }))
    }

    /// Loads the files again; keeps the certificate in force if they do not load.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(self.files.load()?);
        *self.current.write().expect("certificate lock poisoned") = fresh;
        Ok(())
    }

    /// Reloads whenever the files change or the process gets SIGHUP, until the runtime ends.
    pub fn watch(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut seen = me.files.stamp();
            loop {
                let hangup = async {
                    match hup.as_mut() {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    }
                };
                let asked = tokio::select! {
                    _ = hangup => true,
                    _ = tokio::time::sleep(WATCH_EVERY) => false,
                };
                let now = me.files.stamp();
                if !asked && (now.is_none() || now == seen) {
                    continue;
                }
                seen = now;
                match me.reload() {
                    Ok(()) => tracing::info!(cert = %me.files.cert.display(), "TLS certificate reloaded"),
                    Err(e) => tracing::error!(error = %e, "TLS certificate not reloaded; the one in force stays"),
                }
            }
        });
    }

    /// A server TLS configuration resolving through this, offering the application protocols
    /// `alpn` (`h2` for gRPC, `http/1.1` for the witness); with `clients`, every client must
    /// present a certificate it verifies (mutual TLS).
    pub fn server_config(
        self: &Arc<Self>,
        clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
        alpn: &[&[u8]],
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let builder = rustls::ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&self.files.cert, e))?;
        let builder = match clients {
            Some(verifier) => builder.with_client_cert_verifier(verifier),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(self.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("certificate lock poisoned").clone())
    }
}
