//! The subscribers every run has: the journal (`responses.jsonl`, flushed in
//! batches, kept in memory and retried on a full disk) and the progress
//! display. The aggregate is the collector's own
//! tally, lent to them through [`RunView`].

use std::time::Duration;

use tokio::time::Instant;

use crate::journal::{JournalError, JournalWriter, FLUSH_WITHIN};
use crate::progress::Progress;

use super::events::{RunEvent, RunSubscriber, RunView, SubscriberError};
use super::StopReason;

/// How often a failed journal write is tried again.
pub(super) const JOURNAL_RETRY: Duration = Duration::from_millis(500);

/// Appends each finished record to the journal. Lines are flushed in
/// batches, at most [`FLUSH_WITHIN`] after the first unflushed one: one write
/// for many requests under load.
///
/// A full disk loses no answer: a failed write stops the run (its error is
/// the run's), but the lines stay in memory, the answers of requests still
/// in flight join them, and the write is tried again every
/// [`JOURNAL_RETRY`] (and through the grace period at the end).
pub struct JournalSubscriber {
    writer: JournalWriter,
    flush_by: Option<Instant>,
}

impl JournalSubscriber {
    pub fn new(writer: JournalWriter) -> Self {
        JournalSubscriber {
            writer,
            flush_by: None,
        }
    }

    /// A write failed: try again in [`JOURNAL_RETRY`].
    fn retry(&mut self, e: JournalError) -> SubscriberError {
        self.flush_by = Some(Instant::now() + JOURNAL_RETRY);
        e.into()
    }
}

impl RunSubscriber for JournalSubscriber {
    fn on_event(&mut self, ev: &RunEvent<'_>, _: &RunView<'_>) -> Result<(), SubscriberError> {
        if let RunEvent::Finished(rec) = ev {
            // On failure the record is kept for the next try.
            if let Err(e) = self.writer.append(rec) {
                return Err(self.retry(e));
            }
            self.flush_by
                .get_or_insert_with(|| Instant::now() + FLUSH_WITHIN);
        }
        Ok(())
    }

    fn deadline(&self) -> Option<Instant> {
        self.flush_by
    }

    fn tick(&mut self) -> Result<(), SubscriberError> {
        self.flush_by = None;
        self.writer.flush().map_err(|e| self.retry(e))
    }

    fn finish(&mut self) -> Result<(), SubscriberError> {
        self.tick()
    }

    fn keeps_going_after_error(&self) -> bool {
        true
    }

    fn unsaved(&self) -> usize {
        self.writer.pending_records()
    }
}

/// The live display: a finished job moves it on; Ctrl-C prints what happens
/// next.
impl RunSubscriber for Progress {
    fn on_event(&mut self, ev: &RunEvent<'_>, run: &RunView<'_>) -> Result<(), SubscriberError> {
        match ev {
            RunEvent::Finished(rec) => self.record(rec, run.aggregate),
            RunEvent::Stopped { signal: true, .. } => self.note(
                "interrupted: no new requests; waiting for those in flight (Ctrl-C again to stop now)",
            ),
            RunEvent::Stopped {
                signal: false,
                reason: StopReason::Interrupted,
            } => {
                if let Some(SubscriberError::Journal(e)) = run.failure {
                    self.note(&format!(
                        "{e}: no new requests; the answers of those in flight are kept in memory and written as soon as the disk allows"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SubscriberError> {
        Progress::finish(self);
        Ok(())
    }
}
