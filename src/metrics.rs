//! Per-model aggregates: HdrHistograms for latencies and token rates, exact
//! counters for everything else. Plain data, no I/O.
//!
//! Memory stays flat however many requests a run makes: a row is folded into
//! histograms and counters, never kept. Every aggregate merges exactly —
//! histograms add bucket by bucket and money is summed as integer pico-dollars,
//! so `merge(A) + merge(B)` equals recording `A ∪ B` in any order, and a
//! finished run (its [`ModelSummary`] plus [`SerializedHistograms`]) rebuilds
//! the very same aggregate for `--resume`, shards and `compare`.
//!
//! Latency histograms count only rows with status `ok`: a timeout's duration is
//! not a latency sample. Failures are counted by `error_kind` instead.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;

use crate::record::{ErrorKind, ResponseRecord, Status};

mod cases;
mod summary;
pub use cases::{CaseFigures, CaseOutcomes};
pub use summary::{ExactSums, ModelSummary, RunSummary, SerializedHistograms, SCHEMA_VERSION};

/// Significant figures kept by every histogram (0.1 % resolution).
const SIGFIG: u8 = 3;
/// Money is summed in pico-dollars so sums are exact and order-free.
const PICO_PER_USD: f64 = 1e12;
/// Scores (0..=1) are summed in billionths for the same reason.
const NANO_PER_SCORE: f64 = 1e9;

/// Why aggregates could not be merged or rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Two per-model aggregates for different models were merged.
    #[error("cannot merge statistics of model `{other}` into `{this}`")]
    ModelMismatch { this: String, other: String },
    /// A histogram could not take the other's values.
    #[error("histogram merge failed for {metric}: {source}")]
    Add {
        metric: &'static str,
        source: hdrhistogram::AdditionError,
    },
    /// A serialized histogram is not valid base64 or not an HdrHistogram V2 blob.
    #[error("histogram `{metric}` of model `{model}` is corrupt: {reason}")]
    Corrupt {
        model: String,
        metric: &'static str,
        reason: String,
    },
    /// `summary.json` lists a model without its histograms.
    #[error("summary has no histograms for model `{0}`")]
    MissingHistograms(String),
    /// `errors_by_kind` names a kind this version does not know.
    #[error("model `{model}`: {reason}")]
    UnknownErrorKind { model: String, reason: String },
}

/// One histogram per metric, in a fixed order shared by (de)serialization.
#[derive(Clone, Debug)]
struct Hists {
    ttft_us: Histogram<u64>,
    duration_us: Histogram<u64>,
    queue_us: Histogram<u64>,
    itl_us: Histogram<u64>,
    tpot_us: Histogram<u64>,
    tokens_per_s_milli: Histogram<u64>,
    output_tokens: Histogram<u64>,
}

impl Hists {
    fn new() -> Self {
        let h = || Histogram::<u64>::new(SIGFIG).expect("3 significant figures is valid");
        Hists {
            ttft_us: h(),
            duration_us: h(),
            queue_us: h(),
            itl_us: h(),
            tpot_us: h(),
            tokens_per_s_milli: h(),
            output_tokens: h(),
        }
    }

    fn each(&self) -> [&Histogram<u64>; 7] {
        [
            &self.ttft_us,
            &self.duration_us,
            &self.queue_us,
            &self.itl_us,
            &self.tpot_us,
            &self.tokens_per_s_milli,
            &self.output_tokens,
        ]
    }

