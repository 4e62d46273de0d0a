//! Google Gemini (`gemini/`, the Generative Language API of AI Studio) and Vertex AI
//! (`vertex_ai/`, Gemini models on Google Cloud): the same `GenerateContentRequest` body at two
//! kinds of URLs.
//!
//! # Endpoints and credentials
//!
//! | | Gemini (`gemini/…`) | Vertex AI (`vertex_ai/…`) |
//! |---|---|---|
//! | chat | `POST {base}/models/{model}:generateContent` | `POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent` (location `global` → `https://aiplatform.googleapis.com`) |
//! | stream | `…:streamGenerateContent?alt=sse` | same |
//! | embeddings | `…:embedContent` (one text), `…:batchEmbedContents` (several) | `…:predict` |
//! | default base | `https://generativelanguage.googleapis.com/v1beta` | the regional host above |
//! | base env | `GEMINI_API_BASE` | `VERTEXAI_API_BASE` |
//! | auth | `x-goog-api-key: <key>` header (never `?key=` in the URL) from `GEMINI_API_KEY`, else `GOOGLE_API_KEY` | `Authorization: Bearer <token>`: the call's or deployment's `api_key`, else `VERTEXAI_ACCESS_TOKEN`, else `GOOGLE_OAUTH_ACCESS_TOKEN`, or an `Authorization` extra header |
//! | settings | — | `vertex_project` (env `VERTEXAI_PROJECT`, `GOOGLE_CLOUD_PROJECT`; required), `vertex_location` (env `VERTEXAI_LOCATION`, `VERTEX_LOCATION`, `GOOGLE_CLOUD_LOCATION`; default `us-central1`) |
//!
//! A Gemini base URL is the versioned root, as in LiteLLM (`https://my-gateway/v1beta`); the
//! bare Google host gets `/v1beta` added. A model id with a `/` is a resource name used as is
//! (`tunedModels/abc`). A Vertex base URL replaces the regional host; a base that already
//! names `/projects/…` gets the model path added, and one that already names the model
//! (`…/models/x` or `…/endpoints/123`) only gets `:generateContent`. A numeric Vertex model id
//! is a fine-tuned endpoint (`…/endpoints/{id}`). Vertex partner models (Claude, Llama,
//! Mistral, …) are not served here: they are `Unsupported`.
//!
//! Vertex authentication takes an OAuth access token only (for example from `gcloud auth
//! print-access-token`): service-account JSON, application-default credentials and token
//! refresh are **not** implemented; refresh the token yourself and pass it as `api_key`.
//!
//! # Request mapping (OpenAI → Gemini)
//!
//! | OpenAI | Gemini |
//! |---|---|
//! | `system` / `developer` messages (anywhere) | `systemInstruction.parts` (Gemma models: prepended to the first user turn) |
//! | `user` / `assistant` | `contents[].role` `user` / `model`; consecutive turns of one role are merged |
//! | text / `image_url` `data:` URL / other URL | `text` / `inlineData{mimeType,data}` / `fileData{mimeType,fileUri}` (MIME type from the extension, else `image/jpeg`) |
//! | `input_audio`, `file` (`file_data`, `file_id` URI or `files/…`), `video_url` parts | `inlineData` / `fileData` |
//! | assistant `tool_calls` | `functionCall{name,args,id}` parts (`id` omitted for Vertex, which rejects it), with the call's `thoughtSignature` |
//! | `tool` messages | `functionResponse{name,response,id}` parts in a user turn; the name comes from the assistant call with that id (else the message's `name`); a JSON object result is the `response`, anything else is sent as `{"content": …}` |
//! | `tools[].function` | `tools[{functionDeclarations}]` with the schema converted (see below); an object schema without properties is left out; native Gemini tools (`{"googleSearch": {}}`, `codeExecution`, `urlContext`, …) pass through; `web_search_options` → `googleSearch` |
//! | `tool_choice` auto / required / none / named / `allowed_tools` | `toolConfig.functionCallingConfig.mode` AUTO / ANY / NONE / ANY + `allowedFunctionNames` / ANY + names (required) or the declarations narrowed (auto) |
//! | `response_format` json_object / json_schema | `responseMimeType: application/json` (+ `responseSchema`, converted) |
//! | `temperature`, `top_p`, `max_completion_tokens` (else `max_tokens`), `n`, `stop`, `seed` (32-bit), `presence_penalty`, `frequency_penalty`, `logprobs`, `top_logprobs` | `generationConfig.temperature`, `topP`, `maxOutputTokens`, `candidateCount`, `stopSequences`, `seed`, `presencePenalty`, `frequencyPenalty`, `responseLogprobs`, `logprobs` |
//! | `reasoning_effort` | `thinkingConfig`: Gemini 3+ → `thinkingLevel` (`none`/`minimal`/`low` → LOW, others → HIGH); earlier models → `thinkingBudget` none 0, minimal 128, low 1024, medium 2048, high 4096, xhigh 8192, max 16384; `includeThoughts` except for `none` |
//! | `service_tier` (Gemini only) | `serviceTier` (`default` → `standard`, `auto` → not sent) |
//! | `modalities: ["text"]` | `responseModalities: ["TEXT"]` |
//! | `extra_body` | `top_k` → `topK`, `thinking` (Anthropic form) / `thinkingConfig` → `thinkingConfig`, `generationConfig` merged into it, `safety_settings` → `safetySettings`, `cached_content` → `cachedContent`; every other key goes to the top level as is (`safetySettings`, `labels`, …) |
//!
//! `Unsupported` (dropped with `drop_params`): `logit_bias`, `user`, `store`, `metadata`,
//! `safety_identifier`, `prompt_cache_key`, `prompt_cache_retention`, `verbosity`, `prediction`,
//! `audio`, non-text `modalities`, `parallel_tool_calls: false` with more than one tool,
//! `service_tier` on Vertex, custom (non-function) tools, other `tool_choice` and
//! `response_format` forms.
//!
//! JSON schemas are converted to Gemini's OpenAPI subset: upper-case types, `$ref` inlined,
//! nullable unions, and keywords Gemini rejects (`additionalProperties`, `$schema`, `strict`,
//! …) stripped; `docs/providers-gemini.md` lists every keyword kept, translated and stripped.
//!
//! # Response mapping
//!
//! Candidates → choices; text parts → `content`; `thought: true` parts → `reasoning_content`;
//! `functionCall` parts → `tool_calls` (Gemini's `id`, else a generated `call_…` id; arguments
//! are the JSON text of `args`); `inlineData` parts → `message.images` (data URLs);
//! `finishReason` per wire-formats §1.2 (`STOP` with a function call → `tool_calls`);
//! `logprobsResult` → OpenAI `logprobs`; grounding, citation and safety metadata are kept in
//! the choice's extra fields; `usageMetadata` → usage (completion = candidates + thoughts,
//! `reasoning_tokens` = thoughts, `cached_tokens` = `cachedContentTokenCount`). A prompt
//! blocked by safety (`promptFeedback.blockReason`) is one choice with `content_filter`.
//!
//! **Thought signatures.** A `thoughtSignature` on a function-call part is kept in the tool
//! call's `extra` as `provider_specific_fields.thought_signature` (LiteLLM's place), so pushing
//! the assistant message back onto the history re-sends it on the same `functionCall` part, as
//! Gemini 3 requires. A signature appended to the id after `__thought__` (LiteLLM's other form)
//! is read too. For Gemini 3 models, a replayed model turn whose calls have no signature (a
//! history written by hand or by another vendor) gets Google's documented
//! `skip_thought_signature_validator` sentinel on its first call.
//!
//! Streams: every SSE event is a whole `GenerateContentResponse`; Gemini sends no `[DONE]`, so
//! the stream ends with the body, and a body that ends before every choice has a
//! `finishReason` is an `ApiConnection` error. Usage arrives as one last chunk with
//! `choices: []`. Vertex's streamed partial function-call arguments (off by default) are not
//! supported.
//!
//! # Errors
//!
//! `{"error":{"code","message","status","details"}}` → the kind of its HTTP status (429
//! `RESOURCE_EXHAUSTED` → `RateLimit` with `retry_after` from `RetryInfo.retryDelay`); a 400
//! about an invalid or expired API key (`API_KEY_INVALID`) → `Authentication`. An error object
//! inside a stream, with or without `data:` (Gemini writes a raw multi-line JSON object), ends
//! the stream with its typed error.
//!
//! # Embeddings
//!
//! Gemini: `dimensions` → `outputDimensionality`; `extra_body` `task_type`/`taskType` →
//! `taskType`, `title` → `title`. Vertex: `instances[{content, task_type, title}]`,
//! `parameters.outputDimensionality`, other `extra_body` keys (e.g. `autoTruncate`) into
//! `parameters`; usage is the sum of `statistics.token_count`. Text only; `encoding_format` is
//! ignored (vectors always arrive as `f32`).

