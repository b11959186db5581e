//! SubmitStream: records arrive as a stream and their results leave in the same order, each as
//! soon as the writer has made it durable. Two tasks per stream: the intake reads what has
//! arrived (up to a batch's worth, and only while the stream and its connection have places for
//! unanswered records: past them it reads nothing, and HTTP/2 flow control holds the client
//! back), checks it as SubmitBatch does and queues it for the writer; the answerer waits for the
//! writer's answers in order and sends them. So the checks of one step run while the step before
//! it is being written. A refused record's error takes its place in the stream. An answer that
//! says the ledger cannot take writes now (UNAVAILABLE: a leader change, the writer stopped, the
//! disk reserve) ends the stream with that status, after the results before it: the client sends
//! the records without a result again, and those the ledger did take come back as duplicates.
//! On a follower of a cluster, each step goes to the leader as one batch.

use super::{cluster, peer, status, submit};
use crate::error::LedgerError;
use crate::net::tls::Peer;
use crate::net::ConnInfo;
use crate::pb;
use crate::service::gate::Pass;
use crate::service::{Shared, MAX_BATCH_RECORDS};
use crate::writer::Queued;
use ebl_core::sig::PublicKey;
use ebl_core::RuleError;
use futures::{FutureExt, Stream, StreamExt};
use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tonic::{Request, Status, Streaming};

/// Most records of one stream awaiting their results.
pub const MAX_STREAM_IN_FLIGHT: usize = 512;
/// A stream that sends no record for this long, while it awaits no result, is ended
/// (RESOURCE_EXHAUSTED `STREAM_IDLE`).
pub const STREAM_IDLE: Duration = Duration::from_secs(300);
/// Results decided but not yet taken by the client: past them the answerer waits.
const RESULTS_QUEUED: usize = 64;

/// The results, as the client reads them.
pub type Results = Pin<Box<dyn Stream<Item = Result<pb::SubmitResult, Status>> + Send>>;

/// Starts serving one SubmitStream call.
pub fn submit_stream(shared: Arc<Shared>, req: Request<Streaming<pb::SignedRecord>>) -> Results {
    let peer = peer(&req);
    let conn = req.extensions().get::<ConnInfo>().map(|c| c.state.streamed.clone());
    let places = Places { stream: Arc::new(Semaphore::new(MAX_STREAM_IN_FLIGHT)), conn };
    let (out, results) = mpsc::channel(RESULTS_QUEUED);
    let (steps_tx, steps) = mpsc::channel(8);
    let (sent, finished) = oneshot::channel::<()>();
    let input = Intake::new(req.into_inner(), places);
    tokio::spawn(intake(shared.clone(), peer, input, steps_tx, finished));
    tokio::spawn(answer(shared, steps, out));
    // The results stream holds `sent` until it is dropped, after its last result and status.
    Box::pin(futures::stream::unfold((results, sent), |(mut rx, sent)| async move {
        rx.recv().await.map(|r| (r, (rx, sent)))
    }))
}

/// A record's places, of its stream and of its connection, given back when it is dropped (once
/// the record's result is sent).
#[derive(Debug)]
pub struct Place {
    _stream: OwnedSemaphorePermit,
    _conn: Option<OwnedSemaphorePermit>,
}

/// Where a stream's records take their places.
pub struct Places {
    stream: Arc<Semaphore>,
    conn: Option<Arc<Semaphore>>,
}

impl Places {
    async fn wait(&self) -> Place {
        let stream = self.stream.clone().acquire_owned().await.expect("the semaphore is never closed");
        let conn = match &self.conn {
            Some(c) => Some(c.clone().acquire_owned().await.expect("the semaphore is never closed")),
            None => None,
        };
        Place { _stream: stream, _conn: conn }
    }

    fn try_take(&self) -> Option<Place> {
        let stream = self.stream.clone().try_acquire_owned().ok()?;
        let conn = match &self.conn {
            Some(c) => Some(c.clone().try_acquire_owned().ok()?),
            None => None,
        };
        Some(Place { _stream: stream, _conn: conn })
    }
}

/// The reading side of a stream.
pub struct Intake<S> {
    inbound: S,
    places: Places,
    /// How the client's side ended, once it has, while the records before it are still to go.
    ended: Option<Result<(), Status>>,
}

