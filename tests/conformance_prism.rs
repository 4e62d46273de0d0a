//! Conformance against OpenAI's official OpenAPI spec, served by Stoplight Prism.
//!
//! Prism validates every request body against the spec (HTTP 422 with the list of violations
//! when a body is invalid) and answers with a body the spec allows, so one run checks both
//! directions: the requests this crate builds are valid, and spec-shaped answers decode.
//!
//! Needs Prism (install it with `.ci/install-prism.sh`, which needs Node) and the spec at
//! `../shared/specs/openai-chat.yaml`; `LITELLM_PRISM_BIN` and `LITELLM_OPENAI_SPEC` override
//! both paths. When either is missing the test prints a notice and passes, unless
//! `LITELLM_REQUIRE_PRISM=1` (set in CI), which turns the notice into a failure.
//!
//! Prism has no SSE: a streaming request gets the whole answer as JSON (the crate's streaming
//! `Accept` header lists JSON first, as Prism needs), which the crate replays as chunks.

mod support;

use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatRequest, ChatResponse, Client, Content, ContentPart, EmbeddingInput, EmbeddingRequest,
    EmbeddingResponse, EncodingFormat, ErrorKind, FileData, JsonSchemaFormat, Message, Prompt,
    ReasoningEffort, ResponseFormat, Role, StreamOptions, TextCompletionRequest,
    TextCompletionResponse, Tool, ToolCall, ToolChoice,
};
use serde_json::{Map, Value, json};
use support::prism::{Cases, Prism, decoded, failed};

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// Timeout of each call; Prism answers in milliseconds.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Rounds of the cases run with random (`Prefer: dynamic=true`) answers.
const DYNAMIC_ROUNDS: usize = 5;

const CHAT_MODEL: &str = "openai/gpt-4o-mini";
const EMBED_MODEL: &str = "openai/text-embedding-3-small";
const TEXT_MODEL: &str = "openai/gpt-3.5-turbo-instruct";
/// A 1x1 transparent PNG.
const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
/// A tiny WAV header, base64.
const WAV_BASE64: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

fn check_chat(r: &ChatResponse) -> Result<(), String> {
    ensure!(r.object == "chat.completion", "object is {:?}", r.object);
    ensure!(!r.choices.is_empty(), "no choices");
    for c in &r.choices {
        ensure!(
            c.message.role == Role::Assistant,
            "choice {} has role {:?}",
            c.index,
            c.message.role
        );
    }
    ensure!(r.usage.is_some(), "no usage");
    ensure!(
        r.meta.provider == "openai",
        "meta.provider is {:?}",
        r.meta.provider
    );
    Ok(())
}

fn check_embeddings(r: &EmbeddingResponse) -> Result<(), String> {
    ensure!(r.object == "list", "object is {:?}", r.object);
    ensure!(!r.data.is_empty(), "no data");
    ensure!(
        r.data.windows(2).all(|w| w[0].index <= w[1].index),
        "data not sorted by index"
    );
    for e in &r.data {
        ensure!(
            e.object == "embedding",
            "data[{}].object is {:?}",
            e.index,
            e.object
        );
    }
    ensure!(
        r.meta.provider == "openai",
        "meta.provider is {:?}",
        r.meta.provider
    );
    Ok(())
}

fn check_text(r: &TextCompletionResponse) -> Result<(), String> {
    ensure!(r.object == "text_completion", "object is {:?}", r.object);
    ensure!(!r.choices.is_empty(), "no choices");
    ensure!(r.text().is_some(), "no text");
    ensure!(
        r.meta.provider == "openai",
        "meta.provider is {:?}",
        r.meta.provider
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Request builders.

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather in a city",
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
            },
            "required": ["city", "unit"],
            "additionalProperties": false
        }),
    )
    .strict(true)
}

