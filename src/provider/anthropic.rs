//! Anthropic Messages (`anthropic/` prefix): OpenAI-shaped requests translated to
//! `POST {base}/v1/messages` and the answers, streams and errors translated back.
//!
//! Key `ANTHROPIC_API_KEY`, sent as `x-api-key` (or pass an `Authorization: Bearer …` extra
//! header instead of a key); base `ANTHROPIC_API_BASE` (or `ANTHROPIC_BASE_URL`), default
//! `https://api.anthropic.com` (a base ending in `/v1` or `/v1/messages` is used as is).
//! `anthropic-version` is [`DEFAULT_API_VERSION`] unless the call's `api_version` or an
//! `anthropic-version` extra header says otherwise; `anthropic-beta` comes from extra headers
//! and from the provider parameter `anthropic_beta` (comma-separated, appended to the header).
//!
//! Request translation:
//! - `system`/`developer` messages (wherever they are) → top-level `system`: one string, or text
//!   blocks when any part or message carries extra fields such as `cache_control`;
//! - consecutive messages of the same role are merged into one turn (Anthropic needs
//!   alternation); `tool` messages → `tool_result` blocks in a user turn (several → one turn,
//!   results first); a tool message with `"is_error": true` in its extras → `is_error`;
//! - assistant `tool_calls` → `tool_use` blocks with the arguments parsed (invalid JSON or a
//!   non-object is a `BadRequest` naming the call); `thinking_blocks` kept in an assistant
//!   message's extras (as this provider returns them) are sent back first, with their
//!   signatures; `reasoning_content` alone cannot be sent back (no signature) and is dropped;
//! - images: URL → `{"type":"url"}` source, `data:` URL → base64 source with its media type;
//!   PDF and plain-text `file` parts → `document` blocks; audio and uploaded file ids →
//!   `Unsupported`; unknown parts are passed through as native Anthropic blocks;
//! - extra fields on parts (`cache_control`, `citations`) and tools are passed through; a
//!   message-level `cache_control` goes on the message's last block;
//! - tool_choice auto/required/none/named → `auto`/`any`/`none`/`tool`;
//!   `parallel_tool_calls: false` → `disable_parallel_tool_use: true`; tools whose type is not
//!   `function` are passed through as native Anthropic tools (web search, …);
//! - `max_completion_tokens`, else `max_tokens`, else [`DEFAULT_MAX_TOKENS`] → `max_tokens`;
//! - `reasoning_effort` → `thinking: {"type":"enabled","budget_tokens": …}` (see
//!   `thinking_budget`; `none` sends no `thinking`); when thinking is on and the token limit
//!   does not exceed the budget, the budget is added to it, as Anthropic needs
//!   `max_tokens > budget_tokens`;
//! - `response_format: json_schema` → `output_config.format` on models that have structured
//!   outputs, or a forced tool named [`JSON_TOOL_NAME`] on older ones (see
//!   `supports_output_format`; the provider parameter `anthropic_json_mode` = `tool` or
//!   `output_config` overrides); `json_object` always uses the forced tool with an open object
//!   schema. The tool's input comes back as the message's text content;
//! - `stop` → `stop_sequences` (whitespace-only sequences, which Anthropic rejects, are
//!   `Unsupported`); `user` (else `safety_identifier`) → `metadata.user_id`; `service_tier`
//!   `auto`/`default` → `auto`/`standard_only`; `extra_body` keys (`top_k`, `thinking`, …) are
//!   written last and win;
//! - `seed`, `n > 1`, penalties, `logit_bias`, `logprobs`, audio output, `prediction`,
//!   `store`, OpenAI `metadata`, `prompt_cache_key`, `verbosity`, `functions` →
//!   `Unsupported` (dropped with `drop_params`); `web_search_options` → the server
//!   `web_search` tool.
//!
//! Answers: text blocks → `content`, `tool_use` → `tool_calls` (arguments = the input as JSON
//! text), `thinking` → `reasoning_content` and the blocks with their signatures in
//! `message.extra["thinking_blocks"]`; `stop_reason` mapped as in LiteLLM (`end_turn`,
//! `stop_sequence`, `pause_turn` → `stop`; `max_tokens`, `model_context_window_exceeded` →
//! `length`; `tool_use` → `tool_calls`; `refusal` → `content_filter`); usage:
//! `prompt_tokens = input + cache_creation + cache_read`, `cached_tokens = cache_read`,
//! `cache_write_tokens = cache_creation`.
//!
//! Streams: `message_start` → the role chunk; text, thinking and tool-input deltas → content,
//! `reasoning_content` and tool-call argument fragments (index = running tool counter);
//! a finished thinking block → a chunk whose delta carries all `thinking_blocks` so far (so the
//! collected message has them, signatures included); `message_delta` → the finish reason (usage
//! there is cumulative: the last values win); `message_stop` → the usage chunk (`choices: []`).
//! `event: error` is a typed error (`overloaded_error` → `ServiceUnavailable`); a stream that
//! ends before `message_stop` is an `ApiConnection` error.
//!
//! Anthropic has no embeddings: `embed` answers `Unsupported`.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::decode::{ChunkDecoder, DecodedStream, ErrCtx};
use super::error_map::{error_from_json, request_id};
use super::http::{self, Auth, HttpRequest};
use super::sse::{self, SseEvent};
use super::{CallContext, Credentials, Provider};
use crate::error::{Error, ErrorKind, Result};
use crate::types::serde_util::{null_default, opt_count, stringish};
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice, Content, ContentPart, Delta, Extra,
    FileData, FinishReason, FunctionCallDelta, Message, PromptTokensDetails, ReasoningEffort,
    ResponseFormat, ResponseMeta, Role, Tool, ToolCall, ToolCallDelta, ToolChoice, Usage,
};

