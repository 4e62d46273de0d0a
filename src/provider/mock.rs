//! The `mock` provider: **a test double** that answers locally, without any network.
//!
//! It answers calls to `mock/<anything>`, and every call whose options carry a
//! [`MockResponse`] (`ChatRequest::mock_response`), whatever its model string says. That makes
//! examples and your own tests run offline:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use litellm::{ChatRequest, ErrorKind, Message, MockResponse};
//!
//! let resp = litellm::chat(
//!     ChatRequest::new("openai/gpt-4o", vec![Message::user("Hi")]).mock_response("Hello there"),
//! ).await?;
//! assert_eq!(resp.text(), Some("Hello there"));
//!
//! let err = litellm::chat(
//!     ChatRequest::new("mock/x", vec![Message::user("Hi")])
//!         .mock_response(MockResponse::error(ErrorKind::RateLimit)),
//! ).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::RateLimit);
//! # Ok(()) }
//! ```
//!
//! Without a `MockResponse`, the answer is [`DEFAULT_TEXT`]. Streams deliver the text word by
//! word, then a finish chunk and a usage chunk. Usage is estimated from text length (about four
//! characters a token) unless the mock sets it. Embeddings are deterministic unit vectors
//! derived from each input (1,536 dimensions unless `dimensions` is set).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures::StreamExt;

use super::{CallContext, Provider};
use crate::error::{Error, ErrorKind, Result};
use crate::types::options::MockAnswer;
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice, ChunkChoice, Delta, Embedding,
    EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, FinishReason,
    FunctionCallDelta, Message, MockResponse, ResponseMeta, TextChoice, TextCompletionRequest,
    TextCompletionResponse, ToolCallDelta, Usage,
};

/// The answer when a call to `mock/…` sets no [`MockResponse`].
pub const DEFAULT_TEXT: &str = "This is a mock response.";

/// Default vector size of mock embeddings.
pub const DEFAULT_DIMENSIONS: u32 = 1536;

/// The mock provider (prefix `mock`). A test double: it never touches the network.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mock;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// About four characters a token, at least one for non-empty text.
fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

fn prompt_tokens(messages: &[Message]) -> u64 {
    messages
        .iter()
        .map(|m| 3 + m.text().map(|t| estimate_tokens(&t)).unwrap_or(0))
        .sum::<u64>()
        + 3
}

fn mock_of(options_mock: Option<&MockResponse>) -> MockResponse {
    options_mock
        .cloned()
        .unwrap_or_else(|| MockResponse::text(DEFAULT_TEXT))
}

fn raise(mock: &MockResponse, cx: &CallContext) -> Result<()> {
    if let MockAnswer::Error(kind, message) = &mock.answer {
        let status = match kind {
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::ContentPolicyViolation => Some(400),
            ErrorKind::Authentication => Some(401),
            ErrorKind::PermissionDenied => Some(403),
            ErrorKind::NotFound => Some(404),
            ErrorKind::Timeout => Some(408),
            ErrorKind::UnprocessableEntity => Some(422),
            ErrorKind::RateLimit => Some(429),
            ErrorKind::InternalServer => Some(500),
            ErrorKind::ServiceUnavailable => Some(503),
            _ => None,
        };
        let mut err = Error::new(*kind, message.clone())
            .with_provider("mock")
            .with_model(cx.model.clone());
        if let Some(s) = status {
            err = err.with_status(s);
        }
        return Err(err);
    }
    Ok(())
}

async fn wait(d: Option<Duration>) {
    if let Some(d) = d {
        tokio::time::sleep(d).await;
    }
}

fn answer_message(mock: &MockResponse) -> (Message, FinishReason, String) {
    match &mock.answer {
        MockAnswer::ToolCalls(calls) => {
            let text: String = calls
                .iter()
                .map(|c| format!("{}{}", c.function.name, c.function.arguments))
                .collect();
            (
                Message::assistant_tool_calls(calls.clone()),
                FinishReason::ToolCalls,
                text,
            )
        }
        MockAnswer::Text(t) => (
            Message::assistant(t.as_str()),
            FinishReason::Stop,
            t.clone(),
        ),
        MockAnswer::Error(..) => (Message::assistant(""), FinishReason::Stop, String::new()),
    }
}

/// Splits text into word pieces that keep their trailing whitespace.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_space = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(std::mem::take(&mut cur));
            in_space = false;
        }
        cur.push(ch);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[async_trait]
