//! User layers: code of yours around every call of a client or router, at the seam between the
//! observe stage and the ledger (`docs/architecture.md` shows the order of the stages).
//!
//! A [`Layer`] gets the [`Request`] and the rest of the stack as [`Next`]. It may
//! - rewrite the request, then pass it on with [`Next::run`];
//! - answer it itself (a [`Response`] of the same call type) without calling `next`;
//! - reject it with an error of its choice (no upstream call, nothing charged);
//! - look at the answer or the error `next` returns, change it, or subscribe to a stream's
//!   events with [`ChatStream::observe`](crate::ChatStream::observe).
//!
//! Calls a layer rejects or answers are still observed (callbacks, logs, metrics) like any
//! other. Budgets and quotas are checked below the layers, so they see the request as rewritten.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use litellm::layer::{Layer, Next, Request, Response};
//! use litellm::{Client, Error, ErrorKind, Message};
//!
//! /// Refuses prompts that mention a secret project.
//! struct Guardrail;
//!
//! #[litellm::async_trait]
//! impl Layer for Guardrail {
//!     async fn call(&self, request: Request, next: Next<'_>) -> litellm::Result<Response> {
//!         if request.prompt_text().contains("Project X") {
//!             return Err(Error::new(ErrorKind::BadRequest, "the prompt mentions a secret project"));
//!         }
//!         next.run(request).await
//!     }
//! }
//!
//! let client = Client::builder().layer(Guardrail).build()?;
//! let err = client
//!     .completion("mock/gpt-4o", vec![Message::user("Tell me about Project X")])
//!     .await
//!     .unwrap_err();
//! assert!(err.message().contains("secret project"));
//! assert!(client.completion("mock/gpt-4o", vec![Message::user("Hi")]).await.is_ok());
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::ops::{ChatOp, EmbedOp, Op, StreamOp, TextOp};
use super::{Downstream, Stack};
use crate::error::Result;
use crate::observe::CallType;
use crate::pipeline::Admitted;
use crate::types::{
    CallOptions, ChatRequest, ChatResponse, ChatStream, EmbeddingRequest, EmbeddingResponse,
    Prompt, ResponseMeta, TextCompletionRequest, TextCompletionResponse,
};

/// Code that runs around every call of a client or router (see the [module docs](self)).
///
/// Implement it with [`async_trait`](crate::async_trait); add it with
/// [`ClientBuilder::layer`](crate::ClientBuilder::layer) or
/// [`RouterBuilder::layer`](crate::router::RouterBuilder::layer). Layers run in the order they
/// were added, the first outermost. One layer object serves every call, concurrently.
#[async_trait::async_trait]
pub trait Layer: Send + Sync + 'static {
    /// Handles one call: pass `request` (rewritten or not) to `next` and return what it
    /// returns (changed or not), or return an answer or an error of your own.
    async fn call(&self, request: Request, next: Next<'_>) -> Result<Response>;
}

/// The request of one call, as a layer sees it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Request {
    /// A chat completion.
    Chat(Box<ChatRequest>),
    /// A streamed chat completion.
    ChatStream(Box<ChatRequest>),
    /// Embeddings.
    Embedding(Box<EmbeddingRequest>),
    /// A legacy text completion.
    Text(Box<TextCompletionRequest>),
}

impl Request {
    /// The call type.
    pub fn call_type(&self) -> CallType {
        match self {
            Request::Chat(_) => CallType::Chat,
            Request::ChatStream(_) => CallType::ChatStream,
            Request::Embedding(_) => CallType::Embedding,
            Request::Text(_) => CallType::TextCompletion,
        }
    }

    /// The model the call names (a router's group, or a provider model string).
    pub fn model(&self) -> &str {
        match self {
            Request::Chat(r) | Request::ChatStream(r) => &r.model,
            Request::Embedding(r) => &r.model,
            Request::Text(r) => &r.model,
        }
    }

    /// The call options (metadata, headers, credentials, timeout, …).
    pub fn options(&self) -> &CallOptions {
        match self {
            Request::Chat(r) | Request::ChatStream(r) => &r.options,
            Request::Embedding(r) => &r.options,
            Request::Text(r) => &r.options,
        }
    }

    /// Mutable call options: add a header, a tag, a metadata value, change the timeout.
    pub fn options_mut(&mut self) -> &mut CallOptions {
        match self {
            Request::Chat(r) | Request::ChatStream(r) => &mut r.options,
            Request::Embedding(r) => &mut r.options,
            Request::Text(r) => &mut r.options,
        }
    }

    /// The chat request, for a chat or a stream.
    pub fn chat(&self) -> Option<&ChatRequest> {
        match self {
            Request::Chat(r) | Request::ChatStream(r) => Some(r),
            _ => None,
        }
    }

    /// The chat request, mutably (rewrite messages, parameters, the model).
    pub fn chat_mut(&mut self) -> Option<&mut ChatRequest> {
        match self {
            Request::Chat(r) | Request::ChatStream(r) => Some(r),
            _ => None,
        }
    }

