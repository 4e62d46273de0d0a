//! A provider of your own: implement `Provider`, register it under a prefix, and call it
//! through a `Client` (whole and streamed) and behind a `Router` deployment.
//!
//! Runs offline: the `shout` provider answers locally (the last message in capitals, or a
//! tool call when the message mentions the weather). `Acme` sketches a provider for an HTTP
//! vendor with its own JSON shape, sent through `litellm::provider::http`; here it is only
//! called without a key, to show the `Authentication` error raised before any request.
//!
//! ```sh
//! cargo run --example custom_provider
//! ```

use std::io::Write;
use std::sync::Arc;

use futures::StreamExt;
use litellm::prelude::*;
use litellm::provider::{Credentials, http};
use serde::{Deserialize, Serialize};

/// Answers locally: the last message in capitals, or a `get_weather` tool call.
struct Shout;

#[async_trait]
impl Provider for Shout {
    fn name(&self) -> &str {
        "shout"
    }

    /// The key comes from the call, the client (`ClientBuilder::api_key("shout", …)`) or
    /// `SHOUT_API_KEY`; a call without one fails before `chat` is reached.
    fn credentials(&self) -> Credentials {
        Credentials::new(&["SHOUT_API_KEY"], &[], None).api_key_required()
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let _key = cx.require_api_key()?; // a real provider sends it (see `Acme`)
        let last = req
            .messages
            .last()
            .and_then(|m| m.text())
            .unwrap_or_default();
        let prompt_tokens = req
            .messages
            .iter()
            .filter_map(|m| m.text())
            .map(|t| t.split_whitespace().count() as u64)
            .sum();
        if last.to_lowercase().contains("weather") {
            let call = ToolCall::function("call_1", "get_weather", r#"{"city":"Paris"}"#);
            return Ok(ChatResponse::from_text(cx.model.as_str(), "")
                .with_tool_calls(vec![call])
                .with_usage(Usage::new(prompt_tokens, 8)));
        }
        let answer = last.to_uppercase();
        let completion_tokens = answer.split_whitespace().count() as u64;
        Ok(ChatResponse::from_text(cx.model.as_str(), answer)
            .with_usage(Usage::new(prompt_tokens, completion_tokens)))
    }

    // No `chat_stream`: the default replays `chat` as a stream (role and content, tool
    // calls, finish reason, then the usage chunk).
}

/// A sketch of an HTTP vendor whose API is not OpenAI's: `POST {base}/generate` with
/// `{"model", "prompt", "max_tokens"}`, answering `{"output", "input_tokens", "output_tokens"}`.
struct Acme;

const ACME_CREDENTIALS: Credentials = Credentials::new(
    &["ACME_API_KEY"],
    &["ACME_API_BASE"],
    Some("https://api.acme.example/v1"),
)
.api_key_required();

#[derive(Serialize)]
struct AcmeRequest<'a> {
    model: &'a str,
    prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
}

#[derive(Deserialize)]
struct AcmeAnswer {
    output: String,
    input_tokens: u64,
    output_tokens: u64,
}

#[async_trait]
impl Provider for Acme {
    fn name(&self) -> &str {
        "acme"
    }

    fn credentials(&self) -> Credentials {
        ACME_CREDENTIALS
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let prompt = req
            .messages
            .iter()
            .filter_map(|m| m.text())
            .collect::<Vec<_>>()
            .join("\n");
        let body = AcmeRequest {
            model: &cx.model,
            prompt,
            max_tokens: req.max_tokens,
        };
        let request = http::HttpRequest {
            url: cx.endpoint("/generate")?,
            headers: http::json_headers(cx, cx.bearer()?, false)?,
            body: serde_json::to_vec(&body)?,
        };
        // Non-2xx answers become typed errors (RateLimit with retry_after, …); the key is
        // scrubbed from every error.
        let resp = http::send(cx, request).await?;
        let (answer, request_id): (AcmeAnswer, _) =
            http::read_answer(cx, resp, "output", |_| false).await?;
        let mut out = ChatResponse::from_text(cx.model.as_str(), answer.output)
            .with_usage(Usage::new(answer.input_tokens, answer.output_tokens));
        out.meta.request_id = request_id;
        Ok(out)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let client = Client::builder()
        .provider("shout", Arc::new(Shout))
        .api_key("shout", "local-demo-key")
        .provider("acme", Arc::new(Acme))
        .build()?;

    // 1. Through the client.
    let resp = client
        .completion("shout/v1", vec![Message::user("hello, custom provider")])
        .await?;
    println!("== chat: {}", resp.text().unwrap_or_default());
    if let Some(u) = &resp.usage {
        println!("   [{} + {} tokens]", u.prompt_tokens, u.completion_tokens);
    }

    // 2. Streamed (the default `chat_stream`).
    print!("== stream: ");
    let mut stream = client
        .chat_stream(ChatRequest::new(
            "shout/v1",
            vec![Message::user("streams work too")],
        ))
        .await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(text) = chunk.text() {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        if let Some(reason) = chunk.finish_reason() {
            print!(" [finish: {reason:?}]");
        }
        if let Some(usage) = &chunk.usage {
            print!(" [usage chunk: {} tokens]", usage.total_tokens);
        }
    }
    println!();

    // Tool calls survive the replay.
    let collected = client
        .chat_stream(ChatRequest::new(
            "shout/v1",
            vec![Message::user("What's the weather in Paris?")],
        ))
        .await?
        .collect_response()
        .await?;
    for call in collected.tool_calls() {
        println!(
            "== streamed tool call: {}({})",
            call.function.name, call.function.arguments
        );
    }

    // 3. Credentials are checked before the provider is called.
    let err = client
        .completion("acme/large", vec![Message::user("hi")])
        .await;
    match err {
        Err(e) if e.kind() == ErrorKind::Authentication => {
            println!("== acme without ACME_API_KEY: {e}");
        }
        Err(e) => println!("== acme: {e}"),
        Ok(resp) => println!("== acme answered: {}", resp.text().unwrap_or_default()),
    }

    // 4. Behind a router: a model group whose deployment is the custom provider.
    let router = Router::builder()
        .client(client)
        .deployment(Deployment::new("loud", "shout/v1").id("shout-1"))
        .build()?;
    let resp = router
        .completion("loud", vec![Message::user("routed to my provider")])
        .await?;
    println!(
        "== router: {} (deployment {})",
        resp.text().unwrap_or_default(),
        resp.meta.deployment_id.as_deref().unwrap_or("?")
    );
    let streamed = router
        .chat_stream(ChatRequest::new(
            "loud",
            vec![Message::user("and streamed")],
        ))
        .await?
        .collect_response()
        .await?;
    println!("== router stream: {}", streamed.text().unwrap_or_default());
    Ok(())
}
