//! Command-line arguments for every subcommand (clap derive). Values are
//! validated here where clap can do it; cross-field checks live in the
//! commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::plan::Shard;

#[derive(Debug, Parser)]
#[command(
    name = "evalgate",
    version = crate::build_info::VERSION_LINE,
    about = "Evaluate and benchmark LLMs through one OpenAI-compatible gateway",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against models and write a results directory.
    Run(Box<RunArgs>),
    /// Check suites without sending anything.
    Validate(ValidateArgs),
    /// Show the gateway's model catalog with prices.
    Models(ModelsArgs),
    /// Show the gateway credit balance.
    Credits(CreditsArgs),
    /// Render a finished run's reports again.
    Report(ReportArgs),
    /// Serve the simulated gateway on loopback.
    Sim(SimArgs),
    /// Write a starter suite and a CI workflow.
    Init(InitArgs),
    /// Compare a run with a baseline; exit 1 on a significant regression.
    Compare(CompareArgs),
    /// Show per-model metrics of a suite's runs over time.
    Trend(TrendArgs),
    /// Combine shards or repeated runs of one suite into one run directory.
    Merge(MergeArgs),
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
    /// List or prune the run history store.
    #[command(subcommand)]
    History(HistoryCommand),
}

/// `evalgate history ...`.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Stored runs with suite, start time, exit code, rows and size.
    List(HistoryListArgs),
    /// Delete old runs with their rows, then reclaim the space.
    Prune(HistoryPruneArgs),
}

#[derive(Debug, Args, Clone)]
pub struct HistoryListArgs {
    /// Only runs of this suite.
    #[arg(long, value_name = "NAME")]
    pub suite: Option<String>,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["keep_last", "older_than"])))]
pub struct HistoryPruneArgs {
    /// Keep the newest N runs of each suite, delete the rest.
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Delete runs started longer ago than this, e.g. `30d`, `12h`.
    #[arg(long, value_name = "AGE", value_parser = age)]
    pub older_than: Option<std::time::Duration>,
    /// Only runs of this suite.
    #[arg(long, value_name = "NAME")]
    pub suite: Option<String>,
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// An age: `30d`, `12h`, or any duration `--timeout` takes.
fn age(s: &str) -> Result<std::time::Duration, String> {
    match s.strip_suffix('d').map(str::parse::<u64>) {
        Some(Ok(days)) => Ok(std::time::Duration::from_secs(days.saturating_mul(86_400))),
        Some(Err(_)) => Err(format!("`{s}` is not an age; use e.g. 30d, 12h or 90m")),
        None => match s.strip_suffix('h').map(str::parse::<u64>) {
            Some(Ok(h)) => Ok(std::time::Duration::from_secs(h.saturating_mul(3600))),
            _ => duration(s),
        },
    }
}

fn positive_usize(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number >= 1")),
    }
}

fn positive_u32(s: &str) -> Result<u32, String> {
    positive_usize(s).and_then(|n| u32::try_from(n).map_err(|_| "too large".into()))
}

fn duration(s: &str) -> Result<std::time::Duration, String> {
    crate::duration::parse(s)
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` must be a number between 0 and 1, e.g. 0.9")),
    }
}

/// The slowest `--rate`: one request a day. Below it the gap between two
/// sends is longer than any run, and far below it no longer a duration.
pub const MIN_RATE: f64 = 1.0 / 86_400.0;

fn rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= MIN_RATE => Ok(v),
        Ok(v) if v > 0.0 && v.is_finite() => Err(format!(
            "`{s}` is below one request a day ({MIN_RATE:.7} req/s); give a rate of at least that, e.g. 0.5"
        )),
        _ => Err(format!("`{s}` must be a number of requests per second > 0, e.g. 200 or 0.5")),
    }
}

/// A byte count: `4000`, `512KiB`, `4MiB`, `4MB` (binary units either way).
fn byte_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "`{s}` is not a size; use e.g. 4MiB, 512KiB or 4000"
            ))
        }
    };
    match num.parse::<usize>().ok().and_then(|n| n.checked_shl(shift)) {
        Some(n) if n >= 1 && n >> shift == num.parse::<usize>().unwrap_or(0) => Ok(n),
        _ => Err(format!(
            "`{s}` must be a size of at least 1 byte, e.g. 4MiB"
        )),
    }
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` must be a number >= 0")),
    }
}

