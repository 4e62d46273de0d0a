use super::*;

fn key(t: &PriceTable, model: &str, provider: Option<&str>) -> Option<String> {
    t.resolve(model, provider).map(|r| r.key.to_owned())
}

#[test]
fn the_shipped_table_parses_whole() {
    let (t, bad) = PriceTable::parse_builtin(BUILTIN_TSV);
    assert!(bad.is_empty(), "unreadable lines: {bad:?}");
    assert_eq!(t.len(), PriceTable::global().len());
    for (k, p) in t.iter() {
        assert!(
            p.input_cost_per_token.is_finite() && p.input_cost_per_token >= 0.0,
            "{k}"
        );
        assert!(
            p.output_cost_per_token.is_finite() && p.output_cost_per_token >= 0.0,
            "{k}"
        );
        assert!(
            p.input_cost_per_token < 1e-3 && p.output_cost_per_token < 1e-2,
            "{k}: per token?"
        );
        assert!(!p.provider.is_empty(), "{k}");
    }
}

#[test]
fn coverage_at_least_150_models_across_the_providers() {
    let t = PriceTable::global();
    assert!(t.len() >= 150, "{} models", t.len());
    let mut per: HashMap<&str, usize> = HashMap::new();
    for (_, p) in t.iter() {
        *per.entry(p.provider.as_str()).or_default() += 1;
    }
    for (provider, min) in [
        ("openai", 60),
        ("azure", 40),
        ("anthropic", 15),
        ("gemini", 15),
        ("vertex_ai", 20),
        ("cohere", 8),
        ("mistral", 15),
        ("groq", 10),
        ("deepseek", 4),
        ("xai", 10),
        ("together_ai", 10),
        ("fireworks_ai", 10),
        ("bedrock", 40),
    ] {
        let n = per.get(provider).copied().unwrap_or(0);
        assert!(n >= min, "{provider}: {n} models, want ≥ {min}");
    }
    // The most-used current models, by the names users write.
    for m in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "gpt-3.5-turbo",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "azure/gpt-4o",
        "azure/gpt-4.1",
        "azure/o3-mini",
        "azure/text-embedding-3-small",
        "claude-3-haiku-20240307",
        "claude-3-5-sonnet-20241022",
        "claude-3-5-haiku-20241022",
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-20250514",
        "claude-opus-4-20250514",
        "claude-opus-4-1",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "claude-opus-4-5",
        "gemini/gemini-1.5-pro",
        "gemini/gemini-2.0-flash",
        "gemini/gemini-2.0-flash-lite",
        "gemini/gemini-2.5-pro",
        "gemini/gemini-2.5-flash",
        "gemini/gemini-2.5-flash-lite",
        "vertex_ai/gemini-2.5-pro",
        "vertex_ai/claude-sonnet-4-5",
        "cohere/command-r-plus-08-2024",
        "cohere/command-r-08-2024",
        "cohere/command-a-03-2025",
        "cohere/embed-english-v3.0",
        "cohere/embed-v4.0",
        "mistral/mistral-large-latest",
        "mistral/mistral-small-latest",
        "mistral/codestral-latest",
        "mistral/mistral-embed",
        "groq/llama-3.3-70b-versatile",
        "groq/llama-3.1-8b-instant",
        "deepseek/deepseek-chat",
        "deepseek/deepseek-reasoner",
        "xai/grok-4",
        "xai/grok-3-mini",
        "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct",
        "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0",
        "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0",
        "bedrock/amazon.nova-pro-v1:0",
        "bedrock/amazon.nova-lite-v1:0",
        "bedrock/meta.llama3-1-70b-instruct-v1:0",
        "bedrock/amazon.titan-embed-text-v2:0",
        "bedrock/cohere.embed-english-v3",
    ] {
        assert!(t.get(m).is_some(), "{m} has no price");
    }
}

