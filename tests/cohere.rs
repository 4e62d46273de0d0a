//! Cohere v2 through the public API against an in-process fake server: request bodies, chat,
//! streams (text, parallel tool calls), embeddings, every error class, mid-stream errors and
//! truncated streams.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatChunk, ChatRequest, ChatStream, Client, ContentPart, EmbeddingRequest, ErrorKind,
    FinishReason, Message, ResponseFormat, Tool, ToolCall, ToolChoice,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply, sse_event, sse_raw_data};

const MODEL: &str = "cohere/command-a-03-2025";

fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_key("cohere", "co-secret-key")
        .api_base("cohere", server.url())
        .build()
        .unwrap()
}

fn weather() -> Tool {
    Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

fn text_answer() -> Value {
    json!({
        "id": "e7592632", "finish_reason": "COMPLETE",
        "message": {"role": "assistant", "content": [{"type": "text", "text": "The capital of France is Paris."}]},
        "usage": {"billed_units": {"input_tokens": 12, "output_tokens": 7},
            "tokens": {"input_tokens": 507, "output_tokens": 10}, "cached_tokens": 448}
    })
}

async fn drain(mut s: ChatStream) -> (Vec<ChatChunk>, Option<litellm::Error>) {
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
async fn chat_request_is_translated_and_answer_decoded() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer()).header("x-request-id", "req-co-1"));
    let req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("Be brief."),
            Message::user(vec![
                ContentPart::text("Capital of France?"),
                ContentPart::image_url("https://example.com/map.png"),
            ]),
        ],
    )
    .temperature(0.2)
    .top_p(0.9)
    .max_tokens(50)
    .stop(["\n\n"])
    .seed(3)
    .response_format(ResponseFormat::JsonObject);
    let resp = client(&server).chat(req).await.unwrap();

    let r = server.last_request().unwrap();
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v2/chat"));
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer co-secret-key")
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        r.json(),
        json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "Capital of France?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/map.png"}}
                ]}
            ],
            "response_format": {"type": "json_object"},
            "max_tokens": 50,
            "stop_sequences": ["\n\n"],
            "temperature": 0.2,
            "p": 0.9,
            "seed": 3
        })
    );

    assert_eq!(resp.text(), Some("The capital of France is Paris."));
    assert_eq!(resp.id, "e7592632");
    assert_eq!(resp.object, "chat.completion");
    assert_eq!(resp.model, "command-a-03-2025");
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    let u = resp.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (507, 10, 517)
    );
    assert_eq!(u.cached_tokens(), 448);
    assert_eq!(resp.meta.provider, "cohere");
    assert_eq!(resp.meta.request_id.as_deref(), Some("req-co-1"));
}

#[tokio::test]
async fn chat_with_parallel_tool_calls_and_history() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({
            "id": "f201", "finish_reason": "TOOL_CALL",
            "message": {"role": "assistant", "tool_plan": "I will check both cities.",
                "tool_calls": [
                    {"id": "w_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "w_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
                ]},
            "usage": {"tokens": {"input_tokens": 119, "output_tokens": 52}}
        }),
    ));
    server.push(Reply::json(200, text_answer()));
    let c = client(&server);
    let req = ChatRequest::new(MODEL, vec![Message::user("Weather in Paris and Rome?")])
        .tools(vec![weather()])
        .tool_choice(ToolChoice::Required);
    let resp = c.chat(req.clone()).await.unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["tool_choice"], "REQUIRED");
    assert_eq!(
        sent["tools"][0],
        json!({"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    );
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    let args: Value = calls[1].function.parse_arguments().unwrap();
    assert_eq!(args["city"], "Rome");
    assert_eq!(
        resp.message().unwrap().reasoning_content.as_deref(),
        Some("I will check both cities.")
    );

    // the answer and the tool results go back as Cohere history
    let mut next = req.message(resp.message().unwrap().clone());
    next = next
        .message(Message::tool("w_1", "18 °C"))
        .message(Message::tool("w_2", "24 °C"));
    c.chat(next).await.unwrap();
    let sent = server.last_request().unwrap().json();
    let msgs = sent["messages"].as_array().unwrap();
    assert_eq!(
        msgs[1],
        json!({"role": "assistant", "tool_plan": "I will check both cities.", "tool_calls": [
            {"id": "w_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "w_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
        ]})
    );
    assert_eq!(
        msgs[3],
        json!({"role": "tool", "tool_call_id": "w_2", "content": "24 °C"})
    );
}

#[tokio::test]
async fn unsupported_parameters_fail_before_sending_unless_dropped() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, text_answer()));
    let c = client(&server);
    let req = ChatRequest::new(MODEL, vec![Message::user("hi")])
        .logit_bias(serde_json::Map::from_iter([("1".to_owned(), json!(2))]));
    let err = c.chat(req.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("logit_bias"));
    assert_eq!(server.request_count(), 0);
    c.chat(req.drop_params(true)).await.unwrap();
    assert!(
        server
            .last_request()
            .unwrap()
            .json()
            .get("logit_bias")
            .is_none()
    );
}

