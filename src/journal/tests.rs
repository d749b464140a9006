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

fn row_of(job: u64, text: &str) -> ResponseRecord {
    let key = JobKey {
        job,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    let mut rec = ResponseRecord::from_row(RequestRow::skipped(
        key,
        "s",
        "c",
        "m",
        ErrorKind::Cancelled,
    ));
    rec.text = text.into();
    rec
}

/// A journal in scrambled completion order, every tenth job journaled a
/// second time later on, a torn last line: read back by job the same way
/// whether the index is sorted in one chunk or spilled in many.
#[test]
fn job_order_is_by_job_with_first_lines_winning_in_one_chunk_or_many() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = JournalWriter::open(dir.path()).unwrap();
    let n = 2_000u64;
    for i in 0..n {
        w.append(&row_of((i * 7_919) % n, "first")).unwrap();
    }
    for job in (0..n).step_by(10) {
        w.append(&row_of(job, "second")).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let mut file = OpenOptions::new()
        .append(true)
        .open(dir.path().join(FILE_NAME))
        .unwrap();
    // A crash mid-line of a job not journaled before: it is left out.
    file.write_all(b"{\"job\":2000,\"suite\":\"s\",\"ca")
        .unwrap();
    for chunk in [1, 3, 64, crate::job_index::CHUNK] {
        let order = JobOrder::build_chunked(dir.path(), chunk).unwrap();
        let recs: Vec<ResponseRecord> = order.records().unwrap().collect();
        let jobs: Vec<u64> = recs.iter().map(|r| r.row.job).collect();
        assert_eq!(jobs, (0..n).collect::<Vec<_>>(), "chunk {chunk}");
        assert!(recs.iter().all(|r| r.text == "first"), "chunk {chunk}");
        // The second pass (the run directory makes several) reads the same.
        assert_eq!(order.records().unwrap().count() as u64, n);
    }
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        entries, 1,
        "only the journal: the sort's files have no name"
    );
}

#[test]
fn job_order_of_a_run_without_a_journal_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let order = JobOrder::build(dir.path()).unwrap();
    assert_eq!(order.records().unwrap().count(), 0);
}