mod embed;
mod request;
mod response;
mod schema;

use std::collections::VecDeque;

use async_trait::async_trait;
use serde_json::{Map, Value};

use self::response::{GeminiDecoder, IdGen};
use super::decode::{DecodedStream, ErrCtx};
use super::error_map::request_id;
use super::http::{self, Auth, HttpRequest};
use super::sse;
use super::{CallContext, Credentials, Provider};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingRequest, EmbeddingResponse, ResponseMeta,
};

/// Default base URL of the Gemini API (the versioned root).
pub const DEFAULT_GEMINI_API_BASE: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Vertex AI location used when none is configured (as LiteLLM).
pub const DEFAULT_VERTEX_LOCATION: &str = "us-central1";

/// Key of the thought signature inside a tool call's `provider_specific_fields`.
pub const THOUGHT_SIGNATURE_KEY: &str = "thought_signature";

/// Which API a body is for (they differ in a few fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Gemini,
    Vertex,
}

/// True for Gemini 3 and later models (thinking levels, signature enforcement).
pub(crate) fn is_gemini3(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    let Some(rest) = m.strip_prefix("gemini-") else {
        return false;
    };
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|n| n >= 3)
}

/// The thought signature stored in a tool call's `extra`:
/// `provider_specific_fields.thought_signature`, or a top-level `thought_signature`.
pub(crate) fn thought_signature_of(extra: &Map<String, Value>) -> Option<String> {
    extra
        .get("provider_specific_fields")
        .and_then(|p| p.get(THOUGHT_SIGNATURE_KEY))
        .or_else(|| extra.get(THOUGHT_SIGNATURE_KEY))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn check_segment(what: &str, value: &str) -> Result<()> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| matches!(c, '?' | '#' | '/' | '%') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::new(
            ErrorKind::Config,
            format!("invalid {what} {value:?}"),
        ));
    }
    Ok(())
}

