//! An accepted connection as the server reads it: the guarded socket itself, or TLS over it.
//! Either way the guard (slot, handshake and idle timers, eviction) is the socket's, underneath.

use super::tls::Peer;
use super::{Conn, ConnInfo};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::server::Connected;

/// A guarded connection, plaintext or TLS.
pub enum Stream {
    /// Plaintext (loopback, or `--insecure-plaintext`).
    Plain(Conn),
    /// TLS, its handshake done, and who its client certificate names.
    Tls(Box<tokio_rustls::server::TlsStream<Conn>>, Peer),
}

impl Connected for Stream {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        match self {
            Stream::Plain(c) => c.connect_info(),
            Stream::Tls(t, peer) => ConnInfo { peer: peer.clone(), ..t.get_ref().0.connect_info() },
        }
    }
}

/// Calls `$f` on whichever stream this is, pinned.
macro_rules! either {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            Stream::Tls($s, _) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        either!(self, s => s.poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => s.poll_shutdown(cx))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        either!(self, s => s.poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(c) => c.is_write_vectored(),
            Stream::Tls(t, _) => t.is_write_vectored(),
        }
    }
}
