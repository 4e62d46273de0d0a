//! Logging levels: one `tracing` line per call, with more in it at higher levels, like Python
//! LiteLLM's debug modes.
//!
//! | [`LogLevel`] | `LITELLM_LOG` | what each call logs |
//! |---|---|---|
//! | `Off` (default) | unset, `OFF`, `NONE`, `ERROR`, `WARN`, `WARNING` | nothing |
//! | `Basic` | `INFO` | one line: model, model group, deployment, provider, status, latency, time to first token, tokens, cost, cache hit, error kind and message |
//! | `Detailed` | `DEBUG` | the same line plus `prompt` (the messages as JSON) and `completion` (the answer as JSON) |
//! | `VeryDetailed` | `TRACE` | plus call type, provider model, attempts, fallbacks, request id, start and end, user, key, tags, the whole metadata (credentials redacted), cached and reasoning tokens; and a line per retry, refused retry, cooldown and fallback ([`log_retry`], [`log_retry_refused`], [`log_cooldown`], [`log_fallback`]) |
//!
//! The call line is a `tracing` event with target `litellm::call`, at `INFO` for a success and
//! `WARN` for a failure, whatever the level: the level decides what is *in* the line, your
//! subscriber decides where it goes.
//!
//! **No level set is not silence.** When the level is `Off` (nothing set, or
//! `LITELLM_LOG=OFF`) but a subscriber wants `INFO` events of `litellm::call` (e.g.
//! `RUST_LOG=litellm=info` with `tracing-subscriber`'s `EnvFilter`), each call logs the `Basic`
//! line ([`effective_level`]): the subscriber alone is enough to see one line per call. Filter
//! `litellm::call` out in the subscriber to silence it; set a level for more (`DEBUG`, `TRACE`).
//! When no subscriber wants those lines, nothing is built or formatted: the check is
//! `tracing::enabled!`, whose answer `tracing` caches per call site (a load and a compare; a
//! few nanoseconds).
//!
//! Every call of a `Client` or `Router` runs inside an `llm_call` span ([`start_span`], target
//! `litellm::call`, fields `call_type`, `model`, `call_id`, `provider`, `deployment`), so the
//! lines logged while the call runs (retries, the call line, and your own events in a custom
//! provider) carry it. It is enabled exactly when the call line would be logged at `INFO`.
//!
//! Numbers are rounded for reading: `latency_ms`, `ttft_ms` and `wait_ms` to 0.1 ms,
//! `cost_usd` to 9 decimals (whole nano-dollars, the ledger's unit; written as text without an
//! exponent: `0.00000465`), `cooldown_s` and the Unix times `start` and `end` to the
//! millisecond. `prompt` and `completion` are cut at
//! [`MAX_FIELD_BYTES`] each.
//!
//! The level is set in code ([`LogLevel`]) or read from `LITELLM_LOG` **once, when the client
//! is built** ([`LogLevel::from_env`]); it is a `Copy` value the pipeline keeps and compares.
//!
//! ```
//! use litellm::Metadata;
//! use litellm::observe::logging::{LogLevel, effective_level, log_event};
//! use litellm::observe::{CallEvent, CallType};
//!
//! assert_eq!(LogLevel::from_env_value(Some("DEBUG")), LogLevel::Detailed);
//! let event = CallEvent::new(CallType::Chat, "gpt-4o", Metadata::new());
//! log_event(LogLevel::Basic, &event); // one INFO line on target `litellm::call`
//! // With no level set, a line only when a subscriber wants `litellm::call` at INFO:
//! assert_eq!(effective_level(LogLevel::Off), LogLevel::Off); // no subscriber here
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::Level;

use super::event::{CallEvent, EventError, redact_value};
use crate::error::ErrorKind;

/// The environment variable read by [`LogLevel::from_env`].
pub const LOG_ENV: &str = "LITELLM_LOG";

/// Most bytes of `prompt` and of `completion` in one log line; longer values are cut at a
/// character boundary and end with `…[N bytes cut]`.
pub const MAX_FIELD_BYTES: usize = 32 * 1024;

