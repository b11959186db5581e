//! The metrics endpoint: `GET /metrics` in the OpenMetrics text format (which Prometheus and
//! compatible scrapers read), on its own address, over TLS when the ledger has a certificate;
//! any other path is 404.

use super::Metrics;
use crate::service::Shared;
use ebl_client::serve::{text, Answer};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The path metrics are served on.
pub const PATH: &str = "/metrics";

/// Their content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves the metrics of `shared` on `listener` (over TLS with `tls`) until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tracing::info!(addr = ?listener.local_addr().ok(), tls = tls.is_some(), "metrics serving");
    ebl_client::serve::serve(listener, tls, shutdown, move |req| {
        let (metrics, shared) = (metrics.clone(), shared.clone());
        async move { answer(&metrics, &shared, &req).await }
    })
    .await
}

async fn answer(metrics: &Arc<Metrics>, shared: &Arc<Shared>, req: &Request<Incoming>) -> Answer {
    const PLAIN: &str = "text/plain; charset=utf-8";
    if req.uri().path() != PATH {
        return text(StatusCode::NOT_FOUND, PLAIN, "no such endpoint: GET /metrics\n");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "metrics are read with GET\n");
    }
    // Reading the gauges touches the disk (its free space): off the async runtime.
    let (m, s) = (metrics.clone(), shared.clone());
    match tokio::task::spawn_blocking(move || m.render(&s)).await {
        Ok(body) => text(StatusCode::OK, CONTENT_TYPE, body),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, PLAIN, format!("metrics not rendered: {e}\n")),
    }
}
