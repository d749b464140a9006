//! Unit tests of `stats::paired`.

use super::*;

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9_f64.max(want.abs() * 1e-6),
        "got {got}, want {want}"
    );
}

// Expected values computed with SciPy 1.17.1:
//   scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue
#[test]
fn mcnemar_matches_scipy() {
    close(mcnemar_exact(15, 0), 6.103515625e-05);
    close(mcnemar_exact(10, 3), 0.09228515625);
    close(mcnemar_exact(7, 7), 1.0);
    close(mcnemar_exact(40, 25), 0.08168153394154003);
    close(mcnemar_exact(0, 0), 1.0);
    close(mcnemar_exact(1, 0), 1.0);
}

// Expected values computed with SciPy 1.17.1:
//   scipy.stats.wilcoxon(d, method="exact").pvalue        (no ties)
//   scipy.stats.wilcoxon(d, method="approx").pvalue       (ties)
#[test]
fn wilcoxon_matches_scipy() {
    let d = [0.12, -0.05, 0.31, 0.08, 0.22, -0.14, 0.19, 0.27, 0.03, 0.41];
    let r = wilcoxon_signed_rank(&d).unwrap();
    assert_eq!(r.method, "wilcoxon-exact");
    close(r.p, 0.037109375);
    let all_up: Vec<f64> = (1..=12).map(|i| i as f64 * 0.01).collect();
    close(wilcoxon_signed_rank(&all_up).unwrap().p, 0.00048828125);
    let tied = [0.1, 0.1, -0.1, 0.2, 0.2, 0.3, -0.2, 0.4, 0.1, 0.0, 0.5, 0.3];
    let r = wilcoxon_signed_rank(&tied).unwrap();
    assert_eq!(r.method, "wilcoxon-normal");
    close(r.p, 0.028189356302630857);
    assert!(wilcoxon_signed_rank(&[0.0, 0.0]).is_none());
}

#[test]
fn sign_flip_exact_counts_patterns_and_monte_carlo_is_reproducible() {
    // 5 differences of +1: only all-plus and all-minus are as extreme.
    let p = sign_flip(&[1.0; 5]).unwrap();
    assert_eq!(p.method, "sign-flip-exact");
    close(p.p, 2.0 / 32.0);
    // Balanced differences: p = 1.
    close(sign_flip(&[0.5, -0.5, 1.0, -1.0]).unwrap().p, 1.0);
    let many: Vec<f64> = (0..40)
        .map(|i| if i % 5 == 0 { -0.5 } else { 0.5 })
        .collect();
    let a = sign_flip(&many).unwrap();
    assert_eq!(a.method, "sign-flip-monte-carlo");
    assert_eq!(a, sign_flip(&many).unwrap());
    // 32 of +0.5 and 8 of −0.5: binomial tail 2·P(X ≤ 8 | 40, ½) ≈ 2.2e-4.
    assert!(a.p < 0.001, "{}", a.p);
}

#[test]
fn paired_binary_flags_the_fifteen_flip_scenario() {
    let mut pairs = vec![(true, true); 80];
    pairs.extend(vec![(true, false); 15]);
    pairs.extend(vec![(false, false); 5]);
    let r = compare_paired_binary(
        "pass_rate",
        &pairs,
        Direction::HigherIsBetter,
        &Threshold {
            relative: None,
            absolute_pp: Some(2.0),
        },
    );
    close(r.p_value, 6.103515625e-05);
    close(r.change, -15.0);
    let (lo, hi) = r.ci.unwrap();
    assert!(lo < -15.0 && hi < -2.0, "{lo}..{hi}");
    assert_eq!(r.verdict, Verdict::Regressed);
    assert_eq!(r.method, "mcnemar-exact");
}

#[test]
fn paired_ratio_reports_the_median_log_ratio() {
    let pairs: Vec<(f64, f64)> = (1..=20).map(|i| (i as f64, i as f64 * 1.2)).collect();
    let r = compare_paired_ratio(
        "ttft",
        &pairs,
        Direction::LowerIsBetter,
        &Threshold::default(),
    );
    close(r.change, 0.2);
    // All 20 log ratios are equal (ties): the normal approximation.
    assert_eq!(r.method, "wilcoxon-normal");
    assert!(r.p_value < 0.001);
    assert_eq!(r.verdict, Verdict::Regressed);
    let few = compare_paired_ratio(
        "ttft",
        &pairs[..3],
        Direction::LowerIsBetter,
        &Threshold::default(),
    );
    assert!(matches!(few.verdict, Verdict::InsufficientSamples { .. }));
}
