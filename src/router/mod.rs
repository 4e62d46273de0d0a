//! The [`Router`]: many deployments behind one model name behave like one model that is more
//! available, faster and cheaper than any of them.
//!
//! Per call the router resolves the model name (aliases, groups, wildcard groups; a name that
//! is no group goes straight to the client), filters the group's deployments (cooling down, at
//! their `rpm`/`tpm` or parallel limit, tags, context window), picks one with the routing
//! strategy, calls it, and on a retryable failure records it (cooling the deployment down when
//! the rules say so) and retries on another healthy deployment with backoff; when the group is
//! exhausted it walks the fallbacks. See `docs/router.md` for every setting.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use litellm::Message;
//! use litellm::router::{Deployment, Router};
//!
//! let router = Router::builder()
//!     .deployment(Deployment::new("gpt-4o", "mock/gpt-4o-east").weight(3.0))
//!     .deployment(Deployment::new("gpt-4o", "mock/gpt-4o-west").weight(1.0))
//!     .num_retries(2)
//!     .build()?;
//! let resp = router.completion("gpt-4o", vec![Message::user("Hi")]).await?;
//! assert!(resp.meta.deployment_id.is_some());
//! # Ok(()) }
//! ```

mod budget;
pub mod cooldown;
mod defaults;
pub mod deployment;
pub mod fallback;
pub mod retry;
pub mod strategy;

use std::collections::HashMap;

use crate::fasthash::FastMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use arc_swap::ArcSwap;

/// The live counters (moved to the crate root as [`crate::state`]; kept here by that name).
pub use crate::state;
pub use crate::state::{DeploymentCounters, MemoryStore, StateStore};
pub use budget::RetryBudget;
pub use cooldown::AllowedFailsPolicy;
pub use deployment::{Deployment, ModelInfo};
pub use fallback::Fallbacks;
pub use retry::RetryPolicy;
pub use strategy::{Candidate, PickContext, RoutingStrategy, Strategy};

use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::observe::CallType;
use crate::stack::{Downstream, Op, Reply};
use crate::state::{minute_of, now_ms};
use crate::types::{CallOptions, ChatChunk, ChatRequest, EmbeddingRequest, TextCompletionRequest};
use cooldown::{CooldownRules, FailureCounts, cooldown_for};
use deployment::{Entry, wildcard_matches};
use strategy::Rng;

/// Settings of a router (immutable once built).
#[derive(Clone, Debug)]
struct Settings {
    strategy: RoutingStrategy,
    num_retries: u32,
    retry_policy: Option<RetryPolicy>,
    retry_after: Duration,
    cooldown: CooldownRules,
    timeout: Duration,
    /// The router's `timeout` was set (by the builder or the config): it then also bounds
    /// every routed stream until its end.
    timeout_set: bool,
    stream_timeout: Option<Duration>,
    fallbacks: Fallbacks,
    max_fallbacks: usize,
    pre_call_checks: bool,
    tag_filtering: bool,
    aliases: FastMap<String, String>,
    wait_for_cooldown: bool,
    /// Retries of every call across its groups, shared by calls (and routers); none: no bound
    /// but `num_retries` and `max_fallbacks`.
    retry_budget: Option<Arc<RetryBudget>>,
    /// Most upstream attempts of one call across its groups.
    max_attempts: Option<u32>,
}

/// One model group: its deployments sorted by `order` tier.
#[derive(Debug)]
struct Group {
    name: String,
    entries: Vec<Arc<Entry>>,
    /// Start index of each tier in `entries`.
    tiers: Vec<usize>,
    /// The largest known context window among the group's deployments.
    max_input_tokens: Option<u64>,
    /// Per tier, the running sums of the simple-shuffle weights (for a pick by binary search).
    cumulative: Vec<Vec<f64>>,
    /// Per tier, indices into `entries` by ascending unit cost (unknown prices last), for the
    /// cost-based pick without a scan.
    by_cost: Vec<Vec<usize>>,
}

#[derive(Debug, Default)]
struct Groups {
    by_name: FastMap<String, Arc<Group>>,
    /// Wildcard groups, most specific (longest pattern) first.
    wildcards: Vec<Arc<Group>>,
    /// Every deployment by id (pricing a routed answer).
    by_id: FastMap<String, Arc<Entry>>,
}

impl Groups {
    fn find(&self, name: &str) -> Option<&Arc<Group>> {
        self.by_name.get(name).or_else(|| {
            self.wildcards
                .iter()
                .find(|g| wildcard_matches(&g.name, name))
        })
    }
}

struct Inner {
    client: Client,
    groups: Arc<ArcSwap<Groups>>,
    stack: crate::stack::Stack,
    prices: Arc<crate::accounting::PriceTable>,
    deployments: std::sync::Mutex<Vec<Deployment>>,
    settings: Settings,
    store: Arc<dyn StateStore>,
    rng: Rng,
}

