//! Python LiteLLM's proxy `config.yaml` → a [`Router`].
//!
//! An existing config works as is, and every key in it is either honoured, mapped to this
//! crate's equivalent, or warned about (with `tracing::warn!` and in
//! [`RouterConfig::warnings`], each warning naming what to use instead); never silently
//! dropped. `docs/router.md` has the table, key by key. In short:
//!
//! - `model_list`: each `model_name` with its `litellm_params` (provider model, credentials,
//!   limits, timeouts, prices; `rpm`/`tpm` also at the entry level or in `model_info`, as
//!   LiteLLM reads them) and `model_info`. Call parameters in `litellm_params` (`temperature`,
//!   `max_tokens`, `seed`, `stop`, `response_format`, `tool_choice`, `user`,
//!   `reasoning_effort`, …) become the deployment's request defaults
//!   ([`Deployment::default_param`]): sent with every call routed there that does not set
//!   them itself. Other keys of `litellm_params` (`vertex_project`, `aws_region_name`, …)
//!   become provider settings.
//! - `router_settings` (and the router keys LiteLLM also reads from `litellm_settings`):
//!   strategy and its `routing_strategy_args`, retries, cooldowns, timeouts, fallbacks,
//!   aliases, pre-call checks, tag filtering, `default_max_parallel_requests`; and this
//!   crate's own `retry_budget` and `max_attempts_per_call`.
//! - `litellm_settings`: `cache: true` with `cache_params.type: local` (the default here) →
//!   the in-memory response cache; `success_callback` / `failure_callback` / `callbacks`:
//!   `prometheus` → [`Metrics`] (see [`RouterConfig::metrics`]),
//!   `generic_api` → a [`Webhook`] to `GENERIC_LOGGER_ENDPOINT`;
//!   `max_budget` / `budget_duration` → a global ledger budget (see
//!   [`RouterConfig::ledger`]); `drop_params`, `set_verbose`.
//! - `general_settings` configures LiteLLM's proxy: each key is warned about (it belongs to
//!   the gateway, `litellm-proxy`).
//! - `os.environ/NAME` values read an environment variable (or the file's own
//!   `environment_variables`, which are never written into the process environment).
//!
//! An invalid value is a `Config` error that names the key (and its line where the YAML
//! parser knows it); so is a provider prefix no provider answers to (`opnai/gpt-4o`: "did you
//! mean 'openai'?"). A config larger than [`MAX_CONFIG_BYTES`] or nested deeper than
//! [`MAX_CONFIG_DEPTH`] is refused before it is parsed, and it is parsed once.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! let yaml = r#"
//! model_list:
//!   - model_name: gpt-4o
//!     litellm_params:
//!       model: mock/gpt-4o
//!       rpm: 600
//!       temperature: 0.2
//! router_settings:
//!   routing_strategy: least-busy
//!   num_retries: 3
//! "#;
//! let router = litellm::Router::from_yaml_str(yaml)?;
//! let resp = router.completion("gpt-4o", vec![litellm::Message::user("Hi")]).await?;
//! assert!(resp.text().is_some());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::accounting::ledger::{Budget, Ledger, Period, Scope};
use crate::cache::{CacheConfig, CachedCalls, MemoryCache};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::model::closest;
use crate::observe::{Hook, LogLevel, Metrics, Webhook};
use crate::router::{
    AllowedFailsPolicy, Deployment, Fallbacks, ModelInfo, RetryBudget, RetryPolicy, Router,
    RouterBuilder, RoutingStrategy,
};
use crate::types::SecretString;

/// Largest config text accepted (16 MiB); a larger one is a `Config` error before parsing.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting accepted (indentation levels plus open `[`/`{`): 64. A deeper config is a
/// `Config` error before parsing (the YAML parser's time grows with the square of the depth).
pub const MAX_CONFIG_DEPTH: usize = 64;