/// The `tracing` target of the call lines.
pub const TARGET: &str = "litellm::call";

/// How much each call logs (see the [module docs](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LogLevel {
    /// Nothing per call.
    #[default]
    Off,
    /// One line per call (`LITELLM_LOG=INFO`).
    Basic,
    /// Plus prompt and completion (`LITELLM_LOG=DEBUG`).
    Detailed,
    /// Plus metadata, timings, retries, cooldowns and fallbacks (`LITELLM_LOG=TRACE`).
    VeryDetailed,
}

impl LogLevel {
    /// The level `LITELLM_LOG` asks for: `INFO` → `Basic`, `DEBUG` → `Detailed`, `TRACE` →
    /// `VeryDetailed`; unset, `OFF`/`NONE`/`ERROR`/`WARN`/`WARNING` → `Off`. An unknown value
    /// is `Off` and logged as a warning. Call it once (the client does, when it is built).
    pub fn from_env() -> LogLevel {
        LogLevel::from_env_value(std::env::var(LOG_ENV).ok().as_deref())
    }

    /// [`from_env`](LogLevel::from_env) with the variable's value given.
    pub fn from_env_value(value: Option<&str>) -> LogLevel {
        match value {
            None => LogLevel::Off,
            Some(v) => LogLevel::parse(v).unwrap_or_else(|| {
                tracing::warn!(target: "litellm", "{LOG_ENV}={v:?} is not INFO, DEBUG or TRACE; call logging stays off");
                LogLevel::Off
            }),
        }
    }

    /// Parses a level, case-insensitively: `INFO`/`basic`, `DEBUG`/`detailed`,
    /// `TRACE`/`very_detailed`, `OFF`/`NONE`/`ERROR`/`WARN`/`WARNING`/empty.
    pub fn parse(s: &str) -> Option<LogLevel> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "" | "off" | "none" | "error" | "warn" | "warning" => Some(LogLevel::Off),
            "info" | "basic" => Some(LogLevel::Basic),
            "debug" | "detailed" => Some(LogLevel::Detailed),
            "trace" | "very_detailed" | "verbose" => Some(LogLevel::VeryDetailed),
            _ => None,
        }
    }

    /// True unless `Off`.
    pub const fn is_on(self) -> bool {
        !matches!(self, LogLevel::Off)
    }

    /// True at `Detailed` and above: the pipeline fills `messages` and `response` of events.
    pub const fn includes_messages(self) -> bool {
        matches!(self, LogLevel::Detailed | LogLevel::VeryDetailed)
    }

    /// True at `VeryDetailed`.
    pub const fn includes_everything(self) -> bool {
        matches!(self, LogLevel::VeryDetailed)
    }

    /// `off`, `basic`, `detailed`, `very_detailed`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Basic => "basic",
            LogLevel::Detailed => "detailed",
            LogLevel::VeryDetailed => "very_detailed",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`LogLevel::from_str`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLogLevelError(String);

impl fmt::Display for ParseLogLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown log level {:?}", self.0)
    }
}

impl std::error::Error for ParseLogLevelError {}

impl FromStr for LogLevel {
    type Err = ParseLogLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogLevel::parse(s).ok_or_else(|| ParseLogLevelError(s.to_owned()))
    }
}

/// True when a `tracing` subscriber wants the `INFO` events of target `litellm::call` (the call
/// lines). `tracing` caches the answer per call site, so this costs a load and a compare when
/// no subscriber wants them.
pub fn subscriber_listens() -> bool {
    tracing::enabled!(target: TARGET, Level::INFO)
}

/// The level a call is logged at: `level` when one is set; when it is `Off`, `Basic` if a
/// subscriber wants the call lines ([`subscriber_listens`]), so that `RUST_LOG=litellm=info`
/// alone gives one line per call; else `Off`.
pub fn effective_level(level: LogLevel) -> LogLevel {
    if level.is_on() {
        level
    } else if subscriber_listens() {
        LogLevel::Basic
    } else {
        LogLevel::Off
    }
}

/// The name of the call span.
const SPAN_NAME: &str = "llm_call";

