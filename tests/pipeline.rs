//! The call pipeline through real `Client` and `Router` calls on the offline mock provider:
//! costs in every answer's meta, callback events with the right fields (success, failure,
//! stream, cache hit), callbacks that panic or stall without harming the call, budgets and
//! quotas that refuse calls before any upstream work, and metrics that render as valid
//! Prometheus text.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use litellm::accounting::ledger::{Budget, Dimension, Ledger, Period, Quota, Scope};
use litellm::cache::CacheConfig;
use litellm::observe::callback::CallbackResult;
use litellm::observe::{CallEvent, CallType, Callback, Hook, Metrics};
use litellm::router::{Deployment, Router};
use litellm::{
    ChatRequest, Client, EmbeddingRequest, ErrorKind, Message, Metadata, MockResponse,
    PromptTokensDetails, TextCompletionRequest, Usage,
};
use support::prometheus;
use tokio::sync::mpsc;

/// 10,000 prompt tokens of which 4,000 cached, 500 completion tokens.
fn cached_usage() -> Usage {
    let mut u = Usage::new(10_000, 500);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(4000),
        ..Default::default()
    });
    u
}

/// gpt-4o-mini's list price of `cached_usage()`: $0.15/M input, $0.075/M cached, $0.60/M output.
const GPT_4O_MINI_CACHED: f64 = 6000.0 * 0.15e-6 + 4000.0 * 0.075e-6 + 500.0 * 0.6e-6;

#[track_caller]
fn close(got: Option<f64>, want: f64) {
    let got = got.expect("a cost");
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1e-6),
        "got {got:e}, want {want:e}"
    );
}

/// A callback that sends every (hook, event) it gets into a channel.
struct Recorder(mpsc::UnboundedSender<(Hook, CallEvent)>);

impl Recorder {
    fn new() -> (Arc<Recorder>, mpsc::UnboundedReceiver<(Hook, CallEvent)>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Arc::new(Recorder(tx)), rx)
    }

    fn send(&self, hook: Hook, e: &CallEvent) -> CallbackResult {
        let _ = self.0.send((hook, e.clone()));
        Ok(())
    }
}

#[async_trait]
impl Callback for Recorder {
    async fn before_call(&self, e: &CallEvent) -> CallbackResult {
        self.send(Hook::BeforeCall, e)
    }
    async fn on_success(&self, e: &CallEvent) -> CallbackResult {
        self.send(Hook::Success, e)
    }
    async fn on_failure(&self, e: &CallEvent) -> CallbackResult {
        self.send(Hook::Failure, e)
    }
    async fn on_stream_end(&self, e: &CallEvent) -> CallbackResult {
        self.send(Hook::StreamEnd, e)
    }
}

/// The next `n` events (with a generous deadline, so a missing event fails instead of hanging).
async fn next_events(
    rx: &mut mpsc::UnboundedReceiver<(Hook, CallEvent)>,
    n: usize,
) -> Vec<(Hook, CallEvent)> {
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(x)) => out.push(x),
            _ => panic!("only {} of {n} events arrived: {out:?}", out.len()),
        }
    }
    out
}

fn client_with(cb: Arc<dyn Callback>) -> Client {
    Client::builder().no_env().callback(cb).build().unwrap()
}

