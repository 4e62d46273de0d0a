//! The binary `application/vnd.amazon.eventstream` framing of ConverseStream.
//!
//! A frame is: total length (u32 BE, whole frame), headers length (u32 BE), the CRC-32 of those
//! eight bytes, the headers (`name_len u8, name, type u8, value`), the payload, and the CRC-32
//! of everything before it. [`FrameDecoder`] is incremental and pure (bytes in, frames out): it
//! checks the prelude CRC before trusting a length, rejects lengths outside the protocol's
//! bounds before buffering a frame, checks the message CRC before handing a frame out, and
//! never panics on any byte sequence. [`frames`] drives it over a response body with an idle
//! timeout.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::framed;

/// The CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`) lookup table.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 of `data` (IEEE).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// Prelude (12 bytes) plus the message CRC (4 bytes).
const OVERHEAD: usize = 16;
/// The protocol's limits: 128 KiB of headers, 16 MiB of payload.
const MAX_HEADERS: usize = 128 * 1024;
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// One decoded frame: its string headers of interest and its payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Frame {
    /// `:message-type`: `event`, `exception` or `error`.
    pub(crate) message_type: String,
    /// `:event-type` (e.g. `contentBlockDelta`).
    pub(crate) event_type: String,
    /// `:exception-type` (e.g. `throttlingException`).
    pub(crate) exception_type: String,
    /// `:error-code` and `:error-message` of `error` frames.
    pub(crate) error_code: String,
    pub(crate) error_message: String,
    /// The payload (JSON for Converse events).
    pub(crate) payload: Bytes,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("malformed event-stream frame: {}", msg.into()),
    )
}

/// Incremental frame decoder: feed bytes, take frames. After an error it stays failed.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
    buf: BytesMut,
    max_frame: usize,
    failed: bool,
}

impl FrameDecoder {
    /// A decoder accepting frames up to `max_frame` bytes (capped by the protocol's limits).
    pub(crate) fn new(max_frame: usize) -> FrameDecoder {
        FrameDecoder {
            buf: BytesMut::new(),
            max_frame: max_frame.clamp(OVERHEAD, OVERHEAD + MAX_HEADERS + MAX_PAYLOAD),
            failed: false,
        }
    }

    /// Decodes what `bytes` completes, pushing whole frames to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Frame>) -> Result<()> {
        if self.failed {
            return Err(invalid("the stream already failed"));
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match self.next_frame() {
                Ok(Some(f)) => out.push_back(f),
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.failed = true;
                    self.buf.clear();
                    return Err(e);
                }
            }
        }
    }

    /// The body ended: anything left is a truncated frame.
    pub(crate) fn finish(&mut self) -> Result<()> {
        if self.failed || self.buf.is_empty() {
            return Ok(());
        }
        let n = self.buf.len();
        self.buf.clear();
        self.failed = true;
        Err(Error::new(
            ErrorKind::ApiConnection,
            format!("the event stream ended in the middle of a frame ({n} bytes left over)"),
        ))
    }

    fn next_frame(&mut self) -> Result<Option<Frame>> {
        if self.buf.len() < 12 {
            return Ok(None);
        }
        let total = be32(&self.buf[0..4]) as usize;
        let headers_len = be32(&self.buf[4..8]) as usize;
        let prelude_crc = be32(&self.buf[8..12]);
        if crc32(&self.buf[0..8]) != prelude_crc {
            return Err(invalid("prelude CRC mismatch"));
        }
        if total < OVERHEAD || total > self.max_frame {
            return Err(invalid(format!("frame length {total} out of bounds")));
        }
        if headers_len > MAX_HEADERS || headers_len > total - OVERHEAD {
            return Err(invalid(format!(
                "headers length {headers_len} out of bounds"
            )));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        let msg_crc = be32(&frame[total - 4..]);
        if crc32(&frame[..total - 4]) != msg_crc {
            return Err(invalid("message CRC mismatch"));
        }
        let mut out = Frame::default();
        parse_headers(&frame[12..12 + headers_len], &mut out)?;
        out.payload = frame.slice(12 + headers_len..total - 4);
        Ok(Some(out))
    }
}

fn be32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

