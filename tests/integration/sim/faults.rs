//! Every fault kind, over real HTTP.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::support::*;
use evalgate::sim::{FaultRule, SimConfig};

async fn error_of(resp: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    assert!(resp.headers().contains_key("x-sim-request-id"));
    (status, retry, resp.json().await.unwrap())
}

#[tokio::test]
async fn http_faults_answer_with_status_and_json_error() {
    let srv = sim(quick()).await;
    let cases = [
        ("sim/fast+429", 429, Some("1"), "rate_limited"),
        ("sim/fast+500", 500, None, "internal_error"),
        ("sim/fast+502", 502, None, "bad_gateway"),
        (
            "sim/fast+503+retry-after-5",
            503,
            Some("5"),
            "service_unavailable",
        ),
        ("sim/fast+429+retry-after-3", 429, Some("3"), "rate_limited"),
        ("sim/fast+401", 401, None, "invalid_api_key"),
        ("sim/fast+400", 400, None, "bad_request"),
        ("acme/nope+404", 404, None, "model_not_found"),
    ];
    for (model, status, retry, code) in cases {
        let (got, got_retry, body) = error_of(chat(&srv, model, "x", json!({})).await).await;
        assert_eq!(got, status, "{model}");
        assert_eq!(got_retry.as_deref(), retry, "{model}");
        assert_eq!(body["error"]["code"], code, "{model}");
        assert!(body["error"]["message"].is_string() && body["error"]["type"].is_string());
    }
    let (_, _, body) = error_of(chat(&srv, "sim/fast+429", "x", json!({})).await).await;
    assert_eq!(
        body,
        json!({"error":{"message":"Rate limit exceeded","type":"rate_limit_error","code":"rate_limited"}})
    );
    let (_, _, body) = error_of(chat(&srv, "acme/nope+404", "x", json!({})).await).await;
    assert_eq!(body["error"]["message"], "Model 'acme/nope+404' not found");
    assert_eq!(srv.stats().http_errors, 10);
}

#[tokio::test]
async fn stall_ttft_delays_the_first_token() {
    let srv = sim(SimConfig::default()).await;
    let sent = Instant::now();
    let raw = raw(&srv, "sim/ttft-5-itl-0-tok-2-jitter-0+stall-ttft-250", "x").await;
    assert!(sent.elapsed() >= Duration::from_millis(250));
    let ttft = get_json(&srv, "/stats/requests").await[0]["server_ttft_us"]
        .as_u64()
        .unwrap();
    assert!(ttft >= 255_000, "{ttft}");
    assert_eq!(deltas(&raw, "content").1, 2);
}

#[tokio::test]
async fn stall_mid_pauses_after_half_the_tokens() {
    let srv = sim(SimConfig::default()).await;
    let mut resp = chat(
        &srv,
        "sim/ttft-5-itl-0-tok-4-jitter-0+stall-mid-300",
        "x",
        json!({}),
    )
    .await;
    let sent = Instant::now();
    let mut seen = String::new();
    let mut at_two = None;
    while let Some(bytes) = resp.chunk().await.unwrap() {
        seen.push_str(std::str::from_utf8(&bytes).unwrap());
        if at_two.is_none() && deltas(&seen, "content").1 >= 2 {
            at_two = Some(sent.elapsed());
        }
    }
    let total = sent.elapsed();
    assert_eq!(deltas(&seen, "content").1, 4);
    let at_two = at_two.unwrap();
    assert!(
        total >= at_two + Duration::from_millis(250),
        "{at_two:?} then {total:?}"
    );
}

#[tokio::test]
async fn cut_mid_aborts_the_body_without_done() {
    let srv = sim(quick()).await;
    let mut resp = chat(
        &srv,
        "sim/ttft-5-itl-5-tok-10-jitter-0+cut-mid",
        "x",
        json!({}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let mut seen = String::new();
    let outcome = loop {
        match resp.chunk().await {
            Ok(Some(b)) => seen.push_str(std::str::from_utf8(&b).unwrap()),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(outcome.is_err(), "body must end with an error, got {seen}");
    assert_eq!(deltas(&seen, "content").1, 5);
    assert!(!seen.contains("[DONE]"));
}

#[tokio::test]
async fn error_event_ends_the_stream_after_some_chunks() {
    let srv = sim(quick()).await;
    let raw = raw(&srv, "sim/fast+error-event", "x").await;
    assert_eq!(deltas(&raw, "content").1, 24);
    let last = *data_events(&raw).last().unwrap();
    assert_eq!(
        last,
        r#"{"error":{"message":"Upstream provider error","type":"server_error","code":"upstream_error"}}"#
    );
    assert!(!raw.contains("[DONE]") && !raw.contains("\"usage\""));
}

#[tokio::test]
async fn malformed_event_is_injected_and_the_stream_continues() {
    let srv = sim(quick()).await;
    let raw = raw(&srv, "sim/fast+malformed", "x").await;
    assert!(raw.contains("\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n"));
    assert_eq!(deltas(&raw, "content").1, 48);
    assert!(raw.ends_with("data: [DONE]\n\n"));
    assert!(usage(&raw).is_some());
}

#[tokio::test]
async fn no_usage_sends_no_usage() {
    let srv = sim(quick()).await;
    let raw = raw(&srv, "sim/balanced+no-usage", "x").await;
    assert!(
        !raw.contains("\"usage\"") && !raw.contains("\"cost\""),
        "{raw}"
    );
    assert!(raw.ends_with("data: [DONE]\n\n"));
    let last = chunks(&raw).pop().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn flaky_fails_the_first_n_requests_then_succeeds() {
    let srv = sim(quick()).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            chat(&srv, "sim/fast+429+flaky-2", "x", json!({}))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [429, 429, 200, 200]);
    let ok = raw(&srv, "sim/fast+429+flaky-2", "x").await;
    assert_eq!(chunks(&ok)[0]["model"], "sim/fast+429+flaky-2");
}

#[tokio::test]
async fn rated_faults_are_deterministic_per_seed() {
    let run = |seed| async move {
        let srv = sim(SimConfig { seed, ..quick() }).await;
        let mut s = Vec::new();
        for _ in 0..30 {
            let resp = chat(&srv, "sim/ttft-1-itl-0-tok-1+503@0.5", "x", json!({})).await;
            s.push(resp.status().as_u16());
        }
        s
    };
    let a = run(3).await;
    assert_eq!(a, run(3).await);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
}

#[tokio::test]
async fn config_faults_apply_to_every_model() {
    let cfg = SimConfig {
        faults: vec![
            "503".parse::<FaultRule>().unwrap(),
            "retry-after-2".parse().unwrap(),
        ],
        ..quick()
    };
    let srv = sim(cfg).await;
    for model in ["sim/fast", "openai/gpt-5"] {
        let (status, retry, _) = error_of(chat(&srv, model, "x", json!({})).await).await;
        assert_eq!((status, retry.as_deref()), (503, Some("2")), "{model}");
    }
}
