//! The HTTP client: one `reqwest::Client` for the whole run, the streaming
//! chat request with its timing stamps, timeouts and retry policy.
//!
//! Every per-request failure comes back as an [`Outcome`] with an
//! [`RequestError`] (a row, not an abort); only setup problems are
//! [`GatewayError`]s. The API key goes into the `Authorization` header and
//! nowhere else: error messages are scrubbed of it.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use super::proxy::is_loopback;
use super::wire;
use crate::record::Usage;
use crate::record::{ErrorKind, Message, Params, ResponseFormat, Tool, ToolCall, ToolChoice};
use crate::secret::ApiKey;

/// How long to wait at each stage of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (and TLS) connect.
    pub connect: Duration,
    /// From start to the first content or reasoning token.
    pub ttft: Option<Duration>,
    /// Longest silence (no bytes at all, comments included) while waiting.
    pub idle: Option<Duration>,
    /// From the first attempt's start to the end of the stream: retries and
    /// their waits (`Retry-After` included) fit inside it.
    pub total: Option<Duration>,
    /// A whole one-shot `GET` (`/models`, `/credits`): a stalled catalog or
    /// balance must not hold a command up for the chat timeout.
    pub fetch: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            ttft: None,
            idle: Some(Duration::from_secs(60)),
            total: Some(Duration::from_secs(600)),
            fetch: Duration::from_secs(30),
        }
    }
}

/// When and how often to retry a failed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries per request (attempts = 1 + retries at most).
    pub max_retries: u32,
    /// First backoff ceiling; doubles per retry (full jitter below it).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Upper bound on a server's `Retry-After`.
    pub max_retry_after: Duration,
    /// Retries for the whole run, shared by all requests of this [`Gateway`].
    pub retry_budget: u32,
    /// Also retry failures after the first token (the answer restarts).
    pub retry_midstream: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            retry_budget: 200,
            retry_midstream: false,
        }
    }
}

/// Everything needed to build a [`Gateway`].
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Base URL including `/v1`.
    pub base_url: String,
    pub key: Option<ApiKey>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Idle connections kept per host; at least the run's concurrency.
    pub max_connections: usize,
    /// Extra headers on every request (attribution: `http-referer`, `x-title`).
    pub headers: Vec<(String, String)>,
    /// Allow sending the key over plain http to a non-loopback host.
    pub allow_insecure_http: bool,
    /// Let `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` apply to a loopback
    /// gateway too (by default loopback is always reached directly).
    pub proxy_loopback: bool,
    /// Bytes of answer text and reasoning kept per request; the rest of the
    /// stream is still read and measured, the answer marked truncated.
    pub max_answer_bytes: usize,
}

/// Default of [`GatewayConfig::max_answer_bytes`] (`--max-answer-bytes`).
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 4 << 20;
/// Largest `/models` body read; the catalog is cached whole.
pub const MAX_CATALOG_BYTES: usize = 32 << 20;
/// Largest `/credits` body read.
pub const MAX_CREDITS_BYTES: usize = 1 << 20;

impl GatewayConfig {
    /// Defaults for everything but the URL and key.
    pub fn new(base_url: impl Into<String>, key: Option<ApiKey>) -> Self {
        GatewayConfig {
            base_url: base_url.into(),
            key,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_connections: 64,
            headers: Vec::new(),
            allow_insecure_http: false,
            proxy_loopback: false,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        }
    }
}

/// One chat completion to send.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    /// Sampling parameters; `extra_body` is merged into the body.
    pub params: Params,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    /// Sent as `providerOptions.gateway` (routing order, only, models).
    pub gateway_options: Option<serde_json::Value>,
}

impl ChatRequest {
    /// A request with only messages and parameters.
    pub fn new(model: impl Into<String>, messages: Vec<Message>, params: Params) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            params,
            tools: Vec::new(),
            tool_choice: None,
            parallel_tool_calls: None,
            response_format: None,
            gateway_options: None,
        }
    }
}

/// Why one request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    pub kind: ErrorKind,
    /// The gateway's or transport's message, trimmed to ~300 chars, key scrubbed.
    pub message: String,
    pub http_status: Option<u16>,
}

/// Hears how one chat request goes while it runs (the runner turns this
/// into its job events). Called at most once per attempt each, never per chunk.
pub trait ChatWatch: Send {
    /// The attempt's first content-bearing chunk arrived at `at` (its TTFT
    /// is measured where it always is, in the stream reader).
    fn first_token(&mut self, _at: std::time::Instant) {}
    /// Attempt `attempt` failed with `error`; another follows.
    fn retrying(&mut self, _attempt: u32, _error: ErrorKind) {}
}

