//! The price table: USD per token for every model the crate knows, plus context-window sizes.
//!
//! The crate ships a table ([`PriceTable::global`]) written as a compact data file
//! (`src/accounting/prices.tsv`, embedded in the binary and parsed once, on first use; never
//! fetched from the network). It covers the chat, embedding and completion models of OpenAI,
//! Azure OpenAI, Anthropic, Google Gemini and Vertex AI, Cohere, Mistral, Groq, DeepSeek, xAI,
//! Together AI, Fireworks AI, Cerebras and AWS Bedrock, at the vendors' published list prices
//! (the same numbers as Python LiteLLM's community table, so both compute the same costs).
//!
//! Bring your own prices with [`PriceTable::insert`] / [`PriceTable::merge`], or read Python
//! LiteLLM's `model_prices_and_context_window.json` with [`PriceTable::from_litellm_json`].
//!
//! # Looking a model up
//!
//! [`PriceTable::get`] and [`PriceTable::resolve`] accept model strings the way users write
//! them. Matching is case-insensitive. In order:
//!
//! 1. The provider is the string's prefix when it names a priced provider (`openai/`,
//!    `azure/`, `bedrock/`, `vertex_ai/`, `gemini/`, …; LiteLLM's aliases such as
//!    `bedrock_converse/` or `cohere_chat/` count as their provider), else the provider
//!    passed in, else the one [`infer_provider`](crate::infer_provider) guesses from the name.
//!    Prefixes of providers without prices (`mock/`, `openrouter/`, `litellm_proxy/`,
//!    `hosted_vllm/`, …) are looked through: `openrouter/openai/gpt-4o` is priced as
//!    `openai/gpt-4o`.
//! 2. For each candidate name below, the table is asked for `provider/name` and then `name`;
//!    an entry found by `name` alone must belong to that provider (Azure's, Bedrock's and
//!    Vertex's prices differ from the vendor's own; Vertex matches Vertex's Claude and Gemini
//!    entries, Bedrock its Converse entries).
//! 3. Candidates, each tried only when the previous ones found nothing: the name as given;
//!    provider forms (Bedrock: without `converse/`/`invoke/`, a region segment
//!    `us-east-1/`, a provisioned-throughput suffix `:28k`, then without the cross-region
//!    prefix `us.`/`eu.`/`apac.`/`global.`/`jp.`/`au.`; Gemini/Vertex: without `models/`
//!    and without `@version`; Fireworks: `accounts/fireworks/models/name`); an OpenAI
//!    fine-tune `ft:base:org:suffix:id` as `ft:base`, then as its base model `base`;
//!    the name without a date or version suffix (`-2024-08-06`, `-20241022`, `@20241022`,
//!    `-09-2025`, `-001`); and last `name-latest`.
//! 4. When the provider was only guessed or is unknown, the same names are finally tried
//!    without the provider check.
//!
//! ```
//! use litellm::accounting::PriceTable;
//!
//! let t = PriceTable::global();
//! let p = t.get("openai/gpt-4o-2024-08-06").unwrap();
//! assert_eq!(p.input_cost_per_token, 2.5e-6);
//! assert_eq!(t.resolve("ft:gpt-4o-mini-2024-07-18:acme::abc123", None).unwrap().key, "ft:gpt-4o-mini-2024-07-18");
//! assert!(t.get("claude-3-5-sonnet-20241022").is_some());
//! assert!(t.get("bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0").is_some());
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::error::{Error, Result};

/// The shipped price data (see the header of the file for its format).
const BUILTIN_TSV: &str = include_str!("prices.tsv");

/// What a model does, which decides how its usage is priced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Chat completions.
    #[default]
    Chat,
    /// Embeddings (priced per input token).
    Embedding,
    /// Legacy text completions.
    Completion,
    /// Models served only through OpenAI's Responses API (priced like chat).
    Responses,
    /// Anything else (image generation, audio, rerank, …): priced per token when it has
    /// token prices.
    Other,
}

impl Mode {
    /// Reads LiteLLM's `mode` strings; unknown strings are [`Mode::Other`].
    pub fn parse(s: &str) -> Mode {
        match s.trim().to_ascii_lowercase().as_str() {
            "chat" => Mode::Chat,
            "embedding" | "embeddings" => Mode::Embedding,
            "completion" | "text_completion" => Mode::Completion,
            "responses" => Mode::Responses,
            _ => Mode::Other,
        }
    }

    /// `chat`, `embedding`, `completion`, `responses` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Embedding => "embedding",
            Mode::Completion => "completion",
            Mode::Responses => "responses",
            Mode::Other => "other",
        }
    }
}

/// Prices that apply when the prompt has more than `above_tokens` tokens (long-context
/// pricing: Gemini 2.5 Pro above 200k, GPT-5.4 above 272k, …). `None` keeps the price below
/// the threshold. The whole call is priced at these rates, as the vendors bill it.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct TierPrice {
    /// The threshold: these prices apply to prompts longer than this (xAI: this long or
    /// longer).
    pub above_tokens: u64,
    /// USD per input token.
    pub input_cost_per_token: Option<f64>,
    /// USD per output token.
    pub output_cost_per_token: Option<f64>,
    /// USD per cached input token.
    pub cache_read_input_token_cost: Option<f64>,
    /// USD per cache-write token.
    pub cache_creation_input_token_cost: Option<f64>,
}

impl TierPrice {
    /// Input and output prices above `above_tokens` prompt tokens.
    pub fn new(above_tokens: u64, input: f64, output: f64) -> TierPrice {
        TierPrice {
            above_tokens,
            input_cost_per_token: Some(input),
            output_cost_per_token: Some(output),
            ..Default::default()
        }
    }

