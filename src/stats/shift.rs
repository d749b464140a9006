//! Rank statistics of two samples: the Mann–Whitney U test, the
//! Hodges–Lehmann shift with its distribution-free confidence interval, and the
//! exact bootstrap distribution of a sample quantile.
//!
//! The Hodges–Lehmann estimate is an order statistic of the `n·m` pairwise
//! differences; [`kth_difference`] finds one without materialising them all
//! (bisection on the value with an O(n+m) count, then a small band), so
//! comparisons of a few thousand samples per side stay cheap.

use super::dist::{inc_beta, normal_quantile, normal_sf};

/// Mann–Whitney U for `cur` against `base`.
pub(crate) struct MannWhitney {
    /// `U` of the current sample (count of pairs with cur > base, ties ½);
    /// only the tests read it, against published values.
    #[cfg_attr(not(test), allow(dead_code))]
    pub u: f64,
    /// Variance of `U` under H0, tie-corrected.
    pub var: f64,
    /// Two-sided p-value, normal approximation with continuity correction.
    pub p: f64,
}

/// Mann–Whitney U test on two sorted samples (normal approximation with tie
/// and continuity corrections). Ranks are invariant to monotone transforms, so
/// testing raw values is testing their logs.
pub(crate) fn mann_whitney(base: &[f64], cur: &[f64]) -> MannWhitney {
    let (n, m) = (base.len() as f64, cur.len() as f64);
    let total = n + m;
    // Merge the two sorted samples, assigning mid-ranks to tied runs.
    let (mut i, mut j, mut rank) = (0, 0, 0.0_f64);
    let (mut rank_sum_cur, mut tie_term) = (0.0_f64, 0.0_f64);
    while i < base.len() || j < cur.len() {
        let v = match (base.get(i), cur.get(j)) {
            (Some(&b), Some(&c)) => b.min(c),
            (Some(&b), None) => b,
            (None, Some(&c)) => c,
            (None, None) => break,
        };
        let (mut tb, mut tc) = (0.0, 0.0);
        while base.get(i) == Some(&v) {
            i += 1;
            tb += 1.0;
        }
        while cur.get(j) == Some(&v) {
            j += 1;
            tc += 1.0;
        }
        let t: f64 = tb + tc;
        let mid = rank + (t + 1.0) / 2.0;
        rank += t;
        rank_sum_cur += tc * mid;
        tie_term += t * t * t - t;
    }
    let u = rank_sum_cur - m * (m + 1.0) / 2.0;
    let var = n * m / 12.0 * ((total + 1.0) - tie_term / (total * (total - 1.0)));
    let p = if var > 0.0 {
        let z = ((u - n * m / 2.0).abs() - 0.5).max(0.0) / var.sqrt();
        (2.0 * normal_sf(z)).min(1.0)
    } else {
        1.0
    };
    MannWhitney { u, var, p }
}

/// Number of pairs with `cur[j] - base[i] <= t` (both sorted ascending).
fn count_le(base: &[f64], cur: &[f64], t: f64) -> usize {
    // c - b <= t admits more of `cur` as b grows, so one forward pointer
    // into `cur` serves the whole ascending walk over `base`.
    let mut count = 0;
    let mut j = 0;
    for &b in base {
        while j < cur.len() && cur[j] - b <= t {
            j += 1;
        }
        count += j;
    }
    count
}

