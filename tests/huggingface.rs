//! Hugging Face through the public API against an in-process fake TGI: URLs and credentials
//! (router default, self-hosted bases), TGI's tool-call quirks in answers and streams, TGI
//! error codes, mid-stream errors, truncated streams, and both embeddings routes.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use litellm::{
    CallOptions, ChatChunk, ChatRequest, ChatStream, Client, EmbeddingRequest, ErrorKind,
    FinishReason, Message, ResponseFormat, Tool, ToolChoice,
};
use serde_json::{Value, json};
use support::{FakeUpstream, Reply, sse_data, sse_raw_data};

const MODEL: &str = "huggingface/meta-llama/Llama-3.1-8B-Instruct";

/// A client for a self-hosted TGI at the fake server (no `/v1`: the provider adds it).
fn client(server: &FakeUpstream) -> Client {
    Client::builder()
        .no_env()
        .api_base("huggingface", server.url())
        .build()
        .unwrap()
}

fn env_client(vars: Vec<(&'static str, String)>) -> Client {
    let map: HashMap<&str, String> = vars.into_iter().collect();
    Client::builder()
        .env_lookup(move |n| map.get(n).cloned())
        .build()
        .unwrap()
}

fn weather() -> Tool {
    Tool::function(
        "get_current_weather",
        "Get the current weather",
        json!({"type": "object", "properties": {"location": {"type": "string"}, "format": {"type": "string"}},
            "required": ["location", "format"]}),
    )
}

/// TGI's answer with a tool call: finish "stop", id "0", an empty response id.
fn tgi_tool_answer() -> Value {
    json!({
        "choices": [{"finish_reason": "stop", "index": 0, "logprobs": null,
            "message": {"content": null, "role": "assistant", "tool_calls": [
                {"function": {"arguments": "{\"location\":\"Brooklyn, NY\",\"format\":\"fahrenheit\"}", "description": null,
                    "name": "get_current_weather"}, "id": "0", "type": "function"}]}}],
        "created": 1741372335, "id": "", "model": "meta-llama/Llama-3.1-8B-Instruct", "object": "chat.completion",
        "system_fingerprint": "3.1.2-dev0-native",
        "usage": {"completion_tokens": 29, "prompt_tokens": 501, "total_tokens": 530}
    })
}

fn text_answer() -> Value {
    json!({
        "choices": [{"finish_reason": "eos_token", "index": 0, "logprobs": null,
            "message": {"content": "Deep learning is a subset of machine learning.", "role": "assistant"}}],
        "created": 1741372335, "id": "", "model": "tgi", "object": "chat.completion",
        "system_fingerprint": "3.1.2-dev0-native",
        "usage": {"completion_tokens": 10, "prompt_tokens": 20, "total_tokens": 30}
    })
}

fn tgi_chunk(delta: Value, finish: Value) -> Value {
    json!({"choices": [{"delta": delta, "finish_reason": finish, "index": 0, "logprobs": null}],
        "created": 1741688515, "id": "", "model": "meta-llama/Llama-3.1-8B-Instruct",
        "object": "chat.completion.chunk", "system_fingerprint": "3.1.2-dev0-native", "usage": null})
}

fn tool_fragment(name: Value, args: &str) -> Value {
    tgi_chunk(
        json!({"content": null, "role": "assistant", "tool_calls": [
            {"function": {"arguments": args, "name": name}, "id": "0", "index": 0, "type": "function"}]}),
        Value::Null,
    )
}

fn usage_chunk() -> Value {
    json!({"choices": [], "created": 1741688515, "id": "", "model": "meta-llama/Llama-3.1-8B-Instruct",
        "object": "chat.completion.chunk", "system_fingerprint": "3.1.2-dev0-native",
        "usage": {"completion_tokens": 25, "prompt_tokens": 300, "total_tokens": 325}})
}

fn tool_stream() -> Vec<String> {
    vec![
        sse_data(&tool_fragment(json!("get_current_weather"), "{")),
        sse_data(&tool_fragment(Value::Null, "\"location\":")),
        sse_data(&tool_fragment(Value::Null, " \"Brooklyn, NY\",")),
        sse_data(&tool_fragment(Value::Null, " \"format\": \"fahrenheit\"}")),
        sse_data(&tgi_chunk(
            json!({"role": "assistant", "content": ""}),
            json!("stop"),
        )),
        sse_data(&usage_chunk()),
        sse_raw_data("[DONE]"),
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
async fn router_is_the_default_and_needs_a_token() {
    let c = Client::builder().no_env().build().unwrap();
    let (_, cx) = c.resolve(MODEL, &CallOptions::default()).unwrap();
    assert_eq!(
        cx.api_base.as_deref(),
        Some("https://router.huggingface.co/v1")
    );
    assert_eq!(cx.model, "meta-llama/Llama-3.1-8B-Instruct");
    // no token: Authentication before any request
    let err = c
        .completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.message().contains("HF_TOKEN"), "{err}");
    // HF_TOKEN, then HUGGINGFACE_API_KEY
    for var in ["HF_TOKEN", "HUGGINGFACE_API_KEY"] {
        let c = env_client(vec![(var, "hf_secret".to_owned())]);
        let (_, cx) = c.resolve(MODEL, &CallOptions::default()).unwrap();
        assert_eq!(cx.api_key.unwrap().expose(), "hf_secret");
    }
}

#[tokio::test]
async fn self_hosted_tgi_chat_request_and_answer() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, text_answer()));
    let req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("You are a helpful assistant."),
            Message::user("What is deep learning?"),
        ],
    )
    .max_completion_tokens(20)
    .temperature(0.5)
    .seed(4)
    .response_format(ResponseFormat::json_schema(
        "answer",
        json!({"type": "object", "properties": {"text": {"type": "string"}}}),
        true,
    ));
    let resp = client(&server).chat(req).await.unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/v1/chat/completions");
    assert!(r.header("authorization").is_none());
    assert_eq!(
        r.json(),
        json!({
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is deep learning?"}
            ],
            "temperature": 0.5,
            "max_tokens": 20,
            "seed": 4,
            "response_format": {"type": "json_object", "value": {"type": "object", "properties": {"text": {"type": "string"}}}}
        })
    );
    assert_eq!(
        resp.text(),
        Some("Deep learning is a subset of machine learning.")
    );
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert!(resp.id.starts_with("chatcmpl-"), "empty ids are replaced");
    assert_eq!(resp.usage.as_ref().unwrap().total_tokens, 30);
    assert_eq!(resp.meta.provider, "huggingface");
}

