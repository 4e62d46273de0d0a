use super::*;
use crate::types::{
    Choice, Embedding, EmbeddingInput, EmbeddingUsage, FinishReason, Message, TextChoice, ToolCall,
    Usage,
};
use futures::StreamExt;
use std::sync::atomic::AtomicUsize;

fn chat_answer(text: &str) -> ChatResponse {
    let mut resp = ChatResponse {
        id: "chatcmpl-1".into(),
        object: "chat.completion".into(),
        created: 1_700_000_000,
        model: "gpt-4o-mini-2024-07-18".into(),
        choices: vec![Choice {
            index: 0,
            message: Message::assistant(text),
            finish_reason: Some(FinishReason::Stop),
            logprobs: None,
            extra: Default::default(),
        }],
        usage: Some(Usage::new(9, 3)),
        system_fingerprint: Some("fp_1".into()),
        ..Default::default()
    };
    resp.meta = ResponseMeta::new("openai", "gpt-4o-mini");
    resp.meta.cost = Some(0.0042);
    resp.meta.request_id = Some("req_1".into());
    resp
}

fn without_meta<T: HasMeta>(mut r: T) -> T {
    *r.meta_mut() = ResponseMeta::default();
    r
}

fn request(text: &str) -> ChatRequest {
    ChatRequest::new("gpt-4o-mini", vec![Message::user(text)])
}

fn memory() -> ResponseCache {
    ResponseCache::new(CacheConfig::memory())
}

/// Asks `cache` for `req` in `group` (`up` answers `text` on a miss): whether it was a hit.
async fn is_hit(
    cache: &ResponseCache,
    group: &str,
    req: &ChatRequest,
    up: &Upstream,
    text: &str,
) -> bool {
    cache
        .chat(group, req, || up.chat(text))
        .await
        .unwrap()
        .meta
        .cache_hit
}

/// An upstream call that counts its calls.
#[derive(Clone, Default)]
struct Upstream {
    calls: Arc<AtomicUsize>,
}

impl Upstream {
    fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn chat(&self, text: &str) -> Result<ChatResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(chat_answer(text))
    }

    async fn slow_chat(&self, text: &str) -> Result<ChatResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(chat_answer(text))
    }

    async fn failing(&self) -> Result<ChatResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(Error::new(ErrorKind::ServiceUnavailable, "overloaded").with_status(503))
    }

    async fn stream(&self, resp: ChatResponse) -> Result<ChatStream> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(ChatStream::from_response(&resp))
    }

    /// Embeds each text as `[len, first byte]`, with usage of one token per input.
    async fn embed(&self, req: &EmbeddingRequest) -> Result<EmbeddingResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let texts = req.input.texts().unwrap_or_default();
        let mut resp = EmbeddingResponse {
            object: "list".into(),
            // Out of order on purpose: the plan sorts by index.
            data: texts
                .iter()
                .enumerate()
                .rev()
                .map(|(i, t)| Embedding {
                    object: "embedding".into(),
                    index: i as u32,
                    embedding: vector(t),
                })
                .collect(),
            model: "text-embedding-3-small".into(),
            usage: EmbeddingUsage {
                prompt_tokens: texts.len() as u64,
                total_tokens: texts.len() as u64,
            },
            ..Default::default()
        };
        resp.meta = ResponseMeta::new("openai", "text-embedding-3-small");
        Ok(resp)
    }
}

fn vector(t: &str) -> Vec<f32> {
    vec![
        t.len() as f32,
        f32::from(t.as_bytes().first().copied().unwrap_or(0)),
    ]
}

