//! `evalgate run`: resolve suites, models, key and gateway; refuse bad input
//! before anything is sent; run; write the run directory; print the table;
//! return the exit code the CI gate reads.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cli::RunArgs;
use crate::cmd::common;
use crate::exit;
use crate::gateway::catalog::{self, CacheOptions, Catalog, CatalogSource};
use crate::gateway::{Gateway, GatewayConfig, RetryPolicy, Timeouts};
use crate::journal::{JournalReader, JournalWriter};
use crate::metrics::Aggregate;
use crate::output::{self, Unrun};
use crate::plan::Plan;
use crate::progress::{Mode, Progress};
use crate::record::{RunMeta, RunOptions};
use crate::report::{table, RunSummary};
use crate::runner::{self, DoneSet, RunContext, StopReason};
use crate::suite::{self, Suite};
use crate::usage;

/// Run every suite named (or resume one run); the worst exit code wins.
pub async fn run(mut args: RunArgs) -> anyhow::Result<i32> {
    common::raise_fd_limit();
    args.concurrency = args.concurrency_levels.first().copied().unwrap_or(16);
    if let Some(dir) = args.resume.clone() {
        let meta = output::read_meta(&dir)?;
        if meta.options.rate.is_some() {
            return Err(usage!(
                "{} is an open-loop (--rate) run, which cannot be resumed: its schedule is gone; start a new run",
                dir.display()
            ));
        }
        let args = args_from_meta(&args, &meta);
        let path = PathBuf::from(&meta.suite_path);
        return run_one(&args, &path, Some((dir, meta))).await;
    }
    if args.suites.len() > 1 && args.out.is_some() {
        return Err(usage!(
            "--out names one run directory; run one suite at a time with --out, or drop --out"
        ));
    }
    // Load every suite first: a bad one stops everything before any request.
    for path in &args.suites {
        suite::load(path).map_err(exit::usage)?;
    }
    let mut worst = exit::OK;
    for path in &args.suites {
        let code = run_one(&args, path, None).await?;
        worst = exit::worse(worst, code);
    }
    Ok(worst)
}

/// The arguments a resumed run had, from its metadata; flags given now
/// (progress, timeouts) still apply.
fn args_from_meta(now: &RunArgs, meta: &RunMeta) -> RunArgs {
    let o = &meta.options;
    let ms = |v: Option<u64>| v.map(Duration::from_millis);
    let mut args = now.clone();
    args.suites = vec![PathBuf::from(&meta.suite_path)];
    args.models = meta.models.clone();
    args.sim = meta.simulated;
    if !meta.simulated {
        args.gateway.gateway = Some(meta.gateway_url.clone());
    }
    args.gateway.key_env = args.gateway.key_env.take().or_else(|| meta.key_env.clone());
    args.seed = o.seed;
    args.concurrency = o.concurrency;
    args.concurrency_levels = vec![o.concurrency];
    args.per_model_concurrency = o.per_model_concurrency;
    args.repeat = o.repeat;
    args.max_cost = args.max_cost.or(o.max_cost_usd);
    args.max_requests = args.max_requests.or(o.max_requests);
    args.max_retries = o.max_retries;
    args.retry_budget = o.retry_budget.unwrap_or(args.retry_budget);
    args.warmup = args.warmup || o.warmup;
    args.ramp_up = args.ramp_up.or(ms(o.ramp_up_ms));
    args.retry_midstream = o.retry_midstream;
    args.connect_timeout = args.connect_timeout.or(ms(o.connect_timeout_ms));
    args.ttft_timeout = args.ttft_timeout.or(ms(o.ttft_timeout_ms));
    args.idle_timeout = args.idle_timeout.or(ms(o.idle_timeout_ms));
    args.timeout = args.timeout.or(ms(o.timeout_ms));
    args.min_pass_rate = args.min_pass_rate.or(o.min_pass_rate);
    args.shard = o.shard.as_deref().and_then(|s| s.parse().ok());
    args.no_catalog = o.no_catalog;
    args
}

pub(crate) fn timestamp_dir() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// Make (or check) the run directory before anything is sent.
/// Files a run writes into its directory (removed first by `--force`).
const RUN_FILES: &[&str] = &[
    "run.json",
    crate::journal::FILE_NAME,
    "requests.csv",
    "summary.csv",
    "summary.json",
    "report.md",
    "junit.xml",
    "report.html",
    "openloop.json",
    "sweep.csv",
];

