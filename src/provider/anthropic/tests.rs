//! Unit tests of the pure Anthropic translation, on payloads written from the reference.

use super::request::*;
use super::response::*;
use super::stream::*;
use super::*;
use crate::provider::test_util::{collect, decode_events};
use crate::types::{ImageUrl, JsonSchemaFormat};
use serde_json::json;

fn cx(model: &str) -> CallContext {
    CallContext::new(reqwest::Client::new(), "anthropic", model)
}

fn sonnet() -> CallContext {
    cx("claude-sonnet-4-5")
}

fn body_with(req: &ChatRequest, cx: &CallContext) -> Value {
    Value::Object(build_body(req, cx, false).unwrap().0)
}

fn body(req: &ChatRequest) -> Value {
    body_with(req, &sonnet())
}

fn req(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new("anthropic/claude-sonnet-4-5", messages)
}

fn err_of(req: &ChatRequest, cx: &CallContext) -> Error {
    build_body(req, cx, false).unwrap_err()
}

fn weather() -> Tool {
    Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    )
}

// ---------------------------------------------------------------------------------------------
// Request.

#[test]
fn minimal_body_has_model_default_max_tokens_and_string_content() {
    let b = body(&req(vec![Message::user("Hello")]));
    assert_eq!(
        b,
        json!({"model":"claude-sonnet-4-5","max_tokens":4096,
            "messages":[{"role":"user","content":"Hello"}]})
    );
    let (raw, plan) = request_body(&req(vec![Message::user("Hi")]), &sonnet(), true).unwrap();
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v["stream"], true);
    assert_eq!(plan, Plan::default());
}

#[test]
fn max_tokens_prefers_max_completion_tokens() {
    let b = body(&req(vec![Message::user("x")]).max_tokens(10));
    assert_eq!(b["max_tokens"], 10);
    let b = body(
        &req(vec![Message::user("x")])
            .max_tokens(10)
            .max_completion_tokens(20),
    );
    assert_eq!(b["max_tokens"], 20);
}

#[test]
fn system_and_developer_become_top_level_system() {
    let b = body(&req(vec![
        Message::system("Be brief."),
        Message::user("Hi"),
        Message::developer(vec![ContentPart::text("Answer in French.")]),
    ]));
    assert_eq!(b["system"], "Be brief.\n\nAnswer in French.");
    assert_eq!(b["messages"], json!([{"role":"user","content":"Hi"}]));

    // cache_control on a part → blocks, extras kept
    let b = body(&req(vec![
        Message::system(vec![
            ContentPart::text("Long context")
                .with_field("cache_control", json!({"type":"ephemeral"})),
        ]),
        Message::system("Second"),
        Message::user("Hi"),
    ]));
    assert_eq!(
        b["system"],
        json!([
            {"type":"text","text":"Long context","cache_control":{"type":"ephemeral"}},
            {"type":"text","text":"Second"}
        ])
    );
    // empty system text is skipped; an image in a system message is refused
    let b = body(&req(vec![Message::system(""), Message::user("Hi")]));
    assert!(b.get("system").is_none());
    let e = err_of(
        &req(vec![
            Message::system(vec![ContentPart::image_url("https://x/y.png")]),
            Message::user("Hi"),
        ]),
        &sonnet(),
    );
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    // nothing but a system prompt
    let e = err_of(&req(vec![Message::system("x")]), &sonnet());
    assert_eq!(e.kind(), ErrorKind::BadRequest);
}

