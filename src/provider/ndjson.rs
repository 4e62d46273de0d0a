//! Newline-delimited JSON (NDJSON) lines from a response body, with an idle timeout between
//! chunks (Ollama's native streams).
//!
//! The decoder is incremental and pure: bytes split anywhere (also inside a multi-byte
//! character or between `\r` and `\n`) give the same lines; a line longer than the limit is an
//! error instead of unbounded buffering; invalid UTF-8 is `InvalidResponse`; blank lines are
//! skipped; a last line without its `\n` is delivered at a clean end of the body. Whether a line
//! is valid JSON is the consumer's business.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use super::framed::{self, FramedStream, Framer, not_utf8, too_long};
use crate::error::Result;

/// A boxed stream of lines.
pub(crate) type LineStream = Pin<Box<dyn Stream<Item = Result<String>> + Send>>;

/// Incremental NDJSON line splitter: bytes in, lines out.
#[derive(Debug)]
pub(crate) struct NdjsonDecoder {
    /// Bytes of a line that has not ended yet.
    partial: Vec<u8>,
    max: usize,
}

impl NdjsonDecoder {
    /// A decoder that accepts lines up to `max` bytes (at least 1 KiB).
    pub(crate) fn new(max: usize) -> NdjsonDecoder {
        NdjsonDecoder {
            partial: Vec::new(),
            max: max.max(1024),
        }
    }

    fn line(&self, line: &[u8], out: &mut VecDeque<String>) -> Result<()> {
        if line.len() > self.max {
            return Err(too_long("line", self.max));
        }
        let text = std::str::from_utf8(line).map_err(not_utf8)?;
        let text = text.trim();
        if !text.is_empty() {
            out.push_back(text.to_owned());
        }
        Ok(())
    }
}

/// Decodes the body of `resp` as NDJSON lines; a line over `max` bytes is an error (as
/// [`sse::events`](super::sse::events)).
pub(crate) fn lines(resp: reqwest::Response, max: usize) -> LineStream {
    lines_from_bytes(framed::body(resp), max)
}

/// Decodes any byte stream as NDJSON lines.
pub(crate) fn lines_from_bytes<S>(bytes: S, max: usize) -> LineStream
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    Box::pin(FramedStream::new(bytes, NdjsonDecoder::new(max)))
}

impl Framer for NdjsonDecoder {
    type Frame = String;

    /// Decodes a chunk of the body.
    fn feed(&mut self, mut bytes: &[u8], out: &mut VecDeque<String>) -> Result<()> {
        while let Some(pos) = bytes.iter().position(|b| *b == b'\n') {
            let (line, rest) = bytes.split_at(pos);
            bytes = &rest[1..];
            if self.partial.is_empty() {
                self.line(line, out)?;
            } else {
                if self.partial.len() + line.len() > self.max {
                    return Err(too_long("line", self.max));
                }
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole, out)?;
                whole.clear();
                self.partial = whole;
            }
        }
        if self.partial.len() + bytes.len() > self.max {
            return Err(too_long("line", self.max));
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    /// The body ended cleanly: delivers a last line that lacked its `\n`.
    fn finish(&mut self, out: &mut VecDeque<String>) -> Result<()> {
        if self.partial.is_empty() {
            return Ok(());
        }
        let line = std::mem::take(&mut self.partial);
        self.line(&line, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use futures::StreamExt;

    fn decode(parts: &[&[u8]], max: usize) -> (Vec<String>, Result<()>) {
        let mut d = NdjsonDecoder::new(max);
        let mut out = VecDeque::new();
        for p in parts {
            if let Err(e) = d.feed(p, &mut out) {
                return (out.into(), Err(e));
            }
        }
        let r = d.finish(&mut out);
        (out.into(), r)
    }

    #[test]
    fn lines_split_anywhere_give_the_same_lines() {
        let body = "{\"a\":1}\r\n\n  \n{\"b\":\"é\"}\n{\"c\":3}".as_bytes();
        let (whole, r) = decode(&[body], 1 << 20);
        r.unwrap();
        assert_eq!(whole, ["{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}"]);
        // every split point, including inside the two-byte character and between \r and \n
        for at in 0..=body.len() {
            let (a, b) = body.split_at(at);
            let (lines, r) = decode(&[a, b], 1 << 20);
            r.unwrap();
            assert_eq!(lines, whole, "split at {at}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        let (lines, r) = decode(&bytes, 1 << 20);
        r.unwrap();
        assert_eq!(lines, whole);
    }

    #[test]
    fn limits_and_invalid_utf8_are_errors() {
        let (_, r) = decode(&[b"{\"a\":\"\xff\"}\n"], 1 << 20);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidResponse);
        // a long line in one piece, and one built up from pieces
        let long = vec![b'x'; 2000];
        let (_, r) = decode(&[&long, b"\n"], 1024);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidResponse);
        let (_, r) = decode(&[&long[..800], &long[800..1600], b"\n"], 1024);
        assert!(r.is_err());
        let (lines, r) = decode(&[&long[..1000], b"\n", &long[..1000], b"\n"], 1024);
        r.unwrap();
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        use crate::testutil::{Rng, fuzz_inputs, random_splits};
        let seeds: [&[u8]; 2] = [b"{\"a\":1}\n{\"b\":2}\n", "{\"é\":\"ü\"}\r\n".as_bytes()];
        let mut rng = Rng::new(3);
        let mut lines = 0;
        for input in fuzz_inputs(&seeds, b"{}\"\n\r\xc3\xa9ab", 2000, 9) {
            let parts = random_splits(&input, &mut rng);
            let (out, _) = decode(&parts, 1024);
            lines += out.len();
        }
        assert!(lines > 500, "only {lines} lines");
    }

    #[tokio::test]
    async fn stream_of_lines_and_transport_errors() {
        let s = lines_from_bytes(
            futures::stream::iter(vec![
                Ok(Bytes::from_static(b"{\"a\"")),
                Ok(Bytes::from_static(b":1}\n{\"b\":2}")),
            ]),
            1 << 20,
        );
        let items: Vec<String> = s.map(|r| r.unwrap()).collect().await;
        assert_eq!(items, ["{\"a\":1}", "{\"b\":2}"]);
        let s = lines_from_bytes(
            futures::stream::iter(vec![
                Ok(Bytes::from_static(b"{}\n")),
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
