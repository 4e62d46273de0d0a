//! Custom providers through the public API: the response constructors, the default
//! `chat_stream` (a replay of `chat`), credentials resolved for a custom prefix, and a custom
//! provider behind a `Router` deployment.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use litellm::provider::http::Auth;
use litellm::provider::{CallContext, Credentials, Provider};
use litellm::router::{Deployment, Router};
use litellm::{
    ChatRequest, ChatResponse, Client, ErrorKind, FinishReason, Message, Result, ToolCall, Usage,
};

/// Answers with the last message reversed; asks for a tool when the message says "weather".
/// Implements `chat` only.
#[derive(Default)]
struct Reverse {
    calls: AtomicUsize,
}

#[async_trait]
impl Provider for Reverse {
    fn name(&self) -> &str {
        "reverse"
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let last = req
            .messages
            .last()
            .and_then(|m| m.text())
            .unwrap_or_default();
        let usage = Usage::new(10, 4);
        if last.contains("weather") {
            return Ok(ChatResponse::from_text(cx.model.as_str(), "Let me look.")
                .with_tool_calls(vec![
                    ToolCall::function("call_a", "get_weather", r#"{"city":"Paris"}"#),
                    ToolCall::function("call_b", "get_time", "{}"),
                ])
                .with_usage(usage));
        }
        Ok(
            ChatResponse::from_text(cx.model.as_str(), last.chars().rev().collect::<String>())
                .with_usage(usage),
        )
    }
}

fn client_with(provider: Arc<dyn Provider>) -> Client {
    Client::builder()
        .no_env()
        .provider("rev", provider)
        .build()
        .unwrap()
}

/// The parts of a response that a replay must keep (not `meta`).
fn essence(r: &ChatResponse) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

#[tokio::test]
async fn default_chat_stream_replays_chat_exactly() {
    let provider = Arc::new(Reverse::default());
    let client = client_with(provider.clone());
    for prompt in ["hello there", "what's the weather?"] {
        let req = ChatRequest::new("rev/model-1", vec![Message::user(prompt)]);
        let whole = client.chat(req.clone()).await.unwrap();
        let collected = client
            .chat_stream(req.clone())
            .await
            .unwrap()
            .collect_response()
            .await
            .unwrap();
        // the same answer, apart from the id and time of the second call
        let mut a = essence(&whole);
        let mut b = essence(&collected);
        for v in [&mut a, &mut b] {
            v["id"] = serde_json::Value::Null;
            v["created"] = serde_json::Value::Null;
        }
        assert_eq!(a, b, "{prompt}");
        assert_eq!(collected.usage, Some(Usage::new(10, 4)));
        assert_eq!(collected.meta.provider, "rev");
    }
    let weather = client
        .chat_stream(ChatRequest::new(
            "rev/model-1",
            vec![Message::user("weather")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(weather.finish_reason(), Some(&FinishReason::ToolCalls));
    let names: Vec<&str> = weather
        .tool_calls()
        .iter()
        .map(|c| c.function.name.as_str())
        .collect();
    assert_eq!(names, ["get_weather", "get_time"]);
    assert_eq!(
        weather.tool_calls()[0].function.arguments,
        r#"{"city":"Paris"}"#
    );
    assert_eq!(weather.text(), Some("Let me look."));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn default_chat_stream_chunks_end_with_the_usage_chunk() {
    let client = client_with(Arc::new(Reverse::default()));
    let mut stream = client
        .chat_stream(ChatRequest::new("rev/m", vec![Message::user("abc")]))
        .await
        .unwrap();
    let mut chunks = Vec::new();
    while let Some(c) = stream.next().await {
        chunks.push(c.unwrap());
    }
    assert!(chunks.len() >= 3, "{chunks:?}");
    let first = &chunks[0];
    assert_eq!(
        first.choices[0].delta.role,
        Some(litellm::Role::Assistant),
        "the first chunk carries the role"
    );
    assert_eq!(first.text(), Some("cba"));
    assert!(
        chunks
            .iter()
            .any(|c| c.finish_reason() == Some(&FinishReason::Stop))
    );
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().map(|u| u.total_tokens), Some(14));
    assert!(chunks.iter().all(|c| c.object == "chat.completion.chunk"));
}

/// Records what the client resolved for it.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, String, Option<String>)>>,
}

const RECORDER_CREDENTIALS: Credentials = Credentials::new(
    &["MYCO_API_KEY"],
    &["MYCO_API_BASE"],
    Some("https://api.myco.example/v1"),
)
.api_key_required();

#[async_trait]
impl Provider for Recorder {
    fn name(&self) -> &str {
        "myco"
    }

    fn credentials(&self) -> Credentials {
        RECORDER_CREDENTIALS
    }

    async fn chat(&self, _req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let auth = match cx.bearer()? {
            Auth::Bearer(key) => key.to_owned(),
            other => format!("{other:?}"),
        };
        let url = cx.endpoint("/generate")?;
        let header = cx
            .headers
            .iter()
            .find(|(n, _)| n == "x-team")
            .map(|(_, v)| v.clone());
        self.seen.lock().unwrap().push((auth, url, header));
        Ok(ChatResponse::from_text(cx.model.as_str(), "ok"))
    }
}

#[tokio::test]
async fn a_required_key_missing_fails_before_the_provider_is_called() {
    let recorder = Arc::new(Recorder::default());
    let client = Client::builder()
        .env_lookup(|_| None)
        .provider("myco", recorder.clone())
        .build()
        .unwrap();
    let err = client
        .completion("myco/m1", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.message().contains("MYCO_API_KEY"), "{err}");
    assert!(recorder.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn credentials_come_from_the_environment_then_the_client_then_the_call() {
    let recorder = Arc::new(Recorder::default());
    let client = Client::builder()
        .env_lookup(|name| (name == "MYCO_API_KEY").then(|| "sk-env".to_owned()))
        .provider("myco", recorder.clone())
        .provider_header("myco", "x-team", "blue")
        .build()
        .unwrap();
    client
        .completion("myco/m1", vec![Message::user("x")])
        .await
        .unwrap();
    client
        .chat(
            ChatRequest::new("myco/m1", vec![Message::user("x")])
                .api_key("sk-call")
                .api_base("http://localhost:9/api/"),
        )
        .await
        .unwrap();
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (
                "sk-env".to_owned(),
                "https://api.myco.example/v1/generate".to_owned(),
                Some("blue".to_owned())
            ),
            (
                "sk-call".to_owned(),
                "http://localhost:9/api/generate".to_owned(),
                Some("blue".to_owned())
            ),
        ]
    );
}

#[test]
fn credentials_builders() {
    let c = Credentials::new(&["K"], &["B"], None)
        .api_key_required()
        .api_base_required()
        .with_api_version_env(&["V"]);
    assert!(c.requires_api_key && c.requires_api_base);
    assert_eq!(c.api_version_env, &["V"]);
    let d = Credentials::default();
    assert!(!d.requires_api_key && !d.requires_api_base);
}

#[test]
fn call_context_helpers_fail_with_typed_errors() {
    let cx = CallContext::new(reqwest::Client::new(), "myco", "m1");
    let err = cx.bearer().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.provider(), Some("myco"));
    assert_eq!(err.model(), Some("m1"));
    let err = cx.endpoint("/x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("myco"), "{err}");
    // an empty key is no key
    let empty = cx.clone().with_api_key("");
    assert_eq!(
        empty.bearer().unwrap_err().kind(),
        ErrorKind::Authentication
    );

    let cx = cx
        .with_api_key("sk-1")
        .with_api_base("http://h:1/v1///")
        .with_header("x-a", "1")
        .with_param("region", "eu");
    assert_eq!(cx.bearer().unwrap(), Auth::Bearer("sk-1"));
    assert_eq!(cx.api_base.as_deref(), Some("http://h:1/v1"));
    assert_eq!(cx.endpoint("chat").unwrap(), "http://h:1/v1/chat");
    assert_eq!(cx.param("region"), Some("eu"));
    assert_eq!(cx.headers, [("x-a".to_owned(), "1".to_owned())]);
    // the key never shows in Debug
    assert!(!format!("{cx:?}").contains("sk-1"));
}

#[test]
fn response_constructors() {
    let r = ChatResponse::from_text("m", "hi");
    assert_eq!(r.object, "chat.completion");
    assert_eq!(r.model, "m");
    assert!(r.created > 1_600_000_000);
    assert!(r.id.starts_with("chatcmpl-") && r.id.len() == "chatcmpl-".len() + 24);
    assert_ne!(r.id, ChatResponse::from_text("m", "hi").id);
    assert_eq!(r.text(), Some("hi"));
    assert_eq!(r.finish_reason(), Some(&FinishReason::Stop));
    assert!(r.usage.is_none());

    let r = r
        .with_id("x-1")
        .with_usage(Usage::new(1, 2))
        .with_finish_reason(FinishReason::Length);
    assert_eq!(r.id, "x-1");
    assert_eq!(r.usage.as_ref().unwrap().total_tokens, 3);
    assert_eq!(r.finish_reason(), Some(&FinishReason::Length));

    // tool calls: empty text becomes no content, the finish reason follows
    let call = ToolCall::function("c", "f", "{}");
    let r = ChatResponse::from_text("m", "").with_tool_calls(vec![call.clone()]);
    assert!(r.choices[0].message.content.is_none());
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
    let r = r.with_tool_calls(Vec::new());
    assert!(r.tool_calls().is_empty());
    let r = ChatResponse::from_message("m", Message::assistant_tool_calls(vec![call]));
    assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));

    // builders on a response without choices add one
    let r = ChatResponse::default().with_finish_reason(FinishReason::Stop);
    assert_eq!(r.choices.len(), 1);
    assert_eq!(r.choices[0].message.role, litellm::Role::Assistant);
}

#[tokio::test]
async fn a_custom_provider_behind_a_router_deployment() {
    let provider = Arc::new(Reverse::default());
    let router = Router::builder()
        .client(client_with(provider.clone()))
        .deployment(Deployment::new("backwards", "rev/model-1").id("rev-1"))
        .build()
        .unwrap();
    let resp = router
        .completion("backwards", vec![Message::user("stressed")])
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("desserts"));
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("rev-1"));
    assert_eq!(resp.meta.provider, "rev");
    let streamed = router
        .chat_stream(ChatRequest::new(
            "backwards",
            vec![Message::user("weather now")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(streamed.tool_calls().len(), 2);
    assert_eq!(streamed.usage.as_ref().unwrap().total_tokens, 14);
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
}
