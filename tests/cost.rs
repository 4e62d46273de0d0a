//! Costs through the public API, offline: mock answers with known usage, priced the way the
//! call pipeline will price them (chat, stream, embeddings, text completions, a deployment's
//! own prices, a LiteLLM-format table).

use std::sync::Arc;

use futures::StreamExt;
use litellm::accounting::{
    ModelPrice, PriceTable, completion_cost, cost_per_token, embedding_cost, text_completion_cost,
};
use litellm::{
    ChatRequest, EmbeddingRequest, Message, MockResponse, PromptTokensDetails,
    TextCompletionRequest, Usage,
};

fn cached_usage() -> Usage {
    let mut u = Usage::new(10_000, 500);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(4000),
        ..Default::default()
    });
    u
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1e-6),
        "got {got:e}, want {want:e}"
    );
}

#[tokio::test]
async fn a_chat_answer_is_priced_with_its_cached_tokens() {
    let resp = litellm::chat(
        ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
            .mock_response(MockResponse::text("Hello").usage(cached_usage())),
    )
    .await
    .unwrap();
    // gpt-4o-mini: 6,000 × $0.15/M + 4,000 cached × $0.075/M + 500 × $0.60/M
    let want = 6000.0 * 0.15e-6 + 4000.0 * 0.075e-6 + 500.0 * 0.6e-6;
    close(completion_cost(&resp).unwrap(), want);
    let (p, c) = cost_per_token("gpt-4o-mini", resp.usage.as_ref().unwrap()).unwrap();
    close(p + c, want);
}

#[tokio::test]
async fn a_stream_is_priced_from_its_last_chunk() {
    let mut stream = litellm::chat_stream(
        ChatRequest::new("mock/claude-sonnet-4-5", vec![Message::user("Hi")])
            .mock_response(MockResponse::text("one two three").usage(cached_usage())),
    )
    .await
    .unwrap();
    let (mut usage, mut model) = (None, String::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        model = chunk.model.clone();
        if let Some(u) = chunk.usage {
            usage = Some(u);
        }
    }
    let usage = usage.expect("the mock streams a usage chunk");
    let cost = PriceTable::global()
        .usage_cost(Some("mock"), &model, "claude-sonnet-4-5", &usage, None)
        .unwrap();
    // $3/M input, $0.30/M cached, $15/M output
    close(
        cost.total(),
        6000.0 * 3e-6 + 4000.0 * 0.3e-6 + 500.0 * 15e-6,
    );
}

#[tokio::test]
async fn embeddings_and_text_completions_are_priced() {
    let resp = litellm::embed(
        EmbeddingRequest::new(
            "mock/text-embedding-3-small",
            vec!["a".to_owned(), "b".into()],
        )
        .mock_response(MockResponse::text("").usage(Usage::new(1000, 0))),
    )
    .await
    .unwrap();
    let tokens = resp.usage.prompt_tokens.max(resp.usage.total_tokens);
    assert!(tokens > 0);
    close(embedding_cost(&resp).unwrap(), tokens as f64 * 0.02e-6);

    let resp = litellm::text_completion(
        TextCompletionRequest::new("mock/gpt-3.5-turbo-instruct", "Say hi")
            .mock_response(MockResponse::text("hi").usage(Usage::new(1000, 500))),
    )
    .await
    .unwrap();
    close(
        text_completion_cost(&resp).unwrap(),
        1000.0 * 1.5e-6 + 500.0 * 2e-6,
    );
}

#[tokio::test]
async fn unknown_models_have_no_cost_and_cache_hits_cost_nothing() {
    let mut resp = litellm::chat(
        ChatRequest::new("mock/my-private-model", vec![Message::user("Hi")]).mock_response("ok"),
    )
    .await
    .unwrap();
    assert_eq!(completion_cost(&resp), None);
    resp.meta.cache_hit = true;
    assert_eq!(completion_cost(&resp), Some(0.0));
}

#[test]
fn a_deployment_price_and_a_litellm_table() {
    // A router deployment with model_info input/output prices: a flat override.
    let price = ModelPrice::new(0.5e-6, 1.5e-6);
    close(
        price.cost(&cached_usage(), None).total(),
        10_000.0 * 0.5e-6 + 500.0 * 1.5e-6,
    );

    // Python LiteLLM's table format, merged over the shipped one and shared.
    let mut table = PriceTable::builtin();
    table
        .load_litellm_json(
            r#"{"sample_spec": {"max_tokens": "LEGACY"},
                "my-private-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": "2e-6",
                                     "litellm_provider": "hosted_vllm", "mode": "chat"}}"#,
        )
        .unwrap();
    let table = Arc::new(table);
    let (p, c) = table
        .cost_per_token("hosted_vllm/my-private-model", &Usage::new(100, 100))
        .unwrap();
    close(p + c, 100.0 * 1e-6 + 100.0 * 2e-6);
    assert!(table.get("gpt-4o").is_some());
}
