//! Open-loop load (`run --rate R`): requests leave on a fixed schedule,
//! whatever the gateway does, instead of one after another per slot.
//!
//! Send `k` is due at `t0 + offset(k)` (absolute, so timer jitter never
//! accumulates): `k / R` for `--arrivals constant`, or the running sum of
//! exponential gaps drawn from a generator seeded by `--seed` for `poisson`.
//! Latency counts from the *intended* send time, so a gateway that slows
//! down cannot hide it by slowing the sender (no coordinated omission): each
//! row records `send_lag_ms` (actual − intended) and its `ttft_ms` /
//! `duration_ms` include that lag.
//!
//! Nothing is dropped when `--concurrency` requests are already in flight:
//! the due send waits for a slot, its lag shows in its row, and it is counted
//! as `late` in `openloop.json` and the printed line. `--duration` cycles
//! through the plan's jobs (continuing the job numbers, so repeats keep
//! counting up) and bounds the run: no send starts after it, and the sends
//! the schedule had due by then that never started are counted as
//! `not_sent` (an unattainable rate is reported, not chased forever).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Semaphore, TryAcquireError};
use tokio::time::Instant;

use super::{DoneSet, Msg, Shared};
use crate::record::JobKey;

/// How send times are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Exactly `1/R` apart.
    Constant,
    /// Exponential gaps with mean `1/R` (a Poisson process), seeded by `--seed`.
    Poisson,
}

/// The open-loop settings of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenLoop {
    /// Target requests per second, over all models.
    pub rate: f64,
    pub arrivals: Arrivals,
    pub seed: u64,
    /// Keep sending (cycling through the plan) until this much time has passed.
    pub duration: Option<Duration>,
}

impl OpenLoop {
    /// About how many requests the run will send (for the progress display).
    pub fn expected_requests(&self, plan_len: u64) -> u64 {
        match self.duration {
            Some(d) => (d.as_secs_f64() * self.rate).ceil() as u64,
            None => plan_len,
        }
    }
}

/// Offsets of successive sends from the start of the schedule.
pub struct Schedule {
    rate: f64,
    arrivals: Arrivals,
    rng: SmallRng,
    sent: u64,
    poisson_at: f64,
}

impl Schedule {
    pub fn new(cfg: &OpenLoop) -> Self {
        Schedule {
            rate: cfg.rate,
            arrivals: cfg.arrivals,
            rng: SmallRng::seed_from_u64(cfg.seed ^ 0x09E3_1007),
            sent: 0,
            poisson_at: 0.0,
        }
    }

    /// The offset of the next send.
    pub fn next_offset(&mut self) -> Duration {
        let k = self.sent;
        self.sent += 1;
        let secs = match self.arrivals {
            // Computed from k, not summed, so rounding never accumulates.
            Arrivals::Constant => k as f64 / self.rate,
            Arrivals::Poisson => {
                let at = self.poisson_at;
                // 1 - U lies in (0, 1], so the logarithm is finite.
                let u: f64 = 1.0 - self.rng.gen::<f64>();
                self.poisson_at += -u.ln() / self.rate;
                at
            }
        };
        // Saturates instead of panicking on an offset beyond `Duration`.
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    }
}

/// What the open-loop sender did: written to `openloop.json` and printed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopReport {
    pub target_rate: f64,
    pub arrivals: Option<Arrivals>,
    pub duration_s: Option<f64>,
    /// Requests sent.
    pub sent: u64,
    /// Sends that were due while `--concurrency` requests were in flight: they
    /// waited for a slot (never dropped) and their lag is in their rows.
    pub late: u64,
    /// With `--duration`: sends due by its end that never started (the
    /// target rate was more than the gateway and `--concurrency` allowed).
    #[serde(default)]
    pub not_sent: u64,
    /// (sent − 1) / (last actual send − first actual send).
    pub achieved_rate: Option<f64>,
    /// First to last actual send, seconds.
    pub send_span_s: f64,
    /// Send lag (actual − intended) percentiles, milliseconds.
    pub send_lag_p50_ms: Option<f64>,
    pub send_lag_p99_ms: Option<f64>,
    pub send_lag_max_ms: Option<f64>,
}

