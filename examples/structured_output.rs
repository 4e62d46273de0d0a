//! Structured output: ask for JSON of a given shape and read it into a Rust type.
//!
//! Runs offline on the built-in `mock` provider. With `OPENAI_API_KEY` set it calls OpenAI
//! (`gpt-4o-mini`) instead; `LITELLM_MODEL` picks another model (e.g.
//! `anthropic/claude-sonnet-4-5`, `gemini/gemini-2.5-flash`, `ollama/llama3.2`).
//!
//! With the `schemars` feature the response format is derived from the type
//! (`ResponseFormat::json_schema_for::<Recipe>()`); without it, the same strict schema is
//! written by hand.
//!
//! ```sh
//! cargo run --example structured_output
//! cargo run --example structured_output --features schemars
//! ```

use litellm::{ChatRequest, ChatResponse, ErrorKind, Message, ResponseFormat};
use serde::Deserialize;

/// A recipe extracted from a text.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
struct Recipe {
    /// The dish.
    name: String,
    servings: u32,
    ingredients: Vec<Ingredient>,
    /// Minutes of preparation, when the text says.
    minutes: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
struct Ingredient {
    name: String,
    /// With its unit, e.g. "200 g".
    quantity: String,
}

/// The response format, derived from the type.
#[cfg(feature = "schemars")]
fn recipe_format() -> ResponseFormat {
    ResponseFormat::json_schema_for::<Recipe>()
}

/// The response format, written by hand as OpenAI's strict mode wants it: every object
/// closed (`additionalProperties: false`) with all its properties required, optional values
/// nullable.
#[cfg(not(feature = "schemars"))]
fn recipe_format() -> ResponseFormat {
    let schema = serde_json::json!({
        "type": "object",
        "description": "A recipe extracted from a text.",
        "properties": {
            "name": {"type": "string", "description": "The dish."},
            "servings": {"type": "integer", "minimum": 0},
            "ingredients": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "quantity": {"type": "string", "description": "With its unit, e.g. \"200 g\"."}
                },
                "required": ["name", "quantity"],
                "additionalProperties": false
            }},
            "minutes": {"type": ["integer", "null"], "description": "Minutes of preparation, when the text says."}
        },
        "required": ["name", "servings", "ingredients", "minutes"],
        "additionalProperties": false
    });
    ResponseFormat::json_schema("Recipe", schema, true)
}

const TEXT: &str = "Pancakes for four: whisk 200 g flour, 2 eggs and 300 ml milk, rest the \
                    batter for 30 minutes, then fry in butter.";

/// What the mock answers offline: JSON in a fenced block, as models without structured
/// outputs often write it (`parse_json` reads through the fence).
const MOCK_ANSWER: &str = "```json\n{\"name\": \"Pancakes\", \"servings\": 4, \"minutes\": 30, \
    \"ingredients\": [{\"name\": \"flour\", \"quantity\": \"200 g\"}, \
    {\"name\": \"eggs\", \"quantity\": \"2\"}, {\"name\": \"milk\", \"quantity\": \"300 ml\"}, \
    {\"name\": \"butter\", \"quantity\": \"some\"}]}\n```";

fn print_recipe(recipe: &Recipe) {
    let minutes = recipe
        .minutes
        .map(|m| format!(", {m} minutes"))
        .unwrap_or_default();
    println!("{} for {}{minutes}:", recipe.name, recipe.servings);
    for i in &recipe.ingredients {
        println!("  - {} {}", i.quantity, i.name);
    }
}

#[tokio::main]
async fn main() -> litellm::Result<()> {
    let online = std::env::var("OPENAI_API_KEY").is_ok_and(|k| !k.is_empty());
    let default_model = if online {
        "openai/gpt-4o-mini"
    } else {
        "mock/gpt-4o-mini"
    };
    let model = std::env::var("LITELLM_MODEL").unwrap_or_else(|_| default_model.to_owned());
    let offline = model.starts_with("mock/");

    let format = recipe_format();
    println!("== response_format ({model})");
    println!("{}", serde_json::to_string(&format).unwrap_or_default());

    let base = ChatRequest::new(
        model.as_str(),
        vec![
            Message::system("Extract the recipe from the user's text."),
            Message::user(TEXT),
        ],
    )
    .response_format(format)
    .max_tokens(400);
    let request = if offline {
        base.clone().mock_response(MOCK_ANSWER)
    } else {
        base.clone()
    };

    // 1. One call, parsed into the type.
    let response = litellm::chat(request.clone()).await?;
    let recipe: Recipe = response.parse_json()?;
    println!("\n== parsed");
    print_recipe(&recipe);

    // 2. The same, streamed: collect the stream, then parse.
    let streamed = litellm::chat_stream(request)
        .await?
        .collect_response()
        .await?;
    let recipe: Recipe = streamed.parse_json()?;
    println!(
        "\n== streamed, collected and parsed: {} ingredients",
        recipe.ingredients.len()
    );

    // 3. When the answer is not what was asked (simulated here with a mock answer, whatever
    //    the model): the error says why; tell the model and ask once more.
    let bad: ChatResponse = litellm::chat(
        base.clone()
            .mock_response("Sure! It's pancakes: flour, eggs and milk. Enjoy!"),
    )
    .await?;
    println!("\n== an answer that is not the JSON asked for");
    let recipe: Recipe = match bad.parse_json() {
        Ok(recipe) => recipe,
        Err(err) if err.kind() == ErrorKind::InvalidResponse => {
            println!("error: {err}");
            println!(
                "  the text was: {:?}",
                err.details().body.as_deref().unwrap_or("")
            );
            let mut retry = base.clone();
            if let Some(answer) = bad.message() {
                retry = retry.message(answer.clone());
            }
            retry = retry.message(Message::user(format!(
                "That was not valid ({}). Reply with the JSON object only.",
                err.message()
            )));
            if offline {
                retry = retry.mock_response(MOCK_ANSWER);
            }
            litellm::chat(retry).await?.parse_json()?
        }
        // `ContentPolicyViolation` with code "refusal": the model refused (OpenAI).
        Err(err) => return Err(err),
    };
    println!("asked again, got: {} for {}", recipe.name, recipe.servings);
    Ok(())
}
