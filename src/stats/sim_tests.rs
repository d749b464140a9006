//! Simulations that check the acceptance targets of [`super`]: the A/A false
//! flag rate of a whole comparison, and the detection rate of a +10% median
//! TTFT shift. Seeded, so the figures are reproducible; run with
//! `cargo test stats -- --nocapture` to see them.

use super::*;
use rand::{rngs::SmallRng, Rng, SeedableRng};

const MODELS: usize = 3;
const COMPARISONS: usize = 1000;
const SIGMA: f64 = 0.3;
const THRESHOLDS: &str =
    "ttft_p50=10%,duration_p50=10%,ttft_p95=10%,cost=5%,error_rate=2pp,pass_rate=2pp";

/// `n` log-normal draws with the given median and log-σ (Box–Muller).
fn log_normal(rng: &mut SmallRng, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let u1: f64 = 1.0 - rng.gen::<f64>();
            let u2: f64 = rng.gen();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            median * (sigma * z).exp()
        })
        .collect()
}

fn binomial(rng: &mut SmallRng, n: usize, p: f64) -> u64 {
    (0..n).filter(|_| rng.gen::<f64>() < p).count() as u64
}

/// One comparison: 3 models x 6 tests, one Holm family. `ttft_factor`
/// multiplies model 0's current TTFT samples.
fn comparison(
    rng: &mut SmallRng,
    n: usize,
    ttft_factor: f64,
    th: &BTreeMap<String, Threshold>,
) -> Vec<TestResult> {
    use Direction::{HigherIsBetter, LowerIsBetter};
    let t = |name: &str| th.get(name).copied().unwrap_or_default();
    let mut results = Vec::with_capacity(MODELS * 6);
    for model in 0..MODELS {
        let scale = 1.0 + model as f64;
        let factor = if model == 0 { ttft_factor } else { 1.0 };
        let ttft_b = log_normal(rng, n, 0.4 * scale, SIGMA);
        let ttft_c: Vec<f64> = log_normal(rng, n, 0.4 * scale, SIGMA)
            .into_iter()
            .map(|v| v * factor)
            .collect();
        let dur_b = log_normal(rng, n, 2.0 * scale, SIGMA);
        let dur_c = log_normal(rng, n, 2.0 * scale, SIGMA);
        let cost_b = log_normal(rng, n, 0.001 * scale, SIGMA);
        let cost_c = log_normal(rng, n, 0.001 * scale, SIGMA);
        results.push(compare_location(
            "ttft_p50",
            &ttft_b,
            &ttft_c,
            LowerIsBetter,
            &t("ttft_p50"),
        ));
        results.push(compare_location(
            "duration_p50",
            &dur_b,
            &dur_c,
            LowerIsBetter,
            &t("duration_p50"),
        ));
        results.push(compare_percentile(
            "ttft_p95",
            &ttft_b,
            &ttft_c,
            0.95,
            LowerIsBetter,
            &t("ttft_p95"),
        ));
        results.push(compare_location(
            "cost",
            &cost_b,
            &cost_c,
            LowerIsBetter,
            &t("cost"),
        ));
        let (eb, ec) = (binomial(rng, n, 0.03), binomial(rng, n, 0.03));
        results.push(compare_proportion(
            "error_rate",
            eb,
            n as u64,
            ec,
            n as u64,
            LowerIsBetter,
            &t("error_rate"),
        ));
        let (pb, pc) = (binomial(rng, n, 0.8), binomial(rng, n, 0.8));
        results.push(compare_proportion(
            "pass_rate",
            pb,
            n as u64,
            pc,
            n as u64,
            HigherIsBetter,
            &t("pass_rate"),
        ));
    }
    holm(&mut results, ALPHA);
    results
}

fn flagged(r: &TestResult) -> bool {
    matches!(r.verdict, Verdict::Regressed | Verdict::Improved)
}

/// Fractions of the simulated comparisons.
struct Rates {
    /// Any test flagged.
    any: f64,
    /// A test flagged other than model 0's TTFT median and p95 (the ones a
    /// TTFT shift really changes).
    unshifted: f64,
    /// Model 0's TTFT median regressed.
    detected: f64,
}

