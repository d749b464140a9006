//! A chat request, read with the sim's own serde types, turned into a [`Plan`]:
//! everything about the answer (text source, timing, usage, cost, faults)
//! decided up front so streaming only formats and sleeps.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::config::SimConfig;
use super::faults::Decided;
use super::generation::{self, CacheUse, Facts};
use super::judge;
use super::profile::{AnswerKind, Profile};
use super::text::{decimal, hash_bytes, hash_parts, mix, unit, word_chunks, WordStream};
use super::tools::{deltas as tool_deltas, fragments, generate, plan_calls, Hints, SimTool};

/// The request fields the sim reads; everything else is accepted and ignored.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    /// Model id, possibly with `+fault` suffixes.
    pub model: String,
    /// The conversation.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Cap on content tokens.
    pub max_tokens: Option<u64>,
    /// Stream as SSE when true.
    #[serde(default)]
    pub stream: bool,
    /// `include_usage: false` suppresses usage in streams.
    pub stream_options: Option<StreamOptions>,
    /// Gateway routing options; `gateway.order` picks the provider (see
    /// [`generation::Route`]).
    #[serde(rename = "providerOptions")]
    pub provider_options: Option<Value>,
    /// Function tools the model may call.
    #[serde(default)]
    pub tools: Vec<SimTool>,
    /// `auto`, `none`, `required` or `{type: function, function: {name}}`.
    pub tool_choice: Option<Value>,
    /// `false`: at most one call.
    pub parallel_tool_calls: Option<bool>,
    /// `{type: json_object}` or `{type: json_schema, json_schema: {schema}}`.
    pub response_format: Option<Value>,
    /// Every other body key (sampling parameters, `extra_body` keys), kept
    /// for `GET /stats/requests`.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl ChatRequest {
    /// The parameters the request carried: every body key besides model,
    /// messages, stream, tools and routing (`max_tokens` included).
    pub fn params(&self) -> serde_json::Map<String, Value> {
        let mut out = self.other.clone();
        if let Some(m) = self.max_tokens {
            out.insert("max_tokens".into(), m.into());
        }
        out
    }

    /// `response_format.type`, if any.
    pub fn response_format_type(&self) -> Option<&str> {
        self.response_format
            .as_ref()
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
    }
}

/// `stream_options`.
#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    /// Whether the client asked for usage.
    pub include_usage: Option<bool>,
}

/// One message; `content` may be a string or a list of `{type, text}` parts.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant`, ...
    #[serde(default)]
    pub role: String,
    /// String or parts.
    #[serde(default)]
    pub content: Value,
}

impl Message {
    /// The `image_url` parts: (url, detail).
    pub fn images(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        let parts: &[Value] = match &self.content {
            Value::Array(parts) => parts,
            _ => &[],
        };
        parts.iter().filter_map(|p| {
            let img = p.get("image_url")?;
            let url = img.get("url").and_then(Value::as_str)?;
            Some((url, img.get("detail").and_then(Value::as_str)))
        })
    }

    /// The message text (parts concatenated).
    pub fn text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        }
    }
}

/// Where content chunks come from.
#[derive(Debug, Clone)]
pub enum Content {
    /// Generated words, one per chunk.
    Words(WordStream),
    /// Fixed chunks (echo, judge), pushed JSON-escaped.
    Fixed(Vec<String>),
    /// Whole deltas (tool calls): the inside of `"delta":{...}`, as is.
    Deltas(Vec<String>),
}

/// Token counts and the pre-rendered usage JSON fields.
#[derive(Debug, Clone)]
pub struct Usage {
    /// `"usage":{...},"provider_metadata":{...}` without braces around it, or
    /// only the provider metadata when usage is suppressed.
    pub fields: String,
    /// The same as a JSON object, for non-streaming answers.
    pub object: serde_json::Map<String, Value>,
    /// Whether usage is sent at all.
    pub sent: bool,
}