/// Base URL when neither the call, the client nor the environment sets one.
pub const DEFAULT_API_BASE: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent unless the call sets `api_version` or the header.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

/// `max_tokens` sent when the caller sets neither `max_tokens` nor `max_completion_tokens`
/// (Anthropic requires it; LiteLLM uses the same default).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Name of the tool forced for `response_format` `json_object` (and `json_schema` on models
/// without structured outputs); its input becomes the answer's text (LiteLLM's name).
pub const JSON_TOOL_NAME: &str = "json_tool_call";

/// Key of the thinking blocks (with their signatures) in an assistant message's `extra`, as
/// LiteLLM names it. Sent back to Anthropic when the message is in a later request's history.
pub const THINKING_BLOCKS: &str = "thinking_blocks";

/// The Anthropic Messages provider (prefix `anthropic`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Anthropic;

/// The Messages endpoint for a base URL: `{base}/v1/messages`, or the base itself when it
/// already ends with `/v1/messages`, or `{base}/messages` when it ends with `/v1`.
pub(crate) fn messages_url(base: &str) -> String {
    let (b, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let b = b.trim_end_matches('/');
    let mut url = if b.ends_with("/v1/messages") {
        b.to_owned()
    } else if b.ends_with("/v1") {
        format!("{b}/messages")
    } else {
        format!("{b}/v1/messages")
    };
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// The thinking budget (`budget_tokens`) for a `reasoning_effort`: `minimal` and `low` 1024
/// (Anthropic's minimum), `medium` 2048, `high` 4096 (LiteLLM's values), `xhigh` 8192,
/// `max` 16384; `None` for `none` (no thinking) and unknown values.
pub(crate) fn thinking_budget(effort: &ReasoningEffort) -> Option<u32> {
    match effort {
        ReasoningEffort::Minimal | ReasoningEffort::Low => Some(1024),
        ReasoningEffort::Medium => Some(2048),
        ReasoningEffort::High => Some(4096),
        ReasoningEffort::XHigh => Some(8192),
        ReasoningEffort::Max => Some(16384),
        ReasoningEffort::None | ReasoningEffort::Other(_) => None,
    }
}

/// Whether a model has structured outputs (`output_config.format`): false for the Claude 2 and
/// 3 families and for Claude Sonnet 4 / Opus 4 (4.0), true for everything else, newer and
/// unknown names included.
pub(crate) fn supports_output_format(model: &str) -> bool {
    let m = model.trim().to_ascii_lowercase();
    if m.starts_with("claude-2") || m.starts_with("claude-3") || m.starts_with("claude-instant") {
        return false;
    }
    for family in ["claude-sonnet-4", "claude-opus-4"] {
        if let Some(rest) = m.strip_prefix(family) {
            // `-4`, `-4-0`, `-4-20250514`, `-4@…` are 4.0; `-4-1`, `-4-5`, `-4-5-2025…` are newer.
            let minor: String = rest
                .strip_prefix('-')
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            return !(minor.is_empty() || minor == "0" || minor.len() >= 8);
        }
    }
    true
}

/// Maps an Anthropic `stop_reason` to OpenAI's finish reason (LiteLLM's table, with
/// `pause_turn` → `stop` and `model_context_window_exceeded` → `length`); unknown values are
/// kept in [`FinishReason::Other`].
pub(crate) fn map_stop_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" | "pause_turn" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" | "compaction" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Provider.

/// What the answer decoder must know about how the request was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The JSON tool ([`JSON_TOOL_NAME`]) was offered: its input is the answer's text.
    json_tool: bool,
}

fn has_header(cx: &CallContext, name: &str) -> bool {
    cx.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The headers of a call: JSON, `x-api-key`, `anthropic-version`, `anthropic-beta`, extras.
fn headers(cx: &CallContext, stream: bool) -> Result<HeaderMap> {
    let auth = match &cx.api_key {
        Some(k) if !k.is_empty() => Auth::Header("x-api-key", k.expose()),
        _ if has_header(cx, "authorization") || has_header(cx, "x-api-key") => Auth::None,
        _ => {
            return Err(Error::new(
                ErrorKind::Authentication,
                format!(
                    "no API key for provider '{}': set ANTHROPIC_API_KEY, pass api_key, or send an Authorization header",
                    cx.provider
                ),
            ));
        }
    };
    let mut h = http::json_headers(cx, auth, stream)?;
    if !h.contains_key("anthropic-version") {
        let version = cx.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
        let v = HeaderValue::try_from(version)
            .map_err(|_| Error::bad_request(format!("invalid api_version {version:?}")))?;
        h.insert(HeaderName::from_static("anthropic-version"), v);
    }
    if let Some(beta) = cx.param("anthropic_beta").map(str::trim)
        && !beta.is_empty()
    {
        let merged = match h.get("anthropic-beta").and_then(|v| v.to_str().ok()) {
            Some(existing) if !existing.trim().is_empty() => format!("{existing},{beta}"),
            _ => beta.to_owned(),
        };
        let v = HeaderValue::try_from(merged)
            .map_err(|_| Error::bad_request("invalid anthropic_beta value"))?;
        h.insert(HeaderName::from_static("anthropic-beta"), v);
    }
    Ok(h)
}

#[async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            &["ANTHROPIC_API_KEY"],
            &["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"],
            Some(DEFAULT_API_BASE),
        )
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let (body, plan) = request_body(req, cx, false).map_err(|e| http::finish_error(cx, e))?;
        let headers = headers(cx, false).map_err(|e| http::finish_error(cx, e))?;
        let url = messages_url(cx.require_api_base()?);
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let rid = request_id(resp.headers());
        let bytes = http::read_body(cx, resp).await?;
        let mut out = decode_response(cx, &bytes, plan).map_err(|e| match &rid {
            Some(id) if e.request_id().is_none() => e.with_request_id(id.clone()),
            _ => e,
        })?;
        out.meta.request_id = rid;
        Ok(out)
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let (body, plan) = request_body(req, cx, true).map_err(|e| http::finish_error(cx, e))?;
        let headers = headers(cx, true).map_err(|e| http::finish_error(cx, e))?;
        let url = messages_url(cx.require_api_base()?);
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let mut meta = ResponseMeta::new(cx.provider.clone(), cx.model.clone());
        meta.request_id = request_id(resp.headers());
        if http::is_json(&resp) {
            // The server answered with one JSON message (a mock that ignores `stream`).
            let bytes = http::read_body(cx, resp).await?;
            let mut whole = decode_response(cx, &bytes, plan)?;
            whole.meta = meta;
            return Ok(ChatStream::from_response(&whole));
        }
        let events = sse::events(resp, cx.max_response_bytes);
        Ok(ChatStream::new(
            DecodedStream::new(
                events,
                AnthropicDecoder::new(plan),
                ErrCtx::from(cx).with_request_id(meta.request_id.clone()),
            ),
            meta,
        ))
    }
}

