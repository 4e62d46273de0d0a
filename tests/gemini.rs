//! Gemini (`gemini/`) and Vertex AI (`vertex_ai/`) through the public API against a fake
//! upstream: request URL, headers and body; chat, streams with text and tool calls, embeddings,
//! error classes, mid-stream errors and truncated streams.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatChunk, ChatRequest, ChatStream, Client, EmbeddingRequest, ErrorKind, FinishReason, Message,
    ReasoningEffort, ResponseFormat, Tool, ToolChoice,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply, sse_data};

const KEY: &str = "AIza-test-key-123";
const TOKEN: &str = "ya29.test-token";

fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_key("gemini", KEY)
        .api_base("gemini", server.url())
        .build()
        .unwrap()
}

fn env_client(vars: &[(&str, String)]) -> Client {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Client::builder()
        .env_lookup(move |name| map.get(name).cloned())
        .build()
        .unwrap()
}

fn vertex_client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_key("vertex_ai", TOKEN)
        .api_base("vertex_ai", server.url())
        .provider_param("vertex_ai", "vertex_project", "my-proj")
        .provider_param("vertex_ai", "vertex_location", "europe-west4")
        .build()
        .unwrap()
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}),
    )
}

fn usage(prompt: u64, candidates: u64, thoughts: u64) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": candidates, "thoughtsTokenCount": thoughts,
        "totalTokenCount": prompt + candidates + thoughts, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]})
}

fn text_answer(text: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage(7, 3, 0), "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
}

fn sse_piece(parts: Value, finish: Option<&str>, u: Value) -> String {
    let mut cand = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if let Some(f) = finish {
        cand["finishReason"] = json!(f);
    }
    sse_data(
        &json!({"candidates": [cand], "usageMetadata": u, "modelVersion": "gemini-2.5-flash", "responseId": "resp-s"}),
    )
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
async fn chat_request_url_headers_and_body() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer("Paris.")));
    let req = ChatRequest::new(
        "gemini/gemini-2.5-flash",
        vec![
            Message::system("Be brief."),
            Message::user("Capital of France?"),
        ],
    )
    .temperature(0.2)
    .max_tokens(50)
    .stop(["END"])
    .seed(3)
    .top_p(0.5);
    let resp = client(&server).chat(req).await.unwrap();
    assert_eq!(resp.text(), Some("Paris."));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(resp.id, "resp-1");
    assert_eq!(resp.model, "gemini-2.5-flash");
    assert_eq!(resp.meta.provider, "gemini");
    let u = resp.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (7, 3, 10)
    );

    let r = server.last_request().unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/models/gemini-2.5-flash:generateContent");
    assert_eq!(r.query, "", "the key is never put in the URL");
    assert_eq!(r.header("x-goog-api-key").as_deref(), Some(KEY));
    assert!(r.header("authorization").is_none());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        r.json(),
        json!({
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}],
            "generationConfig": {"temperature": 0.2, "maxOutputTokens": 50, "stopSequences": ["END"], "seed": 3, "topP": 0.5}
        })
    );
}

#[tokio::test]
async fn env_names_default_inference_and_missing_key() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, text_answer("ok")));
    // GEMINI_API_KEY and GEMINI_API_BASE; a bare `gemini-*` name routes to Gemini.
    let c = env_client(&[
        ("GEMINI_API_KEY", "from-gemini-env".into()),
        ("GOOGLE_API_KEY", "from-google-env".into()),
        ("GEMINI_API_BASE", server.url()),
    ]);
    c.completion("gemini-2.5-flash", vec![Message::user("Hi")])
        .await
        .unwrap();
    assert_eq!(
        server
            .last_request()
            .unwrap()
            .header("x-goog-api-key")
            .as_deref(),
        Some("from-gemini-env")
    );
    // GOOGLE_API_KEY as the fallback.
    let c = env_client(&[
        ("GOOGLE_API_KEY", "from-google-env".into()),
        ("GEMINI_API_BASE", server.url()),
    ]);
    c.completion("gemini/gemini-2.5-pro", vec![Message::user("Hi")])
        .await
        .unwrap();
    assert_eq!(
        server
            .last_request()
            .unwrap()
            .header("x-goog-api-key")
            .as_deref(),
        Some("from-google-env")
    );
    // No key: Authentication before any request.
    let before = server.request_count();
    let c = env_client(&[("GEMINI_API_BASE", server.url())]);
    let e = c
        .completion("gemini/gemini-2.5-pro", vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(e.message().contains("GEMINI_API_KEY"), "{e}");
    assert_eq!(server.request_count(), before);
}