fn check_model(model: &str) -> Result<()> {
    http::check_path_model(model)
}

/// Splits off a query string (`?…`) from a base URL.
fn split_query(base: &str) -> (&str, Option<&str>) {
    match base.split_once('?') {
        Some((b, q)) => (b.trim_end_matches('/'), Some(q)),
        None => (base.trim_end_matches('/'), None),
    }
}

fn finish_url(mut url: String, query: Option<&str>, stream: bool) -> String {
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    if stream {
        url = http::add_query(&url, "alt", "sse");
    }
    url
}

/// The URL of a Gemini API method (`generateContent`, `streamGenerateContent`,
/// `embedContent`, `batchEmbedContents`) for `model`; streaming adds `alt=sse`.
pub(crate) fn gemini_url(base: &str, model: &str, method: &str, stream: bool) -> Result<String> {
    check_model(model)?;
    let (b, query) = split_query(base);
    let host_only = b
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.contains('/'));
    let root = if host_only && b.ends_with("generativelanguage.googleapis.com") {
        format!("{b}/v1beta")
    } else {
        b.to_owned()
    };
    let url = format!("{root}/{}:{method}", embed::resource_name(model));
    Ok(finish_url(url, query, stream))
}

/// Vertex AI model ids that are partner models (not Gemini bodies).
const VERTEX_PARTNERS: &[&str] = &[
    "claude",
    "llama",
    "meta",
    "mistral",
    "codestral",
    "jamba",
    "deepseek",
    "qwen",
    "gpt-oss",
];

