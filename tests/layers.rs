//! User layers through the public API: a layer rewrites, answers, rejects and observes calls
//! of a `Client` and a `Router`, for every call type, and the rest of the stack (budgets,
//! cache, routing, callbacks) sees what the layers decided.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use litellm::accounting::ledger::{Budget, Ledger, Period, Scope};
use litellm::layer::{Layer, Next, Request, Response};
use litellm::observe::{CallEvent, Callback, CallbackResult};
use litellm::router::Deployment;
use litellm::{
    ChatChunk, ChatRequest, ChatResponse, Client, EmbeddingRequest, Error, ErrorKind, Message,
    Metadata, ResponseMeta, Router, StreamObserver, TextCompletionRequest, async_trait,
};
use serde_json::json;
use support::{FakeUpstream, Reply, sse_data};

/// Adds `x-tenant: <metadata.values.tenant>` to every call.
struct TenantHeader;

#[async_trait]
impl Layer for TenantHeader {
    async fn call(&self, mut request: Request, next: Next<'_>) -> litellm::Result<Response> {
        let tenant = request
            .options()
            .metadata
            .values
            .get("tenant")
            .and_then(|v| v.as_str())
            .unwrap_or("none")
            .to_owned();
        request
            .options_mut()
            .extra_headers
            .push(("x-tenant".into(), tenant));
        next.run(request).await
    }
}

/// Refuses any input containing `pattern`, counting the calls it sees.
struct Guardrail {
    pattern: &'static str,
    seen: AtomicU32,
}

impl Guardrail {
    fn new(pattern: &'static str) -> Arc<Guardrail> {
        Arc::new(Guardrail {
            pattern,
            seen: AtomicU32::new(0),
        })
    }
}

#[async_trait]
impl Layer for Guardrail {
    async fn call(&self, request: Request, next: Next<'_>) -> litellm::Result<Response> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        if request.prompt_text().contains(self.pattern) {
            return Err(Error::new(
                ErrorKind::ContentPolicyViolation,
                format!("the input mentions {:?}", self.pattern),
            ));
        }
        next.run(request).await
    }
}

fn ok_body() -> serde_json::Value {
    json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "upstream"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
}

fn client_for(server: &FakeUpstream) -> litellm::ClientBuilder {
    Client::builder()
        .no_env()
        .api_key("openai", "sk-test")
        .api_base("openai", server.url())
}

fn tenant_call(model: &str, tenant: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("Hi")])
        .metadata(Metadata::new().value("tenant", tenant))
}

/// Records every finished call's event (a stream's end arrives as a success too).
#[derive(Default)]
struct Events(Mutex<Vec<CallEvent>>);

#[async_trait]
impl Callback for Events {
    async fn on_success(&self, e: &CallEvent) -> CallbackResult {
        self.0.lock().unwrap().push(e.clone());
        Ok(())
    }
    async fn on_failure(&self, e: &CallEvent) -> CallbackResult {
        self.0.lock().unwrap().push(e.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_layer_rewrites_the_request_the_upstream_receives() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, ok_body()));
    let client = client_for(&server).layer(TenantHeader).build().unwrap();
    client
        .chat(tenant_call("openai/gpt-4o", "acme"))
        .await
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().header("x-tenant").as_deref(),
        Some("acme")
    );
    // Every call type goes through the layer.
    server.set_default(Reply::json(
        200,
        json!({"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
            "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
    ));
    client
        .embed(
            EmbeddingRequest::new("openai/text-embedding-3-small", "hi")
                .metadata(Metadata::new().value("tenant", "globex")),
        )
        .await
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().header("x-tenant").as_deref(),
        Some("globex")
    );
}

#[tokio::test]
async fn a_routers_layer_runs_once_per_call_and_its_rewrite_reaches_every_attempt() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(500, json!({"error": {"message": "boom"}})));
    server.set_default(Reply::json(200, ok_body()));
    let client = client_for(&server).build().unwrap();
    let guard = Guardrail::new("forbidden");
    let router = Router::builder()
        .client(client)
        .deployment(Deployment::new("gpt", "openai/gpt-4o").id("a"))
        .deployment(Deployment::new("gpt", "openai/gpt-4o").id("b"))
        .layer_arc(guard.clone())
        .layer(TenantHeader)
        .build()
        .unwrap();
    let resp = router.chat(tenant_call("gpt", "initech")).await.unwrap();
    assert_eq!(resp.meta.attempts, 2, "one retry after the 500");
    assert_eq!(guard.seen.load(Ordering::SeqCst), 1, "once per call");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs.iter()
            .all(|r| r.header("x-tenant").as_deref() == Some("initech"))
    );
}

