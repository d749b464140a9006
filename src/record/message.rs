//! How an answer is checked, as plain data: the suite builds these and
//! `assert` compiles them. (Messages live in `chat`.)

use serde::{Deserialize, Serialize};

/// One check as written under `assert:` (compiled by the `assert` module).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertSpec {
    /// Check type, possibly with a `not-` prefix.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    #[serde(default)]
    pub weight: Option<f64>,
    /// For `judge`: the grader model (else the suite's `grader`).
    #[serde(default)]
    pub grader: Option<String>,
    /// For `tool_call`: the function name expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For `tool_call`: a JSON Schema the arguments must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
    /// For `tool_call`: a JSONPath into the arguments (with `value` to compare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// For `tool_call`: which call (0-based) must match; any call when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// For `tool_calls_count`: bounds on the number of calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<u64>,
}
