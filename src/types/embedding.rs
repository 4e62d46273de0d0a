//! Embeddings: request (one string, many strings, token arrays) and response with vectors
//! decoded to `f32` from either JSON floats or base64.

use base64::Engine;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::from_text::from_text;
use super::meta::ResponseMeta;
use super::options::CallOptions;
use super::serde_util::{Extra, count, index, null_default};
use super::setters::{extra_body_setter, setters};

/// What to embed.
///
/// ```
/// use litellm::EmbeddingInput;
/// let one: EmbeddingInput = "hello".into();
/// let many: EmbeddingInput = vec!["a", "b"].into();
/// assert_eq!(many.len(), 2);
/// # let _ = one;
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One string.
    Text(String),
    /// Several strings.
    Texts(Vec<String>),
    /// One token array.
    Tokens(Vec<u32>),
    /// Several token arrays.
    TokenBatches(Vec<Vec<u32>>),
}

impl EmbeddingInput {
    /// Number of inputs (vectors that will come back).
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => 1,
            EmbeddingInput::Texts(v) => v.len(),
            EmbeddingInput::TokenBatches(v) => v.len(),
        }
    }

    /// True when there is nothing to embed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The inputs as strings, when they are strings.
    pub fn texts(&self) -> Option<Vec<&str>> {
        match self {
            EmbeddingInput::Text(s) => Some(vec![s.as_str()]),
            EmbeddingInput::Texts(v) => Some(v.iter().map(String::as_str).collect()),
            _ => None,
        }
    }
}

from_text!(EmbeddingInput: Text, Texts, arrays);

impl From<Vec<u32>> for EmbeddingInput {
    fn from(v: Vec<u32>) -> Self {
        EmbeddingInput::Tokens(v)
    }
}

impl From<Vec<Vec<u32>>> for EmbeddingInput {
    fn from(v: Vec<Vec<u32>>) -> Self {
        EmbeddingInput::TokenBatches(v)
    }
}

/// How the vendor should encode vectors on the wire. Either way they arrive as `Vec<f32>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// JSON numbers.
    Float,
    /// Base64 of little-endian `f32`s (smaller and faster to decode).
    Base64,
}

/// An embeddings request.
///
/// ```
/// use litellm::{EmbeddingRequest, EncodingFormat};
/// let req = EmbeddingRequest::new("openai/text-embedding-3-small", vec!["a", "b"])
///     .dimensions(256)
///     .encoding_format(EncodingFormat::Base64);
/// assert_eq!(req.input.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    /// `provider/model-id`.
    pub model: String,
    /// What to embed.
    pub input: EmbeddingInput,
    /// Wire encoding of the vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    /// Output dimensions (text-embedding-3 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// End-user id sent to the vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Vendor-specific body fields (e.g. Cohere's `input_type`).
    #[serde(flatten)]
    pub extra_body: Extra,
    /// Call options; never serialized.
    #[serde(skip)]
    pub options: CallOptions,
}

impl EmbeddingRequest {
    /// A request for `model` and `input`.
    pub fn new(model: impl Into<String>, input: impl Into<EmbeddingInput>) -> EmbeddingRequest {
        EmbeddingRequest {
            model: model.into(),
            input: input.into(),
            encoding_format: None,
            dimensions: None,
            user: None,
            extra_body: Extra::new(),
            options: CallOptions::default(),
        }
    }

    setters! {
        /// Sets `encoding_format`.
        encoding_format: EncodingFormat,
        /// Sets `dimensions`.
        dimensions: u32,
        /// Sets `user`.
        user: impl Into<String>,
    }

    extra_body_setter! {
        /// Merges vendor-specific fields into the body.
    }

    super::options::call_option_setters!();
}

/// One vector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// `"embedding"`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// Position of the input this vector is for.
    #[serde(default, deserialize_with = "index")]
    pub index: u32,
    /// The vector (decoded from base64 when the vendor sent base64).
    #[serde(default, deserialize_with = "vector")]
    pub embedding: Vec<f32>,
}

/// Token usage of an embeddings call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Tokens in the input.
    #[serde(default, deserialize_with = "count")]
    pub prompt_tokens: u64,
    /// Same as `prompt_tokens`.
    #[serde(default, deserialize_with = "count")]
    pub total_tokens: u64,
}

