//! The peer channel over mutual TLS under a cluster CA, and each node's Raft metrics.

use super::*;

/// A node's metrics (`GET /metrics` on `addr`), each sample by its name and labels.
async fn scrape(addr: &str) -> std::collections::HashMap<String, f64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { return Default::default() };
    let ask = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    if s.write_all(ask.as_bytes()).await.is_err() || s.read_to_string(&mut text).await.is_err() {
        return Default::default();
    }
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(k, v)| Some((k.to_string(), v.parse().ok()?))))
        .collect()
}

/// A test CA that issues peer certificates for 127.0.0.1.
struct Ca(rcgen::CertifiedIssuer<'static, rcgen::KeyPair>);

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        Ca(rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap())
    }

    /// The CA's certificate and a peer certificate with its key, written under `dir` as `<stem>.*`.
    fn peer(&self, dir: &std::path::Path, stem: &str) -> ebl_ledger::raft::network::PeerTls {
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.0).unwrap();
        let tls = ebl_ledger::raft::network::PeerTls {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
            ca: dir.join(format!("{stem}.ca")),
        };
        std::fs::write(&tls.cert, cert.pem()).unwrap();
        std::fs::write(&tls.key, key.serialize_pem()).unwrap();
        std::fs::write(&tls.ca, self.0.pem()).unwrap();
        tls
    }
}

#[test]
fn peers_talk_over_mutual_tls_under_the_cluster_ca_only() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let op_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let operator_hex = hex::encode(op_key.verifying_key().to_bytes());
        let operator = Identity { party: ebl_core::ids::PartyId::operator(), key: op_key };
        let ca = Ca::new("cluster CA");
        let first = dir.path().join("n1");
        let mut nodes = Vec::new();
        for slot in 1..=3u8 {
            let folder = dir.path().join(format!("n{slot}"));
            init(&folder, ORIGIN, &operator_hex, (slot > 1).then(|| first.join("ledger.key")).as_deref());
            let tls = ca.peer(dir.path(), &format!("peer{slot}"));
            let metrics = vec!["--metrics-listen".to_string(), format!("127.0.0.1:{}", nodes::free_port())];
            nodes.push(Node::new(slot as u64, slot, folder, None, metrics).with_tls(tls));
        }
        for n in &mut nodes {
            n.start();
        }
        let admin_tls = nodes::tls_flags(&ca.peer(dir.path(), "admin"));
        let with_tls = |args: &[&str]| -> Vec<String> {
            args.iter().map(|a| a.to_string()).chain(admin_tls.iter().cloned()).collect()
        };
        let leader = nodes[0].peer_url();
        assert!(leader.starts_with("https://"));
        admin(&leader, &with_tls(&["init"]));
        for n in &nodes[1..] {
            admin(&leader, &with_tls(&["join", "--node", &n.peer_url()]));
        }
        // Writes sent to every node, the followers' forwarded to the leader over mutual TLS.
        let world = World::new(ORIGIN, operator, 2, nodes.iter().map(Node::url).collect());
        let bills = world.setup(3).await;
        let lanes: Vec<_> = bills.iter().enumerate().map(|(i, b)| tokio::spawn(world.clone().lane(i, *b))).collect();
        tokio::time::sleep(Duration::from_secs(2)).await;
        world.stop.store(true, SeqCst);
        for l in lanes {
            l.await.unwrap();
        }
        assert!(world.faults.lock().unwrap().is_empty(), "{:?}", world.faults.lock().unwrap());
        let statuses: Vec<_> = futures::future::join_all(nodes.iter().map(Node::status)).await;
        assert!(statuses.iter().all(|s| s.as_ref().is_some_and(|s| s.nodes.len() == 3)), "{statuses:?}");

        // Each node's metrics: one leader, the same term, and once they agree, the same applied
        // index and log size everywhere; every node applied commands stamped by a leader.
        let scrapes = wait_for(Duration::from_secs(20), || async {
            let mut all = Vec::new();
            for n in &nodes {
                all.push(scrape(&n.flags[1]).await);
            }
            let same = |name: &str| all.iter().all(|m| m.get(name).is_some() && m.get(name) == all[0].get(name));
            (same("ebl_raft_applied_index") && same("ebl_log_size")).then_some(all)
        })
        .await
        .expect("the nodes' metrics agree");
        let leaders: f64 = scrapes.iter().map(|m| m["ebl_raft_leader"]).sum();
        assert_eq!(leaders, 1.0, "exactly one node says it leads");
        assert!(scrapes.iter().all(|m| m["ebl_raft_term"] == scrapes[0]["ebl_raft_term"] && m["ebl_raft_term"] >= 1.0));
        assert!(scrapes.iter().all(|m| m.contains_key("ebl_raft_clock_offset_seconds")));
        assert!(scrapes[0]["ebl_log_size"] >= world.acks.lock().unwrap().len() as f64);

        // Nobody else reaches a peer listener: not without a certificate, not with one from
        // another CA, not in plaintext.
        let peer = format!("https://{}", nodes[1].peer);
        let ask = |connector: ebl_ledger::raft::network::Connector, url: String| async move {
            let mut c = connector.client(&url).unwrap();
            c.status(ebl_ledger::raft::pb::Empty {}).await
        };
        let stranger = Ca::new("another CA").peer(dir.path(), "stranger");
        let no_cert =
            ebl_ledger::raft::network::PeerTls { ca: nodes[1].tls.as_ref().unwrap().ca.clone(), ..stranger.clone() };
        let anonymous = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(std::fs::read(&no_cert.ca).unwrap()));
        let channel = tonic::transport::Endpoint::from_shared(peer.clone()).unwrap().tls_config(anonymous).unwrap();
        let without = match channel.connect().await {
            Ok(ch) => ebl_ledger::raft::pb::peer_client::PeerClient::new(ch)
                .status(ebl_ledger::raft::pb::Empty {})
                .await
                .is_err(),
            Err(_) => true,
        };
        assert!(without, "a peer listener answered a client without a certificate");
        let foreign = ebl_ledger::raft::network::PeerTls { ca: no_cert.ca.clone(), ..stranger };
        assert!(ask(ebl_ledger::raft::network::Connector::new(Some(&foreign)).unwrap(), peer).await.is_err());
        let plain = format!("http://{}", nodes[1].peer);
        assert!(ask(ebl_ledger::raft::network::Connector::default(), plain).await.is_err());
        // The cluster's own certificate is answered.
        let own = ebl_ledger::raft::network::Connector::new(nodes[1].tls.as_ref()).unwrap();
        assert!(ask(own, format!("https://{}", nodes[1].peer)).await.is_ok());
        for n in &mut nodes {
            n.stop();
        }
    });
}
