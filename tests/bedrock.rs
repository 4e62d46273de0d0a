//! AWS Bedrock (Converse, ConverseStream, InvokeModel embeddings) through the public API against
//! the fake upstream. Event-stream frames are built by this file's own encoder, and SigV4
//! signatures are re-computed by this file's own verifier from what the server received.
//!
//! Run with `cargo test --features bedrock --test bedrock`.
#![cfg(feature = "bedrock")]

mod support;

use std::collections::HashMap;

use futures::StreamExt;
use hmac::{Hmac, KeyInit, Mac};
use litellm::{
    ChatChunk, ChatRequest, ChatStream, Client, EmbeddingRequest, ErrorKind, FinishReason, Message,
    ResponseFormat, Tool, ToolChoice,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::eventstream::{crc32, event, exception};
use support::{FakeUpstream, Recorded, Reply};

const MODEL: &str = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0";
const PATH: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0";
const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FQoGZXIvYXdzEXAMPLETOKEN";
const EVENTSTREAM: &str = "application/vnd.amazon.eventstream";

// ---------------------------------------------------------------------------------------------
// Helpers: a client, an event-stream encoder, a SigV4 verifier.

fn env_client(server: &FakeUpstream, vars: &[(&str, &str)]) -> Client {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert("AWS_BEDROCK_RUNTIME_ENDPOINT".into(), server.url());
    Client::builder()
        .env_lookup(move |name| map.get(name).cloned())
        .build()
        .unwrap()
}

/// SigV4 credentials with a session token, region us-east-1, from the environment.
fn client(server: &FakeUpstream) -> Client {
    env_client(
        server,
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", TOKEN),
            ("AWS_REGION", "us-east-1"),
        ],
    )
}

fn text_events() -> Vec<Vec<u8>> {
    vec![
        event(
            "messageStart",
            json!({"p": "abcdefgh", "role": "assistant"}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Hello"}, "p": "abc"}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": " there"}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event("messageStop", json!({"stopReason": "end_turn"})),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 12, "outputTokens": 2, "totalTokens": 14,
                "cacheReadInputTokens": 4, "cacheWriteInputTokens": 0}, "metrics": {"latencyMs": 100}}),
        ),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it (unreserved characters kept, `/` kept).
fn encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The signature of a request with a path and no query, signed over `signed` headers.
#[allow(clippy::too_many_arguments)]
fn signature(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    signed: &str,
    payload_hash: &str,
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> String {
    let mut canonical_headers = String::new();
    for name in signed.split(';') {
        let value = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| panic!("signed header {name} was not sent"));
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    // Not S3: the path as sent is URI-encoded once more.
    let creq = format!(
        "{method}\n{}\n\n{canonical_headers}\n{signed}\n{payload_hash}",
        encode_path(path)
    );
    let day = &date[..8];
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let sts = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        sha256_hex(creq.as_bytes())
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    hex(&hmac(&k, sts.as_bytes()))
}

/// Checks the Authorization header's shape and that its signature verifies against the
/// request the server recorded.
fn assert_signed(req: &Recorded, region: &str, with_token: bool) {
    let authz = req.header("authorization").expect("authorization header");
    let date = req.header("x-amz-date").expect("x-amz-date header");
    assert_eq!(date.len(), 16, "{date}");
    assert!(date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");
    let hash = req.header("x-amz-content-sha256").expect("payload hash");
    assert_eq!(hash, sha256_hex(&req.body));
    let signed = if with_token {
        assert_eq!(req.header("x-amz-security-token").as_deref(), Some(TOKEN));
        "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
    } else {
        assert!(req.header("x-amz-security-token").is_none());
        "host;x-amz-content-sha256;x-amz-date"
    };
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential={KEY_ID}/{}/{region}/bedrock/aws4_request, SignedHeaders={signed}, Signature=",
        &date[..8]
    );
    let sig = authz
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("authorization {authz:?} does not start with {prefix:?}"));
    assert_eq!(sig.len(), 64);
    let expected = signature(
        &req.method,
        &req.path,
        &req.headers,
        signed,
        &hash,
        SECRET,
        &date,
        region,
        "bedrock",
    );
    assert_eq!(sig, expected, "the signature does not verify");
}

