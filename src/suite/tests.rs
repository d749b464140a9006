//! Suite tests: a good suite round-trips; each class of mistake gives the
//! file, line, field and fix in its message.

use std::path::Path;

use serde_json::json;

use super::*;

fn err(src: &str) -> String {
    match parse(src, Path::new("suites/a.yaml")) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e.to_string(),
    }
}

const GOOD: &str = r#"name: support-answers
description: Support answers.
models: [openai/gpt-5, anthropic/claude-sonnet-4]
key_env: MY_KEY
grader: openai/gpt-5-mini
timeouts: {connect: 10s, ttft: 1500ms, idle: 60, total: 10m}
defaults:
  system: You support {{product}}.
  max_tokens: 400
  temperature: 0
  vars: {product: Acme Router X2, days: 30}
  threshold: 0.5
  assert:
    - type: max_ttft_ms
      value: 3000
gateway:
  order: [bedrock, anthropic]
pricing:
  openai/gpt-5: {input: 1.25, output: 10, cache_read: 0.125}
cases:
  - id: refund-window
    prompt: "What is the refund window for {{ product }}?"
    assert:
      - type: icontains
        value: "{{days}} days"
        weight: 2
      - type: judge
        value: Says "{{days}} days"
  - id: reset
    max_tokens: 50
    threshold: 1
    vars: {product: Acme Mesh}
    messages:
      - role: user
        content: "My {{product}} lost its settings."
      - role: assistant
        content: Which model?
      - role: user
        content: The {{product}}.
  - id: own-system
    temperature: 0.7
    messages:
      - {role: system, content: Answer in French.}
      - {role: user, content: Bonjour}
    assert:
      - type: not-contains
        value: "```"
      - type: judge
        grader: anthropic/claude-sonnet-4
        value: Polite.
"#;

fn m(role: &str, content: &str) -> Message {
    Message::text(role, content)
}

#[test]
fn good_suite_merges_defaults_and_renders_templates() {
    let s = parse(GOOD, Path::new("suites/good.yaml")).unwrap();
    assert_eq!(s.name, "support-answers");
    assert_eq!(s.path, Path::new("suites/good.yaml"));
    assert_eq!(s.description.as_deref(), Some("Support answers."));
    assert_eq!(s.models, ["openai/gpt-5", "anthropic/claude-sonnet-4"]);
    assert_eq!(s.key_env.as_deref(), Some("MY_KEY"));
    assert_eq!(s.grader.as_deref(), Some("openai/gpt-5-mini"));
    assert_eq!(
        s.timeouts,
        SuiteTimeouts {
            connect_ms: Some(10_000),
            ttft_ms: Some(1500),
            idle_ms: Some(60_000),
            total_ms: Some(600_000)
        }
    );
    assert_eq!(s.gateway, Some(json!({"order": ["bedrock", "anthropic"]})));
    assert_eq!(
        s.pricing["openai/gpt-5"],
        SuitePrice {
            input: 1.25,
            output: 10.0,
            cache_read: Some(0.125),
            cache_write: None
        }
    );
    // sha256 of the bytes, hex.
    assert_eq!(s.hash.len(), 64);
    assert_eq!(s.hash, parse(GOOD, Path::new("x.yaml")).unwrap().hash);
    assert_ne!(
        s.hash,
        parse(&GOOD.replace("0.7", "0.8"), Path::new("x.yaml"))
            .unwrap()
            .hash
    );

    let [a, b, c] = &s.cases[..] else {
        panic!("3 cases")
    };
    assert_eq!(a.id, "refund-window");
    assert_eq!(a.line, 21);
    assert_eq!(
        a.messages,
        [
            m("system", "You support Acme Router X2."),
            m("user", "What is the refund window for Acme Router X2?")
        ]
    );
    assert_eq!(
        (a.params.max_tokens, a.params.temperature, a.threshold),
        (Some(400), Some(0.0), 0.5)
    );
    let kinds: Vec<&str> = a.checks.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["max_ttft_ms", "icontains", "judge"]);
    assert_eq!(a.checks[1].value, Some(json!("30 days")));
    assert_eq!(a.checks[1].weight, Some(2.0));
    assert_eq!(a.checks[2].value, Some(json!("Says \"30 days\"")));
    assert_eq!(a.checks[2].grader.as_deref(), Some("openai/gpt-5-mini"));

    assert_eq!(b.line, 29);
    assert_eq!(
        b.messages,
        [
            m("system", "You support Acme Mesh."),
            m("user", "My Acme Mesh lost its settings."),
            m("assistant", "Which model?"),
            m("user", "The Acme Mesh."),
        ]
    );
    assert_eq!((b.params.max_tokens, b.threshold), (Some(50), 1.0));
    assert_eq!(b.checks.len(), 1);

    assert_eq!(c.line, 40);
    assert_eq!(
        c.messages,
        [m("system", "Answer in French."), m("user", "Bonjour")]
    );
    assert_eq!(c.params.temperature, Some(0.7));
    assert_eq!(
        c.checks[2].grader.as_deref(),
        Some("anthropic/claude-sonnet-4")
    );
    assert!(errors(GOOD, Path::new("x.yaml"), &LoadOptions::default()).is_empty());
}

