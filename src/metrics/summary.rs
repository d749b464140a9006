//! The serialized faces of a model's statistics: [`ModelSummary`] (the output
//! contract), [`SerializedHistograms`] (the exact state for merging) and the
//! [`RunSummary`] of `summary.json` that holds them.
//!
//! Percentiles are the middle of the HdrHistogram bucket holding the sample
//! (3 significant figures: exact below 2.048 ms, within ±0.05 % above).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Aggregate, MetricsError};
use crate::record::RunMeta;

/// Sums that the summary shows only as rounded floats, kept as integers so a
/// finished run merges exactly.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ExactSums {
    /// Sum of known `cost_usd`, in 10⁻¹² USD.
    pub cost_pico_usd: u64,
    /// Rows with a known `cost_usd`.
    pub known_cost_rows: u64,
    /// Output tokens of the rows with a known cost (for cost per 1k tokens).
    pub known_cost_output_tokens: u64,
    /// Sum of `grader_cost_usd`, in 10⁻¹² USD.
    pub grader_cost_pico_usd: u64,
    /// Rows with a grader cost.
    pub grader_rows: u64,
    /// Sum of `score`, in 10⁻⁹.
    pub score_sum_nano: u64,
    /// Rows with a score.
    pub scored_rows: u64,
    /// Rows served by a gateway fallback.
    #[serde(default)]
    pub fallback_rows: u64,
    /// Rows replayed from the response cache (nothing sent).
    #[serde(default)]
    pub replayed_rows: u64,
    /// What the replayed rows cost when they were recorded, 10⁻¹² USD.
    #[serde(default)]
    pub replay_saved_pico_usd: u64,
    /// Rows whose streamed cost disagreed with the generation record by > 1%.
    #[serde(default)]
    pub cost_mismatch_rows: u64,
    /// Sum of `cache_saved_usd`, 10⁻¹² USD (negative when writes cost more).
    #[serde(default)]
    pub cache_saved_pico_usd: i64,
    /// Rows with a `cache_saved_usd`.
    #[serde(default)]
    pub cache_saved_rows: u64,
    /// Answered cache probes, those that read from cache, and their input
    /// and cached tokens.
    #[serde(default)]
    pub probe_rows: u64,
    #[serde(default)]
    pub probe_hits: u64,
    #[serde(default)]
    pub probe_input_tokens: u64,
    #[serde(default)]
    pub probe_cached_tokens: u64,
}

/// The exact state of one model's aggregate beyond its [`ModelSummary`]:
/// each histogram as base64 of HdrHistogram's V2 format, plus integer sums.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SerializedHistograms {
    /// Time to first token, µs (ok rows).
    pub ttft_us: String,
    /// Request duration, µs (ok rows).
    pub duration_us: String,
    /// Time waiting for a concurrency slot, µs (every row that has it).
    pub queue_us: String,
    /// Gaps between content-bearing chunks, µs (ok rows).
    pub itl_us: String,
    /// Time per output token after the first, µs (ok rows).
    pub tpot_us: String,
    /// Output tokens per second × 1000 (ok rows).
    pub tokens_per_s_milli: String,
    /// Output tokens per answer (ok rows with usage).
    pub output_tokens: String,
    /// Integer sums behind the summary's money and score figures.
    pub exact: ExactSums,
}