    fn each_mut(&mut self) -> [(&'static str, &mut Histogram<u64>); 7] {
        [
            ("ttft_us", &mut self.ttft_us),
            ("duration_us", &mut self.duration_us),
            ("queue_us", &mut self.queue_us),
            ("itl_us", &mut self.itl_us),
            ("tpot_us", &mut self.tpot_us),
            ("tokens_per_s_milli", &mut self.tokens_per_s_milli),
            ("output_tokens", &mut self.output_tokens),
        ]
    }
}

/// Running statistics of one model. Cheap to record into, exact to merge.
#[derive(Clone, Debug)]
pub struct ModelStats {
    model: String,
    hists: Hists,
    requests: u64,
    ok: u64,
    errors: u64,
    skipped: u64,
    errors_by_kind: BTreeMap<ErrorKind, u64>,
    input_tokens: u64,
    output_tokens: u64,
    reasoning_tokens: u64,
    cached_tokens: u64,
    cache_write_tokens: u64,
    rows_without_usage: u64,
    cost_unknown_rows: u64,
    cost_sources: BTreeMap<String, u64>,
    checked: u64,
    passed: u64,
    slo_checked: u64,
    slo_met: u64,
    good: u64,
    exact: ExactSums,
    /// Fallback rows count in the latency histograms (`--include-fallbacks`).
    include_fallbacks: bool,
}

/// Milliseconds (possibly fractional) to whole microseconds; negatives clamp to 0.
fn ms_to_us(ms: f64) -> Option<u64> {
    to_units(ms, 1000.0)
}

/// A non-negative amount to integer units; `None` for NaN/∞.
fn to_units(value: f64, per_unit: f64) -> Option<u64> {
    value
        .is_finite()
        .then(|| (value * per_unit).round().max(0.0) as u64)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A histogram's value at quantile `q`, as the middle of its bucket: within
/// ±0.05 % of the true sample instead of always rounding up (values below
/// 2048 are exact).
fn quantile(h: &Histogram<u64>, q: f64) -> Option<u64> {
    (!h.is_empty()).then(|| h.median_equivalent(h.value_at_quantile(q)))
}

/// Percentile of a µs histogram in ms; `None` when empty.
fn pct_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    quantile(h, q).map(|v| v as f64 / 1000.0)
}

fn mean_ms(h: &Histogram<u64>) -> Option<f64> {
    (!h.is_empty()).then(|| round3(h.mean() / 1000.0))
}

fn max_ms(h: &Histogram<u64>) -> Option<f64> {
    pct_ms(h, 1.0)
}

fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// Canonical V2 bytes: the same counts always give the same string, however
/// the histogram grew (auto-resize by `record` and by `add` leave different
/// upper bounds in the header).
fn encode(h: &Histogram<u64>) -> String {
    let mut canon =
        Histogram::<u64>::new_with_bounds(1, h.max().max(2), SIGFIG).expect("bounds are valid");
    canon
        .add(h)
        .expect("canonical histogram covers the source's max");
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(&canon, &mut bytes)
        .expect("serializing into a Vec cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode(model: &str, metric: &'static str, text: &str) -> Result<Histogram<u64>, MetricsError> {
    let corrupt = |reason: String| MetricsError::Corrupt {
        model: model.to_string(),
        metric,
        reason,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| corrupt(e.to_string()))?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| corrupt(format!("{e:?}")))?;
    h.auto(true);
    Ok(h)
}

/// Decode one histogram of a [`SerializedHistograms`] (e.g. `&h.ttft_us`),
/// for reports that draw distributions; `metric` names it in errors.
pub fn decode_histogram(
    model: &str,
    metric: &'static str,
    text: &str,
) -> Result<Histogram<u64>, MetricsError> {
    decode(model, metric, text)
}

impl ModelStats {
    /// Empty statistics for `model`.
    pub fn new(model: &str) -> Self {
        ModelStats {
            model: model.to_string(),
            hists: Hists::new(),
            requests: 0,
            ok: 0,
            errors: 0,
            skipped: 0,
            errors_by_kind: BTreeMap::new(),
            input_tokens: 0,
            output_tokens: 0,
            reasoning_tokens: 0,
            cached_tokens: 0,
            cache_write_tokens: 0,
            rows_without_usage: 0,
            cost_unknown_rows: 0,
            cost_sources: BTreeMap::new(),
            checked: 0,
            passed: 0,
            slo_checked: 0,
            slo_met: 0,
            good: 0,
            exact: ExactSums::default(),
            include_fallbacks: false,
        }
    }