/// The URL of a Vertex AI method (`generateContent`, `streamGenerateContent`, `predict`).
///
/// `base` replaces the regional host (see the module docs for bases that already name the
/// project or the model); without one, `location` picks the host (`global` →
/// `aiplatform.googleapis.com`). The project is required unless the base names it.
pub(crate) fn vertex_url(
    base: Option<&str>,
    project: Option<&str>,
    location: &str,
    model: &str,
    method: &str,
    stream: bool,
) -> Result<String> {
    check_model(model)?;
    let lower = model.to_ascii_lowercase();
    let last = lower.rsplit('/').next().unwrap_or(&lower);
    if VERTEX_PARTNERS.iter().any(|p| last.starts_with(p))
        || (lower.contains("publishers/") && !lower.contains("publishers/google/"))
    {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "vertex_ai/{model} is a Vertex AI partner model; this provider serves Gemini models only"
            ),
        ));
    }
    let model_path = if model.bytes().all(|b| b.is_ascii_digit()) {
        format!("endpoints/{model}")
    } else if model.contains('/') {
        model.to_owned()
    } else {
        format!("publishers/google/models/{model}")
    };
    let (b, query) = match base {
        Some(b) => split_query(b),
        None => ("", None),
    };
    let url = if !b.is_empty() && (b.contains("/models/") || b.contains("/endpoints/")) {
        format!("{b}:{method}")
    } else if b.contains("/projects/") {
        format!("{b}/{model_path}:{method}")
    } else {
        check_segment("vertex_location", location)?;
        let project = project.ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "no Vertex AI project: set vertex_project (provider param) or VERTEXAI_PROJECT",
            )
        })?;
        check_segment("vertex_project", project)?;
        let host = if !b.is_empty() {
            b.to_owned()
        } else if location == "global" {
            "https://aiplatform.googleapis.com".to_owned()
        } else {
            format!("https://{location}-aiplatform.googleapis.com")
        };
        format!("{host}/v1/projects/{project}/locations/{location}/{model_path}:{method}")
    };
    Ok(finish_url(url, query, stream))
}

/// A 400 about the API key itself is an authentication failure.
fn refine(e: Error) -> Error {
    if e.kind() != ErrorKind::BadRequest {
        return e;
    }
    let body = e.details().body.as_deref().unwrap_or("");
    let msg = e.message();
    let key_problem = body.contains("API_KEY_INVALID")
        || body.contains("API_KEY_EXPIRED")
        || msg.contains("API key not valid")
        || msg.contains("API key expired");
    if key_problem {
        return e.with_kind(ErrorKind::Authentication);
    }
    e
}

fn invalid_json(cx: &CallContext, e: serde_json::Error, body: &[u8]) -> Error {
    let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    http::finish_error(
        cx,
        Error::new(
            ErrorKind::InvalidResponse,
            format!("could not decode the response (body starts with {snippet:?})"),
        )
        .with_source(e),
    )
}

