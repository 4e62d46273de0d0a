//! OpenAI chat request → Gemini `GenerateContentRequest` (pure).
//!
//! See the [module docs](super) for the mapping table.

use serde_json::{Map, Value, json};

use super::schema::{MAX_NODES, to_gemini_schema_within};
use super::{Flavor, is_gemini3, thought_signature_of};
use crate::error::{Error, Result};
use crate::provider::{CallContext, http};
use crate::types::{
    ChatRequest, Content, ContentPart, FileData, Message, ReasoningEffort, ResponseFormat, Role,
    Stop, Tool, ToolCall, ToolChoice,
};

/// Signature sent on replayed function calls that have none, for Gemini 3 models, which reject
/// unsigned calls: base64 of `skip_thought_signature_validator`, Google's documented sentinel.
pub(crate) const SKIP_SIGNATURE: &str = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=";

/// Thinking budgets (tokens) for `reasoning_effort` on Gemini 2.5 models, as Python LiteLLM's
/// defaults: minimal 128, low 1024, medium 2048, high 4096, xhigh 8192, max 16384.
pub(crate) fn thinking_budget(effort: &ReasoningEffort) -> Option<i64> {
    Some(match effort {
        ReasoningEffort::None => 0,
        ReasoningEffort::Minimal => 128,
        ReasoningEffort::Low => 1024,
        ReasoningEffort::Medium => 2048,
        ReasoningEffort::High => 4096,
        ReasoningEffort::XHigh => 8192,
        ReasoningEffort::Max => 16384,
        ReasoningEffort::Other(_) => return None,
    })
}

/// `generationConfig.thinkingConfig` for a `reasoning_effort`: `thinkingLevel` for Gemini 3
/// and later (`none`/`minimal`/`low` → `LOW`, others → `HIGH`, as LiteLLM), `thinkingBudget`
/// for earlier models. Thought summaries are requested (`includeThoughts`) except for `none`.
pub(crate) fn thinking_config(effort: &ReasoningEffort, model: &str) -> Option<Value> {
    let include = *effort != ReasoningEffort::None;
    if is_gemini3(model) {
        let level = match effort {
            ReasoningEffort::None | ReasoningEffort::Minimal | ReasoningEffort::Low => "LOW",
            ReasoningEffort::Other(_) => return None,
            _ => "HIGH",
        };
        return Some(json!({"thinkingLevel": level, "includeThoughts": include}));
    }
    let budget = thinking_budget(effort)?;
    Some(json!({"thinkingBudget": budget, "includeThoughts": include}))
}

/// Builds the JSON body of a `generateContent` / `streamGenerateContent` call.
pub(crate) fn generate_content_body(
    req: &ChatRequest,
    cx: &CallContext,
    flavor: Flavor,
) -> Result<Vec<u8>> {
    let body = generate_content_value(req, cx, flavor)?;
    http::json_body(&body)
}

