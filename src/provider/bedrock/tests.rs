//! Unit tests of the pure Bedrock translation, on payloads written from wire-formats.md §10.

use std::collections::VecDeque;

use serde_json::{Value, json};

use super::converse::{
    ConverseDecoder, converse_body, exception_kind, finish_reason, parse_response, refine_error,
    usage,
};
use super::eventstream::{FrameDecoder, encode};
use super::*;
use crate::provider::decode::ChunkDecoder;
use crate::provider::test_util::collect;
use crate::types::{
    ChatChunk, ContentPart, FinishReason, Message, ResponseFormat, Tool, ToolCall, ToolChoice,
};

fn cx(model: &str) -> CallContext {
    CallContext::new(reqwest::Client::new(), "bedrock", model)
}

fn body(req: &ChatRequest) -> Value {
    converse_body(req, &cx("anthropic.claude-3-5-sonnet-20240620-v1:0"))
        .unwrap()
        .body
}

fn weather() -> Tool {
    Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    )
}

#[test]
fn request_mapping() {
    let req = ChatRequest::new(
        "bedrock/x",
        vec![
            Message::system("Be brief."),
            Message::developer("Use metric units."),
            Message::user(vec![
                ContentPart::text("What is in this picture?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ]),
            Message::assistant_tool_calls(vec![
                ToolCall::function("tooluse_1", "get_weather", r#"{"city":"Paris"}"#),
                ToolCall::function("tooluse_2", "get_weather", ""),
            ]),
            Message::tool("tooluse_1", "18C"),
            Message::tool("tooluse_2", "20C"),
            Message::user("Thanks"),
        ],
    )
    .max_tokens(100)
    .temperature(0.2)
    .top_p(0.9)
    .stop(["END"])
    .tools(vec![weather()])
    .tool_choice(ToolChoice::Required);
    assert_eq!(
        body(&req),
        json!({
            "system": [{"text": "Be brief."}, {"text": "Use metric units."}],
            "messages": [
                {"role": "user", "content": [
                    {"text": "What is in this picture?"},
                    {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}]},
                {"role": "assistant", "content": [
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "tooluse_2", "name": "get_weather", "input": {}}}]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18C"}]}},
                    {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "20C"}]}},
                    {"text": "Thanks"}]}
            ],
            "inferenceConfig": {"maxTokens": 100, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
            "toolConfig": {
                "tools": [{"toolSpec": {"name": "get_weather", "description": "Weather in a city",
                    "inputSchema": {"json": {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}}],
                "toolChoice": {"any": {}}
            }
        })
    );
}

#[test]
fn tool_choice_forms() {
    let base = ChatRequest::new("x", vec![Message::user("hi")]).tools(vec![weather()]);
    let tc = |req: ChatRequest| body(&req).get("toolConfig").cloned();
    assert!(tc(base.clone()).unwrap().get("toolChoice").is_none());
    assert!(
        tc(base.clone().tool_choice(ToolChoice::Auto))
            .unwrap()
            .get("toolChoice")
            .is_none()
    );
    assert_eq!(
        tc(base
            .clone()
            .tool_choice(ToolChoice::function("get_weather")))
        .unwrap()["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
    assert!(tc(base.clone().tool_choice(ToolChoice::None)).is_none());
    // With tool calls in the history, Converse needs the tools: kept, without a choice.
    let with_history = base
        .clone()
        .message(Message::assistant_tool_calls(vec![ToolCall::function(
            "t",
            "get_weather",
            "{}",
        )]))
        .message(Message::tool("t", "ok"))
        .tool_choice(ToolChoice::None);
    let t = tc(with_history).unwrap();
    assert!(t.get("toolChoice").is_none() && t["tools"].as_array().unwrap().len() == 1);
    let e = converse_body(
        &base.tool_choice(ToolChoice::Other(json!({"type": "allowed_tools"}))),
        &cx("m"),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[test]
fn response_format_becomes_a_forced_tool() {
    let schema = json!({"type":"object","properties":{"name":{"type":"string"}}});
    let req = ChatRequest::new("x", vec![Message::user("hi")])
        .response_format(ResponseFormat::json_schema("person", schema.clone(), true));
    let cb = converse_body(&req, &cx("m")).unwrap();
    assert!(cb.json_tool);
    assert_eq!(
        cb.body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": JSON_TOOL}})
    );
    assert_eq!(
        cb.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
        schema
    );
    let req = ChatRequest::new("x", vec![Message::user("hi")])
        .response_format(ResponseFormat::JsonObject);
    assert!(converse_body(&req, &cx("m")).unwrap().json_tool);
    // The answer comes back as text with finish reason stop.
    let answer = json!({"output":{"message":{"role":"assistant","content":[
        {"toolUse":{"toolUseId":"t1","name":JSON_TOOL,"input":{"name":"Ada"}}}]}},
        "stopReason":"tool_use","usage":{"inputTokens":5,"outputTokens":3,"totalTokens":8},"metrics":{"latencyMs":1}});
    let r = parse_response(&answer, "m", true, None).unwrap();
    assert_eq!(r.text(), Some(r#"{"name":"Ada"}"#));
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    assert!(r.tool_calls().is_empty());
    // With other tools: Unsupported, or dropped with drop_params.
    let req = req.tools(vec![weather()]);
    assert_eq!(
        converse_body(&req, &cx("m")).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let mut c = cx("m");
    c.drop_params = true;
    let cb = converse_body(&req, &c).unwrap();
    assert!(!cb.json_tool);
    assert_eq!(cb.body["toolConfig"]["tools"].as_array().unwrap().len(), 1);
}

#[test]
fn unsupported_params_and_drop_params() {
    let req = ChatRequest::new("x", vec![Message::user("hi")]).seed(3);
    let e = converse_body(&req, &cx("m")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("'seed'"), "{}", e.message());
    for req in [
        ChatRequest::new("x", vec![Message::user("hi")]).n(2),
        ChatRequest::new("x", vec![Message::user("hi")]).presence_penalty(0.5),
        ChatRequest::new("x", vec![Message::user("hi")]).parallel_tool_calls(false),
        ChatRequest::new("x", vec![Message::user("hi")]).user("u"),
        ChatRequest::new(
            "x",
            vec![Message::user(vec![ContentPart::image_url(
                "https://example.com/cat.png",
            )])],
        ),
        ChatRequest::new(
            "x",
            vec![Message::user(vec![ContentPart::input_audio("AAA", "wav")])],
        ),
    ] {
        assert_eq!(
            converse_body(&req, &cx("m")).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        let mut c = cx("m");
        c.drop_params = true;
        let b = converse_body(&req, &c).unwrap().body;
        assert!(b.get("seed").is_none() && b.get("additionalModelRequestFields").is_none());
    }
    // A URL image dropped with drop_params leaves the rest of the message.
    let mut c = cx("m");
    c.drop_params = true;
    let req = ChatRequest::new(
        "x",
        vec![Message::user(vec![
            ContentPart::text("look"),
            ContentPart::image_url("https://example.com/cat.png"),
        ])],
    );
    assert_eq!(
        converse_body(&req, &c).unwrap().body["messages"][0]["content"],
        json!([{"text": "look"}])
    );
}

#[test]
fn extra_body_reasoning_cache_points_and_documents() {
    let req = ChatRequest::new(
        "x",
        vec![
            Message::system(vec![
                ContentPart::text("Long instructions")
                    .with_field("cache_control", json!({"type":"ephemeral"})),
            ]),
            Message::user(vec![
                ContentPart::File {
                    file: crate::types::FileData {
                        file_data: Some("data:application/pdf;base64,JVBERi0=".into()),
                        file_id: None,
                        filename: Some("q3 report.pdf".into()),
                    },
                    extra: Default::default(),
                },
                ContentPart::Other(json!({"cachePoint": {"type": "default"}})),
                ContentPart::image_url("s3://bucket/cat.jpg"),
            ]),
        ],
    )
    .reasoning_effort("medium")
    .extra_body(json!({
        "top_k": 40,
        "guardrailConfig": {"guardrailIdentifier": "g", "guardrailVersion": "1"},
        "inferenceConfig": {"maxTokens": 7},
        "additionalModelRequestFields": {"anthropic_beta": ["x"]}
    }));
    let b = body(&req);
    assert_eq!(
        b["system"],
        json!([{"text": "Long instructions"}, {"cachePoint": {"type": "default"}}])
    );
    assert_eq!(
        b["messages"][0]["content"],
        json!([
            {"document": {"format": "pdf", "name": "q3 report", "source": {"bytes": "JVBERi0="}}},
            {"cachePoint": {"type": "default"}},
            {"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/cat.jpg"}}}}
        ])
    );
    assert_eq!(
        b["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}, "top_k": 40, "anthropic_beta": ["x"]})
    );
    assert_eq!(b["guardrailConfig"]["guardrailIdentifier"], "g");
    assert_eq!(b["inferenceConfig"], json!({"maxTokens": 7}));
    // reasoning_effort on a model without thinking: Unsupported.
    let req = ChatRequest::new("x", vec![Message::user("hi")]).reasoning_effort("high");
    assert_eq!(
        converse_body(&req, &cx("amazon.nova-lite-v1:0"))
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn bad_history_is_bad_request() {
    let req = ChatRequest::new(
        "x",
        vec![Message::assistant_tool_calls(vec![ToolCall::function(
            "t",
            "f",
            "{not json",
        )])],
    );
    assert_eq!(
        converse_body(&req, &cx("m")).unwrap_err().kind(),
        ErrorKind::BadRequest
    );
    let mut m = Message::tool("t", "x");
    m.tool_call_id = None;
    let req = ChatRequest::new("x", vec![m]);
    assert_eq!(
        converse_body(&req, &cx("m")).unwrap_err().kind(),
        ErrorKind::BadRequest
    );
    let req = ChatRequest::new(
        "x",
        vec![Message::system(vec![ContentPart::image_url(
            "data:image/png;base64,AA==",
        )])],
    );
    assert_eq!(
        converse_body(&req, &cx("m")).unwrap_err().kind(),
        ErrorKind::BadRequest
    );
}

#[test]
fn response_mapping() {
    // Shape of wire-formats.md §10.3 (tool round trip, turn 1), with cache usage.
    let v = json!({"metrics":{"latencyMs":712},"output":{"message":{"content":[
        {"reasoningContent":{"reasoningText":{"text":"Subtract.","signature":"sig1"}}},
        {"text":"I will call the tool.\n"},
        {"toolUse":{"input":{"x":2,"y":5},"name":"subtract","toolUseId":"tooluse_1"}},
        {"toolUse":{"input":{"x":1,"y":1},"name":"add","toolUseId":"tooluse_2"}}],"role":"assistant"}},
        "stopReason":"tool_use","usage":{"inputTokens":514,"outputTokens":70,"totalTokens":584,
        "cacheReadInputTokens":100,"cacheWriteInputTokens":10,"serverToolUsage":{}}});
    let r = parse_response(&v, "m", false, Some("rid-1")).unwrap();
    assert_eq!(r.id, "chatcmpl-rid-1");
    assert_eq!(r.object, "chat.completion");
    assert_eq!(r.text(), Some("I will call the tool.\n"));
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = r.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "tooluse_1");
    assert_eq!(calls[0].function.name, "subtract");
    assert_eq!(
        calls[0].function.parse_arguments::<Value>().unwrap(),
        json!({"x":2,"y":5})
    );
    let m = r.message().unwrap().clone();
    assert_eq!(m.reasoning_content.as_deref(), Some("Subtract."));
    assert_eq!(
        m.extra["thinking_blocks"],
        json!([{"type":"thinking","thinking":"Subtract.","signature":"sig1"}])
    );
    let u = r.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (624, 70, 694)
    );
    assert_eq!(u.cached_tokens(), 100);
    assert_eq!(
        u.prompt_tokens_details.unwrap().cache_write_tokens,
        Some(10)
    );
    // The thinking blocks go back as reasoningContent on the next turn.
    let req = ChatRequest::new("x", vec![Message::user("q"), m]);
    assert_eq!(
        body(&req)["messages"][1]["content"][0],
        json!({"reasoningContent": {"reasoningText": {"text": "Subtract.", "signature": "sig1"}}})
    );
    // A text-only answer; no body → InvalidResponse.
    let v = json!({"output":{"message":{"content":[{"text":"Hi"}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1}});
    let r = parse_response(&v, "m", false, None).unwrap();
    assert_eq!(r.text(), Some("Hi"));
    assert!(r.id.starts_with("chatcmpl-"));
    assert_eq!(
        parse_response(&json!({"message": "x"}), "m", false, None)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidResponse
    );
    let v = json!({"output":{"message":{"content":[]}},"stopReason":"malformed_tool_use"});
    assert_eq!(
        parse_response(&v, "m", false, None).unwrap_err().kind(),
        ErrorKind::InternalServer
    );
}

#[test]
fn stop_reasons_and_usage() {
    for (s, f) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
        ("something_new", FinishReason::Other("something_new".into())),
    ] {
        assert_eq!(finish_reason(s).unwrap(), f);
    }
    assert!(finish_reason("malformed_model_output").is_err());
    let u = usage(&json!({"inputTokens": -5, "outputTokens": 1e30, "totalTokens": null}));
    assert_eq!(u.prompt_tokens, 0);
    assert_eq!(u.completion_tokens, u64::MAX);
}

#[test]
fn error_kinds() {
    use crate::provider::error_map::error_from_response;
    use reqwest::header::{HeaderMap, HeaderValue};
    let err = |status: u16, ty: &str, body: &str| {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-errortype",
            HeaderValue::from_str(&format!(
                "{ty}:http://internal.amazon.com/coral/com.amazon.bedrock/"
            ))
            .unwrap(),
        );
        refine_error(error_from_response(status, &h, body.as_bytes()))
    };
    for (status, ty, kind) in [
        (400, "ValidationException", ErrorKind::BadRequest),
        (400, "ServiceQuotaExceededException", ErrorKind::RateLimit),
        (403, "AccessDeniedException", ErrorKind::PermissionDenied),
        (
            403,
            "UnrecognizedClientException",
            ErrorKind::Authentication,
        ),
        (403, "InvalidSignatureException", ErrorKind::Authentication),
        (403, "ExpiredTokenException", ErrorKind::Authentication),
        (404, "ResourceNotFoundException", ErrorKind::NotFound),
        (408, "ModelTimeoutException", ErrorKind::Timeout),
        (424, "ModelErrorException", ErrorKind::InternalServer),
        (429, "ThrottlingException", ErrorKind::RateLimit),
        (429, "ModelNotReadyException", ErrorKind::RateLimit),
        (500, "InternalServerException", ErrorKind::InternalServer),
        (
            503,
            "ServiceUnavailableException",
            ErrorKind::ServiceUnavailable,
        ),
    ] {
        let e = err(status, ty, r#"{"message":"boom"}"#);
        assert_eq!(e.kind(), kind, "{ty}");
        assert_eq!(e.code(), Some(ty));
        assert_eq!(e.message(), "boom");
        assert_eq!(e.status(), Some(status));
    }
    let e = err(
        400,
        "ValidationException",
        r#"{"message":"Input is too long for requested model."}"#,
    );
    assert_eq!(e.kind(), ErrorKind::ContextWindowExceeded);
    let e = err(
        424,
        "ModelErrorException",
        r#"{"message":"overloaded","originalStatusCode":529,"resourceName":"x"}"#,
    );
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    // The exception name in the body's __type when the header is missing.
    let e = refine_error(error_from_response(
        403,
        &HeaderMap::new(),
        br#"{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"bad token"}"#,
    ));
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(exception_kind("throttlingException").unwrap().1, 429);
    assert!(exception_kind("mysteryException").is_none());
}

#[test]
fn endpoints_auth_and_signing() {
    let mut c = cx("converse/anthropic.claude-3-5-sonnet-20240620-v1:0");
    assert_eq!(
        endpoint(&c, "converse").unwrap(),
        "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    c.params
        .push(("aws_region_name".into(), "eu-central-1".into()));
    assert!(
        endpoint(&c, "invoke")
            .unwrap()
            .starts_with("https://bedrock-runtime.eu-central-1.amazonaws.com/model/")
    );
    assert!(
        endpoint(&cx("invoke/cohere.command-r-v1:0"), "converse")
            .unwrap()
            .ends_with("/model/cohere.command-r-v1%3A0/converse")
    );
    let arn = cx("arn:aws:bedrock:us-east-1:123:inference-profile/us.meta.llama3");
    assert!(endpoint(&arn, "converse").unwrap().ends_with(
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.meta.llama3/converse"
    ));
    let mut bad = cx("m");
    bad.params
        .push(("aws_region_name".into(), "us-east-1.evil.com/".into()));
    assert_eq!(
        endpoint(&bad, "converse").unwrap_err().kind(),
        ErrorKind::Config
    );
    // No credentials at all: Authentication before any request.
    let e = build_request(
        &c,
        "https://h/model/m/converse".into(),
        b"{}".to_vec(),
        "application/json",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    // SigV4.
    c.params
        .push(("aws_access_key_id".into(), "AKIDEXAMPLE".into()));
    c.params
        .push(("aws_secret_access_key".into(), "secret".into()));
    c.params
        .push(("aws_session_token".into(), "SESSION-TOKEN-VALUE".into()));
    let r = build_request(
        &c,
        "http://127.0.0.1:9/model/a%3A0/converse".into(),
        b"{}".to_vec(),
        "application/json",
    )
    .unwrap();
    let authz = r.headers["authorization"].to_str().unwrap();
    assert!(
        authz.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authz}"
    );
    assert!(authz.contains("/eu-central-1/bedrock/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="));
    assert!(
        r.headers["authorization"].is_sensitive()
            && r.headers["x-amz-security-token"].is_sensitive()
    );
    assert_eq!(
        r.headers["x-amz-content-sha256"],
        sigv4::sha256_hex(b"{}").as_str()
    );
    assert!(!format!("{:?}", r.headers).contains("SESSION-TOKEN-VALUE"));
    // A bearer token wins and nothing is signed.
    c.api_key = Some("br-key".into());
    let r = build_request(&c, "http://h/x".into(), Vec::new(), "application/json").unwrap();
    assert_eq!(r.headers["authorization"], "Bearer br-key");
    assert!(r.headers.get("x-amz-date").is_none());
}

fn ev(kind: &str, payload: Value) -> Vec<u8> {
    encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A tool-call stream with text, two parallel tool calls, reasoning and padding (`p`).
fn tool_stream() -> Vec<u8> {
    [
        ev("messageStart", json!({"p":"abc","role":"assistant"})),
        ev("contentBlockDelta", json!({"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Think."}}})),
        ev("contentBlockDelta", json!({"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig"}}})),
        ev("contentBlockStop", json!({"contentBlockIndex":0})),
        ev("contentBlockDelta", json!({"contentBlockIndex":1,"delta":{"text":"Checking."},"p":"ab"})),
        ev("contentBlockStop", json!({"contentBlockIndex":1})),
        ev("contentBlockStart", json!({"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tu_1","name":"get_weather"}}})),
        ev("contentBlockDelta", json!({"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\":"}}})),
        ev("contentBlockStart", json!({"contentBlockIndex":3,"start":{"toolUse":{"toolUseId":"tu_2","name":"get_time"}}})),
        ev("contentBlockDelta", json!({"contentBlockIndex":2,"delta":{"toolUse":{"input":"\"Paris\"}"}}})),
        ev("contentBlockDelta", json!({"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}})),
        ev("contentBlockStop", json!({"contentBlockIndex":2})),
        ev("contentBlockStop", json!({"contentBlockIndex":3})),
        ev("messageStop", json!({"stopReason":"tool_use"})),
        ev("metadata", json!({"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":3}})),
    ]
    .concat()
}

fn decode_all(bytes: &[u8], json_tool: bool) -> (Vec<ChatChunk>, Result<()>) {
    let mut frames = VecDeque::new();
    let mut d = FrameDecoder::new(1 << 20);
    if let Err(e) = d.feed(bytes, &mut frames) {
        return (Vec::new(), Err(e));
    }
    let mut dec = ConverseDecoder::new("m", json_tool, Some("rid"));
    let mut out = VecDeque::new();
    for f in frames {
        match dec.decode(f, &mut out) {
            Ok(true) => return (out.into(), Ok(())),
            Ok(false) => {}
            Err(e) => return (out.into(), Err(e)),
        }
    }
    let end = d.finish().and_then(|_| dec.end(&mut out));
    (out.into(), end)
}

#[test]
fn stream_with_parallel_tool_calls() {
    let (chunks, end) = decode_all(&tool_stream(), false);
    end.unwrap();
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 15);
    // Tool-call deltas: index = running counter, id/name on the first fragment.
    let first_call = chunks
        .iter()
        .find_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .unwrap();
    assert_eq!(first_call[0].index, Some(0));
    assert_eq!(first_call[0].id.as_deref(), Some("tu_1"));
    assert_eq!(first_call[0].kind.as_deref(), Some("function"));
    let r = collect(&chunks);
    assert_eq!(r.id, "chatcmpl-rid");
    assert_eq!(r.text(), Some("Checking."));
    assert_eq!(
        r.message().unwrap().reasoning_content.as_deref(),
        Some("Think.")
    );
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = r.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].id.as_str(), calls[0].function.name.as_str()),
        ("tu_1", "get_weather")
    );
    assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
    assert_eq!(
        (calls[1].id.as_str(), calls[1].function.arguments.as_str()),
        ("tu_2", "{}")
    );
}

