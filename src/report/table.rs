//! The model comparison and error tables.
//!
//! [`comparison_data`] and [`errors_data`] decide the columns and format the
//! cells once; the terminal (`tabled`, here) and Markdown (`markdown.rs`) only
//! draw them, so the two can never disagree.

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Modify, Style, Width};

use super::{RunSummary, SIMULATED_BANNER};
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

const COMPARISON: [Column; 13] = [
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
];

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
pub fn comparison_table(summary: &RunSummary) -> String {
    let mut out = String::new();
    if summary.run.simulated {
        out.push_str(SIMULATED_BANNER);
        out.push('\n');
    }
    out.push_str(&draw(&comparison_data(summary), None));
    out
}

/// Errors by kind with hints as a terminal table; `None` without errors.
pub fn errors_table(summary: &RunSummary) -> Option<String> {
    errors_data(summary).map(|data| draw(&data, Some((3, 70))))
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
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    #[test]
    fn comparison_table_text() {
        let (sum, _) = summary(true);
        let expected = concat!(
            "SIMULATED — answers and timings come from the built-in sim gateway, not real models\n",
            "╭───────────────────────────┬────────┬────────────────┬───────┬─────────────┬─────────────┬─────────────┬────────────┬────────────┬───────────┬───────────────┬─────────────────┬──────────╮\n",
            "│ model                     │ ok/req │         errors │  pass │ TTFT p50 ms │ TTFT p75 ms │ TTFT p95 ms │ dur p50 ms │ dur p95 ms │ tok/s p50 │ tokens in/out │            cost │ cost/req │\n",
            "├───────────────────────────┼────────┼────────────────┼───────┼─────────────┼─────────────┼─────────────┼────────────┼────────────┼───────────┼───────────────┼─────────────────┼──────────┤\n",
            "│ openai/gpt-5              │    2/2 │              0 │ 50.0% │         412 │         980 │         980 │       1530 │       2100 │      44.7 │   2,400 / 150 │         $0.0033 │ $0.00165 │\n",
            "│ anthropic/claude-sonnet-4 │    1/3 │ 1 (+1 skipped) │     - │        8.50 │        8.50 │        8.50 │       95.0 │       95.0 │      46.3 │        10 / 4 │ n/a (2 unknown) │        - │\n",
            "╰───────────────────────────┴────────┴────────────────┴───────┴─────────────┴─────────────┴─────────────┴────────────┴────────────┴───────────┴───────────────┴─────────────────┴──────────╯",
        );
        assert_eq!(comparison_table(&sum), expected);
        let (real, _) = summary(false);
        assert!(!comparison_table(&real).contains("SIMULATED"));
    }

    #[test]
    fn errors_table_has_hints() {
        let (sum, _) = summary(false);
        let t = errors_table(&sum).unwrap();
        assert!(t.contains("rate_limited"));
        assert!(t.contains("lower --concurrency"));
        assert!(t.contains("budget_exceeded"));
        let mut clean = sum.clone();
        clean
            .models
            .iter_mut()
            .for_each(|m| m.errors_by_kind.clear());
        assert_eq!(errors_table(&clean), None);
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_ms(Some(1.234)), "1.23");
        assert_eq!(fmt_ms(Some(12.34)), "12.3");
        assert_eq!(fmt_ms(Some(1234.5)), "1234");
        assert_eq!(fmt_ms(None), "-");
        assert_eq!(fmt_usd(0.000_123_4), "$0.000123");
        assert_eq!(fmt_usd(12.5), "$12.50");
        assert_eq!(fmt_usd(0.0033), "$0.0033");
        assert_eq!(fmt_usd(0.0), "$0");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
    }
}
