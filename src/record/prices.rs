//! Prices as the catalog and the suite state them: USD per token, with
//! optional tiers by input size. Plain data; `pricing` turns them into cost.

use serde::{Deserialize, Serialize};

/// One price band: applies when `min <= input_tokens < max` (`max` exclusive,
/// `None` = unbounded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub min: u64,
    pub max: Option<u64>,
    /// USD per token.
    pub price: f64,
}

/// A price with optional tiers; `base` applies when no tier matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tiered {
    /// USD per token.
    pub base: f64,
    pub tiers: Vec<Tier>,
}

impl Tiered {
    /// A single price with no tiers.
    pub fn flat(price: f64) -> Self {
        Tiered {
            base: price,
            tiers: Vec::new(),
        }
    }

    /// The price per token for a request with `input_tokens` input tokens.
    pub fn at(&self, input_tokens: u64) -> f64 {
        self.tiers
            .iter()
            .find(|t| t.min <= input_tokens && t.max.is_none_or(|max| input_tokens < max))
            .map_or(self.base, |t| t.price)
    }
}

/// A model's prices per token class; any may be missing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelPrices {
    pub input: Option<Tiered>,
    pub output: Option<Tiered>,
    /// Cached input tokens read; falls back to `input` when missing.
    pub cache_read: Option<Tiered>,
    /// Input tokens written to the cache; falls back to `input` when missing.
    pub cache_write: Option<Tiered>,
}

impl ModelPrices {
    /// What the prompt cache saved on one request against uncached input
    /// prices: cache reads at the input price minus their read price, less
    /// what cache writes cost over the input price (negative when writes
    /// outweigh reads). `None` without usage of the cache or an input price.
    pub fn cache_savings(&self, usage: &crate::record::Usage) -> Option<f64> {
        if usage.cached_tokens == 0 && usage.cache_write_tokens == 0 {
            return None;
        }
        let n = usage.input_tokens;
        let input = self.input.as_ref()?.at(n);
        let read = self.cache_read.as_ref().map_or(input, |t| t.at(n));
        let write = self.cache_write.as_ref().map_or(input, |t| t.at(n));
        Some(
            usage.cached_tokens as f64 * (input - read)
                + usage.cache_write_tokens as f64 * (input - write),
        )
    }

    /// Flat prices given in USD per million tokens (as a suite's `pricing:`
    /// section writes them).
    pub fn per_million(
        input: f64,
        output: f64,
        cache_read: Option<f64>,
        cache_write: Option<f64>,
    ) -> Self {
        let per_token = |p: f64| Tiered::flat(p / 1_000_000.0);
        ModelPrices {
            input: Some(per_token(input)),
            output: Some(per_token(output)),
            cache_read: cache_read.map(per_token),
            cache_write: cache_write.map(per_token),
        }
    }
}
