//! Prometheus metrics: counters, gauges and histograms per model group, deployment and
//! provider, rendered in the Prometheus text exposition format (0.0.4) by one call.
//!
//! The pipeline calls [`Metrics::record`] with each finished [`CallEvent`]; the router sets the
//! cooldown and in-flight gauges (or registers a collector with [`Metrics::on_render`] that sets
//! them from its live state just before each render); budgets set
//! [`Metrics::set_remaining_budget`]. Serve [`Metrics::render`] from any HTTP server with
//! [`CONTENT_TYPE`].
//!
//! On the hot path, `record` does one lock-free map load (the map of label sets is copied on
//! write, and a label set is added only the first time it is seen), one hash of the three
//! labels and a handful of relaxed atomic adds; no lock, no allocation.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `litellm_requests_total` | counter | `model_group`, `deployment`, `provider`, `status` | calls finished, `status` = `success` or `failure` |
//! | `litellm_request_failures_total` | counter | `model_group`, `deployment`, `provider`, `error_kind` | failed calls by [`ErrorKind`] (`rate_limit`, `timeout`, …) |
//! | `litellm_request_latency_seconds` | histogram | `model_group`, `deployment`, `provider` | latency of successful calls ([`LATENCY_BUCKETS`]) |
//! | `litellm_time_to_first_token_seconds` | histogram | `model_group`, `deployment`, `provider` | time to the first chunk of successful streams ([`TTFT_BUCKETS`]) |
//! | `litellm_input_tokens_total` | counter | `model_group`, `deployment`, `provider` | prompt tokens |
//! | `litellm_output_tokens_total` | counter | `model_group`, `deployment`, `provider` | completion tokens |
//! | `litellm_spend_usd_total` | counter | `model_group`, `deployment`, `provider` | cost in USD |
//! | `litellm_cache_hits_total` | counter | `model_group`, `deployment`, `provider` | calls answered from the cache |
//! | `litellm_cache_misses_total` | counter | `model_group`, `deployment`, `provider` | calls that looked up the cache and missed |
//! | `litellm_deployment_cooldown` | gauge | `model_group`, `deployment`, `provider` | 1 while the deployment cools down, else 0 |
//! | `litellm_in_flight_requests` | gauge | `model_group`, `deployment`, `provider` | calls in flight |
//! | `litellm_remaining_budget_usd` | gauge | `budget` | budget left, per budget name |
//!
//! Histogram series are written once they have an observation. Labels of an event: `model_group` is the router group that answered, or the model string
//! asked for when no router was involved; `deployment` and `provider` are empty when unknown
//! (an empty label is the same as no label to Prometheus).
//!
//! ```
//! use litellm::Metadata;
//! use litellm::observe::metrics::{Labels, Metrics};
//! use litellm::observe::{CallEvent, CallType};
//!
//! let metrics = Metrics::new();
//! let mut event = CallEvent::new(CallType::Chat, "gpt-4o", Metadata::new());
//! event.latency = Some(std::time::Duration::from_millis(420));
//! metrics.record(&event);
//! metrics.set_cooldown(Labels::new("gpt-4o", "east", "openai"), true);
//! metrics.set_remaining_budget("team-a", 12.5);
//!
//! let text = metrics.render();
//! assert!(text.contains(r#"litellm_requests_total{model_group="gpt-4o",deployment="",provider="",status="success"} 1"#));
//! assert!(text.contains(r#"litellm_remaining_budget_usd{budget="team-a"} 12.5"#));
//! ```

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use super::event::CallEvent;
use crate::error::ErrorKind;

/// The `Content-Type` to serve [`Metrics::render`] with.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the latency histogram's buckets, plus `+Inf`.
pub const LATENCY_BUCKETS: [f64; 17] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
];

/// Upper bounds (seconds) of the time-to-first-token histogram's buckets, plus `+Inf`.
pub const TTFT_BUCKETS: [f64; 16] = [
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0,
];

/// The labels of one series: model group, deployment id, provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Labels<'a> {
    /// Router model group (or the model asked for, without a router).
    pub model_group: &'a str,
    /// Deployment id (empty when unknown).
    pub deployment: &'a str,
    /// Provider prefix (empty when unknown).
    pub provider: &'a str,
}

