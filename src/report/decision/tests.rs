//! Unit tests of `report::decision`.

use super::*;
use crate::metrics::Aggregate;
use crate::record::{ErrorKind, JobKey, ResponseRecord, RunMeta};

/// 100 cases x `repeats` per model: `a` passes 95, `b` loses 15 of
/// them; `b` is 20% slower per case, `c` is `b` again but cheaper.
fn run(repeats: u32) -> (RunSummary, CaseTable) {
    let models = ["m/a", "m/b", "m/c"];
    let mut rows = Vec::new();
    for (mi, model) in models.iter().enumerate() {
        for case in 0..100u32 {
            for repeat in 0..repeats {
                let key = JobKey {
                    job: 0,
                    case_index: case,
                    model_index: mi as u32,
                    repeat,
                };
                let id = format!("case-{case}");
                let mut r = RequestRow::skipped(key, "s", &id, model, ErrorKind::Cancelled);
                r.status = Status::Ok;
                r.error_kind = None;
                let base = 100.0 + f64::from(case) + f64::from(repeat);
                let slow = if mi == 0 { 1.0 } else { 1.2 };
                r.ttft_ms = Some(base * slow);
                r.duration_ms = Some(base * slow * 3.0);
                r.cost_usd = Some(if mi == 2 { 0.0005 } else { 0.001 });
                let fails = if mi == 0 { case >= 95 } else { case >= 80 };
                // With repeats, case 0 of m/a is flaky.
                let flaky = mi == 0 && case == 0 && repeat == 1;
                r.passed = Some(!(fails || flaky));
                rows.push(r);
            }
        }
    }
    let names: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let mut agg = Aggregate::new(&names);
    let mut table = CaseTable {
        timings: true,
        ..CaseTable::default()
    };
    for r in &rows {
        agg.record(&ResponseRecord::from_row(r.clone()));
        table.record(r);
    }
    let meta = RunMeta {
        models: names,
        ..RunMeta::default()
    };
    (RunSummary::new(meta, &agg), table)
}

#[test]
fn decision_pairs_cases_and_marks_the_pareto_front() {
    let (summary, table) = run(1);
    let d = Decision::build(&summary, &table).unwrap();
    assert_eq!(d.reference, "m/a");
    assert_eq!(d.family, 6, "pass, ttft, duration for two models");
    let b = d.models[1].versus.as_ref().unwrap();
    let pass = b.pass.as_ref().unwrap();
    assert_eq!(pass.method, "mcnemar-exact");
    assert!((pass.change + 15.0).abs() < 1e-9);
    assert_eq!(pass.verdict, Verdict::Regressed);
    assert!((b.ttft.change - 0.2).abs() < 1e-3, "{}", b.ttft.change);
    assert_eq!(b.ttft.verdict, Verdict::Regressed);
    // m/b is worse than m/a on everything: dominated; m/c is cheaper.
    assert_eq!(d.models[0].pareto, Pareto::Front);
    assert_eq!(d.models[1].pareto, Pareto::DominatedBy("m/a".into()));
    assert_eq!(d.models[2].pareto, Pareto::Front);
    let line = d.models[2].line();
    assert!(
        line.starts_with("m/c: pass rate −15.0 pp (95% CI −"),
        "{line}"
    );
    assert!(line.contains(", significant), "), "{line}");
    assert!(line.contains("% cheaper per passing answer"), "{line}");
    assert!(line.contains("(×1.20 per case, significant)"), "{line}");
    assert!(line.ends_with(": on the Pareto front"), "{line}");
    assert!(d.models[1].line().ends_with(": dominated by m/a"));
    assert!(d
        .markdown()
        .starts_with("## Decision\n\n- m/a (reference): on the Pareto front\n"));
}

#[test]
fn repeats_use_pass_fractions_and_list_flaky_cases() {
    let (mut summary, table) = run(3);
    summary.run.options.repeat = 3;
    summary.run.options.reference = Some("m/b".into());
    let d = Decision::build(&summary, &table).unwrap();
    assert_eq!(d.reference, "m/b");
    assert!(d.repeats);
    let a = d.models[0].versus.as_ref().unwrap();
    let pass = a.pass.as_ref().unwrap();
    assert!(pass.method.starts_with("sign-flip"), "{}", pass.method);
    assert_eq!(pass.verdict, Verdict::Improved);
    assert!(d.method().contains("sign-flip permutation"));
    assert_eq!(table.flaky("m/a"), ["case-0"]);
    assert!(table.flaky("m/b").is_empty());
    let mut cases = crate::metrics::CaseOutcomes::default();
    for (model, cells) in &table.models {
        for (i, c) in cells.iter().enumerate() {
            for k in 0..c.checked {
                let key = JobKey {
                    job: 0,
                    case_index: 0,
                    model_index: 0,
                    repeat: k,
                };
                let mut r =
                    RequestRow::skipped(key, "s", &table.cases[i], model, ErrorKind::Cancelled);
                r.passed = Some(k < c.passed);
                cases.record(&r);
            }
        }
    }
    cases.apply(&mut summary.models);
    let md = flaky_markdown(&summary, &table).unwrap();
    assert!(
        md.contains("- m/a: 1 flaky case (pass@3 95.0%, pass^3 94.0%): `case-0`"),
        "{md}"
    );
    let single = RunSummary {
        models: summary.models[..1].to_vec(),
        ..summary.clone()
    };
    assert!(Decision::build(&single, &table).is_none());
}
