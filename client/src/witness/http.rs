//! The witness's HTTP/1.1 server, thin: `POST /add-checkpoint` reads a bounded body within a
//! deadline and hands it to [`Witness::add_checkpoint`]; any other path is 404, any other method
//! on it 405. Over TLS when given a configuration (its handshake, too, must end within
//! [`READ_TIMEOUT`]); integrity never needs it, since the log's checkpoint and the cosignature
//! are signed, but it keeps the witness's address authentic and the exchange private.

use super::Witness;
use crate::serve::{text, Answer, READ_TIMEOUT};
use bytes::Bytes;
use ebl_core::log::witness::{ADD_CHECKPOINT_PATH, MAX_REQUEST_BYTES};
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves on an already bound `listener` (over TLS with `tls`) until `shutdown` resolves; then
/// stops accepting and closes open connections (a request cut there was either persisted and
/// cosigned, or not: the state is never half-written).
pub async fn serve(
    listener: TcpListener,
    witness: Arc<Witness>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tracing::info!(addr = ?listener.local_addr().ok(), key = %witness.verifier_key(), "witness serving");
    crate::serve::serve(listener, tls, shutdown, move |req| handle(witness.clone(), req)).await?;
    tracing::info!("witness stopped");
    Ok(())
}

async fn handle(w: Arc<Witness>, req: Request<Incoming>) -> Answer {
    if req.uri().path() != ADD_CHECKPOINT_PATH {
        return plain(StatusCode::NOT_FOUND, "no such endpoint: POST /add-checkpoint\n");
    }
    if req.method() != Method::POST {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "add-checkpoint is a POST\n");
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return r;
    }
    let body =
        match tokio::time::timeout(READ_TIMEOUT, Limited::new(req.into_body(), MAX_REQUEST_BYTES).collect()).await {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(e)) => {
                let why = format!("request body unreadable or over {MAX_REQUEST_BYTES} bytes: {e}\n");
                return plain(StatusCode::PAYLOAD_TOO_LARGE, &why);
            }
            Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "request body not received in time\n"),
        };
    let a = w.add_checkpoint(&body).await;
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, a.content_type, Bytes::from(a.body))
}

fn plain(status: StatusCode, body: &str) -> Answer {
    text(status, "text/plain; charset=utf-8", body.to_string())
}
