//! Regression tests for the defects found when the crate was tried as a hostile upstream, a
//! careless caller and a new user would (issue 11). Each test failed before its fix.

mod support;

use std::time::{Duration, SystemTime};

use litellm::router::Deployment;
use litellm::{ChatRequest, Client, ErrorKind, Message, Router, completion};
use serde_json::json;
use support::{FakeUpstream, Reply};

const KEY: &str = "sk-test-0123456789abcdef";

/// A client builder that sends every one of `providers` to the fake upstream, with `KEY`.
fn builder_for(server: &FakeUpstream, providers: &[&str]) -> litellm::ClientBuilder {
    providers.iter().fold(Client::builder().no_env(), |b, p| {
        b.api_key(p, KEY).api_base(p, server.url())
    })
}

/// A client for the fake upstream, as the `openai` provider, with `KEY`.
fn client(server: &FakeUpstream) -> Client {
    builder_for(server, &["openai"]).build().unwrap()
}

fn answer() -> serde_json::Value {
    json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
}

/// Item 1: a model name with multi-byte characters once panicked the price-name normaliser
/// (it cut names at byte offsets).
#[tokio::test]
async fn multibyte_model_names_are_priced_without_panic() {
    for model in [
        "mock/gpt-4o-\u{200b}mini",
        "mock/m-aéé-01-0",
        "mock/é-2024-08-0é",
        "mock/🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀",
    ] {
        let resp = completion(model, vec![Message::user("Hi")]).await.unwrap();
        assert!(resp.text().is_some(), "{model}");
    }
}

/// A 235-byte tool schema whose definition refers to itself from several properties.
fn exploding_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "$defs": {"N": {"type": "object", "properties": {
            "a": {"$ref": "#/$defs/N"}, "b": {"$ref": "#/$defs/N"},
            "c": {"$ref": "#/$defs/N"}, "d": {"$ref": "#/$defs/N"}
        }}},
        "properties": {"root": {"$ref": "#/$defs/N"}}
    })
}

/// Item 2: `$ref` expansion for Gemini/Vertex once grew exponentially (past 3 GiB for this
/// schema). It is bounded, and the call is a `BadRequest` before anything is sent.
#[tokio::test]
async fn self_referring_tool_schemas_are_a_bad_request_for_gemini() {
    use litellm::{ChatRequest, ResponseFormat, Tool};
    let schema = exploding_schema();
    assert!(schema.to_string().len() < 300);
    for model in ["gemini/gemini-2.5-flash", "vertex_ai/gemini-2.5-flash"] {
        let tool = ChatRequest::new(model, vec![Message::user("Hi")])
            .api_key("k")
            .api_base("http://127.0.0.1:1")
            .provider_param("vertex_project", "p")
            .tools(vec![Tool::function("f", "recursive", schema.clone())]);
        let err = litellm::chat(tool).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{model}: {err}");
        assert!(err.message().contains("$ref"), "{err}");
        let format = ChatRequest::new(model, vec![Message::user("Hi")])
            .api_key("k")
            .api_base("http://127.0.0.1:1")
            .provider_param("vertex_project", "p")
            .response_format(ResponseFormat::json_schema("out", schema.clone(), true));
        let err = litellm::chat(format).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{model}: {err}");
    }
}