/// Sends a JSON body and reads the JSON answer with the vendor's request id.
async fn post_json(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    body: Vec<u8>,
) -> Result<(Value, Option<String>)> {
    let headers = http::json_headers(cx, auth, false)?;
    let resp = http::send(cx, HttpRequest { url, headers, body })
        .await
        .map_err(refine)?;
    let rid = request_id(resp.headers());
    let bytes = http::read_body(cx, resp).await?;
    let v = serde_json::from_slice::<Value>(&bytes).map_err(|e| invalid_json(cx, e, &bytes))?;
    Ok((v, rid))
}

async fn chat(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    req: &ChatRequest,
    flavor: Flavor,
) -> Result<ChatResponse> {
    let body = request::generate_content_body(req, cx, flavor)?;
    let (v, rid) = post_json(cx, url, auth, body).await?;
    let mut out = response::chat_response(&v, &cx.model, &mut IdGen::new())
        .map_err(|e| http::finish_error(cx, e))
        .map_err(|e| match &rid {
            Some(id) if e.request_id().is_none() => e.with_request_id(id.clone()),
            _ => e,
        })?;
    out.meta.request_id = rid;
    Ok(out)
}

async fn chat_stream(
    cx: &CallContext,
    url: String,
    auth: Auth<'_>,
    req: &ChatRequest,
    flavor: Flavor,
) -> Result<ChatStream> {
    let body = request::generate_content_body(req, cx, flavor)?;
    let headers = http::json_headers(cx, auth, true)?;
    let resp = http::send(cx, HttpRequest { url, headers, body })
        .await
        .map_err(refine)?;
    let mut meta = ResponseMeta::new(cx.provider.clone(), cx.model.clone());
    meta.request_id = request_id(resp.headers());
    if http::is_json(&resp) {
        // One JSON answer (a server that does not stream, or the array form): decode it whole.
        let bytes = http::read_body(cx, resp).await?;
        let v = serde_json::from_slice::<Value>(&bytes).map_err(|e| invalid_json(cx, e, &bytes))?;
        let mut dec = GeminiDecoder::new(&cx.model);
        let mut out = VecDeque::new();
        let items = match &v {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            dec.response(item, &mut out)
                .map_err(|e| http::finish_error(cx, e))?;
        }
        dec.close_complete(&mut out);
        return Ok(ChatStream::from_chunks(out.into(), meta));
    }
    let events = sse::events(resp, cx.max_response_bytes);
    Ok(ChatStream::new(
        DecodedStream::new(
            events,
            GeminiDecoder::new(&cx.model),
            ErrCtx::from(cx).with_request_id(meta.request_id.clone()),
        ),
        meta,
    ))
}

// ---------------------------------------------------------------------------------------------
// Gemini API.

/// The Gemini API provider (prefix `gemini`). See the [module docs](self).
#[derive(Debug, Default, Clone, Copy)]
pub struct Gemini;

impl Gemini {
    fn url(cx: &CallContext, method: &str, stream: bool) -> Result<String> {
        let base = cx.api_base.as_deref().unwrap_or(DEFAULT_GEMINI_API_BASE);
        gemini_url(base, &cx.model, method, stream).map_err(|e| http::finish_error(cx, e))
    }
}

#[async_trait]
impl Provider for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            requires_api_key: true,
            ..Credentials::new(
                &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
                &["GEMINI_API_BASE"],
                Some(DEFAULT_GEMINI_API_BASE),
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let key = cx.require_api_key()?;
        let url = Self::url(cx, "generateContent", false)?;
        chat(
            cx,
            url,
            Auth::Header("x-goog-api-key", key),
            req,
            Flavor::Gemini,
        )
        .await
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let key = cx.require_api_key()?;
        let url = Self::url(cx, "streamGenerateContent", true)?;
        chat_stream(
            cx,
            url,
            Auth::Header("x-goog-api-key", key),
            req,
            Flavor::Gemini,
        )
        .await
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let key = cx.require_api_key()?;
        let (method, body) =
            embed::gemini_embed_body(req, cx).map_err(|e| http::finish_error(cx, e))?;
        let url = Self::url(cx, method, false)?;
        let body = http::json_body(&body)?;
        let (v, rid) = post_json(cx, url, Auth::Header("x-goog-api-key", key), body).await?;
        super::embedding_answer(cx, req, embed::gemini_embed_response(&v, &cx.model), rid)
    }
}

