//! Response cache: answers to identical requests served from memory (or, later, Redis) at no
//! cost, and concurrent identical requests coalesced into one upstream call.
//!
//! - [`Cache`] is the backend trait (async get/set with a TTL; object-safe, so a Redis backend
//!   can follow); [`MemoryCache`] is the in-process backend on moka, bounded by entries and
//!   bytes, with a default and a per-entry TTL.
//! - Keys ([`chat_key`], [`embedding_keys`], [`text_key`]) are SHA-256 hashes of a canonical
//!   JSON form of the model group and every parameter that changes the answer; never
//!   credentials, metadata or other call options. `docs/caching.md` lists exactly what is in
//!   each key.
//! - [`CacheConfig`] holds the backend and the client- or router-wide settings: which calls are
//!   cached ([`CachedCalls`]), the default TTL and coalescing. Per call, [`CacheControl`]
//!   (`no_cache`, `no_store`, `cache_ttl`, `cache_namespace` on every request) refines them.
//! - [`ResponseCache`] is what a `Client` or `Router` runs its calls through:
//!   [`chat`](ResponseCache::chat), [`chat_stream`](ResponseCache::chat_stream),
//!   [`embed`](ResponseCache::embed) and [`text_completion`](ResponseCache::text_completion)
//!   wrap the upstream call, answer hits (a stream request is answered by replaying the cached
//!   answer as a stream), store fresh answers (a stream once it ends), cache embeddings per
//!   input string and coalesce identical calls.
//!
//! An answer served from the cache, or shared from an identical concurrent call, has
//! [`ResponseMeta::cache_hit`] set, `cost` `Some(0.0)` and `attempts` 0.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use litellm::cache::{CacheConfig, ResponseCache};
//! use litellm::{ChatRequest, ChatResponse, Message};
//! use std::sync::atomic::{AtomicU32, Ordering};
//!
//! let cache = ResponseCache::new(CacheConfig::memory());
//! let upstream_calls = AtomicU32::new(0);
//! let req = ChatRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
//! for _ in 0..3 {
//!     let resp = cache
//!         .chat(&req.model, &req, || async {
//!             upstream_calls.fetch_add(1, Ordering::SeqCst);
//!             // the real upstream call goes here
//!             Ok(litellm::completion("mock/gpt-4o-mini", vec![Message::user("Hi")]).await?)
//!         })
//!         .await?;
//!     assert!(resp.text().is_some());
//! }
//! assert_eq!(upstream_calls.load(Ordering::SeqCst), 1);
//! # Ok(()) }
//! ```

mod embed;
mod flight;
mod key;
mod memory;
mod stream;

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use embed::EmbeddingPlan;
use flight::{Join, SingleFlight};
pub use key::{
    CHAT_EXCLUDED, CacheKey, EMBEDDING_EXCLUDED, TEXT_EXCLUDED, chat_canonical, chat_key,
    embedding_canonical, embedding_keys, text_canonical, text_key,
};
pub use memory::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_TTL, MemoryCache, MemoryCacheBuilder,
};
pub use stream::store_stream;

use crate::error::{Error, ErrorKind, Result};
pub use crate::types::CacheControl;
use crate::types::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingRequest, EmbeddingResponse, ResponseMeta,
    TextCompletionRequest, TextCompletionResponse, decode_base64_embedding,
};

/// A cache backend: stores [`CachedAnswer`]s under [`CacheKey`]s for a time.
///
/// Implementations must be cheap to call concurrently. A failing backend never fails a call:
/// [`ResponseCache`] logs the error and treats it as a miss (or a skipped store). A backend
/// that stores bytes (Redis, files) uses [`CachedAnswer::to_bytes`] and
/// [`CachedAnswer::from_bytes`].
#[async_trait]
pub trait Cache: Send + Sync {
    /// The answer stored under `key`, unless there is none or it has expired.
    async fn get(&self, key: &CacheKey) -> Result<Option<CachedAnswer>>;

    /// Stores `value` under `key` for `ttl` (`None`: the backend's default TTL; zero: store
    /// nothing), replacing what was there.
    async fn set(&self, key: &CacheKey, value: CachedAnswer, ttl: Option<Duration>) -> Result<()>;

