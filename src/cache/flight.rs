//! Single flight: concurrent identical requests share one upstream call.
//!
//! The first caller of a key becomes the [`Leader`] and makes the call; callers that arrive while
//! it runs become [`Follower`]s and receive a clone of its result, error included. A leader that
//! is dropped without a result (its task was cancelled, its stream dropped) releases the key and
//! wakes its followers with `None`, so each of them can try again (one becomes the new leader):
//! nobody waits forever for a leader that is gone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use super::key::CacheKey;
use crate::error::{Error, Result};

type Outcome<T> = std::result::Result<T, Arc<Error>>;
type Slot<T> = watch::Receiver<Option<Outcome<T>>>;
type Map<T> = Mutex<HashMap<CacheKey, (u64, Slot<T>)>>;

/// The calls in flight, by key. `T` is the shared result (cheap to clone, e.g. an `Arc`).
pub(crate) struct SingleFlight<T> {
    map: Arc<Map<T>>,
    next_id: AtomicU64,
}

impl<T> std::fmt::Debug for SingleFlight<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight")
            .field("in_flight", &lock(&self.map).len())
            .finish()
    }
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight {
            map: Arc::new(Mutex::new(HashMap::new())),
            next_id: AtomicU64::new(0),
        }
    }
}

fn lock<T>(map: &Map<T>) -> MutexGuard<'_, HashMap<CacheKey, (u64, Slot<T>)>> {
    // No code panics while holding the lock; a poisoned map is still consistent.
    map.lock().unwrap_or_else(|e| e.into_inner())
}

/// What [`SingleFlight::join`] made of the caller.
#[derive(Debug)]
pub(crate) enum Join<T> {
    /// Nobody is making this call: the caller makes it and must report the result.
    Leader(Leader<T>),
    /// The same call is in flight: wait for its result.
    Follower(Follower<T>),
}

impl<T: Clone + Send + Sync + 'static> SingleFlight<T> {
    /// No calls in flight.
    pub(crate) fn new() -> SingleFlight<T> {
        SingleFlight::default()
    }

    /// Joins the call for `key`: leads it when nobody does, follows it otherwise.
    pub(crate) fn join(&self, key: &CacheKey) -> Join<T> {
        let mut map = lock(&self.map);
        if let Some((_, rx)) = map.get(key) {
            // A leader whose sender is gone has been dropped; its Drop removes the entry, but
            // take over right away rather than follow a dead call.
            if rx.has_changed().is_ok() {
                return Join::Follower(Follower { rx: rx.clone() });
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        map.insert(key.clone(), (id, rx));
        Join::Leader(Leader {
            key: key.clone(),
            id,
            tx,
            map: Arc::clone(&self.map),
            done: false,
        })
    }

    /// Number of calls in flight.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        lock(&self.map).len()
    }

    /// Runs `fetch` once for all concurrent callers of `key`: the leader's result is returned
    /// to it and cloned to every follower (errors too, see [`share_error`](super::share_error)).
    /// The boolean is true for a follower (the caller made no call). When the leader vanishes,
    /// a follower joins again, and may lead and call `fetch` itself.
    /// (The cache's own entry points drive `join` themselves; this is the whole protocol in
    /// one call, for the tests.)
    #[cfg(test)]
    pub(crate) async fn run<F, Fut>(&self, key: &CacheKey, fetch: F) -> (Result<T>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        loop {
            match self.join(key) {
                Join::Leader(leader) => {
                    let result = fetch().await;
                    match &result {
                        Ok(v) => leader.succeed(v.clone()),
                        Err(e) => leader.fail(e),
                    }
                    return (result, false);
                }
                Join::Follower(follower) => {
                    if let Some(result) = follower.wait().await {
                        return (result, true);
                    }
                }
            }
        }
    }
}

/// The caller that makes the call. Report the result with [`succeed`](Self::succeed) or
/// [`fail`](Self::fail); dropping it instead releases the key and wakes the followers, which
/// then try again.
#[derive(Debug)]
pub(crate) struct Leader<T> {
    key: CacheKey,
    id: u64,
    tx: watch::Sender<Option<Outcome<T>>>,
    map: Arc<Map<T>>,
    done: bool,
}

impl<T> Leader<T> {
    /// Shares a successful result with the followers and releases the key.
    pub(crate) fn succeed(mut self, value: T) {
        self.finish(Some(Ok(value)));
    }

    /// Shares a failure with the followers (each gets a copy, without its `source`) and
    /// releases the key.
    pub(crate) fn fail(mut self, error: &Error) {
        self.finish(Some(Err(Arc::new(super::share_error(error)))));
    }

