//! Model id → simulated behaviour (latency, length, tokens, prices).
//!
//! Three kinds of ids resolve here: the named `sim/*` profiles, parametric ids
//! such as `sim/ttft-120-itl-8-tok-64-reason-16`, and any other id, whose
//! behaviour is derived from a hash of the id (with real list prices for the
//! well-known models in [`super::catalog`]), so every id is served the same
//! way every time.

use super::catalog;
use super::text::hash_bytes;

/// Which answer text a profile produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// Deterministic English-like words from (seed, model, prompt).
    Words,
    /// The last user message, verbatim.
    Echo,
    /// The grader's JSON verdict (see the judge protocol).
    Judge,
}

/// One price tier, chosen by the request's input token count.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTier {
    /// Lowest input token count of this tier (inclusive).
    pub min: u64,
    /// Upper bound (exclusive); `None` means unbounded.
    pub max: Option<u64>,
    /// USD per input token.
    pub input: f64,
    /// USD per output token.
    pub output: f64,
}

/// Prices in USD per token, as the catalog publishes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// USD per uncached input token.
    pub input: f64,
    /// USD per output token (reasoning tokens included).
    pub output: f64,
    /// USD per cached input token; `None` means cached tokens cost `input`.
    pub input_cache_read: Option<f64>,
    /// USD per cache-write input token (published only; the sim never writes caches).
    pub input_cache_write: Option<f64>,
    /// Tiered prices; empty for flat pricing.
    pub tiers: Vec<PriceTier>,
}

impl Prices {
    /// Flat prices given in USD per million tokens.
    pub fn per_million(
        input: f64,
        output: f64,
        cache_read: Option<f64>,
        cache_write: Option<f64>,
    ) -> Self {
        Prices {
            input: input / 1e6,
            output: output / 1e6,
            input_cache_read: cache_read.map(|p| p / 1e6),
            input_cache_write: cache_write.map(|p| p / 1e6),
            tiers: Vec::new(),
        }
    }

    /// The (input, output) prices that apply to a request with this many input tokens.
    pub fn rates_for(&self, prompt_tokens: u64) -> (f64, f64) {
        self.tiers
            .iter()
            .find(|t| prompt_tokens >= t.min && t.max.is_none_or(|max| prompt_tokens < max))
            .map_or((self.input, self.output), |t| (t.input, t.output))
    }
}

/// The resolved behaviour of one model id.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The id without fault suffixes.
    pub base: String,
    /// Time to first token, before jitter and `ttft_scale`.
    pub ttft_ms: u64,
    /// Inter-token latency, before jitter and `itl_scale`.
    pub itl_ms: u64,
    /// Content tokens (one chunk each) for generated answers.
    pub tokens: u32,
    /// Reasoning tokens streamed as `delta.reasoning` before the content.
    pub reasoning_tokens: u32,
    /// Cached prompt tokens (capped at the prompt size).
    pub cached_tokens: u32,
    /// Extra share of the prompt reported as cached (0.5 for `sim/cached`).
    pub cached_fraction: f64,
    /// Sigma of the log-normal jitter applied to ttft and itl.
    pub jitter: f64,
    /// Usage arrives in its own final chunk with `choices: []`.
    pub separate_usage: bool,
    /// Usage carries `cost` (false for `sim/nocost`).
    pub reports_cost: bool,
    /// What the answer text is.
    pub answer: AnswerKind,
    /// Catalog prices.
    pub prices: Prices,
}

impl Profile {
    fn timing(base: &str, ttft_ms: u64, itl_ms: u64, tokens: u32) -> Self {
        Profile {
            base: base.to_string(),
            ttft_ms,
            itl_ms,
            tokens,
            reasoning_tokens: 0,
            cached_tokens: 0,
            cached_fraction: 0.0,
            jitter: 0.05,
            separate_usage: false,
            reports_cost: true,
            answer: AnswerKind::Words,
            prices: derived_prices(base),
        }
    }

    /// Cached tokens for a prompt of this size.
    pub fn cached_for(&self, prompt_tokens: u64) -> u64 {
        let share = (prompt_tokens as f64 * self.cached_fraction).floor() as u64;
        (u64::from(self.cached_tokens) + share).min(prompt_tokens)
    }
}

/// The named sim profiles, in catalog order.
pub const NAMED: &[&str] = &[
    "sim/fast",
    "sim/balanced",
    "sim/slow",
    "sim/reasoning",
    "sim/cached",
    "sim/nocost",
    "sim/tiered",
    "sim/echo",
    "sim/judge",
];

/// Resolve a model id (fault suffixes after `+` are ignored) to its behaviour.
pub fn profile_for(model: &str) -> Profile {
    let base = model.split('+').next().unwrap_or_default();
    // A `-fallback` id behaves (and is priced) like the model it falls back from.
    let (base, _) = super::generation::strip_fallback(base);
    if let Some(p) = named(base) {
        return p;
    }
    if let Some(params) = base.strip_prefix("sim/") {
        if let Some(p) = parametric(base, params) {
            return p;
        }
    }
    derived(base)
}

