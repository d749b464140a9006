//! The charts of one run, built from `summary.json` alone: TTFT and duration
//! CDFs from each model's HdrHistogram, tokens per second as box plots, cost
//! per request against pass rate, and errors by kind.

use std::collections::BTreeSet;

use hdrhistogram::Histogram;

use super::page::{color, figure, legend};
use crate::metrics::{decode_histogram, ModelSummary, SerializedHistograms};
use crate::report::svg::{self, fmt_num, fmt_pct, Axis, Bar, BoxRow, Dot, Series};
use crate::report::{ReportError, RunSummary};

/// Above this many distinct recorded values a CDF is drawn through 201
/// quantiles instead of every step (the shape is the same, the file smaller).
const MAX_STEPS: usize = 300;
/// Log scale when the largest value is more than this many times the smallest.
const LOG_RATIO: f64 = 20.0;

/// Which latency histogram a CDF shows.
#[derive(Clone, Copy, Debug)]
pub enum Latency {
    /// Time to first token.
    Ttft,
    /// Start to end of stream.
    Duration,
}

impl Latency {
    fn pick(self, h: &SerializedHistograms) -> (&'static str, &str) {
        match self {
            Latency::Ttft => ("ttft_us", &h.ttft_us),
            Latency::Duration => ("duration_us", &h.duration_us),
        }
    }

    /// Chart caption.
    pub fn caption(self) -> &'static str {
        match self {
            Latency::Ttft => "Time to first token",
            Latency::Duration => "Duration",
        }
    }

    fn axis_label(self) -> &'static str {
        match self {
            Latency::Ttft => "time to first token (ms)",
            Latency::Duration => "request duration, start to end of stream (ms)",
        }
    }
}

/// One model's histogram of `metric` from a summary; `None` when the
/// summary has no histograms for the model.
pub fn latency_hist(
    summary: &RunSummary,
    model: &str,
    metric: Latency,
) -> Result<Option<Histogram<u64>>, ReportError> {
    let Some(h) = summary.histograms.get(model) else {
        return Ok(None);
    };
    let (name, text) = metric.pick(h);
    Ok(Some(decode_histogram(model, name, text)?))
}

/// The empirical CDF of a histogram as (value / `scale`, fraction) points:
/// an exact staircase, or 201 quantiles when there are many distinct values.
pub fn cdf(h: &Histogram<u64>, scale: f64) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let total = h.len() as f64;
    let steps: Vec<(f64, u64)> = h
        .iter_recorded()
        .map(|v| {
            let value = h.median_equivalent(v.value_iterated_to()) as f64 / scale;
            (value, v.count_since_last_iteration())
        })
        .collect();
    if steps.len() > MAX_STEPS {
        return (0..=200)
            .map(|i| {
                let q = f64::from(i) / 200.0;
                let v = h.median_equivalent(h.value_at_quantile(q)) as f64 / scale;
                (v, q)
            })
            .collect();
    }
    let mut points = Vec::with_capacity(steps.len() * 2);
    let mut seen = 0u64;
    for (value, count) in steps {
        points.push((value, seen as f64 / total));
        seen += count;
        points.push((value, seen as f64 / total));
    }
    points
}

