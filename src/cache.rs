//! The response cache (`--cache record|replay|refresh`): successful answers
//! stored content-addressed under `results/cache/`, keyed by a hash of the
//! gateway host, the model, the exact request body and the repeat index, so
//! a CI run whose prompts did not change can replay them without sending
//! (its checks run again on the stored answers).
//!
//! What is stored is the answer and its figures — never a header, so never
//! the API key. Each entry is at most [`MAX_ENTRY`] bytes and the store at
//! most [`MAX_TOTAL`]; past that, answers are not stored (said once).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::gateway::{ChatRequest, ChatWatch, Gateway, Outcome};
use crate::record::Usage;

/// The default store, relative to the working directory.
pub const DEFAULT_DIR: &str = "results/cache";
/// Largest entry written or read.
pub const MAX_ENTRY: u64 = 4 * 1024 * 1024;
/// Largest store: past this, new answers are not stored.
pub const MAX_TOTAL: u64 = 2 * 1024 * 1024 * 1024;

/// `--cache`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CacheMode {
    /// Send everything; store nothing.
    #[default]
    Off,
    /// Send everything; store each successful answer.
    Record,
    /// Serve stored answers without sending; send and store the misses.
    Replay,
    /// Send everything; replace the stored answers.
    Refresh,
}

/// Which send of a request an entry answers. The same body goes out once
/// per repeat, and twice within one for a `cache_probe` case (its prime,
/// then its probe), so each send keeps an entry of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendId {
    pub repeat: u32,
    pub probe: bool,
}

/// The row columns an answer's `usage` fills (those `usage_rejected` names).
const USAGE_COLUMNS: [&str; 5] = [
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "cache_write_tokens",
];

/// One stored answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    ttft_us: Option<u64>,
    duration_us: Option<u64>,
    itl_us: Vec<u32>,
    chunks: u32,
    usage: Option<Usage>,
    gateway_cost: Option<f64>,
    generation_id: Option<String>,
    provider: Option<String>,
    fallback_chain: Option<String>,
    finish_reason: Option<String>,
    text: String,
    reasoning: String,
    #[serde(default)]
    tool_calls: Vec<crate::record::ToolCall>,
    /// The stored text was cut at `--max-answer-bytes`.
    #[serde(default)]
    truncated: bool,
    /// Usage columns whose count was absurd (unknown in the row).
    #[serde(default)]
    usage_rejected: Vec<String>,
}

