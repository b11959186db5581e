//! A request body read ahead so that it can be sent again. A unary gRPC request's body is one
//! encoded message whose frames are all ready at once; a streaming request's body waits for its
//! caller between messages, cannot be kept whole, and is passed on as it comes (sent once).

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use http::HeaderMap;
use http_body_util::{BodyExt, BodyStream, StreamBody};
use hyper::body::{Body as _, Frame};
use tonic::body::Body;
use tonic::Status;

/// A request body after reading ahead.
pub(super) enum ReadAhead {
    /// Every frame was ready: the body, kept whole.
    Whole(Replayable),
    /// A frame was not ready: the body as it was, to be sent once.
    Streaming(Body),
}

/// A whole request body, sent again as often as needed.
#[derive(Debug, Clone, Default)]
pub(super) struct Replayable {
    data: Vec<Bytes>,
    trailers: Option<HeaderMap>,
}

/// Reads `body` ahead: whole if every frame is ready now, else [`ReadAhead::Streaming`]. A
/// frame that fails to encode (a message over the size limit, say) is the caller's error.
pub(super) fn read_ahead(mut body: Body) -> Result<ReadAhead, Status> {
    let mut kept = Replayable::default();
    let mut read: Vec<Frame<Bytes>> = Vec::new();
    while !body.is_end_stream() {
        // Without waiting: a frame that is not ready belongs to a stream still being written.
        match body.frame().now_or_never() {
            None => return Ok(ReadAhead::Streaming(chained(read, body))),
            Some(None) => break,
            Some(Some(Err(status))) => return Err(status),
            Some(Some(Ok(frame))) => {
                match frame.data_ref() {
                    Some(data) => kept.data.push(data.clone()),
                    None => kept.trailers = frame.trailers_ref().cloned(),
                }
                read.push(frame);
            }
        }
    }
    Ok(ReadAhead::Whole(kept))
}

impl Replayable {
    /// A new body of the same frames.
    pub(super) fn body(&self) -> Body {
        let data = self.data.iter().cloned().map(Frame::data);
        let frames: Vec<Result<Frame<Bytes>, Status>> =
            data.chain(self.trailers.clone().map(Frame::trailers)).map(Ok).collect();
        Body::new(StreamBody::new(futures::stream::iter(frames)))
    }
}

/// The frames already read, then the rest of `body`.
fn chained(read: Vec<Frame<Bytes>>, body: Body) -> Body {
    let read = futures::stream::iter(read.into_iter().map(Ok::<_, Status>));
    Body::new(StreamBody::new(read.chain(BodyStream::new(body))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    async fn bytes_of(body: Body) -> (Bytes, Option<HeaderMap>) {
        let collected = body.collect().await.expect("body");
        let trailers = collected.trailers().cloned();
        (collected.to_bytes(), trailers)
    }

    #[tokio::test]
    async fn a_body_whose_frames_are_ready_is_kept_whole_and_sent_again_identically() {
        let mut trailers = HeaderMap::new();
        trailers.insert("x-end", "1".parse().expect("header value"));
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\x02"))),
            Ok(Frame::data(Bytes::from_static(b"hi"))),
            Ok(Frame::trailers(trailers.clone())),
        ];
        let body = Body::new(StreamBody::new(futures::stream::iter(frames)));
        let Ok(ReadAhead::Whole(kept)) = read_ahead(body) else { panic!("not kept whole") };
        for _ in 0..2 {
            let (bytes, got) = bytes_of(kept.body()).await;
            assert_eq!(bytes, Bytes::from_static(b"\0\0\0\0\x02hi"));
            assert_eq!(got, Some(trailers.clone()));
        }
    }

    #[tokio::test]
    async fn an_empty_body_is_whole() {
        let Ok(ReadAhead::Whole(kept)) = read_ahead(Body::empty()) else { panic!("not kept whole") };
        assert_eq!(bytes_of(kept.body()).await.0, Bytes::new());
    }

    #[tokio::test]
    async fn a_body_that_waits_between_frames_is_streamed_with_what_was_read() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Frame<Bytes>, Infallible>>();
        tx.unbounded_send(Ok(Frame::data(Bytes::from_static(b"first")))).expect("send");
        let Ok(ReadAhead::Streaming(body)) = read_ahead(Body::new(StreamBody::new(rx))) else {
            panic!("a body still being written was kept whole")
        };
        tx.unbounded_send(Ok(Frame::data(Bytes::from_static(b" then")))).expect("send");
        drop(tx);
        assert_eq!(bytes_of(body).await.0, Bytes::from_static(b"first then"));
    }

    #[test]
    fn a_frame_that_fails_is_the_callers_error() {
        let frames: Vec<Result<Frame<Bytes>, Status>> = vec![Err(Status::out_of_range("too big"))];
        let body = Body::new(StreamBody::new(futures::stream::iter(frames)));
        match read_ahead(body) {
            Err(s) => assert_eq!((s.code(), s.message()), (tonic::Code::OutOfRange, "too big")),
            Ok(_) => panic!("the failed frame was read as data"),
        }
    }
}