fn parse_headers(mut h: &[u8], out: &mut Frame) -> Result<()> {
    while h.has_remaining() {
        let name_len = h.get_u8() as usize;
        if h.remaining() < name_len + 1 {
            return Err(invalid("header name runs past the headers"));
        }
        let name = std::str::from_utf8(&h[..name_len])
            .map_err(|_| invalid("header name is not UTF-8"))?
            .to_owned();
        h.advance(name_len);
        let kind = h.get_u8();
        let fixed = match kind {
            0 | 1 => Some(0),
            2 => Some(1),
            3 => Some(2),
            4 => Some(4),
            5 | 8 => Some(8),
            9 => Some(16),
            6 | 7 => None,
            other => return Err(invalid(format!("unknown header value type {other}"))),
        };
        match fixed {
            Some(n) => {
                if h.remaining() < n {
                    return Err(invalid("header value runs past the headers"));
                }
                h.advance(n);
            }
            None => {
                if h.remaining() < 2 {
                    return Err(invalid("header value runs past the headers"));
                }
                let len = h.get_u16() as usize;
                if h.remaining() < len {
                    return Err(invalid("header value runs past the headers"));
                }
                if kind == 7 {
                    let v = std::str::from_utf8(&h[..len])
                        .map_err(|_| invalid("header value is not UTF-8"))?;
                    let slot = match name.as_str() {
                        ":message-type" => Some(&mut out.message_type),
                        ":event-type" => Some(&mut out.event_type),
                        ":exception-type" => Some(&mut out.exception_type),
                        ":error-code" => Some(&mut out.error_code),
                        ":error-message" => Some(&mut out.error_message),
                        _ => None,
                    };
                    if let Some(s) = slot {
                        *s = v.to_owned();
                    }
                }
                h.advance(len);
            }
        }
    }
    Ok(())
}

/// Encodes one frame with string headers (used by the tests to build streams).
#[cfg(test)]
pub(crate) fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (n, v) in headers {
        h.push(n.len() as u8);
        h.extend_from_slice(n.as_bytes());
        h.push(7);
        h.extend_from_slice(&(v.len() as u16).to_be_bytes());
        h.extend_from_slice(v.as_bytes());
    }
    let total = (OVERHEAD + h.len() + payload.len()) as u32;
    let mut f = Vec::with_capacity(total as usize);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let c = crc32(&f);
    f.extend_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&h);
    f.extend_from_slice(payload);
    let c = crc32(&f);
    f.extend_from_slice(&c.to_be_bytes());
    f
}

/// A boxed stream of frames.
pub(crate) type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame>> + Send>>;

/// Decodes the body of `resp` as event-stream frames.
pub(crate) fn frames(resp: reqwest::Response, max: usize) -> FrameStream {
    let bytes = framed::body(resp);
    Box::pin(Frames {
        bytes: Box::pin(bytes),
        decoder: FrameDecoder::new(max),
        ready: VecDeque::new(),
        failed: None,
        done: false,
    })
}

struct Frames {
    bytes: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
    decoder: FrameDecoder,
    ready: VecDeque<Frame>,
    /// An error to deliver once the frames decoded before it are out.
    failed: Option<Error>,
    done: bool,
}

