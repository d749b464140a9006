//! Each verdict row formatted once, with the lines around the table
//! (notes, method, headline): the terminal table, Markdown and HTML all draw
//! from here, so they never disagree.

use super::super::analyze::{Comparison, MetricKind};
use crate::report::table::{fmt_ms, fmt_usd};
use crate::stats::{ChangeUnit, Verdict, ALPHA, METHOD};

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

pub(super) fn fmt_value(kind: MetricKind, v: f64) -> String {
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

pub(super) fn fmt_change(unit: ChangeUnit, v: f64) -> String {
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

pub(super) fn verdict_key(v: Verdict) -> &'static str {
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

pub(super) fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

pub(super) const HEADERS: [&str; 8] = [
    "model", "metric", "baseline", "current", "change", "95% CI", "p (Holm)", "verdict",
];

pub(super) fn cells(r: &DisplayRow) -> [&str; 8] {
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
pub(super) fn notes(cmp: &Comparison) -> Vec<String> {
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

pub(super) fn headline(cmp: &Comparison) -> String {
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

pub(super) fn method_line(cmp: &Comparison) -> String {
    format!(
        "method: {METHOD}\n{} tests in one family (α={ALPHA})",
        cmp.family
    )
}
