//! Chat completions: messages, tools, the request and the `chat.completion` response.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::from_text::from_text;
use super::map_de::{Index, NullDefault, Plain, Stringish, Timestamp, map_deserialize, wrapper};
use super::meta::ResponseMeta;
use super::options::CallOptions;
use super::serde_util::{Extra, null_default, opt_stringish, string_enum, stringish};
use super::setters::{extra_body_setter, setters};
use super::usage::Usage;

string_enum! {
    /// Who wrote a message. Unknown roles are kept in `Other`.
    pub enum Role {
        /// Instructions from the application (older models).
        System => "system",
        /// Instructions from the application (newer OpenAI models).
        Developer => "developer",
        /// The end user.
        User => "user",
        /// The model.
        Assistant => "assistant",
        /// The result of a tool call.
        Tool => "tool",
        /// The result of a (deprecated) function call.
        Function => "function",
    }
}

string_enum! {
    /// Why the model stopped. Vendor values are mapped to these; unknown ones stay in `Other`.
    pub enum FinishReason {
        /// Natural end or a stop sequence.
        Stop => "stop",
        /// The token limit was hit.
        Length => "length",
        /// The model called tools.
        ToolCalls => "tool_calls",
        /// A safety filter stopped the answer.
        ContentFilter => "content_filter",
        /// The model called a (deprecated) function.
        FunctionCall => "function_call",
    }
}

string_enum! {
    /// Effort a reasoning model spends thinking (`reasoning_effort`).
    pub enum ReasoningEffort {
        /// No reasoning.
        None => "none",
        /// Minimal reasoning.
        Minimal => "minimal",
        /// Low effort.
        Low => "low",
        /// Medium effort.
        Medium => "medium",
        /// High effort.
        High => "high",
        /// Extra-high effort.
        XHigh => "xhigh",
        /// Maximum effort.
        Max => "max",
    }
}

fn role_or_assistant<'de, D: Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
    Ok(Option::<Role>::deserialize(d)?.unwrap_or(Role::Assistant))
}

wrapper!(
    /// [`role_or_assistant`] as a type, for [`map_deserialize!`].
    RoleOrAssistant(Role) = role_or_assistant
);

map_deserialize!(
    Message,
    "a message object",
    Message {
        content: None,
        ..Message::new(Role::Assistant, "")
    },
    {
        "role" => role: RoleOrAssistant,
        "content" => content: Plain<Option<Content>>,
        "name" => name: Stringish,
        "tool_calls" => tool_calls: Plain<Option<Vec<ToolCall>>>,
        "tool_call_id" => tool_call_id: Stringish,
        "refusal" => refusal: Stringish,
        "reasoning_content" => reasoning_content: Stringish,
    }
);

fn kind_or_function<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_stringish(d)?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(default_function))
}

fn default_function() -> String {
    "function".to_owned()
}

/// Message content: plain text, or a list of parts (text, images, audio, files).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// A list of parts.
    Parts(Vec<ContentPart>),
}

impl Content {
    /// The text when the content is plain text or holds exactly one text part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text(s) => Some(s),
            Content::Parts(parts) => match parts.as_slice() {
                [ContentPart::Text { text, .. }] => Some(text),
                _ => None,
            },
        }
    }

    /// All text, with the text parts concatenated.
    pub fn to_text(&self) -> String {
        match self {
            Content::Text(s) => s.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_owned())
    }
}

impl From<Vec<ContentPart>> for Content {
    fn from(parts: Vec<ContentPart>) -> Self {
        Content::Parts(parts)
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(p) = seq.next_element::<ContentPart>()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Content, A::Error> {
                // A single part object where a list was expected.
                let part = ContentPart::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Content::Parts(vec![part]))
            }
        }
        d.deserialize_any(V)
    }
}