fn text_events() -> Vec<String> {
    vec![
        sse_event(
            "message-start",
            &json!({"id": "s1", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        ),
        sse_event(
            "content-start",
            &json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ),
        sse_event(
            "content-delta",
            &json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hel"}}}}),
        ),
        sse_event(
            "content-delta",
            &json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "lo!"}}}}),
        ),
        sse_event("content-end", &json!({"type": "content-end", "index": 0})),
        sse_event(
            "message-end",
            &json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE",
                "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 2}, "tokens": {"input_tokens": 70, "output_tokens": 2}, "cached_tokens": 64}}}),
        ),
        sse_raw_data("[DONE]"),
    ]
}

#[tokio::test]
async fn stream_with_text_ends_with_usage() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(text_events()));
    let req = ChatRequest::new(MODEL, vec![Message::user("Say hello")]);
    let stream = client(&server).chat_stream(req).await.unwrap();
    let sent = server.last_request().unwrap();
    assert_eq!(sent.json()["stream"], true);
    assert_eq!(
        sent.header("authorization").as_deref(),
        Some("Bearer co-secret-key")
    );
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none(), "{err:?}");
    let texts: Vec<&str> = chunks.iter().filter_map(ChatChunk::text).collect();
    assert_eq!(texts, ["Hel", "lo!"]);
    assert_eq!(
        chunks[0].choices[0].delta.role,
        Some(litellm::Role::Assistant)
    );
    let finish: Vec<_> = chunks.iter().filter_map(|c| c.finish_reason()).collect();
    assert_eq!(finish, [&FinishReason::Stop]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let u = last.usage.as_ref().unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (70, 2));
    assert_eq!(u.cached_tokens(), 64);
    assert!(chunks.iter().all(|c| c.id == "s1"));

    // collect_response rebuilds the same answer
    server.push(Reply::sse(text_events()));
    let req = ChatRequest::new(MODEL, vec![Message::user("Say hello")]);
    let resp = client(&server)
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello!"));
    assert_eq!(resp.usage.unwrap().total_tokens, 72);
    assert_eq!(resp.meta.provider, "cohere");
}

#[tokio::test]
async fn stream_with_parallel_tool_calls() {
    let server = FakeUpstream::start().await;
    let start = |i: u64, id: &str| {
        sse_event(
            "tool-call-start",
            &json!({"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls":
                {"id": id, "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
        )
    };
    let arg = |i: u64, a: &str| {
        sse_event(
            "tool-call-delta",
            &json!({"type": "tool-call-delta", "index": i, "delta": {"message": {"tool_calls": {"function": {"arguments": a}}}}}),
        )
    };
    server.push(Reply::sse(vec![
        sse_event(
            "message-start",
            &json!({"id": "s2", "type": "message-start", "delta": {"message": {"role": "assistant"}}}),
        ),
        sse_event(
            "tool-plan-delta",
            &json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "Checking "}}}),
        ),
        sse_event(
            "tool-plan-delta",
            &json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "both."}}}),
        ),
        start(0, "call_a"),
        arg(0, "{\"city\":"),
        arg(0, " \"Paris\"}"),
        sse_event("tool-call-end", &json!({"type": "tool-call-end", "index": 0})),
        start(1, "call_b"),
        arg(1, "{\"city\": \"Rome\"}"),
        sse_event("tool-call-end", &json!({"type": "tool-call-end", "index": 1})),
        sse_event(
            "message-end",
            &json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL",
                "usage": {"tokens": {"input_tokens": 1600, "output_tokens": 56}}}}),
        ),
        sse_raw_data("[DONE]"),
    ]));
    let req = ChatRequest::new(MODEL, vec![Message::user("Weather?")]).tools(vec![weather()]);
    let (chunks, err) = drain(client(&server).chat_stream(req).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let firsts: Vec<(u32, String, String)> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter(|t| t.id.is_some())
        .map(|t| {
            (
                t.index.unwrap(),
                t.id.clone().unwrap(),
                t.function.as_ref().unwrap().name.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        firsts,
        [
            (0, "call_a".to_owned(), "get_weather".to_owned()),
            (1, "call_b".to_owned(), "get_weather".to_owned())
        ]
    );
    let mut acc = litellm::ChunkAccumulator::new();
    chunks.iter().for_each(|c| acc.push(c));
    let resp = acc.finish();
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].function.arguments, "{\"city\": \"Paris\"}");
    let args: Value = calls[1].function.parse_arguments().unwrap();
    assert_eq!(args["city"], "Rome");
    assert_eq!(
        resp.choices[0].message.reasoning_content.as_deref(),
        Some("Checking both.")
    );
    assert_eq!(resp.usage.unwrap().completion_tokens, 56);
}

