//! Observability hot-path costs: handing an event to callbacks (queue vs a task per event),
//! recording metrics, logging with no subscriber, rendering. Run with
//! `cargo bench --bench observe`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use litellm::observe::logging::{LogLevel, log_event, start_span};
use litellm::observe::metrics::Metrics;
use litellm::observe::{CallEvent, CallType, Callback, CallbackResult, Callbacks, Observer};
use litellm::{Metadata, Usage};
use tracing_subscriber::layer::SubscriberExt;

struct Noop;

#[async_trait::async_trait]
impl Callback for Noop {
    async fn on_success(&self, event: &CallEvent) -> CallbackResult {
        black_box(event);
        Ok(())
    }
}

fn event(dep: usize) -> CallEvent {
    let mut e = CallEvent::new(
        CallType::Chat,
        "gpt-4o",
        Metadata::new().user("u1").tag("prod"),
    );
    e.model_group = Some("gpt-4o".into());
    e.deployment_id = Some(format!("dep-{dep}"));
    e.provider = Some("openai".into());
    e.latency = Some(Duration::from_millis(420));
    e.usage = Some(Usage::new(100, 20));
    e.cost = Some(0.0012);
    e
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let ev = Arc::new(event(0));

    let cbs = Callbacks::builder()
        .callback(Arc::new(Noop))
        .queue_capacity(1 << 20)
        .build();
    c.bench_function("callbacks/queue/1", |b| {
        b.iter(|| cbs.call_finished(black_box(ev.clone())))
    });
    rt.block_on(cbs.flush());
    eprintln!("queue stats: {:?}", cbs.stats());

    let noop: Arc<dyn Callback> = Arc::new(Noop);
    c.bench_function("callbacks/spawn_per_event/1", |b| {
        b.iter(|| {
            let (cb, ev) = (noop.clone(), ev.clone());
            drop(tokio::spawn(async move {
                let _ = cb.on_success(&ev).await;
            }))
        })
    });

    let empty = Callbacks::default();
    c.bench_function("callbacks/empty", |b| {
        b.iter(|| empty.call_finished(black_box(ev.clone())))
    });

    let metrics = Metrics::new();
    for d in 0..100 {
        metrics.record(&event(d));
    }
    c.bench_function("metrics/record", |b| {
        b.iter(|| metrics.record(black_box(&ev)))
    });
    c.bench_function("metrics/render/100_label_sets", |b| {
        b.iter(|| black_box(metrics.render()))
    });

    c.bench_function("logging/basic_no_subscriber", |b| {
        b.iter(|| log_event(LogLevel::Basic, black_box(&ev)))
    });
    c.bench_function("event/clone", |b| b.iter(|| black_box(&*ev).clone()));

    // What a call pays when nothing is configured and no subscriber wants `litellm::call`: the
    // pipeline asks `is_active` (callbacks, level, metrics, then `tracing::enabled!`), and a
    // call span is not created.
    let idle = Observer::default();
    bench_idle(c, "no_subscriber", &idle, &ev);
    let sub = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(tracing_subscriber::EnvFilter::new("myapp=info"));
    tracing::subscriber::with_default(sub, || bench_idle(c, "uninterested_subscriber", &idle, &ev));
}

fn bench_idle(c: &mut Criterion, name: &str, idle: &Observer, ev: &CallEvent) {
    c.bench_function(&format!("observer/is_active_idle/{name}"), |b| {
        b.iter(|| black_box(idle).is_active())
    });
    c.bench_function(&format!("logging/off/{name}"), |b| {
        b.iter(|| log_event(LogLevel::Off, black_box(ev)))
    });
    c.bench_function(&format!("logging/start_span_off/{name}"), |b| {
        b.iter(|| start_span(LogLevel::Off, CallType::Chat, black_box("gpt-4o")))
    });
}

criterion_group!(observe, benches);
criterion_main!(observe);
