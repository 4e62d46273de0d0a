//! The ledger: running totals of requests, tokens and spend per model group, deployment,
//! provider, user, API key and tag; budgets (maximum spend per period) and quotas (rpm/tpm per
//! user or key), checked before a call and charged after.
//!
//! All counters live in a [`StateStore`] (the process's memory by default,
//! [`Ledger::with_store`] to share one store, e.g. with a router), keyed by stable names, so a
//! shared backend can later hold them for many processes. Spend is kept in whole nano-dollars,
//! so sums are exact (a call of $0.0000012 adds exactly 1,200); each budget and quota window has its own small lock, so calls of
//! different users never contend, and a check and its update are one step.
//!
//! **Budgets.** A call is refused with `BudgetExceeded` (and no upstream call) once the spend
//! of a matching budget has reached its limit in the current period; the error's
//! `retry_after` is the time to the next period. Spend is charged when a call ends, so
//! without a reserve, calls already in flight when the limit is reached still finish and are
//! charged (a budget can be exceeded by what was in flight). With
//! [`Budget::reserve`], each call holds that much of the budget while it runs: a call is
//! admitted only while `spent + held + reserve ≤ max`, the hold is released when the call
//! ends (or its future or stream is dropped) and the real cost charged, so the limit is never
//! exceeded as long as no call costs more than the reserve.
//!
//! **Quotas.** A call is refused with `RateLimit` (and `retry_after` = the time to the next
//! minute) when a matching quota's `rpm` or `tpm` is used up this minute. The call's request
//! is counted when it is admitted (so concurrent calls never exceed `rpm`); its tokens when it
//! ends (so `tpm` blocks the calls after the one that crossed it).
//!
//! Periods are UTC calendar periods (hours, days, months) on a monotonic clock: the wall
//! clock read once, then advanced by tokio's clock.
//!
//! ```
//! use litellm::accounting::ledger::{Budget, CallKeys, Dimension, Ledger, Period, Quota, Scope};
//! let ledger = Ledger::new()
//!     .budget(Budget::new(Scope::User("alice".into()), 5.0, Period::Daily).reserve(0.05))
//!     .quota(Quota::new(Scope::Key("team-a".into())).rpm(60));
//! let keys = CallKeys::new("gpt-4o").user("alice");
//! let permit = ledger.admit(&keys).unwrap();
//! ledger.charge(&keys, permit, 1200, 300, 0.0065);
//! assert_eq!(ledger.totals_for(Dimension::User, "alice").unwrap().requests, 1);
//! assert!((ledger.budgets_status()[0].spent - 0.0065).abs() < 1e-9);
//! ```

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::clock::{civil_from_days, days_from_civil, now_ms};
use crate::error::{Error, ErrorKind, Result};
use crate::state::{LimitCounter, MemoryStore, StateStore, TotalCounters};
use crate::types::setters::setters;

/// What a total is kept per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Dimension {
    /// The model (router group, or model string for client calls).
    Model,
    /// The router deployment.
    Deployment,
    /// The provider prefix.
    Provider,
    /// `metadata.user`.
    User,
    /// `metadata.key`.
    Key,
    /// Each of `metadata.tags`.
    Tag,
}

impl Dimension {
    const ALL: [Dimension; 6] = [
        Dimension::Model,
        Dimension::Deployment,
        Dimension::Provider,
        Dimension::User,
        Dimension::Key,
        Dimension::Tag,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Dimension::Model => "model",
            Dimension::Deployment => "deployment",
            Dimension::Provider => "provider",
            Dimension::User => "user",
            Dimension::Key => "key",
            Dimension::Tag => "tag",
        }
    }
}

/// Running totals of one name in one dimension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Calls finished (successes and failures).
    pub requests: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Input (prompt) tokens.
    pub input_tokens: u64,
    /// Output (completion) tokens.
    pub output_tokens: u64,
    /// Spend in USD.
    pub spend: f64,
}

fn snapshot(t: &TotalCounters) -> Totals {
    Totals {
        requests: t.requests.load(Ordering::Relaxed),
        failures: t.failures.load(Ordering::Relaxed),
        input_tokens: t.input_tokens.load(Ordering::Relaxed),
        output_tokens: t.output_tokens.load(Ordering::Relaxed),
        spend: t.spend_nanos.load(Ordering::Relaxed) as f64 / 1e9,
    }
}

