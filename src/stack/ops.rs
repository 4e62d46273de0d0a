//! The call types: what differs between a chat, a stream, embeddings and a text completion on
//! their way through the stack. Everything else is written once, in the stages.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use super::Reply;
use super::layer::{Request, Response};
use crate::cache::ResponseCache;
use crate::error::{Error, Result};
use crate::observe::CallType;
use crate::pipeline::{Pipeline, Running};
use crate::resolve::Resolver;
use crate::types::{
    CallOptions, ChatRequest, ChatResponse, ChatStream, EmbeddingRequest, EmbeddingResponse,
    Message, TextCompletionRequest, TextCompletionResponse,
};

/// One call type.
pub(crate) trait Op: Send + Sync + 'static {
    /// Its request.
    type Req: Clone + Send + Sync + 'static;
    /// Its answer.
    type Ans: Reply;
    /// Its name in events, logs and metrics.
    const CALL_TYPE: CallType;

    /// The model the request names.
    fn model(req: &Self::Req) -> &str;
    /// The request's call options.
    fn options(req: &Self::Req) -> &CallOptions;
    /// The prompt's messages, for detailed events.
    fn messages(_req: &Self::Req) -> Option<&[Message]> {
        None
    }
    /// Tokens of the prompt (the router's context-window check).
    fn prompt_tokens(_req: &Self::Req) -> Option<u64> {
        None
    }

    /// The request the stages below the user layers kept for the end of a stream.
    fn kept(_stream_request: Option<Box<ChatRequest>>) -> Option<Box<Self::Req>> {
        None
    }

    /// The request as the user layers see it.
    fn into_request(req: Box<Self::Req>) -> Request;
    /// The answer as the user layers see it.
    fn into_response(ans: Self::Ans) -> Response;
    /// The answer a user layer gave back; of another call type, a `Config` error.
    fn from_response(resp: Response) -> Result<Self::Ans>;

    /// The resolve and provider stages: one call of `req` to `model` with `options`.
    fn send<'a>(
        resolver: &'a Resolver,
        req: &'a Self::Req,
        model: &'a str,
        options: &'a CallOptions,
    ) -> impl Future<Output = Result<Self::Ans>> + Send + 'a;

    /// The cache stage: `fetch` makes the upstream call of the request it gets (for
    /// embeddings, of the inputs not found).
    fn cached<'a, F, Fut>(
        cache: &'a ResponseCache,
        group: &'a str,
        req: &'a Self::Req,
        fetch: F,
    ) -> impl Future<Output = Result<Self::Ans>> + Send + 'a
    where
        F: FnOnce(Cow<'a, Self::Req>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<Self::Ans>> + Send + 'a;

    /// The observe stage's end: priced, charged and reported (a stream at its end). `req` is
    /// the request as sent, when the stages below the user layers saw one.
    fn finish(
        p: &Arc<Pipeline>,
        run: Running,
        result: Result<Self::Ans>,
        req: Option<Box<Self::Req>>,
    ) -> Result<Self::Ans>;
}

/// A non-stream answer ends in the pipeline: success charged and reported, or the failure.
fn finish_answer<T: crate::pipeline::Answer>(
    p: &Pipeline,
    run: Running,
    result: Result<T>,
) -> Result<T> {
    match result {
        Ok(mut v) => {
            p.succeed(run, &mut v);
            Ok(v)
        }
        Err(e) => {
            p.fail(run, &e);
            Err(e)
        }
    }
}

/// A user layer answered a call of one type with an answer of another.
fn wrong_answer(expected: CallType, got: &Response) -> Error {
    Error::config(format!(
        "a layer answered a {} call with a {} answer",
        expected.as_str(),
        got.call_type().as_str()
    ))
}

/// A chat completion.
pub(crate) struct ChatOp;
/// A streamed chat completion.
pub(crate) struct StreamOp;
/// Embeddings.
pub(crate) struct EmbedOp;
/// A legacy text completion.
pub(crate) struct TextOp;

impl Op for ChatOp {
    type Req = ChatRequest;
    type Ans = ChatResponse;
    const CALL_TYPE: CallType = CallType::Chat;

