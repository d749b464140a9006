//! Build the tests of one comparison: for every model present in both runs,
//! TTFT and duration p50/p95/p99, cost per request, output tokens, error
//! rate and pass rate; then one Holm–Bonferroni correction over them all.
//! Pass rate is paired (exact McNemar) when both runs checked the same
//! (case, repeat) pairs of a model, else Fisher exact on the totals.

use std::collections::BTreeMap;

use super::input::{CompareError, RunData, Samples};
use crate::stats::{self, Direction, TestResult, Threshold, Verdict, ALPHA};

/// What a metric measures, for formatting its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Milliseconds.
    Ms,
    /// US dollars.
    Usd,
    /// A token count.
    Tokens,
    /// A share, 0..=1.
    Rate,
}

impl MetricKind {
    /// The unit name used in JSON output.
    pub fn unit(self) -> &'static str {
        match self {
            MetricKind::Ms => "ms",
            MetricKind::Usd => "usd",
            MetricKind::Tokens => "tokens",
            MetricKind::Rate => "rate",
        }
    }
}

/// The metrics compared, in output order: (name, threshold family, kind).
pub const METRICS: [(&str, &str, MetricKind); 10] = [
    ("ttft_p50", "ttft", MetricKind::Ms),
    ("ttft_p95", "ttft", MetricKind::Ms),
    ("ttft_p99", "ttft", MetricKind::Ms),
    ("duration_p50", "duration", MetricKind::Ms),
    ("duration_p95", "duration", MetricKind::Ms),
    ("duration_p99", "duration", MetricKind::Ms),
    ("cost_per_request", "cost", MetricKind::Usd),
    ("output_tokens", "output_tokens", MetricKind::Tokens),
    ("error_rate", "error_rate", MetricKind::Rate),
    ("pass_rate", "pass_rate", MetricKind::Rate),
];

/// Default smallest changes that matter, overridden by `--threshold`.
pub const DEFAULT_THRESHOLDS: &str =
    "ttft=10%,duration=10%,cost=5%,output_tokens=10%,error_rate=2pp,pass_rate=2pp";

/// Thresholds by metric family (`ttft`) or exact metric (`ttft_p95`); the
/// exact name wins.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds(BTreeMap<String, Threshold>);

impl Thresholds {
    /// The defaults with `spec` (e.g. `ttft=5%,pass_rate=1pp`) applied on top.
    /// Unknown metric names and wrong units are errors.
    pub fn parse(spec: Option<&str>) -> Result<Thresholds, CompareError> {
        let mut map = stats::parse_thresholds(DEFAULT_THRESHOLDS)
            .map_err(|e| CompareError::Threshold(e.to_string()))?;
        let given = stats::parse_thresholds(spec.unwrap_or(""))
            .map_err(|e| CompareError::Threshold(format!("--threshold: {e}")))?;
        for (name, th) in given {
            let Some(kind) = METRICS
                .iter()
                .find(|(m, family, _)| *m == name || *family == name)
                .map(|m| m.2)
            else {
                let mut known: Vec<&str> = METRICS.iter().flat_map(|m| [m.1, m.0]).collect();
                known.dedup();
                known.sort_unstable();
                known.dedup();
                return Err(CompareError::Threshold(format!(
                    "--threshold: unknown metric `{name}`; known: {}",
                    known.join(", ")
                )));
            };
            let rate = kind == MetricKind::Rate;
            if rate && th.absolute_pp.is_none() {
                return Err(CompareError::Threshold(format!(
                    "--threshold: `{name}` is a rate; give percentage points, e.g. {name}=2pp"
                )));
            }
            if !rate && th.relative.is_none() {
                return Err(CompareError::Threshold(format!(
                    "--threshold: `{name}` takes a relative change, e.g. {name}=10%"
                )));
            }
            map.insert(name, th);
        }
        Ok(Thresholds(map))
    }

    /// The threshold applied to `metric` of `family`.
    pub fn get(&self, metric: &str, family: &str) -> Threshold {
        self.0
            .get(metric)
            .or_else(|| self.0.get(family))
            .copied()
            .unwrap_or_default()
    }
}

/// One compared metric of one model.
#[derive(Clone, Debug)]
pub struct MetricRow {
    /// Model id.
    pub model: String,
    /// What the values measure.
    pub kind: MetricKind,
    /// The test and its final (Holm-corrected) verdict.
    pub result: TestResult,
    /// Samples per side that would detect the observed shift 95% of the
    /// time, when a shift was seen but is not significant.
    pub samples_for_observed_shift: Option<usize>,
}

