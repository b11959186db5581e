//! One guarded connection: the socket, its slot, and the timer that closes it when it has said
//! nothing since it was accepted or has been idle too long, or when it is evicted to make room.

use super::NetLimits;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::Connected;

/// What the connection's guard and the call counter share.
pub struct ConnState {
    accepted: Instant,
    /// Calls in flight.
    pub(super) calls: AtomicUsize,
    /// Milliseconds after `accepted` of the last call's start or end.
    last_call_ms: AtomicU64,
    /// Whether any byte has arrived.
    spoke: AtomicBool,
    evicted: AtomicBool,
    // std Mutex: set in poll_read and taken by an eviction, never held across an await.
    waker: Mutex<Option<Waker>>,
    limits: NetLimits,
    /// Places for the messages of client streams that the connection's calls hold unanswered
    /// ([`super::MAX_STREAMED_PER_CONNECTION`]): a call waits for one before it reads the next.
    pub streamed: Arc<tokio::sync::Semaphore>,
}

impl ConnState {
    pub(super) fn new(limits: NetLimits) -> Self {
        ConnState {
            accepted: Instant::now(),
            calls: AtomicUsize::new(0),
            last_call_ms: AtomicU64::new(0),
            spoke: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            waker: Mutex::new(None),
            limits,
            streamed: Arc::new(tokio::sync::Semaphore::new(super::MAX_STREAMED_PER_CONNECTION)),
        }
    }

    /// Marks a call's start or end.
    pub(super) fn touch(&self) {
        self.last_call_ms.store(self.accepted.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_since(&self) -> Option<Instant> {
        (self.calls.load(Ordering::Relaxed) == 0)
            .then(|| self.accepted + std::time::Duration::from_millis(self.last_call_ms.load(Ordering::Relaxed)))
    }

    /// When the guard must look again, or `None` if the connection must close now.
    fn deadline(&self, now: Instant) -> Option<Instant> {
        if self.evicted.load(Ordering::Relaxed) {
            return None;
        }
        let due = if !self.spoke.load(Ordering::Relaxed) {
            self.accepted + self.limits.handshake_timeout
        } else {
            match self.idle_since() {
                Some(since) => since + self.limits.idle_timeout,
                None => now + self.limits.idle_timeout,
            }
        };
        (due > now).then_some(due)
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Relaxed);
        if let Some(w) = self.waker.lock().expect("waker lock poisoned").take() {
            w.wake();
        }
    }
}

/// The open connections, so that the idlest can be evicted when every slot is taken.
#[derive(Default)]
pub(super) struct Table {
    // std Mutex: a short scan on accept, never held across an await.
    conns: Mutex<Vec<Weak<ConnState>>>,
}

impl Table {
    pub(super) fn insert(&self, c: &Arc<ConnState>) {
        let mut conns = self.conns.lock().expect("connection table lock poisoned");
        conns.retain(|w| w.strong_count() > 0);
        conns.push(Arc::downgrade(c));
    }

    /// Closes the connection idle the longest (one that never spoke counts as idle since it was
    /// accepted); a connection with a call in flight is never evicted.
    pub(super) fn evict_idlest(&self) {
        let conns = self.conns.lock().expect("connection table lock poisoned");
        let idlest = conns
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|c| !c.evicted.load(Ordering::Relaxed))
            .filter_map(|c| c.idle_since().map(|since| (since, c)))
            .min_by_key(|(since, _)| *since);
        if let Some((_, c)) = idlest {
            tracing::debug!("evicting the idlest connection to make room");
            c.evict();
        }
    }
}

/// What a call can learn of its connection (a request extension).
#[derive(Clone)]
pub struct ConnInfo {
    /// The client's address.
    pub remote: Option<SocketAddr>,
    /// The connection's shared state.
    pub state: Arc<ConnState>,
    /// Who the connection's TLS client certificate names (mutual TLS).
    pub peer: super::tls::Peer,
}

/// An accepted socket under its guard.
pub struct Conn {
    io: TcpStream,
    remote: Option<SocketAddr>,
    _slot: OwnedSemaphorePermit,
    state: Arc<ConnState>,
    timer: Pin<Box<Sleep>>,
}

impl Conn {
    pub(super) fn new(
        io: TcpStream,
        remote: Option<SocketAddr>,
        slot: OwnedSemaphorePermit,
        state: Arc<ConnState>,
        limits: NetLimits,
    ) -> Self {
        let timer = Box::pin(tokio::time::sleep(limits.handshake_timeout));
        Conn { io, remote, _slot: slot, state, timer }
    }

    /// Whether the connection must close now; otherwise the timer is armed for the next look.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        *self.state.waker.lock().expect("waker lock poisoned") = Some(cx.waker().clone());
        loop {
            let Some(due) = self.state.deadline(Instant::now()) else { return true };
            if self.timer.deadline() != due {
                self.timer.as_mut().reset(due);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        ConnInfo { remote: self.remote, state: self.state.clone(), peer: super::tls::Peer::Anyone }
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "connection idle or evicted")));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.spoke.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
