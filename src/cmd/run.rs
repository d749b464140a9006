//! `evalgate run`: resolve suites, models, key and gateway; refuse bad input
//! before anything is sent; run; write the run directory; print the table;
//! return the exit code the CI gate reads.

use anyhow::Context;

use crate::cli::RunArgs;
use crate::cmd::common;
use crate::cmd::run_config::RunConfig;
use crate::cmd::run_print;
use crate::cmd::run_setup::{self, on_worker, Prepared};
use crate::exit;
use crate::journal::{JournalReader, JournalWriter};
use crate::metrics::Aggregate;
use crate::output::{self, Unrun};
use crate::progress::{Mode, Progress};
use crate::report::RunSummary;
use crate::runner::lookup::Lookups;
use crate::runner::{
    self, DoneSet, JournalSubscriber, RunContext, RunOutcome, RunSubscriber, StopReason,
};
use crate::suite;
use crate::usage;

/// Run every suite named (or resume one run); the worst exit code wins.
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    common::raise_fd_limit();
    if let Some(dir) = &args.resume {
        let meta = output::read_meta(dir)?;
        if meta.options.rate.is_some() {
            return Err(usage!(
                "{} is an open-loop (--rate) run, which cannot be resumed: its schedule is gone; start a new run",
                dir.display()
            ));
        }
        return run_one(&RunConfig::from_run_json(dir, meta, &args)).await;
    }
    if let Some(dir) = &args.rerun_failed {
        let meta = output::read_meta(dir)?;
        return run_one(&RunConfig::for_rerun(dir, meta, &args)).await;
    }
    if args.suites.len() > 1 && args.out.is_some() {
        return Err(usage!(
            "--out names one run directory; run one suite at a time with --out, or drop --out"
        ));
    }
    // Load every suite first: a bad one stops everything before any request.
    let load = crate::cli::load_options(args.max_image_mb);
    for path in &args.suites {
        suite::load_with(path, &load).map_err(exit::usage)?;
    }
    let mut worst = exit::OK;
    for path in &args.suites {
        let code = run_one(&RunConfig::from_args(&args, path)).await?;
        worst = exit::worse(worst, code);
    }
    Ok(worst)
}

/// One run, as a sequence: check the input and connect, execute, write the
/// outputs, then gate (baseline) and record the history.
pub(crate) async fn run_one(cfg: &RunConfig) -> anyhow::Result<i32> {
    let (suite, models) = run_setup::load_suite(cfg)?;
    let gate = crate::cmd::compare::prepare_run(cfg, &suite.name).await?;
    let mut run = run_setup::prepare(cfg, suite, models).await?;
    let (outcome, notes) = execute(cfg, &mut run).await?;
    let dir = run.dir.clone();
    let (summary, code) = write_outputs(cfg, run, &outcome, &notes)?;
    Ok(crate::cmd::compare::finish_run(cfg, gate, &summary, &dir, code).await)
}

/// Replay what an earlier attempt of this run finished, then run the rest
/// (looking up generation records beside it); returns the outcome and the
/// lookup and cache lines to print after the table.
async fn execute(cfg: &RunConfig, run: &mut Prepared) -> anyhow::Result<(RunOutcome, Vec<String>)> {
    let (aggregate, done, already, journal) = journal_state(cfg, run)?;
    let lookups = match cfg.looks_up() {
        true => Some(Lookups::start(
            run.endpoint.gateway.clone(),
            &run.dir,
            cfg.lookup_wait,
        )?),
        false => None,
    };
    let plan = run.plan;
    let expected = cfg
        .open_loop
        .map_or(plan.len(), |o| o.expected_requests(plan.len()));
    let progress = Progress::new(Mode::detect(cfg.no_progress), expected, already);
    let ctx = RunContext {
        suite: run.suite.clone(),
        models: run.models.clone(),
        plan,
        concurrency: cfg.concurrency,
        per_model_concurrency: cfg.per_model_concurrency,
        max_cost: cfg.max_cost,
        max_requests: cfg.max_requests,
        grace: cfg.grace,
        catalog: run.catalog.clone(),
        checks: std::mem::take(&mut run.checks),
        gateway: run.endpoint.gateway.clone(),
        open_loop: cfg.open_loop,
        ramp_up: cfg.ramp_up,
        slo: run.suite.slo.or(cfg.slo.unwrap_or_default()),
        cache: run_setup::response_cache(cfg, &run.endpoint.gateway)?,
    };
    if cfg.strict {
        run_setup::refuse_cache_misses(&ctx, &done)?;
    }
    let cache = ctx.cache.clone();
    // Journal first: a record reaches the disk before the display moves on.
    let mut subscribers: Vec<Box<dyn RunSubscriber>> = vec![
        Box::new(JournalSubscriber::new(journal)),
        Box::new(progress),
    ];
    if let Some(l) = &lookups {
        subscribers.push(Box::new(l.submitter()));
    }
    // The collector in `block_on` would be woken through a futex for each
    // finished request it receives.
    let mut outcome = on_worker(runner::execute(ctx, aggregate, done, subscribers)).await;
    if cfg.open_loop.is_some_and(|o| o.duration.is_some()) {
        // A time-bounded run sends what fits in the time: plan jobs it never
        // reached were not planned to run, so they are not skipped rows.
        for job in 0..plan.total() {
            outcome.done.insert(job);
        }
    }
    run_print::journal_failure(&outcome, &run.dir);
    let mut notes = Vec::new();
    if let Some(l) = lookups {
        // The last answers' records appear a moment after them; an
        // interrupted run waits no longer than its grace period.
        let wait = match outcome.stopped_by {
            Some(StopReason::Interrupted) => cfg.grace,
            _ => cfg.lookup_wait + std::time::Duration::from_secs(5),
        };
        notes.push(l.finish(wait).await.line());
    }
    notes.extend(cache.map(|c| c.line()));
    Ok((outcome, notes))
}

