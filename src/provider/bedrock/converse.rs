//! Pure translation between OpenAI's shapes and Bedrock's Converse API: request body, response,
//! stream events (as decoded [`Frame`]s) and errors.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::eventstream::Frame;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::CallContext;
use crate::provider::decode::ChunkDecoder;
use crate::provider::error_map::error_from_response;
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, Choice, Content, ContentPart, Delta, FinishReason,
    FunctionCallDelta, Message, PromptTokensDetails, ReasoningEffort, ResponseFormat, Role,
    ToolCall, ToolCallDelta, ToolChoice, Usage,
};

/// Name of the tool that carries a `response_format` answer (as Python LiteLLM names it).
pub const JSON_TOOL: &str = "json_tool_call";

/// Converse request members that `extra_body` may set at the top level; every other
/// `extra_body` key goes into `additionalModelRequestFields`.
const TOP_LEVEL: &[&str] = &[
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "guardrailConfig",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
    "inferenceConfig",
    "toolConfig",
    "system",
    "messages",
];

/// A Converse request body and what decoding its answer needs.
#[derive(Debug, Clone)]
pub(crate) struct ConverseBody {
    /// The JSON body.
    pub(crate) body: Value,
    /// Set when `response_format` was turned into the forced tool [`JSON_TOOL`].
    pub(crate) json_tool: bool,
}

/// Builds the Converse body of `req` (see the module docs of [`super`] for the mapping).
pub(crate) fn converse_body(req: &ChatRequest, cx: &CallContext) -> Result<ConverseBody> {
    check_unsupported(req, cx)?;
    let mut body = Map::new();
    let (system, messages, has_tool_blocks) = convert_messages(&req.messages, cx)?;
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(messages));

    let mut inference = Map::new();
    if let Some(n) = req.max_completion_tokens.or(req.max_tokens) {
        inference.insert("maxTokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if let Some(stop) = &req.stop {
        let seqs = stop.to_vec();
        if !seqs.is_empty() {
            inference.insert("stopSequences".into(), json!(seqs));
        }
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }

    let (tool_config, json_tool) = tool_config(req, cx, has_tool_blocks)?;
    if let Some(tc) = tool_config {
        body.insert("toolConfig".into(), tc);
    }

    let mut additional = Map::new();
    if let Some(effort) = &req.reasoning_effort {
        let budget = match effort {
            ReasoningEffort::None => None,
            ReasoningEffort::Minimal | ReasoningEffort::Low => Some(1024),
            ReasoningEffort::Medium => Some(2048),
            ReasoningEffort::High | ReasoningEffort::XHigh | ReasoningEffort::Max => Some(4096),
            ReasoningEffort::Other(_) => {
                cx.unsupported_param("reasoning_effort")?;
                None
            }
        };
        if let Some(budget) = budget {
            if cx.model.contains("claude") {
                additional.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": budget}),
                );
            } else {
                cx.unsupported_param("reasoning_effort")?;
            }
        }
    }
    for (k, v) in &req.extra_body {
        if k == "additionalModelRequestFields" {
            if let Value::Object(m) = v {
                additional.extend(m.clone());
            }
        } else if TOP_LEVEL.contains(&k.as_str()) {
            match (body.get_mut(k), v) {
                (Some(Value::Object(ours)), Value::Object(theirs)) => {
                    ours.extend(theirs.clone());
                }
                _ => {
                    body.insert(k.clone(), v.clone());
                }
            }
        } else {
            additional.insert(k.clone(), v.clone());
        }
    }
    if !additional.is_empty() {
        body.insert(
            "additionalModelRequestFields".into(),
            Value::Object(additional),
        );
    }
    Ok(ConverseBody {
        body: Value::Object(body),
        json_tool,
    })
}

