//! Live per-deployment state: in-flight calls, this minute's counters, cooldowns, latency.
//!
//! Every counter is an atomic; a minute counter packs the minute it belongs to with its count
//! in one `u64`, so moving to a new minute and counting are one compare-and-swap and no update
//! is lost under concurrency. The [`StateStore`] trait hands out the counters of a deployment
//! by id; [`MemoryStore`] keeps them in this process. A store shared between processes (Redis)
//! can implement the same trait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::ErrorKind;

pub(crate) use crate::clock::now_ms;

/// The minute a millisecond timestamp falls in.
pub(crate) fn minute_of(ms: u64) -> u64 {
    ms / 60_000
}

const MINUTE_BITS: u32 = 24;
const COUNT_BITS: u32 = 64 - MINUTE_BITS;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const MINUTE_MASK: u64 = (1 << MINUTE_BITS) - 1;

/// A counter that restarts every minute: `(minute, count)` packed in one atomic.
#[derive(Debug, Default)]
pub(crate) struct MinuteCounter(AtomicU64);

impl MinuteCounter {
    fn pack(minute: u64, count: u64) -> u64 {
        ((minute & MINUTE_MASK) << COUNT_BITS) | count.min(COUNT_MASK)
    }

    /// Adds `n` in `minute` (restarting from 0 when the stored minute is older); returns the
    /// new count.
    pub(crate) fn add(&self, minute: u64, n: u64) -> u64 {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let (m, c) = (cur >> COUNT_BITS, cur & COUNT_MASK);
            let base = if m == (minute & MINUTE_MASK) { c } else { 0 };
            let next = Self::pack(minute, base.saturating_add(n));
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return next & COUNT_MASK,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The count in `minute` (0 when the stored minute is another one).
    pub(crate) fn get(&self, minute: u64) -> u64 {
        let cur = self.0.load(Ordering::Relaxed);
        if cur >> COUNT_BITS == (minute & MINUTE_MASK) {
            cur & COUNT_MASK
        } else {
            0
        }
    }
}

/// The live counters of one deployment.
#[derive(Debug)]
pub struct DeploymentCounters {
    in_flight: AtomicU32,
    /// Calls started this minute (for `rpm`).
    requests: MinuteCounter,
    /// Tokens used this minute (for `tpm` and usage-based routing).
    tokens: MinuteCounter,
    /// Calls finished this minute, and how many of them failed.
    finished: MinuteCounter,
    failed: MinuteCounter,
    /// Failures this minute per error kind (for `AllowedFailsPolicy`).
    failed_by_kind: [MinuteCounter; ErrorKind::ALL.len()],
    /// Unix milliseconds until which the deployment cools down; 0 when it does not.
    cooldown_until: AtomicU64,
    /// EWMA of latency in microseconds (`u64::MAX` when unknown), whole calls and first tokens.
    latency_us: AtomicU64,
    ttft_us: AtomicU64,
    /// Calls finished, successes and failures in total.
    total_ok: AtomicU64,
    total_failed: AtomicU64,
}

impl Default for DeploymentCounters {
    fn default() -> Self {
        DeploymentCounters {
            in_flight: AtomicU32::new(0),
            requests: MinuteCounter::default(),
            tokens: MinuteCounter::default(),
            finished: MinuteCounter::default(),
            failed: MinuteCounter::default(),
            failed_by_kind: std::array::from_fn(|_| MinuteCounter::default()),
            cooldown_until: AtomicU64::new(0),
            latency_us: AtomicU64::new(u64::MAX),
            ttft_us: AtomicU64::new(u64::MAX),
            total_ok: AtomicU64::new(0),
            total_failed: AtomicU64::new(0),
        }
    }
}

/// Weight of a new latency sample in the moving average.
const EWMA_ALPHA: f64 = 0.3;

fn ewma(cell: &AtomicU64, sample: Duration) {
    let s = sample.as_micros().min(u64::MAX as u128 - 1) as u64;
    let mut cur = cell.load(Ordering::Relaxed);
    loop {
        let next = if cur == u64::MAX {
            s
        } else {
            (cur as f64 * (1.0 - EWMA_ALPHA) + s as f64 * EWMA_ALPHA) as u64
        };
        match cell.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

fn kind_index(kind: ErrorKind) -> usize {
    ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

impl DeploymentCounters {
    /// Calls in flight now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a call as started: in flight, and in this minute's requests.
    pub fn start(&self, minute: u64) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.requests.add(minute, 1);
    }

    /// Counts a started call as no longer in flight.
    pub fn end(&self) {
        // Never wraps below zero, even if `end` were called twice.
        let _ = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |v| v.checked_sub(1));
    }

    /// Records a success with its tokens and latencies.
    pub fn success(&self, minute: u64, tokens: u64, latency: Duration, ttft: Option<Duration>) {
        self.finished.add(minute, 1);
        self.tokens.add(minute, tokens);
        self.total_ok.fetch_add(1, Ordering::Relaxed);
        ewma(&self.latency_us, latency);
        if let Some(t) = ttft {
            ewma(&self.ttft_us, t);
        }
    }

    /// Records a failure; returns (failures of this kind, failures, finished calls) this minute.
    pub fn failure(&self, minute: u64, kind: ErrorKind) -> (u64, u64, u64) {
        let finished = self.finished.add(minute, 1);
        let failed = self.failed.add(minute, 1);
        let of_kind = self.failed_by_kind[kind_index(kind)].add(minute, 1);
        self.total_failed.fetch_add(1, Ordering::Relaxed);
        (of_kind, failed, finished)
    }

    /// Adds tokens to this minute's usage (a stream's usage arrives at its end).
    pub fn add_tokens(&self, minute: u64, tokens: u64) {
        self.tokens.add(minute, tokens);
    }

    /// Calls started in `minute`.
    pub fn requests(&self, minute: u64) -> u64 {
        self.requests.get(minute)
    }

    /// Tokens used in `minute`.
    pub fn tokens(&self, minute: u64) -> u64 {
        self.tokens.get(minute)
    }

    /// (failed, finished) calls in `minute`.
    pub fn failures(&self, minute: u64) -> (u64, u64) {
        (self.failed.get(minute), self.finished.get(minute))
    }

    /// Cools the deployment down until `until_ms` (Unix ms). A cooldown only ever extends.
    pub fn cool_down_until(&self, until_ms: u64) {
        self.cooldown_until.fetch_max(until_ms, Ordering::AcqRel);
    }

    /// Unix ms until which the deployment cools down, when it does at `now_ms`.
    pub fn cooling_until(&self, now_ms: u64) -> Option<u64> {
        let until = self.cooldown_until.load(Ordering::Acquire);
        (until > now_ms).then_some(until)
    }

    /// Moving average of whole-call latency.
    pub fn latency(&self) -> Option<Duration> {
        let v = self.latency_us.load(Ordering::Relaxed);
        (v != u64::MAX).then(|| Duration::from_micros(v))
    }

    /// Moving average of time to first token (streams).
    pub fn ttft(&self) -> Option<Duration> {
        let v = self.ttft_us.load(Ordering::Relaxed);
        (v != u64::MAX).then(|| Duration::from_micros(v))
    }

    /// (successes, failures) since the router started.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.total_ok.load(Ordering::Relaxed),
            self.total_failed.load(Ordering::Relaxed),
        )
    }
}

