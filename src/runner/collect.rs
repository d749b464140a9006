//! The collector: the one task that receives every finished job and job
//! event, folds finished jobs into the aggregate and the done set, and hands
//! each event to the subscribers in order. It also keeps their timers (one
//! `tokio` sleep armed at the earliest subscriber deadline) and turns a
//! failing subscriber into a stopped run. At the end it gives what a
//! subscriber still holds (a journal's answers on a full disk) the grace
//! period to be saved.

use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Aggregate;
use crate::record::ResponseRecord;

use super::events::{RunEvent, RunSubscriber, RunView, SubscriberError};
use super::{DoneSet, Shared, StopReason};

struct Slot {
    sub: Box<dyn RunSubscriber>,
    /// Failed, and gets no more events (unless it
    /// [keeps going](RunSubscriber::keeps_going_after_error)).
    failed: bool,
}

impl Slot {
    /// Take `result`: the first error of any subscriber is the run's, and
    /// stops it.
    fn took(
        &mut self,
        result: Result<(), SubscriberError>,
        error: &mut Option<SubscriberError>,
        shared: &Shared,
    ) {
        if let Err(e) = result {
            self.failed = !self.sub.keeps_going_after_error();
            error.get_or_insert(e);
            shared.stop_with(StopReason::Interrupted);
        }
    }
}

pub(super) struct Collector {
    pub(super) aggregate: Aggregate,
    pub(super) done: DoneSet,
    subs: Vec<Slot>,
    /// The first subscriber error; the run stopped because of it.
    pub(super) error: Option<SubscriberError>,
    stop_announced: bool,
}

impl Collector {
    pub(super) fn new(
        aggregate: Aggregate,
        done: DoneSet,
        subs: Vec<Box<dyn RunSubscriber>>,
    ) -> Collector {
        Collector {
            aggregate,
            done,
            subs: subs
                .into_iter()
                .map(|sub| Slot { sub, failed: false })
                .collect(),
            error: None,
            stop_announced: false,
        }
    }

    /// Whether any subscriber wants the job-side events.
    pub(super) fn wants_job_events(&self) -> bool {
        self.subs.iter().any(|s| s.sub.wants_job_events())
    }

    /// A job finished: fold it, then tell the subscribers.
    pub(super) fn finished(&mut self, rec: &ResponseRecord, shared: &Shared) {
        self.done.insert(rec.row.job);
        self.aggregate.record(rec);
        self.publish(&RunEvent::Finished(rec), shared);
    }

    /// Hand `ev` to every subscriber still working, in order.
    pub(super) fn publish(&mut self, ev: &RunEvent<'_>, shared: &Shared) {
        for slot in self.subs.iter_mut().filter(|s| !s.failed) {
            let view = RunView {
                aggregate: &self.aggregate,
                failure: self.error.as_ref(),
            };
            let result = slot.sub.on_event(ev, &view);
            slot.took(result, &mut self.error, shared);
        }
    }

    /// Announce the stop once, whoever set it (a dispatcher's budget or
    /// `--max-requests`, a failing subscriber).
    pub(super) fn announce_stop(&mut self, shared: &Shared) {
        if self.stop_announced {
            return;
        }
        if let Some(reason) = shared.stopped() {
            self.stop_announced = true;
            let ev = RunEvent::Stopped {
                reason,
                signal: false,
            };
            self.publish(&ev, shared);
        }
    }

    /// Ctrl-C/SIGTERM stopped the run (perhaps after another stop).
    pub(super) fn signalled(&mut self, shared: &Shared) {
        shared.stop_with(StopReason::Interrupted);
        self.stop_announced = true;
        let reason = shared.stopped().unwrap_or(StopReason::Interrupted);
        self.publish(
            &RunEvent::Stopped {
                reason,
                signal: true,
            },
            shared,
        );
    }

    /// The earliest deadline of a working subscriber.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.subs
            .iter()
            .filter(|s| !s.failed)
            .filter_map(|s| s.sub.deadline())
            .min()
    }

    /// Tick every subscriber whose deadline has passed.
    pub(super) fn tick(&mut self, shared: &Shared) {
        let now = Instant::now();
        for slot in self.subs.iter_mut().filter(|s| !s.failed) {
            if slot.sub.deadline().is_some_and(|d| d <= now) {
                let result = slot.sub.tick();
                slot.took(result, &mut self.error, shared);
            }
        }
    }

    /// Every job is done: tick each subscriber with something pending now,
    /// then keep ticking at their deadlines (a journal retrying a full disk)
    /// for up to `within`.
    pub(super) async fn settle(&mut self, within: Duration, shared: &Shared) {
        let give_up = Instant::now() + within;
        for slot in self.subs.iter_mut().filter(|s| !s.failed) {
            if slot.sub.deadline().is_some() {
                let result = slot.sub.tick();
                slot.took(result, &mut self.error, shared);
            }
        }
        while let Some(at) = self.deadline().filter(|at| *at <= give_up) {
            tokio::time::sleep_until(at).await;
            self.tick(shared);
        }
    }

    /// Finished records the subscribers hold but could not save.
    pub(super) fn unsaved(&self) -> usize {
        self.subs.iter().map(|s| s.sub.unsaved()).sum()
    }

    /// No more events: let every subscriber finish.
    pub(super) fn finish(&mut self) {
        for slot in self.subs.iter_mut().filter(|s| !s.failed) {
            if let Err(e) = slot.sub.finish() {
                slot.failed = true;
                self.error.get_or_insert(e);
            }
        }
    }
}
