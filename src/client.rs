//! [`Client`] and [`ClientBuilder`]: credentials, HTTP client, defaults and the provider
//! registry. A `Client` is cheap to clone (one `Arc`) and shares one connection pool.

use crate::fasthash::FastMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::{CallContext, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Provider};
use crate::resolve::{EnvLookup, ProviderSettings, Resolver, is_builtin, unknown_provider};
use crate::stack::Op;
use crate::types::{CallOptions, SecretString};

pub use crate::resolve::builtin_providers;

/// The setters of the stack's parts, shared by [`ClientBuilder`] and
/// [`RouterBuilder`](crate::router::RouterBuilder) (both keep them in `self.observe`).
macro_rules! observe_setters {
    () => {
        /// Prices calls with this table instead of the crate's own (e.g. one loaded from
        /// Python LiteLLM's `model_prices_and_context_window.json`); a router also uses it for
        /// cost-based routing and context windows.
        pub fn prices(mut self, prices: Arc<crate::accounting::PriceTable>) -> Self {
            self.observe.prices = Some(prices);
            self
        }

        /// Caches answers (see [`cache`](crate::cache)): `CacheConfig::memory()` for an
        /// in-memory cache with the defaults. A router caches per model group (deployments of
        /// a group share answers).
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

        /// Records Prometheus metrics of every call into `metrics` (a router also sets its
        /// deployments' cooldown and in-flight gauges at each render).
        pub fn metrics(mut self, metrics: crate::observe::Metrics) -> Self {
            self.observe.metrics = Some(metrics);
            self
        }

        /// Sets the logging level (default: from `LITELLM_LOG`, else off).
        pub fn log_level(mut self, level: crate::observe::LogLevel) -> Self {
            self.observe.log_level = Some(level);
            self
        }

        /// Adds a [`Layer`](crate::layer::Layer): code that sees every call's request before
        /// it is sent and its answer (or error, or stream) after, and may rewrite, answer or
        /// reject it (see `docs/layers.md`). Layers run in the order added, the first
        /// outermost, once per call (not per retry); a router's run outside its client's.
        /// They run after the call's event starts (so rejected calls are observed) and before
        /// budgets, cache, routing and the provider.
        pub fn layer(mut self, layer: impl crate::layer::Layer) -> Self {
            self.observe.layers.push(Arc::new(layer));
            self
        }

        /// Adds a shared [`Layer`](crate::layer::Layer) (see [`layer`](Self::layer)).
        pub fn layer_arc(mut self, layer: Arc<dyn crate::layer::Layer>) -> Self {
            self.observe.layers.push(layer);
            self
        }
    };
}
pub(crate) use observe_setters;

/// The call methods `Client` and `Router` share (DESIGN §2: code moves from one to the other
/// unchanged); each type has a private `call::<O>` that runs one call through its stack.
macro_rules! call_methods {
    () => {
        /// A chat completion for `model` (a router's group or alias, or a provider model
        /// string) with `messages` and no other parameters.
        pub async fn completion(
            &self,
            model: &str,
            messages: Vec<crate::types::Message>,
        ) -> Result<crate::types::ChatResponse> {
            self.chat(crate::types::ChatRequest::new(model, messages))
                .await
        }

        /// A chat completion (routed, on a router).
        pub fn chat(
            &self,
            request: crate::types::ChatRequest,
        ) -> impl Future<Output = Result<crate::types::ChatResponse>> + Send + '_ {
            self.call::<crate::stack::ChatOp>(request)
        }

        /// A streamed chat completion. The stream ends with a usage chunk (`choices: []`)
        /// whenever the vendor reports usage; OpenAI-compatible vendors are asked for it.
        /// Latency and time to first token are measured from the start of this call. On a
        /// router only opening the stream is retried: once a chunk has reached the caller, an
        /// error ends the stream.
        pub fn chat_stream(
            &self,
            request: crate::types::ChatRequest,
        ) -> impl Future<Output = Result<crate::types::ChatStream>> + Send + '_ {
            self.call::<crate::stack::StreamOp>(request)
        }

        /// Embeddings of one or more inputs.
        pub async fn embedding(
            &self,
            model: &str,
            input: impl Into<crate::types::EmbeddingInput>,
        ) -> Result<crate::types::EmbeddingResponse> {
            self.embed(crate::types::EmbeddingRequest::new(model, input))
                .await
        }

        /// Embeddings (routed, on a router).
        pub fn embed(
            &self,
            request: crate::types::EmbeddingRequest,
        ) -> impl Future<Output = Result<crate::types::EmbeddingResponse>> + Send + '_ {
            self.call::<crate::stack::EmbedOp>(request)
        }

        /// A legacy text completion (routed, on a router).
        pub fn text_completion(
            &self,
            request: crate::types::TextCompletionRequest,
        ) -> impl Future<Output = Result<crate::types::TextCompletionResponse>> + Send + '_ {
            self.call::<crate::stack::TextOp>(request)
        }
    };
}
pub(crate) use call_methods;

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
    settings: FastMap<String, ProviderSettings>,
    headers: Vec<(String, String)>,
    custom: FastMap<String, Arc<dyn Provider>>,
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
    /// User layers, outermost first.
    pub(crate) layers: Vec<Arc<dyn crate::stack::Layer>>,
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
        // The client's layers run inside the router's (closer to the call).
        self.layers.extend(client.layers.iter().cloned());
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

    /// The stack above a client's or router's downstream: `pipeline`, the cache and the
    /// layers these settings describe.
    pub(crate) fn stack(&self, pipeline: crate::pipeline::Pipeline) -> crate::stack::Stack {
        crate::stack::Stack {
            pipeline: Arc::new(pipeline),
            cache: self.cache.clone().map(crate::cache::ResponseCache::new),
            layers: self.layers.clone().into(),
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
            settings: FastMap::default(),
            headers: Vec::new(),
            custom: FastMap::default(),
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
        self.settings.entry(provider.to_owned()).or_default()
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

    observe_setters!();

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
            .find(|p| !self.custom.contains_key(p.as_str()) && !is_builtin(p))
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
        let stack = self.observe.stack(self.observe.pipeline());
        Ok(Client {
            inner: Arc::new(Inner {
                stack,
                resolver: Resolver {
                    http,
                    timeout: self.timeout,
                    stream_idle_timeout: self.stream_idle_timeout,
                    max_response_bytes: self.max_response_bytes,
                    settings: self.settings,
                    headers: self.headers,
                    custom: self.custom,
                    env: self.env,
                },
                observe: self.observe,
            }),
        })
    }
}

