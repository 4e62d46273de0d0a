//! Routing strategies: which available deployment of a group takes the next call.
//!
//! The built-in strategies are the variants of [`RoutingStrategy`]; your own is any type that
//! implements [`Strategy`], installed with [`RoutingStrategy::custom`] (or
//! [`RouterBuilder::strategy`](super::RouterBuilder::strategy)). A strategy sees the usable
//! candidates of the group ([`Candidate`]: the deployment's configuration and its live
//! numbers) and the call ([`PickContext`]), and answers with the index of the one to call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::deployment::{Deployment, Entry};
use crate::error::{Error, Result};
use crate::types::Metadata;

/// Picks one deployment among the usable candidates of a group for the next attempt of a call:
/// LiteLLM's `CustomRoutingStrategyBase`.
///
/// The router calls [`pick`](Strategy::pick) for every attempt (the first, each retry, and the
/// first attempt in each fallback group) and for [`Router::get_available_deployment`]. The
/// candidates are the deployments that can take the call now: not cooling down, under their
/// `rpm`/`tpm` and parallel limits, with the call's tags and a context window that holds the
/// prompt (when those checks are on), in the lowest `order` tier that has any; those not yet
/// tried in this call come first (deployments already tried are offered only when no other
/// is left). The slice is never empty.
///
/// `pick` runs on the call path, synchronously, and should be quick: no I/O, no blocking. An
/// index out of range is read as `0` (the first candidate), never a panic. Randomness should
/// come from [`PickContext::random`] (or its siblings), so a router built with
/// [`RouterBuilder::seed`](super::RouterBuilder::seed) repeats its picks.
///
/// The built-in strategies implement this trait too ([`RoutingStrategy`]), so yours can
/// delegate to one (e.g. least-busy among the deployments with a given tag).
///
/// ```
/// use std::sync::Arc;
/// use litellm::router::{Candidate, Deployment, PickContext, Router, Strategy};
///
/// /// The deployment that served the fewest calls this minute.
/// #[derive(Debug)]
/// struct FewestRequests;
///
/// impl Strategy for FewestRequests {
///     fn pick(&self, candidates: &[Candidate<'_>], _cx: &PickContext<'_>) -> usize {
///         (0..candidates.len())
///             .min_by_key(|&i| candidates[i].requests_this_minute())
///             .unwrap_or(0)
///     }
/// }
///
/// let router = Router::builder()
///     .deployment(Deployment::new("gpt-4o", "mock/gpt-4o").id("east"))
///     .deployment(Deployment::new("gpt-4o", "mock/gpt-4o").id("west"))
///     .strategy(Arc::new(FewestRequests))
///     .build()?;
/// assert!(router.get_available_deployment("gpt-4o").is_some());
/// # Ok::<(), litellm::Error>(())
/// ```
///
/// [`Router::get_available_deployment`]: super::Router::get_available_deployment
pub trait Strategy: Send + Sync + std::fmt::Debug {
    /// The index in `candidates` (never empty) of the deployment that takes the next attempt.
    fn pick(&self, candidates: &[Candidate<'_>], cx: &PickContext<'_>) -> usize;
}

/// A deployment a [`Strategy`] may pick: its configuration and its live numbers, read when
/// asked (the counters are atomics, shared with calls in flight).
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    entry: &'a Arc<Entry>,
    minute: u64,
    tried: bool,
}

impl<'a> Candidate<'a> {
    /// The deployment's id (`Deployment::id`, else a stable hash of its settings).
    pub fn id(&self) -> &'a str {
        &self.entry.id
    }

    /// The deployment as configured: `model_name`, `model`, `weight`, `rpm`, `tpm`, `order`,
    /// `tags`, `model_info`, ….
    pub fn deployment(&self) -> &'a Deployment {
        &self.entry.config
    }

    /// Calls in flight on the deployment now.
    pub fn in_flight(&self) -> u32 {
        self.entry.counters.in_flight()
    }

    /// Calls started on the deployment this minute.
    pub fn requests_this_minute(&self) -> u64 {
        self.entry.counters.requests(self.minute)
    }

    /// Tokens used on the deployment this minute.
    pub fn tokens_this_minute(&self) -> u64 {
        self.entry.counters.tokens(self.minute)
    }

    /// Moving average (EWMA) of the deployment's call latency; `None` before its first success.
    pub fn latency(&self) -> Option<Duration> {
        self.entry.counters.latency()
    }

    /// Moving average of the deployment's time to first token (streams); `None` before its
    /// first stream.
    pub fn time_to_first_token(&self) -> Option<Duration> {
        self.entry.counters.ttft()
    }

    /// `input_cost_per_token + output_cost_per_token` in dollars, when the deployment is
    /// priced (its `model_info`, else the router's price table).
    pub fn unit_cost(&self) -> Option<f64> {
        self.entry.unit_cost()
    }

    /// Whether this call already tried the deployment (candidates already tried are offered
    /// only when no other is left).
    pub fn tried(&self) -> bool {
        self.tried
    }
}

