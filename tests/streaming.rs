//! Streaming through the public API against an in-process fake server sending SSE.

mod support;

use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatChunk, ChatRequest, ChatStream, Client, ErrorKind, FinishReason, Message, StreamOptions,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply, sse_comment, sse_data, sse_raw_data};

fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_key("openai", "sk-stream-key")
        .api_base("openai", format!("{}/v1", server.url()))
        .build()
        .unwrap()
}

fn request() -> ChatRequest {
    ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Say hello")])
}

fn chunk(delta: Value, finish: Value) -> Value {
    json!({"id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 1770933892,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_9",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        "usage": null, "obfuscation": "Qup1"})
}

fn usage_chunk(prompt: u64, completion: u64) -> Value {
    json!({"id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 1770933892,
        "model": "gpt-4o-mini-2024-07-18", "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 1}}})
}

fn text_stream(with_usage: bool) -> Vec<String> {
    let mut ev = vec![
        sse_data(&chunk(
            json!({"role": "assistant", "content": "", "refusal": null}),
            Value::Null,
        )),
        sse_data(&chunk(json!({"content": "Hel"}), Value::Null)),
        sse_data(&chunk(json!({"content": "lo"}), Value::Null)),
        sse_data(&chunk(json!({"content": "!"}), Value::Null)),
        sse_data(&chunk(json!({}), json!("stop"))),
    ];
    if with_usage {
        ev.push(sse_data(&usage_chunk(9, 3)));
    }
    ev.push(sse_raw_data("[DONE]"));
    ev
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
async fn text_stream_with_usage_ends_with_the_usage_chunk() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(text_stream(true)).header("x-request-id", "req_s"));
    let stream = client(&server).chat_stream(request()).await.unwrap();
    assert_eq!(stream.meta().request_id.as_deref(), Some("req_s"));
    assert_eq!(stream.meta().provider, "openai");

    let sent = server.last_request().unwrap();
    assert!(sent.header("accept").unwrap().contains("text/event-stream"));
    assert_eq!(
        sent.json(),
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}],
            "stream": true, "stream_options": {"include_usage": true}})
    );

    let (chunks, err) = drain(stream).await;
    assert!(err.is_none());
    let text: String = chunks.iter().filter_map(|c| c.text()).collect();
    assert_eq!(text, "Hello!");
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 12);
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c.usage.is_none()));
    assert_eq!(
        chunks
            .iter()
            .filter(|c| c.finish_reason().is_some())
            .count(),
        1
    );
}

#[tokio::test]
async fn collect_response_rebuilds_the_answer() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(text_stream(true)).gap(Duration::from_millis(5)));
    let resp = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello!"));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(resp.id, "chatcmpl-s1");
    assert_eq!(resp.object, "chat.completion");
    assert_eq!(resp.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(resp.system_fingerprint.as_deref(), Some("fp_9"));
    let u = resp.usage.as_ref().unwrap();
    assert_eq!(
        (
            u.prompt_tokens,
            u.completion_tokens,
            u.cached_tokens(),
            u.reasoning_tokens()
        ),
        (9, 3, 2, 1)
    );
    let ttft = resp.meta.time_to_first_token.unwrap();
    assert!(resp.meta.latency >= ttft);
    assert!(
        resp.meta.latency >= Duration::from_millis(20),
        "{:?}",
        resp.meta.latency
    );
    assert!(!resp.extra.contains_key("obfuscation"));
}

#[tokio::test]
async fn without_vendor_usage_there_is_no_usage_chunk() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(text_stream(false)));
    let req = request().stream_options(StreamOptions {
        include_usage: Some(false),
        ..Default::default()
    });
    let stream = client(&server).chat_stream(req).await.unwrap();
    assert_eq!(
        server.last_request().unwrap().json()["stream_options"],
        json!({"include_usage": false})
    );
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none());
    assert!(chunks.iter().all(|c| c.usage.is_none()));
    assert!(!chunks.last().unwrap().choices.is_empty());
}

#[tokio::test]
async fn a_vendor_that_sends_no_usage_gets_a_counted_usage_chunk() {
    let server = FakeUpstream::start().await;
    // asked for usage, but the server ignores stream_options
    server.push(Reply::sse(text_stream(false)));
    let mut stream = client(&server).chat_stream(request()).await.unwrap();
    let mut chunks = Vec::new();
    while let Some(c) = stream.next().await {
        chunks.push(c.unwrap());
    }
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty(), "a usage-only last chunk");
    let usage = last.usage.as_ref().unwrap();
    // "Hello!" is 2 tokens for gpt-4o-mini (o200k); the prompt "Say hello" as a user message
    // is 3 (priming) + 3 (message) + 1 ("user") + 2 = 9.
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (9, 2));
    assert_eq!(usage.extra["estimated"], json!(true));
    assert_eq!(last.id, "chatcmpl-s1");
    // priced like reported usage, and flagged
    assert!(stream.meta().usage_estimated);
    let want = 9.0 * 0.15e-6 + 2.0 * 0.6e-6;
    assert!((stream.meta().cost.unwrap() - want).abs() < 1e-15);
}