#[tokio::test]
async fn every_kind_of_answer_carries_its_cost() {
    let client = Client::builder().no_env().build().unwrap();
    let resp = client
        .chat(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
                .mock_response(MockResponse::text("Hello").usage(cached_usage())),
        )
        .await
        .unwrap();
    close(resp.meta.cost, GPT_4O_MINI_CACHED);

    // A stream: the cost is in the meta once the usage chunk has passed, and in the collected
    // answer.
    let req = ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
        .mock_response(MockResponse::text("one two three").usage(cached_usage()));
    let mut stream = client.chat_stream(req.clone()).await.unwrap();
    assert_eq!(stream.meta().cost, None);
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    close(stream.meta().cost, GPT_4O_MINI_CACHED);
    let collected = client
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    close(collected.meta.cost, GPT_4O_MINI_CACHED);

    let emb = client
        .embed(EmbeddingRequest::new(
            "mock/text-embedding-3-small",
            vec!["a few words to embed".to_owned(), "and more".into()],
        ))
        .await
        .unwrap();
    assert!(emb.usage.prompt_tokens > 0);
    close(emb.meta.cost, emb.usage.prompt_tokens as f64 * 0.02e-6);

    let text = client
        .text_completion(
            TextCompletionRequest::new("mock/gpt-3.5-turbo-instruct", "Say hi")
                .mock_response(MockResponse::text("hi").usage(Usage::new(1000, 500))),
        )
        .await
        .unwrap();
    close(text.meta.cost, 1000.0 * 1.5e-6 + 500.0 * 2e-6);

    // A model without a price has no cost (never a made-up one).
    let unknown = client
        .chat(
            ChatRequest::new("mock/my-private-model", vec![Message::user("Hi")])
                .mock_response("ok"),
        )
        .await
        .unwrap();
    assert_eq!(unknown.meta.cost, None);
}

#[tokio::test]
async fn a_routed_answer_is_priced_by_its_deployment() {
    let router = Router::builder()
        .client(Client::builder().no_env().build().unwrap())
        // Its own price wins over the table's gpt-4o-mini price.
        .deployment(
            Deployment::new("fast", "mock/gpt-4o-mini")
                .id("own-price")
                .cost_per_token(1e-6, 2e-6),
        )
        .deployment(Deployment::new("table", "mock/gpt-4o-mini").id("table-price"))
        .build()
        .unwrap();
    let ask = |group: &str| {
        ChatRequest::new(group, vec![Message::user("Hi")])
            .mock_response(MockResponse::text("ok").usage(Usage::new(1000, 100)))
    };
    let own = router.chat(ask("fast")).await.unwrap();
    close(own.meta.cost, 1000.0 * 1e-6 + 100.0 * 2e-6);
    let table = router.chat(ask("table")).await.unwrap();
    close(table.meta.cost, 1000.0 * 0.15e-6 + 100.0 * 0.6e-6);
    let streamed = router
        .chat_stream(ask("fast"))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    close(streamed.meta.cost, 1000.0 * 1e-6 + 100.0 * 2e-6);
}

