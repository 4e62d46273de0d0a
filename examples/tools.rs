//! Tool calling, end to end: the model asks for a tool, the program runs it, the model answers.
//!
//! Offline on the mock provider unless `LITELLM_MODEL` names a real model (with its key set),
//! e.g. `LITELLM_MODEL=openai/gpt-4o-mini cargo run --example tools`.

use litellm::{ChatRequest, Message, MockResponse, Tool, ToolCall, ToolChoice};
use serde_json::{Value, json};

fn get_weather(city: &str) -> Value {
    json!({"city": city, "temperature_c": 21, "conditions": "sunny"})
}

#[tokio::main]
async fn main() -> litellm::Result<()> {
    let model = std::env::var("LITELLM_MODEL").unwrap_or_else(|_| "mock/gpt-4o-mini".to_owned());
    let offline = model.starts_with("mock/");
    let tools = vec![Tool::function(
        "get_weather",
        "Current weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )];
    let mut messages = vec![Message::user("What's the weather in Paris?")];

    let mut first = ChatRequest::new(model.as_str(), messages.clone())
        .tools(tools.clone())
        .tool_choice(ToolChoice::Auto);
    if offline {
        first = first.mock_response(MockResponse::tool_calls(vec![ToolCall::function(
            "call_1",
            "get_weather",
            r#"{"city":"Paris"}"#,
        )]));
    }
    // Streamed, then collected: tool-call fragments come back assembled.
    let answer = litellm::chat_stream(first)
        .await?
        .collect_response()
        .await?;
    println!("finish reason: {:?}", answer.finish_reason());

    messages.push(
        answer
            .message()
            .cloned()
            .unwrap_or_else(|| Message::assistant("")),
    );
    for call in answer.tool_calls() {
        let args: Value = call.function.parse_arguments().unwrap_or(Value::Null);
        let city = args["city"].as_str().unwrap_or("unknown");
        let result = get_weather(city);
        println!(
            "tool {} ({}) -> {}",
            call.function.name, call.function.arguments, result
        );
        messages.push(Message::tool(call.id.clone(), result.to_string()));
    }

    let mut second = ChatRequest::new(model.as_str(), messages).tools(tools);
    if offline {
        second = second.mock_response("It is sunny and 21 °C in Paris.");
    }
    let reply = litellm::chat(second).await?;
    println!("answer: {}", reply.text().unwrap_or_default());
    Ok(())
}