#[test]
fn same_role_messages_merge_and_tool_results_open_the_user_turn() {
    let b = body(&req(vec![
        Message::user("one"),
        Message::user(vec![ContentPart::text("two"), ContentPart::text("")]),
        Message::assistant_tool_calls(vec![
            ToolCall::function("call_1", "get_weather", r#"{"city":"Paris"}"#),
            ToolCall::function("call.2:x", "get_time", ""),
        ]),
        Message::tool("call_1", "21C"),
        Message::user("and?"),
        Message::tool("call.2:x", vec![ContentPart::text("14:00")]),
        Message::assistant(""),
        Message::assistant("It is 21C at 14:00."),
    ]));
    assert_eq!(
        b["messages"],
        json!([
            {"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]},
            {"role":"assistant","content":[
                {"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"call_2_x","name":"get_time","input":{}}
            ]},
            {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"call_1","content":"21C"},
                {"type":"tool_result","tool_use_id":"call_2_x","content":[{"type":"text","text":"14:00"}]},
                {"type":"text","text":"and?"}
            ]},
            {"role":"assistant","content":"It is 21C at 14:00."}
        ])
    );
}

#[test]
fn tool_result_errors_and_missing_ids() {
    let mut m = Message::tool("t1", "boom");
    m.extra.insert("is_error".into(), json!(true));
    let b = body(&req(vec![Message::user("x"), m]));
    assert_eq!(
        b["messages"][0]["content"][0],
        json!({"type":"tool_result","tool_use_id":"t1","content":"boom","is_error":true})
    );
    let mut m = Message::tool("", "x");
    m.tool_call_id = None;
    assert_eq!(
        err_of(&req(vec![m]), &sonnet()).kind(),
        ErrorKind::BadRequest
    );
}

#[test]
fn invalid_tool_arguments_are_bad_requests_not_panics() {
    for args in ["{not json", "[1,2]", "\"text\"", "42"] {
        let e = err_of(
            &req(vec![
                Message::user("x"),
                Message::assistant_tool_calls(vec![ToolCall::function("c", "f", args)]),
            ]),
            &sonnet(),
        );
        assert_eq!(e.kind(), ErrorKind::BadRequest, "{args}");
        assert!(e.message().contains("tool_calls[0] (f)"), "{}", e.message());
    }
    // null arguments are an empty object
    let b = body(&req(vec![
        Message::user("x"),
        Message::assistant_tool_calls(vec![ToolCall::function("c", "f", "null")]),
    ]));
    assert_eq!(b["messages"][1]["content"][0]["input"], json!({}));
}

#[test]
fn images_and_documents() {
    let b = body(&req(vec![Message::user(vec![
        ContentPart::text("What is this?"),
        ContentPart::image_url("https://example.com/cat.png"),
        ContentPart::image_url("data:image/PNG;base64,iVBORw0KGgo=")
            .with_field("cache_control", json!({"type":"ephemeral"})),
        ContentPart::File {
            file: FileData {
                file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".into()),
                ..Default::default()
            },
            extra: Extra::new(),
        },
        ContentPart::File {
            file: FileData {
                file_data: Some("data:text/plain;base64,aGVsbG8=".into()),
                ..Default::default()
            },
            extra: Extra::new(),
        },
        ContentPart::Other(json!({"type":"search_result","source":"s","title":"t","content":[]})),
    ])]));
    assert_eq!(
        b["messages"][0]["content"],
        json!([
            {"type":"text","text":"What is this?"},
            {"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}},
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="},
             "cache_control":{"type":"ephemeral"}},
            {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQK"}},
            {"type":"document","source":{"type":"text","media_type":"text/plain","data":"hello"}},
            {"type":"search_result","source":"s","title":"t","content":[]}
        ])
    );
    // detail is OpenAI's and is not sent
    let part = ContentPart::ImageUrl {
        image_url: ImageUrl {
            url: "https://x/y.jpg".into(),
            detail: Some("high".into()),
        },
        extra: Extra::new(),
    };
    let b = body(&req(vec![Message::user(vec![part])]));
    assert!(b["messages"][0]["content"][0].get("detail").is_none());
    // a data URL that is not base64
    let e = err_of(
        &req(vec![Message::user(vec![ContentPart::image_url(
            "data:image/png,abc",
        )])]),
        &sonnet(),
    );
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert!(image_source("data:é").is_err());
    assert!(image_source("data:;base64,x").is_err());
}

#[test]
fn unsupported_content_parts_honour_drop_params() {
    let audio = || {
        req(vec![Message::user(vec![
            ContentPart::input_audio("AAAA", "wav"),
            ContentPart::text("hi"),
        ])])
    };
    assert_eq!(err_of(&audio(), &sonnet()).kind(), ErrorKind::Unsupported);
    let mut dropping = sonnet();
    dropping.drop_params = true;
    let b = body_with(&audio(), &dropping);
    assert_eq!(b["messages"][0]["content"], "hi");
    let by_id = req(vec![Message::user(vec![ContentPart::File {
        file: FileData {
            file_id: Some("file-1".into()),
            ..Default::default()
        },
        extra: Extra::new(),
    }])]);
    let e = err_of(&by_id, &sonnet());
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("file_id"));
    let docx = req(vec![Message::user(vec![ContentPart::File {
        file: FileData {
            file_data: Some("data:application/msword;base64,AAAA".into()),
            ..Default::default()
        },
        extra: Extra::new(),
    }])]);
    assert_eq!(err_of(&docx, &sonnet()).kind(), ErrorKind::Unsupported);
}

#[test]
fn unsupported_parameters_fail_unless_dropped() {
    for r in [
        req(vec![Message::user("x")]).seed(1),
        req(vec![Message::user("x")]).n(2),
        req(vec![Message::user("x")]).presence_penalty(0.1),
        req(vec![Message::user("x")]).logprobs(true),
        req(vec![Message::user("x")]).prompt_cache_key("k"),
        req(vec![Message::user("x")]).service_tier("flex"),
        req(vec![Message::user("x")]).stop(["\n\n", "END"]),
        req(vec![Message::user("x")]).reasoning_effort("bogus"),
        req(vec![Message::user("x")])
            .response_format(ResponseFormat::Other(json!({"type":"grammar"}))),
    ] {
        let e = err_of(&r, &sonnet());
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{r:?}");
        let mut dropping = sonnet();
        dropping.drop_params = true;
        let b = body_with(&r, &dropping);
        assert!(b.get("seed").is_none() && b.get("n").is_none());
    }
    let mut dropping = sonnet();
    dropping.drop_params = true;
    let b = body_with(
        &req(vec![Message::user("x")]).stop(["\n\n", "END"]),
        &dropping,
    );
    assert_eq!(b["stop_sequences"], json!(["END"]));
    // neutral values are fine
    let b = body(
        &req(vec![Message::user("x")])
            .n(1)
            .logprobs(false)
            .store(false)
            .modalities(vec!["text".into()])
            .parallel_tool_calls(true),
    );
    assert!(b.get("n").is_none());
}

#[test]
fn sampling_stop_user_tier_and_extra_body() {
    let b = body(
        &req(vec![Message::user("x")])
            .temperature(0.3)
            .top_p(0.9)
            .stop("END")
            .user("u-1")
            .service_tier("default")
            .extra_body(json!({"top_k": 5, "temperature": 0.1})),
    );
    assert_eq!(b["temperature"], 0.1);
    assert_eq!(b["top_p"], 0.9);
    assert_eq!(b["top_k"], 5);
    assert_eq!(b["stop_sequences"], json!(["END"]));
    assert_eq!(b["metadata"], json!({"user_id":"u-1"}));
    assert_eq!(b["service_tier"], "standard_only");
    let b = body(
        &req(vec![Message::user("x")])
            .safety_identifier("s-1")
            .service_tier("auto"),
    );
    assert_eq!(b["metadata"], json!({"user_id":"s-1"}));
    assert_eq!(b["service_tier"], "auto");
}

#[test]
fn tools_and_tool_choice() {
    let mut cached = weather();
    cached
        .extra
        .insert("cache_control".into(), json!({"type":"ephemeral"}));
    let native: Tool = serde_json::from_value(
        json!({"type":"web_search_20250305","name":"web_search","max_uses":3}),
    )
    .unwrap();
    let no_params = Tool {
        kind: "function".into(),
        function: Some(crate::types::FunctionDefinition {
            name: "ping".into(),
            description: None,
            parameters: None,
            strict: Some(true),
        }),
        extra: Extra::new(),
    };
    let b = body(&req(vec![Message::user("x")]).tools(vec![cached, native, no_params]));
    assert_eq!(
        b["tools"],
        json!([
            {"name":"get_weather","description":"Weather in a city",
             "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},
             "cache_control":{"type":"ephemeral"}},
            {"type":"web_search_20250305","name":"web_search","max_uses":3},
            {"name":"ping","input_schema":{"type":"object","properties":{}},"strict":true}
        ])
    );
    assert!(b.get("tool_choice").is_none());
    // strict is not sent to models without structured outputs
    let old = cx("claude-3-5-sonnet-latest");
    let b = body_with(
        &req(vec![Message::user("x")]).tools(vec![weather().strict(true)]),
        &old,
    );
    assert!(b["tools"][0].get("strict").is_none());

    for (choice, parallel, expected) in [
        (Some(ToolChoice::Auto), None, json!({"type":"auto"})),
        (
            Some(ToolChoice::Required),
            Some(false),
            json!({"type":"any","disable_parallel_tool_use":true}),
        ),
        (Some(ToolChoice::None), Some(false), json!({"type":"none"})),
        (
            Some(ToolChoice::function("get_weather")),
            None,
            json!({"type":"tool","name":"get_weather"}),
        ),
        (
            None,
            Some(false),
            json!({"type":"auto","disable_parallel_tool_use":true}),
        ),
        (
            Some(ToolChoice::Other(json!({"type":"any"}))),
            None,
            json!({"type":"any"}),
        ),
    ] {
        let mut r = req(vec![Message::user("x")]).tools(vec![weather()]);
        r.tool_choice = choice;
        r.parallel_tool_calls = parallel;
        assert_eq!(body(&r)["tool_choice"], expected);
    }
    // a tool choice without tools is not sent
    let b = body(&req(vec![Message::user("x")]).tool_choice(ToolChoice::Required));
    assert!(b.get("tool_choice").is_none());
    // bad schemas and OpenAI custom tools
    let mut bad = weather();
    bad.function.as_mut().unwrap().parameters = Some(json!("not a schema"));
    assert_eq!(
        err_of(&req(vec![Message::user("x")]).tools(vec![bad]), &sonnet()).kind(),
        ErrorKind::BadRequest
    );
    let custom: Tool =
        serde_json::from_value(json!({"type":"custom","custom":{"name":"sql"}})).unwrap();
    assert_eq!(
        err_of(
            &req(vec![Message::user("x")]).tools(vec![custom]),
            &sonnet()
        )
        .kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn web_search_options_become_the_web_search_tool() {
    let b = body(&req(vec![Message::user("News?")]).web_search_options(json!({
        "search_context_size": "high",
        "user_location": {"type": "approximate",
            "approximate": {"city": "Paris", "country": "FR", "timezone": "Europe/Paris", "region": ""}}
    })));
    assert_eq!(
        b["tools"],
        json!([{"type":"web_search_20250305","name":"web_search","max_uses":10,
            "user_location":{"type":"approximate","city":"Paris","country":"FR","timezone":"Europe/Paris"}}])
    );
    let b = body(
        &req(vec![Message::user("x")])
            .tools(vec![weather()])
            .web_search_options(json!({})),
    );
    assert_eq!(
        b["tools"][1],
        json!({"type":"web_search_20250305","name":"web_search"})
    );
    assert_eq!(
        err_of(
            &req(vec![Message::user("x")]).web_search_options(json!(true)),
            &sonnet()
        )
        .kind(),
        ErrorKind::Unsupported
    );
}

fn schema_format() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "colours".into(),
            description: Some("Colours".into()),
            schema: Some(
                json!({"type":"object","properties":{"c":{"type":"string"}},"required":["c"],"additionalProperties":false}),
            ),
            strict: Some(true),
        },
    }
}

