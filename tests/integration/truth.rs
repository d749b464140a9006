//! Gateway truth: the sim's generation records, endpoints, fallbacks and
//! prefix cache over real HTTP; a run joins each row with its record
//! (gateway cost, latency, provider), marks fallback rows and leaves them out
//! of the latency figures.

use std::path::Path;
use std::time::Duration;

use evalgate::record::CostSource;
use evalgate::sim::SimConfig;
use serde_json::{json, Value};

use crate::common::*;

async fn chat(base: &str, model: &str, prompt: &str) -> String {
    let body = json!({"model": model, "stream": true,
        "messages": [{"role": "user", "content": prompt}]});
    reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The last `data:` JSON event before `[DONE]` (finish + usage).
fn last_event(sse: &str) -> Value {
    let data: Vec<&str> = sse
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .collect();
    serde_json::from_str(data.last().unwrap()).unwrap()
}

async fn get(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn sim_serves_records_after_their_delay_endpoints_fallbacks_and_cache_reads() {
    let server = sim(SimConfig {
        generation_delay: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let base = server.base_url();
    let last = last_event(&chat(&base, "sim/fast", "hello").await);
    let id = last["id"].as_str().unwrap().to_string();
    let url = format!("{base}/generation?id={id}");
    let (status, _) = get(&url).await;
    assert_eq!(status, 404, "not yet: the record appears after the delay");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, rec) = get(&url).await;
    assert_eq!(status, 200, "{rec}");
    let d = &rec["data"];
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["provider_name"], "simcloud");
    assert_eq!(d["total_cost"], last["usage"]["cost"]);
    assert_eq!(d["native_tokens_completion"], 48);
    assert!(d["latency"].as_u64().unwrap() >= 30, "{d}");
    assert_eq!(get(&format!("{base}/generation?id=gen_nope")).await.0, 404);

    // A `-fallback` model is served by the second provider and says so.
    let fb = last_event(&chat(&base, "sim/fast-fallback", "hello").await);
    let routing = &fb["provider_metadata"]["gateway"]["routing"];
    assert_eq!(routing["finalProvider"], "backupcloud");
    assert_eq!(routing["attempts"].as_array().unwrap().len(), 2);

    let (status, ep) = get(&format!("{base}/models/sim/fast/endpoints")).await;
    assert_eq!(status, 200);
    let eps = ep["data"]["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0]["provider_name"], "simcloud");
    assert_eq!(eps[0]["ttft_p50_ms"], 40.0);

    // A long prompt sent twice: the second answer reads it from cache.
    let long = "lorem ipsum ".repeat(600);
    let first = last_event(&chat(&base, "sim/fast", &long).await);
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    assert!(
        first["usage"]["cache_creation_input_tokens"]
            .as_u64()
            .unwrap()
            >= 1024
    );
    let again = last_event(&chat(&base, "sim/fast", &long).await);
    let prompt = again["usage"]["prompt_tokens"].as_u64().unwrap();
    assert_eq!(
        again["usage"]["prompt_tokens_details"]["cached_tokens"],
        prompt
    );
    assert!(
        again["usage"]["cost"].as_f64().unwrap() < first["usage"]["cost"].as_f64().unwrap(),
        "cache reads are cheaper"
    );
}

const SUITE: &str = r#"
name: truth
models: [sim/fast, sim/fast-fallback]
cases:
  - {id: a, prompt: "first question"}
  - {id: b, prompt: "second question"}
"#;

fn run(d: &Path, out: &str, extra: &[&str]) {
    let suite = suite_file(d, "truth.yaml", SUITE);
    let mut args = vec!["-n", "3", "--no-history", "--sim-generation-delay", "100ms"];
    args.extend_from_slice(extra);
    let res = run_sim(d, &suite, Path::new(out), &args);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
}

#[test]
fn a_run_joins_generation_records_and_leaves_fallbacks_out_of_latency() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    run(d, "r", &[]);
    let rows = rows(&d.join("r"));
    assert_eq!(rows.len(), 12);
    for r in &rows {
        assert_eq!(r.cost_source, CostSource::Generation, "{r:?}");
        assert_eq!(r.cost_usd, r.gateway_cost_usd);
        let (ours, theirs) = (r.ttft_ms.unwrap(), r.gateway_latency_ms.unwrap());
        let overhead = r.client_overhead_ms.unwrap();
        assert!((overhead - (ours - theirs)).abs() < 0.01, "{r:?}");
        assert!(!r.cost_mismatch);
        let fallback = r.model.ends_with("-fallback");
        assert_eq!(r.fallback, fallback, "{r:?}");
        let served = if fallback { "backupcloud" } else { "simcloud" };
        assert_eq!(r.served_by.as_deref(), Some(served));
        if fallback {
            assert_eq!(r.fallback_chain.as_deref(), Some("simcloud>backupcloud"));
        }
    }
    let s = summary(&d.join("r"));
    let (fast, fb) = (&s.models[0], &s.models[1]);
    assert_eq!((fast.fallbacks, fb.fallbacks), (0, 6));
    assert!(fast.ttft_p50_ms.is_some());
    assert_eq!(
        fb.ttft_p50_ms, None,
        "fallback rows are not latency samples"
    );
    assert_eq!(fb.ok, 6);
    assert!(fb.cost_usd.is_some(), "their cost still counts");
    assert_eq!(s.models[0].cost_sources.get("generation"), Some(&6));
    let report = std::fs::read_to_string(d.join("r/report.md")).unwrap();
    assert!(
        report.contains("fallbacks: 6 of 6 rows of sim/fast-fallback"),
        "{report}"
    );

    run(d, "incl", &["--include-fallbacks"]);
    let s = summary(&d.join("incl"));
    assert!(s.models[1].ttft_p50_ms.unwrap() > s.models[0].ttft_p50_ms.unwrap());

    run(d, "off", &["--no-lookup"]);
    assert!(!d.join("off/generations.jsonl").exists());
    let rows = crate::common::rows(&d.join("off"));
    assert!(rows
        .iter()
        .all(|r| r.cost_source == CostSource::Gateway && r.gateway_latency_ms.is_none()));
    assert!(
        rows.iter().filter(|r| r.fallback).count() == 6,
        "the stream's routing marks fallbacks without a record"
    );
}

/// A provider order is held per model to the providers that serve it (the
/// sim's endpoints list `simcloud` and `backupcloud` for every model):
/// `bedrock`, which serves none, is skipped by the sim and by the rule, so
/// `sim/fast` served by `backupcloud` is no fallback; `sim/fast-fallback`,
/// whose first choice `backupcloud` fails, is one. An order none of whose
/// providers serves the model does not concern it.
#[test]
fn a_provider_order_is_held_to_the_providers_that_serve_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let suite = suite_file(
        d,
        "order.yaml",
        "name: order\nmodels: [sim/fast, sim/fast-fallback]\ngateway: {order: [bedrock, backupcloud]}\ncases:\n  - {id: a, prompt: one}\n  - {id: b, prompt: two}\n",
    );
    let go = |out: &str, extra: &[&str]| {
        let mut args = vec!["--no-history", "--sim-generation-delay", "50ms"];
        args.extend_from_slice(extra);
        let res = run_sim(d, &suite, Path::new(out), &args);
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
        rows(&d.join(out))
    };
    let rows = go("r", &[]);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        if r.model == "sim/fast" {
            assert_eq!(r.served_by.as_deref(), Some("backupcloud"), "{r:?}");
            assert!(!r.fallback, "{r:?}");
        } else {
            assert_eq!(r.served_by.as_deref(), Some("simcloud"), "{r:?}");
            assert_eq!(r.fallback_chain.as_deref(), Some("backupcloud>simcloud"));
        }
    }
    let s = summary(&d.join("r"));
    let first = &s.run.first_choice;
    assert_eq!(first["sim/fast"], "backupcloud", "{first:?}");
    assert_eq!((s.models[0].fallbacks, s.models[1].fallbacks), (0, 2));
    assert!(s.models[0].ttft_p50_ms.is_some());

    // No provider of the order serves these models: no first choice.
    let rows = go("none", &["--provider-order", "bedrock,vertex"]);
    let plain: Vec<_> = rows.iter().filter(|r| r.model == "sim/fast").collect();
    assert!(plain.iter().all(|r| !r.fallback), "{plain:?}");
    assert!(summary(&d.join("none")).run.first_choice.is_empty());
}