/// OpenAI parameters Converse has no field for.
fn check_unsupported(req: &ChatRequest, cx: &CallContext) -> Result<()> {
    let set = [
        ("n", req.n.is_some_and(|n| n > 1)),
        ("seed", req.seed.is_some()),
        ("presence_penalty", req.presence_penalty.is_some()),
        ("frequency_penalty", req.frequency_penalty.is_some()),
        ("logit_bias", req.logit_bias.is_some()),
        ("logprobs", req.logprobs == Some(true)),
        ("top_logprobs", req.top_logprobs.is_some()),
        ("user", req.user.is_some()),
        (
            "parallel_tool_calls",
            req.parallel_tool_calls == Some(false),
        ),
        ("modalities", req.modalities.is_some()),
        ("audio", req.audio.is_some()),
        ("prediction", req.prediction.is_some()),
        ("store", req.store == Some(true)),
        ("metadata", req.store_metadata.is_some()),
        ("service_tier", req.service_tier.is_some()),
        ("safety_identifier", req.safety_identifier.is_some()),
        ("prompt_cache_key", req.prompt_cache_key.is_some()),
        (
            "prompt_cache_retention",
            req.prompt_cache_retention.is_some(),
        ),
        ("verbosity", req.verbosity.is_some()),
        ("web_search_options", req.web_search_options.is_some()),
        ("functions", req.functions.is_some()),
        ("function_call", req.function_call.is_some()),
    ];
    for (name, is_set) in set {
        if is_set {
            cx.unsupported_param(name)?;
        }
    }
    Ok(())
}

/// Block kinds a caller may send as raw Converse content blocks (`ContentPart::Other`).
const NATIVE_BLOCKS: &[&str] = &[
    "text",
    "image",
    "document",
    "video",
    "cachePoint",
    "guardContent",
    "toolUse",
    "toolResult",
    "reasoningContent",
];

fn native_block(v: &Value) -> Option<Value> {
    let obj = v.as_object()?;
    (obj.len() == 1 && obj.keys().all(|k| NATIVE_BLOCKS.contains(&k.as_str()))).then(|| v.clone())
}

fn cache_point() -> Value {
    json!({"cachePoint": {"type": "default"}})
}

/// `data:<mime>;base64,<data>` → (mime, data).
fn data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    Some((mime.split(';').next().unwrap_or(mime), data))
}

fn image_block(url: &str, cx: &CallContext) -> Result<Option<Value>> {
    if let Some((mime, data)) = data_url(url) {
        let format = match mime.to_ascii_lowercase().as_str() {
            "image/png" => "png",
            "image/jpeg" | "image/jpg" => "jpeg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("Bedrock takes png, jpeg, gif and webp images, not {other:?}"),
                ));
            }
        };
        return Ok(Some(
            json!({"image": {"format": format, "source": {"bytes": data.trim()}}}),
        ));
    }
    if url.starts_with("s3://") {
        let ext = url.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        let format = match ext.as_str() {
            "jpg" | "jpeg" => "jpeg",
            "png" | "gif" | "webp" => ext.as_str(),
            _ => "png",
        };
        return Ok(Some(
            json!({"image": {"format": format, "source": {"s3Location": {"uri": url}}}}),
        ));
    }
    if url.starts_with("data:") {
        return Err(Error::bad_request("image data URLs must be base64-encoded"));
    }
    // Converse takes image bytes or S3 locations only; this crate does not download URLs.
    cx.unsupported_param("image_url")?;
    Ok(None)
}

fn document_block(file: &crate::types::FileData, cx: &CallContext) -> Result<Option<Value>> {
    let Some(data) = &file.file_data else {
        cx.unsupported_param("file")?;
        return Ok(None);
    };
    let (mime, b64) = data_url(data).unwrap_or(("", data.as_str()));
    let ext = file
        .filename
        .as_deref()
        .and_then(|f| f.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()));
    let format = match (mime, ext.as_deref()) {
        ("application/pdf", _) | (_, Some("pdf")) => "pdf",
        ("text/csv", _) | (_, Some("csv")) => "csv",
        ("text/html", _) | (_, Some("html")) => "html",
        ("text/markdown", _) | (_, Some("md")) => "md",
        ("text/plain", _) | (_, Some("txt")) => "txt",
        ("application/msword", _) | (_, Some("doc")) => "doc",
        (_, Some("docx")) => "docx",
        ("application/vnd.ms-excel", _) | (_, Some("xls")) => "xls",
        (_, Some("xlsx")) => "xlsx",
        _ => {
            cx.unsupported_param("file")?;
            return Ok(None);
        }
    };
    // Document names allow letters, digits, spaces, hyphens, parentheses and brackets.
    let name: String = file
        .filename
        .as_deref()
        .map(|f| f.rsplit_once('.').map_or(f, |(n, _)| n))
        .unwrap_or("document")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -()[]".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = if name.trim().is_empty() {
        "document".to_owned()
    } else {
        name
    };
    Ok(Some(
        json!({"document": {"format": format, "name": name, "source": {"bytes": b64.trim()}}}),
    ))
}

