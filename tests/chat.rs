//! Chat completions through the public API against an in-process fake OpenAI server.

mod support;

use std::time::Duration;

use litellm::{
    ChatRequest, Client, ContentPart, ErrorKind, FinishReason, Message, ReasoningEffort,
    ResponseFormat, Role, StreamOptions, Tool, ToolCall, ToolChoice,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply};

fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_key("openai", "sk-test-key-123")
        .api_base("openai", format!("{}/v1", server.url()))
        .build()
        .unwrap()
}

fn completion_body(text: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1770933883,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 16, "completion_tokens": 4, "total_tokens": 20,
            "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_1"
    })
}

#[tokio::test]
async fn minimal_request_is_exactly_what_was_set() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, completion_body("Hi there")).header("x-request-id", "req_abc"));
    let resp = client(&server)
        .completion("openai/gpt-4o-mini", vec![Message::user("Hi")])
        .await
        .unwrap();

    let req = server.last_request().unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization").as_deref(),
        Some("Bearer sk-test-key-123")
    );
    assert_eq!(
        req.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        req.json(),
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
    );

    assert_eq!(resp.text(), Some("Hi there"));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(resp.id, "chatcmpl-1");
    assert_eq!(resp.system_fingerprint.as_deref(), Some("fp_1"));
    let usage = resp.usage.as_ref().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (16, 4, 20)
    );
    assert_eq!(usage.cached_tokens(), 8);
    assert_eq!(usage.reasoning_tokens(), 2);
    assert_eq!(resp.meta.provider, "openai");
    assert_eq!(resp.meta.model, "gpt-4o-mini");
    assert_eq!(resp.meta.attempts, 1);
    assert_eq!(resp.meta.request_id.as_deref(), Some("req_abc"));
    assert!(resp.meta.latency > Duration::ZERO);
    // unknown response fields are kept, not an error
    assert!(resp.choices[0].message.extra.contains_key("annotations"));
    // meta is not part of the OpenAI body
    let body = serde_json::to_value(&resp).unwrap();
    assert!(body.get("meta").is_none());
    assert_eq!(body["choices"][0]["message"]["content"], "Hi there");
}

#[tokio::test]
async fn every_parameter_round_trips_into_the_body() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, completion_body("ok")));
    let schema = json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false});
    let mut req = ChatRequest::new(
        "openai/gpt-4o",
        vec![
            Message::developer("Be terse."),
            Message::system("You are helpful."),
            Message::user(vec![
                ContentPart::text("What is in this image?"),
                ContentPart::image_url("https://example.com/cat.png"),
                ContentPart::input_audio("UklGRg==", "wav"),
            ])
            .with_name("alice"),
            Message::assistant_tool_calls(vec![ToolCall::function(
                "call_1",
                "get_weather",
                r#"{"city":"Paris"}"#,
            )]),
            Message::tool("call_1", r#"{"temp":21}"#),
        ],
    )
    .temperature(0.7)
    .top_p(0.9)
    .n(2)
    .stop(["END", "STOP"])
    .max_tokens(100)
    .max_completion_tokens(200)
    .presence_penalty(0.5)
    .frequency_penalty(-0.5)
    .logprobs(true)
    .top_logprobs(3)
    .user("user-42")
    .seed(1234)
    .tools(vec![
        Tool::function("get_weather", "Weather in a city", schema.clone()).strict(true),
    ])
    .tool_choice(ToolChoice::function("get_weather"))
    .parallel_tool_calls(false)
    .response_format(ResponseFormat::json_schema("Weather", schema.clone(), true))
    .reasoning_effort(ReasoningEffort::Low)
    .modalities(vec!["text".to_owned()])
    .audio(json!({"voice": "alloy", "format": "wav"}))
    .prediction(json!({"type": "content", "content": "x"}))
    .service_tier("flex")
    .store(true)
    .safety_identifier("hash-1")
    .prompt_cache_key("pck")
    .prompt_cache_retention("24h")
    .verbosity("low")
    .web_search_options(json!({"search_context_size": "low"}))
    .extra_body(json!({"top_k": 5}))
    // call options: never in the body
    .timeout(Duration::from_secs(30))
    .extra_header("x-trace", "t-1")
    .metadata(litellm::Metadata::new().user("u").tag("team-a"));
    req.logit_bias = Some(serde_json::Map::from_iter([(
        "50256".to_owned(),
        json!(-100),
    )]));
    req.store_metadata = Some(serde_json::Map::from_iter([(
        "purpose".to_owned(),
        json!("test"),
    )]));
    client(&server).chat(req).await.unwrap();

    let sent = server.last_request().unwrap();
    assert_eq!(sent.header("x-trace").as_deref(), Some("t-1"));
    assert_eq!(
        sent.json(),
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "developer", "content": "Be terse."},
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "name": "alice", "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
                ]},
                {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"}
            ],
            "temperature": 0.7,
            "top_p": 0.9,
            "n": 2,
            "stop": ["END", "STOP"],
            "max_tokens": 100,
            "max_completion_tokens": 200,
            "presence_penalty": 0.5,
            "frequency_penalty": -0.5,
            "logit_bias": {"50256": -100},
            "logprobs": true,
            "top_logprobs": 3,
            "user": "user-42",
            "seed": 1234,
            "tools": [{"type": "function", "function": {"name": "get_weather",
                "description": "Weather in a city", "parameters": schema, "strict": true}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "Weather", "schema": schema, "strict": true}},
            "reasoning_effort": "low",
            "modalities": ["text"],
            "audio": {"voice": "alloy", "format": "wav"},
            "prediction": {"type": "content", "content": "x"},
            "service_tier": "flex",
            "store": true,
            "metadata": {"purpose": "test"},
            "safety_identifier": "hash-1",
            "prompt_cache_key": "pck",
            "prompt_cache_retention": "24h",
            "verbosity": "low",
            "web_search_options": {"search_context_size": "low"},
            "top_k": 5
        })
    );
}

