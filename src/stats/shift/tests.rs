//! Unit tests of `stats::shift`.

use super::*;
use rand::{rngs::SmallRng, Rng, SeedableRng};

#[test]
fn kth_difference_matches_brute_force() {
    let mut rng = SmallRng::seed_from_u64(7);
    for round in 0..40 {
        let n = 1 + round % 13 + if round > 30 { 150 } else { 0 };
        let m = 1 + (round * 7) % 11 + if round > 30 { 170 } else { 0 };
        // Coarse values so ties are common.
        let mut base: Vec<f64> = (0..n).map(|_| f64::from(rng.gen_range(0..20_u8))).collect();
        let mut cur: Vec<f64> = (0..m).map(|_| rng.gen::<f64>() * 20.0).collect();
        base.sort_by(f64::total_cmp);
        cur.sort_by(f64::total_cmp);
        let mut all: Vec<f64> = base
            .iter()
            .flat_map(|b| cur.iter().map(move |c| c - b))
            .collect();
        all.sort_by(f64::total_cmp);
        for k in [0, all.len() / 3, all.len() / 2, all.len() - 1] {
            assert_eq!(kth_difference(&base, &cur, k), all[k], "n={n} m={m} k={k}");
        }
    }
}

#[test]
fn mann_whitney_matches_reference_values() {
    // Reference: U and the normal approximation with continuity and tie
    // corrections computed by hand (matches scipy.stats.mannwhitneyu with
    // method="asymptotic", use_continuity=True).
    // base = 1..=5, cur = 4..=8: pooled ranks with ties at 4 and 5.
    let base = [1.0, 2.0, 3.0, 4.0, 5.0];
    let cur = [4.0, 5.0, 6.0, 7.0, 8.0];
    let mw = mann_whitney(&base, &cur);
    assert_eq!(mw.u, 23.0);
    // var = 25/12 * (11 - 12/90) = 22.6389; z = (23-12.5-0.5)/4.7580 = 2.1017
    assert!((mw.var - 22.638_889).abs() < 1e-5);
    assert!((mw.p - 0.035_578).abs() < 1e-3, "p={}", mw.p);
    // No overlap, 8 vs 6: U = 48, var = 48*15/12 = 60, z=(24-0.5)/7.746
    let mw = mann_whitney(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0],
    );
    assert_eq!(mw.u, 48.0);
    assert!((mw.p - 0.002_413).abs() < 1e-3, "p={}", mw.p);
    // scipy's documented example (males vs females), asymptotic p = 0.11135.
    let mw = mann_whitney(&[16.0, 19.0, 22.0, 24.0, 29.0], &[11.0, 12.0, 17.0, 20.0]);
    assert_eq!(mw.u, 3.0);
    assert!((mw.p - 0.111_347).abs() < 1e-3, "p={}", mw.p);
    // Identical samples: p = 1.
    assert_eq!(mann_whitney(&base, &base).p, 1.0);
}

#[test]
fn hodges_lehmann_is_the_median_pairwise_difference() {
    let base = [1.0, 2.0, 3.0];
    let cur = [2.0, 4.0, 7.0];
    // Differences: 1,3,6, 0,2,5, -1,1,4 -> sorted -1,0,1,1,2,3,4,5,6 -> median 2.
    let mw = mann_whitney(&base, &cur);
    let (est, lo, hi) = hodges_lehmann(&base, &cur, mw.var, 0.95);
    assert_eq!(est, 2.0);
    assert!(lo <= est && est <= hi);
    // A pure shift is recovered exactly.
    let base: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.37).collect();
    let cur: Vec<f64> = base.iter().map(|v| v + 1.25).collect();
    let mw = mann_whitney(&base, &cur);
    let (est, lo, hi) = hodges_lehmann(&base, &cur, mw.var, 0.95);
    assert!((est - 1.25).abs() < 1e-12);
    assert!(lo < 1.25 && hi > 1.25);
}

#[test]
fn bootstrap_atoms_sum_to_one_and_centre_on_the_quantile() {
    let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
    let atoms = bootstrap_quantile_atoms(&sorted, 0.95);
    let total: f64 = atoms.iter().map(|a| a.1).sum();
    assert!((total - 1.0).abs() < 1e-9);
    let mean: f64 = atoms.iter().map(|a| a.0 * a.1).sum();
    assert!((mean - 95.0).abs() < 1.5, "mean={mean}");
    assert_eq!(nearest_rank(100, 0.95), 95);
    assert_eq!(nearest_rank(10, 0.5), 5);
}
