//! Storing a live stream: chunks pass through as they arrive while a [`ChunkAccumulator`]
//! rebuilds the answer, which is stored when the stream ends successfully.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::flight::Leader;
use super::{Answer, Cache, CacheKey, CachedAnswer, origin};
use crate::types::{
    ChatChunk, ChatResponse, ChatStream, ChunkAccumulator, ResponseMeta, StreamObserver,
};

/// Where a finished stream is stored.
pub(crate) struct StoreTarget {
    pub(crate) cache: Arc<dyn Cache>,
    pub(crate) key: CacheKey,
    pub(crate) ttl: Option<Duration>,
}

/// Wraps `stream` so that, once it has been read to its end without an error, the complete
/// answer is stored in `cache` under `key` for `ttl` (`None`: the backend's default). Chunks
/// are passed on unchanged the moment they arrive; only the end of the stream waits for the
/// store to finish (so the next identical call finds the entry). A stream that fails, or is
/// dropped before its end, stores nothing. Latency and time to first token of the returned
/// stream are measured from `started` (the start of the call).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
/// use litellm::cache::{Cache, CacheKey, CachedAnswer, MemoryCache, store_stream};
/// use litellm::{ChatRequest, Message};
/// use std::sync::Arc;
///
/// let cache = Arc::new(MemoryCache::new());
/// let key = CacheKey::from_string("chat:demo");
/// let live = litellm::chat_stream(
///     ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")]).mock_response("Hello there"),
/// )
/// .await?;
/// let stream = store_stream(live, cache.clone(), key.clone(), None, std::time::Instant::now());
/// let resp = stream.collect_response().await?;
/// let Some(CachedAnswer::Chat(stored)) = cache.get(&key).await? else { panic!("stored") };
/// assert_eq!(stored.text(), resp.text());
/// # Ok(()) }
/// ```
pub fn store_stream(
    stream: ChatStream,
    cache: Arc<dyn Cache>,
    key: CacheKey,
    ttl: Option<Duration>,
    started: Instant,
) -> ChatStream {
    wrap(stream, Some(StoreTarget { cache, key, ttl }), None, started)
}

/// Sets `stream` up to store its answer at its end and/or share it with a flight's followers
/// (an observer on the stream, not a wrapper).
pub(crate) fn wrap(
    mut stream: ChatStream,
    store: Option<StoreTarget>,
    leader: Option<Leader<Arc<ChatResponse>>>,
    started: Instant,
) -> ChatStream {
    if store.is_none() && leader.is_none() {
        return stream;
    }
    stream.observe(StoreOnEnd {
        acc: Some(ChunkAccumulator::new()),
        store,
        leader,
        answer: None,
    });
    stream.started_at(started)
}

/// Rebuilds a stream's answer as it passes and, at its end, stores it and shares it.
struct StoreOnEnd {
    /// `None` once the stream failed.
    acc: Option<ChunkAccumulator>,
    store: Option<StoreTarget>,
    leader: Option<Leader<Arc<ChatResponse>>>,
    /// The answer, once the stream has ended.
    answer: Option<Arc<ChatResponse>>,
}

impl StreamObserver for StoreOnEnd {
    fn on_chunk(&mut self, chunk: &ChatChunk) {
        if let Some(acc) = &mut self.acc {
            acc.push(chunk);
        }
    }

    fn on_end(&mut self, meta: &ResponseMeta) {
        if let Some(acc) = self.acc.take() {
            let mut resp = acc.finish();
            resp.meta = origin(meta);
            self.answer = Some(Arc::new(resp));
        }
    }

    fn on_error(&mut self, error: &crate::error::Error) {
        self.acc = None;
        self.store = None;
        if let Some(leader) = self.leader.take() {
            leader.fail(error);
        }
    }

    fn finish(&mut self) -> Option<BoxFuture<'static, ()>> {
        let resp = self.answer.take()?;
        let store = self.store.take().filter(|_| resp.cacheable());
        let leader = self.leader.take();
        Some(Box::pin(async move {
            // Stored first, so the followers (and the next identical call) find the entry.
            if let Some(StoreTarget { cache, key, ttl }) = store
                && let Err(e) = cache.set(&key, CachedAnswer::Chat(resp.clone()), ttl).await
            {
                tracing::warn!(key = %key, error = %e, "cache write failed");
            }
            if let Some(leader) = leader {
                leader.succeed(resp);
            }
        }))
    }
}
