//! `report.html`: one self-contained page a person would rather read than a
//! spreadsheet — the run's header, the comparison table, hand-drawn SVG
//! charts (latency CDFs, output speed, cost vs pass rate, errors) and the
//! failing cases side by side.
//!
//! Pure like every writer: a [`RunSummary`] and the run's records in, bytes
//! out. No scripts, no fonts, no external requests (a CSP forbids them), light
//! and dark mode from one stylesheet. The compare view for `evalgate compare
//! --format html` lives in [`compare`] and shares the chart code.

use std::fmt::Write as _;

use super::decision::{CaseTable, Decision, FLAKY_LISTED};
use super::table::{comparison_data, errors_data};
use super::{Exporter, Records, ReportError, RunSummary};
use crate::metrics::ModelSummary;

mod charts;
pub mod compare;
mod failures;
mod page;
#[cfg(test)]
mod tests;

pub use compare::{render_compare, CompareRowView, CompareView};

use charts::Latency;
use page::{color, esc};

/// Writes `report.html`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Html;

impl Exporter for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write<'r>(
        &self,
        summary: &RunSummary,
        records: &Records<'r>,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        // Pass 1 picks the failing cases shown (ids only); pass 2 folds in
        // just their rows, so memory does not grow with the run.
        let rows = super::rows_if(summary.bad_rows() > 0, records)?;
        let list = failures::shortlist(&summary.run.models, rows);
        let mut fails = failures::Failures::new(&list.models);
        fails.set_failing_total(list.failing);
        if !list.chosen.is_empty() {
            for rec in records()?.filter(|r| list.chosen.contains(&r.row.case_id)) {
                fails.record(&rec);
            }
        }
        // The decision view and flaky cases need every row's outcome and
        // timings per case (another pass; memory grows with cases only).
        let mut cases = CaseTable::for_run(summary);
        if summary.models.len() > 1 || summary.run.options.repeat > 1 {
            for rec in records()? {
                cases.record(&rec.row);
            }
        }
        let bytes = self.bytes(summary, fails, &cases)?;
        out.write_all(&bytes)
            .map_err(super::write_err("report.html"))
    }
}

impl Html {
    fn bytes(
        &self,
        summary: &RunSummary,
        fails: failures::Failures,
        cases: &CaseTable,
    ) -> Result<Vec<u8>, ReportError> {
        let mut body = header(summary);
        body.push_str(&glance(&summary.models));
        if let Some(d) = Decision::build(summary, cases) {
            body.push_str("<h2>Decision</h2>\n<div class=\"card\"><ul class=\"decision\">\n");
            for m in &d.models {
                let _ = writeln!(body, "<li>{}</li>", esc(&m.line()));
            }
            let _ = writeln!(
                body,
                "</ul><p class=\"note\">{}</p></div>",
                esc(&d.method())
            );
        }

        body.push_str("<h2>Models</h2>\n<div class=\"card\">");
        let colors: Vec<usize> = (0..summary.models.len()).map(color).collect();
        body.push_str(&page::table(&comparison_data(summary), Some(&colors)));
        body.push_str("</div>\n");

        body.push_str("<h2>Latency</h2>\n<div class=\"grid2\">\n");
        body.push_str(&charts::latency_cdf(summary, Latency::Ttft)?);
        body.push_str(&charts::latency_cdf(summary, Latency::Duration)?);
        body.push_str("</div>\n<h2>Speed, cost and quality</h2>\n<div class=\"grid2\">\n");
        body.push_str(&charts::tokens_per_s(summary)?);
        body.push_str(&charts::cost_vs_pass(summary));
        body.push_str("</div>\n");

        body.push_str("<h2>Errors</h2>\n");
        match (charts::errors_by_kind(summary), errors_data(summary)) {
            (Some(chart), Some(data)) => {
                body.push_str("<div class=\"grid-errors\">\n");
                body.push_str(&chart);
                let _ = write!(
                    body,
                    "<div class=\"card\"><figcaption>What to do</figcaption>{}</div>\n</div>\n",
                    page::table_with(&data, None, "wrap")
                );
            }
            _ => body.push_str(
                "<p class=\"note\">No errors: every request that was sent got an answer.</p>\n",
            ),
        }

        let flaky: Vec<(&str, Vec<&str>)> = summary
            .models
            .iter()
            .map(|m| (m.model.as_str(), cases.flaky(&m.model)))
            .filter(|(_, ids)| !ids.is_empty())
            .collect();
        if !flaky.is_empty() {
            body.push_str("<h2>Flaky cases</h2>\n<div class=\"card\"><p class=\"note\">Outcomes differ across repeats.</p><ul>\n");
            for (model, ids) in flaky {
                let shown: Vec<String> = ids
                    .iter()
                    .take(FLAKY_LISTED)
                    .map(|id| format!("<code>{}</code>", esc(id)))
                    .collect();
                let more = match ids.len().saturating_sub(FLAKY_LISTED) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                let _ = writeln!(
                    body,
                    "<li>{}: {} flaky — {}{more}</li>",
                    esc(model),
                    ids.len(),
                    shown.join(", ")
                );
            }
            body.push_str("</ul></div>\n");
        }

        body.push_str("<h2>Failing cases</h2>\n");
        body.push_str(&fails.render(color));
        body.push_str(&page::footer(&summary.run.tool_version));
        let title = format!("evalgate report: {}", summary.run.suite);
        Ok(page::document(&title, &body).into_bytes())
    }
}

