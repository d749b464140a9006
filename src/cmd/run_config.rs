//! One validated configuration per run: built once from the flags
//! ([`RunConfig::from_args`]) or from a run's own `run.json`
//! ([`RunConfig::from_run_json`], for `--resume`), and the only thing the
//! rest of `run` reads. The clap structs stop here.
//!
//! What a run keeps in `run.json` is [`RunConfig::options`]; the flags that
//! may change when a run is resumed are the ones [`RunConfig::from_run_json`]
//! takes from the command line, listed in [`RESUME_MAY_CHANGE`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::CacheMode;
use crate::cli::RunArgs;
use crate::gateway::generation::LOOKUP_PATIENCE;
use crate::history::{HistoryRows, HistoryTarget};
use crate::plan::Shard;
use crate::record::{RunMeta, RunOptions, Slo};
use crate::runner::openloop::OpenLoop;

/// Flags a resumed run takes from the command line (when given) instead of
/// its `run.json`; every other option is the one the run started with.
/// `--baseline`, `--threshold` and `--history` are only ever taken from the
/// command line: a baseline of `last` would now find this run's own
/// interrupted attempt, and a history URL may hold a password.
pub const RESUME_MAY_CHANGE: &[&str] = &[
    "--no-progress",
    "--grace",
    "--key-env",
    "--max-cost",
    "--max-requests",
    "--connect-timeout",
    "--ttft-timeout",
    "--idle-timeout",
    "--timeout",
    "--min-pass-rate",
    "--warmup",
    "--ramp-up",
    "--baseline",
    "--threshold",
    "--history",
    "--reference",
    "--wide",
    "--history-rows",
    "--no-lookup",
    "--lookup-wait",
    "--strict",
];

/// Everything one run needs, validated.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub suite_path: PathBuf,
    /// `--models`; empty means the suite's own list.
    pub models: Vec<String>,
    pub sim: bool,
    pub sim_ttft_scale: f64,
    pub sim_cost_scale: f64,
    /// `--gateway` (else the environment's or the default base URL).
    pub gateway_url: Option<String>,
    pub key_env: Option<String>,
    pub allow_insecure_http: bool,
    /// `--proxy-loopback`: proxy variables apply to a loopback gateway too.
    pub proxy_loopback: bool,
    /// `--max-answer-bytes` (else the suite's, else the default).
    pub max_answer_bytes: Option<usize>,
    pub seed: u64,
    pub concurrency: usize,
    pub per_model_concurrency: Option<usize>,
    pub repeat: u32,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub warmup: bool,
    pub ramp_up: Option<Duration>,
    pub grace: Duration,
    pub no_progress: bool,
    pub max_cost: Option<f64>,
    pub max_requests: Option<u64>,
    pub max_retries: u32,
    pub retry_midstream: bool,
    pub retry_budget: u32,
    pub connect_timeout: Option<Duration>,
    pub ttft_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub min_pass_rate: Option<f64>,
    pub no_catalog: bool,
    pub shard: Option<Shard>,
    /// `--rate`, `--arrivals`, `--duration`: the open loop, if any.
    pub open_loop: Option<OpenLoop>,
    /// Routing flags, merged over the suite's `gateway:` map.
    pub routing: Option<serde_json::Value>,
    pub baseline: Option<String>,
    pub threshold: Option<String>,
    pub history: HistoryTarget,
    pub no_history: bool,
    /// Suite load limits (`--max-image-mb`).
    pub load: crate::suite::LoadOptions,
    /// `--slo`, applied over the suite's `slo:`.
    pub slo: Option<Slo>,
    /// `--reference`: the decision view's reference model.
    pub reference: Option<String>,
    /// `--wide`: print every column of the results table.
    pub wide: bool,
    /// `--history-rows`: which request rows the history stores.
    pub history_rows: HistoryRows,
    /// With `--sim`: how long after an answer its generation record appears.
    pub sim_generation_delay: Duration,
    /// `--no-lookup`: no generation records.
    pub no_lookup: bool,
    /// `--lookup-wait`: how long each record may take to appear.
    pub lookup_wait: Duration,
    /// `--include-fallbacks`: fallback rows count in the latency figures.
    pub include_fallbacks: bool,
    /// `--cache` and `--strict`.
    pub cache: CacheMode,
    pub strict: bool,
    /// The run directory and metadata of the run being resumed.
    pub resume: Option<(PathBuf, RunMeta)>,
    /// `--rerun-failed`: the run whose failed jobs this run sends again.
    pub rerun_of: Option<(PathBuf, RunMeta)>,
}

