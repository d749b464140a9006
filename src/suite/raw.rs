//! The suite file exactly as written: serde types with unknown fields
//! denied, so typos are caught with a line number. Values that need checking
//! (durations, thresholds, roles, variable values) are checked while
//! deserializing, so serde attaches their line too.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::types::SuitePrice;
use crate::record::{AssertSpec, Params};

/// Top level of a suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSuite {
    pub name: Option<String>,
    pub description: Option<String>,
    pub models: Option<Vec<String>>,
    pub key_env: Option<String>,
    pub grader: Option<String>,
    pub timeouts: Option<RawTimeouts>,
    pub slo: Option<RawSlo>,
    /// Answer text and reasoning kept per request, bytes (`--max-answer-bytes` wins).
    pub max_answer_bytes: Option<u64>,
    pub defaults: Option<RawDefaults>,
    pub gateway: Option<serde_json::Value>,
    pub pricing: Option<BTreeMap<String, SuitePrice>>,
    /// Parameters per model id, over `defaults` and case `params`.
    pub model_params: Option<BTreeMap<String, Params>>,
    pub cases: Option<Vec<RawCase>>,
}

/// `timeouts:`; each a duration such as `500ms`, `2s`, `1m` or seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimeouts {
    pub connect: Option<Millis>,
    pub ttft: Option<Millis>,
    pub idle: Option<Millis>,
    pub total: Option<Millis>,
}

/// `slo:`: what a request must meet to count towards goodput.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlo {
    pub ttft: Option<Millis>,
    pub duration: Option<Millis>,
    pub tokens_per_s: Option<f64>,
}

/// `defaults:`, merged into every case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    pub system: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub params: Option<Params>,
    pub tools: Option<Vec<RawTool>>,
    pub tool_choice: Option<serde_json::Value>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<RawResponseFormat>,
    pub check_response_format: Option<bool>,
    pub vars: Option<BTreeMap<String, VarValue>>,
    pub assert: Option<Vec<AssertSpec>>,
    pub threshold: Option<Threshold>,
    /// Send every case twice, the second right after the first (see `Case::probe`).
    pub cache_probe: Option<bool>,
}

/// One entry of `tools:` (OpenAI function-tool shape).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTool {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub function: RawFunction,
}

/// `function:` of a tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFunction {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Option<serde_json::Value>,
    pub strict: Option<bool>,
}

/// `response_format:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResponseFormat {
    #[serde(rename = "type")]
    pub kind: ResponseFormatKind,
    pub json_schema: Option<RawJsonSchema>,
}

/// `response_format.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResponseFormatKind {
    JsonObject,
    JsonSchema,
    Text,
}

/// `response_format.json_schema`: the schema inline or in `schema_file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJsonSchema {
    pub name: Option<String>,
    pub schema: Option<serde_json::Value>,
    pub schema_file: Option<String>,
    pub strict: Option<bool>,
}

/// `cases_from:` of a case entry: one case per row of a CSV or JSONL file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCasesFrom {
    /// Relative to the suite file.
    pub file: String,
    /// Column giving each case's id (else `row-<n>`).
    pub id: Option<String>,
}

/// One entry under `cases:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    /// Required unless `cases_from` is given.
    pub id: Option<String>,
    pub cases_from: Option<RawCasesFrom>,
    /// Documentation for the reader of the file; not used by the run.
    #[allow(dead_code)]
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub messages: Option<Vec<RawMessage>>,
    pub system: Option<String>,
    pub vars: Option<BTreeMap<String, VarValue>>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub params: Option<Params>,
    pub tools: Option<Vec<RawTool>>,
    pub tool_choice: Option<serde_json::Value>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<RawResponseFormat>,
    pub check_response_format: Option<bool>,
    pub assert: Option<Vec<AssertSpec>>,
    pub threshold: Option<Threshold>,
    /// Send this case twice, the second right after the first.
    pub cache_probe: Option<bool>,
}

/// One message of a case's `messages:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMessage {
    pub role: Role,
    #[serde(default)]
    pub content: Option<RawContent>,
    /// An assistant turn's tool calls.
    pub tool_calls: Option<Vec<RawToolCall>>,
    /// A `role: tool` message answers this call.
    pub tool_call_id: Option<String>,
}

/// `content:`: a string or a list of parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawContent {
    Text(String),
    Parts(Vec<RawPart>),
}

/// One content part: `{text: ...}` or `{image: PATH_OR_URL, detail: ...}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPart {
    pub text: Option<String>,
    pub image: Option<String>,
    pub detail: Option<String>,
}

/// A tool call of an earlier assistant turn: `{id, name, arguments}` or the
/// OpenAI shape `{id, type: function, function: {name, arguments}}`;
/// `arguments` a JSON string or a map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<serde_json::Value>,
    pub function: Option<RawCallFunction>,
}

/// `function:` of an assistant tool call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCallFunction {
    pub name: String,
    pub arguments: Option<serde_json::Value>,
}

/// Chat roles a suite may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// A duration in whole milliseconds, parsed by [`crate::duration::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Millis(pub u64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 500ms, 2s or 1m")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
                crate::duration::parse(v)
                    .map(|d| Millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                Ok(Millis(v.saturating_mul(1000)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!(
                        "invalid duration `{v}`: must not be negative"
                    ))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

/// A template variable's value: a string or a number (kept as written), or
/// a list of them (the case expands to one case per value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum VarValue {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VarValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VarValue, E> {
                Ok(VarValue::One(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VarValue, E> {
                Ok(VarValue::One(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VarValue, E> {
                Ok(VarValue::One(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<VarValue, E> {
                Ok(VarValue::One(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<VarValue, E> {
                Ok(VarValue::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<VarValue, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<VarValue>()? {
                    match v {
                        VarValue::One(s) => out.push(s),
                        VarValue::Many(_) => return Err(de::Error::custom(
                            "a list of variable values cannot hold lists: use strings or numbers",
                        )),
                    }
                }
                if out.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list of variable values: give at least one",
                    ));
                }
                Ok(VarValue::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A pass threshold in `0..=1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Threshold(pub f64);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number from 0 to 1")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Threshold, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(Threshold(v))
                } else {
                    Err(E::custom(format!(
                        "{v} is outside 0..=1: use the share of weighted checks that must pass, e.g. 0.5"
                    )))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Threshold, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Threshold, E> {
                self.visit_f64(v as f64)
            }
        }
        // deserialize_any (not f64::deserialize) so the error carries the
        // value's own line.
        d.deserialize_any(V)
    }
}
