//! Model strings: `provider/model-id`, or a well-known bare model name whose provider is
//! inferred.

/// Infers the provider of a model name without a prefix, from well-known name patterns:
/// `gpt-*`, `o1*`/`o3*`/`o4*`, `chatgpt-*`, `text-embedding-*`, `davinci*`, `babbage*`,
/// `ft:gpt-*` → `openai`; `claude-*` → `anthropic`; `gemini-*` → `gemini`; `command-*`,
/// `embed-english-*`, `embed-multilingual-*` → `cohere`; `mistral-*`, `codestral-*`,
/// `open-mistral-*`, `open-mixtral-*`, `ministral-*`, `pixtral-*`, `magistral-*`, `devstral-*`
/// → `mistral`.
///
/// ```
/// use litellm::infer_provider;
/// assert_eq!(infer_provider("gpt-4o-mini"), Some("openai"));
/// assert_eq!(infer_provider("claude-sonnet-4-5"), Some("anthropic"));
/// assert_eq!(infer_provider("llama3.2"), None);
/// ```
pub fn infer_provider(model: &str) -> Option<&'static str> {
    const RULES: &[(&str, &str)] = &[
        ("gpt-", "openai"),
        ("chatgpt-", "openai"),
        ("ft:gpt-", "openai"),
        ("o1", "openai"),
        ("o3", "openai"),
        ("o4", "openai"),
        ("text-embedding-", "openai"),
        ("davinci", "openai"),
        ("babbage", "openai"),
        ("omni-moderation", "openai"),
        ("claude-", "anthropic"),
        ("gemini-", "gemini"),
        ("command-", "cohere"),
        ("command", "cohere"),
        ("embed-english-", "cohere"),
        ("embed-multilingual-", "cohere"),
        ("mistral-", "mistral"),
        ("codestral-", "mistral"),
        ("open-mistral-", "mistral"),
        ("open-mixtral-", "mistral"),
        ("ministral-", "mistral"),
        ("pixtral-", "mistral"),
        ("magistral-", "mistral"),
        ("devstral-", "mistral"),
    ];
    let m = model.trim();
    RULES
        .iter()
        .find(|(prefix, _)| m.starts_with(prefix))
        .map(|(_, provider)| *provider)
        // `o1`, `o3`, `o4` must be followed by the end or a dash: `o1-mini`, not `o1x`.
        .filter(|p| {
            *p != "openai"
                || !["o1", "o3", "o4"].iter().any(|o| m.starts_with(o))
                || m.len() == 2
                || m.as_bytes()[2] == b'-'
        })
}

/// Splits `provider/model-id` at the first `/`. Returns `None` when there is no `/`.
///
/// ```
/// assert_eq!(litellm::split_model("openrouter/anthropic/claude-3.5"), Some(("openrouter", "anthropic/claude-3.5")));
/// assert_eq!(litellm::split_model("gpt-4o"), None);
/// ```
pub fn split_model(model: &str) -> Option<(&str, &str)> {
    model.split_once('/')
}

/// The candidate closest to `name` by edit distance (insertions, deletions, substitutions and
/// swaps of two neighbours, ignoring case), when it is close enough to be a likely typo: at
/// most one edit for names up to four characters, two up to eight, three beyond. Ties go to
/// the first candidate. Used for "did you mean …?" hints.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name: Vec<char> = name.trim().to_lowercase().chars().collect();
    if name.is_empty() {
        return None;
    }
    let limit = match name.len() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let cand: Vec<char> = c.to_lowercase().chars().collect();
        // Cheap bound first: the length difference alone can rule a candidate out (and keeps a
        // hostile, very long name from costing a full table per candidate).
        if cand.len().abs_diff(name.len()) > limit {
            continue;
        }
        let d = edit_distance(&name, &cand);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal-string-alignment distance between `a` and `b` (Levenshtein plus adjacent swaps).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    // Three rolling rows: two back (for swaps), previous, current.
    let mut two_back: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two_back[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut two_back, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = [
            "openai",
            "anthropic",
            "azure",
            "gemini",
            "groq",
            "mock",
            "ollama",
        ];
        assert_eq!(closest("opnai", known), Some("openai"));
        assert_eq!(closest("OpenAI", known), Some("openai"));
        assert_eq!(closest("anthorpic", known), Some("anthropic"));
        assert_eq!(closest("grok", known), Some("groq"));
        assert_eq!(closest("azrue", known), Some("azure"));
        assert_eq!(closest("cohere", known), None);
        assert_eq!(closest("", known), None);
        assert_eq!(closest(&"x".repeat(100_000), known), None);
        assert_eq!(closest("ollamа", known), Some("ollama")); // Cyrillic 'а'
        assert_eq!(edit_distance(&['a', 'b'], &['b', 'a']), 1);
        assert_eq!(edit_distance(&[], &['a', 'b']), 2);
    }

    #[test]
    fn inference() {
        for (m, p) in [
            ("gpt-4o", Some("openai")),
            ("o1", Some("openai")),
            ("o3-mini", Some("openai")),
            ("o4-mini-2025-04-16", Some("openai")),
            ("omega", None),
            ("o1x", None),
            ("text-embedding-3-small", Some("openai")),
            ("gemini-2.5-flash", Some("gemini")),
            ("command-a-03-2025", Some("cohere")),
            ("codestral-latest", Some("mistral")),
            ("llama3.2", None),
        ] {
            assert_eq!(infer_provider(m), p, "{m}");
        }
    }
}
