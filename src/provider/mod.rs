//! The [`Provider`] trait, the [`CallContext`] a provider is called with, and the built-in
//! providers.
//!
//! Built-in providers keep their translation pure (request → URL, headers and JSON body; body →
//! response; stream event → chunks; error body → [`crate::Error`]) and send through the
//! shared HTTP layer in [`http`]. To add your own vendor, implement [`Provider`] and register it
//! under a prefix with [`ClientBuilder::provider`](crate::ClientBuilder::provider):
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use futures::StreamExt;
//! use litellm::provider::{CallContext, Provider};
//! use litellm::{ChatRequest, ChatResponse, Client, Message, Result, Usage};
//!
//! /// Answers with the last message, reversed.
//! struct Reverse;
//!
//! #[async_trait]
//! impl Provider for Reverse {
//!     fn name(&self) -> &str { "reverse" }
//!     async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
//!         let last = req.messages.last().and_then(|m| m.text()).unwrap_or_default();
//!         let answer: String = last.chars().rev().collect();
//!         Ok(ChatResponse::from_text(cx.model.as_str(), answer).with_usage(Usage::new(3, 1)))
//!     }
//!     // `chat_stream` is not needed: by default it replays `chat` as a stream.
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! let client = Client::builder().provider("reverse", Arc::new(Reverse)).build()?;
//! let resp = client.completion("reverse/any-model", vec![Message::user("ping")]).await?;
//! assert_eq!(resp.text(), Some("gnip"));
//!
//! let req = ChatRequest::new("reverse/any-model", vec![Message::user("ping")]);
//! let mut stream = client.chat_stream(req).await?;
//! let mut text = String::new();
//! while let Some(chunk) = stream.next().await {
//!     text.push_str(chunk?.text().unwrap_or_default());
//! }
//! assert_eq!(text, "gnip");
//! # Ok(()) }
//! ```
//!
//! A provider that talks HTTP declares where its key and endpoint come from with
//! [`Provider::credentials`], reads them from the [`CallContext`] ([`CallContext::bearer`],
//! [`CallContext::endpoint`]) and sends through [`http`]: see `examples/custom_provider.rs`
//! and `docs/providers.md`.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    ChatRequest, ChatResponse, ChatStream, Content, EmbeddingRequest, EmbeddingResponse, Message,
    MockResponse, Prompt, SecretString, TextChoice, TextCompletionRequest, TextCompletionResponse,
};

pub mod anthropic;
pub mod azure;
#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
pub mod bedrock;
pub mod cohere;
pub mod compat;
pub(crate) mod decode;
pub(crate) mod error_map;
pub(crate) mod framed;
pub mod gemini;
pub mod http;
pub mod huggingface;
pub mod mock;
pub(crate) mod ndjson;
pub mod ollama;
pub mod openai;
pub(crate) mod sse;
#[cfg(test)]
pub(crate) mod test_util;

pub use error_map::{error_from_json, error_from_response, request_id, retry_after};

/// One vendor behind the common API. Object-safe: providers are held as `Arc<dyn Provider>`.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's name (its default prefix).
    fn name(&self) -> &str;

    /// Where the client finds this provider's key and endpoint. The default needs nothing.
    fn credentials(&self) -> Credentials {
        Credentials::default()
    }

    /// A chat completion. Use `cx.model` (the model id without the prefix), not `req.model`.
    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse>;

    /// A streamed chat completion.
    ///
    /// The default calls [`Provider::chat`] and replays its answer as a stream
    /// ([`ChatStream::from_response`]): per choice a chunk with the role, the whole content
    /// and the tool calls, then a chunk with each finish reason, then the usage chunk
    /// (`choices: []`) when the answer has usage. `collect_response` on it gives back the
    /// answer of `chat`. Override it when the vendor streams for real.
    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let resp = self.chat(req, cx).await?;
        Ok(ChatStream::from_response(&resp))
    }

    /// Embeddings. The default answers `Unsupported`.
    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let _ = req;
        Err(Error::new(
            ErrorKind::Unsupported,
            format!("provider '{}' does not support embeddings", self.name()),
        )
        .with_provider(self.name())
        .with_model(cx.model.clone()))
    }

    /// A legacy text completion. The default sends the prompt as one user message through
    /// [`Provider::chat`] and returns the answer as a text completion (see
    /// [`text_completion_via_chat`]).
    async fn text_completion(
        &self,
        req: &TextCompletionRequest,
        cx: &CallContext,
    ) -> Result<TextCompletionResponse> {
        let chat_req = text_to_chat(req, cx)?;
        let resp = self.chat(&chat_req, cx).await?;
        Ok(chat_to_text(resp))
    }
}

