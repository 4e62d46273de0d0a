//! LiteLLM config.yaml files load and route.

mod support;

use std::sync::Arc;

use futures::StreamExt;
use litellm::accounting::ledger::{Period, Scope};
use litellm::router::Deployment;
use litellm::{ChatRequest, Client, ErrorKind, Message, Router, config::RouterConfig};
use serde_json::json;
use support::{FakeUpstream, Reply};

fn ok_body(text: &str) -> serde_json::Value {
    json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
}

#[tokio::test]
async fn the_example_config_loads_and_routes() {
    let cfg = RouterConfig::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/config.yaml"))
        .unwrap();
    assert!(cfg.warnings.iter().any(|w| w.contains("general_settings")));
    let router = cfg.build().unwrap();
    assert_eq!(
        router.model_names(),
        ["claude-sonnet", "gpt-4o", "gpt-4o-mini"]
    );
    let d = router.deployments();
    let east = d.iter().find(|d| d.id == "gpt-4o-eastus").unwrap();
    assert_eq!(east.api_key.as_ref().unwrap().expose(), "sk-east-demo");
    assert_eq!((east.rpm, east.weight), (Some(600), Some(3.0)));
    assert_eq!(east.timeout, Some(std::time::Duration::from_secs(30)));
    assert_eq!(east.model_info.max_input_tokens, Some(128_000));
    assert_eq!(east.drop_params, Some(true));
    let claude = d.iter().find(|d| d.model_name == "claude-sonnet").unwrap();
    assert_eq!(claude.model_info.input_cost_per_token, Some(0.000003));
    // routes, through the alias too
    let r = router
        .completion("gpt-4", vec![Message::user("hi")])
        .await
        .unwrap();
    assert_eq!(r.meta.model_group.as_deref(), Some("gpt-4o"));
    assert!(r.meta.deployment_id.unwrap().starts_with("gpt-4o-"));
}

#[tokio::test]
async fn a_realistic_litellm_config_against_real_http() {
    let east = FakeUpstream::start().await;
    let west = FakeUpstream::start().await;
    east.set_default(
        Reply::json(
            429,
            json!({"error": {"message": "slow down", "type": "requests"}}),
        )
        .header("retry-after", "30"),
    );
    west.set_default(Reply::json(200, ok_body("from west")));
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: os.environ/EAST_BASE
      api_key: os.environ/EAST_KEY
      rpm: 100
    model_info:
      id: east
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {west}/v1
      api_key: "sk-west"
      vertex_location: us-central1
    model_info:
      id: west
      mode: chat
      base_model: gpt-4o
router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args:
    lowest_latency_buffer: 0.2
  num_retries: 3
  redis_host: localhost
litellm_settings:
  request_timeout: 30
  success_callback: ["langfuse"]
environment_variables:
  EAST_BASE: {east}/v1
  EAST_KEY: sk-east
"#,
        west = west.url(),
        east = east.url()
    );
    let cfg = RouterConfig::from_yaml_str(&yaml).unwrap();
    assert!(
        cfg.warnings.iter().any(|w| w.contains("redis_host")),
        "{:?}",
        cfg.warnings
    );
    assert!(cfg.warnings.iter().any(|w| w.contains("success_callback")));
    let router = cfg.build().unwrap();
    let west_cfg = router
        .deployments()
        .into_iter()
        .find(|d| d.id == "west")
        .unwrap();
    assert_eq!(west_cfg.params[0].0, "vertex_location");
    for _ in 0..10 {
        let r = router
            .completion("gpt-4o", vec![Message::user("hi")])
            .await
            .unwrap();
        assert_eq!(r.text(), Some("from west"));
    }
    // east answered 429 once, then cooled down for its Retry-After; its key went with it
    assert_eq!(east.request_count(), 1);
    assert_eq!(
        east.last_request()
            .unwrap()
            .header("authorization")
            .as_deref(),
        Some("Bearer sk-east")
    );
    let east_health = router
        .health()
        .into_iter()
        .find(|h| h.id == "east")
        .unwrap();
    assert!(east_health.cooling_until.is_some());
}

