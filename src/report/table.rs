//! The model comparison and error tables.
//!
//! [`comparison_data`] and [`errors_data`] decide the columns and format the
//! cells once; the terminal (`tabled`, here) and Markdown (`markdown.rs`) only
//! draw them, so the two can never disagree. The terminal shows a compact
//! table by default ([`View::Compact`]: the columns that answer "which model",
//! drawn to fit the terminal, long model ids shortened in the middle) and
//! every column with `--wide`.

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Modify, Style, Width};

use super::{RunSummary, SIMULATED_BANNER, SIMULATED_BANNER_SHORT};
use crate::metrics::ModelSummary;
use crate::record::ErrorKind;

/// A table's headers and formatted cells, ready for any renderer.
#[derive(Clone, Debug, PartialEq)]
pub struct TableData {
    /// Column titles.
    pub headers: Vec<&'static str>,
    /// Whether each column holds numbers (drawn right-aligned).
    pub numeric: Vec<bool>,
    /// Formatted cells, one `Vec` per row, as many cells as headers.
    pub rows: Vec<Vec<String>>,
}

/// The comparison columns: name, numeric, cell of one model.
type Column = (&'static str, bool, fn(&ModelSummary) -> String);

const COMPARISON: [Column; 16] = [
    ("model", false, |m| m.model.clone()),
    ("ok/req", true, |m| format!("{}/{}", m.ok, m.requests)),
    ("errors", true, |m| match m.skipped {
        0 => m.errors.to_string(),
        s => format!("{} (+{s} skipped)", m.errors),
    }),
    ("pass", true, |m| fmt_pct(m.pass_rate)),
    ("TTFT p50 ms", true, |m| fmt_ms(m.ttft_p50_ms)),
    ("TTFT p75 ms", true, |m| fmt_ms(m.ttft_p75_ms)),
    ("TTFT p95 ms", true, |m| fmt_ms(m.ttft_p95_ms)),
    ("dur p50 ms", true, |m| fmt_ms(m.duration_p50_ms)),
    ("dur p95 ms", true, |m| fmt_ms(m.duration_p95_ms)),
    ("tok/s p50", true, |m| {
        m.tokens_per_s_p50
            .map_or_else(|| "-".into(), |t| format!("{t:.1}"))
    }),
    ("tokens in/out", true, |m| {
        format!(
            "{} / {}",
            group_thousands(m.input_tokens),
            group_thousands(m.output_tokens)
        )
    }),
    ("cost", true, cost_total),
    ("cost/req", true, |m| {
        m.cost_per_request_usd.map_or_else(|| "-".into(), fmt_usd)
    }),
    ("grader cost", true, |m| {
        m.grader_cost_usd.map_or_else(|| "-".into(), fmt_usd)
    }),
    ("cost/pass", true, cost_per_pass),
    ("goodput", true, |m| fmt_pct(m.goodput)),
];

/// How the terminal table is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The essential columns in at most this many terminal columns.
    Compact {
        /// Terminal width to fit.
        width: usize,
    },
    /// Every column, as wide as it takes (`--wide`).
    Wide,
}

/// (model + grader cost) per passing answer.
fn cost_per_pass(m: &ModelSummary) -> String {
    m.cost_per_pass_usd.map_or_else(|| "-".into(), fmt_usd)
}

/// The compact columns for this run: goodput only when SLOs were set, cost
/// per passing answer when answers were checked (else per request).
fn compact_columns(summary: &RunSummary) -> Vec<Column> {
    let checked = summary.models.iter().any(|m| m.checked > 0);
    let slo = summary.models.iter().any(|m| m.slo_checked > 0);
    let mut cols: Vec<Column> = vec![
        ("model", false, |m| m.model.clone()),
        ("ok/req", true, |m| format!("{}/{}", m.ok, m.requests)),
    ];
    if checked {
        cols.push(("pass", true, |m| fmt_pct(m.pass_rate)));
    }
    if slo {
        cols.push(("goodput", true, |m| fmt_pct(m.goodput)));
    }
    cols.push(("TTFT p50", true, |m| fmt_ms_unit(m.ttft_p50_ms)));
    cols.push(("TTFT p95", true, |m| fmt_ms_unit(m.ttft_p95_ms)));
    if checked {
        cols.push(("cost/pass", true, cost_per_pass));
    } else {
        cols.push(("cost/req", true, |m| {
            m.cost_per_request_usd.map_or_else(|| "-".into(), fmt_usd)
        }));
    }
    cols
}

