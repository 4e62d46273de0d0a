//! Vendor error answers → [`Error`]: status, body shapes, retry hints and request ids.
//!
//! Body shapes understood (all tolerant, any of them may be mixed):
//! - OpenAI and most compatible vendors: `{"error":{"message","type","param","code"}}`, where
//!   `code` may be a string or a number (OpenRouter, llama.cpp) and extra fields may appear
//!   (llama.cpp's `n_ctx`, Azure's `innererror`);
//! - Anthropic: `{"type":"error","error":{"type","message"},"request_id"}` (the body's
//!   `request_id` is used when no header carries one; `billing_error` → PermissionDenied,
//!   `request_too_large` → BadRequest, `overloaded_error` → ServiceUnavailable);
//! - Gemini: `{"error":{"code":429,"message","status":"RESOURCE_EXHAUSTED","details":[…RetryInfo…]}}`;
//! - Mistral (not wrapped): `{"object":"error","message","type","param","code","raw_status_code"}`;
//! - xAI (not wrapped): `{"code":"invalid-argument","error":"…"}`; TGI and Ollama `{"error":"…"}`;
//! - Cohere: `{"id","message"}` (the message is read like any unwrapped `message`);
//! - FastAPI validation: `{"detail":[{"loc","msg","type"}]}` or `{"detail":"…"}`;
//! - AWS rest-json (Bedrock): `{"message":"…"}` with the exception name in the
//!   `x-amzn-errortype` header (`ThrottlingException:http://…`), kept as the code and type;
//! - anything else: the body text is the message.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{Error, ErrorDetails, ErrorKind, MAX_ERROR_BODY};

/// Builds the error for a non-2xx HTTP answer from its status, headers and body.
///
/// ```
/// use litellm::{ErrorKind, provider::error_from_response};
/// let body = br#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
/// let err = error_from_response(400, &Default::default(), body);
/// assert_eq!(err.kind(), ErrorKind::ContextWindowExceeded);
/// assert_eq!(err.status(), Some(400));
/// ```
pub fn error_from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .map(|v| ParsedBody::from_value(&v))
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]).into_owned();
    let message = parsed.message.clone().unwrap_or_else(|| {
        let t = text.trim();
        if (300..400).contains(&status) {
            let to = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| l.split('?').next().unwrap_or(l))
                .unwrap_or("elsewhere");
            format!("HTTP {status}: the server redirects to {to}; redirects are not followed, set api_base to the final URL")
        } else if t.is_empty() {
            format!("HTTP {status}")
        } else {
            t.chars().take(1000).collect()
        }
    });
    let kind = classify(ErrorKind::from_status(status), &message, &parsed, false);
    let retry = retry_after(headers).or(parsed.retry_delay);
    // AWS names the exception in a header: `ThrottlingException:http://internal.amazon.com/…`.
    let aws_type = header_str(headers, "x-amzn-errortype")
        .and_then(|v| v.split([':', '#']).next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let details = ErrorDetails {
        message,
        status: Some(status),
        request_id: request_id(headers).or(parsed.request_id),
        retry_after: retry,
        code: parsed.code.or_else(|| aws_type.clone()),
        error_type: parsed.error_type.or(aws_type),
        param: parsed.param,
        body: if text.is_empty() { None } else { Some(text) },
        ..Default::default()
    };
    Error::from_details(kind, Box::new(details))
}