#[test]
fn json_schema_uses_output_config_or_a_forced_tool() {
    let r = req(vec![Message::user("x")]).response_format(schema_format());
    let (b, plan) = build_body(&r, &sonnet(), false).unwrap();
    assert_eq!(
        b["output_config"],
        json!({"format":{"type":"json_schema","schema":{"type":"object","properties":{"c":{"type":"string"}},"required":["c"],"additionalProperties":false}}})
    );
    assert!(!plan.json_tool && b.get("tools").is_none());

    let (b, plan) = build_body(&r, &cx("claude-3-7-sonnet-latest"), false).unwrap();
    assert!(plan.json_tool && b.get("output_config").is_none());
    assert_eq!(b["tools"][0]["name"], JSON_TOOL_NAME);
    assert_eq!(b["tools"][0]["description"], "Colours");
    assert_eq!(b["tools"][0]["input_schema"]["required"], json!(["c"]));
    assert_eq!(
        b["tool_choice"],
        json!({"type":"tool","name":JSON_TOOL_NAME})
    );

    // the provider parameter overrides the model rule; a bad value is a BadRequest
    let mut forced = sonnet();
    forced
        .params
        .push(("anthropic_json_mode".into(), "tool".into()));
    assert!(build_body(&r, &forced, false).unwrap().1.json_tool);
    let mut native = cx("claude-3-haiku-20240307");
    native
        .params
        .push(("anthropic_json_mode".into(), "output_config".into()));
    assert!(!build_body(&r, &native, false).unwrap().1.json_tool);
    let mut bad = sonnet();
    bad.params.push(("anthropic_json_mode".into(), "x".into()));
    assert_eq!(err_of(&r, &bad).kind(), ErrorKind::BadRequest);
}

