//! OpenAI and every OpenAI-compatible vendor: the pure translation (request → body, body →
//! response, stream events → chunks) and the [`OpenAiCompatible`] provider that serves each
//! row of the [compat table](super::compat).
//!
//! Normalisation applied to every vendor of the family, so that callers see OpenAI's shapes:
//! - finish reasons: `eos`/`eos_token`/`end_turn`/`stop_sequence` → `stop`, `model_length`/
//!   `max_tokens` → `length`, `tool_use` → `tool_calls`, and `stop` with tool calls →
//!   `tool_calls` (TGI, Ollama);
//! - `reasoning` (vLLM, OpenRouter) → `reasoning_content`;
//! - tool-call fragments without `index`/`type` get their position and `"function"`;
//! - usage: Groq's `x_groq.usage` when the top-level one is missing; DeepSeek's cache hits in
//!   `prompt_tokens_details.cached_tokens`; in streams, usage always arrives as one last chunk
//!   with `choices: []`, whichever chunk the vendor put it on;
//! - a finish reason repeated by the vendor (OpenRouter, some servers) is delivered once.

use std::collections::VecDeque;

use async_trait::async_trait;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use super::compat::{CompatRow, Quirks};
use super::decode::{ChunkDecoder, DecodedStream, ErrCtx};
use super::error_map::error_from_json;
use super::http::{self, Auth, HttpRequest};
use super::sse::{self, SseEvent};
use super::{CallContext, Credentials, Provider};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, ChunkChoice, Content, ContentPart,
    EmbeddingRequest, EmbeddingResponse, FinishReason, Message, ResponseMeta,
    TextCompletionRequest, TextCompletionResponse, ToolChoice, Usage,
};

/// The provider of one OpenAI-compatible vendor (one row of the compat table).
#[derive(Debug, Clone, Copy)]
pub struct OpenAiCompatible {
    row: &'static CompatRow,
}

impl OpenAiCompatible {
    /// The provider for a row of [`COMPAT_PROVIDERS`](super::compat::COMPAT_PROVIDERS).
    pub fn new(row: &'static CompatRow) -> Self {
        OpenAiCompatible { row }
    }

    fn endpoint(&self, cx: &CallContext, path: &str) -> Result<String> {
        let base = cx.require_api_base()?;
        Ok(http::join_url(
            &with_base_path(base, self.row.quirks.base_path),
            path,
        ))
    }

    fn auth<'a>(&self, cx: &'a CallContext) -> Result<Auth<'a>> {
        match &cx.api_key {
            Some(k) if !k.is_empty() => Ok(Auth::Bearer(k.expose())),
            _ if self.row.requires_api_key => cx.require_api_key().map(Auth::Bearer),
            _ => Ok(Auth::None),
        }
    }

    fn model<'a>(&self, cx: &'a CallContext) -> std::borrow::Cow<'a, str> {
        match self.row.quirks.model_prefix {
            Some(prefix) if !cx.model.contains('/') => format!("{prefix}{}", cx.model).into(),
            _ => cx.model.as_str().into(),
        }
    }
}

