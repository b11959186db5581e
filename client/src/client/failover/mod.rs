//! Failing over between the servers of one ledger: [`Failover`], a tower service under the
//! generated gRPC client, holds one channel per server URL. Each call goes first to the server
//! that answered last; if that server cannot be reached (a connection or transport error) or
//! answers UNAVAILABLE before any message (gRPC's trailers-only answer, or HTTP 429, 502, 503 or
//! 504 from a proxy, which a gRPC client reads as UNAVAILABLE), the same request goes to the
//! next server. After a round of all of them, those that could not be connected to, and the
//! nodes of a cluster that answered UNAVAILABLE `NOT_LEADER` (said before a request is looked
//! at, during an election), are tried again, as [`RetryPolicy`] bounds it; a server that may have
//! seen the request (it answered UNAVAILABLE otherwise, or the connection failed after it was
//! made) is not sent it again: it may have spent a signed read's nonce, or counted a refused
//! write. Then the last failure is the call's
//! answer. Any other answer, an error included, is final and is never sent elsewhere.
//!
//! Sending a call again is safe for writes: the ledger answers a record it already holds with
//! its original receipt, marked duplicate. A signed read carries a nonce, so a read that a
//! server did serve while the connection failed (its answer lost on the way back) may be
//! refused as replayed by another server if that one knows the nonce too; the caller signs a
//! new read then.
//!
//! Only a request body that is whole at once (a unary request: every gRPC request of the
//! ledger's API) can be sent again; a streaming body is sent once, to the current server. A
//! failure after the answer's headers (a stream cut mid-way) is the caller's, as without
//! failover.

mod body;
#[cfg(test)]
mod tests;

use body::ReadAhead;
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Service, ServiceExt};

/// Errors a call through [`Failover`] can end with (boxed, as tonic takes them).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How hard one call tries before it gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times each server may be tried per call: a round tries each once, in order,
    /// and the later rounds only those that could not be connected to.
    pub rounds: u32,
    /// The pause before the second round, doubled before each later one.
    pub backoff: Duration,
    /// No new attempt starts this long after the call began (an attempt under way is not cut).
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    /// Six rounds, the first pause 100 ms and doubling (3.1 s in all: a cluster's election, when
    /// every node answers NOT_LEADER), none started after 30 s.
    fn default() -> Self {
        RetryPolicy { rounds: 6, backoff: Duration::from_millis(100), deadline: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// The pause before round `round` (0 for the first): none, then the back-off, doubling.
    pub fn pause_before(&self, round: u32) -> Duration {
        match round {
            0 => Duration::ZERO,
            r => self.backoff.saturating_mul(1 << (r - 1).min(16)),
        }
    }
}

/// The servers of one ledger behind one gRPC client: `LedgerClient<Failover>` (see the module).
/// Clones share the servers and which one answered last.
#[derive(Clone)]
pub struct Failover {
    inner: Arc<Inner>,
}

struct Inner {
    /// The servers, in the order given: URL and channel.
    nodes: Vec<(String, Channel)>,
    retry: RetryPolicy,
    /// The index of the server that answered last: calls go there first.
    current: AtomicUsize,
}

/// A call through a [`Failover`] that has no server to go to.
#[derive(Debug, thiserror::Error)]
#[error("no ledger server to call")]
pub struct NoServer;

impl Failover {
    /// Calls go to `nodes` (URL and channel, e.g. `Endpoint::connect_lazy`), the first one first.
    pub fn new(nodes: Vec<(String, Channel)>, retry: RetryPolicy) -> Self {
        Failover { inner: Arc::new(Inner { nodes, retry, current: AtomicUsize::new(0) }) }
    }

    /// The same, with calls going first to the server at `index`.
    pub fn starting_at(self, index: usize) -> Self {
        self.inner.current.store(index, Ordering::Relaxed);
        self
    }

    /// The servers' URLs, in the order given.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.inner.nodes.iter().map(|(url, _)| url.as_str())
    }

    /// The URL calls go to first: the server that answered last.
    pub fn current(&self) -> Option<&str> {
        self.inner.nodes.get(self.inner.current.load(Ordering::Relaxed)).map(|(url, _)| url.as_str())
    }
}

