//! Client tests over a real loopback socket, against recorded byte streams
//! written from DESIGN.md's wire facts.

use std::time::{Duration, Instant};

use super::*;
use crate::gateway::testserver::{Reply, TestServer};

const KEY: &str = "sk-test-secret-0123456789";

fn config(base: &str) -> GatewayConfig {
    let mut cfg = GatewayConfig::new(base, Some(ApiKey::new(KEY)));
    cfg.retry.base_delay = Duration::from_millis(1);
    cfg.retry.max_delay = Duration::from_millis(5);
    cfg.timeouts.total = Some(Duration::from_secs(20));
    cfg
}

fn gateway(base: &str) -> Gateway {
    Gateway::new(config(base)).expect("gateway")
}

fn request() -> ChatRequest {
    ChatRequest {
        gateway_options: Some(serde_json::json!({"order": ["bedrock"]})),
        ..ChatRequest::new(
            "openai/gpt-5",
            vec![Message::text("user", "Say hi")],
            crate::record::Params {
                max_tokens: Some(50),
                temperature: Some(0.0),
                ..Default::default()
            },
        )
    }
}

const ROLE_ONLY: &str =
    r#"{"id":"gen_01","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
const FINISH: &str = r#"{"id":"gen_01","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
const FINISH_WITH_USAGE: &str = r#"{"id":"gen_01","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1},"cost":0.000123}}"#;
const USAGE_ONLY: &str = r#"{"id":"gen_01","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3},"provider_metadata":{"gateway":{"cost":"0.0005","routing":{"finalProvider":"bedrock"}}}}"#;

