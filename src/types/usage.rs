//! Token usage, OpenAI's `CompletionUsage` shape, which every provider's usage is translated to.

use serde::Serialize;

use super::map_de::{Count, OptCount, Plain, map_deserialize};
use super::serde_util::Extra;

/// Tokens used by one call.
///
/// Counts are tolerant: a negative count decodes as 0, a huge one saturates, `null` is 0.
/// Vendor-specific extras (Groq's timings, DeepSeek's `prompt_cache_hit_tokens`, OpenRouter's
/// `cost`) stay in [`Usage::extra`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Tokens in the prompt (including cached ones).
    pub prompt_tokens: u64,
    /// Tokens generated (including reasoning tokens).
    pub completion_tokens: u64,
    /// Sum of the two, as the vendor reported it (or computed when it did not).
    pub total_tokens: u64,
    /// Breakdown of the prompt tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of the completion tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Breakdown of prompt tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PromptTokensDetails {
    /// Tokens read from the vendor's prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Tokens written to the vendor's prompt cache (Anthropic cache creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
    /// Audio input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Text input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Image input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tokens: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Breakdown of completion tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CompletionTokensDetails {
    /// Tokens spent on hidden reasoning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Audio output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Text output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Predicted-output tokens that were used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_prediction_tokens: Option<u64>,
    /// Predicted-output tokens that were not used (still billed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_prediction_tokens: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

map_deserialize!(Usage, "a usage object", Usage::default(), {
    "prompt_tokens" => prompt_tokens: Count,
    "completion_tokens" => completion_tokens: Count,
    "total_tokens" => total_tokens: Count,
    "prompt_tokens_details" => prompt_tokens_details: Plain<Option<PromptTokensDetails>>,
    "completion_tokens_details" => completion_tokens_details: Plain<Option<CompletionTokensDetails>>,
});

map_deserialize!(
    PromptTokensDetails,
    "a prompt_tokens_details object",
    PromptTokensDetails::default(),
    {
        "cached_tokens" => cached_tokens: OptCount,
        "cache_write_tokens" => cache_write_tokens: OptCount,
        "audio_tokens" => audio_tokens: OptCount,
        "text_tokens" => text_tokens: OptCount,
        "image_tokens" => image_tokens: OptCount,
    }
);

map_deserialize!(
    CompletionTokensDetails,
    "a completion_tokens_details object",
    CompletionTokensDetails::default(),
    {
        "reasoning_tokens" => reasoning_tokens: OptCount,
        "audio_tokens" => audio_tokens: OptCount,
        "text_tokens" => text_tokens: OptCount,
        "accepted_prediction_tokens" => accepted_prediction_tokens: OptCount,
        "rejected_prediction_tokens" => rejected_prediction_tokens: OptCount,
    }
);

impl Usage {
    /// Usage with the two main counts; `total_tokens` is their (saturating) sum.
    ///
    /// ```
    /// let u = litellm::Usage::new(10, 5);
    /// assert_eq!(u.total_tokens, 15);
    /// ```
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Usage {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            ..Default::default()
        }
    }

    /// Prompt tokens served from the vendor's cache (0 when not reported).
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0)
    }

    /// Reasoning tokens (0 when not reported).
    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0)
    }

    /// The largest count (of any field) this crate believes: a billion tokens, far past every
    /// model's context window and output limit. Usage above it is an `InvalidResponse` (its
    /// `code()` is `"implausible_usage"`), so one absurd answer cannot wrap counters or exhaust
    /// every budget.
    pub const MAX_TOKENS: u64 = 1_000_000_000;

    /// The first count above [`Usage::MAX_TOKENS`], by name, when there is one.
    ///
    /// ```
    /// let mut u = litellm::Usage::new(10, 5);
    /// assert_eq!(u.implausible(), None);
    /// u.completion_tokens = u64::MAX;
    /// assert_eq!(u.implausible(), Some(("completion_tokens", u64::MAX)));
    /// ```
    pub fn implausible(&self) -> Option<(&'static str, u64)> {
        let p = self.prompt_tokens_details.as_ref();
        let c = self.completion_tokens_details.as_ref();
        [
            ("prompt_tokens", Some(self.prompt_tokens)),
            ("completion_tokens", Some(self.completion_tokens)),
            ("total_tokens", Some(self.total_tokens)),
            ("cached_tokens", p.and_then(|d| d.cached_tokens)),
            ("cache_write_tokens", p.and_then(|d| d.cache_write_tokens)),
            ("prompt audio_tokens", p.and_then(|d| d.audio_tokens)),
            ("prompt text_tokens", p.and_then(|d| d.text_tokens)),
            ("image_tokens", p.and_then(|d| d.image_tokens)),
            ("reasoning_tokens", c.and_then(|d| d.reasoning_tokens)),
            ("completion audio_tokens", c.and_then(|d| d.audio_tokens)),
            ("completion text_tokens", c.and_then(|d| d.text_tokens)),
            (
                "accepted_prediction_tokens",
                c.and_then(|d| d.accepted_prediction_tokens),
            ),
            (
                "rejected_prediction_tokens",
                c.and_then(|d| d.rejected_prediction_tokens),
            ),
        ]
        .into_iter()
        .find_map(|(name, n)| n.filter(|n| *n > Usage::MAX_TOKENS).map(|n| (name, n)))
    }

    /// Fills what a vendor left out but implied: `total_tokens` when 0, and
    /// `prompt_tokens_details.cached_tokens` from DeepSeek's `prompt_cache_hit_tokens`.
    pub(crate) fn normalize(&mut self) {
        if self.total_tokens == 0 {
            self.total_tokens = self.prompt_tokens.saturating_add(self.completion_tokens);
        }
        if self.cached_tokens() == 0
            && let Some(hit) = self
                .extra
                .get("prompt_cache_hit_tokens")
                .and_then(|v| v.as_u64())
            && hit > 0
        {
            self.prompt_tokens_details
                .get_or_insert_with(Default::default)
                .cached_tokens = Some(hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_openai_usage_with_details() {
        let u: Usage = serde_json::from_str(
            r#"{"prompt_tokens":16,"completion_tokens":300,"total_tokens":316,
            "prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},
            "completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,
            "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#,
        )
        .unwrap();
        assert_eq!(u.cached_tokens(), 4);
        assert_eq!(u.reasoning_tokens(), 64);
        assert_eq!(u.total_tokens, 316);
    }

    #[test]
    fn extreme_and_null_counts_do_not_fail() {
        let u: Usage = serde_json::from_str(
            r#"{"prompt_tokens":-2147483648,"completion_tokens":null,"total_tokens":1e99,
            "prompt_tokens_details":null}"#,
        )
        .unwrap();
        assert_eq!(u.prompt_tokens, 0);
        assert_eq!(u.completion_tokens, 0);
        assert_eq!(u.total_tokens, u64::MAX);
        assert!(u.prompt_tokens_details.is_none());
    }

    #[test]
    fn normalize_fills_total_and_deepseek_cache() {
        let mut u: Usage = serde_json::from_str(
            r#"{"prompt_tokens":10,"completion_tokens":5,"prompt_cache_hit_tokens":8}"#,
        )
        .unwrap();
        u.normalize();
        assert_eq!(u.total_tokens, 15);
        assert_eq!(u.cached_tokens(), 8);
        // serializes without null noise
        let s = serde_json::to_string(&Usage::new(1, 2)).unwrap();
        assert_eq!(
            s,
            r#"{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}"#
        );
    }
}
