//! [`ResponseMeta`]: what happened during a call. Never part of the OpenAI body.

use std::time::Duration;

/// What happened during a call: who answered, how long it took, what it cost.
///
/// Filled by the client (and, later, the router); skipped when a response is serialized.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// Provider prefix that answered (`"openai"`, `"groq"`, `"mock"`, …).
    pub provider: String,
    /// Model id sent to the provider (without the prefix).
    pub model: String,
    /// Router deployment id, when a router made the call.
    pub deployment_id: Option<String>,
    /// Router model group that answered, when a router made the call.
    pub model_group: Option<String>,
    /// Fallback groups the router moved to, in order (the last one answered); empty when the
    /// requested group answered.
    pub fallbacks: Vec<String>,
    /// Attempts made (1 when the first attempt succeeded), across deployments and fallbacks.
    pub attempts: u32,
    /// Time from the start of the call to the complete answer (for a stream: to its end, once
    /// collected; until then, to the response headers).
    pub latency: Duration,
    /// Time from the start of the call to the first streamed chunk.
    pub time_to_first_token: Option<Duration>,
    /// Cost in USD, when prices are known.
    pub cost: Option<f64>,
    /// True when the answer came from a cache.
    pub cache_hit: bool,
    /// The vendor's request id.
    pub request_id: Option<String>,
    /// The vendor reported no usage, so `usage` was counted with the tokenizers (see
    /// `accounting::tokens`); for a stream, its added usage chunk carries `"estimated": true`.
    pub usage_estimated: bool,
}

impl ResponseMeta {
    /// Meta for a provider and model.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> ResponseMeta {
        ResponseMeta {
            provider: provider.into(),
            model: model.into(),
            attempts: 1,
            ..Default::default()
        }
    }
}