#[test]
fn json_object_uses_the_forced_tool_beside_user_tools() {
    let r = req(vec![Message::user("x")]).response_format(ResponseFormat::JsonObject);
    let (b, plan) = build_body(&r, &sonnet(), false).unwrap();
    assert!(plan.json_tool);
    assert_eq!(
        b["tools"][0]["input_schema"],
        json!({"type":"object","additionalProperties":true})
    );
    assert_eq!(b["tool_choice"]["type"], "tool");
    // with the caller's tools: the JSON tool is added and some tool must be called
    let r = r.tools(vec![weather()]).parallel_tool_calls(false);
    let (b, _) = build_body(&r, &sonnet(), false).unwrap();
    assert_eq!(b["tools"].as_array().unwrap().len(), 2);
    assert_eq!(
        b["tool_choice"],
        json!({"type":"any","disable_parallel_tool_use":true})
    );
    let (b, _) = build_body(&r.tool_choice(ToolChoice::Auto), &sonnet(), false).unwrap();
    assert_eq!(b["tool_choice"]["type"], "auto");
    // text is no format at all
    let b = body(&req(vec![Message::user("x")]).response_format(ResponseFormat::Text));
    assert!(b.get("tools").is_none() && b.get("output_config").is_none());
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget() {
    let b = body(&req(vec![Message::user("x")]).reasoning_effort(ReasoningEffort::High));
    assert_eq!(
        b["thinking"],
        json!({"type":"enabled","budget_tokens":4096})
    );
    assert_eq!(b["max_tokens"], 4096 + 4096);
    let b = body(
        &req(vec![Message::user("x")])
            .reasoning_effort(ReasoningEffort::Low)
            .max_tokens(8000),
    );
    assert_eq!(b["max_tokens"], 8000);
    let b = body(
        &req(vec![Message::user("x")])
            .reasoning_effort(ReasoningEffort::Medium)
            .max_tokens(500),
    );
    assert_eq!(b["max_tokens"], 2548);
    let b = body(&req(vec![Message::user("x")]).reasoning_effort(ReasoningEffort::None));
    assert!(b.get("thinking").is_none());
    assert_eq!(b["max_tokens"], 4096);
    // a thinking config of the caller's own, through extra_body
    let b = body(
        &req(vec![Message::user("x")])
            .extra_body(json!({"thinking":{"type":"enabled","budget_tokens":10000}})),
    );
    assert_eq!(b["max_tokens"], 14096);
    assert_eq!(b["thinking"]["budget_tokens"], 10000);
    for (e, n) in [
        (ReasoningEffort::Minimal, 1024),
        (ReasoningEffort::XHigh, 8192),
        (ReasoningEffort::Max, 16384),
    ] {
        assert_eq!(thinking_budget(&e), Some(n));
    }
}

#[test]
fn thinking_blocks_and_message_cache_control_are_sent_back() {
    let mut answer = Message::assistant_tool_calls(vec![ToolCall::function("t1", "f", "{}")]);
    answer.reasoning_content = Some("Let me think".into());
    answer.extra.insert(
        THINKING_BLOCKS.into(),
        json!([
            {"type":"thinking","thinking":"Let me think","signature":"sig-1"},
            {"type":"redacted_thinking","data":"opaque"},
            {"type":"thinking","thinking":"no signature"},
            "junk"
        ]),
    );
    let mut user = Message::user("Question");
    user.extra
        .insert("cache_control".into(), json!({"type":"ephemeral"}));
    let b = body(&req(vec![user, answer, Message::tool("t1", "ok")]));
    assert_eq!(
        b["messages"][0]["content"],
        json!([{"type":"text","text":"Question","cache_control":{"type":"ephemeral"}}])
    );
    assert_eq!(
        b["messages"][1]["content"],
        json!([
            {"type":"thinking","thinking":"Let me think","signature":"sig-1"},
            {"type":"redacted_thinking","data":"opaque"},
            {"type":"tool_use","id":"t1","name":"f","input":{}}
        ])
    );
}

#[test]
fn unknown_and_function_roles_are_refused() {
    let e = err_of(
        &req(vec![Message::new(Role::Function, "x").with_name("f")]),
        &sonnet(),
    );
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    let e = err_of(
        &req(vec![Message::new(Role::Other("critic".into()), "x")]),
        &sonnet(),
    );
    assert!(e.message().contains("critic"));
}

#[test]
fn urls_ids_and_model_rules() {
    assert_eq!(messages_url("http://h:1"), "http://h:1/v1/messages");
    assert_eq!(messages_url("http://h:1/"), "http://h:1/v1/messages");
    assert_eq!(
        messages_url("http://h/v1/messages/"),
        "http://h/v1/messages"
    );
    assert_eq!(
        messages_url("http://gw/anthropic?key=1"),
        "http://gw/anthropic/v1/messages?key=1"
    );
    assert_eq!(tool_id("toolu_01A-b"), "toolu_01A-b");
    assert_eq!(tool_id("a.b:c"), "a_b_c");
    assert_eq!(tool_id(""), "_");
    assert_eq!(tool_id("é"), "_");
    for m in [
        "claude-opus-4-1-20250805",
        "claude-opus-4-5",
        "claude-haiku-4-5",
        "claude-sonnet-5",
        "my-fine-tune",
    ] {
        assert!(supports_output_format(m), "{m}");
    }
    for m in [
        "claude-3-opus-latest",
        "claude-opus-4-20250514",
        "claude-sonnet-4-0",
        "claude-sonnet-4",
        "claude-2.1",
    ] {
        assert!(!supports_output_format(m), "{m}");
    }
}

#[test]
fn headers_carry_key_version_and_betas() {
    let mut c = sonnet();
    let e = headers(&c, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    c.api_key = Some("sk-ant-1".into());
    let h = headers(&c, false).unwrap();
    assert_eq!(h["x-api-key"], "sk-ant-1");
    assert!(h["x-api-key"].is_sensitive());
    assert_eq!(h["anthropic-version"], DEFAULT_API_VERSION);
    assert!(h.get("anthropic-beta").is_none());
    c.api_version = Some("2024-01-01".into());
    c.headers.push(("anthropic-beta".into(), "a-1".into()));
    c.params.push(("anthropic_beta".into(), "b-2,c-3".into()));
    let h = headers(&c, true).unwrap();
    assert_eq!(h["anthropic-version"], "2024-01-01");
    assert_eq!(h["anthropic-beta"], "a-1,b-2,c-3");
    c.headers
        .push(("Anthropic-Version".into(), "2099-01-01".into()));
    assert_eq!(
        headers(&c, true).unwrap()["anthropic-version"],
        "2099-01-01"
    );
    // OAuth: a bearer header instead of a key
    let mut c = sonnet();
    c.headers
        .push(("Authorization".into(), "Bearer tok".into()));
    let h = headers(&c, false).unwrap();
    assert!(h.get("x-api-key").is_none());
    assert_eq!(h["authorization"], "Bearer tok");
}

// ---------------------------------------------------------------------------------------------
// Response.

fn decode(v: Value, plan: Plan) -> ChatResponse {
    decode_response(&sonnet(), v.to_string().as_bytes(), plan).unwrap()
}

#[test]
fn text_answer_with_cache_usage() {
    let r = decode(
        json!({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
            "content":[{"type":"text","text":"Hello"},{"type":"text","text":" there","citations":null}],
            "stop_reason":"end_turn","stop_sequence":null,
            "usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":4000,
                "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":0},
                "output_tokens":29,"service_tier":"standard"}}),
        Plan::default(),
    );
    assert_eq!(r.id, "msg_1");
    assert_eq!(r.object, "chat.completion");
    assert!(r.created > 0);
    assert_eq!(r.model, "claude-sonnet-4-5-20250929");
    assert_eq!(r.text(), Some("Hello there"));
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    let u = r.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (4112, 29, 4141)
    );
    assert_eq!(u.cached_tokens(), 4000);
    assert_eq!(
        u.prompt_tokens_details.unwrap().cache_write_tokens,
        Some(100)
    );
    assert_eq!(u.extra["cache_read_input_tokens"], 4000);
}

