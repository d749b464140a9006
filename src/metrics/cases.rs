//! Per-case outcomes over repeats: pass@k (any repeat passed), pass^k (all
//! passed) and flaky cases (outcomes differ across repeats), per model.
//!
//! Filled in one pass over a finished run's rows; memory grows with models ×
//! cases (two counters each), never with repeats or requests.

use std::collections::HashMap;

use super::ModelSummary;
use crate::record::RequestRow;

/// Checked repeats and passes of every (model, case).
#[derive(Debug, Default)]
pub struct CaseOutcomes {
    /// model → case id → (checked repeats, passed repeats).
    counts: HashMap<String, HashMap<String, (u32, u32)>>,
}

/// One model's per-case figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseFigures {
    /// Cases with at least one checked repeat.
    pub cases: u64,
    /// Cases where some repeat passed.
    pub any_passed: u64,
    /// Cases where every checked repeat passed.
    pub all_passed: u64,
    /// Cases with both passing and failing repeats.
    pub flaky: u64,
}

impl CaseOutcomes {
    /// Fold one row in (rows without a check outcome are ignored).
    pub fn record(&mut self, row: &RequestRow) {
        let Some(passed) = row.passed else { return };
        // Look up before inserting: no key is allocated for a known case.
        if !self.counts.contains_key(&row.model) {
            self.counts.insert(row.model.clone(), HashMap::new());
        }
        let Some(cases) = self.counts.get_mut(&row.model) else {
            return;
        };
        if !cases.contains_key(&row.case_id) {
            cases.insert(row.case_id.clone(), (0, 0));
        }
        let Some(c) = cases.get_mut(&row.case_id) else {
            return;
        };
        c.0 += 1;
        c.1 += u32::from(passed);
    }

    /// The figures of `model`.
    pub fn figures(&self, model: &str) -> CaseFigures {
        let mut f = CaseFigures::default();
        for &(checked, passed) in self.counts.get(model).into_iter().flat_map(|c| c.values()) {
            f.cases += 1;
            f.any_passed += u64::from(passed > 0);
            f.all_passed += u64::from(passed == checked);
            f.flaky += u64::from(passed > 0 && passed < checked);
        }
        f
    }

    /// Set `flaky_cases`, `pass_at_k` and `pass_all_k` of each summary.
    pub fn apply(&self, models: &mut [ModelSummary]) {
        for m in models {
            let f = self.figures(&m.model);
            let share = |k: u64| (f.cases > 0).then(|| k as f64 / f.cases as f64);
            m.flaky_cases = f.flaky;
            m.pass_at_k = share(f.any_passed);
            m.pass_all_k = share(f.all_passed);
        }
    }
}

#[cfg(test)]
mod tests {
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
}
