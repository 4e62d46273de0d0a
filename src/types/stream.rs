//! Streaming: `chat.completion.chunk` objects, [`ChatStream`] and the accumulator that rebuilds a
//! whole [`ChatResponse`] from chunks.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chat::{
    ChatResponse, Choice, Content, FinishReason, FunctionCall, Message, Role, ToolCall,
};
use super::meta::ResponseMeta;
use super::serde_util::{Extra, opt_index, opt_stringish};
use super::usage::Usage;
use crate::error::{Error, Result};

/// One streamed chunk: OpenAI's `chat.completion.chunk`.
///
/// The last chunk of every stream from this crate carries the usage and has `choices: []`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChatChunk {
    /// Completion id (the same on every chunk).
    pub id: String,
    /// `"chat.completion.chunk"`.
    pub object: String,
    /// Unix time of creation.
    pub created: i64,
    /// Model that answered.
    pub model: String,
    /// Deltas, one per choice; empty on the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Usage of the whole call (usage chunk only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Service tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatChunk {
    /// The text delta of the first choice, when there is one.
    pub fn text(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
    }

    /// The finish reason of the first choice, when this chunk carries one.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first().and_then(|c| c.finish_reason.as_ref())
    }

    /// A chunk of stream `id` carrying `delta` (and `finish_reason`) for choice 0: what a
    /// decoder of a vendor that streams one choice emits.
    pub(crate) fn of_delta(
        id: &str,
        created: i64,
        model: &str,
        delta: Delta,
        finish_reason: Option<FinishReason>,
    ) -> ChatChunk {
        ChatChunk {
            id: id.to_owned(),
            object: "chat.completion.chunk".to_owned(),
            created,
            model: model.to_owned(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// The usage chunk that ends stream `id`: no choices, the usage of the whole call.
    pub(crate) fn of_usage(id: &str, created: i64, model: &str, usage: Usage) -> ChatChunk {
        ChatChunk {
            id: id.to_owned(),
            object: "chat.completion.chunk".to_owned(),
            created,
            model: model.to_owned(),
            usage: Some(usage),
            ..Default::default()
        }
    }
}

/// The delta of one choice.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChunkChoice {
    /// Choice index.
    pub index: u32,
    /// What is new.
    pub delta: Delta,
    /// Set on the last chunk of this choice.
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities (passed through).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// New content of a choice.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Delta {
    /// Role (first chunk only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Text fragment (a list of parts sent by a vendor is joined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Reasoning text fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Refusal fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Tool-call fragments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

use super::map_de::{Index, NullDefault, Plain, Stringish, Text, Timestamp, map_deserialize};

map_deserialize!(ChatChunk, "a chat.completion.chunk object", ChatChunk::default(), {
    "id" => id: NullDefault<String>,
    "object" => object: NullDefault<String>,
    "created" => created: Timestamp,
    "model" => model: NullDefault<String>,
    "choices" => choices: NullDefault<Vec<ChunkChoice>>,
    "usage" => usage: Plain<Option<Usage>>,
    "system_fingerprint" => system_fingerprint: Stringish,
    "service_tier" => service_tier: Stringish,
});

map_deserialize!(ChunkChoice, "a chunk choice object", ChunkChoice::default(), {
    "index" => index: Index,
    "delta" => delta: NullDefault<Delta>,
    "finish_reason" => finish_reason: Plain<Option<FinishReason>>,
    "logprobs" => logprobs: Plain<Option<Value>>,
});

map_deserialize!(Delta, "a delta object", Delta::default(), {
    "role" => role: Plain<Option<Role>>,
    "content" => content: Text,
    "reasoning_content" => reasoning_content: Stringish,
    "refusal" => refusal: Stringish,
    "tool_calls" => tool_calls: Plain<Option<Vec<ToolCallDelta>>>,
});

/// A fragment of a tool call. `id`, `type` and `function.name` come with the first fragment of
/// each call; `function.arguments` fragments are concatenated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call this fragment belongs to (vendors that omit it get the position in the list).
    #[serde(
        default,
        deserialize_with = "opt_index",
        skip_serializing_if = "Option::is_none"
    )]
    pub index: Option<u32>,
    /// Call id.
    #[serde(
        default,
        deserialize_with = "opt_stringish",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// `"function"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and argument fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fragment of a function call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// Function name (first fragment).
    #[serde(
        default,
        deserialize_with = "opt_stringish",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Argument text fragment.
    #[serde(
        default,
        deserialize_with = "opt_stringish",
        skip_serializing_if = "Option::is_none"
    )]
    pub arguments: Option<String>,
}