#[async_trait]
impl Provider for OpenAiCompatible {
    fn name(&self) -> &str {
        self.row.prefix
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            requires_api_key: self.row.requires_api_key,
            requires_api_base: true,
            env_headers: self.row.env_headers,
            ..Credentials::new(
                self.row.api_key_env,
                self.row.api_base_env,
                self.row.default_api_base,
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        check_supported(req, self.row.quirks.unsupported, cx)?;
        let url = self.endpoint(cx, "chat/completions")?;
        let auth = self.auth(cx)?;
        let model = self.model(cx);
        chat(cx, url, auth, &model, &self.row.quirks, req).await
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        check_supported(req, self.row.quirks.unsupported, cx)?;
        let url = self.endpoint(cx, "chat/completions")?;
        let auth = self.auth(cx)?;
        let model = self.model(cx);
        chat_stream(cx, url, auth, &model, &self.row.quirks, req).await
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let url = self.endpoint(cx, "embeddings")?;
        let auth = self.auth(cx)?;
        let model = self.model(cx);
        embed(cx, url, auth, &model, req).await
    }

    async fn text_completion(
        &self,
        req: &TextCompletionRequest,
        cx: &CallContext,
    ) -> Result<TextCompletionResponse> {
        if !self.row.quirks.legacy_completions {
            return super::text_completion_via_chat(self, req, cx).await;
        }
        let url = self.endpoint(cx, "completions")?;
        let auth = self.auth(cx)?;
        let model = self.model(cx);
        text_completion(cx, url, auth, &model, req).await
    }
}

/// Whether a body field of the chat request is set.
pub(crate) fn field_is_set(r: &ChatRequest, name: &str) -> bool {
    match name {
        "logit_bias" => r.logit_bias.is_some(),
        "logprobs" => r.logprobs.is_some(),
        "top_logprobs" => r.top_logprobs.is_some(),
        "user" => r.user.is_some(),
        "store" => r.store.is_some(),
        "metadata" => r.store_metadata.is_some(),
        "service_tier" => r.service_tier.is_some(),
        "safety_identifier" => r.safety_identifier.is_some(),
        "prompt_cache_retention" => r.prompt_cache_retention.is_some(),
        "prompt_cache_key" => r.prompt_cache_key.is_some(),
        "verbosity" => r.verbosity.is_some(),
        "web_search_options" => r.web_search_options.is_some(),
        "modalities" => r.modalities.is_some(),
        "audio" => r.audio.is_some(),
        "functions" => r.functions.is_some(),
        "function_call" => r.function_call.is_some(),
        "stream_options" => r.stream_options.is_some(),
        "reasoning_effort" => r.reasoning_effort.is_some(),
        "prediction" => r.prediction.is_some(),
        "parallel_tool_calls" => r.parallel_tool_calls.is_some(),
        "n" => r.n.is_some(),
        "seed" => r.seed.is_some(),
        "presence_penalty" => r.presence_penalty.is_some(),
        "frequency_penalty" => r.frequency_penalty.is_some(),
        other => r.extra_body.contains_key(other),
    }
}

/// Fails with `Unsupported` for the first of the body fields `unsupported` (names as in
/// [`field_is_set`]) the request sets, unless the call drops them.
pub(crate) fn check_supported(
    req: &ChatRequest,
    unsupported: &[&str],
    cx: &CallContext,
) -> Result<()> {
    for name in unsupported {
        if field_is_set(req, name) {
            cx.unsupported_param(name)?;
        }
    }
    Ok(())
}

/// OpenAI chat fields that vendors with a chat API of their own (Cohere v2, Ollama's
/// `/api/chat`) have no equivalent for.
const NATIVE_UNSUPPORTED: &[&str] = &[
    "logit_bias",
    "top_logprobs",
    "user",
    "store",
    "metadata",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "verbosity",
    "web_search_options",
    "modalities",
    "audio",
    "prediction",
    "functions",
    "function_call",
];

/// Checks a chat request for a vendor with a chat API of its own: none of
/// [`NATIVE_UNSUPPORTED`] nor of `also` (that vendor's own gaps) set, one choice, parallel tool
/// calls not turned off. Each field set is an error, or dropped with `drop_params`.
pub(crate) fn check_native_chat(req: &ChatRequest, also: &[&str], cx: &CallContext) -> Result<()> {
    check_supported(req, NATIVE_UNSUPPORTED, cx)?;
    check_supported(req, also, cx)?;
    if req.n.is_some_and(|n| n > 1) {
        cx.unsupported_param("n")?;
    }
    if req.parallel_tool_calls == Some(false) {
        cx.unsupported_param("parallel_tool_calls")?;
    }
    Ok(())
}

/// `base` with `path` appended unless it already ends with it.
fn with_base_path(base: &str, path: Option<&str>) -> String {
    let (b, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let b = b.trim_end_matches('/');
    let mut out = match path {
        Some(p) if !b.ends_with(p) => format!("{b}{p}"),
        _ => b.to_owned(),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Calls shared by the OpenAI family (also used by Azure).

pub(crate) async fn chat(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    model: &str,
    quirks: &Quirks,
    req: &ChatRequest,
) -> Result<ChatResponse> {
    let body = chat_body(req, model, false, quirks)?;
    let headers = http::json_headers(cx, auth, false)?;
    let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
    let (mut out, rid) =
        http::read_answer(cx, resp, "choices", |r: &ChatResponse| r.choices.is_empty()).await?;
    normalize_response(&mut out);
    out.meta.request_id = rid;
    Ok(out)
}

pub(crate) async fn chat_stream(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    model: &str,
    quirks: &Quirks,
    req: &ChatRequest,
) -> Result<ChatStream> {
    let body = chat_body(req, model, true, quirks)?;
    let headers = http::json_headers(cx, auth, true)?;
    let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
    let mut meta = ResponseMeta::new(cx.provider.clone(), cx.model.clone());
    meta.request_id = super::error_map::request_id(resp.headers());
    if http::is_json(&resp) {
        // The server ignored `stream: true` and answered with one JSON body.
        let body = http::read_body(cx, resp).await?;
        let mut whole = http::decode_answer(cx, &body, "choices", |r: &ChatResponse| {
            r.choices.is_empty()
        })?;
        normalize_response(&mut whole);
        whole.meta = meta;
        return Ok(ChatStream::from_response(&whole));
    }
    let events = sse::events(resp, cx.max_response_bytes);
    Ok(ChatStream::new(
        DecodedStream::new(
            events,
            OpenAiDecoder::default(),
            ErrCtx::from(cx).with_request_id(meta.request_id.clone()),
        ),
        meta,
    ))
}

pub(crate) async fn embed(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    model: &str,
    req: &EmbeddingRequest,
) -> Result<EmbeddingResponse> {
    let body = patched_body(req, model)?;
    let headers = http::json_headers(cx, auth, false)?;
    let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
    let (out, rid) =
        http::read_answer(cx, resp, "data", |r: &EmbeddingResponse| r.data.is_empty()).await?;
    super::embedding_answer(cx, req, Ok(out), rid)
}

pub(crate) async fn text_completion(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    model: &str,
    req: &TextCompletionRequest,
) -> Result<TextCompletionResponse> {
    let body = patched_body(req, model)?;
    let headers = http::json_headers(cx, auth, false)?;
    let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
    let (mut out, rid) = http::read_answer(cx, resp, "choices", |r: &TextCompletionResponse| {
        r.choices.is_empty()
    })
    .await?;
    for c in &mut out.choices {
        normalize_finish_reason(&mut c.finish_reason);
    }
    if let Some(u) = &mut out.usage {
        u.normalize();
    }
    out.meta.request_id = rid;
    Ok(out)
}

/// Serializes a request with its `model` replaced and streaming fields removed.
fn patched_body<T: Serialize>(req: &T, model: &str) -> Result<Vec<u8>> {
    let mut v = serde_json::to_value(req).map_err(http::unserializable)?;
    if let Value::Object(map) = &mut v {
        map.insert("model".to_owned(), Value::String(model.to_owned()));
        map.remove("stream");
        map.remove("stream_options");
    }
    http::json_body(&v)
}

// ---------------------------------------------------------------------------------------------
// Request body.

/// The JSON body of a chat request for `model`, as the vendor with `quirks` expects it.
///
/// Only fields the caller set are written; `extra_body` keys are written last and replace a
/// field of the same name; `stream_options.include_usage` is added to streaming requests when the
/// vendor supports it and the caller did not set it; `stream`/`stream_options` are never sent on
/// a non-streaming request.
pub fn chat_body(req: &ChatRequest, model: &str, stream: bool, quirks: &Quirks) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256 + req.messages.len() * 64);
    let mut ser = serde_json::Serializer::new(&mut out);
    ChatBody {
        req,
        model,
        stream,
        quirks,
    }
    .serialize(&mut ser)
    .map_err(http::unserializable)?;
    Ok(out)
}

struct ChatBody<'a> {
    req: &'a ChatRequest,
    model: &'a str,
    stream: bool,
    quirks: &'a Quirks,
}

impl Serialize for ChatBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let r = self.req;
        let q = self.quirks;
        let extra = &r.extra_body;
        let mut m = s.serialize_map(None)?;
        macro_rules! put {
            ($key:expr, $val:expr) => {
                if (extra.is_empty() || !extra.contains_key($key)) && !q.unsupported.contains(&$key)
                {
                    m.serialize_entry($key, $val)?;
                }
            };
        }
        macro_rules! opt {
            ($($key:literal => $field:ident),* $(,)?) => {$(
                if let Some(v) = &r.$field {
                    put!($key, v);
                }
            )*};
        }
        put!("model", self.model);
        put!(
            "messages",
            &Messages {
                messages: &r.messages,
                quirks: q
            }
        );
        opt! {
            "temperature" => temperature,
            "top_p" => top_p,
            "n" => n,
            "stop" => stop,
            "max_tokens" => max_tokens,
        }
        if let Some(v) = &r.max_completion_tokens {
            // A vendor without max_completion_tokens gets it as max_tokens, unless both are set.
            if q.max_completion_tokens_field != "max_tokens" || r.max_tokens.is_none() {
                put!(q.max_completion_tokens_field, v);
            }
        }
        opt! {
            "presence_penalty" => presence_penalty,
            "frequency_penalty" => frequency_penalty,
            "logit_bias" => logit_bias,
            "logprobs" => logprobs,
            "top_logprobs" => top_logprobs,
            "user" => user,
        }
        if let Some(v) = &r.seed {
            put!(q.seed_field, v);
        }
        if let Some(tools) = &r.tools
            && !tools.is_empty()
        {
            put!("tools", tools);
        }
        if let Some(tc) = &r.tool_choice {
            match tc {
                ToolChoice::Required => put!("tool_choice", q.tool_choice_required),
                ToolChoice::Function(_) if !q.named_tool_choice => {
                    put!("tool_choice", q.tool_choice_required)
                }
                other => put!("tool_choice", other),
            }
        }
        opt! {
            "parallel_tool_calls" => parallel_tool_calls,
            "response_format" => response_format,
            "reasoning_effort" => reasoning_effort,
            "modalities" => modalities,
            "audio" => audio,
            "prediction" => prediction,
            "service_tier" => service_tier,
            "store" => store,
            "metadata" => store_metadata,
            "safety_identifier" => safety_identifier,
            "prompt_cache_key" => prompt_cache_key,
            "prompt_cache_retention" => prompt_cache_retention,
            "verbosity" => verbosity,
            "web_search_options" => web_search_options,
            "functions" => functions,
            "function_call" => function_call,
        }
        if self.stream {
            put!("stream", &true);
            let user_set = r
                .stream_options
                .as_ref()
                .is_some_and(|o| o.include_usage.is_some());
            if q.stream_usage && !user_set {
                let mut opts = r.stream_options.clone().unwrap_or_default();
                opts.include_usage = Some(true);
                put!("stream_options", &opts);
            } else if let Some(opts) = &r.stream_options
                && q.stream_usage
            {
                put!("stream_options", opts);
            }
        }
        for (k, v) in extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

struct Messages<'a> {
    messages: &'a [Message],
    quirks: &'a Quirks,
}

