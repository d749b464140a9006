//! The runner: turns a plan into requests under the concurrency limits and
//! budgets, and turns each outcome into a journaled row.
//!
//! Shape: one dispatcher task per model walks that model's jobs in plan
//! order, waits for a per-model slot and then a global slot (a fair FIFO
//! semaphore, so models interleave), and spawns the request. Finished
//! requests come back over a channel to one collector, which appends the
//! journal, feeds the aggregates and the progress display, in that order.
//! Time waiting for slots is queue time, never part of TTFT or duration.
//!
//! Stopping: a budget or `--max-requests` stops new starts; Ctrl-C / SIGTERM
//! stops new starts and gives in-flight requests a grace period before they
//! are abandoned. Jobs that never ran are not journaled, so `--resume` runs
//! them; the run directory lists them as skipped rows.

pub mod openloop;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Semaphore};

use crate::assert::{self, Answer, Check};
use crate::gateway::catalog::Catalog;
use crate::gateway::{ChatRequest, Gateway, Outcome};
use crate::journal::{JournalError, JournalWriter};
use crate::metrics::Aggregate;
use crate::plan::Plan;
use crate::pricing::{self, ModelPrices};
use crate::progress::Progress;
use crate::record::{
    CheckResult, CostSource, ErrorKind, JobKey, RequestRow, ResponseRecord, Status,
};
use crate::suite::Suite;

/// Why a run stopped before its plan was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    Budget,
    MaxRequests,
    Interrupted,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Budget => "budget",
            StopReason::MaxRequests => "max_requests",
            StopReason::Interrupted => "interrupted",
        }
    }

    /// The `error_kind` of the rows this stop left unrun.
    pub fn error_kind(self) -> ErrorKind {
        match self {
            StopReason::Budget | StopReason::MaxRequests => ErrorKind::BudgetExceeded,
            StopReason::Interrupted => ErrorKind::Cancelled,
        }
    }

    fn code(self) -> u8 {
        match self {
            StopReason::Budget => 1,
            StopReason::MaxRequests => 2,
            StopReason::Interrupted => 3,
        }
    }

    fn from_code(c: u8) -> Option<StopReason> {
        match c {
            1 => Some(StopReason::Budget),
            2 => Some(StopReason::MaxRequests),
            3 => Some(StopReason::Interrupted),
            _ => None,
        }
    }
}

/// Which jobs have a final row in the journal. One bit per job of the full
/// plan, so a million-job run costs 125 KB.
#[derive(Clone, Debug, Default)]
pub struct DoneSet {
    words: Vec<u64>,
}

impl DoneSet {
    pub fn new(total: u64) -> Self {
        DoneSet {
            words: vec![0; total.div_ceil(64) as usize],
        }
    }
    pub fn insert(&mut self, job: u64) {
        if let Some(w) = self.words.get_mut((job / 64) as usize) {
            *w |= 1 << (job % 64);
        }
    }
    pub fn contains(&self, job: u64) -> bool {
        self.words
            .get((job / 64) as usize)
            .is_some_and(|w| w & (1 << (job % 64)) != 0)
    }
}

/// Everything the runner needs, resolved by the `run` command.
pub struct RunContext {
    pub suite: Arc<Suite>,
    pub models: Vec<String>,
    pub plan: Plan,
    pub concurrency: usize,
    pub per_model_concurrency: Option<usize>,
    pub max_cost: Option<f64>,
    pub max_requests: Option<u64>,
    /// In-flight requests get this long to finish after Ctrl-C.
    pub grace: Duration,
    pub catalog: Option<Arc<Catalog>>,
    /// Checks of each case, compiled once.
    pub checks: Vec<Vec<Check>>,
    pub gateway: Arc<Gateway>,
    /// Rate mode (`--rate`): an open-loop schedule instead of closed-loop slots.
    pub open_loop: Option<crate::runner::openloop::OpenLoop>,
    /// `--ramp-up`: the first `concurrency` starts are spread evenly over it.
    pub ramp_up: Option<Duration>,
}