    /// Removes the entry under `key`, if any.
    async fn remove(&self, key: &CacheKey) -> Result<()>;

    /// Several answers at once, in the order of `keys` (embedding batches). The default calls
    /// [`get`](Self::get) for each key; a networked backend should override it with one round
    /// trip.
    async fn get_many(&self, keys: &[CacheKey]) -> Result<Vec<Option<CachedAnswer>>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.get(k).await?);
        }
        Ok(out)
    }

    /// Hit and miss counts and size, when the backend keeps them.
    fn stats(&self) -> Option<CacheStats> {
        None
    }

    /// A short name for logs (`"memory"`, `"redis"`).
    fn name(&self) -> &'static str {
        "custom"
    }
}

/// Counts kept by a backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads that found a live entry.
    pub hits: u64,
    /// Reads that found nothing (or an expired entry).
    pub misses: u64,
    /// Entries stored now (approximate while evictions are pending).
    pub entries: u64,
    /// Sum of the entries' weights in bytes (see [`MemoryCache`]).
    pub weighted_bytes: u64,
}

/// One cached answer. Cloning is cheap (the answer is shared).
///
/// The responses keep in their `meta` only who produced them (provider, model, deployment id,
/// model group); everything else about the original call is dropped when stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CachedAnswer {
    /// A chat completion (also served, replayed as chunks, to streaming requests).
    Chat(Arc<ChatResponse>),
    /// One embedding vector (embeddings are cached per input).
    Embedding(Arc<CachedEmbedding>),
    /// A text completion.
    Text(Arc<TextCompletionResponse>),
}

/// One cached embedding vector with the model that made it.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CachedEmbedding {
    /// The vector.
    pub embedding: Vec<f32>,
    /// The model that answered, as the vendor named it.
    pub model: String,
    /// Who produced it (provider, model, deployment id, model group).
    pub meta: ResponseMeta,
}

impl CachedEmbedding {
    /// A vector made by `model`.
    pub fn new(embedding: Vec<f32>, model: impl Into<String>) -> CachedEmbedding {
        CachedEmbedding {
            embedding,
            model: model.into(),
            meta: ResponseMeta::default(),
        }
    }
}

/// Who produced an answer: the part of [`ResponseMeta`] kept in the cache.
fn origin(meta: &ResponseMeta) -> ResponseMeta {
    ResponseMeta {
        provider: meta.provider.clone(),
        model: meta.model.clone(),
        deployment_id: meta.deployment_id.clone(),
        model_group: meta.model_group.clone(),
        attempts: 0,
        ..ResponseMeta::default()
    }
}

/// The meta of an answer served without an upstream call: `cache_hit`, cost 0, no attempts.
fn hit_meta(stored: &ResponseMeta, start: Instant) -> ResponseMeta {
    ResponseMeta {
        cache_hit: true,
        cost: Some(0.0),
        attempts: 0,
        latency: start.elapsed(),
        ..origin(stored)
    }
}

impl CachedAnswer {
    /// A chat answer (its meta reduced to who produced it).
    pub fn chat(mut resp: ChatResponse) -> CachedAnswer {
        resp.meta = origin(&resp.meta);
        CachedAnswer::Chat(Arc::new(resp))
    }

    /// A text-completion answer (its meta reduced to who produced it).
    pub fn text(mut resp: TextCompletionResponse) -> CachedAnswer {
        resp.meta = origin(&resp.meta);
        CachedAnswer::Text(Arc::new(resp))
    }

    /// An embedding vector.
    pub fn embedding(embedding: CachedEmbedding) -> CachedAnswer {
        CachedAnswer::Embedding(Arc::new(embedding))
    }

