//! The gateway's model catalog (`GET {base}/models`): ids, context windows,
//! tags and per-token prices, cached on disk per gateway URL so `run` and
//! `models` don't fetch it every time, with a stale copy as fallback when the
//! gateway cannot be reached.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::client::{Gateway, GatewayError};
use super::wire::{self, NumOrStr, TierEntry};
use crate::record::{ModelPrices, Tier, Tiered};

/// All models the gateway offers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub models: Vec<ModelInfo>,
}

/// One catalog entry (`evalgate models --json` prints these).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    /// `creator/model`, e.g. `openai/gpt-5`.
    pub id: String,
    pub name: Option<String>,
    /// The catalog's `type` (`language`, `embedding`, `image`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub context_window: Option<u64>,
    pub max_tokens: Option<u64>,
    pub tags: Vec<String>,
    /// `None` when the catalog lists no prices for the model.
    pub pricing: Option<ModelPrices>,
}

impl Catalog {
    /// Parse a `/models` answer: `{"data":[{"id", "pricing": {...}}, ...]}`.
    pub fn parse(json: &[u8]) -> Result<Catalog, GatewayError> {
        Self::parse_from(json, "the model catalog")
    }

    fn parse_from(json: &[u8], source: &str) -> Result<Catalog, GatewayError> {
        let body: wire::ModelsBody =
            serde_json::from_slice(json).map_err(|e| GatewayError::Parse {
                url: source.to_string(),
                message: format!("{e}; expected {{\"data\": [{{\"id\": ...}}]}}"),
            })?;
        let models = body
            .data
            .into_iter()
            .map(|m| ModelInfo {
                id: m.id,
                name: m.name,
                kind: m.kind,
                context_window: m.context_window,
                max_tokens: m.max_tokens,
                tags: m.tags.unwrap_or_default(),
                pricing: m.pricing.and_then(prices),
            })
            .collect();
        Ok(Catalog { models })
    }

    /// The model with exactly this id.
    pub fn get(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The closest known id, for "did you mean": compares with whole ids and
    /// with the part after `creator/` (so `gpt5` finds `openai/gpt-5`).
    pub fn suggest(&self, id: &str) -> Option<String> {
        let id = id.trim().to_ascii_lowercase();
        let score = |m: &ModelInfo| {
            let full = m.id.to_ascii_lowercase();
            let short = full.rsplit('/').next().unwrap_or(&full).to_string();
            strsim::jaro_winkler(&id, &full).max(strsim::jaro_winkler(&id, &short))
        };
        self.models
            .iter()
            .map(|m| (score(m), m))
            .filter(|(s, _)| *s >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, m)| m.id.clone())
    }
}

/// Prices of one entry; `None` when it lists none at all.
fn prices(p: wire::PricingEntry) -> Option<ModelPrices> {
    let out = ModelPrices {
        input: tiered(p.input, p.input_tiers),
        output: tiered(p.output, p.output_tiers),
        cache_read: tiered(p.input_cache_read, p.input_cache_read_tiers),
        cache_write: tiered(p.input_cache_write, p.input_cache_write_tiers),
    };
    (out != ModelPrices::default()).then_some(out)
}

/// A flat price and/or tiers; the base falls back to the lowest tier.
fn tiered(base: Option<NumOrStr>, tiers: Option<Vec<TierEntry>>) -> Option<Tiered> {
    let mut tiers: Vec<Tier> = tiers
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| {
            Some(Tier {
                min: t.min.unwrap_or(0),
                max: t.max,
                price: t.cost.as_f64()?,
            })
        })
        .collect();
    tiers.sort_by_key(|t| t.min);
    let base = base
        .and_then(|b| b.as_f64())
        .or_else(|| tiers.first().map(|t| t.price))?;
    Some(Tiered { base, tiers })
}

/// Where and how long to keep the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    /// `None`: the user cache dir (`dirs::cache_dir()/evalgate`).
    pub dir: Option<PathBuf>,
    /// A cached copy younger than this is used without fetching.
    pub ttl: Duration,
    /// Fetch even when the cache is fresh.
    pub refresh: bool,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            dir: None,
            ttl: Duration::from_secs(3600),
            refresh: false,
        }
    }
}

/// Where a loaded catalog came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogSource {
    /// Fetched from the gateway just now.
    Fresh,
    /// A cached copy within its TTL.
    Cache,
    /// The fetch failed (`error`); an older cached copy was used.
    StaleCache { error: String },
}

/// The catalog of `gw`: from the cache when fresh, else fetched (and cached),
/// else a stale cached copy with the fetch error.
pub async fn load(
    gw: &Gateway,
    opts: &CacheOptions,
) -> Result<(Catalog, CatalogSource), GatewayError> {
    let path = cache_path(opts, gw.base_url());
    if !opts.refresh {
        if let Some((catalog, age)) = path.as_deref().and_then(read_cache) {
            if age < opts.ttl {
                return Ok((catalog, CatalogSource::Cache));
            }
        }
    }
    match fetch(gw).await {
        Ok((catalog, bytes)) => {
            if let Some(p) = &path {
                // A cache that cannot be written only costs a refetch next time.
                let _ = write_cache(p, &bytes);
            }
            Ok((catalog, CatalogSource::Fresh))
        }
        Err(e) => match path.as_deref().and_then(read_cache) {
            Some((catalog, _)) => Ok((
                catalog,
                CatalogSource::StaleCache {
                    error: e.to_string(),
                },
            )),
            None => Err(e),
        },
    }
}

async fn fetch(gw: &Gateway) -> Result<(Catalog, bytes::Bytes), GatewayError> {
    let url = format!("{}/models", gw.base_url());
    let limit = super::client::MAX_CATALOG_BYTES;
    let Some(bytes) = gw.get("models", limit, "model catalog").await? else {
        // The most common cause: a base URL without its /v1. Ask once.
        let base = gw.base_url();
        if !base.ends_with("/v1")
            && matches!(
                gw.get("v1/models", limit, "model catalog").await,
                Ok(Some(_))
            )
        {
            return Err(GatewayError::MissingV1 {
                url: base.to_string(),
                suggested: format!("{base}/v1"),
            });
        }
        return Err(GatewayError::Status {
            url,
            status: 404,
            message: "this gateway has no model catalog; check that the base URL ends in /v1, or run with --no-catalog".into(),
        });
    };
    // serde quotes the offending value, which a hostile gateway may have
    // made the key.
    let catalog = Catalog::parse_from(&bytes, &url).map_err(|e| match e {
        GatewayError::Parse { url, message } => GatewayError::Parse {
            url,
            message: gw.scrub(&message),
        },
        other => other,
    })?;
    Ok((catalog, bytes))
}

/// One file per gateway URL, named by a hash of the URL (never the key).
fn cache_path(opts: &CacheOptions, base_url: &str) -> Option<PathBuf> {
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => dirs::cache_dir()?.join("evalgate"),
    };
    let hash = Sha256::digest(base_url.as_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    Some(dir.join(format!("models-{hex}.json")))
}

/// The cached catalog and its age; `None` when missing, unreadable or
/// larger than a fetched catalog may be.
fn read_cache(path: &Path) -> Option<(Catalog, Duration)> {
    let len = std::fs::metadata(path).ok()?.len();
    if len > super::client::MAX_CATALOG_BYTES as u64 {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let catalog = Catalog::parse(&bytes).ok()?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO);
    Some((catalog, age))
}

/// Write atomically (temp file + rename) so readers never see half a file.
fn write_cache(path: &Path, bytes: &[u8]) -> Result<(), GatewayError> {
    let io = |source| GatewayError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests;
