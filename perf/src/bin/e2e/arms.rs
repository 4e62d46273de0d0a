//! The arms: the same call made through each client under test.
//!
//! Every arm has its own HTTP connection pool (its own `reqwest::Client`) and calls the same
//! upstream. A call builds its request from scratch (a prompt with the call's number in it), as a
//! program would, so request construction is part of every arm's cost.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// The model every arm asks for.
pub const MODEL: &str = "gpt-4o-mini";
/// The API key every arm sends.
pub const KEY: &str = "sk-bench-0000000000000000";

/// One arm of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arm {
    /// Raw reqwest + serde_json with plain structs: the floor.
    R0,
    /// Raw reqwest + serde_json with the crate's own `ChatRequest`/`ChatResponse`: the floor
    /// plus the cost of the crate's complete, tolerant types (no client machinery).
    R0Typed,
    /// The crate's OpenAI provider called directly with a context resolved once: the HTTP
    /// layer and translation without the client's per-call machinery (diagnostic).
    Provider,
    /// `litellm::Client`.
    Client,
    /// `Router`, one deployment, retries and cooldowns off.
    Router1,
    /// `Router`, three weighted deployments (same server), retries and cooldowns off.
    Router3,
    /// `Router`, three weighted deployments, 3 retries and the default cooldown rules on.
    RouterRetry,
    /// `Router` (one deployment) with the in-memory response cache; a new prompt each call.
    CacheMiss,
    /// `Router` (one deployment) with the in-memory response cache; the same prompt each call.
    CacheHit,
    /// `Router` (one deployment) with a price table and a spend ledger.
    Cost,
    /// async-openai 0.43.
    AsyncOpenAi,
    /// genai 0.7.
    Genai,
}

impl Arm {
    /// Every non-streaming arm, in round order.
    pub const ALL: [Arm; 12] = [
        Arm::R0,
        Arm::R0Typed,
        Arm::Provider,
        Arm::Client,
        Arm::Router1,
        Arm::Router3,
        Arm::RouterRetry,
        Arm::CacheMiss,
        Arm::CacheHit,
        Arm::Cost,
        Arm::AsyncOpenAi,
        Arm::Genai,
    ];
    /// The streaming arms.
    pub const STREAM: [Arm; 5] = [
        Arm::R0,
        Arm::Client,
        Arm::Router1,
        Arm::AsyncOpenAi,
        Arm::Genai,
    ];

    /// Short name (JSON keys, CLI).
    pub fn key(self) -> &'static str {
        match self {
            Arm::R0 => "r0",
            Arm::R0Typed => "r0-typed",
            Arm::Provider => "provider",
            Arm::Client => "client",
            Arm::Router1 => "router-1",
            Arm::Router3 => "router-3",
            Arm::RouterRetry => "router-retry",
            Arm::CacheMiss => "cache-miss",
            Arm::CacheHit => "cache-hit",
            Arm::Cost => "cost",
            Arm::AsyncOpenAi => "async-openai",
            Arm::Genai => "genai",
        }
    }

    /// The arm named `key`.
    pub fn from_key(key: &str) -> Option<Arm> {
        Arm::ALL.into_iter().find(|a| a.key() == key)
    }

    /// Name in the tables.
    pub fn label(self, streaming: bool) -> &'static str {
        match (self, streaming) {
            (Arm::R0, false) => "R0 raw reqwest + serde_json",
            (Arm::R0, true) => "R0-SSE raw reqwest + line split + serde_json",
            (Arm::R0Typed, _) => "R0 with litellm's types",
            (Arm::Provider, _) => "litellm's provider, called directly",
            (Arm::Client, _) => "litellm `Client`",
            (Arm::Router1, _) => "`Router`, 1 deployment",
            (Arm::Router3, _) => "`Router`, 3 weighted deployments",
            (Arm::RouterRetry, _) => "`Router`, 3 deployments, retries + cooldown on",
            (Arm::CacheMiss, _) => "`Router` + cache, miss",
            (Arm::CacheHit, _) => "`Router` + cache, hit",
            (Arm::Cost, _) => "`Router` + prices + ledger + metrics",
            (Arm::AsyncOpenAi, _) => "async-openai 0.43",
            (Arm::Genai, _) => "genai 0.7",
        }
    }
}

