//! What applications really send, end to end: tools, tool_choice,
//! response_format, images and every parameter reach the gateway as
//! written (read back from the sim's `GET /stats/requests`), the
//! model_params override wins, answers' tool calls land in every output,
//! the shipped suites pass offline, and bad input stops before any request.

use evalgate::sim::{RequestStat, SimConfig};
use serde_json::{json, Value};

use crate::common::*;

const KEY: &str = "sk-tools-test-0000";

async fn requests(sim_url: &str) -> Vec<RequestStat> {
    let base = sim_url.trim_end_matches("/v1");
    reqwest::get(format!("{base}/stats/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 1×1 GIF and a tiny JPEG header: enough for the magic-byte check.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];

const WIRE_SUITE: &str = r#"name: wire
models: [sim/fast, sim/balanced]
defaults:
  params: {temperature: 0.2, top_p: 0.9, max_tokens: 120, seed: 11, stop: ["END"],
           presence_penalty: 0.1, frequency_penalty: 0.2, reasoning_effort: low,
           extra_body: {user: tester}}
model_params:
  sim/balanced: {temperature: 1.5, max_tokens: 60, extra_body: {service_tier: flex}}
cases:
  - id: tools
    prompt: What's the weather in Berlin?
    tools:
      - type: function
        function:
          name: get_weather
          description: Current weather for a city
          parameters: {type: object, required: [city], properties: {city: {type: string}}}
      - type: function
        function: {name: other_tool, parameters: {type: object}}
    tool_choice: {type: function, function: {name: get_weather}}
    parallel_tool_calls: false
    assert:
      - {type: tool_call, name: get_weather, json_path: $.city, value: Berlin}
      - {type: tool_calls_count, equals: 1}
      - {type: not-no_tool_call}
  - id: format
    prompt: Give me an order for Oslo.
    params: {temperature: 0.7}
    response_format:
      type: json_schema
      json_schema: {name: order, schema: {type: object, required: [city], properties: {city: {type: string}}}}
  - id: images
    messages:
      - role: user
        content:
          - text: Compare these.
          - {image: pic.gif, detail: low}
          - {image: pic.jpg}
          - {image: "https://example.com/x.png", detail: high}
"#;

#[test]
fn the_gateway_receives_tools_formats_images_and_every_parameter() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig::default()));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pic.gif"), GIF).unwrap();
    std::fs::write(tmp.path().join("pic.jpg"), JPEG).unwrap();
    let suite = suite_file(tmp.path(), "wire.yaml", WIRE_SUITE);
    let out = tmp.path().join("out");
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        KEY,
        &[suite.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let seen = rt.block_on(requests(&sim.base_url()));
    assert_eq!(seen.len(), 6);
    let find = |model: &str, pred: &dyn Fn(&evalgate::sim::WireSeen) -> bool| {
        seen.iter()
            .filter(|r| r.model == model)
            .map(|r| r.wire.as_deref().expect("wire recorded"))
            .find(|w| pred(w))
            .unwrap_or_else(|| panic!("no request for {model}"))
            .clone()
    };

    // Tools and tool_choice.
    let w = find("sim/fast", &|w| !w.tools.is_empty());
    assert_eq!(w.tools, ["get_weather", "other_tool"]);
    assert_eq!(
        w.tool_choice,
        Some(json!({"type": "function", "function": {"name": "get_weather"}}))
    );
    assert_eq!(w.parallel_tool_calls, Some(false));
    // Every parameter, from defaults.
    let p = Value::Object(w.params.clone());
    for (k, v) in [
        ("temperature", json!(0.2)),
        ("top_p", json!(0.9)),
        ("max_tokens", json!(120)),
        ("seed", json!(11)),
        ("stop", json!(["END"])),
        ("presence_penalty", json!(0.1)),
        ("frequency_penalty", json!(0.2)),
        ("reasoning_effort", json!("low")),
        ("user", json!("tester")),
    ] {
        assert_eq!(p[k], v, "{k} in {p}");
    }
    // model_params wins over defaults for its model only.
    let w = find("sim/balanced", &|w| !w.tools.is_empty());
    assert_eq!(w.params["temperature"], json!(1.5));
    assert_eq!(w.params["max_tokens"], json!(60));
    assert_eq!(w.params["service_tier"], json!("flex"));
    assert_eq!(w.params["user"], json!("tester"));
    assert_eq!(w.params["seed"], json!(11));
    // The case's own params win over defaults, model_params over both.
    let w = find("sim/fast", &|w| w.response_format.is_some());
    assert_eq!(w.response_format.as_deref(), Some("json_schema"));
    assert_eq!(w.params["temperature"], json!(0.7));
    let w = find("sim/balanced", &|w| w.response_format.is_some());
    assert_eq!(w.params["temperature"], json!(1.5));
    // Images: local files as data URLs with their media type and bytes, URLs as is.
    let w = find("sim/fast", &|w| !w.images.is_empty());
    assert_eq!(w.images.len(), 3);
    assert_eq!(w.images[0].media_type.as_deref(), Some("image/gif"));
    assert_eq!(
        w.images[0].sha256.as_deref(),
        Some(sha256_hex(GIF).as_str())
    );
    assert_eq!(w.images[0].detail.as_deref(), Some("low"));
    assert_eq!(w.images[1].media_type.as_deref(), Some("image/jpeg"));
    assert_eq!(w.images[1].bytes, Some(JPEG.len() as u64));
    assert_eq!(
        w.images[2].url.as_deref(),
        Some("https://example.com/x.png")
    );

    // The run's outputs: tool calls in responses.jsonl and requests.csv,
    // params per request, model_params in run.json, checks passed.
    let recs = records(&out);
    assert_eq!(recs.len(), 6);
    for r in &recs {
        assert_eq!(r.row.status, evalgate::record::Status::Ok, "{r:?}");
        assert_ne!(r.row.passed, Some(false), "{r:?}");
    }
    let call = recs.iter().find(|r| r.row.case_id == "tools").unwrap();
    assert_eq!(call.tool_calls.len(), 1);
    assert_eq!(call.tool_calls[0].name, "get_weather");
    assert_eq!(call.tool_calls[0].arguments, json!({"city": "Berlin"}));
    assert_eq!(call.row.finish_reason.as_deref(), Some("tool_calls"));
    assert!(call.row.ttft_ms.is_some());
    let fmt = recs
        .iter()
        .find(|r| r.row.case_id == "format" && r.row.model == "sim/balanced")
        .unwrap();
    assert_eq!(fmt.params.as_ref().unwrap().temperature, Some(1.5));
    assert!(fmt
        .checks
        .iter()
        .any(|c| c.check == "response_format" && c.passed));
    let csv = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains(",tool_calls,"));
    let calls: Vec<Option<u32>> = rows(&out)
        .iter()
        .filter(|r| r.case_id == "tools")
        .map(|r| r.tool_calls)
        .collect();
    assert_eq!(calls, [Some(1), Some(1)]);
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        run["model_params"]["sim/balanced"]["temperature"],
        json!(1.5)
    );
    // No image bytes in any output.
    let b64_gif = "R0lGODlh";
    for f in [
        "responses.jsonl",
        "requests.csv",
        "run.json",
        "junit.xml",
        "report.md",
    ] {
        if let Ok(s) = std::fs::read_to_string(out.join(f)) {
            assert!(!s.contains(b64_gif), "{f} holds image bytes");
        }
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("tool call: get_weather({&quot;city&quot;:&quot;Berlin&quot;})"),
        "{junit}"
    );
}

