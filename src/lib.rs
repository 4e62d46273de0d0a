//! # litellm
//!
//! One OpenAI-shaped API to every major LLM vendor.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use litellm::{completion, Message};
//!
//! // "mock/…" answers locally; swap the string for "openai/gpt-4o-mini",
//! // "groq/llama-3.3-70b-versatile", "mistral/mistral-small-latest", … to call a vendor.
//! let resp = completion("mock/gpt-4o-mini", vec![Message::user("Hello")]).await?;
//! println!("{}", resp.text().unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! The package is `litellm-router` on crates.io (`litellm-router = "0.1"`); the library is
//! `litellm`, as above. `use litellm::prelude::*;` brings in what most programs name (see
//! [`prelude`]).
//!
//! ## What you get
//!
//! - **One request type, one response type** for every vendor: [`ChatRequest`] carries every
//!   OpenAI chat parameter plus call options that are never sent ([`CallOptions`]);
//!   [`ChatResponse`] is OpenAI's `chat.completion` plus a [`ResponseMeta`] (provider, latency,
//!   time to first token, attempts).
//! - **Streaming** with [`chat_stream`]: a [`ChatStream`] of OpenAI chunks that always ends
//!   with the usage chunk when the vendor reports usage, and rebuilds the whole answer,
//!   tool calls included, with [`ChatStream::collect_response`].
//! - **Embeddings** ([`embedding`], [`embed`]) from strings or tokens, float or base64 on the
//!   wire, `Vec<f32>` in your hands; **legacy completions** ([`text_completion`]).
//! - **Typed errors**: [`Error`] has one variant per [`ErrorKind`] (Python LiteLLM's exception
//!   classes), with status, vendor code, request id and [`Error::retry_after`]. Context-window
//!   and content-policy failures are recognised from vendor codes and messages.
//! - **Providers**: Anthropic, Google Gemini and Vertex AI, Cohere, Ollama (native API) and
//!   Hugging Face (router and TGI) translated from their own APIs; OpenAI, Azure OpenAI and the
//!   OpenAI-compatible vendors (Groq, Together,
//!   DeepSeek, Fireworks, OpenRouter, xAI, Perplexity, Mistral, Cerebras, DeepInfra, NVIDIA NIM,
//!   SambaNova, GitHub Models, Meta Llama, vLLM, LM Studio, llama.cpp/llamafile, Ollama's `/v1`,
//!   any `openai_compatible` server), plus the offline [`mock`](provider::mock) test double.
//!   Register your own with [`ClientBuilder::provider`].
//!
//! - **A router** ([`Router`]): many deployments behind one model name, with weighted and
//!   latency/usage/cost-aware selection, retries by error kind, cooldowns, fallbacks, rpm/tpm
//!   and parallel limits, pre-call context checks, and Python LiteLLM's `config.yaml`
//!   ([`Router::from_config_file`]). See [`router`].
//! - **Savings and visibility**, the same for a `Client` and a `Router` (each call goes through
//!   one pipeline, which costs nothing when these are off):
//!   - a response [`cache`] (in memory, keyed by every output-affecting parameter; streams
//!     replayed; embeddings per input; identical concurrent calls coalesced);
//!   - [`accounting`]: token counting, a shipped price table (or Python LiteLLM's JSON),
//!     `ResponseMeta::cost` on every answer, and a [`ledger`](accounting::ledger) of totals per
//!     user, key, tag, model, deployment and provider with budgets and rpm/tpm quotas checked
//!     before each call;
//!   - [`observe`]: async callbacks (plus a JSON-lines logger and a batching webhook), `tracing`
//!     lines (one per call as soon as a subscriber lets `litellm` through at `INFO`, e.g.
//!     `RUST_LOG=litellm=info`; more with `LITELLM_LOG=DEBUG|TRACE`), and Prometheus metrics
//!     rendered by one call.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use std::sync::Arc;
//! use litellm::accounting::ledger::{Budget, Ledger, Period, Scope};
//! use litellm::{cache::CacheConfig, observe::Metrics, ChatRequest, Client, Message, Metadata};
//!
//! let ledger = Arc::new(Ledger::new().budget(Budget::new(Scope::User("alice".into()), 5.0, Period::Daily)));
//! let metrics = Metrics::new();
//! let client = Client::builder()
//!     .cache(CacheConfig::memory())
//!     .ledger(ledger.clone())
//!     .metrics(metrics.clone())
//!     .build()?;
//! let req = ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
//!     .metadata(Metadata::new().user("alice"));
//! let first = client.chat(req.clone()).await?;
//! let again = client.chat(req).await?;
//! assert!(first.meta.cost.unwrap() > 0.0);
//! assert!(again.meta.cache_hit && again.meta.cost == Some(0.0));
//! assert!(metrics.render().contains("litellm_cache_hits_total"));
//! # Ok(()) }
//! ```
//!
//! ## Model strings and credentials
//!
//! Models are written `provider/model-id`. Bare well-known names are inferred (`gpt-4o` →
//! `openai`, see [`infer_provider`]). Keys and base URLs come from the call
//! ([`ChatRequest::api_key`], [`ChatRequest::api_base`]), then the [`Client`]'s settings, then the
//! environment, with Python LiteLLM's variable names (`OPENAI_API_KEY`, `GROQ_API_KEY`,
//! `AZURE_API_KEY`/`AZURE_API_BASE`/`AZURE_API_VERSION`, `HOSTED_VLLM_API_BASE`, …; see
//! `docs/providers.md`). A missing key is an `Authentication` error before any request.
//!
//! ## The free functions and the `Client`
//!
//! [`completion`], [`chat`], [`chat_stream`], [`embedding`], [`embed`] and [`text_completion`]
//! use a process-wide [`Client`] built on first use from the environment ([`default_client`]).
//! Build your own with [`Client::builder`] to set keys, timeouts or your own
//! `reqwest::Client`; its methods have the same names and signatures.
//!
//! ## Cargo features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `rustls` | yes | TLS through rustls; no OpenSSL needed |
//! | `http2` | yes | HTTP/2 with ALPN, so concurrent calls share a connection |
//! | `native-tls` | no | TLS through the platform library (OpenSSL on Linux) |
//! | `tokenizer` | yes | OpenAI's tokenizers (tiktoken-rs) for exact prompt counts; without it, an estimate |
//! | `bedrock` | no | AWS Bedrock (`bedrock/…`): Converse, ConverseStream's binary event stream, SigV4 signing (adds `hmac` and `sha2`); see [`provider::bedrock`](crate::provider) |
//! | `schemars` | no | `ResponseFormat::json_schema_for::<T>()`: OpenAI's strict `json_schema` response format from a type deriving `schemars::JsonSchema` (adds `schemars` 1.x); pair it with [`ChatResponse::parse_json`] |
//!
//! ## Timeouts and retries
//!
//! Each call has a timeout (600 s unless set on the client or the call): for a non-streaming
//! call it bounds each attempt; for a stream it bounds the wait for the response headers and
//! every gap between two chunks. `Duration::MAX` means no timeout. The client does not retry unless the call sets
//! [`num_retries`](ChatRequest::num_retries); retries then wait with exponential backoff and
//! jitter, or as long as the vendor's `Retry-After` asks (up to 60 s). Streams are retried only
//! while opening, never after a chunk has been delivered.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod accounting;
pub mod cache;
mod client;
mod clock;
pub mod config;
pub mod error;
mod fasthash;
mod model;
pub mod observe;
mod pipeline;
pub mod provider;
pub(crate) mod redact;
mod resolve;
pub mod router;
mod saturating;
mod stack;
pub mod state;
pub mod types;

