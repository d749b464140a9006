//! Unit tests for the answer checks: every type passing and failing,
//! negation, scoring, and the judge protocol.

use serde_json::{json, Value};

use super::*;
use crate::record::CheckResult;
use crate::record::{AssertSpec, Message};

fn spec(kind: &str, value: Option<Value>) -> AssertSpec {
    AssertSpec {
        kind: kind.into(),
        value,
        ..AssertSpec::default()
    }
}

fn check(kind: &str, value: Value) -> Check {
    let value = if value.is_null() { None } else { Some(value) };
    compile(&spec(kind, value)).unwrap_or_else(|e| panic!("{kind}: {e}"))
}

fn run(c: &Check, text: &str) -> CheckResult {
    c.evaluate(&Answer {
        text,
        ..Answer::default()
    })
}

/// Asserts the check passes on `good` and fails on `bad` with `reason`.
fn both(kind: &str, value: Value, good: &str, bad: &str, reason: &str) {
    let c = check(kind, value);
    let ok = run(&c, good);
    assert!(ok.passed, "{kind} should pass on {good:?}: {}", ok.reason);
    assert_eq!(ok.reason, "");
    let no = run(&c, bad);
    assert!(!no.passed, "{kind} should fail on {bad:?}");
    assert_eq!(no.reason, reason, "{kind}");
    assert_eq!(no.check, kind);
}

#[test]
fn text_checks_pass_and_fail() {
    both(
        "equals",
        json!("Paris"),
        "  Paris\n",
        "Paris, France",
        "expected to equal \"Paris\", got \"Paris, France\"",
    );
    both(
        "contains",
        json!("30 days"),
        "within 30 days.",
        "within 30 Days",
        "expected to contain \"30 days\"",
    );
    both(
        "icontains",
        json!("30 days"),
        "Within 30 DAYS",
        "a month",
        "expected to contain \"30 days\" (any case)",
    );
    both(
        "contains",
        json!(30),
        "in 30 days",
        "in thirty days",
        "expected to contain \"30\"",
    );
    both(
        "contains_any",
        json!(["refund", "return"]),
        "a return label",
        "no",
        "expected to contain one of \"refund\", \"return\"",
    );
    both(
        "contains_all",
        json!(["refund", "30"]),
        "refund in 30 days",
        "refund soon",
        "expected to contain \"30\"",
    );
    both(
        "icontains_any",
        json!(["REFUND", "x9"]),
        "Refund it",
        "nothing",
        "expected to contain one of \"REFUND\", \"x9\" (any case)",
    );
    both(
        "icontains_all",
        json!(["Hold", "RESET"]),
        "hold the reset button",
        "hold it",
        "expected to contain \"RESET\" (any case)",
    );
    both(
        "starts_with",
        json!("Yes"),
        "Yes, it does.",
        "No.",
        "expected to start with \"Yes\"",
    );
    both(
        "regex",
        json!("(?i)hold .*reset"),
        "Hold the RESET pin",
        "press reset",
        "expected to match /(?i)hold .*reset/",
    );
}