/// Declares a config section: the keys this crate reads, typed (each optional), and `rest`,
/// every other key in file order (to apply or warn about). Deserializing keeps the parser's
/// key path and line in errors, and the document is read once. YAML merge keys
/// (`<<: *defaults`) are applied, the mapping's own keys winning.
macro_rules! section {
    ($(#[$meta:meta])* struct $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Default)]
        struct $name {
            $($field: Option<$ty>,)*
            /// The keys not listed above, in file order.
            rest: Vec<(String, Value)>,
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a mapping")
                    }
                    fn visit_unit<E>(self) -> std::result::Result<$name, E> {
                        Ok($name::default())
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> std::result::Result<$name, A::Error> {
                        let mut out = $name::default();
                        let mut seen = std::collections::HashSet::new();
                        let mut merges: Vec<Value> = Vec::new();
                        while let Some(key) = map.next_key::<Value>()? {
                            let key = key_text(&key);
                            if key == "<<" {
                                // YAML merge key (`<<: *defaults`): applied after the
                                // mapping's own keys, which win.
                                merges.push(map.next_value()?);
                                continue;
                            }
                            if !seen.insert(key.clone()) {
                                return Err(serde::de::Error::custom(format!(
                                    "'{key}' is given twice"
                                )));
                            }
                            match key.as_str() {
                                $(stringify!($field) => {
                                    out.$field = map.next_value::<Option<$ty>>()?;
                                })*
                                _ => out.rest.push((key, map.next_value()?)),
                            }
                        }
                        // `<<: *a` or `<<: [*a, *b]` (earlier ones win).
                        let merged = merges.into_iter().flat_map(|m| match m {
                            Value::Sequence(items) => items,
                            other => vec![other],
                        });
                        for m in merged {
                            let Value::Mapping(m) = m else {
                                return Err(serde::de::Error::custom(
                                    "'<<' (a YAML merge) must name a mapping",
                                ));
                            };
                            for (k, v) in m {
                                let key = key_text(&k);
                                if !seen.insert(key.clone()) {
                                    continue;
                                }
                                match key.as_str() {
                                    $(stringify!($field) => {
                                        out.$field = serde_yaml_ng::from_value(v).map_err(|e| {
                                            serde::de::Error::custom(format!(
                                                "{} (merged with '<<'): {e}",
                                                stringify!($field)
                                            ))
                                        })?;
                                    })*
                                    _ => out.rest.push((key, v)),
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

section! {
    /// The whole file.
    struct File {
        model_list: Vec<ModelEntry>,
        router_settings: Settings,
        litellm_settings: Settings,
        general_settings: Value,
        environment_variables: BTreeMap<String, Value>,
    }
}

section! {
    /// One `model_list` entry.
    struct ModelEntry {
        model_name: String,
        litellm_params: Params,
        model_info: Value,
        rpm: u64,
        tpm: u64,
    }
}

section! {
    /// `litellm_params`: deployment settings; `rest` holds call defaults and provider settings.
    struct Params {
        model: String,
        custom_llm_provider: String,
        api_key: String,
        api_base: String,
        base_url: String,
        api_version: String,
        rpm: u64,
        tpm: u64,
        weight: f64,
        order: u32,
        timeout: f64,
        stream_timeout: f64,
        max_parallel_requests: u32,
        tags: Vec<String>,
        input_cost_per_token: f64,
        output_cost_per_token: f64,
        mock_response: String,
        extra_headers: BTreeMap<String, String>,
        headers: BTreeMap<String, String>,
        organization: String,
        drop_params: bool,
        extra_body: serde_json::Map<String, serde_json::Value>,
    }
}

section! {
    /// `router_settings` or `litellm_settings`.
    struct Settings {
        routing_strategy: String,
        routing_strategy_args: BTreeMap<String, Value>,
        num_retries: u32,
        retry_policy: BTreeMap<String, u32>,
        retry_after: f64,
        allowed_fails: u32,
        allowed_fails_policy: BTreeMap<String, u32>,
        cooldown_time: f64,
        disable_cooldowns: bool,
        timeout: f64,
        request_timeout: f64,
        stream_timeout: f64,
        fallbacks: Vec<HashMap<String, Vec<String>>>,
        context_window_fallbacks: Vec<HashMap<String, Vec<String>>>,
        content_policy_fallbacks: Vec<HashMap<String, Vec<String>>>,
        default_fallbacks: Vec<String>,
        max_fallbacks: usize,
        enable_pre_call_checks: bool,
        enable_tag_filtering: bool,
        tag_filtering_match_any: bool,
        default_max_parallel_requests: u32,
        default_litellm_params: BTreeMap<String, Value>,
        model_group_alias: BTreeMap<String, Value>,
        drop_params: bool,
        // This crate's own (LiteLLM has neither):
        retry_budget: Value,
        max_attempts_per_call: u32,
        // litellm_settings only:
        cache: bool,
        cache_params: BTreeMap<String, Value>,
        success_callback: Value,
        failure_callback: Value,
        callbacks: Value,
        max_budget: f64,
        budget_duration: Value,
        set_verbose: bool,
        turn_off_message_logging: bool,
    }
}

/// Top-level sections.
const TOP_KEYS: &[&str] = &[
    "model_list",
    "router_settings",
    "litellm_settings",
    "general_settings",
    "environment_variables",
    "callback_settings",
];

/// Keys of a `model_list` entry.
const ENTRY_KEYS: &[&str] = &["model_name", "litellm_params", "model_info", "rpm", "tpm"];

/// Router keys, read from `router_settings` and `litellm_settings` alike.
const ROUTER_KEYS: &[&str] = &[
    "routing_strategy",
    "routing_strategy_args",
    "num_retries",
    "retry_policy",
    "retry_after",
    "allowed_fails",
    "allowed_fails_policy",
    "cooldown_time",
    "disable_cooldowns",
    "timeout",
    "request_timeout",
    "stream_timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "max_fallbacks",
    "enable_pre_call_checks",
    "enable_tag_filtering",
    "tag_filtering_match_any",
    "default_max_parallel_requests",
    "default_litellm_params",
    "model_group_alias",
    "drop_params",
    "retry_budget",
    "max_attempts_per_call",
];

/// Keys read from `litellm_settings` only.
const LITELLM_KEYS: &[&str] = &[
    "cache",
    "cache_params",
    "success_callback",
    "failure_callback",
    "callbacks",
    "max_budget",
    "budget_duration",
    "set_verbose",
    "turn_off_message_logging",
];

/// Deployment keys of `litellm_params` (the typed fields of [`Params`]).
const DEPLOYMENT_KEYS: &[&str] = &[
    "model",
    "custom_llm_provider",
    "api_key",
    "api_base",
    "base_url",
    "api_version",
    "rpm",
    "tpm",
    "weight",
    "order",
    "timeout",
    "stream_timeout",
    "max_parallel_requests",
    "tags",
    "input_cost_per_token",
    "output_cost_per_token",
    "mock_response",
    "extra_headers",
    "headers",
    "organization",
    "drop_params",
    "extra_body",
];

/// Call parameters of `litellm_params` that become the deployment's request defaults: the
/// OpenAI parameters LiteLLM passes through to the call, plus `top_k` and `thinking`, which it
/// passes to the vendors that take them.
const CALL_DEFAULTS: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "store",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "verbosity",
    "web_search_options",
    "functions",
    "function_call",
    "dimensions",
    "encoding_format",
    "suffix",
    "echo",
    "best_of",
    "top_k",
    "thinking",
];

/// `litellm_settings` keys that only LiteLLM's proxy reads.
const GATEWAY_LITELLM_KEYS: &[&str] = &[
    "budget_exceeded_status_code",
    "budget_exceeded_throttle_percentage",
    "budget_rollover",
    "timezone",
    "budget_reset_time",
    "max_end_user_budget",
    "max_end_user_budget_id",
    "max_internal_user_budget",
    "default_max_internal_user_budget",
    "default_internal_user_params",
    "default_key_generate_params",
    "upperbound_key_generate_params",
    "key_generation_settings",
    "default_team_settings",
    "default_team_params",
    "require_auth_for_metrics_endpoint",
    "disable_end_user_cost_tracking",
    "disable_end_user_cost_tracking_prometheus_only",
    "sse_keepalive_ping_interval_seconds",
    "include_cost_in_streaming_usage",
    "strip_anthropic_total_tokens",
    "enable_redis_auth_cache",
    "store_audit_logs",
    "public_teams",
    "guardrails",
    "max_user_budget",
    "max_ui_session_budget",
    "enable_preview_features",
];

const GATEWAY: &str = "applies to the gateway (litellm-proxy), not the library; ignored";

/// A parsed config: the router builder it describes, what it created for you to reach (the
/// metrics registry, the ledger) and what was ignored.
pub struct RouterConfig {
    builder: RouterBuilder,
    metrics: Option<Metrics>,
    ledger: Option<Arc<Ledger>>,
    /// What was ignored, one line each naming the key and what to use instead (also logged
    /// with `tracing::warn!`).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for RouterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterConfig")
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

fn config_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, msg)
}

fn seconds(key: &str, v: Option<f64>) -> Result<Option<Duration>> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s.min(1e9)))),
        Some(s) => Err(config_error(format!(
            "{key}: {s} is not a number of seconds ≥ 0"
        ))),
    }
}

/// A per-error-class policy (`retry_policy`, `allowed_fails_policy`) from its entries, each
/// key read by `set` (the policy's `set_litellm`); an unknown key is an error.
fn policy<P: Default>(
    key: &str,
    entries: BTreeMap<String, u32>,
    set: fn(&mut P, &str, u32) -> bool,
) -> Result<P> {
    let mut policy = P::default();
    for (k, n) in entries {
        if !set(&mut policy, &k, n) {
            return Err(config_error(format!("{key}: unknown error class '{k}'")));
        }
    }
    Ok(policy)
}

fn chains(
    key: &str,
    v: Option<Vec<HashMap<String, Vec<String>>>>,
) -> Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for item in v.unwrap_or_default() {
        for (from, to) in item {
            if out.insert(from.clone(), to).is_some() {
                return Err(config_error(format!("{key}: '{from}' is listed twice")));
            }
        }
    }
    Ok(out)
}

/// A mapping key as text (a non-text key is shown as YAML).
fn key_text(v: &Value) -> String {
    match scalar(v) {
        Some(s) => s,
        None => serde_yaml_ng::to_string(v)
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "?".into()),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// "; did you mean 'x'?" when `key` is close to one of `known`.
fn did_you_mean<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(key, known)
        .filter(|k| *k != key)
        .map(|k| format!("; did you mean '{k}'?"))
        .unwrap_or_default()
}