/// Routes calls over deployments. Cheap to clone; the same methods as [`Client`].
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("groups", &self.model_names())
            .field("strategy", &self.inner.settings.strategy)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Router`]. Defaults follow Python LiteLLM (see `docs/router.md`).
#[must_use = "a builder does nothing until `.build()` is called; builder methods return the changed builder"]
pub struct RouterBuilder {
    client: Option<Client>,
    deployments: Vec<Deployment>,
    settings: Settings,
    seed: Option<u64>,
    store: Option<Arc<dyn StateStore>>,
    observe: crate::client::ObserveSettings,
}

impl std::fmt::Debug for RouterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterBuilder")
            .field("deployments", &self.deployments)
            .field("settings", &self.settings)
            .field("seed", &self.seed)
            .field("layers", &self.observe.layers.len())
            .finish_non_exhaustive()
    }
}

impl Default for RouterBuilder {
    fn default() -> Self {
        RouterBuilder {
            client: None,
            deployments: Vec::new(),
            settings: Settings {
                strategy: RoutingStrategy::SimpleShuffle,
                num_retries: 2,
                retry_policy: None,
                retry_after: Duration::ZERO,
                cooldown: CooldownRules::default(),
                timeout: crate::provider::DEFAULT_TIMEOUT,
                timeout_set: false,
                stream_timeout: None,
                fallbacks: Fallbacks::default(),
                max_fallbacks: 5,
                pre_call_checks: false,
                tag_filtering: false,
                aliases: FastMap::default(),
                wait_for_cooldown: false,
                retry_budget: None,
                max_attempts: None,
            },
            seed: None,
            store: None,
            observe: Default::default(),
        }
    }
}

impl RouterBuilder {
    /// The client the router calls through (default: one built from the environment).
    ///
    /// The cache, ledger, callbacks, metrics, price table and log level set on `client` serve
    /// the router's calls as well, for each part the router does not set itself; a part set on
    /// both is a `Config` error at [`build`](Self::build) (callbacks of both are kept).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Adds a deployment.
    pub fn deployment(mut self, d: Deployment) -> Self {
        self.deployments.push(d);
        self
    }

    /// Adds deployments.
    pub fn deployments(mut self, ds: impl IntoIterator<Item = Deployment>) -> Self {
        self.deployments.extend(ds);
        self
    }

    /// `routing_strategy` (default simple-shuffle).
    pub fn routing_strategy(mut self, s: RoutingStrategy) -> Self {
        self.settings.strategy = s;
        self
    }

    /// Your own routing strategy (LiteLLM's `CustomRoutingStrategyBase`): the same as
    /// `routing_strategy(RoutingStrategy::Custom(strategy))`. See [`Strategy`].
    pub fn strategy(mut self, strategy: Arc<dyn Strategy>) -> Self {
        self.settings.strategy = RoutingStrategy::Custom(strategy);
        self
    }

    /// A retry budget (default: none): every upstream attempt of a call after its first (a
    /// retry in the group, or an attempt in a fallback group) takes a retry from it, every
    /// routed call that succeeds deposits into it; when it refuses, the call ends with its
    /// last error. Pass the same `Arc` to several routers to share one budget. See
    /// [`RetryBudget`].
    pub fn retry_budget(mut self, budget: impl Into<Arc<RetryBudget>>) -> Self {
        self.settings.retry_budget = Some(budget.into());
        self
    }

    /// Most upstream attempts of one call, across the group and its fallbacks (default: no cap
    /// but `num_retries` per group and `max_fallbacks`); at least 1, else [`build`](Self::build)
    /// fails. The call then ends with its last error.
    pub fn max_attempts_per_call(mut self, n: u32) -> Self {
        self.settings.max_attempts = Some(n);
        self
    }

    /// `num_retries` per group (default 2); a call's own `num_retries` overrides it.
    pub fn num_retries(mut self, n: u32) -> Self {
        self.settings.num_retries = n;
        self
    }

    /// `retry_policy`: retries per error kind.
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.settings.retry_policy = Some(p);
        self
    }

    /// `retry_after`: the least wait before a retry when no other deployment is healthy.
    pub fn retry_after(mut self, d: Duration) -> Self {
        self.settings.retry_after = d;
        self
    }

    /// `allowed_fails`: failures per minute before a cooldown (replaces the immediate rules).
    pub fn allowed_fails(mut self, n: u32) -> Self {
        self.settings.cooldown.allowed_fails = Some(n);
        self
    }

    /// `allowed_fails_policy`: failures per minute per error kind before a cooldown.
    pub fn allowed_fails_policy(mut self, p: AllowedFailsPolicy) -> Self {
        self.settings.cooldown.policy = Some(p);
        self
    }

    /// `cooldown_time` (default 5 s).
    pub fn cooldown_time(mut self, d: Duration) -> Self {
        self.settings.cooldown.cooldown_time = d;
        self
    }

    /// `disable_cooldowns`.
    pub fn disable_cooldowns(mut self, off: bool) -> Self {
        self.settings.cooldown.disabled = off;
        self
    }

    /// `timeout`: the deadline of a whole routed call, retries and fallbacks included (600 s
    /// unless set; a call's own `timeout` overrides it). Each attempt is also bounded by its
    /// deployment's `timeout`. Once set (here, in the config, or on the call), it also bounds
    /// a routed stream until its last chunk: a stream still running at the deadline ends with
    /// a `Timeout` error and its connection is closed.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.settings.timeout = d;
        self.settings.timeout_set = true;
        self
    }

    /// `stream_timeout`: for streams, the wait for headers and between chunks.
    pub fn stream_timeout(mut self, d: Duration) -> Self {
        self.settings.stream_timeout = Some(d);
        self
    }

    /// `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`, `default_fallbacks`.
    pub fn fallbacks(mut self, f: Fallbacks) -> Self {
        self.settings.fallbacks = f;
        self
    }

    /// `max_fallbacks` (default 5).
    pub fn max_fallbacks(mut self, n: usize) -> Self {
        self.settings.max_fallbacks = n;
        self
    }

    /// `enable_pre_call_checks`: skip deployments whose context window cannot hold the prompt.
    pub fn enable_pre_call_checks(mut self, on: bool) -> Self {
        self.settings.pre_call_checks = on;
        self
    }

    /// `enable_tag_filtering`: route by the call's `metadata.tags`.
    pub fn enable_tag_filtering(mut self, on: bool) -> Self {
        self.settings.tag_filtering = on;
        self
    }

    /// `model_group_alias`: another name for a group.
    pub fn model_group_alias(mut self, alias: impl Into<String>, group: impl Into<String>) -> Self {
        self.settings.aliases.insert(alias.into(), group.into());
        self
    }

    /// When every deployment of a group cools down, wait for the first to come back (within
    /// the deadline) instead of failing at once.
    pub fn wait_for_cooldown(mut self, on: bool) -> Self {
        self.settings.wait_for_cooldown = on;
        self
    }

    /// Seeds the router's randomness, so picks repeat from run to run.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    crate::client::observe_setters!();

    /// Where deployment counters live (default: this process).
    pub fn state_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Builds the router: checks that ids are unique, that every fallback and alias names a
    /// group, that every deployment's provider prefix is known to the client (built in or
    /// registered with `ClientBuilder::provider`; a misspelt one gets a "did you mean" hint)
    /// and that its request defaults have the right types (a `Config` error naming it
    /// otherwise).
    pub fn build(mut self) -> Result<Router> {
        let client = match self.client {
            Some(c) => c,
            None => Client::from_env()?,
        };
        // A client's cache, ledger, callbacks and metrics serve the router's calls too
        // (or a part set on both is refused), never silently dropped.
        self.observe = self.observe.inherit(client.observe_settings())?;
        for d in &self.deployments {
            defaults::check(&client, d)?;
        }
        if self.settings.max_attempts == Some(0) {
            return Err(Error::config(
                "max_attempts_per_call must be at least 1 (the first attempt)",
            ));
        }
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let prices = self.observe.price_table();
        let groups = build_groups(&self.deployments, store.as_ref(), &prices)?;
        validate_names(&groups, &self.settings)?;
        let groups = Arc::new(ArcSwap::from_pointee(groups));
        let mut pipeline = self.observe.pipeline();
        pipeline.cost = Some(deployment_pricer(groups.clone(), pipeline.cost.take()));
        let stack = self.observe.stack(pipeline);
        let router = Router {
            inner: Arc::new(Inner {
                client,
                stack,
                prices,
                groups,
                deployments: std::sync::Mutex::new(self.deployments),
                settings: self.settings,
                store,
                rng: Rng::new(self.seed),
            }),
        };
        if let Some(metrics) = &self.observe.metrics {
            // Cooldown and in-flight gauges, read from the live state at each render. A weak
            // reference: the registry must not keep the router alive.
            let weak = Arc::downgrade(&router.inner);
            metrics.on_render(move |m| {
                if let Some(inner) = weak.upgrade() {
                    publish_gauges(&inner, m);
                }
            });
        }
        Ok(router)
    }
}

/// Sets the cooldown and in-flight gauges of every deployment from the router's state.
fn publish_gauges(inner: &Inner, metrics: &crate::observe::Metrics) {
    let now = now_ms();
    let groups = inner.groups.load();
    for e in groups.by_id.values() {
        let provider = crate::model::split_model(&e.config.model).map_or("", |(p, _)| p);
        let labels = crate::observe::metrics::Labels::new(&e.config.model_name, &e.id, provider);
        metrics.set_cooldown(labels, e.counters.cooling_until(now).is_some());
        metrics.set_in_flight(labels, i64::from(e.counters.in_flight()));
    }
}

fn build_groups(
    deployments: &[Deployment],
    store: &dyn StateStore,
    prices: &crate::accounting::PriceTable,
) -> Result<Groups> {
    let mut by_name: HashMap<String, Vec<Arc<Entry>>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for d in deployments {
        if d.model_name.trim().is_empty() {
            return Err(Error::config("a deployment has an empty model_name"));
        }
        if d.model.trim().is_empty() {
            return Err(Error::config(format!(
                "deployment of '{}' has an empty model",
                d.model_name
            )));
        }
        check_numbers(d)?;
        let id = d.resolved_id();
        if !seen.insert(id.clone()) {
            return Err(Error::config(format!(
                "two deployments have the id '{id}' (model_name '{}', model '{}'): give them distinct ids",
                d.model_name, d.model
            )));
        }
        let counters = store.counters(&id);
        by_name
            .entry(d.model_name.clone())
            .or_default()
            .push(Arc::new(Entry::new(d.clone(), id, counters).priced(prices)));
    }
    let mut groups = Groups::default();
    for e in by_name.values().flatten() {
        groups.by_id.insert(e.id.clone(), e.clone());
    }
    for (name, mut entries) in by_name {
        entries.sort_by_key(|e| e.config.order.unwrap_or(u32::MAX));
        let mut tiers = Vec::new();
        let mut last = None;
        for (i, e) in entries.iter().enumerate() {
            let o = e.config.order.unwrap_or(u32::MAX);
            if last != Some(o) {
                tiers.push(i);
                last = Some(o);
            }
        }
        let max_input_tokens = entries.iter().filter_map(|e| e.max_input_tokens()).max();
        let mut bounds = tiers.clone();
        bounds.push(entries.len());
        let kind = strategy::WeightKind::of(&entries);
        let cumulative = bounds
            .windows(2)
            .map(|w| {
                let mut sum = 0.0;
                entries[w[0]..w[1]]
                    .iter()
                    .map(|e| {
                        let wgt = kind.weight(e);
                        sum += if wgt.is_finite() { wgt.max(0.0) } else { 0.0 };
                        sum
                    })
                    .collect()
            })
            .collect();
        let by_cost = bounds
            .windows(2)
            .map(|w| {
                let mut idx: Vec<usize> = (w[0]..w[1]).collect();
                let cost = |i: usize| entries[i].unit_cost().unwrap_or(f64::INFINITY);
                idx.sort_by(|&a, &b| cost(a).total_cmp(&cost(b)));
                idx
            })
            .collect();
        let group = Arc::new(Group {
            name: name.clone(),
            entries,
            tiers,
            max_input_tokens,
            cumulative,
            by_cost,
        });
        if name.contains('*') {
            groups.wildcards.push(group);
        } else {
            groups.by_name.insert(name, group);
        }
    }
    groups
        .wildcards
        .sort_by_key(|g| std::cmp::Reverse(g.name.len()));
    Ok(groups)
}

/// A deployment's weight and prices must be finite and not negative (the YAML loader refuses
/// the same values; a NaN weight would poison the weighted pick).
fn check_numbers(d: &Deployment) -> Result<()> {
    let numbers = [
        ("weight", d.weight),
        ("input_cost_per_token", d.model_info.input_cost_per_token),
        ("output_cost_per_token", d.model_info.output_cost_per_token),
    ];
    for (name, value) in numbers {
        if let Some(v) = value
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(Error::config(format!(
                "deployment '{}' of '{}': {name} {v} is not a finite number ≥ 0",
                d.resolved_id(),
                d.model_name
            )));
        }
    }
    Ok(())
}

fn validate_names(groups: &Groups, s: &Settings) -> Result<()> {
    let exists = |name: &str| groups.find(name).is_some() || s.aliases.contains_key(name);
    for (setting, name) in s.fallbacks.named_groups() {
        if !exists(name) {
            return Err(Error::config(format!(
                "{setting} names the model group '{name}', which has no deployment"
            )));
        }
    }
    for (alias, target) in &s.aliases {
        if groups.find(target).is_none() {
            return Err(Error::config(format!(
                "model_group_alias '{alias}' points to '{target}', which has no deployment"
            )));
        }
    }
    Ok(())
}

/// Prices a routed answer with its deployment's price (its `model_info` prices, else the table's
/// price of its model), else with `fallback` (the price table by the answer's model).
fn deployment_pricer(
    groups: Arc<ArcSwap<Groups>>,
    fallback: Option<crate::pipeline::CostFn>,
) -> crate::pipeline::CostFn {
    Arc::new(move |ci: &crate::pipeline::CostInput<'_>| {
        let own = ci.meta.deployment_id.as_deref().and_then(|id| {
            let g = groups.load();
            g.by_id
                .get(id)
                .and_then(|e| e.price.as_ref())
                .map(|p| p.cost(ci.usage, ci.service_tier).total())
        });
        own.or_else(|| fallback.as_ref().and_then(|f| f(ci)))
    })
}

/// A deployment's state, as [`Router::health`] reports it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DeploymentHealth {
    /// Deployment id.
    pub id: String,
    /// Model group.
    pub model_name: String,
    /// Provider model string.
    pub model: String,
    /// When the deployment comes back, if it is cooling down.
    pub cooling_until: Option<SystemTime>,
    /// Calls in flight.
    pub in_flight: u32,
    /// Calls started this minute.
    pub requests_this_minute: u64,
    /// Tokens used this minute.
    pub tokens_this_minute: u64,
    /// Calls that failed this minute.
    pub failed_this_minute: u64,
    /// Calls that finished (succeeded or failed) this minute.
    pub finished_this_minute: u64,
    /// Moving average of latency.
    pub latency: Option<Duration>,
    /// Moving average of time to first token.
    pub time_to_first_token: Option<Duration>,
    /// Calls that succeeded since the router started.
    pub successes: u64,
    /// Calls that failed since the router started.
    pub failures: u64,
}

/// One call waiting for a deployment's parallel slot, counted in its `waiting` gauge for as
/// long as this guard lives.
struct Waiting<'a>(&'a std::sync::atomic::AtomicU32);

impl<'a> Waiting<'a> {
    fn enter(count: &'a std::sync::atomic::AtomicU32) -> Waiting<'a> {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One attempt on one deployment: what the attempt closure gets.
pub(crate) struct Attempt {
    model: String,
    options: CallOptions,
    /// The deployment's request defaults.
    defaults: Option<Arc<defaults::Defaults>>,
}

impl Attempt {
    /// The request with the deployment's defaults it lacks (chat, text and embedding
    /// requests have defaults; any other request is sent as it is).
    fn fill<'r, R: 'static>(&self, r: &'r R) -> defaults::Filled<'r, R> {
        use std::any::Any;
        let Some(d) = &self.defaults else {
            return defaults::Filled::Same(r);
        };
        let any: &dyn Any = r;
        if let Some(c) = any.downcast_ref::<ChatRequest>() {
            defaults::retype(d.chat(c), r)
        } else if let Some(e) = any.downcast_ref::<EmbeddingRequest>() {
            defaults::retype(d.embed(e), r)
        } else if let Some(t) = any.downcast_ref::<TextCompletionRequest>() {
            defaults::retype(d.text(t), r)
        } else {
            defaults::Filled::Same(r)
        }
    }
}

impl Downstream for Router {
    fn cache_group<'m>(&self, model: &'m str) -> std::borrow::Cow<'m, str> {
        match self.group_of(model) {
            Some(g) => std::borrow::Cow::Owned(g.name.clone()),
            None => std::borrow::Cow::Borrowed(model),
        }
    }

    fn call<'a, O: Op>(
        &'a self,
        req: &'a O::Req,
        call_id: &'a str,
    ) -> impl Future<Output = Result<O::Ans>> + Send + 'a {
        self.routed::<O>(req, call_id)
    }
}

/// Keeps a call counted as in flight (and its parallel-limit permit) until dropped.
struct InFlight {
    entry: Arc<Entry>,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.entry.counters.end();
    }
}

/// What a routed call produced before it is finished by its kind.
struct Routed<T> {
    value: T,
    guard: InFlight,
    started: Instant,
}

enum Selection {
    Picked(Arc<Entry>),
    /// Every candidate is at its parallel limit: wait on this one.
    Busy(Arc<Entry>),
    /// Every candidate cools down; the first comes back at this Unix ms.
    Cooling(u64),
    /// Every candidate is at its rpm/tpm limit until the next minute.
    AtLimit,
    /// No deployment can hold the prompt.
    TooLong,
    /// No deployment has the call's tags.
    NoTag,
}

impl Router {
    /// A builder.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// The client the router calls through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The model groups (public model names), sorted; wildcard patterns included.
    pub fn model_names(&self) -> Vec<String> {
        let g = self.inner.groups.load();
        let mut v: Vec<String> = g
            .by_name
            .keys()
            .cloned()
            .chain(g.wildcards.iter().map(|w| w.name.clone()))
            .collect();
        v.sort();
        v
    }

    /// The deployments as configured.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.lock_deployments().clone()
    }

    fn lock_deployments(&self) -> std::sync::MutexGuard<'_, Vec<Deployment>> {
        self.inner
            .deployments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the deployments; calls in flight finish on the deployments they started on.
    /// Counters stay with their deployment ids.
    pub fn set_deployments(&self, deployments: Vec<Deployment>) -> Result<()> {
        let mut current = self.lock_deployments();
        for d in &deployments {
            defaults::check(&self.inner.client, d)?;
        }
        let groups = build_groups(&deployments, self.inner.store.as_ref(), &self.inner.prices)?;
        validate_names(&groups, &self.inner.settings)?;
        self.inner.groups.store(Arc::new(groups));
        *current = deployments;
        Ok(())
    }

    /// Adds a deployment at run time.
    pub fn add_deployment(&self, d: Deployment) -> Result<()> {
        let mut all = self.deployments();
        all.push(d);
        self.set_deployments(all)
    }

    /// Removes the deployment with this id; false when there is none.
    pub fn remove_deployment(&self, id: &str) -> Result<bool> {
        let mut all = self.deployments();
        let before = all.len();
        all.retain(|d| d.resolved_id() != id);
        if all.len() == before {
            return Ok(false);
        }
        self.set_deployments(all)?;
        Ok(true)
    }

    /// Replaces the deployment with the same id (adds it when there is none).
    pub fn update_deployment(&self, d: Deployment) -> Result<()> {
        let id = d.resolved_id();
        let mut all = self.deployments();
        match all.iter_mut().find(|x| x.resolved_id() == id) {
            Some(slot) => *slot = d,
            None => all.push(d),
        }
        self.set_deployments(all)
    }

    /// Waits until every callback event of calls made so far has been delivered and each
    /// callback flushed (e.g. a webhook's last batch sent). Call it before the program exits.
    pub async fn flush_callbacks(&self) {
        self.inner.stack.pipeline.observer.callbacks().flush().await;
    }

    /// The id of the deployment the router would pick now for a call of `model` (a group or
    /// alias), with the routing strategy, cooldowns and limits applied: Python LiteLLM's
    /// `get_available_deployment`. `None` when `model` is not a group or no deployment can
    /// take a call now. Nothing is counted: no call is made.
    ///
    /// ```
    /// use litellm::router::{Deployment, Router};
    /// let router = Router::builder()
    ///     .deployment(Deployment::new("gpt-4o", "mock/gpt-4o").id("east"))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(router.get_available_deployment("gpt-4o").as_deref(), Some("east"));
    /// assert_eq!(router.get_available_deployment("nope"), None);
    /// ```
    pub fn get_available_deployment(&self, model: &str) -> Option<String> {
        let group = self.group_of(model)?;
        match self.select(&group, None, &[], None, false) {
            Selection::Picked(e) | Selection::Busy(e) => Some(e.id.clone()),
            _ => None,
        }
    }

    /// The live state of every deployment: cooldowns, in-flight calls, this minute's usage,
    /// latency.
    pub fn health(&self) -> Vec<DeploymentHealth> {
        let now = now_ms();
        let minute = minute_of(now);
        let groups = self.inner.groups.load();
        let mut out: Vec<DeploymentHealth> = groups
            .by_name
            .values()
            .chain(groups.wildcards.iter())
            .flat_map(|g| g.entries.iter())
            .map(|e| {
                let c = &e.counters;
                let (failed_this_minute, finished_this_minute) = c.failures(minute);
                let (successes, failures) = c.totals();
                DeploymentHealth {
                    id: e.id.clone(),
                    model_name: e.config.model_name.clone(),
                    model: e.config.model.clone(),
                    cooling_until: c
                        .cooling_until(now)
                        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
                    in_flight: c.in_flight(),
                    requests_this_minute: c.requests(minute),
                    tokens_this_minute: c.tokens(minute),
                    failed_this_minute,
                    finished_this_minute,
                    latency: c.latency(),
                    time_to_first_token: c.ttft(),
                    successes,
                    failures,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.model_name, &a.id).cmp(&(&b.model_name, &b.id)));
        out
    }

    crate::client::call_methods!();

    /// One call through the stack (see `Client::call`).
    fn call<O: Op>(&self, request: O::Req) -> impl Future<Output = Result<O::Ans>> + Send + '_ {
        self.inner.stack.call::<O, _>(self, Box::new(request))
    }

    /// The route stage: a call of a group goes over its deployments (retries, fallbacks,
    /// cooldowns); any other model string goes straight to the client's resolve stage.
    async fn routed<O: Op>(&self, req: &O::Req, call_id: &str) -> Result<O::Ans> {
        let start = Instant::now();
        let model = O::model(req);
        let opts = O::options(req);
        let resolver = self.inner.client.resolver();
        let Some(group) = self.group_of(model) else {
            return O::send(resolver, req, model, opts).await;
        };
        let s = &self.inner.settings;
        let prompt = if s.pre_call_checks {
            O::prompt_tokens(req)
        } else {
            None
        };
        let stream = O::CALL_TYPE == CallType::ChatStream;
        let group_size = group.entries.len();
        let routed = self
            .route(
                group,
                model,
                opts,
                prompt,
                stream,
                call_id,
                |a: Attempt| async move {
                    let req = a.fill(req);
                    O::send(resolver, &req, &a.model, &a.options).await
                },
            )
            .await?;
        let Routed {
            mut value,
            guard,
            started,
        } = routed;
        match value.stream_mut() {
            Some(stream) => {
                // The deployment stays in flight until the stream ends; its end (or failure)
                // is recorded on it, and the call's deadline bounds the whole stream.
                if let Some(t) = opts.timeout.or(s.timeout_set.then_some(s.timeout))
                    && let Some(deadline) = start.checked_add(t)
                {
                    stream.set_deadline(deadline);
                }
                stream.observe(DeploymentTracker {
                    guard: Some(guard),
                    started,
                    first: None,
                    tokens: 0,
                    rules: s.cooldown.clone(),
                    level: self.inner.stack.pipeline.observer.log_level(),
                    group_size,
                });
            }
            None => drop(guard),
        }
        Ok(value)
    }

    /// The group a model name resolves to (through an alias).
    fn group_of(&self, model: &str) -> Option<Arc<Group>> {
        let name = self
            .inner
            .settings
            .aliases
            .get(model)
            .map_or(model, String::as_str);
        self.inner.groups.load().find(name).cloned()
    }

    /// Runs a call over `group` (what `model` resolved to), its retries and its fallbacks.
    #[allow(clippy::too_many_arguments)]
    async fn route<T, F, Fut>(
        &self,
        mut group: Arc<Group>,
        model: &str,
        options: &CallOptions,
        prompt_tokens: Option<u64>,
        stream: bool,
        call_id: &str,
        mut attempt: F,
    ) -> Result<Routed<T>>
    where
        T: Reply,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let s = &self.inner.settings;
        let start = Instant::now();
        let deadline = start + options.timeout.unwrap_or(s.timeout);
        let requested = model.to_owned();
        let mut call = CallState::default();
        let mut fallbacks: Vec<String> = Vec::new();
        let mut tried_groups: Vec<String> = vec![group.name.clone()];
        loop {
            let result = self
                .try_group(
                    &group,
                    &requested,
                    options,
                    prompt_tokens,
                    stream,
                    deadline,
                    call_id,
                    &mut call,
                    &mut attempt,
                )
                .await;
            let err = match result {
                Ok(mut routed) => {
                    self.settle(&call, true);
                    let meta = routed.value.meta_mut();
                    meta.attempts = call.attempts;
                    meta.model_group = Some(group.name.clone());
                    meta.fallbacks = fallbacks;
                    return Ok(routed);
                }
                Err(e) => e,
            };
            if call.stopped {
                // The retry budget or the attempt cap ended the call.
                self.settle(&call, false);
                return Err(summarize(err, &call.history));
            }
            // Walk the fallbacks for this kind of failure.
            let chain = s
                .fallbacks
                .chain(&group.name, err.kind(), options.fallbacks.as_deref());
            let current_window = group.max_input_tokens;
            let next = chain
                .iter()
                .map(|n| s.aliases.get(n).map_or(n.as_str(), String::as_str))
                .filter(|n| !tried_groups.iter().any(|t| t == n))
                .filter_map(|n| self.inner.groups.load().find(n).cloned())
                .find(|g| {
                    // Context-window fallbacks only move to a larger window (when known).
                    err.kind() != ErrorKind::ContextWindowExceeded
                        || match (current_window, g.max_input_tokens) {
                            (Some(cur), Some(next)) => next > cur,
                            _ => true,
                        }
                });
            match next {
                Some(g) if fallbacks.len() < s.max_fallbacks && Instant::now() < deadline => {
                    // An attempt in the fallback group is a retry of the call.
                    if let Some(refusal) = self.retry_refusal(&mut call) {
                        let err = self.refuse(&call, call_id, None, err, refusal);
                        self.settle(&call, false);
                        return Err(summarize(err, &call.history));
                    }
                    crate::observe::logging::log_fallback(
                        self.inner.stack.pipeline.observer.log_level(),
                        call_id,
                        &group.name,
                        &g.name,
                        err.kind(),
                    );
                    fallbacks.push(g.name.clone());
                    tried_groups.push(g.name.clone());
                    group = g;
                }
                _ => {
                    self.settle(&call, false);
                    return Err(summarize(err, &call.history));
                }
            }
        }
    }

    /// Whether the call may make one more upstream attempt, after at least one: `None` when
    /// it may (taking a retry from the budget, kept in `call` until the attempt is made), else
    /// why not. The call's first attempt needs nothing.
    fn retry_refusal(&self, call: &mut CallState) -> Option<Refusal> {
        if call.attempts == 0 {
            return None;
        }
        let s = &self.inner.settings;
        if let Some(max) = s.max_attempts
            && call.attempts >= max
        {
            return Some(Refusal::MaxAttempts(max));
        }
        match &s.retry_budget {
            Some(_) if call.retry_held.is_some() => None,
            Some(budget) => match budget.take() {
                Some(w) => {
                    call.retry_held = Some(w);
                    None
                }
                None => Some(Refusal::Budget),
            },
            None => None,
        }
    }

    /// Ends the call after a refused retry: `err` (the last failure, its kind kept) says why,
    /// and the refusal is logged like the other retry decisions.
    fn refuse(
        &self,
        call: &CallState,
        call_id: &str,
        deployment: Option<&str>,
        mut err: Error,
        refusal: Refusal,
    ) -> Error {
        let reason = match refusal {
            Refusal::Budget => "the router's retry budget is exhausted".to_owned(),
            Refusal::MaxAttempts(n) => {
                format!("the call made its max_attempts_per_call ({n}) upstream attempts")
            }
        };
        crate::observe::logging::log_retry_refused(
            self.inner.stack.pipeline.observer.log_level(),
            call_id,
            deployment,
            call.attempts,
            &crate::observe::EventError::from(&err),
            &reason,
        );
        let msg = format!("{}; not retried: {reason}", err.message());
        err.details_mut().message = msg;
        err
    }

    /// The end of a routed call for the retry budget: a success deposits, a retry taken but
    /// never made goes back.
    fn settle(&self, call: &CallState, success: bool) {
        if let Some(budget) = &self.inner.settings.retry_budget {
            if let Some(w) = call.retry_held {
                budget.refund(w);
            }
            if success {
                budget.deposit();
            }
        }
    }

    /// The retry budget of the router, if it has one (shared with the routers built with the
    /// same `Arc`): read its [`balance`](RetryBudget::balance) to see how many retries are left.
    pub fn retry_budget(&self) -> Option<&Arc<RetryBudget>> {
        self.inner.settings.retry_budget.as_ref()
    }

    /// Retries within one group; returns the group's last error when it is exhausted.
    #[allow(clippy::too_many_arguments)]
    async fn try_group<T, F, Fut>(
        &self,
        group: &Arc<Group>,
        requested: &str,
        options: &CallOptions,
        prompt_tokens: Option<u64>,
        stream: bool,
        deadline: Instant,
        call_id: &str,
        state: &mut CallState,
        attempt: &mut F,
    ) -> Result<Routed<T>>
    where
        T: Reply,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let s = &self.inner.settings;
        let num_retries = options.num_retries.unwrap_or(s.num_retries);
        let metadata = &options.metadata;
        let tags = &metadata.tags;
        let mut tried: Vec<String> = Vec::new();
        let mut failures = 0u32;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the routed call to '{}' ran out of time", group.name),
                ));
            }
            let entry = match self.select(group, Some(metadata), &tried, prompt_tokens, stream) {
                Selection::Picked(e) | Selection::Busy(e) => e,
                Selection::Cooling(until) => {
                    let wait = Duration::from_millis(until.saturating_sub(now_ms()));
                    if s.wait_for_cooldown && now + wait < deadline {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(Error::new(
                        ErrorKind::NoDeploymentAvailable,
                        format!(
                            "all {} deployments of '{}' are cooling down; the first comes back in {:.1} s",
                            group.entries.len(),
                            group.name,
                            wait.as_secs_f64()
                        ),
                    )
                    .with_retry_after(wait));
                }
                Selection::AtLimit => {
                    let wait = Duration::from_millis(60_000 - now_ms() % 60_000);
                    return Err(Error::new(
                        ErrorKind::RateLimit,
                        format!(
                            "every deployment of '{}' is at its rpm/tpm limit this minute",
                            group.name
                        ),
                    )
                    .with_retry_after(wait));
                }
                Selection::TooLong => {
                    return Err(Error::new(
                        ErrorKind::ContextWindowExceeded,
                        format!(
                            "the prompt ({} tokens) fits no deployment of '{}'",
                            prompt_tokens.unwrap_or(0),
                            group.name
                        ),
                    ));
                }
                Selection::NoTag => {
                    return Err(Error::new(
                        ErrorKind::NoDeploymentAvailable,
                        format!("no deployment of '{}' has the tags {tags:?}", group.name),
                    ));
                }
            };
            // Parallel limit: wait for a slot, within the deadline.
            let permit = match &entry.semaphore {
                Some(sem) => match sem.clone().try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => {
                        // Counted as waiting until the slot comes, the deadline passes or the
                        // caller drops the call (the guard's drop).
                        let waiting = Waiting::enter(&entry.waiting);
                        let got =
                            tokio::time::timeout_at(deadline, sem.clone().acquire_owned()).await;
                        drop(waiting);
                        match got {
                            Ok(Ok(p)) => Some(p),
                            _ => {
                                return Err(Error::new(
                                    ErrorKind::Timeout,
                                    format!("no free slot on '{}' before the deadline", entry.id),
                                ));
                            }
                        }
                    }
                },
                None => None,
            };
            // The retry taken from the budget (if any) is spent on this attempt.
            state.retry_held = None;
            state.attempts += 1;
            let minute = minute_of(now_ms());
            entry.counters.start(minute);
            let guard = InFlight {
                entry: entry.clone(),
                _permit: permit,
            };
            let started = Instant::now();
            let call = Attempt {
                model: entry.model_for(requested),
                options: merge_options(&entry, options, stream, s, deadline),
                defaults: entry.defaults.clone(),
            };
            match attempt(call).await {
                Ok(mut value) => {
                    let meta = value.meta_mut();
                    meta.deployment_id = Some(entry.id.clone());
                    if !stream {
                        entry.counters.success(
                            minute_of(now_ms()),
                            value.tokens(),
                            started.elapsed(),
                            None,
                        );
                    }
                    return Ok(Routed {
                        value,
                        guard,
                        started,
                    });
                }
                Err(mut err) => {
                    drop(guard);
                    failures += 1;
                    let d = err.details_mut();
                    d.deployment = Some(entry.id.clone());
                    d.model_group = Some(group.name.clone());
                    let level = self.inner.stack.pipeline.observer.log_level();
                    record_failure(&entry, &err, &s.cooldown, level, group.entries.len());
                    state
                        .history
                        .push(format!("{} ({}): {}", entry.id, group.name, brief(&err)));
                    if !retry::may_retry(&err, failures, num_retries, s.retry_policy.as_ref()) {
                        return Err(err);
                    }
                    tried.push(entry.id.clone());
                    let other_healthy = self.has_other_healthy(group, &tried, tags, prompt_tokens);
                    let wait = retry::backoff(
                        &err,
                        failures - 1,
                        other_healthy,
                        s.retry_after,
                        self.inner.rng.unit(),
                    );
                    if Instant::now() + wait >= deadline {
                        return Err(err);
                    }
                    if let Some(refusal) = self.retry_refusal(state) {
                        state.stopped = true;
                        return Err(self.refuse(state, call_id, Some(&entry.id), err, refusal));
                    }
                    crate::observe::logging::log_retry(
                        level,
                        call_id,
                        Some(&entry.id),
                        failures,
                        &crate::observe::EventError::from(&err),
                        wait,
                    );
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
    }

    fn has_other_healthy(
        &self,
        group: &Group,
        tried: &[String],
        tags: &[String],
        prompt: Option<u64>,
    ) -> bool {
        let now = now_ms();
        let minute = minute_of(now);
        group
            .entries
            .iter()
            .any(|e| !tried.contains(&e.id) && self.usable(e, tags, prompt, now, minute).is_ok())
    }

    /// Why a deployment cannot take a call now, if it cannot.
    fn usable(
        &self,
        e: &Entry,
        tags: &[String],
        prompt: Option<u64>,
        now: u64,
        minute: u64,
    ) -> std::result::Result<(), Skip> {
        let s = &self.inner.settings;
        if s.tag_filtering && !tags.is_empty() && !e.config.tags.iter().any(|t| tags.contains(t)) {
            return Err(Skip::Tag);
        }
        if let (Some(p), Some(max)) = (prompt, e.max_input_tokens())
            && p > max
        {
            return Err(Skip::TooLong);
        }
        if let Some(until) = e.counters.cooling_until(now) {
            return Err(Skip::Cooling(until));
        }
        let c = &e.config;
        if c.rpm.is_some_and(|rpm| e.counters.requests(minute) >= rpm)
            || c.tpm.is_some_and(|tpm| e.counters.tokens(minute) >= tpm)
        {
            return Err(Skip::Limit);
        }
        if c.max_parallel_requests
            .is_some_and(|m| e.counters.in_flight() >= m)
        {
            return Err(Skip::Busy);
        }
        Ok(())
    }

    /// Picks a deployment of `group` for the next attempt.
    fn select(
        &self,
        group: &Group,
        metadata: Option<&crate::types::Metadata>,
        tried: &[String],
        prompt: Option<u64>,
        stream: bool,
    ) -> Selection {
        let s = &self.inner.settings;
        let tags = metadata.map_or(&[][..], |m| m.tags.as_slice());
        let now = now_ms();
        let minute = minute_of(now);
        // Built only when a strategy is asked (not on the simple-shuffle fast path).
        let cx = || {
            PickContext::new(
                &group.name,
                &group.entries,
                stream,
                metadata,
                tried,
                minute,
                &self.inner.rng,
            )
        };
        let mut first_back: Option<u64> = None;
        let mut at_limit = false;
        let mut too_long = false;
        let mut tag_miss = false;
        let mut busy: Option<&Arc<Entry>> = None;
        let fast = matches!(s.strategy, RoutingStrategy::SimpleShuffle) && tried.is_empty();
        for (t, &lo) in group.tiers.iter().enumerate() {
            let hi = group
                .tiers
                .get(t + 1)
                .copied()
                .unwrap_or(group.entries.len());
            // Simple-shuffle fast path: a weighted pick by binary search, kept when usable
            // (the common case), so selection costs O(log n) instead of a scan.
            if fast
                && let Some(cum) = group.cumulative.get(t)
                && let Some(&total) = cum.last()
                && total > 0.0
            {
                for _ in 0..3 {
                    let x = self.inner.rng.unit() * total;
                    let k = cum.partition_point(|&c| c <= x).min(cum.len() - 1);
                    let e = &group.entries[lo + k];
                    if self.usable(e, tags, prompt, now, minute).is_ok() {
                        return Selection::Picked(e.clone());
                    }
                }
            }
            // Large tiers, first attempt: no scan of the whole tier (see `SAMPLED_TIER`).
            if tried.is_empty() && hi - lo > strategy::SAMPLED_TIER {
                let usable = |i: usize| {
                    self.usable(&group.entries[i], tags, prompt, now, minute)
                        .is_ok()
                };
                let picked = match &s.strategy {
                    // A custom strategy is offered every usable deployment of the tier.
                    RoutingStrategy::SimpleShuffle | RoutingStrategy::Custom(_) => None,
                    RoutingStrategy::CostBased => strategy::cheapest(
                        &group.by_cost[t],
                        &group.entries,
                        &self.inner.rng,
                        usable,
                    ),
                    other => {
                        let mut sample = [0usize; strategy::SAMPLE];
                        let mut n = 0;
                        for _ in 0..strategy::SAMPLE {
                            let i = lo + self.inner.rng.below(hi - lo);
                            if usable(i) {
                                sample[n] = i;
                                n += 1;
                            }
                        }
                        (n > 0).then(|| strategy::pick(other, &cx(), &sample[..n]))
                    }
                };
                if let Some(i) = picked {
                    return Selection::Picked(group.entries[i].clone());
                }
            }
            let mut fresh = Vec::new();
            let mut retried = Vec::new();
            for i in lo..hi {
                let e = &group.entries[i];
                match self.usable(e, tags, prompt, now, minute) {
                    Ok(()) if tried.contains(&e.id) => retried.push(i),
                    Ok(()) => fresh.push(i),
                    Err(Skip::Cooling(until)) => {
                        first_back = Some(first_back.map_or(until, |f| f.min(until)));
                    }
                    Err(Skip::Limit) => at_limit = true,
                    Err(Skip::TooLong) => too_long = true,
                    Err(Skip::Tag) => tag_miss = true,
                    Err(Skip::Busy) => {
                        let load = |x: &Entry| {
                            x.counters.in_flight()
                                + x.waiting.load(std::sync::atomic::Ordering::Relaxed)
                        };
                        if busy.is_none_or(|b| load(e) < load(b)) {
                            busy = Some(e);
                        }
                    }
                }
            }
            // Prefer deployments not tried yet in this call; fall back to retrying one.
            let pool = if fresh.is_empty() { retried } else { fresh };
            if !pool.is_empty() {
                // `pick` answers with one of `pool` (a custom strategy's index out of range is
                // read as the first candidate).
                let i = strategy::pick(&s.strategy, &cx(), &pool);
                if let Some(e) = group.entries.get(i) {
                    return Selection::Picked(e.clone());
                }
            }
        }
        if let Some(b) = busy {
            return Selection::Busy(b.clone());
        }
        if let Some(until) = first_back {
            return Selection::Cooling(until);
        }
        if at_limit {
            return Selection::AtLimit;
        }
        if too_long {
            return Selection::TooLong;
        }
        if tag_miss {
            return Selection::NoTag;
        }
        Selection::AtLimit
    }
}

