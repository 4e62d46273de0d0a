//! Provider resolution: the compat table rows, Azure, credentials, custom providers.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use litellm::provider::compat::COMPAT_PROVIDERS;
use litellm::provider::{CallContext, Provider};
use litellm::{
    ChatRequest, ChatResponse, ChatStream, Choice, Client, EmbeddingRequest, ErrorKind,
    FinishReason, Message, TextCompletionRequest, ToolChoice,
};
use serde_json::json;
use support::{FakeUpstream, Reply, sse_data, sse_raw_data};

fn env_client(vars: &[(&str, String)]) -> Client {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Client::builder()
        .env_lookup(move |name| map.get(name).cloned())
        .build()
        .unwrap()
}

fn ok_body() -> serde_json::Value {
    json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
}

fn sse_ok() -> Reply {
    Reply::sse(vec![
        sse_data(
            &json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": null}]}),
        ),
        sse_data(
            &json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
        ),
        sse_raw_data("[DONE]"),
    ])
}

#[test]
fn default_base_urls_and_env_names_of_the_rows() {
    let expected: &[(&str, Option<&str>, &str, &str)] = &[
        (
            "openai",
            Some("https://api.openai.com/v1"),
            "OPENAI_API_KEY",
            "OPENAI_API_BASE",
        ),
        (
            "groq",
            Some("https://api.groq.com/openai/v1"),
            "GROQ_API_KEY",
            "GROQ_API_BASE",
        ),
        (
            "together_ai",
            Some("https://api.together.xyz/v1"),
            "TOGETHER_API_KEY",
            "TOGETHER_AI_API_BASE",
        ),
        (
            "deepseek",
            Some("https://api.deepseek.com"),
            "DEEPSEEK_API_KEY",
            "DEEPSEEK_API_BASE",
        ),
        (
            "fireworks_ai",
            Some("https://api.fireworks.ai/inference/v1"),
            "FIREWORKS_AI_API_KEY",
            "FIREWORKS_AI_API_BASE",
        ),
        (
            "openrouter",
            Some("https://openrouter.ai/api/v1"),
            "OPENROUTER_API_KEY",
            "OPENROUTER_API_BASE",
        ),
        (
            "xai",
            Some("https://api.x.ai/v1"),
            "XAI_API_KEY",
            "XAI_API_BASE",
        ),
        (
            "perplexity",
            Some("https://api.perplexity.ai"),
            "PERPLEXITYAI_API_KEY",
            "PERPLEXITY_API_BASE",
        ),
        (
            "mistral",
            Some("https://api.mistral.ai/v1"),
            "MISTRAL_API_KEY",
            "MISTRAL_API_BASE",
        ),
        (
            "cerebras",
            Some("https://api.cerebras.ai/v1"),
            "CEREBRAS_API_KEY",
            "CEREBRAS_API_BASE",
        ),
        (
            "deepinfra",
            Some("https://api.deepinfra.com/v1/openai"),
            "DEEPINFRA_API_KEY",
            "DEEPINFRA_API_BASE",
        ),
        (
            "nvidia_nim",
            Some("https://integrate.api.nvidia.com/v1"),
            "NVIDIA_NIM_API_KEY",
            "NVIDIA_NIM_API_BASE",
        ),
        (
            "sambanova",
            Some("https://api.sambanova.ai/v1"),
            "SAMBANOVA_API_KEY",
            "SAMBANOVA_API_BASE",
        ),
        (
            "github",
            Some("https://models.inference.ai.azure.com"),
            "GITHUB_API_KEY",
            "GITHUB_API_BASE",
        ),
        (
            "meta_llama",
            Some("https://api.llama.com/compat/v1"),
            "LLAMA_API_KEY",
            "LLAMA_API_BASE",
        ),
        (
            "hosted_vllm",
            None,
            "HOSTED_VLLM_API_KEY",
            "HOSTED_VLLM_API_BASE",
        ),
        (
            "lm_studio",
            Some("http://localhost:1234/v1"),
            "LM_STUDIO_API_KEY",
            "LM_STUDIO_API_BASE",
        ),
        (
            "llamafile",
            Some("http://127.0.0.1:8080/v1"),
            "LLAMAFILE_API_KEY",
            "LLAMAFILE_API_BASE",
        ),
        (
            "ollama_chat",
            Some("http://localhost:11434/v1"),
            "OLLAMA_API_KEY",
            "OLLAMA_API_BASE",
        ),
        (
            "openai_compatible",
            None,
            "OPENAI_COMPATIBLE_API_KEY",
            "OPENAI_COMPATIBLE_API_BASE",
        ),
    ];
    assert_eq!(COMPAT_PROVIDERS.len(), expected.len());
    for (prefix, base, key_env, base_env) in expected {
        let row =
            litellm::provider::compat::find(prefix).unwrap_or_else(|| panic!("no row {prefix}"));
        assert_eq!(row.default_api_base, *base, "{prefix}");
        assert_eq!(row.api_key_env[0], *key_env, "{prefix}");
        assert_eq!(row.api_base_env[0], *base_env, "{prefix}");
    }
    for prefix in ["openai", "azure", "mock", "groq", "ollama_chat"] {
        assert!(litellm::builtin_providers().contains(&prefix));
    }
}

