//! [`Body`]: a response body that is either whole or streamed as its producer writes it.

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The chunks of a streamed body, in order; an `Err` ends the body abnormally (the connection
/// is closed, so the client sees a truncated response rather than a complete one).
pub type Chunks = tokio::sync::mpsc::Receiver<Result<Bytes, String>>;

/// A response body: whole ([`Bytes`] convert into one), or a first part followed by chunks
/// that are sent as they arrive (server-sent events and other streamed responses).
#[derive(Debug)]
pub enum Body {
    /// The whole body (`None` once sent).
    Full(Option<Bytes>),
    /// `first` (what was ready when the head was), then each chunk of `rest` as it comes.
    Stream {
        /// Sent first (`None` once sent).
        first: Option<Bytes>,
        /// The rest.
        rest: Chunks,
    },
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Full(Some(b))
    }
}

impl Body {
    /// A body of `first` followed by the chunks of `rest`.
    pub fn stream(first: Bytes, rest: Chunks) -> Self {
        Body::Stream {
            first: (!first.is_empty()).then_some(first),
            rest,
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Body::Stream { first, rest } => {
                if let Some(b) = first.take() {
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                match rest.poll_recv(cx) {
                    Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                    Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(std::io::Error::other(e)))),
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None)) || matches!(self, Body::Full(Some(b)) if b.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream { .. } => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn whole_and_streamed_bodies() {
        let b = Body::from(Bytes::from_static(b"abc"));
        assert_eq!(hyper::body::Body::size_hint(&b).exact(), Some(3));
        assert_eq!(b.collect().await.unwrap().to_bytes(), "abc");
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let b = Body::stream(Bytes::from_static(b"1"), rx);
        tx.send(Ok(Bytes::from_static(b"2"))).await.unwrap();
        drop(tx);
        assert_eq!(b.collect().await.unwrap().to_bytes(), "12");
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.send(Err("broken".into())).await.unwrap();
        assert!(Body::stream(Bytes::new(), rx).collect().await.is_err());
    }
}
