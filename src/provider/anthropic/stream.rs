//! Anthropic SSE events → OpenAI chunks.

use super::response::{WireUsage, now, str_of};
use super::*;

/// What a content block of the stream is.
#[derive(Debug)]
pub(super) enum Block {
    Text,
    /// A tool call with its running index among the answer's tool calls.
    Tool {
        index: u32,
        args_seen: bool,
        start_input: Option<Value>,
    },
    /// The JSON tool: its input is streamed as text.
    JsonTool {
        args_seen: bool,
        start_input: Option<Value>,
    },
    Thinking {
        text: String,
        signature: String,
    },
    Redacted {
        data: String,
    },
    Other,
}

/// Decodes Anthropic's SSE events into OpenAI chunks (see the module docs).
pub(super) struct AnthropicDecoder {
    plan: Plan,
    id: String,
    model: String,
    created: i64,
    started: bool,
    blocks: Vec<(u64, Block)>,
    next_tool: u32,
    thinking_blocks: Vec<Value>,
    usage: WireUsage,
    finished: bool,
}

impl AnthropicDecoder {
    pub(super) fn new(plan: Plan) -> AnthropicDecoder {
        AnthropicDecoder {
            plan,
            id: String::new(),
            model: String::new(),
            created: now(),
            started: false,
            blocks: Vec::new(),
            next_tool: 0,
            thinking_blocks: Vec::new(),
            usage: WireUsage::default(),
            finished: false,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatChunk {
        ChatChunk::of_delta(&self.id, self.created, &self.model, delta, finish_reason)
    }

    fn start(&mut self, out: &mut VecDeque<ChatChunk>) {
        if !self.started {
            self.started = true;
            out.push_back(self.chunk(
                Delta {
                    role: Some(Role::Assistant),
                    ..Default::default()
                },
                None,
            ));
        }
    }

    fn text(&self, text: &str, out: &mut VecDeque<ChatChunk>) {
        if !text.is_empty() {
            out.push_back(self.chunk(
                Delta {
                    content: Some(text.to_owned()),
                    ..Default::default()
                },
                None,
            ));
        }
    }

    fn reasoning(&self, text: &str, out: &mut VecDeque<ChatChunk>) {
        if !text.is_empty() {
            out.push_back(self.chunk(
                Delta {
                    reasoning_content: Some(text.to_owned()),
                    ..Default::default()
                },
                None,
            ));
        }
    }

    fn tool_delta(&self, delta: ToolCallDelta, out: &mut VecDeque<ChatChunk>) {
        out.push_back(self.chunk(
            Delta {
                tool_calls: Some(vec![delta]),
                ..Default::default()
            },
            None,
        ));
    }

    fn args(&self, index: u32, args: String, out: &mut VecDeque<ChatChunk>) {
        self.tool_delta(
            ToolCallDelta {
                index: Some(index),
                function: Some(FunctionCallDelta {
                    name: None,
                    arguments: Some(args),
                }),
                ..Default::default()
            },
            out,
        );
    }

    fn block_mut(&mut self, index: u64) -> Option<&mut Block> {
        self.blocks
            .iter_mut()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, b)| b)
    }

    fn take_block(&mut self, index: u64) -> Option<Block> {
        let pos = self.blocks.iter().rposition(|(i, _)| *i == index)?;
        Some(self.blocks.remove(pos).1)
    }

