//! Accounting: token counting, prices and costs, the ledger with budgets and quotas.
//!
//! - [`tokens`]: token counts with OpenAI's tokenizers.
//! - [`prices`]: the [`PriceTable`] shipped with the crate (and LiteLLM's JSON format).
//! - [`cost`]: what a call cost: [`completion_cost`], [`cost_per_token`], …
//! - [`ledger`]: totals per user, key, tag, model, deployment and provider; budgets and quotas.

pub mod cost;
pub(crate) mod estimate;
pub mod ledger;
pub mod prices;
pub mod tokens;

pub use cost::{
    Cost, completion_cost, cost_per_token, embedding_cost, format_usd, text_completion_cost,
};
pub use prices::{
    Mode, ModelPrice, OffPeakPrice, OffPeakWindow, PriceTable, Resolved, ServiceTierPrice,
    TierPrice,
};
pub use tokens::{count_text, prompt_tokens, token_counter};
