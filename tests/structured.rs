//! Structured output through the public API: `parse_json` on real calls (the mock provider)
//! and on built responses, and (feature `schemars`) `ResponseFormat::json_schema_for`.
//! `cargo test --test structured` and `cargo test --features schemars --test structured`.

use std::error::Error as _;

use litellm::{
    ChatRequest, ChatResponse, Content, ContentPart, ErrorKind, FinishReason, Message,
    MockResponse, ResponseFormat, ToolCall,
};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, PartialEq, Deserialize)]
struct City {
    name: String,
    population: u64,
}

fn ask(answer: &str) -> ChatRequest {
    ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("A city?")])
        .response_format(ResponseFormat::JsonObject)
        .mock_response(answer)
}

fn tokyo() -> City {
    City {
        name: "Tokyo".into(),
        population: 37_400_000,
    }
}

#[tokio::test]
async fn plain_json_answer_parses() {
    let resp = litellm::chat(ask(r#"{"name": "Tokyo", "population": 37400000}"#))
        .await
        .unwrap();
    assert_eq!(resp.parse_json::<City>().unwrap(), tokyo());
    // and as a loose value
    let v: serde_json::Value = resp.parse_json().unwrap();
    assert_eq!(v["name"], "Tokyo");
}

#[tokio::test]
async fn fenced_and_padded_answers_parse() {
    for answer in [
        "\n\n  {\"name\": \"Tokyo\", \"population\": 37400000}  \n",
        "```json\n{\"name\": \"Tokyo\", \"population\": 37400000}\n```",
        "```\n{\"name\": \"Tokyo\",\n \"population\": 37400000}\n```\n",
        "Sure! Here is the JSON:\n\n```JSON\n{\"name\": \"Tokyo\", \"population\": 37400000}\n```\n\nAnything else?",
        "<think>The user wants Tokyo.</think>\n{\"name\": \"Tokyo\", \"population\": 37400000}",
    ] {
        let resp = litellm::chat(ask(answer)).await.unwrap();
        assert_eq!(resp.parse_json::<City>().unwrap(), tokyo(), "{answer:?}");
    }
}

#[tokio::test]
async fn streamed_answer_parses_once_collected() {
    let stream = litellm::chat_stream(ask(
        "```json\n{\"name\": \"Tokyo\", \"population\": 37400000}\n```",
    ))
    .await
    .unwrap();
    let resp = stream.collect_response().await.unwrap();
    assert_eq!(resp.parse_json::<City>().unwrap(), tokyo());
}

#[tokio::test]
async fn wrong_shape_is_a_typed_error_with_the_serde_source() {
    let resp = litellm::chat(ask(r#"{"name": "Tokyo", "population": "lots"}"#))
        .await
        .unwrap();
    let err = resp.parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(
        err.message()
            .contains("JSON does not match the expected type"),
        "{err}"
    );
    // What serde says is the source, once: `{:#}` prints it after the message.
    assert!(!err.message().contains("line 1 column"), "{err}");
    assert!(
        err.source().unwrap().to_string().contains("line 1 column"),
        "{err}"
    );
    assert_eq!(err.model(), Some("gpt-4o-mini"));
    assert_eq!(err.provider(), Some("mock"));
    let source = err.source().expect("source");
    let serde_err = source
        .downcast_ref::<serde_json::Error>()
        .expect("a serde_json::Error");
    assert!(serde_err.is_data());
    assert_eq!(
        err.details().body.as_deref(),
        Some(r#"{"name": "Tokyo", "population": "lots"}"#)
    );
    // missing field
    let err = litellm::chat(ask(r#"{"name": "Tokyo"}"#))
        .await
        .unwrap()
        .parse_json::<City>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(
        err.source().unwrap().to_string().contains("population"),
        "{err}"
    );
}

#[tokio::test]
async fn prose_is_not_json() {
    let resp = litellm::chat(ask("I think it's Tokyo, with about 37 million people."))
        .await
        .unwrap();
    let err = resp.parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("not valid JSON"), "{err}");
    assert!(
        err.source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>())
            .is_some_and(|e| e.is_syntax())
    );
    // prose around bare JSON is not repaired
    let err = ChatResponse::from_text("m", "Answer: {\"name\": \"Tokyo\", \"population\": 1}")
        .parse_json::<City>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn tool_calls_instead_of_text_is_an_error() {
    let resp = litellm::chat(
        ChatRequest::new("mock/m", vec![Message::user("x")]).mock_response(
            MockResponse::tool_calls(vec![ToolCall::function(
                "c1",
                "lookup_city",
                r#"{"q":"largest"}"#,
            )]),
        ),
    )
    .await
    .unwrap();
    let err = resp.parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("lookup_city"), "{err}");
    assert!(err.source().is_none());
}

#[test]
fn no_content_no_choices_and_empty_text_are_errors() {
    let empty = ChatResponse::from_text("m", "  \n");
    let err = empty.parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("no JSON to parse"), "{err}");

    let mut none = ChatResponse::from_text("m", "x");
    none.choices[0].message.content = None;
    assert_eq!(
        none.parse_json::<City>().unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );

    let err = ChatResponse::default().parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("no choices"), "{err}");

    let filtered = ChatResponse::from_text("m", "").with_finish_reason(FinishReason::ContentFilter);
    assert_eq!(
        filtered.parse_json::<City>().unwrap_err().kind(),
        ErrorKind::ContentPolicyViolation
    );
}

#[test]
fn refusal_is_a_content_policy_error() {
    let mut message = Message::assistant("");
    message.content = None;
    message.refusal = Some("I can't help with that.".into());
    let resp = ChatResponse::from_message("gpt-4o", message);
    let err = resp.parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentPolicyViolation);
    assert_eq!(err.code(), Some("refusal"));
    assert!(err.message().contains("I can't help with that."), "{err}");
    assert_eq!(err.model(), Some("gpt-4o"));
}

#[test]
fn truncated_json_names_the_token_limit() {
    let resp = ChatResponse::from_text("m", "```json\n{\"name\": \"Tok")
        .with_finish_reason(FinishReason::Length);
    let err = resp.parse_json::<City>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("token limit"), "{err}");
    assert!(
        err.source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>())
            .is_some_and(|e| e.is_eof())
    );
}

