//! Cache keys: a SHA-256 of a canonical JSON form of the model group and every parameter that
//! changes the answer. The same request gives the same key on every run, machine and build.
//!
//! The canonical form is `{"v":"litellm-cache-v1","kind":K,"model":GROUP,"params":P}`
//! (embeddings add `"input":I` at the end), written without spaces, with the keys of every object (`params`, nested objects,
//! `extra` maps) sorted by their UTF-8 bytes, strings escaped as `serde_json` escapes them and
//! numbers written as `serde_json` writes them. `P` is the request serialized as it is sent to
//! an OpenAI-compatible vendor (so unset fields are absent), minus the fields listed in
//! [`CHAT_EXCLUDED`], [`EMBEDDING_EXCLUDED`] and [`TEXT_EXCLUDED`].

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::types::{ChatRequest, EmbeddingInput, EmbeddingRequest, TextCompletionRequest};

/// Chat body fields left out of the key: they do not change the answer (`stream` and
/// `stream_options`: a stream and a plain call share the entry), or identify the caller, or
/// only steer the vendor's own storage and prompt cache. `model` is replaced by the group.
pub const CHAT_EXCLUDED: &[&str] = &[
    "model",
    "stream",
    "stream_options",
    "user",
    "store",
    "metadata",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
];

/// Embedding body fields left out of a per-input key. `encoding_format` only changes the wire
/// format (vectors arrive as `f32` either way); `input` is keyed one input at a time.
pub const EMBEDDING_EXCLUDED: &[&str] = &["model", "input", "user", "encoding_format"];

/// Text-completion body fields left out of the key.
pub const TEXT_EXCLUDED: &[&str] = &["model", "stream", "stream_options", "user"];

/// Version of the canonical form; part of every hashed document.
const VERSION: &str = "litellm-cache-v1";

/// A cache key: `[namespace ":"] kind ":" sha256-hex`, e.g.
/// `chat:5f2c…` or `tenant-a:embedding:9a0e…`. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(Arc<str>);

impl CacheKey {
    /// A key from its string form (as stored by a backend).
    pub fn from_string(key: impl Into<Arc<str>>) -> CacheKey {
        CacheKey(key.into())
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn new(namespace: Option<&str>, kind: &str, digest: &[u8]) -> CacheKey {
        let ns_len = namespace.map_or(0, |n| n.len() + 1);
        let mut s = String::with_capacity(ns_len + kind.len() + 1 + digest.len() * 2);
        if let Some(ns) = namespace {
            s.push_str(ns);
            s.push(':');
        }
        s.push_str(kind);
        s.push(':');
        for b in digest {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        CacheKey(s.into())
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", self.0)
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Feeds written bytes into a SHA-256.
struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `v` as canonical JSON: no whitespace, object keys sorted.
fn write_canonical<W: Write>(w: &mut W, v: &Value) -> io::Result<()> {
    match v {
        Value::Object(map) => write_object(w, map, &[]),
        Value::Array(items) => {
            w.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_canonical(w, item)?;
            }
            w.write_all(b"]")
        }
        // Scalars: serde_json's own text (numbers shortest round-trip, strings escaped).
        other => serde_json::to_writer(&mut *w, other).map_err(io::Error::other),
    }
}

/// Writes an object with sorted keys, leaving out `skip`.
fn write_object<W: Write>(w: &mut W, map: &Map<String, Value>, skip: &[&str]) -> io::Result<()> {
    let keep = |(k, _): &(&String, &Value)| !skip.contains(&k.as_str());
    // serde_json's map is sorted unless its `preserve_order` feature is on somewhere in the
    // build: sort only when needed.
    let sorted = map
        .keys()
        .zip(map.keys().skip(1))
        .all(|(a, b)| a.as_bytes() <= b.as_bytes());
    if sorted {
        write_entries(w, map.iter().filter(keep))
    } else {
        write_unsorted(w, map.iter().filter(keep).collect())
    }
}

/// Writes object entries given in any order, sorted by key.
fn write_unsorted<W: Write>(w: &mut W, mut entries: Vec<(&String, &Value)>) -> io::Result<()> {
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    write_entries(w, entries.into_iter())
}

fn write_entries<'a, W: Write>(
    w: &mut W,
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
) -> io::Result<()> {
    w.write_all(b"{")?;
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, k).map_err(io::Error::other)?;
        w.write_all(b":")?;
        write_canonical(w, v)?;
    }
    w.write_all(b"}")
}

