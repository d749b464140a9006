//! Hostile gateways, hostile suites and a hostile environment (issue 19):
//! memory stays bounded by the limits, the key never leaks, proxies never
//! break loopback, odd answers are named as they are, deep YAML is refused
//! before parsing, junit.xml fits the schema consumers validate against,
//! and CSV cells cannot run as spreadsheet formulas.
//!
//! The gateway here is a raw HTTP/1.1 server written in the test, so each
//! reply is exactly the bytes a misbehaving gateway would send.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::*;

const KEY: &str = "sk-Q7xZ9vLm2pR4tK8wY1nB5cD3hJ6";
/// A piece of the key that must not appear either (a cut key leaks too).
const KEY_PART: &str = "Q7xZ9vLm";

/// What the hostile server received: `(path, authorization header)`.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A raw loopback HTTP server; `reply(path, body)` writes the whole answer.
struct Hostile {
    base: String,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Handler =
    Arc<dyn Fn(String, String, TcpStream) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

async fn hostile(handler: Handler) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (handler, seen) = (handler.clone(), seen2.clone());
            tokio::spawn(async move {
                let Some((path, auth, body)) = read_request(&mut sock).await else {
                    return;
                };
                seen.lock().unwrap().push((path.clone(), auth));
                handler(path, body, sock).await;
            });
        }
    });
    Hostile { base, seen, task }
}

async fn read_request(sock: &mut TcpStream) -> Option<(String, String, String)> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split(' ').nth(1).unwrap_or_default().to_string();
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    let auth = header("authorization").unwrap_or_default();
    Some((path, auth, String::from_utf8_lossy(&body).to_string()))
}

/// A complete answer with a fixed body.
async fn respond(mut sock: TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(body).await;
    let _ = sock.shutdown().await;
}

const SSE: &[(&str, &str)] = &[("content-type", "text/event-stream")];

fn chunk(json: serde_json::Value) -> String {
    format!("data: {json}\n\n")
}

fn content(text: &str) -> String {
    chunk(serde_json::json!({"id": "gen_h", "choices": [{"index": 0, "delta": {"content": text}}]}))
}

fn finish(usage: serde_json::Value) -> String {
    chunk(
        serde_json::json!({"id": "gen_h", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}),
    )
}

/// Rows of `requests.csv` as raw strings by column, as a spreadsheet or a
/// script reads them (no typed parsing that could hide a cell).
fn raw_rows(run: &Path) -> Vec<HashMap<String, String>> {
    let mut r = ::csv::Reader::from_path(run.join("requests.csv")).unwrap();
    let header = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn by_case(rows: Vec<HashMap<String, String>>) -> HashMap<String, HashMap<String, String>> {
    rows.into_iter().map(|r| (r["model"].clone(), r)).collect()
}

/// Every file under `dir` and both outputs: where `needle` occurs.
fn found_in(dir: &Path, outputs: &[&Output], needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(p.display().to_string());
            }
        }
    }
    for (i, out) in outputs.iter().enumerate() {
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(format!("output {i} {name}"));
            }
        }
    }
    found
}

