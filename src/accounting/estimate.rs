//! Usage counted with the tokenizers when a vendor reports none, so every answer can be priced
//! and charged. Reported usage is never replaced: these only fill a missing one, and mark the
//! answer's meta with `usage_estimated`.
//!
//! - A chat answer without `usage`: the prompt (messages and tool definitions) and every
//!   choice's text, reasoning and tool calls are counted ([`fill_chat`]).
//! - A stream without a usage chunk: the text, reasoning and tool-call fragments are counted
//!   as they pass, holding at most 16 KiB of text ([`StreamUsage`]). At a normal end a usage
//!   chunk (`choices: []`) is added, unless the request opted out with
//!   `stream_options.include_usage: false`; a stream that fails or is dropped is charged the
//!   prompt and what was delivered. Once a stream reports usage, its chunks cost one check
//!   each.

use super::tokens::{count_text, prompt_tokens};
use crate::error::Result;
use crate::types::{ChatChunk, ChatRequest, ChatResponse, Content, Message, Tool, Usage};

/// Fills `resp.usage` with counted tokens when the vendor sent none; `model` picks the
/// tokenizer.
pub(crate) fn fill_chat(
    model: &str,
    messages: &[Message],
    tools: Option<&[Tool]>,
    resp: &mut ChatResponse,
) {
    if resp.usage.is_some() {
        return;
    }
    let mut text = String::new();
    for c in &resp.choices {
        let m = &c.message;
        match &m.content {
            Some(Content::Text(t)) => text.push_str(t),
            Some(Content::Parts(_)) => {
                if let Some(t) = m.text() {
                    text.push_str(&t);
                }
            }
            None => {}
        }
        if let Some(r) = &m.reasoning_content {
            text.push_str(r);
        }
        for call in m.tool_calls.iter().flatten() {
            text.push_str(&call.function.name);
            text.push_str(&call.function.arguments);
        }
    }
    let prompt = prompt_tokens(model, messages, tools);
    resp.usage = Some(Usage::new(prompt, count_text(model, &text)));
    resp.meta.usage_estimated = true;
}

/// Text held before it is counted: a stream's text is counted in pieces of about this size as
/// it passes, so a stream of any length holds at most this much (a 175 MB stream without
/// usage once held all of it).
const FLUSH_AT: usize = 16 * 1024;

/// Tokens of streamed text, counted as it passes.
#[derive(Debug)]
struct TextTally {
    pending: String,
    counted: u64,
}

impl TextTally {
    fn push(&mut self, model: &str, text: &str) {
        self.pending.push_str(text);
        if self.pending.len() < FLUSH_AT {
            return;
        }
        // Cut before the last whitespace: tokenizers start words at a leading space, so no
        // token spans the cut (the count matches counting the whole text, near enough).
        let cut = self
            .pending
            .rfind(char::is_whitespace)
            .filter(|&i| i > 0)
            .unwrap_or(self.pending.len());
        self.counted = self
            .counted
            .saturating_add(count_text(model, &self.pending[..cut]));
        self.pending.drain(..cut);
    }

    fn total(&self, model: &str) -> u64 {
        self.counted
            .saturating_add(count_text(model, &self.pending))
    }
}

/// What a stream used, as it passes: the usage the vendor reported, or else the prompt and
/// the text delivered so far, counted with the tokenizers. The pipeline charges a stream with
/// it however the stream ends: completed, failed, or dropped by the caller.
pub(crate) struct StreamUsage {
    /// The model that picks the tokenizer.
    model: String,
    /// The request, for the prompt's tokens (counted only when needed).
    request: Box<ChatRequest>,
    text: TextTally,
    reported: Option<Usage>,
    /// id, model and created of the first chunk, for an added usage chunk.
    last: Option<(String, String, i64)>,
    /// Chunks seen.
    chunks: u64,
}

impl StreamUsage {
    pub(crate) fn new(model: String, request: Box<ChatRequest>) -> StreamUsage {
        StreamUsage {
            model,
            request,
            text: TextTally {
                pending: String::new(),
                counted: 0,
            },
            reported: None,
            last: None,
            chunks: 0,
        }
    }

