//! Thresholds, the Holm family over a whole comparison, and the renderings,
//! on synthetic runs.

use super::analyze::{compare, Thresholds};
use super::input::RunData;
use super::render;
use crate::metrics::Aggregate;
use crate::record::{ErrorKind, JobKey, RequestRow, ResponseRecord, RunMeta, Status};
use crate::report::RunSummary;
use crate::stats::Verdict;

/// `n` ok rows per model with TTFT `ttft(i)`, plus `errors` failed rows.
fn run(label: &str, models: &[&str], n: usize, ttft: impl Fn(usize) -> f64) -> RunData {
    let mut rows = Vec::new();
    for (mi, model) in models.iter().enumerate() {
        for i in 0..n {
            let key = JobKey {
                job: (i * models.len() + mi) as u64,
                case_index: 0,
                model_index: mi as u32,
                repeat: i as u32,
            };
            let mut r = RequestRow::skipped(key, "s", "c", model, ErrorKind::Cancelled);
            r.status = Status::Ok;
            r.error_kind = None;
            r.ttft_ms = Some(ttft(i));
            r.duration_ms = Some(ttft(i) + 10.0);
            r.output_tokens = Some(10);
            r.cost_usd = Some(0.001);
            r.passed = Some(true);
            rows.push(r);
        }
    }
    let models: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let mut agg = Aggregate::new(&models);
    for r in &rows {
        agg.record(&ResponseRecord::from_row(r.clone()));
    }
    let meta = RunMeta {
        suite: "s".into(),
        suite_hash: "abc".into(),
        models,
        ..RunMeta::default()
    };
    RunData {
        label: label.into(),
        summary: RunSummary::new(meta, &agg),
        rows,
    }
}

/// A spread of values around `m` (deterministic, log-uniform ±20%).
fn spread(m: f64) -> impl Fn(usize) -> f64 {
    move |i| m * (0.8 + 0.4 * ((i * 37 % 61) as f64 / 60.0))
}

#[test]
fn thresholds_default_override_and_refuse() {
    let t = Thresholds::parse(None).unwrap();
    assert_eq!(t.get("ttft_p95", "ttft").relative, Some(0.10));
    assert_eq!(t.get("pass_rate", "pass_rate").absolute_pp, Some(2.0));
    let t = Thresholds::parse(Some("ttft=5%,ttft_p95=20%")).unwrap();
    assert_eq!(t.get("ttft_p50", "ttft").relative, Some(0.05));
    assert_eq!(t.get("ttft_p95", "ttft").relative, Some(0.20));
    for bad in ["latency=5%", "ttft=2pp", "pass_rate=2%", "ttft=10", "ttft"] {
        assert!(Thresholds::parse(Some(bad)).is_err(), "{bad}");
    }
}

#[test]
fn one_family_over_every_model_and_metric() {
    let base = run("a", &["m1", "m2", "gone"], 80, spread(100.0));
    let mut cur = run("b", &["m1", "m2", "new"], 80, spread(100.0));
    // m2 is 40% slower in the current run.
    for r in cur.rows.iter_mut().filter(|r| r.model == "m2") {
        r.ttft_ms = r.ttft_ms.map(|t| t * 1.4);
    }
    let cmp = compare(&base, &cur, &Thresholds::parse(None).unwrap());
    assert_eq!(cmp.only_in_baseline, vec!["gone"]);
    assert_eq!(cmp.only_in_current, vec!["new"]);
    // 2 models × 10 metrics, p99 lacks samples (needs 300): 16 tests.
    assert_eq!(cmp.rows.len(), 20);
    assert_eq!(cmp.family, 16);
    let verdict = |m: &str, metric: &str| {
        cmp.rows
            .iter()
            .find(|r| r.model == m && r.result.metric == metric)
            .unwrap()
            .result
            .verdict
    };
    assert_eq!(verdict("m2", "ttft_p50"), Verdict::Regressed);
    assert_eq!(verdict("m2", "ttft_p95"), Verdict::Regressed);
    assert_eq!(verdict("m1", "ttft_p50"), Verdict::NoSignificantChange);
    assert_eq!(
        verdict("m1", "ttft_p99"),
        Verdict::InsufficientSamples { needed: 300 }
    );
    assert!(cmp.rows.iter().all(|r| r.result.p_adjusted.is_some()
        || matches!(r.result.verdict, Verdict::InsufficientSamples { .. })));
    assert_eq!(cmp.exit_code(), 1);

    let table = render::table(&cmp);
    assert!(
        table.contains("result: REGRESSED — m2 ttft_p50, m2 ttft_p95"),
        "{table}"
    );
    assert!(table.contains("16 tests in one family (α=0.01)"), "{table}");
    assert!(table.contains("only in the baseline (not compared): gone"));
    let md = render::markdown(&cmp);
    assert!(
        md.contains("| m2 | ttft_p50 | 99.7 | 140 | +40.0% |"),
        "{md}"
    );
    let json = serde_json::to_value(render::json(&cmp)).unwrap();
    assert_eq!(json["regressed"], true);
    assert_eq!(json["tests"], 16);
    assert_eq!(json["rows"][2]["verdict"], "insufficient_samples");
    assert_eq!(json["rows"][2]["samples_needed"], 300);
}

