//! Errors: one [`Error`] enum whose variants follow Python LiteLLM's exception classes.
//!
//! Every error carries an [`ErrorDetails`] with what is known about it: the vendor's message,
//! provider, model, HTTP status, request id, the vendor's error code/type/param, the raw body
//! (truncated) and the delay the vendor asked for before a retry. Match on the variant, or on
//! [`Error::kind`] when you only need the class:
//!
//! ```
//! use litellm::{Error, ErrorKind};
//!
//! fn describe(err: &Error) -> String {
//!     match err.kind() {
//!         ErrorKind::RateLimit => format!("slow down, retry in {:?}", err.retry_after()),
//!         ErrorKind::ContextWindowExceeded => "prompt too long".to_string(),
//!         kind if kind.is_retryable() => "transient, try again".to_string(),
//!         _ => err.to_string(),
//!     }
//! }
//! let err = Error::new(ErrorKind::RateLimit, "Rate limit reached").with_status(429);
//! assert!(describe(&err).starts_with("slow down"));
//! ```
//!
//! API keys never appear in an error: messages echoed by a vendor are scrubbed of the key that
//! was sent, and URLs are removed from transport errors (Gemini-style `?key=` URLs included).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares [`ErrorKind`] and [`Error`] from one table: each row is a kind's docs, its variant,
/// its stable snake_case name ([`ErrorKind::as_str`]) and the words `Display` shows for it.
/// `Error` gets one variant per kind, in the same order.
macro_rules! error_kinds {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, $label:literal;)*) => {
        /// The class of an [`Error`], named after Python LiteLLM's exception classes.
        #[non_exhaustive]
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorKind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: [ErrorKind; [$($name),*].len()] = [$(ErrorKind::$variant),*];

            /// A stable snake_case name, e.g. `"rate_limit"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $name,)*
                }
            }

            fn label(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $label,)*
                }
            }
        }

        /// An error from any call of this crate. Each variant is one [`ErrorKind`]; all carry
        /// [`ErrorDetails`].
        #[non_exhaustive]
        pub enum Error {
            $(#[doc = concat!("See [`ErrorKind::", stringify!($variant), "`].")]
            $variant(Box<ErrorDetails>),)*
        }

        impl Error {
            /// Creates an error of `kind` with a message.
            pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
                let details = Box::new(ErrorDetails { message: message.into(), ..Default::default() });
                Error::from_details(kind, details)
            }

            /// Creates an error of `kind` from complete details.
            pub fn from_details(kind: ErrorKind, details: Box<ErrorDetails>) -> Error {
                match kind {
                    $(ErrorKind::$variant => Error::$variant(details),)*
                }
            }

            /// The class of this error.
            pub fn kind(&self) -> ErrorKind {
                match self {
                    $(Error::$variant(_) => ErrorKind::$variant,)*
                }
            }

            /// Everything known about this error.
            pub fn details(&self) -> &ErrorDetails {
                match self {
                    $(Error::$variant(d) => d,)*
                }
            }

            /// Mutable access to the details.
            pub fn details_mut(&mut self) -> &mut ErrorDetails {
                match self {
                    $(Error::$variant(d) => d,)*
                }
            }

            /// Turns this error into another kind, keeping every detail.
            pub fn with_kind(self, kind: ErrorKind) -> Error {
                match self {
                    $(Error::$variant(d) => Error::from_details(kind, d),)*
                }
            }
        }
    };
}

