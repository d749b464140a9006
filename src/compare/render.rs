//! Comparison output: formatted rows shared by the terminal table and
//! Markdown (so the two never disagree), and the JSON output contract.

use std::fmt::Write as _;

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use super::analyze::{Comparison, MetricKind, MetricRow};
use crate::report::table::{fmt_ms, fmt_usd};
use crate::report::SIMULATED_BANNER;
use crate::stats::{ChangeUnit, Verdict, ALPHA, METHOD};

/// Version of the `compare --format json` document.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// One comparison row with every cell formatted.
#[derive(Clone, Debug, PartialEq)]
pub struct DisplayRow {
    pub model: String,
    pub metric: String,
    pub baseline: String,
    pub current: String,
    pub change: String,
    pub ci: String,
    pub p_adjusted: String,
    pub verdict: String,
}

fn fmt_value(kind: MetricKind, v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    match kind {
        MetricKind::Ms => fmt_ms(Some(v)),
        MetricKind::Usd => fmt_usd(v),
        MetricKind::Tokens => format!("{v:.0}"),
        MetricKind::Rate => format!("{:.1}%", v * 100.0),
    }
}

fn fmt_change(unit: ChangeUnit, v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    match unit {
        ChangeUnit::Relative => format!("{:+.1}%", v * 100.0),
        ChangeUnit::Points => format!("{v:+.1}pp"),
    }
}

/// The verdict as words.
pub fn verdict_text(v: Verdict) -> String {
    match v {
        Verdict::Improved => "improved".into(),
        Verdict::NoSignificantChange => "no significant change".into(),
        Verdict::Regressed => "REGRESSED".into(),
        Verdict::InsufficientSamples { needed } => format!("insufficient samples: need {needed}"),
    }
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Improved => "improved",
        Verdict::NoSignificantChange => "no_significant_change",
        Verdict::Regressed => "regressed",
        Verdict::InsufficientSamples { .. } => "insufficient_samples",
    }
}

