//! Answer checks and CI gating end to end: every check type passing and
//! failing against `sim/echo` (which answers with the prompt), JUnit that
//! matches the rows, the exit codes a CI job reads, and `validate`.

use std::collections::HashMap;

use crate::common::*;

/// (case id, prompt, check YAML, expected to pass)
const CASES: &[(&str, &str, &str, bool)] = &[
    ("equals-pass", "Refunds within 30 days.", "{type: equals, value: Refunds within 30 days.}", true),
    ("equals-fail", "Refunds within 30 days.", "{type: equals, value: Refunds within 14 days.}", false),
    ("contains-pass", "Refunds within 30 days.", "{type: contains, value: 30 days}", true),
    ("contains-fail", "Refunds within 30 days.", "{type: contains, value: 30 Days}", false),
    ("icontains-pass", "Refunds within 30 days.", "{type: icontains, value: REFUNDS}", true),
    ("icontains-fail", "Refunds within 30 days.", "{type: icontains, value: exchange}", false),
    ("not-contains-pass", "Refunds within 30 days.", "{type: not-contains, value: lifetime}", true),
    ("not-contains-fail", "Refunds within 30 days.", "{type: not-contains, value: Refunds}", false),
    ("contains-any-pass", "Refunds within 30 days.", "{type: contains_any, value: [14 days, 30 days]}", true),
    ("contains-any-fail", "Refunds within 30 days.", "{type: contains_any, value: [14 days, 60 days]}", false),
    ("contains-all-pass", "Refunds within 30 days.", "{type: contains_all, value: [Refunds, days]}", true),
    ("contains-all-fail", "Refunds within 30 days.", "{type: contains_all, value: [Refunds, store]}", false),
    ("starts-with-pass", "Refunds within 30 days.", "{type: starts_with, value: Refunds}", true),
    ("starts-with-fail", "Refunds within 30 days.", "{type: starts_with, value: within}", false),
    ("regex-pass", "Refunds within 30 days.", "{type: regex, value: '\\b\\d+ days'}", true),
    ("regex-fail", "Refunds within 30 days.", "{type: regex, value: '^\\d'}", false),
    ("is-json-pass", "{\"city\": \"Berlin\", \"quantity\": 2}", "{type: is_json}", true),
    ("is-json-fail", "city Berlin quantity 2", "{type: is_json}", false),
    ("schema-pass", "{\"city\": \"Berlin\", \"quantity\": 2}", "{type: json_schema, value: {type: object, required: [city, quantity], properties: {quantity: {type: integer}}}}", true),
    ("schema-fail", "{\"city\": \"Berlin\", \"quantity\": \"two\"}", "{type: json_schema, value: {type: object, required: [city, quantity], properties: {quantity: {type: integer}}}}", false),
    ("json-path-pass", "{\"city\": \"Berlin\", \"quantity\": 2}", "{type: json_path, value: {path: $.quantity, equals: 2}}", true),
    ("json-path-fail", "{\"city\": \"Berlin\", \"quantity\": 2}", "{type: json_path, value: {path: $.city, equals: Paris}}", false),
    ("max-ttft-pass", "Refunds within 30 days.", "{type: max_ttft_ms, value: 10000}", true),
    ("max-ttft-fail", "Refunds within 30 days.", "{type: max_ttft_ms, value: 1}", false),
    ("max-duration-pass", "Refunds within 30 days.", "{type: max_duration_ms, value: 10000}", true),
    ("max-duration-fail", "Refunds within 30 days.", "{type: max_duration_ms, value: 1}", false),
    ("max-cost-pass", "Refunds within 30 days.", "{type: max_cost_usd, value: 1}", true),
    ("max-cost-fail", "Refunds within 30 days.", "{type: max_cost_usd, value: 0.0000000001}", false),
    ("max-tokens-pass", "Refunds within 30 days.", "{type: max_output_tokens, value: 50}", true),
    ("max-tokens-fail", "Refunds within 30 days.", "{type: max_output_tokens, value: 1}", false),
    ("min-tps-pass", "Hold the reset button for ten seconds then wait two minutes for the restart.", "{type: min_tokens_per_s, value: 1}", true),
    ("min-tps-fail", "Hold the reset button for ten seconds then wait two minutes for the restart.", "{type: min_tokens_per_s, value: 1000000}", false),
    ("judge-pass", "Refunds within 30 days.", "{type: judge, value: 'Says \"30 days\".'}", true),
    ("judge-fail", "Refunds within 30 days.", "{type: judge, value: 'Offers \"store credit\".'}", false),
    ("not-judge-pass", "Refunds within 30 days.", "{type: not-judge, value: 'Promises a \"lifetime\" warranty.'}", true),
];

fn suite_yaml() -> String {
    let mut y = String::from("name: every-check\nmodels: [sim/echo]\ngrader: sim/judge\ncases:\n");
    for (id, prompt, check, _) in CASES {
        y.push_str(&format!(
            "  - id: {id}\n    prompt: {}\n    assert:\n      - {check}\n",
            serde_json::to_string(prompt).unwrap()
        ));
    }
    y
}

