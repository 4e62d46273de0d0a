//! Resolve and send: the bottom stage of every call. A [`Resolver`] holds what a client was
//! built with (HTTP client, timeouts, per-provider settings, headers, custom providers, the
//! environment lookup), finds the provider of a model string with its credentials, and sends
//! one call to it under its timeout with the call's own retries.

use futures::future::BoxFuture;

use crate::fasthash::FastMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::model::{infer_provider, split_model};
use crate::provider::compat::COMPAT_PROVIDERS;
use crate::provider::{
    CallContext, Provider,
    anthropic::Anthropic,
    azure::Azure,
    gemini::{Gemini, VertexAi},
    mock::Mock,
    openai::OpenAiCompatible,
};
use crate::types::{
    CallOptions, ChatRequest, ChatResponse, ChatStream, EmbeddingRequest, EmbeddingResponse, Reply,
    SecretString, TextCompletionRequest, TextCompletionResponse,
};

pub(crate) type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Settings for one provider prefix.
#[derive(Clone, Default)]
pub(crate) struct ProviderSettings {
    pub(crate) api_key: Option<SecretString>,
    pub(crate) api_base: Option<String>,
    pub(crate) api_version: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) params: Vec<(String, SecretString)>,
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

/// Built-in providers by prefix.
static BUILTIN: LazyLock<FastMap<&'static str, Arc<dyn Provider>>> = LazyLock::new(|| {
    let mut m: FastMap<&'static str, Arc<dyn Provider>> = FastMap::default();
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

/// Whether `prefix` names a built-in provider.
pub(crate) fn is_builtin(prefix: &str) -> bool {
    BUILTIN.contains_key(prefix)
}

