//! The Anthropic Messages provider through the public API, against an in-process fake server.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatRequest, ChatStream, Client, ContentPart, EmbeddingRequest, ErrorKind, FinishReason,
    Message, ReasoningEffort, ResponseFormat, TextCompletionRequest, Tool, ToolCall, ToolChoice,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply, sse_event};

const MODEL: &str = "anthropic/claude-sonnet-4-5";

fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_key("anthropic", "sk-ant-test-key")
        .api_base("anthropic", server.url())
        .build()
        .unwrap()
}

fn weather() -> Tool {
    Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    )
}

fn message(content: Value, stop_reason: &str) -> Value {
    json!({"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
        "content":content,"stop_reason":stop_reason,"stop_sequence":null,
        "usage":{"input_tokens":12,"cache_creation_input_tokens":3,"cache_read_input_tokens":100,
            "output_tokens":7,"service_tier":"standard"}})
}

fn ok_text() -> Reply {
    Reply::json(
        200,
        message(json!([{"type":"text","text":"Hello!"}]), "end_turn"),
    )
    .header("request-id", "req_018")
}

fn start() -> String {
    sse_event(
        "message_start",
        &json!({"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant",
            "model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":1}}}),
    )
}

fn block_start(index: u32, block: Value) -> String {
    sse_event(
        "content_block_start",
        &json!({"type":"content_block_start","index":index,"content_block":block}),
    )
}

fn delta(index: u32, d: Value) -> String {
    sse_event(
        "content_block_delta",
        &json!({"type":"content_block_delta","index":index,"delta":d}),
    )
}

fn block_stop(index: u32) -> String {
    sse_event(
        "content_block_stop",
        &json!({"type":"content_block_stop","index":index}),
    )
}

fn message_delta(stop: &str, output: u64) -> String {
    sse_event(
        "message_delta",
        &json!({"type":"message_delta","delta":{"stop_reason":stop,"stop_sequence":null},"usage":{"output_tokens":output}}),
    )
}

fn stop() -> String {
    sse_event("message_stop", &json!({"type":"message_stop"}))
}

fn text_events() -> Vec<String> {
    vec![
        start(),
        block_start(0, json!({"type":"text","text":""})),
        "event: ping\ndata: {\"type\": \"ping\"}\n\n".to_owned(),
        delta(0, json!({"type":"text_delta","text":"Hel"})),
        delta(0, json!({"type":"text_delta","text":"lo!"})),
        block_stop(0),
        message_delta("end_turn", 6),
        stop(),
    ]
}

fn tool_events() -> Vec<String> {
    vec![
        start(),
        block_start(0, json!({"type":"text","text":""})),
        delta(0, json!({"type":"text_delta","text":"Checking both."})),
        block_stop(0),
        block_start(
            1,
            json!({"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}}),
        ),
        delta(1, json!({"type":"input_json_delta","partial_json":""})),
        delta(
            1,
            json!({"type":"input_json_delta","partial_json":"{\"city\":"}),
        ),
        delta(
            1,
            json!({"type":"input_json_delta","partial_json":" \"Paris\"}"}),
        ),
        block_stop(1),
        block_start(
            2,
            json!({"type":"tool_use","id":"toolu_b","name":"get_weather","input":{}}),
        ),
        delta(
            2,
            json!({"type":"input_json_delta","partial_json":"{\"city\": \"Rome\"}"}),
        ),
        block_stop(2),
        message_delta("tool_use", 40),
        stop(),
    ]
}

async fn drain(mut s: ChatStream) -> (Vec<litellm::ChatChunk>, Option<litellm::Error>) {
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(c) => out.push(c),
            Err(e) => {
                assert!(s.next().await.is_none(), "the stream ends after an error");
                return (out, Some(e));
            }
        }
    }
    (out, None)
}