/// Where the gateway is and which key to use.
#[derive(Debug, Args, Clone, Default)]
pub struct GatewayArgs {
    /// Gateway base URL including /v1 [default: $AI_GATEWAY_BASE_URL, else https://ai-gateway.vercel.sh/v1]
    #[arg(long, value_name = "URL")]
    pub gateway: Option<String>,
    /// Environment variable holding the API key [default: AI_GATEWAY_API_KEY, then VERCEL_OIDC_TOKEN]
    #[arg(long, value_name = "NAME")]
    pub key_env: Option<String>,
    /// Allow sending the key over plain http:// to a non-loopback host.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Let HTTP_PROXY/HTTPS_PROXY/ALL_PROXY apply to a loopback gateway (the
    /// built-in sim included); by default loopback is reached directly.
    #[arg(long)]
    pub proxy_loopback: bool,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Suite files to run.
    #[arg(value_name = "SUITE", required_unless_present_any = ["resume", "rerun_failed"])]
    pub suites: Vec<PathBuf>,
    /// Models to run, comma separated (overrides the suite's `models`).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub models: Vec<String>,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// Start the simulated gateway in-process and run against it (no key, no network).
    #[arg(long)]
    pub sim: bool,
    /// Seed for the simulated gateway's jitter and answers.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// Multiply the sim's time to first token (e.g. 1.3 for a slower run).
    #[arg(long, default_value_t = 1.0, value_name = "X", value_parser = non_negative)]
    pub sim_ttft_scale: f64,
    /// Multiply the sim's cost figures.
    #[arg(long, default_value_t = 1.0, value_name = "X", value_parser = non_negative)]
    pub sim_cost_scale: f64,
    /// With --sim: how long after a generation ends its record appears.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = duration)]
    pub sim_generation_delay: std::time::Duration,
    /// Requests in flight at once, over all models. A comma list (`1,8,64,256`)
    /// runs a sweep: one sub-run per level in its own subdirectory, plus `sweep.csv`.
    #[arg(long = "concurrency", short = 'c', value_delimiter = ',', default_value = "16", value_name = "N[,N...]", value_parser = positive_usize)]
    pub concurrency_levels: Vec<usize>,
    /// Requests in flight at once per model.
    #[arg(long, value_name = "N", value_parser = positive_usize)]
    pub per_model_concurrency: Option<usize>,
    /// Run every case this many times per model.
    #[arg(long, short = 'n', default_value_t = 1, value_name = "N", value_parser = positive_u32)]
    pub repeat: u32,
    /// The run directory itself [default: results/<suite>/<UTC timestamp>/].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into an existing, non-empty --out directory.
    #[arg(long)]
    pub force: bool,
    /// Finish an interrupted run; suite, models and options come from its metadata.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["suites", "models", "out"])]
    pub resume: Option<PathBuf>,
    /// A new run of only the failed and erred jobs of RUN_DIR (suite, models
    /// and options from its run.json); the passed rows are carried over
    /// (`carried: true`), so the new run directory holds every job.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["suites", "models", "resume"])]
    pub rerun_failed: Option<PathBuf>,
    /// Before the timed run, open min(concurrency, jobs) connections with
    /// concurrent `HEAD /models` requests, so no measured request pays for a
    /// TCP/TLS connect (excluded from every figure and row).
    #[arg(long)]
    pub warmup: bool,
    /// Start the first round evenly over this long (e.g. `500ms`) instead of
    /// all at once: in-flight requests grow from 1 to --concurrency, so
    /// neither the gateway nor this machine sees N sends in one instant. The
    /// wait is queue time, never part of TTFT or duration.
    #[arg(long, value_name = "DURATION", value_parser = duration, conflicts_with = "rate")]
    pub ramp_up: Option<std::time::Duration>,
    /// After Ctrl-C or SIGTERM, how long requests in flight may finish
    /// before they are abandoned (rows `cancelled`); a second Ctrl-C stops at once.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = duration)]
    pub grace: std::time::Duration,
    /// No progress bar or progress lines.
    #[arg(long)]
    pub no_progress: bool,
    /// Stop starting requests once spent cost plus in-flight estimates would exceed this (USD).
    #[arg(long, value_name = "USD", value_parser = non_negative)]
    pub max_cost: Option<f64>,
    /// Send at most this many requests.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// Retries per request for connection errors, 408, 429 and 5xx before the first token.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_retries: u32,
    /// Also retry requests that failed mid-stream.
    #[arg(long)]
    pub retry_midstream: bool,
    /// Retries allowed for the whole run, over all requests (so a dead gateway cannot stretch a run into hours).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub retry_budget: u32,
    /// Time allowed to connect.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub connect_timeout: Option<std::time::Duration>,
    /// Time allowed until the first token.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub ttft_timeout: Option<std::time::Duration>,
    /// Longest silence allowed between chunks.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub idle_timeout: Option<std::time::Duration>,
    /// Time allowed for a whole request.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<std::time::Duration>,
    /// Fail (exit 1) when a model's pass rate is below this (0..1). Without it, any failed check fails the run.
    #[arg(long, value_name = "RATE", value_parser = fraction)]
    pub min_pass_rate: Option<f64>,
    /// Do not fetch the model catalog (no id check, no catalog prices).
    #[arg(long)]
    pub no_catalog: bool,
    /// Largest local image file a suite may send, in MB (default 20).
    #[arg(long, value_name = "MB", default_value_t = 20.0)]
    pub max_image_mb: f64,