    /// Sets the cached-input price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_cache_read(mut self, price: f64) -> TierPrice {
        self.cache_read_input_token_cost = Some(price);
        self
    }

    /// Sets the cache-write price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_cache_write(mut self, price: f64) -> TierPrice {
        self.cache_creation_input_token_cost = Some(price);
        self
    }

    fn is_empty(&self) -> bool {
        self.input_cost_per_token.is_none()
            && self.output_cost_per_token.is_none()
            && self.cache_read_input_token_cost.is_none()
            && self.cache_creation_input_token_cost.is_none()
    }
}

/// Prices of a service tier (OpenAI's and Gemini's `flex` and `priority`). `None` keeps the
/// standard price.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ServiceTierPrice {
    /// USD per input token.
    pub input_cost_per_token: Option<f64>,
    /// USD per output token.
    pub output_cost_per_token: Option<f64>,
    /// USD per cached input token.
    pub cache_read_input_token_cost: Option<f64>,
    /// USD per cache-write token.
    pub cache_creation_input_token_cost: Option<f64>,
    /// Long-context prices of this tier (a missing price falls back to the standard tier's
    /// price above the same threshold).
    pub tiers: Vec<TierPrice>,
}

impl ServiceTierPrice {
    /// Input and output prices of the tier.
    pub fn new(input: f64, output: f64) -> ServiceTierPrice {
        ServiceTierPrice {
            input_cost_per_token: Some(input),
            output_cost_per_token: Some(output),
            ..Default::default()
        }
    }

    /// Sets the cached-input price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_cache_read(mut self, price: f64) -> ServiceTierPrice {
        self.cache_read_input_token_cost = Some(price);
        self
    }
}

/// A vendor's off-peak prices (DeepSeek's night discount): they replace the standard prices
/// (long-context ones included) while one of the windows is open. `None` keeps the price.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct OffPeakPrice {
    /// USD per input token.
    pub input_cost_per_token: Option<f64>,
    /// USD per output token.
    pub output_cost_per_token: Option<f64>,
    /// USD per cached input token.
    pub cache_read_input_token_cost: Option<f64>,
    /// USD per cache-write token.
    pub cache_creation_input_token_cost: Option<f64>,
    /// When the prices apply (any window).
    pub windows: Vec<OffPeakWindow>,
}

/// A daily UTC time range, on some weekdays, when off-peak prices apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OffPeakWindow {
    /// Bit `d` set for ISO weekday `d` (1 = Monday … 7 = Sunday); 0 for every day.
    pub weekdays: u8,
    /// Start, minutes after midnight UTC (inclusive).
    pub start_minute: u16,
    /// End, minutes after midnight UTC (exclusive); before the start when the window wraps
    /// past midnight; equal to the start for the whole day.
    pub end_minute: u16,
}

impl OffPeakWindow {
    /// A window from `start_minute` to `end_minute` (UTC) on `weekdays` (a bit per ISO
    /// weekday, 0 for every day).
    pub fn new(weekdays: u8, start_minute: u16, end_minute: u16) -> OffPeakWindow {
        OffPeakWindow {
            weekdays,
            start_minute,
            end_minute,
        }
    }

    /// True at `at`.
    pub fn is_open(&self, at: std::time::SystemTime) -> bool {
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let days = secs / 86_400;
        let minute = ((secs % 86_400) / 60) as u16;
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = ((days + 3) % 7 + 1) as u8;
        if self.weekdays != 0 && self.weekdays & (1 << weekday) == 0 {
            return false;
        }
        let (s, e) = (self.start_minute, self.end_minute);
        if s < e {
            s <= minute && minute < e
        } else {
            minute >= s || minute < e
        }
    }
}

impl OffPeakPrice {
    /// True when a window is open at `at`.
    pub fn is_open(&self, at: std::time::SystemTime) -> bool {
        self.windows.iter().any(|w| w.is_open(at))
    }
}

/// The price of one model: USD per token of each kind, and its limits.
///
/// Missing cache prices mean the vendor bills those tokens as ordinary input (as Python
/// LiteLLM assumes); a missing reasoning or audio price means output (or input) price.
///
/// ```
/// use litellm::accounting::ModelPrice;
/// // A deployment's own prices (e.g. from `model_info.input_cost_per_token`):
/// let p = ModelPrice::new(1e-6, 2e-6).with_cache_read(0.1e-6).with_max_tokens(128_000, 8_192);
/// assert_eq!(p.cache_read_input_token_cost, Some(1e-7));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ModelPrice {
    /// The provider prefix the price belongs to (`"openai"`, `"azure"`, `"bedrock"`, …;
    /// empty for a price without one).
    pub provider: String,
    /// What the model does.
    pub mode: Mode,
    /// USD per input (prompt) token; for embedding models, per embedded token.
    pub input_cost_per_token: f64,
    /// USD per output (completion) token.
    pub output_cost_per_token: f64,
    /// USD per input token read from the vendor's prompt cache; `None`: the input price.
    pub cache_read_input_token_cost: Option<f64>,
    /// USD per input token written to the prompt cache (Anthropic's 5-minute cache
    /// creation); `None`: the input price.
    pub cache_creation_input_token_cost: Option<f64>,
    /// USD per token written to the cache with a 1-hour TTL; `None`: the 5-minute price.
    pub cache_creation_input_token_cost_1h: Option<f64>,
    /// USD per reasoning token; `None`: the output price.
    pub output_cost_per_reasoning_token: Option<f64>,
    /// USD per audio input token; `None`: the input price.
    pub input_cost_per_audio_token: Option<f64>,
    /// USD per audio output token; `None`: the output price.
    pub output_cost_per_audio_token: Option<f64>,
    /// USD per cached audio input token; `None`: the cached-input price.
    pub cache_read_input_audio_token_cost: Option<f64>,
    /// Largest prompt, in tokens.
    pub max_input_tokens: Option<u64>,
    /// Largest answer, in tokens.
    pub max_output_tokens: Option<u64>,
    /// Long-context prices, by threshold (ascending).
    pub tiers: Vec<TierPrice>,
    /// The `flex` service tier's prices.
    pub flex: Option<ServiceTierPrice>,
    /// The `priority` service tier's prices.
    pub priority: Option<ServiceTierPrice>,
    /// Off-peak prices (applied by [`ModelPrice::cost`] at the current time).
    pub off_peak: Option<OffPeakPrice>,
}

