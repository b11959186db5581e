//! Clients given several servers of one ledger: connecting passes over a server nobody listens
//! on, a call answered UNAVAILABLE goes to the next server (safe for writes: the ledger answers a
//! record sent twice with its original receipt), a ledger stopped mid-test leaves its twin to
//! answer, and `ebl --server A,B` (or EBL_SERVER, or a profile) does the same from the shell.
use crate::common;

use bytes::Bytes;
use common::*;
use ebl_ledger::client::{self, payload, sign, Client, Servers};
use ebl_ledger::pb::{self, record_payload::Action};
use futures::future::BoxFuture;
use http_body_util::StreamBody;
use hyper::body::Frame;
use std::convert::Infallible;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tonic::body::Body;

/// A URL where nothing listens: a port of 127.0.0.1 bound, then closed.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

/// A fake server of `ebl.v1.Ledger` that answers GetInfo with a real ledger's info (so that a
/// client connects to it first) and every other call UNAVAILABLE, trailers-only, as a node that
/// cannot serve does; it keeps the path of every call it got.
#[derive(Clone)]
struct Unavailable {
    info: pb::LedgerInfo,
    // A std mutex: held only to push or read, never across an await.
    paths: Arc<Mutex<Vec<String>>>,
}

impl tonic::server::NamedService for Unavailable {
    const NAME: &'static str = "ebl.v1.Ledger";
}

impl tower::Service<http::Request<Body>> for Unavailable {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path().to_string();
        self.paths.lock().unwrap().push(path.clone());
        let info = self.info.clone();
        Box::pin(async move {
            Ok(match path.as_str() {
                "/ebl.v1.Ledger/GetInfo" => message(&info),
                _ => tonic::Status::unavailable("this node cannot serve").into_http(),
            })
        })
    }
}

/// A gRPC answer of one message, then `grpc-status: 0`.
fn message(m: &impl prost::Message) -> http::Response<Body> {
    let bytes = m.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    framed.extend_from_slice(&bytes);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames: Vec<Result<Frame<Bytes>, Infallible>> =
        vec![Ok(Frame::data(Bytes::from(framed))), Ok(Frame::trailers(trailers))];
    let mut r = http::Response::new(Body::new(StreamBody::new(futures::stream::iter(frames))));
    r.headers_mut().insert("content-type", http::HeaderValue::from_static("application/grpc"));
    r
}

impl Unavailable {
    /// Serves it on 127.0.0.1: its URL.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tonic::transport::Server::builder().add_service(self.clone());
        tokio::spawn(server.serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)));
        url
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

