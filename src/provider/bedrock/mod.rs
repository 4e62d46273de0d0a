//! AWS Bedrock Runtime (prefix `bedrock`, Cargo feature `bedrock`): chat through the Converse
//! and ConverseStream APIs, embeddings through InvokeModel (Titan and Cohere models).
//!
//! ```text
//! bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0     a model id
//! bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0  an inference profile
//! bedrock/converse/amazon.nova-lite-v1:0                the `converse/` (or `invoke/`) route prefix is dropped
//! bedrock/arn:aws:bedrock:us-east-1:…:inference-profile/…  an ARN
//! ```
//!
//! # Endpoint
//!
//! `POST https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/converse` (and
//! `/converse-stream`, `/invoke`), the model id percent-encoded as one path segment (`:` →
//! `%3A`, `/` → `%2F`). The region is the provider setting `aws_region_name`, else the first of
//! `AWS_REGION_NAME`, `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-west-2` (Python LiteLLM's
//! default). The base URL can be replaced with `api_base`, the provider setting
//! `aws_bedrock_runtime_endpoint`, or `AWS_BEDROCK_RUNTIME_ENDPOINT` / `BEDROCK_API_BASE`
//! (a VPC endpoint, a proxy, a test server); requests are still signed for the region.
//!
//! # Authentication
//!
//! - **API key**: an `api_key` (or `AWS_BEARER_TOKEN_BEDROCK`) is sent as
//!   `Authorization: Bearer …`, and takes precedence.
//! - **SigV4**: otherwise the provider settings `aws_access_key_id`, `aws_secret_access_key`
//!   and optionally `aws_session_token` (or `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN`) sign each request (service `bedrock`; signed headers `host`,
//!   `x-amz-content-sha256`, `x-amz-date` and `x-amz-security-token` when there is a session
//!   token). Each setting is resolved on its own (call, then client, then environment), so set
//!   all three from one place. Profiles, SSO, instance metadata and role assumption are not
//!   read: pass resolved credentials.
//! - Neither: an `Authentication` error before any request.
//!
//! ```no_run
//! # async fn f() -> litellm::Result<()> {
//! use litellm::{ChatRequest, Client, Message};
//! let client = Client::builder()
//!     .provider_param("bedrock", "aws_region_name", "eu-west-1")
//!     .provider_param("bedrock", "aws_access_key_id", "AKIA…")
//!     .provider_param("bedrock", "aws_secret_access_key", "…")
//!     .build()?;
//! let resp = client
//!     .chat(ChatRequest::new("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", vec![Message::user("Hi")]))
//!     .await?;
//! # let _ = resp; Ok(()) }
//! ```
//!
//! # Translation
//!
//! - System and developer messages → `system` text blocks; user, assistant and tool messages →
//!   `messages`, adjacent turns of one role merged (tool results are user turns holding
//!   `toolResult` blocks). Text parts → `text`; `data:` image URLs (png, jpeg, gif, webp) →
//!   `image` bytes; `s3://` URLs → `image.source.s3Location`; `http(s)` image URLs are
//!   `Unsupported` (nothing is downloaded); `file` parts with base64 data → `document` blocks; a
//!   `cache_control` on a part adds a `cachePoint` after it; a raw Converse block (e.g.
//!   `{"cachePoint":{"type":"default"}}`) given as a part is sent as is.
//! - Assistant `tool_calls` → `toolUse` (arguments parsed to JSON); `thinking_blocks` (with
//!   signatures, as returned by this provider) → `reasoningContent` blocks.
//! - `tools` → `toolConfig.tools[].toolSpec` (`inputSchema.json`); `tool_choice` `auto` →
//!   nothing (Converse's default), `required` → `{"any":{}}`, a named function →
//!   `{"tool":{"name"}}`, `none` → the tools are left out (kept without a choice when the
//!   history holds tool calls, which Converse requires).
//! - `response_format` `json_object`/`json_schema` → a forced tool named `json_tool_call`
//!   whose input schema is the schema; its arguments come back as the message text and the
//!   finish reason as `stop`. It cannot be combined with `tools` (`Unsupported`).
//! - `max_completion_tokens`/`max_tokens` → `inferenceConfig.maxTokens`; `temperature` →
//!   `temperature`; `top_p` → `topP`; `stop` → `stopSequences`.
//! - `reasoning_effort` on Claude models → `additionalModelRequestFields.thinking` with a
//!   budget of 1024 (minimal, low), 2048 (medium) or 4096 (high) tokens.
//! - `extra_body`: Converse's own members (`guardrailConfig`, `performanceConfig`,
//!   `requestMetadata`, `promptVariables`, `additionalModelResponseFieldPaths`, `serviceTier`,
//!   `outputConfig`, …) are sent at the top level (objects merged into ours); any other key
//!   (`top_k`, `thinking`, …) goes into `additionalModelRequestFields`.
//! - `Unsupported` unless `drop_params`: `n` > 1, `seed`, `presence_penalty`,
//!   `frequency_penalty`, `logit_bias`, `logprobs`, `top_logprobs`, `user`,
//!   `parallel_tool_calls: false`, audio input and output, `prediction`, `store`, `metadata`,
//!   `service_tier`, and the other OpenAI-only fields.
//!
//! Answers: text blocks → `content`, `toolUse` → `tool_calls`, `reasoningContent` →
//! `reasoning_content` (signatures kept in the message's `thinking_blocks`); `stopReason`
//! `end_turn`/`stop_sequence` → `stop`, `max_tokens`/`model_context_window_exceeded` →
//! `length`, `tool_use` → `tool_calls`, `guardrail_intervened`/`content_filtered` →
//! `content_filter`, `malformed_model_output`/`malformed_tool_use` → an `InternalServer`
//! error; usage `inputTokens` + `cacheReadInputTokens` + `cacheWriteInputTokens` →
//! `prompt_tokens` (cache reads in `cached_tokens`, writes in `cache_write_tokens`),
//! `outputTokens` → `completion_tokens`. Converse answers carry no id: the completion id is
//! `chatcmpl-` and the `x-amzn-requestid`.
//!
//! Streams arrive as binary `application/vnd.amazon.eventstream` frames, both CRCs checked;
//! `messageStart`, `contentBlockStart` (tool calls), `contentBlockDelta` (text, tool input
//! fragments, reasoning), `messageStop` (finish reason) and `metadata` (usage, sent as the
//! last chunk with `choices: []`) become OpenAI chunks. `exception` frames become typed errors;
//! a stream that ends before both `messageStop` and `metadata` is an `ApiConnection` error.
//!
//! Errors: the `x-amzn-errortype` exception name decides the kind — `ValidationException`
//! → BadRequest (ContextWindowExceeded for "Input is too long…"), `AccessDeniedException` →
//! PermissionDenied, `UnrecognizedClientException`/`InvalidSignatureException`/
//! `ExpiredTokenException` → Authentication, `ResourceNotFoundException` → NotFound,
//! `ModelTimeoutException` → Timeout, `ModelErrorException` → InternalServer (or the kind of
//! the model's `originalStatusCode`), `ThrottlingException`/`ModelNotReadyException`/
//! `ServiceQuotaExceededException` → RateLimit, `ServiceUnavailableException` →
//! ServiceUnavailable; the request id is `x-amzn-requestid`.
//!
//! # Embeddings
//!
//! Through `POST /model/{modelId}/invoke`:
//! - Titan (`amazon.titan-embed-text-v2:0`, `…-v1`, `amazon.titan-embed-image-v1`): one call
//!   per input, `{"inputText", "dimensions"}` (v2; the image model takes
//!   `embeddingConfig.outputEmbeddingLength`); usage from `inputTextTokenCount`.
//! - Cohere (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`, `cohere.embed-v4:0`):
//!   `{"texts", "input_type"}` in batches of 96, `input_type` from `extra_body` (default
//!   `search_document`), `dimensions` → `output_dimension` (v4); usage from the
//!   `X-Amzn-Bedrock-Input-Token-Count` header.
//!
//! Other `extra_body` keys are added to the body. Token inputs and other models are
//! `Unsupported`.