/// A span for one call that is about to start (target `litellm::call`, name `llm_call`), to
/// instrument the call's future with. `call_type` and `model` are set now; `call_id`,
/// `provider` and `deployment` are recorded on it as the call learns them (by the
/// [`Observer`](super::Observer) when the call starts and when it ends). Lines logged inside it
/// (retries, the call line, your own events in a custom provider) carry its fields. Disabled,
/// at no cost, unless the call line would be logged at `INFO` ([`effective_level`] on, and a
/// subscriber listening).
pub fn start_span(level: LogLevel, call_type: super::CallType, model: &str) -> tracing::Span {
    if !level.is_on() && !subscriber_listens() {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        SPAN_NAME,
        call_type = call_type.as_str(),
        model,
        call_id = tracing::field::Empty,
        provider = tracing::field::Empty,
        deployment = tracing::field::Empty,
    )
}

/// A span for the call `event` (see [`start_span`]), with what the event already knows
/// recorded on it.
pub fn call_span(level: LogLevel, event: &CallEvent) -> tracing::Span {
    let span = start_span(level, event.call_type, &event.model);
    record_on(&span, event, true);
    span
}

/// Records what `event` knows on `span`: the call id when `start`, the provider and the
/// deployment when known. Each is recorded once per span (a formatter such as
/// `tracing-subscriber`'s `fmt` appends a field every time it is recorded).
fn record_on(span: &tracing::Span, event: &CallEvent, start: bool) {
    if span.is_disabled() {
        return;
    }
    if start {
        span.record("call_id", event.call_id.as_str());
    }
    if let Some(p) = &event.provider {
        span.record("provider", p.as_str());
    }
    if let Some(d) = &event.deployment_id {
        span.record("deployment", d.as_str());
    }
}

/// The current span, when it is a call span ([`start_span`]): the call's own span, when the
/// call runs inside it.
fn current_call_span() -> Option<tracing::Span> {
    let span = tracing::Span::current();
    span.metadata()
        .is_some_and(|m| m.name() == SPAN_NAME && m.target() == TARGET)
        .then_some(span)
}

/// When the call of `event` starts inside its call span: records its id there.
pub(crate) fn record_start(event: &CallEvent) {
    if let Some(span) = current_call_span() {
        span.record("call_id", event.call_id.as_str());
    }
}

/// When the call of `event` ends inside its call span: records the provider and deployment
/// that answered (or failed) there.
pub(crate) fn record_end(event: &CallEvent) {
    if let Some(span) = current_call_span() {
        record_on(&span, event, false);
    }
}

/// Milliseconds, rounded to 0.1 ms.
fn ms(d: Duration) -> f64 {
    (d.as_micros().saturating_add(50) / 100) as f64 / 10.0
}

/// USD for a log line: rounded to 9 decimals (whole nano-dollars), written without an exponent
/// or trailing zeros (`0.0042`, `0.00000465`, `0`).
struct Usd(f64);

impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.is_finite() {
            return write!(f, "{}", self.0);
        }
        let s = format!("{:.9}", self.0);
        let t = s.trim_end_matches('0').trim_end_matches('.');
        f.write_str(match t {
            "" | "-" | "-0" => "0",
            t => t,
        })
    }
}

/// Unix seconds, rounded to the millisecond.
fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

/// `s` cut to at most `max` bytes at a character boundary, with a marker when cut.
pub(crate) fn cut(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut at = max;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    let dropped = s.len() - at;
    s.truncate(at);
    s.push_str(&format!("…[{dropped} bytes cut]"));
    s
}

fn json_field<T: serde::Serialize>(v: &T) -> String {
    cut(
        serde_json::to_string(v).unwrap_or_default(),
        MAX_FIELD_BYTES,
    )
}