/// The operator's REGISTER_PARTY of `party`, after the registry head `l` has now.
async fn registration(l: &mut TestLedger, party: &str) -> pb::SignedRecord {
    let link = l.client.registry_link().await.unwrap();
    let action: Action = client::register_party(party, party, pb::Role::Trader, &[], lei("FAILOVER000000000001"));
    let p = payload(ORIGIN, None, link, ebl_core::ids::OPERATOR, None, ebl_core::time::Timestamp::now(), action);
    sign(&p, &[&l.operator])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_given_a_dead_server_first_connects_to_the_live_one_and_submits() {
    let mut l = TestLedger::start().await;
    let dead = dead_url();
    let mut c = Client::connect_to(Servers::new([dead.clone(), l.url.clone()])).await.unwrap();
    assert_eq!(c.origin(), ORIGIN);
    assert_eq!(c.failover().urls().collect::<Vec<_>>(), [dead.as_str(), l.url.as_str()]);
    assert_eq!(c.failover().current(), Some(l.url.as_str()));
    let rec = registration(&mut l, "cq-failover").await;
    let receipt = c.submit(rec).await.unwrap();
    assert_eq!((receipt.action.as_str(), receipt.duplicate), ("REGISTER_PARTY", false));
    assert_eq!(l.info().await.log_size, receipt.seq + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_answered_unavailable_goes_to_the_next_server_and_a_write_sent_twice_is_one_record() {
    let mut l = TestLedger::start().await;
    let fake = Unavailable { info: l.info().await, paths: Arc::default() };
    let fake_url = fake.start().await;
    let mut c = Client::connect_to(Servers::new([fake_url.clone(), l.url.clone()])).await.unwrap();
    // The fake answered GetInfo, so calls go to it first.
    assert_eq!(c.failover().current(), Some(fake_url.as_str()));
    let rec = registration(&mut l, "cq-failover").await;
    let receipt = c.submit(rec.clone()).await.unwrap();
    assert_eq!(fake.paths(), ["/ebl.v1.Ledger/GetInfo", "/ebl.v1.Ledger/Submit"]);
    assert_eq!(c.failover().current(), Some(l.url.as_str()));
    assert!(!receipt.duplicate);
    // The next call goes straight to the ledger that answered.
    let op = l.operator.clone();
    let registry = c.registry(&op, 0).await.unwrap();
    let last = registry.last().and_then(|r| r.receipt.as_ref()).map(|r| r.record_hash.clone());
    assert_eq!(last, Some(receipt.record_hash.clone()));
    assert_eq!(fake.paths().len(), 2, "{:?}", fake.paths());
    // The record again (as after an answer lost on the way): its original receipt, marked.
    let again = l.client.submit(rec).await.unwrap();
    assert_eq!((again.seq, again.record_hash.clone(), again.duplicate), (receipt.seq, receipt.record_hash, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_ledger_that_answered_stops_the_calls_go_to_its_twin() {
    let l = TestLedger::start().await;
    let (mut a, mut b) = l.twin().await;
    let mut c = Client::connect_to(Servers::new([a.url.clone(), b.url.clone()])).await.unwrap();
    assert_eq!(c.failover().current(), Some(a.url.as_str()));
    let before = b.info().await.log_size;
    let rec = registration(&mut b, "cq-failover").await;
    let _folder = a.stop().await;
    let receipt = c.submit(rec).await.unwrap();
    assert_eq!((receipt.seq, receipt.duplicate), (before, false));
    assert_eq!(b.info().await.log_size, before + 1);
    assert_eq!(c.failover().current(), Some(b.url.as_str()));
}

/// `ebl` with no configuration file or `EBL_*` server settings of the environment.
fn ebl(config_home: &std::path::Path) -> Command {
    let mut c = Command::new(ebl_bin());
    c.env_remove("EBL_SERVER").env_remove("EBL_PROFILE").env_remove("EBL_CONFIG").env("XDG_CONFIG_HOME", config_home);
    c
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebl_takes_several_servers_by_flag_variable_or_profile_and_passes_over_a_dead_one() {
    let l = TestLedger::start().await;
    let (dead, other_dead, live) = (dead_url(), dead_url(), l.url.clone());
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let list = format!("{dead},{live}");
        let origin =
            |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok().map(|v| v["origin"].clone());
        let out = ebl(&h).args(["--json", "--server", &list, "info"]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(origin(&out), Some(ORIGIN.into()), "{}", text(&out));
        let out = ebl(&h).args(["--json", "info"]).env("EBL_SERVER", format!("{dead}, {live}")).output().unwrap();
        assert_eq!(origin(&out), Some(ORIGIN.into()), "EBL_SERVER: {}", text(&out));
        // A profile written with the list reads it back.
        let out = ebl(&h).args(["--server", &list, "config", "set-profile", "cluster", "--use"]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let file = std::fs::read_to_string(h.join("ebl/config.toml")).unwrap();
        assert!(file.contains(&format!("server = \"{list}\"")), "{file}");
        let out = ebl(&h).args(["--json", "info"]).output().unwrap();
        assert_eq!(origin(&out), Some(ORIGIN.into()), "profile: {}", text(&out));
        // Nothing listens at any: unavailable (6), each URL said; a URL of no scheme: usage (2).
        let out = ebl(&h).args(["--server", &format!("{dead},{other_dead}"), "info"]).output().unwrap();
        assert_eq!(out.status.code(), Some(6), "{}", text(&out));
        assert!(text(&out).contains(&dead) && text(&out).contains(&other_dead), "{}", text(&out));
        let out = ebl(&h).args(["--server", &format!("{live},127.0.0.1:1"), "info"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    })
    .await
    .unwrap();
}
