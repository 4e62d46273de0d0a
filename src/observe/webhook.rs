//! [`Webhook`]: a callback that POSTs events as JSON arrays to a URL, in batches.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::callback::{Callback, CallbackResult, Hook};
use super::event::CallEvent;
use super::queue::{LazyQueue, Rejected};
use crate::error::{Error, Result};

/// Default most events in one POST.
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Default longest wait before a partial batch is sent.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(5);
/// Default retries of a batch after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Most retries allowed.
pub const MAX_RETRIES_LIMIT: u32 = 10;

/// A [`Callback`] that sends events to an HTTP endpoint: the bridge to Datadog, Kafka REST
/// proxies, Logstash, your own collector.
///
/// Each POST carries a JSON array of events, each one [`CallEvent::to_redacted_json`] plus a
/// `"hook"` field, with `content-type: application/json` and the headers you set. Events are
/// batched: a batch is sent when it holds [`batch_size`](WebhookBuilder::batch_size) events, or
/// [`max_delay`](WebhookBuilder::max_delay) after its first event, or on
/// [`Callbacks::flush`](super::Callbacks::flush) / [`shutdown`](super::Callbacks::shutdown).
///
/// A batch that fails with a connection error, a timeout, 408, 429 or a 5xx status is retried
/// up to [`max_retries`](WebhookBuilder::max_retries) times (default 2) with exponential backoff
/// from [`retry_backoff`](WebhookBuilder::retry_backoff) (default 250 ms); any other status
/// gives the batch up. Sending runs on the webhook's own background task, one batch at a time;
/// events that arrive while its queue is full are dropped and counted ([`WebhookStats`]).
/// Nothing here ever blocks or fails a call.
///
/// Header values are secrets: `Debug` shows header names only, and the URL without its query.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use litellm::observe::{Callbacks, Webhook};
///
/// let hook = Webhook::builder("https://http-intake.logs.example.com/api/v2/logs")
///     .header("DD-API-KEY", "secret-key")
///     .batch_size(50)
///     .max_delay(Duration::from_secs(2))
///     .build()?;
/// assert!(!format!("{hook:?}").contains("secret-key"));
/// let callbacks = Callbacks::builder().callback(Arc::new(hook)).build();
/// # let _ = callbacks;
/// # Ok::<(), litellm::Error>(())
/// ```
pub struct Webhook {
    shared: Arc<Shared>,
    queue: LazyQueue<Msg>,
    hooks: Vec<Hook>,
}

struct Shared {
    url: reqwest::Url,
    headers: HeaderMap,
    http: reqwest::Client,
    batch_size: usize,
    max_delay: Duration,
    max_retries: u32,
    retry_backoff: Duration,
    timeout: Duration,
    stats: Counters,
}

#[derive(Default)]
struct Counters {
    events_sent: AtomicU64,
    events_failed: AtomicU64,
    events_dropped: AtomicU64,
    batches_sent: AtomicU64,
    batches_failed: AtomicU64,
    retries: AtomicU64,
}

/// Counters of a [`Webhook`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WebhookStats {
    /// Events delivered (in batches the endpoint accepted with a 2xx).
    pub events_sent: u64,
    /// Events in batches given up after the retries or on a non-retryable status.
    pub events_failed: u64,
    /// Events dropped because the webhook's queue was full (or there was no runtime).
    pub events_dropped: u64,
    /// Batches delivered.
    pub batches_sent: u64,
    /// Batches given up.
    pub batches_failed: u64,
    /// Retries made.
    pub retries: u64,
}

enum Msg {
    Event(serde_json::Value),
    Flush(oneshot::Sender<()>),
}

