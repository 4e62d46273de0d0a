//! Cohere v2 (prefix `cohere`): chat, streaming and embeddings, translated to and from OpenAI's
//! shapes.
//!
//! - Endpoints: `POST {base}/v2/chat` and `POST {base}/v2/embed`; the base defaults to
//!   [`DEFAULT_API_BASE`] (`COHERE_API_BASE` overrides it; a base that already ends with
//!   `/v2`, `/v2/chat` or `/v1` is accepted). Auth: `Authorization: Bearer <key>` with the key
//!   from `COHERE_API_KEY` or `CO_API_KEY`.
//! - Request: system and developer messages become `system` messages; user content parts become
//!   Cohere's `text` / `image_url` parts (URL and `data:` images); assistant tool calls and
//!   `tool` results keep OpenAI's shape; an assistant message's `reasoning_content` goes back
//!   as its `tool_plan`. `top_p` → `p` (clamped to Cohere's range 0.01–0.99), `stop` →
//!   `stop_sequences`, `max_completion_tokens`/`max_tokens` → `max_tokens`, `seed`,
//!   `temperature`, `frequency_penalty`, `presence_penalty` and `logprobs` as is;
//!   `response_format` `json_object` → `{"type":"json_object"}`, `json_schema` →
//!   `{"type":"json_object","json_schema":<schema>}`; `reasoning_effort` → `thinking`
//!   (`none` → disabled, anything else → enabled). `tool_choice`: `auto` is Cohere's default,
//!   `required` → `REQUIRED`, `none` → `NONE`, a named function → only that tool is sent, with
//!   `REQUIRED`. A function with `strict: true` sets `strict_tools`. Cohere-only fields (`k`,
//!   `documents`, `citation_options`, `safety_mode`, `priority`, …) go through `extra_body`.
//!   `n` > 1, `logit_bias`, `top_logprobs`, `user`, `parallel_tool_calls: false`, audio and file
//!   parts and OpenAI-only fields (`store`, `service_tier`, `modalities`, …) are `Unsupported`
//!   unless the call sets `drop_params`.
//! - Response: text parts are joined into `content`; `thinking` parts and the `tool_plan` go to
//!   `reasoning_content`; `tool_calls` keep their shape (missing ids are generated, empty
//!   arguments become `{}`); `citations` stay in the message's extra fields. Finish reasons:
//!   `COMPLETE`/`STOP_SEQUENCE` → `stop`, `MAX_TOKENS` → `length`, `TOOL_CALL` → `tool_calls`,
//!   `ERROR` → `stop` (as LiteLLM), `TIMEOUT` → `length`. Usage: `usage.tokens` (falling back to
//!   `billed_units`) → prompt and completion tokens, `cached_tokens` →
//!   `prompt_tokens_details.cached_tokens`, `billed_units` kept in the usage's extra fields.
//! - Streaming: Cohere's SSE events (`message-start`, `content-delta`, `tool-plan-delta`,
//!   `tool-call-start`, `tool-call-delta`, `message-end`, …, then `data: [DONE]`) become OpenAI
//!   chunks: text deltas, reasoning deltas, tool-call deltas (index = running tool counter, id
//!   and name on the first fragment), the finish reason, then a usage-only chunk. A
//!   `message-end` carrying an `error` is an error; a stream that ends before `message-end` is
//!   an `ApiConnection` error.
//! - Embeddings: `texts`, `input_type` (from `extra_body`, default
//!   [`DEFAULT_EMBED_INPUT_TYPE`]), `output_dimension` from `dimensions`, `embedding_types`
//!   `["float"]`. `encoding_format` only changes the wire encoding in OpenAI's API and the
//!   vectors arrive as `f32` either way, so Cohere is always asked for floats (its base64 layout
//!   is not documented). Token-array input is `Unsupported`. Usage from
//!   `meta.billed_units.input_tokens`.
//! - Errors: Cohere's `{"id","message"}` bodies; 498 (invalid token) is `Authentication`, 499
//!   (request cancelled) is `BadRequest`, the other statuses as everywhere.

use std::collections::VecDeque;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::decode::{ChunkDecoder, DecodedStream, ErrCtx};
use super::error_map::{error_from_json, request_id};
use super::http::{self, Auth, HttpRequest};
use super::openai::check_native_chat;
use super::sse::{self, SseEvent};
use super::{CallContext, Credentials, Provider, generated_id, unix_now};
use crate::error::{Error, ErrorKind, Result};
use crate::types::serde_util::opt_stringish;
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice, Content, ContentPart, Delta,
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, FinishReason,
    FunctionCallDelta, Message, PromptTokensDetails, ReasoningEffort, ResponseFormat, ResponseMeta,
    Role, Tool, ToolCall, ToolCallDelta, ToolChoice, Usage,
};

/// Cohere's production API.
pub const DEFAULT_API_BASE: &str = "https://api.cohere.com";

/// `input_type` of an embeddings call that sets none in `extra_body` (as LiteLLM).
pub const DEFAULT_EMBED_INPUT_TYPE: &str = "search_document";

/// The Cohere v2 provider (prefix `cohere`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Cohere;

