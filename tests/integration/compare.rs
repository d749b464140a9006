//! `evalgate compare` and `run --baseline` against sim runs: A/A runs are
//! quiet across seeds, a +30% TTFT run and a costlier run are flagged, too
//! few samples say so, and bad input exits 2.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::*;

/// Six cases × two models; with `-n 10`, 60 samples per model. The
/// log-normal jitter of 0.3 is what real models show, and it keeps an A/A
/// comparison quiet when a loaded CI machine adds a few ms to some requests;
/// TTFTs of 120–200 ms keep that machine noise small against a +30% shift.
pub const SUITE: &str = r#"
name: cmp
models: [sim/ttft-200-itl-1-tok-4-jitter-0.3, sim/ttft-120-itl-1-tok-4-jitter-0.3]
cases:
  - {id: a, prompt: "alpha question"}
  - {id: b, prompt: "beta question"}
  - {id: c, prompt: "gamma question"}
  - {id: d, prompt: "delta question"}
  - {id: e, prompt: "epsilon question"}
  - {id: f, prompt: "zeta question"}
"#;

/// `evalgate run <suite> --sim --no-progress --out <out> <extra>` in `dir`.
pub fn sim_run(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let suite = dir.join("cmp.yaml");
    if !suite.exists() {
        suite_file(dir, "cmp.yaml", SUITE);
    }
    run_sim(dir, &suite, Path::new(out), extra)
}

/// A run that must succeed; returns its directory.
pub fn ok_run(dir: &Path, out: &str, extra: &[&str]) -> PathBuf {
    let res = sim_run(dir, out, extra);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    dir.join(out)
}

fn compare_json(dir: &Path, base: &str, cur: &str) -> (Option<i32>, Value) {
    let res = evalgate(&["compare", base, cur, "--format", "json"], dir);
    let json = serde_json::from_slice(&res.stdout)
        .unwrap_or_else(|e| panic!("compare JSON: {e}\n{}", text(&res)));
    (res.status.code(), json)
}

fn verdict<'a>(json: &'a Value, model: &str, metric: &str) -> &'a Value {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == model && r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row {model} {metric} in {json:#}"))
}

/// Runs made at the same time, so a busy CI machine slows them alike: the
/// compared runs see the same load, as two runs of a real suite in one
/// CI job would not, but as a test must to be honest about the statistics.
pub fn ok_runs(dir: &Path, runs: &[(&str, &[&str])]) {
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(out, extra)| s.spawn(move || ok_run(dir, out, extra)))
            .collect();
        for h in handles {
            h.join().expect("run thread");
        }
    });
}

#[test]
fn same_profile_runs_show_no_significant_change_across_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let common = ["-n", "10", "--no-history", "--seed"];
    let args: Vec<Vec<&str>> = ["1", "2", "3", "4"]
        .iter()
        .map(|seed| common.iter().copied().chain([*seed]).collect())
        .collect();
    ok_runs(
        d,
        &[
            ("base", &args[0]),
            ("cur2", &args[1]),
            ("cur3", &args[2]),
            ("cur4", &args[3]),
        ],
    );
    for out in ["cur2", "cur3", "cur4"] {
        let (code, json) = compare_json(d, "base", out);
        let flagged: Vec<_> = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["verdict"] == "regressed" || r["verdict"] == "improved")
            .collect();
        assert!(flagged.is_empty(), "{out}: {flagged:#?}");
        assert_eq!(code, Some(0), "{out}: {json:#}");
        assert_eq!(json["method"], evalgate::stats::METHOD);
        assert_eq!(json["regressed"], false);
        // 2 models × (p50, p95 for ttft and duration, cost, tokens, errors); p99 lacks samples.
        assert_eq!(json["tests"], 14, "{json:#}");
        let p99 = verdict(&json, "sim/ttft-200-itl-1-tok-4-jitter-0.3", "ttft_p99");
        assert_eq!(p99["verdict"], "insufficient_samples");
        assert_eq!(p99["samples_needed"], 300);
    }
}