// ---- R0's plain types -------------------------------------------------------------------

#[derive(Serialize)]
struct R0Request<'a> {
    model: &'a str,
    messages: [R0Message<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<R0StreamOptions>,
}

#[derive(Serialize)]
struct R0Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct R0StreamOptions {
    include_usage: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Response {
    id: String,
    object: String,
    created: u64,
    model: String,
    choices: Vec<R0Choice>,
    usage: Option<R0Usage>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Choice {
    index: u32,
    message: R0ResponseMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0ResponseMessage {
    role: String,
    content: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Chunk {
    id: String,
    model: String,
    choices: Vec<R0ChunkChoice>,
    usage: Option<R0Usage>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0ChunkChoice {
    index: u32,
    delta: R0Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct R0Delta {
    role: Option<String>,
    content: Option<String>,
}

// ---- the clients -------------------------------------------------------------------------

/// Numbers the cache-miss arm's prompts, so that no prompt repeats within a process.
static UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The prompt of call number `i` (a fixed one for the cache-hit arm, a never repeated one for
/// the cache-miss arm).
pub fn prompt(arm: Arm, i: u64) -> String {
    match arm {
        Arm::CacheHit => "Say hello to the benchmark caller".to_string(),
        Arm::CacheMiss => format!(
            "Say hello to benchmark caller number {}",
            UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
        _ => format!("Say hello to benchmark caller number {i}"),
    }
}

/// What a streamed call saw: when the first token arrived, and when the stream ended.
#[derive(Clone, Copy, Debug)]
pub struct StreamTimes {
    /// First chunk with non-empty content.
    pub first_token: Instant,
    /// The stream returned its end.
    pub end: Instant,
    /// Items the client yielded.
    pub items: u32,
}

fn litellm_client(base: &str) -> litellm::Client {
    litellm::Client::builder()
        .no_env()
        .api_key("openai", KEY)
        .api_base("openai", base)
        .build()
        .expect("litellm client")
}

fn deployment(base: &str, id: &str) -> litellm::router::Deployment {
    litellm::router::Deployment::new(MODEL, format!("openai/{MODEL}"))
        .id(id)
        .api_base(base)
        .api_key(KEY)
}

fn bare_router() -> litellm::router::RouterBuilder {
    litellm::Router::builder()
        .client(litellm::Client::builder().no_env().build().expect("client"))
        .num_retries(0)
        .disable_cooldowns(true)
        .seed(7)
}

/// One client per arm, all pointed at the upstream on `port`.
pub struct Clients {
    url: String,
    auth: reqwest::header::HeaderValue,
    r0: reqwest::Client,
    client: litellm::Client,
    provider: (
        std::sync::Arc<dyn litellm::provider::Provider>,
        litellm::provider::CallContext,
    ),
    router1: litellm::Router,
    router3: litellm::Router,
    router_retry: litellm::Router,
    cache_miss: litellm::Router,
    cache_hit: litellm::Router,
    cost: litellm::Router,
    /// The ledger of the cost arm (read once at the end to check it was charged).
    pub ledger: Arc<litellm::accounting::ledger::Ledger>,
    aoai: async_openai::Client<async_openai::config::OpenAIConfig>,
    genai: genai::Client,
}

impl Clients {
    /// Builds every arm's client for the upstream at `127.0.0.1:port`.
    pub fn new(port: u16) -> Clients {
        let base = format!("http://127.0.0.1:{port}/v1");
        // The same settings the crate gives its own reqwest client.
        let r0 = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .expect("reqwest client");
        let three = |b: litellm::router::RouterBuilder| {
            b.deployment(deployment(&base, "a").weight(3.0))
                .deployment(deployment(&base, "b").weight(2.0))
                .deployment(deployment(&base, "c").weight(1.0))
        };
        let router1 = bare_router()
            .deployment(deployment(&base, "a"))
            .build()
            .expect("router");
        let router3 = three(bare_router()).build().expect("router");
        let router_retry = three(
            litellm::Router::builder()
                .client(litellm::Client::builder().no_env().build().expect("client"))
                .seed(7),
        )
        .num_retries(3)
        .allowed_fails(3)
        .cooldown_time(std::time::Duration::from_secs(5))
        .build()
        .expect("router");
        let cache_miss = bare_router()
            .deployment(deployment(&base, "a"))
            .cache(litellm::cache::CacheConfig::memory())
            .build()
            .expect("router");
        let cache_hit = bare_router()
            .deployment(deployment(&base, "a"))
            .cache(litellm::cache::CacheConfig::memory())
            .build()
            .expect("router");
        let ledger = Arc::new(litellm::accounting::ledger::Ledger::new());
        let cost = bare_router()
            .deployment(deployment(&base, "a"))
            .prices(Arc::new(litellm::accounting::PriceTable::builtin()))
            .ledger(ledger.clone())
            .metrics(litellm::observe::Metrics::new())
            .build()
            .expect("router");
        let aoai = async_openai::Client::with_config(
            async_openai::config::OpenAIConfig::new()
                .with_api_base(base.clone())
                .with_api_key(KEY),
        );
        let genai_base = format!("{base}/");
        let resolver = genai::resolver::ServiceTargetResolver::from_resolver_fn(
            move |t: genai::ServiceTarget| -> Result<genai::ServiceTarget, genai::resolver::Error> {
                Ok(genai::ServiceTarget {
                    endpoint: genai::resolver::Endpoint::from_owned(genai_base.clone()),
                    auth: genai::resolver::AuthData::from_single(KEY),
                    model: genai::ModelIden::new(
                        genai::adapter::AdapterKind::OpenAI,
                        t.model.model_name,
                    ),
                })
            },
        );
        let genai = genai::Client::builder()
            .with_service_target_resolver(resolver)
            .build()
            .expect("genai client");
        Clients {
            url: format!("{base}/chat/completions"),
            auth: reqwest::header::HeaderValue::from_str(&format!("Bearer {KEY}"))
                .expect("header value"),
            r0,
            client: litellm_client(&base),
            provider: litellm_client(&base)
                .resolve(&format!("openai/{MODEL}"), &Default::default())
                .expect("resolve"),
            router1,
            router3,
            router_retry,
            cache_miss,
            cache_hit,
            cost,
            ledger,
            aoai,
            genai,
        }
    }

    fn litellm_target(&self, arm: Arm) -> Option<Target<'_>> {
        Some(match arm {
            Arm::Client => Target::Client(&self.client),
            Arm::Router1 => Target::Router(&self.router1),
            Arm::Router3 => Target::Router(&self.router3),
            Arm::RouterRetry => Target::Router(&self.router_retry),
            Arm::CacheMiss => Target::Router(&self.cache_miss),
            Arm::CacheHit => Target::Router(&self.cache_hit),
            Arm::Cost => Target::Router(&self.cost),
            _ => return None,
        })
    }

    fn r0_post(&self, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.r0
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, self.auth.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            )
            .body(body)
    }

    /// One chat completion through `arm`; returns the answer's length in bytes.
    pub async fn chat(&self, arm: Arm, i: u64) -> Result<usize, String> {
        let prompt = prompt(arm, i);
        if let Some(t) = self.litellm_target(arm) {
            let messages = vec![litellm::Message::user(prompt)];
            let resp = match t {
                Target::Client(c) => {
                    c.chat(litellm::ChatRequest::new(
                        format!("openai/{MODEL}"),
                        messages,
                    ))
                    .await
                }
                Target::Router(r) => r.chat(litellm::ChatRequest::new(MODEL, messages)).await,
            }
            .map_err(|e| e.to_string())?;
            return Ok(resp.text().map(str::len).unwrap_or(0));
        }
        match arm {
            Arm::R0 => {
                let body = serde_json::to_vec(&R0Request {
                    model: MODEL,
                    messages: [R0Message {
                        role: "user",
                        content: &prompt,
                    }],
                    stream: None,
                    stream_options: None,
                })
                .map_err(|e| e.to_string())?;
                let resp = self.r0_post(body).send().await.map_err(|e| e.to_string())?;
                if !resp.status().is_success() {
                    return Err(format!("status {}", resp.status()));
                }
                let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
                let r: R0Response = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                Ok(r.choices
                    .first()
                    .and_then(|c| c.message.content.as_deref())
                    .map(str::len)
                    .unwrap_or(0))
            }
            Arm::Provider => {
                let (p, cx) = &self.provider;
                let req = litellm::ChatRequest::new(MODEL, vec![litellm::Message::user(prompt)]);
                let r = p.chat(&req, cx).await.map_err(|e| e.to_string())?;
                Ok(r.text().map(str::len).unwrap_or(0))
            }
            Arm::R0Typed => {
                let req = litellm::ChatRequest::new(MODEL, vec![litellm::Message::user(prompt)]);
                let body = serde_json::to_vec(&req).map_err(|e| e.to_string())?;
                let resp = self.r0_post(body).send().await.map_err(|e| e.to_string())?;
                if !resp.status().is_success() {
                    return Err(format!("status {}", resp.status()));
                }
                let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
                let r: litellm::ChatResponse =
                    serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                Ok(r.text().map(str::len).unwrap_or(0))
            }
            Arm::AsyncOpenAi => {
                use async_openai::types::chat::{
                    ChatCompletionRequestUserMessage, CreateChatCompletionRequestArgs,
                };
                let req = CreateChatCompletionRequestArgs::default()
                    .model(MODEL)
                    .messages(vec![
                        ChatCompletionRequestUserMessage::from(prompt.as_str()).into(),
                    ])
                    .build()
                    .map_err(|e| e.to_string())?;
                let resp = self
                    .aoai
                    .chat()
                    .create(req)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(resp
                    .choices
                    .first()
                    .and_then(|c| c.message.content.as_deref())
                    .map(str::len)
                    .unwrap_or(0))
            }
            Arm::Genai => {
                let req =
                    genai::chat::ChatRequest::new(vec![genai::chat::ChatMessage::user(prompt)]);
                let resp = self
                    .genai
                    .exec_chat(MODEL, req, None)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(resp.first_text().map(str::len).unwrap_or(0))
            }
            _ => Err(format!("{arm:?} is not a chat arm")),
        }
    }

    /// One streamed chat completion through `arm`, read to the end.
    pub async fn stream(&self, arm: Arm, i: u64) -> Result<StreamTimes, String> {
        let prompt = prompt(arm, i);
        let mut first: Option<Instant> = None;
        let mut items = 0u32;
        let mut saw = |has_text: bool| {
            items += 1;
            if has_text && first.is_none() {
                first = Some(Instant::now());
            }
        };
        if let Some(t) = self.litellm_target(arm) {
            let messages = vec![litellm::Message::user(prompt)];
            let mut s = match t {
                Target::Client(c) => {
                    c.chat_stream(litellm::ChatRequest::new(
                        format!("openai/{MODEL}"),
                        messages,
                    ))
                    .await
                }
                Target::Router(r) => {
                    r.chat_stream(litellm::ChatRequest::new(MODEL, messages))
                        .await
                }
            }
            .map_err(|e| e.to_string())?;
            while let Some(c) = s.next().await {
                let c = c.map_err(|e| e.to_string())?;
                saw(c.text().is_some_and(|t| !t.is_empty()));
            }
        } else {
            match arm {
                Arm::R0 => {
                    let mut lines = self.r0_open(&prompt).await?;
                    while let Some(chunk) = lines.next_chunk().await? {
                        saw(chunk
                            .choices
                            .first()
                            .and_then(|c| c.delta.content.as_deref())
                            .is_some_and(|t| !t.is_empty()));
                    }
                }
                Arm::AsyncOpenAi => {
                    use async_openai::types::chat::{
                        ChatCompletionRequestUserMessage, ChatCompletionStreamOptions,
                        CreateChatCompletionRequestArgs,
                    };
                    let req = CreateChatCompletionRequestArgs::default()
                        .model(MODEL)
                        .messages(vec![
                            ChatCompletionRequestUserMessage::from(prompt.as_str()).into(),
                        ])
                        .stream(true)
                        .stream_options(ChatCompletionStreamOptions {
                            include_usage: Some(true),
                            ..Default::default()
                        })
                        .build()
                        .map_err(|e| e.to_string())?;
                    let mut s = self
                        .aoai
                        .chat()
                        .create_stream(req)
                        .await
                        .map_err(|e| e.to_string())?;
                    while let Some(c) = s.next().await {
                        let c = c.map_err(|e| e.to_string())?;
                        saw(c
                            .choices
                            .first()
                            .and_then(|c| c.delta.content.as_deref())
                            .is_some_and(|t| !t.is_empty()));
                    }
                }
                Arm::Genai => {
                    let req =
                        genai::chat::ChatRequest::new(vec![genai::chat::ChatMessage::user(prompt)]);
                    let opts = genai::chat::ChatOptions::default().with_capture_usage(true);
                    let mut s = self
                        .genai
                        .exec_chat_stream(MODEL, req, Some(&opts))
                        .await
                        .map_err(|e| e.to_string())?
                        .stream;
                    while let Some(ev) = s.next().await {
                        let ev = ev.map_err(|e| e.to_string())?;
                        saw(
                            matches!(&ev, genai::chat::ChatStreamEvent::Chunk(c) if !c.content.is_empty()),
                        );
                    }
                }
                _ => return Err(format!("{arm:?} is not a streaming arm")),
            }
        }
        let end = Instant::now();
        Ok(StreamTimes {
            first_token: first.ok_or("no content chunk")?,
            end,
            items,
        })
    }

    /// R0's streamed request, opened (headers received).
    pub async fn r0_open(&self, prompt: &str) -> Result<R0Sse, String> {
        let body = serde_json::to_vec(&R0Request {
            model: MODEL,
            messages: [R0Message {
                role: "user",
                content: prompt,
            }],
            stream: Some(true),
            stream_options: Some(R0StreamOptions {
                include_usage: true,
            }),
        })
        .map_err(|e| e.to_string())?;
        let resp = self.r0_post(body).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        Ok(R0Sse {
            body: Box::pin(resp.bytes_stream()),
            buf: Vec::with_capacity(1024),
            done: false,
        })
    }

    /// Opens a stream through a litellm arm (`Client` or a router).
    pub async fn litellm_open(&self, arm: Arm, i: u64) -> Result<litellm::ChatStream, String> {
        let messages = vec![litellm::Message::user(prompt(arm, i))];
        match self.litellm_target(arm) {
            Some(Target::Client(c)) => {
                c.chat_stream(litellm::ChatRequest::new(
                    format!("openai/{MODEL}"),
                    messages,
                ))
                .await
            }
            Some(Target::Router(r)) => {
                r.chat_stream(litellm::ChatRequest::new(MODEL, messages))
                    .await
            }
            None => return Err(format!("{arm:?} is not a litellm arm")),
        }
        .map_err(|e| e.to_string())
    }
}

enum Target<'a> {
    Client(&'a litellm::Client),
    Router(&'a litellm::Router),
}

type ByteStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// R0's SSE reader: bytes split into lines, `data:` payloads decoded with serde_json.
pub struct R0Sse {
    body: ByteStream,
    buf: Vec<u8>,
    done: bool,
}

impl R0Sse {
    /// The next decoded chunk, `None` after `[DONE]` or the end of the body.
    async fn next_chunk(&mut self) -> Result<Option<R0Chunk>, String> {
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let parsed = {
                    let line = &self.buf[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    match line.strip_prefix(b"data:") {
                        None => None,
                        Some(data) => {
                            let data = data.strip_prefix(b" ").unwrap_or(data);
                            if data == b"[DONE]" {
                                Some(Ok(None))
                            } else {
                                Some(serde_json::from_slice::<R0Chunk>(data).map(Some))
                            }
                        }
                    }
                };
                self.buf.drain(..=nl);
                match parsed {
                    None => continue,
                    Some(Ok(None)) => {
                        self.done = true;
                        return Ok(None);
                    }
                    Some(Ok(Some(c))) => return Ok(Some(c)),
                    Some(Err(e)) => return Err(e.to_string()),
                }
            }
            match self.body.next().await {
                Some(b) => self.buf.extend_from_slice(&b.map_err(|e| e.to_string())?),
                None => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    /// Reads until the first chunk (held streams in the memory suite).
    pub async fn first(&mut self) -> Result<(), String> {
        self.next_chunk()
            .await?
            .map(|_| ())
            .ok_or_else(|| "stream ended before a chunk".into())
    }
}
