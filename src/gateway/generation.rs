//! The gateway's own record of a generation (`GET {base}/generation?id=`)
//! and its per-provider endpoint figures (`GET {base}/models/{id}/endpoints`).
//!
//! A record appears shortly after the generation ends (404 until then); a
//! gateway that keeps no records (OpenAI, LiteLLM, vLLM) answers 404 too,
//! often with a body that is no gateway error at all. [`Gateway::generation`]
//! tells the three apart and makes one request; waiting and giving up is the
//! caller's (`runner/lookup.rs`). Bodies are read up to [`MAX_BODY`] bytes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::{error_chain, Gateway, GatewayError};
use super::wire::NumOrStr;

/// Largest body accepted from either endpoint.
pub const MAX_BODY: usize = 256 * 1024;
/// How long a record may take to appear before a lookup gives up
/// (`--lookup-wait`'s default).
pub const LOOKUP_PATIENCE: Duration = Duration::from_secs(30);

/// What evalgate keeps of a generation record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    /// `total_cost`, USD.
    pub cost_usd: Option<f64>,
    /// `latency`: the gateway's time to first token, ms.
    pub latency_ms: Option<f64>,
    /// `generation_time`, ms.
    pub generation_ms: Option<f64>,
    /// `provider_name`: who served it.
    pub provider: Option<String>,
    /// `model` as the gateway ran it.
    pub model: Option<String>,
    pub is_byok: Option<bool>,
    pub native_tokens_prompt: Option<u64>,
    pub native_tokens_completion: Option<u64>,
    pub native_tokens_reasoning: Option<u64>,
    pub native_tokens_cached: Option<u64>,
}

/// What `GET /generation?id=` answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Generation {
    Found(GenerationRecord),
    /// 404 with a gateway error object (`{"error": {...}}`): no record yet.
    NotYet,
    /// 404 with any other body (`{"detail":"Not Found"}`, HTML, nothing):
    /// the gateway has no such route, so it keeps no records.
    NoRoute,
}

/// Why a lookup ended without a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupFailure {
    /// Still 404 after the lookup's patience (`--lookup-wait`).
    NotFound,
    /// The gateway has no `/generation` route (a 404 that is no gateway error).
    NoRoute,
    /// Ended early: the run had found that the gateway keeps no records.
    GaveUp,
    /// Another HTTP status, a transport error or an unreadable body.
    Failed(String),
}

#[derive(Deserialize)]
struct RecordBody {
    data: RawRecord,
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    total_cost: Option<NumOrStr>,
    #[serde(default)]
    latency: Option<NumOrStr>,
    #[serde(default)]
    generation_time: Option<NumOrStr>,
    #[serde(default)]
    provider_name: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    is_byok: Option<bool>,
    #[serde(default)]
    native_tokens_prompt: Option<u64>,
    #[serde(default)]
    native_tokens_completion: Option<u64>,
    #[serde(default)]
    native_tokens_reasoning: Option<u64>,
    #[serde(default)]
    native_tokens_cached: Option<u64>,
}

/// One provider serving a model, as `/models/{id}/endpoints` lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Endpoint {
    pub provider: String,
    /// USD per input / output token.
    pub input_price: Option<f64>,
    pub output_price: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p95_ms: Option<f64>,
    /// Output tokens per second.
    pub throughput_p50: Option<f64>,
    pub supported_parameters: Vec<String>,
}

#[derive(Deserialize)]
struct EndpointsBody {
    data: EndpointsData,
}

#[derive(Deserialize)]
struct EndpointsData {
    #[serde(default)]
    endpoints: Vec<RawEndpoint>,
}

#[derive(Deserialize)]
struct RawEndpoint {
    #[serde(default, alias = "provider")]
    provider_name: Option<String>,
    #[serde(default)]
    pricing: Option<RawPricing>,
    #[serde(default, alias = "latency_p50_ms")]
    ttft_p50_ms: Option<NumOrStr>,
    #[serde(default, alias = "latency_p95_ms")]
    ttft_p95_ms: Option<NumOrStr>,
    #[serde(default, alias = "throughput_p50")]
    throughput_p50_tps: Option<NumOrStr>,
    #[serde(default)]
    supported_parameters: Vec<String>,
}

