//! Generation lookups against gateways that keep no records (OpenAI,
//! LiteLLM, vLLM): once one lookup has had only 404s for its whole
//! `--lookup-wait` and none found a record, or at once when the 404 is not a
//! gateway error (the route does not exist), the pending lookups end and
//! later ones are not sent, and the run says so. One record found anywhere
//! keeps every lookup going. Proven by counting what a test gateway saw.
//! And a record's provider is held to the suite's provider order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::common::*;

/// How the test gateway answers the lookup of `gen_N`.
#[derive(Clone, Copy)]
enum Answer {
    Record,
    /// 404 with the gateway's JSON error: not there (yet).
    NotYet,
    /// 404 as FastAPI answers a route it does not have.
    NoRoute,
    /// Never answers.
    Hang,
}

/// A gateway whose first `at_once` answers come at once and the others 3 s
/// later (after any verdict of a short `--lookup-wait`), each with its own
/// id `gen_N`; it keeps the ids it was asked to look up.
struct TestGateway {
    url: String,
    looked_up: Arc<Mutex<Vec<u64>>>,
}

async fn gateway(at_once: u64, answer: fn(u64) -> Answer) -> TestGateway {
    let looked_up: Arc<Mutex<Vec<u64>>> = Arc::default();
    let seen = looked_up.clone();
    let next = Arc::new(AtomicU64::new(0));
    let chat = move || {
        let n = next.fetch_add(1, Ordering::Relaxed);
        async move {
            if n >= at_once {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            let content = format!(
                r#"{{"id":"gen_{n}","choices":[{{"index":0,"delta":{{"content":"Hello"}}}}]}}"#
            );
            let finish = format!(
                r#"{{"id":"gen_{n}","choices":[{{"index":0,"delta":{{}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":1,"cost":0.001}}}}"#
            );
            let sse = format!("data: {content}\n\ndata: {finish}\n\ndata: [DONE]\n\n");
            ([("content-type", "text/event-stream")], sse).into_response()
        }
    };
    let lookup = move |uri: Uri| {
        let n: u64 = uri
            .query()
            .and_then(|q| q.strip_prefix("id=gen_"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX);
        seen.lock().unwrap().push(n);
        async move {
            let json = [("content-type", "application/json")];
            match answer(n) {
                Answer::Record => {
                    let body = format!(
                        r#"{{"data":{{"id":"gen_{n}","total_cost":0.001,"latency":1,"generation_time":2,"provider_name":"p","model":"t/a"}}}}"#
                    );
                    (json, body).into_response()
                }
                Answer::NotYet => {
                    let body = r#"{"error":{"message":"Generation not found","type":"not_found"}}"#;
                    (StatusCode::NOT_FOUND, json, body).into_response()
                }
                Answer::NoRoute => {
                    (StatusCode::NOT_FOUND, json, r#"{"detail":"Not Found"}"#).into_response()
                }
                Answer::Hang => std::future::pending::<Response>().await,
            }
        }
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/generation", get(lookup));
    TestGateway {
        url: serve(app).await,
        looked_up,
    }
}

const SUITE: &str = "name: l\nmodels: [t/a]\ncases:\n  - {id: a, prompt: hi}\n";

/// Five answers of one model; returns stdout and the run directory's
/// `generations.jsonl`.
fn run_five(tmp: &std::path::Path, url: &str, extra: &[&str]) -> (String, String) {
    run_five_of(tmp, url, SUITE, extra)
}

fn run_five_of(tmp: &std::path::Path, url: &str, yaml: &str, extra: &[&str]) -> (String, String) {
    let suite = suite_file(tmp, "l.yaml", yaml);
    let mut args = vec![
        suite.to_str().unwrap(),
        "--no-catalog",
        "--no-history",
        "-n",
        "5",
        "--out",
        "r",
    ];
    args.extend_from_slice(extra);
    let res = run_gateway(tmp, url, "sk-lookup-test", &args);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let jsonl = std::fs::read_to_string(tmp.join("r/generations.jsonl")).unwrap_or_default();
    (String::from_utf8(res.stdout).unwrap(), jsonl)
}

fn looked_up(g: &TestGateway) -> Vec<u64> {
    let mut ids = g.looked_up.lock().unwrap().clone();
    ids.sort_unstable();
    ids
}

#[test]
fn only_404s_for_a_whole_wait_end_every_lookup() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // gen_0 is never there; gen_1's lookup hangs, so it is still pending
    // when gen_0's wait runs out; gen_2.. answer after that.
    let gw = rt.block_on(gateway(2, |n| match n {
        1 => Answer::Hang,
        _ => Answer::NotYet,
    }));
    let tmp = tempfile::tempdir().unwrap();
    let (out, jsonl) = run_five(tmp.path(), &gw.url, &["--lookup-wait", "500ms"]);
    let ids = looked_up(&gw);
    assert!(ids.contains(&0) && ids.contains(&1), "{ids:?}");
    assert!(
        ids.iter().all(|&n| n < 2),
        "later lookups not sent: {ids:?}"
    );
    assert!(
        out.contains(
            "generation records: 0 found, 2 not found, 3 not sent; this gateway keeps no generation records (GET /generation answered 404 for 0.5 s); --no-lookup skips them"
        ),
        "{out}"
    );
    // The pending lookup ended at the verdict rather than being abandoned.
    assert_eq!(jsonl.lines().count(), 2, "{jsonl}");
    assert!(jsonl.contains(r#""error":"not_found""#), "{jsonl}");
    assert!(jsonl.contains(r#""error":"gave_up""#), "{jsonl}");
}

#[test]
fn a_404_that_is_no_gateway_error_gives_up_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gw = rt.block_on(gateway(1, |_| Answer::NoRoute));
    let tmp = tempfile::tempdir().unwrap();
    // The default 30 s wait: the route's absence needs no waiting.
    let (out, _) = run_five(tmp.path(), &gw.url, &[]);
    assert_eq!(looked_up(&gw), [0], "one lookup, once");
    assert!(
        out.contains("1 not found, 4 not sent; this gateway keeps no generation records (it has no GET /generation)"),
        "{out}"
    );
}

#[test]
fn one_record_found_keeps_every_lookup_going() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gw = rt.block_on(gateway(2, |n| match n {
        0 => Answer::Record,
        _ => Answer::NotYet,
    }));
    let tmp = tempfile::tempdir().unwrap();
    let (out, _) = run_five(tmp.path(), &gw.url, &["--lookup-wait", "1s"]);
    let ids = looked_up(&gw);
    for n in 0..5 {
        assert!(ids.contains(&n), "gen_{n} looked up: {ids:?}");
    }
    assert!(
        out.contains("generation records: 1 found, 4 not found within 1 s\n"),
        "{out}"
    );
    assert!(!out.contains("keeps no generation records"), "{out}");
}

#[test]
fn a_zero_wait_looks_nothing_up() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gw = rt.block_on(gateway(5, |_| Answer::Record));
    let tmp = tempfile::tempdir().unwrap();
    let (out, jsonl) = run_five(tmp.path(), &gw.url, &["--lookup-wait", "0"]);
    assert!(looked_up(&gw).is_empty());
    assert!(
        jsonl.is_empty() && !out.contains("generation records"),
        "{out}"
    );
}

/// The stream names no provider and the gateway has no endpoints page: the
/// suite's `order[0]` is the first choice, and the records' provider `p`
/// makes every row a fallback, out of the latency figures.
#[test]
fn a_record_of_another_provider_than_ordered_first_is_a_fallback() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gw = rt.block_on(gateway(5, |_| Answer::Record));
    let tmp = tempfile::tempdir().unwrap();
    let yaml = SUITE.replace("cases:", "gateway: {order: [bedrock, p]}\ncases:");
    let (out, _) = run_five_of(tmp.path(), &gw.url, &yaml, &[]);
    assert!(out.contains("generation records: 5 found"), "{out}");
    let run = tmp.path().join("r");
    for r in rows(&run) {
        assert_eq!(r.provider, None, "the stream named none: {r:?}");
        assert_eq!(r.served_by.as_deref(), Some("p"));
        assert_eq!(r.fallback_chain.as_deref(), Some("bedrock>p"), "{r:?}");
    }
    let s = summary(&run);
    assert_eq!(s.run.first_choice["t/a"], "bedrock");
    assert_eq!(s.models[0].fallbacks, 5);
    assert_eq!(
        s.models[0].ttft_p50_ms, None,
        "fallback rows are not latency samples"
    );
}
