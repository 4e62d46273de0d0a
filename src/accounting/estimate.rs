//! Usage counted with the tokenizers when a vendor reports none, so every answer can be priced
//! and charged. Reported usage is never replaced: these only fill a missing one, and mark the
//! answer's meta with `usage_estimated`.
//!
//! - A chat answer without `usage`: the prompt (messages and tool definitions) and every
//!   choice's text, reasoning and tool calls are counted ([`fill_chat`]).
//! - A stream that ends (successfully) without a usage chunk: the text, reasoning and tool-call
//!   fragments that passed are collected, and a usage chunk (`choices: []`) is added at the end
//!   ([`complete_stream`]). A stream that reports usage costs one flag check per chunk.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use super::tokens::{count_text, prompt_tokens};
use crate::error::Result;
use crate::types::{ChatChunk, ChatResponse, ChatStream, Content, Message, Tool, Usage};

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

/// Wraps a stream so that, when it ends without a usage chunk, one with counted tokens is
/// added. Takes the request's messages and tools by value (the caller no longer needs them).
/// A request that said `stream_options.include_usage: false` is left as it is.
pub(crate) fn complete_stream(
    stream: ChatStream,
    model: String,
    request: Box<crate::types::ChatRequest>,
) -> ChatStream {
    let opted_out = request
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage == Some(false));
    if opted_out {
        return stream;
    }
    let (messages, tools) = (request.messages, request.tools);
    let meta = stream.meta().clone();
    let started = stream.started();
    ChatStream::new(
        Completing {
            inner: stream,
            model,
            messages,
            tools,
            text: String::new(),
            last: None,
            state: State::Open,
        },
        meta,
    )
    .started_at(started)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// No usage seen yet: collecting text.
    Open,
    /// The vendor sent usage: passing chunks through.
    Reported,
    /// Ended (or failed).
    Done,
}

struct Completing {
    inner: ChatStream,
    model: String,
    messages: Vec<Message>,
    tools: Option<Vec<Tool>>,
    text: String,
    /// id, model and created of the last chunk, for the added usage chunk.
    last: Option<(String, String, i64)>,
    state: State,
}

impl Completing {
    fn usage_chunk(&mut self) -> Option<ChatChunk> {
        let (id, model, created) = self.last.take()?;
        let prompt = prompt_tokens(&self.model, &self.messages, self.tools.as_deref());
        let mut usage = Usage::new(prompt, count_text(&self.model, &self.text));
        usage
            .extra
            .insert("estimated".to_string(), serde_json::Value::Bool(true));
        Some(ChatChunk {
            id,
            object: "chat.completion.chunk".to_string(),
            created,
            model,
            usage: Some(usage),
            ..Default::default()
        })
    }
}

impl Stream for Completing {
    type Item = Result<ChatChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.state == State::Done {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut this.inner).poll_next(cx);
        if this.state == State::Reported {
            return polled;
        }
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                if chunk.usage.is_some() {
                    this.state = State::Reported;
                    this.text = String::new();
                    return polled;
                }
                for c in &chunk.choices {
                    let d = &c.delta;
                    for t in [&d.content, &d.reasoning_content].into_iter().flatten() {
                        this.text.push_str(t);
                    }
                    for call in d.tool_calls.iter().flatten() {
                        if let Some(f) = &call.function {
                            for t in [&f.name, &f.arguments].into_iter().flatten() {
                                this.text.push_str(t);
                            }
                        }
                    }
                }
                if this.last.is_none() {
                    this.last = Some((chunk.id.clone(), chunk.model.clone(), chunk.created));
                }
                polled
            }
            Poll::Ready(Some(Err(_))) => {
                this.state = State::Done;
                polled
            }
            Poll::Ready(None) => {
                this.state = State::Done;
                Poll::Ready(this.usage_chunk().map(Ok))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChunkChoice, Delta, ResponseMeta};
    use futures::StreamExt;

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

    #[tokio::test]
    async fn a_stream_without_usage_gets_a_counted_usage_chunk() {
        let inner = ChatStream::from_chunks(
            vec![chunk("hello"), chunk(" world")],
            ResponseMeta::default(),
        );
        let s = complete_stream(inner, "gpt-4o".into(), Box::new(req()));
        let chunks: Vec<ChatChunk> = s.map(|c| c.unwrap()).collect().await;
        assert_eq!(chunks.len(), 3);
        let last = &chunks[2];
        assert!(last.choices.is_empty());
        assert_eq!((last.id.as_str(), last.created), ("c1", 7));
        let u = last.usage.as_ref().unwrap();
        // "hello world" = 2 tokens; the prompt: 3 + 3 + "user" (1) + 2
        assert_eq!(u.completion_tokens, 2);
        assert_eq!(u.prompt_tokens, prompt_tokens("gpt-4o", &msgs(), None));
        assert_eq!(
            u.extra.get("estimated"),
            Some(&serde_json::Value::Bool(true))
        );
    }

    #[tokio::test]
    async fn reported_usage_and_failed_streams_are_left_alone() {
        let mut with_usage = chunk("");
        with_usage.choices.clear();
        with_usage.usage = Some(Usage::new(5, 1));
        let inner = ChatStream::from_chunks(
            vec![chunk("hi"), with_usage.clone()],
            ResponseMeta::default(),
        );
        let s = complete_stream(inner, "gpt-4o".into(), Box::new(req()));
        let chunks: Vec<ChatChunk> = s.map(|c| c.unwrap()).collect().await;
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1], with_usage);

        let failing = futures::stream::iter(vec![
            Ok(chunk("hi")),
            Err(crate::Error::new(crate::ErrorKind::ApiConnection, "cut")),
        ]);
        let inner = ChatStream::new(failing, ResponseMeta::default());
        let s = complete_stream(inner, "gpt-4o".into(), Box::new(req()));
        let items: Vec<_> = s.collect().await;
        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
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
