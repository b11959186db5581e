//! TLS at the edge: the certificate in force is ebl-client's reloading resolver ([`Reloading`],
//! shared with the witness); what is the ledger's own is mutual TLS. With a client CA, every
//! connection must present a certificate from it, and the party the certificate names in a SAN
//! URI `urn:ebl:party:<party id>` is the only one whose signed reads and records the connection
//! may carry ([`Peer`]; enforced by the API).

pub use ebl_client::tls::{Reloading, TlsError, TlsFiles};
use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;

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
        .map_err(|e| TlsError::new(ca, format!("not a PEM certificate bundle: {e}")))?;
    for cert in certs {
        roots.add(cert).map_err(|e| TlsError::new(ca, e))?;
    }
    if roots.is_empty() {
        return Err(TlsError::new(ca, "holds no certificate"));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::new(provider::default_provider()))
        .build()
        .map_err(|e| TlsError::new(ca, e))
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
