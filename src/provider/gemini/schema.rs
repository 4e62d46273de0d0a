//! JSON Schema → Gemini's `Schema` (an OpenAPI 3.0 subset), for function parameters and
//! `responseSchema`.
//!
//! Kept: `type` (upper-cased: `OBJECT`, `STRING`, …), `format` (only the ones Gemini takes:
//! `enum`/`date-time` on strings, `float`/`double` on numbers, `int32`/`int64` on integers),
//! `title`, `description`, `nullable`, `enum` (strings), `properties`, `required`,
//! `propertyOrdering`, `items`, `anyOf`, `minItems`/`maxItems`/`minLength`/`maxLength`/
//! `minProperties`/`maxProperties` (sent as int64 strings), `minimum`/`maximum`, `pattern`,
//! `example`, `default`.
//!
//! Translated: `$ref` into `$defs`/`definitions` is inlined (cycles cut at a depth of 32, and
//! the whole expansion bounded at [`MAX_NODES`] schema nodes: a small schema whose definitions
//! refer to themselves from several places would otherwise expand exponentially; past the
//! bound the request is a `BadRequest`);
//! `allOf` is merged; `oneOf` becomes `anyOf`; `type: ["string","null"]` and `anyOf` with a
//! `{"type":"null"}` branch become `nullable: true`; `const` becomes a one-value `enum`;
//! `examples` becomes `example`; an enum on a non-string type is dropped and its values are
//! listed in the description; a missing `type` is inferred from `properties` (OBJECT), `items`
//! (ARRAY) or `enum` (STRING).
//!
//! Stripped (Gemini rejects them): `$schema`, `$id`, `$defs`, `definitions`,
//! `additionalProperties`, `unevaluatedProperties`, `patternProperties`, `strict`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `uniqueItems`, `contains`, `not`,
//! `if`/`then`/`else`, `dependentRequired`, `dependentSchemas`, and any other keyword.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// Deepest nesting (and `$ref` expansion) converted; deeper schemas become `{}`.
const MAX_DEPTH: usize = 32;

/// Most schema nodes one conversion may produce, `$ref` expansions included. Real tool schemas
/// have tens to a few thousand; a self-referring definition used from several properties
/// reaches millions within the depth bound.
pub(crate) const MAX_NODES: usize = 50_000;

/// The definitions `$ref` points into, and what is left of the node budget.
struct Cx<'a> {
    defs: &'a Map<String, Value>,
    budget: usize,
}

impl Cx<'_> {
    fn spend(&mut self) -> Result<()> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            Error::bad_request(format!(
                "a JSON schema expands to more than {MAX_NODES} nodes once its $refs are \
                 inlined (Gemini takes no $ref); simplify the schema or cut its recursion"
            ))
        })?;
        Ok(())
    }
}

/// Converts a JSON Schema to Gemini's schema subset (see the module docs). A schema whose
/// `$ref` expansion passes [`MAX_NODES`] nodes is a `BadRequest`.
#[cfg(test)]
pub(crate) fn to_gemini_schema(schema: &Value) -> Result<Value> {
    to_gemini_schema_within(schema, &mut { MAX_NODES })
}

/// [`to_gemini_schema`] drawing on a node budget shared by every schema of one request (so
/// many tools cannot multiply the bound).
pub(crate) fn to_gemini_schema_within(schema: &Value, budget: &mut usize) -> Result<Value> {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .or_else(|| schema.get("definitions").and_then(Value::as_object))
        .unwrap_or(&empty);
    let mut cx = Cx {
        defs,
        budget: *budget,
    };
    let out = convert(schema, &mut cx, 0);
    *budget = cx.budget;
    out
}

