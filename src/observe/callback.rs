//! Callbacks: your code, told about every call, off the hot path.
//!
//! Implement [`Callback`] (every hook has a no-op default) and register it in a [`Callbacks`]
//! set. The call pipeline hands each event to the set, which queues it and returns at once;
//! each callback has its **own bounded queue drained by its own background task**, so:
//!
//! - a slow callback never slows a call, nor another callback: only its own queue fills up, and
//!   when it is full further events for that callback are dropped and counted
//!   ([`CallbackStats::dropped`]), never waited for;
//! - a callback that returns an error or **panics** never fails the call nor stops its task:
//!   the error or panic is caught, counted and logged (`tracing` target `litellm::callback`), and
//!   the next event is delivered as usual;
//! - each callback sees the events in the order they were emitted.
//!
//! The background tasks are spawned on the current tokio runtime the first time an event
//! arrives (and spawned again if that runtime has since shut down). Events emitted outside any
//! tokio runtime are dropped and counted. [`Callbacks::flush`] waits until everything queued so
//! far is delivered (and calls each callback's [`Callback::flush`]); [`Callbacks::shutdown`]
//! flushes and stops the tasks for a graceful exit.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use litellm::Metadata;
//! use litellm::observe::{CallEvent, CallType, Callback, CallbackResult, Callbacks};
//!
//! #[derive(Default)]
//! struct CountTokens(AtomicU64);
//!
//! #[async_trait::async_trait]
//! impl Callback for CountTokens {
//!     async fn on_success(&self, event: &CallEvent) -> CallbackResult {
//!         let tokens = event.usage.as_ref().map_or(0, |u| u.total_tokens);
//!         self.0.fetch_add(tokens, Ordering::Relaxed);
//!         Ok(())
//!     }
//! }
//!
//! let counter = Arc::new(CountTokens::default());
//! let callbacks = Callbacks::builder().callback(counter.clone()).build();
//!
//! // What the pipeline does when a call finishes:
//! let mut event = CallEvent::new(CallType::Chat, "gpt-4o", Metadata::new());
//! event.usage = Some(litellm::Usage::new(10, 5));
//! callbacks.call_finished(Arc::new(event));
//!
//! callbacks.flush().await;
//! assert_eq!(counter.0.load(Ordering::Relaxed), 15);
//! # }
//! ```

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use futures::FutureExt;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::event::CallEvent;
use super::queue::{LazyQueue, Rejected};

/// The error a callback hook may return; it is logged and counted, never propagated.
pub type CallbackError = Box<dyn std::error::Error + Send + Sync>;

/// What a callback hook returns.
pub type CallbackResult = Result<(), CallbackError>;

/// Default capacity of each callback's queue.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;

/// The hooks of a [`Callback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Hook {
    /// Before the call is sent (the event has no end, latency, usage or error yet).
    BeforeCall,
    /// After a call succeeded (for a stream: after the stream ended without error).
    Success,
    /// After a call failed (for a stream: also when it failed after the first chunk).
    Failure,
    /// When a stream ended, successfully or not, right before `Success` or `Failure`.
    StreamEnd,
}

impl Hook {
    /// Every hook.
    pub const ALL: [Hook; 4] = [
        Hook::BeforeCall,
        Hook::Success,
        Hook::Failure,
        Hook::StreamEnd,
    ];