#[test]
fn tool_use_and_thinking_answer() {
    let r = decode(
        json!({"id":"msg_2","type":"message","role":"assistant","model":"m",
            "content":[
                {"type":"thinking","thinking":"User wants weather.","signature":"EqQB"},
                {"type":"redacted_thinking","data":"xyz"},
                {"type":"text","text":"Checking."},
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"toolu_2","name":"noargs","input":{}},
                {"type":"server_tool_use","id":"srv","name":"web_search","input":{}}
            ],
            "stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":7}}),
        Plan::default(),
    );
    let m = r.message().unwrap();
    assert_eq!(m.text().as_deref(), Some("Checking."));
    assert_eq!(m.reasoning_content.as_deref(), Some("User wants weather."));
    assert_eq!(
        m.extra[THINKING_BLOCKS],
        json!([{"type":"thinking","thinking":"User wants weather.","signature":"EqQB"},
               {"type":"redacted_thinking","data":"xyz"}])
    );
    let calls = r.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "toolu_1");
    assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
    assert_eq!(calls[1].function.arguments, "{}");
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    let u = r.usage.clone().unwrap();
    assert_eq!(u.total_tokens, 12);
    assert!(u.prompt_tokens_details.is_none());

    // The answer goes back into the history with its thinking and signature.
    let b = body(&req(vec![Message::user("Weather?"), m.clone()]));
    assert_eq!(
        b["messages"][1]["content"][0],
        json!({"type":"thinking","thinking":"User wants weather.","signature":"EqQB"})
    );
    assert_eq!(b["messages"][1]["content"][3]["type"], "tool_use");

    // only tool calls: content is null
    let r = decode(
        json!({"content":[{"type":"tool_use","id":"t","name":"f","input":null}],"stop_reason":"tool_use"}),
        Plan::default(),
    );
    assert!(r.message().unwrap().content.is_none());
    assert_eq!(r.model, "claude-sonnet-4-5");
}

