//! [`Client`] and [`ClientBuilder`]: credentials, HTTP client, defaults and the provider
//! registry. A `Client` is cheap to clone (one `Arc`) and shares one connection pool.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::error::{Error, ErrorKind, Result};
use crate::model::{infer_provider, split_model};
use crate::observe::CallType;
use crate::provider::compat::COMPAT_PROVIDERS;
use crate::provider::{
    CallContext, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Provider,
    anthropic::Anthropic,
    azure::Azure,
    gemini::{Gemini, VertexAi},
    mock::Mock,
    openai::OpenAiCompatible,
};
use crate::types::{
    CallOptions, ChatRequest, ChatResponse, ChatStream, EmbeddingInput, EmbeddingRequest,
    EmbeddingResponse, Message, ResponseMeta, SecretString, TextCompletionRequest,
    TextCompletionResponse,
};

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Settings for one provider prefix.
#[derive(Clone, Default)]
struct ProviderSettings {
    api_key: Option<SecretString>,
    api_base: Option<String>,
    api_version: Option<String>,
    headers: Vec<(String, String)>,
    params: Vec<(String, SecretString)>,
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("api_key", &self.api_key)
            .field("api_base", &crate::redact::OptUrl(self.api_base.as_deref()))
            .field("api_version", &self.api_version)
            .field("headers", &crate::redact::Pairs(&self.headers))
            .field("params", &self.params)
            .finish()
    }
}

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = litellm::Client::builder()
///     .api_key("openai", "sk-test")
///     .api_base("hosted_vllm", "http://localhost:8000/v1")
///     .timeout(Duration::from_secs(60))
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[must_use = "a builder does nothing until `.build()` is called; builder methods return the changed builder"]
pub struct ClientBuilder {
    http: Option<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    stream_idle_timeout: Option<Duration>,
    pool_idle_timeout: Duration,
    max_response_bytes: usize,
    settings: HashMap<String, ProviderSettings>,
    headers: Vec<(String, String)>,
    custom: HashMap<String, Arc<dyn Provider>>,
    env: Option<EnvLookup>,
    observe: ObserveSettings,
}

/// What a client or router builder collects for its call pipeline.
#[derive(Clone, Default)]
pub(crate) struct ObserveSettings {
    pub(crate) prices: Option<Arc<crate::accounting::PriceTable>>,
    pub(crate) cache: Option<crate::cache::CacheConfig>,
    pub(crate) ledger: Option<Arc<crate::accounting::ledger::Ledger>>,
    pub(crate) callbacks: Vec<Arc<dyn crate::observe::Callback>>,
    pub(crate) detailed_callbacks: bool,
    pub(crate) metrics: Option<crate::observe::Metrics>,
    pub(crate) log_level: Option<crate::observe::LogLevel>,
}

