//! Grading: run a case's checks on an answer, calling the grader model for
//! `judge` checks, and fill `passed`, `score` and `failed_checks`.

use crate::assert::{self, Answer};
use crate::gateway::ChatRequest;
use crate::record::{CheckResult, JobKey, ResponseRecord, Status};

use super::budget::resolve_cost;
use super::RunContext;

/// Run the case's checks on the answer (calling the grader for `judge`
/// checks) and fill `passed`, `score` and `failed_checks`.
pub(super) async fn grade(
    ctx: &RunContext,
    key: JobKey,
    request: &ChatRequest,
    record: &mut ResponseRecord,
) {
    let case = &ctx.suite.cases[key.case_index as usize];
    let checks = &ctx.checks[key.case_index as usize];
    if checks.is_empty() {
        return;
    }
    if record.row.status != Status::Ok {
        let kind = record.row.error_kind.map_or("error", |k| k.as_str());
        record.checks = vec![CheckResult {
            check: "answer".into(),
            passed: false,
            weight: 1.0,
            reason: format!("no answer: request failed ({kind})"),
        }];
        record.row.passed = Some(false);
        record.row.score = Some(0.0);
        record.row.failed_checks = assert::failed_summary(&record.checks);
        return;
    }
    let answer = Answer {
        text: &record.text,
        tool_calls: &record.tool_calls,
        ttft_ms: record.row.ttft_ms,
        duration_ms: record.row.duration_ms,
        cost_usd: record.row.cost_usd,
        output_tokens: record.row.output_tokens,
        tokens_per_s: record.row.tokens_per_s,
    };
    let mut results = Vec::with_capacity(checks.len());
    let mut grader_cost: Option<f64> = None;
    for check in checks {
        if !check.is_judge() {
            results.push(check.evaluate(&answer));
            continue;
        }
        let grader = check
            .grader()
            .or(ctx.suite.grader.as_deref())
            .unwrap_or_default()
            .to_string();
        let judge = ChatRequest::new(
            grader.clone(),
            assert::judge_messages(
                check.rubric().unwrap_or_default(),
                &request.messages,
                answer.text,
            ),
            crate::record::Params {
                max_tokens: Some(400),
                temperature: Some(0.0),
                ..Default::default()
            },
        );
        let (verdict, _) = super::job::send(ctx, &judge, super::job::send_id(ctx, key)).await;
        let (cost, _) = resolve_cost(&verdict, &grader, ctx.catalog.as_deref(), &ctx.suite);
        if let Some(c) = cost {
            grader_cost = Some(grader_cost.unwrap_or(0.0) + c);
        }
        let parsed = match &verdict.error {
            Some(e) => Err(format!(
                "grader {grader} failed: {} ({})",
                e.message, e.kind
            )),
            None => assert::parse_verdict(&verdict.text),
        };
        results.push(check.judge_result(parsed));
    }
    let (passed, score) = assert::score(&results, case.threshold);
    record.row.passed = Some(passed);
    record.row.score = Some(score);
    record.row.failed_checks = assert::failed_summary(&results);
    record.checks = results;
    record.grader_cost_usd = grader_cost;
}
