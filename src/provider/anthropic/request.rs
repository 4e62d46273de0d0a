//! Anthropic request bodies: OpenAI chat requests → Messages API JSON.

use super::*;

/// The JSON body of a Messages request, and what the answer decoder must know.
pub(super) fn request_body(
    req: &ChatRequest,
    cx: &CallContext,
    stream: bool,
) -> Result<(Vec<u8>, Plan)> {
    let (body, plan) = build_body(req, cx, stream)?;
    let bytes = http::json_body(&body)?;
    Ok((bytes, plan))
}

pub(super) fn unsupported(cx: &CallContext, what: &str) -> Result<()> {
    if cx.drop_params {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Unsupported,
        format!(
            "provider '{}' does not support {what}; set drop_params to drop it",
            cx.provider
        ),
    ))
}

/// Fails with `Unsupported` for each OpenAI parameter Anthropic has no equivalent of.
pub(super) fn check_unsupported(req: &ChatRequest, cx: &CallContext) -> Result<()> {
    let checks = [
        ("n", req.n.is_some_and(|n| n != 1)),
        ("seed", req.seed.is_some()),
        ("presence_penalty", req.presence_penalty.is_some()),
        ("frequency_penalty", req.frequency_penalty.is_some()),
        ("logit_bias", req.logit_bias.is_some()),
        ("logprobs", req.logprobs == Some(true)),
        ("top_logprobs", req.top_logprobs.is_some()),
        (
            "modalities",
            req.modalities
                .as_ref()
                .is_some_and(|m| m.iter().any(|x| x != "text")),
        ),
        ("audio", req.audio.is_some()),
        ("prediction", req.prediction.is_some()),
        ("store", req.store == Some(true)),
        ("metadata", req.store_metadata.is_some()),
        ("prompt_cache_key", req.prompt_cache_key.is_some()),
        (
            "prompt_cache_retention",
            req.prompt_cache_retention.is_some(),
        ),
        ("verbosity", req.verbosity.is_some()),
        ("functions", req.functions.is_some()),
        ("function_call", req.function_call.is_some()),
    ];
    for (name, set) in checks {
        if set {
            cx.unsupported_param(name)?;
        }
    }
    Ok(())
}

/// How `response_format` is honoured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JsonMode {
    OutputConfig,
    Tool,
}

pub(super) fn json_mode(cx: &CallContext) -> Result<JsonMode> {
    match cx.param("anthropic_json_mode").map(str::trim) {
        None | Some("") => Ok(if supports_output_format(&cx.model) {
            JsonMode::OutputConfig
        } else {
            JsonMode::Tool
        }),
        Some("tool") => Ok(JsonMode::Tool),
        Some("output_config" | "output_format") => Ok(JsonMode::OutputConfig),
        Some(other) => Err(Error::bad_request(format!(
            "anthropic_json_mode must be \"tool\" or \"output_config\", not {other:?}"
        ))),
    }
}