/// Every row, end to end: key and base from its environment variables, the right path and
/// auth header, the model id without prefix, streaming with usage requested where supported.
#[tokio::test]
async fn every_compat_row_calls_its_endpoint_with_its_key() {
    let server = FakeUpstream::start().await;
    for row in COMPAT_PROVIDERS {
        let prefix = row.prefix;
        let key = format!("key-for-{prefix}");
        let client = env_client(&[
            (row.api_key_env[0], key.clone()),
            (row.api_base_env[0], format!("{}/base", server.url())),
        ]);
        server.push(Reply::json(200, ok_body()));
        let resp = client
            .completion(&format!("{prefix}/vendor-model"), vec![Message::user("hi")])
            .await
            .unwrap_or_else(|e| panic!("{prefix}: {e}"));
        assert_eq!(resp.meta.provider, prefix);
        let req = server.last_request().unwrap();
        let expected_path = match row.quirks.base_path {
            Some(p) => format!("/base{p}/chat/completions"),
            None => "/base/chat/completions".to_owned(),
        };
        assert_eq!(req.path, expected_path, "{prefix}");
        assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {key}")),
            "{prefix}"
        );
        let expected_model = match row.quirks.model_prefix {
            Some(p) => format!("{p}vendor-model"),
            None => "vendor-model".to_owned(),
        };
        assert_eq!(req.json()["model"], json!(expected_model), "{prefix}");

        server.push(sse_ok());
        let resp = client
            .chat_stream(ChatRequest::new(
                format!("{prefix}/vendor-model"),
                vec![Message::user("hi")],
            ))
            .await
            .unwrap()
            .collect_response()
            .await
            .unwrap_or_else(|e| panic!("{prefix}: {e}"));
        assert_eq!(resp.text(), Some("ok"), "{prefix}");
        assert_eq!(resp.usage.unwrap().total_tokens, 2, "{prefix}");
        let body = server.last_request().unwrap().json();
        assert_eq!(body["stream"], true);
        assert_eq!(
            body.get("stream_options").is_some(),
            row.quirks.stream_usage,
            "{prefix}"
        );
    }
}

