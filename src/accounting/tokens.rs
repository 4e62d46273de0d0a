//! Token counting with OpenAI's tokenizers (tiktoken-rs), loaded once and lazily.
//!
//! Used when a prompt must be measured before a call (the router's pre-call context-window
//! check) and on request; never to replace usage a vendor reported. Encodings:
//! `o200k_base` for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1/o3/o4 and chatgpt-4o; `cl100k_base`
//! for gpt-4, gpt-3.5 and text-embedding-3/ada-002; other vendors' models are counted with
//! `cl100k_base` as an approximation (their own tokenizers differ by roughly ±15 %). Without
//! the `tokenizer` feature, every count is an estimate of four characters a token.

use crate::types::{ChatRequest, Content, ContentPart, Message, Tool};

/// The encoding used for a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `o200k_base` (gpt-4o and newer OpenAI models).
    O200k,
    /// `cl100k_base` (gpt-4, gpt-3.5, embeddings-3; the approximation for other vendors).
    Cl100k,
}

/// The encoding for a model string (with or without a provider prefix).
///
/// ```
/// use litellm::accounting::tokens::{Encoding, encoding_for};
/// assert_eq!(encoding_for("openai/gpt-4o-mini"), Encoding::O200k);
/// assert_eq!(encoding_for("gpt-4-turbo"), Encoding::Cl100k);
/// assert_eq!(encoding_for("anthropic/claude-sonnet-4-5"), Encoding::Cl100k);
/// ```
pub fn encoding_for(model: &str) -> Encoding {
    let name = model.rsplit('/').next().unwrap_or(model);
    let name = name.strip_prefix("ft:").unwrap_or(name);
    const O200K: &[&str] = &[
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "o1",
        "o3",
        "o4",
        "chatgpt-4o",
        "gpt-oss",
    ];
    if O200K.iter().any(|p| name.starts_with(p)) {
        Encoding::O200k
    } else {
        Encoding::Cl100k
    }
}

#[cfg(feature = "tokenizer")]
fn bpe(encoding: Encoding) -> Option<&'static tiktoken_rs::CoreBPE> {
    use std::sync::OnceLock;
    static O200K: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    static CL100K: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    match encoding {
        Encoding::O200k => O200K
            .get_or_init(|| tiktoken_rs::o200k_base().ok())
            .as_ref(),
        Encoding::Cl100k => CL100K
            .get_or_init(|| tiktoken_rs::cl100k_base().ok())
            .as_ref(),
    }
}

fn count_with(encoding: Encoding, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    #[cfg(feature = "tokenizer")]
    if let Some(bpe) = bpe(encoding) {
        return bpe.encode_ordinary(text).len() as u64;
    }
    let _ = encoding;
    (text.chars().count() as u64).div_ceil(4)
}

/// Tokens in `text` for `model`.
///
/// ```
/// assert_eq!(litellm::accounting::count_text("gpt-4o", "hello world"), 2);
/// ```
pub fn count_text(model: &str, text: &str) -> u64 {
    count_with(encoding_for(model), text)
}

/// Tokens of a chat prompt for `model`, with OpenAI's overheads: 3 per message, 1 more for a
/// `name`, 3 to prime the reply; tool definitions and tool calls are counted as their JSON.
/// Images count a flat 85 tokens each (OpenAI's low-detail price).
pub fn token_counter(model: &str, messages: &[Message]) -> u64 {
    let enc = encoding_for(model);
    let mut n = 3;
    for m in messages {
        n += 3;
        n += count_with(enc, m.role.as_str());
        if let Some(name) = &m.name {
            n += 1 + count_with(enc, name);
        }
        match &m.content {
            Some(Content::Text(t)) => n += count_with(enc, t),
            Some(Content::Parts(parts)) => {
                for p in parts {
                    n += match p {
                        ContentPart::Text { text, .. } => count_with(enc, text),
                        ContentPart::ImageUrl { .. } => 85,
                        ContentPart::Refusal { refusal, .. } => count_with(enc, refusal),
                        _ => 0,
                    };
                }
            }
            None => {}
        }
        if let Some(calls) = &m.tool_calls {
            for c in calls {
                n += 3 + count_with(enc, &c.function.name) + count_with(enc, &c.function.arguments);
            }
        }
        if let Some(id) = &m.tool_call_id {
            n += count_with(enc, id);
        }
    }
    n
}

/// Tokens of a whole chat request: its messages and its tool definitions.
pub fn request_tokens(req: &ChatRequest) -> u64 {
    prompt_tokens(&req.model, &req.messages, req.tools.as_deref())
}

/// Tokens of a prompt for `model`: messages and tool definitions (counted as their JSON).
pub fn prompt_tokens(model: &str, messages: &[Message], tools: Option<&[Tool]>) -> u64 {
    let mut n = token_counter(model, messages);
    for t in tools.into_iter().flatten() {
        if let Ok(json) = serde_json::to_string(t) {
            n += count_text(model, &json);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_counts() {
        // Counts checked against OpenAI's tokenizer.
        assert_eq!(count_text("gpt-4o", "hello world"), 2);
        assert_eq!(count_text("gpt-4", "hello world"), 2);
        assert_eq!(count_text("gpt-4o", ""), 0);
        let msgs = vec![Message::system("You are helpful."), Message::user("Hi")];
        let n = token_counter("gpt-4o", &msgs);
        // 3 (priming) + 2×3 (messages) + roles + contents
        assert!((3 + 6 + 4..25).contains(&n), "{n}");
        assert!(token_counter("gpt-4o", &[Message::user("x".repeat(4000))]) > 400);
    }

    /// The message list of OpenAI's cookbook "How to count tokens with tiktoken", whose
    /// published counts are 129 prompt tokens for gpt-3.5-turbo/gpt-4 and 124 for gpt-4o and
    /// gpt-4o-mini (as the API's `usage.prompt_tokens` reports them).
    #[cfg(feature = "tokenizer")]
    #[test]
    fn the_cookbook_example_counts_as_openai_bills_it() {
        let named = |name: &str, text: &str| {
            let mut m = Message::system(text);
            m.name = Some(name.to_owned());
            m
        };
        let msgs = vec![
            Message::system(
                "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
            ),
            named(
                "example_user",
                "New synergies will help drive top-line growth.",
            ),
            named(
                "example_assistant",
                "Things working well together will increase revenue.",
            ),
            named(
                "example_user",
                "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
            ),
            named(
                "example_assistant",
                "Let's talk later when we're less busy about how to do better.",
            ),
            Message::user(
                "This late pivot means we don't have time to boil the ocean for the client deliverable.",
            ),
        ];
        for model in ["gpt-3.5-turbo", "gpt-4-0613", "openai/gpt-4"] {
            assert_eq!(token_counter(model, &msgs), 129, "{model}");
        }
        for model in ["gpt-4o", "gpt-4o-mini", "azure/gpt-4o-2024-08-06"] {
            assert_eq!(token_counter(model, &msgs), 124, "{model}");
        }
        // The cookbook's string example.
        assert_eq!(count_text("gpt-4", "tiktoken is great!"), 6);
    }
}