#[tokio::test]
async fn request_url_headers_and_body_are_exactly_anthropics() {
    let server = FakeUpstream::start().await;
    server.push(ok_text());
    let req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("Be brief."),
            Message::user("Weather in Paris?"),
            Message::assistant_tool_calls(vec![ToolCall::function(
                "toolu_1",
                "get_weather",
                r#"{"city":"Paris"}"#,
            )]),
            Message::tool("toolu_1", "21C"),
            Message::user(vec![
                ContentPart::text("And this picture?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ]),
        ],
    )
    .tools(vec![weather()])
    .tool_choice(ToolChoice::Auto)
    .parallel_tool_calls(false)
    .temperature(0.2)
    .stop("END")
    .extra_header("anthropic-beta", "prompt-caching-2024-07-31")
    .provider_param("anthropic_beta", "output-128k-2025-02-19")
    .extra_body(json!({"top_k": 40}));
    let resp = client(&server).chat(req).await.unwrap();
    assert_eq!(resp.text(), Some("Hello!"));

    let r = server.last_request().unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key").as_deref(), Some("sk-ant-test-key"));
    assert_eq!(r.header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(
        r.header("anthropic-beta").as_deref(),
        Some("prompt-caching-2024-07-31,output-128k-2025-02-19")
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(r.header("authorization").is_none());
    assert_eq!(
        r.json(),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "21C"},
                    {"type": "text", "text": "And this picture?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
                ]}
            ],
            "temperature": 0.2,
            "stop_sequences": ["END"],
            "tools": [{"name": "get_weather", "description": "Weather in a city",
                "input_schema": {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "top_k": 40
        })
    );
}

#[tokio::test]
async fn chat_answer_usage_and_meta() {
    let server = FakeUpstream::start().await;
    server.push(ok_text());
    let resp = client(&server)
        .completion(MODEL, vec![Message::user("Hi")])
        .await
        .unwrap();
    assert_eq!(resp.id, "msg_01");
    assert_eq!(resp.object, "chat.completion");
    assert_eq!(resp.model, "claude-sonnet-4-5-20250929");
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    let u = resp.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (115, 7, 122)
    );
    assert_eq!(u.cached_tokens(), 100);
    assert_eq!(
        u.prompt_tokens_details.as_ref().unwrap().cache_write_tokens,
        Some(3)
    );
    assert_eq!(resp.meta.provider, "anthropic");
    assert_eq!(resp.meta.model, "claude-sonnet-4-5");
    assert_eq!(resp.meta.request_id.as_deref(), Some("req_018"));
}

#[tokio::test]
async fn credentials_from_the_environment_and_bare_claude_names() {
    let server = FakeUpstream::start().await;
    server.set_default(ok_text());
    let env: HashMap<String, String> = [
        ("ANTHROPIC_API_KEY".to_owned(), "sk-ant-env".to_owned()),
        (
            "ANTHROPIC_API_BASE".to_owned(),
            format!("{}/v1", server.url()),
        ),
    ]
    .into();
    let c = Client::builder()
        .env_lookup(move |n| env.get(n).cloned())
        .build()
        .unwrap();
    let resp = c
        .completion("claude-3-5-haiku-latest", vec![Message::user("Hi")])
        .await
        .unwrap();
    assert_eq!(resp.meta.provider, "anthropic");
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key").as_deref(), Some("sk-ant-env"));
    assert_eq!(r.json()["model"], "claude-3-5-haiku-latest");
    // api_version from the call overrides the default header
    let req = ChatRequest::new(MODEL, vec![Message::user("Hi")]).api_version("2099-01-01");
    c.chat(req).await.unwrap();
    assert_eq!(
        server
            .last_request()
            .unwrap()
            .header("anthropic-version")
            .as_deref(),
        Some("2099-01-01")
    );
}

#[tokio::test]
async fn missing_key_fails_before_any_request() {
    let server = FakeUpstream::start().await;
    let c = Client::builder()
        .no_env()
        .api_base("anthropic", server.url())
        .build()
        .unwrap();
    let e = c
        .completion(MODEL, vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(e.provider(), Some("anthropic"));
    assert_eq!(server.request_count(), 0);
    // an OAuth bearer header replaces the key
    server.push(ok_text());
    let req = ChatRequest::new(MODEL, vec![Message::user("Hi")])
        .extra_header("Authorization", "Bearer oauth-token");
    c.chat(req).await.unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer oauth-token")
    );
    assert!(r.header("x-api-key").is_none());
}

