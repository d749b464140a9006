//! The vocabulary shared by every layer: what one request asked and
//! produced (messages, check specs, usage, error kinds, prices, the row).
//!
//! This module is the bottom of the crate: it imports nothing of evalgate,
//! so any layer may use it and it can never take part in a cycle.
//!
//! These types are the output contract: `requests.csv` columns and the
//! `responses.jsonl` records are serialized straight from them, so renaming a
//! field here changes users' CI scripts. Add fields at the end.

use serde::{Deserialize, Serialize};

mod chat;
mod error_kind;
mod message;
mod prices;
mod slo;

pub use chat::{
    AssistantToolCall, Content, Image, ImageFile, Message, Params, Part, ResponseFormat, Stop,
    Tool, ToolCall, ToolChoice,
};
pub use error_kind::ErrorKind;
pub use message::AssertSpec;
pub use prices::{ModelPrices, Tier, Tiered};
pub use slo::Slo;

/// The response header by which `evalgate sim` announces itself on every
/// answer, so a run against it through `--gateway` is marked simulated.
pub const SIM_HEADER: &str = "x-evalgate-sim";

/// Whether a job was sent and what came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An answer arrived (the stream ended cleanly).
    Ok,
    /// The request was sent and failed; `error_kind` says why.
    Error,
    /// Never sent: budget reached or run cancelled; `error_kind` says which.
    Skipped,
}

/// Where a row's cost figure came from, in order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The gateway's generation record (`GET /generation`), looked up after the answer.
    Generation,
    /// The gateway's own figure (`usage.cost`, provider metadata or a header).
    Gateway,
    /// Catalog price × tokens.
    Catalog,
    /// A price given in the suite's `pricing:` section.
    Suite,
    /// No figure available; never summed as zero.
    #[default]
    Unknown,
    /// The gateway sent a cost that is negative, infinite or not a number:
    /// kept out of every sum and budget.
    Invalid,
}

/// The part a job plays in a `cache_probe: true` case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheProbe {
    /// The first send of the case (it may write the provider's cache).
    Prime,
    /// The same request, sent once its prime has finished.
    Probe,
}

/// Token counts exactly as the gateway's `usage` reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub cached_tokens: u64,
    pub cache_write_tokens: u64,
}

/// One job of the plan: which case, which model, which repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobKey {
    /// Position in the interleaved plan (0-based); stable across resume and shards.
    pub job: u64,
    pub case_index: u32,
    pub model_index: u32,
    pub repeat: u32,
}

/// One check's outcome on one answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check type as written, including a `not-` prefix.
    pub check: String,
    pub passed: bool,
    pub weight: f64,
    /// Why it failed (or the grader's reason); empty when it passed silently.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// One row of `requests.csv`: one planned job, whatever happened to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub job: u64,
    pub suite: String,
    pub case_id: String,
    pub model: String,
    pub repeat: u32,
    pub status: Status,
    pub error_kind: Option<ErrorKind>,
    /// The gateway's (or transport's) error message, trimmed; never the key.
    pub error_message: Option<String>,
    pub attempts: u32,
    pub queue_ms: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub duration_ms: Option<f64>,
    /// (duration − TTFT) / (output tokens − 1).
    pub tpot_ms: Option<f64>,
    /// Output tokens per second of streaming after the first token.
    pub tokens_per_s: Option<f64>,
    /// `None` when the gateway sent no usage (the row says so, never a guess).
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
    pub cached_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub cost_source: CostSource,
    pub generation_id: Option<String>,
    pub provider: Option<String>,
    pub finish_reason: Option<String>,
    /// `None` when the case has no checks or no answer arrived.
    pub passed: Option<bool>,
    /// Weighted share of passed checks, 0..=1.
    pub score: Option<f64>,
    /// `check: reason` of each failed check, joined with ` | `.
    pub failed_checks: Option<String>,
    /// Rate mode (`--rate`) only: actual send time − intended send time. In
    /// rate mode `ttft_ms` and `duration_ms` count from the intended time
    /// (no coordinated omission); subtract this for the service time.
    #[serde(default)]
    pub send_lag_ms: Option<f64>,
    /// Whether the request met every service-level objective (`slo:` or
    /// `--slo`); `None` when no SLO is set or the job was never sent.
    #[serde(default)]
    pub slo_met: Option<bool>,
    /// How many tool calls the answer made; `None` when no answer arrived.
    /// The `tool_calls` column of `requests.csv`; `tool_call_count` in
    /// `responses.jsonl`, whose `tool_calls` lists the calls themselves.
    #[serde(default, rename = "tool_call_count", alias = "tool_calls")]
    pub tool_calls: Option<u32>,
    /// The answer went past `--max-answer-bytes`: the stored text (and
    /// reasoning) is cut there; timings and usage cover the whole stream.
    #[serde(default)]
    pub truncated: bool,
    /// The generation record's cost (USD), when it was looked up.
    #[serde(default)]
    pub gateway_cost_usd: Option<f64>,
    /// The gateway's own time to first token (the record's `latency`).
    #[serde(default)]
    pub gateway_latency_ms: Option<f64>,
    /// The gateway's generation time (the record's `generation_time`).
    #[serde(default)]
    pub gateway_generation_ms: Option<f64>,
    /// Our TTFT − the gateway's: network and client time between us and it.
    #[serde(default)]
    pub client_overhead_ms: Option<f64>,
    /// The provider that served the request, per the generation record.
    #[serde(default)]
    pub served_by: Option<String>,
    /// The record says the gateway billed the user's own provider key.
    #[serde(default)]
    pub is_byok: Option<bool>,
    /// Served by another provider or model than asked (a gateway fallback);
    /// excluded from latency figures unless `--include-fallbacks`.
    #[serde(default)]
    pub fallback: bool,
    /// The providers (or models) tried, `first>second`.
    #[serde(default)]
    pub fallback_chain: Option<String>,
    /// The streamed cost differs from the generation record's by more than 1%.
    #[serde(default)]
    pub cost_mismatch: bool,
    /// Replayed from `results/cache/` (`--cache replay`): nothing was sent;
    /// excluded from latency and cost figures.
    #[serde(default)]
    pub cached: bool,
    /// Carried over from the run `--rerun-failed` reran: it passed there
    /// and was not sent again.
    #[serde(default)]
    pub carried: bool,
    /// What the prompt cache saved on this request against uncached input
    /// prices (catalog or suite prices; negative when cache writes cost more).
    #[serde(default)]
    pub cache_saved_usd: Option<f64>,
    /// `cache_probe: true` cases run twice: `prime` (the first send) and
    /// `probe` (the same request right after it, whose cached input tokens
    /// show whether the provider cached the prefix).
    #[serde(default)]
    pub cache_probe: Option<CacheProbe>,
}

