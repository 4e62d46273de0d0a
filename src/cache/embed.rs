//! Embeddings cached per input: a batch with some inputs cached sends only the others.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::{
    CacheControl, CacheKey, CachedAnswer, CachedEmbedding, ResponseCache, hit_meta, origin,
};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage,
};

/// Which inputs of an embeddings request are cached, and what to send for the rest.
///
/// Made by [`ResponseCache::plan_embedding`]. Send
/// [`upstream_request`](Self::upstream_request) (when there is one), then give its answer to
/// [`finish`](Self::finish), which stores the new vectors and returns the whole answer in input
/// order. An input that appears several times in the batch is sent once.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
/// use litellm::cache::{CacheConfig, ResponseCache};
/// use litellm::{Embedding, EmbeddingRequest, EmbeddingResponse};
///
/// let cache = ResponseCache::new(CacheConfig::memory());
/// let fake = |texts: Vec<&str>| EmbeddingResponse {
///     data: texts.iter().enumerate().map(|(i, t)| Embedding {
///         index: i as u32, embedding: vec![t.len() as f32], ..Default::default()
///     }).collect(),
///     ..Default::default()
/// };
/// // First "a" alone: stored.
/// let first = EmbeddingRequest::new("emb", "a");
/// let plan = cache.plan_embedding("emb", &first).await.unwrap();
/// plan.finish(&cache, &first.options.cache, Some(fake(vec!["a"]))).await?;
/// // Then ["a", "bb"]: only "bb" is sent.
/// let batch = EmbeddingRequest::new("emb", vec!["a", "bb"]);
/// let plan = cache.plan_embedding("emb", &batch).await.unwrap();
/// assert_eq!(plan.missing(), &[1]);
/// let sent = plan.upstream_request(&batch).unwrap();
/// assert_eq!(sent.input.texts().unwrap(), vec!["bb"]);
/// let resp = plan.finish(&cache, &batch.options.cache, Some(fake(vec!["bb"]))).await?;
/// assert_eq!(resp.vectors(), vec![&[1.0][..], &[2.0][..]]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EmbeddingPlan {
    keys: Vec<CacheKey>,
    cached: Vec<Option<Arc<CachedEmbedding>>>,
    /// Input positions sent upstream, in order (the first occurrence of each missing input).
    send: Vec<usize>,
    /// Per input: its position in `send` when it is not cached.
    slot: Vec<Option<usize>>,
    started: Instant,
}

impl EmbeddingPlan {
    pub(crate) fn new(
        keys: Vec<CacheKey>,
        found: Vec<Option<CachedAnswer>>,
        started: Instant,
    ) -> EmbeddingPlan {
        let mut cached = Vec::with_capacity(keys.len());
        let mut send = Vec::new();
        let mut slot = Vec::with_capacity(keys.len());
        let mut first: HashMap<&CacheKey, usize> = HashMap::new();
        for (i, (key, hit)) in keys.iter().zip(found).enumerate() {
            match hit {
                Some(CachedAnswer::Embedding(e)) => {
                    cached.push(Some(e));
                    slot.push(None);
                }
                _ => {
                    cached.push(None);
                    let s = *first.entry(key).or_insert_with(|| {
                        send.push(i);
                        send.len() - 1
                    });
                    slot.push(Some(s));
                }
            }
        }
        EmbeddingPlan {
            keys,
            cached,
            send,
            slot,
            started,
        }
    }

