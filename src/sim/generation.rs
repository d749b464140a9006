//! What the sim remembers after an answer: generation records (served by
//! `GET /v1/generation?id=` once `generation_delay` has passed, like the real
//! gateway's records that appear shortly after a generation ends) and the
//! prompt prefixes it has seen per model (so a repeated long prefix is
//! reported as a cache read). Both are bounded: the oldest entries go first.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::chat::Message;
use super::text::{hash_bytes, hash_parts};

/// Records kept; older ones answer 404 like ids the sim never issued.
pub const RECORD_CAPACITY: usize = 100_000;
/// Prefix hashes kept.
const PREFIX_CAPACITY: usize = 65_536;
/// A prefix shorter than this many tokens is never cached (OpenAI's minimum).
pub const MIN_CACHE_TOKENS: u64 = 1024;
/// A model id ending in this is served by the second provider after the
/// first one failed, as a gateway fallback.
pub const FALLBACK_SUFFIX: &str = "-fallback";
/// The provider that serves a request unless the order asks for another.
pub const PRIMARY: &str = "simcloud";
/// The other provider: a `-fallback` model's when `simcloud` fails.
pub const BACKUP: &str = "backupcloud";

/// The facts of one generation, as its record reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub id: String,
    pub model: String,
    pub provider: String,
    pub prompt: u64,
    pub completion: u64,
    pub reasoning: u64,
    pub cached: u64,
    /// Cost in USD (`None` for profiles that report none).
    pub cost: Option<f64>,
    /// Handler entry → first token, ms.
    pub latency_ms: u64,
    /// Handler entry → last token, ms.
    pub generation_ms: u64,
    pub finish_reason: &'static str,
    pub streamed: bool,
}

impl Facts {
    /// The `data` object of `GET /generation`.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "total_cost": self.cost,
            "usage": self.cost,
            "created_at": chrono::Utc::now().to_rfc3339(),
            "model": self.model,
            "is_byok": false,
            "provider_name": self.provider,
            "streamed": self.streamed,
            "finish_reason": self.finish_reason,
            "latency": self.latency_ms,
            "generation_time": self.generation_ms,
            "tokens_prompt": self.prompt,
            "tokens_completion": self.completion,
            "native_tokens_prompt": self.prompt,
            "native_tokens_completion": self.completion,
            "native_tokens_reasoning": self.reasoning,
            "native_tokens_cached": self.cached,
            "upstream_inference_cost": Value::Null,
        })
    }
}

/// Generation records by id, each visible from its `ready` time.
#[derive(Default)]
pub struct Records {
    by_id: HashMap<String, (Instant, Value)>,
    order: VecDeque<String>,
}

impl Records {
    /// Keep `facts`, visible from `ready` on.
    pub fn insert(&mut self, ready: Instant, facts: &Facts) {
        if self.order.len() >= RECORD_CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
        self.order.push_back(facts.id.clone());
        self.by_id.insert(facts.id.clone(), (ready, facts.json()));
    }

    /// The record, if it exists and is ready.
    pub fn get(&self, id: &str, now: Instant) -> Option<Value> {
        self.by_id
            .get(id)
            .filter(|(ready, _)| *ready <= now)
            .map(|(_, v)| v.clone())
    }
}

/// Per model, the hashes of message prefixes seen so far.
#[derive(Default)]
pub struct Prefixes {
    seen: HashSet<u64>,
    order: VecDeque<u64>,
}

/// Cache tokens of one request: read from an earlier prefix, written now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheUse {
    pub read: u64,
    pub written: u64,
}

impl Prefixes {
    /// The longest earlier-seen prefix of `messages` (whole messages, at
    /// least [`MIN_CACHE_TOKENS`]) is read from cache; the rest of a long
    /// prompt is written. Remembers every prefix of this prompt.
    pub fn lookup(
        &mut self,
        model: &str,
        messages: &[Message],
        tokens: impl Fn(&[Message]) -> u64,
    ) -> CacheUse {
        let total = tokens(messages);
        if total < MIN_CACHE_TOKENS {
            return CacheUse::default();
        }
        let mut h = hash_bytes(7, model.as_bytes());
        let hashes: Vec<u64> = messages
            .iter()
            .map(|m| {
                h = hash_parts(&[
                    h,
                    hash_bytes(1, m.role.as_bytes()),
                    hash_bytes(2, m.text().as_bytes()),
                ]);
                h
            })
            .collect();
        let read = (1..=messages.len())
            .rev()
            .find(|&k| self.seen.contains(&hashes[k - 1]))
            .map_or(0, |k| tokens(&messages[..k]))
            .min(total);
        let read = if read >= MIN_CACHE_TOKENS { read } else { 0 };
        for h in hashes {
            if self.seen.insert(h) {
                if self.order.len() >= PREFIX_CAPACITY {
                    if let Some(old) = self.order.pop_front() {
                        self.seen.remove(&old);
                    }
                }
                self.order.push_back(h);
            }
        }
        CacheUse {
            read,
            written: total - read,
        }
    }
}

/// `sim/fast-fallback` → (`sim/fast`, true).
pub fn strip_fallback(model: &str) -> (&str, bool) {
    match model.strip_suffix(FALLBACK_SUFFIX) {
        Some(base) => (base, true),
        None => (model, false),
    }
}

/// Extra time to first token of a fallback: the failed first attempt.
pub fn failover_penalty(ttft_scale: f64) -> Duration {
    Duration::from_secs_f64((0.150 * ttft_scale).clamp(0.0, 60.0))
}

/// Which provider a request goes to first and which one serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub first: &'static str,
    pub served: &'static str,
}

impl Route {
    /// Honour `providerOptions.gateway.order` as a gateway does: the first
    /// provider of the order the sim has, skipping the ones it does not
    /// (they do not serve this model), else `simcloud`. A `-fallback`
    /// model's first provider fails and the other one serves.
    pub fn of(provider_options: Option<&Value>, fallback: bool) -> Route {
        let first = provider_options
            .and_then(|p| p.pointer("/gateway/order"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|name| [PRIMARY, BACKUP].into_iter().find(|p| *p == name))
            .unwrap_or(PRIMARY);
        let other = if first == PRIMARY { BACKUP } else { PRIMARY };
        Route {
            first,
            served: if fallback { other } else { first },
        }
    }

    /// `provider_metadata.gateway.routing` as the gateway marks it. The
    /// providers of the order the sim skipped are not mentioned: only the
    /// generation record's provider shows the order was not followed.
    pub fn routing(&self, model: &str) -> Value {
        if self.first == self.served {
            return json!({"originalModelId": model, "resolvedProvider": self.first, "finalProvider": self.served});
        }
        json!({
            "originalModelId": model,
            "resolvedProvider": self.first,
            "finalProvider": self.served,
            "fallbacksAvailable": [self.served],
            "attempts": [
                {"provider": self.first, "success": false},
                {"provider": self.served, "success": true}
            ]
        })
    }
}

#[cfg(test)]
mod tests;