    /// The model these statistics describe.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Fold one finished row in.
    pub fn record(&mut self, rec: &ResponseRecord) {
        let row = &rec.row;
        self.requests += 1;
        match row.status {
            Status::Ok => self.ok += 1,
            Status::Error => self.errors += 1,
            Status::Skipped => self.skipped += 1,
        }
        if row.status != Status::Ok {
            if let Some(kind) = row.error_kind {
                *self.errors_by_kind.entry(kind).or_default() += 1;
            }
        }

        // Values beyond u64 µs cannot occur; auto-resize covers the rest.
        let rec_h = |h: &mut Histogram<u64>, v: Option<u64>| {
            if let Some(v) = v {
                let _ = h.record(v);
            }
        };
        rec_h(&mut self.hists.queue_us, row.queue_ms.and_then(ms_to_us));
        self.exact.fallback_rows += u64::from(row.fallback);
        self.exact.cost_mismatch_rows += u64::from(row.cost_mismatch);
        // A replayed answer was not timed now, and a fallback's time is
        // another provider's: neither is this model's latency.
        let timed = !row.cached && (!row.fallback || self.include_fallbacks);
        if row.status == Status::Ok && timed {
            let h = &mut self.hists;
            rec_h(&mut h.ttft_us, row.ttft_ms.and_then(ms_to_us));
            rec_h(&mut h.duration_us, row.duration_ms.and_then(ms_to_us));
            rec_h(&mut h.tpot_us, row.tpot_ms.and_then(ms_to_us));
            rec_h(
                &mut h.tokens_per_s_milli,
                row.tokens_per_s.and_then(|t| to_units(t, 1000.0)),
            );
            rec_h(&mut h.output_tokens, row.output_tokens);
            for &gap in &rec.itl_us {
                rec_h(&mut h.itl_us, Some(u64::from(gap)));
            }
            if row.output_tokens.is_none() && row.input_tokens.is_none() {
                self.rows_without_usage += 1;
            }
        }

        // A replayed answer used no tokens now, and its cache saved nothing.
        if !row.cached {
            self.input_tokens += row.input_tokens.unwrap_or(0);
            self.output_tokens += row.output_tokens.unwrap_or(0);
            self.reasoning_tokens += row.reasoning_tokens.unwrap_or(0);
            self.cached_tokens += row.cached_tokens.unwrap_or(0);
            self.cache_write_tokens += row.cache_write_tokens.unwrap_or(0);
        }

        if let Some(saved) = row.cache_saved_usd.filter(|s| s.is_finite() && !row.cached) {
            let pico = (saved * PICO_PER_USD).round() as i64;
            self.exact.cache_saved_pico_usd = self.exact.cache_saved_pico_usd.saturating_add(pico);
            self.exact.cache_saved_rows += 1;
        }
        // A replayed probe says nothing of the provider's cache today.
        let probe = Some(crate::record::CacheProbe::Probe);
        if row.cache_probe == probe && row.status == Status::Ok && !row.cached {
            let x = &mut self.exact;
            x.probe_rows += 1;
            x.probe_hits += u64::from(row.cached_tokens.unwrap_or(0) > 0);
            x.probe_input_tokens += row.input_tokens.unwrap_or(0);
            x.probe_cached_tokens += row.cached_tokens.unwrap_or(0);
        }
        if row.cached {
            self.exact.replayed_rows += 1;
            if let Some(pico) = row.cost_usd.and_then(|c| to_units(c, PICO_PER_USD)) {
                self.exact.replay_saved_pico_usd =
                    self.exact.replay_saved_pico_usd.saturating_add(pico);
            }
        }
        // A skipped row was never sent, nor a replayed one: it cost nothing.
        if row.status != Status::Skipped && !row.cached {
            let source = serde_json::to_value(row.cost_source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "unknown".to_string());
            *self.cost_sources.entry(source).or_default() += 1;
            match row.cost_usd.and_then(|c| to_units(c, PICO_PER_USD)) {
                Some(pico) => {
                    self.exact.cost_pico_usd = self.exact.cost_pico_usd.saturating_add(pico);
                    self.exact.known_cost_rows += 1;
                    self.exact.known_cost_output_tokens += row.output_tokens.unwrap_or(0);
                }
                None => self.cost_unknown_rows += 1,
            }
        }

        if let Some(passed) = row.passed {
            self.checked += 1;
            self.passed += u64::from(passed);
        }
        if let Some(met) = row.slo_met {
            self.slo_checked += 1;
            self.slo_met += u64::from(met);
        }
        if row.status == Status::Ok && row.slo_met != Some(false) && row.passed != Some(false) {
            self.good += 1;
        }
        if let Some(nano) = row.score.and_then(|s| to_units(s, NANO_PER_SCORE)) {
            self.exact.score_sum_nano = self.exact.score_sum_nano.saturating_add(nano);
            self.exact.scored_rows += 1;
        }
        if let Some(pico) = rec.grader_cost_usd.and_then(|c| to_units(c, PICO_PER_USD)) {
            self.exact.grader_cost_pico_usd = self.exact.grader_cost_pico_usd.saturating_add(pico);
            self.exact.grader_rows += 1;
        }
    }