impl<'a> Labels<'a> {
    /// Labels from their values.
    pub fn new(model_group: &'a str, deployment: &'a str, provider: &'a str) -> Labels<'a> {
        Labels {
            model_group,
            deployment,
            provider,
        }
    }

    /// The labels of an event (see the [module docs](self)).
    pub fn of(event: &'a CallEvent) -> Labels<'a> {
        Labels {
            model_group: event.model_group.as_deref().unwrap_or(&event.model),
            deployment: event.deployment_id.as_deref().unwrap_or(""),
            provider: event.provider.as_deref().unwrap_or(""),
        }
    }
}

// ---- label-set map: owned keys, looked up by borrowed labels without allocating ----

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    model_group: Box<str>,
    deployment: Box<str>,
    provider: Box<str>,
}

trait AsKey {
    fn parts(&self) -> (&str, &str, &str);
}

impl AsKey for Key {
    fn parts(&self) -> (&str, &str, &str) {
        (&self.model_group, &self.deployment, &self.provider)
    }
}

impl AsKey for Labels<'_> {
    fn parts(&self) -> (&str, &str, &str) {
        (self.model_group, self.deployment, self.provider)
    }
}

impl<'a> Borrow<dyn AsKey + 'a> for Key {
    fn borrow(&self) -> &(dyn AsKey + 'a) {
        self
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.parts().hash(h)
    }
}

impl Hash for dyn AsKey + '_ {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.parts().hash(h)
    }
}

impl PartialEq for dyn AsKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn AsKey + '_ {}

// ---- atomics ----

/// An `f64` that can be added to atomically.
#[derive(Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn add(&self, v: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

struct Histogram {
    bounds: &'static [f64],
    /// One per bound, plus the overflow (`+Inf`) bucket; not cumulative.
    counts: Box<[AtomicU64]>,
    sum: AtomicF64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::default(),
        }
    }

    fn observe(&self, v: f64) {
        if !v.is_finite() || v < 0.0 {
            return;
        }
        // `le` buckets: the first bound >= v.
        let i = self.bounds.partition_point(|b| *b < v);
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.add(v);
    }
}

/// Every metric of one label set.
struct Series {
    ok: AtomicU64,
    failed: AtomicU64,
    by_kind: [AtomicU64; ErrorKind::ALL.len()],
    latency: Histogram,
    ttft: Histogram,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    spend: AtomicF64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    cooldown: AtomicI64,
    in_flight: AtomicI64,
}