async fn drain(mut s: ChatStream) -> (Vec<ChatChunk>, Option<litellm::Error>) {
    let mut chunks = Vec::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(c) => chunks.push(c),
            Err(e) => return (chunks, Some(e)),
        }
    }
    (chunks, None)
}

fn converse_answer() -> Value {
    json!({
        "metrics": {"latencyMs": 712},
        "output": {"message": {"role": "assistant", "content": [
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "tooluse_A", "name": "get_weather", "input": {"city": "Paris"}}},
            {"toolUse": {"toolUseId": "tooluse_B", "name": "get_weather", "input": {"city": "Oslo"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 514, "outputTokens": 70, "totalTokens": 584, "serverToolUsage": {}}
    })
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

// ---------------------------------------------------------------------------------------------

#[test]
fn verifier_reproduces_the_published_get_vanilla_vector() {
    // AWS SigV4 test suite, get-vanilla: the verifier used below is itself correct.
    let headers = vec![
        ("host".to_owned(), "example.amazonaws.com".to_owned()),
        ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()),
    ];
    assert_eq!(
        signature(
            "GET",
            "/",
            &headers,
            "host;x-amz-date",
            &sha256_hex(b""),
            SECRET,
            "20150830T123600Z",
            "us-east-1",
            "service"
        ),
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[tokio::test]
async fn chat_request_is_signed_and_translated() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, converse_answer()).header("x-amzn-requestid", "req-123"));
    let req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("You are terse."),
            Message::user("Weather in Paris and Oslo?"),
        ],
    )
    .max_tokens(256)
    .temperature(0.5)
    .top_p(0.9)
    .stop("STOP")
    .tools(vec![weather_tool()])
    .tool_choice(ToolChoice::Auto);
    let resp = client(&server).chat(req).await.unwrap();

    let r = server.last_request().unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("{PATH}/converse"));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.header("accept").as_deref(), Some("application/json"));
    assert_eq!(r.header("host"), Some(server.addr().to_string()));
    assert_signed(&r, "us-east-1", true);
    assert_eq!(
        r.json(),
        json!({
            "system": [{"text": "You are terse."}],
            "messages": [{"role": "user", "content": [{"text": "Weather in Paris and Oslo?"}]}],
            "inferenceConfig": {"maxTokens": 256, "temperature": 0.5, "topP": 0.9, "stopSequences": ["STOP"]},
            "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather in a city",
                "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}]}
        })
    );

    assert_eq!(resp.id, "chatcmpl-req-123");
    assert_eq!(resp.meta.request_id.as_deref(), Some("req-123"));
    assert_eq!(resp.meta.provider, "bedrock");
    assert_eq!(resp.text(), Some("Let me check."));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].id, "tooluse_B");
    assert_eq!(
        calls[1].function.parse_arguments::<Value>().unwrap(),
        json!({"city": "Oslo"})
    );
    let usage = resp.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (514, 70, 584)
    );
}

#[tokio::test]
async fn tool_history_round_trip_and_named_choice() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"output": {"message": {"role": "assistant", "content": [{"text": "18C and 5C."}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}),
    ));
    let first = {
        let s = FakeUpstream::start().await;
        s.push(Reply::json(200, converse_answer()));
        client(&s)
            .chat(
                ChatRequest::new(MODEL, vec![Message::user("Weather?")])
                    .tools(vec![weather_tool()]),
            )
            .await
            .unwrap()
    };
    let mut history = vec![Message::user("Weather?")];
    history.push(first.message().unwrap().clone());
    history.push(Message::tool("tooluse_A", "18C"));
    history.push(Message::tool("tooluse_B", "5C"));
    let resp = client(&server)
        .chat(
            ChatRequest::new(MODEL, history)
                .tools(vec![weather_tool()])
                .tool_choice(ToolChoice::function("get_weather")),
        )
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("18C and 5C."));
    let body = server.last_request().unwrap().json();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"text": "Weather?"}]},
            {"role": "assistant", "content": [
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "tooluse_A", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "tooluse_B", "name": "get_weather", "input": {"city": "Oslo"}}}]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "tooluse_A", "content": [{"text": "18C"}]}},
                {"toolResult": {"toolUseId": "tooluse_B", "content": [{"text": "5C"}]}}]}
        ])
    );
    assert_eq!(
        body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
}

