//! Costs of calls: token usage × the [`PriceTable`]'s prices, in USD.
//!
//! Money is `f64` US dollars, never rounded in computation (round only to display it, e.g.
//! with [`format_usd`]). Per-token prices are the nearest `f64` to the published price, and
//! the arithmetic is the same, step by step, as Python LiteLLM's, so both give the same
//! numbers for the same usage (to the last bit in the common cases).
//!
//! # How usage is priced
//!
//! Prompt side (`usage.prompt_tokens` includes cached and cache-written tokens):
//! - cached tokens (`prompt_tokens_details.cached_tokens`) at the cache-read price;
//! - cache-write tokens (`prompt_tokens_details.cache_write_tokens`, Anthropic's cache
//!   creation) at the cache-write price (5-minute TTL; tokens reported as 1-hour writes in a
//!   `cache_creation_token_details` / `cache_creation` breakdown at the 1-hour price);
//! - audio tokens (`prompt_tokens_details.audio_tokens`) at the audio input price, image
//!   tokens at the input price;
//! - the rest (or the reported `text_tokens`) at the input price.
//!
//! Missing cache prices mean the input price (Fireworks: half the input price, as it bills). When a vendor reports details that overlap
//! (text tokens that include cached ones), the uncached remainder is priced, never more.
//!
//! Completion side (`usage.completion_tokens` includes reasoning tokens): reasoning tokens
//! at the reasoning price when the model has one, else at the output price; audio output
//! tokens at the audio output price (else output); the rest at the output price. xAI
//! reports reasoning tokens outside `completion_tokens` (then `total_tokens` is larger than
//! the sum): they are added to the completion, at the output price.
//!
//! Long prompts: when the prompt has more tokens than a [`TierPrice`]'s threshold (xAI:
//! as many or more), every token of the call is priced at that tier's prices.
//! Service tiers: a response's `service_tier` of `flex` or `priority` (`fast`) selects
//! that tier's prices where the model has them.
//!
//! A response served from the cache costs 0. A call without usage has no cost (`None`).
//! Off-peak prices (DeepSeek's) replace the standard ones while one of their UTC windows is
//! open, at the time the cost is computed ([`ModelPrice::cost_at`] for another time).
//!
//! Not priced: per-request fees (web search, grounding), images and audio priced per item
//! or per second, and batch discounts.
//!
//! ```
//! use litellm::{Usage, accounting::cost_per_token};
//!
//! let (prompt, completion) = cost_per_token("gpt-4o", &Usage::new(1_000, 500)).unwrap();
//! assert!((prompt - 0.0025).abs() < 1e-12 && (completion - 0.005).abs() < 1e-12);
//! ```

use std::time::SystemTime;

use crate::types::{ChatResponse, EmbeddingResponse, ResponseMeta, TextCompletionResponse, Usage};

use super::prices::{Mode, ModelPrice, PriceTable, TierPrice};

/// The cost of one call, in USD.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// The prompt's cost (input, cached and cache-write tokens).
    pub prompt: f64,
    /// The completion's cost (output and reasoning tokens).
    pub completion: f64,
}

impl Cost {
    /// Prompt plus completion.
    pub fn total(&self) -> f64 {
        self.prompt + self.completion
    }
}

/// Formats USD for display: `$0.000125`, `$1.234500`; rounds to 6 decimals (cost is kept
/// unrounded everywhere else).
///
/// ```
/// assert_eq!(litellm::accounting::format_usd(0.0001254), "$0.000125");
/// ```
pub fn format_usd(usd: f64) -> String {
    if usd.is_finite() {
        format!("${usd:.6}")
    } else {
        "$?".to_owned()
    }
}

/// The rates one call is billed at, after the service tier and long-context tiers.
struct Rates {
    input: f64,
    output: f64,
    cache_read: f64,
    cache_write: f64,
    cache_write_1h: f64,
    reasoning: f64,
}

