//! Quick start: a completion, a streamed completion and an embedding.
//!
//! Runs offline on the built-in `mock` provider. With `OPENAI_API_KEY` set it calls OpenAI
//! (`gpt-4o-mini`, `text-embedding-3-small`) instead; `LITELLM_MODEL` and
//! `LITELLM_EMBEDDING_MODEL` pick other models (e.g. `groq/llama-3.3-70b-versatile`).
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::io::Write;

use futures::StreamExt;
use litellm::{ChatRequest, Message};

#[tokio::main]
async fn main() -> litellm::Result<()> {
    let online = std::env::var("OPENAI_API_KEY").is_ok_and(|k| !k.is_empty());
    let default_chat = if online {
        "openai/gpt-4o-mini"
    } else {
        "mock/gpt-4o-mini"
    };
    let default_embed = if online {
        "openai/text-embedding-3-small"
    } else {
        "mock/text-embedding-3-small"
    };
    let chat_model = std::env::var("LITELLM_MODEL").unwrap_or_else(|_| default_chat.to_owned());
    let embed_model =
        std::env::var("LITELLM_EMBEDDING_MODEL").unwrap_or_else(|_| default_embed.to_owned());
    let offline = chat_model.starts_with("mock/");

    // 1. A completion.
    let mut request = ChatRequest::new(
        chat_model.as_str(),
        vec![
            Message::system("You are a concise assistant."),
            Message::user("In one sentence, why use one API for many LLM vendors?"),
        ],
    )
    .max_tokens(80);
    if offline {
        request = request.mock_response(
            "One API means you can switch vendors by changing a string, not your code.",
        );
    }
    let response = litellm::chat(request.clone()).await?;
    println!("== completion ({chat_model})");
    println!("{}", response.text().unwrap_or_default());
    if let Some(usage) = &response.usage {
        println!(
            "[{} prompt + {} completion tokens, {:?}]",
            usage.prompt_tokens, usage.completion_tokens, response.meta.latency
        );
    }

    // 2. The same request, streamed.
    println!("\n== streamed completion");
    let mut stream = litellm::chat_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(text) = chunk.text() {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        if let Some(usage) = &chunk.usage {
            println!("\n[usage: {} tokens]", usage.total_tokens);
        }
    }
    if let Some(ttft) = stream.meta().time_to_first_token {
        println!("[time to first token: {ttft:?}]");
    }

    // 3. An embedding.
    let embeddings =
        litellm::embedding(embed_model.as_str(), vec!["hello world", "goodbye world"]).await?;
    println!("\n== embedding ({embed_model})");
    for e in &embeddings.data {
        let head: Vec<String> = e
            .embedding
            .iter()
            .take(4)
            .map(|x| format!("{x:.4}"))
            .collect();
        println!(
            "input {}: {} dimensions, starts [{}, …]",
            e.index,
            e.embedding.len(),
            head.join(", ")
        );
    }
    Ok(())
}
