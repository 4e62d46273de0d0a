use super::*;
use crate::types::{
    ContentPart, EncodingFormat, Message, Metadata, MockResponse, ReasoningEffort, ResponseFormat,
    StreamOptions, Tool, ToolChoice,
};
use serde_json::json;
use std::time::Duration;

fn base() -> ChatRequest {
    ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Hello")])
}

fn key(req: &ChatRequest) -> String {
    chat_key("gpt-4o-mini", req).unwrap().to_string()
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The canonical documents and their hashes are fixed: a change here invalidates every cache
/// entry stored by an earlier version (bump `VERSION` instead when it is intended). The hashes
/// were checked with `printf '%s' DOC | sha256sum`.
#[test]
fn chat_keys_are_stable() {
    let req = base();
    assert_eq!(
        chat_canonical("gpt-4o-mini", &req),
        r#"{"v":"litellm-cache-v1","kind":"chat","model":"gpt-4o-mini","params":{"messages":[{"content":"Hello","role":"user"}]}}"#
    );
    assert_eq!(
        key(&req),
        "chat:a3d1c55927c2124672206ef1a4d24caa79c7985d666e332f6cd5e61d9b1d61ea"
    );

    let rich = ChatRequest::new(
        "anthropic/claude-sonnet-4-5",
        vec![
            Message::system("Be brief."),
            Message::user(vec![
                ContentPart::text("What is in this image?"),
                ContentPart::image_url("https://example.com/cat.png"),
            ]),
        ],
    )
    .temperature(0.2)
    .max_tokens(100)
    .stop(["\n\n", "END"])
    .seed(7)
    .tools(vec![Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    )])
    .tool_choice(ToolChoice::Auto)
    .response_format(ResponseFormat::JsonObject)
    .extra_body(json!({"top_k": 40, "thinking": {"type": "enabled", "budget_tokens": 1024}}));
    assert_eq!(
        chat_canonical("claude", &rich),
        concat!(
            r#"{"v":"litellm-cache-v1","kind":"chat","model":"claude","params":{"#,
            r#""max_tokens":100,"messages":[{"content":"Be brief.","role":"system"},"#,
            r#"{"content":[{"text":"What is in this image?","type":"text"},"#,
            r#"{"image_url":{"url":"https://example.com/cat.png"},"type":"image_url"}],"role":"user"}],"#,
            r#""response_format":{"type":"json_object"},"seed":7,"stop":["\n\n","END"],"#,
            r#""temperature":0.2,"thinking":{"budget_tokens":1024,"type":"enabled"},"#,
            r#""tool_choice":"auto","tools":[{"function":{"description":"Weather in a city","#,
            r#""name":"get_weather","parameters":{"properties":{"city":{"type":"string"}},"#,
            r#""required":["city"],"type":"object"}},"type":"function"}],"top_k":40}}"#
        )
    );
    assert_eq!(
        chat_key("claude", &rich).unwrap().as_str(),
        "chat:2a52cc4fd1c74e4391954eb407cd72e197510f2da01395d203bd4546e7c129b4"
    );

    let ns = base().cache_namespace("tenant-a");
    assert_eq!(
        key(&ns),
        "tenant-a:chat:a3d1c55927c2124672206ef1a4d24caa79c7985d666e332f6cd5e61d9b1d61ea"
    );
}

