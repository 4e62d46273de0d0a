//! Cooldowns: when a failing deployment is taken out of rotation, and for how long.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// Failures allowed per kind within a minute before a cooldown (`allowed_fails_policy`).
///
/// ```
/// use litellm::ErrorKind;
/// use litellm::router::AllowedFailsPolicy;
/// let p = AllowedFailsPolicy::new().allowed(ErrorKind::RateLimit, 10).allowed(ErrorKind::Timeout, 2);
/// assert_eq!(p.get(ErrorKind::Timeout), Some(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AllowedFailsPolicy {
    by_kind: HashMap<ErrorKind, u32>,
}

impl AllowedFailsPolicy {
    /// An empty policy.
    pub fn new() -> AllowedFailsPolicy {
        AllowedFailsPolicy::default()
    }

    /// Sets the failures allowed for one kind.
    #[must_use = "returns the changed policy; use it"]
    pub fn allowed(mut self, kind: ErrorKind, n: u32) -> Self {
        self.by_kind.insert(kind, n);
        self
    }

    /// The failures allowed for a kind, when the policy names it.
    pub fn get(&self, kind: ErrorKind) -> Option<u32> {
        self.by_kind.get(&kind).copied()
    }

    /// Parses Python LiteLLM's keys (`RateLimitErrorAllowedFails`, …).
    pub fn set_litellm(&mut self, key: &str, n: u32) -> bool {
        let Some(kind) = policy_key_kind(key, "AllowedFails") else {
            return false;
        };
        self.by_kind.insert(kind, n);
        true
    }
}

/// The error classes Python LiteLLM's per-class router policies name, with their kinds.
const POLICY_CLASSES: &[(&str, ErrorKind)] = &[
    ("BadRequestError", ErrorKind::BadRequest),
    ("AuthenticationError", ErrorKind::Authentication),
    ("PermissionDeniedError", ErrorKind::PermissionDenied),
    ("NotFoundError", ErrorKind::NotFound),
    ("TimeoutError", ErrorKind::Timeout),
    ("RateLimitError", ErrorKind::RateLimit),
    (
        "ContentPolicyViolationError",
        ErrorKind::ContentPolicyViolation,
    ),
    (
        "ContextWindowExceededError",
        ErrorKind::ContextWindowExceeded,
    ),
    ("InternalServerError", ErrorKind::InternalServer),
    ("ServiceUnavailableError", ErrorKind::ServiceUnavailable),
    ("APIConnectionError", ErrorKind::ApiConnection),
];

/// The kind a Python LiteLLM policy key names: an error class followed by `suffix`
/// (`RateLimitErrorAllowedFails` for [`AllowedFailsPolicy`], `RateLimitErrorRetries` for
/// [`RetryPolicy`](super::RetryPolicy)).
pub(crate) fn policy_key_kind(key: &str, suffix: &str) -> Option<ErrorKind> {
    let class = key.strip_suffix(suffix)?;
    POLICY_CLASSES
        .iter()
        .find(|(name, _)| *name == class)
        .map(|(_, kind)| *kind)
}

/// The cooldown settings of a router.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CooldownRules {
    pub(crate) disabled: bool,
    pub(crate) cooldown_time: Duration,
    pub(crate) allowed_fails: Option<u32>,
    pub(crate) policy: Option<AllowedFailsPolicy>,
}

impl Default for CooldownRules {
    fn default() -> Self {
        CooldownRules {
            disabled: false,
            cooldown_time: Duration::from_secs(5),
            allowed_fails: None,
            policy: None,
        }
    }
}

/// Failure ratio above which a deployment cools down…
const FAILURE_RATIO: f64 = 0.5;
/// …once it has finished at least this many calls this minute.
const FAILURE_RATIO_MIN_CALLS: u64 = 5;

/// This minute's counts of a deployment after recording the failure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailureCounts {
    pub(crate) of_kind: u64,
    pub(crate) failed: u64,
    pub(crate) finished: u64,
}

