//! The SSE body: pre-formatted chunk prefixes, absolute-deadline pacing.
//!
//! Each chunk is `prefix + escaped text + suffix`; the prefix (id, created,
//! model) is formatted once per request, so producing a chunk is a few
//! `push_str`s. Token `i` is due at `start + ttft + i * itl` (absolute, so timer
//! jitter never accumulates); when the streamer falls behind, every chunk that
//! is already due goes out in one write.

use bytes::Bytes;
use futures::Stream;
use tokio::time::Instant;

use super::chat::{Content, Plan};
use super::stats::RequestGuard;
use super::text::push_json_escaped;

/// The error that ends the body for the `cut-mid` fault (the client sees an aborted connection).
#[derive(Debug, thiserror::Error)]
#[error("connection cut mid-stream by the sim's cut-mid fault")]
pub struct CutMid;

/// Pause before cutting, so chunks sent before the cut reach the client.
const CUT_GRACE: std::time::Duration = std::time::Duration::from_millis(25);

/// Stop batching due chunks into one write past this many bytes.
const BATCH_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Preamble,
    Tokens,
    Finish,
    Done,
}

struct Streamer {
    plan: Plan,
    guard: RequestGuard,
    stats: std::sync::Arc<super::stats::Stats>,
    step: Step,
    next: u32,
    mid_done: bool,
    /// `data: {"id":...,"model":...,"choices":[{"index":0,"delta":{`
    head: String,
}

const TOKEN_TAIL: &str = "\"},\"finish_reason\":null}]}\n\n";
/// After a whole delta (tool calls).
const DELTA_TAIL: &str = "},\"finish_reason\":null}]}\n\n";

impl Streamer {
    fn common(plan: &Plan) -> String {
        let mut s = String::with_capacity(160);
        s.push_str("{\"id\":\"");
        s.push_str(&plan.id);
        s.push_str("\",\"object\":\"chat.completion.chunk\",\"created\":");
        s.push_str(&plan.created.to_string());
        s.push_str(",\"model\":\"");
        push_json_escaped(&mut s, &plan.model);
        s.push_str("\",");
        s
    }