/// The usage of one budget or quota in its current window (a period or a minute).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Window {
    /// Which window (period index or minute) the numbers belong to.
    pub(crate) index: u64,
    /// Spend in nano-dollars (budgets) or calls started (quotas).
    pub(crate) used: u64,
    /// Held for calls in flight: nano-dollars (budgets).
    pub(crate) held: u64,
    /// Tokens used (quotas).
    pub(crate) tokens: u64,
}

/// The counter of one ledger budget or quota: usage that starts over with each window (a
/// budget's period, a quota's minute). Its methods are the ledger's; a store only creates and
/// keeps them.
#[derive(Debug)]
pub struct LimitCounter {
    window: Mutex<Window>,
}

impl Default for LimitCounter {
    fn default() -> Self {
        LimitCounter {
            window: Mutex::new(Window {
                index: u64::MAX,
                ..Window::default()
            }),
        }
    }
}

impl LimitCounter {
    /// Runs `f` on the window `index` (started from zero when the stored one is older), under
    /// the counter's lock, so a check and its update are one step.
    pub(crate) fn with<R>(&self, index: u64, f: impl FnOnce(&mut Window) -> R) -> R {
        let mut w = self.lock();
        if w.index != index {
            *w = Window {
                index,
                ..Window::default()
            };
        }
        f(&mut w)
    }

    /// Gives back `held` of the window `index`'s holds (nothing once a newer window started).
    pub(crate) fn release(&self, index: u64, held: u64) {
        let mut w = self.lock();
        if w.index == index {
            w.held = w.held.saturating_sub(held);
        }
    }

