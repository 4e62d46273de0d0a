//! Router behaviour with a scripted provider and paused tokio time: deterministic.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use litellm::provider::{CallContext, Provider};
use litellm::router::{
    AllowedFailsPolicy, Deployment, Fallbacks, RetryBudget, RetryPolicy, Router, RoutingStrategy,
};
use litellm::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Choice, Client, Error, ErrorKind,
    FinishReason, Message, Metadata, ResponseMeta, Usage,
};

/// What a scripted deployment does on its next call.
#[derive(Clone, Debug)]
enum Step {
    Ok,
    Fail(ErrorKind, Option<u16>, Option<Duration>),
    Slow(Duration),
    /// A stream that delivers one chunk, then fails.
    BreakAfterFirstChunk,
}

/// A provider whose models (`s/<name>`) follow scripts; by default they answer with their name.
#[derive(Default)]
struct Script {
    steps: Mutex<HashMap<String, VecDeque<Step>>>,
    calls: Mutex<Vec<String>>,
}

impl Script {
    fn push(&self, model: &str, steps: impl IntoIterator<Item = Step>) {
        self.steps
            .lock()
            .unwrap()
            .entry(model.to_owned())
            .or_default()
            .extend(steps);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn next(&self, model: &str) -> Step {
        self.calls.lock().unwrap().push(model.to_owned());
        self.steps
            .lock()
            .unwrap()
            .get_mut(model)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Step::Ok)
    }
}

fn answer(model: &str) -> ChatResponse {
    ChatResponse {
        id: "r".into(),
        model: model.into(),
        choices: vec![Choice {
            index: 0,
            message: Message::assistant(model),
            finish_reason: Some(FinishReason::Stop),
            logprobs: None,
            extra: Default::default(),
        }],
        usage: Some(Usage::new(10, 5)),
        ..Default::default()
    }
}

fn fail(kind: ErrorKind, status: Option<u16>, retry_after: Option<Duration>) -> Error {
    let mut e = Error::new(kind, format!("scripted {kind}"));
    if let Some(s) = status {
        e = e.with_status(s);
    }
    if let Some(r) = retry_after {
        e = e.with_retry_after(r);
    }
    e
}

struct Scripted(Arc<Script>);

