//! Callbacks, logging levels and Prometheus metrics on a router, offline on the `mock` provider.
//!
//! - a custom callback that tallies spend per user,
//! - the built-in JSON-lines logger writing one line per call to a file,
//! - `tracing` logs: one line per call, printed to stderr by a subscriber that lets `litellm`
//!   through at `INFO` (no `LITELLM_LOG` needed),
//! - Prometheus metrics rendered as text, with the router's cooldown and in-flight gauges.
//!
//! ```sh
//! cargo run --example observability
//! LITELLM_LOG=DEBUG cargo run --example observability   # detailed: prompts and answers too
//! LITELLM_LOG=TRACE cargo run --example observability   # everything, retries and fallbacks too
//! RUST_LOG=warn cargo run --example observability       # only the failed calls
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use litellm::prelude::*;
use tracing_subscriber::EnvFilter;

/// Sums the cost of successful calls per user.
#[derive(Default)]
struct SpendPerUser(Mutex<BTreeMap<String, f64>>);

#[async_trait]
impl Callback for SpendPerUser {
    async fn on_success(&self, event: &CallEvent) -> CallbackResult {
        let user = event.metadata.user.clone().unwrap_or_else(|| "-".into());
        let mut map = self.0.lock().map_err(|_| "poisoned")?;
        *map.entry(user).or_default() += event.cost.unwrap_or_default();
        Ok(())
    }
}

#[tokio::main]
async fn main() -> litellm::Result<()> {
    // Logs: a subscriber that lets `litellm` through at INFO gets one line per call
    // (`RUST_LOG=litellm=info`, the default here). `LITELLM_LOG` (read when the router is
    // built) puts more in each line: DEBUG adds prompts and answers, TRACE everything.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("litellm=info")),
        )
        .init();

    let log_path =
        std::env::temp_dir().join(format!("litellm-events-{}.jsonl", std::process::id()));
    let spend = Arc::new(SpendPerUser::default());
    let metrics = Metrics::new();
    let router = Router::builder()
        .client(Client::builder().no_env().build()?)
        .deployment(Deployment::new("gpt-4o", "mock/gpt-4o").id("east"))
        .deployment(Deployment::new("gpt-4o", "mock/gpt-4o").id("west"))
        .deployment(
            Deployment::new("gpt-4o", "mock/gpt-4o")
                .id("flaky")
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .num_retries(2)
        .retry_after(std::time::Duration::ZERO)
        .callback(spend.clone())
        .callback(Arc::new(JsonLinesLogger::file(&log_path)?))
        .metrics(metrics.clone())
        .seed(7)
        .build()?;

    for (i, user) in ["alice", "bob", "alice", "carol", "alice", "bob"]
        .iter()
        .enumerate()
    {
        let req = ChatRequest::new("gpt-4o", vec![Message::user(format!("Question {i}"))])
            .metadata(Metadata::new().user(*user).tag("example"));
        let resp = router.chat(req).await?;
        eprintln!(
            "call {i}: {} via {} in {} attempt(s), ${:.6}",
            user,
            resp.meta.deployment_id.as_deref().unwrap_or("-"),
            resp.meta.attempts,
            resp.meta.cost.unwrap_or_default()
        );
    }

    // Callbacks run on background tasks; wait for them before reading what they saw.
    router.flush_callbacks().await;
    println!("== spend per user (custom callback):");
    for (user, usd) in spend.0.lock().map(|m| m.clone()).unwrap_or_default() {
        println!("   {user:6} ${usd:.6}");
    }
    let lines = std::fs::read_to_string(&log_path).unwrap_or_default();
    println!(
        "\n== {} JSON lines in {}; the first:\n{}",
        lines.lines().count(),
        log_path.display(),
        lines.lines().next().unwrap_or_default()
    );
    let _ = std::fs::remove_file(&log_path);

    // Metrics: serve `metrics.render()` with `litellm::observe::metrics::CONTENT_TYPE`.
    println!("\n== Prometheus metrics (excerpt):");
    for line in metrics.render().lines().filter(|l| {
        !l.starts_with('#')
            && !l.contains("_bucket")
            && (l.starts_with("litellm_requests_total")
                || l.starts_with("litellm_request_failures_total")
                || l.starts_with("litellm_spend_usd_total")
                || l.starts_with("litellm_deployment_cooldown"))
    }) {
        println!("   {line}");
    }
    Ok(())
}