#[tokio::test]
async fn mid_stream_error_truncation_and_http_errors_on_streams() {
    let server = FakeUpstream::start().await;
    let req = || ChatRequest::new(MODEL, vec![Message::user("hi")]);
    // an error reported in message-end
    let mut events = text_events();
    events.truncate(3);
    events.push(sse_event(
        "message-end",
        &json!({"type": "message-end", "delta": {"error": "internal generation failure", "finish_reason": "ERROR"}}),
    ));
    events.push(sse_raw_data("[DONE]"));
    server.push(Reply::sse(events));
    let (chunks, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(chunks.len(), 2);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(err.message().contains("internal generation failure"));
    assert_eq!(err.provider(), Some("cohere"));

    // the body ends cleanly before message-end
    let mut events = text_events();
    events.truncate(4);
    server.push(Reply::sse(events));
    let (chunks, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(chunks.len(), 3);
    let err = err.expect("a truncated stream must not end silently");
    assert_eq!(err.kind(), ErrorKind::ApiConnection);
    assert!(err.message().contains("message-end"), "{err}");

    // [DONE] without message-end
    let mut events = text_events();
    events.remove(5);
    server.push(Reply::sse(events));
    let (_, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::ApiConnection);

    // the connection drops mid-stream
    server.push(Reply::sse(text_events()).drop_after(3));
    let err = client(&server)
        .chat_stream(req())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);

    // a non-2xx answer to a stream request
    server.push(
        Reply::json(
            429,
            json!({"id": "x", "message": "You are using a Trial key"}),
        )
        .header("retry-after", "3"),
    );
    let err = client(&server).chat_stream(req()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(err.message(), "You are using a Trial key");
}

#[tokio::test]
async fn json_answer_to_a_stream_request_is_replayed() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer()));
    let resp = client(&server)
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("The capital of France is Paris."));
    assert_eq!(resp.usage.unwrap().prompt_tokens, 507);
}