#[async_trait]
impl Provider for Scripted {
    fn name(&self) -> &str {
        "s"
    }
    async fn chat(&self, _req: &ChatRequest, cx: &CallContext) -> litellm::Result<ChatResponse> {
        match self.0.next(&cx.model) {
            Step::Ok | Step::BreakAfterFirstChunk => Ok(answer(&cx.model)),
            Step::Fail(k, s, r) => Err(fail(k, s, r)),
            Step::Slow(d) => {
                tokio::time::sleep(d).await;
                Ok(answer(&cx.model))
            }
        }
    }
    async fn chat_stream(
        &self,
        _req: &ChatRequest,
        cx: &CallContext,
    ) -> litellm::Result<ChatStream> {
        match self.0.next(&cx.model) {
            Step::Fail(k, s, r) => Err(fail(k, s, r)),
            Step::BreakAfterFirstChunk => {
                let first = ChatChunk {
                    choices: vec![litellm::ChunkChoice {
                        delta: litellm::Delta {
                            content: Some("partial".into()),
                            ..Default::default()
                        },
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                let items = vec![
                    Ok(first),
                    Err(Error::new(ErrorKind::ApiConnection, "dropped")),
                ];
                Ok(ChatStream::new(
                    futures::stream::iter(items),
                    ResponseMeta::new("s", cx.model.clone()),
                ))
            }
            _ => Ok(ChatStream::from_response(&answer(&cx.model))),
        }
    }
}

fn router_with(
    script: &Arc<Script>,
    deployments: Vec<Deployment>,
) -> litellm::router::RouterBuilder {
    let client = Client::builder()
        .no_env()
        .provider("s", Arc::new(Scripted(script.clone())))
        .build()
        .unwrap();
    Router::builder()
        .client(client)
        .deployments(deployments)
        .seed(7)
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

fn who(resp: &ChatResponse) -> &str {
    resp.text().unwrap()
}

#[tokio::test(start_paused = true)]
async fn weights_share_traffic() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").weight(1.0),
            Deployment::new("g", "s/b").weight(4.0),
        ],
    )
    .build()
    .unwrap();
    let mut b = 0;
    for _ in 0..2000 {
        if who(&router.chat(req("g")).await.unwrap()) == "b" {
            b += 1;
        }
    }
    let share = b as f64 / 2000.0;
    assert!((share - 0.8).abs() < 0.04, "share {share}");
}

#[tokio::test(start_paused = true)]
async fn retries_move_to_another_deployment_without_waiting() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A"),
            Deployment::new("g", "s/b").id("B"),
        ],
    )
    .build()
    .unwrap();
    script.push(
        "a",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    script.push(
        "b",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    let start = tokio::time::Instant::now();
    let resp = router.chat(req("g")).await.unwrap();
    // both failed once, the third attempt (on whichever) answered
    assert_eq!(resp.meta.attempts, 3);
    let calls = script.calls();
    assert_ne!(calls[0], calls[1], "the retry went to the other deployment");
    // after both failed there was no healthy one left to try at once: one backoff (≥ 0.5 s)
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(resp.meta.model_group.as_deref(), Some("g"));
    assert!(resp.meta.fallbacks.is_empty());
}

#[tokio::test(start_paused = true)]
async fn backoff_and_retry_after_on_a_single_deployment() {
    let script = Arc::new(Script::default());
    let router = router_with(&script, vec![Deployment::new("g", "s/a")])
        .num_retries(3)
        .build()
        .unwrap();
    script.push(
        "a",
        [
            Step::Fail(ErrorKind::InternalServer, Some(500), None),
            Step::Fail(ErrorKind::InternalServer, Some(500), None),
        ],
    );
    let start = tokio::time::Instant::now();
    router.chat(req("g")).await.unwrap();
    let waited = start.elapsed();
    // 0.5 s + 1 s, each with up to 0.75 s jitter
    assert!(
        waited >= Duration::from_millis(1500) && waited <= Duration::from_millis(3000),
        "{waited:?}"
    );

    script.push(
        "a",
        [Step::Fail(
            ErrorKind::RateLimit,
            Some(429),
            Some(Duration::from_secs(7)),
        )],
    );
    let start = tokio::time::Instant::now();
    router.chat(req("g")).await.unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );

    // a Retry-After beyond the deadline is not waited for
    let short = router_with(&script, vec![Deployment::new("g", "s/a")])
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    script.push(
        "a",
        [Step::Fail(
            ErrorKind::RateLimit,
            Some(429),
            Some(Duration::from_secs(30)),
        )],
    );
    let start = tokio::time::Instant::now();
    let err = short.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn non_retryable_errors_are_not_retried_and_policy_counts() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![Deployment::new("g", "s/a"), Deployment::new("g", "s/b")],
    )
    .build()
    .unwrap();
    script.push("a", [Step::Fail(ErrorKind::BadRequest, Some(400), None)]);
    script.push("b", [Step::Fail(ErrorKind::BadRequest, Some(400), None)]);
    let err = router.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(script.calls().len(), 1);

    let script = Arc::new(Script::default());
    let router = router_with(&script, vec![Deployment::new("g", "s/a")])
        .num_retries(5)
        .retry_policy(RetryPolicy::new().retries(ErrorKind::RateLimit, 1))
        .build()
        .unwrap();
    script.push(
        "a",
        vec![Step::Fail(ErrorKind::RateLimit, Some(429), None); 5],
    );
    let err = router.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(script.calls().len(), 2, "one try and one retry");
}

