//! Call options: settings of one call that are never sent as body fields.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::chat::ToolCall;
use super::secret::SecretString;
use super::setters::setters;
use super::usage::Usage;
use crate::error::ErrorKind;

/// Settings of one call that are not part of the vendor's request body: credentials, endpoint,
/// timeouts, retries, headers, metadata and test doubles. Set them with the request's setters
/// (`ChatRequest::api_key`, `::timeout`, …) or directly. Its `Debug` shows header names only.
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CallOptions {
    /// API key for this call; overrides the client's and the environment's.
    pub api_key: Option<SecretString>,
    /// Base URL for this call (e.g. `http://localhost:8000/v1`).
    pub api_base: Option<String>,
    /// API version (Azure `api-version`).
    pub api_version: Option<String>,
    /// Timeout: each attempt of a call when not streaming; for a stream, the wait for the
    /// response headers and for each next chunk.
    pub timeout: Option<Duration>,
    /// How many times the client retries a retryable failure (default 0; the router owns retries).
    pub num_retries: Option<u32>,
    /// Extra HTTP headers sent with this call.
    pub extra_headers: Vec<(String, String)>,
    /// Who and what this call is for; used by logging, callbacks and accounting, never sent.
    pub metadata: Metadata,
    /// Answer from the built-in mock provider instead of calling any vendor.
    pub mock_response: Option<MockResponse>,
    /// Drop parameters the provider cannot honour instead of failing with `Unsupported`.
    pub drop_params: Option<bool>,
    /// Provider settings that are neither key nor base URL, named as Python LiteLLM names them
    /// (`vertex_project`, `vertex_location`, `aws_region_name`, `aws_access_key_id`, …).
    /// Values are kept as secrets.
    pub params: Vec<(String, SecretString)>,
    /// Router only: model groups to try, in order, when the requested group fails (replaces
    /// the group's configured `fallbacks` for this call).
    pub fallbacks: Option<Vec<String>>,
    /// Response-cache controls of this call (`no_cache`, `no_store`, TTL, namespace); used only
    /// when the client or router has a cache (see [`crate::cache`]).
    pub cache: CacheControl,
}

/// Per-call controls of the response cache (see [`crate::cache`] and `docs/caching.md`).
/// All off by default: the call reads and writes the cache under its configured TTL.
///
/// ```
/// use litellm::{ChatRequest, Message};
/// use std::time::Duration;
///
/// let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")])
///     .no_cache(true) // do not read a cached answer...
///     .cache_ttl(Duration::from_secs(60)) // ...but store the fresh one for a minute
///     .cache_namespace("tenant-a");
/// assert!(req.options.cache.no_cache && !req.options.cache.no_store);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheControl {
    /// Do not read the cache: always call upstream (and skip coalescing with identical calls).
    pub no_cache: bool,
    /// Do not write the answer of this call to the cache.
    pub no_store: bool,
    /// How long to keep this call's answer (instead of the cache's default TTL); zero stores
    /// nothing.
    pub ttl: Option<Duration>,
    /// A prefix that separates this call's cache entries from others' (tenant, test run, …).
    pub namespace: Option<String>,
}