impl ModelPrice {
    /// A flat price: USD per input and per output token, every other kind of token at one
    /// of these two (the way Python LiteLLM prices a deployment's own `input_cost_per_token`
    /// and `output_cost_per_token`).
    pub fn new(input_cost_per_token: f64, output_cost_per_token: f64) -> ModelPrice {
        ModelPrice {
            input_cost_per_token,
            output_cost_per_token,
            ..Default::default()
        }
    }

    /// Sets the provider.
    #[must_use = "returns the changed price; use it"]
    pub fn with_provider(mut self, provider: impl Into<String>) -> ModelPrice {
        self.provider = provider.into();
        self
    }

    /// Sets the mode.
    #[must_use = "returns the changed price; use it"]
    pub fn with_mode(mut self, mode: Mode) -> ModelPrice {
        self.mode = mode;
        self
    }

    /// Sets the input price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_input(mut self, price: f64) -> ModelPrice {
        self.input_cost_per_token = price;
        self
    }

    /// Sets the output price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_output(mut self, price: f64) -> ModelPrice {
        self.output_cost_per_token = price;
        self
    }

    /// Sets the cached-input price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_cache_read(mut self, price: f64) -> ModelPrice {
        self.cache_read_input_token_cost = Some(price);
        self
    }

    /// Sets the cache-write price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_cache_write(mut self, price: f64) -> ModelPrice {
        self.cache_creation_input_token_cost = Some(price);
        self
    }

    /// Sets the reasoning-token price.
    #[must_use = "returns the changed price; use it"]
    pub fn with_reasoning(mut self, price: f64) -> ModelPrice {
        self.output_cost_per_reasoning_token = Some(price);
        self
    }

    /// Sets the context window and the answer limit.
    #[must_use = "returns the changed price; use it"]
    pub fn with_max_tokens(mut self, input: u64, output: u64) -> ModelPrice {
        self.max_input_tokens = Some(input);
        self.max_output_tokens = Some(output);
        self
    }

    /// Adds a long-context tier (kept sorted by threshold).
    #[must_use = "returns the changed price; use it"]
    pub fn with_tier(mut self, tier: TierPrice) -> ModelPrice {
        self.tiers.push(tier);
        self.tiers.sort_by_key(|t| t.above_tokens);
        self
    }

    /// Sets the `flex` or `priority` service tier's prices (other names are ignored).
    #[must_use = "returns the changed price; use it"]
    pub fn with_service_tier(mut self, name: &str, price: ServiceTierPrice) -> ModelPrice {
        match name {
            "flex" => self.flex = Some(price),
            "priority" => self.priority = Some(price),
            _ => {}
        }
        self
    }

    /// USD per embedded token (the input price).
    pub fn embedding_cost_per_token(&self) -> f64 {
        self.input_cost_per_token
    }

    /// The price of a typical call, 1,000 input and 1,000 output tokens: what cost-based
    /// routing compares.
    pub fn unit_cost(&self) -> f64 {
        self.input_cost_per_token * 1000.0 + self.output_cost_per_token * 1000.0
    }

    /// The service tier's prices for a response's `service_tier` (`flex`; `priority` or
    /// `fast`); `None` for the standard tier (`default`, `auto`, `standard`, unknown).
    /// Fireworks, DeepSeek and xAI calls are always priced at the standard tier (as Python
    /// LiteLLM prices them).
    pub fn service_tier(&self, name: Option<&str>) -> Option<&ServiceTierPrice> {
        if matches!(self.provider.as_str(), "fireworks_ai" | "deepseek" | "xai") {
            return None;
        }
        match name.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            Some("flex") => self.flex.as_ref(),
            Some("priority" | "fast") => self.priority.as_ref(),
            _ => None,
        }
    }
}

/// A model found in a [`PriceTable`]: the key it matched and its price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resolved<'a> {
    /// The table key that matched (lowercase).
    pub key: &'a str,
    /// The price.
    pub price: &'a ModelPrice,
}

/// Model prices by model string. Cheap to share behind an `Arc`; immutable once built unless
/// you own it.
///
/// ```
/// use litellm::accounting::{ModelPrice, PriceTable};
///
/// let mut t = PriceTable::builtin();
/// t.insert("my-org/finetuned-llama", ModelPrice::new(0.2e-6, 0.2e-6));
/// assert!(t.get("my-org/finetuned-llama").is_some());
/// assert!(t.len() > 1000);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PriceTable {
    entries: HashMap<String, ModelPrice>,
    providers: HashSet<String>,
}