    fn finish(&mut self, outcome: Option<Outcome<T>>) {
        if self.done {
            return;
        }
        self.done = true;
        {
            let mut map = lock(&self.map);
            if map.get(&self.key).is_some_and(|(id, _)| *id == self.id) {
                map.remove(&self.key);
            }
        }
        if outcome.is_some() {
            self.tx.send_replace(outcome);
        }
    }
}

impl<T> Drop for Leader<T> {
    fn drop(&mut self) {
        // Without a result: release the key; the sender is dropped with `self`, which wakes
        // the followers with "leader gone".
        self.finish(None);
    }
}

/// A caller waiting for the leader's result.
#[derive(Debug)]
pub(crate) struct Follower<T> {
    rx: Slot<T>,
}

impl<T: Clone> Follower<T> {
    /// The leader's result, or `None` when the leader was dropped without one (join again).
    pub(crate) async fn wait(mut self) -> Option<Result<T>> {
        let outcome = self.rx.wait_for(Option::is_some).await.ok()?;
        match &*outcome {
            Some(Ok(v)) => Some(Ok(v.clone())),
            Some(Err(e)) => Some(Err(super::share_error(e))),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_leader_shares_its_result_with_a_follower_and_leaves() {
        use super::*;
        let flights = SingleFlight::<u32>::new();
        let key = CacheKey::from_string("chat:abc");
        let Join::Leader(leader) = flights.join(&key) else {
            panic!("the first call leads")
        };
        let Join::Follower(follower) = flights.join(&key) else {
            panic!("the second call follows")
        };
        leader.succeed(42);
        assert_eq!(follower.wait().await.unwrap().unwrap(), 42);
        assert_eq!(flights.in_flight(), 0);
    }

    use super::*;
    use crate::ErrorKind;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn key(s: &str) -> CacheKey {
        CacheKey::from_string(s)
    }

    #[tokio::test]
    async fn concurrent_identical_calls_make_one_upstream_call() {
        let flights = Arc::new(SingleFlight::<Arc<String>>::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let flights = Arc::clone(&flights);
            let calls = Arc::clone(&calls);
            tasks.push(tokio::spawn(async move {
                flights
                    .run(&key("k"), || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(Arc::new("answer".to_owned()))
                    })
                    .await
            }));
        }
        let mut followers = 0;
        for t in tasks {
            let (r, followed) = t.await.unwrap();
            assert_eq!(r.unwrap().as_str(), "answer");
            followers += usize::from(followed);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(followers, 49);
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn errors_are_shared_not_kept() {
        let flights = SingleFlight::<u8>::new();
        let Join::Leader(leader) = flights.join(&key("k")) else {
            panic!("first caller must lead")
        };
        let Join::Follower(f) = flights.join(&key("k")) else {
            panic!("second caller must follow")
        };
        leader.fail(&Error::new(ErrorKind::RateLimit, "slow down").with_status(429));
        let err = f.wait().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimit);
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.message(), "slow down");
        // The key is free again: the next caller leads a new call.
        assert!(matches!(flights.join(&key("k")), Join::Leader(_)));
    }

    #[tokio::test]
    async fn a_dropped_leader_wakes_followers_who_take_over() {
        let flights = Arc::new(SingleFlight::<u32>::new());
        let calls = Arc::new(AtomicUsize::new(0));
        // The leader never finishes: it is cancelled.
        let leader_task = {
            let (flights, calls) = (Arc::clone(&flights), Arc::clone(&calls));
            tokio::spawn(async move {
                flights
                    .run(&key("k"), || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        std::future::pending::<Result<u32>>().await
                    })
                    .await
            })
        };
        while flights.in_flight() == 0 {
            tokio::task::yield_now().await;
        }
        let follower = {
            let (flights, calls) = (Arc::clone(&flights), Arc::clone(&calls));
            tokio::spawn(async move {
                flights
                    .run(&key("k"), || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Ok(7)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!follower.is_finished(), "the follower waits for the leader");
        leader_task.abort();
        let (r, followed) = tokio::time::timeout(Duration::from_secs(5), follower)
            .await
            .expect("a follower must not hang after its leader is cancelled")
            .unwrap();
        assert_eq!(r.unwrap(), 7);
        assert!(!followed, "the follower took over and made the call itself");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let flights = SingleFlight::<u8>::new();
        let a = flights.join(&key("a"));
        let b = flights.join(&key("b"));
        assert!(matches!(a, Join::Leader(_)) && matches!(b, Join::Leader(_)));
        assert_eq!(flights.in_flight(), 2);
        drop((a, b));
        assert_eq!(flights.in_flight(), 0);
    }
}
