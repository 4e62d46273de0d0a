//! [`MemoryCache`]: the in-process cache backend, on moka.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use moka::policy::EvictionPolicy;
use tokio::time::Instant;

use super::{Cache, CacheKey, CacheStats, CachedAnswer};
use crate::error::Result;

/// Default time an entry is kept: 10 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// Default maximum number of entries: 10,000.
pub const DEFAULT_MAX_ENTRIES: u64 = 10_000;
/// Default maximum size of all entries: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
struct Entry {
    value: CachedAnswer,
    ttl: Duration,
    /// Deadline on the tokio clock (`None`: too far away to represent).
    expires_at: Option<Instant>,
    weight: u32,
}

/// Tells moka each entry's own TTL (its wall-clock eviction; reads check `expires_at`).
struct PerEntryTtl;

impl Expiry<CacheKey, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &CacheKey,
        value: &Entry,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// An in-memory cache bounded by entries **and** bytes, with a default TTL and a TTL per entry.
///
/// - **Bounds.** Each entry weighs its approximate size in bytes
///   ([`CachedAnswer::size_bytes`]) but at least `max_bytes / max_entries`, and the total weight
///   is capped at `max_bytes`; so neither more than `max_entries` entries nor more than
///   `max_bytes` bytes are kept. Past a bound the least recently used entries are evicted (moka
///   evicts in the background: bounds may be exceeded briefly). An answer larger than
///   `max_bytes` is not stored.
/// - **TTL.** An entry lives for the TTL given to [`Cache::set`], or the default
///   ([`DEFAULT_TTL`], 10 minutes). Expiry is checked on read against the tokio clock
///   ([`tokio::time::Instant`], the same as `std::time::Instant` unless tokio's time is paused
///   in a test), and moka evicts expired entries on the wall clock to free memory.
/// - **Counts.** Hits and misses are counted ([`Cache::stats`]).
///
/// Cloning is cheap and shares the entries.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
/// use litellm::cache::{Cache, CacheKey, CachedAnswer, MemoryCache};
/// use litellm::ChatResponse;
/// use std::time::Duration;
///
/// let cache = MemoryCache::builder()
///     .max_entries(1_000)
///     .max_bytes(16 * 1024 * 1024)
///     .default_ttl(Duration::from_secs(300))
///     .build();
/// let key = CacheKey::from_string("chat:example");
/// cache.set(&key, CachedAnswer::chat(ChatResponse::default()), None).await?;
/// assert!(cache.get(&key).await?.is_some());
/// assert_eq!(cache.stats().unwrap().hits, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryCache {
    inner: Moka<CacheKey, Entry>,
    default_ttl: Duration,
    max_bytes: u64,
    max_entries: u64,
    min_weight: u32,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("default_ttl", &self.default_ttl)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

/// Settings of a [`MemoryCache`].
#[derive(Clone, Debug)]
pub struct MemoryCacheBuilder {
    max_entries: u64,
    max_bytes: u64,
    default_ttl: Duration,
}

impl Default for MemoryCacheBuilder {
    fn default() -> Self {
        MemoryCacheBuilder {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
            default_ttl: DEFAULT_TTL,
        }
    }
}

impl MemoryCacheBuilder {
    /// Keep at most this many entries (default 10,000; at least 1).
    #[must_use = "builder methods return the changed builder; use it"]
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = n.max(1);
        self
    }

    /// Keep at most this many bytes of answers (default 64 MiB; at least 1).
    #[must_use = "builder methods return the changed builder; use it"]
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// TTL of entries stored without one (default 10 minutes).
    #[must_use = "builder methods return the changed builder; use it"]
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// The cache.
    pub fn build(self) -> MemoryCache {
        let min_weight = u32::try_from(self.max_bytes / self.max_entries)
            .unwrap_or(u32::MAX)
            .max(1);
        let inner = Moka::builder()
            .max_capacity(self.max_bytes)
            .weigher(|_k: &CacheKey, e: &Entry| e.weight)
            .expire_after(PerEntryTtl)
            .eviction_policy(EvictionPolicy::lru())
            .build();
        MemoryCache {
            inner,
            default_ttl: self.default_ttl,
            max_bytes: self.max_bytes,
            max_entries: self.max_entries,
            min_weight,
            counts: Arc::default(),
        }
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new()
    }
}