impl std::fmt::Debug for Failover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Failover")
            .field("urls", &self.urls().collect::<Vec<_>>())
            .field("current", &self.current())
            .finish()
    }
}

impl Service<http::Request<Body>> for Failover {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    /// Always ready: each attempt waits for its own channel.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { inner.send(request).await })
    }
}

impl Inner {
    async fn send(&self, request: http::Request<Body>) -> Result<http::Response<Body>, BoxError> {
        let began = Instant::now();
        let n = self.nodes.len();
        let first = self.current.load(Ordering::Relaxed);
        let (parts, body) = request.into_parts();
        let body = match body::read_ahead(body)? {
            ReadAhead::Whole(body) => body,
            ReadAhead::Streaming(body) => {
                let (_, channel) = self.nodes.get(first % n.max(1)).ok_or(NoServer)?;
                return Ok(channel.clone().oneshot(http::Request::from_parts(parts, body)).await?);
            }
        };
        // A server that may have seen the request (it answered, or the connection failed once
        // the request could be on its way) is not sent it again: it may have spent a signed
        // read's nonce, or counted a refused write. Later rounds try the others once more.
        let mut seen = vec![false; n];
        let mut last: Result<http::Response<Body>, BoxError> = Err(NoServer.into());
        'rounds: for round in 0..self.retry.rounds.max(1) {
            let todo: Vec<usize> = (0..n).map(|k| (first + k) % n).filter(|&i| !seen[i]).collect();
            if round > 0 && !todo.is_empty() {
                let pause = self.retry.pause_before(round);
                if began.elapsed() + pause >= self.retry.deadline {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            for (k, i) in todo.into_iter().enumerate() {
                if (round > 0 || k > 0) && began.elapsed() >= self.retry.deadline {
                    break 'rounds;
                }
                let (url, channel) = &self.nodes[i];
                let request = http::Request::from_parts(parts.clone(), body.body());
                match channel.clone().oneshot(request).await {
                    Ok(response) if !unavailable(&response) => {
                        self.current.store(i, Ordering::Relaxed);
                        return Ok(response);
                    }
                    Ok(response) => {
                        tracing::debug!(server = %url, path = %parts.uri.path(), "unavailable; trying the next server");
                        // NOT_LEADER is said before the request is looked at: it may be sent again.
                        (seen[i], last) = (!not_leader(&response), Ok(response));
                    }
                    Err(e) => {
                        tracing::debug!(server = %url, path = %parts.uri.path(), error = %e, "failed; trying the next server");
                        let e: BoxError = e.into();
                        (seen[i], last) = (!never_sent(&*e), Err(e));
                    }
                }
            }
        }
        last
    }
}

/// Whether a channel's failure came before the request could be sent: connecting to the
/// server (TCP, TLS) failed.
pub(crate) fn never_sent(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<tonic::ConnectError>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// Whether `response` is a cluster node's UNAVAILABLE `NOT_LEADER`, which it gives before it
/// did anything with the request (during an election, every node gives it for a second or two).
pub(crate) fn not_leader<B>(response: &http::Response<B>) -> bool {
    use tonic_types::StatusExt;
    tonic::Status::from_header_map(response.headers())
        .filter(|s| s.code() == tonic::Code::Unavailable)
        .and_then(|s| s.get_details_error_info())
        .is_some_and(|info| info.reason == crate::client::codes::NOT_LEADER)
}

/// Whether `response` says UNAVAILABLE before any message: `grpc-status: 14` in its headers (a
/// trailers-only answer), or, with no gRPC status, an HTTP status a gRPC client reads as
/// UNAVAILABLE.
pub(crate) fn unavailable<B>(response: &http::Response<B>) -> bool {
    match response.headers().get("grpc-status") {
        Some(code) => code.as_bytes() == b"14",
        None => matches!(response.status().as_u16(), 429 | 502 | 503 | 504),
    }
}
