//! The closed loop: one dispatcher per model walks that model's jobs in plan
//! order, waits for a per-model slot and then a global slot (a fair FIFO
//! semaphore, so models interleave), and spawns the request. Time waiting for
//! slots is queue time, never part of TTFT or duration.

use std::sync::Arc;
use std::time::Instant;

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
    for key in plan.jobs_for_model(model_index) {
        if done.contains(key.job) {
            continue;
        }
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
            let _slots = (model_slot, global_slot, unpriced);
            let msg = tokio::select! {
                rec = run_job(&shared, key, queue, &tx) => {
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
            let _ = tx.send(msg).await;
        });
    }
}
