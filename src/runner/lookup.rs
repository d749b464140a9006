//! Generation lookups in the background: after an answer is journaled its
//! generation id goes into a bounded queue; a separate task keeps up to
//! [`PENDING`] lookups waiting for their record (each retried while the
//! gateway still answers 404, sending at most [`CONCURRENCY`] requests at
//! once) and appends what it finds to `generations.jsonl`. Nothing here is
//! on the timed path: a full queue drops the lookup (counted) rather than wait.
//!
//! Many OpenAI-compatible gateways keep no generation records at all, and
//! their 404 looks like a record not there yet. So the lookups of a run give
//! up together ([`NoRecords`]): once one lookup has waited its whole
//! patience with nothing but 404s while no lookup of the run has found a
//! record, or as soon as a 404 is not a gateway error (no such route), the
//! pending lookups end at once and later ones are not sent. One record found
//! anywhere turns this off.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::gateway::generation::{Generation, GenerationRecord, LookupFailure};
use crate::gateway::{Gateway, GatewayError};
use crate::generations::{GenerationLine, GenerationWriter, GenerationsError};

/// Lookups queued at most; more are dropped.
pub const QUEUE: usize = 10_000;
/// Lookups waiting for their record at once.
pub const PENDING: usize = 10_000;
/// Lookup requests sent at once.
pub const CONCURRENCY: usize = 8;
/// Wait before the first try (a record appears a moment after its answer),
/// then after each 404, doubling up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(250);
const MAX_WAIT: Duration = Duration::from_secs(4);

/// Why a run took its gateway to keep no generation records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRecords {
    /// A lookup saw only 404s for its whole patience and no lookup of the
    /// run had found a record.
    Waited(Duration),
    /// `GET /generation` answered a 404 that is no gateway error: the
    /// gateway has no such route.
    NoRoute,
}

/// What the lookups did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupStats {
    pub found: u64,
    /// Still 404 after the patience, or ended by a [`NoRecords`] verdict.
    pub not_found: u64,
    pub failed: u64,
    /// Not looked up: the queue was full, or the run ended first.
    pub dropped: u64,
    /// Not sent: the gateway had been found to keep no records.
    pub unsent: u64,
    /// Set when the run gave up on the gateway's records.
    pub no_records: Option<NoRecords>,
    /// Each lookup's patience (`--lookup-wait`).
    pub patience: Duration,
}