    /// A stable name: `before_call`, `success`, `failure`, `stream_end`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::BeforeCall => "before_call",
            Hook::Success => "success",
            Hook::Failure => "failure",
            Hook::StreamEnd => "stream_end",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Hook::BeforeCall => 1,
            Hook::Success => 2,
            Hook::Failure => 4,
            Hook::StreamEnd => 8,
        }
    }

    /// `Success` or `Failure`, as the event says.
    pub fn outcome(event: &CallEvent) -> Hook {
        if event.is_success() {
            Hook::Success
        } else {
            Hook::Failure
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Code told about calls. Every hook has a default that does nothing; implement those you
/// need. Hooks run on the callback's own background task (see the [module docs](self)), so they
/// may take their time, but one callback handles one event at a time.
///
/// What each hook's [`CallEvent`] holds:
///
/// | field | `before_call` | `on_success` / `on_stream_end` | `on_failure` |
/// |---|---|---|---|
/// | `call_id`, `call_type`, `model`, `start`, `metadata` | yes | yes | yes |
/// | `model_group`, `deployment_id`, `provider`, `provider_model` | when already resolved | yes | when an attempt was made |
/// | `end`, `latency`, `attempts`, `fallbacks` | no | yes | yes |
/// | `time_to_first_token` | no | streams | streams that started |
/// | `usage`, `cost`, `request_id` | no | when known | no |
/// | `cache_hit`, `cache_checked` | no | yes | yes |
/// | `error` | no | `None` (stream end: the error if the stream failed) | yes |
/// | `messages`, `response` | detailed level only | detailed level only | messages only |
#[async_trait]
pub trait Callback: Send + Sync {
    /// A name for logs and `Debug` (the type name by default).
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// Whether this callback wants `hook` at all. Read once when the callback is added to a
    /// [`Callbacks`] set; events for unwanted hooks are not even queued (so a callback that
    /// says no to [`Hook::BeforeCall`] saves a copy of the event per call). All by default.
    fn wants(&self, hook: Hook) -> bool {
        let _ = hook;
        true
    }

    /// Before the call is sent.
    async fn before_call(&self, event: &CallEvent) -> CallbackResult {
        let _ = event;
        Ok(())
    }

    /// After a call succeeded.
    async fn on_success(&self, event: &CallEvent) -> CallbackResult {
        let _ = event;
        Ok(())
    }

    /// After a call failed.
    async fn on_failure(&self, event: &CallEvent) -> CallbackResult {
        let _ = event;
        Ok(())
    }

    /// When a stream ended (before `on_success` / `on_failure` for the same event).
    async fn on_stream_end(&self, event: &CallEvent) -> CallbackResult {
        let _ = event;
        Ok(())
    }

    /// Deliver anything buffered (called by [`Callbacks::flush`] and [`Callbacks::shutdown`],
    /// after every event queued before them).
    async fn flush(&self) -> CallbackResult {
        Ok(())
    }
}

/// Counters of a [`Callbacks`] set, summed over its callbacks (one per callback and event).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CallbackStats {
    /// Events queued.
    pub queued: u64,
    /// Events dropped: the callback's queue was full, there was no tokio runtime, or the set
    /// was shut down.
    pub dropped: u64,
    /// Hook calls that returned `Ok` (flushes not counted).
    pub delivered: u64,
    /// Hook calls that returned an error.
    pub failed: u64,
    /// Hook calls that panicked.
    pub panicked: u64,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    dropped: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    panicked: AtomicU64,
}

enum Msg {
    Event {
        hooks: [Option<Hook>; 2],
        event: Arc<CallEvent>,
    },
    Flush(oneshot::Sender<()>),
}

struct Slot {
    callback: Arc<dyn Callback>,
    wants: u8,
    queue: LazyQueue<Msg>,
}

struct Inner {
    slots: Vec<Slot>,
    wants: u8,
    detailed: bool,
    closed: AtomicBool,
    counters: Arc<Counters>,
}

/// A set of [`Callback`]s and the dispatcher that runs them off the hot path. Cheap to clone
/// (clones share the queues); the empty set (the default) costs one branch per call.
///
/// See the [module docs](self) for the guarantees.
#[derive(Clone)]
pub struct Callbacks {
    inner: Arc<Inner>,
}

impl Default for Callbacks {
    fn default() -> Self {
        Callbacks::builder().build()
    }
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks")
            .field(
                "callbacks",
                &self
                    .inner
                    .slots
                    .iter()
                    .map(|s| s.callback.name())
                    .collect::<Vec<_>>(),
            )
            .field("detailed", &self.inner.detailed)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Builds a [`Callbacks`] set.
#[must_use = "a builder does nothing until `.build()` is called; builder methods return the changed builder"]
pub struct CallbacksBuilder {
    callbacks: Vec<Arc<dyn Callback>>,
    capacity: usize,
    detailed: bool,
}

impl fmt::Debug for CallbacksBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbacksBuilder")
            .field(
                "callbacks",
                &self.callbacks.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )
            .field("queue_capacity", &self.capacity)
            .field("detailed", &self.detailed)
            .finish()
    }
}

