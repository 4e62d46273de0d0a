//! The mock provider and the free functions: everything offline.

use std::time::{Duration, Instant};

use futures::StreamExt;
use litellm::{
    ChatRequest, EmbeddingRequest, ErrorKind, FinishReason, Message, MockResponse, ToolCall, Usage,
    chat, chat_stream, completion, embed, embedding,
};

#[tokio::test]
async fn free_functions_answer_from_the_mock() {
    let resp = completion("mock/gpt-4o-mini", vec![Message::user("Hello")])
        .await
        .unwrap();
    assert_eq!(resp.text(), Some(litellm::provider::mock::DEFAULT_TEXT));
    assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(resp.meta.provider, "mock");
    assert_eq!(resp.model, "gpt-4o-mini");
    let u = resp.usage.unwrap();
    assert!(u.prompt_tokens > 0 && u.completion_tokens > 0);
    assert_eq!(u.total_tokens, u.prompt_tokens + u.completion_tokens);
}

#[tokio::test]
async fn mock_response_short_circuits_any_model_without_network() {
    // A real provider with no key and an unroutable base: the mock answers before any of that.
    let resp = chat(
        ChatRequest::new("openai/gpt-4o", vec![Message::user("x")])
            .api_base("http://127.0.0.1:1")
            .mock_response("canned"),
    )
    .await
    .unwrap();
    assert_eq!(resp.text(), Some("canned"));
    assert_eq!(resp.model, "gpt-4o");
    let resp =
        chat(ChatRequest::new("some-unknown-model", vec![Message::user("x")]).mock_response("ok"))
            .await
            .unwrap();
    assert_eq!(resp.text(), Some("ok"));
}

#[tokio::test]
async fn mock_streams_word_by_word_with_usage_last() {
    let mut stream = chat_stream(
        ChatRequest::new("mock/m", vec![Message::user("x")]).mock_response(
            MockResponse::text("The quick brown fox").chunk_delay(Duration::from_millis(2)),
        ),
    )
    .await
    .unwrap();
    let mut pieces = Vec::new();
    let mut last = None;
    while let Some(c) = stream.next().await {
        let c = c.unwrap();
        if let Some(t) = c.text() {
            pieces.push(t.to_owned());
        }
        last = Some(c);
    }
    assert_eq!(pieces.concat(), "The quick brown fox");
    assert!(pieces.iter().filter(|p| !p.is_empty()).count() >= 4);
    let last = last.unwrap();
    assert!(last.choices.is_empty());
    assert!(last.usage.is_some());
    assert!(stream.meta().time_to_first_token.is_some());
}

#[tokio::test]
async fn mock_errors_delays_and_usage() {
    for kind in [
        ErrorKind::RateLimit,
        ErrorKind::ContextWindowExceeded,
        ErrorKind::Timeout,
        ErrorKind::ServiceUnavailable,
    ] {
        let err = chat(
            ChatRequest::new("mock/m", vec![Message::user("x")])
                .mock_response(MockResponse::error(kind)),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), kind);
        assert_eq!(err.provider(), Some("mock"));
    }
    let err = chat(
        ChatRequest::new("mock/m", vec![Message::user("x")])
            .mock_response("litellm.RateLimitError"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.status(), Some(429));
    let err = chat_stream(
        ChatRequest::new("mock/m", vec![Message::user("x")])
            .mock_response(MockResponse::error(ErrorKind::InternalServer)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer);

    let start = Instant::now();
    let resp = chat(
        ChatRequest::new("mock/m", vec![Message::user("x")]).mock_response(
            MockResponse::text("late")
                .delay(Duration::from_millis(50))
                .usage(Usage::new(7, 3)),
        ),
    )
    .await
    .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(resp.usage.unwrap(), Usage::new(7, 3));
    // a mock delay longer than the timeout times out like a real call
    let err = chat(
        ChatRequest::new("mock/m", vec![Message::user("x")])
            .timeout(Duration::from_millis(20))
            .mock_response(MockResponse::text("late").delay(Duration::from_secs(5))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn mock_tool_calls_stream_and_collect() {
    let calls = vec![
        ToolCall::function("call_1", "get_weather", r#"{"city":"Paris"}"#),
        ToolCall::function("call_2", "get_time", r#"{"tz":"CET"}"#),
    ];
    let req = ChatRequest::new("mock/m", vec![Message::user("x")])
        .mock_response(MockResponse::tool_calls(calls.clone()));
    let resp = chat(req.clone()).await.unwrap();
    assert_eq!(resp.tool_calls(), calls.as_slice());
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
    let streamed = chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(streamed.tool_calls(), calls.as_slice());
    assert_eq!(streamed.finish_reason(), Some(&FinishReason::ToolCalls));
}

#[tokio::test]
async fn mock_embeddings_are_deterministic() {
    let a = embedding("mock/text-embedding-3-small", vec!["alpha", "beta"])
        .await
        .unwrap();
    let b = embed(EmbeddingRequest::new(
        "mock/text-embedding-3-small",
        vec!["alpha", "beta"],
    ))
    .await
    .unwrap();
    assert_eq!(a.data.len(), 2);
    assert_eq!(a.data[0].embedding.len(), 1536);
    assert_eq!(a.data[0].embedding, b.data[0].embedding);
    assert_ne!(a.data[0].embedding, a.data[1].embedding);
    let small = embed(EmbeddingRequest::new("mock/e", "alpha").dimensions(8))
        .await
        .unwrap();
    assert_eq!(small.data[0].embedding.len(), 8);
    let err = embed(
        EmbeddingRequest::new("mock/e", "x")
            .mock_response(MockResponse::error(ErrorKind::RateLimit)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
}
