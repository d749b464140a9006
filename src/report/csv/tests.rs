//! Unit tests of `report::csv`.

use super::*;
use crate::report::test_support::{records, summary};

#[test]
fn request_columns_follow_request_row() {
    let row = &records()[0].row;
    let names: Vec<String> = ordered_fields(row)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        // The journal says `tool_call_count` (its `tool_calls` lists the calls).
        .map(|k| {
            if k == "tool_call_count" {
                "tool_calls".into()
            } else {
                k
            }
        })
        .collect();
    assert_eq!(names, REQUEST_COLUMNS);
}

#[test]
fn requests_csv_streams_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let mut w = RequestsCsv::create(&path).unwrap();
    let rows: Vec<RequestRow> = records().into_iter().map(|r| r.row).collect();
    for r in &rows {
        w.write(r).unwrap();
    }
    w.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "job,suite,case_id,model,repeat,status,error_kind,error_message,attempts,queue_ms,\
         ttft_ms,duration_ms,tpot_ms,tokens_per_s,input_tokens,output_tokens,\
         reasoning_tokens,cached_tokens,cache_write_tokens,cost_usd,cost_source,\
         generation_id,provider,finish_reason,passed,score,failed_checks,send_lag_ms,slo_met,tool_calls,truncated,\
         gateway_cost_usd,gateway_latency_ms,gateway_generation_ms,client_overhead_ms,\
         served_by,is_byok,fallback,fallback_chain,cost_mismatch,cached,carried,\
         cache_saved_usd,cache_probe"
    );
    assert_eq!(
        lines.next().unwrap(),
        "0,support,refund-window,openai/gpt-5,0,ok,,,1,0.500,412.000,1530.000,11.293,\
         89.445,1200,100,0,0,0,0.0015,gateway,gen_0,,stop,true,1.0,,,,,false,,,,,,,false,,false,false,false,,"
    );
    assert_eq!(
        lines.nth(2).unwrap(),
        "3,support,order-json,anthropic/claude-sonnet-4,0,error,rate_limited,\
         Too many requests & <slow down>,3,0.500,,250.000,,,,,,,,,unknown,,,,,,,,,,false,,,,,,,false,,false,false,false,,"
    );
    let back = read_requests(&path).unwrap();
    assert_eq!(back.len(), rows.len());
    for (got, want) in back.iter().zip(&rows) {
        // Times are rounded to the microsecond on disk; everything else is exact.
        assert_eq!(
            got.ttft_ms.map(|t| (t * 1000.0).round()),
            want.ttft_ms.map(|t| (t * 1000.0).round())
        );
        let strip = |r: &RequestRow| RequestRow {
            tpot_ms: None,
            tokens_per_s: None,
            ..r.clone()
        };
        assert_eq!(strip(got), strip(want));
    }
}

#[test]
fn empty_run_still_has_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    RequestsCsv::create(&path).unwrap().finish().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    assert!(read_requests(&path).unwrap().is_empty());
}

#[test]
fn summary_csv_is_flat_in_summary_order() {
    let (sum, _) = summary(false);
    let bytes = SummaryCsv.render(&sum, &mut std::iter::empty()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("model,requests,ok,errors,skipped,errors_by_kind,ttft_p50_ms,"));
    assert!(lines[0].ends_with(
        ",checked,passed,pass_rate,mean_score,grader_cost_usd,slo_checked,slo_met,\
         good_requests,goodput,cost_per_pass_usd,flaky_cases,pass_at_k,pass_all_k,\
         fallbacks,replayed,replay_saved_usd,cost_mismatches,cache_read_share,\
         cache_saved_usd,cache_probes,cache_probe_hits,cache_probe_read_share"
    ));
    assert!(lines[2]
        .starts_with("anthropic/claude-sonnet-4,3,1,1,1,budget_exceeded=1;rate_limited=1,8.5,"));
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let get = |name: &str| {
        row.get(header.iter().position(|h| h == name).unwrap())
            .unwrap()
    };
    assert_eq!(get("model"), "openai/gpt-5");
    assert_eq!(get("cost_usd"), "0.0033");
    assert_eq!(get("cost_sources"), "catalog=1;gateway=1");
    assert_eq!(get("pass_rate"), "0.5");
    assert_eq!(get("grader_cost_usd"), "");
}

#[test]
fn floats_are_written_without_binary_noise() {
    let cases = [
        (0.0004191000000000001, "0.0004191"),
        (0.1 + 0.2, "0.3"),
        (0.0000197, "0.0000197"),
        (1.5, "1.5"),
        (1.0, "1.0"),
        (0.0, "0.0"),
        (123_456.789_012_345_6, "123456.789012"),
        (-2.5e-9, "-0.0000000025"),
    ];
    for (v, want) in cases {
        assert_eq!(Sig12(v).to_string(), want, "{v:?}");
    }
}