/// Generates the call-option setters shared by every request type (`api_key`, `api_base`,
/// `api_version`, `timeout`, `num_retries`, `extra_header`, `metadata`, `mock_response`,
/// `drop_params`, `no_cache`, `no_store`, `cache_ttl`, `cache_namespace`, …) on a type with an
/// `options: CallOptions` field.
macro_rules! call_option_setters {
    () => {
        /// Call option: API key for this call (overrides the client's and the environment's).
        #[must_use = "setters return the changed request; use it"]
        pub fn api_key(mut self, key: impl Into<$crate::types::SecretString>) -> Self {
            self.options.api_key = Some(key.into());
            self
        }

        /// Call option: base URL for this call.
        #[must_use = "setters return the changed request; use it"]
        pub fn api_base(mut self, base: impl Into<String>) -> Self {
            self.options.api_base = Some(base.into());
            self
        }

        /// Call option: API version (Azure).
        #[must_use = "setters return the changed request; use it"]
        pub fn api_version(mut self, version: impl Into<String>) -> Self {
            self.options.api_version = Some(version.into());
            self
        }

        /// Call option: timeout (see [`CallOptions::timeout`](crate::CallOptions::timeout)).
        #[must_use = "setters return the changed request; use it"]
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.timeout = Some(timeout);
            self
        }

        /// Call option: client-side retries of retryable failures (default 0).
        #[must_use = "setters return the changed request; use it"]
        pub fn num_retries(mut self, n: u32) -> Self {
            self.options.num_retries = Some(n);
            self
        }

        /// Call option: an extra HTTP header.
        #[must_use = "setters return the changed request; use it"]
        pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.extra_headers.push((name.into(), value.into()));
            self
        }

        /// Call option: metadata for logs and accounting (never sent).
        #[must_use = "setters return the changed request; use it"]
        pub fn metadata(mut self, metadata: $crate::types::Metadata) -> Self {
            self.options.metadata = metadata;
            self
        }

        /// Call option: answer from the mock provider (a test double; no network).
        #[must_use = "setters return the changed request; use it"]
        pub fn mock_response(mut self, mock: impl Into<$crate::types::MockResponse>) -> Self {
            self.options.mock_response = Some(mock.into());
            self
        }

        /// Call option: drop parameters the provider cannot honour instead of failing.
        #[must_use = "setters return the changed request; use it"]
        pub fn drop_params(mut self, drop: bool) -> Self {
            self.options.drop_params = Some(drop);
            self
        }

        /// Call option (router only): model groups to try when the requested one fails.
        #[must_use = "setters return the changed request; use it"]
        pub fn fallbacks<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
            self.options.fallbacks = Some(groups.into_iter().map(Into::into).collect());
            self
        }

        /// Call option: a provider setting such as `vertex_project` or `aws_region_name`
        /// (overrides the client's and the environment's).
        #[must_use = "setters return the changed request; use it"]
        pub fn provider_param(
            mut self,
            name: impl Into<String>,
            value: impl Into<$crate::types::SecretString>,
        ) -> Self {
            self.options.params.push((name.into(), value.into()));
            self
        }

        /// Call option (cache): do not read a cached answer; call upstream.
        #[must_use = "setters return the changed request; use it"]
        pub fn no_cache(mut self, no_cache: bool) -> Self {
            self.options.cache.no_cache = no_cache;
            self
        }

        /// Call option (cache): do not store this call's answer.
        #[must_use = "setters return the changed request; use it"]
        pub fn no_store(mut self, no_store: bool) -> Self {
            self.options.cache.no_store = no_store;
            self
        }

        /// Call option (cache): keep this call's answer this long (zero: do not store it).
        #[must_use = "setters return the changed request; use it"]
        pub fn cache_ttl(mut self, ttl: std::time::Duration) -> Self {
            self.options.cache.ttl = Some(ttl);
            self
        }

        /// Call option (cache): a namespace that prefixes this call's cache key.
        #[must_use = "setters return the changed request; use it"]
        pub fn cache_namespace(mut self, namespace: impl Into<String>) -> Self {
            self.options.cache.namespace = Some(namespace.into());
            self
        }
    };
}
pub(crate) use call_option_setters;

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("api_key", &self.api_key)
            .field("api_base", &crate::redact::OptUrl(self.api_base.as_deref()))
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("num_retries", &self.num_retries)
            .field(
                "extra_headers",
                &self
                    .extra_headers
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .field("metadata", &self.metadata)
            .field("mock_response", &self.mock_response)
            .field("drop_params", &self.drop_params)
            .field("params", &self.params)
            .field("fallbacks", &self.fallbacks)
            .field("cache", &self.cache)
            .finish()
    }
}

/// Who and what a call is for. Carried to logs, callbacks and accounting; never sent to a vendor.
///
/// `Debug`, logs and callback events hide the values of credential-like names in `values`
/// (`api_key`, `authorization`, `*token*`, `*secret*`, …) and `Bearer …` strings.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// The end user the call is made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Your own API key id or alias the call is made under (for spend tracking, budgets and
    /// quotas); never a vendor key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Tags for routing and spend tracking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Any other values.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub values: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metadata")
            .field("user", &self.user)
            .field("key", &self.key)
            .field("tags", &self.tags)
            .field("values", &crate::redact::JsonMap(&self.values))
            .finish()
    }
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    setters! {
        must_use = "setters return the changed metadata; use it";
        /// Sets the end user.
        user: impl Into<String>,
        /// Sets your API key id or alias (spend tracking, budgets, quotas).
        key: impl Into<String>,
    }

    /// Adds a tag.
    #[must_use = "setters return the changed metadata; use it"]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets a value.
    #[must_use = "setters return the changed metadata; use it"]
    pub fn value(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.values.insert(key.into(), value.into());
        self
    }
}

