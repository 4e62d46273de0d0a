//! Conformance against the Gemini API spec (`../shared/specs/gemini.json`), served by Stoplight
//! Prism: every request body the crate builds for `gemini/` and `vertex_ai/` must validate
//! (Prism answers 422 with the violations otherwise), and Prism's generated answers, which fill
//! every optional field with extreme values (token counts of -2147483648), must decode.
//!
//! Needs Prism (`.ci/install-prism.sh`) and the spec; `LITELLM_PRISM_BIN` and
//! `LITELLM_GEMINI_SPEC` override both paths. Without them the test prints a notice and passes,
//! unless `LITELLM_REQUIRE_PRISM=1`. The spec's paths have no version prefix
//! (`/models/{model}:generateContent`), so the Gemini base URL is Prism's root; Vertex bodies
//! (the same schema) are sent through a base URL that names the model.

mod support;

use std::time::Duration;

use futures::StreamExt;
use litellm::{
    ChatRequest, ChatResponse, Client, Content, ContentPart, EmbeddingRequest, ErrorKind, FileData,
    JsonSchemaFormat, Message, ReasoningEffort, ResponseFormat, Role, Tool, ToolCall, ToolChoice,
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

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const DYNAMIC_ROUNDS: usize = 5;
const MODEL: &str = "gemini/gemini-2.5-flash";
const EMBED_MODEL: &str = "gemini/gemini-embedding-001";
const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const DYNAMIC: (&str, &str) = ("Prefer", "dynamic=true");

fn check_chat(r: &ChatResponse, provider: &str) -> Result<(), String> {
    ensure!(r.object == "chat.completion", "object is {:?}", r.object);
    ensure!(!r.choices.is_empty(), "no choices");
    for c in &r.choices {
        ensure!(
            c.message.role == Role::Assistant,
            "choice {} has role {:?}",
            c.index,
            c.message.role
        );
        for call in c.message.tool_calls.iter().flatten() {
            ensure!(!call.id.is_empty(), "a tool call without id");
            call.function
                .parse_arguments::<Value>()
                .map_err(|e| format!("tool call arguments are not JSON: {e}"))?;
        }
    }
    ensure!(
        r.meta.provider == provider,
        "meta.provider is {:?}",
        r.meta.provider
    );
    Ok(())
}

fn is_base64(s: &str) -> bool {
    s.len().is_multiple_of(4)
        && s.trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn chat(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new(MODEL, messages)
}

fn hello() -> ChatRequest {
    chat(vec![Message::user("Hello")])
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather in a city",
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name", "minLength": 1},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": ["integer", "null"], "minimum": 1, "maximum": 7},
                "when": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3, "uniqueItems": true},
                "where": {"$ref": "#/$defs/Place"},
                "mode": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                "level": {"type": "integer", "enum": [1, 2, 3]}
            },
            "required": ["city", "unit"],
            "additionalProperties": false,
            "$defs": {"Place": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}, "required": ["lat"], "additionalProperties": false}}
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

fn signed_call(id: &str, name: &str, args: &str, sig: &str) -> ToolCall {
    let mut c = ToolCall::function(id, name, args);
    c.extra.insert(
        "provider_specific_fields".into(),
        json!({"thought_signature": sig}),
    );
    c
}