/// The x axis that fits every series' values.
pub fn value_axis(series: &[Series], label: &str) -> Axis {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (lo, hi) = xs.fold((f64::INFINITY, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let lo = if lo.is_finite() { lo } else { 1.0 };
    Axis::auto(lo, hi.max(lo), LOG_RATIO, label, fmt_num)
}

/// The y axis of every CDF.
pub fn share_axis() -> Axis {
    Axis::linear(0.0, 1.0, "requests at or below (%)", fmt_pct)
}

/// A latency CDF card for one run (one solid line per model).
pub fn latency_cdf(summary: &RunSummary, metric: Latency) -> Result<String, ReportError> {
    let mut series = Vec::new();
    for (i, m) in summary.models.iter().enumerate() {
        if let Some(h) = latency_hist(summary, &m.model, metric)? {
            series.push(Series {
                name: m.model.clone(),
                color: color(i),
                points: cdf(&h, 1000.0),
                dashed: false,
            });
        }
    }
    let names: Vec<(usize, &str)> = series.iter().map(|s| (s.color, s.name.as_str())).collect();
    Ok(cdf_figure(
        metric,
        &series,
        "Answered requests only; further left is faster.",
        &legend(&names, &[]),
    ))
}

/// A CDF card from ready series under a ready legend.
pub fn cdf_figure(metric: Latency, series: &[Series], sub: &str, legend: &str) -> String {
    let x = value_axis(series, metric.axis_label());
    let mut notes = Vec::new();
    if x.log {
        notes.push("Log scale: the models' times differ by more than 20×.".to_string());
    }
    let empty: Vec<&str> = series
        .iter()
        .filter(|s| s.points.is_empty())
        .map(|s| s.name.as_str())
        .collect();
    if !empty.is_empty() {
        notes.push(format!("No answered requests: {}.", empty.join(", ")));
    }
    let title = format!("{} CDF per model", metric.caption());
    let desc = format!(
        "Cumulative distribution of {}; x: milliseconds, y: share of requests.",
        metric.axis_label()
    );
    let svg = svg::line_chart(&title, &desc, &x, &share_axis(), series);
    figure(
        &format!("{} (CDF)", metric.caption()),
        sub,
        legend,
        &svg,
        &notes,
    )
}

/// Tokens per second as box plots (p5–p95 whiskers, p25–p75 box, median).
pub fn tokens_per_s(summary: &RunSummary) -> Result<String, ReportError> {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (i, m) in summary.models.iter().enumerate() {
        let Some(hs) = summary.histograms.get(&m.model) else {
            missing.push(m.model.clone());
            continue;
        };
        let h = decode_histogram(&m.model, "tokens_per_s_milli", &hs.tokens_per_s_milli)?;
        if h.is_empty() {
            missing.push(m.model.clone());
            continue;
        }
        let q = [0.05, 0.25, 0.5, 0.75, 0.95]
            .map(|q| h.median_equivalent(h.value_at_quantile(q)) as f64 / 1000.0);
        rows.push(BoxRow {
            label: m.model.clone(),
            color: color(i),
            q,
        });
    }
    let mut notes = Vec::new();
    if !missing.is_empty() {
        notes.push(format!(
            "No token rate (no answers with usage): {}.",
            missing.join(", ")
        ));
    }
    if rows.is_empty() {
        notes.insert(0, "No model reported output tokens.".into());
        return Ok(figure("Output speed", "", "", "", &notes));
    }
    let lo = rows.iter().map(|r| r.q[0]).fold(f64::INFINITY, f64::min);
    let hi = rows.iter().map(|r| r.q[4]).fold(0.0, f64::max);
    let x = Axis::auto(lo, hi, LOG_RATIO, "output tokens per second", fmt_num);
    let svg = svg::box_plot(
        "Output tokens per second per model",
        "Box plots of streaming speed after the first token: whiskers p5 to p95, box p25 to p75, thick line at the median.",
        &x,
        &rows,
    );
    Ok(figure(
        "Output speed",
        "Tokens per second after the first token; whiskers p5–p95, box p25–p75, bar at the median. Further right is faster.",
        "",
        &svg,
        &notes,
    ))
}

/// Cost per request against pass rate: one labelled point per model. Models
/// without a cost figure or without checks are named below, not guessed.
pub fn cost_vs_pass(summary: &RunSummary) -> String {
    let mut dots = Vec::new();
    let mut notes = Vec::new();
    let mut no_cost = Vec::new();
    let mut no_checks = Vec::new();
    for (i, m) in summary.models.iter().enumerate() {
        match (m.cost_per_request_usd, m.pass_rate) {
            (Some(cost), Some(pass)) => dots.push(Dot {
                label: short_label(m),
                color: color(i),
                x: cost,
                y: pass,
                tip: dot_tip(m, cost, pass),
            }),
            (None, _) => no_cost.push(m.model.as_str()),
            (Some(_), None) => no_checks.push(m.model.as_str()),
        }
    }
    if !no_cost.is_empty() {
        notes.push(format!(
            "Not plotted, no cost figure (gateway, catalog or suite price): {}.",
            no_cost.join(", ")
        ));
    }
    if !no_checks.is_empty() {
        notes.push(format!(
            "Not plotted, no answer was checked: {}.",
            no_checks.join(", ")
        ));
    }
    let partial: Vec<&str> = summary
        .models
        .iter()
        .filter(|m| m.cost_per_request_usd.is_some() && m.cost_unknown_rows > 0)
        .map(|m| m.model.as_str())
        .collect();
    if !partial.is_empty() {
        notes.push(format!(
            "Cost per request averages only the rows with a cost figure for: {} (marked *).",
            partial.join(", ")
        ));
    }
    let sub = "One point per model. Up is more answers passing, left is cheaper: the top-left model is worth it.";
    if dots.is_empty() {
        notes.insert(0, "No model has both a cost and checked answers.".into());
        return figure("Cost per request vs pass rate", sub, "", "", &notes);
    }
    let lo = dots.iter().map(|d| d.x).fold(f64::INFINITY, f64::min);
    let hi = dots.iter().map(|d| d.x).fold(0.0, f64::max);
    let x = Axis::auto(lo, hi, LOG_RATIO, "cost per request (USD)", fmt_usd_tick);
    if x.log {
        notes.push("Log scale: costs differ by more than 20×.".into());
    }
    let y = Axis::linear(0.0, 1.0, "answers passing all checks (%)", fmt_pct);
    let svg = svg::scatter(
        "Cost per request vs pass rate",
        "Scatter plot, one point per model: x is the mean cost per request in US dollars, y the share of checked answers that passed.",
        &x,
        &y,
        &dots,
    );
    figure("Cost per request vs pass rate", sub, "", &svg, &notes)
}

fn short_label(m: &ModelSummary) -> String {
    let star = if m.cost_unknown_rows > 0 { "*" } else { "" };
    format!("{}{star}", m.model)
}

fn dot_tip(m: &ModelSummary, cost: f64, pass: f64) -> String {
    format!(
        "{}: {} per request, {:.1}% of {} checked answers passed",
        m.model,
        crate::report::table::fmt_usd(cost),
        pass * 100.0,
        m.checked
    )
}

fn fmt_usd_tick(v: f64) -> String {
    format!("${}", fmt_num(v))
}

/// Errors (and skipped rows) by kind, one stacked bar per model; `None`
/// when nothing failed.
pub fn errors_by_kind(summary: &RunSummary) -> Option<String> {
    let kinds: BTreeSet<&str> = summary
        .models
        .iter()
        .flat_map(|m| m.errors_by_kind.keys().map(String::as_str))
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let kinds: Vec<String> = kinds.into_iter().map(str::to_string).collect();
    let bars: Vec<Bar> = summary
        .models
        .iter()
        .map(|m| Bar {
            label: format!("{} ({} of {})", m.model, m.errors + m.skipped, m.requests),
            segments: kinds
                .iter()
                .enumerate()
                .map(|(k, kind)| (k, m.errors_by_kind.get(kind).copied().unwrap_or(0) as f64))
                .collect(),
        })
        .collect();
    let most = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.1).sum::<f64>())
        .fold(0.0, f64::max);
    // At least 0..5 so small counts get whole-number ticks.
    let x = Axis::linear(0.0, most.max(5.0), "rows (errors and skipped)", fmt_num);
    let svg = svg::stacked_bars(
        "Errors by kind per model",
        "Stacked bars: for each model, the number of failed or skipped rows by error kind.",
        &x,
        &bars,
        &kinds,
    );
    let mut leg = String::from("<ul class=\"legend\">");
    for (k, kind) in kinds.iter().enumerate() {
        leg.push_str(&format!(
            "<li>{}{}</li>",
            super::page::swatch(&format!("k{}", k % 8)),
            svg::esc(kind)
        ));
    }
    leg.push_str("</ul>");
    Some(figure(
        "Errors by kind",
        "Failed and skipped rows per model; the error table below says what to do about each kind.",
        &leg,
        &svg,
        &[],
    ))
}

#[cfg(test)]
mod tests;