#[test]
fn published_prices_of_a_few_models() {
    let t = PriceTable::global();
    let p = t.get("gpt-4o").unwrap();
    assert_eq!(
        (p.input_cost_per_token, p.output_cost_per_token),
        (2.5e-6, 1e-5)
    );
    assert_eq!(p.cache_read_input_token_cost, Some(1.25e-6));
    assert_eq!(
        (p.max_input_tokens, p.max_output_tokens),
        (Some(128_000), Some(16_384))
    );
    assert_eq!(p.mode, Mode::Chat);
    let p = t.get("claude-sonnet-4-5").unwrap();
    assert_eq!(p.cache_creation_input_token_cost, Some(3.75e-6));
    assert_eq!(p.cache_read_input_token_cost, Some(3e-7));
    let p = t.get("text-embedding-3-small").unwrap();
    assert_eq!(
        (p.mode, p.embedding_cost_per_token()),
        (Mode::Embedding, 2e-8)
    );
    let p = t.get("gemini/gemini-2.5-pro").unwrap();
    assert_eq!(p.tiers[0].above_tokens, 200_000);
    assert_eq!(p.tiers[0].input_cost_per_token, Some(2.5e-6));
    assert_eq!(
        p.flex.as_ref().unwrap().input_cost_per_token,
        Some(0.625e-6)
    );
    // Per-million text becomes exactly the per-token f64 a per-token table holds.
    assert_eq!(per_million("0.546875"), Some(Some(5.46875e-7)));
    assert_eq!(per_million("0.15"), Some(Some(1.5e-7)));
    assert_eq!(per_million("-"), Some(None));
    assert_eq!(per_million("1e3"), None);
}

