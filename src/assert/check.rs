//! Compiling an [`AssertSpec`] (as written in YAML) into a [`Check`]: the
//! type name and its value are validated here, once, so a typo or a bad regex
//! stops the suite at load time instead of failing every answer.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::record::AssertSpec;

/// Every check type, as written after an optional `not-` prefix.
pub(crate) const CHECK_TYPES: &[&str] = &[
    "equals",
    "contains",
    "icontains",
    "contains_any",
    "contains_all",
    "icontains_any",
    "icontains_all",
    "starts_with",
    "regex",
    "is_json",
    "json_schema",
    "json_path",
    "max_ttft_ms",
    "max_duration_ms",
    "max_cost_usd",
    "max_output_tokens",
    "min_tokens_per_s",
    "judge",
    "tool_call",
    "tool_calls_count",
    "no_tool_call",
    "response_format",
];

/// What one answer offers to the checks: its text, tool calls and measurements.
#[derive(Clone, Copy, Debug, Default)]
pub struct Answer<'a> {
    pub text: &'a str,
    pub tool_calls: &'a [crate::record::ToolCall],
    pub ttft_ms: Option<f64>,
    pub duration_ms: Option<f64>,
    pub cost_usd: Option<f64>,
    pub output_tokens: Option<u64>,
    pub tokens_per_s: Option<f64>,
}

/// Which measurement a numeric limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Metric {
    TtftMs,
    DurationMs,
    CostUsd,
    OutputTokens,
    TokensPerS,
}

/// A compiled check body (without negation and weight).
#[derive(Clone)]
pub(crate) enum Kind {
    Equals(String),
    Contains(String),
    IContains(String),
    /// `all`: every needle must appear; `ci`: case-insensitive.
    Many {
        needles: Vec<String>,
        all: bool,
        ci: bool,
    },
    StartsWith(String),
    Regex(regex::Regex),
    IsJson,
    JsonSchema(Arc<jsonschema::Validator>),
    JsonPath {
        path: JsonPath,
        text: String,
        equals: Option<Value>,
    },
    /// `max`: the measurement must be at most `limit`, else at least.
    Limit {
        metric: Metric,
        limit: f64,
        max: bool,
    },
    Judge(String),
    Tool(super::tools::ToolCheck),
}

/// A compiled check, ready to evaluate answers.
#[derive(Clone)]
pub struct Check {
    pub(crate) label: String,
    pub(crate) kind: Kind,
    pub(crate) negated: bool,
    pub(crate) weight: f64,
    pub(crate) grader: Option<String>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("label", &self.label)
            .field("weight", &self.weight)
            .field("grader", &self.grader)
            .finish_non_exhaustive()
    }
}

impl Check {
    /// True for `judge` checks, which need a grader model instead of [`Check::evaluate`].
    pub fn is_judge(&self) -> bool {
        matches!(self.kind, Kind::Judge(_))
    }

    /// The rubric of a `judge` check.
    pub fn rubric(&self) -> Option<&str> {
        match &self.kind {
            Kind::Judge(r) => Some(r),
            _ => None,
        }
    }

    /// The grader model named on the check itself (the suite fills in its default).
    pub fn grader(&self) -> Option<&str> {
        self.grader.as_deref()
    }

