//! Paired tests: the same cases answered twice (two runs of one model, or two
//! models of one run), so each case is its own control and case difficulty
//! cancels out.
//!
//! - pass/fail per case: exact McNemar (a two-sided binomial test on the
//!   discordant pairs), with the Agresti–Min interval for the difference;
//! - per-case pass fractions (with repeats): a paired sign-flip permutation
//!   test of the mean difference, exact up to [`EXACT_SIGN_FLIP_MAX`] non-zero
//!   differences, else [`SIGN_FLIP_DRAWS`] Monte Carlo draws from a fixed seed
//!   (so a report is reproducible);
//! - per-case latency: Wilcoxon signed-rank on log ratios, exact without ties
//!   up to [`EXACT_WILCOXON_MAX`] pairs, else the normal approximation with
//!   the tie correction (SciPy's `wilcoxon` defaults, zeros dropped).

use rand::{rngs::SmallRng, Rng, SeedableRng};

use super::dist::{ln_choose, normal_quantile, normal_sf};
use super::{ChangeUnit, Direction, TestResult, Threshold, Verdict, CI_LEVEL};

/// Largest number of non-zero differences the sign-flip test enumerates
/// exactly (2^16 sign patterns).
pub const EXACT_SIGN_FLIP_MAX: usize = 16;
/// Monte Carlo draws of the sign-flip test beyond that.
pub const SIGN_FLIP_DRAWS: usize = 20_000;
/// Seed of those draws: the same data always give the same p-value.
pub const SIGN_FLIP_SEED: u64 = 0x5167_F11D;
/// Largest number of pairs for the exact Wilcoxon distribution.
pub const EXACT_WILCOXON_MAX: usize = 50;

/// Exact McNemar test: `b` pairs went pass→fail, `c` went fail→pass.
/// Two-sided binomial p-value of `min(b, c)` out of `b + c` at ½ (1 when
/// there is no discordant pair).
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let ln_half_n = n as f64 * 0.5f64.ln();
    let tail: f64 = (0..=k).map(|i| (ln_choose(n, i) + ln_half_n).exp()).sum();
    (2.0 * tail).min(1.0)
}

/// A paired test's outcome: p-value and the method's name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedP {
    /// Two-sided p-value.
    pub p: f64,
    /// Short method name, as in [`TestResult::method`].
    pub method: &'static str,
}

/// Wilcoxon signed-rank test of `diffs` against a zero median (e.g. per-case
/// log ratios). Zeros are dropped; `None` when no non-zero difference is left.
pub fn wilcoxon_signed_rank(diffs: &[f64]) -> Option<PairedP> {
    let mut d: Vec<f64> = diffs
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x != 0.0)
        .collect();
    let n = d.len();
    if n == 0 {
        return None;
    }
    d.sort_unstable_by(|a, b| a.abs().total_cmp(&b.abs()));
    // Average ranks of tied magnitudes.
    let mut ranks = vec![0.0; n];
    let mut ties = false;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && d[j].abs() == d[i].abs() {
            j += 1;
        }
        let t = (j - i) as f64;
        if j - i > 1 {
            ties = true;
            tie_term += t * t * t - t;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        ranks[i..j].iter_mut().for_each(|r| *r = avg);
        i = j;
    }
    let w_plus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let nf = n as f64;
    if !ties && n <= EXACT_WILCOXON_MAX {
        let total = n * (n + 1) / 2;
        // counts[s] = number of subsets of {1..n} with rank sum s.
        let mut counts = vec![0.0f64; total + 1];
        counts[0] = 1.0;
        for k in 1..=n {
            for s in (k..=total).rev() {
                counts[s] += counts[s - k];
            }
        }
        let w = w_plus.round() as usize;
        let lower = w.min(total - w);
        let tail: f64 = counts[..=lower].iter().sum::<f64>() / 2f64.powi(n as i32);
        return Some(PairedP {
            p: (2.0 * tail).min(1.0),
            method: "wilcoxon-exact",
        });
    }
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
    let p = if var > 0.0 {
        (2.0 * normal_sf((w_plus - mean).abs() / var.sqrt())).min(1.0)
    } else {
        1.0
    };
    Some(PairedP {
        p,
        method: "wilcoxon-normal",
    })
}