#[tokio::test]
async fn tgi_tool_call_answers_are_normalised() {
    let server = FakeUpstream::start().await;
    server.push(Reply::json(200, tgi_tool_answer()));
    server.push(Reply::json(200, tgi_tool_answer()));
    server.push(Reply::json(200, text_answer()));
    let c = client(&server);
    let req = ChatRequest::new(MODEL, vec![Message::user("Weather in Brooklyn?")])
        .tools(vec![weather()])
        .tool_choice(ToolChoice::function("get_current_weather"));
    let first = c.chat(req.clone()).await.unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "function", "function": {"name": "get_current_weather"}})
    );
    assert_eq!(first.finish_reason(), Some(&FinishReason::ToolCalls));
    let call = &first.tool_calls()[0];
    assert!(call.id.starts_with("call_"), "{}", call.id);
    let args: Value = call.function.parse_arguments().unwrap();
    assert_eq!(args["location"], "Brooklyn, NY");
    // TGI says "0" again on the next turn: the ids stay unique
    let second = c.chat(req.clone()).await.unwrap();
    assert_ne!(second.tool_calls()[0].id, call.id);
    // the history goes back with our ids
    let next = req
        .message(first.message().unwrap().clone())
        .message(Message::tool(call.id.clone(), "72 °F"));
    c.chat(next).await.unwrap();
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["messages"][1]["tool_calls"][0]["id"], call.id.as_str());
    assert_eq!(sent["messages"][2]["tool_call_id"], call.id.as_str());
}