#[tokio::test]
async fn a_repeated_chat_is_served_from_the_cache_at_no_cost() {
    let cache = memory();
    let up = Upstream::default();
    let req = request("hi");
    let first = cache.chat("g", &req, || up.chat("Hello!")).await.unwrap();
    assert!(!first.meta.cache_hit);
    assert_eq!(first.meta.cost, Some(0.0042));
    let second = cache.chat("g", &req, || up.chat("other")).await.unwrap();
    assert_eq!(up.count(), 1);
    assert_eq!(second.text(), Some("Hello!"));
    assert!(second.meta.cache_hit);
    assert_eq!(second.meta.cost, Some(0.0));
    assert_eq!(second.meta.attempts, 0);
    assert_eq!(second.meta.provider, "openai");
    assert_eq!(second.meta.model, "gpt-4o-mini");
    assert_eq!(second.meta.request_id, None);
    assert_eq!(without_meta(second), without_meta(first));
    // Same request streamed-or-not and for another end user: same entry. Another group: not.
    let again = req.clone().stream(true).user("u2");
    assert!(is_hit(&cache, "g", &again, &up, "x").await);
    // A call with its own key is scoped by it (CacheScope::Auto): its own entry.
    let keyed = req.clone().api_key("sk-2");
    assert!(!is_hit(&cache, "g", &keyed, &up, "x").await);
    assert!(!is_hit(&cache, "g2", &req, &up, "x").await);
    assert_eq!(up.count(), 3);
    let s = cache.stats().unwrap();
    assert_eq!((s.hits, s.misses), (2, 3));
}

#[tokio::test]
async fn per_call_controls() {
    let cache = memory();
    let up = Upstream::default();
    let req = request("hi");
    cache.chat("g", &req, || up.chat("v1")).await.unwrap();

    // no_cache: skips the read, stores the fresh answer.
    let fresh = req.clone().no_cache(true);
    let r = cache.chat("g", &fresh, || up.chat("v2")).await.unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("v2"), false));
    let r = cache.chat("g", &req, || up.chat("v3")).await.unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("v2"), true));

    // no_store: reads, but a fresh answer is not written.
    let other = request("other").no_store(true);
    cache.chat("g", &other, || up.chat("w1")).await.unwrap();
    let r = cache
        .chat("g", &request("other"), || up.chat("w2"))
        .await
        .unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("w2"), false));
    let r = cache.chat("g", &other, || up.chat("w3")).await.unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("w2"), true));

    // Both: the cache is not touched at all.
    let before = cache.stats().unwrap();
    let bypass = request("other").no_cache(true).no_store(true);
    assert_eq!(cache.chat_key("g", &bypass), None);
    let r = cache.chat("g", &bypass, || up.chat("z")).await.unwrap();
    assert_eq!(r.text(), Some("z"));
    assert_eq!(cache.stats().unwrap(), before);

    // A namespace separates entries.
    let ns = req.clone().cache_namespace("tenant-b");
    let r = cache.chat("g", &ns, || up.chat("ns")).await.unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("ns"), false));
    let r = cache.chat("g", &ns, || up.chat("x")).await.unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("ns"), true));

    // A zero TTL stores nothing.
    let zero = request("zero").cache_ttl(Duration::ZERO);
    cache.chat("g", &zero, || up.chat("a")).await.unwrap();
    assert!(!is_hit(&cache, "g", &zero, &up, "b").await);
}

#[tokio::test(start_paused = true)]
async fn ttl_per_call_and_default_expire_on_paused_time() {
    let cache = ResponseCache::new(CacheConfig::memory().default_ttl(Duration::from_secs(120)));
    let up = Upstream::default();
    let short = request("short").cache_ttl(Duration::from_secs(10));
    let long = request("long");
    cache.chat("g", &short, || up.chat("s")).await.unwrap();
    cache.chat("g", &long, || up.chat("l")).await.unwrap();
    tokio::time::advance(Duration::from_secs(9)).await;
    assert!(is_hit(&cache, "g", &short, &up, "s").await);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(!is_hit(&cache, "g", &short, &up, "s").await);
    assert!(is_hit(&cache, "g", &long, &up, "l").await);
    tokio::time::advance(Duration::from_secs(110)).await;
    assert!(!is_hit(&cache, "g", &long, &up, "l").await);
}

#[tokio::test]
async fn call_types_can_be_switched_off_and_then_the_backend_is_not_touched() {
    let backend = Arc::new(CountingBackend::default());
    let cache = ResponseCache::new(CacheConfig::shared(backend.clone()).calls(CachedCalls::none()));
    let up = Upstream::default();
    for _ in 0..3 {
        cache
            .chat("g", &request("hi"), || up.chat("a"))
            .await
            .unwrap();
    }
    let emb = EmbeddingRequest::new("e", vec!["a"]);
    cache
        .embed("e", &emb, |r| {
            let up = up.clone();
            async move { up.embed(&r).await }
        })
        .await
        .unwrap();
    assert_eq!(up.count(), 4);
    assert_eq!(backend.touched.load(Ordering::SeqCst), 0);
    assert_eq!(cache.chat_key("g", &request("hi")), None);
}