#[test]
fn text_and_embedding_keys_are_stable() {
    let req = TextCompletionRequest::new("openai/gpt-3.5-turbo-instruct", "Say this is a test")
        .max_tokens(7)
        .temperature(0.0);
    assert_eq!(
        text_canonical("instruct", &req),
        r#"{"v":"litellm-cache-v1","kind":"text","model":"instruct","params":{"max_tokens":7,"prompt":"Say this is a test","temperature":0.0}}"#
    );
    assert_eq!(
        text_key("instruct", &req).unwrap().as_str(),
        "text:b5744551535b7738ecc104de07c79ef6ffb71c5487e787d26397d254a5fabf36"
    );

    let emb = EmbeddingRequest::new("openai/text-embedding-3-small", vec!["hello", "world"])
        .dimensions(256);
    assert_eq!(
        embedding_canonical("emb", &emb),
        vec![
            r#"{"v":"litellm-cache-v1","kind":"embedding","model":"emb","params":{"dimensions":256},"input":"hello"}"#,
            r#"{"v":"litellm-cache-v1","kind":"embedding","model":"emb","params":{"dimensions":256},"input":"world"}"#,
        ]
    );
    let keys = embedding_keys("emb", &emb).unwrap();
    assert_eq!(
        keys.iter().map(CacheKey::as_str).collect::<Vec<_>>(),
        vec![
            "embedding:3c6fe5bafbb94a39ccbda7c24115e8f9e3542140ff278f69e54fa19b50ece8c5",
            "embedding:c3cf5f8dcf55cae55f7a14a532acecb568ae55b11d726e2c4d705ae224eb71d4",
        ]
    );
}

/// Every parameter that changes the answer changes the key.
#[test]
fn chat_key_changes_with_every_output_parameter() {
    let b = base();
    let variants: Vec<(&str, ChatRequest)> = vec![
        ("messages", b.clone().message(Message::assistant("Hi"))),
        (
            "message text",
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Hello!")]),
        ),
        (
            "message role",
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::system("Hello")]),
        ),
        (
            "message name",
            ChatRequest::new(
                "openai/gpt-4o-mini",
                vec![Message::user("Hello").with_name("ann")],
            ),
        ),
        (
            "message parts",
            ChatRequest::new(
                "openai/gpt-4o-mini",
                vec![Message::user(vec![ContentPart::text("Hello")])],
            ),
        ),
        (
            "tools",
            b.clone()
                .tools(vec![Tool::function("f", "d", json!({"type": "object"}))]),
        ),
        ("tool_choice", b.clone().tool_choice(ToolChoice::Required)),
        (
            "response_format",
            b.clone().response_format(ResponseFormat::JsonObject),
        ),
        ("temperature", b.clone().temperature(0.5)),
        ("top_p", b.clone().top_p(0.9)),
        ("max_tokens", b.clone().max_tokens(10)),
        ("max_completion_tokens", b.clone().max_completion_tokens(10)),
        ("n", b.clone().n(2)),
        ("seed", b.clone().seed(1)),
        ("stop", b.clone().stop("x")),
        ("presence_penalty", b.clone().presence_penalty(0.1)),
        ("frequency_penalty", b.clone().frequency_penalty(0.1)),
        (
            "logit_bias",
            b.clone().logit_bias(obj(json!({"50256": -100}))),
        ),
        ("logprobs", b.clone().logprobs(true)),
        ("top_logprobs", b.clone().top_logprobs(3)),
        (
            "reasoning_effort",
            b.clone().reasoning_effort(ReasoningEffort::High),
        ),
        (
            "modalities",
            b.clone().modalities(vec!["text".into(), "audio".into()]),
        ),
        (
            "audio",
            b.clone().audio(json!({"voice": "alloy", "format": "wav"})),
        ),
        (
            "prediction",
            b.clone()
                .prediction(json!({"type": "content", "content": "x"})),
        ),
        ("parallel_tool_calls", b.clone().parallel_tool_calls(false)),
        ("verbosity", b.clone().verbosity("low")),
        (
            "web_search_options",
            b.clone().web_search_options(json!({})),
        ),
        ("service_tier", b.clone().service_tier("flex")),
        ("extra_body", b.clone().extra_body(json!({"top_k": 40}))),
        (
            "extra_body value",
            b.clone().extra_body(json!({"top_k": 41})),
        ),
        (
            "functions",
            ChatRequest {
                functions: Some(json!([{"name": "f"}])),
                ..b.clone()
            },
        ),
        (
            "function_call",
            ChatRequest {
                function_call: Some(json!("auto")),
                ..b.clone()
            },
        ),
    ];
    let plain = key(&b);
    let mut seen = std::collections::HashSet::new();
    seen.insert(plain.clone());
    for (name, req) in &variants {
        let k = key(req);
        assert_ne!(k, plain, "{name} must change the key");
        assert!(seen.insert(k), "{name} collides with another variant");
    }
    // The model group is part of the key; the request's own model string is not.
    assert_ne!(
        chat_key("gpt-4o", &b).unwrap(),
        chat_key("gpt-4o-mini", &b).unwrap()
    );
    let other_model = ChatRequest {
        model: "azure/my-deployment".into(),
        ..b.clone()
    };
    assert_eq!(key(&other_model), plain);
}

