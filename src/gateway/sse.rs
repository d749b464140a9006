//! Streaming chunk parser: bytes in, events out, no I/O.
//!
//! [`SseParser`] turns arbitrary byte slices (an event may be split anywhere,
//! even inside a UTF-8 character or a `\r\n`; one read may hold many events)
//! into `data:` payloads. [`parse_chunk`] then pulls out of one payload only
//! what the client needs, with borrowed minimal structs instead of a full JSON
//! tree per chunk.
//!
//! This code is deliberately independent of the simulated gateway's writer, so
//! a bug in one cannot hide behind the same bug in the other.

use std::borrow::Cow;

use serde::Deserialize;

use super::toolcalls::ToolCallDelta;
use super::wire::ErrorDetail;
use crate::record::Usage;

/// One event as the parser hands it over: a `data:` payload (multi-line
/// data joined with `\n`) borrowed from the parser's buffer, reused from
/// event to event so reading a stream allocates nothing per event; or the
/// `data: [DONE]` terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    Data(&'a str),
    Done,
}

/// The longest line (and the longest event's data) the parser keeps by
/// default: a gateway sending one endless line must not grow memory without
/// bound.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Incremental SSE parser. Feed it bytes as they arrive.
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// Data lines of the current event, joined with `\n`.
    data: Vec<u8>,
    /// Whether the current event has at least one `data` field.
    has_data: bool,
    /// The previous byte was a `\r` ending a line; skip a following `\n`.
    after_cr: bool,
    /// `data` with invalid UTF-8 replaced, when it had any.
    lossy: String,
    /// Longest line or event data kept, bytes.
    max_line: usize,
    /// A line or an event's data went past `max_line`: the parser stopped.
    too_long: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::with_limit(MAX_LINE_BYTES)
    }
}

impl SseParser {
    /// An empty parser with the default line limit ([`MAX_LINE_BYTES`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty parser that stops at a line or event longer than `max_line` bytes.
    pub fn with_limit(max_line: usize) -> Self {
        SseParser {
            line: Vec::new(),
            data: Vec::new(),
            has_data: false,
            after_cr: false,
            lossy: String::new(),
            max_line,
            too_long: false,
        }
    }

    /// Whether a line or an event went past the limit; once it did, the
    /// parser ignores all further input (its buffers are freed).
    pub fn too_long(&self) -> bool {
        self.too_long
    }

    /// Give up on the stream: free the buffers, ignore the rest.
    fn overflow(&mut self) {
        self.too_long = true;
        self.line = Vec::new();
        self.data = Vec::new();
        self.has_data = false;
    }

