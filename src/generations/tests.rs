//! Unit tests of `generations`.

use super::*;
use crate::record::{ErrorKind, JobKey, Status};

fn rec(job: u64, ttft: f64, cost: f64) -> ResponseRecord {
    let key = JobKey {
        job,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    let mut row = RequestRow::skipped(key, "s", "c", "m", ErrorKind::Cancelled);
    row.status = Status::Ok;
    row.ttft_ms = Some(ttft);
    row.cost_usd = Some(cost);
    row.cost_source = CostSource::Gateway;
    row.generation_id = Some(format!("gen_{job}"));
    ResponseRecord::from_row(row)
}

fn line(job: u64, cost: f64, latency: f64) -> GenerationLine {
    GenerationLine {
        job,
        generation_id: format!("gen_{job}"),
        record: Some(GenerationRecord {
            cost_usd: Some(cost),
            latency_ms: Some(latency),
            provider: Some("p".into()),
            model: Some("m".into()),
            ..GenerationRecord::default()
        }),
        error: None,
    }
}

#[test]
fn lines_out_of_order_join_their_rows_and_flag_cost_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GenerationWriter::open(dir.path()).unwrap();
    w.append(&line(2, 0.003, 10.0)).unwrap();
    w.append(&line(0, 0.001, 40.0)).unwrap();
    w.append(&GenerationLine {
        job: 1,
        generation_id: "gen_1".into(),
        record: None,
        error: Some(LookupFailure::NotFound),
    })
    .unwrap();
    drop(w);
    let rows: Vec<RequestRow> = join(
        dir.path(),
        vec![
            rec(0, 50.0, 0.001),
            rec(1, 60.0, 0.002),
            rec(2, 70.0, 0.0035),
        ]
        .into_iter(),
        None,
    )
    .map(|r| r.row)
    .collect();
    assert_eq!(rows[0].cost_source, CostSource::Generation);
    assert_eq!(rows[0].client_overhead_ms, Some(10.0));
    assert_eq!(rows[0].served_by.as_deref(), Some("p"));
    assert!(!rows[0].cost_mismatch);
    assert_eq!(rows[1].cost_source, CostSource::Gateway, "no record");
    assert_eq!(rows[1].gateway_latency_ms, None);
    assert_eq!(rows[2].cost_usd, Some(0.003));
    assert!(rows[2].cost_mismatch, "0.0035 streamed vs 0.003");
    assert!(!rows[2].fallback);
}

#[test]
fn a_record_of_another_model_marks_a_fallback() {
    let mut r = rec(0, 50.0, 0.001).row;
    let mut l = line(0, 0.001, 40.0).record.unwrap();
    l.model = Some("other".into());
    apply(&mut r, &l);
    assert!(r.fallback);
    assert_eq!(r.fallback_chain.as_deref(), Some("m>other"));
}

#[test]
fn a_record_of_another_provider_than_ordered_first_marks_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GenerationWriter::open(dir.path()).unwrap();
    for job in 0..3 {
        w.append(&line(job, 0.001, 40.0)).unwrap();
    }
    drop(w);
    let join_with = |order: serde_json::Value| -> Vec<RequestRow> {
        let mut routed = rec(2, 50.0, 0.001);
        routed.row.fallback = true;
        routed.row.fallback_chain = Some("x>p".into());
        let records = vec![rec(0, 50.0, 0.001), rec(1, 50.0, 0.001), routed];
        let options = serde_json::json!({ "order": order, "user": "u" });
        join(dir.path(), records.into_iter(), Some(&options))
            .map(|r| r.row)
            .collect()
    };
    // The records say `p` served; the run asked for `bedrock` first.
    let rows = join_with(serde_json::json!(["bedrock", "p"]));
    assert!(rows[0].fallback && rows[1].fallback);
    assert_eq!(rows[0].fallback_chain.as_deref(), Some("bedrock>p"));
    assert_eq!(
        rows[2].fallback_chain.as_deref(),
        Some("x>p"),
        "the gateway's own chain stands"
    );
    // Asked for `p` first (names compare without case): no fallback.
    let rows = join_with(serde_json::json!(["P", "bedrock"]));
    assert!(!rows[0].fallback && !rows[1].fallback);
}

#[test]
fn the_streamed_provider_counts_when_there_is_no_record() {
    let mut r = rec(0, 50.0, 0.001).row;
    r.check_first_choice("bedrock");
    assert!(!r.fallback, "no provider known: nothing to say");
    r.provider = Some("vertex".into());
    r.check_first_choice("bedrock");
    assert_eq!(r.fallback_chain.as_deref(), Some("bedrock>vertex"));
    assert_eq!(
        crate::record::first_choice(Some(&serde_json::json!({"order": ["a", "b"]}))),
        Some("a")
    );
    assert_eq!(
        crate::record::first_choice(Some(&serde_json::json!({"only": ["a"]}))),
        None
    );
}
