//! The one place that sends HTTP: build headers, POST a JSON body, turn non-2xx answers into
//! typed errors, read bounded bodies and decode them.
//!
//! Nothing here retries: retries belong to the caller (the client's `num_retries`, or the router).

use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CallContext;
use super::error_map::{error_from_json, error_from_response, request_id};
use crate::error::{Error, ErrorKind, Result};

/// Largest error body read from a failed call.
const MAX_ERROR_READ: usize = 64 * 1024;

/// An HTTP request ready to send: POST `url` with `headers` and a JSON `body`.
#[derive(Debug)]
pub struct HttpRequest {
    /// Full URL, query included.
    pub url: String,
    /// Headers (content type, auth, extras). Auth values are marked sensitive.
    pub headers: HeaderMap,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// How a provider authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth<'a> {
    /// No credential header.
    None,
    /// `Authorization: Bearer <key>`.
    Bearer(&'a str),
    /// A custom header carrying the key as is (Azure `api-key`, Anthropic `x-api-key`).
    Header(&'static str, &'a str),
}

static JSON: HeaderValue = HeaderValue::from_static("application/json");
/// Streaming calls accept both: `stream: true` decides for real vendors, and mock servers that
/// negotiate on `Accept` (Prism) answer JSON, which is replayed as a stream.
static EVENT_STREAM: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");

/// Builds the headers of a JSON call: content type, accept, auth, then the context's extra
/// headers (which may override any of them).
pub fn json_headers(cx: &CallContext, auth: Auth<'_>, stream: bool) -> Result<HeaderMap> {
    let mut h = HeaderMap::with_capacity(4 + cx.headers.len());
    h.insert(CONTENT_TYPE, JSON.clone());
    h.insert(
        ACCEPT,
        if stream {
            EVENT_STREAM.clone()
        } else {
            JSON.clone()
        },
    );
    match auth {
        Auth::None => {}
        Auth::Bearer(key) => {
            let mut v = HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| {
                Error::bad_request("the API key contains characters not allowed in a header")
            })?;
            v.set_sensitive(true);
            h.insert(reqwest::header::AUTHORIZATION, v);
        }
        Auth::Header(name, key) => {
            let mut v = HeaderValue::try_from(key).map_err(|_| {
                Error::bad_request("the API key contains characters not allowed in a header")
            })?;
            v.set_sensitive(true);
            h.insert(HeaderName::from_static(name), v);
        }
    }
    for (name, value) in &cx.headers {
        let n = HeaderName::try_from(name.as_str())
            .map_err(|_| Error::bad_request(format!("invalid header name {name:?}")))?;
        let mut v = HeaderValue::try_from(value.as_str())
            .map_err(|_| Error::bad_request(format!("invalid value for header {name:?}")))?;
        if super::is_secret_header(name) {
            v.set_sensitive(true);
        }
        h.insert(n, v);
    }
    Ok(h)
}

/// Sends `req` and returns the response when its status is 2xx. A non-2xx answer becomes the
/// matching typed error (status, vendor body, retry hint, request id); a transport failure
/// becomes `ApiConnection` or `Timeout`. The API key is scrubbed from every error.
pub async fn send(cx: &CallContext, req: HttpRequest) -> Result<reqwest::Response> {
    tracing::debug!(provider = %cx.provider, model = %cx.model, url = %redact_query(&req.url), "sending request");
    let url = parsed_url(&req.url).map_err(|e| finish_error(cx, e))?;
    let mut request = reqwest::Request::new(reqwest::Method::POST, url);
    *request.headers_mut() = req.headers;
    *request.body_mut() = Some(req.body.into());
    let resp = cx
        .http
        .execute(request)
        .await
        .map_err(|e| finish_error(cx, Error::from(e)))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let headers = resp.headers().clone();
    let body = read_limited(resp, MAX_ERROR_READ, true)
        .await
        .unwrap_or_default();
    Err(finish_error(
        cx,
        error_from_response(status, &headers, &body),
    ))
}

/// How many parsed endpoint URLs each thread remembers.
const URL_MEMO: usize = 256;