impl ModelPrice {
    fn rates(
        &self,
        prompt_tokens: u64,
        service_tier: Option<&str>,
        at: Option<SystemTime>,
    ) -> Rates {
        let st = self.service_tier(service_tier);
        let mut input = st
            .and_then(|s| s.input_cost_per_token)
            .unwrap_or(self.input_cost_per_token);
        let mut output = st
            .and_then(|s| s.output_cost_per_token)
            .unwrap_or(self.output_cost_per_token);
        // Fireworks bills cached input at half the input price unless it publishes one.
        let default_cache_read = (self.provider == "fireworks_ai" && self.mode != Mode::Embedding)
            .then_some(self.input_cost_per_token * 0.5)
            .filter(|_| self.cache_read_input_token_cost.is_none());
        let mut cache_read = st
            .and_then(|s| s.cache_read_input_token_cost)
            .or(self.cache_read_input_token_cost)
            .or(default_cache_read);
        let mut cache_write = st
            .and_then(|s| s.cache_creation_input_token_cost)
            .or(self.cache_creation_input_token_cost);
        let inclusive = self.provider == "xai";
        let mut thresholds: Vec<u64> = self.tiers.iter().map(|t| t.above_tokens).collect();
        if let Some(s) = st {
            thresholds.extend(s.tiers.iter().map(|t| t.above_tokens));
        }
        thresholds.sort_unstable();
        thresholds.dedup();
        for th in thresholds {
            let crossed = prompt_tokens > th || (inclusive && prompt_tokens == th);
            if !crossed {
                continue;
            }
            let std_t = self.tiers.iter().find(|t| t.above_tokens == th);
            let st_t = st.and_then(|s| s.tiers.iter().find(|t| t.above_tokens == th));
            let pick =
                |f: fn(&TierPrice) -> Option<f64>| st_t.and_then(f).or_else(|| std_t.and_then(f));
            input = pick(|t| t.input_cost_per_token).unwrap_or(input);
            output = pick(|t| t.output_cost_per_token).unwrap_or(output);
            cache_write = pick(|t| t.cache_creation_input_token_cost).or(cache_write);
            cache_read = pick(|t| t.cache_read_input_token_cost).or(cache_read);
        }
        let off_peak = self
            .off_peak
            .as_ref()
            .filter(|op| op.is_open(at.unwrap_or_else(SystemTime::now)));
        // Missing cache prices are the input price (off-peak when off-peak).
        let input_for_missing = off_peak
            .and_then(|op| op.input_cost_per_token)
            .unwrap_or(input);
        let mut cache_read = cache_read.unwrap_or(input_for_missing);
        let mut cache_write = cache_write.unwrap_or(input_for_missing);
        if let Some(op) = off_peak {
            // Off-peak prices replace the standard (and long-context) ones.
            input = op.input_cost_per_token.unwrap_or(input);
            output = op.output_cost_per_token.unwrap_or(output);
            cache_read = op.cache_read_input_token_cost.unwrap_or(cache_read);
            cache_write = op.cache_creation_input_token_cost.unwrap_or(cache_write);
        }
        // A service tier with its own output price bills reasoning at that price.
        let reasoning = if st.is_some_and(|s| s.output_cost_per_token.is_some()) {
            output
        } else {
            self.output_cost_per_reasoning_token.unwrap_or(output)
        };
        Rates {
            input,
            output,
            cache_read,
            cache_write,
            cache_write_1h: self
                .cache_creation_input_token_cost_1h
                .unwrap_or(cache_write),
            reasoning,
        }
    }

