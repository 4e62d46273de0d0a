//! Deployments: one provider model with its credentials and limits, under a public model name.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::state::DeploymentCounters;
use crate::types::setters::setters;
use crate::types::{CallOptions, MockResponse, SecretString};

/// Facts about a deployment's model: context window and prices.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// Largest prompt the model accepts, in tokens (used by pre-call checks and
    /// context-window fallbacks).
    pub max_input_tokens: Option<u64>,
    /// Largest answer, in tokens.
    pub max_output_tokens: Option<u64>,
    /// USD per input token (cost-based routing).
    pub input_cost_per_token: Option<f64>,
    /// USD per output token (cost-based routing).
    pub output_cost_per_token: Option<f64>,
    /// Anything else from the config's `model_info`.
    pub extra: serde_json::Map<String, Value>,
}

/// A deployment's own price: `model_info`'s input/output prices, with the cache prices of
/// its extra `cache_read_input_token_cost` / `cache_creation_input_token_cost`.
fn own_price(info: &ModelInfo) -> Option<crate::accounting::ModelPrice> {
    if info.input_cost_per_token.is_none() && info.output_cost_per_token.is_none() {
        return None;
    }
    let extra = |k: &str| info.extra.get(k).and_then(|v| v.as_f64());
    let mut p = crate::accounting::ModelPrice::new(
        info.input_cost_per_token.unwrap_or(0.0),
        info.output_cost_per_token.unwrap_or(0.0),
    );
    if let Some(v) = extra("cache_read_input_token_cost") {
        p = p.with_cache_read(v);
    }
    if let Some(v) = extra("cache_creation_input_token_cost") {
        p = p.with_cache_write(v);
    }
    Some(p)
}

/// One deployment: a provider model (`"openai/gpt-4o"`, `"azure/my-deploy"`) with its
/// credentials and limits, serving the public model name `model_name`.
///
/// ```
/// use litellm::router::Deployment;
/// let d = Deployment::new("gpt-4o", "azure/gpt-4o-eu")
///     .api_base("https://eu.openai.azure.com")
///     .api_key("az-key")
///     .rpm(600)
///     .weight(2.0)
///     .tags(["eu"]);
/// assert_eq!(d.model_name, "gpt-4o");
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Deployment {
    /// Stable id; derived from the model, base and name when not given.
    pub id: String,
    /// The public model name (group) callers use.
    pub model_name: String,
    /// The provider model string (`provider/model-id`); in a wildcard group, `*` is replaced by
    /// what the caller's model matched.
    pub model: String,
    /// API key.
    pub api_key: Option<SecretString>,
    /// Base URL.
    pub api_base: Option<String>,
    /// API version (Azure).
    pub api_version: Option<String>,
    /// Relative share of traffic (simple-shuffle).
    pub weight: Option<f64>,
    /// Requests per minute this deployment takes.
    pub rpm: Option<u64>,
    /// Tokens per minute this deployment takes.
    pub tpm: Option<u64>,
    /// Calls in flight at most.
    pub max_parallel_requests: Option<u32>,
    /// Timeout of a call.
    pub timeout: Option<Duration>,
    /// Timeout of a streamed call (headers and each chunk).
    pub stream_timeout: Option<Duration>,
    /// Priority tier: lower first; the next tier only when this one has nothing available.
    pub order: Option<u32>,
    /// Tags for tag-based routing.
    pub tags: Vec<String>,
    /// Extra headers sent with every call.
    pub headers: Vec<(String, String)>,
    /// Provider settings (`vertex_project`, `aws_region_name`, …).
    pub params: Vec<(String, SecretString)>,
    /// Answer from the mock provider instead (tests, demos).
    pub mock_response: Option<MockResponse>,
    /// Drop parameters the provider cannot honour (a call's own setting wins).
    pub drop_params: Option<bool>,
    /// Request defaults: body parameters as the OpenAI API names them (`temperature`,
    /// `max_tokens`, `seed`, `stop`, `response_format`, `tool_choice`, `user`,
    /// `reasoning_effort`, `dimensions`, …), applied to every call routed to this deployment
    /// that does not set them itself (the call's own value wins). See
    /// [`default_param`](Deployment::default_param).
    pub defaults: serde_json::Map<String, Value>,
    /// Context window and prices.
    pub model_info: ModelInfo,
}

