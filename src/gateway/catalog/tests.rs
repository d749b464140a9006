//! Unit tests of `gateway::catalog`.

use super::*;
use crate::gateway::client::GatewayConfig;
use crate::gateway::testserver::{Reply, TestServer};
use crate::record::Usage;
use crate::secret::ApiKey;

const CATALOG: &str = r#"{"object":"list","data":[
  {"id":"openai/gpt-5","name":"GPT-5","type":"language","context_window":400000,"max_tokens":128000,
   "tags":["reasoning","tool-use"],
   "pricing":{"input":"0.00000125","output":"0.00001","input_cache_read":"0.000000125"}},
  {"id":"google/gemini-2.5-pro","type":"language","context_window":1048576,
   "pricing":{"input":"0.00000125","output":0.00001,
     "input_tiers":[{"cost":"0.00000125","min":0,"max":200000},{"cost":"0.0000025","min":200000}],
     "output_tiers":[{"cost":"0.00001","min":0,"max":200000},{"cost":"0.000015","min":200000}]}},
  {"id":"anthropic/claude-sonnet-4","pricing":{"input_cache_write":"0.00000375"}},
  {"id":"openai/text-embedding-3-small","type":"embedding","pricing":{}},
  {"id":"deepseek/deepseek-v3"}
]}"#;

#[test]
fn parses_strings_numbers_tiers_and_missing_fields() {
    let c = Catalog::parse(CATALOG.as_bytes()).unwrap();
    assert_eq!(c.models.len(), 5);
    let gpt = c.get("openai/gpt-5").unwrap();
    assert_eq!(gpt.name.as_deref(), Some("GPT-5"));
    assert_eq!(
        (gpt.context_window, gpt.max_tokens),
        (Some(400_000), Some(128_000))
    );
    assert_eq!(gpt.tags, vec!["reasoning", "tool-use"]);
    let p = gpt.pricing.as_ref().unwrap();
    assert_eq!(p.input, Some(Tiered::flat(0.00000125)));
    assert_eq!(p.cache_write, None);
    let usage = Usage {
        input_tokens: 1000,
        output_tokens: 500,
        cached_tokens: 200,
        ..Usage::default()
    };
    // 800*1.25e-6 + 200*1.25e-7 + 500*1e-5
    assert!((p.cost(&usage).unwrap() - 0.006025).abs() < 1e-12);

    let gem = c
        .get("google/gemini-2.5-pro")
        .unwrap()
        .pricing
        .clone()
        .unwrap();
    let big = Usage {
        input_tokens: 250_000,
        output_tokens: 1000,
        ..Usage::default()
    };
    assert!((gem.cost(&big).unwrap() - (0.625 + 0.015)).abs() < 1e-12);

    // Only a cache-write price: prices kept, but no cost without input/output.
    let claude = c
        .get("anthropic/claude-sonnet-4")
        .unwrap()
        .pricing
        .clone()
        .unwrap();
    assert_eq!(claude.cost(&usage), None);
    assert_eq!(
        c.get("openai/text-embedding-3-small").unwrap().pricing,
        None
    );
    assert_eq!(
        c.get("openai/text-embedding-3-small")
            .unwrap()
            .kind
            .as_deref(),
        Some("embedding")
    );
    assert_eq!(c.get("deepseek/deepseek-v3").unwrap().pricing, None);
    assert!(c.get("openai/gpt-4").is_none());
}

#[test]
fn bad_catalog_is_a_parse_error() {
    let e = Catalog::parse(br#"{"models": []}"#).unwrap_err();
    assert!(matches!(e, GatewayError::Parse { .. }), "{e}");
}

#[test]
fn suggests_the_closest_id() {
    let c = Catalog::parse(CATALOG.as_bytes()).unwrap();
    assert_eq!(c.suggest("openai/gpt5").as_deref(), Some("openai/gpt-5"));
    assert_eq!(c.suggest("gpt-5").as_deref(), Some("openai/gpt-5"));
    assert_eq!(
        c.suggest("anthropic/claude-sonet-4").as_deref(),
        Some("anthropic/claude-sonnet-4")
    );
    assert_eq!(c.suggest("xq"), None);
}

fn gateway(base: &str) -> Gateway {
    Gateway::new(GatewayConfig::new(
        base,
        Some(ApiKey::new("sk-catalog-secret-42")),
    ))
    .unwrap()
}

#[tokio::test]
async fn fetches_caches_and_falls_back_to_a_stale_copy() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(vec![
        Reply::status(200, &[], CATALOG),
        Reply::status(200, &[], CATALOG),
        Reply::status(503, &[], r#"{"error":{"message":"maintenance"}}"#),
    ])
    .await;
    let gw = gateway(&server.base);
    let mut opts = CacheOptions {
        dir: Some(dir.path().to_path_buf()),
        ..CacheOptions::default()
    };
    let (c, src) = load(&gw, &opts).await.unwrap();
    assert_eq!((c.models.len(), src), (5, CatalogSource::Fresh));
    let got = server.received();
    assert_eq!(got[0].path, "/v1/models");
    assert_eq!(
        got[0].header("authorization"),
        Some("Bearer sk-catalog-secret-42")
    );

    // Within the TTL: from the cache, no request.
    let (_, src) = load(&gw, &opts).await.unwrap();
    assert_eq!(src, CatalogSource::Cache);
    assert_eq!(server.received().len(), 1);

    // Refresh forces a fetch.
    opts.refresh = true;
    assert_eq!(load(&gw, &opts).await.unwrap().1, CatalogSource::Fresh);
    // The gateway fails: the stale copy is used, with the error.
    let (c, src) = load(&gw, &opts).await.unwrap();
    assert_eq!(c.models.len(), 5);
    let CatalogSource::StaleCache { error } = src else {
        panic!("{src:?}")
    };
    assert!(
        error.contains("503") && error.contains("maintenance"),
        "{error}"
    );
    assert_eq!(server.received().len(), 3);

    // The cache file is named by a hash of the URL and holds no key.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(
            name.starts_with("models-") && name.ends_with(".json"),
            "{name}"
        );
        assert!(!std::fs::read_to_string(entry.path())
            .unwrap()
            .contains("sk-catalog"));
    }
}

#[tokio::test]
async fn no_cache_and_no_gateway_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!(
        "http://127.0.0.1:{}/v1",
        listener.local_addr().unwrap().port()
    );
    drop(listener);
    let opts = CacheOptions {
        dir: Some(dir.path().to_path_buf()),
        ttl: Duration::ZERO,
        refresh: false,
    };
    let e = load(&gateway(&base), &opts).await.unwrap_err().to_string();
    assert!(
        e.contains(&format!("{base}/models")) && e.contains("--gateway"),
        "{e}"
    );

    let server = TestServer::start(vec![Reply::status(404, &[], "")]).await;
    let e = load(&gateway(&server.base), &opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("404") && e.contains("/v1"), "{e}");
}
