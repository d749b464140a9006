//! The HTML compare view (`evalgate compare --format html`): baseline and
//! current TTFT and duration CDFs overlaid per model (dashed baseline, solid
//! current, same colour) above the verdict table, regressed rows highlighted.
//!
//! The statistics live in `compare::analyze` and the rows are formatted in
//! [`super::rows`]; this file only draws them, so the page and the terminal
//! verdict can never disagree. The chart code is `report::html`'s.

use std::fmt::Write as _;

use super::rows::display_rows;
use super::{RenderError, RenderInput};
use crate::report::html::charts::{cdf, cdf_figure, latency_hist, Latency};
use crate::report::html::page::{self, color, esc};
use crate::report::html::pretty_time;
use crate::report::svg::Series;
use crate::report::table::comparison_data;
use crate::report::{ReportError, RunSummary};

/// `compare --format html`: the verdict rows formatted as the table's,
/// drawn above the overlaid latency CDFs.
pub fn render(input: &RenderInput<'_>) -> Result<String, RenderError> {
    let rows = display_rows(input.cmp)
        .into_iter()
        .map(|r| CompareRowView {
            change: if r.ci == "-" {
                r.change
            } else {
                format!("{} (95% CI {})", r.change, r.ci)
            },
            model: r.model,
            metric: r.metric,
            baseline: r.baseline,
            current: r.current,
            verdict: r.verdict.to_lowercase(),
        })
        .collect();
    let view = CompareView {
        baseline: input.baseline,
        current: input.current,
        method: format!(
            "{}; {} tests in one family (α={})",
            crate::stats::METHOD,
            input.cmp.family,
            crate::stats::ALPHA
        ),
        rows,
    };
    Ok(render_compare(&view))
}

/// Two runs and the verdict rows `compare` computed for them.
#[derive(Clone, Debug)]
pub struct CompareView<'a> {
    /// The reference run.
    pub baseline: &'a RunSummary,
    /// The run being judged.
    pub current: &'a RunSummary,
    /// How the verdicts were reached, in a sentence (test, α, thresholds).
    pub method: String,
    /// One row per (model, metric) compared.
    pub rows: Vec<CompareRowView>,
}

/// One verdict row, already formatted by `compare`.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRowView {
    /// Model id.
    pub model: String,
    /// Metric compared, e.g. `TTFT p50`.
    pub metric: String,
    /// Baseline value, formatted with its unit.
    pub baseline: String,
    /// Current value, formatted with its unit.
    pub current: String,
    /// Change with its interval, e.g. `+38 ms (+12%, CI +20..+55)`.
    pub change: String,
    /// `regressed`, `improved`, `no change`, `inconclusive`, ...; rows whose
    /// verdict mentions a regression are highlighted.
    pub verdict: String,
}

/// The whole compare page.
pub fn render_compare(view: &CompareView) -> String {
    let (base, cur) = (view.baseline, view.current);
    let models = model_order(base, cur);
    let mut body = String::new();
    if base.run.simulated || cur.run.simulated {
        body.push_str(&page::banner());
    }
    let regressed = view
        .rows
        .iter()
        .filter(|r| is_regressed(&r.verdict))
        .count();
    let _ = write!(
        body,
        "<header><div class=\"eyebrow\">evalgate compare</div><h1>{}</h1>\n<p class=\"verdict-line {}\">{}</p>\n",
        esc(&cur.run.suite),
        if regressed > 0 { "bad" } else { "good" },
        esc(&match regressed {
            0 => "No significant regression.".to_string(),
            1 => "1 significant regression.".to_string(),
            n => format!("{n} significant regressions."),
        }),
    );
    body.push_str(&page::meta_list(&[
        ("Baseline", run_label(base)),
        ("Current", run_label(cur)),
        ("Method", view.method.clone()),
    ]));
    body.push_str("</header>\n<h2>Verdicts</h2>\n<div class=\"card\">");
    body.push_str(&verdict_table(view, &models));
    body.push_str("</div>\n<h2>Latency, baseline vs current</h2>\n<div class=\"grid2\">\n");
    for metric in [Latency::Ttft, Latency::Duration] {
        body.push_str(&overlay(view, &models, metric).unwrap_or_else(|e| {
            format!(
                "<p class=\"note\">{} chart unavailable: {}</p>",
                metric.caption(),
                esc(&e.to_string())
            )
        }));
    }
    body.push_str("</div>\n");
    for (title, run) in [("Baseline run", base), ("Current run", cur)] {
        let colors: Vec<usize> = run
            .models
            .iter()
            .map(|m| color(models.iter().position(|x| *x == m.model).unwrap_or(0)))
            .collect();
        let _ = write!(
            body,
            "<h2>{title}</h2>\n<div class=\"card\">{}</div>\n",
            page::table(&comparison_data(run), Some(&colors))
        );
    }
    body.push_str(&page::footer(&cur.run.tool_version));
    page::document(&format!("evalgate compare: {}", cur.run.suite), &body)
}

