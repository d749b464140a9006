//! Wire types: the JSON the gateway expects and sends back outside the
//! stream (request body, error body, credits, catalog). Plain serde structs,
//! no logic beyond lenient decoding.

use serde::{Deserialize, Serialize};

use crate::record::{Message, ResponseFormat, Stop, Tool, ToolChoice};

pub(crate) use super::sse::NumOrStr;

/// The body of `POST {base}/chat/completions`.
#[derive(Serialize)]
pub(crate) struct ChatBody<'a> {
    pub model: &'a str,
    pub messages: &'a [Message],
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<&'a Stop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Tool]>::is_empty")]
    pub tools: &'a [Tool],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'a ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a ResponseFormat>,
    #[serde(rename = "providerOptions", skip_serializing_if = "Option::is_none")]
    pub provider_options: Option<ProviderOptions<'a>>,
}

/// Always ask for usage in the stream: tokens are never estimated.
#[derive(Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

/// `providerOptions.gateway` (routing: `order`, `only`, `models`, ...).
#[derive(Serialize)]
pub(crate) struct ProviderOptions<'a> {
    pub gateway: &'a serde_json::Value,
}

/// `{"error": {"message", "type", "code"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

/// The `error` of an HTTP error body or of an in-stream error event: an
/// object with optional `message`, `type` and `code` (number or string), or
/// a bare string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorDetail {
    Object {
        #[serde(default)]
        message: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        code: Option<NumOrStr>,
    },
    Text(String),
}

/// Whether `body` is a gateway's JSON error, `{"error": {...}}` (an object,
/// not a bare string): a 404 with one is the gateway's answer, a 404 with
/// anything else (`{"detail":"Not Found"}`, HTML) a route it does not have.
pub(crate) fn is_error_object(body: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<ErrorBody>(body),
        Ok(ErrorBody {
            error: ErrorDetail::Object { .. }
        })
    )
}

/// The message of an HTTP error body: the JSON error's message (with its
/// type/code when given), else the body text itself, trimmed.
pub(crate) fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            error:
                ErrorDetail::Object {
                    message,
                    kind,
                    code,
                },
        }) => {
            let mut out = message.unwrap_or_default();
            let tag: Vec<String> = kind
                .into_iter()
                .chain(code.map(NumOrStr::into_string))
                .filter(|s| !s.is_empty())
                .collect();
            if !tag.is_empty() {
                out = format!("{out} ({})", tag.join(", "));
            }
            out
        }
        Ok(ErrorBody {
            error: ErrorDetail::Text(t),
        }) => t,
        Err(_) => String::from_utf8_lossy(body).trim().to_string(),
    }
}

/// `GET {base}/credits`: `{"balance":"95.50","total_used":"4.50"}`.
#[derive(Deserialize)]
pub(crate) struct CreditsBody {
    pub balance: NumOrStr,
    pub total_used: NumOrStr,
}

/// `GET {base}/models`.
#[derive(Deserialize)]
pub(crate) struct ModelsBody {
    pub data: Vec<ModelEntry>,
}

/// One catalog entry; everything but `id` may be missing.
#[derive(Deserialize)]
pub(crate) struct ModelEntry {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub pricing: Option<PricingEntry>,
}

/// Prices as decimal strings (or numbers) in USD per token, with optional tiers.
#[derive(Deserialize, Default)]
pub(crate) struct PricingEntry {
    #[serde(default)]
    pub input: Option<NumOrStr>,
    #[serde(default)]
    pub output: Option<NumOrStr>,
    #[serde(default)]
    pub input_cache_read: Option<NumOrStr>,
    #[serde(default)]
    pub input_cache_write: Option<NumOrStr>,
    #[serde(default)]
    pub input_tiers: Option<Vec<TierEntry>>,
    #[serde(default)]
    pub output_tiers: Option<Vec<TierEntry>>,
    #[serde(default)]
    pub input_cache_read_tiers: Option<Vec<TierEntry>>,
    #[serde(default)]
    pub input_cache_write_tiers: Option<Vec<TierEntry>>,
}

/// `{"cost":"0.0000025","min":200000,"max":null}`; `max` exclusive.
#[derive(Deserialize)]
pub(crate) struct TierEntry {
    pub cost: NumOrStr,
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

#[cfg(test)]
mod tests;
