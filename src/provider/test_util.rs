//! Test support for the providers' stream decoders: run a [`ChunkDecoder`] over events, fold
//! chunks into a response, and feed random bytes through a framer and a decoder (the fuzz
//! inputs themselves come from [`crate::testutil`]).

use std::collections::VecDeque;

use super::decode::ChunkDecoder;
use super::framed::Framer;
use crate::error::Result;
use crate::testutil::{Rng, random_splits};
use crate::types::{ChatChunk, ChatResponse, ChunkAccumulator};

/// Runs `events` through `decoder` as a stream does: until the vendor's terminator
/// (`Ok(true)`) or the first error, else to the end of the input (`decoder.end`: `Ok(false)`
/// when that is a normal end). Returns the chunks pushed so far with the outcome.
pub(crate) fn decode_events<D: ChunkDecoder>(
    mut decoder: D,
    events: impl IntoIterator<Item = D::Event>,
) -> (Vec<ChatChunk>, Result<bool>) {
    let mut out = VecDeque::new();
    for e in events {
        match decoder.decode(e, &mut out) {
            Ok(true) => return (out.into(), Ok(true)),
            Ok(false) => {}
            Err(e) => return (out.into(), Err(e)),
        }
    }
    let end = decoder.end(&mut out).map(|()| false);
    (out.into(), end)
}

/// The response a client rebuilds from `chunks` ([`ChunkAccumulator`]).
pub(crate) fn collect<'a>(chunks: impl IntoIterator<Item = &'a ChatChunk>) -> ChatResponse {
    let mut acc = ChunkAccumulator::new();
    chunks.into_iter().for_each(|c| acc.push(c));
    acc.finish()
}

/// Feeds `input` to `framer` in random pieces (as a network delivers it), finishes it when no
/// piece failed, then runs the frames through `decoder` until its terminator or first error and
/// ends it. Errors are dropped: fuzz tests only ask that nothing panics. Returns the chunks.
pub(crate) fn decode_in_pieces<F, D>(
    input: &[u8],
    rng: &mut Rng,
    mut framer: F,
    decoder: &mut D,
) -> VecDeque<ChatChunk>
where
    F: Framer,
    D: ChunkDecoder<Event = F::Frame>,
{
    let mut frames = VecDeque::new();
    let mut ok = true;
    for part in random_splits(input, rng) {
        if framer.feed(part, &mut frames).is_err() {
            ok = false;
            break;
        }
    }
    if ok {
        let _ = framer.finish(&mut frames);
    }
    let mut chunks = VecDeque::new();
    for frame in frames {
        match decoder.decode(frame, &mut chunks) {
            Ok(true) | Err(_) => break,
            Ok(false) => {}
        }
    }
    let _ = decoder.end(&mut chunks);
    chunks
}

/// Runs each of `inputs` through [`decode_in_pieces`] with a fresh framer and decoder (made
/// from `rng`, for decoders with random settings), folds the chunks into a response, and
/// returns how many chunks were decoded in all (so a test can check that mutated valid streams
/// still reach the decoder).
pub(crate) fn fuzz_decoder<F, D>(
    inputs: Vec<Vec<u8>>,
    rng: &mut Rng,
    framer: impl Fn() -> F,
    mut decoder: impl FnMut(&mut Rng) -> D,
) -> usize
where
    F: Framer,
    D: ChunkDecoder<Event = F::Frame>,
{
    let mut decoded = 0;
    for input in inputs {
        let mut dec = decoder(rng);
        let chunks = decode_in_pieces(&input, rng, framer(), &mut dec);
        decoded += chunks.len();
        let _ = collect(&chunks);
    }
    decoded
}

/// [`fuzz_decoder`] over SSE: 3,000 inputs mutated from `seeds` with bytes of `alphabet`
/// (`input_seed`), split at random places (`rng_seed`), each through a fresh SSE framer and a
/// decoder from `decoder`; returns how many chunks were decoded.
pub(crate) fn fuzz_sse<D>(
    seeds: &[&[u8]],
    alphabet: &[u8],
    input_seed: u64,
    rng_seed: u64,
    decoder: impl FnMut(&mut Rng) -> D,
) -> usize
where
    D: ChunkDecoder<Event = <crate::provider::sse::SseDecoder as Framer>::Frame>,
{
    fuzz_decoder(
        crate::testutil::fuzz_inputs(seeds, alphabet, 3000, input_seed),
        &mut Rng::new(rng_seed),
        || crate::provider::sse::SseDecoder::new(1 << 16),
        decoder,
    )
}