error_kinds! {
    /// The request is invalid (HTTP 400, 413, unknown model prefix, bad parameters).
    BadRequest = "bad_request", "bad request";
    /// The API key is missing or was rejected (HTTP 401, Cohere 498).
    Authentication = "authentication", "authentication failed";
    /// The key is valid but may not do this (HTTP 403, 402 billing).
    PermissionDenied = "permission_denied", "permission denied";
    /// The model, deployment or route does not exist (HTTP 404).
    NotFound = "not_found", "not found";
    /// The call took longer than its timeout, or the vendor said so (HTTP 408, idle stream).
    Timeout = "timeout", "timed out";
    /// The vendor understood the request but rejected its content (HTTP 422).
    UnprocessableEntity = "unprocessable_entity", "unprocessable entity";
    /// Too many requests or tokens (HTTP 429); see [`Error::retry_after`].
    RateLimit = "rate_limit", "rate limited";
    /// The prompt does not fit the model's context window.
    ContextWindowExceeded = "context_window_exceeded", "context window exceeded";
    /// The vendor's safety system refused the prompt or the answer.
    ContentPolicyViolation = "content_policy_violation", "content policy violation";
    /// The vendor failed (HTTP 500, 409, 424 and other 5xx not listed under ServiceUnavailable).
    InternalServer = "internal_server", "internal server error";
    /// The vendor is overloaded or down (HTTP 502, 503, 504, 529).
    ServiceUnavailable = "service_unavailable", "service unavailable";
    /// The connection failed or broke (DNS, TCP, TLS, a stream cut off).
    ApiConnection = "api_connection", "connection error";
    /// The vendor answered with something that cannot be decoded.
    InvalidResponse = "invalid_response", "invalid response";
    /// The provider cannot do what was asked (an endpoint or parameter it lacks).
    Unsupported = "unsupported", "unsupported";
    /// A spending budget would be exceeded; no call was made.
    BudgetExceeded = "budget_exceeded", "budget exceeded";
    /// Every deployment of a model group is cooling down or at its limits.
    NoDeploymentAvailable = "no_deployment_available", "no deployment available";
    /// The configuration is invalid (missing api_base, bad setting).
    Config = "config", "configuration error";
}

impl ErrorKind {
    /// True for the transient kinds worth retrying: Timeout, RateLimit, ApiConnection,
    /// InternalServer, ServiceUnavailable and NoDeploymentAvailable.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout
                | ErrorKind::RateLimit
                | ErrorKind::ApiConnection
                | ErrorKind::InternalServer
                | ErrorKind::ServiceUnavailable
                | ErrorKind::NoDeploymentAvailable
        )
    }

    /// True for RateLimit and for NoDeploymentAvailable, which a router raises when every
    /// deployment of a group is cooling down or at its limits (a rate limit of the group).
    pub fn is_rate_limit(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimit | ErrorKind::NoDeploymentAvailable
        )
    }

    /// The kind an HTTP error status stands for, before the body is read.
    ///
    /// ```
    /// use litellm::ErrorKind;
    /// assert_eq!(ErrorKind::from_status(429), ErrorKind::RateLimit);
    /// assert_eq!(ErrorKind::from_status(529), ErrorKind::ServiceUnavailable);
    /// ```
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 | 413 => ErrorKind::BadRequest,
            401 | 498 => ErrorKind::Authentication,
            402 | 403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            422 => ErrorKind::UnprocessableEntity,
            429 => ErrorKind::RateLimit,
            502..=504 | 529 => ErrorKind::ServiceUnavailable,
            409 | 424 | 500..=599 => ErrorKind::InternalServer,
            _ if status >= 500 => ErrorKind::InternalServer,
            _ => ErrorKind::BadRequest,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything known about an error. Read through [`Error::details`] or the shortcut methods.
