//! The links between the nodes, under the test's control: every node's peer listener is reached
//! through a proxy of its own, and every node's peer connections leave from a loopback address of
//! its own (`ebld --peer-source-address 127.0.0.1N`), so the proxy of node B knows a connection
//! from node A by its source and can cut (partitions) or delay the link from A to B. Cutting a
//! link also closes the connections open on it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The loopback address node slot `slot` (1, 2, 3...) connects from.
pub fn source_of(slot: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + slot))
}

fn slot_of(ip: IpAddr) -> Option<u8> {
    match ip {
        IpAddr::V4(v4) if v4.octets()[..3] == [127, 0, 0] && v4.octets()[3] > 10 => Some(v4.octets()[3] - 10),
        _ => None,
    }
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Link {
    cut: bool,
    delay: Duration,
}

/// Every link's state; a change wakes every connection so that a cut link closes at once.
#[derive(Clone)]
pub struct Links {
    links: Arc<Mutex<HashMap<(u8, u8), Link>>>,
    changed: watch::Sender<u64>,
}

impl Links {
    /// Every link open, none delayed.
    pub fn new() -> Self {
        Links { links: Arc::default(), changed: watch::channel(0).0 }
    }

    fn get(&self, from: u8, to: u8) -> Link {
        self.links.lock().unwrap().get(&(from, to)).copied().unwrap_or_default()
    }

    fn set(&self, a: u8, b: u8, f: impl Fn(&mut Link)) {
        {
            let mut links = self.links.lock().unwrap();
            f(links.entry((a, b)).or_default());
            f(links.entry((b, a)).or_default());
        }
        self.changed.send_modify(|g| *g += 1);
    }

    /// Cuts node `slot` off from every other of `slots`, both ways.
    pub fn isolate(&self, slot: u8, slots: &[u8]) {
        for other in slots.iter().filter(|s| **s != slot) {
            self.set(slot, *other, |l| l.cut = true);
        }
    }

    /// Delays every byte between `a` and `b` by `delay`, both ways.
    pub fn delay(&self, a: u8, b: u8, delay: Duration) {
        self.set(a, b, |l| l.delay = delay);
    }

    /// Every link open and undelayed again.
    pub fn heal(&self) {
        self.links.lock().unwrap().clear();
        self.changed.send_modify(|g| *g += 1);
    }

    /// Proxies connections to `listener` on to `target` (node slot `to`'s peer listener).
    pub fn serve(&self, listener: TcpListener, target: SocketAddr, to: u8) {
        let links = self.clone();
        tokio::spawn(async move {
            while let Ok((inbound, from)) = listener.accept().await {
                let links = links.clone();
                tokio::spawn(async move {
                    // Connections from elsewhere (the test's own administration) always pass.
                    let from = slot_of(from.ip());
                    let link = |l: &Links| from.map_or(Link::default(), |f| l.get(f, to));
                    if link(&links).cut {
                        return;
                    }
                    let Ok(outbound) = TcpStream::connect(target).await else { return };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    let mut changed = links.changed.subscribe();
                    let there = pump(ri, wo, links.clone(), from, to);
                    let back = pump(ro, wi, links.clone(), from, to);
                    let cut = async {
                        loop {
                            if changed.changed().await.is_err() || link(&links).cut {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        _ = async { tokio::join!(there, back) } => {}
                        () = cut => {}
                    }
                });
            }
        });
    }
}

/// Copies bytes one way, each read delayed by the link's delay.
async fn pump(
    mut from_side: tokio::net::tcp::OwnedReadHalf,
    mut to_side: tokio::net::tcp::OwnedWriteHalf,
    links: Links,
    from: Option<u8>,
    to: u8,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from_side.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let delay = from.map_or(Duration::ZERO, |f| links.get(f, to).delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if to_side.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to_side.shutdown().await;
}