impl OpenLoopReport {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let unattainable = if self.not_sent > 0 {
            format!(
                "; {} due by the end of --duration were not sent: the target rate was not attainable (raise --concurrency or lower --rate)",
                self.not_sent
            )
        } else {
            String::new()
        };
        format!(
            "open loop: target {} req/s ({}), achieved {} req/s; {} sent, {} late (waited for a --concurrency slot); send lag p50 {} ms, p99 {} ms, max {} ms{unattainable}",
            rate_text(self.target_rate),
            match self.arrivals {
                Some(Arrivals::Poisson) => "poisson",
                _ => "constant",
            },
            fmt(self.achieved_rate),
            self.sent,
            self.late,
            fmt(self.send_lag_p50_ms),
            fmt(self.send_lag_p99_ms),
            fmt(self.send_lag_max_ms),
        )
    }
}

/// A rate for the terminal: two decimals, or scientific when huge.
fn rate_text(rate: f64) -> String {
    if rate >= 1e9 {
        format!("{rate:.3e}")
    } else {
        format!("{rate:.2}")
    }
}

/// Shared between the sender and the request tasks.
struct Tally {
    lag_us: Histogram<u64>,
    first: Option<Instant>,
    last: Option<Instant>,
    sent: u64,
}

/// The jobs to send, in plan order; with a duration, the plan repeats with
/// job numbers continuing past its end.
fn jobs(shared: &Shared, cycle: bool) -> impl Iterator<Item = JobKey> + '_ {
    let plan = shared.ctx.plan;
    let total = plan.total();
    (0u64..)
        .take_while(move |j| cycle || *j < total)
        .filter(move |j| plan.in_shard(*j))
        .map(move |j| plan.key(j))
}

