//! TLS at the edge: the server's certificate and key from PEM files, served to each new
//! connection by a resolver that swaps them when the files change (looked at every second) or on
//! SIGHUP, with no restart; connections already open keep the certificate they shook hands with.
//! A replacement that does not load (half written, key not matching) is logged and the
//! certificate in force stays. One crypto provider: ring.
//!
//! With a client CA (mutual TLS), every connection must present a certificate from it, and the
//! party the certificate names in a SAN URI `urn:ebl:party:<party id>` is the only one whose
//! signed reads and records the connection may carry ([`Peer`]; enforced by the API).

use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// The prefix of the SAN URI that names a party in a client certificate.
pub const PARTY_URI: &str = "urn:ebl:party:";

/// Who a connection's TLS client certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// No client certificate was asked for (plaintext, or TLS without a client CA).
    Anyone,
    /// The party its certificate names.
    Party(String),
    /// A certificate from the client CA that names no party, or more than one.
    Unnamed,
}

/// Who the leaf of a client's verified certificate chain names.
pub fn peer_of(chain: Option<&[CertificateDer<'_>]>) -> Peer {
    let Some(leaf) = chain.and_then(|c| c.first()) else { return Peer::Anyone };
    let names: Vec<String> = san_uris(leaf.as_ref())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|u| u.strip_prefix(PARTY_URI).map(str::to_string))
        .collect();
    match names.as_slice() {
        [one] => Peer::Party(one.clone()),
        _ => Peer::Unnamed,
    }
}

/// One DER element of `b`: its tag, its contents and what follows it.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, b) = b.split_first()?;
    let (len, b) = if first < 0x80 {
        (first as usize, b)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        (b[..n].iter().fold(0usize, |len, byte| len << 8 | *byte as usize), &b[n..])
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

/// The URIs of a certificate's subject alternative names (RFC 5280: the `[3]` extensions of
/// the TBS certificate, extension 2.5.29.17, names of tag `[6]`). The certificate has already
/// been verified, so it is well-formed DER; anything else gives `None`.
fn san_uris(cert: &[u8]) -> Option<Vec<String>> {
    const SAN: [u8; 3] = [0x55, 0x1d, 0x11];
    let (_, cert, _) = tlv(cert)?;
    let (_, mut tbs, _) = tlv(cert)?;
    let extensions = loop {
        let (tag, value, rest) = tlv(tbs)?;
        if tag == 0xa3 {
            break value;
        }
        tbs = rest;
    };
    let (_, mut list, _) = tlv(extensions)?;
    while !list.is_empty() {
        let (_, extension, rest) = tlv(list)?;
        list = rest;
        let (tag, oid, value) = tlv(extension)?;
        if tag != 0x06 || oid != SAN {
            continue;
        }
        let (mut tag, mut octets, rest) = tlv(value)?;
        if tag == 0x01 {
            (tag, octets, _) = tlv(rest)?;
        }
        if tag != 0x04 {
            return None;
        }
        let (_, mut names, _) = tlv(octets)?;
        let mut uris = Vec::new();
        while !names.is_empty() {
            let (tag, name, rest) = tlv(names)?;
            names = rest;
            if tag == 0x86 {
                uris.push(String::from_utf8(name.to_vec()).ok()?);
            }
        }
        return Some(uris);
    }
    Some(Vec::new())
}

/// Loads a CA bundle (PEM) to verify client certificates with.
pub fn client_verifier(ca: &Path) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(ca, format!("not a PEM certificate bundle: {e}")))?;
    for cert in certs {
        roots.add(cert).map_err(|e| bad(ca, e))?;
    }
    if roots.is_empty() {
        return Err(bad(ca, "holds no certificate"));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::new(provider::default_provider()))
        .build()
        .map_err(|e| bad(ca, e))
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

fn bad(path: &Path, what: impl std::fmt::Display) -> TlsError {
    TlsError { path: path.to_path_buf(), what: what.to_string() }
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

    /// The server's TLS configuration (HTTP/2 only, as gRPC needs), resolving through this;
    /// with `clients`, every client must present a certificate it verifies (mutual TLS).
    pub fn server_config(
        self: &Arc<Self>,
        clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let builder = rustls::ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&self.files.cert, e))?;
        let builder = match clients {
            Some(verifier) => builder.with_client_cert_verifier(verifier),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("certificate lock poisoned").clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate with these SAN entries, from rcgen.
    fn cert(names: Vec<rcgen::SanType>) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = names;
        params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().der().clone()
    }

    fn uri(u: &str) -> rcgen::SanType {
        rcgen::SanType::URI(rcgen::string::Ia5String::try_from(u).unwrap())
    }

    #[test]
    fn the_party_is_the_one_party_uri_of_the_certificate() {
        let dns = rcgen::SanType::DnsName(rcgen::string::Ia5String::try_from("bank.example").unwrap());
        let c = cert(vec![dns.clone(), uri("https://bank.example/"), uri("urn:ebl:party:cq-bank")]);
        assert_eq!(san_uris(c.as_ref()).unwrap(), ["https://bank.example/", "urn:ebl:party:cq-bank"]);
        assert_eq!(peer_of(Some(&[c])), Peer::Party("cq-bank".into()));
        // None, two, or no SAN at all: no party.
        assert_eq!(peer_of(Some(&[cert(vec![dns])])), Peer::Unnamed);
        assert_eq!(peer_of(Some(&[cert(vec![uri("urn:ebl:party:a"), uri("urn:ebl:party:b")])])), Peer::Unnamed);
        assert_eq!(peer_of(Some(&[cert(vec![])])), Peer::Unnamed);
        assert_eq!(peer_of(None), Peer::Anyone);
        // Cut short anywhere, nothing is read.
        let good = cert(vec![uri("urn:ebl:party:cq-bank")]);
        for cut in 0..good.len() {
            assert!(san_uris(&good[..cut]).is_none_or(|u| u.is_empty()), "cut at {cut}");
        }
    }
}
