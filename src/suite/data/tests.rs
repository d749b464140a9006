//! Unit tests of `suite::data`.

use super::*;
use serde_json::json;

#[test]
fn csv_and_jsonl_rows_keep_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "id,question\nq1,\"Hi, there\"\nq2,Bye\n").unwrap();
    let rows = read_rows(&csv, "t.csv").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].values["question"], json!("Hi, there"));
    assert_eq!((rows[1].number, rows[1].line), (2, 3));
    let jl = dir.path().join("t.jsonl");
    std::fs::write(&jl, "{\"n\": 1}\n\n{\"n\": 2, \"s\": \"x\"}\n").unwrap();
    let rows = read_rows(&jl, "t.jsonl").unwrap();
    assert_eq!(rows[1].values["n"], json!(2));
    assert_eq!(rows[1].line, 3);
    std::fs::write(&jl, "{\"n\": 1}\n[1]\n").unwrap();
    let e = read_rows(&jl, "t.jsonl").unwrap_err();
    assert!(e.contains("t.jsonl line 2"), "{e}");
    assert!(read_rows(&dir.path().join("none.csv"), "none.csv")
        .unwrap_err()
        .contains("cannot read data file none.csv"));
}