#[test]
fn text_parts_are_joined_and_other_choices_parse_too() {
    let mut resp = ChatResponse::from_text("m", "");
    resp.choices[0].message.content = Some(Content::Parts(vec![
        ContentPart::text("{\"name\": \"Tokyo\", "),
        ContentPart::text("\"population\": 37400000}"),
    ]));
    assert_eq!(resp.parse_json::<City>().unwrap(), tokyo());
    let mut second = resp.choices[0].clone();
    second.index = 1;
    second.message = Message::assistant(r#"{"name": "Delhi", "population": 1}"#);
    resp.choices.push(second);
    assert_eq!(resp.choices[1].parse_json::<City>().unwrap().name, "Delhi");
}

#[test]
fn long_answers_are_kept_truncated_in_the_error() {
    let long = format!("[{}]", "\"é\",".repeat(5000));
    let err = ChatResponse::from_text("m", long)
        .parse_json::<Vec<String>>()
        .unwrap_err();
    let body = err.details().body.as_deref().unwrap();
    assert!(body.len() <= 8 * 1024 && body.len() > 8 * 1024 - 4);
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}

#[test]
fn hand_written_schema_request_serializes_as_openai_expects() {
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}},
        "required": ["name"], "additionalProperties": false});
    let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("x")])
        .response_format(ResponseFormat::json_schema("City", schema.clone(), true));
    let body = serde_json::to_value(&req).unwrap();
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "City", "schema": schema, "strict": true}})
    );
}

#[cfg(feature = "schemars")]
mod with_schemars {
    use std::collections::HashSet;

    use super::*;
    use serde_json::Value;