    /// Consume `bytes`, handing every completed event to `sink`.
    pub fn feed(&mut self, mut bytes: &[u8], mut sink: impl FnMut(Payload<'_>)) {
        if self.too_long {
            return;
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(i) = memchr::memchr2(b'\n', b'\r', bytes) {
            let line_end = bytes[i];
            if self.line.is_empty() {
                self.take_line(&bytes[..i], &mut sink);
            } else {
                if self.line.len() + i > self.max_line {
                    return self.overflow();
                }
                self.line.extend_from_slice(&bytes[..i]);
                let line = std::mem::take(&mut self.line);
                self.take_line(&line, &mut sink);
                self.line = line;
                self.line.clear();
            }
            if self.too_long {
                return;
            }
            bytes = &bytes[i + 1..];
            if line_end == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        if self.line.len() + bytes.len() > self.max_line {
            return self.overflow();
        }
        self.line.extend_from_slice(bytes);
    }

    /// End of input: dispatch an event left without its closing blank line
    /// (lenient: some servers end with `data: [DONE]\n` and close).
    pub fn finish(&mut self, mut sink: impl FnMut(Payload<'_>)) {
        if self.too_long {
            return;
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.take_line(&line, &mut sink);
        }
        self.dispatch(&mut sink);
    }

    fn take_line(&mut self, line: &[u8], sink: &mut impl FnMut(Payload<'_>)) {
        if line.is_empty() {
            self.dispatch(sink);
            return;
        }
        if line[0] == b':' {
            return; // comment: `: keep-alive`, `: PROCESSING`
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            if self.data.len() + value.len() + 1 > self.max_line {
                return self.overflow();
            }
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
        // `event:`, `id:`, `retry:` and unknown fields are not used here.
    }

    fn dispatch(&mut self, sink: &mut impl FnMut(Payload<'_>)) {
        if !self.has_data || self.too_long {
            return;
        }
        self.has_data = false;
        if self.data.trim_ascii() == b"[DONE]" {
            sink(Payload::Done);
        } else {
            match std::str::from_utf8(&self.data) {
                Ok(text) => sink(Payload::Data(text)),
                Err(_) => {
                    self.lossy.clear();
                    self.lossy.push_str(&String::from_utf8_lossy(&self.data));
                    sink(Payload::Data(&self.lossy));
                }
            }
        }
        self.data.clear();
    }
}

/// What one data payload carried, as far as the client cares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chunk<'a> {
    /// The response id (`gen_...` on Vercel): the generation id.
    pub id: Option<Cow<'a, str>>,
    /// `delta.content` of every choice, concatenated.
    pub content: Cow<'a, str>,
    /// Reasoning text: `delta.reasoning`, else `delta.reasoning_content`,
    /// else the `text` of `delta.reasoning_details[]` (gateways often send the
    /// same text in several of these, so only one is taken).
    pub reasoning: Cow<'a, str>,
    pub finish_reason: Option<Cow<'a, str>>,
    /// `delta.tool_calls` of every choice (empty, unallocated, without tools).
    pub tool_calls: Vec<ToolCallDelta<'a>>,
    /// Token counts when the chunk had `usage` with any token count.
    pub usage: Option<Usage>,
    /// Row columns (`output_tokens`, ...) whose count in `usage` was absurd
    /// (negative, fractional, above 2^53, not a number): 0 in `usage`,
    /// unknown in the row.
    pub usage_rejected: Vec<&'static str>,
    /// `usage.cost`, USD, as sent: negative, infinite or NaN (a string that
    /// is no number) when the gateway sent such a value.
    pub usage_cost: Option<f64>,
    /// `provider_metadata.gateway.cost`, USD, as sent (see `usage_cost`).
    pub metadata_cost: Option<f64>,
    /// `provider_metadata.gateway.routing.finalProvider`, else `provider`.
    pub provider: Option<Cow<'a, str>>,
    /// The routing showed a fallback: the providers tried, `first>second`.
    pub fallback_chain: Option<String>,
    /// A mid-stream `error` object.
    pub error: Option<StreamError>,
}

impl Chunk<'_> {
    /// Whether the chunk carries text (content or reasoning); only these count
    /// for TTFT and inter-token latency.
    pub fn has_text(&self) -> bool {
        !self.content.is_empty() || !self.reasoning.is_empty()
    }
}

/// An `error` object sent as a data event after HTTP 200.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamError {
    pub message: String,
    pub kind: Option<String>,
    pub code: Option<String>,
}

/// A data payload that is not the JSON chunk we expect. It holds serde's
/// message only: the caller quotes the payload, after scrubbing the key from
/// it (scrub first, then cut, or a key at the cut would leak in part).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed stream chunk: {message}")]
pub struct MalformedChunk {
    pub message: String,
}

/// Interpret one `data:` payload.
pub fn parse_chunk(data: &str) -> Result<Chunk<'_>, MalformedChunk> {
    let raw: RawChunk<'_> = serde_json::from_str(data).map_err(|e| MalformedChunk {
        message: e.to_string(),
    })?;
    let choices = raw.choices.unwrap_or_default();
    let mut chunk = Chunk {
        id: raw.id.map(|t| t.0),
        content: choices.content,
        reasoning: choices.reasoning,
        finish_reason: choices.finish_reason,
        tool_calls: choices.tool_calls,
        ..Chunk::default()
    };
    if let Some(u) = raw.usage {
        chunk.usage_cost = u.cost.as_ref().and_then(NumOrStr::as_f64_raw);
        let pd = u.prompt_tokens_details.unwrap_or_default();
        let cd = u.completion_tokens_details.unwrap_or_default();
        let write = match u.cache_creation_input_tokens {
            Count::Absent => pd.cache_write_tokens,
            given => given,
        };
        let counts = [
            ("input_tokens", u.prompt_tokens),
            ("output_tokens", u.completion_tokens),
            ("reasoning_tokens", cd.reasoning_tokens),
            ("cached_tokens", pd.cached_tokens),
            ("cache_write_tokens", write),
        ];
        let mut value = [0u64; 5];
        for (i, (name, count)) in counts.into_iter().enumerate() {
            match count {
                Count::Valid(n) => value[i] = n,
                Count::Rejected => chunk.usage_rejected.push(name),
                Count::Absent => {}
            }
        }
        let main_given = |c: Count| !matches!(c, Count::Absent);
        if main_given(u.prompt_tokens) || main_given(u.completion_tokens) {
            chunk.usage = Some(Usage {
                input_tokens: value[0],
                output_tokens: value[1],
                reasoning_tokens: value[2],
                cached_tokens: value[3],
                cache_write_tokens: value[4],
            });
        }
    }
    if let Some(gw) = raw.provider_metadata.and_then(|m| m.gateway) {
        chunk.metadata_cost = gw.cost.as_ref().and_then(NumOrStr::as_f64_raw);
        if let Some(r) = gw.routing {
            chunk.fallback_chain = r.fallback_chain();
            chunk.provider = r.final_provider.map(|t| t.0);
        }
    }
    if chunk.provider.is_none() {
        chunk.provider = raw.provider.map(|t| t.0);
    }
    chunk.error = raw.error.map(ErrorDetail::into_stream_error);
    Ok(chunk)
}

/// Append without copying in the common case of a single piece.
fn append<'a>(out: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if out.is_empty() {
        *out = piece;
    } else {
        out.to_mut().push_str(&piece);
    }
}

