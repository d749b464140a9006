//! The `/v1/models` catalog, Vercel AI Gateway style.
//!
//! Prices come from the same [`profile_for`] the chat handler uses, so what the
//! catalog publishes is exactly what the sim charges.

use serde_json::{json, Map, Value};

use super::profile::{profile_for, Prices, NAMED};
use super::text::decimal;

/// A well-known real model with list prices (USD per million tokens).
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// Model id, e.g. `openai/gpt-5`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Context window in tokens.
    pub context_window: u64,
    /// Maximum output tokens.
    pub max_tokens: u64,
    /// Catalog tags.
    pub tags: &'static [&'static str],
    /// Input, output, cache read, cache write (USD per million tokens).
    pub per_million: (f64, f64, Option<f64>, Option<f64>),
}

impl Known {
    /// This model's prices.
    pub fn prices(&self) -> Prices {
        let (i, o, r, w) = self.per_million;
        Prices::per_million(i, o, r, w)
    }
}

const KNOWN: &[Known] = &[
    Known {
        id: "openai/gpt-5",
        name: "GPT-5",
        description: "OpenAI's flagship reasoning model.",
        context_window: 400_000,
        max_tokens: 128_000,
        tags: &["reasoning", "tool-use", "vision", "file-input"],
        per_million: (1.25, 10.0, Some(0.125), None),
    },
    Known {
        id: "openai/gpt-5-mini",
        name: "GPT-5 mini",
        description: "A faster, cheaper GPT-5 for well-defined tasks.",
        context_window: 400_000,
        max_tokens: 128_000,
        tags: &["reasoning", "tool-use", "vision"],
        per_million: (0.25, 2.0, Some(0.025), None),
    },
    Known {
        id: "anthropic/claude-sonnet-4",
        name: "Claude Sonnet 4",
        description: "Anthropic's balanced model for coding and agents.",
        context_window: 200_000,
        max_tokens: 64_000,
        tags: &["reasoning", "tool-use", "vision", "implicit-caching"],
        per_million: (3.0, 15.0, Some(0.3), Some(3.75)),
    },
    Known {
        id: "google/gemini-2.5-pro",
        name: "Gemini 2.5 Pro",
        description: "Google's most capable thinking model.",
        context_window: 1_048_576,
        max_tokens: 65_536,
        tags: &["reasoning", "tool-use", "vision", "file-input"],
        per_million: (1.25, 10.0, Some(0.31), None),
    },
    Known {
        id: "google/gemini-2.5-flash",
        name: "Gemini 2.5 Flash",
        description: "Google's fast, low-cost thinking model.",
        context_window: 1_048_576,
        max_tokens: 65_536,
        tags: &["reasoning", "tool-use", "vision"],
        per_million: (0.3, 2.5, Some(0.075), None),
    },
    Known {
        id: "deepseek/deepseek-v3",
        name: "DeepSeek V3",
        description: "DeepSeek's open-weight mixture-of-experts chat model.",
        context_window: 128_000,
        max_tokens: 8_192,
        tags: &["tool-use"],
        per_million: (0.27, 1.1, Some(0.07), None),
    },
    Known {
        id: "meta/llama-3.3-70b",
        name: "Llama 3.3 70B",
        description: "Meta's multilingual open-weight instruction model.",
        context_window: 128_000,
        max_tokens: 8_192,
        tags: &["tool-use"],
        per_million: (0.72, 0.72, None, None),
    },
];

/// The known real model with this id, if any.
pub fn known(id: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.id == id)
}

/// A price as the catalog's decimal string (exact, no exponent).
pub fn price_string(usd_per_token: f64) -> String {
    decimal((usd_per_token * 1e12).round().max(0.0) as u128, 12)
}

fn pricing_json(prices: &Prices) -> Value {
    let mut m = Map::new();
    m.insert("input".into(), price_string(prices.input).into());
    m.insert("output".into(), price_string(prices.output).into());
    if let Some(r) = prices.input_cache_read {
        m.insert("input_cache_read".into(), price_string(r).into());
    }
    if let Some(w) = prices.input_cache_write {
        m.insert("input_cache_write".into(), price_string(w).into());
    }
    if !prices.tiers.is_empty() {
        let tiers = |pick: fn(&super::profile::PriceTier) -> f64| -> Value {
            prices
                .tiers
                .iter()
                .map(|t| {
                    let mut o = json!({"cost": price_string(pick(t)), "min": t.min});
                    if let Some(max) = t.max {
                        o["max"] = max.into();
                    }
                    o
                })
                .collect()
        };
        m.insert("input_tiers".into(), tiers(|t| t.input));
        m.insert("output_tiers".into(), tiers(|t| t.output));
    }
    Value::Object(m)
}

