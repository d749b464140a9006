//! What the runner tells the rest of the program, as nextest's runner does
//! with its reporters: the runner emits [`RunEvent`]s and each
//! [`RunSubscriber`] (the journal, the progress display, and whatever is
//! added later) takes them in turn. Adding a subscriber never touches the
//! runner: the command builds the list, the collector hands every event to
//! each subscriber in list order.
//!
//! Cost: `Finished` lends the record (no clone, no allocation per event);
//! the job-side events (started, attempt, first token) are only sent over the
//! collector's channel when a subscriber asks for them, so a run nobody
//! watches that closely pays nothing for them. TTFT is still measured in the
//! gateway's stream reader; the first-token event only reports when.

use std::time::{Duration, Instant};

use crate::journal::JournalError;
use crate::metrics::Aggregate;
use crate::record::{ErrorKind, JobKey, ResponseRecord};

use super::StopReason;

/// One thing that happened in a run, in the order the collector saw it.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// A job got its slots and is being sent (`queue`: the wait for them).
    /// Only sent when a subscriber [wants job events](RunSubscriber::wants_job_events).
    Started { key: JobKey, queue: Duration },
    /// Attempt `attempt` of a job failed with `error` and will be retried.
    /// Only sent when a subscriber wants job events; best effort, like
    /// `FirstToken`.
    Attempt {
        key: JobKey,
        attempt: u32,
        error: ErrorKind,
    },
    /// The first content-bearing chunk of a job's attempt arrived at `at`.
    /// Only sent when a subscriber wants job events; best effort (dropped if
    /// the collector is more than a channel's length behind).
    FirstToken { key: JobKey, at: Instant },
    /// A job finished (answered or failed): its row and answer, as journaled.
    Finished(&'a ResponseRecord),
    /// A job still in flight after the grace period was given up.
    Abandoned(JobKey),
    /// The run takes no new jobs from now on. `signal` is true when
    /// Ctrl-C/SIGTERM stopped it (a grace period follows), false for a
    /// budget, `--max-requests` or a failing subscriber. Sent once, and once
    /// more with `signal` set when Ctrl-C follows another stop.
    Stopped { reason: StopReason, signal: bool },
}

/// What every subscriber may read besides the event: the collector's running
/// tally, already updated with the event (like the run statistics nextest's
/// events carry).
pub struct RunView<'a> {
    /// Per-model histograms and counters of every finished job so far.
    pub aggregate: &'a Aggregate,
    /// The subscriber failure that stopped the run, once there is one.
    pub failure: Option<&'a SubscriberError>,
}

/// A subscriber failed; the run stops taking new jobs (its error is the
/// run's, exit 3).
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Something that follows a run through its events. Return an error only
/// when the run must not go on without this subscriber (the journal: without
/// it the run cannot be resumed); a failed subscriber gets no more events
/// unless it [keeps going](RunSubscriber::keeps_going_after_error).
pub trait RunSubscriber: Send {
    /// Whether to send the job-side events (`Started`, `Attempt`,
    /// `FirstToken`); `Finished`, `Abandoned` and `Stopped` always come.
    fn wants_job_events(&self) -> bool {
        false
    }

    /// Take one event.
    fn on_event(&mut self, ev: &RunEvent<'_>, run: &RunView<'_>) -> Result<(), SubscriberError>;

    /// When this subscriber next wants [`RunSubscriber::tick`] called (a
    /// batched flush, say); `None` when it has nothing pending.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        None
    }

    /// Its deadline passed.
    fn tick(&mut self) -> Result<(), SubscriberError> {
        Ok(())
    }

    /// The run is over: no more events.
    fn finish(&mut self) -> Result<(), SubscriberError> {
        Ok(())
    }

    /// Whether, after returning an error (which stops the run), it still
    /// takes the events, ticks and `finish` that follow: the journal does,
    /// to keep the answers of requests in flight and write them once the
    /// disk allows.
    fn keeps_going_after_error(&self) -> bool {
        false
    }

    /// Finished records it holds but could not save (asked at the end;
    /// `--resume` sends their jobs again).
    fn unsaved(&self) -> usize {
        0
    }
}

/// Job-side events, as they travel from a job to the collector.
#[derive(Clone, Copy, Debug)]
pub(crate) enum JobEvent {
    Started {
        key: JobKey,
        queue: Duration,
    },
    Attempt {
        key: JobKey,
        attempt: u32,
        error: ErrorKind,
    },
    FirstToken {
        key: JobKey,
        at: Instant,
    },
}

impl JobEvent {
    pub(crate) fn as_run_event(self) -> RunEvent<'static> {
        match self {
            JobEvent::Started { key, queue } => RunEvent::Started { key, queue },
            JobEvent::Attempt {
                key,
                attempt,
                error,
            } => RunEvent::Attempt {
                key,
                attempt,
                error,
            },
            JobEvent::FirstToken { key, at } => RunEvent::FirstToken { key, at },
        }
    }
}