/// Content blocks of a user or tool message.
fn user_blocks(content: &Content, cx: &CallContext, out: &mut Vec<Value>) -> Result<()> {
    match content {
        Content::Text(s) => {
            if !s.is_empty() {
                out.push(json!({"text": s}));
            }
        }
        Content::Parts(parts) => {
            for part in parts {
                let cached = match part {
                    ContentPart::Text { text, extra } => {
                        if !text.is_empty() {
                            out.push(json!({"text": text}));
                        }
                        extra.contains_key("cache_control")
                    }
                    ContentPart::ImageUrl { image_url, extra } => {
                        if let Some(b) = image_block(&image_url.url, cx)? {
                            out.push(b);
                        }
                        extra.contains_key("cache_control")
                    }
                    ContentPart::File { file, extra } => {
                        if let Some(b) = document_block(file, cx)? {
                            out.push(b);
                        }
                        extra.contains_key("cache_control")
                    }
                    ContentPart::InputAudio { .. } => {
                        cx.unsupported_param("input_audio")?;
                        false
                    }
                    ContentPart::Refusal { .. } => false,
                    ContentPart::Other(v) => match native_block(v) {
                        Some(b) => {
                            out.push(b);
                            false
                        }
                        None => {
                            let kind = v.get("type").and_then(Value::as_str).unwrap_or("unknown");
                            cx.unsupported_param(&format!("content part of type {kind:?}"))?;
                            false
                        }
                    },
                };
                if cached {
                    out.push(cache_point());
                }
            }
        }
    }
    Ok(())
}

type Converted = (Vec<Value>, Vec<Value>, bool);

