//! Ollama's native API through the public API against an in-process fake server: `/api/chat`
//! bodies and answers, NDJSON streams (text, thinking, parallel tool calls), `/api/embed`,
//! error statuses, mid-stream error lines, truncated and idle streams.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use litellm::{
    CallOptions, ChatChunk, ChatRequest, ChatStream, Client, ContentPart, EmbeddingRequest,
    ErrorKind, FinishReason, Message, ResponseFormat, Tool, ToolCall,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply};

const MODEL: &str = "ollama/llama3.2";

fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_base("ollama", server.url())
        .build()
        .unwrap()
}

fn answer() -> Value {
    json!({
        "model": "llama3.2", "created_at": "2023-12-12T14:13:43.416799Z",
        "message": {"role": "assistant", "content": "Hello! How are you today?"},
        "done": true, "done_reason": "stop",
        "total_duration": 5191566416u64, "load_duration": 2154458, "prompt_eval_count": 26,
        "prompt_eval_duration": 383809000, "eval_count": 298, "eval_duration": 4799921000u64
    })
}

fn line(v: Value) -> String {
    v.to_string()
}

fn text_lines() -> Vec<String> {
    vec![
        line(
            json!({"model": "qwen3:4b", "created_at": "2026-08-04T19:59:02.854866Z", "message": {"role": "assistant", "content": "", "thinking": "The user greets."}, "done": false}),
        ),
        line(
            json!({"model": "qwen3:4b", "created_at": "2026-08-04T19:59:02.868343Z", "message": {"role": "assistant", "content": "Hel"}, "done": false}),
        ),
        line(
            json!({"model": "qwen3:4b", "created_at": "2026-08-04T19:59:02.880000Z", "message": {"role": "assistant", "content": "lo!"}, "done": false}),
        ),
        line(
            json!({"model": "qwen3:4b", "created_at": "2026-08-04T19:59:07.304583Z", "message": {"role": "assistant", "content": ""},
            "done": true, "done_reason": "stop", "total_duration": 5362333583u64, "load_duration": 55013167,
            "prompt_eval_count": 237, "prompt_eval_duration": 854682875, "eval_count": 321, "eval_duration": 4047863007u64}),
        ),
    ]
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
async fn chat_request_and_answer() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, answer()));
    let req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("Be nice."),
            Message::user(vec![
                ContentPart::text("Hi, what is in "),
                ContentPart::text("this picture?"),
                ContentPart::image_url("data:image/jpeg;base64,/9j/4AAQ"),
            ]),
        ],
    )
    .temperature(0.5)
    .max_tokens(100)
    .seed(1)
    .response_format(ResponseFormat::json_schema(
        "greeting",
        json!({"type": "object", "properties": {"text": {"type": "string"}}}),
        true,
    ))
    .extra_body(json!({"keep_alive": "5m"}));
    let resp = client(&server).chat(req).await.unwrap();

    let r = server.last_request().unwrap();
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/api/chat"));
    assert!(
        r.header("authorization").is_none(),
        "no key, no auth header"
    );
    assert_eq!(
        r.json(),
        json!({
            "model": "llama3.2",
            "messages": [
                {"role": "system", "content": "Be nice."},
                {"role": "user", "content": "Hi, what is in this picture?", "images": ["/9j/4AAQ"]}
            ],
            "stream": false,
            "format": {"type": "object", "properties": {"text": {"type": "string"}}},
            "keep_alive": "5m",
            "options": {"temperature": 0.5, "num_predict": 100, "seed": 1}
        })
    );
    assert_eq!(resp.text(), Some("Hello! How are you today?"));
    assert_eq!(resp.object, "chat.completion");
    assert!(resp.id.starts_with("chatcmpl-"));
    assert_eq!(resp.created, 1_702_390_423);
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    let u = resp.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (26, 298, 324)
    );
    assert_eq!(resp.extra["total_duration"], 5191566416u64);
    assert_eq!(resp.extra["load_duration"], 2154458);
    assert_eq!(resp.meta.provider, "ollama");
}

