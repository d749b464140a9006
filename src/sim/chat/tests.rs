//! Unit tests of `sim::chat`.

use super::*;
use crate::sim::profile::profile_for;

#[test]
fn prompt_estimate_counts_chars_and_messages() {
    let msgs: Vec<Message> = serde_json::from_value(json!([
        {"role": "system", "content": "abcde"},
        {"role": "user", "content": [{"type": "text", "text": "abcd"}]}
    ]))
    .unwrap();
    assert_eq!(prompt_tokens(&msgs), (2 + 4) + (1 + 4));
}

#[test]
fn cost_uses_cache_and_tier_prices() {
    let cached = profile_for("sim/cached");
    // 100 prompt (50 cached), 10 out: 50*1.25e-6 + 50*0.125e-6 + 10*10e-6 = 0.00016875
    let t = |prompt, cached, written, completion| Tokens {
        prompt,
        completion,
        reasoning: 0,
        cached,
        written,
    };
    assert_eq!(
        decimal(cost_units(&cached, t(100, 50, 0, 10), 1.0), 10),
        "0.00016875"
    );
    // + 20 of the uncached 50 written at $1.5625/M instead of $1.25/M.
    assert_eq!(
        decimal(cost_units(&cached, t(100, 50, 20, 10), 1.0), 10),
        "0.000175"
    );
    let tiered = profile_for("sim/tiered");
    assert_eq!(
        decimal(cost_units(&tiered, t(200_000, 0, 0, 0), 1.0), 10),
        "0.5"
    );
    assert_eq!(
        decimal(cost_units(&tiered, t(199_999, 0, 0, 0), 1.0), 10),
        "0.24999875"
    );
    assert_eq!(
        decimal(cost_units(&tiered, t(0, 0, 0, 1), 2.0), 10),
        "0.00002"
    );
}

#[test]
fn jitter_is_centred_and_bounded() {
    assert_eq!(jitter_factor(0.0, 42), 1.0);
    let mean = (0..4000u64).map(|i| jitter_factor(0.05, i)).sum::<f64>() / 4000.0;
    assert!((0.98..1.02).contains(&mean), "{mean}");
}
