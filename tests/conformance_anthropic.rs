//! Conformance against Anthropic's OpenAPI spec (Messages API), served by Stoplight Prism.
//!
//! Prism validates every request body the crate builds against the spec (HTTP 422 with the
//! violations when one is invalid) and answers with spec-valid messages, so one run checks both
//! directions; with `Prefer: dynamic=true` its answers are random (every content-block type,
//! extreme numbers) and must still decode.
//!
//! Needs Prism (`.ci/install-prism.sh`) and `../shared/specs/anthropic-messages.json`;
//! `LITELLM_PRISM_BIN` and `LITELLM_ANTHROPIC_SPEC` override both paths. When either is missing
//! the test prints a notice and passes, unless `LITELLM_REQUIRE_PRISM=1`.
//!
//! Prism has no SSE: a streaming request gets the whole message as JSON, which the crate
//! replays as chunks.

mod support;

use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatRequest, ChatResponse, Client, Content, ContentPart, ErrorKind, FileData, JsonSchemaFormat,
    Message, ReasoningEffort, ResponseFormat, Role, TextCompletionRequest, Tool, ToolCall,
    ToolChoice,
};
use serde_json::{Map, json};
use support::prism::{Cases, Prism, decoded, failed};

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const DYNAMIC_ROUNDS: usize = 8;
const MODEL: &str = "anthropic/claude-sonnet-4-5";
const OLD_MODEL: &str = "anthropic/claude-3-5-sonnet-latest";
const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const DYNAMIC: (&str, &str) = ("Prefer", "dynamic=true");

fn ephemeral() -> serde_json::Value {
    json!({"type": "ephemeral"})
}

fn check(r: &ChatResponse) -> Result<(), String> {
    ensure!(r.object == "chat.completion", "object is {:?}", r.object);
    ensure!(r.choices.len() == 1, "{} choices", r.choices.len());
    ensure!(
        r.choices[0].message.role == Role::Assistant,
        "role {:?}",
        r.choices[0].message.role
    );
    ensure!(r.usage.is_some(), "no usage");
    ensure!(
        r.meta.provider == "anthropic",
        "meta.provider is {:?}",
        r.meta.provider
    );
    for call in r.tool_calls() {
        ensure!(
            call.function.parse_arguments::<serde_json::Value>().is_ok(),
            "tool call arguments are not JSON: {:?}",
            call.function.arguments
        );
    }
    Ok(())
}

fn weather() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},
            "required":["city"],"additionalProperties":false}),
    )
    .strict(true)
}

fn time_tool() -> Tool {
    let mut t = Tool::function(
        "get_time",
        "Current time in a time zone",
        json!({"type":"object","properties":{"tz":{"type":"string"}}}),
    );
    t.extra.insert("cache_control".into(), ephemeral());
    t
}

fn chat(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new(MODEL, messages)
}

fn hello() -> ChatRequest {
    chat(vec![Message::user("Hello")])
}

fn all_params() -> ChatRequest {
    chat(vec![
        Message::system("You are terse."),
        Message::developer("Answer in English."),
        Message::user("Name three colours."),
    ])
    .temperature(0.7)
    .top_p(0.9)
    .stop(["END", "STOP"])
    .max_tokens(64)
    .user("user-1234")
    .service_tier("auto")
    .n(1)
    .extra_body(json!({"top_k": 5}))
    .provider_param("anthropic_beta", "prompt-caching-2024-07-31")
}