/// Credentials, metadata, call options and fields that do not change the answer leave the key
/// alone; the namespace only prefixes it.
#[test]
fn chat_key_ignores_credentials_options_and_non_output_fields() {
    let b = base();
    let plain = key(&b);
    let variants: Vec<(&str, ChatRequest)> = vec![
        ("api_key", b.clone().api_key("sk-secret")),
        ("api_base", b.clone().api_base("http://localhost:1234/v1")),
        ("api_version", b.clone().api_version("2024-10-21")),
        ("timeout", b.clone().timeout(Duration::from_secs(3))),
        ("num_retries", b.clone().num_retries(3)),
        ("extra_header", b.clone().extra_header("x-a", "b")),
        (
            "metadata",
            b.clone()
                .metadata(Metadata::new().user("u").key("k").tag("t")),
        ),
        (
            "mock_response",
            b.clone().mock_response(MockResponse::text("x")),
        ),
        ("drop_params", b.clone().drop_params(true)),
        (
            "provider_param",
            b.clone().provider_param("vertex_project", "p"),
        ),
        ("fallbacks", b.clone().fallbacks(["other"])),
        ("no_cache", b.clone().no_cache(true)),
        ("no_store", b.clone().no_store(true)),
        ("cache_ttl", b.clone().cache_ttl(Duration::from_secs(1))),
        ("user", b.clone().user("end-user-1")),
        ("stream", b.clone().stream(true)),
        (
            "stream_options",
            b.clone().stream_options(StreamOptions {
                include_usage: Some(true),
                ..Default::default()
            }),
        ),
        ("store", b.clone().store(true)),
        (
            "store_metadata",
            b.clone().store_metadata(obj(json!({"a": "b"}))),
        ),
        ("safety_identifier", b.clone().safety_identifier("hash")),
        ("prompt_cache_key", b.clone().prompt_cache_key("pk")),
        (
            "prompt_cache_retention",
            b.clone().prompt_cache_retention("24h"),
        ),
    ];
    for (name, req) in &variants {
        assert_eq!(key(req), plain, "{name} must not change the key");
    }
    let ns = key(&b.clone().cache_namespace("team"));
    assert_eq!(ns, format!("team:{plain}"));
}

#[test]
fn extra_maps_are_canonical_whatever_their_order() {
    // Built in two insertion orders (which matters when serde_json keeps insertion order).
    let mut m1 = Map::new();
    m1.insert("b".into(), json!({"y": 1, "x": [2, {"q": 1, "p": 2}]}));
    m1.insert("a".into(), json!(true));
    let mut m2 = Map::new();
    m2.insert("a".into(), json!(true));
    let mut inner = Map::new();
    inner.insert("x".into(), json!([2, {"p": 2, "q": 1}]));
    inner.insert("y".into(), json!(1));
    m2.insert("b".into(), Value::Object(inner));
    let r1 = ChatRequest {
        extra_body: m1.clone(),
        ..base()
    };
    let r2 = ChatRequest {
        extra_body: m2,
        ..base()
    };
    assert_eq!(key(&r1), key(&r2));
    let mut out = Vec::new();
    write_canonical(&mut out, &Value::Object(m1)).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":true,"b":{"x":[2,{"p":2,"q":1}],"y":1}}"#
    );
    // Entries in insertion order (serde_json's `preserve_order`) are sorted before writing.
    let (a, b, z) = ("a".to_owned(), "b".to_owned(), "é".to_owned());
    let (one, two) = (json!(1), json!({"k": 2}));
    let mut out = Vec::new();
    write_unsorted(&mut out, vec![(&z, &one), (&b, &two), (&a, &one)]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":1,"b":{"k":2},"é":1}"#
    );
    // Escapes and non-ASCII are written as serde_json writes them.
    let mut out = Vec::new();
    write_canonical(&mut out, &json!({"é": "a\"b\n\u{1}"})).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"é\":\"a\\\"b\\n\\u0001\"}"
    );
}