/// An embeddings response: OpenAI's list object plus [`ResponseMeta`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// `"list"`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// One vector per input, in input order.
    #[serde(default, deserialize_with = "null_default")]
    pub data: Vec<Embedding>,
    /// Model that answered.
    #[serde(default, deserialize_with = "null_default")]
    pub model: String,
    /// Tokens used.
    #[serde(default, deserialize_with = "null_default")]
    pub usage: EmbeddingUsage,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
    /// What happened during the call.
    #[serde(skip)]
    pub meta: ResponseMeta,
}

impl EmbeddingResponse {
    /// The vectors in input order.
    pub fn vectors(&self) -> Vec<&[f32]> {
        self.data.iter().map(|e| e.embedding.as_slice()).collect()
    }

    /// Puts the vectors in input order: vendors may answer out of order, so `data` is sorted
    /// by `index`. A count that differs from the number of inputs is logged as a warning (mock
    /// servers answer a fixed example), not an error; compare `data.len()` when it matters.
    pub(crate) fn check_against(&mut self, input: &EmbeddingInput) -> crate::Result<()> {
        let expected = input.len();
        if self.data.len() != expected {
            tracing::warn!(
                expected,
                got = self.data.len(),
                "the embeddings answer does not have one vector per input"
            );
        }
        self.data.sort_by_key(|e| e.index);
        if expected == self.data.len()
            && self
                .data
                .iter()
                .enumerate()
                .any(|(i, e)| e.index as usize != i)
        {
            for (i, e) in self.data.iter_mut().enumerate() {
                e.index = i as u32;
            }
        }
        Ok(())
    }
}

/// Decodes base64 of little-endian `f32`s.
///
/// ```
/// assert_eq!(litellm::decode_base64_embedding("zczMPc3MTL6amZk+").unwrap(), vec![0.1f32, -0.2, 0.3]);
/// ```
pub fn decode_base64_embedding(data: &str) -> Result<Vec<f32>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("invalid base64 embedding: {e}"))?;
    if bytes.len() % 4 != 0 {
        return Err(format!(
            "base64 embedding has {} bytes, not a multiple of 4",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn vector<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<f32>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of numbers or a base64 string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<f32>, E> {
            decode_base64_embedding(v).map_err(E::custom)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f32>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(256));
            while let Some(x) = seq.next_element::<f64>()? {
                out.push(x as f32);
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<f32>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Vec<f32>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_vectors() {
        assert_eq!(
            decode_base64_embedding("zczMPc3MTD4=").unwrap(),
            vec![0.1f32, 0.2]
        );
        assert_eq!(
            decode_base64_embedding("AAAAP5qZGT8=").unwrap(),
            vec![0.5f32, 0.6]
        );
        assert!(decode_base64_embedding("AAA=").is_err());
        assert!(decode_base64_embedding("not base64!").is_err());
    }

    #[test]
    fn response_with_floats_and_base64() {
        let r: EmbeddingResponse = serde_json::from_value(json!({
            "object":"list","model":"m","usage":{"prompt_tokens":3,"total_tokens":3},
            "data":[{"object":"embedding","index":1,"embedding":"mpmZPs3MzD4="},
                    {"object":"embedding","index":0,"embedding":[0.5, -1, 2e-3]}]
        }))
        .unwrap();
        let mut r = r;
        r.check_against(&EmbeddingInput::from(vec!["a", "b"]))
            .unwrap();
        assert_eq!(r.data[0].embedding, vec![0.5f32, -1.0, 0.002]);
        assert_eq!(r.data[1].embedding, vec![0.3f32, 0.4]);
    }

    #[test]
    fn input_shapes_serialize() {
        for (input, v) in [
            (EmbeddingInput::from("a"), json!("a")),
            (EmbeddingInput::from(vec!["a", "b"]), json!(["a", "b"])),
            (EmbeddingInput::from(vec![1u32, 2]), json!([1, 2])),
            (
                EmbeddingInput::from(vec![vec![1u32], vec![2, 3]]),
                json!([[1], [2, 3]]),
            ),
        ] {
            assert_eq!(serde_json::to_value(&input).unwrap(), v);
            let back: EmbeddingInput = serde_json::from_value(v).unwrap();
            assert_eq!(back, input);
        }
    }
}
