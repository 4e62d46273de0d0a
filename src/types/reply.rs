//! [`Reply`]: what the call stack's stages need of every answer type (a stream included).

use super::{
    ChatResponse, ChatStream, EmbeddingResponse, ResponseMeta, TextCompletionResponse, Usage,
};

/// What every answer type gives the stages (a stream included).
pub(crate) trait Reply: Send + 'static {
    /// What is known about the call.
    fn meta(&self) -> &ResponseMeta;
    /// Mutable access to it.
    fn meta_mut(&mut self) -> &mut ResponseMeta;
    /// The usage the vendor reported, when one of its counts is past belief (a stream's is
    /// checked chunk by chunk as it passes).
    fn implausible_usage(&self) -> Option<(&'static str, u64)> {
        None
    }
    /// Tokens of the answer, for a deployment's minute counters (a stream counts at its end).
    fn tokens(&self) -> u64 {
        0
    }
    /// The call started at `start` (a stream measures its latency and time to first token
    /// from it).
    fn started_at(&mut self, start: std::time::Instant) {
        let _ = start;
    }
    /// The answer as a stream, when it is one.
    fn stream_mut(&mut self) -> Option<&mut ChatStream> {
        None
    }
}

macro_rules! reply_with_optional_usage {
    ($($t:ty),*) => {$(
        impl Reply for $t {
            fn meta(&self) -> &ResponseMeta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut ResponseMeta {
                &mut self.meta
            }
            fn implausible_usage(&self) -> Option<(&'static str, u64)> {
                self.usage.as_ref().and_then(Usage::implausible)
            }
            fn tokens(&self) -> u64 {
                self.usage.as_ref().map_or(0, |u| u.total_tokens)
            }
        }
    )*};
}
reply_with_optional_usage!(ChatResponse, TextCompletionResponse);

impl Reply for EmbeddingResponse {
    fn meta(&self) -> &ResponseMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }
    fn implausible_usage(&self) -> Option<(&'static str, u64)> {
        let u = &self.usage;
        [
            ("prompt_tokens", u.prompt_tokens),
            ("total_tokens", u.total_tokens),
        ]
        .into_iter()
        .find(|(_, n)| *n > Usage::MAX_TOKENS)
    }
    fn tokens(&self) -> u64 {
        self.usage.total_tokens.max(self.usage.prompt_tokens)
    }
}

impl Reply for ChatStream {
    fn meta(&self) -> &ResponseMeta {
        ChatStream::meta(self)
    }
    fn meta_mut(&mut self) -> &mut ResponseMeta {
        ChatStream::meta_mut(self)
    }
    fn started_at(&mut self, start: std::time::Instant) {
        self.set_started(start);
    }
    fn stream_mut(&mut self) -> Option<&mut ChatStream> {
        Some(self)
    }
}