impl Serialize for Messages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.messages.iter().map(|m| WireMessage {
            m,
            quirks: self.quirks,
        }))
    }
}

/// A message as sent: no `reasoning_content` (vendors reject it in input), no response-only
/// fields, no `null`s.
struct WireMessage<'a> {
    m: &'a Message,
    quirks: &'a Quirks,
}

/// Tool calls as sent: without fields other vendors put on them in answers (Gemini's
/// `provider_specific_fields`), which strict OpenAI-compatible servers reject.
struct WireToolCalls<'a>(&'a [crate::types::ToolCall]);

impl Serialize for WireToolCalls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|tc| {
            let mut v = serde_json::json!({"id": tc.id, "type": tc.kind});
            if !tc.function.is_empty() || tc.kind == "function" {
                v["function"] = serde_json::json!({
                    "name": tc.function.name,
                    "arguments": tc.function.arguments,
                });
            }
            for (k, x) in &tc.extra {
                if !x.is_null() && !RESPONSE_ONLY.contains(&k.as_str()) && k != "index" {
                    v[k.as_str()] = x.clone();
                }
            }
            v
        }))
    }
}

/// Fields vendors put on response messages that are not valid in requests.
const RESPONSE_ONLY: &[&str] = &[
    "annotations",
    "reasoning",
    "reasoning_details",
    "provider_specific_fields",
    "thinking_blocks",
];

