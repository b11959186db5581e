//! The failover against fake servers of `ebl.v1.Ledger` on 127.0.0.1 that answer every call the
//! same way and count what they were sent.

use super::*;
use crate::pb::{self, ledger_client::LedgerClient};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use std::convert::Infallible;
use std::sync::Mutex;
use tonic::{Code, Status};

/// How a fake server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// UNAVAILABLE, trailers-only.
    Unavailable,
    /// FAILED_PRECONDITION, trailers-only.
    Refused,
    /// OK, with an empty message (any message type's default).
    Empty,
    /// HTTP 503 without a gRPC status, as a proxy in front of a stopped server says it.
    Proxy503,
    /// UNAVAILABLE `NOT_LEADER` (a cluster's node during an election) for this many calls, then
    /// as [`Answer::Empty`].
    NotLeader(usize),
}

/// A fake server: its answer, and the bodies of the requests it got.
#[derive(Clone)]
struct Fake {
    answer: Answer,
    // A std mutex: held only to push or read, never across an await.
    got: Arc<Mutex<Vec<Bytes>>>,
}

impl tonic::server::NamedService for Fake {
    const NAME: &'static str = "ebl.v1.Ledger";
}

impl Service<http::Request<Body>> for Fake {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (answer, got) = (self.answer, self.got.clone());
        Box::pin(async move {
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let hits = {
                let mut got = got.lock().expect("not poisoned");
                got.push(body);
                got.len()
            };
            Ok(match answer {
                Answer::NotLeader(n) if hits <= n => {
                    use tonic_types::{ErrorDetails, StatusExt};
                    let mut details = ErrorDetails::new();
                    details.set_error_info(
                        crate::client::codes::NOT_LEADER,
                        "ebl.v1",
                        std::collections::HashMap::new(),
                    );
                    Status::with_error_details(Code::Unavailable, "fake: no leader yet", details).into_http()
                }
                Answer::NotLeader(_) => empty_message(),
                Answer::Unavailable => Status::unavailable("fake: unavailable").into_http(),
                Answer::Refused => Status::failed_precondition("fake: refused").into_http(),
                Answer::Empty => empty_message(),
                Answer::Proxy503 => {
                    let mut r = http::Response::new(Body::empty());
                    *r.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                    r
                }
            })
        })
    }
}

/// A gRPC answer of one empty message: its 5-byte frame header, then `grpc-status: 0`.
fn empty_message() -> http::Response<Body> {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames: Vec<Result<Frame<Bytes>, Infallible>> =
        vec![Ok(Frame::data(Bytes::from_static(&[0; 5]))), Ok(Frame::trailers(trailers))];
    let mut r = http::Response::new(Body::new(StreamBody::new(futures::stream::iter(frames))));
    r.headers_mut().insert("content-type", http::HeaderValue::from_static("application/grpc"));
    r
}

impl Fake {
    /// Serves a fake answering `answer` on 127.0.0.1; it and its URL.
    async fn start(answer: Answer) -> (Fake, String) {
        let fake = Fake { answer, got: Arc::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let server = tonic::transport::Server::builder().add_service(fake.clone());
        tokio::spawn(server.serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)));
        (fake, url)
    }

    /// How many requests it got.
    fn hits(&self) -> usize {
        self.got.lock().expect("not poisoned").len()
    }
}

/// A URL where nothing listens (a port bound, then closed).
fn dead() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", l.local_addr().expect("address"))
}

fn failover(urls: &[&str], retry: RetryPolicy) -> Failover {
    crate::client::Servers { retry, ..crate::client::Servers::new(urls.iter().copied()) }.failover().expect("URLs")
}