const CACHED: &str = r#"
name: cached
models: [sim/fast, sim/echo]
cases:
  - id: a
    prompt: "Say hello"
    assert: [{type: max_ttft_ms, value: 60000}]
  - id: b
    prompt: "Say goodbye"
    assert: [{type: icontains, value: "goodbye"}]
"#;

/// `--cache record` then `--cache replay`: the replay sends nothing (the
/// sim counts no chat request), every row is `cached`, out of latency and
/// cost, and its exit code comes from the checks run again — a changed check
/// changes only the checks. `--strict` refuses a plan with a miss.
#[tokio::test(flavor = "multi_thread")]
async fn replay_sends_nothing_and_runs_the_checks_again() {
    let server = sim(SimConfig {
        generation_delay: Duration::from_millis(50),
        ..SimConfig::default()
    })
    .await;
    let url = server.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_path_buf();
    let suite = suite_file(&d, "cached.yaml", CACHED);
    let s = suite.to_str().unwrap().to_string();
    let go = move |out: &str, extra: &[&str]| {
        let mut args = vec![s.as_str(), "--no-history", "-n", "2", "--out", out];
        args.extend_from_slice(extra);
        run_gateway(&d, &url, "sk-cache-test-key-123", &args)
    };
    let go2 = go.clone();
    let res = tokio::task::spawn_blocking(move || go2("rec", &["--cache", "record"]))
        .await
        .unwrap();
    // sim/fast's words never say goodbye: one check fails either way.
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let sent = server.stats().requests;
    assert_eq!(sent, 8);
    let cache = tmp.path().join("results/cache");
    let stored: Vec<_> = walk(&cache);
    assert_eq!(stored.len(), 8, "{stored:?}");
    for f in &stored {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains("sk-cache-test-key-123"), "{f:?}");
    }

    let go2 = go.clone();
    let res = tokio::task::spawn_blocking(move || go2("rep", &["--cache", "replay", "--strict"]))
        .await
        .unwrap();
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    assert_eq!(server.stats().requests, sent, "replay sends 0 requests");
    let rec_rows = rows(&tmp.path().join("rec"));
    let rep_rows = rows(&tmp.path().join("rep"));
    assert_eq!(rep_rows.len(), 8);
    assert!(rep_rows.iter().all(|r| r.cached), "{rep_rows:?}");
    for r in &rep_rows {
        let was = rec_rows.iter().find(|x| x.job == r.job).unwrap();
        assert_eq!(
            (r.passed, &r.failed_checks),
            (was.passed, &was.failed_checks)
        );
        assert_eq!(r.output_tokens, was.output_tokens);
    }
    let sm = summary(&tmp.path().join("rep"));
    for m in &sm.models {
        assert_eq!(m.replayed, 4);
        assert_eq!(m.ttft_p50_ms, None, "replayed rows are not latency samples");
        assert_eq!(m.cost_usd, None, "nothing was spent");
        assert!(m.replay_saved_usd.unwrap() > 0.0);
    }
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(
        out.contains("4 replayed") || out.contains("8 replayed"),
        "{out}"
    );

    // Only the check changed: the same answers, now all passing.
    std::fs::write(
        &suite,
        CACHED.replace(
            r#"[{type: icontains, value: "goodbye"}]"#,
            r#"[{type: max_ttft_ms, value: 60000}]"#,
        ),
    )
    .unwrap();
    let go2 = go.clone();
    let res = tokio::task::spawn_blocking(move || go2("rep2", &["--cache", "replay"]))
        .await
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(server.stats().requests, sent);

    // A new prompt is a miss: --strict refuses before sending anything.
    std::fs::write(&suite, CACHED.replace("Say goodbye", "Say farewell")).unwrap();
    let go2 = go.clone();
    let res = tokio::task::spawn_blocking(move || go2("rep3", &["--cache", "replay", "--strict"]))
        .await
        .unwrap();
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(
        text(&res).contains("4 of 8 requests are not in"),
        "{}",
        text(&res)
    );
    assert_eq!(server.stats().requests, sent);
    // Without --strict the misses are sent (and stored).
    let res = tokio::task::spawn_blocking(move || go("rep4", &["--cache", "replay"]))
        .await
        .unwrap();
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    assert_eq!(server.stats().requests, sent + 4);
    assert_eq!(walk(&cache).len(), 12);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `models --endpoints`: the gateway's per-provider figures, then evalgate's
