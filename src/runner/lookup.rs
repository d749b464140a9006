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
//!
//! Many OpenAI-compatible gateways keep no generation records at all, and
//! their 404 looks like a record not there yet. So the lookups of a run give
//! up together ([`NoRecords`]): once one lookup has waited its whole
//! patience with nothing but 404s while no lookup of the run has found a
//! record, or as soon as a 404 is not a gateway error (no such route), the
//! waiting lookups end at once and later ones are not sent. One record found
//! anywhere turns this off.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::gateway::generation::{Generation, GenerationRecord, LookupFailure};
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

/// What the lookups of one run have learned of the gateway.
#[derive(Debug, Default)]
struct Verdict {
    /// A record was found: the gateway keeps them, never give up.
    found: bool,
    /// Set once, when the gateway is taken to keep no records.
    none: Option<NoRecords>,
}

impl Verdict {
    fn found_one(&mut self) {
        self.found = true;
    }

    /// Take the gateway to keep no records, unless a record was found; the
    /// first reason stands. True when this call gave up.
    fn give_up(&mut self, why: NoRecords) -> bool {
        let first = !self.found && self.none.is_none();
        if first {
            self.none = Some(why);
        }
        first
    }

    fn given_up(&self) -> Option<NoRecords> {
        self.none
    }
}

