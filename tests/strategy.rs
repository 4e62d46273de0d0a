//! Custom routing strategies (`router::Strategy`) through the public API, on the mock provider.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use litellm::router::{
    Candidate, Deployment, Fallbacks, PickContext, Router, RoutingStrategy, Strategy,
};
use litellm::{ChatRequest, Client, ErrorKind, Message, Metadata, MockResponse};

/// What a strategy saw at one pick.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    group: String,
    candidates: Vec<String>,
    tried: Vec<String>,
    stream: bool,
    tags: Vec<String>,
}

/// Always the candidate whose id sorts last; records every pick.
#[derive(Debug, Default)]
struct LastId {
    seen: Mutex<Vec<Seen>>,
}

impl LastId {
    fn seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Strategy for LastId {
    fn pick(&self, candidates: &[Candidate<'_>], cx: &PickContext<'_>) -> usize {
        for c in candidates {
            // Tried candidates are flagged; the context lists them too.
            assert_eq!(c.tried(), cx.tried().iter().any(|t| t == c.id()));
        }
        self.seen.lock().unwrap().push(Seen {
            group: cx.group().to_owned(),
            candidates: candidates.iter().map(|c| c.id().to_owned()).collect(),
            tried: cx.tried().to_vec(),
            stream: cx.stream(),
            tags: cx.tags().to_vec(),
        });
        (0..candidates.len())
            .max_by_key(|&i| candidates[i].id())
            .unwrap_or(0)
    }
}

fn client() -> Client {
    Client::builder().no_env().build().unwrap()
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

fn dep(group: &str, id: &str) -> Deployment {
    Deployment::new(group, "mock/m")
        .id(id)
        .mock_response(MockResponse::text(id))
}

fn failing(group: &str, id: &str, kind: ErrorKind) -> Deployment {
    Deployment::new(group, "mock/m")
        .id(id)
        .mock_response(MockResponse::error(kind))
}

fn seen(group: &str, candidates: &[&str], tried: &[&str]) -> Seen {
    Seen {
        group: group.into(),
        candidates: candidates.iter().map(|s| s.to_string()).collect(),
        tried: tried.iter().map(|s| s.to_string()).collect(),
        stream: false,
        tags: Vec::new(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_custom_strategy_decides_every_pick_and_retries_skip_the_failed_deployment() {
    let last = Arc::new(LastId::default());
    let router = Router::builder()
        .client(client())
        .deployments([
            dep("g", "a"),
            dep("g", "b"),
            failing("g", "c", ErrorKind::InternalServer),
        ])
        .strategy(last.clone())
        .num_retries(2)
        .build()
        .unwrap();
    assert!(format!("{router:?}").contains("LastId"), "{router:?}");

    // "c" sorts last and fails (a 500 does not cool it down); the retry is offered the
    // others only, and the strategy picks "b".
    let resp = router.chat(req("g")).await.unwrap();
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("b"));
    assert_eq!(resp.text(), Some("b"));
    assert_eq!(resp.meta.attempts, 2);
    assert_eq!(
        last.seen(),
        [
            seen("g", &["a", "b", "c"], &[]),
            seen("g", &["a", "b"], &["c"])
        ]
    );

    // get_available_deployment asks the strategy too.
    assert_eq!(router.get_available_deployment("g").as_deref(), Some("c"));
    assert_eq!(last.seen(), [seen("g", &["a", "b", "c"], &[])]);
}

#[tokio::test(start_paused = true)]
async fn cooling_deployments_are_never_candidates() {
    let last = Arc::new(LastId::default());
    let router = Router::builder()
        .client(client())
        .deployments([
            dep("g", "a"),
            dep("g", "b"),
            failing("g", "c", ErrorKind::RateLimit),
        ])
        .routing_strategy(RoutingStrategy::Custom(last.clone()))
        .cooldown_time(Duration::from_secs(30))
        .build()
        .unwrap();
    // A 429 cools "c" down at once.
    let resp = router.chat(req("g")).await.unwrap();
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("b"));
    let h = router.health();
    assert!(
        h.iter()
            .find(|h| h.id == "c")
            .unwrap()
            .cooling_until
            .is_some()
    );
    last.seen();
    // While it cools, neither calls nor get_available_deployment see it.
    assert_eq!(router.get_available_deployment("g").as_deref(), Some("b"));
    let resp = router.chat(req("g")).await.unwrap();
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("b"));
    assert_eq!(resp.meta.attempts, 1);
    assert_eq!(
        last.seen(),
        [seen("g", &["a", "b"], &[]), seen("g", &["a", "b"], &[])]
    );
    // Back after the cooldown.
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(router.get_available_deployment("g").as_deref(), Some("c"));
}

#[tokio::test(start_paused = true)]
async fn the_context_has_the_group_stream_tags_and_fallback_group() {
    let last = Arc::new(LastId::default());
    let router = Router::builder()
        .client(client())
        .deployments([
            failing("main", "m1", ErrorKind::InternalServer),
            dep("backup", "b1"),
            dep("backup", "b2"),
        ])
        .fallbacks(Fallbacks::new().fallback("main", ["backup"]))
        .strategy(last.clone())
        .num_retries(0)
        .build()
        .unwrap();
    let call = req("main").metadata(Metadata::new().tag("eu"));
    let resp = router.chat(call.clone()).await.unwrap();
    assert_eq!(resp.meta.deployment_id.as_deref(), Some("b2"));
    let eu = |mut s: Seen| {
        s.tags = vec!["eu".into()];
        s
    };
    assert_eq!(
        last.seen(),
        [
            eu(seen("main", &["m1"], &[])),
            eu(seen("backup", &["b1", "b2"], &[]))
        ],
        "consulted even with one candidate; the fallback group is named"
    );
    let mut s = router.chat_stream(call).await.unwrap();
    while let Some(chunk) = s.next().await {
        chunk.unwrap();
    }
    assert!(last.seen().iter().all(|s| s.stream));
}

/// Answers with an index out of range.
#[derive(Debug)]
struct Wild(usize);

impl Strategy for Wild {
    fn pick(&self, _: &[Candidate<'_>], _: &PickContext<'_>) -> usize {
        self.0
    }
}

#[tokio::test(start_paused = true)]
async fn an_index_out_of_range_picks_the_first_candidate() {
    for wild in [2, 3, 1_000, usize::MAX] {
        let router = Router::builder()
            .client(client())
            .deployments([dep("g", "a"), dep("g", "b")])
            .strategy(Arc::new(Wild(wild)))
            .build()
            .unwrap();
        assert_eq!(router.get_available_deployment("g").as_deref(), Some("a"));
        let resp = router.chat(req("g")).await.unwrap();
        assert_eq!(resp.meta.deployment_id.as_deref(), Some("a"));
    }
}

/// The candidate with the fewest requests this minute, ties at random (seeded).
#[derive(Debug)]
struct FewestRequests;

impl Strategy for FewestRequests {
    fn pick(&self, candidates: &[Candidate<'_>], cx: &PickContext<'_>) -> usize {
        let least = candidates
            .iter()
            .map(Candidate::requests_this_minute)
            .min()
            .unwrap_or(0);
        let ties: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].requests_this_minute() == least)
            .collect();
        ties.get(cx.random_below(ties.len())).copied().unwrap_or(0)
    }
}

#[tokio::test(start_paused = true)]
async fn live_numbers_and_seeded_randomness() {
    let run = |seed: u64| async move {
        let router = Router::builder()
            .client(client())
            .deployments([dep("g", "a"), dep("g", "b"), dep("g", "c")])
            .strategy(Arc::new(FewestRequests))
            .seed(seed)
            .build()
            .unwrap();
        let mut order = Vec::new();
        for _ in 0..9 {
            let resp = router.chat(req("g")).await.unwrap();
            order.push(resp.meta.deployment_id.unwrap());
        }
        let h = router.health();
        assert!(h.iter().all(|h| h.requests_this_minute == 3), "{h:?}");
        order
    };
    let first = run(5).await;
    assert_eq!(first, run(5).await, "the same seed, the same picks");
    // Every round of three visits each deployment once.
    for round in first.chunks(3) {
        let mut r = round.to_vec();
        r.sort();
        assert_eq!(r, ["a", "b", "c"]);
    }
}

/// Counts the candidates it is offered.
#[derive(Debug, Default)]
struct CountCandidates(Mutex<Vec<usize>>);

impl Strategy for CountCandidates {
    fn pick(&self, candidates: &[Candidate<'_>], _: &PickContext<'_>) -> usize {
        self.0.lock().unwrap().push(candidates.len());
        candidates.len() - 1
    }
}

#[tokio::test(start_paused = true)]
async fn large_groups_offer_every_candidate_and_builtins_can_be_delegated_to() {
    let count = Arc::new(CountCandidates::default());
    let ds: Vec<Deployment> = (0..40)
        .map(|i| {
            Deployment::new("g", "mock/m")
                .id(format!("d{i:02}"))
                .cost_per_token(1e-6 * f64::from(40 - i), 1e-6)
        })
        .collect();
    let router = Router::builder()
        .client(client())
        .deployments(ds.clone())
        .strategy(count.clone())
        .build()
        .unwrap();
    assert_eq!(router.get_available_deployment("g").as_deref(), Some("d39"));
    assert_eq!(*count.0.lock().unwrap(), [40]);

    /// Cost-based, through the built-in's own `Strategy` implementation.
    #[derive(Debug)]
    struct Cheapest;
    impl Strategy for Cheapest {
        fn pick(&self, candidates: &[Candidate<'_>], cx: &PickContext<'_>) -> usize {
            assert!(candidates.iter().all(|c| c.unit_cost().is_some()));
            RoutingStrategy::CostBased.pick(candidates, cx)
        }
    }
    let router = Router::builder()
        .client(client())
        .deployments(ds)
        .strategy(Arc::new(Cheapest))
        .build()
        .unwrap();
    assert_eq!(router.get_available_deployment("g").as_deref(), Some("d39"));
    let r = RoutingStrategy::custom(Cheapest);
    assert_eq!(r.name(), "custom");
    assert!(RoutingStrategy::parse("custom").is_err());
}