#[tokio::test]
async fn tool_choice_and_response_format_variants() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    let cases = [
        (ToolChoice::Auto, json!("auto")),
        (ToolChoice::None, json!("none")),
        (ToolChoice::Required, json!("required")),
    ];
    for (tc, expected) in cases {
        server.push(Reply::json(200, completion_body("ok")));
        let req = ChatRequest::new("openai/gpt-4o", vec![Message::user("x")])
            .tools(vec![Tool::function("f", "d", json!({"type": "object"}))])
            .tool_choice(tc)
            .response_format(ResponseFormat::JsonObject);
        c.chat(req).await.unwrap();
        let body = server.last_request().unwrap().json();
        assert_eq!(body["tool_choice"], expected);
        assert_eq!(body["response_format"], json!({"type": "json_object"}));
    }
    server.push(Reply::json(200, completion_body("ok")));
    c.chat(
        ChatRequest::new("gpt-4o", vec![Message::user("x")]).response_format(ResponseFormat::Text),
    )
    .await
    .unwrap();
    assert_eq!(
        server.last_request().unwrap().json()["response_format"],
        json!({"type": "text"})
    );
}

#[tokio::test]
async fn tool_calls_and_refusal_in_the_response() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({
            "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1699896916, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\": \"Boston, MA\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
            ]}, "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}
        }),
    ));
    let resp = client(&server)
        .completion("gpt-4o-mini", vec![Message::user("weather?")])
        .await
        .unwrap();
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].function.name, "get_weather");
    let args: Value = calls[0].function.parse_arguments().unwrap();
    assert_eq!(args["location"], "Boston, MA");
    assert_eq!(resp.text(), None);

    // The answer can go straight back into the history.
    let mut history = vec![Message::user("weather?")];
    history.push(resp.message().unwrap().clone());
    history.push(Message::tool("call_a", "sunny"));
    server.push(Reply::json(200, completion_body("It is sunny.")));
    client(&server)
        .completion("gpt-4o-mini", history)
        .await
        .unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["messages"][1]["tool_calls"][1]["id"], "call_b");
    assert!(sent["messages"][1].get("content").is_none());

    server.push(Reply::json(
        200,
        json!({"id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."},
                "finish_reason": "stop"}]}),
    ));
    let resp = client(&server)
        .completion("gpt-4o-mini", vec![Message::user("?")])
        .await
        .unwrap();
    assert_eq!(
        resp.message().unwrap().refusal.as_deref(),
        Some("I can't help with that.")
    );
    // No usage from the vendor: counted with the tokenizer, and said so.
    assert!(resp.meta.usage_estimated);
    assert!(resp.usage.is_some_and(|u| u.prompt_tokens > 0));
}

#[tokio::test]
async fn tolerant_decoding_of_odd_but_valid_answers() {
    let server = FakeUpstream::start().await;
    // nulls, extreme numbers, unknown enum values and fields, reasoning under another name,
    // a finish reason vendors use instead of OpenAI's
    server.push(Reply::json(
        200,
        json!({
            "id": null, "object": "chat.completion", "created": -2147483648, "model": null,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "reasoning": "thought"},
                "finish_reason": "eos", "extra_field": 1}],
            "usage": {"prompt_tokens": -5, "completion_tokens": 7.9, "total_tokens": null},
            "citations": ["https://a"], "x_vendor": {"k": "v"}
        }),
    ));
    let resp = client(&server)
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap();
    assert_eq!(resp.id, "");
    assert_eq!(resp.created, -2147483648);
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(
        resp.choices[0].message.reasoning_content.as_deref(),
        Some("thought")
    );
    let u = resp.usage.as_ref().unwrap();
    // Negative counts are 0, fractions truncate, a missing total is the sum. (Counts past
    // `Usage::MAX_TOKENS` are an `InvalidResponse`: see tests/hardening.rs.)
    assert_eq!(u.prompt_tokens, 0);
    assert_eq!(u.completion_tokens, 7);
    assert_eq!(u.total_tokens, 7);
    assert!(resp.extra.contains_key("citations"));

    server.push(Reply::json(
        200,
        json!({"id": "x", "choices": [{"index": 0, "message": {"role": "critic", "content": "x"}, "finish_reason": "brand_new"}]}),
    ));
    let resp = client(&server)
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap();
    assert_eq!(resp.choices[0].message.role, Role::Other("critic".into()));
    assert_eq!(
        resp.finish_reason(),
        Some(&FinishReason::Other("brand_new".into()))
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_invalid_response() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    server.push(Reply::raw(
        200,
        "application/json",
        "{\"id\": \"x\", \"choices\": [ {",
    ));
    let err = c
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("could not decode"), "{err}");

    server.push(Reply::raw(200, "text/html", "<html>hello</html>"));
    let err = c
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);

    // wrong types where structure is expected
    server.push(Reply::json(200, json!({"choices": "not a list"})));
    let err = c
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);

    let small = Client::builder()
        .no_env()
        .api_key("openai", "k")
        .api_base("openai", server.url())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    server.push(Reply::json(200, completion_body(&"x".repeat(5000))));
    let err = small
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("larger than the limit"), "{err}");
}