#[test]
fn invalid_configs_give_precise_errors() {
    for (yaml, needle) in [
        (
            "model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\n      rpm: many\n",
            "line 5",
        ),
        (
            "model_list:\n  - model_name: a\n    litellm_params: {}\n",
            "model",
        ),
        (
            "model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\nrouter_settings:\n  fallbacks:\n    - a: [\"missing\"]\n",
            "'missing'",
        ),
        (
            "router_settings:\n  retry_policy:\n    SlowErrorRetries: 2\n",
            "SlowErrorRetries",
        ),
        (
            "router_settings:\n  cooldown_time: forever\n",
            "cooldown_time",
        ),
        ("model_list: [\n", "invalid config"),
    ] {
        let err = Router::from_yaml_str(yaml).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{yaml}");
        assert!(err.message().contains(needle), "{needle}: {err}");
    }
    let cfg = RouterConfig::from_yaml_str("model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\nrouter_settings:\n  routing_strategy: usage-based-routing-v2\n").unwrap();
    assert!(cfg.warnings.is_empty());
}

fn embedding_body() -> serde_json::Value {
    json!({"object": "list", "model": "m",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1}})
}

#[test]
fn rpm_and_tpm_are_read_where_litellm_reads_them() {
    // LiteLLM looks at the entry itself, then litellm_params, then model_info.
    let cfg = RouterConfig::from_yaml_str(
        r#"
model_list:
  - model_name: a
    rpm: 7
    tpm: 7000
    litellm_params: {model: mock/a, rpm: 1, tpm: 1}
    model_info: {id: entry-level}
  - model_name: a
    litellm_params: {model: mock/b}
    model_info: {id: in-model-info, rpm: 9, tpm: 9000}
  - model_name: a
    litellm_params: {model: mock/c, rpm: 3}
    model_info: {id: in-params, rpm: 9}
"#,
    )
    .unwrap();
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    let router = cfg.build().unwrap();
    let d = router.deployments();
    let limits = |id: &str| {
        let d = d.iter().find(|d| d.id == id).unwrap();
        (d.rpm, d.tpm)
    };
    assert_eq!(limits("entry-level"), (Some(7), Some(7000)));
    assert_eq!(limits("in-model-info"), (Some(9), Some(9000)));
    assert_eq!(limits("in-params"), (Some(3), None));
}

#[tokio::test]
async fn call_parameters_in_litellm_params_are_request_defaults() {
    let up = FakeUpstream::start().await;
    up.set_default(Reply::json(200, ok_body("ok")));
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {url}/v1
      api_key: sk-test
      temperature: 0.1
      max_tokens: 50
      seed: 7
      stop: ["END"]
      top_p: 0.5
      user: os.environ/DEFAULT_USER
      reasoning_effort: low
      response_format: {{type: json_object}}
      top_k: 40
      extra_body: {{safe_prompt: true}}
      vertex_location: us-central1
      frequency_penalty: 0.25
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {url}/v1
      api_key: sk-test
      dimensions: 256
router_settings:
  default_litellm_params:
    frequency_penalty: 0.5
    presence_penalty: 0.5
environment_variables:
  DEFAULT_USER: team-a
"#,
        url = up.url()
    );
    let cfg = RouterConfig::from_yaml_str(&yaml).unwrap();
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    let router = cfg.build().unwrap();
    let gpt = router
        .deployments()
        .into_iter()
        .find(|d| d.model_name == "gpt-4o")
        .unwrap();
    assert_eq!(gpt.defaults["temperature"], json!(0.1));
    assert_eq!(gpt.params[0].0, "vertex_location"); // still a provider setting

    // A call that sets nothing gets every default.
    router
        .completion("gpt-4o", vec![Message::user("hi")])
        .await
        .unwrap();
    let body = up.last_request().unwrap().json();
    assert_eq!(body["temperature"], json!(0.1));
    assert_eq!(body["max_tokens"], json!(50));
    assert_eq!(body["seed"], json!(7));
    assert_eq!(body["stop"], json!(["END"]));
    assert_eq!(body["top_p"], json!(0.5));
    assert_eq!(body["user"], json!("team-a"));
    assert_eq!(body["reasoning_effort"], json!("low"));
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    assert_eq!(body["top_k"], json!(40));
    assert_eq!(body["safe_prompt"], json!(true));
    // router-wide defaults, under the deployment's own
    assert_eq!(body["frequency_penalty"], json!(0.25));
    assert_eq!(body["presence_penalty"], json!(0.5));

    // The call's own values win; max_completion_tokens replaces the max_tokens default.
    router
        .chat(
            ChatRequest::new("gpt-4o", vec![Message::user("hi")])
                .temperature(0.9)
                .max_completion_tokens(10)
                .seed(1)
                .extra_body(json!({"top_k": 5})),
        )
        .await
        .unwrap();
    let body = up.last_request().unwrap().json();
    assert_eq!(body["temperature"], json!(0.9));
    assert_eq!(body["max_completion_tokens"], json!(10));
    assert!(body.get("max_tokens").is_none(), "{body}");
    assert_eq!(body["seed"], json!(1));
    assert_eq!(body["top_k"], json!(5));
    assert_eq!(body["stop"], json!(["END"]));

    // Embeddings take the defaults they have.
    up.push(Reply::json(200, embedding_body()));
    router.embedding("embed", "hello").await.unwrap();
    let body = up.last_request().unwrap().json();
    assert_eq!(body["dimensions"], json!(256));
    assert!(body.get("temperature").is_none());
}