#[test]
fn json_tool_answer_becomes_text() {
    let r = decode(
        json!({"content":[{"type":"tool_use","id":"t","name":JSON_TOOL_NAME,"input":{"c":"red"}}],
            "stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}),
        Plan { json_tool: true },
    );
    assert_eq!(r.text(), Some(r#"{"c":"red"}"#));
    assert!(r.tool_calls().is_empty());
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    // without the plan it is an ordinary tool call
    let r = decode(
        json!({"content":[{"type":"tool_use","id":"t","name":JSON_TOOL_NAME,"input":{}}],"stop_reason":"tool_use"}),
        Plan::default(),
    );
    assert_eq!(r.tool_calls().len(), 1);
}

#[test]
fn stop_reasons_map() {
    for (s, f) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("pause_turn", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::ContentFilter),
        ("new_reason", FinishReason::Other("new_reason".into())),
    ] {
        assert_eq!(map_stop_reason(s), f);
    }
    let r = decode(json!({"content":[],"stop_reason":null}), Plan::default());
    assert_eq!(r.finish_reason(), None);
    assert_eq!(r.text(), Some(""));
}

#[test]
fn error_bodies_and_garbage() {
    let e = decode_response(
        &sonnet(),
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#,
        Plan::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(e.request_id(), Some("req_1"));
    let e = decode_response(&sonnet(), b"<html>", Plan::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    let e = decode_response(&sonnet(), br#"{"id":"x"}"#, Plan::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    // extreme numbers do not panic
    let r = decode(
        json!({"content":[{"type":"text","text":"x"}],"usage":{"input_tokens":-2147483648i64,"output_tokens":1e300,
            "cache_read_input_tokens":18446744073709551615u64,"cache_creation_input_tokens":5}}),
        Plan::default(),
    );
    let u = r.usage.unwrap();
    assert_eq!(u.prompt_tokens, u64::MAX);
    assert_eq!(u.total_tokens, u64::MAX);
}

// ---------------------------------------------------------------------------------------------
// Stream.

/// An event as Anthropic sends it: named after its data's `type`.
fn ev(data: Value) -> SseEvent {
    SseEvent {
        event: data["type"].as_str().unwrap_or_default().into(),
        data: data.to_string(),
    }
}

fn raw(event: &str, data: &str) -> SseEvent {
    SseEvent {
        event: event.into(),
        data: data.into(),
    }
}

/// Runs events through a decoder: (chunks, finished, error).
fn run(plan: Plan, events: Vec<SseEvent>) -> (Vec<ChatChunk>, Result<bool>) {
    decode_events(AnthropicDecoder::new(plan), events)
}

fn start(usage: Value) -> SseEvent {
    ev(
        json!({"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant",
            "model":"claude-x","content":[],"stop_reason":null,"usage":usage}}),
    )
}

fn stop() -> SseEvent {
    ev(json!({"type":"message_stop"}))
}

#[test]
fn text_stream_with_padding_and_cumulative_usage() {
    let (chunks, end) = run(
        Plan::default(),
        vec![
            raw(
                "message_start",
                r#"{"type":"message_start","message":{"model":"claude-haiku-4-5","id":"msg_p","type":"message","role":"assistant","content":[],"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":4202,"output_tokens":1}}         }"#,
            ),
            raw(
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}              }"#,
            ),
            raw("ping", r#"{"type": "ping"}"#),
            raw(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"OK"}            }"#,
            ),
            raw(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"."}            }"#,
            ),
            raw(
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0               }"#,
            ),
            raw(
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"cache_read_input_tokens":4202,"output_tokens":5}        }"#,
            ),
            raw("message_stop", r#"{"type":"message_stop"        }"#),
        ],
    );
    assert!(end.unwrap());
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert!(
        chunks
            .iter()
            .all(|c| c.id == "msg_p" && c.model == "claude-haiku-4-5")
    );
    assert_eq!(chunks[0].object, "chat.completion.chunk");
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    let u = last.usage.as_ref().unwrap();
    // input from the last message_delta (12), cache read 4202, output 5
    assert_eq!((u.prompt_tokens, u.completion_tokens), (4214, 5));
    assert_eq!(u.cached_tokens(), 4202);
    let r = collect(&chunks);
    assert_eq!(r.text(), Some("OK."));
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
}

