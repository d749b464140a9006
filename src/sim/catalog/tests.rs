//! Unit tests of `sim::catalog`.

use super::*;

fn entry(id: &str) -> Value {
    let cat = catalog_json();
    cat["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[test]
fn lists_named_sims_and_known_models() {
    for id in NAMED.iter().copied().chain(KNOWN.iter().map(|k| k.id)) {
        let e = entry(id);
        assert_eq!(e["type"], "language");
        assert!(e["pricing"]["input"].is_string(), "{id}");
        assert!(e["context_window"].as_u64().unwrap() > 0);
    }
    let gpt5 = entry("openai/gpt-5");
    assert_eq!(gpt5["pricing"]["input"], "0.00000125");
    assert_eq!(gpt5["pricing"]["output"], "0.00001");
    assert_eq!(gpt5["pricing"]["input_cache_read"], "0.000000125");
    assert!(gpt5["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("reasoning")));
    assert_eq!(
        entry("anthropic/claude-sonnet-4")["pricing"]["input_cache_write"],
        "0.00000375"
    );
}

#[test]
fn tiered_entry_has_exact_tiers() {
    let p = &entry("sim/tiered")["pricing"];
    assert_eq!(
        *p,
        json!({"input":"0.00000125","output":"0.00001",
            "input_tiers":[{"cost":"0.00000125","min":0,"max":200000},{"cost":"0.0000025","min":200000}],
            "output_tiers":[{"cost":"0.00001","min":0,"max":200000},{"cost":"0.000015","min":200000}]})
    );
}