/// Move the first list of tool-call deltas, append later ones.
fn append_tool_calls<'a>(out: &mut Vec<ToolCallDelta<'a>>, calls: Vec<ToolCallDelta<'a>>) {
    if out.is_empty() {
        *out = calls;
    } else {
        out.extend(calls);
    }
}

fn append_reasoning<'a>(out: &mut Cow<'a, str>, delta: RawDelta<'a>) {
    let non_empty = |t: &Text<'_>| !t.0.is_empty();
    if let Some(r) = delta.reasoning.filter(non_empty) {
        append(out, r.0);
    } else if let Some(r) = delta.reasoning_content.filter(non_empty) {
        append(out, r.0);
    } else {
        for d in delta.reasoning_details.unwrap_or_default() {
            if let Some(t) = d.text {
                append(out, t.0);
            }
        }
    }
}

/// A string borrowed from the payload when it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct RawChunk<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    choices: Option<Choices<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(borrow, default)]
    provider_metadata: Option<RawProviderMetadata<'a>>,
    #[serde(borrow, default)]
    provider: Option<Text<'a>>,
    #[serde(default)]
    error: Option<ErrorDetail>,
}

/// `choices[]` folded as it is read (no `Vec` per chunk): the text of every
/// choice appended, the first `finish_reason` kept.
#[derive(Default)]
struct Choices<'a> {
    content: Cow<'a, str>,
    reasoning: Cow<'a, str>,
    finish_reason: Option<Cow<'a, str>>,
    tool_calls: Vec<ToolCallDelta<'a>>,
}

