//! A deployment's request defaults ([`Deployment::defaults`]): body parameters applied to each
//! call routed to it that does not set them itself, and the checks a deployment passes when a
//! router is built.

use serde_json::{Map, Value};

use super::deployment::Deployment;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::{ChatRequest, EmbeddingRequest, TextCompletionRequest};

/// A request as sent: the call's own (borrowed) or a copy with defaults filled in (boxed, so
/// that the attempt's future stays small).
#[derive(Debug)]
pub(crate) enum Filled<'r, T> {
    /// Nothing to fill in.
    Same(&'r T),
    /// A copy with the defaults.
    Filled(Box<T>),
}

/// `f` as a `Filled` of `R`, which is the type `A` (the router's attempt is generic over the
/// request type; defaults are typed). Never `Filled` of another type: then `original`.
pub(crate) fn retype<'r, A: 'static, R: 'static>(
    f: Filled<'r, A>,
    original: &'r R,
) -> Filled<'r, R> {
    match f {
        Filled::Same(_) => Filled::Same(original),
        Filled::Filled(b) => {
            let b: Box<dyn std::any::Any> = b;
            match b.downcast::<R>() {
                Ok(r) => Filled::Filled(r),
                Err(_) => Filled::Same(original),
            }
        }
    }
}

impl<T> std::ops::Deref for Filled<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Filled::Same(r) => r,
            Filled::Filled(b) => b,
        }
    }
}

/// Names that cannot be defaults: the router sets them per call, or they are not body
/// parameters (`metadata` is the call's own, never sent).
const RESERVED: &[&str] = &[
    "model",
    "messages",
    "prompt",
    "input",
    "stream",
    "stream_options",
    "metadata",
];

/// Generates, for one request type, `set` (a default into the template, typed) and `fill`
/// (the template's fields into a request where the request has none).
macro_rules! typed_fields {
    ($set:ident, $fill:ident, $missing:ident, $ty:ty { $($field:ident),* $(,)? }) => {
        /// Sets `key` on the template; `None` when the type has no such field.
        fn $set(t: &mut $ty, key: &str, v: &Value) -> Option<serde_json::Result<()>> {
            match key {
                $(stringify!($field) => Some(
                    serde_json::from_value(v.clone()).map(|x| t.$field = x),
                ),)*
                _ => None,
            }
        }

        /// Whether `req` lacks a field the template has.
        fn $missing(req: &$ty, t: &$ty) -> bool {
            false $(|| (req.$field.is_none() && t.$field.is_some()))*
        }

        /// Copies the template's fields into `req` where `req` has none.
        fn $fill(req: &mut $ty, t: &$ty) {
            $(if req.$field.is_none() && t.$field.is_some() {
                req.$field = t.$field.clone();
            })*
        }
    };
}

typed_fields!(
    set_chat,
    fill_chat,
    chat_missing,
    ChatRequest {
        temperature,
        top_p,
        n,
        stop,
        presence_penalty,
        frequency_penalty,
        logit_bias,
        logprobs,
        top_logprobs,
        user,
        seed,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        reasoning_effort,
        modalities,
        audio,
        prediction,
        service_tier,
        store,
        safety_identifier,
        prompt_cache_key,
        prompt_cache_retention,
        verbosity,
        web_search_options,
        functions,
        function_call,
    }
);

typed_fields!(
    set_text,
    fill_text,
    text_missing,
    TextCompletionRequest {
        suffix,
        temperature,
        top_p,
        n,
        logprobs,
        echo,
        stop,
        presence_penalty,
        frequency_penalty,
        best_of,
        logit_bias,
        seed,
        user,
    }
);

typed_fields!(
    set_embed,
    fill_embed,
    embed_missing,
    EmbeddingRequest {
        encoding_format,
        dimensions,
        user,
    }
);

/// Parameters of embeddings and text completions only: never sent with a chat call.
const NOT_CHAT: &[&str] = &["encoding_format", "dimensions", "suffix", "echo", "best_of"];

