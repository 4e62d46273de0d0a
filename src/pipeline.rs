//! The call pipeline: what runs around every call of a [`Client`](crate::Client) or
//! [`Router`](crate::Router), once per logical call (a routed call's retries and fallbacks are
//! one call here): budgets and quotas before, cost, ledger, callbacks, logs and metrics after.
//! With nothing configured it does nothing but fill the answer's cost.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::accounting::estimate::StreamUsage;
use crate::accounting::ledger::{Admission, CallKeys, Ledger};
use crate::error::{Error, Result};
use crate::observe::{CallEvent, CallType, EventError, Observer};
use crate::types::Reply;
use crate::types::stream::{StreamOutcome, StreamTail};
use crate::types::{
    CallOptions, ChatChunk, ChatResponse, ChatStream, EmbeddingResponse, Message, ResponseMeta,
    TextCompletionResponse, Usage,
};

/// Prices a call: `(model string or group, provider, provider model, usage)` → USD.
pub(crate) type CostFn = Arc<dyn Fn(&CostInput<'_>) -> Option<f64> + Send + Sync>;

/// What the cost function sees.
pub(crate) struct CostInput<'a> {
    pub(crate) meta: &'a ResponseMeta,
    pub(crate) usage: &'a Usage,
    /// The model the vendor says served the call (may be empty).
    pub(crate) served: &'a str,
    pub(crate) service_tier: Option<&'a str>,
}

/// Prices from a price table (the crate's own unless one is given).
pub(crate) fn table_pricer(prices: Arc<crate::accounting::PriceTable>) -> CostFn {
    // Resolving a model's price walks prefixes, dates and aliases (~1 µs); the answer for a
    // (provider, served model, requested model) is remembered, for up to MEMO_MAX of them.
    const MEMO_MAX: usize = 4096;
    type Memo = std::sync::RwLock<HashMap<String, Option<Arc<crate::accounting::ModelPrice>>>>;
    let memo: Arc<Memo> = Arc::default();
    thread_local! {
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    Arc::new(move |ci: &CostInput<'_>| {
        let provider = ci.meta.provider.as_str();
        let price = KEY.with(|k| {
            let mut key = k.borrow_mut();
            key.clear();
            for part in [provider, ci.served, ci.meta.model.as_str()] {
                key.push_str(part);
                key.push('\u{1}');
            }
            let known = memo
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(key.as_str())
                .cloned();
            known.unwrap_or_else(|| {
                let found = prices
                    .price_for_response(Some(provider), ci.served, &ci.meta.model)
                    .map(|p| Arc::new(p.clone()));
                let mut m = memo
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if m.len() < MEMO_MAX {
                    m.insert(key.clone(), found.clone());
                }
                found
            })
        });
        price.map(|p| p.cost(ci.usage, ci.service_tier).total())
    })
}

/// The parts of the pipeline a client or router was built with.
#[derive(Clone, Default)]
pub(crate) struct Pipeline {
    pub(crate) ledger: Option<Arc<Ledger>>,
    pub(crate) observer: Observer,
    pub(crate) cost: Option<CostFn>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("ledger", &self.ledger.is_some())
            .field("observer", &self.observer.is_active())
            .finish_non_exhaustive()
    }
}

/// An answer the pipeline can account for.
pub(crate) trait Answer: Reply {
    /// Token usage, when known (borrowed when the answer carries it as is).
    fn usage(&self) -> Option<Cow<'_, Usage>>;
    /// The answer as JSON, for detailed events.
    fn to_json(&self) -> Option<serde_json::Value>;
    /// The model the vendor says served the call.
    fn served(&self) -> &str;
    /// The service tier that served the call.
    fn service_tier(&self) -> Option<&str> {
        None
    }
}

impl Answer for ChatResponse {
    fn usage(&self) -> Option<Cow<'_, Usage>> {
        self.usage.as_ref().map(Cow::Borrowed)
    }
    fn served(&self) -> &str {
        &self.model
    }
    fn service_tier(&self) -> Option<&str> {
        self.service_tier.as_deref()
    }
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
}

impl Answer for TextCompletionResponse {
    fn usage(&self) -> Option<Cow<'_, Usage>> {
        self.usage.as_ref().map(Cow::Borrowed)
    }
    fn served(&self) -> &str {
        &self.model
    }
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
}

impl Answer for EmbeddingResponse {
    fn usage(&self) -> Option<Cow<'_, Usage>> {
        let tokens = match self.usage.prompt_tokens {
            0 => self.usage.total_tokens,
            n => n,
        };
        Some(Cow::Owned(Usage::new(tokens, 0)))
    }
    fn served(&self) -> &str {
        &self.model
    }
    fn to_json(&self) -> Option<serde_json::Value> {
        // Vectors are large and rarely wanted in logs: keep the shape without them.
        Some(
            serde_json::json!({"object": self.object, "model": self.model,
            "data": self.data.len(), "usage": self.usage}),
        )
    }
}