/// Logs the finished call `event` at `level` (one line, see the [module docs](self)); with
/// `Off`, at `Basic` when a subscriber listens ([`effective_level`]). What the pipeline calls
/// once per call, after success or failure (for a stream: when it ended).
pub fn log_event(level: LogLevel, event: &CallEvent) {
    let level = effective_level(level);
    if !level.is_on() {
        return;
    }
    let ok = event.is_success();
    let listening = if ok {
        tracing::enabled!(target: TARGET, Level::INFO)
    } else {
        tracing::enabled!(target: TARGET, Level::WARN)
    };
    if !listening {
        return;
    }
    let detailed = level.includes_messages();
    let very = level.includes_everything();
    let usage = event.usage.as_ref();
    let err = event.error.as_ref();
    let prompt = detailed
        .then(|| event.messages.as_ref().map(json_field))
        .flatten();
    let completion = detailed
        .then(|| event.response.as_ref().map(json_field))
        .flatten();
    let metadata = very.then(|| {
        let mut v = serde_json::to_value(&event.metadata).unwrap_or_default();
        if let Some(values) = v.get_mut("values") {
            redact_value(values);
        }
        v.to_string()
    });
    let meta = &event.metadata;
    let tags = (very && !meta.tags.is_empty()).then(|| meta.tags.join(","));
    let fallbacks = (very && !event.fallbacks.is_empty()).then(|| event.fallbacks.join(","));
    let cached_tokens = usage
        .and_then(|u| u.prompt_tokens_details.as_ref())
        .and_then(|d| d.cached_tokens)
        .filter(|_| very);
    let reasoning_tokens = usage
        .and_then(|u| u.completion_tokens_details.as_ref())
        .and_then(|d| d.reasoning_tokens)
        .filter(|_| very);

    macro_rules! line {
        ($lvl:expr) => {
            tracing::event!(
                target: TARGET,
                $lvl,
                call_id = %event.call_id,
                model = %event.model,
                model_group = event.model_group.as_deref(),
                deployment = event.deployment_id.as_deref(),
                provider = event.provider.as_deref(),
                status = if ok { "success" } else { "failure" },
                latency_ms = event.latency.map(ms),
                ttft_ms = event.time_to_first_token.map(ms),
                prompt_tokens = usage.map(|u| u.prompt_tokens),
                completion_tokens = usage.map(|u| u.completion_tokens),
                total_tokens = usage.map(|u| u.total_tokens),
                cost_usd = event.cost.map(|c| tracing::field::display(Usd(c))),
                cache_hit = event.cache_hit,
                error_kind = err.map(|e| e.kind.as_str()),
                error_status = err.and_then(|e| e.status).map(u64::from),
                error = err.map(|e| e.message.as_str()),
                prompt = prompt.as_deref(),
                completion = completion.as_deref(),
                call_type = very.then(|| event.call_type.as_str()),
                provider_model = event.provider_model.as_deref().filter(|_| very),
                attempts = very.then_some(event.attempts),
                fallbacks = fallbacks.as_deref(),
                request_id = event.request_id.as_deref().filter(|_| very),
                start = very.then(|| unix(event.start)),
                end = event.end.filter(|_| very).map(unix),
                cache_checked = very.then_some(event.cache_checked),
                cached_tokens,
                reasoning_tokens,
                user = meta.user.as_deref().filter(|_| very),
                key = meta.key.as_deref().filter(|_| very),
                tags = tags.as_deref(),
                metadata = metadata.as_deref(),
                "llm call"
            )
        };
    }
    if ok {
        line!(Level::INFO);
    } else {
        line!(Level::WARN);
    }
}

/// At `VeryDetailed`: an attempt failed and the call is retried after `wait` (INFO, target
/// `litellm::call`).
pub fn log_retry(
    level: LogLevel,
    call_id: &str,
    deployment: Option<&str>,
    attempt: u32,
    error: &EventError,
    wait: Duration,
) {
    if level.includes_everything() {
        tracing::info!(
            target: TARGET,
            call_id,
            deployment,
            attempt,
            error_kind = error.kind.as_str(),
            error = %error.message,
            wait_ms = ms(wait),
            "retrying"
        );
    }
}

