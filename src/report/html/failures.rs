//! Failing cases side by side: for every case that failed a check or errored
//! for any model, each model's answer next to the others, with the failed
//! checks and their reasons.
//!
//! Bounded: the first [`MAX_CASES`] failing cases, answers cut at
//! [`ANSWER_CHARS`]. Rows are folded one at a time, keeping one (truncated)
//! representative answer per case and model, never the whole journal.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::page::swatch;
use crate::record::{ResponseRecord, Status};
use crate::report::svg::esc;

/// Failing cases shown.
pub const MAX_CASES: usize = 20;
/// Characters of each answer shown.
pub const ANSWER_CHARS: usize = 1500;

/// What one model did on one case (over its repeats).
#[derive(Debug)]
struct Cell {
    /// `pass`, `fail`, `error`, `skipped` or `unchecked` for the shown row.
    verdict: &'static str,
    /// Failed checks as (check, reason).
    failed: Vec<(String, String)>,
    error: Option<String>,
    answer: String,
    truncated: bool,
    runs: u32,
    bad_runs: u32,
}

fn verdict(rec: &ResponseRecord) -> &'static str {
    match (rec.row.status, rec.row.passed) {
        (Status::Error, _) => "error",
        (Status::Skipped, _) => "skipped",
        (Status::Ok, Some(true)) => "pass",
        (Status::Ok, Some(false)) => "fail",
        (Status::Ok, None) => "unchecked",
    }
}

fn is_bad(v: &str) -> bool {
    v == "fail" || v == "error"
}

impl Cell {
    fn from(rec: &ResponseRecord) -> Self {
        let mut failed: Vec<(String, String)> = rec
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| (c.check.clone(), c.reason.clone()))
            .collect();
        if failed.is_empty() && rec.row.passed == Some(false) {
            // Rebuilt from requests.csv only: the joined `failed_checks` column.
            if let Some(text) = &rec.row.failed_checks {
                failed.push((text.clone(), String::new()));
            }
        }
        let error = match rec.row.status {
            Status::Ok => None,
            _ => Some(
                [
                    rec.row.error_kind.map(|k| k.as_str().to_string()),
                    rec.row.error_message.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
            ),
        };
        let shown = rec.answer_shown();
        Cell {
            verdict: verdict(rec),
            failed,
            error,
            answer: shown.chars().take(ANSWER_CHARS).collect(),
            truncated: shown.chars().nth(ANSWER_CHARS).is_some(),
            runs: 0,
            bad_runs: 0,
        }
    }
}

/// One case: its cells by model position.
#[derive(Debug, Default)]
struct Case {
    id: String,
    cells: HashMap<usize, Cell>,
    failing: bool,
}

/// Folds rows into per-case, per-model representatives.
#[derive(Debug, Default)]
pub struct Failures {
    models: Vec<String>,
    cases: Vec<Case>,
    index: HashMap<String, usize>,
    /// Failing cases over the whole run, when only some cases were folded in.
    failing_total: Option<usize>,
}

/// What a first pass over the rows finds: the model order, how many cases
/// fail, and the ids of the first [`MAX_CASES`] failing cases (in order of
/// first appearance), whose rows a second pass folds into [`Failures`].
pub struct Shortlist {
    pub models: Vec<String>,
    pub failing: usize,
    pub chosen: HashSet<String>,
}

/// First pass: keeps each case's id, position and verdict, never an answer.
pub fn shortlist(models: &[String], records: impl Iterator<Item = ResponseRecord>) -> Shortlist {
    let mut models = models.to_vec();
    let mut cases: HashMap<String, (usize, bool)> = HashMap::new();
    for rec in records {
        if !models.contains(&rec.row.model) {
            models.push(rec.row.model.clone());
        }
        let next = cases.len();
        let bad = is_bad(verdict(&rec));
        match cases.get_mut(&rec.row.case_id) {
            Some(c) => c.1 |= bad,
            None => {
                cases.insert(rec.row.case_id, (next, bad));
            }
        }
    }
    let mut failing: Vec<(usize, String)> = cases
        .into_iter()
        .filter(|(_, (_, bad))| *bad)
        .map(|(id, (at, _))| (at, id))
        .collect();
    let total = failing.len();
    failing.sort_unstable();
    Shortlist {
        models,
        failing: total,
        chosen: failing
            .into_iter()
            .take(MAX_CASES)
            .map(|(_, id)| id)
            .collect(),
    }
}