#[non_exhaustive]
#[derive(Default)]
pub struct ErrorDetails {
    /// Human-readable message, usually the vendor's own.
    pub message: String,
    /// Provider prefix (`"openai"`, `"groq"`, …) when known.
    pub provider: Option<String>,
    /// Model id as sent to the provider, when known.
    pub model: Option<String>,
    /// The router deployment that failed last, when routed.
    pub deployment: Option<String>,
    /// The router group of that deployment, when routed.
    pub model_group: Option<String>,
    /// HTTP status of the vendor's answer, or the `http_status_code` of a mid-stream error.
    pub status: Option<u16>,
    /// The vendor's request id (`x-request-id`, `request-id`, `x-amzn-requestid`, …).
    pub request_id: Option<String>,
    /// How long the vendor asked to wait before retrying.
    pub retry_after: Option<Duration>,
    /// The vendor's error code (`"context_length_exceeded"`, `"rate_limit_exceeded"`, …).
    pub code: Option<String>,
    /// The vendor's error type (`"invalid_request_error"`, `"overloaded_error"`, …).
    pub error_type: Option<String>,
    /// The request parameter the vendor blamed, when it said.
    pub param: Option<String>,
    /// The raw error body, truncated to 8 KiB.
    pub body: Option<String>,
    /// The underlying error (I/O, JSON decoding), when there is one.
    pub source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl fmt::Debug for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ErrorDetails");
        d.field("message", &self.message);
        macro_rules! opt {
            ($($name:ident),*) => {$(
                if let Some(v) = &self.$name {
                    d.field(stringify!($name), v);
                }
            )*};
        }
        opt!(
            provider,
            model,
            deployment,
            model_group,
            status,
            request_id,
            retry_after,
            code,
            error_type,
            param,
            body,
            source
        );
        d.finish()
    }
}

/// Maximum number of bytes of a vendor body kept in [`ErrorDetails::body`].
pub(crate) const MAX_ERROR_BODY: usize = 8 * 1024;

impl Error {
    /// True when retrying the same call may succeed (see [`ErrorKind::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// The delay the vendor asked for (from `retry-after-ms`, `retry-after` or the body).
    pub fn retry_after(&self) -> Option<Duration> {
        self.details().retry_after
    }

    /// The HTTP status of the vendor's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.details().status
    }

    /// The vendor's request id, when known.
    pub fn request_id(&self) -> Option<&str> {
        self.details().request_id.as_deref()
    }

    /// The provider prefix, when known.
    pub fn provider(&self) -> Option<&str> {
        self.details().provider.as_deref()
    }

    /// The model, when known.
    pub fn model(&self) -> Option<&str> {
        self.details().model.as_deref()
    }

    /// The router deployment whose attempt failed last, when the call was routed.
    pub fn deployment(&self) -> Option<&str> {
        self.details().deployment.as_deref()
    }

    /// The router group of [`Error::deployment`], when the call was routed.
    pub fn model_group(&self) -> Option<&str> {
        self.details().model_group.as_deref()
    }

    /// The message (the vendor's, when the vendor sent one).
    pub fn message(&self) -> &str {
        &self.details().message
    }

    /// The vendor's error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        self.details().code.as_deref()
    }

    /// Sets the provider.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.details_mut().provider = Some(provider.into());
        self
    }

    /// Sets the model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.details_mut().model = Some(model.into());
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.details_mut().status = Some(status);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.details_mut().request_id = Some(id.into());
        self
    }

    /// Sets the retry delay.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.details_mut().retry_after = Some(delay);
        self
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.details_mut().source = Some(Box::new(source));
        self
    }

    /// Fills provider and model where they are not yet known.
    pub(crate) fn or_context(mut self, provider: &str, model: &str) -> Self {
        let d = self.details_mut();
        if d.provider.is_none() {
            d.provider = Some(provider.to_owned());
        }
        if d.model.is_none() && !model.is_empty() {
            d.model = Some(model.to_owned());
        }
        self
    }

    /// Replaces every occurrence of `secret` with `[REDACTED]` in every text field (message,
    /// code, type, param, request id, body, provider, model, deployment, group), after
    /// decoding the JSON escapes a vendor may have written the secret with (`\u0073k-…`).
    pub(crate) fn scrub(mut self, secret: &str) -> Self {
        if secret.len() < 4 {
            return self;
        }
        let d = self.details_mut();
        scrub_text(&mut d.message, secret);
        for field in [
            &mut d.code,
            &mut d.error_type,
            &mut d.param,
            &mut d.request_id,
            &mut d.body,
            &mut d.provider,
            &mut d.model,
            &mut d.deployment,
            &mut d.model_group,
        ]
        .into_iter()
        .flatten()
        {
            scrub_text(field, secret);
        }
        self
    }

    /// A copy of this error without its `source` (which is not cloneable).
    pub(crate) fn clone_shallow(&self) -> Error {
        let d = self.details();
        let details = ErrorDetails {
            message: d.message.clone(),
            provider: d.provider.clone(),
            model: d.model.clone(),
            deployment: d.deployment.clone(),
            model_group: d.model_group.clone(),
            status: d.status,
            request_id: d.request_id.clone(),
            retry_after: d.retry_after,
            code: d.code.clone(),
            error_type: d.error_type.clone(),
            param: d.param.clone(),
            body: d.body.clone(),
            source: None,
        };
        Error::from_details(self.kind(), Box::new(details))
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadRequest, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    #[cfg(test)]
    pub(crate) fn connection(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::ApiConnection, message)
    }
}

