//! What `evalgate run` prints when a run ends: the comparison table, the
//! results line, why a run stopped early, the failing cases on exit 1, and
//! what to do after a journal write failed.

use std::path::Path;

use crate::report::failing::Failing;
use crate::report::{table, RunSummary};
use crate::runner::RunOutcome;

/// The journal could not be written (a full disk): say what was kept and
/// how to finish the run.
pub(crate) fn journal_failure(outcome: &RunOutcome, dir: &Path) {
    if let Some(e) = &outcome.subscriber_error {
        let kept = match outcome.unsaved {
            0 => "every answer received was written once the disk allowed".to_string(),
            n => format!("{n} answers received could not be written and will be sent again"),
        };
        eprintln!(
            "error: {e}; no request was started after it, and {kept}. Free disk space, then finish with: evalgate run --resume {}",
            dir.display()
        );
    }
}

/// The comparison table, errors, notes, early stop and results line.
pub(crate) fn summary(summary: &RunSummary, dir: &Path, wide: bool) {
    let view = if wide {
        table::View::Wide
    } else {
        table::View::Compact {
            width: crate::term::width(),
        }
    };
    println!("{}", table::comparison_table(summary, view));
    if let Some(errors) = table::errors_table(summary, view) {
        println!("{errors}");
    }
    for note in table::truth_notes(summary) {
        println!("{note}");
    }
    if let Some(reason) = &summary.run.stopped_by {
        let why = match reason.as_str() {
            "budget" => "the --max-cost budget was reached; unrun jobs are rows with error_kind budget_exceeded",
            "max_requests" => "--max-requests was reached; unrun jobs are rows with error_kind budget_exceeded",
            _ => "interrupted; unrun jobs are rows with error_kind cancelled",
        };
        println!(
            "stopped early: {why}. Finish with: evalgate run --resume {}",
            dir.display()
        );
    }
    let files = crate::report::formats::run_dir_files();
    let line = format!("results: {}/ ({files})", dir.display());
    let width = crate::term::width();
    if crate::term::columns(&line) <= width {
        println!("{line}");
    } else {
        println!("results: {}/", dir.display());
        for l in crate::term::wrap(&files, width, "  ") {
            println!("{l}");
        }
    }
}

/// On exit 1: the failing cases per model (from `requests.csv`, a bounded
/// number kept), spent vs budget on a budget stop, and where to read more.
pub(crate) fn failing(summary: &RunSummary, dir: &Path) {
    let mut failing = Failing::new(summary);
    if let Ok(rows) = crate::report::csv::stream_requests(&dir.join("requests.csv")) {
        for row in rows.flatten() {
            failing.record(&row);
        }
    }
    if !failing.any() {
        return;
    }
    let width = crate::term::width();
    for line in failing.lines(width) {
        println!("{line}");
    }
    println!("details: {}", dir.join("report.md").display());
}