/// own from the history's latest run of the model.
#[test]
fn models_endpoints_shows_providers_next_to_the_last_measured_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let show = || {
        let res = evalgate(&["models", "--sim", "--endpoints", "sim/fast"], d);
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
        String::from_utf8(res.stdout).unwrap()
    };
    let before = show();
    assert!(
        before.contains("simcloud") && before.contains("backupcloud"),
        "{before}"
    );
    assert!(
        before.contains("no run of sim/fast in the history"),
        "{before}"
    );
    let suite = suite_file(d, "truth.yaml", SUITE);
    let res = run_sim(d, &suite, Path::new("r"), &["--no-lookup"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let after = show();
    let p50 = summary(&d.join("r")).models[0].ttft_p50_ms.unwrap();
    assert!(after.contains("evalgate (run"), "{after}");
    assert!(after.contains(&format!("{p50:.0}")), "{after}");
}

/// `--rerun-failed`: a new run of only the failed jobs; the passed rows are
/// carried over (marked), so the new directory holds every job of the plan.
#[test]
fn rerun_failed_sends_only_the_failures_and_carries_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let suite = suite_file(
        d,
        "rr.yaml",
        "name: rr\nmodels: [sim/fast, sim/fast+500]\ncases:\n  - {id: a, prompt: one}\n  - {id: b, prompt: two}\n",
    );
    let res = run_sim(
        d,
        &suite,
        Path::new("first"),
        &["-n", "2", "--max-retries", "0", "--no-history"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let first = rows(&d.join("first"));
    let res = evalgate(
        &[
            "run",
            "--rerun-failed",
            "first",
            "--out",
            "again",
            "--no-progress",
            "--no-history",
        ],
        d,
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let again = rows(&d.join("again"));
    assert_eq!(again.len(), first.len(), "every job of the original");
    let carried: Vec<_> = again.iter().filter(|r| r.carried).collect();
    assert_eq!(carried.len(), 4);
    for r in &carried {
        assert_eq!(r.model, "sim/fast");
        let was = first.iter().find(|x| x.job == r.job).unwrap();
        assert_eq!(
            r.generation_id, was.generation_id,
            "the same answer, not sent again"
        );
    }
    let sent: Vec<_> = again.iter().filter(|r| !r.carried).collect();
    assert_eq!(sent.len(), 4);
    assert!(sent
        .iter()
        .all(|r| r.model == "sim/fast+500" && r.error_kind.is_some()));
    let s = summary(&d.join("again"));
    assert_eq!((s.models[0].ok, s.models[1].errors), (4, 4), "a whole run");
    let journal = std::fs::read_to_string(d.join("again/responses.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 8);
}

/// Cache strategy per model: the share of input read from cache and what
/// it saved against uncached prices (sim/cached reads half of every prompt).
#[test]
fn the_summary_says_how_much_the_prompt_cache_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let suite = suite_file(
        d,
        "c.yaml",
        "name: c\nmodels: [sim/cached, sim/fast]\ncases:\n  - {id: a, prompt: \"a prompt long enough to have some tokens in it\"}\n",
    );
    let res = run_sim(
        d,
        &suite,
        Path::new("r"),
        &["-n", "3", "--no-history", "--no-lookup"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let s = summary(&d.join("r"));
    let cached = &s.models[0];
    assert!(
        (0.4..=0.5).contains(&cached.cache_read_share.unwrap()),
        "{cached:?}"
    );
    // sim/cached: input $1.25/M, cache read $0.125/M.
    let expected = cached.cached_tokens as f64 * (1.25 - 0.125) / 1e6;
    assert!(
        (cached.cache_saved_usd.unwrap() - expected).abs() < 1e-12,
        "{cached:?}"
    );
    assert_eq!(s.models[1].cache_saved_usd, None, "sim/fast reads no cache");
    assert!(String::from_utf8_lossy(&res.stdout).contains("prompt cache: sim/cached read"));
}