#[tokio::test]
async fn deployment_default_params_from_code() {
    let up = FakeUpstream::start().await;
    up.set_default(Reply::json(200, ok_body("ok")));
    let client = Client::builder().no_env().build().unwrap();
    let router = Router::builder()
        .client(client.clone())
        .deployment(
            Deployment::new("g", "openai/gpt-4o")
                .api_base(format!("{}/v1", up.url()))
                .api_key("sk")
                .default_param("temperature", 0.3)
                .default_param("tool_choice", "none"),
        )
        .build()
        .unwrap();
    let mut stream = router
        .chat_stream(ChatRequest::new("g", vec![Message::user("hi")]))
        .await;
    // The fake answers JSON, not SSE: the stream may fail; only the request matters here.
    if let Ok(s) = stream.as_mut() {
        while s.next().await.is_some() {}
    }
    let body = up.last_request().unwrap().json();
    assert_eq!(body["temperature"], json!(0.3));
    assert_eq!(body["tool_choice"], json!("none"));
    assert_eq!(body["stream"], json!(true));

    // A value of the wrong type is refused when the router is built, naming it.
    for (name, value) in [("temperature", json!("hot")), ("stream", json!(true))] {
        let err = Router::builder()
            .client(client.clone())
            .deployment(Deployment::new("g", "mock/x").default_param(name, value))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains(name), "{err}");
    }
    let err = Router::from_yaml_str(
        "model_list:\n  - model_name: a\n    litellm_params:\n      model: mock/a\n      temperature: hot\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("temperature"), "{err}");
}

#[test]
fn routing_strategy_args_are_applied_or_warned_about() {
    let cfg = RouterConfig::from_yaml_str(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: mock/a}
router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args:
    lowest_latency_buffer: 0.5
    ttl: 3600
    max_latency_list_size: 10
    lowest_latncy_bufer: 1
"#,
    )
    .unwrap();
    for key in ["ttl", "max_latency_list_size", "lowest_latncy_bufer"] {
        assert!(
            cfg.warnings
                .iter()
                .any(|w| w.contains(&format!("routing_strategy_args.{key}'"))),
            "{key}: {:?}",
            cfg.warnings
        );
    }
    assert_eq!(cfg.warnings.len(), 3, "{:?}", cfg.warnings);
    let router = cfg.build().unwrap();
    assert!(
        format!("{router:?}").contains("LatencyBased { buffer: 0.5 }"),
        "{router:?}"
    );
    // The buffer of another strategy is warned about; an invalid one is an error.
    let cfg = RouterConfig::from_yaml_str(
        "router_settings:\n  routing_strategy: least-busy\n  routing_strategy_args: {lowest_latency_buffer: 0.1}\n",
    )
    .unwrap();
    assert!(
        cfg.warnings[0].contains("latency-based-routing"),
        "{:?}",
        cfg.warnings
    );
    for bad in ["lots", ".nan", "-1"] {
        let err = Router::from_yaml_str(&format!(
            "router_settings:\n  routing_strategy: latency-based-routing\n  routing_strategy_args: {{lowest_latency_buffer: {bad}}}\n"
        ))
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("lowest_latency_buffer"), "{err}");
    }
}