/// Writes the head of the canonical document, up to and including `params`:
/// `{"v":VERSION,"kind":K,"model":GROUP,"params":{…}`.
fn write_head<W: Write>(
    w: &mut W,
    kind: &str,
    group: &str,
    params: &Map<String, Value>,
    skip: &[&str],
) -> io::Result<()> {
    w.write_all(b"{\"v\":")?;
    serde_json::to_writer(&mut *w, VERSION).map_err(io::Error::other)?;
    w.write_all(b",\"kind\":")?;
    serde_json::to_writer(&mut *w, kind).map_err(io::Error::other)?;
    w.write_all(b",\"model\":")?;
    serde_json::to_writer(&mut *w, group).map_err(io::Error::other)?;
    w.write_all(b",\"params\":")?;
    write_object(w, params, skip)
}

/// The request as its JSON object (what would be sent), or `None` when it cannot be serialized.
fn body_of<T: Serialize>(req: &T) -> Option<Map<String, Value>> {
    match serde_json::to_value(req) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

pub(crate) fn whole_key<T: Serialize>(
    kind: &str,
    group: &str,
    req: &T,
    skip: &[&str],
    namespace: Option<&str>,
) -> Option<CacheKey> {
    let params = body_of(req)?;
    // Written out first and hashed in one piece: the document is a few hundred bytes, and one
    // `update` over it costs less than one per fragment.
    let mut doc = Vec::with_capacity(512);
    write_head(&mut doc, kind, group, &params, skip).ok()?;
    doc.push(b'}');
    Some(CacheKey::new(namespace, kind, &Sha256::digest(&doc)))
}

fn whole_canonical<T: Serialize>(kind: &str, group: &str, req: &T, skip: &[&str]) -> String {
    let mut out = Vec::new();
    if let Some(params) = body_of(req) {
        let _ = write_head(&mut out, kind, group, &params, skip);
        out.push(b'}');
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cache key of a chat request for model group `group` (for a [`Client`](crate::Client),
/// the request's `model`). Includes the call's namespace; never credentials, metadata or other
/// call options. `None` only when the request cannot be serialized.
///
/// ```
/// use litellm::cache::chat_key;
/// use litellm::{ChatRequest, Message};
///
/// let a = ChatRequest::new("gpt-4o", vec![Message::user("hi")]).temperature(0.0);
/// let b = a.clone().api_key("sk-other").user("someone").stream(true);
/// assert_eq!(chat_key("gpt-4o", &a), chat_key("gpt-4o", &b));
/// assert_ne!(chat_key("gpt-4o", &a), chat_key("gpt-4o", &a.clone().temperature(1.0)));
/// ```
pub fn chat_key(group: &str, req: &ChatRequest) -> Option<CacheKey> {
    whole_key(
        "chat",
        group,
        req,
        CHAT_EXCLUDED,
        req.options.cache.namespace.as_deref(),
    )
}

/// The cache key of a text-completion request for model group `group`.
pub fn text_key(group: &str, req: &TextCompletionRequest) -> Option<CacheKey> {
    whole_key(
        "text",
        group,
        req,
        TEXT_EXCLUDED,
        req.options.cache.namespace.as_deref(),
    )
}

/// The canonical document hashed for a chat request (for debugging and documentation).
pub fn chat_canonical(group: &str, req: &ChatRequest) -> String {
    whole_canonical("chat", group, req, CHAT_EXCLUDED)
}

/// The canonical document hashed for a text-completion request.
pub fn text_canonical(group: &str, req: &TextCompletionRequest) -> String {
    whole_canonical("text", group, req, TEXT_EXCLUDED)
}

/// One input of an embeddings request, as JSON (a string or a token array).
fn inputs_of(input: &EmbeddingInput) -> Vec<Value> {
    match input {
        EmbeddingInput::Text(s) => vec![Value::from(s.as_str())],
        EmbeddingInput::Texts(v) => v.iter().map(|s| Value::from(s.as_str())).collect(),
        EmbeddingInput::Tokens(t) => vec![Value::from(t.clone())],
        EmbeddingInput::TokenBatches(v) => v.iter().map(|t| Value::from(t.clone())).collect(),
    }
}

/// One cache key per input of an embeddings request, in input order: each covers the group,
/// the parameters that change a vector (`dimensions`, vendor fields such as `input_type`) and
/// that one input, so the same string is found again in any batch. `None` only when the
/// request cannot be serialized.
///
/// ```
/// use litellm::cache::embedding_keys;
/// use litellm::EmbeddingRequest;
///
/// let batch = embedding_keys("emb", &EmbeddingRequest::new("emb", vec!["a", "b"])).unwrap();
/// let single = embedding_keys("emb", &EmbeddingRequest::new("emb", "b")).unwrap();
/// assert_eq!(batch[1], single[0]);
/// ```
pub fn embedding_keys(group: &str, req: &EmbeddingRequest) -> Option<Vec<CacheKey>> {
    embedding_keys_in(group, req, req.options.cache.namespace.as_deref())
}

/// [`embedding_keys`] under `namespace` (the call's own, with its scope when it has one).
pub(crate) fn embedding_keys_in(
    group: &str,
    req: &EmbeddingRequest,
    namespace: Option<&str>,
) -> Option<Vec<CacheKey>> {
    let params = body_of(req)?;
    let mut head = HashWriter(Sha256::new());
    write_head(&mut head, "embedding", group, &params, EMBEDDING_EXCLUDED).ok()?;
    head.write_all(b",\"input\":").ok()?;
    let mut keys = Vec::with_capacity(req.input.len());
    for input in inputs_of(&req.input) {
        let mut h = HashWriter(head.0.clone());
        write_canonical(&mut h, &input).ok()?;
        h.write_all(b"}").ok()?;
        keys.push(CacheKey::new(namespace, "embedding", &h.0.finalize()));
    }
    Some(keys)
}

/// The canonical documents hashed for each input of an embeddings request.
pub fn embedding_canonical(group: &str, req: &EmbeddingRequest) -> Vec<String> {
    let Some(params) = body_of(req) else {
        return Vec::new();
    };
    inputs_of(&req.input)
        .iter()
        .map(|input| {
            let mut out = Vec::new();
            let _ = write_head(&mut out, "embedding", group, &params, EMBEDDING_EXCLUDED);
            out.extend_from_slice(b",\"input\":");
            let _ = write_canonical(&mut out, input);
            out.push(b'}');
            String::from_utf8_lossy(&out).into_owned()
        })
        .collect()
}

/// The scope of a call's credentials in a cache key: `cred-` and 16 hex digits of a SHA-256
/// over its API key and base URL (never the key itself; the hash cannot be turned back into
/// it).
pub(crate) fn credential_scope(api_key: Option<&str>, api_base: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(b"litellm-cache-scope\0");
    h.update(api_key.unwrap_or_default().as_bytes());
    h.update(b"\0");
    h.update(api_base.unwrap_or_default().as_bytes());
    let digest = h.finalize();
    let mut s = String::with_capacity(21);
    s.push_str("cred-");
    for b in &digest[..8] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A key standing for a list of keys (used to coalesce identical embedding batches).
pub(crate) fn combined_key(namespace: Option<&str>, keys: &[CacheKey]) -> CacheKey {
    let mut h = Sha256::new();
    for k in keys {
        h.update(k.as_str().as_bytes());
        h.update(b"\n");
    }
    CacheKey::new(namespace, "embedding-batch", &h.finalize())
}

#[cfg(test)]
mod tests;