    /// Answer text and reasoning kept per request (e.g. 4MiB, 512KiB); a longer
    /// answer is cut there and marked truncated, and still measured to its end.
    #[arg(long, value_name = "SIZE", value_parser = byte_size)]
    pub max_answer_bytes: Option<usize>,
    /// Do not look up the gateway's generation records (`GET /generation`)
    /// after the answers (no gateway cost, latency or provider per row).
    #[arg(long)]
    pub no_lookup: bool,
    /// How long each generation record may take to appear (default 30s; 0 =
    /// --no-lookup). A gateway that answers 404 to every lookup for this
    /// long, with no record found, is taken to keep none: the rest are skipped.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub lookup_wait: Option<std::time::Duration>,
    /// Count rows served by a gateway fallback in the latency figures too.
    #[arg(long)]
    pub include_fallbacks: bool,
    /// Response cache under results/cache/: `record` stores answers,
    /// `replay` serves stored ones without sending (checks run again) and
    /// sends the misses, `refresh` sends everything and replaces them.
    #[arg(long, value_enum, default_value = "off", value_name = "MODE")]
    pub cache: crate::cache::CacheMode,
    /// With `--cache replay`: refuse to run (exit 2, nothing sent) when any request is not stored.
    #[arg(long)]
    pub strict: bool,
    /// Run only shard i of n (deterministic partition of the jobs).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Open loop: send this many requests per second (over all models) on a fixed
    /// schedule; latency counts from each request's intended send time.
    #[arg(long, value_name = "REQ/S", value_parser = rate)]
    pub rate: Option<f64>,
    /// How `--rate` spaces sends: evenly, or as a Poisson process seeded by `--seed`.
    #[arg(long, value_enum, default_value = "constant", requires = "rate")]
    pub arrivals: crate::runner::openloop::Arrivals,
    /// With `--rate`: keep sending, cycling through the plan's jobs, until this much time has passed.
    #[arg(long, value_name = "DURATION", value_parser = duration, requires = "rate")]
    pub duration: Option<std::time::Duration>,
    #[command(flatten)]
    pub routing: RoutingArgs,
    /// When done, compare with this run (exit 1 on a regression): a run
    /// directory, `last` or `last-green` (the suite's latest run in the history).
    #[arg(long, value_name = "RUN_DIR|last|last-green")]
    pub baseline: Option<String>,
    /// Smallest changes that count for --baseline, e.g. ttft=10%,cost=5%,pass_rate=2pp.
    #[arg(long, value_name = "SPEC", requires = "baseline")]
    pub threshold: Option<String>,
    #[command(flatten)]
    pub history: HistoryArgs,
    /// Do not append this run to the history store.
    #[arg(long)]
    pub no_history: bool,
    /// Service-level objectives for goodput, over the suite's `slo:`, e.g.
    /// ttft=800ms,duration=10s,tokens_per_s=30.
    #[arg(long, value_name = "SPEC", value_parser = slo)]
    pub slo: Option<crate::record::Slo>,
    /// The model the report's decision view compares the others with
    /// [default: the first model].
    #[arg(long, value_name = "MODEL")]
    pub reference: Option<String>,
    /// Print every column of the results table (default: the ones that fit 80 columns).
    #[arg(long)]
    pub wide: bool,
    /// Which request rows the history stores (per-model summaries always).
    #[arg(
        long,
        value_enum,
        default_value = "all",
        value_name = "none|failed|all"
    )]
    pub history_rows: crate::history::HistoryRows,
}