/// Shows the URL without user info, query or fragment (they may carry keys).
fn safe_url(url: &reqwest::Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared;
        f.debug_struct("Webhook")
            .field("url", &safe_url(&s.url))
            .field("headers", &s.headers.keys().collect::<Vec<_>>())
            .field("batch_size", &s.batch_size)
            .field("max_delay", &s.max_delay)
            .field("max_retries", &s.max_retries)
            .field("hooks", &self.hooks)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Builds a [`Webhook`].
#[must_use = "a builder does nothing until `.build()` is called; builder methods return the changed builder"]
pub struct WebhookBuilder {
    url: String,
    headers: Vec<(String, String)>,
    http: Option<reqwest::Client>,
    batch_size: usize,
    max_delay: Duration,
    max_retries: u32,
    retry_backoff: Duration,
    timeout: Duration,
    queue_capacity: usize,
    hooks: Vec<Hook>,
}

impl fmt::Debug for WebhookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = reqwest::Url::parse(&self.url)
            .map(|u| safe_url(&u))
            .unwrap_or_else(|_| "<invalid>".to_owned());
        f.debug_struct("WebhookBuilder")
            .field("url", &url)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("batch_size", &self.batch_size)
            .field("max_delay", &self.max_delay)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl WebhookBuilder {
    /// Adds a header sent with every POST (an API key, say). Its value never shows in `Debug`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Most events in one POST (default [`DEFAULT_BATCH_SIZE`]; at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Longest an event waits for its batch to fill (default [`DEFAULT_MAX_DELAY`]).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Retries of a failed batch (default [`DEFAULT_MAX_RETRIES`], at most
    /// [`MAX_RETRIES_LIMIT`]).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n.min(MAX_RETRIES_LIMIT);
        self
    }

    /// Wait before the first retry, doubled for each next one (default 250 ms).
    pub fn retry_backoff(mut self, d: Duration) -> Self {
        self.retry_backoff = d;
        self
    }

    /// Timeout of one POST (default 10 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Capacity of the queue of events waiting to be batched (default 10,000).
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }

    /// Your own `reqwest::Client` (proxies, certificates, …).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Which hooks send an event (default `success` and `failure`: one event per call).
    pub fn hooks(mut self, hooks: &[Hook]) -> Self {
        self.hooks = hooks.to_vec();
        self
    }

    /// The webhook. Fails (`ErrorKind::Config`) on a URL that is not `http(s)`, an invalid
    /// header, or when the HTTP client cannot be built.
    pub fn build(self) -> Result<Webhook> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| Error::config(format!("invalid webhook URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config("the webhook URL must be http or https"));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::config(format!("invalid webhook header name {name:?}")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| Error::config(format!("invalid value for webhook header {name}")))?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!(
                    env!("CARGO_PKG_NAME"),
                    "/",
                    env!("CARGO_PKG_VERSION")
                ))
                .build()
                .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))?,
        };
        Ok(Webhook {
            shared: Arc::new(Shared {
                url,
                headers,
                http,
                batch_size: self.batch_size,
                max_delay: self.max_delay,
                max_retries: self.max_retries,
                retry_backoff: self.retry_backoff,
                timeout: self.timeout,
                stats: Counters::default(),
            }),
            queue: LazyQueue::new(self.queue_capacity),
            hooks: self.hooks,
        })
    }
}