    /// The cost of `usage` at this price (see the [module docs](self) for the rules);
    /// `service_tier` is the response's (`flex`, `priority`, or `None` for standard).
    ///
    /// ```
    /// use litellm::{PromptTokensDetails, Usage, accounting::ModelPrice};
    ///
    /// let price = ModelPrice::new(3e-6, 15e-6).with_cache_read(0.3e-6).with_cache_write(3.75e-6);
    /// let mut usage = Usage::new(10_000, 1_000);
    /// usage.prompt_tokens_details = Some(PromptTokensDetails {
    ///     cached_tokens: Some(8_000),
    ///     cache_write_tokens: Some(1_000),
    ///     ..Default::default()
    /// });
    /// let cost = price.cost(&usage, None);
    /// // 1,000 uncached × $3/M + 8,000 cached × $0.30/M + 1,000 written × $3.75/M
    /// assert!((cost.prompt - (0.003 + 0.0024 + 0.00375)).abs() < 1e-12);
    /// assert!((cost.completion - 0.015).abs() < 1e-12);
    /// ```
    pub fn cost(&self, usage: &Usage, service_tier: Option<&str>) -> Cost {
        self.cost_inner(usage, service_tier, None)
    }

    /// [`ModelPrice::cost`] for a call made at `at` (which decides whether off-peak prices
    /// apply; `cost` uses the current time).
    pub fn cost_at(&self, usage: &Usage, service_tier: Option<&str>, at: SystemTime) -> Cost {
        self.cost_inner(usage, service_tier, Some(at))
    }

    fn cost_inner(
        &self,
        usage: &Usage,
        service_tier: Option<&str>,
        at: Option<SystemTime>,
    ) -> Cost {
        let pt = usage.prompt_tokens;
        let r = self.rates(pt, service_tier, at);

        // ---- prompt
        let (cache_hit, cache_write, mut text, mut audio, mut image) =
            match &usage.prompt_tokens_details {
                Some(d) => (
                    d.cached_tokens.unwrap_or(0),
                    d.cache_write_tokens.unwrap_or(0),
                    d.text_tokens.unwrap_or(0),
                    d.audio_tokens.unwrap_or(0),
                    d.image_tokens.unwrap_or(0),
                ),
                None => (0, 0, pt, 0, 0),
            };
        let details_sum = text
            .saturating_add(cache_hit)
            .saturating_add(audio)
            .saturating_add(cache_write)
            .saturating_add(image);
        if (cache_hit > 0 || cache_write > 0) && details_sum > pt {
            // Overlapping details: price only what the caches did not cover.
            let uncached = pt.saturating_sub(cache_hit.saturating_add(cache_write));
            audio = audio.min(uncached);
            image = image.min(uncached - audio);
            text = uncached - audio - image;
        } else if text == 0 {
            text = pt.saturating_sub(
                cache_hit
                    .saturating_add(audio)
                    .saturating_add(cache_write)
                    .saturating_add(image),
            );
        }
        let mut prompt = text as f64 * r.input;
        prompt += cache_hit as f64 * r.cache_read;
        if audio > 0 {
            prompt += audio as f64 * self.input_cost_per_audio_token.unwrap_or(r.input);
        }
        if image > 0 {
            prompt += image as f64 * r.input;
        }
        let ttl = cache_write_ttl_breakdown(usage);
        if cache_write > 0 || ttl.is_some() {
            prompt += match ttl {
                None => cache_write as f64 * r.cache_write,
                Some((m5, h1)) => {
                    let unattributed = cache_write.saturating_sub(m5.saturating_add(h1));
                    unattributed as f64 * r.cache_write
                        + (0.0 + m5 as f64 * r.cache_write + h1 as f64 * r.cache_write_1h)
                }
            };
        }

        // ---- completion
        let ct = usage.completion_tokens;
        let xai_outside = self.provider == "xai"
            && usage.total_tokens != pt.saturating_add(ct)
            && usage.total_tokens != 0;
        let (ct, details) = if self.provider == "xai" {
            // xAI: reasoning priced as output; added when reported outside the completion.
            let extra = if xai_outside {
                usage.reasoning_tokens()
            } else {
                0
            };
            (ct.saturating_add(extra), None)
        } else {
            (ct, usage.completion_tokens_details.as_ref())
        };
        let (mut out_text, out_audio, reasoning, out_image) = match details {
            Some(d) => {
                let audio = d.audio_tokens.unwrap_or(0);
                let reasoning = d.reasoning_tokens.unwrap_or(0);
                let image = d
                    .extra
                    .get("image_tokens")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                let reported = d.text_tokens.unwrap_or(0);
                // Text that also counts the reasoning tokens: take them out once.
                let reported_total = reported
                    .saturating_add(reasoning)
                    .saturating_add(audio)
                    .saturating_add(image);
                let nested = reasoning
                    .min(reported)
                    .min(reported_total.saturating_sub(ct));
                (reported - nested, audio, reasoning, image)
            }
            None => (0, 0, 0, 0),
        };
        let mut all_text = false;
        if out_text == 0 {
            if out_audio > 0 || reasoning > 0 || out_image > 0 {
                out_text = ct.saturating_sub(
                    reasoning
                        .saturating_add(out_audio)
                        .saturating_add(out_image),
                );
            } else {
                out_text = ct;
                all_text = true;
            }
        }
        let mut completion = out_text as f64 * r.output;
        if !all_text {
            if out_audio > 0 {
                completion +=
                    out_audio as f64 * self.output_cost_per_audio_token.unwrap_or(r.output);
            }
            if reasoning > 0 {
                completion += reasoning as f64 * r.reasoning;
            }
            if out_image > 0 {
                completion += out_image as f64 * r.output;
            }
        }
        Cost { prompt, completion }
    }