/// At `VeryDetailed`: the router does not retry call `call_id` after its `attempt`-th attempt
/// failed with `error` (on `deployment`, when the retry would have been in its group), because
/// of `reason`: the retry budget is exhausted, or the call made its most attempts (INFO,
/// target `litellm::call`).
pub fn log_retry_refused(
    level: LogLevel,
    call_id: &str,
    deployment: Option<&str>,
    attempt: u32,
    error: &EventError,
    reason: &str,
) {
    if level.includes_everything() {
        tracing::info!(
            target: TARGET,
            call_id,
            deployment,
            attempt,
            error_kind = error.kind.as_str(),
            error = %error.message,
            reason,
            "not retrying"
        );
    }
}

/// At `VeryDetailed`: the router cools `deployment` of `model_group` down for `cooldown`
/// because of a failure of `reason` (INFO, target `litellm::call`).
pub fn log_cooldown(
    level: LogLevel,
    model_group: &str,
    deployment: &str,
    cooldown: Duration,
    reason: ErrorKind,
) {
    if level.includes_everything() {
        tracing::info!(
            target: TARGET,
            model_group,
            deployment,
            cooldown_s = (cooldown.as_millis() as f64) / 1000.0,
            reason = reason.as_str(),
            "cooling down"
        );
    }
}

