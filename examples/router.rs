//! The router, offline: weighted routing, retries onto a healthy deployment, a fallback group.
//!
//! ```sh
//! cargo run --example router
//! ```

use std::collections::BTreeMap;

use litellm::prelude::*;

#[tokio::main]
async fn main() -> litellm::Result<()> {
    let router = Router::builder()
        // Two healthy deployments of "gpt-4o", weighted 3:1.
        .deployment(
            Deployment::new("gpt-4o", "mock/gpt-4o-east")
                .id("east")
                .weight(3.0),
        )
        .deployment(
            Deployment::new("gpt-4o", "mock/gpt-4o-west")
                .id("west")
                .weight(1.0),
        )
        // A group whose only deployment is rate limited, falling back to "gpt-4o".
        .deployment(
            Deployment::new("o3", "mock/o3")
                .id("o3-busy")
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .fallbacks(Fallbacks::new().fallback("o3", ["gpt-4o"]))
        .num_retries(2)
        .retry_after(std::time::Duration::ZERO)
        .seed(42)
        .build()?;

    // 1. Weighted routing.
    let mut by_deployment = BTreeMap::new();
    for _ in 0..400 {
        let resp = router
            .completion("gpt-4o", vec![Message::user("Hi")])
            .await?;
        *by_deployment
            .entry(resp.meta.deployment_id.unwrap_or_default())
            .or_insert(0) += 1;
    }
    println!("== weighted routing (3:1) over 400 calls: {by_deployment:?}");

    // 2. Retries: "east" starts failing with 503s; calls still succeed, on "west".
    router.update_deployment(
        Deployment::new("gpt-4o", "mock/gpt-4o-east")
            .id("east")
            .weight(3.0)
            .mock_response(MockResponse::error(ErrorKind::ServiceUnavailable)),
    )?;
    let resp = router
        .completion("gpt-4o", vec![Message::user("Hi")])
        .await?;
    println!(
        "== with east failing: answered by {:?} after {} attempt(s)",
        resp.meta.deployment_id, resp.meta.attempts
    );

    // 3. Fallback: "o3" is rate limited, so the call moves to "gpt-4o".
    let resp = router.completion("o3", vec![Message::user("Hi")]).await?;
    println!(
        "== o3 rate limited: answered by group {:?} (fallbacks {:?}, {} attempts)",
        resp.meta.model_group, resp.meta.fallbacks, resp.meta.attempts
    );

    println!("\n== health");
    for h in router.health() {
        println!(
            "{:8} {:7} ok/failed {}/{} cooling {}",
            h.id,
            h.model_name,
            h.successes,
            h.failures,
            if h.cooling_until.is_some() {
                "yes"
            } else {
                "no"
            }
        );
    }
    Ok(())
}