#[test]
fn json_checks_pass_and_fail() {
    both(
        "is_json",
        Value::Null,
        "{\"a\": 1}",
        "{a: 1}",
        "not valid JSON: key must be a string at line 1 column 2",
    );
    // A single fenced block counts; prose around it is allowed.
    let fenced = "Here you go:\n```json\n{\"quantity\": 2, \"city\": \"Berlin\"}\n```\n";
    assert!(run(&check("is_json", Value::Null), fenced).passed);
    assert!(
        !run(
            &check("is_json", Value::Null),
            "```json\n{}\n```\n```json\n{}\n```"
        )
        .passed
    );
    assert_eq!(
        run(&check("is_json", Value::Null), "").reason,
        "not valid JSON: EOF while parsing a value at line 1 column 0"
    );

    let schema = json!({"type": "object", "required": ["quantity", "city"], "properties": {"quantity": {"type": "integer"}}});
    let c = check("json_schema", schema);
    assert!(run(&c, fenced).passed);
    let bad = run(&c, "{\"quantity\": \"two\", \"city\": \"Berlin\"}");
    assert!(!bad.passed);
    assert_eq!(
        bad.reason,
        "schema violation at /quantity: \"two\" is not of type \"integer\""
    );
    let missing = run(&c, "{\"quantity\": 2}");
    assert_eq!(
        missing.reason,
        "schema violation at /: \"city\" is a required property"
    );
    assert!(run(&c, "nope").reason.starts_with("not valid JSON: "));

    both(
        "json_path",
        json!({"path": "$.quantity", "equals": 2}),
        "{\"quantity\": 2.0}",
        "{\"quantity\": 3}",
        "$.quantity expected 2, got 3",
    );
    both(
        "json_path",
        json!({"path": "$.city"}),
        "{\"city\": \"Berlin\"}",
        "{\"town\": \"Berlin\"}",
        "$.city not found",
    );
    both(
        "json_path",
        json!("$.items[*].sku"),
        "{\"items\": [{\"sku\": \"X2\"}]}",
        "{\"items\": []}",
        "$.items[*].sku not found",
    );
    let any = check(
        "json_path",
        json!({"path": "$.items[*].sku", "equals": "B"}),
    );
    assert!(run(&any, "{\"items\": [{\"sku\": \"A\"}, {\"sku\": \"B\"}]}").passed);
}

#[test]
fn metric_checks_pass_fail_and_missing() {
    let m = |ttft: Option<f64>| Answer {
        text: "x",
        tool_calls: &[],
        ttft_ms: ttft,
        duration_ms: Some(4500.0),
        cost_usd: Some(0.0021),
        output_tokens: Some(812),
        tokens_per_s: Some(42.25),
    };
    let ttft = check("max_ttft_ms", json!(3000));
    assert!(ttft.evaluate(&m(Some(250.0))).passed);
    assert_eq!(
        ttft.evaluate(&m(Some(3120.4))).reason,
        "ttft 3120.4 ms > 3000 ms"
    );
    let missing = ttft.evaluate(&m(None));
    assert!(!missing.passed);
    assert_eq!(missing.reason, "ttft was not measured for this answer");
    // A missing measurement fails even when negated.
    assert!(
        !check("not-max_ttft_ms", json!(3000))
            .evaluate(&m(None))
            .passed
    );

    let a = m(Some(1.0));
    assert!(check("max_duration_ms", json!(5000)).evaluate(&a).passed);
    assert_eq!(
        check("max_duration_ms", json!(4000)).evaluate(&a).reason,
        "duration 4500.0 ms > 4000 ms"
    );
    assert!(check("max_cost_usd", json!(0.01)).evaluate(&a).passed);
    assert_eq!(
        check("max_cost_usd", json!(0.001)).evaluate(&a).reason,
        "cost 0.0021 USD > 0.001 USD"
    );
    assert!(check("max_output_tokens", json!(1000)).evaluate(&a).passed);
    assert_eq!(
        check("max_output_tokens", json!(800)).evaluate(&a).reason,
        "output tokens 812 > 800"
    );
    assert!(check("min_tokens_per_s", json!(40)).evaluate(&a).passed);
    assert_eq!(
        check("min_tokens_per_s", json!(50)).evaluate(&a).reason,
        "tokens/s 42.2 < 50"
    );
}

#[test]
fn negation_flips_and_explains() {
    let c = check("not-contains", json!("```"));
    assert!(run(&c, "{\"a\": 1}").passed);
    let r = run(&c, "```json\n{}\n```");
    assert!(!r.passed);
    assert_eq!(r.check, "not-contains");
    assert_eq!(r.reason, "not expected: answer contains \"```\"");
    let re = check("not-regex", json!("(?i)as an ai"));
    assert_eq!(
        run(&re, "As an AI model").reason,
        "not expected: answer matches /(?i)as an ai/ at \"As an AI\""
    );
    assert!(run(&check("not-is_json", Value::Null), "plain words").passed);
}

