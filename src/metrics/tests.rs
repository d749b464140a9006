//! Tests for per-model statistics: percentiles, exact merges, round trips.

use super::*;
use crate::record::{CostSource, JobKey, RequestRow};

/// An ok row with the given TTFT/duration (ms), output tokens and cost.
pub(crate) fn ok_rec(
    model: &str,
    ttft: f64,
    dur: f64,
    out: u64,
    cost: Option<f64>,
) -> ResponseRecord {
    let key = JobKey {
        job: 0,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    let mut row = RequestRow::skipped(key, "s", "c", model, ErrorKind::Cancelled);
    row.status = Status::Ok;
    row.error_kind = None;
    row.attempts = 1;
    row.queue_ms = Some(0.25);
    row.ttft_ms = Some(ttft);
    row.duration_ms = Some(dur);
    row.tpot_ms = Some((dur - ttft) / out.saturating_sub(1).max(1) as f64);
    row.tokens_per_s = Some(out as f64 * 1000.0 / (dur - ttft).max(1.0));
    row.input_tokens = Some(10);
    row.output_tokens = Some(out);
    row.cost_usd = cost;
    row.cost_source = if cost.is_some() {
        CostSource::Gateway
    } else {
        CostSource::Unknown
    };
    row.passed = Some(out.is_multiple_of(2));
    row.score = Some(if out.is_multiple_of(2) { 1.0 } else { 0.5 });
    ResponseRecord {
        row,
        text: "answer".into(),
        reasoning: String::new(),
        checks: vec![],
        itl_us: vec![1000, 2000, 3000],
        grader_cost_usd: Some(0.0001),
        tool_calls: vec![],
        params: None,
    }
}

fn err_rec(model: &str, kind: ErrorKind, status: Status) -> ResponseRecord {
    let key = JobKey {
        job: 1,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    let mut row = RequestRow::skipped(key, "s", "c", model, kind);
    row.status = status;
    row.duration_ms = Some(30_000.0);
    ResponseRecord::from_row(row)
}

fn mixed(model: &str, n: u64, seed: u64) -> Vec<ResponseRecord> {
    let mut out = Vec::new();
    for i in 0..n {
        let x = (i * 7919 + seed * 104_729) % 997;
        let cost = (!x.is_multiple_of(5)).then_some(0.000_123_456_7 * (x as f64 + 1.0));
        out.push(ok_rec(
            model,
            100.0 + x as f64 * 3.3,
            900.0 + x as f64 * 17.1,
            5 + x % 300,
            cost,
        ));
        if x.is_multiple_of(11) {
            out.push(err_rec(model, ErrorKind::RateLimited, Status::Error));
        }
        if x.is_multiple_of(13) {
            out.push(err_rec(model, ErrorKind::BudgetExceeded, Status::Skipped));
        }
    }
    out
}

#[test]
fn percentiles_from_known_samples() {
    let mut s = ModelStats::new("m");
    for ms in 1..=100 {
        s.record(&ok_rec("m", ms as f64, 1000.0 + ms as f64, 2, Some(0.01)));
    }
    let sum = s.summary();
    let close = |got: Option<f64>, want: f64| {
        let g = got.expect("has samples");
        assert!(
            (g - want).abs() <= want * 0.001 + 1e-9,
            "got {g}, want {want}"
        );
    };
    close(sum.ttft_p50_ms, 50.0);
    close(sum.ttft_p75_ms, 75.0);
    close(sum.ttft_p90_ms, 90.0);
    close(sum.ttft_p95_ms, 95.0);
    close(sum.ttft_p99_ms, 99.0);
    close(sum.ttft_max_ms, 100.0);
    close(sum.ttft_mean_ms, 50.5);
    close(sum.duration_p50_ms, 1050.0);
    close(sum.queue_p50_ms, 0.25);
    close(sum.itl_p50_ms, 2.0);
    close(sum.itl_p95_ms, 3.0);
    assert_eq!(sum.output_tokens_p50, Some(2));
    assert_eq!(s.ttft_p50_ms(), sum.ttft_p50_ms);
    // Values below 2048 µs are exact at 3 significant figures.
    assert_eq!(sum.queue_max_ms, Some(0.25));
    assert_eq!(sum.itl_p50_ms, Some(2.0));
    assert_eq!(
        (sum.requests, sum.ok, sum.checked, sum.passed),
        (100, 100, 100, 100)
    );
    assert_eq!(sum.pass_rate, Some(1.0));
    assert_eq!(sum.cost_usd, Some(1.0));
    assert_eq!(sum.cost_per_request_usd, Some(0.01));
    assert_eq!(sum.cost_per_1k_output_tokens_usd, Some(5.0));
    assert_eq!(sum.input_tokens, 1000);
    assert_eq!(sum.grader_cost_usd, Some(0.01));
}

#[test]
fn empty_has_no_percentiles() {
    let sum = ModelStats::new("m").summary();
    assert_eq!(sum.ttft_p50_ms, None);
    assert_eq!(sum.ttft_mean_ms, None);
    assert_eq!(sum.cost_usd, None);
    assert_eq!(sum.pass_rate, None);
    assert_eq!(sum.mean_score, None);
}

#[test]
fn errors_are_counted_not_timed() {
    let mut s = ModelStats::new("m");
    s.record(&ok_rec("m", 100.0, 500.0, 3, Some(0.5)));
    s.record(&err_rec("m", ErrorKind::TimeoutTotal, Status::Error));
    s.record(&err_rec("m", ErrorKind::Cancelled, Status::Skipped));
    let sum = s.summary();
    assert_eq!(
        (sum.requests, sum.ok, sum.errors, sum.skipped),
        (3, 1, 1, 1)
    );
    assert_eq!(sum.errors_by_kind.get("timeout_total"), Some(&1));
    assert_eq!(sum.errors_by_kind.get("cancelled"), Some(&1));
    // The 30 s timeout is not a latency sample.
    assert!(sum.duration_max_ms.unwrap() < 501.0);
    // The sent error row has no cost: unknown, not zero; the skipped row was never sent.
    assert_eq!(sum.cost_unknown_rows, 1);
    assert_eq!(sum.cost_per_request_usd, Some(0.5));
    assert_eq!(sum.cost_sources.get("unknown"), Some(&1));
    assert_eq!(sum.cost_sources.get("gateway"), Some(&1));
}

#[test]
fn unknown_cost_is_not_zero() {
    let mut s = ModelStats::new("m");
    s.record(&ok_rec("m", 100.0, 500.0, 4, Some(0.2)));
    s.record(&ok_rec("m", 100.0, 500.0, 4, None));
    let sum = s.summary();
    assert_eq!(sum.cost_usd, Some(0.2));
    assert_eq!(sum.cost_unknown_rows, 1);
    // Per request over the rows with a known cost, not diluted by the unknown one.
    assert_eq!(sum.cost_per_request_usd, Some(0.2));
    assert_eq!(sum.cost_per_1k_output_tokens_usd, Some(50.0));

    let mut none = ModelStats::new("m");
    none.record(&ok_rec("m", 100.0, 500.0, 4, None));
    let sum = none.summary();
    assert_eq!((sum.cost_usd, sum.cost_per_request_usd), (None, None));
    assert_eq!(sum.cost_unknown_rows, 1);
}

#[test]
fn merge_equals_recording_the_union() {
    let a = mixed("m", 400, 1);
    let b = mixed("m", 300, 2);
    let (mut sa, mut sb, mut all) = (
        ModelStats::new("m"),
        ModelStats::new("m"),
        ModelStats::new("m"),
    );
    a.iter().for_each(|r| sa.record(r));
    b.iter().for_each(|r| sb.record(r));
    b.iter().chain(&a).for_each(|r| all.record(r));
    let mut merged = ModelStats::new("m");
    merged.merge(&sa).unwrap();
    merged.merge(&sb).unwrap();
    assert_eq!(merged.summary(), all.summary());
    assert_eq!(merged.histograms(), all.histograms());
    assert!(all.summary().errors > 0 && all.summary().skipped > 0);
    assert!(all.summary().cost_unknown_rows > 0);

    let mut wrong = ModelStats::new("other");
    assert!(matches!(
        wrong.merge(&sa),
        Err(MetricsError::ModelMismatch { .. })
    ));
}

#[test]
fn from_parts_round_trips() {
    let mut s = ModelStats::new("m");
    mixed("m", 500, 3).iter().for_each(|r| s.record(r));
    let back = ModelStats::from_parts(&s.summary(), &s.histograms()).unwrap();
    assert_eq!(back.summary(), s.summary());
    assert_eq!(back.histograms(), s.histograms());
    assert_eq!(back, s);
    // The rebuilt histograms keep growing: a larger value still records.
    let mut back = back;
    back.record(&ok_rec("m", 3_600_000.0, 7_200_000.0, 50_000, Some(1.0)));
    let max = back.summary().ttft_max_ms.unwrap();
    assert!((max - 3_600_000.0).abs() <= 3_600.0, "{max}");

    let mut bad = s.histograms();
    bad.ttft_us = "not base64!".into();
    assert!(matches!(
        ModelStats::from_parts(&s.summary(), &bad),
        Err(MetricsError::Corrupt { .. })
    ));
}

#[test]
fn aggregate_keeps_run_order_and_merges() {
    let models = vec!["z/last".to_string(), "a/first".to_string()];
    let mut one = Aggregate::new(&models);
    let mut two = Aggregate::new(&models);
    let mut all = Aggregate::new(&models);
    for (i, r) in mixed("z/last", 50, 4)
        .into_iter()
        .chain(mixed("a/first", 40, 5))
        .enumerate()
    {
        all.record(&r);
        if i % 2 == 0 {
            one.record(&r)
        } else {
            two.record(&r)
        }
    }
    two.record(&ok_rec("new/model", 1.0, 2.0, 2, None));
    all.record(&ok_rec("new/model", 1.0, 2.0, 2, None));
    one.merge(&two).unwrap();
    let names: Vec<_> = one.summaries().into_iter().map(|s| s.model).collect();
    assert_eq!(names, ["z/last", "a/first", "new/model"]);
    assert_eq!(one, all);
    let rebuilt = Aggregate::from_parts(&one.summaries(), &one.histograms()).unwrap();
    assert_eq!(rebuilt, one);
    assert!(matches!(
        Aggregate::from_parts(&one.summaries(), &BTreeMap::new()),
        Err(MetricsError::MissingHistograms(_))
    ));
}
