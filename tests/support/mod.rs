//! In-process fake HTTP/1.1 upstream for integration tests.
//!
//! A [`FakeUpstream`] listens on `127.0.0.1:0`, records every request it receives and answers
//! each one with the next scripted [`Reply`] (FIFO), falling back to a default reply, or to
//! `599 no reply scripted` when nothing is scripted. HTTP/1.1 is spoken by hand on top of
//! tokio's `TcpStream`: `Content-Length` and chunked request bodies, keep-alive, and
//! `Connection: close`. Streamed replies (SSE, NDJSON) are written one HTTP chunk per element,
//! flushed at once, and can be slowed down, stalled or cut off mid-stream.
//!
//! Include it from a test file with `mod support;`.
#![allow(dead_code)]
// Each test crate uses a different part of this module; `pub` items are its interface.
#![allow(unreachable_pub)]

pub mod eventstream;
pub mod prism;
pub mod prometheus;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Longest request line, header line or chunk-size line accepted.
const MAX_LINE: u64 = 64 * 1024;
/// Most header lines accepted in one request (or trailer section).
const MAX_HEADERS: usize = 256;
/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;

#[derive(Default)]
struct State {
    queue: VecDeque<Reply>,
    default: Option<Reply>,
    requests: Vec<Recorded>,
    connections: usize,
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    // A panic elsewhere while holding the lock must not cascade into every later call.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fake upstream HTTP/1.1 server on an ephemeral loopback port.
///
/// Dropping it shuts the server down: the listener closes and open connections are aborted.
pub struct FakeUpstream {
    addr: SocketAddr,
    state: Shared,
    accept: JoinHandle<()>,
}

impl FakeUpstream {
    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    pub async fn start() -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake upstream: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake upstream: local address");
        let state: Shared = Arc::default();
        let accept = tokio::spawn(accept_loop(listener, state.clone()));
        FakeUpstream {
            addr,
            state,
            accept,
        }
    }

    /// Base URL, `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply; each incoming request takes the next queued reply, in FIFO order.
    pub fn push(&self, reply: Reply) {
        lock(&self.state).queue.push_back(reply);
    }

    /// Reply used (cloned) whenever the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        lock(&self.state).default = Some(reply);
    }

    /// Every request received so far, in the order received.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<Recorded> {
        lock(&self.state).requests.last().cloned()
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.state).requests.len()
    }

    /// Number of TCP connections accepted so far (shows whether a client reused connections).
    pub fn connection_count(&self) -> usize {
        lock(&self.state).connections
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        // Cancelling the accept task drops the listener and its JoinSet, which aborts every
        // connection task.
        self.accept.abort();
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path without the query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Raw query string without the `?`; empty when there is none.
    pub query: String,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when it was sent with `Transfer-Encoding: chunked`.
    pub body: Vec<u8>,
}

impl Recorded {
    /// First header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// The body parsed as JSON; panics with the method, path and body if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!(
                "request body of {} {} is not JSON ({e}); body was: {:?}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            ),
        }
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// First query parameter with this name, value as written (no percent-decoding).
    /// A bare `name` with no `=` gives `Some("")`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }
}

#[derive(Clone, Debug)]
enum Body {
    Fixed(Vec<u8>),
    Stream(Vec<Vec<u8>>),
    HangUp,
}

