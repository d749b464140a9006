//! Unit tests of `metrics::cases`.

use super::*;
use crate::record::{ErrorKind, JobKey};

fn row(model: &str, case: &str, repeat: u32, passed: Option<bool>) -> RequestRow {
    let key = JobKey {
        job: 0,
        case_index: 0,
        model_index: 0,
        repeat,
    };
    let mut r = RequestRow::skipped(key, "s", case, model, ErrorKind::Cancelled);
    r.passed = passed;
    r
}

#[test]
fn pass_at_k_pass_all_k_and_flaky_cases() {
    let mut c = CaseOutcomes::default();
    // a: pass, pass, pass; b: pass, fail, pass (flaky); c: fail x3; d: unchecked.
    for (case, outcomes) in [
        ("a", [true, true, true]),
        ("b", [true, false, true]),
        ("c", [false, false, false]),
    ] {
        for (i, p) in outcomes.into_iter().enumerate() {
            c.record(&row("m/x", case, i as u32, Some(p)));
        }
    }
    c.record(&row("m/x", "d", 0, None));
    c.record(&row("m/y", "a", 0, Some(false)));
    assert_eq!(
        c.figures("m/x"),
        CaseFigures {
            cases: 3,
            any_passed: 2,
            all_passed: 1,
            flaky: 1
        }
    );
    let mut models = crate::metrics::Aggregate::new(&["m/x".into(), "m/y".into()]).summaries();
    c.apply(&mut models);
    assert_eq!(models[0].flaky_cases, 1);
    assert_eq!(models[0].pass_at_k, Some(2.0 / 3.0));
    assert_eq!(models[0].pass_all_k, Some(1.0 / 3.0));
    assert_eq!(models[1].pass_at_k, Some(0.0));
}