/// Builds the error for an error object received inside a stream or a 200 body, such as
/// `{"error":{"message":"…","type":"server_error"}}`, Mistral's unwrapped
/// `{"object":"error","message":…}` or FastAPI's `{"detail":…}`. Returns `None` when `value`
/// holds no error.
pub fn error_from_json(value: &Value) -> Option<Error> {
    let is_error = match value.get("error") {
        Some(e) => !e.is_null() && e != &Value::Bool(false),
        None => {
            value.get("object").and_then(Value::as_str) == Some("error")
                || (value.get("detail").is_some()
                    && value.get("choices").is_none()
                    && value.get("data").is_none())
        }
    };
    if !is_error {
        return None;
    }
    let parsed = ParsedBody::from_value(value);
    let message = parsed
        .message
        .clone()
        .unwrap_or_else(|| "the vendor reported an error".to_owned());
    let base = match parsed.status {
        Some(s) if s >= 400 => ErrorKind::from_status(s),
        _ => kind_from_type(&parsed).unwrap_or(ErrorKind::InternalServer),
    };
    let kind = classify(base, &message, &parsed, true);
    let mut body = value.to_string();
    body.truncate(floor_char_boundary(&body, MAX_ERROR_BODY));
    let details = ErrorDetails {
        message,
        status: parsed.status,
        request_id: parsed.request_id,
        retry_after: parsed.retry_delay,
        code: parsed.code,
        error_type: parsed.error_type,
        param: parsed.param,
        body: Some(body),
        ..Default::default()
    };
    Some(Error::from_details(kind, Box::new(details)))
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The delay a vendor asked for, from `retry-after-ms` (milliseconds), then `retry-after`
/// (seconds, fractions allowed, or an HTTP date).
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// use std::time::Duration;
/// let mut h = HeaderMap::new();
/// h.insert("retry-after", HeaderValue::from_static("2"));
/// assert_eq!(litellm::provider::retry_after(&h), Some(Duration::from_secs(2)));
/// h.insert("retry-after-ms", HeaderValue::from_static("1500"));
/// assert_eq!(litellm::provider::retry_after(&h), Some(Duration::from_millis(1500)));
/// ```
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64((ms / 1000.0).min(MAX_HINT_SECS)));
    }
    let v = header_str(headers, "retry-after")?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(MAX_HINT_SECS)));
        }
        return None;
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs_f64(MAX_HINT_SECS)),
    )
}

/// Longest delay hint kept (a day); anything larger is clamped.
const MAX_HINT_SECS: f64 = 86_400.0;

/// The vendor's request id from the usual headers.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    // Static names: a lookup by `&str` would parse the name on every call.
    static NAMES: [reqwest::header::HeaderName; 6] = [
        reqwest::header::HeaderName::from_static("x-request-id"),
        reqwest::header::HeaderName::from_static("request-id"),
        reqwest::header::HeaderName::from_static("x-amzn-requestid"),
        reqwest::header::HeaderName::from_static("apim-request-id"),
        reqwest::header::HeaderName::from_static("mistral-correlation-id"),
        reqwest::header::HeaderName::from_static("x-correlation-id"),
    ];
    // One pass over the answer's few headers (six hashed lookups cost more), keeping the
    // name that comes first in `NAMES`.
    let mut best: Option<(usize, &str)> = None;
    for (name, value) in headers {
        if let Some(rank) = NAMES.iter().position(|n| n == name)
            && best.is_none_or(|(b, _)| rank < b)
            && let Ok(v) = value.to_str()
        {
            best = Some((rank, v));
            if rank == 0 {
                break;
            }
        }
    }
    best.map(|(_, v)| v.to_owned())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What could be read out of an error body.
#[derive(Default, Debug)]
struct ParsedBody {
    message: Option<String>,
    error_type: Option<String>,
    code: Option<String>,
    param: Option<String>,
    status: Option<u16>,
    retry_delay: Option<Duration>,
    content_policy: bool,
    /// Anthropic's `request_id` in the body.
    request_id: Option<String>,
}

fn as_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_status(v: Option<&Value>) -> Option<u16> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (100..600).contains(&n).then_some(n as u16)
}