#[tokio::test]
async fn bearer_token_auth_and_region_from_env() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(
        200,
        json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}),
    ));
    let c = env_client(
        &server,
        &[
            ("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-123"),
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ],
    );
    c.completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer bedrock-api-key-123")
    );
    assert!(r.header("x-amz-date").is_none());

    // SigV4 scoped to the region of AWS_REGION_NAME (preferred) or AWS_DEFAULT_REGION.
    for (vars, region) in [
        (
            vec![
                ("AWS_REGION_NAME", "eu-west-3"),
                ("AWS_REGION", "us-east-2"),
            ],
            "eu-west-3",
        ),
        (vec![("AWS_DEFAULT_REGION", "ap-south-1")], "ap-south-1"),
        (vec![], "us-west-2"),
    ] {
        let mut all = vars.clone();
        all.push(("AWS_ACCESS_KEY_ID", KEY_ID));
        all.push(("AWS_SECRET_ACCESS_KEY", SECRET));
        env_client(&server, &all)
            .completion(
                "bedrock/converse/amazon.nova-lite-v1:0",
                vec![Message::user("hi")],
            )
            .await
            .unwrap();
        let r = server.last_request().unwrap();
        assert_eq!(r.path, "/model/amazon.nova-lite-v1%3A0/converse");
        assert_signed(&r, region, false);
    }

    // Credentials given on the call.
    let req = ChatRequest::new(MODEL, vec![Message::user("hi")])
        .api_base(server.url())
        .provider_param("aws_access_key_id", KEY_ID)
        .provider_param("aws_secret_access_key", SECRET)
        .provider_param("aws_region_name", "sa-east-1");
    Client::builder()
        .no_env()
        .build()
        .unwrap()
        .chat(req)
        .await
        .unwrap();
    assert_signed(&server.last_request().unwrap(), "sa-east-1", false);
}

#[tokio::test]
async fn missing_credentials_fail_before_any_request() {
    let server = FakeUpstream::start().await;
    let c = env_client(&server, &[("AWS_ACCESS_KEY_ID", KEY_ID)]);
    let e = c
        .completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(e.provider(), Some("bedrock"));
    let e = c
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn stream_with_text_and_usage() {
    let server = FakeUpstream::start().await;
    // Frames split at odd places across HTTP chunks.
    let bytes = text_events().concat();
    let chunks: Vec<Vec<u8>> = bytes.chunks(37).map(<[u8]>::to_vec).collect();
    server.push(Reply::stream_bytes(EVENTSTREAM, chunks).header("x-amzn-requestid", "rs-1"));
    let stream = client(&server)
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, format!("{PATH}/converse-stream"));
    assert_eq!(r.header("accept").as_deref(), Some(EVENTSTREAM));
    assert_signed(&r, "us-east-1", true);
    assert!(r.json().get("stream").is_none());

    let (chunks, err) = drain(stream).await;
    assert!(err.is_none(), "{err:?}");
    let text: String = chunks.iter().filter_map(|c| c.text()).collect();
    assert_eq!(text, "Hello there");
    assert_eq!(
        chunks[0].choices[0].delta.role,
        Some(litellm::Role::Assistant)
    );
    assert_eq!(chunks[0].id, "chatcmpl-rs-1");
    assert_eq!(chunks[0].object, "chat.completion.chunk");
    let finish: Vec<_> = chunks.iter().filter_map(|c| c.finish_reason()).collect();
    assert_eq!(finish, vec![&FinishReason::Stop]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let u = last.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (16, 2, 18)
    );
    assert_eq!(u.cached_tokens(), 4);
}

