//! One attempt of a streaming chat request: send it, read the SSE body as it
//! arrives, stamp the times (DESIGN.md "Measurement definitions") and turn
//! every failure into a [`RequestError`] that keeps what already arrived.

use std::borrow::Cow;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};

use super::client::{error_chain, ChatWatch, Gateway, Outcome, RequestError, Timeouts};
use super::sse::{parse_chunk, Payload, SseParser, MAX_LINE_BYTES};
use super::toolcalls::ToolCallAssembler;
use super::wire;
use crate::record::ErrorKind;

/// The result of one attempt and what the server said about retrying.
pub(crate) struct Attempt {
    pub outcome: Outcome,
    pub retry_after: Option<Duration>,
}

/// Error bodies are read up to this size; the message is trimmed anyway.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Characters of an offending payload quoted in an error message.
const EXCERPT_CHARS: usize = 120;
/// After `[DONE]`, how long to wait for the body's end so the connection
/// goes back to the pool instead of being closed.
const DRAIN_AFTER_DONE: Duration = Duration::from_secs(1);

/// Send `body` once and read the answer, by `deadline` at the latest (the
/// request's total timeout, shared by all its attempts); `watch` hears of
/// the first token.
pub(crate) async fn run(
    gw: &Gateway,
    body: Bytes,
    deadline: Option<Instant>,
    watch: &mut dyn ChatWatch,
) -> Attempt {
    let t = gw.timeouts();
    let request = gw
        .http()
        .post(gw.chat_url())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "text/event-stream")
        .body(body);
    // Start: immediately before the request is handed to the HTTP client.
    let start = Instant::now();
    let limits = Limits {
        ttft: t.ttft.map(|d| start + d),
        total: deadline,
        idle: t.idle,
        timeouts: t.clone(),
    };
    let mut col = Collector::new(start, gw.max_answer_bytes());
    let fail = |col: Collector, kind, msg: &str, status| Attempt {
        outcome: col.finish(Some(gw.request_error(kind, msg, status))),
        retry_after: None,
    };

    let mut deadline = Deadline::new();
    let resp = match deadline
        .within(limits.next(start, false), request.send())
        .await
    {
        Err(kind) => return fail(col, kind, &limits.message(kind), None),
        Ok(Err(e)) => return fail(col, ErrorKind::Connect, &error_chain(&e), None),
        Ok(Ok(r)) => r,
    };
    gw.note_headers(resp.headers());
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        let retry_after = retry_after(resp.headers());
        let body = read_error_body(resp, &limits, &mut deadline).await;
        let mut message = wire::error_message(&body);
        if message.is_empty() {
            message = format!("HTTP {status}");
        }
        let kind = ErrorKind::from_status(status);
        return Attempt {
            retry_after,
            ..fail(col, kind, &message, Some(status))
        };
    }

    match body_kind(resp.headers()) {
        BodyKind::EventStream => {}
        BodyKind::Json => {
            let failure = read_json_answer(gw, resp, &limits, &mut deadline, &mut col).await;
            let error = failure.map(|(kind, msg)| gw.request_error(kind, &msg, None));
            return Attempt {
                outcome: col.finish(error),
                retry_after: None,
            };
        }
        BodyKind::Other(what) => {
            let body = read_error_body(resp, &limits, &mut deadline).await;
            let excerpt = gw.excerpt(&String::from_utf8_lossy(&body), EXCERPT_CHARS);
            let msg = format!("HTTP 200 with {what}, not an event stream: `{excerpt}`");
            return fail(col, ErrorKind::NotAStream, &msg, None);
        }
    }

    let mut stream = resp.bytes_stream();
    let mut parser = SseParser::with_limit(MAX_LINE_BYTES);
    let mut last_byte = Instant::now();
    let failure: Option<(ErrorKind, String)> = 'read: loop {
        let limit = limits.next(last_byte, col.out.ttft.is_some());
        let item = match deadline.within(limit, stream.next()).await {
            Ok(item) => item,
            Err(kind) => break Some((kind, limits.message(kind))),
        };
        // Every event of this read arrived now. Events after `[DONE]` or a
        // stream error are ignored.
        let now = Instant::now();
        let had_token = col.out.ttft.is_some();
        let mut stop: Option<(ErrorKind, String)> = None;
        let mut sink = |ev: Payload<'_>| {
            if stop.is_none() && !col.done {
                if let Err(e) = col.event(ev, now) {
                    stop = Some(quote_payload(gw, e, ev));
                }
            }
        };
        let eof = match item {
            Some(Ok(bytes)) => {
                last_byte = now;
                parser.feed(&bytes, &mut sink);
                false
            }
            Some(Err(e)) => {
                // A cut after the finish chunk loses nothing of the answer.
                if col.out.finish_reason.is_some() {
                    col.end = Some(now);
                    break None;
                }
                break Some((ErrorKind::StreamInterrupted, error_chain(&e)));
            }
            None => {
                parser.finish(&mut sink);
                true
            }
        };
        if !had_token && col.out.ttft.is_some() {
            watch.first_token(now);
        }
        if let Some(e) = stop {
            break 'read Some(e);
        }
        if parser.too_long() {
            let msg = format!(
                "a line of the stream is longer than {} MiB; the gateway sent no line break",
                MAX_LINE_BYTES >> 20
            );
            break Some((ErrorKind::MalformedStream, msg));
        }
        if col.data_events == 0 && (col.done || eof) {
            let msg = if col.done {
                "the gateway answered with only [DONE], no answer chunk"
            } else {
                "the gateway answered HTTP 200 with no answer chunk (an empty body)"
            };
            break Some((ErrorKind::EmptyAnswer, msg.to_string()));
        }
        if col.done || (eof && col.out.finish_reason.is_some()) {
            col.end = Some(now);
            break None;
        }
        if eof {
            let msg = "the stream ended without [DONE] or a finish_reason";
            break Some((ErrorKind::StreamInterrupted, msg.to_string()));
        }
    };
    if failure.is_none() && col.done {
        drain(&mut stream).await;
    }
    // Stream-level failures carry no HTTP error status (the answer was 200).
    let error = failure.map(|(kind, msg)| gw.request_error(kind, &msg, None));
    Attempt {
        outcome: col.finish(error),
        retry_after: None,
    }
}

