//! Costs, a ledger, a budget and a quota, offline on the built-in `mock` provider.
//!
//! 1. Every answer carries its cost (`resp.meta.cost`), from the crate's price table.
//! 2. A ledger keeps totals per user, key, tag, model, deployment and provider.
//! 3. A daily budget with a per-call reserve refuses calls exactly at its limit, even when
//!    they run concurrently; a quota refuses calls over its rpm with a wait hint.
//!
//! ```sh
//! cargo run --example cost_and_budget
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use litellm::accounting::cost_per_token;
use litellm::prelude::*;

#[tokio::main]
async fn main() -> litellm::Result<()> {
    // 1. Prices: what one call costs, and where the price comes from.
    let usage = Usage::new(12_000, 800);
    let (input, output) = cost_per_token("gpt-4o-mini", &usage).expect("a listed model");
    println!("== gpt-4o-mini, 12,000 in + 800 out: ${input:.6} + ${output:.6}");
    let price = PriceTable::global()
        .get("anthropic/claude-sonnet-4-5")
        .expect("a listed model");
    println!(
        "== claude-sonnet-4-5 lists ${:.2}/M input, ${:.2}/M output, context {:?} tokens",
        price.input_cost_per_token * 1e6,
        price.output_cost_per_token * 1e6,
        price.max_input_tokens
    );

    // 2. A ledger with a budget for alice and a quota for team-a's key.
    let ledger = Arc::new(
        Ledger::new()
            // $0.10 a day for alice; each call holds $0.02 while it runs.
            .budget(Budget::new(Scope::User("alice".into()), 0.10, Period::Daily).reserve(0.02))
            // 5 calls a minute for the key "team-a".
            .quota(Quota::new(Scope::Key("team-a".into())).rpm(5)),
    );
    let client = Client::builder().no_env().ledger(ledger.clone()).build()?;

    // gpt-4o-mini at 60,000 in + 18,333 out ≈ $0.02 a call.
    let call = |user: &str, key: &str| {
        ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Summarise this")])
            .metadata(Metadata::new().user(user).key(key).tag("example"))
            .mock_response(
                MockResponse::text("A summary.")
                    .usage(Usage::new(60_000, 18_333))
                    // so that concurrent calls really overlap
                    .delay(Duration::from_millis(20)),
            )
    };
    let resp = client.chat(call("bob", "team-b")).await?;
    println!(
        "\n== one call: {} tokens, cost ${:.6}",
        resp.usage.as_ref().map_or(0, |u| u.total_tokens),
        resp.meta.cost.unwrap_or_default()
    );

    // 3. Twenty concurrent calls for alice: the budget admits exactly five.
    let results =
        futures::future::join_all((0..20).map(|_| client.chat(call("alice", "team-c")))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| e.kind() == ErrorKind::BudgetExceeded)
        .count();
    println!("\n== 20 concurrent calls for alice: {ok} ran, {refused} refused (BudgetExceeded)");
    for b in ledger.budgets_status() {
        let resets_in = b
            .resets_at
            .and_then(|t| t.duration_since(SystemTime::now()).ok())
            .map(|d| d.as_secs() / 60);
        println!(
            "   budget {:?}: spent ${:.4}, left ${:.4}, starts over in {} min",
            b.budget.scope,
            b.spent,
            b.remaining,
            resets_in.unwrap_or_default()
        );
    }

    // 4. The quota: the sixth call of key team-a this minute is refused with a wait hint.
    for i in 1..=6 {
        match client.chat(call("carol", "team-a")).await {
            Ok(_) => println!("== team-a call {i}: ok"),
            Err(e) => println!(
                "== team-a call {i}: {} (retry in {:?})",
                e.kind(),
                e.retry_after().unwrap_or_default()
            ),
        }
    }

    // 5. Totals, queryable and exportable.
    println!("\n== spend per user:");
    for (user, t) in ledger.totals(Dimension::User) {
        println!(
            "   {user:6} {} calls, {} in, {} out, ${:.4}",
            t.requests, t.input_tokens, t.output_tokens, t.spend
        );
    }
    println!(
        "\n== as JSON: {}",
        serde_json::to_string(&ledger.export_json()["totals"]["tag"]).unwrap_or_default()
    );
    Ok(())
}