/// One model's results in `summary.json` / `summary.csv`: the output contract.
/// Times are milliseconds with at most 3 decimals; percentile fields are
/// `None` when there was no sample.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModelSummary {
    /// Model id as sent to the gateway, e.g. `openai/gpt-5`.
    pub model: String,
    /// Rows (planned jobs that reached the journal), whatever their status.
    pub requests: u64,
    /// Rows with status `ok` (an answer arrived).
    pub ok: u64,
    /// Rows with status `error` (sent, failed).
    pub errors: u64,
    /// Rows with status `skipped` (never sent).
    pub skipped: u64,
    /// Error and skipped rows by `error_kind`.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Time to first token, 50th percentile.
    pub ttft_p50_ms: Option<f64>,
    /// Time to first token, 75th percentile (what the gateway dashboard shows).
    pub ttft_p75_ms: Option<f64>,
    /// Time to first token, 90th percentile.
    pub ttft_p90_ms: Option<f64>,
    /// Time to first token, 95th percentile.
    pub ttft_p95_ms: Option<f64>,
    /// Time to first token, 99th percentile.
    pub ttft_p99_ms: Option<f64>,
    /// Time to first token, mean.
    pub ttft_mean_ms: Option<f64>,
    /// Time to first token, maximum (middle of its histogram bucket, within ±0.05 %).
    pub ttft_max_ms: Option<f64>,
    /// Duration (start → end of stream), 50th percentile.
    pub duration_p50_ms: Option<f64>,
    /// Duration, 75th percentile.
    pub duration_p75_ms: Option<f64>,
    /// Duration, 90th percentile.
    pub duration_p90_ms: Option<f64>,
    /// Duration, 95th percentile.
    pub duration_p95_ms: Option<f64>,
    /// Duration, 99th percentile.
    pub duration_p99_ms: Option<f64>,
    /// Duration, mean.
    pub duration_mean_ms: Option<f64>,
    /// Duration, maximum.
    pub duration_max_ms: Option<f64>,
    /// Time waiting for a concurrency slot (not part of TTFT), 50th percentile.
    pub queue_p50_ms: Option<f64>,
    /// Queue time, 95th percentile.
    pub queue_p95_ms: Option<f64>,
    /// Queue time, maximum.
    pub queue_max_ms: Option<f64>,
    /// Inter-token latency (gap between content chunks), 50th percentile.
    pub itl_p50_ms: Option<f64>,
    /// Inter-token latency, 95th percentile.
    pub itl_p95_ms: Option<f64>,
    /// Time per output token after the first, 50th percentile.
    pub tpot_p50_ms: Option<f64>,
    /// Output tokens per answer, 50th percentile.
    pub output_tokens_p50: Option<u64>,
    /// Output tokens per second after the first token, 50th percentile.
    pub tokens_per_s_p50: Option<f64>,
    /// Output tokens per second, mean.
    pub tokens_per_s_mean: Option<f64>,
    /// Sum of input (prompt) tokens over rows with usage.
    pub input_tokens: u64,
    /// Sum of output (completion) tokens over rows with usage.
    pub output_tokens: u64,
    /// Sum of reasoning tokens (part of output tokens).
    pub reasoning_tokens: u64,
    /// Sum of input tokens read from the provider's cache.
    pub cached_tokens: u64,
    /// Sum of input tokens written to the provider's cache.
    pub cache_write_tokens: u64,
    /// Ok rows for which the gateway sent no usage (tokens are not guessed).
    pub rows_without_usage: u64,
    /// Sum of the known costs; `None` when no row had a known cost.
    pub cost_usd: Option<f64>,
    /// Sent rows without a cost figure: `cost_usd` leaves them out, never as zero.
    pub cost_unknown_rows: u64,
    /// `cost_usd` / rows with a known cost.
    pub cost_per_request_usd: Option<f64>,
    /// `cost_usd` per 1000 output tokens of the rows with a known cost.
    pub cost_per_1k_output_tokens_usd: Option<f64>,
    /// Sent rows by `cost_source` (`gateway`, `catalog`, `suite`, `unknown`).
    pub cost_sources: BTreeMap<String, u64>,
    /// Rows whose answer was checked (`passed` is set).
    pub checked: u64,
    /// Checked rows that passed.
    pub passed: u64,
    /// `passed / checked`; `None` when nothing was checked.
    pub pass_rate: Option<f64>,
    /// Mean weighted check score (0..=1) over scored rows.
    pub mean_score: Option<f64>,
    /// Cost of `judge` grading (not part of `cost_usd`); `None` when none.
    pub grader_cost_usd: Option<f64>,
    /// Sent rows judged against the run's SLOs (`slo_met` set).
    #[serde(default)]
    pub slo_checked: u64,
    /// Sent rows that met every SLO.
    #[serde(default)]
    pub slo_met: u64,
    /// Sent rows that met every SLO and passed their checks (a failed
    /// request never does).
    #[serde(default)]
    pub good_requests: u64,
    /// `good_requests` / sent rows; `None` when nothing was sent or the run
    /// had neither SLOs nor checks.
    #[serde(default)]
    pub goodput: Option<f64>,
    /// (`cost_usd` + `grader_cost_usd`) / passed answers; `None` when no
    /// answer passed or no cost is known.
    #[serde(default)]
    pub cost_per_pass_usd: Option<f64>,
    /// Cases whose checked outcomes differ across repeats.
    #[serde(default)]
    pub flaky_cases: u64,
    /// Share of checked cases where any repeat passed (pass@k, k = repeats).
    #[serde(default)]
    pub pass_at_k: Option<f64>,
    /// Share of checked cases where every repeat passed (pass^k).
    #[serde(default)]
    pub pass_all_k: Option<f64>,
    /// Rows served by a gateway fallback (another provider or model than
    /// asked); left out of the latency figures unless `--include-fallbacks`.
    #[serde(default)]
    pub fallbacks: u64,
    /// Rows replayed from `results/cache/` (`--cache replay`): nothing was
    /// sent; left out of latency and cost figures.
    #[serde(default)]
    pub replayed: u64,
    /// What the replayed rows cost when they were recorded: money saved.
    #[serde(default)]
    pub replay_saved_usd: Option<f64>,
    /// Rows whose streamed cost disagreed with the generation record by > 1%.
    #[serde(default)]
    pub cost_mismatches: u64,
    /// Share of input tokens read from the provider's cache (0..=1).
    #[serde(default)]
    pub cache_read_share: Option<f64>,
    /// What the prompt cache saved against uncached input prices, USD.
    #[serde(default)]
    pub cache_saved_usd: Option<f64>,
    /// Answered cache probes (`cache_probe: true` cases' second sends).
    #[serde(default)]
    pub cache_probes: u64,
    /// Probes that read any input tokens from the provider's cache.
    #[serde(default)]
    pub cache_probe_hits: u64,
    /// Share of the probes' input tokens read from cache (0..=1).
    #[serde(default)]
    pub cache_probe_read_share: Option<f64>,
}

