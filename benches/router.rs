//! Router micro-benchmarks: construction, deployment selection for each strategy, and a routed
//! call on the mock provider (selection, bookkeeping and the client path, without I/O).
//! Run with `cargo bench --bench router`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use litellm::router::{Deployment, Router, RoutingStrategy};
use litellm::{ChatRequest, Client, Message};

fn deployments(n: usize) -> Vec<Deployment> {
    (0..n)
        .map(|i| {
            Deployment::new("gpt-4o", format!("mock/gpt-4o-{i}"))
                .api_base(format!("http://10.0.{}.{}:8000/v1", i / 250, i % 250))
                .rpm(1_000_000)
                .weight(1.0 + (i % 3) as f64)
                .cost_per_token(1e-6 * (1 + i % 7) as f64, 2e-6)
        })
        .collect()
}

fn strategies() -> [RoutingStrategy; 5] {
    [
        RoutingStrategy::SimpleShuffle,
        RoutingStrategy::LeastBusy,
        RoutingStrategy::UsageBased,
        RoutingStrategy::LatencyBased { buffer: 0.1 },
        RoutingStrategy::CostBased,
    ]
}

fn benches(c: &mut Criterion) {
    let client = Client::builder().no_env().build().unwrap();
    for n in [30usize, 1000] {
        let ds = deployments(n);
        c.bench_function(&format!("router/build/{n}"), |b| {
            b.iter(|| {
                Router::builder()
                    .client(client.clone())
                    .deployments(black_box(ds.clone()))
                    .build()
                    .unwrap()
            })
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let req = ChatRequest::new("gpt-4o", vec![Message::user("hi")]);
    for n in [3usize, 100, 1000] {
        for strategy in strategies() {
            let router = Router::builder()
                .client(client.clone())
                .deployments(deployments(n))
                .routing_strategy(strategy.clone())
                .seed(1)
                .build()
                .unwrap();
            // Every deployment has served a few calls (latencies, usage measured).
            for _ in 0..(3 * n).min(3000) {
                rt.block_on(router.chat(req.clone())).unwrap();
            }
            c.bench_function(&format!("router/select/{}/{n}", strategy.name()), |b| {
                b.iter(|| {
                    router
                        .get_available_deployment(black_box("gpt-4o"))
                        .unwrap()
                })
            });
            if matches!(
                strategy,
                RoutingStrategy::SimpleShuffle | RoutingStrategy::LeastBusy
            ) {
                c.bench_function(&format!("router/mock_call/{}/{n}", strategy.name()), |b| {
                    b.iter(|| rt.block_on(router.chat(black_box(req.clone()))).unwrap())
                });
            }
        }
    }
    let direct = ChatRequest::new("mock/gpt-4o", vec![Message::user("hi")]);
    c.bench_function("client/mock_call", |b| {
        b.iter(|| rt.block_on(client.chat(black_box(direct.clone()))).unwrap())
    });
}

criterion_group!(router, benches);
criterion_main!(router);
