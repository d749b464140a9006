//! From check results to a case verdict: weighted score against the case's
//! threshold, and the one-line summary of what failed.

use crate::record::CheckResult;

/// `(passed, score)`: the score is the weighted share of passed checks
/// (0..=1) and the case passes when it reaches `threshold`. With all weights
/// zero the score is 1 when every check passed, else 0. Callers handle cases
/// without checks (their `passed` stays empty).
pub fn score(results: &[CheckResult], threshold: f64) -> (bool, f64) {
    let total: f64 = results.iter().map(|r| r.weight).sum();
    let got: f64 = results.iter().filter(|r| r.passed).map(|r| r.weight).sum();
    let share = if total > 0.0 {
        (got / total).clamp(0.0, 1.0)
    } else if results.iter().all(|r| r.passed) {
        1.0
    } else {
        0.0
    };
    // A small tolerance so that 0.1 + 0.2 of 0.3 still reaches a 1.0 threshold.
    (share + 1e-9 >= threshold, share)
}

/// `check: reason | check: reason` for the failed checks, or `None` when
/// every check passed. Newlines in reasons become spaces so the summary fits
/// one CSV cell.
pub fn failed_summary(results: &[CheckResult]) -> Option<String> {
    let parts: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            let reason = r.reason.split_whitespace().collect::<Vec<_>>().join(" ");
            if reason.is_empty() {
                r.check.clone()
            } else {
                format!("{}: {reason}", r.check)
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" | "))
}