/// At `VeryDetailed`: the router falls back from group `from` to group `to` after a failure of
/// `reason` (INFO, target `litellm::call`).
pub fn log_fallback(level: LogLevel, call_id: &str, from: &str, to: &str, reason: ErrorKind) {
    if level.includes_everything() {
        tracing::info!(
            target: TARGET,
            call_id,
            from,
            to,
            reason = reason.as_str(),
            "falling back"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::CallType;
    use crate::{Message, Metadata, Usage};
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;

    #[derive(Clone, Debug)]
    struct Captured {
        level: Level,
        target: String,
        fields: BTreeMap<String, String>,
        spans: Vec<String>,
        /// The fields of the innermost span, as recorded so far.
        span_fields: BTreeMap<String, String>,
    }

    /// Fields of a span, kept in its extensions.
    struct SpanFields(BTreeMap<String, String>);

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<Captured>>>);

    struct Fields<'a>(&'a mut BTreeMap<String, String>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            cx: Context<'_, S>,
        ) {
            let mut fields = BTreeMap::new();
            attrs.record(&mut Fields(&mut fields));
            if let Some(span) = cx.span(id) {
                span.extensions_mut().insert(SpanFields(fields));
            }
        }

        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            cx: Context<'_, S>,
        ) {
            if let Some(span) = cx.span(id)
                && let Some(f) = span.extensions_mut().get_mut::<SpanFields>()
            {
                values.record(&mut Fields(&mut f.0));
            }
        }

        fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
            let mut fields = BTreeMap::new();
            event.record(&mut Fields(&mut fields));
            let spans = cx
                .event_scope(event)
                .map(|s| s.map(|span| span.name().to_owned()).collect())
                .unwrap_or_default();
            let span_fields = cx
                .event_span(event)
                .and_then(|span| span.extensions().get::<SpanFields>().map(|f| f.0.clone()))
                .unwrap_or_default();
            self.0.lock().unwrap().push(Captured {
                level: *event.metadata().level(),
                target: event.metadata().target().to_owned(),
                fields,
                spans,
                span_fields,
            });
        }
    }

    /// Runs `f` with a subscriber that takes every event and span.
    fn capture(f: impl FnOnce()) -> Vec<Captured> {
        let cap = Capture::default();
        let sub = tracing_subscriber::registry().with(cap.clone());
        tracing::subscriber::with_default(sub, f);
        cap.0.lock().unwrap().clone()
    }

    /// Runs `f` with a subscriber that takes only what `targets` (`RUST_LOG` syntax, e.g.
    /// `litellm=info`) enables.
    fn capture_only(targets: &str, f: impl FnOnce()) -> Vec<Captured> {
        use tracing_subscriber::Layer;
        let filter: tracing_subscriber::filter::Targets = targets.parse().unwrap();
        let cap = Capture::default();
        let sub = tracing_subscriber::registry().with(cap.clone().with_filter(filter));
        tracing::subscriber::with_default(sub, f);
        cap.0.lock().unwrap().clone()
    }

    fn event() -> CallEvent {
        let meta = Metadata::new()
            .user("alice")
            .key("team-key")
            .tag("prod")
            .value("password", "hunter2")
            .value("trace", "abc");
        let mut e = CallEvent::new(CallType::Chat, "gpt-4o", meta);
        e.model_group = Some("gpt-4o".into());
        e.deployment_id = Some("east".into());
        e.provider = Some("openai".into());
        e.provider_model = Some("gpt-4o-2024-08-06".into());
        e.latency = Some(Duration::from_millis(1250));
        e.usage = Some(Usage::new(12, 30));
        e.cost = Some(0.0042);
        e.attempts = 2;
        e.fallbacks = vec!["gpt-4o-mini".into()];
        e.messages = Some(vec![Message::user("what is 2+2?")]);
        e.response = Some(serde_json::json!({"choices": [{"message": {"content": "four"}}]}));
        e
    }

    #[test]
    fn basic_is_one_line_without_prompt_or_metadata() {
        let logs = capture(|| log_event(LogLevel::Basic, &event()));
        assert_eq!(logs.len(), 1);
        let l = &logs[0];
        assert_eq!(l.level, Level::INFO);
        assert_eq!(l.target, TARGET);
        let f = &l.fields;
        assert_eq!(f["message"], "llm call");
        assert_eq!(f["model"], "gpt-4o");
        assert_eq!(f["deployment"], "east");
        assert_eq!(f["provider"], "openai");
        assert_eq!(f["status"], "success");
        assert_eq!(f["latency_ms"], "1250.0");
        assert_eq!(f["prompt_tokens"], "12");
        assert_eq!(f["completion_tokens"], "30");
        assert_eq!(f["total_tokens"], "42");
        assert_eq!(f["cost_usd"], "0.0042");
        for absent in [
            "prompt",
            "completion",
            "metadata",
            "attempts",
            "user",
            "ttft_ms",
            "error",
        ] {
            assert!(!f.contains_key(absent), "{absent} in {f:?}");
        }
    }

    #[test]
    fn detailed_adds_prompt_and_completion() {
        let logs = capture(|| log_event(LogLevel::Detailed, &event()));
        let f = &logs[0].fields;
        assert!(f["prompt"].contains("what is 2+2?"), "{f:?}");
        assert!(f["completion"].contains("four"));
        assert!(!f.contains_key("metadata") && !f.contains_key("attempts"));
    }

    #[test]
    fn very_detailed_adds_everything_with_secrets_redacted() {
        let logs = capture(|| log_event(LogLevel::VeryDetailed, &event()));
        let f = &logs[0].fields;
        assert_eq!(f["attempts"], "2");
        assert_eq!(f["fallbacks"], "gpt-4o-mini");
        assert_eq!(f["user"], "alice");
        assert_eq!(f["tags"], "prod");
        assert_eq!(f["provider_model"], "gpt-4o-2024-08-06");
        assert_eq!(f["call_type"], "chat");
        assert!(f.contains_key("start"));
        assert!(f["metadata"].contains("\"trace\":\"abc\""));
        assert!(f["metadata"].contains("[REDACTED]"));
        let all = format!("{logs:?}");
        assert!(!all.contains("hunter2"));
    }

    #[test]
    fn failure_is_a_warning_with_the_error() {
        let mut e = event();
        e.error = Some(EventError {
            kind: ErrorKind::ServiceUnavailable,
            message: "overloaded".into(),
            status: Some(503),
        });
        let logs = capture(|| log_event(LogLevel::Basic, &e));
        assert_eq!(logs[0].level, Level::WARN);
        let f = &logs[0].fields;
        assert_eq!(f["status"], "failure");
        assert_eq!(f["error_kind"], "service_unavailable");
        assert_eq!(f["error_status"], "503");
        assert_eq!(f["error"], "overloaded");
    }

    #[test]
    fn with_no_level_a_subscriber_that_listens_gets_the_basic_line() {
        // `RUST_LOG=litellm=info` and no `LITELLM_LOG`: one line per call (it was nothing).
        let e = event();
        let logs = capture_only("litellm=info", || {
            assert_eq!(effective_level(LogLevel::Off), LogLevel::Basic);
            log_event(LogLevel::Off, &e);
        });
        assert_eq!(logs.len(), 1, "{logs:?}");
        let f = &logs[0].fields;
        assert_eq!(f["message"], "llm call");
        assert_eq!(f["model"], "gpt-4o");
        assert_eq!(f["cost_usd"], "0.0042");
        assert!(
            !f.contains_key("prompt") && !f.contains_key("metadata"),
            "{f:?}"
        );
        // A failure is a warning, logged too.
        let mut failed = event();
        failed.error = Some(EventError {
            kind: ErrorKind::Timeout,
            message: "slow".into(),
            status: None,
        });
        let logs = capture_only("litellm=info", || log_event(LogLevel::Off, &failed));
        assert_eq!(logs[0].level, Level::WARN);
        // An explicit level still decides what is in the line.
        let logs = capture_only("litellm=info", || log_event(LogLevel::Detailed, &e));
        assert!(logs[0].fields.contains_key("prompt"));
    }

    #[test]
    fn with_no_level_and_no_subscriber_interest_nothing_is_logged() {
        let e = event();
        for targets in ["myapp=trace", "litellm=warn", "litellm::cache=info"] {
            let logs = capture_only(targets, || {
                assert_eq!(effective_level(LogLevel::Off), LogLevel::Off);
                assert!(start_span(LogLevel::Off, CallType::Chat, "m").is_disabled());
                log_event(LogLevel::Off, &e);
            });
            assert!(logs.is_empty(), "{targets}: {logs:?}");
        }
        // No subscriber at all.
        assert_eq!(effective_level(LogLevel::Off), LogLevel::Off);
        assert!(!subscriber_listens());
        assert!(start_span(LogLevel::Off, CallType::Chat, "m").is_none());
    }

    #[test]
    fn numbers_are_rounded_for_reading() {
        let mut e = event();
        e.latency = Some(Duration::from_nanos(1_234_567_890));
        e.time_to_first_token = Some(Duration::from_nanos(250_049_999));
        e.cost = Some(0.000_123_456_789_012);
        e.end = Some(UNIX_EPOCH + Duration::from_nanos(1_765_000_000_123_456_789));
        let logs = capture(|| log_event(LogLevel::VeryDetailed, &e));
        let f = &logs[0].fields;
        assert_eq!(f["latency_ms"], "1234.6");
        assert_eq!(f["ttft_ms"], "250.0");
        assert_eq!(f["cost_usd"], "0.000123457");
        assert_eq!(f["end"], "1765000000.123");
        let logs = capture(|| {
            log_cooldown(
                LogLevel::VeryDetailed,
                "g",
                "d",
                Duration::from_micros(1_234_567),
                ErrorKind::RateLimit,
            );
            let err = EventError {
                kind: ErrorKind::RateLimit,
                message: "x".into(),
                status: None,
            };
            log_retry(
                LogLevel::VeryDetailed,
                "c",
                None,
                1,
                &err,
                Duration::from_micros(333_333),
            );
        });
        assert_eq!(logs[0].fields["cooldown_s"], "1.234");
        assert_eq!(logs[1].fields["wait_ms"], "333.3");
        for (v, text) in [
            (0.000_004_65, "0.00000465"),
            (2.5, "2.5"),
            (0.0, "0"),
            (1e-12, "0"),
            (12.000_000_000_4, "12"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(Usd(v).to_string(), text);
        }
    }

    #[test]
    fn events_inside_the_call_span_carry_its_fields() {
        let e = event();
        let logs = capture_only("litellm=info,myapp=info", || {
            let span = start_span(LogLevel::Off, CallType::Chat, "gpt-4o");
            assert!(!span.is_disabled());
            let _g = span.enter();
            record_start(&e); // what `Observer::before_call` does
            record_end(&e); // what `Observer::call_finished` does
            tracing::info!(target: "myapp", "inside my provider");
        });
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert_eq!(logs[0].spans, vec!["llm_call".to_owned()]);
        let sf = &logs[0].span_fields;
        assert_eq!(sf["call_id"], e.call_id);
        assert_eq!(sf["model"], "gpt-4o");
        assert_eq!(sf["call_type"], "chat");
        assert_eq!(sf["provider"], "openai");
        assert_eq!(sf["deployment"], "east");
        // Another span is left alone.
        let logs = capture(|| {
            let other = tracing::info_span!("mine", call_id = tracing::field::Empty);
            let _g = other.enter();
            record_start(&e);
            record_end(&e);
            tracing::info!("x");
        });
        assert!(!logs[0].span_fields.contains_key("call_id"), "{logs:?}");
    }

    #[test]
    fn helpers_need_very_detailed() {
        let err = EventError {
            kind: ErrorKind::RateLimit,
            message: "x".into(),
            status: None,
        };
        let logs = capture(|| {
            for level in [LogLevel::Off, LogLevel::Basic, LogLevel::Detailed] {
                log_retry(level, "c", Some("d"), 1, &err, Duration::from_millis(5));
                log_cooldown(
                    level,
                    "g",
                    "d",
                    Duration::from_secs(5),
                    ErrorKind::RateLimit,
                );
                log_fallback(level, "c", "a", "b", ErrorKind::RateLimit);
            }
        });
        assert!(logs.is_empty(), "{logs:?}");
        let logs = capture(|| {
            let v = LogLevel::VeryDetailed;
            log_retry(v, "c", Some("d"), 1, &err, Duration::from_millis(5));
            log_cooldown(v, "g", "d", Duration::from_secs(5), ErrorKind::RateLimit);
            log_fallback(v, "c", "a", "b", ErrorKind::RateLimit);
        });
        let msgs: Vec<&str> = logs.iter().map(|l| l.fields["message"].as_str()).collect();
        assert_eq!(msgs, ["retrying", "cooling down", "falling back"]);
        assert_eq!(logs[1].fields["cooldown_s"], "5.0");
        assert_eq!(logs[1].fields["reason"], "rate_limit");
    }

    #[test]
    fn lines_inside_the_call_span_carry_it() {
        let e = event();
        let logs = capture(|| {
            let span = call_span(LogLevel::Basic, &e);
            let _g = span.enter();
            log_event(LogLevel::Basic, &e);
        });
        assert_eq!(logs[0].spans, vec!["llm_call".to_owned()]);
        assert!(call_span(LogLevel::Off, &e).is_none());
    }

    #[test]
    fn long_prompts_are_cut_at_a_char_boundary() {
        let mut e = event();
        e.messages = Some(vec![Message::user("é".repeat(MAX_FIELD_BYTES))]);
        let logs = capture(|| log_event(LogLevel::Detailed, &e));
        let p = &logs[0].fields["prompt"];
        assert!(p.len() < MAX_FIELD_BYTES + 64, "{}", p.len());
        assert!(p.ends_with("bytes cut]"));
        assert_eq!(cut("abc".into(), 10), "abc");
        assert_eq!(cut("aé".into(), 2), "a…[2 bytes cut]");
    }

    #[test]
    fn parses_env_values() {
        assert_eq!(LogLevel::from_env_value(None), LogLevel::Off);
        assert_eq!(LogLevel::from_env_value(Some("INFO")), LogLevel::Basic);
        assert_eq!(LogLevel::from_env_value(Some("debug")), LogLevel::Detailed);
        assert_eq!(
            LogLevel::from_env_value(Some(" Trace ")),
            LogLevel::VeryDetailed
        );
        assert_eq!(LogLevel::from_env_value(Some("WARNING")), LogLevel::Off);
        assert_eq!(LogLevel::from_env_value(Some("loud")), LogLevel::Off);
        assert_eq!(
            "very-detailed".parse::<LogLevel>(),
            Ok(LogLevel::VeryDetailed)
        );
        assert!("loud".parse::<LogLevel>().is_err());
        assert!(LogLevel::Detailed.includes_messages() && !LogLevel::Basic.includes_messages());
        assert!(LogLevel::VeryDetailed > LogLevel::Basic);
        assert_eq!(LogLevel::VeryDetailed.to_string(), "very_detailed");
    }
}