impl std::fmt::Debug for Candidate<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("id", &self.id())
            .field("model", &self.entry.config.model)
            .field("in_flight", &self.in_flight())
            .field("requests_this_minute", &self.requests_this_minute())
            .field("tokens_this_minute", &self.tokens_this_minute())
            .field("tried", &self.tried)
            .finish_non_exhaustive()
    }
}

/// The call a [`Strategy`] picks for.
pub struct PickContext<'a> {
    group: &'a str,
    stream: bool,
    metadata: Option<&'a Metadata>,
    tried: &'a [String],
    /// The whole group (the built-in simple-shuffle weighs by the group's kind of weight).
    entries: &'a [Arc<Entry>],
    minute: u64,
    rng: &'a Rng,
}

impl<'a> PickContext<'a> {
    pub(crate) fn new(
        group: &'a str,
        entries: &'a [Arc<Entry>],
        stream: bool,
        metadata: Option<&'a Metadata>,
        tried: &'a [String],
        minute: u64,
        rng: &'a Rng,
    ) -> PickContext<'a> {
        PickContext {
            group,
            stream,
            metadata,
            tried,
            entries,
            minute,
            rng,
        }
    }

    /// The model group (after aliases; a fallback group for an attempt in one).
    pub fn group(&self) -> &'a str {
        self.group
    }

    /// Whether the call streams (the built-in latency strategy then uses time to first token).
    pub fn stream(&self) -> bool {
        self.stream
    }

    /// The call's metadata (user, key, tags, values); `None` for
    /// [`Router::get_available_deployment`](super::Router::get_available_deployment), which has
    /// no call.
    pub fn metadata(&self) -> Option<&'a Metadata> {
        self.metadata
    }

    /// The call's `metadata.tags` (empty when there are none).
    pub fn tags(&self) -> &'a [String] {
        self.metadata.map_or(&[], |m| m.tags.as_slice())
    }

    /// Ids of the group's deployments this call already tried, in order.
    pub fn tried(&self) -> &'a [String] {
        self.tried
    }

    /// A random number from the router's source (seeded with `RouterBuilder::seed`).
    pub fn random_u64(&self) -> u64 {
        self.rng.next_u64()
    }

    /// A random number in [0, 1) from the router's source.
    pub fn random(&self) -> f64 {
        self.rng.unit()
    }

    /// A random index below `n` from the router's source (0 when `n` ≤ 1).
    pub fn random_below(&self, n: usize) -> usize {
        self.rng.below(n)
    }
}

impl std::fmt::Debug for PickContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PickContext")
            .field("group", &self.group)
            .field("stream", &self.stream)
            .field("tags", &self.tags())
            .field("tried", &self.tried)
            .finish_non_exhaustive()
    }
}

/// How the router picks among the available deployments of a group (`routing_strategy`).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum RoutingStrategy {
    /// `simple-shuffle` (default): random, weighted by `weight`, else `rpm`, else `tpm`, else
    /// uniform.
    #[default]
    SimpleShuffle,
    /// `least-busy`: the fewest calls in flight.
    LeastBusy,
    /// `latency-based-routing`: the lowest moving-average latency (time to first token for
    /// streams). Deployments with no sample yet are tried first; those within `buffer` (a
    /// fraction, e.g. 0.1 = 10 %) of the best share the load at random.
    LatencyBased {
        /// Near-equal band, as a fraction of the best latency.
        buffer: f64,
    },
    /// `usage-based-routing`: the fewest tokens used this minute (never above `tpm`/`rpm`).
    UsageBased,
    /// `cost-based-routing`: the cheapest by `input_cost_per_token + output_cost_per_token`;
    /// unpriced deployments last.
    CostBased,
    /// Your own [`Strategy`] (named `custom`). Two are equal when they are the same `Arc`.
    Custom(Arc<dyn Strategy>),
}