mod converse;
mod eventstream;
mod sigv4;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::{Map, Value, json};

use self::converse::{ConverseDecoder, converse_body, parse_response, refine_error};
use self::sigv4::AwsCredentials;
use super::decode::{DecodedStream, ErrCtx};
use super::error_map::request_id;
use super::http::{self, Auth, HttpRequest};
use super::{CallContext, Credentials, Provider};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    ChatRequest, ChatResponse, ChatStream, Embedding, EmbeddingRequest, EmbeddingResponse,
    EmbeddingUsage, ResponseMeta,
};

pub use self::converse::JSON_TOOL;

/// The region used when none is configured (as Python LiteLLM).
pub const DEFAULT_REGION: &str = "us-west-2";

/// SigV4 service name of Bedrock Runtime.
const SERVICE: &str = "bedrock";

/// Cohere's largest batch of texts per InvokeModel call.
const COHERE_BATCH: usize = 96;

const PARAMS_ENV: &[(&str, &[&str])] = &[
    (
        "aws_region_name",
        &["AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"],
    ),
    ("aws_access_key_id", &["AWS_ACCESS_KEY_ID"]),
    ("aws_secret_access_key", &["AWS_SECRET_ACCESS_KEY"]),
    ("aws_session_token", &["AWS_SESSION_TOKEN"]),
    (
        "aws_bedrock_runtime_endpoint",
        &["AWS_BEDROCK_RUNTIME_ENDPOINT"],
    ),
];

