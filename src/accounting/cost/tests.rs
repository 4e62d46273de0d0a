//! Costs for representative models and usages. The expected numbers are what Python
//! LiteLLM's `cost_per_token` returns for the same model string, provider and usage (its
//! community price table, read for these tests), or worked out by hand from the published
//! prices where noted.

use super::*;
use crate::types::{CompletionTokensDetails, PromptTokensDetails, ResponseMeta};

/// Usage of `pt` prompt and `ct` completion tokens, with cached, cache-write and reasoning
/// token details when non-zero.
fn usage(pt: u64, ct: u64, cached: u64, write: u64, reasoning: u64) -> Usage {
    let mut u = Usage::new(pt, ct);
    if cached > 0 || write > 0 {
        u.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(cached),
            cache_write_tokens: Some(write),
            ..Default::default()
        });
    }
    if reasoning > 0 {
        u.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            ..Default::default()
        });
    }
    u
}

/// Equal but for floating-point rounding.
fn near(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(1e-6)
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(near(got, want), "got {got:e}, want {want:e}");
}

/// One priced call: model, provider, usage, service tier, and the expected prompt and
/// completion costs in USD.
type Case<'a> = (&'a str, &'a str, Usage, Option<&'a str>, f64, f64);

/// Prices every case with the global table and compares both costs.
#[track_caller]
fn check(cases: &[Case<'_>]) {
    let t = PriceTable::global();
    for (model, provider, u, tier, prompt, completion) in cases {
        let c = t
            .usage_cost(Some(provider), model, "", u, *tier)
            .unwrap_or_else(|| panic!("{model} has no price"));
        for (what, got, want) in [
            ("prompt", c.prompt, *prompt),
            ("completion", c.completion, *completion),
        ] {
            assert!(
                near(got, want),
                "{model} {what}: got {got:e}, want {want:e}"
            );
        }
    }
}

#[test]
fn openai_plain_cached_and_reasoning() {
    #[rustfmt::skip]
    let cases = [
        ("gpt-4o", "openai", usage(1000, 500, 0, 0, 0), None, 0.0025, 0.005),
        // 6,000 uncached × $2.50/M + 4,000 cached × $1.25/M
        ("openai/gpt-4o-2024-08-06", "openai", usage(10_000, 2000, 4000, 0, 0), None, 0.02, 0.02),
        ("gpt-4o-mini", "openai", usage(123_456, 7890, 100_000, 0, 0), None, 0.0110184, 0.0047339999999999995),
        // Reasoning tokens are completion tokens, priced as output.
        ("o3-mini", "openai", usage(2000, 3000, 0, 0, 2500), None, 0.0022, 0.013200000000000002),
        ("gpt-5", "openai", usage(20_000, 4000, 15_000, 0, 3000), None, 0.008125, 0.04),
        ("gpt-4.1-nano", "openai", usage(1_000_000, 1_000_000, 0, 0, 0), None, 0.09999999999999999, 0.39999999999999997),
        ("text-embedding-3-small", "openai", usage(1000, 0, 0, 0, 0), None, 2e-05, 0.0),
    ];
    check(&cases);
}

#[test]
fn service_tiers() {
    #[rustfmt::skip]
    let cases = [
        ("gpt-5", "openai", usage(20_000, 4000, 15_000, 0, 0), Some("flex"), 0.0040625, 0.02),
        ("gpt-5-mini", "openai", usage(20_000, 4000, 0, 0, 0), Some("priority"), 0.009, 0.0144),
        // `default` and unknown tiers are standard.
        ("gpt-5-mini", "openai", usage(20_000, 4000, 0, 0, 0), Some("default"), 0.005, 0.008),
    ];
    check(&cases);
}

#[test]
fn azure_and_bedrock_regional_prices() {
    #[rustfmt::skip]
    let cases = [
        ("azure/gpt-4o-2024-08-06", "azure", usage(1000, 500, 512, 0, 0), None, 0.00186, 0.005),
        // Bedrock's US cross-region Claude costs 10 % more than the global price.
        ("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock", usage(1000, 500, 0, 0, 0), None, 0.0033, 0.00825),
        ("bedrock/amazon.nova-pro-v1:0", "bedrock", usage(1000, 500, 400, 0, 0), None, 0.00056, 0.0015999999999999999),
    ];
    check(&cases);
}

#[test]
fn anthropic_cache_read_and_write() {
    #[rustfmt::skip]
    let cases = [
        // 2,000 plain × $3/M + 1,000 read × $0.30/M + 2,000 written × $3.75/M
        ("claude-sonnet-4-5", "anthropic", usage(5000, 100, 1000, 2000, 0), None, 0.0138, 0.0015),
        ("anthropic/claude-haiku-4-5", "anthropic", usage(10_000, 800, 9000, 0, 0), None, 0.0019, 0.004),
        ("claude-opus-4-5", "anthropic", usage(3000, 2000, 0, 2500, 1200), None, 0.018125, 0.05),
    ];
    check(&cases);
}

#[test]
fn anthropic_one_hour_cache_writes() {
    // claude-sonnet-4-5: 5-minute writes $3.75/M, 1-hour writes $6/M (hand-computed).
    let mut u = usage(5000, 0, 0, 3000, 0);
    u.extra.insert(
        "cache_creation".into(),
        serde_json::json!({"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000}),
    );
    let c = PriceTable::global()
        .get("claude-sonnet-4-5")
        .unwrap()
        .cost(&u, None);
    close(c.prompt, 2000.0 * 3e-6 + 1000.0 * 3.75e-6 + 2000.0 * 6e-6);
}

#[test]
fn gemini_long_context_and_reasoning() {
    #[rustfmt::skip]
    let cases = [
        // Above 200k prompt tokens every token is priced at the long-context rates.
        ("gemini/gemini-2.5-pro", "gemini", usage(300_000, 1000, 100_000, 0, 0), None, 0.525, 0.015000000000000001),
        ("gemini/gemini-2.5-pro", "gemini", usage(100_000, 1000, 0, 0, 0), None, 0.125, 0.01),
        ("gemini/gemini-2.5-flash", "gemini", usage(4000, 3000, 0, 0, 2000), None, 0.0012, 0.0075),
        ("vertex_ai/gemini-2.5-flash", "vertex_ai", usage(4000, 3000, 1000, 0, 0), None, 0.0009299999999999999, 0.007500000000000001),
    ];
    check(&cases);
}

#[test]
fn other_vendors() {
    #[rustfmt::skip]
    let cases = [
        ("deepseek/deepseek-chat", "deepseek", usage(10_000, 1000, 8000, 0, 0), None, 0.0007840000000000001, 0.00042),
        ("mistral/mistral-small-latest", "mistral", usage(1000, 500, 0, 0, 0), None, 0.00015, 0.0003),
        ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "together_ai", usage(1000, 500, 0, 0, 0), None, 0.00104, 0.00052),
        // Fireworks bills cached input at half the input price when it publishes none.
        ("fireworks_ai/accounts/fireworks/models/gpt-oss-120b", "fireworks_ai", usage(10_000, 500, 4000, 0, 0), None, 0.0009599999999999999, 0.0003),
        ("groq/openai/gpt-oss-120b", "groq", usage(1000, 500, 0, 0, 0), None, 0.00015, 0.0003),
        // Cohere command-a: $2.50/M in, $10/M out (hand-computed).
        ("cohere/command-a-03-2025", "cohere", usage(1000, 500, 0, 0, 0), None, 0.0025, 0.005),
    ];
    check(&cases);
}

#[test]
fn xai_reasoning_outside_completion() {
    #[rustfmt::skip]
    let cases = [
        // xAI reports reasoning outside completion_tokens (total = 2,000 > 1,500): both billed.
        ("xai/grok-code-fast-1", "xai", usage_total(1000, 500, 2000, 500), None, 0.001, 0.002),
        // Already folded in (total = prompt + completion): not counted twice.
        ("xai/grok-code-fast-1", "xai", usage(1000, 1000, 0, 0, 500), None, 0.001, 0.002),
    ];
    check(&cases);
}

fn usage_total(pt: u64, ct: u64, total: u64, reasoning: u64) -> Usage {
    let mut u = usage(pt, ct, 0, 0, reasoning);
    u.total_tokens = total;
    u
}

#[test]
fn reasoning_price_when_the_model_has_one() {
    let p = ModelPrice::new(1e-6, 2e-6).with_reasoning(5e-6);
    let c = p.cost(&usage(0, 1000, 0, 0, 600), None);
    close(c.completion, 400.0 * 2e-6 + 600.0 * 5e-6);
}

#[test]
fn audio_tokens_at_audio_prices() {
    // gpt-4o-audio-preview-2024-12-17: text $2.50/$10, audio $40/$80 per M (hand-computed).
    let mut u = Usage::new(1000, 1000);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        audio_tokens: Some(400),
        ..Default::default()
    });
    u.completion_tokens_details = Some(CompletionTokensDetails {
        audio_tokens: Some(300),
        ..Default::default()
    });
    let c = PriceTable::global()
        .get("gpt-4o-audio-preview-2024-12-17")
        .unwrap()
        .cost(&u, None);
    close(c.prompt, 600.0 * 2.5e-6 + 400.0 * 40e-6);
    close(c.completion, 700.0 * 10e-6 + 300.0 * 80e-6);
}

