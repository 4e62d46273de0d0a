//! Gemini `GenerateContentResponse` → OpenAI response and stream chunks (pure).
//!
//! Responses are read as `serde_json::Value` and walked by hand, so that any shape a server or a
//! mock sends (nulls, extreme or negative numbers, unknown fields, odd types) decodes or is
//! skipped, never panics.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::THOUGHT_SIGNATURE_KEY;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::decode::ChunkDecoder;
use crate::provider::error_map::error_from_json;
use crate::provider::sse::SseEvent;
use crate::types::{
    ChatChunk, ChatResponse, Choice, ChunkChoice, CompletionTokensDetails, Content, Delta,
    FinishReason, FunctionCallDelta, Message, PromptTokensDetails, Role, ToolCall, ToolCallDelta,
    Usage,
};

/// Maps a Gemini `finishReason` to OpenAI's (wire-formats §1.2, LiteLLM's table): `STOP` →
/// `stop`, or `tool_calls` when the candidate called a function; `MAX_TOKENS` → `length`;
/// safety, recitation, blocklist, prohibited-content, SPII, language, image and `OTHER` reasons
/// → `content_filter`; malformed or unexpected tool calls and `FINISH_REASON_UNSPECIFIED` →
/// `stop`. Unknown values are kept as they are.
pub(crate) fn map_finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    match reason {
        "STOP" if has_tool_calls => FinishReason::ToolCalls,
        "STOP"
        | "FINISH_REASON_UNSPECIFIED"
        | "MALFORMED_FUNCTION_CALL"
        | "UNEXPECTED_TOOL_CALL"
        | "TOO_MANY_TOOL_CALLS"
        | "MALFORMED_RESPONSE"
        | "MISSING_THOUGHT_SIGNATURE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "OTHER"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION"
        | "IMAGE_OTHER"
        | "NO_IMAGE"
        | "ESCALATION" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// A token count from any JSON value: negative → 0, fractions truncated, huge → saturated,
/// strings parsed, anything else → 0.
fn count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_i64().map(|i| i.max(0) as u64))
            .or_else(|| n.as_f64().map(|f| if f > 0.0 { f as u64 } else { 0 }))
            .unwrap_or(0),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(|f| if f > 0.0 { f as u64 } else { 0 })
            .unwrap_or(0),
        _ => 0,
    }
}

/// `usageMetadata` → OpenAI usage (wire-formats §5.3): prompt = `promptTokenCount` (cached
/// included), completion = `candidatesTokenCount + thoughtsTokenCount`, reasoning =
/// `thoughtsTokenCount`, cached = `cachedContentTokenCount`, total = `totalTokenCount` (or the
/// sum when absent); per-modality prompt counts fill the text/audio/image details.
pub(crate) fn usage_from(meta: &Value) -> Option<Usage> {
    let m = meta.as_object()?;
    let prompt = count(m.get("promptTokenCount"));
    let candidates = count(m.get("candidatesTokenCount"));
    let thoughts = count(m.get("thoughtsTokenCount"));
    let cached = count(m.get("cachedContentTokenCount"));
    let completion = candidates.saturating_add(thoughts);
    let mut total = count(m.get("totalTokenCount"));
    if total == 0 {
        total = prompt
            .saturating_add(completion)
            .saturating_add(count(m.get("toolUsePromptTokenCount")));
    }
    let mut usage = Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: total,
        ..Default::default()
    };
    let mut pd = PromptTokensDetails::default();
    let mut any_prompt_detail = false;
    if m.contains_key("cachedContentTokenCount") {
        pd.cached_tokens = Some(cached);
        any_prompt_detail = true;
    }
    if let Some(Value::Array(details)) = m.get("promptTokensDetails") {
        for d in details {
            let n = count(d.get("tokenCount"));
            let slot = match d.get("modality").and_then(Value::as_str) {
                Some("TEXT") => &mut pd.text_tokens,
                Some("AUDIO") => &mut pd.audio_tokens,
                Some("IMAGE") => &mut pd.image_tokens,
                _ => continue,
            };
            *slot = Some(slot.unwrap_or(0).saturating_add(n));
            any_prompt_detail = true;
        }
    }
    if any_prompt_detail {
        usage.prompt_tokens_details = Some(pd);
    }
    if m.contains_key("thoughtsTokenCount") {
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(thoughts),
            ..Default::default()
        });
    }
    if let Some(n) = m.get("toolUsePromptTokenCount") {
        usage
            .extra
            .insert("tool_use_prompt_tokens".into(), json!(count(Some(n))));
    }
    Some(usage)
}