/// Paired sign-flip permutation test of the mean of `diffs` (e.g. per-case
/// pass-fraction differences): under no effect each difference is as likely
/// positive as negative. Exact enumeration up to [`EXACT_SIGN_FLIP_MAX`]
/// non-zero differences, else [`SIGN_FLIP_DRAWS`] seeded draws with the
/// `(hits + 1) / (draws + 1)` estimate. `None` without a non-zero difference.
pub fn sign_flip(diffs: &[f64]) -> Option<PairedP> {
    let d: Vec<f64> = diffs
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x != 0.0)
        .collect();
    if d.is_empty() {
        return None;
    }
    let observed = d.iter().sum::<f64>().abs();
    // Sums equal to the observed one up to rounding count as "as extreme".
    let tol = 1e-9 * d.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
    if d.len() <= EXACT_SIGN_FLIP_MAX {
        let patterns = 1u64 << d.len();
        let hits = (0..patterns)
            .filter(|mask| {
                let s: f64 = d
                    .iter()
                    .enumerate()
                    .map(|(i, x)| if mask >> i & 1 == 1 { -x } else { *x })
                    .sum();
                s.abs() >= observed - tol
            })
            .count();
        return Some(PairedP {
            p: hits as f64 / patterns as f64,
            method: "sign-flip-exact",
        });
    }
    let mut rng = SmallRng::seed_from_u64(SIGN_FLIP_SEED);
    let hits = (0..SIGN_FLIP_DRAWS)
        .filter(|_| {
            let s: f64 = d
                .iter()
                .map(|x| if rng.gen::<bool>() { -x } else { *x })
                .sum();
            s.abs() >= observed - tol
        })
        .count();
    Some(PairedP {
        p: (hits + 1) as f64 / (SIGN_FLIP_DRAWS + 1) as f64,
        method: "sign-flip-monte-carlo",
    })
}

/// Compare the pass rate of paired binary outcomes `(baseline, current)`
/// per pair with exact McNemar. `change` is in percentage points with the
/// Agresti–Min interval (Wald on the table with ½ added to each cell).
pub fn compare_paired_binary(
    metric: &str,
    pairs: &[(bool, bool)],
    dir: Direction,
    th: &Threshold,
) -> TestResult {
    let n = pairs.len();
    if n == 0 {
        return TestResult::insufficient(metric, 0, 0, 1, dir);
    }
    let base_hits = pairs.iter().filter(|p| p.0).count();
    let cur_hits = pairs.iter().filter(|p| p.1).count();
    let lost = pairs.iter().filter(|p| p.0 && !p.1).count() as f64;
    let gained = pairs.iter().filter(|p| !p.0 && p.1).count() as f64;
    let z = normal_quantile(0.5 + CI_LEVEL / 2.0);
    let (b, c, nn) = (lost + 0.5, gained + 0.5, n as f64 + 2.0);
    let est = (c - b) / nn;
    let se = ((b + c) - (c - b).powi(2) / nn).max(0.0).sqrt() / nn;
    let nf = n as f64;
    TestResult {
        metric: metric.to_string(),
        baseline: base_hits as f64 / nf,
        current: cur_hits as f64 / nf,
        n_baseline: n,
        n_current: n,
        change: (cur_hits as f64 - base_hits as f64) / nf * 100.0,
        unit: ChangeUnit::Points,
        ci: Some(((est - z * se) * 100.0, (est + z * se) * 100.0)),
        p_value: mcnemar_exact(lost as u64, gained as u64),
        p_adjusted: None,
        method: "mcnemar-exact",
        direction: dir,
        threshold: th.absolute_pp,
        verdict: Verdict::NoSignificantChange,
    }
    .finish()
}

