//! [`ResponseMeta`]: what happened during a call. Never part of the OpenAI body.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What happened during a call: who answered, how long it took, what it cost.
///
/// Filled by the client and the router, on every answer (`ChatResponse::meta`,
/// `EmbeddingResponse::meta`, `TextCompletionResponse::meta`, and a stream's
/// `ChatStream::meta`). It is never part of the OpenAI body: serializing a response leaves it
/// out, and decoding one leaves it at its default. To keep it with a stored answer, serialize
/// it as its own value: it is JSON like the [`CallEvent`](crate::observe::CallEvent)'s, with
/// `latency` and `time_to_first_token` in seconds (floats), and every field optional when read
/// back.
///
/// ```
/// # use litellm::{ChatResponse, ResponseMeta};
/// let mut resp = ChatResponse::from_text("gpt-4o-mini", "Hi");
/// resp.meta = ResponseMeta::new("openai", "gpt-4o-mini");
/// resp.meta.cost = Some(0.000_012);
/// let body = serde_json::to_value(&resp).unwrap();
/// assert!(body.get("meta").is_none()); // the OpenAI body has no meta
/// let meta = serde_json::to_string(&resp.meta).unwrap();
/// let back: ResponseMeta = serde_json::from_str(&meta).unwrap();
/// assert_eq!(back, resp.meta);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Attempts made (1 when the first attempt succeeded), across deployments and fallbacks; 0
    /// for an answer served without an upstream call (`cache_hit`).
    pub attempts: u32,
    /// Time from the start of the call to the complete answer (for a stream: to its end, once
    /// collected; until then, to the response headers; for a cache hit, the lookup). Seconds in
    /// JSON.
    #[serde(with = "seconds")]
    pub latency: Duration,
    /// Time from the start of the call to the first streamed chunk. Seconds in JSON.
    #[serde(with = "opt_seconds")]
    pub time_to_first_token: Option<Duration>,
    /// Cost in USD, when the usage and the model's price are known (`Some(0.0)` for a cache
    /// hit). Unrounded; `accounting::format_usd` shows it.
    pub cost: Option<f64>,
    /// True when no upstream call was made for this call: the answer came from the response
    /// cache, or from an identical call in flight at the same time (coalescing).
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

/// A duration as seconds (`f64`) in JSON; a negative number reads as zero and one too large
/// for a `Duration` as `Duration::MAX`.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn from_secs(secs: f64) -> Duration {
        if secs.is_nan() || secs <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
        }
    }

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(from_secs(f64::deserialize(d)?))
    }
}

/// [`seconds`] for an optional duration (`null` when absent).
mod opt_seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.map(super::seconds::from_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChatResponse, EmbeddingResponse, TextCompletionResponse};

    fn full() -> ResponseMeta {
        ResponseMeta {
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            deployment_id: Some("east".into()),
            model_group: Some("chat".into()),
            fallbacks: vec!["gpt-4o".into()],
            attempts: 3,
            latency: Duration::from_micros(1_234_500),
            time_to_first_token: Some(Duration::from_millis(250)),
            cost: Some(0.000_123_456_789),
            cache_hit: true,
            request_id: Some("req_1".into()),
            usage_estimated: true,
        }
    }

    #[test]
    fn round_trips_as_json_with_seconds() {
        let meta = full();
        let v = serde_json::to_value(&meta).unwrap();
        assert_eq!(v["latency"], 1.2345);
        assert_eq!(v["time_to_first_token"], 0.25);
        assert_eq!(v["cost"], 0.000_123_456_789);
        assert_eq!(v["deployment_id"], "east");
        assert_eq!(v["fallbacks"], serde_json::json!(["gpt-4o"]));
        let back: ResponseMeta = serde_json::from_value(v).unwrap();
        assert_eq!(back, meta);
        let none = ResponseMeta::new("mock", "m");
        let back: ResponseMeta =
            serde_json::from_str(&serde_json::to_string(&none).unwrap()).unwrap();
        assert_eq!(back, none);
    }

    #[test]
    fn reads_partial_and_odd_values() {
        let m: ResponseMeta =
            serde_json::from_str(r#"{"provider":"groq","latency":-1,"time_to_first_token":1e300}"#)
                .unwrap();
        assert_eq!(m.provider, "groq");
        assert_eq!(m.latency, Duration::ZERO);
        assert_eq!(m.time_to_first_token, Some(Duration::MAX));
        assert_eq!(m.attempts, 0);
        let m: ResponseMeta = serde_json::from_str("{}").unwrap();
        assert_eq!(m, ResponseMeta::default());
    }

    #[test]
    fn stays_out_of_the_openai_bodies() {
        let mut chat = ChatResponse::from_text("gpt-4o-mini", "hi");
        chat.meta = full();
        let body = serde_json::to_value(&chat).unwrap();
        assert!(
            body.get("meta").is_none() && body.get("latency").is_none(),
            "{body}"
        );
        let decoded: ChatResponse = serde_json::from_value(body).unwrap();
        assert_eq!(decoded.meta, ResponseMeta::default());

        let mut text: TextCompletionResponse = serde_json::from_str(
            r#"{"id":"x","object":"text_completion","created":1,"model":"m","choices":[]}"#,
        )
        .unwrap();
        text.meta = full();
        assert!(serde_json::to_value(&text).unwrap().get("meta").is_none());
        let mut emb: EmbeddingResponse =
            serde_json::from_str(r#"{"object":"list","data":[],"model":"m"}"#).unwrap();
        emb.meta = full();
        assert!(serde_json::to_value(&emb).unwrap().get("meta").is_none());
    }
}