    /// Approximate size in bytes: the length of the serialized answer (vectors at 4 bytes a
    /// number). Used to bound a cache by bytes.
    pub fn size_bytes(&self) -> usize {
        fn json_len<T: Serialize>(v: &T) -> usize {
            let mut w = CountingWriter(0);
            // Serialization into a counter cannot fail for these types.
            let _ = serde_json::to_writer(&mut w, v);
            w.0
        }
        fn meta_len(m: &ResponseMeta) -> usize {
            m.provider.len()
                + m.model.len()
                + m.deployment_id.as_ref().map_or(0, String::len)
                + m.model_group.as_ref().map_or(0, String::len)
        }
        match self {
            CachedAnswer::Chat(r) => json_len(&**r) + meta_len(&r.meta),
            CachedAnswer::Text(r) => json_len(&**r) + meta_len(&r.meta),
            CachedAnswer::Embedding(e) => {
                e.embedding.len().saturating_mul(4) + e.model.len() + meta_len(&e.meta)
            }
        }
    }

    /// The answer as bytes (versioned JSON; vectors as base64 of little-endian `f32`, exact),
    /// for backends that store bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let answer = match self {
            CachedAnswer::Chat(r) => WireRef::Chat {
                origin: Origin::of(&r.meta),
                body: r,
            },
            CachedAnswer::Text(r) => WireRef::Text {
                origin: Origin::of(&r.meta),
                body: r,
            },
            CachedAnswer::Embedding(e) => WireRef::Embedding {
                origin: Origin::of(&e.meta),
                model: &e.model,
                vector: encode_vector(&e.embedding),
            },
        };
        // Serializing these types into memory cannot fail.
        serde_json::to_vec(&Envelope {
            v: WIRE_VERSION,
            answer,
        })
        .unwrap_or_default()
    }

    /// An answer from [`to_bytes`](Self::to_bytes). Fails with `InvalidResponse` on bytes it
    /// cannot read (another version, corruption).
    pub fn from_bytes(bytes: &[u8]) -> Result<CachedAnswer> {
        let env: Envelope<Wire> = serde_json::from_slice(bytes).map_err(|e| {
            Error::new(ErrorKind::InvalidResponse, "unreadable cache entry").with_source(e)
        })?;
        if env.v != WIRE_VERSION {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                format!("cache entry of version {}, expected {WIRE_VERSION}", env.v),
            ));
        }
        Ok(match env.answer {
            Wire::Chat { origin, mut body } => {
                body.meta = origin.into_meta();
                CachedAnswer::Chat(Arc::new(body))
            }
            Wire::Text { origin, mut body } => {
                body.meta = origin.into_meta();
                CachedAnswer::Text(Arc::new(body))
            }
            Wire::Embedding {
                origin,
                model,
                vector,
            } => CachedAnswer::Embedding(Arc::new(CachedEmbedding {
                embedding: decode_base64_embedding(&vector)
                    .map_err(|e| Error::new(ErrorKind::InvalidResponse, e))?,
                model,
                meta: origin.into_meta(),
            })),
        })
    }
}

struct CountingWriter(usize);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const WIRE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope<A> {
    v: u32,
    #[serde(flatten)]
    answer: A,
}

#[derive(Serialize, Deserialize, Default)]
struct Origin {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    provider: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model_group: Option<String>,
}

impl Origin {
    fn of(m: &ResponseMeta) -> Origin {
        Origin {
            provider: m.provider.clone(),
            model: m.model.clone(),
            deployment_id: m.deployment_id.clone(),
            model_group: m.model_group.clone(),
        }
    }