#[tokio::test(start_paused = true)]
async fn cooldown_enters_shows_and_ends() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A"),
            Deployment::new("g", "s/b").id("B"),
        ],
    )
    .cooldown_time(Duration::from_secs(5))
    .num_retries(1)
    .build()
    .unwrap();
    script.push(
        "a",
        [Step::Fail(
            ErrorKind::RateLimit,
            Some(429),
            Some(Duration::from_secs(20)),
        )],
    );
    script.push(
        "b",
        [Step::Fail(
            ErrorKind::RateLimit,
            Some(429),
            Some(Duration::from_secs(20)),
        )],
    );
    // both fail (one try, one retry on the other deployment): both cool down for the Retry-After
    let err = router.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert!(router.health().iter().all(|h| h.cooling_until.is_some()));
    let err = router.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoDeploymentAvailable);
    assert!(err.kind().is_rate_limit());
    let wait = err.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
        "{wait:?}"
    );
    assert!(err.message().contains("first comes back"), "{err}");

    // one comes back earlier: every call goes to it while the other still cools
    tokio::time::advance(Duration::from_secs(21)).await;
    script.push("a", [Step::Fail(ErrorKind::RateLimit, Some(429), None)]);
    script.push("b", [Step::Ok]);
    let mut answered_by = std::collections::HashSet::new();
    for _ in 0..20 {
        answered_by.insert(
            router
                .chat(req("g"))
                .await
                .unwrap()
                .meta
                .deployment_id
                .unwrap(),
        );
    }
    assert!(answered_by.contains("B"));
    let a = router.health().into_iter().find(|h| h.id == "A").unwrap();
    assert!(
        a.cooling_until.is_some(),
        "A cools down for cooldown_time after its 429"
    );
    tokio::time::advance(Duration::from_secs(6)).await;
    assert!(router.health().iter().all(|h| h.cooling_until.is_none()));
    let mut seen = std::collections::HashSet::new();
    for _ in 0..50 {
        seen.insert(
            router
                .chat(req("g"))
                .await
                .unwrap()
                .meta
                .deployment_id
                .unwrap(),
        );
    }
    assert_eq!(seen.len(), 2, "both back after the cooldown");
}

#[tokio::test(start_paused = true)]
async fn the_only_deployment_never_cools_down_and_disable_switch() {
    let script = Arc::new(Script::default());
    let router = router_with(&script, vec![Deployment::new("g", "s/a")])
        .num_retries(0)
        .build()
        .unwrap();
    script.push("a", [Step::Fail(ErrorKind::RateLimit, Some(429), None)]);
    assert!(router.chat(req("g")).await.is_err());
    assert!(router.health()[0].cooling_until.is_none());
    assert!(router.chat(req("g")).await.is_ok());

    let router = router_with(
        &script,
        vec![Deployment::new("g", "s/a"), Deployment::new("g", "s/b")],
    )
    .disable_cooldowns(true)
    .num_retries(0)
    .build()
    .unwrap();
    script.push("a", [Step::Fail(ErrorKind::RateLimit, Some(429), None)]);
    script.push("b", [Step::Fail(ErrorKind::RateLimit, Some(429), None)]);
    let _ = router.chat(req("g")).await;
    assert!(router.health().iter().all(|h| h.cooling_until.is_none()));
}

#[tokio::test(start_paused = true)]
async fn failure_ratio_and_allowed_fails_policy() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A").order(1),
            Deployment::new("g", "s/b").id("B").order(2),
        ],
    )
    .num_retries(0)
    .build()
    .unwrap();
    // A alone serves (order 1); 500s do not cool at once, but > half of ≥ 5 calls do
    let fail = Step::Fail(ErrorKind::InternalServer, Some(500), None);
    script.push("a", [Step::Ok, Step::Ok, fail.clone(), fail.clone(), fail]);
    for _ in 0..2 {
        router.chat(req("g")).await.unwrap();
    }
    for _ in 0..2 {
        assert!(router.chat(req("g")).await.is_err());
    }
    assert!(
        router.health().iter().all(|h| h.cooling_until.is_none()),
        "2 of 4: not yet"
    );
    assert!(router.chat(req("g")).await.is_err());
    let a = router.health().into_iter().find(|h| h.id == "A").unwrap();
    assert!(a.cooling_until.is_some(), "3 of 5 failed");
    assert_eq!(
        router
            .chat(req("g"))
            .await
            .unwrap()
            .meta
            .deployment_id
            .as_deref(),
        Some("B")
    );

    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A").order(1),
            Deployment::new("g", "s/b").id("B").order(2),
        ],
    )
    .num_retries(0)
    .allowed_fails_policy(AllowedFailsPolicy::new().allowed(ErrorKind::RateLimit, 2))
    .routing_strategy(RoutingStrategy::LeastBusy)
    .build()
    .unwrap();
    script.push(
        "a",
        vec![Step::Fail(ErrorKind::RateLimit, Some(429), None); 3],
    );
    for _ in 0..2 {
        assert!(router.chat(req("g")).await.is_err());
        assert!(
            router.health().iter().all(|h| h.cooling_until.is_none()),
            "within the allowance"
        );
    }
    assert!(router.chat(req("g")).await.is_err());
    let a = router.health().into_iter().find(|h| h.id == "A").unwrap();
    assert!(
        a.cooling_until.is_some(),
        "the third 429 in a minute is one too many"
    );
    assert_eq!(
        router
            .chat(req("g"))
            .await
            .unwrap()
            .meta
            .deployment_id
            .as_deref(),
        Some("B")
    );
}

