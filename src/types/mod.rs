//! OpenAI-shaped data: requests, responses, chunks, usage. No I/O happens here.
//!
//! Decoding is tolerant, as vendors differ from the spec in small ways: unknown fields are kept
//! in `extra` maps, unknown enum values are kept as strings (`FinishReason::Other`), `null` is
//! accepted where a value is usually present, and token counts never fail on extreme numbers.
//! Serializing a request emits only the fields the caller set.

mod from_text;
pub(crate) mod map_de;
pub(crate) mod serde_util;
pub(crate) mod setters;

pub mod chat;
pub mod embedding;
pub mod meta;
pub mod options;
mod reply;
pub mod secret;
pub mod stream;
mod structured;
pub mod text;
pub mod usage;

pub use chat::{
    ChatRequest, ChatResponse, Choice, Content, ContentPart, FileData, FinishReason, FunctionCall,
    FunctionDefinition, ImageUrl, InputAudio, JsonSchemaFormat, Message, ReasoningEffort,
    ResponseFormat, Role, Stop, StreamOptions, Tool, ToolCall, ToolChoice,
};
pub use embedding::{
    Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EncodingFormat,
    decode_base64_embedding,
};
pub use meta::ResponseMeta;
pub use options::{CacheControl, CallOptions, Metadata, MockResponse};
pub(crate) use reply::Reply;
pub use secret::SecretString;
pub use serde_util::Extra;
pub use stream::{
    ChatChunk, ChatStream, ChunkAccumulator, ChunkChoice, Delta, FunctionCallDelta, StreamObserver,
    ToolCallDelta,
};
pub use text::{Prompt, TextChoice, TextCompletionRequest, TextCompletionResponse};
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Usage};