#[test]
fn minimal_suite_has_plain_defaults() {
    let s = parse(
        "name: a\ncases:\n  - id: x\n    prompt: hi\n",
        Path::new("a.yaml"),
    )
    .unwrap();
    assert!(s.models.is_empty());
    assert_eq!(s.timeouts, SuiteTimeouts::default());
    assert_eq!(s.cases[0].messages, [m("user", "hi")]);
    assert_eq!(s.cases[0].threshold, 1.0);
    assert_eq!(s.cases[0].line, 3);
    assert!(s.cases[0].checks.is_empty());
}

#[test]
fn malformed_yaml_and_wrong_types() {
    assert_eq!(
        err("name: a\ncases: [\n"),
        "suites/a.yaml line 3: YAML syntax error: did not find expected node content while parsing a flow node (check indentation, quotes and brackets on or just before this line)"
    );
    assert_eq!(
        err("name: a\ncases:\n  - id: refund\n    prompt: hi\n    max_tokens: lots\n"),
        "suites/a.yaml line 5: `max_tokens` in case `refund` must be a whole number, not string \"lots\""
    );
    assert_eq!(err("- a\n"), "suites/a.yaml line 1: the suite must be a map of fields, not sequence: start with `name:` and `cases:`");
    assert_eq!(
        err("\n# nothing\n"),
        "suites/a.yaml: the file is empty: a suite needs at least `name:` and `cases:`"
    );
}