/// Makes tool-call ids for calls that come without one (Gemini 2.x): `call_<random>_<n>`,
/// unique across responses.
pub(crate) struct IdGen {
    prefix: String,
    next: u32,
}

impl IdGen {
    pub(crate) fn new() -> IdGen {
        IdGen {
            prefix: format!("call_{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff),
            next: 0,
        }
    }

    fn id(&mut self) -> String {
        let id = format!("{}_{}", self.prefix, self.next);
        self.next += 1;
        id
    }
}

/// What one candidate (or one streamed piece of it) carries.
#[derive(Default)]
struct Piece {
    text: Option<String>,
    reasoning: Option<String>,
    calls: Vec<ToolCall>,
    images: Vec<Value>,
    finish: Option<String>,
    logprobs: Option<Value>,
    extra: Map<String, Value>,
}

/// Candidate fields kept (under their Gemini names) in the choice's `extra`.
const CANDIDATE_EXTRAS: &[&str] = &[
    "groundingMetadata",
    "citationMetadata",
    "safetyRatings",
    "urlContextMetadata",
    "finishMessage",
    "avgLogprobs",
];

fn piece(candidate: &Value, ids: &mut IdGen) -> Piece {
    let mut p = Piece::default();
    let parts = candidate
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array);
    for part in parts.into_iter().flatten() {
        let signature = part
            .get("thoughtSignature")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if let Some(fc) = part.get("functionCall").filter(|f| f.is_object()) {
            let name = fc
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let args = match fc.get("args") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(a) => a.to_string(),
            };
            let id = fc
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| ids.id());
            let mut call = ToolCall::function(id, name, args);
            if let Some(sig) = signature {
                call.extra.insert(
                    "provider_specific_fields".into(),
                    json!({ THOUGHT_SIGNATURE_KEY: sig }),
                );
            }
            p.calls.push(call);
        } else if let Some(text) = part.get("text").and_then(Value::as_str) {
            let slot = if part.get("thought") == Some(&Value::Bool(true)) {
                &mut p.reasoning
            } else {
                &mut p.text
            };
            slot.get_or_insert_with(String::new).push_str(text);
        } else if let Some(data) = part.get("inlineData").filter(|d| d.is_object()) {
            let mime = data
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream");
            let b64 = data.get("data").and_then(Value::as_str).unwrap_or_default();
            p.images.push(json!({"type": "image_url", "image_url": {"url": format!("data:{mime};base64,{b64}")}}));
        }
    }
    p.finish = candidate
        .get("finishReason")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    p.logprobs = candidate.get("logprobsResult").and_then(openai_logprobs);
    if let Some(obj) = candidate.as_object() {
        for key in CANDIDATE_EXTRAS {
            if let Some(v) = obj.get(*key).filter(|v| !v.is_null()) {
                p.extra.insert((*key).to_owned(), v.clone());
            }
        }
    }
    p
}