/// What an earlier attempt of this run already did (its journal, and the
/// passed rows `--rerun-failed` carries over), and the journal to append to.
fn journal_state(
    cfg: &RunConfig,
    run: &mut Prepared,
) -> anyhow::Result<(Aggregate, DoneSet, u64, JournalWriter)> {
    let mut aggregate = Aggregate::new(&run.models);
    aggregate.include_fallbacks(cfg.include_fallbacks);
    let mut done = DoneSet::new(run.plan.total());
    let mut already = 0u64;
    if let Some(reader) = JournalReader::open(&run.dir)? {
        for rec in reader.flatten() {
            done.insert(rec.row.job);
            aggregate.record(&rec);
            already += 1;
        }
    }
    let mut journal = JournalWriter::open(&run.dir)?;
    already += run_setup::carry_passed(cfg, run, &mut journal, &mut done, &mut aggregate)?;
    Ok((aggregate, done, already, journal))
}

/// Write `run.json`, the run directory and `openloop.json`, print the
/// table; returns the summary and the run's own exit code.
fn write_outputs(
    cfg: &RunConfig,
    run: Prepared,
    outcome: &RunOutcome,
    notes: &[String],
) -> anyhow::Result<(RunSummary, i32)> {
    let Prepared {
        mut meta,
        dir,
        suite,
        models,
        plan,
        endpoint,
        // Held while the outputs are written.
        lock: _lock,
        ..
    } = run;
    if !meta.simulated && endpoint.gateway.announced_sim() {
        eprintln!(
            "note: {} answered as `evalgate sim`; the run is marked simulated",
            endpoint.gateway.base_url()
        );
        meta.simulated = true;
    }
    meta.ended_at = Some(outcome.ended_at.to_rfc3339());
    meta.stopped_by = outcome.stopped_by.map(|s| s.as_str().to_string());
    output::write_meta(&dir, &meta)?;
    let unrun = Unrun {
        suite: &suite,
        models: &models,
        plan,
        outcome,
    };
    let summary = output::write_run_dir(&dir, meta, &unrun, &outcome.aggregate, &[])?;
    let code = exit_code(
        &summary,
        cfg.min_pass_rate,
        outcome.stopped_by,
        outcome.subscriber_error.is_some(),
    );
    run_print::summary(&summary, &dir, cfg.wide);
    for note in notes {
        println!("{note}");
    }
    if code == exit::FAILED {
        run_print::failing(&summary, &dir);
    }
    if let Some(msg) = outcome.budget.as_ref().and_then(|b| b.message()) {
        println!("budget: {msg}");
    }
    if let Some(report) = &outcome.open_loop {
        let path = dir.join("openloop.json");
        let json = serde_json::to_vec_pretty(report).context("cannot encode openloop.json")?;
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", report.line());
    }
    Ok((summary, code))
}

/// 130 interrupted, 3 nothing succeeded, 1 checks failed or budget stop, else 0.
pub fn exit_code(
    summary: &RunSummary,
    min_pass_rate: Option<f64>,
    stop: Option<StopReason>,
    journal_failed: bool,
) -> i32 {
    if journal_failed {
        return exit::RUN_FAILED;
    }
    if stop == Some(StopReason::Interrupted) {
        return exit::INTERRUPTED;
    }
    let ok: u64 = summary.models.iter().map(|m| m.ok).sum();
    let errors: u64 = summary.models.iter().map(|m| m.errors).sum();
    if ok == 0 && errors > 0 {
        return exit::RUN_FAILED;
    }
    if stop.is_some() {
        return exit::FAILED;
    }
    let failed = summary
        .models
        .iter()
        .any(|m| match (min_pass_rate, m.pass_rate) {
            (Some(min), Some(rate)) => rate + 1e-12 < min,
            (None, _) => m.passed < m.checked,
            (Some(_), None) => false,
        });
    if failed {
        exit::FAILED
    } else {
        exit::OK
    }
}
