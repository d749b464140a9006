//! Suite tests for the request keys: parameters and their precedence,
//! tools and tool_choice, response formats, images, data files and variable
//! lists; each mistake named with its file, line (or row) and field.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::record::{Content, Part, ResponseFormat, ToolChoice};

fn in_dir(dir: &Path, src: &str) -> Result<Suite, String> {
    let path = dir.join("s.yaml");
    std::fs::write(&path, src).unwrap();
    load(&path).map_err(|e| e.to_string())
}

#[test]
fn params_merge_defaults_case_and_model_params() {
    let s = parse(
        "name: p\nmodels: [a/x, b/y]\ndefaults:\n  temperature: 0.1\n  params: {seed: 1, top_p: 0.5, extra_body: {k: 1}}\nmodel_params:\n  b/y: {seed: 9, extra_body: {j: 2}}\ncases:\n  - id: c\n    prompt: hi\n    max_tokens: 20\n    params: {top_p: 0.7, stop: END}\n",
        Path::new("s.yaml"),
    )
    .unwrap();
    let c = &s.cases[0];
    let a = s.params_for(c, "a/x");
    assert_eq!(
        (a.temperature, a.seed, a.top_p, a.max_tokens),
        (Some(0.1), Some(1), Some(0.7), Some(20))
    );
    let b = s.params_for(c, "b/y");
    assert_eq!(b.seed, Some(9));
    assert_eq!(
        serde_json::to_value(&b.extra_body).unwrap(),
        json!({"k": 1, "j": 2})
    );
    assert_eq!(serde_json::to_value(&b.stop).unwrap(), json!("END"));
}

#[test]
fn parameter_mistakes_name_the_line_and_field() {
    let e = |src: &str| parse(src, Path::new("s.yaml")).unwrap_err().to_string();
    assert_eq!(
        e("name: p\ncases:\n  - id: c\n    prompt: hi\n    params: {top_k: 3}\n"),
        "s.yaml line 5: unknown field `top_k` in case `c` (did you mean `top_p`?)"
    );
    assert!(
        e("name: p\ncases:\n  - id: c\n    prompt: hi\n    params: {reasoning_effort: max}\n")
            .starts_with("s.yaml line 5: `reasoning_effort` is `max`")
    );
    assert!(e(
        "name: p\nmodel_params:\n  a/x: {temperature: 3}\ncases:\n  - id: c\n    prompt: hi\n"
    )
    .contains("line 2: `temperature` is 3, outside 0..=2 (in `model_params` of `a/x`)"));
    assert!(e(
        "name: p\ncases:\n  - id: c\n    prompt: hi\n    params: {extra_body: {model: x}}\n"
    )
    .contains("`extra_body` sets `model`"));
}

#[test]
fn tools_choice_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("o.schema.yaml"),
        "type: object\nrequired: [id]\n",
    )
    .unwrap();
    let s = in_dir(
        dir.path(),
        "name: t\ndefaults:\n  tools:\n    - {type: function, function: {name: f, parameters: {type: object}}}\ncases:\n  - id: a\n    prompt: hi\n    tool_choice: {type: function, function: {name: f}}\n    response_format: {type: json_schema, json_schema: {name: o, schema_file: o.schema.yaml}}\n  - id: b\n    prompt: hi\n    response_format: {type: json_object}\n    check_response_format: false\n",
    )
    .unwrap();
    let a = &s.cases[0];
    assert_eq!(a.tools[0].name, "f");
    assert_eq!(a.tool_choice, Some(ToolChoice::Function("f".into())));
    let Some(ResponseFormat::JsonSchema { schema, .. }) = &a.response_format else {
        panic!("{:?}", a.response_format)
    };
    assert_eq!(schema, &json!({"type": "object", "required": ["id"]}));
    let implicit = a.checks.last().unwrap();
    assert_eq!(
        (implicit.kind.as_str(), implicit.value.as_ref()),
        ("response_format", Some(schema))
    );
    assert!(s.cases[1].checks.is_empty());
    let e = in_dir(
        dir.path(),
        "name: t\ncases:\n  - id: a\n    prompt: hi\n    tools:\n      - {type: function, function: {name: f}}\n    tool_choice: {type: function, function: {name: g}}\n",
    )
    .unwrap_err();
    assert!(
        e.contains("line 7: `tool_choice` names `g`, which is not in `tools` (f)"),
        "{e}"
    );
}

#[test]
fn images_and_tool_messages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("i.png"), b"\x89PNG\r\n\x1a\n0000").unwrap();
    let s = in_dir(
        dir.path(),
        "name: i\ncases:\n  - id: a\n    messages:\n      - role: user\n        content: [{text: look}, {image: i.png, detail: high}]\n      - role: assistant\n        tool_calls: [{id: c1, type: function, function: {name: f, arguments: '{\"x\":1}'}}]\n      - {role: tool, tool_call_id: c1, content: done}\n",
    )
    .unwrap();
    let m = &s.cases[0].messages;
    let Content::Parts(parts) = &m[0].content else {
        panic!()
    };
    let Part::Image(img) = &parts[1] else {
        panic!()
    };
    assert!(img.url.starts_with("data:image/png;base64,"));
    assert_eq!(img.file.as_ref().unwrap().path, "i.png");
    assert_eq!(m[1].tool_calls[0].arguments, "{\"x\":1}");
    assert_eq!(m[2].tool_call_id.as_deref(), Some("c1"));
    let e = in_dir(
        dir.path(),
        "name: i\ncases:\n  - id: a\n    messages:\n      - {role: tool, content: x}\n",
    )
    .unwrap_err();
    assert!(
        e.contains("line 4: a `tool` message needs `tool_call_id`"),
        "{e}"
    );
    assert!(e.contains("(message 1 of case `a`)"), "{e}");
}

#[test]
fn data_files_and_variable_lists_expand() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.csv"), "k,q\nk1,one\nk2,two\n").unwrap();
    let s = in_dir(
        dir.path(),
        "name: d\ncases:\n  - cases_from: {file: d.csv, id: k}\n    vars: {tone: [warm, dry]}\n    prompt: \"{{ q }} ({{ tone }})\"\n    assert: [{type: contains, value: \"{{ q }}\"}]\n",
    )
    .unwrap();
    let ids: Vec<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "k1[tone=warm]",
            "k1[tone=dry]",
            "k2[tone=warm]",
            "k2[tone=dry]"
        ]
    );
    assert_eq!(s.cases[3].messages[0].content.as_text(), "two (dry)");
    assert_eq!(s.cases[3].checks[0].value, Some(json!("two")));
    let e = in_dir(
        dir.path(),
        "name: d\ncases:\n  - cases_from: {file: d.csv, id: nope}\n    prompt: x\n",
    )
    .unwrap_err();
    assert!(
        e.contains("line 3: row 1 (line 2) of d.csv has no column `nope`"),
        "{e}"
    );
    let e = in_dir(
        dir.path(),
        "name: d\ncases:\n  - cases_from: {file: d.csv}\n    prompt: \"{{ missing }}\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("unknown variable `missing` in case `row-1`, row 1 (line 2) of d.csv"),
        "{e}"
    );
}