#[derive(Deserialize)]
struct RawPricing {
    #[serde(default)]
    input: Option<NumOrStr>,
    #[serde(default)]
    output: Option<NumOrStr>,
}

fn num(v: &Option<NumOrStr>) -> Option<f64> {
    v.as_ref().and_then(NumOrStr::as_f64)
}

impl Gateway {
    /// `GET {base}/generation?id=`, once: the record, or why there is none.
    pub async fn generation(&self, id: &str) -> Result<Generation, GatewayError> {
        let mut url =
            reqwest::Url::parse(&self.url("generation")).map_err(|e| GatewayError::InvalidUrl {
                url: self.base_url().to_string(),
                reason: e.to_string(),
            })?;
        url.query_pairs_mut().append_pair("id", id);
        let body = match self.get_bounded(url, MAX_BODY).await? {
            Got::Body(b) => b,
            Got::Missing(b) if super::wire::is_error_object(&b) => return Ok(Generation::NotYet),
            Got::Missing(_) => return Ok(Generation::NoRoute),
        };
        let raw: RecordBody = serde_json::from_slice(&body).map_err(|e| GatewayError::Parse {
            url: self.url("generation"),
            message: e.to_string(),
        })?;
        let r = raw.data;
        Ok(Generation::Found(GenerationRecord {
            cost_usd: num(&r.total_cost),
            latency_ms: num(&r.latency),
            generation_ms: num(&r.generation_time),
            provider: r.provider_name,
            model: r.model,
            is_byok: r.is_byok,
            native_tokens_prompt: r.native_tokens_prompt,
            native_tokens_completion: r.native_tokens_completion,
            native_tokens_reasoning: r.native_tokens_reasoning,
            native_tokens_cached: r.native_tokens_cached,
        }))
    }

    /// `GET {base}/models/{id}/endpoints`; `None` when the gateway has no such page.
    pub async fn endpoints(&self, model: &str) -> Result<Option<Vec<Endpoint>>, GatewayError> {
        let path = format!("models/{model}/endpoints");
        let url = reqwest::Url::parse(&self.url(&path)).map_err(|e| GatewayError::InvalidUrl {
            url: self.base_url().to_string(),
            reason: e.to_string(),
        })?;
        let Got::Body(body) = self.get_bounded(url, MAX_BODY).await? else {
            return Ok(None);
        };
        let raw: EndpointsBody =
            serde_json::from_slice(&body).map_err(|e| GatewayError::Parse {
                url: self.url(&path),
                message: e.to_string(),
            })?;
        Ok(Some(
            raw.data
                .endpoints
                .into_iter()
                .map(|e| Endpoint {
                    provider: e.provider_name.unwrap_or_else(|| "?".into()),
                    input_price: e.pricing.as_ref().and_then(|p| num(&p.input)),
                    output_price: e.pricing.as_ref().and_then(|p| num(&p.output)),
                    ttft_p50_ms: num(&e.ttft_p50_ms),
                    ttft_p95_ms: num(&e.ttft_p95_ms),
                    throughput_p50: num(&e.throughput_p50_tps),
                    supported_parameters: e.supported_parameters,
                })
                .collect(),
        ))
    }

    /// GET `url`: the body (at most `max` bytes), of a 2xx or of a 404.
    async fn get_bounded(&self, url: reqwest::Url, max: usize) -> Result<Got, GatewayError> {
        let shown = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path()
        );
        let transport = |e: reqwest::Error| GatewayError::Http {
            url: shown.clone(),
            message: self.scrub(&error_chain(&e)),
        };
        let mut rb = self.side().get(url.clone());
        if let Some(t) = self.timeouts().total {
            rb = rb.timeout(t.min(Duration::from_secs(30)));
        }
        let mut resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > max {
                return Err(GatewayError::Parse {
                    url: shown,
                    message: format!("the answer is larger than {max} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if status == 404 {
            return Ok(Got::Missing(body.into()));
        }
        if !(200..300).contains(&status) {
            return Err(GatewayError::Status {
                url: shown,
                status,
                message: self.scrub(&super::wire::error_message(&body)),
            });
        }
        Ok(Got::Body(body.into()))
    }
}

/// A bounded GET's body: a 2xx's, or a 404's.
enum Got {
    Body(bytes::Bytes),
    Missing(bytes::Bytes),
}