    fn into_meta(self) -> ResponseMeta {
        ResponseMeta {
            provider: self.provider,
            model: self.model,
            deployment_id: self.deployment_id,
            model_group: self.model_group,
            attempts: 0,
            ..ResponseMeta::default()
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireRef<'a> {
    Chat {
        origin: Origin,
        body: &'a ChatResponse,
    },
    Text {
        origin: Origin,
        body: &'a TextCompletionResponse,
    },
    Embedding {
        origin: Origin,
        model: &'a str,
        vector: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    Chat {
        #[serde(default)]
        origin: Origin,
        body: ChatResponse,
    },
    Text {
        #[serde(default)]
        origin: Origin,
        body: TextCompletionResponse,
    },
    Embedding {
        #[serde(default)]
        origin: Origin,
        #[serde(default)]
        model: String,
        vector: String,
    },
}

fn encode_vector(v: &[f32]) -> String {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(v.len() * 4);
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A copy of an error for the followers of a coalesced call and for replays: kind, message,
/// provider, model, deployment, status, request id, retry delay, vendor code, type, param and body (the
/// `source` cannot be copied and is left out).
pub fn share_error(e: &Error) -> Error {
    e.clone_shallow()
}

/// Which calls a cache serves. All on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedCalls {
    /// Chat completions, streamed or not.
    pub chat: bool,
    /// Embeddings.
    pub embeddings: bool,
    /// Legacy text completions.
    pub text: bool,
}

impl Default for CachedCalls {
    fn default() -> Self {
        CachedCalls::all()
    }
}

impl CachedCalls {
    /// Every call type.
    pub fn all() -> CachedCalls {
        CachedCalls {
            chat: true,
            embeddings: true,
            text: true,
        }
    }

    /// No call type (the cache is configured but off).
    pub fn none() -> CachedCalls {
        CachedCalls {
            chat: false,
            embeddings: false,
            text: false,
        }
    }
}

/// The cache settings of a client or router: the backend, which calls are cached, the
/// default TTL and whether identical concurrent calls are coalesced.
///
/// ```
/// use litellm::cache::{CacheConfig, MemoryCache};
/// use std::time::Duration;
///
/// let config = CacheConfig::new(MemoryCache::builder().max_entries(5_000).build())
///     .embeddings(true)
///     .text(false)
///     .default_ttl(Duration::from_secs(3600))
///     .coalesce(true);
/// assert!(config.cached_calls().chat && !config.cached_calls().text);
/// ```
#[derive(Clone)]
pub struct CacheConfig {
    backend: Arc<dyn Cache>,
    calls: CachedCalls,
    default_ttl: Option<Duration>,
    coalesce: bool,
    scope: CacheScope,
}

/// Who may be answered from whose entries (and share whose in-flight calls).
///
/// Keys never contain credentials, so without a scope two callers with different API keys who
/// send the same request share an entry: a caller whose key was revoked would still be answered
/// from another's cached call, without the vendor ever checking its key. A scope adds a hash of
/// the call's own credentials (`api_key` and `api_base`) to its keys.
///
/// ```
/// use litellm::cache::{CacheConfig, CacheScope};
/// let per_tenant = CacheConfig::memory().scope(CacheScope::PerCredential);
/// assert_eq!(per_tenant.cache_scope(), CacheScope::PerCredential);
/// assert_eq!(CacheConfig::memory().cache_scope(), CacheScope::Auto);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheScope {
    /// Per credential for calls that carry their own `api_key` or `api_base` (each caller
    /// brings its key, as behind a gateway); shared for calls that use the client's or the
    /// deployment's credentials (one operator's key for everyone). The default.
    #[default]
    Auto,
    /// Every caller shares entries: only the request decides. For one trusted application.
    Shared,
    /// Every call is scoped by its own credentials (none counts as one scope of its own).
    PerCredential,
}

impl std::fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheConfig")
            .field("backend", &self.backend.name())
            .field("calls", &self.calls)
            .field("default_ttl", &self.default_ttl)
            .field("coalesce", &self.coalesce)
            .field("scope", &self.scope)
            .finish()
    }
}

impl CacheConfig {
    /// Caches every call type in `backend`, under the backend's default TTL, coalescing
    /// identical concurrent calls.
    pub fn new(backend: impl Cache + 'static) -> CacheConfig {
        CacheConfig::shared(Arc::new(backend))
    }

    /// Like [`new`](Self::new), with a backend shared with others.
    pub fn shared(backend: Arc<dyn Cache>) -> CacheConfig {
        CacheConfig {
            backend,
            calls: CachedCalls::all(),
            default_ttl: None,
            coalesce: true,
            scope: CacheScope::Auto,
        }
    }

    /// An in-memory cache with [`MemoryCache`]'s defaults (10,000 entries, 64 MiB, 10 min).
    pub fn memory() -> CacheConfig {
        CacheConfig::new(MemoryCache::new())
    }

    /// Sets which calls are cached.
    #[must_use = "setters return the changed cache config; use it"]
    pub fn calls(mut self, calls: CachedCalls) -> Self {
        self.calls = calls;
        self
    }