impl MemoryCache {
    /// A cache with the defaults: 10,000 entries, 64 MiB, TTL 10 minutes.
    pub fn new() -> MemoryCache {
        MemoryCacheBuilder::default().build()
    }

    /// Settings for a cache.
    pub fn builder() -> MemoryCacheBuilder {
        MemoryCacheBuilder::default()
    }

    /// The TTL of entries stored without one.
    pub fn default_ttl(&self) -> Duration {
        self.default_ttl
    }

    /// Runs moka's pending maintenance now (evictions, expirations), so that
    /// [`stats`](Cache::stats) is exact. Moka otherwise does it in small steps on later calls.
    pub async fn run_pending_tasks(&self) {
        self.inner.run_pending_tasks().await;
    }

    fn weight_of(&self, value: &CachedAnswer, key: &CacheKey) -> u64 {
        let size = value
            .size_bytes()
            .saturating_add(key.as_str().len())
            .saturating_add(64);
        (size as u64).max(u64::from(self.min_weight))
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<CachedAnswer>> {
        let found = self.inner.get(key).await;
        let live = match found {
            Some(e) if e.expires_at.is_none_or(|at| Instant::now() < at) => Some(e.value),
            Some(_) => {
                self.inner.invalidate(key).await;
                None
            }
            None => None,
        };
        let counter = if live.is_some() {
            &self.counts.hits
        } else {
            &self.counts.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(live)
    }

    async fn set(&self, key: &CacheKey, value: CachedAnswer, ttl: Option<Duration>) -> Result<()> {
        let ttl = ttl.unwrap_or(self.default_ttl);
        let weight = self.weight_of(&value, key);
        if ttl.is_zero() || weight > self.max_bytes {
            self.inner.invalidate(key).await;
            return Ok(());
        }
        let entry = Entry {
            value,
            ttl,
            expires_at: Instant::now().checked_add(ttl),
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
        };
        self.inner.insert(key.clone(), entry).await;
        Ok(())
    }

    async fn remove(&self, key: &CacheKey) -> Result<()> {
        self.inner.invalidate(key).await;
        Ok(())
    }

    fn stats(&self) -> Option<CacheStats> {
        Some(CacheStats {
            hits: self.counts.hits.load(Ordering::Relaxed),
            misses: self.counts.misses.load(Ordering::Relaxed),
            entries: self.inner.entry_count(),
            weighted_bytes: self.inner.weighted_size(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChatResponse, Choice, Message};

    fn answer(text: &str) -> CachedAnswer {
        CachedAnswer::chat(ChatResponse {
            id: "c".into(),
            object: "chat.completion".into(),
            choices: vec![Choice {
                index: 0,
                message: Message::assistant(text),
                finish_reason: None,
                logprobs: None,
                extra: Default::default(),
            }],
            ..Default::default()
        })
    }

    fn k(s: &str) -> CacheKey {
        CacheKey::from_string(s)
    }

    fn text_of(a: Option<CachedAnswer>) -> Option<String> {
        match a? {
            CachedAnswer::Chat(r) => r.text().map(str::to_owned),
            _ => None,
        }
    }

    /// Expiry follows the tokio clock, so paused time drives it. Moka's own clock is the wall
    /// clock and cannot be paused: it only frees memory, and the TTLs used here are far longer
    /// than the test runs in real time.
    #[tokio::test(start_paused = true)]
    async fn default_and_per_entry_ttl_expire_on_paused_time() {
        let cache = MemoryCache::builder()
            .default_ttl(Duration::from_secs(600))
            .build();
        cache.set(&k("a"), answer("A"), None).await.unwrap();
        cache
            .set(&k("b"), answer("B"), Some(Duration::from_secs(30)))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(
            text_of(cache.get(&k("b")).await.unwrap()).as_deref(),
            Some("B")
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(text_of(cache.get(&k("b")).await.unwrap()), None);
        assert_eq!(
            text_of(cache.get(&k("a")).await.unwrap()).as_deref(),
            Some("A")
        );
        tokio::time::advance(Duration::from_secs(570)).await;
        assert_eq!(text_of(cache.get(&k("a")).await.unwrap()), None);
        let s = cache.stats().unwrap();
        assert_eq!((s.hits, s.misses), (2, 2));
        // A second write resets the TTL.
        cache
            .set(&k("a"), answer("A2"), Some(Duration::from_secs(5)))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(
            text_of(cache.get(&k("a")).await.unwrap()).as_deref(),
            Some("A2")
        );
    }

    #[tokio::test]
    async fn moka_evicts_on_the_wall_clock_too() {
        let cache = MemoryCache::new();
        cache
            .set(&k("short"), answer("x"), Some(Duration::from_millis(30)))
            .await
            .unwrap();
        cache.set(&k("long"), answer("y"), None).await.unwrap();
        // Moka's timer wheel has a granularity of about a second.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            cache.run_pending_tasks().await;
            if cache.stats().unwrap().entries == 1 || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            cache.stats().unwrap().entries,
            1,
            "the expired entry is freed"
        );
        assert!(cache.get(&k("short")).await.unwrap().is_none());
        assert!(cache.get(&k("long")).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn zero_ttl_and_huge_ttl() {
        let cache = MemoryCache::new();
        cache
            .set(&k("z"), answer("x"), Some(Duration::ZERO))
            .await
            .unwrap();
        assert!(cache.get(&k("z")).await.unwrap().is_none());
        cache
            .set(&k("m"), answer("x"), Some(Duration::MAX))
            .await
            .unwrap();
        assert!(cache.get(&k("m")).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn byte_bound_evicts_least_recently_used() {
        let text = "x".repeat(1000);
        let one = answer(&text).size_bytes() as u64 + 200;
        // Room for three such answers by bytes; the entry bound (1,000) is not the limit.
        let cache = MemoryCache::builder()
            .max_bytes(one * 3)
            .max_entries(1000)
            .build();
        for i in 0..3 {
            cache
                .set(&k(&format!("k{i}")), answer(&text), None)
                .await
                .unwrap();
        }
        cache.run_pending_tasks().await;
        assert_eq!(cache.stats().unwrap().entries, 3);
        // Touch k0 so that k1 is the least recently used.
        assert!(cache.get(&k("k0")).await.unwrap().is_some());
        cache.set(&k("k3"), answer(&text), None).await.unwrap();
        cache.run_pending_tasks().await;
        let s = cache.stats().unwrap();
        assert_eq!(s.entries, 3);
        assert!(s.weighted_bytes <= one * 3);
        assert!(cache.get(&k("k1")).await.unwrap().is_none());
        for key in ["k0", "k2", "k3"] {
            assert!(cache.get(&k(key)).await.unwrap().is_some(), "{key} kept");
        }
        // An answer larger than the whole cache is not stored.
        let huge = "y".repeat((one * 4) as usize);
        cache.set(&k("huge"), answer(&huge), None).await.unwrap();
        assert!(cache.get(&k("huge")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn entry_bound_holds_for_small_answers() {
        let cache = MemoryCache::builder()
            .max_entries(5)
            .max_bytes(1 << 30)
            .build();
        for i in 0..20 {
            cache
                .set(&k(&format!("k{i}")), answer("tiny"), None)
                .await
                .unwrap();
            cache.run_pending_tasks().await;
        }
        assert_eq!(cache.stats().unwrap().entries, 5);
        assert!(cache.get(&k("k19")).await.unwrap().is_some());
        assert!(cache.get(&k("k0")).await.unwrap().is_none());
    }
}
