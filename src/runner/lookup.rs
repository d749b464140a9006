//! Generation lookups in the background: after an answer is journaled its
//! generation id goes into a bounded queue, and a thread of its own, at a
//! lower CPU priority than the requests being timed, asks the gateway for
//! the record (`GET /generation?id=`) and appends what it finds to
//! `generations.jsonl`.
//!
//! A record appears a moment after its answer and the gateway answers 404
//! until then, so each lookup waits [`FIRST_WAIT`] before its first try and
//! retries a 404 (or a 429 or 5xx) with doubling waits until its patience
//! has passed. Waiting lookups are plain entries in a queue ordered by due
//! time (about a hundred bytes each), and at most [`CONCURRENCY`] requests
//! are in flight, so memory stays flat however fast answers arrive. Nothing
//! here is on the timed path: a full queue drops the lookup (counted)
//! rather than wait.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::gateway::generation::{GenerationRecord, LookupFailure};
use crate::gateway::{Gateway, GatewayError};
use crate::generations::{GenerationLine, GenerationWriter, GenerationsError};

/// Lookups queued at most; more are dropped.
pub const QUEUE: usize = 10_000;
/// Lookups waiting for their record at once.
pub const PENDING: usize = 10_000;
/// Lookup requests sent at once.
pub const CONCURRENCY: usize = 8;
/// Wait before the first try: the sim's records appear 1 s after their
/// answer, and a try that comes too early costs a request for nothing.
pub const FIRST_WAIT: Duration = Duration::from_millis(1500);
/// Longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(8);

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

/// The running lookups.
pub struct Lookups {
    tx: mpsc::Sender<(u64, String)>,
    dropped: Arc<AtomicU64>,
    stats: oneshot::Receiver<LookupStats>,
    stop: oneshot::Sender<()>,
}

impl Lookups {
    /// Start looking up into `dir/generations.jsonl`, waiting up to
    /// `patience` for each record to appear.
    pub fn start(
        gateway: Arc<Gateway>,
        dir: &Path,
        patience: Duration,
    ) -> Result<Lookups, GenerationsError> {
        let writer = GenerationWriter::open(dir)?;
        let (tx, rx) = mpsc::channel::<(u64, String)>(QUEUE);
        let (stats_tx, stats) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel();
        let task = Task {
            gateway,
            writer,
            patience,
            stats: LookupStats::default(),
        };
        let spawned = std::thread::Builder::new()
            .name("evalgate-lookups".into())
            .spawn(move || {
                lower_priority();
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                let _ = stats_tx.send(rt.block_on(task.run(rx, stop_rx)));
            });
        if let Err(e) = spawned {
            // No thread, no lookups: every row says so (`not looked up`).
            eprintln!("warning: cannot start the generation lookups: {e}");
        }
        Ok(Lookups {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            stats,
            stop,
        })
    }

    /// A handle that can submit from another task.
    pub fn submitter(&self) -> Submitter {
        Submitter {
            tx: self.tx.clone(),
            dropped: self.dropped.clone(),
        }
    }

    /// Stop taking lookups and wait for those queued, at most `wait`; those
    /// still waiting then are counted as not looked up. Every
    /// [`Submitter`] must be gone by then.
    pub async fn finish(self, wait: Duration) -> LookupStats {
        let Lookups {
            tx,
            dropped,
            mut stats,
            stop,
        } = self;
        drop(tx);
        let mut out = match tokio::time::timeout(wait, &mut stats).await {
            Ok(done) => done.unwrap_or_default(),
            Err(_) => {
                let _ = stop.send(());
                stats.await.unwrap_or_default()
            }
        };
        out.dropped += dropped.load(Ordering::Relaxed);
        out
    }
}

/// One lookup waiting for its next try.
struct Waiting {
    due: Instant,
    job: u64,
    id: String,
    /// The wait after this try, should it find nothing.
    wait: Duration,
    give_up: Instant,
}

// Ordered by due time, earliest first out of the (max-)heap.
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other
            .due
            .cmp(&self.due)
            .then_with(|| other.job.cmp(&self.job))
    }
}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.job) == (other.due, other.job)
    }
}

impl Eq for Waiting {}

/// What one try came to.
enum Tried {
    Found(GenerationRecord),
    /// Not there yet (404), or a 429 or 5xx: try again later.
    Again(LookupFailure),
    Failed(String),
}