/// Everything the streamer needs.
#[derive(Debug)]
pub struct Plan {
    /// `gen_...`.
    pub id: String,
    /// Model id as requested (with suffixes).
    pub model: String,
    /// Unix seconds.
    pub created: u64,
    /// Handler entry.
    pub start: Instant,
    /// Time to first token (scaled, jittered, stall included).
    pub ttft: Duration,
    /// Inter-token latency (scaled, jittered).
    pub itl: Duration,
    /// Reasoning chunks before content.
    pub reasoning: u32,
    /// Reasoning text source.
    pub reasoning_words: WordStream,
    /// Content chunks to send.
    pub content_tokens: u32,
    /// Content text source.
    pub content: Content,
    /// `stop`, `length` or `tool_calls`.
    pub finish_reason: &'static str,
    /// Usage and cost.
    pub usage: Usage,
    /// Usage in its own final chunk.
    pub separate_usage: bool,
    /// Faults for this request.
    pub faults: Decided,
    /// What the generation record will say.
    pub facts: Facts,
}

impl Plan {
    /// All chunks: reasoning then content.
    pub fn total_tokens(&self) -> u32 {
        self.reasoning + self.content_tokens
    }

    /// Index of the token after which mid-stream faults happen.
    pub fn half(&self) -> u32 {
        self.total_tokens() / 2
    }

    /// Absolute deadline of token `i` (stall-mid shifts the second half).
    pub fn deadline(&self, i: u32) -> Instant {
        let mut d = self.start + self.ttft + self.itl * i;
        if i >= self.half() {
            d += Duration::from_millis(self.faults.stall_mid_ms);
        }
        d
    }

    /// When the finish chunk is due.
    pub fn finish_deadline(&self) -> Instant {
        self.deadline(self.total_tokens().saturating_sub(1))
    }
}

/// Deterministic prompt-token estimate: ceil(chars/4) + 4 per message, plus
/// 85 per `low` detail image and 765 per other image (as OpenAI counts a
/// 512×512 tile).
pub fn prompt_tokens(messages: &[Message]) -> u64 {
    messages
        .iter()
        .map(|m| {
            let images: u64 = m
                .images()
                .map(|(_, detail)| if detail == Some("low") { 85 } else { 765 })
                .sum();
            (m.text().chars().count() as u64).div_ceil(4) + 4 + images
        })
        .sum()
}

fn prompt_hash(messages: &[Message]) -> u64 {
    messages.iter().fold(0, |acc, m| {
        hash_parts(&[
            acc,
            hash_bytes(1, m.role.as_bytes()),
            hash_bytes(2, m.text().as_bytes()),
        ])
    })
}

/// A log-normal factor exp(sigma * z), z ~ N(0,1) by Box-Muller from a hash.
fn jitter_factor(sigma: f64, h: u64) -> f64 {
    if sigma <= 0.0 {
        return 1.0;
    }
    let u1 = unit(mix(h)).max(1e-12);
    let u2 = unit(mix(h ^ 0xA5A5_A5A5));
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (sigma * z).exp()
}

fn scaled_ms(ms: u64, scale: f64, factor: f64) -> Duration {
    Duration::from_secs_f64((ms as f64 * scale * factor / 1000.0).clamp(0.0, 86_400.0))
}

/// Inputs that vary per request besides the body.
pub struct PlanInputs<'a> {
    /// Sim-wide config.
    pub cfg: &'a SimConfig,
    /// Resolved profile.
    pub profile: &'a Profile,
    /// Faults decided for this request.
    pub faults: Decided,
    /// Generation id.
    pub id: String,
    /// Handler entry.
    pub start: Instant,
    /// Per-(model, prompt) counter, for jitter.
    pub repeat: u64,
    /// Prompt tokens read from / written to the prefix cache.
    pub cache: CacheUse,
    /// Served by the second provider after the first failed (`-fallback`).
    pub fallback: bool,
}

/// Seed-independent hash of the prompt, used to pick the jitter counter slot.
pub fn prompt_key(model: &str, messages: &[Message]) -> u64 {
    hash_parts(&[hash_bytes(0, model.as_bytes()), prompt_hash(messages)])
}