impl<'a> Choices<'a> {
    fn add(&mut self, choice: RawChoice<'a>) {
        if let Some(mut delta) = choice.delta.or(choice.message) {
            if let Some(c) = delta.content.take() {
                append(&mut self.content, c.0);
            }
            if let Some(calls) = delta.tool_calls.take() {
                append_tool_calls(&mut self.tool_calls, calls);
            }
            append_reasoning(&mut self.reasoning, delta);
        }
        if self.finish_reason.is_none() {
            self.finish_reason = choice.finish_reason.map(|t| t.0);
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Choices<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fold<'a>(std::marker::PhantomData<Choices<'a>>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Fold<'a> {
            type Value = Choices<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of choices")
            }
            fn visit_seq<A>(self, mut seq: A) -> Result<Choices<'a>, A::Error>
            where
                A: serde::de::SeqAccess<'de>,
            {
                let mut out = Choices::default();
                while let Some(choice) = seq.next_element::<RawChoice<'a>>()? {
                    out.add(choice);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Fold(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct RawChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<RawDelta<'a>>,
    /// Some gateways put the final text in `message` instead of `delta`.
    #[serde(borrow, default)]
    message: Option<RawDelta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct RawDelta<'a> {
    #[serde(borrow, default)]
    content: Option<Text<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
    #[serde(borrow, default)]
    reasoning: Option<Text<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Text<'a>>,
    #[serde(borrow, default)]
    reasoning_details: Option<Vec<RawReasoningDetail<'a>>>,
}

#[derive(Deserialize)]
struct RawReasoningDetail<'a> {
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct RawUsage {
    #[serde(default)]
    prompt_tokens: Count,
    #[serde(default)]
    completion_tokens: Count,
    #[serde(default)]
    prompt_tokens_details: Option<RawPromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<RawCompletionDetails>,
    #[serde(default)]
    cache_creation_input_tokens: Count,
    #[serde(default)]
    cost: Option<NumOrStr>,
}

#[derive(Deserialize, Default)]
struct RawPromptDetails {
    #[serde(default)]
    cached_tokens: Count,
    #[serde(default)]
    cache_write_tokens: Count,
}

#[derive(Deserialize, Default)]
struct RawCompletionDetails {
    #[serde(default)]
    reasoning_tokens: Count,
}

/// A token count as gateways send it: an integer, an integral float (`5.0`)
/// or a decimal string (`"12"`). Anything else (negative, fractional, above
/// 2^53, another type) is `Rejected` for this field alone: one absurd field
/// never discards the answer or the other counts.
#[derive(Clone, Copy, Default)]
enum Count {
    /// Not sent, or `null`.
    #[default]
    Absent,
    Valid(u64),
    Rejected,
}

/// Above this a float no longer holds every integer exactly.
const MAX_COUNT: u64 = 1 << 53;

impl Count {
    fn from_u64(v: u64) -> Count {
        if v <= MAX_COUNT {
            Count::Valid(v)
        } else {
            Count::Rejected
        }
    }

    fn from_f64(v: f64) -> Count {
        if (0.0..=MAX_COUNT as f64).contains(&v) && v.fract() == 0.0 {
            Count::Valid(v as u64)
        } else {
            Count::Rejected
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a token count")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Count, E> {
                Ok(Count::from_u64(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Count, E> {
                Ok(u64::try_from(v).map_or(Count::Rejected, Count::from_u64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Count, E> {
                Ok(Count::from_f64(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Count, E> {
                Ok(v.trim()
                    .parse::<f64>()
                    .map_or(Count::Rejected, Count::from_f64))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Count, E> {
                Ok(Count::Rejected)
            }
            fn visit_unit<E>(self) -> Result<Count, E> {
                Ok(Count::Absent)
            }
            fn visit_none<E>(self) -> Result<Count, E> {
                Ok(Count::Absent)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Count, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Count::Rejected)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Count, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Count::Rejected)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct RawProviderMetadata<'a> {
    #[serde(borrow, default)]
    gateway: Option<RawGatewayMetadata<'a>>,
}

#[derive(Deserialize)]
struct RawGatewayMetadata<'a> {
    #[serde(default)]
    cost: Option<NumOrStr>,
    #[serde(borrow, default)]
    routing: Option<RawRouting<'a>>,
}

#[derive(Deserialize)]
struct RawRouting<'a> {
    #[serde(borrow, default, rename = "finalProvider")]
    final_provider: Option<Text<'a>>,
    #[serde(borrow, default, rename = "resolvedProvider")]
    resolved_provider: Option<Text<'a>>,
    /// One entry per provider tried, in order.
    #[serde(borrow, default)]
    attempts: Vec<RawAttempt<'a>>,
}

#[derive(Deserialize)]
struct RawAttempt<'a> {
    #[serde(borrow, default)]
    provider: Option<Text<'a>>,
}

impl RawRouting<'_> {
    /// `first>second` when more than one provider was tried, or the one
    /// that served is not the one the gateway resolved first.
    fn fallback_chain(&self) -> Option<String> {
        if self.attempts.len() > 1 {
            let names: Vec<&str> = self
                .attempts
                .iter()
                .map(|a| a.provider.as_ref().map_or("?", |t| &*t.0))
                .collect();
            return Some(names.join(">"));
        }
        match (&self.resolved_provider, &self.final_provider) {
            (Some(r), Some(f)) if r.0 != f.0 => Some(format!("{}>{}", r.0, f.0)),
            _ => None,
        }
    }
}

/// A number that some gateways send as a decimal string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum NumOrStr {
    Num(f64),
    Str(String),
}

impl NumOrStr {
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            NumOrStr::Num(n) => Some(*n),
            NumOrStr::Str(s) => s.trim().parse().ok(),
        }
        .filter(|n: &f64| n.is_finite())
    }

    /// The number as sent, not checked: a cost that is negative, not
    /// finite or not a number at all (NaN) is told apart from no cost.
    /// An empty string is no figure at all (`None`).
    pub(crate) fn as_f64_raw(&self) -> Option<f64> {
        match self {
            NumOrStr::Num(n) => Some(*n),
            NumOrStr::Str(s) if s.trim().is_empty() => None,
            NumOrStr::Str(s) => Some(s.trim().parse().unwrap_or(f64::NAN)),
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            NumOrStr::Num(n) => n.to_string(),
            NumOrStr::Str(s) => s,
        }
    }
}

impl ErrorDetail {
    fn into_stream_error(self) -> StreamError {
        match self {
            ErrorDetail::Object {
                message,
                kind,
                code,
            } => StreamError {
                message: message.unwrap_or_else(|| "error event without a message".into()),
                kind,
                code: code.map(NumOrStr::into_string),
            },
            ErrorDetail::Text(message) => StreamError {
                message,
                ..StreamError::default()
            },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