use crate::redact::REDACTED;

/// Replaces `secret` in `text`, after decoding JSON `\uXXXX` and `\/` escapes (only those
/// that stand for characters a JSON string may hold as they are, so JSON text stays JSON).
pub(crate) fn scrub_text(text: &mut String, secret: &str) {
    if text.contains('\\')
        && let Some(decoded) = unescape_json_text(text)
    {
        *text = decoded;
    }
    if text.contains(secret) {
        *text = text.replace(secret, REDACTED);
    }
}

/// `text` with `\uXXXX` escapes (surrogate pairs included) of printable characters other than
/// `"` and `\\`, and `\/`, decoded; `None` when there is nothing to decode.
fn unescape_json_text(text: &str) -> Option<String> {
    fn hex4(b: &[u8]) -> Option<u32> {
        let digits = b.get(..4)?;
        digits.iter().all(u8::is_ascii_hexdigit).then(|| {
            digits
                .iter()
                .fold(0, |n, d| n * 16 + (*d as char).to_digit(16).unwrap_or(0))
        })
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let (decoded, len) = match bytes.get(i + 1) {
            Some(b'/') => (Some('/'), 2),
            Some(b'u') => match hex4(&bytes[i + 2..]) {
                Some(hi @ 0xD800..=0xDBFF) => {
                    let lo = (bytes.get(i + 6..i + 8) == Some(b"\\u"))
                        .then(|| hex4(&bytes[i + 8..]))
                        .flatten()
                        .filter(|lo| (0xDC00..=0xDFFF).contains(lo));
                    match lo {
                        Some(lo) => (
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)),
                            12,
                        ),
                        None => (None, 2),
                    }
                }
                Some(cp) => (char::from_u32(cp), 6),
                None => (None, 2),
            },
            // Any other escape (`\\`, `\"`, `\n`, …) is kept with the character it escapes.
            Some(_) => (None, 2),
            None => (None, 1),
        };
        match decoded.filter(|c| !c.is_control() && *c != '"' && *c != '\\') {
            Some(c) => {
                out.push_str(&text[copied..i]);
                out.push(c);
                changed = true;
                i += len;
                copied = i;
            }
            None => i += len,
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.details();
        f.write_str(self.kind().label())?;
        if !d.message.is_empty() {
            write!(f, ": {}", d.message)?;
        }
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &d.provider {
            parts.push(format!("provider={p}"));
        }
        if let Some(m) = &d.model {
            parts.push(format!("model={m}"));
        }
        if let Some(s) = d.status {
            parts.push(format!("status={s}"));
        }
        if let Some(c) = &d.code {
            parts.push(format!("code={c}"));
        }
        if let Some(r) = &d.request_id {
            parts.push(format!("request_id={r}"));
        }
        if let Some(r) = d.retry_after {
            parts.push(format!("retry_after={:.3}s", r.as_secs_f64()));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(&format!("Error::{:?}", self.kind()))
            .field(self.details())
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.details()
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<reqwest::Error> for Error {
    fn from(err: reqwest::Error) -> Self {
        // Drop the URL: it may carry a key in its query string.
        let err = err.without_url();
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_decode() {
            ErrorKind::InvalidResponse
        } else if err.is_builder() {
            ErrorKind::Config
        } else {
            ErrorKind::ApiConnection
        };
        // The message says what failed, in words of its own; the reqwest error and its causes
        // ("tcp connect error", "Connection refused", …) stay in `source()` only, so a report
        // that walks the chain (anyhow's `{:#}`) prints each of them once.
        let message = if err.is_timeout() && err.is_connect() {
            "could not connect to the server within the connect timeout"
        } else if err.is_timeout() {
            "no response within the HTTP client's timeout"
        } else if err.is_connect() {
            "could not connect to the server"
        } else if err.is_builder() {
            "the HTTP request could not be built"
        } else if err.is_decode() {
            "the response body could not be decoded"
        } else if err.is_body() {
            "the connection failed while a request or response body was transferred"
        } else if err.is_redirect() {
            "a redirect could not be followed"
        } else if err.is_request() {
            "the request could not be sent"
        } else {
            "the HTTP request failed"
        };
        Error::new(kind, message).with_source(err)
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        // What serde says (what it expected, where) is the `source()`, not repeated here.
        Error::new(ErrorKind::InvalidResponse, "could not decode the response").with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_roundtrips_through_variant() {
        for kind in ErrorKind::ALL {
            let e = Error::new(kind, "x");
            assert_eq!(e.kind(), kind);
            assert_eq!(e.with_kind(ErrorKind::Config).kind(), ErrorKind::Config);
        }
    }

    #[test]
    fn retryable_kinds() {
        let retryable: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|k| k.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            vec![
                ErrorKind::Timeout,
                ErrorKind::RateLimit,
                ErrorKind::InternalServer,
                ErrorKind::ServiceUnavailable,
                ErrorKind::ApiConnection,
                ErrorKind::NoDeploymentAvailable
            ]
        );
    }

    #[test]
    fn status_mapping() {
        let cases = [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Authentication),
            (402, ErrorKind::PermissionDenied),
            (403, ErrorKind::PermissionDenied),
            (404, ErrorKind::NotFound),
            (408, ErrorKind::Timeout),
            (409, ErrorKind::InternalServer),
            (413, ErrorKind::BadRequest),
            (422, ErrorKind::UnprocessableEntity),
            (424, ErrorKind::InternalServer),
            (429, ErrorKind::RateLimit),
            (498, ErrorKind::Authentication),
            (499, ErrorKind::BadRequest),
            (500, ErrorKind::InternalServer),
            (501, ErrorKind::InternalServer),
            (502, ErrorKind::ServiceUnavailable),
            (503, ErrorKind::ServiceUnavailable),
            (504, ErrorKind::ServiceUnavailable),
            (529, ErrorKind::ServiceUnavailable),
            (418, ErrorKind::BadRequest),
        ];
        for (status, kind) in cases {
            assert_eq!(ErrorKind::from_status(status), kind, "status {status}");
        }
    }

    #[test]
    fn display_has_context_and_scrub_removes_secret() {
        let e = Error::new(
            ErrorKind::Authentication,
            "Incorrect API key provided: sk-secret-123",
        )
        .with_provider("openai")
        .with_status(401)
        .with_request_id("req_1")
        .scrub("sk-secret-123");
        let s = e.to_string();
        assert!(s.contains("authentication failed"), "{s}");
        assert!(s.contains("provider=openai"), "{s}");
        assert!(s.contains("request_id=req_1"), "{s}");
        assert!(!s.contains("sk-secret-123"), "{s}");
        assert!(!format!("{e:?}").contains("sk-secret-123"));
    }

    #[test]
    fn scrub_reaches_every_field_and_escaped_forms() {
        let key = "sk-live-abcdef";
        let mut d = ErrorDetails {
            message: "bad key sk-live-abcdef".into(),
            code: Some("sk-live-abcdef".into()),
            error_type: Some("x sk-live-abcdef".into()),
            param: Some("sk-live-abcdef".into()),
            request_id: Some("req-sk-live-abcdef".into()),
            body: Some(r#"{"k":"\u0073k-live-\u0061bcdef","p":"sk\/live"}"#.into()),
            ..Default::default()
        };
        d.model = Some("m-sk-live-abcdef".into());
        let e = Error::from_details(ErrorKind::Authentication, Box::new(d)).scrub(key);
        let all = format!("{e} {e:?}");
        assert!(!all.contains("abcdef"), "{all}");
        assert_eq!(
            e.details().body.as_deref(),
            Some(r#"{"k":"[REDACTED]","p":"sk/live"}"#)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2_000, failure_persistence: None, ..Default::default() })]

        /// Any text, with the secret written in any mix of plain and `\u`-escaped characters,
        /// is scrubbed of it, and nothing panics.
        #[test]
        fn scrub_finds_the_secret_in_any_escaping(
            // Anything but a backslash just before the secret (a JSON `\\u0073` is a backslash
            // and "u0073", not an escaped letter).
            before in "[^\\\\]{0,20}",
            after in "(\\PC|\\\\u[0-9a-fA-F]{0,4}|\\\\){0,20}",
            mask in proptest::collection::vec(proptest::bool::ANY, 14),
        ) {
            let secret = "sk-live-abc123";
            let written: String = secret
                .chars()
                .zip(mask)
                .map(|(c, esc)| if esc { format!("\\u{:04x}", c as u32) } else { c.to_string() })
                .collect();
            let mut text = format!("{before}{written}{after}");
            scrub_text(&mut text, secret);
            proptest::prop_assert!(!text.contains(secret), "{text}");
            let _ = unescape_json_text(&format!("{after}{before}"));
        }
    }

    /// The texts of `e` and of each error of its `source()` chain, as anyhow's `{:#}` prints
    /// them (joined with ": ").
    fn chain(e: &(dyn StdError + 'static)) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut next = e.source();
        while let Some(c) = next {
            out.push(c.to_string());
            next = c.source();
        }
        out
    }

    #[tokio::test]
    async fn transport_errors_print_each_cause_once() {
        // Nothing listens on this port: a connection refused, with hyper's causes below
        // reqwest's error.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let http = reqwest::Client::builder().build().unwrap();
        let raw = http
            .get(format!("http://127.0.0.1:{port}/v1?key=sk-in-url"))
            .send()
            .await
            .unwrap_err();
        let e = Error::from(raw).with_provider("openai");
        assert_eq!(e.kind(), ErrorKind::ApiConnection);
        assert_eq!(e.message(), "could not connect to the server");

        let texts = chain(&e);
        assert!(
            texts.len() >= 3,
            "reqwest and its causes are the source: {texts:?}"
        );
        let report = texts.join(": ");
        // No cause is repeated by the error above it (it was: the message held every cause,
        // so `{:#}` printed each of them twice).
        for (i, cause) in texts.iter().enumerate().skip(1) {
            for above in &texts[..i] {
                assert!(
                    !above.contains(cause.as_str()),
                    "{cause:?} repeated in {report:?}"
                );
            }
        }
        assert!(!report.contains("sk-in-url"), "{report}");
        // The short message stands on its own; the details are one `source()` away.
        assert_eq!(
            e.to_string(),
            "connection error: could not connect to the server (provider=openai)"
        );
        assert!(
            std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<reqwest::Error>())
                .is_some_and(reqwest::Error::is_connect)
        );
    }

    #[test]
    fn decode_errors_print_each_cause_once() {
        let raw = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        let e = Error::from(raw);
        let texts = chain(&e);
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(!texts[0].contains(&texts[1]), "{texts:?}");
        assert!(texts[1].contains("expected u32"), "{texts:?}");
    }

    #[test]
    fn unescape_keeps_json_and_odd_input_intact() {
        // Quotes, backslashes and control characters stay escaped; broken escapes pass through.
        for (input, want) in [
            (r#"\u0022 \u005c \u000a \n \" \\"#, None),
            (r"\u00", None),
            (r"\u+abc", None),
            (r"\ud83e\udd80!", Some("🦀!")),
            (r"\ud83e x", None),
            (r"é\u00e9\", Some("éé\\")),
            ("\\é", None),
        ] {
            assert_eq!(unescape_json_text(input).as_deref(), want, "{input}");
        }
    }
}
