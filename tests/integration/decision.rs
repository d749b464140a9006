//! The switch decision end to end: SLOs and goodput, cost per passing
//! answer, the decision view and failing cases in report.md and on the
//! terminal, flaky cases over repeats, and a table that fits 80 columns.

use std::path::Path;
use std::process::Output;

use evalgate::record::Status;

use crate::common::*;

/// `evalgate run` against the sim with a fixed terminal width.
fn run_cols(dir: &Path, suite: &Path, out: &str, cols: &str, extra: &[&str]) -> Output {
    bin()
        .args(["run", suite.to_str().unwrap(), "--sim", "--out", out])
        .args(extra)
        .env("COLUMNS", cols)
        .current_dir(dir)
        .output()
        .expect("evalgate runs")
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn quickstart_prints_nothing_wider_than_80_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = repo().join("suites/quickstart.yaml");
    let res = run_cols(tmp.path(), &suite, "run", "80", &[]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let (out, err) = (
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr),
    );
    assert!(widest(&out) <= 80, "stdout wider than 80:\n{out}");
    assert!(widest(&err) <= 80, "stderr wider than 80:\n{err}");
    for col in [
        "model",
        "ok/req",
        "pass",
        "TTFT p50",
        "TTFT p95",
        "cost/pass",
    ] {
        assert!(out.contains(col), "{col} missing:\n{out}");
    }
    assert!(!out.contains("dur p95 ms"), "{out}");
    // --wide shows every column, as wide as it takes.
    let res = run_cols(tmp.path(), &suite, "wide", "80", &["--wide"]);
    let wide = String::from_utf8_lossy(&res.stdout);
    assert!(
        wide.contains("dur p95 ms") && wide.contains("grader cost"),
        "{wide}"
    );
    assert!(widest(&wide) > 80);
    // report --format table follows the same rule.
    let res = bin()
        .args(["report", "run", "--format", "table"])
        .env("COLUMNS", "80")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(widest(&String::from_utf8_lossy(&res.stdout)) <= 80);
    let res = bin()
        .args(["report", "run", "--format", "table", "--wide"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&res.stdout).contains("dur p95 ms"));
}

const SLO_SUITE: &str = "name: slo
models: [sim/fast, sim/slow]
slo: {ttft: 250ms}
defaults:
  max_tokens: 16
  assert:
    - type: max_output_tokens
      value: 1000
cases:
  - id: a
    prompt: Say hello.
  - id: b
    prompt: Say goodbye.
  - id: c
    prompt: Say thanks.
";