/// One call going through the pipeline.
pub(crate) struct Running {
    keys: Option<CallKeys>,
    admission: Option<Admission>,
    event: Option<CallEvent>,
    started: Instant,
}

/// What the ledger stage admitted: held until the call ends.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    keys: Option<CallKeys>,
    admission: Option<Admission>,
}

impl Running {
    /// Records what the ledger stage admitted.
    pub(crate) fn admitted(&mut self, a: Admitted) {
        self.keys = a.keys;
        self.admission = a.admission;
    }

    /// The call's id (empty when nothing observes the call).
    pub(crate) fn call_id(&self) -> &str {
        self.event.as_ref().map_or("", |e| e.call_id.as_str())
    }
}

impl Pipeline {
    /// True when only cost is computed (no ledger, no observer).
    fn is_idle(&self) -> bool {
        self.ledger.is_none() && !self.observer.is_active()
    }

    /// The observe stage, before a call: the call's event (and the `before_call` callbacks).
    /// Budgets and quotas are checked later, by [`admit`](Self::admit), once the user layers
    /// have had their say.
    pub(crate) fn begin(
        &self,
        call_type: CallType,
        model: &str,
        options: &CallOptions,
        messages: Option<&[Message]>,
        cache: Option<&crate::cache::ResponseCache>,
    ) -> Running {
        let started = Instant::now();
        let event = self.observer.is_active().then(|| {
            let mut ev = CallEvent::new(call_type, model, options.metadata.clone());
            ev.cache_checked = cache.is_some_and(|c| c.looks_up(call_type, options));
            if self.observer.detailed() {
                ev.messages = messages.map(<[Message]>::to_vec);
            }
            self.observer.before_call(&ev);
            ev
        });
        Running {
            keys: None,
            admission: None,
            event,
            started,
        }
    }

    /// The ledger stage: budgets and quotas of the call as it will be sent (an error means no
    /// upstream call).
    pub(crate) fn admit(&self, model: &str, options: &CallOptions) -> Result<Admitted> {
        let Some(l) = &self.ledger else {
            return Ok(Admitted::default());
        };
        let keys = CallKeys::from_metadata(model, &options.metadata);
        let admission = l.admit(&keys)?;
        Ok(Admitted {
            keys: Some(keys),
            admission: Some(admission),
        })
    }

    /// Prices an answer's usage.
    fn price(
        &self,
        meta: &ResponseMeta,
        usage: &Usage,
        served: &str,
        tier: Option<&str>,
    ) -> Option<f64> {
        if meta.cache_hit {
            return Some(0.0);
        }
        if meta.cost.is_some() {
            return meta.cost;
        }
        let f = self.cost.as_ref()?;
        f(&CostInput {
            meta,
            usage,
            served,
            service_tier: tier,
        })
    }

    /// A call succeeded: its cost in the answer's meta, the ledger charged, the event sent.
    pub(crate) fn succeed<T: Answer>(&self, run: Running, answer: &mut T) {
        let cost = answer
            .usage()
            .and_then(|u| self.price(answer.meta(), &u, answer.served(), answer.service_tier()));
        answer.meta_mut().cost = cost;
        if self.is_idle() {
            return;
        }
        let usage = answer.usage().map(Cow::into_owned);
        let meta = answer.meta_mut().clone();
        let response = if self.observer.detailed() {
            answer.to_json()
        } else {
            None
        };
        self.finish(run, &meta, usage, cost, None, response, false);
    }

    /// A call failed.
    pub(crate) fn fail(&self, run: Running, err: &Error) {
        if self.is_idle() {
            return;
        }
        let meta = ResponseMeta {
            provider: err.provider().unwrap_or_default().to_owned(),
            model: err.model().unwrap_or_default().to_owned(),
            deployment_id: err.deployment().map(str::to_owned),
            model_group: err.model_group().map(str::to_owned),
            ..Default::default()
        };
        self.finish(run, &meta, None, None, Some(err), None, false);
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        mut run: Running,
        meta: &ResponseMeta,
        usage: Option<Usage>,
        cost: Option<f64>,
        err: Option<&Error>,
        response: Option<serde_json::Value>,
        stream: bool,
    ) {
        if let Some(keys) = &mut run.keys {
            keys.deployment.clone_from(&meta.deployment_id);
            if !meta.provider.is_empty() {
                keys.provider = Some(meta.provider.clone());
            }
        }
        if let (Some(l), Some(keys), Some(adm)) = (&self.ledger, &run.keys, run.admission) {
            let (i, o) = usage
                .as_ref()
                .map_or((0, 0), |u| (u.prompt_tokens, u.completion_tokens));
            match (err, &usage) {
                (None, _) => l.charge(keys, adm, i, o, cost.unwrap_or(0.0)),
                // A stream that broke or was dropped after the vendor worked on it.
                (Some(_), Some(_)) => l.charge_failed(keys, adm, i, o, cost.unwrap_or(0.0)),
                (Some(_), None) => l.fail(keys, adm),
            }
            if let Some(m) = self.observer.metrics() {
                for b in l.budgets_status() {
                    m.set_remaining_budget(&budget_name(&b.budget), b.remaining);
                }
            }
        }
        if let Some(mut ev) = run.event {
            ev.end = Some(SystemTime::now());
            ev.latency = Some(run.started.elapsed());
            ev.time_to_first_token = meta.time_to_first_token;
            ev.model_group.clone_from(&meta.model_group);
            ev.deployment_id.clone_from(&meta.deployment_id);
            ev.fallbacks.clone_from(&meta.fallbacks);
            if !meta.provider.is_empty() {
                ev.provider = Some(meta.provider.clone());
            }
            if !meta.model.is_empty() {
                ev.provider_model = Some(meta.model.clone());
            }
            ev.request_id.clone_from(&meta.request_id);
            ev.attempts = meta.attempts.max(1);
            ev.cache_hit = meta.cache_hit;
            ev.usage = usage;
            ev.cost = cost;
            ev.error = err.map(EventError::from);
            ev.response = response;
            if stream {
                self.observer.stream_ended(ev);
            } else {
                self.observer.call_finished(ev);
            }
        }
    }