    /// Gives back `n` of the window `index`'s count (nothing once a newer window started).
    pub(crate) fn release_used(&self, index: u64, n: u64) {
        let mut w = self.lock();
        if w.index == index {
            w.used = w.used.saturating_sub(n);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The window as stored, without moving it to a newer one.
    pub(crate) fn peek(&self) -> Window {
        *self.lock()
    }
}

/// Running totals of one name in one ledger dimension (a user, a key, a model, …).
#[derive(Debug, Default)]
pub struct TotalCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) input_tokens: AtomicU64,
    pub(crate) output_tokens: AtomicU64,
    pub(crate) spend_nanos: AtomicU64,
}

/// Where live counters are kept: the router's per deployment, the ledger's per budget, quota
/// and total. The same key always gets the same counters, so a deployment updated at run time
/// keeps its state, and a ledger and a router built on one store share it.
pub trait StateStore: Send + Sync + 'static {
    /// The counters of the deployment with this id.
    fn counters(&self, deployment_id: &str) -> Arc<DeploymentCounters>;
    /// The counter of the ledger budget or quota with this key.
    fn limit(&self, key: &str) -> Arc<LimitCounter>;
    /// The ledger totals with this key.
    fn totals(&self, key: &str) -> Arc<TotalCounters>;
}

/// Counters in this process (the default store).
#[derive(Debug, Default)]
pub struct MemoryStore {
    by_id: Mutex<HashMap<String, Arc<DeploymentCounters>>>,
    limits: Mutex<HashMap<String, Arc<LimitCounter>>>,
    totals: Mutex<HashMap<String, Arc<TotalCounters>>>,
}

fn get_or_default<T: Default>(map: &Mutex<HashMap<String, Arc<T>>>, key: &str) -> Arc<T> {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(v) = map.get(key) {
        return v.clone();
    }
    map.entry(key.to_owned()).or_default().clone()
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl StateStore for MemoryStore {
    fn counters(&self, deployment_id: &str) -> Arc<DeploymentCounters> {
        // Only called when deployments are added, never on the call path.
        get_or_default(&self.by_id, deployment_id)
    }

    fn limit(&self, key: &str) -> Arc<LimitCounter> {
        get_or_default(&self.limits, key)
    }

    fn totals(&self, key: &str) -> Arc<TotalCounters> {
        get_or_default(&self.totals, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_counters_restart_and_never_lose_updates() {
        let c = MinuteCounter::default();
        assert_eq!(c.add(10, 2), 2);
        assert_eq!(c.add(10, 3), 5);
        assert_eq!(c.get(10), 5);
        assert_eq!(c.get(11), 0);
        assert_eq!(c.add(11, 1), 1);
        assert_eq!(c.get(10), 0);

        let c = Arc::new(MinuteCounter::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.add(5, 1);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(c.get(5), 80_000);
    }

    #[test]
    fn cooldowns_only_extend_and_in_flight_never_wraps() {
        let d = DeploymentCounters::default();
        d.cool_down_until(2_000);
        d.cool_down_until(1_000);
        assert_eq!(d.cooling_until(1_500), Some(2_000));
        assert_eq!(d.cooling_until(2_000), None);
        d.end();
        assert_eq!(d.in_flight(), 0);
        d.start(1);
        assert_eq!((d.in_flight(), d.requests(1)), (1, 1));
        d.end();
        assert_eq!(d.in_flight(), 0);
    }

    #[test]
    fn latency_average_and_failures() {
        let d = DeploymentCounters::default();
        assert!(d.latency().is_none());
        d.success(1, 10, Duration::from_millis(100), None);
        assert_eq!(d.latency(), Some(Duration::from_millis(100)));
        d.success(
            1,
            5,
            Duration::from_millis(200),
            Some(Duration::from_millis(50)),
        );
        assert_eq!(d.latency(), Some(Duration::from_millis(130)));
        assert_eq!(d.tokens(1), 15);
        assert_eq!(d.failure(1, ErrorKind::RateLimit), (1, 1, 3));
        assert_eq!(d.failure(1, ErrorKind::Timeout), (1, 2, 4));
        assert_eq!(d.failures(1), (2, 4));
        assert_eq!(d.totals(), (2, 2));
    }

    #[test]
    fn store_returns_the_same_counters_for_an_id() {
        let s = MemoryStore::new();
        let a = s.counters("x");
        a.start(1);
        assert_eq!(s.counters("x").in_flight(), 1);
        assert_eq!(s.counters("y").in_flight(), 0);
    }
}
