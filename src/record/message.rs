//! What a request says and how its answer is checked, as plain data: the
//! suite builds these, the gateway sends messages, `assert` compiles specs.

use serde::{Deserialize, Serialize};

/// One chat message as sent to the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// One check as written under `assert:` (compiled by the `assert` module).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
}