impl Serialize for WireMessage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let m = self.m;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("role", &m.role)?;
        match &m.content {
            Some(c) => map.serialize_entry("content", c)?,
            // Tool results and plain messages need content; an assistant tool-call message may
            // omit it.
            None if m.tool_calls.as_ref().is_none_or(Vec::is_empty) => {
                map.serialize_entry("content", "")?
            }
            None => {}
        }
        if let Some(name) = &m.name
            && !self.quirks.strip_message_name
        {
            map.serialize_entry("name", name)?;
        }
        if let Some(tc) = &m.tool_calls
            && !tc.is_empty()
        {
            map.serialize_entry("tool_calls", &WireToolCalls(tc))?;
        }
        if let Some(id) = &m.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        if !self.quirks.strict_messages {
            if let Some(r) = &m.refusal {
                map.serialize_entry("refusal", r)?;
            }
            for (k, v) in &m.extra {
                if !v.is_null() && !RESPONSE_ONLY.contains(&k.as_str()) {
                    map.serialize_entry(k, v)?;
                }
            }
        }
        map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Response normalisation.

/// Maps vendor finish reasons of the OpenAI family to OpenAI's.
pub(crate) fn normalize_finish_reason(reason: &mut Option<FinishReason>) {
    if let Some(FinishReason::Other(s)) = reason {
        let mapped = match s.as_str() {
            "eos" | "eos_token" | "end_turn" | "stop_sequence" | "STOP" | "COMPLETE" => {
                FinishReason::Stop
            }
            "model_length" | "max_tokens" | "MAX_TOKENS" => FinishReason::Length,
            "tool_use" | "TOOL_CALL" => FinishReason::ToolCalls,
            "content_filtered" | "guardrail_intervened" | "SAFETY" => FinishReason::ContentFilter,
            _ => return,
        };
        *reason = Some(mapped);
    }
}

/// Moves a `reasoning` string (vLLM, OpenRouter) into `reasoning_content`.
fn take_reasoning_alias(
    reasoning_content: &mut Option<String>,
    extra: &mut serde_json::Map<String, Value>,
) {
    if reasoning_content.is_none()
        && let Some(Value::String(_)) = extra.get("reasoning")
        && let Some(Value::String(s)) = extra.remove("reasoning")
    {
        *reasoning_content = Some(s);
    }
}

/// Splits content parts into (text, thinking): Mistral's reasoning models send
/// `[{"type":"thinking","thinking":[{"type":"text","text":"…"}]}, {"type":"text","text":"…"}]`.
fn split_thinking(parts: &[Value]) -> (String, String) {
    let mut text = String::new();
    let mut thinking = String::new();
    for p in parts {
        match p.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(p.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("thinking") => match p.get("thinking") {
                Some(Value::String(s)) => thinking.push_str(s),
                Some(Value::Array(inner)) => thinking.push_str(&split_thinking(inner).0),
                _ => {}
            },
            _ => {}
        }
    }
    (text, thinking)
}

/// Rewrites `delta.content` lists that carry thinking parts into text plus
/// `reasoning_content`. Returns whether anything changed.
fn lift_thinking_in_chunk(v: &mut Value) -> bool {
    let mut changed = false;
    if let Some(Value::Array(choices)) = v.get_mut("choices") {
        for c in choices {
            let Some(delta) = c.get_mut("delta").and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(Value::Array(parts)) = delta.get("content") {
                let (text, thinking) = split_thinking(parts);
                delta.insert("content".into(), Value::String(text));
                if !thinking.is_empty() && !delta.contains_key("reasoning_content") {
                    delta.insert("reasoning_content".into(), Value::String(thinking));
                }
                changed = true;
            }
        }
    }
    changed
}