/// Nobody watching.
impl ChatWatch for () {}

/// What one request produced, successful or not. On error, whatever arrived
/// before the failure (text, tokens, timings) is kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Attempts made (1 = no retry). Timings are those of the last attempt.
    pub attempts: u32,
    /// Start → first chunk with non-empty content, reasoning or tool-call delta;
    /// `None` for a non-streamed (JSON) answer, where no token came before
    /// the whole.
    pub ttft: Option<Duration>,
    /// Start → `[DONE]` or clean end of stream; `None` on error.
    pub duration: Option<Duration>,
    /// Gaps between successive content/reasoning-bearing chunks, microseconds.
    pub itl_us: Vec<u32>,
    /// Content/reasoning-bearing chunks received (`itl_us.len() + 1` when > 0).
    pub chunks: u32,
    /// The gateway's `usage`; `None` when it sent none (never estimated).
    pub usage: Option<Usage>,
    /// Row columns whose count in `usage` was absurd and is unknown (0 in
    /// `usage`), e.g. `output_tokens` for `"completion_tokens": -5`.
    pub usage_rejected: Vec<&'static str>,
    /// The gateway's own cost figure: `usage.cost`, else
    /// `provider_metadata.gateway.cost`.
    pub gateway_cost: Option<f64>,
    /// The response id (`gen_...`), for the gateway's logs.
    pub generation_id: Option<String>,
    pub provider: Option<String>,
    /// The gateway's routing showed a fallback: the providers tried, `a>b`.
    pub fallback_chain: Option<String>,
    pub finish_reason: Option<String>,
    pub text: String,
    pub reasoning: String,
    /// Tool calls assembled from the stream, in index order.
    pub tool_calls: Vec<ToolCall>,
    /// Text or reasoning went past `max_answer_bytes` and was cut there.
    pub truncated: bool,
    pub error: Option<RequestError>,
}

/// The account's credits (`GET {base}/credits`), USD.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Credits {
    pub balance: f64,
    pub total_used: f64,
}

