//! One job: send the request, turn the outcome into a row (timings, tokens,
//! cost and where it came from), and grade the answer.

use std::time::Duration;

use std::time::Instant;

use tokio::sync::mpsc;

use crate::cache::SendId;
use crate::gateway::{ChatRequest, ChatWatch, Outcome};
use crate::record::{CacheProbe, ErrorKind, JobKey, RequestRow, ResponseRecord, Status};

use super::budget::resolve_cost;
use super::events::JobEvent;
use super::grade::grade;
use super::{Msg, RunContext, Shared};

pub(super) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Run job `key`; with job events on, tell the collector over `tx` when it
/// starts, retries and sees its first token. With `--cache`, the answer may
/// come from the response cache instead (`cached` on the row): it started,
/// but no token arrived and nothing was retried.
pub(crate) async fn run_job(
    shared: &Shared,
    key: JobKey,
    queue: Duration,
    tx: &mpsc::Sender<Msg>,
) -> ResponseRecord {
    let ctx = &shared.ctx;
    let request = request_for(ctx, key);
    let (outcome, replayed) = if shared.job_events {
        let _ = tx.send(Msg::Job(JobEvent::Started { key, queue })).await;
        let mut watch = JobWatch { key, tx };
        send_watched(ctx, &request, send_id(ctx, key), &mut watch).await
    } else {
        send(ctx, &request, send_id(ctx, key)).await
    };
    let mut record = build_record(ctx, key, queue, outcome);
    record.row.cached = replayed;
    if !request.params.is_empty() {
        record.params = Some(request.params.clone());
    }
    grade(ctx, key, &request, &mut record).await;
    record
}

/// The chat request of job `key`.
pub fn request_for(ctx: &RunContext, key: JobKey) -> ChatRequest {
    let case = &ctx.suite.cases[key.case_index as usize];
    let model = &ctx.models[key.model_index as usize];
    ChatRequest {
        model: model.clone(),
        messages: case.messages.clone(),
        params: ctx.suite.params_for(case, model),
        tools: case.tools.clone(),
        tool_choice: case.tool_choice.clone(),
        parallel_tool_calls: case.parallel_tool_calls,
        response_format: case.response_format.clone(),
        gateway_options: ctx.suite.gateway.clone(),
    }
}

/// Which send of its request job `key` is, for the response cache.
pub fn send_id(ctx: &RunContext, key: JobKey) -> SendId {
    let case = &ctx.suite.cases[key.case_index as usize];
    SendId {
        repeat: key.repeat,
        probe: case.probe == Some(CacheProbe::Probe),
    }
}

/// Send `request`, or answer it from the response cache; true when replayed.
pub(super) async fn send(ctx: &RunContext, request: &ChatRequest, id: SendId) -> (Outcome, bool) {
    send_watched(ctx, request, id, &mut ()).await
}

/// [`send`], telling `watch` of the first token and retries of a request
/// that goes to the gateway (a replayed answer has neither).
async fn send_watched(
    ctx: &RunContext,
    request: &ChatRequest,
    id: SendId,
    watch: &mut dyn ChatWatch,
) -> (Outcome, bool) {
    match &ctx.cache {
        Some(c) => {
            let a = c.chat(&ctx.gateway, request, id, watch).await;
            (a.outcome, a.replayed)
        }
        None => (ctx.gateway.chat_watched(request, watch).await, false),
    }
}

/// Passes a request's first token and retries on to the collector. Called
/// from inside the stream reader, so it never waits: if the collector is a
/// whole channel behind, the event is dropped (they are best effort).
struct JobWatch<'a> {
    key: JobKey,
    tx: &'a mpsc::Sender<Msg>,
}