/// Code that watches a stream without wrapping it: subscribe with [`ChatStream::observe`].
///
/// Every stage of a call (the router's deployment counters, the response cache, the ledger and
/// callbacks) and every user layer watches a stream through this one hub, so a stream is
/// polled through one object however many watch it. Observers are called in the order they
/// subscribed, on the task that polls the stream: keep them quick (hand heavy work to a task).
/// Exactly one of `on_end`, `on_error` and `on_drop` is called, once.
pub trait StreamObserver: Send + 'static {
    /// The first chunk arrived, `after` the start of the call.
    fn on_first_token(&mut self, after: Duration) {
        let _ = after;
    }
    /// A chunk passed (the usage chunk included).
    fn on_chunk(&mut self, chunk: &ChatChunk) {
        let _ = chunk;
    }
    /// The call's usage arrived (the vendor's, or the count the crate made when the vendor
    /// sent none), right after the chunk that carries it.
    fn on_usage(&mut self, usage: &Usage) {
        let _ = usage;
    }
    /// The stream ended normally; `meta` is complete (latency, time to first token, cost).
    fn on_end(&mut self, meta: &ResponseMeta) {
        let _ = meta;
    }
    /// The stream ended with this error (no more chunks follow).
    fn on_error(&mut self, error: &Error) {
        let _ = error;
    }
    /// The stream was dropped before its end.
    fn on_drop(&mut self) {}
    /// Work the end of the stream waits for, asked once right after
    /// [`on_end`](Self::on_end): the stream yields its end only once this future is done (the
    /// response cache stores the answer this way, so the next identical call finds it).
    fn finish(&mut self) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

/// How a stream ended, for the call's accounting.
pub(crate) enum StreamOutcome<'a> {
    /// Read to its end.
    Complete,
    /// Ended by an error.
    Failed(&'a Error),
    /// Dropped before its end.
    Dropped,
}

/// The call's accounting of a stream (set by the observe stage, last of all observers): it
/// may refuse a chunk (implausible usage) and add a last chunk (the usage it counted).
pub(crate) trait StreamTail: Send {
    /// A chunk passed; an error ends the stream with it.
    fn chunk(&mut self, chunk: &ChatChunk) -> Result<()>;
    /// The stream ended; at a complete end, a chunk to add last.
    fn end(&mut self, outcome: StreamOutcome<'_>, meta: &ResponseMeta) -> Option<ChatChunk>;
}

/// A stream of [`ChatChunk`]s, as returned by `chat_stream`.
///
/// Poll it as a `Stream`, or call [`ChatStream::collect_response`] to get the whole answer.
/// Errors in the middle of the stream (a vendor error event, a dropped connection, a stream that
/// ends without its terminator, an idle timeout) arrive as an `Err` item, and the stream ends.
/// Code that wants to watch it (first token, chunks, end, error, drop) subscribes a
/// [`StreamObserver`] with [`ChatStream::observe`].
pub struct ChatStream {
    inner: BoxStream<'static, Result<ChatChunk>>,
    meta: ResponseMeta,
    started: Instant,
    state: State,
    pricer: Option<Pricer>,
    first_seen: bool,
    observers: Vec<Box<dyn StreamObserver>>,
    tail: Option<Box<dyn StreamTail>>,
    /// The whole stream must end by then (the router's or the call's timeout).
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// Where a stream is.
enum State {
    Open,
    /// Ended normally: waiting for the observers' end work, then yielding `last` (the added
    /// usage chunk), then the end.
    Finishing {
        work: Option<BoxFuture<'static, ()>>,
        last: Option<Box<ChatChunk>>,
    },
    Done,
}

/// Prices a collected stream's usage (set by the call pipeline).
pub(crate) type Pricer =
    std::sync::Arc<dyn Fn(&ResponseMeta, &super::usage::Usage) -> Option<f64> + Send + Sync>;

impl ChatStream {
    /// Wraps a stream of chunks. `meta` describes the call; its latency and time to first token
    /// are measured from now (see [`ChatStream::started_at`]).
    pub fn new(
        inner: impl Stream<Item = Result<ChatChunk>> + Send + 'static,
        meta: ResponseMeta,
    ) -> ChatStream {
        ChatStream {
            inner: Box::pin(inner),
            meta,
            started: Instant::now(),
            state: State::Open,
            pricer: None,
            first_seen: false,
            observers: Vec::new(),
            tail: None,
            deadline: None,
        }
    }