/// What the runner leaves behind besides the journal.
pub struct RunOutcome {
    pub aggregate: Aggregate,
    pub done: DoneSet,
    pub stopped_by: Option<StopReason>,
    /// Jobs abandoned in flight after the grace period.
    pub abandoned: Vec<JobKey>,
    pub journal_error: Option<JournalError>,
    /// Rate mode only: what the open-loop sender did.
    pub open_loop: Option<crate::runner::openloop::OpenLoopReport>,
}

pub(crate) enum Msg {
    Finished(Box<ResponseRecord>),
    Abandoned(JobKey),
}

/// Spend tracking for `--max-cost`: cost of finished requests plus a
/// conservative reservation for each one in flight.
#[derive(Default)]
struct Budget {
    spent: f64,
    reserved: f64,
    /// Largest cost seen per model: the reservation once one has finished.
    max_seen: Vec<Option<f64>>,
}

pub(crate) struct Shared {
    pub(crate) ctx: RunContext,
    stop: AtomicU8,
    started: AtomicU64,
    /// Closed-loop starts so far, and when the run began: the ramp-up
    /// schedule of the first round.
    launched: AtomicU64,
    origin: Instant,
    budget: Mutex<Budget>,
    /// Per model, the reservation before any cost was seen (from prices).
    initial_estimate: Vec<Option<f64>>,
}

impl Shared {
    pub(crate) fn stopped(&self) -> Option<StopReason> {
        StopReason::from_code(self.stop.load(Ordering::Acquire))
    }

    /// With `--ramp-up R`, the k-th of the first C starts waits until
    /// `origin + R·k/C`, so in-flight requests grow evenly from 1 to C.
    fn ramp_slot(&self) -> Option<Instant> {
        let ramp = self.ctx.ramp_up?;
        let c = self.ctx.concurrency as u64;
        let k = self.launched.fetch_add(1, Ordering::Relaxed);
        (k < c).then(|| self.origin + ramp.mul_f64(k as f64 / c as f64))
    }
    fn stop_with(&self, reason: StopReason) {
        let _ = self
            .stop
            .compare_exchange(0, reason.code(), Ordering::AcqRel, Ordering::Acquire);
    }

    /// Decide whether job `key` may start; reserve its estimated cost.
    pub(crate) fn admit(&self, key: &JobKey) -> Result<f64, StopReason> {
        if let Some(r) = self.stopped() {
            return Err(r);
        }
        if let Some(max) = self.ctx.max_requests {
            if self.started.fetch_add(1, Ordering::AcqRel) >= max {
                self.stop_with(StopReason::MaxRequests);
                return Err(StopReason::MaxRequests);
            }
        }
        let Some(max_cost) = self.ctx.max_cost else {
            return Ok(0.0);
        };
        let mut b = self.budget.lock().expect("budget lock");
        let m = key.model_index as usize;
        let estimate = b.max_seen[m].or(self.initial_estimate[m]).unwrap_or(0.0);
        if b.spent + b.reserved + estimate > max_cost {
            drop(b);
            self.stop_with(StopReason::Budget);
            return Err(StopReason::Budget);
        }
        b.reserved += estimate;
        Ok(estimate)
    }

    pub(crate) fn settle(&self, model_index: u32, reserved: f64, cost: Option<f64>) {
        if self.ctx.max_cost.is_none() {
            return;
        }
        let mut b = self.budget.lock().expect("budget lock");
        b.reserved = (b.reserved - reserved).max(0.0);
        if let Some(c) = cost {
            b.spent += c;
            let seen = &mut b.max_seen[model_index as usize];
            *seen = Some(seen.map_or(c, |s: f64| s.max(c)));
        }
    }
}