// ---------------------------------------------------------------------------------------------
// Vertex AI.

/// The Vertex AI provider for Gemini models (prefix `vertex_ai`). See the [module docs](self).
#[derive(Debug, Default, Clone, Copy)]
pub struct VertexAi;

impl VertexAi {
    fn url(cx: &CallContext, method: &str, stream: bool) -> Result<String> {
        let project = cx
            .param("vertex_project")
            .or_else(|| cx.param("vertex_ai_project"));
        let location = cx
            .param("vertex_location")
            .or_else(|| cx.param("vertex_ai_location"))
            .unwrap_or(DEFAULT_VERTEX_LOCATION);
        vertex_url(
            cx.api_base.as_deref(),
            project,
            location,
            &cx.model,
            method,
            stream,
        )
        .map_err(|e| http::finish_error(cx, e))
    }

    fn auth<'a>(cx: &'a CallContext) -> Result<Auth<'a>> {
        match &cx.api_key {
            Some(k) if !k.is_empty() => Ok(Auth::Bearer(k.expose())),
            _ if cx
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("authorization")) =>
            {
                Ok(Auth::None)
            }
            _ => Err(Error::new(
                ErrorKind::Authentication,
                "no access token for provider 'vertex_ai': pass api_key (an OAuth access token, \
                 e.g. from `gcloud auth print-access-token`) or set VERTEXAI_ACCESS_TOKEN",
            )
            .with_provider(cx.provider.clone())
            .with_model(cx.model.clone())),
        }
    }
}

