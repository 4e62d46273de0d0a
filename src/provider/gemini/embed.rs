//! Embeddings: Gemini `embedContent` / `batchEmbedContents`, Vertex AI `predict` (pure).

use serde_json::{Map, Value, json};

use super::response::usage_from;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::CallContext;
use crate::provider::error_map::error_from_json;
use crate::types::{Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage};

/// The texts of an embeddings request (token inputs are `BadRequest`: Google embeds text).
pub(crate) fn texts(req: &EmbeddingRequest) -> Result<Vec<&str>> {
    let texts = req
        .input
        .texts()
        .ok_or_else(|| Error::bad_request("Gemini and Vertex AI embed text, not token arrays"))?;
    if texts.is_empty() {
        return Err(Error::bad_request("nothing to embed: the input is empty"));
    }
    Ok(texts)
}

/// `task_type`/`taskType` and `title` from `extra_body`, and the other extra fields.
fn extras(req: &EmbeddingRequest) -> (Option<&Value>, Option<&Value>, Map<String, Value>) {
    let mut task = None;
    let mut title = None;
    let mut rest = Map::new();
    for (k, v) in &req.extra_body {
        match k.as_str() {
            "task_type" | "taskType" => task = Some(v),
            "title" => title = Some(v),
            _ => {
                rest.insert(k.clone(), v.clone());
            }
        }
    }
    (task, title, rest)
}

fn check_params(req: &EmbeddingRequest, cx: &CallContext) -> Result<()> {
    if req.user.is_some() {
        cx.unsupported_param("user")?;
    }
    Ok(())
}

/// The `models/…` resource name of a model id.
pub(crate) fn resource_name(model: &str) -> String {
    if model.contains('/') {
        model.to_owned()
    } else {
        format!("models/{model}")
    }
}

/// The Gemini embeddings body: `(method, body)`, `embedContent` for one text,
/// `batchEmbedContents` (each request naming `models/{model}`) for several. `dimensions` →
/// `outputDimensionality`; `extra_body` `task_type`/`taskType` → `taskType`, `title` →
/// `title`, any other key is added to each request as is.
pub(crate) fn gemini_embed_body(
    req: &EmbeddingRequest,
    cx: &CallContext,
) -> Result<(&'static str, Value)> {
    check_params(req, cx)?;
    let texts = texts(req)?;
    let (task, title, rest) = extras(req);
    let one = |text: &str, with_model: bool| {
        let mut m = Map::new();
        if with_model {
            m.insert("model".into(), json!(resource_name(&cx.model)));
        }
        m.insert("content".into(), json!({"parts": [{ "text": text }]}));
        if let Some(d) = req.dimensions {
            m.insert("outputDimensionality".into(), json!(d));
        }
        if let Some(t) = task {
            m.insert("taskType".into(), t.clone());
        }
        if let Some(t) = title {
            m.insert("title".into(), t.clone());
        }
        for (k, v) in &rest {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    };
    if let [single] = texts.as_slice() {
        return Ok(("embedContent", one(single, false)));
    }
    let requests: Vec<Value> = texts.iter().map(|t| one(t, true)).collect();
    Ok(("batchEmbedContents", json!({ "requests": requests })))
}

/// The Vertex AI `predict` body: `{"instances": [{"content", "task_type"?, "title"?}],
/// "parameters": {"outputDimensionality"?, …}}`; `extra_body` keys other than the task type and
/// title go into `parameters` (e.g. `autoTruncate`).
pub(crate) fn vertex_embed_body(req: &EmbeddingRequest, cx: &CallContext) -> Result<Value> {
    check_params(req, cx)?;
    let texts = texts(req)?;
    let (task, title, rest) = extras(req);
    let instances: Vec<Value> = texts
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("content".into(), json!(t));
            if let Some(task) = task {
                m.insert("task_type".into(), task.clone());
            }
            if let Some(title) = title {
                m.insert("title".into(), title.clone());
            }
            Value::Object(m)
        })
        .collect();
    let mut params = rest;
    if let Some(d) = req.dimensions {
        params.insert("outputDimensionality".into(), json!(d));
    }
    let mut body = Map::new();
    body.insert("instances".into(), Value::Array(instances));
    if !params.is_empty() {
        body.insert("parameters".into(), Value::Object(params));
    }
    Ok(Value::Object(body))
}

fn values(v: Option<&Value>) -> Vec<f32> {
    v.and_then(|e| e.get("values"))
        .and_then(Value::as_array)
        .map(|vals| {
            vals.iter()
                .map(|x| x.as_f64().unwrap_or(0.0) as f32)
                .collect()
        })
        .unwrap_or_default()
}

fn response(vectors: Vec<Vec<f32>>, model: &str, prompt_tokens: u64) -> EmbeddingResponse {
    EmbeddingResponse {
        object: "list".into(),
        data: vectors
            .into_iter()
            .enumerate()
            .map(|(i, embedding)| Embedding {
                object: "embedding".into(),
                index: i as u32,
                embedding,
            })
            .collect(),
        model: model.to_owned(),
        usage: EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
        ..Default::default()
    }
}

