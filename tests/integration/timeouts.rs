//! `--timeout` bounds a whole request: a `Retry-After` longer than what is
//! left is not waited for, and `models` / `credits` give up on a stalled
//! gateway after their own `--timeout` (30 s by default) instead of the
//! chat timeout (600 s).

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use evalgate::record::ErrorKind;

use crate::common::*;

/// A gateway whose `/models` and `/credits` never answer and whose chat
/// endpoint always says 429 with `Retry-After: 999999`.
async fn stalled_gateway() -> String {
    async fn stall() -> &'static str {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        "{}"
    }
    async fn limited() -> axum::response::Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "999999")],
            r#"{"error":{"message":"slow down"}}"#,
        )
            .into_response()
    }
    let app = axum::Router::new()
        .route("/v1/models", get(stall))
        .route("/v1/credits", get(stall))
        .route("/v1/chat/completions", post(limited));
    serve(app).await
}

#[test]
fn models_and_credits_give_up_on_a_stalled_gateway_at_their_timeout() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(stalled_gateway());
    let tmp = tempfile::tempdir().unwrap();
    for cmd in ["models", "credits"] {
        let t0 = Instant::now();
        let out = bin()
            .args([cmd, "--gateway", &url, "--timeout", "1s"])
            .env("AI_GATEWAY_API_KEY", "sk-test-timeouts-0123456789")
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("could not reach"), "{}", text(&out));
        // A hang guard (the server stalls for an hour), not a measurement.
        assert!(t0.elapsed() < Duration::from_secs(60), "{cmd} hung");
    }
}

#[test]
fn a_retry_after_beyond_the_timeout_ends_the_request_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(stalled_gateway());
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "s.yaml",
        "name: s\nmodels: [openai/gpt-5]\ncases:\n  - id: a\n    prompt: Hi.\n",
    );
    let out = run_gateway(
        tmp.path(),
        &url,
        "sk-test-timeouts-0123456789",
        &[
            suite.to_str().unwrap(),
            "--no-catalog",
            "--timeout",
            "2s",
            "--out",
            "run",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let rows = rows(&tmp.path().join("run"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].error_kind, Some(ErrorKind::RateLimited));
    assert_eq!(rows[0].attempts, 1, "{:?}", rows[0]);
    let msg = rows[0].error_message.as_deref().unwrap_or_default();
    assert!(msg.contains("Retry-After"), "{msg}");
}