impl Series {
    fn new() -> Series {
        Series {
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            by_kind: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: Histogram::new(&LATENCY_BUCKETS),
            ttft: Histogram::new(&TTFT_BUCKETS),
            input_tokens: AtomicU64::new(0),
            output_tokens: AtomicU64::new(0),
            spend: AtomicF64::default(),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            cooldown: AtomicI64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }
}

fn kind_index(kind: ErrorKind) -> usize {
    ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// What [`Metrics::record`] does to the event's series.
fn record_into(s: &Series, event: &CallEvent) {
    match &event.error {
        None => {
            s.ok.fetch_add(1, Ordering::Relaxed);
            if let Some(l) = event.latency {
                s.latency.observe(l.as_secs_f64());
            }
            if let Some(t) = event.time_to_first_token {
                s.ttft.observe(t.as_secs_f64());
            }
        }
        Some(err) => {
            s.failed.fetch_add(1, Ordering::Relaxed);
            s.by_kind[kind_index(err.kind)].fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Some(u) = &event.usage {
        crate::saturating::add(&s.input_tokens, u.prompt_tokens);
        crate::saturating::add(&s.output_tokens, u.completion_tokens);
    }
    if let Some(c) = event.cost.filter(|c| c.is_finite() && *c > 0.0) {
        s.spend.add(c);
    }
    if event.cache_hit {
        s.cache_hits.fetch_add(1, Ordering::Relaxed);
    } else if event.cache_checked {
        s.cache_misses.fetch_add(1, Ordering::Relaxed);
    }
}

type Collector = Arc<dyn Fn(&Metrics) + Send + Sync>;

struct Inner {
    series: ArcSwap<HashMap<Key, Arc<Series>>>,
    insert: Mutex<()>,
    budgets: Mutex<BTreeMap<String, f64>>,
    collectors: Mutex<Vec<Collector>>,
}

/// The metrics registry. Cheap to clone (clones share the counters). See the
/// [module docs](self) for every metric.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("label_sets", &self.inner.series.load().len())
            .finish_non_exhaustive()
    }
}

/// Keeps one call counted in `litellm_in_flight_requests` until dropped
/// ([`Metrics::track_in_flight`]).
#[must_use = "the call counts as in flight only while the guard lives"]
pub struct InFlightGuard {
    series: Arc<Series>,
}

impl fmt::Debug for InFlightGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InFlightGuard")
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.series.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics {
            inner: Arc::new(Inner {
                series: ArcSwap::from_pointee(HashMap::new()),
                insert: Mutex::new(()),
                budgets: Mutex::new(BTreeMap::new()),
                collectors: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Runs `f` on the series of a label set, created on first use. The common case (the label
    /// set exists) is one lock-free load and one lookup, with no reference count touched.
    fn with_series<R>(&self, labels: Labels<'_>, f: impl FnOnce(&Series) -> R) -> R {
        if let Some(s) = self.inner.series.load().get(&labels as &dyn AsKey) {
            return f(s);
        }
        f(&self.series(labels))
    }

    /// The series of a label set, created on first use.
    fn series(&self, labels: Labels<'_>) -> Arc<Series> {
        if let Some(s) = self.inner.series.load().get(&labels as &dyn AsKey) {
            return s.clone();
        }
        let _lock = self
            .inner
            .insert
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.inner.series.load_full();
        if let Some(s) = current.get(&labels as &dyn AsKey) {
            return s.clone();
        }
        let series = Arc::new(Series::new());
        let mut next = HashMap::clone(&current);
        next.insert(
            Key {
                model_group: labels.model_group.into(),
                deployment: labels.deployment.into(),
                provider: labels.provider.into(),
            },
            series.clone(),
        );
        self.inner.series.store(Arc::new(next));
        series
    }

    /// Counts a finished call: status and error kind, latency and time to first token (of
    /// successes), tokens, spend, cache hit or miss. What the pipeline calls once per call.
    pub fn record(&self, event: &CallEvent) {
        self.with_series(Labels::of(event), |s| record_into(s, event));
    }

    /// Sets `litellm_deployment_cooldown` of a deployment (1 while `cooling`).
    pub fn set_cooldown(&self, labels: Labels<'_>, cooling: bool) {
        self.with_series(labels, |s| {
            s.cooldown.store(i64::from(cooling), Ordering::Relaxed)
        });
    }

    /// Sets `litellm_in_flight_requests` of a label set.
    pub fn set_in_flight(&self, labels: Labels<'_>, n: i64) {
        self.with_series(labels, |s| s.in_flight.store(n, Ordering::Relaxed));
    }

    /// Counts one call in flight on `labels` until the guard is dropped.
    pub fn track_in_flight(&self, labels: Labels<'_>) -> InFlightGuard {
        let series = self.series(labels);
        series.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlightGuard { series }
    }

    /// Sets `litellm_remaining_budget_usd{budget="name"}`.
    pub fn set_remaining_budget(&self, budget: &str, usd: f64) {
        self.inner
            .budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(budget.to_owned(), usd);
    }

    /// Removes a budget's gauge.
    pub fn remove_remaining_budget(&self, budget: &str) {
        self.inner
            .budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(budget);
    }

    /// Registers a function called at the start of every [`render`](Metrics::render), to set
    /// gauges from live state (a router's cooldowns and in-flight counts, budgets left). A
    /// collector that panics is skipped for that render. Capture a `Weak` reference to whatever
    /// holds this registry, or the two keep each other alive.
    pub fn on_render(&self, collector: impl Fn(&Metrics) + Send + Sync + 'static) {
        self.inner
            .collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(collector));
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4), series sorted by
    /// labels. Serve it with [`CONTENT_TYPE`].
    pub fn render(&self) -> String {
        let collectors = self
            .inner
            .collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for c in collectors {
            if std::panic::catch_unwind(AssertUnwindSafe(|| c(self))).is_err() {
                tracing::warn!(target: "litellm", "a metrics collector panicked");
            }
        }
        let map = self.inner.series.load_full();
        let mut series: Vec<(&Key, &Arc<Series>)> = map.iter().collect();
        series.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::with_capacity(4096 + series.len() * 4096);
        self.write(&mut out, &series);
        out
    }

    fn write(&self, out: &mut String, series: &[(&Key, &Arc<Series>)]) {
        type Get = fn(&Series) -> u64;
        let counters: [(&str, &str, Get); 4] = [
            ("litellm_input_tokens_total", "Prompt tokens used.", |s| {
                s.input_tokens.load(Ordering::Relaxed)
            }),
            (
                "litellm_output_tokens_total",
                "Completion tokens used.",
                |s| s.output_tokens.load(Ordering::Relaxed),
            ),
            (
                "litellm_cache_hits_total",
                "Calls answered from the response cache.",
                |s| s.cache_hits.load(Ordering::Relaxed),
            ),
            (
                "litellm_cache_misses_total",
                "Calls that looked up the response cache and missed.",
                |s| s.cache_misses.load(Ordering::Relaxed),
            ),
        ];

        header(
            out,
            "litellm_requests_total",
            "Calls finished, by status (success or failure).",
            "counter",
        );
        for (k, s) in series {
            for (status, v) in [("success", &s.ok), ("failure", &s.failed)] {
                sample(
                    out,
                    "litellm_requests_total",
                    k,
                    Some(("status", status)),
                    v.load(Ordering::Relaxed),
                );
            }
        }

        header(
            out,
            "litellm_request_failures_total",
            "Failed calls, by error kind.",
            "counter",
        );
        for (k, s) in series {
            for (kind, v) in ErrorKind::ALL.iter().zip(&s.by_kind) {
                let v = v.load(Ordering::Relaxed);
                if v > 0 {
                    sample(
                        out,
                        "litellm_request_failures_total",
                        k,
                        Some(("error_kind", kind.as_str())),
                        v,
                    );
                }
            }
        }

        histogram(
            out,
            "litellm_request_latency_seconds",
            "Latency of successful calls, in seconds (streams: to the end of the stream).",
            series,
            |s| &s.latency,
        );
        histogram(
            out,
            "litellm_time_to_first_token_seconds",
            "Time to the first chunk of successful streams, in seconds.",
            series,
            |s| &s.ttft,
        );

        for (name, help, get) in counters {
            header(out, name, help, "counter");
            for (k, s) in series {
                sample(out, name, k, None, get(s));
            }
        }

        header(
            out,
            "litellm_spend_usd_total",
            "Cost of calls, in US dollars.",
            "counter",
        );
        for (k, s) in series {
            sample(out, "litellm_spend_usd_total", k, None, Num(s.spend.get()));
        }

        header(
            out,
            "litellm_deployment_cooldown",
            "1 while the deployment is cooling down, else 0.",
            "gauge",
        );
        for (k, s) in series {
            sample(
                out,
                "litellm_deployment_cooldown",
                k,
                None,
                s.cooldown.load(Ordering::Relaxed),
            );
        }

        header(
            out,
            "litellm_in_flight_requests",
            "Calls in flight.",
            "gauge",
        );
        for (k, s) in series {
            sample(
                out,
                "litellm_in_flight_requests",
                k,
                None,
                s.in_flight.load(Ordering::Relaxed),
            );
        }

        header(
            out,
            "litellm_remaining_budget_usd",
            "Budget left, in US dollars, per budget name.",
            "gauge",
        );
        let budgets = self
            .inner
            .budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (name, usd) in budgets {
            let _ = write!(out, "litellm_remaining_budget_usd{{budget=\"");
            escape_label(out, &name);
            let _ = writeln!(out, "\"}} {}", Num(usd));
        }
    }
}

/// A float in exposition syntax.
struct Num(f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str("NaN")
        } else if v == f64::INFINITY {
            f.write_str("+Inf")
        } else if v == f64::NEG_INFINITY {
            f.write_str("-Inf")
        } else {
            write!(f, "{v}")
        }
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = write!(out, "# HELP {name} ");
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    let _ = writeln!(out, "\n# TYPE {name} {kind}");
}

fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn labels(out: &mut String, k: &Key, extra: Option<(&str, &str)>) {
    out.push_str("{model_group=\"");
    escape_label(out, &k.model_group);
    out.push_str("\",deployment=\"");
    escape_label(out, &k.deployment);
    out.push_str("\",provider=\"");
    escape_label(out, &k.provider);
    out.push('"');
    if let Some((name, value)) = extra {
        let _ = write!(out, ",{name}=\"");
        escape_label(out, value);
        out.push('"');
    }
    out.push('}');
}

fn sample(
    out: &mut String,
    name: &str,
    k: &Key,
    extra: Option<(&str, &str)>,
    value: impl fmt::Display,
) {
    out.push_str(name);
    labels(out, k, extra);
    let _ = writeln!(out, " {value}");
}

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    series: &[(&Key, &Arc<Series>)],
    get: fn(&Series) -> &Histogram,
) {
    header(out, name, help, "histogram");
    let bucket = format!("{name}_bucket");
    let (sum_name, count_name) = (format!("{name}_sum"), format!("{name}_count"));
    let mut les: Vec<String> = Vec::new();
    for (k, s) in series {
        let h = get(s);
        // A label set with no observation (a deployment that only failed, a non-stream's time
        // to first token) is left out rather than written as a wall of zeros.
        if h.counts.iter().all(|c| c.load(Ordering::Relaxed) == 0) {
            continue;
        }
        if les.is_empty() {
            les = h.bounds.iter().map(|b| Num(*b).to_string()).collect();
            les.push("+Inf".to_owned());
        }
        let mut cumulative = 0u64;
        for (c, le) in h.counts.iter().zip(&les) {
            cumulative += c.load(Ordering::Relaxed);
            sample(out, &bucket, k, Some(("le", le)), cumulative);
        }
        // `_count` is the `+Inf` bucket as read above, so the two always agree.
        sample(out, &sum_name, k, None, Num(h.sum.get()));
        sample(out, &count_name, k, None, cumulative);
    }
}

#[cfg(test)]
#[path = "../../tests/support/prometheus.rs"]
mod prometheus_check;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use crate::Usage;
    use crate::observe::{CallType, EventError};
    use std::time::Duration;

    use super::prometheus_check::{parse, value};

    // ---- tests ----

    fn ev(group: &str, dep: &str) -> CallEvent {
        let mut e = CallEvent::new(CallType::Chat, "asked", Metadata::new());
        e.model_group = Some(group.into());
        e.deployment_id = Some(dep.into());
        e.provider = Some("openai".into());
        e
    }

    fn fail(mut e: CallEvent, kind: ErrorKind) -> CallEvent {
        e.error = Some(EventError {
            kind,
            message: "x".into(),
            status: None,
        });
        e
    }

    #[test]
    fn renders_valid_exposition_with_right_values() {
        let m = Metrics::new();
        let weird = "we\"ird\\group\nnew-line é";
        for (lat, ttft) in [
            (0.004, None),
            (0.3, Some(0.15)),
            (2.0, Some(0.9)),
            (700.0, None),
        ] {
            let mut e = ev(weird, "d1");
            e.latency = Some(Duration::from_secs_f64(lat));
            e.time_to_first_token = ttft.map(Duration::from_secs_f64);
            e.usage = Some(Usage::new(10, 5));
            e.cost = Some(0.25);
            e.cache_checked = true;
            m.record(&e);
        }
        let mut hit = ev(weird, "d1");
        hit.cache_hit = true;
        hit.cache_checked = true;
        hit.cost = Some(0.0);
        m.record(&hit);
        m.record(&fail(ev("g2", "d2"), ErrorKind::RateLimit));
        m.record(&fail(ev("g2", "d2"), ErrorKind::RateLimit));
        m.record(&fail(ev("g2", "d2"), ErrorKind::Timeout));
        // No router: the model asked for is the group; no deployment.
        m.record(&CallEvent::new(
            CallType::Embedding,
            "text-embedding-3-small",
            Metadata::new(),
        ));
        m.set_cooldown(Labels::new("g2", "d2", "openai"), true);
        m.set_in_flight(Labels::new("g3", "d3", "anthropic"), 4);
        m.set_remaining_budget("team \"a\"", 7.5);
        m.set_remaining_budget("gone", 1.0);
        m.remove_remaining_budget("gone");

        let text = m.render();
        let fams = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let names: Vec<&str> = fams.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "litellm_requests_total",
                "litellm_request_failures_total",
                "litellm_request_latency_seconds",
                "litellm_time_to_first_token_seconds",
                "litellm_input_tokens_total",
                "litellm_output_tokens_total",
                "litellm_cache_hits_total",
                "litellm_cache_misses_total",
                "litellm_spend_usd_total",
                "litellm_deployment_cooldown",
                "litellm_in_flight_requests",
                "litellm_remaining_budget_usd",
            ]
        );
        let w = [
            ("model_group", weird),
            ("deployment", "d1"),
            ("provider", "openai"),
        ];
        let with = |extra: (&'static str, &'static str)| {
            let mut v = w.to_vec();
            v.push(extra);
            v
        };
        assert_eq!(
            value(
                &fams,
                "litellm_requests_total",
                &with(("status", "success"))
            ),
            Some(5.0)
        );
        assert_eq!(
            value(
                &fams,
                "litellm_requests_total",
                &with(("status", "failure"))
            ),
            Some(0.0)
        );
        assert_eq!(value(&fams, "litellm_input_tokens_total", &w), Some(40.0));
        assert_eq!(value(&fams, "litellm_output_tokens_total", &w), Some(20.0));
        assert_eq!(value(&fams, "litellm_spend_usd_total", &w), Some(1.0));
        assert_eq!(value(&fams, "litellm_cache_hits_total", &w), Some(1.0));
        assert_eq!(value(&fams, "litellm_cache_misses_total", &w), Some(4.0));
        let lat = "litellm_request_latency_seconds";
        assert_eq!(
            value(&fams, &format!("{lat}_bucket"), &with(("le", "0.005"))),
            Some(1.0)
        );
        assert_eq!(
            value(&fams, &format!("{lat}_bucket"), &with(("le", "0.25"))),
            Some(1.0)
        );
        assert_eq!(
            value(&fams, &format!("{lat}_bucket"), &with(("le", "0.5"))),
            Some(2.0)
        );
        assert_eq!(
            value(&fams, &format!("{lat}_bucket"), &with(("le", "600"))),
            Some(3.0)
        );
        assert_eq!(
            value(&fams, &format!("{lat}_bucket"), &with(("le", "+Inf"))),
            Some(4.0)
        );
        // The cache hit had no latency: 4 observations.
        assert_eq!(value(&fams, &format!("{lat}_count"), &w), Some(4.0));
        let sum = value(&fams, &format!("{lat}_sum"), &w).unwrap();
        assert!((sum - 702.304).abs() < 1e-9, "{sum}");
        let ttft = "litellm_time_to_first_token_seconds";
        assert_eq!(value(&fams, &format!("{ttft}_count"), &w), Some(2.0));
        assert_eq!(
            value(&fams, &format!("{ttft}_bucket"), &with(("le", "0.2"))),
            Some(1.0)
        );