impl Webhook {
    /// A builder for a webhook posting to `url`.
    pub fn builder(url: impl Into<String>) -> WebhookBuilder {
        WebhookBuilder {
            url: url.into(),
            headers: Vec::new(),
            http: None,
            batch_size: DEFAULT_BATCH_SIZE,
            max_delay: DEFAULT_MAX_DELAY,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_backoff: Duration::from_millis(250),
            timeout: Duration::from_secs(10),
            queue_capacity: 10_000,
            hooks: vec![Hook::Success, Hook::Failure],
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> WebhookStats {
        let c = &self.shared.stats;
        WebhookStats {
            events_sent: c.events_sent.load(Ordering::Relaxed),
            events_failed: c.events_failed.load(Ordering::Relaxed),
            events_dropped: c.events_dropped.load(Ordering::Relaxed),
            batches_sent: c.batches_sent.load(Ordering::Relaxed),
            batches_failed: c.batches_failed.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
        }
    }

    fn enqueue(&self, hook: Hook, event: &CallEvent) -> CallbackResult {
        let json = event.to_hook_json(hook);
        let shared = &self.shared;
        match self
            .queue
            .try_send(Msg::Event(json), |rx| run(shared.clone(), rx))
        {
            Ok(()) => Ok(()),
            // Counted, not logged: a full queue would otherwise log once per call.
            Err(Rejected::Full | Rejected::Unavailable) => {
                shared.stats.events_dropped.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl Callback for Webhook {
    fn name(&self) -> &str {
        "webhook"
    }

    fn wants(&self, hook: Hook) -> bool {
        self.hooks.contains(&hook)
    }

    async fn before_call(&self, event: &CallEvent) -> CallbackResult {
        self.enqueue(Hook::BeforeCall, event)
    }

    async fn on_success(&self, event: &CallEvent) -> CallbackResult {
        self.enqueue(Hook::Success, event)
    }

    async fn on_failure(&self, event: &CallEvent) -> CallbackResult {
        self.enqueue(Hook::Failure, event)
    }

    async fn on_stream_end(&self, event: &CallEvent) -> CallbackResult {
        self.enqueue(Hook::StreamEnd, event)
    }

    /// Sends the pending batch now and waits until it is delivered or given up.
    async fn flush(&self) -> CallbackResult {
        if let Some(tx) = self.queue.sender() {
            let (done, wait) = oneshot::channel();
            if tx.send(Msg::Flush(done)).await.is_ok() {
                let _ = wait.await;
            }
        }
        Ok(())
    }
}

/// The webhook's background task: batches events and sends them.
async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<serde_json::Value> = Vec::with_capacity(shared.batch_size.min(1024));
    let mut deadline: Option<Instant> = None;
    loop {
        let msg = match deadline {
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(msg) => msg,
                Err(_) => {
                    deliver(&shared, std::mem::take(&mut batch)).await;
                    deadline = None;
                    continue;
                }
            },
            None => rx.recv().await,
        };
        match msg {
            Some(Msg::Event(event)) => {
                if batch.is_empty() {
                    deadline = Some(Instant::now() + shared.max_delay);
                }
                batch.push(event);
                if batch.len() >= shared.batch_size {
                    deliver(&shared, std::mem::take(&mut batch)).await;
                    deadline = None;
                }
            }
            Some(Msg::Flush(done)) => {
                deliver(&shared, std::mem::take(&mut batch)).await;
                deadline = None;
                let _ = done.send(());
            }
            None => {
                deliver(&shared, std::mem::take(&mut batch)).await;
                return;
            }
        }
    }
}

/// Sends one batch with retries; counts the outcome.
async fn deliver(shared: &Shared, batch: Vec<serde_json::Value>) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len() as u64;
    let stats = &shared.stats;
    let body = match serde_json::to_vec(&batch) {
        Ok(b) => bytes::Bytes::from(b),
        Err(e) => {
            tracing::warn!(target: "litellm::callback", error = %e, "webhook: could not encode a batch");
            stats.batches_failed.fetch_add(1, Ordering::Relaxed);
            stats.events_failed.fetch_add(n, Ordering::Relaxed);
            return;
        }
    };
    let mut attempt = 0u32;
    loop {
        let sent = shared
            .http
            .post(shared.url.clone())
            .headers(shared.headers.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .timeout(shared.timeout)
            .body(body.clone())
            .send()
            .await;
        let (retryable, reason) = match sent {
            Ok(resp) if resp.status().is_success() => {
                stats.batches_sent.fetch_add(1, Ordering::Relaxed);
                stats.events_sent.fetch_add(n, Ordering::Relaxed);
                return;
            }
            Ok(resp) => {
                let s = resp.status().as_u16();
                (
                    s == 408 || s == 429 || resp.status().is_server_error(),
                    format!("status {s}"),
                )
            }
            // Never print the URL: its query may carry a key.
            Err(e) => (true, e.without_url().to_string()),
        };
        if !retryable || attempt >= shared.max_retries {
            tracing::warn!(
                target: "litellm::callback",
                url = %safe_url(&shared.url),
                events = n,
                attempts = attempt + 1,
                reason = %reason,
                "webhook: batch given up"
            );
            stats.batches_failed.fetch_add(1, Ordering::Relaxed);
            stats.events_failed.fetch_add(n, Ordering::Relaxed);
            return;
        }
        let wait = shared.retry_backoff.saturating_mul(1u32 << attempt.min(16));
        attempt += 1;
        stats.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_validates_url_and_headers() {
        assert!(Webhook::builder("not a url").build().is_err());
        assert!(Webhook::builder("ftp://x.example/").build().is_err());
        assert!(
            Webhook::builder("http://x.example/")
                .header("bad header", "v")
                .build()
                .is_err()
        );
        assert!(
            Webhook::builder("http://x.example/")
                .header("x-key", "line\nbreak")
                .build()
                .is_err()
        );
        let ok = Webhook::builder("https://user:pw@x.example/in?api_key=k")
            .header("authorization", "Bearer topsecret")
            .max_retries(99)
            .build()
            .unwrap();
        let dbg = format!("{ok:?}");
        assert!(dbg.contains("https://x.example/in"), "{dbg}");
        assert!(!dbg.contains("topsecret") && !dbg.contains("api_key=k") && !dbg.contains("pw"));
        assert!(dbg.contains("max_retries: 10"));
        let b = Webhook::builder("https://x.example/?k=v").header("x", "secret-value");
        let dbg = format!("{b:?}");
        assert!(
            !dbg.contains("secret-value") && !dbg.contains("k=v"),
            "{dbg}"
        );
    }
}
