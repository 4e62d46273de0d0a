//! Ollama's native API (prefix `ollama`): `/api/chat` with NDJSON streaming and `/api/embed`,
//! translated to and from OpenAI's shapes. (`ollama_chat/` reaches Ollama's OpenAI-compatible
//! `/v1` API through the [compat table](super::compat) instead.)
//!
//! - Endpoints: `POST {base}/api/chat`, `POST {base}/api/embed`; the base defaults to
//!   [`DEFAULT_API_BASE`] (`OLLAMA_API_BASE` overrides it; a trailing `/api` or `/v1` is
//!   dropped). No auth locally; with a key (`OLLAMA_API_KEY`, e.g. for ollama.com) it is sent as
//!   `Authorization: Bearer <key>`.
//! - Request: messages keep their roles (`developer` → `system`); text parts are joined;
//!   images must be `data:` URLs and go into the message's `images` (base64) — `http(s)` image
//!   URLs are `Unsupported` (Ollama takes image bytes only); assistant tool calls are sent with
//!   their arguments as JSON objects, and `reasoning_content` as `thinking`; a `tool` message
//!   gets `tool_name` from the call it answers. `temperature`, `top_p`, `seed`, `stop`,
//!   `presence_penalty`, `frequency_penalty` and `max_completion_tokens`/`max_tokens`
//!   (→ `num_predict`) go into `options`; `response_format` `json_object` → `format: "json"`,
//!   `json_schema` → `format: <schema>`; `reasoning_effort` → `think` (`none` → `false`,
//!   `minimal`/`low` → `"low"`, `medium` → `"medium"`, `high` → `"high"`, `xhigh`/`max` →
//!   `"max"`). `tool_choice` `auto` is the default and `none` sends no tools; `required` or a
//!   named function cannot be expressed and are `Unsupported`. `extra_body` is merged last, its
//!   `options` object into `options` (`keep_alive`, `options.num_ctx`, `options.top_k`, …).
//!   `stream` is always sent (`false` for a plain call: Ollama streams by default).
//! - Response: `message.content`, `message.thinking` → `reasoning_content`,
//!   `message.tool_calls` (arguments objects → JSON text, missing ids generated);
//!   `done_reason` `stop` → `stop` (or `tool_calls` when the answer called tools), `length` →
//!   `length`; usage from `prompt_eval_count` / `eval_count`; the durations (`total_duration`,
//!   `load_duration`, `prompt_eval_duration`, `eval_duration`, in nanoseconds) are kept in the
//!   response's extra fields (on the last chunk of a stream). Ollama sends no id: one is
//!   generated.
//! - Streaming: one JSON object per line; text, thinking and whole tool calls become chunks;
//!   the `done: true` line gives the finish reason and a usage-only chunk. An `{"error": "…"}`
//!   line is a typed error; a stream that ends without `done: true` is an `ApiConnection` error.
//! - Embeddings: `input` (one string or several; token arrays are `Unsupported`),
//!   `dimensions`; usage from `prompt_eval_count`. `encoding_format` is a wire detail of
//!   OpenAI's API and is not sent (the vectors arrive as `f32` either way).
//! - Errors: Ollama's `{"error": "…"}` bodies with their HTTP status.

use std::collections::VecDeque;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::decode::{ChunkDecoder, DecodedStream, ErrCtx};
use super::error_map::{error_from_json, request_id};
use super::http::{self, Auth, HttpRequest};
use super::ndjson;
use super::openai::check_native_chat;
use super::{CallContext, Credentials, Provider, generated_id, unix_now};
use crate::error::{Error, ErrorKind, Result};
use crate::types::serde_util::opt_stringish;
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice, Content, ContentPart, Delta,
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, FinishReason,
    FunctionCallDelta, Message, ReasoningEffort, ResponseFormat, ResponseMeta, Role, ToolCall,
    ToolCallDelta, ToolChoice, Usage,
};

/// A local Ollama server.
pub const DEFAULT_API_BASE: &str = "http://localhost:11434";

/// The Ollama native provider (prefix `ollama`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Ollama;

