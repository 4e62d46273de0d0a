//! The router over real HTTP: deployments on separate fake servers that fail in different
//! ways, and one that works.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use litellm::router::{Deployment, Fallbacks, RetryBudget, Router, RouterBuilder};
use litellm::{ChatRequest, Client, ErrorKind, Message};
use serde_json::json;
use support::{FakeUpstream, Reply, sse_data, sse_raw_data};

fn ok_body() -> serde_json::Value {
    json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "healthy"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_deployments_are_routed_around() {
    let rate_limited = FakeUpstream::start().await;
    let broken = FakeUpstream::start().await;
    let hanging = FakeUpstream::start().await;
    let dropping = FakeUpstream::start().await;
    let healthy = FakeUpstream::start().await;
    rate_limited.set_default(
        Reply::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
            .header("retry-after", "60"),
    );
    broken.set_default(Reply::json(
        500,
        json!({"error": {"message": "boom", "type": "server_error"}}),
    ));
    hanging.set_default(Reply::json(200, ok_body()).delay(Duration::from_secs(30)));
    dropping.set_default(Reply::hang_up());
    healthy.set_default(Reply::json(200, ok_body()));

    let dep = |id: &str, server: &FakeUpstream| {
        Deployment::new("gpt-4o", "openai/gpt-4o")
            .id(id)
            .api_base(format!("{}/v1", server.url()))
            .api_key("sk-test")
            .timeout(Duration::from_millis(300))
    };
    let client = Client::builder().no_env().build().unwrap();
    let router = Router::builder()
        .client(client)
        .deployments([
            dep("rate-limited", &rate_limited),
            dep("broken", &broken),
            dep("hanging", &hanging),
            dep("dropping", &dropping),
            dep("healthy", &healthy),
        ])
        .num_retries(4)
        .retry_after(Duration::ZERO)
        .allowed_fails(0)
        .cooldown_time(Duration::from_secs(60))
        .seed(11)
        .build()
        .unwrap();

    let mut answered = 0;
    for _ in 0..40 {
        let resp = router
            .completion("gpt-4o", vec![Message::user("hi")])
            .await
            .unwrap();
        assert_eq!(resp.text(), Some("healthy"));
        assert_eq!(resp.meta.deployment_id.as_deref(), Some("healthy"));
        answered += 1;
    }
    assert_eq!(answered, 40);

    // every failing deployment was tried at most once, then cooled down
    let health = router.health();
    for id in ["rate-limited", "broken", "hanging", "dropping"] {
        let h = health.iter().find(|h| h.id == id).unwrap();
        if h.failures > 0 {
            assert!(h.cooling_until.is_some(), "{id} should cool down: {h:?}");
            assert_eq!((h.successes, h.failures), (0, 1), "{id}");
        }
    }
    let healthy_h = health.iter().find(|h| h.id == "healthy").unwrap();
    assert_eq!(healthy_h.successes, 40);
    assert_eq!(healthy_h.tokens_this_minute, 200);
    assert!(health.iter().all(|h| h.in_flight == 0));
    // nothing lost: every request the servers saw is accounted for
    let seen = rate_limited.request_count()
        + broken.request_count()
        + hanging.request_count()
        + dropping.request_count();
    let failures: u64 = health.iter().map(|h| h.failures).sum();
    assert_eq!(seen as u64, failures);
    assert_eq!(healthy.request_count(), 40);

    // streaming goes to the healthy one too
    healthy.push(Reply::sse(vec![
        sse_data(&json!({"id": "s", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "streamed"}, "finish_reason": null}]})),
        sse_data(&json!({"id": "s", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})),
        sse_raw_data("[DONE]"),
    ]));
    let mut s = router
        .chat_stream(ChatRequest::new("gpt-4o", vec![Message::user("hi")]))
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(c) = s.next().await {
        text.push_str(c.unwrap().text().unwrap_or_default());
    }
    assert_eq!(text, "streamed");
    let h = router
        .health()
        .into_iter()
        .find(|h| h.id == "healthy")
        .unwrap();
    assert_eq!(h.successes, 41);
    assert!(h.time_to_first_token.is_some());
}

fn server_error() -> Reply {
    Reply::json(
        500,
        json!({"error": {"message": "boom", "type": "server_error"}}),
    )
}

/// Three groups of two deployments on one upstream, chained by fallbacks (`g1` → `g2` → `g3`),
/// plus a group `ok` on another: one retry per group (to the other deployment, no backoff) and
/// no cooldowns, so a failing call makes 2 attempts in each group.
fn chained(failing: &FakeUpstream, healthy: &FakeUpstream) -> RouterBuilder {
    let dep = |group: &str, id: &str, server: &FakeUpstream| {
        Deployment::new(group, "openai/gpt-4o")
            .id(id)
            .api_base(format!("{}/v1", server.url()))
            .api_key("sk-test")
    };
    Router::builder()
        .client(Client::builder().no_env().build().unwrap())
        .deployments([
            dep("g1", "g1-a", failing),
            dep("g1", "g1-b", failing),
            dep("g2", "g2-a", failing),
            dep("g2", "g2-b", failing),
            dep("g3", "g3-a", failing),
            dep("g3", "g3-b", failing),
            dep("ok", "ok-a", healthy),
            dep("ok", "ok-b", healthy),
        ])
        .fallbacks(
            Fallbacks::new()
                .fallback("g1", ["g2"])
                .fallback("g2", ["g3"]),
        )
        .num_retries(1)
        .disable_cooldowns(true)
        .seed(3)
}