/// Parse `--slo ttft=800ms,duration=10s,tokens_per_s=30` (durations as
/// elsewhere: `500ms`, `2s`, a bare number of seconds).
pub fn slo(spec: &str) -> Result<crate::record::Slo, String> {
    let mut slo = crate::record::Slo::default();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item.split_once('=').ok_or_else(|| {
            format!("`{item}` must look like ttft=800ms, duration=10s or tokens_per_s=30")
        })?;
        let (name, value) = (name.trim(), value.trim());
        let ms = || {
            crate::duration::parse(value)
                .map(|d| d.as_secs_f64() * 1000.0)
                .map_err(|e| format!("`{name}`: {e}"))
        };
        match name {
            "ttft" => slo.ttft_ms = Some(ms()?),
            "duration" => slo.duration_ms = Some(ms()?),
            "tokens_per_s" => {
                let v = value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| {
                        format!("`tokens_per_s` must be a non-negative number, e.g. tokens_per_s=30, not `{value}`")
                    })?;
                slo.tokens_per_s = Some(v);
            }
            other => {
                return Err(format!(
                    "unknown objective `{other}`; known: ttft, duration, tokens_per_s"
                ))
            }
        }
    }
    if !slo.is_set() {
        return Err("give at least one objective, e.g. --slo ttft=800ms".into());
    }
    Ok(slo)
}

/// Where the run history lives.
#[derive(Debug, Args, Clone, Default)]
pub struct HistoryArgs {
    /// History store: a postgres:// URL or an SQLite file [default: results/history.sqlite].
    #[arg(
        long = "history",
        value_name = "URL|PATH",
        env = "EVALGATE_HISTORY_URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// The baseline: a run directory, `last` or `last-green` (from the history).
    #[arg(value_name = "BASELINE_RUN")]
    pub baseline: String,
    /// The current run directory.
    #[arg(value_name = "CURRENT_RUN")]
    pub current: PathBuf,
    /// Smallest changes that count, e.g. ttft=10%,duration=10%,cost=5%,pass_rate=2pp.
    #[arg(long, value_name = "SPEC")]
    pub threshold: Option<String>,
    /// Output format (one of the comparison formats).
    #[arg(long, default_value = "table", value_parser = clap::builder::PossibleValuesParser::new(crate::compare::render::names()))]
    pub format: String,
    /// With `--format table`: every column (default: what fits the terminal).
    #[arg(long)]
    pub wide: bool,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Args, Clone)]
pub struct TrendArgs {
    /// A suite's results directory (results/<suite>/); each subdirectory is a run.
    #[arg(
        value_name = "DIR",
        required_unless_present = "suite",
        conflicts_with = "suite"
    )]
    pub dir: Option<PathBuf>,
    /// Read the suite's runs from the history store instead.
    #[arg(long, value_name = "NAME")]
    pub suite: Option<String>,
    /// Print CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// Run directories: shards of one run, or repeated runs of one suite.
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
    /// The merged run directory.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Write into an existing, non-empty --out directory.
    #[arg(long)]
    pub force: bool,
    /// Merge an incomplete set of shards; the merged run is marked partial.
    #[arg(long)]
    pub allow_partial: bool,
    #[command(flatten)]
    pub history: HistoryArgs,
    /// Do not append the merged run to the history store.
    #[arg(long)]
    pub no_history: bool,
    /// Which request rows the history stores (per-model summaries always).
    #[arg(
        long,
        value_enum,
        default_value = "all",
        value_name = "none|failed|all"
    )]
    pub history_rows: crate::history::HistoryRows,
}

/// Gateway routing options, sent as `providerOptions.gateway`; they override
/// the suite's `gateway:` keys of the same name.
#[derive(Debug, Args, Clone, Default)]
pub struct RoutingArgs {
    /// Providers to try, in order (e.g. bedrock,anthropic).
    #[arg(long, value_delimiter = ',', value_name = "PROVIDERS")]
    pub provider_order: Vec<String>,
    /// Only these providers may serve the requests.
    #[arg(long, value_delimiter = ',', value_name = "PROVIDERS")]
    pub provider_only: Vec<String>,
    /// Models to fall back to when the requested one fails.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub fallback_models: Vec<String>,
    /// End-user id for the gateway's attribution.
    #[arg(long, value_name = "ID")]
    pub gateway_user: Option<String>,
    /// Tags for the gateway's usage reports.
    #[arg(long, value_delimiter = ',', value_name = "TAGS")]
    pub gateway_tags: Vec<String>,
}

