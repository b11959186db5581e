//! Request latencies: a tower layer over the whole gRPC server that times each call from its
//! request to its answer's headers (for a stream, its first message or its refusal) and counts it
//! under its RPC's name.

use super::Metrics;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

/// The layer.
#[derive(Clone)]
pub struct TimingLayer {
    /// Where the times go.
    pub metrics: Arc<Metrics>,
}

impl<S> Layer<S> for TimingLayer {
    type Service = Timing<S>;
    fn layer(&self, inner: S) -> Timing<S> {
        Timing { inner, metrics: self.metrics.clone() }
    }
}

/// The service the layer wraps around the server.
#[derive(Clone)]
pub struct Timing<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> Service<http::Request<B>> for Timing<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
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
        // The label is one of a closed set of static names: nothing is copied per call.
        let method = super::method_label(req.uri().path());
        let metrics = self.metrics.clone();
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let answer = fut.await;
            metrics.request(method, start.elapsed());
            answer
        })
    }
}