/// Compare per-case pass fractions `(baseline, current)` (each in 0..=1, the
/// share of a case's repeats that passed) with the sign-flip test; `change`
/// is the mean difference in percentage points with a normal interval on the
/// per-case differences.
pub fn compare_paired_fractions(
    metric: &str,
    pairs: &[(f64, f64)],
    dir: Direction,
    th: &Threshold,
) -> TestResult {
    let n = pairs.len();
    if n == 0 {
        return TestResult::insufficient(metric, 0, 0, 1, dir);
    }
    let nf = n as f64;
    let diffs: Vec<f64> = pairs.iter().map(|(b, c)| c - b).collect();
    let mean = diffs.iter().sum::<f64>() / nf;
    let sd = if n > 1 {
        (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt()
    } else {
        0.0
    };
    let half = normal_quantile(0.5 + CI_LEVEL / 2.0) * sd / nf.sqrt();
    let test = sign_flip(&diffs).unwrap_or(PairedP {
        p: 1.0,
        method: "sign-flip-exact",
    });
    TestResult {
        metric: metric.to_string(),
        baseline: pairs.iter().map(|p| p.0).sum::<f64>() / nf,
        current: pairs.iter().map(|p| p.1).sum::<f64>() / nf,
        n_baseline: n,
        n_current: n,
        change: mean * 100.0,
        unit: ChangeUnit::Points,
        ci: Some(((mean - half) * 100.0, (mean + half) * 100.0)),
        p_value: test.p,
        p_adjusted: None,
        method: test.method,
        direction: dir,
        threshold: th.absolute_pp,
        verdict: Verdict::NoSignificantChange,
    }
    .finish()
}

/// Compare paired positive values `(baseline, current)` (e.g. per-case
/// median TTFT) by their ratio: Wilcoxon signed-rank on the log ratios;
/// `change` is `exp(median log ratio) − 1`. Pairs with a non-positive value
/// are dropped; fewer than [`super::MIN_LOCATION_SAMPLES`] pairs are too few.
pub fn compare_paired_ratio(
    metric: &str,
    pairs: &[(f64, f64)],
    dir: Direction,
    th: &Threshold,
) -> TestResult {
    let mut logs: Vec<f64> = pairs
        .iter()
        .filter(|(b, c)| *b > 0.0 && *c > 0.0 && b.is_finite() && c.is_finite())
        .map(|(b, c)| (c / b).ln())
        .collect();
    let n = logs.len();
    if n < super::MIN_LOCATION_SAMPLES {
        return TestResult::insufficient(metric, n, n, super::MIN_LOCATION_SAMPLES, dir);
    }
    logs.sort_unstable_by(f64::total_cmp);
    let test = wilcoxon_signed_rank(&logs).unwrap_or(PairedP {
        p: 1.0,
        method: "wilcoxon-exact",
    });
    let mut base: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let mut cur: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    base.sort_unstable_by(f64::total_cmp);
    cur.sort_unstable_by(f64::total_cmp);
    TestResult {
        metric: metric.to_string(),
        baseline: super::median(&base),
        current: super::median(&cur),
        n_baseline: n,
        n_current: n,
        change: super::median(&logs).exp_m1(),
        unit: ChangeUnit::Relative,
        ci: None,
        p_value: test.p,
        p_adjusted: None,
        method: test.method,
        direction: dir,
        threshold: th.relative,
        verdict: Verdict::NoSignificantChange,
    }
    .finish()
}

/// Whether the same (key) pairs exist on both sides: the condition for a
/// paired pass-rate test. `keys` of each side must be sorted.
pub fn same_keys<K: PartialEq>(base: &[K], cur: &[K]) -> bool {
    !base.is_empty() && base == cur
}

#[cfg(test)]
mod tests;
