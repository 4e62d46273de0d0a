//! [`CallEvent`]: the standard payload every callback, logger and metric sees.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::callback::Hook;
use crate::error::{Error, ErrorKind};
use crate::types::{Message, Metadata, Usage};

/// Which kind of call an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallType {
    /// `chat` / `completion`.
    Chat,
    /// `chat_stream`.
    ChatStream,
    /// `embed` / `embedding`.
    Embedding,
    /// `text_completion`.
    TextCompletion,
}

impl CallType {
    /// A stable name: `chat`, `chat_stream`, `embedding`, `text_completion`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Chat => "chat",
            CallType::ChatStream => "chat_stream",
            CallType::Embedding => "embedding",
            CallType::TextCompletion => "text_completion",
        }
    }
}

/// The failure of a call, as events carry it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EventError {
    /// Error kind.
    pub kind: ErrorKind,
    /// Message (secrets already scrubbed).
    pub message: String,
    /// HTTP status, when there was one.
    pub status: Option<u16>,
}

impl From<&Error> for EventError {
    fn from(e: &Error) -> Self {
        EventError {
            kind: e.kind(),
            message: e.message().to_owned(),
            status: e.status(),
        }
    }
}

impl Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Everything known about one call (a client call, or a whole routed call with its retries and
/// fallbacks). Messages and response are only filled at the detailed level.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CallEvent {
    /// A unique id of this call.
    pub call_id: String,
    /// Which kind of call.
    pub call_type: CallType,
    /// The model the caller asked for (a group, alias or model string).
    pub model: String,
    /// The router group that answered, when routed.
    pub model_group: Option<String>,
    /// The deployment that answered, when routed.
    pub deployment_id: Option<String>,
    /// Provider prefix that answered (`"openai"`, …), when known.
    pub provider: Option<String>,
    /// Model id the provider was called with, when known.
    pub provider_model: Option<String>,
    /// When the call started (serialized as Unix seconds, a float).
    #[serde(serialize_with = "ser::unix_seconds")]
    pub start: SystemTime,
    /// When it ended (for a stream: when the stream ended; serialized as Unix seconds).
    #[serde(serialize_with = "ser::opt_unix_seconds")]
    pub end: Option<SystemTime>,
    /// Total latency (serialized as seconds, a float).
    #[serde(serialize_with = "ser::opt_seconds")]
    pub latency: Option<Duration>,
    /// Time to the first streamed chunk (serialized as seconds, a float).
    #[serde(serialize_with = "ser::opt_seconds")]
    pub time_to_first_token: Option<Duration>,
    /// Tokens used.
    pub usage: Option<Usage>,
    /// Cost in USD, when prices are known.
    pub cost: Option<f64>,
    /// Served from the cache.
    pub cache_hit: bool,
    /// A cache was looked up for this call (so `cache_checked && !cache_hit` is a miss; false
    /// when caching is off for the call).
    pub cache_checked: bool,
    /// Attempts made (retries and fallbacks included).
    pub attempts: u32,
    /// Fallback groups the router moved to, in order (the last one answered or failed last).
    pub fallbacks: Vec<String>,
    /// The vendor's request id, when it sent one.
    pub request_id: Option<String>,
    /// The failure, when the call failed.
    pub error: Option<EventError>,
    /// Who and what the call was for.
    pub metadata: Metadata,
    /// The request's messages (detailed level only).
    pub messages: Option<Vec<Message>>,
    /// The answer as JSON (detailed level only).
    pub response: Option<serde_json::Value>,
}

impl CallEvent {
    /// A new event for a call starting now.
    pub fn new(call_type: CallType, model: impl Into<String>, metadata: Metadata) -> CallEvent {
        CallEvent {
            call_id: new_call_id(),
            call_type,
            model: model.into(),
            model_group: None,
            deployment_id: None,
            provider: None,
            provider_model: None,
            start: SystemTime::now(),
            end: None,
            latency: None,
            time_to_first_token: None,
            usage: None,
            cost: None,
            cache_hit: false,
            cache_checked: false,
            attempts: 0,
            fallbacks: Vec::new(),
            request_id: None,
            error: None,
            metadata,
            messages: None,
            response: None,
        }
    }

