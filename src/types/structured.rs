//! Structured output: reading a JSON answer into your own type ([`ChatResponse::parse_json`],
//! [`Choice::parse_json`]) and, with the `schemars` feature, building OpenAI's strict
//! `json_schema` response format from that type (`ResponseFormat::json_schema_for`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> litellm::Result<()> {
//! use litellm::{ChatRequest, Message, ResponseFormat};
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! #[derive(Debug, Deserialize)]
//! struct City {
//!     name: String,
//!     population: u64,
//! }
//!
//! let schema = json!({
//!     "type": "object",
//!     "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
//!     "required": ["name", "population"],
//!     "additionalProperties": false
//! });
//! let req = ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("The largest city in Japan?")])
//!     .response_format(ResponseFormat::json_schema("City", schema, true))
//!     // offline: the mock answers as a chatty model might, in a fenced block
//!     .mock_response("```json\n{\"name\": \"Tokyo\", \"population\": 37400000}\n```");
//! let city: City = litellm::chat(req).await?.parse_json()?;
//! assert_eq!(city.name, "Tokyo");
//! # Ok(()) }
//! ```

use serde::de::DeserializeOwned;

use super::chat::{ChatResponse, Choice, Content, FinishReason};
#[cfg(feature = "schemars")]
use super::chat::{JsonSchemaFormat, ResponseFormat};
use crate::error::{Error, ErrorKind, MAX_ERROR_BODY, Result};

impl ChatResponse {
    /// Parses the first choice's text as JSON into `T` (see [`Choice::parse_json`] for what
    /// is tolerated around the JSON and for the errors).
    ///
    /// A response without any choice is `InvalidResponse`. Errors carry the response's
    /// model, and its provider and request id when the call recorded them.
    ///
    /// ```
    /// use litellm::{ChatResponse, ErrorKind};
    /// use std::collections::BTreeMap;
    ///
    /// let resp = ChatResponse::from_text("my-model", "```json\n{\"a\": 1, \"b\": 2}\n```");
    /// let map: BTreeMap<String, u32> = resp.parse_json()?;
    /// assert_eq!(map["b"], 2);
    ///
    /// let err = resp.parse_json::<Vec<u32>>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    /// assert_eq!(err.model(), Some("my-model"));
    /// # Ok::<(), litellm::Error>(())
    /// ```
    pub fn parse_json<T: DeserializeOwned>(&self) -> Result<T> {
        let parsed = match self.choices.first() {
            Some(choice) => choice.parse_json(),
            None => Err(Error::new(
                ErrorKind::InvalidResponse,
                "no JSON to parse: the response has no choices",
            )),
        };
        parsed.map_err(|mut err| {
            let d = err.details_mut();
            if d.model.is_none() && !self.model.is_empty() {
                d.model = Some(self.model.clone());
            }
            if d.provider.is_none() && !self.meta.provider.is_empty() {
                d.provider = Some(self.meta.provider.clone());
            }
            if d.request_id.is_none() {
                d.request_id.clone_from(&self.meta.request_id);
            }
            err
        })
    }
}