    fn block_start(&mut self, v: &Value, out: &mut VecDeque<ChatChunk>) {
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        let cb = v.get("content_block").unwrap_or(&Value::Null);
        let block = match cb.get("type").and_then(Value::as_str) {
            Some("text") => {
                self.text(str_of(cb, "text"), out);
                Block::Text
            }
            Some("tool_use") => {
                let name = str_of(cb, "name");
                let start_input = cb
                    .get("input")
                    .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
                    .cloned();
                if self.plan.json_tool && name == JSON_TOOL_NAME {
                    Block::JsonTool {
                        args_seen: false,
                        start_input,
                    }
                } else {
                    let index = self.next_tool;
                    self.next_tool = self.next_tool.saturating_add(1);
                    self.tool_delta(
                        ToolCallDelta {
                            index: Some(index),
                            id: Some(str_of(cb, "id").to_owned()),
                            kind: Some("function".to_owned()),
                            function: Some(FunctionCallDelta {
                                name: Some(name.to_owned()),
                                arguments: Some(String::new()),
                            }),
                            extra: Extra::new(),
                        },
                        out,
                    );
                    Block::Tool {
                        index,
                        args_seen: false,
                        start_input,
                    }
                }
            }
            Some("thinking") => {
                let text = str_of(cb, "thinking").to_owned();
                self.reasoning(&text, out);
                Block::Thinking {
                    text,
                    signature: str_of(cb, "signature").to_owned(),
                }
            }
            Some("redacted_thinking") => Block::Redacted {
                data: str_of(cb, "data").to_owned(),
            },
            _ => Block::Other,
        };
        if let Some(pos) = self.blocks.iter().position(|(i, _)| *i == index) {
            self.blocks.remove(pos);
        }
        self.blocks.push((index, block));
    }

    fn block_delta(&mut self, v: &Value, out: &mut VecDeque<ChatChunk>) {
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        let d = v.get("delta").unwrap_or(&Value::Null);
        match d.get("type").and_then(Value::as_str) {
            Some("text_delta") => self.text(str_of(d, "text"), out),
            Some("input_json_delta") => {
                let part = str_of(d, "partial_json");
                if part.is_empty() {
                    return;
                }
                match self.block_mut(index) {
                    Some(Block::Tool {
                        index: k,
                        args_seen,
                        ..
                    }) => {
                        let k = *k;
                        *args_seen = true;
                        self.args(k, part.to_owned(), out);
                    }
                    Some(Block::JsonTool { args_seen, .. }) => {
                        *args_seen = true;
                        self.text(part, out);
                    }
                    _ => {}
                }
            }
            Some("thinking_delta") => {
                let part = str_of(d, "thinking");
                if let Some(Block::Thinking { text, .. }) = self.block_mut(index) {
                    text.push_str(part);
                }
                self.reasoning(part, out);
            }
            Some("signature_delta") => {
                let sig = str_of(d, "signature");
                if let Some(Block::Thinking { signature, .. }) = self.block_mut(index) {
                    signature.push_str(sig);
                }
            }
            _ => {}
        }
    }

    fn block_stop(&mut self, v: &Value, out: &mut VecDeque<ChatChunk>) {
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match self.take_block(index) {
            Some(Block::Tool {
                index,
                args_seen: false,
                start_input,
            }) => {
                // No fragments: the input came whole at the start, or the call has no arguments.
                let args = start_input.map_or_else(|| "{}".to_owned(), |i| i.to_string());
                self.args(index, args, out);
            }
            Some(Block::JsonTool {
                args_seen: false,
                start_input,
            }) => {
                let args = start_input.map_or_else(|| "{}".to_owned(), |i| i.to_string());
                self.text(&args, out);
            }
            Some(Block::Thinking { text, signature }) => {
                self.thinking_blocks
                    .push(json!({"type": "thinking", "thinking": text, "signature": signature}));
                self.thinking_chunk(out);
            }
            Some(Block::Redacted { data }) => {
                self.thinking_blocks
                    .push(json!({"type": "redacted_thinking", "data": data}));
                self.thinking_chunk(out);
            }
            _ => {}
        }
    }

    /// A chunk carrying every thinking block so far (cumulative, so that the accumulated
    /// message's `thinking_blocks` is complete).
    fn thinking_chunk(&self, out: &mut VecDeque<ChatChunk>) {
        let mut extra = Extra::new();
        extra.insert(
            THINKING_BLOCKS.into(),
            Value::Array(self.thinking_blocks.clone()),
        );
        out.push_back(self.chunk(
            Delta {
                extra,
                ..Default::default()
            },
            None,
        ));
    }

