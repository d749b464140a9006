//! Sim configuration and fault rules.
//!
//! A fault rule is written the same way on the command line
//! (`evalgate sim --fault 500@0.2`) and as a model-id suffix
//! (`sim/fast+500@0.2`), so both parse through [`FaultRule::from_str`].

use std::fmt;
use std::str::FromStr;

/// How the simulated gateway behaves as a whole.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed for answer text, jitter and fault decisions.
    pub seed: u64,
    /// If set, chat and credits need `Authorization: Bearer <key>`, else 401.
    pub required_key: Option<String>,
    /// Multiplies every profile's time to first token.
    pub ttft_scale: f64,
    /// Multiplies every profile's inter-token latency.
    pub itl_scale: f64,
    /// Multiplies every reported cost.
    pub cost_scale: f64,
    /// Faults applied to every model (from `evalgate sim --fault` flags).
    pub faults: Vec<FaultRule>,
    /// How long after a generation ends its record appears at `/generation`.
    pub generation_delay: std::time::Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            required_key: None,
            ttft_scale: 1.0,
            itl_scale: 1.0,
            cost_scale: 1.0,
            faults: Vec::new(),
            generation_delay: std::time::Duration::from_secs(1),
        }
    }
}

/// One injectable misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and a JSON error body (400, 401, 404, 429, 500, 502, 503).
    Http(u16),
    /// Sleep this many extra milliseconds before the first token.
    StallTtft(u64),
    /// Sleep this many extra milliseconds after half the tokens.
    StallMid(u64),
    /// Abort the connection after half the tokens (no `[DONE]`).
    CutMid,
    /// HTTP 200, some chunks, then an `error` data event and the end.
    ErrorEvent,
    /// A truncated JSON event mid-stream, then the stream continues.
    Malformed,
    /// No usage at all.
    NoUsage,
    /// `Retry-After` seconds for 429/503 answers (a modifier, not a fault).
    RetryAfter(u64),
    /// The first n requests to this model id get the listed faults, later ones succeed.
    Flaky(u64),
}

/// The HTTP statuses a fault may answer with.
pub const HTTP_FAULTS: [u16; 7] = [400, 401, 404, 429, 500, 502, 503];

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Http(code) => write!(f, "{code}"),
            Fault::StallTtft(ms) => write!(f, "stall-ttft-{ms}"),
            Fault::StallMid(ms) => write!(f, "stall-mid-{ms}"),
            Fault::CutMid => f.write_str("cut-mid"),
            Fault::ErrorEvent => f.write_str("error-event"),
            Fault::Malformed => f.write_str("malformed"),
            Fault::NoUsage => f.write_str("no-usage"),
            Fault::RetryAfter(s) => write!(f, "retry-after-{s}"),
            Fault::Flaky(n) => write!(f, "flaky-{n}"),
        }
    }
}

/// A fault and the probability that it applies to a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRule {
    /// What goes wrong.
    pub fault: Fault,
    /// Probability in `[0, 1]`; 1.0 when no `@rate` was given.
    pub rate: f64,
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rate >= 1.0 {
            write!(f, "{}", self.fault)
        } else {
            write!(f, "{}@{}", self.fault, self.rate)
        }
    }
}

/// Why a fault spec did not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultParseError {
    /// The name is not one of the known faults.
    #[error("unknown sim fault `{0}`; known: 400, 401, 404, 429, 500, 502, 503, stall-ttft-<ms>, stall-mid-<ms>, cut-mid, error-event, malformed, no-usage, retry-after-<s>, flaky-<n>, each optionally followed by @<rate>")]
    Unknown(String),
    /// A numeric argument was missing or not a whole number.
    #[error("sim fault `{0}` needs a whole number, e.g. stall-ttft-2000")]
    BadNumber(String),
    /// The `@rate` part is not a number in [0, 1].
    #[error("sim fault rate `{0}` must be a number between 0 and 1, e.g. 500@0.2")]
    BadRate(String),
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |rest: &str| {
            rest.parse::<u64>()
                .map_err(|_| FaultParseError::BadNumber(s.to_string()))
        };
        if let Ok(code) = s.parse::<u16>() {
            if HTTP_FAULTS.contains(&code) {
                return Ok(Fault::Http(code));
            }
            return Err(FaultParseError::Unknown(s.to_string()));
        }
        match s {
            "cut-mid" => return Ok(Fault::CutMid),
            "error-event" => return Ok(Fault::ErrorEvent),
            "malformed" => return Ok(Fault::Malformed),
            "no-usage" => return Ok(Fault::NoUsage),
            _ => {}
        }
        if let Some(rest) = s.strip_prefix("stall-ttft-") {
            return Ok(Fault::StallTtft(number(rest)?));
        }
        if let Some(rest) = s.strip_prefix("stall-mid-") {
            return Ok(Fault::StallMid(number(rest)?));
        }
        if let Some(rest) = s.strip_prefix("retry-after-") {
            return Ok(Fault::RetryAfter(number(rest)?));
        }
        if let Some(rest) = s.strip_prefix("flaky-") {
            return Ok(Fault::Flaky(number(rest)?));
        }
        Err(FaultParseError::Unknown(s.to_string()))
    }
}

impl FromStr for FaultRule {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (name, rate) = match s.split_once('@') {
            Some((name, rate_text)) => {
                let rate = rate_text
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| FaultParseError::BadRate(rate_text.to_string()))?;
                (name, rate)
            }
            None => (s, 1.0),
        };
        Ok(FaultRule {
            fault: name.parse()?,
            rate,
        })
    }
}

/// Split a model id into its base id and the fault rules in its `+` suffixes.
///
/// `sim/fast+429+flaky-2` → (`sim/fast`, [429, flaky-2]).
pub fn split_model_id(model: &str) -> Result<(&str, Vec<FaultRule>), FaultParseError> {
    let mut parts = model.split('+');
    let base = parts.next().unwrap_or_default();
    let rules = parts.map(str::parse).collect::<Result<Vec<_>, _>>()?;
    Ok((base, rules))
}

#[cfg(test)]
mod tests;
