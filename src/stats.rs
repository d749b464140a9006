//! Statistics behind `evalgate compare`: is a metric of the current run really
//! worse than the baseline, or is it noise?
//!
//! Every metric of every model is one test; a comparison's tests form one
//! family, corrected with Holm–Bonferroni at [`ALPHA`] = 0.01 so that an A/A
//! comparison (no real change) flags anything at most ~1% of the time. A test
//! only becomes [`Verdict::Regressed`] or [`Verdict::Improved`] when it is
//! Holm-significant AND its effect can reach the user's threshold: the end of
//! the 95% confidence interval on the side of the change is at least the
//! threshold (so "+10% median" with a real +10% shift counts, while a
//! significant +2% on a huge sample does not). See [`METHOD`].
//!
//! Pure functions, no I/O. Sample sizes matter: with log-normal noise of
//! σ = 0.3, detecting a +10% median shift 95% of the time inside a family of
//! 18 tests needs about 540 samples per side ([`samples_for_shift`]); with
//! 100 per side no test at 1% error can exceed ~47% detection.

mod dist;
mod paired;
mod shift;
#[cfg(test)]
mod sim_tests;

use std::collections::BTreeMap;

use dist::{fisher_exact, normal_quantile};
pub use paired::{
    compare_paired_binary, compare_paired_fractions, compare_paired_ratio, mcnemar_exact,
    same_keys, sign_flip, wilcoxon_signed_rank, PairedP, EXACT_SIGN_FLIP_MAX, EXACT_WILCOXON_MAX,
    SIGN_FLIP_DRAWS, SIGN_FLIP_SEED,
};
use shift::{bootstrap_quantile_atoms, hodges_lehmann, mann_whitney, nearest_rank};

/// Family-wise error rate of one comparison.
pub const ALPHA: f64 = 0.01;

/// Level of the confidence intervals reported and used by the effect rule.
pub const CI_LEVEL: f64 = 0.95;

/// Fewest samples per side for a median comparison.
pub const MIN_LOCATION_SAMPLES: usize = 5;

/// One line describing the method, printed by `evalgate compare`.
pub const METHOD: &str = "medians: Mann–Whitney U (normal approx., tie+continuity corrected) with \
Hodges–Lehmann shift on log values; p95/p99: exact bootstrap of the percentile ratio; pass \
rate: exact McNemar on the same (case, repeat) pairs, Fisher exact on totals when pairs differ; \
error rate: Fisher exact; Holm–Bonferroni at α=0.01 over all tests; flagged only if significant and the \
95% CI reaches the threshold";

/// Which way is good for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Latency, cost, error rate.
    LowerIsBetter,
    /// Pass rate, throughput.
    HigherIsBetter,
}

/// Outcome of one test after the family-wise correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Significantly better, by at least the threshold.
    Improved,
    /// Not significant, or smaller than the threshold.
    NoSignificantChange,
    /// Significantly worse, by at least the threshold.
    Regressed,
    /// Too few samples for this statistic; `needed` per side.
    InsufficientSamples {
        /// Samples needed on each side.
        needed: usize,
    },
}

/// Unit of [`TestResult::change`], its CI and its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeUnit {
    /// Fraction: 0.10 means current is 10% above baseline.
    Relative,
    /// Percentage points: 2.0 means a rate went from e.g. 90% to 92%.
    Points,
}

/// Smallest change a user cares about for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Threshold {
    /// Relative change, 0.10 = 10%; used by median and percentile tests.
    pub relative: Option<f64>,
    /// Percentage points; used by proportion tests.
    pub absolute_pp: Option<f64>,
}