impl Choice {
    /// Parses this choice's text as JSON into `T`.
    ///
    /// What is tolerated around the JSON, and nothing else:
    ///
    /// - whitespace before and after it;
    /// - a leading `<think>…</think>` block (reasoning that some models and servers put in the
    ///   content), which is skipped;
    /// - a Markdown code fence: when a line of the text starts with three backticks
    ///   (optionally indented, optionally followed by an info string such as `json`), the JSON
    ///   is read from the lines after the first such line up to the next line starting with
    ///   three backticks, or to the end of the text. Text before and after the fence is
    ///   ignored. (A line of valid JSON never starts with backticks, so this cannot misread a
    ///   bare JSON answer.)
    ///
    /// There is no repair: prose around bare (unfenced) JSON, a one-line fence, `~~~`
    /// fences, comments, trailing commas, single quotes and truncated JSON are errors. When
    /// the text has several parts, the text parts are joined.
    ///
    /// Errors:
    ///
    /// - the model refused (`message.refusal`, OpenAI structured outputs):
    ///   `ContentPolicyViolation` with code `"refusal"` and the refusal as the message;
    /// - no text (only tool calls, an empty answer): `InvalidResponse`, or
    ///   `ContentPolicyViolation` when the finish reason is `content_filter`;
    /// - text that is not valid JSON, or JSON of another shape than `T`: `InvalidResponse`,
    ///   whose message says which (with the line and column), notes a `length` or
    ///   `content_filter` finish reason (the likely cause of truncated JSON), and whose
    ///   [`source`](std::error::Error::source) is the `serde_json::Error`; the text
    ///   (truncated to 8 KiB) is kept in [`ErrorDetails::body`](crate::ErrorDetails::body).
    pub fn parse_json<T: DeserializeOwned>(&self) -> Result<T> {
        let message = &self.message;
        if let Some(refusal) = message.refusal.as_deref()
            && !refusal.trim().is_empty()
        {
            let mut err = Error::new(
                ErrorKind::ContentPolicyViolation,
                format!("the model refused to answer: {refusal}"),
            );
            err.details_mut().code = Some("refusal".to_owned());
            return Err(err);
        }
        let text = match &message.content {
            Some(Content::Text(s)) => std::borrow::Cow::Borrowed(s.as_str()),
            Some(content) => std::borrow::Cow::Owned(content.to_text()),
            None => std::borrow::Cow::Borrowed(""),
        };
        if text.trim().is_empty() {
            return Err(self.no_text());
        }
        let json = json_text(&text);
        serde_json::from_str(json).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Data => "JSON does not match the expected type",
                _ => "text is not valid JSON",
            };
            // The serde error (what and where) is the `source()`, not repeated here.
            let mut msg = format!("the answer's {what}");
            match &self.finish_reason {
                Some(FinishReason::Length) => msg.push_str(
                    " (the answer was cut off at the token limit, finish_reason: length; \
                     raise max_tokens)",
                ),
                Some(FinishReason::ContentFilter) => msg.push_str(
                    " (the answer was stopped by a content filter, finish_reason: content_filter)",
                ),
                _ => {}
            }
            let mut err = Error::new(ErrorKind::InvalidResponse, msg).with_source(e);
            err.details_mut().body = Some(truncated(&text, MAX_ERROR_BODY).to_owned());
            err
        })
    }

    /// The error for a choice without text.
    fn no_text(&self) -> Error {
        let calls = self.message.tool_calls.as_deref().unwrap_or_default();
        let (kind, why) = if !calls.is_empty() {
            let names: Vec<&str> = calls.iter().map(|c| c.function.name.as_str()).collect();
            (
                ErrorKind::InvalidResponse,
                format!(
                    "the model called tools instead ({}); answer the tool calls, or set \
                     tool_choice \"none\"",
                    names.join(", ")
                ),
            )
        } else {
            match &self.finish_reason {
                Some(FinishReason::ContentFilter) => (
                    ErrorKind::ContentPolicyViolation,
                    "the answer was stopped by a content filter (finish_reason: content_filter)"
                        .to_owned(),
                ),
                Some(FinishReason::Length) => (
                    ErrorKind::InvalidResponse,
                    "the answer is empty: the token limit was hit (finish_reason: length)"
                        .to_owned(),
                ),
                _ => (
                    ErrorKind::InvalidResponse,
                    "the answer has no text".to_owned(),
                ),
            }
        };
        Error::new(kind, format!("no JSON to parse: {why}"))
    }
}