#[test]
fn shipped_suites_run_offline_and_pass() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["tools", "structured", "vision", "dataset"] {
        let suite = repo().join(format!("suites/{name}.yaml"));
        let out = tmp.path().join(name);
        let res = run_sim(tmp.path(), &suite, &out, &[]);
        assert_eq!(res.status.code(), Some(0), "{name}: {}", text(&res));
        let rows = rows(&out);
        assert!(!rows.is_empty());
        for r in rows {
            assert_eq!(r.passed, Some(true), "{name}: {r:?}");
        }
    }
    let ids: Vec<String> = rows(&tmp.path().join("dataset"))
        .into_iter()
        .map(|r| r.case_id)
        .collect();
    for id in [
        "T-100",
        "T-102",
        "row-1",
        "row-2",
        "greet[lang=de]",
        "greet[lang=fr]",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
}

#[test]
fn a_failing_tool_check_shows_the_calls_in_the_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "f.yaml",
        "name: f\nmodels: [sim/fast]\ncases:\n  - id: w\n    prompt: Weather in Paris?\n    tools:\n      - {type: function, function: {name: get_weather, description: weather lookup, parameters: {type: object, properties: {city: {type: string}}}}}\n    assert:\n      - {type: tool_call, name: get_weather, json_path: $.city, value: Rome}\n",
    );
    let out = tmp.path().join("out");
    let res = run_sim(tmp.path(), &suite, &out, &[]);
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let rec = &records(&out)[0];
    assert!(
        rec.row
            .failed_checks
            .as_deref()
            .unwrap()
            .contains("$.city is \"Paris\", expected \"Rome\""),
        "{rec:?}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("tool call: get_weather"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("tool call: get_weather"));
}