impl RequestRow {
    /// A row for a job that was never sent.
    pub fn skipped(key: JobKey, suite: &str, case_id: &str, model: &str, kind: ErrorKind) -> Self {
        RequestRow {
            job: key.job,
            suite: suite.to_string(),
            case_id: case_id.to_string(),
            model: model.to_string(),
            repeat: key.repeat,
            status: Status::Skipped,
            error_kind: Some(kind),
            error_message: None,
            attempts: 0,
            queue_ms: None,
            ttft_ms: None,
            duration_ms: None,
            tpot_ms: None,
            tokens_per_s: None,
            input_tokens: None,
            output_tokens: None,
            reasoning_tokens: None,
            cached_tokens: None,
            cache_write_tokens: None,
            cost_usd: None,
            cost_source: CostSource::Unknown,
            generation_id: None,
            provider: None,
            finish_reason: None,
            passed: None,
            score: None,
            failed_checks: None,
            send_lag_ms: None,
            slo_met: None,
            tool_calls: None,
            truncated: false,
            gateway_cost_usd: None,
            gateway_latency_ms: None,
            gateway_generation_ms: None,
            client_overhead_ms: None,
            served_by: None,
            is_byok: None,
            fallback: false,
            fallback_chain: None,
            cost_mismatch: false,
            cached: false,
            carried: false,
            cache_saved_usd: None,
            cache_probe: None,
        }
    }

    /// The provider order sends this row's model to `first` first (see
    /// [`first_choice`]): served by another — the generation record's
    /// provider, else the stream's — the row is a fallback, `first>served`
    /// unless the gateway's routing already named the chain.
    pub fn check_first_choice(&mut self, first: &str) {
        let Some(served) = self.served_by.as_deref().or(self.provider.as_deref()) else {
            return;
        };
        if served.eq_ignore_ascii_case(first) {
            return;
        }
        let chain = format!("{first}>{served}");
        self.fallback = true;
        self.fallback_chain.get_or_insert(chain);
    }
}

/// The provider order of gateway options (`providerOptions.gateway.order`).
pub fn provider_order(gateway_options: Option<&serde_json::Value>) -> Vec<&str> {
    gateway_options
        .and_then(|o| o.get("order"))
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default()
}

/// The provider of `order` a model's requests go to first: the first one
/// that serves the model (`serving`: the providers of its endpoints page;
/// a gateway skips the others), or `order[0]` when that is not known.
/// `None` when none of them serves it: the order does not concern it.
pub fn first_choice<'a>(order: &[&'a str], serving: Option<&[&str]>) -> Option<&'a str> {
    match serving {
        Some(serving) => order
            .iter()
            .copied()
            .find(|p| serving.iter().any(|s| s.eq_ignore_ascii_case(p))),
        None => order.first().copied(),
    }
}

/// One line of `responses.jsonl`: the row, the answer, and what the
/// aggregates need to be rebuilt exactly on `--resume`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    #[serde(flatten)]
    pub row: RequestRow,
    /// The answer text (content only).
    pub text: String,
    /// Reasoning text when the model streamed it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// Each check's result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// Gaps between content-bearing chunks, microseconds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub itl_us: Vec<u32>,
    /// Cost of grading this answer with `judge` checks (not part of `cost_usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grader_cost_usd: Option<f64>,
    /// The tool calls the answer made: `{id, name, arguments}`, arguments
    /// parsed, or the raw text with `error` when not valid JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The parameters this request was sent with (defaults < case <
    /// `model_params`), when any was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<crate::record::Params>,
}