#[tokio::test]
async fn every_error_status_maps_to_its_kind() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    for (status, kind) in [
        (400, ErrorKind::BadRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (422, ErrorKind::UnprocessableEntity),
        (429, ErrorKind::RateLimit),
        (498, ErrorKind::Authentication),
        (499, ErrorKind::BadRequest),
        (500, ErrorKind::InternalServer),
        (501, ErrorKind::InternalServer),
        (503, ErrorKind::ServiceUnavailable),
        (504, ErrorKind::ServiceUnavailable),
    ] {
        server.push(Reply::json(
            status,
            json!({"id": "2da0d1db", "message": format!("cohere says {status}")}),
        ));
        let err = c
            .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "status {status}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.message(), format!("cohere says {status}"));
        assert_eq!(err.provider(), Some("cohere"));
        assert!(!format!("{err:?}").contains("co-secret-key"));
    }
    // a context-window message refines a 400
    server.push(Reply::json(400, json!({"id": "x", "message": "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292."})));
    let err = c
        .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContextWindowExceeded);
    // a 200 that is not a Cohere answer
    server.push(Reply::json(200, json!({"id": "x"})));
    let err = c
        .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn embeddings_translate_both_ways() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({
            "id": "f5aa", "texts": ["sunny day", "rainy day"], "response_type": "embeddings_by_type",
            "embeddings": {"float": [[0.5, -0.25, 0.125], [1.0, 0.0, -1.0]]},
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 10}}
        }),
    ));
    let req = EmbeddingRequest::new("cohere/embed-v4.0", vec!["sunny day", "rainy day"])
        .dimensions(256)
        .extra_body(json!({"input_type": "search_query"}));
    let resp = client(&server).embed(req).await.unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/v2/embed");
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer co-secret-key")
    );
    assert_eq!(
        r.json(),
        json!({"model": "embed-v4.0", "texts": ["sunny day", "rainy day"], "input_type": "search_query",
            "embedding_types": ["float"], "output_dimension": 256})
    );
    assert_eq!(resp.object, "list");
    assert_eq!(resp.model, "embed-v4.0");
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[0].embedding, vec![0.5f32, -0.25, 0.125]);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(resp.usage.prompt_tokens, 10);
    assert_eq!(resp.meta.provider, "cohere");

    // the default input_type, one string
    server.push(Reply::json(
        200,
        json!({"id": "x", "embeddings": {"float": [[1.0]]}, "meta": {}}),
    ));
    client(&server)
        .embedding("cohere/embed-v4.0", "one")
        .await
        .unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["input_type"], "search_document");
    assert_eq!(sent["texts"], json!(["one"]));

    // errors
    server.push(Reply::json(
        400,
        json!({"id": "x", "message": "invalid request: valid input_type must be provided with the provided model"}),
    ));
    let err = client(&server)
        .embedding("cohere/embed-v4.0", "one")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("input_type"));
}

#[tokio::test]
async fn credentials_come_from_cohere_env_vars() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, text_answer()));
    let env = |vars: Vec<(&'static str, String)>| {
        let map: HashMap<&str, String> = vars.into_iter().collect();
        Client::builder()
            .env_lookup(move |n| map.get(n).cloned())
            .build()
            .unwrap()
    };
    let c = env(vec![
        ("COHERE_API_KEY", "k1".into()),
        ("COHERE_API_BASE", server.url()),
    ]);
    c.completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap();
    assert_eq!(
        server
            .last_request()
            .unwrap()
            .header("authorization")
            .as_deref(),
        Some("Bearer k1")
    );
    let c = env(vec![
        ("CO_API_KEY", "k2".into()),
        ("COHERE_API_BASE", format!("{}/v2", server.url())),
    ]);
    c.completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.header("authorization").as_deref(), Some("Bearer k2"));
    assert_eq!(r.path, "/v2/chat");
    // no key: Authentication before any request
    let before = server.request_count();
    let c = env(vec![("COHERE_API_BASE", server.url())]);
    let err = c
        .completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.message().contains("COHERE_API_KEY"));
    assert_eq!(server.request_count(), before);
    // bare command-* names are inferred as Cohere
    let c = env(vec![
        ("COHERE_API_KEY", "k3".into()),
        ("COHERE_API_BASE", server.url()),
    ]);
    let resp = c
        .completion("command-a-03-2025", vec![Message::user("hi")])
        .await
        .unwrap();
    assert_eq!(resp.meta.provider, "cohere");
}

#[tokio::test]
async fn named_tool_choice_sends_only_that_tool() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer()));
    let other = Tool::function("get_time", "Time", json!({"type": "object"}));
    let req = ChatRequest::new(MODEL, vec![Message::user("hi")])
        .tools(vec![weather(), other])
        .tool_choice(ToolChoice::function("get_time"))
        .message(Message::assistant_tool_calls(vec![ToolCall::function(
            "c9", "get_time", "",
        )]))
        .message(Message::tool("c9", "12:00"));
    client(&server).chat(req).await.unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["tool_choice"], "REQUIRED");
    assert_eq!(sent["tools"].as_array().unwrap().len(), 1);
    assert_eq!(sent["tools"][0]["function"]["name"], "get_time");
    // empty arguments go out as an empty object
    assert_eq!(
        sent["messages"][1]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
}