#[test]
fn overlapping_details_are_not_double_counted() {
    // A vendor that reports text_tokens including the cached ones.
    let mut u = Usage::new(1000, 0);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(600),
        text_tokens: Some(1000),
        ..Default::default()
    });
    let c = ModelPrice::new(1e-6, 0.0)
        .with_cache_read(0.1e-6)
        .cost(&u, None);
    close(c.prompt, 400.0 * 1e-6 + 600.0 * 0.1e-6);
}

#[test]
fn flat_override_prices_cache_at_input() {
    // A deployment's own prices (LiteLLM custom pricing): cache tokens at the input price.
    let p = ModelPrice::new(2e-6, 4e-6);
    let c = p.cost(&usage(1000, 100, 600, 200, 50), None);
    close(c.prompt, 1000.0 * 2e-6);
    close(c.completion, 100.0 * 4e-6);
}

#[test]
fn free_functions_and_responses() {
    let (p, c) = cost_per_token("anthropic/claude-sonnet-4-5", &usage(1000, 500, 0, 0, 0)).unwrap();
    close(p, 0.003);
    close(c, 0.0075);
    assert!(cost_per_token("no-such-model-xyz", &Usage::new(1, 1)).is_none());

    let mut resp = ChatResponse {
        model: "gpt-4o-mini-2024-07-18".into(),
        usage: Some(usage(1000, 500, 0, 0, 0)),
        ..Default::default()
    };
    resp.meta = ResponseMeta::new("openai", "gpt-4o-mini");
    close(completion_cost(&resp).unwrap(), 0.00045);
    // Served model unknown: the requested one prices it.
    resp.model = "something-else".into();
    close(completion_cost(&resp).unwrap(), 0.00045);
    // Azure deployments have arbitrary names: the vendor's model name prices them.
    resp.model = "gpt-4o-2024-08-06".into();
    resp.meta = ResponseMeta::new("azure", "my-gpt4o-deployment");
    close(completion_cost(&resp).unwrap(), 0.0025 + 0.005);
    // Flex tier from the response.
    resp.model = "gpt-5".into();
    resp.meta = ResponseMeta::new("openai", "gpt-5");
    resp.service_tier = Some("flex".into());
    close(
        completion_cost(&resp).unwrap(),
        1000.0 * 0.625e-6 + 500.0 * 5e-6,
    );
    // Cache hits cost nothing; no usage, no cost.
    resp.meta.cache_hit = true;
    assert_eq!(completion_cost(&resp), Some(0.0));
    resp.meta.cache_hit = false;
    resp.usage = None;
    assert_eq!(completion_cost(&resp), None);
}

