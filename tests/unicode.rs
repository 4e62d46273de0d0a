//! Property tests: arbitrary Unicode in every string a user, a config or a server hands the
//! crate (model strings and prefixes, deployment names, aliases, price lookups, metadata, tags,
//! config values, the model an upstream answer names) never panics. Each property runs a few
//! hundred generated cases in `cargo test`; the generators favour the characters that broke
//! byte-offset code before (multi-byte letters, zero-width spaces, combining marks, `-`, `@`,
//! `/`, `:`, digits) next to fully arbitrary strings.

use std::sync::Arc;

use futures::StreamExt;
use litellm::accounting::ledger::{Budget, Ledger, Period, Quota, Scope};
use litellm::accounting::{PriceTable, completion_cost, cost_per_token};
use litellm::config::RouterConfig;
use litellm::observe::Metrics;
use litellm::router::Deployment;
use litellm::{
    ChatRequest, ChatResponse, Client, Message, Metadata, MockResponse, Router, Usage,
    infer_provider, split_model,
};
use proptest::prelude::*;

/// Strings that look like model names, built from the pieces price and model parsers cut at,
/// mixed with multi-byte characters.
fn model_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("gpt-4o".to_owned()),
        Just("-".to_owned()),
        Just("@".to_owned()),
        Just("/".to_owned()),
        Just(":".to_owned()),
        Just("ft:".to_owned()),
        Just("models/".to_owned()),
        Just("-2024-08-06".to_owned()),
        Just("-20241022".to_owned()),
        Just("-09-2025".to_owned()),
        Just("-001".to_owned()),
        Just("\u{200b}".to_owned()),
        Just("é".to_owned()),
        Just("aéé".to_owned()),
        Just("\u{301}".to_owned()),
        Just("🦀".to_owned()),
        Just("arn:aws:bedrock:".to_owned()),
        Just("us.".to_owned()),
        "[0-9]{1,8}",
        "\\PC{0,4}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

/// Any string, or a model-like one.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![model_like(), any::<String>()]
}

/// One HTTP client for every case (building one loads the root certificates).
fn http() -> litellm::reqwest::Client {
    static HTTP: std::sync::OnceLock<litellm::reqwest::Client> = std::sync::OnceLock::new();
    HTTP.get_or_init(litellm::reqwest::Client::new).clone()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const PROVIDERS: &[&str] = &[
    "openai",
    "azure",
    "anthropic",
    "gemini",
    "vertex_ai",
    "bedrock",
    "fireworks_ai",
    "mistral",
    "groq",
    "mock",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn model_strings_and_price_lookups_never_panic(name in text(), p in 0..PROVIDERS.len()) {
        let _ = split_model(&name);
        let _ = infer_provider(&name);
        let prices = PriceTable::global();
        let _ = prices.get(&name);
        let _ = prices.resolve(&name, Some(PROVIDERS[p]));
        let _ = prices.resolve(&name, None);
        let usage = Usage::new(10, 5);
        let _ = cost_per_token(&name, &usage);
        let _ = cost_per_token(&format!("{}/{name}", PROVIDERS[p]), &usage);
        let _ = prices.price_for_response(Some(PROVIDERS[p]), &name, &name);
    }

    #[test]
    fn answers_naming_any_model_are_priced_without_panic(name in text()) {
        // The model an upstream answer names goes through the same normaliser.
        let resp: ChatResponse = serde_json::from_value(serde_json::json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        })).unwrap();
        let _ = completion_cost(&resp);
    }

    #[test]
    fn calls_with_any_model_metadata_and_tags_never_panic(
        model in text(), user in text(), key in text(), tag in text(), value in text(),
    ) {
        let ledger = Arc::new(
            Ledger::new()
                .budget(Budget::new(Scope::User(user.clone()), 1.0, Period::Daily))
                .budget(Budget::new(Scope::Tag(tag.clone()), 1.0, Period::Hourly))
                .quota(Quota::new(Scope::Key(key.clone())).rpm(1_000_000)),
        );
        let metrics = Metrics::new();
        let client = Client::builder().http_client(http()).ledger(ledger.clone()).metrics(metrics.clone()).build().unwrap();
        let meta = Metadata::new().user(user).key(key).tag(tag).value(value.clone(), value.clone());
        rt().block_on(async {
            let req = ChatRequest::new(format!("mock/{model}"), vec![Message::user(value.clone())])
                .metadata(meta.clone())
                .mock_response(MockResponse::text(value.clone()));
            // Any outcome but a panic: an error for a model name the crate refuses is fine.
            let _ = client.chat(req.clone()).await;
            if let Ok(mut s) = client.chat_stream(req).await {
                while s.next().await.is_some() {}
            }
        });
        let _ = metrics.render();
        let _ = ledger.export_json();
    }

    #[test]
    fn routers_with_any_group_alias_and_deployment_names_never_panic(
        group in text(), alias in text(), id in text(), model in text(), asked in text(),
    ) {
        let client = Client::builder().http_client(http()).build().unwrap();
        let built = Router::builder()
            .client(client)
            .deployment(Deployment::new(group.clone(), format!("mock/{model}")).id(id).tags([alias.clone()]))
            .model_group_alias(alias.clone(), group.clone())
            .build();
        let Ok(router) = built else { return Ok(()) };
        let _ = router.get_available_deployment(&asked);
        let _ = router.get_available_deployment(&alias);
        let _ = router.health();
        rt().block_on(async {
            for name in [&group, &alias, &asked] {
                let _ = router
                    .chat(ChatRequest::new(name.clone(), vec![Message::user("hi")]).mock_response("ok"))
                    .await;
            }
        });
    }

    #[test]
    fn config_values_never_panic(a in text(), b in text(), c in text(), n in any::<f64>()) {
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let yaml = format!(
            "model_list:\n  - model_name: {}\n    litellm_params:\n      model: {}\n      api_base: {}\n      rpm: {n}\n      temperature: {n}\n    model_info:\n      id: {}\nrouter_settings:\n  routing_strategy: {}\n  model_group_alias: {{{}: {}}}\nlitellm_settings:\n  {}: {}\n",
            q(&a), q(&format!("mock/{b}")), q(&c), q(&c), q(&b), q(&c), q(&a), q(&b), q(&a),
        );
        for doc in [yaml.as_str(), a.as_str()] {
            // The raw strings as whole documents too.
            if let Ok(config) = RouterConfig::from_yaml_str(doc) {
                let client = Client::builder().http_client(http()).build().unwrap();
                let _ = config.into_builder().client(client).build();
            }
        }
    }

    #[test]
    fn debug_output_and_cache_keys_of_any_strings_never_panic(
        base in text(), name in text(), value in text(), ns in text(), key in text(),
    ) {
        let d = Deployment::new(name.clone(), format!("mock/{value}"))
            .api_base(base.clone())
            .header(name.clone(), value.clone())
            .api_key(key.clone());
        let _ = format!("{d:?}");
        let req = ChatRequest::new(format!("mock/{name}"), vec![Message::user(value.clone())])
            .api_base(base)
            .api_key(key)
            .extra_header(name.clone(), value.clone())
            .cache_namespace(ns)
            .metadata(Metadata::new().value(name, value));
        let _ = format!("{req:?}");
        let cache = litellm::cache::ResponseCache::new(litellm::cache::CacheConfig::memory());
        let _ = cache.chat_key("g", &req);
    }
}