#[test]
fn stream_order_json_tool_and_endings() {
    // metadata before messageStop (as in a recorded fixture): still complete, usage last.
    let bytes = [
        ev("messageStart", json!({"role":"assistant"})),
        ev(
            "contentBlockStart",
            json!({"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t","name":JSON_TOOL}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":"}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex":0,"delta":{"toolUse":{"input":"1}"}}}),
        ),
        ev(
            "metadata",
            json!({"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}),
        ),
        ev("messageStop", json!({"stopReason":"tool_use"})),
    ]
    .concat();
    let (chunks, end) = decode_all(&bytes, true);
    end.unwrap();
    assert!(chunks.last().unwrap().usage.is_some());
    let r = collect(&chunks);
    assert_eq!(r.text(), Some(r#"{"a":1}"#));
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    // Truncated before metadata / before messageStop: errors naming what is missing.
    let mut cut = tool_stream();
    let last = ev(
        "metadata",
        json!({"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":3}}),
    );
    cut.truncate(cut.len() - last.len());
    let (_, end) = decode_all(&cut, false);
    let e = end.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ApiConnection);
    assert!(e.message().contains("metadata"));
    let (_, end) = decode_all(&ev("messageStart", json!({"role":"assistant"})), false);
    assert!(end.unwrap_err().message().contains("messageStop"));
    // Cut in the middle of a frame.
    let full = tool_stream();
    let (_, end) = decode_all(&full[..full.len() - 3], false);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ApiConnection);
}