#[tokio::test]
async fn tools_parallel_calls_and_the_history_round_trip() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnLTE="},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
        ]}, "finishReason": "STOP", "finishMessage": "Model generated function call(s).", "index": 0}],
        "usageMetadata": usage(20, 10, 64)}),
    ));
    server.push(Reply::json(200, text_answer("Sunny in both.")));
    let c = client(&server);
    let mut req = ChatRequest::new(
        "gemini/gemini-2.5-flash",
        vec![Message::user("Weather in Paris and Rome?")],
    )
    .tools(vec![weather_tool()])
    .tool_choice(ToolChoice::Required);
    let first = c.chat(req.clone()).await.unwrap();
    assert_eq!(first.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = first.tool_calls().to_vec();
    assert_eq!(calls.len(), 2);
    assert_ne!(calls[0].id, calls[1].id);
    let args: Value = calls[1].function.parse_arguments().unwrap();
    assert_eq!(args, json!({"city": "Rome"}));
    let u = first.usage.as_ref().unwrap();
    assert_eq!((u.completion_tokens, u.reasoning_tokens()), (74, 64));
    let body = server.requests()[0].json();
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [{"name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}])
    );
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY"}})
    );

    // The answer goes back onto the history as is, with the tool results.
    req.messages.push(first.message().unwrap().clone());
    req.messages
        .push(Message::tool(calls[0].id.clone(), r#"{"temp": 21}"#));
    req.messages
        .push(Message::tool(calls[1].id.clone(), "sunny"));
    let second = c.chat(req.tool_choice(ToolChoice::Auto)).await.unwrap();
    assert_eq!(second.text(), Some("Sunny in both."));
    let body = server.requests()[1].json();
    assert_eq!(
        body["contents"][1],
        json!({"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": calls[0].id}, "thoughtSignature": "c2lnLTE="},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": calls[1].id}}
        ]})
    );
    assert_eq!(
        body["contents"][2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}, "id": calls[0].id}},
            {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}, "id": calls[1].id}}
        ]})
    );
}

#[tokio::test]
async fn response_format_reasoning_and_images_in_the_body() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer(r#"{"colors":["red"]}"#)));
    let req = ChatRequest::new(
        "gemini/gemini-2.5-pro",
        vec![Message::user(vec![
            litellm::ContentPart::text("What is this?"),
            litellm::ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            litellm::ContentPart::image_url("https://example.com/a.jpg"),
        ])],
    )
    .response_format(ResponseFormat::json_schema(
        "colors",
        json!({"type": "object", "properties": {"colors": {"type": "array", "items": {"type": "string"}}}, "required": ["colors"], "additionalProperties": false}),
        true,
    ))
    .reasoning_effort(ReasoningEffort::High);
    let resp = client(&server).chat(req).await.unwrap();
    let parsed: Value = serde_json::from_str(resp.text().unwrap()).unwrap();
    assert_eq!(parsed["colors"][0], "red");
    let body = server.last_request().unwrap().json();
    assert_eq!(
        body["contents"][0]["parts"],
        json!([{"text": "What is this?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/a.jpg"}}])
    );
    assert_eq!(
        body["generationConfig"],
        json!({"responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"colors": {"type": "ARRAY", "items": {"type": "STRING"}}}, "required": ["colors"]},
            "thinkingConfig": {"thinkingBudget": 4096, "includeThoughts": true}})
    );
}

#[tokio::test]
async fn unsupported_parameter_fails_before_sending_unless_dropped() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, text_answer("ok")));
    let c = client(&server);
    let req = ChatRequest::new("gemini/gemini-2.5-flash", vec![Message::user("Hi")]).user("u-1");
    let e = c.chat(req.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("'user'"), "{e}");
    assert_eq!(server.request_count(), 0);
    c.chat(req.drop_params(true)).await.unwrap();
    assert!(server.last_request().unwrap().json().get("user").is_none());
}