/// A LiteLLM provider name as the crate's provider prefix (`bedrock_converse` → `bedrock`,
/// `vertex_ai-language-models` → `vertex_ai`, `cohere_chat` → `cohere`,
/// `text-completion-openai` → `openai`, …); other names are returned lowercased.
pub fn canonical_provider(name: &str) -> String {
    canon(name).into_owned()
}

/// [`canonical_provider`] without allocating for the common names.
fn canon(name: &str) -> Cow<'_, str> {
    let name = name.trim();
    let lower: Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    };
    let mapped = match lower.as_ref() {
        "text-completion-openai" | "openai" => "openai",
        "azure_text" | "azure" => "azure",
        "cohere_chat" | "cohere" => "cohere",
        "bedrock_converse" | "bedrock" => "bedrock",
        "vertex_ai_beta" | "vertex_ai" | "vertexai" => "vertex_ai",
        "together" | "together_ai" => "together_ai",
        "fireworks" | "fireworks_ai" => "fireworks_ai",
        "google" | "gemini" => "gemini",
        n if n.starts_with("vertex_ai-") => "vertex_ai",
        n if n.starts_with("fireworks_ai-") => "fireworks_ai",
        _ => return lower,
    };
    Cow::Borrowed(mapped)
}

/// Prefixes never priced themselves, looked through to the model behind them.
const LOOK_THROUGH: &[&str] = &[
    "mock",
    "openrouter",
    "litellm_proxy",
    "hosted_vllm",
    "openai_compatible",
    "github",
    "deepinfra",
    "nvidia_nim",
    "sambanova",
    "meta_llama",
    "lm_studio",
    "llamafile",
    "ollama",
    "ollama_chat",
    "huggingface",
    "perplexity",
];

const CROSS_REGION: &[&str] = &[
    "us.", "eu.", "apac.", "global.", "jp.", "au.", "us-gov.", "ca.",
];

impl PriceTable {
    /// An empty table.
    pub fn new() -> PriceTable {
        PriceTable::default()
    }