#[test]
fn a_small_unproven_shift_says_how_many_samples_would_show_it() {
    let base = run("a", &["m"], 20, spread(100.0));
    let cur = run("b", &["m"], 20, spread(107.0));
    let cmp = compare(&base, &cur, &Thresholds::parse(None).unwrap());
    let p50 = &cmp.rows[0];
    assert_eq!(p50.result.verdict, Verdict::NoSignificantChange);
    let n = p50.samples_for_observed_shift.expect("a hint");
    assert!(n > 20, "{n}");
    assert!(render::table(&cmp).contains(&format!("about {n} per side")));
    assert_eq!(cmp.exit_code(), 0);
}

/// `run` with the first `fails` rows of each model failing their checks.
fn run_with_fails(label: &str, n: usize, fails: usize) -> RunData {
    let mut data = run(label, &["m/a"], n, spread(100.0));
    for r in data.rows.iter_mut().take(fails) {
        r.passed = Some(false);
    }
    let mut agg = Aggregate::new(&["m/a".to_string()]);
    for r in &data.rows {
        agg.record(&ResponseRecord::from_row(r.clone()));
    }
    data.summary = RunSummary::new(data.summary.run.clone(), &agg);
    data
}

#[test]
fn pass_rate_is_paired_mcnemar_on_matching_pairs_and_fisher_otherwise() {
    // 100 cases: 5 fail in the baseline, the same 5 plus 15 more in the
    // current run (15 pass→fail flips, none back).
    let base = run_with_fails("base", 100, 5);
    let cur = run_with_fails("cur", 100, 20);
    let th = Thresholds::parse(None).unwrap();
    let cmp = compare(&base, &cur, &th);
    let pass = cmp
        .rows
        .iter()
        .find(|r| r.result.metric == "pass_rate")
        .unwrap();
    assert_eq!(pass.result.method, "mcnemar-exact");
    assert!((pass.result.p_value - 6.103515625e-05).abs() < 1e-12);
    assert_eq!(pass.result.verdict, Verdict::Regressed);
    let json = serde_json::to_value(render::json(&cmp)).unwrap();
    let row = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "pass_rate")
        .unwrap();
    assert_eq!(row["test"], "mcnemar-exact");

    // One row of the current run is another repeat: pairs do not match.
    let mut partial = cur.clone();
    partial.rows[99].repeat = 1000;
    let cmp = compare(&base, &partial, &th);
    let pass = cmp
        .rows
        .iter()
        .find(|r| r.result.metric == "pass_rate")
        .unwrap();
    assert_eq!(pass.result.method, "fisher-exact");
    assert!(
        cmp.warnings.iter().any(|w| w.contains("unpaired (Fisher")),
        "{:?}",
        cmp.warnings
    );
    // Fisher on the totals cannot flag it inside the family.
    assert_ne!(pass.result.verdict, Verdict::Regressed);
}

#[test]
fn compact_table_fits_80_columns() {
    let long = "sim/ttft-120-itl-1-tok-4-jitter-0.3-with-a-rather-long-suffix";
    let base = run(
        "results/quickstart/20261129T200000Z-baseline",
        &["m/a", long],
        100,
        spread(100.0),
    );
    let cur = run(
        "results/quickstart/20261129T210000Z-current",
        &["m/a", long],
        100,
        spread(130.0),
    );
    let cmp = compare(&base, &cur, &Thresholds::parse(None).unwrap());
    let text = render::compact_table(&cmp, 80);
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{line}\n{text}");
    }
    assert!(
        text.contains("REGRESSED") && text.contains("Mann–Whitney"),
        "{text}"
    );
    assert!(text.contains("sim/ttft-120-itl-1-tok-4-jitter-0.3-with-a-rather-long-suffix"));
    assert!(render::table(&cmp).lines().any(|l| l.chars().count() > 80));
}