#[tokio::test]
async fn a_200_carrying_an_error_object_is_that_error() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"error": {"message": "upstream overloaded", "type": "overloaded_error"}}),
    ));
    let err = client(&server)
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(err.message(), "upstream overloaded");
}

#[tokio::test]
async fn timeout_and_connection_failures() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, completion_body("late")).delay(Duration::from_secs(5)));
    let err = client(&server)
        .chat(
            ChatRequest::new("gpt-4o", vec![Message::user("x")])
                .timeout(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert_eq!(err.provider(), Some("openai"));

    server.push(Reply::hang_up());
    let err = client(&server)
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);

    // nothing listens on this port
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = client(&server)
        .chat(
            ChatRequest::new("gpt-4o", vec![Message::user("x")])
                .api_base(format!("http://127.0.0.1:{closed}")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);
    assert!(!err.to_string().contains("sk-test-key-123"));
}

#[tokio::test]
async fn num_retries_retries_retryable_failures_only() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    server.push(Reply::json(429, json!({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}))
        .header("retry-after-ms", "10"));
    server.push(
        Reply::json(503, json!({"error": {"message": "unavailable"}})).header("retry-after", "0"),
    );
    server.push(Reply::json(200, completion_body("third time")));
    let resp = c
        .chat(ChatRequest::new("gpt-4o", vec![Message::user("x")]).num_retries(2))
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("third time"));
    assert_eq!(resp.meta.attempts, 3);
    assert_eq!(server.request_count(), 3);

    // 400 is never retried
    server.push(Reply::json(400, json!({"error": {"message": "bad"}})));
    let err = c
        .chat(ChatRequest::new("gpt-4o", vec![Message::user("x")]).num_retries(3))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(server.request_count(), 4);

    // without num_retries the client does not retry (the router owns retries)
    server.push(Reply::json(500, json!({"error": {"message": "boom"}})));
    let err = c
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert_eq!(server.request_count(), 5);
}

#[tokio::test]
async fn call_options_override_client_settings() {
    let server = FakeUpstream::start().await;
    let other = FakeUpstream::start().await;
    other.push(Reply::json(200, completion_body("from other")));
    let resp = client(&server)
        .chat(
            ChatRequest::new("openai/gpt-4o", vec![Message::user("x")])
                .api_key("sk-call-key")
                .api_base(other.url()),
        )
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("from other"));
    let sent = other.last_request().unwrap();
    assert_eq!(sent.path, "/chat/completions");
    assert_eq!(
        sent.header("authorization").as_deref(),
        Some("Bearer sk-call-key")
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn stream_options_are_not_sent_on_plain_calls() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, completion_body("ok")));
    client(&server)
        .chat(
            ChatRequest::new("gpt-4o", vec![Message::user("x")])
                .stream(true)
                .stream_options(StreamOptions {
                    include_usage: Some(true),
                    ..Default::default()
                }),
        )
        .await
        .unwrap();
    let body = server.last_request().unwrap().json();
    assert!(body.get("stream").is_none());
    assert!(body.get("stream_options").is_none());
}

#[tokio::test]
async fn a_200_that_is_not_an_answer_is_never_success() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    for (body, kind) in [
        (json!({}), ErrorKind::InvalidResponse),
        (
            json!({"id": "x", "object": "chat.completion"}),
            ErrorKind::InvalidResponse,
        ),
        (
            json!({"object": "error", "message": "upstream exploded", "type": "internal_error", "code": "1000"}),
            ErrorKind::InternalServer,
        ),
        (json!({"detail": "Not Found"}), ErrorKind::BadRequest),
    ] {
        server.push(Reply::json(200, body.clone()));
        let err = c
            .completion("gpt-4o", vec![Message::user("x")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{body}");
    }
    // an explicit empty list of choices is an answer
    server.push(Reply::json(
        200,
        json!({"id": "x", "object": "chat.completion", "choices": []}),
    ));
    assert!(
        c.completion("gpt-4o", vec![Message::user("x")])
            .await
            .unwrap()
            .choices
            .is_empty()
    );
}
