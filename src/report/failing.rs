//! "Why did the run fail?": up to [`LISTED`] failing cases per model (case
//! id, repeat, the failed checks with their one-line reasons), how many
//! more, and on a budget stop what was spent against the budget. Printed by
//! `evalgate run` on exit 1 and at the top of `report.md` (the GitHub step
//! summary), from the same data so the two say the same.

use std::fmt::Write as _;

use crate::metrics::RunSummary;
use crate::record::RequestRow;

/// Failing cases listed per model.
pub const LISTED: usize = 10;

/// One failing answer.
#[derive(Clone, Debug, PartialEq)]
pub struct FailingCase {
    pub case_id: String,
    pub repeat: u32,
    /// `check: reason | check: reason`, one line.
    pub reasons: String,
}

/// The failing answers of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFailures {
    pub model: String,
    /// Every failing answer of the model.
    pub total: u64,
    /// The first [`LISTED`] of them, in row order.
    pub listed: Vec<FailingCase>,
}

/// Failing answers per model and the budget line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Failing {
    pub models: Vec<ModelFailures>,
    /// (spent incl. grading, budget) when `--max-cost` stopped the run.
    pub budget: Option<(f64, f64)>,
}

impl Failing {
    /// An empty list for the run's models; `record` fills it.
    pub fn new(summary: &RunSummary) -> Failing {
        let spent: f64 = summary
            .models
            .iter()
            .map(|m| m.cost_usd.unwrap_or(0.0) + m.grader_cost_usd.unwrap_or(0.0))
            .sum();
        let budget = match (
            summary.run.stopped_by.as_deref(),
            summary.run.options.max_cost_usd,
        ) {
            (Some("budget"), Some(max)) => Some((spent, max)),
            _ => None,
        };
        Failing {
            models: summary
                .models
                .iter()
                .map(|m| ModelFailures {
                    model: m.model.clone(),
                    total: 0,
                    listed: Vec::new(),
                })
                .collect(),
            budget,
        }
    }

    /// Fold one row in (only rows whose checks failed count).
    pub fn record(&mut self, row: &RequestRow) {
        if row.passed != Some(false) {
            return;
        }
        let Some(m) = self.models.iter_mut().find(|m| m.model == row.model) else {
            return;
        };
        m.total += 1;
        if m.listed.len() < LISTED {
            let reasons = row
                .failed_checks
                .as_deref()
                .unwrap_or("checks failed")
                .replace(['\n', '\r', '\t'], " ");
            m.listed.push(FailingCase {
                case_id: row.case_id.clone(),
                repeat: row.repeat,
                reasons,
            });
        }
    }

    /// True when there is anything to say.
    pub fn any(&self) -> bool {
        self.budget.is_some() || self.models.iter().any(|m| m.total > 0)
    }

    /// The terminal lines, each at most `width` columns.
    pub fn lines(&self, width: usize) -> Vec<String> {
        let fit = |s: String| crate::term::truncate(&s, width);
        let mut out = Vec::new();
        if let Some((spent, max)) = self.budget {
            out.push(fit(format!(
                "budget: spent ${spent:.4} of the ${max:.4} --max-cost budget"
            )));
        }
        for m in self.models.iter().filter(|m| m.total > 0) {
            out.push(fit(format!(
                "{}: {} failing answer{}",
                crate::term::shorten_middle(&m.model, width.saturating_sub(24).max(12)),
                m.total,
                if m.total == 1 { "" } else { "s" }
            )));
            for c in &m.listed {
                out.push(fit(format!("  {} #{}: {}", c.case_id, c.repeat, c.reasons)));
            }
            if m.total > m.listed.len() as u64 {
                out.push(format!("  … and {} more", m.total - m.listed.len() as u64));
            }
        }
        out
    }

    /// The section at the top of `report.md`; empty when nothing failed.
    pub fn markdown(&self) -> String {
        if !self.any() {
            return String::new();
        }
        let mut out = String::from("## Why the run failed\n\n");
        if let Some((spent, max)) = self.budget {
            let _ = writeln!(
                out,
                "The `--max-cost` budget stopped the run: spent ${spent:.4} of ${max:.4}.\n"
            );
        }
        for m in self.models.iter().filter(|m| m.total > 0) {
            let _ = writeln!(
                out,
                "**{}**: {} failing answer{}\n",
                esc(&m.model),
                m.total,
                if m.total == 1 { "" } else { "s" }
            );
            for c in &m.listed {
                let _ = writeln!(
                    out,
                    "- `{}` #{}: {}",
                    c.case_id.replace('`', "'"),
                    c.repeat,
                    esc(&c.reasons)
                );
            }
            if m.total > m.listed.len() as u64 {
                let _ = writeln!(
                    out,
                    "- … and {} more (all in requests.csv)",
                    m.total - m.listed.len() as u64
                );
            }
            out.push('\n');
        }
        out
    }
}

/// Text safe in a Markdown list item: no raw HTML, no line breaks.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}