/// The warning for a key of `section` this crate does not read, naming its equivalent.
fn advise(section: &str, key: &str) -> String {
    let at = format!("'{section}.{key}'");
    let use_instead = |what: &str| format!("{at} is not supported: {what}; ignored");
    match (section, key) {
        ("general_settings", _) => format!("{at} {GATEWAY}"),
        (_, "redis_host" | "redis_port" | "redis_password" | "redis_url" | "redis_db") => {
            use_instead(
                "router state in Redis is not built in yet (share deployment counters between \
                 processes with RouterBuilder::state_store and your own \
                 litellm::router::StateStore)",
            )
        }
        (_, "cache_responses") => use_instead(
            "turn the response cache on with litellm_settings.cache: true (or \
             RouterBuilder::cache)",
        ),
        (_, "max_retries") => {
            use_instead("the router retries (num_retries, retry_policy) and its clients never do")
        }
        (_, "model_group_retry_policy") => {
            use_instead("one retry_policy applies to every model group")
        }
        (_, "optional_pre_call_checks") => use_instead(
            "the context-window check (enable_pre_call_checks) is the only pre-call check",
        ),
        (_, "provider_budget_config") => use_instead(
            "add a litellm::accounting::ledger::Budget with Scope::Model per model group to a \
             Ledger (RouterBuilder::ledger)",
        ),
        (_, "debug_level" | "json_logs") => use_instead(
            "logging goes through `tracing`: set RouterBuilder::log_level or LITELLM_LOG, and \
             format it (as JSON or not) with your tracing subscriber",
        ),
        (_, "alerting_config" | "alerting") => use_instead(
            "implement litellm::observe::Callback for alerts and add it with \
             RouterBuilder::callback",
        ),
        (_, "modify_params") => use_instead("messages are sent as given"),
        (_, "telemetry") => use_instead("this crate sends no telemetry"),
        (_, "ssl_verify" | "force_ipv4" | "ssl_certificate" | "aiohttp_trust_env") => use_instead(
            "configure the HTTP client yourself (ClientBuilder::http_client with a \
             reqwest::Client)",
        ),
        (_, "redact_user_api_key_info" | "redact_messages_in_exceptions") => use_instead(
            "callback events never carry credentials, and carry messages only with \
             RouterBuilder::detailed_callbacks(true)",
        ),
        (_, "model_alias_map") => {
            use_instead("use router_settings.model_group_alias (RouterBuilder::model_group_alias)")
        }
        ("litellm_settings", k) if GATEWAY_LITELLM_KEYS.contains(&k) => format!("{at} {GATEWAY}"),
        _ => format!(
            "{at} is not a key this crate reads; ignored{} (docs/router.md lists the keys read)",
            did_you_mean(
                key,
                ROUTER_KEYS
                    .iter()
                    .chain(if section == "litellm_settings" {
                        LITELLM_KEYS
                    } else {
                        &[]
                    })
                    .copied()
            )
        ),
    }
}

/// Refuses a config larger than [`MAX_CONFIG_BYTES`] or nested deeper than
/// [`MAX_CONFIG_DEPTH`], in one linear pass over the text: block nesting by indentation (and
/// compact `- - x` items), flow nesting by `[`/`{` outside quotes and comments; block-scalar
/// contents (`|`, `>`) are skipped. It is an estimate that never undercounts real flow nesting.
fn check_size_and_depth(text: &str) -> Result<()> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(config_error(format!(
            "the config is {} bytes, more than the limit of {} MiB (MAX_CONFIG_BYTES)",
            text.len(),
            MAX_CONFIG_BYTES >> 20
        )));
    }
    let too_deep = |line: usize| {
        config_error(format!(
            "the config nests deeper than {MAX_CONFIG_DEPTH} levels (MAX_CONFIG_DEPTH) at line \
             {line}"
        ))
    };
    let mut blocks: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<u8> = None;
    let mut block_scalar: Option<usize> = None;
    // Lines end at `\n`, `\r\n` or a lone `\r`, as in YAML.
    for (n, line) in text.split(['\n', '\r']).enumerate() {
        let b = line.as_bytes();
        let indent = b.iter().take_while(|&&c| c == b' ').count();
        if let Some(parent) = block_scalar {
            if indent == b.len() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut i = 0;
        if quote.is_none() && flow == 0 {
            let rest = &b[indent..];
            if rest.is_empty() || rest[0] == b'#' {
                continue;
            }
            if indent == 0 && (rest.starts_with(b"---") || rest.starts_with(b"...")) {
                blocks.clear();
                continue;
            }
            while blocks.last().is_some_and(|&c| c >= indent) {
                blocks.pop();
            }
            blocks.push(indent);
            i = indent;
            // Compact nested collections on one line: `- - x`, `- key: v`, `? k`.
            while i < b.len()
                && matches!(b[i], b'-' | b'?')
                && b.get(i + 1).is_none_or(|&c| c == b' ')
            {
                i += 1;
                while i < b.len() && b[i] == b' ' {
                    i += 1;
                }
                blocks.push(i);
                if blocks.len() > MAX_CONFIG_DEPTH {
                    return Err(too_deep(n + 1));
                }
            }
            if blocks.len() > MAX_CONFIG_DEPTH {
                return Err(too_deep(n + 1));
            }
        }
        let mut prev = if i == 0 { b' ' } else { b[i - 1] };
        let mut end = b.len();
        while i < b.len() {
            let c = b[i];
            if let Some(q) = quote {
                if q == b'"' && c == b'\\' {
                    i += 2;
                    prev = b'x';
                    continue;
                }
                if c == q {
                    if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                }
                prev = c;
                i += 1;
                continue;
            }
            let starts_node =
                matches!(prev, b' ' | b'\t') || (flow > 0 && matches!(prev, b'[' | b'{' | b','));
            match c {
                b'#' if matches!(prev, b' ' | b'\t') => {
                    end = i;
                    break;
                }
                b'\'' | b'"' if starts_node => quote = Some(c),
                b'[' | b'{' if flow > 0 || starts_node => {
                    flow += 1;
                    if blocks.len() + flow > MAX_CONFIG_DEPTH {
                        return Err(too_deep(n + 1));
                    }
                }
                b']' | b'}' if flow > 0 => flow -= 1,
                _ => {}
            }
            prev = c;
            i += 1;
        }
        // A block scalar header ends the line: `key: |`, `- >-`, `text: |2+`.
        if quote.is_none() && flow == 0 {
            let content = line[..end.min(line.len())].trim_end();
            let token = content.rsplit(' ').next().unwrap_or("");
            if token.len() <= 3
                && token.starts_with(['|', '>'])
                && token[1..]
                    .bytes()
                    .all(|c| matches!(c, b'+' | b'-' | b'0'..=b'9'))
            {
                block_scalar = Some(indent);
            }
        }
    }
    Ok(())
}

/// `budget_duration` → the ledger period that resets as LiteLLM's does: `1h` hourly, `1d`
/// daily, `7d`/`1w` weekly (Monday), `30d`/`1mo` monthly (the 1st); other `Ns`, `Nm`, `Nh`,
/// `Nd`, `Nw` fixed windows of that length aligned to the Unix epoch.
fn budget_period(text: &str) -> std::result::Result<Period, String> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{t}' is not a duration such as 30s, 15m, 1h, 1d, 7d, 1w, 1mo"))?;
    if n == 0 {
        return Err(format!(
            "'{t}' is zero: a budget needs a period longer than that"
        ));
    }
    let secs = |unit_secs: u64| {
        n.checked_mul(unit_secs)
            .map(Period::Seconds)
            .ok_or_else(|| format!("'{t}' is too long"))
    };
    let period = match unit.trim() {
        "s" => secs(1)?,
        "m" => secs(60)?,
        "h" => secs(3_600)?,
        "d" if n == 7 => Period::Weekly,
        "d" if n == 30 => Period::Monthly,
        "d" => secs(86_400)?,
        "w" => secs(7 * 86_400)?,
        "mo" if n == 1 => Period::Monthly,
        "mo" => return Err(format!("'{t}': only 1mo is supported (as in LiteLLM)")),
        _ => {
            return Err(format!(
                "'{t}' has no unit LiteLLM knows (s, m, h, d, w, mo); e.g. 30s, 1h, 1d, 1mo"
            ));
        }
    };
    Ok(match period {
        Period::Seconds(3_600) => Period::Hourly,
        Period::Seconds(86_400) => Period::Daily,
        Period::Seconds(604_800) => Period::Weekly,
        p => p,
    })
}

/// A YAML value as JSON (non-finite numbers become `null`).
fn to_json(key: &str, v: &Value) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| config_error(format!("{key}: {e}")))
}

