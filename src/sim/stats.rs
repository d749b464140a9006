//! Server-side counters: what the sim itself saw, to check the client against.
//!
//! `server_ttft_us` is measured from handler entry to the moment the first
//! content or reasoning chunk is handed to the body stream, so a client's TTFT
//! can be compared with it to see the client's own overhead.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// How many per-request records `GET /stats/requests` keeps.
pub const RING_CAPACITY: usize = 200_000;

/// Summary of server-side time to first token over completed requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TtftSummary {
    /// Requests that produced a first token.
    pub count: u64,
    /// Mean, microseconds.
    pub mean_us: f64,
    /// Median, microseconds.
    pub p50_us: u64,
    /// 90th percentile, microseconds.
    pub p90_us: u64,
    /// 99th percentile, microseconds.
    pub p99_us: u64,
    /// Maximum, microseconds.
    pub max_us: u64,
}

/// The `GET /stats` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Chat requests received (all outcomes).
    pub requests: u64,
    /// Chat requests whose response is still open.
    pub in_flight: u64,
    /// Most chat requests ever open at once (since start or reset).
    pub peak_in_flight: u64,
    /// SSE data events written (content, reasoning, role, finish, usage, errors, `[DONE]`).
    pub chunks: u64,
    /// Chat requests finished (body fully produced or dropped by the client).
    pub completed: u64,
    /// Chat requests answered with an HTTP error status.
    pub http_errors: u64,
    /// Server-side TTFT summary.
    pub ttft: TtftSummary,
}

/// One `GET /stats/requests` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestStat {
    /// Generation id (`gen_...`), also sent as `x-sim-request-id`.
    pub id: String,
    /// Model id as requested.
    pub model: String,
    /// Handler entry to first content/reasoning chunk; `None` when none was sent.
    pub server_ttft_us: Option<u64>,
    /// Handler entry to the end of the response body.
    pub server_duration_us: u64,
    /// What the request carried beyond plain messages (tools, response
    /// format, images, parameters); absent for a body the sim could not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<Box<WireSeen>>,
}

/// What one chat request carried, as the sim read it off the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireSeen {
    /// Names of the tools offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// `tool_choice` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `response_format.type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    /// Image parts, in message order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageSeen>,
    /// Roles of the messages, in order (`tool` results included).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Every parameter key of the body (`temperature`, `seed`, ... and
    /// `extra_body` keys) with its value.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// One image part as received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageSeen {
    /// The media type of a `data:` URL; `None` for a plain URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// sha256 hex of the decoded `data:` bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Decoded size of a `data:` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// A plain (`https://`) URL as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

struct Recorded {
    ring: VecDeque<RequestStat>,
    ttft: Histogram<u64>,
}

/// Shared live counters.
pub struct Stats {
    requests: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
    chunks: AtomicU64,
    completed: AtomicU64,
    http_errors: AtomicU64,
    recorded: Mutex<Recorded>,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 1 h at three significant figures; `saturating_record` clamps
    // outliers instead of resizing. These bounds are valid, so this never fails.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"))
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            http_errors: AtomicU64::new(0),
            recorded: Mutex::new(Recorded {
                ring: VecDeque::new(),
                ttft: new_histogram(),
            }),
        }
    }
}

impl Stats {
    /// Count a new chat request and open its in-flight guard.
    pub fn begin(self: &Arc<Self>, id: String, model: String, start: Instant) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(now, Ordering::AcqRel);
        RequestGuard {
            stats: Arc::clone(self),
            id,
            model,
            start,
            ttft: None,
            wire: None,
        }
    }

    /// Count SSE data events written.
    pub fn add_chunks(&self, n: u64) {
        self.chunks.fetch_add(n, Ordering::Relaxed);
    }

    /// Count an HTTP error answer.
    pub fn add_http_error(&self) {
        self.http_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Zero the counters and the peak (requests still open stay counted in flight).
    pub fn reset(&self) {
        for c in [
            &self.requests,
            &self.chunks,
            &self.completed,
            &self.http_errors,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.peak
            .store(self.in_flight.load(Ordering::Acquire), Ordering::Release);
        let mut rec = self.lock();
        rec.ring.clear();
        rec.ttft.reset();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        let rec = self.lock();
        let h = &rec.ttft;
        let ttft = if h.is_empty() {
            TtftSummary::default()
        } else {
            TtftSummary {
                count: h.len(),
                mean_us: h.mean(),
                p50_us: h.value_at_quantile(0.5),
                p90_us: h.value_at_quantile(0.9),
                p99_us: h.value_at_quantile(0.99),
                max_us: h.max(),
            }
        };
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Acquire),
            peak_in_flight: self.peak.load(Ordering::Acquire),
            chunks: self.chunks.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            http_errors: self.http_errors.load(Ordering::Relaxed),
            ttft,
        }
    }

    /// The per-request ring buffer, oldest first.
    pub fn requests(&self) -> Vec<RequestStat> {
        self.lock().ring.iter().cloned().collect()
    }
}

/// Lives as long as one chat response; records it when dropped.
pub struct RequestGuard {
    stats: Arc<Stats>,
    id: String,
    model: String,
    start: Instant,
    ttft: Option<Duration>,
    wire: Option<Box<WireSeen>>,
}

impl RequestGuard {
    /// Note what the request carried.
    pub fn set_wire(&mut self, wire: WireSeen) {
        self.wire = Some(Box::new(wire));
    }

    /// Note the first content/reasoning chunk (only the first call counts).
    pub fn first_token(&mut self) {
        if self.ttft.is_none() {
            self.ttft = Some(self.start.elapsed());
        }
    }

    /// Whether the first token was already noted.
    pub fn has_first_token(&self) -> bool {
        self.ttft.is_some()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let stats = &self.stats;
        stats.in_flight.fetch_sub(1, Ordering::AcqRel);
        stats.completed.fetch_add(1, Ordering::Relaxed);
        let ttft_us = self.ttft.map(micros);
        let record = RequestStat {
            id: std::mem::take(&mut self.id),
            model: std::mem::take(&mut self.model),
            server_ttft_us: ttft_us,
            server_duration_us: micros(self.start.elapsed()),
            wire: self.wire.take(),
        };
        let mut rec = stats.lock();
        if let Some(us) = ttft_us {
            rec.ttft.saturating_record(us.max(1));
        }
        if rec.ring.len() >= RING_CAPACITY {
            rec.ring.pop_front();
        }
        rec.ring.push_back(record);
    }
}

#[cfg(test)]
mod tests;