/// One part of a message's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text. `extra` carries vendor fields such as Anthropic's `cache_control`.
    Text {
        /// The text.
        text: String,
        /// Fields this crate does not model.
        #[serde(flatten)]
        extra: Extra,
    },
    /// An image by URL or `data:` URL.
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
        /// Fields this crate does not model.
        #[serde(flatten)]
        extra: Extra,
    },
    /// Base64 audio input.
    InputAudio {
        /// The audio.
        input_audio: InputAudio,
        /// Fields this crate does not model.
        #[serde(flatten)]
        extra: Extra,
    },
    /// A file by id or inline data.
    File {
        /// The file.
        file: FileData,
        /// Fields this crate does not model.
        #[serde(flatten)]
        extra: Extra,
    },
    /// A refusal (assistant messages).
    Refusal {
        /// The refusal text.
        refusal: String,
        /// Fields this crate does not model.
        #[serde(flatten)]
        extra: Extra,
    },
    /// A part of a type this crate does not know, kept as JSON.
    #[serde(untagged)]
    Other(Value),
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> ContentPart {
        ContentPart::Text {
            text: text.into(),
            extra: Extra::new(),
        }
    }

    /// An image part from a URL (`https://…` or `data:image/png;base64,…`).
    pub fn image_url(url: impl Into<String>) -> ContentPart {
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
            },
            extra: Extra::new(),
        }
    }

    /// An audio part from base64 data and its format (`"wav"`, `"mp3"`).
    pub fn input_audio(data: impl Into<String>, format: impl Into<String>) -> ContentPart {
        ContentPart::InputAudio {
            input_audio: InputAudio {
                data: data.into(),
                format: format.into(),
            },
            extra: Extra::new(),
        }
    }

    /// Adds a vendor field to this part (e.g. Anthropic's `cache_control`).
    #[must_use = "returns the changed content part; use it"]
    pub fn with_field(mut self, key: impl Into<String>, value: Value) -> Self {
        match &mut self {
            ContentPart::Text { extra, .. }
            | ContentPart::ImageUrl { extra, .. }
            | ContentPart::InputAudio { extra, .. }
            | ContentPart::File { extra, .. }
            | ContentPart::Refusal { extra, .. } => {
                extra.insert(key.into(), value);
            }
            ContentPart::Other(Value::Object(map)) => {
                map.insert(key.into(), value);
            }
            ContentPart::Other(_) => {}
        }
        self
    }
}

/// An image reference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https://…` or a `data:` URL.
    pub url: String,
    /// `"auto"`, `"low"` or `"high"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Base64 audio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64 data.
    pub data: String,
    /// `"wav"` or `"mp3"`.
    pub format: String,
}

/// A file reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileData {
    /// Base64 file data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// Id of an uploaded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// One message of a conversation, in either direction.
///
/// The same type is sent in requests and returned in `choices[].message`, so an answer can be
/// pushed onto the history as is.
///
/// ```
/// use litellm::Message;
/// let history = vec![
///     Message::system("Be brief."),
///     Message::user("Hi"),
///     Message::assistant("Hello!"),
///     Message::tool("call_1", r#"{"temp": 21}"#),
/// ];
/// assert_eq!(history[3].tool_call_id.as_deref(), Some("call_1"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text or parts; `None` for an assistant message that only calls tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Optional participant name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls made by the assistant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// For `role: tool`, the id of the call this answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The assistant's refusal, when it refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Reasoning text from models that expose it (DeepSeek, xAI, Anthropic thinking, …).
    /// Not sent back to vendors that reject it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Fields this crate does not model (annotations, audio, provider-specific fields).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    /// A message with a role and text.
    pub fn new(role: Role, content: impl Into<Content>) -> Message {
        Message {
            role,
            content: Some(content.into()),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            refusal: None,
            reasoning_content: None,
            extra: Extra::new(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<Content>) -> Message {
        Message::new(Role::System, content)
    }

    /// A developer message (OpenAI's newer name for system instructions).
    pub fn developer(content: impl Into<Content>) -> Message {
        Message::new(Role::Developer, content)
    }

    /// A user message: text, or parts such as `vec![ContentPart::text(..), ContentPart::image_url(..)]`.
    pub fn user(content: impl Into<Content>) -> Message {
        Message::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<Content>) -> Message {
        Message::new(Role::Assistant, content)
    }

    /// An assistant message that calls tools.
    pub fn assistant_tool_calls(tool_calls: Vec<ToolCall>) -> Message {
        Message {
            content: None,
            tool_calls: Some(tool_calls),
            ..Message::new(Role::Assistant, "")
        }
    }

    /// The result of a tool call.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<Content>) -> Message {
        Message {
            tool_call_id: Some(tool_call_id.into()),
            ..Message::new(Role::Tool, content)
        }
    }

    /// Sets the participant name.
    #[must_use = "returns the changed message; use it"]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The text of the content (parts concatenated); `None` when there is no content.
    pub fn text(&self) -> Option<String> {
        self.content.as_ref().map(Content::to_text)
    }
}

