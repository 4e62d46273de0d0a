//! Tolerant decoding helpers: vendors send `null`, negative or fractional numbers and odd
//! shapes where the OpenAI spec says otherwise; none of that may fail a whole response.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// `null` (or absent, with `#[serde(default)]`) becomes `T::default()`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token count")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.max(0) as u64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // `as` saturates and maps NaN to 0.
        Ok(Some(if v > 0.0 { v as u64 } else { 0 }))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim()
            .parse::<f64>()
            .ok()
            .map(|f| if f > 0.0 { f as u64 } else { 0 }))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(CountVisitor)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

/// A non-negative count: negative numbers become 0, huge ones saturate, fractions truncate,
/// `null` and other shapes become 0.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(d.deserialize_any(CountVisitor)?.unwrap_or(0))
}

/// Like [`count`], keeping `null`/absent as `None`.
pub(crate) fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(CountVisitor)
}

/// A small index (choice or tool-call index), clamped to `u32`.
pub(crate) fn index<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(count(d)?.min(u32::MAX as u64) as u32)
}

/// Like [`index`], keeping `null`/absent as `None`.
pub(crate) fn opt_index<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(opt_count(d)?.map(|v| v.min(u32::MAX as u64) as u32))
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a unix timestamp")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        Ok(v.min(i64::MAX as u64) as i64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        Ok(v as i64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        Ok(v.trim().parse::<f64>().map(|f| f as i64).unwrap_or(0))
    }
    fn visit_none<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }
    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

/// A unix timestamp that tolerates floats, strings and `null` (→ 0).
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(TimestampVisitor)
}

/// A string that may arrive as `null`, a number or (for tool arguments) any JSON value, which is
/// kept as its compact JSON text.
pub(crate) fn stringish<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_stringish(d)?.unwrap_or_default())
}

/// Like [`stringish`], keeping `null`/absent as `None`.
pub(crate) fn opt_stringish<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(StringishVisitor { join_parts: false })
}

/// [`opt_stringish`]'s visitor: a string is taken as it is (no `Value` in between, this is on
/// every response's path); anything else becomes its compact JSON text, except that with
/// `join_parts` ([`opt_text`]) a list keeps only the joined `text` of its `type: "text"` parts.
struct StringishVisitor {
    join_parts: bool,
}

impl<'de> Visitor<'de> for StringishVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json's own number text (`1.0`, not `1`).
        Ok(Some(serde_json::Value::from(v).to_string()))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Some(match (&v, self.join_parts) {
            (serde_json::Value::Array(parts), true) => parts
                .iter()
                .filter(|p| p.get("type").and_then(|t| t.as_str()) == Some("text"))
                .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
                .collect(),
            _ => v.to_string(),
        }))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(v.to_string()))
    }
}

/// Text that vendors may send as a string, `null`, or a list of content parts (Mistral's
/// reasoning models): the `text` of `type: "text"` parts is joined; other parts are skipped.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(StringishVisitor { join_parts: true })
}