/// The part of a model's answer that holds the JSON: the text without surrounding
/// whitespace or a leading `<think>…</think>` block, or the content of its first Markdown code
/// fence (see [`Choice::parse_json`]).
pub(crate) fn json_text(text: &str) -> &str {
    let mut t = text.trim_start();
    if let Some(rest) = t.strip_prefix("<think>")
        && let Some(end) = rest.find("</think>")
    {
        t = &rest[end + "</think>".len()..];
    }
    let mut offset = 0;
    for line in t.split_inclusive('\n') {
        offset += line.len();
        if line.trim_start().starts_with("```") {
            let body = &t[offset..];
            let mut end = 0;
            for inner in body.split_inclusive('\n') {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                end += inner.len();
            }
            return body[..end].trim();
        }
    }
    t.trim()
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn truncated(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(feature = "schemars")]
impl ResponseFormat {
    /// OpenAI's strict structured-output format for `T`:
    /// `{"type": "json_schema", "json_schema": {"name", "description", "schema", "strict": true}}`,
    /// from `T`'s `schemars::JsonSchema` implementation (the schema of what `T` deserializes
    /// from). Pair it with [`ChatResponse::parse_json`]. Needs the `schemars` feature, and
    /// `schemars = "1"` in your own `Cargo.toml` for the derive.
    ///
    /// - `name` is the schema's title (the type's name unless `#[schemars(title = …)]` or
    ///   `rename` says otherwise) with every character outside `[a-zA-Z0-9_-]` replaced by
    ///   `_`, cut to 64 characters (`"response"` if nothing is left);
    /// - `description` is the type's doc comment (also kept in the schema);
    /// - the schema is made to meet strict mode's rules: every object has
    ///   `additionalProperties: false` and lists all its properties in `required` (a field
    ///   that is `Option<_>` accepts `null`, so "optional" fields stay possible, as OpenAI
    ///   recommends; a field with `#[serde(default)]` becomes required); `oneOf` (schemars'
    ///   form of enums) becomes `anyOf` (the same for enums, whose variants never overlap);
    ///   a `$ref` with sibling keywords (a documented field of a struct type) is inlined; a
    ///   one-element `allOf` is merged; `$schema`, the root `title`, `default`,
    ///   `uniqueItems` and `format`s OpenAI does not know (`uint32`, `double`, …) are
    ///   removed.
    ///
    /// OpenAI's models write the properties in the schema's order, which is the fields'
    /// order only when `serde_json`'s `preserve_order` feature is on in your build (add
    /// `serde_json = { version = "1", features = ["preserve_order"] }` to your `Cargo.toml`);
    /// without it, properties are in alphabetical order. That matters when one field should
    /// be written before another (a `reasoning` field before the `answer`).
    ///
    /// What strict mode cannot express is left as generated, and OpenAI will reject it:
    /// a root that is not an object (an enum, a `Vec`, a primitive: wrap it in a struct),
    /// maps (`HashMap`, `BTreeMap`: free-form keys), `serde_json::Value` fields (any JSON),
    /// and `#[serde(flatten)]` of a map. Other vendors receive the same schema, translated
    /// by their provider.
    ///
    /// ```
    /// use litellm::ResponseFormat;
    ///
    /// /// A city and how many people live there.
    /// #[derive(schemars::JsonSchema, serde::Deserialize)]
    /// struct City {
    ///     name: String,
    ///     population: u64,
    ///     /// Also known as.
    ///     nickname: Option<String>,
    /// }
    ///
    /// let format = ResponseFormat::json_schema_for::<City>();
    /// let ResponseFormat::JsonSchema { json_schema } = &format else { unreachable!() };
    /// assert_eq!(json_schema.name, "City");
    /// assert_eq!(json_schema.strict, Some(true));
    /// let schema = json_schema.schema.as_ref().unwrap();
    /// assert_eq!(schema["additionalProperties"], false);
    /// assert_eq!(schema["required"].as_array().unwrap().len(), 3); // nickname too
    /// assert_eq!(schema["properties"]["nickname"]["type"], serde_json::json!(["string", "null"]));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
    pub fn json_schema_for<T: schemars::JsonSchema + ?Sized>() -> Self {
        let mut schema = schemars::generate::SchemaSettings::draft2020_12()
            .with(|s| s.meta_schema = None)
            .into_generator()
            .into_root_schema_for::<T>()
            .to_value();
        let title = schema
            .as_object_mut()
            .and_then(|o| o.remove("title"))
            .and_then(|t| t.as_str().map(str::to_owned));
        let name = schema_name(title.as_deref().unwrap_or_default());
        let description = schema
            .get("description")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        strict_schema(&mut schema);
        ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name,
                description,
                schema: Some(schema),
                strict: Some(true),
            },
        }
    }
}

/// A `json_schema` name as OpenAI accepts it: `[a-zA-Z0-9_-]{1,64}`.
#[cfg(any(test, feature = "schemars"))]
pub(crate) fn schema_name(title: &str) -> String {
    let name: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "response".to_owned()
    } else {
        name
    }
}

/// String formats OpenAI's strict mode knows.
#[cfg(any(test, feature = "schemars"))]
const OPENAI_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Deepest schema nesting rewritten (deeper subschemas are left as they are).
#[cfg(any(test, feature = "schemars"))]
const MAX_SCHEMA_DEPTH: usize = 64;

