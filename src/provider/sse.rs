//! Server-sent events from a response body, with an idle timeout between chunks.
//!
//! The decoder is incremental and linear: each byte is looked at once, a line is copied only
//! when it spans two network chunks, and a line or event longer than the limit is an error
//! instead of unbounded buffering. It follows the SSE framing rules vendors rely on: `\n`,
//! `\r\n` and `\r` line ends (also split across chunks), `data:` with or without a space,
//! multi-line data joined with `\n`, comment lines (OpenRouter's `: OPENROUTER PROCESSING`)
//! skipped, a last event without its blank line delivered at a clean end of the body.
//!
//! Lines that are not SSE at all (a JSON error body sent under `text/event-stream`, Gemini's
//! raw multi-line error object) are collected; when they form a JSON object carrying an error,
//! that error is raised. A broken connection is `ApiConnection`, no bytes for longer than the
//! idle timeout is `Timeout`, invalid UTF-8 is `InvalidResponse`.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use super::error_map::error_from_json;
use super::framed::{self, FramedStream, Framer, not_utf8, too_long};
use crate::error::Result;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SseEvent {
    /// The `event:` name; empty when absent (the default type, `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// True for the default event type (no name, or `message`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_message(&self) -> bool {
        self.event.is_empty() || self.event == "message"
    }
}

/// A boxed stream of events.
pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<SseEvent>> + Send>>;

/// Longest non-SSE text kept while looking for a JSON error in it.
const MAX_STRAY: usize = 64 * 1024;