/// Moves thinking parts of a message's content into `reasoning_content` and, when only text
/// remains, makes the content plain text.
fn lift_thinking_in_message(m: &mut Message) {
    let Some(Content::Parts(parts)) = &m.content else {
        return;
    };
    let is_thinking = |p: &ContentPart| matches!(p, ContentPart::Other(v) if v.get("type").and_then(Value::as_str) == Some("thinking"));
    if !parts.iter().any(is_thinking) {
        return;
    }
    let values: Vec<Value> = parts
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    let (text, thinking) = split_thinking(&values);
    let only_text = parts
        .iter()
        .all(|p| is_thinking(p) || matches!(p, ContentPart::Text { .. }));
    if only_text {
        m.content = Some(Content::Text(text));
    } else if let Some(Content::Parts(parts)) = &mut m.content {
        parts.retain(|p| !is_thinking(p));
    }
    if !thinking.is_empty() && m.reasoning_content.is_none() {
        m.reasoning_content = Some(thinking);
    }
}

/// Normalises a whole response (see the module docs).
pub(crate) fn normalize_response(resp: &mut ChatResponse) {
    for c in &mut resp.choices {
        normalize_finish_reason(&mut c.finish_reason);
        let has_calls = c.message.tool_calls.as_ref().is_some_and(|t| !t.is_empty());
        if has_calls && c.finish_reason == Some(FinishReason::Stop) {
            c.finish_reason = Some(FinishReason::ToolCalls);
        }
        take_reasoning_alias(&mut c.message.reasoning_content, &mut c.message.extra);
        lift_thinking_in_message(&mut c.message);
    }
    if let Some(u) = &mut resp.usage {
        u.normalize();
    }
}

/// Pure state of an OpenAI-family stream: normalises each chunk and holds the usage back for
/// one final usage chunk.
#[derive(Default)]
pub(crate) struct StreamNormalizer {
    usage: Option<Usage>,
    template: ChatChunk,
    /// Choice indices that have had tool calls.
    tool_choices: Vec<u32>,
    /// Choice indices whose finish reason was delivered.
    finished: Vec<u32>,
}

impl StreamNormalizer {
    /// Normalises one chunk; `None` when nothing is left to deliver now.
    pub(crate) fn process(&mut self, mut chunk: ChatChunk) -> Option<ChatChunk> {
        if chunk.usage.is_none()
            && let Some(u) = chunk.extra.get("x_groq").and_then(|x| x.get("usage"))
        {
            chunk.usage = serde_json::from_value(u.clone()).ok();
        }
        let had_usage = if let Some(mut u) = chunk.usage.take() {
            u.normalize();
            self.usage = Some(u);
            true
        } else {
            false
        };
        if !chunk.id.is_empty() {
            self.template.id.clone_from(&chunk.id);
        }
        if !chunk.model.is_empty() {
            self.template.model.clone_from(&chunk.model);
        }
        if chunk.created != 0 {
            self.template.created = chunk.created;
        }
        if chunk.system_fingerprint.is_some() {
            self.template
                .system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        if chunk.choices.is_empty() && !had_usage && chunk.extra.is_empty() {
            // `{}` keep-alives and the like carry nothing.
            return None;
        }
        let had_choices = !chunk.choices.is_empty();
        chunk.choices.retain_mut(|c| self.normalize_choice(c));
        if chunk.choices.is_empty() && (had_choices || had_usage) {
            return None;
        }
        Some(chunk)
    }

    /// Returns false when the choice carries nothing new (a repeated finish reason).
    fn normalize_choice(&mut self, c: &mut ChunkChoice) -> bool {
        let d = &mut c.delta;
        take_reasoning_alias(&mut d.reasoning_content, &mut d.extra);
        if let Some(calls) = &mut d.tool_calls {
            for (pos, tc) in calls.iter_mut().enumerate() {
                if tc.index.is_none() {
                    tc.index = Some(pos as u32);
                }
                if tc.id.is_some() && tc.kind.is_none() {
                    tc.kind = Some("function".to_owned());
                }
            }
            if !calls.is_empty() && !self.tool_choices.contains(&c.index) {
                self.tool_choices.push(c.index);
            }
        }
        normalize_finish_reason(&mut c.finish_reason);
        if c.finish_reason == Some(FinishReason::Stop) && self.tool_choices.contains(&c.index) {
            c.finish_reason = Some(FinishReason::ToolCalls);
        }
        if c.finish_reason.is_none() {
            return true;
        }
        if !self.finished.contains(&c.index) {
            self.finished.push(c.index);
            return true;
        }
        // A repeated finish reason: deliver the chunk only for what else it carries.
        c.finish_reason = None;
        let some = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        let d = &c.delta;
        some(&d.content)
            || some(&d.reasoning_content)
            || some(&d.refusal)
            || d.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
            || c.logprobs.as_ref().is_some_and(|l| !l.is_null())
    }

    /// The final usage chunk, when the vendor reported usage.
    pub(crate) fn finish(&mut self) -> Option<ChatChunk> {
        let usage = self.usage.take()?;
        Some(ChatChunk {
            id: self.template.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.template.created,
            model: self.template.model.clone(),
            choices: Vec::new(),
            usage: Some(usage),
            system_fingerprint: self.template.system_fingerprint.clone(),
            ..Default::default()
        })
    }
}

/// Decodes the data of one event: a chunk, or the error object it carries.
pub(crate) fn decode_chunk(data: &str) -> Result<ChatChunk> {
    if data.contains("\"thinking\"")
        && let Ok(mut v) = serde_json::from_str::<Value>(data)
        && lift_thinking_in_chunk(&mut v)
    {
        return serde_json::from_value::<ChatChunk>(v).map_err(|e| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode a stream chunk: {e}"),
            )
        });
    }
    match serde_json::from_str::<ChatChunk>(data) {
        Ok(chunk) => {
            let errorish = chunk.extra.get("error").is_some_and(|e| !e.is_null())
                || chunk.object == "error"
                || (chunk.choices.is_empty() && chunk.extra.contains_key("detail"));
            if errorish
                && let Ok(v) = serde_json::from_str::<Value>(data)
                && let Some(err) = error_from_json(&v)
            {
                return Err(err);
            }
            Ok(chunk)
        }
        Err(e) => {
            if let Ok(v) = serde_json::from_str::<Value>(data)
                && let Some(err) = error_from_json(&v)
            {
                return Err(err);
            }
            let snippet: String = data.chars().take(200).collect();
            Err(Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode a stream chunk: {e}; data: {snippet:?}"),
            ))
        }
    }
}