#[tokio::test]
async fn callback_events_of_a_success_a_failure_and_a_stream() {
    let (rec, mut rx) = Recorder::new();
    let client = client_with(rec);
    let meta = Metadata::new()
        .user("alice")
        .key("team-a")
        .tag("prod")
        .value("trace", "t-1");

    // success
    let resp = client
        .chat(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
                .metadata(meta.clone())
                .mock_response(MockResponse::text("Hello").usage(cached_usage())),
        )
        .await
        .unwrap();
    let ev = next_events(&mut rx, 2).await;
    assert_eq!(ev[0].0, Hook::BeforeCall);
    assert_eq!(ev[1].0, Hook::Success);
    let (before, done) = (&ev[0].1, &ev[1].1);
    assert_eq!(before.call_id, done.call_id);
    assert_eq!(done.call_type, CallType::Chat);
    assert_eq!(done.model, "mock/gpt-4o-mini");
    assert_eq!(done.provider.as_deref(), Some("mock"));
    assert_eq!(done.provider_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(done.usage.as_ref().map(|u| u.prompt_tokens), Some(10_000));
    close(done.cost, GPT_4O_MINI_CACHED);
    assert_eq!(done.cost, resp.meta.cost);
    assert!(done.end.is_some() && done.latency.is_some());
    assert!(done.error.is_none() && !done.cache_hit);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.metadata, meta);
    // Messages and the answer only at the detailed level.
    assert!(done.messages.is_none() && done.response.is_none());

    // failure
    let err = client
        .chat(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
                .metadata(meta.clone())
                .mock_response(MockResponse::error_with_message(
                    ErrorKind::RateLimit,
                    "slow down",
                )),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    let ev = next_events(&mut rx, 2).await;
    assert_eq!(ev[1].0, Hook::Failure);
    let failed = &ev[1].1;
    let e = failed.error.as_ref().expect("the error");
    assert_eq!(e.kind, ErrorKind::RateLimit);
    assert!(e.message.contains("slow down"), "{}", e.message);
    assert!(failed.usage.is_none() && failed.cost.is_none());
    assert_eq!(failed.metadata.user.as_deref(), Some("alice"));

    // stream: stream_end then success, with time to first token and the last chunk's usage
    let mut stream = client
        .chat_stream(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
                .mock_response(MockResponse::text("one two three").usage(cached_usage())),
        )
        .await
        .unwrap();
    while let Some(c) = stream.next().await {
        c.unwrap();
    }
    let ev = next_events(&mut rx, 3).await;
    let hooks: Vec<Hook> = ev.iter().map(|x| x.0).collect();
    assert_eq!(hooks, [Hook::BeforeCall, Hook::StreamEnd, Hook::Success]);
    let ended = &ev[1].1;
    assert_eq!(ended.call_type, CallType::ChatStream);
    assert!(ended.time_to_first_token.is_some());
    assert!(ended.time_to_first_token <= ended.latency);
    assert_eq!(ended.usage.as_ref().map(|u| u.completion_tokens), Some(500));
    close(ended.cost, GPT_4O_MINI_CACHED);

    // a stream dropped half-way ends as a failure
    let mut stream = client
        .chat_stream(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
                .mock_response(MockResponse::text("one two three four")),
        )
        .await
        .unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let ev = next_events(&mut rx, 3).await;
    assert_eq!(ev[1].0, Hook::StreamEnd);
    assert_eq!(ev[2].0, Hook::Failure);
    assert!(ev[2].1.error.is_some());
}

#[tokio::test]
async fn detailed_callbacks_carry_messages_and_the_answer() {
    let (rec, mut rx) = Recorder::new();
    let client = Client::builder()
        .no_env()
        .callback(rec)
        .detailed_callbacks(true)
        .build()
        .unwrap();
    client
        .chat(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("What is 2+2?")])
                .mock_response("4"),
        )
        .await
        .unwrap();
    let ev = next_events(&mut rx, 2).await;
    let done = &ev[1].1;
    let msgs = done.messages.as_ref().expect("messages");
    assert_eq!(msgs.len(), 1);
    let answer = done.response.as_ref().expect("the answer");
    assert_eq!(answer["choices"][0]["message"]["content"], "4");
}

#[tokio::test]
async fn a_cache_hit_is_reported_and_costs_nothing() {
    let (rec, mut rx) = Recorder::new();
    let client = Client::builder()
        .no_env()
        .cache(CacheConfig::memory())
        .callback(rec)
        .build()
        .unwrap();
    let req = ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
        .mock_response(MockResponse::text("Hello").usage(cached_usage()));
    let first = client.chat(req.clone()).await.unwrap();
    let second = client.chat(req).await.unwrap();
    assert!(!first.meta.cache_hit && second.meta.cache_hit);
    close(first.meta.cost, GPT_4O_MINI_CACHED);
    assert_eq!(second.meta.cost, Some(0.0));
    let ev = next_events(&mut rx, 4).await;
    let (miss, hit) = (&ev[1].1, &ev[3].1);
    assert!(miss.cache_checked && !miss.cache_hit);
    assert!(hit.cache_checked && hit.cache_hit);
    assert_eq!(hit.cost, Some(0.0));
    assert_eq!(ev[3].0, Hook::Success);
}

/// A callback that panics on every hook.
struct Panics;