impl Entry {
    fn from_outcome(o: &Outcome) -> Entry {
        Entry {
            ttft_us: o.ttft.map(|d| d.as_micros() as u64),
            duration_us: o.duration.map(|d| d.as_micros() as u64),
            itl_us: o.itl_us.clone(),
            chunks: o.chunks,
            usage: o.usage,
            gateway_cost: o.gateway_cost,
            generation_id: o.generation_id.clone(),
            provider: o.provider.clone(),
            fallback_chain: o.fallback_chain.clone(),
            finish_reason: o.finish_reason.clone(),
            text: o.text.clone(),
            reasoning: o.reasoning.clone(),
            tool_calls: o.tool_calls.clone(),
            truncated: o.truncated,
            usage_rejected: o.usage_rejected.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn into_outcome(self) -> Outcome {
        Outcome {
            attempts: 1,
            ttft: self.ttft_us.map(Duration::from_micros),
            duration: self.duration_us.map(Duration::from_micros),
            itl_us: self.itl_us,
            chunks: self.chunks,
            usage: self.usage,
            gateway_cost: self.gateway_cost,
            generation_id: self.generation_id,
            provider: self.provider,
            fallback_chain: self.fallback_chain,
            finish_reason: self.finish_reason,
            text: self.text,
            reasoning: self.reasoning,
            tool_calls: self.tool_calls,
            truncated: self.truncated,
            usage_rejected: self
                .usage_rejected
                .iter()
                .filter_map(|c| USAGE_COLUMNS.into_iter().find(|k| k == c))
                .collect(),
            error: None,
        }
    }
}

/// The store of one run.
pub struct ResponseCache {
    root: PathBuf,
    mode: CacheMode,
    /// The gateway's host (`sim` for the in-process sim, whose port changes).
    host: String,
    used: AtomicU64,
    full_said: AtomicBool,
    hits: AtomicU64,
    stored: AtomicU64,
}

/// An answer, and whether it was replayed from the store.
pub struct Answered {
    pub outcome: Outcome,
    pub replayed: bool,
}

impl ResponseCache {
    /// Open the store at `root` (created when recording).
    pub fn open(root: &Path, mode: CacheMode, host: &str) -> std::io::Result<ResponseCache> {
        if mode != CacheMode::Off {
            std::fs::create_dir_all(root)?;
        }
        Ok(ResponseCache {
            used: AtomicU64::new(dir_size(root, MAX_TOTAL)),
            root: root.to_path_buf(),
            mode,
            host: host.to_string(),
            full_said: AtomicBool::new(false),
            hits: AtomicU64::new(0),
            stored: AtomicU64::new(0),
        })
    }

    pub fn mode(&self) -> CacheMode {
        self.mode
    }

    /// The content address of a request: sha256 of host, model, body, repeat
    /// (and a mark for a cache probe's second send).
    pub fn key(&self, model: &str, body: &[u8], send: SendId) -> String {
        let mut h = Sha256::new();
        for part in [self.host.as_bytes(), model.as_bytes(), body] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(send.repeat.to_le_bytes());
        if send.probe {
            h.update(b"probe");
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(&key[..2]).join(format!("{key}.json"))
    }

    /// Whether `req` (sent as `send`) has a stored answer.
    pub fn contains(&self, gateway: &Gateway, req: &ChatRequest, send: SendId) -> bool {
        gateway
            .chat_body(req)
            .is_ok_and(|b| self.path(&self.key(&req.model, &b, send)).is_file())
    }

    fn read(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        let len = std::fs::metadata(&path).ok()?.len();
        if len > MAX_ENTRY {
            return None;
        }
        serde_json::from_slice(&std::fs::read(&path).ok()?).ok()
    }

    fn write(&self, key: &str, outcome: &Outcome) {
        let Ok(bytes) = serde_json::to_vec(&Entry::from_outcome(outcome)) else {
            return;
        };
        let len = bytes.len() as u64;
        let total = self.used.fetch_add(len, Ordering::Relaxed) + len;
        if len > MAX_ENTRY || total > MAX_TOTAL {
            self.used.fetch_sub(len, Ordering::Relaxed);
            if !self.full_said.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "warning: the response cache {} is full ({} MB) or an answer is over {} MB: further answers are not stored; delete old entries",
                    self.root.display(),
                    MAX_TOTAL >> 20,
                    MAX_ENTRY >> 20
                );
            }
            return;
        }
        let path = self.path(key);
        let tmp = path.with_extension("tmp");
        let ok = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .is_ok()
            && std::fs::write(&tmp, &bytes).is_ok()
            && std::fs::rename(&tmp, &path).is_ok();
        if ok {
            self.stored.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Answer `req`: from the store when replaying a hit, else by sending
    /// it (and storing a successful answer when recording). `watch` hears
    /// of the first token and retries of a request sent, as with
    /// [`Gateway::chat_watched`]; of a replayed one, nothing.
    pub async fn chat(
        &self,
        gateway: &Gateway,
        req: &ChatRequest,
        send: SendId,
        watch: &mut dyn ChatWatch,
    ) -> Answered {
        let key = match gateway.chat_body(req) {
            Ok(body) if self.mode != CacheMode::Off => self.key(&req.model, &body, send),
            _ => {
                return Answered {
                    outcome: gateway.chat_watched(req, watch).await,
                    replayed: false,
                }
            }
        };
        if self.mode == CacheMode::Replay {
            if let Some(entry) = self.read(&key) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Answered {
                    outcome: entry.into_outcome(),
                    replayed: true,
                };
            }
        }
        let outcome = gateway.chat_watched(req, watch).await;
        if outcome.error.is_none() {
            self.write(&key, &outcome);
        }
        Answered {
            outcome,
            replayed: false,
        }
    }

    /// `cache: 12 replayed, 0 stored (results/cache)`.
    pub fn line(&self) -> String {
        format!(
            "response cache ({}): {} replayed, {} stored",
            self.root.display(),
            self.hits.load(Ordering::Relaxed),
            self.stored.load(Ordering::Relaxed)
        )
    }
}

/// Bytes under `root`, counting no further than `cap`.
fn dir_size(root: &Path, cap: u64) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => total += e.metadata().map_or(0, |m| m.len()),
                Err(_) => {}
            }
            if total >= cap {
                return total;
            }
        }
    }
    total
}

#[cfg(test)]
mod tests;