#[tokio::test(start_paused = true)]
async fn order_tiers_tags_and_limits() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/primary").id("P").order(1).rpm(2),
            Deployment::new("g", "s/backup").id("B").order(2),
        ],
    )
    .build()
    .unwrap();
    for _ in 0..2 {
        assert_eq!(who(&router.chat(req("g")).await.unwrap()), "primary");
    }
    // primary at its rpm: the next tier takes over until the next minute
    assert_eq!(who(&router.chat(req("g")).await.unwrap()), "backup");
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(who(&router.chat(req("g")).await.unwrap()), "primary");

    // every deployment at its limit: a RateLimit with a wait hint
    let limited = router_with(&script, vec![Deployment::new("g", "s/a").rpm(1)])
        .build()
        .unwrap();
    limited.chat(req("g")).await.unwrap();
    let err = limited.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert!(err.retry_after().unwrap() <= Duration::from_secs(60));

    let tagged = router_with(
        &script,
        vec![
            Deployment::new("g", "s/eu").tags(["eu"]),
            Deployment::new("g", "s/us").tags(["us"]),
        ],
    )
    .enable_tag_filtering(true)
    .build()
    .unwrap();
    for _ in 0..10 {
        let r = tagged
            .chat(req("g").metadata(Metadata::new().tag("eu")))
            .await
            .unwrap();
        assert_eq!(who(&r), "eu");
    }
    let err = tagged
        .chat(req("g").metadata(Metadata::new().tag("apac")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoDeploymentAvailable);
}