/// [`SUITE`] with TTFTs twice as long (400 and 240 ms): a loaded machine
/// adds its scheduling delay to both sides of a comparison, which shrinks
/// a relative shift and blurs it; against longer TTFTs that delay counts
/// for half as much.
const SLOW_SUITE_MODELS: [&str; 2] = [
    "sim/ttft-400-itl-1-tok-4-jitter-0.3",
    "sim/ttft-240-itl-1-tok-4-jitter-0.3",
];

#[test]
fn slower_ttft_and_higher_cost_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let [long, short] = SLOW_SUITE_MODELS;
    suite_file(
        d,
        "cmp.yaml",
        &SUITE
            .replace("sim/ttft-200-itl-1-tok-4-jitter-0.3", long)
            .replace("sim/ttft-120-itl-1-tok-4-jitter-0.3", short),
    );
    // 240 samples per model and side: with log-σ 0.3 a +30% median shift
    // is then ~7 standard errors, flagged every time after Holm (at 60 it
    // is ~4 and missed about one run in three). The costly run is as long
    // as the others, so all three see the same load from start to end.
    ok_runs(
        d,
        &[
            ("base", &["-n", "40", "--seed", "1", "--no-history"]),
            (
                "slow",
                &[
                    "-n",
                    "40",
                    "--seed",
                    "2",
                    "--sim-ttft-scale",
                    "1.3",
                    "--no-history",
                ],
            ),
            (
                "costly",
                &[
                    "-n",
                    "40",
                    "--seed",
                    "5",
                    "--sim-cost-scale",
                    "1.2",
                    "--no-history",
                ],
            ),
        ],
    );
    let (code, json) = compare_json(d, "base", "slow");
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(json["regressed"], true);
    let p50 = |run: &str, model: &str| {
        summary(&d.join(run))
            .models
            .iter()
            .find(|m| m.model == model)
            .and_then(|m| m.ttft_p50_ms)
            .unwrap()
    };
    for model in SLOW_SUITE_MODELS {
        let row = verdict(&json, model, "ttft_p50");
        assert_eq!(row["verdict"], "regressed", "{row:#}");
        let change = row["change"].as_f64().unwrap();
        // +30% from the sim, less what load added to both sides alike.
        assert!((0.1..0.5).contains(&change), "{row:#}");
        // The estimate agrees with the two runs' own medians.
        let measured = p50("slow", model) / p50("base", model) - 1.0;
        assert!(
            (change - measured).abs() < 0.1,
            "change {change}, medians say {measured}: {row:#}"
        );
        assert_eq!(
            verdict(&json, model, "cost_per_request")["verdict"],
            "no_significant_change"
        );
    }

    // The table says the same in words, and names the method.
    let res = evalgate(&["compare", "base", "slow"], d);
    assert_eq!(res.status.code(), Some(1));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(
        out.contains("REGRESSED") && out.contains("Mann–Whitney"),
        "{out}"
    );
    let md = evalgate(&["compare", "base", "slow", "--format", "markdown"], d);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains(&format!("| {long} | ttft_p50 |")), "{md}");

    let res = evalgate(
        &[
            "compare", "base", "slow", "--format", "html", "-o", "cmp.html",
        ],
        d,
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let html = std::fs::read_to_string(d.join("cmp.html")).unwrap();
    assert!(html.contains("<tr class=\"regressed\">"), "{html}");
    assert!(html.contains("ttft_p50") && html.contains("Mann–Whitney"));

    // run --baseline gates with the same rules; the worse code wins. These
    // runs follow the baseline rather than run beside it, so the effect is
    // made large (2×) and the no-regression case passes a loose threshold:
    // what is tested here is the wiring, not the statistics.
    let res = sim_run(
        d,
        "slow2",
        &[
            "-n",
            "10",
            "--seed",
            "3",
            "--sim-ttft-scale",
            "2",
            "--baseline",
            "base",
            "--no-history",
        ],
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).contains("result: REGRESSED"));
    let res = sim_run(
        d,
        "same",
        &[
            "-n",
            "10",
            "--seed",
            "4",
            "--baseline",
            "base",
            "--threshold",
            "ttft=60%,duration=60%",
            "--no-history",
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).contains("result: no regression"));

    // A costlier gateway: cost per request regresses, latency does not.
    let (code, json) = compare_json(d, "base", "costly");
    assert_eq!(code, Some(1));
    let row = verdict(&json, short, "cost_per_request");
    assert_eq!(row["verdict"], "regressed", "{row:#}");
    assert_eq!(
        verdict(&json, short, "ttft_p50")["verdict"],
        "no_significant_change"
    );
}