    /// True when the request said `stream_options.include_usage: false`: no usage chunk is
    /// added for the caller (the call is still charged what it used).
    pub(crate) fn opted_out(&self) -> bool {
        self.request
            .stream_options
            .as_ref()
            .is_some_and(|o| o.include_usage == Some(false))
    }

    /// Chunks seen so far.
    pub(crate) fn chunks(&self) -> u64 {
        self.chunks
    }

    /// Looks at one chunk: keeps reported usage, counts delivered text until usage is
    /// reported. Usage above [`Usage::MAX_TOKENS`] is an `InvalidResponse`.
    pub(crate) fn observe(&mut self, chunk: &ChatChunk) -> Result<()> {
        self.chunks += 1;
        if self.last.is_none() {
            self.last = Some((chunk.id.clone(), chunk.model.clone(), chunk.created));
        }
        if let Some(u) = &chunk.usage {
            if let Some((field, n)) = u.implausible() {
                return Err(implausible(field, n));
            }
            self.reported = Some(u.clone());
            self.text = TextTally {
                pending: String::new(),
                counted: 0,
            };
            return Ok(());
        }
        if self.reported.is_some() {
            return Ok(());
        }
        for c in &chunk.choices {
            let d = &c.delta;
            for t in [&d.content, &d.reasoning_content, &d.refusal]
                .into_iter()
                .flatten()
            {
                self.text.push(&self.model, t);
            }
            for call in d.tool_calls.iter().flatten() {
                if let Some(f) = &call.function {
                    for t in [&f.name, &f.arguments].into_iter().flatten() {
                        self.text.push(&self.model, t);
                    }
                }
            }
        }
        Ok(())
    }

    /// What the stream used so far: the reported usage, else the prompt plus the text
    /// delivered, counted (marked `"estimated": true`).
    pub(crate) fn usage(&self) -> Usage {
        if let Some(u) = &self.reported {
            return u.clone();
        }
        let prompt = prompt_tokens(
            &self.model,
            &self.request.messages,
            self.request.tools.as_deref(),
        );
        let mut usage = Usage::new(prompt, self.text.total(&self.model));
        usage
            .extra
            .insert("estimated".to_owned(), serde_json::Value::Bool(true));
        usage
    }

    /// True when the stream ends with an added usage chunk: the vendor reported none, a
    /// chunk passed, and the caller did not opt out.
    pub(crate) fn adds_chunk(&self) -> bool {
        self.reported.is_none() && self.last.is_some() && !self.opted_out()
    }

    /// The usage chunk (`choices: []`) carrying `usage` (from [`StreamUsage::usage`]) to add
    /// at the end of the stream, when [`adds_chunk`](Self::adds_chunk).
    pub(crate) fn usage_chunk(&self, usage: &Usage) -> Option<ChatChunk> {
        if !self.adds_chunk() {
            return None;
        }
        let (id, model, created) = self.last.as_ref()?;
        Some(ChatChunk::of_usage(id, *created, model, usage.clone()))
    }
}

/// The error code of usage above [`Usage::MAX_TOKENS`] (an `InvalidResponse`).
pub(crate) const IMPLAUSIBLE_USAGE: &str = "implausible_usage";