/// Decide the whole answer.
pub fn plan(req: &ChatRequest, inp: PlanInputs<'_>) -> Plan {
    let PlanInputs {
        cfg,
        profile,
        faults,
        id,
        start,
        repeat,
        cache,
        fallback,
    } = inp;
    let model_hash = hash_bytes(cfg.seed, req.model.as_bytes());
    let p_hash = prompt_hash(&req.messages);
    let text_seed = hash_parts(&[cfg.seed, model_hash, p_hash]);
    let jitter_seed = hash_parts(&[text_seed, repeat]);
    let ttft = scaled_ms(
        profile.ttft_ms,
        cfg.ttft_scale,
        jitter_factor(profile.jitter, jitter_seed),
    ) + Duration::from_millis(faults.stall_ttft_ms)
        + if fallback {
            generation::failover_penalty(cfg.ttft_scale)
        } else {
            Duration::ZERO
        };
    let itl = scaled_ms(
        profile.itl_ms,
        cfg.itl_scale,
        jitter_factor(profile.jitter, jitter_seed ^ 1),
    );

    let last_user = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(Message::text)
        .unwrap_or_default();
    // Any model asked to grade (the judge protocol's system message) grades
    // like `sim/judge`, so suites with real grader ids dry-run offline.
    let grading = req
        .messages
        .first()
        .is_some_and(|m| m.role == "system" && m.text().starts_with("You are a strict grader."));
    let answer = if grading {
        AnswerKind::Judge
    } else {
        profile.answer
    };
    let special = if grading {
        None
    } else {
        structured(req, &last_user, text_seed)
    };
    let is_tool_call = matches!(special, Some(Content::Deltas(_)));
    let (content, natural) = match special {
        Some(c) => {
            let n = match &c {
                Content::Fixed(v) | Content::Deltas(v) => v.len() as u64,
                Content::Words(_) => 0,
            };
            (c, n)
        }
        None => match answer {
            AnswerKind::Words => (
                Content::Words(WordStream::new(text_seed)),
                u64::from(profile.tokens),
            ),
            AnswerKind::Echo => {
                let chunks = word_chunks(&last_user);
                let n = chunks.len() as u64;
                (Content::Fixed(chunks), n)
            }
            AnswerKind::Judge => {
                let chunks = word_chunks(&judge::verdict(&last_user));
                let n = chunks.len() as u64;
                (Content::Fixed(chunks), n)
            }
        },
    };
    // Like real reasoning models, `max_tokens` caps reasoning and content
    // together: reasoning takes at most half the budget, content the rest.
    let reasoning = req.max_tokens.map_or(profile.reasoning_tokens, |cap| {
        profile
            .reasoning_tokens
            .min(u32::try_from(cap / 2).unwrap_or(u32::MAX))
    });
    let content_tokens = req.max_tokens.map_or(natural, |cap| {
        natural.min(cap.saturating_sub(u64::from(reasoning)))
    });
    let finish_reason = if content_tokens < natural {
        "length"
    } else if is_tool_call {
        "tool_calls"
    } else {
        "stop"
    };

    let prompt = prompt_tokens(&req.messages);
    let include = req
        .stream_options
        .as_ref()
        .and_then(|o| o.include_usage)
        .unwrap_or(true)
        || !req.stream;
    let route = generation::Route::of(req.provider_options.as_ref(), fallback);
    let cached = profile.cached_for(prompt).max(cache.read).min(prompt);
    let tokens = Tokens {
        prompt,
        completion: content_tokens + u64::from(reasoning),
        reasoning: u64::from(reasoning),
        cached,
        written: cache.written.min(prompt - cached),
    };
    let routing = route.routing(&req.model);
    let (usage, cost) = usage(cfg, profile, tokens, routing, include && !faults.no_usage);
    let facts = Facts {
        id: id.clone(),
        model: req.model.clone(),
        provider: route.served.to_string(),
        prompt,
        completion: tokens.completion,
        reasoning: tokens.reasoning,
        cached,
        cost,
        latency_ms: ttft.as_millis() as u64,
        generation_ms: (ttft
            + itl * (u32::try_from(tokens.completion).unwrap_or(u32::MAX)).saturating_sub(1))
        .as_millis() as u64,
        finish_reason,
        streamed: req.stream,
    };
    Plan {
        id,
        model: req.model.clone(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        start,
        ttft,
        itl,
        reasoning,
        reasoning_words: WordStream::new(text_seed ^ 0x5EA5_0417),
        content_tokens: u32::try_from(content_tokens).unwrap_or(u32::MAX),
        content,
        finish_reason,
        usage,
        separate_usage: profile.separate_usage,
        faults,
        facts,
    }
}

/// The answer to a request with tools or a JSON response format: tool-call
/// deltas, schema-valid JSON, or an answer from tool results; `None` for
/// an ordinary answer.
fn structured(req: &ChatRequest, last_user: &str, seed: u64) -> Option<Content> {
    let hints = Hints::new(last_user);
    let ends_with_tool = req.messages.last().is_some_and(|m| m.role == "tool");
    let calls = plan_calls(
        &req.tools,
        req.tool_choice.as_ref(),
        req.parallel_tool_calls,
        ends_with_tool,
        &hints,
        seed,
    );
    if !calls.is_empty() {
        return Some(Content::Deltas(tool_deltas(&calls, seed)));
    }
    let json = match req.response_format_type() {
        Some("json_schema") => {
            let schema = req
                .response_format
                .as_ref()
                .and_then(|f| f.pointer("/json_schema/schema"))
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            Some(generate(&schema, &hints, &mut 0, 0))
        }
        Some("json_object") => Some(json!({"answer": last_user})),
        _ => None,
    };
    if let Some(v) = json {
        let text = v.to_string();
        let chunks = fragments(&text, seed)
            .into_iter()
            .map(str::to_string)
            .collect();
        return Some(Content::Fixed(chunks));
    }
    if ends_with_tool {
        // Answer from the tool results, so a case can check they were used.
        let results: Vec<String> = req
            .messages
            .iter()
            .rev()
            .take_while(|m| m.role == "tool")
            .map(Message::text)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let text = format!("Based on the tool results: {}", results.join("; "));
        return Some(Content::Fixed(word_chunks(&text)));
    }
    None
}

/// Token counts of one answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokens {
    /// All input tokens (cached and written included).
    pub prompt: u64,
    /// Output tokens (reasoning included).
    pub completion: u64,
    pub reasoning: u64,
    /// Input tokens read from cache.
    pub cached: u64,
    /// Input tokens written to cache.
    pub written: u64,
}