impl ResponseRecord {
    /// The answer as reports show it: the text, then each tool call as
    /// `tool call: name({...})` on its own line.
    pub fn answer_shown(&self) -> std::borrow::Cow<'_, str> {
        if self.tool_calls.is_empty() {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut out = self.text.clone();
        for call in &self.tool_calls {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("tool call: ");
            out.push_str(&call.display());
        }
        std::borrow::Cow::Owned(out)
    }

    /// A record with `row` and an empty answer: no text, reasoning, checks,
    /// chunk gaps or grader cost (a job that never ran, or a row read back
    /// from `requests.csv` without its journal line).
    pub fn from_row(row: RequestRow) -> Self {
        ResponseRecord {
            row,
            text: String::new(),
            reasoning: String::new(),
            checks: Vec::new(),
            itl_us: Vec::new(),
            grader_cost_usd: None,
            tool_calls: Vec::new(),
            params: None,
        }
    }
}

/// What a run was: written to `run.json` before the first request (so a
/// crashed run can be resumed) and embedded in `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct RunMeta {
    pub tool_version: String,
    pub suite: String,
    /// The suite file as given on the command line.
    pub suite_path: String,
    /// sha256 of the suite file's bytes; `--resume` refuses a changed suite.
    pub suite_hash: String,
    pub models: Vec<String>,
    /// Base URL including `/v1`; for `--sim` the in-process loopback URL.
    pub gateway_url: String,
    /// True when the answers came from the simulated gateway.
    pub simulated: bool,
    /// Name of the environment variable the key was read from (never its value).
    pub key_env: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub git_commit: Option<String>,
    /// Jobs in the plan (after sharding).
    pub planned_jobs: u64,
    pub options: RunOptions,
    /// Per model, the parameters every case starts from after
    /// `model_params` (cases may set more; each request's are in
    /// `responses.jsonl`). Empty when the suite sets none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub model_params: std::collections::BTreeMap<String, crate::record::Params>,
    /// `providerOptions.gateway` sent with every request, if any.
    pub gateway_options: Option<serde_json::Value>,
    /// Per model, the provider the gateway options' `order` sends it to
    /// first (see [`first_choice`]); a row served by another is a fallback.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub first_choice: std::collections::BTreeMap<String, String>,
    /// Why the run ended early, if it did: `budget`, `max_requests`, `interrupted`.
    pub stopped_by: Option<String>,
    /// The evalgate build that wrote the run (absent in runs of older builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildInfo>,
}

/// Which evalgate wrote a run: `run.json`'s `build`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    pub version: String,
    /// Short git commit, or `unknown` when built outside a checkout.
    pub commit: String,
    /// UTC build date, `YYYY-MM-DD`.
    pub date: String,
}

/// The options that shaped a run; enough to resume it with no other argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct RunOptions {
    pub concurrency: usize,
    pub per_model_concurrency: Option<usize>,
    pub repeat: u32,
    pub seed: u64,
    pub max_cost_usd: Option<f64>,
    pub max_requests: Option<u64>,
    pub max_retries: u32,
    pub retry_midstream: bool,
    pub connect_timeout_ms: Option<u64>,
    pub ttft_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub min_pass_rate: Option<f64>,
    /// `i/n` when this run is one shard of a larger plan.
    pub shard: Option<String>,
    pub no_catalog: bool,
    pub rate: Option<f64>,
    /// Retries allowed over the whole run (`--retry-budget`); absent in
    /// metadata written before it was recorded.
    #[serde(default)]
    pub retry_budget: Option<u32>,
    /// Whether the connection pool was opened before the timed run.
    #[serde(default)]
    pub warmup: bool,
    /// `--ramp-up`: the first round was started over this many milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_up_ms: Option<u64>,
    /// `--sim-ttft-scale` of a `--sim` run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_ttft_scale: Option<f64>,
    /// `--sim-cost-scale` of a `--sim` run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_cost_scale: Option<f64>,
    /// `--no-history`: the run is not appended to the history store.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_history: bool,
    /// `--allow-insecure-http`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_insecure_http: bool,
    /// The objectives each request was held to (suite `slo:` with `--slo`
    /// on top); absent when none was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
    /// `--reference`: the model the decision view compares the others with
    /// (default: the first model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `--max-answer-bytes`: answer text and reasoning kept per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_answer_bytes: Option<u64>,
    /// `--proxy-loopback`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy_loopback: bool,
    /// `--no-lookup`: generation records were not looked up.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_lookup: bool,
    /// `--lookup-wait`, ms, when not the default: each lookup's patience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_wait_ms: Option<u64>,
    /// `--include-fallbacks`: fallback rows count in the latency figures.
    #[serde(default, skip_serializing_if = "is_false")]
    pub include_fallbacks: bool,
    /// `--cache`: `record`, `replay` or `refresh` (absent when off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