#[test]
fn parallel_tool_call_stream_uses_a_running_index() {
    let (chunks, end) = run(
        Plan::default(),
        vec![
            start(json!({"input_tokens":377,"output_tokens":1})),
            ev(
                json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}}),
            ),
            ev(json!({"type":"content_block_stop","index":0})),
            ev(
                json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"P"}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"aris\"}"}}),
            ),
            ev(json!({"type":"content_block_stop","index":1})),
            ev(
                json!({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"get_time","input":{}}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}),
            ),
            ev(json!({"type":"content_block_stop","index":2})),
            ev(
                json!({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_c","name":"whole","input":{"x":1}}}),
            ),
            ev(json!({"type":"content_block_stop","index":3})),
            ev(
                json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":65}}),
            ),
            stop(),
        ],
    );
    assert!(end.unwrap());
    let first_tool = chunks
        .iter()
        .find_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .unwrap();
    assert_eq!(first_tool[0].index, Some(0));
    assert_eq!(first_tool[0].id.as_deref(), Some("toolu_a"));
    assert_eq!(first_tool[0].kind.as_deref(), Some("function"));
    let r = collect(&chunks);
    let calls = r.tool_calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        (
            calls[0].id.as_str(),
            calls[0].function.name.as_str(),
            calls[0].function.arguments.as_str()
        ),
        ("toolu_a", "get_weather", r#"{"city": "Paris"}"#)
    );
    assert_eq!(calls[1].function.arguments, "{}");
    assert_eq!(calls[2].function.arguments, r#"{"x":1}"#);
    assert_eq!(r.text(), Some("Checking."));
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(r.usage.unwrap().total_tokens, 377 + 65);
}

#[test]
fn thinking_stream_keeps_the_signature() {
    let (chunks, end) = run(
        Plan::default(),
        vec![
            start(json!({"input_tokens":10,"output_tokens":1})),
            ev(
                json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EvQB"}}),
            ),
            ev(json!({"type":"content_block_stop","index":0})),
            ev(
                json!({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"opaque"}}),
            ),
            ev(json!({"type":"content_block_stop","index":1})),
            ev(
                json!({"type":"content_block_start","index":2,"content_block":{"type":"text","text":"4"}}),
            ),
            ev(json!({"type":"content_block_stop","index":2})),
            ev(
                json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":30}}),
            ),
            stop(),
        ],
    );
    assert!(end.unwrap());
    let r = collect(&chunks);
    let m = r.message().unwrap();
    assert_eq!(m.reasoning_content.as_deref(), Some("Let me think."));
    assert_eq!(m.text().as_deref(), Some("4"));
    assert_eq!(
        m.extra[THINKING_BLOCKS],
        json!([{"type":"thinking","thinking":"Let me think.","signature":"EvQB"},
               {"type":"redacted_thinking","data":"opaque"}])
    );
    // sent back in the next turn with its signature
    let b = body(&req(vec![
        Message::user("2+2?"),
        m.clone(),
        Message::user("And 3+3?"),
    ]));
    assert_eq!(b["messages"][1]["content"][0]["signature"], "EvQB");
    assert_eq!(b["messages"][1]["content"][1]["type"], "redacted_thinking");
    assert_eq!(
        b["messages"][1]["content"][2],
        json!({"type":"text","text":"4"})
    );
}