/// A tool call made by the assistant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id, echoed by the tool result.
    #[serde(default, deserialize_with = "stringish")]
    pub id: String,
    /// `"function"` (also when a vendor leaves it out), or `"custom"`.
    #[serde(
        rename = "type",
        default = "default_function",
        deserialize_with = "kind_or_function"
    )]
    pub kind: String,
    /// The function and its arguments (empty for non-function tool calls, whose data stays in
    /// `extra`, e.g. `custom`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "FunctionCall::is_empty"
    )]
    pub function: FunctionCall,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ToolCall {
    /// A function tool call.
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> ToolCall {
        ToolCall {
            id: id.into(),
            kind: default_function(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
            extra: Extra::new(),
        }
    }
}

/// A function name with its arguments as a JSON string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    #[serde(default, deserialize_with = "stringish")]
    pub name: String,
    /// Arguments as JSON text (an object sent by a vendor is kept as its JSON text).
    #[serde(default, deserialize_with = "stringish")]
    pub arguments: String,
}

impl FunctionCall {
    /// True when both name and arguments are empty.
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.arguments.is_empty()
    }

    /// The arguments parsed as JSON.
    pub fn parse_arguments<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        let args = if self.arguments.trim().is_empty() {
            "{}"
        } else {
            &self.arguments
        };
        serde_json::from_str(args)
    }
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `"function"` (or a newer type, kept as is).
    #[serde(rename = "type", default = "default_function")]
    pub kind: String,
    /// The function definition (absent for non-function tool types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionDefinition>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Tool {
    /// A function tool with a JSON Schema for its parameters.
    ///
    /// ```
    /// use litellm::Tool;
    /// use serde_json::json;
    /// let t = Tool::function("get_weather", "Weather in a city",
    ///     json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}));
    /// assert_eq!(t.function.unwrap().name, "get_weather");
    /// ```
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Tool {
        Tool {
            kind: default_function(),
            function: Some(FunctionDefinition {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            }),
            extra: Extra::new(),
        }
    }

    /// Sets `strict` (structured-outputs) on the function.
    #[must_use = "returns the changed tool; use it"]
    pub fn strict(mut self, strict: bool) -> Self {
        if let Some(f) = &mut self.function {
            f.strict = Some(strict);
        }
        self
    }
}

/// A function's name, description and parameter schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// Name (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// What the function does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Enforce the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// Whether and which tool the model must call.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolChoice {
    /// Never call tools.
    None,
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Required,
    /// The model must call this function.
    Function(String),
    /// Any other form, sent as is.
    Other(Value),
}

impl ToolChoice {
    /// Forces a call of the named function.
    pub fn function(name: impl Into<String>) -> ToolChoice {
        ToolChoice::Function(name.into())
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::None => s.serialize_str("none"),
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Function(name) => serde_json::json!({
                "type": "function",
                "function": { "name": name }
            })
            .serialize(s),
            ToolChoice::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(match &v {
            Value::String(s) if s == "none" => ToolChoice::None,
            Value::String(s) if s == "auto" => ToolChoice::Auto,
            Value::String(s) if s == "required" => ToolChoice::Required,
            Value::Object(o)
                if o.get("type").and_then(Value::as_str) == Some("function") && o.len() == 2 =>
            {
                match o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                {
                    Some(name) => ToolChoice::Function(name.to_owned()),
                    None => ToolChoice::Other(v.clone()),
                }
            }
            _ => ToolChoice::Other(v),
        })
    }
}

/// The format the answer must take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object (JSON mode).
    JsonObject,
    /// JSON matching a schema (structured outputs).
    JsonSchema {
        /// The schema.
        json_schema: JsonSchemaFormat,
    },
    /// Any other form, sent as is.
    #[serde(untagged)]
    Other(Value),
}

impl ResponseFormat {
    /// Structured output with a named schema; `strict` enforces it exactly.
    pub fn json_schema(name: impl Into<String>, schema: Value, strict: bool) -> ResponseFormat {
        ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.into(),
                description: None,
                schema: Some(schema),
                strict: Some(strict),
            },
        }
    }
}

/// A named JSON Schema for structured output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// Schema name (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// What the output is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Enforce the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// One stop sequence or several.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One sequence.
    One(String),
    /// Several sequences (OpenAI accepts up to 4).
    Many(Vec<String>),
}