impl ObserveSettings {
    /// These settings, with the parts they leave unset taken from `client`'s (a router built
    /// on a client). A part set on both (cache, ledger, metrics, price table, log level) is a
    /// `Config` error rather than a silent choice; callbacks of both are kept.
    pub(crate) fn inherit(mut self, client: &ObserveSettings) -> Result<ObserveSettings> {
        fn take<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>, what: &str) -> Result<()> {
            match (mine.is_some(), theirs) {
                (true, Some(_)) => Err(Error::config(format!(
                    "both the router and its client have a {what}: set it on one of them \
                     (the router's calls go through the router's pipeline only)"
                ))),
                (false, Some(t)) => {
                    *mine = Some(t.clone());
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        take(&mut self.cache, &client.cache, "response cache")?;
        take(&mut self.ledger, &client.ledger, "ledger")?;
        take(&mut self.metrics, &client.metrics, "metrics registry")?;
        take(&mut self.prices, &client.prices, "price table")?;
        take(&mut self.log_level, &client.log_level, "log level")?;
        self.callbacks.extend(client.callbacks.iter().cloned());
        self.detailed_callbacks |= client.detailed_callbacks;
        Ok(self)
    }

    /// The pipeline these settings describe (`LITELLM_LOG` read once, here, when no level was
    /// set in code).
    pub(crate) fn pipeline(&self) -> crate::pipeline::Pipeline {
        let callbacks = if self.callbacks.is_empty() {
            crate::observe::Callbacks::default()
        } else {
            let mut b = crate::observe::Callbacks::builder().detailed(self.detailed_callbacks);
            for c in &self.callbacks {
                b = b.callback(c.clone());
            }
            b.build()
        };
        let level = self
            .log_level
            .unwrap_or_else(crate::observe::LogLevel::from_env);
        crate::pipeline::Pipeline {
            ledger: self.ledger.clone(),
            observer: crate::observe::Observer::new(callbacks, level, self.metrics.clone()),
            cost: Some(crate::pipeline::table_pricer(self.price_table())),
        }
    }

    /// The price table: the one given, else the crate's own (parsed now, not on a call).
    pub(crate) fn price_table(&self) -> Arc<crate::accounting::PriceTable> {
        self.prices
            .clone()
            .unwrap_or_else(|| crate::accounting::PriceTable::global().clone())
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            http: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            stream_idle_timeout: None,
            pool_idle_timeout: Duration::from_secs(90),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            settings: HashMap::new(),
            headers: Vec::new(),
            custom: HashMap::new(),
            env: Some(Arc::new(|name: &str| std::env::var(name).ok())),
            observe: ObserveSettings::default(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("timeout", &self.timeout)
            .field("settings", &self.settings)
            .field("headers", &crate::redact::Pairs(&self.headers))
            .field("custom", &self.custom.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn settings(&mut self, provider: &str) -> &mut ProviderSettings {
        self.settings.entry(provider.to_string()).or_default()
    }

    /// API key for a provider prefix (overrides the environment).
    pub fn api_key(mut self, provider: &str, key: impl Into<SecretString>) -> Self {
        self.settings(provider).api_key = Some(key.into());
        self
    }

    /// Base URL for a provider prefix (overrides the environment and the default).
    pub fn api_base(mut self, provider: &str, base: impl Into<String>) -> Self {
        self.settings(provider).api_base = Some(base.into());
        self
    }

    /// API version for a provider prefix (Azure).
    pub fn api_version(mut self, provider: &str, version: impl Into<String>) -> Self {
        self.settings(provider).api_version = Some(version.into());
        self
    }

    /// A header sent with every call to a provider prefix.
    pub fn provider_header(
        mut self,
        provider: &str,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.settings(provider)
            .headers
            .push((name.into(), value.into()));
        self
    }

    /// A provider setting (`vertex_project`, `aws_region_name`, …) for a provider prefix
    /// (overrides the environment).
    pub fn provider_param(
        mut self,
        provider: &str,
        name: impl Into<String>,
        value: impl Into<SecretString>,
    ) -> Self {
        self.settings(provider)
            .params
            .push((name.into(), value.into()));
        self
    }

    /// A header sent with every call.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Default timeout of a call (600 s unless set): the whole call when not streaming, the wait
    /// for response headers and for each next chunk when streaming.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Longest wait between two chunks of a stream (defaults to the call's timeout).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// TCP connect timeout of the built-in HTTP client (10 s unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long idle pooled connections are kept (90 s unless set).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Largest response body accepted (256 MiB unless set); larger is `InvalidResponse`.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Uses your own `reqwest::Client` (proxies, certificates, …) instead of the built-in one.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Registers a provider under a prefix: `"myco/any-model"` then routes to it. A custom
    /// provider replaces a built-in one of the same prefix.
    pub fn provider(mut self, prefix: impl Into<String>, provider: Arc<dyn Provider>) -> Self {
        self.custom.insert(prefix.into(), provider);
        self
    }

    /// Reads settings from this function instead of the process environment (useful in tests).
    pub fn env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Arc::new(lookup));
        self
    }

    /// Prices calls with this table instead of the crate's own (e.g. one loaded from Python
    /// LiteLLM's `model_prices_and_context_window.json`).
    pub fn prices(mut self, prices: Arc<crate::accounting::PriceTable>) -> Self {
        self.observe.prices = Some(prices);
        self
    }

    /// Caches answers (see [`cache`](crate::cache)): `CacheConfig::memory()` for an in-memory
    /// cache with the defaults.
    pub fn cache(mut self, config: crate::cache::CacheConfig) -> Self {
        self.observe.cache = Some(config);
        self
    }

    /// Keeps running totals, and checks budgets and quotas before every call (see
    /// [`accounting::ledger`](crate::accounting::ledger)). Share one `Arc<Ledger>` between
    /// clients and routers to count them together.
    pub fn ledger(mut self, ledger: Arc<crate::accounting::ledger::Ledger>) -> Self {
        self.observe.ledger = Some(ledger);
        self
    }

    /// Adds a callback (run off the call path; see [`observe`](crate::observe)).
    pub fn callback(mut self, callback: Arc<dyn crate::observe::Callback>) -> Self {
        self.observe.callbacks.push(callback);
        self
    }

    /// Gives callbacks the messages and the response of each call (the detailed level).
    pub fn detailed_callbacks(mut self, on: bool) -> Self {
        self.observe.detailed_callbacks = on;
        self
    }

    /// Records Prometheus metrics of every call into `metrics`.
    pub fn metrics(mut self, metrics: crate::observe::Metrics) -> Self {
        self.observe.metrics = Some(metrics);
        self
    }

    /// Sets the logging level (default: from `LITELLM_LOG`, else off).
    pub fn log_level(mut self, level: crate::observe::LogLevel) -> Self {
        self.observe.log_level = Some(level);
        self
    }

    /// Ignores the environment: keys and bases come only from the builder and the call.
    pub fn no_env(mut self) -> Self {
        self.env = None;
        self
    }

    /// Builds the client. Fails with `Config` when a provider setting (`api_key`, `api_base`,
    /// `api_version`, `provider_header`, `provider_param`) names a prefix that is neither built
    /// in nor registered with [`provider`](Self::provider) (with a "did you mean" hint), or
    /// when the HTTP client cannot be created (TLS setup).
    pub fn build(self) -> Result<Client> {
        let mut prefixes: Vec<&String> = self.settings.keys().collect();
        prefixes.sort_unstable();
        if let Some(p) = prefixes
            .into_iter()
            .find(|p| !self.custom.contains_key(p.as_str()) && !BUILTIN.contains_key(p.as_str()))
        {
            return Err(Error::config(format!(
                "provider settings (api_key, api_base, api_version, provider_header or \
                 provider_param) for {}",
                unknown_provider(p, &self.custom)
            )));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                // Redirects would carry `api-key`/`x-api-key` headers to another host and turn
                // POST into GET; a vendor's redirect is reported instead.
                .redirect(reqwest::redirect::Policy::none())
                .tcp_nodelay(true)
                .connect_timeout(self.connect_timeout)
                .pool_idle_timeout(self.pool_idle_timeout)
                .user_agent(concat!(
                    env!("CARGO_PKG_NAME"),
                    "/",
                    env!("CARGO_PKG_VERSION")
                ))
                .build()
                .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))?,
        };
        let pipeline = Arc::new(self.observe.pipeline());
        let cache = self
            .observe
            .cache
            .clone()
            .map(crate::cache::ResponseCache::new);
        Ok(Client {
            inner: Arc::new(Inner {
                pipeline,
                cache,
                http,
                timeout: self.timeout,
                stream_idle_timeout: self.stream_idle_timeout,
                max_response_bytes: self.max_response_bytes,
                settings: self.settings,
                headers: self.headers,
                custom: self.custom,
                env: self.env,
                observe: self.observe,
            }),
        })
    }
}

struct Inner {
    pipeline: Arc<crate::pipeline::Pipeline>,
    /// What the pipeline and cache were built from (a router built on this client takes the
    /// parts it does not set itself).
    observe: ObserveSettings,
    cache: Option<crate::cache::ResponseCache>,
    http: reqwest::Client,
    timeout: Duration,
    stream_idle_timeout: Option<Duration>,
    max_response_bytes: usize,
    settings: HashMap<String, ProviderSettings>,
    headers: Vec<(String, String)>,
    custom: HashMap<String, Arc<dyn Provider>>,
    env: Option<EnvLookup>,
}

/// Calls any provider through one OpenAI-shaped API.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
/// use litellm::{Client, Message};
/// let client = Client::builder().build()?;
/// // `mock/…` answers locally; use "openai/gpt-4o-mini", "groq/…", … for real vendors.
/// let resp = client.completion("mock/any", vec![Message::user("Hello")]).await?;
/// println!("{}", resp.text().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.inner.timeout)
            .field("settings", &self.inner.settings)
            .field("headers", &crate::redact::Pairs(&self.inner.headers))
            .field("custom", &self.inner.custom.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Built-in providers by prefix.
static BUILTIN: LazyLock<HashMap<&'static str, Arc<dyn Provider>>> = LazyLock::new(|| {
    let mut m: HashMap<&'static str, Arc<dyn Provider>> = HashMap::new();
    for row in COMPAT_PROVIDERS {
        m.insert(row.prefix, Arc::new(OpenAiCompatible::new(row)));
    }
    m.insert("anthropic", Arc::new(Anthropic));
    m.insert("azure", Arc::new(Azure));
    m.insert("gemini", Arc::new(Gemini));
    m.insert("vertex_ai", Arc::new(VertexAi));
    m.insert("cohere", Arc::new(crate::provider::cohere::Cohere));
    m.insert("ollama", Arc::new(crate::provider::ollama::Ollama));
    m.insert(
        "huggingface",
        Arc::new(crate::provider::huggingface::HuggingFace),
    );
    #[cfg(feature = "bedrock")]
    m.insert("bedrock", Arc::new(crate::provider::bedrock::Bedrock));
    m.insert("mock", Arc::new(Mock));
    m
});