/// Run every job of the plan not already in `done`, appending to `journal`.
pub async fn execute(
    ctx: RunContext,
    mut journal: JournalWriter,
    mut aggregate: Aggregate,
    mut done: DoneSet,
    mut progress: Progress,
) -> RunOutcome {
    let initial_estimate = ctx
        .models
        .iter()
        .map(|m| initial_cost_estimate(&ctx, m))
        .collect();
    let models = ctx.models.len();
    let shared = Arc::new(Shared {
        budget: Mutex::new(Budget {
            max_seen: vec![None; models],
            ..Budget::default()
        }),
        ctx,
        stop: AtomicU8::new(0),
        started: AtomicU64::new(0),
        launched: AtomicU64::new(0),
        origin: Instant::now(),
        initial_estimate,
    });
    // Listen before the first request starts, and keep listening: a signal
    // that arrives between two waits is never lost.
    let mut signals = Interrupts::new();
    let global = Arc::new(Semaphore::new(shared.ctx.concurrency));
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let (abandon_tx, abandon_rx) = watch::channel(false);
    let done_snapshot = Arc::new(done.clone());

    let open_loop = shared.ctx.open_loop.map(|cfg| {
        tokio::spawn(crate::runner::openloop::dispatch(
            shared.clone(),
            cfg,
            global.clone(),
            tx.clone(),
            abandon_rx.clone(),
            done_snapshot.clone(),
        ))
    });
    for m in (0..models as u32).filter(|_| open_loop.is_none()) {
        let per_model = Arc::new(Semaphore::new(
            shared
                .ctx
                .per_model_concurrency
                .unwrap_or(shared.ctx.concurrency),
        ));
        tokio::spawn(dispatch(
            shared.clone(),
            m,
            global.clone(),
            per_model,
            tx.clone(),
            abandon_rx.clone(),
            done_snapshot.clone(),
        ));
    }
    drop(tx);

    let mut abandoned = Vec::new();
    let mut journal_error = None;
    let mut listening = true;
    let mut grace_deadline: Option<tokio::time::Instant> = None;
    // Journal lines are flushed in batches, at most FLUSH_WITHIN after the
    // first unflushed one: one write for many requests under load.
    let flush_timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(flush_timer);
    let mut unflushed = false;
    loop {
        let grace = async {
            match grace_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Finished(rec)) => {
                    if journal_error.is_none() {
                        if let Err(e) = journal.append(&rec) {
                            // Without a journal the run cannot be resumed: stop.
                            journal_error = Some(e);
                            shared.stop_with(StopReason::Interrupted);
                        } else if !unflushed {
                            unflushed = true;
                            let at = tokio::time::Instant::now() + crate::journal::FLUSH_WITHIN;
                            flush_timer.as_mut().reset(at);
                        }
                    }
                    done.insert(rec.row.job);
                    aggregate.record(&rec);
                    progress.record(&rec, &aggregate);
                }
                Some(Msg::Abandoned(key)) => abandoned.push(key),
                None => break,
            },
            _ = signals.recv(), if listening => {
                if grace_deadline.is_none() {
                    shared.stop_with(StopReason::Interrupted);
                    progress.note("interrupted: no new requests; waiting for those in flight (Ctrl-C again to stop now)");
                    grace_deadline = Some(tokio::time::Instant::now() + shared.ctx.grace);
                } else {
                    let _ = abandon_tx.send(true);
                    listening = false;
                }
            }
            _ = grace => {
                let _ = abandon_tx.send(true);
                grace_deadline = None;
                listening = false;
            }
            () = &mut flush_timer, if unflushed => {
                unflushed = false;
                if let Err(e) = journal.flush() {
                    journal_error.get_or_insert(e);
                    shared.stop_with(StopReason::Interrupted);
                }
            }
        }
    }
    if let Err(e) = journal.flush() {
        journal_error.get_or_insert(e);
    }
    progress.finish();
    let open_loop = match open_loop {
        Some(handle) => handle.await.ok(),
        None => None,
    };
    RunOutcome {
        aggregate,
        done,
        stopped_by: shared.stopped(),
        abandoned,
        journal_error,
        open_loop,
    }
}

/// Ctrl-C and SIGTERM, registered once for the whole run.
struct Interrupts {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Interrupts {
    fn new() -> Interrupts {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            Interrupts { streams }
        }
        #[cfg(not(unix))]
        Interrupts {}
    }