#[tokio::test]
async fn cache_true_turns_the_in_memory_cache_on() {
    let up = FakeUpstream::start().await;
    up.set_default(Reply::json(200, ok_body("fresh")));
    let yaml = |cache: &str| {
        format!(
            r#"
model_list:
  - model_name: g
    litellm_params: {{model: openai/gpt-4o, api_base: "{url}/v1", api_key: sk}}
litellm_settings:
  cache: true
{cache}
"#,
            url = up.url()
        )
    };
    for params in [
        "",
        "  cache_params: {type: local, ttl: 600, supported_call_types: [acompletion, completion]}",
    ] {
        let before = up.request_count();
        let cfg = RouterConfig::from_yaml_str(&yaml(params)).unwrap();
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        let router = cfg.build().unwrap();
        let first = router
            .completion("g", vec![Message::user("same")])
            .await
            .unwrap();
        let second = router
            .completion("g", vec![Message::user("same")])
            .await
            .unwrap();
        assert!(!first.meta.cache_hit && second.meta.cache_hit);
        assert_eq!(up.request_count(), before + 1);
    }
    // Redis is not built in: warned about, naming what to do; no cache.
    let cfg = RouterConfig::from_yaml_str(&yaml("  cache_params: {type: redis, host: localhost}"))
        .unwrap();
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.contains("type: redis") && w.contains("RouterBuilder::cache")),
        "{:?}",
        cfg.warnings
    );
    let router = cfg.build().unwrap();
    let before = up.request_count();
    for _ in 0..2 {
        router
            .completion("g", vec![Message::user("same")])
            .await
            .unwrap();
    }
    assert_eq!(up.request_count(), before + 2);
}

#[tokio::test]
async fn callbacks_map_to_metrics_and_a_webhook_or_are_warned_about() {
    let up = FakeUpstream::start().await;
    up.set_default(Reply::json(200, ok_body("ok")));
    let hook = FakeUpstream::start().await;
    hook.set_default(Reply::json(200, json!({})));
    let yaml = format!(
        r#"
model_list:
  - model_name: g
    litellm_params: {{model: openai/gpt-4o, api_base: "{url}/v1", api_key: sk}}
litellm_settings:
  success_callback: ["prometheus", "generic_api", "langfuse"]
  failure_callback: ["generic_api", "otel"]
  callbacks: ["my_module.MyHandler"]
environment_variables:
  GENERIC_LOGGER_ENDPOINT: {hook}/ingest
  GENERIC_LOGGER_HEADERS: "Authorization=Bearer hook-token"
"#,
        url = up.url(),
        hook = hook.url()
    );
    let cfg = RouterConfig::from_yaml_str(&yaml).unwrap();
    let w = &cfg.warnings;
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(
        w.iter()
            .any(|w| w.contains("langfuse") && w.contains("litellm::observe::Callback"))
    );
    assert!(
        w.iter()
            .any(|w| w.contains("otel") && w.contains("tracing"))
    );
    assert!(
        w.iter()
            .any(|w| w.contains("my_module.MyHandler") && w.contains("RouterBuilder::callback"))
    );
    let metrics = cfg.metrics().cloned().expect("prometheus → Metrics");
    let router = cfg.build().unwrap();
    router
        .completion("g", vec![Message::user("hi")])
        .await
        .unwrap();
    router.flush_callbacks().await;
    assert!(
        metrics
            .render()
            .contains("litellm_requests_total{model_group=\"g\""),
        "{}",
        metrics.render()
    );
    let posted = hook.last_request().expect("the webhook got the event");
    assert_eq!(posted.path, "/ingest");
    assert_eq!(
        posted.header("authorization").as_deref(),
        Some("Bearer hook-token")
    );
    let events = posted.json();
    assert_eq!(events[0]["hook"], "success", "{events}");

    // No endpoint: warned about, nothing added.
    let cfg = RouterConfig::from_yaml_str("litellm_settings:\n  success_callback: [generic_api]\n");
    if std::env::var_os("GENERIC_LOGGER_ENDPOINT").is_none() {
        let cfg = cfg.unwrap();
        assert!(
            cfg.warnings[0].contains("GENERIC_LOGGER_ENDPOINT"),
            "{:?}",
            cfg.warnings
        );
        assert!(cfg.metrics().is_none());
    }
}