/// A scripted response.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delay: Duration,
    gap: Duration,
    drop_after: Option<usize>,
    stall: Option<(usize, Duration)>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Body) -> Reply {
        let mut headers = Vec::new();
        if !content_type.is_empty() {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        Reply {
            status,
            headers,
            body,
            delay: Duration::ZERO,
            gap: Duration::ZERO,
            drop_after: None,
            stall: None,
        }
    }

    /// JSON body (compact), `content-type: application/json`.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("serialize JSON reply");
        Reply::new(status, "application/json", Body::Fixed(bytes))
    }

    /// Text body, `content-type: text/plain`.
    pub fn text(status: u16, body: &str) -> Reply {
        Reply::new(status, "text/plain", Body::Fixed(body.as_bytes().to_vec()))
    }

    /// Any body with the given content type (an empty content type sends no such header).
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(status, content_type, Body::Fixed(body.into()))
    }

    /// SSE stream, status 200: `content-type: text/event-stream`, chunked, one HTTP chunk per
    /// element, flushed at once. Elements are raw SSE text (see [`sse_data`] and friends).
    /// Empty elements are skipped (a zero-length chunk would end the body).
    pub fn sse(events: Vec<String>) -> Reply {
        let chunks = events.into_iter().map(String::into_bytes).collect();
        Reply::new(200, "text/event-stream", Body::Stream(chunks))
    }

    /// NDJSON stream, status 200: `content-type: application/x-ndjson`, chunked, one HTTP chunk
    /// per element with a `\n` appended.
    pub fn ndjson(lines: Vec<String>) -> Reply {
        let chunks = lines
            .into_iter()
            .map(|mut line| {
                line.push('\n');
                line.into_bytes()
            })
            .collect();
        Reply::new(200, "application/x-ndjson", Body::Stream(chunks))
    }

    /// Binary stream, status 200, with this content type (e.g. AWS event-stream frames):
    /// chunked, one HTTP chunk per element. Empty elements are skipped.
    pub fn stream_bytes(content_type: &str, chunks: Vec<Vec<u8>>) -> Reply {
        Reply::new(200, content_type, Body::Stream(chunks))
    }

    /// Closes the connection right after reading the request, writing nothing.
    pub fn hang_up() -> Reply {
        Reply::new(0, "", Body::HangUp)
    }

    /// Changes the status code (e.g. an SSE body with status 500).
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    /// Adds a response header. A `content-type` replaces the default one; other names are
    /// appended (so repeated names are sent repeatedly). Framing headers (`content-length`,
    /// `transfer-encoding`, `connection`) are written by the server; do not set them.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if name.eq_ignore_ascii_case("content-type") {
            self.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before writing the status line.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// For streams: sleeps this long before every element after the first.
    pub fn gap(mut self, d: Duration) -> Reply {
        self.gap = d;
        self
    }

    /// For streams: after writing the first `n` elements, closes the TCP connection without
    /// writing the terminating zero-length chunk. `n = 0` sends only the response head.
    pub fn drop_after(mut self, n: usize) -> Reply {
        self.drop_after = Some(n);
        self
    }

    /// For streams: after writing the first `n` elements (all of them if `n` is larger), keeps
    /// the connection open writing nothing for `d`, then goes on normally. `n = 0` stalls right
    /// after the response head.
    pub fn stall_after(mut self, n: usize, d: Duration) -> Reply {
        self.stall = Some((n, d));
        self
    }
}

/// `data: <compact json>\n\n`
pub fn sse_data(json: &serde_json::Value) -> String {
    format!("data: {json}\n\n")
}

/// `data: <s>\n\n`, e.g. `sse_raw_data("[DONE]")`.
pub fn sse_raw_data(s: &str) -> String {
    format!("data: {s}\n\n")
}

/// `event: <event>\ndata: <compact json>\n\n`
pub fn sse_event(event: &str, json: &serde_json::Value) -> String {
    format!("event: {event}\ndata: {json}\n\n")
}

/// `: <s>\n\n` (an SSE comment, e.g. a keep-alive).
pub fn sse_comment(s: &str) -> String {
    format!(": {s}\n\n")
}

async fn accept_loop(listener: TcpListener, state: Shared) {
    let mut conns = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                lock(&state).connections += 1;
                conns.spawn(serve_connection(stream, state.clone()));
                // Reap finished connection tasks so the set does not grow without bound.
                while conns.try_join_next().is_some() {}
            }
            // E.g. too many open files: back off briefly instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

type Conn = BufReader<TcpStream>;

struct Request {
    recorded: Recorded,
    close: bool,
}

async fn serve_connection(stream: TcpStream, state: Shared) {
    let _ = stream.set_nodelay(true);
    let mut conn = BufReader::new(stream);
    loop {
        // Any error (malformed request, client gone) just ends this connection.
        let request = match read_request(&mut conn).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        let head_only = request.recorded.method.eq_ignore_ascii_case("HEAD");
        let reply = {
            let mut st = lock(&state);
            st.requests.push(request.recorded);
            match st.queue.pop_front() {
                Some(reply) => reply,
                None => st
                    .default
                    .clone()
                    .unwrap_or_else(|| Reply::text(599, "no reply scripted")),
            }
        };
        match write_reply(&mut conn, &reply, request.close, head_only).await {
            Ok(true) if !request.close => {}
            Ok(true) => {
                let _ = conn.get_mut().shutdown().await;
                return;
            }
            // Abrupt end (hang-up, drop_after) or a write error: drop the socket.
            Ok(false) | Err(_) => return,
        }
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Reads one line, returning it without the trailing CRLF / LF; `None` on EOF before any byte.
async fn read_line(conn: &mut Conn) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = (&mut *conn)
        .take(MAX_LINE)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(bad("line too long or connection closed mid-line"));
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| bad("line is not UTF-8"))
}

async fn read_line_required(conn: &mut Conn) -> io::Result<String> {
    read_line(conn)
        .await?
        .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
}