#[tokio::test]
async fn tgi_stream_with_tool_call_fragments() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(tool_stream()));
    let req = ChatRequest::new(MODEL, vec![Message::user("Weather?")])
        .tools(vec![weather()])
        .tool_choice(ToolChoice::Required);
    let (chunks, err) = drain(client(&server).chat_stream(req.clone()).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let sent = server.last_request().unwrap().json();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    // the id on the first fragment only, as OpenAI sends it
    let ids: Vec<Option<String>> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .map(|t| t.id.clone())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(ids[0].as_deref().is_some_and(|id| id.starts_with("call_")));
    assert!(ids[1..].iter().all(Option::is_none));
    assert!(
        chunks
            .iter()
            .all(|c| c.id == chunks[0].id && !c.id.is_empty())
    );
    let finish: Vec<_> = chunks.iter().filter_map(|c| c.finish_reason()).collect();
    assert_eq!(finish, [&FinishReason::ToolCalls]);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 325);

    server.push(Reply::sse(tool_stream()));
    let resp = client(&server)
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    let calls = resp.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].function.name, "get_current_weather");
    let args: Value = calls[0].function.parse_arguments().unwrap();
    assert_eq!(args["format"], "fahrenheit");
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(resp.usage.unwrap().prompt_tokens, 300);
}

#[tokio::test]
async fn tgi_stream_with_text() {
    let server = FakeUpstream::start().await;
    server.push(Reply::sse(vec![
        sse_data(&tgi_chunk(
            json!({"role": "assistant", "content": "Deep"}),
            Value::Null,
        )),
        sse_data(&tgi_chunk(
            json!({"role": "assistant", "content": " learning"}),
            Value::Null,
        )),
        sse_data(&tgi_chunk(
            json!({"role": "assistant", "content": ""}),
            json!("length"),
        )),
        sse_data(&usage_chunk()),
        sse_raw_data("[DONE]"),
    ]));
    let resp = client(&server)
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("hi")]).max_tokens(2))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Deep learning"));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Length));
    assert_eq!(resp.usage.unwrap().completion_tokens, 25);
}

#[tokio::test]
async fn tgi_errors_map_to_kinds() {
    let server = FakeUpstream::start().await;
    let c = client(&server);
    let cases = [
        (
            424,
            json!({"error": "Request failed during generation: Server error: CUDA out of memory", "error_type": "generation"}),
            ErrorKind::InternalServer,
        ),
        (
            422,
            json!({"error": "Input validation error: `temperature` must be strictly positive", "error_type": "validation"}),
            ErrorKind::UnprocessableEntity,
        ),
        (
            422,
            json!({"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`", "error_type": "validation"}),
            ErrorKind::ContextWindowExceeded,
        ),
        (
            422,
            json!({"error": "Template error: unknown filter", "error_type": "template_error"}),
            ErrorKind::UnprocessableEntity,
        ),
        (
            429,
            json!({"error": "Model is overloaded", "error_type": "overloaded"}),
            ErrorKind::RateLimit,
        ),
        (
            500,
            json!({"error": "Incomplete generation", "error_type": "incomplete_generation"}),
            ErrorKind::InternalServer,
        ),
        (
            401,
            json!({"error": "Invalid credentials in Authorization header"}),
            ErrorKind::Authentication,
        ),
        (
            503,
            json!({"error": "Model meta-llama/x is currently loading", "estimated_time": 20.0}),
            ErrorKind::ServiceUnavailable,
        ),
    ];
    for (status, body, kind) in cases {
        let message = body["error"].as_str().unwrap().to_owned();
        server.push(Reply::json(status, body).header("retry-after", "2"));
        let err = c
            .chat(ChatRequest::new(MODEL, vec![Message::user("hi")]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status} {message}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.message(), message);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(err.provider(), Some("huggingface"));
    }
}

