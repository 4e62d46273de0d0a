//! Hugging Face (prefix `huggingface`): the Inference Providers router and self-hosted
//! text-generation-inference (TGI) servers and Inference Endpoints, all speaking OpenAI's Chat
//! Completions API. The translation is the OpenAI family's (the [`openai`] module); this
//! module adds the URLs, the credentials and TGI's quirks.
//!
//! - Router (the default): `POST https://router.huggingface.co/v1/chat/completions` with
//!   `Authorization: Bearer <token>` (`HF_TOKEN`, or `HUGGINGFACE_API_KEY`; required). The model
//!   id is the Hub id (`huggingface/meta-llama/Llama-3.1-8B-Instruct`), optionally with the
//!   router's provider suffix (`…:novita`); LiteLLM's form with the provider first
//!   (`huggingface/together/deepseek-ai/DeepSeek-R1`) is sent as `deepseek-ai/DeepSeek-R1:together`
//!   for the providers in [`ROUTER_PROVIDERS`].
//! - Self-hosted TGI / Inference Endpoints: set `api_base` (or `HUGGINGFACE_API_BASE` /
//!   `HF_API_BASE`) to the server; `/v1` is added when missing, so `http://host:8080` calls
//!   `http://host:8080/v1/chat/completions`. The token is optional there. TGI takes
//!   `response_format` as its grammar, so `json_schema` is sent as
//!   `{"type":"json_object","value":<schema>}`, `json_object` as
//!   `{"type":"json_object","value":{"type":"object"}}`, and `text` is left out.
//! - TGI's quirks, normalised: tool calls answered with `finish_reason: "stop"` → `tool_calls`;
//!   `eos_token`/`stop_sequence` → `stop`; tool-call ids such as `"0"` (TGI numbers every call
//!   from 0, so they repeat across turns) are replaced by unique `call_…` ids, also in streams,
//!   where TGI repeats the id, type and a `null` name on every fragment (only the first
//!   fragment keeps the id, as OpenAI); an empty response id gets a generated one. Errors:
//!   TGI's `{"error": "…", "error_type": "…"}` bodies (424 generation error →
//!   `InternalServer`, 422 validation → `UnprocessableEntity` or `ContextWindowExceeded`, 429
//!   overloaded → `RateLimit`) and the mid-stream `data: {"error": {"message", "http_status_code"}}`
//!   events.
//! - `max_completion_tokens` is sent as `max_tokens` (TGI does not know the newer name).
//! - Embeddings: on the router, the `hf-inference` feature-extraction pipeline
//!   (`POST https://router.huggingface.co/hf-inference/models/{model}/pipeline/feature-extraction`
//!   with `{"inputs": [...]}`, answering one vector per input; no usage is reported, so usage is
//!   0). A base ending with `/hf-inference` uses the same pipeline route. Any other base is a
//!   self-hosted server with OpenAI's `POST {base}/v1/embeddings` (text-embeddings-inference,
//!   Inference Endpoints).

use std::collections::HashMap;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{Value, json};

use super::compat::Quirks;
use super::http::{self, Auth, HttpRequest};
use super::{CallContext, Credentials, Provider, generated_id, openai};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, ChatStream, Embedding, EmbeddingRequest,
    EmbeddingResponse, ResponseFormat,
};

/// The Inference Providers router's OpenAI-compatible base.
pub const ROUTER_API_BASE: &str = "https://router.huggingface.co/v1";

/// Host of the router.
const ROUTER_HOST: &str = "router.huggingface.co";

/// Router providers recognised in LiteLLM's `huggingface/<provider>/<org>/<model>` form.
pub const ROUTER_PROVIDERS: &[&str] = &[
    "cerebras",
    "cohere",
    "featherless-ai",
    "fireworks-ai",
    "groq",
    "hf-inference",
    "hyperbolic",
    "nebius",
    "novita",
    "nscale",
    "ovhcloud",
    "publicai",
    "sambanova",
    "scaleway",
    "together",
];

/// How the OpenAI-family translation differs for Hugging Face.
const QUIRKS: Quirks = Quirks {
    max_completion_tokens_field: "max_tokens",
    ..Quirks::NONE
};

/// The Hugging Face provider (prefix `huggingface`).
#[derive(Debug, Default, Clone, Copy)]
pub struct HuggingFace;