#[tokio::test]
async fn chat_with_tool_calls_and_history() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"model": "qwen3:4b", "created_at": "2026-08-04T19:59:07Z",
            "message": {"role": "assistant", "content": "", "thinking": "I need both.", "tool_calls": [
                {"id": "call_x", "function": {"index": 0, "name": "add", "arguments": {"x": 2, "y": 5}}},
                {"function": {"index": 1, "name": "subtract", "arguments": {"x": 2, "y": 5}}}]},
            "done": true, "done_reason": "stop", "prompt_eval_count": 237, "eval_count": 21}),
    ));
    server.push(Reply::json(200, answer()));
    let c = client(&server);
    let tools = vec![
        Tool::function(
            "add",
            "x + y",
            json!({"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}),
        ),
        Tool::function(
            "subtract",
            "x - y",
            json!({"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}),
        ),
    ];
    let req = ChatRequest::new(MODEL, vec![Message::user("2+5 and 2-5?")]).tools(tools.clone());
    let resp = c.chat(req.clone()).await.unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["tools"][1]["function"]["name"], "subtract");
    assert_eq!(sent["tools"][1]["type"], "function");
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_x");
    assert!(calls[1].id.starts_with("call_") && calls[1].id != "call_x");
    let args: Value = calls[1].function.parse_arguments().unwrap();
    assert_eq!(args, json!({"x": 2, "y": 5}));

    // the answer and the results go back: arguments as objects, results with tool_name
    let next = req
        .message(resp.message().unwrap().clone())
        .message(Message::tool("call_x", "7"))
        .message(Message::tool(calls[1].id.clone(), "-3"));
    c.chat(next).await.unwrap();
    let sent = server.last_request().unwrap().json();
    let msgs = sent["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["thinking"], "I need both.");
    assert_eq!(
        msgs[1]["tool_calls"][0],
        json!({"id": "call_x", "function": {"name": "add", "arguments": {"x": 2, "y": 5}}})
    );
    assert_eq!(msgs[2]["tool_name"], "add");
    assert_eq!(msgs[3]["tool_name"], "subtract");
    assert_eq!(msgs[3]["content"], "-3");
}

#[tokio::test]
async fn stream_with_text_thinking_and_usage() {
    let server = FakeUpstream::start().await;
    server.push(Reply::ndjson(text_lines()));
    let req = ChatRequest::new("ollama/qwen3:4b", vec![Message::user("Hello")]);
    let stream = client(&server).chat_stream(req.clone()).await.unwrap();
    assert_eq!(server.last_request().unwrap().json()["stream"], true);
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        chunks[0].choices[0].delta.reasoning_content.as_deref(),
        Some("The user greets.")
    );
    let texts: Vec<&str> = chunks.iter().filter_map(ChatChunk::text).collect();
    assert_eq!(texts, ["Hel", "lo!"]);
    let finish: Vec<_> = chunks.iter().filter_map(|c| c.finish_reason()).collect();
    assert_eq!(finish, [&FinishReason::Stop]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 558);
    let ids: Vec<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
    assert!(
        ids.iter()
            .all(|id| *id == ids[0] && id.starts_with("chatcmpl-"))
    );

    server.push(Reply::ndjson(text_lines()));
    let resp = client(&server)
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello!"));
    assert_eq!(
        resp.choices[0].message.reasoning_content.as_deref(),
        Some("The user greets.")
    );
    assert_eq!(resp.usage.as_ref().unwrap().prompt_tokens, 237);
    assert_eq!(resp.extra["eval_duration"], 4047863007u64);
    assert_eq!(resp.model, "qwen3:4b");
}

#[tokio::test]
async fn stream_with_parallel_tool_calls() {
    let server = FakeUpstream::start().await;
    server.push(Reply::ndjson(vec![
        line(json!({"model": "qwen3:4b", "message": {"role": "assistant", "content": "Okay"}, "done": false})),
        line(json!({"model": "qwen3:4b", "message": {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "function": {"index": 0, "name": "add", "arguments": {"x": 2, "y": 5}}}]}, "done": false})),
        line(json!({"model": "qwen3:4b", "message": {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"index": 1, "name": "subtract", "arguments": {"x": 2, "y": 5}}}]}, "done": false})),
        line(json!({"model": "qwen3:4b", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop",
            "prompt_eval_count": 237, "eval_count": 321})),
    ]));
    let req = ChatRequest::new(MODEL, vec![Message::user("Calculate")]);
    let (chunks, err) = drain(client(&server).chat_stream(req).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let deltas: Vec<(u32, String)> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .map(|t| {
            (
                t.index.unwrap(),
                t.function.as_ref().unwrap().name.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(deltas, [(0, "add".to_owned()), (1, "subtract".to_owned())]);
    let mut acc = litellm::ChunkAccumulator::new();
    chunks.iter().for_each(|c| acc.push(c));
    let resp = acc.finish();
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(resp.text(), Some("Okay"));
    let calls = resp.tool_calls();
    assert_eq!(calls[0].id, "call_1");
    assert_eq!(calls[0].function.arguments, r#"{"x":2,"y":5}"#);
    assert!(!calls[1].id.is_empty());
}

#[tokio::test]
async fn mid_stream_error_truncation_and_idle_streams() {
    let server = FakeUpstream::start().await;
    let req = || ChatRequest::new(MODEL, vec![Message::user("hi")]);
    // an error line after a 200
    let mut lines = text_lines();
    lines.truncate(2);
    lines.push(line(
        json!({"error": "an error was encountered while running the model"}),
    ));
    server.push(Reply::ndjson(lines));
    let (chunks, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(chunks.len(), 2);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert_eq!(
        err.message(),
        "an error was encountered while running the model"
    );
    assert_eq!(err.provider(), Some("ollama"));

    // the body ends cleanly without done: true
    let mut lines = text_lines();
    lines.truncate(3);
    server.push(Reply::ndjson(lines));
    let (chunks, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(chunks.len(), 3);
    let err = err.expect("a truncated stream must not end silently");
    assert_eq!(err.kind(), ErrorKind::ApiConnection);
    assert!(err.message().contains("done"), "{err}");

    // the connection drops
    server.push(Reply::ndjson(text_lines()).drop_after(2));
    let err = client(&server)
        .chat_stream(req())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);

    // a line that is not JSON
    server.push(Reply::ndjson(vec!["{\"message\": ".to_owned()]));
    let (_, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::InvalidResponse);

    // a stalled stream times out
    server.push(Reply::ndjson(text_lines()).stall_after(1, Duration::from_secs(10)));
    let (chunks, err) = drain(
        client(&server)
            .chat_stream(req().timeout(Duration::from_millis(300)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(chunks.len(), 1);
    assert_eq!(err.unwrap().kind(), ErrorKind::Timeout);

    // a JSON answer to a stream request is replayed
    server.push(Reply::json(200, answer()));
    let resp = client(&server)
        .chat_stream(req())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello! How are you today?"));
    assert_eq!(resp.usage.unwrap().total_tokens, 324);
}

#[tokio::test]
async fn error_statuses_map_to_kinds() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    for (status, kind) in [
        (400, ErrorKind::BadRequest),
        (404, ErrorKind::NotFound),
        (429, ErrorKind::RateLimit),
        (500, ErrorKind::InternalServer),
        (502, ErrorKind::ServiceUnavailable),
    ] {
        server.push(Reply::json(
            status,
            json!({"error": format!("ollama says {status}")}),
        ));
        let err = c
            .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.message(), format!("ollama says {status}"));
        assert_eq!(err.status(), Some(status));
        // the same on a stream request
        server.push(Reply::json(
            status,
            json!({"error": format!("ollama says {status}")}),
        ));
        let err = c
            .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status} (stream)");
    }
    // a 200 with an error body
    server.push(Reply::json(200, json!({"error": "model 'x' not found"})));
    let err = c
        .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "model 'x' not found");
}

#[tokio::test]
async fn unsupported_inputs_fail_before_sending_unless_dropped() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, answer()));
    let c = client(&server);
    let req = ChatRequest::new(
        MODEL,
        vec![Message::user(vec![
            ContentPart::text("What is this?"),
            ContentPart::image_url("https://example.com/cat.png"),
        ])],
    );
    let err = c.chat(req.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("image_url"), "{err}");
    assert_eq!(server.request_count(), 0);
    c.chat(req.drop_params(true)).await.unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(
        sent["messages"][0],
        json!({"role": "user", "content": "What is this?"})
    );
    // arguments that are not a JSON object cannot be sent
    let bad = ChatRequest::new(
        MODEL,
        vec![Message::assistant_tool_calls(vec![ToolCall::function(
            "c", "f", "not json",
        )])],
    );
    assert_eq!(c.chat(bad).await.unwrap_err().kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn embeddings_translate_both_ways() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"model": "all-minilm", "embeddings": [[0.010071029, -0.0017594862], [0.5, 0.25]],
            "total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8}),
    ));
    let req = EmbeddingRequest::new("ollama/all-minilm", vec!["Why is the sky blue?", "Why?"])
        .dimensions(2)
        .extra_body(json!({"truncate": true}));
    let resp = client(&server).embed(req).await.unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/api/embed");
    assert_eq!(
        r.json(),
        json!({"model": "all-minilm", "input": ["Why is the sky blue?", "Why?"], "dimensions": 2, "truncate": true})
    );
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[0].embedding, vec![0.010071029f32, -0.0017594862]);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(resp.usage.prompt_tokens, 8);
    assert_eq!(resp.model, "all-minilm");
    assert_eq!(resp.meta.provider, "ollama");

    server.push(Reply::json(
        200,
        json!({"model": "all-minilm", "embeddings": [[1.0]], "prompt_eval_count": 1}),
    ));
    client(&server)
        .embedding("ollama/all-minilm", "one")
        .await
        .unwrap();
    assert_eq!(server.last_request().unwrap().json()["input"], "one");

    server.push(Reply::json(
        404,
        json!({"error": "model \"nope\" not found, try pulling it first"}),
    ));
    let err = client(&server)
        .embedding("ollama/nope", "one")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn endpoints_and_credentials() {
    // defaults: localhost, no key required
    let c = Client::builder().no_env().build().unwrap();
    let (_, cx) = c.resolve(MODEL, &CallOptions::default()).unwrap();
    assert_eq!(cx.api_base.as_deref(), Some("http://localhost:11434"));
    assert!(cx.api_key.is_none());

    // OLLAMA_API_BASE (with a /v1 suffix shared with ollama_chat) and OLLAMA_API_KEY
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, answer()));
    let vars: HashMap<&str, String> = HashMap::from([
        ("OLLAMA_API_BASE", format!("{}/v1", server.url())),
        ("OLLAMA_API_KEY", "ollama-cloud-key".to_owned()),
    ]);
    let c = Client::builder()
        .env_lookup(move |n| vars.get(n).cloned())
        .build()
        .unwrap();
    c.completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/api/chat");
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer ollama-cloud-key")
    );

    // ollama_chat/ stays on the OpenAI-compatible route
    server.push(Reply::json(
        200,
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}),
    ));
    let resp = c
        .completion("ollama_chat/llama3.2", vec![Message::user("hi")])
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("ok"));
    assert_eq!(server.last_request().unwrap().path, "/v1/chat/completions");
}
