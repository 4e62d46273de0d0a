//! [`Observer`]: callbacks, logging level and metrics together, as the call pipeline uses them.

use std::sync::Arc;

use super::callback::{Callbacks, Hook};
use super::event::CallEvent;
use super::logging::{self, LogLevel};
use super::metrics::Metrics;

/// Everything that watches calls, in one value the pipeline keeps: a [`Callbacks`] set, a
/// [`LogLevel`] and optional [`Metrics`]. Cheap to clone. The default watches nothing, and then
/// [`is_active`](Observer::is_active) is false and the pipeline builds no event at all.
///
/// Per call the pipeline does:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use litellm::Metadata;
/// use litellm::observe::logging::LogLevel;
/// use litellm::observe::{CallEvent, CallType, Callbacks, Metrics, Observer};
///
/// let metrics = Metrics::new();
/// let observer = Observer::new(Callbacks::default(), LogLevel::Basic, Some(metrics.clone()));
///
/// if observer.is_active() {
///     let mut event = CallEvent::new(CallType::Chat, "gpt-4o", Metadata::new());
///     if observer.detailed() { /* event.messages = Some(request.messages.clone()) */ }
///     observer.before_call(&event);
///     // … the call …
///     event.attempts = 1;
///     observer.call_finished(event);
/// }
/// assert!(metrics.render().contains("litellm_requests_total"));
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Observer {
    callbacks: Callbacks,
    log_level: LogLevel,
    metrics: Option<Metrics>,
}

impl Observer {
    /// An observer of these parts.
    pub fn new(callbacks: Callbacks, log_level: LogLevel, metrics: Option<Metrics>) -> Observer {
        Observer {
            callbacks,
            log_level,
            metrics,
        }
    }

    /// The callbacks.
    pub fn callbacks(&self) -> &Callbacks {
        &self.callbacks
    }

    /// The logging level.
    pub fn log_level(&self) -> LogLevel {
        self.log_level
    }

    /// The metrics registry, when there is one.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    /// True when anything watches calls (there are callbacks, logging is on, metrics are
    /// kept, or a `tracing` subscriber wants the call lines, see
    /// [`effective_level`](logging::effective_level)); when false the pipeline skips building
    /// events.
    pub fn is_active(&self) -> bool {
        !self.callbacks.is_empty()
            || self.log_level.is_on()
            || self.metrics.is_some()
            || logging::subscriber_listens()
    }

    /// True when events should carry `messages` and `response`: the callbacks are detailed
    /// or the logging level is `Detailed` or above.
    pub fn detailed(&self) -> bool {
        self.callbacks.detailed() || self.log_level.includes_messages()
    }

    /// A `tracing` span for the call of `event` (disabled unless its line would be logged; see
    /// [`logging::call_span`]).
    pub fn span(&self, event: &CallEvent) -> tracing::Span {
        logging::call_span(self.log_level, event)
    }

    /// A `tracing` span for a call about to start, to instrument its future with (disabled
    /// unless its line would be logged; see [`logging::start_span`]). The call id, provider and
    /// deployment are recorded on it by [`before_call`](Observer::before_call) and
    /// [`call_finished`](Observer::call_finished), which run inside it.
    pub fn start_span(&self, call_type: super::CallType, model: &str) -> tracing::Span {
        logging::start_span(self.log_level, call_type, model)
    }

    /// Before the call is sent: records the call id on the call's span (when the call runs in
    /// one) and queues `before_call` callbacks (the event is copied only if one wants it).
    pub fn before_call(&self, event: &CallEvent) {
        logging::record_start(event);
        self.callbacks.before_call(event);
    }

    /// A call finished (success or failure; not a stream that was opened, see
    /// [`stream_ended`](Observer::stream_ended)): logs its line, records its metrics, queues
    /// `on_success` / `on_failure`.
    pub fn call_finished(&self, event: CallEvent) {
        logging::record_end(&event);
        self.finish(event, false);
    }