#[tokio::test]
async fn stream_with_parallel_tool_calls_and_collect_response() {
    let server = FakeUpstream::start().await;
    let frames = vec![
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Checking both."}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\""}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": ":\"Paris\"}"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 1})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_2", "name": "get_weather"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"city\":\"Oslo\"}"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 2})),
        event("messageStop", json!({"stopReason": "tool_use"})),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 30, "outputTokens": 20, "totalTokens": 50}, "metrics": {"latencyMs": 9}}),
        ),
    ];
    server.push(Reply::stream_bytes(EVENTSTREAM, frames.clone()));
    server.push(Reply::stream_bytes(EVENTSTREAM, frames));
    let c = client(&server);
    let req =
        ChatRequest::new(MODEL, vec![Message::user("Paris and Oslo?")]).tools(vec![weather_tool()]);

    let (chunks, err) = drain(c.chat_stream(req.clone()).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let deltas: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .flatten()
        .collect();
    assert_eq!(deltas.len(), 5);
    assert_eq!(deltas[0].index, Some(0));
    assert_eq!(deltas[0].id.as_deref(), Some("tooluse_1"));
    assert_eq!(
        deltas[0].function.as_ref().unwrap().name.as_deref(),
        Some("get_weather")
    );
    assert_eq!(deltas[1].index, Some(0));
    assert!(deltas[1].id.is_none());
    assert_eq!(
        deltas[1].function.as_ref().unwrap().arguments.as_deref(),
        Some("{\"city\"")
    );
    assert_eq!(deltas[3].index, Some(1));
    assert_eq!(deltas[3].id.as_deref(), Some("tooluse_2"));

    let resp = c
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Checking both."));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
    assert_eq!(calls[1].id, "tooluse_2");
    assert_eq!(
        calls[1].function.parse_arguments::<Value>().unwrap(),
        json!({"city": "Oslo"})
    );
    assert_eq!(resp.usage.unwrap().total_tokens, 50);
}

#[tokio::test]
async fn stream_json_schema_through_the_forced_tool() {
    let server = FakeUpstream::start().await;
    server.push(Reply::stream_bytes(
        EVENTSTREAM,
        vec![
            event("messageStart", json!({"role": "assistant"})),
            event("contentBlockStart", json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "json_tool_call"}}})),
            event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"name\":"}}})),
            event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "\"Ada\"}"}}})),
            event("contentBlockStop", json!({"contentBlockIndex": 0})),
            event("messageStop", json!({"stopReason": "tool_use"})),
            event("metadata", json!({"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}})),
        ],
    ));
    let schema =
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    let req = ChatRequest::new(MODEL, vec![Message::user("Name a scientist")])
        .response_format(ResponseFormat::json_schema("person", schema.clone(), true));
    let resp = client(&server)
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some(r#"{"name":"Ada"}"#));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert!(resp.tool_calls().is_empty());
    let body = server.last_request().unwrap().json();
    assert_eq!(
        body["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "json_tool_call",
            "description": "Give the answer as JSON in the arguments of this tool.",
            "inputSchema": {"json": schema}}}],
            "toolChoice": {"tool": {"name": "json_tool_call"}}})
    );
}

#[tokio::test]
async fn mid_stream_exception_is_typed() {
    let server = FakeUpstream::start().await;
    let mut frames = text_events();
    frames.truncate(2);
    frames.push(exception(
        "throttlingException",
        "Too many tokens, please wait.",
    ));
    server.push(Reply::stream_bytes(EVENTSTREAM, frames).header("x-amzn-requestid", "rid-9"));
    let (chunks, err) = drain(
        client(&server)
            .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        chunks.iter().filter_map(|c| c.text()).collect::<String>(),
        "Hello"
    );
    let e = err.expect("an error");
    assert_eq!(e.kind(), ErrorKind::RateLimit);
    assert!(e.is_retryable());
    assert_eq!(e.message(), "Too many tokens, please wait.");
    assert_eq!(e.code(), Some("throttlingException"));
    assert_eq!(e.request_id(), Some("rid-9"));
    assert_eq!(e.provider(), Some("bedrock"));

    server.push(Reply::stream_bytes(
        EVENTSTREAM,
        vec![exception("modelStreamErrorException", "The model failed.")],
    ));
    let (_, err) = drain(
        client(&server)
            .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::InternalServer);
}