#[tokio::test]
async fn stream_text_with_thoughts_and_usage() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_piece(
            json!([{"text": "Thinking about it.", "thought": true}]),
            None,
            usage(5, 0, 4),
        ),
        sse_piece(json!([{"text": "Hel"}]), None, usage(5, 1, 4)),
        sse_piece(json!([{"text": "lo"}]), None, usage(5, 2, 4)),
        sse_piece(json!([{"text": ""}]), Some("STOP"), usage(5, 2, 4)),
    ]));
    let stream = client(&server)
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Say hello")],
        ))
        .await
        .unwrap();
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none(), "{err:?}");
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/models/gemini-2.5-flash:streamGenerateContent");
    assert_eq!(r.query, "alt=sse");
    assert_eq!(r.header("x-goog-api-key").as_deref(), Some(KEY));
    assert!(r.json().get("stream").is_none());
    let texts: Vec<&str> = chunks.iter().filter_map(ChatChunk::text).collect();
    assert_eq!(texts, ["Hel", "lo"]);
    assert_eq!(
        chunks[0].choices[0].delta.reasoning_content.as_deref(),
        Some("Thinking about it.")
    );
    assert_eq!(
        chunks[0].choices[0].delta.role,
        Some(litellm::Role::Assistant)
    );
    let finish: Vec<_> = chunks.iter().filter_map(ChatChunk::finish_reason).collect();
    assert_eq!(finish, [&FinishReason::Stop]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let u = last.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.reasoning_tokens()),
        (5, 6, 4)
    );
    assert!(chunks.iter().all(|c| c.id == "resp-s"));
}

