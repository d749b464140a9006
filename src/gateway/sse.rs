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

/// Incremental SSE parser. Feed it bytes as they arrive.
#[derive(Debug, Default)]
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
}

impl SseParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consume `bytes`, handing every completed event to `sink`.
    pub fn feed(&mut self, mut bytes: &[u8], mut sink: impl FnMut(Payload<'_>)) {
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
                self.line.extend_from_slice(&bytes[..i]);
                let line = std::mem::take(&mut self.line);
                self.take_line(&line, &mut sink);
                self.line = line;
                self.line.clear();
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
        self.line.extend_from_slice(bytes);
    }

    /// End of input: dispatch an event left without its closing blank line
    /// (lenient: some servers end with `data: [DONE]\n` and close).
    pub fn finish(&mut self, mut sink: impl FnMut(Payload<'_>)) {
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
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
        // `event:`, `id:`, `retry:` and unknown fields are not used here.
    }

    fn dispatch(&mut self, sink: &mut impl FnMut(Payload<'_>)) {
        if !self.has_data {
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
    /// `usage.cost`, USD.
    pub usage_cost: Option<f64>,
    /// `provider_metadata.gateway.cost`, USD.
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

/// A data payload that is not the JSON chunk we expect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed stream chunk: {message} in `{excerpt}`")]
pub struct MalformedChunk {
    pub message: String,
    /// The start of the offending payload.
    pub excerpt: String,
}

/// Interpret one `data:` payload.
pub fn parse_chunk(data: &str) -> Result<Chunk<'_>, MalformedChunk> {
    let raw: RawChunk<'_> = serde_json::from_str(data).map_err(|e| MalformedChunk {
        message: e.to_string(),
        excerpt: data.chars().take(120).collect(),
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
        chunk.usage_cost = u.cost.as_ref().and_then(NumOrStr::as_f64);
        if u.prompt_tokens.is_some() || u.completion_tokens.is_some() {
            let pd = u.prompt_tokens_details.unwrap_or_default();
            let cd = u.completion_tokens_details.unwrap_or_default();
            chunk.usage = Some(Usage {
                input_tokens: u.prompt_tokens.unwrap_or(0),
                output_tokens: u.completion_tokens.unwrap_or(0),
                reasoning_tokens: cd.reasoning_tokens.unwrap_or(0),
                cached_tokens: pd.cached_tokens.unwrap_or(0),
                cache_write_tokens: u
                    .cache_creation_input_tokens
                    .or(pd.cache_write_tokens)
                    .unwrap_or(0),
            });
        }
    }
    if let Some(gw) = raw.provider_metadata.and_then(|m| m.gateway) {
        chunk.metadata_cost = gw.cost.as_ref().and_then(NumOrStr::as_f64);
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
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<RawPromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<RawCompletionDetails>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cost: Option<NumOrStr>,
}

#[derive(Deserialize, Default)]
struct RawPromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
struct RawCompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A recorded stream in the shape Vercel AI Gateway sends (comments,
    /// role-only first chunk, reasoning, multi-byte text, usage in the finish
    /// chunk, provider metadata in a final chunk).
    const RECORDED: &str = concat!(
        ": PROCESSING\n\n",
        "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        ": keep-alive\n\n",
        "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"Thinking \\u00e9\"}}]}\n\n",
        "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Grüße, \"}}]}\n\n",
        "data:{\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"日本 🦀\"}}]}\n\n",
        "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],",
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"cost\":0.00042,",
        "\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n",
        "data: {\"id\":\"gen_01\",\"choices\":[],\"provider_metadata\":{\"gateway\":{\"cost\":\"0.00042\",",
        "\"routing\":{\"finalProvider\":\"bedrock\"}}}}\n\n",
        "data: [DONE]\n\n",
    );

    /// A [`Payload`] kept past the parser's next event.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum SseEvent {
        Data(String),
        Done,
    }

    fn events_of(parts: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let mut keep = |ev: Payload<'_>| {
            out.push(match ev {
                Payload::Data(d) => SseEvent::Data(d.to_string()),
                Payload::Done => SseEvent::Done,
            })
        };
        for part in parts {
            p.feed(part, &mut keep);
        }
        p.finish(&mut keep);
        out
    }

    fn whole(s: &str) -> Vec<SseEvent> {
        events_of(&[s.as_bytes()])
    }

    #[test]
    fn recorded_stream_yields_data_and_done() {
        let ev = whole(RECORDED);
        assert_eq!(ev.len(), 7, "{ev:?}");
        assert_eq!(ev[6], SseEvent::Done);
        assert!(matches!(&ev[3], SseEvent::Data(d) if d.contains("日本 🦀")));
        let texts: String = ev
            .iter()
            .filter_map(|e| match e {
                SseEvent::Data(d) => Some(parse_chunk(d).unwrap().content.into_owned()),
                SseEvent::Done => None,
            })
            .collect();
        assert_eq!(texts, "Grüße, 日本 🦀");
    }

    #[test]
    fn every_two_way_split_gives_the_same_events() {
        let crlf = RECORDED.replace('\n', "\r\n");
        for stream in [RECORDED, crlf.as_str()] {
            let b = stream.as_bytes();
            let expected = whole(stream);
            for i in 0..=b.len() {
                assert_eq!(events_of(&[&b[..i], &b[i..]]), expected, "split at {i}");
            }
        }
    }

    proptest! {
        #[test]
        fn random_splits_give_the_same_events(
            cuts in proptest::collection::vec(0usize..2000, 0..40),
            crlf in any::<bool>(),
        ) {
            let stream = if crlf { RECORDED.replace('\n', "\r\n") } else { RECORDED.to_string() };
            let b = stream.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (b.len() + 1)).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut prev = 0;
            for c in cuts {
                parts.push(&b[prev..c]);
                prev = c;
            }
            parts.push(&b[prev..]);
            prop_assert_eq!(events_of(&parts), whole(RECORDED));
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_and_the_buffer_is_reused_per_event() {
        let mut p = SseParser::new();
        let mut seen = Vec::new();
        p.feed(b"data: ok\xff\n\ndata: fine\n\ndata: [DONE]\n\n", |ev| {
            seen.push(match ev {
                Payload::Data(d) => d.to_string(),
                Payload::Done => "<done>".to_string(),
            })
        });
        assert_eq!(seen, ["ok\u{fffd}", "fine", "<done>"]);
    }

    #[test]
    fn line_endings_comments_and_multiline_data() {
        let d = |s: &str| SseEvent::Data(s.to_string());
        assert_eq!(
            whole("data: a\r\n\r\ndata:b\r\rdata: c\n\n"),
            vec![d("a"), d("b"), d("c")]
        );
        assert_eq!(whole(": keep-alive\n\n: PROCESSING\r\n\r\n"), vec![]);
        assert_eq!(
            whole("event: x\nid: 3\ndata: one\ndata:  two\n\n"),
            vec![d("one\n two")]
        );
        // A final event without its blank line is still delivered at EOF.
        assert_eq!(whole("data: [DONE]\n"), vec![SseEvent::Done]);
        assert_eq!(whole("data: [DONE]"), vec![SseEvent::Done]);
        // A blank line alone dispatches nothing; `data` with no value is empty data.
        assert_eq!(whole("\n\ndata\n\n"), vec![d("")]);
    }

    #[test]
    fn role_only_first_chunk_has_no_text() {
        let c = parse_chunk(
            r#"{"id":"gen_1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        )
        .unwrap();
        assert!(!c.has_text());
        assert_eq!(c.id.as_deref(), Some("gen_1"));
        let c = parse_chunk(
            r#"{"choices":[{"delta":{"role":"assistant","content":null}}],"usage":null}"#,
        )
        .unwrap();
        assert!(!c.has_text());
        assert_eq!(c.usage, None);
    }

    #[test]
    fn usage_in_the_finish_chunk() {
        let ev = whole(RECORDED);
        let SseEvent::Data(d) = &ev[4] else { panic!() };
        let c = parse_chunk(d).unwrap();
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            c.usage,
            Some(Usage {
                input_tokens: 12,
                output_tokens: 7,
                reasoning_tokens: 3,
                cached_tokens: 4,
                cache_write_tokens: 0
            })
        );
        assert_eq!(c.usage_cost, Some(0.00042));
        let SseEvent::Data(d) = &ev[5] else { panic!() };
        let c = parse_chunk(d).unwrap();
        assert_eq!(c.metadata_cost, Some(0.00042));
        assert_eq!(c.provider.as_deref(), Some("bedrock"));
    }

    #[test]
    fn usage_in_a_separate_final_chunk() {
        let c = parse_chunk(
            r#"{"id":"x","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,
            "cache_creation_input_tokens":50},"provider":"openai"}"#,
        )
        .unwrap();
        assert!(!c.has_text());
        let u = c.usage.unwrap();
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.cache_write_tokens),
            (100, 20, 50)
        );
        assert_eq!(c.provider.as_deref(), Some("openai"));
        assert_eq!(c.finish_reason, None);
        let c = parse_chunk(
            r#"{"usage":{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cache_write_tokens":5}},
            "provider_metadata":{"gateway":{"cost":0.5}}}"#,
        )
        .unwrap();
        assert_eq!(c.usage.unwrap().cache_write_tokens, 5);
        assert_eq!(c.metadata_cost, Some(0.5));
        assert_eq!(c.usage_cost, None);
    }

    #[test]
    fn reasoning_variants_are_taken_once() {
        let r = |json: &str| parse_chunk(json).unwrap().reasoning.into_owned();
        assert_eq!(
            r(r#"{"choices":[{"delta":{"reasoning_content":"a\"b"}}]}"#),
            "a\"b"
        );
        assert_eq!(
            r(
                r#"{"choices":[{"delta":{"reasoning_details":[{"type":"reasoning.text","text":"x"},{"type":"reasoning.encrypted","data":"zz"},{"text":"y"}]}}]}"#
            ),
            "xy"
        );
        // The same text in `reasoning` and `reasoning_details` is counted once.
        assert_eq!(
            r(r#"{"choices":[{"delta":{"reasoning":"t","reasoning_details":[{"text":"t"}]}}]}"#),
            "t"
        );
        assert!(parse_chunk(r#"{"choices":[{"delta":{"reasoning":"t"}}]}"#)
            .unwrap()
            .has_text());
    }

    #[test]
    fn plain_text_is_borrowed_from_the_payload() {
        let c = parse_chunk(
            r#"{"id":"g","choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
        assert!(matches!(c.content, Cow::Borrowed("hi")));
        assert!(matches!(c.id, Some(Cow::Borrowed("g"))));
        assert!(matches!(c.finish_reason, Some(Cow::Borrowed("stop"))));
    }

    #[test]
    fn every_choice_is_read_and_the_first_finish_reason_kept() {
        let c = parse_chunk(
            r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null},
                {"index":1,"delta":{"content":"b","reasoning":"r"},"finish_reason":"length"},
                {"index":2,"message":{"content":"c"},"finish_reason":"stop"}],
                "provider":"openai"}"#,
        )
        .unwrap();
        assert_eq!(c.content, "abc");
        assert_eq!(c.reasoning, "r");
        assert_eq!(c.finish_reason.as_deref(), Some("length"));
        assert!(matches!(c.provider, Some(Cow::Borrowed("openai"))));
        let c = parse_chunk(r#"{"choices":null,"id":"g"}"#).unwrap();
        assert!(!c.has_text() && c.finish_reason.is_none());
    }

    #[test]
    fn error_event_after_200() {
        let c = parse_chunk(
            r#"{"error":{"message":"upstream overloaded","type":"server_error","code":529}}"#,
        )
        .unwrap();
        let e = c.error.unwrap();
        assert_eq!(e.message, "upstream overloaded");
        assert_eq!(e.kind.as_deref(), Some("server_error"));
        assert_eq!(e.code.as_deref(), Some("529"));
        let c = parse_chunk(r#"{"error":"boom"}"#).unwrap();
        assert_eq!(c.error.unwrap().message, "boom");
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            r#"{"choices":[{"delta":{"content":"unterminated"#,
            "not json",
            "[1,2]",
            r#"{"choices":5}"#,
        ] {
            let e = parse_chunk(bad).unwrap_err();
            assert!(!e.message.is_empty(), "{bad}");
        }
    }
}