#[tokio::test]
async fn success_with_timing_and_request_shape() {
    let server = TestServer::start(vec![Reply::stream()
        .sse(": PROCESSING\n\n")
        .data(ROLE_ONLY)
        // The server thinks for 100 ms before the first content.
        .pause_ms(100)
        .content("Hel")
        .pause_ms(20)
        // One event split across two reads, inside a multi-byte char.
        .sse_bytes(
            b"data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \xc3",
        )
        .pause_ms(20)
        .sse_bytes(b"\xa9\"}}]}\n\n")
        .data(FINISH_WITH_USAGE)
        .done()])
    .await;
    let mut cfg = config(&server.base);
    cfg.headers = vec![("x-title".into(), "evalgate-tests".into())];
    let gw = Gateway::new(cfg).unwrap();
    let t0 = Instant::now();
    let out = gw.chat(&request()).await;
    assert_eq!(out.error, None);
    assert_eq!(out.text, "Hello é");
    assert_eq!(out.attempts, 1);
    let ttft = out.ttft.unwrap();
    assert!(ttft >= Duration::from_millis(100), "{ttft:?}");
    assert!(ttft < Duration::from_secs(1), "{ttft:?}");
    let duration = out.duration.unwrap();
    assert!(duration >= ttft + Duration::from_millis(40), "{duration:?}");
    assert!(duration <= t0.elapsed());
    assert_eq!(out.chunks, 2);
    assert_eq!(out.itl_us.len(), 1);
    assert!(out.itl_us[0] >= 40_000, "{:?}", out.itl_us);
    let u = out.usage.unwrap();
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.cached_tokens,
            u.reasoning_tokens
        ),
        (11, 3, 2, 1)
    );
    assert_eq!(out.gateway_cost, Some(0.000123));
    assert_eq!(out.generation_id.as_deref(), Some("gen_01"));
    assert_eq!(out.finish_reason.as_deref(), Some("stop"));

    let got = server.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("x-title"), Some("evalgate-tests"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "model": "openai/gpt-5",
            "messages": [{"role": "user", "content": "Say hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 50,
            "temperature": 0.0,
            "providerOptions": {"gateway": {"order": ["bedrock"]}}
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_hidden_cap_on_connections() {
    // Every stream holds its connection for 500 ms: all 24 must be in flight at once.
    let server = TestServer::start(vec![Reply::stream()
        .pause_ms(500)
        .content("ok")
        .data(FINISH)
        .done()])
    .await;
    let mut cfg = config(&server.base);
    cfg.max_connections = 4;
    let gw = std::sync::Arc::new(Gateway::new(cfg).unwrap());
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let gw = gw.clone();
            tokio::spawn(async move { gw.chat(&request()).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().error, None);
    }
    assert_eq!(server.peak_connections(), 24);
}

#[tokio::test]
async fn role_only_chunk_does_not_count_and_usage_in_separate_final_chunk() {
    let server = TestServer::start(vec![Reply::stream()
        .data(ROLE_ONLY)
        .pause_ms(150)
        .content("Hi")
        .data(FINISH)
        .data(USAGE_ONLY)
        .done()])
    .await;
    let out = gateway(&server.base).chat(&request()).await;
    assert_eq!(out.error, None);
    assert!(
        out.ttft.unwrap() >= Duration::from_millis(150),
        "{:?}",
        out.ttft
    );
    assert_eq!(
        out.usage.map(|u| (u.input_tokens, u.output_tokens)),
        Some((11, 3))
    );
    assert_eq!(out.gateway_cost, Some(0.0005));
    assert_eq!(out.provider.as_deref(), Some("bedrock"));
}

#[tokio::test]
async fn no_key_means_no_authorization_header_and_missing_usage_is_none() {
    let server = TestServer::start(vec![Reply::stream().content("ok").data(FINISH).done()]).await;
    let gw = Gateway::new(GatewayConfig::new(&server.base, None)).unwrap();
    let out = gw.chat(&request()).await;
    assert_eq!(out.error, None);
    assert_eq!(out.usage, None);
    assert_eq!(out.gateway_cost, None);
    assert_eq!(server.received()[0].header("authorization"), None);
}

#[tokio::test]
async fn rate_limited_then_success_honours_retry_after() {
    let server = TestServer::start(vec![
        Reply::status(
            429,
            &[("retry-after", "1")],
            r#"{"error":{"message":"slow down","type":"rate_limit"}}"#,
        ),
        Reply::stream().content("ok").data(FINISH).done(),
    ])
    .await;
    let gw = gateway(&server.base);
    let t0 = Instant::now();
    let out = gw.chat(&request()).await;
    assert_eq!(out.error, None);
    assert_eq!(out.attempts, 2);
    assert_eq!(gw.retries_used(), 1);
    // Jitter alone would wait at most 5 ms here.
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn auth_error_is_not_retried_and_the_key_is_scrubbed() {
    let body = format!(
        r#"{{"error":{{"message":"Invalid API key {KEY}","type":"authentication_error"}}}}"#
    );
    let server = TestServer::start(vec![Reply::status(401, &[], &body)]).await;
    let gw = gateway(&server.base);
    let out = gw.chat(&request()).await;
    let e = out.error.clone().unwrap();
    assert_eq!(
        (e.kind, e.http_status, out.attempts),
        (ErrorKind::Auth, Some(401), 1)
    );
    assert_eq!(
        e.message,
        "Invalid API key [redacted] (authentication_error)"
    );
    assert!(!format!("{out:?} {gw:?}").contains(KEY));
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn server_errors_exhaust_retries_then_the_budget() {
    let server = TestServer::start(vec![Reply::status(500, &[], "Internal Server Error")]).await;
    let mut cfg = config(&server.base);
    cfg.retry.max_retries = 2;
    cfg.retry.retry_budget = 3;
    let gw = Gateway::new(cfg).unwrap();
    let out = gw.chat(&request()).await;
    let e = out.error.unwrap();
    assert_eq!(
        (e.kind, e.http_status, out.attempts),
        (ErrorKind::ServerError, Some(500), 3)
    );
    assert_eq!(e.message, "Internal Server Error");
    // One retry left in the run-wide budget.
    let out = gw.chat(&request()).await;
    assert_eq!(out.attempts, 2);
    assert_eq!(gw.retries_used(), 3);
    assert_eq!(server.received().len(), 5);
}

#[tokio::test]
async fn connection_refused_is_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!(
        "http://127.0.0.1:{}/v1",
        listener.local_addr().unwrap().port()
    );
    drop(listener);
    let mut cfg = config(&base);
    cfg.retry.max_retries = 1;
    let out = Gateway::new(cfg).unwrap().chat(&request()).await;
    assert_eq!(out.error.unwrap().kind, ErrorKind::Connect);
    assert_eq!(out.attempts, 2);
}

#[tokio::test]
async fn cut_mid_stream_keeps_partial_text_and_is_not_retried() {
    let server = TestServer::start(vec![Reply::stream()
        .data(ROLE_ONLY)
        .content("Hello")
        .pause_ms(20)])
    .await;
    let out = gateway(&server.base).chat(&request()).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::StreamInterrupted);
    assert_eq!((out.text.as_str(), out.attempts), ("Hello", 1));
    assert!(out.ttft.is_some());
    assert_eq!(out.duration, None);
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn clean_end_without_done_or_finish_is_interrupted() {
    let server = TestServer::start(vec![
        Reply::stream().content("Hel").end(),
        Reply::stream().content("Hello").data(FINISH).end(),
    ])
    .await;
    let gw = gateway(&server.base);
    let out = gw.chat(&request()).await;
    assert_eq!(
        out.error.map(|e| e.kind),
        Some(ErrorKind::StreamInterrupted)
    );
    assert_eq!(out.text, "Hel");
    // With a finish_reason, a clean end without [DONE] is a complete answer.
    let out = gw.chat(&request()).await;
    assert_eq!(out.error, None);
    assert!(out.duration.is_some());
}

#[tokio::test]
async fn midstream_failure_is_retried_when_asked() {
    let server = TestServer::start(vec![
        Reply::stream().content("Hel"),
        Reply::stream().content("Hello").data(FINISH).done(),
    ])
    .await;
    let mut cfg = config(&server.base);
    cfg.retry.retry_midstream = true;
    let out = Gateway::new(cfg).unwrap().chat(&request()).await;
    assert_eq!(out.error, None);
    assert_eq!((out.text.as_str(), out.attempts), ("Hello", 2));
}

#[tokio::test]
async fn error_event_after_200() {
    let server = TestServer::start(vec![Reply::stream()
        .content("Part")
        .data(r#"{"error":{"message":"provider overloaded","type":"server_error","code":"overloaded"}}"#)
        .content(" never read")
        .done()])
    .await;
    let out = gateway(&server.base).chat(&request()).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::StreamError);
    assert_eq!(e.message, "provider overloaded (server_error, overloaded)");
    assert_eq!(out.text, "Part");
    assert_eq!(out.attempts, 1);
}

#[tokio::test]
async fn malformed_chunk_stops_reading() {
    let server = TestServer::start(vec![Reply::stream()
        .content("Good")
        .data(r#"{"choices":[{"delta":{"content":"bro"#)
        .content(" never read")
        .done()])
    .await;
    let out = gateway(&server.base).chat(&request()).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::MalformedStream);
    assert!(e.message.contains("malformed"), "{}", e.message);
    assert_eq!(out.text, "Good");
}

#[tokio::test]
async fn idle_timeout_keeps_partial_text() {
    let server = TestServer::start(vec![Reply::stream().content("Hi").pause_ms(3000).done()]).await;
    let mut cfg = config(&server.base);
    cfg.timeouts.idle = Some(Duration::from_millis(300));
    let t0 = Instant::now();
    let out = Gateway::new(cfg).unwrap().chat(&request()).await;
    assert_eq!(out.error.map(|e| e.kind), Some(ErrorKind::TimeoutIdle));
    assert_eq!(out.text, "Hi");
    assert!(
        t0.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn ttft_timeout_despite_keep_alive_comments() {
    // Comments keep the connection busy (so no idle timeout) but carry no token.
    let mut reply = Reply::stream().data(ROLE_ONLY);
    for _ in 0..30 {
        reply = reply.pause_ms(50).sse(": keep-alive\n\n");
    }
    let server = TestServer::start(vec![reply.content("late").done()]).await;
    let mut cfg = config(&server.base);
    cfg.timeouts.ttft = Some(Duration::from_millis(400));
    cfg.timeouts.idle = Some(Duration::from_millis(300));
    let out = Gateway::new(cfg).unwrap().chat(&request()).await;
    assert_eq!(out.error.map(|e| e.kind), Some(ErrorKind::TimeoutTtft));
    assert_eq!(out.attempts, 1);
    assert_eq!(out.text, "");
}

#[tokio::test]
async fn total_timeout_is_not_retried() {
    let mut reply = Reply::stream();
    for _ in 0..30 {
        reply = reply.content("x").pause_ms(100);
    }
    let server = TestServer::start(vec![reply.done()]).await;
    let mut cfg = config(&server.base);
    cfg.timeouts.total = Some(Duration::from_millis(500));
    let out = Gateway::new(cfg).unwrap().chat(&request()).await;
    assert_eq!(out.error.map(|e| e.kind), Some(ErrorKind::TimeoutTotal));
    assert_eq!(out.attempts, 1);
    assert!(out.text.starts_with("xx"), "{}", out.text);
}

#[tokio::test]
async fn gateway_408_is_retried() {
    let server = TestServer::start(vec![
        Reply::status(408, &[], r#"{"error":{"message":"timeout"}}"#),
        Reply::stream().content("ok").data(FINISH).done(),
    ])
    .await;
    let out = gateway(&server.base).chat(&request()).await;
    assert_eq!((out.error, out.attempts), (None, 2));
}

#[test]
fn insecure_http_is_refused_for_remote_hosts_before_any_request() {
    let remote = "http://evalgate-unroutable.invalid/v1";
    let err = Gateway::new(config(remote)).unwrap_err();
    assert!(matches!(err, GatewayError::InsecureHttp { .. }), "{err}");
    assert!(err.to_string().contains("--allow-insecure-http"));
    assert!(!err.to_string().contains(KEY));
    // Allowed: loopback, no key, explicit opt-in, https.
    for ok in [
        "http://127.0.0.1:9/v1",
        "http://localhost:9/v1",
        "http://[::1]:9/v1",
        "https://ai-gateway.vercel.sh/v1/",
    ] {
        assert!(Gateway::new(config(ok)).is_ok(), "{ok}");
    }
    assert!(Gateway::new(GatewayConfig::new(remote, None)).is_ok());
    let mut cfg = config(remote);
    cfg.allow_insecure_http = true;
    assert_eq!(Gateway::new(cfg).unwrap().base_url(), remote);
    assert!(matches!(
        Gateway::new(config("ftp://x/v1")),
        Err(GatewayError::InvalidUrl { .. })
    ));
    assert!(matches!(
        Gateway::new(config("not a url")),
        Err(GatewayError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn credits_parse_and_404_is_none() {
    let server = TestServer::start(vec![
        Reply::status(200, &[], r#"{"balance":"95.50","total_used":"4.50"}"#),
        Reply::status(404, &[], "not found"),
    ])
    .await;
    let gw = gateway(&server.base);
    let c = gw.credits().await.unwrap().unwrap();
    assert_eq!((c.balance, c.total_used), (95.5, 4.5));
    assert_eq!(gw.credits().await.unwrap(), None);
    assert_eq!(server.received()[0].path, "/v1/credits");
}

#[test]
fn retry_after_forms() {
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    let h = |v: &str| {
        let mut m = HeaderMap::new();
        m.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        super::super::stream::retry_after(&m)
    };
    assert_eq!(h("7"), Some(Duration::from_secs(7)));
    assert_eq!(h("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    let d = h(&later).unwrap();
    assert!(
        d > Duration::from_secs(25) && d <= Duration::from_secs(30),
        "{d:?}"
    );
    assert_eq!(h("soon"), None);
}

#[test]
fn backoff_is_bounded() {
    let mut cfg = config("https://example.invalid/v1");
    cfg.retry.base_delay = Duration::from_millis(100);
    cfg.retry.max_delay = Duration::from_millis(250);
    cfg.retry.max_retry_after = Duration::from_secs(2);
    let gw = Gateway::new(cfg).unwrap();
    for n in 1..40 {
        assert!(gw.backoff(n, None) <= Duration::from_millis(250));
    }
    assert_eq!(
        gw.backoff(1, Some(Duration::from_secs(100))),
        Duration::from_secs(2)
    );
    assert_eq!(
        gw.backoff(1, Some(Duration::from_millis(10))),
        Duration::from_millis(10)
    );
}

#[tokio::test]
async fn only_408_429_and_5xx_are_retried() {
    let cases = [
        (400, ErrorKind::BadRequest, 1),
        (401, ErrorKind::Auth, 1),
        (403, ErrorKind::Forbidden, 1),
        (404, ErrorKind::ModelNotFound, 1),
        (408, ErrorKind::TimeoutTotal, 2),
        (429, ErrorKind::RateLimited, 2),
        (500, ErrorKind::ServerError, 2),
        (502, ErrorKind::ServerError, 2),
        (503, ErrorKind::ServerError, 2),
        (504, ErrorKind::ServerError, 2),
    ];
    for (status, kind, attempts) in cases {
        let body = r#"{"error":{"message":"nope"}}"#;
        let server = TestServer::start(vec![Reply::status(status, &[], body)]).await;
        let mut cfg = config(&server.base);
        cfg.retry.max_retries = 1;
        let gw = Gateway::new(cfg).unwrap();
        let out = gw.chat(&request()).await;
        let e = out.error.unwrap();
        assert_eq!(
            (e.kind, e.http_status, out.attempts),
            (kind, Some(status), attempts),
            "HTTP {status}"
        );
        assert_eq!(e.message, "nope");
        assert_eq!(server.received().len(), attempts as usize, "HTTP {status}");
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_timeout_is_not_waited_for() {
    let server = TestServer::start(vec![Reply::status(
        429,
        &[("retry-after", "999999")],
        r#"{"error":{"message":"slow down"}}"#,
    )])
    .await;
    let mut cfg = config(&server.base);
    cfg.timeouts.total = Some(Duration::from_secs(1));
    let gw = Gateway::new(cfg).unwrap();
    // A hang guard, not a timing assertion: before the fix this waited 60 s
    // (the Retry-After bound) per retry.
    let out = tokio::time::timeout(Duration::from_secs(30), gw.chat(&request()))
        .await
        .expect("the request ends within its timeout, not after Retry-After");
    let err = out.error.expect("rate limited");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(out.attempts, 1);
    assert_eq!(gw.retries_used(), 0, "no retry taken from the budget");
    assert!(
        err.message
            .starts_with("not retried: the server asked to wait 999999s (Retry-After)"),
        "{}",
        err.message
    );
    assert!(err.message.ends_with("slow down"), "{}", err.message);
}

#[tokio::test]
async fn retries_share_one_total_timeout() {
    // The retry waits 1 s, then the second answer is slower than what is
    // left of the 2 s: it is cut at the request's deadline, not given 2 s of
    // its own.
    let server = TestServer::start(vec![
        Reply::status(503, &[("retry-after", "1")], "{}"),
        Reply::stream()
            .content("late")
            .pause_ms(1_500)
            .data(FINISH)
            .done(),
    ])
    .await;
    let mut cfg = config(&server.base);
    cfg.timeouts.total = Some(Duration::from_secs(2));
    let out = Gateway::new(cfg).unwrap().chat(&request()).await;
    assert_eq!(out.attempts, 2);
    assert_eq!(out.error.map(|e| e.kind), Some(ErrorKind::TimeoutTotal));
    assert_eq!(out.text, "late");
}

#[tokio::test]
async fn a_stalled_get_ends_at_the_fetch_timeout() {
    let server = TestServer::start(vec![Reply::default()
        .raw(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{")
        .pause_ms(60_000)])
    .await;
    let mut cfg = config(&server.base);
    cfg.timeouts.total = Some(Duration::from_secs(600));
    cfg.timeouts.fetch = Duration::from_millis(500);
    let gw = Gateway::new(cfg).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(30), gw.credits())
        .await
        .expect("a stalled /credits ends at the fetch timeout, not the chat timeout");
    assert!(matches!(res, Err(GatewayError::Http { .. })), "{res:?}");
}
