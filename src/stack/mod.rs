//! The call stack: the one path every call of a [`Client`](crate::Client) or
//! [`Router`](crate::Router) takes, as a stack of stages, outermost first:
//!
//! 1. **observe**: the call's event, `before_call` callbacks, the `llm_call` span; at the end
//!    the cost, the callbacks, logs and metrics ([`pipeline`](crate::pipeline)).
//! 2. **user layers**: [`Layer`]s added with `ClientBuilder::layer` / `RouterBuilder::layer`,
//!    in the order added; each may rewrite the request, answer it, reject it, or look at the
//!    answer or subscribe to the stream.
//! 3. **ledger**: budgets and quotas of the call as it will be sent; charged at the end.
//! 4. **cache**: answers served from the response cache, identical calls coalesced.
//! 5. **route** (`Router` only): group, deployment selection, retries, fallbacks, cooldowns.
//! 6. **resolve**: the provider of the model string and its credentials.
//! 7. **provider**: translate, send, decode.
//!
//! Each stage is written once for every call type: an [`Op`] (chat, stream, embeddings, text)
//! supplies the few things that differ. Below the user layers everything is static dispatch;
//! with no layer the user-layer stage costs one branch.

pub mod layer;
mod ops;

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use tracing::Instrument;

pub(crate) use layer::Layer;
use layer::Next;
pub(crate) use ops::{ChatOp, EmbedOp, Op, StreamOp, TextOp};

use crate::cache::ResponseCache;
use crate::error::Result;
use crate::pipeline::Pipeline;
pub(crate) use crate::types::Reply;

/// What lies below the cache stage: the route stage and what it calls (a `Router`), or the
/// resolve and provider stages directly (a `Client`).
pub(crate) trait Downstream: Send + Sync + 'static {
    /// The name a call of `model` is cached under (a router's group after aliases, so the
    /// deployments of a group share answers).
    fn cache_group<'m>(&self, model: &'m str) -> Cow<'m, str> {
        Cow::Borrowed(model)
    }

    /// Makes the call. `call_id` names it in logs (empty when nothing observes the call).
    fn call<'a, O: Op>(
        &'a self,
        req: &'a O::Req,
        call_id: &'a str,
    ) -> impl Future<Output = Result<O::Ans>> + Send + 'a;
}

/// The stages a client or router was built with, above its downstream.
pub(crate) struct Stack {
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) cache: Option<ResponseCache>,
    pub(crate) layers: Arc<[Arc<dyn Layer>]>,
}

impl Stack {
    /// Runs one call of kind `O` through every stage down to `down`.
    pub(crate) fn call<'a, O: Op, D: Downstream>(
        &'a self,
        down: &'a D,
        req: Box<O::Req>,
    ) -> impl Future<Output = Result<O::Ans>> + Send + 'a {
        let span = self
            .pipeline
            .observer
            .start_span(O::CALL_TYPE, O::model(&req));
        async move {
            let p = &self.pipeline;
            let mut run = p.begin(
                O::CALL_TYPE,
                O::model(&req),
                O::options(&req),
                O::messages(&req),
                self.cache.as_ref(),
            );
            if self.layers.is_empty() {
                match p.admit(O::model(&req), O::options(&req)) {
                    Ok(a) => run.admitted(a),
                    Err(e) => {
                        p.fail(run, &e);
                        return Err(e);
                    }
                }
                let result = self.below::<O, D>(down, &req, run.call_id()).await;
                return O::finish(p, run, result, Some(req));
            }
            let mut slot = layer::Slot::default();
            let result = {
                let rest = layer::Rest {
                    stack: self,
                    down,
                    call_id: run.call_id(),
                };
                let next = Next::new(&self.layers, &rest, &mut slot);
                next.run(O::into_request(req)).await
            };
            run.admitted(slot.admitted);
            let result = result.and_then(O::from_response);
            O::finish(p, run, result, O::kept(slot.stream_request))
        }
        .instrument(span)
    }

    /// The stages below the user layers and the ledger: cache, then `down`. Boxed once: the
    /// future returned by a call stays small.
    fn below<'a, O: Op, D: Downstream>(
        &'a self,
        down: &'a D,
        req: &'a O::Req,
        call_id: &'a str,
    ) -> BoxFuture<'a, Result<O::Ans>> {
        match &self.cache {
            Some(c) => Box::pin(async move {
                let group = down.cache_group(O::model(req));
                O::cached(c, &group, req, move |r| async move {
                    down.call::<O>(&r, call_id).await
                })
                .await
            }),
            None => Box::pin(down.call::<O>(req, call_id)),
        }
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("pipeline", &self.pipeline)
            .field("cache", &self.cache.is_some())
            .field("layers", &self.layers.len())
            .finish()
    }
}

/// A `Client`'s downstream: the resolve and provider stages, no routing.
impl Downstream for crate::resolve::Resolver {
    fn call<'a, O: Op>(
        &'a self,
        req: &'a O::Req,
        _call_id: &'a str,
    ) -> impl Future<Output = Result<O::Ans>> + Send + 'a {
        O::send(self, req, O::model(req), O::options(req))
    }
}
