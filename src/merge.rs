//! `evalgate merge`: combine shards (or repeated runs) of one suite into a
//! single run directory, exactly.
//!
//! Histograms are merged from their serialized form ([`RunSummary::aggregate`]
//! and [`Aggregate::merge`]), so the merged percentiles equal those of one
//! unsharded run over the same samples; rows and journal lines are
//! concatenated; totals are summed. Runs of different suites (by hash) are
//! refused, and so is the same shard given twice.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::journal::{self, JournalWriter};
use crate::metrics::{Aggregate, MetricsError};
use crate::record::{RequestRow, ResponseRecord, RunMeta};
use crate::report::{self, csv::RequestsCsv, ReportError, RunSummary};

/// Why runs could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// An input is not a finished run directory.
    #[error("{path} is not a finished run directory ({reason}); pass directories written by `evalgate run`")]
    NotARun { path: PathBuf, reason: String },
    /// The inputs ran different suite files.
    #[error("cannot merge runs of different suites: {a}, but {b}; merge only shards or repeats of the same suite file")]
    DifferentSuites { a: String, b: String },
    /// The same shard appears twice.
    #[error("shard {shard} is given twice ({a} and {b}); each shard once, please")]
    DuplicateShard { shard: String, a: String, b: String },
    /// Shards of different partitions.
    #[error("{a}, but {b}: shards of different --shard counts do not partition the same plan")]
    MixedShards { a: String, b: String },
    /// Shards missing from the set: the merge would report part of a plan.
    #[error("only shards {have} of {count} were given (missing {missing}): the merged run would cover part of the plan; add the missing shards, or pass --allow-partial to merge them anyway as a partial run")]
    IncompleteShards {
        have: String,
        missing: String,
        count: u32,
    },
    /// Nothing to merge.
    #[error("give at least one run directory to merge")]
    Empty,
    /// The output directory is not usable.
    #[error("{0}")]
    Out(String),
    /// Reading or writing failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// Histograms could not be merged.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// One input run.
struct Input {
    dir: PathBuf,
    summary: RunSummary,
    rows: Vec<RequestRow>,
    journal: Vec<ResponseRecord>,
}

fn load(dir: &Path) -> Result<Input, MergeError> {
    let not_run = |reason: &str| MergeError::NotARun {
        path: dir.to_path_buf(),
        reason: reason.to_string(),
    };
    if !dir.is_dir() {
        return Err(not_run("no such directory"));
    }
    if !dir.join("summary.json").is_file() {
        return Err(not_run("it has no summary.json"));
    }
    let summary = report::read_summary(&dir.join("summary.json"))?;
    // Generation records are joined in, so the merged journal holds the
    // rows as the shard's requests.csv has them. The join walks the rows in
    // job order; the merged journal keeps the shard's completion order.
    let records = journal::read_all(dir)?;
    let mut by_job: Vec<usize> = (0..records.len()).collect();
    by_job.sort_by_key(|&i| records[i].row.job);
    let mut slots: Vec<Option<ResponseRecord>> = records.into_iter().map(Some).collect();
    let in_job_order: Vec<ResponseRecord> =
        by_job.iter().filter_map(|&i| slots[i].take()).collect();
    let joined = crate::generations::join(dir, in_job_order.into_iter(), &summary.run.first_choice);
    for (&i, rec) in by_job.iter().zip(joined) {
        slots[i] = Some(rec);
    }
    let journal = slots.into_iter().flatten().collect();
    Ok(Input {
        dir: dir.to_path_buf(),
        summary,
        rows: report::read_requests(&dir.join("requests.csv"))?,
        journal,
    })
}

fn check_compatible(inputs: &[Input]) -> Result<(), MergeError> {
    let first = &inputs[0];
    for other in &inputs[1..] {
        if other.summary.run.suite_hash != first.summary.run.suite_hash {
            let ran = |i: &Input| {
                format!(
                    "{} ran `{}` (suite hash {})",
                    i.dir.display(),
                    i.summary.run.suite,
                    short(&i.summary.run.suite_hash)
                )
            };
            return Err(MergeError::DifferentSuites {
                a: ran(first),
                b: ran(other),
            });
        }
    }
    let shards: Vec<(&Input, crate::plan::Shard)> = inputs
        .iter()
        .filter_map(|i| {
            let s = i.summary.run.options.shard.as_deref()?.parse().ok()?;
            Some((i, s))
        })
        .collect();
    for (n, (a, sa)) in shards.iter().enumerate() {
        for (b, sb) in &shards[n + 1..] {
            if sa.count != sb.count {
                return Err(MergeError::MixedShards {
                    a: format!("{} is shard {sa}", a.dir.display()),
                    b: format!("{} is shard {sb}", b.dir.display()),
                });
            }
            if sa == sb {
                return Err(MergeError::DuplicateShard {
                    shard: sa.to_string(),
                    a: a.dir.display().to_string(),
                    b: b.dir.display().to_string(),
                });
            }
        }
    }
    Ok(())
}

/// When the inputs are shards but not all of them: (given, missing, count).
fn missing_shards(inputs: &[Input]) -> Option<(Vec<String>, Vec<String>, u32)> {
    let shards: BTreeSet<crate::plan::Shard> = inputs
        .iter()
        .filter_map(|i| i.summary.run.options.shard.as_deref()?.parse().ok())
        .collect();
    let count = shards.first()?.count;
    let missing: Vec<String> = (1..=count)
        .map(|index| crate::plan::Shard { index, count })
        .filter(|s| !shards.contains(s))
        .map(|s| s.to_string())
        .collect();
    let have = shards.iter().map(|s| s.to_string()).collect();
    (!missing.is_empty()).then_some((have, missing, count))
}

