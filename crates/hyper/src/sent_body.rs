//! The request body that tells whether hyper began to write the request.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// A request body that records when hyper first asks for its data. hyper asks
/// only once it has a connection for the request and has written the request
/// head to it: from then on, the server may act on the request. Until then,
/// nothing was sent.
#[derive(Debug, Default)]
pub(crate) struct SentBody {
    data: Option<Bytes>,
    writing: Option<Arc<AtomicBool>>,
}

/// Whether hyper has begun to write a request whose body is a tracked
/// [`SentBody`].
#[derive(Debug)]
pub(crate) struct Writing(Arc<AtomicBool>);

impl Writing {
    /// Whether the request head was written to a connection.
    pub(crate) fn began(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl SentBody {
    /// `data` as the body, with the flag hyper raises when it begins to write.
    /// An empty body, which hyper never asks for, counts as being written from
    /// the start, so that it is never reported as not sent.
    pub(crate) fn tracked(data: Bytes) -> (Self, Writing) {
        let writing = Arc::new(AtomicBool::new(data.is_empty()));
        let body = Self {
            data: (!data.is_empty()).then_some(data),
            writing: Some(Arc::clone(&writing)),
        };
        (body, Writing(writing))
    }
}

impl Body for SentBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(writing) = &this.writing {
            writing.store(true, Ordering::Release);
        }
        Poll::Ready(this.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |data| data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn the_flag_rises_when_the_data_is_asked_for() {
        let (body, writing) = SentBody::tracked(Bytes::from_static(b"{}"));
        assert!(!writing.began());
        assert_eq!(body.size_hint().exact(), Some(2));
        assert!(!body.is_end_stream());
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(collected, &b"{}"[..]);
        assert!(writing.began());
    }

    #[test]
    fn an_empty_body_counts_as_written_and_an_untracked_one_is_empty() {
        let (body, writing) = SentBody::tracked(Bytes::new());
        assert!(writing.began());
        assert!(body.is_end_stream());
        let none = SentBody::default();
        assert!(none.is_end_stream());
        assert_eq!(none.size_hint().exact(), Some(0));
    }
}