#[tokio::test]
async fn truncated_and_corrupt_streams_are_errors() {
    let server = FakeUpstream::start().await;
    // The connection drops after three frames.
    server.push(Reply::stream_bytes(EVENTSTREAM, text_events()).drop_after(3));
    // The body ends cleanly but without messageStop and metadata.
    let mut short = text_events();
    short.truncate(3);
    server.push(Reply::stream_bytes(EVENTSTREAM, short));
    // The body ends in the middle of a frame.
    let mut cut = text_events().concat();
    cut.truncate(cut.len() - 10);
    server.push(Reply::stream_bytes(EVENTSTREAM, vec![cut]));
    // A payload byte flipped: message CRC mismatch.
    let mut bad = text_events();
    let n = bad[1].len();
    bad[1][n - 8] ^= 0x20;
    server.push(Reply::stream_bytes(EVENTSTREAM, bad));
    // An absurd length with a valid prelude CRC.
    let mut huge = vec![0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
    let c = crc32(&huge);
    huge.extend(c.to_be_bytes());
    server.push(Reply::stream_bytes(
        EVENTSTREAM,
        vec![text_events().remove(0), huge],
    ));

    let c = client(&server);
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let (chunks, err) = drain(
            c.chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
                .await
                .unwrap(),
        )
        .await;
        let e = err.expect("a truncated or corrupt stream must end with an error");
        assert!(chunks.iter().all(|c| c.usage.is_none()));
        kinds.push(e.kind());
    }
    assert_eq!(
        kinds,
        vec![
            ErrorKind::ApiConnection,
            ErrorKind::ApiConnection,
            ErrorKind::ApiConnection,
            ErrorKind::InvalidResponse,
            ErrorKind::InvalidResponse,
        ]
    );
    // collect_response reports the error too.
    server.push(Reply::stream_bytes(EVENTSTREAM, text_events()).drop_after(4));
    let e = c
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ApiConnection);
}

#[tokio::test]
async fn http_errors_map_to_kinds() {
    let server = FakeUpstream::start().await;
    let cases = [
        (
            400,
            "ValidationException",
            "Malformed input request",
            ErrorKind::BadRequest,
        ),
        (
            400,
            "ValidationException",
            "Input is too long for requested model.",
            ErrorKind::ContextWindowExceeded,
        ),
        (
            403,
            "AccessDeniedException",
            "You don't have access to the model",
            ErrorKind::PermissionDenied,
        ),
        (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            ErrorKind::Authentication,
        ),
        (
            404,
            "ResourceNotFoundException",
            "This model version has reached the end of its life.",
            ErrorKind::NotFound,
        ),
        (
            408,
            "ModelTimeoutException",
            "Model timed out",
            ErrorKind::Timeout,
        ),
        (
            424,
            "ModelErrorException",
            "The model failed",
            ErrorKind::InternalServer,
        ),
        (
            429,
            "ThrottlingException",
            "Too many requests, please wait",
            ErrorKind::RateLimit,
        ),
        (
            500,
            "InternalServerException",
            "Internal failure",
            ErrorKind::InternalServer,
        ),
        (
            503,
            "ServiceUnavailableException",
            "Service unavailable",
            ErrorKind::ServiceUnavailable,
        ),
    ];
    for (status, ty, msg, _) in &cases {
        server.push(
            Reply::json(*status, json!({ "message": msg }))
                .header(
                    "x-amzn-errortype",
                    &format!("{ty}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                )
                .header("x-amzn-requestid", "err-rid")
                .header("retry-after", "3"),
        );
    }
    let c = client(&server);
    for (status, ty, msg, kind) in cases {
        let e = c
            .completion(MODEL, vec![Message::user("hi")])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{ty}");
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.code(), Some(ty));
        assert_eq!(e.message(), msg);
        assert_eq!(e.request_id(), Some("err-rid"));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(3)));
    }
    // The same on a stream request, before any chunk.
    server.push(
        Reply::json(429, json!({"message": "slow down"}))
            .header("x-amzn-errortype", "ThrottlingException"),
    );
    let e = c
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimit);
}

#[tokio::test]
async fn secrets_stay_out_of_errors() {
    let server = FakeUpstream::start().await;
    server.push(
        Reply::json(
            403,
            json!({"message": format!("bad signature for {SECRET} and {TOKEN}")}),
        )
        .header("x-amzn-errortype", "InvalidSignatureException"),
    );
    let e = client(&server)
        .completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
    // The access key id echoed in the request id header and the error's type and code.
    server.push(
        Reply::json(
            403,
            json!({"message": "denied", "__type": KEY_ID, "code": KEY_ID, "request_id": KEY_ID}),
        )
        .header("x-amzn-errortype", "AccessDeniedException")
        .header("x-amzn-requestid", KEY_ID),
    );
    let e = client(&server)
        .completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap_err();
    let d = e.details();
    let shown = format!(
        "{e} {e:?} {:?} {:?} {:?}",
        d.request_id, d.code, d.error_type
    );
    assert!(!shown.contains(KEY_ID), "{shown}");
}