pub(super) fn build_body(
    req: &ChatRequest,
    cx: &CallContext,
    stream: bool,
) -> Result<(Map<String, Value>, Plan)> {
    check_unsupported(req, cx)?;
    let mut plan = Plan::default();
    let mut body = Map::new();
    body.insert("model".into(), Value::String(cx.model.clone()));

    let (system, messages) = convert_messages(&req.messages, cx)?;
    if messages.is_empty() {
        return Err(Error::bad_request(
            "Anthropic needs at least one user or assistant message besides the system prompt",
        ));
    }

    // Thinking and max_tokens.
    let mut budget: Option<u32> = None;
    if let Some(effort) = &req.reasoning_effort {
        match effort {
            ReasoningEffort::None => {}
            ReasoningEffort::Other(_) => cx.unsupported_param("reasoning_effort")?,
            e => {
                if let Some(b) = thinking_budget(e) {
                    body.insert(
                        "thinking".into(),
                        json!({"type": "enabled", "budget_tokens": b}),
                    );
                    budget = Some(b);
                }
            }
        }
    }
    if let Some(t) = req.extra_body.get("thinking") {
        budget = t
            .get("budget_tokens")
            .and_then(Value::as_u64)
            .filter(|_| t.get("type").and_then(Value::as_str) == Some("enabled"))
            .map(|b| b.min(u64::from(u32::MAX)) as u32);
    }
    let limit = req.max_completion_tokens.or(req.max_tokens);
    let max_tokens = match (limit, budget) {
        (Some(l), Some(b)) if l <= b => l.saturating_add(b),
        (Some(l), _) => l,
        (None, Some(b)) => DEFAULT_MAX_TOKENS.saturating_add(b),
        (None, None) => DEFAULT_MAX_TOKENS,
    };
    body.insert("max_tokens".into(), json!(max_tokens));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(system) = system {
        body.insert("system".into(), system);
    }

    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(stop) = &req.stop {
        let mut seqs = Vec::new();
        for s in stop.to_vec() {
            if s.trim().is_empty() {
                // Anthropic rejects stop sequences without a visible character.
                cx.unsupported_param("stop")?;
            } else {
                seqs.push(Value::String(s));
            }
        }
        if !seqs.is_empty() {
            body.insert("stop_sequences".into(), Value::Array(seqs));
        }
    }
    if let Some(user) = req.user.as_ref().or(req.safety_identifier.as_ref()) {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    if let Some(tier) = &req.service_tier {
        match tier.as_str() {
            "auto" => {
                body.insert("service_tier".into(), json!("auto"));
            }
            "default" | "standard_only" => {
                body.insert("service_tier".into(), json!("standard_only"));
            }
            _ => cx.unsupported_param("service_tier")?,
        }
    }

    // Tools, tool choice and JSON output.
    let mut tools = match &req.tools {
        Some(t) => convert_tools(t, cx)?,
        None => Vec::new(),
    };
    if let Some(opts) = &req.web_search_options {
        match web_search_tool(opts) {
            Some(tool) => tools.push(tool),
            None => cx.unsupported_param("web_search_options")?,
        }
    }
    let user_tools = !tools.is_empty();
    let mut choice = req.tool_choice.as_ref().map(tool_choice_value);
    let mut json_tool: Option<(Value, Option<String>)> = None;
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            json_tool = Some((
                json!({"type": "object", "additionalProperties": true}),
                None,
            ));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"}));
            match json_mode(cx)? {
                JsonMode::OutputConfig => {
                    body.insert(
                        "output_config".into(),
                        json!({"format": {"type": "json_schema", "schema": schema}}),
                    );
                }
                JsonMode::Tool => json_tool = Some((schema, json_schema.description.clone())),
            }
        }
        Some(ResponseFormat::Other(_)) => cx.unsupported_param("response_format")?,
    }
    if let Some((schema, description)) = json_tool {
        plan.json_tool = true;
        tools.push(json!({
            "name": JSON_TOOL_NAME,
            "description": description.unwrap_or_else(|| "Respond with a JSON object that matches this tool's input schema.".to_owned()),
            "input_schema": schema,
        }));
        if !user_tools {
            choice = Some(json!({"type": "tool", "name": JSON_TOOL_NAME}));
        } else if choice.is_none() {
            choice = Some(json!({"type": "any"}));
        }
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
        let no_parallel = req.parallel_tool_calls == Some(false);
        let choice = match choice {
            Some(c) => Some(c),
            None if no_parallel => Some(json!({"type": "auto"})),
            None => None,
        };
        if let Some(mut c) = choice {
            if no_parallel
                && let Value::Object(o) = &mut c
                && o.get("type").and_then(Value::as_str) != Some("none")
            {
                o.insert("disable_parallel_tool_use".into(), Value::Bool(true));
            }
            body.insert("tool_choice".into(), c);
        }
    }

    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    for (k, v) in &req.extra_body {
        body.insert(k.clone(), v.clone());
    }
    Ok((body, plan))
}