/// What one routed call has done so far, across its groups.
#[derive(Default)]
struct CallState {
    /// Upstream attempts made.
    attempts: u32,
    /// One line per failed attempt (for the final error).
    history: Vec<String>,
    /// A retry was taken from the budget for the next attempt, not made yet.
    retry_held: Option<budget::Withdrawal>,
    /// A retry was refused: the call ends with its last error, no fallback.
    stopped: bool,
}

/// Why a call may not make another attempt.
enum Refusal {
    Budget,
    MaxAttempts(u32),
}

enum Skip {
    Cooling(u64),
    Limit,
    Busy,
    TooLong,
    Tag,
}

/// The call options of one attempt: the deployment's credentials and settings, the call's
/// metadata, headers and mock, and a timeout bounded by the deadline.
fn merge_options(
    e: &Entry,
    call: &CallOptions,
    stream: bool,
    s: &Settings,
    deadline: Instant,
) -> CallOptions {
    let mut o = e.options.clone();
    let remaining = deadline.saturating_duration_since(Instant::now());
    let per_attempt = if stream {
        e.config
            .stream_timeout
            .or(s.stream_timeout)
            .or(e.config.timeout)
    } else {
        e.config.timeout
    };
    o.timeout = Some(match per_attempt {
        Some(t) if !stream => t.min(remaining),
        Some(t) => t,
        None if stream => remaining,
        None => remaining,
    });
    o.extra_headers.extend(call.extra_headers.iter().cloned());
    // The call's metadata is not copied: the resolve and provider stages never read it (the
    // ledger, cache and callbacks read the call's own).
    if call.mock_response.is_some() {
        o.mock_response = call.mock_response.clone();
    }
    o.drop_params = call.drop_params.or(o.drop_params);
    o.params.extend(call.params.iter().cloned());
    if call.api_key.is_some() {
        o.api_key = call.api_key.clone();
    }
    o
}