/// Every row formatted for display.
pub fn display_rows(cmp: &Comparison) -> Vec<DisplayRow> {
    cmp.rows
        .iter()
        .map(|row| {
            let r = &row.result;
            DisplayRow {
                model: row.model.clone(),
                metric: r.metric.clone(),
                baseline: fmt_value(row.kind, r.baseline),
                current: fmt_value(row.kind, r.current),
                change: fmt_change(r.unit, r.change),
                ci: r.ci.map_or_else(
                    || "-".into(),
                    |(lo, hi)| format!("{} … {}", fmt_change(r.unit, lo), fmt_change(r.unit, hi)),
                ),
                p_adjusted: r.p_adjusted.map_or_else(|| "-".into(), fmt_p),
                verdict: verdict_text(r.verdict),
            }
        })
        .collect()
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

const HEADERS: [&str; 8] = [
    "model", "metric", "baseline", "current", "change", "95% CI", "p (Holm)", "verdict",
];

fn cells(r: &DisplayRow) -> [&str; 8] {
    [
        &r.model,
        &r.metric,
        &r.baseline,
        &r.current,
        &r.change,
        &r.ci,
        &r.p_adjusted,
        &r.verdict,
    ]
}

/// Lines under the table: samples hints, unmatched models, warnings, result.
fn notes(cmp: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for row in &cmp.rows {
        if let Some(n) = row.samples_for_observed_shift {
            let r = &row.result;
            out.push(format!(
                "{} {}: the {} shift is not significant with {}/{} samples; about {n} per side would detect it 95% of the time",
                row.model,
                r.metric,
                fmt_change(r.unit, r.change),
                r.n_baseline,
                r.n_current
            ));
        }
    }
    if !cmp.only_in_baseline.is_empty() {
        out.push(format!(
            "only in the baseline (not compared): {}",
            cmp.only_in_baseline.join(", ")
        ));
    }
    if !cmp.only_in_current.is_empty() {
        out.push(format!(
            "only in the current run (not compared): {}",
            cmp.only_in_current.join(", ")
        ));
    }
    for w in &cmp.warnings {
        out.push(format!("warning: {w}"));
    }
    out
}

fn headline(cmp: &Comparison) -> String {
    let regressed: Vec<String> = cmp
        .rows
        .iter()
        .filter(|r| r.result.verdict == Verdict::Regressed)
        .map(|r| format!("{} {}", r.model, r.result.metric))
        .collect();
    if regressed.is_empty() {
        "result: no regression".into()
    } else {
        format!("result: REGRESSED — {}", regressed.join(", "))
    }
}

fn method_line(cmp: &Comparison) -> String {
    format!(
        "method: {METHOD}\n{} tests in one family (α={ALPHA})",
        cmp.family
    )
}

/// The comparison as a terminal table with notes.
pub fn table(cmp: &Comparison) -> String {
    let mut out = String::new();
    if cmp.simulated {
        let _ = writeln!(out, "{SIMULATED_BANNER}");
    }
    let _ = writeln!(out, "baseline: {}\ncurrent:  {}", cmp.baseline, cmp.current);
    let mut b = Builder::default();
    b.push_record(HEADERS);
    for r in display_rows(cmp) {
        b.push_record(cells(&r));
    }
    let mut t = b.build();
    t.with(Style::rounded());
    for col in 2..7 {
        t.modify(Columns::single(col), Alignment::right());
    }
    let _ = writeln!(out, "{t}");
    for n in notes(cmp) {
        let _ = writeln!(out, "{n}");
    }
    let _ = writeln!(out, "{}", method_line(cmp));
    let _ = writeln!(out, "{}", headline(cmp));
    out
}

/// The comparison as terminal tables that fit `width` columns: one small
/// table per model (metric, baseline, current, change, verdict) under the
/// model's id, notes wrapped. [`table`] has every column (`--wide`).
pub fn compact_table(cmp: &Comparison, width: usize) -> String {
    use crate::term::{shorten_middle, truncate, wrap};
    let mut out = String::new();
    if cmp.simulated {
        let _ = writeln!(
            out,
            "{}",
            truncate(crate::report::SIMULATED_BANNER_SHORT, width)
        );
    }
    let side = width.saturating_sub(10).max(20);
    let _ = writeln!(
        out,
        "baseline: {}\ncurrent:  {}",
        shorten_middle(&cmp.baseline, side),
        shorten_middle(&cmp.current, side)
    );
    let rows = display_rows(cmp);
    let mut models: Vec<&str> = rows.iter().map(|r| r.model.as_str()).collect();
    models.dedup();
    for model in models {
        let _ = writeln!(out, "{}", shorten_middle(model, width));
        let mut b = Builder::default();
        b.push_record(["metric", "baseline", "current", "change", "verdict"]);
        for r in rows.iter().filter(|r| r.model == model) {
            let verdict = match r.verdict.strip_prefix("insufficient samples: ") {
                Some(need) => format!("too few: {need}"),
                None => r.verdict.clone(),
            };
            b.push_record([
                r.metric.as_str(),
                &r.baseline,
                &r.current,
                &r.change,
                &verdict,
            ]);
        }
        let mut t = b.build();
        t.with(Style::rounded());
        for col in 1..4 {
            t.modify(Columns::single(col), Alignment::right());
        }
        let _ = writeln!(out, "{t}");
    }
    for n in notes(cmp) {
        for line in wrap(&n, width, "") {
            let _ = writeln!(out, "{line}");
        }
    }
    for line in method_line(cmp).lines() {
        for l in wrap(line, width, "") {
            let _ = writeln!(out, "{l}");
        }
    }
    for line in wrap(&headline(cmp), width, "") {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The comparison as a Markdown section (for PR comments).
pub fn markdown(cmp: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## evalgate compare: {}\n", cmp.suite);
    if cmp.simulated {
        let _ = writeln!(out, "> **{SIMULATED_BANNER}**\n");
    }
    let _ = writeln!(
        out,
        "Baseline `{}` → current `{}`.\n\n**{}**\n",
        cmp.baseline,
        cmp.current,
        headline(cmp).trim_start_matches("result: ")
    );
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---|");
    for r in display_rows(cmp) {
        let c = cells(&r).map(|s| s.replace('|', "\\|"));
        let _ = writeln!(out, "| {} |", c.join(" | "));
    }
    out.push('\n');
    for n in notes(cmp) {
        let _ = writeln!(out, "- {n}");
    }
    let _ = writeln!(out, "\n<sub>{}</sub>", method_line(cmp).replace('\n', "; "));
    out
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