#[cfg(test)]
pub(crate) mod testutil;

/// The `reqwest` this crate is built on, for [`ClientBuilder::http_client`]: build your
/// `reqwest::Client` from this re-export and it is always the version the crate expects.
pub use reqwest;

/// The `async_trait` attribute the [`Provider`](provider::Provider) and
/// [`Callback`](observe::Callback) traits are written with, so implementing them needs no
/// dependency of your own.
pub use async_trait::async_trait;

pub use client::{Client, ClientBuilder, builtin_providers, default_client};
pub use error::{Error, ErrorDetails, ErrorKind, Result};
pub use model::{infer_provider, split_model};
pub use router::Router;
pub use stack::layer;
pub use types::{
    CacheControl, CallOptions, ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice,
    ChunkAccumulator, ChunkChoice, CompletionTokensDetails, Content, ContentPart, Delta, Embedding,
    EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EncodingFormat, Extra,
    FileData, FinishReason, FunctionCall, FunctionCallDelta, FunctionDefinition, ImageUrl,
    InputAudio, JsonSchemaFormat, Message, Metadata, MockResponse, Prompt, PromptTokensDetails,
    ReasoningEffort, ResponseFormat, ResponseMeta, Role, SecretString, Stop, StreamObserver,
    StreamOptions, TextChoice, TextCompletionRequest, TextCompletionResponse, Tool, ToolCall,
    ToolCallDelta, ToolChoice, Usage, decode_base64_embedding,
};

