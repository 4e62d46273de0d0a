//! Drives a pure, incremental stream decoder over a stream of vendor events (SSE events,
//! NDJSON lines, event-stream frames) and yields OpenAI chunks.
//!
//! Each vendor writes only a [`ChunkDecoder`]: event in, chunks out, no I/O. [`DecodedStream`]
//! does the polling, stops at the first error (with provider, model and a scrubbed key added),
//! reports a stream that ends before the vendor's terminator, and ends a stream that yields no
//! chunk for the call's idle timeout. Only chunks reset that timer: keep-alive comments, pings
//! and other events that carry nothing do not, so a server that keeps a dead stream open with
//! them still times out.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::time::{Instant, Sleep};

use super::CallContext;
use crate::error::{Error, ErrorKind, Result};
use crate::types::{ChatChunk, SecretString};

/// A pure decoder from vendor events to OpenAI chunks.
pub(crate) trait ChunkDecoder: Send + Unpin + 'static {
    /// One event of the vendor's stream.
    type Event: Send + 'static;

    /// Handles one event, pushing any chunks it produces. Returns `true` when the event ends
    /// the stream (the vendor's terminator).
    fn decode(&mut self, event: Self::Event, out: &mut VecDeque<ChatChunk>) -> Result<bool>;

    /// The input ended without the terminator: push what remains and return `Ok(())` when that
    /// is a normal end for this vendor, or the error to report.
    fn end(&mut self, out: &mut VecDeque<ChatChunk>) -> Result<()>;
}

/// What a stream needs from its call: provider, model and the keys to scrub for its errors,
/// and the idle timeout between chunks.
#[derive(Clone)]
pub(crate) struct ErrCtx {
    provider: String,
    model: String,
    request_id: Option<String>,
    secrets: Vec<SecretString>,
    idle: Duration,
}

impl From<&CallContext> for ErrCtx {
    fn from(cx: &CallContext) -> Self {
        ErrCtx {
            provider: cx.provider.clone(),
            model: cx.model.clone(),
            request_id: None,
            secrets: cx.secrets(),
            idle: cx.stream_idle_timeout,
        }
    }
}

/// Longest wait honoured; larger durations (such as `Duration::MAX`, "no timeout") are clamped.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl ErrCtx {
    /// Adds the vendor's request id to every error of the stream.
    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    pub(crate) fn finish(&self, err: Error) -> Error {
        let mut err = err.or_context(&self.provider, &self.model);
        if let Some(id) = &self.request_id
            && err.request_id().is_none()
        {
            err = err.with_request_id(id.clone());
        }
        for s in &self.secrets {
            err = err.scrub(s.expose());
        }
        err
    }
}

/// Events decoded into chunks by `D`.
pub(crate) struct DecodedStream<D: ChunkDecoder> {
    events: Pin<Box<dyn Stream<Item = Result<D::Event>> + Send>>,
    decoder: D,
    err: ErrCtx,
    pending: VecDeque<ChatChunk>,
    /// Fires when no chunk has been yielded for `err.idle`.
    idle: Pin<Box<Sleep>>,
    done: bool,
}

impl<D: ChunkDecoder> DecodedStream<D> {
    pub(crate) fn new(
        events: Pin<Box<dyn Stream<Item = Result<D::Event>> + Send>>,
        decoder: D,
        mut err: ErrCtx,
    ) -> Self {
        err.idle = err.idle.min(FAR);
        DecodedStream {
            events,
            decoder,
            idle: Box::pin(tokio::time::sleep(err.idle)),
            err,
            pending: VecDeque::new(),
            done: false,
        }
    }

    fn fail(&mut self, err: Error) -> Poll<Option<Result<ChatChunk>>> {
        self.done = true;
        self.pending.clear();
        Poll::Ready(Some(Err(self.err.finish(err))))
    }
}

impl<D: ChunkDecoder> Stream for DecodedStream<D> {
    type Item = Result<ChatChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(c) = this.pending.pop_front() {
                let now = Instant::now();
                this.idle
                    .as_mut()
                    .reset(now.checked_add(this.err.idle).unwrap_or(now));
                return Poll::Ready(Some(Ok(c)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(ev))) => match this.decoder.decode(ev, &mut this.pending) {
                    Ok(finished) => this.done = finished,
                    Err(e) => return this.fail(e),
                },
                Poll::Ready(Some(Err(e))) => return this.fail(e),
                Poll::Ready(None) => {
                    this.done = true;
                    if let Err(e) = this.decoder.end(&mut this.pending) {
                        return this.fail(e);
                    }
                }
                Poll::Pending => {
                    return match this.idle.as_mut().poll(cx) {
                        Poll::Ready(()) => {
                            let secs = this.err.idle.as_secs_f64();
                            this.fail(Error::new(
                                ErrorKind::Timeout,
                                format!(
                                    "no chunk from the stream for {secs:.1} s (idle timeout; \
                                     keep-alive comments and empty events do not count)"
                                ),
                            ))
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}