impl RunConfig {
    /// The configuration of a new run of the suite at `suite_path`.
    pub fn from_args(args: &RunArgs, suite_path: &Path) -> RunConfig {
        RunConfig {
            suite_path: suite_path.to_path_buf(),
            models: args.models.clone(),
            sim: args.sim,
            sim_ttft_scale: args.sim_ttft_scale,
            sim_cost_scale: args.sim_cost_scale,
            gateway_url: args.gateway.gateway.clone(),
            key_env: args.gateway.key_env.clone(),
            allow_insecure_http: args.gateway.allow_insecure_http,
            proxy_loopback: args.gateway.proxy_loopback,
            max_answer_bytes: args.max_answer_bytes,
            seed: args.seed,
            concurrency: args.concurrency_levels.first().copied().unwrap_or(16),
            per_model_concurrency: args.per_model_concurrency,
            repeat: args.repeat,
            out: args.out.clone(),
            force: args.force,
            warmup: args.warmup,
            ramp_up: args.ramp_up,
            grace: args.grace,
            no_progress: args.no_progress,
            max_cost: args.max_cost,
            max_requests: args.max_requests,
            max_retries: args.max_retries,
            retry_midstream: args.retry_midstream,
            retry_budget: args.retry_budget,
            connect_timeout: args.connect_timeout,
            ttft_timeout: args.ttft_timeout,
            idle_timeout: args.idle_timeout,
            timeout: args.timeout,
            min_pass_rate: args.min_pass_rate,
            no_catalog: args.no_catalog,
            shard: args.shard,
            open_loop: args.rate.map(|rate| OpenLoop {
                rate,
                arrivals: args.arrivals,
                seed: args.seed,
                duration: args.duration,
            }),
            routing: args.routing.merge_into(None),
            baseline: args.baseline.clone(),
            threshold: args.threshold.clone(),
            history: HistoryTarget::from_flag(args.history.url.as_deref()),
            no_history: args.no_history,
            load: crate::cli::load_options(args.max_image_mb),
            slo: args.slo,
            reference: args.reference.clone(),
            wide: args.wide,
            history_rows: args.history_rows,
            sim_generation_delay: args.sim_generation_delay,
            no_lookup: args.no_lookup,
            lookup_wait: args.lookup_wait.unwrap_or(LOOKUP_PATIENCE),
            include_fallbacks: args.include_fallbacks,
            cache: args.cache,
            strict: args.strict,
            resume: None,
            rerun_of: None,
        }
    }

    /// The configuration a run in `dir` started with (its `run.json`), with
    /// the [`RESUME_MAY_CHANGE`] flags of `now` applied.
    pub fn from_run_json(dir: &Path, meta: RunMeta, now: &RunArgs) -> RunConfig {
        let o = &meta.options;
        let ms = |v: Option<u64>| v.map(Duration::from_millis);
        RunConfig {
            suite_path: PathBuf::from(&meta.suite_path),
            models: meta.models.clone(),
            // The in-process sim needs no key; a sim reached through
            // --gateway (marked simulated by its answers) is resumed at its URL.
            sim: meta.simulated && meta.key_env.is_none(),
            sim_ttft_scale: o.sim_ttft_scale.unwrap_or(1.0),
            sim_cost_scale: o.sim_cost_scale.unwrap_or(1.0),
            gateway_url: (!meta.simulated || meta.key_env.is_some())
                .then(|| meta.gateway_url.clone()),
            key_env: now.gateway.key_env.clone().or_else(|| meta.key_env.clone()),
            allow_insecure_http: o.allow_insecure_http,
            proxy_loopback: o.proxy_loopback,
            max_answer_bytes: o.max_answer_bytes.and_then(|n| usize::try_from(n).ok()),
            seed: o.seed,
            concurrency: o.concurrency,
            per_model_concurrency: o.per_model_concurrency,
            repeat: o.repeat,
            out: Some(dir.to_path_buf()),
            force: false,
            warmup: now.warmup || o.warmup,
            ramp_up: now.ramp_up.or(ms(o.ramp_up_ms)),
            grace: now.grace,
            no_progress: now.no_progress,
            max_cost: now.max_cost.or(o.max_cost_usd),
            max_requests: now.max_requests.or(o.max_requests),
            max_retries: o.max_retries,
            retry_midstream: o.retry_midstream,
            retry_budget: o.retry_budget.unwrap_or(now.retry_budget),
            connect_timeout: now.connect_timeout.or(ms(o.connect_timeout_ms)),
            ttft_timeout: now.ttft_timeout.or(ms(o.ttft_timeout_ms)),
            idle_timeout: now.idle_timeout.or(ms(o.idle_timeout_ms)),
            timeout: now.timeout.or(ms(o.timeout_ms)),
            min_pass_rate: now.min_pass_rate.or(o.min_pass_rate),
            no_catalog: o.no_catalog,
            shard: o.shard.as_deref().and_then(|s| s.parse().ok()),
            // An open-loop run cannot be resumed (its schedule is gone).
            open_loop: None,
            // The gateway options sent are in the metadata already.
            routing: None,
            // `last` would now find this very run's interrupted attempt.
            baseline: now.baseline.clone(),
            threshold: now.threshold.clone(),
            history: HistoryTarget::from_flag(now.history.url.as_deref()),
            no_history: now.no_history || o.no_history,
            // The objectives the run started with (suite and flag merged).
            slo: o.slo,
            reference: now.reference.clone().or_else(|| o.reference.clone()),
            wide: now.wide,
            load: crate::cli::load_options(now.max_image_mb),
            history_rows: now.history_rows,
            sim_generation_delay: now.sim_generation_delay,
            no_lookup: now.no_lookup || o.no_lookup,
            lookup_wait: now
                .lookup_wait
                .or(ms(o.lookup_wait_ms))
                .unwrap_or(LOOKUP_PATIENCE),
            include_fallbacks: o.include_fallbacks,
            cache: o
                .cache
                .as_deref()
                .and_then(|m| <CacheMode as clap::ValueEnum>::from_str(m, true).ok())
                .unwrap_or_default(),
            strict: now.strict,
            resume: Some((dir.to_path_buf(), meta)),
            rerun_of: None,
        }
    }

