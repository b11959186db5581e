//! The witness's HTTP/1.1 server, thin: `POST /add-checkpoint` reads a bounded body within a
//! deadline and hands it to [`Witness::add_checkpoint`]; any other path is 404, any other method
//! on it 405. Plain HTTP: in production a TLS terminator (reverse proxy) sits in front. Nothing
//! here needs TLS for integrity, since the log's checkpoint and the cosignature are signed.

use super::Witness;
use bytes::Bytes;
use ebl_core::log::witness::{ADD_CHECKPOINT_PATH, MAX_REQUEST_BYTES};
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a client may take to send a request's headers, and then its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves on an already bound `listener` until `shutdown` resolves; then stops accepting and
/// closes open connections (a request cut there was either persisted and cosigned, or not:
/// the state is never half-written).
pub async fn serve(
    listener: TcpListener,
    witness: Arc<Witness>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tracing::info!(addr = ?listener.local_addr().ok(), key = %witness.verifier_key(), "witness serving");
    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let w = witness.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(w.clone(), req));
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(READ_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), svc);
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended");
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.shutdown().await;
    tracing::info!("witness stopped");
    Ok(())
}

async fn handle(w: Arc<Witness>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != ADD_CHECKPOINT_PATH {
        return Ok(plain(StatusCode::NOT_FOUND, "no such endpoint: POST /add-checkpoint\n"));
    }
    if req.method() != Method::POST {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "add-checkpoint is a POST\n");
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return Ok(r);
    }
    let body =
        match tokio::time::timeout(READ_TIMEOUT, Limited::new(req.into_body(), MAX_REQUEST_BYTES).collect()).await {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(e)) => {
                let why = format!("request body unreadable or over {MAX_REQUEST_BYTES} bytes: {e}\n");
                return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, &why));
            }
            Err(_) => return Ok(plain(StatusCode::REQUEST_TIMEOUT, "request body not received in time\n")),
        };
    let a = w.add_checkpoint(&body).await;
    let mut r = Response::new(Full::new(Bytes::from(a.body)));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(a.content_type));
    Ok(r)
}

fn plain(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}