impl ChatWatch for JobWatch<'_> {
    fn first_token(&mut self, at: Instant) {
        let ev = JobEvent::FirstToken { key: self.key, at };
        let _ = self.tx.try_send(Msg::Job(ev));
    }
    fn retrying(&mut self, attempt: u32, error: ErrorKind) {
        let key = self.key;
        let _ = self.tx.try_send(Msg::Job(JobEvent::Attempt {
            key,
            attempt,
            error,
        }));
    }
}

/// The row and journal record for one outcome (before grading).
pub(super) fn build_record(
    ctx: &RunContext,
    key: JobKey,
    queue: Duration,
    outcome: Outcome,
) -> ResponseRecord {
    let case = &ctx.suite.cases[key.case_index as usize];
    let model = &ctx.models[key.model_index as usize];
    let (cost_usd, cost_source) = resolve_cost(&outcome, model, ctx.catalog.as_deref(), &ctx.suite);
    let usage = outcome.usage;
    // A count the gateway sent as an absurd value is unknown, not 0.
    let count = |column: &'static str, pick: fn(&crate::record::Usage) -> u64| {
        let rejected = outcome.usage_rejected.contains(&column);
        usage.as_ref().filter(|_| !rejected).map(pick)
    };
    let out_tokens = count("output_tokens", |u| u.output_tokens);
    let streaming = match (outcome.ttft, outcome.duration) {
        (Some(t), Some(d)) if d > t => Some(d - t),
        _ => None,
    };
    let tpot_ms = match (streaming, out_tokens) {
        (Some(s), Some(n)) if n > 1 => Some(ms(s) / (n - 1) as f64),
        _ => None,
    };
    let tokens_per_s = match (streaming, out_tokens) {
        (Some(s), Some(n)) if n > 0 && s.as_secs_f64() > 0.0 => Some(n as f64 / s.as_secs_f64()),
        _ => None,
    };
    let row = RequestRow {
        job: key.job,
        suite: ctx.suite.name.clone(),
        case_id: case.id.clone(),
        model: model.clone(),
        repeat: key.repeat,
        status: if outcome.error.is_none() {
            Status::Ok
        } else {
            Status::Error
        },
        error_kind: outcome.error.as_ref().map(|e| e.kind),
        error_message: outcome.error.map(|e| e.message),
        attempts: outcome.attempts,
        queue_ms: Some(ms(queue)),
        ttft_ms: outcome.ttft.map(ms),
        duration_ms: outcome.duration.map(ms),
        tpot_ms,
        tokens_per_s,
        input_tokens: count("input_tokens", |u| u.input_tokens),
        output_tokens: out_tokens,
        reasoning_tokens: count("reasoning_tokens", |u| u.reasoning_tokens),
        cached_tokens: count("cached_tokens", |u| u.cached_tokens),
        cache_write_tokens: count("cache_write_tokens", |u| u.cache_write_tokens),
        cost_usd,
        cost_source,
        generation_id: outcome.generation_id,
        provider: outcome.provider,
        finish_reason: outcome.finish_reason,
        passed: None,
        score: None,
        failed_checks: None,
        send_lag_ms: None,
        truncated: outcome.truncated,
        slo_met: None,
        tool_calls: Some(outcome.tool_calls.len() as u32),
        cache_saved_usd: usage.and_then(|u| {
            super::budget::model_prices(ctx, model).and_then(|p| p.cache_savings(&u))
        }),
        fallback: outcome.fallback_chain.is_some(),
        fallback_chain: outcome.fallback_chain,
        cache_probe: case.probe,
        ..RequestRow::skipped(key, "", "", "", crate::record::ErrorKind::Cancelled)
    };
    // Judged here, from the values just measured: a few comparisons.
    let row = RequestRow {
        slo_met: ctx.slo.met(&row),
        ..row
    };
    ResponseRecord {
        row,
        text: outcome.text,
        reasoning: outcome.reasoning,
        checks: Vec::new(),
        itl_us: outcome.itl_us,
        grader_cost_usd: None,
        tool_calls: outcome.tool_calls,
        params: None,
    }
}
