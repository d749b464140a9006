//! The closed loop: one dispatcher per model walks that model's jobs in plan
//! order, waits for a per-model slot and then a global slot (a fair FIFO
//! semaphore, so models interleave), and spawns the request. Time waiting for
//! slots is queue time, never part of TTFT or duration. A `cache_probe`
//! case's probe rides with its prime: sent by the same task once the prime
//! has finished.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::record::JobKey;

use tokio::sync::{mpsc, watch, Semaphore};

use super::job::run_job;
use super::{DoneSet, Msg, Shared};

pub(super) async fn dispatch(
    shared: Arc<Shared>,
    model_index: u32,
    global: Arc<Semaphore>,
    per_model: Arc<Semaphore>,
    tx: mpsc::Sender<Msg>,
    abandon: watch::Receiver<bool>,
    done: Arc<DoneSet>,
) {
    let plan = shared.ctx.plan;
    let mut jobs = plan
        .jobs_for_model(model_index)
        .filter(|k| !done.contains(k.job))
        .peekable();
    while let Some(key) = jobs.next() {
        // A cache probe goes out right after its prime, in the same task and
        // slots, so the prime has finished (and written the provider's
        // cache) before the probe is sent.
        let probe = jobs.next_if(|next| shared.ctx.is_probe_of(key, next));
        if shared.stopped().is_some() {
            return;
        }
        let queued = Instant::now();
        let unpriced = shared.unpriced_turn(model_index).await;
        if shared.stopped().is_some() {
            return;
        }
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
        // Refused by the budget, the probe stays unsent (a skipped row).
        let probe = probe.and_then(|p| shared.admit(&p).ok().map(|r| (p, r)));
        if let Some(at) = shared.ramp_slot() {
            // Wakes in short steps so Ctrl-C during a long ramp is noticed.
            if !crate::runner::openloop::wait_until(&shared, at.into()).await {
                shared.settle(key.model_index, reserved, None);
                if let Some((p, r)) = probe {
                    shared.settle(p.model_index, r, None);
                }
                return;
            }
        }
        let queue = queued.elapsed();
        let shared = shared.clone();
        let tx = tx.clone();
        let mut abandon = abandon.clone();
        tokio::spawn(async move {
            let _slots = (model_slot, global_slot, unpriced);
            let finished = run_one(&shared, key, reserved, queue, &tx, &mut abandon).await;
            if let Some((probe, reserved)) = probe {
                if finished && shared.stopped().is_none() {
                    let queue = queued.elapsed();
                    run_one(&shared, probe, reserved, queue, &tx, &mut abandon).await;
                } else {
                    shared.settle(probe.model_index, reserved, None);
                }
            }
        });
    }
}

/// Run job `key` unless the run abandons it first, and pass on what
/// happened; true when it finished.
async fn run_one(
    shared: &Shared,
    key: JobKey,
    reserved: f64,
    queue: Duration,
    tx: &mpsc::Sender<Msg>,
    abandon: &mut watch::Receiver<bool>,
) -> bool {
    let msg = tokio::select! {
        rec = run_job(shared, key, queue, tx) => {
            // A replayed answer spent nothing.
            let spent = rec.row.cost_usd.filter(|_| !rec.row.cached);
            shared.settle(key.model_index, reserved, spent);
            Msg::Finished(Box::new(rec))
        }
        _ = abandon.wait_for(|a| *a) => {
            shared.settle(key.model_index, reserved, None);
            Msg::Abandoned(key)
        }
    };
    let finished = matches!(msg, Msg::Finished(_));
    let _ = tx.send(msg).await;
    finished
}