fn missing(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("the embeddings answer has no `{what}`"),
    )
}

/// A Gemini embeddings answer (`{"embedding": …}` or `{"embeddings": […]}`) → OpenAI's shape.
pub(crate) fn gemini_embed_response(v: &Value, model: &str) -> Result<EmbeddingResponse> {
    if let Some(err) = error_from_json(v) {
        return Err(err);
    }
    let vectors = if let Some(Value::Array(list)) = v.get("embeddings") {
        list.iter().map(|e| values(Some(e))).collect()
    } else if let Some(e) = v.get("embedding").filter(|e| e.is_object()) {
        vec![values(Some(e))]
    } else {
        return Err(missing("embedding"));
    };
    let tokens = v
        .get("usageMetadata")
        .and_then(usage_from)
        .map_or(0, |u| u.prompt_tokens);
    Ok(response(vectors, model, tokens))
}

/// A Vertex AI `predict` answer (`{"predictions": [{"embeddings": {"values", "statistics":
/// {"token_count"}}}]}`) → OpenAI's shape, usage summed from the token counts.
pub(crate) fn vertex_embed_response(v: &Value, model: &str) -> Result<EmbeddingResponse> {
    if let Some(err) = error_from_json(v) {
        return Err(err);
    }
    let Some(Value::Array(preds)) = v.get("predictions") else {
        return Err(missing("predictions"));
    };
    let mut tokens: u64 = 0;
    let vectors = preds
        .iter()
        .map(|p| {
            let e = p.get("embeddings");
            if let Some(n) = e
                .and_then(|e| e.get("statistics"))
                .and_then(|s| s.get("token_count"))
                .and_then(Value::as_f64)
                .filter(|n| *n > 0.0)
            {
                tokens = tokens.saturating_add(n as u64);
            }
            values(e)
        })
        .collect();
    Ok(response(vectors, model, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> CallContext {
        CallContext::new(reqwest::Client::new(), "gemini", "gemini-embedding-001")
    }

    #[test]
    fn gemini_bodies() {
        let req = EmbeddingRequest::new("gemini/gemini-embedding-001", "hello")
            .dimensions(256)
            .extra_body(json!({"task_type": "RETRIEVAL_QUERY"}));
        let (method, body) = gemini_embed_body(&req, &cx()).unwrap();
        assert_eq!(method, "embedContent");
        assert_eq!(
            body,
            json!({"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 256, "taskType": "RETRIEVAL_QUERY"})
        );
        let req = EmbeddingRequest::new("x", vec!["a", "b"]).extra_body(json!({"title": "T"}));
        let (method, body) = gemini_embed_body(&req, &cx()).unwrap();
        assert_eq!(method, "batchEmbedContents");
        assert_eq!(
            body,
            json!({"requests": [
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}, "title": "T"},
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}, "title": "T"}
            ]})
        );
        assert!(gemini_embed_body(&EmbeddingRequest::new("x", vec![1u32, 2]), &cx()).is_err());
        assert!(
            gemini_embed_body(&EmbeddingRequest::new("x", Vec::<String>::new()), &cx()).is_err()
        );
        let e = gemini_embed_body(&EmbeddingRequest::new("x", "a").user("u"), &cx()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn vertex_body() {
        let req = EmbeddingRequest::new("x", vec!["a", "b"])
            .dimensions(64)
            .extra_body(json!({"taskType": "CLUSTERING", "autoTruncate": false}));
        assert_eq!(
            vertex_embed_body(&req, &cx()).unwrap(),
            json!({"instances": [{"content": "a", "task_type": "CLUSTERING"}, {"content": "b", "task_type": "CLUSTERING"}],
                "parameters": {"autoTruncate": false, "outputDimensionality": 64}})
        );
    }

    #[test]
    fn responses() {
        let r = gemini_embed_response(&json!({"embedding": {"values": [0.5, -1, 1e300]}}), "m")
            .unwrap();
        assert_eq!(r.data.len(), 1);
        assert_eq!(r.data[0].embedding[..2], [0.5f32, -1.0]);
        assert_eq!(r.object, "list");
        let r = gemini_embed_response(
            &json!({"embeddings": [{"values": [1]}, {"values": [2], "shape": [-5]}], "usageMetadata": {"promptTokenCount": -2147483648}}),
            "m",
        )
        .unwrap();
        assert_eq!(r.data[1].index, 1);
        assert_eq!(r.usage.prompt_tokens, 0);
        assert!(gemini_embed_response(&json!({}), "m").is_err());
        let r = vertex_embed_response(
            &json!({"predictions": [{"embeddings": {"values": [0.1], "statistics": {"token_count": 3, "truncated": false}}},
                {"embeddings": {"values": [0.2], "statistics": {"token_count": 4}}}]}),
            "m",
        )
        .unwrap();
        assert_eq!(r.usage.total_tokens, 7);
        assert_eq!(r.data[1].embedding, vec![0.2f32]);
        assert!(vertex_embed_response(&json!({"predictions": null}), "m").is_err());
    }
}