fn fmt_ms_unit(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        v => format!("{}ms", fmt_ms(v)),
    }
}

/// Headers and cells of the compact table, model ids shortened so the
/// drawn table is at most `width` columns wide.
pub fn compact_data(summary: &RunSummary, width: usize) -> TableData {
    let cols = compact_columns(summary);
    let mut rows: Vec<Vec<String>> = summary
        .models
        .iter()
        .map(|m| cols.iter().map(|c| (c.2)(m)).collect())
        .collect();
    // Each column costs its widest cell plus two spaces of padding and a
    // border; the model column gets what is left.
    let widest = |i: usize| {
        rows.iter()
            .map(|r| crate::term::columns(&r[i]))
            .chain([cols[i].0.len()])
            .max()
            .unwrap_or(0)
    };
    let others: usize = (1..cols.len()).map(|i| widest(i) + 3).sum();
    let model_max = width.saturating_sub(others + 4).max(12);
    for row in &mut rows {
        row[0] = crate::term::shorten_middle(&row[0], model_max);
    }
    TableData {
        headers: cols.iter().map(|c| c.0).collect(),
        numeric: cols.iter().map(|c| c.1).collect(),
        rows,
    }
}

/// Headers and cells of the model comparison, one row per model in run order.
pub fn comparison_data(summary: &RunSummary) -> TableData {
    TableData {
        headers: COMPARISON.iter().map(|c| c.0).collect(),
        numeric: COMPARISON.iter().map(|c| c.1).collect(),
        rows: summary
            .models
            .iter()
            .map(|m| COMPARISON.iter().map(|c| (c.2)(m)).collect())
            .collect(),
    }
}

/// Error and skipped rows by kind with the fix for each; `None` when there
/// were none.
pub fn errors_data(summary: &RunSummary) -> Option<TableData> {
    let rows: Vec<Vec<String>> = summary
        .models
        .iter()
        .flat_map(|m| {
            m.errors_by_kind.iter().map(|(kind, n)| {
                let hint = kind
                    .parse::<ErrorKind>()
                    .ok()
                    .and_then(ErrorKind::hint)
                    .unwrap_or("-");
                vec![
                    m.model.clone(),
                    kind.clone(),
                    n.to_string(),
                    hint.to_string(),
                ]
            })
        })
        .collect();
    (!rows.is_empty()).then(|| TableData {
        headers: vec!["model", "error kind", "rows", "what to do"],
        numeric: vec![false, false, true, false],
        rows,
    })
}

/// The comparison as a terminal table, under the simulated banner when the
/// answers came from the sim gateway.
pub fn comparison_table(summary: &RunSummary, view: View) -> String {
    let mut out = String::new();
    if summary.run.simulated {
        match view {
            View::Wide => out.push_str(SIMULATED_BANNER),
            View::Compact { width } => {
                out.push_str(&crate::term::truncate(SIMULATED_BANNER_SHORT, width))
            }
        }
        out.push('\n');
    }
    let data = match view {
        View::Wide => comparison_data(summary),
        View::Compact { width } => compact_data(summary, width),
    };
    out.push_str(&draw(&data, None));
    out
}

/// Errors by kind with hints as a terminal table; `None` without errors.
pub fn errors_table(summary: &RunSummary, view: View) -> Option<String> {
    let mut data = errors_data(summary)?;
    let wrap = match view {
        View::Wide => 70,
        View::Compact { width } => {
            // The hint column wraps; the model id is shortened only when
            // the hint would get fewer than HINT_MIN columns.
            const HINT_MIN: usize = 24;
            let widest = |data: &TableData, i: usize| {
                data.rows
                    .iter()
                    .map(|r| crate::term::columns(&r[i]))
                    .chain([data.headers[i].len()])
                    .max()
                    .unwrap_or(0)
            };
            let kind_rows = widest(&data, 1) + widest(&data, 2) + 6;
            let model_max = width.saturating_sub(kind_rows + HINT_MIN + 7).max(12);
            for row in &mut data.rows {
                row[0] = crate::term::shorten_middle(&row[0], model_max);
            }
            let used = widest(&data, 0) + 3 + kind_rows;
            width.saturating_sub(used + 4).clamp(HINT_MIN - 4, 70)
        }
    };
    Some(draw(&data, Some((3, wrap))))
}