/// `logprobsResult` → OpenAI's `{"content": [{token, logprob, bytes, top_logprobs}]}`.
fn openai_logprobs(r: &Value) -> Option<Value> {
    let chosen = r.get("chosenCandidates")?.as_array()?;
    let top = r.get("topCandidates").and_then(Value::as_array);
    let entry = |c: &Value| {
        json!({
            "token": c.get("token").and_then(Value::as_str).unwrap_or_default(),
            "logprob": c.get("logProbability").and_then(Value::as_f64).unwrap_or(0.0),
            "bytes": null,
        })
    };
    let content: Vec<Value> = chosen
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut e = entry(c);
            let tops: Vec<Value> = top
                .and_then(|t| t.get(i))
                .and_then(|t| t.get("candidates"))
                .and_then(Value::as_array)
                .map(|cs| cs.iter().map(entry).collect())
                .unwrap_or_default();
            e["top_logprobs"] = Value::Array(tops);
            e
        })
        .collect();
    Some(json!({ "content": content }))
}

/// The prompt was blocked (`promptFeedback.blockReason`, no candidates).
fn blocked(v: &Value) -> bool {
    v.get("promptFeedback")
        .and_then(|f| f.get("blockReason"))
        .is_some_and(|r| !r.is_null())
}

/// The candidates of a response, with their choice index (`index`, else the position).
fn candidates(v: &Value) -> Vec<(u32, &Value)> {
    v.get("candidates")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .enumerate()
                .filter(|(_, c)| c.is_object())
                .map(|(pos, c)| {
                    let idx = match c.get("index") {
                        Some(i @ Value::Number(_)) => count(Some(i)).min(u32::MAX as u64) as u32,
                        _ => pos as u32,
                    };
                    (idx, c)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A whole `generateContent` answer → `ChatResponse`. `model` is used when the answer has no
/// `modelVersion`. A prompt blocked by safety gives one choice with `content_filter` and no
/// content; an answer without candidates otherwise is `InvalidResponse`.
pub(crate) fn chat_response(v: &Value, model: &str, ids: &mut IdGen) -> Result<ChatResponse> {
    if let Some(err) = error_from_json(v) {
        return Err(err);
    }
    if !v.is_object() {
        return Err(invalid("the answer is not a JSON object", v));
    }
    let mut choices = Vec::new();
    for (index, c) in candidates(v) {
        let p = piece(c, ids);
        let has_calls = !p.calls.is_empty();
        let content = match (p.text, has_calls) {
            (Some(t), _) => Some(Content::Text(t)),
            (None, true) => None,
            (None, false) => Some(Content::Text(String::new())),
        };
        let mut message = Message {
            content,
            tool_calls: has_calls.then_some(p.calls),
            reasoning_content: p.reasoning,
            ..Message::new(Role::Assistant, "")
        };
        if !p.images.is_empty() {
            message
                .extra
                .insert("images".into(), Value::Array(p.images));
        }
        choices.push(Choice {
            index,
            message,
            finish_reason: p.finish.map(|f| map_finish_reason(&f, has_calls)),
            logprobs: p.logprobs,
            extra: p.extra,
        });
    }
    if choices.is_empty() {
        if !blocked(v) {
            return Err(invalid("the answer has no candidates", v));
        }
        choices.push(Choice {
            index: 0,
            message: Message {
                content: None,
                ..Message::new(Role::Assistant, "")
            },
            finish_reason: Some(FinishReason::ContentFilter),
            logprobs: None,
            extra: v
                .get("promptFeedback")
                .map(|f| Map::from_iter([("promptFeedback".to_owned(), f.clone())]))
                .unwrap_or_default(),
        });
    }
    Ok(ChatResponse {
        id: response_id(v).unwrap_or_else(new_completion_id),
        object: "chat.completion".into(),
        created: now(),
        model: model_version(v).unwrap_or(model).to_owned(),
        choices,
        usage: v.get("usageMetadata").and_then(usage_from),
        ..Default::default()
    })
}

fn response_id(v: &Value) -> Option<String> {
    v.get("responseId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn model_version(v: &Value) -> Option<&str> {
    v.get("modelVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn new_completion_id() -> String {
    format!("chatcmpl-{:016x}", rand::random::<u64>())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn invalid(what: &str, v: &Value) -> Error {
    let mut s = v.to_string();
    if s.len() > 200 {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    Error::new(
        ErrorKind::InvalidResponse,
        format!("{what}; body starts with {s:?}"),
    )
}

// ---------------------------------------------------------------------------------------------
// Streaming.

/// Gemini's stream decoder: every SSE `data:` is a whole `GenerateContentResponse` with the new
/// parts only. Text → `content` deltas, thought parts → `reasoning_content`, each function call
/// → one complete tool-call delta (`index` = running count per choice, `arguments` = the JSON
/// text of `args`), `finishReason` → `finish_reason` (`tool_calls` after a function call), the
/// last `usageMetadata` (cumulative) → one final usage chunk with `choices: []`.
///
/// Gemini sends no terminator: the stream ends with the body. A body that ends before every
/// choice got a `finishReason` is an error (a truncated answer), never a silent end. A JSON
/// error object, with or without `data:`, is the typed error it describes.
pub(crate) struct GeminiDecoder {
    id: String,
    model: String,
    created: i64,
    ids: IdGen,
    usage: Option<Usage>,
    /// Per choice index: (role sent, tool calls so far, finished).
    choices: Vec<(u32, bool, u32, bool)>,
}

impl GeminiDecoder {
    /// A decoder for a call to `model` (used until the stream names its `modelVersion`).
    pub(crate) fn new(model: &str) -> GeminiDecoder {
        GeminiDecoder {
            id: String::new(),
            model: model.to_owned(),
            created: now(),
            ids: IdGen::new(),
            usage: None,
            choices: Vec::new(),
        }
    }

    fn state(&mut self, index: u32) -> &mut (u32, bool, u32, bool) {
        let pos = match self.choices.iter().position(|c| c.0 == index) {
            Some(p) => p,
            None => {
                self.choices.push((index, false, 0, false));
                self.choices.len() - 1
            }
        };
        &mut self.choices[pos]
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices,
            ..Default::default()
        }
    }

    /// Handles one `GenerateContentResponse`.
    pub(crate) fn response(&mut self, v: &Value, out: &mut VecDeque<ChatChunk>) -> Result<()> {
        if let Some(err) = error_from_json(v) {
            return Err(err);
        }
        if !v.is_object() {
            return Err(invalid("a stream event is not a JSON object", v));
        }
        if self.id.is_empty() {
            self.id = response_id(v).unwrap_or_else(new_completion_id);
        }
        if let Some(m) = model_version(v)
            && m != self.model
        {
            self.model = m.to_owned();
        }
        if let Some(u) = v.get("usageMetadata").and_then(usage_from) {
            self.usage = Some(u);
        }
        let mut choices = Vec::new();
        let cands = candidates(v);
        if cands.is_empty() && blocked(v) {
            let st = self.state(0);
            if !st.3 {
                st.3 = true;
                choices.push(ChunkChoice {
                    index: 0,
                    delta: Delta {
                        role: Some(Role::Assistant),
                        ..Default::default()
                    },
                    finish_reason: Some(FinishReason::ContentFilter),
                    ..Default::default()
                });
            }
        }
        for (index, c) in cands {
            let p = piece(c, &mut self.ids);
            let (first, calls_before, has_calls) = {
                let st = self.state(index);
                let first = !st.1;
                st.1 = true;
                let before = st.2;
                st.2 += p.calls.len() as u32;
                (first, before, st.2 > 0)
            };
            let tool_calls: Vec<ToolCallDelta> = p
                .calls
                .into_iter()
                .enumerate()
                .map(|(i, call)| ToolCallDelta {
                    index: Some(calls_before + i as u32),
                    id: Some(call.id),
                    kind: Some("function".into()),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name),
                        arguments: Some(call.function.arguments),
                    }),
                    extra: call.extra,
                })
                .collect();
            let mut finish = p.finish.map(|f| map_finish_reason(&f, has_calls));
            let st = self.state(index);
            if finish.is_some() {
                if st.3 {
                    // A repeated finish reason is delivered once.
                    finish = None;
                } else {
                    st.3 = true;
                }
            }
            let text = p.text.filter(|t| !t.is_empty());
            let reasoning = p.reasoning.filter(|t| !t.is_empty());
            if !first
                && text.is_none()
                && reasoning.is_none()
                && tool_calls.is_empty()
                && finish.is_none()
                && p.images.is_empty()
                && p.logprobs.is_none()
            {
                continue;
            }
            let mut delta = Delta {
                role: first.then_some(Role::Assistant),
                content: text,
                reasoning_content: reasoning,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                ..Default::default()
            };
            if !p.images.is_empty() {
                delta.extra.insert("images".into(), Value::Array(p.images));
            }
            choices.push(ChunkChoice {
                index,
                delta,
                finish_reason: finish,
                logprobs: p.logprobs,
                extra: p.extra,
            });
        }
        if !choices.is_empty() {
            out.push_back(self.chunk(choices));
        }
        Ok(())
    }

    /// The stream is over: the usage chunk when every choice finished, else the error.
    fn close(&mut self, out: &mut VecDeque<ChatChunk>) -> Result<()> {
        if self.choices.is_empty() || self.choices.iter().any(|c| !c.3) {
            return Err(Error::new(
                ErrorKind::ApiConnection,
                "the Gemini stream ended before a finishReason: the answer may be incomplete",
            ));
        }
        if let Some(u) = self.usage.take() {
            let mut last = self.chunk(Vec::new());
            last.usage = Some(u);
            out.push_back(last);
        }
        Ok(())
    }
}

impl GeminiDecoder {
    /// The whole answer was read (one JSON body, not a stream that may have been cut): the
    /// usage chunk, without requiring a finish reason.
    pub(crate) fn close_complete(&mut self, out: &mut VecDeque<ChatChunk>) {
        if let Some(u) = self.usage.take() {
            let mut last = self.chunk(Vec::new());
            last.usage = Some(u);
            out.push_back(last);
        }
    }
}

impl ChunkDecoder for GeminiDecoder {
    type Event = SseEvent;

    fn decode(&mut self, ev: SseEvent, out: &mut VecDeque<ChatChunk>) -> Result<bool> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        if data == "[DONE]" {
            // Not Gemini's, but some proxies add it.
            self.close(out)?;
            return Ok(true);
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            let snippet: String = data.chars().take(200).collect();
            Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode a Gemini stream event: {e}; data: {snippet:?}"),
            )
        })?;
        match &v {
            // A JSON array of responses (the non-SSE stream form).
            Value::Array(items) => {
                for item in items {
                    self.response(item, out)?;
                }
            }
            _ => self.response(&v, out)?,
        }
        Ok(false)
    }

    fn end(&mut self, out: &mut VecDeque<ChatChunk>) -> Result<()> {
        self.close(out)
    }
}