/// Prints every field but secrets: the key, credential-like header values and provider
/// settings, and the query values and password of `api_base`.
impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("id", &self.id)
            .field("model_name", &self.model_name)
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .field("api_base", &crate::redact::OptUrl(self.api_base.as_deref()))
            .field("api_version", &self.api_version)
            .field("weight", &self.weight)
            .field("rpm", &self.rpm)
            .field("tpm", &self.tpm)
            .field("max_parallel_requests", &self.max_parallel_requests)
            .field("timeout", &self.timeout)
            .field("stream_timeout", &self.stream_timeout)
            .field("order", &self.order)
            .field("tags", &self.tags)
            .field("headers", &crate::redact::Pairs(&self.headers))
            .field("params", &self.params)
            .field("mock_response", &self.mock_response)
            .field("drop_params", &self.drop_params)
            .field("model_info", &self.model_info)
            .field("defaults", &crate::redact::JsonMap(&self.defaults))
            .finish_non_exhaustive()
    }
}

impl Deployment {
    /// A deployment of `model` (a provider model string) serving `model_name`.
    pub fn new(model_name: impl Into<String>, model: impl Into<String>) -> Deployment {
        Deployment {
            id: String::new(),
            model_name: model_name.into(),
            model: model.into(),
            api_key: None,
            api_base: None,
            api_version: None,
            weight: None,
            rpm: None,
            tpm: None,
            max_parallel_requests: None,
            timeout: None,
            stream_timeout: None,
            order: None,
            tags: Vec::new(),
            headers: Vec::new(),
            params: Vec::new(),
            mock_response: None,
            drop_params: None,
            defaults: serde_json::Map::new(),
            model_info: ModelInfo::default(),
        }
    }

