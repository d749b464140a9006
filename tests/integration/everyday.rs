//! Everyday gateway use: the key from a named variable, credits, offline
//! dry runs of real suites (marked simulated), and `init`.

use std::path::Path;

use evalgate::record::{ErrorKind, Status};
use evalgate::sim::SimConfig;

use crate::common::*;

const KEY: &str = "sk-team-staging-7f3a9c";

fn all_output_text(dir: &std::path::Path, out: &std::process::Output) -> String {
    let mut text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for entry in std::fs::read_dir(dir).unwrap() {
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry.unwrap().path()).unwrap(),
        ));
    }
    text
}

#[test]
fn key_comes_from_the_named_variable_and_a_wrong_one_gives_401_with_the_fix() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig {
        required_key: Some(KEY.into()),
        ..SimConfig::default()
    }));
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(tmp.path(), "k.yaml", "name: k\nmodels: [sim/fast]\nkey_env: STAGING_GATEWAY_KEY\ncases:\n  - id: a\n    prompt: hi\n");
    let s = suite.to_str().unwrap();

    // The suite names the variable; the metadata keeps its name, never its value.
    let out = tmp.path().join("ok");
    let res = bin()
        .args([
            "run",
            s,
            "--gateway",
            &sim.base_url(),
            "--no-progress",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("STAGING_GATEWAY_KEY", KEY)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(
        summary(&out).run.key_env.as_deref(),
        Some("STAGING_GATEWAY_KEY")
    );
    assert!(!all_output_text(&out, &res).contains(KEY));

    // --key-env wins over the suite; the wrong key is a 401 row with the hint.
    let out = tmp.path().join("wrong");
    let res = bin()
        .args([
            "run",
            s,
            "--gateway",
            &sim.base_url(),
            "--no-progress",
            "--key-env",
            "PROD_KEY",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("PROD_KEY", "sk-wrong-key-123456")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        res.status.code(),
        Some(3),
        "every request failed: {}",
        text(&res)
    );
    let row = &rows(&out)[0];
    assert_eq!(
        (row.status, row.error_kind, row.attempts),
        (Status::Error, Some(ErrorKind::Auth), 1)
    );
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        stdout.contains("AI_GATEWAY_API_KEY") && stdout.contains("/v1"),
        "hint missing: {stdout}"
    );
    assert!(!all_output_text(&out, &res).contains("sk-wrong-key-123456"));

    // A named variable that is unset names itself.
    let res = bin()
        .args(["run", s, "--gateway", &sim.base_url()])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("STAGING_GATEWAY_KEY"));

    // Without any named variable, VERCEL_OIDC_TOKEN is the fallback.
    let plain = suite_file(
        tmp.path(),
        "p.yaml",
        "name: p\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n",
    );
    let out = tmp.path().join("oidc");
    let res = bin()
        .args([
            "run",
            plain.to_str().unwrap(),
            "--gateway",
            &sim.base_url(),
            "--no-progress",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("VERCEL_OIDC_TOKEN", KEY)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(
        summary(&out).run.key_env.as_deref(),
        Some("VERCEL_OIDC_TOKEN")
    );
    rt.block_on(sim.shutdown());
}

#[test]
fn credits_are_shown_and_a_budget_above_the_balance_warns() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig::default()));
    let tmp = tempfile::tempdir().unwrap();
    let res = bin()
        .args(["credits", "--gateway", &sim.base_url()])
        .env("AI_GATEWAY_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        stdout.contains("$95.50") && stdout.contains("$4.50"),
        "{stdout}"
    );

    // A gateway without the endpoint: a one-line notice, not a failure.
    let res = bin()
        .args([
            "credits",
            "--gateway",
            &format!("http://{}/elsewhere", sim.addr()),
        ])
        .env("AI_GATEWAY_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).contains("no /credits endpoint"));

    let suite = suite_file(
        tmp.path(),
        "c.yaml",
        "name: c\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n",
    );
    let res = bin()
        .args([
            "run",
            suite.to_str().unwrap(),
            "--gateway",
            &sim.base_url(),
            "--no-progress",
            "--max-cost",
            "500",
            "--out",
        ])
        .arg(tmp.path().join("run"))
        .env("AI_GATEWAY_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(
        String::from_utf8_lossy(&res.stderr).contains("below --max-cost"),
        "{}",
        text(&res)
    );
    rt.block_on(sim.shutdown());
}

#[test]
fn a_suite_of_real_model_ids_dry_runs_offline_and_is_marked_simulated() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dry");
    let suite = repo().join("suites/compare-chat.yaml");
    let res = run_sim(tmp.path(), &suite, &out, &[]);
    assert!(
        matches!(res.status.code(), Some(0) | Some(1)),
        "{}",
        text(&res)
    );
    let s = summary(&out);
    assert!(s.run.simulated);
    assert!(s.models.iter().any(|m| m.model == "openai/gpt-5"));
    assert!(
        s.models.iter().all(|m| m.ok == m.requests),
        "every id is served by the sim"
    );
    assert!(String::from_utf8_lossy(&res.stdout).contains("SIMULATED"));
    assert!(std::fs::read_to_string(out.join("report.md"))
        .unwrap()
        .contains("SIMULATED"));
    // judge checks are graded offline too, never left as errors.
    assert!(records(&out)
        .iter()
        .flat_map(|r| &r.checks)
        .any(|c| c.check == "judge"));
    assert!(records(&out)
        .iter()
        .flat_map(|r| &r.checks)
        .filter(|c| c.check == "judge")
        .all(|c| !c.reason.contains("failed")));
}

#[test]
fn init_writes_a_suite_that_validates_and_runs_offline_and_a_workflow() {
    let tmp = tempfile::tempdir().unwrap();
    let res = evalgate(&["init", "project"], tmp.path());
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let project = tmp.path().join("project");
    let workflow = std::fs::read_to_string(project.join(".github/workflows/evals.yml")).unwrap();
    // The action posts the summary and keeps the run (tests in ship.rs).
    assert!(
        workflow.contains(&format!("uses: {}@v", evalgate::build_info::github_slug()))
            && workflow.contains("suite: evals/starter.yaml")
    );
    let res = evalgate(&["validate", "evals/starter.yaml"], &project);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let res = run_sim(
        &project,
        Path::new("evals/starter.yaml"),
        Path::new("run"),
        &[],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(rows(&project.join("run")).len(), 9);
    // A second init refuses to overwrite.
    let res = evalgate(&["init", "project"], tmp.path());
    assert_eq!(res.status.code(), Some(2));
}