/// The prefixes of the built-in providers, sorted.
///
/// ```
/// let p = litellm::builtin_providers();
/// assert!(p.contains(&"openai") && p.contains(&"groq") && p.contains(&"mock"));
/// ```
pub fn builtin_providers() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = BUILTIN.keys().copied().collect();
    v.sort_unstable();
    v
}

/// "unknown provider 'x'; did you mean 'y'? …": the message for a prefix that is neither
/// built in nor in `custom`.
fn unknown_provider(prefix: &str, custom: &HashMap<String, Arc<dyn Provider>>) -> String {
    if prefix == "bedrock" {
        return "provider 'bedrock', which needs the `bedrock` cargo feature of litellm \
                (Bedrock support is off in this build)"
            .to_string();
    }
    let known = known_prefixes(custom);
    let hint = match crate::model::closest(prefix, known.iter().copied()) {
        Some(k) => format!("; did you mean '{k}'?"),
        None => String::new(),
    };
    format!(
        "unknown provider '{prefix}'{hint} (known prefixes: {}; register others with \
         ClientBuilder::provider)",
        known.join(", ")
    )
}

/// Every prefix a client knows: the built-in ones and `custom`, sorted.
fn known_prefixes(custom: &HashMap<String, Arc<dyn Provider>>) -> Vec<&str> {
    let mut known: Vec<&str> = BUILTIN
        .keys()
        .copied()
        .chain(custom.keys().map(String::as_str))
        .collect();
    known.sort_unstable();
    known.dedup();
    known
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment only.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::default().build()
    }

    fn provider(&self, prefix: &str) -> Option<&Arc<dyn Provider>> {
        self.inner
            .custom
            .get(prefix)
            .or_else(|| BUILTIN.get(prefix))
    }

    fn known_prefixes(&self) -> String {
        known_prefixes(&self.inner.custom).join(", ")
    }

    fn env(&self, names: &[&str]) -> Option<String> {
        let lookup = self.inner.env.as_ref()?;
        names
            .iter()
            .find_map(|n| lookup(n).filter(|v| !v.is_empty()))
    }

    /// Finds the provider of a model string and everything it needs for one call: credentials
    /// from the call, then the client, then the environment. Fails with `BadRequest` for an
    /// unknown provider, `Authentication` for a missing key, `Config` for a missing base URL,
    /// before any request is sent.
    pub fn resolve(
        &self,
        model: &str,
        options: &CallOptions,
    ) -> Result<(Arc<dyn Provider>, CallContext)> {
        let (prefix, model_id) = self.route(model, options.mock_response.is_some())?;
        let provider = self
            .provider(prefix)
            .cloned()
            .ok_or_else(|| self.unknown(model, prefix))?;
        let spec = provider.credentials();
        let settings = self.inner.settings.get(prefix);
        let api_key = options
            .api_key
            .clone()
            .or_else(|| settings.and_then(|s| s.api_key.clone()))
            .or_else(|| self.env(spec.api_key_env).map(SecretString::new));
        let api_base = options
            .api_base
            .clone()
            .or_else(|| settings.and_then(|s| s.api_base.clone()))
            .or_else(|| self.env(spec.api_base_env))
            .or_else(|| spec.default_api_base.map(str::to_string))
            .map(|b| b.trim_end_matches('/').to_string());
        let api_version = options
            .api_version
            .clone()
            .or_else(|| settings.and_then(|s| s.api_version.clone()))
            .or_else(|| self.env(spec.api_version_env));
        if spec.requires_api_base && api_base.is_none() {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "no api_base for provider '{prefix}': pass api_base or set {}",
                    spec.api_base_env.join(" or ")
                ),
            )
            .with_provider(prefix)
            .with_model(model_id));
        }
        if spec.requires_api_key && api_key.as_ref().is_none_or(SecretString::is_empty) {
            return Err(Error::new(
                ErrorKind::Authentication,
                format!(
                    "no API key for provider '{prefix}': pass api_key or set {}",
                    spec.api_key_env.join(" or ")
                ),
            )
            .with_provider(prefix)
            .with_model(model_id));
        }
        let mut headers = self.inner.headers.clone();
        if let Some(s) = settings {
            headers.extend(s.headers.iter().cloned());
        }
        let mut seen: Vec<&str> = Vec::new();
        for (var, header) in spec.env_headers {
            if !seen.contains(header)
                && let Some(v) = self.env(&[var])
            {
                headers.push((header.to_string(), v));
                seen.push(header);
            }
        }
        headers.extend(options.extra_headers.iter().cloned());
        let timeout = options.timeout.unwrap_or(self.inner.timeout);
        let mut cx = CallContext::new(self.inner.http.clone(), prefix, model_id);
        cx.api_key = api_key;
        cx.api_base = api_base;
        cx.api_version = api_version;
        cx.headers = headers;
        cx.timeout = timeout;
        cx.stream_idle_timeout = self.inner.stream_idle_timeout.unwrap_or(timeout);
        cx.max_response_bytes = self.inner.max_response_bytes;
        cx.drop_params = options.drop_params.unwrap_or(false);
        let mut params = options.params.clone();
        if let Some(s) = settings {
            params.extend(s.params.iter().cloned());
        }
        for (name, vars) in spec.params_env {
            if !params.iter().any(|(n, _)| n == name)
                && let Some(v) = self.env(vars)
            {
                params.push((name.to_string(), SecretString::new(v)));
            }
        }
        cx.params = params;
        cx.mock_response = options.mock_response.clone();
        Ok((provider, cx))
    }

    /// Checks that calls of `model` (a deployment's provider model string) can find their
    /// provider, as [`resolve`](Self::resolve) will: a `Config` error naming the model (with a
    /// "did you mean" hint for a misspelt prefix) otherwise. Wildcard models (`openai/*`, `*`)
    /// are checked by their prefix only.
    pub(crate) fn check_model(&self, model: &str) -> Result<()> {
        let m = model.trim();
        let known = |p: &str| self.provider(p).is_some();
        match split_model(m) {
            Some((prefix, _)) if prefix.contains('*') => Ok(()),
            Some((prefix, id)) if known(prefix) => {
                if id.trim().is_empty() {
                    Err(Error::config(format!(
                        "model '{m}' names no model after the prefix"
                    )))
                } else {
                    Ok(())
                }
            }
            _ if infer_provider(m).is_some_and(known) => Ok(()),
            _ if m.contains('*') && split_model(m).is_none() => Ok(()),
            Some((prefix, _)) => Err(Error::config(format!(
                "model '{m}': {}",
                unknown_provider(prefix, &self.inner.custom)
            ))),
            None => Err(Error::config(match infer_provider(m) {
                Some(p) => format!(
                    "model '{m}' belongs to provider '{p}', which this build does not support"
                ),
                None => format!(
                    "cannot tell the provider of model '{m}'; write it as provider/model-id \
                     (e.g. 'openai/{m}', 'ollama/{m}', 'hosted_vllm/{m}')"
                ),
            })),
        }
    }

    /// Splits a model string into (provider prefix, model id).
    fn route<'a>(&self, model: &'a str, mock: bool) -> Result<(&'a str, &'a str)> {
        let model = model.trim();
        if model.is_empty() {
            return Err(Error::bad_request("the model is empty"));
        }
        if model.chars().any(char::is_control) {
            // A NUL, CR or LF in a model id would travel upstream in a body, a URL or a header.
            return Err(Error::bad_request(format!(
                "the model {model:?} contains control characters"
            )));
        }
        if let Some((prefix, id)) = split_model(model)
            && self.provider(prefix).is_some()
        {
            if id.is_empty() {
                return Err(Error::bad_request(format!(
                    "model '{model}' names no model after the prefix"
                )));
            }
            return Ok((if mock { "mock" } else { prefix }, id));
        }
        if mock {
            return Ok(("mock", model));
        }
        if let Some(p) = infer_provider(model) {
            return Ok((p, model));
        }
        Err(self.unknown(model, split_model(model).map(|(p, _)| p).unwrap_or(model)))
    }

    fn unknown(&self, model: &str, prefix: &str) -> Error {
        let msg = match (split_model(model), infer_provider(model)) {
            (Some(("bedrock", _)), _) => format!(
                "model '{model}' needs the `bedrock` cargo feature of litellm (Bedrock support is off in this build)"
            ),
            (_, Some(p)) if self.provider(p).is_none() => format!(
                "model '{model}' belongs to provider '{p}', which this version does not support yet; known prefixes: {}",
                self.known_prefixes()
            ),
            (Some(_), _) => {
                let known = known_prefixes(&self.inner.custom);
                format!(
                    "unknown provider prefix '{prefix}' in model '{model}'{}; write it as provider/model-id with one of: {}",
                    crate::model::closest(prefix, known.iter().copied())
                        .map(|k| format!(" (did you mean '{k}'?)"))
                        .unwrap_or_default(),
                    known.join(", ")
                )
            }
            (None, _) => format!(
                "cannot tell the provider of model '{model}'; write it as provider/model-id with one of: {}",
                self.known_prefixes()
            ),
        };
        Error::bad_request(msg).with_model(model)
    }

    /// What this client's pipeline and cache were built from.
    pub(crate) fn observe_settings(&self) -> &ObserveSettings {
        &self.inner.observe
    }

    /// Waits until every callback event of calls made so far has been delivered and each
    /// callback flushed (e.g. a webhook's last batch sent). Call it before the program exits.
    pub async fn flush_callbacks(&self) {
        self.inner.pipeline.observer.callbacks().flush().await;
    }

    /// A chat completion for `model` with `messages` and no other parameters.
    pub async fn completion(&self, model: &str, messages: Vec<Message>) -> Result<ChatResponse> {
        self.chat(ChatRequest::new(model, messages)).await
    }

    /// A chat completion.
    pub fn chat(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = Result<ChatResponse>> + Send + '_ {
        // The request (over a kilobyte) goes to the heap once, and the call's state machine
        // (kilobytes) is boxed once below: the future returned is small, so the moves a caller's
        // own future makes of it copy little.
        let request = Box::new(request);
        let span = self.call_span(CallType::Chat, &request.model);
        async move {
            let request = &*request;
            let p = &self.inner.pipeline;
            let run = p.begin(
                CallType::Chat,
                &request.model,
                &request.options,
                Some(&request.messages),
                self.inner.cache.as_ref(),
            )?;
            let fetch = || self.chat_with(request, &request.model, &request.options);
            let result = match &self.inner.cache {
                Some(c) => Box::pin(c.chat(&request.model, request, fetch)).await,
                None => Box::pin(fetch()).await,
            };
            finish(p, run, result)
        }
        .instrument(span)
    }

    /// A streamed chat completion. The stream ends with a usage chunk (`choices: []`) whenever
    /// the vendor reports usage; OpenAI-compatible vendors are asked for it. Latency and time to
    /// first token are measured from the start of this call.
    pub fn chat_stream(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = Result<ChatStream>> + Send + '_ {
        // As in `chat`: the request is boxed once (it stays with the stream for the usage
        // estimate) and the opening state machine once.
        let request = Box::new(request);
        let span = self.call_span(CallType::ChatStream, &request.model);
        async move {
            let p = &self.inner.pipeline;
            let run = p.begin(
                CallType::ChatStream,
                &request.model,
                &request.options,
                Some(&request.messages),
                self.inner.cache.as_ref(),
            )?;
            let req = &*request;
            let open = || self.chat_stream_with(req, &req.model, &req.options);
            let opened = match &self.inner.cache {
                Some(c) => Box::pin(c.chat_stream(&req.model, req, open)).await,
                None => Box::pin(open()).await,
            };
            match opened {
                Ok(stream) => {
                    let model = request.model.clone();
                    Ok(p.stream(run, stream, model, request))
                }
                Err(e) => {
                    p.fail(run, &e);
                    Err(e)
                }
            }
        }
        .instrument(span)
    }

    /// Embeddings of one or more inputs.
    pub async fn embedding(
        &self,
        model: &str,
        input: impl Into<EmbeddingInput>,
    ) -> Result<EmbeddingResponse> {
        self.embed(EmbeddingRequest::new(model, input)).await
    }

    /// Embeddings.
    pub fn embed(
        &self,
        request: EmbeddingRequest,
    ) -> impl Future<Output = Result<EmbeddingResponse>> + Send + '_ {
        let span = self.call_span(CallType::Embedding, &request.model);
        self.embed_in_span(request).instrument(span)
    }

    /// The `llm_call` span a call runs in (disabled unless its log line would be written).
    fn call_span(&self, call_type: CallType, model: &str) -> tracing::Span {
        self.inner.pipeline.observer.start_span(call_type, model)
    }

    async fn embed_in_span(&self, request: EmbeddingRequest) -> Result<EmbeddingResponse> {
        let p = &self.inner.pipeline;
        let run = p.begin(
            CallType::Embedding,
            &request.model,
            &request.options,
            None,
            self.inner.cache.as_ref(),
        )?;
        let result = match &self.inner.cache {
            Some(c) => {
                let (model, options) = (&request.model, &request.options);
                c.embed(model, &request, |r| async move {
                    self.embed_with(&r, model, options).await
                })
                .await
            }
            None => {
                self.embed_with(&request, &request.model, &request.options)
                    .await
            }
        };
        finish(p, run, result)
    }

    /// A legacy text completion.
    pub fn text_completion(
        &self,
        request: TextCompletionRequest,
    ) -> impl Future<Output = Result<TextCompletionResponse>> + Send + '_ {
        let span = self.call_span(CallType::TextCompletion, &request.model);
        self.text_completion_in_span(request).instrument(span)
    }

    async fn text_completion_in_span(
        &self,
        request: TextCompletionRequest,
    ) -> Result<TextCompletionResponse> {
        let p = &self.inner.pipeline;
        let run = p.begin(
            CallType::TextCompletion,
            &request.model,
            &request.options,
            None,
            self.inner.cache.as_ref(),
        )?;
        let fetch = || self.text_completion_with(&request, &request.model, &request.options);
        let result = match &self.inner.cache {
            Some(c) => c.text_completion(&request.model, &request, fetch).await,
            None => fetch().await,
        };
        finish(p, run, result)
    }

    /// A chat completion of `req` sent to `model` with `options` (the router's path: the
    /// request is borrowed, never cloned per attempt).
    pub(crate) async fn chat_with(
        &self,
        req: &ChatRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<ChatResponse> {
        let start = Instant::now();
        check_sampling(req)?;
        let (p, cx) = self.resolve(model, options)?;
        let mut resp = run(start, &cx, options, || p.chat(req, &cx)).await?;
        crate::accounting::estimate::fill_chat(
            model,
            &req.messages,
            req.tools.as_deref(),
            &mut resp,
        );
        Ok(resp)
    }

    /// A streamed chat completion of `req` sent to `model` with `options`.
    pub(crate) async fn chat_stream_with(
        &self,
        req: &ChatRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<ChatStream> {
        let start = Instant::now();
        check_sampling(req)?;
        let (p, cx) = self.resolve(model, options)?;
        let stream = run(start, &cx, options, || p.chat_stream(req, &cx)).await?;
        Ok(stream.started_at(start))
    }

    /// Embeddings of `req` sent to `model` with `options`.
    pub(crate) async fn embed_with(
        &self,
        req: &EmbeddingRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<EmbeddingResponse> {
        let start = Instant::now();
        let (p, cx) = self.resolve(model, options)?;
        run(start, &cx, options, || p.embed(req, &cx)).await
    }

    /// A text completion of `req` sent to `model` with `options`.
    pub(crate) async fn text_completion_with(
        &self,
        req: &TextCompletionRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<TextCompletionResponse> {
        let start = Instant::now();
        check_sampling(req)?;
        let (p, cx) = self.resolve(model, options)?;
        run(start, &cx, options, || p.text_completion(req, &cx)).await
    }
}

/// Sampling numbers must be finite: JSON has no NaN or infinity, so serde would send `null`
/// and the vendor would silently use its default.
fn check_sampling(req: &impl Sampled) -> Result<()> {
    const NAMES: [&str; 4] = [
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
    ];
    for (name, value) in NAMES.into_iter().zip(req.sampling()) {
        if let Some(v) = value
            && !v.is_finite()
        {
            return Err(Error::bad_request(format!(
                "{name} is {v}, not a finite number"
            )));
        }
    }
    Ok(())
}

/// Requests with sampling numbers.
trait Sampled {
    /// `temperature`, `top_p`, `presence_penalty`, `frequency_penalty`, in that order.
    fn sampling(&self) -> [Option<f64>; 4];
}

macro_rules! sampled {
    ($($t:ty),*) => {$(
        impl Sampled for $t {
            fn sampling(&self) -> [Option<f64>; 4] {
                [self.temperature, self.top_p, self.presence_penalty, self.frequency_penalty]
            }
        }
    )*};
}
sampled!(ChatRequest, TextCompletionRequest);

/// Ends a call in the pipeline: success charged and reported, or the failure reported.
pub(crate) fn finish<T: crate::pipeline::Answer>(
    p: &crate::pipeline::Pipeline,
    run: crate::pipeline::Running,
    result: Result<T>,
) -> Result<T> {
    match result {
        Ok(mut v) => {
            p.succeed(run, &mut v);
            Ok(v)
        }
        Err(e) => {
            p.fail(run, &e);
            Err(e)
        }
    }
}

/// Runs one call: `attempt` under the call's timeout, retried as the call's options say, and
/// fills the answer's [`ResponseMeta`].
async fn run<T, F, Fut>(
    start: Instant,
    cx: &CallContext,
    options: &CallOptions,
    mut attempt: F,
) -> Result<T>
where
    T: HasMeta,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let (result, attempts) = retrying(options.num_retries.unwrap_or(0), || {
        timed(cx.timeout, cx, attempt())
    })
    .await;
    let mut out = result?;
    if let Some((field, n)) = out.implausible_usage() {
        return Err(
            crate::accounting::estimate::implausible(field, n).or_context(&cx.provider, &cx.model)
        );
    }
    let meta = out.meta_mut();
    if meta
        .request_id
        .as_deref()
        .is_some_and(|id| id.contains('\\') || cx.holds_secret(id))
    {
        // An upstream that echoes the key in its request id header must not put it in the
        // answer's meta (and from there in logs, events and spend records).
        let mut id = meta.request_id.take().unwrap_or_default();
        for s in cx.secrets() {
            if s.expose().len() >= 4 {
                crate::error::scrub_text(&mut id, s.expose());
            }
        }
        meta.request_id = Some(id);
    }
    meta.provider.clone_from(&cx.provider);
    meta.model.clone_from(&cx.model);
    meta.attempts = attempts;
    meta.latency = start.elapsed();
    Ok(out)
}

/// Answers that carry a [`ResponseMeta`].
pub(crate) trait HasMeta {
    fn meta_mut(&mut self) -> &mut ResponseMeta;

    /// The usage the vendor reported, when one of its counts is past belief (a stream's is
    /// checked chunk by chunk as it passes).
    fn implausible_usage(&self) -> Option<(&'static str, u64)> {
        None
    }
}

macro_rules! has_meta {
    ($($t:ty),*) => {$(
        impl HasMeta for $t {
            fn meta_mut(&mut self) -> &mut ResponseMeta {
                &mut self.meta
            }
            fn implausible_usage(&self) -> Option<(&'static str, u64)> {
                self.usage.as_ref().and_then(crate::types::Usage::implausible)
            }
        }
    )*};
}
has_meta!(ChatResponse, TextCompletionResponse);

impl HasMeta for EmbeddingResponse {
    fn meta_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }
    fn implausible_usage(&self) -> Option<(&'static str, u64)> {
        let u = &self.usage;
        [
            ("prompt_tokens", u.prompt_tokens),
            ("total_tokens", u.total_tokens),
        ]
        .into_iter()
        .find(|(_, n)| *n > crate::types::Usage::MAX_TOKENS)
    }
}

impl HasMeta for ChatStream {
    fn meta_mut(&mut self) -> &mut ResponseMeta {
        ChatStream::meta_mut(self)
    }
}

/// Runs `fut` with the call's timeout; errors get provider and model.
async fn timed<T>(
    timeout: Duration,
    cx: &CallContext,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r.map_err(|e| crate::provider::http::finish_error(cx, e)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "no answer within the timeout of {:.1} s",
                timeout.as_secs_f64()
            ),
        )
        .with_provider(cx.provider.clone())
        .with_model(cx.model.clone())),
    }
}

