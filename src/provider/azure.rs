//! Azure OpenAI: OpenAI's bodies at Azure's URLs, authenticated with an `api-key` header.
//!
//! The model id is the **deployment name** (`"azure/my-gpt4o-deployment"`). Two URL shapes:
//!
//! - the dated API: `{base}/openai/deployments/{deployment}/chat/completions?api-version={v}`,
//!   used when `api_version` is a date such as `2024-10-21` (the default);
//! - the v1 API: `{base}/openai/v1/chat/completions`, used when `api_version` is `v1`,
//!   `latest` or `preview` (the last sent as `?api-version=preview`), or when the base URL
//!   already ends with `/openai/v1`.
//!
//! Key: `AZURE_API_KEY` (or `AZURE_OPENAI_API_KEY`); base: `AZURE_API_BASE` (or
//! `AZURE_OPENAI_ENDPOINT`); version: `AZURE_API_VERSION` (or `OPENAI_API_VERSION`). For
//! Microsoft Entra ID, send `Authorization: Bearer <token>` as an extra header instead of a key.
//! Content-filter refusals (`code: content_filter`, `innererror.code:
//! ResponsibleAIPolicyViolation`) are `ContentPolicyViolation` errors.

use async_trait::async_trait;

use super::compat::Quirks;
use super::http::{self, Auth};
use super::{CallContext, Credentials, Provider, openai};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingRequest, EmbeddingResponse,
    TextCompletionRequest, TextCompletionResponse,
};

/// The `api-version` used when none is configured (the latest GA data-plane version).
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The Azure OpenAI provider (prefix `azure`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Azure;

/// The URL of an Azure OpenAI operation (`path` is `chat/completions`, `embeddings`, …).
pub(crate) fn azure_url(
    base: &str,
    deployment: &str,
    api_version: &str,
    path: &str,
) -> Result<String> {
    if deployment.is_empty()
        || deployment == "."
        || deployment == ".."
        || deployment.contains(['/', '?', '#', '\\', '%'])
        || deployment
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::bad_request(format!(
            "invalid Azure deployment name {deployment:?}"
        )));
    }
    let (base, query) = match base.split_once('?') {
        Some((b, q)) => (b.trim_end_matches('/'), Some(q)),
        None => (base.trim_end_matches('/'), None),
    };
    let root = base.strip_suffix("/openai").unwrap_or(base);
    let (url, version) = if base.ends_with("/openai/v1") {
        (format!("{base}/{path}"), None)
    } else {
        match api_version {
            "v1" | "latest" => (format!("{root}/openai/v1/{path}"), None),
            "preview" => (format!("{root}/openai/v1/{path}"), Some("preview")),
            version if base.contains("/openai/deployments/") => {
                (format!("{base}/{path}"), Some(version))
            }
            version => (
                format!("{root}/openai/deployments/{deployment}/{path}"),
                Some(version),
            ),
        }
    };
    let url = match query {
        Some(q) => format!("{url}?{q}"),
        None => url,
    };
    Ok(match version {
        Some(v) => http::add_query(&url, "api-version", v),
        None => url,
    })
}

impl Azure {
    fn url(cx: &CallContext, path: &str) -> Result<String> {
        let base = cx.require_api_base()?;
        let version = cx.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
        azure_url(base, &cx.model, version, path)
    }

    fn auth<'a>(cx: &'a CallContext) -> Result<Auth<'a>> {
        match &cx.api_key {
            Some(k) if !k.is_empty() => Ok(Auth::Header("api-key", k.expose())),
            _ if cx.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("authorization")) => Ok(Auth::None),
            _ => Err(Error::new(
                ErrorKind::Authentication,
                "no API key for provider 'azure': set AZURE_API_KEY or pass an Authorization header",
            )
            .with_provider("azure")
            .with_model(cx.model.clone())),
        }
    }
}

#[async_trait]
impl Provider for Azure {
    fn name(&self) -> &str {
        "azure"
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            api_version_env: &["AZURE_API_VERSION", "OPENAI_API_VERSION"],
            requires_api_base: true,
            ..Credentials::new(
                &["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"],
                &["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"],
                None,
            )
        }
    }

    async fn chat(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let auth = Self::auth(cx)?;
        let url = Self::url(cx, "chat/completions")?;
        openai::chat(cx, url, auth, &cx.model, &Quirks::NONE, req).await
    }

    async fn chat_stream(&self, req: &ChatRequest, cx: &CallContext) -> Result<ChatStream> {
        let auth = Self::auth(cx)?;
        let url = Self::url(cx, "chat/completions")?;
        openai::chat_stream(cx, url, auth, &cx.model, &Quirks::NONE, req).await
    }

    async fn embed(&self, req: &EmbeddingRequest, cx: &CallContext) -> Result<EmbeddingResponse> {
        let auth = Self::auth(cx)?;
        let url = Self::url(cx, "embeddings")?;
        openai::embed(cx, url, auth, &cx.model, req).await
    }

    async fn text_completion(
        &self,
        req: &TextCompletionRequest,
        cx: &CallContext,
    ) -> Result<TextCompletionResponse> {
        let auth = Self::auth(cx)?;
        let url = Self::url(cx, "completions")?;
        openai::text_completion(cx, url, auth, &cx.model, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_shapes() {
        let u = |b: &str, v: &str| azure_url(b, "dep", v, "embeddings").unwrap();
        assert_eq!(
            u("https://r.openai.azure.com/openai", "2024-10-21"),
            "https://r.openai.azure.com/openai/deployments/dep/embeddings?api-version=2024-10-21"
        );
        assert_eq!(
            u("https://r.openai.azure.com/openai/v1/", "2024-10-21"),
            "https://r.openai.azure.com/openai/v1/embeddings"
        );
        assert_eq!(
            u("https://r.openai.azure.com", "latest"),
            "https://r.openai.azure.com/openai/v1/embeddings"
        );
        assert_eq!(
            u("https://r.openai.azure.com", "preview"),
            "https://r.openai.azure.com/openai/v1/embeddings?api-version=preview"
        );
        assert_eq!(
            u(
                "https://r.openai.azure.com/openai/deployments/other",
                "2025-01-01"
            ),
            "https://r.openai.azure.com/openai/deployments/other/embeddings?api-version=2025-01-01"
        );
        assert!(azure_url("https://r", "a/b", "v1", "x").is_err());
        assert_eq!(
            u("https://apim.example.com/?subscription-key=s", "2024-10-21"),
            "https://apim.example.com/openai/deployments/dep/embeddings?subscription-key=s&api-version=2024-10-21"
        );
    }
}

#[cfg(test)]
mod helper_examples {
    #[test]
    fn azure_url() {
        use crate::provider::azure::azure_url;
        assert_eq!(
            azure_url(
                "https://res.openai.azure.com/",
                "gpt4o",
                "2024-10-21",
                "chat/completions"
            )
            .unwrap(),
            "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            azure_url(
                "https://res.openai.azure.com",
                "gpt4o",
                "v1",
                "chat/completions"
            )
            .unwrap(),
            "https://res.openai.azure.com/openai/v1/chat/completions"
        );
    }
}