    /// The shared, process-wide table shipped with the crate, parsed on first use and never
    /// changed. Clone the `Arc` to hold it (`PriceTable::global().clone()`).
    pub fn global() -> &'static Arc<PriceTable> {
        static GLOBAL: OnceLock<Arc<PriceTable>> = OnceLock::new();
        GLOBAL.get_or_init(|| Arc::new(PriceTable::parse_builtin(BUILTIN_TSV).0))
    }

    /// An owned copy of the shipped table, to change (add your models, merge LiteLLM's JSON)
    /// and then share as an `Arc<PriceTable>`.
    pub fn builtin() -> PriceTable {
        PriceTable::global().as_ref().clone()
    }

    /// Parses text in the shipped format; returns the table and the numbers of the lines
    /// that could not be read (skipped).
    pub(crate) fn parse_builtin(text: &str) -> (PriceTable, Vec<usize>) {
        let mut t = PriceTable::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_line(line) {
                Some((key, price)) => {
                    t.insert(key, price);
                }
                None => bad.push(i + 1),
            }
        }
        (t, bad)
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table has no model.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every (key, price), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ModelPrice)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The providers that have prices in this table.
    pub fn providers(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(String::as_str)
    }

    /// Adds or replaces the price of `model` (the key is matched case-insensitively);
    /// returns the price it replaced.
    pub fn insert(&mut self, model: &str, price: ModelPrice) -> Option<ModelPrice> {
        if !price.provider.is_empty() {
            self.providers.insert(canonical_provider(&price.provider));
        }
        self.entries.insert(model.trim().to_lowercase(), price)
    }

    /// Adds every entry of `other`, replacing this table's entries of the same keys.
    pub fn merge(&mut self, other: PriceTable) {
        self.providers.extend(other.providers);
        self.entries.extend(other.entries);
    }

    /// The entry stored under exactly this key (case-insensitive), without resolution.
    pub fn get_exact(&self, key: &str) -> Option<&ModelPrice> {
        self.entries.get(&key.trim().to_lowercase())
    }

    /// The price of a model string (`gpt-4o`, `openai/gpt-4o-2024-08-06`,
    /// `bedrock/us.anthropic.claude-…`), resolved as described in the [module docs](self).
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.resolve(model, None).map(|r| r.price)
    }

    /// Resolves a model string, with the provider that serves it when known (a prefix in
    /// the model string wins over `provider`).
    pub fn resolve(&self, model: &str, provider: Option<&str>) -> Option<Resolved<'_>> {
        let trimmed = model.trim();
        let lowered;
        let mut s: &str = if trimmed.bytes().any(|b| b.is_ascii_uppercase()) || !trimmed.is_ascii()
        {
            lowered = trimmed.to_lowercase();
            &lowered
        } else {
            trimmed
        };
        let hint = provider
            .map(canon)
            .filter(|p| !p.is_empty() && !LOOK_THROUGH.contains(&p.as_ref()));
        // Peel prefixes: priced provider → stop; look-through prefix → drop it and go on.
        let mut explicit: Option<Cow<'_, str>> = None;
        for _ in 0..4 {
            let Some((head, rest)) = s.split_once('/') else {
                break;
            };
            let p = canon(head);
            if self.providers.contains(p.as_ref()) {
                // `gemini/gemini-2.5-flash` is found below as `provider/name`.
                explicit = Some(p);
                s = rest;
                break;
            }
            if LOOK_THROUGH.contains(&p.as_ref()) {
                if let Some(found) = self.find_key(s) {
                    return Some(found);
                }
                s = rest;
                continue;
            }
            break;
        }
        if s.is_empty() {
            return None;
        }
        let (provider, strict) = match explicit.or(hint) {
            Some(p) => (Some(p), true),
            None => (crate::infer_provider(s).map(canon), false),
        };
        // Fast path: the name as given.
        let direct = match provider.as_deref() {
            Some(p) => self.find_for_provider(p, s),
            None => self.find_key(s),
        };
        if direct.is_some() {
            return direct;
        }
        let names = candidates(s, provider.as_deref());
        if let Some(p) = provider.as_deref() {
            for n in names.iter().skip(1) {
                if let Some(found) = self.find_for_provider(p, n) {
                    return Some(found);
                }
            }
            if strict && self.providers.contains(p) {
                return None;
            }
        }
        names.iter().find_map(|n| self.find_key(n))
    }

    fn find_key(&self, key: &str) -> Option<Resolved<'_>> {
        self.entries.get_key_value(key).map(|(k, v)| Resolved {
            key: k.as_str(),
            price: v,
        })
    }

    fn find_for_provider(&self, provider: &str, name: &str) -> Option<Resolved<'_>> {
        if let Some(found) = self.find_key(&format!("{provider}/{name}")) {
            return Some(found);
        }
        self.find_key(name)
            .filter(|r| r.price.provider.is_empty() || canon(&r.price.provider) == provider)
    }

    /// Reads Python LiteLLM's `model_prices_and_context_window.json` (the community table)
    /// into a new table. See [`PriceTable::load_litellm_json`].
    pub fn from_litellm_json(json: &str) -> Result<PriceTable> {
        let mut t = PriceTable::new();
        t.load_litellm_json(json)?;
        Ok(t)
    }

    /// Reads a LiteLLM-format JSON file into a new table.
    pub fn from_litellm_json_file(path: impl AsRef<Path>) -> Result<PriceTable> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read price file {}: {e}", path.display()))
        })?;
        PriceTable::from_litellm_json(&text)
    }

    /// Adds the entries of a LiteLLM-format JSON object (model → fields) to this table,
    /// replacing entries of the same keys; returns how many were added.
    ///
    /// Read: `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
    /// `cache_creation_input_token_cost`, `cache_creation_input_token_cost_above_1hr`,
    /// `output_cost_per_reasoning_token`, `input_cost_per_audio_token`,
    /// `output_cost_per_audio_token`, `cache_read_input_audio_token_cost`, the long-context
    /// `…_above_<N>k_tokens` prices, the `…_flex` / `…_priority` service-tier prices,
    /// `off_peak_pricing` (UTC windows; a `weekday_timezone` is not applied),
    /// `max_input_tokens`, `max_output_tokens` (else `max_tokens`), `mode` and
    /// `litellm_provider`. Numbers may be written as strings (`"3e-7"`); `null`, other types
    /// and unknown keys are ignored, and so are `sample_spec` and entries with no per-token
    /// price (image, audio, per-request models). The only error is text that is not a JSON
    /// object.
    ///
    /// ```
    /// use litellm::accounting::PriceTable;
    /// let t = PriceTable::from_litellm_json(r#"{
    ///   "sample_spec": {"input_cost_per_token": 0.0, "max_tokens": "LEGACY"},
    ///   "my-model": {"input_cost_per_token": "1e-6", "output_cost_per_token": 2e-6,
    ///                "litellm_provider": "openai", "mode": "chat", "max_tokens": 4096}
    /// }"#).unwrap();
    /// assert_eq!(t.len(), 1);
    /// assert_eq!(t.get("my-model").unwrap().output_cost_per_token, 2e-6);
    /// ```
    pub fn load_litellm_json(&mut self, json: &str) -> Result<usize> {
        let v: Value = serde_json::from_str(json)
            .map_err(|e| Error::config(format!("price table is not valid JSON: {e}")))?;
        let Value::Object(map) = v else {
            return Err(Error::config("price table must be a JSON object"));
        };
        let mut n = 0;
        for (key, entry) in &map {
            if key == "sample_spec" {
                continue;
            }
            let Value::Object(fields) = entry else {
                continue;
            };
            if let Some(price) = price_from_litellm(fields) {
                self.insert(key, price);
                n += 1;
            }
        }
        Ok(n)
    }
}

/// A number from a LiteLLM field: a JSON number or a numeric string; finite and ≥ 0.
fn json_f64(v: Option<&Value>) -> Option<f64> {
    let x = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (x.is_finite() && x >= 0.0).then_some(x)
}

fn json_u64(v: Option<&Value>) -> Option<u64> {
    let x = json_f64(v)?;
    (x >= 1.0).then(|| x.min(u64::MAX as f64) as u64)
}

const RATE_BASES: [&str; 4] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
];

/// Splits `<base>_above_<N>[k]_tokens[_flex|_priority]` into (base index, N, tier suffix).
fn parse_tier_key(key: &str) -> Option<(usize, u64, &str)> {
    let (base, rest) = key.split_once("_above_")?;
    let idx = RATE_BASES.iter().position(|b| *b == base)?;
    let (num, tail) = rest.split_once("_tokens")?;
    let (digits, mult) = match num.strip_suffix('k') {
        Some(d) => (d, 1000),
        None => (num, 1),
    };
    let n: u64 = digits.parse().ok()?;
    let suffix = match tail {
        "" => "",
        "_flex" => "flex",
        "_priority" => "priority",
        _ => return None,
    };
    Some((idx, n.checked_mul(mult)?, suffix))
}