/// OpenAI `web_search_options` → Anthropic's server web search tool: `search_context_size`
/// `low`/`medium`/`high` → `max_uses` 1/5/10 (LiteLLM's values), `user_location.approximate`
/// → `user_location`. `None` when the options are not an object.
pub(super) fn web_search_tool(opts: &Value) -> Option<Value> {
    let opts = opts.as_object()?;
    let mut tool = Map::new();
    tool.insert("type".into(), json!("web_search_20250305"));
    tool.insert("name".into(), json!("web_search"));
    let uses = match opts.get("search_context_size").and_then(Value::as_str) {
        Some("low") => Some(1),
        Some("medium") => Some(5),
        Some("high") => Some(10),
        _ => None,
    };
    if let Some(n) = uses {
        tool.insert("max_uses".into(), json!(n));
    }
    if let Some(Value::Object(approx)) =
        opts.get("user_location").and_then(|l| l.get("approximate"))
    {
        let mut loc = Map::new();
        loc.insert("type".into(), json!("approximate"));
        for key in ["city", "region", "country", "timezone"] {
            if let Some(Value::String(v)) = approx.get(key)
                && !v.is_empty()
            {
                loc.insert(key.into(), Value::String(v.clone()));
            }
        }
        tool.insert("user_location".into(), Value::Object(loc));
    }
    Some(Value::Object(tool))
}

pub(super) fn tool_choice_value(tc: &ToolChoice) -> Value {
    match tc {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
        ToolChoice::Other(v) => v.clone(),
    }
}