impl Stream for Frames {
    type Item = Result<Frame>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(f) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(f)));
            }
            if let Some(e) = this.failed.take() {
                this.done = true;
                return Poll::Ready(Some(Err(e)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.bytes.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    // Frames decoded before a bad one are still delivered first.
                    if let Err(e) = this.decoder.feed(&chunk, &mut this.ready) {
                        this.failed = Some(e);
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if let Err(e) = this.decoder.finish() {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, json: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            json.as_bytes(),
        )
    }

    #[test]
    fn crc32_check_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // The prelude of the first frame recorded in wire-formats.md §10.5.
        assert_eq!(crc32(&[0, 0, 0, 0xba, 0, 0, 0, 0x52]), 0xba30_ff04);
    }

    #[test]
    fn round_trip_any_split() {
        let mut bytes = event("messageStart", r#"{"role":"assistant"}"#);
        bytes.extend(encode(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"slow down"}"#,
        ));
        for split in 0..=bytes.len() {
            let mut d = FrameDecoder::new(1 << 20);
            let mut out = VecDeque::new();
            d.feed(&bytes[..split], &mut out).unwrap();
            d.feed(&bytes[split..], &mut out).unwrap();
            d.finish().unwrap();
            assert_eq!(out.len(), 2);
            assert_eq!(out[0].event_type, "messageStart");
            assert_eq!(out[0].message_type, "event");
            assert_eq!(&out[0].payload[..], br#"{"role":"assistant"}"#);
            assert_eq!(out[1].exception_type, "throttlingException");
        }
    }

    #[test]
    fn other_header_types_are_skipped() {
        // bool, byte, short, int, long, bytes, timestamp, uuid, then a string.
        let mut h = Vec::new();
        for (t, v) in [
            (0u8, vec![]),
            (1, vec![]),
            (2, vec![1]),
            (3, vec![0, 1]),
            (4, vec![0, 0, 0, 1]),
            (5, vec![0; 8]),
            (6, vec![0, 2, 9, 9]),
            (8, vec![0; 8]),
            (9, vec![0; 16]),
        ] {
            h.push(1);
            h.push(b'x');
            h.push(t);
            h.extend(v);
        }
        h.extend([11]);
        h.extend(b":event-type");
        h.extend([7, 0, 2]);
        h.extend(b"ok");
        let total = (16 + h.len()) as u32;
        let mut f = total.to_be_bytes().to_vec();
        f.extend((h.len() as u32).to_be_bytes());
        let c = crc32(&f);
        f.extend(c.to_be_bytes());
        f.extend(&h);
        let c = crc32(&f);
        f.extend(c.to_be_bytes());
        let mut out = VecDeque::new();
        FrameDecoder::new(1 << 20).feed(&f, &mut out).unwrap();
        assert_eq!(out[0].event_type, "ok");
        assert!(out[0].payload.is_empty());
    }

    #[test]
    fn bad_crcs_lengths_and_truncation_are_errors() {
        let good = event("messageStop", r#"{"stopReason":"end_turn"}"#);
        let mut out = VecDeque::new();
        // A flipped payload byte: message CRC mismatch.
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 6] ^= 1;
        let e = FrameDecoder::new(1 << 20).feed(&bad, &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(e.message().contains("message CRC"), "{}", e.message());
        // A flipped length byte: prelude CRC mismatch, detected from the first 12 bytes.
        let mut bad = good.clone();
        bad[3] ^= 1;
        let e = FrameDecoder::new(1 << 20)
            .feed(&bad[..12], &mut out)
            .unwrap_err();
        assert!(e.message().contains("prelude CRC"), "{}", e.message());
        // An absurd length with a valid prelude CRC: rejected before any buffering.
        let mut huge = vec![0xFF, 0xFF, 0xFF, 0xF0, 0, 0, 0, 0];
        let c = crc32(&huge);
        huge.extend(c.to_be_bytes());
        let mut d = FrameDecoder::new(usize::MAX);
        let e = d.feed(&huge, &mut out).unwrap_err();
        assert!(e.message().contains("out of bounds"), "{}", e.message());
        assert!(d.feed(&good, &mut out).is_err(), "stays failed");
        // Headers longer than the frame.
        let mut bad = vec![0, 0, 0, 16, 0, 0, 0, 1];
        let c = crc32(&bad);
        bad.extend(c.to_be_bytes());
        let e = FrameDecoder::new(1 << 20).feed(&bad, &mut out).unwrap_err();
        assert!(e.message().contains("headers length"), "{}", e.message());
        // A header that runs past the headers section.
        let mut bad = encode(&[(":event-type", "x")], b"");
        bad[12] = 200;
        let len = bad.len();
        let c = crc32(&bad[..len - 4]);
        bad[len - 4..].copy_from_slice(&c.to_be_bytes());
        let e = FrameDecoder::new(1 << 20).feed(&bad, &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        // Truncated: finish reports the leftover bytes.
        let mut d = FrameDecoder::new(1 << 20);
        d.feed(&good[..good.len() - 1], &mut out).unwrap();
        let e = d.finish().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ApiConnection);
        assert!(out.is_empty());
        // Frames larger than the configured maximum.
        let e = FrameDecoder::new(32).feed(&good, &mut out).unwrap_err();
        assert!(e.message().contains("out of bounds"));
    }
}
