//! Retries: how many times each kind of failure is retried, and how long to wait.

use std::collections::HashMap;
use std::time::Duration;

use super::cooldown::policy_key_kind;
use crate::error::{Error, ErrorKind};

/// Retries per kind of failure, overriding `num_retries` for the kinds it names.
///
/// ```
/// use litellm::ErrorKind;
/// use litellm::router::RetryPolicy;
/// let p = RetryPolicy::new()
///     .retries(ErrorKind::RateLimit, 3)
///     .retries(ErrorKind::Timeout, 2)
///     .retries(ErrorKind::ContentPolicyViolation, 0);
/// assert_eq!(p.get(ErrorKind::RateLimit), Some(3));
/// assert_eq!(p.get(ErrorKind::InternalServer), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryPolicy {
    by_kind: HashMap<ErrorKind, u32>,
}

impl RetryPolicy {
    /// An empty policy (every kind falls back to `num_retries`).
    pub fn new() -> RetryPolicy {
        RetryPolicy::default()
    }

    /// Sets the retries for one kind.
    #[must_use = "returns the changed policy; use it"]
    pub fn retries(mut self, kind: ErrorKind, n: u32) -> Self {
        self.by_kind.insert(kind, n);
        self
    }

    /// The retries for a kind, when the policy names it.
    pub fn get(&self, kind: ErrorKind) -> Option<u32> {
        self.by_kind.get(&kind).copied()
    }

    /// Parses Python LiteLLM's policy keys (`RateLimitErrorRetries`, `TimeoutErrorRetries`, …).
    pub fn set_litellm(&mut self, key: &str, n: u32) -> bool {
        let Some(kind) = policy_key_kind(key, "Retries") else {
            return false;
        };
        self.by_kind.insert(kind, n);
        true
    }
}

/// Whether the `attempt`-th failure (1-based) of a group may be retried.
pub(crate) fn may_retry(
    err: &Error,
    failures: u32,
    num_retries: u32,
    policy: Option<&RetryPolicy>,
) -> bool {
    let kind = err.kind();
    let limit = match policy.and_then(|p| p.get(kind)) {
        Some(n) => n,
        None if kind.is_retryable() || kind == ErrorKind::NoDeploymentAvailable => num_retries,
        None => 0,
    };
    failures <= limit
}

/// Longest server-requested delay honoured as such (Python LiteLLM uses 0–60 s).
const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// How long to wait before retry number `n` (0-based) of a group.
///
/// With another healthy deployment to try, no wait. Otherwise the vendor's Retry-After when it
/// gives one up to 60 s (a longer one is returned as is so the caller can stop), else
/// `min(max(0.5 s × 2ⁿ, retry_after_min), 8 s)`; either way plus a jitter of up to 0.75 s drawn
/// from `unit` (in [0, 1)).
pub(crate) fn backoff(
    err: &Error,
    n: u32,
    other_healthy: bool,
    retry_after_min: Duration,
    unit: f64,
) -> Duration {
    if other_healthy {
        // The vendor's Retry-After is about the deployment that failed (now cooling down).
        return Duration::ZERO;
    }
    let jitter = Duration::from_secs_f64(0.75 * unit.clamp(0.0, 1.0));
    match err.retry_after() {
        Some(d) if d > MAX_SERVER_DELAY => d,
        Some(d) => d.max(retry_after_min) + jitter,
        None => {
            let base = (0.5 * 2f64.powi(n.min(16) as i32))
                .max(retry_after_min.as_secs_f64())
                .min(8.0);
            Duration::from_secs_f64(base) + jitter
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_limits_by_kind() {
        let rl = Error::new(ErrorKind::RateLimit, "x");
        let bad = Error::new(ErrorKind::BadRequest, "x");
        assert!(may_retry(&rl, 2, 2, None));
        assert!(!may_retry(&rl, 3, 2, None));
        assert!(!may_retry(&bad, 1, 5, None));
        let p = RetryPolicy::new()
            .retries(ErrorKind::RateLimit, 0)
            .retries(ErrorKind::BadRequest, 1);
        assert!(!may_retry(&rl, 1, 5, Some(&p)));
        assert!(may_retry(&bad, 1, 0, Some(&p)));
        let mut q = RetryPolicy::new();
        assert!(q.set_litellm("TimeoutErrorRetries", 4));
        assert!(!q.set_litellm("Nope", 1));
        assert_eq!(q.get(ErrorKind::Timeout), Some(4));
    }

    #[test]
    fn backoff_rules() {
        let plain = Error::new(ErrorKind::InternalServer, "x");
        assert_eq!(
            backoff(&plain, 0, true, Duration::ZERO, 0.5),
            Duration::ZERO
        );
        assert_eq!(
            backoff(&plain, 0, false, Duration::ZERO, 0.0),
            Duration::from_millis(500)
        );
        assert_eq!(
            backoff(&plain, 2, false, Duration::ZERO, 0.0),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff(&plain, 10, false, Duration::ZERO, 0.0),
            Duration::from_secs(8)
        );
        assert_eq!(
            backoff(&plain, 0, false, Duration::from_secs(3), 0.0),
            Duration::from_secs(3)
        );
        let j = backoff(&plain, 0, false, Duration::ZERO, 0.99);
        assert!(j > Duration::from_millis(1200) && j < Duration::from_millis(1250));
        let ra = Error::new(ErrorKind::RateLimit, "x").with_retry_after(Duration::from_secs(7));
        assert_eq!(
            backoff(&ra, 0, false, Duration::ZERO, 0.0),
            Duration::from_secs(7)
        );
        let long = Error::new(ErrorKind::RateLimit, "x").with_retry_after(Duration::from_secs(600));
        assert_eq!(
            backoff(&long, 0, false, Duration::ZERO, 0.0),
            Duration::from_secs(600)
        );
    }
}