/// The URL of a Cohere v2 operation (`op` is `chat` or `embed`). A base that already ends with
/// an API version or an operation is trimmed first; a query string stays at the end.
pub(crate) fn cohere_url(base: &str, op: &str) -> String {
    let (b, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let mut b = b.trim_end_matches('/');
    for suffix in [
        "/v2/chat",
        "/v2/embed",
        "/v1/chat",
        "/v1/embed",
        "/v2",
        "/v1",
    ] {
        if let Some(rest) = b.strip_suffix(suffix) {
            b = rest;
            break;
        }
    }
    let mut url = format!("{b}/v2/{op}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[async_trait]
impl Provider for Cohere {
    fn name(&self) -> &str {
        "cohere"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            requires_api_key: true,
            requires_api_base: true,
            ..Credentials::new(
                &["COHERE_API_KEY", "CO_API_KEY"],
                &["COHERE_API_BASE"],
                Some(DEFAULT_API_BASE),
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let body = http::json_body(&chat_body(req, &cx.model, false, cx)?)?;
        let url = cohere_url(cx.require_api_base()?, "chat");
        let headers = http::json_headers(cx, Auth::Bearer(cx.require_api_key()?), false)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let (parsed, rid) =
            http::read_answer(cx, resp, "message", |r: &WireResponse| r.message.is_none()).await?;
        let mut out = chat_response(parsed, &cx.model);
        out.meta.request_id = rid;
        Ok(out)
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let body = http::json_body(&chat_body(req, &cx.model, true, cx)?)?;
        let url = cohere_url(cx.require_api_base()?, "chat");
        let headers = http::json_headers(cx, Auth::Bearer(cx.require_api_key()?), true)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let mut meta = ResponseMeta::new(cx.provider.clone(), cx.model.clone());
        meta.request_id = request_id(resp.headers());
        if http::is_json(&resp) {
            // A server (or mock) that answered the stream request with one JSON body.
            let body = http::read_body(cx, resp).await?;
            let chunks = json_answer_to_chunks(cx, &body)?;
            return Ok(ChatStream::from_chunks(chunks, meta));
        }
        let events = sse::events(resp, cx.max_response_bytes);
        Ok(ChatStream::new(
            DecodedStream::new(
                events,
                CohereDecoder::new(&cx.model),
                ErrCtx::from(cx).with_request_id(meta.request_id.clone()),
            ),
            meta,
        ))
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let body = http::json_body(&embed_body(req, &cx.model, cx)?)?;
        let url = cohere_url(cx.require_api_base()?, "embed");
        let headers = http::json_headers(cx, Auth::Bearer(cx.require_api_key()?), false)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let (parsed, rid) = http::read_answer(cx, resp, "embeddings", |r: &WireEmbed| {
            r.embeddings.is_null()
        })
        .await?;
        super::embedding_answer(cx, req, embed_response(parsed, &cx.model), rid)
    }
}

// ---------------------------------------------------------------------------------------------
// Request.

/// The JSON body of a Cohere v2 chat request for `model`.
pub(crate) fn chat_body(
    req: &ChatRequest,
    model: &str,
    stream: bool,
    cx: &CallContext,
) -> Result<Value> {
    check_native_chat(req, &[], cx)?;
    let mut m = Map::new();
    m.insert("model".into(), json!(model));
    m.insert(
        "messages".into(),
        Value::Array(wire_messages(&req.messages, cx)?),
    );

    let (tools, tool_choice) = wire_tools(req, cx)?;
    if !tools.is_empty() {
        let strict = req
            .tools
            .iter()
            .flatten()
            .any(|t| t.function.as_ref().is_some_and(|f| f.strict == Some(true)));
        m.insert("tools".into(), Value::Array(tools));
        if strict {
            m.insert("strict_tools".into(), json!(true));
        }
    }
    if let Some(tc) = tool_choice {
        m.insert("tool_choice".into(), json!(tc));
    }
    if let Some(rf) = &req.response_format {
        let v = match rf {
            ResponseFormat::Text => Some(json!({"type": "text"})),
            ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
            ResponseFormat::JsonSchema { json_schema } => Some(match &json_schema.schema {
                Some(schema) => json!({"type": "json_object", "json_schema": schema}),
                None => json!({"type": "json_object"}),
            }),
            ResponseFormat::Other(_) => {
                cx.unsupported_param("response_format")?;
                None
            }
        };
        if let Some(v) = v {
            m.insert("response_format".into(), v);
        }
    }
    if let Some(max) = req.max_completion_tokens.or(req.max_tokens) {
        m.insert("max_tokens".into(), json!(max));
    }
    if let Some(stop) = &req.stop {
        m.insert("stop_sequences".into(), json!(stop.to_vec()));
    }
    if let Some(t) = req.temperature {
        m.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        m.insert("p".into(), json!(clamp_p(p)));
    }
    if let Some(seed) = req.seed {
        m.insert("seed".into(), json!(seed));
    }
    if let Some(v) = req.frequency_penalty {
        m.insert("frequency_penalty".into(), json!(v));
    }
    if let Some(v) = req.presence_penalty {
        m.insert("presence_penalty".into(), json!(v));
    }
    if let Some(v) = req.logprobs {
        m.insert("logprobs".into(), json!(v));
    }
    if let Some(effort) = &req.reasoning_effort {
        let kind = if *effort == ReasoningEffort::None {
            "disabled"
        } else {
            "enabled"
        };
        m.insert("thinking".into(), json!({"type": kind}));
    }
    if stream {
        m.insert("stream".into(), json!(true));
    }
    for (k, v) in &req.extra_body {
        m.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(m))
}

/// Cohere's `p` must lie in [0.01, 0.99]; OpenAI's `top_p` in [0, 1].
fn clamp_p(p: f64) -> f64 {
    if p.is_nan() {
        0.75
    } else {
        p.clamp(0.01, 0.99)
    }
}

/// The text of a message that Cohere takes as text only (system, assistant, tool). Non-text
/// parts are `Unsupported` (dropped with `drop_params`).
fn text_only(content: Option<&Content>, cx: &CallContext) -> Result<String> {
    match content {
        None => Ok(String::new()),
        Some(Content::Text(s)) => Ok(s.clone()),
        Some(Content::Parts(parts)) => {
            let mut out = String::new();
            for p in parts {
                match p {
                    ContentPart::Text { text, .. } => out.push_str(text),
                    other => cx.unsupported_param(part_name(other))?,
                }
            }
            Ok(out)
        }
    }
}

fn part_name(p: &ContentPart) -> &'static str {
    match p {
        ContentPart::Text { .. } => "text",
        ContentPart::ImageUrl { .. } => "image_url",
        ContentPart::InputAudio { .. } => "input_audio",
        ContentPart::File { .. } => "file",
        ContentPart::Refusal { .. } => "refusal",
        ContentPart::Other(_) => "content part",
    }
}

fn wire_messages(messages: &[Message], cx: &CallContext) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let v = match &m.role {
            Role::System | Role::Developer => {
                json!({"role": "system", "content": text_only(m.content.as_ref(), cx)?})
            }
            Role::User => json!({"role": "user", "content": user_content(m.content.as_ref(), cx)?}),
            Role::Assistant => {
                let mut a = Map::new();
                a.insert("role".into(), json!("assistant"));
                let text = text_only(m.content.as_ref(), cx)?;
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .flatten()
                    .map(|tc| {
                        let args = if tc.function.arguments.trim().is_empty() {
                            "{}"
                        } else {
                            tc.function.arguments.as_str()
                        };
                        json!({"id": tc.id, "type": "function",
                            "function": {"name": tc.function.name, "arguments": args}})
                    })
                    .collect();
                if !text.is_empty() || calls.is_empty() {
                    a.insert("content".into(), json!(text));
                }
                if !calls.is_empty() {
                    if let Some(plan) = m.reasoning_content.as_deref().filter(|s| !s.is_empty()) {
                        a.insert("tool_plan".into(), json!(plan));
                    }
                    a.insert("tool_calls".into(), Value::Array(calls));
                }
                Value::Object(a)
            }
            Role::Tool => {
                let Some(id) = &m.tool_call_id else {
                    return Err(Error::bad_request(
                        "a tool message needs the tool_call_id of the call it answers",
                    ));
                };
                json!({"role": "tool", "tool_call_id": id,
                    "content": text_only(m.content.as_ref(), cx)?})
            }
            other => {
                return Err(Error::bad_request(format!(
                    "provider 'cohere' does not accept messages with role '{}'",
                    other.as_str()
                )));
            }
        };
        out.push(v);
    }
    Ok(out)
}

fn user_content(content: Option<&Content>, cx: &CallContext) -> Result<Value> {
    let Some(Content::Parts(parts)) = content else {
        return Ok(json!(content.map(Content::to_text).unwrap_or_default()));
    };
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            ContentPart::Text { text, .. } => out.push(json!({"type": "text", "text": text})),
            ContentPart::ImageUrl { image_url, .. } => {
                let mut img = Map::new();
                img.insert("url".into(), json!(image_url.url));
                if let Some(d) = &image_url.detail {
                    img.insert("detail".into(), json!(d));
                }
                out.push(json!({"type": "image_url", "image_url": img}));
            }
            other => cx.unsupported_param(part_name(other))?,
        }
    }
    Ok(Value::Array(out))
}