/// The URL of an Ollama API operation (`op` is `chat` or `embed`): `{base}/api/{op}`, with a
/// trailing `/api` or `/v1` of the base dropped first; a query string stays at the end.
pub(crate) fn ollama_url(base: &str, op: &str) -> String {
    let (b, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let mut b = b.trim_end_matches('/');
    for suffix in ["/api/chat", "/api/embed", "/api", "/v1"] {
        if let Some(rest) = b.strip_suffix(suffix) {
            b = rest;
            break;
        }
    }
    let mut url = format!("{b}/api/{op}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

fn auth(cx: &CallContext) -> Auth<'_> {
    match &cx.api_key {
        Some(k) if !k.is_empty() => Auth::Bearer(k.expose()),
        _ => Auth::None,
    }
}

#[async_trait]
impl Provider for Ollama {
    fn name(&self) -> &str {
        "ollama"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            requires_api_base: true,
            ..Credentials::new(
                &["OLLAMA_API_KEY"],
                &["OLLAMA_API_BASE"],
                Some(DEFAULT_API_BASE),
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let body = http::json_body(&chat_body(req, &cx.model, false, cx)?)?;
        let url = ollama_url(cx.require_api_base()?, "chat");
        let headers = http::json_headers(cx, auth(cx), false)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let (parsed, rid) =
            http::read_answer(cx, resp, "message", |r: &WireChat| r.message.is_none()).await?;
        let mut out = chat_response(parsed, &cx.model);
        out.meta.request_id = rid;
        Ok(out)
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let body = http::json_body(&chat_body(req, &cx.model, true, cx)?)?;
        let url = ollama_url(cx.require_api_base()?, "chat");
        let headers = http::json_headers(cx, auth(cx), true)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let mut meta = ResponseMeta::new(cx.provider.clone(), cx.model.clone());
        meta.request_id = request_id(resp.headers());
        if http::is_json(&resp) {
            // One JSON body (a proxy that ignored `stream: true`): replayed as chunks.
            let body = http::read_body(cx, resp).await?;
            let parsed =
                http::decode_answer(cx, &body, "message", |r: &WireChat| r.message.is_none())?;
            let mut whole = chat_response(parsed, &cx.model);
            whole.meta = meta;
            return Ok(ChatStream::from_response(&whole));
        }
        let lines = ndjson::lines(resp, cx.max_response_bytes);
        Ok(ChatStream::new(
            DecodedStream::new(
                lines,
                OllamaDecoder::new(&cx.model),
                ErrCtx::from(cx).with_request_id(meta.request_id.clone()),
            ),
            meta,
        ))
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let body = http::json_body(&embed_body(req, &cx.model, cx)?)?;
        let url = ollama_url(cx.require_api_base()?, "embed");
        let headers = http::json_headers(cx, auth(cx), false)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let (parsed, rid) = http::read_answer(cx, resp, "embeddings", |r: &WireEmbed| {
            r.embeddings.is_empty()
        })
        .await?;
        super::embedding_answer(cx, req, embed_response(parsed, &cx.model), rid)
    }
}

// ---------------------------------------------------------------------------------------------
// Request.

/// The JSON body of an `/api/chat` request for `model`.
pub(crate) fn chat_body(
    req: &ChatRequest,
    model: &str,
    stream: bool,
    cx: &CallContext,
) -> Result<Value> {
    check_native_chat(req, &["logprobs"], cx)?;
    let mut m = Map::new();
    m.insert("model".into(), json!(model));
    m.insert(
        "messages".into(),
        Value::Array(wire_messages(&req.messages, cx)?),
    );
    m.insert("stream".into(), json!(stream));

    let send_tools = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => true,
        Some(ToolChoice::None) => false,
        Some(_) => {
            cx.unsupported_param("tool_choice")?;
            true
        }
    };
    if send_tools && let Some(tools) = &req.tools {
        let mut out = Vec::with_capacity(tools.len());
        for t in tools {
            if t.kind != "function" || t.function.is_none() {
                cx.unsupported_param("tools")?;
                continue;
            }
            out.push(
                serde_json::to_value(t)
                    .map_err(|e| Error::bad_request(format!("could not serialize a tool: {e}")))?,
            );
        }
        if !out.is_empty() {
            m.insert("tools".into(), Value::Array(out));
        }
    }
    if let Some(rf) = &req.response_format {
        match rf {
            ResponseFormat::Text => {}
            ResponseFormat::JsonObject => {
                m.insert("format".into(), json!("json"));
            }
            ResponseFormat::JsonSchema { json_schema } => {
                let format = json_schema.schema.clone().unwrap_or_else(|| json!("json"));
                m.insert("format".into(), format);
            }
            ResponseFormat::Other(_) => cx.unsupported_param("response_format")?,
        }
    }
    if let Some(effort) = &req.reasoning_effort {
        m.insert("think".into(), think(effort));
    }

    let mut options = Map::new();
    if let Some(t) = req.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        options.insert("top_p".into(), json!(p));
    }
    if let Some(n) = req.max_completion_tokens.or(req.max_tokens) {
        options.insert("num_predict".into(), json!(n));
    }
    if let Some(stop) = &req.stop {
        options.insert("stop".into(), json!(stop.to_vec()));
    }
    if let Some(seed) = req.seed {
        options.insert("seed".into(), json!(seed));
    }
    if let Some(v) = req.presence_penalty {
        options.insert("presence_penalty".into(), json!(v));
    }
    if let Some(v) = req.frequency_penalty {
        options.insert("frequency_penalty".into(), json!(v));
    }
    for (k, v) in &req.extra_body {
        match (k.as_str(), v) {
            ("options", Value::Object(extra)) => {
                options.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    if !options.is_empty() {
        m.insert("options".into(), Value::Object(options));
    }
    Ok(Value::Object(m))
}

/// `think` for a reasoning effort (see the module docs).
fn think(effort: &ReasoningEffort) -> Value {
    match effort {
        ReasoningEffort::None => json!(false),
        ReasoningEffort::Minimal | ReasoningEffort::Low => json!("low"),
        ReasoningEffort::Medium => json!("medium"),
        ReasoningEffort::High => json!("high"),
        ReasoningEffort::XHigh | ReasoningEffort::Max => json!("max"),
        other @ ReasoningEffort::Other(_) => json!(other.as_str()),
    }
}

/// The base64 payload of a `data:…;base64,…` URL.
fn data_url_base64(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("data:")?;
    let (header, data) = rest.split_once(',')?;
    header.ends_with(";base64").then_some(data)
}

fn wire_messages(messages: &[Message], cx: &CallContext) -> Result<Vec<Value>> {
    // tool call id → function name, for the `tool_name` of tool results
    let mut names: Vec<(&str, &str)> = Vec::new();
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let role = match &m.role {
            Role::System | Role::Developer => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            other => {
                return Err(Error::bad_request(format!(
                    "provider 'ollama' does not accept messages with role '{}'",
                    other.as_str()
                )));
            }
        };
        let mut w = Map::new();
        w.insert("role".into(), json!(role));
        let mut text = String::new();
        let mut images = Vec::new();
        match &m.content {
            None => {}
            Some(Content::Text(s)) => text.push_str(s),
            Some(Content::Parts(parts)) => {
                for p in parts {
                    match p {
                        ContentPart::Text { text: t, .. } => text.push_str(t),
                        ContentPart::ImageUrl { image_url, .. } => {
                            match data_url_base64(&image_url.url) {
                                Some(data) => images.push(json!(data)),
                                None if image_url.url.starts_with("data:") => {
                                    return Err(Error::bad_request(
                                        "an image data URL must be base64 (data:<type>;base64,…)",
                                    ));
                                }
                                None => cx.unsupported_param("image_url (http URL)")?,
                            }
                        }
                        ContentPart::InputAudio { .. } => cx.unsupported_param("input_audio")?,
                        ContentPart::File { .. } => cx.unsupported_param("file")?,
                        ContentPart::Refusal { refusal, .. } => text.push_str(refusal),
                        ContentPart::Other(_) => cx.unsupported_param("content part")?,
                    }
                }
            }
        }
        w.insert("content".into(), json!(text));
        if !images.is_empty() {
            w.insert("images".into(), Value::Array(images));
        }
        if m.role == Role::Assistant {
            if let Some(thinking) = m.reasoning_content.as_deref().filter(|s| !s.is_empty()) {
                w.insert("thinking".into(), json!(thinking));
            }
            if let Some(calls) = m.tool_calls.as_ref().filter(|c| !c.is_empty()) {
                let mut wire = Vec::with_capacity(calls.len());
                for tc in calls {
                    names.push((tc.id.as_str(), tc.function.name.as_str()));
                    let mut call = Map::new();
                    if !tc.id.is_empty() {
                        call.insert("id".into(), json!(tc.id));
                    }
                    call.insert(
                        "function".into(),
                        json!({"name": tc.function.name, "arguments": arguments_object(tc)?}),
                    );
                    wire.push(Value::Object(call));
                }
                w.insert("tool_calls".into(), Value::Array(wire));
            }
        }
        if m.role == Role::Tool
            && let Some(id) = &m.tool_call_id
        {
            if let Some((_, name)) = names.iter().rev().find(|(i, _)| i == id) {
                w.insert("tool_name".into(), json!(name));
            }
            w.insert("tool_call_id".into(), json!(id));
        }
        out.push(Value::Object(w));
    }
    Ok(out)
}

/// A tool call's arguments as the JSON object Ollama wants.
fn arguments_object(tc: &ToolCall) -> Result<Value> {
    let args = tc.function.arguments.trim();
    if args.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(args) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(Error::bad_request(format!(
            "the arguments of the tool call '{}' are not a JSON object",
            tc.id
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Response.

/// One `/api/chat` answer, or one line of a stream.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireChat {
    #[serde(default, deserialize_with = "opt_stringish")]
    model: Option<String>,
    #[serde(default, deserialize_with = "opt_stringish")]
    created_at: Option<String>,
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    done: Option<bool>,
    #[serde(default, deserialize_with = "opt_stringish")]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<Value>,
    #[serde(default)]
    eval_count: Option<Value>,
    #[serde(default)]
    total_duration: Option<Value>,
    #[serde(default)]
    load_duration: Option<Value>,
    #[serde(default)]
    prompt_eval_duration: Option<Value>,
    #[serde(default)]
    eval_duration: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    #[serde(default, deserialize_with = "opt_stringish")]
    content: Option<String>,
    #[serde(default, deserialize_with = "opt_stringish")]
    thinking: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<Value>>,
}

impl WireChat {
    /// Usage, when the answer reports token counts.
    fn usage(&self) -> Option<Usage> {
        let p = count(self.prompt_eval_count.as_ref());
        let c = count(self.eval_count.as_ref());
        (p.is_some() || c.is_some()).then(|| Usage::new(p.unwrap_or(0), c.unwrap_or(0)))
    }

    /// The durations the answer reports, as extra fields.
    fn durations(&self) -> Map<String, Value> {
        [
            ("total_duration", &self.total_duration),
            ("load_duration", &self.load_duration),
            ("prompt_eval_duration", &self.prompt_eval_duration),
            ("eval_duration", &self.eval_duration),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| v.is_number())
                .map(|v| (k.to_owned(), v.clone()))
        })
        .collect()
    }

    fn created(&self) -> Option<i64> {
        self.created_at.as_deref().and_then(parse_rfc3339)
    }
}

/// A count from a JSON number: negative is 0, huge saturates, anything else is `None`.
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

/// Maps `done_reason` to OpenAI's finish reason; `stop` with tool calls is `tool_calls`.
pub(crate) fn map_done_reason(reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    let r = match reason {
        None | Some("" | "stop" | "load" | "unload") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some(other) => FinishReason::Other(other.to_owned()),
    };
    if r == FinishReason::Stop && has_tool_calls {
        FinishReason::ToolCalls
    } else {
        r
    }
}

/// A tool call from Ollama's shape: arguments (an object) become JSON text, a missing id is
/// generated.
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
    let args = match f.and_then(|f| f.get("arguments")) {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) if s.trim().is_empty() => "{}".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    ToolCall::function(id, name, args)
}

/// Translates a decoded `/api/chat` answer.
pub(crate) fn chat_response(w: WireChat, model: &str) -> ChatResponse {
    let usage = w.usage();
    let extra = w.durations();
    let created = w.created().unwrap_or_else(unix_now);
    let msg = w.message.unwrap_or_default();
    let calls: Vec<ToolCall> = msg.tool_calls.iter().flatten().map(tool_call).collect();
    let text = msg.content.unwrap_or_default();
    let mut message = Message::assistant(text.as_str());
    if text.is_empty() && !calls.is_empty() {
        message.content = None;
    }
    message.reasoning_content = msg.thinking.filter(|t| !t.is_empty());
    let finish = map_done_reason(w.done_reason.as_deref(), !calls.is_empty());
    if !calls.is_empty() {
        message.tool_calls = Some(calls);
    }
    ChatResponse {
        id: generated_id("chatcmpl-"),
        object: "chat.completion".to_owned(),
        created,
        model: w
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| model.to_owned()),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish),
            logprobs: None,
            extra: Default::default(),
        }],
        usage,
        extra,
        ..Default::default()
    }
}