impl ParsedBody {
    fn from_value(v: &Value) -> ParsedBody {
        let mut p = ParsedBody::default();
        // Some gateways wrap the body in a one-element list.
        let v = match v {
            Value::Array(items) if items.len() == 1 => &items[0],
            other => other,
        };
        match v.get("error") {
            Some(e @ Value::Object(_)) => {
                p.message = as_text(e.get("message")).or_else(|| as_text(e.get("msg")));
                p.error_type = as_text(e.get("type")).or_else(|| as_text(e.get("status")));
                p.code = as_text(e.get("code"));
                p.param = as_text(e.get("param"));
                p.status = as_status(e.get("http_status_code"))
                    .or_else(|| as_status(e.get("status_code")))
                    .or_else(|| as_status(e.get("code")));
                if let Some(Value::Array(details)) = e.get("details") {
                    p.retry_delay = details.iter().find_map(retry_info);
                }
                if let Some(inner) = e.get("innererror") {
                    let inner_code = as_text(inner.get("code")).unwrap_or_default();
                    p.content_policy |= inner_code == "ResponsibleAIPolicyViolation"
                        || inner.get("content_filter_result").is_some();
                }
                // OpenRouter puts the upstream's error in metadata.raw.
                if p.message.is_none()
                    && let Some(raw) = e.get("metadata").and_then(|m| m.get("raw"))
                {
                    p.message = as_text(Some(raw));
                }
            }
            Some(Value::String(s)) => {
                p.message = Some(s.clone());
                p.code = as_text(v.get("code"));
                p.error_type = as_text(v.get("error_type")).or_else(|| as_text(v.get("type")));
            }
            _ => {
                if let Some(detail) = v.get("detail") {
                    p.message = match detail {
                        Value::String(s) => Some(s.clone()),
                        Value::Array(items) => {
                            let msgs: Vec<String> = items
                                .iter()
                                .filter_map(|i| {
                                    let msg = as_text(i.get("msg"))?;
                                    let loc = i
                                        .get("loc")
                                        .and_then(Value::as_array)
                                        .map(|l| {
                                            l.iter()
                                                .map(|x| match x {
                                                    Value::String(s) => s.clone(),
                                                    o => o.to_string(),
                                                })
                                                .collect::<Vec<_>>()
                                                .join(".")
                                        })
                                        .unwrap_or_default();
                                    Some(if loc.is_empty() {
                                        msg
                                    } else {
                                        format!("{loc}: {msg}")
                                    })
                                })
                                .collect();
                            (!msgs.is_empty()).then(|| msgs.join("; "))
                        }
                        other => Some(other.to_string()),
                    };
                    p.error_type = Some("validation_error".to_owned());
                } else {
                    p.message = match v.get("message") {
                        // Mistral wraps FastAPI's validation errors: {"message": {"detail": […]}}.
                        Some(m @ Value::Object(_)) => Some(
                            ParsedBody::from_value(m)
                                .message
                                .unwrap_or_else(|| m.to_string()),
                        ),
                        m => as_text(m).or_else(|| as_text(v.get("msg"))),
                    };
                    p.error_type = as_text(v.get("type"));
                    p.code = as_text(v.get("code"));
                    p.param = as_text(v.get("param"));
                }
            }
        }
        p.request_id = as_text(v.get("request_id"));
        p.status = p
            .status
            .or_else(|| as_status(v.get("raw_status_code")))
            .or_else(|| as_status(v.get("status_code")))
            .or_else(|| as_status(v.get("http_status_code")))
            .or_else(|| as_status(v.get("status")));
        p
    }
}

/// Reads a `google.rpc.RetryInfo` detail (`{"@type": "...RetryInfo", "retryDelay": "34.4s"}`).
fn retry_info(detail: &Value) -> Option<Duration> {
    let ty = detail.get("@type").and_then(Value::as_str)?;
    if !ty.ends_with("RetryInfo") {
        return None;
    }
    match detail.get("retryDelay")? {
        Value::String(s) => parse_duration_secs(s),
        Value::Object(o) => {
            let secs = o
                .get("seconds")
                .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))?;
            let nanos = o.get("nanos").and_then(Value::as_f64).unwrap_or(0.0);
            let total = secs + nanos / 1e9;
            (total.is_finite() && total >= 0.0)
                .then(|| Duration::from_secs_f64(total.min(MAX_HINT_SECS)))
        }
        _ => None,
    }
}