impl<S, T> Intake<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    /// Reads `inbound`, each record taking a place of `places`.
    pub fn new(inbound: S, places: Places) -> Self {
        Intake { inbound, places, ended: None }
    }

    /// The next records with their places: waits for a place and a record, then takes those
    /// already arrived while there are places, up to `most`. `None` once the client has closed
    /// its side; its error (or [`STREAM_IDLE`]) once the records before it have gone.
    pub async fn next_step(&mut self, most: usize) -> Result<Option<Vec<(T, Place)>>, Status> {
        if let Some(ended) = self.ended.take() {
            return ended.map(|()| None);
        }
        let place = self.places.wait().await;
        let first = match tokio::time::timeout(STREAM_IDLE, self.inbound.next()).await {
            Err(_) => {
                let why = format!("no record for {} s", STREAM_IDLE.as_secs());
                return Err(status::to_status(&LedgerError::Rule(RuleError::Limit { reason: "STREAM_IDLE", why })));
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(s))) => return Err(s),
            Ok(Some(Ok(r))) => r,
        };
        let mut step = vec![(first, place)];
        while step.len() < most {
            let Some(place) = self.places.try_take() else { break };
            match self.inbound.next().now_or_never() {
                Some(Some(Ok(r))) => step.push((r, place)),
                Some(Some(Err(s))) => {
                    self.ended = Some(Err(s));
                    break;
                }
                Some(None) => {
                    self.ended = Some(Ok(()));
                    break;
                }
                None => break,
            }
        }
        Ok(Some(step))
    }
}

/// What the intake hands the answerer, in the stream's order.
enum Step {
    /// Records queued for the writer (or refused before it), their shares of the writer's
    /// queue, their places, and the flag to raise once every answer is in.
    Queued { queued: Vec<Queued>, passes: Vec<Pass>, places: Vec<Place>, answered: Arc<AtomicBool> },
    /// The leader's results for records this follower forwarded.
    Forwarded { results: Vec<pb::SubmitResult>, places: Vec<Place> },
    /// The stream ends with this status.
    End(Status),
}

/// Runs the intake until the client's side or the stream ends; the client's side is then let go
/// only once every result and the final status have gone (`finished`): letting it go earlier
/// resets the HTTP/2 stream, and the client would see a transport error instead of the status.
async fn intake<S>(
    shared: Arc<Shared>,
    peer: Peer,
    mut input: Intake<S>,
    steps: mpsc::Sender<Step>,
    finished: oneshot::Receiver<()>,
) where
    S: Stream<Item = Result<pb::SignedRecord, Status>> + Unpin,
{
    take(&shared, &peer, &mut input, steps).await;
    let _ = finished.await;
}

async fn take<S>(shared: &Arc<Shared>, peer: &Peer, input: &mut Intake<S>, steps: mpsc::Sender<Step>)
where
    S: Stream<Item = Result<pb::SignedRecord, Status>> + Unpin,
{
    // Keys that registry records of steps not yet answered add: the checks of later steps let
    // records signed with them through to the writer, which judges them in order.
    let mut recent: VecDeque<(Arc<AtomicBool>, Vec<PublicKey>)> = VecDeque::new();
    loop {
        let next = tokio::select! {
            next = input.next_step(MAX_BATCH_RECORDS) => next,
            () = steps.closed() => return,
        };
        let (records, places): (Vec<_>, Vec<_>) = match next {
            Ok(Some(step)) => step.into_iter().unzip(),
            Ok(None) => return,
            Err(s) => {
                let _ = steps.send(Step::End(s)).await;
                return;
            }
        };
        let step = match shared.cluster.clone().filter(|c| !c.is_leader()) {
            Some(c) => match cluster::forward_records(shared, &c, peer, records).await {
                Ok(results) => Step::Forwarded { results, places },
                Err(s) => Step::End(s),
            },
            None => {
                recent.retain(|(answered, _)| !answered.load(Ordering::Acquire));
                let earlier: HashSet<PublicKey> = recent.iter().flat_map(|(_, keys)| keys.iter().copied()).collect();
                match submit::check_records(shared, peer, records, &earlier).await {
                    Err(e) => Step::End(status::to_status(&e)),
                    Ok((checked, added)) => {
                        let answered = Arc::new(AtomicBool::new(false));
                        if !added.is_empty() {
                            recent.push_back((answered.clone(), added));
                        }
                        // A stream's records wait for their signers' shares of the writer's
                        // queue rather than being refused.
                        let passes = shared.gate.wait_records(&submit::per_signer(&checked)).await;
                        let queued = shared.writer.enqueue(checked).await;
                        Step::Queued { queued, passes, places, answered }
                    }
                }
            }
        };
        let end = matches!(step, Step::End(_));
        if steps.send(step).await.is_err() || end {
            return;
        }
    }
}

