//! The comparison as terminal tables: every column (`--wide`, and `run
//! --baseline --wide`), or one small table per model that fits the terminal.

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use super::super::analyze::Comparison;
use super::rows::{cells, display_rows, headline, method_line, notes, HEADERS};
use super::{RenderError, RenderInput};
use crate::report::SIMULATED_BANNER;

/// `compare --format table`: compact to the terminal's width unless `--wide`.
pub fn render(input: &RenderInput<'_>) -> Result<String, RenderError> {
    Ok(if input.wide {
        table(input.cmp)
    } else {
        compact_table(input.cmp, input.width)
    })
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