    /// Sets the id.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    setters! {
        must_use = "setters return the changed deployment; use it";
        /// Sets the API key.
        api_key: impl Into<SecretString>,
        /// Sets the base URL.
        api_base: impl Into<String>,
        /// Sets the API version.
        api_version: impl Into<String>,
        /// Sets the weight.
        weight: f64,
        /// Sets requests per minute.
        rpm: u64,
        /// Sets tokens per minute.
        tpm: u64,
        /// Sets the most calls in flight.
        max_parallel_requests: u32,
        /// Sets the timeout.
        timeout: Duration,
        /// Sets the stream timeout.
        stream_timeout: Duration,
        /// Sets the priority tier.
        order: u32,
    }

    /// Sets the tags.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a header.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a provider setting.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<SecretString>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Adds a request default: the body parameter `name` (as the OpenAI API names it) is
    /// `value` on every call routed to this deployment that does not set it itself. Each call
    /// type takes the parameters it has (`temperature` chat and text completions, `dimensions`
    /// embeddings, …); `max_tokens` and `max_completion_tokens` count as one limit (a call that
    /// sets either gets neither default); a name that is no OpenAI parameter (`top_k`,
    /// `thinking`, …) is added to chat calls' body as a vendor field. The router checks the
    /// values when it is built: a value of the wrong type (`temperature: "hot"`), or `model`,
    /// `messages`, `stream`, `stream_options`, `metadata`, is a `Config` error.
    ///
    /// ```
    /// use litellm::router::Deployment;
    /// use serde_json::json;
    /// let d = Deployment::new("gpt-4o", "openai/gpt-4o")
    ///     .default_param("temperature", 0.2)
    ///     .default_param("response_format", json!({"type": "json_object"}));
    /// assert_eq!(d.defaults["temperature"], 0.2);
    /// ```
    #[must_use = "setters return the changed deployment; use it"]
    pub fn default_param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.defaults.insert(name.into(), value.into());
        self
    }

    /// Answers from the mock provider.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn mock_response(mut self, mock: impl Into<MockResponse>) -> Self {
        self.mock_response = Some(mock.into());
        self
    }

    /// Sets the model info.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn model_info(mut self, info: ModelInfo) -> Self {
        self.model_info = info;
        self
    }

    /// Sets the context window.
    #[must_use = "setters return the changed deployment; use it"]
    pub fn max_input_tokens(mut self, n: u64) -> Self {
        self.model_info.max_input_tokens = Some(n);
        self
    }

    /// Sets the prices (USD per token).
    #[must_use = "setters return the changed deployment; use it"]
    pub fn cost_per_token(mut self, input: f64, output: f64) -> Self {
        self.model_info.input_cost_per_token = Some(input);
        self.model_info.output_cost_per_token = Some(output);
        self
    }

    /// The id when set, else a stable hash of name, model, base, version and order.
    pub(crate) fn resolved_id(&self) -> String {
        if !self.id.is_empty() {
            return self.id.clone();
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let order = self.order.map(|o| o.to_string()).unwrap_or_default();
        for part in [
            self.model_name.as_str(),
            self.model.as_str(),
            self.api_base.as_deref().unwrap_or(""),
            self.api_version.as_deref().unwrap_or(""),
            order.as_str(),
        ] {
            for b in part.bytes().chain(std::iter::once(0xff)) {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// A deployment as the router runs it: its config, live counters and call options.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) config: Deployment,
    pub(crate) id: String,
    pub(crate) counters: Arc<DeploymentCounters>,
    pub(crate) semaphore: Option<Arc<Semaphore>>,
    /// Calls waiting for a parallel slot on this deployment.
    pub(crate) waiting: std::sync::atomic::AtomicU32,
    /// Call options carrying this deployment's credentials and settings.
    pub(crate) options: CallOptions,
    /// Its price: `model_info`'s own prices, else the price table's for its model.
    pub(crate) price: Option<crate::accounting::ModelPrice>,
    /// Its request defaults, typed (`None` when it has none).
    pub(crate) defaults: Option<Arc<super::defaults::Defaults>>,
}

impl Entry {
    pub(crate) fn new(config: Deployment, id: String, counters: Arc<DeploymentCounters>) -> Entry {
        let mut options = CallOptions {
            api_key: config.api_key.clone(),
            api_base: config.api_base.clone(),
            api_version: config.api_version.clone(),
            timeout: config.timeout,
            num_retries: Some(0),
            extra_headers: config.headers.clone(),
            mock_response: config.mock_response.clone(),
            params: config.params.clone(),
            ..CallOptions::default()
        };
        options.drop_params = config.drop_params;
        let semaphore = config
            .max_parallel_requests
            .map(|n| Arc::new(Semaphore::new(n.max(1) as usize)));
        let price = own_price(&config.model_info);
        // Checked by `defaults::check` when the router is built.
        let defaults = super::defaults::Defaults::new(&config.defaults)
            .ok()
            .flatten()
            .map(Arc::new);
        Entry {
            config,
            id,
            counters,
            semaphore,
            waiting: std::sync::atomic::AtomicU32::new(0),
            price,
            options,
            defaults,
        }
    }

    /// Falls back to `table`'s price of its model (or of `model_info.base_model`) when
    /// `model_info` has no prices of its own.
    pub(crate) fn priced(mut self, table: &crate::accounting::PriceTable) -> Entry {
        if self.price.is_none() {
            let base = self
                .config
                .model_info
                .extra
                .get("base_model")
                .and_then(|v| v.as_str());
            self.price = base
                .and_then(|b| table.resolve(b, None))
                .or_else(|| table.resolve(&self.config.model, None))
                .map(|r| r.price.clone());
        }
        self
    }

    /// Price of a typical call (1,000 input and 1,000 output tokens), for cost-based routing:
    /// by `model_info`'s prices, else the price table's for its model; `None` when unpriced.
    pub(crate) fn unit_cost(&self) -> Option<f64> {
        self.price
            .as_ref()
            .map(|p| (p.input_cost_per_token + p.output_cost_per_token) * 1000.0)
    }

    /// The context window: `model_info`'s, else the price table's.
    pub(crate) fn max_input_tokens(&self) -> Option<u64> {
        self.config
            .model_info
            .max_input_tokens
            .or_else(|| self.price.as_ref().and_then(|p| p.max_input_tokens))
    }

    /// The provider model string for a call of `requested` (wildcards filled in).
    pub(crate) fn model_for(&self, requested: &str) -> String {
        let m = &self.config.model;
        if !m.contains('*') {
            return m.clone();
        }
        let pattern = &self.config.model_name;
        let matched = match pattern.split_once('*') {
            Some((pre, post)) => requested
                .strip_prefix(pre)
                .and_then(|r| r.strip_suffix(post))
                .unwrap_or(requested),
            None => requested,
        };
        m.replacen('*', matched, 1)
    }
}

/// Whether `model` matches a wildcard pattern such as `anthropic/*` or `*`.
pub(crate) fn wildcard_matches(pattern: &str, model: &str) -> bool {
    match pattern.split_once('*') {
        Some((pre, post)) => {
            model.len() >= pre.len() + post.len() && model.starts_with(pre) && model.ends_with(post)
        }
        None => pattern == model,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = Deployment::new("g", "openai/gpt-4o").api_base("http://a");
        let b = Deployment::new("g", "openai/gpt-4o").api_base("http://b");
        assert_eq!(a.resolved_id(), a.clone().resolved_id());
        assert_ne!(a.resolved_id(), b.resolved_id());
        assert_eq!(a.clone().id("mine").resolved_id(), "mine");
        assert_eq!(a.resolved_id().len(), 16);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_matches("anthropic/*", "anthropic/claude-3"));
        assert!(!wildcard_matches("anthropic/*", "openai/gpt"));
        assert!(wildcard_matches("*", "anything"));
        let e = Entry::new(
            Deployment::new("anthropic/*", "anthropic/*"),
            "x".into(),
            Default::default(),
        );
        assert_eq!(e.model_for("anthropic/claude-3"), "anthropic/claude-3");
        let e = Entry::new(
            Deployment::new("my-*", "openai/*"),
            "x".into(),
            Default::default(),
        );
        assert_eq!(e.model_for("my-gpt-4o"), "openai/gpt-4o");
    }
}