/// Longest server-requested delay the client waits before a retry; a longer one ends retrying.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Runs `attempt` until it succeeds, fails with a non-retryable error, or `retries` retries are
/// spent. Waits `min(0.5 s × 2ⁿ, 8 s)` with jitter between attempts, or the vendor's
/// Retry-After when it gives one (up to 60 s). Returns the result and the number of attempts.
async fn retrying<T, F, Fut>(retries: u32, mut attempt: F) -> (Result<T>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut n = 0u32;
    loop {
        n += 1;
        match attempt().await {
            Ok(v) => return (Ok(v), n),
            Err(e) if n <= retries && e.is_retryable() => {
                let wait = match e.retry_after() {
                    Some(d) if d > MAX_RETRY_AFTER => return (Err(e), n),
                    Some(d) => d,
                    None => {
                        let base = (0.5 * 2f64.powi(n as i32 - 1)).min(8.0);
                        Duration::from_secs_f64(base * (1.0 - 0.25 * rand::random::<f64>()))
                    }
                };
                tracing::debug!(error = %e, attempt = n, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return (Err(e), n),
        }
    }
}

static DEFAULT_CLIENT: OnceLock<std::result::Result<Client, String>> = OnceLock::new();

/// The process-wide client of the free functions, built on first use from the environment.
pub fn default_client() -> Result<&'static Client> {
    DEFAULT_CLIENT
        .get_or_init(|| Client::from_env().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|msg| Error::new(ErrorKind::Config, msg.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder().no_env().build().unwrap()
    }

    #[test]
    fn routing() {
        let c = client();
        assert_eq!(
            c.route("openai/gpt-4o", false).unwrap(),
            ("openai", "gpt-4o")
        );
        assert_eq!(c.route("gpt-4o", false).unwrap(), ("openai", "gpt-4o"));
        assert_eq!(
            c.route("openrouter/anthropic/claude", false).unwrap(),
            ("openrouter", "anthropic/claude")
        );
        assert_eq!(c.route("openai/gpt-4o", true).unwrap(), ("mock", "gpt-4o"));
        assert_eq!(c.route("whatever/x", true).unwrap(), ("mock", "whatever/x"));
        let e = c.route("foo/bar", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert!(
            e.message().contains("unknown provider prefix 'foo'") && e.message().contains("groq"),
            "{e}"
        );
        assert!(c.route("openai/", false).is_err());
        assert!(c.route("  ", false).is_err());
    }

    #[tokio::test]
    async fn retrying_stops_on_non_retryable_and_counts() {
        let mut calls = 0;
        let (r, n) = retrying(3, || {
            calls += 1;
            async { Err::<(), _>(Error::new(ErrorKind::BadRequest, "no")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!((n, calls), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn retrying_retries_retryable_up_to_limit() {
        let mut calls = 0;
        let (r, n) = retrying(2, || {
            calls += 1;
            async {
                Err::<(), _>(
                    Error::new(ErrorKind::RateLimit, "slow")
                        .with_retry_after(Duration::from_millis(10)),
                )
            }
        })
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::RateLimit);
        assert_eq!((n, calls), (3, 3));
        // a Retry-After longer than the limit ends retrying
        let (_, n) = retrying(5, || async {
            Err::<(), _>(
                Error::new(ErrorKind::RateLimit, "slow").with_retry_after(Duration::from_secs(600)),
            )
        })
        .await;
        assert_eq!(n, 1);
    }
}