#[tokio::test]
async fn hosted_rows_need_a_key_local_ones_do_not() {
    let server = FakeUpstream::start().await;
    for row in COMPAT_PROVIDERS {
        let client = env_client(&[(row.api_base_env[0], server.url())]);
        let before = server.request_count();
        if !row.requires_api_key {
            server.push(Reply::json(200, ok_body()));
        }
        let result = client
            .completion(&format!("{}/m", row.prefix), vec![Message::user("x")])
            .await;
        if row.requires_api_key {
            let err = result.expect_err(row.prefix);
            assert_eq!(err.kind(), ErrorKind::Authentication, "{}", row.prefix);
            assert!(err.message().contains(row.api_key_env[0]), "{err}");
            assert_eq!(server.request_count(), before, "no request without a key");
        } else {
            result.unwrap_or_else(|e| panic!("{}: {e}", row.prefix));
            assert_eq!(
                server.last_request().unwrap().header("authorization"),
                None,
                "{}",
                row.prefix
            );
        }
    }
    // rows without a default base need one
    for prefix in ["hosted_vllm", "openai_compatible"] {
        let err = env_client(&[])
            .completion(&format!("{prefix}/m"), vec![Message::user("x")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{prefix}");
        assert!(err.message().contains("api_base"), "{err}");
    }
}

#[tokio::test]
async fn credentials_come_from_call_then_client_then_env() {
    let server = FakeUpstream::start().await;
    let vars = [
        ("GROQ_API_KEY", "env-key".to_owned()),
        ("GROQ_API_BASE", server.url()),
    ];
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let client = Client::builder()
        .env_lookup(move |n| map.get(n).cloned())
        .api_key("groq", "client-key")
        .build()
        .unwrap();
    for (req, expected) in [
        (
            ChatRequest::new("groq/llama", vec![Message::user("x")]).api_key("call-key"),
            "Bearer call-key",
        ),
        (
            ChatRequest::new("groq/llama", vec![Message::user("x")]),
            "Bearer client-key",
        ),
    ] {
        server.push(Reply::json(200, ok_body()));
        client.chat(req).await.unwrap();
        assert_eq!(
            server
                .last_request()
                .unwrap()
                .header("authorization")
                .as_deref(),
            Some(expected)
        );
    }
    server.push(Reply::json(200, ok_body()));
    env_client(&vars)
        .completion("groq/llama", vec![Message::user("x")])
        .await
        .unwrap();
    assert_eq!(
        server
            .last_request()
            .unwrap()
            .header("authorization")
            .as_deref(),
        Some("Bearer env-key")
    );
}

#[tokio::test]
async fn env_headers_for_openai_and_openrouter() {
    let server = FakeUpstream::start().await;
    let client = env_client(&[
        ("OPENAI_API_KEY", "k".into()),
        ("OPENAI_API_BASE", server.url()),
        ("OPENAI_ORGANIZATION", "org-123".into()),
        ("OPENAI_PROJECT_ID", "proj-9".into()),
        ("OPENROUTER_API_KEY", "k2".into()),
        ("OPENROUTER_API_BASE", server.url()),
        ("OR_SITE_URL", "https://example.com".into()),
        ("OR_APP_NAME", "my-app".into()),
    ]);
    server.push(Reply::json(200, ok_body()));
    client
        .completion("gpt-4o", vec![Message::user("x")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.header("openai-organization").as_deref(), Some("org-123"));
    assert_eq!(r.header("openai-project").as_deref(), Some("proj-9"));
    server.push(Reply::json(200, ok_body()));
    client
        .completion(
            "openrouter/anthropic/claude-3.5-sonnet",
            vec![Message::user("x")],
        )
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.json()["model"], "anthropic/claude-3.5-sonnet");
    assert_eq!(
        r.header("http-referer").as_deref(),
        Some("https://example.com")
    );
    assert_eq!(r.header("x-title").as_deref(), Some("my-app"));
}

#[tokio::test]
async fn mistral_differences_on_the_wire() {
    let server = FakeUpstream::start().await;
    // base without /v1: it is added
    let client = env_client(&[
        ("MISTRAL_API_KEY", "mk".into()),
        ("MISTRAL_API_BASE", server.url()),
    ]);
    server.push(Reply::json(200, ok_body()));
    let mut assistant = Message::assistant("earlier");
    assistant.extra.insert("annotations".into(), json!([]));
    assistant.extra.insert("prefix".into(), json!(false));
    client
        .chat(
            ChatRequest::new(
                "mistral/mistral-small-latest",
                vec![Message::user("x").with_name("bob"), assistant],
            )
            .seed(42)
            .max_completion_tokens(64)
            .tool_choice(ToolChoice::Required),
        )
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.json(),
        json!({"model": "mistral-small-latest",
            "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "earlier"}],
            "max_tokens": 64, "random_seed": 42, "tool_choice": "any"})
    );
}

#[tokio::test]
async fn azure_classic_and_v1_urls() {
    let server = FakeUpstream::start().await;
    let client = env_client(&[
        ("AZURE_API_KEY", "az-key".into()),
        ("AZURE_API_BASE", server.url()),
    ]);
    server.push(Reply::json(200, ok_body()));
    client
        .completion("azure/my-gpt4o", vec![Message::user("x")])
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/openai/deployments/my-gpt4o/chat/completions");
    assert_eq!(
        r.query_param("api-version").as_deref(),
        Some(litellm::provider::azure::DEFAULT_API_VERSION)
    );
    assert_eq!(r.header("api-key").as_deref(), Some("az-key"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.json()["model"], "my-gpt4o");

    let client = env_client(&[
        ("AZURE_API_KEY", "az-key".into()),
        ("AZURE_API_BASE", server.url()),
        ("AZURE_API_VERSION", "2025-02-01-preview".into()),
    ]);
    server.push(Reply::json(200, json!({"object": "list", "model": "e", "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}]})));
    client.embedding("azure/emb-deploy", "x").await.unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/openai/deployments/emb-deploy/embeddings");
    assert_eq!(
        r.query_param("api-version").as_deref(),
        Some("2025-02-01-preview")
    );

    server.push(sse_ok());
    let resp = client
        .chat_stream(ChatRequest::new("azure/my-gpt4o", vec![Message::user("x")]).api_version("v1"))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("ok"));
    let r = server.last_request().unwrap();
    assert_eq!(r.path, "/openai/v1/chat/completions");
    assert_eq!(r.query, "");
    assert_eq!(r.json()["stream_options"], json!({"include_usage": true}));

    server.push(Reply::json(200, ok_body()));
    client
        .chat(
            ChatRequest::new("azure/dep", vec![Message::user("x")])
                .api_base(format!("{}/openai/v1/", server.url())),
        )
        .await
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().path,
        "/openai/v1/chat/completions"
    );

    server.push(Reply::json(200, json!({"id": "t", "object": "text_completion", "choices": [{"text": "hi", "index": 0, "finish_reason": "stop"}]})));
    client
        .text_completion(TextCompletionRequest::new("azure/instruct", "x"))
        .await
        .unwrap();
    assert_eq!(
        server.last_request().unwrap().path,
        "/openai/deployments/instruct/completions"
    );
}

#[tokio::test]
async fn azure_content_filter_and_missing_credentials() {
    let server = FakeUpstream::start().await;
    let client = env_client(&[
        ("AZURE_API_KEY", "az-key".into()),
        ("AZURE_API_BASE", server.url()),
    ]);
    server.push(Reply::json(400, json!({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
        "type": null, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"violence": {"filtered": true, "severity": "medium"}}}}})));
    let err = client
        .completion("azure/dep", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentPolicyViolation);
    assert_eq!(err.provider(), Some("azure"));

    // an output filter is not an error: finish_reason content_filter
    server.push(Reply::json(200, json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null}, "finish_reason": "content_filter",
            "content_filter_results": {"hate": {"filtered": true, "severity": "high"}}}]})));
    let resp = client
        .completion("azure/dep", vec![Message::user("x")])
        .await
        .unwrap();
    assert_eq!(resp.finish_reason(), Some(&FinishReason::ContentFilter));

    let err = env_client(&[("AZURE_API_BASE", server.url())])
        .completion("azure/dep", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let err = env_client(&[("AZURE_API_KEY", "k".into())])
        .completion("azure/dep", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);

    // Entra ID: a bearer token header instead of a key
    server.push(Reply::json(200, ok_body()));
    env_client(&[("AZURE_API_BASE", server.url())])
        .chat(
            ChatRequest::new("azure/dep", vec![Message::user("x")])
                .extra_header("Authorization", "Bearer entra-token"),
        )
        .await
        .unwrap();
    let r = server.last_request().unwrap();
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Bearer entra-token")
    );
    assert_eq!(r.header("api-key"), None);
}

