//! A whole program written with nothing from the crate but `use litellm::prelude::*;`: a
//! custom provider, a callback, a router with retries, fallbacks, a cache, a ledger with a
//! budget and a quota, metrics, a JSON-lines log, and error handling with `?`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use litellm::prelude::*;

/// A provider of our own: answers with the last message, reversed.
struct Reverse;

#[async_trait]
impl Provider for Reverse {
    fn name(&self) -> &str {
        "reverse"
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let last = req
            .messages
            .last()
            .and_then(|m| m.text())
            .unwrap_or_default();
        Ok(
            ChatResponse::from_text(cx.model.as_str(), last.chars().rev().collect::<String>())
                .with_usage(Usage::new(5, 2)),
        )
    }
}

/// A callback of our own: remembers who spent what.
#[derive(Default)]
struct Spend(Mutex<Vec<(Option<String>, bool)>>);

#[async_trait]
impl Callback for Spend {
    fn wants(&self, hook: Hook) -> bool {
        matches!(hook, Hook::Success | Hook::Failure)
    }

    async fn on_success(&self, event: &CallEvent) -> CallbackResult {
        self.0
            .lock()
            .unwrap()
            .push((event.metadata.user.clone(), true));
        Ok(())
    }

    async fn on_failure(&self, event: &CallEvent) -> CallbackResult {
        self.0
            .lock()
            .unwrap()
            .push((event.metadata.user.clone(), false));
        Ok(())
    }
}

/// The JSON-lines log goes to a temporary file; `?` works on its constructor in a function
/// that returns `litellm::Result`.
fn jsonl_log() -> Result<JsonLinesLogger> {
    let path = std::env::temp_dir().join(format!("litellm-prelude-{}.jsonl", std::process::id()));
    let logger = JsonLinesLogger::file(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(logger)
}

async fn program() -> Result<Vec<String>> {
    let client = Client::builder()
        .no_env()
        .provider("reverse", Arc::new(Reverse))
        .build()?;
    let ledger = Arc::new(
        Ledger::new()
            .budget(Budget::new(Scope::User("alice".into()), 1.0, Period::Daily))
            .quota(Quota::new(Scope::User("mallory".into())).rpm(1)),
    );
    let metrics = Metrics::new();
    let spend = Arc::new(Spend::default());
    let router: Router = Router::builder()
        .client(client)
        .deployment(Deployment::new("chat", "reverse/v1").id("mine"))
        .deployment(
            Deployment::new("flaky", "mock/gpt-4o-mini")
                .id("flaky")
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .routing_strategy(RoutingStrategy::LeastBusy)
        .retry_policy(RetryPolicy::new().retries(ErrorKind::RateLimit, 1))
        .retry_after(Duration::ZERO)
        .fallbacks(Fallbacks::new().fallback("flaky", ["chat"]))
        .cache(CacheConfig::memory())
        .ledger(ledger.clone())
        .callback(spend.clone())
        .callback(Arc::new(jsonl_log()?))
        .metrics(metrics.clone())
        .log_level(LogLevel::Off)
        .build()?;

    let mut out = Vec::new();
    let ask = |text: &str, user: &str| {
        ChatRequest::new(
            "chat",
            vec![Message::system("Be brief."), Message::user(text)],
        )
        .temperature(0.0)
        .metadata(Metadata::new().user(user).tag("prelude"))
    };

    // A routed call, then the same again from the cache.
    let first: ChatResponse = router.chat(ask("stressed", "alice")).await?;
    let meta: &ResponseMeta = &first.meta;
    assert_eq!(meta.deployment_id.as_deref(), Some("mine"));
    out.push(first.text().unwrap_or_default().to_owned());
    let again = router.chat(ask("stressed", "alice")).await?;
    assert!(again.meta.cache_hit);

    // A stream, collected.
    let streamed = router
        .chat_stream(ask("live", "alice").no_cache(true))
        .await?
        .collect_response()
        .await?;
    out.push(streamed.text().unwrap_or_default().to_owned());

    // A fallback: "flaky" is rate limited, "chat" answers.
    let fell_back = router
        .chat(ChatRequest::new("flaky", vec![Message::user("drawer")]))
        .await?;
    assert_eq!(fell_back.meta.fallbacks, vec!["chat".to_owned()]);
    out.push(fell_back.text().unwrap_or_default().to_owned());

    // A quota: mallory's second call this minute is refused before any provider call.
    router.chat(ask("one", "mallory")).await?;
    match router.chat(ask("two", "mallory")).await {
        Err(e) if e.kind() == ErrorKind::RateLimit => out.push(format!("refused: {}", e.kind())),
        Err(e) => return Err(e),
        Ok(_) => panic!("the quota should refuse the second call"),
    }

    router.flush_callbacks().await;
    let alice = ledger
        .totals_for(Dimension::User, "alice")
        .expect("alice's totals");
    assert_eq!(alice.requests, 3, "the call, its cache hit and the stream");
    assert!(metrics.render().contains("litellm_requests_total"));
    let seen = spend.0.lock().unwrap().clone();
    assert!(seen.contains(&(Some("mallory".into()), false)), "{seen:?}");
    let health: Vec<DeploymentHealth> = router.health();
    let flaky = health.iter().find(|h| h.id == "flaky").expect("flaky");
    assert!(flaky.failures >= 1, "{flaky:?}");
    Ok(out)
}

#[tokio::test]
async fn a_program_needs_only_the_prelude() {
    let out = program().await.unwrap();
    assert_eq!(
        out,
        ["desserts", "evil", "reward", "refused: rate_limit"],
        "{out:?}"
    );
}

#[test]
fn prelude_names_the_configuration_types() {
    // Types a program names in signatures and struct fields, all from the prelude.
    let names = [
        std::any::type_name::<RouterConfig>(),
        std::any::type_name::<Webhook>(),
        std::any::type_name::<Callbacks>(),
        std::any::type_name::<CallType>(),
        std::any::type_name::<EventError>(),
        std::any::type_name::<ModelInfo>(),
        std::any::type_name::<AllowedFailsPolicy>(),
        std::any::type_name::<PriceTable>(),
        std::any::type_name::<ModelPrice>(),
        std::any::type_name::<MemoryCache>(),
        std::any::type_name::<SecretString>(),
        std::any::type_name::<ClientBuilder>(),
        std::any::type_name::<RouterBuilder>(),
        std::any::type_name::<Error>(),
        std::any::type_name::<EmbeddingRequest>(),
        std::any::type_name::<TextCompletionRequest>(),
        std::any::type_name::<ChatStream>(),
        std::any::type_name::<ChatChunk>(),
        std::any::type_name::<Tool>(),
        std::any::type_name::<ToolChoice>(),
        std::any::type_name::<ResponseFormat>(),
        std::any::type_name::<CacheControl>(),
        std::any::type_name::<Arc<dyn Cache>>(),
    ];
    assert!(names.iter().all(|n| n.contains("litellm::")), "{names:?}");
    let r: Result<u8, std::num::ParseIntError> = "7".parse();
    assert_eq!(r, Ok(7), "Result<T, E> with another error type still works");
}
