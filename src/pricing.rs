//! Cost from tokens and prices, used when the gateway gave no figure of its own.
//!
//! Prices are USD per token, as the gateway's catalog states them. A model may
//! have tiered prices (a higher rate past some input size); the tier is chosen
//! by the request's input token count and applies to the whole request, for
//! every token class (input, cached, cache write and output). No I/O here.

use crate::record::{CostSource, Usage};
pub use crate::record::{ModelPrices, Tier, Tiered};

impl ModelPrices {
    /// USD for one request's usage; `None` when the input or output price is
    /// missing (never a silent zero).
    ///
    /// `output_tokens` already include reasoning tokens (OpenAI-style usage
    /// counts them there), so reasoning is not added again. Cached and
    /// cache-write tokens are part of `input_tokens` and are charged at their
    /// own rates instead of the input rate.
    pub fn cost(&self, usage: &Usage) -> Option<f64> {
        let n = usage.input_tokens;
        let input = self.input.as_ref()?.at(n);
        let output = self.output.as_ref()?.at(n);
        let cache_read = self.cache_read.as_ref().map_or(input, |t| t.at(n));
        let cache_write = self.cache_write.as_ref().map_or(input, |t| t.at(n));
        let uncached = n
            .saturating_sub(usage.cached_tokens)
            .saturating_sub(usage.cache_write_tokens);
        Some(
            uncached as f64 * input
                + usage.cached_tokens as f64 * cache_read
                + usage.cache_write_tokens as f64 * cache_write
                + usage.output_tokens as f64 * output,
        )
    }
}

/// The cost of one answer and where the figure came from, in the order the
/// design fixes: the gateway's own figure, then catalog price × tokens, then
/// a price given in the suite. `None` with [`CostSource::Unknown`] when no
/// figure is available (never a silent zero); `None` with
/// [`CostSource::Invalid`] when the gateway's figure is negative or not
/// finite. The suite's prices are looked
/// up only when needed.
pub fn resolve_cost(
    gateway_cost: Option<f64>,
    usage: Option<&Usage>,
    catalog: Option<&ModelPrices>,
    suite: impl FnOnce() -> Option<ModelPrices>,
) -> (Option<f64>, CostSource) {
    if let Some(c) = gateway_cost {
        // A negative or non-finite figure is the gateway's error: no cost
        // is known, and none is guessed from prices either.
        if !(c.is_finite() && c >= 0.0) {
            return (None, CostSource::Invalid);
        }
        return (Some(c), CostSource::Gateway);
    }
    let Some(usage) = usage else {
        return (None, CostSource::Unknown);
    };
    if let Some(c) = catalog.and_then(|p| p.cost(usage)) {
        return (Some(c), CostSource::Catalog);
    }
    match suite().and_then(|p| p.cost(usage)) {
        Some(c) => (Some(c), CostSource::Suite),
        None => (None, CostSource::Unknown),
    }
}

#[cfg(test)]
mod tests;