/// What a 200 answer's headers say its body is.
enum BodyKind {
    /// `text/event-stream` (or `text/plain`, or no content type: lenient).
    EventStream,
    /// A non-streamed completion (`application/json`).
    Json,
    /// Anything else, described for the error message.
    Other(String),
}

fn body_kind(headers: &HeaderMap) -> BodyKind {
    let header = |name| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .unwrap_or_default()
    };
    // reqwest is built without decompression and asks for none, so a
    // compressed body is one no parser here can read.
    let encoding = header(CONTENT_ENCODING);
    if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("identity") {
        return BodyKind::Other(format!(
            "a compressed body (content-encoding: {encoding}), which evalgate does not decode (it asks for an uncompressed stream)"
        ));
    }
    let full = header(CONTENT_TYPE);
    let mime = full
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "" | "text/event-stream" | "text/plain" => BodyKind::EventStream,
        "application/json" => BodyKind::Json,
        m if m.ends_with("+json") => BodyKind::Json,
        _ => BodyKind::Other(format!("content type `{full}`")),
    }
}

/// A non-streamed completion: `choices[0].message` in one JSON body. It is
/// an answer without a TTFT (no token arrived before the whole answer did);
/// its duration runs to the end of the body.
async fn read_json_answer(
    gw: &Gateway,
    resp: reqwest::Response,
    limits: &Limits,
    deadline: &mut Deadline,
    col: &mut Collector,
) -> Option<(ErrorKind, String)> {
    let mut stream = resp.bytes_stream();
    let mut body = Vec::new();
    let mut last = Instant::now();
    loop {
        match deadline
            .within(limits.next(last, false), stream.next())
            .await
        {
            Err(kind) => return Some((kind, limits.message(kind))),
            Ok(Some(Err(e))) => return Some((ErrorKind::StreamInterrupted, error_chain(&e))),
            Ok(None) => break,
            Ok(Some(Ok(bytes))) => {
                last = Instant::now();
                if body.len() + bytes.len() > MAX_LINE_BYTES {
                    let msg = format!(
                        "the JSON answer is larger than {} MiB",
                        MAX_LINE_BYTES >> 20
                    );
                    return Some((ErrorKind::MalformedStream, msg));
                }
                body.extend_from_slice(&bytes);
            }
        }
    }
    let now = Instant::now();
    let text = String::from_utf8_lossy(&body);
    if text.trim().is_empty() {
        let msg = "the gateway answered HTTP 200 with an empty JSON body";
        return Some((ErrorKind::EmptyAnswer, msg.to_string()));
    }
    let ev = Payload::Data(&text);
    if let Err(e) = col.event(ev, now) {
        return Some(quote_payload(gw, e, ev));
    }
    if !col.has_answer() {
        let excerpt = gw.excerpt(&text, EXCERPT_CHARS);
        let msg = format!(
            "HTTP 200 with a JSON body that is neither a stream nor a completion (no choices[0].message): `{excerpt}`"
        );
        return Some((ErrorKind::NotAStream, msg));
    }
    col.out.ttft = None;
    col.out.itl_us.clear();
    col.end = Some(now);
    None
}