/// A text completion through `provider`'s chat endpoint: the prompt becomes one user message.
/// A token prompt or several prompts are `BadRequest`; `suffix`, `echo`, `best_of` and
/// `logprobs` are `Unsupported` unless the call sets `drop_params`.
pub async fn text_completion_via_chat(
    provider: &dyn Provider,
    req: &TextCompletionRequest,
    cx: &CallContext,
) -> Result<TextCompletionResponse> {
    let chat_req = text_to_chat(req, cx)?;
    let resp = provider.chat(&chat_req, cx).await?;
    Ok(chat_to_text(resp))
}

/// Turns a text completion request into a chat request with one user message.
pub(crate) fn text_to_chat(req: &TextCompletionRequest, cx: &CallContext) -> Result<ChatRequest> {
    let prompt = match &req.prompt {
        Prompt::Text(s) => s.as_str(),
        Prompt::Texts(v) if v.len() == 1 => v[0].as_str(),
        Prompt::Texts(_) => {
            return Err(Error::bad_request(format!(
                "provider '{}' answers text completions through chat, which takes one prompt",
                cx.provider
            )));
        }
        Prompt::Tokens(_) | Prompt::TokenBatches(_) => {
            return Err(Error::bad_request(format!(
                "provider '{}' answers text completions through chat, which takes text, not tokens",
                cx.provider
            )));
        }
    };
    for (name, set) in [
        ("suffix", req.suffix.is_some()),
        ("echo", req.echo.is_some()),
        ("best_of", req.best_of.is_some()),
        ("logprobs", req.logprobs.is_some()),
    ] {
        if set {
            cx.unsupported_param(name)?;
        }
    }
    let mut chat = ChatRequest::new(req.model.clone(), vec![Message::user(prompt)]);
    chat.max_tokens = req.max_tokens;
    chat.temperature = req.temperature;
    chat.top_p = req.top_p;
    chat.n = req.n;
    chat.stop = req.stop.clone();
    chat.presence_penalty = req.presence_penalty;
    chat.frequency_penalty = req.frequency_penalty;
    chat.seed = req.seed;
    chat.user = req.user.clone();
    chat.logit_bias = req.logit_bias.clone();
    chat.extra_body = req.extra_body.clone();
    chat.options = req.options.clone();
    Ok(chat)
}

/// Finishes an embeddings answer a provider decoded, with the vendor's request id: a decoding
/// error, or vectors that do not fit the input, gets provider and model and loses the key (as
/// every error of a call); the vectors are put in input order and the request id recorded.
pub(crate) fn embedding_answer(
    cx: &CallContext,
    req: &EmbeddingRequest,
    decoded: Result<EmbeddingResponse>,
    request_id: Option<String>,
) -> Result<EmbeddingResponse> {
    let mut out = decoded.map_err(|e| http::finish_error(cx, e))?;
    out.check_against(&req.input)
        .map_err(|e| http::finish_error(cx, e))?;
    out.meta.request_id = request_id;
    Ok(out)
}

/// Turns a chat response into a text completion response.
pub(crate) fn chat_to_text(resp: ChatResponse) -> TextCompletionResponse {
    TextCompletionResponse {
        id: resp.id,
        object: "text_completion".to_owned(),
        created: resp.created,
        model: resp.model,
        choices: resp
            .choices
            .into_iter()
            .map(|c| TextChoice {
                text: c
                    .message
                    .content
                    .as_ref()
                    .map(Content::to_text)
                    .unwrap_or_default(),
                index: c.index,
                logprobs: c.logprobs,
                finish_reason: c.finish_reason,
                extra: Default::default(),
            })
            .collect(),
        usage: resp.usage,
        system_fingerprint: resp.system_fingerprint,
        extra: resp.extra,
        meta: resp.meta,
    }
}

/// Where the client looks for a provider's key and endpoint, and what it requires.
///
/// The order is: the call's options, then the client's settings for the prefix, then the
/// environment variables listed here (first one set wins), then `default_api_base`.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Credentials {
    /// Environment variables holding the API key, in order of preference.
    pub api_key_env: &'static [&'static str],
    /// Environment variables holding the base URL.
    pub api_base_env: &'static [&'static str],
    /// Environment variables holding the API version.
    pub api_version_env: &'static [&'static str],
    /// Base URL when nothing else sets one.
    pub default_api_base: Option<&'static str>,
    /// A call without a key fails with `Authentication` before any request.
    pub requires_api_key: bool,
    /// A call without a base URL fails with `Config` before any request.
    pub requires_api_base: bool,
    /// Extra headers read from the environment: (variable, header name).
    pub env_headers: &'static [(&'static str, &'static str)],
    /// Provider settings read from the environment when neither the call nor the client set
    /// them: (setting, variables in order of preference), e.g.
    /// `("vertex_project", &["VERTEXAI_PROJECT"])`.
    pub params_env: &'static [(&'static str, &'static [&'static str])],
}

