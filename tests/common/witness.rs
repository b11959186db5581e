//! An in-process witness for the tests that need one.

use super::key;
use ebl_ledger::checkpoint::push::WitnessTarget;
use ed25519_dalek::SigningKey;
use std::sync::Arc;
use tokio::sync::oneshot;

/// An in-process witness (`ebl_ledger::witness`) on 127.0.0.1, with its state in a temporary
/// folder that survives [`TestWitness::restart`].
pub struct TestWitness {
    pub name: String,
    pub key: SigningKey,
    pub logs: Vec<ebl_core::log::VerifierKey>,
    pub addr: std::net::SocketAddr,
    pub state: Arc<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestWitness {
    /// A new witness named `name` for the logs `logs`, on a free port.
    pub async fn start(name: &str, logs: Vec<ebl_core::log::VerifierKey>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(name, key(), logs, Arc::new(tempfile::tempdir().unwrap()), listener)
    }

    fn serve(
        name: &str,
        key: SigningKey,
        logs: Vec<ebl_core::log::VerifierKey>,
        state: Arc<tempfile::TempDir>,
        listener: tokio::net::TcpListener,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let w = ebl_ledger::witness::Witness::open(name, key.clone(), logs.clone(), state.path()).unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            ebl_ledger::witness::serve(listener, w, None, async {
                rx.await.ok();
            })
            .await
            .unwrap();
        });
        TestWitness { name: name.into(), key, logs, addr, state, shutdown: Some(tx), task: Some(task) }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its verifier key (cosignature/v1).
    pub fn verifier_key(&self) -> ebl_core::log::VerifierKey {
        ebl_core::log::VerifierKey::from_signing_key(&self.name, ebl_core::log::KeyKind::CosignatureV1, &self.key)
            .unwrap()
    }

    /// What a ledger is configured with to push to it.
    /// The checkpoint of the test ledger's log this witness last cosigned (from its state file).
    pub fn witnessed(&self) -> ebl_core::log::Checkpoint {
        let path = ebl_ledger::witness::state::file_of(self.state.path(), super::ORIGIN);
        ebl_core::log::Checkpoint::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    pub fn target(&self) -> WitnessTarget {
        WitnessTarget::parse(&format!("{}={}", self.url(), self.verifier_key()), None).unwrap()
    }

    /// Stops it (its port is then closed).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
            self.task.take().unwrap().await.unwrap();
        }
    }

    /// Stops it and starts it again on the same port and state folder.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        self.start_again().await
    }

    /// Starts a stopped witness again on the same port and state folder.
    pub async fn start_again(&self) -> Self {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        Self::serve(&self.name, self.key.clone(), self.logs.clone(), self.state.clone(), listener)
    }

    /// POSTs a raw add-checkpoint body.
    pub async fn post(&self, body: String) -> ebl_ledger::witness::client::HttpAnswer {
        let url = ebl_ledger::witness::client::Endpoint::new(&self.url(), None).unwrap();
        ebl_ledger::witness::client::add_checkpoint(&url, body, std::time::Duration::from_secs(10)).await.unwrap()
    }
}