/// The tools to send and the `tool_choice` value.
fn wire_tools(req: &ChatRequest, cx: &CallContext) -> Result<(Vec<Value>, Option<&'static str>)> {
    let tools: &[Tool] = req.tools.as_deref().unwrap_or(&[]);
    let (only, choice) = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => (None, None),
        Some(ToolChoice::None) => (None, Some("NONE")),
        Some(ToolChoice::Required) => (None, Some("REQUIRED")),
        Some(ToolChoice::Function(name)) => (Some(name.as_str()), Some("REQUIRED")),
        Some(ToolChoice::Other(_)) => {
            cx.unsupported_param("tool_choice")?;
            (None, None)
        }
    };
    let mut out = Vec::with_capacity(tools.len());
    for t in tools {
        let Some(f) = t.function.as_ref().filter(|_| t.kind == "function") else {
            cx.unsupported_param("tools")?;
            continue;
        };
        if only.is_some_and(|n| n != f.name) {
            continue;
        }
        let mut func = Map::new();
        func.insert("name".into(), json!(f.name));
        if let Some(d) = &f.description {
            func.insert("description".into(), json!(d));
        }
        func.insert(
            "parameters".into(),
            f.parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        );
        out.push(json!({"type": "function", "function": func}));
    }
    if let Some(name) = only
        && out.is_empty()
    {
        return Err(Error::bad_request(format!(
            "tool_choice names the function '{name}', which is not among the tools"
        )));
    }
    Ok((out, choice))
}

// ---------------------------------------------------------------------------------------------
// Response.

/// A Cohere v2 chat response, as much of it as is used.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireResponse {
    #[serde(default, deserialize_with = "opt_stringish")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_stringish")]
    finish_reason: Option<String>,
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    logprobs: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default, deserialize_with = "opt_stringish")]
    tool_plan: Option<String>,
    #[serde(default)]
    tool_calls: Option<Value>,
    #[serde(default)]
    citations: Option<Value>,
}

/// Maps a Cohere finish reason to OpenAI's (see the module docs).
pub(crate) fn map_finish_reason(reason: &str) -> FinishReason {
    match reason.to_ascii_uppercase().as_str() {
        "COMPLETE" | "STOP_SEQUENCE" | "ERROR" => FinishReason::Stop,
        "MAX_TOKENS" | "TIMEOUT" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        _ => FinishReason::Other(reason.to_owned()),
    }
}

/// A token count from a JSON number: negative is 0, huge saturates, anything else is `None`.
fn count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64().map(|f| {
                if f.is_finite() && f > 0.0 {
                    f as u64
                } else {
                    0
                }
            })
        }),
        _ => None,
    }
}

/// Usage from Cohere's `usage` object (see the module docs).
pub(crate) fn usage_from(v: &Value) -> Option<Usage> {
    let tokens = v.get("tokens");
    let billed = v.get("billed_units").filter(|b| b.is_object());
    let pick = |key: &str| {
        count(tokens.and_then(|t| t.get(key))).or_else(|| count(billed.and_then(|b| b.get(key))))
    };
    let prompt = pick("input_tokens");
    let completion = pick("output_tokens");
    let cached = count(v.get("cached_tokens"));
    if prompt.is_none() && completion.is_none() && cached.is_none() && billed.is_none() {
        return None;
    }
    let mut u = Usage::new(prompt.unwrap_or(0), completion.unwrap_or(0));
    if let Some(c) = cached {
        u.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(c),
            ..Default::default()
        });
    }
    if let Some(b) = billed {
        u.extra.insert("billed_units".into(), b.clone());
    }
    Some(u)
}

/// A tool call from Cohere's shape; missing ids are generated, empty arguments become `{}`.
fn tool_call(v: &Value) -> ToolCall {
    let id = match v.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => generated_id("call_"),
    };
    let f = v.get("function");
    let name = f
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    ToolCall::function(id, name, arguments_text(f.and_then(|f| f.get("arguments"))))
}

/// Tool-call arguments as JSON text: strings as they are, objects serialized, nothing → `{}`.
fn arguments_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null | Value::String(_)) => "{}".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// Splits Cohere content (a string or a list of parts) into (text, thinking).
fn split_content(v: Option<&Value>) -> (String, String) {
    let mut text = String::new();
    let mut thinking = String::new();
    match v {
        Some(Value::String(s)) => text.push_str(s),
        Some(Value::Array(parts)) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("thinking") => {
                        thinking.push_str(p.get("thinking").and_then(Value::as_str).unwrap_or(""))
                    }
                    _ => text.push_str(p.get("text").and_then(Value::as_str).unwrap_or("")),
                }
            }
        }
        _ => {}
    }
    (text, thinking)
}

