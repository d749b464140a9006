//! The decision view: "should we switch from the reference model to this
//! one?", answered on the same cases of one run.
//!
//! One pass over the finished run's rows (they are on disk; nothing is kept
//! during the run) builds a [`CaseTable`]: per model and case, the checked
//! repeats, the passes and each repeat's TTFT and duration. Memory grows with
//! models × cases × repeats (8 bytes per answer), never with the rest of the
//! row, and only with two models or more (a single model's run keeps the
//! two counters per case that flaky cases need); at most
//! [`TIMINGS_PER_CASE`] repeats of a case are kept, so a million repeats of
//! one case stay small. From it, for every model against the reference:
//!
//! - pass rate: exact McNemar on per-case outcomes (one repeat), or the
//!   paired sign-flip permutation test on per-case pass fractions (repeats);
//! - TTFT and duration: Wilcoxon signed-rank on per-case log ratios (per-case
//!   medians over repeats);
//! - cost per passing answer ratio and goodput difference (from the summary);
//!
//! all tests of the view in one Holm family at [`ALPHA`], and the Pareto
//! front over (pass rate ↑, cost per passing answer ↓, p95 TTFT ↓).

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::metrics::{ModelSummary, RunSummary};
use crate::record::{RequestRow, Status};
use crate::stats::{self, Direction, TestResult, Threshold, Verdict, ALPHA};

/// Flaky case ids listed per model (the count is always complete).
pub const FLAKY_LISTED: usize = 20;

/// Repeats of one case whose timings are kept: the per-case median is
/// that of the first this many answers.
pub const TIMINGS_PER_CASE: usize = 1000;

/// One model's record of one case.
#[derive(Clone, Debug, Default)]
struct CaseCell {
    checked: u32,
    passed: u32,
    ttft_ms: Vec<f32>,
    duration_ms: Vec<f32>,
}

/// Per model, per case: outcomes and (when `timings`) the timings of up to
/// [`TIMINGS_PER_CASE`] repeats.
#[derive(Debug, Default)]
pub struct CaseTable {
    /// Whether TTFT and duration are kept (the decision view needs them).
    timings: bool,
    /// Case ids in first-seen order.
    cases: Vec<String>,
    index: HashMap<String, usize>,
    /// Model ids in first-seen order, then its cells by case index.
    models: Vec<(String, Vec<CaseCell>)>,
}

impl CaseTable {
    /// A table for `summary`'s run: timings only with two models or more.
    pub fn for_run(summary: &RunSummary) -> CaseTable {
        CaseTable {
            timings: summary.models.len() > 1,
            ..CaseTable::default()
        }
    }

    /// Fold one row in.
    pub fn record(&mut self, row: &RequestRow) {
        let case = match self.index.get(&row.case_id) {
            Some(&i) => i,
            None => {
                self.cases.push(row.case_id.clone());
                self.index.insert(row.case_id.clone(), self.cases.len() - 1);
                self.cases.len() - 1
            }
        };
        let m = match self.models.iter().position(|(m, _)| *m == row.model) {
            Some(m) => m,
            None => {
                self.models.push((row.model.clone(), Vec::new()));
                self.models.len() - 1
            }
        };
        let cells = &mut self.models[m].1;
        if cells.len() <= case {
            cells.resize_with(case + 1, CaseCell::default);
        }
        let cell = &mut cells[case];
        if let Some(p) = row.passed {
            cell.checked += 1;
            cell.passed += u32::from(p);
        }
        if self.timings && row.status == Status::Ok && cell.ttft_ms.len() < TIMINGS_PER_CASE {
            if let (Some(t), Some(d)) = (row.ttft_ms, row.duration_ms) {
                cell.ttft_ms.push(t as f32);
                cell.duration_ms.push(d as f32);
            }
        }
    }

    fn cells(&self, model: &str) -> &[CaseCell] {
        self.models
            .iter()
            .find(|(m, _)| m == model)
            .map_or(&[], |(_, c)| c.as_slice())
    }

    /// Case ids of `model` whose checked outcomes differ across repeats, in
    /// case order.
    pub fn flaky(&self, model: &str) -> Vec<&str> {
        self.cells(model)
            .iter()
            .enumerate()
            .filter(|(_, c)| c.passed > 0 && c.passed < c.checked)
            .map(|(i, _)| self.cases[i].as_str())
            .collect()
    }