fn prepare_out_dir(args: &RunArgs, suite: &Suite) -> anyhow::Result<PathBuf> {
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => Path::new("results").join(&suite.name).join(timestamp_dir()),
    };
    if dir.is_file() {
        return Err(usage!(
            "--out {} is a file; name a directory",
            dir.display()
        ));
    }
    let non_empty = std::fs::read_dir(&dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !args.force {
        return Err(usage!(
            "the output directory {} exists and is not empty; pass --force to write into it, \
             --resume {} to finish that run, or choose another --out",
            dir.display(),
            dir.display()
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        usage!(
            "cannot create the output directory {}: {e}; choose a writable --out",
            dir.display()
        )
    })?;
    if non_empty {
        // --force starts a new run here: an old journal must not count as
        // this run's finished jobs, and no old output may outlive it.
        for name in RUN_FILES {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(usage!("cannot replace {}: {e}", dir.join(name).display()))
                }
                _ => {}
            }
        }
    }
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            usage!(
                "cannot write into {}: {e}; choose a writable --out",
                dir.display()
            )
        })?;
    Ok(dir)
}

struct Endpoint {
    gateway: Arc<Gateway>,
    key_env: Option<String>,
    _sim: Option<crate::sim::SimServer>,
}

async fn connect(args: &RunArgs, suite: &Suite) -> anyhow::Result<Endpoint> {
    let timeouts = Timeouts {
        connect: args
            .connect_timeout
            .or(suite.timeouts.connect_ms.map(Duration::from_millis))
            .unwrap_or(Timeouts::default().connect),
        ttft: args
            .ttft_timeout
            .or(suite.timeouts.ttft_ms.map(Duration::from_millis)),
        idle: args
            .idle_timeout
            .or(suite.timeouts.idle_ms.map(Duration::from_millis))
            .or(Timeouts::default().idle),
        total: args
            .timeout
            .or(suite.timeouts.total_ms.map(Duration::from_millis))
            .or(Timeouts::default().total),
    };
    let retry = RetryPolicy {
        max_retries: args.max_retries,
        retry_midstream: args.retry_midstream,
        retry_budget: args.retry_budget,
        ..RetryPolicy::default()
    };
    let (base_url, key, key_env, sim) = if args.sim {
        let cfg = crate::sim::SimConfig {
            seed: args.seed,
            ttft_scale: args.sim_ttft_scale,
            cost_scale: args.sim_cost_scale,
            ..crate::sim::SimConfig::default()
        };
        let server = crate::sim::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("cannot start the simulated gateway on loopback")?;
        (server.base_url(), None, None, Some(server))
    } else {
        let explicit = args.gateway.key_env.as_deref().or(suite.key_env.as_deref());
        let (key, name) = common::resolve_key(explicit)?;
        (
            common::base_url(args.gateway.gateway.as_deref()),
            Some(key),
            Some(name),
            None,
        )
    };
    let gateway = Gateway::new(GatewayConfig {
        base_url,
        key,
        timeouts,
        retry,
        max_connections: args.concurrency,
        headers: vec![
            (
                "http-referer".into(),
                "https://github.com/evalgate/evalgate".into(),
            ),
            ("x-title".into(), "evalgate".into()),
        ],
        allow_insecure_http: args.gateway.allow_insecure_http,
    })
    .map_err(crate::exit::usage)?;
    Ok(Endpoint {
        gateway: Arc::new(gateway),
        key_env,
        _sim: sim,
    })
}

/// Fetch the catalog (for prices and the id check). On the real gateway an
/// unknown id stops the run before anything is spent.
async fn load_catalog(
    args: &RunArgs,
    gateway: &Gateway,
    models: &[String],
    grader: Option<&str>,
) -> anyhow::Result<Option<Arc<Catalog>>> {
    if args.no_catalog {
        return Ok(None);
    }
    let opts = CacheOptions {
        refresh: args.sim,
        dir: args
            .sim
            .then(|| std::env::temp_dir().join("evalgate-sim-catalog")),
        ..CacheOptions::default()
    };
    let catalog = match catalog::load(gateway, &opts).await {
        Ok((c, CatalogSource::StaleCache { error })) => {
            eprintln!("warning: using a stale model catalog ({error})");
            c
        }
        Ok((c, _)) => c,
        Err(e) => {
            eprintln!("warning: no model catalog ({e}); model ids are not checked and costs come only from the gateway or the suite's pricing");
            return Ok(None);
        }
    };
    // The sim serves every id, so only a real gateway's catalog is a gate.
    if !args.sim {
        for id in models.iter().map(String::as_str).chain(grader) {
            if catalog.get(id).is_none() {
                let hint = catalog
                    .suggest(id)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(usage!(
                    "model `{id}` is not in the gateway's catalog{hint}; run `evalgate models` to list ids, or pass --no-catalog to skip this check"
                ));
            }
        }
    }
    Ok(Some(Arc::new(catalog)))
}

