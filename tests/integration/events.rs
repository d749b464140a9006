//! The runner's events, seen by a subscriber of the test's own: each job's
//! start, first token and finish arrive in that order, a retry is an attempt
//! event, a stop is announced once, the aggregate lent with each event
//! already counts it, and a failing subscriber stops the run; with a
//! response cache, a replayed answer starts and finishes with no first
//! token. The run goes through `runner::execute` against the sim over
//! loopback HTTP.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evalgate::cache::{CacheMode, ResponseCache};
use evalgate::gateway::{Gateway, GatewayConfig, RetryPolicy};
use evalgate::journal::JournalError;
use evalgate::metrics::Aggregate;
use evalgate::plan::Plan;
use evalgate::record::{ErrorKind, Status};
use evalgate::runner::{
    self, DoneSet, RunContext, RunEvent, RunOutcome, RunSubscriber, RunView, StopReason,
    SubscriberError,
};
use evalgate::sim::SimConfig;

use crate::common::sim;

/// One event as the test keeps it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Started(u64),
    Attempt(u64, u32, ErrorKind),
    FirstToken(u64),
    /// Job, status, and the finished count of the lent aggregate.
    Finished(u64, Status, u64),
    Abandoned(u64),
    Stopped(StopReason, bool),
    Tick,
    Finish,
}

/// Records every event; fails on the `fail_at`-th `Finished` if set.
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    job_events: bool,
    fail_at: Option<usize>,
    finished: usize,
    pending: Option<tokio::time::Instant>,
}

impl Recorder {
    fn new(job_events: bool) -> (Recorder, Arc<Mutex<Vec<Seen>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rec = Recorder {
            seen: seen.clone(),
            job_events,
            fail_at: None,
            finished: 0,
            pending: None,
        };
        (rec, seen)
    }
    fn push(&self, s: Seen) {
        self.seen.lock().unwrap().push(s);
    }
}

impl RunSubscriber for Recorder {
    fn wants_job_events(&self) -> bool {
        self.job_events
    }
    fn on_event(&mut self, ev: &RunEvent<'_>, run: &RunView<'_>) -> Result<(), SubscriberError> {
        let seen = match ev {
            RunEvent::Started { key, .. } => Seen::Started(key.job),
            RunEvent::Attempt {
                key,
                attempt,
                error,
            } => Seen::Attempt(key.job, *attempt, *error),
            RunEvent::FirstToken { key, .. } => Seen::FirstToken(key.job),
            RunEvent::Finished(rec) => {
                let counted = run
                    .aggregate
                    .models
                    .values()
                    .map(|m| {
                        let (ok, err) = m.ok_errors();
                        ok + err
                    })
                    .sum();
                self.finished += 1;
                self.pending = Some(tokio::time::Instant::now() + Duration::from_millis(5));
                Seen::Finished(rec.row.job, rec.row.status, counted)
            }
            RunEvent::Abandoned(key) => Seen::Abandoned(key.job),
            RunEvent::Stopped { reason, signal } => Seen::Stopped(*reason, *signal),
        };
        self.push(seen);
        if self.fail_at == Some(self.finished) {
            let source = std::io::Error::other("no space left on device");
            return Err(JournalError::Write {
                path: "test.jsonl".into(),
                source,
            }
            .into());
        }
        Ok(())
    }
    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.pending
    }
    fn tick(&mut self) -> Result<(), SubscriberError> {
        self.pending = None;
        self.push(Seen::Tick);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SubscriberError> {
        self.push(Seen::Finish);
        Ok(())
    }
}

/// Run `cases` one-line cases over `models` against a fresh sim.
async fn run(
    models: &[&str],
    cases: u32,
    max_requests: Option<u64>,
    subscribers: Vec<Box<dyn RunSubscriber>>,
) -> RunOutcome {
    run_cached(models, cases, max_requests, None, subscribers).await
}