async fn get_info(f: &Failover) -> Result<pb::LedgerInfo, Status> {
    LedgerClient::new(f.clone()).get_info(pb::GetInfoRequest {}).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn an_unavailable_server_is_passed_over_and_the_next_one_answers_the_calls_after() {
    let (down, a) = Fake::start(Answer::Unavailable).await;
    let (up, b) = Fake::start(Answer::Empty).await;
    let f = failover(&[&a, &b], RetryPolicy::default());
    assert_eq!(get_info(&f).await.expect("the second server answers"), pb::LedgerInfo::default());
    assert_eq!((down.hits(), up.hits()), (1, 1));
    assert_eq!(f.current(), Some(b.as_str()));
    get_info(&f).await.expect("answered again");
    assert_eq!((down.hits(), up.hits()), (1, 2), "the next call goes to the server that answered");
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_or_a_proxy_saying_503_is_passed_over() {
    let (proxy, p) = Fake::start(Answer::Proxy503).await;
    let (up, b) = Fake::start(Answer::Empty).await;
    let f = failover(&[&dead(), &p, &b], RetryPolicy::default());
    get_info(&f).await.expect("the third server answers");
    assert_eq!((proxy.hits(), up.hits()), (1, 1));
    assert_eq!(f.current(), Some(b.as_str()));
}

#[tokio::test]
async fn a_write_sent_again_carries_the_same_bytes() {
    let (down, a) = Fake::start(Answer::Unavailable).await;
    let (up, b) = Fake::start(Answer::Empty).await;
    let record = pb::SignedRecord { payload: vec![7; 3000], signatures: vec![] };
    let mut grpc = LedgerClient::new(failover(&[&a, &b], RetryPolicy::default()));
    grpc.submit(record).await.expect("the second server answers");
    let (first, again) = (down.got.lock().expect("lock")[0].clone(), up.got.lock().expect("lock")[0].clone());
    assert!(first.len() > 3000, "{} bytes", first.len());
    assert_eq!(first, again);
}

#[tokio::test]
async fn when_every_server_is_unavailable_each_is_asked_once_and_the_last_answer_is_the_calls() {
    let (one, a) = Fake::start(Answer::Unavailable).await;
    let (two, b) = Fake::start(Answer::Unavailable).await;
    let e = get_info(&failover(&[&a, &b], RetryPolicy::default())).await.expect_err("no server answers");
    assert_eq!((e.code(), e.message()), (Code::Unavailable, "fake: unavailable"));
    assert_eq!((one.hits(), two.hits()), (1, 1), "a server that answered is not asked again");
}

/// A server that accepts connections and closes them at once; it counts the connections.
async fn closing() -> (Arc<AtomicUsize>, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (accepted, addr)
}

#[tokio::test]
async fn a_server_that_could_not_be_connected_to_is_tried_again_in_the_next_rounds() {
    // Over TLS, the handshake fails: the request was never sent.
    let tls = |addr: std::net::SocketAddr, rounds: u32| {
        let mut s = crate::client::Servers::new([format!("https://{addr}")]);
        s.ca = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/src/cli/keys/testdata/cert.pem").into());
        s.retry.rounds = rounds;
        s.failover().expect("a URL and a CA")
    };
    let (accepted, addr) = closing().await;
    get_info(&tls(addr, 2)).await.expect_err("never answers");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    let (accepted, addr) = closing().await;
    get_info(&tls(addr, 3)).await.expect_err("never answers");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_server_whose_connection_failed_once_made_is_not_sent_the_request_again() {
    // In plaintext, the connection is made, then lost: the request may have been on its way.
    let (accepted, addr) = closing().await;
    let (down, b) = Fake::start(Answer::Unavailable).await;
    let e = get_info(&failover(&[&format!("http://{addr}"), &b], RetryPolicy::default())).await.expect_err("none");
    assert_eq!((e.code(), e.message()), (Code::Unavailable, "fake: unavailable"), "the last failure is the call's");
    assert_eq!((accepted.load(Ordering::SeqCst), down.hits()), (1, 1));
}

#[test]
fn a_connect_error_anywhere_in_the_chain_means_never_sent() {
    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] tonic::ConnectError);
    let refused = || tonic::ConnectError(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into());
    assert!(never_sent(&refused()));
    assert!(never_sent(&Outer(refused())));
    assert!(!never_sent(&std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
}

#[tokio::test]
async fn any_other_answer_is_final_and_goes_to_no_other_server() {
    let (refusing, a) = Fake::start(Answer::Refused).await;
    let (up, b) = Fake::start(Answer::Empty).await;
    let f = failover(&[&a, &b], RetryPolicy::default());
    let e = get_info(&f).await.expect_err("refused");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!((refusing.hits(), up.hits()), (1, 0));
    assert_eq!(f.current(), Some(a.as_str()));
}

#[tokio::test]
async fn no_attempt_starts_after_the_deadline() {
    let (one, a) = Fake::start(Answer::Unavailable).await;
    let (two, b) = Fake::start(Answer::Empty).await;
    let f = failover(&[&a, &b], RetryPolicy { deadline: Duration::ZERO, ..RetryPolicy::default() });
    assert_eq!(get_info(&f).await.expect_err("past the deadline").code(), Code::Unavailable);
    assert_eq!((one.hits(), two.hits()), (1, 0));
}

#[tokio::test]
async fn with_no_server_a_call_fails() {
    let e = get_info(&Failover::new(vec![], RetryPolicy::default())).await.expect_err("no server");
    assert!(e.message().contains("no ledger server"), "{e:?}");
}

#[test]
fn the_pause_before_each_round_doubles_from_the_back_off() {
    let p = RetryPolicy { backoff: Duration::from_millis(100), ..RetryPolicy::default() };
    let pauses: Vec<u128> = (0..4).map(|r| p.pause_before(r).as_millis()).collect();
    assert_eq!(pauses, [0, 100, 200, 400]);
    assert!(p.pause_before(u32::MAX) >= p.pause_before(17), "no overflow");
}

#[test]
fn unavailable_is_grpc_status_14_in_the_headers_or_an_http_status_read_as_unavailable() {
    let with = |status: u16, grpc: Option<&'static str>| {
        let mut r = http::Response::new(());
        *r.status_mut() = http::StatusCode::from_u16(status).expect("status");
        if let Some(code) = grpc {
            r.headers_mut().insert("grpc-status", http::HeaderValue::from_static(code));
        }
        unavailable(&r)
    };
    assert!(with(200, Some("14")));
    assert!(!with(200, Some("9")) && !with(200, Some("0")) && !with(200, None));
    assert!(with(503, None) && with(502, None) && with(504, None) && with(429, None));
    assert!(!with(404, None) && !with(503, Some("13")));
}

#[tokio::test]
async fn nodes_that_answer_not_leader_are_asked_again_until_one_leads() {
    // An election: both nodes say NOT_LEADER twice, then the second one leads.
    let (a_node, a) = Fake::start(Answer::NotLeader(usize::MAX)).await;
    let (b_node, b) = Fake::start(Answer::NotLeader(2)).await;
    let f = failover(&[&a, &b], RetryPolicy::default());
    get_info(&f).await.expect("answered once a node leads");
    assert_eq!((a_node.hits(), b_node.hits()), (3, 3), "each asked again in the later rounds");
    assert_eq!(f.current(), Some(b.as_str()));
    // Plain UNAVAILABLE (another reason) is still asked once only.
    let (down, d) = Fake::start(Answer::Unavailable).await;
    let g = failover(&[&d], RetryPolicy::default());
    assert_eq!(get_info(&g).await.expect_err("unavailable").code(), Code::Unavailable);
    assert_eq!(down.hits(), 1);
}
