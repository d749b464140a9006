//! Stream shape, profiles, catalog, credits, auth, stats, echo, judge, determinism.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::support::*;
use evalgate::sim::{profile_for, SimConfig, StatsSnapshot, NAMED};

#[tokio::test]
async fn stream_has_role_content_finish_usage_done() {
    let srv = sim(quick()).await;
    let resp = chat(&srv, "sim/fast", "What is the refund window?", json!({})).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let header_id = resp.headers()["x-sim-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let raw = String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap();

    assert!(raw.starts_with(": PROCESSING\n\n"), "{raw}");
    assert!(raw.ends_with("data: [DONE]\n\n"));
    let chunks = chunks(&raw);
    let first = &chunks[0];
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["model"], "sim/fast");
    assert_eq!(
        first["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let id = first["id"].as_str().unwrap();
    assert_eq!(id, header_id);
    assert!(id.starts_with("gen_") && id.len() == 30, "{id}");
    assert!(chunks.iter().all(|c| c["id"] == id));

    let (text, n) = deltas(&raw, "content");
    assert_eq!(n, 48);
    assert!(text.split(' ').count() == 48, "{text}");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    let usage = &last["usage"];
    assert_eq!(usage["completion_tokens"], 48);
    assert_eq!(
        usage["prompt_tokens"],
        (9u64.div_ceil(4) + 4) + (26u64.div_ceil(4) + 4)
    );
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["prompt_tokens"].as_u64().unwrap() + 48)
    );
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    let cost = usage["cost"].as_f64().unwrap();
    let gw = &last["provider_metadata"]["gateway"];
    assert_eq!(gw["cost"].as_str().unwrap().parse::<f64>().unwrap(), cost);
    assert_eq!(gw["routing"]["finalProvider"], "simcloud");
    // 18 prompt tokens at $0.10/M + 48 output at $0.40/M.
    assert!(
        (cost - (18.0 * 0.10e-6 + 48.0 * 0.40e-6)).abs() < 1e-12,
        "{cost}"
    );
}

#[tokio::test]
async fn balanced_sends_usage_in_a_separate_empty_choices_chunk() {
    let srv = sim(quick()).await;
    let raw = raw(&srv, "sim/balanced", "hi").await;
    let chunks = chunks(&raw);
    let n = chunks.len();
    let finish = &chunks[n - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert!(finish.get("usage").is_none());
    let last = &chunks[n - 1];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 96);
}

#[tokio::test]
async fn reasoning_streams_before_content_and_counts_in_completion() {
    let srv = sim(quick()).await;
    let raw = raw(&srv, "sim/reasoning", "think").await;
    let (_, r) = deltas(&raw, "reasoning");
    let (_, c) = deltas(&raw, "content");
    assert_eq!((r, c), (32, 64));
    let kinds: Vec<&str> = chunks(&raw)
        .iter()
        .filter_map(|c| c.pointer("/choices/0/delta").and_then(Value::as_object))
        .filter_map(|d| {
            if d.contains_key("reasoning") {
                Some("r")
            } else if d
                .get("content")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
            {
                Some("c")
            } else {
                None
            }
        })
        .collect();
    let last_r = kinds.iter().rposition(|k| *k == "r").unwrap();
    let first_c = kinds.iter().position(|k| *k == "c").unwrap();
    assert!(last_r < first_c, "reasoning must come first");
    let u = usage(&raw).unwrap();
    assert_eq!(u["completion_tokens"], 96);
    assert_eq!(u["completion_tokens_details"]["reasoning_tokens"], 32);
}

#[tokio::test]
async fn parametric_ttft_is_respected_from_the_client_side() {
    let srv = sim(SimConfig::default()).await;
    let sent = Instant::now();
    let mut resp = chat(
        &srv,
        "sim/ttft-150-itl-1-tok-3-jitter-0",
        "time me",
        json!({}),
    )
    .await;
    let mut seen = String::new();
    let mut first_content = None;
    while let Some(bytes) = resp.chunk().await.unwrap() {
        seen.push_str(std::str::from_utf8(&bytes).unwrap());
        if first_content.is_none() && deltas(&seen, "content").1 > 0 {
            first_content = Some(sent.elapsed());
        }
    }
    let ttft = first_content.expect("content arrived");
    assert!(ttft >= Duration::from_millis(150), "{ttft:?}");
    assert!(ttft < Duration::from_secs(5), "{ttft:?}");
    let reqs = get_json(&srv, "/stats/requests").await;
    let server_ttft = reqs[0]["server_ttft_us"].as_u64().unwrap();
    assert!((150_000..5_000_000).contains(&server_ttft), "{server_ttft}");
    assert!(reqs[0]["server_duration_us"].as_u64().unwrap() >= server_ttft);
}