#[tokio::test]
async fn tool_call_fragments_assemble() {
    let server = FakeUpstream::start().await;
    let tc = |v: Value| chunk(json!({"tool_calls": [v]}), Value::Null);
    server.push(Reply::sse(vec![
        sse_data(&chunk(json!({"role": "assistant", "content": null, "tool_calls": [
            {"index": 0, "id": "call_w", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}), Value::Null)),
        sse_data(&tc(json!({"index": 0, "function": {"arguments": "{\""}}))),
        sse_data(&tc(json!({"index": 0, "function": {"arguments": "city\":\"New"}}))),
        sse_data(&tc(json!({"index": 0, "function": {"arguments": " York\"}"}}))),
        sse_data(&chunk(json!({}), json!("tool_calls"))),
        sse_data(&usage_chunk(44, 16)),
        sse_raw_data("[DONE]"),
    ]));
    let resp = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "call_w");
    assert_eq!(calls[0].kind, "function");
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(calls[0].function.arguments, r#"{"city":"New York"}"#);
    assert!(resp.choices[0].message.content.is_none());
    assert_eq!(resp.usage.unwrap().total_tokens, 60);
}

#[tokio::test]
async fn parallel_tool_calls_by_index() {
    let server = FakeUpstream::start().await;
    let tc = |v: Value| sse_data(&chunk(json!({"tool_calls": [v]}), Value::Null));
    server.push(Reply::sse(vec![
        sse_data(&chunk(json!({"role": "assistant", "content": null}), Value::Null)),
        tc(json!({"index": 0, "id": "call_a", "type": "function", "function": {"name": "weather", "arguments": ""}})),
        tc(json!({"index": 0, "function": {"arguments": "{\"city\": \"Edin"}})),
        tc(json!({"index": 1, "id": "call_b", "type": "function", "function": {"name": "stock", "arguments": ""}})),
        tc(json!({"index": 0, "function": {"arguments": "burgh\"}"}})),
        tc(json!({"index": 1, "function": {"arguments": "{\"ticker\": \"AAPL\"}"}})),
        sse_data(&chunk(json!({}), json!("tool_calls"))),
        sse_data(&usage_chunk(149, 60)),
        sse_raw_data("[DONE]"),
    ]));
    let resp = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].id.as_str(), calls[0].function.arguments.as_str()),
        ("call_a", "{\"city\": \"Edinburgh\"}")
    );
    assert_eq!(
        (calls[1].id.as_str(), calls[1].function.arguments.as_str()),
        ("call_b", "{\"ticker\": \"AAPL\"}")
    );
    assert_eq!(calls[1].function.name, "stock");
}

#[tokio::test]
async fn compatible_server_quirks_are_normalised() {
    let server = FakeUpstream::start().await;
    // finish_reason on the tool-call chunk and repeated on the usage chunk; tool-call indices
    // starting at 1; an SSE comment keep-alive first.
    server.push(Reply::sse(vec![
        sse_comment("OPENROUTER PROCESSING"),
        sse_data(&json!({"id": "y", "created": 1, "object": "chat.completion.chunk", "model": "compat",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {"role": "assistant", "tool_calls": [
                {"id": "call_0", "index": 1, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}}]})),
        sse_data(&json!({"id": "y", "created": 1, "object": "chat.completion.chunk", "model": "compat",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {"role": "assistant", "content": ""}}],
            "usage": {"prompt_tokens": 163, "completion_tokens": 11, "total_tokens": 174}})),
        sse_raw_data("[DONE]"),
    ]));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert!(err.is_none());
    assert_eq!(chunks.len(), 2, "{chunks:#?}");
    assert_eq!(chunks[0].finish_reason(), Some(&FinishReason::ToolCalls));
    assert!(chunks[1].choices.is_empty());
    assert_eq!(chunks[1].usage.as_ref().unwrap().total_tokens, 174);
    let mut acc = litellm::ChunkAccumulator::new();
    chunks.iter().for_each(|c| acc.push(c));
    assert_eq!(acc.finish().tool_calls()[0].function.name, "get_weather");
}