/// Removes OpenAI's `"obfuscation":"…"` stream padding (random characters that carry no
/// information) from a chunk's JSON text, in place, so that it does not go through serde's
/// buffered path for unknown fields (about five allocations per chunk). Only the exact compact
/// form with a plain value is removed; anything else is left for the decoder, which keeps it
/// in `extra`. An unescaped `"obfuscation":"` can only be a key: inside a JSON string its
/// quotes would be escaped.
fn strip_obfuscation(data: &mut String) {
    const KEY: &str = "\"obfuscation\":\"";
    let Some(start) = data.find(KEY) else {
        return;
    };
    let value = start + KEY.len();
    let Some(len) = data[value..].find('"') else {
        return;
    };
    if data[value..value + len].contains('\\') {
        return;
    }
    let end = value + len + 1;
    let bytes = data.as_bytes();
    if start > 0 && bytes[start - 1] == b',' {
        data.replace_range(start - 1..end, "");
    } else if bytes.get(end) == Some(&b',') {
        data.replace_range(start..end + 1, "");
    } else {
        data.replace_range(start..end, "");
    }
}

/// The OpenAI family's stream decoder: SSE `data:` chunks until `[DONE]`.
#[derive(Default)]
pub(crate) struct OpenAiDecoder {
    norm: StreamNormalizer,
}

impl ChunkDecoder for OpenAiDecoder {
    type Event = SseEvent;