/// The open-loop sender: replaces the per-model dispatchers in rate mode.
pub(crate) async fn dispatch(
    shared: Arc<Shared>,
    cfg: OpenLoop,
    global: Arc<Semaphore>,
    tx: mpsc::Sender<Msg>,
    abandon: watch::Receiver<bool>,
    done: Arc<DoneSet>,
) -> OpenLoopReport {
    let per_model: Vec<Arc<Semaphore>> = (0..shared.ctx.models.len())
        .map(|_| {
            Arc::new(Semaphore::new(
                shared
                    .ctx
                    .per_model_concurrency
                    .unwrap_or(shared.ctx.concurrency),
            ))
        })
        .collect();
    let tally = Arc::new(Mutex::new(Tally {
        // Fixed bounds (1 µs to an hour): `saturating_record` clamps to the
        // histogram's current range and never grows it, so an auto-resizing
        // histogram (`Histogram::new`) clamped every lag to a few µs.
        lag_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
        first: None,
        last: None,
        sent: 0,
    }));
    let mut schedule = Schedule::new(&cfg);
    let mut late = 0u64;
    // A short head start so the first send is not late by our own setup.
    let t0 = Instant::now() + Duration::from_millis(5);
    // `--duration` bounds the run, whatever the rate: no send starts after it.
    let end = cfg.duration.and_then(|d| t0.checked_add(d));
    let mut out_of_time = false;
    for key in jobs(&shared, cfg.duration.is_some()) {
        if done.contains(key.job) {
            continue;
        }
        let offset = schedule.next_offset();
        if cfg.duration.is_some_and(|d| offset >= d) {
            break;
        }
        // An offset past the end of time is never due.
        let Some(intended) = t0.checked_add(offset) else {
            break;
        };
        if !wait_until(&shared, intended).await {
            break;
        }
        let slots = async {
            let unpriced = shared.unpriced_turn(key.model_index).await;
            let model_slot = acquire(&per_model[key.model_index as usize], &mut late).await?;
            let global_slot = acquire(&global, &mut late).await?;
            Some((unpriced, model_slot, global_slot))
        };
        let slots = match end {
            Some(end) => match tokio::time::timeout_at(end, slots).await {
                Ok(s) => s,
                Err(_) => {
                    out_of_time = true;
                    break;
                }
            },
            None => slots.await,
        };
        let Some((unpriced, model_slot, global_slot)) = slots else {
            break;
        };
        if end.is_some_and(|end| Instant::now() >= end) {
            out_of_time = true;
            break;
        }
        let Ok(reserved) = shared.admit(&key) else {
            break;
        };
        let shared = shared.clone();
        let tx = tx.clone();
        let tally = tally.clone();
        let mut abandon = abandon.clone();
        tokio::spawn(async move {
            let _slots = (model_slot, global_slot, unpriced);
            // Actual send: the request is built and handed to the client now.
            let sent_at = Instant::now();
            let lag = sent_at.saturating_duration_since(intended);
            {
                let mut t = tally.lock().expect("open-loop tally lock");
                t.sent += 1;
                t.first = Some(t.first.map_or(sent_at, |f| f.min(sent_at)));
                t.last = Some(t.last.map_or(sent_at, |l| l.max(sent_at)));
                t.lag_us.saturating_record(lag.as_micros() as u64);
            }
            let msg = tokio::select! {
                mut rec = super::job::run_job(&shared, key, lag, &tx) => {
                    // A replayed answer spent nothing.
                    let spent = rec.row.cost_usd.filter(|_| !rec.row.cached);
                    shared.settle(key.model_index, reserved, spent);
                    from_intended(&mut rec.row, lag, &shared.ctx.slo);
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
    drop(tx);
    // Every request task holds a global slot: wait for them all to finish.
    let _all = global
        .acquire_many(shared.ctx.concurrency as u32)
        .await
        .ok();
    let t = tally.lock().expect("open-loop tally lock");
    let span = match (t.first, t.last) {
        (Some(f), Some(l)) => l - f,
        _ => Duration::ZERO,
    };
    let pct = |q: f64| (!t.lag_us.is_empty()).then(|| t.lag_us.value_at_quantile(q) as f64 / 1e3);
    // Sends the schedule had due within --duration, less those that started.
    let not_sent = match cfg.duration {
        Some(d) if out_of_time => due_within(&mut schedule, d).saturating_sub(t.sent),
        _ => 0,
    };
    OpenLoopReport {
        target_rate: cfg.rate,
        arrivals: Some(cfg.arrivals),
        duration_s: cfg.duration.map(|d| d.as_secs_f64()),
        sent: t.sent,
        late,
        not_sent,
        achieved_rate: (t.sent > 1 && !span.is_zero())
            .then(|| (t.sent - 1) as f64 / span.as_secs_f64()),
        send_span_s: span.as_secs_f64(),
        send_lag_p50_ms: pct(0.5),
        send_lag_p99_ms: pct(0.99),
        send_lag_max_ms: pct(1.0),
    }
}

/// How many sends the schedule has due before `d` in all, given that the
/// last offset drawn was due and not sent: counted by drawing the rest of
/// the schedule up to [`COUNT_DUE_UP_TO`] sends, beyond it `⌈d·R⌉` (exact
/// for constant arrivals, the mean for Poisson).
fn due_within(schedule: &mut Schedule, d: Duration) -> u64 {
    let mut due = schedule.sent;
    while due < COUNT_DUE_UP_TO {
        if schedule.next_offset() >= d {
            return due;
        }
        due += 1;
    }
    (d.as_secs_f64() * schedule.rate).ceil() as u64
}

/// Beyond this many sends due, [`due_within`] estimates instead of counting.
const COUNT_DUE_UP_TO: u64 = 10_000_000;

/// Sleep until `at` in short steps so a stop is noticed; false when stopped.
pub(crate) async fn wait_until(shared: &Shared, at: Instant) -> bool {
    loop {
        if shared.stopped().is_some() {
            return false;
        }
        let now = Instant::now();
        if now >= at {
            return true;
        }
        tokio::time::sleep_until(at.min(now + Duration::from_millis(100))).await;
    }
}

/// A slot now, or (counting the send as late) once one frees up.
async fn acquire(
    sem: &Arc<Semaphore>,
    late: &mut u64,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    match sem.clone().try_acquire_owned() {
        Ok(p) => Some(p),
        Err(TryAcquireError::Closed) => None,
        Err(TryAcquireError::NoPermits) => {
            *late += 1;
            sem.clone().acquire_owned().await.ok()
        }
    }
}

/// Rate mode: times count from the intended send time, and so does the SLO.
fn from_intended(row: &mut crate::record::RequestRow, lag: Duration, slo: &crate::record::Slo) {
    let lag_ms = (lag.as_secs_f64() * 1e6).round() / 1e3;
    let add = |v: Option<f64>| v.map(|v| ((v + lag_ms) * 1e3).round() / 1e3);
    row.ttft_ms = add(row.ttft_ms);
    row.duration_ms = add(row.duration_ms);
    row.send_lag_ms = Some(lag_ms);
    row.slo_met = slo.met(row);
}

#[cfg(test)]
mod tests;