/// Translates a decoded Cohere chat response.
pub(crate) fn chat_response(r: WireResponse, model: &str) -> ChatResponse {
    let msg = r.message.unwrap_or_default();
    let (text, mut reasoning) = split_content(msg.content.as_ref());
    if let Some(plan) = msg.tool_plan.filter(|p| !p.is_empty()) {
        reasoning.push_str(&plan);
    }
    let calls: Vec<ToolCall> = match &msg.tool_calls {
        Some(Value::Array(items)) => items.iter().map(tool_call).collect(),
        _ => Vec::new(),
    };
    let mut message = Message::assistant(text.as_str());
    if text.is_empty() && !calls.is_empty() {
        message.content = None;
    }
    if !reasoning.is_empty() {
        message.reasoning_content = Some(reasoning);
    }
    if let Some(c) = msg
        .citations
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
    {
        message.extra.insert("citations".into(), c);
    }
    let mut finish = r.finish_reason.as_deref().map(map_finish_reason);
    if !calls.is_empty() {
        if matches!(finish, None | Some(FinishReason::Stop)) {
            finish = Some(FinishReason::ToolCalls);
        }
        message.tool_calls = Some(calls);
    }
    ChatResponse {
        id: r
            .id
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| generated_id("chatcmpl-")),
        object: "chat.completion".to_owned(),
        created: unix_now(),
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: finish,
            logprobs: r.logprobs.filter(|l| !l.is_null()),
            extra: Default::default(),
        }],
        usage: r.usage.as_ref().and_then(usage_from),
        ..Default::default()
    }
}

/// The chunks of a JSON answer to a stream request: a whole response is replayed; a single
/// stream event goes through the decoder.
fn json_answer_to_chunks(cx: &CallContext, body: &[u8]) -> Result<Vec<ChatChunk>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        http::finish_error(
            cx,
            Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode the response: {e}"),
            ),
        )
    })?;
    if let Some(err) = error_from_json(&value) {
        return Err(http::finish_error(cx, err));
    }
    if value.get("message").is_some_and(Value::is_object) {
        let parsed: WireResponse = serde_json::from_value(value).map_err(|e| {
            http::finish_error(
                cx,
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("could not decode the response: {e}"),
                ),
            )
        })?;
        let resp = chat_response(parsed, &cx.model);
        return Ok(crate::types::stream::response_to_chunks(&resp));
    }
    let mut dec = CohereDecoder::new(&cx.model);
    let mut out = VecDeque::new();
    let ev = SseEvent {
        event: String::new(),
        data: value.to_string(),
    };
    dec.decode(ev, &mut out)
        .and_then(|_| dec.end(&mut out))
        .map_err(|e| http::finish_error(cx, e))?;
    Ok(out.into())
}

// ---------------------------------------------------------------------------------------------
// Stream.

/// Cohere's stream decoder: SSE events with `event:` names until `message-end` and `[DONE]`.
pub(crate) struct CohereDecoder {
    model: String,
    id: String,
    created: i64,
    /// (Cohere's tool index, running index) of the tool calls started so far.
    tools: Vec<(u64, u32)>,
    /// `message-end` was seen.
    ended: bool,
}

impl CohereDecoder {
    pub(crate) fn new(model: &str) -> Self {
        CohereDecoder {
            model: model.to_owned(),
            id: String::new(),
            created: unix_now(),
            tools: Vec::new(),
            ended: false,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatChunk {
        ChatChunk::of_delta(&self.id, self.created, &self.model, delta, finish_reason)
    }

    fn text(&self, content: Option<&str>, reasoning: Option<&str>) -> Option<ChatChunk> {
        let content = content.filter(|s| !s.is_empty());
        let reasoning = reasoning.filter(|s| !s.is_empty());
        if content.is_none() && reasoning.is_none() {
            return None;
        }
        Some(self.chunk(
            Delta {
                content: content.map(str::to_owned),
                reasoning_content: reasoning.map(str::to_owned),
                ..Default::default()
            },
            None,
        ))
    }

    /// The running index of Cohere's tool `index`, registering it when new.
    fn tool_index(&mut self, cohere_index: u64) -> (u32, bool) {
        if let Some((_, i)) = self.tools.iter().find(|(c, _)| *c == cohere_index) {
            return (*i, false);
        }
        let i = self.tools.len() as u32;
        self.tools.push((cohere_index, i));
        (i, true)
    }
}

fn truncated() -> Error {
    Error::new(
        ErrorKind::ApiConnection,
        "the stream ended before message-end: the answer may be incomplete",
    )
}

/// `v.delta.message`
fn delta_message(v: &Value) -> Option<&Value> {
    v.get("delta").and_then(|d| d.get("message"))
}

fn str_at<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v.and_then(|v| v.get(key)).and_then(Value::as_str)
}

impl ChunkDecoder for CohereDecoder {
    type Event = SseEvent;