/// USD to whole nano-dollars (rounded; negative and NaN count as 0). A nano-dollar is a
/// thousandth of the cheapest token any vendor sells, so sums of many tiny calls stay exact
/// (micro-dollars lost 19 % of $1.2 µ calls and made sub-$0.5 µ calls free).
pub(crate) fn nanos(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e9).round().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// A budget amount as people write it: at least two decimals, more when they matter
/// (`$5.00`, `$0.30`, `$0.0001`, `$1.234568`).
fn money(usd: f64) -> String {
    if !usd.is_finite() {
        return "$?".to_owned();
    }
    let mut s = format!("{usd:.6}");
    while s.ends_with('0') && s.len() - s.find('.').map_or(s.len(), |d| d) > 3 {
        s.pop();
    }
    format!("${s}")
}

/// Who or what a budget or quota applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "scope", content = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Every call.
    Global,
    /// Calls with this `metadata.user`.
    User(String),
    /// Calls with this `metadata.key`.
    Key(String),
    /// Calls with this tag among `metadata.tags`.
    Tag(String),
    /// Calls of this model (router group or model string).
    Model(String),
}

impl Scope {
    fn matches(&self, k: &CallKeys) -> bool {
        match self {
            Scope::Global => true,
            Scope::User(u) => k.user.as_deref() == Some(u.as_str()),
            Scope::Key(x) => k.key.as_deref() == Some(x.as_str()),
            Scope::Tag(t) => k.tags.iter().any(|x| x == t),
            Scope::Model(m) => k.model == *m,
        }
    }

    /// The scope in a store key: `global`, `user/alice`, …
    fn key(&self) -> String {
        match self {
            Scope::Global => "global".to_owned(),
            Scope::User(u) => format!("user/{u}"),
            Scope::Key(k) => format!("key/{k}"),
            Scope::Tag(t) => format!("tag/{t}"),
            Scope::Model(m) => format!("model/{m}"),
        }
    }

    fn describe(&self) -> String {
        match self {
            Scope::Global => "global".to_owned(),
            Scope::User(u) => format!("user '{u}'"),
            Scope::Key(k) => format!("key '{k}'"),
            Scope::Tag(t) => format!("tag '{t}'"),
            Scope::Model(m) => format!("model '{m}'"),
        }
    }
}

/// How long a budget's spend accumulates before it starts over (UTC calendar periods).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Period {
    /// Each clock hour.
    Hourly,
    /// Each UTC day.
    Daily,
    /// Each UTC calendar month.
    Monthly,
    /// Never resets.
    Lifetime,
    /// Each week, from Monday 00:00 UTC.
    Weekly,
    /// Fixed windows of this many seconds (at least 1), aligned to the Unix epoch: `Seconds(30)`
    /// starts over at :00 and :30 of every minute, `Seconds(7_200)` at every even UTC hour.
    Seconds(u64),
}

impl Period {
    /// How the period reads after an amount: `per hour`, `per day`, `every 30 s`, `in total`.
    fn per(self) -> std::borrow::Cow<'static, str> {
        match self {
            Period::Hourly => "per hour".into(),
            Period::Daily => "per day".into(),
            Period::Weekly => "per week".into(),
            Period::Monthly => "per month".into(),
            Period::Lifetime => "in total".into(),
            Period::Seconds(n) => format!("every {} s", n.max(1)).into(),
        }
    }

    fn as_str(self) -> std::borrow::Cow<'static, str> {
        match self {
            Period::Hourly => "hourly".into(),
            Period::Daily => "daily".into(),
            Period::Monthly => "monthly".into(),
            Period::Lifetime => "lifetime".into(),
            Period::Weekly => "weekly".into(),
            Period::Seconds(n) => format!("{}s", n.max(1)).into(),
        }
    }

    /// The index of the period `ms` (Unix milliseconds) falls in, and when the next one starts.
    fn window(self, ms: u64) -> (u64, Option<u64>) {
        match self {
            Period::Hourly => {
                let h = ms / 3_600_000;
                (h, Some((h + 1) * 3_600_000))
            }
            Period::Daily => {
                let d = ms / 86_400_000;
                (d, Some((d + 1) * 86_400_000))
            }
            Period::Monthly => {
                let days = (ms / 86_400_000) as i64;
                let (y, m, _) = civil_from_days(days);
                let index = (y as u64) * 12 + (m as u64 - 1);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let next = days_from_civil(ny, nm, 1) as u64 * 86_400_000;
                (index, Some(next))
            }
            Period::Lifetime => (0, None),
            Period::Weekly => {
                // 1970-01-01 was a Thursday: day 4 was the first Monday.
                let w = (ms / 86_400_000 + 3) / 7;
                (w, Some(((w + 1) * 7 - 3).saturating_mul(86_400_000)))
            }
            Period::Seconds(n) => {
                let len = n.max(1).saturating_mul(1000);
                let i = ms / len;
                (i, Some((i + 1).saturating_mul(len)))
            }
        }
    }
}

