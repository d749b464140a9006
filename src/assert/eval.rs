//! Evaluating a compiled [`Check`] against one [`Answer`].
//!
//! Each check body yields whether it matched plus a short explanation that
//! reads right both ways ("answer contains \"x\"" / "expected to contain
//! \"x\""), so `not-` can flip any check and still give a specific reason.

use serde_json::Value;

use super::check::{Answer, Check, Kind, Metric};
use crate::record::CheckResult;

/// Outcome of a check body before negation.
enum Outcome {
    /// The body matched; the text says what was seen (used when negated).
    Hit(String),
    /// The body did not match; the text says what was expected.
    Miss(String),
    /// The check could not be decided (missing measurement, grader error):
    /// fails whether or not it is negated.
    Broken(String),
}

impl Check {
    /// Evaluate this check on an answer. `judge` checks need a grader and
    /// fail here with a reason saying so; use [`Check::judge_result`].
    pub fn evaluate(&self, answer: &Answer) -> CheckResult {
        let outcome = match &self.kind {
            Kind::Equals(want) => {
                if answer.text.trim() == want {
                    Outcome::Hit(format!("answer equals {}", quote(want)))
                } else {
                    Outcome::Miss(format!(
                        "expected to equal {}, got {}",
                        quote(want),
                        quote(answer.text.trim())
                    ))
                }
            }
            Kind::Contains(needle) => contains(answer.text, needle, false),
            Kind::IContains(needle) => contains(answer.text, needle, true),
            Kind::Many { needles, all, ci } => many(answer.text, needles, *all, *ci),
            Kind::StartsWith(prefix) => {
                if answer.text.trim_start().starts_with(prefix.as_str()) {
                    Outcome::Hit(format!("answer starts with {}", quote(prefix)))
                } else {
                    Outcome::Miss(format!("expected to start with {}", quote(prefix)))
                }
            }
            Kind::Regex(re) => match re.find(answer.text) {
                Some(m) => Outcome::Hit(format!(
                    "answer matches /{}/ at {}",
                    re.as_str(),
                    quote(m.as_str())
                )),
                None => Outcome::Miss(format!("expected to match /{}/", re.as_str())),
            },
            Kind::IsJson => match parse_json(answer.text) {
                Ok(_) => Outcome::Hit("answer is valid JSON".into()),
                Err(e) => Outcome::Miss(e),
            },
            Kind::JsonSchema(validator) => match parse_json(answer.text) {
                Err(e) => Outcome::Miss(e),
                Ok(doc) => match validator.validate(&doc) {
                    Ok(()) => Outcome::Hit("answer matches the JSON schema".into()),
                    Err(e) => {
                        let at = e.instance_path.to_string();
                        let at = if at.is_empty() { "/".into() } else { at };
                        Outcome::Miss(format!("schema violation at {at}: {e}"))
                    }
                },
            },
            Kind::JsonPath { path, text, equals } => match parse_json(answer.text) {
                Err(e) => Outcome::Miss(e),
                Ok(doc) => {
                    let nodes = path.query(&doc).all();
                    match (nodes.is_empty(), equals) {
                        (true, _) => Outcome::Miss(format!("{text} not found")),
                        (false, None) => Outcome::Hit(format!("{text} exists")),
                        (false, Some(want)) => {
                            if nodes.iter().any(|n| json_eq(n, want)) {
                                Outcome::Hit(format!("{text} equals {want}"))
                            } else {
                                let got: Vec<String> =
                                    nodes.iter().map(|n| n.to_string()).collect();
                                Outcome::Miss(format!(
                                    "{text} expected {want}, got {}",
                                    got.join(", ")
                                ))
                            }
                        }
                    }
                }
            },
            Kind::Limit { metric, limit, max } => self::limit(answer, *metric, *limit, *max),
            Kind::Tool(check) => match super::tools::evaluate(check, answer.tool_calls) {
                Ok(seen) => Outcome::Hit(seen),
                Err(want) => Outcome::Miss(want),
            },
            Kind::Judge(_) => Outcome::Broken(
                "judge checks need a grader model; none was called for this answer".into(),
            ),
        };
        self.finish(outcome)
    }

    /// The result of a `judge` check from the grader's verdict
    /// (`Ok((pass, reason))`) or the error that prevented grading, which
    /// fails the check with the error as its reason.
    pub fn judge_result(&self, verdict: Result<(bool, String), String>) -> CheckResult {
        let outcome = match verdict {
            Ok((true, reason)) => Outcome::Hit(grader_reason(reason)),
            Ok((false, reason)) => Outcome::Miss(grader_reason(reason)),
            Err(e) => Outcome::Broken(format!("grader error: {e}")),
        };
        self.finish(outcome)
    }