    fn decode(&mut self, ev: SseEvent, out: &mut VecDeque<ChatChunk>) -> Result<bool> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        if data == "[DONE]" {
            return if self.ended {
                Ok(true)
            } else {
                Err(truncated())
            };
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            let snippet: String = data.chars().take(200).collect();
            Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode a stream event: {e}; data: {snippet:?}"),
            )
        })?;
        let ty = match ev.event.as_str() {
            "" | "message" => v.get("type").and_then(Value::as_str).unwrap_or(""),
            name => name,
        };
        match ty {
            "message-start" => {
                if let Some(id) = v.get("id").and_then(Value::as_str) {
                    self.id = id.to_owned();
                }
                out.push_back(self.chunk(
                    Delta {
                        role: Some(Role::Assistant),
                        ..Default::default()
                    },
                    None,
                ));
            }
            "content-start" | "content-delta" => {
                let c = delta_message(&v).and_then(|m| m.get("content"));
                out.extend(self.text(str_at(c, "text"), str_at(c, "thinking")));
            }
            "tool-plan-delta" => {
                let plan = str_at(delta_message(&v), "tool_plan");
                out.extend(self.text(None, plan));
            }
            "tool-call-start" => {
                let call = delta_message(&v).and_then(|m| m.get("tool_calls"));
                let cohere_index = count(v.get("index")).unwrap_or(self.tools.len() as u64);
                let (index, _) = self.tool_index(cohere_index);
                let id = match str_at(call, "id") {
                    Some(id) if !id.is_empty() => id.to_owned(),
                    _ => generated_id("call_"),
                };
                let f = call.and_then(|c| c.get("function"));
                let args = match f.and_then(|f| f.get("arguments")) {
                    Some(Value::String(s)) => s.clone(),
                    None | Some(Value::Null) => String::new(),
                    Some(other) => other.to_string(),
                };
                let delta = ToolCallDelta {
                    index: Some(index),
                    id: Some(id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(str_at(f, "name").unwrap_or_default().to_owned()),
                        arguments: Some(args),
                    }),
                    extra: Default::default(),
                };
                out.push_back(self.chunk(
                    Delta {
                        tool_calls: Some(vec![delta]),
                        ..Default::default()
                    },
                    None,
                ));
            }
            "tool-call-delta" => {
                let call = delta_message(&v).and_then(|m| m.get("tool_calls"));
                let args = call
                    .and_then(|c| c.get("function"))
                    .and_then(|f| f.get("arguments"));
                let args = match args {
                    Some(Value::String(s)) => s.clone(),
                    None | Some(Value::Null) => return Ok(false),
                    Some(other) => other.to_string(),
                };
                let cohere_index = count(v.get("index")).unwrap_or(0);
                let (index, new) = self.tool_index(cohere_index);
                let delta = ToolCallDelta {
                    index: Some(index),
                    id: new.then(|| generated_id("call_")),
                    kind: new.then(|| "function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(args),
                    }),
                    extra: Default::default(),
                };
                out.push_back(self.chunk(
                    Delta {
                        tool_calls: Some(vec![delta]),
                        ..Default::default()
                    },
                    None,
                ));
            }
            "message-end" => {
                let d = v.get("delta");
                if let Some(msg) = str_at(d, "error").filter(|s| !s.is_empty()) {
                    return Err(Error::new(ErrorKind::InternalServer, msg.to_owned()));
                }
                let mut finish = str_at(d, "finish_reason")
                    .map(map_finish_reason)
                    .unwrap_or(FinishReason::Stop);
                if finish == FinishReason::Stop && !self.tools.is_empty() {
                    finish = FinishReason::ToolCalls;
                }
                out.push_back(self.chunk(Delta::default(), Some(finish)));
                if let Some(usage) = d.and_then(|d| d.get("usage")).and_then(usage_from) {
                    let mut last = self.chunk(Delta::default(), None);
                    last.choices.clear();
                    last.usage = Some(usage);
                    out.push_back(last);
                }
                self.ended = true;
            }
            "error" => {
                let msg = str_at(Some(&v), "message")
                    .or_else(|| str_at(Some(&v), "error"))
                    .unwrap_or("Cohere reported an error in the stream");
                return Err(error_from_json(&v)
                    .unwrap_or_else(|| Error::new(ErrorKind::InternalServer, msg.to_owned())));
            }
            _ => {
                if let Some(err) = error_from_json(&v) {
                    return Err(err);
                }
            }
        }
        Ok(false)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatChunk>) -> Result<()> {
        if self.ended { Ok(()) } else { Err(truncated()) }
    }
}

// ---------------------------------------------------------------------------------------------
// Embeddings.

/// The JSON body of a Cohere v2 embed request (see the module docs).
pub(crate) fn embed_body(req: &EmbeddingRequest, model: &str, cx: &CallContext) -> Result<Value> {
    let Some(texts) = req.input.texts() else {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "provider 'cohere' embeds text, not token arrays",
        )
        .with_provider(cx.provider.clone())
        .with_model(cx.model.clone()));
    };
    if req.user.is_some() {
        cx.unsupported_param("user")?;
    }
    let mut m = Map::new();
    m.insert("model".into(), json!(model));
    m.insert("texts".into(), json!(texts));
    m.insert("input_type".into(), json!(DEFAULT_EMBED_INPUT_TYPE));
    m.insert("embedding_types".into(), json!(["float"]));
    if let Some(d) = req.dimensions {
        m.insert("output_dimension".into(), json!(d));
    }
    for (k, v) in &req.extra_body {
        m.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(m))
}

/// A Cohere embed response, as much of it as is used.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireEmbed {
    #[serde(default)]
    embeddings: Value,
    #[serde(default)]
    meta: Value,
}