impl PartialEq for RoutingStrategy {
    fn eq(&self, other: &Self) -> bool {
        use RoutingStrategy::{
            CostBased, Custom, LatencyBased, LeastBusy, SimpleShuffle, UsageBased,
        };
        match (self, other) {
            (SimpleShuffle, SimpleShuffle)
            | (LeastBusy, LeastBusy)
            | (UsageBased, UsageBased)
            | (CostBased, CostBased) => true,
            (LatencyBased { buffer: a }, LatencyBased { buffer: b }) => a == b,
            (Custom(a), Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl RoutingStrategy {
    /// Your own strategy.
    pub fn custom(strategy: impl Strategy + 'static) -> RoutingStrategy {
        RoutingStrategy::Custom(Arc::new(strategy))
    }

    /// Parses Python LiteLLM's names.
    ///
    /// ```
    /// use litellm::router::RoutingStrategy;
    /// assert_eq!(RoutingStrategy::parse("least-busy").unwrap(), RoutingStrategy::LeastBusy);
    /// assert!(RoutingStrategy::parse("fastest").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<RoutingStrategy> {
        Ok(match name.trim() {
            "simple-shuffle" | "simple_shuffle" => RoutingStrategy::SimpleShuffle,
            "least-busy" | "least_busy" => RoutingStrategy::LeastBusy,
            "latency-based-routing" | "latency_based_routing" => {
                RoutingStrategy::LatencyBased { buffer: 0.0 }
            }
            "usage-based-routing" | "usage-based-routing-v2" | "usage_based_routing" => {
                RoutingStrategy::UsageBased
            }
            "cost-based-routing" | "cost_based_routing" => RoutingStrategy::CostBased,
            other => {
                return Err(Error::config(format!(
                    "unknown routing_strategy {other:?}; expected simple-shuffle, least-busy, \
                     latency-based-routing, usage-based-routing or cost-based-routing (your own \
                     strategy is set in code: RouterBuilder::strategy)"
                )));
            }
        })
    }

    /// Python LiteLLM's name (`custom` for your own).
    pub fn name(&self) -> &'static str {
        match self {
            RoutingStrategy::SimpleShuffle => "simple-shuffle",
            RoutingStrategy::LeastBusy => "least-busy",
            RoutingStrategy::LatencyBased { .. } => "latency-based-routing",
            RoutingStrategy::UsageBased => "usage-based-routing",
            RoutingStrategy::CostBased => "cost-based-routing",
            RoutingStrategy::Custom(_) => "custom",
        }
    }
}

impl Strategy for RoutingStrategy {
    /// The built-in pick over `candidates`; [`Custom`](RoutingStrategy::Custom) asks its
    /// strategy.
    fn pick(&self, candidates: &[Candidate<'_>], cx: &PickContext<'_>) -> usize {
        match self {
            RoutingStrategy::Custom(s) => s.pick(candidates, cx),
            builtin => pick_builtin(
                builtin,
                candidates.len(),
                |k| candidates[k].entry,
                || WeightKind::of(cx.entries),
                cx.stream,
                cx.minute,
                cx.rng,
            ),
        }
    }
}

/// A lock-free, seedable random source shared by all calls of a router (splitmix64 over an
/// atomic counter): the same seed and call order give the same picks.
#[derive(Debug)]
pub(crate) struct Rng(AtomicU64);

impl Rng {
    pub(crate) fn new(seed: Option<u64>) -> Rng {
        let seed = seed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            t ^ rand::random::<u64>()
        });
        Rng(AtomicU64::new(seed))
    }

    pub(crate) fn next_u64(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn below(&self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Tiers larger than this are not scanned on a call's first attempt: simple-shuffle picks by
/// binary search over cumulative weights, cost-based walks the tier's deployments sorted by
/// price, and least-busy, usage-based and latency-based pick the best of [`SAMPLE`]
/// deployments drawn at random (the "power of d choices"), so selection costs the same at
/// 1,000 deployments as at 30. Smaller tiers, and retries, compare every deployment.
pub(crate) const SAMPLED_TIER: usize = 32;

/// Deployments drawn per pick in a large tier.
pub(crate) const SAMPLE: usize = 8;

/// Which of the group's numbers weigh simple-shuffle: `weight` if any deployment has one,
/// else `rpm`, else `tpm`, else none (uniform).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WeightKind {
    Weight,
    Rpm,
    Tpm,
    Uniform,
}

impl WeightKind {
    /// The kind for a group.
    pub(crate) fn of(group: &[std::sync::Arc<Entry>]) -> WeightKind {
        if group.iter().any(|d| d.config.weight.is_some()) {
            WeightKind::Weight
        } else if group.iter().any(|d| d.config.rpm.is_some()) {
            WeightKind::Rpm
        } else if group.iter().any(|d| d.config.tpm.is_some()) {
            WeightKind::Tpm
        } else {
            WeightKind::Uniform
        }
    }

    /// The weight of one deployment.
    pub(crate) fn weight(self, e: &Entry) -> f64 {
        let c = &e.config;
        match self {
            WeightKind::Weight => c.weight.unwrap_or(0.0).max(0.0),
            WeightKind::Rpm => c.rpm.unwrap_or(0) as f64,
            WeightKind::Tpm => c.tpm.unwrap_or(0) as f64,
            WeightKind::Uniform => 1.0,
        }
    }
}

/// The cost-based pick over a tier's deployments sorted by unit cost (`by_cost`): the cheapest
/// usable price, and among the usable deployments at that price, the first after a random
/// position. `None` when none is usable.
pub(crate) fn cheapest(
    by_cost: &[usize],
    group: &[std::sync::Arc<Entry>],
    rng: &Rng,
    usable: impl Fn(usize) -> bool,
) -> Option<usize> {
    let cost = |i: usize| group[i].unit_cost().unwrap_or(f64::INFINITY);
    let first = by_cost.iter().position(|&i| usable(i))?;
    let price = cost(by_cost[first]);
    let end = first
        + by_cost[first..]
            .iter()
            .take_while(|&&i| cost(i) == price || (price.is_infinite() && cost(i).is_infinite()))
            .count();
    let run = &by_cost[first..end];
    let start = rng.below(run.len());
    (0..run.len())
        .map(|k| run[(start + k) % run.len()])
        .find(|&i| usable(i))
}

/// Picks one of `available` (indices into `cx`'s group, never empty) with `strategy`: a
/// built-in one directly, a custom one through [`Candidate`]s (an index out of range is read
/// as the first candidate).
pub(crate) fn pick(strategy: &RoutingStrategy, cx: &PickContext<'_>, available: &[usize]) -> usize {
    debug_assert!(!available.is_empty());
    let group = cx.entries;
    match strategy {
        RoutingStrategy::Custom(custom) => {
            let candidates: Vec<Candidate<'_>> = available
                .iter()
                .map(|&i| {
                    let entry = &group[i];
                    Candidate {
                        entry,
                        minute: cx.minute,
                        tried: cx.tried.contains(&entry.id),
                    }
                })
                .collect();
            let k = custom.pick(&candidates, cx);
            available.get(k).or(available.first()).copied().unwrap_or(0)
        }
        _ if available.len() <= 1 => available.first().copied().unwrap_or(0),
        builtin => {
            available[pick_builtin(
                builtin,
                available.len(),
                |k| &group[available[k]],
                || WeightKind::of(group),
                cx.stream,
                cx.minute,
                cx.rng,
            )]
        }
    }
}

/// A built-in pick among `n` (≥ 1) deployments, the `k`-th being `at(k)`: its position.
fn pick_builtin<'e>(
    strategy: &RoutingStrategy,
    n: usize,
    at: impl Fn(usize) -> &'e Arc<Entry>,
    weights: impl FnOnce() -> WeightKind,
    stream: bool,
    minute: u64,
    rng: &Rng,
) -> usize {
    if n <= 1 {
        return 0;
    }
    match strategy {
        RoutingStrategy::SimpleShuffle => {
            let kind = weights();
            let weight = |k: usize| {
                let w = kind.weight(at(k));
                if w.is_finite() { w } else { 0.0 }
            };
            let total: f64 = (0..n).map(weight).sum();
            if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !total.is_finite() {
                return rng.below(n);
            }
            let mut x = rng.unit() * total;
            for k in 0..n {
                let w = weight(k);
                if x < w {
                    return k;
                }
                x -= w;
            }
            n - 1
        }
        RoutingStrategy::LeastBusy => {
            min_by_key_random(n, rng, |k| at(k).counters.in_flight() as f64)
        }
        RoutingStrategy::UsageBased => {
            min_by_key_random(n, rng, |k| at(k).counters.tokens(minute) as f64)
        }
        RoutingStrategy::CostBased => {
            min_by_key_random(n, rng, |k| at(k).unit_cost().unwrap_or(f64::INFINITY))
        }
        RoutingStrategy::LatencyBased { buffer } => {
            let lat = |k: usize| -> Option<Duration> {
                let c = &at(k).counters;
                if stream {
                    c.ttft().or_else(|| c.latency())
                } else {
                    c.latency()
                }
            };
            // Deployments never measured go first, so every one gets a sample.
            let unknown: Vec<usize> = (0..n).filter(|&k| lat(k).is_none()).collect();
            if !unknown.is_empty() {
                return unknown[rng.below(unknown.len())];
            }
            let best = (0..n)
                .filter_map(lat)
                .min()
                .unwrap_or_default()
                .as_secs_f64();
            let limit = best * (1.0 + buffer.max(0.0));
            let near: Vec<usize> = (0..n)
                .filter(|&k| lat(k).is_some_and(|l| l.as_secs_f64() <= limit))
                .collect();
            if near.is_empty() {
                0
            } else {
                near[rng.below(near.len())]
            }
        }
        // Not a built-in: the router asks it through `pick`.
        RoutingStrategy::Custom(_) => 0,
    }
}

/// The position (below `n`) with the smallest key; ties broken at random.
fn min_by_key_random(n: usize, rng: &Rng, key: impl Fn(usize) -> f64) -> usize {
    let best = (0..n).map(&key).fold(f64::INFINITY, f64::min);
    let ties: Vec<usize> = (0..n)
        .filter(|&k| {
            let v = key(k);
            v == best || (best.is_infinite() && v.is_infinite())
        })
        .collect();
    if ties.is_empty() {
        rng.below(n)
    } else {
        ties[rng.below(ties.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::deployment::Deployment;
    use std::sync::Arc;

    fn group(ds: Vec<Deployment>) -> Vec<Arc<Entry>> {
        ds.into_iter()
            .enumerate()
            .map(|(i, d)| Arc::new(Entry::new(d, i.to_string(), Default::default())))
            .collect()
    }

    fn pick_in(
        strategy: &RoutingStrategy,
        g: &[Arc<Entry>],
        available: &[usize],
        stream: bool,
        minute: u64,
        rng: &Rng,
    ) -> usize {
        let cx = PickContext::new("m", g, stream, None, &[], minute, rng);
        pick(strategy, &cx, available)
    }

    fn histogram(strategy: &RoutingStrategy, g: &[Arc<Entry>], n: usize) -> Vec<usize> {
        let rng = Rng::new(Some(1));
        let all: Vec<usize> = (0..g.len()).collect();
        let mut h = vec![0; g.len()];
        for _ in 0..n {
            h[pick_in(strategy, g, &all, false, 0, &rng)] += 1;
        }
        h
    }

    #[test]
    fn weights_then_rpm_then_tpm_then_uniform() {
        let g = group(vec![
            Deployment::new("m", "a/1").weight(1.0),
            Deployment::new("m", "a/2").weight(3.0),
            Deployment::new("m", "a/3").rpm(1000),
        ]);
        let h = histogram(&RoutingStrategy::SimpleShuffle, &g, 40_000);
        // weight 1 : 3 : 0 (the rpm-only deployment has no weight when weights are in use)
        assert_eq!(h[2], 0);
        let share = h[1] as f64 / 40_000.0;
        assert!((share - 0.75).abs() < 0.02, "{h:?}");

        let g = group(vec![
            Deployment::new("m", "a/1").rpm(100),
            Deployment::new("m", "a/2").rpm(300),
        ]);
        let h = histogram(&RoutingStrategy::SimpleShuffle, &g, 40_000);
        assert!((h[1] as f64 / 40_000.0 - 0.75).abs() < 0.02, "{h:?}");

        let g = group(vec![
            Deployment::new("m", "a/1"),
            Deployment::new("m", "a/2"),
        ]);
        let h = histogram(&RoutingStrategy::SimpleShuffle, &g, 40_000);
        assert!((h[0] as f64 / 40_000.0 - 0.5).abs() < 0.02, "{h:?}");
    }

    #[test]
    fn seeded_picks_repeat() {
        let g = group(vec![
            Deployment::new("m", "a/1"),
            Deployment::new("m", "a/2"),
            Deployment::new("m", "a/3"),
        ]);
        let run = || {
            let rng = Rng::new(Some(42));
            (0..50)
                .map(|_| {
                    pick_in(
                        &RoutingStrategy::SimpleShuffle,
                        &g,
                        &[0, 1, 2],
                        false,
                        0,
                        &rng,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn least_busy_usage_cost_latency() {
        let g = group(vec![
            Deployment::new("m", "a/1").cost_per_token(2e-6, 8e-6),
            Deployment::new("m", "a/2").cost_per_token(1e-6, 1e-6),
            Deployment::new("m", "a/3"),
        ]);
        let rng = Rng::new(Some(3));
        g[0].counters.start(0);
        g[1].counters.start(0);
        assert_eq!(
            pick_in(&RoutingStrategy::LeastBusy, &g, &[0, 1, 2], false, 0, &rng),
            2
        );
        g[2].counters
            .success(0, 500, Duration::from_millis(300), None);
        g[0].counters.success(
            0,
            100,
            Duration::from_millis(100),
            Some(Duration::from_millis(90)),
        );
        g[1].counters.success(
            0,
            50,
            Duration::from_millis(105),
            Some(Duration::from_millis(20)),
        );
        assert_eq!(
            pick_in(&RoutingStrategy::UsageBased, &g, &[0, 1, 2], false, 0, &rng),
            1
        );
        assert_eq!(
            pick_in(&RoutingStrategy::CostBased, &g, &[0, 1, 2], false, 0, &rng),
            1
        );
        let lat = RoutingStrategy::LatencyBased { buffer: 0.0 };
        assert_eq!(pick_in(&lat, &g, &[0, 1, 2], false, 0, &rng), 0);
        // streams use time to first token
        assert_eq!(pick_in(&lat, &g, &[0, 1, 2], true, 0, &rng), 1);
        // with a 10 % buffer the two near-equal ones share the load
        let buffered = RoutingStrategy::LatencyBased { buffer: 0.1 };
        let mut seen = [0; 3];
        for _ in 0..200 {
            seen[pick_in(&buffered, &g, &[0, 1, 2], false, 0, &rng)] += 1;
        }
        assert!(seen[0] > 50 && seen[1] > 50 && seen[2] == 0, "{seen:?}");
        // an unmeasured deployment goes first
        let fresh = group(vec![
            Deployment::new("m", "a/1"),
            Deployment::new("m", "a/2"),
        ]);
        fresh[0]
            .counters
            .success(0, 1, Duration::from_millis(1), None);
        assert_eq!(pick_in(&lat, &fresh, &[0, 1], false, 0, &rng), 1);
    }

    #[derive(Debug)]
    struct Fixed(usize);

    impl Strategy for Fixed {
        fn pick(&self, _: &[Candidate<'_>], _: &PickContext<'_>) -> usize {
            self.0
        }
    }

    #[test]
    fn custom_strategies_pick_by_position_and_never_out_of_range() {
        let g = group(vec![
            Deployment::new("m", "a/1"),
            Deployment::new("m", "a/2"),
            Deployment::new("m", "a/3"),
        ]);
        let rng = Rng::new(Some(1));
        let second = RoutingStrategy::custom(Fixed(1));
        assert_eq!(pick_in(&second, &g, &[0, 2], false, 0, &rng), 2);
        for wild in [3, 99, usize::MAX] {
            let s = RoutingStrategy::custom(Fixed(wild));
            assert_eq!(
                pick_in(&s, &g, &[2, 1], false, 0, &rng),
                2,
                "first candidate"
            );
        }
        // Equality of custom strategies is identity.
        let a = RoutingStrategy::custom(Fixed(0));
        assert_eq!(a, a.clone());
        assert_ne!(a, RoutingStrategy::custom(Fixed(0)));
        assert_ne!(a, RoutingStrategy::SimpleShuffle);
        assert_eq!(a.name(), "custom");
    }

    #[test]
    fn builtins_through_the_trait_match_the_router_pick() {
        let g = group(vec![
            Deployment::new("m", "a/1"),
            Deployment::new("m", "a/2"),
            Deployment::new("m", "a/3"),
        ]);
        g[0].counters.start(0);
        g[2].counters.start(0);
        let rng = Rng::new(Some(9));
        let cx = PickContext::new("m", &g, false, None, &[], 0, &rng);
        let candidates: Vec<Candidate<'_>> = g
            .iter()
            .map(|entry| Candidate {
                entry,
                minute: 0,
                tried: false,
            })
            .collect();
        assert_eq!(
            Strategy::pick(&RoutingStrategy::LeastBusy, &candidates, &cx),
            1
        );
        assert_eq!(candidates[0].in_flight(), 1);
        assert_eq!(candidates[0].requests_this_minute(), 1);
        assert_eq!(candidates[1].id(), "1");
    }
}
