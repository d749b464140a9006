//! Generation lookups in the background: after an answer is journaled its
//! generation id goes into a bounded queue; a separate task keeps up to
//! [`PENDING`] lookups waiting for their record (each retried while the
//! gateway still answers 404, sending at most [`CONCURRENCY`] requests at
//! once) and appends what it finds to `generations.jsonl`. Nothing here is
//! on the timed path: a full queue drops the lookup (counted) rather than wait.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;

use crate::gateway::generation::LookupFailure;
use crate::gateway::Gateway;
use crate::generations::{GenerationLine, GenerationWriter, GenerationsError};

/// Lookups queued at most; more are dropped.
pub const QUEUE: usize = 10_000;
/// Lookups waiting for their record at once.
pub const PENDING: usize = 10_000;
/// Lookup requests sent at once.
pub const CONCURRENCY: usize = 8;

/// What the lookups did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupStats {
    pub found: u64,
    pub not_found: u64,
    pub failed: u64,
    /// Not looked up: the queue was full, or the run ended first.
    pub dropped: u64,
}

impl LookupStats {
    /// `generation records: 40 found, 2 not found` for the run's last lines.
    pub fn line(&self) -> String {
        let mut parts = vec![format!("{} found", self.found)];
        for (n, what) in [
            (self.not_found, "not found within 30 s"),
            (self.failed, "failed"),
            (self.dropped, "not looked up"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        format!("generation records: {}", parts.join(", "))
    }
}

/// The running lookup task.
pub struct Lookups {
    tx: mpsc::Sender<(u64, String)>,
    dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<LookupStats>,
}

impl Lookups {
    /// Start looking up into `dir/generations.jsonl`, waiting up to
    /// `patience` for each record to appear.
    pub fn start(
        gateway: Arc<Gateway>,
        dir: &Path,
        patience: Duration,
    ) -> Result<Lookups, GenerationsError> {
        let mut writer = GenerationWriter::open(dir)?;
        let (tx, mut rx) = mpsc::channel::<(u64, String)>(QUEUE);
        let task = tokio::spawn(async move {
            let mut stats = LookupStats::default();
            let mut inflight = FuturesUnordered::new();
            let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            let mut open = true;
            loop {
                tokio::select! {
                    next = rx.recv(), if open && inflight.len() < PENDING => match next {
                        Some((job, id)) => {
                            let (gw, slots) = (gateway.clone(), slots.clone());
                            inflight.push(async move {
                                let r = gw.lookup_generation(&id, patience, &slots).await;
                                (job, id, r)
                            });
                        }
                        None => open = false,
                    },
                    Some((job, id, r)) = inflight.next(), if !inflight.is_empty() => {
                        let (record, error) = match r {
                            Ok(rec) => { stats.found += 1; (Some(rec), None) }
                            Err(e) => {
                                match e {
                                    LookupFailure::NotFound => stats.not_found += 1,
                                    LookupFailure::Failed(_) => stats.failed += 1,
                                }
                                (None, Some(e))
                            }
                        };
                        let line = GenerationLine { job, generation_id: id, record, error };
                        if let Err(e) = writer.append(&line) {
                            eprintln!("warning: {e}; generation records are incomplete");
                        }
                    }
                    else => break,
                }
            }
            stats
        });
        Ok(Lookups {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            task,
        })
    }

    /// A handle that can submit from another task.
    pub fn submitter(&self) -> Submitter {
        Submitter {
            tx: self.tx.clone(),
            dropped: self.dropped.clone(),
        }
    }

    /// Stop taking lookups and wait for those queued, at most `wait` (then
    /// they are abandoned). Every [`Submitter`] must be gone by then.
    pub async fn finish(self, wait: Duration) -> LookupStats {
        let Lookups { tx, dropped, task } = self;
        drop(tx);
        let mut task = task;
        let mut stats = match tokio::time::timeout(wait, &mut task).await {
            Ok(Ok(stats)) => stats,
            _ => {
                task.abort();
                LookupStats::default()
            }
        };
        stats.dropped += dropped.load(Ordering::Relaxed);
        stats
    }
}

/// Submits the lookups of finished answers to a [`Lookups`] task: one more
/// subscriber of the run's events.
#[derive(Clone)]
pub struct Submitter {
    tx: mpsc::Sender<(u64, String)>,
    dropped: Arc<AtomicU64>,
}

impl Submitter {
    /// Queue the lookup of `job`'s generation; never waits.
    pub fn submit(&self, job: u64, id: &str) {
        if self.tx.try_send((job, id.to_string())).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl super::RunSubscriber for Submitter {
    fn on_event(
        &mut self,
        ev: &super::RunEvent<'_>,
        _: &super::RunView<'_>,
    ) -> Result<(), super::SubscriberError> {
        if let super::RunEvent::Finished(rec) = ev {
            let row = &rec.row;
            // A failed request's record would not describe an answer, and a
            // replayed one was looked up when it was recorded.
            if let (crate::record::Status::Ok, false, Some(id)) =
                (row.status, row.cached, &row.generation_id)
            {
                self.submit(row.job, id);
            }
        }
        Ok(())
    }
}