/// A deployment's defaults, typed once (when the router is built) per request type.
#[derive(Debug)]
pub(crate) struct Defaults {
    chat: ChatRequest,
    /// `max_tokens` / `max_completion_tokens` defaults: one limit, applied only when the call
    /// sets neither.
    chat_max_tokens: Option<u32>,
    chat_max_completion_tokens: Option<u32>,
    text: TextCompletionRequest,
    text_max_tokens: Option<u32>,
    embed: EmbeddingRequest,
}

impl Defaults {
    /// Types `map`; `Ok(None)` when it is empty. An error names the first parameter that no
    /// request type accepts (e.g. `temperature: "hot"`) or that cannot be a default.
    pub(crate) fn new(map: &Map<String, Value>) -> std::result::Result<Option<Defaults>, String> {
        if map.is_empty() {
            return Ok(None);
        }
        let mut d = Defaults {
            chat: ChatRequest::default(),
            chat_max_tokens: None,
            chat_max_completion_tokens: None,
            text: TextCompletionRequest::new("", ""),
            text_max_tokens: None,
            embed: EmbeddingRequest::new("", ""),
        };
        for (k, v) in map {
            if RESERVED.contains(&k.as_str()) {
                return Err(format!("'{k}' cannot be a request default"));
            }
            if k == "max_tokens" || k == "max_completion_tokens" {
                let n: Option<u32> = serde_json::from_value(v.clone())
                    .map_err(|e| format!("request default '{k}': {e}"))?;
                if k == "max_tokens" {
                    d.chat_max_tokens = n;
                    d.text_max_tokens = n;
                } else {
                    d.chat_max_completion_tokens = n;
                    // A text completion knows only `max_tokens`.
                    d.text_max_tokens = d.text_max_tokens.or(n);
                }
                continue;
            }
            let results = [
                set_chat(&mut d.chat, k, v),
                set_text(&mut d.text, k, v),
                set_embed(&mut d.embed, k, v),
            ];
            // A parameter typed differently per request type (`logprobs`: a flag in chat, a
            // count in text completions) applies where it fits; it is an error only when it
            // fits none.
            let mut first_err = None;
            let mut typed = false;
            let mut fits = false;
            for r in results.into_iter().flatten() {
                typed = true;
                match r {
                    Ok(()) => fits = true,
                    Err(e) => first_err = first_err.or(Some(e)),
                }
            }
            match (typed, fits, first_err) {
                (true, false, Some(e)) => return Err(format!("request default '{k}': {e}")),
                (false, _, _) if !NOT_CHAT.contains(&k.as_str()) => {
                    // Not an OpenAI parameter: a vendor field of chat calls' body.
                    d.chat.extra_body.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
        Ok(Some(d))
    }

    /// `req` with the defaults it lacks (borrowed when it lacks none).
    pub(crate) fn chat<'r>(&self, req: &'r ChatRequest) -> Filled<'r, ChatRequest> {
        let no_limit = req.max_tokens.is_none() && req.max_completion_tokens.is_none();
        let limit = no_limit
            && (self.chat_max_tokens.is_some() || self.chat_max_completion_tokens.is_some());
        let extra = self
            .chat
            .extra_body
            .keys()
            .any(|k| !req.extra_body.contains_key(k));
        if !limit && !extra && !chat_missing(req, &self.chat) {
            return Filled::Same(req);
        }
        let mut r = req.clone();
        fill_chat(&mut r, &self.chat);
        if limit {
            r.max_tokens = self.chat_max_tokens;
            r.max_completion_tokens = self.chat_max_completion_tokens;
        }
        for (k, v) in &self.chat.extra_body {
            if !r.extra_body.contains_key(k) {
                r.extra_body.insert(k.clone(), v.clone());
            }
        }
        Filled::Filled(Box::new(r))
    }

    /// `req` with the defaults it lacks.
    pub(crate) fn text<'r>(
        &self,
        req: &'r TextCompletionRequest,
    ) -> Filled<'r, TextCompletionRequest> {
        let limit = req.max_tokens.is_none() && self.text_max_tokens.is_some();
        if !limit && !text_missing(req, &self.text) {
            return Filled::Same(req);
        }
        let mut r = req.clone();
        fill_text(&mut r, &self.text);
        if limit {
            r.max_tokens = self.text_max_tokens;
        }
        Filled::Filled(Box::new(r))
    }

    /// `req` with the defaults it lacks.
    pub(crate) fn embed<'r>(&self, req: &'r EmbeddingRequest) -> Filled<'r, EmbeddingRequest> {
        if !embed_missing(req, &self.embed) {
            return Filled::Same(req);
        }
        let mut r = req.clone();
        fill_embed(&mut r, &self.embed);
        Filled::Filled(Box::new(r))
    }
}