/// A malformed payload's error quotes the start of the payload, with the
/// key scrubbed before the quote is cut.
fn quote_payload(gw: &Gateway, e: (ErrorKind, String), ev: Payload<'_>) -> (ErrorKind, String) {
    match (e.0, ev) {
        (ErrorKind::MalformedStream, Payload::Data(d)) => {
            let excerpt = gw.excerpt(d, EXCERPT_CHARS);
            (e.0, format!("{} in `{excerpt}`", e.1))
        }
        _ => e,
    }
}

/// Deadlines of one attempt.
struct Limits {
    ttft: Option<Instant>,
    total: Option<Instant>,
    idle: Option<Duration>,
    timeouts: Timeouts,
}

impl Limits {
    /// The earliest deadline for the next read, and the kind it reports.
    fn next(&self, last_byte: Instant, got_token: bool) -> Option<(Instant, ErrorKind)> {
        let candidates = [
            (self.total, ErrorKind::TimeoutTotal),
            (self.ttft.filter(|_| !got_token), ErrorKind::TimeoutTtft),
            (self.idle.map(|d| last_byte + d), ErrorKind::TimeoutIdle),
        ];
        candidates
            .into_iter()
            .filter_map(|(at, kind)| at.map(|at| (at, kind)))
            .min_by_key(|(at, _)| *at)
    }

    fn message(&self, kind: ErrorKind) -> String {
        let t = &self.timeouts;
        match kind {
            ErrorKind::TimeoutTtft => {
                format!("no first token within {:?}", t.ttft.unwrap_or_default())
            }
            ErrorKind::TimeoutIdle => format!("no data for {:?}", t.idle.unwrap_or_default()),
            _ => format!(
                "the request took longer than {:?}",
                t.total.unwrap_or_default()
            ),
        }
    }
}

/// One timer for a whole attempt. Deadlines only ever move later (the TTFT
/// limit goes away at the first token, the idle limit follows each read),
/// so the timer stays armed at the deadline it was set to and is re-armed
/// only when it fires before the current one: one timer registration per
/// attempt instead of one per read (each costs a lock on the timer wheel,
/// and sometimes a wake-up of the thread that drives it).
struct Deadline {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    armed: Option<Instant>,
}

impl Deadline {
    fn new() -> Deadline {
        Deadline {
            sleep: Box::pin(tokio::time::sleep_until(tokio::time::Instant::now())),
            armed: None,
        }
    }

    /// Await `fut` until `limit` (the current deadline), if any.
    async fn within<F: Future>(
        &mut self,
        limit: Option<(Instant, ErrorKind)>,
        fut: F,
    ) -> Result<F::Output, ErrorKind> {
        let Some((at, kind)) = limit else {
            return Ok(fut.await);
        };
        let mut fut = std::pin::pin!(fut);
        loop {
            if self.armed.is_none_or(|armed| armed > at) {
                self.sleep.as_mut().reset(at.into());
                self.armed = Some(at);
            }
            tokio::select! {
                biased;
                out = &mut fut => return Ok(out),
                () = &mut self.sleep => {
                    self.armed = None;
                    if Instant::now() >= at {
                        return Err(kind);
                    }
                }
            }
        }
    }
}

/// The body of an error answer, best effort and bounded.
async fn read_error_body(
    resp: reqwest::Response,
    limits: &Limits,
    deadline: &mut Deadline,
) -> Vec<u8> {
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut last = Instant::now();
    while let Ok(Some(Ok(bytes))) = deadline
        .within(limits.next(last, false), stream.next())
        .await
    {
        last = Instant::now();
        buf.extend_from_slice(&bytes);
        if buf.len() > MAX_ERROR_BODY {
            break;
        }
    }
    buf
}

/// Read what follows `[DONE]` (normally just the body's end), briefly.
async fn drain<S>(stream: &mut S)
where
    S: futures::Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    let until = Instant::now() + DRAIN_AFTER_DONE;
    while let Ok(Some(Ok(_))) = tokio::time::timeout_at(until.into(), stream.next()).await {}
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Collects one attempt's answer from its events.
struct Collector {
    start: Instant,
    out: Outcome,
    /// Bytes of text and reasoning kept together; the rest is measured
    /// (timings, usage) but not stored.
    max_answer: usize,
    /// `data` events seen (`[DONE]` excluded).
    data_events: u64,
    last_token: Option<Instant>,
    usage_cost: Option<f64>,
    metadata_cost: Option<f64>,
    /// Tool calls being assembled (untouched by answers without any).
    tools: ToolCallAssembler,
    done: bool,
    end: Option<Instant>,
}

