//! What the crate adds to a real HTTP call: the same chat completion against the same
//! loopback server (the tests' in-process fake upstream, on its own thread), through raw
//! reqwest + serde_json ("r0", the floor), `Client`, and a one-deployment `Router`.
//! Run with `cargo bench --bench http`.
//!
//! For instruction counts (stable on a noisy machine), run one arm in a loop under callgrind:
//! `LITELLM_BENCH_LOOP=client:2000 valgrind --tool=callgrind target/release/deps/http-*`
//! (arms: `r0`, `client`, `router`); the difference between two loop lengths is the cost of
//! the extra calls.

#[path = "../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use litellm::router::{Deployment, Router};
use litellm::{ChatRequest, Client, Message};
use serde::{Deserialize, Serialize};
use support::{FakeUpstream, Reply};

const KEY: &str = "sk-bench-0123456789";

#[derive(Serialize)]
struct R0Request<'a> {
    model: &'a str,
    messages: [R0Message<'a>; 1],
}

#[derive(Serialize, Deserialize)]
struct R0Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Response {
    id: String,
    model: String,
    choices: Vec<R0Choice>,
    usage: Option<R0Usage>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Choice {
    message: R0Answer,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Answer {
    role: String,
    content: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

/// A ~1 KB chat.completion answer.
fn answer() -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1770933883,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant",
            "content": "lorem ipsum dolor sit amet ".repeat(28), "refusal": null},
            "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 140, "total_tokens": 152},
        "system_fingerprint": "fp_bench"
    })
}

struct Arms {
    url: String,
    r0: reqwest::Client,
    client: Client,
    router: Router,
    _server: std::thread::JoinHandle<()>,
}

fn arms() -> Arms {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async {
            let up = FakeUpstream::start().await;
            up.set_default(Reply::json(200, answer()));
            tx.send(up.url()).expect("send url");
            std::future::pending::<()>().await;
        });
    });
    let base = rx.recv().expect("server url");
    let client = Client::builder()
        .no_env()
        .api_key("openai", KEY)
        .api_base("openai", format!("{base}/v1"))
        .build()
        .expect("client");
    let router = Router::builder()
        .client(client.clone())
        .deployment(
            Deployment::new("gpt-4o-mini", "openai/gpt-4o-mini")
                .api_key(KEY)
                .api_base(format!("{base}/v1")),
        )
        .build()
        .expect("router");
    Arms {
        url: format!("{base}/v1/chat/completions"),
        r0: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .expect("reqwest"),
        client,
        router,
        _server: server,
    }
}

impl Arms {
    async fn call(&self, arm: &str) -> usize {
        let prompt = "Say hello in one short sentence.";
        match arm {
            "r0" => {
                let body = serde_json::to_vec(&R0Request {
                    model: "gpt-4o-mini",
                    messages: [R0Message {
                        role: "user",
                        content: prompt,
                    }],
                })
                .expect("body");
                let resp = self
                    .r0
                    .post(&self.url)
                    .header(reqwest::header::AUTHORIZATION, format!("Bearer {KEY}"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                let bytes = resp.bytes().await.expect("body");
                let r: R0Response = serde_json::from_slice(&bytes).expect("decode");
                r.choices.len()
            }
            "client" => {
                let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user(prompt)]);
                self.client.chat(req).await.expect("client").choices.len()
            }
            _ => {
                let req = ChatRequest::new("gpt-4o-mini", vec![Message::user(prompt)]);
                self.router.chat(req).await.expect("router").choices.len()
            }
        }
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let arms = arms();
    if let Ok(spec) = std::env::var("LITELLM_BENCH_LOOP") {
        let (arm, n) = spec.split_once(':').unwrap_or((spec.as_str(), "1000"));
        let n: usize = n.parse().unwrap_or(1000);
        rt.block_on(async {
            for _ in 0..n {
                black_box(arms.call(arm).await);
            }
        });
        #[allow(clippy::exit)] // a loop run for valgrind: criterion must not start after it
        std::process::exit(0);
    }
    for arm in ["r0", "client", "router"] {
        c.bench_function(&format!("http/chat/{arm}"), |b| {
            b.iter(|| rt.block_on(arms.call(arm)))
        });
    }
}

criterion_group!(http, benches);
criterion_main!(http);