#[test]
fn compile_errors_say_the_fix() {
    let err = |kind: &str, value: Option<Value>| compile(&spec(kind, value)).unwrap_err();
    assert_eq!(
        err("icontain", Some(json!("x"))),
        "unknown check type `icontain` (did you mean `icontains`?)"
    );
    assert!(
        err("banana", None).starts_with("unknown check type `banana`: use one of equals, contains")
    );
    assert_eq!(
        err("contains_any", Some(json!("x"))),
        "`contains_any` needs a list of strings, e.g. value: [refund, 30 days]"
    );
    assert_eq!(
        err("contains", None),
        "`contains` needs a `value` (a string)"
    );
    assert!(err("regex", Some(json!("(unclosed")))
        .starts_with("`regex` value is not a valid regular expression: "));
    assert!(err("json_schema", Some(json!({"type": 5})))
        .starts_with("`json_schema` value is not a valid JSON Schema: "));
    assert!(err("json_schema", Some(json!("object")))
        .starts_with("`json_schema` needs a JSON Schema object"));
    assert!(err("json_path", Some(json!({"path": "quantity"})))
        .starts_with("`json_path` path `quantity` is not a valid JSONPath"));
    assert_eq!(
        err("json_path", Some(json!({"path": "$.a", "equal": 1}))),
        "`json_path` has unknown key `equal`: use `path` and optionally `equals`"
    );
    assert_eq!(
        err("max_ttft_ms", Some(json!("fast"))),
        "`max_ttft_ms` needs a number as its value, e.g. value: 3000"
    );
    assert_eq!(
        err("is_json", Some(json!(true))),
        "`is_json` takes no value: remove `value`"
    );
    assert_eq!(
        err("judge", Some(json!(" "))),
        "`judge` needs a rubric as its value: say what a good answer does"
    );
    let mut w = spec("contains", Some(json!("x")));
    w.weight = Some(-1.0);
    assert_eq!(
        compile(&w).unwrap_err(),
        "`contains` has weight -1: use a number >= 0 (default 1)"
    );
    let mut g = spec("contains", Some(json!("x")));
    g.grader = Some("openai/gpt-5-mini".into());
    assert!(compile(&g)
        .unwrap_err()
        .contains("does not take a `grader`"));
}

#[test]
fn accessors() {
    let mut s = spec("judge", Some(json!("Says \"30 days\"")));
    s.grader = Some("sim/judge".into());
    s.weight = Some(2.0);
    let c = compile(&s).unwrap();
    assert!(c.is_judge());
    assert_eq!(c.rubric(), Some("Says \"30 days\""));
    assert_eq!(c.grader(), Some("sim/judge"));
    assert_eq!(c.weight(), 2.0);
    assert_eq!(c.label(), "judge");
    let plain = check("contains", json!("x"));
    assert!(!plain.is_judge());
    assert_eq!(plain.rubric(), None);
    assert_eq!(plain.weight(), 1.0);
    // evaluate() cannot grade a judge check.
    let r = run(&c, "anything");
    assert!(!r.passed);
    assert!(r.reason.contains("need a grader"));
}

#[test]
fn judge_results_apply_negation_and_errors() {
    let c = check("judge", json!("Polite"));
    let r = c.judge_result(Ok((true, "It is polite.".into())));
    assert!(r.passed);
    assert_eq!(r.reason, "grader: It is polite.");
    let r = c.judge_result(Ok((false, "Rude.".into())));
    assert!(!r.passed);
    assert_eq!(r.reason, "grader: Rude.");
    let r = c.judge_result(Err("HTTP 429 rate limited".into()));
    assert!(!r.passed);
    assert_eq!(r.reason, "grader error: HTTP 429 rate limited");
    let n = check("not-judge", json!("Mentions a competitor"));
    assert!(n.judge_result(Ok((false, "No competitor.".into()))).passed);
    let r = n.judge_result(Ok((true, "Names Globex.".into())));
    assert!(!r.passed);
    assert_eq!(r.reason, "not expected: grader: Names Globex.");
    assert!(!n.judge_result(Err("timeout".into())).passed);
}