#[tokio::test(start_paused = true)]
async fn fallbacks_of_each_kind() {
    let script = Arc::new(Script::default());
    let deployments = vec![
        Deployment::new("main", "s/main").max_input_tokens(8_000),
        Deployment::new("backup", "s/backup"),
        Deployment::new("big", "s/big").max_input_tokens(128_000),
        Deployment::new("small", "s/small").max_input_tokens(4_000),
        Deployment::new("lenient", "s/lenient"),
        Deployment::new("last", "s/last"),
    ];
    let router = router_with(&script, deployments)
        .num_retries(0)
        .fallbacks(
            Fallbacks::new()
                .fallback("main", ["backup"])
                .context_window("main", ["small", "big"])
                .content_policy("main", ["lenient"])
                .default_fallbacks(["last"]),
        )
        .build()
        .unwrap();
    script.push(
        "main",
        [Step::Fail(ErrorKind::ServiceUnavailable, Some(503), None)],
    );
    let r = router.chat(req("main")).await.unwrap();
    assert_eq!(who(&r), "backup");
    assert_eq!(r.meta.fallbacks, ["backup"]);
    assert_eq!(r.meta.attempts, 2);

    script.push(
        "main",
        [Step::Fail(
            ErrorKind::ContextWindowExceeded,
            Some(400),
            None,
        )],
    );
    let r = router.chat(req("main")).await.unwrap();
    assert_eq!(
        who(&r),
        "big",
        "only a larger window is a context-window fallback"
    );

    script.push(
        "main",
        [Step::Fail(
            ErrorKind::ContentPolicyViolation,
            Some(400),
            None,
        )],
    );
    assert_eq!(who(&router.chat(req("main")).await.unwrap()), "lenient");

    script.push(
        "backup",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    assert_eq!(
        who(&router.chat(req("backup")).await.unwrap()),
        "last",
        "default fallbacks"
    );

    // per-call fallbacks replace the configured ones
    script.push(
        "main",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    let r = router
        .chat(req("main").fallbacks(["lenient"]))
        .await
        .unwrap();
    assert_eq!(who(&r), "lenient");

    // when everything fails, the error lists every attempt
    script.push(
        "main",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    script.push(
        "backup",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    script.push(
        "last",
        [Step::Fail(ErrorKind::InternalServer, Some(500), None)],
    );
    let err = router.chat(req("main")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(err.message().contains("after 3 attempts"), "{err}");
    for g in ["(main)", "(backup)", "(last)"] {
        assert!(err.message().contains(g), "{err}");
    }
}

#[tokio::test(start_paused = true)]
async fn invalid_fallbacks_and_aliases_fail_at_build() {
    let script = Arc::new(Script::default());
    let err = router_with(&script, vec![Deployment::new("g", "s/a")])
        .fallbacks(Fallbacks::new().fallback("g", ["nope"]))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("'nope'"), "{err}");
    let err = router_with(&script, vec![Deployment::new("g", "s/a")])
        .model_group_alias("x", "missing")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("same"),
            Deployment::new("g", "s/b").id("same"),
        ],
    )
    .build()
    .unwrap_err();
    assert!(err.message().contains("'same'"));
}

#[tokio::test(start_paused = true)]
async fn streams_are_never_retried_after_the_first_chunk() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![Deployment::new("g", "s/a"), Deployment::new("g", "s/b")],
    )
    .build()
    .unwrap();
    // opening fails: retried on the other deployment
    script.push(
        "a",
        [Step::Fail(ErrorKind::ServiceUnavailable, Some(503), None)],
    );
    script.push(
        "b",
        [Step::Fail(ErrorKind::ServiceUnavailable, Some(503), None)],
    );
    let resp = router
        .chat_stream(req("g"))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.meta.attempts, 3);

    // broken after a chunk: the error reaches the caller, no retry
    let before = script.calls().len();
    script.push("a", [Step::BreakAfterFirstChunk]);
    script.push("b", [Step::BreakAfterFirstChunk]);
    let mut s = router.chat_stream(req("g")).await.unwrap();
    assert!(s.next().await.unwrap().is_ok());
    assert_eq!(
        s.next().await.unwrap().unwrap_err().kind(),
        ErrorKind::ApiConnection
    );
    assert!(s.next().await.is_none());
    assert_eq!(script.calls().len(), before + 1);
    // the stream's call is no longer in flight
    assert!(router.health().iter().all(|h| h.in_flight == 0));
}

#[tokio::test(start_paused = true)]
async fn deadline_bounds_the_whole_call() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").timeout(Duration::from_secs(2)),
            Deployment::new("g", "s/b").timeout(Duration::from_secs(2)),
        ],
    )
    .timeout(Duration::from_secs(3))
    .num_retries(5)
    .build()
    .unwrap();
    script.push("a", [Step::Slow(Duration::from_secs(60))]);
    script.push("b", [Step::Slow(Duration::from_secs(60))]);
    let start = tokio::time::Instant::now();
    let err = router.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let took = start.elapsed();
    assert!(
        took <= Duration::from_secs(3) + Duration::from_millis(10),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn wait_for_cooldown_instead_of_failing() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![Deployment::new("g", "s/a"), Deployment::new("g", "s/b")],
    )
    .num_retries(0)
    .wait_for_cooldown(true)
    .build()
    .unwrap();
    script.push(
        "a",
        [Step::Fail(
            ErrorKind::RateLimit,
            Some(429),
            Some(Duration::from_secs(10)),
        )],
    );
    script.push(
        "b",
        [Step::Fail(
            ErrorKind::RateLimit,
            Some(429),
            Some(Duration::from_secs(10)),
        )],
    );
    let _ = router.chat(req("g")).await;
    let _ = router.chat(req("g")).await;
    let start = tokio::time::Instant::now();
    router.chat(req("g")).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(9),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn runtime_changes_aliases_wildcards_and_passthrough() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A"),
            Deployment::new("s/*", "s/*"),
        ],
    )
    .model_group_alias("gee", "g")
    .build()
    .unwrap();
    assert_eq!(who(&router.chat(req("gee")).await.unwrap()), "a");
    // a wildcard group passes the model through
    assert_eq!(who(&router.chat(req("s/zeta")).await.unwrap()), "zeta");
    // a model string that is no group goes straight to the client (no router meta)
    let router2 = router_with(&script, vec![Deployment::new("g", "s/a")])
        .build()
        .unwrap();
    let r = router2.chat(req("s/direct")).await.unwrap();
    assert_eq!(who(&r), "direct");
    assert!(r.meta.deployment_id.is_none());

    router
        .add_deployment(Deployment::new("g", "s/b").id("B"))
        .unwrap();
    assert_eq!(router.deployments().len(), 3);
    assert!(router.remove_deployment("A").unwrap());
    assert!(!router.remove_deployment("A").unwrap());
    for _ in 0..10 {
        assert_eq!(who(&router.chat(req("g")).await.unwrap()), "b");
    }
    router
        .update_deployment(Deployment::new("g", "s/c").id("B"))
        .unwrap();
    assert_eq!(who(&router.chat(req("g")).await.unwrap()), "c");
    // counters stay with the id
    let h = router.health().into_iter().find(|h| h.id == "B").unwrap();
    assert_eq!(h.successes, 11);
}