struct Echo;

#[async_trait]
impl Provider for Echo {
    fn name(&self) -> &str {
        "echo"
    }
    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> litellm::Result<ChatResponse> {
        let last = req
            .messages
            .last()
            .and_then(|m| m.text())
            .unwrap_or_default();
        Ok(ChatResponse {
            model: cx.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: Message::assistant(format!("{}:{last}", cx.provider)),
                finish_reason: Some(FinishReason::Stop),
                logprobs: None,
                extra: Default::default(),
            }],
            ..Default::default()
        })
    }
    async fn chat_stream(
        &self,
        req: &ChatRequest,
        cx: &CallContext,
    ) -> litellm::Result<ChatStream> {
        Ok(ChatStream::from_response(&self.chat(req, cx).await?))
    }
}

#[tokio::test]
async fn custom_providers_by_prefix() {
    let client = Client::builder()
        .no_env()
        .provider("myco", Arc::new(Echo))
        .provider("groq", Arc::new(Echo))
        .build()
        .unwrap();
    let resp = client
        .completion("myco/any-model", vec![Message::user("ping")])
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("myco:ping"));
    assert_eq!(resp.model, "any-model");
    assert_eq!(resp.meta.provider, "myco");
    // replaces a built-in of the same prefix
    let resp = client
        .completion("groq/llama", vec![Message::user("ping")])
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("groq:ping"));
    // streaming through the provider's own implementation
    let chunks: Vec<_> = client
        .chat_stream(ChatRequest::new("myco/x", vec![Message::user("s")]))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(chunks[0].as_ref().unwrap().text(), Some("myco:s"));
    // defaults: text completion via chat, embeddings unsupported
    let t = client
        .text_completion(TextCompletionRequest::new("myco/x", "prompt"))
        .await
        .unwrap();
    assert_eq!(t.text(), Some("myco:prompt"));
    let err = client
        .embed(EmbeddingRequest::new("myco/x", "a"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn unknown_models_are_bad_requests_before_any_call() {
    let client = Client::builder().no_env().build().unwrap();
    let err = client
        .completion("nosuch/model", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message().contains("'nosuch'") && err.message().contains("openai"),
        "{err}"
    );
    let err = client
        .completion("llama3.2", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("cannot tell the provider"), "{err}");
    // a bare OpenAI name is inferred; without a key that is an Authentication error
    let err = client
        .completion("gpt-4o-mini", vec![Message::user("x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.provider(), Some("openai"));
}

/// Answers with the `region` setting it was given, and refuses `top_k` unless dropped.
struct ParamEcho;

#[async_trait]
impl Provider for ParamEcho {
    fn name(&self) -> &str {
        "params"
    }
    fn credentials(&self) -> litellm::provider::Credentials {
        let mut c = litellm::provider::Credentials::default();
        c.params_env = &[("region", &["MY_REGION", "MY_OTHER_REGION"])];
        c
    }
    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> litellm::Result<ChatResponse> {
        if req.extra_body.contains_key("top_k") {
            cx.unsupported_param("top_k")?;
        }
        Ok(ChatResponse {
            choices: vec![Choice {
                index: 0,
                message: Message::assistant(cx.param("region").unwrap_or("none")),
                finish_reason: Some(FinishReason::Stop),
                logprobs: None,
                extra: Default::default(),
            }],
            ..Default::default()
        })
    }
    async fn chat_stream(
        &self,
        req: &ChatRequest,
        cx: &CallContext,
    ) -> litellm::Result<ChatStream> {
        Ok(ChatStream::from_response(&self.chat(req, cx).await?))
    }
}

#[tokio::test]
async fn provider_params_and_drop_params() {
    let map: HashMap<String, String> =
        [("MY_OTHER_REGION".to_owned(), "env-region".to_owned())].into();
    let env_only = Client::builder()
        .env_lookup(move |n| map.get(n).cloned())
        .provider("params", Arc::new(ParamEcho))
        .build()
        .unwrap();
    let text = |r: ChatResponse| r.text().unwrap().to_owned();
    assert_eq!(
        text(
            env_only
                .completion("params/m", vec![Message::user("x")])
                .await
                .unwrap()
        ),
        "env-region"
    );
    let client = Client::builder()
        .no_env()
        .provider("params", Arc::new(ParamEcho))
        .provider_param("params", "region", "client-region")
        .build()
        .unwrap();
    assert_eq!(
        text(
            client
                .completion("params/m", vec![Message::user("x")])
                .await
                .unwrap()
        ),
        "client-region"
    );
    let req = ChatRequest::new("params/m", vec![Message::user("x")])
        .provider_param("region", "call-region");
    assert!(
        !format!("{req:?}").contains("call-region"),
        "param values are secrets"
    );
    assert_eq!(text(client.chat(req).await.unwrap()), "call-region");

    let with_top_k =
        ChatRequest::new("params/m", vec![Message::user("x")]).extra_body(json!({"top_k": 3}));
    let err = client.chat(with_top_k.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("top_k"));
    assert!(client.chat(with_top_k.drop_params(true)).await.is_ok());
}

#[tokio::test]
async fn text_completions_use_the_legacy_endpoint_only_where_it_exists() {
    let server = FakeUpstream::start().await;
    let legacy = json!({"id": "t", "object": "text_completion", "choices": [{"text": " done", "index": 0, "finish_reason": "stop"}]});
    for row in COMPAT_PROVIDERS {
        let client = env_client(&[
            (row.api_key_env[0], "k".into()),
            (row.api_base_env[0], server.url()),
        ]);
        let reply = if row.quirks.legacy_completions {
            Reply::json(200, legacy.clone())
        } else {
            Reply::json(200, ok_body())
        };
        server.push(reply);
        let resp = client
            .text_completion(TextCompletionRequest::new(
                format!("{}/m", row.prefix),
                "Say",
            ))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", row.prefix));
        let r = server.last_request().unwrap();
        if row.quirks.legacy_completions {
            assert!(
                r.path.ends_with("/completions") && !r.path.ends_with("/chat/completions"),
                "{}",
                row.prefix
            );
            assert_eq!(r.json()["prompt"], "Say");
            assert_eq!(resp.text(), Some(" done"));
        } else {
            assert!(r.path.ends_with("/chat/completions"), "{}", row.prefix);
            assert_eq!(
                r.json()["messages"],
                json!([{"role": "user", "content": "Say"}])
            );
            assert_eq!(resp.text(), Some("ok"));
            assert_eq!(resp.object, "text_completion");
        }
    }
    // through chat: what chat cannot express fails before any request, or is dropped when asked
    let client = env_client(&[
        ("GROQ_API_KEY", "k".into()),
        ("GROQ_API_BASE", server.url()),
    ]);
    let before = server.request_count();
    let err = client
        .text_completion(TextCompletionRequest::new("groq/m", vec![1u32, 2]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let err = client
        .text_completion(TextCompletionRequest::new("groq/m", "x").suffix("!"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("suffix"));
    assert_eq!(server.request_count(), before);
    server.push(Reply::json(200, ok_body()));
    client
        .text_completion(
            TextCompletionRequest::new("groq/m", "x")
                .suffix("!")
                .drop_params(true),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn fields_a_vendor_rejects_are_unsupported_or_dropped() {
    let server = FakeUpstream::start().await;
    let client = env_client(&[
        ("MISTRAL_API_KEY", "k".into()),
        ("MISTRAL_API_BASE", server.url()),
    ]);
    let req = ChatRequest::new("mistral/mistral-small-latest", vec![Message::user("x")])
        .user("u-1")
        .logprobs(true);
    let err = client.chat(req.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(
        err.message().contains("logprobs") || err.message().contains("user"),
        "{err}"
    );
    assert_eq!(server.request_count(), 0);
    server.push(Reply::json(200, ok_body()));
    client
        .chat(req.drop_params(true).tools(vec![]))
        .await
        .unwrap();
    let body = server.last_request().unwrap().json();
    assert_eq!(
        body,
        json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "x"}]})
    );
    // streaming options are never sent to a vendor that streams usage on its own
    server.push(sse_ok());
    let resp = client
        .chat_stream(
            ChatRequest::new("mistral/m", vec![Message::user("x")]).stream_options(
                litellm::StreamOptions {
                    include_usage: Some(true),
                    ..Default::default()
                },
            ),
        )
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert!(
        server
            .last_request()
            .unwrap()
            .json()
            .get("stream_options")
            .is_none()
    );
    assert_eq!(resp.usage.unwrap().total_tokens, 2);
}

#[cfg(not(feature = "bedrock"))]
#[tokio::test]
async fn bedrock_without_its_feature_says_so() {
    let err = Client::builder()
        .no_env()
        .build()
        .unwrap()
        .completion(
            "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
            vec![Message::user("x")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("`bedrock` cargo feature"), "{err}");
}