fn simulate(seed: u64, comparisons: usize, n: usize, ttft_factor: f64) -> Rates {
    let th = parse_thresholds(THRESHOLDS).unwrap_or_default();
    assert_eq!(th.len(), 6);
    let mut rng = SmallRng::seed_from_u64(seed);
    let (mut any, mut unshifted, mut detected) = (0, 0, 0);
    for _ in 0..comparisons {
        let rs = comparison(&mut rng, n, ttft_factor, &th);
        assert_eq!(rs.len(), MODELS * 6);
        assert!(
            rs.iter().all(|r| r.p_adjusted.is_some()),
            "every test is in the family"
        );
        any += usize::from(rs.iter().any(flagged));
        unshifted += usize::from(
            rs.iter()
                .enumerate()
                .any(|(i, r)| i != 0 && i != 2 && flagged(r)),
        );
        detected += usize::from(rs[0].verdict == Verdict::Regressed);
    }
    let rate = |k: usize| k as f64 / comparisons as f64;
    Rates {
        any: rate(any),
        unshifted: rate(unshifted),
        detected: rate(detected),
    }
}

#[test]
fn stats_sim_aa_comparisons_rarely_flag_anything() {
    let any_flag = simulate(0xA11CE, COMPARISONS, 100, 1.0).any;
    println!(
        "stats sim A/A: {COMPARISONS} comparisons x {} tests, 100 samples/side: \
         {:.1}% flagged anything (target <= 1%)",
        MODELS * 6,
        any_flag * 100.0
    );
    assert!(any_flag <= 0.01, "A/A false flag rate {any_flag}");
}

#[test]
fn stats_sim_ten_percent_ttft_shift_at_100_samples_matches_theory() {
    // The brief's case. No level-1% test on these data can beat the
    // Neyman–Pearson bound Φ(ln1.1/(0.3·√(2/100)) − z_.99) ≈ 47%; inside an
    // 18-test Holm family the expected figure is ~10%.
    let small = simulate(0xBEEF, COMPARISONS, 100, 1.10);
    println!(
        "stats sim +10% TTFT median, 100 samples/side: {:.1}% detected (flags on unchanged tests {:.1}%)",
        small.detected * 100.0,
        small.unshifted * 100.0
    );
    assert!(
        (0.04..0.25).contains(&small.detected),
        "detection at n=100: {}",
        small.detected
    );
    // Flags on the unchanged tests: ~0.5% in long runs; 1000 comparisons
    // scatter that by ±0.2%, and this seed lands high, so allow 2%.
    assert!(small.unshifted <= 0.02, "{}", small.unshifted);
}

#[test]
fn stats_sim_ten_percent_ttft_shift_is_detected_with_enough_samples() {
    let n_needed = samples_for_shift(SIGMA, 0.10, MODELS * 6, ALPHA, 0.95);
    // A little above the formula's n, since the CI effect rule must also hold.
    // 400 comparisons keep the debug-build test fast; expected ~97%, so the
    // 95% bar is ~3 standard errors away.
    let (n_big, comparisons) = (600, 400);
    let big = simulate(0xBEEF, comparisons, n_big, 1.10);
    println!(
        "stats sim +10% TTFT median, {n_big} samples/side ({comparisons} comparisons): {:.1}% detected \
         (flags on unchanged tests {:.1}%; formula says {n_needed}/side for 95%)",
        big.detected * 100.0,
        big.unshifted * 100.0
    );
    assert!(
        big.detected >= 0.95,
        "detection at n={n_big}: {}",
        big.detected
    );
    assert!(big.unshifted <= 0.02, "{}", big.unshifted);
}

/// Per-case outcomes `(baseline, current)` of `n` cases. Each case passes
/// with rate `rate`, or (None) a rate of its own difficulty (most cases easy,
/// some coin flips, a few nearly always failing); each passing baseline case
/// fails in the current run with probability `drop`, else both runs draw
/// independently from the case's rate.
fn paired_outcomes(
    rng: &mut SmallRng,
    n: usize,
    rate: Option<f64>,
    drop: f64,
) -> Vec<(bool, bool)> {
    (0..n)
        .map(|_| {
            let u: f64 = rng.gen();
            let q = if let Some(r) = rate {
                r
            } else if u < 0.7 {
                0.97
            } else if u < 0.9 {
                0.6
            } else {
                0.1
            };
            let base = rng.gen::<f64>() < q;
            let cur = if drop > 0.0 {
                base && rng.gen::<f64>() >= drop
            } else {
                rng.gen::<f64>() < q
            };
            (base, cur)
        })
        .collect()
}

/// The unpaired test on the same outcomes: Fisher exact on the totals.
fn fisher_on_totals(pairs: &[(bool, bool)], th: &Threshold) -> TestResult {
    let n = pairs.len() as u64;
    let b = pairs.iter().filter(|p| p.0).count() as u64;
    let c = pairs.iter().filter(|p| p.1).count() as u64;
    compare_proportion("pass_rate", b, n, c, n, Direction::HigherIsBetter, th)
}