    /// The observe stage's end of a stream: its accounting is set on the stream (no wrapper):
    /// its usage read or counted as it passes ([`StreamUsage`]), a usage chunk added when the
    /// vendor sent none, and its end (complete, failed or dropped) priced, charged and
    /// reported. `model` picks the tokenizer; `request` gives the prompt's tokens when they
    /// must be counted.
    pub(crate) fn stream(
        self: &Arc<Self>,
        run: Running,
        mut stream: ChatStream,
        model: String,
        request: Box<crate::types::ChatRequest>,
    ) -> ChatStream {
        stream.set_tail(Box::new(Accounting {
            pipeline: self.clone(),
            run: Some(run),
            usage: StreamUsage::new(model, request),
        }));
        if self.cost.is_none() {
            return stream;
        }
        let p = self.clone();
        stream.with_pricer(Arc::new(move |m: &ResponseMeta, u: &Usage| {
            p.price(m, u, "", None)
        }))
    }
}

fn budget_name(b: &crate::accounting::ledger::Budget) -> String {
    use crate::accounting::ledger::Scope;
    let scope = match &b.scope {
        Scope::Global => "global".to_owned(),
        Scope::User(u) => format!("user:{u}"),
        Scope::Key(k) => format!("key:{k}"),
        Scope::Tag(t) => format!("tag:{t}"),
        Scope::Model(m) => format!("model:{m}"),
    };
    format!("{scope}:{:?}", b.period).to_lowercase()
}

/// A stream's accounting: its usage tracked as it passes, its end reported to the pipeline.
struct Accounting {
    pipeline: Arc<Pipeline>,
    run: Option<Running>,
    usage: StreamUsage,
}

impl Accounting {
    /// Prices, charges and reports the stream's end.
    fn report(&mut self, err: Option<&Error>, usage: Option<Usage>, meta: &ResponseMeta) {
        let Some(run) = self.run.take() else { return };
        if self.pipeline.is_idle() {
            return;
        }
        let cost = usage
            .as_ref()
            .and_then(|u| self.pipeline.price(meta, u, "", None));
        self.pipeline
            .finish(run, meta, usage, cost, err, None, true);
    }
}

impl StreamTail for Accounting {
    fn chunk(&mut self, chunk: &ChatChunk) -> Result<()> {
        self.usage.observe(chunk)
    }

    fn end(&mut self, outcome: StreamOutcome<'_>, meta: &ResponseMeta) -> Option<ChatChunk> {
        let idle = self.pipeline.is_idle();
        match outcome {
            StreamOutcome::Complete => {
                // Usage is worked out only when someone needs it: the pipeline, or the caller
                // (an added usage chunk).
                let needed = !idle || self.usage.adds_chunk();
                let usage = needed.then(|| self.usage.usage());
                let added = usage.as_ref().and_then(|u| self.usage.usage_chunk(u));
                self.report(None, usage, meta);
                added
            }
            // A stream that failed after chunks were delivered, or that the caller dropped,
            // is charged what it used so far (the vendor did that work).
            StreamOutcome::Failed(err) => {
                if !idle {
                    let usage = (self.usage.chunks() > 0).then(|| self.usage.usage());
                    self.report(Some(err), usage, meta);
                }
                None
            }
            StreamOutcome::Dropped => {
                if !idle {
                    let e = Error::new(
                        crate::error::ErrorKind::ApiConnection,
                        "the stream was dropped before its end",
                    );
                    let usage = self.usage.usage();
                    self.report(Some(&e), Some(usage), meta);
                }
                None
            }
        }
    }
}
