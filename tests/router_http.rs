//! The router over real HTTP: deployments on separate fake servers that fail in different
//! ways, and one that works.

mod support;

use std::time::Duration;

use futures::StreamExt;
use litellm::router::{Deployment, Router};
use litellm::{ChatRequest, Client, Message};
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