/// A finished comparison: every row after the family-wise correction.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Where the baseline came from.
    pub baseline: String,
    /// Where the current run came from.
    pub current: String,
    /// Suite of the current run.
    pub suite: String,
    /// Whether either run came from the simulated gateway.
    pub simulated: bool,
    /// Every test, model by model in the current run's order.
    pub rows: Vec<MetricRow>,
    /// Tests in the Holm family (rows with enough samples).
    pub family: usize,
    /// Models only in the baseline (not compared).
    pub only_in_baseline: Vec<String>,
    /// Models only in the current run (not compared).
    pub only_in_current: Vec<String>,
    /// Things the reader should know (e.g. the suites differ).
    pub warnings: Vec<String>,
}

impl Comparison {
    /// True when any metric regressed.
    pub fn regressed(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.result.verdict == Verdict::Regressed)
    }

    /// 1 when a metric regressed, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.regressed() {
            crate::exit::FAILED
        } else {
            crate::exit::OK
        }
    }
}

/// Per-(case, repeat) pass outcomes of one model in both runs, paired when
/// both runs checked exactly the same pairs.
struct PassPairs(Option<Vec<(bool, bool)>>);

impl PassPairs {
    fn of(base: &RunData, cur: &RunData, model: &str) -> PassPairs {
        let (b, c) = (base.pass_outcomes(model), cur.pass_outcomes(model));
        let duplicate = |v: &[((&str, u32), bool)]| v.windows(2).any(|w| w[0].0 == w[1].0);
        let (kb, kc): (Vec<_>, Vec<_>) = (
            b.iter().map(|x| x.0).collect(),
            c.iter().map(|x| x.0).collect(),
        );
        if duplicate(&b) || duplicate(&c) || !stats::same_keys(&kb, &kc) {
            return PassPairs(None);
        }
        PassPairs(Some(b.iter().zip(&c).map(|(x, y)| (x.1, y.1)).collect()))
    }
}

fn test_metric(
    name: &str,
    b: &Samples,
    c: &Samples,
    pairs: &PassPairs,
    th: &Threshold,
) -> TestResult {
    use Direction::*;
    match name {
        "ttft_p50" => stats::compare_location(name, &b.ttft_ms, &c.ttft_ms, LowerIsBetter, th),
        "ttft_p95" => {
            stats::compare_percentile(name, &b.ttft_ms, &c.ttft_ms, 0.95, LowerIsBetter, th)
        }
        "ttft_p99" => {
            stats::compare_percentile(name, &b.ttft_ms, &c.ttft_ms, 0.99, LowerIsBetter, th)
        }
        "duration_p50" => {
            stats::compare_location(name, &b.duration_ms, &c.duration_ms, LowerIsBetter, th)
        }
        "duration_p95" => stats::compare_percentile(
            name,
            &b.duration_ms,
            &c.duration_ms,
            0.95,
            LowerIsBetter,
            th,
        ),
        "duration_p99" => stats::compare_percentile(
            name,
            &b.duration_ms,
            &c.duration_ms,
            0.99,
            LowerIsBetter,
            th,
        ),
        "cost_per_request" => {
            stats::compare_location(name, &b.cost_usd, &c.cost_usd, LowerIsBetter, th)
        }
        "output_tokens" => {
            stats::compare_location(name, &b.output_tokens, &c.output_tokens, LowerIsBetter, th)
        }
        "error_rate" => {
            stats::compare_proportion(name, b.errors, b.sent, c.errors, c.sent, LowerIsBetter, th)
        }
        _ => match &pairs.0 {
            Some(p) => stats::compare_paired_binary(name, p, HigherIsBetter, th),
            None => stats::compare_proportion(
                name,
                b.passed,
                b.checked,
                c.passed,
                c.checked,
                HigherIsBetter,
                th,
            ),
        },
    }
}

fn samples_of<'a>(name: &str, s: &'a Samples) -> &'a [f64] {
    match name {
        "ttft_p50" => &s.ttft_ms,
        "duration_p50" => &s.duration_ms,
        "cost_per_request" => &s.cost_usd,
        "output_tokens" => &s.output_tokens,
        _ => &[],
    }
}