#[tokio::test]
async fn errors_and_empty_answers_are_not_cached() {
    let cache = memory();
    let up = Upstream::default();
    let req = request("hi");
    assert!(cache.chat("g", &req, || up.failing()).await.is_err());
    let r = cache.chat("g", &req, || up.chat("ok")).await.unwrap();
    assert!(!r.meta.cache_hit);
    assert_eq!(up.count(), 2);
    let empty = request("empty");
    cache
        .chat("g", &empty, || async { Ok(ChatResponse::default()) })
        .await
        .unwrap();
    let r = cache.chat("g", &empty, || up.chat("x")).await.unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("x"), false));
}

/// A backend that fails every call; and one that counts its calls.
#[derive(Default)]
struct CountingBackend {
    touched: AtomicUsize,
    fail: bool,
}

#[async_trait]
impl Cache for CountingBackend {
    async fn get(&self, _key: &CacheKey) -> Result<Option<CachedAnswer>> {
        self.touched.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(Error::new(ErrorKind::ApiConnection, "cache down"));
        }
        Ok(None)
    }
    async fn set(&self, _key: &CacheKey, _v: CachedAnswer, _ttl: Option<Duration>) -> Result<()> {
        self.touched.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(Error::new(ErrorKind::ApiConnection, "cache down"));
        }
        Ok(())
    }
    async fn remove(&self, _key: &CacheKey) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_backend_never_fails_a_call() {
    let backend = Arc::new(CountingBackend {
        fail: true,
        ..Default::default()
    });
    let cache = ResponseCache::new(CacheConfig::shared(backend.clone()));
    let up = Upstream::default();
    let r = cache
        .chat("g", &request("hi"), || up.chat("a"))
        .await
        .unwrap();
    assert_eq!(r.text(), Some("a"));
    let s = cache
        .chat_stream("g", &request("hi"), || up.stream(chat_answer("b")))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(s.text(), Some("b"));
    let e = cache
        .embed("e", &EmbeddingRequest::new("e", vec!["a", "b"]), |r| {
            let up = up.clone();
            async move { up.embed(&r).await }
        })
        .await
        .unwrap();
    assert_eq!(e.data.len(), 2);
    assert!(backend.touched.load(Ordering::SeqCst) >= 6);
}

#[tokio::test]
async fn concurrent_identical_calls_are_coalesced() {
    let cache = Arc::new(memory());
    let up = Upstream::default();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (cache, up) = (Arc::clone(&cache), up.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .chat("g", &request("hi"), || up.slow_chat("shared"))
                .await
        }));
    }
    let mut hits = 0;
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.text(), Some("shared"));
        hits += usize::from(r.meta.cache_hit);
    }
    assert_eq!(up.count(), 1);
    assert_eq!(hits, 19);
    assert_eq!(cache.coalesced(), 19);

    // Without coalescing every concurrent miss goes upstream.
    let cache = Arc::new(ResponseCache::new(CacheConfig::memory().coalesce(false)));
    let up = Upstream::default();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (cache, up) = (Arc::clone(&cache), up.clone());
            tokio::spawn(async move { cache.chat("g", &request("hi"), || up.slow_chat("x")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(up.count(), 5);
}

#[tokio::test]
async fn a_shared_error_is_not_cached() {
    let cache = Arc::new(memory());
    let up = Upstream::default();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (cache, up) = (Arc::clone(&cache), up.clone());
            tokio::spawn(async move { cache.chat("g", &request("hi"), || up.failing()).await })
        })
        .collect();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(e.status(), Some(503));
    }
    assert_eq!(up.count(), 1);
    let r = cache
        .chat("g", &request("hi"), || up.chat("ok"))
        .await
        .unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("ok"), false));
}