/// A maximum spend for a scope over a period.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Budget {
    /// Who it applies to.
    pub scope: Scope,
    /// USD allowed per period.
    pub max_spend: f64,
    /// The period.
    pub period: Period,
    /// USD held per call in flight (0: none); see [`Budget::reserve`].
    pub reserve: f64,
}

impl Budget {
    /// A budget of `max_spend` USD per `period` for `scope`.
    pub fn new(scope: Scope, max_spend: f64, period: Period) -> Budget {
        Budget {
            scope,
            max_spend,
            period,
            reserve: 0.0,
        }
    }

    /// Holds `usd` of the budget for each call while it runs, so concurrent calls cannot
    /// overspend it: a call is admitted only while `spent + held + usd ≤ max_spend`. Set it to
    /// the most one call can cost (e.g. `max_tokens` × the output price). Default 0: calls are
    /// refused only once the spend has reached the limit.
    #[must_use = "returns the changed budget; use it"]
    pub fn reserve(mut self, usd: f64) -> Self {
        self.reserve = usd;
        self
    }
}

/// Request and token limits per minute for a scope (each user or key separately).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Quota {
    /// Who it applies to.
    pub scope: Scope,
    /// Calls per minute.
    pub rpm: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<u64>,
}

impl Quota {
    /// A quota for `scope` with no limits yet.
    pub fn new(scope: Scope) -> Quota {
        Quota {
            scope,
            rpm: None,
            tpm: None,
        }
    }

    /// Sets calls per minute.
    #[must_use = "returns the changed quota; use it"]
    pub fn rpm(mut self, n: u64) -> Self {
        self.rpm = Some(n);
        self
    }

    /// Sets tokens per minute.
    #[must_use = "returns the changed quota; use it"]
    pub fn tpm(mut self, n: u64) -> Self {
        self.tpm = Some(n);
        self
    }
}

/// What a call is keyed by in the ledger.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CallKeys {
    /// The model asked for (router group or model string).
    pub model: String,
    /// The deployment that answered, when routed.
    pub deployment: Option<String>,
    /// The provider that answered.
    pub provider: Option<String>,
    /// `metadata.user`.
    pub user: Option<String>,
    /// `metadata.key`.
    pub key: Option<String>,
    /// `metadata.tags`.
    pub tags: Vec<String>,
}

impl CallKeys {
    /// Keys of a call of `model`.
    pub fn new(model: impl Into<String>) -> CallKeys {
        CallKeys {
            model: model.into(),
            ..Default::default()
        }
    }

    /// Keys from a call's model and metadata.
    pub fn from_metadata(model: &str, m: &crate::types::Metadata) -> CallKeys {
        CallKeys {
            model: model.to_owned(),
            user: m.user.clone(),
            key: m.key.clone(),
            tags: m.tags.clone(),
            ..Default::default()
        }
    }

    setters! {
        must_use = "returns the changed keys; use it";
        /// Sets the user.
        user: impl Into<String>,
        /// Sets the key.
        key: impl Into<String>,
        /// Sets the deployment.
        deployment: impl Into<String>,
        /// Sets the provider.
        provider: impl Into<String>,
    }

    /// Adds a tag.
    #[must_use = "returns the changed keys; use it"]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
}

#[derive(Debug)]
struct BudgetState {
    budget: Budget,
    counter: Arc<LimitCounter>,
}

