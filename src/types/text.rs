//! Legacy text completions (`/v1/completions`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chat::{FinishReason, Stop, StreamOptions};
use super::from_text::from_text;
use super::meta::ResponseMeta;
use super::options::CallOptions;
use super::serde_util::{Extra, index, null_default, stringish, timestamp};
use super::setters::{extra_body_setter, setters};
use super::usage::Usage;

/// The prompt of a text completion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt.
    Text(String),
    /// Several prompts (one choice each).
    Texts(Vec<String>),
    /// One token array.
    Tokens(Vec<u32>),
    /// Several token arrays.
    TokenBatches(Vec<Vec<u32>>),
}

impl Prompt {
    /// The prompt as text: the first string, or empty for token prompts.
    pub fn first_text(&self) -> &str {
        match self {
            Prompt::Text(s) => s,
            Prompt::Texts(v) => v.first().map(String::as_str).unwrap_or(""),
            _ => "",
        }
    }
}

from_text!(Prompt: Text, Texts);

impl From<Vec<u32>> for Prompt {
    fn from(v: Vec<u32>) -> Self {
        Prompt::Tokens(v)
    }
}

/// A legacy text completion request.
///
/// ```
/// use litellm::TextCompletionRequest;
/// let req = TextCompletionRequest::new("openai/gpt-3.5-turbo-instruct", "Say this is a test")
///     .max_tokens(7)
///     .temperature(0.0);
/// assert_eq!(serde_json::to_value(&req).unwrap()["max_tokens"], 7);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextCompletionRequest {
    /// `provider/model-id`.
    pub model: String,
    /// The prompt.
    pub prompt: Prompt,
    /// Text after the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Maximum tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Set by streaming calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Log probabilities of the top N tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<u32>,
    /// Echo the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<bool>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Generate this many and return the best.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_of: Option<u32>,
    /// Token id → bias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<serde_json::Map<String, Value>>,
    /// Seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Vendor-specific body fields.
    #[serde(flatten)]
    pub extra_body: Extra,
    /// Call options; never serialized.
    #[serde(skip)]
    pub options: CallOptions,
}

impl TextCompletionRequest {
    /// A request for `model` and `prompt`.
    pub fn new(model: impl Into<String>, prompt: impl Into<Prompt>) -> TextCompletionRequest {
        TextCompletionRequest {
            model: model.into(),
            prompt: prompt.into(),
            suffix: None,
            max_tokens: None,
            temperature: None,
            top_p: None,
            n: None,
            stream: None,
            stream_options: None,
            logprobs: None,
            echo: None,
            stop: None,
            presence_penalty: None,
            frequency_penalty: None,
            best_of: None,
            logit_bias: None,
            seed: None,
            user: None,
            extra_body: Extra::new(),
            options: CallOptions::default(),
        }
    }

    setters! {
        /// Sets `suffix`.
        suffix: impl Into<String>,
        /// Sets `max_tokens`.
        max_tokens: u32,
        /// Sets `temperature`.
        temperature: f64,
        /// Sets `top_p`.
        top_p: f64,
        /// Sets `n`.
        n: u32,
        /// Sets `logprobs`.
        logprobs: u32,
        /// Sets `echo`.
        echo: bool,
        /// Sets `stop`.
        stop: impl Into<Stop>,
        /// Sets `presence_penalty`.
        presence_penalty: f64,
        /// Sets `frequency_penalty`.
        frequency_penalty: f64,
        /// Sets `best_of`.
        best_of: u32,
        /// Sets `logit_bias`.
        logit_bias: serde_json::Map<String, Value>,
        /// Sets `seed`.
        seed: i64,
        /// Sets `user`.
        user: impl Into<String>,
    }

    extra_body_setter! {
        /// Merges vendor-specific fields into the body.
    }

    super::options::call_option_setters!();
}

/// One choice of a text completion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextChoice {
    /// The generated text.
    #[serde(default, deserialize_with = "stringish")]
    pub text: String,
    /// Position among the choices.
    #[serde(default, deserialize_with = "index")]
    pub index: u32,
    /// Log probabilities (passed through).
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Why the model stopped.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A text completion: OpenAI's `text_completion` object plus [`ResponseMeta`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextCompletionResponse {
    /// Completion id.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// `"text_completion"`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// Unix time of creation.
    #[serde(default, deserialize_with = "timestamp")]
    pub created: i64,
    /// Model that answered.
    #[serde(default, deserialize_with = "null_default")]
    pub model: String,
    /// The completions.
    #[serde(default, deserialize_with = "null_default")]
    pub choices: Vec<TextChoice>,
    /// Tokens used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
    /// What happened during the call.
    #[serde(skip)]
    pub meta: ResponseMeta,
}

impl TextCompletionResponse {
    /// The first choice's text.
    pub fn text(&self) -> Option<&str> {
        self.choices.first().map(|c| c.text.as_str())
    }
}