#[test]
fn stream_exceptions_are_typed() {
    for (name, kind) in [
        ("throttlingException", ErrorKind::RateLimit),
        ("modelStreamErrorException", ErrorKind::InternalServer),
        ("validationException", ErrorKind::BadRequest),
        ("serviceUnavailableException", ErrorKind::ServiceUnavailable),
        ("internalServerException", ErrorKind::InternalServer),
    ] {
        let mut bytes = ev("messageStart", json!({"role":"assistant"}));
        bytes.extend(encode(
            &[
                (":message-type", "exception"),
                (":exception-type", name),
                (":content-type", "application/json"),
            ],
            br#"{"message":"went wrong"}"#,
        ));
        let (chunks, end) = decode_all(&bytes, false);
        assert_eq!(chunks.len(), 1);
        let e = end.unwrap_err();
        assert_eq!(e.kind(), kind, "{name}");
        assert_eq!(e.message(), "went wrong");
        assert_eq!(e.code(), Some(name));
    }
    let bytes = encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "validationException"),
        ],
        br#"{"message":"Input is too long for requested model."}"#,
    );
    assert_eq!(
        decode_all(&bytes, false).1.unwrap_err().kind(),
        ErrorKind::ContextWindowExceeded
    );
    let bytes = encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "modelStreamErrorException"),
        ],
        br#"{"message":"x","originalStatusCode":429}"#,
    );
    assert_eq!(
        decode_all(&bytes, false).1.unwrap_err().kind(),
        ErrorKind::RateLimit
    );
    let bytes = encode(
        &[
            (":message-type", "error"),
            (":error-code", "InternalFailure"),
            (":error-message", "oops"),
        ],
        b"",
    );
    let e = decode_all(&bytes, false).1.unwrap_err();
    assert_eq!((e.kind(), e.message()), (ErrorKind::InternalServer, "oops"));
    // An event whose payload is not JSON.
    let bytes = encode(
        &[
            (":message-type", "event"),
            (":event-type", "contentBlockDelta"),
        ],
        b"{nope",
    );
    assert_eq!(
        decode_all(&bytes, false).1.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
}