#[tokio::test]
async fn stream_parallel_tool_calls_and_collect_response() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_piece(json!([{"text": "Let me check."}]), None, usage(9, 2, 0)),
        sse_piece(
            json!([
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "fc1"}, "thoughtSignature": "U0lHMQ=="},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "fc2"}}
            ]),
            None,
            usage(9, 12, 0),
        ),
        sse_piece(
            json!([{"functionCall": {"name": "get_time", "args": {"tz": "CET"}}}]),
            None,
            usage(9, 15, 0),
        ),
        sse_piece(json!([{"text": ""}]), Some("STOP"), usage(9, 15, 0)),
    ]));
    let stream = client(&server)
        .chat_stream(
            ChatRequest::new(
                "gemini/gemini-3-pro-preview",
                vec![Message::user("Weather?")],
            )
            .tools(vec![weather_tool()]),
        )
        .await
        .unwrap();
    let resp = stream.collect_response().await.unwrap();
    assert_eq!(resp.text(), Some("Let me check."));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    let got: Vec<(&str, &str, &str)> = calls
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                c.function.name.as_str(),
                c.function.arguments.as_str(),
            )
        })
        .collect();
    assert_eq!(got[0], ("fc1", "get_weather", r#"{"city":"Paris"}"#));
    assert_eq!(got[1], ("fc2", "get_weather", r#"{"city":"Rome"}"#));
    assert_eq!(got[2].1, "get_time");
    assert!(got[2].0.starts_with("call_"));
    assert_eq!(
        calls[0].extra["provider_specific_fields"]["thought_signature"],
        "U0lHMQ=="
    );
    assert_eq!(resp.usage.unwrap().completion_tokens, 15);

    // Streamed deltas: one per call, indices 0, 1, 2.
    server.push(Reply::sse(vec![
        sse_piece(
            json!([{"functionCall": {"name": "a", "args": {}}}, {"functionCall": {"name": "b", "args": {"x": [1, 2]}}}]),
            Some("STOP"),
            usage(1, 1, 0),
        ),
    ]));
    let stream = client(&server)
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Go")],
        ))
        .await
        .unwrap();
    let (chunks, err) = drain(stream).await;
    assert!(err.is_none());
    let deltas: Vec<_> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .collect();
    assert_eq!(deltas.len(), 2);
    assert_eq!(deltas[0].index, Some(0));
    assert_eq!(deltas[1].index, Some(1));
    assert_eq!(deltas[1].kind.as_deref(), Some("function"));
    assert_eq!(
        deltas[1].function.as_ref().unwrap().arguments.as_deref(),
        Some(r#"{"x":[1,2]}"#)
    );
    assert_eq!(chunks[0].finish_reason(), Some(&FinishReason::ToolCalls));
}

#[tokio::test]
async fn errors_map_to_kinds_with_retry_after() {
    let google = |code: u16, status: &str, message: &str| json!({"error": {"code": code, "message": message, "status": status}});
    let cases: Vec<(u16, Value, ErrorKind)> = vec![
        (
            400,
            json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
            ErrorKind::Authentication,
        ),
        (
            400,
            google(400, "INVALID_ARGUMENT", "Invalid JSON payload received."),
            ErrorKind::BadRequest,
        ),
        (
            400,
            google(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ),
            ErrorKind::ContextWindowExceeded,
        ),
        (
            400,
            google(
                400,
                "FAILED_PRECONDITION",
                "User location is not supported for the API use.",
            ),
            ErrorKind::BadRequest,
        ),
        (
            401,
            google(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            ),
            ErrorKind::Authentication,
        ),
        (
            403,
            google(
                403,
                "PERMISSION_DENIED",
                "Permission denied on resource project.",
            ),
            ErrorKind::PermissionDenied,
        ),
        (
            404,
            google(
                404,
                "NOT_FOUND",
                "models/gemini-x is not found for API version v1beta",
            ),
            ErrorKind::NotFound,
        ),
        (
            500,
            google(500, "INTERNAL", "An internal error has occurred."),
            ErrorKind::InternalServer,
        ),
        (
            503,
            google(503, "UNAVAILABLE", "The model is overloaded."),
            ErrorKind::ServiceUnavailable,
        ),
        (
            504,
            google(504, "DEADLINE_EXCEEDED", "Deadline exceeded."),
            ErrorKind::ServiceUnavailable,
        ),
    ];
    let server = FakeUpstream::start().await;
    let c = client(&server);
    for (status, body, kind) in cases {
        server.push(Reply::json(status, body.clone()));
        let e = c
            .chat(ChatRequest::new(
                "gemini/gemini-2.5-flash",
                vec![Message::user("Hi")],
            ))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{status} {body}");
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.provider(), Some("gemini"));
        assert!(!e.to_string().contains(KEY) && !format!("{e:?}").contains(KEY));
    }
    // 429 RESOURCE_EXHAUSTED with RetryInfo.
    server.push(Reply::json(
        429,
        json!({"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}]}}),
    ));
    let e = c
        .chat(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimit);
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs_f64(34.4)));
    // An error object inside a 200 answer, and a body that is not JSON.
    server.push(Reply::json(
        200,
        json!({"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}),
    ));
    let e = c
        .chat(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InternalServer);
    server.push(Reply::raw(200, "application/json", "<html>"));
    let e = c
        .chat(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn stream_request_answered_with_an_error_status() {
    let server = FakeUpstream::start().await;
    // Plain JSON although the content type says event-stream (recorded Gemini behaviour).
    server.push(Reply::raw(
        404,
        "text/event-stream",
        r#"{"error":{"code":404,"message":"models/gemini-nope is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}"#,
    ));
    let e = client(&server)
        .chat_stream(ChatRequest::new(
            "gemini/gemini-nope",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn mid_stream_errors_are_typed() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    // Gemini's raw multi-line JSON error after some events, without `data:`.
    server.push(Reply::sse(vec![
        sse_piece(json!([{"text": "Hel"}]), None, usage(1, 1, 0)),
        "{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"Resource has been exhausted\",\n".to_owned(),
        "    \"status\": \"RESOURCE_EXHAUSTED\",\n    \"details\": [{\"@type\": \"type.googleapis.com/google.rpc.RetryInfo\", \"retryDelay\": \"2s\"}]\n  }\n}\n".to_owned(),
    ]));
    let stream = c
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap();
    let (chunks, err) = drain(stream).await;
    assert_eq!(chunks.len(), 1);
    let e = err.expect("an error");
    assert_eq!(e.kind(), ErrorKind::RateLimit);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(e.provider(), Some("gemini"));
    // A `data:` event carrying an error object.
    server.push(Reply::sse(vec![
        sse_piece(json!([{"text": "Hel"}]), None, usage(1, 1, 0)),
        sse_data(&json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})),
    ]));
    let stream = c
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap();
    let (_, err) = drain(stream).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::ServiceUnavailable);
}

#[tokio::test]
async fn truncated_streams_are_errors() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    // The body ends cleanly but no finishReason ever came.
    server.push(Reply::sse(vec![
        sse_piece(json!([{"text": "Hel"}]), None, usage(1, 1, 0)),
        sse_piece(json!([{"text": "lo"}]), None, usage(1, 2, 0)),
    ]));
    let stream = c
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap();
    let (chunks, err) = drain(stream).await;
    assert_eq!(chunks.len(), 2);
    let e = err.expect("a truncated stream is an error");
    assert_eq!(e.kind(), ErrorKind::ApiConnection);
    assert!(e.message().contains("finishReason"), "{e}");
    // The connection drops mid-stream.
    server.push(
        Reply::sse(vec![
            sse_piece(json!([{"text": "Hel"}]), None, usage(1, 1, 0)),
            sse_piece(json!([{"text": "lo"}]), Some("STOP"), usage(1, 2, 0)),
        ])
        .drop_after(1),
    );
    let stream = c
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap();
    let (_, err) = drain(stream).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::ApiConnection);
    // collect_response fails the same way.
    server.push(Reply::sse(vec![sse_piece(
        json!([{"text": "Hel"}]),
        None,
        usage(1, 1, 0),
    )]));
    let e = c
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ApiConnection);
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_is_replayed() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer("Whole answer.")));
    let resp = client(&server)
        .chat_stream(ChatRequest::new(
            "gemini/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Whole answer."));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(resp.usage.unwrap().total_tokens, 10);
}

