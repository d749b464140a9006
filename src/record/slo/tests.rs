//! Unit tests of `record::slo`.

use super::*;
use crate::record::{ErrorKind, JobKey};

fn row(status: Status, ttft: f64, duration: f64, tps: Option<f64>) -> RequestRow {
    let key = JobKey {
        job: 0,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    let mut r = RequestRow::skipped(key, "s", "c", "m", ErrorKind::Cancelled);
    r.status = status;
    r.ttft_ms = Some(ttft);
    r.duration_ms = Some(duration);
    r.tokens_per_s = tps;
    r
}

#[test]
fn met_needs_every_objective_and_an_answer() {
    let slo = Slo {
        ttft_ms: Some(800.0),
        duration_ms: Some(10_000.0),
        tokens_per_s: Some(30.0),
    };
    assert_eq!(
        slo.met(&row(Status::Ok, 800.0, 9000.0, Some(30.0))),
        Some(true)
    );
    assert_eq!(
        slo.met(&row(Status::Ok, 801.0, 9000.0, Some(30.0))),
        Some(false)
    );
    assert_eq!(
        slo.met(&row(Status::Ok, 100.0, 10_001.0, Some(90.0))),
        Some(false)
    );
    assert_eq!(
        slo.met(&row(Status::Ok, 100.0, 900.0, Some(29.0))),
        Some(false)
    );
    // A rate the objective needs but the row lacks does not meet it.
    assert_eq!(slo.met(&row(Status::Ok, 100.0, 900.0, None)), Some(false));
    assert_eq!(
        slo.met(&row(Status::Error, 1.0, 1.0, Some(99.0))),
        Some(false)
    );
    assert_eq!(slo.met(&row(Status::Skipped, 1.0, 1.0, Some(99.0))), None);
    assert_eq!(Slo::default().met(&row(Status::Ok, 1.0, 1.0, None)), None);
    let cli = Slo {
        ttft_ms: Some(500.0),
        ..Slo::default()
    };
    assert_eq!(slo.or(cli).ttft_ms, Some(500.0));
    assert_eq!(slo.or(cli).duration_ms, Some(10_000.0));
}