        let g2 = [("model_group", "g2"), ("deployment", "d2")];
        let f = "litellm_request_failures_total";
        assert_eq!(
            value(&fams, f, &[g2[0], g2[1], ("error_kind", "rate_limit")]),
            Some(2.0)
        );
        assert_eq!(
            value(&fams, f, &[g2[0], g2[1], ("error_kind", "timeout")]),
            Some(1.0)
        );
        assert_eq!(
            value(&fams, f, &[g2[0], g2[1], ("error_kind", "bad_request")]),
            None
        );
        assert_eq!(
            value(
                &fams,
                "litellm_requests_total",
                &[g2[0], ("status", "failure")]
            ),
            Some(3.0)
        );
        // Failed calls have no latency observations, and empty histograms are left out.
        assert_eq!(value(&fams, &format!("{lat}_count"), &g2), None);
        assert_eq!(value(&fams, "litellm_deployment_cooldown", &g2), Some(1.0));
        assert_eq!(
            value(
                &fams,
                "litellm_in_flight_requests",
                &[("model_group", "g3")]
            ),
            Some(4.0)
        );
        assert_eq!(
            value(
                &fams,
                "litellm_requests_total",
                &[
                    ("model_group", "text-embedding-3-small"),
                    ("deployment", ""),
                    ("provider", "")
                ]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &fams,
                "litellm_remaining_budget_usd",
                &[("budget", "team \"a\"")]
            ),
            Some(7.5)
        );
        assert_eq!(
            value(&fams, "litellm_remaining_budget_usd", &[("budget", "gone")]),
            None
        );
        // The escaped label is written as the format wants it.
        assert!(
            text.contains(r#"model_group="we\"ird\\group\nnew-line é""#),
            "{text}"
        );
    }