#[tokio::test(start_paused = true)]
async fn pre_call_checks_skip_small_windows_and_fall_back() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/tiny").max_input_tokens(10),
            Deployment::new("g", "s/roomy").max_input_tokens(100_000),
            Deployment::new("s2", "s/tiny2").max_input_tokens(10),
            Deployment::new("huge", "s/huge").max_input_tokens(1_000_000),
        ],
    )
    .enable_pre_call_checks(true)
    .fallbacks(Fallbacks::new().context_window("s2", ["huge"]))
    .build()
    .unwrap();
    let long = ChatRequest::new("g", vec![Message::user("word ".repeat(200))]);
    for _ in 0..10 {
        assert_eq!(who(&router.chat(long.clone()).await.unwrap()), "roomy");
    }
    let mut long2 = long.clone();
    long2.model = "s2".into();
    let r = router.chat(long2).await.unwrap();
    assert_eq!(who(&r), "huge");
    assert!(
        script.calls().iter().all(|c| c != "tiny" && c != "tiny2"),
        "never sent to a window too small"
    );
}

/// 1,000 concurrent calls with failures injected: every call answers, every counter is exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_keep_exact_counts() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A"),
            Deployment::new("g", "s/b").id("B"),
            Deployment::new("g", "s/c").id("C"),
        ],
    )
    .disable_cooldowns(true)
    .num_retries(3)
    .retry_after(Duration::ZERO)
    .build()
    .unwrap();
    for m in ["a", "b", "c"] {
        let mut steps = Vec::new();
        for i in 0..300 {
            steps.push(if i % 7 == 0 {
                Step::Fail(ErrorKind::InternalServer, Some(500), None)
            } else {
                Step::Slow(Duration::from_millis(1))
            });
        }
        script.push(m, steps);
    }
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let r = router.clone();
            tokio::spawn(async move { r.chat(req("g")).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1000);
    let health = router.health();
    let (succ, failed): (u64, u64) = health
        .iter()
        .fold((0, 0), |acc, h| (acc.0 + h.successes, acc.1 + h.failures));
    assert_eq!(succ, 1000);
    assert_eq!(succ + failed, script.calls().len() as u64);
    assert!(health.iter().all(|h| h.in_flight == 0));
    let started: u64 = health.iter().map(|h| h.requests_this_minute).sum();
    // calls may straddle a minute boundary on a real clock; otherwise every start is counted
    assert!(started <= script.calls().len() as u64);
}