#[async_trait]
impl Provider for VertexAi {
    fn name(&self) -> &str {
        "vertex_ai"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            params_env: &[
                (
                    "vertex_project",
                    &["VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT"],
                ),
                (
                    "vertex_location",
                    &[
                        "VERTEXAI_LOCATION",
                        "VERTEX_LOCATION",
                        "GOOGLE_CLOUD_LOCATION",
                    ],
                ),
            ],
            ..Credentials::new(
                &["VERTEXAI_ACCESS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN"],
                &["VERTEXAI_API_BASE"],
                None,
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let url = Self::url(cx, "generateContent", false)?;
        let auth = Self::auth(cx)?;
        chat(cx, url, auth, req, Flavor::Vertex).await
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let url = Self::url(cx, "streamGenerateContent", true)?;
        let auth = Self::auth(cx)?;
        chat_stream(cx, url, auth, req, Flavor::Vertex).await
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let url = Self::url(cx, "predict", false)?;
        let auth = Self::auth(cx)?;
        let body = embed::vertex_embed_body(req, cx).map_err(|e| http::finish_error(cx, e))?;
        let body = http::json_body(&body)?;
        let (v, rid) = post_json(cx, url, auth, body).await?;
        super::embedding_answer(cx, req, embed::vertex_embed_response(&v, &cx.model), rid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_urls() {
        let u = |b: &str, m: &str, s: bool| gemini_url(b, m, "generateContent", s).unwrap();
        assert_eq!(
            u(DEFAULT_GEMINI_API_BASE, "gemini-2.5-flash", false),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            u("http://127.0.0.1:9/", "models/gemini-x", true),
            "http://127.0.0.1:9/models/gemini-x:generateContent?alt=sse"
        );
        assert_eq!(
            u("https://gw.example.com/google/v1beta?token=t", "g", true),
            "https://gw.example.com/google/v1beta/models/g:generateContent?token=t&alt=sse"
        );
        assert!(gemini_url("http://h", "a b", "generateContent", false).is_err());
        assert!(gemini_url("http://h", "x?key=1", "generateContent", false).is_err());
    }

    #[test]
    fn vertex_urls() {
        let u = |b: Option<&str>, m: &str| {
            vertex_url(b, Some("p"), "us-east5", m, "generateContent", false)
        };
        assert_eq!(
            u(Some("http://127.0.0.1:9"), "gemini-2.5-pro").unwrap(),
            "http://127.0.0.1:9/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        assert_eq!(
            u(None, "1234567890").unwrap(),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/endpoints/1234567890:generateContent"
        );
        assert_eq!(
            u(
                Some("https://gw/v1/projects/x/locations/y"),
                "gemini-2.5-pro"
            )
            .unwrap(),
            "https://gw/v1/projects/x/locations/y/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        assert_eq!(
            u(Some("https://gw/custom/models/my-model"), "ignored").unwrap(),
            "https://gw/custom/models/my-model:generateContent"
        );
        for partner in [
            "claude-sonnet-4-5",
            "meta/llama-4",
            "publishers/anthropic/models/x",
        ] {
            assert_eq!(
                u(None, partner).unwrap_err().kind(),
                ErrorKind::Unsupported,
                "{partner}"
            );
        }
        let e = vertex_url(
            None,
            None,
            "us-central1",
            "gemini-2.5-pro",
            "predict",
            false,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = vertex_url(None, Some("a/b"), "us-central1", "g", "predict", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = vertex_url(None, Some("p"), "us central", "g", "predict", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[test]
    fn model_generations_and_signatures() {
        assert!(is_gemini3("gemini-3-pro-preview"));
        assert!(is_gemini3("models/gemini-3.1-flash"));
        assert!(is_gemini3("gemini-10-ultra"));
        assert!(!is_gemini3("gemini-2.5-flash"));
        assert!(!is_gemini3("gemma-3-27b"));
        let mut extra = Map::new();
        assert_eq!(thought_signature_of(&extra), None);
        extra.insert("thought_signature".into(), Value::from("a"));
        assert_eq!(thought_signature_of(&extra).as_deref(), Some("a"));
        extra.insert(
            "provider_specific_fields".into(),
            serde_json::json!({"thought_signature": "b"}),
        );
        assert_eq!(thought_signature_of(&extra).as_deref(), Some("b"));
    }

    #[test]
    fn key_errors_are_authentication() {
        let body = br#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
        let e = refine(crate::provider::error_from_response(
            400,
            &Default::default(),
            body,
        ));
        assert_eq!(e.kind(), ErrorKind::Authentication);
        let other = br#"{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}"#;
        let e = refine(crate::provider::error_from_response(
            400,
            &Default::default(),
            other,
        ));
        assert_eq!(e.kind(), ErrorKind::BadRequest);
    }
}

#[cfg(test)]
mod helper_examples {
    #[test]
    fn gemini_url() {
        use crate::provider::gemini::gemini_url;
        assert_eq!(
            gemini_url(
                "https://generativelanguage.googleapis.com",
                "gemini-2.5-flash",
                "streamGenerateContent",
                true
            )
            .unwrap(),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            gemini_url(
                "https://gw.example.com/v1beta/",
                "tunedModels/t1",
                "generateContent",
                false
            )
            .unwrap(),
            "https://gw.example.com/v1beta/tunedModels/t1:generateContent"
        );
    }

    #[test]
    fn vertex_url() {
        use crate::provider::gemini::vertex_url;
        assert_eq!(
            vertex_url(
                None,
                Some("my-proj"),
                "europe-west4",
                "gemini-2.5-pro",
                "generateContent",
                false
            )
            .unwrap(),
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        assert_eq!(
            vertex_url(
                None,
                Some("p"),
                "global",
                "gemini-2.5-flash",
                "streamGenerateContent",
                true
            )
            .unwrap(),
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert!(
            vertex_url(
                None,
                None,
                "us-central1",
                "gemini-2.5-pro",
                "generateContent",
                false
            )
            .is_err()
        );
    }
}