/// A map of fields this crate does not model, kept as JSON.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Declares an enum of well-known string values that keeps unknown values verbatim in `Other`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $s:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $s,)*
                    $name::Other(s) => s.as_str(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($s => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($s => $name::$variant,)*
                    _ => $name::Other(s),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        Ok($name::Other(v.to_string()))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        Ok($name::Other(v.to_string()))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$name, E> {
                        Ok($name::Other(v.to_string()))
                    }
                    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<$name, E> {
                        Ok($name::Other(v.to_string()))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$name, A::Error> {
                        let v = <serde_json::Value as serde::Deserialize>::deserialize(
                            serde::de::value::MapAccessDeserializer::new(map),
                        )?;
                        Ok($name::Other(v.to_string()))
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<$name, A::Error> {
                        let v = <serde_json::Value as serde::Deserialize>::deserialize(
                            serde::de::value::SeqAccessDeserializer::new(seq),
                        )?;
                        Ok($name::Other(v.to_string()))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct C {
        #[serde(deserialize_with = "count", default)]
        n: u64,
        #[serde(deserialize_with = "opt_count", default)]
        o: Option<u64>,
        #[serde(deserialize_with = "timestamp", default)]
        t: i64,
    }

    fn c(json: &str) -> C {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn counts_never_fail() {
        assert_eq!(c(r#"{"n":5}"#).n, 5);
        assert_eq!(c(r#"{"n":-2147483648}"#).n, 0);
        assert_eq!(c(r#"{"n":1e300}"#).n, u64::MAX);
        assert_eq!(c(r#"{"n":18446744073709551615}"#).n, u64::MAX);
        assert_eq!(c(r#"{"n":3.9}"#).n, 3);
        assert_eq!(c(r#"{"n":null}"#).n, 0);
        assert_eq!(c(r#"{"n":"12"}"#).n, 12);
        assert_eq!(c(r#"{"n":[1]}"#).n, 0);
        assert_eq!(c(r#"{}"#).n, 0);
        assert_eq!(c(r#"{"o":null}"#).o, None);
        assert_eq!(c(r#"{"o":-1}"#).o, Some(0));
        assert_eq!(c(r#"{"t":-5}"#).t, -5);
        assert_eq!(c(r#"{"t":1.7e9}"#).t, 1_700_000_000);
        assert_eq!(c(r#"{"t":1e40}"#).t, i64::MAX);
    }

    #[derive(Deserialize)]
    struct S {
        #[serde(deserialize_with = "opt_stringish", default)]
        s: Option<String>,
    }

    #[test]
    fn stringish_keeps_strings_and_writes_anything_else_as_json() {
        let cases: [(&str, Option<&str>); 11] = [
            (r#"{"s":"fp_1"}"#, Some("fp_1")),
            (r#"{"s":"a\"b\u00e9"}"#, Some("a\"bé")),
            (r#"{"s":null}"#, None),
            (r#"{}"#, None),
            (r#"{"s":7}"#, Some("7")),
            (r#"{"s":-7}"#, Some("-7")),
            (r#"{"s":1.0}"#, Some("1.0")),
            (r#"{"s":2.5e-3}"#, Some("0.0025")),
            (r#"{"s":true}"#, Some("true")),
            (r#"{"s":[1,{"a":null}]}"#, Some(r#"[1,{"a":null}]"#)),
            (r#"{"s":{"b":[],"a":"x"}}"#, Some(r#"{"a":"x","b":[]}"#)),
        ];
        for (json, want) in cases {
            // From text, and from an already parsed value (the path of buffered input).
            let direct: S = serde_json::from_str(json).unwrap();
            assert_eq!(direct.s.as_deref(), want, "{json}");
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let via_value: S = serde_json::from_value(value).unwrap();
            assert_eq!(via_value.s.as_deref(), want, "{json} via Value");
        }
    }

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "opt_text", default)]
        t: Option<String>,
    }

    #[test]
    fn text_joins_text_parts_and_is_stringish_otherwise() {
        let cases: [(&str, Option<&str>); 7] = [
            (r#"{"t":"hi"}"#, Some("hi")),
            (r#"{"t":null}"#, None),
            (r#"{}"#, None),
            (
                r#"{"t":[{"type":"thinking","thinking":"x"},{"type":"text","text":"a"},{"type":"text","text":"b"},5]}"#,
                Some("ab"),
            ),
            (r#"{"t":[]}"#, Some("")),
            (r#"{"t":3}"#, Some("3")),
            (r#"{"t":{"a":1}}"#, Some(r#"{"a":1}"#)),
        ];
        for (json, want) in cases {
            let direct: T = serde_json::from_str(json).unwrap();
            assert_eq!(direct.t.as_deref(), want, "{json}");
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let via_value: T = serde_json::from_value(value).unwrap();
            assert_eq!(via_value.t.as_deref(), want, "{json} via Value");
        }
    }
}