#[test]
fn mock_responses_are_priced_as_the_model_they_imitate() {
    let mut resp = ChatResponse {
        model: "gpt-4o-mini".into(),
        usage: Some(Usage::new(1000, 500)),
        ..Default::default()
    };
    resp.meta = ResponseMeta::new("mock", "gpt-4o-mini");
    close(completion_cost(&resp).unwrap(), 0.00045);
}

#[test]
fn embeddings_and_text_completions() {
    let mut e = EmbeddingResponse {
        model: "text-embedding-3-large".into(),
        ..Default::default()
    };
    e.usage.prompt_tokens = 10_000;
    e.usage.total_tokens = 10_000;
    e.meta = ResponseMeta::new("openai", "text-embedding-3-large");
    close(embedding_cost(&e).unwrap(), 10_000.0 * 0.13e-6);
    e.usage.prompt_tokens = 0; // some vendors only send total_tokens
    close(embedding_cost(&e).unwrap(), 10_000.0 * 0.13e-6);
    e.meta.cache_hit = true;
    assert_eq!(embedding_cost(&e), Some(0.0));

    let mut t = TextCompletionResponse {
        model: "gpt-3.5-turbo-instruct".into(),
        usage: Some(Usage::new(1000, 500)),
        ..Default::default()
    };
    t.meta = ResponseMeta::new("openai", "gpt-3.5-turbo-instruct");
    // $1.50/M in, $2/M out
    close(text_completion_cost(&t).unwrap(), 0.0015 + 0.001);
}