/// OpenAI tools → Anthropic tools. Function tools get `input_schema` (an object schema; a
/// missing one becomes an empty object schema); `strict` is kept for models with structured
/// outputs; extra fields (`cache_control`, …) are copied. Tools of other types are native
/// Anthropic tools and are passed through; OpenAI `custom` tools are `Unsupported`.
pub(super) fn convert_tools(tools: &[Tool], cx: &CallContext) -> Result<Vec<Value>> {
    let strict_ok = supports_output_format(&cx.model);
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        if t.kind == "function" {
            let Some(f) = &t.function else {
                return Err(Error::bad_request(format!(
                    "tools[{i}] is a function tool without a `function`"
                )));
            };
            let mut schema = f
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            match &mut schema {
                Value::Object(o) => {
                    o.entry("type").or_insert_with(|| json!("object"));
                }
                _ => {
                    return Err(Error::bad_request(format!(
                        "tools[{i}] ({}): parameters must be a JSON Schema object",
                        f.name
                    )));
                }
            }
            let mut tool = Map::new();
            tool.insert("name".into(), Value::String(f.name.clone()));
            if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                tool.insert("description".into(), Value::String(d.to_owned()));
            }
            tool.insert("input_schema".into(), schema);
            if let Some(strict) = f.strict
                && strict_ok
            {
                tool.insert("strict".into(), Value::Bool(strict));
            }
            for (k, v) in &t.extra {
                tool.insert(k.clone(), v.clone());
            }
            out.push(Value::Object(tool));
        } else if t.kind == "custom" && t.extra.contains_key("custom") {
            unsupported(cx, "OpenAI custom (grammar) tools")?;
        } else {
            let mut tool = Map::new();
            tool.insert("type".into(), Value::String(t.kind.clone()));
            for (k, v) in &t.extra {
                tool.insert(k.clone(), v.clone());
            }
            out.push(Value::Object(tool));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Messages.

/// A turn being built: role and content blocks.
pub(super) struct Turn {
    role: &'static str,
    blocks: Vec<Value>,
}

pub(super) fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// True for `{"type":"text","text":…}` with nothing else.
pub(super) fn is_plain_text(block: &Value) -> bool {
    matches!(block, Value::Object(o) if o.len() == 2
        && o.get("type").and_then(Value::as_str) == Some("text")
        && o.get("text").is_some_and(Value::is_string))
}

/// Puts a message-level `cache_control` on the message's last block.
pub(super) fn apply_message_cache_control(m: &Message, blocks: &mut [Value]) {
    if let Some(cc) = m.extra.get("cache_control").filter(|v| !v.is_null())
        && let Some(Value::Object(last)) = blocks.last_mut()
    {
        last.entry("cache_control").or_insert_with(|| cc.clone());
    }
}

/// OpenAI messages → (`system`, Anthropic `messages`).
pub(super) fn convert_messages(
    msgs: &[Message],
    cx: &CallContext,
) -> Result<(Option<Value>, Vec<Value>)> {
    let mut system: Vec<Value> = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let (role, mut blocks) = match &m.role {
            Role::System | Role::Developer => {
                let mut blocks = system_blocks(m, i)?;
                apply_message_cache_control(m, &mut blocks);
                system.extend(blocks);
                continue;
            }
            Role::User => ("user", content_blocks(m.content.as_ref(), cx)?),
            Role::Assistant => ("assistant", assistant_blocks(m, i, cx)?),
            Role::Tool => ("user", vec![tool_result_block(m, i, cx)?]),
            Role::Function => {
                return Err(Error::bad_request(format!(
                    "messages[{i}]: Anthropic has no `function` role; send tool results as `tool` messages"
                )));
            }
            Role::Other(r) => {
                return Err(Error::bad_request(format!(
                    "messages[{i}]: Anthropic does not know the role {r:?}"
                )));
            }
        };
        if blocks.is_empty() {
            continue;
        }
        apply_message_cache_control(m, &mut blocks);
        match turns.last_mut() {
            Some(t) if t.role == role => t.blocks.extend(blocks),
            _ => turns.push(Turn { role, blocks }),
        }
    }
    let messages = turns
        .into_iter()
        .map(|mut t| {
            if t.role == "user" {
                // Tool results must open the user turn that answers the tool calls.
                let (mut results, rest): (Vec<Value>, Vec<Value>) = t
                    .blocks
                    .into_iter()
                    .partition(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"));
                results.extend(rest);
                t.blocks = results;
            }
            let content = match t.blocks.as_slice() {
                [b] if is_plain_text(b) => b["text"].clone(),
                _ => Value::Array(t.blocks),
            };
            json!({"role": t.role, "content": content})
        })
        .collect();
    let system = if system.is_empty() {
        None
    } else if system.iter().all(is_plain_text) {
        let texts: Vec<&str> = system.iter().filter_map(|b| b["text"].as_str()).collect();
        Some(Value::String(texts.join("\n\n")))
    } else {
        Some(Value::Array(system))
    };
    Ok((system, messages))
}

pub(super) fn system_blocks(m: &Message, i: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    match &m.content {
        None => {}
        Some(Content::Text(s)) if !s.is_empty() => out.push(text_block(s)),
        Some(Content::Text(_)) => {}
        Some(Content::Parts(parts)) => {
            for p in parts {
                match p {
                    ContentPart::Text { text, extra } => {
                        if !text.is_empty() {
                            let mut b = Map::new();
                            b.insert("type".into(), json!("text"));
                            b.insert("text".into(), Value::String(text.clone()));
                            b.extend(extra.clone());
                            out.push(Value::Object(b));
                        }
                    }
                    ContentPart::Other(v) => out.push(v.clone()),
                    _ => {
                        return Err(Error::bad_request(format!(
                            "messages[{i}]: Anthropic system prompts take text only"
                        )));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Content → blocks: text (empty text is skipped, as Anthropic rejects it), images, documents,
/// native blocks passed through.
pub(super) fn content_blocks(content: Option<&Content>, cx: &CallContext) -> Result<Vec<Value>> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Content::Text(s)) => Ok(vec![text_block(s)]),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for p in parts {
                if let Some(b) = part_block(p, cx)? {
                    out.push(b);
                }
            }
            Ok(out)
        }
    }
}

pub(super) fn with_extra(mut block: Map<String, Value>, extra: &Extra) -> Value {
    for (k, v) in extra {
        block.insert(k.clone(), v.clone());
    }
    Value::Object(block)
}

pub(super) fn part_block(p: &ContentPart, cx: &CallContext) -> Result<Option<Value>> {
    Ok(match p {
        ContentPart::Text { text, extra } => {
            if text.is_empty() {
                None
            } else {
                let mut b = Map::new();
                b.insert("type".into(), json!("text"));
                b.insert("text".into(), Value::String(text.clone()));
                Some(with_extra(b, extra))
            }
        }
        ContentPart::Refusal { refusal, .. } => (!refusal.is_empty()).then(|| text_block(refusal)),
        ContentPart::ImageUrl { image_url, extra } => {
            let mut b = Map::new();
            b.insert("type".into(), json!("image"));
            b.insert("source".into(), image_source(&image_url.url)?);
            Some(with_extra(b, extra))
        }
        ContentPart::InputAudio { .. } => {
            unsupported(cx, "audio input")?;
            None
        }
        ContentPart::File { file, extra } => match document_source(file, cx)? {
            Some(source) => {
                let mut b = Map::new();
                b.insert("type".into(), json!("document"));
                b.insert("source".into(), source);
                Some(with_extra(b, extra))
            }
            None => None,
        },
        ContentPart::Other(v) => Some(v.clone()),
    })
}

/// Splits a `data:` URL into (media type, base64 data). Only base64 data URLs are accepted.
pub(super) fn parse_data_url(url: &str) -> Result<Option<(&str, &str)>> {
    let Some(rest) = url
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("data:"))
        .map(|_| &url[5..])
    else {
        return Ok(None);
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| Error::bad_request("a data: URL without a comma"))?;
    let Some(media) = meta
        .len()
        .checked_sub(7)
        .filter(|&at| meta.is_char_boundary(at) && meta[at..].eq_ignore_ascii_case(";base64"))
        .map(|at| &meta[..at])
    else {
        return Err(Error::bad_request(
            "Anthropic takes base64 data: URLs only (data:<media type>;base64,<data>)",
        ));
    };
    let media_type = media.split(';').next().unwrap_or("").trim();
    if media_type.is_empty() {
        return Err(Error::bad_request("a data: URL without a media type"));
    }
    Ok(Some((media_type, data)))
}

/// An image URL → an Anthropic image source (`url`, or `base64` for a data URL).
pub(super) fn image_source(url: &str) -> Result<Value> {
    Ok(match parse_data_url(url)? {
        Some((media_type, data)) => {
            json!({"type": "base64", "media_type": media_type.to_ascii_lowercase(), "data": data})
        }
        None => json!({"type": "url", "url": url}),
    })
}

/// A file part → a document source: PDF as base64, plain text decoded; others `Unsupported`.
pub(super) fn document_source(file: &FileData, cx: &CallContext) -> Result<Option<Value>> {
    let Some(data) = &file.file_data else {
        if file.file_id.is_some() {
            unsupported(cx, "uploaded files (file_id)")?;
            return Ok(None);
        }
        return Err(Error::bad_request(
            "a file part without file_data or file_id",
        ));
    };
    let (media_type, b64) = parse_data_url(data)?.unwrap_or(("application/pdf", data.as_str()));
    match media_type.to_ascii_lowercase().as_str() {
        "application/pdf" => Ok(Some(
            json!({"type": "base64", "media_type": "application/pdf", "data": b64}),
        )),
        "text/plain" => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    Error::bad_request(format!("a text/plain file is not valid base64: {e}"))
                })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::bad_request("a text/plain file is not UTF-8"))?;
            Ok(Some(
                json!({"type": "text", "media_type": "text/plain", "data": text}),
            ))
        }
        other => {
            unsupported(cx, &format!("files of type {other}"))?;
            Ok(None)
        }
    }
}