#[test]
fn judge_messages_follow_the_protocol() {
    let conv = vec![
        Message::text("system", "Be brief."),
        Message::text("user", "First?"),
        Message::text("assistant", "Yes."),
        Message::text("user", "What is the refund window?"),
    ];
    let msgs = judge_messages("Says \"30 days\"", &conv, "30 days.");
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].role, "system");
    assert_eq!(
        msgs[0].content.as_text(),
        r#"You are a strict grader. Decide whether the ANSWER satisfies the RUBRIC. Reply with only a JSON object: {"pass": true or false, "reason": "<one sentence>"}"#
    );
    assert_eq!(msgs[1].role, "user");
    assert_eq!(
        msgs[1].content.as_text(),
        "<rubric>\nSays \"30 days\"\n</rubric>\n<question>\nWhat is the refund window?\n</question>\n<answer>\n30 days.\n</answer>"
    );
}

#[test]
fn verdicts_parse_from_plain_fenced_and_wrapped_replies() {
    assert_eq!(
        parse_verdict(r#"{"pass": true, "reason": "Says 30 days."}"#),
        Ok((true, "Says 30 days.".into()))
    );
    assert_eq!(
        parse_verdict(
            "```json\n{\"pass\": false, \"reason\": \"Missing \\\"30 days\\\" {sic}.\"}\n```"
        ),
        Ok((false, "Missing \"30 days\" {sic}.".into()))
    );
    assert_eq!(
        parse_verdict(
            "Sure! Here is my verdict: {\"reason\": \"ok\", \"pass\": true} Hope it helps {"
        ),
        Ok((true, "ok".into()))
    );
    assert_eq!(parse_verdict("{\"pass\": true}"), Ok((true, String::new())));
    assert_eq!(
        parse_verdict("I think it passes."),
        Err("grader reply has no JSON verdict object: \"I think it passes.\"".into())
    );
    assert_eq!(parse_verdict("{\"pass\": \"yes\"}"), Err("grader reply has no boolean \"pass\" in its JSON object: \"{\\\"pass\\\": \\\"yes\\\"}\"".into()));
    assert!(parse_verdict("{\"pass\": tru").is_err());
}

fn res(check: &str, passed: bool, weight: f64, reason: &str) -> CheckResult {
    CheckResult {
        check: check.into(),
        passed,
        weight,
        reason: reason.into(),
    }
}

#[test]
fn scoring_uses_weights_and_threshold() {
    let rs = vec![
        res("contains", true, 1.0, ""),
        res("regex", false, 3.0, "expected to match /x/"),
    ];
    assert_eq!(score(&rs, 1.0), (false, 0.25));
    assert_eq!(score(&rs, 0.25), (true, 0.25));
    assert_eq!(score(&rs, 0.3), (false, 0.25));
    let all = vec![
        res("a", true, 0.1, ""),
        res("b", true, 0.2, ""),
        res("c", true, 0.3, ""),
    ];
    assert_eq!(score(&all, 1.0), (true, 1.0));
    let zero = vec![res("a", true, 0.0, ""), res("b", false, 0.0, "x")];
    assert_eq!(score(&zero, 0.5), (false, 0.0));
    assert_eq!(score(&zero[..1], 1.0), (true, 1.0));
}

#[test]
fn failed_summary_joins_failures() {
    let rs = vec![
        res(
            "icontains",
            false,
            1.0,
            "expected to contain \"30 days\" (any case)",
        ),
        res("is_json", true, 1.0, ""),
        res("max_ttft_ms", false, 1.0, "ttft 3120.4 ms\n> 3000 ms"),
    ];
    assert_eq!(
        failed_summary(&rs).as_deref(),
        Some("icontains: expected to contain \"30 days\" (any case) | max_ttft_ms: ttft 3120.4 ms > 3000 ms")
    );
    assert_eq!(failed_summary(&rs[1..2]), None);
}
