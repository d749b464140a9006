//! Deciding which faults hit a request, and the JSON error answers.
//!
//! Decisions are deterministic: a rule with rate `r` applies when a hash of
//! (seed, model, per-model request counter, rule index) falls below `r`, so a
//! run with the same seed sees the same failures in the same places.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::config::{Fault, FaultRule};
use super::text::{hash_bytes, hash_parts, unit};

/// The faults that apply to one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decided {
    /// Answer with this HTTP error instead of streaming.
    pub http: Option<u16>,
    /// `Retry-After` seconds, when a rule set it.
    pub retry_after: Option<u64>,
    /// Extra milliseconds before the first token.
    pub stall_ttft_ms: u64,
    /// Extra milliseconds after half the tokens.
    pub stall_mid_ms: u64,
    /// Abort the connection after half the tokens.
    pub cut_mid: bool,
    /// Send an error event after half the tokens and end.
    pub error_event: bool,
    /// Send a truncated JSON event after half the tokens.
    pub malformed: bool,
    /// Send no usage.
    pub no_usage: bool,
}

/// Decide the faults for the `counter`-th request (0-based) to `model`.
///
/// `suffix` rules come from the model id; a `flaky-<n>` among them limits
/// them to the first n requests. `global` rules (from the config) always apply.
pub fn decide(
    seed: u64,
    model: &str,
    counter: u64,
    suffix: &[FaultRule],
    global: &[FaultRule],
) -> Decided {
    let model_hash = hash_bytes(seed, model.as_bytes());
    let flaky_limit = suffix.iter().find_map(|r| match r.fault {
        Fault::Flaky(n) => Some(n),
        _ => None,
    });
    let suffix_active = flaky_limit.is_none_or(|n| counter < n);
    let mut d = Decided::default();
    let rules = suffix
        .iter()
        .filter(|_| suffix_active)
        .enumerate()
        .chain(global.iter().enumerate().map(|(i, r)| (i + 1000, r)));
    for (index, rule) in rules {
        if let Fault::RetryAfter(s) = rule.fault {
            d.retry_after = Some(s);
            continue;
        }
        let hit = rule.rate >= 1.0
            || unit(hash_parts(&[seed, model_hash, counter, index as u64])) < rule.rate;
        if !hit {
            continue;
        }
        match rule.fault {
            Fault::Http(code) => {
                d.http.get_or_insert(code);
            }
            Fault::StallTtft(ms) => d.stall_ttft_ms += ms,
            Fault::StallMid(ms) => d.stall_mid_ms += ms,
            Fault::CutMid => d.cut_mid = true,
            Fault::ErrorEvent => d.error_event = true,
            Fault::Malformed => d.malformed = true,
            Fault::NoUsage => d.no_usage = true,
            Fault::RetryAfter(_) | Fault::Flaky(_) => {}
        }
    }
    d
}

/// A JSON error answer `{"error":{"message","type","code"}}`.
pub fn error_response(status: u16, message: &str, kind: &str, code: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"message": message, "type": kind, "code": code}});
    (status, axum::Json(body)).into_response()
}

/// The answer for an injected HTTP fault.
pub fn http_fault_response(code: u16, model: &str, retry_after: Option<u64>) -> Response {
    let mut resp = match code {
        429 => error_response(
            429,
            "Rate limit exceeded",
            "rate_limit_error",
            "rate_limited",
        ),
        401 => invalid_key(),
        404 => model_not_found(model),
        400 => error_response(
            400,
            "Invalid request (injected by sim)",
            "invalid_request_error",
            "bad_request",
        ),
        502 => error_response(
            502,
            "Bad gateway: upstream provider failed",
            "server_error",
            "bad_gateway",
        ),
        503 => error_response(
            503,
            "Service unavailable",
            "server_error",
            "service_unavailable",
        ),
        _ => error_response(
            code,
            "Internal server error",
            "server_error",
            "internal_error",
        ),
    };
    let retry = match (code, retry_after) {
        (429, r) => Some(r.unwrap_or(1)),
        (503, r) => r,
        _ => None,
    };
    if let Some(secs) = retry {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// 401 for a missing or wrong key (the key itself is never echoed).
pub fn invalid_key() -> Response {
    error_response(
        401,
        "Invalid API key",
        "authentication_error",
        "invalid_api_key",
    )
}

/// 404 for an unknown model.
pub fn model_not_found(model: &str) -> Response {
    error_response(
        404,
        &format!("Model '{model}' not found"),
        "invalid_request_error",
        "model_not_found",
    )
}

#[cfg(test)]
mod tests;