/// Whether (and for how long) a deployment cools down after `err`, in a group of
/// `group_size` deployments.
///
/// - never when cooldowns are disabled, or for the only deployment of a group;
/// - the request's own fault (bad request, context window, content policy, unprocessable,
///   unsupported) never cools a deployment down;
/// - an `AllowedFailsPolicy` entry for the kind, or `allowed_fails`, when set: cool down once
///   this minute's failures (of the kind, or in all) exceed it;
/// - otherwise at once on 429, 401, 403, 404 and 408 (and their kinds: RateLimit,
///   Authentication, PermissionDenied, NotFound, Timeout), for the vendor's Retry-After when it
///   gives one, else `cooldown_time`;
/// - and whenever more than half of this minute's calls failed, with at least 5 calls.
pub(crate) fn cooldown_for(
    rules: &CooldownRules,
    err: &Error,
    counts: FailureCounts,
    group_size: usize,
) -> Option<Duration> {
    if rules.disabled || group_size <= 1 {
        return None;
    }
    let kind = err.kind();
    if matches!(
        kind,
        ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::ContentPolicyViolation
            | ErrorKind::UnprocessableEntity
            | ErrorKind::Unsupported
            | ErrorKind::BudgetExceeded
            | ErrorKind::NoDeploymentAvailable
            | ErrorKind::Config
    ) {
        return None;
    }
    let length = err
        .retry_after()
        .filter(|d| !d.is_zero())
        .unwrap_or(rules.cooldown_time);
    if let Some(allowed) = rules.policy.as_ref().and_then(|p| p.get(kind)) {
        return (counts.of_kind > allowed as u64).then_some(length);
    }
    if let Some(allowed) = rules.allowed_fails {
        if counts.failed > allowed as u64 {
            return Some(length);
        }
    } else {
        let immediate = matches!(err.status(), Some(401 | 403 | 404 | 408 | 429))
            || matches!(
                kind,
                ErrorKind::RateLimit
                    | ErrorKind::Authentication
                    | ErrorKind::PermissionDenied
                    | ErrorKind::NotFound
                    | ErrorKind::Timeout
            );
        if immediate {
            return Some(length);
        }
    }
    let ratio = counts.failed as f64 / counts.finished.max(1) as f64;
    (counts.finished >= FAILURE_RATIO_MIN_CALLS && ratio > FAILURE_RATIO)
        .then_some(rules.cooldown_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(of_kind: u64, failed: u64, finished: u64) -> FailureCounts {
        FailureCounts {
            of_kind,
            failed,
            finished,
        }
    }

    #[test]
    fn immediate_kinds_and_retry_after_length() {
        let r = CooldownRules::default();
        let rl = Error::new(ErrorKind::RateLimit, "x").with_status(429);
        assert_eq!(
            cooldown_for(&r, &rl, counts(1, 1, 1), 2),
            Some(Duration::from_secs(5))
        );
        let rl = rl.with_retry_after(Duration::from_secs(30));
        assert_eq!(
            cooldown_for(&r, &rl, counts(1, 1, 1), 2),
            Some(Duration::from_secs(30))
        );
        for kind in [
            ErrorKind::Authentication,
            ErrorKind::NotFound,
            ErrorKind::Timeout,
        ] {
            assert!(
                cooldown_for(&r, &Error::new(kind, "x"), counts(1, 1, 1), 3).is_some(),
                "{kind}"
            );
        }
        // a 500 alone does not, the request's own faults never do
        assert!(
            cooldown_for(
                &r,
                &Error::new(ErrorKind::InternalServer, "x"),
                counts(1, 1, 10),
                2
            )
            .is_none()
        );
        assert!(
            cooldown_for(
                &r,
                &Error::new(ErrorKind::ContextWindowExceeded, "x"),
                counts(9, 9, 9),
                2
            )
            .is_none()
        );
    }

    #[test]
    fn single_deployment_and_disabled() {
        let rl = Error::new(ErrorKind::RateLimit, "x").with_status(429);
        assert!(cooldown_for(&CooldownRules::default(), &rl, counts(1, 1, 1), 1).is_none());
        let off = CooldownRules {
            disabled: true,
            ..Default::default()
        };
        assert!(cooldown_for(&off, &rl, counts(1, 1, 1), 5).is_none());
    }

    #[test]
    fn failure_ratio_rule() {
        let r = CooldownRules::default();
        let e = Error::new(ErrorKind::InternalServer, "x");
        assert!(
            cooldown_for(&r, &e, counts(3, 3, 4), 2).is_none(),
            "under 5 calls"
        );
        assert!(
            cooldown_for(&r, &e, counts(3, 3, 6), 2).is_none(),
            "exactly half"
        );
        assert_eq!(
            cooldown_for(&r, &e, counts(4, 4, 7), 2),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn allowed_fails_and_policy() {
        let r = CooldownRules {
            allowed_fails: Some(2),
            ..Default::default()
        };
        let rl = Error::new(ErrorKind::RateLimit, "x").with_status(429);
        assert!(cooldown_for(&r, &rl, counts(2, 2, 10), 2).is_none());
        assert!(cooldown_for(&r, &rl, counts(3, 3, 10), 2).is_some());
        let r = CooldownRules {
            policy: Some(AllowedFailsPolicy::new().allowed(ErrorKind::RateLimit, 5)),
            ..Default::default()
        };
        assert!(cooldown_for(&r, &rl, counts(5, 9, 9), 2).is_none());
        assert!(cooldown_for(&r, &rl, counts(6, 9, 9), 2).is_some());
    }

    #[test]
    fn python_policy_keys_of_both_policies() {
        use crate::router::RetryPolicy;
        for (class, kind) in POLICY_CLASSES {
            let mut fails = AllowedFailsPolicy::new();
            assert!(
                fails.set_litellm(&format!("{class}AllowedFails"), 3),
                "{class}"
            );
            assert_eq!(fails.get(*kind), Some(3));
            let mut retries = RetryPolicy::new();
            assert!(
                retries.set_litellm(&format!("{class}Retries"), 4),
                "{class}"
            );
            assert_eq!(retries.get(*kind), Some(4));
            // the other policy's suffix is not accepted
            assert!(!fails.set_litellm(&format!("{class}Retries"), 1));
            assert!(!retries.set_litellm(&format!("{class}AllowedFails"), 1));
        }
        assert_eq!(POLICY_CLASSES.len(), 11);
        for key in [
            "RateLimitError",
            "AllowedFails",
            "UnprocessableEntityErrorAllowedFails",
            "BudgetExceededErrorAllowedFails",
            "ratelimiterrorAllowedFails",
        ] {
            assert!(!AllowedFailsPolicy::new().set_litellm(key, 1), "{key}");
        }
    }
}