fn convert(v: &Value, cx: &mut Cx<'_>, depth: usize) -> Result<Value> {
    let Some(obj) = v.as_object() else {
        return Ok(json!({}));
    };
    if depth > MAX_DEPTH {
        return Ok(json!({}));
    }
    cx.spend()?;
    let defs = cx.defs;
    // `$ref`: inline the definition, with the sibling keywords on top.
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        let mut merged = match defs.get(name) {
            Some(Value::Object(d)) => d.clone(),
            _ => Map::new(),
        };
        for (k, val) in obj {
            if k != "$ref" {
                merged.insert(k.clone(), val.clone());
            }
        }
        return convert(&Value::Object(merged), cx, depth + 1);
    }
    // `allOf`: merge every branch into this schema.
    if let Some(Value::Array(all)) = obj.get("allOf") {
        let mut merged: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| *k != "allOf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for branch in all {
            cx.spend()?;
            let b = resolve(branch, defs, depth);
            merge_into(&mut merged, &b);
        }
        return convert(&Value::Object(merged), cx, depth + 1);
    }

    let mut out = Map::new();
    let mut nullable = obj.get("nullable") == Some(&Value::Bool(true));

    // type
    let mut ty: Option<String> = None;
    let mut multi: Vec<String> = Vec::new();
    match obj.get("type") {
        Some(Value::String(s)) if s == "null" => nullable = true,
        Some(Value::String(s)) => ty = Some(s.to_ascii_uppercase()),
        Some(Value::Array(types)) => {
            for t in types.iter().filter_map(Value::as_str) {
                if t == "null" {
                    nullable = true;
                } else {
                    multi.push(t.to_ascii_uppercase());
                }
            }
            if multi.len() == 1 {
                ty = multi.pop();
            }
        }
        _ => {}
    }

    // anyOf / oneOf
    let alternatives = obj
        .get("anyOf")
        .or_else(|| obj.get("oneOf"))
        .and_then(Value::as_array);
    if let Some(alts) = alternatives {
        let mut kept = Vec::new();
        for a in alts {
            let is_null = a.get("type").and_then(Value::as_str) == Some("null");
            if is_null {
                nullable = true;
            } else {
                kept.push(convert(a, cx, depth + 1)?);
            }
        }
        if kept.len() == 1 {
            // `anyOf: [X, null]` is X, nullable.
            if let Some(Value::Object(single)) = kept.pop() {
                for (k, val) in single {
                    out.entry(k).or_insert(val);
                }
            }
        } else if !kept.is_empty() {
            out.insert("anyOf".into(), Value::Array(kept));
        }
    } else if multi.len() > 1 {
        out.insert(
            "anyOf".into(),
            Value::Array(multi.iter().map(|t| json!({ "type": t })).collect()),
        );
    }

    // enum / const
    let mut enum_values: Option<Vec<Value>> = match (obj.get("enum"), obj.get("const")) {
        (Some(Value::Array(e)), _) => Some(e.clone()),
        (_, Some(c)) => Some(vec![c.clone()]),
        _ => None,
    };
    if let Some(values) = &mut enum_values
        && values.iter().any(Value::is_null)
    {
        nullable = true;
        values.retain(|v| !v.is_null());
    }

    if ty.is_none() && !out.contains_key("type") && !out.contains_key("anyOf") {
        ty = if obj.contains_key("properties") {
            Some("OBJECT".into())
        } else if obj.contains_key("items") {
            Some("ARRAY".into())
        } else if enum_values.is_some() {
            Some("STRING".into())
        } else {
            None
        };
    }
    if let Some(t) = &ty {
        out.insert("type".into(), json!(t));
    }
    let effective = out
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_default();

    let mut description = obj
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(values) = enum_values {
        let all_strings = values.iter().all(Value::is_string);
        if (effective == "STRING" || effective.is_empty()) && all_strings {
            out.insert("enum".into(), Value::Array(values));
        } else if !values.is_empty() {
            // Gemini's enum is for strings only: keep the allowed values in the description.
            let list: Vec<String> = values.iter().map(Value::to_string).collect();
            let note = format!("One of: {}.", list.join(", "));
            description = Some(match description {
                Some(d) if !d.is_empty() => format!("{d} ({note})"),
                _ => note,
            });
        }
    }
    if let Some(d) = description {
        out.insert("description".into(), json!(d));
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }

    if let Some(Value::String(f)) = obj.get("format") {
        let ok = match effective.as_str() {
            "STRING" => matches!(f.as_str(), "enum" | "date-time"),
            "NUMBER" => matches!(f.as_str(), "float" | "double"),
            "INTEGER" => matches!(f.as_str(), "int32" | "int64"),
            _ => false,
        };
        if ok {
            out.insert("format".into(), json!(f));
        }
    }
    if let Some(Value::String(t)) = obj.get("title") {
        out.insert("title".into(), json!(t));
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        let converted = props
            .iter()
            .map(|(k, p)| Ok((k.clone(), convert(p, cx, depth + 1)?)))
            .collect::<Result<Map<String, Value>>>()?;
        if let Some(Value::Array(req)) = obj.get("required") {
            let req: Vec<&Value> = req
                .iter()
                .filter(|r| r.as_str().is_some_and(|n| converted.contains_key(n)))
                .collect();
            if !req.is_empty() {
                out.insert("required".into(), json!(req));
            }
        }
        if let Some(Value::Array(order)) = obj.get("propertyOrdering") {
            out.insert("propertyOrdering".into(), Value::Array(order.clone()));
        }
        out.insert("properties".into(), Value::Object(converted));
    }
    match obj.get("items") {
        Some(items @ Value::Object(_)) => {
            out.insert("items".into(), convert(items, cx, depth + 1)?);
        }
        Some(Value::Array(tuple)) if !tuple.is_empty() => {
            out.insert("items".into(), convert(&tuple[0], cx, depth + 1)?);
        }
        _ => {}
    }
    for key in [
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
    ] {
        if let Some(n) = obj.get(key).and_then(as_count) {
            // int64 fields travel as decimal strings in Google's JSON mapping.
            out.insert(key.into(), json!(n.to_string()));
        }
    }
    for key in ["minimum", "maximum"] {
        if let Some(n @ Value::Number(_)) = obj.get(key) {
            out.insert(key.into(), n.clone());
        }
    }
    if let Some(Value::String(p)) = obj.get("pattern") {
        out.insert("pattern".into(), json!(p));
    }
    if let Some(d) = obj.get("default") {
        out.insert("default".into(), d.clone());
    }
    match (obj.get("example"), obj.get("examples")) {
        (Some(e), _) => {
            out.insert("example".into(), e.clone());
        }
        (None, Some(Value::Array(ex))) if !ex.is_empty() => {
            out.insert("example".into(), ex[0].clone());
        }
        _ => {}
    }
    Ok(Value::Object(out))
}