async fn answer(
    shared: Arc<Shared>,
    mut steps: mpsc::Receiver<Step>,
    out: mpsc::Sender<Result<pb::SubmitResult, Status>>,
) {
    while let Some(step) = steps.recv().await {
        match step {
            Step::End(s) => {
                let _ = out.send(Err(s)).await;
                return;
            }
            Step::Forwarded { results, places } => {
                for (r, place) in results.into_iter().zip(places) {
                    if let Some(pb::submit_result::Outcome::Error(e)) = &r.outcome {
                        if e.code == "UNAVAILABLE" {
                            let _ = out.send(Err(status::unavailable(&e.reason, &e.message))).await;
                            return;
                        }
                    }
                    if out.send(Ok(r)).await.is_err() {
                        return;
                    }
                    drop(place);
                }
            }
            Step::Queued { queued, passes, places, answered } => {
                for (q, place) in queued.into_iter().zip(places) {
                    let a = q.answer().await;
                    if let Err(e) = a.as_ref().map(|_| ()).map_err(status::to_status) {
                        if e.code() == tonic::Code::Unavailable {
                            shared.metrics.record(&a);
                            let _ = out.send(Err(e)).await;
                            return;
                        }
                    }
                    if out.send(Ok(submit::result(&shared, a).await)).await.is_err() {
                        return;
                    }
                    drop(place);
                }
                drop(passes);
                answered.store(true, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(stream: usize, conn: Option<&Arc<Semaphore>>) -> Places {
        Places { stream: Arc::new(Semaphore::new(stream)), conn: conn.cloned() }
    }

    #[tokio::test]
    async fn a_step_takes_what_has_arrived_and_no_more_than_the_places_left() {
        let (tx, rx) = mpsc::unbounded_channel::<Result<u32, Status>>();
        let inbound = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
        let mut intake = Intake::new(Box::pin(inbound), places(8, None));
        for i in 0..20 {
            tx.send(Ok(i)).unwrap();
        }
        let first = intake.next_step(5).await.unwrap().unwrap();
        assert_eq!(first.iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4], "at most `most` a step");
        let second = intake.next_step(100).await.unwrap().unwrap();
        assert_eq!(second.iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![5, 6, 7], "only the 3 places left");
        let waiting = tokio::time::timeout(Duration::from_millis(100), intake.next_step(100)).await;
        assert!(waiting.is_err(), "with every place taken, nothing more is read");
        drop(first);
        let third = intake.next_step(100).await.unwrap().unwrap();
        assert_eq!(third.len(), 5, "results sent give their places back");
        drop(tx);
    }

    #[tokio::test]
    async fn the_connection_bounds_all_its_streams_together() {
        let conn = Arc::new(Semaphore::new(6));
        let mut one = Intake::new(futures::stream::iter((0..10).map(Ok::<u32, Status>)), places(512, Some(&conn)));
        let mut two = Intake::new(futures::stream::iter((0..10).map(Ok::<u32, Status>)), places(512, Some(&conn)));
        let a = one.next_step(4).await.unwrap().unwrap();
        let b = two.next_step(100).await.unwrap().unwrap();
        assert_eq!((a.len(), b.len()), (4, 2));
        assert!(tokio::time::timeout(Duration::from_millis(100), one.next_step(100)).await.is_err());
        drop(b);
        assert_eq!(one.next_step(100).await.unwrap().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn the_records_before_an_error_or_the_end_go_first() {
        let items = vec![Ok(1u32), Ok(2), Err(Status::cancelled("cut"))];
        let mut intake = Intake::new(futures::stream::iter(items), places(512, None));
        assert_eq!(intake.next_step(100).await.unwrap().unwrap().len(), 2);
        assert_eq!(intake.next_step(100).await.unwrap_err().code(), tonic::Code::Cancelled);
        let mut closed = Intake::new(futures::stream::iter(vec![Ok::<u32, Status>(1)]), places(512, None));
        assert_eq!(closed.next_step(100).await.unwrap().unwrap().len(), 1);
        assert!(closed.next_step(100).await.unwrap().is_none());
    }
}
