//! Unit tests of `sim::judge`.

use super::*;

fn request(rubric: &str, answer: &str) -> String {
    format!("<rubric>\n{rubric}\n</rubric>\n<question>\nWhat?\n</question>\n<answer>\n{answer}\n</answer>")
}

fn parse(v: &str) -> (bool, String) {
    let v: serde_json::Value = serde_json::from_str(v).unwrap();
    (
        v["pass"].as_bool().unwrap(),
        v["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn quoted_phrases_must_appear_case_insensitively() {
    let (pass, _) = parse(&verdict(&request(
        "Says \"30 days\" and \"refund\"",
        "Refunds within 30 DAYS.",
    )));
    assert!(pass);
    let (pass, reason) = parse(&verdict(&request(
        "Says \"30 days\" and \"receipt\"",
        "Within 30 days.",
    )));
    assert!(!pass);
    assert!(reason.contains("\"receipt\""), "{reason}");
}

#[test]
fn rubric_without_quotes_needs_a_non_empty_answer() {
    assert!(parse(&verdict(&request("Is polite.", "Hello there"))).0);
    assert!(!parse(&verdict(&request("Is polite.", "  "))).0);
    assert!(!parse(&verdict("no sections at all")).0);
}

#[test]
fn answer_may_contain_tag_like_text() {
    let answer = "Use <answer> tags </answer> like \"this\"";
    assert!(parse(&verdict(&request("Mentions \"like\"", answer))).0);
    assert_eq!(quoted("a \"b\" c \"d"), vec!["b"]);
}
