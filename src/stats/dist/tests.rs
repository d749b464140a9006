//! Unit tests of `stats::dist`.

use super::*;

#[test]
fn normal_tail_and_quantile_agree_with_tables() {
    assert!((normal_sf(1.959_963_985) - 0.025).abs() < 1e-8);
    assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
    assert!((normal_sf(-1.0) - 0.841_344_746).abs() < 1e-7);
    assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
    assert!((normal_quantile(0.001) + 3.090_232_306).abs() < 1e-8);
    for p in [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999] {
        let back = 1.0 - normal_sf(normal_quantile(p));
        assert!((back - p).abs() < 2e-7 * p.max(1e-3), "p={p} back={back}");
    }
}

#[test]
fn ln_gamma_matches_factorials() {
    let mut fact = 1.0_f64;
    for k in 1..30_u32 {
        fact *= f64::from(k);
        let lg = ln_gamma(f64::from(k) + 1.0);
        assert!((lg - fact.ln()).abs() < 1e-9 * fact.ln().max(1.0), "k={k}");
    }
    assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-9);
}

#[test]
fn incomplete_beta_is_the_binomial_tail() {
    for (n, k, p) in [
        (10_u64, 3_u64, 0.2_f64),
        (100, 95, 0.93),
        (100, 50, 0.5),
        (40, 1, 0.01),
    ] {
        let direct: f64 = (k..=n)
            .map(|i| (ln_choose(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp())
            .sum();
        let beta = inc_beta(k as f64, (n - k + 1) as f64, p);
        assert!(
            (beta - direct).abs() < 1e-9,
            "n={n} k={k} p={p}: {beta} vs {direct}"
        );
    }
}

#[test]
fn fisher_matches_published_examples() {
    // Fisher's tea tasting: 3/1 vs 1/3, two-sided p = 0.4857.
    assert!((fisher_exact(3, 1, 1, 3) - 0.485_714).abs() < 1e-5);
    // Wikipedia's dieting example: 1/9 vs 11/3, two-sided p = 0.002759.
    assert!((fisher_exact(1, 9, 11, 3) - 0.002_759).abs() < 1e-5);
    assert!((fisher_exact(5, 5, 5, 5) - 1.0).abs() < 1e-7);
}
