//! Unit tests of `report::json`.

use super::*;
use crate::report::test_support::{records, summary};

#[test]
fn summary_json_round_trips() {
    let (sum, _) = summary(true);
    let bytes = SummaryJson
        .render(&sum, &mut records().into_iter())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SummaryJson.file_name());
    std::fs::write(&path, &bytes).unwrap();
    let back = read_summary(&path).unwrap();
    assert_eq!(back, sum);
    // ...and the histograms inside rebuild the exact aggregate.
    let (_, agg) = summary(true);
    assert_eq!(back.aggregate().unwrap(), agg);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("{\n  \"schema_version\": 1,\n  \"run\": {"));
}

#[test]
fn newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.json");
    std::fs::write(&path, r#"{"schema_version": 2, "whatever": true}"#).unwrap();
    let err = read_summary(&path).unwrap_err();
    assert!(matches!(err, ReportError::Schema { found: 2, .. }));
    assert!(err.to_string().contains("upgrade evalgate"));
    std::fs::write(&path, "not json").unwrap();
    assert!(matches!(read_summary(&path), Err(ReportError::Json { .. })));
}