impl BudgetState {
    fn store_key(&self, i: usize) -> String {
        format!(
            "budget/{i}/{}/{}",
            self.budget.scope.key(),
            self.budget.period.as_str()
        )
    }
}

#[derive(Debug)]
struct QuotaState {
    quota: Quota,
    counter: Arc<LimitCounter>,
}

fn quota_key(i: usize, q: &Quota) -> String {
    format!("quota/{i}/{}", q.scope.key())
}

/// A call admitted by [`Ledger::admit`]; hand it back to [`Ledger::charge`] (or
/// [`Ledger::fail`]) when the call ends. It holds the budgets' reserves for the call; dropping
/// it (a cancelled call) gives them back.
#[derive(Debug)]
#[must_use]
pub struct Admission {
    /// (budget counter, period index, nano-dollars held).
    holds: Vec<(Arc<LimitCounter>, u64, u64)>,
}

impl Admission {
    fn release(&mut self) {
        for (counter, index, held) in self.holds.drain(..) {
            counter.release(index, held);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.release();
    }
}

/// The state of a budget, as [`Ledger::budgets_status`] reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BudgetStatus {
    /// The budget.
    pub budget: Budget,
    /// Spent in the current period (USD).
    pub spent: f64,
    /// Left in the current period (USD, never negative).
    pub remaining: f64,
    /// When the current period ends; `None` for lifetime budgets. The same time type as
    /// [`DeploymentHealth::cooling_until`](crate::router::DeploymentHealth::cooling_until).
    pub resets_at: Option<std::time::SystemTime>,
}

/// Running totals, budgets and quotas. Share it (`Arc<Ledger>`) between a client and routers.
pub struct Ledger {
    store: Arc<dyn StateStore>,
    /// The totals this ledger has touched (the store holds the counters).
    totals: RwLock<HashMap<(Dimension, String), Arc<TotalCounters>>>,
    budgets: Vec<BudgetState>,
    quotas: Vec<QuotaState>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("budgets", &self.budgets)
            .field("quotas", &self.quotas)
            .finish_non_exhaustive()
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            store: Arc::new(MemoryStore::new()),
            totals: RwLock::default(),
            budgets: Vec::new(),
            quotas: Vec::new(),
        }
    }
}

impl Ledger {
    /// An empty ledger (totals only), its counters in this process's memory.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Keeps the counters in `store` (e.g. the one a router was given with
    /// `RouterBuilder::state_store`). Two ledgers with the same budgets and quotas on one
    /// store share their counters.
    #[must_use = "returns the changed ledger; use it"]
    pub fn with_store(mut self, store: Arc<dyn StateStore>) -> Self {
        for (i, b) in self.budgets.iter_mut().enumerate() {
            b.counter = store.limit(&b.store_key(i));
        }
        for (i, q) in self.quotas.iter_mut().enumerate() {
            q.counter = store.limit(&quota_key(i, &q.quota));
        }
        self.totals = RwLock::default();
        self.store = store;
        self
    }

    /// Adds a budget.
    #[must_use = "returns the changed ledger; use it"]
    pub fn budget(mut self, budget: Budget) -> Self {
        let mut state = BudgetState {
            budget,
            counter: Arc::default(),
        };
        state.counter = self.store.limit(&state.store_key(self.budgets.len()));
        self.budgets.push(state);
        self
    }

    /// Adds a quota.
    #[must_use = "returns the changed ledger; use it"]
    pub fn quota(mut self, quota: Quota) -> Self {
        let counter = self.store.limit(&quota_key(self.quotas.len(), &quota));
        self.quotas.push(QuotaState { quota, counter });
        self
    }

    /// True when there are budgets or quotas to check before calls.
    pub fn has_limits(&self) -> bool {
        !self.budgets.is_empty() || !self.quotas.is_empty()
    }

    /// Checks budgets and quotas before a call: `BudgetExceeded` when a matching budget is
    /// spent this period (or has no room for the call's reserve), `RateLimit` (with
    /// `retry_after` = time to the next minute) when a matching quota's rpm or tpm is used up.
    /// The call's reserve and its request are taken at once.
    pub fn admit(&self, keys: &CallKeys) -> Result<Admission> {
        self.admit_at(keys, now_ms())
    }