/// The body as a JSON value (see [`generate_content_body`]).
pub(crate) fn generate_content_value(
    req: &ChatRequest,
    cx: &CallContext,
    flavor: Flavor,
) -> Result<Value> {
    check_unsupported(req, cx, flavor)?;
    let model = cx.model.as_str();
    let mut body = Map::new();
    let (system, mut contents) = convert_messages(&req.messages, flavor, model)?;
    if let Some(system) = system {
        if model.starts_with("gemma") {
            // Gemma has no system instruction: the text goes before the first user turn.
            match contents.iter_mut().find(|c| c["role"] == "user") {
                Some(first) => {
                    if let Some(Value::Array(parts)) = first.get_mut("parts") {
                        let mut new_parts = system;
                        new_parts.append(parts);
                        *parts = new_parts;
                    }
                }
                None => contents.insert(0, json!({"role": "user", "parts": system})),
            }
        } else {
            body.insert("systemInstruction".into(), json!({ "parts": system }));
        }
    }
    body.insert("contents".into(), Value::Array(contents));

    let (tools, allowed) = convert_tools(req, cx)?;
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(tc) = tool_config(req, cx, allowed)? {
        body.insert("toolConfig".into(), tc);
    }

    let mut gcfg = generation_config(req, cx, model)?;
    if let Some(tier) = &req.service_tier {
        match tier.as_str() {
            "auto" => {}
            "default" => {
                body.insert("serviceTier".into(), json!("standard"));
            }
            other => {
                body.insert("serviceTier".into(), json!(other));
            }
        }
    }

    // extra_body: a few LiteLLM-style snake_case conveniences, a `generationConfig` object
    // merged key by key, everything else at the top level as is (Gemini's own field names).
    for (k, v) in &req.extra_body {
        match k.as_str() {
            "generationConfig" | "generation_config" => {
                if let Value::Object(m) = v {
                    for (gk, gv) in m {
                        gcfg.insert(gk.clone(), gv.clone());
                    }
                }
            }
            "top_k" | "topK" => {
                gcfg.insert("topK".into(), v.clone());
            }
            "thinking" => {
                if let Some(tc) = anthropic_thinking(v) {
                    gcfg.insert("thinkingConfig".into(), tc);
                }
            }
            "thinkingConfig" | "thinking_config" => {
                gcfg.insert("thinkingConfig".into(), v.clone());
            }
            "safety_settings" => {
                body.insert("safetySettings".into(), v.clone());
            }
            "cached_content" => {
                body.insert("cachedContent".into(), v.clone());
            }
            _ => {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    if !gcfg.is_empty() {
        body.insert("generationConfig".into(), Value::Object(gcfg));
    }
    Ok(Value::Object(body))
}

/// Anthropic-style `thinking: {"type":"enabled","budget_tokens":N}` (LiteLLM accepts it for
/// Gemini) → `thinkingConfig`.
fn anthropic_thinking(v: &Value) -> Option<Value> {
    let enabled = v.get("type").and_then(Value::as_str) == Some("enabled");
    let budget = v.get("budget_tokens").and_then(Value::as_i64);
    let mut m = Map::new();
    if enabled && budget != Some(0) {
        m.insert("includeThoughts".into(), json!(true));
    }
    if let Some(b) = budget {
        m.insert("thinkingBudget".into(), json!(b));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// Parameters Gemini has no equivalent for: `Unsupported`, or dropped with `drop_params`.
fn check_unsupported(req: &ChatRequest, cx: &CallContext, flavor: Flavor) -> Result<()> {
    let set = [
        ("logit_bias", req.logit_bias.is_some()),
        ("user", req.user.is_some()),
        ("store", req.store.is_some()),
        ("metadata", req.store_metadata.is_some()),
        ("safety_identifier", req.safety_identifier.is_some()),
        ("prompt_cache_key", req.prompt_cache_key.is_some()),
        (
            "prompt_cache_retention",
            req.prompt_cache_retention.is_some(),
        ),
        ("verbosity", req.verbosity.is_some()),
        ("prediction", req.prediction.is_some()),
        ("audio", req.audio.is_some()),
        (
            "service_tier",
            flavor == Flavor::Vertex && req.service_tier.is_some(),
        ),
        (
            "modalities",
            req.modalities
                .as_ref()
                .is_some_and(|m| m.iter().any(|x| x != "text")),
        ),
        (
            "parallel_tool_calls",
            // Gemini cannot forbid parallel calls; with one tool it does not matter.
            req.parallel_tool_calls == Some(false)
                && req.tools.as_ref().is_some_and(|t| t.len() > 1),
        ),
    ];
    for (name, is_set) in set {
        if is_set {
            cx.unsupported_param(name)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Messages.

/// Converts the conversation: system/developer text → system instruction parts; the rest →
/// `contents`, with consecutive turns of the same role merged (tool results and the user text
/// after them become one user turn).
pub(crate) fn convert_messages(
    messages: &[Message],
    flavor: Flavor,
    model: &str,
) -> Result<(Option<Vec<Value>>, Vec<Value>)> {
    let mut system: Vec<Value> = Vec::new();
    let mut contents: Vec<(&'static str, Vec<Value>)> = Vec::new();
    let gemini3 = is_gemini3(model);
    for (i, m) in messages.iter().enumerate() {
        let (role, parts) = match &m.role {
            Role::System | Role::Developer => {
                if let Some(c) = &m.content {
                    system.extend(content_parts(c)?);
                }
                continue;
            }
            Role::Assistant => ("model", assistant_parts(m, flavor, gemini3)?),
            Role::Tool | Role::Function => ("user", vec![tool_result_part(messages, i, flavor)?]),
            Role::User | Role::Other(_) => (
                "user",
                match &m.content {
                    Some(c) => content_parts(c)?,
                    None => Vec::new(),
                },
            ),
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some((r, p)) if *r == role => p.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    let system = (!system.is_empty()).then_some(system);
    Ok((
        system,
        contents
            .into_iter()
            .map(|(role, parts)| json!({"role": role, "parts": parts}))
            .collect(),
    ))
}

/// The parts of a user (or system) message.
fn content_parts(c: &Content) -> Result<Vec<Value>> {
    match c {
        Content::Text(t) => Ok(vec![json!({ "text": t })]),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for p in parts {
                if let Some(v) = part(p)? {
                    out.push(v);
                }
            }
            Ok(out)
        }
    }
}

/// One content part → a Gemini part (`None` for an empty text part).
fn part(p: &ContentPart) -> Result<Option<Value>> {
    Ok(Some(match p {
        ContentPart::Text { text, .. } => {
            if text.is_empty() {
                return Ok(None);
            }
            json!({ "text": text })
        }
        ContentPart::Refusal { refusal, .. } => json!({ "text": refusal }),
        ContentPart::ImageUrl { image_url, .. } => media_part(&image_url.url, None, "image/jpeg")?,
        ContentPart::InputAudio { input_audio, .. } => {
            let mime = match input_audio.format.as_str() {
                "mp3" | "mpeg" => "audio/mp3".to_owned(),
                f if f.contains('/') => f.to_owned(),
                f => format!("audio/{f}"),
            };
            json!({"inlineData": {"mimeType": mime, "data": input_audio.data}})
        }
        ContentPart::File { file, .. } => file_part(file)?,
        ContentPart::Other(v) => other_part(v)?,
    }))
}

/// A media reference: a `data:` URL → `inlineData`; any other URL (`https://`, `gs://`, a
/// Files API URI, a YouTube link) → `fileData` with a MIME type guessed from the extension,
/// `fallback` when there is none.
fn media_part(url: &str, name: Option<&str>, fallback: &str) -> Result<Value> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest.split_once(',').ok_or_else(|| {
            Error::bad_request("a data: URL in the message has no ',' before its data")
        })?;
        let Some(mime) = meta.strip_suffix(";base64") else {
            return Err(Error::bad_request(
                "a data: URL in the message is not base64 (Gemini takes base64 inline data)",
            ));
        };
        let mime = if mime.is_empty() { fallback } else { mime };
        return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
    }
    let mime = name
        .and_then(mime_from_name)
        .or_else(|| mime_from_name(url))
        .unwrap_or(fallback);
    Ok(json!({"fileData": {"mimeType": mime, "fileUri": url}}))
}

/// The MIME type of a file name or URL by its extension.
pub(crate) fn mime_from_name(name: &str) -> Option<&'static str> {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    if path.contains("youtube.com/") || path.contains("youtu.be/") {
        return Some("video/mp4");
    }
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "json" => "application/json",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "aac" => "audio/aac",
        "m4a" => "audio/m4a",
        "mp4" => "video/mp4",
        "mov" => "video/mov",
        "webm" => "video/webm",
        "mpeg" | "mpg" => "video/mpeg",
        "avi" => "video/avi",
        _ => return None,
    })
}

/// A `file` part: inline base64 data (`data:` URL or bare base64 with a file name) →
/// `inlineData`; a `file_id` that is a URI → `fileData`.
fn file_part(file: &FileData) -> Result<Value> {
    let name = file.filename.as_deref();
    if let Some(data) = &file.file_data {
        if data.starts_with("data:") {
            return media_part(data, name, "application/pdf");
        }
        let mime = name.and_then(mime_from_name).unwrap_or("application/pdf");
        return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
    }
    if let Some(id) = &file.file_id {
        let uri = if id.starts_with("files/") {
            format!("https://generativelanguage.googleapis.com/v1beta/{id}")
        } else if id.contains("://") {
            id.clone()
        } else {
            return Err(Error::bad_request(format!(
                "Gemini takes a file by URI (https://…, gs://…, or a Files API name files/…), not {id:?}"
            )));
        };
        let mime = name
            .and_then(mime_from_name)
            .or_else(|| mime_from_name(&uri))
            .unwrap_or("application/pdf");
        return Ok(json!({"fileData": {"mimeType": mime, "fileUri": uri}}));
    }
    Err(Error::bad_request(
        "a file part needs file_data or file_id for Gemini",
    ))
}

/// Gemini part keys a raw part may carry to be passed through unchanged.
const GEMINI_PART_KEYS: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
];

/// A part of a type this crate does not model: `video_url`/`audio_url`/`document_url`-style
/// parts with a URL become media parts; a raw Gemini part (no `type`) passes through.
fn other_part(v: &Value) -> Result<Value> {
    let ty = v.get("type").and_then(Value::as_str);
    if ty.is_none()
        && let Some(o) = v.as_object()
        && o.keys().any(|k| GEMINI_PART_KEYS.contains(&k.as_str()))
    {
        return Ok(v.clone());
    }
    if let Some(ty) = ty
        && let Some(inner) = v.get(ty)
    {
        let url = inner
            .get("url")
            .and_then(Value::as_str)
            .or_else(|| inner.as_str());
        if let Some(url) = url {
            let fallback = match ty {
                t if t.starts_with("video") => "video/mp4",
                t if t.starts_with("audio") => "audio/mp3",
                t if t.starts_with("image") => "image/jpeg",
                _ => "application/pdf",
            };
            let mime = inner.get("format").and_then(Value::as_str);
            let mut p = media_part(url, None, fallback)?;
            if let Some(m) = mime.filter(|m| m.contains('/')) {
                for key in ["inlineData", "fileData"] {
                    if let Some(Value::Object(d)) = p.get_mut(key) {
                        d.insert("mimeType".into(), json!(m));
                    }
                }
            }
            return Ok(p);
        }
    }
    Err(Error::bad_request(format!(
        "Gemini cannot take a content part of type {:?}",
        ty.unwrap_or("(none)")
    )))
}

/// The parts of an assistant message: its text, then one `functionCall` part per tool call,
/// each with its `thoughtSignature` when the call carried one.
fn assistant_parts(m: &Message, flavor: Flavor, gemini3: bool) -> Result<Vec<Value>> {
    let mut parts = match (&m.content, &m.refusal) {
        (Some(c), _) => content_parts(c)?,
        (None, Some(r)) if !r.is_empty() => vec![json!({ "text": r })],
        _ => Vec::new(),
    };
    let mut signed = false;
    let mut first_call = None;
    if let Some(calls) = &m.tool_calls {
        for call in calls {
            if call.kind != "function" {
                return Err(Error::bad_request(format!(
                    "Gemini cannot replay a tool call of type {:?}",
                    call.kind
                )));
            }
            let (id, signature) = split_call_id(call);
            let args = parse_arguments(call)?;
            let mut fc = Map::new();
            fc.insert("name".into(), json!(call.function.name));
            fc.insert("args".into(), args);
            if flavor == Flavor::Gemini && !id.is_empty() {
                fc.insert("id".into(), json!(id));
            }
            let mut part = Map::new();
            part.insert("functionCall".into(), Value::Object(fc));
            if let Some(sig) = signature {
                part.insert("thoughtSignature".into(), json!(sig));
                signed = true;
            }
            if first_call.is_none() {
                first_call = Some(parts.len());
            }
            parts.push(Value::Object(part));
        }
    }
    if gemini3
        && !signed
        && let Some(i) = first_call
        && let Some(Value::Object(p)) = parts.get_mut(i)
    {
        p.insert("thoughtSignature".into(), json!(SKIP_SIGNATURE));
    }
    Ok(parts)
}

/// A tool call's id and thought signature: the signature from `extra` (see
/// [`thought_signature_of`]) or, LiteLLM-style, appended to the id after `__thought__`.
fn split_call_id(call: &ToolCall) -> (&str, Option<String>) {
    let sig = thought_signature_of(&call.extra);
    match call.id.split_once(THOUGHT_ID_SEPARATOR) {
        Some((id, s)) => (id, sig.or_else(|| Some(s.to_owned()))),
        None => (call.id.as_str(), sig),
    }
}

/// LiteLLM's separator for a thought signature carried inside a tool-call id.
pub(crate) const THOUGHT_ID_SEPARATOR: &str = "__thought__";

/// The arguments of a tool call as a JSON object (empty text → `{}`).
fn parse_arguments(call: &ToolCall) -> Result<Value> {
    let text = call.function.arguments.trim();
    if text.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Ok(json!({ "value": other })),
        Err(e) => Err(Error::bad_request(format!(
            "the arguments of tool call {:?} ({}) are not JSON: {e}",
            call.id, call.function.name
        ))),
    }
}

/// A tool result → a `functionResponse` part. The function name is looked up from the
/// assistant tool call with the same id (latest first), else the message's `name`. The
/// response must be an object: JSON objects are sent as they are, anything else (JSON arrays,
/// numbers, plain text) as `{"content": …}`.
fn tool_result_part(messages: &[Message], i: usize, flavor: Flavor) -> Result<Value> {
    let m = &messages[i];
    let call_id = m.tool_call_id.as_deref().unwrap_or("");
    let bare_id = call_id
        .split_once(THOUGHT_ID_SEPARATOR)
        .map_or(call_id, |(id, _)| id);
    let name = messages[..i]
        .iter()
        .rev()
        .filter_map(|p| p.tool_calls.as_ref())
        .flatten()
        .find(|c| !call_id.is_empty() && (c.id == call_id || split_call_id(c).0 == bare_id))
        .map(|c| c.function.name.clone())
        .or_else(|| m.name.clone())
        .ok_or_else(|| {
            Error::bad_request(format!(
                "tool result {call_id:?} answers no earlier assistant tool call, and has no name: Gemini needs the function name"
            ))
        })?;
    let text = m.content.as_ref().map(Content::to_text).unwrap_or_default();
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(v) => json!({ "content": v }),
        Err(_) => json!({ "content": text }),
    };
    let mut fr = Map::new();
    fr.insert("name".into(), json!(name));
    fr.insert("response".into(), response);
    if flavor == Flavor::Gemini && !bare_id.is_empty() {
        fr.insert("id".into(), json!(bare_id));
    }
    Ok(json!({ "functionResponse": fr }))
}

// ---------------------------------------------------------------------------------------------
// Tools.

/// Gemini tool kinds passed through as they are (`tools: [{"googleSearch": {}}]`).
const NATIVE_TOOLS: &[&str] = &[
    "googleSearch",
    "googleSearchRetrieval",
    "codeExecution",
    "urlContext",
    "googleMaps",
    "fileSearch",
    "computerUse",
    "mcpServers",
    "retrieval",
    "enterpriseWebSearch",
];

/// `tools` → one `functionDeclarations` tool plus native tools; also returns the names an
/// `allowed_tools` tool choice restricts the declarations to.
fn convert_tools(req: &ChatRequest, cx: &CallContext) -> Result<(Vec<Value>, Option<Vec<String>>)> {
    let mut decls = Vec::new();
    let mut native = Vec::new();
    // One node budget for every tool schema of the request.
    let mut budget = MAX_NODES;
    let allowed = allowed_tools(req.tool_choice.as_ref());
    let auto_allowed = matches!(&allowed, Some((false, _)));
    for t in req.tools.iter().flatten() {
        match (&t.function, t.kind.as_str()) {
            (Some(f), "function") => {
                if auto_allowed
                    && let Some((_, names)) = &allowed
                    && !names.contains(&f.name)
                {
                    continue;
                }
                decls.push(function_declaration(
                    &f.name,
                    f.description.as_deref(),
                    f.parameters.as_ref(),
                    &mut budget,
                )?);
            }
            _ => match native_tool(t) {
                Some(v) => native.push(v),
                None => {
                    cx.unsupported_param("tools")?;
                }
            },
        }
    }
    // Deprecated `functions`.
    if let Some(Value::Array(fns)) = &req.functions {
        for f in fns {
            if let Some(name) = f.get("name").and_then(Value::as_str) {
                decls.push(function_declaration(
                    name,
                    f.get("description").and_then(Value::as_str),
                    f.get("parameters"),
                    &mut budget,
                )?);
            }
        }
    }
    if let Some(opts) = &req.web_search_options
        && !opts.is_null()
    {
        native.push(json!({"googleSearch": {}}));
    }
    let mut tools = Vec::new();
    if !decls.is_empty() {
        tools.push(json!({ "functionDeclarations": decls }));
    }
    tools.extend(native);
    Ok((
        tools,
        allowed.filter(|(required, _)| *required).map(|(_, n)| n),
    ))
}

fn native_tool(t: &Tool) -> Option<Value> {
    let key = t
        .extra
        .keys()
        .find(|k| NATIVE_TOOLS.contains(&k.as_str()))?;
    let mut m = Map::new();
    m.insert(key.clone(), t.extra[key].clone());
    Some(Value::Object(m))
}

/// One function declaration. Parameters are converted to Gemini's schema subset; an object
/// schema without properties is left out (Gemini rejects an OBJECT without properties).
fn function_declaration(
    name: &str,
    description: Option<&str>,
    params: Option<&Value>,
    budget: &mut usize,
) -> Result<Value> {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if let Some(desc) = description.filter(|d| !d.is_empty()) {
        d.insert("description".into(), json!(desc));
    }
    if let Some(p) = params {
        let schema = to_gemini_schema_within(p, budget)?;
        let empty_object = schema.get("type").and_then(Value::as_str) == Some("OBJECT")
            && schema
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
        if !empty_object && schema.as_object().is_some_and(|o| !o.is_empty()) {
            d.insert("parameters".into(), schema);
        }
    }
    Ok(Value::Object(d))
}

/// An OpenAI `allowed_tools` tool choice: (required?, names).
fn allowed_tools(tc: Option<&ToolChoice>) -> Option<(bool, Vec<String>)> {
    let Some(ToolChoice::Other(v)) = tc else {
        return None;
    };
    if v.get("type").and_then(Value::as_str) != Some("allowed_tools") {
        return None;
    }
    let at = v.get("allowed_tools")?;
    let required = at.get("mode").and_then(Value::as_str) == Some("required");
    let names = at
        .get("tools")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|t| {
            t.get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| t.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    Some((required, names))
}

/// `tool_choice` (or the deprecated `function_call`) → `toolConfig.functionCallingConfig`:
/// `auto` → AUTO, `required` → ANY, `none` → NONE, a named function → ANY +
/// `allowedFunctionNames`.
fn tool_config(
    req: &ChatRequest,
    cx: &CallContext,
    allowed: Option<Vec<String>>,
) -> Result<Option<Value>> {
    let (mode, names): (&str, Option<Vec<String>>) = match &req.tool_choice {
        Some(ToolChoice::Auto) => ("AUTO", None),
        Some(ToolChoice::None) => ("NONE", None),
        Some(ToolChoice::Required) => ("ANY", None),
        Some(ToolChoice::Function(name)) => ("ANY", Some(vec![name.clone()])),
        Some(ToolChoice::Other(v)) => {
            if v.get("type").and_then(Value::as_str) == Some("allowed_tools") {
                match allowed {
                    Some(names) => ("ANY", Some(names)),
                    None => ("AUTO", None),
                }
            } else {
                cx.unsupported_param("tool_choice")?;
                return Ok(None);
            }
        }
        None => match &req.function_call {
            Some(Value::String(s)) if s == "none" => ("NONE", None),
            Some(Value::String(s)) if s == "auto" => ("AUTO", None),
            Some(v) => match v.get("name").and_then(Value::as_str) {
                Some(n) => ("ANY", Some(vec![n.to_owned()])),
                None => return Ok(None),
            },
            None => return Ok(None),
        },
    };
    let mut fcc = Map::new();
    fcc.insert("mode".into(), json!(mode));
    if let Some(n) = names {
        fcc.insert("allowedFunctionNames".into(), json!(n));
    }
    Ok(Some(json!({ "functionCallingConfig": fcc })))
}

// ---------------------------------------------------------------------------------------------
// generationConfig.

fn generation_config(
    req: &ChatRequest,
    cx: &CallContext,
    model: &str,
) -> Result<Map<String, Value>> {
    let mut g = Map::new();
    if let Some(t) = req.temperature {
        g.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        g.insert("topP".into(), json!(p));
    }
    if let Some(max) = req.max_completion_tokens.or(req.max_tokens) {
        g.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(n) = req.n {
        g.insert("candidateCount".into(), json!(n));
    }
    if let Some(stop) = &req.stop {
        let v = match stop {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        };
        if !v.is_empty() {
            g.insert("stopSequences".into(), json!(v));
        }
    }
    if let Some(seed) = req.seed {
        let seed = i32::try_from(seed).map_err(|_| {
            Error::bad_request(format!(
                "seed {seed} is out of Gemini's range (a 32-bit integer)"
            ))
        })?;
        g.insert("seed".into(), json!(seed));
    }
    if let Some(p) = req.presence_penalty {
        g.insert("presencePenalty".into(), json!(p));
    }
    if let Some(p) = req.frequency_penalty {
        g.insert("frequencyPenalty".into(), json!(p));
    }
    if let Some(lp) = req.logprobs {
        g.insert("responseLogprobs".into(), json!(lp));
    }
    if let Some(n) = req.top_logprobs {
        g.insert("logprobs".into(), json!(n));
    }
    if let Some(m) = &req.modalities
        && m.iter().all(|x| x == "text")
        && !m.is_empty()
    {
        g.insert("responseModalities".into(), json!(["TEXT"]));
    }
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            g.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            g.insert("responseMimeType".into(), json!("application/json"));
            if let Some(s) = &json_schema.schema {
                let schema = to_gemini_schema_within(s, &mut { MAX_NODES })?;
                if schema.as_object().is_some_and(|o| !o.is_empty()) {
                    g.insert("responseSchema".into(), schema);
                }
            }
        }
        Some(ResponseFormat::Other(_)) => cx.unsupported_param("response_format")?,
    }
    if let Some(effort) = &req.reasoning_effort {
        match thinking_config(effort, model) {
            Some(tc) => {
                g.insert("thinkingConfig".into(), tc);
            }
            None => cx.unsupported_param("reasoning_effort")?,
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::super::THOUGHT_SIGNATURE_KEY;
    use super::*;
    use crate::types::{ImageUrl, JsonSchemaFormat};
    use serde_json::json;

    fn cx(model: &str) -> CallContext {
        CallContext::new(reqwest::Client::new(), "gemini", model)
    }

    fn body(req: &ChatRequest) -> Value {
        generate_content_value(req, &cx("gemini-2.5-flash"), Flavor::Gemini).unwrap()
    }

    #[test]
    fn minimal_body() {
        let req = ChatRequest::new("gemini/gemini-2.5-flash", vec![Message::user("Hi")]);
        assert_eq!(
            body(&req),
            json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]})
        );
    }

    #[test]
    fn system_developer_and_roles() {
        let req = ChatRequest::new(
            "gemini/x",
            vec![
                Message::system("Be brief."),
                Message::developer(vec![ContentPart::text("No emoji.")]),
                Message::user("Hi"),
                Message::assistant("Hello!"),
                Message::user("Bye"),
            ],
        );
        assert_eq!(
            body(&req),
            json!({
                "systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "No emoji."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "Hi"}]},
                    {"role": "model", "parts": [{"text": "Hello!"}]},
                    {"role": "user", "parts": [{"text": "Bye"}]}
                ]
            })
        );
        // Gemma has no system instruction: it goes before the first user turn.
        let b = generate_content_value(&req, &cx("gemma-3-27b-it"), Flavor::Gemini).unwrap();
        assert!(b.get("systemInstruction").is_none());
        assert_eq!(
            b["contents"][0]["parts"],
            json!([{"text": "Be brief."}, {"text": "No emoji."}, {"text": "Hi"}])
        );
    }

    #[test]
    fn generation_config_fields() {
        let req = ChatRequest::new("gemini/x", vec![Message::user("Hi")])
            .temperature(0.5)
            .top_p(0.9)
            .max_tokens(10)
            .max_completion_tokens(20)
            .n(2)
            .stop("END")
            .seed(7)
            .presence_penalty(0.1)
            .frequency_penalty(0.2)
            .logprobs(true)
            .top_logprobs(3)
            .extra_body(json!({"top_k": 40, "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}], "cachedContent": "cachedContents/x"}));
        let b = body(&req);
        assert_eq!(
            b["generationConfig"],
            json!({"temperature": 0.5, "topP": 0.9, "maxOutputTokens": 20, "candidateCount": 2,
                "stopSequences": ["END"], "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
                "responseLogprobs": true, "logprobs": 3, "topK": 40})
        );
        assert_eq!(b["safetySettings"][0]["threshold"], "BLOCK_NONE");
        assert_eq!(b["cachedContent"], "cachedContents/x");
        let err = generate_content_value(
            &ChatRequest::new("x", vec![Message::user("Hi")]).seed(1 << 40),
            &cx("m"),
            Flavor::Gemini,
        )
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadRequest);
    }

    #[test]
    fn images_audio_and_files() {
        let parts = vec![
            ContentPart::text("Look"),
            ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ContentPart::image_url("https://example.com/cat.webp?x=1"),
            ContentPart::image_url("gs://bucket/dog"),
            ContentPart::input_audio("UklGRg==", "wav"),
            ContentPart::File {
                file: FileData {
                    file_data: Some("data:application/pdf;base64,JVBERi0=".into()),
                    ..Default::default()
                },
                extra: Default::default(),
            },
            ContentPart::File {
                file: FileData {
                    file_id: Some("files/abc123".into()),
                    filename: Some("notes.txt".into()),
                    ..Default::default()
                },
                extra: Default::default(),
            },
            ContentPart::Other(
                json!({"type": "video_url", "video_url": {"url": "https://www.youtube.com/watch?v=x"}}),
            ),
        ];
        let b = body(&ChatRequest::new(
            "gemini/x",
            vec![Message::user(Content::Parts(parts))],
        ));
        assert_eq!(
            b["contents"][0]["parts"],
            json!([
                {"text": "Look"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?x=1"}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/dog"}},
                {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
                {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
                {"fileData": {"mimeType": "text/plain", "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc123"}},
                {"fileData": {"mimeType": "video/mp4", "fileUri": "https://www.youtube.com/watch?v=x"}}
            ])
        );
        let bad = ChatRequest::new(
            "x",
            vec![Message::user(vec![ContentPart::ImageUrl {
                image_url: ImageUrl {
                    url: "data:image/png,rawdata".into(),
                    detail: None,
                },
                extra: Default::default(),
            }])],
        );
        assert!(generate_content_value(&bad, &cx("m"), Flavor::Gemini).is_err());
    }

    fn weather() -> Tool {
        Tool::function(
            "get_weather",
            "Weather in a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"}),
        )
        .strict(true)
    }

    #[test]
    fn tools_and_tool_choice() {
        let no_params = Tool::function("now", "", json!({"type": "object", "properties": {}}));
        let base = ChatRequest::new("gemini/x", vec![Message::user("Hi")])
            .tools(vec![weather(), no_params]);
        let b = body(&base);
        assert_eq!(
            b["tools"],
            json!([{"functionDeclarations": [
                {"name": "get_weather", "description": "Weather in a city",
                 "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}},
                {"name": "now"}
            ]}])
        );
        assert!(b.get("toolConfig").is_none());
        for (tc, want) in [
            (ToolChoice::Auto, json!({"mode": "AUTO"})),
            (ToolChoice::None, json!({"mode": "NONE"})),
            (ToolChoice::Required, json!({"mode": "ANY"})),
            (
                ToolChoice::function("get_weather"),
                json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
            ),
            (
                ToolChoice::Other(
                    json!({"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "now"}}]}}),
                ),
                json!({"mode": "ANY", "allowedFunctionNames": ["now"]}),
            ),
        ] {
            let b = body(&base.clone().tool_choice(tc));
            assert_eq!(b["toolConfig"]["functionCallingConfig"], want);
        }
        // allowed_tools in auto mode narrows the declarations.
        let b = body(&base.clone().tool_choice(ToolChoice::Other(
            json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "now"}}]}}),
        )));
        assert_eq!(
            b["tools"][0]["functionDeclarations"],
            json!([{"name": "now"}])
        );
        assert_eq!(b["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");
        // An unknown tool choice form is unsupported.
        let odd = base
            .clone()
            .tool_choice(ToolChoice::Other(json!({"type": "custom"})));
        assert_eq!(
            generate_content_value(&odd, &cx("m"), Flavor::Gemini)
                .unwrap_err()
                .kind(),
            crate::ErrorKind::Unsupported
        );
        // native tools and web search
        let native: Tool = serde_json::from_value(json!({"googleSearch": {}})).unwrap();
        let b = body(
            &ChatRequest::new("x", vec![Message::user("Hi")])
                .tools(vec![native])
                .web_search_options(json!({})),
        );
        assert_eq!(
            b["tools"],
            json!([{"googleSearch": {}}, {"googleSearch": {}}])
        );
        // parallel_tool_calls=false with several tools cannot be honoured
        let p = base.clone().parallel_tool_calls(false);
        assert_eq!(
            generate_content_value(&p, &cx("m"), Flavor::Gemini)
                .unwrap_err()
                .kind(),
            crate::ErrorKind::Unsupported
        );
        let mut dropping = cx("m");
        dropping.drop_params = true;
        assert!(generate_content_value(&p, &dropping, Flavor::Gemini).is_ok());
    }

    #[test]
    fn tool_history_with_signatures_and_ids() {
        let mut signed = ToolCall::function("call_a", "get_weather", r#"{"city":"Paris"}"#);
        signed.extra.insert(
            "provider_specific_fields".into(),
            json!({THOUGHT_SIGNATURE_KEY: "c2ln"}),
        );
        let other = ToolCall::function("call_b", "get_weather", "");
        let req = ChatRequest::new(
            "x",
            vec![
                Message::user("Weather in Paris and Rome?"),
                Message::assistant_tool_calls(vec![signed, other]),
                Message::tool("call_a", r#"{"temp": 21}"#),
                Message::tool("call_b", "sunny"),
                Message::user("Thanks"),
            ],
        );
        let b = body(&req);
        assert_eq!(
            b["contents"],
            json!([
                {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_a"}, "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "get_weather", "args": {}, "id": "call_b"}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp": 21}, "id": "call_a"}},
                    {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}, "id": "call_b"}},
                    {"text": "Thanks"}
                ]}
            ])
        );
        // Vertex rejects ids.
        let v = generate_content_value(&req, &cx("gemini-2.5-pro"), Flavor::Vertex).unwrap();
        assert!(
            v["contents"][1]["parts"][0]["functionCall"]
                .get("id")
                .is_none()
        );
        assert!(
            v["contents"][2]["parts"][0]["functionResponse"]
                .get("id")
                .is_none()
        );
        // Gemini 3: an unsigned replayed call gets the documented sentinel.
        let unsigned = ChatRequest::new(
            "x",
            vec![
                Message::user("Hi"),
                Message::assistant_tool_calls(vec![ToolCall::function("c1", "f", "{}")]),
                Message::tool("c1", "[1,2]"),
            ],
        );
        let g3 =
            generate_content_value(&unsigned, &cx("gemini-3-pro-preview"), Flavor::Gemini).unwrap();
        assert_eq!(
            g3["contents"][1]["parts"][0]["thoughtSignature"],
            SKIP_SIGNATURE
        );
        assert_eq!(
            g3["contents"][2]["parts"][0]["functionResponse"]["response"],
            json!({"content": [1, 2]})
        );
        // LiteLLM-style signature inside the id.
        let in_id = ChatRequest::new(
            "x",
            vec![
                Message::assistant_tool_calls(vec![ToolCall::function(
                    "c9__thought__U0lH",
                    "f",
                    "{}",
                )]),
                Message::tool("c9__thought__U0lH", "ok"),
            ],
        );
        let b = body(&in_id);
        assert_eq!(b["contents"][0]["parts"][0]["thoughtSignature"], "U0lH");
        assert_eq!(b["contents"][0]["parts"][0]["functionCall"]["id"], "c9");
        assert_eq!(b["contents"][1]["parts"][0]["functionResponse"]["id"], "c9");
        // A tool result without a matching call nor a name cannot be sent.
        let orphan = ChatRequest::new("x", vec![Message::tool("nope", "x")]);
        assert!(generate_content_value(&orphan, &cx("m"), Flavor::Gemini).is_err());
        let named = ChatRequest::new("x", vec![Message::tool("nope", "x").with_name("f")]);
        assert!(generate_content_value(&named, &cx("m"), Flavor::Gemini).is_ok());
        // Invalid argument JSON is a bad request.
        let bad = ChatRequest::new(
            "x",
            vec![Message::assistant_tool_calls(vec![ToolCall::function(
                "c", "f", "{oops",
            )])],
        );
        assert!(generate_content_value(&bad, &cx("m"), Flavor::Gemini).is_err());
    }

    #[test]
    fn response_format_and_reasoning() {
        let schema = json!({"type": "object", "properties": {"colors": {"type": "array", "items": {"type": "string"}}}, "required": ["colors"], "additionalProperties": false});
        let req = ChatRequest::new("x", vec![Message::user("Colors?")]).response_format(
            ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: "c".into(),
                    description: None,
                    schema: Some(schema),
                    strict: Some(true),
                },
            },
        );
        let g = &body(&req)["generationConfig"];
        assert_eq!(g["responseMimeType"], "application/json");
        assert_eq!(
            g["responseSchema"],
            json!({"type": "OBJECT", "properties": {"colors": {"type": "ARRAY", "items": {"type": "STRING"}}}, "required": ["colors"]})
        );
        let g = body(&ChatRequest::new("x", vec![]).response_format(ResponseFormat::JsonObject));
        assert_eq!(
            g["generationConfig"],
            json!({"responseMimeType": "application/json"})
        );
        let r = ChatRequest::new("x", vec![]).reasoning_effort(ReasoningEffort::Low);
        assert_eq!(
            body(&r)["generationConfig"]["thinkingConfig"],
            json!({"thinkingBudget": 1024, "includeThoughts": true})
        );
        let r = ChatRequest::new("x", vec![]).reasoning_effort(ReasoningEffort::None);
        assert_eq!(
            body(&r)["generationConfig"]["thinkingConfig"],
            json!({"thinkingBudget": 0, "includeThoughts": false})
        );
        let g3 = generate_content_value(
            &ChatRequest::new("x", vec![]).reasoning_effort(ReasoningEffort::Medium),
            &cx("gemini-3-pro-preview"),
            Flavor::Gemini,
        )
        .unwrap();
        assert_eq!(
            g3["generationConfig"]["thinkingConfig"],
            json!({"thinkingLevel": "HIGH", "includeThoughts": true})
        );
        let t = ChatRequest::new("x", vec![])
            .extra_body(json!({"thinking": {"type": "enabled", "budget_tokens": 500}}));
        assert_eq!(
            body(&t)["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingBudget": 500})
        );
    }

    #[test]
    fn unsupported_params() {
        for req in [
            ChatRequest::new("x", vec![]).user("u"),
            ChatRequest::new("x", vec![]).store(true),
            ChatRequest::new("x", vec![]).modalities(vec!["audio".into()]),
        ] {
            let e = generate_content_value(&req, &cx("m"), Flavor::Gemini).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Unsupported);
        }
        let mut c = cx("m");
        c.drop_params = true;
        let b = generate_content_value(
            &ChatRequest::new("x", vec![Message::user("a")]).user("u"),
            &c,
            Flavor::Gemini,
        )
        .unwrap();
        assert!(b.get("user").is_none());
        // service tiers
        let b = body(&ChatRequest::new("x", vec![]).service_tier("default"));
        assert_eq!(b["serviceTier"], "standard");
        let e = generate_content_value(
            &ChatRequest::new("x", vec![]).service_tier("flex"),
            &cx("m"),
            Flavor::Vertex,
        )
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Unsupported);
    }
}