/// The running lookups.
pub struct Lookups {
    tx: mpsc::Sender<(u64, String)>,
    dropped: Arc<AtomicU64>,
    stats: oneshot::Receiver<LookupStats>,
    stop: oneshot::Sender<()>,
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
        let writer = GenerationWriter::open(dir)?;
        let (tx, rx) = mpsc::channel::<(u64, String)>(QUEUE);
        let (stats_tx, stats) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel();
        let task = Task {
            gateway,
            writer,
            patience,
            stats: LookupStats {
                patience,
                ..LookupStats::default()
            },
            verdict: Verdict::default(),
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

    /// Stop taking lookups and wait for those queued, at most `wait`; those
    /// still waiting then are counted as not looked up. Every
    /// [`Submitter`] must be gone by then.
    pub async fn finish(self, wait: Duration) -> LookupStats {
        let Lookups {
            tx,
            dropped,
            mut stats,
            stop,
            patience,
        } = self;
        drop(tx);
        let mut out = match tokio::time::timeout(wait, &mut stats).await {
            Ok(done) => done.ok(),
            Err(_) => {
                let _ = stop.send(());
                stats.await.ok()
            }
        }
        .unwrap_or(LookupStats {
            patience,
            ..LookupStats::default()
        });
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
    /// Every answer so far was a 404 (no 429 or 5xx).
    only_404: bool,
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
    /// Not there yet (a 404 that is a gateway error).
    NotYet,
    /// A 404 that is no gateway error: no such route.
    NoRoute,
    /// A 429 or 5xx: try again later.
    Busy(String),
    Failed(String),
    /// Ended unanswered: the run gave up on the records meanwhile.
    GaveUp,
}

struct Task {
    gateway: Arc<Gateway>,
    writer: GenerationWriter,
    patience: Duration,
    stats: LookupStats,
    verdict: Verdict,
}

impl Task {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<(u64, String)>,
        mut stop: oneshot::Receiver<()>,
    ) -> LookupStats {
        let mut waiting: BinaryHeap<Waiting> = BinaryHeap::new();
        let mut trying = FuturesUnordered::new();
        // Flips when the run gives up on the records: tries in flight end.
        let (gave_up, gave_up_rx) = watch::channel(false);
        let mut open = true;
        loop {
            if !open && waiting.is_empty() && trying.is_empty() {
                break;
            }
            let next_due = waiting.peek().map(|w| w.due);
            let can_try = trying.len() < CONCURRENCY;
            tokio::select! {
                next = rx.recv(), if open => match next {
                    // The gateway keeps no records: nothing to ask.
                    Some(_) if self.verdict.given_up().is_some() => self.stats.unsent += 1,
                    // Too many waiting: this one is not looked up (its row
                    // keeps the streamed figures).
                    Some(_) if waiting.len() + trying.len() >= PENDING => self.stats.dropped += 1,
                    Some((job, id)) => {
                        let now = Instant::now();
                        waiting.push(Waiting {
                            // A short patience still gets two tries.
                            due: now + FIRST_WAIT.min(self.patience / 2),
                            job,
                            id,
                            wait: FIRST_WAIT.min(MAX_WAIT),
                            give_up: now + self.patience,
                            only_404: true,
                        });
                    }
                    None => open = false,
                },
                _ = sleep_until(next_due), if can_try && next_due.is_some() => {
                    let now = Instant::now();
                    while trying.len() < CONCURRENCY && waiting.peek().is_some_and(|w| w.due <= now) {
                        let w = waiting.pop().expect("peeked");
                        let gw = self.gateway.clone();
                        let mut gave_up = gave_up_rx.clone();
                        trying.push(async move {
                            let tried = tokio::select! {
                                t = try_once(&gw, &w.id) => t,
                                _ = gave_up.wait_for(|g| *g) => Tried::GaveUp,
                            };
                            (w, tried)
                        });
                    }
                }
                Some((w, tried)) = trying.next(), if !trying.is_empty() => {
                    if let Some(again) = self.settle(w, tried) {
                        waiting.push(again);
                    }
                    if self.verdict.given_up().is_some() {
                        gave_up.send_replace(true);
                        // The others would only wait for nothing.
                        for w in std::mem::take(&mut waiting).into_vec() {
                            self.stats.not_found += 1;
                            self.write(w.job, w.id, None, Some(LookupFailure::GaveUp));
                        }
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
        self.stats.no_records = self.verdict.given_up();
        self.stats
    }

    /// Write what a try found, or put the lookup back to wait.
    fn settle(&mut self, mut w: Waiting, tried: Tried) -> Option<Waiting> {
        let again = match tried {
            Tried::Found(rec) => {
                self.verdict.found_one();
                self.stats.found += 1;
                self.write(w.job, w.id, Some(rec), None);
                return None;
            }
            Tried::NoRoute if !self.verdict.found => {
                self.verdict.give_up(NoRecords::NoRoute);
                self.stats.not_found += 1;
                self.write(w.job, w.id, None, Some(LookupFailure::NoRoute));
                return None;
            }
            Tried::GaveUp => {
                self.stats.not_found += 1;
                self.write(w.job, w.id, None, Some(LookupFailure::GaveUp));
                return None;
            }
            Tried::NotYet | Tried::NoRoute => LookupFailure::NotFound,
            Tried::Busy(message) => {
                w.only_404 = false;
                LookupFailure::Failed(message)
            }
            Tried::Failed(message) => {
                self.stats.failed += 1;
                self.write(w.job, w.id, None, Some(LookupFailure::Failed(message)));
                return None;
            }
        };
        let now = Instant::now();
        if self.verdict.given_up().is_none() && now < w.give_up {
            // The last try falls on the end of the patience.
            w.due = (now + w.wait).min(w.give_up);
            w.wait = (w.wait * 2).min(MAX_WAIT);
            return Some(w);
        }
        if w.only_404 {
            self.verdict.give_up(NoRecords::Waited(self.patience));
        }
        match again {
            LookupFailure::NotFound => self.stats.not_found += 1,
            _ => self.stats.failed += 1,
        }
        self.write(w.job, w.id, None, Some(again));
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
        Ok(Generation::Found(rec)) => Tried::Found(rec),
        Ok(Generation::NotYet) => Tried::NotYet,
        Ok(Generation::NoRoute) => Tried::NoRoute,
        Err(GatewayError::Status {
            status, message, ..
        }) if status == 429 || status >= 500 => Tried::Busy(format!("HTTP {status}: {message}")),
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

#[cfg(test)]
mod tests;