impl LookupStats {
    /// `generation records: 40 found, 2 not found within 30 s` for the
    /// run's last lines; with a hint when the gateway keeps no records.
    pub fn line(&self) -> String {
        let not_found = match self.no_records {
            Some(_) => "not found".to_string(),
            None => format!("not found within {} s", self.patience.as_secs_f64()),
        };
        let mut parts = vec![format!("{} found", self.found)];
        for (n, what) in [
            (self.not_found, not_found.as_str()),
            (self.failed, "failed"),
            (self.dropped, "not looked up"),
            (self.unsent, "not sent"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let mut line = format!("generation records: {}", parts.join(", "));
        if let Some(why) = self.no_records {
            let seen = match why {
                NoRecords::Waited(p) => {
                    format!("GET /generation answered 404 for {} s", p.as_secs_f64())
                }
                NoRecords::NoRoute => "it has no GET /generation".to_string(),
            };
            line.push_str(&format!(
                "; this gateway keeps no generation records ({seen}); --no-lookup skips them"
            ));
        }
        line
    }
}

/// What the lookups of one run have learned of the gateway, shared by them.
struct Verdict {
    /// A record was found: the gateway keeps them, never give up.
    found: AtomicBool,
    /// Set once, when the gateway is taken to keep no records.
    none: watch::Sender<Option<NoRecords>>,
}

impl Verdict {
    fn new() -> Verdict {
        Verdict {
            found: AtomicBool::new(false),
            none: watch::Sender::new(None),
        }
    }

    fn found_one(&self) {
        self.found.store(true, Ordering::Relaxed);
    }

    fn any_found(&self) -> bool {
        self.found.load(Ordering::Relaxed)
    }

    /// Take the gateway to keep no records, unless a record was found.
    fn give_up(&self, why: NoRecords) {
        if !self.any_found() {
            self.none.send_if_modified(|v| match v {
                Some(_) => false,
                None => {
                    *v = Some(why);
                    true
                }
            });
        }
    }

    fn given_up(&self) -> Option<NoRecords> {
        *self.none.borrow()
    }

    /// `f`, unless the run gives up on the records first (then `None`).
    async fn unless_given_up<T>(&self, f: impl Future<Output = T>) -> Option<T> {
        let mut rx = self.none.subscribe();
        tokio::select! {
            biased;
            _ = rx.wait_for(Option::is_some) => None,
            v = f => Some(v),
        }
    }
}

/// The record of `id`, waiting for it to appear: a 404 (and a 429 or 5xx)
/// is retried with doubling waits until `patience` has passed, or until the
/// run gives up on the gateway's records. Each try holds a permit of
/// `slots` (waits hold none), so a few requests at a time serve any number
/// of pending lookups.
async fn look_up(
    gateway: &Gateway,
    id: &str,
    patience: Duration,
    slots: &Semaphore,
    verdict: &Verdict,
) -> Result<GenerationRecord, LookupFailure> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut wait = FIRST_WAIT;
    let mut only_404 = true;
    let gave_up = || Err(LookupFailure::GaveUp);
    if verdict
        .unless_given_up(tokio::time::sleep(wait))
        .await
        .is_none()
    {
        return gave_up();
    }
    loop {
        let try_once = async {
            let _slot = slots.acquire().await;
            gateway.generation(id).await
        };
        let Some(answer) = verdict.unless_given_up(try_once).await else {
            return gave_up();
        };
        let last = match answer {
            Ok(Generation::Found(r)) => {
                verdict.found_one();
                return Ok(r);
            }
            Ok(Generation::NoRoute) if !verdict.any_found() => {
                verdict.give_up(NoRecords::NoRoute);
                return Err(LookupFailure::NoRoute);
            }
            Ok(Generation::NotYet | Generation::NoRoute) => LookupFailure::NotFound,
            Err(GatewayError::Status {
                status, message, ..
            }) if status == 429 || status >= 500 => {
                only_404 = false;
                LookupFailure::Failed(format!("HTTP {status}: {message}"))
            }
            Err(e) => return Err(LookupFailure::Failed(e.to_string())),
        };
        if tokio::time::Instant::now() + wait > deadline {
            if only_404 {
                verdict.give_up(NoRecords::Waited(patience));
            }
            return Err(last);
        }
        if verdict
            .unless_given_up(tokio::time::sleep(wait))
            .await
            .is_none()
        {
            return gave_up();
        }
        wait = (wait * 2).min(MAX_WAIT);
    }
}

/// The running lookup task.
pub struct Lookups {
    tx: mpsc::Sender<(u64, String)>,
    dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<LookupStats>,
    patience: Duration,
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
            let mut stats = LookupStats {
                patience,
                ..LookupStats::default()
            };
            let mut inflight = FuturesUnordered::new();
            let slots = Arc::new(Semaphore::new(CONCURRENCY));
            let verdict = Arc::new(Verdict::new());
            let mut open = true;
            loop {
                tokio::select! {
                    next = rx.recv(), if open && inflight.len() < PENDING => match next {
                        Some(_) if verdict.given_up().is_some() => stats.unsent += 1,
                        Some((job, id)) => {
                            let (gw, slots, verdict) =
                                (gateway.clone(), slots.clone(), verdict.clone());
                            inflight.push(async move {
                                let r = look_up(&gw, &id, patience, &slots, &verdict).await;
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
                                    LookupFailure::Failed(_) => stats.failed += 1,
                                    _ => stats.not_found += 1,
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
            stats.no_records = verdict.given_up();
            stats
        });
        Ok(Lookups {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            task,
            patience,
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
        let Lookups {
            tx,
            dropped,
            task,
            patience,
        } = self;
        drop(tx);
        let mut task = task;
        let mut stats = match tokio::time::timeout(wait, &mut task).await {
            Ok(Ok(stats)) => stats,
            _ => {
                task.abort();
                LookupStats {
                    patience,
                    ..LookupStats::default()
                }
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

#[cfg(test)]
mod tests;