struct Task {
    gateway: Arc<Gateway>,
    writer: GenerationWriter,
    patience: Duration,
    stats: LookupStats,
}

impl Task {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<(u64, String)>,
        mut stop: oneshot::Receiver<()>,
    ) -> LookupStats {
        let mut waiting: BinaryHeap<Waiting> = BinaryHeap::new();
        let mut trying = FuturesUnordered::new();
        let mut open = true;
        loop {
            if !open && waiting.is_empty() && trying.is_empty() {
                break;
            }
            let next_due = waiting.peek().map(|w| w.due);
            let can_try = trying.len() < CONCURRENCY;
            tokio::select! {
                next = rx.recv(), if open => match next {
                    // Too many waiting: this one is not looked up (its row
                    // keeps the streamed figures).
                    Some(_) if waiting.len() + trying.len() >= PENDING => self.stats.dropped += 1,
                    Some((job, id)) => {
                        let now = Instant::now();
                        waiting.push(Waiting {
                            due: now + FIRST_WAIT.min(self.patience),
                            job,
                            id,
                            wait: FIRST_WAIT.min(MAX_WAIT),
                            give_up: now + self.patience,
                        });
                    }
                    None => open = false,
                },
                _ = sleep_until(next_due), if can_try && next_due.is_some() => {
                    let now = Instant::now();
                    while trying.len() < CONCURRENCY && waiting.peek().is_some_and(|w| w.due <= now) {
                        let w = waiting.pop().expect("peeked");
                        let gw = self.gateway.clone();
                        trying.push(async move {
                            let tried = try_once(&gw, &w.id).await;
                            (w, tried)
                        });
                    }
                }
                Some((w, tried)) = trying.next(), if !trying.is_empty() => {
                    if let Some(again) = self.settle(w, tried) {
                        waiting.push(again);
                    }
                    if trying.is_empty() {
                        self.flush();
                    }
                }
                _ = &mut stop => {
                    self.stats.dropped += (waiting.len() + trying.len()) as u64;
                    break;
                }
            }
        }
        self.flush();
        self.stats
    }

    /// Write what a try found, or put the lookup back to wait.
    fn settle(&mut self, mut w: Waiting, tried: Tried) -> Option<Waiting> {
        let (record, error) = match tried {
            Tried::Found(rec) => {
                self.stats.found += 1;
                (Some(rec), None)
            }
            Tried::Again(why) => {
                let now = Instant::now();
                if now + w.wait <= w.give_up {
                    w.due = now + w.wait;
                    w.wait = (w.wait * 2).min(MAX_WAIT);
                    return Some(w);
                }
                match why {
                    LookupFailure::NotFound => self.stats.not_found += 1,
                    _ => self.stats.failed += 1,
                }
                (None, Some(why))
            }
            Tried::Failed(message) => {
                self.stats.failed += 1;
                (None, Some(LookupFailure::Failed(message)))
            }
        };
        self.write(w.job, w.id, record, error);
        None
    }

    fn write(
        &mut self,
        job: u64,
        generation_id: String,
        record: Option<GenerationRecord>,
        error: Option<LookupFailure>,
    ) {
        let line = GenerationLine {
            job,
            generation_id,
            record,
            error,
        };
        if let Err(e) = self.writer.append(&line) {
            eprintln!("warning: {e}; generation records are incomplete");
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.writer.flush() {
            eprintln!("warning: {e}; generation records are incomplete");
        }
    }
}

/// One `GET /generation?id=`.
async fn try_once(gateway: &Gateway, id: &str) -> Tried {
    match gateway.generation(id).await {
        Ok(Some(rec)) => Tried::Found(rec),
        Ok(None) => Tried::Again(LookupFailure::NotFound),
        Err(GatewayError::Status {
            status, message, ..
        }) if status == 429 || status >= 500 => {
            Tried::Again(LookupFailure::Failed(format!("HTTP {status}: {message}")))
        }
        Err(e) => Tried::Failed(e.to_string()),
    }
}

/// Sleep until `at` (never, without one).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Lookups share the CPU with the requests being timed: on Linux their
/// thread runs at nice 10, so a stream's next chunk is never queued behind
/// a lookup (best effort: a failure leaves the priority as it was).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take plain integers and touch no
    // memory of ours; on Linux PRIO_PROCESS with a thread id sets that
    // thread's nice value alone.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, 10);
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