#[tokio::test]
async fn embeddings_single_and_batch() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    server.push(Reply::json(
        200,
        json!({"embedding": {"values": [0.1, 0.2, 0.3]}}),
    ));
    let r = c
        .embed(
            EmbeddingRequest::new("gemini/gemini-embedding-001", "hello")
                .dimensions(3)
                .extra_body(json!({"task_type": "RETRIEVAL_QUERY"})),
        )
        .await
        .unwrap();
    assert_eq!(r.data[0].embedding, vec![0.1f32, 0.2, 0.3]);
    assert_eq!(r.model, "gemini-embedding-001");
    let req = server.last_request().unwrap();
    assert_eq!(req.path, "/models/gemini-embedding-001:embedContent");
    assert_eq!(req.header("x-goog-api-key").as_deref(), Some(KEY));
    assert_eq!(
        req.json(),
        json!({"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 3, "taskType": "RETRIEVAL_QUERY"})
    );

    server.push(Reply::json(
        200,
        json!({"embeddings": [{"values": [1.0]}, {"values": [2.0]}]}),
    ));
    let r = c
        .embedding("gemini/gemini-embedding-001", vec!["a", "b"])
        .await
        .unwrap();
    assert_eq!(r.vectors(), vec![&[1.0f32][..], &[2.0f32][..]]);
    let req = server.last_request().unwrap();
    assert_eq!(req.path, "/models/gemini-embedding-001:batchEmbedContents");
    assert_eq!(
        req.json(),
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}}
        ]})
    );
    // Errors come back typed.
    server.push(Reply::json(
        429,
        json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
    ));
    let e = c
        .embedding("gemini/gemini-embedding-001", "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimit);
}

// ---------------------------------------------------------------------------------------------
// Vertex AI.