/// Each bad input exits 2, names file, line or row and field, and sends nothing.
#[test]
fn bad_input_stops_before_any_request() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig::default()));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("rows.csv"), "id,question\nq1,hi\n").unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "not an image").unwrap();
    std::fs::write(tmp.path().join("big.png"), vec![0u8; 2 * 1024 * 1024]).unwrap();
    let head = "name: bad\nmodels: [sim/fast]\ncases:\n";
    let cases: &[(&str, &str)] = &[
        (
            "  - id: a\n    prompt: hi\n    params: {temprature: 0.5}\n",
            "line 6: unknown field `temprature` in case `a` (did you mean `temperature`?)",
        ),
        (
            "  - id: a\n    messages:\n      - role: user\n        content:\n          - image: missing.png\n",
            "cannot read image missing.png",
        ),
        (
            "  - id: a\n    messages:\n      - role: user\n        content:\n          - image: notes.txt\n",
            "image notes.txt is not a PNG, JPEG, WebP or GIF file",
        ),
        (
            "  - id: a\n    messages:\n      - role: user\n        content:\n          - image: big.png\n",
            "image big.png is 2097152 bytes, over the limit of 1048576 bytes",
        ),
        (
            "  - cases_from: {file: rows.csv, id: id}\n    prompt: \"{{ question }} {{ answer }}\"\n",
            "unknown variable `answer` in case `q1`, row 1 (line 2) of rows.csv",
        ),
        (
            "  - id: a\n    prompt: hi\n    tools:\n      - type: function\n        function: {name: f, parameters: {type: objekt}}\n",
            "`parameters` of tool `f` is not a valid JSON Schema",
        ),
        (
            "  - id: a\n    prompt: hi\n    response_format:\n      type: json_schema\n      json_schema: {name: x, schema: {type: [1]}}\n",
            "the `response_format` schema is not a valid JSON Schema",
        ),
        (
            "  - id: a\n    prompt: hi\n    response_format:\n      type: json_schema\n      json_schema: {name: x, schema_file: nope.json}\n",
            "cannot read schema_file nope.json",
        ),
        (
            "  - id: a\n    prompt: hi\n    tool_choice: required\n",
            "`tool_choice` is set but there are no `tools`",
        ),
    ];
    for (i, (case, want)) in cases.iter().enumerate() {
        let suite = suite_file(
            tmp.path(),
            &format!("bad{i}.yaml"),
            &format!("{head}{case}"),
        );
        let out = tmp.path().join(format!("out{i}"));
        let res = run_gateway(
            tmp.path(),
            &sim.base_url(),
            KEY,
            &[
                suite.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--max-image-mb",
                "1",
            ],
        );
        assert_eq!(res.status.code(), Some(2), "case {i}: {}", text(&res));
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains(&format!("bad{i}.yaml")), "case {i}: {err}");
        assert!(err.contains(want), "case {i}: want {want:?} in {err}");
    }
    assert_eq!(sim.stats().requests, 0, "nothing may be sent");
}
