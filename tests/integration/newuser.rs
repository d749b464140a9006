//! What a new user trips over, each told plainly: a sim reached through
//! `--gateway` is recorded as simulated, a typo of a known id under `--sim`
//! gets a did-you-mean, a gateway URL without `/v1` gets "add /v1", no
//! command suggests a flag it lacks, errors do not repeat themselves,
//! printed reports end with a newline, and `requests.csv` lists jobs in plan
//! order with costs free of float noise.

use std::time::Duration;

use axum::routing::post;

use crate::common::*;

const KEY: &str = "newuser-test-key";

#[test]
fn a_sim_reached_through_gateway_is_recorded_as_simulated() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "s", &["sim/fast"]);
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        KEY,
        &[suite.to_str().unwrap(), "--out", "run", "--no-history"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(summary(&tmp.path().join("run")).run.simulated);
    // With no catalog fetched, the chat answers say it too.
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        KEY,
        &[
            suite.to_str().unwrap(),
            "--out",
            "run2",
            "--no-history",
            "--no-catalog",
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(summary(&tmp.path().join("run2")).run.simulated);
    assert!(
        String::from_utf8_lossy(&res.stderr).contains("answered as `evalgate sim`"),
        "{}",
        text(&res)
    );
}

#[test]
fn a_typo_of_a_known_id_under_sim_gets_a_did_you_mean() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "s", &["openai/gpt5", "sim/fast"]);
    let res = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("run"),
        &["--no-history"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("`openai/gpt5` is not a known model id (did you mean `openai/gpt-5`?)"),
        "{err}"
    );
    assert!(!err.contains("sim/fast"), "named sims are not typos: {err}");
}

#[test]
fn a_gateway_url_without_v1_is_told_to_add_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let bare = sim.base_url().trim_end_matches("/v1").to_string();
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "s", &["openai/gpt-5"]);
    let res = run_gateway(
        tmp.path(),
        &bare,
        KEY,
        &[suite.to_str().unwrap(), "--out", "run"],
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains(&format!("add /v1 to the gateway URL (--gateway {bare}/v1")),
        "{err}"
    );
    assert_eq!(sim.stats().requests, 0, "nothing sent");

    let res = evalgate(&["models", "--gateway", &bare], tmp.path());
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(
        String::from_utf8_lossy(&res.stderr).contains("add /v1"),
        "{}",
        text(&res)
    );
}

#[test]
fn credits_without_a_key_suggests_no_flag_it_lacks() {
    let tmp = tempfile::tempdir().unwrap();
    let res = evalgate(&["credits"], tmp.path());
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("no API key: set AI_GATEWAY_API_KEY"), "{err}");
    assert!(!err.contains("--sim"), "credits has no --sim: {err}");
}

#[test]
fn a_missing_suite_is_reported_once() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["run", "missing.yaml", "--sim"][..],
        &["validate", "missing.yaml"][..],
    ] {
        let res = evalgate(args, tmp.path());
        assert_eq!(res.status.code(), Some(2), "{}", text(&res));
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    }
}

#[test]
fn printed_reports_end_with_a_newline() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "s", &["sim/fast"]);
    let run = tmp.path().join("run");
    let res = run_sim(tmp.path(), &suite, &run, &["--no-history"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    for format in ["table", "json", "markdown", "junit", "html"] {
        let res = evalgate(&["report", "run", "--format", format], tmp.path());
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
        assert_eq!(res.stdout.last(), Some(&b'\n'), "--format {format}");
    }
}

/// A gateway where `x/slow` answers 400 ms late, so answers complete out of
/// plan order, and every answer costs `0.0004191000000000001` (a sum with
/// float noise, as a gateway's JSON may carry).
async fn out_of_order_gateway() -> String {
    async fn chat(body: String) -> axum::response::Response {
        if body.contains("x/slow") {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        hello_answer("0.0004191000000000001")
    }
    serve(axum::Router::new().route("/v1/chat/completions", post(chat))).await
}

#[test]
fn requests_csv_is_in_job_order_with_no_float_noise() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(out_of_order_gateway());
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "s", &["x/slow", "x/fast"]);
    let (res, rows) = run_no_catalog(
        tmp.path(),
        &url,
        KEY,
        &suite,
        &["--repeat", "3", "--concurrency", "6"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let run = tmp.path().join("run");
    let journal: Vec<u64> = records(&run).iter().map(|r| r.row.job).collect();
    assert_ne!(
        journal,
        (0..6).collect::<Vec<_>>(),
        "answers came out of order"
    );
    let jobs: Vec<u64> = rows.iter().map(|r| r.job).collect();
    assert_eq!(
        jobs,
        (0..6).collect::<Vec<_>>(),
        "requests.csv in job order"
    );
    let csv = std::fs::read_to_string(run.join("requests.csv")).unwrap();
    assert_eq!(csv.matches(",0.0004191,gateway,").count(), 6, "{csv}");
    assert!(!csv.contains("0.0004191000000000001"), "{csv}");
}