#[tokio::test]
async fn usage_on_a_content_chunk_moves_to_its_own_last_chunk() {
    let server = FakeUpstream::start().await;
    // Mistral: the whole tool call, the finish reason and the usage in one chunk, plus padding.
    server.push(Reply::sse(vec![
        sse_data(&json!({"choices": [{"delta": {"content": "", "role": "assistant"}, "finish_reason": null, "index": 0}],
            "created": 0, "id": "m1", "model": "mistral-small-latest", "object": "chat.completion.chunk"})),
        sse_data(&json!({"choices": [{"delta": {"tool_calls": [{"function": {"arguments": "{\"city\": \"Paris\"}", "name": "lookup_city"}, "id": "abc123XYZ"}]},
            "finish_reason": "tool_calls", "index": 0}], "created": 0, "id": "m1", "model": "mistral-small-latest",
            "object": "chat.completion.chunk", "p": "abcdefghijklmnopqrstuvwxy",
            "usage": {"completion_tokens": 11, "prompt_tokens": 101, "total_tokens": 112}})),
        sse_raw_data("[DONE]"),
    ]));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert!(err.is_none());
    assert_eq!(chunks.len(), 3);
    let tc = &chunks[1].choices[0].delta.tool_calls.as_ref().unwrap()[0];
    assert_eq!(tc.index, Some(0));
    assert_eq!(tc.kind.as_deref(), Some("function"));
    assert!(chunks[1].usage.is_none());
    assert_eq!(chunks[2].usage.as_ref().unwrap().prompt_tokens, 101);
    assert!(chunks[2].choices.is_empty());
}

#[tokio::test]
async fn groq_usage_in_x_groq_is_captured() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_data(&json!({"id": "g", "object": "chat.completion.chunk", "created": 1, "model": "llama",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": null}],
            "x_groq": {"id": "req_1", "seed": 1}})),
        sse_data(&json!({"id": "g", "object": "chat.completion.chunk", "created": 1, "model": "llama",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "x_groq": {"id": "req_1", "usage": {"queue_time": 0.04, "prompt_tokens": 210, "completion_tokens": 15, "total_tokens": 225}}})),
        sse_raw_data("[DONE]"),
    ]));
    let resp = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    let u = resp.usage.unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (210, 15));
    assert!(u.extra.contains_key("queue_time"));
}

#[tokio::test]
async fn stream_cut_before_done_is_an_error() {
    let server = FakeUpstream::start().await;
    // clean end of the HTTP body, but no [DONE]
    let mut events = text_stream(true);
    events.truncate(3);
    server.push(Reply::sse(events));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert_eq!(chunks.len(), 3);
    let err = err.expect("a truncated stream must not end silently");
    assert_eq!(err.kind(), ErrorKind::ApiConnection);
    assert!(err.message().contains("[DONE]"), "{err}");
    assert_eq!(err.provider(), Some("openai"));

    // connection dropped mid-stream
    server.push(Reply::sse(text_stream(true)).drop_after(2));
    let err = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);

    // cut in the middle of an event's JSON
    server.push(Reply::sse(vec![
        sse_data(&chunk(json!({"content": "a"}), Value::Null)),
        "data: {\"id\": \"chatcmpl".to_owned(),
    ]));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert_eq!(chunks.len(), 1);
    assert_eq!(err.unwrap().kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn mid_stream_error_object_is_typed() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_data(&chunk(json!({"role": "assistant", "content": "Par"}), Value::Null)),
        sse_data(&json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}})),
        sse_raw_data("[DONE]"),
    ]));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert_eq!(chunks.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(err.message().contains("server had an error"));

    // TGI style with a status inside, and a rate limit
    server.push(Reply::sse(vec![sse_data(
        &json!({"error": {"message": "Input validation error", "http_status_code": 422}}),
    )]));
    let (_, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::UnprocessableEntity);
    server.push(Reply::sse(vec![sse_data(
        &json!({"error": {"message": "Rate limit", "code": "rate_limit_exceeded"}}),
    )]));
    let (_, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::RateLimit);
}

