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

/// The parts of an [`Op`] every call type writes the same way: its types, name, request
/// fields, the user layers' variants and the provider method.
macro_rules! op_basics {
    ($req:ty, $ans:ty, $call:expr, $variant:ident, $send:ident) => {
        type Req = $req;
        type Ans = $ans;
        const CALL_TYPE: CallType = $call;

        fn model(req: &$req) -> &str {
            &req.model
        }
        fn options(req: &$req) -> &CallOptions {
            &req.options
        }
        fn into_request(req: Box<$req>) -> Request {
            Request::$variant(req)
        }
        fn into_response(ans: $ans) -> Response {
            Response::$variant(ans)
        }
        fn send<'a>(
            resolver: &'a Resolver,
            req: &'a $req,
            model: &'a str,
            options: &'a CallOptions,
        ) -> impl Future<Output = Result<$ans>> + Send + 'a {
            resolver.$send(req, model, options)
        }
    };
}

/// The cache stage of a call type whose cache entry point takes the whole request.
macro_rules! whole_request_cache {
    ($req:ty, $ans:ty, $method:ident) => {
        fn cached<'a, F, Fut>(
            cache: &'a ResponseCache,
            group: &'a str,
            req: &'a $req,
            fetch: F,
        ) -> impl Future<Output = Result<$ans>> + Send + 'a
        where
            F: FnOnce(Cow<'a, $req>) -> Fut + Send + 'a,
            Fut: Future<Output = Result<$ans>> + Send + 'a,
        {
            cache.$method(group, req, move || fetch(Cow::Borrowed(req)))
        }
    };
}

/// The end of a call type whose answer is whole (not a stream).
macro_rules! whole_answer_finish {
    ($req:ty, $ans:ty, $variant:ident) => {
        fn from_response(resp: Response) -> Result<$ans> {
            match resp {
                Response::$variant(r) => Ok(r),
                other => Err(wrong_answer(Self::CALL_TYPE, &other)),
            }
        }
        fn finish(
            p: &Arc<Pipeline>,
            run: Running,
            result: Result<$ans>,
            _req: Option<Box<$req>>,
        ) -> Result<$ans> {
            finish_answer(p, run, result)
        }
    };
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
    op_basics!(ChatRequest, ChatResponse, CallType::Chat, Chat, chat_with);
    whole_request_cache!(ChatRequest, ChatResponse, chat);
    whole_answer_finish!(ChatRequest, ChatResponse, Chat);

    fn messages(req: &ChatRequest) -> Option<&[Message]> {
        Some(&req.messages)
    }
    fn prompt_tokens(req: &ChatRequest) -> Option<u64> {
        Some(crate::accounting::tokens::request_tokens(req))
    }
}

impl Op for StreamOp {
    op_basics!(
        ChatRequest,
        ChatStream,
        CallType::ChatStream,
        ChatStream,
        chat_stream_with
    );
    whole_request_cache!(ChatRequest, ChatStream, chat_stream);

    fn messages(req: &ChatRequest) -> Option<&[Message]> {
        Some(&req.messages)
    }
    fn prompt_tokens(req: &ChatRequest) -> Option<u64> {
        Some(crate::accounting::tokens::request_tokens(req))
    }
    fn kept(stream_request: Option<Box<ChatRequest>>) -> Option<Box<ChatRequest>> {
        stream_request
    }
    fn from_response(resp: Response) -> Result<ChatStream> {
        match resp {
            Response::ChatStream(s) => Ok(s),
            // A layer that answers a stream request with a whole answer: replayed as a stream.
            Response::Chat(r) => Ok(ChatStream::from_response(&r)),
            other => Err(wrong_answer(Self::CALL_TYPE, &other)),
        }
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
                    served => served.to_owned(),
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
    op_basics!(
        EmbeddingRequest,
        EmbeddingResponse,
        CallType::Embedding,
        Embedding,
        embed_with
    );
    whole_answer_finish!(EmbeddingRequest, EmbeddingResponse, Embedding);

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
        // Per input: `fetch` gets the request of the inputs not found.
        cache.embed(group, req, fetch)
    }
}

impl Op for TextOp {
    op_basics!(
        TextCompletionRequest,
        TextCompletionResponse,
        CallType::TextCompletion,
        Text,
        text_completion_with
    );
    whole_request_cache!(
        TextCompletionRequest,
        TextCompletionResponse,
        text_completion
    );
    whole_answer_finish!(TextCompletionRequest, TextCompletionResponse, Text);
}