/// Incremental SSE decoder: bytes in, events out. Pure.
#[derive(Debug)]
pub(crate) struct SseDecoder {
    /// Bytes of a line that has not ended yet.
    partial: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` starting the next one belongs to it.
    skip_lf: bool,
    event: String,
    data: String,
    has_data: bool,
    stray: String,
    max: usize,
}

impl SseDecoder {
    /// A decoder that accepts lines and events up to `max` bytes.
    pub(crate) fn new(max: usize) -> SseDecoder {
        SseDecoder {
            partial: Vec::new(),
            skip_lf: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
            stray: String::new(),
            max: max.max(1024),
        }
    }

    fn line(&mut self, line: &[u8], out: &mut VecDeque<SseEvent>) -> Result<()> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(not_utf8)?;
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                if self.data.len() + value.len() > self.max {
                    return Err(too_long("event", self.max));
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "id" | "retry" => {}
            _ => self.stray_line(line)?,
        }
        Ok(())
    }

    /// A line that is not SSE: kept, and raised when it completes a JSON error object.
    fn stray_line(&mut self, line: &str) -> Result<()> {
        if self.stray.len() + line.len() > MAX_STRAY {
            self.stray.clear();
            return Ok(());
        }
        self.stray.push_str(line);
        self.stray.push('\n');
        let t = self.stray.trim();
        if t.starts_with('{') && t.ends_with('}') {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(t) {
                self.stray.clear();
                if let Some(err) = error_from_json(&v) {
                    return Err(err);
                }
            }
        } else if !t.starts_with('{') && !t.starts_with('[') {
            self.stray.clear();
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut VecDeque<SseEvent>) {
        if self.has_data {
            out.push_back(SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        } else {
            self.event.clear();
        }
        self.has_data = false;
    }
}

/// Decodes the body of `resp` as server-sent events; a line or event over `max` bytes is an
/// error. (The idle timeout is the decoded stream's: see [`DecodedStream`](super::decode).)
pub(crate) fn events(resp: reqwest::Response, max: usize) -> EventStream {
    events_from_bytes(framed::body(resp), max)
}

/// Decodes any byte stream as server-sent events.
pub(crate) fn events_from_bytes<S>(bytes: S, max: usize) -> EventStream
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    Box::pin(FramedStream::new(bytes, SseDecoder::new(max)))
}

impl Framer for SseDecoder {
    type Frame = SseEvent;

    /// Decodes a chunk of the body.
    fn feed(&mut self, mut bytes: &[u8], out: &mut VecDeque<SseEvent>) -> Result<()> {
        if self.skip_lf {
            self.skip_lf = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(pos) = bytes.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let (line, rest) = bytes.split_at(pos);
            let ends_cr = rest[0] == b'\r';
            bytes = &rest[1..];
            if ends_cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    None => self.skip_lf = true,
                    _ => {}
                }
            }
            if self.partial.is_empty() {
                self.line(line, out)?;
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole, out)?;
                whole.clear();
                self.partial = whole;
            }
        }
        if self.partial.len() + bytes.len() > self.max {
            return Err(too_long("event", self.max));
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    /// The body ended cleanly: delivers a last event that lacked its blank line.
    fn finish(&mut self, out: &mut VecDeque<SseEvent>) -> Result<()> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, out)?;
        }
        self.dispatch(out);
        let stray = std::mem::take(&mut self.stray);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(stray.trim())
            && let Some(err) = error_from_json(&v)
        {
            return Err(err);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use futures::StreamExt;

    fn decode_parts(parts: &[&[u8]]) -> (Vec<SseEvent>, Result<()>) {
        let mut d = SseDecoder::new(1 << 20);
        let mut out = VecDeque::new();
        for p in parts {
            if let Err(e) = d.feed(p, &mut out) {
                return (out.into(), Err(e));
            }
        }
        let r = d.finish(&mut out);
        (out.into(), r)
    }

    fn data(evs: &[SseEvent]) -> Vec<&str> {
        evs.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn framing_rules() {
        let (evs, r) = decode_parts(&[
            b": OPENROUTER PROCESSING\n\n",
            b"data: {\"a\"",
            b":1}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"        }\n\n",
            b"data:no-space\r\n\r\ndata: line1\ndata: line2\n\n",
            b"data: cr\r",
            b"\n\r\n",
            b"id: 7\nretry: 10\ndata: x\r\rdata: [DONE]",
        ]);
        r.unwrap();
        assert_eq!(
            data(&evs),
            [
                "{\"a\":1}",
                "{\"type\":\"message_stop\"        }",
                "no-space",
                "line1\nline2",
                "cr",
                "x",
                "[DONE]"
            ]
        );
        assert_eq!(evs[1].event, "message_stop");
        assert!(evs[0].is_message() && !evs[1].is_message());
        // one byte at a time gives the same
        let all = b"data: a\r\n\r\nevent: e\r\ndata: b\r\n\r\n";
        let parts: Vec<&[u8]> = all.chunks(1).collect();
        let (evs2, r) = decode_parts(&parts);
        r.unwrap();
        assert_eq!(data(&evs2), ["a", "b"]);
        assert_eq!(evs2[1].event, "e");
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        let (evs, r) = decode_parts(&[b"event: ping\n\ndata: 1\n\n"]);
        r.unwrap();
        assert_eq!(evs.len(), 1);
        assert!(evs[0].is_message());
    }

    #[test]
    fn errors_instead_of_unbounded_or_invalid_input() {
        let (_, r) = decode_parts(&[b"data: \xff\xfe\n\n"]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidResponse);
        let mut d = SseDecoder::new(1024);
        let mut out = VecDeque::new();
        let big = vec![b'a'; 2000];
        assert_eq!(
            d.feed(&big, &mut out).unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
        let mut d = SseDecoder::new(1024);
        let line = [b"data: ".as_slice(), &[b'a'; 600], b"\n"].concat();
        d.feed(&line, &mut out).unwrap();
        assert!(d.feed(&line, &mut out).is_err());
    }

    #[test]
    fn json_error_bodies_without_sse_framing() {
        let (evs, r) = decode_parts(&[b"{\"error\":{\"code\":404,\"message\":\"models/x is not found\",\"status\":\"NOT_FOUND\"}}"]);
        assert!(evs.is_empty());
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        // multi-line, after some events (Gemini)
        let (evs, r) = decode_parts(&[
            b"data: {\"ok\":1}\n\n{\n  \"error\": {\n    \"code\": 429,\n",
            b"    \"message\": \"quota\",\n    \"status\": \"RESOURCE_EXHAUSTED\"\n  }\n}\n",
        ]);
        assert_eq!(evs.len(), 1);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::RateLimit);
        // stray text that is not an error is ignored
        let (evs, r) = decode_parts(&[b"hello\ndata: 1\n\n"]);
        r.unwrap();
        assert_eq!(data(&evs), ["1"]);
    }

    #[test]
    fn linear_on_large_bursts() {
        let one = b"data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n";
        let burst: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * 20_000)
            .collect();
        let start = std::time::Instant::now();
        let (evs, r) = decode_parts(&[&burst]);
        r.unwrap();
        assert_eq!(evs.len(), 20_000);
        // generous bound, only to catch quadratic behaviour (seconds), not to measure speed
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[tokio::test]
    async fn transport_error_passes_through() {
        let s = events_from_bytes(
            futures::stream::iter(vec![
                Ok(Bytes::from_static(b"data: 1\n\n")),
                Err(Error::connection("reset")),
            ]),
            1 << 20,
        );
        let items: Vec<_> = s.collect().await;
        assert!(items[0].is_ok());
        assert_eq!(
            items[1].as_ref().unwrap_err().kind(),
            ErrorKind::ApiConnection
        );
    }
}
