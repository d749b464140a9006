//! Gateway-true accounting: the catalog, cost fallbacks priced to the last
//! digit, routing options, the budget stop, and unknown ids caught before
//! anything is spent.

use evalgate::record::{CostSource, ErrorKind, Status};
use evalgate::sim::SimConfig;

use crate::common::*;

const KEY: &str = "sk-accounting-test-0000";

/// Prices (USD per token) the sim's catalog publishes for `id`.
async fn catalog_prices(base: &str, id: &str) -> (f64, f64, Option<f64>) {
    let v: serde_json::Value = reqwest::get(format!("{base}/models"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
        .clone();
    let p = |k: &str| m["pricing"][k].as_str().map(|s| s.parse::<f64>().unwrap());
    (
        p("input").unwrap(),
        p("output").unwrap(),
        p("input_cache_read"),
    )
}

#[test]
fn models_lists_the_catalog_as_a_table_and_as_json_with_filters() {
    let tmp = tempfile::tempdir().unwrap();
    let out = evalgate(&["models", "--sim", "--wide"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "openai/gpt-5",
        "anthropic/claude-sonnet-4",
        "in $/M",
        "1.25",
        "(tiered)",
        "cache read",
    ] {
        assert!(table.contains(needle), "{needle} missing from\n{table}");
    }
    // By default: id, context and prices, in 80 columns.
    let out = bin()
        .args(["models", "--sim"])
        .env("COLUMNS", "80")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("anthropic/claude-sonnet-4") && table.contains("in $/M"));
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    let out = evalgate(
        &["models", "--sim", "--json", "--creator", "openai"],
        tmp.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.starts_with("openai/")),
        "{ids:?}"
    );
    let gpt5 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "openai/gpt-5")
        .unwrap();
    assert!(
        (gpt5["pricing"]["input"]["base"].as_f64().unwrap() - 1.25e-6).abs() < 1e-18,
        "{gpt5}"
    );
    let out = evalgate(
        &["models", "--sim", "--json", "--tag", "reasoning"],
        tmp.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().all(|m| m["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "reasoning")));
}

#[test]
fn cost_falls_back_from_gateway_to_catalog_to_suite_to_unknown() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig::default()));
    let tmp = tempfile::tempdir().unwrap();
    let url = sim.base_url();
    let suite = suite_file(
        tmp.path(),
        "nocost.yaml",
        "name: nocost\nmodels: [sim/nocost]\npricing:\n  sim/nocost: {input: 3, output: 7}\ncases:\n  - id: a\n    prompt: Describe a router in one line.\n  - id: b\n    prompt: Name three colours.\n",
    );
    let s = suite.to_str().unwrap();

    // The sim sends no cost for this model: the catalog prices it.
    let out_dir = tmp.path().join("catalog");
    let res = run_gateway(
        tmp.path(),
        &url,
        KEY,
        &[s, "--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let (pin, pout, _) = rt.block_on(catalog_prices(&url, "sim/nocost"));
    for r in rows(&out_dir) {
        assert_eq!(r.cost_source, CostSource::Catalog, "{r:?}");
        let expected =
            r.input_tokens.unwrap() as f64 * pin + r.output_tokens.unwrap() as f64 * pout;
        assert!(
            (r.cost_usd.unwrap() - expected).abs() <= 1e-15,
            "{} vs {expected}",
            r.cost_usd.unwrap()
        );
    }

    // Without the catalog, the suite's price (per million tokens) is used.
    let out_dir = tmp.path().join("suite");
    let res = run_gateway(
        tmp.path(),
        &url,
        KEY,
        &[s, "--no-catalog", "--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    for r in rows(&out_dir) {
        assert_eq!(r.cost_source, CostSource::Suite);
        let expected =
            (r.input_tokens.unwrap() as f64 * 3.0 + r.output_tokens.unwrap() as f64 * 7.0) / 1e6;
        assert!((r.cost_usd.unwrap() - expected).abs() <= 1e-15);
    }

    // With neither, the cost is unknown and never summed as zero.
    let bare = suite_file(
        tmp.path(),
        "bare.yaml",
        "name: bare\nmodels: [sim/nocost]\ncases:\n  - id: a\n    prompt: Describe a router in one line.\n",
    );
    let out_dir = tmp.path().join("unknown");
    let res = run_gateway(
        tmp.path(),
        &url,
        KEY,
        &[
            bare.to_str().unwrap(),
            "--no-catalog",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let r = &rows(&out_dir)[0];
    assert_eq!((r.cost_source, r.cost_usd), (CostSource::Unknown, None));
    let m = &summary(&out_dir).models[0];
    assert_eq!((m.cost_usd, m.cost_unknown_rows), (None, 1));
    rt.block_on(sim.shutdown());
}

#[test]
fn unknown_model_id_stops_the_run_before_any_request_with_a_suggestion() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig::default()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "s.yaml",
        "name: s\ncases:\n  - id: a\n    prompt: hi\n",
    );
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        KEY,
        &[suite.to_str().unwrap(), "--models", "openai/gpt5,sim/fast"],
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("openai/gpt5") && err.contains("did you mean `openai/gpt-5`"),
        "{err}"
    );
    assert_eq!(sim.stats().requests, 0, "nothing sent");
    assert!(!tmp.path().join("results").exists());
    rt.block_on(sim.shutdown());
}

#[test]
fn routing_options_reach_the_gateway_and_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "route.yaml",
        "name: route\nmodels: [sim/fast]\ngateway:\n  order: [vertex]\n  user: team-a\ncases:\n  - id: a\n    prompt: hi\n",
    );
    let out = tmp.path().join("run");
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &[
            "--provider-order",
            "backupcloud,anthropic",
            "--gateway-tags",
            "ci",
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    // The sim serves from the first provider in the order it was sent.
    assert_eq!(rows(&out)[0].provider.as_deref(), Some("backupcloud"));
    let opts = summary(&out).run.gateway_options.unwrap();
    assert_eq!(
        opts["order"],
        serde_json::json!(["backupcloud", "anthropic"])
    );
    assert_eq!(opts["user"], "team-a");
    assert_eq!(opts["tags"], serde_json::json!(["ci"]));
}

#[test]
fn budget_stops_the_run_at_the_right_point_and_every_job_is_a_row() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "budget.yaml",
        "name: budget\nmodels: [sim/ttft-5-itl-1-tok-8-jitter-0]\ndefaults:\n  max_tokens: 8\ncases:\n  - id: a\n    prompt: Count to eight.\n",
    );
    let probe = tmp.path().join("probe");
    let res = run_sim(tmp.path(), &suite, &probe, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let per_request = rows(&probe)[0].cost_usd.unwrap();

    let out = tmp.path().join("run");
    let budget = per_request * 4.5;
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &[
            "--repeat",
            "12",
            "--concurrency",
            "1",
            "--max-cost",
            &budget.to_string(),
        ],
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("--max-cost budget was reached"));
    // A failing run says why: spent against the budget.
    let line = format!("of the ${budget:.4} --max-cost budget");
    assert!(
        stdout.contains("budget: spent $") && stdout.contains(&line),
        "{stdout}"
    );
    let all = rows(&out);
    assert_eq!(all.len(), 12, "every planned job is a row");
    let ok: Vec<_> = all.iter().filter(|r| r.status == Status::Ok).collect();
    assert_eq!(ok.len(), 4, "4 requests fit in 4.5 × the cost of one");
    assert!(all
        .iter()
        .filter(|r| r.status != Status::Ok)
        .all(|r| r.status == Status::Skipped && r.error_kind == Some(ErrorKind::BudgetExceeded)));
    let spent: f64 = ok.iter().map(|r| r.cost_usd.unwrap()).sum();
    assert!(spent <= budget);
    assert_eq!(summary(&out).run.stopped_by.as_deref(), Some("budget"));

    let out = tmp.path().join("maxreq");
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &["--repeat", "10", "--max-requests", "3"],
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let all = rows(&out);
    assert_eq!(all.len(), 10);
    assert_eq!(all.iter().filter(|r| r.status == Status::Ok).count(), 3);
}
