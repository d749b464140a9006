//! Error kinds: one vocabulary for every failed or unsent request, with the
//! HTTP status mapping and the fix hint printed to users. Plain data: the
//! gateway client picks a kind, every writer prints it.

use serde::{Deserialize, Serialize};

/// Why a request failed or was never sent. Serialized as snake_case in
/// `error_kind` everywhere (CSV, JSON, JUnit, terminal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Auth,
    Forbidden,
    ModelNotFound,
    BadRequest,
    RateLimited,
    ServerError,
    Connect,
    TimeoutTtft,
    TimeoutIdle,
    TimeoutTotal,
    StreamInterrupted,
    StreamError,
    MalformedStream,
    BudgetExceeded,
    Cancelled,
    /// HTTP 200 with a body that is no event stream (HTML, a compressed body).
    NotAStream,
    /// HTTP 200 with no answer at all: an empty body, or only `[DONE]`.
    EmptyAnswer,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Auth,
        ErrorKind::Forbidden,
        ErrorKind::ModelNotFound,
        ErrorKind::BadRequest,
        ErrorKind::RateLimited,
        ErrorKind::ServerError,
        ErrorKind::Connect,
        ErrorKind::TimeoutTtft,
        ErrorKind::TimeoutIdle,
        ErrorKind::TimeoutTotal,
        ErrorKind::StreamInterrupted,
        ErrorKind::StreamError,
        ErrorKind::MalformedStream,
        ErrorKind::BudgetExceeded,
        ErrorKind::Cancelled,
        ErrorKind::NotAStream,
        ErrorKind::EmptyAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::ModelNotFound => "model_not_found",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Connect => "connect",
            ErrorKind::TimeoutTtft => "timeout_ttft",
            ErrorKind::TimeoutIdle => "timeout_idle",
            ErrorKind::TimeoutTotal => "timeout_total",
            ErrorKind::StreamInterrupted => "stream_interrupted",
            ErrorKind::StreamError => "stream_error",
            ErrorKind::MalformedStream => "malformed_stream",
            ErrorKind::BudgetExceeded => "budget_exceeded",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::NotAStream => "not_a_stream",
            ErrorKind::EmptyAnswer => "empty_answer",
        }
    }

    /// The kind for an HTTP error status received before any stream data.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            401 => ErrorKind::Auth,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::ModelNotFound,
            408 => ErrorKind::TimeoutTotal,
            429 => ErrorKind::RateLimited,
            500..=599 | 424 => ErrorKind::ServerError,
            _ => ErrorKind::BadRequest,
        }
    }

    /// What the user should do about it (DESIGN.md's table).
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::Auth => "key missing or wrong for this gateway; check AI_GATEWAY_API_KEY (or --key-env) and that the base URL ends in /v1",
            ErrorKind::Forbidden => "the key may not use this model or feature; check the key's team and permissions",
            ErrorKind::ModelNotFound => "the id is not in the catalog; run `evalgate models`; ids look like openai/gpt-5",
            ErrorKind::RateLimited => "rate limited; lower --concurrency / --per-model-concurrency",
            ErrorKind::ServerError => "the provider failed; retry later or set a provider order in the suite's gateway: section",
            ErrorKind::Connect => "could not reach the gateway; check --gateway / AI_GATEWAY_BASE_URL and the network",
            ErrorKind::TimeoutTtft => "no first token in time; compare this model's TTFT with others, raise --ttft-timeout or try a provider order",
            ErrorKind::TimeoutIdle => "the stream stalled; raise --idle-timeout or try a provider order",
            ErrorKind::TimeoutTotal => "the request took too long; raise --timeout or lower max_tokens",
            ErrorKind::StreamInterrupted => "the connection dropped mid-answer; rerun with --retry-midstream to retry these",
            ErrorKind::StreamError => "the gateway reported an error mid-stream; see error_message",
            ErrorKind::MalformedStream => "the gateway sent a chunk that is not valid JSON, or a line over the 16 MiB limit; see error_message",
            ErrorKind::NotAStream => "the gateway answered 200 with something other than an event stream (see the content type in error_message); check --gateway: a login page or proxy may answer instead",
            ErrorKind::EmptyAnswer => "the gateway answered 200 without any answer chunk; check the model id and the gateway's logs for this generation",
            ErrorKind::BudgetExceeded => "the --max-cost / --max-requests budget stopped the run; raise it or resume with --resume",
            ErrorKind::Cancelled => "the run was interrupted; finish it with `evalgate run --resume <RUN_DIR>`",
            ErrorKind::BadRequest => "the gateway rejected the request body; check max_tokens, temperature and messages",
        })
    }

    /// Whether a failure of this kind before the first token may be retried.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::ServerError
                | ErrorKind::Connect
                | ErrorKind::TimeoutTotal
        )
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown error kind `{s}`"))
    }
}