#[async_trait]
impl Callback for Panics {
    async fn before_call(&self, _: &CallEvent) -> CallbackResult {
        panic!("before_call blew up")
    }
    async fn on_success(&self, _: &CallEvent) -> CallbackResult {
        panic!("on_success blew up")
    }
}

/// A callback that takes an hour per event.
struct Stalls(Arc<AtomicUsize>);

#[async_trait]
impl Callback for Stalls {
    async fn on_success(&self, _: &CallEvent) -> CallbackResult {
        self.0.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_or_stalled_callback_does_not_touch_the_call() {
    let started = Arc::new(AtomicUsize::new(0));
    let (rec, mut rx) = Recorder::new();
    let client = Client::builder()
        .no_env()
        .callback(Arc::new(Panics))
        .callback(Arc::new(Stalls(started.clone())))
        .callback(rec)
        .build()
        .unwrap();
    let t0 = std::time::Instant::now();
    for i in 0..50 {
        let resp = client
            .chat(
                ChatRequest::new("mock/gpt-4o-mini", vec![Message::user(format!("#{i}"))])
                    .mock_response("fine"),
            )
            .await
            .unwrap();
        assert_eq!(resp.text(), Some("fine"));
    }
    // 50 calls while one callback stalls for an hour per event: not slowed (a loose bound,
    // only there to catch a call waiting for its callbacks).
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    // The healthy callback still got every event, despite its neighbours.
    assert_eq!(next_events(&mut rx, 100).await.len(), 100);
    assert!(started.load(Ordering::SeqCst) >= 1);
}

fn budget_client(ledger: Arc<Ledger>) -> Client {
    Client::builder().no_env().ledger(ledger).build().unwrap()
}

fn priced_call(user: &str, delay: Duration) -> ChatRequest {
    // gpt-4o-mini, 100,000 prompt + 25,000 completion tokens: $0.015 + $0.015 = $0.03
    ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
        .metadata(Metadata::new().user(user))
        .mock_response(
            MockResponse::text("ok")
                .usage(Usage::new(100_000, 25_000))
                .delay(delay),
        )
}

#[tokio::test]
async fn a_budget_with_a_reserve_is_exact_under_concurrency() {
    // $0.30 a day for alice; each call holds $0.03 while it runs and costs $0.03: of 40
    // concurrent calls exactly 10 run, and the other 30 are refused before the provider.
    let ledger = Arc::new(
        Ledger::new()
            .budget(Budget::new(Scope::User("alice".into()), 0.30, Period::Daily).reserve(0.03)),
    );
    let (rec, mut rx) = Recorder::new();
    let client = Client::builder()
        .no_env()
        .ledger(ledger.clone())
        .callback(rec)
        .build()
        .unwrap();
    let calls = (0..40).map(|_| client.chat(priced_call("alice", Duration::from_millis(50))));
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok, 10);
    assert_eq!(refused.len(), 30);
    for e in &refused {
        assert_eq!(e.kind(), ErrorKind::BudgetExceeded);
        assert!(e.retry_after().is_some(), "time to the next day");
    }
    let status = &ledger.budgets_status()[0];
    assert!((status.spent - 0.30).abs() < 1e-9, "{}", status.spent);
    assert_eq!(status.remaining, 0.0);
    // Refused calls made no upstream call: only the 10 admitted ones are in the totals
    // (refusals are not requests), and other users are not affected.
    let t = ledger.totals_for(Dimension::User, "alice").unwrap();
    assert_eq!((t.requests, t.failures), (10, 0));
    assert!((t.spend - 0.30).abs() < 1e-9);
    assert!(
        client
            .chat(priced_call("bob", Duration::ZERO))
            .await
            .is_ok()
    );
    // Refusals are reported as failures with their kind (every call, refused or not, has its
    // `before_call` event too: the observe stage runs before the ledger).
    let events = next_events(&mut rx, 2 * 40).await;
    assert_eq!(
        events
            .iter()
            .filter(|(_, e)| e
                .error
                .as_ref()
                .is_some_and(|x| x.kind == ErrorKind::BudgetExceeded))
            .count(),
        30
    );
}

#[tokio::test(start_paused = true)]
async fn a_budget_starts_over_with_its_period() {
    let ledger = Arc::new(Ledger::new().budget(Budget::new(Scope::Global, 0.05, Period::Hourly)));
    let client = budget_client(ledger.clone());
    // Without a reserve, calls are admitted until the spend reaches the limit.
    client.chat(priced_call("a", Duration::ZERO)).await.unwrap();
    client.chat(priced_call("a", Duration::ZERO)).await.unwrap();
    let err = client
        .chat(priced_call("a", Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded);
    let wait = err.retry_after().unwrap();
    assert!(wait <= Duration::from_secs(3600));
    let resets = ledger.budgets_status()[0].resets_at.unwrap();
    // Just before the hour: still refused; at the hour: a fresh budget.
    tokio::time::advance(wait - Duration::from_millis(5)).await;
    assert!(client.chat(priced_call("a", Duration::ZERO)).await.is_err());
    tokio::time::advance(Duration::from_millis(10)).await;
    client.chat(priced_call("a", Duration::ZERO)).await.unwrap();
    let status = &ledger.budgets_status()[0];
    assert!((status.spent - 0.03).abs() < 1e-9, "{}", status.spent);
    assert!(status.resets_at.unwrap() >= resets + Duration::from_secs(3_600));
}

#[tokio::test(start_paused = true)]
async fn quotas_refuse_with_a_wait_and_start_over_each_minute() {
    let ledger = Arc::new(
        Ledger::new()
            .quota(Quota::new(Scope::Key("k1".into())).rpm(3))
            .quota(Quota::new(Scope::User("u".into())).tpm(250_000)),
    );
    let client = budget_client(ledger.clone());
    let call = |key: &str, user: &str| {
        ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
            .metadata(Metadata::new().key(key).user(user))
            .mock_response(MockResponse::text("ok").usage(Usage::new(100_000, 25_000)))
    };
    // rpm: 3 calls of key k1 this minute, concurrently.
    let results =
        futures::future::join_all((0..5).map(|i| client.chat(call("k1", &format!("x{i}"))))).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    let err = results.into_iter().find_map(Result::err).unwrap();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    let wait = err.retry_after().expect("a wait hint");
    assert!(wait <= Duration::from_secs(60));
    assert!(client.chat(call("k2", "x")).await.is_ok(), "other keys run");
    // tpm: user u's second call crosses 250,000 tokens; the third is refused.
    client.chat(call("k3", "u")).await.unwrap();
    client.chat(call("k3", "u")).await.unwrap();
    assert_eq!(
        client.chat(call("k3", "u")).await.unwrap_err().kind(),
        ErrorKind::RateLimit
    );
    // The next minute both start over.
    tokio::time::advance(wait).await;
    assert!(client.chat(call("k1", "x")).await.is_ok());
    assert!(client.chat(call("k3", "u")).await.is_ok());
}

#[tokio::test]
async fn a_router_refuses_over_budget_before_any_deployment_is_tried() {
    let ledger = Arc::new(Ledger::new().budget(Budget::new(
        Scope::Model("gpt".into()),
        0.0,
        Period::Lifetime,
    )));
    let router = Router::builder()
        .client(Client::builder().no_env().build().unwrap())
        .deployment(Deployment::new("gpt", "mock/gpt-4o-mini").id("d1"))
        .ledger(ledger.clone())
        .build()
        .unwrap();
    let err = router
        .completion("gpt", vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded);
    let h = router.health();
    assert_eq!(
        (h[0].successes, h[0].failures),
        (0, 0),
        "no deployment was called"
    );
}

#[tokio::test]
async fn router_metrics_render_as_valid_prometheus_text() {
    let metrics = Metrics::new();
    let ledger = Arc::new(Ledger::new().budget(Budget::new(
        Scope::Key("team-a".into()),
        10.0,
        Period::Monthly,
    )));
    let router = Router::builder()
        .client(Client::builder().no_env().build().unwrap())
        .deployment(Deployment::new("gpt", "mock/gpt-4o-mini").id("east"))
        // Two failing deployments (a group of one never cools down).
        .deployment(
            Deployment::new("broken", "mock/gpt-4o-mini")
                .id("west")
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .deployment(
            Deployment::new("broken", "mock/gpt-4o-mini")
                .id("north")
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .num_retries(0)
        .cache(CacheConfig::memory())
        .ledger(ledger)
        .metrics(metrics.clone())
        .build()
        .unwrap();
    let meta = Metadata::new().key("team-a");
    let ask = |group: &str| {
        ChatRequest::new(group, vec![Message::user("Hi")])
            .metadata(meta.clone())
            .mock_response(MockResponse::text("ok").usage(Usage::new(1000, 100)))
    };
    router.chat(ask("gpt")).await.unwrap();
    router.chat(ask("gpt")).await.unwrap(); // a cache hit
    router
        .chat_stream(ask("gpt").no_cache(true))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    // The deployments' own mocks (rate limits) answer; each cools down at its first failure,
    // so the first two calls fail on them and the third finds none left.
    let mut failed_on = Vec::new();
    for _ in 0..3 {
        let req = ChatRequest::new("broken", vec![Message::user("Hi")]).metadata(meta.clone());
        let err = router.chat(req).await.unwrap_err();
        failed_on.push((err.kind(), err.deployment().map(str::to_owned)));
    }
    failed_on[..2].sort();
    assert_eq!(
        failed_on,
        [
            (ErrorKind::RateLimit, Some("north".to_owned())),
            (ErrorKind::RateLimit, Some("west".to_owned())),
            (ErrorKind::NoDeploymentAvailable, None),
        ]
    );
    let text = metrics.render();
    let fams = prometheus::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let v = |name: &str, labels: &[(&str, &str)]| prometheus::value(&fams, name, labels);
    let east = [("model_group", "gpt"), ("deployment", "east")];
    assert_eq!(
        v(
            "litellm_requests_total",
            &[east[0], east[1], ("status", "success")]
        ),
        Some(3.0),
        "a miss, a hit (of east's answer) and a stream"
    );
    // Tokens as the answers report them (a hit reports its stored usage); spend only for the
    // two calls that reached the provider.
    assert_eq!(v("litellm_input_tokens_total", &east), Some(3000.0));
    assert_eq!(v("litellm_output_tokens_total", &east), Some(300.0));
    let spend = v("litellm_spend_usd_total", &east).unwrap();
    assert!((spend - 2.0 * (1000.0 * 0.15e-6 + 100.0 * 0.6e-6)).abs() < 1e-12);
    assert_eq!(
        v(
            "litellm_cache_hits_total",
            &[("model_group", "gpt"), ("provider", "mock")]
        )
        .or_else(|| v("litellm_cache_hits_total", &[("model_group", "gpt")])),
        Some(1.0)
    );
    for d in ["west", "north"] {
        assert_eq!(
            v(
                "litellm_request_failures_total",
                &[("deployment", d), ("error_kind", "rate_limit")]
            ),
            Some(1.0)
        );
    }
    assert_eq!(
        v(
            "litellm_request_failures_total",
            &[
                ("model_group", "broken"),
                ("error_kind", "no_deployment_available")
            ]
        ),
        Some(1.0)
    );
    assert!(v("litellm_time_to_first_token_seconds_count", &east) == Some(1.0));
    // Gauges from the router's live state: west cools down after its failures, nothing in
    // flight, and the budget's remainder.
    assert_eq!(
        v("litellm_deployment_cooldown", &[("deployment", "west")]),
        Some(1.0)
    );
    assert_eq!(
        v("litellm_deployment_cooldown", &[("deployment", "east")]),
        Some(0.0)
    );
    assert_eq!(
        v("litellm_in_flight_requests", &[("deployment", "east")]),
        Some(0.0)
    );
    let left = v("litellm_remaining_budget_usd", &[]).unwrap();
    assert!(left < 10.0 && left > 9.99, "{left}");
    // The registry does not keep the router alive.
    let weak = {
        let r = Arc::new(router);
        Arc::downgrade(&r)
    };
    assert!(weak.upgrade().is_none());
    assert!(prometheus::parse(&metrics.render()).is_ok());
}

#[tokio::test]
async fn flush_waits_for_every_event() {
    #[derive(Default)]
    struct Slow(Mutex<Vec<String>>);
    #[async_trait]
    impl Callback for Slow {
        async fn on_success(&self, e: &CallEvent) -> CallbackResult {
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.0.lock().unwrap().push(e.call_id.clone());
            Ok(())
        }
    }
    let slow = Arc::new(Slow::default());
    let client = client_with(slow.clone());
    for _ in 0..10 {
        client
            .chat(
                ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")]).mock_response("ok"),
            )
            .await
            .unwrap();
    }
    client.flush_callbacks().await;
    assert_eq!(slow.0.lock().unwrap().len(), 10);
}

/// Captures the message and fields of every `tracing` event.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<std::collections::BTreeMap<String, String>>>>);

struct Visit<'a>(&'a mut std::collections::BTreeMap<String, String>);

impl tracing::field::Visit for Visit<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").replace('"', ""),
        );
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Lines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = std::collections::BTreeMap::new();
        event.record(&mut Visit(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
}

#[tokio::test]
async fn the_very_detailed_level_logs_retries_cooldowns_and_fallbacks() {
    use tracing_subscriber::layer::SubscriberExt;
    let lines = Lines::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(lines.clone()));
    let router = Router::builder()
        .client(Client::builder().no_env().build().unwrap())
        .deployment(
            Deployment::new("gpt", "mock/gpt-4o-mini")
                .id("busy")
                .order(1)
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .deployment(
            Deployment::new("gpt", "mock/gpt-4o-mini")
                .id("spare")
                .order(2),
        )
        .deployment(
            Deployment::new("solo", "mock/gpt-4o-mini")
                .id("down")
                .mock_response(MockResponse::error(ErrorKind::ServiceUnavailable)),
        )
        .fallbacks(litellm::router::Fallbacks::new().fallback("solo", ["gpt"]))
        .num_retries(1)
        .retry_after(Duration::ZERO)
        .log_level(litellm::observe::LogLevel::VeryDetailed)
        .build()
        .unwrap();
    let resp = router
        .completion("gpt", vec![Message::user("Hi")])
        .await
        .unwrap();
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("spare"));
    router
        .completion("solo", vec![Message::user("Hi")])
        .await
        .unwrap();
    let lines = lines.0.lock().unwrap().clone();
    let find = |msg: &str| {
        lines
            .iter()
            .find(|l| l.get("message").map(String::as_str) == Some(msg))
            .unwrap_or_else(|| panic!("no '{msg}' line in {lines:#?}"))
            .clone()
    };
    let retry = find("retrying");
    assert_eq!(retry["deployment"], "busy");
    assert_eq!(retry["error_kind"], "rate_limit");
    assert!(retry["call_id"].starts_with("call-"), "{retry:?}");
    let cool = find("cooling down");
    assert_eq!(
        (cool["deployment"].as_str(), cool["reason"].as_str()),
        ("busy", "rate_limit")
    );
    let fallback = find("falling back");
    assert_eq!(
        (fallback["from"].as_str(), fallback["to"].as_str()),
        ("solo", "gpt")
    );
    // and one call line per call, with its id
    let calls: Vec<_> = lines
        .iter()
        .filter(|l| l.get("message").map(String::as_str) == Some("llm call"))
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["call_id"], retry["call_id"]);
}
