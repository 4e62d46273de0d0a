//! Anthropic answers: `message` objects → OpenAI chat completions, and usage.

use super::*;

/// An Anthropic `message` object, decoded tolerantly.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireMessage {
    #[serde(default, deserialize_with = "stringish")]
    pub(super) id: String,
    #[serde(default, deserialize_with = "stringish")]
    pub(super) model: String,
    #[serde(default, deserialize_with = "null_default")]
    pub(super) content: Vec<Value>,
    #[serde(default)]
    pub(super) stop_reason: Option<Value>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

/// Anthropic usage counts (each optional: stream deltas carry only some of them).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub(super) struct WireUsage {
    #[serde(default, deserialize_with = "opt_count")]
    pub(super) input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub(super) output_tokens: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub(super) cache_creation_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub(super) cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Takes every count `newer` has (stream usage is cumulative: the last value wins).
    pub(super) fn update(&mut self, newer: &WireUsage) {
        macro_rules! take {
            ($($f:ident),*) => {$(
                if newer.$f.is_some() {
                    self.$f = newer.$f;
                }
            )*};
        }
        take!(
            input_tokens,
            output_tokens,
            cache_creation_input_tokens,
            cache_read_input_tokens
        );
    }

    pub(super) fn is_empty(&self) -> bool {
        *self == WireUsage::default()
    }

    /// OpenAI usage: prompt = input + cache creation + cache read.
    pub(super) fn to_usage(&self) -> Usage {
        let input = self.input_tokens.unwrap_or(0);
        let write = self.cache_creation_input_tokens.unwrap_or(0);
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let mut u = Usage::new(
            input.saturating_add(write).saturating_add(read),
            self.output_tokens.unwrap_or(0),
        );
        if self.cache_creation_input_tokens.is_some() || self.cache_read_input_tokens.is_some() {
            u.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(read),
                cache_write_tokens: Some(write),
                ..Default::default()
            });
            u.extra
                .insert("cache_creation_input_tokens".into(), json!(write));
            u.extra
                .insert("cache_read_input_tokens".into(), json!(read));
        }
        u
    }
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Decodes a Messages answer body (or the error object it carries).
pub(super) fn decode_response(cx: &CallContext, body: &[u8], plan: Plan) -> Result<ChatResponse> {
    let wire: WireMessage =
        http::decode_answer(cx, body, "content", |m: &WireMessage| m.content.is_empty())?;
    Ok(to_chat_response(wire, plan, &cx.model))
}

/// An Anthropic message → an OpenAI chat completion.
pub(super) fn to_chat_response(wire: WireMessage, plan: Plan, model: &str) -> ChatResponse {
    let mut text = String::new();
    let mut has_text = false;
    let mut reasoning = String::new();
    let mut thinking = Vec::new();
    let mut calls = Vec::new();
    for b in &wire.content {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                text.push_str(str_of(b, "text"));
                has_text = true;
            }
            Some("thinking") => {
                let t = str_of(b, "thinking");
                reasoning.push_str(t);
                thinking.push(
                    json!({"type": "thinking", "thinking": t, "signature": str_of(b, "signature")}),
                );
            }
            Some("redacted_thinking") => {
                thinking.push(json!({"type": "redacted_thinking", "data": str_of(b, "data")}));
            }
            Some("tool_use") => {
                let name = str_of(b, "name");
                let args = match b.get("input") {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(input) => input.to_string(),
                };
                if plan.json_tool && name == JSON_TOOL_NAME {
                    text.push_str(&args);
                    has_text = true;
                } else {
                    calls.push(ToolCall::function(str_of(b, "id"), name, args));
                }
            }
            _ => {}
        }
    }
    let mut finish = match &wire.stop_reason {
        Some(Value::String(s)) => Some(map_stop_reason(s)),
        _ => None,
    };
    if finish == Some(FinishReason::ToolCalls) && calls.is_empty() && plan.json_tool {
        finish = Some(FinishReason::Stop);
    }
    let mut extra = Extra::new();
    if !thinking.is_empty() {
        extra.insert(THINKING_BLOCKS.into(), Value::Array(thinking));
    }
    let message = Message {
        role: Role::Assistant,
        content: if has_text || calls.is_empty() {
            Some(Content::Text(text))
        } else {
            None
        },
        name: None,
        tool_calls: (!calls.is_empty()).then_some(calls),
        tool_call_id: None,
        refusal: None,
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        extra,
    };
    ChatResponse {
        id: wire.id,
        object: "chat.completion".to_owned(),
        created: now(),
        model: if wire.model.is_empty() {
            model.to_owned()
        } else {
            wire.model
        },
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: finish,
            logprobs: None,
            extra: Extra::new(),
        }],
        usage: wire.usage.map(|u| u.to_usage()),
        ..Default::default()
    }
}
