//! `report.md`: why the run failed (when it did), the decision view, the
//! comparison, flaky cases, errors with fixes, and the top failing answers,
//! as GitHub-flavoured Markdown (for PR comments and job summaries: the
//! first screen says what a reviewer needs).

use std::fmt::Write as _;

use super::decision::{flaky_markdown, CaseTable, Decision};
use super::failing::Failing;
use super::table::{comparison_data, errors_data, TableData};
use super::{Exporter, Records, ReportError, RunSummary, SIMULATED_BANNER};
use crate::record::ResponseRecord;

/// Failing answers listed under "Top failures".
const TOP_FAILURES: usize = 10;
/// Characters of each failing answer shown.
const ANSWER_CHARS: usize = 200;

/// Writes `report.md`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn write<'r>(
        &self,
        summary: &RunSummary,
        records: &Records<'r>,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        // The rows are read when something lists them: failures, the
        // per-case decision view (two models or more), flaky cases (repeats).
        let needed =
            summary.failed_rows() > 0 || summary.models.len() > 1 || summary.run.options.repeat > 1;
        let mut rows = super::rows_if(needed, records)?;
        let bytes = self.bytes(summary, &mut *rows)?;
        out.write_all(&bytes).map_err(super::write_err("report.md"))
    }
}

impl Markdown {
    fn bytes(
        &self,
        summary: &RunSummary,
        records: &mut dyn Iterator<Item = ResponseRecord>,
    ) -> Result<Vec<u8>, ReportError> {
        let run = &summary.run;
        let mut out = format!("# evalgate report: {}\n\n", cell(&run.suite));
        if run.simulated {
            let _ = writeln!(out, "> **{SIMULATED_BANNER}**\n");
        }
        let _ = write!(
            out,
            "Run started {}{}, gateway `{}`, {} models, {} planned jobs, evalgate {}",
            run.started_at,
            run.ended_at
                .as_deref()
                .map(|e| format!(", ended {e}"))
                .unwrap_or_default(),
            run.gateway_url,
            run.models.len(),
            run.planned_jobs,
            run.tool_version,
        );
        if let Some(why) = &run.stopped_by {
            let _ = write!(out, "; stopped early ({why})");
        }
        out.push_str(".\n\n");

        let mut cases = CaseTable::for_run(summary);
        let mut failing = Failing::new(summary);
        let mut shown = TableData {
            headers: vec!["case", "model", "failed checks", "answer"],
            numeric: vec![false; 4],
            rows: Vec::new(),
        };
        let mut failed_answers = 0usize;
        for rec in records {
            cases.record(&rec.row);
            failing.record(&rec.row);
            if rec.row.passed == Some(false) {
                failed_answers += 1;
                if shown.rows.len() < TOP_FAILURES {
                    shown.rows.push(failure_row(&rec));
                }
            }
        }
        out.push_str(&failing.markdown());
        if let Some(decision) = Decision::build(summary, &cases) {
            out.push_str(&decision.markdown());
            out.push('\n');
        }
        out.push_str("## Models\n\n");
        out.push_str(&table(&comparison_data(summary)));
        if let Some(flaky) = flaky_markdown(summary, &cases) {
            out.push('\n');
            out.push_str(&flaky);
        }
        for note in super::table::truth_notes(summary) {
            let _ = writeln!(out, "\n- {}", cell(&note));
        }

        out.push_str("\n## Errors\n\n");
        match errors_data(summary) {
            Some(data) => out.push_str(&table(&data)),
            None => out.push_str("No errors.\n"),
        }

        out.push_str("\n## Top failures\n\n");
        let failing = failed_answers;
        if failing == 0 {
            out.push_str("No failed checks.\n");
        } else {
            out.push_str(&table(&shown));
            if failing > shown.rows.len() {
                let _ = writeln!(
                    out,
                    "\n{} of {failing} failing answers shown; all are in responses.jsonl.",
                    shown.rows.len()
                );
            }
        }
        Ok(out.into_bytes())
    }
}

fn failure_row(rec: &ResponseRecord) -> Vec<String> {
    let row = &rec.row;
    let case = match row.repeat {
        0 => row.case_id.clone(),
        r => format!("{}#{r}", row.case_id),
    };
    let failed: Vec<String> = rec
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| match c.reason.as_str() {
            "" => c.check.clone(),
            reason => format!("{}: {reason}", c.check),
        })
        .collect();
    let failed = if failed.is_empty() {
        row.failed_checks.clone().unwrap_or_else(|| "-".into())
    } else {
        failed.join("; ")
    };
    let shown = rec.answer_shown();
    let mut answer: String = shown.chars().take(ANSWER_CHARS).collect();
    if shown.chars().nth(ANSWER_CHARS).is_some() {
        answer.push('…');
    }
    vec![case, row.model.clone(), failed, answer]
}

/// Text safe inside a table cell: no line breaks, pipes escaped, no raw
/// HTML (GitHub would render or swallow tags), no control characters.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' => out.push_str("\\|"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A GitHub Markdown table; numeric columns right-aligned.
fn table(data: &TableData) -> String {
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = String>| {
        out.push('|');
        for c in cells {
            let _ = write!(out, " {c} |");
        }
        out.push('\n');
    };
    line(&mut out, &mut data.headers.iter().map(|h| cell(h)));
    line(
        &mut out,
        &mut data
            .numeric
            .iter()
            .map(|&n| if n { "---:" } else { ":---" }.to_string()),
    );
    for row in &data.rows {
        line(&mut out, &mut row.iter().map(|c| cell(c)));
    }
    out
}

#[cfg(test)]
mod tests;