fn set_rate(t: &mut TierPrice, idx: usize, v: f64) {
    match idx {
        0 => t.input_cost_per_token = Some(v),
        1 => t.output_cost_per_token = Some(v),
        2 => t.cache_read_input_token_cost = Some(v),
        _ => t.cache_creation_input_token_cost = Some(v),
    }
}

fn tier_mut(tiers: &mut Vec<TierPrice>, above: u64) -> &mut TierPrice {
    let pos = match tiers.iter().position(|t| t.above_tokens == above) {
        Some(p) => p,
        None => {
            tiers.push(TierPrice {
                above_tokens: above,
                ..Default::default()
            });
            tiers.len() - 1
        }
    };
    &mut tiers[pos]
}

fn price_from_litellm(f: &serde_json::Map<String, Value>) -> Option<ModelPrice> {
    let get = |k: &str| json_f64(f.get(k));
    let input = get("input_cost_per_token");
    let output = get("output_cost_per_token");
    if input.is_none() && output.is_none() {
        return None;
    }
    let mut p = ModelPrice {
        provider: f
            .get("litellm_provider")
            .and_then(Value::as_str)
            .map(canonical_provider)
            .unwrap_or_default(),
        mode: f
            .get("mode")
            .and_then(Value::as_str)
            .map(Mode::parse)
            .unwrap_or(Mode::Chat),
        input_cost_per_token: input.unwrap_or(0.0),
        output_cost_per_token: output.unwrap_or(0.0),
        cache_read_input_token_cost: get("cache_read_input_token_cost"),
        cache_creation_input_token_cost: get("cache_creation_input_token_cost"),
        cache_creation_input_token_cost_1h: get("cache_creation_input_token_cost_above_1hr"),
        output_cost_per_reasoning_token: get("output_cost_per_reasoning_token"),
        input_cost_per_audio_token: get("input_cost_per_audio_token"),
        output_cost_per_audio_token: get("output_cost_per_audio_token"),
        cache_read_input_audio_token_cost: get("cache_read_input_audio_token_cost"),
        max_input_tokens: json_u64(f.get("max_input_tokens")),
        max_output_tokens: json_u64(f.get("max_output_tokens"))
            .or_else(|| json_u64(f.get("max_tokens"))),
        ..Default::default()
    };
    for (suffix, slot) in [("flex", 0), ("priority", 1)] {
        let st = ServiceTierPrice {
            input_cost_per_token: get(&format!("input_cost_per_token_{suffix}")),
            output_cost_per_token: get(&format!("output_cost_per_token_{suffix}")),
            cache_read_input_token_cost: get(&format!("cache_read_input_token_cost_{suffix}")),
            cache_creation_input_token_cost: get(&format!(
                "cache_creation_input_token_cost_{suffix}"
            )),
            tiers: Vec::new(),
        };
        if st.input_cost_per_token.is_some()
            || st.output_cost_per_token.is_some()
            || st.cache_read_input_token_cost.is_some()
            || st.cache_creation_input_token_cost.is_some()
        {
            if slot == 0 {
                p.flex = Some(st);
            } else {
                p.priority = Some(st);
            }
        }
    }
    for (k, v) in f {
        let Some((idx, above, suffix)) = parse_tier_key(k) else {
            continue;
        };
        let Some(v) = json_f64(Some(v)) else {
            continue;
        };
        let tiers = match suffix {
            "" => &mut p.tiers,
            "flex" => &mut p.flex.get_or_insert_with(Default::default).tiers,
            _ => &mut p.priority.get_or_insert_with(Default::default).tiers,
        };
        set_rate(tier_mut(tiers, above), idx, v);
    }
    p.tiers.sort_by_key(|t| t.above_tokens);
    for st in [p.flex.as_mut(), p.priority.as_mut()].into_iter().flatten() {
        st.tiers.sort_by_key(|t| t.above_tokens);
    }
    p.off_peak = f.get("off_peak_pricing").and_then(off_peak_from_litellm);
    Some(p)
}