/// Result of comparing one metric of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    /// Metric name as given by the caller, e.g. `ttft_p50`.
    pub metric: String,
    /// Baseline statistic: median, percentile, or rate (0..=1).
    pub baseline: f64,
    /// Current statistic, same kind as `baseline`.
    pub current: f64,
    /// Samples (or trials) on the baseline side.
    pub n_baseline: usize,
    /// Samples (or trials) on the current side.
    pub n_current: usize,
    /// Estimated change of current over baseline, in `unit`.
    pub change: f64,
    /// Unit of `change`, `ci` and `threshold`.
    pub unit: ChangeUnit,
    /// [`CI_LEVEL`] confidence interval of `change`.
    pub ci: Option<(f64, f64)>,
    /// Two-sided p-value of this test alone.
    pub p_value: f64,
    /// Holm-adjusted p-value within its family; set by [`holm`].
    pub p_adjusted: Option<f64>,
    /// Short name of the test used.
    pub method: &'static str,
    /// Which way is good.
    pub direction: Direction,
    /// Threshold applied, in `unit`; `None` means any significant change counts.
    pub threshold: Option<f64>,
    /// Verdict; final only after [`holm`] (before, as if the family had one test).
    pub verdict: Verdict,
}

impl TestResult {
    /// The verdict for a given significance: direction from the sign of the
    /// change, effect rule on the CI end on that side.
    fn decide(&self, significant: bool) -> Verdict {
        if matches!(self.verdict, Verdict::InsufficientSamples { .. }) {
            return self.verdict;
        }
        if !significant || self.change == 0.0 || self.change.is_nan() {
            return Verdict::NoSignificantChange;
        }
        let up = self.change > 0.0;
        let reaches = match (self.threshold, self.ci) {
            (None, _) => true,
            (Some(t), Some((lo, hi))) => {
                if up {
                    hi >= t
                } else {
                    lo <= -t
                }
            }
            (Some(t), None) => self.change.abs() >= t,
        };
        let worse = up == (self.direction == Direction::LowerIsBetter);
        match (reaches, worse) {
            (false, _) => Verdict::NoSignificantChange,
            (true, true) => Verdict::Regressed,
            (true, false) => Verdict::Improved,
        }
    }

    fn insufficient(
        metric: &str,
        n_base: usize,
        n_cur: usize,
        needed: usize,
        dir: Direction,
    ) -> Self {
        TestResult {
            metric: metric.to_string(),
            baseline: f64::NAN,
            current: f64::NAN,
            n_baseline: n_base,
            n_current: n_cur,
            change: f64::NAN,
            unit: ChangeUnit::Relative,
            ci: None,
            p_value: 1.0,
            p_adjusted: None,
            method: "none",
            direction: dir,
            threshold: None,
            verdict: Verdict::InsufficientSamples { needed },
        }
    }

    fn finish(mut self) -> Self {
        self.verdict = self.decide(self.p_value <= ALPHA);
        self
    }
}

/// Finite values, sorted ascending.
fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if !v.is_sorted() {
        v.sort_unstable_by(f64::total_cmp);
    }
    v
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// `x / scale`, where a zero scale gives ±∞ (or 0 for x = 0).
fn relative_to(x: f64, scale: f64) -> f64 {
    if scale != 0.0 {
        x / scale.abs()
    } else if x == 0.0 {
        0.0
    } else {
        x.signum() * f64::INFINITY
    }
}