    /// A stream that yields these chunks (useful for tests and custom providers).
    pub fn from_chunks(chunks: Vec<ChatChunk>, meta: ResponseMeta) -> ChatStream {
        ChatStream::new(futures::stream::iter(chunks.into_iter().map(Ok)), meta)
    }

    /// A stream that replays a complete response: a chunk per choice with its whole content and
    /// tool calls, a chunk with each finish reason, then the usage chunk.
    pub fn from_response(resp: &ChatResponse) -> ChatStream {
        ChatStream::from_chunks(response_to_chunks(resp), resp.meta.clone())
    }

    /// Subscribes `observer` to this stream's events (see [`StreamObserver`]). The stream is
    /// not wrapped: however many observers subscribe, chunks pass through one object.
    pub fn observe(&mut self, observer: impl StreamObserver) -> &mut Self {
        self.observers.push(Box::new(observer));
        self
    }

    /// Sets the call's accounting (the observe stage's, once per call).
    pub(crate) fn set_tail(&mut self, tail: Box<dyn StreamTail>) {
        self.tail = Some(tail);
    }

    /// Ends the stream with a `Timeout` at `deadline` if it is still running then.
    pub(crate) fn set_deadline(&mut self, deadline: tokio::time::Instant) {
        self.deadline = Some(Box::pin(tokio::time::sleep_until(deadline)));
    }

    /// Prices the collected answer (see [`ChatStream::collect_response`]).
    pub(crate) fn with_pricer(mut self, pricer: Pricer) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Measures latency and time to first token from `start` (the start of the call).
    #[must_use = "returns the changed stream; use it"]
    pub fn started_at(mut self, start: Instant) -> Self {
        self.started = start;
        self
    }

    /// Measures latency and time to first token from `start`.
    pub(crate) fn set_started(&mut self, start: Instant) {
        self.started = start;
    }

    /// What is known about the call so far. Once the usage chunk has passed, `cost` is set
    /// (when the model's prices are known), so a caller reading the chunks itself gets the
    /// cost too.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Mutable access to the meta (used by the client and router).
    pub fn meta_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }

    /// Reads the whole stream and rebuilds the complete response: content, reasoning, refusal,
    /// tool calls assembled from their fragments (parallel calls by index), finish reason and
    /// usage. Fails with the first error the stream yields.
    pub async fn collect_response(mut self) -> Result<ChatResponse> {
        use futures::StreamExt;
        let mut acc = ChunkAccumulator::new();
        while let Some(item) = self.next().await {
            acc.push(&item?);
        }
        let mut resp = acc.finish();
        self.meta.latency = self.started.elapsed();
        resp.meta = std::mem::take(&mut self.meta);
        if let (Some(price), Some(usage)) = (&self.pricer, &resp.usage)
            && resp.meta.cost.is_none()
        {
            resp.meta.cost = price(&resp.meta, usage);
        }
        Ok(resp)
    }