/// A conversation with every role and shape.
fn multi_turn(model: &str) -> ChatRequest {
    let mut thinking = Message::assistant("I looked it up.");
    thinking.reasoning_content = Some("Let me think.".into());
    ChatRequest::new(
        model,
        vec![
            Message::system("You are a weather bot."),
            Message::developer(vec![ContentPart::text("Answer in one sentence.")]),
            Message::user("Weather and time in Paris?").with_name("alice"),
            Message::assistant_tool_calls(vec![
                signed_call(
                    "call_1",
                    "get_weather",
                    r#"{"city":"Paris","unit":"celsius"}"#,
                    "c2lnbmF0dXJl",
                ),
                ToolCall::function("call_2", "get_time", r#"{"tz":"Europe/Paris"}"#),
            ]),
            Message::tool("call_1", r#"{"temp":21}"#),
            Message::tool("call_2", vec![ContentPart::text("14:00")]),
            thinking,
            Message::user("And as a list?"),
            Message::assistant(vec![
                ContentPart::text("- 21 °C"),
                ContentPart::text("- 14:00"),
            ]),
            Message::user("Thanks"),
        ],
    )
    .tools(vec![weather_tool(), time_tool()])
}

fn content_parts() -> ChatRequest {
    chat(vec![Message::user(Content::Parts(vec![
        ContentPart::text("Describe these."),
        ContentPart::image_url("https://example.com/cat.png"),
        ContentPart::image_url(PNG_DATA_URL),
        ContentPart::input_audio(
            "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=",
            "wav",
        ),
        ContentPart::File {
            file: FileData {
                file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".into()),
                filename: Some("doc.pdf".into()),
                ..FileData::default()
            },
            extra: Map::new(),
        },
        ContentPart::File {
            file: FileData {
                file_id: Some("files/abc123".into()),
                ..FileData::default()
            },
            extra: Map::new(),
        },
        ContentPart::Other(
            json!({"type": "video_url", "video_url": {"url": "https://www.youtube.com/watch?v=abc"}}),
        ),
    ]))])
}

fn json_schema_format() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "colours".into(),
            description: Some("A list of colours".into()),
            schema: Some(json!({
                "type": "object",
                "properties": {
                    "colours": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "count": {"type": "integer", "exclusiveMinimum": 0}
                },
                "required": ["colours"],
                "additionalProperties": false
            })),
            strict: Some(true),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_conform_to_the_gemini_spec() {
    let started = std::time::Instant::now();
    let Some(prism) = Prism::start("gemini.json", "LITELLM_GEMINI_SPEC").await else {
        return;
    };
    let client = Client::builder()
        .no_env()
        .api_key("gemini", "AIza-test")
        .api_base("gemini", prism.url())
        .api_key("vertex_ai", "ya29.test")
        .api_base(
            "vertex_ai",
            format!("{}/models/gemini-2.5-pro", prism.url()),
        )
        .timeout(CALL_TIMEOUT)
        .build()
        .expect("client");
    let c = &client;
    let mut cases = Cases::default();

    cases
        .run("control: invalid body is rejected with 422", async {
            let req = hello().extra_body(json!({"generationConfig": {"candidateCount": "two"}}));
            match c.chat(req).await {
                Ok(r) => Err(format!("Prism accepted candidateCount \"two\": {r:?}")),
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
            check_chat(&r, "gemini")
        })
        .await;
    cases
        .run("chat: bare model name inferred as gemini", async {
            let r = c
                .completion("gemini-2.5-flash", vec![Message::user("Hi")])
                .await
                .map_err(failed)?;
            check_chat(&r, "gemini")
        })
        .await;
    cases
        .run("chat: every generation parameter", async {
            let req = chat(vec![Message::system("Be terse."), Message::user("Colours?")])
                .temperature(0.7)
                .top_p(0.9)
                .n(2)
                .stop(["\n\n", "END"])
                .max_tokens(64)
                .max_completion_tokens(128)
                .presence_penalty(0.5)
                .frequency_penalty(-0.5)
                .logprobs(true)
                .top_logprobs(5)
                .seed(-42)
                .service_tier("flex")
                .modalities(vec!["text".into()])
                .extra_body(json!({
                    "top_k": 40,
                    "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"}],
                    "cached_content": "cachedContents/abc"
                }));
            check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
        })
        .await;
    for tier in ["default", "priority", "auto"] {
        cases
            .run(format!("chat: service_tier {tier}"), async {
                check_chat(
                    &c.chat(hello().service_tier(tier)).await.map_err(failed)?,
                    "gemini",
                )
            })
            .await;
    }
    for model in ["gemini/gemini-2.5-flash", "gemini/gemini-3-pro-preview"] {
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
                .run(
                    format!("chat: {model} reasoning_effort {effort:?}"),
                    async {
                        let req = ChatRequest::new(model, vec![Message::user("2+2?")])
                            .reasoning_effort(effort);
                        check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
                    },
                )
                .await;
        }
    }
    cases
        .run("chat: anthropic-style thinking in extra_body", async {
            let req =
                hello().extra_body(json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}));
            check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
        })
        .await;
    for (label, choice) in [
        ("auto", ToolChoice::Auto),
        ("none", ToolChoice::None),
        ("required", ToolChoice::Required),
        ("named", ToolChoice::function("get_weather")),
        (
            "allowed_tools required",
            ToolChoice::Other(
                json!({"type": "allowed_tools", "allowed_tools": {"mode": "required",
                "tools": [{"type": "function", "function": {"name": "get_time"}}]}}),
            ),
        ),
        (
            "allowed_tools auto",
            ToolChoice::Other(
                json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto",
                "tools": [{"type": "function", "function": {"name": "get_time"}}]}}),
            ),
        ),
    ] {
        cases
            .run(format!("chat: tools, tool_choice {label}"), async {
                let req = chat(vec![Message::user("Weather in Paris?")])
                    .tools(vec![weather_tool(), time_tool()])
                    .tool_choice(choice)
                    .parallel_tool_calls(true);
                check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
            })
            .await;
    }
    cases
        .run("chat: native tools and web search", async {
            let native: Tool =
                serde_json::from_value(json!({"codeExecution": {}})).map_err(|e| e.to_string())?;
            let url: Tool =
                serde_json::from_value(json!({"urlContext": {}})).map_err(|e| e.to_string())?;
            let req = hello()
                .tools(vec![time_tool(), native, url])
                .web_search_options(json!({"search_context_size": "low"}));
            check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
        })
        .await;
    cases
        .run("chat: deprecated functions + function_call", async {
            let mut req = hello();
            req.functions = Some(json!([{"name": "get_weather", "description": "Weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]));
            req.function_call = Some(json!({"name": "get_weather"}));
            check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
        })
        .await;
    for (label, format) in [
        ("text", ResponseFormat::Text),
        ("json_object", ResponseFormat::JsonObject),
        ("json_schema", json_schema_format()),
        (
            "json_schema (helper)",
            ResponseFormat::json_schema(
                "point",
                json!({"type": "object", "properties": {"x": {"type": "number"}}}),
                false,
            ),
        ),
    ] {
        cases
            .run(format!("chat: response_format {label}"), async {
                let req = chat(vec![
                    Message::system("Reply in JSON."),
                    Message::user("Colours?"),
                ])
                .response_format(format);
                check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
            })
            .await;
    }
    cases
        .run(
            "chat: multi-turn with every role, signatures and tool results",
            async { check_chat(&c.chat(multi_turn(MODEL)).await.map_err(failed)?, "gemini") },
        )
        .await;
    cases
        .run("chat: Gemini 3 history without signatures", async {
            let mut req = multi_turn("gemini/gemini-3-pro-preview");
            req.messages[3] = Message::assistant_tool_calls(vec![
                ToolCall::function(
                    "call_1",
                    "get_weather",
                    r#"{"city":"Paris","unit":"celsius"}"#,
                ),
                ToolCall::function("call_2", "get_time", r#"{"tz":"Europe/Paris"}"#),
            ]);
            check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
        })
        .await;
    cases
        .run("chat: gemma folds the system prompt", async {
            let req = ChatRequest::new(
                "gemini/gemma-3-27b-it",
                vec![Message::system("Be terse."), Message::user("Hi")],
            );
            check_chat(&c.chat(req).await.map_err(failed)?, "gemini")
        })
        .await;
    cases
        .run(
            "chat: user content parts (image, audio, file, video)",
            async { check_chat(&c.chat(content_parts()).await.map_err(failed)?, "gemini") },
        )
        .await;
    cases
        .run("chat: answer pushed back onto the history", async {
            let first = c.chat(multi_turn(MODEL)).await.map_err(failed)?;
            let mut answer = first.message().cloned().ok_or("no message")?;
            // Prism's example signature is the text "string", which breaks the spec's own
            // `format: byte`; a real signature is base64, which is echoed as it came.
            for call in answer.tool_calls.iter_mut().flatten() {
                if let Some(Value::Object(psf)) = call.extra.get_mut("provider_specific_fields")
                    && psf
                        .get("thought_signature")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !is_base64(s))
                {
                    psf.insert("thought_signature".into(), json!("c2lnbmF0dXJl"));
                }
            }
            let ids: Vec<String> = answer
                .tool_calls
                .iter()
                .flatten()
                .map(|t| t.id.clone())
                .collect();
            let mut req = multi_turn(MODEL).message(answer);
            for id in ids {
                req = req.message(Message::tool(id, "{}"));
            }
            check_chat(
                &c.chat(req.message(Message::user("And tomorrow?")))
                    .await
                    .map_err(failed)?,
                "gemini",
            )
        })
        .await;

    cases
        .run("chat_stream: collect_response", async {
            let stream = c.chat_stream(multi_turn(MODEL)).await.map_err(failed)?;
            let r = stream.collect_response().await.map_err(failed)?;
            ensure!(!r.choices.is_empty(), "no choices");
            ensure!(r.usage.is_some(), "no usage");
            ensure!(
                r.meta.provider == "gemini",
                "meta.provider {:?}",
                r.meta.provider
            );
            Ok(())
        })
        .await;
    cases
        .run("chat_stream: ends with the usage chunk", async {
            let mut stream = c.chat_stream(hello()).await.map_err(failed)?;
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

    cases
        .run(
            "embeddings: one text, dimensions, task type, title",
            async {
                let req = EmbeddingRequest::new(EMBED_MODEL, "hello")
                    .dimensions(256)
                    .extra_body(json!({"task_type": "RETRIEVAL_DOCUMENT", "title": "Greeting"}));
                let r = c.embed(req).await.map_err(failed)?;
                ensure!(
                    r.object == "list" && !r.data.is_empty(),
                    "no vectors: {r:?}"
                );
                Ok(())
            },
        )
        .await;
    cases
        .run("embeddings: several texts", async {
            let req = EmbeddingRequest::new(EMBED_MODEL, vec!["a", "b", "c"])
                .extra_body(json!({"taskType": "SEMANTIC_SIMILARITY"}));
            let r = c.embed(req).await.map_err(failed)?;
            ensure!(!r.data.is_empty(), "no vectors");
            Ok(())
        })
        .await;

    // Vertex AI builds the same body (without call ids): validate it against the same schema.
    cases
        .run("vertex_ai: multi-turn with tools", async {
            let req = multi_turn("vertex_ai/gemini-2.5-pro");
            let r = c
                .chat(req.provider_param("vertex_project", "p"))
                .await
                .map_err(failed)?;
            check_chat(&r, "vertex_ai")
        })
        .await;
    cases
        .run("vertex_ai: stream with json_schema", async {
            let req = ChatRequest::new("vertex_ai/gemini-2.5-pro", vec![Message::user("Colours?")])
                .response_format(json_schema_format())
                .provider_param("vertex_project", "p");
            let r = c
                .chat_stream(req)
                .await
                .map_err(failed)?
                .collect_response()
                .await
                .map_err(failed)?;
            ensure!(!r.choices.is_empty(), "no choices");
            Ok(())
        })
        .await;

    for round in 1..=DYNAMIC_ROUNDS {
        cases
            .run(format!("dynamic #{round}: chat decodes"), async {
                decoded(
                    c.chat(multi_turn(MODEL).extra_header(DYNAMIC.0, DYNAMIC.1))
                        .await,
                )?;
                decoded(
                    c.chat(hello().n(2).extra_header(DYNAMIC.0, DYNAMIC.1))
                        .await,
                )?;
                Ok(())
            })
            .await;
        cases
            .run(format!("dynamic #{round}: chat_stream decodes"), async {
                let stream = c
                    .chat_stream(multi_turn(MODEL).extra_header(DYNAMIC.0, DYNAMIC.1))
                    .await
                    .map_err(failed)?;
                decoded(stream.collect_response().await)?;
                Ok(())
            })
            .await;
        cases
            .run(format!("dynamic #{round}: embeddings decode"), async {
                decoded(
                    c.embed(
                        EmbeddingRequest::new(EMBED_MODEL, "x").extra_header(DYNAMIC.0, DYNAMIC.1),
                    )
                    .await,
                )?;
                decoded(
                    c.embed(
                        EmbeddingRequest::new(EMBED_MODEL, vec!["a", "b"])
                            .extra_header(DYNAMIC.0, DYNAMIC.1),
                    )
                    .await,
                )?;
                Ok(())
            })
            .await;
    }

    cases.finish(started);
}