/// [`run`] with a response cache.
async fn run_cached(
    models: &[&str],
    cases: u32,
    max_requests: Option<u64>,
    cache: Option<Arc<ResponseCache>>,
    subscribers: Vec<Box<dyn RunSubscriber>>,
) -> RunOutcome {
    let server = sim(SimConfig::default()).await;
    let case_yaml: String = (0..cases)
        .map(|i| format!("  - id: c{i}\n    prompt: Say hello number {i}.\n"))
        .collect();
    let yaml = format!("name: events\ncases:\n{case_yaml}");
    let suite = evalgate::suite::parse(&yaml, Path::new("events.yaml")).expect("suite parses");
    let mut gw = GatewayConfig::new(server.base_url(), None);
    gw.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let models: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let plan = Plan {
        cases,
        models: models.len() as u32,
        repeats: 1,
        shard: None,
    };
    let ctx = RunContext {
        checks: vec![Vec::new(); cases as usize],
        suite: Arc::new(suite),
        plan,
        concurrency: 2,
        per_model_concurrency: None,
        max_cost: None,
        max_requests,
        grace: Duration::from_secs(5),
        catalog: None,
        gateway: Arc::new(Gateway::new(gw).expect("gateway")),
        open_loop: None,
        ramp_up: None,
        models: models.clone(),
        slo: Default::default(),
        cache,
    };
    let aggregate = Aggregate::new(&models);
    runner::execute(ctx, aggregate, DoneSet::new(plan.total()), subscribers).await
}

fn seen(log: &Arc<Mutex<Vec<Seen>>>) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

