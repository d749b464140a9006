//! Unit tests of `sim::profile`.

use super::*;

#[test]
fn named_profiles_match_the_brief() {
    let fast = profile_for("sim/fast");
    assert_eq!((fast.ttft_ms, fast.itl_ms, fast.tokens), (40, 4, 48));
    let balanced = profile_for("sim/balanced");
    assert_eq!(
        (balanced.ttft_ms, balanced.itl_ms, balanced.tokens),
        (120, 10, 96)
    );
    assert!(balanced.separate_usage);
    let slow = profile_for("sim/slow");
    assert_eq!((slow.ttft_ms, slow.itl_ms, slow.tokens), (450, 25, 128));
    let r = profile_for("sim/reasoning");
    assert_eq!((r.ttft_ms, r.reasoning_tokens, r.tokens), (200, 32, 64));
    assert_eq!(profile_for("sim/cached").cached_for(100), 50);
    assert!(!profile_for("sim/nocost").reports_cost);
    assert_eq!(profile_for("sim/echo").answer, AnswerKind::Echo);
    assert_eq!(profile_for("sim/judge").jitter, 0.0);
    assert_eq!(profile_for("sim/fast+429+flaky-2"), fast);
}

#[test]
fn parametric_ids_parse() {
    let p = profile_for("sim/ttft-100-itl-5-tok-32-reason-8");
    assert_eq!(
        (p.ttft_ms, p.itl_ms, p.tokens, p.reasoning_tokens),
        (100, 5, 32, 8)
    );
    assert_eq!(p.jitter, 0.05);
    let p = profile_for("sim/ttft-120-itl-8-tok-64-cached-10-jitter-0.1");
    assert_eq!((p.cached_tokens, p.jitter), (10, 0.1));
    assert_eq!(p.cached_for(4), 4, "cached never exceeds the prompt");
    // A malformed parametric id falls back to a derived profile, still served.
    let p = profile_for("sim/ttft-x-itl-8-tok-64");
    assert!((80..=900).contains(&p.ttft_ms));
}

#[test]
fn derived_profiles_are_stable_and_in_range() {
    for id in [
        "openai/gpt-5",
        "anthropic/claude-sonnet-4",
        "acme/whatever-7b",
    ] {
        let p = profile_for(id);
        assert_eq!(p, profile_for(id));
        assert!((80..=900).contains(&p.ttft_ms), "{id}");
        assert!((5..=40).contains(&p.itl_ms), "{id}");
        assert!((40..=300).contains(&p.tokens), "{id}");
        assert!(
            p.prices.input > 0.0 && p.prices.output > p.prices.input,
            "{id}"
        );
    }
    assert!(profile_for("openai/gpt-5").reasoning_tokens >= 16);
    assert!(profile_for("deepseek/deepseek-r1").reasoning_tokens >= 16);
    assert_eq!(profile_for("anthropic/claude-sonnet-4").reasoning_tokens, 0);
    assert_eq!(profile_for("openai/gpt-5").prices.input, 1.25e-6);
}

#[test]
fn tiers_pick_by_input_tokens() {
    let p = profile_for("sim/tiered");
    assert_eq!(p.prices.rates_for(199_999), (1.25e-6, 10e-6));
    assert_eq!(p.prices.rates_for(200_000), (2.5e-6, 15e-6));
    assert_eq!(
        profile_for("sim/fast").prices.rates_for(10),
        (0.10 / 1e6, 0.40 / 1e6)
    );
}
