//! The HTTP side: routes, auth, counters, start/serve/shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::catalog::catalog_json;
use super::chat::{self, ChatRequest, PlanInputs};
use super::config::{split_model_id, SimConfig};
use super::faults::{self, error_response};
use super::generation::{strip_fallback, Prefixes, Records};
use super::profile::profile_for;
use super::stats::{ImageSeen, Stats, StatsSnapshot, WireSeen};
use super::stream;
use super::text::{hash_parts, mix};

/// Slots for the per-(model, prompt) jitter counters (collisions only share a counter).
const REPEAT_SLOTS: usize = 4096;

struct Shared {
    cfg: SimConfig,
    stats: Arc<Stats>,
    model_counters: Mutex<HashMap<String, u64>>,
    repeat_counters: Vec<AtomicU64>,
    generation: AtomicU64,
    nonce: u64,
    records: Mutex<Records>,
    prefixes: Mutex<Prefixes>,
}

type AppState = Arc<Shared>;

/// A running sim; dropping it stops the server too.
pub struct SimServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimServer {
    /// The bound address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The same data as `GET /stats`.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Stop accepting, let open responses finish (at most 2 s), then return.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Bind `addr` (port 0 picks a free port), spawn the server, and return.
pub async fn start(cfg: SimConfig, addr: SocketAddr) -> std::io::Result<SimServer> {
    // A deep accept queue: a client opening 1,000 connections at once must
    // not see SYNs dropped (a 1 s retransmit) behind the default of 1,024.
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(8192)?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let nonce = mix(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(addr.port()));
    let shared = Arc::new(Shared {
        cfg,
        stats: Arc::clone(&stats),
        model_counters: Mutex::new(HashMap::new()),
        repeat_counters: (0..REPEAT_SLOTS).map(|_| AtomicU64::new(0)).collect(),
        generation: AtomicU64::new(0),
        nonce,
        records: Mutex::new(Records::default()),
        prefixes: Mutex::new(Prefixes::default()),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(shared);
    let task = tokio::spawn(async move {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(SimServer {
        addr,
        stats,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Serve until Ctrl-C (for `evalgate sim`).
pub async fn serve(cfg: SimConfig, addr: SocketAddr) -> std::io::Result<()> {
    let server = start(cfg, addr).await?;
    eprintln!("sim gateway listening on {}", server.base_url());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .route("/v1/credits", get(credits))
        .route("/v1/generation", get(generation))
        .route("/v1/models/{creator}/{model}/endpoints", get(endpoints))
        .route("/stats", get(stats))
        .route("/stats/requests", get(stats_requests))
        .route("/stats/reset", post(stats_reset))
        .fallback(|| async {
            error_response(404, "Unknown endpoint; the sim serves /v1/chat/completions, /v1/models, /v1/models/{id}/endpoints, /v1/generation, /v1/credits and /stats", "invalid_request_error", "not_found")
        })
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(axum::middleware::map_response(announce))
        .with_state(state)
}

/// Every answer says it came from the sim, so a run through `--gateway` is
/// recorded as simulated, as `--sim` is.
async fn announce(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(crate::record::SIM_HEADER, HeaderValue::from_static("1"));
    resp
}

fn authorized(cfg: &SimConfig, headers: &HeaderMap) -> bool {
    let Some(required) = &cfg.required_key else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| given.trim() == required)
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn generation_id(shared: &Shared) -> String {
    let n = shared.generation.fetch_add(1, Ordering::Relaxed);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let a = hash_parts(&[shared.cfg.seed, shared.nonce, n]);
    let b = mix(a ^ n);
    let mut id = String::with_capacity(30);
    id.push_str("gen_");
    for i in (0..10).rev() {
        id.push(CROCKFORD[((ms >> (5 * i)) & 31) as usize] as char);
    }
    for i in 0..16 {
        let src = if i < 8 {
            a >> (5 * i)
        } else {
            b >> (5 * (i - 8))
        };
        id.push(CROCKFORD[(src & 31) as usize] as char);
    }
    id
}

fn with_id(mut resp: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert("x-sim-request-id", v);
    }
    resp
}

async fn chat_completions(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let start = Instant::now();
    let id = generation_id(&shared);
    let parsed = serde_json::from_slice::<ChatRequest>(&body);
    let model = parsed.as_ref().map(|r| r.model.clone()).unwrap_or_default();
    let guard = shared.stats.begin(id.clone(), model, start);
    let resp = respond(&shared, &headers, parsed, start, &id, guard).await;
    if resp.status().is_client_error() || resp.status().is_server_error() {
        shared.stats.add_http_error();
    }
    with_id(resp, &id)
}

async fn respond(
    shared: &Shared,
    headers: &HeaderMap,
    parsed: Result<ChatRequest, serde_json::Error>,
    start: Instant,
    id: &str,
    mut guard: super::stats::RequestGuard,
) -> Response {
    if !authorized(&shared.cfg, headers) {
        return faults::invalid_key();
    }
    let req = match parsed {
        Ok(req) => req,
        Err(e) => {
            let msg = format!("Invalid request body: {e}");
            return error_response(400, &msg, "invalid_request_error", "invalid_request");
        }
    };
    let (suffix, fallback) = match split_model_id(&req.model) {
        Ok((base, rules)) => (rules, strip_fallback(base).1),
        Err(e) => {
            return error_response(
                400,
                &e.to_string(),
                "invalid_request_error",
                "invalid_fault",
            )
        }
    };
    let counter = {
        let mut counters = shared
            .model_counters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let c = counters.entry(req.model.clone()).or_insert(0);
        *c += 1;
        *c - 1
    };
    let decided = faults::decide(
        shared.cfg.seed,
        &req.model,
        counter,
        &suffix,
        &shared.cfg.faults,
    );
    if let Some(code) = decided.http {
        return faults::http_fault_response(code, &req.model, decided.retry_after);
    }
    guard.set_wire(wire_seen(&req));
    let profile = profile_for(&req.model);
    let slot = (chat::prompt_key(&req.model, &req.messages) % REPEAT_SLOTS as u64) as usize;
    let repeat = shared.repeat_counters[slot].fetch_add(1, Ordering::Relaxed);
    let cache = lock(&shared.prefixes).lookup(&req.model, &req.messages, chat::prompt_tokens);
    let mut plan = chat::plan(
        &req,
        PlanInputs {
            cfg: &shared.cfg,
            profile: &profile,
            faults: decided,
            id: id.to_string(),
            start,
            repeat,
            cache,
            fallback,
        },
    );
    let ready =
        start + Duration::from_millis(plan.facts.generation_ms) + shared.cfg.generation_delay;
    lock(&shared.records).insert(ready, &plan.facts);
    if req.stream {
        let body = Body::from_stream(stream::sse(plan, guard, Arc::clone(&shared.stats)));
        return (
            [
                (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response();
    }
    // Non-streaming: wait as long as the whole stream would have taken.
    let deadline = plan.finish_deadline().max(plan.start + plan.ttft);
    tokio::time::sleep_until(deadline).await;
    guard.first_token();
    let f = plan.faults.clone();
    if f.cut_mid {
        let cut = futures::stream::once(async { Err::<Bytes, _>(stream::CutMid) });
        return Body::from_stream(cut).into_response();
    }
    if f.error_event {
        let body = json!({"error": {"message": "Upstream provider error", "type": "server_error", "code": "upstream_error"}});
        return Json(body).into_response();
    }
    if f.malformed {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"choices\":[{\"message\":{\"content\":\"x\"",
        )
            .into_response();
    }
    let (reasoning, content) = stream::full_text(&mut plan);
    let mut message = json!({"role": "assistant", "content": content});
    if !reasoning.is_empty() {
        message["reasoning"] = reasoning.into();
    }
    let mut body = json!({
        "id": plan.id, "object": "chat.completion", "created": plan.created, "model": plan.model,
        "choices": [{"index": 0, "message": message, "finish_reason": plan.finish_reason}],
    });
    if let Some(obj) = body.as_object_mut() {
        obj.extend(plan.usage.object.clone());
    }
    Json(body).into_response()
}

/// What the request carried, for `GET /stats/requests`.
fn wire_seen(req: &ChatRequest) -> WireSeen {
    let images = req
        .messages
        .iter()
        .flat_map(chat::Message::images)
        .map(|(url, detail)| image_seen(url, detail))
        .collect();
    WireSeen {
        tools: req.tools.iter().map(|t| t.function.name.clone()).collect(),
        tool_choice: req.tool_choice.clone(),
        parallel_tool_calls: req.parallel_tool_calls,
        response_format: req.response_format_type().map(str::to_string),
        images,
        roles: req.messages.iter().map(|m| m.role.clone()).collect(),
        params: req.params(),
    }
}

fn image_seen(url: &str, detail: Option<&str>) -> ImageSeen {
    let detail = detail.map(str::to_string);
    let data = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"));
    match data {
        Some((media_type, b64)) => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            let sha: String = sha2::Digest::finalize(sha2::Digest::chain_update(
                <sha2::Sha256 as sha2::Digest>::new(),
                &bytes,
            ))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
            ImageSeen {
                media_type: Some(media_type.to_string()),
                sha256: Some(sha),
                bytes: Some(bytes.len() as u64),
                url: None,
                detail,
            }
        }
        None => ImageSeen {
            url: Some(url.to_string()),
            detail,
            ..ImageSeen::default()
        },
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `GET /v1/generation?id=gen_...`: 404 until the record is ready.
async fn generation(
    State(shared): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if !authorized(&shared.cfg, &headers) {
        return faults::invalid_key();
    }
    // Ids are `gen_` + Crockford base32: nothing to percent-decode.
    let id = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("id="))
        .unwrap_or_default();
    match lock(&shared.records).get(id, Instant::now()) {
        Some(data) => Json(json!({ "data": data })).into_response(),
        None => error_response(
            404,
            "Generation not found (records appear shortly after a generation ends)",
            "invalid_request_error",
            "not_found",
        ),
    }
}

/// `GET /v1/models/{creator}/{model}/endpoints`: per-provider figures.
async fn endpoints(
    axum::extract::Path((creator, model)): axum::extract::Path<(String, String)>,
) -> Response {
    Json(super::catalog::endpoints_json(&format!(
        "{creator}/{model}"
    )))
    .into_response()
}

async fn models() -> Response {
    Json(catalog_json()).into_response()
}

async fn credits(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&shared.cfg, &headers) {
        return faults::invalid_key();
    }
    Json(json!({"balance": "95.50", "total_used": "4.50"})).into_response()
}

async fn stats(State(shared): State<AppState>) -> Json<StatsSnapshot> {
    Json(shared.stats.snapshot())
}

async fn stats_requests(State(shared): State<AppState>) -> Response {
    Json(shared.stats.requests()).into_response()
}

async fn stats_reset(State(shared): State<AppState>) -> Json<StatsSnapshot> {
    shared.stats.reset();
    Json(shared.stats.snapshot())
}