/// OpenAI messages → (`system` blocks, `messages`, whether any toolUse/toolResult was written).
/// Tool results become user turns; adjacent turns of one role are merged, since Converse wants
/// user and assistant turns to alternate.
fn convert_messages(messages: &[Message], cx: &CallContext) -> Result<Converted> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    let mut tool_blocks = false;
    for (i, m) in messages.iter().enumerate() {
        let (role, blocks) = match &m.role {
            Role::System | Role::Developer => {
                if let Some(c) = &m.content {
                    let mut blocks = Vec::new();
                    user_blocks(c, cx, &mut blocks)?;
                    for b in blocks {
                        if b.get("text").is_some() || b.get("cachePoint").is_some() {
                            system.push(b);
                        } else {
                            return Err(Error::bad_request(format!(
                                "messages[{i}]: Bedrock system prompts take text only"
                            )));
                        }
                    }
                }
                continue;
            }
            Role::User => {
                let mut blocks = Vec::new();
                if let Some(c) = &m.content {
                    user_blocks(c, cx, &mut blocks)?;
                }
                ("user", blocks)
            }
            Role::Assistant => {
                let mut blocks = Vec::new();
                if let Some(tb) = m.extra.get("thinking_blocks").and_then(Value::as_array) {
                    for t in tb {
                        if let (Some(text), Some(sig)) = (
                            t.get("thinking").and_then(Value::as_str),
                            t.get("signature").and_then(Value::as_str),
                        ) {
                            blocks.push(json!({"reasoningContent": {"reasoningText": {"text": text, "signature": sig}}}));
                        }
                    }
                }
                if let Some(c) = &m.content {
                    user_blocks(c, cx, &mut blocks)?;
                }
                for call in m.tool_calls.iter().flatten() {
                    if call.kind != "function" {
                        cx.unsupported_param("tool_calls")?;
                        continue;
                    }
                    let input: Value = call.function.parse_arguments().map_err(|e| {
                        Error::bad_request(format!(
                            "messages[{i}]: the arguments of tool call {:?} are not JSON: {e}",
                            call.id
                        ))
                    })?;
                    blocks.push(json!({"toolUse": {
                        "toolUseId": call.id, "name": call.function.name, "input": input
                    }}));
                    tool_blocks = true;
                }
                ("assistant", blocks)
            }
            Role::Tool => {
                let id = m.tool_call_id.as_deref().ok_or_else(|| {
                    Error::bad_request(format!("messages[{i}]: a tool message needs tool_call_id"))
                })?;
                let mut content = Vec::new();
                if let Some(c) = &m.content {
                    user_blocks(c, cx, &mut content)?;
                }
                if content.is_empty() {
                    content.push(json!({"text": ""}));
                }
                tool_blocks = true;
                (
                    "user",
                    vec![json!({"toolResult": {"toolUseId": id, "content": content}})],
                )
            }
            other => {
                return Err(Error::bad_request(format!(
                    "messages[{i}]: Bedrock has no role {:?}",
                    other.as_str()
                )));
            }
        };
        match turns.last_mut() {
            Some((r, b)) if *r == role => b.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    Ok((system, messages, tool_blocks))
}

/// `toolConfig` from tools, tool_choice and response_format; and whether the answer comes
/// through the forced [`JSON_TOOL`].
fn tool_config(
    req: &ChatRequest,
    cx: &CallContext,
    history_has_tools: bool,
) -> Result<(Option<Value>, bool)> {
    let mut tools = Vec::new();
    for t in req.tools.iter().flatten() {
        match (&t.function, t.kind.as_str()) {
            (Some(f), "function") => {
                let mut spec = Map::new();
                spec.insert("name".into(), json!(f.name));
                if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                    spec.insert("description".into(), json!(d));
                }
                let schema = f
                    .parameters
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
                spec.insert("inputSchema".into(), json!({ "json": schema }));
                if let Some(s) = f.strict {
                    spec.insert("strict".into(), json!(s));
                }
                tools.push(json!({ "toolSpec": spec }));
            }
            _ => cx.unsupported_param(&format!("tools of type {:?}", t.kind))?,
        }
    }
    let mut choice = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => None,
        Some(ToolChoice::Required) => Some(json!({"any": {}})),
        Some(ToolChoice::Function(name)) => Some(json!({"tool": {"name": name}})),
        Some(ToolChoice::None) => {
            // Converse has no "none": drop the tools, unless the history holds tool blocks,
            // which Converse only accepts with a toolConfig (then the model decides).
            if !history_has_tools {
                tools.clear();
            }
            None
        }
        Some(ToolChoice::Other(_)) => {
            cx.unsupported_param("tool_choice")?;
            None
        }
    };
    let mut json_tool = false;
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::Other(_)) => cx.unsupported_param("response_format")?,
        Some(rf @ (ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })) => {
            if !tools.is_empty() {
                // The answer would have to come through a forced tool, which rules out others.
                cx.unsupported_param("response_format")?;
            } else {
                let (schema, description) = match rf {
                    ResponseFormat::JsonSchema { json_schema } => (
                        json_schema
                            .schema
                            .clone()
                            .unwrap_or_else(|| json!({"type": "object"})),
                        json_schema.description.clone(),
                    ),
                    _ => (json!({"type": "object"}), None),
                };
                tools.push(json!({"toolSpec": {
                    "name": JSON_TOOL,
                    "description": description.unwrap_or_else(|| "Give the answer as JSON in the arguments of this tool.".into()),
                    "inputSchema": {"json": schema},
                }}));
                choice = Some(json!({"tool": {"name": JSON_TOOL}}));
                json_tool = true;
            }
        }
    }
    if tools.is_empty() {
        return Ok((None, false));
    }
    let mut tc = Map::new();
    tc.insert("tools".into(), Value::Array(tools));
    if let Some(c) = choice {
        tc.insert("toolChoice".into(), c);
    }
    Ok((Some(Value::Object(tc)), json_tool))
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// Bedrock `stopReason` → OpenAI finish reason (wire-formats.md §1.2). The malformed-output
/// reasons are errors: the model's answer cannot be trusted.
pub(crate) fn finish_reason(stop: &str) -> Result<FinishReason> {
    Ok(match stop {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        "malformed_model_output" | "malformed_tool_use" => {
            return Err(Error::new(
                ErrorKind::InternalServer,
                format!("the model produced malformed output (stopReason {stop})"),
            ));
        }
        other => FinishReason::Other(other.to_owned()),
    })
}

fn count(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f > 0.0).map(|f| f as u64))
            .unwrap_or(0),
        _ => 0,
    }
}

/// Converse `usage` → OpenAI usage: cache reads and writes are part of the prompt.
pub(crate) fn usage(v: &Value) -> Usage {
    let input = count(v, "inputTokens");
    let output = count(v, "outputTokens");
    let read = count(v, "cacheReadInputTokens");
    let write = count(v, "cacheWriteInputTokens");
    let mut u = Usage::new(input.saturating_add(read).saturating_add(write), output);
    if read > 0 || write > 0 {
        u.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(read),
            cache_write_tokens: (write > 0).then_some(write),
            ..Default::default()
        });
    }
    u
}