    /// True when some case of some model was checked more than once.
    fn repeated(&self) -> bool {
        self.models
            .iter()
            .any(|(_, cells)| cells.iter().any(|c| c.checked > 1))
    }
}

fn median_f32(v: &[f32]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s: Vec<f64> = v.iter().map(|x| f64::from(*x)).collect();
    s.sort_unstable_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// Where a model stands on the Pareto front.
#[derive(Clone, Debug, PartialEq)]
pub enum Pareto {
    /// No other model is at least as good on all three and better on one.
    Front,
    /// Dominated by this model.
    DominatedBy(String),
}

/// One model against the reference.
#[derive(Clone, Debug)]
pub struct Versus {
    /// Pass-rate difference (pp) with its paired test; `None` without
    /// checked cases in common.
    pub pass: Option<TestResult>,
    /// Per-case TTFT ratio with Wilcoxon.
    pub ttft: TestResult,
    /// Per-case duration ratio with Wilcoxon.
    pub duration: TestResult,
    /// Cost per passing answer of the model / of the reference.
    pub cost_ratio: Option<f64>,
    /// Goodput difference, percentage points.
    pub goodput_pp: Option<f64>,
    /// p95 TTFT difference, ms.
    pub ttft_p95_ms: Option<f64>,
}

/// One model's line of the decision view.
#[derive(Clone, Debug)]
pub struct ModelDecision {
    pub model: String,
    pub pass_rate: Option<f64>,
    pub cost_per_pass: Option<f64>,
    pub ttft_p95: Option<f64>,
    pub goodput: Option<f64>,
    /// `None` for the reference itself.
    pub versus: Option<Versus>,
    pub pareto: Pareto,
}

/// The decision view of a run with at least two models.
#[derive(Clone, Debug)]
pub struct Decision {
    pub reference: String,
    /// Every model, in run order (the reference included).
    pub models: Vec<ModelDecision>,
    /// Tests in the Holm family.
    pub family: usize,
    /// Whether pass rates were compared as per-case fractions (repeats).
    pub repeats: bool,
}

/// The reference model: `--reference`, else the first model of the run.
pub fn reference(summary: &RunSummary) -> Option<&str> {
    summary
        .run
        .options
        .reference
        .as_deref()
        .filter(|r| summary.models.iter().any(|m| m.model == *r))
        .or_else(|| summary.models.first().map(|m| m.model.as_str()))
}

impl Decision {
    /// The view, or `None` with fewer than two models.
    pub fn build(summary: &RunSummary, table: &CaseTable) -> Option<Decision> {
        if summary.models.len() < 2 {
            return None;
        }
        let reference = reference(summary)?.to_string();
        let ref_summary = summary.models.iter().find(|m| m.model == reference)?;
        let ref_cells = table.cells(&reference);
        let repeats = table.repeated();
        let mut versus: Vec<Option<Versus>> = summary
            .models
            .iter()
            .map(|m| {
                (m.model != reference).then(|| {
                    compare_model(ref_summary, ref_cells, m, table.cells(&m.model), repeats)
                })
            })
            .collect();

        // One Holm family over every test of the view.
        let mut family: Vec<TestResult> = Vec::new();
        for v in versus.iter().flatten() {
            family.extend(v.pass.iter().cloned());
            family.push(v.ttft.clone());
            family.push(v.duration.clone());
        }
        stats::holm(&mut family, ALPHA);
        let size = family
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::InsufficientSamples { .. }))
            .count();
        let mut adjusted = family.into_iter();
        for v in versus.iter_mut().flatten() {
            if v.pass.is_some() {
                v.pass = adjusted.next();
            }
            if let Some(t) = adjusted.next() {
                v.ttft = t;
            }
            if let Some(d) = adjusted.next() {
                v.duration = d;
            }
        }

        let pareto = pareto(&summary.models);
        let models = summary
            .models
            .iter()
            .zip(versus)
            .zip(pareto)
            .map(|((m, versus), pareto)| ModelDecision {
                model: m.model.clone(),
                pass_rate: m.pass_rate,
                cost_per_pass: m.cost_per_pass_usd,
                ttft_p95: m.ttft_p95_ms,
                goodput: m.goodput,
                versus,
                pareto,
            })
            .collect();
        Some(Decision {
            reference,
            models,
            family: size,
            repeats,
        })
    }
}