/// Compare the typical value (median) of two samples: Mann–Whitney U test,
/// Hodges–Lehmann shift of the logs with its CI; `change` is
/// `exp(shift) − 1`. If any value is ≤ 0 the shift is taken on raw values and
/// divided by the baseline median. Non-finite values are dropped. Also suits
/// skewed per-request metrics such as cost and output tokens.
pub fn compare_location(
    metric: &str,
    base: &[f64],
    cur: &[f64],
    dir: Direction,
    th: &Threshold,
) -> TestResult {
    let (b, c) = (sorted_finite(base), sorted_finite(cur));
    if b.len() < MIN_LOCATION_SAMPLES || c.len() < MIN_LOCATION_SAMPLES {
        return TestResult::insufficient(metric, b.len(), c.len(), MIN_LOCATION_SAMPLES, dir);
    }
    let mw = mann_whitney(&b, &c);
    let (change, ci, method) = if b[0] > 0.0 && c[0] > 0.0 {
        let (lb, lc): (Vec<f64>, Vec<f64>) = (
            b.iter().map(|v| v.ln()).collect(),
            c.iter().map(|v| v.ln()).collect(),
        );
        let (est, lo, hi) = hodges_lehmann(&lb, &lc, mw.var, CI_LEVEL);
        (
            est.exp_m1(),
            (lo.exp_m1(), hi.exp_m1()),
            "mann-whitney+hl-log",
        )
    } else {
        let scale = median(&b);
        let (est, lo, hi) = hodges_lehmann(&b, &c, mw.var, CI_LEVEL);
        let r = |x| relative_to(x, scale);
        (r(est), (r(lo), r(hi)), "mann-whitney+hl-raw")
    };
    TestResult {
        metric: metric.to_string(),
        baseline: median(&b),
        current: median(&c),
        n_baseline: b.len(),
        n_current: c.len(),
        change,
        unit: ChangeUnit::Relative,
        ci: Some(ci),
        p_value: mw.p,
        p_adjusted: None,
        method,
        direction: dir,
        threshold: th.relative,
        verdict: Verdict::NoSignificantChange,
    }
    .finish()
}

/// Samples per side needed to compare the `q` quantile: at least three
/// expected observations above it (p90: 30, p95: 60, p99: 300).
pub fn samples_needed_for_quantile(q: f64) -> usize {
    let tail = (1.0 - q).max(1e-9);
    ((3.0 / tail) - 1e-9).ceil().max(1.0) as usize
}

