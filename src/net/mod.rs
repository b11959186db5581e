//! The edge of the network: no client, idle or hostile, can take the ledger's sockets or file
//! descriptors. Owns the accept loop and each connection's guard; knows nothing of gRPC calls
//! beyond counting them (`calls`), and nothing of records.
//!
//! - At most `max_connections` connections, within a file-descriptor budget that keeps a reserve
//!   for RocksDB and the checkpoint file ([`fd_budget`]). When every slot is taken, the
//!   connection that has been idle longest (no call in flight) is closed to make room; a new
//!   connection that still finds no slot is closed at once.
//! - A connection that sends nothing within `handshake_timeout` of being accepted is closed; one
//!   with no call in flight for `idle_timeout` is closed (its client reconnects when it next
//!   calls).
//! - Accept errors (out of file descriptors above all) back off instead of spinning.
//! - At most `max_calls_per_connection` calls in flight on one connection ([`calls`]); more are
//!   refused with RESOURCE_EXHAUSTED. At most [`MAX_STREAMED_PER_CONNECTION`] messages of client
//!   streams held unanswered by one connection's calls; past that they wait (flow control).
//! - With TLS ([`tls`]), each connection's handshake runs on its own task, over the guarded
//!   socket, and must end within `handshake_timeout`: a slow one never holds up the accept loop.

pub mod calls;
mod conn;
pub mod fds;
mod stream;
pub mod tls;

pub use conn::{Conn, ConnInfo};
pub use fds::fd_budget;
pub use stream::Stream;

use conn::{ConnState, Table};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The limits at the network edge.
#[derive(Debug, Clone, Copy)]
pub struct NetLimits {
    /// Most open client connections.
    pub max_connections: usize,
    /// A connection that sends no byte within this of being accepted is closed.
    pub handshake_timeout: Duration,
    /// A connection with no call in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Most calls in flight on one connection.
    pub max_calls_per_connection: usize,
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits {
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_calls_per_connection: 64,
        }
    }
}

/// Most messages of client streams (SubmitStream's records) that the calls of one connection
/// hold unanswered: past it they read no further message until one is answered.
pub const MAX_STREAMED_PER_CONNECTION: usize = 1024;

/// How long a new connection waits for an evicted idle one to give up its slot.
const SLOT_WAIT: Duration = Duration::from_millis(500);
/// The longest pause after a failed accept.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The accepted connections of `listener`, each guarded by `limits`, and with `tls` (if given)
/// once their handshake is done; the stream never ends and never yields an error (accept errors
/// are logged and backed off, failed handshakes logged and closed).
pub fn incoming(
    listener: TcpListener,
    limits: NetLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> impl futures::Stream<Item = Result<Stream, std::io::Error>> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let table = Arc::new(Table::default());
    async_stream(move |tx| async move {
        let mut backoff = Duration::from_millis(5);
        loop {
            let (io, remote) = match listener.accept().await {
                Ok(accepted) => {
                    backoff = Duration::from_millis(5);
                    accepted
                }
                Err(e) => {
                    // EMFILE and the like: retrying at once would spin; a pause lets calls finish
                    // and descriptors come back.
                    tracing::warn!(error = %e, pause = ?backoff, "accept failed; pausing");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            let permit = match slots.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    table.evict_idlest();
                    match tokio::time::timeout(SLOT_WAIT, slots.clone().acquire_owned()).await {
                        Ok(Ok(p)) => p,
                        _ => {
                            tracing::warn!(?remote, max = limits.max_connections, "connection limit reached; closing");
                            continue;
                        }
                    }
                }
            };
            // TCP_NODELAY: without it the last frame of each answer waits for the client's
            // delayed ACK, about 40 ms a call on Linux.
            if let Err(e) = io.set_nodelay(true) {
                tracing::warn!(error = %e, "TCP_NODELAY");
            }
            let state = Arc::new(ConnState::new(limits));
            table.insert(&state);
            let conn = Conn::new(io, Some(remote), permit, state, limits);
            let Some(acceptor) = &acceptor else {
                if tx.send(Ok(Stream::Plain(conn))).await.is_err() {
                    return;
                }
                continue;
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(conn)).await {
                    Ok(Ok(tls)) => {
                        let peer = tls::peer_of(tls.get_ref().1.peer_certificates());
                        let _ = tx.send(Ok(Stream::Tls(Box::new(tls), peer))).await;
                    }
                    Ok(Err(e)) => tracing::debug!(?remote, error = %e, "TLS handshake failed; closed"),
                    Err(_) => tracing::debug!(?remote, "TLS handshake not done in time; closed"),
                }
            });
        }
    })
}

/// A stream fed by a task through a small channel (the accept loop above).
fn async_stream<T: Send + 'static, F>(
    f: impl FnOnce(tokio::sync::mpsc::Sender<T>) -> F,
) -> impl futures::Stream<Item = T>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let task = tokio::spawn(f(tx));
    let guard = AbortOnDrop(task);
    futures::stream::poll_fn(move |cx| {
        let _ = &guard;
        rx.poll_recv(cx)
    })
}

/// Ends the accept task when the stream is dropped, so the listening socket closes with it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