/// Before a budgeted run: say so when the credit balance is below the budget.
async fn warn_if_short_of_credits(gateway: &Gateway, budget: f64) {
    match gateway.credits().await {
        Ok(Some(c)) if c.balance < budget => eprintln!(
            "warning: the gateway credit balance (${:.2}) is below --max-cost (${budget:.2}); the run may stop when credits run out",
            c.balance
        ),
        Ok(Some(_)) => {}
        Ok(None) => eprintln!("note: {} has no /credits endpoint; the balance was not checked", gateway.base_url()),
        Err(e) => eprintln!("note: could not check the credit balance ({e})"),
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

pub(crate) async fn run_one(
    args: &RunArgs,
    path: &Path,
    resume: Option<(PathBuf, RunMeta)>,
) -> anyhow::Result<i32> {
    let mut suite = suite::load(path).map_err(exit::usage)?;
    let models = if args.models.is_empty() {
        suite.models.clone()
    } else {
        args.models.clone()
    };
    if models.is_empty() {
        return Err(usage!(
            "{}: no models to run; add `models:` to the suite or pass --models openai/gpt-5,anthropic/claude-sonnet-4",
            path.display()
        ));
    }
    if models.iter().any(|m| m.trim().is_empty()) {
        return Err(usage!(
            "an empty model id in --models or the suite's `models:`; list ids separated by commas, e.g. --models openai/gpt-5,anthropic/claude-sonnet-4"
        ));
    }
    if let Some((_, meta)) = &resume {
        if meta.suite_hash != suite.hash {
            return Err(usage!(
                "{} changed since this run started (suite hash {} → {}); --resume only continues the same plan: start a new run instead",
                path.display(),
                &meta.suite_hash[..12.min(meta.suite_hash.len())],
                &suite.hash[..12]
            ));
        }
    }
    let gate = crate::cmd::compare::prepare_run(args, &suite.name).await?;
    let checks = suite
        .cases
        .iter()
        .map(|c| {
            c.checks
                .iter()
                .map(crate::assert::compile)
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage!("{}: {e}", path.display()))?;
    let endpoint = connect(args, &suite).await?;
    let catalog = load_catalog(args, &endpoint.gateway, &models, suite.grader.as_deref()).await?;
    let dir = match &resume {
        Some((dir, _)) => dir.clone(),
        None => prepare_out_dir(args, &suite)?,
    };
    if let Some(budget) = args.max_cost {
        warn_if_short_of_credits(&endpoint.gateway, budget).await;
    }

    suite.gateway = match &resume {
        Some((_, meta)) => meta.gateway_options.clone(),
        None => args.routing.merge_into(suite.gateway.take()),
    };
    let plan = Plan {
        cases: suite.cases.len() as u32,
        models: models.len() as u32,
        repeats: args.repeat,
        shard: args.shard,
    };
    if args.warmup {
        let n = args.concurrency.min(plan.len() as usize);
        // Like the run: connection state allocated from this thread would
        // sit in another malloc arena.
        let gateway = endpoint.gateway.clone();
        let (ok, err) = on_worker(async move { gateway.warm_up(n).await }).await;
        if let Some(e) = err {
            eprintln!("warning: --warmup opened {ok} of {n} connections: {e}");
        }
    }
    let mut meta = match resume {
        Some((_, meta)) => meta,
        None => RunMeta {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            suite: suite.name.clone(),
            suite_path: path.display().to_string(),
            suite_hash: suite.hash.clone(),
            models: models.clone(),
            gateway_url: endpoint.gateway.base_url().to_string(),
            simulated: args.sim,
            key_env: endpoint.key_env.clone(),
            started_at: chrono::Utc::now().to_rfc3339(),
            ended_at: None,
            git_commit: git_commit(),
            planned_jobs: plan.len(),
            options: RunOptions {
                concurrency: args.concurrency,
                per_model_concurrency: args.per_model_concurrency,
                repeat: args.repeat,
                seed: args.seed,
                max_cost_usd: args.max_cost,
                max_requests: args.max_requests,
                max_retries: args.max_retries,
                retry_midstream: args.retry_midstream,
                connect_timeout_ms: args.connect_timeout.map(|d| d.as_millis() as u64),
                ttft_timeout_ms: args.ttft_timeout.map(|d| d.as_millis() as u64),
                idle_timeout_ms: args.idle_timeout.map(|d| d.as_millis() as u64),
                timeout_ms: args.timeout.map(|d| d.as_millis() as u64),
                min_pass_rate: args.min_pass_rate,
                shard: args.shard.map(|s| s.to_string()),
                no_catalog: args.no_catalog,
                rate: args.rate,
                retry_budget: Some(args.retry_budget),
                warmup: args.warmup,
                ramp_up_ms: args.ramp_up.map(|d| d.as_millis() as u64),
            },
            gateway_options: suite.gateway.clone(),
            stopped_by: None,
        },
    };
    meta.stopped_by = None;
    meta.ended_at = None;
    output::write_meta(&dir, &meta)?;

    // What an earlier attempt of this run already finished.
    let mut aggregate = Aggregate::new(&models);
    let mut done = DoneSet::new(plan.total());
    let mut already = 0u64;
    if let Some(reader) = JournalReader::open(&dir)? {
        for rec in reader.flatten() {
            done.insert(rec.row.job);
            aggregate.record(&rec);
            already += 1;
        }
    }
    let journal = JournalWriter::open(&dir)?;
    let open_loop = args.rate.map(|rate| crate::runner::openloop::OpenLoop {
        rate,
        arrivals: args.arrivals,
        seed: args.seed,
        duration: args.duration,
    });
    let expected = open_loop.map_or(plan.len(), |o| o.expected_requests(plan.len()));
    let progress = Progress::new(Mode::detect(args.no_progress), expected, already);
    let suite = Arc::new(suite);
    let ctx = RunContext {
        suite: suite.clone(),
        models: models.clone(),
        plan,
        concurrency: args.concurrency,
        per_model_concurrency: args.per_model_concurrency,
        max_cost: args.max_cost,
        max_requests: args.max_requests,
        grace: args.grace,
        catalog,
        checks,
        gateway: endpoint.gateway.clone(),
        open_loop,
        ramp_up: args.ramp_up,
    };
    // The collector in `block_on` would be woken through a futex for each
    // finished request it receives.
    let mut outcome = on_worker(runner::execute(ctx, journal, aggregate, done, progress)).await;
    if args.duration.is_some() {
        // A time-bounded run sends what fits in the time: plan jobs it never
        // reached were not planned to run, so they are not skipped rows.
        for job in 0..plan.total() {
            outcome.done.insert(job);
        }
    }
    if let Some(e) = &outcome.journal_error {
        eprintln!("error: {e}");
    }

    meta.ended_at = Some(chrono::Utc::now().to_rfc3339());
    meta.stopped_by = outcome.stopped_by.map(|s| s.as_str().to_string());
    output::write_meta(&dir, &meta)?;
    let unrun = Unrun {
        suite: &suite,
        models: &models,
        plan,
        outcome: &outcome,
    };
    let summary = output::write_run_dir(&dir, meta, &unrun, &outcome.aggregate, &[])?;
    print_summary(&summary, &dir);
    if let Some(report) = &outcome.open_loop {
        let path = dir.join("openloop.json");
        let json = serde_json::to_vec_pretty(report).context("cannot encode openloop.json")?;
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", report.line());
    }
    let code = exit_code(
        &summary,
        args.min_pass_rate,
        outcome.stopped_by,
        outcome.journal_error.is_some(),
    );
    Ok(crate::cmd::compare::finish_run(args, gate, &summary, &dir, code).await)
}

/// Run `fut` as a task on the runtime's worker threads rather than on the
/// thread driving `block_on`; a panic in it is re-raised here.
async fn on_worker<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> T {
    tokio::spawn(fut)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

fn print_summary(summary: &RunSummary, dir: &Path) {
    println!("{}", table::comparison_table(summary));
    if let Some(errors) = table::errors_table(summary) {
        println!("{errors}");
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
    println!("results: {}/ (requests.csv, summary.csv, summary.json, responses.jsonl, report.md, junit.xml, report.html)", dir.display());
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