/// Parses `"34.4s"`, `"1.5"`, `"250ms"`.
fn parse_duration_secs(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, scale) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(sec) = s.strip_suffix('s') {
        (sec, 1.0)
    } else {
        (s, 1.0)
    };
    let v = num.trim().parse::<f64>().ok()? * scale;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(MAX_HINT_SECS)))
}

/// A kind from the vendor's error type or code, for errors that come without a status.
fn kind_from_type(p: &ParsedBody) -> Option<ErrorKind> {
    let ty = p.error_type.as_deref().unwrap_or("").to_ascii_lowercase();
    let code = p.code.as_deref().unwrap_or("").to_ascii_lowercase();
    let any = |names: &[&str]| names.iter().any(|n| ty == *n || code == *n);
    Some(
        if any(&[
            "rate_limit_exceeded",
            "rate_limit_error",
            "resource_exhausted",
            "tokens",
            "requests",
            "too_many_requests",
        ]) {
            ErrorKind::RateLimit
        } else if any(&["overloaded_error", "unavailable", "service_unavailable"]) {
            ErrorKind::ServiceUnavailable
        } else if any(&[
            "invalid_request_error",
            "invalid_argument",
            "bad_request",
            "validation_error",
            "request_too_large",
        ]) {
            ErrorKind::BadRequest
        } else if any(&["authentication_error", "unauthenticated", "invalid_api_key"]) {
            ErrorKind::Authentication
        } else if any(&["permission_error", "permission_denied", "billing_error"]) {
            ErrorKind::PermissionDenied
        } else if any(&["not_found_error", "not_found", "model_not_found"]) {
            ErrorKind::NotFound
        } else if any(&["timeout_error", "deadline_exceeded", "timeout"]) {
            ErrorKind::Timeout
        } else {
            return None;
        },
    )
}

const CONTEXT_MARKERS: &[&str] = &[
    "context_length_exceeded",
    "context length",
    "context_length",
    "context window",
    "context_window",
    "maximum context",
    "exceed_context_size",
    "exceeds the available context",
    "prompt is too long",
    "input is too long",
    "reduce the length of the messages",
    "maximum number of tokens",
    "too many input tokens",
    "input token count",
    // Cohere: "too many tokens: total number of tokens in the prompt cannot exceed 4081 - …",
    // "too many tokens: size limit exceeded by 11326 tokens".
    "tokens in the prompt cannot exceed",
    "size limit exceeded by",
    // TGI: "`inputs` tokens + `max_new_tokens` must be <= 4096", "`inputs` must have less than
    // 1024 tokens".
    "`inputs` tokens + `max_new_tokens` must be",
    "`inputs` must have less than",
    "exceed context limit",
];

const CONTENT_POLICY_MARKERS: &[&str] = &[
    "content_filter",
    "content_policy_violation",
    "content management policy",
    "content policy",
    "responsibleaipolicyviolation",
    "flagged as potentially violating",
    "blocked due to safety",
    "safety system",
];

