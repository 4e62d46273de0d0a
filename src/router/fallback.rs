//! Fallbacks: which model groups to try when a group is exhausted.

use std::collections::HashMap;

use crate::error::ErrorKind;

/// Fallback chains, as Python LiteLLM configures them.
///
/// ```
/// use litellm::router::Fallbacks;
/// let f = Fallbacks::new()
///     .fallback("gpt-4o", ["claude-sonnet", "gpt-4o-mini"])
///     .context_window("gpt-4o-mini", ["gpt-4o-128k"])
///     .default_fallbacks(["cheap-model"]);
/// # let _ = f;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fallbacks {
    /// `fallbacks`: group → groups to try after any failure.
    pub general: HashMap<String, Vec<String>>,
    /// `context_window_fallbacks`: group → groups to try when the prompt does not fit.
    pub context_window: HashMap<String, Vec<String>>,
    /// `content_policy_fallbacks`: group → groups to try after a content-policy refusal.
    pub content_policy: HashMap<String, Vec<String>>,
    /// `default_fallbacks`: groups to try after any group's failure when it has no own chain.
    pub default: Vec<String>,
}

fn list<S: Into<String>>(groups: impl IntoIterator<Item = S>) -> Vec<String> {
    groups.into_iter().map(Into::into).collect()
}

impl Fallbacks {
    /// No fallbacks.
    pub fn new() -> Fallbacks {
        Fallbacks::default()
    }

    /// Adds a general fallback chain for `group`.
    #[must_use = "returns the changed fallbacks; use it"]
    pub fn fallback<S: Into<String>>(
        mut self,
        group: impl Into<String>,
        to: impl IntoIterator<Item = S>,
    ) -> Self {
        self.general.insert(group.into(), list(to));
        self
    }

    /// Adds a context-window fallback chain for `group`.
    #[must_use = "returns the changed fallbacks; use it"]
    pub fn context_window<S: Into<String>>(
        mut self,
        group: impl Into<String>,
        to: impl IntoIterator<Item = S>,
    ) -> Self {
        self.context_window.insert(group.into(), list(to));
        self
    }

    /// Adds a content-policy fallback chain for `group`.
    #[must_use = "returns the changed fallbacks; use it"]
    pub fn content_policy<S: Into<String>>(
        mut self,
        group: impl Into<String>,
        to: impl IntoIterator<Item = S>,
    ) -> Self {
        self.content_policy.insert(group.into(), list(to));
        self
    }

    /// Sets the default fallbacks.
    #[must_use = "returns the changed fallbacks; use it"]
    pub fn default_fallbacks<S: Into<String>>(mut self, to: impl IntoIterator<Item = S>) -> Self {
        self.default = list(to);
        self
    }

    /// Every group named anywhere, with the setting that names it (for validation).
    pub(crate) fn named_groups(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (setting, map) in [
            ("fallbacks", &self.general),
            ("context_window_fallbacks", &self.context_window),
            ("content_policy_fallbacks", &self.content_policy),
        ] {
            for (from, to) in map {
                out.push((setting, from.as_str()));
                out.extend(to.iter().map(|t| (setting, t.as_str())));
            }
        }
        out.extend(
            self.default
                .iter()
                .map(|t| ("default_fallbacks", t.as_str())),
        );
        out
    }

    /// The groups to try after `group` failed with `kind`, in order: the kind's own chain
    /// (context window, content policy) when it has one, else the call's list or the group's
    /// general chain, else the default fallbacks.
    pub(crate) fn chain<'a>(
        &'a self,
        group: &str,
        kind: ErrorKind,
        per_call: Option<&'a [String]>,
    ) -> &'a [String] {
        let specific = match kind {
            ErrorKind::ContextWindowExceeded => self.context_window.get(group),
            ErrorKind::ContentPolicyViolation => self.content_policy.get(group),
            _ => None,
        };
        if let Some(s) = specific {
            return s;
        }
        if let Some(p) = per_call {
            return p;
        }
        match self.general.get(group) {
            Some(g) => g,
            None => &self.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_by_kind() {
        let f = Fallbacks::new()
            .fallback("a", ["b"])
            .context_window("a", ["big"])
            .content_policy("a", ["lenient"])
            .default_fallbacks(["d"]);
        assert_eq!(f.chain("a", ErrorKind::RateLimit, None), ["b"]);
        assert_eq!(
            f.chain("a", ErrorKind::ContextWindowExceeded, None),
            ["big"]
        );
        assert_eq!(
            f.chain("a", ErrorKind::ContentPolicyViolation, None),
            ["lenient"]
        );
        assert_eq!(f.chain("x", ErrorKind::RateLimit, None), ["d"]);
        let call = vec!["c".to_owned()];
        assert_eq!(f.chain("a", ErrorKind::RateLimit, Some(&call)), ["c"]);
        assert_eq!(f.named_groups().len(), 7);
    }
}
