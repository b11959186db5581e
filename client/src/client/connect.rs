//! Reaching a ledger: `http://` in plaintext, `https://` over TLS (rustls with ring), trusting the
//! CA bundle given or else the system's roots. Never a silent fallback: a scheme other than these
//! two, an `https://` server that does not speak TLS, and an `http://` one that does are each a
//! clear error naming the URL.

use std::path::PathBuf;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::Status;

/// How long opening the TCP connection to one server may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A ledger server to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Its URL, `http://HOST:PORT` or `https://HOST:PORT`.
    pub url: String,
    /// For `https://`: the CA bundle (PEM) to trust instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// For a server that requires mutual TLS: this client's certificate and key (PEM), the
    /// certificate naming its party (`urn:ebl:party:<id>`).
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl Server {
    /// A server at `url`, trusting the system's roots for `https://`.
    pub fn new(url: impl Into<String>) -> Self {
        Server { url: url.into(), ca: None, identity: None }
    }

    /// The gRPC channel to it, connected now.
    pub async fn channel(&self) -> Result<Channel, ConnectError> {
        self.connect(&self.endpoint()?).await
    }

    /// Its endpoint, configured but not connected (no I/O but reading the CA and client
    /// certificate files): a URL of another scheme, a file that cannot be read, or TLS files given
    /// for a plaintext URL are errors here.
    pub fn endpoint(&self) -> Result<Endpoint, ConnectError> {
        let fail = |why: String| ConnectError::Unreachable { url: self.url.clone(), why };
        let tls = if self.url.starts_with("https://") {
            true
        } else if self.url.starts_with("http://") {
            false
        } else {
            return Err(fail("the URL must start with http:// (plaintext) or https:// (TLS)".into()));
        };
        let mut endpoint = Endpoint::from_shared(self.url.clone()).map_err(|e| fail(chain(&e)))?;
        // A server that drops packets would otherwise hold each attempt for the system's TCP
        // timeout (minutes), and with several servers, the failover to the next.
        endpoint = endpoint.connect_timeout(CONNECT_TIMEOUT);
        if tls {
            let read = |what: &str, path: &PathBuf| {
                std::fs::read(path).map_err(|e| fail(format!("the {what} {}: {e}", path.display())))
            };
            let mut config = match &self.ca {
                Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("CA bundle", ca)?)),
                None => ClientTlsConfig::new().with_native_roots(),
            };
            if let Some((cert, key)) = &self.identity {
                let (cert, key) = (read("client certificate", cert)?, read("client key", key)?);
                config = config.identity(tonic::transport::Identity::from_pem(cert, key));
            }
            endpoint = endpoint.tls_config(config).map_err(|e| fail(chain(&e)))?;
        } else if self.ca.is_some() || self.identity.is_some() {
            return Err(fail("a CA bundle or client certificate was given for a plaintext URL: use https://".into()));
        }
        Ok(endpoint)
    }

    /// Connects `endpoint` (this server's), saying why not as clearly as the failure allows.
    pub(super) async fn connect(&self, endpoint: &Endpoint) -> Result<Channel, ConnectError> {
        let tls = self.url.starts_with("https://");
        endpoint
            .connect()
            .await
            .map_err(|e| ConnectError::Unreachable { url: self.url.clone(), why: explain(&chain(&e), tls) })
    }

    /// A first call's failure: the transport's (said as such) or the ledger's answer.
    pub(super) fn first_call_failed(&self, status: Status) -> ConnectError {
        // A status made from a transport failure carries it as its source.
        let Some(source) = std::error::Error::source(&status) else {
            return ConnectError::Status(status);
        };
        let cause = chain(source);
        let why = match cause.starts_with(status.message()) {
            true => cause,
            false => format!("{}: {cause}", status.message()),
        };
        // A first call fails this way when the server expects a TLS handshake (plaintext client)
        // or a client certificate (mutual TLS) that it did not get.
        let why = match (self.url.starts_with("https://"), &self.identity) {
            (true, None) => format!(
                "{} (if the server requires mutual TLS, give --client-cert and --client-key)",
                explain(&why, true)
            ),
            (true, Some(_)) => explain(&why, true),
            (false, _) => format!("{why} (if the server uses TLS, use https://)"),
        };
        ConnectError::Unreachable { url: self.url.clone(), why }
    }
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// Why a client could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server could not be reached, or not safely.
    #[error("cannot reach the ledger at {url}: {why}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why, with what to do where it is clear.
        why: String,
    },
    /// The server answered GetInfo with an error.
    #[error("the ledger refused GetInfo: {0}")]
    Status(#[from] Status),
    /// Of several servers, none answered: each URL and why, in the order tried.
    #[error("no server of the ledger answered: {}", each_why(.0))]
    NoneAnswered(Vec<(String, ConnectError)>),
}

impl ConnectError {
    /// Whether a client with other servers to try passes this one over: it could not be
    /// reached, or said it is UNAVAILABLE.
    pub fn passed_over(&self) -> bool {
        match self {
            ConnectError::Unreachable { .. } | ConnectError::NoneAnswered(_) => true,
            ConnectError::Status(s) => s.code() == tonic::Code::Unavailable,
        }
    }
}

/// `URL: why` for each server tried.
fn each_why(tried: &[(String, ConnectError)]) -> String {
    let why = |e: &ConnectError| match e {
        ConnectError::Unreachable { why, .. } => why.clone(),
        ConnectError::Status(s) => format!("GetInfo answered {}: {}", super::codes::code_name(s.code()), s.message()),
        ConnectError::NoneAnswered(_) => e.to_string(),
    };
    tried.iter().map(|(url, e)| format!("{url}: {}", why(e))).collect::<Vec<_>>().join("; ")
}

/// An error and its causes, outermost first, without repeats.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(e) = next {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The failure with what it most likely means for this scheme.
fn explain(why: &str, tls: bool) -> String {
    let hint = if tls && (why.contains("InvalidContentType") || why.contains("corrupt message")) {
        " (the server does not speak TLS here: is it plaintext? then use http://)"
    } else if tls && why.contains("CertificateRequired") {
        " (the server requires mutual TLS: give --client-cert and --client-key)"
    } else {
        ""
    };
    format!("{why}{hint}")
}