    /// Add another aggregate of the same model (another shard, or the part of
    /// a run before `--resume`). Exact: equal to having recorded both.
    pub fn merge(&mut self, other: &ModelStats) -> Result<(), MetricsError> {
        if self.model != other.model {
            return Err(MetricsError::ModelMismatch {
                this: self.model.clone(),
                other: other.model.clone(),
            });
        }
        for ((metric, mine), theirs) in self.hists.each_mut().into_iter().zip(other.hists.each()) {
            mine.add(theirs)
                .map_err(|source| MetricsError::Add { metric, source })?;
        }
        self.requests += other.requests;
        self.ok += other.ok;
        self.errors += other.errors;
        self.skipped += other.skipped;
        for (k, n) in &other.errors_by_kind {
            *self.errors_by_kind.entry(*k).or_default() += n;
        }
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.cached_tokens += other.cached_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.rows_without_usage += other.rows_without_usage;
        self.cost_unknown_rows += other.cost_unknown_rows;
        for (k, n) in &other.cost_sources {
            *self.cost_sources.entry(k.clone()).or_default() += n;
        }
        self.checked += other.checked;
        self.passed += other.passed;
        self.slo_checked += other.slo_checked;
        self.slo_met += other.slo_met;
        self.good += other.good;
        let (a, b) = (&mut self.exact, &other.exact);
        a.cost_pico_usd = a.cost_pico_usd.saturating_add(b.cost_pico_usd);
        a.known_cost_rows += b.known_cost_rows;
        a.known_cost_output_tokens += b.known_cost_output_tokens;
        a.grader_cost_pico_usd = a
            .grader_cost_pico_usd
            .saturating_add(b.grader_cost_pico_usd);
        a.grader_rows += b.grader_rows;
        a.score_sum_nano = a.score_sum_nano.saturating_add(b.score_sum_nano);
        a.scored_rows += b.scored_rows;
        a.fallback_rows += b.fallback_rows;
        a.replayed_rows += b.replayed_rows;
        a.replay_saved_pico_usd = a
            .replay_saved_pico_usd
            .saturating_add(b.replay_saved_pico_usd);
        a.cost_mismatch_rows += b.cost_mismatch_rows;
        a.cache_saved_pico_usd = a
            .cache_saved_pico_usd
            .saturating_add(b.cache_saved_pico_usd);
        a.cache_saved_rows += b.cache_saved_rows;
        a.probe_rows += b.probe_rows;
        a.probe_hits += b.probe_hits;
        a.probe_input_tokens += b.probe_input_tokens;
        a.probe_cached_tokens += b.probe_cached_tokens;
        Ok(())
    }

    /// Median time to first token in ms, `None` without samples.
    /// Rows answered, rows failed (sent and errored): for live progress.
    pub fn ok_errors(&self) -> (u64, u64) {
        (self.ok, self.errors)
    }

    pub fn ttft_p50_ms(&self) -> Option<f64> {
        pct_ms(&self.hists.ttft_us, 0.5)
    }