thread_local! {
    static URLS: std::cell::RefCell<std::collections::HashMap<String, reqwest::Url>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `url` parsed, from a per-thread memo of the endpoints called: parsing a URL costs about as
/// much as the rest of the request's framing, and a client calls the same few endpoints
/// again and again. A URL that does not parse is a `Config` error.
fn parsed_url(url: &str) -> Result<reqwest::Url> {
    if let Some(u) = URLS.with(|m| m.borrow().get(url).cloned()) {
        return Ok(u);
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("invalid URL {:?}: {e}", redact_query(url)),
        )
    })?;
    if !parsed.has_host() {
        return Err(Error::new(
            ErrorKind::Config,
            format!("invalid URL {:?}: no host", redact_query(url)),
        ));
    }
    URLS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= URL_MEMO {
            m.clear();
        }
        m.insert(url.to_owned(), parsed.clone());
    });
    Ok(parsed)
}

/// Whether the answer is JSON (`Content-Type: application/json…`): a streaming call answered
/// with one whole body (a proxy or mock that ignored `stream: true`).
pub(crate) fn is_json(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Serializes a request body as JSON; a value that cannot be serialized is `BadRequest`.
pub(crate) fn json_body<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(unserializable)
}

/// The `BadRequest` for a request that cannot be serialized.
pub(crate) fn unserializable(e: serde_json::Error) -> Error {
    Error::bad_request(format!("could not serialize the request: {e}"))
}

/// Adds provider and model to an error and scrubs the key from it.
pub(crate) fn finish_error(cx: &CallContext, err: Error) -> Error {
    let mut err = err.or_context(&cx.provider, &cx.model);
    for secret in cx.secrets() {
        err = err.scrub(secret.expose());
    }
    err
}

/// Reads the whole body, failing with `InvalidResponse` past `cx.max_response_bytes`.
pub async fn read_body(cx: &CallContext, resp: reqwest::Response) -> Result<Bytes> {
    read_limited(resp, cx.max_response_bytes, false)
        .await
        .map_err(|e| finish_error(cx, e))
}