impl Stop {
    /// The sequences as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

from_text!(Stop: One, Many, arrays);

/// Streaming options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the usage of the whole call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Pad chunks against side-channel attacks (OpenAI; on by default there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A chat completion request: OpenAI's `CreateChatCompletionRequest` plus call options.
///
/// `model` is a `provider/model-id` string (`"openai/gpt-4o-mini"`, `"groq/llama-3.3-70b-versatile"`)
/// or a well-known bare name (`"gpt-4o"`). Every field that is `None` is left out of the request
/// body. Call options (`api_key`, `timeout`, …) live in [`ChatRequest::options`] and are never sent
/// as body fields.
///
/// ```
/// use litellm::{ChatRequest, Message, ResponseFormat};
/// use std::time::Duration;
///
/// let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Name three colors")])
///     .temperature(0.2)
///     .max_completion_tokens(100)
///     .response_format(ResponseFormat::JsonObject)
///     .timeout(Duration::from_secs(30));
/// let body = serde_json::to_value(&req).unwrap();
/// assert_eq!(body["temperature"], 0.2);
/// assert!(body.get("top_p").is_none()); // unset fields are not sent
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// `provider/model-id`.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Sampling temperature, 0–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Set by `chat_stream`; `chat` always sends a non-streaming request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (usage is requested automatically where the vendor supports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Maximum tokens to generate (legacy; reasoning models want `max_completion_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Maximum tokens to generate, reasoning included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Presence penalty, -2–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty, -2–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Token id → bias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<serde_json::Map<String, Value>>,
    /// Return log probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many top log probabilities per token, 0–20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// End-user id sent to the vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Seed for deterministic sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool must be called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Output format (text, JSON mode, JSON schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Reasoning effort for reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Output modalities, e.g. `["text", "audio"]` (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<String>>,
    /// Audio output settings (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Value>,
    /// Predicted output (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Value>,
    /// Service tier (`"auto"`, `"default"`, `"flex"`, `"priority"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Store the completion at the vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// OpenAI's body field `metadata` (stored-completion tags). Not to be confused with the call
    /// option [`CallOptions::metadata`], which is never sent.
    #[serde(default, rename = "metadata", skip_serializing_if = "Option::is_none")]
    pub store_metadata: Option<serde_json::Map<String, Value>>,
    /// Stable id of the end user for abuse detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Key that groups requests for prompt caching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// How long the vendor keeps the prompt cache (`"in_memory"`, `"24h"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_retention: Option<String>,
    /// Answer verbosity (`"low"`, `"medium"`, `"high"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// Web search settings (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<Value>,
    /// Deprecated `functions` (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Value>,
    /// Deprecated `function_call` (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<Value>,
    /// Vendor-specific body fields, merged into the top level of the request body.
    #[serde(flatten)]
    pub extra_body: Extra,
    /// Call options; never serialized.
    #[serde(skip)]
    pub options: CallOptions,
}
impl ChatRequest {
    /// A request for `model` with `messages`.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            ..Default::default()
        }
    }

    setters! {
        /// Sets `temperature`.
        temperature: f64,
        /// Sets `top_p`.
        top_p: f64,
        /// Sets `n`.
        n: u32,
        /// Sets `stream` (the streaming methods set it themselves).
        stream: bool,
        /// Sets `stream_options`.
        stream_options: StreamOptions,
        /// Sets `stop` (one string or several).
        stop: impl Into<Stop>,
        /// Sets `max_tokens`.
        max_tokens: u32,
        /// Sets `max_completion_tokens`.
        max_completion_tokens: u32,
        /// Sets `presence_penalty`.
        presence_penalty: f64,
        /// Sets `frequency_penalty`.
        frequency_penalty: f64,
        /// Sets `logit_bias`.
        logit_bias: serde_json::Map<String, Value>,
        /// Sets `logprobs`.
        logprobs: bool,
        /// Sets `top_logprobs`.
        top_logprobs: u32,
        /// Sets `user` (sent to the vendor).
        user: impl Into<String>,
        /// Sets `seed`.
        seed: i64,
        /// Sets `tools`.
        tools: Vec<Tool>,
        /// Sets `tool_choice`.
        tool_choice: ToolChoice,
        /// Sets `parallel_tool_calls`.
        parallel_tool_calls: bool,
        /// Sets `response_format`.
        response_format: ResponseFormat,
        /// Sets `reasoning_effort`.
        reasoning_effort: impl Into<ReasoningEffort>,
        /// Sets `modalities`.
        modalities: Vec<String>,
        /// Sets `audio`.
        audio: Value,
        /// Sets `prediction`.
        prediction: Value,
        /// Sets `service_tier`.
        service_tier: impl Into<String>,
        /// Sets `store`.
        store: bool,
        /// Sets OpenAI's body field `metadata`.
        store_metadata: serde_json::Map<String, Value>,
        /// Sets `safety_identifier`.
        safety_identifier: impl Into<String>,
        /// Sets `prompt_cache_key`.
        prompt_cache_key: impl Into<String>,
        /// Sets `prompt_cache_retention`.
        prompt_cache_retention: impl Into<String>,
        /// Sets `verbosity`.
        verbosity: impl Into<String>,
        /// Sets `web_search_options`.
        web_search_options: Value,
    }

    extra_body_setter! {
        /// Merges vendor-specific fields into the body (an object's keys are added at the top
        /// level).
        ///
        /// ```
        /// use litellm::{ChatRequest, Message};
        /// let req = ChatRequest::new("openai/gpt-4o", vec![Message::user("hi")])
        ///     .extra_body(serde_json::json!({"top_k": 40}));
        /// assert_eq!(serde_json::to_value(&req).unwrap()["top_k"], 40);
        /// ```
    }

    /// Adds one message.
    #[must_use = "setters return the changed request; use it"]
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    super::options::call_option_setters!();
}