    fn finish(&self, outcome: Outcome) -> CheckResult {
        // A judge's reason is worth keeping even on a pass ("the grader's reason").
        let keep = self.is_judge();
        let (passed, reason) = match (outcome, self.negated) {
            (Outcome::Hit(seen), false) => (true, if keep { seen } else { String::new() }),
            (Outcome::Miss(why), false) => (false, why),
            (Outcome::Hit(seen), true) => (false, format!("not expected: {seen}")),
            (Outcome::Miss(why), true) => (true, if keep { why } else { String::new() }),
            (Outcome::Broken(why), _) => (false, why),
        };
        CheckResult {
            check: self.label.clone(),
            passed,
            weight: self.weight,
            reason,
        }
    }
}

fn grader_reason(reason: String) -> String {
    if reason.trim().is_empty() {
        "grader gave no reason".into()
    } else {
        format!("grader: {}", reason.trim())
    }
}

/// Quote a string for a reason, shortened so rows stay readable.
fn quote(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{:?}", format!("{cut}…"))
    } else {
        format!("{s:?}")
    }
}

fn contains(text: &str, needle: &str, ci: bool) -> Outcome {
    let hit = if ci {
        text.to_lowercase().contains(&needle.to_lowercase())
    } else {
        text.contains(needle)
    };
    let how = if ci { " (any case)" } else { "" };
    if hit {
        Outcome::Hit(format!("answer contains {}{how}", quote(needle)))
    } else {
        Outcome::Miss(format!("expected to contain {}{how}", quote(needle)))
    }
}

fn many(text: &str, needles: &[String], all: bool, ci: bool) -> Outcome {
    let hay = if ci {
        text.to_lowercase()
    } else {
        text.to_string()
    };
    let found = |n: &String| {
        if ci {
            hay.contains(&n.to_lowercase())
        } else {
            hay.contains(n.as_str())
        }
    };
    let how = if ci { " (any case)" } else { "" };
    if all {
        let missing: Vec<String> = needles
            .iter()
            .filter(|n| !found(n))
            .map(|n| quote(n))
            .collect();
        if missing.is_empty() {
            Outcome::Hit(format!("answer contains all of {}{how}", list(needles)))
        } else {
            Outcome::Miss(format!("expected to contain {}{how}", missing.join(", ")))
        }
    } else {
        match needles.iter().find(|n| found(n)) {
            Some(n) => Outcome::Hit(format!("answer contains {}{how}", quote(n))),
            None => Outcome::Miss(format!("expected to contain one of {}{how}", list(needles))),
        }
    }
}

fn list(needles: &[String]) -> String {
    needles
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn limit(answer: &Answer, metric: Metric, limit: f64, max: bool) -> Outcome {
    let (name, unit, value) = match metric {
        Metric::TtftMs => ("ttft", " ms", answer.ttft_ms),
        Metric::DurationMs => ("duration", " ms", answer.duration_ms),
        Metric::CostUsd => ("cost", " USD", answer.cost_usd),
        Metric::OutputTokens => ("output tokens", "", answer.output_tokens.map(|t| t as f64)),
        Metric::TokensPerS => ("tokens/s", "", answer.tokens_per_s),
    };
    let Some(value) = value else {
        return Outcome::Broken(format!("{name} was not measured for this answer"));
    };
    let shown = |v: f64| match metric {
        Metric::CostUsd => format!("{v}"),
        Metric::OutputTokens => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    };
    let (ok, op_ok, op_bad) = if max {
        (value <= limit, "<=", ">")
    } else {
        (value >= limit, ">=", "<")
    };
    let lim = format!("{limit}");
    if ok {
        Outcome::Hit(format!("{name} {}{unit} {op_ok} {lim}{unit}", shown(value)))
    } else {
        Outcome::Miss(format!(
            "{name} {}{unit} {op_bad} {lim}{unit}",
            shown(value)
        ))
    }
}

/// Parse the answer as JSON: the whole text, or the content of a single
/// fenced block (```json or ```).
pub(crate) fn parse_json(text: &str) -> Result<Value, String> {
    let whole = serde_json::from_str::<Value>(text.trim());
    let err = match whole {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if let Some(block) = single_fence(text) {
        return serde_json::from_str::<Value>(block.trim())
            .map_err(|e| format!("fenced block is not valid JSON: {e}"));
    }
    Err(format!("not valid JSON: {err}"))
}

/// The content of the only fenced code block, if there is exactly one and it
/// is tagged `json` or untagged.
fn single_fence(text: &str) -> Option<&str> {
    let parts: Vec<&str> = text.split("```").collect();
    // One block means exactly two fences: before, block, after.
    if parts.len() != 3 {
        return None;
    }
    let block = parts[1];
    let (tag, body) = block.split_once('\n')?;
    let tag = tag.trim();
    (tag.is_empty() || tag.eq_ignore_ascii_case("json")).then_some(body)
}

/// JSON equality where numbers compare by value (`2` equals `2.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