/// Arbitrary bytes through the frame decoder and the Converse decoder: errors, never panics;
/// and a decent share of mutated valid streams still decode into chunks.
#[test]
fn arbitrary_streams_never_panic() {
    use crate::testutil::{Rng, fuzz_inputs, random_splits};
    let text = [
        ev("messageStart", json!({"role":"assistant"})),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex":0,"delta":{"text":"Hello"}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex":0,"delta":{"text":" world"}}),
        ),
        ev("messageStop", json!({"stopReason":"end_turn"})),
        ev(
            "metadata",
            json!({"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}),
        ),
    ]
    .concat();
    let tools = tool_stream();
    let exception = encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
        ],
        br#"{"message":"slow"}"#,
    );
    let seeds: [&[u8]; 3] = [&text, &tools, &exception];
    let mut rng = Rng::new(11);
    let mut decoded = 0;
    let mut complete = 0;
    for input in fuzz_inputs(&seeds, b"\x00\x07:{}\"event-typemessage", 3000, 99) {
        let mut frames = VecDeque::new();
        let mut d = FrameDecoder::new(1 << 16);
        let mut ok = true;
        for part in random_splits(&input, &mut rng) {
            if d.feed(part, &mut frames).is_err() {
                ok = false;
                break;
            }
        }
        if ok {
            let _ = d.finish();
        }
        let mut dec = ConverseDecoder::new("m", rng.below(2) == 0, None);
        let mut out = VecDeque::new();
        let mut finished = false;
        for f in frames {
            match dec.decode(f, &mut out) {
                Ok(true) => {
                    finished = true;
                    break;
                }
                Ok(false) => {}
                Err(_) => break,
            }
        }
        if finished {
            complete += 1;
        } else {
            let _ = dec.end(&mut out);
        }
        decoded += out.len();
        let _ = collect(&out);
    }
    assert!(decoded > 300, "only {decoded} chunks decoded");
    // CRCs reject nearly every mutated frame; splices at frame boundaries still complete.
    assert!(complete > 0, "no stream complete");
}