/// The Bedrock provider (prefix `bedrock`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Bedrock;

/// The path of a Bedrock Runtime operation on a model: `model/{percent-encoded id}/{op}`.
///
/// ```
/// use litellm::provider::bedrock::model_path;
/// assert_eq!(
///     model_path("anthropic.claude-3-5-sonnet-20240620-v1:0", "converse"),
///     "model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
/// );
/// ```
pub(crate) fn model_path(model_id: &str, op: &str) -> String {
    format!("model/{}/{op}", sigv4::uri_encode(model_id, false))
}

/// The model id of a call: Python LiteLLM's `converse/` and `invoke/` route prefixes are
/// dropped (chat always goes through Converse).
fn model_id(cx: &CallContext) -> &str {
    let m = cx.model.as_str();
    m.strip_prefix("converse/")
        .or_else(|| m.strip_prefix("invoke/"))
        .unwrap_or(m)
}

fn region(cx: &CallContext) -> Result<&str> {
    let r = cx
        .param("aws_region_name")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REGION);
    if r.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(r)
    } else {
        Err(Error::new(
            ErrorKind::Config,
            format!("invalid AWS region {r:?}"),
        ))
    }
}

fn endpoint(cx: &CallContext, op: &str) -> Result<String> {
    let id = model_id(cx);
    if id.is_empty() || id == "." || id == ".." {
        return Err(Error::bad_request(format!(
            "invalid Bedrock model id {id:?}"
        )));
    }
    let path = model_path(id, op);
    let base = match cx
        .api_base
        .clone()
        .or_else(|| cx.param("aws_bedrock_runtime_endpoint").map(str::to_owned))
    {
        Some(b) => b,
        None => format!("https://bedrock-runtime.{}.amazonaws.com", region(cx)?),
    };
    Ok(http::join_url(&base, &path))
}

enum AwsAuth<'a> {
    Bearer(&'a str),
    SigV4(AwsCredentials),
}

fn auth(cx: &CallContext) -> Result<AwsAuth<'_>> {
    if let Some(k) = cx.api_key.as_ref().filter(|k| !k.is_empty()) {
        return Ok(AwsAuth::Bearer(k.expose()));
    }
    let get = |n: &str| cx.param(n).map(str::trim).filter(|v| !v.is_empty());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(AwsAuth::SigV4(AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: get("aws_session_token").map(str::to_owned),
        })),
        _ => Err(Error::new(
            ErrorKind::Authentication,
            "no AWS credentials for provider 'bedrock': pass api_key or set \
             AWS_BEARER_TOKEN_BEDROCK, or set aws_access_key_id and aws_secret_access_key \
             (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
        )),
    }
}