/// The error for usage above [`Usage::MAX_TOKENS`] (code `implausible_usage`).
pub(crate) fn implausible(field: &str, n: u64) -> crate::error::Error {
    let mut err = crate::error::Error::new(
        crate::error::ErrorKind::InvalidResponse,
        format!(
            "the vendor reported {n} {field}, more than the {} any call can use",
            Usage::MAX_TOKENS
        ),
    );
    err.details_mut().code = Some(IMPLAUSIBLE_USAGE.to_owned());
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChunkChoice, Delta};

    fn chunk(text: &str) -> ChatChunk {
        ChatChunk {
            id: "c1".into(),
            model: "gpt-4o".into(),
            created: 7,
            choices: vec![ChunkChoice {
                delta: Delta {
                    content: Some(text.into()),
                    ..Default::default()
                },
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn msgs() -> Vec<Message> {
        vec![Message::user("hello world")]
    }

    fn req() -> crate::types::ChatRequest {
        crate::types::ChatRequest::new("gpt-4o", msgs())
    }

    #[test]
    fn a_stream_without_usage_gets_a_counted_usage_chunk() {
        let mut u = StreamUsage::new("gpt-4o".into(), Box::new(req()));
        u.observe(&chunk("hello")).unwrap();
        u.observe(&chunk(" world")).unwrap();
        assert!(u.adds_chunk());
        let usage = u.usage();
        let last = u.usage_chunk(&usage).unwrap();
        assert!(last.choices.is_empty());
        assert_eq!((last.id.as_str(), last.created), ("c1", 7));
        let got = last.usage.as_ref().unwrap();
        // "hello world" = 2 tokens; the prompt: 3 + 3 + "user" (1) + 2
        assert_eq!(got.completion_tokens, 2);
        assert_eq!(got.prompt_tokens, prompt_tokens("gpt-4o", &msgs(), None));
        assert_eq!(
            got.extra.get("estimated"),
            Some(&serde_json::Value::Bool(true))
        );
        // A caller that opted out gets no chunk, but the usage is still known.
        let mut opted = req();
        opted.stream_options = Some(crate::types::StreamOptions {
            include_usage: Some(false),
            ..Default::default()
        });
        let mut u = StreamUsage::new("gpt-4o".into(), Box::new(opted));
        u.observe(&chunk("hello")).unwrap();
        assert!(!u.adds_chunk() && u.usage_chunk(&u.usage()).is_none());
        assert_eq!(u.usage().completion_tokens, 1);
    }

    #[test]
    fn reported_usage_wins_and_absurd_usage_is_refused() {
        let mut with_usage = chunk("");
        with_usage.choices.clear();
        with_usage.usage = Some(Usage::new(5, 1));
        let mut u = StreamUsage::new("gpt-4o".into(), Box::new(req()));
        u.observe(&chunk("hi")).unwrap();
        u.observe(&with_usage).unwrap();
        assert!(!u.adds_chunk());
        assert_eq!(u.usage(), Usage::new(5, 1));
        let mut absurd = with_usage.clone();
        absurd.usage = Some(Usage::new(u64::MAX, 1));
        let err = u.observe(&absurd).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidResponse);
    }

    #[test]
    fn long_streams_are_counted_in_bounded_memory() {
        let mut u = StreamUsage::new("gpt-4o".into(), Box::new(req()));
        let piece = "The quick brown fox jumps over the lazy dog. ";
        let mut whole = String::new();
        for _ in 0..5_000 {
            u.observe(&chunk(piece)).unwrap();
            whole.push_str(piece);
            assert!(u.text.pending.len() < FLUSH_AT + piece.len());
        }
        let exact = count_text("gpt-4o", &whole);
        assert_eq!(u.usage().completion_tokens, exact);
        // Text without whitespace is counted whole when it passes the limit.
        let mut u = StreamUsage::new("gpt-4o".into(), Box::new(req()));
        for _ in 0..100 {
            u.observe(&chunk(&"x".repeat(1_000))).unwrap();
        }
        assert!(u.text.pending.len() < FLUSH_AT + 1_000);
        assert!(u.usage().completion_tokens > 0);
    }

    #[test]
    fn a_chat_answer_without_usage_is_counted() {
        let mut resp: ChatResponse = serde_json::from_str(
            r#"{"id":"x","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hello world"}}]}"#,
        )
        .unwrap();
        fill_chat("gpt-4o", &msgs(), None, &mut resp);
        let u = resp.usage.clone().unwrap();
        assert_eq!(u.completion_tokens, 2);
        assert!(resp.meta.usage_estimated);
        // reported usage stays
        resp.usage = Some(Usage::new(1, 1));
        resp.meta.usage_estimated = false;
        fill_chat("gpt-4o", &msgs(), None, &mut resp);
        assert_eq!(resp.usage.as_ref().unwrap().prompt_tokens, 1);
        assert!(!resp.meta.usage_estimated);
    }
}