    fn admit_at(&self, keys: &CallKeys, now: u64) -> Result<Admission> {
        let mut admission = Admission { holds: Vec::new() };
        for b in &self.budgets {
            if !b.budget.scope.matches(keys) {
                continue;
            }
            let (index, next) = b.budget.period.window(now);
            let max = nanos(b.budget.max_spend);
            let reserve = nanos(b.budget.reserve);
            let refused = b.counter.with(index, |w| {
                let full = w.used >= max
                    || (reserve > 0 && w.used.saturating_add(w.held).saturating_add(reserve) > max);
                if full {
                    Some(w.used)
                } else {
                    w.held = w.held.saturating_add(reserve);
                    None
                }
            });
            if let Some(spent) = refused {
                let mut err = Error::new(
                    ErrorKind::BudgetExceeded,
                    format!(
                        "the {} budget of {} {} is spent ({} spent)",
                        b.budget.scope.describe(),
                        money(b.budget.max_spend),
                        b.budget.period.per(),
                        money(spent as f64 / 1e9)
                    ),
                );
                if let Some(n) = next {
                    err = err.with_retry_after(Duration::from_millis(n.saturating_sub(now)));
                }
                return Err(err); // `admission` gives back the holds taken so far
            }
            if reserve > 0 {
                admission.holds.push((b.counter.clone(), index, reserve));
            }
        }
        let minute = now / 60_000;
        let wait = Duration::from_millis(60_000 - now % 60_000);
        // Check and count under each quota's lock (exact under concurrency); a refused call
        // gives back the requests it counted on earlier quotas.
        let mut counted: Vec<&QuotaState> = Vec::new();
        for q in &self.quotas {
            if !q.quota.scope.matches(keys) {
                continue;
            }
            let refused = q.counter.with(minute, |w| {
                let full = q.quota.rpm.is_some_and(|r| w.used >= r)
                    || q.quota.tpm.is_some_and(|t| w.tokens >= t);
                if full {
                    Some((w.used, w.tokens))
                } else {
                    w.used += 1;
                    None
                }
            });
            if let Some((reqs, toks)) = refused {
                for c in counted {
                    c.counter.release_used(minute, 1);
                }
                return Err(Error::new(
                    ErrorKind::RateLimit,
                    format!(
                        "the quota of {} is used up this minute ({reqs} calls, {toks} tokens)",
                        q.quota.scope.describe()
                    ),
                )
                .with_retry_after(wait));
            }
            counted.push(q);
        }
        Ok(admission)
    }

    /// Charges a finished call: totals in every dimension, budgets' spend (releasing the
    /// call's reserve), quotas' tokens.
    pub fn charge(
        &self,
        keys: &CallKeys,
        admission: Admission,
        input_tokens: u64,
        output_tokens: u64,
        cost: f64,
    ) {
        self.settle(keys, admission, false, input_tokens, output_tokens, cost);
    }

    /// Charges a call that failed after the vendor worked on it (a stream that broke, or that
    /// the caller dropped, after chunks were delivered): counted as a failure, with the tokens
    /// and cost it used.
    pub fn charge_failed(
        &self,
        keys: &CallKeys,
        admission: Admission,
        input_tokens: u64,
        output_tokens: u64,
        cost: f64,
    ) {
        self.settle(keys, admission, true, input_tokens, output_tokens, cost);
    }

    /// Records a failed call (counted, nothing spent) and releases its reserve.
    pub fn fail(&self, keys: &CallKeys, admission: Admission) {
        self.settle(keys, admission, true, 0, 0, 0.0);
    }

    /// Records a call's end and releases its reserve (after the spend is counted, so a
    /// concurrent admission never sees neither).
    fn settle(
        &self,
        keys: &CallKeys,
        admission: Admission,
        failed: bool,
        input: u64,
        output: u64,
        cost: f64,
    ) {
        self.record_at(keys, failed, input, output, cost, now_ms());
        drop(admission);
    }