    /// Every piece of text the call sends as input, joined by newlines: the messages' text
    /// (parts included), the embedding inputs, or the prompts. For guardrails and filters.
    pub fn prompt_text(&self) -> String {
        let mut out = String::new();
        let mut push = |s: &str| {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        };
        match self {
            Request::Chat(r) | Request::ChatStream(r) => {
                for m in &r.messages {
                    if let Some(t) = m.text() {
                        push(&t);
                    }
                }
            }
            Request::Embedding(r) => r.input.texts().into_iter().flatten().for_each(push),
            Request::Text(r) => match &r.prompt {
                Prompt::Text(t) => push(t),
                Prompt::Texts(v) => v.iter().for_each(|t| push(t)),
                Prompt::Tokens(_) | Prompt::TokenBatches(_) => {}
            },
        }
        out
    }
}

/// The answer of one call, as a layer sees it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Response {
    /// A chat completion.
    Chat(ChatResponse),
    /// A stream. A layer answering a stream request may also give a [`Response::Chat`]; it
    /// is replayed as a stream.
    ChatStream(ChatStream),
    /// Embeddings.
    Embedding(EmbeddingResponse),
    /// A legacy text completion.
    Text(TextCompletionResponse),
}

impl Response {
    /// The call type this answers.
    pub fn call_type(&self) -> CallType {
        match self {
            Response::Chat(_) => CallType::Chat,
            Response::ChatStream(_) => CallType::ChatStream,
            Response::Embedding(_) => CallType::Embedding,
            Response::Text(_) => CallType::TextCompletion,
        }
    }

    /// What is known about the call (provider, deployment, attempts, cost, …).
    pub fn meta(&self) -> &ResponseMeta {
        match self {
            Response::Chat(r) => &r.meta,
            Response::ChatStream(s) => s.meta(),
            Response::Embedding(r) => &r.meta,
            Response::Text(r) => &r.meta,
        }
    }

    /// The stream, to subscribe to its events with [`ChatStream::observe`].
    pub fn stream_mut(&mut self) -> Option<&mut ChatStream> {
        match self {
            Response::ChatStream(s) => Some(s),
            _ => None,
        }
    }
}

/// The rest of the stack below a layer: the next layers, then the ledger, cache, route,
/// resolve and provider stages.
pub struct Next<'a> {
    layers: &'a [Arc<dyn Layer>],
    below: &'a (dyn Below + 'a),
    slot: &'a mut Slot,
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("layers_left", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Next<'a> {
    pub(super) fn new(
        layers: &'a [Arc<dyn Layer>],
        below: &'a (dyn Below + 'a),
        slot: &'a mut Slot,
    ) -> Next<'a> {
        Next {
            layers,
            below,
            slot,
        }
    }

    /// Runs the rest of the stack on `request`.
    pub fn run(self, request: Request) -> BoxFuture<'a, Result<Response>> {
        match self.layers.split_first() {
            Some((layer, layers)) => layer.call(
                request,
                Next {
                    layers,
                    below: self.below,
                    slot: self.slot,
                },
            ),
            None => self.below.run(request, self.slot),
        }
    }
}

/// What the stages below the layers hand back up to the observe stage.
#[derive(Default)]
pub(super) struct Slot {
    /// What the ledger admitted.
    pub(super) admitted: Admitted,
    /// A stream's request as sent (its prompt is counted when the vendor reports no usage).
    pub(super) stream_request: Option<Box<ChatRequest>>,
}

/// The stages below the user layers, behind one object-safe call.
pub(super) trait Below: Send + Sync {
    fn run<'a>(&'a self, request: Request, slot: &'a mut Slot) -> BoxFuture<'a, Result<Response>>;
}

/// The stages below the layers of one call.
pub(super) struct Rest<'s, D> {
    pub(super) stack: &'s Stack,
    pub(super) down: &'s D,
    pub(super) call_id: &'s str,
}

impl<D: Downstream> Rest<'_, D> {
    /// The ledger stage, then the cache and what is below it.
    async fn one<O: Op>(&self, req: &O::Req, slot: &mut Slot) -> Result<O::Ans> {
        slot.admitted = self.stack.pipeline.admit(O::model(req), O::options(req))?;
        self.stack.below::<O, D>(self.down, req, self.call_id).await
    }
}

impl<D: Downstream> Below for Rest<'_, D> {
    fn run<'a>(&'a self, request: Request, slot: &'a mut Slot) -> BoxFuture<'a, Result<Response>> {
        Box::pin(async move {
            Ok(match request {
                Request::Chat(r) => ChatOp::into_response(self.one::<ChatOp>(&r, slot).await?),
                Request::ChatStream(r) => {
                    let s = self.one::<StreamOp>(&r, slot).await?;
                    slot.stream_request = Some(r);
                    StreamOp::into_response(s)
                }
                Request::Embedding(r) => {
                    EmbedOp::into_response(self.one::<EmbedOp>(&r, slot).await?)
                }
                Request::Text(r) => TextOp::into_response(self.one::<TextOp>(&r, slot).await?),
            })
        })
    }
}