impl CallbacksBuilder {
    /// Adds a callback.
    pub fn callback(mut self, callback: Arc<dyn Callback>) -> Self {
        self.callbacks.push(callback);
        self
    }

    /// Capacity of each callback's queue (default [`DEFAULT_QUEUE_CAPACITY`]; at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Whether events carry the request's messages and the response (the detailed level; off
    /// by default). The pipeline reads it with [`Callbacks::detailed`] and fills them only then.
    pub fn detailed(mut self, on: bool) -> Self {
        self.detailed = on;
        self
    }

    /// The set.
    pub fn build(self) -> Callbacks {
        let slots: Vec<Slot> = self
            .callbacks
            .into_iter()
            .map(|callback| {
                let wants = Hook::ALL
                    .iter()
                    .filter(|h| callback.wants(**h))
                    .fold(0, |m, h| m | h.bit());
                Slot {
                    callback,
                    wants,
                    queue: LazyQueue::new(self.capacity),
                }
            })
            .collect();
        Callbacks {
            inner: Arc::new(Inner {
                wants: slots.iter().fold(0, |m, s| m | s.wants),
                slots,
                detailed: self.detailed,
                closed: AtomicBool::new(false),
                counters: Arc::default(),
            }),
        }
    }
}

impl Callbacks {
    /// A builder.
    pub fn builder() -> CallbacksBuilder {
        CallbacksBuilder {
            callbacks: Vec::new(),
            capacity: DEFAULT_QUEUE_CAPACITY,
            detailed: false,
        }
    }

    /// A set of these callbacks with the default settings.
    pub fn new(callbacks: impl IntoIterator<Item = Arc<dyn Callback>>) -> Callbacks {
        callbacks
            .into_iter()
            .fold(Callbacks::builder(), CallbacksBuilder::callback)
            .build()
    }

    /// True when there are no callbacks (the pipeline can skip building events).
    pub fn is_empty(&self) -> bool {
        self.inner.slots.is_empty()
    }

    /// Number of callbacks.
    pub fn len(&self) -> usize {
        self.inner.slots.len()
    }

    /// Whether events should carry messages and response (the detailed level). A plain field
    /// read.
    pub fn detailed(&self) -> bool {
        self.inner.detailed
    }

    /// Whether any callback wants `hook` (the pipeline can skip building that event).
    pub fn wants(&self, hook: Hook) -> bool {
        self.inner.wants & hook.bit() != 0
    }

    /// Emits [`Hook::BeforeCall`]; copies the event only when some callback wants it.
    pub fn before_call(&self, event: &CallEvent) {
        if self.wants(Hook::BeforeCall) {
            self.emit(Hook::BeforeCall, Arc::new(event.clone()));
        }
    }

    /// Emits [`Hook::Success`] or [`Hook::Failure`], as `event.error` says.
    pub fn call_finished(&self, event: Arc<CallEvent>) {
        let hook = Hook::outcome(&event);
        self.send([Some(hook), None], event);
    }

    /// Emits [`Hook::StreamEnd`] and then [`Hook::Success`] or [`Hook::Failure`] for a stream
    /// that ended (so every call ends with exactly one success or failure).
    pub fn stream_ended(&self, event: Arc<CallEvent>) {
        let hook = Hook::outcome(&event);
        self.send([Some(Hook::StreamEnd), Some(hook)], event);
    }

    /// Emits one hook.
    pub fn emit(&self, hook: Hook, event: Arc<CallEvent>) {
        self.send([Some(hook), None], event);
    }

