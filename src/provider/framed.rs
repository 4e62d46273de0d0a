//! A response body cut into frames (SSE events, NDJSON lines) by a pure, incremental
//! [`Framer`], as a stream.
//!
//! Each format writes only its framer: bytes in, frames out, no I/O. [`FramedStream`] does the
//! polling: frames come out in order, the first error (a framing error or one of the body) ends
//! the stream and drops the frames not yet delivered, and a clean end of the body lets the
//! framer deliver what it still holds.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::error::{Error, ErrorKind, Result};

/// An incremental decoder from body bytes to frames.
pub(crate) trait Framer: Send + Unpin + 'static {
    /// One frame of the format.
    type Frame: Send + Unpin + 'static;

    /// Decodes a piece of the body, pushing the frames it completes.
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Self::Frame>) -> Result<()>;

    /// The body ended cleanly: pushes what remains, or says why the end is an error.
    fn finish(&mut self, out: &mut VecDeque<Self::Frame>) -> Result<()>;
}

/// The frames `F` decodes from a stream of body bytes.
pub(crate) struct FramedStream<F: Framer> {
    bytes: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
    framer: F,
    ready: VecDeque<F::Frame>,
    done: bool,
}

impl<F: Framer> FramedStream<F> {
    /// Frames `bytes` with `framer`.
    pub(crate) fn new<S>(bytes: S, framer: F) -> Self
    where
        S: Stream<Item = Result<Bytes>> + Send + 'static,
    {
        FramedStream {
            bytes: Box::pin(bytes),
            framer,
            ready: VecDeque::new(),
            done: false,
        }
    }
}

impl<F: Framer> Stream for FramedStream<F> {
    type Item = Result<F::Frame>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(frame) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(frame)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.bytes.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Err(e) = this.framer.feed(&chunk, &mut this.ready) {
                        this.done = true;
                        this.ready.clear();
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if let Err(e) = this.framer.finish(&mut this.ready) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// A frame (`what`: `"event"`, `"line"`) longer than the framer's limit of `max` bytes.
pub(crate) fn too_long(what: &str, max: usize) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("a stream {what} is longer than the limit of {max} bytes"),
    )
}

/// Body bytes that are not UTF-8 where a text format wants text.
pub(crate) fn not_utf8(e: std::str::Utf8Error) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("the stream is not valid UTF-8: {e}"),
    )
}

/// The bytes of `resp`'s body, a read failure mapped by [`body_error`].
pub(crate) fn body(resp: reqwest::Response) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    resp.bytes_stream().map(|r| r.map_err(body_error))
}

/// Maps a body read failure to a typed error.
pub(crate) fn body_error(e: reqwest::Error) -> Error {
    let timeout = e.is_timeout();
    let err = Error::from(e);
    if timeout {
        return err;
    }
    let msg = format!("the stream broke before it ended: {}", err.message());
    err.with_kind(ErrorKind::ApiConnection).with_message(msg)
}
