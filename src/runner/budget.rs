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
    /// The model and worst case of a first request that alone exceeded the
    /// budget (the run stopped with nothing spent).
    pub(super) worst_case_alone: Option<(usize, f64)>,
}

/// What a `--max-cost` run spent, for the message at its end.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetReport {
    pub max_cost: f64,
    /// Cost of the finished requests whose cost is known.
    pub spent: f64,
    /// Set when the budget stopped the run before anything was spent because
    /// one request's worst case alone exceeded it: the model and that cost.
    pub worst_case_alone: Option<(String, f64)>,
}

impl BudgetReport {
    /// What went wrong with the budget beyond a plain stop (which the
    /// failing-cases summary reports as spent vs budget), and what to do.
    pub fn message(&self) -> Option<String> {
        let (spent, max) = (self.spent, self.max_cost);
        if let Some((model, worst)) = &self.worst_case_alone {
            return Some(format!(
                "the budget stopped the run before the first request: one request of {model} may cost up to ${worst:.6} \
                 (its prompt plus max_tokens at the model's price; 1024 output tokens where a case sets no max_tokens), \
                 more than --max-cost ${max:.6} alone; raise --max-cost, or bound the answers with a smaller max_tokens in the suite"
            ));
        }
        if spent > max {
            return Some(format!(
                "spent ${spent:.6} of the ${max:.6} --max-cost budget: a model's price was unknown until its first answer \
                 (such requests are sent one at a time); give prices in the suite's `pricing:` to budget exactly"
            ));
        }
        None
    }
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