    /// A chunk passes: time to first token, usage and cost in the meta, the observers told.
    /// An error from the accounting ends the stream with it.
    fn pass(&mut self, chunk: &ChatChunk) -> Result<()> {
        if !self.first_seen {
            self.first_seen = true;
            let after = self.started.elapsed();
            if self.meta.time_to_first_token.is_none() {
                self.meta.time_to_first_token = Some(after);
            }
            for o in &mut self.observers {
                o.on_first_token(after);
            }
        }
        if let Some(tail) = &mut self.tail {
            tail.chunk(chunk)?;
        }
        self.note_usage(chunk);
        self.tell(chunk);
        Ok(())
    }

    /// The observers hear of a chunk (and of its usage).
    fn tell(&mut self, chunk: &ChatChunk) {
        for o in &mut self.observers {
            o.on_chunk(chunk);
            if let Some(u) = &chunk.usage {
                o.on_usage(u);
            }
        }
    }

    fn note_usage(&mut self, chunk: &ChatChunk) {
        if let Some(usage) = &chunk.usage {
            if usage.extra.contains_key("estimated") {
                self.meta.usage_estimated = true;
            }
            if let Some(price) = &self.pricer
                && self.meta.cost.is_none()
            {
                self.meta.cost = price(&self.meta, usage);
            }
        }
    }

    /// The stream failed: observers and accounting told, the error passed on.
    fn fail(&mut self, err: &Error) {
        self.state = State::Done;
        for o in &mut self.observers {
            o.on_error(err);
        }
        if let Some(mut tail) = self.tail.take() {
            tail.end(StreamOutcome::Failed(err), &self.meta);
        }
    }

    /// The stream ended normally: the accounting's last chunk, the observers' end and their
    /// end work.
    fn complete(&mut self) {
        self.meta.latency = self.started.elapsed();
        let last = match self.tail.take() {
            Some(mut tail) => tail.end(StreamOutcome::Complete, &self.meta),
            None => None,
        };
        if let Some(chunk) = &last {
            self.note_usage(chunk);
            self.tell(chunk);
        }
        let mut work: Vec<BoxFuture<'static, ()>> = Vec::new();
        for o in &mut self.observers {
            o.on_end(&self.meta);
            work.extend(o.finish());
        }
        let work = match work.len() {
            0 => None,
            1 => work.pop(),
            _ => {
                Some(Box::pin(futures::future::join_all(work).map(|_| ())) as BoxFuture<'static, ()>)
            }
        };
        self.state = State::Finishing {
            work,
            last: last.map(Box::new),
        };
    }

    /// The deadline passed with the stream still running: the upstream connection is closed.
    fn expire(&mut self) -> Error {
        self.deadline = None;
        self.inner = Box::pin(futures::stream::empty());
        let mut err = Error::new(
            crate::error::ErrorKind::Timeout,
            "the stream did not end before the call's deadline (the router's `timeout` or the \
             call's own)",
        );
        if !self.meta.provider.is_empty() {
            err = err.with_provider(self.meta.provider.clone());
        }
        err
    }
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("meta", &self.meta)
            .field("observers", &self.observers.len())
            .finish_non_exhaustive()
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match &mut this.state {
            State::Done => return Poll::Ready(None),
            State::Finishing { work, last } => {
                if let Some(w) = work {
                    ready!(w.as_mut().poll(cx));
                    *work = None;
                }
                return match last.take() {
                    Some(chunk) => Poll::Ready(Some(Ok(*chunk))),
                    None => {
                        this.state = State::Done;
                        Poll::Ready(None)
                    }
                };
            }
            State::Open => {}
        }
        let mut polled = this.inner.as_mut().poll_next(cx);
        if polled.is_pending()
            && let Some(deadline) = &mut this.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            polled = Poll::Ready(Some(Err(this.expire())));
        }
        match polled {
            Poll::Ready(Some(Ok(chunk))) => match this.pass(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(e) => {
                    let e = e.or_context(&this.meta.provider, &this.meta.model);
                    this.fail(&e);
                    Poll::Ready(Some(Err(e)))
                }
            },
            Poll::Ready(Some(Err(e))) => {
                if !this.first_seen && this.meta.time_to_first_token.is_none() {
                    this.meta.time_to_first_token = Some(this.started.elapsed());
                }
                this.fail(&e);
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.complete();
                // Polls the end work (if any), then yields the last chunk or the end.
                Pin::new(this).poll_next(cx)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        if matches!(self.state, State::Open) && (self.tail.is_some() || !self.observers.is_empty())
        {
            for o in &mut self.observers {
                o.on_drop();
            }
            if let Some(mut tail) = self.tail.take() {
                tail.end(StreamOutcome::Dropped, &self.meta);
            }
        }
    }
}

#[derive(Debug, Default)]
struct ChoiceAcc {
    role: Option<Role>,
    content: String,
    has_content: bool,
    reasoning: String,
    refusal: Option<String>,
    tool_calls: Vec<(u32, ToolCall)>,
    finish_reason: Option<FinishReason>,
    logprobs: Vec<Value>,
    extra: Extra,
}

/// Rebuilds a [`ChatResponse`] from chunks. Pure: feed chunks with [`push`](Self::push), then
/// [`finish`](Self::finish).
///
/// ```
/// use litellm::{ChatChunk, ChunkAccumulator};
/// let chunks: Vec<ChatChunk> = [
///     r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
///     r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
///     r#"{"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
/// ].iter().map(|s| serde_json::from_str(s).unwrap()).collect();
/// let mut acc = ChunkAccumulator::new();
/// for c in &chunks { acc.push(c); }
/// let resp = acc.finish();
/// assert_eq!(resp.text(), Some("Hello"));
/// assert_eq!(resp.usage.unwrap().total_tokens, 5);
/// ```
#[derive(Debug, Default)]
pub struct ChunkAccumulator {
    id: String,
    model: String,
    created: i64,
    system_fingerprint: Option<String>,
    service_tier: Option<String>,
    choices: BTreeMap<u32, ChoiceAcc>,
    usage: Option<Usage>,
    extra: Extra,
}

impl ChunkAccumulator {
    /// An empty accumulator.
    pub fn new() -> ChunkAccumulator {
        ChunkAccumulator::default()
    }