fn sensitive(v: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::try_from(v).map_err(|_| {
        Error::bad_request("an AWS credential contains characters not allowed in a header")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The request to send: JSON headers, then the bearer token or a SigV4 signature over the
/// URL as it will be sent.
fn build_request(
    cx: &CallContext,
    url: String,
    body: Vec<u8>,
    accept: &'static str,
) -> Result<HttpRequest> {
    let auth = auth(cx)?;
    let mut headers = http::json_headers(
        cx,
        match &auth {
            AwsAuth::Bearer(k) => Auth::Bearer(k),
            AwsAuth::SigV4(_) => Auth::None,
        },
        false,
    )?;
    headers.insert(ACCEPT, HeaderValue::from_static(accept));
    if let AwsAuth::SigV4(creds) = &auth {
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Error::new(ErrorKind::Config, format!("invalid Bedrock URL: {e}")))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(Error::new(ErrorKind::Config, "the Bedrock URL has no host"));
            }
        };
        let date = sigv4::amz_date(std::time::SystemTime::now());
        let hash = sigv4::sha256_hex(&body);
        let mut signed: Vec<(&str, &str)> = vec![
            ("host", &host),
            ("x-amz-content-sha256", &hash),
            ("x-amz-date", &date),
        ];
        if let Some(t) = &creds.session_token {
            signed.push(("x-amz-security-token", t));
        }
        let s = sigv4::sign(
            &sigv4::Request {
                method: "POST",
                path: parsed.path(),
                query: parsed.query().unwrap_or(""),
                headers: &signed,
                payload_hash: &hash,
            },
            &sigv4::Scope {
                region: region(cx)?,
                service: SERVICE,
                amz_date: &date,
            },
            creds,
        );
        headers.insert(
            "x-amz-date",
            HeaderValue::try_from(date.as_str()).map_err(|_| Error::bad_request("bad date"))?,
        );
        headers.insert(
            "x-amz-content-sha256",
            HeaderValue::try_from(hash.as_str()).map_err(|_| Error::bad_request("bad hash"))?,
        );
        if let Some(t) = &creds.session_token {
            headers.insert("x-amz-security-token", sensitive(t)?);
        }
        headers.insert(AUTHORIZATION, sensitive(&s.authorization)?);
    }
    Ok(HttpRequest { url, headers, body })
}

fn decode_json(cx: &CallContext, body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        http::finish_error(
            cx,
            Error::new(
                ErrorKind::InvalidResponse,
                format!("could not decode the response: {e}; body starts with {snippet:?}"),
            ),
        )
    })
}

/// Sends a signed JSON POST; returns the decoded answer, the request id and the headers.
async fn post(
    cx: &CallContext,
    url: String,
    body: &Value,
    accept: &'static str,
) -> Result<reqwest::Response> {
    let req = build_request(cx, url, http::json_body(body)?, accept)
        .map_err(|e| http::finish_error(cx, e))?;
    http::send(cx, req).await.map_err(refine_error)
}

#[async_trait]
impl Provider for Bedrock {
    fn name(&self) -> &str {
        "bedrock"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            params_env: PARAMS_ENV,
            ..Credentials::new(
                &["AWS_BEARER_TOKEN_BEDROCK"],
                &["AWS_BEDROCK_RUNTIME_ENDPOINT", "BEDROCK_API_BASE"],
                None,
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let body = converse_body(req, cx).map_err(|e| http::finish_error(cx, e))?;
        let url = endpoint(cx, "converse").map_err(|e| http::finish_error(cx, e))?;
        let resp = post(cx, url, &body.body, "application/json").await?;
        let rid = request_id(resp.headers());
        let bytes = http::read_body(cx, resp).await?;
        let v = decode_json(cx, &bytes)?;
        let mut out = parse_response(&v, model_id(cx), body.json_tool, rid.as_deref())
            .map_err(|e| finish(cx, e, &rid))?;
        out.meta.request_id = rid;
        Ok(out)
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let body = converse_body(req, cx).map_err(|e| http::finish_error(cx, e))?;
        let url = endpoint(cx, "converse-stream").map_err(|e| http::finish_error(cx, e))?;
        let resp = post(cx, url, &body.body, "application/vnd.amazon.eventstream").await?;
        let rid = request_id(resp.headers());
        let mut meta = ResponseMeta::new(cx.provider.clone(), cx.model.clone());
        meta.request_id = rid.clone();
        if http::is_json(&resp) {
            // Not a stream: a whole Converse answer (a proxy or test double), replayed.
            let bytes = http::read_body(cx, resp).await?;
            let v = decode_json(cx, &bytes)?;
            let mut whole = parse_response(&v, model_id(cx), body.json_tool, rid.as_deref())
                .map_err(|e| finish(cx, e, &rid))?;
            whole.meta = meta;
            return Ok(ChatStream::from_response(&whole));
        }
        let frames = eventstream::frames(resp, cx.max_response_bytes);
        let decoder = ConverseDecoder::new(model_id(cx), body.json_tool, rid.as_deref());
        Ok(ChatStream::new(
            DecodedStream::new(frames, decoder, ErrCtx::from(cx).with_request_id(rid)),
            meta,
        ))
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let result = embed(req, cx).await;
        result.map_err(|e| http::finish_error(cx, e))
    }
}

fn finish(cx: &CallContext, e: Error, rid: &Option<String>) -> Error {
    let e = http::finish_error(cx, e);
    match rid {
        Some(id) if e.request_id().is_none() => e.with_request_id(id.clone()),
        _ => e,
    }
}

enum EmbedFamily {
    Titan,
    Cohere,
}

/// The body of one InvokeModel embedding call (pure): Titan takes one text, Cohere a batch.
fn embed_body(
    family: &EmbedFamily,
    model: &str,
    texts: &[&str],
    req: &EmbeddingRequest,
    cx: &CallContext,
) -> Result<Value> {
    let mut body = Map::new();
    match family {
        EmbedFamily::Titan => {
            body.insert(
                "inputText".into(),
                json!(texts.first().copied().unwrap_or("")),
            );
            if let Some(d) = req.dimensions {
                if model.contains("titan-embed-image") {
                    body.insert(
                        "embeddingConfig".into(),
                        json!({"outputEmbeddingLength": d}),
                    );
                } else if model.contains("titan-embed-text-v1") {
                    cx.unsupported_param("dimensions")?;
                } else {
                    body.insert("dimensions".into(), json!(d));
                }
            }
        }
        EmbedFamily::Cohere => {
            body.insert("texts".into(), json!(texts));
            body.insert("input_type".into(), json!("search_document"));
            if let Some(d) = req.dimensions {
                if model.contains("embed-v4") {
                    body.insert("output_dimension".into(), json!(d));
                } else {
                    cx.unsupported_param("dimensions")?;
                }
            }
        }
    }
    for (k, v) in &req.extra_body {
        body.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(body))
}

/// Vectors of a Cohere answer: `embeddings` as a list of vectors or `{"float": [...]}`.
fn cohere_vectors(v: &Value) -> Option<Vec<Vec<f32>>> {
    let e = v.get("embeddings")?;
    let list = match e {
        Value::Array(a) => a,
        Value::Object(o) => o.get("float")?.as_array()?,
        _ => return None,
    };
    list.iter().map(vector).collect()
}

fn vector(v: &Value) -> Option<Vec<f32>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_f64().map(|f| f as f32))
        .collect()
}

