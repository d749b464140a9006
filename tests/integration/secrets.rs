//! The API key never leaves the `Authorization` header: not in any file of
//! the run directory, not on stdout or stderr (progress lines included), not
//! in error messages, even when a gateway echoes it back. And it is never
//! sent over plain http to a host that is not loopback unless asked.

use std::path::Path;
use std::process::Output;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use evalgate::record::{ErrorKind, Status};
use evalgate::sim::SimConfig;

use crate::common::*;

const KEY: &str = "sk-evalgate-test-5f3c9a1e7b2d4c60";
const WRONG: &str = "sk-evalgate-wrong-0b1c2d3e4f5a6b7c";

/// Run the binary with `key` in AI_GATEWAY_API_KEY.
fn run_with_key(dir: &Path, key: &str, args: &[&str]) -> Output {
    bin()
        .args(args)
        .env("AI_GATEWAY_API_KEY", key)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Every file under `dir` (recursively) and the outputs that contain `needle`.
fn leaks(dir: &Path, outputs: &[&Output], needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap();
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    found.push(p.display().to_string());
                }
            }
        }
    }
    assert!(files > 0, "nothing to search in {}", dir.display());
    for (i, out) in outputs.iter().enumerate() {
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if String::from_utf8_lossy(bytes).contains(needle) {
                found.push(format!("run {i} {name}"));
            }
        }
    }
    found
}

#[test]
fn the_key_appears_in_no_file_output_or_message() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig {
        required_key: Some(KEY.into()),
        ..SimConfig::default()
    }));
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let suite = suite_file(
        &work,
        "secret.yaml",
        "name: secret\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: Say hello.\n    assert:\n      - type: contains\n        value: the\n",
    );
    let url = sim.base_url();
    let s = suite.to_str().unwrap();

    // The right key, with progress lines on stderr (not a terminal, so a
    // line every 5 s: this run lasts a little longer than that).
    let ok = run_with_key(
        &work,
        KEY,
        &[
            "run",
            s,
            "--gateway",
            &url,
            "--out",
            "ok",
            "--models",
            "sim/fast",
            "--repeat",
            "26",
            "--concurrency",
            "1",
        ],
    );
    assert!(matches!(ok.status.code(), Some(0 | 1)), "{}", text(&ok));
    assert!(rows(&work.join("ok"))
        .iter()
        .all(|r| r.status == Status::Ok));
    assert!(
        String::from_utf8_lossy(&ok.stderr).contains("done, 0 errors | sim/fast"),
        "a progress line was printed: {}",
        text(&ok)
    );
    let meta = std::fs::read_to_string(work.join("ok/run.json")).unwrap();
    assert!(
        meta.contains("AI_GATEWAY_API_KEY"),
        "the variable's name is kept: {meta}"
    );

    // Fault rows too: their messages are kept, the key is not.
    let faults = run_with_key(
        &work,
        KEY,
        &[
            "run",
            s,
            "--gateway",
            &url,
            "--out",
            "faults",
            "--no-catalog",
            "--models",
            "sim/fast+error-event,sim/fast+malformed,sim/fast+500+retry-after-0",
        ],
    );
    assert_eq!(faults.status.code(), Some(3), "{}", text(&faults));

    // A wrong key: 401 rows, not retried, with the fix on the terminal.
    let wrong = run_with_key(
        &work,
        WRONG,
        &[
            "run",
            s,
            "--gateway",
            &url,
            "--out",
            "wrong",
            "--no-progress",
        ],
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong));
    let rows = rows(&work.join("wrong"));
    assert_eq!(rows.len(), 1);
    for r in &rows {
        assert_eq!(r.error_kind, Some(ErrorKind::Auth), "{r:?}");
        assert_eq!(r.attempts, 1);
    }
    let stdout = String::from_utf8_lossy(&wrong.stdout);
    assert!(
        stdout.contains("auth") && stdout.contains("check AI_GATEWAY_API_KEY"),
        "{stdout}"
    );

    // One that errors out before sending: an id not in the catalog.
    let refused = run_with_key(
        &work,
        KEY,
        &[
            "run",
            s,
            "--gateway",
            &url,
            "--models",
            "sim/nonexistent-model",
            "--out",
            "refused",
        ],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not in the gateway's catalog"));

    let outputs = [&ok, &faults, &wrong, &refused];
    assert_eq!(leaks(&work, &outputs, KEY), Vec::<String>::new());
    assert_eq!(leaks(&work, &outputs, WRONG), Vec::<String>::new());
    rt.block_on(sim.shutdown());
}