/// Rewrites a JSON Schema in place to meet OpenAI's strict structured-output rules (see
/// `ResponseFormat::json_schema_for`).
#[cfg(any(test, feature = "schemars"))]
pub(crate) fn strict_schema(schema: &mut serde_json::Value) {
    if let Some(o) = schema.as_object_mut() {
        o.remove("$schema");
    }
    let root = schema.clone();
    let mut inlining = Vec::new();
    strict_node(schema, &root, &mut inlining, 0);
}

#[cfg(any(test, feature = "schemars"))]
fn strict_node(
    node: &mut serde_json::Value,
    root: &serde_json::Value,
    inlining: &mut Vec<String>,
    depth: usize,
) {
    use serde_json::Value;
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    // A one-element `allOf`: merged (the keywords beside it win).
    if let Some(Value::Array(all)) = obj.get("allOf")
        && all.len() == 1
        && let Some(Value::Object(only)) = all.first().cloned()
    {
        obj.remove("allOf");
        for (k, v) in only {
            obj.entry(k).or_insert(v);
        }
    }
    // `$ref` next to other keywords (a field's description): inline the definition (the
    // keywords beside the `$ref` win), unless it is a definition being inlined already (a
    // recursive type), which keeps its bare `$ref`.
    let mut inlined = None;
    if obj.len() > 1
        && let Some(Value::String(reference)) = obj.get("$ref")
    {
        let reference = reference.clone();
        obj.remove("$ref");
        let target = reference
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .and_then(Value::as_object);
        match target {
            Some(target) if !inlining.contains(&reference) => {
                for (k, v) in target {
                    if !matches!(k.as_str(), "$defs" | "definitions" | "$schema" | "title") {
                        obj.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                inlining.push(reference);
                inlined = Some(());
            }
            _ => {
                obj.clear();
                obj.insert("$ref".to_owned(), Value::String(reference));
            }
        }
    }
    if !obj.contains_key("anyOf")
        && let Some(one_of) = obj.remove("oneOf")
    {
        obj.insert("anyOf".to_owned(), one_of);
    }
    obj.remove("default");
    obj.remove("uniqueItems");
    if let Some(Value::String(format)) = obj.get("format")
        && !OPENAI_FORMATS.contains(&format.as_str())
    {
        obj.remove("format");
    }
    let is_object = match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if let Some(Value::Object(props)) = obj.get("properties") {
        let required: Vec<Value> = props.keys().cloned().map(Value::String).collect();
        obj.insert("required".to_owned(), Value::Array(required));
    }
    if (is_object || obj.contains_key("properties")) && !obj.contains_key("additionalProperties") {
        obj.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    for (key, child) in obj.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                for sub in map.values_mut() {
                    strict_node(sub, root, inlining, depth + 1);
                }
            }
            ("anyOf" | "allOf" | "prefixItems", Value::Array(list)) => {
                for sub in list {
                    strict_node(sub, root, inlining, depth + 1);
                }
            }
            ("items" | "additionalProperties" | "not", sub @ Value::Object(_)) => {
                strict_node(sub, root, inlining, depth + 1);
            }
            _ => {}
        }
    }
    if inlined.is_some() {
        inlining.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn json_text_tolerates_whitespace_fences_and_think_blocks() {
        for (text, want) in [
            ("  {\"a\":1}\n", "{\"a\":1}"),
            ("```json\n{\"a\":1}\n```", "{\"a\":1}"),
            ("```\n[1, 2]\n```\n", "[1, 2]"),
            (
                "Here it is:\n\n  ```JSON\n{\"a\":\n 1}\n  ```\nEnjoy!",
                "{\"a\":\n 1}",
            ),
            ("```json\n{\"a\":1", "{\"a\":1"),
            ("<think>hmm, {x}</think>\n```json\n{}\n```", "{}"),
            ("<think>hmm</think>{\"a\":1}", "{\"a\":1}"),
            (
                "<think>never closed {\"a\":1}",
                "<think>never closed {\"a\":1}",
            ),
            ("```", ""),
            ("", ""),
            ("{\"s\": \"a ``` inside\"}", "{\"s\": \"a ``` inside\"}"),
        ] {
            assert_eq!(json_text(text), want, "{text:?}");
        }
    }

    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(truncated("héllo", 2), "h");
        assert_eq!(truncated("héllo", 3), "hé");
        assert_eq!(truncated("abc", 10), "abc");
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(schema_name("Recipe"), "Recipe");
        assert_eq!(schema_name("Page<Recipe> v2.1"), "Page_Recipe__v2_1");
        assert_eq!(schema_name("ünï-côdé_1"), "_n_-c_d__1");
        assert_eq!(schema_name(""), "response");
        assert_eq!(schema_name(&"x".repeat(100)).len(), 64);
    }

    /// Asserts OpenAI's strict rules on every object of `schema`.
    fn assert_strict(schema: &Value) {
        match schema {
            Value::Object(o) => {
                assert!(!o.contains_key("oneOf"), "oneOf in {o:?}");
                assert!(!o.contains_key("default"), "default in {o:?}");
                assert!(
                    !(o.contains_key("$ref") && o.len() > 1),
                    "$ref with siblings in {o:?}"
                );
                if let Some(Value::Object(props)) = o.get("properties") {
                    assert_eq!(o.get("additionalProperties"), Some(&json!(false)), "{o:?}");
                    let required: Vec<&str> = o["required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    let keys: Vec<&str> = props.keys().map(String::as_str).collect();
                    assert_eq!(required, keys);
                }
                o.values().for_each(assert_strict);
            }
            Value::Array(a) => a.iter().for_each(assert_strict),
            _ => {}
        }
    }

    #[test]
    fn strict_schema_rewrites() {
        let mut s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "n": {"type": "integer", "format": "uint32", "minimum": 0},
                "when": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                "kind": {"oneOf": [{"const": "a"}, {"const": "b"}], "default": "a"},
                "inner": {"$ref": "#/$defs/Inner", "description": "the inner one"},
                "bare": {"$ref": "#/$defs/Inner"},
                "wrapped": {"allOf": [{"$ref": "#/$defs/Inner"}], "description": "x"},
                "maybe": {"type": ["object", "null"], "properties": {"x": {"type": "number", "format": "double"}}}
            },
            "required": ["n"],
            "$defs": {
                "Inner": {"type": "object", "description": "Inner", "properties": {"v": {"type": "boolean", "default": false}}}
            }
        });
        strict_schema(&mut s);
        assert_strict(&s);
        assert!(s.get("$schema").is_none());
        assert!(s["properties"]["n"].get("format").is_none());
        assert_eq!(s["properties"]["n"]["minimum"], 0);
        assert_eq!(s["properties"]["when"]["format"], "date-time");
        assert!(s["properties"]["tags"].get("uniqueItems").is_none());
        assert_eq!(
            s["properties"]["kind"]["anyOf"],
            json!([{"const": "a"}, {"const": "b"}])
        );
        assert_eq!(
            s["properties"]["inner"],
            json!({"type": "object", "description": "the inner one",
                   "properties": {"v": {"type": "boolean"}}, "required": ["v"],
                   "additionalProperties": false})
        );
        assert_eq!(s["properties"]["bare"], json!({"$ref": "#/$defs/Inner"}));
        assert_eq!(s["properties"]["wrapped"]["description"], "x");
        assert_eq!(s["properties"]["wrapped"]["required"], json!(["v"]));
        assert_eq!(s["properties"]["maybe"]["additionalProperties"], false);
        assert_eq!(s["$defs"]["Inner"]["additionalProperties"], false);
    }

    #[test]
    fn recursive_refs_with_siblings_terminate() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "children": {"type": "array", "items": {"$ref": "#", "description": "child"}},
                "next": {"$ref": "#/$defs/Node", "description": "next"}
            },
            "$defs": {"Node": {"type": "object", "properties": {
                "next": {"$ref": "#/$defs/Node", "description": "again"}}}}
        });
        strict_schema(&mut s);
        assert_strict(&s);
        // a definition is inlined once; the reference inside it stays bare
        assert_eq!(
            s["properties"]["next"]["properties"]["next"],
            json!({"$ref": "#/$defs/Node"})
        );
    }

    #[test]
    fn odd_schemas_do_not_panic() {
        for mut s in [
            json!(true),
            json!(null),
            json!([1, 2]),
            json!({"$ref": 3, "x": 1}),
            json!({"$ref": "#/nowhere", "description": "d"}),
            json!({"$ref": "http://elsewhere", "description": "d"}),
            json!({"allOf": [1]}),
            json!({"properties": 1, "items": [true]}),
        ] {
            strict_schema(&mut s);
        }
        // very deep nesting stops rewriting instead of overflowing the stack
        let mut deep = json!({"type": "string"});
        for _ in 0..100 {
            deep = json!({"type": "array", "items": deep});
        }
        strict_schema(&mut deep);
    }
}
