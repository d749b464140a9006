//! The runner: turns a plan into requests under the concurrency limits and
//! budgets, and turns each outcome into a journaled row.
//!
//! Shape: one dispatcher task per model walks that model's jobs in plan
//! order, waits for a per-model slot and then a global slot (a fair FIFO
//! semaphore, so models interleave), and spawns the request. Finished
//! requests come back over a channel to one collector, which folds them into
//! the aggregate and hands them, as [`RunEvent`]s, to the subscribers (the
//! journal, the progress display, ...). Time waiting for slots is queue
//! time, never part of TTFT or duration.
//!
//! Stopping: a budget or `--max-requests` stops new starts; Ctrl-C / SIGTERM
//! stops new starts and gives in-flight requests a grace period before they
//! are abandoned. Jobs that never ran are not journaled, so `--resume` runs
//! them; the run directory lists them as skipped rows.

mod budget;
mod closed_loop;
mod collect;
pub mod events;
mod grade;
mod job;
pub mod lookup;
pub use job::{request_for, send_id};
pub mod openloop;
mod signals;
mod subscribers;

pub use budget::BudgetReport;
use budget::{initial_cost_estimate, Budget};
use closed_loop::dispatch;
use collect::Collector;
use events::JobEvent;
pub use events::{RunEvent, RunSubscriber, RunView, SubscriberError};
use signals::Interrupts;
pub use subscribers::JournalSubscriber;
use subscribers::JOURNAL_RETRY;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Semaphore};

use crate::assert::Check;
use crate::gateway::catalog::Catalog;
use crate::gateway::Gateway;
use crate::metrics::Aggregate;
use crate::plan::Plan;
use crate::record::{ErrorKind, JobKey, ResponseRecord};
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
    /// Objectives each row's `slo_met` is judged by (none set: empty).
    pub slo: crate::record::Slo,
    /// `--cache record|replay|refresh`: answers stored or replayed.
    pub cache: Option<Arc<crate::cache::ResponseCache>>,
}

impl RunContext {
    /// Whether `next` is the cache probe of `prime` (same model and repeat,
    /// the case right after it, marked as its probe).
    pub(crate) fn is_probe_of(&self, prime: JobKey, next: &JobKey) -> bool {
        let probe = Some(crate::record::CacheProbe::Probe);
        next.model_index == prime.model_index
            && next.repeat == prime.repeat
            && next.case_index == prime.case_index + 1
            && self.suite.cases[next.case_index as usize].probe == probe
    }
}

/// What the runner leaves behind besides the journal.
pub struct RunOutcome {
    pub aggregate: Aggregate,
    pub done: DoneSet,
    pub stopped_by: Option<StopReason>,
    /// Jobs abandoned in flight after the grace period.
    pub abandoned: Vec<JobKey>,
    /// The first subscriber failure (the journal's) that stopped the run.
    pub subscriber_error: Option<SubscriberError>,
    /// Answers that never reached the journal (the disk stayed full):
    /// `--resume` sends them again.
    pub unsaved: usize,
    /// Rate mode only: what the open-loop sender did.
    pub open_loop: Option<crate::runner::openloop::OpenLoopReport>,
    /// Under `--max-cost`: what was spent against it.
    pub budget: Option<BudgetReport>,
    /// When the last request ended (the run's `ended_at`): generation
    /// lookups and writing the outputs come after it.
    pub ended_at: chrono::DateTime<chrono::Utc>,
}

