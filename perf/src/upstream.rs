//! The loopback upstream: a hyper 1.x HTTP/1.1 server with pre-built OpenAI-shaped answers.
//!
//! - `POST /v1/chat/completions`: a ~1 KB `chat.completion`; when the body has
//!   `"stream": true`, an SSE stream of `--chunks` chunks (default 7: a role chunk, content
//!   chunks, a finish chunk), then a usage chunk when `stream_options.include_usage` is true,
//!   then `data: [DONE]`, with `--gap-us` between two chunks (none before the first one);
//! - `POST /v1/embeddings`: one embedding of `--dims` floats;
//! - anything else: 404.
//!
//! Keep-alive, TCP_NODELAY on every accepted socket, a listen backlog of 8,192 (the kernel caps
//! it at `net.core.somaxconn`), RLIMIT_NOFILE raised to the hard limit, `--workers` tokio
//! worker threads (default 1, so the client keeps the other core). Binds 127.0.0.1 (port 0
//! unless `--port`) and prints the port alone on the first line of stdout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// Settings of the upstream (from the command line).
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1 (0: any free one).
    pub port: u16,
    /// Tokio worker threads.
    pub workers: usize,
    /// Chunks in a streamed answer (before the usage chunk).
    pub chunks: usize,
    /// Gap between two streamed chunks (tokio's timer: about 1 ms resolution).
    pub gap: Duration,
    /// Fixed delay before every answer's headers.
    pub delay: Duration,
    /// Floats in an embedding.
    pub dims: usize,
    /// Add OpenAI's `obfuscation` padding field to streamed chunks (as the real API does).
    pub obfuscation: bool,
    /// Exit when stdin closes (the parent benchmark died or finished).
    pub exit_on_stdin_eof: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            workers: 1,
            chunks: 7,
            gap: Duration::ZERO,
            delay: Duration::ZERO,
            dims: 256,
            obfuscation: true,
            exit_on_stdin_eof: false,
        }
    }
}

/// Usage text for `--help`.
pub const USAGE: &str = "upstream [--port P] [--workers N] [--chunks N] [--gap-us US] [--delay-us US] \
[--dims N] [--no-obfuscation] [--exit-on-stdin-eof]";

impl Config {
    /// Parses the flags in `args` (program name excluded).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
        let mut c = Config::default();
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| -> Result<u64, String> {
                let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
                v.parse::<u64>()
                    .map_err(|_| format!("{name}: not a number: {v}"))
            };
            match flag.as_str() {
                "--port" => {
                    c.port = u16::try_from(value("--port")?).map_err(|_| "--port: too large")?
                }
                "--workers" => c.workers = value("--workers")?.max(1) as usize,
                "--chunks" => c.chunks = value("--chunks")?.max(1) as usize,
                "--gap-us" => c.gap = Duration::from_micros(value("--gap-us")?),
                "--delay-us" => c.delay = Duration::from_micros(value("--delay-us")?),
                "--dims" => c.dims = value("--dims")? as usize,
                "--no-obfuscation" => c.obfuscation = false,
                "--exit-on-stdin-eof" => c.exit_on_stdin_eof = true,
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown flag {other}\n{USAGE}")),
            }
        }
        Ok(c)
    }

    /// The same settings as flags, to start the upstream as a child process.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![
            "--port".to_string(),
            self.port.to_string(),
            "--workers".into(),
            self.workers.to_string(),
            "--chunks".into(),
            self.chunks.to_string(),
            "--gap-us".into(),
            self.gap.as_micros().to_string(),
            "--delay-us".into(),
            self.delay.as_micros().to_string(),
            "--dims".into(),
            self.dims.to_string(),
        ];
        if !self.obfuscation {
            a.push("--no-obfuscation".into());
        }
        if self.exit_on_stdin_eof {
            a.push("--exit-on-stdin-eof".into());
        }
        a
    }
}

