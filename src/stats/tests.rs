//! Unit tests of the public comparison functions.

use super::*;

fn result_with_p(p: f64) -> TestResult {
    TestResult {
        metric: format!("m{p}"),
        baseline: 1.0,
        current: 2.0,
        n_baseline: 100,
        n_current: 100,
        change: 1.0,
        unit: ChangeUnit::Relative,
        ci: Some((0.5, 1.5)),
        p_value: p,
        p_adjusted: None,
        method: "test",
        direction: Direction::LowerIsBetter,
        threshold: Some(0.1),
        verdict: Verdict::NoSignificantChange,
    }
}

#[test]
fn holm_steps_down_and_stops_at_the_first_non_rejection() {
    // Sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06 (stop), 0.04 -> max(0.04, 0.06).
    let mut rs: Vec<TestResult> = [0.01, 0.04, 0.03, 0.005]
        .into_iter()
        .map(result_with_p)
        .collect();
    holm(&mut rs, 0.05);
    let adjusted: Vec<f64> = rs
        .iter()
        .map(|r| r.p_adjusted.unwrap_or(f64::NAN))
        .collect();
    for (got, want) in adjusted.iter().zip([0.03, 0.06, 0.06, 0.02]) {
        assert!((got - want).abs() < 1e-12, "{adjusted:?}");
    }
    let verdicts: Vec<Verdict> = rs.iter().map(|r| r.verdict).collect();
    use Verdict::*;
    // 0.04 <= 0.05 alone, but Holm already stopped at 0.03.
    assert_eq!(
        verdicts,
        [
            Regressed,
            NoSignificantChange,
            NoSignificantChange,
            Regressed
        ]
    );
}

#[test]
fn holm_skips_insufficient_samples_in_the_family_size() {
    let mut rs = vec![
        result_with_p(0.004),
        TestResult::insufficient("p99", 10, 10, 300, Direction::LowerIsBetter),
    ];
    holm(&mut rs, 0.01);
    assert_eq!(rs[0].p_adjusted, Some(0.004));
    assert_eq!(rs[0].verdict, Verdict::Regressed);
    assert_eq!(rs[1].verdict, Verdict::InsufficientSamples { needed: 300 });
    assert_eq!(rs[1].p_adjusted, None);
}

#[test]
fn effect_rule_uses_the_ci_end_on_the_side_of_the_change() {
    let mut r = result_with_p(1e-6);
    r.change = 0.06;
    r.ci = Some((0.03, 0.09));
    assert_eq!(
        r.decide(true),
        Verdict::NoSignificantChange,
        "CI never reaches 10%"
    );
    r.ci = Some((0.03, 0.11));
    assert_eq!(r.decide(true), Verdict::Regressed);
    assert_eq!(r.decide(false), Verdict::NoSignificantChange);
    r.direction = Direction::HigherIsBetter;
    assert_eq!(r.decide(true), Verdict::Improved);
    r.change = -0.2;
    r.ci = Some((-0.3, -0.1));
    assert_eq!(r.decide(true), Verdict::Regressed);
    r.threshold = None;
    r.ci = Some((-0.21, -0.19));
    assert_eq!(r.decide(true), Verdict::Regressed);
}

#[test]
fn location_detects_a_clear_shift_and_reports_the_median_ratio() {
    // Deterministic "log-normal-like" grid so the test has no randomness.
    let base: Vec<f64> = (1..=80).map(|i| (f64::from(i) / 80.0).exp()).collect();
    let cur: Vec<f64> = base.iter().map(|v| v * 1.5).collect();
    let th = Threshold {
        relative: Some(0.10),
        absolute_pp: None,
    };
    let r = compare_location("ttft_p50", &base, &cur, Direction::LowerIsBetter, &th);
    assert!((r.change - 0.5).abs() < 1e-9, "change={}", r.change);
    let (lo, hi) = r.ci.unwrap_or((0.0, 0.0));
    assert!(lo < 0.5 && hi > 0.5 && lo > 0.2);
    assert!(r.p_value < 1e-3);
    assert_eq!(r.verdict, Verdict::Regressed);
    assert_eq!(r.method, "mann-whitney+hl-log");
    let r = compare_location("ttft_p50", &cur, &base, Direction::LowerIsBetter, &th);
    assert_eq!(r.verdict, Verdict::Improved);
    // Same data both sides: nothing.
    let r = compare_location("ttft_p50", &base, &base, Direction::LowerIsBetter, &th);
    assert_eq!(
        (r.change, r.p_value, r.verdict),
        (0.0, 1.0, Verdict::NoSignificantChange)
    );
}

#[test]
fn location_handles_zeros_and_small_samples() {
    let base = [0.0, 0.0, 1.0, 2.0, 2.0, 3.0];
    let cur = [0.0, 1.0, 2.0, 2.0, 3.0, 4.0];
    let r = compare_location(
        "cost",
        &base,
        &cur,
        Direction::LowerIsBetter,
        &Threshold::default(),
    );
    assert_eq!(r.method, "mann-whitney+hl-raw");
    assert!(r.change.is_finite() && r.p_value > 0.1);
    let r = compare_location(
        "cost",
        &[1.0, f64::NAN, 2.0, 3.0, 4.0],
        &cur,
        Direction::LowerIsBetter,
        &Threshold::default(),
    );
    assert_eq!(
        r.verdict,
        Verdict::InsufficientSamples {
            needed: MIN_LOCATION_SAMPLES
        }
    );
    assert_eq!(r.n_baseline, 4);
}