    fn send(&self, hooks: [Option<Hook>; 2], event: Arc<CallEvent>) {
        let bits = hooks.iter().flatten().fold(0, |m, h| m | h.bit());
        if self.inner.wants & bits == 0 {
            return;
        }
        let counters = &self.inner.counters;
        let closed = self.inner.closed.load(Ordering::Acquire);
        for slot in &self.inner.slots {
            if slot.wants & bits == 0 {
                continue;
            }
            if closed {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let hooks = hooks.map(|h| h.filter(|h| slot.wants & h.bit() != 0));
            let msg = Msg::Event {
                hooks,
                event: event.clone(),
            };
            let sent = slot.queue.try_send(msg, |rx| {
                run(slot.callback.clone(), rx, self.inner.counters.clone())
            });
            match sent {
                Ok(()) => counters.queued.fetch_add(1, Ordering::Relaxed),
                Err(Rejected::Full | Rejected::Unavailable) => {
                    counters.dropped.fetch_add(1, Ordering::Relaxed)
                }
            };
        }
    }

    /// Waits until every event queued before this call has been delivered, then calls each
    /// callback's [`Callback::flush`].
    pub async fn flush(&self) {
        for slot in &self.inner.slots {
            flush_slot(slot, &self.inner.counters).await;
        }
    }

    /// Flushes, then stops the background tasks. Events emitted afterwards are dropped and
    /// counted. Safe to call more than once, and from any clone.
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::Release);
        for slot in &self.inner.slots {
            flush_slot(slot, &self.inner.counters).await;
            slot.queue.close().await;
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CallbackStats {
        let c = &self.inner.counters;
        CallbackStats {
            queued: c.queued.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            panicked: c.panicked.load(Ordering::Relaxed),
        }
    }
}

async fn flush_slot(slot: &Slot, counters: &Counters) {
    if let Some(tx) = slot.queue.sender() {
        let (done, wait) = oneshot::channel();
        if tx.send(Msg::Flush(done)).await.is_ok() {
            // An error means the task ended (its runtime shut down): nothing left to wait for.
            let _ = wait.await;
            return;
        }
    }
    // No task running: nothing is queued, only the callback's own buffer to flush.
    invoke_flush(&*slot.callback, counters).await;
}

async fn run(callback: Arc<dyn Callback>, mut rx: mpsc::Receiver<Msg>, counters: Arc<Counters>) {
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Event { hooks, event } => {
                for hook in hooks.into_iter().flatten() {
                    invoke(&*callback, hook, &event, &counters).await;
                }
            }
            Msg::Flush(done) => {
                invoke_flush(&*callback, &counters).await;
                let _ = done.send(());
            }
        }
    }
}

async fn invoke(callback: &dyn Callback, hook: Hook, event: &CallEvent, counters: &Counters) {
    let fut = match hook {
        Hook::BeforeCall => callback.before_call(event),
        Hook::Success => callback.on_success(event),
        Hook::Failure => callback.on_failure(event),
        Hook::StreamEnd => callback.on_stream_end(event),
    };
    settle(callback, hook.as_str(), fut, counters).await;
}

async fn invoke_flush(callback: &dyn Callback, counters: &Counters) {
    // A panic while *creating* the future is caught as well.
    let fut = AssertUnwindSafe(async { callback.flush().await });
    settle(callback, "flush", fut, counters).await;
}

