//! A small HTTP/1.1 server for the side doors of the ledger's processes (the witness's
//! `add-checkpoint`, the ledger's metrics): each connection on its own task, over TLS when given a
//! configuration (the handshake, and then each request's headers, must come within
//! [`READ_TIMEOUT`]); on shutdown it stops accepting and closes the connections it has.

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

/// How long a client may take to finish its TLS handshake, and then to send a request's headers.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// An answer of the server.
pub type Answer = Response<Full<Bytes>>;

/// Serves `handle` on an already bound `listener` (over TLS with `tls`) until `shutdown`
/// resolves.
pub async fn serve<H, F>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
    handle: H,
) -> std::io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
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
                let (handle, tls) = (handle.clone(), tls.clone());
                conns.spawn(async move {
                    let Some(tls) = tls else { return connection(stream, handle).await };
                    match tokio::time::timeout(READ_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, handle).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake not finished in time"),
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.shutdown().await;
    Ok(())
}

/// Serves HTTP/1.1 requests on one connection until it ends.
async fn connection<S, H, F>(stream: S, handle: H)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let svc = service_fn(move |req| {
        let answer = handle(req);
        async move { Ok::<_, Infallible>(answer.await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc);
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// A plain-text answer.
pub fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    r
}
