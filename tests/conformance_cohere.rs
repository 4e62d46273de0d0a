//! Conformance against Cohere's official OpenAPI spec (`/v2/chat`, `/v2/embed`), served by
//! Stoplight Prism: every request body the crate builds for `cohere/` must validate (Prism
//! answers 422 with the violations otherwise), and Prism's generated answers must decode, also
//! the random ones (`Prefer: dynamic=true`) with extreme numbers.
//!
//! Needs Prism and `../shared/specs/cohere-chat.json`; `LITELLM_PRISM_BIN` and
//! `LITELLM_COHERE_SPEC` override both paths. Without them the test prints a notice and passes,
//! unless `LITELLM_REQUIRE_PRISM=1`.
//!
//! The spec's `ResponseFormatV2` is a `oneOf` of two schemas that accept the same bodies (both
//! take `type: text | json_object`), so no `response_format` can validate against it as
//! published. The test serves a copy of the spec (written under the cargo target directory, never
//! committed) in which that one `oneOf` is an `anyOf`; everything else is the official spec.
//!
//! Prism has no SSE: a streaming request gets one JSON body. The spec's 200 answer is "a chat
//! response or one stream event", so Prism's random answers are sometimes a lone stream event:
//! to a chat call that is an `InvalidResponse` (no `message`), to a stream call an incomplete
//! stream (`ApiConnection`) unless the event is `message-end`. Both are accepted in the random
//! rounds, as long as some answers decode and nothing else fails.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use litellm::{
    ChatRequest, ChatResponse, Client, Content, ContentPart, EmbeddingRequest, EmbeddingResponse,
    EncodingFormat, ErrorKind, ImageUrl, JsonSchemaFormat, Message, ReasoningEffort,
    ResponseFormat, Tool, ToolCall, ToolChoice,
};
use serde_json::{Map, Value, json};
use support::prism::{Cases, Prism, decoded as random_decoded, failed};

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const DYNAMIC_ROUNDS: usize = 8;
const MODEL: &str = "cohere/command-a-03-2025";
const EMBED_MODEL: &str = "cohere/embed-v4.0";
const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const DYNAMIC: (&str, &str) = ("Prefer", "dynamic=true");

fn check_chat(r: &ChatResponse) -> Result<(), String> {
    ensure!(r.object == "chat.completion", "object is {:?}", r.object);
    ensure!(r.choices.len() == 1, "{} choices", r.choices.len());
    ensure!(r.finish_reason().is_some(), "no finish reason");
    ensure!(
        r.meta.provider == "cohere",
        "meta.provider is {:?}",
        r.meta.provider
    );
    for call in r.tool_calls() {
        ensure!(!call.id.is_empty(), "a tool call without id");
    }
    Ok(())
}

fn check_embeddings(r: &EmbeddingResponse) -> Result<(), String> {
    ensure!(r.object == "list", "object is {:?}", r.object);
    ensure!(!r.data.is_empty(), "no data");
    ensure!(
        r.meta.provider == "cohere",
        "meta.provider is {:?}",
        r.meta.provider
    );
    Ok(())
}

fn weather() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather in a city",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"]
        }),
    )
}

fn clock() -> Tool {
    Tool::function(
        "get_time",
        "Current time in a time zone",
        json!({"type": "object", "properties": {"tz": {"type": "string"}}}),
    )
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
        Message::user("Name three colours."),
    ])
    .temperature(0.7)
    .top_p(0.9)
    .max_tokens(64)
    .stop(["\n\n", "END"])
    .seed(42)
    .frequency_penalty(0.2)
    .presence_penalty(0.1)
    .logprobs(true)
}