/// "unknown provider 'x'; did you mean 'y'? …": the message for a prefix that is neither
/// built in nor in `custom`.
pub(crate) fn unknown_provider(
    prefix: &str,
    custom: &FastMap<String, Arc<dyn Provider>>,
) -> String {
    if prefix == "bedrock" {
        return "provider 'bedrock', which needs the `bedrock` cargo feature of litellm \
                (Bedrock support is off in this build)"
            .to_owned();
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
fn known_prefixes(custom: &FastMap<String, Arc<dyn Provider>>) -> Vec<&str> {
    let mut known: Vec<&str> = BUILTIN
        .keys()
        .copied()
        .chain(custom.keys().map(String::as_str))
        .collect();
    known.sort_unstable();
    known.dedup();
    known
}

/// What a client resolves and sends calls with.
pub(crate) struct Resolver {
    pub(crate) http: reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) stream_idle_timeout: Option<Duration>,
    pub(crate) max_response_bytes: usize,
    pub(crate) settings: FastMap<String, ProviderSettings>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) custom: FastMap<String, Arc<dyn Provider>>,
    pub(crate) env: Option<EnvLookup>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("timeout", &self.timeout)
            .field("settings", &self.settings)
            .field("headers", &crate::redact::Pairs(&self.headers))
            .field("custom", &self.custom.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Resolver {
    fn provider(&self, prefix: &str) -> Option<&Arc<dyn Provider>> {
        self.custom.get(prefix).or_else(|| BUILTIN.get(prefix))
    }

    fn known_prefixes(&self) -> String {
        known_prefixes(&self.custom).join(", ")
    }

    fn env(&self, names: &[&str]) -> Option<String> {
        let lookup = self.env.as_ref()?;
        names
            .iter()
            .find_map(|n| lookup(n).filter(|v| !v.is_empty()))
    }

    /// Finds the provider of a model string and everything it needs for one call: credentials
    /// from the call, then the client, then the environment. Fails with `BadRequest` for an
    /// unknown provider, `Authentication` for a missing key, `Config` for a missing base URL,
    /// before any request is sent.
    pub(crate) fn resolve(
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
        let settings = self.settings.get(prefix);
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
            .or_else(|| spec.default_api_base.map(str::to_owned))
            .map(|b| b.trim_end_matches('/').to_owned());
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
        let mut headers = self.headers.clone();
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
        let timeout = options.timeout.unwrap_or(self.timeout);
        let mut cx = CallContext::new(self.http.clone(), prefix, model_id);
        cx.api_key = api_key;
        cx.api_base = api_base;
        cx.api_version = api_version;
        cx.headers = headers;
        cx.timeout = timeout;
        cx.stream_idle_timeout = self.stream_idle_timeout.unwrap_or(timeout);
        cx.max_response_bytes = self.max_response_bytes;
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
                unknown_provider(prefix, &self.custom)
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
                let known = known_prefixes(&self.custom);
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

    /// Sends one call of `model` with `options` to its provider: `call` makes it
    /// (`p.chat(req, cx)`, …) under the call's timeout, retried as the call's options say; the
    /// answer's meta is filled. The request is borrowed, never cloned per attempt.
    async fn send<T: Reply, R: Sends<T>>(
        &self,
        req: &R,
        model: &str,
        options: &CallOptions,
    ) -> Result<T> {
        let start = Instant::now();
        let (p, mut cx) = self.resolve(model, options)?;
        let mut out = run(start, &cx, options, || req.send(p.as_ref(), &cx)).await?;
        named(&mut out, &mut cx);
        out.started_at(start);
        Ok(out)
    }

    /// A chat completion of `req` sent to `model` with `options` (usage counted when the
    /// vendor reports none).
    pub(crate) async fn chat_with(
        &self,
        req: &ChatRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<ChatResponse> {
        check_sampling(req)?;
        let mut resp = self.send(req, model, options).await?;
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
        check_sampling(req)?;
        self.send(req, model, options).await
    }

    /// Embeddings of `req` sent to `model` with `options`.
    pub(crate) async fn embed_with(
        &self,
        req: &EmbeddingRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<EmbeddingResponse> {
        self.send(req, model, options).await
    }

    /// A text completion of `req` sent to `model` with `options`.
    pub(crate) async fn text_completion_with(
        &self,
        req: &TextCompletionRequest,
        model: &str,
        options: &CallOptions,
    ) -> Result<TextCompletionResponse> {
        check_sampling(req)?;
        self.send(req, model, options).await
    }
}

/// A request that can be sent for an answer of type `A`: which provider method makes the call.
trait Sends<A>: Sync {
    fn send<'c>(&'c self, p: &'c dyn Provider, cx: &'c CallContext) -> BoxFuture<'c, Result<A>>;
}

macro_rules! sends {
    ($($req:ty => $ans:ty: $method:ident),* $(,)?) => {$(
        impl Sends<$ans> for $req {
            fn send<'c>(
                &'c self,
                p: &'c dyn Provider,
                cx: &'c CallContext,
            ) -> BoxFuture<'c, Result<$ans>> {
                p.$method(self, cx)
            }
        }
    )*};
}
sends!(
    ChatRequest => ChatResponse: chat,
    ChatRequest => ChatStream: chat_stream,
    EmbeddingRequest => EmbeddingResponse: embed,
    TextCompletionRequest => TextCompletionResponse: text_completion,
);

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

/// Runs one call: `attempt` under the call's timeout, retried as the call's options say, and
/// fills the answer's [`ResponseMeta`].
async fn run<T, F, Fut>(
    start: Instant,
    cx: &CallContext,
    options: &CallOptions,
    mut attempt: F,
) -> Result<T>
where
    T: Reply,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let (mut out, attempts) = match options.num_retries.unwrap_or(0) {
        // The common case (a router owns its retries): no retry loop around the attempt, so
        // the answer is moved through one future less.
        0 => (timed(cx.timeout, cx, attempt()).await?, 1),
        retries => {
            let (result, attempts) = retrying(retries, || timed(cx.timeout, cx, attempt())).await;
            (result?, attempts)
        }
    };
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
    meta.attempts = attempts;
    meta.latency = start.elapsed();
    Ok(out)
}

/// Names the provider and model that answered in the answer's meta, moved out of the call's
/// context (which the call no longer needs): no copies of the strings.
fn named<T: Reply>(out: &mut T, cx: &mut CallContext) {
    let meta = out.meta_mut();
    meta.provider = std::mem::take(&mut cx.provider);
    meta.model = std::mem::take(&mut cx.model);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Resolver {
        let c = crate::Client::builder().no_env().build().unwrap();
        let r = c.resolver();
        Resolver {
            http: r.http.clone(),
            timeout: r.timeout,
            stream_idle_timeout: r.stream_idle_timeout,
            max_response_bytes: r.max_response_bytes,
            settings: r.settings.clone(),
            headers: r.headers.clone(),
            custom: r.custom.clone(),
            env: r.env.clone(),
        }
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
