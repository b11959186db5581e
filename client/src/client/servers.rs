//! Several servers of one ledger, with one CA bundle and one client identity for all: connecting
//! tries them in the order given until one answers GetInfo, and the client's calls then fail
//! over between all of them ([`super::failover`]). One server is the case of one URL.

use super::connect::{ConnectError, Server};
use super::failover::{Failover, RetryPolicy};
use crate::pb::{self, ledger_client::LedgerClient};
use std::path::PathBuf;
use tonic::transport::{Channel, Endpoint};

/// The servers of one ledger to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    /// Their URLs, `http://HOST:PORT` or `https://HOST:PORT`, in the order to try them.
    pub urls: Vec<String>,
    /// For `https://`: the CA bundle (PEM) to trust instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// For servers that require mutual TLS: this client's certificate and key (PEM).
    pub identity: Option<(PathBuf, PathBuf)>,
    /// How hard each call tries before it gives up.
    pub retry: RetryPolicy,
}

impl Servers {
    /// Servers at `urls`, trusting the system's roots for `https://`.
    pub fn new<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        let urls = urls.into_iter().map(Into::into).collect();
        Servers { urls, ca: None, identity: None, retry: RetryPolicy::default() }
    }

    /// Each server, with the shared CA bundle and client identity, in order.
    pub fn each(&self) -> impl Iterator<Item = Server> + '_ {
        self.urls.iter().map(|url| Server { url: url.clone(), ca: self.ca.clone(), identity: self.identity.clone() })
    }

    /// A [`Failover`] over these servers, none of them connected yet: each is when a call
    /// first goes to it, the first server first. Must be called within a Tokio runtime.
    pub fn failover(&self) -> Result<Failover, ConnectError> {
        let nodes = self.each().map(|s| Ok((s.url.clone(), s.endpoint()?.connect_lazy())));
        Ok(Failover::new(nodes.collect::<Result<_, ConnectError>>()?, self.retry.clone()))
    }

    /// Connects to the first server that answers GetInfo, trying them in order; the others are
    /// kept, to be connected when a call fails over to them. A server that cannot be reached,
    /// or answers UNAVAILABLE, is passed over; any other answer is returned as it is. A URL that
    /// cannot be a server's (see [`Server::endpoint`]) is an error before anything is tried.
    pub(super) async fn connect(&self) -> Result<(Failover, pb::LedgerInfo), ConnectError> {
        let servers: Vec<Server> = self.each().collect();
        let endpoints = servers.iter().map(Server::endpoint).collect::<Result<Vec<_>, _>>()?;
        let mut passed = Vec::new();
        for (i, server) in servers.iter().enumerate() {
            match first_answer(server, &endpoints[i]).await {
                Ok((channel, info)) => {
                    let nodes = (servers.iter().zip(&endpoints).enumerate())
                        .map(|(j, (s, e))| (s.url.clone(), if j == i { channel.clone() } else { e.connect_lazy() }))
                        .collect();
                    return Ok((Failover::new(nodes, self.retry.clone()).starting_at(i), info));
                }
                Err(e) if e.passed_over() => passed.push((server.url.clone(), e)),
                Err(e) => return Err(e),
            }
        }
        Err(match passed.len() {
            0 => ConnectError::Unreachable { url: String::new(), why: "no server URL was given".into() },
            1 => passed.remove(0).1,
            _ => ConnectError::NoneAnswered(passed),
        })
    }
}

/// `server`'s channel and its answer to GetInfo.
async fn first_answer(server: &Server, endpoint: &Endpoint) -> Result<(Channel, pb::LedgerInfo), ConnectError> {
    let channel = server.connect(endpoint).await?;
    let mut grpc = LedgerClient::new(channel.clone())
        .max_decoding_message_size(crate::wire::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::wire::MAX_MESSAGE_BYTES);
    let info = grpc.get_info(pb::GetInfoRequest {}).await.map_err(|s| server.first_call_failed(s))?;
    Ok((channel, info.into_inner()))
}

impl std::fmt::Display for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.urls.join(","))
    }
}

impl From<Server> for Servers {
    fn from(s: Server) -> Self {
        Servers { urls: vec![s.url], ca: s.ca, identity: s.identity, retry: RetryPolicy::default() }
    }
}

impl From<&Server> for Servers {
    fn from(s: &Server) -> Self {
        Servers::from(s.clone())
    }
}

impl From<&Servers> for Servers {
    fn from(s: &Servers) -> Self {
        s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_shares_the_ca_and_identity_and_the_list_prints_as_given() {
        let mut s = Servers::new(["https://a:1", "https://b:2"]);
        s.ca = Some("ca.pem".into());
        let each: Vec<Server> = s.each().collect();
        assert_eq!(each.iter().map(|s| s.url.as_str()).collect::<Vec<_>>(), ["https://a:1", "https://b:2"]);
        assert!(each.iter().all(|e| e.ca == s.ca && e.identity.is_none()));
        assert_eq!(s.to_string(), "https://a:1,https://b:2");
        assert_eq!(Servers::from(&Server::new("http://c:3")).urls, ["http://c:3"]);
    }

    #[tokio::test]
    async fn a_bad_url_anywhere_in_the_list_is_refused_before_any_server_is_tried() {
        let s = Servers::new(["http://127.0.0.1:1", "ftp://b:2"]);
        match s.connect().await {
            Err(ConnectError::Unreachable { url, why }) => {
                assert_eq!(url, "ftp://b:2");
                assert!(why.contains("must start with http://"), "{why}");
            }
            other => panic!("expected the bad URL's error, got {:?}", other.map(|(f, _)| f)),
        }
    }

    #[tokio::test]
    async fn when_no_server_answers_each_says_why_in_the_order_tried() {
        let dead = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            format!("http://{}", l.local_addr().expect("address"))
        };
        let (a, b) = (dead(), dead());
        let e = Servers::new([a.clone(), b.clone()]).connect().await.expect_err("nothing listens");
        let ConnectError::NoneAnswered(tried) = &e else { panic!("{e}") };
        assert_eq!(tried.len(), 2, "{e}");
        let text = e.to_string();
        assert!(text.find(&a).zip(text.find(&b)).is_some_and(|(i, j)| i < j), "{text}");
        // One server: its own error, as before there were several.
        let one = Servers::new([a.clone()]).connect().await.expect_err("nothing listens");
        assert!(matches!(&one, ConnectError::Unreachable { url, .. } if *url == a), "{one}");
    }
}
