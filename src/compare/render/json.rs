//! `compare --format json`: the output contract, through dedicated types.

use serde::Serialize;

use super::super::analyze::{Comparison, MetricRow};
use super::rows::verdict_key;
use super::{RenderError, RenderInput};
use crate::stats::{ChangeUnit, Verdict, ALPHA, METHOD};

/// Version of the `compare --format json` document.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// `compare --format json`: pretty-printed, ending with a newline.
pub fn render(input: &RenderInput<'_>) -> Result<String, RenderError> {
    let mut s = serde_json::to_string_pretty(&json(input.cmp))?;
    s.push('\n');
    Ok(s)
}

/// `compare --format json`: the output contract.
#[derive(Serialize, Debug)]
pub struct CompareJson {
    /// Version of this document; currently 1.
    pub schema_version: u32,
    /// The statistical method, in words.
    pub method: &'static str,
    /// Family-wise error rate.
    pub alpha: f64,
    /// Tests in the Holm family.
    pub tests: usize,
    /// Where the baseline came from (directory or `history:<id>`).
    pub baseline: String,
    /// Where the current run came from.
    pub current: String,
    /// True when any metric regressed (exit code 1).
    pub regressed: bool,
    /// One entry per metric per model present in both runs.
    pub rows: Vec<MetricJson>,
    /// Models only in the baseline.
    pub only_in_baseline: Vec<String>,
    /// Models only in the current run.
    pub only_in_current: Vec<String>,
    /// Warnings (e.g. the suites differ).
    pub warnings: Vec<String>,
}

/// One compared metric in JSON. Absent numbers are `null`.
#[derive(Serialize, Debug)]
pub struct MetricJson {
    pub model: String,
    /// `ttft_p50`, `ttft_p95`, `ttft_p99`, `duration_p50`, `duration_p95`,
    /// `duration_p99`, `cost_per_request`, `output_tokens`, `error_rate`, `pass_rate`.
    pub metric: String,
    /// `ms`, `usd`, `tokens` or `rate` (0..1).
    pub unit: &'static str,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub n_baseline: usize,
    pub n_current: usize,
    /// Change of current over baseline: a fraction (0.1 = +10%) or percentage points.
    pub change: Option<f64>,
    /// `relative` or `pp`.
    pub change_unit: &'static str,
    /// 95% confidence interval of `change`.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value.
    pub p_adjusted: Option<f64>,
    /// Threshold in `change_unit`.
    pub threshold: Option<f64>,
    /// The test used.
    pub test: &'static str,
    /// `improved`, `no_significant_change`, `regressed` or `insufficient_samples`.
    pub verdict: &'static str,
    /// Samples per side needed: for `insufficient_samples`, the minimum;
    /// otherwise, to detect the observed (non-significant) shift.
    pub samples_needed: Option<usize>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn metric_json(row: &MetricRow) -> MetricJson {
    let r = &row.result;
    let insufficient = matches!(r.verdict, Verdict::InsufficientSamples { .. });
    MetricJson {
        model: row.model.clone(),
        metric: r.metric.clone(),
        unit: row.kind.unit(),
        baseline: finite(r.baseline),
        current: finite(r.current),
        n_baseline: r.n_baseline,
        n_current: r.n_current,
        change: finite(r.change),
        change_unit: match r.unit {
            ChangeUnit::Relative => "relative",
            ChangeUnit::Points => "pp",
        },
        ci_low: r.ci.and_then(|c| finite(c.0)),
        ci_high: r.ci.and_then(|c| finite(c.1)),
        p_value: (!insufficient).then_some(r.p_value),
        p_adjusted: r.p_adjusted,
        threshold: r.threshold,
        test: r.method,
        verdict: verdict_key(r.verdict),
        samples_needed: match r.verdict {
            Verdict::InsufficientSamples { needed } => Some(needed),
            _ => row.samples_for_observed_shift,
        },
    }
}

/// The JSON document for a comparison.
pub fn json(cmp: &Comparison) -> CompareJson {
    CompareJson {
        schema_version: COMPARE_SCHEMA_VERSION,
        method: METHOD,
        alpha: ALPHA,
        tests: cmp.family,
        baseline: cmp.baseline.clone(),
        current: cmp.current.clone(),
        regressed: cmp.regressed(),
        rows: cmp.rows.iter().map(metric_json).collect(),
        only_in_baseline: cmp.only_in_baseline.clone(),
        only_in_current: cmp.only_in_current.clone(),
        warnings: cmp.warnings.clone(),
    }
}