    /// The output-contract view of these statistics.
    pub fn summary(&self) -> ModelSummary {
        let h = &self.hists;
        let x = &self.exact;
        let cost = x.cost_pico_usd as f64 / PICO_PER_USD;
        ModelSummary {
            model: self.model.clone(),
            requests: self.requests,
            ok: self.ok,
            errors: self.errors,
            skipped: self.skipped,
            errors_by_kind: self
                .errors_by_kind
                .iter()
                .map(|(k, n)| (k.as_str().to_string(), *n))
                .collect(),
            ttft_p50_ms: pct_ms(&h.ttft_us, 0.50),
            ttft_p75_ms: pct_ms(&h.ttft_us, 0.75),
            ttft_p90_ms: pct_ms(&h.ttft_us, 0.90),
            ttft_p95_ms: pct_ms(&h.ttft_us, 0.95),
            ttft_p99_ms: pct_ms(&h.ttft_us, 0.99),
            ttft_mean_ms: mean_ms(&h.ttft_us),
            ttft_max_ms: max_ms(&h.ttft_us),
            duration_p50_ms: pct_ms(&h.duration_us, 0.50),
            duration_p75_ms: pct_ms(&h.duration_us, 0.75),
            duration_p90_ms: pct_ms(&h.duration_us, 0.90),
            duration_p95_ms: pct_ms(&h.duration_us, 0.95),
            duration_p99_ms: pct_ms(&h.duration_us, 0.99),
            duration_mean_ms: mean_ms(&h.duration_us),
            duration_max_ms: max_ms(&h.duration_us),
            queue_p50_ms: pct_ms(&h.queue_us, 0.50),
            queue_p95_ms: pct_ms(&h.queue_us, 0.95),
            queue_max_ms: max_ms(&h.queue_us),
            itl_p50_ms: pct_ms(&h.itl_us, 0.50),
            itl_p95_ms: pct_ms(&h.itl_us, 0.95),
            tpot_p50_ms: pct_ms(&h.tpot_us, 0.50),
            output_tokens_p50: quantile(&h.output_tokens, 0.5),
            tokens_per_s_p50: pct_ms(&h.tokens_per_s_milli, 0.5),
            // Stored ×1000 like µs for ms, so the same scaling applies.
            tokens_per_s_mean: mean_ms(&h.tokens_per_s_milli),
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            reasoning_tokens: self.reasoning_tokens,
            cached_tokens: self.cached_tokens,
            cache_write_tokens: self.cache_write_tokens,
            rows_without_usage: self.rows_without_usage,
            cost_usd: (x.known_cost_rows > 0).then_some(cost),
            cost_unknown_rows: self.cost_unknown_rows,
            cost_per_request_usd: ratio(cost, x.known_cost_rows),
            cost_per_1k_output_tokens_usd: ratio(cost * 1000.0, x.known_cost_output_tokens),
            cost_sources: self.cost_sources.clone(),
            checked: self.checked,
            passed: self.passed,
            pass_rate: ratio(self.passed as f64, self.checked),
            mean_score: ratio(x.score_sum_nano as f64 / NANO_PER_SCORE, x.scored_rows),
            grader_cost_usd: (x.grader_rows > 0)
                .then(|| x.grader_cost_pico_usd as f64 / PICO_PER_USD),
            slo_checked: self.slo_checked,
            slo_met: self.slo_met,
            good_requests: self.good,
            goodput: (self.slo_checked > 0 || self.checked > 0)
                .then(|| ratio(self.good as f64, self.ok + self.errors))
                .flatten(),
            cost_per_pass_usd: (x.known_cost_rows > 0)
                .then(|| {
                    let grader = x.grader_cost_pico_usd as f64 / PICO_PER_USD;
                    ratio(cost + grader, self.passed)
                })
                .flatten(),
            flaky_cases: 0,
            pass_at_k: None,
            pass_all_k: None,
            fallbacks: x.fallback_rows,
            replayed: x.replayed_rows,
            replay_saved_usd: (x.replayed_rows > 0)
                .then(|| x.replay_saved_pico_usd as f64 / PICO_PER_USD),
            cost_mismatches: x.cost_mismatch_rows,
            cache_read_share: ratio(self.cached_tokens as f64, self.input_tokens)
                .map(|r| round3(r.min(1.0))),
            cache_saved_usd: (x.cache_saved_rows > 0)
                .then(|| x.cache_saved_pico_usd as f64 / PICO_PER_USD),
            cache_probes: x.probe_rows,
            cache_probe_hits: x.probe_hits,
            cache_probe_read_share: ratio(x.probe_cached_tokens as f64, x.probe_input_tokens)
                .map(|r| round3(r.min(1.0))),
        }
    }

    /// The histograms and exact sums, for `summary.json`.
    pub fn histograms(&self) -> SerializedHistograms {
        let h = &self.hists;
        SerializedHistograms {
            ttft_us: encode(&h.ttft_us),
            duration_us: encode(&h.duration_us),
            queue_us: encode(&h.queue_us),
            itl_us: encode(&h.itl_us),
            tpot_us: encode(&h.tpot_us),
            tokens_per_s_milli: encode(&h.tokens_per_s_milli),
            output_tokens: encode(&h.output_tokens),
            exact: self.exact.clone(),
        }
    }