#[test]
fn unknown_fields_suggest_the_fix() {
    assert_eq!(
        err("name: a\ncases:\n  - id: refund\n    prompt: hi\n    asert: []\n"),
        "suites/a.yaml line 5: unknown field `asert` in case `refund` (did you mean `assert`?)"
    );
    assert_eq!(
        err("name: a\nmodles: [x/y]\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 2: unknown field `modles` (did you mean `models`?)"
    );
    assert_eq!(
        err("name: a\ndefaults:\n  sytem: hi\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 3: unknown field `sytem` in `defaults` (did you mean `system`?)"
    );
    assert_eq!(
        err("name: a\ncases:\n  - id: refund\n    prompt: hi\n    assert:\n      - type: contains\n        valu: x\n"),
        "suites/a.yaml line 7: unknown field `valu` in check 1 of case `refund` (did you mean `value`?)"
    );
    assert!(err("name: a\nzzz: 1\ncases:\n  - id: r\n    prompt: hi\n")
        .starts_with("suites/a.yaml line 2: unknown field `zzz` (expected one of `name`, `description`, `models`"));
}

#[test]
fn required_keys_and_cases() {
    assert_eq!(
        err("description: x\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml: missing field `name`: add e.g. `name: support-answers` (used as the results directory)"
    );
    assert_eq!(
        err("name: a/b\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 1: `name` `a/b` cannot be a directory name: use letters, digits, `.`, `_` and `-` only"
    );
    assert_eq!(
        err("name: a\n"),
        "suites/a.yaml: missing field `cases`: add at least one case with an `id` and a `prompt`"
    );
    assert_eq!(
        err("name: a\ncases: []\n"),
        "suites/a.yaml line 2: `cases` is empty: add at least one case with an `id` and a `prompt`"
    );
    assert_eq!(
        err("name: a\ncases:\n  - prompt: hi\n"),
        "suites/a.yaml line 3: case #1 has no `id`: give it a short unique name (or `cases_from:` a data file)"
    );
    assert_eq!(
        err("name: a\nmodels: []\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 2: `models` is empty: list at least one model id (e.g. openai/gpt-5) or remove the key and pass --models"
    );
}

#[test]
fn duplicate_ids_point_at_the_second() {
    let src = "name: a\ncases:\n  - id: r\n    prompt: hi\n  - id: s\n    prompt: hi\n  - id: r\n    prompt: again\n";
    assert_eq!(
        err(src),
        "suites/a.yaml line 7: duplicate case id `r`: case ids must be unique, rename this one"
    );
}

#[test]
fn prompt_xor_messages_and_roles() {
    assert_eq!(
        err("name: a\ncases:\n  - id: r\n    system: hi\n  - id: s\n    prompt: x\n"),
        "suites/a.yaml line 3: case `r` has neither `prompt` nor `messages`: add one of them"
    );
    assert_eq!(
        err("name: a\ncases:\n  - id: r\n    prompt: x\n    messages:\n      - {role: user, content: y}\n"),
        "suites/a.yaml line 5: case `r` has both `prompt` and `messages`: keep only one"
    );
    assert_eq!(
        err("name: a\ncases:\n  - id: refund\n    messages:\n      - role: bot\n        content: hi\n"),
        "suites/a.yaml line 5: unknown `role` value `bot` in message 1 of case `refund` (expected one of `system`, `user`, `assistant`, `tool`)"
    );
    assert_eq!(
        err("name: a\ncases:\n  - id: refund\n    messages:\n      - role: usr\n        content: hi\n"),
        "suites/a.yaml line 5: unknown `role` value `usr` in message 1 of case `refund` (did you mean `user`?)"
    );
}

#[test]
fn bad_values_name_the_field() {
    assert_eq!(
        err("name: a\ntimeouts:\n  connect: 2s\n  ttft: fast\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 4: `ttft` in `timeouts`: invalid duration `fast`: use e.g. 500ms, 2s, 1m"
    );
    assert_eq!(
        err("name: a\ncases:\n  - id: refund\n    prompt: hi\n    threshold: 2\n"),
        "suites/a.yaml line 5: `threshold` in case `refund`: 2 is outside 0..=1: use the share of weighted checks that must pass, e.g. 0.5"
    );
    assert_eq!(
        err("name: a\ndefaults:\n  threshold: -0.5\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 3: `threshold` in `defaults`: -0.5 is outside 0..=1: use the share of weighted checks that must pass, e.g. 0.5"
    );
}

#[test]
fn bad_checks_name_case_check_and_line() {
    let src = "name: a\ncases:\n  - id: ok\n    prompt: hi\n  - id: refund\n    prompt: hi\n    assert:\n      - type: icontains\n        value: x\n      - type: regex\n        value: '(unclosed'\n";
    let e = err(src);
    assert!(
        e.starts_with("suites/a.yaml line 10: `regex` value is not a valid regular expression: "),
        "{e}"
    );
    assert!(e.ends_with(" (in check 2 of case `refund`)"), "{e}");
    assert_eq!(
        err("name: a\ncases:\n  - id: r\n    prompt: hi\n    assert:\n      - {type: contains_any, value: x}\n"),
        "suites/a.yaml line 6: `contains_any` needs a list of strings, e.g. value: [refund, 30 days] (in check 1 of case `r`)"
    );
    assert_eq!(
        err("name: a\ndefaults:\n  assert:\n    - type: max_ttft\n      value: 1\ncases:\n  - id: r\n    prompt: hi\n"),
        "suites/a.yaml line 4: unknown check type `max_ttft` (did you mean `max_ttft_ms`?) (in check 1 of `defaults.assert` (for case `r`))"
    );
    // A json_schema value's own `type:` keys do not confuse the line count.
    let src = "name: a\ncases:\n  - id: r\n    prompt: hi\n    assert:\n      - type: json_schema\n        value:\n          type: object\n      - type: judge\n        value: Polite.\n";
    assert_eq!(
        err(src),
        "suites/a.yaml line 9: `judge` check 2 of case `r` has no grader: add `grader: openai/gpt-5-mini` to the check or to the suite"
    );
}

#[test]
fn unknown_template_variable_names_case_and_line() {
    let src = "name: a\ndefaults:\n  vars: {product: X2}\ncases:\n  - id: refund\n    prompt: |\n      Hello.\n      What about {{ produkt }}?\n";
    assert_eq!(
        err(src),
        "suites/a.yaml line 8: unknown variable `produkt` in case `refund`: define it under `vars:` in the case or in `defaults`"
    );
    let src = "name: a\ndefaults:\n  system: For {{team}}.\ncases:\n  - id: r\n    prompt: hi\n";
    assert_eq!(
        err(src),
        "suites/a.yaml line 3: unknown variable `team` in case `r`: define it under `vars:` in the case or in `defaults`"
    );
}

#[test]
fn errors_lists_every_problem() {
    let src = "name: a\nmodels: []\ncases:\n  - id: r\n  - id: r\n    prompt: hi\n    threshold: 1\n    assert:\n      - type: judge\n        value: x\n";
    let all: Vec<String> = errors(src, Path::new("s.yaml"), &LoadOptions::default())
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        all,
        [
            "s.yaml line 2: `models` is empty: list at least one model id (e.g. openai/gpt-5) or remove the key and pass --models",
            "s.yaml line 4: case `r` has neither `prompt` nor `messages`: add one of them",
            "s.yaml line 5: duplicate case id `r`: case ids must be unique, rename this one",
            "s.yaml line 9: `judge` check 1 of case `r` has no grader: add `grader: openai/gpt-5-mini` to the check or to the suite",
        ]
    );
    assert_eq!(
        errors(src, Path::new("s.yaml"), &LoadOptions::default())[2].line(),
        Some(5)
    );
}

#[test]
fn load_names_a_missing_file() {
    let e = load(Path::new("suites/does-not-exist.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot read suite file suites/does-not-exist.yaml: "),
        "{e}"
    );
    assert!(
        e.ends_with("(check the path; suites are YAML files such as suites/quickstart.yaml)"),
        "{e}"
    );
}

#[test]
fn load_reads_and_hashes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.yaml");
    std::fs::write(&p, "name: s\ncases:\n  - id: a\n    prompt: hi\n").unwrap();
    let s = load(&p).unwrap();
    // sha256("name: s\ncases:\n  - id: a\n    prompt: hi\n") computed independently.
    assert_eq!(
        s.hash,
        sha256_hex(b"name: s\ncases:\n  - id: a\n    prompt: hi\n")
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_shipped_suite_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let suite = load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!suite.cases.is_empty());
            for case in &suite.cases {
                for spec in &case.checks {
                    crate::assert::compile(spec)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                }
            }
            n += 1;
        }
    }
    assert!(n >= 4, "expected the shipped suites in {}", dir.display());
}

/// `sim/echo` answers with the prompt, so every text check of checks-demo
/// must pass on the prompt itself, except the two documented failures.
/// Judge checks are graded with the `sim/judge` rule from the protocol
/// (every quoted phrase of the rubric appears in the answer).
#[test]
fn checks_demo_passes_on_echo_except_the_documented_failures() {
    use crate::assert::{compile, Answer};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/checks-demo.yaml");
    let suite = load(&path).unwrap();
    let quoted = regex::Regex::new(r#""([^"]*)""#).unwrap();
    let mut failures = Vec::new();
    for case in &suite.cases {
        let text = &case.messages.last().unwrap().content.as_text();
        for spec in &case.checks {
            let check = compile(spec).unwrap();
            if check.label().starts_with("max_") || check.label().starts_with("min_") {
                continue; // measurements come from the sim at run time
            }
            let result = match check.rubric() {
                Some(rubric) => {
                    let lower = text.to_lowercase();
                    let pass = quoted
                        .captures_iter(rubric)
                        .all(|c| lower.contains(&c[1].to_lowercase()));
                    check.judge_result(Ok((pass, String::new())))
                }
                None => check.evaluate(&Answer {
                    text,
                    ..Answer::default()
                }),
            };
            if !result.passed {
                failures.push(format!("{}/{}", case.id, result.check));
            }
        }
    }
    assert_eq!(
        failures,
        ["deliberate-failures/contains", "deliberate-failures/judge"]
    );
}