    /// The key of each input, in input order.
    pub fn keys(&self) -> &[CacheKey] {
        &self.keys
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the request has no input.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The cached inputs: (input position, vector).
    pub fn cached(&self) -> impl Iterator<Item = (usize, &[f32])> {
        self.cached
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|e| (i, e.embedding.as_slice())))
    }

    /// Number of inputs found in the cache.
    pub fn cached_count(&self) -> usize {
        self.cached.iter().filter(|c| c.is_some()).count()
    }

    /// Positions of the inputs sent upstream, in the order they are sent.
    pub fn missing(&self) -> &[usize] {
        &self.send
    }

    /// True when the original request is sent unchanged (nothing cached, no repeated input).
    fn sends_original(&self) -> bool {
        self.send.len() == self.keys.len()
    }

    /// What to send upstream: `None` when every input is cached; the original request
    /// (borrowed) when none is; otherwise a copy of it with only the missing inputs.
    pub fn upstream_request<'a>(
        &self,
        original: &'a EmbeddingRequest,
    ) -> Option<Cow<'a, EmbeddingRequest>> {
        if self.send.is_empty() {
            return None;
        }
        if self.sends_original() {
            return Some(Cow::Borrowed(original));
        }
        Some(Cow::Owned(EmbeddingRequest {
            model: original.model.clone(),
            input: subset(&original.input, &self.send),
            encoding_format: original.encoding_format,
            dimensions: original.dimensions,
            user: original.user.clone(),
            extra_body: original.extra_body.clone(),
            options: original.options.clone(),
        }))
    }

    /// Stores the vectors of `upstream` (the answer to [`upstream_request`](Self::upstream_request);
    /// `None` when there was none to send) under `ctl`, and returns the whole answer: one vector
    /// per input in input order with `index` set to its position, the upstream's model, usage
    /// (of the inputs sent only) and meta. When every input was cached, usage is 0 and the meta
    /// says `cache_hit` with cost 0.
    ///
    /// Fails with `InvalidResponse` when the upstream answer does not have one vector per
    /// input sent and some inputs were cached (the vectors cannot be matched to the inputs);
    /// when nothing was cached such an answer is returned as it came, and nothing is stored.
    pub async fn finish(
        self,
        cache: &ResponseCache,
        ctl: &CacheControl,
        upstream: Option<EmbeddingResponse>,
    ) -> Result<EmbeddingResponse> {
        let Some(mut resp) = upstream else {
            return self.all_cached();
        };
        resp.data.sort_by_key(|e| e.index);
        if resp.data.len() != self.send.len() {
            if self.sends_original() {
                tracing::warn!(
                    expected = self.send.len(),
                    got = resp.data.len(),
                    "embeddings answer without one vector per input; not cached"
                );
                return Ok(resp);
            }
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                format!(
                    "the embeddings answer has {} vectors for {} inputs sent",
                    resp.data.len(),
                    self.send.len()
                ),
            ));
        }
        if let Some(ttl) = cache.store_ttl(ctl) {
            let made_by = origin(&resp.meta);
            for (e, &pos) in resp.data.iter().zip(&self.send) {
                let value = CachedAnswer::embedding(CachedEmbedding {
                    embedding: e.embedding.clone(),
                    model: resp.model.clone(),
                    meta: made_by.clone(),
                });
                if let Err(err) = cache.config.backend.set(&self.keys[pos], value, ttl).await {
                    tracing::warn!(error = %err, "cache write failed");
                }
            }
        }
        if self.sends_original() {
            for (i, e) in resp.data.iter_mut().enumerate() {
                e.index = i as u32;
            }
            return Ok(resp);
        }
        let mut uses = vec![0usize; self.send.len()];
        for s in self.slot.iter().flatten() {
            uses[*s] += 1;
        }
        let mut fresh: Vec<Vec<f32>> = resp.data.into_iter().map(|e| e.embedding).collect();
        let mut data = Vec::with_capacity(self.keys.len());
        for (i, (c, s)) in self.cached.iter().zip(&self.slot).enumerate() {
            let embedding = match (c, s) {
                (Some(c), _) => c.embedding.clone(),
                (None, Some(s)) => {
                    uses[*s] -= 1;
                    if uses[*s] == 0 {
                        std::mem::take(&mut fresh[*s])
                    } else {
                        fresh[*s].clone()
                    }
                }
                (None, None) => Vec::new(),
            };
            data.push(embedding_at(i, embedding));
        }
        Ok(EmbeddingResponse {
            object: if resp.object.is_empty() {
                "list".to_owned()
            } else {
                resp.object
            },
            data,
            model: resp.model,
            usage: resp.usage,
            extra: resp.extra,
            meta: resp.meta,
        })
    }

    fn all_cached(self) -> Result<EmbeddingResponse> {
        if !self.send.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                format!("no embeddings answer for {} inputs", self.send.len()),
            ));
        }
        let first = self.cached.iter().flatten().next().cloned();
        let data = self
            .cached
            .iter()
            .enumerate()
            .map(|(i, c)| {
                embedding_at(
                    i,
                    c.as_ref().map(|e| e.embedding.clone()).unwrap_or_default(),
                )
            })
            .collect();
        Ok(EmbeddingResponse {
            object: "list".to_owned(),
            data,
            model: first.as_ref().map(|e| e.model.clone()).unwrap_or_default(),
            usage: EmbeddingUsage::default(),
            extra: Default::default(),
            meta: hit_meta(
                &first.map(|e| e.meta.clone()).unwrap_or_default(),
                self.started,
            ),
        })
    }
}

fn embedding_at(index: usize, embedding: Vec<f32>) -> Embedding {
    Embedding {
        object: "embedding".to_owned(),
        index: index as u32,
        embedding,
    }
}

/// The inputs at `positions`, in that order, in the shape of `input`.
fn subset(input: &EmbeddingInput, positions: &[usize]) -> EmbeddingInput {
    match input {
        EmbeddingInput::Text(s) => EmbeddingInput::Texts(vec![s.clone()]),
        EmbeddingInput::Texts(v) => EmbeddingInput::Texts(
            positions
                .iter()
                .filter_map(|&i| v.get(i).cloned())
                .collect(),
        ),
        EmbeddingInput::Tokens(t) => EmbeddingInput::TokenBatches(vec![t.clone()]),
        EmbeddingInput::TokenBatches(v) => EmbeddingInput::TokenBatches(
            positions
                .iter()
                .filter_map(|&i| v.get(i).cloned())
                .collect(),
        ),
    }
}
