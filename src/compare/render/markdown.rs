//! The comparison as a Markdown section, for pull-request comments.

use std::fmt::Write as _;

use super::super::analyze::Comparison;
use super::rows::{cells, display_rows, headline, method_line, notes, HEADERS};
use super::{RenderError, RenderInput};
use crate::report::SIMULATED_BANNER;

/// `compare --format markdown`.
pub fn render(input: &RenderInput<'_>) -> Result<String, RenderError> {
    Ok(markdown(input.cmp))
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
