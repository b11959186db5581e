//! The log's side of the witness protocol over HTTP/1.1: one `POST <url>/add-checkpoint` on a
//! fresh connection, the whole exchange bounded by a deadline and the answer by a size. `http://`
//! in plaintext, `https://` over TLS trusting a CA bundle or else the system's roots; never a
//! fallback from one to the other. Integrity never rests on the transport (the answer's
//! cosignature lines are verified with the witness's key); TLS keeps the exchange private and
//! the witness's address authentic.

use bytes::Bytes;
use ebl_core::log::witness::ADD_CHECKPOINT_PATH;
use http::{header, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// The largest answer read (a few signature lines, or a size).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A witness's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The HTTP status code.
    pub status: u16,
    /// The Content-Type, if any.
    pub content_type: Option<String>,
    /// The body (lossily decoded as UTF-8).
    pub body: String,
}

/// Why no answer came.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The witness URL is not `http[s]://host:port[/prefix]`, or its TLS set-up is unusable.
    #[error("witness URL {url}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// Connecting or the exchange failed.
    #[error("{0}")]
    Transport(String),
    /// No answer within the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// Checks a witness base URL: `http[s]://host[:port][/prefix]`, no query.
pub fn parse_url(url: &str) -> Result<Uri, ClientError> {
    let bad = |why: &str| ClientError::Url { url: url.to_string(), why: why.to_string() };
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("the URL must start with http:// (plaintext) or https:// (TLS)"));
    }
    if uri.authority().is_none() {
        return Err(bad("no host"));
    }
    if uri.query().is_some() {
        return Err(bad("a query string is not allowed"));
    }
    Ok(uri)
}

/// A witness to reach: its base URL and, for `https://`, the TLS configuration to reach it with.
#[derive(Debug, Clone)]
pub struct Endpoint {
    url: Uri,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Endpoint {
    /// The witness at `url`; an `https://` one is trusted through the CA bundle (PEM) `ca`, or
    /// else the system's roots. A CA bundle for an `http://` URL is refused: it would not be used.
    pub fn new(url: &str, ca: Option<&Path>) -> Result<Self, ClientError> {
        let uri = parse_url(url)?;
        let bad = |why: String| ClientError::Url { url: url.to_string(), why };
        let tls = match (uri.scheme_str(), ca) {
            (Some("https"), ca) => Some(crate::tls::client_config(ca).map_err(|e| bad(e.to_string()))?),
            (_, Some(_)) => return Err(bad("a CA bundle was given for a plaintext URL: use https://".into())),
            (_, None) => None,
        };
        Ok(Endpoint { url: uri, tls })
    }

    /// Its base URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }
}

impl PartialEq for Endpoint {
    /// Same URL and same kind of transport (a TLS configuration has no equality of its own).
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url && self.tls.is_some() == other.tls.is_some()
    }
}

impl Eq for Endpoint {}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.url.fmt(f)
    }
}

/// POSTs `body` to `<base>/add-checkpoint` and reads the answer, all within `timeout`.
pub async fn add_checkpoint(to: &Endpoint, body: String, timeout: Duration) -> Result<HttpAnswer, ClientError> {
    tokio::time::timeout(timeout, exchange(to, body)).await.map_err(|_| ClientError::Timeout(timeout))?
}

async fn exchange(to: &Endpoint, body: String) -> Result<HttpAnswer, ClientError> {
    let tls = to.tls.is_some();
    let t = |e: &dyn std::fmt::Display| ClientError::Transport(hint(&e.to_string(), tls));
    let base = &to.url;
    let authority = base.authority().ok_or(ClientError::Url { url: base.to_string(), why: "no host".into() })?;
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let stream = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| t(&e))?;
    let path = format!("{}{ADD_CHECKPOINT_PATH}", base.path().trim_end_matches('/'));
    let req = Request::post(path)
        .header(header::HOST, authority.as_str())
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| t(&e))?;
    match &to.tls {
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| t(&e))?;
            let stream =
                tokio_rustls::TlsConnector::from(config.clone()).connect(name, stream).await.map_err(|e| t(&e))?;
            send(stream, req, tls).await
        }
        None => send(stream, req, tls).await,
    }
}

/// Sends `req` over `io` and reads the answer.
async fn send<S>(io: S, req: Request<Full<Bytes>>, tls: bool) -> Result<HttpAnswer, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let t = |e: &dyn std::fmt::Display| ClientError::Transport(hint(&e.to_string(), tls));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| t(&e))?;
    // The connection is driven beside the request and ends when `sender` is dropped.
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let result = async {
        let resp = sender.send_request(req).await.map_err(|e| t(&e))?;
        let status = resp.status().as_u16();
        let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = Limited::new(resp.into_body(), MAX_ANSWER_BYTES).collect().await.map_err(|e| t(&e))?.to_bytes();
        Ok(HttpAnswer { status, content_type, body: String::from_utf8_lossy(&bytes).into_owned() })
    }
    .await;
    drop(sender);
    driver.abort();
    result
}

/// A transport failure with what it most likely means for this scheme.
fn hint(why: &str, tls: bool) -> String {
    let hint = if tls && (why.contains("InvalidContentType") || why.contains("corrupt message")) {
        " (the witness does not speak TLS here: is it plaintext? then use http://)"
    } else if !tls && (why.contains("closed") || why.contains("parse")) {
        " (if the witness uses TLS, use https://)"
    } else {
        ""
    };
    format!("{why}{hint}")
}