/// What a deployment must pass for a router to take it: a provider the client knows (unless
/// it answers from a mock) and request defaults of the right types. A `Config` error naming
/// the deployment otherwise.
pub(crate) fn check(client: &Client, d: &Deployment) -> Result<()> {
    let name = || {
        if d.id.is_empty() {
            format!("deployment of '{}'", d.model_name)
        } else {
            format!("deployment '{}' of '{}'", d.id, d.model_name)
        }
    };
    if d.mock_response.is_none() && !d.model.trim().is_empty() {
        client
            .check_model(&d.model)
            .map_err(|e| Error::config(format!("{}: {}", name(), e.message())))?;
    }
    Defaults::new(&d.defaults).map_err(|e| Error::config(format!("{}: {e}", name())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Message;
    use serde_json::json;

    fn defaults(v: Value) -> Defaults {
        Defaults::new(v.as_object().unwrap()).unwrap().unwrap()
    }

    #[test]
    fn calls_keep_their_own_values() {
        let d = defaults(json!({"temperature": 0.1, "max_tokens": 50, "top_k": 40,
            "dimensions": 256, "logprobs": true, "stop": ["x"]}));
        let req = ChatRequest::new("m", vec![Message::user("hi")]);
        let r = d.chat(&req);
        assert_eq!(r.temperature, Some(0.1));
        assert_eq!(r.max_tokens, Some(50));
        assert_eq!(r.logprobs, Some(true));
        assert_eq!(r.extra_body.get("top_k"), Some(&json!(40)));
        assert!(!r.extra_body.contains_key("dimensions"));
        let own = ChatRequest::new("m", vec![Message::user("hi")])
            .temperature(0.9)
            .max_completion_tokens(7);
        let r = d.chat(&own);
        assert_eq!(r.temperature, Some(0.9));
        assert_eq!((r.max_tokens, r.max_completion_tokens), (None, Some(7)));
        // nothing to fill: borrowed
        let full = own
            .clone()
            .stop("x")
            .logprobs(true)
            .extra_body(json!({"top_k": 1}));
        assert!(matches!(d.chat(&full), Filled::Same(_)));
        // `logprobs: true` fits chat, not text completions: skipped there
        let text = TextCompletionRequest::new("m", "hi");
        let t = d.text(&text);
        assert_eq!(
            (t.logprobs, t.max_tokens, t.temperature),
            (None, Some(50), Some(0.1))
        );
        let embed = EmbeddingRequest::new("m", "hi");
        let e = d.embed(&embed);
        assert_eq!(e.dimensions, Some(256));
    }

    #[test]
    fn invalid_defaults_are_refused() {
        for (v, needle) in [
            (json!({"temperature": "hot"}), "temperature"),
            (json!({"max_tokens": -1}), "max_tokens"),
            (json!({"stream": true}), "stream"),
            (json!({"metadata": {}}), "metadata"),
        ] {
            let e = Defaults::new(v.as_object().unwrap()).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
        assert!(Defaults::new(&Map::new()).unwrap().is_none());
    }
}
