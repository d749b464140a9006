//! Before a run sends anything: its directory made (or checked), the
//! gateway (or the in-process sim) connected, the catalog loaded and the
//! model ids checked against it, the credit balance compared with the budget.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::assert::Check;
use crate::cache::{CacheMode, ResponseCache};
use crate::cmd::common;
use crate::cmd::run_config::RunConfig;
use crate::exit;
use crate::gateway::catalog::{self, CacheOptions, Catalog, CatalogSource};
use crate::gateway::{Gateway, GatewayConfig, RetryPolicy, Timeouts};
use crate::journal::{JobOrder, JournalWriter};
use crate::metrics::Aggregate;
use crate::output;
use crate::plan::Plan;
use crate::record::{RunMeta, Status};
use crate::rundir::{self, RunDirLock};
use crate::runner::{self, DoneSet, RunContext};
use crate::suite::{self, Suite};
use crate::usage;

/// Make (or check) the run directory before anything is sent.
/// Files a run writes into its directory besides the formats' (all removed
/// first by `--force`).
const RUN_FILES: &[&str] = &[
    "run.json",
    crate::journal::FILE_NAME,
    crate::generations::FILE_NAME,
    "requests.csv",
    "openloop.json",
    "sweep.csv",
];

pub(crate) fn prepare_out_dir(
    cfg: &RunConfig,
    suite: &Suite,
) -> anyhow::Result<(PathBuf, RunDirLock)> {
    let Some(dir) = cfg.out.clone() else {
        let parent = Path::new("results").join(&suite.name);
        let dir = rundir::create_unique(&parent).map_err(|e| {
            usage!(
                "cannot create a run directory in {}: {e}; choose a writable --out",
                parent.display()
            )
        })?;
        let lock = rundir::lock(&dir).map_err(exit::usage)?;
        return Ok((dir, lock));
    };
    if dir.is_file() {
        return Err(usage!(
            "--out {} is a file; name a directory",
            dir.display()
        ));
    }
    if let Some(pid) = rundir::holder(&dir) {
        let busy = rundir::RunDirError::Busy {
            dir: dir.display().to_string(),
            pid,
        };
        return Err(exit::usage(busy));
    }
    let non_empty = rundir::has_files(&dir);
    if non_empty && !cfg.force {
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
    let lock = rundir::lock(&dir).map_err(exit::usage)?;
    if non_empty {
        // --force starts a new run here: an old journal must not count as
        // this run's finished jobs, and no old output may outlive it.
        let formats = crate::report::formats::run_dir_writers().map(|w| w.file_name());
        for name in RUN_FILES.iter().copied().chain(formats) {
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
    Ok((dir, lock))
}

/// The gateway a run talks to, and the sim serving it when `--sim`.
pub(crate) struct Endpoint {
    pub gateway: Arc<Gateway>,
    pub key_env: Option<String>,
    _sim: Option<crate::sim::SimServer>,
}

pub(crate) async fn connect(cfg: &RunConfig, suite: &Suite) -> anyhow::Result<Endpoint> {
    let timeouts = Timeouts {
        connect: cfg
            .connect_timeout
            .or(suite.timeouts.connect_ms.map(Duration::from_millis))
            .unwrap_or(Timeouts::default().connect),
        ttft: cfg
            .ttft_timeout
            .or(suite.timeouts.ttft_ms.map(Duration::from_millis)),
        idle: cfg
            .idle_timeout
            .or(suite.timeouts.idle_ms.map(Duration::from_millis))
            .or(Timeouts::default().idle),
        total: cfg
            .timeout
            .or(suite.timeouts.total_ms.map(Duration::from_millis))
            .or(Timeouts::default().total),
        ..Timeouts::default()
    };
    let retry = RetryPolicy {
        max_retries: cfg.max_retries,
        retry_midstream: cfg.retry_midstream,
        retry_budget: cfg.retry_budget,
        ..RetryPolicy::default()
    };
    let (base_url, key, key_env, sim) = if cfg.sim {
        let cfg = crate::sim::SimConfig {
            seed: cfg.seed,
            ttft_scale: cfg.sim_ttft_scale,
            cost_scale: cfg.sim_cost_scale,
            generation_delay: cfg.sim_generation_delay,
            ..crate::sim::SimConfig::default()
        };
        let server = crate::sim::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("cannot start the simulated gateway on loopback")?;
        (server.base_url(), None, None, Some(server))
    } else {
        let explicit = cfg.key_env.as_deref().or(suite.key_env.as_deref());
        let (key, name) = common::resolve_key(explicit, true)?;
        (
            common::base_url(cfg.gateway_url.as_deref()),
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
        max_connections: cfg.concurrency,
        headers: vec![
            (
                "http-referer".into(),
                "https://github.com/evalgate/evalgate".into(),
            ),
            ("x-title".into(), "evalgate".into()),
        ],
        allow_insecure_http: cfg.allow_insecure_http,
        proxy_loopback: cfg.proxy_loopback,
        max_answer_bytes: cfg.max_answer_bytes(suite),
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
pub(crate) async fn load_catalog(
    cfg: &RunConfig,
    gateway: &Gateway,
    models: &[String],
    grader: Option<&str>,
) -> anyhow::Result<Option<Arc<Catalog>>> {
    if cfg.no_catalog {
        return Ok(None);
    }
    let opts = CacheOptions {
        refresh: cfg.sim,
        dir: cfg
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
        Err(e @ crate::gateway::GatewayError::MissingV1 { .. }) => return Err(exit::usage(e)),
        Err(e) => {
            eprintln!("warning: no model catalog ({e}); model ids are not checked and costs come only from the gateway or the suite's pricing");
            return Ok(None);
        }
    };
    // The sim serves every id, so only a real gateway's catalog is a gate;
    // against the sim, a near miss of a known id is most likely a typo.
    if cfg.sim {
        for id in models.iter().map(String::as_str).chain(grader) {
            if catalog.get(id).is_some() || id.starts_with("sim/") {
                continue;
            }
            if let Some(s) = catalog.suggest(id) {
                eprintln!(
                    "warning: `{id}` is not a known model id (did you mean `{s}`?); the sim answers for any id, a real gateway would refuse this one"
                );
            }
        }
    } else {
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
pub(crate) async fn warn_if_short_of_credits(gateway: &Gateway, budget: f64) {
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

pub(crate) fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The suite and the models to run, checked: ids present, and for
/// `--resume` the very suite the run started with.
pub(crate) fn load_suite(cfg: &RunConfig) -> anyhow::Result<(Suite, Vec<String>)> {
    let path = cfg.suite_path.as_path();
    let suite = suite::load_with(path, &cfg.load).map_err(exit::usage)?;
    let models = if cfg.models.is_empty() {
        suite.models.clone()
    } else {
        // As the suite's own ids: no NUL or bidi controls in any output.
        cfg.models
            .iter()
            .map(|m| crate::cells::clean_id(m).into_owned())
            .collect()
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
    if let Some(r) = cfg
        .reference
        .as_deref()
        .filter(|r| !models.iter().any(|m| m == r))
    {
        return Err(usage!(
            "--reference `{r}` is not one of the run's models ({}); pass one of them",
            models.join(", ")
        ));
    }
    if let Some((_, meta)) = &cfg.resume {
        if meta.suite_hash != suite.hash {
            return Err(usage!(
                "{} changed since this run started (suite hash {} → {}); --resume only continues the same plan: start a new run instead",
                path.display(),
                &meta.suite_hash[..12.min(meta.suite_hash.len())],
                &suite.hash[..12]
            ));
        }
    }
    Ok((suite, models))
}

/// A run ready to execute: everything checked, connected and written to
/// `run.json` before the first request.
pub(crate) struct Prepared {
    pub suite: Arc<Suite>,
    pub models: Vec<String>,
    /// Each case's compiled checks (handed to the runner).
    pub checks: Vec<Vec<Check>>,
    pub endpoint: Endpoint,
    pub catalog: Option<Arc<Catalog>>,
    pub dir: PathBuf,
    /// The run directory's lock, held until the outputs are written.
    pub lock: RunDirLock,
    pub plan: Plan,
    pub meta: RunMeta,
}

/// Compile the checks, connect, load the catalog, make the run directory,
/// warm up, and write `run.json`.
pub(crate) async fn prepare(
    cfg: &RunConfig,
    mut suite: Suite,
    models: Vec<String>,
) -> anyhow::Result<Prepared> {
    let path = cfg.suite_path.as_path();
    let resume = cfg.resume.clone();
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
    let endpoint = connect(cfg, &suite).await?;
    let catalog = load_catalog(cfg, &endpoint.gateway, &models, suite.grader.as_deref()).await?;
    // Held to the end of the run: no second run or resume in this directory.
    let (dir, lock) = match &resume {
        Some((dir, _)) => (dir.clone(), rundir::lock(dir).map_err(exit::usage)?),
        None => prepare_out_dir(cfg, &suite)?,
    };
    if let Some(budget) = cfg.max_cost {
        warn_if_short_of_credits(&endpoint.gateway, budget).await;
    }

    suite.gateway = match &resume {
        Some((_, meta)) => meta.gateway_options.clone(),
        None => cfg.gateway_options(suite.gateway.take()),
    };
    let plan = Plan {
        cases: suite.cases.len() as u32,
        models: models.len() as u32,
        repeats: cfg.repeat,
        shard: cfg.shard,
    };
    if cfg.warmup {
        let n = cfg.concurrency.min(plan.len() as usize);
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
            first_choice: first_choices(&endpoint.gateway, &models, &suite).await,
            ..new_meta(cfg, &suite, &models, &endpoint, plan.len())
        },
    };
    meta.stopped_by = None;
    meta.ended_at = None;
    output::write_meta(&dir, &meta)?;
    Ok(Prepared {
        suite: Arc::new(suite),
        models,
        checks,
        endpoint,
        catalog,
        dir,
        lock,
        plan,
        meta,
    })
}

/// The response cache of `--cache`, keyed by the gateway's host (`sim` for
/// the in-process sim, whose port changes from run to run).
pub(crate) fn response_cache(
    cfg: &RunConfig,
    gateway: &Gateway,
) -> anyhow::Result<Option<Arc<ResponseCache>>> {
    if cfg.cache == CacheMode::Off {
        if cfg.strict {
            return Err(usage!(
                "--strict applies to --cache replay; add --cache replay"
            ));
        }
        return Ok(None);
    }
    if cfg.strict && cfg.cache != CacheMode::Replay {
        return Err(usage!("--strict applies to --cache replay only"));
    }
    let host = match cfg.sim {
        true => "sim".to_string(),
        false => reqwest::Url::parse(gateway.base_url())
            .ok()
            .and_then(|u| {
                let port = u.port_or_known_default().unwrap_or(0);
                u.host_str().map(|h| format!("{h}:{port}"))
            })
            .unwrap_or_default(),
    };
    let root = Path::new(crate::cache::DEFAULT_DIR);
    let cache = ResponseCache::open(root, cfg.cache, &host).map_err(|e| {
        usage!(
            "cannot create the response cache {}: {e}; run from a writable directory or drop --cache",
            root.display()
        )
    })?;
    Ok(Some(Arc::new(cache)))
}

/// Per model, the provider the gateway options' `order` sends it to first:
/// the first of the order its `/models/{id}/endpoints` page lists, or
/// `order[0]` when the gateway has no such page for it. Nothing when there
/// is no order (and no request).
async fn first_choices(
    gateway: &Gateway,
    models: &[String],
    suite: &Suite,
) -> std::collections::BTreeMap<String, String> {
    let order = crate::record::provider_order(suite.gateway.as_ref());
    if order.is_empty() {
        return Default::default();
    }
    let pages = futures::future::join_all(models.iter().map(|m| gateway.endpoints(m))).await;
    let mut out = std::collections::BTreeMap::new();
    for (model, page) in models.iter().zip(pages) {
        let serving: Option<Vec<&str>> = match &page {
            Ok(Some(eps)) => Some(eps.iter().map(|e| e.provider.as_str()).collect()),
            _ => None,
        };
        if let Some(first) = crate::record::first_choice(&order, serving.as_deref()) {
            out.insert(model.clone(), first.to_string());
        }
    }
    out
}

/// `--rerun-failed`: the original run's passed rows go into this run's
/// journal first, marked `carried`, so only its failed, erred and unrun jobs
/// are sent and the new run directory still holds every job.
pub(crate) fn carry_passed(
    cfg: &RunConfig,
    run: &Prepared,
    journal: &mut JournalWriter,
    done: &mut DoneSet,
    aggregate: &mut Aggregate,
) -> anyhow::Result<u64> {
    let Some((orig, meta)) = &cfg.rerun_of else {
        return Ok(0);
    };
    if meta.suite_hash != run.meta.suite_hash {
        return Err(usage!(
            "{} changed since the run in {} (suite hash {} → {}); --rerun-failed reruns the same plan: start a new run instead",
            cfg.suite_path.display(),
            orig.display(),
            &meta.suite_hash[..12.min(meta.suite_hash.len())],
            &run.meta.suite_hash[..12.min(run.meta.suite_hash.len())]
        ));
    }
    if !orig.join(crate::journal::FILE_NAME).is_file() {
        return Err(usage!(
            "{} has no {}: --rerun-failed needs a run directory written by `evalgate run`",
            orig.display(),
            crate::journal::FILE_NAME
        ));
    }
    // In job order, as the generations join walks its lines; of a job
    // journaled twice the first line counts, as in the run's requests.csv.
    let order = JobOrder::build(orig)?;
    let mut carried = 0;
    for mut rec in crate::generations::join(orig, order.records()?, &meta.first_choice) {
        let failed = rec.row.status != Status::Ok || rec.row.passed == Some(false);
        if failed || done.contains(rec.row.job) {
            continue;
        }
        rec.row.carried = true;
        journal.append(&rec)?;
        done.insert(rec.row.job);
        aggregate.record(&rec);
        carried += 1;
    }
    journal.flush()?;
    Ok(carried)
}

/// `--cache replay --strict`: every job still to run must be stored.
pub(crate) fn refuse_cache_misses(ctx: &RunContext, done: &DoneSet) -> anyhow::Result<()> {
    let Some(cache) = &ctx.cache else {
        return Ok(());
    };
    let jobs: Vec<_> = ctx.plan.jobs().filter(|k| !done.contains(k.job)).collect();
    let misses = jobs
        .iter()
        .filter(|k| {
            let request = runner::request_for(ctx, **k);
            !cache.contains(&ctx.gateway, &request, runner::send_id(ctx, **k))
        })
        .count();
    if misses > 0 {
        return Err(usage!(
            "--cache replay --strict: {misses} of {} requests are not in {}; record them first with --cache record (nothing was sent)",
            jobs.len(),
            crate::cache::DEFAULT_DIR
        ));
    }
    Ok(())
}

/// Run `fut` as a task on the runtime's worker threads rather than on the
/// thread driving `block_on`; a panic in it is re-raised here.
pub(crate) async fn on_worker<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> T {
    tokio::spawn(fut)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// The metadata of a new run, written before its first request.
fn new_meta(
    cfg: &RunConfig,
    suite: &Suite,
    models: &[String],
    endpoint: &Endpoint,
    planned_jobs: u64,
) -> RunMeta {
    RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        suite: suite.name.clone(),
        suite_path: cfg.suite_path.display().to_string(),
        suite_hash: suite.hash.clone(),
        models: models.to_vec(),
        gateway_url: endpoint.gateway.base_url().to_string(),
        simulated: cfg.sim || endpoint.gateway.announced_sim(),
        key_env: endpoint.key_env.clone(),
        started_at: chrono::Utc::now().to_rfc3339(),
        ended_at: None,
        git_commit: git_commit(),
        planned_jobs,
        model_params: models
            .iter()
            .filter_map(|m| Some((m.clone(), suite.model_params.get(m)?.clone())))
            .collect(),
        options: crate::record::RunOptions {
            slo: Some(suite.slo.or(cfg.slo.unwrap_or_default())).filter(|s| s.is_set()),
            max_answer_bytes: Some(cfg.max_answer_bytes(suite) as u64),
            ..cfg.options()
        },
        gateway_options: suite.gateway.clone(),
        first_choice: Default::default(),
        stopped_by: None,
        build: Some(crate::build_info::current()),
    }
}