#[tokio::test]
async fn non_2xx_answer_to_a_stream_is_a_typed_error() {
    let server = FakeUpstream::start().await;
    server.push(
        Reply::json(429, json!({"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}))
            .header("retry-after", "7")
            .header("x-request-id", "req_429")
            .header("content-type", "text/event-stream"),
    );
    let err = client(&server).chat_stream(request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err.request_id(), Some("req_429"));
    assert_eq!(err.status(), Some(429));
}

#[tokio::test]
async fn idle_stream_times_out() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(text_stream(true)).stall_after(2, Duration::from_secs(10)));
    let req = request().timeout(Duration::from_millis(300));
    let (chunks, err) = drain(client(&server).chat_stream(req).await.unwrap()).await;
    assert_eq!(chunks.len(), 2);
    assert_eq!(err.unwrap().kind(), ErrorKind::Timeout);

    // waiting for the headers is bounded too
    server.push(Reply::sse(text_stream(true)).delay(Duration::from_secs(10)));
    let err = client(&server)
        .chat_stream(request().timeout(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn malformed_chunk_is_invalid_response() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_data(&chunk(json!({"content": "ok"}), Value::Null)),
        sse_raw_data("{not json"),
        sse_raw_data("[DONE]"),
    ]));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert_eq!(chunks.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("{not json"), "{err}");
}

#[tokio::test]
async fn json_answer_to_a_stream_request_is_replayed_as_chunks() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
    ));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert!(err.is_none());
    assert_eq!(chunks[0].text(), Some("whole"));
    assert!(chunks.last().unwrap().choices.is_empty());
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        2
    );
}

#[tokio::test]
async fn azure_style_filter_chunk_and_unknown_fields_pass() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_data(&json!({"choices": [], "created": 0, "id": "", "model": "", "object": "",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]})),
        sse_data(&json!({"choices": [{"content_filter_results": {}, "delta": {"content": "Capital", "role": "assistant"},
            "finish_reason": null, "index": 0, "logprobs": null}], "created": 5, "id": "chatcmpl-z", "model": "gpt-5-nano",
            "object": "chat.completion.chunk", "system_fingerprint": null, "usage": null})),
        sse_data(&json!({"choices": [{"delta": {}, "finish_reason": "stop", "index": 0}], "created": 5, "id": "chatcmpl-z",
            "model": "gpt-5-nano", "object": "chat.completion.chunk"})),
        sse_raw_data("[DONE]"),
    ]));
    let resp = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Capital"));
    assert_eq!(resp.id, "chatcmpl-z");
    assert!(resp.extra.contains_key("prompt_filter_results"));
}

#[tokio::test]
async fn streams_are_retried_only_before_the_first_chunk() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(503, json!({"error": {"message": "busy"}})).header("retry-after", "0"));
    server.push(Reply::sse(text_stream(true)));
    let resp = client(&server)
        .chat_stream(request().num_retries(2))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello!"));
    assert_eq!(resp.meta.attempts, 2);

    // an error after chunks were delivered is returned, not retried
    let mut events = text_stream(true);
    events.truncate(2);
    server.push(Reply::sse(events));
    server.push(Reply::sse(text_stream(true)));
    let err = client(&server)
        .chat_stream(request().num_retries(2))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn reasoning_and_refusal_deltas() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_data(&chunk(
            json!({"role": "assistant", "reasoning_content": "Let me "}),
            Value::Null,
        )),
        sse_data(&chunk(json!({"reasoning": "think."}), Value::Null)),
        sse_data(&chunk(json!({"content": "42"}), Value::Null)),
        sse_data(&chunk(json!({"refusal": ""}), Value::Null)),
        sse_data(&chunk(json!({}), json!("stop"))),
        sse_raw_data("[DONE]"),
    ]));
    let resp = client(&server)
        .chat_stream(request())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(
        resp.choices[0].message.reasoning_content.as_deref(),
        Some("Let me think.")
    );
    assert_eq!(resp.text(), Some("42"));
}

#[tokio::test]
async fn json_error_sent_as_an_event_stream_body_is_that_error() {
    let server = FakeUpstream::start().await;
    server.push(Reply::raw(
        200,
        "text/event-stream",
        r#"{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}"#,
    ));
    let (chunks, err) = drain(client(&server).chat_stream(request()).await.unwrap()).await;
    assert!(chunks.is_empty());
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.message(), "Rate limit reached");
}

#[tokio::test]
async fn keep_alive_events_are_not_chunks() {
    let server = FakeUpstream::start().await;
    let mut events = vec!["event: ping\ndata: {}\n\n".to_owned(), sse_data(&json!({}))];
    events.extend(text_stream(true));
    server.push(Reply::sse(events));
    let stream = client(&server)
        .chat_stream(request().timeout(Duration::MAX))
        .await
        .unwrap();
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none());
    assert_eq!(
        chunks[0].choices[0].delta.role,
        Some(litellm::Role::Assistant)
    );
    assert_eq!(
        chunks.iter().filter_map(|c| c.text()).collect::<String>(),
        "Hello!"
    );
}