#[test]
fn slo_met_per_row_and_goodput_per_model() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(tmp.path(), "slo.yaml", SLO_SUITE);
    let out = tmp.path().join("run");
    let res = run_sim(tmp.path(), &suite, &out, &["--repeat", "2"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let rows = rows(&out);
    assert_eq!(rows.len(), 12);
    for r in &rows {
        let met = r.status == Status::Ok && r.ttft_ms.unwrap() <= 250.0;
        assert_eq!(r.slo_met, Some(met), "{r:?}");
    }
    let header = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    assert!(header.lines().next().unwrap().contains(",slo_met,"));
    let s = summary(&out);
    assert_eq!(s.run.options.slo.and_then(|o| o.ttft_ms), Some(250.0));
    for m in &s.models {
        let good = rows
            .iter()
            .filter(|r| r.model == m.model && r.slo_met == Some(true) && r.passed == Some(true))
            .count();
        assert_eq!(m.good_requests as usize, good);
        assert_eq!(m.goodput, Some(good as f64 / 6.0));
        let cost: f64 = rows
            .iter()
            .filter(|r| r.model == m.model)
            .filter_map(|r| r.cost_usd)
            .sum();
        let per_pass = m.cost_per_pass_usd.unwrap();
        assert!((per_pass - cost / m.passed as f64).abs() < 1e-12, "{m:?}");
        assert_eq!(
            (m.pass_at_k, m.pass_all_k, m.flaky_cases),
            (Some(1.0), Some(1.0), 0)
        );
    }
    // sim/slow answers in ~450 ms: it misses the objective.
    assert!(s.models[0].goodput.unwrap() > s.models[1].goodput.unwrap());
    let json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    for field in [
        "\"goodput\"",
        "\"cost_per_pass_usd\"",
        "\"grader_cost_usd\"",
        "\"flaky_cases\"",
        "\"pass_at_k\"",
        "\"pass_all_k\"",
    ] {
        assert!(json.contains(field), "{field} missing");
    }
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("goodput"), "{stdout}");

    // --slo overrides the suite; a malformed one is a usage error.
    let res = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("loose"),
        &["--slo", "ttft=5s,duration=20s"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let loose = summary(&tmp.path().join("loose"));
    assert!(
        loose.models.iter().all(|m| m.goodput == Some(1.0)),
        "{loose:?}"
    );
    let res = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("bad"),
        &["--slo", "ttft=fast"],
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(!tmp.path().join("bad").join("requests.csv").exists());
}

/// 12 cases: sim/slow (~450 ms) fails every `max_ttft_ms: 250`, sim/fast passes.
fn failing_suite(dir: &Path) -> std::path::PathBuf {
    let mut yaml = String::from(
        "name: gate\nmodels: [sim/fast, sim/slow]\ndefaults:\n  max_tokens: 16\n  assert:\n    - type: max_ttft_ms\n      value: 250\ncases:\n",
    );
    for i in 0..12 {
        yaml.push_str(&format!("  - id: case-{i:02}\n    prompt: Question {i}?\n"));
    }
    suite_file(dir, "gate.yaml", &yaml)
}

#[test]
fn a_failing_run_names_its_cases_and_report_md_opens_with_the_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = failing_suite(tmp.path());
    let res = run_cols(tmp.path(), &suite, "run", "80", &["--no-progress"]);
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(widest(&out) <= 80, "{out}");
    assert!(out.contains("sim/slow: 12 failing answers"), "{out}");
    assert!(out.contains(" #0: max_ttft_ms: ttft "), "{out}");
    assert_eq!(out.matches("  case-").count(), 10, "{out}");
    assert!(out.contains("  … and 2 more"), "{out}");
    assert!(out.contains("report.md"), "{out}");
    assert!(
        !out.contains("sim/fast: "),
        "sim/fast passed everything:\n{out}"
    );

    let md = std::fs::read_to_string(tmp.path().join("run/report.md")).unwrap();
    let why = md.find("## Why the run failed").expect("why section");
    let decision = md.find("## Decision").expect("decision section");
    let models = md.find("## Models").unwrap();
    assert!(why < decision && decision < models, "{md}");
    assert!(md.contains("` #0: max_ttft_ms: ttft "), "{md}");
    assert!(
        md.contains("- sim/fast (reference): on the Pareto front"),
        "{md}"
    );
    let line = md
        .lines()
        .find(|l| l.starts_with("- sim/slow: "))
        .expect("a line for sim/slow");
    assert!(
        line.starts_with("- sim/slow: pass rate −100.0 pp (95% CI "),
        "{line}"
    );
    // 12 pass→fail flips: exact McNemar p = 2·0.5¹² ≈ 0.0005, inside a
    // family of 3 tests; TTFT ~11× on every case.
    assert!(line.contains(", significant)"), "{line}");
    assert!(line.contains("p95 TTFT +"), "{line}");
    assert!(line.ends_with(": dominated by sim/fast"), "{line}");
    assert!(md.contains("exact McNemar on per-case outcomes"), "{md}");

    // --reference picks the model the others are compared with.
    let res = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("ref"),
        &["--reference", "sim/slow"],
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let md = std::fs::read_to_string(tmp.path().join("ref/report.md")).unwrap();
    assert!(md.contains("- sim/slow (reference)"), "{md}");
    assert!(md.contains("- sim/fast: pass rate +100.0 pp"), "{md}");
    let html = std::fs::read_to_string(tmp.path().join("ref/report.html")).unwrap();
    assert!(html.find("<h2>Decision</h2>").unwrap() < html.find("<h2>Models</h2>").unwrap());
    let res = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("noref"),
        &["--reference", "sim/nope"],
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stderr).contains("--reference `sim/nope`"));
}

#[test]
fn repeats_report_pass_at_k_and_flaky_cases() {
    let tmp = tempfile::tempdir().unwrap();
    // TTFT of median 100 ms with log-σ 1: a 100 ms limit passes about half
    // the time, so most cases pass on some repeats and fail on others.
    let mut yaml = String::from(
        "name: flaky\nmodels: [sim/ttft-100-itl-1-tok-4-jitter-1.0]\ndefaults:\n  max_tokens: 8\n  assert:\n    - type: max_ttft_ms\n      value: 100\ncases:\n",
    );
    for i in 0..10 {
        yaml.push_str(&format!("  - id: c{i}\n    prompt: Item {i}.\n"));
    }
    let suite = suite_file(tmp.path(), "flaky.yaml", &yaml);
    let out = tmp.path().join("run");
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &["--repeat", "3", "--min-pass-rate", "0"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let rows = rows(&out);
    let m = &summary(&out).models[0];
    let mut flaky = 0;
    let (mut any, mut all) = (0, 0);
    for i in 0..10 {
        let outcomes: Vec<bool> = rows
            .iter()
            .filter(|r| r.case_id == format!("c{i}"))
            .map(|r| r.passed.unwrap())
            .collect();
        assert_eq!(outcomes.len(), 3);
        let passes = outcomes.iter().filter(|p| **p).count();
        flaky += usize::from(passes > 0 && passes < 3);
        any += usize::from(passes > 0);
        all += usize::from(passes == 3);
    }
    assert!(flaky > 0, "no flaky case in {rows:?}");
    assert_eq!(m.flaky_cases as usize, flaky);
    assert_eq!(m.pass_at_k, Some(any as f64 / 10.0));
    assert_eq!(m.pass_all_k, Some(all as f64 / 10.0));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Flaky cases"), "{md}");
    assert!(md.contains(&format!("{flaky} flaky case")), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>Flaky cases</h2>"));
}