/// What jobs send the collector.
pub(crate) enum Msg {
    Finished(Box<ResponseRecord>),
    Abandoned(JobKey),
    Job(JobEvent),
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
    /// Some subscriber wants the job-side events: jobs send them.
    pub(crate) job_events: bool,
    /// Per model, one permit: under a budget, a model whose cost is not
    /// known yet (no price, no answer with a cost) sends one request at a
    /// time, so an unknown price can overspend by one request at most.
    unpriced: Vec<Arc<Semaphore>>,
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
    /// Under a budget, while model `m`'s cost is unknown: the one permit its
    /// requests take in turn. `None` when it may send freely.
    pub(crate) async fn unpriced_turn(&self, m: u32) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.ctx.max_cost?;
        let known = {
            let b = self.budget.lock().expect("budget lock");
            b.max_seen[m as usize].is_some() || self.initial_estimate[m as usize].is_some()
        };
        if known {
            return None;
        }
        self.unpriced[m as usize].clone().acquire_owned().await.ok()
    }

    fn budget_report(&self) -> Option<BudgetReport> {
        let max_cost = self.ctx.max_cost?;
        let b = self.budget.lock().expect("budget lock");
        Some(BudgetReport {
            max_cost,
            spent: b.spent,
            worst_case_alone: b
                .worst_case_alone
                .map(|(m, c)| (self.ctx.models[m].clone(), c)),
        })
    }

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
        // `--max-cost 0` sends nothing, even where the cost is unknown.
        if b.spent + b.reserved + estimate > max_cost || max_cost <= 0.0 {
            if b.spent == 0.0 && b.reserved == 0.0 && estimate > max_cost {
                b.worst_case_alone.get_or_insert((m, estimate));
            }
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

/// Run every job of the plan not already in `done`, folding each finished
/// one into `aggregate` and handing the run's events to `subscribers` in
/// order (see [`events`]).
pub async fn execute(
    ctx: RunContext,
    aggregate: Aggregate,
    done: DoneSet,
    subscribers: Vec<Box<dyn RunSubscriber>>,
) -> RunOutcome {
    let mut collector = Collector::new(aggregate, done, subscribers);
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
        job_events: collector.wants_job_events(),
        unpriced: (0..models).map(|_| Arc::new(Semaphore::new(1))).collect(),
    });
    // Listen before the first request starts, and keep listening: a signal
    // that arrives between two waits is never lost.
    let mut signals = Interrupts::new();
    let global = Arc::new(Semaphore::new(shared.ctx.concurrency));
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let (abandon_tx, abandon_rx) = watch::channel(false);
    let done_snapshot = Arc::new(collector.done.clone());

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
    let mut listening = true;
    let mut grace_deadline: Option<tokio::time::Instant> = None;
    // One timer for the subscribers' deadlines (the journal's batched
    // flush), re-armed only when the earliest deadline changes.
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    let mut armed: Option<tokio::time::Instant> = None;
    loop {
        let grace = async {
            match grace_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Finished(rec)) => collector.finished(&rec, &shared),
                Some(Msg::Job(ev)) => collector.publish(&ev.as_run_event(), &shared),
                Some(Msg::Abandoned(key)) => {
                    abandoned.push(key);
                    collector.publish(&RunEvent::Abandoned(key), &shared);
                }
                None => break,
            },
            _ = signals.recv(), if listening => {
                if grace_deadline.is_none() {
                    collector.signalled(&shared);
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
            () = &mut timer, if armed.is_some() => {
                armed = None;
                collector.tick(&shared);
            }
        }
        collector.announce_stop(&shared);
        let next = collector.deadline();
        if next != armed {
            armed = next;
            if let Some(at) = next {
                timer.as_mut().reset(at);
            }
        }
    }
    collector.announce_stop(&shared);
    // Every request is done: what a subscriber still holds (answers kept in
    // memory on a full disk) gets the grace period to be saved.
    collector
        .settle(shared.ctx.grace.max(JOURNAL_RETRY), &shared)
        .await;
    collector.finish();
    let unsaved = collector.unsaved();
    let open_loop = match open_loop {
        Some(handle) => handle.await.ok(),
        None => None,
    };
    RunOutcome {
        aggregate: collector.aggregate,
        done: collector.done,
        stopped_by: shared.stopped(),
        abandoned,
        subscriber_error: collector.error,
        unsaved,
        open_loop,
        budget: shared.budget_report(),
        ended_at: chrono::Utc::now(),
    }
}