    /// Caches chat completions (streamed or not) or not.
    #[must_use = "setters return the changed cache config; use it"]
    pub fn chat(mut self, on: bool) -> Self {
        self.calls.chat = on;
        self
    }

    /// Caches embeddings or not.
    #[must_use = "setters return the changed cache config; use it"]
    pub fn embeddings(mut self, on: bool) -> Self {
        self.calls.embeddings = on;
        self
    }

    /// Caches text completions or not.
    #[must_use = "setters return the changed cache config; use it"]
    pub fn text(mut self, on: bool) -> Self {
        self.calls.text = on;
        self
    }

    /// TTL of answers whose call sets none (default: the backend's own default).
    #[must_use = "setters return the changed cache config; use it"]
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// Coalesces identical concurrent calls into one upstream call (default on).
    #[must_use = "setters return the changed cache config; use it"]
    pub fn coalesce(mut self, on: bool) -> Self {
        self.coalesce = on;
        self
    }

    /// Who shares entries (default [`CacheScope::Auto`]: per credential when calls carry
    /// their own `api_key` or `api_base`).
    pub fn scope(mut self, scope: CacheScope) -> Self {
        self.scope = scope;
        self
    }

    /// The scope of entries.
    pub fn cache_scope(&self) -> CacheScope {
        self.scope
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn Cache> {
        &self.backend
    }

    /// Which calls are cached.
    pub fn cached_calls(&self) -> CachedCalls {
        self.calls
    }

    /// The default TTL, when set here.
    pub fn ttl(&self) -> Option<Duration> {
        self.default_ttl
    }

    /// Whether identical concurrent calls are coalesced.
    pub fn coalesces(&self) -> bool {
        self.coalesce
    }
}

/// A response the cache can copy for each caller.
trait HasMeta: crate::types::Reply + Clone {}

impl<T: crate::types::Reply + Clone> HasMeta for T {}

/// A response type the cache holds whole.
trait Answer: HasMeta + Send + Sync + 'static {
    fn wrap(v: Arc<Self>) -> CachedAnswer;
    fn unwrap(a: CachedAnswer) -> Option<Arc<Self>>;
    /// Worth storing: a complete answer.
    fn cacheable(&self) -> bool;
}

impl Answer for ChatResponse {
    fn wrap(v: Arc<Self>) -> CachedAnswer {
        CachedAnswer::Chat(v)
    }
    fn unwrap(a: CachedAnswer) -> Option<Arc<Self>> {
        match a {
            CachedAnswer::Chat(r) => Some(r),
            _ => None,
        }
    }
    fn cacheable(&self) -> bool {
        !self.choices.is_empty()
    }
}

impl Answer for TextCompletionResponse {
    fn wrap(v: Arc<Self>) -> CachedAnswer {
        CachedAnswer::Text(v)
    }
    fn unwrap(a: CachedAnswer) -> Option<Arc<Self>> {
        match a {
            CachedAnswer::Text(r) => Some(r),
            _ => None,
        }
    }
    fn cacheable(&self) -> bool {
        !self.choices.is_empty()
    }
}

/// A copy of a shared answer for one caller, with the meta of a call that made no upstream call.
fn served<T: HasMeta>(shared: &T, start: Instant) -> T {
    let mut out = shared.clone();
    let meta = hit_meta(shared.meta(), start);
    *out.meta_mut() = meta;
    out
}