/// One line per thing the gateway's own figures or the cache changed:
/// fallback rows, replayed rows and the money they saved, cost mismatches
/// with the generation records, and cache reads. Empty when none.
pub fn truth_notes(summary: &RunSummary) -> Vec<String> {
    let counted = summary.run.options.include_fallbacks;
    let mut notes = Vec::new();
    for m in &summary.models {
        if m.fallbacks > 0 {
            let how = if counted {
                "counted in its latency figures (--include-fallbacks)"
            } else {
                "left out of its latency figures; --include-fallbacks counts them"
            };
            notes.push(format!(
                "fallbacks: {} of {} rows of {} were served by another provider or model ({how})",
                m.fallbacks, m.requests, m.model
            ));
        }
        if m.replayed > 0 {
            notes.push(format!(
                "replayed: {} rows of {} came from the response cache (nothing sent; not in latency or cost), saving ${:.6}",
                m.replayed,
                m.model,
                m.replay_saved_usd.unwrap_or(0.0)
            ));
        }
        if m.cost_mismatches > 0 {
            notes.push(format!(
                "cost mismatch: {} rows of {} streamed a cost more than 1% off the gateway's generation record (the record's is used)",
                m.cost_mismatches, m.model
            ));
        }
        if m.cached_tokens > 0 || m.cache_write_tokens > 0 {
            notes.push(format!(
                "prompt cache: {} read {:.0}% of its input tokens from cache ({} tokens), wrote {} tokens{}",
                m.model,
                m.cache_read_share.unwrap_or(0.0) * 100.0,
                m.cached_tokens,
                m.cache_write_tokens,
                m.cache_saved_usd
                    .map(|s| format!(", saved ${s:.6} against uncached prices"))
                    .unwrap_or_default()
            ));
        }
        if m.cache_probes > 0 {
            notes.push(probe_note(m));
        }
    }
    notes
}

/// `cache probe: openai/gpt-5 read from cache on 3 of 4 probes (92% of their input)`.
fn probe_note(m: &crate::metrics::ModelSummary) -> String {
    let share = m.cache_probe_read_share.unwrap_or(0.0) * 100.0;
    let mut note = format!(
        "cache probe: {} read from cache on {} of {} probes ({share:.0}% of their input tokens)",
        m.model, m.cache_probe_hits, m.cache_probes
    );
    if m.cache_probe_hits == 0 {
        note.push_str(
            "; no cache read: providers cache prefixes of about 1024 tokens or more, some only when asked (see docs/gateway-truth.md)",
        );
    }
    note
}

/// Draw with rounded borders, numbers right-aligned, optionally wrapping
/// one (long text) column at a width.
fn draw(data: &TableData, wrap: Option<(usize, usize)>) -> String {
    let mut b = Builder::default();
    b.push_record(data.headers.iter().copied());
    for row in &data.rows {
        b.push_record(row.iter().map(String::as_str));
    }
    let mut table = b.build();
    table.with(Style::rounded());
    for (i, _) in data.numeric.iter().enumerate().filter(|(_, n)| **n) {
        table.modify(Columns::single(i), Alignment::right());
    }
    if let Some((col, width)) = wrap {
        table.with(Modify::new(Columns::single(col)).with(Width::wrap(width).keep_words(true)));
    }
    table.to_string()
}

/// Milliseconds with precision that fits their size; `-` without samples.
pub(crate) fn fmt_ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

/// A share as a percentage with one decimal; `-` when nothing was checked.
pub(crate) fn fmt_pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

/// US dollars with enough decimals to show small per-request costs.
pub(crate) fn fmt_usd(v: f64) -> String {
    if v >= 1.0 {
        format!("${v:.2}")
    } else {
        // Small per-request costs need six decimals; drop the zeros after them.
        let text = format!("{v:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("${text}")
    }
}

/// Total cost, saying honestly how many rows had no cost figure.
pub(crate) fn cost_total(m: &ModelSummary) -> String {
    match (m.cost_usd, m.cost_unknown_rows) {
        (Some(c), 0) => fmt_usd(c),
        (Some(c), k) => format!("{} + {k} unknown", fmt_usd(c)),
        (None, 0) => "-".into(),
        (None, k) => format!("n/a ({k} unknown)"),
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests;
