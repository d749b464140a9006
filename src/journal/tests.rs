//! Unit tests of `journal`.

use super::*;
use crate::record::JobKey;

/// The flat mirror reads exactly what `ResponseRecord`'s own derive
/// reads, for full and minimal rows.
#[test]
fn flat_parse_matches_the_derive() {
    let key = JobKey {
        job: 7,
        case_index: 0,
        model_index: 0,
        repeat: 2,
    };
    let mut full = ResponseRecord {
        row: RequestRow::skipped(key, "s", "c\"1", "m/x", ErrorKind::RateLimited),
        text: "héllo\n".into(),
        reasoning: "why".into(),
        checks: vec![CheckResult {
            check: "contains".into(),
            passed: false,
            weight: 1.5,
            reason: "no".into(),
        }],
        itl_us: vec![1, 2, 3],
        grader_cost_usd: Some(0.25),
        tool_calls: vec![],
        params: None,
    };
    full.row.status = Status::Ok;
    full.row.ttft_ms = Some(1.25);
    full.row.output_tokens = Some(9);
    full.row.passed = Some(false);
    full.row.send_lag_ms = Some(0.5);
    let mut minimal = full.clone();
    minimal.reasoning.clear();
    minimal.checks.clear();
    minimal.itl_us.clear();
    minimal.grader_cost_usd = None;
    for rec in [full, minimal] {
        let line = serde_json::to_string(&rec).unwrap();
        let derived: ResponseRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(parse_line(&line).unwrap(), derived);
        assert_eq!(derived, rec);
    }
    // A journal from before `send_lag_ms`, with an unknown field.
    let old = r#"{"job":1,"suite":"s","case_id":"c","model":"m","repeat":0,"status":"ok","error_kind":null,"error_message":null,"attempts":1,"queue_ms":null,"ttft_ms":null,"duration_ms":null,"tpot_ms":null,"tokens_per_s":null,"input_tokens":null,"output_tokens":null,"reasoning_tokens":null,"cached_tokens":null,"cache_write_tokens":null,"cost_usd":null,"cost_source":"unknown","generation_id":null,"provider":null,"finish_reason":null,"passed":null,"score":null,"failed_checks":null,"text":"","future":1}"#;
    let derived: ResponseRecord = serde_json::from_str(old).unwrap();
    assert_eq!(parse_line(old).unwrap(), derived);
}