    #[test]
    fn empty_registry_renders_valid_text() {
        let text = Metrics::new().render();
        let fams = parse(&text).unwrap();
        assert_eq!(fams.len(), 12);
        assert!(fams.iter().all(|f| f.samples.is_empty()));
    }

    #[test]
    fn the_parser_rejects_what_it_should() {
        let ok = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\"} 1\n";
        assert!(parse(ok).is_ok());
        for bad in [
            "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\"} 1",
            "# TYPE a_total counter\na_total 1\n",
            "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"a\nb\"} 1\n",
            "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"a\\tb\"} 1\n",
            "# HELP a_total x\n# TYPE a_total counter\na_total{1l=\"v\"} 1\n",
            "# HELP a_total x\n# TYPE a_total counter\na_total -1\n",
            "# HELP a_total x\n# TYPE a_total counter\nb_total 1\n",
            "# HELP a_total x\n# TYPE a_total counter\na_total 1\na_total 2\n",
            "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn concurrent_records_lose_nothing() {
        let m = Metrics::new();
        std::thread::scope(|s| {
            for t in 0..8 {
                let m = &m;
                s.spawn(move || {
                    for i in 0..5_000 {
                        // Four label sets, created concurrently on first use.
                        let mut e = ev("g", &format!("d{}", (t + i) % 4));
                        e.latency = Some(Duration::from_millis(10));
                        e.usage = Some(Usage::new(1, 2));
                        e.cost = Some(0.5);
                        m.record(&e);
                    }
                });
            }
        });
        let fams = parse(&m.render()).unwrap();
        let total: f64 = fams[0]
            .samples
            .iter()
            .filter(|s| {
                s.labels
                    .iter()
                    .any(|l| l == &("status".into(), "success".into()))
            })
            .map(|s| s.value)
            .sum();
        assert_eq!(total, 40_000.0);
        let spend: f64 = fams
            .iter()
            .find(|f| f.name == "litellm_spend_usd_total")
            .unwrap()
            .samples
            .iter()
            .map(|s| s.value)
            .sum();
        assert_eq!(spend, 20_000.0);
        assert_eq!(m.inner.series.load().len(), 4);
    }

    #[test]
    fn collectors_and_in_flight_guards_set_gauges() {
        let m = Metrics::new();
        let cooling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = cooling.clone();
        m.on_render(move |m| {
            m.set_cooldown(Labels::new("g", "d", "p"), flag.load(Ordering::Relaxed));
        });
        m.on_render(|_| panic!("a broken collector"));
        let l = Labels::new("g", "d", "p");
        let g1 = m.track_in_flight(l);
        let g2 = m.track_in_flight(l);
        let fams = parse(&m.render()).unwrap();
        assert_eq!(
            value(&fams, "litellm_deployment_cooldown", &[("deployment", "d")]),
            Some(1.0)
        );
        assert_eq!(
            value(&fams, "litellm_in_flight_requests", &[("deployment", "d")]),
            Some(2.0)
        );
        drop(g1);
        cooling.store(false, Ordering::Relaxed);
        let fams = parse(&m.render()).unwrap();
        assert_eq!(
            value(&fams, "litellm_deployment_cooldown", &[("deployment", "d")]),
            Some(0.0)
        );
        assert_eq!(
            value(&fams, "litellm_in_flight_requests", &[("deployment", "d")]),
            Some(1.0)
        );
        drop(g2);
        assert!(format!("{m:?}").contains("label_sets: 1"));
    }

    #[test]
    fn odd_values_keep_the_output_valid() {
        let m = Metrics::new();
        let mut e = ev("g", "d");
        e.cost = Some(f64::NAN);
        e.latency = Some(Duration::MAX);
        m.record(&e);
        e.cost = Some(-3.0);
        e.usage = Some(Usage::new(u64::MAX, 0));
        m.record(&e);
        m.set_remaining_budget("b", f64::NEG_INFINITY);
        let text = m.render();
        let fams = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            value(&fams, "litellm_spend_usd_total", &[("deployment", "d")]),
            Some(0.0)
        );
        assert_eq!(
            value(&fams, "litellm_remaining_budget_usd", &[("budget", "b")]),
            Some(f64::NEG_INFINITY)
        );
    }
}