impl Failures {
    /// An empty collection for these models (their order sets the columns).
    pub fn new(models: &[String]) -> Self {
        Failures {
            models: models.to_vec(),
            ..Failures::default()
        }
    }

    /// Fold one row in: the first failing row of a (case, model) is shown,
    /// else its first row.
    pub fn record(&mut self, rec: &ResponseRecord) {
        let m = match self.models.iter().position(|m| *m == rec.row.model) {
            Some(i) => i,
            None => {
                self.models.push(rec.row.model.clone());
                self.models.len() - 1
            }
        };
        let ci = *self
            .index
            .entry(rec.row.case_id.clone())
            .or_insert_with(|| {
                self.cases.push(Case {
                    id: rec.row.case_id.clone(),
                    ..Case::default()
                });
                self.cases.len() - 1
            });
        let case = &mut self.cases[ci];
        let bad = is_bad(verdict(rec));
        case.failing |= bad;
        let cell = case.cells.entry(m).or_insert_with(|| Cell::from(rec));
        if bad && !is_bad(cell.verdict) {
            let (runs, bad_runs) = (cell.runs, cell.bad_runs);
            *cell = Cell::from(rec);
            (cell.runs, cell.bad_runs) = (runs, bad_runs);
        }
        cell.runs += 1;
        cell.bad_runs += u32::from(bad);
    }

    /// Set the run's failing-case count when only the shortlisted cases'
    /// rows are folded in.
    pub fn set_failing_total(&mut self, total: usize) {
        self.failing_total = Some(total);
    }

    /// Cases that failed for some model.
    pub fn failing(&self) -> usize {
        self.failing_total
            .unwrap_or_else(|| self.cases.iter().filter(|c| c.failing).count())
    }

    /// The section's HTML; `color(i)` is the palette index of model `i`.
    pub fn render(&self, color: fn(usize) -> usize) -> String {
        let total = self.failing();
        if total == 0 {
            return "<p class=\"note\">No failed checks and no errors: every answer that was checked passed.</p>\n".into();
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<p class=\"note\">{} failing case{} (a failed check or an error for at least one model){}. Answers are cut at {} characters; every answer is in responses.jsonl.</p>",
            total,
            if total == 1 { "" } else { "s" },
            if total > MAX_CASES {
                format!("; the first {MAX_CASES} are shown")
            } else {
                String::new()
            },
            ANSWER_CHARS,
        );
        for case in self.cases.iter().filter(|c| c.failing).take(MAX_CASES) {
            let _ = write!(
                out,
                "<section class=\"case card\"><h3>Case <code>{}</code></h3><div class=\"answers\">",
                esc(&case.id)
            );
            for (m, model) in self.models.iter().enumerate() {
                let Some(cell) = case.cells.get(&m) else {
                    continue;
                };
                out.push_str(&render_cell(model, color(m), cell));
            }
            out.push_str("</div></section>\n");
        }
        out
    }
}

fn render_cell(model: &str, color: usize, cell: &Cell) -> String {
    let mut out = format!(
        "<article class=\"answer\"><header>{}{}<span class=\"badge {v}\">{v}</span></header>",
        swatch(&format!("c{color}")),
        esc(model),
        v = cell.verdict,
    );
    if cell.runs > 1 {
        let _ = write!(
            out,
            "<p class=\"runs\">{} of {} repeats failed; showing {}.</p>",
            cell.bad_runs,
            cell.runs,
            if cell.bad_runs > 0 {
                "the first failing one"
            } else {
                "the first"
            }
        );
    }
    if cell.error.is_some() || !cell.failed.is_empty() {
        out.push_str("<ul>");
        if let Some(e) = &cell.error {
            let _ = write!(out, "<li>{}</li>", esc(e));
        }
        for (check, reason) in &cell.failed {
            match reason.as_str() {
                "" => {
                    let _ = write!(out, "<li><code>{}</code></li>", esc(check));
                }
                r => {
                    let _ = write!(out, "<li><code>{}</code>: {}</li>", esc(check), esc(r));
                }
            }
        }
        out.push_str("</ul>");
    }
    let answer = if cell.answer.is_empty() {
        "(no answer)".to_string()
    } else if cell.truncated {
        format!("{}…", cell.answer)
    } else {
        cell.answer.clone()
    };
    let _ = write!(out, "<pre>{}</pre></article>", esc(&answer));
    out
}