/// Item 6: a `Retry-After` HTTP date far in the future once cooled a deployment for thousands
/// of years. It is clamped like the numeric forms (a day).
#[tokio::test]
async fn retry_after_dates_are_clamped_like_numbers() {
    let server = FakeUpstream::start().await;
    let far = "Fri, 31 Dec 9999 23:59:59 GMT";
    server.push(
        Reply::json(429, json!({"error": {"message": "slow down"}})).header("retry-after", far),
    );
    let err = client(&server)
        .completion("openai/gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(86_400)));

    // Routed: the deployment that answered so cools down for at most the clamped delay.
    server.push(
        Reply::json(429, json!({"error": {"message": "slow down"}})).header("retry-after", far),
    );
    server.set_default(Reply::json(200, answer()));
    let router = Router::builder()
        .client(client(&server))
        .deployment(Deployment::new("g", "openai/gpt-4o").id("a"))
        .deployment(Deployment::new("g", "openai/gpt-4o").id("b"))
        .num_retries(1)
        .build()
        .unwrap();
    router
        .completion("g", vec![Message::user("x")])
        .await
        .unwrap();
    let cooled: Vec<_> = router
        .health()
        .into_iter()
        .filter_map(|h| h.cooling_until)
        .collect();
    assert_eq!(cooled.len(), 1);
    assert!(
        cooled[0] <= SystemTime::now() + Duration::from_secs(86_401),
        "{:?}",
        cooled[0]
    );
}

/// Item 10: a caller dropped while waiting for a `max_parallel_requests` slot stayed in the
/// deployment's waiting count for good, so later calls that must wait for a slot avoided that
/// deployment even when it was the least loaded.
#[tokio::test]
async fn a_caller_dropped_while_waiting_for_a_slot_stops_counting() {
    use litellm::{Metadata, MockResponse};
    let deployment = |id: &str, slots: u32, ms: u64| {
        Deployment::new("g", "mock/m")
            .id(id)
            .tags([id])
            .max_parallel_requests(slots)
            .mock_response(MockResponse::text("ok").delay(Duration::from_millis(ms)))
    };
    let router = std::sync::Arc::new(
        Router::builder()
            .deployment(deployment("a", 1, 300))
            .deployment(deployment("b", 2, 600))
            .enable_tag_filtering(true)
            .build()
            .unwrap(),
    );
    let call = |tags: &[&str]| {
        let r = router.clone();
        let mut meta = Metadata::new();
        for t in tags {
            meta = meta.tag(*t);
        }
        let req = ChatRequest::new("g", vec![Message::user("x")]).metadata(meta);
        async move { r.chat(req).await }
    };
    // One call holds a's only slot; two more wait for it and are dropped while waiting.
    let holder = tokio::spawn(call(&["a"]));
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..2 {
        let waited = tokio::time::timeout(Duration::from_millis(50), call(&["a"])).await;
        assert!(waited.is_err(), "the call waits for a's slot");
    }
    holder.await.unwrap().unwrap();
    // Now a carries one call (its limit) and b two (its limit).
    let busy = [
        tokio::spawn(call(&["a"])),
        tokio::spawn(call(&["b"])),
        tokio::spawn(call(&["b"])),
    ];
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A call that may go to either waits on the less loaded one: a.
    let resp = call(&["a", "b"]).await.unwrap();
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("a"));
    for b in busy {
        b.await.unwrap().unwrap();
    }
}

