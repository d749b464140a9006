//! Unit tests of `pricing`.

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