/// Rebuilds the tool calls of a chunk as whole tool calls (tests).
#[cfg(test)]
fn calls_of(c: &ChatChunk) -> Vec<(u32, String, String, String)> {
    c.choices
        .iter()
        .flat_map(|ch| ch.delta.tool_calls.iter().flatten())
        .map(|t| {
            let f = t.function.clone().unwrap_or_default();
            (
                t.index.unwrap_or(0),
                t.id.clone().unwrap_or_default(),
                f.name.unwrap_or_default(),
                f.arguments.unwrap_or_default(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::test_util::collect;

    fn decode_all(events: &[Value]) -> (Vec<ChatChunk>, Result<()>) {
        let mut d = GeminiDecoder::new("gemini-2.5-flash");
        let mut out = VecDeque::new();
        for e in events {
            let ev = SseEvent {
                event: String::new(),
                data: e.to_string(),
            };
            if let Err(err) = d.decode(ev, &mut out) {
                return (out.into(), Err(err));
            }
        }
        let r = d.end(&mut out);
        (out.into(), r)
    }

    #[test]
    fn finish_reason_map() {
        assert_eq!(map_finish_reason("STOP", false), FinishReason::Stop);
        assert_eq!(map_finish_reason("STOP", true), FinishReason::ToolCalls);
        assert_eq!(map_finish_reason("MAX_TOKENS", true), FinishReason::Length);
        for r in [
            "SAFETY",
            "RECITATION",
            "PROHIBITED_CONTENT",
            "SPII",
            "OTHER",
            "IMAGE_SAFETY",
        ] {
            assert_eq!(
                map_finish_reason(r, false),
                FinishReason::ContentFilter,
                "{r}"
            );
        }
        for r in [
            "MALFORMED_FUNCTION_CALL",
            "FINISH_REASON_UNSPECIFIED",
            "TOO_MANY_TOOL_CALLS",
        ] {
            assert_eq!(map_finish_reason(r, false), FinishReason::Stop, "{r}");
        }
        assert_eq!(
            map_finish_reason("NEW_REASON", false),
            FinishReason::Other("NEW_REASON".into())
        );
    }

    #[test]
    fn usage_mapping_and_extreme_numbers() {
        let u = usage_from(&json!({"promptTokenCount": 135, "candidatesTokenCount": 136, "thoughtsTokenCount": 226,
            "totalTokenCount": 497, "cachedContentTokenCount": 100,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 130}, {"modality": "IMAGE", "tokenCount": 5}]}))
        .unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (135, 362, 497)
        );
        assert_eq!(u.reasoning_tokens(), 226);
        assert_eq!(u.cached_tokens(), 100);
        let pd = u.prompt_tokens_details.unwrap();
        assert_eq!((pd.text_tokens, pd.image_tokens), (Some(130), Some(5)));
        let u = usage_from(
            &json!({"promptTokenCount": -2147483648, "candidatesTokenCount": 1e300,
            "thoughtsTokenCount": 18446744073709551615u64, "totalTokenCount": "x",
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": -1}, 7, null]}),
        )
        .unwrap();
        assert_eq!(u.prompt_tokens, 0);
        assert_eq!(u.completion_tokens, u64::MAX);
        assert_eq!(u.total_tokens, u64::MAX);
        assert!(usage_from(&json!(null)).is_none());
        // no total: the sum
        let u = usage_from(&json!({"promptTokenCount": 3, "candidatesTokenCount": 4})).unwrap();
        assert_eq!(u.total_tokens, 7);
        assert!(u.completion_tokens_details.is_none());
    }

    #[test]
    fn whole_response_with_text_thoughts_and_calls() {
        let v = json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"text": "Let me think.", "thought": true},
                    {"text": "Checking "},
                    {"text": "the weather."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "get_time", "args": {"tz": "CET"}, "id": "g1"}}
                ]},
                "finishReason": "STOP", "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"}]
            }],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
            "modelVersion": "gemini-2.5-flash-001", "responseId": "resp-1"
        });
        let r = chat_response(&v, "gemini-2.5-flash", &mut IdGen::new()).unwrap();
        assert_eq!(r.id, "resp-1");
        assert_eq!(r.model, "gemini-2.5-flash-001");
        assert_eq!(r.object, "chat.completion");
        assert_eq!(r.text(), Some("Checking the weather."));
        let m = r.message().unwrap();
        assert_eq!(m.reasoning_content.as_deref(), Some("Let me think."));
        let calls = r.tool_calls();
        assert_eq!(calls.len(), 2);
        assert!(calls[0].id.starts_with("call_"));
        assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
        assert_eq!(
            calls[0].extra["provider_specific_fields"][THOUGHT_SIGNATURE_KEY],
            "c2ln"
        );
        assert_eq!(calls[1].id, "g1");
        assert!(calls[1].extra.is_empty());
        assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(r.choices[0].extra.contains_key("safetyRatings"));
        assert_eq!(r.usage.as_ref().unwrap().total_tokens, 15);
        // Only calls: no content.
        let v = json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f"}}]}, "finishReason": "STOP"}]});
        let r = chat_response(&v, "m", &mut IdGen::new()).unwrap();
        assert!(r.choices[0].message.content.is_none());
        assert_eq!(r.tool_calls()[0].function.arguments, "{}");
        assert_eq!(r.model, "m");
    }

    #[test]
    fn blocked_prompt_errors_and_odd_bodies() {
        let v = json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 5}});
        let r = chat_response(&v, "m", &mut IdGen::new()).unwrap();
        assert_eq!(r.finish_reason(), Some(&FinishReason::ContentFilter));
        assert!(r.choices[0].message.content.is_none());
        let e = chat_response(&json!({}), "m", &mut IdGen::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        let e = chat_response(
            &json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
            "m",
            &mut IdGen::new(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimit);
        // Prism-style extremes: negative index, odd part types.
        let v = json!({"candidates": [{"index": -2147483648, "content": {"role": "string", "parts": [
            {"text": "x", "thought": "yes"}, {"functionCall": {"args": {"a": null}, "name": "string", "id": "string"}},
            {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}, 5, null]}, "finishReason": "FINISH_REASON_UNSPECIFIED",
            "logprobsResult": {"chosenCandidates": [{"token": "x", "logProbability": -0.5}], "topCandidates": [{"candidates": [{"token": "x", "logProbability": -0.5}]}]}}],
            "usageMetadata": {"promptTokenCount": -2147483648}});
        let r = chat_response(&v, "m", &mut IdGen::new()).unwrap();
        assert_eq!(r.choices[0].index, 0);
        assert_eq!(r.text(), Some("x"));
        assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(
            r.choices[0].message.extra["images"][0]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
        assert_eq!(
            r.choices[0].logprobs.as_ref().unwrap()["content"][0]["top_logprobs"][0]["logprob"],
            -0.5
        );
    }

    #[test]
    fn stream_text_thoughts_calls_and_usage() {
        let u = |c: u64| json!({"promptTokenCount": 10, "candidatesTokenCount": c, "totalTokenCount": 10 + c});
        let (chunks, r) = decode_all(&[
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hmm", "thought": true}]}, "index": 0}], "usageMetadata": u(0), "responseId": "r1", "modelVersion": "gemini-x"}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}], "usageMetadata": u(1), "responseId": "r1"}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "index": 0}], "usageMetadata": u(2)}),
            json!({"candidates": [{"content": {"role": "model", "parts": [
                {"functionCall": {"name": "a", "args": {"x": 1}, "id": "i1"}, "thoughtSignature": "U0lH"},
                {"functionCall": {"name": "b", "args": {}}}]}, "index": 0}], "usageMetadata": u(5)}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "c"}}]}, "index": 0}]}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": u(7)}),
        ]);
        r.unwrap();
        assert!(chunks.iter().all(|c| c.id == "r1" && c.model == "gemini-x"));
        assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
        assert_eq!(
            chunks[0].choices[0].delta.reasoning_content.as_deref(),
            Some("Hmm")
        );
        assert_eq!(chunks[1].text(), Some("Hel"));
        assert!(chunks[1].choices[0].delta.role.is_none());
        let calls = calls_of(&chunks[3]);
        assert_eq!(calls[0], (0, "i1".into(), "a".into(), r#"{"x":1}"#.into()));
        assert_eq!((calls[1].0, calls[1].2.as_str()), (1, "b"));
        assert_eq!(calls_of(&chunks[4])[0].0, 2);
        let last_choice = &chunks[5];
        assert_eq!(last_choice.finish_reason(), Some(&FinishReason::ToolCalls));
        let usage_chunk = chunks.last().unwrap();
        assert!(usage_chunk.choices.is_empty());
        assert_eq!(usage_chunk.usage.as_ref().unwrap().completion_tokens, 7);
        assert!(chunks[..chunks.len() - 1].iter().all(|c| c.usage.is_none()));
        // collected
        let resp = collect(&chunks);
        assert_eq!(resp.text(), Some("Hello"));
        assert_eq!(resp.tool_calls().len(), 3);
        assert_eq!(
            resp.tool_calls()[0].extra["provider_specific_fields"][THOUGHT_SIGNATURE_KEY],
            "U0lH"
        );
        assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    }

    #[test]
    fn stream_ends_badly() {
        // No finishReason: truncated.
        let (chunks, r) =
            decode_all(&[json!({"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]})]);
        assert_eq!(chunks.len(), 1);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::ApiConnection);
        // Empty body.
        assert!(decode_all(&[]).1.is_err());
        // One of two candidates unfinished.
        let (_, r) = decode_all(&[
            json!({"candidates": [{"index": 0, "finishReason": "STOP", "content": {"parts": [{"text": "a"}]}}, {"index": 1, "content": {"parts": [{"text": "b"}]}}]}),
        ]);
        assert!(r.is_err());
        // An error object in the stream.
        let (_, r) = decode_all(&[
            json!({"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}),
            json!({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
        ]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::ServiceUnavailable);
        // Not JSON.
        let mut d = GeminiDecoder::new("m");
        let e = d
            .decode(
                SseEvent {
                    event: String::new(),
                    data: "{nope".into(),
                },
                &mut VecDeque::new(),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        // Blocked prompt: a content_filter finish, no error.
        let (chunks, r) =
            decode_all(&[json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})]);
        r.unwrap();
        assert_eq!(
            chunks[0].finish_reason(),
            Some(&FinishReason::ContentFilter)
        );
        // A repeated finish reason is delivered once; an array of responses works.
        let (chunks, r) = decode_all(&[json!([
            {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "MAX_TOKENS"}]},
            {"candidates": [{"finishReason": "MAX_TOKENS"}]}
        ])]);
        r.unwrap();
        let finishes = chunks
            .iter()
            .filter(|c| c.finish_reason().is_some())
            .count();
        assert_eq!(finishes, 1);
        assert_eq!(chunks[0].finish_reason(), Some(&FinishReason::Length));
    }

    /// Arbitrary bytes through the SSE decoder and the Gemini decoder: errors, never panics.
    #[test]
    fn arbitrary_streams_never_panic() {
        use crate::provider::test_util::fuzz_sse;
        let seeds: [&[u8]; 4] = [
            b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hi\", \"thought\": true}], \"role\": \"model\"}, \"index\": 0}], \"usageMetadata\": {\"promptTokenCount\": 5}}\n\ndata: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"there\"}]}, \"finishReason\": \"STOP\", \"index\": 0}], \"usageMetadata\": {\"promptTokenCount\": 5, \"candidatesTokenCount\": 2, \"totalTokenCount\": 7}, \"responseId\": \"r\"}\n\n",
            b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"f\", \"args\": {\"a\": [1, 2.5e300, -9]}, \"id\": \"x\"}, \"thoughtSignature\": \"AAA=\"}]}, \"finishReason\": \"STOP\"}]}\r\n\r\n",
            b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"a\"}]}}]}\n\n{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"quota\",\n    \"status\": \"RESOURCE_EXHAUSTED\",\n    \"details\": [{\"@type\": \"type.googleapis.com/google.rpc.RetryInfo\", \"retryDelay\": \"3s\"}]\n  }\n}\n",
            b"data: {\"promptFeedback\": {\"blockReason\": \"SAFETY\"}, \"candidates\": [{\"index\": -2147483648, \"finishReason\": \"SAFETY\", \"logprobsResult\": {\"chosenCandidates\": [{\"token\": \"t\"}]}}]}\n\ndata: [DONE]\n\n",
        ];
        let decoded = fuzz_sse(
            &seeds,
            b"data: {}[]\"\\,:\r\n0123456789-etrufalsnSTOPcandidates",
            99,
            11,
            |_| GeminiDecoder::new("m"),
        );
        assert!(decoded > 300, "only {decoded} chunks decoded");
    }
}