/// Compare the `q` quantile (e.g. 0.95) of two samples. The statistic is the
/// nearest-rank sample quantile; its CI and p-value come from the exact
/// bootstrap distribution of the ratio `Q_cur / Q_base` (the limit of
/// infinitely many resamples, computed from binomial order-statistic
/// probabilities, so it is deterministic and needs no seed). The p-value is
/// `2·min(P*(ratio ≤ 1), P*(ratio ≥ 1))`. Below
/// [`samples_needed_for_quantile`] per side the verdict is
/// [`Verdict::InsufficientSamples`].
pub fn compare_percentile(
    metric: &str,
    base: &[f64],
    cur: &[f64],
    q: f64,
    dir: Direction,
    th: &Threshold,
) -> TestResult {
    let (b, c) = (sorted_finite(base), sorted_finite(cur));
    let needed = samples_needed_for_quantile(q);
    if b.len() < needed || c.len() < needed {
        return TestResult::insufficient(metric, b.len(), c.len(), needed, dir);
    }
    let qb = b[nearest_rank(b.len(), q) - 1];
    let qc = c[nearest_rank(c.len(), q) - 1];
    let (ab, ac) = (
        bootstrap_quantile_atoms(&b, q),
        bootstrap_quantile_atoms(&c, q),
    );
    // Work with log ratios when every atom is positive, else with differences
    // relative to the baseline quantile.
    let logs = ab.iter().chain(&ac).all(|a| a.0 > 0.0);
    let g = |v: f64| if logs { v.ln() } else { v };
    let xb: Vec<f64> = ab.iter().map(|a| g(a.0)).collect();
    let xc: Vec<f64> = ac.iter().map(|a| g(a.0)).collect();
    let wb: Vec<f64> = ab.iter().map(|a| a.1).collect();
    let wc: Vec<f64> = ac.iter().map(|a| a.1).collect();
    let cdf = |d: f64, strict: bool| pair_cdf(&xb, &wb, &xc, &wc, d, strict);
    let le = cdf(0.0, false);
    let ge = 1.0 - cdf(0.0, true);
    // Smallest d with P*(D <= d) >= target, by bisection between the extremes.
    let quantile = |target: f64| {
        let (mut lo, mut hi) = (xc[0] - xb[xb.len() - 1], xc[xc.len() - 1] - xb[0]);
        if cdf(lo, false) >= target {
            return lo;
        }
        for _ in 0..100 {
            let mid = lo + (hi - lo) / 2.0;
            if mid <= lo || mid >= hi {
                break;
            }
            if cdf(mid, false) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    };
    let tail = (1.0 - CI_LEVEL) / 2.0;
    let (lo, hi) = (quantile(tail), quantile(1.0 - tail));
    let (change, ci) = if logs {
        (qc / qb - 1.0, (lo.exp_m1(), hi.exp_m1()))
    } else {
        let r = |x| relative_to(x, qb);
        (r(qc - qb), (r(lo), r(hi)))
    };
    TestResult {
        metric: metric.to_string(),
        baseline: qb,
        current: qc,
        n_baseline: b.len(),
        n_current: c.len(),
        change,
        unit: ChangeUnit::Relative,
        ci: Some(ci),
        p_value: (2.0 * le.min(ge)).min(1.0),
        p_adjusted: None,
        method: "exact-bootstrap-percentile",
        direction: dir,
        threshold: th.relative,
        verdict: Verdict::NoSignificantChange,
    }
    .finish()
}

/// `P(c − b <= d)` (or `< d` if `strict`) for independent discrete `b`, `c`
/// with ascending atoms `xb`, `xc` and probabilities `wb`, `wc`.
fn pair_cdf(xb: &[f64], wb: &[f64], xc: &[f64], wc: &[f64], d: f64, strict: bool) -> f64 {
    // As b grows more of `c` qualifies, so one forward pointer suffices.
    let (mut j, mut mass_c, mut total) = (0, 0.0, 0.0);
    for (&b, &w) in xb.iter().zip(wb) {
        while j < xc.len()
            && (if strict {
                xc[j] - b < d
            } else {
                xc[j] - b <= d
            })
        {
            mass_c += wc[j];
            j += 1;
        }
        total += w * mass_c;
    }
    let norm: f64 = wb.iter().sum::<f64>() * wc.iter().sum::<f64>();
    total / norm
}

/// Wilson score interval of a proportion.
fn wilson(hits: f64, n: f64, z: f64) -> (f64, f64) {
    let p = hits / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

/// Compare two proportions (error rate, pass rate): two-sided Fisher exact
/// test; `change` is in percentage points with Newcombe's hybrid score CI;
/// the threshold is `th.absolute_pp`. Hits above the trial count are capped.
pub fn compare_proportion(
    metric: &str,
    base_hits: u64,
    base_n: u64,
    cur_hits: u64,
    cur_n: u64,
    dir: Direction,
    th: &Threshold,
) -> TestResult {
    if base_n == 0 || cur_n == 0 {
        return TestResult::insufficient(metric, base_n as usize, cur_n as usize, 1, dir);
    }
    let (bh, ch) = (base_hits.min(base_n), cur_hits.min(cur_n));
    let p = fisher_exact(bh, base_n - bh, ch, cur_n - ch);
    let (pb, pc) = (bh as f64 / base_n as f64, ch as f64 / cur_n as f64);
    let z = normal_quantile(0.5 + CI_LEVEL / 2.0);
    let (lb, ub) = wilson(bh as f64, base_n as f64, z);
    let (lc, uc) = wilson(ch as f64, cur_n as f64, z);
    let d = pc - pb;
    let lo = d - ((pc - lc).powi(2) + (ub - pb).powi(2)).sqrt();
    let hi = d + ((uc - pc).powi(2) + (pb - lb).powi(2)).sqrt();
    TestResult {
        metric: metric.to_string(),
        baseline: pb,
        current: pc,
        n_baseline: base_n as usize,
        n_current: cur_n as usize,
        change: d * 100.0,
        unit: ChangeUnit::Points,
        ci: Some((lo * 100.0, hi * 100.0)),
        p_value: p,
        p_adjusted: None,
        method: "fisher-exact",
        direction: dir,
        threshold: th.absolute_pp,
        verdict: Verdict::NoSignificantChange,
    }
    .finish()
}

/// Holm–Bonferroni over one comparison's family: sets `p_adjusted` and the
/// final verdict of every result. Results with insufficient samples are not
/// tests and do not count in the family size.
pub fn holm(results: &mut [TestResult], alpha: f64) {
    let mut order: Vec<usize> = (0..results.len())
        .filter(|&i| !matches!(results[i].verdict, Verdict::InsufficientSamples { .. }))
        .collect();
    order.sort_by(|&a, &b| results[a].p_value.total_cmp(&results[b].p_value));
    let m = order.len();
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let p = results[i].p_value;
        let adjusted = if p.is_nan() {
            1.0
        } else {
            ((m - rank) as f64 * p).min(1.0).max(running)
        };
        running = adjusted;
        results[i].p_adjusted = Some(adjusted);
        results[i].verdict = results[i].decide(adjusted <= alpha);
    }
}

/// Samples per side for which a relative median shift `shift` (0.10) under
/// log-normal noise of log-σ `sigma` is flagged with probability `power`,
/// when the test is one of `family` Holm-corrected tests at `alpha`
/// (Mann–Whitney's efficiency 3/π under normal logs).
pub fn samples_for_shift(sigma: f64, shift: f64, family: usize, alpha: f64, power: f64) -> usize {
    let z_alpha = normal_quantile(1.0 - alpha / (2.0 * family.max(1) as f64));
    let z_power = normal_quantile(power);
    let per_sd = (1.0 + shift).ln() / sigma;
    let n = 2.0 * ((z_alpha + z_power) / per_sd).powi(2) / (3.0 / std::f64::consts::PI);
    n.ceil() as usize
}

/// Why a threshold spec was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// An item lacks `=`.
    #[error("threshold `{0}` must look like `metric=10%` or `metric=2pp`")]
    Syntax(String),
    /// The value has no `%` or `pp` unit.
    #[error("threshold `{0}` needs a unit: `%` (relative) or `pp` (percentage points)")]
    Unit(String),
    /// The number does not parse or is negative.
    #[error("threshold `{0}` must be a non-negative number followed by `%` or `pp`")]
    Number(String),
    /// The same metric appears twice.
    #[error("threshold for `{0}` given twice")]
    Duplicate(String),
}