fn multi_turn() -> ChatRequest {
    let mut call = Message::assistant_tool_calls(vec![
        ToolCall::function("call_1", "get_weather", r#"{"city":"Paris"}"#),
        ToolCall::function("call_2", "get_time", r#"{"tz":"Europe/Paris"}"#),
    ]);
    call.reasoning_content = Some("I will look up both.".to_owned());
    chat(vec![
        Message::system("You are a weather bot.").with_name("setup"),
        Message::developer(vec![ContentPart::text("Answer in one sentence.")]),
        Message::user("Weather and time in Paris?").with_name("alice"),
        call,
        Message::tool("call_1", r#"{"temp":21}"#),
        Message::tool("call_2", vec![ContentPart::text("14:00")]),
        Message::assistant(vec![ContentPart::text("21 °C at 14:00.")]),
        Message::user("Thanks"),
    ])
    .tools(vec![weather(), clock()])
}

fn images() -> ChatRequest {
    chat(vec![Message::user(Content::Parts(vec![
        ContentPart::text("Describe these."),
        ContentPart::image_url("https://example.com/cat.png"),
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: PNG_DATA_URL.to_owned(),
                detail: Some("high".to_owned()),
            },
            extra: Map::new(),
        },
    ]))])
}

fn schema_format() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "colours".to_owned(),
            description: Some("A list of colours".to_owned()),
            schema: Some(json!({
                "type": "object",
                "properties": {"colours": {"type": "array", "items": {"type": "string"}}},
                "required": ["colours"]
            })),
            strict: Some(true),
        },
    }
}

/// The spec with `ResponseFormatV2.oneOf` made an `anyOf` (see the module docs), written under
/// the target directory. `None` after a notice when the spec is missing.
fn patched_spec() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let source = support::prism::locate(
        "LITELLM_COHERE_SPEC",
        root.join("../shared/specs/cohere-chat.json"),
    );
    let Ok(text) = std::fs::read_to_string(&source) else {
        support::prism::skip(&format!("spec not found at {}", source.display()));
        return None;
    };
    let mut spec: Value = serde_json::from_str(&text).expect("the Cohere spec is JSON");
    let format = spec
        .pointer_mut("/components/schemas/ResponseFormatV2")
        .and_then(Value::as_object_mut)
        .expect("the spec has components.schemas.ResponseFormatV2");
    let branches = format.remove("oneOf").expect("ResponseFormatV2 is a oneOf");
    format.insert("anyOf".to_owned(), branches);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cohere-chat.patched.json");
    std::fs::write(&out, serde_json::to_vec(&spec).expect("serialize")).expect("write the spec");
    Some(out)
}