async fn read_limited(mut resp: reqwest::Response, limit: usize, truncate: bool) -> Result<Bytes> {
    if let Some(len) = resp.content_length() {
        if len as usize <= limit {
            return resp.bytes().await.map_err(stream_error);
        }
        if !truncate {
            return Err(too_large(limit));
        }
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(stream_error)? {
        if buf.len() + chunk.len() > limit {
            if truncate {
                let room = limit - buf.len();
                buf.extend_from_slice(&chunk[..room]);
                break;
            }
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn too_large(limit: usize) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("response body larger than the limit of {limit} bytes"),
    )
}

fn stream_error(e: reqwest::Error) -> Error {
    let e = Error::from(e);
    if e.kind() == ErrorKind::Timeout {
        return e;
    }
    let msg = format!(
        "connection broke while reading the response: {}",
        e.message()
    );
    e.with_kind(ErrorKind::ApiConnection).with_message(msg)
}

/// Reads and decodes the JSON answer of a call, returning it with the vendor's request id.
///
/// The answer must be what was asked for: a body that does not decode is `InvalidResponse`
/// (with the decoder's message and the start of the body); a 2xx body that is an error object,
/// in any vendor's shape, is that error; a body whose `key` (`choices`, `data`) is missing or
/// `null` is `InvalidResponse`. `looks_empty` says when the decoded answer needs that check, so
/// the common case decodes once.
pub async fn read_answer<T: DeserializeOwned>(
    cx: &CallContext,
    resp: reqwest::Response,
    key: &str,
    looks_empty: impl Fn(&T) -> bool,
) -> Result<(T, Option<String>)> {
    let rid = request_id(resp.headers());
    let body = read_body(cx, resp).await?;
    decode_answer(cx, &body, key, looks_empty)
        .map(|v| (v, rid.clone()))
        .map_err(|e| match rid {
            Some(id) if e.request_id().is_none() => e.with_request_id(id),
            _ => e,
        })
}

/// Decodes a JSON answer (see [`read_answer`]).
pub(crate) fn decode_answer<T: DeserializeOwned>(
    cx: &CallContext,
    body: &[u8],
    key: &str,
    looks_empty: impl Fn(&T) -> bool,
) -> Result<T> {
    let decoded = serde_json::from_slice::<T>(body);
    if let Ok(v) = &decoded
        && !looks_empty(v)
    {
        return decoded.map_err(Error::from);
    }
    let value = serde_json::from_slice::<serde_json::Value>(body).ok();
    if let Some(err) = value.as_ref().and_then(error_from_json) {
        return Err(finish_error(cx, err));
    }
    let snippet = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    match decoded {
        Ok(v) => match value.as_ref().and_then(|v| v.get(key)) {
            Some(x) if !x.is_null() => Ok(v),
            _ => Err(finish_error(
                cx,
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!(
                        "the answer has no `{key}`; body starts with {:?}",
                        snippet()
                    ),
                ),
            )),
        },
        Err(e) => {
            // The serde error is the `source()`, not repeated in the message.
            let msg = format!(
                "could not decode the response (body starts with {:?})",
                snippet()
            );
            Err(finish_error(
                cx,
                Error::new(ErrorKind::InvalidResponse, msg).with_source(e),
            ))
        }
    }
}

/// Joins a base URL and a path with exactly one slash; a query string on the base (an API
/// gateway's `?subscription-key=…`) stays at the end.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    let (base, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let base = base.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    let mut s = String::with_capacity(base.len() + 2 + path.len() + query.map_or(0, str::len));
    s.push_str(base);
    s.push('/');
    s.push_str(path);
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

/// Checks a model id that goes into a URL path (Gemini, Vertex, Azure deployments, Bedrock,
/// Hugging Face pipelines): no empty id, no leading `/`, no `.` or `..` segment (which would
/// climb out of the configured base path with the key attached), no `?`, `#`, `%` or `\\`, no
/// whitespace or control character. A `BadRequest` otherwise.
pub(crate) fn check_path_model(model: &str) -> Result<()> {
    let bad = model.is_empty()
        || model.starts_with('/')
        || model.split('/').any(|seg| seg == "." || seg == "..")
        || model
            .chars()
            .any(|c| matches!(c, '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control());
    if bad {
        return Err(Error::bad_request(format!(
            "invalid model id {model:?} for a URL path"
        )));
    }
    Ok(())
}

/// Adds `name=value` to a URL's query string.
pub(crate) fn add_query(url: &str, name: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{name}={value}")
}

/// The URL with its query string replaced by `?…` (queries may carry keys).
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

impl Error {
    pub(crate) fn with_message(mut self, message: String) -> Self {
        self.details_mut().message = message;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_parsed_once_and_bad_ones_are_config_errors() {
        let a = parsed_url("http://127.0.0.1:8080/v1/chat/completions?api-version=1").unwrap();
        let b = parsed_url("http://127.0.0.1:8080/v1/chat/completions?api-version=1").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.path(), "/v1/chat/completions");
        assert_eq!(a.query(), Some("api-version=1"));
        for bad in [
            "not a url",
            "/v1/chat/completions",
            "http://",
            "mailto:someone@example.com",
        ] {
            let e = parsed_url(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
        }
        // the memo is bounded
        for i in 0..(URL_MEMO + 10) {
            parsed_url(&format!("http://127.0.0.1:{}/v1", 1000 + i)).unwrap();
        }
        assert!(URLS.with(|m| m.borrow().len()) <= URL_MEMO);
    }

    #[test]
    fn join_url_has_one_slash() {
        assert_eq!(
            join_url("http://h/v1/", "/chat/completions"),
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            join_url("http://h/v1", "chat/completions"),
            "http://h/v1/chat/completions"
        );
    }

    #[test]
    fn headers_mark_keys_sensitive_and_add_extras() {
        let mut cx = CallContext::new(reqwest::Client::new(), "openai", "gpt");
        cx.headers
            .push(("OpenAI-Organization".into(), "org-1".into()));
        let h = json_headers(&cx, Auth::Bearer("sk-1"), true).unwrap();
        assert!(h["authorization"].is_sensitive());
        assert_eq!(h["accept"], "application/json, text/event-stream");
        assert_eq!(h["openai-organization"], "org-1");
        cx.headers.push(("bad header".into(), "x".into()));
        assert_eq!(
            json_headers(&cx, Auth::None, false).unwrap_err().kind(),
            ErrorKind::BadRequest
        );
        assert_eq!(redact_query("https://x/y?key=abc"), "https://x/y");
    }
}
