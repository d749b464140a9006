//! The loaded suite as the rest of evalgate sees it: cases with defaults
//! merged and templates rendered, plus suite-wide settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::record::{AssertSpec, CacheProbe, Message, Params, ResponseFormat, Tool, ToolChoice};

/// Per-model prices given in the suite, USD per million tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SuitePrice {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub cache_write: Option<f64>,
}

/// A case ready to send: defaults merged, templates rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: String,
    pub messages: Vec<Message>,
    /// `defaults` < case (`model_params` applies per model on top).
    pub params: Params,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    /// Checks as written, plus an implicit `response_format` check when the
    /// case asks for a JSON schema (unless `check_response_format: false`).
    pub checks: Vec<AssertSpec>,
    /// Case passes when its weighted score reaches this (default 1.0: all checks).
    pub threshold: f64,
    /// 1-based line of the case in the suite file (for messages).
    pub line: usize,
    /// `cache_probe: true` makes two cases of one: the case as written
    /// (`Prime`) and, right after it in the list, the same request under
    /// the id `<id>.probe` (`Probe`), sent once its prime has finished.
    pub probe: Option<CacheProbe>,
}

/// Request timeouts set in the suite (the CLI flags win).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SuiteTimeouts {
    pub connect_ms: Option<u64>,
    pub ttft_ms: Option<u64>,
    pub idle_ms: Option<u64>,
    pub total_ms: Option<u64>,
}

/// A loaded, validated suite.
#[derive(Clone, Debug, PartialEq)]
pub struct Suite {
    pub path: PathBuf,
    pub name: String,
    pub description: Option<String>,
    /// Empty only when the CLI supplies `--models` (checked by the caller).
    pub models: Vec<String>,
    pub cases: Vec<Case>,
    /// Passed through as `providerOptions.gateway`.
    pub gateway: Option<serde_json::Value>,
    pub pricing: BTreeMap<String, SuitePrice>,
    /// `model_params:`, applied over every case's parameters for that model.
    pub model_params: BTreeMap<String, Params>,
    /// Default grader model for `judge` checks.
    pub grader: Option<String>,
    /// Environment variable holding the key (default chosen by the caller).
    pub key_env: Option<String>,
    pub timeouts: SuiteTimeouts,
    /// `slo:`: objectives for goodput (`--slo` adds to or overrides them).
    pub slo: crate::record::Slo,
    /// Answer text and reasoning kept per request, bytes (the CLI flag wins).
    pub max_answer_bytes: Option<usize>,
    /// sha256 hex of the file's bytes.
    pub hash: String,
}

/// The id suffix of the second send of a `cache_probe: true` case.
pub const PROBE_SUFFIX: &str = ".probe";

impl Suite {
    /// The parameters one request of `case` to `model` is sent with:
    /// `defaults` < case < `model_params`.
    pub fn params_for(&self, case: &Case, model: &str) -> Params {
        match self.model_params.get(model) {
            Some(over) => case.params.merged(over),
            None => case.params.clone(),
        }
    }
}
