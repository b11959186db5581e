//! Calls in flight per connection: a tower layer over the whole server that counts each call on
//! its connection (which keeps the connection from counting as idle) and refuses one past the
//! limit with RESOURCE_EXHAUSTED `CALLS_PER_CONNECTION`, before any of its work is done.

use super::ConnInfo;
use crate::api::status::to_status;
use crate::error::LedgerError;
use ebl_core::RuleError;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// The layer.
#[derive(Clone, Copy)]
pub struct CallsLayer {
    /// Most calls in flight on one connection.
    pub max: usize,
}

impl<S> Layer<S> for CallsLayer {
    type Service = Calls<S>;
    fn layer(&self, inner: S) -> Calls<S> {
        Calls { inner, max: self.max }
    }
}

/// The service the layer wraps around the server.
#[derive(Clone)]
pub struct Calls<S> {
    inner: S,
    max: usize,
}

/// Ends a counted call, however its future ends (answered, failed, or dropped by a cancel).
struct InFlight(Arc<super::conn::ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.calls.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> Service<http::Request<B>> for Calls<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let Some(conn) = req.extensions().get::<ConnInfo>().map(|c| c.state.clone()) else {
            return Box::pin(self.inner.call(req));
        };
        if conn.calls.fetch_add(1, Ordering::Relaxed) >= self.max {
            conn.calls.fetch_sub(1, Ordering::Relaxed);
            let why = format!("{} calls are already in flight on this connection; the limit is {}", self.max, self.max);
            let refusal = to_status(&LedgerError::Rule(RuleError::Limit { reason: "CALLS_PER_CONNECTION", why }));
            return Box::pin(std::future::ready(Ok(refusal.into_http())));
        }
        conn.touch();
        let guard = InFlight(conn);
        let fut = self.inner.call(req);
        Box::pin(async move {
            let answer = fut.await;
            drop(guard);
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::conn::ConnState;
    use crate::net::NetLimits;

    #[tokio::test]
    async fn a_call_past_the_limit_is_refused_at_once_and_a_finished_one_frees_its_place() {
        let state = Arc::new(ConnState::new(NetLimits::default()));
        let go = Arc::new(tokio::sync::Notify::new());
        let wait = go.clone();
        let inner = tower::service_fn(move |_req: http::Request<()>| {
            let wait = wait.clone();
            async move {
                wait.notified().await;
                Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
            }
        });
        let mut svc = CallsLayer { max: 1 }.layer(inner);
        let req = || {
            let mut r = http::Request::new(());
            r.extensions_mut().insert(ConnInfo {
                remote: None,
                state: state.clone(),
                peer: crate::net::tls::Peer::Anyone,
            });
            r
        };
        let first = svc.call(req());
        let refused = svc.call(req()).await.unwrap();
        let status = tonic::Status::from_header_map(refused.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(status.message().contains("limit is 1"), "{}", status.message());
        go.notify_one();
        first.await.unwrap();
        assert_eq!(state.calls.load(Ordering::Relaxed), 0);
        let again = svc.call(req());
        go.notify_one();
        assert!(tonic::Status::from_header_map(again.await.unwrap().headers()).is_none());
    }
}