#[test]
fn json_tool_stream_becomes_text() {
    let (chunks, end) = run(
        Plan { json_tool: true },
        vec![
            start(json!({"input_tokens":1,"output_tokens":1})),
            ev(
                json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":JSON_TOOL_NAME,"input":{}}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"c\":"}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"red\"}"}}),
            ),
            ev(json!({"type":"content_block_stop","index":0})),
            ev(
                json!({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}),
            ),
            stop(),
        ],
    );
    assert!(end.unwrap());
    let r = collect(&chunks);
    assert_eq!(r.text(), Some(r#"{"c":"red"}"#));
    assert!(r.tool_calls().is_empty());
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
}

#[test]
fn error_events_truncation_and_odd_events() {
    let (chunks, end) = run(
        Plan::default(),
        vec![
            start(json!({"input_tokens":1,"output_tokens":1})),
            raw(
                "error",
                r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
            ),
        ],
    );
    assert_eq!(chunks.len(), 1);
    let e = end.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(e.message(), "Overloaded");
    for (ty, kind) in [
        ("rate_limit_error", ErrorKind::RateLimit),
        ("api_error", ErrorKind::InternalServer),
        ("billing_error", ErrorKind::PermissionDenied),
        ("invalid_request_error", ErrorKind::BadRequest),
    ] {
        let (_, end) = run(
            Plan::default(),
            vec![ev(
                json!({"type":"error","error":{"type":ty,"message":"m"}}),
            )],
        );
        assert_eq!(end.unwrap_err().kind(), kind, "{ty}");
    }
    // an error event whose data is not JSON, and one named only in the data
    let (_, end) = run(Plan::default(), vec![raw("error", "upstream died")]);
    let e = end.unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (ErrorKind::InternalServer, "upstream died")
    );
    let (_, end) = run(
        Plan::default(),
        vec![raw(
            "",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"x"}}"#,
        )],
    );
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ServiceUnavailable);
    // ends after message_delta but before message_stop
    let (chunks, end) = run(
        Plan::default(),
        vec![
            start(json!({"input_tokens":1,"output_tokens":1})),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}),
            ),
            ev(
                json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}),
            ),
        ],
    );
    assert_eq!(collect(&chunks).text(), Some("Hi"));
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ApiConnection);
    // unknown events, unknown deltas, a second message_start and a repeated stop reason
    let (chunks, end) = run(
        Plan::default(),
        vec![
            start(json!({"input_tokens":43,"output_tokens":1})),
            start(json!({"input_tokens":43,"output_tokens":1})),
            ev(
                json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            ),
            ev(
                json!({"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}),
            ),
            ev(json!({"type":"future_event"})),
            ev(
                json!({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":61,"output_tokens":2}}),
            ),
            ev(
                json!({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":3}}),
            ),
            raw("message_stop", ""),
        ],
    );
    assert!(end.unwrap());
    let roles = chunks
        .iter()
        .filter(|c| c.choices.first().is_some_and(|ch| ch.delta.role.is_some()))
        .count();
    assert_eq!(roles, 1);
    let finishes = chunks
        .iter()
        .filter(|c| c.finish_reason().is_some())
        .count();
    assert_eq!(finishes, 1);
    let r = collect(&chunks);
    assert_eq!(r.finish_reason(), Some(&FinishReason::Length));
    let u = r.usage.unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (61, 3));
    // garbage data is an InvalidResponse, not a panic
    let (_, end) = run(
        Plan::default(),
        vec![raw("content_block_delta", "{not json")],
    );
    assert_eq!(end.unwrap_err().kind(), ErrorKind::InvalidResponse);
}

/// Arbitrary bytes through the SSE decoder and the Anthropic decoder: errors, never panics;
/// a good share of mutated valid streams still decodes.
#[test]
fn arbitrary_streams_never_panic() {
    use crate::provider::test_util::fuzz_sse;
    let seeds: [&[u8]; 4] = [
        b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"   }\n\n",
        b"event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\r\n\r\nevent: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":1}\"}}\r\n\r\nevent: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":1}\r\n\r\n",
        b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"S\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        b"event: ping\ndata: {\"type\": \"ping\"}\n\nevent: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n",
    ];
    let decoded = fuzz_sse(
        &seeds,
        b"event: data{}[]\"\\,:\r\n0123456789message_startcontent_blockdeltatype",
        77,
        11,
        |rng| {
            AnthropicDecoder::new(Plan {
                json_tool: rng.below(2) == 0,
            })
        },
    );
    assert!(decoded > 600, "only {decoded} chunks decoded");
}