    fn decode(&mut self, mut ev: SseEvent, out: &mut VecDeque<ChatChunk>) -> Result<bool> {
        strip_obfuscation(&mut ev.data);
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        if data.starts_with("[DONE]") {
            out.extend(self.norm.finish());
            return Ok(true);
        }
        if ev.event == "ping" {
            return Ok(false);
        }
        if ev.event == "error" {
            return Err(serde_json::from_str::<Value>(data)
                .ok()
                .and_then(|v| {
                    error_from_json(&v)
                        .or_else(|| error_from_json(&serde_json::json!({ "error": v })))
                })
                .unwrap_or_else(|| Error::new(ErrorKind::InternalServer, data.to_owned())));
        }
        out.extend(self.norm.process(decode_chunk(data)?));
        Ok(false)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatChunk>) -> Result<()> {
        Err(Error::new(
            ErrorKind::ApiConnection,
            "the stream ended before [DONE]: the answer may be incomplete",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChatRequest, Message, StreamOptions, Tool};
    use serde_json::json;

    fn body(req: &ChatRequest, stream: bool, q: &Quirks) -> Value {
        serde_json::from_slice(&chat_body(req, "m", stream, q).unwrap()).unwrap()
    }

    #[test]
    fn body_replaces_model_and_adds_stream_usage() {
        let req = ChatRequest::new("openai/gpt-4o", vec![Message::user("hi")]).temperature(0.5);
        assert_eq!(
            body(&req, false, &Quirks::NONE),
            json!({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5})
        );
        assert_eq!(
            body(&req, true, &Quirks::NONE),
            json!({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"stream":true,"stream_options":{"include_usage":true}})
        );
        // caller's choice wins
        let req = req.stream_options(StreamOptions {
            include_usage: Some(false),
            ..Default::default()
        });
        assert_eq!(
            body(&req, true, &Quirks::NONE)["stream_options"],
            json!({"include_usage":false})
        );
        // never on non-stream calls
        assert!(
            body(&req, false, &Quirks::NONE)
                .get("stream_options")
                .is_none()
        );
    }

    #[test]
    fn body_matches_derived_serialization() {
        // Every field the wire writer knows, against serde's own view of the request.
        let mut req = ChatRequest::new("x", vec![Message::user("hi")])
            .temperature(0.1)
            .top_p(0.9)
            .n(2)
            .stop(["a", "b"])
            .max_tokens(5)
            .max_completion_tokens(6)
            .presence_penalty(0.2)
            .frequency_penalty(0.3)
            .logprobs(true)
            .top_logprobs(2)
            .user("u")
            .seed(7)
            .tools(vec![Tool::function("f", "d", json!({"type":"object"}))])
            .tool_choice(ToolChoice::Required)
            .parallel_tool_calls(false)
            .response_format(crate::types::ResponseFormat::JsonObject)
            .reasoning_effort("low")
            .modalities(vec!["text".into()])
            .audio(json!({"voice":"x"}))
            .prediction(json!({"type":"content"}))
            .service_tier("flex")
            .store(true)
            .safety_identifier("s")
            .prompt_cache_key("k")
            .prompt_cache_retention("24h")
            .verbosity("low")
            .web_search_options(json!({}));
        req.logit_bias = Some(serde_json::Map::from_iter([("1".to_owned(), json!(5))]));
        req.store_metadata = Some(serde_json::Map::from_iter([("a".to_owned(), json!("b"))]));
        req.functions = Some(json!([]));
        req.function_call = Some(json!("auto"));
        let mut derived = serde_json::to_value(&req).unwrap();
        derived["model"] = json!("m");
        assert_eq!(body(&req, false, &Quirks::NONE), derived);
    }

    #[test]
    fn mistral_quirks() {
        let q = crate::provider::compat::find("mistral").unwrap().quirks;
        let req = ChatRequest::new("mistral/x", vec![Message::user("hi").with_name("bob")])
            .seed(3)
            .max_completion_tokens(10)
            .tool_choice(ToolChoice::function("f"));
        let b = body(&req, true, &q);
        assert_eq!(b["random_seed"], 3);
        assert_eq!(b["max_tokens"], 10);
        assert_eq!(b["tool_choice"], "any");
        assert!(b.get("seed").is_none() && b.get("stream_options").is_none());
        assert!(b["messages"][0].get("name").is_none());
    }

    #[test]
    fn extra_body_overrides_without_duplicates() {
        let req = ChatRequest::new("x", vec![Message::user("hi")])
            .temperature(0.1)
            .extra_body(json!({"temperature": 1.0, "top_k": 3}));
        let raw = String::from_utf8(chat_body(&req, "m", false, &Quirks::NONE).unwrap()).unwrap();
        assert_eq!(raw.matches("temperature").count(), 1);
        let v: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["temperature"], 1.0);
        assert_eq!(v["top_k"], 3);
    }

    #[test]
    fn wire_messages_drop_reasoning_and_response_only_fields() {
        let mut m = Message::assistant("ok");
        m.reasoning_content = Some("thinking".into());
        m.extra.insert("annotations".into(), json!([]));
        m.extra.insert("audio".into(), Value::Null);
        m.extra.insert("custom".into(), json!(1));
        let req = ChatRequest::new(
            "x",
            vec![
                m,
                Message::assistant_tool_calls(vec![crate::types::ToolCall::function(
                    "c", "f", "{}",
                )]),
            ],
        );
        let b = body(&req, false, &Quirks::NONE);
        assert_eq!(
            b["messages"][0],
            json!({"role":"assistant","content":"ok","custom":1})
        );
        assert_eq!(
            b["messages"][1],
            json!({"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]})
        );
    }

    fn chunk(v: Value) -> ChatChunk {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn normalizer_moves_usage_to_last_chunk_and_dedups_finish() {
        let mut n = StreamNormalizer::default();
        let out: Vec<_> = [
            json!({"id":"a","model":"m","created":1,"choices":[{"index":0,"finish_reason":"tool_calls","delta":{"role":"assistant","tool_calls":[{"id":"c","index":0,"type":"function","function":{"name":"f","arguments":"{}"}}]}}]}),
            json!({"id":"a","model":"m","created":1,"choices":[{"index":0,"finish_reason":"tool_calls","delta":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}),
        ]
        .into_iter()
        .filter_map(|v| n.process(chunk(v)))
        .collect();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(out[0].usage.is_none());
        let last = n.finish().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.unwrap().total_tokens, 3);
        assert_eq!(last.id, "a");
    }

    #[test]
    fn normalizer_groq_usage_and_stop_with_tools() {
        let mut n = StreamNormalizer::default();
        n.process(chunk(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"id":"t","function":{"name":"w","arguments":"{}"}}]}}]}))).unwrap();
        let c = n.process(chunk(json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}}))).unwrap();
        assert_eq!(c.finish_reason(), Some(&FinishReason::ToolCalls));
        assert_eq!(n.finish().unwrap().usage.unwrap().prompt_tokens, 5);
    }

    #[test]
    fn obfuscation_padding_is_removed_and_nothing_else() {
        let strip = |s: &str| {
            let mut s = s.to_owned();
            strip_obfuscation(&mut s);
            s
        };
        assert_eq!(
            strip(r#"{"id":"a","choices":[],"obfuscation":"Qup1BsQ3"}"#),
            r#"{"id":"a","choices":[]}"#
        );
        assert_eq!(strip(r#"{"obfuscation":"x1","id":"a"}"#), r#"{"id":"a"}"#);
        assert_eq!(strip(r#"{"obfuscation":"x1"}"#), r#"{}"#);
        // not the compact form, an escaped value, or inside a string: untouched
        for s in [
            r#"{"id":"a", "obfuscation": "x"}"#,
            r#"{"id":"a","obfuscation":"x\"y"}"#,
            r#"{"choices":[{"delta":{"content":"say \"obfuscation\":\"hi\""}}]}"#,
            r#"{"id":"a","obfuscation":"unterminated"#,
        ] {
            assert_eq!(strip(s), s);
        }
        let chunk = decode_chunk(&strip(
            r#"{"id":"a","choices":[{"index":0,"delta":{"content":"Hi"}}],"obfuscation":"zz"}"#,
        ))
        .unwrap();
        assert_eq!(chunk.text(), Some("Hi"));
        assert!(chunk.extra.is_empty());
    }

    #[test]
    fn decode_chunk_errors() {
        let e = decode_chunk(r#"{"error":{"message":"overloaded","type":"server_error"}}"#)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InternalServer);
        assert_eq!(e.message(), "overloaded");
        let e = decode_chunk(r#"{"choices": [ {"delta": "#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(decode_chunk(r#"{"id":"x","choices":[],"obfuscation":"abc"}"#).is_ok());
        let e = decode_chunk(r#"{"object":"error","message":"boom","type":"internal_error"}"#)
            .unwrap_err();
        assert_eq!(e.message(), "boom");
    }

    /// Arbitrary bytes through the SSE decoder and the OpenAI decoder: errors, never panics.
    #[test]
    fn arbitrary_streams_never_panic() {
        use crate::provider::test_util::fuzz_sse;
        let seeds: [&[u8]; 4] = [
            b"data: {\"id\":\"a\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n",
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\r\n\r\n",
            b": keep-alive\n\nevent: error\ndata: {\"error\":{\"message\":\"x\",\"code\":429}}\n\n",
            b"data: {\"object\":\"error\",\"message\":{\"detail\":[{\"loc\":[1],\"msg\":\"m\"}]}}\n\ndata: {\"choices\":[{\"delta\":{\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"t\"}]}]}}]}\n\n",
        ];
        let decoded = fuzz_sse(
            &seeds,
            b"data: {}[]\"\\,:\r\n0123456789eventDONE-",
            42,
            7,
            |_| OpenAiDecoder::default(),
        );
        // the mutated valid streams must still reach the decoder often
        assert!(decoded > 100, "only {decoded} chunks decoded");
    }

    #[test]
    fn mistral_thinking_parts() {
        let c = decode_chunk(r#"{"id":"m","choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"Let me see."}]}]}}]}"#).unwrap();
        assert_eq!(
            c.choices[0].delta.reasoning_content.as_deref(),
            Some("Let me see.")
        );
        assert_eq!(c.choices[0].delta.content.as_deref(), Some(""));
        let c = decode_chunk(r#"{"id":"m","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"42"}]}}]}"#).unwrap();
        assert_eq!(c.choices[0].delta.content.as_deref(), Some("42"));
        let mut r: ChatResponse = serde_json::from_value(json!({"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":[
            {"type":"thinking","thinking":[{"type":"text","text":"hmm"}]},{"type":"text","text":"Answer."}]}}]})).unwrap();
        normalize_response(&mut r);
        assert_eq!(r.text(), Some("Answer."));
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("hmm")
        );
    }

    #[test]
    fn base_path_and_model_prefix() {
        assert_eq!(
            with_base_path("http://h:11434", Some("/v1")),
            "http://h:11434/v1"
        );
        assert_eq!(
            with_base_path("http://h:11434/v1/", Some("/v1")),
            "http://h:11434/v1"
        );
        let fw = OpenAiCompatible::new(crate::provider::compat::find("fireworks_ai").unwrap());
        let cx = CallContext::new(
            reqwest::Client::new(),
            "fireworks_ai",
            "llama-v3p1-8b-instruct",
        );
        assert_eq!(
            fw.model(&cx),
            "accounts/fireworks/models/llama-v3p1-8b-instruct"
        );
        let cx = CallContext::new(
            reqwest::Client::new(),
            "fireworks_ai",
            "accounts/me/models/x",
        );
        assert_eq!(fw.model(&cx), "accounts/me/models/x");
    }
}