/// Item 11: numbers JSON cannot carry, model ids that climb out of the base path or carry
/// control characters, and weights the YAML loader refuses are errors before anything is sent.
#[tokio::test]
async fn invalid_numbers_paths_and_weights_are_refused_before_sending() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, answer()));
    let c = client(&server);
    let req = || ChatRequest::new("openai/gpt-4o", vec![Message::user("x")]);
    for bad in [
        req().temperature(f64::NAN),
        req().top_p(f64::INFINITY),
        req().presence_penalty(f64::NEG_INFINITY),
        req().frequency_penalty(f64::NAN),
    ] {
        let err = c.chat(bad.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
        assert!(c.chat_stream(bad).await.is_err());
    }
    let text = litellm::TextCompletionRequest::new("openai/gpt-3.5-turbo-instruct", "x")
        .temperature(f64::NAN);
    assert_eq!(
        c.text_completion(text).await.unwrap_err().kind(),
        ErrorKind::BadRequest
    );
    // Control characters in a model id, for any provider.
    for model in ["openai/\0", "openai/gpt-4o\r\nx-evil: 1", "groq/a\u{7f}b"] {
        let err = c
            .completion(model, vec![Message::user("x")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{model:?}: {err}");
    }
    // Ids that go into URL paths must stay inside the configured base.
    let paths = Client::builder()
        .no_env()
        .api_key("gemini", KEY)
        .api_base("gemini", format!("{}/v1beta", server.url()))
        .api_key("azure", KEY)
        .api_base("azure", server.url())
        .api_version("azure", "2024-10-21")
        .build()
        .unwrap();
    for model in [
        "gemini/../../x",
        "gemini/models/../../../x",
        "gemini/./x",
        "azure/..",
        "azure/a%2F..%2Fb",
    ] {
        let err = paths
            .completion(model, vec![Message::user("x")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{model}: {err}");
    }
    assert_eq!(server.request_count(), 0, "nothing reached the upstream");
    // Weights and prices must be finite and not negative, as the YAML loader requires.
    for d in [
        Deployment::new("g", "mock/m").weight(-1.0),
        Deployment::new("g", "mock/m").weight(f64::NAN),
        Deployment::new("g", "mock/m").weight(f64::INFINITY),
        Deployment::new("g", "mock/m").cost_per_token(f64::NAN, 0.0),
        Deployment::new("g", "mock/m").cost_per_token(0.0, -1.0),
    ] {
        let err = Router::builder().deployment(d.clone()).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        let ok = Router::builder()
            .deployment(Deployment::new("g", "mock/ok"))
            .build()
            .unwrap();
        assert_eq!(ok.add_deployment(d).unwrap_err().kind(), ErrorKind::Config);
    }
}

/// Everything an error shows, as a caller or a log would see it.
fn shown(err: &litellm::Error) -> String {
    let d = err.details();
    format!(
        "{err} | {err:?} | {:?} {:?} {:?} {:?} {:?}",
        d.code, d.error_type, d.param, d.request_id, d.body
    )
}

/// The key with its letters written as JSON `\u` escapes, as a hostile upstream might echo it.
fn escaped_key() -> String {
    KEY.chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect()
}

/// Item 4: only `message` and `body` were scrubbed. An upstream that echoes the key in `code`,
/// `param`, `type`, the request id header or the body's `request_id`, or `\u`-escapes it in the
/// body, no longer gets it into `Display`, `Debug` or any field, for any provider and in
/// mid-stream error events.
#[tokio::test]
async fn echoed_keys_are_scrubbed_from_every_error_field() {
    let server = FakeUpstream::start().await;
    let c = builder_for(
        &server,
        &["openai", "anthropic", "gemini", "cohere", "groq"],
    )
    .api_key("vertex_ai", KEY)
    .api_base(
        "vertex_ai",
        format!("{}/v1/projects/p/locations/l", server.url()),
    )
    .build()
    .unwrap();
    let esc = escaped_key();
    let body = |shape: &str| -> String {
        let inner = format!(
            r#""message": "bad key {esc}", "type": "{KEY}", "code": "{KEY}", "param": "{KEY}", "status": "{KEY}""#
        );
        match shape {
            "anthropic" => {
                format!(r#"{{"type": "error", "error": {{{inner}}}, "request_id": "{KEY}"}}"#)
            }
            _ => format!(r#"{{"error": {{{inner}}}, "request_id": "{KEY}"}}"#),
        }
    };
    for (model, shape) in [
        ("openai/gpt-4o", "openai"),
        ("groq/llama", "openai"),
        ("anthropic/claude-sonnet-4-5", "anthropic"),
        ("gemini/gemini-2.5-flash", "openai"),
        ("vertex_ai/gemini-2.5-flash", "openai"),
        ("cohere/command-a", "openai"),
    ] {
        server.push(Reply::raw(401, "application/json", body(shape)).header("x-request-id", KEY));
        let err = c
            .completion(model, vec![Message::user("x")])
            .await
            .unwrap_err();
        let all = shown(&err);
        assert!(!all.contains(KEY), "{model}: {all}");
        assert!(!all.contains(&esc), "{model}: {all}");
        assert!(all.contains("[REDACTED]"), "{model}: {all}");
    }
    // A mid-stream error event that echoes the key.
    let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": null}]});
    server.push(
        Reply::sse(vec![
            support::sse_data(&chunk),
            format!("data: {}\n\n", body("openai")),
        ])
        .header("x-request-id", KEY),
    );
    let mut s = c
        .chat_stream(ChatRequest::new("openai/gpt-4o", vec![Message::user("x")]))
        .await
        .unwrap();
    assert!(!format!("{:?}", s.meta()).contains(KEY));
    let mut failed = None;
    while let Some(item) = futures::StreamExt::next(&mut s).await {
        if let Err(e) = item {
            failed = Some(e);
        }
    }
    let err = failed.expect("the stream fails");
    let all = shown(&err);
    assert!(!all.contains(KEY) && !all.contains(&esc), "{all}");
    // A successful answer whose request id header echoes the key.
    server.push(Reply::json(200, answer()).header("x-request-id", &format!("req-{KEY}")));
    let ok = c
        .completion("openai/gpt-4o", vec![Message::user("x")])
        .await
        .unwrap();
    assert_eq!(ok.meta.request_id.as_deref(), Some("req-[REDACTED]"));
}

/// Item 5: `Debug` of deployments, clients, builders and requests printed credential-like
/// header values, `?key=` queries of `api_base` and metadata values.
#[test]
fn debug_output_hides_credentials() {
    use litellm::Metadata;
    let secret = "s3cr3t-value-0123";
    let base =
        format!("https://user:{secret}@gw.example.com/v1?key={secret}&api-version=2024-10-21");
    let d = Deployment::new("g", "openai/gpt-4o")
        .api_key(secret)
        .api_base(base.clone())
        .header("x-api-key", secret)
        .header("Authorization", format!("Bearer {secret}"))
        .header("ocp-apim-subscription-key", secret)
        .header("x-team", "blue")
        .param("aws_secret_access_key", secret);
    let builder = || {
        Client::builder()
            .api_key("openai", secret)
            .api_base("openai", base.clone())
            .provider_header("openai", "x-goog-api-key", secret)
            .provider_header("openai", "accessKeyId", secret)
            .header("Proxy-Authorization", secret)
    };
    let req = ChatRequest::new("openai/gpt-4o", vec![Message::user("hi")])
        .api_key(secret)
        .api_base(base.clone())
        .extra_header("sessionToken", secret)
        .metadata(
            Metadata::new()
                .user("alice")
                .value("api_key", secret)
                .value(
                    "nested",
                    json!({"clientSecret": secret, "auth": format!("Basic {secret}")}),
                )
                .value("note", format!("Bearer {secret}"))
                .value("max_tokens", 5),
        );
    let shown = [
        format!("{d:?}"),
        format!("{:?}", builder()),
        format!("{:?}", builder().build().unwrap()),
        format!("{req:?}"),
        format!("{:#?}", req.options),
    ];
    for s in &shown {
        assert!(!s.contains(secret), "{s}");
    }
    // What is not secret stays visible.
    assert!(
        shown[0].contains("blue") && shown[0].contains("api-version=2024-10-21"),
        "{}",
        shown[0]
    );
    assert!(
        shown[3].contains("alice") && shown[3].contains("max_tokens"),
        "{}",
        shown[3]
    );
}

/// Item 3: comments reset the idle timer, so a stream of keep-alive comments (or events that
/// carry nothing, like Anthropic's pings) and no data never ended, whatever timeout was set.
#[tokio::test]
async fn keep_alive_comments_do_not_keep_a_dead_stream_open() {
    let server = FakeUpstream::start().await;
    let c = builder_for(&server, &["openai", "anthropic"])
        .stream_idle_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let first = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": null}]});
    let mut openai = vec![support::sse_data(&first)];
    openai.extend((0..100).map(|_| support::sse_comment("keep-alive")));
    let start = json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant",
        "model": "claude", "content": [], "usage": {"input_tokens": 1, "output_tokens": 0}}});
    let mut anthropic = vec![support::sse_event("message_start", &start)];
    anthropic.extend((0..100).map(|_| support::sse_event("ping", &json!({"type": "ping"}))));
    for (model, events) in [
        ("openai/gpt-4o", openai),
        ("anthropic/claude-sonnet-4-5", anthropic),
    ] {
        // 100 keep-alives 100 ms apart: ten seconds of a stream that says nothing.
        server.push(Reply::sse(events).gap(Duration::from_millis(100)));
        let begun = std::time::Instant::now();
        let mut s = c
            .chat_stream(ChatRequest::new(model, vec![Message::user("x")]))
            .await
            .unwrap();
        let mut last = None;
        while let Some(item) = futures::StreamExt::next(&mut s).await {
            last = Some(item);
        }
        let err = last.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{model}: {err}");
        assert!(
            begun.elapsed() < Duration::from_secs(5),
            "{model}: {:?}",
            begun.elapsed()
        );
    }
}

/// Item 3: a routed stream that keeps sending chunks is bounded by the router's `timeout`
/// (the whole call's deadline) once the caller sets one.
#[tokio::test]
async fn a_routed_stream_ends_at_the_call_deadline() {
    let server = FakeUpstream::start().await;
    let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": null}]});
    let events: Vec<String> = (0..100).map(|_| support::sse_data(&chunk)).collect();
    server.set_default(Reply::sse(events).gap(Duration::from_millis(50)));
    let router = Router::builder()
        .client(client(&server))
        .deployment(Deployment::new("g", "openai/gpt-4o"))
        .timeout(Duration::from_millis(600))
        .build()
        .unwrap();
    let begun = std::time::Instant::now();
    let mut s = router
        .chat_stream(ChatRequest::new("g", vec![Message::user("x")]))
        .await
        .unwrap();
    let (mut chunks, mut last) = (0, None);
    while let Some(item) = futures::StreamExt::next(&mut s).await {
        chunks += usize::from(item.is_ok());
        last = Some(item);
    }
    assert_eq!(last.unwrap().unwrap_err().kind(), ErrorKind::Timeout);
    assert!(chunks > 2 && chunks < 100, "{chunks}");
    assert!(
        begun.elapsed() < Duration::from_secs(3),
        "{:?}",
        begun.elapsed()
    );
    // A call's own timeout does the same on a router without one.
    let open = Router::builder()
        .client(client(&server))
        .deployment(Deployment::new("g", "openai/gpt-4o"))
        .build()
        .unwrap();
    let mut s = open
        .chat_stream(
            ChatRequest::new("g", vec![Message::user("x")]).timeout(Duration::from_millis(400)),
        )
        .await
        .unwrap();
    let mut last = None;
    while let Some(item) = futures::StreamExt::next(&mut s).await {
        last = Some(item);
    }
    assert_eq!(last.unwrap().unwrap_err().kind(), ErrorKind::Timeout);
}

/// Item 9: each call was rounded to whole micro-dollars before it was added, so the ledger
/// held 19 % less than the calls cost at $0.0000012 each, and calls under $0.0000005 were
/// free (small budgets never bound). Sums are exact now, and budget errors read as money.
#[tokio::test]
async fn tiny_costs_add_up_exactly_and_small_budgets_bind() {
    use litellm::accounting::ledger::{Budget, Dimension, Ledger, Period, Scope};
    use litellm::{Metadata, MockResponse, Usage};
    let call = |user: &str, prompt_tokens: u64| {
        // gpt-4o-mini input costs $0.15 per million tokens: 8 tokens = $0.0000012.
        ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("x")])
            .metadata(Metadata::new().user(user))
            .mock_response(MockResponse::text("ok").usage(Usage::new(prompt_tokens, 0)))
    };
    let ledger = std::sync::Arc::new(Ledger::new().budget(Budget::new(
        Scope::User("small".into()),
        0.000001,
        Period::Daily,
    )));
    let c = Client::builder().ledger(ledger.clone()).build().unwrap();
    let mut sum = 0.0;
    for _ in 0..1_000 {
        sum += c.chat(call("many", 8)).await.unwrap().meta.cost.unwrap();
    }
    let spent = ledger.totals_for(Dimension::User, "many").unwrap().spend;
    assert!((sum - 0.0012).abs() < 1e-12, "{sum}");
    assert!((spent - sum).abs() < 1e-12, "ledger {spent} vs calls {sum}");
    // $0.0000003 calls against a $0.000001 budget: the fifth is refused.
    for _ in 0..4 {
        c.chat(call("small", 2)).await.unwrap();
    }
    let err = c.chat(call("small", 2)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded);
    assert!(err.message().contains("$0.000001 per day"), "{err}");
}

fn text_chunk(text: &str) -> serde_json::Value {
    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
}

/// Item 7: `u64::MAX` tokens from a vendor were accepted; ledger and metrics totals wrapped
/// and one answer exhausted every budget. Usage past a billion tokens is an
/// `InvalidResponse`, and totals saturate.
#[tokio::test]
async fn absurd_usage_is_an_invalid_response_and_totals_saturate() {
    use litellm::accounting::ledger::{CallKeys, Dimension, Ledger};
    let server = FakeUpstream::start().await;
    let ledger = std::sync::Arc::new(Ledger::new());
    let metrics = litellm::observe::Metrics::new();
    let c = builder_for(&server, &["openai"])
        .ledger(ledger.clone())
        .metrics(metrics.clone())
        .build()
        .unwrap();
    let mut absurd = answer();
    absurd["usage"] = json!({"prompt_tokens": 18446744073709551615u64, "completion_tokens": 1, "total_tokens": 1e30});
    server.push(Reply::json(200, absurd));
    let err = c
        .completion("openai/gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    let usage_chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 5_000_000_000u64, "total_tokens": 5_000_000_001u64}});
    server.push(Reply::sse(vec![
        support::sse_data(&text_chunk("hi")),
        support::sse_data(&usage_chunk),
        support::sse_raw_data("[DONE]"),
    ]));
    let s = c
        .chat_stream(ChatRequest::new("openai/gpt-4o", vec![Message::user("x")]))
        .await
        .unwrap();
    assert_eq!(
        s.collect_response().await.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
    let totals = ledger
        .totals_for(Dimension::Model, "openai/gpt-4o")
        .unwrap();
    assert!(
        totals.input_tokens < 1_000_000 && totals.output_tokens < 1_000_000,
        "{totals:?}"
    );
    // Totals stop at their maximum instead of wrapping, whatever a caller charges.
    let keys = CallKeys::new("m");
    for _ in 0..3 {
        let adm = ledger.admit(&keys).unwrap();
        ledger.charge(&keys, adm, u64::MAX, u64::MAX, 1e300);
    }
    let t = ledger.totals_for(Dimension::Model, "m").unwrap();
    assert_eq!((t.input_tokens, t.output_tokens), (u64::MAX, u64::MAX));
    assert!(t.spend > 1e9, "{}", t.spend);
}

/// Item 8: a stream that ended without a usage chunk (the caller turned `include_usage` off,
/// dropped the stream, or the vendor failed mid-stream) was charged zero. It is charged the
/// prompt and what was delivered.
#[tokio::test]
async fn streams_without_usage_are_charged_what_they_delivered() {
    use litellm::accounting::ledger::{Dimension, Ledger};
    use litellm::{Metadata, StreamOptions};
    let server = FakeUpstream::start().await;
    let ledger = std::sync::Arc::new(Ledger::new());
    let c = builder_for(&server, &["openai"])
        .ledger(ledger.clone())
        .build()
        .unwrap();
    let words: Vec<String> = (0..20)
        .map(|i| support::sse_data(&text_chunk(&format!(" word{i}"))))
        .collect();
    let charged = |user: &str| {
        let t = ledger.totals_for(Dimension::User, user).unwrap();
        (t.input_tokens, t.output_tokens, t.spend)
    };
    let req = |user: &str| {
        ChatRequest::new("openai/gpt-4o", vec![Message::user("Count to twenty")])
            .metadata(Metadata::new().user(user))
    };
    // 1. The caller turned include_usage off: no usage chunk for it, but the call is charged.
    let mut done = words.clone();
    done.push(support::sse_raw_data("[DONE]"));
    server.push(Reply::sse(done));
    let off = req("off").stream_options(StreamOptions {
        include_usage: Some(false),
        ..Default::default()
    });
    let resp = c
        .chat_stream(off)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert!(resp.usage.is_none());
    let (i, o, spend) = charged("off");
    assert!(i > 0 && o >= 30 && spend > 0.0, "{i} {o} {spend}");
    // 2. The vendor failed mid-stream after ten chunks.
    let mut failing: Vec<String> = words[..10].to_vec();
    failing.push(support::sse_data(
        &json!({"error": {"message": "overloaded", "type": "server_error"}}),
    ));
    server.push(Reply::sse(failing));
    let err = c
        .chat_stream(req("failed"))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer, "{err}");
    let (i, o, spend) = charged("failed");
    assert!(
        i > 0 && (10..30).contains(&o) && spend > 0.0,
        "{i} {o} {spend}"
    );
    // 3. The caller dropped the stream after three chunks.
    server.push(Reply::sse(words.clone()).gap(Duration::from_millis(20)));
    let mut s = c.chat_stream(req("dropped")).await.unwrap();
    for _ in 0..3 {
        futures::StreamExt::next(&mut s).await.unwrap().unwrap();
    }
    drop(s);
    let (i, o, spend) = charged("dropped");
    assert!(
        i > 0 && (3..10).contains(&o) && spend > 0.0,
        "{i} {o} {spend}"
    );
    assert_eq!(
        ledger
            .totals_for(Dimension::User, "dropped")
            .unwrap()
            .failures,
        1
    );
}

/// Item 13: a shared response cache answered tenant B (whose key was revoked) with tenant A's
/// cached answer, because credentials are not part of the key. Calls that carry their own
/// key are scoped by it unless the cache is explicitly shared.
#[tokio::test]
async fn a_cache_does_not_answer_one_tenant_with_anothers_entry() {
    use litellm::cache::{CacheConfig, CacheScope};
    let server = FakeUpstream::start().await;
    let build = |scope: Option<CacheScope>| {
        let cache = match scope {
            Some(s) => CacheConfig::memory().scope(s),
            None => CacheConfig::memory(),
        };
        builder_for(&server, &["openai"])
            .cache(cache)
            .build()
            .unwrap()
    };
    let ask = |key: Option<&str>| {
        let req = ChatRequest::new("openai/gpt-4o", vec![Message::user("same question")]);
        match key {
            Some(k) => req.api_key(k),
            None => req,
        }
    };
    // The default: tenant A's answer is cached; tenant B (revoked) is checked by the vendor.
    let c = build(None);
    server.push(Reply::json(200, answer()));
    c.chat(ask(Some("sk-tenant-a-000000"))).await.unwrap();
    server.push(Reply::json(401, json!({"error": {"message": "revoked"}})));
    let err = c.chat(ask(Some("sk-tenant-b-000000"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    // Tenant A is still served from its own entry.
    assert!(
        c.chat(ask(Some("sk-tenant-a-000000")))
            .await
            .unwrap()
            .meta
            .cache_hit
    );
    // Calls on the client's own key share entries, as before.
    server.push(Reply::json(200, answer()));
    c.chat(ask(None)).await.unwrap();
    assert!(c.chat(ask(None)).await.unwrap().meta.cache_hit);
    assert_eq!(server.request_count(), 3);
    // An explicitly shared cache answers everyone from one entry (one trusted application).
    let shared = build(Some(CacheScope::Shared));
    server.push(Reply::json(200, answer()));
    shared.chat(ask(Some("sk-tenant-a-000000"))).await.unwrap();
    assert!(
        shared
            .chat(ask(Some("sk-tenant-b-000000")))
            .await
            .unwrap()
            .meta
            .cache_hit
    );
    // Per credential: even calls on the client's key are their own scope.
    let per = build(Some(CacheScope::PerCredential));
    server.push(Reply::json(200, answer()));
    per.chat(ask(None)).await.unwrap();
    server.push(Reply::json(200, answer()));
    assert!(
        !per.chat(ask(Some("sk-tenant-a-000000")))
            .await
            .unwrap()
            .meta
            .cache_hit
    );
}

/// Counts the calls it is told about.
struct Counting(std::sync::atomic::AtomicUsize);

#[litellm::async_trait]
impl litellm::observe::Callback for Counting {
    async fn on_success(
        &self,
        _: &litellm::observe::CallEvent,
    ) -> litellm::observe::CallbackResult {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// `Router::builder().client(c)` silently dropped the cache, ledger, callbacks and metrics set
/// on `c`. They serve the router's calls now; a part set on both is refused.
#[tokio::test]
async fn a_routers_client_keeps_its_cache_ledger_callbacks_and_metrics() {
    use litellm::accounting::ledger::{Dimension, Ledger};
    use litellm::cache::CacheConfig;
    use litellm::observe::Metrics;
    let ledger = std::sync::Arc::new(Ledger::new());
    let metrics = Metrics::new();
    let counting = std::sync::Arc::new(Counting(Default::default()));
    let client = || {
        Client::builder()
            .cache(CacheConfig::memory())
            .ledger(ledger.clone())
            .callback(counting.clone())
            .metrics(metrics.clone())
            .build()
            .unwrap()
    };
    let router = Router::builder()
        .client(client())
        .deployment(Deployment::new("g", "mock/gpt-4o-mini"))
        .build()
        .unwrap();
    let ask = || ChatRequest::new("g", vec![Message::user("Hi")]);
    assert!(!router.chat(ask()).await.unwrap().meta.cache_hit);
    assert!(router.chat(ask()).await.unwrap().meta.cache_hit);
    router.flush_callbacks().await;
    assert_eq!(counting.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        ledger.totals_for(Dimension::Model, "g").unwrap().requests,
        2
    );
    assert!(metrics.render().contains("litellm_cache_hits_total"));
    // Set on both: a Config error instead of a silent choice.
    let err = Router::builder()
        .client(client())
        .ledger(std::sync::Arc::new(Ledger::new()))
        .deployment(Deployment::new("g", "mock/gpt-4o-mini"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("ledger"), "{err}");
}