fn vector(v: &Value, kind: &str) -> Result<Vec<f32>> {
    let bad = || {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("a `{kind}` embedding is not a list of numbers"),
        )
    };
    match v {
        Value::String(s) if kind == "base64" => crate::types::decode_base64_embedding(s)
            .map_err(|e| Error::new(ErrorKind::InvalidResponse, e)),
        Value::Array(items) => items
            .iter()
            .map(|x| x.as_f64().map(|f| f as f32).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

/// Translates a decoded Cohere embed response: `embeddings` by type (the first of `float`,
/// `int8`, `uint8`, `binary`, `ubinary`, `base64` present) or a bare list (v1 shape).
pub(crate) fn embed_response(r: WireEmbed, model: &str) -> Result<EmbeddingResponse> {
    let (kind, lists) = match &r.embeddings {
        Value::Array(lists) => ("float", lists.as_slice()),
        Value::Object(by_type) => ["float", "int8", "uint8", "binary", "ubinary", "base64"]
            .iter()
            .find_map(|k| match by_type.get(*k) {
                Some(Value::Array(l)) => Some((*k, l.as_slice())),
                _ => None,
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    "the embed answer has no embeddings of a known type",
                )
            })?,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "the embed answer's `embeddings` is neither a list nor an object",
            ));
        }
    };
    let data = lists
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Ok(Embedding {
                object: "embedding".to_owned(),
                index: i as u32,
                embedding: vector(v, kind)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let tokens = count(
        r.meta
            .get("billed_units")
            .and_then(|b| b.get("input_tokens")),
    )
    .or_else(|| count(r.meta.get("tokens").and_then(|b| b.get("input_tokens"))))
    .unwrap_or(0);
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::test_util::{collect, decode_events};
    use crate::types::{ImageUrl, ToolCall};

    fn cx() -> CallContext {
        CallContext::new(reqwest::Client::new(), "cohere", "command-a-03-2025")
    }

    fn dropping() -> CallContext {
        let mut c = cx();
        c.drop_params = true;
        c
    }

    fn weather() -> Tool {
        Tool::function(
            "get_weather",
            "Weather in a city",
            json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        )
    }

    #[test]
    fn url_shapes() {
        assert_eq!(
            cohere_url("https://api.cohere.com/", "chat"),
            "https://api.cohere.com/v2/chat"
        );
        assert_eq!(cohere_url("http://h/v2/chat", "embed"), "http://h/v2/embed");
        assert_eq!(
            cohere_url("http://h/base/v1", "chat"),
            "http://h/base/v2/chat"
        );
    }

    #[test]
    fn body_translates_messages_and_parameters() {
        let call = ToolCall::function("c1", "get_weather", r#"{"city":"Paris"}"#);
        let mut assistant = Message::assistant_tool_calls(vec![call]);
        assistant.reasoning_content = Some("I will look it up.".into());
        let req = ChatRequest::new(
            "cohere/x",
            vec![
                Message::system("Be brief."),
                Message::developer(vec![ContentPart::text("Use metric.")]),
                Message::user(vec![
                    ContentPart::text("What is this?"),
                    ContentPart::ImageUrl {
                        image_url: ImageUrl {
                            url: "data:image/png;base64,AAAA".into(),
                            detail: Some("low".into()),
                        },
                        extra: Default::default(),
                    },
                ])
                .with_name("alice"),
                assistant,
                Message::tool("c1", r#"{"temp":21}"#),
                Message::assistant("21 °C."),
            ],
        )
        .temperature(0.3)
        .top_p(1.0)
        .max_tokens(10)
        .max_completion_tokens(20)
        .stop("END")
        .seed(7)
        .frequency_penalty(0.1)
        .tools(vec![weather().strict(true)])
        .tool_choice(ToolChoice::Required)
        .response_format(ResponseFormat::json_schema(
            "w",
            json!({"type":"object"}),
            true,
        ))
        .reasoning_effort(ReasoningEffort::Low)
        .extra_body(json!({"k": 40, "safety_mode": "STRICT"}));
        let b = chat_body(&req, "command-a", true, &cx()).unwrap();
        assert_eq!(
            b,
            json!({
                "model": "command-a",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "system", "content": "Use metric."},
                    {"role": "user", "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
                    ]},
                    {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "c1", "content": "{\"temp\":21}"},
                    {"role": "assistant", "content": "21 °C."}
                ],
                "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                    "parameters": {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
                "strict_tools": true,
                "tool_choice": "REQUIRED",
                "response_format": {"type": "json_object", "json_schema": {"type": "object"}},
                "max_tokens": 20,
                "stop_sequences": ["END"],
                "temperature": 0.3,
                "p": 0.99,
                "seed": 7,
                "frequency_penalty": 0.1,
                "thinking": {"type": "enabled"},
                "stream": true,
                "k": 40,
                "safety_mode": "STRICT"
            })
        );
    }

    #[test]
    fn tool_choice_forms() {
        let other = Tool::function("other", "x", json!({"type":"object"}));
        let base = ChatRequest::new("x", vec![Message::user("hi")]).tools(vec![weather(), other]);
        let b = chat_body(
            &base.clone().tool_choice(ToolChoice::Auto),
            "m",
            false,
            &cx(),
        )
        .unwrap();
        assert!(b.get("tool_choice").is_none());
        assert_eq!(b["tools"].as_array().unwrap().len(), 2);
        assert!(b.get("stream").is_none());
        let b = chat_body(
            &base.clone().tool_choice(ToolChoice::None),
            "m",
            false,
            &cx(),
        )
        .unwrap();
        assert_eq!(b["tool_choice"], "NONE");
        // a named function: only that tool, and it must be called
        let b = chat_body(
            &base.clone().tool_choice(ToolChoice::function("other")),
            "m",
            false,
            &cx(),
        )
        .unwrap();
        assert_eq!(b["tool_choice"], "REQUIRED");
        assert_eq!(b["tools"].as_array().unwrap().len(), 1);
        assert_eq!(b["tools"][0]["function"]["name"], "other");
        let e = chat_body(
            &base.tool_choice(ToolChoice::function("nope")),
            "m",
            false,
            &cx(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        // a tool without parameters gets an empty object schema (Cohere requires one)
        let mut t = weather();
        t.function.as_mut().unwrap().parameters = None;
        let b = chat_body(
            &ChatRequest::new("x", vec![]).tools(vec![t]),
            "m",
            false,
            &cx(),
        )
        .unwrap();
        assert_eq!(
            b["tools"][0]["function"]["parameters"],
            json!({"type":"object","properties":{}})
        );
    }

    #[test]
    fn unsupported_parameters_fail_or_drop() {
        let req = ChatRequest::new("x", vec![Message::user("hi")])
            .user("u1")
            .n(2)
            .parallel_tool_calls(false)
            .logprobs(true);
        let e = chat_body(&req, "m", false, &cx()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.message().contains("'user'"), "{}", e.message());
        let b = chat_body(&req, "m", false, &dropping()).unwrap();
        assert!(b.get("user").is_none() && b.get("n").is_none());
        assert_eq!(b["logprobs"], true);
        let audio = ChatRequest::new(
            "x",
            vec![Message::user(vec![
                ContentPart::text("hear"),
                ContentPart::input_audio("AAAA", "wav"),
            ])],
        );
        assert_eq!(
            chat_body(&audio, "m", false, &cx()).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        let b = chat_body(&audio, "m", false, &dropping()).unwrap();
        assert_eq!(
            b["messages"][0]["content"],
            json!([{"type":"text","text":"hear"}])
        );
        assert_eq!(
            chat_body(
                &ChatRequest::new("x", vec![Message::tool("", "x")])
                    .message(Message::new(Role::Function, "x")),
                "m",
                false,
                &cx()
            )
            .unwrap_err()
            .kind(),
            ErrorKind::BadRequest
        );
        assert_eq!(clamp_p(0.0), 0.01);
        assert_eq!(clamp_p(0.5), 0.5);
    }

    fn wire(v: Value) -> WireResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn text_response_and_usage() {
        let r = chat_response(
            wire(json!({
                "id": "e759", "finish_reason": "COMPLETE",
                "message": {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "Hmm."},
                    {"type": "text", "text": "The capital "}, {"type": "text", "text": "is Paris."}]},
                "usage": {"billed_units": {"input_tokens": 12, "output_tokens": 7},
                    "tokens": {"input_tokens": 507, "output_tokens": 10}, "cached_tokens": 448}
            })),
            "command-a",
        );
        assert_eq!(r.id, "e759");
        assert_eq!(r.model, "command-a");
        assert_eq!(r.text(), Some("The capital is Paris."));
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("Hmm.")
        );
        assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
        let u = r.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (507, 10, 517)
        );
        assert_eq!(u.cached_tokens(), 448);
        assert_eq!(u.extra["billed_units"]["input_tokens"], 12);
        // billed units only
        let u =
            usage_from(&json!({"billed_units": {"input_tokens": 3, "output_tokens": 2}})).unwrap();
        assert_eq!(u.total_tokens, 5);
        // extreme numbers do not panic
        let u =
            usage_from(&json!({"tokens": {"input_tokens": -5, "output_tokens": 1e300}})).unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (0, u64::MAX));
        assert!(usage_from(&json!({})).is_none());
    }

    #[test]
    fn tool_call_response() {
        let r = chat_response(
            wire(json!({
                "id": "f201", "finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_plan": "I will use the tools.",
                    "tool_calls": [
                        {"id": "weather_1", "type": "function", "function": {"name": "weather", "arguments": "{\"location\":\"SF\"}"}},
                        {"type": "function", "function": {"name": "now", "arguments": null}}
                    ]},
                "usage": {"tokens": {"input_tokens": 1, "output_tokens": 2}}
            })),
            "m",
        );
        assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(r.choices[0].message.content.is_none());
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("I will use the tools.")
        );
        let calls = r.tool_calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "weather_1");
        assert_eq!(calls[0].function.arguments, r#"{"location":"SF"}"#);
        assert!(calls[1].id.starts_with("call_") && calls[1].id.len() > 10);
        assert_eq!(calls[1].function.arguments, "{}");
        // the answer pushed back onto the history sends the plan back as tool_plan
        let req = ChatRequest::new("x", vec![r.choices[0].message.clone()]);
        let b = chat_body(&req, "m", false, &cx()).unwrap();
        assert_eq!(b["messages"][0]["tool_plan"], "I will use the tools.");
    }

    #[test]
    fn finish_reasons() {
        for (c, o) in [
            ("COMPLETE", FinishReason::Stop),
            ("STOP_SEQUENCE", FinishReason::Stop),
            ("MAX_TOKENS", FinishReason::Length),
            ("TOOL_CALL", FinishReason::ToolCalls),
            ("ERROR", FinishReason::Stop),
            ("TIMEOUT", FinishReason::Length),
            ("NEW_ONE", FinishReason::Other("NEW_ONE".into())),
        ] {
            assert_eq!(map_finish_reason(c), o, "{c}");
        }
    }

    fn ev(event: &str, data: Value) -> SseEvent {
        SseEvent {
            event: event.to_owned(),
            data: data.to_string(),
        }
    }

    fn run(events: Vec<SseEvent>) -> (Vec<ChatChunk>, Result<bool>) {
        decode_events(CohereDecoder::new("m"), events)
    }

    fn done() -> SseEvent {
        SseEvent {
            event: String::new(),
            data: "[DONE]".into(),
        }
    }

    #[test]
    fn stream_with_text() {
        let (chunks, r) = run(vec![
            ev(
                "message-start",
                json!({"id": "s1", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": ""}}}),
            ),
            ev(
                "content-start",
                json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
            ),
            ev(
                "content-delta",
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hel"}}}}),
            ),
            ev(
                "content-delta",
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "lo"}}}}),
            ),
            ev("content-end", json!({"type": "content-end", "index": 0})),
            ev(
                "message-end",
                json!({"type": "message-end", "delta": {"finish_reason": "MAX_TOKENS",
                "usage": {"billed_units": {"input_tokens": 1, "output_tokens": 2}, "tokens": {"input_tokens": 3, "output_tokens": 2}}}}),
            ),
            done(),
        ]);
        r.unwrap();
        assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
        assert!(chunks.iter().all(|c| c.id == "s1" && c.model == "m"));
        let last = chunks.last().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.as_ref().unwrap().total_tokens, 5);
        let resp = collect(&chunks);
        assert_eq!(resp.text(), Some("Hello"));
        assert_eq!(resp.finish_reason(), Some(&FinishReason::Length));
    }

    #[test]
    fn stream_with_parallel_tool_calls_and_plan() {
        let start = |i: u64, id: &str, name: &str| {
            ev(
                "tool-call-start",
                json!({"type": "tool-call-start", "index": i,
                "delta": {"message": {"tool_calls": {"id": id, "type": "function", "function": {"name": name, "arguments": ""}}}}}),
            )
        };
        let arg = |i: u64, a: &str| {
            ev(
                "tool-call-delta",
                json!({"type": "tool-call-delta", "index": i,
                "delta": {"message": {"tool_calls": {"function": {"arguments": a}}}}}),
            )
        };
        let (chunks, r) = run(vec![
            ev(
                "message-start",
                json!({"id": "s2", "type": "message-start"}),
            ),
            ev(
                "tool-plan-delta",
                json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}}),
            ),
            ev(
                "tool-plan-delta",
                json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": " call."}}}),
            ),
            start(0, "a", "add"),
            arg(0, "{\"x\":"),
            arg(0, "2}"),
            ev(
                "tool-call-end",
                json!({"type": "tool-call-end", "index": 0}),
            ),
            start(1, "b", "sub"),
            arg(1, "{}"),
            ev(
                "tool-call-end",
                json!({"type": "tool-call-end", "index": 1}),
            ),
            ev(
                "message-end",
                json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}),
            ),
            done(),
        ]);
        r.unwrap();
        let tool_deltas: Vec<&ToolCallDelta> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .collect();
        assert_eq!(tool_deltas[0].index, Some(0));
        assert_eq!(tool_deltas[0].id.as_deref(), Some("a"));
        assert!(
            tool_deltas[1].id.is_none() && tool_deltas[1].function.as_ref().unwrap().name.is_none()
        );
        assert_eq!(tool_deltas[3].index, Some(1));
        let resp = collect(&chunks);
        assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
        assert_eq!(
            resp.choices[0].message.reasoning_content.as_deref(),
            Some("I will call.")
        );
        let calls = resp.tool_calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (
                calls[0].function.name.as_str(),
                calls[0].function.arguments.as_str()
            ),
            ("add", "{\"x\":2}")
        );
        assert_eq!(
            (calls[1].id.as_str(), calls[1].function.name.as_str()),
            ("b", "sub")
        );
        assert!(resp.usage.is_none());
    }

    #[test]
    fn stream_errors_and_truncation() {
        // no message-end: neither [DONE] nor the end of the body is a normal end
        let (_, r) = run(vec![ev("message-start", json!({"id": "x"})), done()]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::ApiConnection);
        let (_, r) = run(vec![ev("message-start", json!({"id": "x"}))]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::ApiConnection);
        // message-end then the body ends without [DONE]: fine
        let (_, r) = run(vec![ev(
            "message-end",
            json!({"delta": {"finish_reason": "COMPLETE"}}),
        )]);
        r.unwrap();
        // an error in message-end
        let (_, r) = run(vec![ev(
            "message-end",
            json!({"type": "message-end", "delta": {"error": "model crashed", "finish_reason": "ERROR"}}),
        )]);
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InternalServer);
        assert_eq!(e.message(), "model crashed");
        // undecodable data
        let (_, r) = run(vec![SseEvent {
            event: "content-delta".into(),
            data: "{oops".into(),
        }]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidResponse);
        // an OpenAI-style error object
        let (_, r) = run(vec![ev(
            "",
            json!({"error": {"message": "slow down", "type": "rate_limit_error"}}),
        )]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::RateLimit);
        // the type from the JSON when the event has no name; unknown events are skipped
        let (chunks, r) = run(vec![
            ev(
                "",
                json!({"type": "content-delta", "delta": {"message": {"content": {"text": "x"}}}}),
            ),
            ev("citation-start", json!({"type": "citation-start"})),
            ev("debug", json!({"prompt": "p"})),
            ev("", json!({"type": "message-end", "delta": {}})),
            done(),
        ]);
        r.unwrap();
        assert_eq!(chunks[0].text(), Some("x"));
        assert_eq!(chunks[1].finish_reason(), Some(&FinishReason::Stop));
    }

    /// Arbitrary bytes through the SSE decoder and the Cohere decoder: errors, never panics.
    #[test]
    fn arbitrary_streams_never_panic() {
        use crate::provider::test_util::fuzz_sse;
        let seeds: [&[u8]; 3] = [
            b"event: message-start\ndata: {\"id\":\"a\",\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\"}}}\n\nevent: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"Hi\"}}}}\n\nevent: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"tokens\":{\"input_tokens\":1,\"output_tokens\":2}}}}\n\ndata: [DONE]\n\n",
            b"event: tool-plan-delta\ndata: {\"delta\":{\"message\":{\"tool_plan\":\"I\"}}}\n\nevent: tool-call-start\ndata: {\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}}}}\n\nevent: tool-call-delta\ndata: {\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":\"{}\"}}}}}\n\nevent: message-end\ndata: {\"delta\":{\"finish_reason\":\"TOOL_CALL\"}}\n\n",
            b"event: message-end\ndata: {\"delta\":{\"error\":\"boom\"}}\n\n",
        ];
        let decoded = fuzz_sse(&seeds, b"event: data{}[]\":,\n-0123456789", 5, 11, |_| {
            CohereDecoder::new("m")
        });
        assert!(decoded > 300, "only {decoded} chunks decoded");
    }

    #[test]
    fn embed_body_and_response() {
        let req = EmbeddingRequest::new("cohere/embed-v4.0", vec!["a", "b"])
            .dimensions(256)
            .encoding_format(crate::types::EncodingFormat::Base64)
            .extra_body(json!({"input_type": "search_query", "truncate": "END"}));
        assert_eq!(
            embed_body(&req, "embed-v4.0", &cx()).unwrap(),
            json!({"model": "embed-v4.0", "texts": ["a", "b"], "input_type": "search_query",
                "embedding_types": ["float"], "output_dimension": 256, "truncate": "END"})
        );
        let plain = embed_body(&EmbeddingRequest::new("x", "a"), "e", &cx()).unwrap();
        assert_eq!(plain["input_type"], DEFAULT_EMBED_INPUT_TYPE);
        assert_eq!(plain["texts"], json!(["a"]));
        let tokens = EmbeddingRequest::new("x", vec![1u32, 2]);
        assert_eq!(
            embed_body(&tokens, "e", &cx()).unwrap_err().kind(),
            ErrorKind::Unsupported
        );

        let r: WireEmbed = serde_json::from_value(json!({
            "id": "f5", "texts": ["a", "b"], "response_type": "embeddings_by_type",
            "embeddings": {"float": [[0.5, -1.0], [0.25, 2]]},
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 10}}
        }))
        .unwrap();
        let out = embed_response(r, "embed-v4.0").unwrap();
        assert_eq!(out.vectors(), vec![&[0.5f32, -1.0][..], &[0.25, 2.0][..]]);
        assert_eq!(out.data[1].index, 1);
        assert_eq!(out.usage.prompt_tokens, 10);
        // v1 shape and int8
        let r: WireEmbed = serde_json::from_value(json!({"embeddings": [[1, 2]]})).unwrap();
        assert_eq!(
            embed_response(r, "e").unwrap().data[0].embedding,
            vec![1.0, 2.0]
        );
        let r: WireEmbed =
            serde_json::from_value(json!({"embeddings": {"int8": [[-3, 4]]}})).unwrap();
        assert_eq!(
            embed_response(r, "e").unwrap().data[0].embedding,
            vec![-3.0, 4.0]
        );
        let r: WireEmbed =
            serde_json::from_value(json!({"embeddings": {"base64": ["zczMPc3MTD4="]}})).unwrap();
        assert_eq!(
            embed_response(r, "e").unwrap().data[0].embedding,
            vec![0.1f32, 0.2]
        );
        for bad in [
            json!({"embeddings": {"float": [["x"]]}}),
            json!({"embeddings": {}}),
            json!({"embeddings": 3}),
        ] {
            let r: WireEmbed = serde_json::from_value(bad).unwrap();
            assert_eq!(
                embed_response(r, "e").unwrap_err().kind(),
                ErrorKind::InvalidResponse
            );
        }
    }
}

#[cfg(test)]
mod helper_examples {
    #[test]
    fn cohere_url() {
        use crate::provider::cohere::cohere_url;
        assert_eq!(
            cohere_url("https://api.cohere.com", "chat"),
            "https://api.cohere.com/v2/chat"
        );
        assert_eq!(
            cohere_url("https://proxy/cohere/v2/", "embed"),
            "https://proxy/cohere/v2/embed"
        );
        assert_eq!(
            cohere_url("https://proxy/v1/chat?k=1", "chat"),
            "https://proxy/v2/chat?k=1"
        );
    }
}