fn compare_model(
    reference: &ModelSummary,
    ref_cells: &[CaseCell],
    model: &ModelSummary,
    cells: &[CaseCell],
    repeats: bool,
) -> Versus {
    let none = Threshold::default();
    let both = ref_cells.iter().zip(cells);
    let checked: Vec<(&CaseCell, &CaseCell)> = both
        .clone()
        .filter(|(a, b)| a.checked > 0 && b.checked > 0)
        .collect();
    let pass = (!checked.is_empty()).then(|| {
        if repeats {
            let pairs: Vec<(f64, f64)> = checked
                .iter()
                .map(|(a, b)| {
                    (
                        f64::from(a.passed) / f64::from(a.checked),
                        f64::from(b.passed) / f64::from(b.checked),
                    )
                })
                .collect();
            stats::compare_paired_fractions("pass_rate", &pairs, Direction::HigherIsBetter, &none)
        } else {
            let pairs: Vec<(bool, bool)> = checked
                .iter()
                .map(|(a, b)| (a.passed > 0, b.passed > 0))
                .collect();
            stats::compare_paired_binary("pass_rate", &pairs, Direction::HigherIsBetter, &none)
        }
    });
    let timing = |name: &str, get: fn(&CaseCell) -> &[f32]| {
        let pairs: Vec<(f64, f64)> = both
            .clone()
            .filter_map(|(a, b)| Some((median_f32(get(a))?, median_f32(get(b))?)))
            .collect();
        stats::compare_paired_ratio(name, &pairs, Direction::LowerIsBetter, &none)
    };
    Versus {
        pass,
        ttft: timing("ttft", |c| &c.ttft_ms),
        duration: timing("duration", |c| &c.duration_ms),
        cost_ratio: match (model.cost_per_pass_usd, reference.cost_per_pass_usd) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        },
        goodput_pp: model
            .goodput
            .zip(reference.goodput)
            .map(|(a, b)| (a - b) * 100.0),
        ttft_p95_ms: model
            .ttft_p95_ms
            .zip(reference.ttft_p95_ms)
            .map(|(a, b)| a - b),
    }
}

/// Each model's place on the front over (pass rate ↑, cost per passing
/// answer ↓, p95 TTFT ↓). A missing figure counts as the worst; pass rate
/// is left out when no model was checked.
fn pareto(models: &[ModelSummary]) -> Vec<Pareto> {
    let any_checked = models.iter().any(|m| m.pass_rate.is_some());
    let key = |m: &ModelSummary| {
        [
            if any_checked {
                -m.pass_rate.unwrap_or(f64::NEG_INFINITY)
            } else {
                0.0
            },
            m.cost_per_pass_usd
                .or(if any_checked {
                    None
                } else {
                    m.cost_per_request_usd
                })
                .unwrap_or(f64::INFINITY),
            m.ttft_p95_ms.unwrap_or(f64::INFINITY),
        ]
    };
    let keys: Vec<[f64; 3]> = models.iter().map(key).collect();
    let dominates = |a: &[f64; 3], b: &[f64; 3]| {
        a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
    };
    keys.iter()
        .map(|k| {
            keys.iter()
                .position(|o| dominates(o, k))
                .map_or(Pareto::Front, |i| {
                    Pareto::DominatedBy(models[i].model.clone())
                })
        })
        .collect()
}

fn significance(r: &TestResult) -> &'static str {
    match r.verdict {
        Verdict::Improved | Verdict::Regressed => "significant",
        Verdict::NoSignificantChange => "not significant",
        Verdict::InsufficientSamples { .. } => "too few cases to test",
    }
}

/// A signed number with a real minus sign.
fn signed(v: f64, decimals: usize) -> String {
    let text = format!("{:+.*}", decimals, v);
    text.replacen('-', "−", 1)
}

