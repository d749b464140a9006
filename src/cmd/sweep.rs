//! `run --concurrency 1,8,64,256`: a latency-vs-load sweep. One ordinary
//! sub-run per level, each in its own subdirectory (`c1/`, `c8/`, ...) of the
//! run directory, then `sweep.csv` with one row per (level, model) and the
//! same table on stdout.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::cli::RunArgs;
use crate::cmd::run_config::RunConfig;
use crate::report::RunSummary;
use crate::usage;

/// One row of `sweep.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    pub concurrency: usize,
    pub model: String,
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    /// Wall time of the sub-run's request phase, seconds.
    pub wall_s: Option<f64>,
    /// This model's finished requests per second of wall time.
    pub throughput_rps: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p90_ms: Option<f64>,
    pub ttft_p99_ms: Option<f64>,
    pub duration_p50_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub queue_p50_ms: Option<f64>,
    pub tokens_per_s_p50: Option<f64>,
}

/// Run the sweep; the worst sub-run exit code wins.
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    super::common::raise_fd_limit();
    if args.resume.is_some() {
        return Err(usage!(
            "--resume continues one run; a --concurrency list starts a sweep: drop one of them"
        ));
    }
    let [suite_path] = args.suites.as_slice() else {
        return Err(usage!(
            "a --concurrency sweep runs one suite; run the suites one at a time"
        ));
    };
    let suite = crate::suite::load(suite_path).map_err(crate::exit::usage)?;
    let base = match &args.out {
        Some(d) => d.clone(),
        None => Path::new("results")
            .join(&suite.name)
            .join(crate::rundir::unique_name()),
    };
    let mut levels = args.concurrency_levels.clone();
    levels.dedup();
    let config = RunConfig::from_args(&args, suite_path);
    let mut worst = crate::exit::OK;
    let mut rows = Vec::new();
    for &level in &levels {
        let dir = base.join(format!("c{level}"));
        println!("== concurrency {level} → {}", dir.display());
        let code = super::run::run_one(&config.at_level(level, dir.clone())).await?;
        worst = crate::exit::worse(worst, code);
        let summary = crate::report::json::read_summary(&dir.join("summary.json"))
            .with_context(|| format!("cannot read the summary of {}", dir.display()))?;
        rows.extend(sweep_rows(level, &summary));
    }
    let path = base.join("sweep.csv");
    write_csv(&path, &rows)?;
    println!("{}", table(&rows));
    println!("sweep: {}", path.display());
    Ok(worst)
}

fn wall_seconds(summary: &RunSummary) -> Option<f64> {
    let start = chrono::DateTime::parse_from_rfc3339(&summary.run.started_at).ok()?;
    let end = chrono::DateTime::parse_from_rfc3339(summary.run.ended_at.as_deref()?).ok()?;
    let us = (end - start).num_microseconds()?;
    (us > 0).then(|| us as f64 / 1e6)
}

/// The rows of one level.
pub fn sweep_rows(level: usize, summary: &RunSummary) -> Vec<SweepRow> {
    let wall = wall_seconds(summary);
    summary
        .models
        .iter()
        .map(|m| SweepRow {
            concurrency: level,
            model: m.model.clone(),
            requests: m.requests,
            ok: m.ok,
            errors: m.errors,
            wall_s: wall.map(|w| (w * 1e3).round() / 1e3),
            throughput_rps: wall.map(|w| ((m.ok + m.errors) as f64 / w * 100.0).round() / 100.0),
            ttft_p50_ms: m.ttft_p50_ms,
            ttft_p90_ms: m.ttft_p90_ms,
            ttft_p99_ms: m.ttft_p99_ms,
            duration_p50_ms: m.duration_p50_ms,
            duration_p99_ms: m.duration_p99_ms,
            queue_p50_ms: m.queue_p50_ms,
            tokens_per_s_p50: m.tokens_per_s_p50,
        })
        .collect()
}

fn write_csv(path: &PathBuf, rows: &[SweepRow]) -> anyhow::Result<()> {
    let bytes = crate::report::csv::safe_csv(rows)?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Latency vs load, one line per (model, level), models grouped.
pub fn table(rows: &[SweepRow]) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let mut sorted: Vec<&SweepRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        a.model
            .cmp(&b.model)
            .then(a.concurrency.cmp(&b.concurrency))
    });
    let mut out = format!(
        "{:<32} {:>6} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10}\n",
        "model", "conc", "req/s", "ttft p50", "ttft p90", "ttft p99", "dur p50", "dur p99"
    );
    for r in sorted {
        out.push_str(&format!(
            "{:<32} {:>6} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10}\n",
            r.model,
            r.concurrency,
            f(r.throughput_rps),
            f(r.ttft_p50_ms),
            f(r.ttft_p90_ms),
            f(r.ttft_p99_ms),
            f(r.duration_p50_ms),
            f(r.duration_p99_ms),
        ));
    }
    out
}