fn record_failure(
    entry: &Entry,
    err: &Error,
    rules: &CooldownRules,
    level: crate::observe::LogLevel,
    group_size: usize,
) {
    let minute = minute_of(now_ms());
    let (of_kind, failed, finished) = entry.counters.failure(minute, err.kind());
    let counts = FailureCounts {
        of_kind,
        failed,
        finished,
    };
    if let Some(d) = cooldown_for(rules, err, counts, group_size) {
        crate::observe::logging::log_cooldown(
            level,
            &entry.config.model_name,
            &entry.id,
            d,
            err.kind(),
        );
        entry
            .counters
            .cool_down_until(now_ms() + d.as_millis() as u64);
    }
}

fn brief(err: &Error) -> String {
    let mut m = err.message().to_owned();
    if m.len() > 200 {
        let mut cut = 200;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        m.truncate(cut);
        m.push('…');
    }
    format!("{}: {m}", err.kind())
}

/// The final error of a routed call: the last failure, with every attempt listed.
fn summarize(mut err: Error, history: &[String]) -> Error {
    if history.len() > 1 {
        let msg = format!(
            "{} (after {} attempts: {})",
            err.message(),
            history.len(),
            history.join("; ")
        );
        err.details_mut().message = msg;
    }
    err
}

/// A routed stream's deployment: records first-token time, success and tokens or the failure
/// on it, and keeps the call in flight until the stream ends or is dropped.
struct DeploymentTracker {
    guard: Option<InFlight>,
    started: Instant,
    first: Option<Duration>,
    tokens: u64,
    rules: CooldownRules,
    level: crate::observe::LogLevel,
    group_size: usize,
}

impl crate::types::StreamObserver for DeploymentTracker {
    fn on_first_token(&mut self, _after: Duration) {
        self.first = Some(self.started.elapsed());
    }

    fn on_chunk(&mut self, chunk: &ChatChunk) {
        if let Some(u) = &chunk.usage {
            self.tokens = u.total_tokens;
        }
    }

    fn on_end(&mut self, _meta: &crate::types::ResponseMeta) {
        if let Some(g) = self.guard.take() {
            g.entry.counters.success(
                minute_of(now_ms()),
                self.tokens,
                self.started.elapsed(),
                self.first,
            );
        }
    }

    fn on_error(&mut self, err: &Error) {
        if let Some(g) = self.guard.take() {
            record_failure(&g.entry, err, &self.rules, self.level, self.group_size);
        }
    }
}
