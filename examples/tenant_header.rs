//! A layer that adds a per-tenant header to every call: the tenant comes from the call's
//! metadata (`metadata.values.tenant`), so one client serves every tenant and the vendor (or a
//! gateway in front of it) sees who each call is for.
//!
//! Runs offline: the `echo` provider registered below answers with the headers it was asked
//! to send, to show what would go on the wire.
//!
//! ```sh
//! cargo run --example tenant_header
//! ```

use litellm::layer::{Layer, Next, Request, Response};
use litellm::prelude::*;

/// Adds `x-tenant: <tenant>` to every call (and refuses calls without a tenant).
struct TenantHeader;

#[async_trait]
impl Layer for TenantHeader {
    async fn call(&self, mut request: Request, next: Next<'_>) -> Result<Response> {
        let Some(tenant) = request
            .options()
            .metadata
            .values
            .get("tenant")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
        else {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "every call needs metadata.values.tenant",
            ));
        };
        let options = request.options_mut();
        options
            .extra_headers
            .push(("x-tenant".into(), tenant.clone()));
        // Tag the call too, so spend and metrics can be read per tenant.
        options.metadata.tags.push(format!("tenant:{tenant}"));
        next.run(request).await
    }
}

/// Answers with the `x-tenant` header it was given.
struct Echo;

#[async_trait]
impl Provider for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    async fn chat(&self, _req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        let tenant = cx
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-tenant"))
            .map_or("(none)", |(_, value)| value.as_str());
        Ok(ChatResponse::from_text(
            cx.model.as_str(),
            format!("x-tenant: {tenant}"),
        ))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let client = Client::builder()
        .provider("echo", std::sync::Arc::new(Echo))
        .layer(TenantHeader)
        .build()?;
    for tenant in ["acme", "globex"] {
        let request = ChatRequest::new("echo/any", vec![Message::user("Hi")])
            .metadata(Metadata::new().value("tenant", tenant));
        let resp = client.chat(request).await?;
        println!("{tenant}: {}", resp.text().unwrap_or_default());
        assert_eq!(resp.text(), Some(format!("x-tenant: {tenant}").as_str()));
    }
    let refused = client
        .completion("echo/any", vec![Message::user("Hi")])
        .await
        .expect_err("no tenant");
    println!("without a tenant: {refused}");
    Ok(())
}