    fn update_usage(&mut self, u: Option<&Value>) {
        if let Some(u) = u
            && let Ok(u) = WireUsage::deserialize(u)
        {
            self.usage.update(&u);
        }
    }

    fn usage_chunk(&self) -> Option<ChatChunk> {
        if self.usage.is_empty() {
            return None;
        }
        Some(ChatChunk::of_usage(
            &self.id,
            self.created,
            &self.model,
            self.usage.to_usage(),
        ))
    }
}

/// The error an `event: error` carries (or its raw text when it is not JSON).
pub(super) fn stream_error(v: Option<&Value>, data: &str) -> Error {
    v.and_then(|v| error_from_json(v).or_else(|| error_from_json(&json!({ "error": v }))))
        .unwrap_or_else(|| {
            let snippet: String = data.chars().take(500).collect();
            Error::new(
                ErrorKind::InternalServer,
                if snippet.trim().is_empty() {
                    "the stream reported an error".to_owned()
                } else {
                    snippet
                },
            )
        })
}

impl ChunkDecoder for AnthropicDecoder {
    type Event = SseEvent;

    fn decode(&mut self, ev: SseEvent, out: &mut VecDeque<ChatChunk>) -> Result<bool> {
        let name = ev.event.trim();
        if name == "ping" {
            return Ok(false);
        }
        let data = ev.data.trim();
        if data == "[DONE]" {
            // Not Anthropic's, but some proxies end with it.
            out.extend(self.usage_chunk());
            return Ok(true);
        }
        let v: Value = if data.is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(data) {
                Ok(v) => v,
                Err(_) if name == "error" => return Err(stream_error(None, data)),
                Err(e) => {
                    let snippet: String = data.chars().take(200).collect();
                    return Err(Error::new(
                        ErrorKind::InvalidResponse,
                        format!("could not decode a stream event: {e}; data: {snippet:?}"),
                    ));
                }
            }
        };
        let ty = if name.is_empty() || name == "message" {
            v.get("type").and_then(Value::as_str).unwrap_or("")
        } else {
            name
        };
        match ty {
            "message_start" => {
                let m = v.get("message").unwrap_or(&Value::Null);
                if self.id.is_empty() {
                    self.id = str_of(m, "id").to_owned();
                }
                if self.model.is_empty() {
                    self.model = str_of(m, "model").to_owned();
                }
                self.update_usage(m.get("usage"));
                self.start(out);
            }
            "content_block_start" => {
                self.start(out);
                self.block_start(&v, out);
            }
            "content_block_delta" => {
                self.start(out);
                self.block_delta(&v, out);
            }
            "content_block_stop" => self.block_stop(&v, out),
            "message_delta" => {
                self.update_usage(v.get("usage"));
                if let Some(reason) = v
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                    && !self.finished
                {
                    self.start(out);
                    self.finished = true;
                    let mut reason = map_stop_reason(reason);
                    if reason == FinishReason::ToolCalls
                        && self.next_tool == 0
                        && self.plan.json_tool
                    {
                        reason = FinishReason::Stop;
                    }
                    out.push_back(self.chunk(Delta::default(), Some(reason)));
                }
            }
            "message_stop" => {
                out.extend(self.usage_chunk());
                return Ok(true);
            }
            "error" => return Err(stream_error(Some(&v), data)),
            _ => {
                if v.get("error").is_some_and(Value::is_object) {
                    return Err(stream_error(Some(&v), data));
                }
            }
        }
        Ok(false)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatChunk>) -> Result<()> {
        Err(Error::new(
            ErrorKind::ApiConnection,
            "the stream ended before message_stop: the answer may be incomplete",
        ))
    }
}
