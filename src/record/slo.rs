//! Service-level objectives: the latency and speed a request must reach to
//! count towards goodput, and `slo_met` of a row judged from its measured
//! values (cheap comparisons, done where the row is built).

use serde::{Deserialize, Serialize};

use super::{RequestRow, Status};

/// Service-level objectives a request must meet to count towards goodput:
/// from the suite's `slo:` or `--slo ttft=800ms,duration=10s,tokens_per_s=30`.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Slo {
    /// Highest acceptable time to first token, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    /// Highest acceptable duration, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Lowest acceptable output tokens per second after the first token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
}

impl Slo {
    /// True when at least one objective is set.
    pub fn is_set(&self) -> bool {
        self.ttft_ms.is_some() || self.duration_ms.is_some() || self.tokens_per_s.is_some()
    }

    /// `slo_met` of a row from its measured values: `None` when no objective
    /// is set or the job was never sent; a failed request, or a value the
    /// objective needs but the row lacks, does not meet it.
    pub fn met(&self, row: &RequestRow) -> Option<bool> {
        if !self.is_set() || row.status == Status::Skipped {
            return None;
        }
        if row.status != Status::Ok {
            return Some(false);
        }
        let at_most =
            |limit: Option<f64>, v: Option<f64>| limit.is_none_or(|l| v.is_some_and(|v| v <= l));
        let at_least =
            |limit: Option<f64>, v: Option<f64>| limit.is_none_or(|l| v.is_some_and(|v| v >= l));
        Some(
            at_most(self.ttft_ms, row.ttft_ms)
                && at_most(self.duration_ms, row.duration_ms)
                && at_least(self.tokens_per_s, row.tokens_per_s),
        )
    }

    /// `self` with the objectives `other` sets (the command line over the suite).
    pub fn or(self, other: Slo) -> Slo {
        Slo {
            ttft_ms: other.ttft_ms.or(self.ttft_ms),
            duration_ms: other.duration_ms.or(self.duration_ms),
            tokens_per_s: other.tokens_per_s.or(self.tokens_per_s),
        }
    }
}

#[cfg(test)]
mod tests;