/// A gateway that quotes the bearer token back in every error it sends:
/// 401 for `echo/401`, a mid-stream error event for `echo/stream`, and a
/// 500 for the catalog.
async fn echo_gateway() -> (String, tokio::task::JoinHandle<()>) {
    fn token(h: &HeaderMap) -> String {
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim_start_matches("Bearer ")
            .to_string()
    }
    async fn chat(h: HeaderMap, body: String) -> axum::response::Response {
        let t = token(&h);
        if body.contains("echo/401") {
            let msg = serde_json::json!({"error": {"message": format!("Incorrect API key provided: {t}"), "type": "invalid_request_error"}});
            return (StatusCode::UNAUTHORIZED, axum::Json(msg)).into_response();
        }
        let content = serde_json::json!({"id": "gen_1", "choices": [{"index": 0, "delta": {"content": "Hello there"}}]});
        let error =
            serde_json::json!({"error": {"message": format!("quota exceeded for key {t}")}});
        let sse = format!("data: {content}\n\ndata: {error}\n\n");
        ([("content-type", "text/event-stream")], sse).into_response()
    }
    async fn models(h: HeaderMap) -> axum::response::Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("catalog down for {}", token(&h)),
        )
            .into_response()
    }
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}

#[test]
fn a_gateway_that_echoes_the_key_has_it_scrubbed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, task) = rt.block_on(echo_gateway());
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "echo.yaml",
        "name: echo\nmodels: [echo/401, echo/stream]\ncases:\n  - id: a\n    prompt: Say hello.\n",
    );
    let res = run_with_key(
        tmp.path(),
        KEY,
        &[
            "run",
            suite.to_str().unwrap(),
            "--gateway",
            &url,
            "--out",
            "run",
        ],
    );
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    let rows = rows(&tmp.path().join("run"));
    let msg = |kind| {
        rows.iter()
            .find(|r| r.error_kind == Some(kind))
            .and_then(|r| r.error_message.clone())
            .unwrap_or_else(|| panic!("a {kind} row: {rows:#?}"))
    };
    assert!(msg(ErrorKind::Auth).starts_with("Incorrect API key provided: [redacted]"));
    assert!(msg(ErrorKind::StreamError).contains("quota exceeded for key [redacted]"));
    // The catalog failure is a warning that quotes the gateway, scrubbed too.
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("catalog down for [redacted]"), "{err}");
    assert_eq!(leaks(tmp.path(), &[&res], KEY), Vec::<String>::new());
    task.abort();
}

#[test]
fn the_key_is_not_sent_over_plain_http_to_a_remote_host() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "insecure.yaml",
        "name: insecure\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: Say hello.\n",
    );
    // 0.0.0.0 is not a loopback address, but connecting to it reaches this
    // machine: were the check missing, the sim would see the request.
    let url = format!("http://0.0.0.0:{}/v1", sim.addr().port());
    let args = [
        "run",
        suite.to_str().unwrap(),
        "--gateway",
        &url,
        "--no-progress",
    ];
    let res = run_with_key(tmp.path(), KEY, &args);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("plain http") && err.contains("--allow-insecure-http"),
        "{err}"
    );
    assert_eq!(sim.stats().requests, 0, "nothing sent");
    assert!(!tmp.path().join("results").exists(), "no run directory");

    let mut allowed = args.to_vec();
    allowed.extend(["--allow-insecure-http", "--out", "allowed"]);
    let res = run_with_key(tmp.path(), KEY, &allowed);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(sim.stats().requests, 1);
    assert_eq!(leaks(tmp.path(), &[&res], KEY), Vec::<String>::new());
    rt.block_on(sim.shutdown());
}