/// One choice of a chat completion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// Position among the choices.
    pub index: u32,
    /// The answer.
    pub message: Message,
    /// Why the model stopped.
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities (passed through).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

fn empty_assistant() -> Message {
    Message {
        content: None,
        ..Message::new(Role::Assistant, "")
    }
}

fn message_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Message, D::Error> {
    Ok(Option::<Message>::deserialize(d)?.unwrap_or_else(empty_assistant))
}

wrapper!(
    /// [`message_or_empty`] as a type, for [`map_deserialize!`].
    MessageOrEmpty(Message) = message_or_empty
);

map_deserialize!(
    Choice,
    "a choice object",
    Choice {
        index: 0,
        message: empty_assistant(),
        finish_reason: None,
        logprobs: None,
        extra: Extra::new(),
    },
    {
        "index" => index: Index,
        "message" => message: MessageOrEmpty,
        "finish_reason" => finish_reason: Plain<Option<FinishReason>>,
        "logprobs" => logprobs: Plain<Option<Value>>,
    }
);

map_deserialize!(ChatResponse, "a chat.completion object", ChatResponse::default(), {
    "id" => id: NullDefault<String>,
    "object" => object: NullDefault<String>,
    "created" => created: Timestamp,
    "model" => model: NullDefault<String>,
    "choices" => choices: NullDefault<Vec<Choice>>,
    "usage" => usage: Plain<Option<Usage>>,
    "system_fingerprint" => system_fingerprint: Stringish,
    "service_tier" => service_tier: Stringish,
});

/// A chat completion: OpenAI's `chat.completion` object plus [`ResponseMeta`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChatResponse {
    /// Completion id.
    pub id: String,
    /// `"chat.completion"`.
    pub object: String,
    /// Unix time of creation.
    pub created: i64,
    /// Model that answered, as the vendor names it.
    pub model: String,
    /// The answers.
    pub choices: Vec<Choice>,
    /// Tokens used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Service tier that served the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Fields this crate does not model (e.g. Perplexity's `citations`).
    #[serde(flatten)]
    pub extra: Extra,
    /// What happened during the call; not part of the OpenAI body.
    #[serde(skip)]
    pub meta: ResponseMeta,
}

impl ChatResponse {
    /// The first choice's text, when it has text.
    pub fn text(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.message.content.as_ref())
            .and_then(Content::as_text)
    }

    /// The first choice's tool calls (empty when none).
    pub fn tool_calls(&self) -> &[ToolCall] {
        self.choices
            .first()
            .and_then(|c| c.message.tool_calls.as_deref())
            .unwrap_or(&[])
    }

    /// The first choice's finish reason.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first().and_then(|c| c.finish_reason.as_ref())
    }

    /// The first choice's message.
    pub fn message(&self) -> Option<&Message> {
        self.choices.first().map(|c| &c.message)
    }
}

