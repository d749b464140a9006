//! Helpers: start a sim on port 0, send chat requests, split raw SSE.

use serde_json::{json, Value};

use evalgate::sim::{start, SimConfig, SimServer};

/// A sim on a free loopback port.
pub async fn sim(cfg: SimConfig) -> SimServer {
    start(cfg, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// A config whose profiles run fast: ttft ×0.05, no inter-token delay.
pub fn quick() -> SimConfig {
    SimConfig {
        ttft_scale: 0.05,
        itl_scale: 0.0,
        ..SimConfig::default()
    }
}

/// A client that never uses a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// POST a chat request; `extra` fields are merged into the body.
pub async fn chat(srv: &SimServer, model: &str, user: &str, extra: Value) -> reqwest::Response {
    let mut body = json!({
        "model": model,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": user}],
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    client()
        .post(format!("{}/chat/completions", srv.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Stream a request to the end and return the raw body text.
pub async fn raw(srv: &SimServer, model: &str, user: &str) -> String {
    let resp = chat(srv, model, user, json!({})).await;
    assert_eq!(resp.status(), 200, "{model}");
    String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap()
}

/// The payloads of `data:` events, in order.
pub fn data_events(raw: &str) -> Vec<&str> {
    raw.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect()
}

/// The JSON chunks (skips `[DONE]` and anything that does not parse).
pub fn chunks(raw: &str) -> Vec<Value> {
    data_events(raw)
        .into_iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

/// Concatenated `delta.<field>` over all chunks, and how many chunks had it non-empty.
pub fn deltas(raw: &str, field: &str) -> (String, usize) {
    let mut text = String::new();
    let mut n = 0;
    for c in chunks(raw) {
        if let Some(s) = c
            .pointer(&format!("/choices/0/delta/{field}"))
            .and_then(Value::as_str)
        {
            if !s.is_empty() {
                n += 1;
            }
            text.push_str(s);
        }
    }
    (text, n)
}

/// The `usage` object wherever it appears.
pub fn usage(raw: &str) -> Option<Value> {
    chunks(raw)
        .into_iter()
        .find_map(|c| c.get("usage").cloned())
}

/// GET a path on the server root (not under /v1) as JSON.
pub async fn get_json(srv: &SimServer, path: &str) -> Value {
    client()
        .get(format!("http://{}{path}", srv.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