/// A tool-call id made valid for Anthropic (`^[a-zA-Z0-9_-]+$`): other characters become `_`.
pub(super) fn tool_id(id: &str) -> Cow<'_, str> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Cow::Borrowed(id);
    }
    let fixed: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Cow::Owned(if fixed.is_empty() {
        "_".to_owned()
    } else {
        fixed
    })
}

/// Thinking blocks kept in a message's extras, ready to send back.
pub(super) fn thinking_blocks_of(m: &Message) -> Vec<Value> {
    let Some(Value::Array(blocks)) = m.extra.get(THINKING_BLOCKS) else {
        return Vec::new();
    };
    blocks
        .iter()
        .filter_map(|b| match b.get("type").and_then(Value::as_str) {
            Some("thinking") => Some(json!({
                "type": "thinking",
                "thinking": b.get("thinking").and_then(Value::as_str).unwrap_or(""),
                "signature": b.get("signature").and_then(Value::as_str)?,
            })),
            Some("redacted_thinking") => Some(json!({
                "type": "redacted_thinking",
                "data": b.get("data").and_then(Value::as_str)?,
            })),
            _ => None,
        })
        .collect()
}

pub(super) fn assistant_blocks(m: &Message, i: usize, cx: &CallContext) -> Result<Vec<Value>> {
    let mut out = thinking_blocks_of(m);
    out.extend(content_blocks(m.content.as_ref(), cx)?);
    for (j, call) in m.tool_calls.iter().flatten().enumerate() {
        let name = &call.function.name;
        let args = call.function.arguments.trim();
        let input: Value = if args.is_empty() {
            json!({})
        } else {
            serde_json::from_str(args).map_err(|e| {
                Error::bad_request(format!(
                    "messages[{i}].tool_calls[{j}] ({name}): the arguments are not valid JSON: {e}"
                ))
            })?
        };
        let input = match input {
            Value::Object(_) => input,
            Value::Null => json!({}),
            _ => {
                return Err(Error::bad_request(format!(
                    "messages[{i}].tool_calls[{j}] ({name}): Anthropic needs the arguments as a JSON object"
                )));
            }
        };
        let mut b = Map::new();
        b.insert("type".into(), json!("tool_use"));
        b.insert("id".into(), Value::String(tool_id(&call.id).into_owned()));
        b.insert("name".into(), Value::String(name.clone()));
        b.insert("input".into(), input);
        if let Some(cc) = call.extra.get("cache_control").filter(|v| !v.is_null()) {
            b.insert("cache_control".into(), cc.clone());
        }
        out.push(Value::Object(b));
    }
    Ok(out)
}

pub(super) fn tool_result_block(m: &Message, i: usize, cx: &CallContext) -> Result<Value> {
    let id = m
        .tool_call_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::bad_request(format!(
                "messages[{i}]: a tool message needs a tool_call_id"
            ))
        })?;
    let mut b = Map::new();
    b.insert("type".into(), json!("tool_result"));
    b.insert(
        "tool_use_id".into(),
        Value::String(tool_id(id).into_owned()),
    );
    match &m.content {
        Some(Content::Text(s)) if !s.is_empty() => {
            b.insert("content".into(), Value::String(s.clone()));
        }
        Some(c @ Content::Parts(_)) => {
            let blocks = content_blocks(Some(c), cx)?;
            if !blocks.is_empty() {
                b.insert("content".into(), Value::Array(blocks));
            }
        }
        _ => {}
    }
    if m.extra.get("is_error") == Some(&Value::Bool(true)) {
        b.insert("is_error".into(), Value::Bool(true));
    }
    Ok(Value::Object(b))
}