/// Everything a program using this crate usually names, in one import:
///
/// ```
/// use litellm::prelude::*;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let client = Client::builder().cache(CacheConfig::memory()).build()?;
/// let req = ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
///     .metadata(Metadata::new().user("alice"));
/// let resp: ChatResponse = client.chat(req).await?;
/// assert!(resp.text().is_some());
/// # Ok(()) }
/// ```
///
/// It holds the request and response types, [`Client`] and [`Router`] with their builders and
/// settings, the error types, the cache, ledger and observability types a client or router is
/// configured with, and the [`Provider`](provider::Provider) and
/// [`Callback`](observe::Callback) traits with the
/// [`async_trait`](macro@crate::async_trait) attribute they are implemented with. It holds no
/// free functions (call `litellm::completion(…)`) and no `StreamExt`: read a [`ChatStream`]
/// with `futures::StreamExt::next` (add `futures` to your dependencies) or all at once with
/// [`ChatStream::collect_response`].
///
/// [`Result`] here is `litellm::Result<T, E = litellm::Error>`: in a module that glob-imports
/// the prelude it stands in for the standard `Result`, and `Result<T, OtherError>` still works.
pub mod prelude {
    pub use crate::async_trait;
    pub use crate::layer::{Layer, Next};
    pub use crate::{Client, ClientBuilder, Error, ErrorKind, Result, Router};

    pub use crate::types::{
        CacheControl, CallOptions, ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice,
        Content, ContentPart, Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse,
        FinishReason, FunctionCall, FunctionDefinition, ImageUrl, Message, Metadata, MockResponse,
        ResponseFormat, ResponseMeta, Role, SecretString, Stop, StreamObserver,
        TextCompletionRequest, TextCompletionResponse, Tool, ToolCall, ToolChoice, Usage,
    };

    pub use crate::config::RouterConfig;
    pub use crate::provider::{CallContext, Provider};
    pub use crate::router::{
        AllowedFailsPolicy, Candidate, Deployment, DeploymentHealth, Fallbacks, ModelInfo,
        PickContext, RetryBudget, RetryPolicy, RouterBuilder, RoutingStrategy, Strategy,
    };

    pub use crate::accounting::ledger::{Budget, Dimension, Ledger, Period, Quota, Scope};
    pub use crate::accounting::{ModelPrice, PriceTable};
    pub use crate::cache::{Cache, CacheConfig, MemoryCache};
    pub use crate::observe::{
        CallEvent, CallType, Callback, CallbackResult, Callbacks, EventError, Hook,
        JsonLinesLogger, LogLevel, Metrics, Webhook,
    };
}

/// The code blocks of `README.md` and `docs/*.md`, compiled (and run, where they work offline)
/// by `cargo test --doc`, so the documentation cannot drift from the API.
#[cfg(doctest)]
mod doc_files {
    #[doc = include_str!("../README.md")]
    pub struct Readme;
    #[doc = include_str!("../docs/architecture.md")]
    pub struct Architecture;
    #[doc = include_str!("../docs/benchmarks.md")]
    pub struct Benchmarks;
    #[doc = include_str!("../docs/caching.md")]
    pub struct Caching;
    #[doc = include_str!("../docs/cost.md")]
    pub struct Cost;
    #[doc = include_str!("../docs/errors.md")]
    pub struct Errors;
    #[doc = include_str!("../docs/layers.md")]
    pub struct Layers;
    #[doc = include_str!("../docs/migrating-from-python-litellm.md")]
    pub struct Migrating;
    #[doc = include_str!("../docs/observability.md")]
    pub struct Observability;
    #[doc = include_str!("../docs/providers.md")]
    pub struct Providers;
    #[doc = include_str!("../docs/router.md")]
    pub struct RouterDoc;
    #[doc = include_str!("../docs/structured-output.md")]
    pub struct StructuredOutput;