    /// The cost of embedding `tokens` tokens.
    pub fn embedding_cost(&self, tokens: u64) -> f64 {
        tokens as f64 * self.input_cost_per_token
    }
}

/// `(5-minute, 1-hour)` cache-write counts when the usage carries a TTL breakdown
/// (`prompt_tokens_details.cache_creation_token_details`, LiteLLM's name, or
/// `cache_creation`, Anthropic's).
fn cache_write_ttl_breakdown(usage: &Usage) -> Option<(u64, u64)> {
    let obj = usage
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.extra.get("cache_creation_token_details"))
        .or_else(|| usage.extra.get("cache_creation"))
        .filter(|v| v.is_object())?;
    let n = |k: &str| obj.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    Some((
        n("ephemeral_5m_input_tokens"),
        n("ephemeral_1h_input_tokens"),
    ))
}

impl PriceTable {
    /// Python LiteLLM's `cost_per_token`: `(prompt cost, completion cost)` in USD for
    /// `usage` on `model` (any model string [`PriceTable::get`] resolves); `None` when the
    /// model has no price.
    pub fn cost_per_token(&self, model: &str, usage: &Usage) -> Option<(f64, f64)> {
        let c = self.get(model)?.cost(usage, None);
        Some((c.prompt, c.completion))
    }

    /// The price for a response: the model the vendor says served it (`served`, e.g.
    /// `gpt-4o-2024-08-06`), else the model that was asked for (`requested`), both with the
    /// provider that answered. This is the lookup [`PriceTable::completion_cost`] uses.
    pub fn price_for_response(
        &self,
        provider: Option<&str>,
        served: &str,
        requested: &str,
    ) -> Option<&ModelPrice> {
        let provider = provider.filter(|p| !p.is_empty());
        [served, requested]
            .into_iter()
            .filter(|m| !m.trim().is_empty())
            .find_map(|m| self.resolve(m, provider))
            .map(|r| r.price)
    }

    /// The cost of `usage` for a response served by `served` / asked as `requested` from
    /// `provider` (see [`PriceTable::price_for_response`]); what the call pipeline uses for
    /// streams, whose usage arrives in the last chunk.
    pub fn usage_cost(
        &self,
        provider: Option<&str>,
        served: &str,
        requested: &str,
        usage: &Usage,
        service_tier: Option<&str>,
    ) -> Option<Cost> {
        let price = self.price_for_response(provider, served, requested)?;
        Some(price.cost(usage, service_tier))
    }