fn position(log: &[Seen], want: impl Fn(&Seen) -> bool) -> usize {
    log.iter().position(want).expect("event present")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_job_starts_gets_its_first_token_and_finishes_in_order() {
    let (rec, log) = Recorder::new(true);
    let out = run(&["sim/fast", "sim/slow"], 3, None, vec![Box::new(rec)]).await;
    let log = seen(&log);
    assert!(out.subscriber_error.is_none());
    for job in 0..6 {
        let started = position(&log, |s| *s == Seen::Started(job));
        let first = position(&log, |s| *s == Seen::FirstToken(job));
        let finished = position(
            &log,
            |s| matches!(s, Seen::Finished(j, Status::Ok, _) if *j == job),
        );
        assert!(started < first && first < finished, "job {job}: {log:?}");
    }
    // The aggregate lent with the n-th finish has counted n jobs.
    let counts: Vec<u64> = log
        .iter()
        .filter_map(|s| match s {
            Seen::Finished(_, _, n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(counts, (1..=6).collect::<Vec<u64>>());
    assert_eq!(
        log.last(),
        Some(&Seen::Finish),
        "finish comes last: {log:?}"
    );
    assert!(
        log.contains(&Seen::Tick),
        "the deadline was honoured: {log:?}"
    );
    assert!(
        !log.iter().any(|s| matches!(s, Seen::Stopped(..))),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_taker_no_job_events_are_sent() {
    let (rec, log) = Recorder::new(false);
    run(&["sim/fast"], 2, None, vec![Box::new(rec)]).await;
    let log = seen(&log);
    let finished = log
        .iter()
        .filter(|s| matches!(s, Seen::Finished(..)))
        .count();
    assert_eq!(finished, 2, "{log:?}");
    assert!(
        !log.iter().any(|s| matches!(
            s,
            Seen::Started(_) | Seen::FirstToken(_) | Seen::Attempt(..)
        )),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_an_attempt_event_before_the_finish() {
    let (rec, log) = Recorder::new(true);
    let model = "sim/fast+429+flaky-1+retry-after-0";
    run(&[model], 1, None, vec![Box::new(rec)]).await;
    let log = seen(&log);
    let attempt = position(&log, |s| *s == Seen::Attempt(0, 1, ErrorKind::RateLimited));
    let first = position(&log, |s| *s == Seen::FirstToken(0));
    let finished = position(&log, |s| matches!(s, Seen::Finished(0, Status::Ok, _)));
    assert!(attempt < first && first < finished, "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_is_announced_once_to_every_subscriber() {
    let (a, log_a) = Recorder::new(false);
    let (b, log_b) = Recorder::new(false);
    let out = run(&["sim/fast"], 4, Some(1), vec![Box::new(a), Box::new(b)]).await;
    assert_eq!(out.stopped_by, Some(StopReason::MaxRequests));
    for log in [seen(&log_a), seen(&log_b)] {
        let stops: Vec<&Seen> = log
            .iter()
            .filter(|s| matches!(s, Seen::Stopped(..)))
            .collect();
        assert_eq!(
            stops,
            [&Seen::Stopped(StopReason::MaxRequests, false)],
            "{log:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_subscriber_stops_the_run_and_hears_no_more() {
    let (mut failing, log) = Recorder::new(false);
    failing.fail_at = Some(1);
    let (other, other_log) = Recorder::new(false);
    let out = run(
        &["sim/slow"],
        8,
        None,
        vec![Box::new(failing), Box::new(other)],
    )
    .await;
    assert!(
        matches!(out.subscriber_error, Some(SubscriberError::Journal(_))),
        "{:?}",
        out.subscriber_error
    );
    assert_eq!(out.stopped_by, Some(StopReason::Interrupted));
    let log = seen(&log);
    assert_eq!(log.len(), 1, "nothing after its failure: {log:?}");
    let other_log = seen(&other_log);
    assert!(
        other_log.contains(&Seen::Stopped(StopReason::Interrupted, false)),
        "{other_log:?}"
    );
    let finished = other_log
        .iter()
        .filter(|s| matches!(s, Seen::Finished(..)))
        .count();
    assert!(finished < 8, "no new jobs after the stop: {other_log:?}");
    assert_eq!(other_log.last(), Some(&Seen::Finish));
}

/// With a response cache, a request that goes to the gateway starts, gets
/// its first token and finishes; a replayed answer starts and finishes with
/// no first token (nothing streamed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_cache_only_requests_sent_get_a_first_token() {
    let store = tempfile::tempdir().unwrap();
    // The host is fixed: each run has a fresh sim on another port.
    let cache = |mode| {
        Some(Arc::new(
            ResponseCache::open(store.path(), mode, "sim").unwrap(),
        ))
    };
    let (rec, log) = Recorder::new(true);
    run_cached(
        &["sim/fast"],
        2,
        None,
        cache(CacheMode::Record),
        vec![Box::new(rec)],
    )
    .await;
    let log = seen(&log);
    for job in 0..2 {
        let started = position(&log, |s| *s == Seen::Started(job));
        let first = position(&log, |s| *s == Seen::FirstToken(job));
        let finished = position(
            &log,
            |s| matches!(s, Seen::Finished(j, Status::Ok, _) if *j == job),
        );
        assert!(
            started < first && first < finished,
            "recorded job {job}: {log:?}"
        );
    }

    // Cases c0 and c1 are stored, c2 is not.
    let (rec, log) = Recorder::new(true);
    run_cached(
        &["sim/fast"],
        3,
        None,
        cache(CacheMode::Replay),
        vec![Box::new(rec)],
    )
    .await;
    let log = seen(&log);
    for job in 0..2 {
        let started = position(&log, |s| *s == Seen::Started(job));
        let finished = position(
            &log,
            |s| matches!(s, Seen::Finished(j, Status::Ok, _) if *j == job),
        );
        assert!(started < finished, "replayed job {job}: {log:?}");
        assert!(
            !log.contains(&Seen::FirstToken(job)),
            "replayed job {job}: {log:?}"
        );
    }
    let started = position(&log, |s| *s == Seen::Started(2));
    let first = position(&log, |s| *s == Seen::FirstToken(2));
    let finished = position(&log, |s| matches!(s, Seen::Finished(2, Status::Ok, _)));
    assert!(
        started < first && first < finished,
        "the miss was sent: {log:?}"
    );
}