/// The response cache of a client or router: the settings plus the calls in flight.
///
/// The pipeline keeps an `Option<ResponseCache>`; with `None` no key is computed and nothing is
/// allocated. Each wrapper below takes the model group (for a `Client`, the request's `model`),
/// the request, and the upstream call as a closure, which it runs only when needed.
pub struct ResponseCache {
    config: CacheConfig,
    chat_flights: SingleFlight<Arc<ChatResponse>>,
    text_flights: SingleFlight<Arc<TextCompletionResponse>>,
    embed_flights: SingleFlight<Arc<EmbeddingResponse>>,
    coalesced: AtomicU64,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("config", &self.config)
            .field("coalesced", &self.coalesced())
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache running with `config`.
    pub fn new(config: CacheConfig) -> ResponseCache {
        ResponseCache {
            config,
            chat_flights: SingleFlight::new(),
            text_flights: SingleFlight::new(),
            embed_flights: SingleFlight::new(),
            coalesced: AtomicU64::new(0),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// The backend's counts, when it keeps them.
    pub fn stats(&self) -> Option<CacheStats> {
        self.config.backend.stats()
    }

    /// Calls answered by sharing an identical concurrent call's result (no upstream call).
    pub fn coalesced(&self) -> u64 {
        self.coalesced.load(Ordering::Relaxed)
    }

    /// Whether a call of this type with these options is looked up in the cache (its type is
    /// cached and it does not set `no_cache`).
    pub fn looks_up(
        &self,
        call_type: crate::observe::CallType,
        options: &crate::types::CallOptions,
    ) -> bool {
        use crate::observe::CallType;
        let on = match call_type {
            CallType::Chat | CallType::ChatStream => self.config.calls.chat,
            CallType::Embedding => self.config.calls.embeddings,
            CallType::TextCompletion => self.config.calls.text,
        };
        on && !options.cache.no_cache
    }

    /// The key under which a chat request is cached, or `None` when this call does not use
    /// the cache (chat not cached, or both `no_cache` and `no_store` set).
    pub fn chat_key(&self, group: &str, req: &ChatRequest) -> Option<CacheKey> {
        let ctl = &req.options.cache;
        if !self.config.calls.chat || (ctl.no_cache && ctl.no_store) {
            return None;
        }
        let ns = self.namespace_of(&req.options);
        key::whole_key("chat", group, req, key::CHAT_EXCLUDED, ns.as_deref())
    }

    /// The namespace of a call's keys: its own `cache_namespace`, then its credential scope
    /// when the [`CacheScope`] gives it one.
    fn namespace_of<'a>(&self, o: &'a crate::types::CallOptions) -> Option<Cow<'a, str>> {
        let own = o.api_key.is_some() || o.api_base.is_some();
        let scoped = match self.config.scope {
            CacheScope::Shared => false,
            CacheScope::Auto => own,
            CacheScope::PerCredential => true,
        };
        let ns = o.cache.namespace.as_deref();
        if !scoped {
            return ns.map(Cow::Borrowed);
        }
        let scope = key::credential_scope(
            o.api_key.as_ref().map(|k| k.expose()),
            o.api_base.as_deref(),
        );
        Some(match ns {
            Some(ns) => Cow::Owned(format!("{ns}:{scope}")),
            None => Cow::Owned(scope),
        })
    }

    /// The key under which a text-completion request is cached (see [`Self::chat_key`]).
    pub fn text_key(&self, group: &str, req: &TextCompletionRequest) -> Option<CacheKey> {
        let ctl = &req.options.cache;
        if !self.config.calls.text || (ctl.no_cache && ctl.no_store) {
            return None;
        }
        let ns = self.namespace_of(&req.options);
        key::whole_key("text", group, req, key::TEXT_EXCLUDED, ns.as_deref())
    }

    /// The TTL a call's answers are stored with, or `None` when they are not stored.
    #[allow(clippy::option_option)] // not stored / the backend's default TTL / this TTL
    fn store_ttl(&self, ctl: &CacheControl) -> Option<Option<Duration>> {
        if ctl.no_store {
            return None;
        }
        match ctl.ttl.or(self.config.default_ttl) {
            Some(t) if t.is_zero() => None,
            ttl => Some(ttl),
        }
    }