fn completion_id(request_id: Option<&str>) -> String {
    match request_id {
        Some(id) => format!("chatcmpl-{id}"),
        None => format!("chatcmpl-{:016x}", rand::random::<u64>()),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidResponse, msg.into())
}

/// A Converse answer → `chat.completion`.
pub(crate) fn parse_response(
    v: &Value,
    model: &str,
    json_tool: bool,
    request_id: Option<&str>,
) -> Result<ChatResponse> {
    let content = v
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            let snippet: String = v.to_string().chars().take(200).collect();
            invalid(format!(
                "the answer has no output.message.content; body starts with {snippet:?}"
            ))
        })?;
    let mut text = String::new();
    let mut has_text = false;
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut calls = Vec::new();
    for block in content {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
            has_text = true;
        } else if let Some(tu) = block.get("toolUse") {
            let name = tu.get("name").and_then(Value::as_str).unwrap_or_default();
            let input = tu.get("input").cloned().unwrap_or_else(|| json!({}));
            if json_tool && name == JSON_TOOL {
                text.push_str(&input.to_string());
                has_text = true;
            } else {
                let id = tu
                    .get("toolUseId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                calls.push(ToolCall::function(id, name, input.to_string()));
            }
        } else if let Some(rt) = block.pointer("/reasoningContent/reasoningText") {
            let t = rt.get("text").and_then(Value::as_str).unwrap_or_default();
            reasoning.push_str(t);
            if let Some(sig) = rt.get("signature").and_then(Value::as_str) {
                thinking_blocks.push(json!({"type": "thinking", "thinking": t, "signature": sig}));
            }
        }
    }
    let stop = v
        .get("stopReason")
        .and_then(Value::as_str)
        .unwrap_or("end_turn");
    let mut finish = finish_reason(stop)?;
    if json_tool && finish == FinishReason::ToolCalls && calls.is_empty() {
        finish = FinishReason::Stop;
    }
    if !calls.is_empty() && finish == FinishReason::Stop {
        finish = FinishReason::ToolCalls;
    }
    let mut message = Message::assistant(text);
    if !has_text && !calls.is_empty() {
        message.content = None;
    }
    if !calls.is_empty() {
        message.tool_calls = Some(calls);
    }
    if !reasoning.is_empty() {
        message.reasoning_content = Some(reasoning);
    }
    if !thinking_blocks.is_empty() {
        message
            .extra
            .insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    let mut resp = ChatResponse {
        id: completion_id(request_id),
        object: "chat.completion".into(),
        created: now(),
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish),
            logprobs: None,
            extra: Default::default(),
        }],
        usage: v.get("usage").map(usage),
        ..Default::default()
    };
    for key in [
        "trace",
        "additionalModelResponseFields",
        "performanceConfig",
        "serviceTier",
    ] {
        if let Some(x) = v.get(key).filter(|x| !x.is_null()) {
            resp.extra.insert(key.into(), x.clone());
        }
    }
    Ok(resp)
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// The kind and HTTP status an AWS exception name stands for (`ThrottlingException`,
/// `throttlingException`, with or without the `Exception` suffix).
pub(crate) fn exception_kind(name: &str) -> Option<(ErrorKind, u16)> {
    let n = name.to_ascii_lowercase();
    let n = n.strip_suffix("exception").unwrap_or(&n);
    Some(match n {
        "throttling" | "toomanyrequests" => (ErrorKind::RateLimit, 429),
        "modelnotready" => (ErrorKind::RateLimit, 429),
        "servicequotaexceeded" => (ErrorKind::RateLimit, 400),
        "validation" | "serialization" => (ErrorKind::BadRequest, 400),
        "accessdenied" => (ErrorKind::PermissionDenied, 403),
        "unrecognizedclient"
        | "invalidsignature"
        | "incompletesignature"
        | "expiredtoken"
        | "invalidclienttokenid"
        | "missingauthenticationtoken" => (ErrorKind::Authentication, 403),
        "resourcenotfound" => (ErrorKind::NotFound, 404),
        "modeltimeout" => (ErrorKind::Timeout, 408),
        "modelerror" | "modelstreamerror" => (ErrorKind::InternalServer, 424),
        "internalserver" | "internalfailure" => (ErrorKind::InternalServer, 500),
        "serviceunavailable" => (ErrorKind::ServiceUnavailable, 503),
        _ => return None,
    })
}