/// What the built-in `mock` provider answers. **A test double**: setting it on a request makes
/// the client answer locally, without any network, whatever the model string says.
///
/// ```
/// use litellm::{ErrorKind, MockResponse};
/// use std::time::Duration;
///
/// let ok = MockResponse::text("Hello!").delay(Duration::from_millis(5));
/// let failing = MockResponse::error(ErrorKind::RateLimit);
/// // Python LiteLLM's strings work too:
/// let same = MockResponse::from("litellm.RateLimitError");
/// assert_eq!(same.error_kind(), Some(ErrorKind::RateLimit));
/// # let _ = (ok, failing);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MockResponse {
    pub(crate) answer: MockAnswer,
    pub(crate) delay: Option<Duration>,
    pub(crate) chunk_delay: Option<Duration>,
    pub(crate) usage: Option<Box<Usage>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MockAnswer {
    Text(String),
    ToolCalls(Vec<ToolCall>),
    Error(ErrorKind, String),
}

/// Python LiteLLM's exception class names accepted as `mock_response` strings.
const LITELLM_ERRORS: &[(&str, ErrorKind)] = &[
    ("litellm.BadRequestError", ErrorKind::BadRequest),
    ("litellm.AuthenticationError", ErrorKind::Authentication),
    ("litellm.PermissionDeniedError", ErrorKind::PermissionDenied),
    ("litellm.NotFoundError", ErrorKind::NotFound),
    ("litellm.Timeout", ErrorKind::Timeout),
    (
        "litellm.UnprocessableEntityError",
        ErrorKind::UnprocessableEntity,
    ),
    ("litellm.RateLimitError", ErrorKind::RateLimit),
    (
        "litellm.ContextWindowExceededError",
        ErrorKind::ContextWindowExceeded,
    ),
    (
        "litellm.ContentPolicyViolationError",
        ErrorKind::ContentPolicyViolation,
    ),
    ("litellm.InternalServerError", ErrorKind::InternalServer),
    (
        "litellm.ServiceUnavailableError",
        ErrorKind::ServiceUnavailable,
    ),
    ("litellm.APIConnectionError", ErrorKind::ApiConnection),
    ("litellm.APIError", ErrorKind::InternalServer),
    ("litellm.BudgetExceededError", ErrorKind::BudgetExceeded),
];

impl MockResponse {
    /// Answer with this text (streamed word by word when the call streams).
    pub fn text(text: impl Into<String>) -> MockResponse {
        MockResponse::with(MockAnswer::Text(text.into()))
    }

    /// Answer with tool calls (finish reason `tool_calls`).
    pub fn tool_calls(calls: Vec<ToolCall>) -> MockResponse {
        MockResponse::with(MockAnswer::ToolCalls(calls))
    }

    /// Fail with an error of this kind.
    pub fn error(kind: ErrorKind) -> MockResponse {
        MockResponse::with(MockAnswer::Error(
            kind,
            format!("mock {} error", kind.as_str()),
        ))
    }

    /// Fail with an error of this kind and message.
    pub fn error_with_message(kind: ErrorKind, message: impl Into<String>) -> MockResponse {
        MockResponse::with(MockAnswer::Error(kind, message.into()))
    }

    /// Wait this long before answering (before the first chunk when streaming).
    #[must_use = "setters return the changed mock response; use it"]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// When streaming, wait this long between chunks.
    #[must_use = "setters return the changed mock response; use it"]
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = Some(delay);
        self
    }

    /// Report this usage instead of the estimate.
    #[must_use = "setters return the changed mock response; use it"]
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = Some(Box::new(usage));
        self
    }

    /// The error kind this mock raises, if it raises one.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match &self.answer {
            MockAnswer::Error(kind, _) => Some(*kind),
            _ => None,
        }
    }

    fn with(answer: MockAnswer) -> MockResponse {
        MockResponse {
            answer,
            delay: None,
            chunk_delay: None,
            usage: None,
        }
    }
}

impl From<&str> for MockResponse {
    fn from(s: &str) -> Self {
        match LITELLM_ERRORS.iter().find(|(name, _)| *name == s) {
            Some((_, kind)) => MockResponse::error(*kind),
            None => MockResponse::text(s),
        }
    }
}

impl From<String> for MockResponse {
    fn from(s: String) -> Self {
        MockResponse::from(s.as_str())
    }
}