#[test]
fn percentile_needs_enough_tail_samples() {
    assert_eq!(samples_needed_for_quantile(0.95), 60);
    assert_eq!(samples_needed_for_quantile(0.99), 300);
    assert_eq!(samples_needed_for_quantile(0.90), 30);
    let base: Vec<f64> = (1..=59).map(f64::from).collect();
    let th = Threshold {
        relative: Some(0.1),
        absolute_pp: None,
    };
    let r = compare_percentile(
        "ttft_p95",
        &base,
        &base,
        0.95,
        Direction::LowerIsBetter,
        &th,
    );
    assert_eq!(r.verdict, Verdict::InsufficientSamples { needed: 60 });
    let r = compare_percentile(
        "ttft_p99",
        &base,
        &base,
        0.99,
        Direction::LowerIsBetter,
        &th,
    );
    assert_eq!(r.verdict, Verdict::InsufficientSamples { needed: 300 });
}

#[test]
fn percentile_flags_a_doubled_tail_but_not_identical_samples() {
    let base: Vec<f64> = (1..=200).map(|i| (f64::from(i) / 60.0).exp()).collect();
    let th = Threshold {
        relative: Some(0.1),
        absolute_pp: None,
    };
    let same = compare_percentile(
        "ttft_p95",
        &base,
        &base,
        0.95,
        Direction::LowerIsBetter,
        &th,
    );
    assert_eq!(same.baseline, base[189]);
    assert_eq!(same.change, 0.0);
    assert!(same.p_value > 0.9, "p={}", same.p_value);
    let (lo, hi) = same.ci.unwrap_or((1.0, 1.0));
    assert!(lo < 0.0 && hi > 0.0);
    let cur: Vec<f64> = base.iter().map(|v| v * 2.0).collect();
    let r = compare_percentile("ttft_p95", &base, &cur, 0.95, Direction::LowerIsBetter, &th);
    assert!((r.change - 1.0).abs() < 1e-9);
    assert!(r.p_value < 1e-4, "p={}", r.p_value);
    assert_eq!(r.verdict, Verdict::Regressed);
}

#[test]
fn proportion_uses_fisher_and_points() {
    let th = Threshold {
        relative: None,
        absolute_pp: Some(2.0),
    };
    // Pass rate 90/100 -> 70/100: -20pp, clearly worse.
    let r = compare_proportion(
        "pass_rate",
        90,
        100,
        70,
        100,
        Direction::HigherIsBetter,
        &th,
    );
    assert_eq!(r.unit, ChangeUnit::Points);
    assert!((r.change + 20.0).abs() < 1e-9);
    assert!(r.p_value < 1e-3, "p={}", r.p_value);
    let (lo, hi) = r.ci.unwrap_or((0.0, 0.0));
    assert!(lo < -20.0 && hi > -20.0 && hi < 0.0);
    assert_eq!(r.verdict, Verdict::Regressed);
    // The tea-tasting table through the public API.
    let r = compare_proportion("error_rate", 3, 4, 1, 4, Direction::LowerIsBetter, &th);
    assert!((r.p_value - 0.485_714).abs() < 1e-5);
    assert_eq!(r.verdict, Verdict::NoSignificantChange);
    let r = compare_proportion("error_rate", 0, 0, 1, 4, Direction::LowerIsBetter, &th);
    assert_eq!(r.verdict, Verdict::InsufficientSamples { needed: 1 });
}

#[test]
fn thresholds_parse_and_explain_errors() {
    let t = parse_thresholds("ttft=10%, duration=12.5% ,cost=5%,pass_rate=2pp").unwrap_or_default();
    assert_eq!(t.len(), 4);
    assert_eq!(
        t["ttft"],
        Threshold {
            relative: Some(0.10),
            absolute_pp: None
        }
    );
    assert_eq!(t["duration"].relative, Some(0.125));
    assert_eq!(
        t["pass_rate"],
        Threshold {
            relative: None,
            absolute_pp: Some(2.0)
        }
    );
    assert_eq!(parse_thresholds("  ").map(|t| t.len()), Ok(0));
    assert_eq!(
        parse_thresholds("ttft"),
        Err(ThresholdError::Syntax("ttft".into()))
    );
    assert_eq!(
        parse_thresholds("=5%"),
        Err(ThresholdError::Syntax("=5%".into()))
    );
    assert_eq!(
        parse_thresholds("ttft=10"),
        Err(ThresholdError::Unit("ttft=10".into()))
    );
    assert_eq!(
        parse_thresholds("ttft=abc%"),
        Err(ThresholdError::Number("ttft=abc%".into()))
    );
    assert_eq!(
        parse_thresholds("ttft=-3%"),
        Err(ThresholdError::Number("ttft=-3%".into()))
    );
    assert_eq!(
        parse_thresholds("a=1%,a=2pp"),
        Err(ThresholdError::Duplicate("a".into()))
    );
    let msg = parse_thresholds("ttft=10")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("needs a unit"), "{msg}");
}

#[test]
fn sample_size_formula_matches_the_textbook_case() {
    // σ=0.3, +10%, 18 tests at α=0.01, 95% power: about 540 per side.
    let n = samples_for_shift(0.3, 0.10, 18, ALPHA, 0.95);
    assert!((530..=550).contains(&n), "n={n}");
    // One test at α=0.05 two-sided, 80% power needs far fewer.
    assert!(samples_for_shift(0.3, 0.10, 1, 0.05, 0.80) < 200);
}
