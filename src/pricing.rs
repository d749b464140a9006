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
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    fn usage(input: u64, output: u64, cached: u64, write: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            reasoning_tokens: 0,
            cached_tokens: cached,
            cache_write_tokens: write,
        }
    }

    #[test]
    fn a_negative_or_non_finite_gateway_cost_is_invalid_and_not_replaced() {
        let u = usage(1000, 100, 0, 0);
        let prices = ModelPrices::per_million(1.0, 2.0, None, None);
        for bad in [-0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let got = resolve_cost(Some(bad), Some(&u), Some(&prices), || None);
            assert_eq!(got, (None, CostSource::Invalid), "{bad}");
        }
        let got = resolve_cost(Some(0.0), Some(&u), Some(&prices), || None);
        assert_eq!(got, (Some(0.0), CostSource::Gateway));
    }

    #[test]
    fn flat_prices() {
        // $1.25 / M input, $10 / M output: 1000 in + 500 out.
        let p = ModelPrices::per_million(1.25, 10.0, None, None);
        close(p.cost(&usage(1000, 500, 0, 0)).unwrap(), 0.00625);
    }

    #[test]
    fn cached_and_cache_write_tokens_use_their_own_rates() {
        // 1000 input of which 200 cached ($0.125/M) and 100 written ($1.5625/M),
        // 500 output (reasoning included, not added again).
        let p = ModelPrices::per_million(1.25, 10.0, Some(0.125), Some(1.5625));
        let mut u = usage(1000, 500, 200, 100);
        u.reasoning_tokens = 300;
        // 700*1.25e-6 + 200*1.25e-7 + 100*1.5625e-6 + 500*1e-5
        close(
            p.cost(&u).unwrap(),
            0.000875 + 0.000025 + 0.00015625 + 0.005,
        );
    }

    #[test]
    fn cached_tokens_fall_back_to_input_price() {
        let p = ModelPrices::per_million(2.0, 8.0, None, None);
        close(p.cost(&usage(1000, 0, 400, 0)).unwrap(), 0.002);
    }

    #[test]
    fn tier_is_chosen_by_input_tokens_and_applies_to_everything() {
        let tiered = |low: f64, high: f64| Tiered {
            base: low,
            tiers: vec![
                Tier {
                    min: 0,
                    max: Some(200_000),
                    price: low,
                },
                Tier {
                    min: 200_000,
                    max: None,
                    price: high,
                },
            ],
        };
        let p = ModelPrices {
            input: Some(tiered(0.00000125, 0.0000025)),
            output: Some(tiered(0.00001, 0.000015)),
            cache_read: Some(tiered(0.000000125, 0.00000025)),
            cache_write: None,
        };
        // Below the boundary: low tier.
        close(
            p.cost(&usage(199_999, 1000, 0, 0)).unwrap(),
            199_999.0 * 0.00000125 + 0.01,
        );
        // At the boundary (max exclusive): high tier for all classes.
        // 150000*2.5e-6 + 50000*2.5e-7 + 1000*1.5e-5
        close(
            p.cost(&usage(200_000, 1000, 50_000, 0)).unwrap(),
            0.375 + 0.0125 + 0.015,
        );
    }

    #[test]
    fn missing_input_or_output_price_gives_none() {
        let mut p = ModelPrices::per_million(1.0, 2.0, None, None);
        p.output = None;
        assert_eq!(p.cost(&usage(10, 10, 0, 0)), None);
        let q = ModelPrices {
            output: Some(Tiered::flat(1.0)),
            ..Default::default()
        };
        assert_eq!(q.cost(&usage(10, 10, 0, 0)), None);
    }

    #[test]
    fn inconsistent_counts_saturate() {
        let p = ModelPrices::per_million(1.0, 1.0, Some(0.5), None);
        close(p.cost(&usage(10, 0, 20, 0)).unwrap(), 20.0 * 0.5e-6);
    }
}
