//! Micro-benchmarks of the pure translation: request body serialization, response and chunk
//! decoding (1 KB, 10 KB, 100 KB), SSE decoding throughput, stream accumulation. Run with
//! `cargo bench --bench codec`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use litellm::provider::compat::Quirks;
use litellm::provider::openai::chat_body;
use litellm::{ChatChunk, ChatRequest, ChatResponse, ChunkAccumulator, Message, Tool};
use serde_json::json;

fn request() -> ChatRequest {
    ChatRequest::new(
        "openai/gpt-4o-mini",
        vec![
            Message::system("You are a helpful assistant that answers briefly."),
            Message::user(
                "What is the weather like in Paris today, and should I take an umbrella?",
            ),
        ],
    )
    .temperature(0.2)
    .max_tokens(256)
    .tools(vec![Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    )])
}

/// A request whose JSON body is about `bytes` long (a conversation of 200-byte turns).
fn sized_request(bytes: usize) -> ChatRequest {
    let turn = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
                incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis \
                nostrud exercitation ullamco laboris.";
    let mut messages = vec![Message::system("You are a helpful assistant.")];
    while messages.len() * (turn.len() + 30) < bytes {
        messages.push(if messages.len() % 2 == 1 {
            Message::user(turn)
        } else {
            Message::assistant(turn)
        });
    }
    ChatRequest::new("openai/gpt-4o-mini", messages).temperature(0.2)
}

/// A chunk whose JSON is about `bytes` long.
fn sized_chunk(bytes: usize) -> String {
    let text = "x".repeat(bytes.saturating_sub(300));
    json!({"id": "chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0", "object": "chat.completion.chunk",
        "created": 1770933892, "model": "gpt-4.1-nano-2025-04-14", "service_tier": "default",
        "system_fingerprint": "fp_de604bd877",
        "choices": [{"index": 0, "delta": {"content": text}, "logprobs": null, "finish_reason": null}],
        "usage": null, "obfuscation": "Qup1BsQ3"})
    .to_string()
}

/// An SSE body of `n` chunk events, then `[DONE]`.
fn sse_body(n: usize) -> Vec<u8> {
    let mut body = String::new();
    for _ in 0..n {
        body.push_str("data: ");
        body.push_str(CHUNK);
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

fn response_body(words: usize) -> String {
    let text = "lorem ipsum dolor sit amet ".repeat(words / 5);
    json!({
        "id": "chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU", "object": "chat.completion", "created": 1770933883,
        "model": "gpt-4.1-nano-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null, "annotations": []},
            "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 16, "completion_tokens": 363, "total_tokens": 379,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
        "service_tier": "default", "system_fingerprint": "fp_de604bd877"
    })
    .to_string()
}

const CHUNK: &str = r#"{"id":"chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0","object":"chat.completion.chunk","created":1770933892,"model":"gpt-4.1-nano-2025-04-14","service_tier":"default","system_fingerprint":"fp_de604bd877","choices":[{"index":0,"delta":{"content":" Galaxy"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Qup1BsQ3"}"#;

fn benches(c: &mut Criterion) {
    let req = request();
    c.bench_function("chat_body/serialize", |b| {
        b.iter(|| chat_body(black_box(&req), "gpt-4o-mini", false, &Quirks::NONE).unwrap())
    });
    for kb in [1usize, 10, 100] {
        let req = sized_request(kb * 1024);
        let len = chat_body(&req, "gpt-4o-mini", false, &Quirks::NONE)
            .unwrap()
            .len();
        let mut g = c.benchmark_group("chat_body/serialize_sized");
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(format!("{kb}KB"), |b| {
            b.iter(|| chat_body(black_box(&req), "gpt-4o-mini", false, &Quirks::NONE).unwrap())
        });
        g.finish();
    }
    // ~1 KB, ~10 KB and ~100 KB bodies
    for words in [100usize, 1850, 19000] {
        let body = response_body(words);
        let mut g = c.benchmark_group("chat_response/decode");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("{}B", body.len()), |b| {
            b.iter(|| serde_json::from_str::<ChatResponse>(black_box(&body)).unwrap())
        });
        g.finish();
    }
    c.bench_function("chat_chunk/decode", |b| {
        b.iter(|| serde_json::from_str::<ChatChunk>(black_box(CHUNK)).unwrap())
    });
    for kb in [1usize, 10, 100] {
        let chunk = sized_chunk(kb * 1024);
        let mut g = c.benchmark_group("chat_chunk/decode_sized");
        g.throughput(Throughput::Bytes(chunk.len() as u64));
        g.bench_function(format!("{kb}KB"), |b| {
            b.iter(|| serde_json::from_str::<ChatChunk>(black_box(&chunk)).unwrap())
        });
        g.finish();
    }
    // SSE framing alone, over a 1,000-event body (280 KB) delivered in 1,400-byte pieces
    // (one TCP segment each) and in 16 KB pieces.
    let body = sse_body(1000);
    for piece in [1400usize, 16 * 1024] {
        let mut g = c.benchmark_group("sse/decode");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("1000_events/{piece}B_pieces"), |b| {
            b.iter(|| litellm::__bench::sse_decode(black_box(&body), piece))
        });
        g.finish();
    }
    let chunks: Vec<ChatChunk> = (0..100)
        .map(|_| serde_json::from_str(CHUNK).unwrap())
        .collect();
    c.bench_function("accumulate/100_chunks", |b| {
        b.iter(|| {
            let mut acc = ChunkAccumulator::new();
            for ch in &chunks {
                acc.push(ch);
            }
            acc.finish()
        })
    });
}

criterion_group!(codec, benches);
criterion_main!(codec);