    /// Adds one chunk.
    pub fn push(&mut self, chunk: &ChatChunk) {
        if self.id.is_empty() && !chunk.id.is_empty() {
            self.id.clone_from(&chunk.id);
        }
        if self.model.is_empty() && !chunk.model.is_empty() {
            self.model.clone_from(&chunk.model);
        }
        if self.created == 0 {
            self.created = chunk.created;
        }
        if chunk.system_fingerprint.is_some() {
            self.system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        if chunk.service_tier.is_some() {
            self.service_tier.clone_from(&chunk.service_tier);
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        for (k, v) in &chunk.extra {
            // `obfuscation` (OpenAI) and `p` (Mistral, Bedrock) are padding.
            if !v.is_null() && k != "obfuscation" && k != "p" {
                self.extra.insert(k.clone(), v.clone());
            }
        }
        for choice in &chunk.choices {
            let acc = self.choices.entry(choice.index).or_default();
            let d = &choice.delta;
            if d.role.is_some() && acc.role.is_none() {
                acc.role.clone_from(&d.role);
            }
            if let Some(c) = &d.content {
                acc.content.push_str(c);
                acc.has_content = true;
            }
            if let Some(r) = &d.reasoning_content {
                acc.reasoning.push_str(r);
            }
            if let Some(r) = &d.refusal
                && !r.is_empty()
            {
                acc.refusal.get_or_insert_with(String::new).push_str(r);
            }
            if let Some(calls) = &d.tool_calls {
                for (pos, tc) in calls.iter().enumerate() {
                    merge_tool_call(&mut acc.tool_calls, pos as u32, tc);
                }
            }
            if choice.finish_reason.is_some() {
                acc.finish_reason.clone_from(&choice.finish_reason);
            }
            if let Some(lp) = &choice.logprobs
                && !lp.is_null()
            {
                acc.logprobs.push(lp.clone());
            }
            for (k, v) in &d.extra {
                if !v.is_null() {
                    acc.extra.insert(k.clone(), v.clone());
                }
            }
        }
    }

    /// The complete response.
    pub fn finish(self) -> ChatResponse {
        let choices = self
            .choices
            .into_iter()
            .map(|(index, acc)| {
                let tool_calls: Vec<ToolCall> =
                    acc.tool_calls.into_iter().map(|(_, tc)| tc).collect();
                let mut finish_reason = acc.finish_reason;
                if !tool_calls.is_empty() && finish_reason == Some(FinishReason::Stop) {
                    finish_reason = Some(FinishReason::ToolCalls);
                }
                let message = Message {
                    role: acc.role.unwrap_or(Role::Assistant),
                    content: if acc.has_content || (tool_calls.is_empty() && acc.refusal.is_none())
                    {
                        Some(Content::Text(acc.content))
                    } else {
                        None
                    },
                    name: None,
                    tool_calls: if tool_calls.is_empty() {
                        None
                    } else {
                        Some(tool_calls)
                    },
                    tool_call_id: None,
                    refusal: acc.refusal,
                    reasoning_content: if acc.reasoning.is_empty() {
                        None
                    } else {
                        Some(acc.reasoning)
                    },
                    extra: acc.extra,
                };
                Choice {
                    index,
                    message,
                    finish_reason,
                    logprobs: merge_logprobs(acc.logprobs),
                    extra: Extra::new(),
                }
            })
            .collect();
        ChatResponse {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            system_fingerprint: self.system_fingerprint,
            service_tier: self.service_tier,
            extra: self.extra,
            meta: ResponseMeta::default(),
        }
    }
}

/// Splits a complete response into the chunks a vendor would have streamed.
pub(crate) fn response_to_chunks(resp: &ChatResponse) -> Vec<ChatChunk> {
    let base = ChatChunk {
        id: resp.id.clone(),
        object: "chat.completion.chunk".to_owned(),
        created: resp.created,
        model: resp.model.clone(),
        system_fingerprint: resp.system_fingerprint.clone(),
        service_tier: resp.service_tier.clone(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(resp.choices.len() * 2 + 1);
    for c in &resp.choices {
        let m = &c.message;
        let delta = Delta {
            role: Some(m.role.clone()),
            content: m.content.as_ref().map(Content::to_text),
            reasoning_content: m.reasoning_content.clone(),
            refusal: m.refusal.clone(),
            tool_calls: m.tool_calls.as_ref().map(|calls| {
                calls
                    .iter()
                    .enumerate()
                    .map(|(i, tc)| ToolCallDelta {
                        index: Some(i as u32),
                        id: Some(tc.id.clone()),
                        kind: Some(tc.kind.clone()),
                        function: Some(FunctionCallDelta {
                            name: Some(tc.function.name.clone()),
                            arguments: Some(tc.function.arguments.clone()),
                        }),
                        extra: Extra::new(),
                    })
                    .collect()
            }),
            extra: m.extra.clone(),
        };
        out.push(ChatChunk {
            choices: vec![ChunkChoice {
                index: c.index,
                delta,
                finish_reason: None,
                logprobs: c.logprobs.clone(),
                extra: c.extra.clone(),
            }],
            // The response's own extras (e.g. `citations`) travel on the first chunk.
            extra: if out.is_empty() {
                resp.extra.clone()
            } else {
                Extra::new()
            },
            ..base.clone()
        });
    }
    for c in &resp.choices {
        out.push(ChatChunk {
            choices: vec![ChunkChoice {
                index: c.index,
                delta: Delta::default(),
                finish_reason: c.finish_reason.clone(),
                logprobs: None,
                extra: Extra::new(),
            }],
            ..base.clone()
        });
    }
    if let Some(u) = &resp.usage {
        out.push(ChatChunk {
            usage: Some(u.clone()),
            ..base
        });
    }
    out
}

/// Merges a tool-call fragment. Fragments are keyed by `index` (or their position when a vendor
/// omits it); a fragment whose non-empty `id` differs from the call already at that index starts
/// a new call (some servers number every call 0).
fn merge_tool_call(calls: &mut Vec<(u32, ToolCall)>, pos: u32, delta: &ToolCallDelta) {
    let index = delta.index.unwrap_or(pos);
    let new_id = delta.id.as_deref().filter(|s| !s.is_empty());
    let existing = calls.iter().rposition(|(i, _)| *i == index);
    let slot = match existing {
        Some(i)
            if new_id.is_none()
                || calls[i].1.id.is_empty()
                || new_id == Some(calls[i].1.id.as_str()) =>
        {
            i
        }
        _ => {
            calls.push((
                index,
                ToolCall {
                    id: String::new(),
                    kind: "function".to_owned(),
                    function: FunctionCall::default(),
                    extra: Extra::new(),
                },
            ));
            calls.len() - 1
        }
    };
    let call = &mut calls[slot].1;
    if let Some(id) = new_id
        && call.id.is_empty()
    {
        call.id = id.to_owned();
    }
    if let Some(kind) = &delta.kind
        && !kind.is_empty()
    {
        call.kind.clone_from(kind);
    }
    if let Some(f) = &delta.function {
        if let Some(name) = &f.name
            && !name.is_empty()
        {
            if call.function.name.is_empty() {
                call.function.name.clone_from(name);
            } else if call.function.name != *name {
                call.function.name.push_str(name);
            }
        }
        if let Some(args) = &f.arguments {
            call.function.arguments.push_str(args);
        }
    }
    for (k, v) in &delta.extra {
        if !v.is_null() {
            call.extra.insert(k.clone(), v.clone());
        }
    }
}

/// Concatenates the `content` arrays of streamed logprobs objects.
fn merge_logprobs(parts: Vec<Value>) -> Option<Value> {
    if parts.is_empty() {
        return None;
    }
    let mut content = Vec::new();
    let mut refusal = Vec::new();
    for p in parts {
        if let Some(Value::Array(c)) = p.get("content") {
            content.extend(c.iter().cloned());
        }
        if let Some(Value::Array(r)) = p.get("refusal") {
            refusal.extend(r.iter().cloned());
        }
    }
    let mut out = serde_json::Map::new();
    out.insert("content".into(), Value::Array(content));
    if !refusal.is_empty() {
        out.insert("refusal".into(), Value::Array(refusal));
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(v: Value) -> ChatChunk {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn parallel_tool_calls_assemble_by_index() {
        let mut acc = ChunkAccumulator::new();
        for v in [
            json!({"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}),
            json!({"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}}]}}]}),
            json!({"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"g","arguments":"{\"y\""}}]}}]}),
            json!({"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":1}"}}]}}]}),
            json!({"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":2}"}}]}}]}),
            json!({"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
        ] {
            acc.push(&chunk(v));
        }
        let r = acc.finish();
        let calls = r.tool_calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (
                calls[0].id.as_str(),
                calls[0].function.name.as_str(),
                calls[0].function.arguments.as_str()
            ),
            ("a", "f", "{\"x\":1}")
        );
        assert_eq!(
            (
                calls[1].id.as_str(),
                calls[1].function.name.as_str(),
                calls[1].function.arguments.as_str()
            ),
            ("b", "g", "{\"y\":2}")
        );
        assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(r.choices[0].message.content.is_none());
    }

    #[test]
    fn missing_index_and_repeated_index_zero() {
        let mut acc = ChunkAccumulator::new();
        // Old Mistral: no index, no type. Some servers: every call index 0 with distinct ids.
        acc.push(&chunk(json!({"choices":[{"index":0,"delta":{"tool_calls":[
            {"id":"a","function":{"name":"f","arguments":"{}"}},
            {"id":"b","function":{"name":"g","arguments":"{}"}}]}}]})));
        acc.push(&chunk(json!({"choices":[{"index":0,"delta":{"tool_calls":[
            {"index":0,"id":"c","function":{"name":"h","arguments":"{}"}}]},"finish_reason":"stop"}]})));
        let r = acc.finish();
        let names: Vec<_> = r
            .tool_calls()
            .iter()
            .map(|c| c.function.name.as_str())
            .collect();
        assert_eq!(names, ["f", "g", "h"]);
        assert!(r.tool_calls().iter().all(|c| c.kind == "function"));
        // finish "stop" with tool calls becomes tool_calls
        assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    }
}