/// Building a response, for custom providers and tests.
///
/// ```
/// use litellm::{ChatResponse, FinishReason, ToolCall, Usage};
///
/// let resp = ChatResponse::from_text("my-model", "Hello!").with_usage(Usage::new(12, 3));
/// assert_eq!(resp.text(), Some("Hello!"));
/// assert_eq!(resp.finish_reason(), Some(&FinishReason::Stop));
/// assert!(resp.id.starts_with("chatcmpl-"));
///
/// let call = ToolCall::function("call_1", "get_weather", r#"{"city":"Paris"}"#);
/// let resp = ChatResponse::from_text("my-model", "").with_tool_calls(vec![call]);
/// assert_eq!(resp.tool_calls()[0].function.name, "get_weather");
/// assert_eq!(resp.finish_reason(), Some(&FinishReason::ToolCalls));
/// assert!(resp.choices[0].message.content.is_none());
/// ```
impl ChatResponse {
    /// A `chat.completion` from `model` with one choice: an assistant message with `text`,
    /// finish reason `stop`, a fresh id (`chatcmpl-` and 24 hex digits), `created` now and
    /// no usage.
    pub fn from_text(model: impl Into<String>, text: impl Into<String>) -> ChatResponse {
        ChatResponse::from_message(model, Message::assistant(text.into()))
    }