/// Reads header lines up to the empty line.
async fn read_headers(conn: &mut Conn) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line_required(conn).await?;
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() >= MAX_HEADERS {
            return Err(bad("too many headers"));
        }
        let (name, value) = line.split_once(':').ok_or_else(|| bad("bad header"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Reads one request; `Ok(None)` when the client closed the connection between requests.
async fn read_request(conn: &mut Conn) -> io::Result<Option<Request>> {
    // Tolerate stray empty lines before a request line (RFC 9112 §2.2).
    let line = loop {
        match read_line(conn).await? {
            None => return Ok(None),
            Some(line) if line.is_empty() => {}
            Some(line) => break line,
        }
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("bad request line"));
    };
    let method = method.to_owned();
    let version = version.to_ascii_uppercase();
    // Absolute-form targets ("http://host/path") keep only the path and query.
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let target = target.split_once('#').map_or(target, |(t, _)| t);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_owned(), query.to_owned());

    let headers = read_headers(conn).await?;

    if has_token(&headers, "expect", "100-continue") {
        conn.get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await?;
        conn.get_mut().flush().await?;
    }

    let body = if has_token(&headers, "transfer-encoding", "chunked") {
        read_chunked_body(conn).await?
    } else if let Some((_, len)) = headers.iter().find(|(n, _)| n == "content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        if len > MAX_BODY {
            return Err(bad("body too large"));
        }
        let mut body = vec![0; len];
        conn.read_exact(&mut body).await?;
        body
    } else {
        Vec::new()
    };

    let close = has_token(&headers, "connection", "close")
        || (version == "HTTP/1.0" && !has_token(&headers, "connection", "keep-alive"));
    Ok(Some(Request {
        recorded: Recorded {
            method,
            path,
            query,
            headers,
            body,
        },
        close,
    }))
}

async fn read_chunked_body(conn: &mut Conn) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line_required(conn).await?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailer section (ignored) up to the final empty line.
            read_headers(conn).await?;
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(bad("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        conn.read_exact(&mut body[start..]).await?;
        if !read_line_required(conn).await?.is_empty() {
            return Err(bad("chunk not followed by CRLF"));
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Site Overloaded",
        _ => "Status",
    }
}

/// Writes the reply. `Ok(true)` when the connection may carry on (or be closed gracefully),
/// `Ok(false)` when it must be dropped at once.
async fn write_reply(
    conn: &mut Conn,
    reply: &Reply,
    close: bool,
    head_only: bool,
) -> io::Result<bool> {
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if let Body::HangUp = reply.body {
        return Ok(false);
    }

    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let no_body_status = reply.status < 200 || reply.status == 204 || reply.status == 304;
    match &reply.body {
        Body::Fixed(body) if !no_body_status => {
            let _ = write!(head, "content-length: {}\r\n", body.len());
        }
        Body::Stream(_) if !no_body_status => head.push_str("transfer-encoding: chunked\r\n"),
        _ => {}
    }
    head.push_str(if close {
        "connection: close\r\n\r\n"
    } else {
        "connection: keep-alive\r\n\r\n"
    });

    let stream = conn.get_mut();
    let mut out = head.into_bytes();
    let events = match &reply.body {
        Body::Stream(events) => events,
        Body::Fixed(body) => {
            if !head_only && !no_body_status {
                out.extend_from_slice(body);
            }
            stream.write_all(&out).await?;
            stream.flush().await?;
            return Ok(true);
        }
        Body::HangUp => return Ok(false),
    };

    stream.write_all(&out).await?;
    stream.flush().await?;
    if head_only || no_body_status {
        return Ok(true);
    }
    let drop_at = reply.drop_after.map(|n| n.min(events.len()));
    let (stall_at, stall_for) = reply.stall.map_or((None, Duration::ZERO), |(n, d)| {
        (Some(n.min(events.len())), d)
    });
    for (i, event) in events.iter().enumerate() {
        if drop_at == Some(i) {
            return Ok(false);
        }
        if stall_at == Some(i) {
            tokio::time::sleep(stall_for).await;
        }
        if i > 0 && !reply.gap.is_zero() {
            tokio::time::sleep(reply.gap).await;
        }
        if event.is_empty() {
            continue;
        }
        let mut chunk = format!("{:x}\r\n", event.len()).into_bytes();
        chunk.extend_from_slice(event);
        chunk.extend_from_slice(b"\r\n");
        stream.write_all(&chunk).await?;
        stream.flush().await?;
    }
    if drop_at == Some(events.len()) {
        return Ok(false);
    }
    if stall_at == Some(events.len()) {
        tokio::time::sleep(stall_for).await;
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.flush().await?;
    Ok(true)
}