fn sim_description(id: &str) -> (&'static str, &'static str, &'static [&'static str]) {
    match id {
        "sim/fast" => (
            "Sim Fast",
            "Simulated: 40 ms TTFT, 4 ms per token, 48 tokens.",
            &["tool-use"],
        ),
        "sim/balanced" => (
            "Sim Balanced",
            "Simulated: 120 ms TTFT, 10 ms per token, usage in a separate final chunk.",
            &["tool-use"],
        ),
        "sim/slow" => (
            "Sim Slow",
            "Simulated: 450 ms TTFT, 25 ms per token, 128 tokens.",
            &[],
        ),
        "sim/reasoning" => (
            "Sim Reasoning",
            "Simulated: streams 32 reasoning tokens before 64 content tokens.",
            &["reasoning"],
        ),
        "sim/cached" => (
            "Sim Cached",
            "Simulated: half of every prompt is a cache hit.",
            &["implicit-caching"],
        ),
        "sim/nocost" => (
            "Sim No-Cost",
            "Simulated: usage without cost; price it from this catalog.",
            &[],
        ),
        "sim/tiered" => (
            "Sim Tiered",
            "Simulated: tiered prices above 200k input tokens.",
            &[],
        ),
        "sim/echo" => (
            "Sim Echo",
            "Simulated: answers with the last user message verbatim.",
            &[],
        ),
        _ => (
            "Sim Judge",
            "Simulated grader following the evalgate judge protocol.",
            &[],
        ),
    }
}

/// The full `GET /v1/models` body.
pub fn catalog_json() -> Value {
    let created = 1_700_000_000u64;
    let mut data = Vec::new();
    for id in NAMED {
        let (name, description, tags) = sim_description(id);
        data.push(json!({
            "id": id, "object": "model", "created": created, "owned_by": "sim",
            "name": name, "description": description, "type": "language",
            "context_window": 128_000, "max_tokens": 16_384, "tags": tags,
            "pricing": pricing_json(&profile_for(id).prices),
        }));
    }
    for k in KNOWN {
        let owner = k.id.split('/').next().unwrap_or_default();
        data.push(json!({
            "id": k.id, "object": "model", "created": created, "owned_by": owner,
            "name": k.name, "description": k.description, "type": "language",
            "context_window": k.context_window, "max_tokens": k.max_tokens, "tags": k.tags,
            "pricing": pricing_json(&profile_for(k.id).prices),
        }));
    }
    json!({"object": "list", "data": data})
}

/// The `GET /v1/models/{id}/endpoints` body: the providers that serve `id`
/// (the primary and the fallback provider, slower and dearer), each with its
/// prices and the recent p50/p95 TTFT and throughput the sim's profile
/// implies. Served for every id, like the chat endpoint.
pub fn endpoints_json(id: &str) -> Value {
    use super::generation::{BACKUP, PRIMARY};
    let p = profile_for(id);
    let endpoint = |provider: &str, slow: f64| {
        let mut prices = p.prices.clone();
        prices.input *= slow;
        prices.output *= slow;
        let ttft = p.ttft_ms as f64 * slow;
        let tps = 1000.0 / (p.itl_ms.max(1) as f64 * slow);
        json!({
            "provider_name": provider,
            "context_length": 128_000,
            "pricing": pricing_json(&prices),
            "supported_parameters": ["max_tokens", "temperature", "stop", "seed"],
            "ttft_p50_ms": ttft.round(),
            "ttft_p95_ms": (ttft * (1.0 + 3.3 * p.jitter)).round(),
            "throughput_p50_tps": (tps * 10.0).round() / 10.0,
            "throughput_p95_tps": (tps * 0.8 * 10.0).round() / 10.0,
        })
    };
    json!({"data": {"id": id, "endpoints": [endpoint(PRIMARY, 1.0), endpoint(BACKUP, 1.5)]}})
}

#[cfg(test)]
mod tests;
