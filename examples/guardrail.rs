//! A guardrail as a user layer: prompts that match a pattern are refused before anything is
//! sent or charged, for every call type of a client or a router; the refusal is a typed error
//! (`ContentPolicyViolation`) and is observed like any other failed call.
//!
//! Runs offline on the `mock` provider.
//!
//! ```sh
//! cargo run --example guardrail
//! ```

use litellm::layer::{Layer, Next, Request, Response};
use litellm::prelude::*;
use litellm::router::Deployment;

/// Refuses any input that mentions one of `blocked` (case-insensitive).
struct Guardrail {
    blocked: Vec<String>,
}

#[async_trait]
impl Layer for Guardrail {
    async fn call(&self, request: Request, next: Next<'_>) -> Result<Response> {
        let text = request.prompt_text().to_lowercase();
        if let Some(word) = self.blocked.iter().find(|w| text.contains(w.as_str())) {
            return Err(Error::new(
                ErrorKind::ContentPolicyViolation,
                format!("the input mentions '{word}', which this service does not discuss"),
            ));
        }
        next.run(request).await
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let guardrail = Guardrail {
        blocked: vec!["project x".into(), "password".into()],
    };
    let router = Router::builder()
        .deployment(Deployment::new("assistant", "mock/gpt-4o-mini"))
        .layer(guardrail)
        .build()?;

    let ok = router
        .completion("assistant", vec![Message::user("What is Rust?")])
        .await?;
    println!("allowed: {}", ok.text().unwrap_or_default());

    let refused = router
        .completion(
            "assistant",
            vec![Message::user("What is the admin password?")],
        )
        .await
        .expect_err("the guardrail refuses it");
    assert_eq!(refused.kind(), ErrorKind::ContentPolicyViolation);
    println!("refused: {refused}");

    // Embeddings go through the same layer.
    let refused = router
        .embedding(
            "mock/text-embedding-3-small",
            vec!["hello", "Project X plans"],
        )
        .await
        .expect_err("refused too");
    println!("refused: {refused}");
    Ok(())
}