    /// Weight in the case score (default 1).
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// The type as written, including a `not-` prefix.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Compile one check as written in a suite. The error says what is wrong and
/// how to fix it.
pub fn compile(spec: &AssertSpec) -> Result<Check, String> {
    let label = spec.kind.trim().to_string();
    let (negated, base) = match label.strip_prefix("not-") {
        Some(rest) => (true, rest),
        None => (false, label.as_str()),
    };
    let weight = spec.weight.unwrap_or(1.0);
    if !weight.is_finite() || weight < 0.0 {
        return Err(format!(
            "`{label}` has weight {weight}: use a number >= 0 (default 1)"
        ));
    }
    let kind = if matches!(base, "tool_call" | "tool_calls_count" | "no_tool_call") {
        Kind::Tool(super::tools::compile(base, spec)?)
    } else {
        if let Some(k) = super::tools::uses_tool_keys(spec) {
            return Err(format!(
                "`{label}` does not take `{k}` (only tool_call and tool_calls_count checks do): remove it"
            ));
        }
        compile_kind(base, spec.value.as_ref())?
    };
    if spec.grader.is_some() && !matches!(kind, Kind::Judge(_)) {
        return Err(format!(
            "`{label}` does not take a `grader` (only `judge` checks do): remove it"
        ));
    }
    Ok(Check {
        label,
        kind,
        negated,
        weight,
        grader: spec.grader.clone(),
    })
}

fn compile_kind(base: &str, value: Option<&Value>) -> Result<Kind, String> {
    let value = value.filter(|v| !v.is_null());
    Ok(match base {
        "equals" => Kind::Equals(scalar(base, value)?.trim().to_string()),
        "contains" => Kind::Contains(scalar(base, value)?),
        "icontains" => Kind::IContains(scalar(base, value)?),
        "starts_with" => Kind::StartsWith(scalar(base, value)?),
        "contains_any" | "contains_all" | "icontains_any" | "icontains_all" => Kind::Many {
            needles: list(base, value)?,
            all: base.ends_with("_all"),
            ci: base.starts_with('i'),
        },
        "regex" => {
            let pattern = scalar(base, value)?;
            let re = regex::Regex::new(&pattern).map_err(|e| {
                let detail = e.to_string().replace('\n', " ");
                format!("`regex` value is not a valid regular expression: {detail}")
            })?;
            Kind::Regex(re)
        }
        "is_json" => {
            if value.is_some() {
                return Err("`is_json` takes no value: remove `value`".into());
            }
            Kind::IsJson
        }
        // `response_format` is the check a `response_format` case gets
        // implicitly: the schema it asked for.
        "json_schema" | "response_format" => {
            let schema = match value {
                Some(v @ Value::Object(_)) => v,
                _ => {
                    return Err(format!(
                        "`{base}` needs a JSON Schema object as its value, \
                         e.g. {{type: object, required: [id]}}"
                    ))
                }
            };
            let validator = jsonschema::validator_for(schema)
                .map_err(|e| format!("`{base}` value is not a valid JSON Schema: {e}"))?;
            Kind::JsonSchema(Arc::new(validator))
        }
        "json_path" => json_path(value)?,
        "max_ttft_ms" => limit(base, value, Metric::TtftMs, true)?,
        "max_duration_ms" => limit(base, value, Metric::DurationMs, true)?,
        "max_cost_usd" => limit(base, value, Metric::CostUsd, true)?,
        "max_output_tokens" => limit(base, value, Metric::OutputTokens, true)?,
        "min_tokens_per_s" => limit(base, value, Metric::TokensPerS, false)?,
        "judge" => {
            let rubric = scalar(base, value)?;
            if rubric.trim().is_empty() {
                return Err(
                    "`judge` needs a rubric as its value: say what a good answer does".into(),
                );
            }
            Kind::Judge(rubric)
        }
        other => return Err(unknown_type(other)),
    })
}

fn unknown_type(name: &str) -> String {
    let best = CHECK_TYPES
        .iter()
        .map(|t| (strsim::jaro_winkler(name, t), *t))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((s, t)) if s > 0.8 => {
            format!("unknown check type `{name}` (did you mean `{t}`?)")
        }
        _ => format!(
            "unknown check type `{name}`: use one of {} (with an optional `not-` prefix)",
            CHECK_TYPES.join(", ")
        ),
    }
}

/// A string value; numbers and booleans are taken as written (`value: 30`).
fn scalar(base: &str, value: Option<&Value>) -> Result<String, String> {
    match value {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        None => Err(format!("`{base}` needs a `value` (a string)")),
        Some(_) => Err(format!("`{base}` needs a string value, not a list or map")),
    }
}

fn list(base: &str, value: Option<&Value>) -> Result<Vec<String>, String> {
    let err = || format!("`{base}` needs a list of strings, e.g. value: [refund, 30 days]");
    let Some(Value::Array(items)) = value else {
        return Err(err());
    };
    if items.is_empty() {
        return Err(format!("`{base}` needs at least one string in its list"));
    }
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(err()),
        })
        .collect()
}

fn limit(base: &str, value: Option<&Value>, metric: Metric, max: bool) -> Result<Kind, String> {
    let limit = value
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("`{base}` needs a number as its value, e.g. value: 3000"))?;
    if !limit.is_finite() || limit < 0.0 {
        return Err(format!("`{base}` needs a number >= 0, not {limit}"));
    }
    Ok(Kind::Limit { metric, limit, max })
}

fn json_path(value: Option<&Value>) -> Result<Kind, String> {
    const HINT: &str = "`json_path` needs {path: \"$.quantity\"} with an optional `equals`";
    let (text, equals) = match value {
        Some(Value::String(p)) => (p.clone(), None),
        Some(Value::Object(map)) => {
            if let Some(extra) = map.keys().find(|k| *k != "path" && *k != "equals") {
                return Err(format!(
                    "`json_path` has unknown key `{extra}`: use `path` and optionally `equals`"
                ));
            }
            match map.get("path") {
                Some(Value::String(p)) => (p.clone(), map.get("equals").cloned()),
                _ => return Err(HINT.into()),
            }
        }
        _ => return Err(HINT.into()),
    };
    let path = JsonPath::parse(&text)
        .map_err(|e| format!("`json_path` path `{text}` is not a valid JSONPath: {e}"))?;
    Ok(Kind::JsonPath { path, text, equals })
}