/// A random answer to a chat call: decoded, or a lone stream event (see the module docs).
fn random_chat_ok(r: litellm::Result<ChatResponse>, decoded: &mut usize) -> Result<(), String> {
    match r {
        Ok(r) => {
            check_chat(&r)?;
            *decoded += 1;
            Ok(())
        }
        Err(e)
            if e.kind() == ErrorKind::InvalidResponse
                && e.message().contains("has no `message`") =>
        {
            Ok(())
        }
        // Decoded, then refused on purpose for Prism's extreme token counts.
        Err(e) if e.code() == Some("implausible_usage") => {
            *decoded += 1;
            Ok(())
        }
        Err(e) => Err(failed(e)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_conform_to_the_cohere_spec() {
    let started = Instant::now();
    let Some(spec) = patched_spec() else {
        return;
    };
    let spec = spec.to_string_lossy().into_owned();
    let Some(prism) = Prism::start(&spec, "LITELLM_COHERE_SPEC_PATCHED").await else {
        return;
    };
    let client = Client::builder()
        .no_env()
        .api_key("cohere", "co-test")
        .api_base("cohere", prism.url())
        .timeout(CALL_TIMEOUT)
        .build()
        .expect("client");
    let c = &client;
    let mut cases = Cases::default();

    cases
        .run("control: invalid body is rejected with 422", async {
            // Cohere's temperature range is 0..1
            match c.chat(hello().temperature(5.0)).await {
                Ok(r) => Err(format!("Prism accepted temperature=5: {r:?}")),
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
        .run("chat: minimal", async {
            let r = c
                .completion(MODEL, vec![Message::user("Hi")])
                .await
                .map_err(failed)?;
            check_chat(&r)?;
            ensure!(r.text().is_some(), "no text");
            ensure!(r.usage.is_some(), "no usage");
            Ok(())
        })
        .await;
    cases
        .run("chat: bare command-* name inferred as cohere", async {
            check_chat(
                &c.completion("command-a-03-2025", vec![Message::user("Hi")])
                    .await
                    .map_err(failed)?,
            )
        })
        .await;
    cases
        .run("chat: all sampling parameters", async {
            check_chat(&c.chat(all_params()).await.map_err(failed)?)
        })
        .await;
    cases
        .run(
            "chat: top_p 1.0 and 0.0 are clamped into Cohere's range",
            async {
                check_chat(&c.chat(hello().top_p(1.0)).await.map_err(failed)?)?;
                check_chat(&c.chat(hello().top_p(0.0)).await.map_err(failed)?)
            },
        )
        .await;
    cases
        .run(
            "chat: max_completion_tokens and a single stop string",
            async {
                let req = hello().max_completion_tokens(20).stop("END").seed(0);
                check_chat(&c.chat(req).await.map_err(failed)?)
            },
        )
        .await;
    for (label, choice) in [
        ("auto", ToolChoice::Auto),
        ("none", ToolChoice::None),
        ("required", ToolChoice::Required),
        ("named", ToolChoice::function("get_time")),
    ] {
        cases
            .run(format!("chat: tools, tool_choice {label}"), async {
                let req = chat(vec![Message::user("Weather in Paris?")])
                    .tools(vec![weather(), clock()])
                    .tool_choice(choice)
                    .parallel_tool_calls(true);
                check_chat(&c.chat(req).await.map_err(failed)?)
            })
            .await;
    }
    cases
        .run("chat: strict tools, a tool without parameters", async {
            let mut bare = clock();
            if let Some(f) = bare.function.as_mut() {
                f.parameters = None;
                f.description = None;
            }
            let req =
                chat(vec![Message::user("Weather?")]).tools(vec![weather().strict(true), bare]);
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    for (label, format) in [
        ("text", ResponseFormat::Text),
        ("json_object", ResponseFormat::JsonObject),
        ("json_schema", schema_format()),
        (
            "json_schema without schema",
            ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: "x".to_owned(),
                    description: None,
                    schema: None,
                    strict: None,
                },
            },
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
    for effort in [ReasoningEffort::None, ReasoningEffort::High] {
        cases
            .run(format!("chat: reasoning_effort {effort:?}"), async {
                check_chat(
                    &c.chat(hello().reasoning_effort(effort))
                        .await
                        .map_err(failed)?,
                )
            })
            .await;
    }
    cases
        .run(
            "chat: multi-turn with tool calls, tool_plan and tool results",
            async { check_chat(&c.chat(multi_turn()).await.map_err(failed)?) },
        )
        .await;
    cases
        .run("chat: images by URL and data URL", async {
            check_chat(&c.chat(images()).await.map_err(failed)?)
        })
        .await;
    cases
        .run("chat: Cohere fields through extra_body", async {
            let req = hello().extra_body(json!({
                "k": 40,
                "safety_mode": "STRICT",
                "documents": ["Paris is in France.", {"data": {"title": "x", "text": "y"}}],
                "citation_options": {"mode": "FAST"},
                "priority": 1
            }));
            check_chat(&c.chat(req).await.map_err(failed)?)
        })
        .await;
    cases
        .run(
            "chat: unsupported parameters dropped with drop_params",
            async {
                let req = hello()
                    .user("u-1")
                    .n(2)
                    .logit_bias(Map::from_iter([("1".to_owned(), json!(3))]))
                    .top_logprobs(2)
                    .store(true)
                    .drop_params(true);
                check_chat(&c.chat(req).await.map_err(failed)?)
            },
        )
        .await;
    cases
        .run("chat: answer pushed back onto the history", async {
            let first = c.chat(multi_turn()).await.map_err(failed)?;
            let answer = first.message().cloned().ok_or("no message")?;
            let ids: Vec<String> = answer
                .tool_calls
                .iter()
                .flatten()
                .map(|t| t.id.clone())
                .collect();
            let mut req = multi_turn().message(answer);
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

    cases
        .run("chat_stream: collect_response", async {
            let stream = c.chat_stream(multi_turn()).await.map_err(failed)?;
            let r = stream.collect_response().await.map_err(failed)?;
            ensure!(!r.choices.is_empty(), "no choices");
            ensure!(r.usage.is_some(), "no usage");
            ensure!(!r.tool_calls().is_empty(), "tool calls lost");
            ensure!(
                r.meta.provider == "cohere",
                "meta.provider {:?}",
                r.meta.provider
            );
            Ok(())
        })
        .await;
    cases
        .run("chat_stream: all parameters", async {
            let stream = c.chat_stream(all_params()).await.map_err(failed)?;
            stream.collect_response().await.map_err(failed)?;
            Ok(())
        })
        .await;

    cases
        .run("embeddings: one string", async {
            check_embeddings(&c.embedding(EMBED_MODEL, "hello").await.map_err(failed)?)
        })
        .await;
    cases
        .run(
            "embeddings: many strings, dimensions, input_type, base64 asked",
            async {
                let req = EmbeddingRequest::new(EMBED_MODEL, vec!["a", "b", "c"])
                    .dimensions(256)
                    .encoding_format(EncodingFormat::Base64)
                    .extra_body(json!({"input_type": "search_query", "truncate": "END"}));
                check_embeddings(&c.embed(req).await.map_err(failed)?)
            },
        )
        .await;

    let mut decoded = 0usize;
    for round in 1..=DYNAMIC_ROUNDS {
        let d = &mut decoded;
        cases
            .run(format!("dynamic #{round}: chat decodes"), async {
                let r = c
                    .chat(all_params().extra_header(DYNAMIC.0, DYNAMIC.1))
                    .await;
                random_chat_ok(r, d)?;
                let r = c
                    .chat(multi_turn().extra_header(DYNAMIC.0, DYNAMIC.1))
                    .await;
                random_chat_ok(r, d)
            })
            .await;
        cases
            .run(format!("dynamic #{round}: chat_stream decodes"), async {
                let req = multi_turn().extra_header(DYNAMIC.0, DYNAMIC.1);
                let collected = match c.chat_stream(req).await {
                    Ok(stream) => stream.collect_response().await,
                    Err(e) => Err(e),
                };
                match collected {
                    Ok(r) => {
                        ensure!(r.choices.len() <= 1, "{} choices", r.choices.len());
                        Ok(())
                    }
                    // A lone, non-final stream event (ApiConnection: the stream ended early),
                    // or a random event the spec allows that reports a failure (a vendor
                    // error, typed). Only a decoding failure fails the case.
                    Err(e) if e.kind() != ErrorKind::InvalidResponse => Ok(()),
                    Err(e) => random_decoded(Err::<(), _>(e)).map(|_| ()),
                }
            })
            .await;
        cases
            .run(format!("dynamic #{round}: embeddings decode"), async {
                let req = EmbeddingRequest::new(EMBED_MODEL, vec!["a", "b"])
                    .extra_header(DYNAMIC.0, DYNAMIC.1);
                random_decoded(c.embed(req).await)?;
                Ok(())
            })
            .await;
    }
    cases
        .run("dynamic: some random chat answers decoded", async {
            ensure!(
                decoded > 0,
                "none of {} random answers was a chat answer",
                2 * DYNAMIC_ROUNDS
            );
            Ok(())
        })
        .await;

    cases.finish(started);
}