    /// An opened stream ended (completely, with an error, or dropped by the caller): logs,
    /// records, queues `on_stream_end` then `on_success` / `on_failure`.
    pub fn stream_ended(&self, event: CallEvent) {
        self.finish(event, true);
    }

    fn finish(&self, event: CallEvent, stream: bool) {
        logging::log_event(self.log_level, &event);
        if let Some(m) = &self.metrics {
            m.record(&event);
        }
        let hook = Hook::outcome(&event);
        let wanted =
            self.callbacks.wants(hook) || (stream && self.callbacks.wants(Hook::StreamEnd));
        if wanted {
            let event = Arc::new(event);
            if stream {
                self.callbacks.stream_ended(event);
            } else {
                self.callbacks.call_finished(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use crate::observe::{CallType, Callback, CallbackResult, EventError};
    use async_trait::async_trait;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Seen(Mutex<Vec<(Hook, bool)>>);

    #[async_trait]
    impl Callback for Seen {
        async fn before_call(&self, e: &CallEvent) -> CallbackResult {
            self.0
                .lock()
                .unwrap()
                .push((Hook::BeforeCall, e.is_success()));
            Ok(())
        }
        async fn on_success(&self, e: &CallEvent) -> CallbackResult {
            self.0.lock().unwrap().push((Hook::Success, e.is_success()));
            Ok(())
        }
        async fn on_failure(&self, e: &CallEvent) -> CallbackResult {
            self.0.lock().unwrap().push((Hook::Failure, e.is_success()));
            Ok(())
        }
        async fn on_stream_end(&self, e: &CallEvent) -> CallbackResult {
            self.0
                .lock()
                .unwrap()
                .push((Hook::StreamEnd, e.is_success()));
            Ok(())
        }
    }

    #[test]
    fn parts_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Observer>();
        check::<Callbacks>();
        check::<Metrics>();
        check::<crate::observe::Webhook>();
        check::<crate::observe::JsonLinesLogger>();
    }

    #[test]
    fn default_is_inactive() {
        let o = Observer::default();
        assert!(!o.is_active());
        assert!(!o.detailed());
        assert!(o.metrics().is_none());
        assert!(
            o.span(&CallEvent::new(CallType::Chat, "m", Metadata::new()))
                .is_none()
        );
    }

    #[test]
    fn detailed_comes_from_callbacks_or_level() {
        let cbs = Callbacks::builder().detailed(true).build();
        assert!(Observer::new(cbs, LogLevel::Off, None).detailed());
        assert!(Observer::new(Callbacks::default(), LogLevel::Detailed, None).detailed());
        let basic = Observer::new(Callbacks::default(), LogLevel::Basic, None);
        assert!(basic.is_active() && !basic.detailed());
    }

    #[tokio::test]
    async fn finishes_reach_metrics_and_callbacks() {
        let seen = Arc::new(Seen::default());
        let metrics = Metrics::new();
        let o = Observer::new(
            Callbacks::new([seen.clone() as Arc<dyn Callback>]),
            LogLevel::Off,
            Some(metrics.clone()),
        );
        let ok = CallEvent::new(CallType::Chat, "m", Metadata::new());
        let mut bad = CallEvent::new(CallType::ChatStream, "m", Metadata::new());
        bad.error = Some(EventError {
            kind: crate::ErrorKind::Timeout,
            message: "t".into(),
            status: None,
        });
        o.before_call(&ok);
        o.call_finished(ok);
        o.stream_ended(bad);
        o.callbacks().flush().await;
        assert_eq!(
            *seen.0.lock().unwrap(),
            vec![
                (Hook::BeforeCall, true),
                (Hook::Success, true),
                (Hook::StreamEnd, false),
                (Hook::Failure, false),
            ]
        );
        let text = metrics.render();
        assert!(text.contains(r#"model_group="m",deployment="",provider="",status="success"} 1"#));
        assert!(text.contains(r#"error_kind="timeout"} 1"#), "{text}");
    }
}
