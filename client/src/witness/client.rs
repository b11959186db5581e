//! The log's side of the witness protocol over HTTP/1.1: one `POST <url>/add-checkpoint` on a
//! fresh connection, the whole exchange bounded by a deadline and the answer by a size. Plain
//! HTTP only (`http://`): a witness reached over the Internet sits behind a TLS-originating
//! proxy on the ledger's side. Integrity never rests on the transport: the answer's cosignature
//! lines are verified with the witness's key.

use bytes::Bytes;
use ebl_core::log::witness::ADD_CHECKPOINT_PATH;
use http::{header, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::time::Duration;

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
    /// The witness URL is not `http://host:port[/prefix]`.
    #[error("witness URL {url}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Connecting or the exchange failed.
    #[error("{0}")]
    Transport(String),
    /// No answer within the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// Checks a witness base URL: `http://host[:port][/prefix]`, no query.
pub fn parse_url(url: &str) -> Result<Uri, ClientError> {
    let bad = |why| ClientError::Url { url: url.to_string(), why };
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("only http:// is supported (put a TLS proxy in front for https)"));
    }
    if uri.authority().is_none() {
        return Err(bad("no host"));
    }
    if uri.query().is_some() {
        return Err(bad("a query string is not allowed"));
    }
    Ok(uri)
}

/// POSTs `body` to `<base>/add-checkpoint` and reads the answer, all within `timeout`.
pub async fn add_checkpoint(base: &Uri, body: String, timeout: Duration) -> Result<HttpAnswer, ClientError> {
    tokio::time::timeout(timeout, exchange(base, body)).await.map_err(|_| ClientError::Timeout(timeout))?
}

async fn exchange(base: &Uri, body: String) -> Result<HttpAnswer, ClientError> {
    let t = |e: &dyn std::fmt::Display| ClientError::Transport(e.to_string());
    let authority = base.authority().ok_or(ClientError::Url { url: base.to_string(), why: "no host" })?;
    let port = authority.port_u16().unwrap_or(80);
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let stream = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| t(&e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| t(&e))?;
    // The connection is driven beside the request and ends when `sender` is dropped.
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = format!("{}{ADD_CHECKPOINT_PATH}", base.path().trim_end_matches('/'));
    let req = Request::post(path)
        .header(header::HOST, authority.as_str())
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| t(&e))?;
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