/// The `k`-th smallest (0-based) of the pairwise differences `cur[j] - base[i]`
/// of two sorted, non-empty samples.
pub(crate) fn kth_difference(base: &[f64], cur: &[f64], k: usize) -> f64 {
    let (n, m) = (base.len(), cur.len());
    // Bisect until few candidates remain: a count costs O(n+m), selecting in
    // a large band costs more.
    let band_limit = 32;
    let mut lo = cur[0] - base[n - 1];
    let mut hi = cur[m - 1] - base[0];
    let mut below = count_le(base, cur, lo);
    if below > k {
        return lo;
    }
    let mut upto = n * m;
    // Invariant: count_le(lo) = below <= k < upto = count_le(hi).
    // Regula falsi on the rank (differences are dense in the middle, so the
    // interpolated point is usually close), with a bisection step every third
    // round so a lopsided bracket still halves.
    for round in 0..200 {
        if upto - below <= band_limit {
            break;
        }
        let frac = (k as f64 + 0.5 - below as f64) / (upto - below) as f64;
        let mut mid = if round % 3 == 2 {
            lo + (hi - lo) / 2.0
        } else {
            lo + (hi - lo) * frac
        };
        if mid <= lo || mid >= hi {
            mid = lo + (hi - lo) / 2.0;
            if mid <= lo || mid >= hi {
                break;
            }
        }
        let c = count_le(base, cur, mid);
        if c > k {
            hi = mid;
            upto = c;
        } else {
            lo = mid;
            below = c;
        }
    }
    // Collect the differences in (lo, hi] with two forward pointers per the
    // same monotonicity as `count_le`, then select among them.
    let mut band = Vec::with_capacity(upto - below);
    let (mut start, mut end) = (0, 0);
    for &b in base {
        while start < m && cur[start] - b <= lo {
            start += 1;
        }
        while end < m && cur[end] - b <= hi {
            end += 1;
        }
        band.extend(cur[start..end.max(start)].iter().map(|&c| c - b));
    }
    let idx = k - below;
    let (_, v, _) = band.select_nth_unstable_by(idx, f64::total_cmp);
    *v
}

/// Hodges–Lehmann shift of `cur` over `base` with a `level` confidence
/// interval inverted from the Mann–Whitney test (Lehmann 1975; tie-corrected
/// variance): `(estimate, lower, upper)`.
pub(crate) fn hodges_lehmann(base: &[f64], cur: &[f64], var_u: f64, level: f64) -> (f64, f64, f64) {
    let nm = base.len() * cur.len();
    let est = if nm % 2 == 1 {
        kth_difference(base, cur, nm / 2)
    } else {
        (kth_difference(base, cur, nm / 2 - 1) + kth_difference(base, cur, nm / 2)) / 2.0
    };
    let z = normal_quantile(0.5 + level / 2.0);
    let k = (nm as f64 / 2.0 - z * var_u.sqrt()).floor();
    // k is 1-based rank of the lower bound; clamp into range.
    let k = (k.max(1.0) as usize).min(nm);
    let lower = kth_difference(base, cur, k - 1);
    let upper = kth_difference(base, cur, nm - k);
    (est, lower, upper)
}

/// 1-based nearest-rank index of quantile `q` in a sample of `n`.
pub(crate) fn nearest_rank(n: usize, q: f64) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n)
}

/// Exact bootstrap distribution of the nearest-rank `q` quantile of a sorted
/// sample: the atoms `(value, probability)` a resample's quantile takes, with
/// probabilities below 1e-12 dropped. `P(X*_(k) <= x_(j)) = P(Bin(n, j/n) >= k)`,
/// so this is the limit of infinitely many resamples, computed directly.
pub(crate) fn bootstrap_quantile_atoms(sorted: &[f64], q: f64) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let k = nearest_rank(n, q);
    // tail(j) = P(resampled k-th order statistic <= x_(j)).
    let tail = |j: usize| inc_beta(k as f64, (n - k + 1) as f64, j as f64 / n as f64);
    let mut lo = k;
    while lo > 1 && tail(lo - 1) > 1e-12 {
        lo -= 1;
    }
    let mut hi = k;
    while hi < n && 1.0 - tail(hi) > 1e-12 {
        hi += 1;
    }
    let mut atoms = Vec::with_capacity(hi - lo + 1);
    let mut prev = tail(lo - 1);
    for j in lo..=hi {
        let t = tail(j);
        atoms.push((sorted[j - 1], (t - prev).max(0.0)));
        prev = t;
    }
    atoms
}

#[cfg(test)]
mod tests;