#[tokio::test]
async fn a_layer_rejects_with_a_typed_error_before_budgets_and_upstream() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, ok_body()));
    let ledger = Arc::new(Ledger::new().budget(Budget::new(Scope::Global, 10.0, Period::Daily)));
    let events = Arc::new(Events::default());
    let client = client_for(&server)
        .ledger(ledger.clone())
        .callback(events.clone())
        .layer_arc(Guardrail::new("Project X"))
        .build()
        .unwrap();
    let err = client
        .completion(
            "openai/gpt-4o",
            vec![Message::user("Tell me about Project X")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentPolicyViolation);
    assert!(err.message().contains("Project X"), "{err}");
    assert_eq!(server.request_count(), 0, "nothing sent");
    // The rejection is observed like any failure, and nothing is charged.
    client.flush_callbacks().await;
    let seen = events.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ContentPolicyViolation)
    );
    assert_eq!(ledger.budgets_status()[0].spent, 0.0);
    // Streams, embeddings and text completions are checked too.
    let stream = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o",
            vec![Message::user("Project X again")],
        ))
        .await;
    assert_eq!(
        stream.unwrap_err().kind(),
        ErrorKind::ContentPolicyViolation
    );
    let embed = client
        .embed(EmbeddingRequest::new(
            "openai/text-embedding-3-small",
            vec!["fine", "Project X"],
        ))
        .await;
    assert_eq!(embed.unwrap_err().kind(), ErrorKind::ContentPolicyViolation);
    let text = client
        .text_completion(TextCompletionRequest::new(
            "openai/gpt-3.5-turbo-instruct",
            "Project X",
        ))
        .await;
    assert_eq!(text.unwrap_err().kind(), ErrorKind::ContentPolicyViolation);
    assert_eq!(server.request_count(), 0);
    // A clean prompt goes through.
    client
        .completion("openai/gpt-4o", vec![Message::user("Hello")])
        .await
        .unwrap();
    assert_eq!(server.request_count(), 1);
}

/// Answers "canned" to any prompt that asks for the time, without calling upstream.
struct Canned;

#[async_trait]
impl Layer for Canned {
    async fn call(&self, request: Request, next: Next<'_>) -> litellm::Result<Response> {
        if request.prompt_text().contains("time") {
            let answer = ChatResponse::from_text(request.model(), "canned");
            return Ok(Response::Chat(answer));
        }
        next.run(request).await
    }
}

#[tokio::test]
async fn a_layer_short_circuits_with_its_own_answer_for_chats_and_streams() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, ok_body()));
    let events = Arc::new(Events::default());
    let client = client_for(&server)
        .callback(events.clone())
        .layer(Canned)
        .build()
        .unwrap();
    let resp = client
        .completion("openai/gpt-4o", vec![Message::user("What time is it?")])
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("canned"));
    // A stream request answered with a whole answer is replayed as a stream.
    let streamed = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o",
            vec![Message::user("the time, please")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(streamed.text(), Some("canned"));
    assert_eq!(server.request_count(), 0);
    // A layer answering with the wrong call type is a Config error, not a panic.
    struct Wrong;
    #[async_trait]
    impl Layer for Wrong {
        async fn call(&self, _r: Request, _n: Next<'_>) -> litellm::Result<Response> {
            Ok(Response::Chat(ChatResponse::from_text("m", "x")))
        }
    }
    let wrong = Client::builder().no_env().layer(Wrong).build().unwrap();
    let err = wrong
        .embedding("mock/text-embedding-3-small", "hi")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("embedding"), "{err}");
    client.flush_callbacks().await;
    let got = events.0.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "short-circuited calls are observed: {got:#?}");
}

/// Records what a stream went through.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl StreamObserver for Seen {
    fn on_first_token(&mut self, _after: Duration) {
        self.0.lock().unwrap().push("first".into());
    }
    fn on_chunk(&mut self, chunk: &ChatChunk) {
        let what = match (chunk.text(), &chunk.usage) {
            (Some(t), _) => format!("text:{t}"),
            (None, Some(u)) => format!("usage:{}", u.total_tokens),
            _ => "other".into(),
        };
        self.0.lock().unwrap().push(what);
    }
    fn on_end(&mut self, meta: &ResponseMeta) {
        self.0.lock().unwrap().push(format!(
            "end:{}",
            meta.deployment_id.as_deref().unwrap_or("-")
        ));
    }
    fn on_error(&mut self, error: &Error) {
        self.0
            .lock()
            .unwrap()
            .push(format!("error:{}", error.kind()));
    }
    fn on_drop(&mut self) {
        self.0.lock().unwrap().push("drop".into());
    }
}

/// Subscribes a `Seen` to every stream.
struct Watch(Seen);

#[async_trait]
impl Layer for Watch {
    async fn call(&self, request: Request, next: Next<'_>) -> litellm::Result<Response> {
        let mut resp = next.run(request).await?;
        if let Some(stream) = resp.stream_mut() {
            stream.observe(self.0.clone());
        }
        Ok(resp)
    }
}