#[tokio::test]
async fn text_stream_ends_with_the_usage_chunk() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(text_events()).header("request-id", "req_s1"));
    let stream = client(&server)
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .unwrap();
    assert_eq!(stream.meta().request_id.as_deref(), Some("req_s1"));
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(server.last_request().unwrap().json()["stream"], true);
    assert_eq!(
        chunks[0].choices[0].delta.role,
        Some(litellm::Role::Assistant)
    );
    let text: String = chunks.iter().filter_map(|c| c.text()).collect();
    assert_eq!(text, "Hello!");
    let finish: Vec<_> = chunks.iter().filter_map(|c| c.finish_reason()).collect();
    assert_eq!(finish, [&FinishReason::Stop]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let u = last.usage.as_ref().unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (25, 6));
    assert_eq!(u.cached_tokens(), 5);
    assert!(chunks.iter().all(|c| c.id == "msg_s"));
}

#[tokio::test]
async fn parallel_tool_call_stream_collects_parseable_calls() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(tool_events()));
    let req = ChatRequest::new(MODEL, vec![Message::user("Weather in Paris and Rome?")])
        .tools(vec![weather()])
        .tool_choice(ToolChoice::Required);
    let resp = client(&server)
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().json()["tool_choice"],
        json!({"type":"any"})
    );
    assert_eq!(resp.text(), Some("Checking both."));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    let cities: Vec<String> = calls
        .iter()
        .map(|c| {
            c.function.parse_arguments::<Value>().unwrap()["city"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(cities, ["Paris", "Rome"]);
    assert_eq!(calls[0].id, "toolu_a");
    assert_eq!(calls[1].id, "toolu_b");
    assert_eq!(resp.usage.unwrap().completion_tokens, 40);

    // The same answer, non-streamed, has the same shape.
    server.push(Reply::json(
        200,
        message(
            json!([{"type":"text","text":"Checking both."},
                {"type":"tool_use","id":"toolu_a","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"toolu_b","name":"get_weather","input":{"city":"Rome"}}]),
            "tool_use",
        ),
    ));
    let req = ChatRequest::new(MODEL, vec![Message::user("Weather?")]).tools(vec![weather()]);
    let whole = client(&server).chat(req).await.unwrap();
    assert_eq!(whole.tool_calls().len(), 2);
    assert_eq!(
        whole.tool_calls()[1]
            .function
            .parse_arguments::<Value>()
            .unwrap(),
        json!({"city":"Rome"})
    );
    assert_eq!(whole.finish_reason(), Some(&FinishReason::ToolCalls));
}

#[tokio::test]
async fn thinking_stream_and_the_next_turn_send_the_signature_back() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        start(),
        block_start(0, json!({"type":"thinking","thinking":"","signature":""})),
        delta(
            0,
            json!({"type":"thinking_delta","thinking":"Two plus two "}),
        ),
        delta(0, json!({"type":"thinking_delta","thinking":"is four."})),
        delta(
            0,
            json!({"type":"signature_delta","signature":"EqQBCkYIBxgCKkA"}),
        ),
        block_stop(0),
        block_start(1, json!({"type":"text","text":""})),
        delta(1, json!({"type":"text_delta","text":"4"})),
        block_stop(1),
        message_delta("end_turn", 20),
        stop(),
    ]));
    let c = client(&server);
    let req = ChatRequest::new(MODEL, vec![Message::user("2+2?")])
        .reasoning_effort(ReasoningEffort::Low)
        .max_tokens(100);
    let resp = c
        .chat_stream(req.clone())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(
        sent["thinking"],
        json!({"type":"enabled","budget_tokens":1024})
    );
    assert_eq!(sent["max_tokens"], 1124);
    let answer = resp.message().unwrap().clone();
    assert_eq!(
        answer.reasoning_content.as_deref(),
        Some("Two plus two is four.")
    );
    assert_eq!(resp.text(), Some("4"));

    server.push(ok_text());
    c.chat(req.message(answer).message(Message::user("And 3+3?")))
        .await
        .unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(
        sent["messages"][1],
        json!({"role":"assistant","content":[
            {"type":"thinking","thinking":"Two plus two is four.","signature":"EqQBCkYIBxgCKkA"},
            {"type":"text","text":"4"}
        ]})
    );
}

#[tokio::test]
async fn structured_output_requests_and_answers() {
    let server = FakeUpstream::start().await;
    let schema = json!({"type":"object","properties":{"c":{"type":"string"}},"required":["c"],"additionalProperties":false});
    server.push(Reply::json(
        200,
        message(
            json!([{"type":"text","text":"{\"c\":\"red\"}"}]),
            "end_turn",
        ),
    ));
    let req = ChatRequest::new(MODEL, vec![Message::user("A colour")])
        .response_format(ResponseFormat::json_schema("colour", schema.clone(), true));
    let resp = client(&server).chat(req).await.unwrap();
    assert_eq!(resp.text(), Some(r#"{"c":"red"}"#));
    assert_eq!(
        server.last_request().unwrap().json()["output_config"],
        json!({"format":{"type":"json_schema","schema":schema}})
    );
    // json_object: the forced JSON tool, its input returned as text
    server.push(Reply::json(
        200,
        message(
            json!([{"type":"tool_use","id":"t","name":"json_tool_call","input":{"c":"blue"}}]),
            "tool_use",
        ),
    ));
    let req = ChatRequest::new(MODEL, vec![Message::user("A colour")])
        .response_format(ResponseFormat::JsonObject);
    let resp = client(&server).chat(req).await.unwrap();
    assert_eq!(resp.text(), Some(r#"{"c":"blue"}"#));
    assert!(resp.tool_calls().is_empty());
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    let sent = server.last_request().unwrap().json();
    assert_eq!(
        sent["tool_choice"],
        json!({"type":"tool","name":"json_tool_call"})
    );
}

#[tokio::test]
async fn unsupported_parameters_and_embeddings() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    let e = c
        .chat(ChatRequest::new(MODEL, vec![Message::user("Hi")]).seed(7))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("seed"));
    assert_eq!(server.request_count(), 0);
    server.push(ok_text());
    c.chat(
        ChatRequest::new(MODEL, vec![Message::user("Hi")])
            .seed(7)
            .drop_params(true),
    )
    .await
    .unwrap();
    assert!(server.last_request().unwrap().json().get("seed").is_none());

    let e = c
        .embed(EmbeddingRequest::new(MODEL, "hello"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(server.request_count(), 1);

    let e = c
        .chat(ChatRequest::new(
            MODEL,
            vec![
                Message::user("Hi"),
                Message::assistant_tool_calls(vec![ToolCall::function("c", "f", "{oops")]),
            ],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert_eq!(e.provider(), Some("anthropic"));
}

#[tokio::test]
async fn text_completion_goes_through_messages() {
    let server = FakeUpstream::start().await;
    server.push(ok_text());
    let resp = client(&server)
        .text_completion(TextCompletionRequest::new(MODEL, "Say hi").max_tokens(5))
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello!"));
    let sent = server.last_request().unwrap().json();
    assert_eq!(
        sent["messages"],
        json!([{"role":"user","content":"Say hi"}])
    );
    assert_eq!(sent["max_tokens"], 5);
}

#[tokio::test]
async fn error_classes() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    let body = |ty: &str, msg: &str| json!({"type":"error","error":{"type":ty,"message":msg},"request_id":"req_body"});
    let cases = [
        (
            400,
            body("invalid_request_error", "max_tokens: field required"),
            ErrorKind::BadRequest,
        ),
        (
            400,
            body(
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
            ),
            ErrorKind::ContextWindowExceeded,
        ),
        (
            401,
            body("authentication_error", "invalid x-api-key"),
            ErrorKind::Authentication,
        ),
        (
            402,
            body("billing_error", "Your credit balance is too low"),
            ErrorKind::PermissionDenied,
        ),
        (
            403,
            body("permission_error", "no access"),
            ErrorKind::PermissionDenied,
        ),
        (
            404,
            body("not_found_error", "model: claude-nope"),
            ErrorKind::NotFound,
        ),
        (
            413,
            body(
                "request_too_large",
                "Request exceeds the maximum allowed number of bytes",
            ),
            ErrorKind::BadRequest,
        ),
        (
            429,
            body(
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
            ),
            ErrorKind::RateLimit,
        ),
        (
            500,
            body("api_error", "Internal server error"),
            ErrorKind::InternalServer,
        ),
        (
            504,
            body("timeout_error", "Request timed out"),
            ErrorKind::ServiceUnavailable,
        ),
        (
            529,
            body("overloaded_error", "Overloaded"),
            ErrorKind::ServiceUnavailable,
        ),
    ];
    for (status, b, kind) in cases {
        server.push(Reply::json(status, b.clone()).header("retry-after", "7"));
        let e = c
            .completion(MODEL, vec![Message::user("Hi")])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{status} {b}");
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.message(), b["error"]["message"].as_str().unwrap());
        assert_eq!(
            e.details().error_type.as_deref(),
            b["error"]["type"].as_str()
        );
        assert_eq!(e.request_id(), Some("req_body"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(e.provider(), Some("anthropic"));
        assert!(!e.to_string().contains("sk-ant-test-key"));
    }
    // the header request id wins over the body's; retryable kinds
    server.push(
        Reply::json(529, body("overloaded_error", "Overloaded")).header("request-id", "req_hdr"),
    );
    let e = c
        .completion(MODEL, vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.request_id(), Some("req_hdr"));
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), None);
    // an error on a streaming request arrives before the stream
    server.push(Reply::json(429, body("rate_limit_error", "slow down")).header("retry-after", "2"));
    let e = c
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimit);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
}

#[tokio::test]
async fn mid_stream_error_event_is_typed() {
    let server = FakeUpstream::start().await;
    server.push(
        Reply::sse(vec![
            start(),
            block_start(0, json!({"type":"text","text":""})),
            delta(0, json!({"type":"text_delta","text":"Partial"})),
            "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n".to_owned(),
        ])
        .header("request-id", "req_mid"),
    );
    let stream = client(&server)
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .unwrap();
    let (chunks, err) = drain(stream).await;
    assert_eq!(
        chunks.iter().filter_map(|c| c.text()).collect::<String>(),
        "Partial"
    );
    let e = err.unwrap();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(e.message(), "Overloaded");
    assert_eq!(e.provider(), Some("anthropic"));
    assert_eq!(e.request_id(), Some("req_mid"));
}

#[tokio::test]
async fn truncated_streams_are_errors() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    // the connection drops mid-stream
    server.push(Reply::sse(text_events()).drop_after(4));
    let (chunks, err) = drain(
        c.chat_stream(ChatRequest::new(MODEL, vec![Message::user("Hi")]))
            .await
            .unwrap(),
    )
    .await;
    assert!(!chunks.is_empty());
    assert_eq!(err.unwrap().kind(), ErrorKind::ApiConnection);
    // the body ends cleanly, but without message_stop
    let mut events = text_events();
    events.pop();
    server.push(Reply::sse(events));
    let e = c
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ApiConnection);
    assert!(e.message().contains("message_stop"));
}

#[tokio::test]
async fn json_answer_to_a_streaming_request_is_replayed() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        message(
            json!([{"type":"text","text":"Whole"},{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Oslo"}}]),
            "tool_use",
        ),
    ));
    let req = ChatRequest::new(MODEL, vec![Message::user("Hi")]).tools(vec![weather()]);
    let resp = client(&server)
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Whole"));
    assert_eq!(
        resp.tool_calls()[0].function.arguments,
        r#"{"city":"Oslo"}"#
    );
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(resp.usage.unwrap().prompt_tokens, 115);
    assert_eq!(resp.meta.provider, "anthropic");
}