/// The host of a URL (`router.huggingface.co` for the router).
fn host(base: &str) -> &str {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host_port = &rest[..end];
    host_port.rsplit_once('@').map_or(host_port, |(_, h)| h)
}

/// True when `base` is the Inference Providers router.
pub(crate) fn is_router(base: &str) -> bool {
    let h = host(base);
    h.eq_ignore_ascii_case(ROUTER_HOST)
        || h.to_ascii_lowercase()
            .starts_with(&format!("{ROUTER_HOST}:"))
}

/// `(path, query)` of a base URL, the path without a trailing `/`.
fn split_base(base: &str) -> (&str, Option<&str>) {
    let (b, q) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    (b.trim_end_matches('/'), q)
}

fn with_query(mut url: String, query: Option<&str>) -> String {
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// The chat URL for a base: the base itself when it already ends with `/chat/completions`,
/// otherwise `{base}/v1/chat/completions` with `/v1` added when missing.
pub(crate) fn chat_url(base: &str) -> String {
    openai_url(base, "chat/completions")
}

fn openai_url(base: &str, path: &str) -> String {
    let (b, query) = split_base(base);
    if b.ends_with(&format!("/{path}")) {
        return with_query(b.to_owned(), query);
    }
    let url = if b.ends_with("/v1") {
        format!("{b}/{path}")
    } else {
        format!("{b}/v1/{path}")
    };
    with_query(url, query)
}

/// Where embeddings go for a base and model: the feature-extraction pipeline (router, or a base
/// ending with `/hf-inference`) or OpenAI's `/v1/embeddings` (any other base).
pub(crate) fn embeddings_url(base: &str, model: &str) -> String {
    match pipeline_base(base) {
        Some((root, query)) => with_query(
            format!("{root}/models/{model}/pipeline/feature-extraction"),
            query,
        ),
        None => openai_url(base, "embeddings"),
    }
}

/// `{…}/hf-inference` for the feature-extraction route, when `base` uses it.
fn pipeline_base(base: &str) -> Option<(String, Option<&str>)> {
    let (b, query) = split_base(base);
    if b.ends_with("/hf-inference") {
        return Some((b.to_owned(), query));
    }
    if is_router(base) {
        let root = b.strip_suffix("/v1").unwrap_or(b);
        return Some((format!("{root}/hf-inference"), query));
    }
    None
}

/// The model id sent to the router: LiteLLM's `provider/org/model` becomes `org/model:provider`.
pub(crate) fn router_model(model: &str) -> std::borrow::Cow<'_, str> {
    if let Some((provider, rest)) = model.split_once('/')
        && rest.contains('/')
        && ROUTER_PROVIDERS.contains(&provider)
        && !rest.contains(':')
    {
        return format!("{rest}:{provider}").into();
    }
    model.into()
}

impl HuggingFace {
    fn auth<'a>(cx: &'a CallContext, base: &str) -> Result<Auth<'a>> {
        match &cx.api_key {
            Some(k) if !k.is_empty() => Ok(Auth::Bearer(k.expose())),
            _ if is_router(base) => Err(Error::new(
                ErrorKind::Authentication,
                "no API key for provider 'huggingface': the router needs a token; set HF_TOKEN \
                 or HUGGINGFACE_API_KEY, or set api_base to a self-hosted server",
            )
            .with_provider(cx.provider.clone())
            .with_model(cx.model.clone())),
            _ => Ok(Auth::None),
        }
    }
}

/// The request as sent to a self-hosted TGI: `response_format` in TGI's grammar form.
fn for_tgi(req: &ChatRequest) -> Option<ChatRequest> {
    let rf = req.response_format.as_ref()?;
    let grammar = match rf {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => {
            Some(json!({"type": "json_object", "value": {"type": "object"}}))
        }
        ResponseFormat::JsonSchema { json_schema } => Some(json!({
            "type": "json_object",
            "value": json_schema.schema.clone().unwrap_or_else(|| json!({"type": "object"}))
        })),
        ResponseFormat::Other(_) => return None,
    };
    let mut out = req.clone();
    out.response_format = grammar.map(ResponseFormat::Other);
    Some(out)
}