    /// Rebuild statistics from what [`summary`](Self::summary) and
    /// [`histograms`](Self::histograms) produced: the exact inverse.
    pub fn from_parts(
        summary: &ModelSummary,
        hist: &SerializedHistograms,
    ) -> Result<ModelStats, MetricsError> {
        let m = summary.model.as_str();
        let mut errors_by_kind = BTreeMap::new();
        for (kind, n) in &summary.errors_by_kind {
            let kind: ErrorKind =
                kind.parse()
                    .map_err(|reason| MetricsError::UnknownErrorKind {
                        model: m.to_string(),
                        reason,
                    })?;
            errors_by_kind.insert(kind, *n);
        }
        Ok(ModelStats {
            model: m.to_string(),
            hists: Hists {
                ttft_us: decode(m, "ttft_us", &hist.ttft_us)?,
                duration_us: decode(m, "duration_us", &hist.duration_us)?,
                queue_us: decode(m, "queue_us", &hist.queue_us)?,
                itl_us: decode(m, "itl_us", &hist.itl_us)?,
                tpot_us: decode(m, "tpot_us", &hist.tpot_us)?,
                tokens_per_s_milli: decode(m, "tokens_per_s_milli", &hist.tokens_per_s_milli)?,
                output_tokens: decode(m, "output_tokens", &hist.output_tokens)?,
            },
            requests: summary.requests,
            ok: summary.ok,
            errors: summary.errors,
            skipped: summary.skipped,
            errors_by_kind,
            input_tokens: summary.input_tokens,
            output_tokens: summary.output_tokens,
            reasoning_tokens: summary.reasoning_tokens,
            cached_tokens: summary.cached_tokens,
            cache_write_tokens: summary.cache_write_tokens,
            rows_without_usage: summary.rows_without_usage,
            cost_unknown_rows: summary.cost_unknown_rows,
            cost_sources: summary.cost_sources.clone(),
            checked: summary.checked,
            passed: summary.passed,
            slo_checked: summary.slo_checked,
            slo_met: summary.slo_met,
            good: summary.good_requests,
            exact: hist.exact.clone(),
            include_fallbacks: false,
        })
    }
}

impl PartialEq for ModelStats {
    /// Equal when every counter and every histogram's counts are equal.
    fn eq(&self, other: &Self) -> bool {
        self.summary() == other.summary() && self.histograms() == other.histograms()
    }
}

/// Every model's statistics for one run (or several merged runs/shards),
/// remembering the run's model order for output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aggregate {
    /// Statistics keyed by model id.
    pub models: BTreeMap<String, ModelStats>,
    order: Vec<String>,
    include_fallbacks: bool,
}

impl Aggregate {
    /// An aggregate with an (empty) entry per model, in this order.
    pub fn new(models: &[String]) -> Self {
        let mut agg = Aggregate::default();
        for m in models {
            agg.entry(m);
        }
        agg
    }

    fn entry(&mut self, model: &str) -> &mut ModelStats {
        if !self.models.contains_key(model) {
            self.order.push(model.to_string());
        }
        let include = self.include_fallbacks;
        self.models.entry(model.to_string()).or_insert_with(|| {
            let mut s = ModelStats::new(model);
            s.include_fallbacks = include;
            s
        })
    }

    /// Count fallback rows in the latency histograms too (`--include-fallbacks`).
    pub fn include_fallbacks(&mut self, yes: bool) {
        self.include_fallbacks = yes;
        for stats in self.models.values_mut() {
            stats.include_fallbacks = yes;
        }
    }

    /// An empty aggregate of the same models and settings.
    pub fn empty_like(&self) -> Aggregate {
        let mut agg = Aggregate::new(&self.order);
        agg.include_fallbacks(self.include_fallbacks);
        agg
    }

    /// Model ids in output order: the run's order, then models seen later.
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// Fold one row into its model's statistics (a new model is appended).
    pub fn record(&mut self, rec: &ResponseRecord) {
        self.entry(&rec.row.model).record(rec);
    }

    /// Add another aggregate, model by model; its new models go last.
    pub fn merge(&mut self, other: &Aggregate) -> Result<(), MetricsError> {
        for model in &other.order {
            if let Some(stats) = other.models.get(model) {
                self.entry(model).merge(stats)?;
            }
        }
        Ok(())
    }

    /// One summary per model, in output order.
    pub fn summaries(&self) -> Vec<ModelSummary> {
        self.order
            .iter()
            .filter_map(|m| self.models.get(m))
            .map(ModelStats::summary)
            .collect()
    }

    /// Serialized histograms keyed by model id.
    pub fn histograms(&self) -> BTreeMap<String, SerializedHistograms> {
        self.models
            .iter()
            .map(|(m, s)| (m.clone(), s.histograms()))
            .collect()
    }

    /// Rebuild from summaries (in output order) and their histograms.
    pub fn from_parts(
        summaries: &[ModelSummary],
        hists: &BTreeMap<String, SerializedHistograms>,
    ) -> Result<Aggregate, MetricsError> {
        let mut agg = Aggregate::default();
        for s in summaries {
            let h = hists
                .get(&s.model)
                .ok_or_else(|| MetricsError::MissingHistograms(s.model.clone()))?;
            let stats = ModelStats::from_parts(s, h)?;
            agg.entry(&s.model).merge(&stats)?;
        }
        Ok(agg)
    }
}

#[cfg(test)]
mod tests;