    /// Total cost of a chat response in USD: 0 when it came from the cache, `None` when it
    /// has no usage or its model has no price. The model is `resp.model` (as the vendor
    /// named it), else `resp.meta.model`, with `resp.meta.provider`; `resp.service_tier`
    /// selects flex/priority prices.
    pub fn completion_cost(&self, resp: &ChatResponse) -> Option<f64> {
        self.answer_cost(
            &resp.meta,
            &resp.model,
            resp.usage.as_ref(),
            resp.service_tier.as_deref(),
        )
    }

    /// Total cost of an embeddings response (input tokens × the model's input price); 0 for
    /// a cache hit; `None` when the model has no price.
    pub fn embedding_cost(&self, resp: &EmbeddingResponse) -> Option<f64> {
        if resp.meta.cache_hit {
            return Some(0.0);
        }
        let price = self.price_for_response(
            Some(resp.meta.provider.as_str()),
            &resp.model,
            &resp.meta.model,
        )?;
        let tokens = match resp.usage.prompt_tokens {
            0 => resp.usage.total_tokens,
            n => n,
        };
        Some(price.cost(&Usage::new(tokens, 0), None).total())
    }

    /// Total cost of a legacy text completion, priced like chat.
    pub fn text_completion_cost(&self, resp: &TextCompletionResponse) -> Option<f64> {
        self.answer_cost(&resp.meta, &resp.model, resp.usage.as_ref(), None)
    }

    /// Total cost of an answer with `meta`, served by `model`, that used `usage`: 0 from the
    /// cache, `None` without usage or price (see [`PriceTable::completion_cost`]).
    fn answer_cost(
        &self,
        meta: &ResponseMeta,
        model: &str,
        usage: Option<&Usage>,
        service_tier: Option<&str>,
    ) -> Option<f64> {
        if meta.cache_hit {
            return Some(0.0);
        }
        self.usage_cost(
            Some(meta.provider.as_str()),
            model,
            &meta.model,
            usage?,
            service_tier,
        )
        .map(|c| c.total())
    }
}

/// `(prompt cost, completion cost)` in USD of `usage` on `model`, with the shipped table
/// (Python LiteLLM's `cost_per_token`). `None` when the model has no price. Use
/// [`ModelPrice::cost`] for a deployment's own prices.
///
/// ```
/// use litellm::{CompletionTokensDetails, Usage, accounting::cost_per_token};
///
/// // o3-mini: $1.10/M in, $4.40/M out; reasoning tokens are completion tokens.
/// let mut u = Usage::new(2_000, 3_000);
/// u.completion_tokens_details = Some(CompletionTokensDetails {
///     reasoning_tokens: Some(2_500),
///     ..Default::default()
/// });
/// let (p, c) = cost_per_token("o3-mini", &u).unwrap();
/// assert!((p - 0.0022).abs() < 1e-12 && (c - 0.0132).abs() < 1e-12);
/// ```
pub fn cost_per_token(model: &str, usage: &Usage) -> Option<(f64, f64)> {
    PriceTable::global().cost_per_token(model, usage)
}

/// Total USD cost of a chat response with the shipped table; see
/// [`PriceTable::completion_cost`].
///
/// ```
/// use litellm::{ChatResponse, ResponseMeta, Usage, accounting::completion_cost};
///
/// let mut resp = ChatResponse::default();
/// resp.model = "claude-sonnet-4-5-20250929".into();
/// resp.meta = ResponseMeta::new("anthropic", "claude-sonnet-4-5");
/// resp.usage = Some(Usage::new(1_000_000, 0));
/// assert_eq!(completion_cost(&resp), Some(3.0));
/// ```
pub fn completion_cost(resp: &ChatResponse) -> Option<f64> {
    PriceTable::global().completion_cost(resp)
}

/// Total USD cost of an embeddings response with the shipped table.
pub fn embedding_cost(resp: &EmbeddingResponse) -> Option<f64> {
    PriceTable::global().embedding_cost(resp)
}

/// Total USD cost of a text completion with the shipped table.
pub fn text_completion_cost(resp: &TextCompletionResponse) -> Option<f64> {
    PriceTable::global().text_completion_cost(resp)
}

#[cfg(test)]
mod tests;