/// Setup-level failures: they stop a command, and each names the fix.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("refusing to send the API key over plain http to {url}; use https, a loopback address, or --allow-insecure-http")]
    InsecureHttp { url: String },
    #[error("refusing a gateway URL with a user name or password (`{url}`): evalgate sends the key as a Bearer token, and a URL is printed and stored in the run's files; remove the `user:password@` part and set the key in AI_GATEWAY_API_KEY (or --key-env)")]
    UserInfo { url: String },
    #[error("refusing to send the API key in cleartext through the proxy {proxy} to {url}: the gateway URL is plain http, so the proxy (and the network on the way) would read the key; use an https gateway, add the host to NO_PROXY, drop --proxy-loopback, or pass --allow-insecure-http")]
    CleartextProxy { url: String, proxy: String },
    #[error(
        "{url} answered with more than {limit} MiB; a real {what} is far smaller: check --gateway"
    )]
    TooLarge {
        url: String,
        limit: usize,
        what: &'static str,
    },
    #[error("invalid gateway URL `{url}`: {reason}; it should look like https://ai-gateway.vercel.sh/v1")]
    InvalidUrl { url: String, reason: String },
    #[error("{url} has no /models, but {suggested} answers: add /v1 to the gateway URL (--gateway {suggested}, or AI_GATEWAY_BASE_URL)")]
    MissingV1 { url: String, suggested: String },
    #[error("invalid header `{name}`: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error(
        "could not reach {url}: {message}; check --gateway / AI_GATEWAY_BASE_URL and the network"
    )]
    Http { url: String, message: String },
    #[error("{url} answered HTTP {status}: {message}{}", status_hint(*.status))]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("could not parse the answer of {url}: {message}")]
    Parse { url: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn status_hint(status: u16) -> String {
    match status {
        401 | 403 | 429 | 500..=599 => ErrorKind::from_status(status)
            .hint()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The gateway client. Build one per run and share it (`Arc`): it holds the
/// one connection pool and the run-wide retry budget.
pub struct Gateway {
    http: reqwest::Client,
    /// A second, small pool for calls beside the timed requests (generation
    /// lookups, endpoints), so they never hold a connection a timed request
    /// would otherwise reuse.
    side: reqwest::Client,
    base: String,
    /// `{base}/chat/completions`, parsed once (reqwest would parse a string
    /// URL, IDNA host mapping included, on every request).
    chat_url: reqwest::Url,
    key: Option<ApiKey>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    retries_used: AtomicU32,
    max_answer_bytes: usize,
    /// Whether an answer carried [`crate::record::SIM_HEADER`].
    announced_sim: AtomicBool,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("base", &self.base)
            .field("key", &self.key)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Build the client. Refuses plain `http://` to a non-loopback host when
    /// a key is set, unless `allow_insecure_http`.
    pub fn new(cfg: GatewayConfig) -> Result<Gateway, GatewayError> {
        let base = cfg.base_url.trim().trim_end_matches('/').to_string();
        let shown = super::proxy::without_userinfo(&base);
        let invalid = |reason: &str| GatewayError::InvalidUrl {
            url: shown.clone(),
            reason: reason.to_string(),
        };
        let url = reqwest::Url::parse(&base).map_err(|e| invalid(&e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(GatewayError::UserInfo { url: shown });
        }
        let host = url.host_str().ok_or_else(|| invalid("no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if cfg.key.is_none() || cfg.allow_insecure_http || is_loopback(host) => {}
            "http" => return Err(GatewayError::InsecureHttp { url: base }),
            _ => {
                return Err(invalid(
                    "the scheme must be https (or http for a local gateway)",
                ))
            }
        }
        let route = super::proxy::route(
            &url,
            cfg.key.is_some() && !cfg.allow_insecure_http,
            cfg.proxy_loopback,
            &super::proxy::Matcher::from_env(),
        )?;
        let mut headers = HeaderMap::new();
        for (name, value) in &cfg.headers {
            let bad = |reason: String| GatewayError::InvalidHeader {
                name: name.clone(),
                reason,
            };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let v = HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
            headers.insert(n, v);
        }
        if let Some(key) = &cfg.key {
            // The value is marked sensitive so reqwest/hyper never print it.
            let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose().trim()))
                .map_err(|_| GatewayError::InvalidHeader {
                    name: "authorization".into(),
                    reason: "the API key has characters not allowed in a header; check the environment variable".into(),
                })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let client = |pool: usize| {
            let mut builder = reqwest::Client::builder();
            if route == super::proxy::Route::Direct {
                builder = builder.no_proxy();
            }
            builder
                .use_rustls_tls()
                .http1_only()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(pool)
                .connect_timeout(cfg.timeouts.connect)
                .default_headers(headers.clone())
                .user_agent(concat!("evalgate/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| GatewayError::Http {
                    url: base.clone(),
                    message: error_chain(&e),
                })
        };
        let http = client(cfg.max_connections.max(1))?;
        let side = client(8)?;
        let chat_url = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(Gateway {
            http,
            side,
            base,
            chat_url,
            key: cfg.key,
            timeouts: cfg.timeouts,
            retry: cfg.retry,
            retries_used: AtomicU32::new(0),
            max_answer_bytes: cfg.max_answer_bytes,
            announced_sim: AtomicBool::new(false),
        })
    }

    /// Bytes of answer text and reasoning kept per request.
    pub fn max_answer_bytes(&self) -> usize {
        self.max_answer_bytes
    }

    /// The base URL (including `/v1`, no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Whether the gateway said it is `evalgate sim` (on any answer so far).
    pub fn announced_sim(&self) -> bool {
        self.announced_sim.load(Ordering::Relaxed)
    }

    /// Note what the answer's headers say about the gateway.
    pub(crate) fn note_headers(&self, headers: &HeaderMap) {
        if headers.contains_key(crate::record::SIM_HEADER) {
            self.announced_sim.store(true, Ordering::Relaxed);
        }
    }

    /// Retries spent so far by all requests (counted against `retry_budget`).
    pub fn retries_used(&self) -> u32 {
        self.retries_used.load(Ordering::Relaxed)
    }

    /// Open `n` pooled connections before a timed run: two rounds of `n`
    /// concurrent `HEAD {base}/models`, each answer read to the end so its
    /// connection goes back to the pool. Returns how many of the last round
    /// succeeded, and the first failure.
    ///
    /// Why two rounds: in the first, a request may take a connection another
    /// one just released, while the connection dialled for it finishes in
    /// the background and goes to the pool unused. After a short pause for
    /// such connects to finish, the second round's `n` requests find `n`
    /// idle connections, so every pooled connection has carried a request
    /// (and is surely open) before the first timed one.
    pub async fn warm_up(&self, n: usize) -> (usize, Option<String>) {
        let url = self.url("models");
        let one = || async {
            // HEAD: the answer has no body, so each pooled connection's
            // read buffer stays small (GET grew it for the catalog: +12 KiB
            // per connection). Any status opens the connection just as well.
            let mut resp = self.http.head(&url).send().await?;
            while resp.chunk().await?.is_some() {}
            Ok::<(), reqwest::Error>(())
        };
        let mut first_error = None;
        let mut ok = 0;
        for round in 0..2 {
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let results = futures::future::join_all((0..n).map(|_| one())).await;
            ok = results.iter().filter(|r| r.is_ok()).count();
            if first_error.is_none() {
                first_error = results
                    .into_iter()
                    .find_map(Result::err)
                    .map(|e| error_chain(&e));
            }
        }
        (ok, first_error)
    }

    /// Send one streaming chat request, with timing, timeouts and retries.
    /// Never panics: every failure is an [`Outcome`] with `error` set.
    pub async fn chat(&self, req: &ChatRequest) -> Outcome {
        self.chat_watched(req, &mut ()).await
    }

    /// [`Gateway::chat`], telling `watch` of the first token of each attempt
    /// and of each attempt that failed and will be retried.
    pub async fn chat_watched(&self, req: &ChatRequest, watch: &mut dyn ChatWatch) -> Outcome {
        let body = match self.chat_body(req) {
            Ok(b) => b,
            Err(e) => {
                return Outcome {
                    attempts: 0,
                    error: Some(self.request_error(ErrorKind::BadRequest, &e.to_string(), None)),
                    ..Outcome::default()
                }
            }
        };
        // One deadline for every attempt and every wait between them.
        let deadline = self.timeouts.total.map(|t| Instant::now() + t);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let attempt = super::stream::run(self, body.clone(), deadline, watch).await;
            let mut outcome = attempt.outcome;
            outcome.attempts = attempts;
            let Some(err) = &mut outcome.error else {
                return outcome;
            };
            if !self.wants_retry(err, outcome.ttft.is_some(), attempts) {
                return outcome;
            }
            let wait = self.backoff(attempts, attempt.retry_after);
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if wait >= left {
                    err.message = self.too_late_to_retry(err, wait, left, attempt.retry_after);
                    return outcome;
                }
            }
            if !self.take_retry() {
                return outcome;
            }
            watch.retrying(attempts, err.kind);
            tokio::time::sleep(wait).await;
        }
    }

    /// The message of an error not retried because the wait before the next
    /// attempt would outlast `--timeout`: what was asked, what was left.
    fn too_late_to_retry(
        &self,
        err: &RequestError,
        wait: Duration,
        left: Duration,
        retry_after: Option<Duration>,
    ) -> String {
        let total = self.timeouts.total.unwrap_or_default();
        let asked = match retry_after {
            Some(d) => format!("the server asked to wait {}s (Retry-After)", d.as_secs()),
            None => format!("the next retry was due in {:.1}s", wait.as_secs_f64()),
        };
        let note = format!(
            "not retried: {asked}, more than the {:.1}s left of the {:.1}s request timeout (--timeout)",
            left.as_secs_f64(),
            total.as_secs_f64()
        );
        trim_message(&format!("{note}; {}", err.message), 300)
    }

    /// `GET {base}/credits`; `Ok(None)` when the gateway has no such endpoint.
    pub async fn credits(&self) -> Result<Option<Credits>, GatewayError> {
        let Some(body) = self
            .get("credits", MAX_CREDITS_BYTES, "credits answer")
            .await?
        else {
            return Ok(None);
        };
        let url = self.url("credits");
        let c: wire::CreditsBody =
            serde_json::from_slice(&body).map_err(|e| GatewayError::Parse {
                url: url.clone(),
                message: self.scrub(&e.to_string()),
            })?;
        match (c.balance.as_f64(), c.total_used.as_f64()) {
            (Some(balance), Some(total_used)) => Ok(Some(Credits {
                balance,
                total_used,
            })),
            _ => Err(GatewayError::Parse {
                url,
                message: "balance and total_used must be decimal numbers".into(),
            }),
        }
    }

    /// `GET {base}/{path}`: the body (at most `limit` bytes, else an error
    /// naming `what`), or `None` on 404.
    pub(crate) async fn get(
        &self,
        path: &str,
        limit: usize,
        what: &'static str,
    ) -> Result<Option<Bytes>, GatewayError> {
        let url = self.url(path);
        let transport = |e: reqwest::Error| GatewayError::Http {
            url: url.clone(),
            message: self.scrub(&error_chain(&e)),
        };
        let mut resp = self
            .http
            .get(&url)
            .timeout(self.timeouts.fetch)
            .send()
            .await
            .map_err(transport)?;
        self.note_headers(resp.headers());
        let status = resp.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        let too_large = || GatewayError::TooLarge {
            url: url.clone(),
            limit: limit >> 20,
            what,
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(bytes) = resp.chunk().await.map_err(transport)? {
            if body.len() + bytes.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&bytes);
        }
        if !(200..300).contains(&status) {
            return Err(GatewayError::Status {
                url: url.clone(),
                status,
                message: self.scrub(&wire::error_message(&body)),
            });
        }
        Ok(Some(Bytes::from(body)))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path)
    }

    /// The exact JSON body `chat` sends for `req` (what the response cache keys on).
    pub fn chat_body(&self, req: &ChatRequest) -> Result<Bytes, serde_json::Error> {
        let p = &req.params;
        let body = wire::ChatBody {
            model: &req.model,
            messages: &req.messages,
            stream: true,
            stream_options: Some(wire::StreamOptions {
                include_usage: true,
            }),
            max_tokens: p.max_tokens,
            temperature: p.temperature,
            top_p: p.top_p,
            seed: p.seed,
            stop: p.stop.as_ref(),
            presence_penalty: p.presence_penalty,
            frequency_penalty: p.frequency_penalty,
            reasoning_effort: p.reasoning_effort.as_deref(),
            tools: &req.tools,
            tool_choice: req.tool_choice.as_ref(),
            parallel_tool_calls: req.parallel_tool_calls,
            response_format: req.response_format.as_ref(),
            provider_options: req
                .gateway_options
                .as_ref()
                .map(|gateway| wire::ProviderOptions { gateway }),
        };
        match &p.extra_body {
            None => serde_json::to_vec(&body).map(Bytes::from),
            Some(extra) => {
                // Rare: merge through a tree so `extra_body` may override any key.
                let mut tree = serde_json::to_value(&body)?;
                if let Some(obj) = tree.as_object_mut() {
                    obj.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                serde_json::to_vec(&tree).map(Bytes::from)
            }
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The client for calls beside the timed requests.
    pub(crate) fn side(&self) -> &reqwest::Client {
        &self.side
    }

    pub(crate) fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    pub(crate) fn chat_url(&self) -> reqwest::Url {
        self.chat_url.clone()
    }

    /// A [`RequestError`] with the key scrubbed and the message trimmed.
    pub(crate) fn request_error(
        &self,
        kind: ErrorKind,
        message: &str,
        status: Option<u16>,
    ) -> RequestError {
        RequestError {
            kind,
            message: trim_message(&self.scrub(message), 300),
            http_status: status,
        }
    }

    /// `text` with the key replaced.
    pub(crate) fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(k) => k.scrub(text),
            None => text.to_string(),
        }
    }

    /// The first `max` characters of `text`, the key scrubbed before the
    /// cut: a key that straddles the cut is still replaced whole.
    pub(crate) fn excerpt(&self, text: &str, max: usize) -> String {
        let key_chars = self.key.as_ref().map_or(0, |k| k.expose().chars().count());
        let head: String = text.chars().take(max + key_chars).collect();
        trim_message(&self.scrub(&head), max)
    }

    /// Whether this failure is worth another attempt (the budget aside).
    fn wants_retry(&self, err: &RequestError, got_token: bool, attempts: u32) -> bool {
        let before_token = !got_token
            && err.kind.retryable()
            // Our own total timeout is final; only a server's 408 is retried.
            && (err.kind != ErrorKind::TimeoutTotal || err.http_status == Some(408));
        let midstream = self.retry.retry_midstream
            && matches!(
                err.kind,
                ErrorKind::StreamInterrupted | ErrorKind::TimeoutIdle | ErrorKind::StreamError
            );
        (before_token || midstream) && attempts <= self.retry.max_retries
    }

    /// Take one retry from the run-wide budget; false when it is spent.
    fn take_retry(&self) -> bool {
        let budget = self.retry.retry_budget;
        self.retries_used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < budget).then_some(n + 1)
            })
            .is_ok()
    }

    /// The `Retry-After` the server asked for (bounded), else exponential
    /// backoff with full jitter.
    fn backoff(&self, retry_number: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            return d.min(self.retry.max_retry_after);
        }
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1u32 << retry_number.saturating_sub(1).min(20))
            .min(self.retry.max_delay);
        let ms = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::Rng::gen_range(&mut rand::thread_rng(), 0..=ms))
    }
}

/// An error with its sources, `a: b: c`.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        src = s.source();
    }
    out
}

/// At most `max` characters, with `…` when cut.
fn trim_message(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