#[tokio::test]
async fn a_cancelled_leader_does_not_strand_its_followers() {
    let cache = Arc::new(memory());
    let up = Upstream::default();
    let leader = {
        let (cache, up) = (Arc::clone(&cache), up.clone());
        tokio::spawn(async move {
            cache
                .chat("g", &request("hi"), || async move {
                    up.calls.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<Result<ChatResponse>>().await
                })
                .await
        })
    };
    while up.count() == 0 {
        tokio::task::yield_now().await;
    }
    let follower = {
        let (cache, up) = (Arc::clone(&cache), up.clone());
        tokio::spawn(async move { cache.chat("g", &request("hi"), || up.chat("mine")).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!follower.is_finished());
    leader.abort();
    let r = tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .expect("the follower must not hang")
        .unwrap()
        .unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("mine"), false));
    assert_eq!(up.count(), 2);
}

fn rich_answer() -> ChatResponse {
    let mut resp = chat_answer("");
    resp.choices = vec![
        Choice {
            index: 0,
            message: Message {
                content: Some("Let me check.".into()),
                tool_calls: Some(vec![
                    ToolCall::function("call_1", "get_weather", r#"{"city":"Paris"}"#),
                    ToolCall::function("call_2", "get_time", r#"{"tz":"CET"}"#),
                ]),
                reasoning_content: Some("The user wants weather and time.".into()),
                ..Message::assistant("")
            },
            finish_reason: Some(FinishReason::ToolCalls),
            logprobs: None,
            extra: Default::default(),
        },
        Choice {
            index: 1,
            message: Message::assistant("Second choice"),
            finish_reason: Some(FinishReason::Length),
            logprobs: None,
            extra: Default::default(),
        },
    ];
    let mut usage = Usage::new(120, 45);
    usage.prompt_tokens_details = Some(crate::types::PromptTokensDetails {
        cached_tokens: Some(100),
        ..Default::default()
    });
    usage.completion_tokens_details = Some(crate::types::CompletionTokensDetails {
        reasoning_tokens: Some(20),
        ..Default::default()
    });
    resp.usage = Some(usage);
    resp
}

#[tokio::test]
async fn a_stream_is_stored_at_its_end_and_replayed_as_a_stream() {
    let cache = memory();
    let up = Upstream::default();
    let original = rich_answer();
    let req = request("weather?").stream(true);

    let live = cache
        .chat_stream("g", &req, || up.stream(original.clone()))
        .await
        .unwrap();
    assert!(!live.meta().cache_hit);
    let streamed = live.collect_response().await.unwrap();
    assert_eq!(
        without_meta(streamed.clone()),
        without_meta(original.clone())
    );

    // Replayed as a stream: the same chunks a vendor would send, rebuilding the same answer.
    let replay = cache
        .chat_stream("g", &req, || up.stream(chat_answer("never")))
        .await
        .unwrap();
    assert!(replay.meta().cache_hit);
    assert_eq!(replay.meta().cost, Some(0.0));
    let replayed = replay.collect_response().await.unwrap();
    assert!(replayed.meta.cache_hit);
    assert_eq!(without_meta(replayed), without_meta(original.clone()));

    // A plain call finds the streamed answer too.
    let plain = cache
        .chat("g", &request("weather?"), || up.chat("never"))
        .await
        .unwrap();
    assert!(plain.meta.cache_hit);
    assert_eq!(without_meta(plain), without_meta(original));
    assert_eq!(up.count(), 1);
}

#[tokio::test]
async fn a_cached_plain_answer_is_replayed_to_a_stream_request() {
    let cache = memory();
    let up = Upstream::default();
    let original = rich_answer();
    let stored = {
        let o = original.clone();
        cache
            .chat("g", &request("q"), || async move { Ok(o) })
            .await
            .unwrap()
    };
    let chunks: Vec<_> = cache
        .chat_stream("g", &request("q").stream(true), || {
            up.stream(chat_answer("x"))
        })
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(up.count(), 0);
    let mut acc = crate::types::ChunkAccumulator::new();
    for c in &chunks {
        acc.push(c.as_ref().unwrap());
    }
    assert_eq!(acc.finish(), without_meta(stored));
    // The last chunk carries the usage, with cached and reasoning tokens.
    let last = chunks.last().unwrap().as_ref().unwrap();
    assert_eq!(last.usage.as_ref().unwrap().cached_tokens(), 100);
    assert_eq!(last.usage.as_ref().unwrap().reasoning_tokens(), 20);
}

/// A stream fed by a channel, to see when chunks come out.
fn channel_stream() -> (
    tokio::sync::mpsc::UnboundedSender<Result<ChatChunk>>,
    ChatStream,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let inner = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut meta = ResponseMeta::new("openai", "gpt-4o-mini");
    meta.request_id = Some("req".into());
    (tx, ChatStream::new(inner, meta))
}

fn text_chunk(text: &str, finish: Option<FinishReason>) -> ChatChunk {
    ChatChunk {
        id: "c1".into(),
        object: "chat.completion.chunk".into(),
        model: "m".into(),
        choices: vec![crate::types::ChunkChoice {
            index: 0,
            delta: crate::types::Delta {
                content: Some(text.into()),
                ..Default::default()
            },
            finish_reason: finish,
            ..Default::default()
        }],
        ..Default::default()
    }
}

use crate::types::ChatChunk;

#[tokio::test]
async fn stream_chunks_pass_through_as_they_arrive() {
    let cache = Arc::new(MemoryCache::new());
    let key = CacheKey::from_string("chat:live");
    let (tx, live) = channel_stream();
    let mut s = store_stream(live, cache.clone(), key.clone(), None, Instant::now());
    tx.send(Ok(text_chunk("Hel", None))).unwrap();
    // The first chunk comes out before the second one exists.
    let first = tokio::time::timeout(Duration::from_secs(1), s.next())
        .await
        .expect("a chunk is not held back")
        .unwrap()
        .unwrap();
    assert_eq!(first.text(), Some("Hel"));
    let pending = tokio::time::timeout(Duration::from_millis(20), s.next()).await;
    assert!(pending.is_err(), "nothing is yielded before it arrives");
    tx.send(Ok(text_chunk("lo", Some(FinishReason::Stop))))
        .unwrap();
    assert_eq!(s.next().await.unwrap().unwrap().text(), Some("lo"));
    assert!(
        cache.get(&key).await.unwrap().is_none(),
        "stored only at the end"
    );
    drop(tx);
    assert!(s.next().await.is_none());
    let Some(CachedAnswer::Chat(stored)) = cache.get(&key).await.unwrap() else {
        panic!("the finished stream is stored");
    };
    assert_eq!(stored.text(), Some("Hello"));
    assert_eq!(stored.meta.provider, "openai");
    assert_eq!(stored.meta.request_id, None);
}

#[tokio::test]
async fn failed_or_abandoned_streams_are_not_stored() {
    let cache = memory();
    let req = request("s");
    // Fails in the middle.
    let (tx, live) = channel_stream();
    let mut live = Some(live);
    let mut s = cache
        .chat_stream("g", &req, || async { Ok(live.take().unwrap()) })
        .await
        .unwrap();
    tx.send(Ok(text_chunk("Hel", None))).unwrap();
    tx.send(Err(Error::new(ErrorKind::ApiConnection, "cut off")))
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    assert!(s.next().await.unwrap().is_err());
    assert!(s.next().await.is_none());
    assert_eq!(cache.chat_flights.in_flight(), 0);
    // Dropped before its end.
    let (tx, live) = channel_stream();
    let mut live = Some(live);
    let mut s = cache
        .chat_stream("g", &req, || async { Ok(live.take().unwrap()) })
        .await
        .unwrap();
    assert_eq!(cache.chat_flights.in_flight(), 1);
    tx.send(Ok(text_chunk("Hel", None))).unwrap();
    assert!(s.next().await.unwrap().is_ok());
    drop(s);
    assert_eq!(cache.chat_flights.in_flight(), 0);
    let up = Upstream::default();
    let r = cache.chat("g", &req, || up.chat("fresh")).await.unwrap();
    assert!(!r.meta.cache_hit);
    assert_eq!(up.count(), 1);
}

#[tokio::test]
async fn a_plain_call_waits_for_an_identical_stream_in_flight() {
    let cache = Arc::new(memory());
    let up = Upstream::default();
    let (tx, live) = channel_stream();
    let mut live = Some(live);
    let mut stream = cache
        .chat_stream("g", &request("q"), || async { Ok(live.take().unwrap()) })
        .await
        .unwrap();
    let follower = {
        let (cache, up) = (Arc::clone(&cache), up.clone());
        tokio::spawn(async move { cache.chat("g", &request("q"), || up.chat("own")).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!follower.is_finished());
    tx.send(Ok(text_chunk("Hi", Some(FinishReason::Stop))))
        .unwrap();
    drop(tx);
    while stream.next().await.is_some() {}
    let r = follower.await.unwrap().unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("Hi"), true));
    assert_eq!(up.count(), 0);
}

#[tokio::test]
async fn embeddings_are_cached_per_input() {
    let cache = memory();
    let up = Upstream::default();
    let sent: Arc<std::sync::Mutex<Vec<Vec<String>>>> = Arc::default();
    let cache = &cache;
    let call = |req: &EmbeddingRequest| {
        let (up, sent) = (up.clone(), Arc::clone(&sent));
        let req = req.clone();
        async move {
            cache
                .embed("emb", &req, |r| async move {
                    sent.lock().unwrap().push(
                        r.input
                            .texts()
                            .unwrap()
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                    );
                    up.embed(&r).await
                })
                .await
        }
    };
    let first = call(&EmbeddingRequest::new("emb", vec!["alpha", "beta"]))
        .await
        .unwrap();
    assert_eq!(
        first.vectors(),
        vec![&vector("alpha")[..], &vector("beta")[..]]
    );
    assert_eq!(first.usage.prompt_tokens, 2);

    // Some cached: only the rest is sent, and the answer is merged back in input order.
    let mixed = call(&EmbeddingRequest::new(
        "emb",
        vec!["beta", "gamma", "alpha", "delta", "gamma"],
    ))
    .await
    .unwrap();
    assert_eq!(
        sent.lock().unwrap().last().unwrap(),
        &vec!["gamma", "delta"]
    );
    let expected: Vec<Vec<f32>> = ["beta", "gamma", "alpha", "delta", "gamma"]
        .iter()
        .map(|t| vector(t))
        .collect();
    assert_eq!(
        mixed
            .data
            .iter()
            .map(|e| e.embedding.clone())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        mixed.data.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert!(mixed.data.iter().all(|e| e.object == "embedding"));
    assert_eq!(
        mixed.usage.prompt_tokens, 2,
        "usage counts only the inputs sent"
    );
    assert!(!mixed.meta.cache_hit);
    assert_eq!(mixed.model, "text-embedding-3-small");

    // All cached: no upstream call, a hit at no cost.
    let calls = up.count();
    let all = call(&EmbeddingRequest::new("emb", "delta")).await.unwrap();
    assert_eq!(up.count(), calls);
    assert_eq!(all.vectors(), vec![&vector("delta")[..]]);
    assert!(all.meta.cache_hit);
    assert_eq!(all.meta.cost, Some(0.0));
    assert_eq!(all.meta.provider, "openai");
    assert_eq!(all.usage.prompt_tokens, 0);
    assert_eq!(all.model, "text-embedding-3-small");
    assert_eq!(sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn embedding_plan_shapes_and_mismatched_answers() {
    let cache = memory();
    let store = |texts: Vec<&'static str>| {
        let cache = &cache;
        async move {
            let req = EmbeddingRequest::new("emb", texts);
            cache
                .embed("emb", &req, |r| async move {
                    Upstream::default().embed(&r).await
                })
                .await
                .unwrap()
        }
    };
    store(vec!["a"]).await;
    // A plan for ["a", "b"]: "a" cached, "b" sent in a Texts request.
    let req = EmbeddingRequest::new("emb", vec!["a", "b"]).dimensions(2);
    assert!(
        cache
            .plan_embedding("emb", &req)
            .await
            .unwrap()
            .cached_count()
            == 0
    );
    let req = EmbeddingRequest::new("emb", vec!["a", "b"]);
    let plan = cache.plan_embedding("emb", &req).await.unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(plan.cached_count(), 1);
    assert_eq!(plan.cached().map(|(i, _)| i).collect::<Vec<_>>(), vec![0]);
    assert_eq!(plan.missing(), &[1]);
    let up = plan.upstream_request(&req).unwrap();
    assert_eq!(up.input, EmbeddingInput::Texts(vec!["b".into()]));
    // An answer with the wrong number of vectors cannot be merged.
    let bad = EmbeddingResponse {
        data: vec![Embedding::default(), Embedding::default()],
        ..Default::default()
    };
    let err = plan
        .finish(&cache, &req.options.cache, Some(bad))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    // With nothing cached it is returned as it came, and not stored.
    let fresh = EmbeddingRequest::new("emb", vec!["x", "y"]);
    let plan = cache.plan_embedding("emb", &fresh).await.unwrap();
    assert!(matches!(
        plan.upstream_request(&fresh),
        Some(Cow::Borrowed(_))
    ));
    let odd = EmbeddingResponse {
        data: vec![Embedding::default()],
        ..Default::default()
    };
    let r = plan
        .finish(&cache, &fresh.options.cache, Some(odd))
        .await
        .unwrap();
    assert_eq!(r.data.len(), 1);
    let plan = cache.plan_embedding("emb", &fresh).await.unwrap();
    assert_eq!(plan.cached_count(), 0);
    // Token batches keep their shape; no input at all bypasses the cache.
    let tokens = EmbeddingRequest::new("emb", vec![vec![1u32], vec![2]]);
    let plan = cache.plan_embedding("emb", &tokens).await.unwrap();
    assert!(matches!(
        plan.upstream_request(&tokens),
        Some(Cow::Borrowed(_))
    ));
    let none = EmbeddingRequest::new("emb", Vec::<String>::new());
    assert!(cache.plan_embedding("emb", &none).await.is_none());
    // no_cache: nothing read, everything sent, the answer stored.
    let nc = EmbeddingRequest::new("emb", vec!["a"]).no_cache(true);
    let plan = cache.plan_embedding("emb", &nc).await.unwrap();
    assert_eq!(plan.cached_count(), 0);
}

#[tokio::test]
async fn identical_embedding_batches_are_coalesced() {
    let cache = Arc::new(memory());
    let up = Upstream::default();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (cache, up) = (Arc::clone(&cache), up.clone());
            tokio::spawn(async move {
                let req = EmbeddingRequest::new("emb", vec!["p", "q"]);
                cache
                    .embed("emb", &req, |r| async move {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        up.embed(&r).await
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.vectors(), vec![&vector("p")[..], &vector("q")[..]]);
    }
    assert_eq!(up.count(), 1);
}

#[tokio::test]
async fn text_completions_are_cached() {
    let cache = memory();
    let calls = AtomicUsize::new(0);
    let req = TextCompletionRequest::new("instruct", "Say this is a test").max_tokens(7);
    let answer = || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(TextCompletionResponse {
            id: "cmpl-1".into(),
            object: "text_completion".into(),
            choices: vec![TextChoice {
                text: "This is a test".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
    };
    cache
        .text_completion("instruct", &req, answer)
        .await
        .unwrap();
    let r = cache
        .text_completion("instruct", &req, answer)
        .await
        .unwrap();
    assert_eq!((r.text(), r.meta.cache_hit), (Some("This is a test"), true));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let off = ResponseCache::new(CacheConfig::memory().text(false));
    off.text_completion("instruct", &req, answer).await.unwrap();
    off.text_completion("instruct", &req, answer).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn cached_answers_round_trip_through_bytes() {
    let mut chat = rich_answer();
    chat.meta.deployment_id = Some("dep-1".into());
    chat.meta.model_group = Some("gpt".into());
    let answers = [
        CachedAnswer::chat(chat),
        CachedAnswer::text(TextCompletionResponse {
            id: "t".into(),
            choices: vec![TextChoice {
                text: "x".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        CachedAnswer::embedding(CachedEmbedding::new(
            vec![
                0.1,
                -0.0,
                f32::MIN_POSITIVE,
                1e-45,
                f32::MAX,
                3.4028235e38,
                -7.25,
            ],
            "text-embedding-3-small",
        )),
    ];
    for a in answers {
        let bytes = a.to_bytes();
        let back = CachedAnswer::from_bytes(&bytes).unwrap();
        assert_eq!(back, a);
        if let (CachedAnswer::Embedding(x), CachedAnswer::Embedding(y)) = (&a, &back) {
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x.embedding), bits(&y.embedding), "vectors are exact");
        }
        assert!(a.size_bytes() > 0);
    }
    assert_eq!(
        CachedAnswer::from_bytes(b"{\"v\":2,\"type\":\"chat\",\"body\":{}}")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidResponse
    );
    assert!(CachedAnswer::from_bytes(b"\xff not json").is_err());
    assert!(
        CachedAnswer::from_bytes(b"{\"v\":1,\"type\":\"embedding\",\"vector\":\"@@\"}").is_err()
    );
}