fn token_header(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get("x-amzn-bedrock-input-token-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

async fn embed(req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
    let model = model_id(cx);
    let family = if model.contains("titan-embed") {
        EmbedFamily::Titan
    } else if model.contains("cohere.embed") {
        EmbedFamily::Cohere
    } else {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("Bedrock embeddings support Titan and Cohere models, not {model:?}"),
        ));
    };
    let texts = req.input.texts().ok_or_else(|| {
        Error::new(
            ErrorKind::Unsupported,
            "Bedrock embeddings take text input, not token arrays",
        )
    })?;
    if texts.is_empty() {
        return Err(Error::bad_request("the embeddings input is empty"));
    }
    if req.user.is_some() {
        cx.unsupported_param("user")?;
    }
    let url = endpoint(cx, "invoke")?;
    let batch = match family {
        EmbedFamily::Titan => 1,
        EmbedFamily::Cohere => COHERE_BATCH,
    };
    let mut data = Vec::with_capacity(texts.len());
    let mut tokens = 0u64;
    let mut rid = None;
    for group in texts.chunks(batch) {
        let body = embed_body(&family, model, group, req, cx)?;
        let resp = post(cx, url.clone(), &body, "application/json").await?;
        rid = rid.or_else(|| request_id(resp.headers()));
        let header_tokens = token_header(&resp);
        let bytes = http::read_body(cx, resp).await?;
        let v = decode_json(cx, &bytes)?;
        let vectors = match family {
            EmbedFamily::Titan => v.get("embedding").and_then(vector).map(|e| vec![e]),
            EmbedFamily::Cohere => cohere_vectors(&v),
        }
        .filter(|vs| vs.len() == group.len())
        .ok_or_else(|| {
            let snippet: String = v.to_string().chars().take(200).collect();
            Error::new(
                ErrorKind::InvalidResponse,
                format!(
                    "the embeddings answer has no vector per input; body starts with {snippet:?}"
                ),
            )
        })?;
        tokens = tokens.saturating_add(
            header_tokens
                .or_else(|| v.get("inputTextTokenCount").and_then(Value::as_u64))
                .unwrap_or(0),
        );
        for e in vectors {
            data.push(Embedding {
                object: "embedding".into(),
                index: data.len() as u32,
                embedding: e,
            });
        }
    }
    let mut out = EmbeddingResponse {
        object: "list".into(),
        data,
        model: model.to_owned(),
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
        ..Default::default()
    };
    out.meta.request_id = rid;
    Ok(out)
}

#[cfg(test)]
mod tests;