#[test]
fn every_check_type_passes_and_fails_and_junit_matches_the_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(tmp.path(), "every.yaml", &suite_yaml());
    let out = tmp.path().join("run");
    let res = run_sim(tmp.path(), &suite, &out, &[]);
    assert_eq!(
        res.status.code(),
        Some(1),
        "failed checks fail the run: {}",
        text(&res)
    );
    let rows = rows(&out);
    assert_eq!(rows.len(), CASES.len());
    let by_id: HashMap<_, _> = rows.iter().map(|r| (r.case_id.as_str(), r)).collect();
    for (id, _, _, expect) in CASES {
        let row = by_id[id];
        assert_eq!(row.passed, Some(*expect), "{id}: {row:?}");
        assert_eq!(row.failed_checks.is_some(), !expect, "{id}: {row:?}");
    }
    // The grader's own cost is recorded apart from the graded answer's.
    let recs = records(&out);
    let judged = recs.iter().find(|r| r.row.case_id == "judge-pass").unwrap();
    assert!(judged.grader_cost_usd.unwrap() > 0.0);
    assert!(
        judged.checks[0].reason.starts_with("grader:"),
        "the grader's reason is kept: {:?}",
        judged.checks
    );

    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), rows.len());
    let failing = CASES.iter().filter(|c| !c.3).count();
    let failures: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .collect();
    assert_eq!(failures.len(), failing);
    assert_eq!(
        root.attribute("failures"),
        Some(failing.to_string().as_str())
    );
    assert_eq!(
        root.attribute("tests"),
        Some(CASES.len().to_string().as_str())
    );
    let regex_fail = cases
        .iter()
        .find(|c| c.attribute("name") == Some("regex-fail#0"))
        .unwrap();
    let msg = regex_fail
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        msg.attribute("message").unwrap().contains("regex"),
        "{msg:?}"
    );
}

#[test]
fn exit_codes_gate_ci_on_pass_rate_and_run_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "gate.yaml",
        "name: gate\nmodels: [sim/echo]\ncases:\n  - id: a\n    prompt: yes\n    assert: [{type: contains, value: 'yes'}]\n  - id: b\n    prompt: yes\n    assert: [{type: contains, value: 'no'}]\n",
    );
    let run = |extra: &[&str], name: &str| {
        let out = tmp.path().join(name);
        run_sim(tmp.path(), &suite, &out, extra).status.code()
    };
    assert_eq!(run(&[], "plain"), Some(1), "a failed check fails the run");
    assert_eq!(
        run(&["--min-pass-rate", "0.5"], "half"),
        Some(0),
        "pass rate 0.5 meets 0.5"
    );
    assert_eq!(run(&["--min-pass-rate", "0.9"], "most"), Some(1));
    assert_eq!(run(&["--min-pass-rate", "1.5"], "bad"), Some(2));
    assert_eq!(
        run(&["--models", "sim/echo+500", "--max-retries", "0"], "dead"),
        Some(3),
        "every request failed"
    );
    let all_pass = suite_file(tmp.path(), "ok.yaml", "name: ok\nmodels: [sim/echo]\ncases:\n  - id: a\n    prompt: yes\n    assert: [{type: contains, value: 'yes'}]\n");
    let out = tmp.path().join("green");
    let res = run_sim(tmp.path(), &all_pass, &out, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    // The markdown summary for a CI step, rendered again from the run.
    let res = evalgate(
        &["report", out.to_str().unwrap(), "--format", "markdown"],
        tmp.path(),
    );
    assert_eq!(res.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&res.stdout).contains("| sim/echo |"));
}

#[test]
fn validate_catches_each_class_of_bad_suite_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bad: &[(&str, &str, &str)] = &[
        ("yaml.yaml", "name: x\ncases: [\n", "line"),
        ("unknown.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n    promt: hi\n", "line 5"),
        ("dup.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n    prompt: hi\n  - id: a\n    prompt: ho\n", "line 6"),
        ("neither.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n", "line 4"),
        ("regex.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n    prompt: hi\n    assert: [{type: regex, value: '(unclosed'}]\n", "line 6"),
        ("schema.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n    prompt: hi\n    assert: [{type: json_schema, value: {type: 17}}]\n", "line 6"),
        ("grader.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n    prompt: hi\n    assert: [{type: judge, value: ok}]\n", "grader"),
        ("template.yaml", "name: x\nmodels: [a/b]\ncases:\n  - id: a\n    prompt: 'hi {{who}}'\n", "who"),
        ("models.yaml", "name: x\nmodels: []\ncases:\n  - id: a\n    prompt: hi\n", "line 2"),
    ];
    for (file, yaml, needle) in bad {
        let path = suite_file(tmp.path(), file, yaml);
        let res = evalgate(&["validate", path.to_str().unwrap()], tmp.path());
        assert_eq!(res.status.code(), Some(2), "{file}: {}", text(&res));
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(
            err.contains(file) && err.contains(needle),
            "{file}: expected `{needle}` in: {err}"
        );
    }
    let res = evalgate(
        &[
            "validate",
            repo().join("suites/checks-demo.yaml").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
}