#[test]
fn too_few_samples_are_reported_not_guessed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Six samples per model: enough for a median, not for a p95 (60).
    let few = [
        "--no-history",
        "--models",
        "sim/ttft-120-itl-1-tok-4-jitter-0.3",
    ];
    ok_run(d, "a", &few);
    ok_run(
        d,
        "b",
        &[
            "--no-history",
            "--seed",
            "7",
            "--models",
            "sim/ttft-120-itl-1-tok-4-jitter-0.3,sim/ttft-20-itl-1-tok-4",
        ],
    );
    let (code, json) = compare_json(d, "a", "b");
    assert_eq!(code, Some(0), "{json:#}");
    let p50 = verdict(&json, "sim/ttft-120-itl-1-tok-4-jitter-0.3", "ttft_p50");
    assert_eq!(p50["n_baseline"], 6);
    let p95 = verdict(&json, "sim/ttft-120-itl-1-tok-4-jitter-0.3", "ttft_p95");
    assert_eq!(p95["verdict"], "insufficient_samples");
    assert_eq!(p95["samples_needed"], 60);
    assert_eq!(json["only_in_current"][0], "sim/ttft-20-itl-1-tok-4");
    let res = evalgate(&["compare", "a", "b", "--wide"], d);
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("insufficient samples: need 60"), "{out}");
    // The default table fits the terminal and says it shorter.
    let res = evalgate(&["compare", "a", "b"], d);
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("too few: need 60"), "{out}");
    assert!(
        out.contains("only in the current run (not compared): sim/ttft-20-itl-1-tok-4"),
        "{out}"
    );

    // A single case, once: even the median test says how many it needs.
    let one = suite_file(
        d,
        "one.yaml",
        "name: one\nmodels: [sim/ttft-20-itl-1-tok-4]\ncases:\n  - {id: a, prompt: hi}\n",
    );
    for out in ["o1", "o2"] {
        let res = run_sim(d, &one, Path::new(out), &["--no-history"]);
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    }
    let (code, json) = compare_json(d, "o1", "o2");
    assert_eq!(code, Some(0));
    let p50 = verdict(&json, "sim/ttft-20-itl-1-tok-4", "ttft_p50");
    assert_eq!(p50["verdict"], "insufficient_samples");
    assert_eq!(p50["samples_needed"], 5);
    assert_eq!(
        json["tests"], 1,
        "only the error rate has samples: {json:#}"
    );
}

#[test]
fn bad_input_exits_2_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok_run(d, "a", &["--no-history"]);
    let cases: [(&[&str], &str); 5] = [
        (&["compare", "a", "missing"], "not a finished run directory"),
        (
            &["compare", "a", "a", "--threshold", "ttft=10"],
            "needs a unit",
        ),
        (
            &["compare", "a", "a", "--threshold", "latency=5%"],
            "unknown metric `latency`",
        ),
        (
            &["compare", "a", "a", "--threshold", "ttft=2pp"],
            "takes a relative change",
        ),
        (&["compare", "last", "a"], "no history at"),
    ];
    for (args, expect) in cases {
        let res = evalgate(args, d);
        assert_eq!(res.status.code(), Some(2), "{args:?}: {}", text(&res));
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    // A bad baseline stops `run` before anything is sent.
    let res = sim_run(d, "b", &["--baseline", "nope", "--no-history"]);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(!d.join("b").join("requests.csv").exists());
}