impl Provider for Mock {
    fn name(&self) -> &str {
        "mock"
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let mock = mock_of(cx.mock_response.as_ref());
        wait(mock.delay).await;
        raise(&mock, cx)?;
        let (message, finish, text) = answer_message(&mock);
        let usage =
            mock.usage.as_deref().cloned().unwrap_or_else(|| {
                Usage::new(prompt_tokens(&req.messages), estimate_tokens(&text))
            });
        let n = req.n.unwrap_or(1).clamp(1, 128);
        Ok(ChatResponse {
            id: format!("chatcmpl-mock-{}", now()),
            object: "chat.completion".to_owned(),
            created: now(),
            model: cx.model.clone(),
            choices: (0..n)
                .map(|i| Choice {
                    index: i,
                    message: message.clone(),
                    finish_reason: Some(finish.clone()),
                    logprobs: None,
                    extra: Default::default(),
                })
                .collect(),
            usage: Some(usage),
            system_fingerprint: None,
            service_tier: None,
            extra: Default::default(),
            meta: ResponseMeta::default(),
        })
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let mock = mock_of(cx.mock_response.as_ref());
        wait(mock.delay).await;
        raise(&mock, cx)?;
        let (message, finish, text) = answer_message(&mock);
        let usage =
            mock.usage.as_deref().cloned().unwrap_or_else(|| {
                Usage::new(prompt_tokens(&req.messages), estimate_tokens(&text))
            });
        let base = ChatChunk {
            id: format!("chatcmpl-mock-{}", now()),
            object: "chat.completion.chunk".to_owned(),
            created: now(),
            model: cx.model.clone(),
            ..Default::default()
        };
        let with_delta = |delta: Delta, finish: Option<FinishReason>| ChatChunk {
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish,
                logprobs: None,
                extra: Default::default(),
            }],
            ..base.clone()
        };
        let mut chunks = vec![with_delta(
            Delta {
                role: Some(crate::types::Role::Assistant),
                content: Some(String::new()),
                ..Default::default()
            },
            None,
        )];
        match &message.tool_calls {
            Some(calls) => {
                for (i, call) in calls.iter().enumerate() {
                    let args = call.function.arguments.as_str();
                    let split = args
                        .char_indices()
                        .nth(args.chars().count() / 2)
                        .map_or(0, |(b, _)| b);
                    for (j, frag) in [&args[..split], &args[split..]].into_iter().enumerate() {
                        chunks.push(with_delta(
                            Delta {
                                tool_calls: Some(vec![ToolCallDelta {
                                    index: Some(i as u32),
                                    id: (j == 0).then(|| call.id.clone()),
                                    kind: (j == 0).then(|| "function".to_owned()),
                                    function: Some(FunctionCallDelta {
                                        name: (j == 0).then(|| call.function.name.clone()),
                                        arguments: Some(frag.to_owned()),
                                    }),
                                    extra: Default::default(),
                                }]),
                                ..Default::default()
                            },
                            None,
                        ));
                    }
                }
            }
            None => {
                for p in pieces(&text) {
                    chunks.push(with_delta(
                        Delta {
                            content: Some(p),
                            ..Default::default()
                        },
                        None,
                    ));
                }
            }
        }
        chunks.push(with_delta(Delta::default(), Some(finish)));
        chunks.push(ChatChunk {
            usage: Some(usage),
            ..base
        });
        let gap = mock.chunk_delay;
        let stream =
            futures::stream::iter(chunks.into_iter().enumerate()).then(move |(i, c)| async move {
                if i > 0 {
                    wait(gap).await;
                }
                Ok(c)
            });
        Ok(ChatStream::new(
            stream,
            ResponseMeta::new("mock", cx.model.clone()),
        ))
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let mock = req
            .options
            .mock_response
            .clone()
            .unwrap_or_else(|| MockResponse::text(""));
        wait(mock.delay).await;
        raise(&mock, cx)?;
        let dims = req
            .dimensions
            .unwrap_or(DEFAULT_DIMENSIONS)
            .clamp(1, 65_536) as usize;
        let inputs: Vec<String> = match &req.input {
            EmbeddingInput::Text(s) => vec![s.clone()],
            EmbeddingInput::Texts(v) => v.clone(),
            EmbeddingInput::Tokens(t) => vec![format!("{t:?}")],
            EmbeddingInput::TokenBatches(b) => b.iter().map(|t| format!("{t:?}")).collect(),
        };
        let tokens: u64 = inputs.iter().map(|s| estimate_tokens(s)).sum();
        Ok(EmbeddingResponse {
            object: "list".to_owned(),
            data: inputs
                .iter()
                .enumerate()
                .map(|(i, s)| Embedding {
                    object: "embedding".to_owned(),
                    index: i as u32,
                    embedding: vector_for(s, dims),
                })
                .collect(),
            model: cx.model.clone(),
            usage: EmbeddingUsage {
                prompt_tokens: tokens,
                total_tokens: tokens,
            },
            extra: Default::default(),
            meta: ResponseMeta::default(),
        })
    }

    async fn text_completion(
        &self,
        req: &TextCompletionRequest,
        cx: &CallContext,
    ) -> Result<TextCompletionResponse> {
        let mock = mock_of(cx.mock_response.as_ref());
        wait(mock.delay).await;
        raise(&mock, cx)?;
        let (_, finish, text) = answer_message(&mock);
        let usage = mock.usage.as_deref().cloned().unwrap_or_else(|| {
            Usage::new(
                estimate_tokens(req.prompt.first_text()),
                estimate_tokens(&text),
            )
        });
        Ok(TextCompletionResponse {
            id: format!("cmpl-mock-{}", now()),
            object: "text_completion".to_owned(),
            created: now(),
            model: cx.model.clone(),
            choices: vec![TextChoice {
                text,
                index: 0,
                logprobs: None,
                finish_reason: Some(finish),
                extra: Default::default(),
            }],
            usage: Some(usage),
            system_fingerprint: None,
            extra: Default::default(),
            meta: ResponseMeta::default(),
        })
    }
}

/// A deterministic unit vector for `text` (FNV-1a seed, xorshift values).
fn vector_for(text: &str, dims: usize) -> Vec<f32> {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        state ^= b as u64;
        state = state.wrapping_mul(0x0100_0000_01b3);
    }
    if state == 0 {
        state = 1;
    }
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_whitespace() {
        assert_eq!(pieces("Hello  big world"), vec!["Hello  ", "big ", "world"]);
        assert_eq!(pieces("").len(), 0);
        assert_eq!(pieces("a b").concat(), "a b");
    }

    #[test]
    fn vectors_are_deterministic_units() {
        let a = vector_for("x", 8);
        assert_eq!(a, vector_for("x", 8));
        assert_ne!(a, vector_for("y", 8));
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}