fn hi(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_budget_caps_upstream_calls_across_fallback_groups() {
    let failing = FakeUpstream::start().await;
    let healthy = FakeUpstream::start().await;
    failing.set_default(server_error());
    healthy.set_default(Reply::json(200, ok_body()));

    // Without a budget: 2 attempts in each of the 3 groups.
    let router = chained(&failing, &healthy).build().unwrap();
    let err = router.chat(hi("g1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(err.message().contains("after 6 attempts"), "{err}");
    assert_eq!(failing.request_count(), 6);

    // A budget with no floor, one retry per success: three successes earn three retries, so
    // the failing call makes its first attempt and three retries, then stops.
    let budget = Arc::new(RetryBudget::new(Duration::from_secs(60), 0, 1.0).unwrap());
    let router = chained(&failing, &healthy)
        .retry_budget(budget.clone())
        .build()
        .unwrap();
    for _ in 0..3 {
        router.chat(hi("ok")).await.unwrap();
    }
    assert_eq!(budget.balance(), 3);
    let err = router.chat(hi("g1")).await.unwrap_err();
    assert_eq!(failing.request_count(), 6 + 4);
    assert_eq!(
        err.kind(),
        ErrorKind::InternalServer,
        "the last failure's kind"
    );
    assert!(err.message().contains("retry budget is exhausted"), "{err}");
    assert!(err.message().contains("after 4 attempts"), "{err}");
    assert_eq!(budget.balance(), 0);

    // A cap on attempts per call, without a budget.
    let router = chained(&failing, &healthy)
        .max_attempts_per_call(3)
        .build()
        .unwrap();
    let err = router.chat(hi("g1")).await.unwrap_err();
    assert_eq!(failing.request_count(), 10 + 3);
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(err.message().contains("max_attempts_per_call (3)"), "{err}");
    let err = chained(&failing, &healthy)
        .max_attempts_per_call(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_budget_is_shared_across_calls_and_routers() {
    let failing = FakeUpstream::start().await;
    let healthy = FakeUpstream::start().await;
    healthy.set_default(Reply::json(200, ok_body()));
    // One retry per two successes, no floor, shared by two routers.
    let budget = Arc::new(RetryBudget::new(Duration::from_secs(60), 0, 0.5).unwrap());
    let router = chained(&failing, &healthy)
        .retry_budget(budget.clone())
        .build()
        .unwrap();
    let other = chained(&failing, &healthy)
        .retry_budget(budget.clone())
        .build()
        .unwrap();
    assert!(Arc::ptr_eq(router.retry_budget().unwrap(), &budget));

    // Four successes (the first attempt of each succeeds): two retries earned.
    failing.set_default(Reply::json(200, ok_body()));
    for _ in 0..4 {
        let r = router.chat(hi("g1")).await.unwrap();
        assert_eq!(r.meta.attempts, 1);
    }
    assert_eq!(budget.balance(), 2);

    // Failures drain it: the first failing call retries twice (its group, then a fallback).
    failing.set_default(server_error());
    let before = failing.request_count();
    let err = router.chat(hi("g1")).await.unwrap_err();
    assert_eq!(failing.request_count() - before, 3, "{err}");
    assert!(err.message().contains("retry budget is exhausted"), "{err}");
    assert_eq!(budget.balance(), 0);
    // The next calls, on either router, make one attempt only.
    for r in [&router, &other, &router] {
        let before = failing.request_count();
        let err = r.chat(hi("g1")).await.unwrap_err();
        assert_eq!(failing.request_count() - before, 1, "{err}");
        assert_eq!(err.kind(), ErrorKind::InternalServer);
        assert!(err.message().contains("retry budget is exhausted"), "{err}");
    }

    // Successes on the other router refill it: two earn one retry.
    for _ in 0..2 {
        other.chat(hi("ok")).await.unwrap();
    }
    assert_eq!(budget.balance(), 1);
    let before = failing.request_count();
    router.chat(hi("g1")).await.unwrap_err();
    assert_eq!(failing.request_count() - before, 2);
    // A call that succeeds after a retry deposits too.
    failing.push(server_error());
    failing.set_default(Reply::json(200, ok_body()));
    for _ in 0..4 {
        router.chat(hi("ok")).await.unwrap();
    }
    let r = router.chat(hi("g1")).await.unwrap();
    assert_eq!(r.meta.attempts, 2);
    assert_eq!(budget.balance(), 1, "4 × 0.5 earned, 1 spent, 0.5 earned");
}
