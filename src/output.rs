//! Writes the run directory from the journal and the plan once the runner
//! is done: `requests.csv` (one row per planned job, always), the summaries
//! and the reports. Every file is derived here, in one place, so an
//! interrupted, resumed or merged run produces the same set of files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use crate::journal::JobOrder;
use crate::metrics::{Aggregate, CaseOutcomes};
use crate::plan::Plan;
use crate::record::{ErrorKind, JobKey, RequestRow, ResponseRecord, RunMeta, Status};
use crate::report::{csv::RequestsCsv, Exporter, ReportError, RunSummary};
use crate::runner::RunOutcome;
use crate::suite::Suite;

/// The jobs that have no row in the journal, as the rows the table shows.
pub struct Unrun<'a> {
    pub suite: &'a Suite,
    pub models: &'a [String],
    pub plan: Plan,
    pub outcome: &'a RunOutcome,
}

impl Unrun<'_> {
    fn record(&self, key: JobKey, status: Status, kind: ErrorKind) -> ResponseRecord {
        let case = &self.suite.cases[key.case_index as usize];
        let model = &self.models[key.model_index as usize];
        let mut row = RequestRow::skipped(key, &self.suite.name, &case.id, model, kind);
        row.status = status;
        row.cache_probe = case.probe;
        ResponseRecord::from_row(row)
    }

    /// Abandoned in-flight jobs (errors of kind `cancelled`) and every job
    /// never started (skipped, with the stop reason's kind), by job.
    pub fn records(&self) -> impl Iterator<Item = ResponseRecord> + '_ {
        let kind = self
            .outcome
            .stopped_by
            .map_or(ErrorKind::Cancelled, |s| s.error_kind());
        let abandoned = &self.outcome.abandoned;
        let mut in_flight: Vec<ResponseRecord> = abandoned
            .iter()
            .map(|k| self.record(*k, Status::Error, ErrorKind::Cancelled))
            .collect();
        in_flight.sort_by_key(|r| r.row.job);
        let never = self
            .plan
            .jobs()
            .filter(move |k| {
                !self.outcome.done.contains(k.job) && !abandoned.iter().any(|a| a.job == k.job)
            })
            .map(move |k| self.record(k, Status::Skipped, kind));
        by_job(in_flight.into_iter(), never)
    }
}

/// Two iterators ascending by job, as one ascending by job.
fn by_job(
    a: impl Iterator<Item = ResponseRecord>,
    b: impl Iterator<Item = ResponseRecord>,
) -> impl Iterator<Item = ResponseRecord> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y.row.job < x.row.job => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// Journal records and the unrun jobs, in job order (the order of the plan,
/// whatever order the answers came in): every planned job once.
fn all_records<'a>(
    dir: &Path,
    journal: &'a JobOrder,
    unrun: &'a Unrun<'a>,
    first_choice: &BTreeMap<String, String>,
) -> anyhow::Result<impl Iterator<Item = ResponseRecord> + 'a> {
    Ok(by_job(
        journaled(dir, journal, first_choice)?,
        unrun.records(),
    ))
}

/// The journal's records by job, joined with their generation records and
/// held to the run's first-choice providers.
fn journaled<'a>(
    dir: &Path,
    journal: &'a JobOrder,
    first_choice: &BTreeMap<String, String>,
) -> anyhow::Result<impl Iterator<Item = ResponseRecord> + 'a> {
    Ok(crate::generations::join(
        dir,
        journal.records()?,
        first_choice,
    ))
}

/// Write every file of the run directory; returns the summary.
pub fn write_run_dir(
    dir: &Path,
    meta: RunMeta,
    unrun: &Unrun<'_>,
    aggregate: &Aggregate,
    extra: &[&dyn Exporter],
) -> anyhow::Result<RunSummary> {
    let journal = JobOrder::build(dir)?;
    let first_choice = meta.first_choice.clone();
    let first_choice = &first_choice;
    let mut agg = if crate::generations::exists(dir) || !first_choice.is_empty() {
        // Generation records change costs and mark fallbacks (so does the
        // provider order): fold the joined rows again rather than patch
        // the live aggregate.
        let mut agg = aggregate.empty_like();
        for rec in journaled(dir, &journal, first_choice)? {
            agg.record(&rec);
        }
        agg
    } else {
        aggregate.clone()
    };
    for rec in unrun.records() {
        agg.record(&rec);
    }
    let mut summary = RunSummary::new(meta, &agg);

    let csv_path = dir.join("requests.csv");
    let mut csv = RequestsCsv::create(&csv_path)?;
    let mut cases = CaseOutcomes::default();
    for rec in all_records(dir, &journal, unrun, first_choice)? {
        cases.record(&rec.row);
        csv.write(&rec.row)?;
    }
    csv.finish()?;
    cases.apply(&mut summary.models);

    let exporters = crate::report::formats::run_dir_writers()
        .map(|e| e as &dyn Exporter)
        .chain(extra.iter().copied());
    let records = || -> Result<Box<dyn Iterator<Item = ResponseRecord> + '_>, ReportError> {
        let rows = all_records(dir, &journal, unrun, first_choice)
            .map_err(|e| ReportError::Journal(e.to_string()))?;
        Ok(Box::new(rows))
    };
    for exporter in exporters {
        exporter.write_file(&summary, &records, &dir.join(exporter.file_name()))?;
    }
    Ok(summary)
}

/// Write `run.json`: what the run is, before the first request. Written to
/// a temporary file and renamed, so a `kill -9` at any moment leaves either
/// the old or the new metadata, never a torn file that `--resume` rejects.
pub fn write_meta(dir: &Path, meta: &RunMeta) -> anyhow::Result<()> {
    let path = dir.join("run.json");
    let tmp = dir.join(".run.json.tmp");
    let json = serde_json::to_vec_pretty(meta)?;
    let written = std::fs::write(&tmp, json).and_then(|_| std::fs::rename(&tmp, &path));
    if written.is_err() {
        // A full disk: leave no empty or partial temporary file behind.
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| {
        format!(
            "cannot write {}; is the disk full? free space and run again",
            path.display()
        )
    })
}

/// Read `run.json` back (for `--resume`).
pub fn read_meta(dir: &Path) -> anyhow::Result<RunMeta> {
    let path = dir.join("run.json");
    let bytes = std::fs::read(&path).map_err(|e| {
        crate::usage!(
            "cannot read {}: {e}; --resume needs a run directory written by `evalgate run`",
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| crate::usage!("{} is damaged: {e}", path.display()))
}