/// Unix seconds of an RFC 3339 timestamp such as `2023-12-12T14:13:43.416799Z` or
/// `2024-01-01T10:00:00+02:00`; `None` when it is not one.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| s.get(from..to)?.parse::<i64>().ok();
    let sep = |at: usize, chars: &[u8]| b.get(at).is_some_and(|c| chars.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b":") => {
            let secs = num(i + 1, i + 3)? * 3600 + num(i + 4, i + 6)? * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let days = crate::clock::days_from_civil(y, mo as u32, d as u32);
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

// ---------------------------------------------------------------------------------------------
// Stream.

/// Ollama's stream decoder: one JSON object per line until `done: true`.
pub(crate) struct OllamaDecoder {
    model: String,
    id: String,
    created: i64,
    role_sent: bool,
    /// Tool calls emitted so far (the running index).
    tools: u32,
    done: bool,
}

impl OllamaDecoder {
    pub(crate) fn new(model: &str) -> Self {
        OllamaDecoder {
            model: model.to_owned(),
            id: generated_id("chatcmpl-"),
            created: 0,
            role_sent: false,
            tools: 0,
            done: false,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatChunk {
        ChatChunk::of_delta(&self.id, self.created, &self.model, delta, finish_reason)
    }
}

impl ChunkDecoder for OllamaDecoder {
    type Event = String;

    fn decode(&mut self, line: String, out: &mut VecDeque<ChatChunk>) -> Result<bool> {
        let invalid = |e: serde_json::Error| {
            let snippet: String = line.chars().take(200).collect();
            Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode a stream line: {e}; line: {snippet:?}"),
            )
        };
        let v: Value = serde_json::from_str(&line).map_err(invalid)?;
        if let Some(err) = error_from_json(&v) {
            return Err(err);
        }
        let w: WireChat = serde_json::from_value(v).map_err(invalid)?;
        if self.created == 0 {
            self.created = w.created().unwrap_or_else(unix_now);
        }
        if let Some(m) = w.model.as_deref().filter(|m| !m.is_empty())
            && m != self.model
        {
            self.model = m.to_owned();
        }
        let mut delta = Delta::default();
        if !self.role_sent {
            delta.role = Some(Role::Assistant);
            self.role_sent = true;
        }
        if let Some(msg) = &w.message {
            delta.content = msg.content.clone().filter(|s| !s.is_empty());
            delta.reasoning_content = msg.thinking.clone().filter(|s| !s.is_empty());
            let calls: Vec<ToolCallDelta> = msg
                .tool_calls
                .iter()
                .flatten()
                .map(|v| {
                    let tc = tool_call(v);
                    let index = self.tools;
                    self.tools += 1;
                    ToolCallDelta {
                        index: Some(index),
                        id: Some(tc.id),
                        kind: Some("function".to_owned()),
                        function: Some(FunctionCallDelta {
                            name: Some(tc.function.name),
                            arguments: Some(tc.function.arguments),
                        }),
                        extra: Default::default(),
                    }
                })
                .collect();
            if !calls.is_empty() {
                delta.tool_calls = Some(calls);
            }
        }
        let carries = delta.role.is_some()
            || delta.content.is_some()
            || delta.reasoning_content.is_some()
            || delta.tool_calls.is_some();
        if carries {
            out.push_back(self.chunk(delta, None));
        }
        if w.done != Some(true) {
            return Ok(false);
        }
        let finish = map_done_reason(w.done_reason.as_deref(), self.tools > 0);
        let mut last = self.chunk(Delta::default(), Some(finish));
        let durations = w.durations();
        match w.usage() {
            Some(usage) => {
                out.push_back(last);
                last = self.chunk(Delta::default(), None);
                last.choices.clear();
                last.usage = Some(usage);
                last.extra = durations;
            }
            None => last.extra = durations,
        }
        out.push_back(last);
        self.done = true;
        Ok(true)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatChunk>) -> Result<()> {
        if self.done {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::ApiConnection,
                "the stream ended before `done: true`: the answer may be incomplete",
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Embeddings.

/// The JSON body of an `/api/embed` request (see the module docs).
pub(crate) fn embed_body(req: &EmbeddingRequest, model: &str, cx: &CallContext) -> Result<Value> {
    let input = match &req.input {
        crate::types::EmbeddingInput::Text(s) => json!(s),
        crate::types::EmbeddingInput::Texts(v) => json!(v),
        _ => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "provider 'ollama' embeds text, not token arrays",
            )
            .with_provider(cx.provider.clone())
            .with_model(cx.model.clone()));
        }
    };
    if req.user.is_some() {
        cx.unsupported_param("user")?;
    }
    let mut m = Map::new();
    m.insert("model".into(), json!(model));
    m.insert("input".into(), input);
    if let Some(d) = req.dimensions {
        m.insert("dimensions".into(), json!(d));
    }
    for (k, v) in &req.extra_body {
        m.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(m))
}

/// An `/api/embed` answer.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireEmbed {
    #[serde(default, deserialize_with = "opt_stringish")]
    model: Option<String>,
    #[serde(default)]
    embeddings: Vec<Value>,
    #[serde(default)]
    prompt_eval_count: Option<Value>,
    #[serde(default)]
    total_duration: Option<Value>,
    #[serde(default)]
    load_duration: Option<Value>,
}

/// Translates a decoded `/api/embed` answer.
pub(crate) fn embed_response(w: WireEmbed, model: &str) -> Result<EmbeddingResponse> {
    let data = w
        .embeddings
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let embedding = v
                .as_array()
                .and_then(|xs| xs.iter().map(|x| x.as_f64().map(|f| f as f32)).collect())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidResponse,
                        format!("embedding {i} is not a list of numbers"),
                    )
                })?;
            Ok(Embedding {
                object: "embedding".to_owned(),
                index: i as u32,
                embedding,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let tokens = count(w.prompt_eval_count.as_ref()).unwrap_or(0);
    let extra = [
        ("total_duration", &w.total_duration),
        ("load_duration", &w.load_duration),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_ref()
            .filter(|v| v.is_number())
            .map(|v| (k.to_owned(), v.clone()))
    })
    .collect();
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data,
        model: w
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| model.to_owned()),
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
        extra,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::test_util::{collect, decode_events};
    use crate::types::Tool;

    fn cx() -> CallContext {
        CallContext::new(reqwest::Client::new(), "ollama", "llama3.2")
    }

    #[test]
    fn urls() {
        assert_eq!(
            ollama_url("http://h:1/api/chat", "embed"),
            "http://h:1/api/embed"
        );
        assert_eq!(
            ollama_url("http://h:1/?x=1", "chat"),
            "http://h:1/api/chat?x=1"
        );
    }

    #[test]
    fn body_translates_messages_options_and_tools() {
        let call = ToolCall::function("call_1", "subtract", r#"{"x":2,"y":5}"#);
        let mut assistant = Message::assistant_tool_calls(vec![call]);
        assistant.reasoning_content = Some("Need the tool.".into());
        let req = ChatRequest::new(
            "ollama/qwen3",
            vec![
                Message::developer("You are a calculator."),
                Message::user(vec![
                    ContentPart::text("What is "),
                    ContentPart::text("this?"),
                    ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
                ]),
                assistant,
                Message::tool("call_1", "-3"),
            ],
        )
        .temperature(0.1)
        .top_p(0.8)
        .max_completion_tokens(64)
        .stop(["END"])
        .seed(9)
        .tools(vec![Tool::function(
            "subtract",
            "x - y",
            json!({"type":"object"}),
        )])
        .response_format(ResponseFormat::JsonObject)
        .reasoning_effort(ReasoningEffort::High)
        .extra_body(json!({"keep_alive": "10m", "options": {"num_ctx": 8192, "temperature": 0.2}}));
        let b = chat_body(&req, "qwen3", true, &cx()).unwrap();
        assert_eq!(
            b,
            json!({
                "model": "qwen3",
                "messages": [
                    {"role": "system", "content": "You are a calculator."},
                    {"role": "user", "content": "What is this?", "images": ["iVBORw0KGgo="]},
                    {"role": "assistant", "content": "", "thinking": "Need the tool.",
                        "tool_calls": [{"id": "call_1", "function": {"name": "subtract", "arguments": {"x": 2, "y": 5}}}]},
                    {"role": "tool", "content": "-3", "tool_name": "subtract", "tool_call_id": "call_1"}
                ],
                "stream": true,
                "tools": [{"type": "function", "function": {"name": "subtract", "description": "x - y", "parameters": {"type": "object"}}}],
                "format": "json",
                "think": "high",
                "keep_alive": "10m",
                "options": {"temperature": 0.2, "top_p": 0.8, "num_predict": 64, "stop": ["END"], "seed": 9, "num_ctx": 8192}
            })
        );
        // plain call: stream false, no options
        let b = chat_body(
            &ChatRequest::new("x", vec![Message::user("hi")]),
            "m",
            false,
            &cx(),
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": false})
        );
        // json_schema → the schema; tool_choice none → no tools; effort none → think false
        let req = ChatRequest::new("x", vec![Message::user("hi")])
            .response_format(ResponseFormat::json_schema(
                "p",
                json!({"type":"object","properties":{"a":{"type":"number"}}}),
                true,
            ))
            .tools(vec![Tool::function("f", "d", json!({}))])
            .tool_choice(ToolChoice::None)
            .reasoning_effort(ReasoningEffort::None);
        let b = chat_body(&req, "m", false, &cx()).unwrap();
        assert_eq!(
            b["format"],
            json!({"type":"object","properties":{"a":{"type":"number"}}})
        );
        assert!(b.get("tools").is_none());
        assert_eq!(b["think"], false);
    }

    #[test]
    fn unsupported_inputs() {
        let http_image = ChatRequest::new(
            "x",
            vec![Message::user(vec![
                ContentPart::text("hi"),
                ContentPart::image_url("https://x/cat.png"),
            ])],
        );
        let e = chat_body(&http_image, "m", false, &cx()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.message().contains("image_url"));
        let mut drop = cx();
        drop.drop_params = true;
        let b = chat_body(&http_image, "m", false, &drop).unwrap();
        assert!(b["messages"][0].get("images").is_none());
        for choice in [ToolChoice::Required, ToolChoice::function("f")] {
            let req = ChatRequest::new("x", vec![Message::user("hi")]).tool_choice(choice);
            assert_eq!(
                chat_body(&req, "m", false, &cx()).unwrap_err().kind(),
                ErrorKind::Unsupported
            );
        }
        let bad_args = ChatRequest::new(
            "x",
            vec![Message::assistant_tool_calls(vec![ToolCall::function(
                "c", "f", "[1]",
            )])],
        );
        assert_eq!(
            chat_body(&bad_args, "m", false, &cx()).unwrap_err().kind(),
            ErrorKind::BadRequest
        );
        let not_b64 = ChatRequest::new(
            "x",
            vec![Message::user(vec![ContentPart::image_url(
                "data:image/png,abc",
            )])],
        );
        assert_eq!(
            chat_body(&not_b64, "m", false, &cx()).unwrap_err().kind(),
            ErrorKind::BadRequest
        );
        assert_eq!(
            chat_body(
                &ChatRequest::new("x", vec![Message::user("hi")]).logprobs(true),
                "m",
                false,
                &cx()
            )
            .unwrap_err()
            .kind(),
            ErrorKind::Unsupported
        );
    }

    fn wire(v: Value) -> WireChat {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn response_with_text_thinking_usage_and_durations() {
        let r = chat_response(
            wire(json!({
                "model": "llama3.2", "created_at": "2023-12-12T14:13:43.416799Z",
                "message": {"role": "assistant", "content": "Hello!", "thinking": "greet"},
                "done": true, "done_reason": "stop", "total_duration": 5191566416u64, "load_duration": 2154458,
                "prompt_eval_count": 26, "prompt_eval_duration": 383809000, "eval_count": 298, "eval_duration": 4799921000u64
            })),
            "fallback",
        );
        assert_eq!(r.text(), Some("Hello!"));
        assert_eq!(r.model, "llama3.2");
        assert_eq!(r.created, 1_702_390_423);
        assert!(r.id.starts_with("chatcmpl-"));
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("greet")
        );
        assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(r.usage.as_ref().unwrap().total_tokens, 324);
        assert_eq!(r.extra["total_duration"], 5191566416u64);
        assert_eq!(r.extra["eval_duration"], 4799921000u64);
    }

    #[test]
    fn response_with_tool_calls() {
        let r = chat_response(
            wire(
                json!({"message": {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"index": 0, "name": "add", "arguments": {"x": 2, "y": 5}}},
                {"id": "call_b", "function": {"name": "now", "arguments": {}}}]},
                "done": true, "done_reason": "stop"}),
            ),
            "m",
        );
        assert_eq!(r.model, "m");
        assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(r.choices[0].message.content.is_none());
        let calls = r.tool_calls();
        assert!(calls[0].id.starts_with("call_"));
        assert_eq!(calls[0].function.arguments, r#"{"x":2,"y":5}"#);
        assert_eq!(calls[1].id, "call_b");
        assert!(r.usage.is_none());
        assert_eq!(map_done_reason(Some("length"), true), FinishReason::Length);
        assert_eq!(
            map_done_reason(Some("weird"), false),
            FinishReason::Other("weird".into())
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-02-29T12:00:00+02:00"),
            Some(1_709_200_800)
        );
        assert_eq!(
            parse_rfc3339("2026-08-04T19:59:02.854866Z"),
            Some(1_785_873_542)
        );
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00Zx",
            "é024-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    fn run(lines: &[Value]) -> (Vec<ChatChunk>, Result<bool>) {
        decode_events(OllamaDecoder::new("m"), lines.iter().map(Value::to_string))
    }

    #[test]
    fn stream_with_text_thinking_and_usage() {
        let (chunks, r) = run(&[
            json!({"model": "qwen3", "created_at": "2026-08-04T19:59:02.854866Z", "message": {"role": "assistant", "content": "", "thinking": "Hmm"}, "done": false}),
            json!({"model": "qwen3", "message": {"role": "assistant", "content": "Hi"}, "done": false}),
            json!({"model": "qwen3", "message": {"role": "assistant", "content": " there"}, "done": false}),
            json!({"model": "qwen3", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "length",
                "total_duration": 10, "prompt_eval_count": 7, "eval_count": 3}),
        ]);
        r.unwrap();
        assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
        assert!(
            chunks
                .iter()
                .all(|c| c.created == 1_785_873_542 && c.model == "qwen3")
        );
        let last = chunks.last().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.as_ref().unwrap().total_tokens, 10);
        assert_eq!(last.extra["total_duration"], 10);
        let resp = collect(&chunks);
        assert_eq!(resp.text(), Some("Hi there"));
        assert_eq!(
            resp.choices[0].message.reasoning_content.as_deref(),
            Some("Hmm")
        );
        assert_eq!(resp.finish_reason(), Some(&FinishReason::Length));
        assert_eq!(resp.extra["total_duration"], 10);
    }

    #[test]
    fn stream_with_parallel_tool_calls() {
        let (chunks, r) = run(&[
            json!({"message": {"role": "assistant", "content": "Let me"}, "done": false}),
            json!({"message": {"role": "assistant", "content": "", "tool_calls": [
                {"id": "a", "function": {"index": 0, "name": "add", "arguments": {"x": 1}}},
                {"function": {"index": 1, "name": "sub", "arguments": {"y": 2}}}]}, "done": false}),
            json!({"message": {"role": "assistant", "content": "", "tool_calls": [
                {"id": "c", "function": {"name": "mul", "arguments": {}}}]}, "done": false}),
            json!({"message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"}),
        ]);
        r.unwrap();
        let indices: Vec<u32> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .map(|t| t.index.unwrap())
            .collect();
        assert_eq!(indices, [0, 1, 2]);
        let resp = collect(&chunks);
        assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
        let calls = resp.tool_calls();
        assert_eq!(calls.len(), 3);
        assert_eq!(
            (calls[0].id.as_str(), calls[0].function.arguments.as_str()),
            ("a", r#"{"x":1}"#)
        );
        assert!(calls[1].id.starts_with("call_"));
        assert_eq!(calls[2].function.arguments, "{}");
        // no usage reported: no usage chunk
        assert!(resp.usage.is_none());
    }

    #[test]
    fn stream_errors() {
        let (chunks, r) = run(&[
            json!({"message": {"content": "a"}, "done": false}),
            json!({"error": "an error was encountered while running the model"}),
        ]);
        assert_eq!(chunks.len(), 1);
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InternalServer);
        assert_eq!(
            e.message(),
            "an error was encountered while running the model"
        );
        let (_, r) = run(&[json!({"message": {"content": "a"}, "done": false})]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::ApiConnection);
        let mut d = OllamaDecoder::new("m");
        let mut out = VecDeque::new();
        assert_eq!(
            d.decode("{not json".into(), &mut out).unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
        assert_eq!(
            d.decode(r#"{"message": 3}"#.into(), &mut out)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidResponse
        );
    }

    /// Arbitrary bytes through the NDJSON splitter and the Ollama decoder: errors, never panics.
    #[test]
    fn arbitrary_streams_never_panic() {
        use crate::provider::ndjson::NdjsonDecoder;
        use crate::provider::test_util::fuzz_decoder;
        use crate::testutil::{Rng, fuzz_inputs};
        let seeds: [&[u8]; 3] = [
            b"{\"model\":\"m\",\"created_at\":\"2026-08-04T19:59:02.854866Z\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":1,\"total_duration\":5}\n",
            b"{\"message\":{\"content\":\"\",\"thinking\":\"t\",\"tool_calls\":[{\"function\":{\"index\":0,\"name\":\"f\",\"arguments\":{\"a\":1}}}]},\"done\":false}\n{\"done\":true}\n",
            b"{\"message\":{\"content\":\"x\"},\"done\":false}\n{\"error\":\"boom\"}\n",
        ];
        let decoded = fuzz_decoder(
            fuzz_inputs(&seeds, b"{}[]\":,\n0123456789truefalsedone", 3000, 13),
            &mut Rng::new(21),
            || NdjsonDecoder::new(1 << 16),
            |_| OllamaDecoder::new("m"),
        );
        assert!(decoded > 300, "only {decoded} chunks decoded");
    }

    #[test]
    fn embeddings() {
        let req = EmbeddingRequest::new("ollama/all-minilm", vec!["a", "b"])
            .dimensions(8)
            .encoding_format(crate::types::EncodingFormat::Base64)
            .extra_body(json!({"truncate": false, "keep_alive": "1m"}));
        assert_eq!(
            embed_body(&req, "all-minilm", &cx()).unwrap(),
            json!({"model": "all-minilm", "input": ["a", "b"], "dimensions": 8, "truncate": false, "keep_alive": "1m"})
        );
        let one = embed_body(&EmbeddingRequest::new("x", "a"), "e", &cx()).unwrap();
        assert_eq!(one["input"], "a");
        assert_eq!(
            embed_body(&EmbeddingRequest::new("x", vec![1u32]), "e", &cx())
                .unwrap_err()
                .kind(),
            ErrorKind::Unsupported
        );
        let w: WireEmbed = serde_json::from_value(json!({"model": "all-minilm",
            "embeddings": [[0.5, -1], [2, 0.25]], "total_duration": 14143917, "prompt_eval_count": 8})).unwrap();
        let r = embed_response(w, "x").unwrap();
        assert_eq!(r.vectors(), vec![&[0.5f32, -1.0][..], &[2.0, 0.25][..]]);
        assert_eq!(r.usage.prompt_tokens, 8);
        assert_eq!(r.model, "all-minilm");
        assert_eq!(r.extra["total_duration"], 14143917);
        let w: WireEmbed = serde_json::from_value(json!({"embeddings": [["x"]]})).unwrap();
        assert_eq!(
            embed_response(w, "x").unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
    }
}

#[cfg(test)]
mod helper_examples {
    #[test]
    fn ollama_url() {
        use crate::provider::ollama::ollama_url;
        assert_eq!(
            ollama_url("http://localhost:11434", "chat"),
            "http://localhost:11434/api/chat"
        );
        assert_eq!(
            ollama_url("http://h:11434/v1/", "embed"),
            "http://h:11434/api/embed"
        );
        assert_eq!(
            ollama_url("https://ollama.com/api", "chat"),
            "https://ollama.com/api/chat"
        );
    }
}