async fn settle(
    callback: &dyn Callback,
    hook: &str,
    fut: impl std::future::Future<Output = CallbackResult>,
    counters: &Counters,
) {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => {
            if hook != "flush" {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(Err(e)) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target: "litellm::callback", callback = callback.name(), hook, error = %e, "callback failed");
        }
        Err(_) => {
            counters.panicked.fetch_add(1, Ordering::Relaxed);
            tracing::error!(target: "litellm::callback", callback = callback.name(), hook, "callback panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{CallType, EventError};
    use crate::{ErrorKind, Metadata};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    #[derive(Default)]
    struct Recorder {
        seen: Mutex<Vec<(Hook, String)>>,
    }

    impl Recorder {
        fn seen(&self) -> Vec<(Hook, String)> {
            self.seen.lock().unwrap().clone()
        }
        fn push(&self, hook: Hook, e: &CallEvent) -> CallbackResult {
            self.seen.lock().unwrap().push((hook, e.call_id.clone()));
            Ok(())
        }
    }

    #[async_trait]
    impl Callback for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        async fn before_call(&self, e: &CallEvent) -> CallbackResult {
            self.push(Hook::BeforeCall, e)
        }
        async fn on_success(&self, e: &CallEvent) -> CallbackResult {
            self.push(Hook::Success, e)
        }
        async fn on_failure(&self, e: &CallEvent) -> CallbackResult {
            self.push(Hook::Failure, e)
        }
        async fn on_stream_end(&self, e: &CallEvent) -> CallbackResult {
            self.push(Hook::StreamEnd, e)
        }
    }

    struct Panicker;

    #[async_trait]
    impl Callback for Panicker {
        async fn on_success(&self, _: &CallEvent) -> CallbackResult {
            panic!("boom");
        }
        async fn on_failure(&self, _: &CallEvent) -> CallbackResult {
            Err("refused".into())
        }
    }

    struct Slow(Duration);

    #[async_trait]
    impl Callback for Slow {
        async fn on_success(&self, _: &CallEvent) -> CallbackResult {
            tokio::time::sleep(self.0).await;
            Ok(())
        }
    }

    fn event(id: &str) -> CallEvent {
        let mut e = CallEvent::new(CallType::Chat, "m", Metadata::new());
        e.call_id = id.to_owned();
        e
    }

    fn failed(id: &str) -> CallEvent {
        let mut e = event(id);
        e.error = Some(EventError {
            kind: ErrorKind::RateLimit,
            message: "slow down".into(),
            status: Some(429),
        });
        e
    }

    #[tokio::test]
    async fn delivers_every_hook_in_order() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::builder().callback(rec.clone()).build();
        cbs.before_call(&event("a"));
        cbs.call_finished(Arc::new(event("a")));
        cbs.call_finished(Arc::new(failed("b")));
        cbs.stream_ended(Arc::new(event("c")));
        cbs.stream_ended(Arc::new(failed("d")));
        cbs.emit(Hook::StreamEnd, Arc::new(event("e")));
        cbs.flush().await;
        let ids = |h: Hook, id: &str| (h, id.to_owned());
        assert_eq!(
            rec.seen(),
            vec![
                ids(Hook::BeforeCall, "a"),
                ids(Hook::Success, "a"),
                ids(Hook::Failure, "b"),
                ids(Hook::StreamEnd, "c"),
                ids(Hook::Success, "c"),
                ids(Hook::StreamEnd, "d"),
                ids(Hook::Failure, "d"),
                ids(Hook::StreamEnd, "e"),
            ]
        );
        let s = cbs.stats();
        assert_eq!((s.queued, s.dropped, s.delivered), (6, 0, 8));
    }

    #[tokio::test]
    async fn panics_and_errors_are_contained() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::new([Arc::new(Panicker) as Arc<dyn Callback>, rec.clone()]);
        for i in 0..3 {
            cbs.call_finished(Arc::new(event(&format!("ok{i}"))));
            cbs.call_finished(Arc::new(failed(&format!("err{i}"))));
        }
        cbs.flush().await;
        let s = cbs.stats();
        assert_eq!(s.panicked, 3);
        assert_eq!(s.failed, 3);
        // The panicking callback's task survived every panic, and the other one saw everything.
        assert_eq!(rec.seen().len(), 6);
        // Only the recorder's six hook calls were delivered (flushes are not counted).
        assert_eq!(s.delivered, 6);
    }

    #[tokio::test]
    async fn slow_callback_never_blocks_and_drops_when_full() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::builder()
            .callback(Arc::new(Slow(Duration::from_millis(200))))
            .callback(rec.clone())
            .queue_capacity(4)
            .build();
        let t = Instant::now();
        for i in 0..20 {
            cbs.call_finished(Arc::new(event(&i.to_string())));
        }
        // Twenty events to a callback that takes 200 ms each: emitting took no time at all.
        assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
        let s = cbs.stats();
        // The slow callback took at most 4 queued events (its task has not run yet on this
        // single-threaded runtime); the recorder took 4 as well: capacity is per callback.
        assert_eq!(s.queued, 8);
        assert_eq!(s.dropped, 32);
        cbs.flush().await;
        assert_eq!(rec.seen().len(), 4);
    }

    #[tokio::test]
    async fn wants_filters_hooks_and_before_call_skips_the_copy() {
        struct OnlyFailures(Recorder);
        #[async_trait]
        impl Callback for OnlyFailures {
            fn wants(&self, hook: Hook) -> bool {
                hook == Hook::Failure
            }
            async fn on_failure(&self, e: &CallEvent) -> CallbackResult {
                self.0.push(Hook::Failure, e)
            }
            async fn on_stream_end(&self, e: &CallEvent) -> CallbackResult {
                self.0.push(Hook::StreamEnd, e)
            }
        }
        let cb = Arc::new(OnlyFailures(Recorder::default()));
        let cbs = Callbacks::new([cb.clone() as Arc<dyn Callback>]);
        assert!(!cbs.wants(Hook::BeforeCall));
        assert!(cbs.wants(Hook::Failure));
        cbs.before_call(&event("a"));
        cbs.call_finished(Arc::new(event("a")));
        cbs.stream_ended(Arc::new(failed("b")));
        cbs.flush().await;
        assert_eq!(cb.0.seen(), vec![(Hook::Failure, "b".to_owned())]);
        assert_eq!(cbs.stats().queued, 1);
    }

    #[test]
    fn outside_a_runtime_events_are_dropped_not_panicking() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::new([rec.clone() as Arc<dyn Callback>]);
        cbs.call_finished(Arc::new(event("x")));
        assert_eq!(cbs.stats().dropped, 1);
        assert!(rec.seen().is_empty());
    }

    #[test]
    fn worker_is_respawned_on_a_new_runtime() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::new([rec.clone() as Arc<dyn Callback>]);
        for round in 0..3 {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                cbs.call_finished(Arc::new(event(&format!("r{round}"))));
                cbs.flush().await;
            });
            // Dropping the runtime kills the worker task.
            drop(rt);
        }
        assert_eq!(rec.seen().len(), 3);
        assert_eq!(cbs.stats().dropped, 0);
    }

    #[tokio::test]
    async fn shutdown_drains_then_drops() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::new([rec.clone() as Arc<dyn Callback>]);
        for i in 0..10 {
            cbs.call_finished(Arc::new(event(&i.to_string())));
        }
        cbs.clone().shutdown().await;
        assert_eq!(rec.seen().len(), 10);
        cbs.call_finished(Arc::new(event("late")));
        assert_eq!(cbs.stats().dropped, 1);
        cbs.shutdown().await;
        assert_eq!(rec.seen().len(), 10);
    }

    #[tokio::test]
    async fn empty_set_is_inert() {
        let cbs = Callbacks::default();
        assert!(cbs.is_empty());
        assert!(!cbs.detailed());
        cbs.before_call(&event("a"));
        cbs.call_finished(Arc::new(event("a")));
        cbs.flush().await;
        assert_eq!(cbs.stats(), CallbackStats::default());
        assert!(format!("{cbs:?}").contains("callbacks: []"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_emitters_lose_nothing_below_capacity() {
        let rec = Arc::new(Recorder::default());
        let cbs = Callbacks::builder()
            .callback(rec.clone())
            .queue_capacity(100_000)
            .build();
        let mut tasks = Vec::new();
        for t in 0..8 {
            let cbs = cbs.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..500 {
                    cbs.call_finished(Arc::new(event(&format!("{t}-{i}"))));
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        cbs.flush().await;
        assert_eq!(rec.seen().len(), 4000);
        assert_eq!(cbs.stats().dropped, 0);
    }
}