fn time_tool() -> Tool {
    Tool::function(
        "get_time",
        "Current time in a time zone",
        json!({"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}),
    )
}

fn chat(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new(CHAT_MODEL, messages)
}

fn hello() -> ChatRequest {
    chat(vec![Message::user("Hello")])
}

/// Every sampling, logging and storage parameter at once.
fn all_params() -> ChatRequest {
    chat(vec![
        Message::system("You are terse."),
        Message::user("Name three colours."),
    ])
    .temperature(0.7)
    .top_p(0.9)
    .n(2)
    .stop(["\n\n", "END"])
    .max_tokens(64)
    .presence_penalty(0.5)
    .frequency_penalty(-0.5)
    .logit_bias(map(json!({"50256": -100, "1234": 5})))
    .logprobs(true)
    .top_logprobs(5)
    .user("user-1234")
    .seed(42)
    .service_tier("flex")
    .store(true)
    .store_metadata(map(json!({"team": "qa", "run": "conformance"})))
    .safety_identifier("hashed-user-1")
    .prompt_cache_key("conformance-prefix")
    .prompt_cache_retention("24h")
    .verbosity("low")
}

/// A conversation with every message role and shape.
fn multi_turn() -> ChatRequest {
    let call = ToolCall::function(
        "call_1",
        "get_weather",
        r#"{"city":"Paris","unit":"celsius"}"#,
    );
    let call2 = ToolCall::function("call_2", "get_time", r#"{"tz":"Europe/Paris"}"#);
    let mut refused = Message::assistant("I can't help with that.");
    refused.refusal = Some("I can't help with that.".to_owned());
    chat(vec![
        Message::system("You are a weather bot.").with_name("setup"),
        Message::developer(vec![ContentPart::text("Answer in one sentence.")]),
        Message::user("Something dangerous").with_name("alice"),
        refused,
        Message::user("Weather and time in Paris?"),
        Message::assistant_tool_calls(vec![call, call2]),
        Message::tool("call_1", r#"{"temp":21}"#),
        Message::tool("call_2", vec![ContentPart::text("14:00")]),
        Message::assistant(vec![ContentPart::text("21 °C at 14:00.")]).with_name("bot"),
        Message::user("Thanks"),
    ])
    .tools(vec![weather_tool(), time_tool()])
}

/// A user message with text, images, audio and files.
fn content_parts() -> ChatRequest {
    let parts = vec![
        ContentPart::text("Describe these."),
        ContentPart::image_url("https://example.com/cat.png"),
        ContentPart::ImageUrl {
            image_url: litellm::ImageUrl {
                url: PNG_DATA_URL.to_owned(),
                detail: Some("high".to_owned()),
            },
            extra: Map::new(),
        },
        ContentPart::input_audio(WAV_BASE64, "wav"),
        ContentPart::input_audio(WAV_BASE64, "mp3"),
        ContentPart::File {
            file: FileData {
                file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".to_owned()),
                file_id: None,
                filename: Some("doc.pdf".to_owned()),
            },
            extra: Map::new(),
        },
        ContentPart::File {
            file: FileData {
                file_id: Some("file-abc123".to_owned()),
                ..FileData::default()
            },
            extra: Map::new(),
        },
    ];
    chat(vec![Message::user(Content::Parts(parts))])
}

fn json_schema_format() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "colours".to_owned(),
            description: Some("A list of colours".to_owned()),
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

/// Asks Prism for random spec-valid answers instead of the spec's examples.
const DYNAMIC: (&str, &str) = ("Prefer", "dynamic=true");

// ---------------------------------------------------------------------------------------------
// The test.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_conform_to_the_openai_spec() {
    let started = std::time::Instant::now();
    let Some(prism) = Prism::start("openai-chat.yaml", "LITELLM_OPENAI_SPEC").await else {
        return;
    };
    let client = Client::builder()
        .no_env()
        .api_key("openai", "sk-test")
        .api_base("openai", format!("http://127.0.0.1:{}/v1", prism.port))
        .timeout(CALL_TIMEOUT)
        .build()
        .expect("client");
    let c = &client;
    let mut cases = Cases::default();

    // --- Negative control: Prism really validates, and its 422 decodes as an error.
    cases
        .run("control: invalid body is rejected with 422", async {
            match c.chat(hello().n(0).temperature(5.0)).await {
                Ok(r) => Err(format!("Prism accepted n=0, temperature=5: {r:?}")),
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

    // --- Chat completions.
    cases
        .run("chat: minimal (Client::completion)", async {
            let r = c
                .completion(CHAT_MODEL, vec![Message::user("Hi")])
                .await
                .map_err(failed)?;
            check_chat(&r)?;
            ensure!(r.text().is_some(), "no text");
            Ok(())
        })
        .await;
    cases
        .run("chat: bare model name inferred as openai", async {
            let r = c
                .completion("gpt-4o", vec![Message::user("Hi")])
                .await
                .map_err(failed)?;
            check_chat(&r)
        })
        .await;
    cases
        .run("chat: all sampling/logging/storage parameters", async {
            let r = c.chat(all_params()).await.map_err(failed)?;
            check_chat(&r)
        })
        .await;
    cases
        .run(
            "chat: single stop string, max_completion_tokens, in_memory cache",
            async {
                let req = hello()
                    .stop("END")
                    .max_completion_tokens(128)
                    .prompt_cache_retention("in_memory")
                    .service_tier("auto")
                    .verbosity("high")
                    .logprobs(false)
                    .temperature(0.0)
                    .seed(-1);
                check_chat(&c.chat(req).await.map_err(failed)?)
            },
        )
        .await;
    cases
        .run(
            "chat: max_tokens and max_completion_tokens together",
            async {
                let req = hello().max_tokens(10).max_completion_tokens(20);
                check_chat(&c.chat(req).await.map_err(failed)?)
            },
        )
        .await;
    for tier in ["default", "priority"] {
        cases
            .run(format!("chat: service_tier {tier}"), async {
                check_chat(&c.chat(hello().service_tier(tier)).await.map_err(failed)?)
            })
            .await;
    }
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
                let req = chat(vec![
                    Message::developer("Think first."),
                    Message::user("2+2?"),
                ])
                .reasoning_effort(effort)
                .max_completion_tokens(1000);
                check_chat(&c.chat(req).await.map_err(failed)?)
            })
            .await;
    }
    for (label, choice) in [
        ("auto", ToolChoice::Auto),
        ("none", ToolChoice::None),
        ("required", ToolChoice::Required),
        ("named", ToolChoice::function("get_weather")),
        (
            "allowed_tools",
            ToolChoice::Other(json!({
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "get_time"}}]
                }
            })),
        ),
    ] {
        cases
            .run(format!("chat: tools, tool_choice {label}"), async {
                let req = chat(vec![Message::user("Weather in Paris?")])
                    .tools(vec![weather_tool(), time_tool()])
                    .tool_choice(choice)
                    .parallel_tool_calls(label != "named");
                let r = c.chat(req).await.map_err(failed)?;
                check_chat(&r)?;
                for call in r.tool_calls() {
                    ensure!(call.kind == "function", "tool call type {:?}", call.kind);
                }
                Ok(())
            })
            .await;
    }
    cases
        .run("chat: custom tool", async {
            let custom: Tool = serde_json::from_value(json!({
                "type": "custom",
                "custom": {
                    "name": "sql",
                    "description": "Runs SQL",
                    "format": {
                        "type": "grammar",
                        "grammar": {"definition": "start: /.+/", "syntax": "lark"}
                    }
                }
            }))
            .map_err(|e| e.to_string())?;
            let req = chat(vec![Message::user("Count the rows")])
                .tools(vec![custom, weather_tool()])
                .tool_choice(ToolChoice::Other(
                    json!({"type": "custom", "custom": {"name": "sql"}}),
                ));
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    for (label, format) in [
        ("text", ResponseFormat::Text),
        ("json_object", ResponseFormat::JsonObject),
        ("json_schema", json_schema_format()),
        (
            "json_schema (helper)",
            ResponseFormat::json_schema("point", json!({"type": "object"}), false),
        ),
    ] {
        cases
            .run(format!("chat: response_format {label}"), async {
                let req = chat(vec![
                    Message::system("Reply in JSON."),
                    Message::user("Colours?"),
                ])
                .response_format(format);
                check_chat(&c.chat(req).await.map_err(failed)?)
            })
            .await;
    }
    cases
        .run("chat: multi-turn with every role and tool results", async {
            check_chat(&c.chat(multi_turn()).await.map_err(failed)?)
        })
        .await;
    cases
        .run(
            "chat: user content parts (text, image_url, input_audio, file)",
            async { check_chat(&c.chat(content_parts()).await.map_err(failed)?) },
        )
        .await;
    cases
        .run("chat: audio output (modalities + audio)", async {
            let req = chat(vec![Message::user("Say hi")])
                .modalities(vec!["text".to_owned(), "audio".to_owned()])
                .audio(json!({"voice": "alloy", "format": "wav"}));
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("chat: text-only modalities", async {
            let req = hello().modalities(vec!["text".to_owned()]);
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("chat: prediction (string and parts)", async {
            let req = chat(vec![Message::user("Rename x to y: let x = 1;")])
                .prediction(json!({"type": "content", "content": "let y = 1;"}));
            check_chat(&c.chat(req).await.map_err(failed)?)?;
            let req = chat(vec![Message::user("Rename x to y: let x = 1;")]).prediction(
                json!({"type": "content", "content": [{"type": "text", "text": "let y = 1;"}]}),
            );
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("chat: web_search_options", async {
            let req = hello().web_search_options(json!({
                "search_context_size": "low",
                "user_location": {
                    "type": "approximate",
                    "approximate": {"country": "FR", "city": "Paris", "timezone": "Europe/Paris"}
                }
            }));
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run(
            "chat: deprecated functions + function_call + function message",
            async {
                let mut req = chat(vec![
                    Message::user("Weather?"),
                    Message::new(Role::Function, r#"{"temp":21}"#).with_name("get_weather"),
                ]);
                req.functions = Some(json!([{
                    "name": "get_weather",
                    "description": "Weather in a city",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}
                }]));
                req.function_call = Some(json!({"name": "get_weather"}));
                check_chat(&c.chat(req).await.map_err(failed)?)
            },
        )
        .await;
    cases
        .run(
            "chat: stream_options on a non-streaming call are not sent",
            async {
                let req = hello().stream_options(StreamOptions {
                    include_usage: Some(true),
                    ..StreamOptions::default()
                });
                check_chat(&c.chat(req).await.map_err(failed)?)
            },
        )
        .await;
    cases
        .run("chat: answer pushed back onto the history", async {
            let first = c.chat(multi_turn()).await.map_err(failed)?;
            let answer = first
                .message()
                .cloned()
                .ok_or("no message in the first answer")?;
            let mut req = multi_turn().message(answer);
            // A history that ends with tool calls must answer them.
            let ids: Vec<String> = req
                .messages
                .last()
                .and_then(|m| m.tool_calls.as_ref())
                .map(|calls| calls.iter().map(|c| c.id.clone()).collect())
                .unwrap_or_default();
            for id in ids {
                req = req.message(Message::tool(id, "{}"));
            }
            check_chat(
                &c.chat(req.message(Message::user("And tomorrow?")))
                    .await
                    .map_err(failed)?,
            )
        })
        .await;

    // --- Streaming (Prism answers JSON; the crate replays it as chunks).
    cases
        .run("chat_stream: collect_response", async {
            let stream = c.chat_stream(all_params().n(1)).await.map_err(failed)?;
            let r = stream.collect_response().await.map_err(failed)?;
            ensure!(!r.choices.is_empty(), "no choices");
            ensure!(r.usage.is_some(), "no usage");
            ensure!(
                !r.tool_calls().is_empty(),
                "tool calls of the answer were lost"
            );
            ensure!(
                r.meta.provider == "openai",
                "meta.provider is {:?}",
                r.meta.provider
            );
            Ok(())
        })
        .await;
    cases
        .run("chat_stream: chunks end with the usage chunk", async {
            let req = multi_turn()
                .tool_choice(ToolChoice::Auto)
                .stream_options(StreamOptions {
                    include_obfuscation: Some(false),
                    ..StreamOptions::default()
                });
            let mut stream = c.chat_stream(req).await.map_err(failed)?;
            let mut chunks = Vec::new();
            while let Some(chunk) = stream.next().await {
                chunks.push(chunk.map_err(failed)?);
            }
            let last = chunks.last().ok_or("no chunks")?;
            ensure!(
                last.usage.is_some() && last.choices.is_empty(),
                "last chunk is not the usage chunk: {last:?}"
            );
            ensure!(
                chunks.iter().any(|ch| ch.finish_reason().is_some()),
                "no finish reason in any chunk"
            );
            Ok(())
        })
        .await;
    cases
        .run("chat_stream: with include_usage set by the caller", async {
            let req = hello().stream_options(StreamOptions {
                include_usage: Some(false),
                ..StreamOptions::default()
            });
            let stream = c.chat_stream(req).await.map_err(failed)?;
            let r = stream.collect_response().await.map_err(failed)?;
            ensure!(!r.choices.is_empty(), "no choices");
            Ok(())
        })
        .await;

    // --- Embeddings.
    cases
        .run("embeddings: one string (Client::embedding)", async {
            let r = c.embedding(EMBED_MODEL, "hello").await.map_err(failed)?;
            check_embeddings(&r)
        })
        .await;
    cases
        .run("embeddings: many strings, float, dimensions, user", async {
            let req = EmbeddingRequest::new(EMBED_MODEL, vec!["a", "b", "c"])
                .encoding_format(EncodingFormat::Float)
                .dimensions(256)
                .user("user-1234");
            check_embeddings(&c.embed(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("embeddings: base64 encoding", async {
            let req = EmbeddingRequest::new(EMBED_MODEL, ["x", "y"])
                .encoding_format(EncodingFormat::Base64)
                .dimensions(64);
            check_embeddings(&c.embed(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("embeddings: one token array", async {
            let req = EmbeddingRequest::new(EMBED_MODEL, vec![15339u32, 1917]);
            check_embeddings(&c.embed(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("embeddings: several token arrays", async {
            let input = EmbeddingInput::from(vec![vec![15339u32, 1917], vec![9906]]);
            let req =
                EmbeddingRequest::new(EMBED_MODEL, input).encoding_format(EncodingFormat::Float);
            check_embeddings(&c.embed(req).await.map_err(failed)?)
        })
        .await;

    // --- Legacy text completions.
    cases
        .run("completions: text prompt with every parameter", async {
            let req = TextCompletionRequest::new(TEXT_MODEL, "Say this is a test")
                .suffix(" -- end")
                .max_tokens(16)
                .temperature(0.5)
                .top_p(0.9)
                .n(2)
                .best_of(3)
                .logprobs(2)
                .echo(true)
                .stop(["\n", "."])
                .presence_penalty(0.1)
                .frequency_penalty(0.2)
                .logit_bias(map(json!({"50256": -100})))
                .seed(7)
                .user("user-1234");
            check_text(&c.text_completion(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("completions: several prompts, single stop", async {
            let req = TextCompletionRequest::new(TEXT_MODEL, vec!["One", "Two"])
                .stop("END")
                .max_tokens(5);
            check_text(&c.text_completion(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("completions: token prompt", async {
            let req = TextCompletionRequest::new(TEXT_MODEL, vec![15339u32, 1917]);
            check_text(&c.text_completion(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run("completions: several token prompts", async {
            let req = TextCompletionRequest::new(
                TEXT_MODEL,
                Prompt::TokenBatches(vec![vec![1, 2], vec![3]]),
            );
            check_text(&c.text_completion(req).await.map_err(failed)?)
        })
        .await;

    // --- Random spec-valid answers must decode: extreme numbers, unknown fields, nulls, custom
    // (non-function) tool calls, …
    for round in 1..=DYNAMIC_ROUNDS {
        cases
            .run(format!("dynamic #{round}: chat decodes"), async {
                let req = all_params().extra_header(DYNAMIC.0, DYNAMIC.1);
                decoded(c.chat(req).await)?;
                let req = multi_turn().extra_header(DYNAMIC.0, DYNAMIC.1);
                decoded(c.chat(req).await)?;
                Ok(())
            })
            .await;
        cases
            .run(format!("dynamic #{round}: chat_stream decodes"), async {
                let req = multi_turn().extra_header(DYNAMIC.0, DYNAMIC.1);
                let stream = c.chat_stream(req).await.map_err(failed)?;
                decoded(stream.collect_response().await)?;
                Ok(())
            })
            .await;
        cases
            .run(format!("dynamic #{round}: embeddings decode"), async {
                let req = EmbeddingRequest::new(EMBED_MODEL, vec!["a", "b"])
                    .extra_header(DYNAMIC.0, DYNAMIC.1);
                decoded(c.embed(req).await)?;
                Ok(())
            })
            .await;
        cases
            .run(format!("dynamic #{round}: completions decode"), async {
                let req = TextCompletionRequest::new(TEXT_MODEL, "Hi")
                    .max_tokens(4)
                    .extra_header(DYNAMIC.0, DYNAMIC.1);
                decoded(c.text_completion(req).await)?;
                Ok(())
            })
            .await;
    }

    cases.finish(started);
}