impl Collector {
    fn new(start: Instant, max_answer: usize) -> Self {
        Collector {
            start,
            out: Outcome::default(),
            max_answer,
            data_events: 0,
            last_token: None,
            usage_cost: None,
            metadata_cost: None,
            tools: ToolCallAssembler::new(max_answer),
            done: false,
            end: None,
        }
    }

    /// Take one event that arrived at `at`; `Err` stops the stream.
    fn event(&mut self, ev: Payload<'_>, at: Instant) -> Result<(), (ErrorKind, String)> {
        let data = match ev {
            Payload::Done => {
                self.done = true;
                return Ok(());
            }
            Payload::Data(d) => d,
        };
        self.data_events += 1;
        let mut chunk =
            parse_chunk(data).map_err(|e| (ErrorKind::MalformedStream, e.to_string()))?;
        if self.out.generation_id.is_none() {
            self.out.generation_id = chunk.id.take().map(Cow::into_owned);
        }
        // Role-only and empty chunks carry no token: they must not count for
        // TTFT, or a gateway that sends the role at once would look instant.
        // A tool-call fragment is the answer's output, so it counts.
        let mut tool_data = false;
        for (i, d) in chunk.tool_calls.iter().enumerate() {
            tool_data |= d.has_data();
            self.tools.add(i, d);
        }
        if chunk.has_text() || tool_data {
            match self.last_token {
                None => self.out.ttft = Some(at - self.start),
                // Gaps are kept up to the answer limit too (4 bytes each).
                Some(prev) if self.out.itl_us.len() < self.max_answer / 4 => {
                    let gap = u32::try_from((at - prev).as_micros()).unwrap_or(u32::MAX);
                    self.out.itl_us.push(gap);
                }
                Some(_) => {}
            }
            self.last_token = Some(at);
            self.out.chunks = self.out.chunks.saturating_add(1);
            self.store(&chunk.content, false);
            self.store(&chunk.reasoning, true);
        }
        if let Some(f) = chunk.finish_reason {
            self.out.finish_reason = Some(f.into_owned());
        }
        if chunk.usage.is_some() {
            self.out.usage = chunk.usage;
            self.out.usage_rejected = std::mem::take(&mut chunk.usage_rejected);
        }
        self.usage_cost = chunk.usage_cost.or(self.usage_cost);
        self.metadata_cost = chunk.metadata_cost.or(self.metadata_cost);
        if let Some(p) = chunk.provider {
            self.out.provider = Some(p.into_owned());
        }
        if chunk.fallback_chain.is_some() {
            self.out.fallback_chain = chunk.fallback_chain;
        }
        if let Some(e) = chunk.error {
            let tag: Vec<&str> = [e.kind.as_deref(), e.code.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let msg = if tag.is_empty() {
                e.message
            } else {
                format!("{} ({})", e.message, tag.join(", "))
            };
            return Err((ErrorKind::StreamError, msg));
        }
        Ok(())
    }

    /// Append to the text (or reasoning) within the answer limit, which
    /// text and reasoning share; past it, cut at a character boundary and
    /// mark the answer truncated.
    fn store(&mut self, piece: &str, reasoning: bool) {
        if piece.is_empty() {
            return;
        }
        let used = self.out.text.len() + self.out.reasoning.len();
        let room = self.max_answer.saturating_sub(used);
        let mut take = piece.len().min(room);
        while !piece.is_char_boundary(take) {
            take -= 1;
        }
        if take < piece.len() {
            self.out.truncated = true;
        }
        let buf = if reasoning {
            &mut self.out.reasoning
        } else {
            &mut self.out.text
        };
        buf.push_str(&piece[..take]);
    }

    /// Whether anything of an answer arrived: text, a tool call, a finish
    /// reason or usage.
    fn has_answer(&self) -> bool {
        self.out.chunks > 0
            || !self.tools.is_empty()
            || self.out.finish_reason.is_some()
            || self.out.usage.is_some()
    }

    fn finish(mut self, error: Option<RequestError>) -> Outcome {
        self.out.gateway_cost = self.usage_cost.or(self.metadata_cost);
        if !self.tools.is_empty() {
            self.out.truncated |= self.tools.truncated();
            self.out.tool_calls = self.tools.finish();
        }
        if error.is_none() {
            self.out.duration = self.end.map(|e| e - self.start);
        }
        self.out.error = error;
        self.out
    }
}