    /// True when the call succeeded (so far).
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }

    /// The event as JSON with secrets redacted: every metadata value whose key looks like a
    /// credential (`api_key`, `authorization`, `password`, `secret`, `*token*`, `cookie`,
    /// `access_key`, camelCase forms, …, at any depth) and every string value starting with
    /// `Bearer ` or `Basic ` becomes `"[REDACTED]"`. This is what the built-in loggers and the
    /// webhook write.
    ///
    /// ```
    /// use litellm::Metadata;
    /// use litellm::observe::{CallEvent, CallType};
    ///
    /// let meta = Metadata::new().user("u1").value("api_key", "sk-live-123");
    /// let event = CallEvent::new(CallType::Chat, "gpt-4o", meta);
    /// let json = event.to_redacted_json();
    /// assert_eq!(json["metadata"]["values"]["api_key"], "[REDACTED]");
    /// assert_eq!(json["metadata"]["user"], "u1");
    /// ```
    pub fn to_redacted_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(values) = v.get_mut("metadata").and_then(|m| m.get_mut("values")) {
            redact_value(values);
        }
        v
    }

    /// [`to_redacted_json`](Self::to_redacted_json) plus a `"hook"` field naming `hook`: what
    /// the JSON-lines logger writes and the webhook sends.
    pub(crate) fn to_hook_json(&self, hook: Hook) -> serde_json::Value {
        let mut json = self.to_redacted_json();
        if let Some(map) = json.as_object_mut() {
            map.insert("hook".to_owned(), hook.as_str().into());
        }
        json
    }
}

pub(crate) use crate::redact::redact_json as redact_value;

/// A unique call id: `call-` and 24 hex digits (time and a random part).
pub(crate) fn new_call_id() -> String {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    format!(
        "call-{t:012x}{:012x}",
        rand::random::<u64>() & 0xffff_ffff_ffff
    )
}

/// Serializers for times: Unix seconds and durations as float seconds, like Python LiteLLM's
/// standard logging payload.
mod ser {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::Serializer;

    fn unix(t: &SystemTime) -> f64 {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        }
    }

    pub(super) fn unix_seconds<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(unix(t))
    }

    pub(super) fn opt_unix_seconds<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&unix(t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn opt_seconds<S: Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::REDACTED;
    use std::time::Duration;

    #[test]
    fn serializes_times_as_seconds() {
        let mut e = CallEvent::new(CallType::ChatStream, "m", Metadata::new());
        e.start = SystemTime::UNIX_EPOCH + Duration::from_millis(1_500);
        e.latency = Some(Duration::from_millis(250));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["start"], 1.5);
        assert_eq!(v["latency"], 0.25);
        assert_eq!(v["end"], serde_json::Value::Null);
        assert_eq!(v["call_type"], "chat_stream");
    }

    #[test]
    fn redacts_nested_credentials_and_bearer_values() {
        let meta = Metadata::new()
            .key("team-a")
            .value("Authorization", "xyz")
            .value("nested", serde_json::json!({"client_secret": "s", "ok": "fine", "list": ["Bearer abc", "plain"]}))
            .value("prompt_tokens", 5)
            .value("refresh-token", "r");
        let e = CallEvent::new(CallType::Chat, "m", meta);
        let v = e.to_redacted_json();
        let values = &v["metadata"]["values"];
        assert_eq!(values["Authorization"], REDACTED);
        assert_eq!(values["nested"]["client_secret"], REDACTED);
        assert_eq!(values["nested"]["ok"], "fine");
        assert_eq!(values["nested"]["list"][0], REDACTED);
        assert_eq!(values["nested"]["list"][1], "plain");
        assert_eq!(values["prompt_tokens"], 5);
        assert_eq!(values["refresh-token"], REDACTED);
        // Multi-byte text around the 7th byte must not panic.
        let mut s = serde_json::json!("ééééé");
        redact_value(&mut s);
        assert_eq!(s, "ééééé");
        // The caller's own key alias is not a vendor secret: it stays for spend tracking.
        assert_eq!(v["metadata"]["key"], "team-a");
    }
}