/// Pooled standard deviation of the log values of two positive samples.
fn pooled_log_sigma(a: &[f64], b: &[f64]) -> Option<f64> {
    let mut ss = 0.0;
    let mut dof = 0usize;
    for s in [a, b] {
        if s.len() < 2 || s.iter().any(|v| *v <= 0.0) {
            return None;
        }
        let logs: Vec<f64> = s.iter().map(|v| v.ln()).collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        ss += logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
        dof += logs.len() - 1;
    }
    let sigma = (ss / dof as f64).sqrt();
    (sigma > 0.0).then_some(sigma)
}

/// For a median test that saw a shift of at least half its threshold but
/// is not significant: samples per side needed to detect that shift.
fn samples_hint(row: &MetricRow, b: &Samples, c: &Samples, family: usize) -> Option<usize> {
    let r = &row.result;
    if r.verdict != Verdict::NoSignificantChange || !r.change.is_finite() || r.change == 0.0 {
        return None;
    }
    let (xb, xc) = (samples_of(&r.metric, b), samples_of(&r.metric, c));
    if xb.is_empty() {
        return None;
    }
    let threshold = r.threshold.unwrap_or(0.0);
    if r.change.abs() < threshold / 2.0 {
        return None;
    }
    let sigma = pooled_log_sigma(xb, xc)?;
    let n = stats::samples_for_shift(sigma, r.change.abs(), family, ALPHA, 0.95);
    (n > r.n_baseline.min(r.n_current)).then_some(n)
}

/// Compare two runs. Models present in both are tested; the others are listed.
pub fn compare(base: &RunData, cur: &RunData, thresholds: &Thresholds) -> Comparison {
    let base_models: Vec<&str> = base
        .summary
        .models
        .iter()
        .map(|m| m.model.as_str())
        .collect();
    let cur_models: Vec<&str> = cur
        .summary
        .models
        .iter()
        .map(|m| m.model.as_str())
        .collect();
    let both: Vec<&str> = cur_models
        .iter()
        .copied()
        .filter(|m| base_models.contains(m))
        .collect();
    let mut warnings = Vec::new();
    if base.summary.run.suite_hash != cur.summary.run.suite_hash {
        warnings.push(format!(
            "the suites differ (`{}` {} vs `{}` {}): cases may not be the same",
            base.summary.run.suite,
            short(&base.summary.run.suite_hash),
            cur.summary.run.suite,
            short(&cur.summary.run.suite_hash)
        ));
    }
    if base.summary.run.simulated != cur.summary.run.simulated {
        warnings.push("one run used the simulated gateway and the other did not".into());
    }

    let mut rows = Vec::new();
    let samples: BTreeMap<&str, (Samples, Samples)> = both
        .iter()
        .map(|m| (*m, (base.samples(m), cur.samples(m))))
        .collect();
    for model in &both {
        let (b, c) = &samples[model];
        let pairs = PassPairs::of(base, cur, model);
        if pairs.0.is_none() && (b.checked > 0 || c.checked > 0) {
            warnings.push(format!(
                "{model}: the runs did not check the same (case, repeat) pairs, so its pass rate is compared unpaired (Fisher exact on the totals)"
            ));
        }
        for (metric, family, kind) in METRICS {
            if metric == "pass_rate" && b.checked == 0 && c.checked == 0 {
                continue;
            }
            let th = thresholds.get(metric, family);
            rows.push(MetricRow {
                model: model.to_string(),
                kind,
                result: test_metric(metric, b, c, &pairs, &th),
                samples_for_observed_shift: None,
            });
        }
    }
    let mut results: Vec<TestResult> = rows.iter().map(|r| r.result.clone()).collect();
    stats::holm(&mut results, ALPHA);
    let family = results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::InsufficientSamples { .. }))
        .count();
    for (row, result) in rows.iter_mut().zip(results) {
        row.result = result;
    }
    for row in rows.iter_mut() {
        let (b, c) = &samples[row.model.as_str()];
        row.samples_for_observed_shift = samples_hint(row, b, c, family);
    }
    let missing = |from: &[&str], other: &[&str]| -> Vec<String> {
        from.iter()
            .filter(|m| !other.contains(m))
            .map(|m| m.to_string())
            .collect()
    };
    Comparison {
        baseline: base.label.clone(),
        current: cur.label.clone(),
        suite: cur.summary.run.suite.clone(),
        simulated: base.summary.run.simulated || cur.summary.run.simulated,
        rows,
        family,
        only_in_baseline: missing(&base_models, &cur_models),
        only_in_current: missing(&cur_models, &base_models),
        warnings,
    }
}

fn short(hash: &str) -> &str {
    &hash[..12.min(hash.len())]
}