/// Refines a status-derived kind with what the body says. Only client-error kinds are refined
/// (and, for errors inside a stream, the default InternalServer).
fn classify(base: ErrorKind, message: &str, p: &ParsedBody, in_stream: bool) -> ErrorKind {
    let refinable = matches!(base, ErrorKind::BadRequest | ErrorKind::UnprocessableEntity)
        || (in_stream && base == ErrorKind::InternalServer);
    if !refinable {
        return base;
    }
    let haystack = format!(
        "{} {} {}",
        message,
        p.code.as_deref().unwrap_or(""),
        p.error_type.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    if p.content_policy || CONTENT_POLICY_MARKERS.iter().any(|m| haystack.contains(m)) {
        return ErrorKind::ContentPolicyViolation;
    }
    if CONTEXT_MARKERS.iter().any(|m| haystack.contains(m)) {
        return ErrorKind::ContextWindowExceeded;
    }
    if base == ErrorKind::BadRequest
        && let Some(k @ ErrorKind::RateLimit) = kind_from_type(p)
    {
        return k;
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn err(status: u16, body: Value) -> Error {
        error_from_response(status, &HeaderMap::new(), body.to_string().as_bytes())
    }

    #[test]
    fn openai_shapes() {
        let e = err(
            400,
            json!({"error":{"code":"model_not_found","message":"The requested model 'x' does not exist.","param":"model","type":"invalid_request_error"}}),
        );
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert_eq!(e.code(), Some("model_not_found"));
        assert_eq!(e.details().param.as_deref(), Some("model"));
        assert_eq!(e.message(), "The requested model 'x' does not exist.");

        let e = err(
            429,
            json!({"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimit);
    }

    #[test]
    fn non_wrapped_shapes() {
        let mistral = err(
            400,
            json!({"code":"1500","message":"Invalid model: x","object":"error","param":null,"raw_status_code":400,"type":"invalid_model"}),
        );
        assert_eq!(mistral.kind(), ErrorKind::BadRequest);
        assert_eq!(mistral.message(), "Invalid model: x");
        assert_eq!(mistral.code(), Some("1500"));

        let xai = err(
            400,
            json!({"code":"invalid-argument","error":"Incorrect API key provided."}),
        );
        assert_eq!(xai.message(), "Incorrect API key provided.");
        assert_eq!(xai.code(), Some("invalid-argument"));

        let fastapi = err(
            422,
            json!({"detail":[{"loc":["body","messages",0],"msg":"field required","type":"missing"}]}),
        );
        assert_eq!(fastapi.kind(), ErrorKind::UnprocessableEntity);
        assert_eq!(fastapi.message(), "body.messages.0: field required");

        let openrouter = err(
            400,
            json!({"error":{"code":400,"message":"x is not a valid model ID"},"user_id":"u"}),
        );
        assert_eq!(openrouter.code(), Some("400"));

        let plain = error_from_response(502, &HeaderMap::new(), b"<html>Bad Gateway</html>");
        assert_eq!(plain.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(plain.message(), "<html>Bad Gateway</html>");

        let empty = error_from_response(500, &HeaderMap::new(), b"");
        assert_eq!(empty.message(), "HTTP 500");
    }

    #[test]
    fn context_window_and_content_policy() {
        let llamacpp = err(
            400,
            json!({"error":{"code":400,"message":"request (2009 tokens) exceeds the available context size (512 tokens), try increasing it","n_ctx":512,"type":"exceed_context_size_error"}}),
        );
        assert_eq!(llamacpp.kind(), ErrorKind::ContextWindowExceeded);
        let anthropic = err(
            400,
            json!({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}),
        );
        assert_eq!(anthropic.kind(), ErrorKind::ContextWindowExceeded);
        let azure = err(
            400,
            json!({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}),
        );
        assert_eq!(azure.kind(), ErrorKind::ContentPolicyViolation);
        let cohere = err(
            400,
            json!({"id":"x","message":"too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt."}),
        );
        assert_eq!(cohere.kind(), ErrorKind::ContextWindowExceeded);
        let tgi = err(
            422,
            json!({"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`","error_type":"validation"}),
        );
        assert_eq!(tgi.kind(), ErrorKind::ContextWindowExceeded);
        // A 429 mentioning tokens stays a rate limit.
        let rl = err(
            429,
            json!({"error":{"message":"Request too large: maximum context tokens per min"}}),
        );
        assert_eq!(rl.kind(), ErrorKind::RateLimit);
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert("retry-after", HeaderValue::from_static("garbage"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&h), None);
        let future = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(future);
        h.insert("retry-after", HeaderValue::from_str(&date).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(86_400)));
        h.insert("retry-after-ms", HeaderValue::from_static("1e300"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn gemini_retry_info() {
        let e = err(
            429,
            json!({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[
            {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34.4s"}]}}),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimit);
        assert_eq!(e.retry_after(), Some(Duration::from_secs_f64(34.4)));
        assert_eq!(
            e.details().error_type.as_deref(),
            Some("RESOURCE_EXHAUSTED")
        );
    }

    #[test]
    fn mid_stream_errors() {
        let e = error_from_json(
            &json!({"error":{"message":"The server had an error","type":"server_error"}}),
        )
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InternalServer);
        let e = error_from_json(
            &json!({"error":{"message":"Input validation error","http_status_code":422}}),
        )
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::UnprocessableEntity);
        assert_eq!(e.status(), Some(422));
        let e = error_from_json(&json!({"error":"model overloaded"})).unwrap();
        assert_eq!(e.message(), "model overloaded");
        let e = error_from_json(
            &json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
        )
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
        let e = error_from_json(&json!({"error":{"type":"rate_limit_error","message":"slow"}}))
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::RateLimit);
        assert!(error_from_json(&json!({"choices":[]})).is_none());
        assert!(error_from_json(&json!({"error":null})).is_none());
    }

    #[test]
    fn anthropic_shapes() {
        let e = err(
            404,
            json!({"error":{"message":"model: claude-x","type":"not_found_error"},"request_id":"req_1","type":"error"}),
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.request_id(), Some("req_1"));
        let mut h = HeaderMap::new();
        h.insert("request-id", HeaderValue::from_static("req_hdr"));
        let e = error_from_response(
            529,
            &h,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_body"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(e.request_id(), Some("req_hdr"));
        let e = err(
            413,
            json!({"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}),
        );
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        let e = err(
            402,
            json!({"type":"error","error":{"type":"billing_error","message":"credit balance too low"}}),
        );
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        let e = err(
            400,
            json!({"type":"error","error":{"type":"invalid_request_error","message":"input length and `max_tokens` exceed context limit: 197626 + 8192 > 200000"}}),
        );
        assert_eq!(e.kind(), ErrorKind::ContextWindowExceeded);
        let e = error_from_json(
            &json!({"type":"error","error":{"type":"billing_error","message":"m"},"request_id":"req_s"}),
        )
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(e.request_id(), Some("req_s"));
        let e = error_from_json(
            &json!({"type":"error","error":{"type":"request_too_large","message":"m"}}),
        )
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::BadRequest);
    }

    #[test]
    fn aws_error_type_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(
                "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ),
        );
        h.insert("x-amzn-requestid", HeaderValue::from_static("rid-1"));
        let e = error_from_response(
            404,
            &h,
            br#"{"message":"This model version has reached the end of its life."}"#,
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.code(), Some("ResourceNotFoundException"));
        assert_eq!(e.request_id(), Some("rid-1"));
        assert_eq!(
            e.message(),
            "This model version has reached the end of its life."
        );
    }

    #[test]
    fn request_id_headers() {
        let mut h = HeaderMap::new();
        h.insert("request-id", HeaderValue::from_static("req_018"));
        assert_eq!(request_id(&h).as_deref(), Some("req_018"));
        h.insert("x-request-id", HeaderValue::from_static("abc"));
        assert_eq!(request_id(&h).as_deref(), Some("abc"));
        // The first name in the list wins whatever the order of the headers; a value that is
        // not visible ASCII is skipped.
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("x-correlation-id", HeaderValue::from_static("corr"));
        h.insert("apim-request-id", HeaderValue::from_static("apim"));
        h.insert("x-request-id", HeaderValue::from_bytes(b"\xffbad").unwrap());
        assert_eq!(request_id(&h).as_deref(), Some("apim"));
        assert_eq!(request_id(&HeaderMap::new()), None);
    }
}