    fn model(req: &ChatRequest) -> &str {
        &req.model
    }
    fn options(req: &ChatRequest) -> &CallOptions {
        &req.options
    }
    fn messages(req: &ChatRequest) -> Option<&[Message]> {
        Some(&req.messages)
    }
    fn prompt_tokens(req: &ChatRequest) -> Option<u64> {
        Some(crate::accounting::tokens::request_tokens(req))
    }
    fn into_request(req: Box<ChatRequest>) -> Request {
        Request::Chat(req)
    }
    fn into_response(ans: ChatResponse) -> Response {
        Response::Chat(ans)
    }
    fn from_response(resp: Response) -> Result<ChatResponse> {
        match resp {
            Response::Chat(r) => Ok(r),
            other => Err(wrong_answer(Self::CALL_TYPE, &other)),
        }
    }
    fn send<'a>(
        resolver: &'a Resolver,
        req: &'a ChatRequest,
        model: &'a str,
        options: &'a CallOptions,
    ) -> impl Future<Output = Result<ChatResponse>> + Send + 'a {
        resolver.chat_with(req, model, options)
    }
    fn cached<'a, F, Fut>(
        cache: &'a ResponseCache,
        group: &'a str,
        req: &'a ChatRequest,
        fetch: F,
    ) -> impl Future<Output = Result<ChatResponse>> + Send + 'a
    where
        F: FnOnce(Cow<'a, ChatRequest>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<ChatResponse>> + Send + 'a,
    {
        cache.chat(group, req, move || fetch(Cow::Borrowed(req)))
    }
    fn finish(
        p: &Arc<Pipeline>,
        run: Running,
        result: Result<ChatResponse>,
        _req: Option<Box<ChatRequest>>,
    ) -> Result<ChatResponse> {
        finish_answer(p, run, result)
    }
}

impl Op for StreamOp {
    type Req = ChatRequest;
    type Ans = ChatStream;
    const CALL_TYPE: CallType = CallType::ChatStream;

    fn model(req: &ChatRequest) -> &str {
        &req.model
    }
    fn options(req: &ChatRequest) -> &CallOptions {
        &req.options
    }
    fn messages(req: &ChatRequest) -> Option<&[Message]> {
        Some(&req.messages)
    }
    fn prompt_tokens(req: &ChatRequest) -> Option<u64> {
        Some(crate::accounting::tokens::request_tokens(req))
    }
    fn into_request(req: Box<ChatRequest>) -> Request {
        Request::ChatStream(req)
    }
    fn kept(stream_request: Option<Box<ChatRequest>>) -> Option<Box<ChatRequest>> {
        stream_request
    }
    fn into_response(ans: ChatStream) -> Response {
        Response::ChatStream(ans)
    }
    fn from_response(resp: Response) -> Result<ChatStream> {
        match resp {
            Response::ChatStream(s) => Ok(s),
            // A layer that answers a stream request with a whole answer: replayed as a stream.
            Response::Chat(r) => Ok(ChatStream::from_response(&r)),
            other => Err(wrong_answer(Self::CALL_TYPE, &other)),
        }
    }
    fn send<'a>(
        resolver: &'a Resolver,
        req: &'a ChatRequest,
        model: &'a str,
        options: &'a CallOptions,
    ) -> impl Future<Output = Result<ChatStream>> + Send + 'a {
        resolver.chat_stream_with(req, model, options)
    }
    fn cached<'a, F, Fut>(
        cache: &'a ResponseCache,
        group: &'a str,
        req: &'a ChatRequest,
        fetch: F,
    ) -> impl Future<Output = Result<ChatStream>> + Send + 'a
    where
        F: FnOnce(Cow<'a, ChatRequest>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<ChatStream>> + Send + 'a,
    {
        cache.chat_stream(group, req, move || fetch(Cow::Borrowed(req)))
    }
    fn finish(
        p: &Arc<Pipeline>,
        run: Running,
        result: Result<ChatStream>,
        req: Option<Box<ChatRequest>>,
    ) -> Result<ChatStream> {
        match result {
            Ok(stream) => {
                let req = req.unwrap_or_else(|| {
                    // A stream a user layer made itself: nothing below saw the prompt.
                    Box::new(ChatRequest::new(stream.meta().model.clone(), Vec::new()))
                });
                // The tokenizer of the model that answered (a group name says nothing).
                let model = match stream.meta().model.as_str() {
                    "" => req.model.clone(),
                    served => served.to_string(),
                };
                Ok(p.stream(run, stream, model, req))
            }
            Err(e) => {
                p.fail(run, &e);
                Err(e)
            }
        }
    }
}