#[tokio::test]
async fn catalog_publishes_prices_as_strings_without_a_key() {
    let srv = sim(SimConfig {
        required_key: Some("k-123".into()),
        ..quick()
    })
    .await;
    let resp = client()
        .get(format!("{}/models", srv.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cat: Value = resp.json().await.unwrap();
    assert_eq!(cat["object"], "list");
    let data = cat["data"].as_array().unwrap();
    for id in NAMED {
        assert!(data.iter().any(|m| m["id"] == *id), "{id} missing");
    }
    let gpt5 = data.iter().find(|m| m["id"] == "openai/gpt-5").unwrap();
    assert_eq!(gpt5["pricing"]["input"], "0.00000125");
    assert_eq!(gpt5["pricing"]["output"], "0.00001");
    assert_eq!(gpt5["object"], "model");
    let flash = data
        .iter()
        .find(|m| m["id"] == "google/gemini-2.5-flash")
        .unwrap();
    let price: f64 = flash["pricing"]["input"].as_str().unwrap().parse().unwrap();
    assert_eq!(price, profile_for("google/gemini-2.5-flash").prices.input);
}

#[tokio::test]
async fn credits_and_chat_need_the_key_when_one_is_required() {
    let key = "sk-very-secret-123";
    let srv = sim(SimConfig {
        required_key: Some(key.into()),
        ..quick()
    })
    .await;
    let url = format!("{}/credits", srv.base_url());
    let denied = client().get(&url).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let body = denied.text().await.unwrap();
    assert!(
        body.contains("invalid_api_key") && !body.contains(key),
        "{body}"
    );
    let ok: Value = client()
        .get(&url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok, json!({"balance": "95.50", "total_used": "4.50"}));

    let resp = chat(&srv, "sim/fast", "hi", json!({})).await;
    assert_eq!(resp.status(), 401);
    let body = resp.text().await.unwrap();
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["type"], "authentication_error");
    let wrong = client()
        .post(format!("{}/chat/completions", srv.base_url()))
        .bearer_auth("sk-wrong")
        .json(&json!({"model": "sim/fast", "messages": [], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client()
        .post(format!("{}/chat/completions", srv.base_url()))
        .bearer_auth(key)
        .json(&json!({"model": "sim/fast", "messages": [{"role": "user", "content": "x"}], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let text = right.text().await.unwrap();
    assert!(!text.contains(key));
}

#[tokio::test]
async fn peak_in_flight_counts_concurrent_requests_and_resets() {
    let srv = sim(SimConfig::default()).await;
    let n = 8;
    let reqs = (0..n).map(|i| {
        let srv = &srv;
        async move { raw(srv, "sim/ttft-300-itl-0-tok-2-jitter-0", &format!("q{i}")).await }
    });
    let bodies = futures::future::join_all(reqs).await;
    assert!(bodies.iter().all(|b| b.ends_with("data: [DONE]\n\n")));
    let mut snap = srv.stats();
    for _ in 0..50 {
        if snap.in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        snap = srv.stats();
    }
    assert_eq!(
        (snap.requests, snap.peak_in_flight, snap.in_flight),
        (n, n, 0),
        "{snap:?}"
    );
    assert!(snap.chunks >= n * 4, "{snap:?}");
    assert_eq!(snap.ttft.count, n);
    assert!(snap.ttft.p50_us >= 300_000, "{snap:?}");
    let over_http: StatsSnapshot = serde_json::from_value(get_json(&srv, "/stats").await).unwrap();
    assert_eq!(over_http.peak_in_flight, n);
    let reset: StatsSnapshot = client()
        .post(format!("http://{}/stats/reset", srv.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (reset.requests, reset.peak_in_flight, reset.chunks),
        (0, 0, 0)
    );
    assert_eq!(get_json(&srv, "/stats/requests").await, json!([]));
    srv.shutdown().await;
}

#[tokio::test]
async fn echo_returns_the_last_user_message_verbatim() {
    let srv = sim(quick()).await;
    let msg = "Say \"hi\" \\ then\n  a tab\there, ünïcode.";
    let raw = raw(&srv, "sim/echo", msg).await;
    let (text, n) = deltas(&raw, "content");
    assert_eq!(text, msg);
    assert_eq!(n, 8);
    assert_eq!(usage(&raw).unwrap()["completion_tokens"], 8);
}

fn grading(rubric: &str, answer: &str) -> String {
    format!("<rubric>\n{rubric}\n</rubric>\n<question>\nHow long?\n</question>\n<answer>\n{answer}\n</answer>")
}

#[tokio::test]
async fn judge_grades_quoted_phrases() {
    let srv = sim(quick()).await;
    let verdict =
        |raw: String| -> Value { serde_json::from_str(&deltas(&raw, "content").0).unwrap() };
    let pass = verdict(
        raw(
            &srv,
            "sim/judge",
            &grading("Says \"30 days\"", "You have 30 Days."),
        )
        .await,
    );
    assert_eq!(pass["pass"], true);
    let fail = verdict(
        raw(
            &srv,
            "sim/judge",
            &grading("Says \"30 days\"", "Two weeks."),
        )
        .await,
    );
    assert_eq!(fail["pass"], false);
    assert!(fail["reason"].as_str().unwrap().contains("30 days"));
}

#[tokio::test]
async fn same_seed_and_prompt_give_the_same_text() {
    let a = sim(SimConfig { seed: 7, ..quick() }).await;
    let b = sim(SimConfig { seed: 7, ..quick() }).await;
    let c = sim(SimConfig { seed: 8, ..quick() }).await;
    let text = |raw: String| deltas(&raw, "content").0;
    let ta = text(raw(&a, "openai/gpt-5", "Explain caching.").await);
    assert_eq!(ta, text(raw(&b, "openai/gpt-5", "Explain caching.").await));
    assert_eq!(ta, text(raw(&a, "openai/gpt-5", "Explain caching.").await));
    assert_ne!(ta, text(raw(&c, "openai/gpt-5", "Explain caching.").await));
    assert_ne!(ta, text(raw(&a, "openai/gpt-5", "Explain routing.").await));
}

#[tokio::test]
async fn non_streaming_returns_the_same_text_with_usage() {
    let srv = sim(quick()).await;
    let streamed = deltas(&raw(&srv, "sim/fast", "same").await, "content").0;
    let resp = chat(&srv, "sim/fast", "same", json!({"stream": false})).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-sim-request-id"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], streamed.as_str());
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 48);
    assert!(body["usage"]["cost"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn max_tokens_cuts_with_length_and_provider_order_is_honoured() {
    let srv = sim(quick()).await;
    // The sim has no `bedrock`: the next provider of the order serves.
    let extra = json!({"max_tokens": 5, "providerOptions": {"gateway": {"order": ["bedrock", "backupcloud"]}}});
    let resp = chat(&srv, "anthropic/claude-sonnet-4", "long please", extra).await;
    let raw = resp.text().await.unwrap();
    assert_eq!(deltas(&raw, "content").1, 5);
    let last = chunks(&raw).pop().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "length");
    assert_eq!(last["model"], "anthropic/claude-sonnet-4");
    assert_eq!(
        last["provider_metadata"]["gateway"]["routing"]["finalProvider"],
        "backupcloud"
    );
}

#[tokio::test]
async fn nocost_and_cached_profiles_report_tokens_as_promised() {
    let srv = sim(quick()).await;
    let raw_nocost = raw(&srv, "sim/nocost", "price me").await;
    let u = usage(&raw_nocost).unwrap();
    assert!(u.get("cost").is_none() && u["completion_tokens"] == 48);
    assert!(!raw_nocost.contains("\"cost\""));
    let u = usage(&raw(&srv, "sim/cached", "a prompt of some length here").await).unwrap();
    let prompt = u["prompt_tokens"].as_u64().unwrap();
    assert_eq!(
        u["prompt_tokens_details"]["cached_tokens"].as_u64(),
        Some(prompt / 2)
    );
}

#[tokio::test]
async fn bad_bodies_and_unknown_paths_get_json_errors() {
    let srv = sim(quick()).await;
    let resp = client()
        .post(format!("{}/chat/completions", srv.base_url()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error");
    let resp = chat(&srv, "sim/fast+nonsense", "x", json!({})).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("stall-ttft"));
    let resp = client()
        .get(format!("{}/nope", srv.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
