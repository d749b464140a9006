//! A small fixed run shared by the writers' tests: two models, five rows
//! covering a pass, a failed check (with XML-hostile text), an unknown cost,
//! an error and a skip.

use crate::metrics::Aggregate;
use crate::record::{
    CheckResult, CostSource, ErrorKind, JobKey, RequestRow, ResponseRecord, RunMeta, Status,
};

use super::RunSummary;

pub(crate) const GPT: &str = "openai/gpt-5";
pub(crate) const CLAUDE: &str = "anthropic/claude-sonnet-4";

fn base(job: u64, case: &str, model: &str) -> RequestRow {
    let key = JobKey {
        job,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    RequestRow::skipped(key, "support", case, model, ErrorKind::Cancelled)
}

struct Ok {
    ttft: f64,
    dur: f64,
    input: u64,
    out: u64,
    cost: Option<(f64, CostSource)>,
}

fn answered(job: u64, case: &str, model: &str, o: Ok, text: &str) -> ResponseRecord {
    let mut row = base(job, case, model);
    row.status = Status::Ok;
    row.error_kind = None;
    row.attempts = 1;
    row.queue_ms = Some(0.5);
    row.ttft_ms = Some(o.ttft);
    row.duration_ms = Some(o.dur);
    row.tpot_ms = Some((o.dur - o.ttft) / (o.out - 1) as f64);
    row.tokens_per_s = Some(o.out as f64 * 1000.0 / (o.dur - o.ttft));
    row.input_tokens = Some(o.input);
    row.output_tokens = Some(o.out);
    row.reasoning_tokens = Some(0);
    row.cached_tokens = Some(0);
    row.cache_write_tokens = Some(0);
    if let Some((c, s)) = o.cost {
        row.cost_usd = Some(c);
        row.cost_source = s;
    }
    row.generation_id = Some(format!("gen_{job}"));
    row.finish_reason = Some("stop".into());
    ResponseRecord {
        row,
        text: text.into(),
        reasoning: String::new(),
        checks: vec![],
        itl_us: vec![10_000, 12_000],
        grader_cost_usd: None,
        tool_calls: vec![],
        params: None,
    }
}

/// The rows of the fixed run, in journal order.
pub(crate) fn records() -> Vec<ResponseRecord> {
    let mut pass = answered(
        0,
        "refund-window",
        GPT,
        Ok {
            ttft: 412.0,
            dur: 1530.0,
            input: 1200,
            out: 100,
            cost: Some((0.0015, CostSource::Gateway)),
        },
        "Refunds are accepted within 30 days.",
    );
    pass.row.passed = Some(true);
    pass.row.score = Some(1.0);
    pass.checks = vec![CheckResult {
        check: "icontains".into(),
        passed: true,
        weight: 1.0,
        reason: String::new(),
    }];

    let unknown_cost = answered(
        1,
        "refund-window",
        CLAUDE,
        Ok {
            ttft: 8.5,
            dur: 95.0,
            input: 10,
            out: 4,
            cost: None,
        },
        "30 days",
    );

    let mut fail = answered(
        2,
        "order-json",
        GPT,
        Ok {
            ttft: 980.0,
            dur: 2100.0,
            input: 1200,
            out: 50,
            cost: Some((0.0018, CostSource::Catalog)),
        },
        "Use <b> & \"quotes\" 'x'\u{1b} end",
    );
    fail.row.passed = Some(false);
    fail.row.score = Some(0.5);
    fail.row.failed_checks = Some("is_json: expected JSON, got <text>".into());
    fail.checks = vec![
        CheckResult {
            check: "is_json".into(),
            passed: false,
            weight: 1.0,
            reason: "expected JSON, got <text>".into(),
        },
        CheckResult {
            check: "not-contains".into(),
            passed: true,
            weight: 1.0,
            reason: String::new(),
        },
    ];

    let mut error = answered(
        3,
        "order-json",
        CLAUDE,
        Ok {
            ttft: 1.0,
            dur: 2.0,
            input: 0,
            out: 2,
            cost: None,
        },
        "",
    );
    let r = &mut error.row;
    r.status = Status::Error;
    r.error_kind = Some(ErrorKind::RateLimited);
    r.error_message = Some("Too many requests & <slow down>".into());
    r.attempts = 3;
    (r.ttft_ms, r.duration_ms, r.tpot_ms, r.tokens_per_s) = (None, Some(250.0), None, None);
    (r.input_tokens, r.output_tokens) = (None, None);
    (r.reasoning_tokens, r.cached_tokens, r.cache_write_tokens) = (None, None, None);
    (r.generation_id, r.finish_reason) = (None, None);
    error.itl_us.clear();

    let key = JobKey {
        job: 4,
        case_index: 2,
        model_index: 1,
        repeat: 0,
    };
    let skipped = ResponseRecord::from_row(RequestRow::skipped(
        key,
        "support",
        "reset-steps",
        CLAUDE,
        ErrorKind::BudgetExceeded,
    ));
    vec![pass, unknown_cost, fail, error, skipped]
}

/// Metadata of the fixed run.
pub(crate) fn run_meta(simulated: bool) -> RunMeta {
    RunMeta {
        tool_version: "0.1.0".into(),
        suite: "support".into(),
        suite_path: "suites/support.yaml".into(),
        gateway_url: "http://127.0.0.1:8787/v1".into(),
        simulated,
        models: vec![GPT.into(), CLAUDE.into()],
        started_at: "2025-06-01T12:00:00Z".into(),
        ended_at: Some("2025-06-01T12:00:09Z".into()),
        planned_jobs: 5,
        ..RunMeta::default()
    }
}

/// The fixed run's summary and the aggregate it was made from.
pub(crate) fn summary(simulated: bool) -> (RunSummary, Aggregate) {
    let meta = run_meta(simulated);
    let mut agg = Aggregate::new(&meta.models);
    records().iter().for_each(|r| agg.record(r));
    (RunSummary::new(meta, &agg), agg)
}