/// A price written per million tokens, as USD per token. The decimal point is moved in the
/// text (`"2.5"` → `"2.5e-6"`), so the result is the nearest `f64` to the per-token price,
/// exactly the number a per-token table would hold.
#[allow(clippy::option_option)] // unreadable / empty (no price) / a price
fn per_million(s: &str) -> Option<Option<f64>> {
    let s = s.trim();
    if s.is_empty() || s == "-" {
        return Some(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // `s` + "e-6" in a stack buffer (prices are short strings).
    let mut buf = [0u8; 48];
    let n = s.len();
    if n + 3 > buf.len() {
        return None;
    }
    buf[..n].copy_from_slice(s.as_bytes());
    buf[n..n + 3].copy_from_slice(b"e-6");
    let v: f64 = std::str::from_utf8(&buf[..n + 3]).ok()?.parse().ok()?;
    v.is_finite().then_some(Some(v))
}

#[allow(clippy::option_option)] // unreadable / empty / a count
fn opt_tokens(s: &str) -> Option<Option<u64>> {
    let s = s.trim();
    if s.is_empty() || s == "-" {
        return Some(None);
    }
    s.parse().ok().map(Some)
}

/// `i,o,cr,cw` (each may be empty).
fn quad(s: &str) -> Option<[Option<f64>; 4]> {
    let mut out = [None; 4];
    let mut parts = s.split(',');
    for slot in &mut out {
        *slot = per_million(parts.next().unwrap_or(""))?;
    }
    Some(out)
}

fn tier_from(above: u64, q: [Option<f64>; 4]) -> TierPrice {
    TierPrice {
        above_tokens: above,
        input_cost_per_token: q[0],
        output_cost_per_token: q[1],
        cache_read_input_token_cost: q[2],
        cache_creation_input_token_cost: q[3],
    }
}

fn parse_line(line: &str) -> Option<(&str, ModelPrice)> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() < 9 || cols[0].trim().is_empty() {
        return None;
    }
    let mut p = ModelPrice {
        provider: cols[1].trim().to_owned(),
        mode: Mode::parse(cols[2]),
        input_cost_per_token: per_million(cols[3])?.unwrap_or(0.0),
        output_cost_per_token: per_million(cols[4])?.unwrap_or(0.0),
        cache_read_input_token_cost: per_million(cols[5])?,
        cache_creation_input_token_cost: per_million(cols[6])?,
        max_input_tokens: opt_tokens(cols[7])?,
        max_output_tokens: opt_tokens(cols[8])?,
        ..Default::default()
    };
    for extra in cols.get(9).copied().unwrap_or("").split_whitespace() {
        let (k, v) = extra.split_once('=')?;
        match k {
            "r" => p.output_cost_per_reasoning_token = per_million(v)?,
            "ai" => p.input_cost_per_audio_token = per_million(v)?,
            "ao" => p.output_cost_per_audio_token = per_million(v)?,
            "acr" => p.cache_read_input_audio_token_cost = per_million(v)?,
            "cw1h" => p.cache_creation_input_token_cost_1h = per_million(v)?,
            "offpeak" => {
                let q = quad(v)?;
                let op = p.off_peak.get_or_insert_with(Default::default);
                op.input_cost_per_token = q[0];
                op.output_cost_per_token = q[1];
                op.cache_read_input_token_cost = q[2];
                op.cache_creation_input_token_cost = q[3];
            }
            _ if k.starts_with("offpeak@") => {
                let days = weekday_mask(k.strip_prefix("offpeak@").unwrap_or(""))?;
                let op = p.off_peak.get_or_insert_with(Default::default);
                for range in v.split(',') {
                    let (a, b) = range.split_once('-')?;
                    op.windows
                        .push(OffPeakWindow::new(days, hhmm(a, false)?, hhmm(b, false)?));
                }
            }
            "flex" | "priority" => {
                let q = quad(v)?;
                let st = ServiceTierPrice {
                    input_cost_per_token: q[0],
                    output_cost_per_token: q[1],
                    cache_read_input_token_cost: q[2],
                    cache_creation_input_token_cost: q[3],
                    tiers: Vec::new(),
                };
                let slot = if k == "flex" {
                    &mut p.flex
                } else {
                    &mut p.priority
                };
                match slot {
                    Some(existing) => {
                        let tiers = std::mem::take(&mut existing.tiers);
                        *existing = ServiceTierPrice { tiers, ..st };
                    }
                    None => *slot = Some(st),
                }
            }
            _ => {
                let (tier, n) = k.split_once('>')?;
                let above: u64 = n.parse().ok()?;
                let t = tier_from(above, quad(v)?);
                if t.is_empty() {
                    continue;
                }
                match tier {
                    "" => p.tiers.push(t),
                    "flex" => p.flex.get_or_insert_with(Default::default).tiers.push(t),
                    "priority" => p
                        .priority
                        .get_or_insert_with(Default::default)
                        .tiers
                        .push(t),
                    _ => return None,
                }
            }
        }
    }
    p.tiers.sort_by_key(|t| t.above_tokens);
    for st in [p.flex.as_mut(), p.priority.as_mut()].into_iter().flatten() {
        st.tiers.sort_by_key(|t| t.above_tokens);
    }
    Some((cols[0].trim(), p))
}

/// `12345` → bits 1..=5; `*` → 0 (every day).
fn weekday_mask(s: &str) -> Option<u8> {
    if s == "*" {
        return Some(0);
    }
    let mut m = 0u8;
    for c in s.chars() {
        let d = c.to_digit(10)?;
        if !(1..=7).contains(&d) {
            return None;
        }
        m |= 1 << d;
    }
    (m != 0).then_some(m)
}

/// `HHMM` (or `HH:MM` with `colon`) → minutes after midnight.
fn hhmm(s: &str, colon: bool) -> Option<u16> {
    let s = s.trim();
    let (h, m) = if colon {
        s.split_once(':')?
    } else {
        (s.get(..2)?, s.get(2..)?)
    };
    let (h, m): (u16, u16) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// LiteLLM's `off_peak_pricing` block.
fn off_peak_from_litellm(v: &Value) -> Option<OffPeakPrice> {
    let o = v.as_object()?;
    let get = |k: &str| json_f64(o.get(k));
    let mut op = OffPeakPrice {
        input_cost_per_token: get("input_cost_per_token"),
        output_cost_per_token: get("output_cost_per_token"),
        cache_read_input_token_cost: get("cache_read_input_token_cost"),
        cache_creation_input_token_cost: get("cache_creation_input_token_cost"),
        windows: Vec::new(),
    };
    let ranges = |h: Option<&Value>| -> Vec<(u16, u16)> {
        let list: Vec<&str> = match h {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        list.into_iter()
            .filter_map(|w| {
                let (a, b) = w.split_once('-')?;
                Some((hhmm(a, true)?, hhmm(b, true)?))
            })
            .collect()
    };
    for (a, b) in ranges(o.get("hours_utc")) {
        op.windows.push(OffPeakWindow::new(0, a, b));
    }
    for rule in o
        .get("windows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut days = 0u8;
        if let Some(list) = rule.get("weekdays").and_then(Value::as_array) {
            for d in list {
                let n = match d {
                    Value::Number(n) => n.as_u64().unwrap_or(0),
                    Value::String(s) => weekday_number(s),
                    _ => 0,
                };
                if (1..=7).contains(&n) {
                    days |= 1 << n;
                }
            }
            if days == 0 {
                continue;
            }
        }
        for (a, b) in ranges(rule.get("hours_utc")) {
            op.windows.push(OffPeakWindow::new(days, a, b));
        }
    }
    (!op.windows.is_empty()).then_some(op)
}

fn weekday_number(s: &str) -> u64 {
    match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => 1,
        "tue" | "tues" | "tuesday" => 2,
        "wed" | "wednesday" => 3,
        "thu" | "thur" | "thurs" | "thursday" => 4,
        "fri" | "friday" => 5,
        "sat" | "saturday" => 6,
        "sun" | "sunday" => 7,
        _ => 0,
    }
}

/// True for `YYYY`, `YYYYMMDD`-style all-digit strings of `n` digits.
fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// The name without a trailing date or version: `-2024-08-06`, `-20241022`, `@20241022`,
/// `@001`, `@latest`, `-09-2025`, `-001`/`-002` (three digits).
///
/// Works on bytes: every suffix it removes is ASCII, so the cut is always on a character
/// boundary whatever else the name holds.
fn strip_version(name: &str) -> Option<&str> {
    if let Some((base, v)) = name.rsplit_once('@') {
        return (!base.is_empty() && !v.contains('/')).then_some(base);
    }
    let b = name.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let n = b.len();
    // -YYYY-MM-DD
    if n > 11
        && b[n - 11] == b'-'
        && digits_at(n - 10..n - 6)
        && b[n - 6] == b'-'
        && digits_at(n - 5..n - 3)
        && b[n - 3] == b'-'
        && digits_at(n - 2..n)
    {
        return name.get(..n - 11);
    }
    // -MM-YYYY (Gemini previews)
    if n > 8
        && b[n - 8] == b'-'
        && digits_at(n - 7..n - 5)
        && b[n - 5] == b'-'
        && digits_at(n - 4..n)
    {
        return name.get(..n - 8);
    }
    let (base, last) = name.rsplit_once('-')?;
    if base.is_empty() {
        return None;
    }
    // -YYYYMMDD, -MMDD (Mistral/DeepSeek), -001
    if digits(last, 8) || digits(last, 4) || digits(last, 3) {
        return Some(base);
    }
    None
}

/// Strips an OpenAI fine-tune's `:org:suffix:id` (`ft:gpt-4o-2024-08-06:acme::abc` →
/// `ft:gpt-4o-2024-08-06`).
fn strip_finetune(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("ft:")?;
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() >= 4 {
        let keep = parts.len() - 3;
        let len = 3 + parts[..keep].iter().map(|p| p.len()).sum::<usize>() + keep - 1;
        return Some(&name[..len]);
    }
    Some(name)
}

/// Bedrock model ids without routing prefixes, ARN parts and throughput suffixes.
fn bedrock_base(name: &str) -> String {
    let mut s = name;
    for p in ["converse/", "invoke/", "chat_completions/", "mantle/"] {
        if let Some(r) = s.strip_prefix(p) {
            s = r;
        }
    }
    // A region segment: `us-east-1/anthropic.claude-…`.
    if let Some((head, rest)) = s.split_once('/')
        && head.contains('-')
        && head.bytes().last().is_some_and(|b| b.is_ascii_digit())
    {
        s = rest;
    }
    // An ARN: keep the part after the last `/`.
    if s.starts_with("arn:") {
        s = s.rsplit('/').next().unwrap_or(s);
    }
    // Provisioned throughput: `…-v2:0:18k` → `…-v2:0`.
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() == 3 && parts[2].ends_with('k') {
        let len = parts[0].len() + 1 + parts[1].len();
        s = &s[..len];
    }
    s.to_owned()
}

/// Names to try for `name`, most specific first (see the module docs).
fn candidates(name: &str, provider: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(6);
    let push = |out: &mut Vec<String>, s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    push(&mut out, name);
    let mut base = name.to_owned();
    match provider {
        Some("bedrock") => {
            base = bedrock_base(name);
            push(&mut out, &base);
            if let Some(r) = CROSS_REGION.iter().find_map(|p| base.strip_prefix(p)) {
                base = r.to_owned();
                push(&mut out, &base);
            }
        }
        Some("gemini" | "vertex_ai") => {
            if let Some(r) = base.strip_prefix("models/") {
                base = r.to_owned();
                push(&mut out, &base);
            }
        }
        Some("fireworks_ai") if !base.starts_with("accounts/") => {
            push(&mut out, &format!("accounts/fireworks/models/{base}"));
        }
        _ => {}
    }
    if let Some(ft) = strip_finetune(&base)
        && ft != base
    {
        push(&mut out, ft);
        if let Some(b) = ft.strip_prefix("ft:") {
            push(&mut out, b);
            base = b.to_owned();
        }
    } else if let Some(b) = base.strip_prefix("ft:") {
        base = b.to_owned();
        push(&mut out, &base);
    }
    let mut cur = base.clone();
    while let Some(stripped) = strip_version(&cur) {
        push(&mut out, stripped);
        cur = stripped.to_owned();
    }
    if !base.ends_with("-latest") {
        push(&mut out, &format!("{cur}-latest"));
    }
    out
}

#[cfg(test)]
mod tests;