/// A branch of `allOf` with its `$ref` resolved (not converted yet).
fn resolve(v: &Value, defs: &Map<String, Value>, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return json!({});
    }
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or(r);
            match defs.get(name) {
                Some(d) => resolve(d, defs, depth + 1),
                None => json!({}),
            }
        }
        None => v.clone(),
    }
}

/// Merges `b` into `a`: properties and required lists are unions, other keys keep `a`'s value.
fn merge_into(a: &mut Map<String, Value>, b: &Value) {
    let Some(b) = b.as_object() else { return };
    for (k, v) in b {
        match (k.as_str(), a.get_mut(k), v) {
            ("properties", Some(Value::Object(pa)), Value::Object(pb)) => {
                for (pk, pv) in pb {
                    pa.entry(pk.clone()).or_insert_with(|| pv.clone());
                }
            }
            ("required", Some(Value::Array(ra)), Value::Array(rb)) => {
                for r in rb {
                    if !ra.contains(r) {
                        ra.push(r.clone());
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, _) => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

fn as_count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_and_uppercases() {
        let s = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "title": "Args",
            "additionalProperties": false,
            "properties": {
                "city": {"type": "string", "description": "City", "format": "email", "minLength": 1},
                "when": {"type": "string", "format": "date-time"},
                "count": {"type": "integer", "minimum": 1, "exclusiveMaximum": 10, "format": "int32"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3, "uniqueItems": true},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "kind": {"const": "fixed"}
            },
            "required": ["city", "ghost"],
            "strict": true
        });
        assert_eq!(
            to_gemini_schema(&s).unwrap(),
            json!({
                "type": "OBJECT",
                "title": "Args",
                "properties": {
                    "city": {"type": "STRING", "description": "City", "minLength": "1"},
                    "when": {"type": "STRING", "format": "date-time"},
                    "count": {"type": "INTEGER", "minimum": 1, "format": "int32"},
                    "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": "3"},
                    "unit": {"type": "STRING", "enum": ["c", "f"]},
                    "kind": {"type": "STRING", "enum": ["fixed"]}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn nullable_forms_and_unions() {
        let s = json!({"type": "object", "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "B"},
            "c": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "d": {"type": ["string", "number"]},
            "e": {"type": "integer", "enum": [1, 2, null]}
        }});
        let g = to_gemini_schema(&s).unwrap();
        assert_eq!(
            g["properties"]["a"],
            json!({"type": "STRING", "nullable": true})
        );
        assert_eq!(
            g["properties"]["b"],
            json!({"type": "INTEGER", "description": "B", "nullable": true})
        );
        assert_eq!(
            g["properties"]["c"],
            json!({"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]})
        );
        assert_eq!(
            g["properties"]["d"],
            json!({"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]})
        );
        assert_eq!(
            g["properties"]["e"],
            json!({"type": "INTEGER", "description": "One of: 1, 2.", "nullable": true})
        );
    }

    #[test]
    fn refs_all_of_and_cycles() {
        let s = json!({
            "type": "object",
            "$defs": {
                "Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
                "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
            },
            "properties": {
                "p": {"$ref": "#/$defs/Point", "description": "A point"},
                "q": {"allOf": [{"$ref": "#/$defs/Point"}, {"properties": {"y": {"type": "number"}}, "required": ["y"]}]},
                "n": {"$ref": "#/$defs/Node"}
            }
        });
        let g = to_gemini_schema(&s).unwrap();
        assert!(g.get("$defs").is_none());
        assert_eq!(
            g["properties"]["p"],
            json!({"type": "OBJECT", "description": "A point", "properties": {"x": {"type": "NUMBER"}}, "required": ["x"]})
        );
        assert_eq!(g["properties"]["q"]["required"], json!(["x", "y"]));
        assert_eq!(g["properties"]["q"]["type"], "OBJECT");
        // the cycle is cut, not followed forever
        let mut depth = 0;
        let mut cur = &g["properties"]["n"];
        while let Some(next) = cur.get("properties").and_then(|p| p.get("next")) {
            cur = next;
            depth += 1;
        }
        assert!(depth > 3 && depth <= MAX_DEPTH);
        // non-objects
        assert_eq!(to_gemini_schema(&json!(true)).unwrap(), json!({}));
        assert_eq!(
            to_gemini_schema(&json!({"items": [{"type": "string"}], "examples": ["a"]})).unwrap(),
            json!({"type": "ARRAY", "items": {"type": "STRING"}, "example": "a"})
        );
    }
}