fn stream_events(text: &[&str], usage: bool) -> Vec<String> {
    let mut events: Vec<String> = text
        .iter()
        .map(|t| {
            sse_data(&json!({"id": "s", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]}))
        })
        .collect();
    events.push(sse_data(
        &json!({"id": "s", "model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ));
    if usage {
        events.push(sse_data(
            &json!({"id": "s", "model": "gpt-4o", "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}}),
        ));
    }
    events.push("data: [DONE]\n\n".to_owned());
    events
}

#[tokio::test]
async fn a_layer_observes_a_routed_stream_once_from_first_token_to_end() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::sse(stream_events(&["Hel", "lo"], true)));
    let seen = Seen::default();
    let router = Router::builder()
        .client(client_for(&server).build().unwrap())
        .deployment(Deployment::new("gpt", "openai/gpt-4o").id("only"))
        .layer(Watch(seen.clone()))
        .build()
        .unwrap();
    let resp = router
        .chat_stream(ChatRequest::new("gpt", vec![Message::user("Hi")]))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello"));
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            "first", "text:Hel", "text:lo", "other", "usage:4", "end:only"
        ]
    );
    // The router's own tracking of the deployment saw the same end.
    let health = router.health();
    assert_eq!((health[0].successes, health[0].in_flight), (1, 0));
}

#[tokio::test]
async fn a_layer_sees_a_stream_fail_or_be_dropped() {
    let server = FakeUpstream::start().await;
    // Two chunks, then the connection drops without [DONE].
    server.push(Reply::sse(stream_events(&["a", "b"], false)).drop_after(2));
    let seen = Seen::default();
    let client = client_for(&server)
        .layer(Watch(seen.clone()))
        .build()
        .unwrap();
    let mut stream = client
        .chat_stream(ChatRequest::new("openai/gpt-4o", vec![Message::user("Hi")]))
        .await
        .unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item.is_ok());
    }
    assert_eq!(items, [true, true, false]);
    let log = seen.0.lock().unwrap().clone();
    assert_eq!(log.first().map(String::as_str), Some("first"));
    assert!(log.last().unwrap().starts_with("error:"), "{log:?}");
    // Dropped after one chunk: the observer hears of the drop once.
    let seen = Seen::default();
    let client = client_for(&server)
        .layer(Watch(seen.clone()))
        .build()
        .unwrap();
    server.push(Reply::sse(stream_events(&["x", "y", "z"], true)));
    let mut stream = client
        .chat_stream(ChatRequest::new("openai/gpt-4o", vec![Message::user("Hi")]))
        .await
        .unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    assert_eq!(*seen.0.lock().unwrap(), ["first", "text:x", "drop"]);
}

/// Moves every call to the user named in `metadata.values.account`.
struct Account;

#[async_trait]
impl Layer for Account {
    async fn call(&self, mut request: Request, next: Next<'_>) -> litellm::Result<Response> {
        let meta = &mut request.options_mut().metadata;
        if let Some(a) = meta.values.get("account").and_then(|v| v.as_str()) {
            meta.user = Some(a.to_owned());
        }
        next.run(request).await
    }
}

#[tokio::test]
async fn budgets_see_the_request_as_the_layers_rewrote_it() {
    // Bob's budget is spent; a call for alice that a layer moves to bob is refused.
    let ledger =
        Arc::new(Ledger::new().budget(Budget::new(Scope::User("bob".into()), 0.0, Period::Daily)));
    let client = Client::builder()
        .no_env()
        .ledger(ledger)
        .layer(Account)
        .build()
        .unwrap();
    let call = |account: &str| {
        ChatRequest::new("mock/gpt-4o", vec![Message::user("Hi")]).metadata(
            Metadata::new()
                .user("alice")
                .value("account", account.to_owned()),
        )
    };
    assert!(client.chat(call("alice")).await.is_ok());
    let err = client.chat(call("bob")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded);
}

/// Appends its name to a shared log before and after the rest of the stack.
struct Named(&'static str, Arc<Mutex<Vec<String>>>);

#[async_trait]
impl Layer for Named {
    async fn call(&self, request: Request, next: Next<'_>) -> litellm::Result<Response> {
        self.1.lock().unwrap().push(format!("{}>", self.0));
        let out = next.run(request).await;
        self.1.lock().unwrap().push(format!("<{}", self.0));
        out
    }
}

#[tokio::test]
async fn layers_run_in_the_order_added_router_outside_client() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder()
        .no_env()
        .layer(Named("client", log.clone()))
        .build()
        .unwrap();
    let router = Router::builder()
        .client(client)
        .deployment(Deployment::new("m", "mock/gpt-4o"))
        .layer(Named("first", log.clone()))
        .layer(Named("second", log.clone()))
        .build()
        .unwrap();
    router
        .completion("m", vec![Message::user("Hi")])
        .await
        .unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "first>", "second>", "client>", "<client", "<second", "<first"
        ]
    );
}