impl Credentials {
    /// Credentials with these key variables, base variables and default base.
    pub const fn new(
        api_key_env: &'static [&'static str],
        api_base_env: &'static [&'static str],
        default_api_base: Option<&'static str>,
    ) -> Credentials {
        Credentials {
            api_key_env,
            api_base_env,
            api_version_env: &[],
            default_api_base,
            requires_api_key: false,
            requires_api_base: false,
            env_headers: &[],
            params_env: &[],
        }
    }

    /// Makes a call without a key fail with `Authentication` before it reaches the provider
    /// (sets [`requires_api_key`](Self::requires_api_key)).
    ///
    /// ```
    /// use litellm::provider::Credentials;
    ///
    /// const MYCO: Credentials =
    ///     Credentials::new(&["MYCO_API_KEY"], &["MYCO_API_BASE"], Some("https://api.myco.example/v1"))
    ///         .api_key_required();
    /// assert!(MYCO.requires_api_key && !MYCO.requires_api_base);
    /// ```
    #[must_use = "returns the changed credentials; use it"]
    pub const fn api_key_required(mut self) -> Credentials {
        self.requires_api_key = true;
        self
    }

    /// Makes a call without a base URL fail with `Config` before it reaches the provider
    /// (sets [`requires_api_base`](Self::requires_api_base)).
    #[must_use = "returns the changed credentials; use it"]
    pub const fn api_base_required(mut self) -> Credentials {
        self.requires_api_base = true;
        self
    }

    /// Sets the environment variables holding the API version, in order of preference.
    #[must_use = "returns the changed credentials; use it"]
    pub const fn with_api_version_env(mut self, vars: &'static [&'static str]) -> Credentials {
        self.api_version_env = vars;
        self
    }
}

/// Everything a provider needs for one call besides the request: the resolved model id,
/// credentials, endpoint, headers, timeouts and the shared HTTP client. Its `Debug` shows
/// header names and parameter names only.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallContext {
    /// The shared HTTP client (connection pool).
    pub http: reqwest::Client,
    /// The prefix the call was routed by (`"openai"`, `"groq"`, a custom prefix, …).
    pub provider: String,
    /// The model id without the prefix (`"gpt-4o-mini"`).
    pub model: String,
    /// The API key, when one was found.
    pub api_key: Option<SecretString>,
    /// The base URL, when one was found (no trailing slash).
    pub api_base: Option<String>,
    /// The API version (Azure).
    pub api_version: Option<String>,
    /// Extra headers: the client's defaults, the environment's, then the call's.
    pub headers: Vec<(String, String)>,
    /// Timeout of the whole call (non-streaming) or of the wait for headers (streaming).
    pub timeout: Duration,
    /// Longest wait between two chunks of a stream.
    pub stream_idle_timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// Drop unsupported parameters instead of failing.
    pub drop_params: bool,
    /// Provider settings (`vertex_project`, `aws_region_name`, …): the call's, then the
    /// client's, then the environment's (see [`Credentials::params_env`]).
    pub params: Vec<(String, SecretString)>,
    /// The mock answer for this call, when it has one (read by the `mock` provider).
    pub mock_response: Option<MockResponse>,
}

impl std::fmt::Debug for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallContext")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .field("api_base", &self.api_base)
            .field("api_version", &self.api_version)
            .field("headers", &header_names(&self.headers))
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Header names, for `Debug` output that must not show values.
pub(crate) fn header_names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(n, _)| n.as_str()).collect()
}

/// True for header names whose values are credentials (`Authorization`, `api-key`,
/// `x-api-key`, anything naming a token, key, secret or cookie).
pub(crate) fn is_secret_header(name: &str) -> bool {
    crate::redact::is_sensitive_name(name)
}

impl CallContext {
    /// The secrets of this call: the key, secret header values (also without a `Bearer `
    /// prefix) and parameter values, to scrub from errors.
    /// True when `text` holds one of the call's secrets (see [`CallContext::secrets`]),
    /// without copying them.
    pub(crate) fn holds_secret(&self, text: &str) -> bool {
        let found = |s: &str| s.len() >= 4 && text.contains(s);
        self.api_key.as_ref().is_some_and(|k| found(k.expose()))
            || self.headers.iter().any(|(n, v)| {
                is_secret_header(n) && (found(v) || v.strip_prefix("Bearer ").is_some_and(found))
            })
            || self
                .params
                .iter()
                .any(|(n, v)| is_secret_header(n) && found(v.expose()))
    }