/// A comparison of 3 models x 6 tests whose pass-rate tests use `pairs`
/// (one per model), paired (McNemar) or not (Fisher on totals).
fn family_with_pass_pairs(
    rng: &mut SmallRng,
    pairs: &[Vec<(bool, bool)>],
    paired: bool,
    th: &BTreeMap<String, Threshold>,
) -> Vec<TestResult> {
    let mut rs = comparison(rng, 100, 1.0, th);
    let t = th.get("pass_rate").copied().unwrap_or_default();
    for (model, p) in pairs.iter().enumerate() {
        rs[model * 6 + 5] = if paired {
            compare_paired_binary("pass_rate", p, Direction::HigherIsBetter, &t)
        } else {
            fisher_on_totals(p, &t)
        };
    }
    holm(&mut rs, ALPHA);
    rs
}

#[test]
fn stats_sim_fifteen_flips_are_flagged_paired_and_missed_unpaired() {
    let th = parse_thresholds(THRESHOLDS).unwrap_or_default();
    // The scenario for model 0: 95% → 80% on 100 cases, exactly 15
    // pass→fail flips and none back; models 1 and 2 unchanged.
    let mut flips = vec![(true, true); 80];
    flips.extend([(true, false); 15]);
    flips.extend([(false, false); 5]);
    let mut rng = SmallRng::seed_from_u64(0xF11B5);
    let same = paired_outcomes(&mut rng, 100, None, 0.0);
    let same2 = paired_outcomes(&mut rng, 100, None, 0.0);
    let pairs = [flips, same, same2];
    let mut rng = SmallRng::seed_from_u64(1);
    let paired = family_with_pass_pairs(&mut rng, &pairs, true, &th);
    let mut rng = SmallRng::seed_from_u64(1);
    let unpaired = family_with_pass_pairs(&mut rng, &pairs, false, &th);
    let (p, u) = (&paired[5], &unpaired[5]);
    println!(
        "stats sim 15 flips: McNemar p={:.2e} (Holm {:.2e}) → {:?}; Fisher p={:.4} (Holm {:.4}) → {:?}",
        p.p_value,
        p.p_adjusted.unwrap_or(f64::NAN),
        p.verdict,
        u.p_value,
        u.p_adjusted.unwrap_or(f64::NAN),
        u.verdict
    );
    assert!((p.p_value - 6.103515625e-05).abs() < 1e-12);
    assert_eq!(p.verdict, Verdict::Regressed);
    assert!((0.001..0.004).contains(&u.p_value), "{}", u.p_value);
    assert_eq!(u.verdict, Verdict::NoSignificantChange);
}

#[test]
fn stats_sim_paired_pass_rate_power_and_aa_false_alarms() {
    let th = parse_thresholds(THRESHOLDS).unwrap_or_default();
    let runs = 500;
    let mut rng = SmallRng::seed_from_u64(0xDEC1DE);
    let (mut paired_hits, mut unpaired_hits, mut aa_any) = (0, 0, 0);
    for _ in 0..runs {
        // Model 0 passes 95% of its cases and loses each passing case with
        // probability 15/95 (95% → 80% on average); the others are A/A.
        let pairs = [
            paired_outcomes(&mut rng, 100, Some(0.95), 15.0 / 95.0),
            paired_outcomes(&mut rng, 100, None, 0.0),
            paired_outcomes(&mut rng, 100, None, 0.0),
        ];
        let seed = rng.gen();
        let p = family_with_pass_pairs(&mut SmallRng::seed_from_u64(seed), &pairs, true, &th);
        let u = family_with_pass_pairs(&mut SmallRng::seed_from_u64(seed), &pairs, false, &th);
        paired_hits += usize::from(p[5].verdict == Verdict::Regressed);
        unpaired_hits += usize::from(u[5].verdict == Verdict::Regressed);
        let aa = [
            paired_outcomes(&mut rng, 100, None, 0.0),
            paired_outcomes(&mut rng, 100, None, 0.0),
            paired_outcomes(&mut rng, 100, None, 0.0),
        ];
        let rs = family_with_pass_pairs(&mut rng, &aa, true, &th);
        aa_any += usize::from(rs.iter().any(flagged));
    }
    let rate = |k: usize| k as f64 / runs as f64;
    println!(
        "stats sim pass-rate drop on 100 paired cases ({runs} comparisons, 18-test family): \
         paired McNemar detects {:.1}%, unpaired Fisher {:.1}%; A/A with paired pass rates: \
         {:.1}% flagged anything (target <= 1%)",
        rate(paired_hits) * 100.0,
        rate(unpaired_hits) * 100.0,
        rate(aa_any) * 100.0
    );
    assert!(rate(paired_hits) > rate(unpaired_hits) + 0.2);
    assert!(rate(aa_any) <= 0.01, "A/A false alarms {}", rate(aa_any));
}