/// Every answer, built once.
pub struct Bodies {
    /// The `chat.completion` body.
    pub chat: Bytes,
    /// The streamed chunks (`data: …\n\n` each), without usage and `[DONE]`.
    pub chunks: Vec<Bytes>,
    /// The usage-only chunk.
    pub usage_chunk: Bytes,
    /// `data: [DONE]\n\n`.
    pub done: Bytes,
    /// The embeddings body.
    pub embeddings: Bytes,
}

const ID: &str = "chatcmpl-BENCH0000000000000000000000000";
const MODEL: &str = "gpt-4o-mini-2024-07-18";
const CREATED: u64 = 1_770_933_883;
/// The words of the answer: the non-streamed content and, one per chunk, the streamed deltas.
const WORDS: [&str; 12] = [
    "Hello",
    "! This",
    " is",
    " a",
    " benchmark",
    " answer",
    " from",
    " the",
    " loopback",
    " server",
    ",",
    " done.",
];

impl Bodies {
    /// Builds the bodies for `config`.
    pub fn new(config: &Config) -> Bodies {
        let content = "Hello! This is the pre-built answer of the loopback upstream used by the \
end-to-end benchmarks of the litellm crate. It is long enough that the whole chat.completion \
body weighs about one kilobyte, like a short real answer: a few sentences of text, an id, the \
model, the finish reason and the usage with its details. Nothing here is computed per request; \
the server only copies these bytes to the socket so that the client's own cost dominates.";
        let chat = serde_json::json!({
            "id": ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": 21, "completion_tokens": 78, "total_tokens": 99,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                    "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
            },
            "service_tier": "default",
            "system_fingerprint": "fp_560af6e559"
        });
        let n = config.chunks.max(1);
        let mut chunks = Vec::with_capacity(n);
        for i in 0..n {
            let (delta, finish) = if i == 0 {
                (
                    serde_json::json!({"role": "assistant", "content": "", "refusal": null}),
                    serde_json::Value::Null,
                )
            } else if i + 1 == n && n > 1 {
                (serde_json::json!({}), serde_json::json!("stop"))
            } else {
                (
                    serde_json::json!({"content": WORDS[(i - 1) % WORDS.len()]}),
                    serde_json::Value::Null,
                )
            };
            let mut chunk = serde_json::json!({
                "id": ID,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": MODEL,
                "service_tier": "default",
                "system_fingerprint": "fp_560af6e559",
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
            });
            if config.obfuscation {
                chunk["obfuscation"] = serde_json::json!("Xy3kQp9Z");
            }
            chunks.push(sse(&chunk));
        }
        let usage = serde_json::json!({
            "id": ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "service_tier": "default",
            "system_fingerprint": "fp_560af6e559",
            "choices": [],
            "usage": {
                "prompt_tokens": 21, "completion_tokens": (n as u64).saturating_sub(2), "total_tokens": 21 + (n as u64).saturating_sub(2),
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                    "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
            }
        });
        let embedding: Vec<f32> = (0..config.dims)
            .map(|i| ((i as f32) * 0.618_034).sin() * 0.05)
            .collect();
        let embeddings = serde_json::json!({
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 8, "total_tokens": 8}
        });
        Bodies {
            chat: Bytes::from(serde_json::to_vec(&chat).expect("serializable body")),
            chunks,
            usage_chunk: sse(&usage),
            done: Bytes::from_static(b"data: [DONE]\n\n"),
            embeddings: Bytes::from(serde_json::to_vec(&embeddings).expect("serializable body")),
        }
    }
}

fn sse(v: &serde_json::Value) -> Bytes {
    let mut b = b"data: ".to_vec();
    b.extend_from_slice(&serde_json::to_vec(v).expect("serializable chunk"));
    b.extend_from_slice(b"\n\n");
    Bytes::from(b)
}

