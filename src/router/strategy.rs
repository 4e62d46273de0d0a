//! Routing strategies: which available deployment of a group takes the next call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::deployment::Entry;
use crate::error::{Error, Result};

/// How the router picks among the available deployments of a group (`routing_strategy`).
#[derive(Clone, Debug, Default, PartialEq)]
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
}

impl RoutingStrategy {
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
                     latency-based-routing, usage-based-routing or cost-based-routing"
                )));
            }
        })
    }

    /// Python LiteLLM's name.
    pub fn name(&self) -> &'static str {
        match self {
            RoutingStrategy::SimpleShuffle => "simple-shuffle",
            RoutingStrategy::LeastBusy => "least-busy",
            RoutingStrategy::LatencyBased { .. } => "latency-based-routing",
            RoutingStrategy::UsageBased => "usage-based-routing",
            RoutingStrategy::CostBased => "cost-based-routing",
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

/// Picks one of `available` (indices into `group`, never empty).
pub(crate) fn pick(
    strategy: &RoutingStrategy,
    group: &[std::sync::Arc<Entry>],
    available: &[usize],
    stream: bool,
    minute: u64,
    rng: &Rng,
) -> usize {
    debug_assert!(!available.is_empty());
    if available.len() == 1 {
        return available[0];
    }
    match strategy {
        RoutingStrategy::SimpleShuffle => {
            let kind = WeightKind::of(group);
            let weights: Vec<f64> = available.iter().map(|&i| kind.weight(&group[i])).collect();
            let total: f64 = weights.iter().sum();
            if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !total.is_finite() {
                return available[rng.below(available.len())];
            }
            let mut x = rng.unit() * total;
            for (k, w) in weights.iter().enumerate() {
                if x < *w {
                    return available[k];
                }
                x -= w;
            }
            available[available.len() - 1]
        }
        RoutingStrategy::LeastBusy => {
            min_by_key_random(available, rng, |i| group[i].counters.in_flight() as f64)
        }
        RoutingStrategy::UsageBased => {
            min_by_key_random(available, rng, |i| group[i].counters.tokens(minute) as f64)
        }
        RoutingStrategy::CostBased => min_by_key_random(available, rng, |i| {
            group[i].unit_cost().unwrap_or(f64::INFINITY)
        }),
        RoutingStrategy::LatencyBased { buffer } => {
            let lat = |i: usize| -> Option<Duration> {
                let c = &group[i].counters;
                if stream {
                    c.ttft().or_else(|| c.latency())
                } else {
                    c.latency()
                }
            };
            // Deployments never measured go first, so every one gets a sample.
            let unknown: Vec<usize> = available
                .iter()
                .copied()
                .filter(|&i| lat(i).is_none())
                .collect();
            if !unknown.is_empty() {
                return unknown[rng.below(unknown.len())];
            }
            let best = available
                .iter()
                .filter_map(|&i| lat(i))
                .min()
                .unwrap_or_default()
                .as_secs_f64();
            let limit = best * (1.0 + buffer.max(0.0));
            let near: Vec<usize> = available
                .iter()
                .copied()
                .filter(|&i| lat(i).is_some_and(|l| l.as_secs_f64() <= limit))
                .collect();
            if near.is_empty() {
                available[0]
            } else {
                near[rng.below(near.len())]
            }
        }
    }
}

/// The index with the smallest key; ties broken at random.
fn min_by_key_random(available: &[usize], rng: &Rng, key: impl Fn(usize) -> f64) -> usize {
    let best = available
        .iter()
        .map(|&i| key(i))
        .fold(f64::INFINITY, f64::min);
    let ties: Vec<usize> = available
        .iter()
        .copied()
        .filter(|&i| key(i) == best || (best.is_infinite() && key(i).is_infinite()))
        .collect();
    if ties.is_empty() {
        available[rng.below(available.len())]
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

    fn histogram(strategy: &RoutingStrategy, g: &[Arc<Entry>], n: usize) -> Vec<usize> {
        let rng = Rng::new(Some(1));
        let all: Vec<usize> = (0..g.len()).collect();
        let mut h = vec![0; g.len()];
        for _ in 0..n {
            h[pick(strategy, g, &all, false, 0, &rng)] += 1;
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
                    pick(
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
            pick(&RoutingStrategy::LeastBusy, &g, &[0, 1, 2], false, 0, &rng),
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
            pick(&RoutingStrategy::UsageBased, &g, &[0, 1, 2], false, 0, &rng),
            1
        );
        assert_eq!(
            pick(&RoutingStrategy::CostBased, &g, &[0, 1, 2], false, 0, &rng),
            1
        );
        let lat = RoutingStrategy::LatencyBased { buffer: 0.0 };
        assert_eq!(pick(&lat, &g, &[0, 1, 2], false, 0, &rng), 0);
        // streams use time to first token
        assert_eq!(pick(&lat, &g, &[0, 1, 2], true, 0, &rng), 1);
        // with a 10 % buffer the two near-equal ones share the load
        let buffered = RoutingStrategy::LatencyBased { buffer: 0.1 };
        let mut seen = [0; 3];
        for _ in 0..200 {
            seen[pick(&buffered, &g, &[0, 1, 2], false, 0, &rng)] += 1;
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
        assert_eq!(pick(&lat, &fresh, &[0, 1], false, 0, &rng), 1);
    }
}