    /// A recipe extracted from a text.
    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Recipe {
        /// The dish.
        title: String,
        servings: u32,
        /// What goes in.
        ingredients: Vec<Ingredient>,
        /// The main one, documented (a `$ref` with a description, inlined).
        main: Ingredient,
        /// Minutes, when the text says.
        minutes: Option<u16>,
        #[serde(default)]
        vegetarian: bool,
        difficulty: Difficulty,
        tags: HashSet<String>,
        rating: f64,
        source: Option<Ingredient>,
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Ingredient {
        name: String,
        grams: Option<u32>,
    }

    /// How hard.
    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    enum Difficulty {
        /// Anyone.
        Easy,
        /// Some practice.
        Medium,
        Hard,
    }

    /// Asserts OpenAI's strict-mode rules on every subschema.
    fn assert_strict(schema: &Value, path: &str) {
        match schema {
            Value::Object(o) => {
                assert!(!o.contains_key("oneOf"), "oneOf at {path}");
                assert!(!o.contains_key("default"), "default at {path}");
                assert!(!o.contains_key("$schema"), "$schema at {path}");
                assert!(!o.contains_key("uniqueItems"), "uniqueItems at {path}");
                assert!(
                    !(o.contains_key("$ref") && o.len() > 1),
                    "$ref with siblings at {path}: {o:?}"
                );
                if let Some(f) = o.get("format") {
                    assert!(f == "date-time" || f == "uuid", "format {f} at {path}");
                }
                let is_object = o.get("type") == Some(&json!("object"))
                    || o.get("type")
                        .and_then(Value::as_array)
                        .is_some_and(|t| t.contains(&json!("object")));
                if is_object || o.contains_key("properties") {
                    assert_eq!(o.get("additionalProperties"), Some(&json!(false)), "{path}");
                    let keys: Vec<&String> = o["properties"].as_object().unwrap().keys().collect();
                    let required: Vec<&str> = o["required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    assert_eq!(required, keys, "required at {path}");
                }
                for (k, v) in o {
                    assert_strict(v, &format!("{path}/{k}"));
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    assert_strict(v, &format!("{path}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn parts(format: &ResponseFormat) -> (&str, Option<&str>, &Value, Option<bool>) {
        let ResponseFormat::JsonSchema { json_schema } = format else {
            panic!("not json_schema: {format:?}")
        };
        (
            json_schema.name.as_str(),
            json_schema.description.as_deref(),
            json_schema.schema.as_ref().unwrap(),
            json_schema.strict,
        )
    }

    #[test]
    fn json_schema_for_builds_a_strict_openai_format() {
        let format = ResponseFormat::json_schema_for::<Recipe>();
        let (name, description, schema, strict) = parts(&format);
        assert_eq!(name, "Recipe");
        assert_eq!(description, Some("A recipe extracted from a text."));
        assert_eq!(strict, Some(true));
        assert_eq!(schema["type"], "object");
        assert!(schema.get("title").is_none());
        assert_strict(schema, "#");
        // every field required, `serde(default)` and `Option` ones included (in the order of
        // the properties: alphabetical, unless serde_json's `preserve_order` is on)
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        required.sort_unstable();
        assert_eq!(
            required,
            [
                "difficulty",
                "ingredients",
                "main",
                "minutes",
                "rating",
                "servings",
                "source",
                "tags",
                "title",
                "vegetarian"
            ]
        );
        // optional fields accept null
        let minutes = &schema["properties"]["minutes"];
        assert!(
            minutes["type"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("null"))),
            "{minutes}"
        );
        // a documented struct field is inlined with its description
        let main = &schema["properties"]["main"];
        assert_eq!(
            main["description"],
            "The main one, documented (a `$ref` with a description, inlined)."
        );
        assert_eq!(main["properties"]["name"]["type"], "string");
        assert_eq!(main["required"].as_array().unwrap().len(), 2);
        // the integer keeps its bound, not its Rust format
        assert!(schema["properties"]["servings"].get("format").is_none());
        assert_eq!(schema["properties"]["servings"]["minimum"], 0);
        // the whole format serializes as OpenAI's body field
        let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("x")])
            .response_format(format.clone());
        let body = serde_json::to_value(&req).unwrap();
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["name"], "Recipe");
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(&body["response_format"]["json_schema"]["schema"], schema);
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    #[schemars(title = "Weather report (v2) for my app")]
    #[allow(dead_code)]
    struct Report {
        city: String,
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Page<T> {
        items: Vec<T>,
        next: Option<String>,
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    #[schemars(
        rename = "AnExtremelyLongTypeNameThatGoesOnAndOnBeyondSixtyFourCharactersForSureYes"
    )]
    #[allow(dead_code)]
    struct Long {
        x: bool,
    }

    fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn names_are_sanitised_to_openai_rules() {
        let f = ResponseFormat::json_schema_for::<Report>();
        assert_eq!(parts(&f).0, "Weather_report__v2__for_my_app");
        let f = ResponseFormat::json_schema_for::<Page<Ingredient>>();
        let name = parts(&f).0;
        assert!(valid_name(name) && name.starts_with("Page"), "{name}");
        assert_strict(parts(&f).2, "#");
        let f = ResponseFormat::json_schema_for::<Long>();
        let name = parts(&f).0;
        assert!(valid_name(name), "{name}");
        assert_eq!(name.len(), 64);
        assert!(name.starts_with("AnExtremelyLongTypeName"));
    }

    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Tree {
        label: String,
        /// Sub-trees.
        children: Vec<Tree>,
        /// The parent's sibling, if any.
        next: Option<Box<Tree>>,
    }

    #[test]
    fn recursive_types_terminate_and_stay_strict() {
        let f = ResponseFormat::json_schema_for::<Tree>();
        let schema = parts(&f).2;
        assert_strict(schema, "#");
        assert!(schema.to_string().len() < 10_000);
    }

    #[tokio::test]
    async fn the_schema_and_parse_json_work_together() {
        let answer = json!({
            "title": "Pancakes", "servings": 4,
            "ingredients": [{"name": "flour", "grams": 200}, {"name": "egg", "grams": null}],
            "main": {"name": "flour", "grams": 200}, "minutes": null, "vegetarian": true,
            "difficulty": "Easy", "tags": ["sweet"], "rating": 4.5, "source": null
        });
        let req = ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Pancakes?")])
            .response_format(ResponseFormat::json_schema_for::<Recipe>())
            .mock_response(answer.to_string());
        let recipe: Recipe = litellm::chat(req).await.unwrap().parse_json().unwrap();
        assert_eq!(recipe.title, "Pancakes");
        assert_eq!(recipe.ingredients[1].grams, None);
        assert!(matches!(recipe.difficulty, Difficulty::Easy));
    }
}