#[tokio::test]
async fn max_budget_is_a_global_ledger_budget() {
    let up = FakeUpstream::start().await;
    up.set_default(Reply::json(200, ok_body("ok")));
    let yaml = |duration: &str| {
        format!(
            r#"
model_list:
  - model_name: g
    litellm_params:
      model: openai/gpt-4o
      api_base: "{url}/v1"
      api_key: sk
      input_cost_per_token: 0.5
      output_cost_per_token: 0.5
litellm_settings:
  max_budget: 0.75
{duration}
"#,
            url = up.url()
        )
    };
    let cfg = RouterConfig::from_yaml_str(&yaml("  budget_duration: 1d")).unwrap();
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    let ledger = cfg.ledger().cloned().expect("a ledger with the budget");
    let status = &ledger.budgets_status()[0];
    assert_eq!(status.budget.scope, Scope::Global);
    assert_eq!(status.budget.period, Period::Daily);
    assert_eq!(status.budget.max_spend, 0.75);
    let router = cfg.build().unwrap();
    router
        .completion("g", vec![Message::user("hi")])
        .await
        .unwrap();
    let err = router
        .completion("g", vec![Message::user("hi")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded, "{err}");
    assert_eq!(up.request_count(), 1);

    for (duration, period) in [
        ("", Period::Lifetime),
        ("  budget_duration: 30s", Period::Seconds(30)),
        ("  budget_duration: 7d", Period::Weekly),
        ("  budget_duration: 1mo", Period::Monthly),
    ] {
        let cfg = RouterConfig::from_yaml_str(&yaml(duration)).unwrap();
        assert_eq!(
            cfg.ledger().unwrap().budgets_status()[0].budget.period,
            period
        );
    }
    for bad in ["  budget_duration: 2mo", "  budget_duration: soon"] {
        let err = RouterConfig::from_yaml_str(&yaml(bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("budget_duration"), "{err}");
    }
    // max_budget: 0 is LiteLLM's "no budget".
    let cfg = RouterConfig::from_yaml_str("litellm_settings:\n  max_budget: 0\n").unwrap();
    assert!(cfg.ledger().is_none());
    let err = RouterConfig::from_yaml_str("litellm_settings:\n  max_budget: .nan\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn every_warning_names_what_to_use_instead() {
    let cfg = RouterConfig::from_yaml_str(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: mock/a
      num_retries: 3
      stream: true
      temprature: 0.2
      metadata: {team: x}
    model_nfo: {id: x}
router_settings:
  redis_host: localhost
  cache_responses: true
  provider_budget_config: {}
  routing_stratgy: least-busy
litellm_settings:
  json_logs: true
  modify_params: true
  max_end_user_budget: 10
  ssl_verify: false
general_settings:
  master_key: sk-1234
  database_url: postgres://x
callback_settings: {}
unknown_section: {}
"#,
    )
    .unwrap();
    let w = &cfg.warnings;
    assert!(
        w.contains(
            &"'general_settings.master_key' applies to the gateway (litellm-proxy), not the library; ignored".to_owned()
        ),
        "{w:?}"
    );
    for (needle, equivalent) in [
        ("litellm_params.num_retries", "num_retries"),
        ("litellm_params.stream'", "chat_stream"),
        ("temprature", "did you mean 'temperature'?"),
        ("litellm_params.metadata", "ChatRequest::metadata"),
        ("model_nfo", "did you mean 'model_info'?"),
        ("redis_host", "RouterBuilder::state_store"),
        ("cache_responses", "litellm_settings.cache"),
        ("provider_budget_config", "Scope::Model"),
        ("routing_stratgy", "did you mean 'routing_strategy'?"),
        ("json_logs", "tracing"),
        ("modify_params", "sent as given"),
        ("max_end_user_budget", "litellm-proxy"),
        ("ssl_verify", "ClientBuilder::http_client"),
        ("database_url", "litellm-proxy"),
        ("callback_settings", "RouterBuilder::callback"),
        ("unknown_section", "unknown top-level key"),
    ] {
        assert!(
            w.iter()
                .any(|w| w.contains(needle) && w.contains(equivalent)),
            "{needle} / {equivalent}: {w:?}"
        );
    }
    assert_eq!(w.len(), 17, "{w:?}");
}

#[tokio::test]
async fn unknown_provider_prefixes_fail_at_build_with_a_suggestion() {
    let err = Router::from_yaml_str(
        "model_list:\n  - model_name: g\n    litellm_params:\n      model: opnai/gpt-4o\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.message()
            .contains("unknown provider 'opnai'; did you mean 'openai'?"),
        "{err}"
    );
    let err = Router::from_yaml_str(
        "model_list:\n  - model_name: g\n    litellm_params:\n      model: llama3.2\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("llama3.2"), "{err}");
    // Client settings for a misspelt provider.
    for builder in [
        Client::builder().api_key("opnai", "sk"),
        Client::builder().api_base("anthropc", "http://x"),
        Client::builder().provider_param("vertexai", "vertex_project", "p"),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("did you mean"), "{err}");
    }
    // A registered provider is a known prefix, for settings and deployments alike.
    let client = Client::builder()
        .no_env()
        .provider("myco", Arc::new(litellm::provider::mock::Mock))
        .api_key("myco", "k")
        .build()
        .unwrap();
    let router = Router::builder()
        .client(client)
        .deployment(Deployment::new("g", "myco/model-1"))
        .deployment(Deployment::new("w", "openai/*"))
        .deployment(Deployment::new("bare", "gpt-4o-mini"))
        .build()
        .unwrap();
    assert!(
        router
            .completion("g", vec![Message::user("hi")])
            .await
            .is_ok()
    );
    let err = Router::builder()
        .client(Client::builder().no_env().build().unwrap())
        .deployment(Deployment::new("g", "myco/model-1"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("'myco'"), "{err}");
    // Adding one at run time is checked too.
    assert_eq!(
        router
            .add_deployment(Deployment::new("h", "azrue/x"))
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
}

#[test]
fn deeply_nested_or_huge_configs_are_refused_before_parsing() {
    for text in [
        "[".repeat(200_000),
        "{a: ".repeat(10_000),
        "- ".repeat(10_000),
        format!("model_list: {}", "[".repeat(100)),
    ] {
        let err = Router::from_yaml_str(&text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("MAX_CONFIG_DEPTH"), "{err}");
    }
    let huge = format!("# {}\n", "x".repeat(litellm::config::MAX_CONFIG_BYTES));
    let err = Router::from_yaml_str(&huge).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("MAX_CONFIG_BYTES"), "{err}");
}

#[test]
fn hostile_values_are_errors_or_warnings_never_panics() {
    for yaml in [
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, weight: .nan}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, timeout: .inf}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, rpm: 1e400}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, rpm: 99999999999999999999999}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, input_cost_per_token: -1}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a}\n    model_info: {max_tokens: -5}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a}\n    model_info: [1]\n",
        "model_list: {a: 1}\n",
        "litellm_settings:\n  cache: true\n  cache_params: {ttl: .inf}\n",
        "litellm_settings:\n  cache: true\n  cache_params: {max_size_in_memory: -1}\n",
        "litellm_settings:\n  max_budget: -1\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, temperature: .nan}\n",
        "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a, seed: 1e400}\n",
        "- just\n- a list\n",
    ] {
        let err = Router::from_yaml_str(yaml).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{yaml}");
    }
    // Alias expansion ("billion laughs") is bounded by the parser.
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    laughs.push_str("model_list: *a8\n");
    assert_eq!(
        Router::from_yaml_str(&laughs).unwrap_err().kind(),
        ErrorKind::Config
    );
    // Odd but valid: loads, with warnings where something is ignored.
    for yaml in [
        "model_list:\n  - model_name: \"\u{1F600}\u{202E}\"\n    litellm_params: {model: mock/\u{0430}}\n    \u{0301}: 1\n",
        "litellm_settings:\n  success_callback: [1, [2], {a: b}]\n  callbacks: prometheus\n",
        "router_settings:\n  ? [complex, key]\n  : 1\n",
        "environment_variables: {A: [1]}\n",
    ] {
        let cfg = RouterConfig::from_yaml_str(yaml);
        if let Ok(cfg) = cfg {
            let _ = cfg.build();
        }
    }
}