#[test]
fn embedding_bodies() {
    let c = cx("amazon.titan-embed-text-v2:0");
    let req = EmbeddingRequest::new("bedrock/x", vec!["a", "b"]).dimensions(256);
    assert_eq!(
        embed_body(
            &EmbedFamily::Titan,
            "amazon.titan-embed-text-v2:0",
            &["a"],
            &req,
            &c
        )
        .unwrap(),
        json!({"inputText": "a", "dimensions": 256})
    );
    assert_eq!(
        embed_body(
            &EmbedFamily::Titan,
            "amazon.titan-embed-text-v1",
            &["a"],
            &req,
            &c
        )
        .unwrap_err()
        .kind(),
        ErrorKind::Unsupported
    );
    let req = EmbeddingRequest::new("bedrock/x", vec!["a", "b"])
        .extra_body(json!({"input_type": "search_query", "truncate": "END"}));
    assert_eq!(
        embed_body(
            &EmbedFamily::Cohere,
            "cohere.embed-english-v3",
            &["a", "b"],
            &req,
            &c
        )
        .unwrap(),
        json!({"texts": ["a", "b"], "input_type": "search_query", "truncate": "END"})
    );
    assert_eq!(
        cohere_vectors(&json!({"embeddings": [[0.5, 1.0]]})),
        Some(vec![vec![0.5, 1.0]])
    );
    assert_eq!(
        cohere_vectors(&json!({"embeddings": {"float": [[0.25]]}})),
        Some(vec![vec![0.25]])
    );
    assert_eq!(cohere_vectors(&json!({"embeddings": [["x"]]})), None);
}