    fn record_at(
        &self,
        keys: &CallKeys,
        failed: bool,
        input: u64,
        output: u64,
        cost: f64,
        now: u64,
    ) {
        let spend = nanos(cost);
        let mut names: Vec<(Dimension, &str)> = vec![(Dimension::Model, keys.model.as_str())];
        names.extend(
            keys.deployment
                .as_deref()
                .map(|d| (Dimension::Deployment, d)),
        );
        names.extend(keys.provider.as_deref().map(|p| (Dimension::Provider, p)));
        names.extend(keys.user.as_deref().map(|u| (Dimension::User, u)));
        names.extend(keys.key.as_deref().map(|k| (Dimension::Key, k)));
        names.extend(keys.tags.iter().map(|t| (Dimension::Tag, t.as_str())));
        for (dim, name) in names {
            let t = self.totals_entry(dim, name);
            t.requests.fetch_add(1, Ordering::Relaxed);
            if failed {
                t.failures.fetch_add(1, Ordering::Relaxed);
            }
            crate::saturating::add(&t.input_tokens, input);
            crate::saturating::add(&t.output_tokens, output);
            crate::saturating::add(&t.spend_nanos, spend);
        }
        if spend > 0 {
            for b in &self.budgets {
                if b.budget.scope.matches(keys) {
                    let (index, _) = b.budget.period.window(now);
                    b.counter
                        .with(index, |w| w.used = w.used.saturating_add(spend));
                }
            }
        }
        let tokens = input.saturating_add(output);
        if tokens > 0 {
            let minute = now / 60_000;
            for q in &self.quotas {
                if q.quota.scope.matches(keys) {
                    q.counter
                        .with(minute, |w| w.tokens = w.tokens.saturating_add(tokens));
                }
            }
        }
    }

    fn totals_entry(&self, dim: Dimension, name: &str) -> Arc<TotalCounters> {
        let key = (dim, name.to_owned());
        if let Some(t) = read(&self.totals).get(&key) {
            return t.clone();
        }
        let counters = self
            .store
            .totals(&format!("totals/{}/{name}", dim.as_str()));
        write(&self.totals).entry(key).or_insert(counters).clone()
    }

    /// The totals of one name in one dimension (`None` when this ledger has not seen it).
    pub fn totals_for(&self, dim: Dimension, name: &str) -> Option<Totals> {
        read(&self.totals)
            .get(&(dim, name.to_owned()))
            .map(|t| snapshot(t))
    }