#[test]
fn resolution_of_prefixes_versions_and_aliases() {
    let t = PriceTable::global();
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        // provider prefixes
        ("openai/gpt-4o", None, Some("gpt-4o")),
        ("gpt-4o", Some("openai"), Some("gpt-4o")),
        ("GPT-4o", None, Some("gpt-4o")),
        ("azure/gpt-4o", None, Some("azure/gpt-4o")),
        ("gpt-4o", Some("azure"), Some("azure/gpt-4o")),
        (
            "gemini/gemini-2.5-flash",
            None,
            Some("gemini/gemini-2.5-flash"),
        ),
        (
            "gemini-2.5-flash",
            Some("gemini"),
            Some("gemini/gemini-2.5-flash"),
        ),
        ("vertex_ai/gemini-2.5-flash", None, Some("gemini-2.5-flash")),
        (
            "vertex_ai/gemini-2.5-flash@001",
            None,
            Some("gemini-2.5-flash"),
        ),
        (
            "models/gemini-2.5-flash",
            Some("gemini"),
            Some("gemini/gemini-2.5-flash"),
        ),
        (
            "vertex_ai/claude-sonnet-4-5@20250929",
            None,
            Some("vertex_ai/claude-sonnet-4-5@20250929"),
        ),
        (
            "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0",
            None,
            Some("anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ),
        (
            "bedrock_converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            None,
            Some("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ),
        (
            "bedrock/us-east-1/anthropic.claude-3-5-sonnet-20241022-v2:0",
            None,
            Some("anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ),
        (
            "bedrock/converse/amazon.nova-pro-v1:0",
            None,
            Some("amazon.nova-pro-v1:0"),
        ),
        (
            "groq/llama-3.3-70b-versatile",
            None,
            Some("groq/llama-3.3-70b-versatile"),
        ),
        (
            "llama-3.3-70b-versatile",
            Some("groq"),
            Some("groq/llama-3.3-70b-versatile"),
        ),
        (
            "fireworks_ai/llama-v3p3-70b-instruct",
            None,
            Some("fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct"),
        ),
        (
            "cohere_chat/command-r-plus-08-2024",
            None,
            Some("command-r-plus-08-2024"),
        ),
        (
            "mistral-large-latest",
            None,
            Some("mistral/mistral-large-latest"),
        ),
        // dated versions and aliases
        ("gpt-4o-2024-08-06", None, Some("gpt-4o-2024-08-06")),
        ("gpt-4o-2099-01-01", None, Some("gpt-4o")),
        (
            "azure/gpt-4.1-mini-2099-12-31",
            None,
            Some("azure/gpt-4.1-mini"),
        ),
        (
            "claude-3-5-sonnet-20241022",
            None,
            Some("claude-3-5-sonnet-20241022"),
        ),
        ("claude-3-5-sonnet", None, Some("claude-3-5-sonnet-latest")),
        (
            "anthropic/claude-sonnet-4-5-20250929",
            None,
            Some("claude-sonnet-4-5-20250929"),
        ),
        // fine-tunes: their own price when listed, else the base model's
        (
            "ft:gpt-4o-2024-08-06:acme::abc123",
            None,
            Some("ft:gpt-4o-2024-08-06"),
        ),
        (
            "ft:gpt-4o-mini-2024-07-18:acme:custom:xyz",
            None,
            Some("ft:gpt-4o-mini-2024-07-18"),
        ),
        (
            "ft:gpt-4.5-preview-2099-01-01:acme::id",
            None,
            Some("gpt-4.5-preview"),
        ),
        ("ft:acme-base:acme::id", None, None),
        (
            "ft:o3-mini-2025-01-31:acme::id",
            None,
            Some("o3-mini-2025-01-31"),
        ),
        // look-through prefixes
        ("openrouter/openai/gpt-4o", None, Some("gpt-4o")),
        ("mock/gpt-4o-mini", None, Some("gpt-4o-mini")),
        ("gpt-4o-mini", Some("mock"), Some("gpt-4o-mini")),
        // no price
        ("ollama/llama3.2", None, None),
        ("azure/my-own-deployment", None, None),
        ("", None, None),
        ("/", None, None),
        ("openai/", None, None),
    ];
    for (model, provider, want) in cases {
        assert_eq!(
            key(t, model, *provider).as_deref(),
            *want,
            "{model} (provider {provider:?})"
        );
    }
}

#[test]
fn provider_mismatch_is_not_priced() {
    let t = PriceTable::global();
    // A bare OpenAI name asked of Azure that Azure does not list is not given OpenAI's price.
    assert!(t.resolve("gpt-4o-search-preview", Some("azure")).is_none());
    assert!(t.resolve("gpt-4o-search-preview", Some("openai")).is_some());
}

#[test]
fn insert_and_merge_override_shipped_prices() {
    let mut t = PriceTable::builtin();
    let before = t.len();
    t.insert(
        "GPT-4o",
        ModelPrice::new(1e-6, 2e-6).with_provider("openai"),
    );
    assert_eq!(t.len(), before);
    assert_eq!(t.get("openai/gpt-4o").unwrap().input_cost_per_token, 1e-6);
    // The shared table is untouched.
    assert_eq!(
        PriceTable::global()
            .get("gpt-4o")
            .unwrap()
            .input_cost_per_token,
        2.5e-6
    );

    let mut other = PriceTable::new();
    other.insert(
        "my-llm",
        ModelPrice::new(3e-6, 4e-6).with_provider("hosted_vllm"),
    );
    t.merge(other);
    assert_eq!(t.len(), before + 1);
    assert_eq!(t.get("my-llm").unwrap().output_cost_per_token, 4e-6);
    assert!(t.providers().any(|p| p == "hosted_vllm"));
}

const SAMPLE: &str = r#"{
    "sample_spec": {
        "input_cost_per_token": 0.0,
        "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
        "max_input_tokens": "max input tokens, if the provider specifies it",
        "max_tokens": "LEGACY parameter",
        "mode": "one of: chat, embedding, completion"
    },
    "acme-chat-1": {
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": "4e-06",
        "cache_read_input_token_cost": 1e-07,
        "cache_creation_input_token_cost": 1.25e-06,
        "cache_creation_input_token_cost_above_1hr": 2e-06,
        "output_cost_per_reasoning_token": 8e-06,
        "input_cost_per_audio_token": null,
        "litellm_provider": "openai",
        "max_input_tokens": 128000,
        "max_output_tokens": 16384,
        "max_tokens": 16384,
        "mode": "chat",
        "supports_function_calling": true,
        "supported_regions": ["global"],
        "some_future_key": {"nested": [1, 2, 3]}
    },
    "Acme-Long": {
        "input_cost_per_token": 1.25e-06,
        "output_cost_per_token": 1e-05,
        "input_cost_per_token_above_200k_tokens": 2.5e-06,
        "output_cost_per_token_above_200k_tokens": 1.5e-05,
        "cache_read_input_token_cost_above_200k_tokens": "bad",
        "input_cost_per_token_flex": 6.25e-07,
        "input_cost_per_token_above_200k_tokens_flex": 1.25e-06,
        "input_cost_per_token_priority": 2.5e-06,
        "litellm_provider": "vertex_ai-language-models",
        "max_tokens": 65535,
        "mode": "chat"
    },
    "bedrock/acme-embed": {
        "input_cost_per_token": 2e-08,
        "litellm_provider": "bedrock_converse",
        "max_input_tokens": "8192",
        "mode": "embedding"
    },
    "acme-image": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04},
    "acme-null": {"input_cost_per_token": null, "output_cost_per_token": null},
    "acme-neg": {"input_cost_per_token": -1, "output_cost_per_token": 1e-6, "max_tokens": -5},
    "not-an-object": 42
}"#;

#[test]
fn litellm_json_sample_loads() {
    let t = PriceTable::from_litellm_json(SAMPLE).unwrap();
    assert_eq!(
        t.len(),
        4,
        "{:?}",
        t.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    assert!(t.get_exact("sample_spec").is_none());
    assert!(t.get_exact("acme-image").is_none());

    let p = t.get("openai/acme-chat-1").unwrap();
    assert_eq!(p.provider, "openai");
    assert_eq!(p.mode, Mode::Chat);
    assert_eq!(
        (p.input_cost_per_token, p.output_cost_per_token),
        (1e-6, 4e-6)
    );
    assert_eq!(p.cache_read_input_token_cost, Some(1e-7));
    assert_eq!(p.cache_creation_input_token_cost, Some(1.25e-6));
    assert_eq!(p.cache_creation_input_token_cost_1h, Some(2e-6));
    assert_eq!(p.output_cost_per_reasoning_token, Some(8e-6));
    assert_eq!(p.input_cost_per_audio_token, None);
    assert_eq!(
        (p.max_input_tokens, p.max_output_tokens),
        (Some(128_000), Some(16_384))
    );

    let p = t.get("vertex_ai/acme-long").unwrap();
    assert_eq!(p.provider, "vertex_ai");
    assert_eq!(p.max_output_tokens, Some(65_535));
    assert_eq!(p.tiers.len(), 1);
    assert_eq!(p.tiers[0].above_tokens, 200_000);
    assert_eq!(p.tiers[0].input_cost_per_token, Some(2.5e-6));
    assert_eq!(p.tiers[0].cache_read_input_token_cost, None);
    let flex = p.flex.as_ref().unwrap();
    assert_eq!(flex.input_cost_per_token, Some(6.25e-7));
    assert_eq!(flex.tiers[0].input_cost_per_token, Some(1.25e-6));
    assert_eq!(
        p.priority.as_ref().unwrap().input_cost_per_token,
        Some(2.5e-6)
    );
    // Long-context and flex prices apply in costs.
    let u = crate::types::Usage::new(300_000, 1000);
    let c = p.cost(&u, None);
    assert!((c.prompt - 300_000.0 * 2.5e-6).abs() < 1e-12);
    assert!((c.completion - 1000.0 * 1.5e-5).abs() < 1e-12);
    let c = p.cost(&u, Some("flex"));
    assert!((c.prompt - 300_000.0 * 1.25e-6).abs() < 1e-12);
    // flex has no output price above 200k: the standard long-context one.
    assert!((c.completion - 1000.0 * 1.5e-5).abs() < 1e-12);

    let p = t.get("bedrock/acme-embed").unwrap();
    assert_eq!((p.provider.as_str(), p.mode), ("bedrock", Mode::Embedding));
    assert_eq!(p.max_input_tokens, Some(8192));
    assert_eq!(p.output_cost_per_token, 0.0);

    let p = t.get_exact("acme-neg").unwrap();
    assert_eq!(p.input_cost_per_token, 0.0);
    assert_eq!(p.max_output_tokens, None);
}

#[test]
fn litellm_json_merges_over_the_builtin_table() {
    let mut t = PriceTable::builtin();
    let n = t
        .load_litellm_json(r#"{"gpt-4o": {"input_cost_per_token": 9e-6, "output_cost_per_token": 9e-6, "litellm_provider": "openai"}}"#)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(t.get("openai/gpt-4o").unwrap().input_cost_per_token, 9e-6);
    assert_eq!(t.get("gpt-4o").unwrap().cache_read_input_token_cost, None);
}

#[test]
fn litellm_json_errors_and_files() {
    for bad in ["", "[]", "not json", "{\"a\": 1", "null"] {
        let e = PriceTable::from_litellm_json(bad).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }
    assert_eq!(PriceTable::from_litellm_json("{}").unwrap().len(), 0);

    let dir = std::env::temp_dir().join(format!("litellm-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model_prices_and_context_window.json");
    std::fs::write(&path, SAMPLE).unwrap();
    assert_eq!(PriceTable::from_litellm_json_file(&path).unwrap().len(), 4);
    let missing = PriceTable::from_litellm_json_file(dir.join("nope.json")).unwrap_err();
    assert_eq!(missing.kind(), crate::ErrorKind::Config);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_shipped_format_rejects_bad_lines_without_panicking() {
    let text = "# comment\n\
        good\topenai\tchat\t1\t2\t-\t-\t100\t10\n\
        short\topenai\tchat\n\
        badnum\topenai\tchat\tx\t2\t-\t-\t-\t-\n\
        badextra\topenai\tchat\t1\t2\t-\t-\t-\t-\tnope\n\
        badtier\topenai\tchat\t1\t2\t-\t-\t-\t-\t>abc=1,2,,\n\
        tiers\tgemini\tchat\t1\t2\t0.1\t-\t-\t-\tr=3 >100=2,4,, flex=0.5,1,, priority>100=9,,,\n";
    let (t, bad) = PriceTable::parse_builtin(text);
    assert_eq!(bad, vec![3, 4, 5, 6]);
    assert_eq!(t.len(), 2);
    let p = t.get_exact("tiers").unwrap();
    assert_eq!(p.output_cost_per_reasoning_token, Some(3e-6));
    assert_eq!(p.tiers[0].output_cost_per_token, Some(4e-6));
    assert_eq!(
        p.priority.as_ref().unwrap().tiers[0].input_cost_per_token,
        Some(9e-6)
    );
    assert_eq!(p.priority.as_ref().unwrap().input_cost_per_token, None);
}

#[test]
fn helpers() {
    assert_eq!(strip_version("gpt-4o-2024-08-06"), Some("gpt-4o"));
    assert_eq!(
        strip_version("claude-3-5-sonnet-20241022"),
        Some("claude-3-5-sonnet")
    );
    assert_eq!(
        strip_version("claude-3-5-sonnet@20241022"),
        Some("claude-3-5-sonnet")
    );
    assert_eq!(
        strip_version("gemini-2.5-flash-preview-09-2025"),
        Some("gemini-2.5-flash-preview")
    );
    assert_eq!(strip_version("gemini-1.5-pro-002"), Some("gemini-1.5-pro"));
    assert_eq!(strip_version("gpt-4o"), None);
    assert_eq!(strip_version("@x"), None);
    assert_eq!(
        strip_finetune("ft:gpt-3.5-turbo:my-org:custom_suffix:id"),
        Some("ft:gpt-3.5-turbo")
    );
    assert_eq!(
        strip_finetune("ft:gpt-4o-2024-08-06:acme::abc"),
        Some("ft:gpt-4o-2024-08-06")
    );
    assert_eq!(strip_finetune("gpt-4o"), None);
    assert_eq!(
        bedrock_base("invoke/us-west-2/anthropic.claude-v2:1:18k"),
        "anthropic.claude-v2:1"
    );
    assert_eq!(
        bedrock_base(
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
        ),
        "anthropic.claude-3-haiku-20240307-v1:0"
    );
    assert_eq!(
        canonical_provider("vertex_ai-anthropic_models"),
        "vertex_ai"
    );
    assert_eq!(canonical_provider("Bedrock_Converse"), "bedrock");
    assert_eq!(Mode::parse("embedding").as_str(), "embedding");
    assert_eq!(Mode::parse("image_generation"), Mode::Other);
    let p = ModelPrice::new(1e-6, 3e-6);
    assert!((p.unit_cost() - 0.004).abs() < 1e-15);
    assert!(p.service_tier(Some("flex")).is_none());
}

#[test]
fn resolution_never_panics_on_odd_strings() {
    let t = PriceTable::global();
    for s in [
        "ft:",
        "ft::::",
        "@",
        "-",
        "--2024-01-01",
        "bedrock/",
        "bedrock/us.",
        "a/b/c/d/e/f/g",
        "models/",
        "vertex_ai/@",
        "\u{1F600}/\u{1F600}",
        "gpt-4o-\u{1F600}",
        "x-0000-00-00",
        "bedrock/arn:",
        "openrouter/openrouter/openrouter/openrouter/openrouter/gpt-4o",
    ] {
        let _ = t.resolve(s, None);
        let _ = t.resolve(s, Some("bedrock"));
        let _ = t.resolve(s, Some(""));
    }
}

#[test]
fn off_peak_windows_and_litellm_off_peak_json() {
    use std::time::{Duration, UNIX_EPOCH};
    let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
    // 1970-01-01 was a Thursday.
    let w = OffPeakWindow::new(1 << 4, 22 * 60, 2 * 60); // Thursdays 22:00–02:00
    // As LiteLLM reads it: the weekday of the moment, then the time in the wrapped range.
    assert!(w.is_open(at(60)));
    assert!(!w.is_open(at(12 * 3600)));
    assert!(w.is_open(at(22 * 3600)));
    assert!(!w.is_open(at(86_400 + 3600))); // Friday 01:00 (the day is Friday)
    assert!(OffPeakWindow::new(0, 0, 0).is_open(at(123_456)));
    assert!(!OffPeakWindow::new(0, 60, 120).is_open(at(120 * 60)));

    let t = PriceTable::from_litellm_json(
        r#"{"dsk": {"input_cost_per_token": 2e-7, "output_cost_per_token": 4e-7,
            "litellm_provider": "deepseek",
            "off_peak_pricing": {"input_cost_per_token": 1e-7, "output_cost_per_token": "2e-7",
                "hours_utc": "16:30-00:30",
                "windows": [{"hours_utc": ["04:00-06:00", "bad"], "weekdays": [6, "sun", 9]},
                            {"hours_utc": "01:00-02:00", "weekdays": []}]}}}"#,
    )
    .unwrap();
    let op = t.get("dsk").unwrap().off_peak.as_ref().unwrap();
    assert_eq!(op.windows.len(), 2);
    assert_eq!(op.windows[0], OffPeakWindow::new(0, 16 * 60 + 30, 30));
    assert_eq!(
        op.windows[1],
        OffPeakWindow::new((1 << 6) | (1 << 7), 240, 360)
    );
    assert!(op.is_open(at(17 * 3600)));
    let p = t.get("dsk").unwrap();
    let u = crate::types::Usage::new(1000, 1000);
    assert_eq!(
        p.cost_at(&u, None, at(17 * 3600)).total(),
        1000.0 * 1e-7 + 1000.0 * 2e-7
    );
    assert_eq!(
        p.cost_at(&u, None, at(12 * 3600)).total(),
        1000.0 * 2e-7 + 1000.0 * 4e-7
    );
}