impl RoutingArgs {
    /// Merge these options over the suite's `gateway:` map.
    pub fn merge_into(&self, base: Option<serde_json::Value>) -> Option<serde_json::Value> {
        let mut map = match base {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let list = |v: &[String]| serde_json::Value::from(v.to_vec());
        if !self.provider_order.is_empty() {
            map.insert("order".into(), list(&self.provider_order));
        }
        if !self.provider_only.is_empty() {
            map.insert("only".into(), list(&self.provider_only));
        }
        if !self.fallback_models.is_empty() {
            map.insert("models".into(), list(&self.fallback_models));
        }
        if let Some(u) = &self.gateway_user {
            map.insert("user".into(), u.clone().into());
        }
        if !self.gateway_tags.is_empty() {
            map.insert("tags".into(), list(&self.gateway_tags));
        }
        (!map.is_empty()).then_some(serde_json::Value::Object(map))
    }
}

#[derive(Debug, Args, Clone)]
pub struct ValidateArgs {
    /// Suite files to check.
    #[arg(required = true, value_name = "SUITE")]
    pub suites: Vec<PathBuf>,
    /// Largest local image file a suite may send, in MB (default 20).
    #[arg(long, value_name = "MB", default_value_t = 20.0)]
    pub max_image_mb: f64,
}

#[derive(Debug, Args, Clone)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// Only models of this creator (the part before `/`).
    #[arg(long)]
    pub creator: Option<String>,
    /// Only models with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Free-text match on id and name.
    pub search: Option<String>,
    /// Print the catalog as JSON.
    #[arg(long)]
    pub json: bool,
    /// Every column (default: id, context and prices, fitted to the terminal).
    #[arg(long)]
    pub wide: bool,
    /// Fetch again even when the cache is fresh.
    #[arg(long)]
    pub refresh: bool,
    /// Use the simulated gateway's catalog.
    #[arg(long)]
    pub sim: bool,
    /// Time allowed for fetching the catalog.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "30s")]
    pub timeout: std::time::Duration,
    /// Show the gateway's per-provider figures for this model (prices,
    /// p50/p95 TTFT, throughput) next to evalgate's from the history's latest run of it.
    #[arg(long, value_name = "MODEL")]
    pub endpoints: Option<String>,
    #[command(flatten)]
    pub history: HistoryArgs,
}

#[derive(Debug, Args, Clone)]
pub struct CreditsArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// Time allowed for fetching the balance.
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "30s")]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// With `--format table`: every column (default: what fits the terminal).
    #[arg(long)]
    pub wide: bool,
    /// A finished run directory.
    pub run: PathBuf,
    /// Output format (one of the report formats).
    #[arg(long, default_value = "markdown", value_parser = clap::builder::PossibleValuesParser::new(crate::report::formats::report_names()))]
    pub format: String,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: std::net::SocketAddr,
    /// Seed for jitter, answers and fault decisions.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Require `Authorization: Bearer $NAME` on chat and credits requests.
    #[arg(long, value_name = "NAME")]
    pub require_key_env: Option<String>,
    /// Multiply time to first token.
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub ttft_scale: f64,
    /// Multiply inter-token latency.
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub itl_scale: f64,
    /// Multiply cost figures.
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub cost_scale: f64,
    /// Inject a fault into every model, e.g. `429@0.1`, `cut-mid@0.05` (repeatable).
    #[arg(long, value_name = "FAULT")]
    pub fault: Vec<String>,
    /// How long after a generation ends its record appears at `/v1/generation`.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = duration)]
    pub generation_delay: std::time::Duration,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell, e.g. `evalgate completions bash > ~/.local/share/bash-completion/completions/evalgate`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Directory to write into [default: .].
    pub dir: Option<PathBuf>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// Suite load limits from `--max-image-mb`.
pub fn load_options(max_image_mb: f64) -> crate::suite::LoadOptions {
    crate::suite::LoadOptions {
        max_image_bytes: (max_image_mb.max(0.0) * 1024.0 * 1024.0) as u64,
    }
}

#[cfg(test)]
mod slo_tests {
    #[test]
    fn slo_spec_parses_and_explains_mistakes() {
        let s = super::slo("ttft=800ms, duration=10s,tokens_per_s=30").unwrap();
        assert_eq!(
            (s.ttft_ms, s.duration_ms, s.tokens_per_s),
            (Some(800.0), Some(10_000.0), Some(30.0))
        );
        assert!(super::slo("latency=1s")
            .unwrap_err()
            .contains("known: ttft"));
        assert!(super::slo("ttft").unwrap_err().contains("ttft=800ms"));
        assert!(super::slo("ttft=fast").unwrap_err().contains("`ttft`"));
        assert!(super::slo("tokens_per_s=-1").is_err());
        assert!(super::slo("").is_err());
    }
}