/// Corrects the kind of an HTTP error from its AWS exception name (in `code`, from the
/// `x-amzn-errortype` header, or the body's `__type`) and, for model errors, from the model's
/// own `originalStatusCode`. Context-window and content-policy refinements are kept.
pub(crate) fn refine_error(err: Error) -> Error {
    if matches!(
        err.kind(),
        ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation
    ) {
        return err;
    }
    let body: Option<Value> = err
        .details()
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let name = err.code().map(str::to_owned).or_else(|| {
        body.as_ref()
            .and_then(|b| b.get("__type"))
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
    });
    let original = body
        .as_ref()
        .and_then(|b| b.get("originalStatusCode"))
        .and_then(Value::as_u64)
        .filter(|s| (400..600).contains(s));
    let mut err = err;
    if let Some(name) = &name
        && let Some((kind, _)) = exception_kind(name)
    {
        if err.code().is_none() {
            err.details_mut().code = Some(name.clone());
        }
        err = err.with_kind(kind);
    }
    if let Some(s) = original
        && matches!(err.kind(), ErrorKind::InternalServer)
    {
        err = err.with_kind(ErrorKind::from_status(s as u16));
    }
    err
}

/// The error of an `exception` (or `error`) frame inside a stream.
pub(crate) fn frame_error(frame: &Frame) -> Error {
    if frame.message_type == "error" {
        let msg = if frame.error_message.is_empty() {
            format!("the stream reported error {:?}", frame.error_code)
        } else {
            frame.error_message.clone()
        };
        let mut e = Error::new(ErrorKind::InternalServer, msg);
        if !frame.error_code.is_empty() {
            e.details_mut().code = Some(frame.error_code.clone());
            if let Some((kind, status)) = exception_kind(&frame.error_code) {
                e = e.with_kind(kind).with_status(status);
            }
        }
        return e;
    }
    let name = if frame.exception_type.is_empty() {
        frame.event_type.as_str()
    } else {
        frame.exception_type.as_str()
    };
    let status = exception_kind(name).map_or(500, |(_, s)| s);
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(v) = reqwest::header::HeaderValue::from_str(name) {
        headers.insert("x-amzn-errortype", v);
    }
    let mut err = refine_error(error_from_response(status, &headers, &frame.payload));
    if err.message().starts_with('{')
        || err.message().is_empty()
        || err.message().starts_with("HTTP ")
    {
        let msg = format!("the stream reported {name}");
        err = err.with_message(msg);
    }
    err
}

// ---------------------------------------------------------------------------------------------
// Streams.

enum Block {
    /// An ordinary tool call, with its OpenAI index.
    Tool(u32),
    /// The forced response_format tool: its input is the answer's text.
    Json,
}

/// ConverseStream events → OpenAI chunks. The stream is complete after both `messageStop` and
/// `metadata` (in either order); the usage chunk comes last.
pub(crate) struct ConverseDecoder {
    id: String,
    created: i64,
    model: String,
    json_tool: bool,
    blocks: HashMap<u64, Block>,
    next_tool: u32,
    has_tools: bool,
    usage: Option<Usage>,
    saw_stop: bool,
    saw_metadata: bool,
}

impl ConverseDecoder {
    pub(crate) fn new(model: &str, json_tool: bool, request_id: Option<&str>) -> Self {
        ConverseDecoder {
            id: completion_id(request_id),
            created: now(),
            model: model.to_owned(),
            json_tool,
            blocks: HashMap::new(),
            next_tool: 0,
            has_tools: false,
            usage: None,
            saw_stop: false,
            saw_metadata: false,
        }
    }

    fn chunk(&self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        ChatChunk::of_delta(&self.id, self.created, &self.model, delta, finish)
    }

