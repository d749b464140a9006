//! `evalgate run` end to end against the sim: files, row counts, timing,
//! cost and token columns, and the errors that stop a run before sending.

use std::collections::HashSet;

use evalgate::record::{CostSource, Status};

use crate::common::*;

#[test]
fn quickstart_writes_every_file_with_one_row_per_job() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let suite = repo().join("suites/quickstart.yaml");
    let res = run_sim(tmp.path(), &suite, &out, &["--repeat", "2"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("SIMULATED"), "banner missing: {stdout}");
    assert!(
        stdout.contains("sim/fast") && stdout.contains("sim/slow"),
        "{stdout}"
    );
    for f in [
        "requests.csv",
        "summary.csv",
        "summary.json",
        "responses.jsonl",
        "report.md",
        "junit.xml",
        "run.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s = evalgate::suite::load(&suite).unwrap();
    let jobs = s.cases.len() * s.models.len() * 2;
    let rows = rows(&out);
    assert_eq!(rows.len(), jobs);
    let keys: HashSet<_> = rows
        .iter()
        .map(|r| (r.case_id.clone(), r.model.clone(), r.repeat))
        .collect();
    assert_eq!(keys.len(), jobs, "every (case, model, repeat) exactly once");
    assert_eq!(records(&out).len(), jobs);
    for r in &rows {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        let (ttft, dur) = (r.ttft_ms.unwrap(), r.duration_ms.unwrap());
        assert!(ttft > 0.0 && dur >= ttft, "{r:?}");
        assert!(r.output_tokens.unwrap() > 0 && r.input_tokens.unwrap() > 0);
        // The sim's generation record has the cost: it wins over the stream's.
        assert_eq!(r.cost_source, CostSource::Generation);
        assert_eq!(r.cost_usd, r.gateway_cost_usd);
        assert!(r.cost_usd.unwrap() > 0.0);
        assert!(r.generation_id.as_deref().unwrap().starts_with("gen_"));
        assert_eq!(r.attempts, 1);
    }
    let summary = summary(&out);
    assert!(summary.run.simulated);
    assert_eq!(summary.models.len(), s.models.len());
    for m in &summary.models {
        assert_eq!(m.requests as usize, s.cases.len() * 2);
        assert!(m.ttft_p50_ms.unwrap() <= m.ttft_p99_ms.unwrap());
    }
    // The slow profile is slower than the fast one: the table compares something.
    let p50 = |id: &str| {
        summary
            .models
            .iter()
            .find(|m| m.model == id)
            .unwrap()
            .ttft_p50_ms
            .unwrap()
    };
    assert!(p50("sim/slow") > 3.0 * p50("sim/fast"));
}

#[test]
fn ttft_matches_the_sims_configured_ttft_under_concurrency() {
    let tmp = tempfile::tempdir().unwrap();
    // A TTFT of 1 s: on two cores loaded by other builds, 30 streams
    // opened at once in a debug build start up to ~100 ms late (measured:
    // the median moved from +10 to +110 ms); against 1 s that stays small,
    // and the bound below can leave room for it.
    let suite = suite_file(
        tmp.path(),
        "ttft.yaml",
        "name: ttft\nmodels: [sim/ttft-1000-itl-3-tok-8-jitter-0]\ncases:\n  - id: a\n    prompt: Say hello.\n  - id: b\n    prompt: Say goodbye.\n",
    );
    let out = tmp.path().join("run");
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &["--repeat", "15", "--concurrency", "30"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let rows = rows(&out);
    assert_eq!(rows.len(), 30);
    let mut ttfts: Vec<f64> = rows.iter().map(|r| r.ttft_ms.unwrap()).collect();
    ttfts.sort_by(f64::total_cmp);
    let p50 = ttfts[ttfts.len() / 2];
    // The sim sleeps to an absolute deadline 1 s after it got the request;
    // the client can only see it later, never earlier.
    assert!(ttfts[0] >= 999.0, "{ttfts:?}");
    // Within a quarter of the TTFT (+250 ms): room for a debug build
    // sharing two loaded cores with other builds (BENCHMARKS.md shows the
    // release figures), still short of what a client that stalls its
    // streams under concurrency (blocking work on the runtime, one reader
    // at a time) would add.
    assert!(
        p50 < 1250.0,
        "median TTFT {p50} ms is far off 1000 ms: {ttfts:?}"
    );
    for r in &rows {
        // 8 tokens, 3 ms apart after the first: duration ≈ 1000 + 7 × 3.
        assert!(r.duration_ms.unwrap() >= 1018.0, "{r:?}");
        assert_eq!(r.output_tokens, Some(8));
    }
}

#[test]
fn tokens_and_cost_columns_equal_what_the_gateway_sent() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let suite = suite_file(
        tmp.path(),
        "cost.yaml",
        "name: cost\nmodels: [sim/cached, sim/reasoning]\ncases:\n  - id: a\n    prompt: Explain the refund policy of a router vendor in two sentences.\n",
    );
    let out = tmp.path().join("run");
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        "test-key-not-secret",
        &[suite.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    // Ask the sim for the same answer directly and compare its usage figures.
    let client = reqwest::Client::new();
    for row in rows(&out) {
        let body = serde_json::json!({
            "model": row.model, "stream": false,
            "messages": [{"role": "user", "content": "Explain the refund policy of a router vendor in two sentences."}]
        });
        let v: serde_json::Value = rt
            .block_on(async {
                client
                    .post(format!("{}/chat/completions", sim.base_url()))
                    .json(&body)
                    .send()
                    .await?
                    .json()
                    .await
            })
            .unwrap();
        let u = &v["usage"];
        assert_eq!(
            row.input_tokens,
            u["prompt_tokens"].as_u64(),
            "{row:?} vs {u}"
        );
        assert_eq!(row.output_tokens, u["completion_tokens"].as_u64());
        assert_eq!(
            row.cached_tokens,
            u["prompt_tokens_details"]["cached_tokens"].as_u64()
        );
        assert_eq!(
            row.reasoning_tokens,
            u["completion_tokens_details"]["reasoning_tokens"].as_u64()
        );
        assert_eq!(row.cost_usd, u["cost"].as_f64());
        assert_eq!(
            row.cost_source,
            CostSource::Generation,
            "same figure, from the record"
        );
    }
    assert!(rows(&out).iter().any(|r| r.cached_tokens.unwrap() > 0));
    assert!(rows(&out).iter().any(|r| r.reasoning_tokens.unwrap() > 0));
    rt.block_on(sim.shutdown());
}

#[test]
fn missing_key_stops_before_anything_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = repo().join("suites/quickstart.yaml");
    let res = evalgate(
        &[
            "run",
            suite.to_str().unwrap(),
            "--gateway",
            "http://127.0.0.1:9/v1",
        ],
        tmp.path(),
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("AI_GATEWAY_API_KEY") && err.contains("--sim"),
        "{err}"
    );
    assert!(
        !tmp.path().join("results").exists(),
        "no run directory for a run that never started"
    );

    let res = evalgate(
        &["run", suite.to_str().unwrap(), "--key-env", "MY_TEAM_KEY"],
        tmp.path(),
    );
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("MY_TEAM_KEY"));
}

#[test]
fn bad_suites_and_flags_exit_2_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = suite_file(
        tmp.path(),
        "bad.yaml",
        "name: bad\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n    asert:\n      - type: contains\n        value: x\n",
    );
    let res = evalgate(&["run", bad.to_str().unwrap(), "--sim"], tmp.path());
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("line 6") && err.contains("assert"),
        "{err}"
    );

    let good = repo().join("suites/quickstart.yaml");
    for flags in [
        ["--concurrency", "0"],
        ["--repeat", "-1"],
        ["--shard", "3/2"],
    ] {
        let res = evalgate(
            &["run", good.to_str().unwrap(), "--sim", flags[0], flags[1]],
            tmp.path(),
        );
        assert_eq!(res.status.code(), Some(2), "{flags:?}: {}", text(&res));
    }
    // An output directory that exists and is not empty is refused.
    let out = tmp.path().join("full");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "x").unwrap();
    let res = evalgate(
        &[
            "run",
            good.to_str().unwrap(),
            "--sim",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing written"
    );
}
