//! Unit tests of `generations`.

use super::*;
use std::collections::BTreeMap;

use crate::record::{first_choice, provider_order, ErrorKind, JobKey, Status};

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
        &BTreeMap::new(),
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

/// Lines in the order lookups ended (backwards), most rows with none
/// (their lookups were dropped) and one torn line: every row that has a
/// line gets it.
#[test]
fn rows_without_lines_cost_nothing_and_scrambled_lines_all_join() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GenerationWriter::open(dir.path()).unwrap();
    let with_line: Vec<u64> = (0..5_000u64).filter(|j| j % 7 == 3).collect();
    // Backwards: the farthest possible from job order.
    for &job in with_line.iter().rev() {
        w.append(&line(job, 0.001, job as f64)).unwrap();
    }
    drop(w);
    let mut file = OpenOptions::new()
        .append(true)
        .open(dir.path().join(FILE_NAME))
        .unwrap();
    file.write_all(b"{\"job\":4,\"generation_id\":\"gen_4\",\"rec")
        .unwrap();
    let rows: Vec<RequestRow> = join(
        dir.path(),
        (0..5_000).map(|j| rec(j, 50.0, 0.001)),
        &BTreeMap::new(),
    )
    .map(|r| r.row)
    .collect();
    for row in &rows {
        let joined = row.cost_source == CostSource::Generation;
        assert_eq!(joined, row.job % 7 == 3, "job {}", row.job);
        if joined {
            assert_eq!(row.gateway_latency_ms, Some(row.job as f64));
        }
    }
}

#[test]
fn a_row_served_by_another_provider_than_its_first_choice_is_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GenerationWriter::open(dir.path()).unwrap();
    for job in 0..3 {
        w.append(&line(job, 0.001, 40.0)).unwrap();
    }
    drop(w);
    let join_with = |first: &str| -> Vec<RequestRow> {
        let mut routed = rec(2, 50.0, 0.001);
        routed.row.fallback = true;
        routed.row.fallback_chain = Some("x>p".into());
        let mut no_record = rec(3, 50.0, 0.001);
        no_record.row.provider = Some("vertex".into());
        let mut replayed = rec(4, 50.0, 0.001);
        replayed.row.cached = true;
        replayed.row.provider = Some("vertex".into());
        let records = vec![
            rec(0, 50.0, 0.001),
            rec(1, 50.0, 0.001),
            routed,
            no_record,
            replayed,
        ];
        let first = BTreeMap::from([("m".to_string(), first.to_string())]);
        join(dir.path(), records.into_iter(), &first)
            .map(|r| r.row)
            .collect()
    };
    // The records say `p` served model `m`, whose first choice is `bedrock`.
    let rows = join_with("bedrock");
    assert!(rows[0].fallback && rows[1].fallback);
    assert_eq!(rows[0].fallback_chain.as_deref(), Some("bedrock>p"));
    assert_eq!(
        rows[2].fallback_chain.as_deref(),
        Some("x>p"),
        "the gateway's own chain stands"
    );
    assert_eq!(
        rows[3].fallback_chain.as_deref(),
        Some("bedrock>vertex"),
        "no record: the stream's provider"
    );
    assert!(
        !rows[4].fallback,
        "a replayed answer was judged when recorded"
    );
    // First choice `p` (names compare without case): no fallback.
    let rows = join_with("P");
    assert!(!rows[0].fallback && !rows[1].fallback);
}

#[test]
fn the_first_choice_is_the_first_of_the_order_that_serves_the_model() {
    let order = ["anthropic", "bedrock", "vertex"];
    // gemini: only vertex serves it; gpt-5: none of them.
    assert_eq!(
        first_choice(&order, Some(&["Vertex", "google"])),
        Some("vertex")
    );
    assert_eq!(first_choice(&order, Some(&["openai", "azure"])), None);
    assert_eq!(
        first_choice(&order, None),
        Some("anthropic"),
        "not known: order[0]"
    );
    assert_eq!(first_choice(&[], None), None);
    let opts = serde_json::json!({"order": ["a", "b"], "only": ["c"]});
    assert_eq!(provider_order(Some(&opts)), ["a", "b"]);
    assert!(provider_order(Some(&serde_json::json!({"only": ["a"]}))).is_empty());
}

#[test]
fn a_row_without_any_provider_is_left_alone() {
    let mut r = rec(0, 50.0, 0.001).row;
    r.check_first_choice("bedrock");
    assert!(!r.fallback);
}

/// Lines scrambled and some written twice (a resumed run looks a job up
/// again: the first line wins), the index spilled in chunks of 5; rows in
/// job order, then the same rows out of order (the walk starts over).
#[test]
fn a_spilled_index_joins_like_one_in_memory_and_rows_out_of_order_still_join() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GenerationWriter::open(dir.path()).unwrap();
    let n = 1_000u64;
    for i in 0..n {
        let job = (i * 7_919) % n;
        if !job.is_multiple_of(3) {
            w.append(&line(job, 0.001, job as f64)).unwrap();
        }
    }
    for job in (0..n).filter(|j| !j.is_multiple_of(3)).step_by(4) {
        w.append(&line(job, 0.001, -1.0)).unwrap();
    }
    drop(w);
    let check = |rows: &[RequestRow]| {
        for row in rows {
            let joined = row.cost_source == CostSource::Generation;
            assert_eq!(joined, !row.job.is_multiple_of(3), "job {}", row.job);
            if joined {
                assert_eq!(
                    row.gateway_latency_ms,
                    Some(row.job as f64),
                    "first line wins"
                );
            }
        }
    };
    for chunk in [5, crate::job_index::CHUNK] {
        let rows: Vec<RequestRow> = join_chunked(
            dir.path(),
            (0..n).map(|j| rec(j, 50.0, 0.001)),
            &BTreeMap::new(),
            chunk,
        )
        .map(|r| r.row)
        .collect();
        assert_eq!(rows.len() as u64, n);
        check(&rows);
        let scrambled: Vec<RequestRow> = join_chunked(
            dir.path(),
            (0..n).map(|i| rec((i * 13) % n, 50.0, 0.001)),
            &BTreeMap::new(),
            chunk,
        )
        .map(|r| r.row)
        .collect();
        check(&scrambled);
    }
}
