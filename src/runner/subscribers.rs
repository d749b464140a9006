//! The subscribers every run has: the journal (`responses.jsonl`, flushed in
//! batches) and the progress display. The aggregate is the collector's own
//! tally, lent to them through [`RunView`].

use tokio::time::Instant;

use crate::journal::{JournalWriter, FLUSH_WITHIN};
use crate::progress::Progress;

use super::events::{RunEvent, RunSubscriber, RunView, SubscriberError};

/// Appends each finished record to the journal. Lines are flushed in
/// batches, at most [`FLUSH_WITHIN`] after the first unflushed one: one write
/// for many requests under load.
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
}

impl RunSubscriber for JournalSubscriber {
    fn on_event(&mut self, ev: &RunEvent<'_>, _: &RunView<'_>) -> Result<(), SubscriberError> {
        if let RunEvent::Finished(rec) = ev {
            self.writer.append(rec)?;
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
        Ok(self.writer.flush()?)
    }

    fn finish(&mut self) -> Result<(), SubscriberError> {
        self.tick()
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
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SubscriberError> {
        Progress::finish(self);
        Ok(())
    }
}