/// The `summary.json` schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// `summary.json`: the output contract for a finished run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Schema version of this file; currently 1.
    pub schema_version: u32,
    /// What the run was (suite, models, gateway, options, times).
    pub run: RunMeta,
    /// One summary per model, in the run's model order.
    pub models: Vec<ModelSummary>,
    /// Each model's histograms and exact sums, so runs and shards merge exactly.
    pub histograms: BTreeMap<String, SerializedHistograms>,
}

impl RunSummary {
    /// The summary of a run from its metadata and final aggregate.
    pub fn new(run: RunMeta, agg: &Aggregate) -> Self {
        RunSummary {
            schema_version: SCHEMA_VERSION,
            run,
            models: agg.summaries(),
            histograms: agg.histograms(),
        }
    }

    /// Rows whose checks failed (`passed` false), over all models.
    pub fn failed_rows(&self) -> u64 {
        self.models
            .iter()
            .map(|m| m.checked.saturating_sub(m.passed))
            .sum()
    }

    /// Rows that failed or erred: none means a writer listing failures
    /// can skip its pass over the rows.
    pub fn bad_rows(&self) -> u64 {
        self.failed_rows() + self.models.iter().map(|m| m.errors).sum::<u64>()
    }

    /// Rebuild the exact aggregate (for `--resume`, shard merges and compare).
    pub fn aggregate(&self) -> Result<Aggregate, MetricsError> {
        Aggregate::from_parts(&self.models, &self.histograms)
    }
}