/// Cost in units of 1e-10 USD: uncached input + cached input + cache writes
/// + completion, tier applied.
pub fn cost_units(profile: &Profile, t: Tokens, cost_scale: f64) -> u128 {
    let (input, output) = profile.prices.rates_for(t.prompt);
    let read = profile.prices.input_cache_read.unwrap_or(input);
    let write = profile.prices.input_cache_write.unwrap_or(input);
    let pico = |usd: f64| (usd * 1e12).round().max(0.0) as u128;
    let uncached = t.prompt.saturating_sub(t.cached).saturating_sub(t.written);
    let total_pico = u128::from(uncached) * pico(input)
        + u128::from(t.cached) * pico(read)
        + u128::from(t.written) * pico(write)
        + u128::from(t.completion) * pico(output);
    // 1 unit = 1e-10 USD = 100 picodollars.
    (total_pico as f64 * cost_scale.max(0.0) / 100.0).round() as u128
}

/// The usage fields of an answer, and its cost (USD) when the profile reports one.
fn usage(
    cfg: &SimConfig,
    profile: &Profile,
    t: Tokens,
    routing: Value,
    sent: bool,
) -> (Usage, Option<f64>) {
    let units = cost_units(profile, t, cfg.cost_scale);
    let cost_str = decimal(units, 10);
    let cost_num = units as f64 / 1e10;
    let with_cost = profile.reports_cost && sent;
    let mut usage = json!({
        "prompt_tokens": t.prompt,
        "completion_tokens": t.completion,
        "total_tokens": t.prompt + t.completion,
        "prompt_tokens_details": {"cached_tokens": t.cached},
        "completion_tokens_details": {"reasoning_tokens": t.reasoning},
    });
    if t.written > 0 {
        usage["cache_creation_input_tokens"] = json!(t.written);
    }
    let mut gateway = json!({ "routing": routing });
    if with_cost {
        usage["cost"] = json!(cost_num);
        gateway["cost"] = json!(cost_str);
    }
    let mut object = serde_json::Map::new();
    if sent {
        object.insert("usage".into(), usage);
    }
    object.insert("provider_metadata".into(), json!({"gateway": gateway}));
    let fields = Value::Object(object.clone()).to_string();
    // Strip the outer braces so the fields can be spliced into a chunk.
    let fields = fields[1..fields.len() - 1].to_string();
    let usage = Usage {
        fields,
        object,
        sent,
    };
    (usage, profile.reports_cost.then_some(cost_num))
}

#[cfg(test)]
mod tests;