/// Title, simulated banner and what the run was.
fn header(summary: &RunSummary) -> String {
    let run = &summary.run;
    let mut out = String::new();
    if run.simulated {
        out.push_str(&page::banner());
    }
    let _ = writeln!(
        out,
        "<header><div class=\"eyebrow\">evalgate report</div><h1>{}</h1>",
        esc(&run.suite)
    );
    let mut items = vec![("Started", pretty_time(&run.started_at))];
    if let Some(end) = &run.ended_at {
        items.push(("Ended", elapsed(&run.started_at, end)));
    }
    items.push(("Gateway", run.gateway_url.clone()));
    items.push((
        "Models",
        format!("{} — {}", run.models.len(), run.models.join(", ")),
    ));
    let repeat = match run.options.repeat {
        0 | 1 => String::new(),
        n => format!(" ({n} repeats)"),
    };
    items.push(("Planned requests", format!("{}{repeat}", run.planned_jobs)));
    items.push(("Suite file", run.suite_path.clone()));
    let mut version = format!("evalgate {}", run.tool_version);
    if let Some(commit) = &run.git_commit {
        let _ = write!(version, " · commit {}", commit.get(..10).unwrap_or(commit));
    }
    items.push(("Written by", version));
    if let Some(why) = &run.stopped_by {
        items.push(("Stopped early", why.clone()));
    }
    out.push_str(&page::meta_list(&items));
    out.push_str("</header>\n");
    out
}

/// `2025-06-01 12:00:00 UTC` from RFC 3339; the text as given otherwise.
pub(crate) fn pretty_time(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| t.to_string())
}

/// The end time with the wall-clock length of the run.
fn elapsed(start: &str, end: &str) -> String {
    let parse = chrono::DateTime::parse_from_rfc3339;
    match (parse(start), parse(end)) {
        (Ok(a), Ok(b)) => {
            let secs = (b - a).num_milliseconds() as f64 / 1000.0;
            let took = if secs < 120.0 {
                format!("{secs:.1} s")
            } else {
                format!("{:.1} min", secs / 60.0)
            };
            format!("{} (took {took})", pretty_time(end))
        }
        _ => pretty_time(end),
    }
}

/// A headline value and every model that reaches it, as (position, model).
type Winners<'a> = (f64, Vec<(usize, &'a ModelSummary)>);

/// The best value of `pick` over the models (lowest or highest) and every
/// model that reaches it, as (model position, model).
fn best(
    models: &[ModelSummary],
    pick: fn(&ModelSummary) -> Option<f64>,
    lowest: bool,
) -> Option<Winners<'_>> {
    let values = models.iter().filter_map(pick);
    let top = if lowest {
        values.fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.min(v))))
    } else {
        values.fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))))
    }?;
    let winners = models
        .iter()
        .enumerate()
        .filter(|(_, m)| pick(m) == Some(top))
        .collect();
    Some((top, winners))
}

/// Three headline cards: fastest median TTFT, best pass rate, cheapest request.
fn glance(models: &[ModelSummary]) -> String {
    type Fmt = fn(f64) -> String;
    let cards: [(&str, Option<Winners>, Fmt); 3] = [
        (
            "Fastest first token (p50)",
            best(models, |m| m.ttft_p50_ms, true),
            |v| format!("{} ms", super::table::fmt_ms(Some(v))),
        ),
        (
            "Highest pass rate",
            best(models, |m| m.pass_rate, false),
            |v| super::table::fmt_pct(Some(v)),
        ),
        (
            "Cheapest per request",
            best(models, |m| m.cost_per_request_usd, true),
            super::table::fmt_usd,
        ),
    ];
    let mut out = String::from("<div class=\"glance\">");
    for (label, pick, fmt) in cards {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"eyebrow\">{label}</div>"
        );
        match pick {
            Some((v, winners)) => {
                let _ = write!(out, "<div class=\"big\">{}</div><div>", esc(&fmt(v)));
                if winners.len() > 1 && winners.len() == models.len() {
                    let _ = write!(out, "all {} models", winners.len());
                } else {
                    for (n, (i, m)) in winners.iter().enumerate() {
                        if n > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&page::swatch(&format!("c{}", color(*i))));
                        out.push_str(&esc(&m.model));
                    }
                }
                out.push_str("</div>");
            }
            None => out.push_str("<div class=\"big\">–</div><div>no data</div>"),
        }
        out.push_str("</div>");
    }
    out.push_str("</div>\n");
    out
}