#[test]
fn extreme_usage_never_panics() {
    let t = PriceTable::global();
    let mut u = usage(u64::MAX, u64::MAX, u64::MAX, u64::MAX, u64::MAX);
    u.total_tokens = 0;
    for (_, p) in t.iter().take(200) {
        for tier in [None, Some("flex"), Some("priority")] {
            let c = p.cost(&u, tier);
            assert!(c.total() >= 0.0);
            let c = p.cost(&Usage::default(), tier);
            assert_eq!(c.total(), 0.0);
        }
    }
}

#[test]
fn format_usd_rounds_for_display_only() {
    assert_eq!(format_usd(0.0), "$0.000000");
    assert_eq!(format_usd(1.23456789), "$1.234568");
    assert_eq!(format_usd(f64::NAN), "$?");
}

#[test]
fn deepseek_off_peak_prices_by_utc_time() {
    use std::time::{Duration, UNIX_EPOCH};
    let p = PriceTable::global()
        .get("deepseek/deepseek-v4-flash")
        .unwrap();
    let u = usage(10_000, 2000, 8000, 0, 0);
    // Expected numbers: Python LiteLLM's generic_cost_per_token with current_time set.
    for (unix, prompt, completion) in [
        (1_795_575_600, 0.0006479999999999999, 0.0024), // Wed 2026-11-25 03:00 UTC: peak
        (1_795_582_800, 0.00032399999999999996, 0.0012), // Wed 05:00: off-peak
        (1_795_834_800, 0.00032399999999999996, 0.0012), // Sat 03:00: off-peak all day
        (1_795_568_399, 0.00032399999999999996, 0.0012), // Wed 00:59:59: off-peak
        (1_795_568_400, 0.0006479999999999999, 0.0024), // Wed 01:00: peak again
    ] {
        let c = p.cost_at(&u, None, UNIX_EPOCH + Duration::from_secs(unix));
        close(c.prompt, prompt);
        close(c.completion, completion);
    }
}