/// A conversation with every message shape the provider translates.
fn multi_turn() -> ChatRequest {
    let mut thinking = Message::assistant_tool_calls(vec![
        ToolCall::function("call_1", "get_weather", r#"{"city":"Paris","unit":"c"}"#),
        ToolCall::function("call.2", "get_time", ""),
    ]);
    thinking.extra.insert(
        "thinking_blocks".into(),
        json!([{"type":"thinking","thinking":"I need two tools.","signature":"EqQBCgIYAhIM"},
               {"type":"redacted_thinking","data":"EmwKAhgBEgy"}]),
    );
    let mut failed_tool = Message::tool("call.2", vec![ContentPart::text("timeout")]);
    failed_tool.extra.insert("is_error".into(), json!(true));
    let mut cached_user = Message::user("Thanks. Summarise.");
    cached_user
        .extra
        .insert("cache_control".into(), ephemeral());
    chat(vec![
        Message::system(vec![
            ContentPart::text("You are a weather bot.").with_field("cache_control", ephemeral()),
        ]),
        Message::user("Weather and time in Paris?").with_name("alice"),
        Message::user(vec![ContentPart::text("Please.")]),
        thinking,
        Message::tool("call_1", r#"{"temp":21}"#),
        failed_tool,
        Message::assistant(vec![ContentPart::text("21 °C; the clock failed.")]),
        cached_user,
    ])
    .tools(vec![weather(), time_tool()])
}

fn content_parts() -> ChatRequest {
    chat(vec![Message::user(Content::Parts(vec![
        ContentPart::text("Describe these.").with_field("cache_control", ephemeral()),
        ContentPart::image_url("https://example.com/cat.png"),
        ContentPart::image_url(PNG_DATA_URL).with_field("cache_control", ephemeral()),
        ContentPart::File {
            file: FileData {
                file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".into()),
                filename: Some("doc.pdf".into()),
                ..Default::default()
            },
            extra: Map::new(),
        },
        ContentPart::File {
            file: FileData {
                file_data: Some("data:text/plain;base64,aGVsbG8gd29ybGQ=".into()),
                ..Default::default()
            },
            extra: Map::new(),
        },
    ]))])
}

fn schema_format() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "colours".into(),
            description: Some("A list of colours".into()),
            schema: Some(json!({
                "type": "object",
                "properties": {"colours": {"type": "array", "items": {"type": "string"}}},
                "required": ["colours"],
                "additionalProperties": false
            })),
            strict: Some(true),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_conform_to_the_anthropic_spec() {
    let started = std::time::Instant::now();
    let Some(prism) = Prism::start("anthropic-messages.json", "LITELLM_ANTHROPIC_SPEC").await
    else {
        return;
    };
    let client = Client::builder()
        .no_env()
        .api_key("anthropic", "sk-ant-test")
        .api_base("anthropic", prism.url())
        .timeout(CALL_TIMEOUT)
        .build()
        .expect("client");
    let c = &client;
    let mut cases = Cases::default();

    cases
        .run("control: invalid body is rejected with 422", async {
            // Anthropic's temperature stops at 1; the crate passes it through.
            match c.chat(hello().temperature(1.5)).await {
                Ok(r) => Err(format!("Prism accepted temperature 1.5: {r:?}")),
                Err(e) => {
                    ensure!(
                        e.status() == Some(422) && e.kind() == ErrorKind::UnprocessableEntity,
                        "expected a 422, got {}",
                        failed(e)
                    );
                    Ok(())
                }
            }
        })
        .await;

    cases
        .run(
            "control: an invalid nested block is rejected with 422",
            async {
                let req = chat(vec![Message::user(vec![ContentPart::Other(
                    json!({"type": "bogus_block", "x": 1}),
                )])]);
                match c.chat(req).await {
                    Ok(r) => Err(format!("Prism accepted an unknown block: {r:?}")),
                    Err(e) => {
                        ensure!(e.status() == Some(422), "expected a 422, got {}", failed(e));
                        Ok(())
                    }
                }
            },
        )
        .await;
    cases
        .run("chat: minimal", async {
            let r = c
                .completion(MODEL, vec![Message::user("Hi")])
                .await
                .map_err(failed)?;
            check(&r)?;
            ensure!(r.text().is_some(), "no text");
            Ok(())
        })
        .await;
    cases
        .run("chat: bare claude name inferred", async {
            check(
                &c.completion("claude-3-5-haiku-latest", vec![Message::user("Hi")])
                    .await
                    .map_err(failed)?,
            )
        })
        .await;
    cases
        .run("chat: all sampling parameters, system, beta", async {
            check(&c.chat(all_params()).await.map_err(failed)?)
        })
        .await;
    cases
        .run("chat: max_completion_tokens, standard_only tier", async {
            let req = hello().max_completion_tokens(16).service_tier("default");
            check(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    for effort in [
        ReasoningEffort::None,
        ReasoningEffort::Minimal,
        ReasoningEffort::Low,
        ReasoningEffort::Medium,
        ReasoningEffort::High,
        ReasoningEffort::XHigh,
        ReasoningEffort::Max,
    ] {
        cases
            .run(format!("chat: reasoning_effort {effort:?}"), async {
                let req = chat(vec![Message::developer("Think."), Message::user("2+2?")])
                    .reasoning_effort(effort)
                    .max_completion_tokens(1000);
                check(&c.chat(req).await.map_err(failed)?)
            })
            .await;
    }
    cases
        .run("chat: thinking through extra_body", async {
            let req =
                hello().extra_body(json!({"thinking": {"type": "enabled", "budget_tokens": 2000}}));
            check(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    for (label, choice) in [
        ("auto", Some(ToolChoice::Auto)),
        ("none", Some(ToolChoice::None)),
        ("required", Some(ToolChoice::Required)),
        ("named", Some(ToolChoice::function("get_weather"))),
        ("unset", None),
    ] {
        for parallel in [None, Some(false)] {
            cases
                .run(
                    format!("chat: tools, tool_choice {label}, parallel {parallel:?}"),
                    async {
                        let mut req = chat(vec![Message::user("Weather in Paris?")])
                            .tools(vec![weather(), time_tool()]);
                        req.tool_choice = choice.clone();
                        req.parallel_tool_calls = parallel;
                        check(&c.chat(req).await.map_err(failed)?)
                    },
                )
                .await;
        }
    }
    cases
        .run("chat: native web search tool beside a function", async {
            let search: Tool = serde_json::from_value(
                json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 2}),
            )
            .map_err(|e| e.to_string())?;
            let req = chat(vec![Message::user("News?")]).tools(vec![search, weather()]);
            check(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("chat: web_search_options", async {
            let req = chat(vec![Message::user("News in Paris?")]).web_search_options(json!({
                "search_context_size": "low",
                "user_location": {"type": "approximate",
                    "approximate": {"country": "FR", "city": "Paris", "timezone": "Europe/Paris"}}
            }));
            check(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    for (label, model, format) in [
        ("json_object", MODEL, ResponseFormat::JsonObject),
        ("json_schema (output_config)", MODEL, schema_format()),
        (
            "json_schema (forced tool, old model)",
            OLD_MODEL,
            schema_format(),
        ),
        (
            "json_schema (helper)",
            MODEL,
            ResponseFormat::json_schema(
                "point",
                json!({"type": "object", "additionalProperties": false}),
                false,
            ),
        ),
        ("text", MODEL, ResponseFormat::Text),
    ] {
        cases
            .run(format!("chat: response_format {label}"), async {
                let req = ChatRequest::new(
                    model,
                    vec![Message::system("Reply in JSON."), Message::user("Colours?")],
                )
                .response_format(format);
                check(&c.chat(req).await.map_err(failed)?)
            })
            .await;
    }
    cases
        .run("chat: json_object with the caller's tools", async {
            let req = chat(vec![Message::user("Weather as JSON")])
                .tools(vec![weather()])
                .parallel_tool_calls(false)
                .response_format(ResponseFormat::JsonObject);
            check(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run(
            "chat: multi-turn with thinking, tool calls and results",
            async { check(&c.chat(multi_turn()).await.map_err(failed)?) },
        )
        .await;
    cases
        .run(
            "chat: images, PDF and text documents, cache_control",
            async { check(&c.chat(content_parts()).await.map_err(failed)?) },
        )
        .await;
    cases
        .run("chat: answer pushed back onto the history", async {
            let first = c.chat(multi_turn()).await.map_err(failed)?;
            let answer = first.message().cloned().ok_or("no message")?;
            let mut req = multi_turn().message(answer);
            let ids: Vec<String> = req
                .messages
                .last()
                .and_then(|m| m.tool_calls.as_ref())
                .map(|calls| calls.iter().map(|c| c.id.clone()).collect())
                .unwrap_or_default();
            for id in ids {
                req = req.message(Message::tool(id, "{}"));
            }
            check(
                &c.chat(req.message(Message::user("And tomorrow?")))
                    .await
                    .map_err(failed)?,
            )
        })
        .await;
    cases
        .run("text_completion through messages", async {
            let r = c
                .text_completion(TextCompletionRequest::new(MODEL, "Say hi").max_tokens(8))
                .await
                .map_err(failed)?;
            ensure!(
                r.meta.provider == "anthropic",
                "provider {}",
                r.meta.provider
            );
            Ok(())
        })
        .await;

    cases
        .run("chat_stream: collect_response", async {
            let stream = c.chat_stream(all_params()).await.map_err(failed)?;
            let r = stream.collect_response().await.map_err(failed)?;
            check(&r)
        })
        .await;
    cases
        .run("chat_stream: chunks end with the usage chunk", async {
            let mut stream = c.chat_stream(multi_turn()).await.map_err(failed)?;
            let mut chunks = Vec::new();
            while let Some(chunk) = stream.next().await {
                chunks.push(chunk.map_err(failed)?);
            }
            let last = chunks.last().ok_or("no chunks")?;
            ensure!(
                last.usage.is_some() && last.choices.is_empty(),
                "last chunk is not the usage chunk: {last:?}"
            );
            Ok(())
        })
        .await;

    for round in 1..=DYNAMIC_ROUNDS {
        cases
            .run(format!("dynamic #{round}: chat decodes"), async {
                for req in [all_params(), multi_turn(), content_parts()] {
                    let Some(r) = decoded(c.chat(req.extra_header(DYNAMIC.0, DYNAMIC.1)).await)?
                    else {
                        continue;
                    };
                    check(&r)?;
                    // Whatever came back can be sent back.
                    let answer = r.message().cloned().ok_or("no message")?;
                    let mut next = multi_turn().message(answer.clone());
                    for call in answer.tool_calls.iter().flatten() {
                        next = next.message(Message::tool(call.id.clone(), "{}"));
                    }
                    decoded(c.chat(next.message(Message::user("Go on."))).await)?;
                }
                Ok(())
            })
            .await;
        cases
            .run(format!("dynamic #{round}: chat_stream decodes"), async {
                let req = multi_turn().extra_header(DYNAMIC.0, DYNAMIC.1);
                let stream = c.chat_stream(req).await.map_err(failed)?;
                match decoded(stream.collect_response().await)? {
                    Some(r) => check(&r),
                    None => Ok(()),
                }
            })
            .await;
    }

    cases.finish(started);
}