/// TGI numbers tool calls `"0"`, `"1"`, … (or sends none): such ids are replaced.
fn needs_new_id(id: &str) -> bool {
    id.is_empty() || id.bytes().all(|b| b.is_ascii_digit())
}

/// Normalises a whole answer (see the module docs).
pub(crate) fn fix_response(resp: &mut ChatResponse) {
    if resp.id.is_empty() {
        resp.id = generated_id("chatcmpl-");
    }
    for c in &mut resp.choices {
        for tc in c.message.tool_calls.iter_mut().flatten() {
            if needs_new_id(&tc.id) {
                tc.id = generated_id("call_");
            }
        }
    }
}

/// Stream state: the vendor's id of the numbered tool call at each (choice, tool index).
#[derive(Default)]
pub(crate) struct StreamFix {
    id: String,
    calls: HashMap<(u32, u32), String>,
}

impl StreamFix {
    pub(crate) fn new() -> Self {
        StreamFix {
            id: generated_id("chatcmpl-"),
            calls: HashMap::new(),
        }
    }

    /// Normalises one chunk (see the module docs).
    pub(crate) fn chunk(&mut self, mut c: ChatChunk) -> ChatChunk {
        if c.id.is_empty() {
            c.id.clone_from(&self.id);
        }
        for choice in &mut c.choices {
            for (pos, tc) in choice.delta.tool_calls.iter_mut().flatten().enumerate() {
                let Some(vendor_id) = tc.id.as_deref().filter(|id| needs_new_id(id)) else {
                    continue;
                };
                let key = (choice.index, tc.index.unwrap_or(pos as u32));
                if self.calls.get(&key).is_some_and(|v| v == vendor_id) {
                    // A later fragment of the same call: OpenAI sends the id only once.
                    tc.id = None;
                    tc.kind = None;
                } else {
                    self.calls.insert(key, vendor_id.to_owned());
                    tc.id = Some(generated_id("call_"));
                }
            }
        }
        c
    }
}

#[async_trait]
impl Provider for HuggingFace {
    fn name(&self) -> &str {
        "huggingface"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            requires_api_base: true,
            ..Credentials::new(
                &["HF_TOKEN", "HUGGINGFACE_API_KEY"],
                &["HUGGINGFACE_API_BASE", "HF_API_BASE"],
                Some(ROUTER_API_BASE),
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let base = cx.require_api_base()?;
        let auth = Self::auth(cx, base)?;
        let url = chat_url(base);
        let mut resp = if is_router(base) {
            openai::chat(cx, url, auth, &router_model(&cx.model), &QUIRKS, req).await?
        } else {
            let tgi = for_tgi(req);
            let req = tgi.as_ref().unwrap_or(req);
            openai::chat(cx, url, auth, &cx.model, &QUIRKS, req).await?
        };
        fix_response(&mut resp);
        Ok(resp)
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let base = cx.require_api_base()?;
        let auth = Self::auth(cx, base)?;
        let url = chat_url(base);
        let stream = if is_router(base) {
            openai::chat_stream(cx, url, auth, &router_model(&cx.model), &QUIRKS, req).await?
        } else {
            let tgi = for_tgi(req);
            let req = tgi.as_ref().unwrap_or(req);
            openai::chat_stream(cx, url, auth, &cx.model, &QUIRKS, req).await?
        };
        let meta = stream.meta().clone();
        let mut fix = StreamFix::new();
        Ok(ChatStream::new(
            stream.map(move |item| item.map(|c| fix.chunk(c))),
            meta,
        ))
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let base = cx.require_api_base()?;
        let auth = Self::auth(cx, base)?;
        http::check_path_model(&cx.model)?;
        let url = embeddings_url(base, &cx.model);
        if pipeline_base(base).is_none() {
            return openai::embed(cx, url, auth, &cx.model, req).await;
        }
        let body = feature_extraction_body(req, cx)?;
        let headers = http::json_headers(cx, auth, false)?;
        let resp = http::send(cx, HttpRequest { url, headers, body }).await?;
        let rid = super::error_map::request_id(resp.headers());
        let bytes = http::read_body(cx, resp).await?;
        let decoded = feature_extraction_response(&bytes, &cx.model);
        super::embedding_answer(cx, req, decoded, rid)
    }
}

/// The body of a feature-extraction call: `{"inputs": [texts]}` plus `extra_body`
/// (`normalize`, `truncate`, `prompt_name`, …).
pub(crate) fn feature_extraction_body(req: &EmbeddingRequest, cx: &CallContext) -> Result<Vec<u8>> {
    let Some(texts) = req.input.texts() else {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the feature-extraction pipeline embeds text, not token arrays",
        )
        .with_provider(cx.provider.clone())
        .with_model(cx.model.clone()));
    };
    if req.dimensions.is_some() {
        cx.unsupported_param("dimensions")?;
    }
    if req.user.is_some() {
        cx.unsupported_param("user")?;
    }
    let mut body = serde_json::Map::new();
    body.insert("inputs".into(), json!(texts));
    for (k, v) in &req.extra_body {
        body.insert(k.clone(), v.clone());
    }
    http::json_body(&body)
}

