//! What a user layer costs on the call path: a client whose provider answers at once, called
//! with 0, 1 and 4 layers that do nothing but pass the call on. The difference per layer is
//! the layer stage's own cost (the request and answer moved through the `Request`/`Response`
//! enums, one boxed future per layer). Run with `cargo bench --bench layers`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use litellm::layer::{Layer, Next, Request, Response};
use litellm::observe::LogLevel;
use litellm::provider::{CallContext, Provider};
use litellm::{ChatRequest, ChatResponse, Client, Message, Result};

/// Answers at once, with no I/O.
struct Instant(ChatResponse);

#[async_trait::async_trait]
impl Provider for Instant {
    fn name(&self) -> &str {
        "instant"
    }

    async fn chat(&self, _req: &ChatRequest, _cx: &CallContext) -> Result<ChatResponse> {
        Ok(self.0.clone())
    }
}

/// Passes every call on untouched.
struct PassThrough;

#[async_trait::async_trait]
impl Layer for PassThrough {
    async fn call(&self, request: Request, next: Next<'_>) -> Result<Response> {
        next.run(request).await
    }
}

fn client(layers: usize) -> Client {
    let provider = Arc::new(Instant(
        ChatResponse::from_text("m", "ok").with_usage(litellm::Usage::new(3, 1)),
    ));
    let mut b = Client::builder()
        .no_env()
        .log_level(LogLevel::Off)
        .provider("instant", provider);
    for _ in 0..layers {
        b = b.layer(PassThrough);
    }
    b.build().unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("layers");
    for n in [0usize, 1, 4] {
        let client = client(n);
        let req = ChatRequest::new("instant/m", vec![Message::user("Hi")]);
        g.bench_function(format!("chat_{n}_layers"), |b| {
            b.iter(|| {
                let resp = rt.block_on(client.chat(req.clone())).unwrap();
                black_box(resp);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