#[tokio::test(start_paused = true)]
async fn max_parallel_requests_queue_calls() {
    let script = Arc::new(Script::default());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A").max_parallel_requests(1),
            Deployment::new("g", "s/b").id("B").max_parallel_requests(1),
        ],
    )
    .build()
    .unwrap();
    script.push("a", vec![Step::Slow(Duration::from_secs(1)); 4]);
    script.push("b", vec![Step::Slow(Duration::from_secs(1)); 4]);
    let start = tokio::time::Instant::now();
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let r = router.clone();
            tokio::spawn(async move { r.chat(req("g")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // never more than one call in flight per deployment
    assert!(
        router.health().iter().all(|h| h.in_flight <= 1),
        "{:?}",
        router.health()
    );
    for c in calls {
        c.await.unwrap().unwrap();
    }
    let took = start.elapsed();
    // two deployments, one slot each, four one-second calls: two rounds
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let h = router.health();
    assert_eq!(h.iter().map(|h| h.successes).sum::<u64>(), 4);
    assert!(
        h.iter().all(|h| h.successes == 2),
        "both deployments took their share: {h:?}"
    );
}

/// Large groups (more than 32 deployments) are not scanned on a first attempt; the picks
/// must still follow each strategy.
#[tokio::test]
async fn large_groups_pick_by_strategy_without_a_scan() {
    let client = Client::builder().no_env().build().unwrap();
    // cost-based over 100 deployments: the two cheapest share the calls; when they cool
    // down, the next price takes over.
    let mut ds: Vec<Deployment> = (0..98)
        .map(|i| {
            Deployment::new("g", "mock/m")
                .id(format!("d{i}"))
                .cost_per_token(1e-6 * (2 + i % 5) as f64, 1e-6)
        })
        .collect();
    for id in ["cheap-a", "cheap-b"] {
        ds.push(
            Deployment::new("g", "mock/m")
                .id(id)
                .cost_per_token(0.5e-6, 1e-6),
        );
    }
    let router = Router::builder()
        .client(client.clone())
        .deployments(ds)
        .routing_strategy(RoutingStrategy::CostBased)
        .seed(3)
        .build()
        .unwrap();
    let mut seen = HashMap::new();
    for _ in 0..200 {
        *seen
            .entry(router.get_available_deployment("g").unwrap())
            .or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.values().all(|&n| n > 50), "{seen:?}");

    // least-busy over 100 deployments with 60 calls in flight: picks go to idle ones.
    let ds: Vec<Deployment> = (0..100)
        .map(|i| Deployment::new("g", "mock/m").id(format!("d{i}")))
        .collect();
    let router = Router::builder()
        .client(client)
        .deployments(ds)
        .routing_strategy(RoutingStrategy::LeastBusy)
        .seed(5)
        .build()
        .unwrap();
    let mut open = Vec::new();
    for _ in 0..60 {
        let req = ChatRequest::new("g", vec![Message::user("hi")]).mock_response(
            litellm::MockResponse::text("a b c").chunk_delay(Duration::from_secs(60)),
        );
        open.push(router.chat_stream(req).await.unwrap());
    }
    let busy: HashMap<String, u32> = router
        .health()
        .into_iter()
        .filter(|h| h.in_flight > 0)
        .map(|h| (h.id, h.in_flight))
        .collect();
    assert_eq!(busy.values().sum::<u32>(), 60);
    assert!(busy.values().all(|&n| n <= 2), "{busy:?}");
    let idle_picks = (0..500)
        .filter(|_| !busy.contains_key(&router.get_available_deployment("g").unwrap()))
        .count();
    assert!(
        idle_picks >= 450,
        "{idle_picks} of 500 picks were idle deployments"
    );
    drop(open);
}

/// A retry taken from the budget but never made (no deployment could take it) goes back; a
/// call whose first attempt succeeds deposits; a group with nothing to call costs nothing.
#[tokio::test(start_paused = true)]
async fn an_unused_retry_goes_back_to_the_retry_budget() {
    let script = Arc::new(Script::default());
    let budget = Arc::new(RetryBudget::new(Duration::from_secs(60), 0, 1.0).unwrap());
    let router = router_with(
        &script,
        vec![
            Deployment::new("g", "s/a").id("A"),
            // Never usable: at its (zero) rpm limit.
            Deployment::new("g", "s/b").id("B").rpm(0),
            Deployment::new("ok", "s/ok"),
        ],
    )
    .retry_budget(budget.clone())
    .build()
    .unwrap();
    router.chat(req("ok")).await.unwrap();
    assert_eq!(budget.balance(), 1);
    // A's 429 cools it down; the retry is allowed (taken from the budget), but after the
    // backoff no deployment of the group can take it.
    script.push("a", [Step::Fail(ErrorKind::RateLimit, Some(429), None)]);
    let err = router.chat(req("g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoDeploymentAvailable, "{err}");
    assert_eq!(script.calls(), ["ok", "a"]);
    assert_eq!(budget.balance(), 1, "the retry not made was given back");
    // The cooling group makes no attempt at all: nothing taken.
    router.chat(req("g")).await.unwrap_err();
    assert_eq!(budget.balance(), 1);
}
