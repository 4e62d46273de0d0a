//! Accounting micro-benchmarks: token counting throughput (o200k and cl100k), price lookups
//! and the cost of an answer. Run with `cargo bench --bench accounting`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use litellm::accounting::{PriceTable, completion_cost, cost_per_token, count_text};
use litellm::{ChatResponse, PromptTokensDetails, Usage};

/// About 100 KB of English-like prose with punctuation and numbers.
fn prose() -> String {
    let para = "The quarterly report, released on 2026-11-24, shows revenue of $4.2 billion \
                (up 12% year over year). Analysts had expected growth closer to 9%; the \
                company's CFO said demand for its cloud products \"remained strong\" across \
                Europe and Asia, while hardware sales slowed. ";
    para.repeat(100 * 1024 / para.len() + 1)
}

fn benches(c: &mut Criterion) {
    let text = prose();
    for (name, model) in [("o200k", "gpt-4o"), ("cl100k", "gpt-4")] {
        let _ = count_text(model, "warm up: load the encoder");
        let mut g = c.benchmark_group("tokens/count_text");
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("{name}/100KB"), |b| {
            b.iter(|| count_text(model, black_box(&text)))
        });
        g.finish();
    }

    let table = PriceTable::global();
    c.bench_function("prices/get/exact", |b| {
        b.iter(|| table.get(black_box("gpt-4o-mini")).is_some())
    });
    c.bench_function("prices/get/prefixed_dated", |b| {
        b.iter(|| table.get(black_box("openai/gpt-4o-2024-08-06")).is_some())
    });
    c.bench_function("prices/get/unknown", |b| {
        b.iter(|| table.get(black_box("acme/my-private-model-v7")).is_some())
    });
    let mut usage = Usage::new(10_000, 500);
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(4000),
        ..Default::default()
    });
    c.bench_function("cost/cost_per_token", |b| {
        b.iter(|| cost_per_token(black_box("anthropic/claude-sonnet-4-5"), black_box(&usage)))
    });
    let mut resp: ChatResponse = serde_json::from_str(
        r#"{"id":"x","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#,
    )
    .unwrap();
    resp.usage = Some(usage.clone());
    resp.meta.provider = "openai".into();
    resp.meta.model = "gpt-4o-mini".into();
    c.bench_function("cost/completion_cost", |b| {
        b.iter(|| completion_cost(black_box(&resp)))
    });
}

criterion_group!(accounting, benches);
criterion_main!(accounting);