    /// A `chat.completion` from `model` with one choice holding `message`; finish reason
    /// `tool_calls` when the message calls tools, else `stop`. Id and time as
    /// [`from_text`](Self::from_text).
    pub fn from_message(model: impl Into<String>, message: Message) -> ChatResponse {
        let finish_reason = if message.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) {
            FinishReason::ToolCalls
        } else {
            FinishReason::Stop
        };
        ChatResponse {
            id: format!(
                "chatcmpl-{:016x}{:08x}",
                rand::random::<u64>(),
                rand::random::<u32>()
            ),
            object: "chat.completion".to_owned(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            model: model.into(),
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason: Some(finish_reason),
                logprobs: None,
                extra: Extra::new(),
            }],
            ..ChatResponse::default()
        }
    }

    /// Sets the id.
    #[must_use = "returns the changed response; use it"]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the usage.
    #[must_use = "returns the changed response; use it"]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the first choice's tool calls and its finish reason to `tool_calls` (empty `calls`
    /// remove them and leave the finish reason alone). Empty text content becomes no content,
    /// as vendors send it with tool calls.
    #[must_use = "returns the changed response; use it"]
    pub fn with_tool_calls(mut self, calls: Vec<ToolCall>) -> Self {
        let choice = self.first_choice_mut();
        if calls.is_empty() {
            choice.message.tool_calls = None;
            return self;
        }
        if choice
            .message
            .content
            .as_ref()
            .is_some_and(|c| c.as_text() == Some(""))
        {
            choice.message.content = None;
        }
        choice.message.tool_calls = Some(calls);
        choice.finish_reason = Some(FinishReason::ToolCalls);
        self
    }

    /// Sets the first choice's finish reason.
    #[must_use = "returns the changed response; use it"]
    pub fn with_finish_reason(mut self, reason: FinishReason) -> Self {
        self.first_choice_mut().finish_reason = Some(reason);
        self
    }

    /// The first choice, added (an empty assistant message) when there is none.
    fn first_choice_mut(&mut self) -> &mut Choice {
        if self.choices.is_empty() {
            self.choices.push(Choice {
                index: 0,
                message: empty_assistant(),
                finish_reason: None,
                logprobs: None,
                extra: Extra::new(),
            });
        }
        &mut self.choices[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unset_fields_are_not_serialized() {
        let req = ChatRequest::new("gpt-4o", vec![Message::user("hi")]);
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})
        );
    }

    #[test]
    fn unknown_roles_parts_and_enums_are_kept() {
        let m: Message = serde_json::from_value(json!({
            "role": "critic",
            "content": [{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},
                        {"type":"video_url","video_url":{"url":"x"}}],
            "annotations": []
        }))
        .unwrap();
        assert_eq!(m.role, Role::Other("critic".into()));
        let Some(Content::Parts(parts)) = &m.content else {
            panic!()
        };
        assert!(
            matches!(&parts[0], ContentPart::Text { extra, .. } if extra.contains_key("cache_control"))
        );
        assert!(matches!(&parts[1], ContentPart::Other(v) if v["type"] == "video_url"));
        assert!(m.extra.contains_key("annotations"));
        // round trip keeps everything
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["content"][1]["video_url"]["url"], "x");
        assert_eq!(back["content"][0]["cache_control"]["type"], "ephemeral");
        let f: FinishReason = serde_json::from_value(json!("model_length")).unwrap();
        assert_eq!(f, FinishReason::Other("model_length".into()));
    }

    #[test]
    fn custom_tool_calls_decode_and_round_trip() {
        let m: Message = serde_json::from_value(json!({"role": "assistant", "content": null,
            "tool_calls": [{"id": "c1", "type": "custom", "custom": {"name": "grammar", "input": "x"}}]}))
        .unwrap();
        let call = &m.tool_calls.as_ref().unwrap()[0];
        assert_eq!(call.kind, "custom");
        assert!(call.function.is_empty());
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(
            back["tool_calls"][0],
            json!({"id": "c1", "type": "custom", "custom": {"name": "grammar", "input": "x"}})
        );
    }

    #[test]
    fn tool_choice_forms() {
        for (v, tc) in [
            (json!("auto"), ToolChoice::Auto),
            (json!("none"), ToolChoice::None),
            (json!("required"), ToolChoice::Required),
            (
                json!({"type":"function","function":{"name":"f"}}),
                ToolChoice::function("f"),
            ),
            (
                json!({"type":"allowed_tools","allowed_tools":{"mode":"auto"}}),
                ToolChoice::Other(json!({"type":"allowed_tools","allowed_tools":{"mode":"auto"}})),
            ),
        ] {
            let parsed: ToolChoice = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(parsed, tc);
            assert_eq!(serde_json::to_value(&parsed).unwrap(), v);
        }
    }

    #[test]
    fn response_format_forms() {
        let rf = ResponseFormat::json_schema("Loc", json!({"type":"object"}), true);
        assert_eq!(
            serde_json::to_value(&rf).unwrap(),
            json!({"type":"json_schema","json_schema":{"name":"Loc","schema":{"type":"object"},"strict":true}})
        );
        assert_eq!(
            serde_json::to_value(ResponseFormat::JsonObject).unwrap(),
            json!({"type":"json_object"})
        );
        let other: ResponseFormat =
            serde_json::from_value(json!({"type":"grammar","grammar":"x"})).unwrap();
        assert!(matches!(other, ResponseFormat::Other(_)));
    }

    #[test]
    fn nulls_and_odd_types_where_values_usually_are() {
        let r: ChatResponse = serde_json::from_value(json!({
            "choices": [{"index": 0, "finish_reason": 3,
                "message": {"role": null, "content": "x", "reasoning_content": {"steps": 1}, "refusal": null,
                    "tool_calls": [{"id": "c", "type": null, "function": null}]}}],
            "service_tier": {"tier": "x"}, "system_fingerprint": null
        }))
        .unwrap();
        let m = &r.choices[0].message;
        assert_eq!(m.role, Role::Assistant);
        assert_eq!(m.reasoning_content.as_deref(), Some(r#"{"steps":1}"#));
        assert_eq!(m.tool_calls.as_ref().unwrap()[0].kind, "function");
        assert_eq!(r.finish_reason(), Some(&FinishReason::Other("3".into())));
        assert!(r.service_tier.is_some());
    }

    #[test]
    fn tolerant_response_decoding() {
        let r: ChatResponse = serde_json::from_value(json!({
            "id": null, "object": "chat.completion", "created": 1.5e9, "model": "m",
            "choices": [{"index": 0, "message": {"role":"assistant","content":null,
                "tool_calls":[{"id":"c1","function":{"name":"f","arguments":{"a":1}}}]},
                "finish_reason": "tool_calls", "logprobs": null}],
            "usage": null, "citations": ["u"]
        }))
        .unwrap();
        assert_eq!(r.id, "");
        assert_eq!(r.created, 1_500_000_000);
        assert_eq!(r.tool_calls()[0].kind, "function");
        assert_eq!(r.tool_calls()[0].function.arguments, r#"{"a":1}"#);
        assert_eq!(r.finish_reason(), Some(&FinishReason::ToolCalls));
        assert!(r.extra.contains_key("citations"));
    }
}