#[tokio::test]
async fn unsupported_parameters() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    let e = c
        .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]).seed(1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("seed"));
    assert_eq!(server.request_count(), 0);
    server.push(Reply::json(
        200,
        json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}),
    ));
    c.chat(
        ChatRequest::new(MODEL, vec![Message::user("hi")])
            .seed(1)
            .drop_params(true),
    )
    .await
    .unwrap();
    assert!(server.last_request().unwrap().json().get("seed").is_none());
}

#[tokio::test]
async fn titan_embeddings_one_call_per_input() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(
        200,
        json!({"embedding": [0.1, 0.2], "inputTextTokenCount": 3}),
    ));
    server.push(Reply::json(
        200,
        json!({"embedding": [0.3, 0.4], "inputTextTokenCount": 5}),
    ));
    let resp = client(&server)
        .embed(
            EmbeddingRequest::new(
                "bedrock/amazon.titan-embed-text-v2:0",
                vec!["first", "second"],
            )
            .dimensions(256),
        )
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for (r, text) in reqs.iter().zip(["first", "second"]) {
        assert_eq!(r.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
        assert_eq!(r.json(), json!({"inputText": text, "dimensions": 256}));
        assert_signed(r, "us-east-1", true);
    }
    assert_eq!(resp.vectors(), vec![&[0.1f32, 0.2][..], &[0.3f32, 0.4][..]]);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(resp.usage.prompt_tokens, 8);
    assert_eq!(resp.object, "list");
}

#[tokio::test]
async fn cohere_embeddings_in_one_batch() {
    let server = FakeUpstream::start().await;
    server.push(
        Reply::json(
            200,
            json!({"id": "e1", "response_type": "embeddings_floats", "texts": ["a", "b"],
                "embeddings": [[1.0, 0.0], [0.0, 1.0]]}),
        )
        .header("x-amzn-bedrock-input-token-count", "4"),
    );
    let resp = client(&server)
        .embed(
            EmbeddingRequest::new("bedrock/cohere.embed-english-v3", vec!["a", "b"])
                .extra_body(json!({"input_type": "search_query"})),
        )
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/model/cohere.embed-english-v3/invoke");
    assert_eq!(
        r.json(),
        json!({"texts": ["a", "b"], "input_type": "search_query"})
    );
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].embedding, vec![0.0, 1.0]);
    assert_eq!(resp.usage.prompt_tokens, 4);
    // Other models and token input are Unsupported, before any request.
    let c = client(&server);
    let e = c
        .embedding("bedrock/amazon.nova-lite-v1:0", "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = c
        .embed(EmbeddingRequest::new(
            "bedrock/cohere.embed-english-v3",
            vec![1u32, 2, 3],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(server.request_count(), 1);
    // An error answer to an embeddings call.
    server.push(
        Reply::json(400, json!({"message": "invalid input_type"}))
            .header("x-amzn-errortype", "ValidationException"),
    );
    let e = c
        .embedding("bedrock/cohere.embed-english-v3", "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn idle_stream_times_out() {
    let server = FakeUpstream::start().await;
    server.push(
        Reply::stream_bytes(EVENTSTREAM, text_events())
            .stall_after(2, std::time::Duration::from_secs(5)),
    );
    let c = Client::builder()
        .env_lookup({
            let url = server.url();
            move |name| match name {
                "AWS_BEDROCK_RUNTIME_ENDPOINT" => Some(url.clone()),
                "AWS_BEARER_TOKEN_BEDROCK" => Some("k".into()),
                _ => None,
            }
        })
        .stream_idle_timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let (chunks, err) = drain(
        c.chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(chunks.len(), 2);
    assert_eq!(err.unwrap().kind(), ErrorKind::Timeout);
}