#[tokio::test]
async fn vertex_chat_url_bearer_and_body() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}, "finishReason": "STOP"}],
            "usageMetadata": usage(3, 4, 0), "modelVersion": "gemini-2.5-pro", "createTime": "2025-01-01T00:00:00Z"}),
    ));
    let c = vertex_client(&server);
    let history = vec![
        Message::user("Weather?"),
        Message::assistant_tool_calls(vec![litellm::ToolCall::function(
            "call_1",
            "get_weather",
            r#"{"city":"Oslo"}"#,
        )]),
        Message::tool("call_1", r#"{"temp": 3}"#),
    ];
    let resp = c
        .chat(ChatRequest::new("vertex_ai/gemini-2.5-pro", history).tools(vec![weather_tool()]))
        .await
        .unwrap();
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(resp.meta.provider, "vertex_ai");
    let r = server.last_request().unwrap();
    assert_eq!(
        r.path,
        "/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
    );
    assert_eq!(
        r.header("authorization").unwrap(),
        format!("Bearer {TOKEN}")
    );
    assert!(r.header("x-goog-api-key").is_none());
    let body = r.json();
    // Vertex rejects ids on function calls and responses.
    assert_eq!(
        body["contents"][1]["parts"][0],
        json!({"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}})
    );
    assert_eq!(
        body["contents"][2]["parts"][0],
        json!({"functionResponse": {"name": "get_weather", "response": {"temp": 3}}})
    );

    // Streaming.
    server.push(Reply::sse(vec![sse_piece(
        json!([{"text": "Hi"}]),
        Some("STOP"),
        usage(1, 1, 0),
    )]));
    let resp = c
        .chat_stream(ChatRequest::new(
            "vertex_ai/gemini-2.5-flash",
            vec![Message::user("Hi")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hi"));
    let r = server.last_request().unwrap();
    assert_eq!(
        r.path,
        "/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(r.query, "alt=sse");
}

#[tokio::test]
async fn vertex_settings_from_env_and_missing_ones() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, text_answer("ok")));
    let c = env_client(&[
        ("VERTEXAI_ACCESS_TOKEN", "env-token".into()),
        ("VERTEXAI_PROJECT", "env-proj".into()),
        ("VERTEXAI_LOCATION", "asia-northeast1".into()),
        ("VERTEXAI_API_BASE", server.url()),
    ]);
    c.completion("vertex_ai/gemini-2.5-flash", vec![Message::user("Hi")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(
        r.path,
        "/v1/projects/env-proj/locations/asia-northeast1/publishers/google/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer env-token")
    );
    // The call's provider params win over the environment; the location defaults to us-central1.
    let c2 = env_client(&[
        ("VERTEXAI_ACCESS_TOKEN", "env-token".into()),
        ("VERTEXAI_API_BASE", server.url()),
    ]);
    c2.chat(
        ChatRequest::new("vertex_ai/gemini-2.5-flash", vec![Message::user("Hi")])
            .provider_param("vertex_project", "call-proj"),
    )
    .await
    .unwrap();
    assert_eq!(
        server.last_request().unwrap().path,
        "/v1/projects/call-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    );
    // No project: Config before any request.
    let before = server.request_count();
    let e = c2
        .completion("vertex_ai/gemini-2.5-flash", vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("VERTEXAI_PROJECT"), "{e}");
    // No token: Authentication before any request.
    let c3 = env_client(&[
        ("VERTEXAI_PROJECT", "p".into()),
        ("VERTEXAI_API_BASE", server.url()),
    ]);
    let e = c3
        .completion("vertex_ai/gemini-2.5-flash", vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    // A partner model is unsupported.
    let e = c
        .completion("vertex_ai/claude-sonnet-4-5", vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(server.request_count(), before);
    // An Authorization header instead of a token.
    let c4 = env_client(&[
        ("VERTEXAI_PROJECT", "p".into()),
        ("VERTEXAI_API_BASE", server.url()),
    ]);
    c4.chat(
        ChatRequest::new("vertex_ai/gemini-2.5-flash", vec![Message::user("Hi")])
            .extra_header("Authorization", "Bearer hdr-token"),
    )
    .await
    .unwrap();
    assert_eq!(
        server
            .last_request()
            .unwrap()
            .header("authorization")
            .as_deref(),
        Some("Bearer hdr-token")
    );
}

#[tokio::test]
async fn vertex_embeddings_and_errors() {
    let server = FakeUpstream::start().await;
    let c = vertex_client(&server);
    server.push(Reply::json(
        200,
        json!({"predictions": [
            {"embeddings": {"values": [0.5, 0.25], "statistics": {"token_count": 2, "truncated": false}}},
            {"embeddings": {"values": [0.125, 1.0], "statistics": {"token_count": 3, "truncated": false}}}
        ], "metadata": {"billableCharacterCount": 9}}),
    ));
    let r = c
        .embed(
            EmbeddingRequest::new("vertex_ai/text-embedding-005", vec!["a b", "c d e"])
                .dimensions(2)
                .extra_body(json!({"task_type": "RETRIEVAL_DOCUMENT"})),
        )
        .await
        .unwrap();
    assert_eq!(r.data[1].embedding, vec![0.125f32, 1.0]);
    assert_eq!(r.usage.prompt_tokens, 5);
    let req = server.last_request().unwrap();
    assert_eq!(
        req.path,
        "/v1/projects/my-proj/locations/europe-west4/publishers/google/models/text-embedding-005:predict"
    );
    assert_eq!(
        req.json(),
        json!({"instances": [{"content": "a b", "task_type": "RETRIEVAL_DOCUMENT"}, {"content": "c d e", "task_type": "RETRIEVAL_DOCUMENT"}],
            "parameters": {"outputDimensionality": 2}})
    );
    server.push(Reply::json(
        403,
        json!({"error": {"code": 403, "message": "Permission 'aiplatform.endpoints.predict' denied", "status": "PERMISSION_DENIED"}}),
    ));
    let e = c
        .completion("vertex_ai/gemini-2.5-flash", vec![Message::user("Hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(!e.to_string().contains(TOKEN) && !format!("{e:?}").contains(TOKEN));
}