    pub(crate) fn secrets(&self) -> Vec<SecretString> {
        let mut out: Vec<SecretString> = self.api_key.iter().cloned().collect();
        for (name, value) in &self.headers {
            if is_secret_header(name) {
                out.push(SecretString::new(value.as_str()));
                if let Some(token) = value.strip_prefix("Bearer ") {
                    out.push(SecretString::new(token));
                }
            }
        }
        out.extend(
            self.params
                .iter()
                .filter(|(n, _)| is_secret_header(n))
                .map(|(_, v)| v.clone()),
        );
        out
    }
}

impl CallContext {
    /// A context for `provider`/`model` with default timeouts and no credentials.
    pub fn new(
        http: reqwest::Client,
        provider: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        CallContext {
            http,
            provider: provider.into(),
            model: model.into(),
            api_key: None,
            api_base: None,
            api_version: None,
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            stream_idle_timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            drop_params: false,
            params: Vec::new(),
            mock_response: None,
        }
    }

    /// A provider setting by name (the first one set wins).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.expose())
    }

    /// Fails with `Unsupported` naming `param`, unless the call set `drop_params`, in which case
    /// the caller drops it silently (as Python LiteLLM does).
    pub fn unsupported_param(&self, param: &str) -> Result<()> {
        if self.drop_params {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "provider '{}' does not support the parameter '{param}'; set drop_params to drop it",
                self.provider
            ),
        )
        .with_provider(self.provider.clone())
        .with_model(self.model.clone()))
    }

    /// The key, or an `Authentication` error naming the provider.
    pub fn require_api_key(&self) -> Result<&str> {
        match &self.api_key {
            Some(k) if !k.is_empty() => Ok(k.expose()),
            _ => Err(Error::new(
                ErrorKind::Authentication,
                format!("no API key for provider '{}'", self.provider),
            )
            .with_provider(self.provider.clone())
            .with_model(self.model.clone())),
        }
    }

    /// `Authorization: Bearer <key>` for [`http::json_headers`], or the `Authentication` error
    /// of [`require_api_key`](Self::require_api_key) when the call has no key.
    ///
    /// ```
    /// use litellm::ErrorKind;
    /// use litellm::provider::{CallContext, http::Auth};
    ///
    /// let cx = CallContext::new(reqwest::Client::new(), "myco", "m1");
    /// assert_eq!(cx.bearer().unwrap_err().kind(), ErrorKind::Authentication);
    /// let cx = cx.with_api_key("sk-test");
    /// assert_eq!(cx.bearer()?, Auth::Bearer("sk-test"));
    /// # Ok::<(), litellm::Error>(())
    /// ```
    pub fn bearer(&self) -> Result<http::Auth<'_>> {
        self.require_api_key().map(http::Auth::Bearer)
    }

    /// The URL of `path` under the base URL (`http::join_url`: exactly one slash between
    /// them, a query on the base kept at the end), or the `Config` error of
    /// [`require_api_base`](Self::require_api_base) when the call has no base URL.
    ///
    /// ```
    /// use litellm::provider::CallContext;
    ///
    /// let cx = CallContext::new(reqwest::Client::new(), "myco", "m1")
    ///     .with_api_base("https://api.myco.example/v1/");
    /// assert_eq!(cx.endpoint("/chat")?, "https://api.myco.example/v1/chat");
    /// # Ok::<(), litellm::Error>(())
    /// ```
    pub fn endpoint(&self, path: &str) -> Result<String> {
        self.require_api_base()
            .map(|base| http::join_url(base, path))
    }

    /// Sets the API key (for testing a provider without a client).
    #[must_use = "returns the changed context; use it"]
    pub fn with_api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the base URL, without its trailing slashes (as the client does).
    #[must_use = "returns the changed context; use it"]
    pub fn with_api_base(mut self, base: impl Into<String>) -> Self {
        let base = base.into();
        self.api_base = Some(base.trim_end_matches('/').to_owned());
        self
    }

    /// Adds an extra header.
    #[must_use = "returns the changed context; use it"]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a provider setting (read with [`param`](Self::param)).
    #[must_use = "returns the changed context; use it"]
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<SecretString>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// The base URL, or a `Config` error naming the provider.
    pub fn require_api_base(&self) -> Result<&str> {
        self.api_base.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!("no api_base for provider '{}'", self.provider),
            )
            .with_provider(self.provider.clone())
            .with_model(self.model.clone())
        })
    }
}

/// A fresh id for something a vendor did not name (a tool call, a response): `prefix` followed
/// by 24 random hex digits, e.g. `call_3f9a…`.
pub(crate) fn generated_id(prefix: &str) -> String {
    let a: u64 = rand::random();
    let b: u32 = rand::random();
    format!("{prefix}{a:016x}{b:08x}")
}

/// The current Unix time in seconds (0 if the clock is before 1970).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Default timeout of a call: 600 s, as the OpenAI SDKs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Default largest response body: 256 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