    /// Chainable setters and builders are `#[must_use]`: a result dropped on the floor is a
    /// warning (here denied, so each block below must fail to compile).
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let req = litellm::ChatRequest::new("mock/m", vec![]);
    /// req.clone().temperature(0.2); // the changed request is dropped
    /// ```
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let req = litellm::EmbeddingRequest::new("mock/m", "text");
    /// req.clone().api_key("sk-…");
    /// ```
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// litellm::Metadata::new().user("alice");
    /// ```
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// litellm::router::Deployment::new("g", "mock/m").rpm(10);
    /// ```
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// litellm::cache::CacheConfig::memory().coalesce(false);
    /// ```
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// use litellm::accounting::ledger::{Budget, Period, Scope};
    /// Budget::new(Scope::Global, 1.0, Period::Daily).reserve(0.1);
    /// ```
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// litellm::Client::builder().timeout(std::time::Duration::from_secs(5));
    /// ```
    ///
    /// The same calls with their results used compile:
    ///
    /// ```
    /// #![deny(unused_must_use)]
    /// use litellm::accounting::ledger::{Budget, Period, Scope};
    /// let req = litellm::ChatRequest::new("mock/m", vec![]).temperature(0.2);
    /// let emb = litellm::EmbeddingRequest::new("mock/m", "text").api_key("sk-…");
    /// let meta = litellm::Metadata::new().user("alice");
    /// let dep = litellm::router::Deployment::new("g", "mock/m").rpm(10);
    /// let cache = litellm::cache::CacheConfig::memory().coalesce(false);
    /// let budget = Budget::new(Scope::Global, 1.0, Period::Daily).reserve(0.1);
    /// let builder = litellm::Client::builder().timeout(std::time::Duration::from_secs(5));
    /// # let _ = (req, emb, meta, dep, cache, budget, builder);
    /// ```
    pub struct MustUse;
}

/// A chat completion for `model` with `messages`, on the default client.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
/// let resp = litellm::completion("mock/gpt-4o-mini", vec![litellm::Message::user("Hi")]).await?;
/// assert!(resp.text().is_some());
/// # Ok(()) }
/// ```
pub async fn completion(model: &str, messages: Vec<Message>) -> Result<ChatResponse> {
    default_client()?.completion(model, messages).await
}

/// A chat completion on the default client.
pub async fn chat(request: ChatRequest) -> Result<ChatResponse> {
    default_client()?.chat(request).await
}

/// A streamed chat completion on the default client.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
/// use futures::StreamExt;
/// use litellm::{ChatRequest, Message};
///
/// let mut stream = litellm::chat_stream(
///     ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")]).mock_response("Hello there"),
/// ).await?;
/// let mut text = String::new();
/// while let Some(chunk) = stream.next().await {
///     let chunk = chunk?;
///     text.push_str(chunk.text().unwrap_or_default());
///     if let Some(usage) = &chunk.usage {
///         println!("{} tokens", usage.total_tokens);
///     }
/// }
/// assert_eq!(text, "Hello there");
/// # Ok(()) }
/// ```
pub async fn chat_stream(request: ChatRequest) -> Result<ChatStream> {
    default_client()?.chat_stream(request).await
}

/// Embeddings of one or more inputs on the default client.
pub async fn embedding(model: &str, input: impl Into<EmbeddingInput>) -> Result<EmbeddingResponse> {
    default_client()?.embedding(model, input).await
}

/// Embeddings on the default client.
pub async fn embed(request: EmbeddingRequest) -> Result<EmbeddingResponse> {
    default_client()?.embed(request).await
}

/// A legacy text completion on the default client.
pub async fn text_completion(request: TextCompletionRequest) -> Result<TextCompletionResponse> {
    default_client()?.text_completion(request).await
}

/// Entry points for the crate's own benchmarks (`benches/`) into internals that are not part
/// of the public API. Not covered by semver; do not use.
#[doc(hidden)]
pub mod __bench {
    /// Decodes `body` as a server-sent-event stream fed in pieces of `piece` bytes (as a
    /// socket would deliver it) and returns the number of events and their data bytes.
    pub fn sse_decode(body: &[u8], piece: usize) -> (usize, usize) {
        use crate::provider::framed::Framer;
        let mut dec = crate::provider::sse::SseDecoder::new(16 * 1024 * 1024);
        let mut out = std::collections::VecDeque::new();
        let (mut events, mut bytes) = (0, 0);
        for chunk in body.chunks(piece.max(1)) {
            if dec.feed(chunk, &mut out).is_err() {
                return (events, bytes);
            }
            for e in out.drain(..) {
                events += 1;
                bytes += e.data.len();
            }
        }
        let _ = dec.finish(&mut out);
        for e in out.drain(..) {
            events += 1;
            bytes += e.data.len();
        }
        (events, bytes)
    }
}