    /// A new run (in `--out`, else a new timestamped directory) of the
    /// failed jobs of the run in `dir`, with that run's options.
    pub fn for_rerun(dir: &Path, meta: RunMeta, now: &RunArgs) -> RunConfig {
        let original = RunConfig::from_run_json(dir, meta.clone(), now);
        RunConfig {
            out: now.out.clone(),
            force: now.force,
            // The gateway options the original sent, over the suite's own.
            routing: meta.gateway_options.clone(),
            resume: None,
            rerun_of: Some((dir.to_path_buf(), meta)),
            ..original
        }
    }

    /// This configuration at another concurrency level, written to `out`
    /// (one sub-run of a sweep).
    pub fn at_level(&self, concurrency: usize, out: PathBuf) -> RunConfig {
        RunConfig {
            concurrency,
            out: Some(out),
            ..self.clone()
        }
    }

    /// The options `run.json` keeps, enough to resume with no other argument.
    pub fn options(&self) -> RunOptions {
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as u64);
        RunOptions {
            concurrency: self.concurrency,
            per_model_concurrency: self.per_model_concurrency,
            repeat: self.repeat,
            seed: self.seed,
            max_cost_usd: self.max_cost,
            max_requests: self.max_requests,
            max_retries: self.max_retries,
            retry_midstream: self.retry_midstream,
            connect_timeout_ms: ms(self.connect_timeout),
            ttft_timeout_ms: ms(self.ttft_timeout),
            idle_timeout_ms: ms(self.idle_timeout),
            timeout_ms: ms(self.timeout),
            min_pass_rate: self.min_pass_rate,
            shard: self.shard.map(|s| s.to_string()),
            no_catalog: self.no_catalog,
            rate: self.open_loop.map(|o| o.rate),
            retry_budget: Some(self.retry_budget),
            warmup: self.warmup,
            ramp_up_ms: ms(self.ramp_up),
            sim_ttft_scale: self.sim.then_some(self.sim_ttft_scale),
            sim_cost_scale: self.sim.then_some(self.sim_cost_scale),
            no_history: self.no_history,
            allow_insecure_http: self.allow_insecure_http,
            slo: self.slo,
            reference: self.reference.clone(),
            max_answer_bytes: self.max_answer_bytes.map(|n| n as u64),
            proxy_loopback: self.proxy_loopback,
            no_lookup: self.no_lookup,
            lookup_wait_ms: (self.lookup_wait != LOOKUP_PATIENCE)
                .then_some(self.lookup_wait.as_millis() as u64),
            include_fallbacks: self.include_fallbacks,
            cache: (self.cache != CacheMode::Off)
                .then(|| format!("{:?}", self.cache).to_lowercase()),
        }
    }

    /// Whether generation records are looked up: not with `--no-lookup`
    /// nor `--lookup-wait 0`.
    pub fn looks_up(&self) -> bool {
        !self.no_lookup && !self.lookup_wait.is_zero()
    }

    /// Answer bytes kept per request: `--max-answer-bytes`, else the
    /// suite's `max_answer_bytes:`, else the default.
    pub fn max_answer_bytes(&self, suite: &crate::suite::Suite) -> usize {
        self.max_answer_bytes
            .or(suite.max_answer_bytes)
            .unwrap_or(crate::gateway::DEFAULT_MAX_ANSWER_BYTES)
    }

    /// The suite's `gateway:` map with the routing flags merged over it
    /// (`None` when both are empty).
    pub fn gateway_options(&self, suite: Option<serde_json::Value>) -> Option<serde_json::Value> {
        let mut map = match suite {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        if let Some(serde_json::Value::Object(flags)) = &self.routing {
            map.extend(flags.clone());
        }
        (!map.is_empty()).then_some(serde_json::Value::Object(map))
    }
}