fn is_regressed(verdict: &str) -> bool {
    verdict.to_ascii_lowercase().contains("regress")
}

/// Current models first (their colours match the current report), then
/// models only the baseline had.
fn model_order(base: &RunSummary, cur: &RunSummary) -> Vec<String> {
    let mut out: Vec<String> = cur.models.iter().map(|m| m.model.clone()).collect();
    for m in &base.models {
        if !out.contains(&m.model) {
            out.push(m.model.clone());
        }
    }
    out
}

fn run_label(run: &RunSummary) -> String {
    let started = pretty_time(&run.run.started_at);
    let mut s = format!("{started} · {}", run.run.gateway_url);
    if let Some(c) = &run.run.git_commit {
        let _ = write!(s, " · commit {}", c.get(..10).unwrap_or(c));
    }
    if run.run.simulated {
        s.push_str(" · simulated");
    }
    s
}

fn verdict_table(view: &CompareView, models: &[String]) -> String {
    if view.rows.is_empty() {
        return "<p class=\"note\">No rows were compared.</p>".into();
    }
    let mut out = String::from(
        "<div class=\"scroll\"><table><thead><tr><th>model</th><th>metric</th><th class=\"num\">baseline</th><th class=\"num\">current</th><th class=\"num\">change</th><th>verdict</th></tr></thead><tbody>\n",
    );
    for r in &view.rows {
        let v = r.verdict.to_ascii_lowercase();
        let class = if is_regressed(&v) {
            "regressed"
        } else if v.contains("improv") {
            "improved"
        } else {
            "same"
        };
        let sw = models
            .iter()
            .position(|m| *m == r.model)
            .map(|i| page::swatch(&format!("c{}", color(i))))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td>{sw}{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"verdict\">{}</td></tr>",
            esc(&r.model),
            esc(&r.metric),
            esc(&r.baseline),
            esc(&r.current),
            esc(&r.change),
            esc(&r.verdict),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

/// One metric's CDFs of both runs, per model: dashed baseline, solid current.
fn overlay(view: &CompareView, models: &[String], metric: Latency) -> Result<String, ReportError> {
    let mut series = Vec::new();
    for (i, model) in models.iter().enumerate() {
        for (run, dashed, which) in [
            (view.baseline, true, "baseline"),
            (view.current, false, "current"),
        ] {
            if let Some(h) = latency_hist(run, model, metric)? {
                series.push(Series {
                    name: format!("{model} ({which})"),
                    color: color(i),
                    points: cdf(&h, 1000.0),
                    dashed,
                });
            }
        }
    }
    // The legend lists each model once; the line style says which run.
    let names: Vec<(usize, &str)> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (color(i), m.as_str()))
        .collect();
    Ok(cdf_figure(
        metric,
        &series,
        "Dashed: baseline. Solid: current. A solid line right of its dashed line is slower.",
        &page::legend(&names, &[("dash", "baseline"), ("solid", "current")]),
    ))
}