fn named(base: &str) -> Option<Profile> {
    let mut p = match base {
        "sim/fast" => Profile::timing(base, 40, 4, 48),
        "sim/balanced" => Profile::timing(base, 120, 10, 96),
        "sim/slow" => Profile::timing(base, 450, 25, 128),
        "sim/reasoning" => Profile::timing(base, 200, 4, 64),
        "sim/cached" | "sim/nocost" | "sim/tiered" => Profile::timing(base, 40, 4, 48),
        "sim/echo" => Profile::timing(base, 20, 2, 0),
        "sim/judge" => Profile::timing(base, 30, 2, 0),
        _ => return None,
    };
    match base {
        "sim/fast" => p.prices = Prices::per_million(0.10, 0.40, Some(0.025), None),
        "sim/balanced" => {
            p.separate_usage = true;
            p.prices = Prices::per_million(0.50, 1.50, Some(0.05), None);
        }
        "sim/slow" => p.prices = Prices::per_million(3.0, 15.0, Some(0.30), Some(3.75)),
        "sim/reasoning" => {
            p.reasoning_tokens = 32;
            p.prices = Prices::per_million(1.10, 4.40, Some(0.275), None);
        }
        "sim/cached" => {
            p.cached_fraction = 0.5;
            p.prices = Prices::per_million(1.25, 10.0, Some(0.125), Some(1.5625));
        }
        "sim/nocost" => {
            p.reports_cost = false;
            p.prices = Prices::per_million(0.20, 0.80, None, None);
        }
        "sim/tiered" => {
            let mut prices = Prices::per_million(1.25, 10.0, None, None);
            prices.tiers = vec![
                PriceTier {
                    min: 0,
                    max: Some(200_000),
                    input: 1.25e-6,
                    output: 10e-6,
                },
                PriceTier {
                    min: 200_000,
                    max: None,
                    input: 2.5e-6,
                    output: 15e-6,
                },
            ];
            p.prices = prices;
        }
        "sim/echo" => {
            p.jitter = 0.0;
            p.answer = AnswerKind::Echo;
            p.prices = Prices::per_million(0.05, 0.10, None, None);
        }
        _ => {
            p.jitter = 0.0;
            p.answer = AnswerKind::Judge;
            p.prices = Prices::per_million(0.15, 0.60, None, None);
        }
    }
    Some(p)
}

/// `ttft-120-itl-8-tok-64[-reason-16][-cached-10][-jitter-0.1]`.
fn parametric(base: &str, params: &str) -> Option<Profile> {
    let parts: Vec<&str> = params.split('-').collect();
    if !parts.len().is_multiple_of(2) {
        return None;
    }
    let (mut ttft, mut itl, mut tok) = (None, None, None);
    let mut p = Profile::timing(base, 0, 0, 0);
    for pair in parts.chunks(2) {
        let (key, value) = (pair[0], pair[1]);
        match key {
            "ttft" => ttft = Some(value.parse().ok()?),
            "itl" => itl = Some(value.parse().ok()?),
            "tok" => tok = Some(value.parse().ok()?),
            "reason" => p.reasoning_tokens = value.parse().ok()?,
            "cached" => p.cached_tokens = value.parse().ok()?,
            "jitter" => {
                p.jitter = value
                    .parse::<f64>()
                    .ok()
                    .filter(|j| j.is_finite() && *j >= 0.0)?
            }
            _ => return None,
        }
    }
    p.ttft_ms = ttft?;
    p.itl_ms = itl?;
    p.tokens = tok?;
    Some(p)
}

const REASONING_MARKERS: &[&str] = &["gpt-5", "o3", "o4", "reasoning", "thinking", "r1"];

/// Any other id: timing from a hash of the id, list prices when the catalog knows it.
fn derived(base: &str) -> Profile {
    let h = hash_bytes(0x5EED, base.as_bytes());
    let mut p = Profile::timing(
        base,
        80 + h % 821,
        5 + (h >> 10) % 36,
        40 + ((h >> 20) % 261) as u32,
    );
    if REASONING_MARKERS.iter().any(|m| base.contains(m)) {
        p.reasoning_tokens = 16 + ((h >> 30) % 113) as u32;
    }
    p
}

/// Prices for ids without fixed ones: list prices for known models, else from a hash.
fn derived_prices(base: &str) -> Prices {
    if let Some(known) = catalog::known(base) {
        return known.prices();
    }
    let h = hash_bytes(0x9A1CE, base.as_bytes());
    // $0.05 .. $5.00 per million input tokens in $0.05 steps, output 2–8x.
    let input = (1 + h % 100) as f64 * 0.05;
    let factor = [2.0, 3.0, 4.0, 5.0, 8.0][((h >> 40) % 5) as usize];
    let mut prices = Prices::per_million(input, input * factor, None, None);
    prices.input_cache_read = Some(prices.input / 10.0);
    prices
}

#[cfg(test)]
mod tests;