/// Decodes a feature-extraction answer: one vector per input (`[[…], …]`), or one vector for
/// one input (`[…]`). Token-level features (`[[[…]]]`) are `InvalidResponse`.
pub(crate) fn feature_extraction_response(body: &[u8], model: &str) -> Result<EmbeddingResponse> {
    let invalid = |msg: String| Error::new(ErrorKind::InvalidResponse, msg);
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "could not decode the response: {e}; body starts with {:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    })?;
    if let Some(err) = super::error_map::error_from_json(&v) {
        return Err(err);
    }
    let Value::Array(items) = v else {
        return Err(invalid(
            "the feature-extraction answer is not a list of vectors".to_owned(),
        ));
    };
    let as_vector = |x: &Value| -> Option<Vec<f32>> {
        x.as_array()?
            .iter()
            .map(|n| n.as_f64().map(|f| f as f32))
            .collect()
    };
    let vectors: Vec<Vec<f32>> = if items.iter().all(Value::is_number) && !items.is_empty() {
        vec![as_vector(&Value::Array(items)).unwrap_or_default()]
    } else {
        items
            .iter()
            .map(|x| {
                as_vector(x).ok_or_else(|| {
                    invalid(
                        "the answer is not one vector per input (token-level features? use a \
                         sentence-embedding model)"
                            .to_owned(),
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data: vectors
            .into_iter()
            .enumerate()
            .map(|(i, embedding)| Embedding {
                object: "embedding".to_owned(),
                index: i as u32,
                embedding,
            })
            .collect(),
        model: model.to_owned(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::test_util::collect;
    use crate::types::{FinishReason, FunctionCallDelta, Message, ToolCallDelta};

    #[test]
    fn urls_and_routes() {
        assert!(is_router("https://router.huggingface.co/v1"));
        assert!(is_router("https://ROUTER.huggingface.co"));
        assert!(!is_router("https://router.huggingface.co.evil.example/v1"));
        assert!(!is_router("http://127.0.0.1:8080"));
        assert_eq!(
            chat_url("http://h/v1/chat/completions"),
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            chat_url("http://h/?k=1"),
            "http://h/v1/chat/completions?k=1"
        );
        assert_eq!(
            embeddings_url("https://router.huggingface.co", "m"),
            "https://router.huggingface.co/hf-inference/models/m/pipeline/feature-extraction"
        );
        assert_eq!(
            embeddings_url("http://127.0.0.1:9/hf-inference/", "o/m"),
            "http://127.0.0.1:9/hf-inference/models/o/m/pipeline/feature-extraction"
        );
        assert_eq!(
            embeddings_url("http://tei/v1", "m"),
            "http://tei/v1/embeddings"
        );
    }

    #[test]
    fn router_model_ids() {
        assert_eq!(
            router_model("meta-llama/Llama-3.1-8B-Instruct"),
            "meta-llama/Llama-3.1-8B-Instruct"
        );
        assert_eq!(
            router_model("together/deepseek-ai/DeepSeek-R1"),
            "deepseek-ai/DeepSeek-R1:together"
        );
        assert_eq!(router_model("openai/gpt-oss-120b"), "openai/gpt-oss-120b");
        assert_eq!(
            router_model("novita/openai/gpt-oss-120b"),
            "openai/gpt-oss-120b:novita"
        );
        assert_eq!(router_model("x/y/z:novita"), "x/y/z:novita");
    }

    #[test]
    fn tgi_grammar_for_response_format() {
        let req = |rf| ChatRequest::new("x", vec![Message::user("hi")]).response_format(rf);
        let body = |r: &ChatRequest| -> Value {
            serde_json::from_slice(&openai::chat_body(r, "tgi", false, &QUIRKS).unwrap()).unwrap()
        };
        let r = for_tgi(&req(ResponseFormat::json_schema(
            "p",
            json!({"type": "object", "required": ["a"]}),
            true,
        )))
        .unwrap();
        assert_eq!(
            body(&r)["response_format"],
            json!({"type": "json_object", "value": {"type": "object", "required": ["a"]}})
        );
        let r = for_tgi(&req(ResponseFormat::JsonObject)).unwrap();
        assert_eq!(
            body(&r)["response_format"],
            json!({"type": "json_object", "value": {"type": "object"}})
        );
        let r = for_tgi(&req(ResponseFormat::Text)).unwrap();
        assert!(body(&r).get("response_format").is_none());
        assert!(for_tgi(&ChatRequest::new("x", vec![])).is_none());
        // max_completion_tokens goes out as max_tokens
        let r = ChatRequest::new("x", vec![]).max_completion_tokens(5);
        assert_eq!(body(&r)["max_tokens"], 5);
    }

    #[test]
    fn numbered_tool_call_ids_are_replaced() {
        let mut resp: ChatResponse = serde_json::from_value(json!({
            "id": "", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": "0", "type": "function", "function": {"name": "f", "description": null, "arguments": "{}"}},
                               {"id": "call_keep", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}}]
        }))
        .unwrap();
        openai::normalize_response(&mut resp);
        fix_response(&mut resp);
        assert!(resp.id.starts_with("chatcmpl-"));
        assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(resp.tool_calls()[0].id.starts_with("call_") && resp.tool_calls()[0].id.len() > 10);
        assert_eq!(resp.tool_calls()[1].id, "call_keep");
    }

    fn frag(id: &str, name: Option<&str>, args: &str) -> ChatChunk {
        ChatChunk {
            choices: vec![crate::types::ChunkChoice {
                delta: crate::types::Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: Some(0),
                        id: Some(id.to_owned()),
                        kind: Some("function".to_owned()),
                        function: Some(FunctionCallDelta {
                            name: name.map(str::to_owned),
                            arguments: Some(args.to_owned()),
                        }),
                        extra: Default::default(),
                    }]),
                    ..Default::default()
                },
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn stream_fragments_repeating_id_zero_become_one_call() {
        let mut fix = StreamFix::new();
        let chunks: Vec<ChatChunk> = [
            frag("0", Some("get_weather"), "{"),
            frag("0", None, "\"city\":"),
            frag("0", None, "\"Paris\"}"),
        ]
        .into_iter()
        .map(|c| fix.chunk(c))
        .collect();
        let first = &chunks[0].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        let id = first.id.clone().unwrap();
        assert!(id.starts_with("call_"));
        for c in &chunks[1..] {
            let t = &c.choices[0].delta.tool_calls.as_ref().unwrap()[0];
            assert!(t.id.is_none() && t.kind.is_none());
        }
        assert!(
            chunks
                .iter()
                .all(|c| c.id == chunks[0].id && !c.id.is_empty())
        );
        let r = collect(&chunks);
        assert_eq!(r.tool_calls().len(), 1);
        assert_eq!(r.tool_calls()[0].id, id);
        assert_eq!(r.tool_calls()[0].function.arguments, "{\"city\":\"Paris\"}");
        // a second turn's call "0" gets another id
        let mut fix2 = StreamFix::new();
        let other = fix2.chunk(frag("0", Some("f"), "{}"));
        assert_ne!(
            other.choices[0].delta.tool_calls.as_ref().unwrap()[0]
                .id
                .as_deref(),
            Some(id.as_str())
        );
    }

    /// Arbitrary bytes through the SSE decoder, the OpenAI decoder and TGI's fixes: errors,
    /// never panics, and the ids stay consistent.
    #[test]
    fn arbitrary_tgi_streams_never_panic() {
        use crate::provider::openai::OpenAiDecoder;
        use crate::provider::sse::SseDecoder;
        use crate::provider::test_util::decode_in_pieces;
        use crate::testutil::{Rng, fuzz_inputs};
        let seeds: [&[u8]; 3] = [
            b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":\"{\",\"name\":\"f\"},\"id\":\"0\",\"index\":0,\"type\":\"function\"}]},\"finish_reason\":null,\"index\":0}],\"id\":\"\"}\n\ndata: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"}\",\"name\":null},\"id\":\"0\",\"index\":0,\"type\":\"function\"}]},\"finish_reason\":\"stop\",\"index\":0}],\"id\":\"\"}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\ndata: [DONE]\n\n",
            b"data: {\"choices\":[{\"delta\":{\"content\":\"Deep\"},\"finish_reason\":\"eos_token\",\"index\":0}]}\n\ndata: [DONE]\n\n",
            b"data: {\"error\":{\"message\":\"bad\",\"http_status_code\":422}}\n\n",
        ];
        let mut rng = Rng::new(17);
        let mut decoded = 0;
        for input in fuzz_inputs(&seeds, b"data: {}[]\":,\n0123456789idnull", 2000, 23) {
            let mut fix = StreamFix::new();
            let chunks = decode_in_pieces(
                &input,
                &mut rng,
                SseDecoder::new(1 << 16),
                &mut OpenAiDecoder::default(),
            );
            let fixed: Vec<ChatChunk> = chunks.into_iter().map(|c| fix.chunk(c)).collect();
            decoded += fixed.len();
            let r = collect(&fixed);
            assert!(
                r.tool_calls()
                    .iter()
                    .all(|t| !needs_new_id(&t.id) || t.id.is_empty())
            );
        }
        assert!(decoded > 200, "only {decoded} chunks decoded");
    }

    #[test]
    fn feature_extraction_bodies_and_answers() {
        let cx = CallContext::new(reqwest::Client::new(), "huggingface", "BAAI/bge-m3");
        let req = EmbeddingRequest::new("x", "one").extra_body(json!({"normalize": true}));
        let body: Value =
            serde_json::from_slice(&feature_extraction_body(&req, &cx).unwrap()).unwrap();
        assert_eq!(body, json!({"inputs": ["one"], "normalize": true}));
        assert_eq!(
            feature_extraction_body(&EmbeddingRequest::new("x", "a").dimensions(3), &cx)
                .unwrap_err()
                .kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            feature_extraction_body(&EmbeddingRequest::new("x", vec![1u32]), &cx)
                .unwrap_err()
                .kind(),
            ErrorKind::Unsupported
        );
        let r = feature_extraction_response(b"[[0.5, -1], [2, 3]]", "m").unwrap();
        assert_eq!(r.vectors(), vec![&[0.5f32, -1.0][..], &[2.0, 3.0][..]]);
        let r = feature_extraction_response(b"[0.25, 0.5]", "m").unwrap();
        assert_eq!(r.data.len(), 1);
        assert_eq!(r.data[0].embedding, vec![0.25, 0.5]);
        for bad in [&b"[[[0.1]]]"[..], b"{\"x\":1}", b"nope", b"[\"a\"]"] {
            assert_eq!(
                feature_extraction_response(bad, "m").unwrap_err().kind(),
                ErrorKind::InvalidResponse
            );
        }
        let e = feature_extraction_response(
            br#"{"error":"Model is loading","estimated_time":20}"#,
            "m",
        )
        .unwrap_err();
        assert_eq!(e.message(), "Model is loading");
    }
}

#[cfg(test)]
mod helper_examples {
    #[test]
    fn chat_url() {
        use crate::provider::huggingface::chat_url;
        assert_eq!(
            chat_url("https://router.huggingface.co/v1"),
            "https://router.huggingface.co/v1/chat/completions"
        );
        assert_eq!(
            chat_url("http://tgi:8080"),
            "http://tgi:8080/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://x.endpoints.huggingface.cloud/v1/"),
            "https://x.endpoints.huggingface.cloud/v1/chat/completions"
        );
    }

    #[test]
    fn embeddings_url() {
        use crate::provider::huggingface::embeddings_url;
        assert_eq!(
            embeddings_url("https://router.huggingface.co/v1", "BAAI/bge-m3"),
            "https://router.huggingface.co/hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction"
        );
        assert_eq!(
            embeddings_url("http://tei:8080", "x"),
            "http://tei:8080/v1/embeddings"
        );
    }
}