fn short(hash: &str) -> String {
    hash[..12.min(hash.len())].to_string()
}

/// The merged run's metadata: the first run's, with the union of models,
/// the earliest start, the latest end and the summed plan size. A complete
/// set of shards is an unsharded run again.
fn merged_meta(inputs: &[Input]) -> RunMeta {
    let mut meta = inputs[0].summary.run.clone();
    let mut models = Vec::new();
    for i in inputs {
        for m in &i.summary.run.models {
            if !models.contains(m) {
                models.push(m.clone());
            }
        }
    }
    meta.models = models;
    meta.started_at = inputs
        .iter()
        .map(|i| i.summary.run.started_at.clone())
        .min()
        .unwrap_or_default();
    meta.ended_at = inputs
        .iter()
        .filter_map(|i| i.summary.run.ended_at.clone())
        .max();
    meta.planned_jobs = inputs.iter().map(|i| i.summary.run.planned_jobs).sum();
    meta.stopped_by = inputs.iter().find_map(|i| i.summary.run.stopped_by.clone());
    let shards: BTreeSet<String> = inputs
        .iter()
        .filter_map(|i| i.summary.run.options.shard.clone())
        .collect();
    let complete = shards.len() == inputs.len()
        && inputs[0]
            .summary
            .run
            .options
            .shard
            .as_deref()
            .and_then(|s| s.parse::<crate::plan::Shard>().ok())
            .is_some_and(|s| s.count as usize == shards.len());
    meta.options.shard = if shards.is_empty() || complete {
        None
    } else {
        Some(shards.into_iter().collect::<Vec<_>>().join(","))
    };
    meta
}

fn prepare_out(out: &Path, force: bool) -> Result<(), MergeError> {
    let non_empty = std::fs::read_dir(out)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !force {
        return Err(MergeError::Out(format!(
            "the output directory {} exists and is not empty; pass --force or choose another --out",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| {
        MergeError::Out(format!(
            "cannot create the output directory {}: {e}; choose a writable --out",
            out.display()
        ))
    })
}

/// Merge run directories into `out`; returns the merged summary. An
/// incomplete set of shards is refused unless `allow_partial`, which marks
/// the merged run partial (`stopped_by`), so it is never taken for the
/// whole plan (`last`, `last-green` and green verdicts skip it).
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    force: bool,
    allow_partial: bool,
) -> Result<RunSummary, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::Empty);
    }
    let inputs = dirs
        .iter()
        .map(|d| load(d))
        .collect::<Result<Vec<_>, _>>()?;
    check_compatible(&inputs)?;
    let mut meta = merged_meta(&inputs);
    if let Some((have, missing, count)) = missing_shards(&inputs) {
        if !allow_partial {
            return Err(MergeError::IncompleteShards {
                have: have.join(", "),
                missing: missing.join(", "),
                count,
            });
        }
        meta.stopped_by = Some(format!("partial: shards {} missing", missing.join(", ")));
    }
    let mut agg = Aggregate::new(&meta.models);
    for i in &inputs {
        agg.merge(&i.summary.aggregate()?)?;
    }
    let mut summary = RunSummary::new(meta, &agg);
    // Repeats of one case may sit in different shards: per-case figures
    // come from all rows together.
    let mut cases = crate::metrics::CaseOutcomes::default();
    for row in inputs.iter().flat_map(|i| &i.rows) {
        cases.record(row);
    }
    cases.apply(&mut summary.models);

    prepare_out(out, force)?;
    crate::output::write_meta(out, &summary.run).map_err(|e| MergeError::Out(format!("{e:#}")))?;
    if out.join(journal::FILE_NAME).exists() {
        std::fs::remove_file(out.join(journal::FILE_NAME))
            .map_err(|e| MergeError::Out(format!("cannot replace {}: {e}", out.display())))?;
    }
    let mut writer = JournalWriter::open(out)?;
    for rec in inputs.iter().flat_map(|i| &i.journal) {
        writer.append(rec)?;
    }
    writer.flush()?;
    drop(writer);
    let mut csv = RequestsCsv::create(&out.join("requests.csv"))?;
    for row in inputs.iter().flat_map(|i| &i.rows) {
        csv.write(row)?;
    }
    csv.finish()?;

    // Rows in order, each with its answer where the journal has one.
    let records = || {
        inputs.iter().flat_map(|i| {
            let by_job: HashMap<u64, &ResponseRecord> =
                i.journal.iter().map(|r| (r.row.job, r)).collect();
            i.rows
                .iter()
                .map(move |row| match by_job.get(&row.job) {
                    Some(rec) => (*rec).clone(),
                    _ => ResponseRecord::from_row(row.clone()),
                })
                .collect::<Vec<_>>()
        })
    };
    for exporter in report::formats::run_dir_writers() {
        let pass = || -> Result<Box<dyn Iterator<Item = ResponseRecord> + '_>, ReportError> {
            Ok(Box::new(records()))
        };
        exporter.write_file(&summary, &pass, &out.join(exporter.file_name()))?;
    }
    Ok(summary)
}