/// Parse `"ttft=10%,duration=10%,cost=5%,pass_rate=2pp"`: `%` sets
/// [`Threshold::relative`] (10% → 0.10), `pp` sets [`Threshold::absolute_pp`].
/// An empty spec gives no thresholds.
pub fn parse_thresholds(spec: &str) -> Result<BTreeMap<String, Threshold>, ThresholdError> {
    let mut out = BTreeMap::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| ThresholdError::Syntax(item.to_string()))?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ThresholdError::Syntax(item.to_string()));
        }
        let (number, relative) = if let Some(n) = value.strip_suffix('%') {
            (n, true)
        } else if let Some(n) = value.strip_suffix("pp") {
            (n, false)
        } else {
            return Err(ThresholdError::Unit(item.to_string()));
        };
        let x: f64 = number
            .trim()
            .parse()
            .map_err(|_| ThresholdError::Number(item.to_string()))?;
        if !x.is_finite() || x < 0.0 {
            return Err(ThresholdError::Number(item.to_string()));
        }
        let th = if relative {
            Threshold {
                relative: Some(x / 100.0),
                absolute_pp: None,
            }
        } else {
            Threshold {
                relative: None,
                absolute_pp: Some(x),
            }
        };
        if out.insert(name.to_string(), th).is_some() {
            return Err(ThresholdError::Duplicate(name.to_string()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