fn run_key(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin();
    cmd.args(args)
        .env("AI_GATEWAY_API_KEY", KEY)
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `evalgate run SUITE --gateway BASE --no-catalog --no-progress EXTRA` in
/// `dir`, with the key and `env` set.
fn run_suite(dir: &Path, suite: &Path, base: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "run",
        suite.to_str().unwrap(),
        "--gateway",
        base,
        "--no-catalog",
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    run_key(dir, &args, env)
}

// ---------------------------------------------------------------- item 9

/// The gateway answers by model id with one odd reply each. It keeps no
/// generation records: `/generation` is a route it does not have.
fn odd_handler() -> Handler {
    Arc::new(|path, body, sock| {
        Box::pin(async move {
            if path.contains("/generation?") {
                return respond(sock, 404, &[], b"{\"detail\":\"Not Found\"}").await;
            }
            let model = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["model"].as_str().map(str::to_string))
                .unwrap_or_default();
            let usage_ok =
                serde_json::json!({"prompt_tokens": 5.0, "completion_tokens": "12", "cost": 0.25});
            match model.as_str() {
                "h/html" => {
                    respond(
                        sock,
                        200,
                        &[("content-type", "text/html; charset=utf-8")],
                        b"<html><body>Login required</body></html>",
                    )
                    .await
                }
                "h/json" => {
                    let body = serde_json::json!({"id": "gen_json", "object": "chat.completion",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from JSON"}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "cost": 0.5}});
                    respond(
                        sock,
                        200,
                        &[("content-type", "application/json")],
                        body.to_string().as_bytes(),
                    )
                    .await
                }
                "h/empty" => respond(sock, 200, SSE, b"").await,
                "h/done-only" => respond(sock, 200, SSE, b"data: [DONE]\n\n").await,
                "h/gzip" => {
                    // A gzip header and some deflate bytes: not a readable stream.
                    let bytes = [
                        0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0x4b, 0x49, 0x2c, 0x49, 0xb4,
                        0x52, 0x70, 0xf1, 0xf7, 0x73, 0x8d, 0xe5, 0xe2, 0x02, 0x00,
                    ];
                    let headers = [
                        ("content-type", "text/event-stream"),
                        ("content-encoding", "gzip"),
                    ];
                    respond(sock, 200, &headers, &bytes).await
                }
                "h/lenient" => {
                    let sse = content("Hi there") + &finish(usage_ok) + "data: [DONE]\n\n";
                    respond(sock, 200, SSE, sse.as_bytes()).await
                }
                "h/absurd" => {
                    let usage = serde_json::json!({"prompt_tokens": 7, "completion_tokens": 1e300,
                        "completion_tokens_details": {"reasoning_tokens": -3}, "cost": -0.5});
                    let sse = content("Still an answer") + &finish(usage) + "data: [DONE]\n\n";
                    respond(sock, 200, SSE, sse.as_bytes()).await
                }
                "h/nan-cost" => {
                    let usage = serde_json::json!({"prompt_tokens": 3, "completion_tokens": 2, "cost": "NaN"});
                    let sse = content("ok") + &finish(usage) + "data: [DONE]\n\n";
                    respond(sock, 200, SSE, sse.as_bytes()).await
                }
                _ => {
                    respond(
                        sock,
                        404,
                        &[],
                        b"{\"error\":{\"message\":\"no such model\"}}",
                    )
                    .await
                }
            }
        })
    })
}

#[test]
fn odd_answers_are_told_as_they_are() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(hostile(odd_handler()));
    let tmp = tempfile::tempdir().unwrap();
    let models = [
        "h/html",
        "h/json",
        "h/empty",
        "h/done-only",
        "h/gzip",
        "h/lenient",
        "h/absurd",
        "h/nan-cost",
    ];
    let suite = one_case_suite(tmp.path(), "h", &models);
    let out = run_suite(
        tmp.path(),
        &suite,
        &server.base,
        &["--max-retries", "0", "--out", "run"],
        &[],
    );
    // Some answers arrived, so the run itself did not fail.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = tmp.path().join("run");
    let rows = by_case(raw_rows(&run));
    assert_eq!(rows.len(), models.len(), "one row per job");
    let kind = |m: &str| (rows[m]["status"].as_str(), rows[m]["error_kind"].as_str());

    assert_eq!(kind("h/html"), ("error", "not_a_stream"));
    assert!(
        rows["h/html"]["error_message"].contains("text/html"),
        "{:?}",
        rows["h/html"]
    );
    assert_eq!(kind("h/gzip"), ("error", "not_a_stream"));
    assert!(rows["h/gzip"]["error_message"].contains("gzip"));
    assert_eq!(kind("h/empty"), ("error", "empty_answer"));
    assert_eq!(kind("h/done-only"), ("error", "empty_answer"));

    // A non-streamed completion is an answer without a TTFT.
    let json = &rows["h/json"];
    assert_eq!(kind("h/json"), ("ok", ""), "{json:?}");
    assert_eq!(json["ttft_ms"], "");
    assert!(
        json["duration_ms"].parse::<f64>().unwrap() > 0.0,
        "{json:?}"
    );
    assert_eq!(
        (
            json["input_tokens"].as_str(),
            json["output_tokens"].as_str()
        ),
        ("9", "4")
    );
    assert_eq!(
        (json["cost_usd"].as_str(), json["cost_source"].as_str()),
        ("0.5", "gateway")
    );
    let recs = records(&run);
    let rec = |m: &str| recs.iter().find(|r| r.row.model == m).unwrap();
    assert_eq!(rec("h/json").text, "Hello from JSON");

    // Integral usage as a float or a string is accepted.
    let lenient = &rows["h/lenient"];
    assert_eq!(kind("h/lenient"), ("ok", ""));
    assert_eq!(
        (
            lenient["input_tokens"].as_str(),
            lenient["output_tokens"].as_str()
        ),
        ("5", "12")
    );

    // Absurd values are rejected per field; the answer stays.
    let absurd = &rows["h/absurd"];
    assert_eq!(kind("h/absurd"), ("ok", ""), "{absurd:?}");
    assert_eq!(rec("h/absurd").text, "Still an answer");
    assert_eq!(absurd["input_tokens"], "7");
    assert_eq!(
        absurd["output_tokens"], "",
        "1e300 is no token count: {absurd:?}"
    );
    assert_eq!(absurd["reasoning_tokens"], "", "-3 is no token count");
    assert_eq!(
        (absurd["cost_usd"].as_str(), absurd["cost_source"].as_str()),
        ("", "invalid")
    );
    let nan = &rows["h/nan-cost"];
    assert_eq!(
        (nan["cost_usd"].as_str(), nan["cost_source"].as_str()),
        ("", "invalid")
    );

    // Negative costs are never summed: the only cost is h/json's 0.5 and h/lenient's 0.25.
    let sum: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let total: f64 = sum["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["cost_usd"].as_f64())
        .sum();
    assert!((total - 0.75).abs() < 1e-9, "total {total}");

    // None of these is told to retry mid-stream.
    let terminal =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!terminal.contains("--retry-midstream"), "{terminal}");
}

// ---------------------------------------------------------------- item 1

#[test]
fn answers_beyond_the_limit_are_truncated_and_measured_to_the_end() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(hostile(Arc::new(|_path, _body, sock| {
        Box::pin(async move {
            let mut sse = String::new();
            for i in 0..50 {
                sse.push_str(&content(&format!("{i:03}{}", "x".repeat(97))));
            }
            sse.push_str(&finish(
                serde_json::json!({"prompt_tokens": 3, "completion_tokens": 1234}),
            ));
            sse.push_str("data: [DONE]\n\n");
            respond(sock, 200, SSE, sse.as_bytes()).await
        })
    })));
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "h", &["h/long"]);
    let out = run_suite(
        tmp.path(),
        &suite,
        &server.base,
        &["--max-answer-bytes", "1000", "--out", "run"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = tmp.path().join("run");
    let row = &raw_rows(&run)[0];
    assert_eq!(row["status"], "ok");
    assert_eq!(row["truncated"], "true", "{row:?}");
    assert_eq!(row["output_tokens"], "1234", "measured to the end: {row:?}");
    assert!(!row["duration_ms"].is_empty());
    let line = std::fs::read_to_string(run.join("responses.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(v["truncated"], true, "{v}");
    let answer = v["text"].as_str().unwrap();
    assert!(
        answer.len() <= 1000 && answer.starts_with("000"),
        "{}",
        answer.len()
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["options"]["max_answer_bytes"], 1000, "{meta}");

    // The suite may set it too; the flag wins.
    let suite = suite_file(
        tmp.path(),
        "limit.yaml",
        "name: h
models: [h/long]
max_answer_bytes: 200
cases:
  - id: a
    prompt: Say hello.
",
    );
    for (out, flag) in [("suite", None), ("flag", Some("100KiB"))] {
        let mut args = vec!["--out", out];
        if let Some(f) = flag {
            args.extend(["--max-answer-bytes", f]);
        }
        let res = run_suite(tmp.path(), &suite, &server.base, &args, &[]);
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
        let recs = records(&tmp.path().join(out));
        let (len, truncated) = (recs[0].text.len(), recs[0].row.truncated);
        match flag {
            None => assert_eq!((len, truncated), (200, true)),
            Some(_) => assert_eq!((len, truncated), (5000, false)),
        }
    }
}

/// One `data:` line longer than the per-line limit, then silence: the
/// request fails at once as `malformed_stream`, not after the idle timeout.
#[test]
fn a_line_beyond_the_limit_is_a_malformed_stream() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(hostile(Arc::new(|_path, _body, mut sock| {
        Box::pin(async move {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: {\"x\":\"";
            let _ = sock.write_all(head.as_bytes()).await;
            let block = vec![b'a'; 1 << 20];
            for _ in 0..17 {
                if sock.write_all(&block).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
    })));
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "h", &["h/line"]);
    let started = Instant::now();
    let out = run_suite(
        tmp.path(),
        &suite,
        &server.base,
        &["--idle-timeout", "20s", "--out", "run"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let row = &raw_rows(&tmp.path().join("run"))[0];
    assert_eq!(row["error_kind"], "malformed_stream", "{row:?}");
    assert!(row["error_message"].contains("16 MiB"), "{row:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "not the idle timeout"
    );
}

#[test]
fn catalog_and_credits_bodies_are_bounded() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(hostile(Arc::new(|path, _body, sock| {
        Box::pin(async move {
            // Valid JSON, padded with whitespace past the limits.
            if path.ends_with("/models") {
                let mut body = b"{\"data\":[{\"id\":\"a/b\"}]".to_vec();
                body.resize(body.len() + (33 << 20), b' ');
                body.push(b'}');
                respond(sock, 200, &[("content-type", "application/json")], &body).await
            } else {
                let mut body = b"{\"balance\":\"5\",\"total_used\":\"1\"".to_vec();
                body.resize(body.len() + (2 << 20), b' ');
                body.push(b'}');
                respond(sock, 200, &[("content-type", "application/json")], &body).await
            }
        })
    })));
    let tmp = tempfile::tempdir().unwrap();
    let models = run_key(
        tmp.path(),
        &["models", "--gateway", &server.base, "--refresh"],
        &[],
    );
    assert_ne!(models.status.code(), Some(0), "{}", text(&models));
    let err = String::from_utf8_lossy(&models.stderr);
    assert!(err.contains("32 MiB") && err.contains("/models"), "{err}");
    let credits = run_key(tmp.path(), &["credits", "--gateway", &server.base], &[]);
    assert_ne!(credits.status.code(), Some(0), "{}", text(&credits));
    let err = String::from_utf8_lossy(&credits.stderr);
    assert!(err.contains("1 MiB") && err.contains("/credits"), "{err}");
}

// ---------------------------------------------------------------- item 2

#[test]
fn gateway_urls_with_userinfo_are_refused_and_never_printed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(hostile(odd_handler()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "h", &["h/lenient"]);
    let with_user = server
        .base
        .replace("http://", &format!("http://user:{KEY}@"));
    let run = run_suite(tmp.path(), &suite, &with_user, &[], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("user name or password"), "{err}");
    let models = run_key(
        tmp.path(),
        &["models"],
        &[("AI_GATEWAY_BASE_URL", &with_user)],
    );
    assert_eq!(models.status.code(), Some(2), "{}", text(&models));
    assert!(server.seen.lock().unwrap().is_empty(), "nothing sent");
    assert_eq!(
        found_in(tmp.path(), &[&run, &models], KEY_PART.as_bytes()),
        Vec::<String>::new()
    );
}

/// The gateway quotes the key in a catalog value, in a malformed chunk (at
/// the place where an excerpt is cut) and in a stream error.
#[test]
fn a_key_echoed_in_any_position_is_scrubbed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(hostile(Arc::new(|path, body, sock| {
        Box::pin(async move {
            if path.ends_with("/models") {
                let body = format!(r#"{{"data":[{{"id":"h/cut","context_window":"{KEY}"}}]}}"#);
                return respond(sock, 200, &[], body.as_bytes()).await;
            }
            if path.ends_with("/credits") {
                let body = format!(r#"{{"balance":{{"{KEY}":1}},"total_used":"{KEY}"}}"#);
                return respond(sock, 200, &[], body.as_bytes()).await;
            }
            // For h/cut the key starts just before a 120-character excerpt ends.
            let pad = if body.contains("h/cut") {
                "p".repeat(105)
            } else {
                String::new()
            };
            let sse = content("partial ") + &format!("data: {{\"{pad}\": \"{KEY}\" oops\n\n");
            respond(sock, 200, SSE, sse.as_bytes()).await
        })
    })));
    let tmp = tempfile::tempdir().unwrap();
    let models = run_key(tmp.path(), &["models", "--gateway", &server.base], &[]);
    assert_ne!(models.status.code(), Some(0), "{}", text(&models));
    let credits = run_key(tmp.path(), &["credits", "--gateway", &server.base], &[]);
    assert_ne!(credits.status.code(), Some(0), "{}", text(&credits));
    let suite = one_case_suite(tmp.path(), "h", &["h/cut", "h/plain"]);
    let run = run_suite(
        tmp.path(),
        &suite,
        &server.base,
        &["--max-retries", "0", "--out", "run"],
        &[],
    );
    assert_eq!(run.status.code(), Some(3), "{}", text(&run));
    let rows = raw_rows(&tmp.path().join("run"));
    assert!(
        rows.iter().all(|r| r["error_kind"] == "malformed_stream"),
        "{rows:?}"
    );
    // The key was at the excerpt's cut and was replaced before the cut.
    let cut = rows.iter().find(|r| r["model"] == "h/cut").unwrap();
    assert!(cut["error_message"].contains("[redact"), "{cut:?}");
    let outputs = [models, credits, run];
    let refs: Vec<&Output> = outputs.iter().collect();
    assert_eq!(
        found_in(tmp.path(), &refs, KEY_PART.as_bytes()),
        Vec::<String>::new()
    );
}

/// With `--proxy-loopback`, a loopback http gateway would be reached through
/// the proxy; the proxy's host is not loopback, so the key would cross the
/// network in cleartext: refused before anything is sent.
#[test]
fn the_key_never_goes_in_cleartext_through_a_proxy() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gateway = rt.block_on(hostile(odd_handler()));
    let proxy = rt.block_on(hostile(odd_handler()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "h", &["h/lenient"]);
    // 0.0.0.0 is not loopback, yet connecting to it reaches this machine:
    // were the check missing, the capturing proxy would see the key.
    let port = proxy
        .base
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let proxy_url = format!("http://proxyuser:proxypass@0.0.0.0:{port}");
    let out = run_suite(
        tmp.path(),
        &suite,
        &gateway.base,
        &["--proxy-loopback"],
        &[("HTTP_PROXY", &proxy_url)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cleartext") && err.contains(&format!("0.0.0.0:{port}")),
        "{err}"
    );
    assert!(
        !err.contains("proxypass"),
        "proxy credentials printed: {err}"
    );
    assert!(
        proxy.seen.lock().unwrap().is_empty(),
        "nothing sent to the proxy"
    );
    assert!(gateway.seen.lock().unwrap().is_empty(), "nothing sent");
}

// ---------------------------------------------------------------- item 4

#[test]
fn a_proxy_never_breaks_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead_proxy = format!("http://127.0.0.1:{closed}");
    let suite = one_case_suite(tmp.path(), "h", &["sim/fast"]);
    let out = bin()
        .args(["run", suite.to_str().unwrap(), "--sim", "--no-progress"])
        .args(["--out", "sim"])
        .env("HTTP_PROXY", &dead_proxy)
        .env("HTTPS_PROXY", &dead_proxy)
        .env("ALL_PROXY", &dead_proxy)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A loopback gateway too; and with --proxy-loopback the (loopback)
    // proxy is used, as asked.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gateway = rt.block_on(hostile(odd_handler()));
    let proxy = rt.block_on(hostile(odd_handler()));
    let suite = one_case_suite(tmp.path(), "h", &["h/lenient"]);
    let args = [
        "run",
        suite.to_str().unwrap(),
        "--gateway",
        &gateway.base,
        "--no-catalog",
        "--no-progress",
    ];
    let direct = run_key(
        tmp.path(),
        &[&args[..], &["--out", "direct"]].concat(),
        &[("HTTP_PROXY", &dead_proxy)],
    );
    assert_eq!(direct.status.code(), Some(0), "{}", text(&direct));
    // The chat request, and the generation lookups after it, went direct.
    let chats = |seen: &[(String, String)]| {
        seen.iter()
            .filter(|(path, _)| path.ends_with("/chat/completions"))
            .count()
    };
    let lookups = |seen: &[(String, String)]| {
        seen.iter()
            .filter(|(path, _)| path.contains("/generation?"))
            .count()
    };
    let direct_seen = gateway.seen.lock().unwrap().clone();
    assert_eq!(chats(&direct_seen), 1, "{direct_seen:?}");
    assert_eq!(lookups(&direct_seen), 1, "{direct_seen:?}");
    let proxy_url = proxy.base.trim_end_matches("/v1").to_string();
    let via = run_key(
        tmp.path(),
        &[&args[..], &["--out", "via", "--proxy-loopback"]].concat(),
        &[("HTTP_PROXY", &proxy_url)],
    );
    assert_eq!(via.status.code(), Some(0), "{}", text(&via));
    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(chats(&seen), 1, "{seen:?}");
    assert_eq!(lookups(&seen), 1, "{seen:?}");
    assert!(
        seen.iter().all(|(p, _)| p.starts_with("http://127.0.0.1:")),
        "absolute-form requests to the proxy: {seen:?}"
    );
    assert_eq!(
        gateway.seen.lock().unwrap().len(),
        direct_seen.len(),
        "not sent directly (lookups neither)"
    );
}

// ---------------------------------------------------------------- item 10

/// `evalgate validate` with a deadline: the process is killed after `secs`.
fn validate_within(dir: &Path, suite: &Path, secs: u64) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = bin()
        .args(["validate", suite.to_str().unwrap()])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            let mut out = String::new();
            std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
            return (status.code(), out + &err, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            return (None, "killed".into(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn deeply_nested_and_huge_suites_are_refused_before_parsing() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 80_000;
    let deep = format!(
        "name: deep\ncases:\n  - id: a\n    prompt: hi\n    vars: {}1{}\n",
        "{a: ".repeat(n),
        "}".repeat(n)
    );
    assert!(deep.len() > 400_000);
    let path = suite_file(tmp.path(), "deep.yaml", &deep);
    let (code, out, _) = validate_within(tmp.path(), &path, 60);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("deep.yaml line 5") && out.contains("nested deeper than 64"),
        "{out}"
    );

    // Block nesting counts too.
    let mut block = String::from("name: block\ncases:\n  - id: a\n    prompt: hi\n    vars:\n");
    for i in 0..70 {
        block.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 3)));
    }
    let path = suite_file(tmp.path(), "block.yaml", &block);
    let (code, out, _) = validate_within(tmp.path(), &path, 60);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("nested deeper than 64"), "{out}");

    // Brackets inside quotes, comments and block scalars are text, not nesting.
    let fine = format!(
        "name: fine\ncases:\n  - id: a\n    prompt: \"{}\"  # {}\n  - id: b\n    prompt: |\n      {}\n",
        "[".repeat(100),
        "{".repeat(100),
        "{[".repeat(100)
    );
    let path = suite_file(tmp.path(), "fine.yaml", &fine);
    let (code, out, _) = validate_within(tmp.path(), &path, 60);
    assert_eq!(code, Some(0), "{out}");

    let mut huge = String::from("name: huge\ncases:\n  - id: a\n    prompt: hi\n");
    huge.push_str(&format!("# {}\n", "x".repeat(9 << 20)));
    let path = suite_file(tmp.path(), "huge.yaml", &huge);
    let (code, out, _) = validate_within(tmp.path(), &path, 60);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("huge.yaml") && out.contains("8 MiB"), "{out}");
}

// ---------------------------------------------------------------- item 12

/// Attributes the Jenkins xUnit plugin's JUnit schema (junit-10.xsd) allows.
const TESTSUITES_ATTRS: &[&str] = &["name", "time", "tests", "failures", "disabled", "errors"];
const TESTSUITE_ATTRS: &[&str] = &[
    "name",
    "tests",
    "failures",
    "errors",
    "time",
    "disabled",
    "skipped",
    "timestamp",
    "hostname",
    "id",
    "package",
    "file",
    "log",
    "url",
    "version",
];
const TESTCASE_ATTRS: &[&str] = &[
    "name",
    "assertions",
    "time",
    "classname",
    "status",
    "class",
    "file",
    "line",
    "log",
    "group",
    "url",
];

#[test]
fn junit_fits_the_jenkins_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "j.yaml",
        "name: j\nmodels: [sim/fast, sim/fast+500]\ncases:\n  - id: a\n    prompt: Say hello.\n    assert:\n      - type: contains\n        value: zzz-never\n  - id: b\n    prompt: Say bye.\n",
    );
    let out = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("run"),
        &[
            "--max-requests",
            "3",
            "--max-retries",
            "0",
            "--concurrency",
            "1",
        ],
    );
    assert!(out.status.code().is_some(), "{}", text(&out));
    let xml = std::fs::read_to_string(tmp.path().join("run/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let decimal = regex::Regex::new(r"^[0-9]+(\.[0-9]+)?$").unwrap();
    let mut seen = HashMap::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let allowed = match node.tag_name().name() {
            "testsuites" => TESTSUITES_ATTRS,
            "testsuite" => TESTSUITE_ATTRS,
            "testcase" => TESTCASE_ATTRS,
            _ => continue,
        };
        *seen.entry(node.tag_name().name()).or_insert(0) += 1;
        for a in node.attributes() {
            assert!(
                allowed.contains(&a.name()),
                "`{}` on <{}> is not in the schema: {xml}",
                a.name(),
                node.tag_name().name()
            );
            if a.name() == "time" {
                assert!(decimal.is_match(a.value()), "time `{}`", a.value());
            }
        }
    }
    assert_eq!(seen.get("testsuites"), Some(&1), "{xml}");
    assert!(xml.contains("<skipped"), "the run has skipped jobs: {xml}");
    assert!(xml.contains("<error"), "{xml}");
    assert!(xml.contains("<failure"), "{xml}");
}

// ---------------------------------------------------------------- item 13

#[test]
fn csv_cells_cannot_become_formulas_and_ids_lose_bidi_and_nul() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "csv.yaml",
        "name: csv\nmodels: [sim/fast]\ncases:\n  - id: \"=cmd|' /C calc'!A0\"\n    prompt: Say hello.\n  - id: \"@SUM(1)\"\n    prompt: Say hi.\n  - id: \"safe\\u202Egnp.exe\\0x\"\n    prompt: Say yo.\n",
    );
    let out = run_sim(tmp.path(), &suite, &tmp.path().join("run"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = tmp.path().join("run");
    let rows = raw_rows(&run);
    let ids: Vec<&str> = rows.iter().map(|r| r["case_id"].as_str()).collect();
    assert!(ids.contains(&"'=cmd|' /C calc'!A0"), "{ids:?}");
    assert!(ids.contains(&"'@SUM(1)"), "{ids:?}");
    assert!(ids.contains(&"safegnp.exex"), "{ids:?}");
    for r in &rows {
        for (col, cell) in r {
            let first = cell.chars().next();
            let numeric = cell.parse::<f64>().is_ok();
            assert!(
                numeric || !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
                "{col} = {cell:?}"
            );
        }
    }
    // Read back by evalgate itself, the ids are the suite's.
    let back = crate::common::rows(&run);
    assert!(back.iter().any(|r| r.case_id == "=cmd|' /C calc'!A0"));
    let outputs = [&out];
    for bad in ["\u{202E}".as_bytes(), b"\0"] {
        assert_eq!(found_in(&run, &outputs, bad), Vec::<String>::new());
    }
}