mod request;
mod response;
mod stream;

use request::request_body;
use response::decode_response;
use stream::AnthropicDecoder;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod helper_examples {
    #[test]
    fn messages_url() {
        use crate::provider::anthropic::messages_url;
        assert_eq!(
            messages_url("https://api.anthropic.com"),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(messages_url("http://proxy/v1/"), "http://proxy/v1/messages");
        assert_eq!(
            messages_url("http://proxy/v1/messages?k=1"),
            "http://proxy/v1/messages?k=1"
        );
    }

    #[test]
    fn thinking_budget() {
        use crate::ReasoningEffort;
        use crate::provider::anthropic::thinking_budget;
        assert_eq!(thinking_budget(&ReasoningEffort::Medium), Some(2048));
        assert_eq!(thinking_budget(&ReasoningEffort::None), None);
    }

    #[test]
    fn supports_output_format() {
        use crate::provider::anthropic::supports_output_format;
        assert!(supports_output_format("claude-sonnet-4-5-20250929"));
        assert!(!supports_output_format("claude-sonnet-4-20250514"));
        assert!(!supports_output_format("claude-3-5-haiku-latest"));
    }

    #[test]
    fn map_stop_reason() {
        use crate::FinishReason;
        use crate::provider::anthropic::map_stop_reason;
        assert_eq!(map_stop_reason("tool_use"), FinishReason::ToolCalls);
        assert_eq!(map_stop_reason("refusal"), FinishReason::ContentFilter);
    }
}