    fn preamble(&self) -> String {
        let mut b = String::from(": PROCESSING\n\n");
        b.push_str(&self.head);
        b.push_str("\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
        b
    }

    fn push_token(&mut self, buf: &mut String) {
        let i = self.next;
        buf.push_str(&self.head);
        if let (false, Content::Deltas(deltas)) = (i < self.plan.reasoning, &self.plan.content) {
            let k = (i - self.plan.reasoning) as usize;
            buf.push_str(deltas.get(k).map_or("", String::as_str));
            buf.push_str(DELTA_TAIL);
            self.next += 1;
            return;
        }
        if i < self.plan.reasoning {
            buf.push_str("\"reasoning\":\"");
            self.plan.reasoning_words.push_next(buf);
        } else {
            buf.push_str("\"content\":\"");
            match &mut self.plan.content {
                Content::Words(w) => w.push_next(buf),
                Content::Fixed(chunks) => {
                    let k = (i - self.plan.reasoning) as usize;
                    push_json_escaped(buf, chunks.get(k).map_or("", String::as_str));
                }
                Content::Deltas(_) => {}
            }
        }
        buf.push_str(TOKEN_TAIL);
        self.next += 1;
    }

    fn finish(&self, buf: &mut String) -> u64 {
        let common = Self::common(&self.plan);
        let usage = &self.plan.usage;
        buf.push_str("data: ");
        buf.push_str(&common);
        buf.push_str("\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"");
        buf.push_str(self.plan.finish_reason);
        buf.push_str("\"}]");
        let mut events = 2;
        if usage.sent && self.plan.separate_usage {
            buf.push_str("}\n\ndata: ");
            buf.push_str(&common);
            buf.push_str("\"choices\":[],");
            events += 1;
        } else {
            buf.push(',');
        }
        buf.push_str(&usage.fields);
        buf.push_str("}\n\ndata: [DONE]\n\n");
        events
    }

    async fn next_item(&mut self) -> Option<Result<Bytes, CutMid>> {
        match self.step {
            Step::Done => None,
            Step::Preamble => {
                self.step = if self.plan.total_tokens() == 0 {
                    Step::Finish
                } else {
                    Step::Tokens
                };
                self.stats.add_chunks(1);
                Some(Ok(Bytes::from(self.preamble())))
            }
            Step::Finish => {
                sleep_until(
                    self.plan
                        .finish_deadline()
                        .max(self.plan.start + self.plan.ttft),
                )
                .await;
                let mut buf = String::with_capacity(1024);
                let events = self.finish(&mut buf);
                self.stats.add_chunks(events);
                self.step = Step::Done;
                Some(Ok(Bytes::from(buf)))
            }
            Step::Tokens => self.tokens().await,
        }
    }

    async fn tokens(&mut self) -> Option<Result<Bytes, CutMid>> {
        sleep_until(self.plan.deadline(self.next)).await;
        let now = Instant::now();
        let total = self.plan.total_tokens();
        let half = self.plan.half();
        let mut buf = String::with_capacity(512);
        let mut events = 0;
        while self.next < total && self.plan.deadline(self.next) <= now && buf.len() < BATCH_BYTES {
            if self.next == half && !self.mid_done {
                let f = &self.plan.faults;
                if f.cut_mid {
                    if buf.is_empty() {
                        // hyper drops bytes it has not flushed yet when a body
                        // errors; give what was already sent time to leave.
                        tokio::time::sleep(CUT_GRACE).await;
                        self.step = Step::Done;
                        return Some(Err(CutMid));
                    }
                    break; // flush what is due, cut on the next call
                }
                self.mid_done = true;
                if f.error_event {
                    buf.push_str("data: {\"error\":{\"message\":\"Upstream provider error\",\"type\":\"server_error\",\"code\":\"upstream_error\"}}\n\n");
                    self.stats.add_chunks(events + 1);
                    self.step = Step::Done;
                    return Some(Ok(Bytes::from(buf)));
                }
                if f.malformed {
                    buf.push_str("data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n");
                    events += 1;
                }
            }
            if !self.guard.has_first_token() {
                self.guard.first_token();
            }
            self.push_token(&mut buf);
            events += 1;
        }
        if self.next >= total {
            self.step = Step::Finish;
        }
        self.stats.add_chunks(events);
        Some(Ok(Bytes::from(buf)))
    }
}

async fn sleep_until(deadline: Instant) {
    // Skip the timer entirely when already due: cheaper, and no 1 ms rounding.
    if deadline > Instant::now() {
        tokio::time::sleep_until(deadline).await;
    }
}

/// The SSE body stream for a plan; the guard is dropped (and the request
/// recorded) when the stream ends or the client goes away.
pub fn sse(
    plan: Plan,
    guard: RequestGuard,
    stats: std::sync::Arc<super::stats::Stats>,
) -> impl Stream<Item = Result<Bytes, CutMid>> + Send + 'static {
    let mut head = String::from("data: ");
    head.push_str(&Streamer::common(&plan));
    head.push_str("\"choices\":[{\"index\":0,\"delta\":{");
    let streamer = Streamer {
        plan,
        guard,
        stats,
        step: Step::Preamble,
        next: 0,
        mid_done: false,
        head,
    };
    futures::stream::unfold(streamer, |mut s| async move {
        let item = s.next_item().await?;
        Some((item, s))
    })
}

/// The full answer text (reasoning, content) for non-streaming answers.
pub fn full_text(plan: &mut Plan) -> (String, String) {
    let mut reasoning = String::new();
    for _ in 0..plan.reasoning {
        plan.reasoning_words.push_next(&mut reasoning);
    }
    let mut content = String::new();
    match &mut plan.content {
        Content::Words(w) => {
            for _ in 0..plan.content_tokens {
                w.push_next(&mut content);
            }
        }
        Content::Fixed(chunks) => {
            for c in chunks.iter().take(plan.content_tokens as usize) {
                content.push_str(c);
            }
        }
        Content::Deltas(_) => {}
    }
    (reasoning, content)
}