struct Inner {
    stack: crate::stack::Stack,
    resolver: Resolver,
    /// What the stack was built from (a router built on this client takes the parts it does
    /// not set itself).
    observe: ObserveSettings,
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
        let r = &self.inner.resolver;
        f.debug_struct("Client")
            .field("timeout", &r.timeout)
            .field("settings", &r.settings)
            .field("headers", &crate::redact::Pairs(&r.headers))
            .field("custom", &r.custom.keys().collect::<Vec<_>>())
            .field("layers", &self.inner.stack.layers.len())
            .finish_non_exhaustive()
    }
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

    /// Finds the provider of a model string and everything it needs for one call: credentials
    /// from the call, then the client, then the environment. Fails with `BadRequest` for an
    /// unknown provider, `Authentication` for a missing key, `Config` for a missing base URL,
    /// before any request is sent.
    pub fn resolve(
        &self,
        model: &str,
        options: &CallOptions,
    ) -> Result<(Arc<dyn Provider>, CallContext)> {
        self.inner.resolver.resolve(model, options)
    }

    /// Checks that calls of `model` (a deployment's provider model string) can find their
    /// provider (see `Resolver::check_model`).
    pub(crate) fn check_model(&self, model: &str) -> Result<()> {
        self.inner.resolver.check_model(model)
    }

    /// The resolve and provider stages of this client.
    pub(crate) fn resolver(&self) -> &Resolver {
        &self.inner.resolver
    }

    /// What this client's stack was built from.
    pub(crate) fn observe_settings(&self) -> &ObserveSettings {
        &self.inner.observe
    }

    /// Waits until every callback event of calls made so far has been delivered and each
    /// callback flushed (e.g. a webhook's last batch sent). Call it before the program exits.
    pub async fn flush_callbacks(&self) {
        self.inner.stack.pipeline.observer.callbacks().flush().await;
    }

    /// One call through the stack. The request (over a kilobyte) goes to the heap once, and the
    /// call's state machine (kilobytes) is boxed once below the observe stage: the future
    /// returned is small, so the moves a caller's own future makes of it copy little.
    fn call<O: Op>(&self, request: O::Req) -> impl Future<Output = Result<O::Ans>> + Send + '_ {
        self.inner
            .stack
            .call::<O, _>(&self.inner.resolver, Box::new(request))
    }

    call_methods!();
}

static DEFAULT_CLIENT: OnceLock<std::result::Result<Client, String>> = OnceLock::new();

/// The process-wide client of the free functions, built on first use from the environment.
pub fn default_client() -> Result<&'static Client> {
    DEFAULT_CLIENT
        .get_or_init(|| Client::from_env().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|msg| Error::new(ErrorKind::Config, msg.clone()))
}