#[tokio::test]
async fn mid_stream_errors_and_truncated_streams() {
    let server = FakeUpstream::start().await;
    let req = || ChatRequest::new(MODEL, vec![Message::user("hi")]);
    // TGI's OpenAI-route error event
    server.push(Reply::sse(vec![
        sse_data(&tgi_chunk(
            json!({"role": "assistant", "content": "Deep"}),
            Value::Null,
        )),
        sse_data(
            &json!({"error": {"message": "Request failed during generation: Server error: out of memory", "http_status_code": 422}}),
        ),
    ]));
    let (chunks, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(chunks.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::UnprocessableEntity);
    assert!(err.message().contains("out of memory"));
    assert_eq!(err.provider(), Some("huggingface"));

    // the body ends before [DONE]
    let mut events = tool_stream();
    events.truncate(3);
    server.push(Reply::sse(events));
    let (chunks, err) = drain(client(&server).chat_stream(req()).await.unwrap()).await;
    assert_eq!(chunks.len(), 3);
    assert_eq!(err.unwrap().kind(), ErrorKind::ApiConnection);

    // the connection drops
    server.push(Reply::sse(tool_stream()).drop_after(2));
    let err = client(&server)
        .chat_stream(req())
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ApiConnection);

    // an error status on a stream request
    server.push(Reply::json(
        424,
        json!({"error": "generation failed", "error_type": "generation"}),
    ));
    let err = client(&server).chat_stream(req()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
}

#[tokio::test]
async fn bases_tokens_and_model_ids() {
    let server = FakeUpstream::start().await;
    server.set_default(Reply::json(200, text_answer()));
    // HUGGINGFACE_API_BASE with /v1 already, and a token
    let c = env_client(vec![
        ("HUGGINGFACE_API_BASE", format!("{}/v1", server.url())),
        ("HF_TOKEN", "hf_abc".to_owned()),
    ]);
    c.completion(MODEL, vec![Message::user("hi")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization").as_deref(), Some("Bearer hf_abc"));
    // HF_API_BASE; a self-hosted server gets the model id as given
    let c = env_client(vec![("HF_API_BASE", server.url())]);
    c.completion(
        "huggingface/together/deepseek-ai/DeepSeek-R1",
        vec![Message::user("hi")],
    )
    .await
    .unwrap();
    assert_eq!(
        server.last_request().unwrap().json()["model"],
        "together/deepseek-ai/DeepSeek-R1"
    );
    // the api_base of the call wins
    let c = Client::builder().no_env().build().unwrap();
    c.chat(
        ChatRequest::new("huggingface/tgi", vec![Message::user("hi")])
            .api_base(format!("{}/v1/chat/completions", server.url())),
    )
    .await
    .unwrap();
    assert_eq!(server.last_request().unwrap().path, "/v1/chat/completions");
}

#[tokio::test]
async fn embeddings_on_both_routes() {
    let server = FakeUpstream::start().await;
    // a self-hosted text-embeddings-inference: OpenAI's /v1/embeddings
    server.push(Reply::json(
        200,
        json!({"object": "list", "model": "BAAI/bge-small-en-v1.5",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.5]}],
            "usage": {"prompt_tokens": 3, "total_tokens": 3}}),
    ));
    let resp = client(&server)
        .embedding("huggingface/BAAI/bge-small-en-v1.5", "hello")
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/v1/embeddings");
    assert_eq!(
        r.json(),
        json!({"model": "BAAI/bge-small-en-v1.5", "input": "hello"})
    );
    assert_eq!(resp.data[0].embedding, vec![0.5f32, -0.5]);
    assert_eq!(resp.usage.prompt_tokens, 3);

    // the feature-extraction pipeline (the router's route), at a base ending with /hf-inference
    server.push(Reply::json(200, json!([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])));
    let c = Client::builder()
        .no_env()
        .api_key("huggingface", "hf_tok")
        .api_base("huggingface", format!("{}/hf-inference", server.url()))
        .build()
        .unwrap();
    let req = EmbeddingRequest::new("huggingface/BAAI/bge-m3", vec!["a", "b"])
        .extra_body(json!({"normalize": true}));
    let resp = c.embed(req).await.unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(
        r.path,
        "/hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction"
    );
    assert_eq!(r.header("authorization").as_deref(), Some("Bearer hf_tok"));
    assert_eq!(r.json(), json!({"inputs": ["a", "b"], "normalize": true}));
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].embedding, vec![0.4f32, 0.5, 0.6]);
    assert_eq!(resp.model, "BAAI/bge-m3");
    assert_eq!(resp.meta.provider, "huggingface");

    // errors on the pipeline route
    server.push(Reply::json(
        503,
        json!({"error": "Model BAAI/bge-m3 is currently loading", "estimated_time": 20.0}),
    ));
    let err = c
        .embedding("huggingface/BAAI/bge-m3", "a")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    // token-level features are not sentence embeddings
    server.push(Reply::json(200, json!([[[0.1, 0.2], [0.3, 0.4]]])));
    let err = c
        .embedding("huggingface/bert-base-uncased", "a")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}
