//! The `--max-cost` budget: spend of finished requests plus a conservative
//! reservation for each one in flight, estimated from prices before any cost
//! was seen; and the cost of a finished request (see [`pricing::resolve_cost`]).

use crate::gateway::catalog::Catalog;
use crate::gateway::Outcome;
use crate::pricing::{self, ModelPrices};
use crate::record::CostSource;
use crate::suite::Suite;

use super::RunContext;

/// Spend tracking for `--max-cost`: cost of finished requests plus a
/// conservative reservation for each one in flight.
#[derive(Default)]
pub(super) struct Budget {
    pub(super) spent: f64,
    pub(super) reserved: f64,
    /// Largest cost seen per model: the reservation once one has finished.
    pub(super) max_seen: Vec<Option<f64>>,
}

/// The reservation for a model's request before any cost was seen: catalog
/// or suite prices × (a prompt estimate + the full `max_tokens`).
pub(super) fn initial_cost_estimate(ctx: &RunContext, model: &str) -> Option<f64> {
    let prices = model_prices(ctx, model)?;
    let worst = ctx
        .suite
        .cases
        .iter()
        .map(|c| {
            let chars: usize = c.messages.iter().map(|m| m.content.as_text().len()).sum();
            let images = c.messages.iter().flat_map(|m| m.content.images()).count();
            let max_tokens = ctx.suite.params_for(c, model).max_tokens;
            let usage = crate::record::Usage {
                // An image costs up to ~800 tokens at high detail.
                input_tokens: (chars / 3 + 8 * c.messages.len() + 800 * images) as u64,
                output_tokens: max_tokens.unwrap_or(1024) as u64,
                ..Default::default()
            };
            prices.cost(&usage).unwrap_or(0.0)
        })
        .fold(0.0, f64::max);
    Some(worst)
}

pub(super) fn model_prices(ctx: &RunContext, model: &str) -> Option<ModelPrices> {
    ctx.catalog
        .as_ref()
        .and_then(|c| c.get(model))
        .and_then(|m| m.pricing.clone())
        .or_else(|| suite_prices(&ctx.suite, model))
}

fn suite_prices(suite: &Suite, model: &str) -> Option<ModelPrices> {
    suite
        .pricing
        .get(model)
        .map(|p| ModelPrices::per_million(p.input, p.output, p.cache_read, p.cache_write))
}

/// The cost of one outcome and where the figure came from (see
/// [`pricing::resolve_cost`]).
pub(super) fn resolve_cost(
    outcome: &Outcome,
    model: &str,
    catalog: Option<&Catalog>,
    suite: &Suite,
) -> (Option<f64>, CostSource) {
    let listed = catalog
        .and_then(|c| c.get(model))
        .and_then(|m| m.pricing.as_ref());
    // Prices × tokens only when the tokens priced were all given sanely.
    let priced = [
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "cache_write_tokens",
    ];
    let usage = outcome
        .usage
        .as_ref()
        .filter(|_| !outcome.usage_rejected.iter().any(|f| priced.contains(f)));
    pricing::resolve_cost(outcome.gateway_cost, usage, listed, || {
        suite_prices(suite, model)
    })
}