#[test]
fn yaml_anchors_and_merge_keys_work() {
    let cfg = RouterConfig::from_yaml_str(
        r#"
model_list:
  - model_name: a
    litellm_params: &shared
      model: mock/a
      rpm: 5
      temperature: 0.3
  - model_name: b
    litellm_params:
      <<: *shared
      model: mock/b
      rpm: 9
"#,
    )
    .unwrap();
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    let router = cfg.build().unwrap();
    let b = router
        .deployments()
        .into_iter()
        .find(|d| d.model_name == "b")
        .unwrap();
    assert_eq!((b.model.as_str(), b.rpm), ("mock/b", Some(9)));
    assert_eq!(b.defaults["temperature"], json!(0.3));
}

#[tokio::test]
async fn retry_budget_and_max_attempts_per_call_in_router_settings() {
    let yaml = |settings: &str| {
        format!(
            "model_list:\n  - model_name: g1\n    litellm_params: {{model: mock/a}}\n  - model_name: g1\n    litellm_params: {{model: mock/b}}\n  - model_name: g2\n    litellm_params: {{model: mock/c}}\n  - model_name: g2\n    litellm_params: {{model: mock/d}}\nrouter_settings:\n  fallbacks: [{{g1: [g2]}}]\n{settings}"
        )
    };
    let failing = || {
        ChatRequest::new("g1", vec![Message::user("hi")])
            .mock_response(litellm::MockResponse::error(ErrorKind::InternalServer))
    };

    // No floor and no success yet: the first failure is not retried.
    let cfg = RouterConfig::from_yaml_str(&yaml(
        "  retry_budget: {ttl: 30, min_per_sec: 0, retry_percent: 0.5}\n",
    ))
    .unwrap();
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    let router = cfg.build().unwrap();
    let budget = router.retry_budget().unwrap();
    assert_eq!(
        (budget.ttl(), budget.min_per_sec(), budget.retry_percent()),
        (std::time::Duration::from_secs(30), 0, 0.5)
    );
    let err = router.chat(failing()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(err.message().contains("retry budget is exhausted"), "{err}");

    // `true` is the default budget; missing keys take the defaults; router_settings wins.
    let router = Router::from_yaml_str(&yaml("  retry_budget: true\n")).unwrap();
    assert_eq!(router.retry_budget().unwrap().min_per_sec(), 10);
    let router = Router::from_yaml_str(&yaml("  retry_budget: {retry_percent: 1.5}\n")).unwrap();
    let b = router.retry_budget().unwrap();
    assert_eq!((b.ttl().as_secs(), b.retry_percent()), (10, 1.5));
    let router = Router::from_yaml_str(&format!(
        "{}litellm_settings:\n  retry_budget: true\n",
        yaml("  retry_budget: false\n")
    ))
    .unwrap();
    assert!(router.retry_budget().is_none());
    assert!(
        Router::from_yaml_str(&yaml(""))
            .unwrap()
            .retry_budget()
            .is_none()
    );

    // At most two attempts per call, across the group and its fallback (4 without the cap).
    let router = Router::from_yaml_str(&yaml("  num_retries: 1\n")).unwrap();
    let err = router.chat(failing()).await.unwrap_err();
    assert!(err.message().contains("after 4 attempts"), "{err}");
    let router =
        Router::from_yaml_str(&yaml("  num_retries: 1\n  max_attempts_per_call: 2\n")).unwrap();
    let err = router.chat(failing()).await.unwrap_err();
    assert!(err.message().contains("after 2 attempts"), "{err}");
    assert!(err.message().contains("max_attempts_per_call (2)"), "{err}");

    for (bad, says) in [
        ("  retry_budget: {ttl: 0.5}\n", "retry_budget: ttl"),
        ("  retry_budget: {ttl: 61}\n", "retry_budget: ttl"),
        ("  retry_budget: {ttl: -1}\n", "retry_budget.ttl"),
        ("  retry_budget: {ttl: soon}\n", "retry_budget.ttl"),
        (
            "  retry_budget: {min_per_sec: -1}\n",
            "retry_budget.min_per_sec",
        ),
        (
            "  retry_budget: {min_per_sec: 1.5}\n",
            "retry_budget.min_per_sec",
        ),
        ("  retry_budget: {retry_percent: -0.2}\n", "retry_percent"),
        ("  retry_budget: {retry_percent: .nan}\n", "retry_percent"),
        (
            "  retry_budget: {retry_percent: lots}\n",
            "retry_budget.retry_percent",
        ),
        ("  retry_budget: {tll: 10}\n", "did you mean 'ttl'"),
        ("  retry_budget: 3\n", "retry_budget"),
        ("  retry_budget: [1]\n", "retry_budget"),
        ("  max_attempts_per_call: 0\n", "max_attempts_per_call"),
        ("  max_attempts_per_call: -2\n", "max_attempts_per_call"),
    ] {
        let err = Router::from_yaml_str(&yaml(bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        assert!(err.message().contains(says), "{bad}: {err}");
    }
    // A misspelt key is warned about with a hint.
    let cfg = RouterConfig::from_yaml_str(&yaml("  retry_budgt: true\n")).unwrap();
    assert!(
        cfg.warnings.iter().any(|w| w.contains("retry_budget")),
        "{:?}",
        cfg.warnings
    );
}