    /// Resolves on the next Ctrl-C or SIGTERM.
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.streams {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn dispatch(
    shared: Arc<Shared>,
    model_index: u32,
    global: Arc<Semaphore>,
    per_model: Arc<Semaphore>,
    tx: mpsc::Sender<Msg>,
    abandon: watch::Receiver<bool>,
    done: Arc<DoneSet>,
) {
    let plan = shared.ctx.plan;
    for key in plan.jobs_for_model(model_index) {
        if done.contains(key.job) {
            continue;
        }
        if shared.stopped().is_some() {
            return;
        }
        let queued = Instant::now();
        let Ok(model_slot) = per_model.clone().acquire_owned().await else {
            return;
        };
        let Ok(global_slot) = global.clone().acquire_owned().await else {
            return;
        };
        let reserved = match shared.admit(&key) {
            Ok(r) => r,
            Err(_) => return,
        };
        if let Some(at) = shared.ramp_slot() {
            // Wakes in short steps so Ctrl-C during a long ramp is noticed.
            if !crate::runner::openloop::wait_until(&shared, at.into()).await {
                shared.settle(key.model_index, reserved, None);
                return;
            }
        }
        let queue = queued.elapsed();
        let shared = shared.clone();
        let tx = tx.clone();
        let mut abandon = abandon.clone();
        tokio::spawn(async move {
            let _slots = (model_slot, global_slot);
            let msg = tokio::select! {
                rec = run_job(&shared, key, queue) => {
                    shared.settle(key.model_index, reserved, rec.row.cost_usd);
                    Msg::Finished(Box::new(rec))
                }
                _ = abandon.wait_for(|a| *a) => {
                    shared.settle(key.model_index, reserved, None);
                    Msg::Abandoned(key)
                }
            };
            let _ = tx.send(msg).await;
        });
    }
}

/// The reservation for a model's request before any cost was seen: catalog
/// or suite prices × (a prompt estimate + the full `max_tokens`).
fn initial_cost_estimate(ctx: &RunContext, model: &str) -> Option<f64> {
    let prices = model_prices(ctx, model)?;
    let worst = ctx
        .suite
        .cases
        .iter()
        .map(|c| {
            let chars: usize = c.messages.iter().map(|m| m.content.len()).sum();
            let usage = crate::record::Usage {
                input_tokens: (chars / 3 + 8 * c.messages.len()) as u64,
                output_tokens: c.max_tokens.unwrap_or(1024) as u64,
                ..Default::default()
            };
            prices.cost(&usage).unwrap_or(0.0)
        })
        .fold(0.0, f64::max);
    Some(worst)
}

fn model_prices(ctx: &RunContext, model: &str) -> Option<ModelPrices> {
    ctx.catalog
        .as_ref()
        .and_then(|c| c.get(model))
        .and_then(|m| m.pricing.clone())
        .or_else(|| suite_prices(&ctx.suite, model))
}

fn suite_prices(suite: &Suite, model: &str) -> Option<ModelPrices> {
    suite
        .pricing
        .get(model)
        .map(|p| ModelPrices::per_million(p.input, p.output, p.cache_read, p.cache_write))
}

/// The cost of one outcome and where the figure came from (see
/// [`pricing::resolve_cost`]).
fn resolve_cost(
    outcome: &Outcome,
    model: &str,
    catalog: Option<&Catalog>,
    suite: &Suite,
) -> (Option<f64>, CostSource) {
    let listed = catalog
        .and_then(|c| c.get(model))
        .and_then(|m| m.pricing.as_ref());
    pricing::resolve_cost(outcome.gateway_cost, outcome.usage.as_ref(), listed, || {
        suite_prices(suite, model)
    })
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

pub(crate) async fn run_job(shared: &Shared, key: JobKey, queue: Duration) -> ResponseRecord {
    let ctx = &shared.ctx;
    let case = &ctx.suite.cases[key.case_index as usize];
    let model = &ctx.models[key.model_index as usize];
    let request = ChatRequest {
        model: model.clone(),
        messages: case.messages.clone(),
        max_tokens: case.max_tokens,
        temperature: case.temperature,
        gateway_options: ctx.suite.gateway.clone(),
    };
    let outcome = ctx.gateway.chat(&request).await;
    let mut record = build_record(ctx, key, queue, outcome);
    grade(ctx, key, &request, &mut record).await;
    record
}

/// The row and journal record for one outcome (before grading).
fn build_record(
    ctx: &RunContext,
    key: JobKey,
    queue: Duration,
    outcome: Outcome,
) -> ResponseRecord {
    let case = &ctx.suite.cases[key.case_index as usize];
    let model = &ctx.models[key.model_index as usize];
    let (cost_usd, cost_source) = resolve_cost(&outcome, model, ctx.catalog.as_deref(), &ctx.suite);
    let usage = outcome.usage;
    let out_tokens = usage.map(|u| u.output_tokens);
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
        input_tokens: usage.map(|u| u.input_tokens),
        output_tokens: out_tokens,
        reasoning_tokens: usage.map(|u| u.reasoning_tokens),
        cached_tokens: usage.map(|u| u.cached_tokens),
        cache_write_tokens: usage.map(|u| u.cache_write_tokens),
        cost_usd,
        cost_source,
        generation_id: outcome.generation_id,
        provider: outcome.provider,
        finish_reason: outcome.finish_reason,
        passed: None,
        score: None,
        failed_checks: None,
        send_lag_ms: None,
    };
    ResponseRecord {
        row,
        text: outcome.text,
        reasoning: outcome.reasoning,
        checks: Vec::new(),
        itl_us: outcome.itl_us,
        grader_cost_usd: None,
    }
}

/// Run the case's checks on the answer (calling the grader for `judge`
/// checks) and fill `passed`, `score` and `failed_checks`.
async fn grade(ctx: &RunContext, key: JobKey, request: &ChatRequest, record: &mut ResponseRecord) {
    let case = &ctx.suite.cases[key.case_index as usize];
    let checks = &ctx.checks[key.case_index as usize];
    if checks.is_empty() {
        return;
    }
    if record.row.status != Status::Ok {
        let kind = record.row.error_kind.map_or("error", |k| k.as_str());
        record.checks = vec![CheckResult {
            check: "answer".into(),
            passed: false,
            weight: 1.0,
            reason: format!("no answer: request failed ({kind})"),
        }];
        record.row.passed = Some(false);
        record.row.score = Some(0.0);
        record.row.failed_checks = assert::failed_summary(&record.checks);
        return;
    }
    let answer = Answer {
        text: &record.text,
        ttft_ms: record.row.ttft_ms,
        duration_ms: record.row.duration_ms,
        cost_usd: record.row.cost_usd,
        output_tokens: record.row.output_tokens,
        tokens_per_s: record.row.tokens_per_s,
    };
    let mut results = Vec::with_capacity(checks.len());
    let mut grader_cost: Option<f64> = None;
    for check in checks {
        if !check.is_judge() {
            results.push(check.evaluate(&answer));
            continue;
        }
        let grader = check
            .grader()
            .or(ctx.suite.grader.as_deref())
            .unwrap_or_default()
            .to_string();
        let judge = ChatRequest {
            model: grader.clone(),
            messages: assert::judge_messages(
                check.rubric().unwrap_or_default(),
                &request.messages,
                answer.text,
            ),
            max_tokens: Some(400),
            temperature: Some(0.0),
            gateway_options: None,
        };
        let verdict = ctx.gateway.chat(&judge).await;
        let (cost, _) = resolve_cost(&verdict, &grader, ctx.catalog.as_deref(), &ctx.suite);
        if let Some(c) = cost {
            grader_cost = Some(grader_cost.unwrap_or(0.0) + c);
        }
        let parsed = match &verdict.error {
            Some(e) => Err(format!(
                "grader {grader} failed: {} ({})",
                e.message, e.kind
            )),
            None => assert::parse_verdict(&verdict.text),
        };
        results.push(check.judge_result(parsed));
    }
    let (passed, score) = assert::score(&results, case.threshold);
    record.row.passed = Some(passed);
    record.row.score = Some(score);
    record.row.failed_checks = assert::failed_summary(&results);
    record.checks = results;
    record.grader_cost_usd = grader_cost;
}