/// True when the JSON text `body` has `"key": true` somewhere (any nesting; whitespace
/// allowed). A scan, not a parse: the server's cost must stay small and constant.
pub fn json_flag(body: &[u8], key: &str) -> bool {
    let needle = format!("\"{key}\"");
    let needle = needle.as_bytes();
    let mut from = 0;
    while let Some(pos) = find(&body[from..], needle) {
        let mut i = from + pos + needle.len();
        while i < body.len() && body[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < body.len() && body[i] == b':' {
            i += 1;
            while i < body.len() && body[i].is_ascii_whitespace() {
                i += 1;
            }
            if body[i..].starts_with(b"true") {
                return true;
            }
        }
        from = from + pos + needle.len();
    }
    false
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

fn stream(bodies: &Bodies, gap: Duration, include_usage: bool) -> Response<Body> {
    let mut frames: Vec<Bytes> = bodies.chunks.clone();
    if include_usage {
        frames.push(bodies.usage_chunk.clone());
    }
    let gapped = frames.len();
    frames.push(bodies.done.clone());
    let frames: Arc<[Bytes]> = frames.into();
    let body = StreamBody::new(futures::stream::unfold(0usize, move |i| {
        let frames = frames.clone();
        async move {
            let frame = frames.get(i)?.clone();
            // A gap before every chunk but the first; `[DONE]` follows the last chunk at once.
            if !gap.is_zero() && i > 0 && i < gapped {
                tokio::time::sleep(gap).await;
            }
            Some((Ok::<_, Infallible>(Frame::data(frame)), i + 1))
        }
    }));
    let mut r = Response::new(BodyExt::boxed(body));
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    r
}

async fn handle(
    req: Request<Incoming>,
    bodies: Arc<Bodies>,
    config: Arc<Config>,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if !config.delay.is_zero() {
        tokio::time::sleep(config.delay).await;
    }
    let resp = match (method, path.as_str()) {
        (Method::POST, "/v1/chat/completions") => {
            if json_flag(&body, "stream") {
                stream(&bodies, config.gap, json_flag(&body, "include_usage"))
            } else {
                full(StatusCode::OK, "application/json", bodies.chat.clone())
            }
        }
        (Method::POST, "/v1/embeddings") => full(
            StatusCode::OK,
            "application/json",
            bodies.embeddings.clone(),
        ),
        _ => full(
            StatusCode::NOT_FOUND,
            "application/json",
            Bytes::from_static(
                br#"{"error":{"message":"not found","type":"invalid_request_error"}}"#,
            ),
        ),
    };
    Ok(resp)
}

fn listener(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(8192)?;
    socket.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(socket.into())
}

/// Runs the server until the process ends (or stdin closes, with `exit_on_stdin_eof`).
pub fn run(config: Config) -> std::io::Result<()> {
    let (soft, _) = crate::sys::raise_nofile_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .enable_all()
        .build()?;
    if config.exit_on_stdin_eof {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    rt.block_on(async move {
        let listener = listener(config.port)?;
        let port = listener.local_addr()?.port();
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{port}")?;
            out.flush()?;
        }
        eprintln!(
            "upstream: 127.0.0.1:{port}, {} worker(s), {} chunks, gap {:?}, delay {:?}, nofile {soft}",
            config.workers, config.chunks, config.gap, config.delay
        );
        let bodies = Arc::new(Bodies::new(&config));
        let config = Arc::new(config);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.keep_alive(true);
        let http = Arc::new(http);
        loop {
            let (tcp, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    eprintln!("upstream: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let (bodies, config, http) = (bodies.clone(), config.clone(), http.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(req, bodies.clone(), config.clone()));
                let _ = http.serve_connection(TokioIo::new(tcp), svc).await;
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_found_with_or_without_spaces() {
        assert!(json_flag(br#"{"model":"m","stream":true}"#, "stream"));
        assert!(json_flag(br#"{"stream" : true, "x": 1}"#, "stream"));
        assert!(!json_flag(br#"{"stream":false}"#, "stream"));
        assert!(!json_flag(br#"{"model":"m"}"#, "stream"));
        assert!(json_flag(
            br#"{"stream":true,"stream_options":{"include_usage":true}}"#,
            "include_usage"
        ));
    }

    #[test]
    fn chat_body_is_about_one_kilobyte() {
        let b = Bodies::new(&Config::default());
        assert!((900..1300).contains(&b.chat.len()), "{}", b.chat.len());
        assert_eq!(b.chunks.len(), 7);
    }
}