impl ModelDecision {
    /// The model's verdict in words, e.g. "google/x: pass rate −1.0 pp (95%
    /// CI −4.1..+2.1, not significant), 38% cheaper per passing answer, p95
    /// TTFT +120 ms (significant): on the Pareto front".
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        let Some(v) = &self.versus else {
            return format!("{} (reference){}", self.model, self.front_words());
        };
        match &v.pass {
            Some(p) => {
                let ci = p.ci.map_or_else(String::new, |(lo, hi)| {
                    format!("95% CI {}..{}, ", signed(lo, 1), signed(hi, 1))
                });
                parts.push(format!(
                    "pass rate {} pp ({ci}{})",
                    signed(p.change, 1),
                    significance(p)
                ));
            }
            None => parts.push("pass rate not compared (no checked cases in common)".into()),
        }
        if let Some(r) = v.cost_ratio {
            let pct = (r - 1.0) * 100.0;
            parts.push(if pct.abs() < 0.5 {
                "the same cost per passing answer".into()
            } else if pct < 0.0 {
                format!("{:.0}% cheaper per passing answer", -pct)
            } else if r >= 2.0 {
                format!("{r:.1}× the cost per passing answer")
            } else {
                format!("{pct:.0}% costlier per passing answer")
            });
        }
        let ttft = &v.ttft;
        let ratio = if ttft.change.is_finite() {
            format!("×{:.2} per case, ", ttft.change + 1.0)
        } else {
            String::new()
        };
        match v.ttft_p95_ms {
            Some(d) => parts.push(format!(
                "p95 TTFT {} ms ({ratio}{})",
                signed(d, 0),
                significance(ttft)
            )),
            None => parts.push(format!("TTFT ({ratio}{})", significance(ttft))),
        }
        if let Some(g) = v.goodput_pp {
            parts.push(format!("goodput {} pp", signed(g, 1)));
        }
        format!("{}: {}{}", self.model, parts.join(", "), self.front_words())
    }

    fn front_words(&self) -> String {
        match &self.pareto {
            Pareto::Front => ": on the Pareto front".into(),
            Pareto::DominatedBy(m) => format!(": dominated by {m}"),
        }
    }
}

impl Decision {
    /// How the view was computed, in one sentence.
    pub fn method(&self) -> String {
        let pass = if self.repeats {
            "paired sign-flip permutation test on per-case pass fractions"
        } else {
            "exact McNemar on per-case outcomes"
        };
        format!(
            "Paired on the same cases against {}: pass rate by {pass}; TTFT and duration by \
             Wilcoxon signed-rank on per-case log ratios{}; {} tests in one Holm family at α = {ALPHA}. \
             Pareto front over pass rate ↑, cost per passing answer ↓, p95 TTFT ↓.",
            self.reference,
            if self.repeats {
                " (per-case medians)"
            } else {
                ""
            },
            self.family
        )
    }

    /// The "Decision" section of `report.md`.
    pub fn markdown(&self) -> String {
        let mut out = String::from("## Decision\n\n");
        for m in &self.models {
            let _ = writeln!(out, "- {}", m.line());
        }
        let _ = writeln!(out, "\n<sub>{}</sub>", self.method());
        out
    }
}

/// The "Flaky cases" section of `report.md`: `None` when no case is flaky.
pub fn flaky_markdown(summary: &RunSummary, table: &CaseTable) -> Option<String> {
    let mut out = String::new();
    for m in &summary.models {
        let ids = table.flaky(&m.model);
        if ids.is_empty() {
            continue;
        }
        let shown: Vec<String> = ids
            .iter()
            .take(FLAKY_LISTED)
            .map(|id| format!("`{}`", id.replace('`', "'")))
            .collect();
        let more = match ids.len().saturating_sub(FLAKY_LISTED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        let _ = writeln!(
            out,
            "- {}: {} flaky case{} (pass@{k} {}, pass^{k} {}): {}{more}",
            m.model,
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            super::table::fmt_pct(m.pass_at_k),
            super::table::fmt_pct(m.pass_all_k),
            shown.join(", "),
            k = summary.run.options.repeat,
        );
    }
    (!out.is_empty()).then(|| format!("## Flaky cases\n\nOutcomes differ across repeats.\n\n{out}"))
}

#[cfg(test)]
mod tests {
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
}