/// A call parameter's value as JSON (`os.environ/NAME` read in text; a non-finite number is an
/// error).
fn call_default(
    key: &str,
    v: Value,
    resolve: &impl Fn(&str, String) -> Result<String>,
) -> Result<serde_json::Value> {
    if let Value::Number(n) = &v
        && n.as_f64().is_some_and(|f| !f.is_finite())
    {
        return Err(config_error(format!("{key}: {n} is not a finite number")));
    }
    match v {
        Value::String(s) => Ok(serde_json::Value::String(resolve(key, s)?)),
        other => to_json(key, &other),
    }
}

/// The callback names of a `*callback*` key: a list of names, or one name.
fn callback_names(key: &str, v: Option<Value>, warnings: &mut Vec<String>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Sequence(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(s) => Some(s),
                other => {
                    warnings.push(format!(
                        "'litellm_settings.{key}': {} is not a callback name; ignored",
                        key_text(&other)
                    ));
                    None
                }
            })
            .collect(),
        Some(other) => {
            warnings.push(format!(
                "'litellm_settings.{key}': {} is not a list of callback names; ignored",
                key_text(&other)
            ));
            Vec::new()
        }
    }
}

/// `GENERIC_LOGGER_HEADERS`: `Name=value,Other=value` or a JSON object.
fn generic_headers(text: &str) -> Vec<(String, String)> {
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(text) {
        return m
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect();
    }
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

impl RouterConfig {
    /// Parses a config (see the [module docs](self)).
    pub fn from_yaml_str(yaml: &str) -> Result<RouterConfig> {
        check_size_and_depth(yaml)?;
        let file: File = serde_yaml_ng::from_str(yaml)
            .map_err(|e| config_error(format!("invalid config: {e}")))?;
        let mut warnings = Vec::new();

        let mut env_vars: HashMap<String, String> = HashMap::new();
        for (k, v) in file.environment_variables.unwrap_or_default() {
            match scalar(&v) {
                Some(s) => {
                    env_vars.insert(k, s);
                }
                None => warnings.push(format!(
                    "'environment_variables.{k}' is not text, a number or a boolean; ignored"
                )),
            }
        }
        let lookup_env = {
            let env_vars = Arc::new(env_vars);
            move |name: &str| {
                env_vars
                    .get(name)
                    .cloned()
                    .or_else(|| std::env::var(name).ok())
            }
        };
        let resolve = |key: &str, v: String| -> Result<String> {
            match v.strip_prefix("os.environ/") {
                Some(name) => lookup_env(name).ok_or_else(|| {
                    config_error(format!("{key}: environment variable {name} is not set"))
                }),
                None => Ok(v),
            }
        };

        for (k, _) in &file.rest {
            warnings.push(match k.as_str() {
                "callback_settings" => "'callback_settings' is not supported: build the \
                     callbacks in code (e.g. litellm::observe::Webhook::builder) and add them \
                     with RouterBuilder::callback; ignored"
                    .to_owned(),
                _ => format!(
                    "unknown top-level key '{k}' ignored{}",
                    did_you_mean(k, TOP_KEYS.iter().copied())
                ),
            });
        }
        match file.general_settings {
            Some(Value::Mapping(m)) => {
                for k in m.keys() {
                    warnings.push(advise("general_settings", &key_text(k)));
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => warnings.push(format!("'general_settings' {GATEWAY}")),
        }

        let mut deployments = Vec::new();
        for (i, entry) in file.model_list.unwrap_or_default().into_iter().enumerate() {
            deployments.push(deployment(i, entry, &resolve, &mut warnings)?);
        }

        let mut lit = file.litellm_settings.unwrap_or_default();
        let mut rs = file.router_settings.unwrap_or_default();
        for (section, s) in [("litellm_settings", &lit), ("router_settings", &rs)] {
            for (k, _) in &s.rest {
                warnings.push(advise(section, k));
            }
        }
        for (k, set) in [
            ("cache", rs.cache.is_some()),
            ("cache_params", rs.cache_params.is_some()),
            ("success_callback", rs.success_callback.is_some()),
            ("failure_callback", rs.failure_callback.is_some()),
            ("callbacks", rs.callbacks.is_some()),
            ("max_budget", rs.max_budget.is_some()),
            ("budget_duration", rs.budget_duration.is_some()),
            ("set_verbose", rs.set_verbose.is_some()),
            (
                "turn_off_message_logging",
                rs.turn_off_message_logging.is_some(),
            ),
        ] {
            if set {
                warnings.push(format!(
                    "'router_settings.{k}' is read from litellm_settings; ignored (move it there)"
                ));
            }
        }

        // Settings that act on the deployments (router_settings wins).
        if let Some(drop) = rs.drop_params.take().or(lit.drop_params.take()) {
            for d in &mut deployments {
                d.drop_params = d.drop_params.or(Some(drop));
            }
        }
        if let Some(n) = rs
            .default_max_parallel_requests
            .take()
            .or(lit.default_max_parallel_requests.take())
        {
            for d in &mut deployments {
                d.max_parallel_requests = d.max_parallel_requests.or(Some(n));
            }
        }
        // Router-wide call defaults, under each deployment's own.
        let (section, params) = match (
            rs.default_litellm_params.take(),
            lit.default_litellm_params.take(),
        ) {
            (Some(p), _) => ("router_settings", p),
            (None, Some(p)) => ("litellm_settings", p),
            (None, None) => ("router_settings", BTreeMap::new()),
        };
        for (k, v) in params {
            let at = format!("{section}.default_litellm_params.{k}");
            if !CALL_DEFAULTS.contains(&k.as_str()) {
                warnings.push(format!(
                    "'{at}' is not a call parameter this crate can default (set deployment \
                     settings on each model_list entry); ignored{}",
                    did_you_mean(&k, CALL_DEFAULTS.iter().copied())
                ));
                continue;
            }
            let value = call_default(&at, v, &resolve)?;
            for d in &mut deployments {
                d.defaults.entry(k.clone()).or_insert_with(|| value.clone());
            }
        }
        if rs
            .tag_filtering_match_any
            .take()
            .or(lit.tag_filtering_match_any.take())
            == Some(false)
        {
            warnings.push(
                "'router_settings.tag_filtering_match_any: false' is not supported: tag \
                 filtering takes deployments with any of the call's tags; ignored"
                    .into(),
            );
        }

        let client = Client::builder().env_lookup(lookup_env.clone()).build()?;
        let mut b = Router::builder().client(client);
        b = routing(b, &mut lit, &mut rs, &mut warnings)?;
        if let Some(budget) = retry_budget(&mut lit, &mut rs)? {
            b = b.retry_budget(budget);
        }
        // litellm_settings first, router_settings override.
        b = apply(b, "litellm_settings", lit.router_part())?;
        b = apply(b, "router_settings", rs.router_part())?;

        // litellm_settings' own keys.
        if let Some(cache) = cache(&mut lit, &mut warnings)? {
            b = b.cache(cache);
        }
        let (metrics, callbacks) = callbacks(&mut lit, &lookup_env, &mut warnings)?;
        if let Some(m) = &metrics {
            b = b.metrics(m.clone());
        }
        for c in callbacks {
            b = b.callback(c);
        }
        let ledger =
            budget(&mut lit, &mut warnings)?.map(|budget| Arc::new(Ledger::new().budget(budget)));
        if let Some(l) = &ledger {
            b = b.ledger(l.clone());
        }
        if lit.set_verbose == Some(true) {
            b = b.log_level(LogLevel::Detailed);
        }
        // `turn_off_message_logging`: messages reach callbacks only with
        // `detailed_callbacks(true)`, which a config never turns on.

        b = b.deployments(deployments);
        for w in &warnings {
            tracing::warn!("{w}");
        }
        Ok(RouterConfig {
            builder: b,
            metrics,
            ledger,
            warnings,
        })
    }

    /// Reads and parses a config file (refusing one larger than [`MAX_CONFIG_BYTES`] without
    /// reading it all).
    pub fn from_file(path: impl AsRef<Path>) -> Result<RouterConfig> {
        let path = path.as_ref();
        let cannot =
            |e: std::io::Error| config_error(format!("cannot read config {}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(cannot)?;
        let mut text = String::new();
        file.take(MAX_CONFIG_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(cannot)?;
        RouterConfig::from_yaml_str(&text)
    }

    /// The Prometheus registry the config asked for (`prometheus` among its callbacks), to
    /// serve with [`Metrics::render`] from your HTTP server; `None` when it asked for none.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    /// The ledger holding the config's global budget (`litellm_settings.max_budget` and
    /// `budget_duration`), to read its state ([`Ledger::budgets_status`]); `None` when the
    /// config sets no budget. Giving the builder another ledger
    /// ([`RouterBuilder::ledger`]) replaces this one, budget included.
    pub fn ledger(&self) -> Option<&Arc<Ledger>> {
        self.ledger.as_ref()
    }

    /// The router builder the config describes, to adjust before building.
    pub fn into_builder(self) -> RouterBuilder {
        self.builder
    }

    /// Builds the router.
    pub fn build(self) -> Result<Router> {
        self.builder.build()
    }
}

/// One `model_list` entry → a deployment.
fn deployment(
    i: usize,
    entry: ModelEntry,
    resolve: &impl Fn(&str, String) -> Result<String>,
    warnings: &mut Vec<String>,
) -> Result<Deployment> {
    let at = |k: &str| format!("model_list[{i}].{k}");
    let key = |k: &str| format!("model_list[{i}].litellm_params.{k}");
    for (k, _) in &entry.rest {
        warnings.push(format!(
            "'{}' is not a key of a model_list entry; ignored{}",
            at(k),
            did_you_mean(k, ENTRY_KEYS.iter().copied())
        ));
    }
    let name = entry
        .model_name
        .ok_or_else(|| config_error(format!("{}: missing", at("model_name"))))?;
    let p = entry
        .litellm_params
        .ok_or_else(|| config_error(format!("{}: missing", at("litellm_params"))))?;
    let mut model = p.model.ok_or_else(|| {
        config_error(format!(
            "{}: missing (the provider model, e.g. openai/gpt-4o)",
            key("model")
        ))
    })?;
    if let Some(provider) = p.custom_llm_provider.filter(|s| !s.trim().is_empty()) {
        let provider = provider.trim();
        if !model.starts_with(&format!("{provider}/")) {
            model = format!("{provider}/{model}");
        }
    }
    let mut d = Deployment::new(name, model);
    if let Some(k) = p.api_key {
        d.api_key = Some(SecretString::new(resolve(&key("api_key"), k)?));
    }
    if let Some(b) = p.api_base.or(p.base_url) {
        d.api_base = Some(resolve(&key("api_base"), b)?);
    }
    if let Some(v) = p.api_version {
        d.api_version = Some(resolve(&key("api_version"), v)?);
    }
    if let Some(w) = p.weight {
        if !(w.is_finite() && w >= 0.0) {
            return Err(config_error(format!(
                "{}: {w} is not a weight ≥ 0",
                key("weight")
            )));
        }
        d.weight = Some(w);
    }
    d.order = p.order;
    d.timeout = seconds(&key("timeout"), p.timeout)?;
    d.stream_timeout = seconds(&key("stream_timeout"), p.stream_timeout)?;
    d.max_parallel_requests = p.max_parallel_requests;
    d.tags = p.tags.unwrap_or_default();
    d.mock_response = p.mock_response.map(Into::into);
    d.drop_params = p.drop_params;
    for (n, v) in p.extra_headers.into_iter().chain(p.headers).flatten() {
        d.headers.push((n, resolve(&key("extra_headers"), v)?));
    }
    if let Some(org) = p.organization {
        d.headers.push((
            "openai-organization".into(),
            resolve(&key("organization"), org)?,
        ));
    }
    let price = |k: &str, v: Option<f64>| -> Result<Option<f64>> {
        match v {
            Some(x) if !(x.is_finite() && x >= 0.0) => Err(config_error(format!(
                "{k}: {x} is not a price in USD per token ≥ 0"
            ))),
            v => Ok(v),
        }
    };
    let mut info = ModelInfo {
        input_cost_per_token: price(&key("input_cost_per_token"), p.input_cost_per_token)?,
        output_cost_per_token: price(&key("output_cost_per_token"), p.output_cost_per_token)?,
        ..ModelInfo::default()
    };
    let (mut info_rpm, mut info_tpm) = (None, None);
    match entry.model_info {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(m)) => {
            let ikey = |k: &str| format!("model_list[{i}].model_info.{k}");
            let int = |k: &str, v: &Value| -> Result<u64> {
                serde_yaml_ng::from_value(v.clone())
                    .map_err(|e| config_error(format!("{}: {e}", ikey(k))))
            };
            let float = |k: &str, v: &Value| -> Result<Option<f64>> {
                let x: f64 = serde_yaml_ng::from_value(v.clone())
                    .map_err(|e| config_error(format!("{}: {e}", ikey(k))))?;
                price(&ikey(k), Some(x))
            };
            let (mut max_input, mut max_tokens) = (None, None);
            for (k, v) in &m {
                let k = key_text(k);
                if !v.is_null() {
                    match k.as_str() {
                        "id" => {
                            d.id = scalar(v)
                                .ok_or_else(|| config_error(format!("{}: not text", ikey("id"))))?
                        }
                        "max_input_tokens" => max_input = Some(int(&k, v)?),
                        "max_tokens" => max_tokens = Some(int(&k, v)?),
                        "max_output_tokens" => info.max_output_tokens = Some(int(&k, v)?),
                        "input_cost_per_token" => {
                            info.input_cost_per_token = info.input_cost_per_token.or(float(&k, v)?)
                        }
                        "output_cost_per_token" => {
                            info.output_cost_per_token =
                                info.output_cost_per_token.or(float(&k, v)?)
                        }
                        "rpm" => info_rpm = Some(int(&k, v)?),
                        "tpm" => info_tpm = Some(int(&k, v)?),
                        _ => {}
                    }
                }
                info.extra.insert(k.clone(), to_json(&ikey(&k), v)?);
            }
            info.max_input_tokens = max_input.or(max_tokens);
        }
        Some(_) => {
            return Err(config_error(format!("{}: not a mapping", at("model_info"))));
        }
    }
    d.model_info = info;
    // As LiteLLM reads them: the entry's own, then litellm_params', then model_info's.
    d.rpm = entry.rpm.or(p.rpm).or(info_rpm);
    d.tpm = entry.tpm.or(p.tpm).or(info_tpm);

    // Call defaults.
    for (k, v) in p.extra_body.into_iter().flatten() {
        d.defaults.insert(k, v);
    }
    // Everything else in litellm_params: call defaults, or provider settings.
    for (k, v) in p.rest {
        let kk = key(&k);
        if v.is_null() {
            continue;
        }
        if CALL_DEFAULTS.contains(&k.as_str()) {
            let value = call_default(&kk, v, resolve)?;
            d.defaults.insert(k, value);
            continue;
        }
        let note = match k.as_str() {
            "stream" => Some("set it per call (Router::chat_stream streams)"),
            "stream_options" => Some("streams always ask for usage where the vendor gives it"),
            "metadata" => Some("metadata is per call (ChatRequest::metadata), never sent"),
            "num_retries" | "max_retries" => Some(
                "the router's num_retries / retry_policy apply to every deployment (a call can \
                 set its own num_retries)",
            ),
            "max_budget" | "budget_duration" => Some(
                "per-deployment budgets are not built in; add a ledger Budget with \
                 Scope::Model for the model group (RouterBuilder::ledger)",
            ),
            "litellm_credential_name" => {
                Some("credential lists belong to the gateway; give api_key here")
            }
            "model_info" => Some("model_info is a key of the entry, next to litellm_params"),
            _ => None,
        };
        if let Some(note) = note {
            warnings.push(format!("'{kk}' is not supported: {note}; ignored"));
            continue;
        }
        match scalar(&v) {
            Some(s) => {
                let hint = did_you_mean(&k, DEPLOYMENT_KEYS.iter().chain(CALL_DEFAULTS).copied());
                if !hint.is_empty() {
                    warnings.push(format!(
                        "'{kk}' is not a key this crate knows{hint} (passed to the provider \
                         as a setting)"
                    ));
                }
                d.params.push((k, SecretString::new(resolve(&kk, s)?)));
            }
            None => warnings.push(format!(
                "'{kk}': only text, number or boolean values are passed to the provider (send \
                 structured body fields with litellm_params.extra_body or \
                 Deployment::default_param); ignored"
            )),
        }
    }
    Ok(d)
}

impl Settings {
    /// The router keys only (taken out).
    fn router_part(&mut self) -> Settings {
        Settings {
            num_retries: self.num_retries.take(),
            retry_policy: self.retry_policy.take(),
            retry_after: self.retry_after.take(),
            allowed_fails: self.allowed_fails.take(),
            allowed_fails_policy: self.allowed_fails_policy.take(),
            cooldown_time: self.cooldown_time.take(),
            disable_cooldowns: self.disable_cooldowns.take(),
            timeout: self.timeout.take(),
            request_timeout: self.request_timeout.take(),
            stream_timeout: self.stream_timeout.take(),
            fallbacks: self.fallbacks.take(),
            context_window_fallbacks: self.context_window_fallbacks.take(),
            content_policy_fallbacks: self.content_policy_fallbacks.take(),
            default_fallbacks: self.default_fallbacks.take(),
            max_fallbacks: self.max_fallbacks.take(),
            max_attempts_per_call: self.max_attempts_per_call.take(),
            enable_pre_call_checks: self.enable_pre_call_checks.take(),
            enable_tag_filtering: self.enable_tag_filtering.take(),
            model_group_alias: self.model_group_alias.take(),
            ..Settings::default()
        }
    }
}

/// `routing_strategy` and `routing_strategy_args` (router_settings wins): every argument is
/// applied or warned about.
fn routing(
    mut b: RouterBuilder,
    lit: &mut Settings,
    rs: &mut Settings,
    warnings: &mut Vec<String>,
) -> Result<RouterBuilder> {
    let strategy = match (rs.routing_strategy.take(), lit.routing_strategy.take()) {
        (Some(name), _) => Some(("router_settings", name)),
        (None, Some(name)) => Some(("litellm_settings", name)),
        (None, None) => None,
    };
    let mut strategy =
        match strategy {
            Some((section, name)) => Some(RoutingStrategy::parse(&name).map_err(|e| {
                config_error(format!("{section}.routing_strategy: {}", e.message()))
            })?),
            None => None,
        };
    let (section, args) = match (
        rs.routing_strategy_args.take(),
        lit.routing_strategy_args.take(),
    ) {
        (Some(a), _) => ("router_settings", a),
        (None, Some(a)) => ("litellm_settings", a),
        (None, None) => ("router_settings", BTreeMap::new()),
    };
    let name = strategy
        .as_ref()
        .map_or("simple-shuffle", RoutingStrategy::name);
    for (k, v) in args {
        let at = format!("{section}.routing_strategy_args.{k}");
        match (k.as_str(), &mut strategy) {
            ("lowest_latency_buffer", Some(RoutingStrategy::LatencyBased { buffer })) => {
                match v.as_f64() {
                    Some(x) if x.is_finite() && x >= 0.0 => *buffer = x,
                    _ => {
                        return Err(config_error(format!(
                            "{at}: {} is not a fraction ≥ 0 (e.g. 0.1 for 10 %)",
                            key_text(&v)
                        )));
                    }
                }
            }
            ("lowest_latency_buffer", _) => warnings.push(format!(
                "'{at}' applies to latency-based-routing, not {name}; ignored"
            )),
            ("ttl" | "max_latency_list_size", Some(RoutingStrategy::LatencyBased { .. })) => {
                warnings.push(format!(
                    "'{at}' is not supported: latency-based routing keeps a moving average \
                     (EWMA, α = 0.3) of each deployment's recent calls, with no sample list or \
                     expiry; ignored"
                ))
            }
            ("ttl", Some(RoutingStrategy::UsageBased)) => warnings.push(format!(
                "'{at}' is not supported: usage-based routing counts tokens per calendar \
                 minute; ignored"
            )),
            _ => warnings.push(format!(
                "'{at}' is not an argument of {name} this crate reads; ignored (only \
                 latency-based-routing takes lowest_latency_buffer)"
            )),
        }
    }
    if let Some(s) = strategy {
        b = b.routing_strategy(s);
    }
    Ok(b)
}

fn apply(mut b: RouterBuilder, section: &str, s: Settings) -> Result<RouterBuilder> {
    let key = |k: &str| format!("{section}.{k}");
    if let Some(n) = s.num_retries {
        b = b.num_retries(n);
    }
    if let Some(p) = s.retry_policy {
        let policy = policy(&key("retry_policy"), p, RetryPolicy::set_litellm)?;
        b = b.retry_policy(policy);
    }
    if let Some(d) = seconds(&key("retry_after"), s.retry_after)? {
        b = b.retry_after(d);
    }
    if let Some(n) = s.allowed_fails {
        b = b.allowed_fails(n);
    }
    if let Some(p) = s.allowed_fails_policy {
        let policy = policy(
            &key("allowed_fails_policy"),
            p,
            AllowedFailsPolicy::set_litellm,
        )?;
        b = b.allowed_fails_policy(policy);
    }
    if let Some(d) = seconds(&key("cooldown_time"), s.cooldown_time)? {
        b = b.cooldown_time(d);
    }
    if let Some(off) = s.disable_cooldowns {
        b = b.disable_cooldowns(off);
    }
    if let Some(d) = seconds(&key("timeout"), s.timeout.or(s.request_timeout))? {
        b = b.timeout(d);
    }
    if let Some(d) = seconds(&key("stream_timeout"), s.stream_timeout)? {
        b = b.stream_timeout(d);
    }
    let general = chains(&key("fallbacks"), s.fallbacks)?;
    let context = chains(&key("context_window_fallbacks"), s.context_window_fallbacks)?;
    let policy = chains(&key("content_policy_fallbacks"), s.content_policy_fallbacks)?;
    if !general.is_empty()
        || !context.is_empty()
        || !policy.is_empty()
        || s.default_fallbacks.is_some()
    {
        b = b.fallbacks(Fallbacks {
            general,
            context_window: context,
            content_policy: policy,
            default: s.default_fallbacks.unwrap_or_default(),
        });
    }
    if let Some(n) = s.max_fallbacks {
        b = b.max_fallbacks(n);
    }
    match s.max_attempts_per_call {
        Some(0) => {
            return Err(config_error(format!(
                "{}: 0 allows no attempt; give at least 1",
                key("max_attempts_per_call")
            )));
        }
        Some(n) => b = b.max_attempts_per_call(n),
        None => {}
    }
    if let Some(on) = s.enable_pre_call_checks {
        b = b.enable_pre_call_checks(on);
    }
    if let Some(on) = s.enable_tag_filtering {
        b = b.enable_tag_filtering(on);
    }
    for (alias, target) in s.model_group_alias.unwrap_or_default() {
        // Either a name, or {model: name, hidden: bool}.
        let name = match &target {
            Value::String(n) => n.clone(),
            Value::Mapping(m) => m
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    config_error(format!(
                        "{}: '{alias}' needs a model",
                        key("model_group_alias")
                    ))
                })?,
            _ => {
                return Err(config_error(format!(
                    "{}: '{alias}' must name a model group",
                    key("model_group_alias")
                )));
            }
        };
        b = b.model_group_alias(alias, name);
    }
    Ok(b)
}

/// `retry_budget` (router_settings wins; this crate's own key): a mapping of `ttl` (seconds),
/// `min_per_sec` and `retry_percent`, each defaulting to [`RetryBudget::default`]'s; `true`
/// for the defaults; `false` or nothing for no budget.
fn retry_budget(lit: &mut Settings, rs: &mut Settings) -> Result<Option<RetryBudget>> {
    let (section, v) = match (rs.retry_budget.take(), lit.retry_budget.take()) {
        (Some(v), _) => ("router_settings", v),
        (None, Some(v)) => ("litellm_settings", v),
        (None, None) => return Ok(None),
    };
    let at = format!("{section}.retry_budget");
    let m = match v {
        Value::Null | Value::Bool(false) => return Ok(None),
        Value::Bool(true) => return Ok(Some(RetryBudget::default())),
        Value::Mapping(m) => m,
        other => {
            return Err(config_error(format!(
                "{at}: {} is not a mapping ({{ttl: 10, min_per_sec: 10, retry_percent: 0.2}}), \
                 true or false",
                key_text(&other)
            )));
        }
    };
    let d = RetryBudget::default();
    let (mut ttl, mut min_per_sec, mut retry_percent) =
        (d.ttl(), d.min_per_sec(), d.retry_percent());
    const KEYS: [&str; 3] = ["ttl", "min_per_sec", "retry_percent"];
    for (k, v) in m {
        let k = key_text(&k);
        let at = format!("{at}.{k}");
        match k.as_str() {
            "ttl" => {
                ttl = seconds(&at, v.as_f64())?.ok_or_else(|| {
                    config_error(format!("{at}: {} is not a number of seconds", key_text(&v)))
                })?;
            }
            "min_per_sec" => {
                min_per_sec = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        config_error(format!(
                            "{at}: {} is not a whole number of retries a second",
                            key_text(&v)
                        ))
                    })?;
            }
            "retry_percent" => {
                retry_percent = v.as_f64().ok_or_else(|| {
                    config_error(format!(
                        "{at}: {} is not a fraction (e.g. 0.2 for 20 %)",
                        key_text(&v)
                    ))
                })?;
            }
            _ => {
                return Err(config_error(format!(
                    "'{at}' is not a retry budget setting (ttl, min_per_sec, retry_percent){}",
                    did_you_mean(&k, KEYS)
                )));
            }
        }
    }
    RetryBudget::new(ttl, min_per_sec, retry_percent)
        .map(Some)
        .map_err(|e| config_error(format!("{section}.{}", e.message())))
}

/// `litellm_settings.cache` / `cache_params` → the in-memory response cache (`type: local`,
/// the default here); other backends are warned about and leave the cache off.
fn cache(lit: &mut Settings, warnings: &mut Vec<String>) -> Result<Option<CacheConfig>> {
    let params = lit.cache_params.take().unwrap_or_default();
    if lit.cache.take() != Some(true) {
        if !params.is_empty() {
            warnings.push(
                "'litellm_settings.cache_params' has no effect without 'cache: true'; ignored"
                    .into(),
            );
        }
        return Ok(None);
    }
    let at = |k: &str| format!("litellm_settings.cache_params.{k}");
    let kind = match params.get("type") {
        None | Some(Value::Null) => "local".to_owned(),
        Some(v) => scalar(v).unwrap_or_default(),
    };
    if kind != "local" {
        warnings.push(format!(
            "'{}: {kind}' is not built in (only the in-memory cache is; Redis comes in a later \
             version): the response cache stays off. Use type: local, or give \
             RouterBuilder::cache a CacheConfig over your own litellm::cache::Cache backend",
            at("type")
        ));
        return Ok(None);
    }
    if let Some(mode) = params.get("mode").and_then(scalar)
        && mode == "default_off"
    {
        warnings.push(format!(
            "'{}: default_off' (caching opted into per call) is not supported: the response \
             cache stays off. Turn it on with RouterBuilder::cache and opt calls out with \
             ChatRequest::no_cache / no_store",
            at("mode")
        ));
        return Ok(None);
    }
    let mut memory = MemoryCache::builder();
    let mut calls = None;
    for (k, v) in &params {
        let num = |v: &Value| -> Result<f64> {
            v.as_f64()
                .ok_or_else(|| config_error(format!("{}: {} is not a number", at(k), key_text(v))))
        };
        match k.as_str() {
            "type" | "mode" => {}
            "ttl" | "default_in_memory_ttl" => {
                // default_in_memory_ttl wins over ttl (both seconds).
                if k == "ttl" && params.contains_key("default_in_memory_ttl") {
                    continue;
                }
                if let Some(d) = seconds(&at(k), Some(num(v)?))? {
                    memory = memory.default_ttl(d);
                }
            }
            "max_size_in_memory" => {
                let n = num(v)?;
                if !(n.is_finite() && n >= 1.0) {
                    return Err(config_error(format!("{}: {n} is not a count ≥ 1", at(k))));
                }
                memory = memory.max_entries(n as u64);
            }
            "supported_call_types" => {
                let mut c = CachedCalls::none();
                let mut other = Vec::new();
                for t in v.as_sequence().into_iter().flatten().filter_map(scalar) {
                    match t.as_str() {
                        "completion" | "acompletion" => c.chat = true,
                        "embedding" | "aembedding" => c.embeddings = true,
                        "text_completion" | "atext_completion" => c.text = true,
                        _ => other.push(t),
                    }
                }
                if !other.is_empty() {
                    warnings.push(format!(
                        "'{}': {} are not cached by this crate (it caches completion, embedding \
                         and text_completion); ignored",
                        at(k),
                        other.join(", ")
                    ));
                }
                calls = Some(c);
            }
            "default_in_redis_ttl"
            | "host"
            | "port"
            | "password"
            | "username"
            | "namespace"
            | "redis_startup_nodes"
            | "ssl"
            | "url" => warnings.push(format!(
                "'{}' applies to a Redis cache; ignored with type: local (a call can set its \
                 own namespace with ChatRequest::cache_namespace)",
                at(k)
            )),
            _ => warnings.push(format!(
                "'{}' is not a setting of the in-memory cache; ignored (configure \
                 litellm::cache::MemoryCache::builder in code for more)",
                at(k)
            )),
        }
    }
    let mut config = CacheConfig::new(memory.build());
    if let Some(c) = calls {
        config = config.calls(c);
    }
    Ok(Some(config))
}

/// A callback to add to the router.
type CallbackRef = Arc<dyn crate::observe::Callback>;

/// `success_callback` / `failure_callback` / `callbacks` → the crate's metrics and webhook;
/// every other name is warned about, naming the Rust way to get it.
fn callbacks(
    lit: &mut Settings,
    lookup_env: &impl Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<(Option<Metrics>, Vec<CallbackRef>)> {
    let mut metrics = None;
    let mut webhook_hooks: Vec<Hook> = Vec::new();
    let mut webhook_key = "";
    for (key, value, hooks) in [
        (
            "success_callback",
            lit.success_callback.take(),
            &[Hook::Success][..],
        ),
        (
            "failure_callback",
            lit.failure_callback.take(),
            &[Hook::Failure][..],
        ),
        (
            "callbacks",
            lit.callbacks.take(),
            &[Hook::Success, Hook::Failure][..],
        ),
    ] {
        for name in callback_names(key, value, warnings) {
            let at = format!("'litellm_settings.{key}: {name}'");
            match name.trim().to_ascii_lowercase().as_str() {
                "prometheus" => {
                    metrics.get_or_insert_with(Metrics::new);
                }
                "generic_api" | "generic" | "custom_callback_api" => {
                    webhook_key = key;
                    for h in hooks {
                        if !webhook_hooks.contains(h) {
                            webhook_hooks.push(*h);
                        }
                    }
                }
                "otel" | "opentelemetry" | "arize" | "arize_phoenix" | "langtrace" | "logfire" => {
                    warnings.push(format!(
                        "{at} is not built in: every call is a `tracing` span (target \
                         \"litellm\"); export them with a tracing-opentelemetry layer, or \
                         implement litellm::observe::Callback and add it with \
                         RouterBuilder::callback; ignored"
                    ))
                }
                n if n.contains('.') => warnings.push(format!(
                    "{at} is a Python class: implement litellm::observe::Callback in Rust and add \
                     it with RouterBuilder::callback; ignored"
                )),
                _ => warnings.push(format!(
                    "{at} is not built in: implement litellm::observe::Callback and add it with \
                     RouterBuilder::callback, or send events to the service's HTTP intake with \
                     litellm::observe::Webhook; ignored"
                )),
            }
        }
    }
    let mut out: Vec<CallbackRef> = Vec::new();
    if !webhook_hooks.is_empty() {
        match lookup_env("GENERIC_LOGGER_ENDPOINT").filter(|s| !s.trim().is_empty()) {
            None => warnings.push(format!(
                "'litellm_settings.{webhook_key}: generic_api' needs GENERIC_LOGGER_ENDPOINT (in \
                 environment_variables or the environment); no webhook added"
            )),
            Some(url) => {
                let mut wb = Webhook::builder(url.trim()).hooks(&webhook_hooks);
                for (n, v) in lookup_env("GENERIC_LOGGER_HEADERS")
                    .map(|h| generic_headers(&h))
                    .unwrap_or_default()
                {
                    wb = wb.header(n, v);
                }
                let hook = wb.build().map_err(|e| {
                    config_error(format!(
                        "litellm_settings.{webhook_key}: generic_api (GENERIC_LOGGER_ENDPOINT / \
                         GENERIC_LOGGER_HEADERS): {}",
                        e.message()
                    ))
                })?;
                out.push(Arc::new(hook));
            }
        }
    }
    Ok((metrics, out))
}

/// `max_budget` / `budget_duration` → a global budget (`max_budget: 0`, LiteLLM's default, is
/// none).
fn budget(lit: &mut Settings, warnings: &mut Vec<String>) -> Result<Option<Budget>> {
    let max = lit.max_budget.take();
    let duration = lit.budget_duration.take().filter(|v| !v.is_null());
    let max = match max {
        Some(m) if !(m.is_finite() && m >= 0.0) => {
            return Err(config_error(format!(
                "litellm_settings.max_budget: {m} is not an amount of USD ≥ 0"
            )));
        }
        Some(m) if m > 0.0 => m,
        _ => {
            if duration.is_some() {
                warnings.push(
                    "'litellm_settings.budget_duration' has no effect without a max_budget > 0; \
                     ignored"
                        .into(),
                );
            }
            return Ok(None);
        }
    };
    let period = match duration {
        None => Period::Lifetime,
        Some(v) => {
            let text = scalar(&v).unwrap_or_else(|| key_text(&v));
            budget_period(&text)
                .map_err(|e| config_error(format!("litellm_settings.budget_duration: {e}")))?
        }
    };
    Ok(Some(Budget::new(Scope::Global, max, period)))
}

impl Router {
    /// A router from a Python LiteLLM `config.yaml` text (see [`crate::config`]).
    pub fn from_yaml_str(yaml: &str) -> Result<Router> {
        RouterConfig::from_yaml_str(yaml)?.build()
    }

    /// A router from a Python LiteLLM `config.yaml` file.
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Router> {
        RouterConfig::from_file(path)?.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key_and_line() {
        let e = RouterConfig::from_yaml_str("model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\n      rpm: lots\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.message().contains("rpm") && e.message().contains("line 5"),
            "{e}"
        );
        let e = RouterConfig::from_yaml_str("router_settings:\n  routing_strategy: fastest\n")
            .unwrap_err();
        assert!(e.message().contains("routing_strategy"), "{e}");
        let e = RouterConfig::from_yaml_str("model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\n      timeout: -3\n").unwrap_err();
        assert!(
            e.message().contains("model_list[0].litellm_params.timeout"),
            "{e}"
        );
        let e = RouterConfig::from_yaml_str("model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\n      api_key: os.environ/LITELLM_TEST_SURELY_UNSET_VAR\n").unwrap_err();
        assert!(e.message().contains("LITELLM_TEST_SURELY_UNSET_VAR"), "{e}");
        let e = RouterConfig::from_yaml_str(
            "model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\n      temperature: 0.1\n      temperature: 0.2\n",
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    }

    #[test]
    fn empty_and_comment_only_configs_are_empty() {
        for yaml in ["", "\n", "# nothing yet\n", "model_list:\n", "---\n"] {
            let cfg = RouterConfig::from_yaml_str(yaml).unwrap();
            assert!(cfg.warnings.is_empty(), "{yaml:?}: {:?}", cfg.warnings);
        }
    }

    #[test]
    fn depth_prescan() {
        let ok = |t: &str| check_size_and_depth(t).is_ok();
        let nested = |n: usize| {
            (0..n)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>()
        };
        assert!(ok(&nested(60)));
        assert!(!ok(&nested(70)));
        assert!(ok(&format!("a: {}{}", "[".repeat(60), "]".repeat(60))));
        assert!(!ok(&"[".repeat(200_000)));
        assert!(!ok(&"{a: ".repeat(100)));
        assert!(!ok(&"- ".repeat(100)));
        // Brackets inside quotes, comments, plain scalars and block scalars do not count.
        let quiet = format!(
            "a: '{0}'\nb: \"{0}\\\"{0}\"\nc: x{0}\n# {0}\nd: |\n  {0}\n    {1}\ne: 1 # {0}\n",
            "[".repeat(100),
            "{".repeat(100)
        );
        assert!(ok(&quiet), "{quiet}");
        // Deep indentation inside a block scalar does not count either.
        let text = format!(
            "prompt: >-\n{}after: 1\n",
            (0..100)
                .map(|i| format!("{}x\n", " ".repeat(i + 2)))
                .collect::<String>()
        );
        assert!(ok(&text));
        assert!(!ok(&" ".repeat(MAX_CONFIG_BYTES + 1)));
    }

    #[test]
    fn budget_durations() {
        for (text, period) in [
            ("30s", Period::Seconds(30)),
            ("60m", Period::Hourly),
            ("15m", Period::Seconds(900)),
            ("1h", Period::Hourly),
            ("24h", Period::Daily),
            ("1d", Period::Daily),
            ("7d", Period::Weekly),
            ("1w", Period::Weekly),
            ("2w", Period::Seconds(14 * 86_400)),
            ("30d", Period::Monthly),
            ("1mo", Period::Monthly),
            ("3d", Period::Seconds(3 * 86_400)),
        ] {
            assert_eq!(budget_period(text), Ok(period), "{text}");
        }
        for bad in [
            "",
            "d",
            "0d",
            "2mo",
            "1y",
            "30",
            "-1d",
            "99999999999999999999999d",
            "18446744073709551615w",
            "１d",
        ] {
            assert!(budget_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generic_logger_headers() {
        assert_eq!(
            generic_headers("Authorization=Bearer x, X-Team = a"),
            vec![
                ("Authorization".to_owned(), "Bearer x".to_owned()),
                ("X-Team".to_owned(), "a".to_owned())
            ]
        );
        assert_eq!(
            generic_headers(r#"{"Authorization": "Bearer x"}"#),
            vec![("Authorization".to_owned(), "Bearer x".to_owned())]
        );
        assert!(generic_headers("junk").is_empty());
    }
}