    fn tool_delta(index: u32, id: Option<String>, name: Option<String>, args: String) -> Delta {
        Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: Some(index),
                kind: id.as_ref().map(|_| "function".to_owned()),
                id,
                function: Some(FunctionCallDelta {
                    name,
                    arguments: Some(args),
                }),
                extra: Default::default(),
            }]),
            ..Default::default()
        }
    }

    fn event(&mut self, kind: &str, v: &Value, out: &mut VecDeque<ChatChunk>) -> Result<()> {
        let block_index = v
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match kind {
            "messageStart" => {
                let delta = Delta {
                    role: Some(Role::Assistant),
                    ..Default::default()
                };
                out.push_back(self.chunk(delta, None));
            }
            "contentBlockStart" => {
                if let Some(tu) = v.pointer("/start/toolUse") {
                    let name = tu.get("name").and_then(Value::as_str).unwrap_or_default();
                    if self.json_tool && name == JSON_TOOL {
                        self.blocks.insert(block_index, Block::Json);
                    } else {
                        let id = tu
                            .get("toolUseId")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let index = self.next_tool;
                        self.next_tool += 1;
                        self.has_tools = true;
                        self.blocks.insert(block_index, Block::Tool(index));
                        let d = Self::tool_delta(
                            index,
                            Some(id.to_owned()),
                            Some(name.to_owned()),
                            String::new(),
                        );
                        out.push_back(self.chunk(d, None));
                    }
                }
            }
            "contentBlockDelta" => {
                let Some(delta) = v.get("delta") else {
                    return Ok(());
                };
                if let Some(t) = delta.get("text").and_then(Value::as_str) {
                    if !t.is_empty() {
                        let d = Delta {
                            content: Some(t.to_owned()),
                            ..Default::default()
                        };
                        out.push_back(self.chunk(d, None));
                    }
                } else if let Some(input) = delta.pointer("/toolUse/input") {
                    let frag = match input {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let d = match self.blocks.get(&block_index) {
                        Some(Block::Json) => Delta {
                            content: Some(frag),
                            ..Default::default()
                        },
                        Some(Block::Tool(i)) => Self::tool_delta(*i, None, None, frag),
                        None => {
                            // A tool block whose start was not sent: give it the next index.
                            let index = self.next_tool;
                            self.next_tool += 1;
                            self.has_tools = true;
                            self.blocks.insert(block_index, Block::Tool(index));
                            Self::tool_delta(index, Some(String::new()), None, frag)
                        }
                    };
                    out.push_back(self.chunk(d, None));
                } else if let Some(t) = delta
                    .pointer("/reasoningContent/text")
                    .and_then(Value::as_str)
                    && !t.is_empty()
                {
                    let d = Delta {
                        reasoning_content: Some(t.to_owned()),
                        ..Default::default()
                    };
                    out.push_back(self.chunk(d, None));
                }
            }
            "messageStop" => {
                let stop = v
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .unwrap_or("end_turn");
                let mut finish = finish_reason(stop)?;
                if self.json_tool && finish == FinishReason::ToolCalls && !self.has_tools {
                    finish = FinishReason::Stop;
                }
                if self.has_tools && finish == FinishReason::Stop {
                    finish = FinishReason::ToolCalls;
                }
                self.saw_stop = true;
                out.push_back(self.chunk(Delta::default(), Some(finish)));
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    self.usage = Some(usage(u));
                }
                self.saw_metadata = true;
            }
            _ => {}
        }
        Ok(())
    }
}

impl ChunkDecoder for ConverseDecoder {
    type Event = Frame;

    fn decode(&mut self, frame: Frame, out: &mut VecDeque<ChatChunk>) -> Result<bool> {
        match frame.message_type.as_str() {
            "exception" | "error" => return Err(frame_error(&frame)),
            "event" | "" => {}
            _ => return Ok(false),
        }
        let v: Value = if frame.payload.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&frame.payload).map_err(|e| {
                invalid(format!(
                    "could not decode the {:?} event of the stream: {e}",
                    frame.event_type
                ))
            })?
        };
        self.event(&frame.event_type, &v, out)?;
        if self.saw_stop && self.saw_metadata {
            if let Some(u) = self.usage.take() {
                out.push_back(ChatChunk::of_usage(&self.id, self.created, &self.model, u));
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatChunk>) -> Result<()> {
        let missing = match (self.saw_stop, self.saw_metadata) {
            (false, false) => "messageStop and metadata",
            (false, true) => "messageStop",
            _ => "metadata",
        };
        Err(Error::new(
            ErrorKind::ApiConnection,
            format!("the stream ended before its {missing} event: the answer may be incomplete"),
        ))
    }
}