#[test]
fn embedding_keys_are_per_input_and_ignore_wire_format() {
    let batch = EmbeddingRequest::new("openai/text-embedding-3-small", vec!["a", "b", "a"]);
    let keys = embedding_keys("emb", &batch).unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0], keys[2]);
    assert_ne!(keys[0], keys[1]);
    let single = embedding_keys("emb", &EmbeddingRequest::new("x", "b")).unwrap();
    assert_eq!(single, vec![keys[1].clone()]);
    assert!(keys[0].as_str().starts_with("embedding:"));

    let same = [
        batch.clone().encoding_format(EncodingFormat::Base64),
        batch.clone().encoding_format(EncodingFormat::Float),
        batch.clone().user("u"),
        batch.clone().api_key("sk").timeout(Duration::from_secs(1)),
    ];
    for req in &same {
        assert_eq!(embedding_keys("emb", req).unwrap(), keys);
    }
    let different = [
        batch.clone().dimensions(256),
        batch
            .clone()
            .extra_body(json!({"input_type": "search_query"})),
    ];
    for req in &different {
        let k = embedding_keys("emb", req).unwrap();
        assert!(k.iter().zip(&keys).all(|(a, b)| a != b));
    }
    assert_ne!(embedding_keys("emb2", &batch).unwrap()[0], keys[0]);
    // Token inputs are keyed as token arrays, distinct from any text.
    let tokens = EmbeddingRequest::new("x", vec![vec![1u32, 2], vec![3]]);
    let tk = embedding_keys("emb", &tokens).unwrap();
    assert_eq!(tk.len(), 2);
    assert_ne!(tk[0], tk[1]);
    let one = embedding_keys("emb", &EmbeddingRequest::new("x", vec![1u32, 2])).unwrap();
    assert_eq!(one, vec![tk[0].clone()]);
    let ns = embedding_keys("emb", &batch.clone().cache_namespace("n")).unwrap();
    assert_eq!(ns[1].as_str(), format!("n:{}", keys[1]));
}

#[test]
fn text_key_sensitivity() {
    let b = TextCompletionRequest::new("openai/gpt-3.5-turbo-instruct", "Say this is a test");
    let plain = text_key("t", &b).unwrap();
    for (name, req) in [
        ("prompt", TextCompletionRequest::new("m", "Say something")),
        (
            "prompts",
            TextCompletionRequest::new("m", vec!["Say this is a test", "x"]),
        ),
        ("suffix", b.clone().suffix("!")),
        ("max_tokens", b.clone().max_tokens(5)),
        ("temperature", b.clone().temperature(1.0)),
        ("top_p", b.clone().top_p(0.5)),
        ("n", b.clone().n(2)),
        ("logprobs", b.clone().logprobs(2)),
        ("echo", b.clone().echo(true)),
        ("stop", b.clone().stop("x")),
        ("presence_penalty", b.clone().presence_penalty(1.0)),
        ("frequency_penalty", b.clone().frequency_penalty(1.0)),
        ("best_of", b.clone().best_of(3)),
        ("logit_bias", b.clone().logit_bias(obj(json!({"1": 1})))),
        ("seed", b.clone().seed(3)),
        ("extra_body", b.clone().extra_body(json!({"top_k": 1}))),
    ] {
        assert_ne!(
            text_key("t", &req).unwrap(),
            plain,
            "{name} must change the key"
        );
    }
    for (name, req) in [
        ("user", b.clone().user("u")),
        ("api_key", b.clone().api_key("sk")),
        (
            "stream",
            TextCompletionRequest {
                stream: Some(true),
                ..b.clone()
            },
        ),
    ] {
        assert_eq!(
            text_key("t", &req).unwrap(),
            plain,
            "{name} must not change the key"
        );
    }
    // A chat and a text completion never share a key.
    assert!(plain.as_str().starts_with("text:"));
}