impl Op for EmbedOp {
    type Req = EmbeddingRequest;
    type Ans = EmbeddingResponse;
    const CALL_TYPE: CallType = CallType::Embedding;

    fn model(req: &EmbeddingRequest) -> &str {
        &req.model
    }
    fn options(req: &EmbeddingRequest) -> &CallOptions {
        &req.options
    }
    fn into_request(req: Box<EmbeddingRequest>) -> Request {
        Request::Embedding(req)
    }
    fn into_response(ans: EmbeddingResponse) -> Response {
        Response::Embedding(ans)
    }
    fn from_response(resp: Response) -> Result<EmbeddingResponse> {
        match resp {
            Response::Embedding(r) => Ok(r),
            other => Err(wrong_answer(Self::CALL_TYPE, &other)),
        }
    }
    fn send<'a>(
        resolver: &'a Resolver,
        req: &'a EmbeddingRequest,
        model: &'a str,
        options: &'a CallOptions,
    ) -> impl Future<Output = Result<EmbeddingResponse>> + Send + 'a {
        resolver.embed_with(req, model, options)
    }
    fn cached<'a, F, Fut>(
        cache: &'a ResponseCache,
        group: &'a str,
        req: &'a EmbeddingRequest,
        fetch: F,
    ) -> impl Future<Output = Result<EmbeddingResponse>> + Send + 'a
    where
        F: FnOnce(Cow<'a, EmbeddingRequest>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<EmbeddingResponse>> + Send + 'a,
    {
        cache.embed(group, req, fetch)
    }
    fn finish(
        p: &Arc<Pipeline>,
        run: Running,
        result: Result<EmbeddingResponse>,
        _req: Option<Box<EmbeddingRequest>>,
    ) -> Result<EmbeddingResponse> {
        finish_answer(p, run, result)
    }
}

impl Op for TextOp {
    type Req = TextCompletionRequest;
    type Ans = TextCompletionResponse;
    const CALL_TYPE: CallType = CallType::TextCompletion;

    fn model(req: &TextCompletionRequest) -> &str {
        &req.model
    }
    fn options(req: &TextCompletionRequest) -> &CallOptions {
        &req.options
    }
    fn into_request(req: Box<TextCompletionRequest>) -> Request {
        Request::Text(req)
    }
    fn into_response(ans: TextCompletionResponse) -> Response {
        Response::Text(ans)
    }
    fn from_response(resp: Response) -> Result<TextCompletionResponse> {
        match resp {
            Response::Text(r) => Ok(r),
            other => Err(wrong_answer(Self::CALL_TYPE, &other)),
        }
    }
    fn send<'a>(
        resolver: &'a Resolver,
        req: &'a TextCompletionRequest,
        model: &'a str,
        options: &'a CallOptions,
    ) -> impl Future<Output = Result<TextCompletionResponse>> + Send + 'a {
        resolver.text_completion_with(req, model, options)
    }
    fn cached<'a, F, Fut>(
        cache: &'a ResponseCache,
        group: &'a str,
        req: &'a TextCompletionRequest,
        fetch: F,
    ) -> impl Future<Output = Result<TextCompletionResponse>> + Send + 'a
    where
        F: FnOnce(Cow<'a, TextCompletionRequest>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<TextCompletionResponse>> + Send + 'a,
    {
        cache.text_completion(group, req, move || fetch(Cow::Borrowed(req)))
    }
    fn finish(
        p: &Arc<Pipeline>,
        run: Running,
        result: Result<TextCompletionResponse>,
        _req: Option<Box<TextCompletionRequest>>,
    ) -> Result<TextCompletionResponse> {
        finish_answer(p, run, result)
    }
}