    /// Every name's totals in one dimension, sorted by name.
    pub fn totals(&self, dim: Dimension) -> Vec<(String, Totals)> {
        let mut v: Vec<(String, Totals)> = read(&self.totals)
            .iter()
            .filter(|((d, _), _)| *d == dim)
            .map(|((_, n), t)| (n.clone(), snapshot(t)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The state of every budget now.
    pub fn budgets_status(&self) -> Vec<BudgetStatus> {
        let now = now_ms();
        self.budgets
            .iter()
            .map(|b| {
                let (index, next) = b.budget.period.window(now);
                let w = b.counter.peek();
                let spent = if w.index == index {
                    w.used as f64 / 1e9
                } else {
                    0.0
                };
                BudgetStatus {
                    budget: b.budget.clone(),
                    spent,
                    remaining: (b.budget.max_spend - spent).max(0.0),
                    resets_at: next.map(crate::clock::system_time),
                }
            })
            .collect()
    }

    /// Everything as JSON: `{"totals": {"model": {"gpt-4o": {…}}, …}, "budgets": […]}`.
    pub fn export_json(&self) -> serde_json::Value {
        let mut totals = serde_json::Map::new();
        for dim in Dimension::ALL {
            let mut m = serde_json::Map::new();
            for (name, t) in self.totals(dim) {
                m.insert(name, serde_json::to_value(t).unwrap_or_default());
            }
            totals.insert(dim.as_str().to_owned(), serde_json::Value::Object(m));
        }
        serde_json::json!({
            "totals": totals,
            "budgets": serde_json::to_value(self.budgets_status()).unwrap_or_default(),
        })
    }
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    fn keys(user: &str) -> CallKeys {
        CallKeys {
            model: "gpt-4o".into(),
            user: Some(user.into()),
            key: Some("k1".into()),
            tags: vec!["team-a".into(), "prod".into()],
            provider: Some("openai".into()),
            deployment: Some("dep-1".into()),
        }
    }

    #[test]
    fn calendar_periods() {
        // 2026-02-15T10:30:00Z
        let ms = days_from_civil(2026, 2, 15) as u64 * 86_400_000 + 10 * 3_600_000 + 30 * 60_000;
        assert_eq!(civil_from_days(days_from_civil(2026, 2, 15)), (2026, 2, 15));
        let (_, next) = Period::Monthly.window(ms);
        assert_eq!(next, Some(days_from_civil(2026, 3, 1) as u64 * 86_400_000));
        let (_, next) = Period::Daily.window(ms);
        assert_eq!(next, Some(days_from_civil(2026, 2, 16) as u64 * 86_400_000));
        let (_, next) = Period::Hourly.window(ms);
        assert_eq!(next, Some(ms + 30 * 60_000));
        let dec = days_from_civil(2025, 12, 31) as u64 * 86_400_000;
        assert_eq!(
            Period::Monthly.window(dec).1,
            Some(days_from_civil(2026, 1, 1) as u64 * 86_400_000)
        );
        assert_eq!(Period::Lifetime.window(ms), (0, None));
        // 2026-02-15 is a Sunday: the week ends on Monday the 16th.
        let (_, next) = Period::Weekly.window(ms);
        assert_eq!(next, Some(days_from_civil(2026, 2, 16) as u64 * 86_400_000));
        let monday = days_from_civil(2026, 2, 16) as u64 * 86_400_000;
        assert_eq!(
            Period::Weekly.window(monday).1,
            Some(days_from_civil(2026, 2, 23) as u64 * 86_400_000)
        );
        let (_, next) = Period::Seconds(30).window(ms + 1_000);
        assert_eq!(next, Some(ms + 30_000));
        assert_eq!(Period::Seconds(0).window(5_500), (5, Some(6_000)));
        assert_eq!(Period::Seconds(u64::MAX).window(ms).0, 0);
        assert_eq!(Period::Seconds(30).as_str(), "30s");
    }

    #[test]
    fn totals_in_every_dimension() {
        let l = Ledger::new();
        let k = keys("alice");
        l.charge(&k, l.admit(&k).unwrap(), 100, 20, 0.5);
        l.fail(&k, l.admit(&k).unwrap());
        let t = l.totals_for(Dimension::User, "alice").unwrap();
        assert_eq!(
            (
                t.requests,
                t.failures,
                t.input_tokens,
                t.output_tokens,
                t.spend
            ),
            (2, 1, 100, 20, 0.5)
        );
        for (d, n) in [
            (Dimension::Model, "gpt-4o"),
            (Dimension::Deployment, "dep-1"),
            (Dimension::Provider, "openai"),
            (Dimension::Key, "k1"),
            (Dimension::Tag, "team-a"),
            (Dimension::Tag, "prod"),
        ] {
            assert_eq!(l.totals_for(d, n).unwrap().requests, 2, "{d:?}");
        }
        let json = l.export_json();
        assert_eq!(json["totals"]["user"]["alice"]["spend"], 0.5);
    }

    #[test]
    fn budgets_block_at_the_limit() {
        let l = Ledger::new().budget(Budget::new(Scope::User("alice".into()), 1.0, Period::Daily));
        let k = keys("alice");
        for _ in 0..10 {
            let a = l.admit(&k).unwrap();
            l.charge(&k, a, 1, 1, 0.1);
        }
        let e = l.admit(&k).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BudgetExceeded);
        assert!(e.retry_after().is_some());
        // other users are not affected
        assert!(l.admit(&keys("bob")).is_ok());
        let s = &l.budgets_status()[0];
        assert!((s.spent - 1.0).abs() < 1e-9 && s.remaining == 0.0);
    }

    #[test]
    fn quotas_reserve_rpm_exactly_under_concurrency() {
        let l = Arc::new(Ledger::new().quota(Quota::new(Scope::Key("k1".into())).rpm(50)));
        let admitted = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (l, admitted) = (l.clone(), admitted.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        if l.admit(&keys("x")).is_ok() {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        // minute boundaries aside, exactly the quota
        let n = admitted.load(Ordering::Relaxed);
        assert!(n == 50 || n == 100, "{n}");
        let e = Ledger::new().quota(Quota::new(Scope::User("u".into())).tpm(10));
        let k = keys("u");
        e.charge(&k, e.admit(&k).unwrap(), 8, 5, 0.0);
        let err = e.admit(&k).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimit);
        assert!(err.retry_after().unwrap() <= Duration::from_secs(60));
    }

    #[test]
    fn a_reserve_makes_the_budget_exact_under_concurrency() {
        // $1.00 a day, each call holds $0.10 and costs $0.10: exactly 10 calls, however they
        // interleave; calls in flight count against the budget.
        let l = Arc::new(
            Ledger::new().budget(Budget::new(Scope::Global, 1.0, Period::Lifetime).reserve(0.10)),
        );
        let admitted = Arc::new(AtomicU64::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (l, admitted, barrier) = (l.clone(), admitted.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut held = Vec::new();
                    for _ in 0..5 {
                        if let Ok(a) = l.admit(&keys("x")) {
                            admitted.fetch_add(1, Ordering::Relaxed);
                            held.push(a);
                        }
                    }
                    for a in held {
                        l.charge(&keys("x"), a, 10, 10, 0.10);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(admitted.load(Ordering::Relaxed), 10);
        let s = &l.budgets_status()[0];
        assert!((s.spent - 1.0).abs() < 1e-9, "{}", s.spent);
        assert_eq!(
            l.admit(&keys("x")).unwrap_err().kind(),
            ErrorKind::BudgetExceeded
        );
    }

    #[test]
    fn a_cancelled_call_gives_its_reserve_back() {
        let l = Ledger::new().budget(Budget::new(Scope::Global, 0.25, Period::Daily).reserve(0.1));
        let a = l.admit(&keys("x")).unwrap();
        let b = l.admit(&keys("x")).unwrap();
        // 0.2 held: no room for a third reserve
        assert_eq!(
            l.admit(&keys("x")).unwrap_err().kind(),
            ErrorKind::BudgetExceeded
        );
        drop(a); // cancelled: nothing spent, hold released
        let c = l.admit(&keys("x")).unwrap();
        l.fail(&keys("x"), b);
        l.charge(&keys("x"), c, 1, 1, 0.02);
        assert!((l.budgets_status()[0].spent - 0.02).abs() < 1e-9);
        // 0.02 spent, nothing held: two more reserves fit, a third does not
        let (d, e) = (l.admit(&keys("x")).unwrap(), l.admit(&keys("x")).unwrap());
        assert!(l.admit(&keys("x")).is_err());
        drop((d, e));
    }

    #[test]
    fn budgets_and_quotas_start_over_with_their_period() {
        let day = 86_400_000u64;
        let t0 = days_from_civil(2026, 11, 24) as u64 * day + 23 * 3_600_000; // 23:00 UTC
        let l = Ledger::new()
            .budget(Budget::new(Scope::User("u".into()), 0.5, Period::Daily))
            .quota(Quota::new(Scope::User("u".into())).rpm(2));
        let k = keys("u");
        let a = l.admit_at(&k, t0).unwrap();
        l.record_at(&k, false, 1, 1, 0.5, t0);
        drop(a);
        let e = l.admit_at(&k, t0 + 1000).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BudgetExceeded);
        // refused until midnight, and the error says how long that is
        assert_eq!(
            e.retry_after(),
            Some(Duration::from_millis(3_600_000 - 1000))
        );
        assert!(l.admit_at(&k, t0 + 3_600_000 - 1).is_err());
        // the next day starts from zero; the quota's minute too
        let next = t0 + 3_600_000;
        let _a = l.admit_at(&k, next).unwrap();
        let _b = l.admit_at(&k, next + 1).unwrap();
        let e = l.admit_at(&k, next + 2).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimit);
        assert_eq!(e.retry_after(), Some(Duration::from_millis(60_000 - 2)));
        assert!(l.admit_at(&k, next + 60_000).is_ok());
    }

    #[test]
    fn ledgers_on_one_store_share_their_counters() {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let make = || {
            Ledger::new()
                .budget(Budget::new(Scope::Global, 1.0, Period::Lifetime))
                .with_store(store.clone())
        };
        let (a, b) = (make(), make());
        let k = keys("x");
        a.charge(&k, a.admit(&k).unwrap(), 5, 5, 1.0);
        assert_eq!(b.admit(&k).unwrap_err().kind(), ErrorKind::BudgetExceeded);
        b.fail(&k, Admission { holds: Vec::new() });
        assert_eq!(a.totals_for(Dimension::User, "x").unwrap().requests, 2);
    }
}
