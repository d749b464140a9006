//! Shards and `evalgate merge`: three shards merge into exactly the figures
//! of one run over the same samples, every job once; different suites and
//! repeated shards are refused.

use std::collections::BTreeSet;
use std::path::Path;

use evalgate::metrics::Aggregate;
use evalgate::report::RunSummary;

use crate::common::*;
use crate::compare::ok_run;

#[test]
fn three_shards_merge_to_the_unsharded_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut dirs = Vec::new();
    for i in 1..=3 {
        let out = format!("shard{i}");
        let shard = format!("{i}/3");
        dirs.push(ok_run(
            d,
            &out,
            &["-n", "4", "--shard", &shard, "--no-history"],
        ));
    }
    let res = evalgate(
        &["merge", "shard1", "shard2", "shard3", "--out", "merged"],
        d,
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let merged = d.join("merged");
    let summary = summary(&merged);

    // The summary an unsharded run would write: the union of the shards'
    // journal records, joined with their generation records, folded into
    // one aggregate.
    let models: Vec<String> = summary.run.models.clone();
    let mut agg = Aggregate::new(&models);
    for dir in &dirs {
        let first = &summary.run.first_choice;
        for rec in evalgate::generations::join(dir, records(dir).into_iter(), first) {
            agg.record(&rec);
        }
    }
    // Byte-for-byte: the summary.json an unsharded run would write.
    let expected = RunSummary::new(summary.run.clone(), &agg);
    let mut expected_json = serde_json::to_vec_pretty(&expected).unwrap();
    expected_json.push(b'\n');
    let merged_json = std::fs::read(merged.join("summary.json")).unwrap();
    assert_eq!(
        String::from_utf8(merged_json).unwrap(),
        String::from_utf8(expected_json).unwrap()
    );
    assert_eq!(summary.histograms, expected.histograms);
    assert!(summary.models.iter().all(|m| m.ttft_p95_ms.is_some()));

    // Every job of the full plan exactly once.
    let suite = evalgate::suite::load(&d.join("cmp.yaml")).unwrap();
    let total = suite.cases.len() * suite.models.len() * 4;
    let rows = rows(&merged);
    assert_eq!(rows.len(), total);
    let jobs: BTreeSet<u64> = rows.iter().map(|r| r.job).collect();
    assert_eq!(jobs, (0..total as u64).collect::<BTreeSet<_>>());
    assert_eq!(records(&merged).len(), total);
    assert_eq!(summary.run.planned_jobs, total as u64);
    assert_eq!(
        summary.run.options.shard, None,
        "a complete set is unsharded"
    );
    for f in ["summary.csv", "report.md", "junit.xml", "run.json"] {
        assert!(merged.join(f).is_file(), "{f}");
    }
    // The merged run is in the history like any run...
    let res = evalgate(&["trend", "--suite", "cmp", "--csv"], d);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let csv = String::from_utf8_lossy(&res.stdout);
    assert_eq!(
        csv.lines().filter(|l| l.contains(",merged,")).count(),
        2,
        "{csv}"
    );
    // ...and compares like any run.
    let res = evalgate(&["compare", "merged", "merged"], d);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
}

#[test]
fn merge_refuses_different_suites_and_repeated_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok_run(d, "a", &["--shard", "1/2", "--no-history"]);
    ok_run(d, "a2", &["--shard", "1/2", "--seed", "9", "--no-history"]);
    let other = suite_file(
        d,
        "other.yaml",
        "name: other\nmodels: [sim/ttft-20-itl-1-tok-4]\ncases:\n  - {id: a, prompt: hi}\n",
    );
    let res = run_sim(d, &other, Path::new("o"), &["--no-history"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));

    let res = evalgate(&["merge", "a", "o", "--out", "m1"], d);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("cannot merge runs of different suites"),
        "{err}"
    );
    assert!(err.contains("`cmp`") && err.contains("`other`"), "{err}");

    let res = evalgate(&["merge", "a", "a2", "--out", "m2"], d);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stderr).contains("shard 1/2 is given twice"));

    // Repeated unsharded runs merge: rows add up.
    ok_run(d, "r1", &["--no-history"]);
    ok_run(d, "r2", &["--seed", "3", "--no-history"]);
    let res = evalgate(&["merge", "r1", "r2", "--out", "m3"], d);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let s = summary(&d.join("m3"));
    assert_eq!(s.models[0].requests, 12);
    assert_eq!(rows(&d.join("m3")).len(), 24);
}

#[test]
fn an_incomplete_shard_set_merges_only_as_a_partial_run_and_is_never_a_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok_run(d, "whole", &["-n", "3"]);
    ok_run(d, "s1", &["-n", "3", "--shard", "1/3"]);
    ok_run(d, "s2", &["-n", "3", "--shard", "2/3"]);

    let res = evalgate(&["merge", "s1", "s2", "--out", "m"], d);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("only shards 1/3, 2/3 of 3 were given (missing 3/3)"),
        "{err}"
    );
    assert!(err.contains("--allow-partial"), "{err}");
    assert!(!d.join("m").join("summary.json").exists());

    let res = evalgate(&["merge", "s1", "s2", "--out", "m", "--allow-partial"], d);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("merged 2 runs into m/"), "{out}");
    assert!(out.contains("marked partial: shards 3/3 missing"), "{out}");
    let partial = summary(&d.join("m")).run;
    assert_eq!(
        partial.stopped_by.as_deref(),
        Some("partial: shards 3/3 missing")
    );

    let res = evalgate(&["merge", "whole", "--out", "one", "--no-history"], d);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(
        String::from_utf8_lossy(&res.stdout).contains("merged 1 run into one/"),
        "{}",
        text(&res)
    );

    // `last` skips the shards and the partial merge, and names the run
    // by its directory.
    ok_run(d, "current", &["-n", "3", "--no-history"]);
    let res = evalgate(&["compare", "last", "current"], d);
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("baseline: whole"), "{}", text(&res));
}