    async fn read(&self, key: &CacheKey) -> Option<CachedAnswer> {
        match self.config.backend.get(key).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(key = %key, error = %e, "cache read failed; calling upstream");
                None
            }
        }
    }

    async fn write(&self, key: &CacheKey, ctl: &CacheControl, value: CachedAnswer) {
        let Some(ttl) = self.store_ttl(ctl) else {
            return;
        };
        if let Err(e) = self.config.backend.set(key, value, ttl).await {
            tracing::warn!(key = %key, error = %e, "cache write failed");
        }
    }

    /// A chat completion through the cache: a hit is answered from it; otherwise `fetch`
    /// makes the upstream call (once for all identical concurrent calls when coalescing) and
    /// its answer is stored. Without a key (see [`Self::chat_key`]) this is just `fetch()`.
    pub async fn chat<F, Fut>(
        &self,
        group: &str,
        req: &ChatRequest,
        fetch: F,
    ) -> Result<ChatResponse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ChatResponse>>,
    {
        let key = self.chat_key(group, req);
        self.cached_call(&self.chat_flights, key, &req.options.cache, fetch)
            .await
    }

    /// A text completion through the cache (like [`Self::chat`]).
    pub async fn text_completion<F, Fut>(
        &self,
        group: &str,
        req: &TextCompletionRequest,
        fetch: F,
    ) -> Result<TextCompletionResponse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TextCompletionResponse>>,
    {
        let key = self.text_key(group, req);
        self.cached_call(&self.text_flights, key, &req.options.cache, fetch)
            .await
    }

    async fn cached_call<T, F, Fut>(
        &self,
        flights: &SingleFlight<Arc<T>>,
        key: Option<CacheKey>,
        ctl: &CacheControl,
        fetch: F,
    ) -> Result<T>
    where
        T: Answer,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let Some(key) = key else {
            return fetch().await;
        };
        let start = Instant::now();
        if !ctl.no_cache
            && let Some(hit) = self.read(&key).await.and_then(T::unwrap)
        {
            return Ok(served(&*hit, start));
        }
        if !self.config.coalesce || ctl.no_cache {
            let resp = fetch().await?;
            if resp.cacheable() && self.store_ttl(ctl).is_some() {
                let mut stored = resp.clone();
                *stored.meta_mut() = origin(resp.meta());
                self.write(&key, ctl, T::wrap(Arc::new(stored))).await;
            }
            return Ok(resp);
        }
        let mut fetch = Some(fetch);
        loop {
            match flights.join(&key) {
                Join::Leader(leader) => {
                    // A follower becomes leader at most once: after it has led, it returns.
                    let Some(fetch) = fetch.take() else {
                        return Err(Error::new(ErrorKind::InternalServer, "cache flight reused"));
                    };
                    let result = fetch().await;
                    match &result {
                        Ok(resp) => {
                            let mut stored = resp.clone();
                            *stored.meta_mut() = origin(resp.meta());
                            let stored = Arc::new(stored);
                            if resp.cacheable() {
                                self.write(&key, ctl, T::wrap(Arc::clone(&stored))).await;
                            }
                            leader.succeed(stored);
                        }
                        Err(e) => leader.fail(e),
                    }
                    return result;
                }
                Join::Follower(follower) => {
                    if let Some(outcome) = follower.wait().await {
                        self.coalesced.fetch_add(1, Ordering::Relaxed);
                        return outcome.map(|shared| served(&*shared, start));
                    }
                }
            }
        }
    }

    /// A streamed chat completion through the cache. A hit (or the shared answer of an
    /// identical call in flight) is replayed as a stream ([`ChatStream::from_response`]);
    /// otherwise `open` opens the upstream stream, whose chunks pass through untouched as they
    /// arrive and which is stored when it ends successfully ([`store_stream`]). Latency and time
    /// to first token of the returned stream are measured from the start of this call.
    pub async fn chat_stream<F, Fut>(
        &self,
        group: &str,
        req: &ChatRequest,
        open: F,
    ) -> Result<ChatStream>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ChatStream>>,
    {
        let Some(key) = self.chat_key(group, req) else {
            return open().await;
        };
        let start = Instant::now();
        let ctl = &req.options.cache;
        let replay = |resp: &ChatResponse| {
            let resp = served(resp, start);
            ChatStream::from_response(&resp).started_at(start)
        };
        if !ctl.no_cache
            && let Some(hit) = self.read(&key).await.and_then(ChatResponse::unwrap)
        {
            return Ok(replay(&hit));
        }
        let store = self.store_ttl(ctl).map(|ttl| stream::StoreTarget {
            cache: Arc::clone(&self.config.backend),
            key: key.clone(),
            ttl,
        });
        if !self.config.coalesce || ctl.no_cache {
            let stream = open().await?;
            return Ok(stream::wrap(stream, store, None, start));
        }
        let mut open = Some(open);
        loop {
            match self.chat_flights.join(&key) {
                Join::Leader(leader) => {
                    let Some(open) = open.take() else {
                        return Err(Error::new(ErrorKind::InternalServer, "cache flight reused"));
                    };
                    return match open().await {
                        Ok(stream) => Ok(stream::wrap(stream, store, Some(leader), start)),
                        Err(e) => {
                            leader.fail(&e);
                            Err(e)
                        }
                    };
                }
                Join::Follower(follower) => {
                    if let Some(outcome) = follower.wait().await {
                        self.coalesced.fetch_add(1, Ordering::Relaxed);
                        return outcome.map(|shared| replay(&shared));
                    }
                }
            }
        }
    }

    /// Looks up each input of an embeddings request (unless the call sets `no_cache`) and
    /// plans the upstream request of the inputs not found. `None` when this call does not use
    /// the cache (embeddings not cached, both `no_cache` and `no_store`, no input).
    pub async fn plan_embedding(
        &self,
        group: &str,
        req: &EmbeddingRequest,
    ) -> Option<EmbeddingPlan> {
        let started = Instant::now();
        let ctl = &req.options.cache;
        if !self.config.calls.embeddings || (ctl.no_cache && ctl.no_store) || req.input.is_empty() {
            return None;
        }
        let ns = self.namespace_of(&req.options);
        let keys = key::embedding_keys_in(group, req, ns.as_deref())?;
        let found = if ctl.no_cache {
            vec![None; keys.len()]
        } else {
            match self.config.backend.get_many(&keys).await {
                Ok(found) if found.len() == keys.len() => found,
                Ok(_) => vec![None; keys.len()],
                Err(e) => {
                    tracing::warn!(error = %e, "cache read failed; calling upstream");
                    vec![None; keys.len()]
                }
            }
        };
        Some(EmbeddingPlan::new(keys, found, started))
    }

    /// Embeddings through the cache, per input: inputs found are not sent; `fetch` gets the
    /// request of only the missing inputs (the original request, borrowed, when none was
    /// found), and its vectors are stored and merged with the cached ones in input order.
    /// When every input is cached, `fetch` is not called and the answer is a hit.
    pub async fn embed<'a, F, Fut>(
        &self,
        group: &str,
        req: &'a EmbeddingRequest,
        fetch: F,
    ) -> Result<EmbeddingResponse>
    where
        F: FnOnce(Cow<'a, EmbeddingRequest>) -> Fut,
        Fut: Future<Output = Result<EmbeddingResponse>>,
    {
        let start = Instant::now();
        let Some(plan) = self.plan_embedding(group, req).await else {
            return fetch(Cow::Borrowed(req)).await;
        };
        let ctl = &req.options.cache;
        let Some(upstream) = plan.upstream_request(req) else {
            return plan.finish(self, ctl, None).await;
        };
        if !self.config.coalesce || ctl.no_cache {
            let resp = fetch(upstream).await?;
            return plan.finish(self, ctl, Some(resp)).await;
        }
        let flight_key = key::combined_key(ctl.namespace.as_deref(), plan.keys());
        let mut call = Some((fetch, upstream));
        loop {
            match self.embed_flights.join(&flight_key) {
                Join::Leader(leader) => {
                    let Some((fetch, upstream)) = call.take() else {
                        return Err(Error::new(ErrorKind::InternalServer, "cache flight reused"));
                    };
                    let result = match fetch(upstream).await {
                        Ok(resp) => plan.finish(self, ctl, Some(resp)).await,
                        Err(e) => Err(e),
                    };
                    match &result {
                        Ok(resp) => {
                            let mut shared = resp.clone();
                            shared.meta = origin(&resp.meta);
                            leader.succeed(Arc::new(shared));
                        }
                        Err(e) => leader.fail(e),
                    }
                    return result;
                }
                Join::Follower(follower) => {
                    if let Some(outcome) = follower.wait().await {
                        self.coalesced.fetch_add(1, Ordering::Relaxed);
                        return outcome.map(|shared| served(&*shared, start));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
